"""The QSP toolkit against independent references: pyqsp, PennyLane, closed forms, dense linear algebra."""
from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest
from numpy.polynomial import Chebyshev

from qmlsim.circuits import Circuit, qsp
from qmlsim.circuits.templates import heisenberg_xxz, tfim, tfim_2d
from qmlsim.simulators import Simulator
from tests.reference import dense_unitary, pauli_matrix

A_GRID = np.linspace(-1, 1, 1000)


def engine_block(circuit: Circuit, num_ancillas: int) -> np.ndarray:
    """The ancilla-|0> block of a circuit, column by column from engine statevectors."""
    n = circuit.num_wires - num_ancillas
    sim = Simulator()
    columns = []
    for j in range(2**n):
        c = Circuit(circuit.num_wires)
        for w in range(n):
            if (j >> (n - 1 - w)) & 1:
                c.x(num_ancillas + w)
        c.compose(circuit)
        columns.append(sim.statevector(c)[: 2**n])
    return np.array(columns).T


def apply_function(matrix: np.ndarray, f) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * f(values)) @ vectors.conj().T


def random_hermitian(dim: int, rng, norm: float = 0.9) -> np.ndarray:
    m = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    m = m + m.conj().T
    return norm * m / np.linalg.norm(m, 2)


def pyqsp_sym_phases(coef: np.ndarray) -> np.ndarray:
    from pyqsp.angle_sequence import QuantumSignalProcessingPhases

    with contextlib.redirect_stdout(io.StringIO()):  # pyqsp prints every iteration
        full, _, _ = QuantumSignalProcessingPhases(coef, method="sym_qsp", chebyshev_basis=True)
    return np.asarray(full)


# --- polynomials ---------------------------------------------------------------------------
def test_sign_polynomial_contract_and_error_table():
    p = qsp.sign_polynomial(degree=161, delta=20)
    assert isinstance(p, Chebyshev) and p.degree() == 161 and p.parity == 1
    assert np.all(p.coef[0::2] == 0)
    assert abs(qsp.max_abs(p) - 0.9) < 1e-12
    x = np.linspace(-1, 1, 20001)
    assert np.abs(p(x)).max() <= 0.9 + 1e-12
    # the spec's degree-error table (pyqsp PolySign): delta 20, degrees 41/81/161
    for degree, bound in ((41, 6e-2), (81, 1e-3), (161, 2e-9)):
        q = qsp.sign_polynomial(degree, 20)
        erf = np.array([math.erf(20 * t) for t in x])
        assert np.abs(q(x) - q.scale * erf).max() < bound
        assert q.error < bound


def test_chebyshev_approximation_of_user_function_and_closed_forms():
    p = qsp.chebyshev_approximation(np.exp, max_scale=None)
    x = np.linspace(-1, 1, 501)
    assert np.abs(p(x) - np.exp(x)).max() < 1e-13 and p.error < 1e-13
    c = qsp.cos_polynomial(7.0, max_scale=None)
    s = qsp.sin_polynomial(7.0, max_scale=None)
    assert np.abs(c(x) - np.cos(7 * x)).max() < 1e-12 and c.parity == 0
    assert np.abs(s(x) - np.sin(7 * x)).max() < 1e-12 and s.parity == 1
    # Jacobi-Anger: the T_2 coefficient of cos(t x) is -2 J_2(t)
    from scipy.special import jv

    assert abs(c.coef[2] + 2 * jv(2, 7.0)) < 1e-13 and abs(c.coef[0] - jv(0, 7.0)) < 1e-13
    g = qsp.gibbs_polynomial(3.0, max_scale=None)
    assert np.abs(g(x) - np.exp(-3 * (x + 1))).max() < 1e-12


def test_inverse_polynomial_on_its_domain():
    kappa, eps = 10.0, 1e-6
    p = qsp.inverse_polynomial(kappa, eps)
    x = np.concatenate([np.linspace(-1, -1 / kappa, 500), np.linspace(1 / kappa, 1, 500)])
    assert p.parity == 1 and qsp.max_abs(p) <= 0.9 + 1e-12
    assert np.abs(p(x) - p.scale / (kappa * x)).max() <= 1.01 * eps * p.scale + 1e-12


