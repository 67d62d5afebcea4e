"""``qmlsim experiment havlicek``: the two classifiers of Havlicek et al. (Nature 567, 209, 2019) on ad hoc data.

Reproduces, on the simulator:

* the quantum kernel estimator: QSVC (``C = 1``) on ``ad_hoc_data(20, 20, n=2, gap=0.3)``
  for 10 seeds, with exact kernels and with 50,000-shot estimates, beside a classical
  RBF SVM on the same raw data;
* the variational classifier: depths 0-4, SPSA 250 iterations, best of 5 restarts,
  5 seeds.

Writes ``havlicek.json`` (every accuracy) and ``havlicek.png`` (decision regions of
the kernel classifier and accuracy against depth).

>>> FULL["vqc_depths"], FULL["kernel_shots"]
([0, 1, 2, 3, 4], 50000)
"""
from __future__ import annotations

import json
import os
import time
from typing import Callable

import numpy as np

from qmlsim.qml.classifiers import QSVC, VariationalClassifier
from qmlsim.qml.datasets import ad_hoc_data
from qmlsim.qml.kernels import FidelityQuantumKernel
from qmlsim.qml.sweeps import run_sweep

__all__ = ["run_experiment", "FULL", "QUICK"]

FULL = {
    "training_size": 20,
    "test_size": 20,
    "gap": 0.3,
    "C": 1.0,
    "kernel_seeds": list(range(10)),
    "kernel_shots": 50_000,
    "vqc_seeds": list(range(5)),
    "vqc_depths": [0, 1, 2, 3, 4],
    "vqc_maxiter": 250,
    "vqc_restarts": 5,
}
"""The paper's setting (defaults of ``run_experiment``)."""

QUICK = {**FULL, "kernel_seeds": [0, 1, 2], "vqc_seeds": [0, 1], "vqc_depths": [0, 1, 4], "vqc_maxiter": 100, "vqc_restarts": 3}
"""A smaller run for smoke tests (under a minute)."""


def _kernel_run(cfg: dict, seed: int) -> dict:
    """One seed of the kernel estimator (exact and sampled QSVC, RBF SVM)."""
    from sklearn.svm import SVC  # noqa: PLC0415

    x_train, y_train, x_test, y_test = ad_hoc_data(cfg["training_size"], cfg["test_size"], gap=cfg["gap"], seed=seed)
    exact = QSVC(C=cfg["C"]).fit(x_train, y_train)
    sampled = QSVC(kernel=FidelityQuantumKernel(shots=cfg["kernel_shots"], seed=seed), C=cfg["C"]).fit(x_train, y_train)
    return {
        "seed": seed,
        "exact_test": exact.score(x_test, y_test),
        "exact_train": exact.score(x_train, y_train),
        "shots_test": sampled.score(x_test, y_test),
        "rbf_test": SVC(kernel="rbf", gamma="scale", C=cfg["C"]).fit(x_train, y_train).score(x_test, y_test),
        "support_vectors": int(len(exact.support_)),
    }


def _variational_run(cfg: dict, seed: int, depth: int) -> dict:
    """One seed and depth of the variational classifier."""
    x_train, y_train, x_test, y_test = ad_hoc_data(cfg["training_size"], cfg["test_size"], gap=cfg["gap"], seed=seed)
    start = time.perf_counter()
    clf = VariationalClassifier(
        reps=depth, maxiter=cfg["vqc_maxiter"], n_restarts=cfg["vqc_restarts"], random_state=seed
    ).fit(x_train, y_train)
    return {
        "seed": seed,
        "depth": depth,
        "test": clf.score(x_test, y_test),
        "train": clf.score(x_train, y_train),
        "final_loss": float(clf.loss_curve_[-1]) if clf.loss_curve_.size else None,
        "seconds": time.perf_counter() - start,
    }


def _sweep(cfg: dict, scheduler: str | None, progress: bool) -> tuple[list[dict], list[dict]]:
    """Every run, in order: here, or as tasks on the Dask scheduler at ``scheduler``."""
    calls = [(_kernel_run, (cfg, seed)) for seed in cfg["kernel_seeds"]]
    calls += [(_variational_run, (cfg, seed, depth)) for seed in cfg["vqc_seeds"] for depth in cfg["vqc_depths"]]
    results = run_sweep(calls, scheduler, label="havlicek", progress=progress)
    count = len(cfg["kernel_seeds"])
    return results[:count], results[count:]


