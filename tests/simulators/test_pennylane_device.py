"""The qmlsim.statevector PennyLane device against default.qubit (an independent simulator)."""
from __future__ import annotations

import numpy as np
import pytest

qml = pytest.importorskip("pennylane")
from pennylane import numpy as pnp  # noqa: E402

ATOL = 1e-10


def _device(wires=3, **kwargs):
    return qml.device("qmlsim.statevector", wires=wires, **kwargs)


def _circuit(a, b):
    qml.Hadamard(0)
    qml.RY(a, 1)
    qml.CRot(a, b, 0.3, wires=[1, 2])
    qml.MultiRZ(b, wires=[0, 1, 2])
    qml.ctrl(qml.IsingXY(a, wires=[1, 2]), control=0, control_values=[0])
    qml.adjoint(qml.QFT(wires=[0, 1, 2]))
    qml.QubitUnitary(qml.matrix(qml.Rot(0.1, 0.2, 0.3, 0)), wires=2)


def test_entry_point_and_capabilities():
    dev = _device()
    assert dev.name == "qmlsim.statevector"
    assert "CRX" in dev.capabilities.operations and "ExpectationMP" in dev.capabilities.measurement_processes


def test_analytic_measurements_match_default_qubit():
    def qfunc(a, b):
        _circuit(a, b)
        return (
            qml.expval(qml.Z(0) @ qml.X(2)),
            qml.expval(qml.Hamiltonian([0.3, -1.2], [qml.Y(1), qml.Z(0) @ qml.Z(1)])),
            qml.var(qml.X(1) + 0.5 * qml.Z(2)),
            qml.probs(wires=[2, 0]),
            qml.probs(op=qml.X(1) @ qml.Y(2)),
            qml.state(),
            qml.density_matrix(wires=[1]),
            qml.expval(qml.Hermitian(np.diag([1.0, 2.0, 3.0, 5.0]), wires=[2, 1])),
        )

    args = (0.37, np.array([-0.2, 0.9, 1.4]))  # b broadcast over three rows
    ours = qml.QNode(qfunc, _device())(*args)
    reference = qml.QNode(qfunc, qml.device("default.qubit", wires=3))(*args)
    for got, want in zip(ours, reference):
        np.testing.assert_allclose(got, want, atol=ATOL)


def test_batch_of_tapes_groups_by_structure():
    dev = _device()
    tapes = [
        qml.tape.QuantumScript([qml.RX(t, 0), qml.CNOT([0, 1]), qml.RY(2 * t, 2)], [qml.expval(qml.Z(1)), qml.probs(wires=[2])])
        for t in np.linspace(0, 2, 7)
    ]
    tapes.append(qml.tape.QuantumScript([qml.Hadamard(1)], [qml.expval(qml.X(1))]))
    ours = dev.execute(tapes)
    reference = qml.device("default.qubit", wires=3).execute(tapes)
    assert len(ours) == len(tapes)
    for got, want in zip(ours, reference):
        got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, atol=ATOL)


def test_adjoint_derivatives_match_default_qubit():
    weights = pnp.array([0.4, -0.8, 1.1], requires_grad=True)

    def qfunc(w):
        qml.RX(w[0], 0)
        qml.Rot(w[1], w[0] * w[2], 0.2, wires=1)
        qml.CRY(w[2], wires=[0, 2])
        qml.IsingZZ(w[1], wires=[1, 2])
        qml.U3(w[0], w[1], w[2], wires=0)
        return qml.expval(qml.Z(0) @ qml.Y(1) + 0.5 * qml.X(2))

    ours = qml.jacobian(qml.QNode(qfunc, _device(), diff_method="adjoint"))(weights)
    reference = qml.jacobian(qml.QNode(qfunc, qml.device("default.qubit", wires=3), diff_method="backprop"))(weights)
    np.testing.assert_allclose(ours, reference, atol=1e-9)
    # "best" resolves to the device's adjoint method
    best = qml.jacobian(qml.QNode(qfunc, _device(), diff_method="best"))(weights)
    np.testing.assert_allclose(best, reference, atol=1e-9)


def test_shots_and_shot_vectors_are_seeded_and_close():
    def qfunc(a):
        qml.RY(a, 0)
        qml.CNOT([0, 1])
        return qml.expval(qml.X(0)), qml.probs(wires=[1]), qml.var(qml.Z(1))

    exact = qml.QNode(qfunc, qml.device("default.qubit", wires=2))(0.7)
    shots = 20000
    first = qml.set_shots(qml.QNode(qfunc, _device(2, seed=5)), shots=[shots, shots])(0.7)
    again = qml.set_shots(qml.QNode(qfunc, _device(2, seed=5)), shots=[shots, shots])(0.7)
    assert len(first) == 2
    for part, repeat in zip(first, again):
        for value, ref, same in zip(part, exact, repeat):
            np.testing.assert_array_equal(value, same)
            # five standard errors of a +-1 valued mean
            np.testing.assert_allclose(value, ref, atol=5 / np.sqrt(shots))
    samples = qml.set_shots(qml.QNode(lambda: (qml.Hadamard(0), qml.sample(wires=[0, 1]))[-1], _device(2, seed=1)), shots=50)()
    assert samples.shape == (50, 2) and set(np.unique(samples[:, 1])) == {0}


def test_unsupported_requests_fail_clearly():
    dev = _device(2)
    with pytest.raises(qml.exceptions.WireError, match="not found on the device"):
        qml.QNode(lambda: (qml.RX(0.1, 0), qml.expval(qml.Z(5)))[-1], dev)()

    @qml.qnode(dev, diff_method="adjoint")
    def probs(a):
        qml.RX(a, 0)
        return qml.probs(wires=[0])

    with pytest.raises(qml.exceptions.QuantumFunctionError):
        qml.jacobian(probs)(pnp.array(0.3, requires_grad=True))