def test_threshold_and_shifted_sign():
    t = qsp.threshold_polynomial(240, delta=30, width=0.4)
    assert t.parity == 0 and abs(t(0.0) - 0.9) < 1e-6 and abs(t(0.9)) < 1e-6
    s = qsp.shifted_sign_polynomial(120, delta=15, shift=-0.2)
    assert s.parity is None and s(0.3) > 0.89 and s(-0.7) < -0.89


# --- symmetric QSP angles --------------------------------------------------------------------
@pytest.mark.parametrize("degree, delta", [(21, 5), (81, 20), (161, 20), (321, 40)])
def test_engine_realises_the_polynomial_to_1e12(degree, delta):
    p = qsp.sign_polynomial(degree, delta)
    phases = qsp.angles(p)
    u00 = Simulator().statevector(qsp.qsp_circuit(phases), x=A_GRID[:, None])[:, 0]
    assert np.abs(u00.imag - p(A_GRID)).max() <= 1e-12


def test_degree_1001_to_1e10():
    p = qsp.sign_polynomial(1001, 100)
    phases, info = qsp.angles(p, return_info=True)
    assert info["iterations"] <= 12
    u00 = Simulator().statevector(qsp.qsp_circuit(phases), x=A_GRID[:, None])[:, 0]
    assert np.abs(u00.imag - p(A_GRID)).max() <= 1e-10


@pytest.mark.parametrize("degree, delta", [(21, 5), (41, 10), (81, 20)])
def test_angles_equal_pyqsp_sym_qsp(degree, delta):
    pytest.importorskip("pyqsp")
    p = qsp.sign_polynomial(degree, delta)
    assert np.abs(qsp.angles(p) - pyqsp_sym_phases(p.coef)).max() < 1e-10


def test_even_polynomials_and_the_numpy_reference():
    p = qsp.threshold_polynomial(40, delta=10)
    phases = qsp.angles(p)
    assert np.allclose(phases, phases[::-1])
    assert np.abs(qsp.qsp_response(phases, A_GRID).imag - p(A_GRID)).max() < 1e-12
    # the NumPy response agrees with the dense product of the defining matrices
    a = 0.37
    w = np.array([[a, 1j * math.sqrt(1 - a * a)], [1j * math.sqrt(1 - a * a), a]])
    u = np.diag(np.exp(1j * phases[0] * np.array([1, -1])))
    for phi in phases[1:]:
        u = u @ w @ np.diag(np.exp(1j * phi * np.array([1, -1])))
    assert np.abs(qsp.qsp_unitary(phases, [a])[0] - u).max() < 1e-13


def test_conventions_match_pennylane():
    qml = pytest.importorskip("pennylane")
    p = qsp.sign_polynomial(21, 6)
    phases = qsp.angles(p)
    real = qsp.convert_phases(phases, "Wx", "Wx-real")
    assert np.allclose(qml.transform_angles(real, "QSP", "QSVT"), qsp.convert_phases(phases, "Wx", "pennylane-qsvt"))
    for name in qsp.CONVENTIONS:
        assert np.allclose(qsp.convert_phases(qsp.convert_phases(phases, "Wx", name), name, "Wx"), phases)
    # Wx-real: Re <0|U|0> = P (PennyLane's QSP convention)
    assert np.abs(qsp.qsp_response(real, A_GRID).real - p(A_GRID)).max() < 1e-12


def test_same_phases_through_pennylane_qsvt_and_our_qsvt():
    qml = pytest.importorskip("pennylane")
    rng = np.random.default_rng(3)
    a = random_hermitian(4, rng, norm=1.0).real
    p = qsp.sign_polynomial(31, 8)
    phases = qsp.angles(p)
    op = qml.BlockEncode(a, wires=[0, 1, 2])
    # the normalisation trap: BlockEncode divides by its own norm, not the spectral norm
    norm = op.hyperparameters["norm"]
    assert norm > 1
    projectors = [qml.PCPhase(phi, dim=4, wires=[0, 1, 2]) for phi in qsp.convert_phases(phases, "Wx", "pennylane-qsvt")]
    pl_block = qml.matrix(qml.QSVT(op, projectors), wire_order=[0, 1, 2])[:4, :4]
    ours = engine_block(qsp.qsvt(qsp.block_encode_matrix(a, scale=norm), phases), 1)
    expected = apply_function(a / norm, p)
    assert np.abs(pl_block.real - expected).max() < 1e-12
    assert np.abs(ours.imag - expected).max() < 1e-12


