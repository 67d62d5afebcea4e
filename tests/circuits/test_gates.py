"""The gate table against hand-written matrices, Qiskit's and PennyLane's gate matrices, and finite differences.

Every test loops over ``GATES``, so a new gate is checked as soon as it has an entry.
"""
from __future__ import annotations

import numpy as np
import pytest

from qmlsim.circuits.gates import GATES
from tests import reference as ref

NAMES = sorted(GATES)
PARAMETRIC = [n for n in NAMES if GATES[n].num_params]
ATOL = 1e-12


def angles(name: str, rng: np.random.Generator, batch: int | None = None) -> list:
    shape = () if batch is None else (batch,)
    return [rng.uniform(-2 * np.pi, 2 * np.pi, shape) for _ in range(GATES[name].num_params)]


def matrix(name: str, params, dtype=np.complex128, xp=np):
    return np.asarray(GATES[name].matrix(params, xp, dtype))


def test_every_gate_has_a_reference():
    missing = set(GATES) - set(ref.DENSE_GATE_NAMES)
    assert not missing, f"add hand-written matrices for {missing} to tests/reference.py"


@pytest.mark.parametrize("name", NAMES)
def test_shape_wires_and_params_are_consistent(name):
    gate = GATES[name]
    rng = np.random.default_rng(1)
    m = matrix(name, angles(name, rng))
    assert m.shape == (2**gate.num_wires,) * 2
    assert gate.name == name
    assert 0 <= gate.num_controls < gate.num_wires


@pytest.mark.parametrize("name", NAMES)
def test_unitary(name):
    rng = np.random.default_rng(2)
    m = matrix(name, angles(name, rng, batch=4)) if GATES[name].num_params else matrix(name, [])[None]
    eye = np.eye(m.shape[-1])
    np.testing.assert_allclose(m @ np.conj(np.swapaxes(m, -1, -2)), np.broadcast_to(eye, m.shape), atol=ATOL)


@pytest.mark.parametrize("name", NAMES)
def test_matches_hand_written_matrix(name):
    rng = np.random.default_rng(3)
    for _ in range(3):
        params = [float(p) for p in angles(name, rng)]
        np.testing.assert_allclose(matrix(name, params), ref.dense_gate_matrix(name, params), atol=ATOL)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "rot"])
def test_matches_qiskit_matrix(name):
    rng = np.random.default_rng(4)
    params = [float(p) for p in angles(name, rng)]
    gate = ref.qiskit_gate(name, params)
    theirs = ref.to_big_endian_matrix(np.asarray(gate.to_matrix()), GATES[name].num_wires)
    np.testing.assert_allclose(matrix(name, params), theirs, atol=ATOL)
    assert GATES[name].qiskit_name == gate.name or (not GATES[name].qiskit_name and gate.name == "unitary")


def test_rot_matches_pennylane():
    import pennylane as qml

    rng = np.random.default_rng(5)
    for _ in range(3):
        phi, theta, omega = rng.uniform(-np.pi, np.pi, 3)
        theirs = qml.matrix(qml.Rot(phi, theta, omega, wires=0))
        np.testing.assert_allclose(matrix("rot", [phi, theta, omega]), theirs, atol=ATOL)


@pytest.mark.parametrize("name", PARAMETRIC)
def test_batched_equals_stacked_single(name):
    rng = np.random.default_rng(6)
    params = angles(name, rng, batch=5)
    batched = matrix(name, params)
    singles = np.stack([matrix(name, [p[i] for p in params]) for i in range(5)])
    assert batched.shape == singles.shape
    np.testing.assert_allclose(batched, singles, atol=ATOL)


@pytest.mark.parametrize("name", [n for n in PARAMETRIC if GATES[n].num_params > 1])
def test_mixed_scalar_and_batched_angles_broadcast(name):
    rng = np.random.default_rng(7)
    params = angles(name, rng, batch=4)
    params[0] = float(params[0][0])  # one scalar angle among batched ones
    batched = matrix(name, params)
    singles = np.stack([matrix(name, [p if np.ndim(p) == 0 else p[i] for p in params]) for i in range(4)])
    np.testing.assert_allclose(batched, singles, atol=ATOL)


@pytest.mark.parametrize("name", NAMES)
def test_complex64_and_jax(name):
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(8)
    params = angles(name, rng, batch=2)
    m64 = GATES[name].matrix(params, np, np.complex64)
    assert np.asarray(m64).dtype == np.complex64
    np.testing.assert_allclose(m64, matrix(name, params), atol=1e-6)
    with jax.enable_x64(True):  # scoped: a global switch would leak into other tests of this worker
        mj = np.asarray(GATES[name].matrix([jnp.asarray(p) for p in params], jnp, jnp.complex128))
    np.testing.assert_allclose(mj, matrix(name, params), atol=ATOL)


