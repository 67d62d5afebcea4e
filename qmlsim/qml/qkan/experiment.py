"""``qmlsim experiment qkan``: the regression example against the baselines, with JSON and PNG output."""
from __future__ import annotations

import json
import os
import sys
from typing import Any

import numpy as np

from qmlsim.qml.qkan.baselines import MLP, BSplineKAN, FourierKAN
from qmlsim.qml.qkan.daruan import daruan_numpy
from qmlsim.qml.qkan.model import QKAN


def _target(x: np.ndarray) -> np.ndarray:
    return np.exp(np.sin(np.pi * x[:, 0]) + x[:, 1] ** 2)[:, None]


def run_experiment(out_dir: str, quick: bool = False) -> dict[str, Any]:
    """Fit ``exp(sin(pi x) + y^2)`` on ``[-1, 1]^2`` with QKAN and the baselines.

    Trains QKAN ``[2, 5, 1]`` (reps 3, all parameters trainable, Born-rule readout,
    L-BFGS) with a progress bar, then a B-spline KAN, a Fourier KAN and an MLP;
    writes ``qkan.json`` (test MSE, parameter counts, loss history) and
    ``qkan_activations.png`` (the learned first-layer activations) and ``qkan_comparison.png``
    (loss curves, test MSE against parameter count) into ``out_dir``,
    and prints the table to standard output.

    Args:
        out_dir: output folder (created if missing).
        quick: fewer training steps (a smoke run).

    Returns:
        The results dict written to JSON.
    """
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(0)
    x, xt = rng.uniform(-1, 1, (1000, 2)), rng.uniform(-1, 1, (1000, 2))
    y, yt = _target(x), _target(xt)
    steps = 40 if quick else 400
    models = {
        "QKAN": QKAN([2, 5, 1], reps=3, trainable="all", steps=steps, progress=True),
        "B-spline KAN": BSplineKAN([2, 5, 1], steps=steps, progress=True),
        "Fourier KAN": FourierKAN([2, 5, 1], steps=steps, progress=True),
        "MLP": MLP([2, 16, 16, 1], steps=steps, progress=True),
    }
    results: dict[str, Any] = {"target": "exp(sin(pi x) + y^2)", "train": 1000, "test": 1000, "steps": steps, "models": {}}
    for name, model in models.items():
        model.fit(x, y)
        results["models"][name] = {
            "test_mse": float(np.mean((model.predict(xt) - yt) ** 2)),
            "train_mse": float(np.mean((model.predict(x) - y) ** 2)),
            "params": model.param_count,
            "loss": [float(v) for v in model.loss_],
        }
    lines = [f"{'model':14s} {'params':>7s} {'test MSE':>11s}"]
    lines += [f"{k:14s} {v['params']:7d} {v['test_mse']:11.3e}" for k, v in results["models"].items()]
    sys.stdout.write("\n".join(lines) + "\n")
    with open(os.path.join(out_dir, "qkan.json"), "w") as fh:
        json.dump(results, fh, indent=2)
    _plot_activations(models["QKAN"], os.path.join(out_dir, "qkan_activations.png"))
    _plot_comparison(results, os.path.join(out_dir, "qkan_comparison.png"))
    return results


def _plot_activations(model: QKAN, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layer = {k: np.asarray(v) for k, v in model.params_[0].items()}
    n_out, n_in = layer["theta"].shape[:2]
    grid = np.linspace(-1, 1, 200, dtype=np.float32)
    phi = daruan_numpy(layer, np.repeat(grid[:, None, None], n_in, axis=2), model.reps, model.ansatz, model.measure)
    fig, axes = plt.subplots(n_in, n_out, figsize=(2.2 * n_out, 2.0 * n_in), squeeze=False)
    for i in range(n_in):
        for o in range(n_out):
            edge = layer["pw"][o, i] * (phi[:, o, i] + layer["pb"][o, i]) + layer["bw"][o, i] * grid / (1 + np.exp(-grid))
            axes[i, o].plot(grid, edge)
            axes[i, o].set_title(f"x{i} -> h{o}", fontsize=8)
            axes[i, o].set_xlabel(f"input x{i}", fontsize=7)
            axes[i, o].set_ylabel("edge output", fontsize=7)
            axes[i, o].tick_params(labelsize=6)
    fig.suptitle("QKAN [2,5,1]: learned first-layer activations (with scale, shift and SiLU base)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_comparison(results: dict[str, Any], path: str) -> None:
    """Training loss curves and test MSE against parameter count, one entry per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (curves, sizes) = plt.subplots(1, 2, figsize=(10, 4))
    for name, row in results["models"].items():
        curves.semilogy(row["loss"], label=name)
        sizes.loglog(row["params"], row["test_mse"], "o")
        sizes.annotate(name, (row["params"], row["test_mse"]), fontsize=8, xytext=(4, 4), textcoords="offset points")
    curves.set(xlabel="optimiser step (L-BFGS)", ylabel="training MSE", title=f"target {results['target']}")
    curves.legend(fontsize=8)
    sizes.set(xlabel="trainable parameters", ylabel=f"test MSE ({results['test']} points)", title="accuracy against size")
    for ax in (curves, sizes):
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
