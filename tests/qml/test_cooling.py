"""Dynamical cooling (inferred protocol) and the ground-state baselines, against scipy.linalg.expm and closed forms."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.special import erf

from qmlsim.circuits.templates import heisenberg_xxz, tfim
from qmlsim.qml.cooling import PROTOCOL_LABEL, default_perturbation, dynamical_cooling
from qmlsim.qml.ground_state import adiabatic_preparation, eigenstate_filtering, vqe


def reference_cooling(h, v, steps, coupling, eps, mus, psi):
    """The protocol written out with expm (the spec's script), independent of the module."""
    energies, vectors = np.linalg.eigh(h)
    lam = coupling / math.sqrt(steps)
    for mu in mus:
        transformed = (vectors * erf((energies - mu) / eps)) @ vectors.conj().T
        psi = expm(-1j / lam * (transformed + lam * v)) @ psi
    return psi


def test_matches_the_protocol_written_with_expm():
    h = tfim(4, h=0.8).matrix(4)
    v = default_perturbation(4).matrix(4)
    result = dynamical_cooling(tfim(4, h=0.8), steps=8, coupling=1.5)
    psi0 = np.zeros(16, complex)
    psi0[0] = 1
    expected = reference_cooling(h, v, 8, 1.5, result.sign_width, result.mu_schedule, psi0)
    assert np.abs(result.state - expected).max() < 1e-9
    energies = np.linalg.eigvalsh(h)
    assert result.sign_width == pytest.approx(0.025 * (energies[-1] - energies[0]))
    assert result.mu_schedule[0] == pytest.approx(energies[-1] + 1) and result.mu_schedule[-1] == pytest.approx(
        (energies[0] + energies[1]) / 2
    )
    assert result.label == PROTOCOL_LABEL and "inferred" in result.label
    assert result.energies.shape == result.fidelities.shape == (9,)
    assert result.energies[-1] == pytest.approx(float(np.vdot(expected, h @ expected).real))


def test_cooling_tfim6_reaches_the_spec_fidelity():
    result = dynamical_cooling(tfim(6, h=1.0), steps=64, coupling=1.0)
    assert result.fidelities[0] == pytest.approx(0.160, abs=1e-3)  # |0...0> overlap, spec 0.160
    assert result.fidelities[-1] >= 0.75  # spec: 0.825
    assert result.energies[-1] < result.energies[0]
    assert result.queries["V"] == math.ceil(64 * math.sqrt(64))  # d^{3/2} / c


def test_band_conservation_leakage_is_order_lambda_squared():
    h_obs = heisenberg_xxz(4, delta=0.6)
    h = h_obs.matrix(4)
    energies, vectors = np.linalg.eigh(h)
    eps = 0.025 * (energies[-1] - energies[0])
    mu = energies[0] + 3 * eps + 0.5 * (energies[-1] - energies[0])
    below = np.flatnonzero(energies < mu - 3 * eps)
    lam = 0.05
    result = dynamical_cooling(
        h_obs, steps=1, coupling=lam, mu_schedule=[mu], initial_state=vectors[:, below[-1]], sign_width=eps
    )
    leaked = float(np.sum(np.abs(vectors[:, energies > mu].conj().T @ result.state) ** 2))
    assert leaked < 5 * lam**2


@pytest.mark.slow
def test_cooling_tfim8_improves_with_steps():
    fidelities = []
    for steps in (16, 64, 256):
        result = dynamical_cooling(tfim(8, h=1.0), steps=steps, coupling=2.0)
        fidelities.append(result.fidelities[-1])
    assert fidelities[0] < fidelities[1] < fidelities[2]
    assert fidelities[2] >= 0.95  # spec: 0.984
    assert result.energies[-1] <= result.ground_energy + 0.1


def test_baselines_against_closed_forms():
    h_obs = tfim(5, h=0.9)
    h = h_obs.matrix(5)
    energies, vectors = np.linalg.eigh(h)
    overlap = abs(vectors[0, 0]) ** 2  # <E0|0...0>
    sharp = eigenstate_filtering(h_obs, degree=600)
    assert sharp.fidelity > 1 - 1e-8
    assert sharp.cost["success_probability"] == pytest.approx(overlap, rel=1e-4)  # an ideal projector
    slow, fast = adiabatic_preparation(h_obs, 200.0), adiabatic_preparation(h_obs, 5.0)
    assert slow.fidelity > 0.99 and slow.fidelity > fast.fidelity
    assert slow.energy_error == pytest.approx(float(np.vdot(slow.state, h @ slow.state).real) - energies[0])


def test_vqe_lowers_the_energy():
    h_obs = tfim(3, h=1.0)
    result = vqe(h_obs, layers=2, steps=120)
    start_energy = float(np.linalg.eigvalsh(h_obs.matrix(3))[0])
    assert 0 <= result.energy_error < 0.1 and result.fidelity > 0.9
    assert result.energy_error + start_energy == pytest.approx(
        float(np.vdot(result.state, h_obs.matrix(3) @ result.state).real)
    )


def test_bad_input_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="Hermitian"):
        dynamical_cooling(np.array([[0, 1], [0, 0]]))
    with pytest.raises(ValueError, match=r"\|\|V\|\| = 1"):
        dynamical_cooling(tfim(3), perturbation=5 * default_perturbation(3))
    with pytest.raises(ValueError, match="mu_schedule"):
        dynamical_cooling(tfim(3), steps=2, mu_schedule=[100.0, 0.0])
    with pytest.raises(ValueError, match="sign_width"):
        dynamical_cooling(tfim(3), sign_width=1e-7)
    with pytest.raises(ValueError, match="one threshold per step"):
        dynamical_cooling(tfim(3), steps=4, mu_schedule=[0.0])


