"""The fused one-pass adjoint sweeps of the numba path against central differences of the dense reference.

``qmlsim.simulators.fast.adjoint`` un-applies an uncontrolled 1-target gate from the
state and the observable states in one pass while taking its derivative (complex,
diagonal and real-arithmetic variants). These circuits put every such gate on every
wire, with angles from weights and inputs, inside inverted blocks, next to controlled
gates that take the general path.
"""
from __future__ import annotations

import numpy as np
import pytest

from qmlsim.circuits import Circuit, Hermitian, X, Y, Z
from qmlsim.simulators import Simulator
from tests.reference import dense_expval, dense_statevector, finite_difference, pauli_matrix

pytest.importorskip("numba")

NUM_WIRES = 4


def _circuit() -> Circuit:
    c = Circuit(NUM_WIRES)
    x = c.inputs(2)
    w = c.weights(12)
    for wire in range(NUM_WIRES):
        c.h(wire).ry(w[wire] + 0.1 * wire, wire).rz(x[wire % 2] * w[4 + wire], wire)
    c.rx(w[8], 0).p(2 * x[0], 1).u(w[9], 0.3, -0.2, 2).rot(0.4, w[10], -0.7, 3)
    c.cx(0, 1).crz(w[11], 2, 3).cx(3, 0)
    block = Circuit(NUM_WIRES)
    bw = block.weights(3)
    block.ry(bw[0], 3).rz(bw[1], 1).rx(bw[2], 2).sx(0)
    c.compose(block.inverse(), share_weights=True)
    c.ry(x[1], 2).rz(w[3] - x[0], 0)
    return c


def _observables() -> tuple[list, np.ndarray]:
    herm = np.array([[1.0, 0.5 - 0.2j], [0.5 + 0.2j, -0.3]])
    obs = [Z(0) @ X(2), 0.7 * Y(1) + Z(3), Hermitian(herm, [2])]
    eye = np.eye(2)
    mats = [
        pauli_matrix("ZIXI"),
        0.7 * pauli_matrix("IYII") + pauli_matrix("IIIZ"),
        np.kron(np.kron(np.kron(eye, eye), herm), eye),
    ]
    return obs, np.stack(mats)


@pytest.mark.parametrize("dtype, tol", [("complex128", 1e-7), ("complex64", 2e-4)])
@pytest.mark.parametrize("argnum", ["weights", "x"])
def test_fused_adjoint_matches_finite_differences(dtype: str, tol: float, argnum: str) -> None:
    rng = np.random.default_rng(11)
    c = _circuit()
    obs, mats = _observables()
    xs = rng.uniform(-np.pi, np.pi, (3, c.num_inputs))
    w = rng.uniform(-np.pi, np.pi, c.num_weights)
    sim = Simulator(dtype=dtype, kernels="numba")
    jac = sim.jacobian(c, obs, x=xs, weights=w, method="adjoint", argnum=argnum)
    assert jac.shape == (3, len(obs), c.num_weights if argnum == "weights" else c.num_inputs)
    for b, row in enumerate(xs):
        def values(params: np.ndarray, row: np.ndarray = row) -> np.ndarray:
            xr, wr = (row, params) if argnum == "weights" else (params, w)
            state = dense_statevector(c, xr, wr)
            return np.array([dense_expval(state, m) for m in mats])

        expected = finite_difference(values, w if argnum == "weights" else row)
        np.testing.assert_allclose(jac[b], expected, atol=tol)


def test_single_observable_and_every_wire() -> None:
    # one observable: the fully fused pass (state and observable state in the same loop)
    rng = np.random.default_rng(5)
    n = 7
    c = Circuit(n)
    w = c.weights(3 * n)
    for wire in range(n):
        c.ry(w[wire], wire).rz(w[n + wire], wire).rx(w[2 * n + wire], wire)
        if wire:
            c.cx(wire - 1, wire)
    weights = rng.uniform(-np.pi, np.pi, c.num_weights)
    jac = Simulator(kernels="numba").jacobian(c, Z(0) @ Z(n - 1), weights=weights, method="adjoint")
    word = "Z" + "I" * (n - 2) + "Z"
    expected = finite_difference(lambda p: dense_expval(dense_statevector(c, None, p), pauli_matrix(word)), weights)
    np.testing.assert_allclose(jac, expected, atol=1e-7)
