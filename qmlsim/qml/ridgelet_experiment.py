"""``qmlsim experiment ridgelet``: lottery-ticket node sampling by the ridgelet transform (a reconstruction).

For D = 1, 2, 3 (P = 31, 13, 7; plane-wave targets on the grid) it prints the relative MSE
over the grid against the number of hidden nodes N when the nodes are drawn from the QRT
circuit's measurement outcomes (engine), from ``|R f|^2`` computed classically, and
uniformly. The output layer (plus a bias) is fitted by least squares. Beside them:
scikit-learn's ``MLPRegressor`` with N hidden ReLU units, every weight trained (Adam). Then the same
on scikit-learn's diabetes data (two principal components, quantised), and the QRT's
scaling in D at P = 13: gates, engine time, classical Fourier-slice time. Writes
``ridgelet.json`` and ``ridgelet.png``. Labelled "quantum ridgelet transform
(reconstruction, inferred from the abstract)": these numbers are ours, not the paper's.
"""
from __future__ import annotations

import itertools
import json
import os
import time
import warnings
from typing import Any

import numpy as np

from qmlsim.qml.ridgelet import LABEL, RidgeletNetwork, node_features, qrt_circuit, qrt_state, ridgelet_transform, sample_nodes

SETTINGS = ((1, 31, (4, 8, 12, 16)), (2, 13, (8, 16, 32, 64)), (3, 7, (16, 32, 64, 128)))


def _target(d: int, p: int) -> np.ndarray:
    """Two plane waves on Z_P^D."""
    x = np.array(list(itertools.product(range(p), repeat=d)))
    k1, k2 = np.arange(2, 2 + d), np.arange(d, 0, -1) * np.array([1, -1] * d)[:d]
    return (np.sin(2 * np.pi * (x @ k1) / p) + 0.7 * np.cos(2 * np.pi * (x @ k2) / p)).reshape((p,) * d)


def _relative_mse(f: np.ndarray, nodes: np.ndarray, sigma: np.ndarray) -> float:
    p = f.shape[0]
    target = f.reshape(-1)
    features = np.hstack([node_features(nodes, sigma, p), np.ones((target.size, 1))])
    weights, *_ = np.linalg.lstsq(features, target, rcond=None)
    return float(np.mean((features @ weights - target) ** 2) / np.mean((target - target.mean()) ** 2))