@pytest.mark.parametrize("num_wires, steps", [(4, 4), pytest.param(6, 16, marks=pytest.mark.slow)])
def test_circuit_method_agrees_with_dense(num_wires, steps):
    h = tfim(num_wires, h=1.0)
    dense = dynamical_cooling(h, steps=steps)
    circuit = dynamical_cooling(h, steps=steps, method="circuit")
    infidelity = 1 - abs(np.vdot(dense.state, circuit.state)) ** 2
    assert infidelity < 1e-3
    # a projector's expectation differs by at most the trace distance sqrt(1 - |<a|b>|^2)
    assert abs(circuit.fidelities[-1] - dense.fidelities[-1]) <= math.sqrt(infidelity) + 1e-12
    # the GQSP slice is an ordinary circuit: its size and query counts are reported, and it exports
    assert circuit.circuit.num_wires == num_wires + 1
    assert circuit.queries["exp(-iH)"] == steps * circuit.trotter_slices * circuit.sign_degree
    assert 0.9 < circuit.success_probability <= 1.0  # the GQSP block is ~0.99 times a unitary
    from qmlsim.circuits.convert import to_qiskit

    assert to_qiskit(circuit.circuit).num_qubits == num_wires + 1


def test_circuit_method_needs_pauli_sums():
    with pytest.raises(ValueError, match="Pauli-sum"):
        dynamical_cooling(tfim(3).matrix(3), steps=2, method="circuit")


def _start(n):
    psi = np.zeros(2**n, complex)
    psi[0] = 1
    return psi


def test_matrix_free_dense_method_matches_expm(monkeypatch):
    """Above the eigendecomposition limit the dense method runs Chebyshev series in sparse H: forced here at 6 wires."""
    from qmlsim.qml import cooling

    monkeypatch.setattr(cooling, "_EIG_LIMIT", 4)
    h_obs = heisenberg_xxz(6, delta=0.5)
    result = dynamical_cooling(h_obs, steps=6, coupling=1.2)
    expected = reference_cooling(
        h_obs.matrix(6), default_perturbation(6).matrix(6), 6, 1.2, result.sign_width, result.mu_schedule, _start(6)
    )
    assert np.abs(result.state - expected).max() < 1e-8
    assert result.ground_energy == pytest.approx(np.linalg.eigvalsh(h_obs.matrix(6))[0], abs=1e-9)


@pytest.mark.slow
def test_matrix_free_at_eleven_wires_matches_expm():
    h_obs = tfim(11, h=1.0)
    result = dynamical_cooling(h_obs, steps=3)
    expected = reference_cooling(
        h_obs.matrix(11), default_perturbation(11).matrix(11), 3, 1.0, result.sign_width, result.mu_schedule, _start(11)
    )
    assert np.abs(result.state - expected).max() < 1e-8
