"""Quantum-kernel Gram matrices and variational-classifier SPSA steps: qmlsim versus its peers, in one run.

Cases:

- ``gram zz8 N=...``: the N x N Gram matrix of ``zz_feature_map(8, reps=2)`` on random
  inputs, for N = 100, 300, 1000, 3000 (``--quick``: 100, 300). Implementations: qmlsim
  on NumPy (phase-product fast path, and the generic engine route), qmlsim on JAX,
  qiskit-machine-learning ``FidelityStatevectorKernel`` and ``FidelityQuantumKernel``
  (compute-uncompute per pair, ``StatevectorSampler``), and PennyLane's kernel recipe
  (one ``U(x) U(z)^dagger`` circuit per pair, ``probs()[0]``) on ``default.qubit`` and
  ``lightning.qubit``. A peer whose predicted time exceeds its budget is measured at a
  smaller N and extrapolated (``extrapolated: true``): per-pair methods by the number
  of pairs ``N (N - 1) / 2``, ``FidelityStatevectorKernel`` by a power law fitted to its
  two largest measured sizes.
- ``vqc spsa iteration``: seconds per SPSA iteration of a depth-4 Havlicek classifier
  on ad hoc data (40 training rows), qmlsim ``VariationalClassifier`` versus
  qiskit-machine-learning ``VQC`` with the same feature map, ansatz (converted with
  ``to_qiskit``), parity interpretation and ``SPSA``; the difference of two run lengths
  removes calibration and set-up.

``ratio`` is an implementation's time divided by qmlsim (NumPy)'s time in the same case
(above 1: qmlsim is faster).

Run: ``python benchmarks/bench_kernels.py [--quick]`` (writes ``benchmarks/results/kernels.json``).
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

NUM_WIRES = 8
REFERENCE = "qmlsim numpy"


def _time(fn: Callable[[], Any], repeats: int = 1, warmup: bool = True) -> float:
    if warmup:
        fn()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return float(best)


def _data(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 2 * np.pi, (n, NUM_WIRES))


# --- implementations: each returns a Gram function of X ---------------------------------
def _qmlsim(device: str, fast_path: bool = True) -> Callable[[np.ndarray], Any]:
    from qmlsim.qml.kernels import FidelityQuantumKernel

    kernel = FidelityQuantumKernel(device=device, fast_path=fast_path)
    return kernel.matrix


def _qiskit_statevector() -> Callable[[np.ndarray], Any]:
    from qiskit.circuit.library import zz_feature_map
    from qiskit_machine_learning.kernels import FidelityStatevectorKernel

    return FidelityStatevectorKernel(feature_map=zz_feature_map(NUM_WIRES, reps=2)).evaluate


def _qiskit_fidelity() -> Callable[[np.ndarray], Any]:
    from qiskit.circuit.library import zz_feature_map
    from qiskit_machine_learning.kernels import FidelityQuantumKernel

    return FidelityQuantumKernel(feature_map=zz_feature_map(NUM_WIRES, reps=2)).evaluate


def _pennylane(device_name: str) -> Callable[[np.ndarray], Any]:
    import pennylane as qml

    dev = qml.device(device_name, wires=NUM_WIRES)
    pairs = [(i, j) for i in range(NUM_WIRES) for j in range(i + 1, NUM_WIRES)]

    def zz(x: Any) -> None:
        for _ in range(2):
            for w in range(NUM_WIRES):
                qml.Hadamard(w)
                qml.PhaseShift(2 * x[w], w)
            for i, j in pairs:
                qml.CNOT([i, j])
                qml.PhaseShift(2 * (np.pi - x[i]) * (np.pi - x[j]), j)
                qml.CNOT([i, j])

    @qml.qnode(dev)
    def overlap(x1: Any, x2: Any) -> Any:
        zz(x1)
        qml.adjoint(zz)(x2)
        return qml.probs(wires=range(NUM_WIRES))

    def gram(x: np.ndarray) -> np.ndarray:
        n = len(x)
        k = np.eye(n)
        for i in range(n):
            for j in range(i + 1, n):
                k[i, j] = k[j, i] = overlap(x[i], x[j])[0]
        return k

    return gram


def _gram_rows(sizes: list[int], budget: float) -> list[dict]:
    rows: list[dict] = []
    reference: dict[int, float] = {}
    for n in sizes:
        x = _data(n)
        reference[n] = _time(lambda: _qmlsim("numpy")(x), repeats=7)
        rows.append({"case": f"gram zz8 N={n}", "impl": REFERENCE, "seconds": reference[n], "ratio": 1.0, "extrapolated": False})
    peers: list[tuple[str, Callable[[], Callable], str, int]] = [
        ("qmlsim numpy (engine route)", lambda: _qmlsim("numpy", fast_path=False), "measure", 1),
        ("qmlsim jax", lambda: _qmlsim("jax"), "measure", 1),
        ("qiskit-ml FidelityStatevectorKernel", _qiskit_statevector, "power", 1),
        ("qiskit-ml FidelityQuantumKernel", _qiskit_fidelity, "pairs", 12),
        ("pennylane recipe default.qubit", lambda: _pennylane("default.qubit"), "pairs", 12),
        ("pennylane recipe lightning.qubit", lambda: _pennylane("lightning.qubit"), "pairs", 12),
    ]
    for impl, make, scaling, probe in peers:
        try:
            gram = make()
        except Exception as err:  # noqa: BLE001 - a missing peer is reported, the others still run
            rows.append({"case": "gram zz8", "impl": impl, "seconds": float("nan"), "ratio": float("nan"), "extrapolated": False, "note": f"unavailable: {err}"})
            continue
        measured: dict[int, float] = {}
        if scaling == "pairs":
            # Per-pair cost is constant: measure a small N once, scale by the number of pairs.
            x = _data(probe)
            measured[probe] = _time(lambda: gram(x), warmup=False)
        for n in sizes:
            predicted = _predict(measured, n, scaling)
            if predicted is not None and predicted > budget:
                seconds, extrapolated = predicted, True
            else:
                x = _data(n)
                seconds = _time(lambda: gram(x), repeats=1 if impl.startswith("qiskit") else 2, warmup=not impl.startswith("qiskit"))
                measured[n], extrapolated = seconds, False
            rows.append(
                {"case": f"gram zz8 N={n}", "impl": impl, "seconds": seconds, "ratio": seconds / reference[n], "extrapolated": extrapolated}
            )
    return rows


def _predict(measured: dict[int, float], n: int, scaling: str) -> float | None:
    if not measured:
        return None
    sizes = sorted(measured)
    if scaling == "pairs" or (scaling == "power" and len(sizes) == 1):
        m = sizes[-1]
        exponent = 2.0 if scaling == "pairs" else 1.0
        factor = (n * (n - 1)) / (m * (m - 1)) if scaling == "pairs" else (n / m) ** exponent
        return measured[m] * factor
    if scaling == "power":
        a, b = sizes[-2], sizes[-1]
        exponent = np.log(measured[b] / measured[a]) / np.log(b / a)
        return measured[b] * (n / b) ** max(exponent, 1.0)
    return None


# --- variational classifier ----------------------------------------------------------
def _vqc_rows(quick: bool) -> list[dict]:
    from qmlsim.qml.classifiers import VariationalClassifier
    from qmlsim.qml.datasets import ad_hoc_data

    x, y, _, _ = ad_hoc_data(20, 20, seed=0)
    short, long = (20, 60) if quick else (50, 250)

    def ours(maxiter: int) -> float:
        start = time.perf_counter()
        VariationalClassifier(reps=4, maxiter=maxiter, random_state=0).fit(x, y)
        return time.perf_counter() - start

    ours(5)
    # Best of three per length: the difference of two noisy times is noisier still.
    per_iter = (min(ours(long) for _ in range(3)) - min(ours(short) for _ in range(3))) / (long - short)
    rows = [{"case": "vqc spsa iteration", "impl": REFERENCE, "seconds": per_iter, "ratio": 1.0, "extrapolated": False}]
    try:
        from qiskit.circuit.library import zz_feature_map
        from qiskit_machine_learning.algorithms import VQC
        from qiskit_machine_learning.optimizers import SPSA

        from qmlsim.circuits.convert.qiskit import to_qiskit
        from qmlsim.circuits.templates import havlicek_ansatz

        ansatz = to_qiskit(havlicek_ansatz(2, 4))

        def theirs(maxiter: int) -> float:
            vqc = VQC(
                feature_map=zz_feature_map(2, reps=2), ansatz=ansatz, loss="cross_entropy", optimizer=SPSA(maxiter=maxiter),
                interpret=lambda b: bin(b).count("1") % 2, output_shape=2,
            )
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vqc.fit(x, y)
            return time.perf_counter() - start

        q_short, q_long = (3, 8) if quick else (5, 25)
        theirs(2)
        seconds = (min(theirs(q_long) for _ in range(2)) - min(theirs(q_short) for _ in range(2))) / (q_long - q_short)
        rows.append({"case": "vqc spsa iteration", "impl": "qiskit-ml VQC", "seconds": seconds, "ratio": seconds / per_iter, "extrapolated": False})
    except Exception as err:  # noqa: BLE001
        rows.append({"case": "vqc spsa iteration", "impl": "qiskit-ml VQC", "seconds": float("nan"), "ratio": float("nan"), "extrapolated": False, "note": f"unavailable: {err}"})
    return rows


def run(quick: bool = False) -> list[dict]:
    """All cases; rows ``{"case", "impl", "seconds", "ratio", "extrapolated"}`` (and ``"note"`` for skipped peers)."""
    sizes = [100, 300] if quick else [100, 300, 1000, 3000]
    budget = 20.0 if quick else 120.0
    return _gram_rows(sizes, budget) + _vqc_rows(quick)


if __name__ == "__main__":  # the same as ``python benchmarks/run.py kernels [--quick] [--threads 1,2]``
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.run import main

    sys.exit(main(["kernels", *sys.argv[1:]]))