def _trained(f: np.ndarray, width: int, seed: int) -> float:
    from sklearn.exceptions import ConvergenceWarning  # noqa: PLC0415
    from sklearn.neural_network import MLPRegressor  # noqa: PLC0415

    p, d = f.shape[0], f.ndim
    x = np.array(list(itertools.product(range(p), repeat=d))) / (p - 1)
    target = f.reshape(-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPRegressor(hidden_layer_sizes=(width,), solver="adam", learning_rate_init=0.01, max_iter=3000,
                             random_state=seed).fit(x, target)
    return float(np.mean((model.predict(x) - target) ** 2) / np.mean((target - target.mean()) ** 2))


def run_experiment(out_dir: str, quick: bool = False) -> dict[str, Any]:
    """Run the ridgelet experiment, print its tables, write ``ridgelet.json`` and ``ridgelet.png`` into ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    trials = 5 if quick else 20
    print(f"{LABEL}: relative MSE over the grid, mean of {trials} seeds (ours, not the paper's)")
    print(f"{'D':>2} {'P':>3} {'N':>4} {'qrt':>9} {'exact':>9} {'uniform':>9} {'trained MLP':>12}")
    rows = []
    for d, p, widths in SETTINGS[:2] if quick else SETTINGS:
        f = _target(d, p)
        sigma = np.maximum(0, np.arange(p) - (p - 1) / 2) / p
        for n in widths:
            row: dict[str, Any] = {"D": d, "P": p, "N": n}
            for method, offset in (("qrt", 0), ("exact", 1000), ("uniform", 2000)):
                row[method] = float(np.mean([_relative_mse(f, sample_nodes(f, n, method, seed=offset + s), sigma)
                                             for s in range(trials)]))
            row["trained"] = float(np.mean([_trained(f, n, s) for s in range(3 if quick else 5)]))
            rows.append(row)
            print(f"{d:>2} {p:>3} {n:>4} {row['qrt']:>9.3g} {row['exact']:>9.3g} {row['uniform']:>9.3g} {row['trained']:>12.3g}")
    real = _real_data(quick)
    print("\ndiabetes (scikit-learn), 2 principal components on Z_13^2, test R^2, mean of seeds")
    for name, score in real.items():
        print(f"  {name:<26} {score:.3f}")
    scaling = _scaling(quick)
    print("\nQRT scaling at P = 13: gates (linear in D), engine time, classical Fourier-slice time")
    print(f"{'D':>2} {'wires':>6} {'gates':>6} {'engine s':>9} {'Fourier slice s':>16}")
    for s in scaling:
        print(f"{s['D']:>2} {s['wires']:>6} {s['gates']:>6} {s['engine_seconds']:>9.3g} {s['classical_seconds']:>16.3g}")
    _plot(os.path.join(out_dir, "ridgelet.png"))
    summary = {"label": LABEL, "grid": rows, "diabetes": real, "scaling": scaling}
    with open(os.path.join(out_dir, "ridgelet.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    print(f"wrote {os.path.join(out_dir, 'ridgelet.json')} and ridgelet.png")
    return summary


def _real_data(quick: bool) -> dict[str, float]:
    from sklearn.datasets import load_diabetes  # noqa: PLC0415 - shipped with scikit-learn, no download
    from sklearn.decomposition import PCA  # noqa: PLC0415
    from sklearn.exceptions import ConvergenceWarning  # noqa: PLC0415
    from sklearn.model_selection import train_test_split  # noqa: PLC0415
    from sklearn.neural_network import MLPRegressor  # noqa: PLC0415

    X, y = load_diabetes(return_X_y=True)
    X = PCA(2, random_state=0).fit_transform(X)
    y = (y - y.mean()) / y.std()
    seeds = range(3 if quick else 10)
    scores: dict[str, list[float]] = {}
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=seed)
        for sampling in ("qrt", "exact", "uniform"):
            model = RidgeletNetwork(n_nodes=32, modulus=13, sampling=sampling, alpha=1e-2, random_state=seed)
            scores.setdefault(f"ridgelet nodes ({sampling}), N=32", []).append(model.fit(X_train, y_train).score(X_test, y_test))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mlp = MLPRegressor(hidden_layer_sizes=(32,), solver="adam", learning_rate_init=0.01, max_iter=3000,
                               random_state=seed).fit(X_train, y_train)
        scores.setdefault("trained MLP, 32 units", []).append(mlp.score(X_test, y_test))
    return {name: float(np.mean(values)) for name, values in scores.items()}


def _scaling(quick: bool) -> list[dict]:
    from qmlsim.simulators import Simulator  # noqa: PLC0415

    p, out = 13, []
    sim = Simulator()
    for d in (1, 2, 3) if quick else (1, 2, 3, 4):
        f = np.random.default_rng(d).normal(size=(p,) * d)
        circuit = qrt_circuit(p, d)
        qrt_state(f, executor=sim)  # compile
        start = time.perf_counter()
        qrt_state(f, executor=sim)
        engine = time.perf_counter() - start
        start = time.perf_counter()
        ridgelet_transform(f)
        classical = time.perf_counter() - start
        out.append({"D": d, "wires": circuit.num_wires, "gates": len(circuit.ops), "engine_seconds": engine,
                    "classical_seconds": classical})
    return out


def _plot(path: str) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    p = 31
    f = _target(1, p)
    sigma = np.maximum(0, np.arange(p) - (p - 1) / 2) / p
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, method in zip(axes, ("exact", "uniform")):
        nodes = sample_nodes(f, 12, method, seed=0)
        features = np.hstack([node_features(nodes, sigma, p), np.ones((p, 1))])
        weights, *_ = np.linalg.lstsq(features, f, rcond=None)
        ax.plot(f, "k.-", label="target")
        ax.plot(features @ weights, "o-", label=f"fit, 12 nodes ({method})")
        ax.set_title(f"{method} sampling, D = 1, P = {p}", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(LABEL, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
