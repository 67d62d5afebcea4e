"""The repeated-call lane of ``Simulator.expval`` against the dense ``np.kron`` reference.

After a first call, calls with the same circuit and observables and float64 arrays go
through one compiled call (``qmlsim.simulators.fast.single``); these tests check that
every later call still gives the reference values and still rejects bad input.
"""
from __future__ import annotations

import numpy as np
import pytest

from qmlsim.circuits import Circuit, X, Y, Z
from qmlsim.circuits.expressions import sin
from qmlsim.simulators import Simulator
from tests.reference import dense_expval, dense_statevector, pauli_matrix

pytest.importorskip("numba")


def _circuit() -> Circuit:
    c = Circuit(3)
    x = c.inputs(2)
    w = c.weights(4)
    c.h(0).ry(x[0], 1).rz(2 * x[1] + 0.3, 2).cx(0, 1).rot(w[0], w[1], w[2], 2).crx(w[3] * x[0], 1, 0)
    c.ry(sin(x[1]) * w[0], 2)  # not affine in one symbol: evaluated in Python per call
    return c


def _reference(c: Circuit, obs_matrix: np.ndarray, x_row: np.ndarray, w: np.ndarray) -> float:
    return float(dense_expval(dense_statevector(c, x_row, w), obs_matrix))


@pytest.mark.parametrize("dtype, tol", [("complex128", 1e-10), ("complex64", 1e-5)])
def test_repeated_calls_match_the_reference(dtype: str, tol: float) -> None:
    rng = np.random.default_rng(7)
    c = _circuit()
    obs = 0.5 * Z(0) @ X(2) + Y(1)
    matrix = 0.5 * np.kron(np.kron(pauli_matrix("Z"), np.eye(2)), pauli_matrix("X")) + np.kron(
        np.kron(np.eye(2), pauli_matrix("Y")), np.eye(2))
    sim = Simulator(dtype=dtype)
    for _ in range(5):  # the first call builds the lane, the others use it
        x, w = rng.uniform(-np.pi, np.pi, 2), rng.uniform(-np.pi, np.pi, 4)
        value = sim.expval(c, obs, x=x, weights=w)
        assert np.ndim(value) == 0
        assert value == pytest.approx(_reference(c, matrix, x, w), abs=tol)
    assert sim._lane is not None and sim._lane.matches(c, obs, x, w)  # the lane served the later calls
    batch = rng.uniform(-np.pi, np.pi, (4, 2))
    values = sim.expval(c, obs, x=batch, weights=w)
    assert values.shape == (4,)
    np.testing.assert_allclose(values, [_reference(c, matrix, row, w) for row in batch], atol=tol)


def test_observable_lists_and_changed_objects() -> None:
    rng = np.random.default_rng(3)
    c = _circuit()
    sim = Simulator()
    obs = [Z(0), X(1) @ Z(2)]
    x, w = rng.uniform(-1, 1, 2), rng.uniform(-1, 1, 4)
    first = sim.expval(c, obs, x=x, weights=w)
    again = sim.expval(c, obs, x=x, weights=w)
    ref = [_reference(c, pauli_matrix("ZII"), x, w), _reference(c, pauli_matrix("IXZ"), x, w)]
    np.testing.assert_allclose(first, ref, atol=1e-10)
    np.testing.assert_allclose(again, ref, atol=1e-10)
    # a list edited in place must not reuse the old observables
    obs[1] = Y(2)
    np.testing.assert_allclose(sim.expval(c, obs, x=x, weights=w)[1], _reference(c, pauli_matrix("IIY"), x, w), atol=1e-10)
    # a circuit extended after the lane was built must not reuse the old program
    c.x(0)
    assert sim.expval(c, Z(0), x=x, weights=w) == pytest.approx(_reference(c, pauli_matrix("ZII"), x, w), abs=1e-10)
    assert sim.expval(c, Z(0), x=x, weights=w) == pytest.approx(_reference(c, pauli_matrix("ZII"), x, w), abs=1e-10)


def test_bad_input_is_still_rejected_after_the_first_call() -> None:
    c = _circuit()
    sim = Simulator()
    x, w = np.array([0.1, 0.2]), np.array([0.3, 0.4, 0.5, 0.6])
    sim.expval(c, Z(0), x=x, weights=w)
    sim.expval(c, Z(0), x=x, weights=w)
    with pytest.raises(ValueError, match="x contains NaN"):
        sim.expval(c, Z(0), x=np.array([np.nan, 0.2]), weights=w)
    with pytest.raises(ValueError, match="weights contains NaN"):
        sim.expval(c, Z(0), x=x, weights=np.array([0.3, np.inf, 0.5, 0.6]))
    # many rows take the SIMD-rows kernels inside the lane: the same checks
    many = np.tile(x, (16, 1))
    sim.expval(c, Z(0), x=many, weights=w)
    many[9, 1] = np.nan
    with pytest.raises(ValueError, match="x contains NaN"):
        sim.expval(c, Z(0), x=many, weights=w)
    with pytest.raises(ValueError, match="weights contains NaN"):
        sim.expval(c, Z(0), x=np.tile(x, (16, 1)), weights=np.array([0.3, 0.4, 0.5, -np.inf]))
    with pytest.raises(ValueError, match="x must have shape"):
        sim.expval(c, Z(0), x=np.array([0.1, 0.2, 0.3]), weights=w)
    with pytest.raises(ValueError, match="weights must have shape"):
        sim.expval(c, Z(0), x=x, weights=w[:3])
    # integer and list arguments take the general path and are converted there
    ref = _reference(c, pauli_matrix("ZII"), np.array([1.0, 0.0]), w)
    assert sim.expval(c, Z(0), x=np.array([1, 0]), weights=list(w)) == pytest.approx(ref, abs=1e-10)