@pytest.mark.parametrize("name", PARAMETRIC)
def test_derivatives_match_finite_differences(name):
    gate = GATES[name]
    assert gate.derivatives is not None, f"{name} has angles but no derivative matrices"
    rng = np.random.default_rng(9)
    params = np.array([float(p) for p in angles(name, rng)])
    ours = gate.derivatives(list(params), np, np.complex128)
    assert len(ours) == gate.num_params
    fd = ref.finite_difference(lambda p: ref.dense_gate_matrix(name, p), params, eps=1e-6)
    for k in range(gate.num_params):
        np.testing.assert_allclose(np.asarray(ours[k]), fd[..., k], atol=1e-8)


@pytest.mark.parametrize("name", PARAMETRIC)
def test_batched_derivatives(name):
    gate = GATES[name]
    rng = np.random.default_rng(10)
    params = angles(name, rng, batch=3)
    batched = gate.derivatives(params, np, np.complex128)
    for k in range(gate.num_params):
        single = np.stack([np.asarray(gate.derivatives([p[i] for p in params], np, np.complex128)[k]) for i in range(3)])
        np.testing.assert_allclose(np.broadcast_to(np.asarray(batched[k]), single.shape), single, atol=ATOL)


@pytest.mark.parametrize("name", PARAMETRIC)
def test_generator_spectrum(name):
    """``i U^dagger dU/dtheta_k`` is the (conjugated) generator: its eigenvalues are the declared spectrum."""
    gate = GATES[name]
    assert len(gate.generator_spectrum) == gate.num_params
    rng = np.random.default_rng(11)
    params = np.array([float(p) for p in angles(name, rng)])
    u = ref.dense_gate_matrix(name, params)
    fd = ref.finite_difference(lambda p: ref.dense_gate_matrix(name, p), params, eps=1e-6)
    for k in range(gate.num_params):
        g = 1j * u.conj().T @ fd[..., k]
        np.testing.assert_allclose(g, g.conj().T, atol=1e-7)
        eig = np.unique(np.round(np.linalg.eigvalsh((g + g.conj().T) / 2), 6))
        declared = np.unique(np.round(np.asarray(gate.generator_spectrum[k], dtype=float), 6))
        np.testing.assert_allclose(eig, declared, atol=1e-6)


@pytest.mark.parametrize("name", [n for n in NAMES if GATES[n].diagonal is not None])
def test_diagonal_field_agrees_with_matrix(name):
    gate = GATES[name]
    rng = np.random.default_rng(12)
    params = angles(name, rng, batch=3) if gate.num_params else []
    m = matrix(name, params)
    d = np.asarray(gate.diagonal(params, np, np.complex128))
    np.testing.assert_allclose(np.broadcast_to(d, m.shape[:-1]), np.diagonal(m, axis1=-2, axis2=-1), atol=ATOL)
    off = m - np.einsum("...i,ij->...ij", np.diagonal(m, axis1=-2, axis2=-1), np.eye(m.shape[-1]))
    np.testing.assert_allclose(off, 0, atol=ATOL)


@pytest.mark.parametrize("name", ["z", "s", "sdg", "t", "tdg", "rz", "p", "cz", "crz", "cp", "rzz"])
def test_diagonal_gates_carry_the_fast_path(name):
    """Gates whose hand-written matrix is diagonal for every angle declare their diagonal."""
    rng = np.random.default_rng(13)
    m = ref.dense_gate_matrix(name, [float(p) for p in angles(name, rng)])
    assert np.allclose(m, np.diag(np.diagonal(m)))
    assert GATES[name].diagonal is not None


@pytest.mark.parametrize("name", [n for n in NAMES if GATES[n].permutation is not None])
def test_permutation_field_agrees_with_matrix(name):
    gate = GATES[name]
    assert gate.num_params == 0
    m = matrix(name, [])
    perm = np.asarray(gate.permutation)
    assert sorted(perm.tolist()) == list(range(m.shape[0]))
    # out[j] = in[perm[j]]  <=>  M[j, perm[j]] = 1
    expected = np.zeros_like(m)
    expected[np.arange(m.shape[0]), perm] = 1
    np.testing.assert_allclose(m, expected, atol=0)
    state = np.random.default_rng(14).normal(size=m.shape[0])
    np.testing.assert_allclose(m @ state, state[perm])


@pytest.mark.parametrize("name", [n for n in NAMES if GATES[n].base is not None])
def test_controlled_gates_equal_controlled_construction(name):
    gate = GATES[name]
    base = GATES[gate.base]
    assert gate.num_wires == base.num_wires + gate.num_controls
    assert gate.num_params == base.num_params
    rng = np.random.default_rng(15)
    params = [float(p) for p in angles(name, rng)]
    target = ref.dense_gate_matrix(gate.base, params)
    k = 2**gate.num_controls
    d = target.shape[0]
    expected = np.eye(k * d, dtype=complex)
    expected[-d:, -d:] = target
    np.testing.assert_allclose(matrix(name, params), expected, atol=ATOL)


def test_pennylane_names_exist():
    import pennylane as qml

    for name in [n for n in NAMES if GATES[n].pennylane_name]:
        pl_name = GATES[name].pennylane_name
        base = pl_name.removeprefix("Adjoint(").removesuffix(")")
        assert hasattr(qml, base), f"{name}: PennyLane has no {base}"
