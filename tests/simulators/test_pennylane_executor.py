"""PennyLaneExecutor against the Simulator and against default.qubit used directly."""
from __future__ import annotations

import numpy as np
import pytest

qml = pytest.importorskip("pennylane")

from qmlsim.circuits import Circuit, Hermitian, X, Y, Z, sin  # noqa: E402
from qmlsim.simulators import Executor, PennyLaneExecutor, Simulator  # noqa: E402

ATOL = 1e-9


def _circuit() -> Circuit:
    c = Circuit(3)
    x, w = c.inputs(2), c.weights(3)
    c.h(0).ry(x[0] * w[0], 1).cx(1, 2).rz(x[1] ** 2, 2).rot(w[1], x[0], 0.3, 0).cz(0, 2)
    c.crx(sin(w[2]) + x[1], 2, 1).unitary(np.eye(2)[[1, 0]], 0).sdg(1)
    return c


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(4)
    return rng.uniform(-1, 1, (4, 2)), rng.uniform(-1, 1, 3)


OBS = [Z(0) @ Z(2), 0.5 * X(1) - Y(2), Hermitian(np.diag([1.0, -2.0, 0.5, 3.0]), (2, 0))]


@pytest.mark.parametrize("name", ["default.qubit", "qmlsim.statevector"])
def test_results_match_simulator(name, data):
    xs, w = data
    c, sim = _circuit(), Simulator()
    ex = PennyLaneExecutor(qml.device(name, wires=3))
    assert isinstance(ex, Executor)
    np.testing.assert_allclose(ex.expval(c, OBS, xs, w), sim.expval(c, OBS, xs, w), atol=ATOL)
    np.testing.assert_allclose(ex.expval(c, OBS[1], xs[2], w), sim.expval(c, OBS[1], xs[2], w), atol=ATOL)
    np.testing.assert_allclose(ex.probs(c, xs, w, wires=[2, 0]), sim.probs(c, xs, w, wires=[2, 0]), atol=ATOL)
    assert ex.probs(c, xs[0], w).shape == (8,)


def test_expval_matches_default_qubit_qnode(data):
    """The executor's tape equals a hand-written QNode on default.qubit."""
    xs, w = data
    dev = qml.device("default.qubit", wires=3)

    @qml.qnode(dev)
    def by_hand(x):
        qml.Hadamard(0)
        qml.RY(x[0] * w[0], 1)
        qml.CNOT([1, 2])
        qml.RZ(x[1] ** 2, 2)
        qml.Rot(w[1], x[0], 0.3, wires=0)
        qml.CZ([0, 2])
        qml.CRX(np.sin(w[2]) + x[1], wires=[2, 1])
        qml.PauliX(0)
        qml.adjoint(qml.S(1))
        return qml.expval(qml.Z(0) @ qml.Z(2))

    got = PennyLaneExecutor(dev).expval(_circuit(), OBS[0], xs, w)
    np.testing.assert_allclose(got, [by_hand(row) for row in xs], atol=ATOL)


@pytest.mark.parametrize("method", ["parameter-shift", "finite-diff", "adjoint"])
@pytest.mark.parametrize("argnum", ["weights", "x"])
def test_jacobian_matches_finite_differences(method, argnum, data):
    xs, w = data
    c = _circuit()
    ex = PennyLaneExecutor(qml.device("qmlsim.statevector", wires=3))
    got = ex.jacobian(c, OBS[:2], xs, w, method=method, argnum=argnum)
    sim = Simulator()
    eps = 1e-6
    size = w.size if argnum == "weights" else xs.shape[1]
    expected = np.zeros((xs.shape[0], 2, size))
    for p in range(size):
        if argnum == "weights":
            shift = np.eye(size)[p] * eps
            plus, minus = sim.expval(c, OBS[:2], xs, w + shift), sim.expval(c, OBS[:2], xs, w - shift)
        else:
            shift = np.eye(size)[p] * eps
            plus, minus = sim.expval(c, OBS[:2], xs + shift, w), sim.expval(c, OBS[:2], xs - shift, w)
        expected[:, :, p] = (plus - minus) / (2 * eps)
    tol = 1e-5 if method == "finite-diff" else 1e-7
    np.testing.assert_allclose(got, expected, atol=tol)
    single = ex.jacobian(c, OBS[0], xs[1], w, method=method, argnum=argnum)
    np.testing.assert_allclose(single, expected[1, 0], atol=tol)


def test_jacobian_default_qubit_backprop(data):
    xs, w = data
    c = _circuit()
    got = PennyLaneExecutor(qml.device("default.qubit")).jacobian(c, OBS[0], xs, w, method="backprop")
    np.testing.assert_allclose(got, Simulator().jacobian(c, OBS[0], xs, w), atol=1e-8)


def test_shots_sampling_and_seed(data):
    xs, w = data
    c = _circuit()
    ex = PennyLaneExecutor(qml.device("qmlsim.statevector", wires=3))
    shots = 4000
    sampled = ex.expval(c, OBS[:2], xs, w, shots=shots, seed=3)
    np.testing.assert_array_equal(sampled, ex.expval(c, OBS[:2], xs, w, shots=shots, seed=3))
    # Z0 Z2 is +-1 valued; 0.5 X1 - Y2 has range 3: five standard errors
    np.testing.assert_allclose(sampled, Simulator().expval(c, OBS[:2], xs, w), atol=5 * 1.5 / np.sqrt(shots))
    bits = ex.sample(c, 100, xs[:2], w, seed=0)
    assert bits.shape == (2, 100, 3) and set(np.unique(bits)) <= {0, 1}
    assert ex.sample(Circuit(2).x(1), 5).tolist() == [[0, 1]] * 5


def test_bad_input():
    c = _circuit()
    ex = PennyLaneExecutor(qml.device("default.qubit", wires=2))
    with pytest.raises(ValueError, match="device has 2"):
        ex.probs(c, np.zeros((1, 2)), np.zeros(3))
    ex = PennyLaneExecutor(qml.device("default.qubit"))
    with pytest.raises(ValueError, match="shape"):
        ex.probs(c, np.zeros((1, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="unknown gradient method"):
        ex.jacobian(c, Z(0), np.zeros((1, 2)), np.zeros(3), method="magic")
    with pytest.raises(ValueError, match="shots"):
        ex.sample(c, 0, np.zeros((1, 2)), np.zeros(3))
    with pytest.raises(TypeError, match="PennyLane device"):
        PennyLaneExecutor("default.qubit")
