"""qmlsim <-> PennyLane conversion, checked against qml.matrix, default.qubit and a dense reference."""
from __future__ import annotations

import numpy as np
import pytest

qml = pytest.importorskip("pennylane")

from qmlsim.circuits import GATES, Circuit, Hermitian, X, Y, Z  # noqa: E402
from qmlsim.circuits.convert import (  # noqa: E402
    from_pennylane,
    from_pennylane_observable,
    to_pennylane,
    to_pennylane_observable,
    to_tape,
)

from tests.circuits.test_convert_qiskit import dense_unitary, equal_up_to_phase, random_qmlsim_circuit  # noqa: E402

ATOL = 1e-9


def _pl_matrix(ops, n):
    return qml.matrix(qml.tape.QuantumScript(ops), wire_order=range(n))


@pytest.mark.parametrize("seed", range(5))
def test_to_pennylane_matches_dense_reference_exactly(seed):
    rng = np.random.default_rng(seed)
    c = random_qmlsim_circuit(rng)
    x_row, w = rng.uniform(-1, 1, c.num_inputs), rng.uniform(-1, 1, c.num_weights)
    got = _pl_matrix(to_pennylane(c, x_row, w), c.num_wires)
    np.testing.assert_allclose(got, dense_unitary(c, x_row, w), atol=ATOL)


def test_every_gate_alone_exactly():
    rng = np.random.default_rng(11)
    for name, gate in GATES.items():
        c = Circuit(gate.num_wires + 1)
        c.gate(name, *rng.uniform(-2, 2, gate.num_params), *range(1, gate.num_wires + 1))
        for variant in (c, c.inverse(), c.controlled(1)):
            got = _pl_matrix(to_pennylane(variant), variant.num_wires)
            np.testing.assert_allclose(got, dense_unitary(variant), atol=ATOL, err_msg=name)
            back, values = from_pennylane(to_tape(variant), parameters="weights")
            np.testing.assert_allclose(dense_unitary(back, None, values), dense_unitary(variant), atol=ATOL, err_msg=name)


@pytest.mark.parametrize("seed", range(4))
def test_round_trip_preserves_unitary(seed):
    rng = np.random.default_rng(50 + seed)
    c = random_qmlsim_circuit(rng)
    x_row, w = rng.uniform(-1, 1, c.num_inputs), rng.uniform(-1, 1, c.num_weights)
    back, values = from_pennylane(to_tape(c, x=x_row, weights=w))
    assert back.num_weights == len(values) and back.num_inputs == 0
    assert equal_up_to_phase(dense_unitary(back, None, values), dense_unitary(c, x_row, w))


def test_broadcasting_matches_default_qubit_row_by_row():
    rng = np.random.default_rng(2)
    c = Circuit(3)
    x, w = c.inputs(2), c.weights(2)
    c.h(0).ry(x[0] * w[0], 1).cx(1, 2).rz(x[1] ** 2, 2).rot(w[1], x[0], 0.3, 0).cz(0, 2)
    xs, ws = rng.uniform(-1, 1, (5, 2)), rng.uniform(-1, 1, 2)
    obs = [Z(0) @ Z(2), 0.5 * X(1) - Y(2), Hermitian(np.diag([1.0, 2.0, 3.0, 4.0]), (2, 0))]
    dev = qml.device("default.qubit")
    batched = np.array(dev.execute(to_tape(c, obs, x=xs, weights=ws)))
    assert batched.shape == (3, 5)
    for row in range(5):
        psi = dense_unitary(c, xs[row], ws)[:, 0]
        for k, o in enumerate(obs):
            expected = np.real(psi.conj() @ o.matrix(3) @ psi)
            assert abs(batched[k, row] - expected) < ATOL
    back, values = from_pennylane(to_tape(c, obs, x=xs, weights=ws), parameters="inputs")
    assert values.shape == (5, back.num_inputs)
    for row in range(5):
        assert equal_up_to_phase(dense_unitary(back, values[row]), dense_unitary(c, xs[row], ws))
    with pytest.raises(ValueError, match="parameters='inputs'"):
        from_pennylane(to_tape(c, obs, x=xs, weights=ws))


