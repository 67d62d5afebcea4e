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


def _real_and_complex_hamiltonians():
    from qmlsim.circuits.templates import tfim

    return {
        # real: flips of bit 0 alone (runs of 1 amplitude) and with bit 1, varying XX+YY groups,
        # a flip of bit 11 (a whole 2,048-amplitude block), the diagonal
        "xxz": heisenberg_xxz(12, delta=0.4) + 0.3 * X(0) - 0.2 * X(1) @ X(0) + 0.5 * X(11) - 0.7 * Z(4),
        # real, every group but the diagonal one number
        "tfim": tfim(12, h=0.7),
        # real, a constant diagonal (the shift alone): the mask-0 group is one number
        "fields": 0.6 * X(0) + 0.4 * X(5) @ X(2),
        # complex: Y terms with an odd number of Ys
        "complex": heisenberg_xxz(12, delta=0.4) + 0.3 * Y(1) @ X(3) + 0.2 * X(0) @ Y(2) @ Z(3),
    }


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("coefficient", [0.3, 0.3 - 0.1j])
@pytest.mark.parametrize("name", ["xxz", "tfim", "fields", "complex"])
def test_pauli_sum_operator_products_and_chebyshev_steps(threads, coefficient, name):
    """Every branch against scipy's CSR product of the sparse matrix (checked against dense matrices above):
    the real kernel (a real H and a real coefficient, any thread count), the complex kernel (2 threads) and
    the CSR product (a complex step on 1 thread). 12 wires: two blocks of 2,048 amplitudes."""
    import numba

    from qmlsim.simulators.sparse import PauliSumOperator

    if threads > numba.config.NUMBA_NUM_THREADS:
        pytest.skip("one numba thread on this machine")
    obs = _real_and_complex_hamiltonians()[name]
    reference = 0.2 * sparse_matrix(obs, 12) - 0.25 * _identity(12)
    rng = np.random.default_rng(threads)
    psi, previous = (rng.normal(size=4096) + 1j * rng.normal(size=4096) for _ in range(2))
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        op = PauliSumOperator(obs, 12, scale=0.2, shift=-0.25)
        real, complex_, csr = op._kernels[1], op._kernels[0], None
        expected = real if name != "complex" and coefficient.imag == 0 else complex_ if threads > 1 else csr
        assert op._kernel(complex(coefficient)) is expected
        product = op @ psi
        out = np.full(4096, 0.5 + 0j)
        following = op.chebyshev_step(psi, previous, coefficient, out)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_allclose(product, reference @ psi, atol=1e-12)
    np.testing.assert_allclose(following, 2 * (reference @ psi) - previous, atol=1e-12)
    np.testing.assert_allclose(out, 0.5 + coefficient * (2 * (reference @ psi) - previous), atol=1e-12)
    if name == "tfim":
        assert op.varying.dtype == np.float64 and op.varying_masks.size == 1 and op.constant_masks.size == 12
    if name == "fields":
        assert op.varying_masks.size == 0 and 0 in op.constant_masks


def _identity(n):
    from scipy import sparse

    return sparse.identity(2**n, format="csr")
