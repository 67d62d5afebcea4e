"""Pieces shared by the benchmark suites: a timer and the 4-wire, 200-row executor problem."""
from __future__ import annotations

import os
import time
from typing import Any, Callable

import numpy as np

# timings are of the compiled kernels: compile them in the first call, never run the array
# kernels while a background build is under way (qmlsim.simulators.fast.background)
os.environ.setdefault("QMLSIM_COMPILE", "inline")

NUM_WIRES = 4


def timed(fn: Callable[[], Any], repeats: int = 1) -> tuple[float, Any]:
    """``(best wall time of repeats calls, the last call's result)``, no warm-up call."""
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return float(best), out


def best_time(fn: Callable[[], Any], repeats: int) -> float:
    """Best wall time of ``repeats`` calls after one warm-up call (compilation, device set-up)."""
    fn()
    return timed(fn, repeats)[0]


def executor_problem(rows: int) -> tuple[Any, list, np.ndarray, np.ndarray]:
    """ZZ feature map + two-layer hardware-efficient ansatz on 4 wires, ``<Z0 Z1>`` and ``<Z3>``, seeded rows."""
    from qmlsim.circuits import Z
    from qmlsim.circuits.templates import hardware_efficient_ansatz, zz_feature_map

    circuit = zz_feature_map(NUM_WIRES, reps=2)
    circuit.compose(hardware_efficient_ansatz(NUM_WIRES, layers=2))
    rng = np.random.default_rng(0)
    x = rng.uniform(0, np.pi, (rows, circuit.num_inputs))
    weights = rng.uniform(-np.pi, np.pi, circuit.num_weights)
    return circuit, [Z(0) @ Z(1), Z(3)], x, weights
