"""The numba path on states of 20+ wires (cache-blocked groups, parallel expectation values) against closed forms.

A product state ``RZ(phi_i) RY(theta_i) |0>`` on every wire has the Bloch vector
``(sin t cos p, sin t sin p, cos t)`` per wire and factorising Pauli expectations, so
every value has a closed form however large the state.
"""
from __future__ import annotations

import numpy as np
import pytest

from qmlsim.circuits import Circuit, X, Y, Z
from qmlsim.simulators import Simulator

pytest.importorskip("numba")

NUM_WIRES = 20


@pytest.mark.parametrize("dtype, tol", [("complex128", 1e-10), ("complex64", 2e-5)])
def test_product_state_expectations_on_20_wires(dtype: str, tol: float) -> None:
    rng = np.random.default_rng(2)
    c = Circuit(NUM_WIRES)
    w = c.weights(3 * NUM_WIRES)
    for wire in range(NUM_WIRES):
        # RX(a) then RX(-a) is the identity: runs the RX-like kernel on every bit position
        c.ry(w[wire], wire).rz(w[NUM_WIRES + wire], wire).rx(w[2 * NUM_WIRES + wire], wire).rx(-w[2 * NUM_WIRES + wire], wire)
    c.cx(3, 11).cx(3, 11)  # a controlled swap pair, also the identity
    weights = rng.uniform(-np.pi, np.pi, c.num_weights)
    theta, phi = weights[:NUM_WIRES], weights[NUM_WIRES : 2 * NUM_WIRES]
    bloch = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)])
    obs = [Z(NUM_WIRES - 1), X(0) @ Y(7), 0.5 * Z(2) @ Z(19) - X(10), Y(5)]
    expected = [
        bloch[2, NUM_WIRES - 1],
        bloch[0, 0] * bloch[1, 7],
        0.5 * bloch[2, 2] * bloch[2, 19] - bloch[0, 10],
        bloch[1, 5],
    ]
    values = Simulator(dtype=dtype, kernels="numba").expval(c, obs, weights=weights)
    np.testing.assert_allclose(values, expected, atol=tol)