# --- GQSP --------------------------------------------------------------------------------------
@pytest.mark.parametrize("degree", [1, 7, 60, 200])
def test_gqsp_block_is_the_polynomial_of_a_random_unitary(degree):
    rng = np.random.default_rng(degree)
    coef = rng.normal(size=degree + 1) + 1j * rng.normal(size=degree + 1)
    z = np.exp(2j * np.pi * np.arange(1 << 14) / (1 << 14))
    coef *= 0.95 / np.abs(np.polynomial.polynomial.polyval(z, coef)).max()
    m = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    u, _ = np.linalg.qr(m)
    values, vectors = np.linalg.eig(u)
    expected = vectors @ np.diag(np.polynomial.polynomial.polyval(values, coef)) @ np.linalg.inv(vectors)
    angles = qsp.gqsp_angles(coef)
    assert np.abs(qsp.gqsp_matrix(angles, u)[:4, :4] - expected).max() < 1e-10
    if degree <= 60:  # the circuit on the engine
        assert np.abs(engine_block(qsp.gqsp(u, angles), 1) - expected).max() < 1e-10


def test_gqsp_circuit_equals_pennylane_gqsp():
    qml = pytest.importorskip("pennylane")
    coef = np.array([0.1, 0.2j, 0.3, -0.1])
    angles = qsp.gqsp_angles(coef)
    unitary = qml.RX(0.3, wires=1)
    pl = qml.matrix(qml.GQSP(unitary, angles, control=0), wire_order=[0, 1])
    assert np.abs(dense_unitary(qsp.gqsp(qml.matrix(unitary), angles)) - pl).max() < 1e-12


def test_complementary_polynomial_is_complementary():
    rng = np.random.default_rng(0)
    coef = rng.normal(size=101) + 1j * rng.normal(size=101)
    z = np.exp(2j * np.pi * np.arange(1 << 14) / (1 << 14))
    coef *= 0.99 / np.abs(np.polynomial.polynomial.polyval(z, coef)).max()
    q = qsp.complementary_polynomial(coef)
    total = np.abs(np.polynomial.polynomial.polyval(z, coef)) ** 2 + np.abs(np.polynomial.polynomial.polyval(z, q)) ** 2
    assert q.size == coef.size and np.abs(total - 1).max() < 1e-12


# --- block encodings, walk, Hamiltonian simulation ---------------------------------------------------
def test_block_encodings():
    rng = np.random.default_rng(1)
    a = random_hermitian(8, rng)
    be = qsp.block_encode_matrix(a)
    assert np.abs(engine_block(be.circuit, 1) - a).max() < 1e-13 and be.hermitian
    h = tfim(3, h=0.7)
    lcu = qsp.block_encode_pauli_sum(h)
    u = dense_unitary(lcu.circuit)
    assert np.abs(u - u.conj().T).max() < 1e-13 and lcu.scale == pytest.approx(2 * 1 + 3 * 0.7)
    assert np.abs(engine_block(lcu.circuit, lcu.num_ancillas) * lcu.scale - h.matrix(3)).max() < 1e-13


def test_walk_operator_spectrum_is_arccos_of_the_energies():
    h = heisenberg_xxz(2, delta=0.5) + 0.3 * tfim(2)
    lcu = qsp.block_encode_pauli_sum(h)
    w = dense_unitary(qsp.walk_operator(lcu))
    phases = np.sort(np.abs(np.angle(np.linalg.eigvals(w))))
    expected = np.arccos(np.clip(np.linalg.eigvalsh(h.matrix(2)) / lcu.scale, -1, 1))
    for theta in expected:  # every energy appears as a walk eigenphase +-arccos(E / lambda)
        assert np.abs(phases - theta).min() < 1e-8


