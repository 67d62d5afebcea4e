"""One conformance suite for every executor, present and future (the analogue of PennyLane's device tests).

Each executor in :data:`EXECUTORS` runs the same checks against the dense reference of
``tests/reference.py``: result shapes for one row, a batch and no ``x``; probabilities,
expectation values (Pauli sums with X, Y, Z and Hermitian terms), samples and
parameter-shift Jacobians (against finite differences of the reference); and the same
errors, raised before any work, for the same bad arguments. A new executor is one more
entry here (``docs/contributing.md``, "Adding an executor").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

from qmlsim.circuits import Circuit, Hermitian, X, Y, Z
from qmlsim.simulators import Simulator
from qmlsim.simulators.executor import BaseExecutor, Executor
from tests import reference as ref


class ReferenceExecutor(BaseExecutor):
    """An executor written by following "Adding an executor": the dense reference simulator behind one method."""

    def __init__(self, shots: int | None = None):
        self.shots = shots  # None: exact; else the default shots, as a hardware executor

    def run_probabilities(self, circuit, rows, weights, shots, seed):
        p = np.stack([np.abs(ref.dense_statevector(circuit, row, weights)) ** 2 for row in rows])
        if shots is None:
            return p
        rng = np.random.default_rng(seed)
        return np.stack([rng.multinomial(shots, row / row.sum()) for row in p]) / shots


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], Any]
    shots: int | None  # shots for expval/jacobian (None: exact)
    atol: float


def _pennylane(name: str) -> Any:
    import pennylane as qml

    from qmlsim.simulators.executors.pennylane import PennyLaneExecutor

    return PennyLaneExecutor(qml.device(name))


def _qiskit() -> Any:
    from qiskit_aer import AerSimulator

    from qmlsim.simulators.executors.qiskit import QiskitExecutor

    return QiskitExecutor(AerSimulator(seed_simulator=7), shots=40_000, seed=7, journal=False)


def _dask() -> Any:
    """DaskExecutor over a two-worker LocalCluster of processes, one row per task (the most splitting)."""
    pytest.importorskip("distributed")
    from tests.simulators.test_dask_executor import local_client

    from qmlsim.simulators import DaskExecutor

    return DaskExecutor(local_client(), rows_per_task=1)


EXECUTORS = [
    Case("simulator-numba", lambda: Simulator(), None, 1e-9),
    Case("simulator-array", lambda: Simulator(kernels="array"), None, 1e-9),
    Case("simulator-jax", lambda: Simulator(backend="jax"), None, 1e-9),
    Case("reference-base", lambda: ReferenceExecutor(), None, 1e-9),
    Case("reference-base-shots", lambda: ReferenceExecutor(shots=40_000), 40_000, 0.03),
    Case("pennylane-default.qubit", lambda: _pennylane("default.qubit"), None, 1e-9),
    Case("pennylane-qmlsim.statevector", lambda: _pennylane("qmlsim.statevector"), None, 1e-9),
    Case("qiskit-aer", _qiskit, 40_000, 0.03),
    Case("dask-simulator", _dask, None, 1e-9),
]


@pytest.fixture(params=EXECUTORS, ids=[c.name for c in EXECUTORS], scope="module")
def case(request) -> tuple[Case, Any]:
    return request.param, request.param.make()


def circuit() -> Circuit:
    c = Circuit(3)
    x, w = c.inputs(2), c.weights(3)
    c.h(0).ry(x[0] * w[0], 1).cx(0, 2).rz(w[1] + x[1], 2).crx(w[2], 1, 0).ry(0.4, 2).cz(2, 1)
    return c


OBSERVABLES = [Z(0) @ Z(1) + 0.5 * X(2), Y(1) - 0.3 * Z(2), Hermitian(np.array([[0.2, 0.5 - 0.1j], [0.5 + 0.1j, -0.7]]), [2])]
ROWS = np.array([[0.3, -0.2], [1.1, 0.5], [-0.6, 0.9]])
WEIGHTS = np.array([0.7, -1.2, 0.4])


def reference_expvals(c: Circuit, rows: np.ndarray, w: np.ndarray, observables: list = OBSERVABLES) -> np.ndarray:
    mats = [o.matrix(c.num_wires) for o in observables]
    return np.array([[ref.dense_expval(ref.dense_statevector(c, row, w), m) for m in mats] for row in rows])


def reference_jacobian(c: Circuit, rows: np.ndarray, w: np.ndarray, argnum: str, observables: list) -> np.ndarray:
    if argnum == "weights":
        return np.stack([ref.finite_difference(lambda v: reference_expvals(c, row[None], v, observables)[0], w) for row in rows])
    return np.stack([ref.finite_difference(lambda v: reference_expvals(c, v[None], w, observables)[0], row) for row in rows])


def test_is_an_executor(case):
    _, ex = case
    assert isinstance(ex, Executor)


def test_probs_shapes_and_values(case):
    spec, ex = case
    c = circuit()
    kwargs = {} if spec.shots is None else {"shots": spec.shots, "seed": 3}
    p = np.asarray(ex.probs(c, x=ROWS, weights=WEIGHTS, **kwargs)) if spec.shots is None else None
    expected = np.stack([np.abs(ref.dense_statevector(c, row, WEIGHTS)) ** 2 for row in ROWS])
    if p is None:  # shot-based executors: probabilities from samples
        bits = np.asarray(ex.sample(c, spec.shots, x=ROWS, weights=WEIGHTS, seed=3))
        assert bits.shape == (3, spec.shots, 3) and set(np.unique(bits)) <= {0, 1}
        index = bits @ np.array([4, 2, 1])
        p = np.stack([np.bincount(r, minlength=8) / spec.shots for r in index])
    assert p.shape == (3, 8)
    np.testing.assert_allclose(p, expected, atol=spec.atol)
    marginal = np.asarray(ex.probs(c, x=ROWS[0], weights=WEIGHTS, wires=[2, 0]))
    assert marginal.shape == (4,)
    full = expected[0].reshape(2, 2, 2).sum(axis=1).T.reshape(-1)  # wires (2, 0), wire 2 most significant
    np.testing.assert_allclose(marginal, full, atol=max(spec.atol, 0.03 if spec.shots else 0))


def test_expval_shapes_and_values(case):
    spec, ex = case
    c = circuit()
    kwargs = {} if spec.shots is None else {"shots": spec.shots, "seed": 4}
    expected = reference_expvals(c, ROWS, WEIGHTS)
    values = np.asarray(ex.expval(c, OBSERVABLES, x=ROWS, weights=WEIGHTS, **kwargs))
    assert values.shape == (3, 3)
    np.testing.assert_allclose(values, expected, atol=spec.atol)
    one = np.asarray(ex.expval(c, OBSERVABLES[0], x=ROWS, weights=WEIGHTS, **kwargs))
    assert one.shape == (3,)
    single = np.asarray(ex.expval(c, OBSERVABLES, x=ROWS[1], weights=WEIGHTS, **kwargs))
    assert single.shape == (3,)
    np.testing.assert_allclose(single, expected[1], atol=spec.atol)


def test_no_inputs_drops_the_batch_axis(case):
    spec, ex = case
    c = Circuit(2)
    w = c.weights(1)
    c.ry(w[0], 0).cx(0, 1)
    kwargs = {} if spec.shots is None else {"shots": spec.shots, "seed": 5}
    value = np.asarray(ex.expval(c, Z(1), weights=[0.8], **kwargs))
    assert value.shape == ()
    np.testing.assert_allclose(value, np.cos(0.8), atol=spec.atol)
    bits = np.asarray(ex.sample(c, 50, weights=[0.8], seed=5))
    assert bits.shape == (50, 2)
    assert np.array_equal(bits[:, 0], bits[:, 1])  # a Bell-like state: the wires agree


@pytest.mark.parametrize("argnum", ["weights", "x"])
def test_parameter_shift_jacobian(case, argnum):
    spec, ex = case
    c = circuit()
    kwargs = {} if spec.shots is None else {"shots": spec.shots, "seed": 6}
    jac = np.asarray(ex.jacobian(c, OBSERVABLES[:2], x=ROWS[:2], weights=WEIGHTS, method="parameter-shift", argnum=argnum, **kwargs))
    size = 3 if argnum == "weights" else 2
    assert jac.shape == (2, 2, size)
    np.testing.assert_allclose(jac, reference_jacobian(c, ROWS[:2], WEIGHTS, argnum, OBSERVABLES[:2]), atol=max(spec.atol, 1e-6) * (3 if spec.shots else 1))
    one = np.asarray(ex.jacobian(c, OBSERVABLES[0], x=ROWS[0], weights=WEIGHTS, method="parameter-shift", argnum=argnum, **kwargs))
    assert one.shape == (size,)


BAD_CALLS = [
    ("x of the wrong width", dict(x=np.zeros((2, 3))), ValueError, "x must have shape (batch, 2)"),
    ("x missing", dict(x=None), ValueError, "the circuit declares 2 inputs"),
    ("weights of the wrong length", dict(weights=np.zeros(2)), ValueError, "weights must have shape (3,)"),
    ("weights missing", dict(weights=None), ValueError, "the circuit declares 3 weights"),
    ("NaN in x", dict(x=np.array([[np.nan, 0.0]])), ValueError, "x contains NaN"),
    ("complex weights", dict(weights=np.ones(3) * 1j), TypeError, "weights must be real"),
    ("observable on a missing wire", dict(observables=Z(5)), ValueError, "observable acts on wire(s) [5]"),
    ("not an observable", dict(observables="Z0"), TypeError, "observables must be qmlsim Observables"),
    ("zero shots", dict(shots=0), ValueError, "shots must be a positive integer"),
]


@pytest.mark.parametrize("what, change, error, message", BAD_CALLS, ids=[b[0] for b in BAD_CALLS])
def test_the_same_errors_before_any_work(case, what, change, error, message):
    _, ex = case
    args = dict(x=ROWS, weights=WEIGHTS, observables=Z(0))
    args.update(change)
    shots = args.pop("shots", None)
    extra = {} if shots is None else {"shots": shots}
    with pytest.raises(error, match=_escaped(message)):
        ex.expval(circuit(), args["observables"], x=args["x"], weights=args["weights"], **extra)


def test_bad_argnum_and_wires(case):
    _, ex = case
    with pytest.raises(ValueError, match="argnum must be 'weights' or 'x'"):
        ex.jacobian(circuit(), Z(0), x=ROWS, weights=WEIGHTS, method="parameter-shift", argnum="w")
    with pytest.raises(ValueError, match=_escaped("wires (0, 0) must be distinct")):
        ex.probs(circuit(), x=ROWS, weights=WEIGHTS, wires=[0, 0])


def _escaped(text: str) -> str:
    import re

    return re.escape(text)


def test_samples_from_an_executor_that_returns_exact_probabilities():
    """A subclass that ignores shots (exact probabilities): the base draws the shots instead of rounding."""

    class Exact(BaseExecutor):
        def run_probabilities(self, circuit, rows, weights, shots, seed):
            return np.stack([np.abs(ref.dense_statevector(circuit, row, weights)) ** 2 for row in rows])

    c = Circuit(2)
    w = c.weights(1)
    c.ry(w[0], 0).cx(0, 1)
    bits = np.asarray(Exact().sample(c, 3001, weights=[1.1], seed=4))
    assert bits.shape == (3001, 2) and np.array_equal(bits[:, 0], bits[:, 1])
    np.testing.assert_allclose(bits[:, 0].mean(), np.sin(0.55) ** 2, atol=0.03)
