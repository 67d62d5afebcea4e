"""The array kernels' fast paths against the generic matrix kernel and a dense np.kron reference."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from qmlsim.simulators import kernels


def random_state(rng, batch, n):
    s = rng.normal(size=(batch, 2**n)) + 1j * rng.normal(size=(batch, 2**n))
    s /= np.linalg.norm(s, axis=1, keepdims=True)
    return s.reshape((batch,) + (2,) * n)


def dense_on_wires(matrix, wires, n):
    """Embed a matrix on `wires` (first most significant) into n wires by permuting a kron product."""
    k = len(wires)
    rest = [w for w in range(n) if w not in wires]
    full = np.kron(matrix, np.eye(2 ** (n - k)))
    order = list(wires) + rest  # axis i of `full` is wire order[i]
    perm = np.argsort(order)
    t = full.reshape((2,) * (2 * n))
    t = t.transpose(list(perm) + [n + p for p in perm])
    return t.reshape(2**n, 2**n)


@pytest.mark.parametrize("wires", [(0,), (2,), (1, 3), (3, 0), (2, 0, 3)])
def test_generic_kernel_matches_dense_reference(wires):
    rng = np.random.default_rng(0)
    n = 4
    state = random_state(rng, 3, n)
    d = 2 ** len(wires)
    matrix = np.linalg.qr(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))[0]
    out = kernels.apply_matrix(state, matrix, wires, np).reshape(3, -1)
    expected = state.reshape(3, -1) @ dense_on_wires(matrix, wires, n).T
    np.testing.assert_allclose(out, expected, atol=1e-12)
    per_row = np.stack([matrix, matrix.conj(), matrix.T])
    out_rows = kernels.apply_matrix(state, per_row, wires, np).reshape(3, -1)
    for b in range(3):
        np.testing.assert_allclose(out_rows[b], dense_on_wires(per_row[b], wires, n) @ state[b].reshape(-1), atol=1e-12)


@pytest.mark.parametrize("wires", [(1,), (0, 2), (2, 0), (3, 1, 0)])
def test_diagonal_fast_path_equals_generic(wires):
    rng = np.random.default_rng(1)
    state = random_state(rng, 2, 4)
    d = 2 ** len(wires)
    diag = np.exp(1j * rng.normal(size=(2, d)))
    fast = kernels.apply_diagonal(state, diag, wires, np)
    generic = kernels.apply_matrix(state, np.stack([np.diag(v) for v in diag]), wires, np)
    np.testing.assert_allclose(fast, generic, atol=1e-13)
    shared = kernels.apply_diagonal(state, diag[0], wires, np)
    np.testing.assert_allclose(shared, kernels.apply_matrix(state, np.diag(diag[0]), wires, np), atol=1e-13)


@pytest.mark.parametrize("wires", [(0,), (1, 3), (3, 1), (0, 1, 2)])
def test_permutation_fast_path_equals_generic(wires):
    rng = np.random.default_rng(2)
    state = random_state(rng, 2, 4)
    d = 2 ** len(wires)
    perm = rng.permutation(d)
    fast = kernels.apply_permutation(state, perm, wires, np)
    generic = kernels.apply_matrix(state, np.eye(d)[perm], wires, np)
    np.testing.assert_allclose(fast, generic, atol=1e-14)


@pytest.mark.parametrize("controls, targets", [((0,), (2,)), ((3,), (0,)), ((1, 2), (0,)), ((2,), (3, 0))])
def test_controlled_fast_path_equals_dense_controlled_matrix(controls, targets):
    rng = np.random.default_rng(3)
    n = 4
    state = random_state(rng, 2, n)
    d = 2 ** len(targets)
    u = np.linalg.qr(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))[0]
    k = 2 ** len(controls)
    full = np.eye(k * d, dtype=complex)
    full[-d:, -d:] = u
    rel = kernels.relabel(targets, controls)
    fast = kernels.apply_controlled(
        state.copy(), lambda sub: kernels.apply_matrix(sub, u, rel, np), controls, lambda a, i, v: _set(a, i, v)
    )
    expected = state.reshape(2, -1) @ dense_on_wires(full, controls + targets, n).T
    np.testing.assert_allclose(fast.reshape(2, -1), expected, atol=1e-12)


def _set(array, index, value):
    array[index] = value
    return array


@pytest.mark.parametrize("word", [((0, "X"),), ((1, "Y"),), ((2, "Z"),), ((0, "Y"), (2, "X"), (3, "Z"))])
def test_pauli_word_application_matches_kron(word):
    paulis = {"X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1, -1])}
    rng = np.random.default_rng(4)
    n = 4
    state = random_state(rng, 2, n)
    factors = [np.eye(2)] * n
    for w, letter in word:
        factors[w] = paulis[letter]
    dense = factors[0]
    for f in factors[1:]:
        dense = np.kron(dense, f)
    out = kernels.apply_pauli_word(state, word, np).reshape(2, -1)
    np.testing.assert_allclose(out, state.reshape(2, -1) @ dense.T, atol=1e-13)


def test_wire_order_is_most_significant_first():
    x = np.array([[0, 1], [1, 0]], dtype=complex)
    for n, wire in itertools.product([3], range(3)):
        state = kernels.zero_state(1, n, np, np.complex128)
        out = kernels.apply_matrix(state, x, (wire,), np).reshape(-1)
        assert int(np.flatnonzero(out)[0]) == 2 ** (n - 1 - wire)


@pytest.mark.parametrize("real_state", [False, True])
@pytest.mark.parametrize("backend_name", ["numpy", "jax"])
def test_expvals_of_z_sums_and_mixed_observables_against_dense_matrices(backend_name, real_state):
    # Z-only observables go through one (2**n, k) sign matrix; others term by term; a real
    # state (a real circuit run in real arithmetic) must give the same values
    import jax

    from qmlsim.circuits import Hermitian, Observable, Z
    from qmlsim.simulators import measurements
    from qmlsim.simulators.backends import get_backend
    from tests import reference as ref

    rng = np.random.default_rng(11)
    n = 5
    state = random_state(rng, 3, n)
    if real_state:
        state = np.real(state) / np.linalg.norm(np.real(state).reshape(3, -1), axis=1).reshape((3,) + (1,) * n)
    z_sums = [
        Observable.from_list([("Z", [0], 0.7), ("ZZ", [1, 3], -1.3), ("ZZZ", [0, 2, 4], 0.25)]),
        Observable.from_list([("Z", [4], 1.0)]),
    ]
    mixed = z_sums + [Observable.from_list([("XY", [0, 2], 0.5), ("Z", [1], 2.0)])]
    hermitian = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    with_matrix = z_sums + [Hermitian(hermitian + hermitian.conj().T, [1, 4]) + Z(2)]
    backend = get_backend(backend_name)
    with jax.enable_x64(True) if backend_name == "jax" else _nothing():
        for observables in (z_sums, mixed, with_matrix):
            got = np.asarray(measurements.expvals(backend.xp.asarray(state), observables, backend))
            flat = state.reshape(3, -1)
            expected = np.stack([ref.dense_expval(flat, _dense_matrix(o, n)) for o in observables], axis=1)
            np.testing.assert_allclose(got, expected, atol=1e-12)
        assert measurements.diagonal_signs(z_sums, n) is not None and measurements.diagonal_signs(mixed, n) is None


def _nothing():
    import contextlib

    return contextlib.nullcontext()


def _dense_matrix(observable, n):
    from qmlsim.circuits.observables import HermitianTerm
    from tests import reference as ref

    total = np.zeros((2**n, 2**n), complex)
    for term in observable.terms:
        if isinstance(term, HermitianTerm):
            total += term.coeff * dense_on_wires(np.asarray(term.matrix), tuple(term.wires), n)
        else:
            letters = ["I"] * n
            for wire, letter in term.word:
                letters[wire] = letter
            total += term.coeff * ref.pauli_matrix("".join(letters))
    return total
