"""Invariants on every path: norm after many gates, a circuit then its inverse, batch size and chunking.

The expected values are closed forms (norm 1; the identity maps |0...0> to itself) or
the path's own single-row results (batch-size and chunking independence).
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from qmlsim.circuits import Circuit, Observable
from qmlsim.simulators import Simulator
from tests.differential.checks import ATOL, _angle_drawer, draw_case
from tests.differential.paths import EXPVAL, PATH_KEYS, PROBS, STATE, by_key, host
from tests import reference as ref


def _long_random_circuit(num_wires: int, num_gates: int, seed: int, mode: str = "mixed") -> Circuit:
    rng = np.random.default_rng(seed)
    return ref.random_circuit(rng, num_wires, num_gates, num_inputs=1, num_weights=1, blocks=False,
                              angle=_angle_drawer(mode))


@pytest.mark.slow
def test_norm_drift_after_1e5_gates_numba():
    c = _long_random_circuit(5, 100_000, seed=1)
    state = Simulator(kernels="numba").statevector(c, x=np.array([0.4]), weights=np.array([-0.8]))
    assert abs(np.linalg.norm(state) - 1.0) < 1e-12


@pytest.mark.slow
@pytest.mark.parametrize("backend, kernels, mode", [("numpy", "array", "mixed"), ("jax", "auto", "constant")])
def test_norm_drift_after_1e5_gates_other_paths(backend, kernels, mode):
    # constant angles on JAX: its scan path evaluates each angle expression as separate
    # XLA ops, and 10^5 of them make a graph that takes minutes and gigabytes to compile
    c = _long_random_circuit(4, 100_000, seed=2, mode=mode)
    state = host(Simulator(backend=backend, kernels=kernels).statevector(c, x=np.array([0.4]), weights=np.array([-0.8])))
    assert abs(np.linalg.norm(state) - 1.0) < 1e-12


def _zero_state_signal(executor, path, c: Circuit, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per row, a quantity that is exactly 1 when the final state is |0...0>."""
    n = c.num_wires
    if STATE in path.measures:
        return np.abs(host(executor.statevector(c, x=x, weights=w))[:, 0])
    if PROBS in path.measures:
        return host(executor.probs(c, x=x, weights=w))[:, 0]
    all_z = Observable.from_list([("Z", [q], 1.0 / n) for q in range(n)])
    return host(executor.expval(c, [all_z], x=x, weights=w))[:, 0]


@pytest.mark.parametrize("key", PATH_KEYS)
def test_circuit_then_inverse_is_identity(key, monkeypatch):
    path = by_key(key)
    if not path.measures & {STATE, PROBS, EXPVAL}:
        pytest.skip(f"{key} computes Jacobians only: the fast profile compares them with finite differences")
    counter = path.enter(monkeypatch)
    seed = zlib.crc32(key.encode()) % 10**6
    lo, hi = path.ops
    case = draw_case(seed, path.wires, ((lo + 1) // 2, max((lo + 1) // 2, hi // 2)), path.batch, mode="mixed", gates=path.gates)
    c = case.circuit.copy()
    c.compose(case.circuit.inverse())  # shares the inputs, appends the inverse's weights
    assert c.num_weights == 2 * case.circuit.num_weights
    if not path.reaches(c):
        pytest.skip(f"{key}: the doubled circuit is outside the path's range")
    got = _zero_state_signal(path.make(), path, c, case.x, np.concatenate([case.weights, case.weights]))
    np.testing.assert_allclose(got, 1.0, atol=ATOL[path.dtype], err_msg=f"{key} on {case!r}")
    assert path.probe.verdict(counter) is None, f"{key} not exercised: {path.probe.verdict(counter)}"


@pytest.mark.parametrize("key", [k for k in PATH_KEYS if by_key(k).cost < 10])
def test_results_do_not_depend_on_batch_size_or_chunking(key, monkeypatch):
    path = by_key(key)
    path.enter(monkeypatch)
    seed = zlib.crc32(key.encode()) % 10**6 + 7
    case = draw_case(seed, path.wires, path.ops, max(path.batch, 4), mode="nonaffine", gates=path.gates)
    executor = path.make()
    c, x, w = case.circuit, case.x, case.weights
    obs = [o for o in case.observables]
    measure = "state" if STATE in path.measures else ("expval" if EXPVAL in path.measures else None)
    if measure is None:
        pytest.skip(f"{key} has no state or expectation value to compare")

    def run(rows: np.ndarray) -> np.ndarray:
        if measure == "state":
            return host(executor.statevector(c, x=rows, weights=w))
        return host(executor.expval(c, obs, x=rows, weights=w))

    whole = run(x)
    if isinstance(executor, Simulator):  # a 1-D row: the single-row call, without a batch axis
        single = np.stack([run(x[i]) for i in range(len(x))])
    else:
        single = np.concatenate([run(x[i : i + 1]) for i in range(len(x))])
    halves = np.concatenate([run(x[: len(x) // 2]), run(x[len(x) // 2 :])])
    atol = ATOL[path.dtype]
    np.testing.assert_allclose(single, whole, atol=atol, err_msg=f"{key}: row by row vs batched on {case!r}")
    np.testing.assert_allclose(halves, whole, atol=atol, err_msg=f"{key}: two halves vs batched on {case!r}")
    if key.startswith("numba-rows["):
        chunked = Simulator(dtype=path.dtype, max_chunk_rows=1)
        got = host(chunked.statevector(c, x=x, weights=w) if measure == "state" else chunked.expval(c, obs, x=x, weights=w))
        np.testing.assert_allclose(got, whole, atol=atol, err_msg=f"{key}: chunks of one row vs batched")
