"""``qmlsim experiment qfwp``: QFWP against QLSTM and a classical LSTM on time series.

For every series (damped pendulum, Bessel J2, delayed quantum control, NARMA5, NARMA10)
and every model it trains with the reference recipe (RMSprop 0.01, batch 10, windows of
4, 67/33 chronological split, per-sample MSE, float64) over seeds and prints test MSE
(mean and spread), parameter counts and seconds per epoch; it plots predictions against
truth and the learning curves, and writes ``qfwp.json``. The models follow the authors'
reference code; the NARMA drive is our assumption (the papers' is not known to us), and
every number printed is ours, not the papers'.
"""
from __future__ import annotations

import json
import os
from typing import Any, Callable

import numpy as np

from qmlsim.qml.fast_weights import QFWP
from qmlsim.qml.recurrent import LSTM, QLSTM
from qmlsim.qml.series import bessel_j2, damped_pendulum, delayed_control, narma

SERIES: dict[str, Callable[[], tuple]] = {
    "damped pendulum": damped_pendulum,
    "Bessel J2": bessel_j2,
    "delayed control": lambda: delayed_control(step=0.05),  # 440 points: the 0.01 grid is 2,200
    "NARMA5 (drive inferred)": lambda: narma(order=5),
    "NARMA10 (drive inferred)": lambda: narma(order=10),
}
MODELS: dict[str, Callable[..., Any]] = {"QFWP": QFWP, "QLSTM": QLSTM, "LSTM": LSTM}


def run_experiment(out_dir: str, quick: bool = False, rl: bool = False) -> dict[str, Any]:
    """Train every model on every series; print the table, write ``qfwp.json`` and ``qfwp.png`` into ``out_dir``.

    With ``rl``, train A2C agents instead (:func:`run_rl`).
    """
    os.makedirs(out_dir, exist_ok=True)
    if rl:
        return run_rl(out_dir, quick)
    names = list(SERIES)[:2] if quick else list(SERIES)
    seeds = (0,) if quick else (0, 1, 2)
    epochs = 5 if quick else 30
    print(f"QFWP / QLSTM / LSTM, {epochs} epochs, seeds {seeds}; test MSE on the [-1, 1]-scaled series (ours, not the paper's)")
    print(f"{'series':26s} {'model':6s} {'params':>6s} {'test MSE mean':>14s} {'min':>9s} {'max':>9s} {'s/epoch':>8s}")
    rows, curves, predictions = [], {}, {}
    for series in names:
        X, y, X_test, y_test = SERIES[series]()
        for label, model_class in MODELS.items():
            errors, seconds = [], []
            for seed in seeds:
                model = model_class(epochs=epochs, shuffle=False, random_state=seed).fit(X, y, validation_data=(X_test, y_test))
                seconds.append(model.seconds_per_epoch_)
                errors.append(model.validation_curve_[-1])  # the test MSE after the last epoch
                if seed == seeds[0]:
                    curves[f"{series}/{label}"] = {"train": model.loss_curve_, "test": model.validation_curve_}
                    predictions[f"{series}/{label}"] = np.r_[model.predict(X), model.predict(X_test)].tolist()
            row = {
                "series": series, "model": label, "params": model.param_count, "epochs": epochs, "seeds": list(seeds),
                "test_mse": errors, "seconds_per_epoch": float(np.median(seconds)),
            }
            rows.append(row)
            print(f"{series:26s} {label:6s} {row['params']:6d} {np.mean(errors):14.2e} {min(errors):9.2e} {max(errors):9.2e} "
                  f"{row['seconds_per_epoch']:8.3f}", flush=True)
        predictions[f"{series}/truth"] = np.r_[y, y_test].tolist()
        predictions[f"{series}/train_size"] = len(y)
    summary = {"label": "QFWP (Chen 2024) as in the reference code; numbers are ours", "rows": rows, "curves": curves}
    with open(os.path.join(out_dir, "qfwp.json"), "w") as handle:
        json.dump({**summary, "predictions": predictions}, handle, indent=1)
    _plot(os.path.join(out_dir, "qfwp.png"), names[0], curves, predictions)
    return summary


