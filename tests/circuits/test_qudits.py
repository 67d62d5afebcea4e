"""Qudit registers on qubits: each gate against an independently built matrix and run through the engine."""
from __future__ import annotations

import math

import numpy as np
import pytest

from qmlsim.circuits import Circuit
from qmlsim.circuits.qudits import (
    controlled_inverse_multiply_matrix,
    dft_matrix,
    modular_add_matrix,
    modular_multiply_matrix,
    phase_matrix,
    register_wires,
    uniform_nonzero_matrix,
)
from qmlsim.simulators import Simulator

PRIMES = (3, 5, 7, 11, 13)


def _basis(dim, index):
    e = np.zeros(dim, complex)
    e[index] = 1
    return e


@pytest.mark.parametrize("p", PRIMES)
def test_single_register_gates(p):
    k = register_wires(p)
    dim = 1 << k
    assert k == math.ceil(math.log2(p))
    fourier = np.fft.fft(np.eye(p)) / math.sqrt(p)  # numpy's DFT: e^{-2 pi i j x / P}
    np.testing.assert_allclose(dft_matrix(p)[:p, :p], fourier, atol=1e-12)
    np.testing.assert_allclose(dft_matrix(p, inverse=True)[:p, :p], fourier.conj(), atol=1e-12)
    rng = np.random.default_rng(p)
    phases = np.exp(2j * np.pi * rng.random(p))
    gates = [dft_matrix(p), modular_add_matrix(p, 3), modular_multiply_matrix(p, 2), phase_matrix(p, phases),
             uniform_nonzero_matrix(p)]
    for u in gates:
        np.testing.assert_allclose(u.conj().T @ u, np.eye(dim), atol=1e-12)
        np.testing.assert_allclose(u[p:, :], np.eye(dim)[p:, :], atol=1e-12)  # padding states untouched
        np.testing.assert_allclose(u[:, p:], np.eye(dim)[:, p:], atol=1e-12)
    sim = Simulator()
    for x in range(p):  # through the engine: the register's first wire is the value's top bit
        for matrix, target in ((modular_add_matrix(p, 3), (x + 3) % p), (modular_multiply_matrix(p, 2), (2 * x) % p)):
            c = Circuit(k)
            c.unitary(matrix, list(range(k)))
            np.testing.assert_allclose(sim.statevector(c, initial_state=_basis(dim, x)), _basis(dim, target), atol=1e-12)
    state = uniform_nonzero_matrix(p)[:, 0]
    np.testing.assert_allclose(state[:p], np.r_[0, np.full(p - 1, 1 / math.sqrt(p - 1))], atol=1e-12)


@pytest.mark.parametrize("p", PRIMES)
def test_controlled_inverse_multiplication(p):
    k = register_wires(p)
    dim = 1 << k
    u = controlled_inverse_multiply_matrix(p)
    sim = Simulator()
    c = Circuit(2 * k)
    c.unitary(u, list(range(2 * k)))
    rng = np.random.default_rng(p)
    for x, w in [(int(rng.integers(p)), int(rng.integers(1, p))) for _ in range(6)] + [(3 % p, 0), (p - 1, dim - 1)]:
        expected = (x * pow(w, -1, p)) % p if 1 <= w < p else x
        got = sim.statevector(c, initial_state=_basis(dim * dim, x * dim + w))
        np.testing.assert_allclose(got, _basis(dim * dim, expected * dim + w), atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="not invertible"):
        modular_multiply_matrix(9, 3)
    with pytest.raises(ValueError, match="must be prime"):
        controlled_inverse_multiply_matrix(9)
    with pytest.raises(ValueError, match="modulus 1"):
        phase_matrix(5, [1, 2, 1, 1, 1])
    with pytest.raises(ValueError, match="integer >= 2"):
        dft_matrix(1)


@pytest.mark.parametrize("p", (5, 11))
def test_diagonal_block_encoding_and_phase_functions(p):
    from qmlsim.circuits.qudits import diagonal_block_encoding

    rng = np.random.default_rng(p)
    values = rng.uniform(0, 1, p) * np.exp(2j * np.pi * rng.random(p))
    u = diagonal_block_encoding(p, values)
    k = register_wires(p)
    np.testing.assert_allclose(u.conj().T @ u, np.eye(2 << k), atol=1e-12)
    np.testing.assert_allclose(np.diag(u[0::2, 0::2])[:p], values, atol=1e-12)  # ancilla |0> block (last wire)
    np.testing.assert_allclose(u[2 * p :, 2 * p :], np.eye((2 << k) - 2 * p), atol=1e-12)  # padding untouched
    np.testing.assert_allclose(phase_matrix(p, lambda x: np.exp(1j * x)), phase_matrix(p, np.exp(1j * np.arange(p))))
    with pytest.raises(ValueError, match=r"\|values\| <= 1"):
        diagonal_block_encoding(p, 2 * np.ones(p))


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_permutation_tables_run_on_the_permutation_kernel(backend):
    from qmlsim.simulators.backends import get_backend
    from qmlsim.simulators.program import KIND_PERMUTATION, compile_circuit

    p = 13
    m = register_wires(p)
    # (w, z) -> (w, w^-1 z mod p) on two registers of 4 wires, as a table written here
    table = np.arange(2 ** (2 * m))
    for w in range(1, p):
        for z in range(p):
            table[(w << m) | z] = (w << m) | (z * pow(w, -1, p) % p)
    rng = np.random.default_rng(13)
    start = rng.normal(size=2 ** (2 * m)) + 1j * rng.normal(size=2 ** (2 * m))
    start /= np.linalg.norm(start)
    c = Circuit(2 * m).permutation(table, range(2 * m))
    assert compile_circuit(c, get_backend(backend), "complex128").steps[0].kind == KIND_PERMUTATION
    got = np.asarray(Simulator(backend=backend).statevector(c, initial_state=start))
    expected = np.zeros_like(start)
    expected[table] = start  # |j> -> |table[j]>
    np.testing.assert_allclose(got, expected, atol=1e-14)
    # followed by its inverse, and with a control that is 0 then 1
    there_and_back = Circuit(2 * m).permutation(table, range(2 * m))
    there_and_back.compose(there_and_back.inverse())
    np.testing.assert_allclose(np.asarray(Simulator(backend=backend).statevector(there_and_back, initial_state=start)), start, atol=1e-14)
    controlled = Circuit(2 * m + 1).compose(c.controlled(1))
    for control in (0, 1):
        state = np.kron(np.eye(2)[control], start)
        out = np.asarray(Simulator(backend=backend).statevector(controlled, initial_state=state))
        np.testing.assert_allclose(out, np.kron(np.eye(2)[control], expected if control else start), atol=1e-14)
    with pytest.raises(ValueError, match="exactly once"):
        Circuit(1).permutation([0, 0], 0)
    with pytest.raises(ValueError, match="2 integers"):
        Circuit(1).permutation([0, 1, 2], 0)
