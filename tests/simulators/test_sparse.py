"""Observables as sparse matrices, against Observable.matrix (Kronecker products of Pauli matrices)."""
from __future__ import annotations

import numpy as np
import pytest

from qmlsim.circuits import Hermitian, X, Y, Z
from qmlsim.circuits.templates import heisenberg_xxz, tfim_2d
from qmlsim.simulators.sparse import sparse_matrix
from tests.reference import random_observable, random_unitary


@pytest.mark.parametrize("seed", range(6))
def test_random_observables(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 6))
    obs = random_observable(rng, n)
    assert np.abs(sparse_matrix(obs, n).toarray() - obs.matrix(n)).max() < 1e-12


def test_models_and_hermitian_terms_on_any_wires():
    rng = np.random.default_rng(1)
    u = random_unitary(4, rng)
    h = u @ np.diag([1.0, -0.5, 0.25, 2.0]) @ u.conj().T
    obs = heisenberg_xxz(4, delta=0.3) + 0.7 * Hermitian(h, [3, 1]) + Y(0) @ Z(2) - 0.2 * X(3)
    assert np.abs(sparse_matrix(obs, 4).toarray() - obs.matrix(4)).max() < 1e-12
    lattice = tfim_2d(2, 3)
    assert np.abs(sparse_matrix(lattice, 6).toarray() - lattice.matrix(6)).max() < 1e-12


def test_too_few_wires_is_refused():
    with pytest.raises(ValueError, match="num_wires must be at least 3"):
        sparse_matrix(Z(2), 2)


@pytest.mark.parametrize("threads", [1, 2])
def test_pauli_sum_operator_products_and_chebyshev_steps(threads):
    """Both branches: the fused numba step (2 threads) and the CSR product (1 thread), against dense matrices."""
    import numba

    from qmlsim.simulators.sparse import PauliSumOperator

    if threads > numba.config.NUMBA_NUM_THREADS:
        pytest.skip("one numba thread on this machine")
    rng = np.random.default_rng(threads)
    obs = heisenberg_xxz(5, delta=0.4) + 0.3 * Y(1) @ X(3) - 0.7 * Z(4) + 0.2 * X(0) @ Y(2) @ Z(3)
    dense = 0.4 * obs.matrix(5) - 0.25 * np.eye(32)
    psi, previous = (rng.normal(size=32) + 1j * rng.normal(size=32) for _ in range(2))
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        op = PauliSumOperator(obs, 5, scale=0.4, shift=-0.25)
        assert op._parallel() == (threads > 1)
        np.testing.assert_allclose(op @ psi, dense @ psi, atol=1e-13)
        out = np.full(32, 0.5 + 0j)
        following = op.chebyshev_step(psi, previous, 0.3 - 0.1j, out)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_allclose(following, 2 * dense @ psi - previous, atol=1e-13)
    np.testing.assert_allclose(out, 0.5 + (0.3 - 0.1j) * (2 * dense @ psi - previous), atol=1e-13)


def test_chebyshev_step_of_a_real_hamiltonian_over_several_blocks():
    """A TFIM (real; every group but the diagonal one number) on 12 wires: two blocks of the fused kernel,
    against scipy's CSR product of the sparse matrix (itself checked against dense matrices above)."""
    import numba

    from qmlsim.circuits.templates import tfim
    from qmlsim.simulators.sparse import PauliSumOperator

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one numba thread on this machine")
    obs = tfim(12, h=0.7)
    op = PauliSumOperator(obs, 12, scale=0.2, shift=0.1)
    assert op.varying.dtype == np.float64 and op.varying_masks.size == 1 and op.constant_masks.size == 12
    reference = 0.2 * sparse_matrix(obs, 12) + 0.1 * _identity(12)
    rng = np.random.default_rng(3)
    psi, previous = (rng.normal(size=4096) + 1j * rng.normal(size=4096) for _ in range(2))
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        out = np.zeros(4096, complex)
        following = op.chebyshev_step(psi, previous, 0.5j, out)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_allclose(following, 2 * (reference @ psi) - previous, atol=1e-12)
    np.testing.assert_allclose(out, 0.5j * following, atol=1e-12)


def _identity(n):
    from scipy import sparse

    return sparse.identity(2**n, format="csr")