def test_qsvt_polynomial_block_is_p_of_a():
    rng = np.random.default_rng(2)
    a = random_hermitian(4, rng)
    p = qsp.erf_polynomial(25, 4)
    be = qsp.qsvt_polynomial(qsp.block_encode_matrix(a), qsp.angles(p))
    assert np.abs(engine_block(be.circuit, be.num_ancillas) - apply_function(a, p)).max() < 1e-12


@pytest.mark.parametrize("order", [1, 2, 4])
def test_trotter_error_falls_at_its_order(order):
    from scipy.linalg import expm

    h = heisenberg_xxz(3, delta=0.7, h=0.3)
    exact = expm(-1j * 0.8 * h.matrix(3))
    errors = [np.linalg.norm(dense_unitary(qsp.trotter(h, 0.8, steps, order)) - exact, 2) for steps in (4, 8)]
    assert math.log2(errors[0] / errors[1]) == pytest.approx(order, abs=0.25)


def test_trotter_on_the_engine_against_expm():
    from scipy.linalg import expm

    h = tfim_2d(2, 2, h=0.5)
    state = Simulator().statevector(qsp.trotter(h, 0.5, steps=20, order=4))
    exact = expm(-1j * 0.5 * h.matrix(4))[:, 0]
    assert abs(abs(np.vdot(exact, state)) - 1) < 1e-9


def test_qubitization_evolution_against_expm():
    from scipy.linalg import expm

    h = tfim(2, h=0.6)
    be = qsp.qubitization_evolution(h, 0.7)
    block = engine_block(be.circuit, be.num_ancillas) * be.scale
    assert np.abs(block - expm(-0.7j * h.matrix(2))).max() < 1e-9


def test_templates_match_their_definitions():
    n = 4
    expected = -sum(np.kron(np.kron(np.eye(2**i), pauli_matrix("ZZ")), np.eye(2 ** (n - i - 2))) for i in range(n - 1))
    expected = expected - 0.5 * sum(np.kron(np.kron(np.eye(2**i), pauli_matrix("X")), np.eye(2 ** (n - i - 1))) for i in range(n))
    assert np.allclose(tfim(n, h=0.5).matrix(n), expected)
    assert len(tfim(n, periodic=True).terms) == 2 * n
    assert len(heisenberg_xxz(n, periodic=True).terms) == 3 * n
    assert len(tfim_2d(3, 3, periodic=True).terms) == 18 + 9


# --- bad input -------------------------------------------------------------------------------------
def test_errors_say_what_to_change():
    with pytest.raises(ValueError, match="scale the polynomial by"):
        qsp.angles(Chebyshev([0.0, 1.2]))
    with pytest.raises(ValueError, match="GQSP for mixed parity|gqsp_angles"):
        qsp.angles(Chebyshev([0.1, 0.5]))
    with pytest.raises(ValueError, match="odd degree|odd"):
        qsp.sign_polynomial(40, 10)
    with pytest.raises(ValueError, match="pass scale="):
        qsp.block_encode_matrix(np.diag([2.0, 0.5]))
    with pytest.raises(ValueError, match="power of two"):
        qsp.block_encode_matrix(np.eye(3) * 0.5)
    with pytest.raises(ValueError, match="Hermitian"):
        qsp.qsvt(qsp.block_encode_matrix(np.array([[0, 0.5], [0, 0]])), [0.1, 0.1])
    with pytest.raises(ValueError, match="scale the polynomial by"):
        qsp.gqsp_angles(np.array([0.8, 0.8]))
    with pytest.raises(qsp.AngleFindingError, match="scale the polynomial"):
        qsp.angles(qsp.sign_polynomial(101, 30, max_scale=1.0 - 1e-15), max_iter=2)
    with pytest.raises(ValueError, match="convention"):
        qsp.convert_phases([0.1], "Wx", "Wy")