def _plot(path: str, series: str, curves: dict, predictions: dict) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    left.plot(predictions[f"{series}/truth"], "k--", label="truth")
    for label in MODELS:
        left.plot(predictions[f"{series}/{label}"], label=label)
        line = right.semilogy(curves[f"{series}/{label}"]["test"], label=f"{label} test")[0]
        right.semilogy(curves[f"{series}/{label}"]["train"], ":", color=line.get_color(), label=f"{label} train")
    left.axvline(predictions[f"{series}/train_size"], color="r", lw=0.8)
    left.set_title(f"{series}: predictions (train | test)", fontsize=9)
    right.set_title("MSE per epoch (test solid, train dotted)", fontsize=9)
    right.set_xlabel("epoch")
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    fig.suptitle("QFWP, QLSTM and LSTM as in the reference code, first seed: our runs, not the paper's", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


RL_SETTINGS = {"CartPole-v1": 600, "MiniGrid-Empty-5x5-v0": 150}


def run_rl(out_dir: str, quick: bool = False) -> dict[str, Any]:
    """A2C agents with QFWP heads and with LSTM heads on CartPole and MiniGrid; return curves over seeds."""
    from qmlsim.qml.rl import LABEL, random_returns, train_a2c  # noqa: PLC0415

    seeds = (0,) if quick else (0, 1, 2)
    print(LABEL)
    print(f"{'environment':24s} {'agent':7s} {'params':>6s} {'episodes':>8s} {'last-20 mean return per seed':>32s} {'s':>7s}")
    runs = []
    for env_id, episodes in RL_SETTINGS.items():
        episodes = max(20, episodes // 5) if quick else episodes
        floor = float(np.mean(random_returns(env_id, 50)))
        print(f"{env_id:24s} {'random':7s} {0:6d} {50:8d} {floor:32.2f}")
        for agent in ("qfwp", "lstm"):
            results = [train_a2c(env_id, agent, episodes, seed) for seed in seeds]
            finals = [float(np.mean(r["returns"][-20:])) for r in results]
            runs.append({"env": env_id, "agent": agent, "random_mean": floor, "results": results, "final_means": finals})
            print(f"{env_id:24s} {agent:7s} {results[0]['param_count']:6d} {episodes:8d} "
                  f"{' '.join(f'{v:.2f}' for v in finals):>32s} {sum(r['seconds'] for r in results):7.0f}", flush=True)
    summary = {"label": LABEL, "runs": runs}
    with open(os.path.join(out_dir, "qfwp-rl.json"), "w") as handle:
        json.dump(summary, handle, indent=1)
    _plot_rl(os.path.join(out_dir, "qfwp-rl.png"), runs)
    return {"label": LABEL, "final_means": {f"{r['env']}/{r['agent']}": r["final_means"] for r in runs}}


def _plot_rl(path: str, runs: list[dict]) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    envs = list(dict.fromkeys(r["env"] for r in runs))
    fig, axes = plt.subplots(1, len(envs), figsize=(5.5 * len(envs), 3.6))
    for ax, env_id in zip(np.atleast_1d(axes), envs):
        for run in (r for r in runs if r["env"] == env_id):
            curves = np.array([r["returns"] for r in run["results"]])
            window = 10
            smooth = np.array([np.convolve(c, np.ones(window) / window, mode="valid") for c in curves])
            line = ax.plot(smooth.mean(axis=0), label=f"{run['agent']} (mean of {len(curves)} seeds)")[0]
            ax.fill_between(np.arange(smooth.shape[1]), smooth.min(axis=0), smooth.max(axis=0), color=line.get_color(), alpha=0.2)
        ax.axhline(next(r["random_mean"] for r in runs if r["env"] == env_id), color="k", ls=":", label="random policy")
        ax.set_title(f"{env_id}: return (10-episode mean)", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