def _tables(kernel: list[dict], variational: list[dict], cfg: dict) -> str:
    shots = f"{cfg['kernel_shots']} shots"
    lines = [
        f"Quantum kernel estimator: ad hoc data n=2, gap {cfg['gap']}, {cfg['training_size']}+{cfg['test_size']} per class, C={cfg['C']}",
        f"{'seed':>4}  {'exact':>6}  {shots:>12}  {'RBF SVM':>7}  {'SVs':>4}",
    ]
    for r in kernel:
        lines.append(f"{r['seed']:>4}  {r['exact_test']:>6.3f}  {r['shots_test']:>12.3f}  {r['rbf_test']:>7.3f}  {r['support_vectors']:>4}")
    mean = _means(kernel, variational)["kernel"]
    lines.append(f"{'mean':>4}  {mean['exact_test']:>6.3f}  {mean['shots_test']:>12.3f}  {mean['rbf_test']:>7.3f}")
    lines.append("")
    depths = cfg["vqc_depths"]
    lines.append(
        f"Variational classifier: test accuracy, SPSA {cfg['vqc_maxiter']} iterations, best of {cfg['vqc_restarts']} restarts"
    )
    lines.append(f"{'seed':>4}  " + "  ".join(f"{f'l={d}':>6}" for d in depths))
    for seed in cfg["vqc_seeds"]:
        accs = {r["depth"]: r["test"] for r in variational if r["seed"] == seed}
        lines.append(f"{seed:>4}  " + "  ".join(f"{accs[d]:>6.3f}" for d in depths))
    by_depth = _means(kernel, variational)["variational_test_by_depth"]
    lines.append(f"{'mean':>4}  " + "  ".join(f"{by_depth[str(d)]:>6.3f}" for d in depths))
    return "\n".join(lines)


def _means(kernel: list[dict], variational: list[dict]) -> dict:
    """Means over seeds: kernel accuracies, and variational test accuracy per depth (keys are depths as strings, for JSON)."""
    return {
        "kernel": {k: float(np.mean([r[k] for r in kernel])) for k in ("exact_test", "shots_test", "rbf_test")},
        "variational_test_by_depth": {
            str(d): float(np.mean([r["test"] for r in variational if r["depth"] == d]))
            for d in sorted({r["depth"] for r in variational})
        },
    }


def _plot(path: str, cfg: dict, variational: list[dict]) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    x_train, y_train, x_test, y_test = ad_hoc_data(cfg["training_size"], cfg["test_size"], gap=cfg["gap"], seed=cfg["kernel_seeds"][0])
    clf = QSVC(C=cfg["C"]).fit(x_train, y_train)
    axis = np.linspace(0, 2 * np.pi, 80)
    grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    values = clf.decision_function(grid).reshape(axis.size, axis.size)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6))
    left.contourf(axis, axis, values, levels=[-np.inf, 0, np.inf], colors=["#cfe0f5", "#f7d6c9"])
    left.contour(axis, axis, values, levels=[0], colors="k", linewidths=0.8)
    for label, color in ((0, "tab:blue"), (1, "tab:red")):
        left.scatter(*x_train[y_train == label].T, c=color, marker="o", edgecolors="k", label=f"train {label}")
        left.scatter(*x_test[y_test == label].T, c=color, marker="s", edgecolors="k", alpha=0.6, label=f"test {label}")
    left.set(xlabel="$x_1$", ylabel="$x_2$", title=f"QSVC decision regions (seed {cfg['kernel_seeds'][0]})", xlim=(0, 2 * np.pi), ylim=(0, 2 * np.pi))
    left.legend(loc="upper right", fontsize=7)
    depths = cfg["vqc_depths"]
    accs = [[r["test"] for r in variational if r["depth"] == d] for d in depths]
    right.errorbar(depths, [np.mean(a) for a in accs], yerr=[np.std(a) for a in accs], marker="o", capsize=4,
                   label=f"mean over {len(accs[0]) if accs else 0} seeds, error bar = standard deviation")
    for k, (d, a) in enumerate(zip(depths, accs)):
        right.scatter([d] * len(a), a, color="gray", s=10, alpha=0.6, label="one seed" if k == 0 else None)
    right.legend(loc="lower right", fontsize=7)
    right.set(xlabel="depth l", ylabel="test accuracy", title="Variational classifier: accuracy vs depth", ylim=(0.4, 1.02), xticks=depths)
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_experiment(
    out_dir: str,
    quick: bool = False,
    echo: Callable[[str], None] | None = print,
    progress: bool = True,
    scheduler: str | None = None,
) -> dict:
    """Run both Havlicek experiments, print the tables, write ``havlicek.json`` and ``havlicek.png``.

    Args:
        out_dir: directory for the outputs (created if missing).
        quick: the :data:`QUICK` setting (under a minute) instead of :data:`FULL`.
        echo: where the tables go (``print`` by default; ``None`` for silence).
        progress: show a tqdm progress bar.
        scheduler: a Dask scheduler address (``tcp://host:8786``): every seed and depth runs
            there as a task (``pip install -e ".[distributed]"``; qmlsim installed on the workers).

    Returns:
        ``{"config": ..., "kernel": [per-seed rows], "variational": [per seed and depth rows],
        "means": {"kernel": {...}, "variational_test_by_depth": {"0": ..., ...}}}``.
    """
    cfg = QUICK if quick else FULL
    os.makedirs(out_dir, exist_ok=True)
    kernel, variational = _sweep(cfg, scheduler, progress)
    results = {"config": dict(cfg), "kernel": kernel, "variational": variational, "means": _means(kernel, variational)}
    with open(os.path.join(out_dir, "havlicek.json"), "w") as fh:
        json.dump(results, fh, indent=2)
    _plot(os.path.join(out_dir, "havlicek.png"), cfg, variational)
    if echo is not None:
        echo(_tables(kernel, variational, cfg))
        echo(f"wrote {os.path.join(out_dir, 'havlicek.json')} and {os.path.join(out_dir, 'havlicek.png')}")
    return results