# --- export -------------------------------------------------------------------------------------------
def test_qsp_circuits_export_to_qiskit_and_pennylane():
    qml = pytest.importorskip("pennylane")
    from qiskit.quantum_info import Statevector

    from qmlsim.circuits.convert import parameter_values, reverse_bit_order, to_pennylane, to_qiskit

    p = qsp.sign_polynomial(15, 4)
    c = qsp.qsp_circuit(qsp.angles(p))
    a = 0.42
    qc = to_qiskit(c)
    qiskit_state = Statevector(qc.assign_parameters(parameter_values(qc, x=[a])[0])).data
    assert abs(qiskit_state[0].imag - p(a)) < 1e-12

    ops = to_pennylane(c, x=[a])  # built outside the QNode: creating an op inside one queues it

    @qml.qnode(qml.device("default.qubit", wires=1))
    def state():
        for op in ops:
            qml.apply(op)
        return qml.state()

    assert abs(state()[0].imag - p(a)) < 1e-12
    # a GQSP circuit on a 2-qubit unitary: Qiskit's statevector equals the engine's
    rng = np.random.default_rng(5)
    u, _ = np.linalg.qr(rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))
    g = qsp.gqsp(u, qsp.gqsp_angles(np.array([0.3, -0.2j, 0.25])))
    engine = Simulator().statevector(g)
    assert np.abs(reverse_bit_order(Statevector(to_qiskit(g)).data, g.num_wires) - engine).max() < 1e-12


def test_wz_convention_holds_the_polynomial_in_plus_plus():
    p = qsp.sign_polynomial(11, 3)
    phases = qsp.convert_phases(qsp.angles(p), "Wx", "Wz")
    hadamard = np.array([[1, 1], [1, -1]]) / math.sqrt(2)
    for a in (-0.8, 0.1, 0.65):
        theta = math.acos(a)
        u = np.diag(np.exp(1j * phases[0] * np.array([1, -1])))
        u = hadamard @ u @ hadamard  # e^{i phi X}
        signal = np.diag(np.exp(1j * theta * np.array([1, -1])))  # e^{i arccos(a) Z}
        for phi in phases[1:]:
            u = u @ signal @ hadamard @ np.diag(np.exp(1j * phi * np.array([1, -1]))) @ hadamard
        plus = np.array([1, 1]) / math.sqrt(2)
        assert abs(np.vdot(plus, u @ plus).imag - p(a)) < 1e-12


@pytest.mark.parametrize("num_wires", [2, 6, pytest.param(10, marks=pytest.mark.slow)])
def test_trotter_evolution_on_the_engine_against_expm_by_size(num_wires):
    from scipy.linalg import expm

    h = heisenberg_xxz(num_wires, delta=0.5, h=0.2) + 0.3 * tfim(num_wires)
    state = Simulator().statevector(qsp.trotter(h, 0.4, steps=8, order=4))
    exact = expm(-0.4j * h.matrix(num_wires))[:, 0]
    assert 1 - abs(np.vdot(exact, state)) < 1e-7


def test_pennylane_qsvt_and_gqsp_templates_from_our_phases():
    qml = pytest.importorskip("pennylane")
    from qmlsim.circuits.convert import to_pennylane_gqsp, to_pennylane_qsvt

    rng = np.random.default_rng(11)
    a = random_hermitian(4, rng, norm=0.5).real
    p = qsp.erf_polynomial(19, 4)
    phases = qsp.angles(p)
    block = qml.matrix(to_pennylane_qsvt(a, phases, wires=[0, 1, 2]), wire_order=[0, 1, 2])[:4, :4]
    ours = engine_block(qsp.qsvt(qsp.block_encode_matrix(a), phases), 1)
    assert np.abs(block.real - apply_function(a, p)).max() < 1e-12
    assert np.abs(block.real - ours.imag).max() < 1e-12
    with pytest.raises(ValueError, match="divide the matrix"):
        to_pennylane_qsvt(np.full((2, 2), 0.6), phases, wires=[0, 1])
    u = qsp.trotter(tfim(2), 0.3, steps=2)
    angles = qsp.gqsp_angles(np.array([0.2, 0.3j, -0.25]))
    pl = qml.matrix(to_pennylane_gqsp(u, angles, control=0), wire_order=[0, 1, 2])
    assert np.abs(pl - dense_unitary(qsp.gqsp(u, angles))).max() < 1e-12