def test_from_pennylane_ops_outside_the_gate_set():
    def qfunc(a, b):
        qml.Hadamard(0)
        qml.CRot(a, b, 0.3, wires=[0, 1])
        qml.MultiRZ(a, wires=[0, 1, 2])
        qml.PauliRot(b, "XYZ", wires=[2, 0, 1])
        qml.ctrl(qml.Rot(0.1, a, 0.3, wires=2), control=[0, 1], control_values=[0, 1])
        qml.ctrl(qml.GlobalPhase(0.7, wires=2), control=1)
        qml.U2(a, b, wires=1)
        qml.IsingXY(b, wires=[1, 2])
        qml.adjoint(qml.QFT(wires=[0, 1, 2]))
        qml.GlobalPhase(0.4)
        qml.MultiControlledX(wires=[0, 2, 1], control_values=[1, 0])

    tape = qml.tape.make_qscript(qfunc)(0.4, -1.1)
    c, values = from_pennylane(tape)
    expected = qml.matrix(tape, wire_order=[0, 1, 2])
    assert equal_up_to_phase(dense_unitary(c, None, values), expected)


def test_from_pennylane_wire_labels_and_parameter_order():
    tape = qml.tape.QuantumScript([qml.RX(0.1, "a"), qml.QubitUnitary(np.eye(2), "b"), qml.CRY(0.2, ["b", "a"])])
    c, values = from_pennylane(tape, wire_order=["b", "a"])
    assert [op.wires for op in c.ops] == [(1,), (0,), (0, 1)]
    assert values.tolist() == [0.1, 0.2]
    with pytest.raises(ValueError, match="not in the wire order"):
        from_pennylane(tape, wire_order=["a"])
    with pytest.raises(TypeError, match="QuantumScript"):
        from_pennylane(3)


def test_observables_both_ways():
    rng = np.random.default_rng(5)
    h = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    obs = 0.5 * Z(0) @ X(2) - 1.5 * Y(1) + Hermitian(h + h.conj().T, (2, 0)) + 0.25
    pl_obs = to_pennylane_observable(obs)
    np.testing.assert_allclose(qml.matrix(pl_obs, wire_order=range(3)), obs.matrix(3), atol=ATOL)
    back = from_pennylane_observable(pl_obs)
    np.testing.assert_allclose(back.matrix(3), obs.matrix(3), atol=ATOL)
    ham = qml.Hamiltonian([0.3, -0.2], [qml.X("q") @ qml.Z("r"), qml.Projector([1], "r")])
    converted = from_pennylane_observable(ham, wire_order=["r", "q"])
    np.testing.assert_allclose(converted.matrix(2), qml.matrix(ham, wire_order=["r", "q"]), atol=ATOL)


def test_gradients_flow_through_to_pennylane():
    c = Circuit(2)
    w = c.weights(2)
    c.ry(2 * w[0], 0).cx(0, 1).rx(w[1] * w[0], 1)
    dev = qml.device("default.qubit")

    @qml.qnode(dev)
    def circuit(weights):
        for op in to_pennylane(c, weights=weights):
            qml.apply(op)
        return qml.expval(qml.Z(1))

    weights = qml.numpy.array([0.3, -0.7], requires_grad=True)
    grad = qml.grad(circuit)(weights)
    eps = 1e-6
    fd = [(circuit(weights + eps * e) - circuit(weights - eps * e)) / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(grad, fd, atol=1e-6)


def test_bad_input():
    c = Circuit(2)
    c.inputs(2)
    with pytest.raises(ValueError, match="shape"):
        to_pennylane(c, x=np.zeros(3))
    with pytest.raises(ValueError, match="inputs"):
        to_pennylane(c)
    with pytest.raises(TypeError, match="Circuit"):
        to_pennylane("not a circuit")
