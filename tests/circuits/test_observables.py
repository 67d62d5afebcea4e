"""Observables: algebra and dense matrices against explicit Kronecker products."""
from __future__ import annotations

import numpy as np
import pytest

from qmlsim.circuits import Hermitian, I, Observable, X, Y, Z
from qmlsim.circuits.observables import HermitianTerm, PauliTerm
from tests import reference as ref

ATOL = 1e-12


def test_pauli_words_match_kron():
    np.testing.assert_allclose((Z(0) @ X(2)).matrix(3), ref.pauli_matrix("ZIX"), atol=ATOL)
    np.testing.assert_allclose((X(2) @ Z(0)).matrix(3), ref.pauli_matrix("ZIX"), atol=ATOL)
    np.testing.assert_allclose(Y(1).matrix(2), ref.pauli_matrix("IY"), atol=ATOL)
    np.testing.assert_allclose(I().matrix(2), np.eye(4), atol=ATOL)


def test_linear_combinations():
    obs = 0.5 * Z(0) @ Z(1) - 2.0 * X(1) + 3 + Y(0) / 4
    expected = 0.5 * ref.pauli_matrix("ZZ") - 2 * ref.pauli_matrix("IX") + 3 * np.eye(4) + ref.pauli_matrix("YI") / 4
    np.testing.assert_allclose(obs.matrix(2), expected, atol=ATOL)
    np.testing.assert_allclose((-obs).matrix(2), -expected, atol=ATOL)
    np.testing.assert_allclose((1 - Z(0)).matrix(1), np.eye(2) - ref.pauli_matrix("Z"), atol=ATOL)


def test_like_terms_merge():
    obs = Z(0) + Z(0) + X(1)
    assert len(obs.terms) == 2
    assert PauliTerm(2.0, ((0, "Z"),)) in obs.terms
    assert obs == X(1) + 2 * Z(0)


def test_from_list():
    obs = Observable.from_list([("ZIZ", (0, 1, 2), 0.5), ("X", (1,), -1.0)])
    assert obs == 0.5 * Z(0) @ Z(2) - X(1)
    assert obs.wires == (0, 1, 2)
    assert obs.is_pauli


def test_hermitian_embedding_on_unordered_wires():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    h = a + a.conj().T
    obs = 0.3 * Hermitian(h, [2, 0]) + Z(1)
    assert not obs.is_pauli
    expected = 0.3 * ref.embed(h, [2, 0], 3) + ref.pauli_matrix("IZI")
    np.testing.assert_allclose(obs.matrix(3), expected, atol=ATOL)
    assert isinstance(obs.terms[-1], HermitianTerm)


def test_expectation_against_a_state():
    rng = np.random.default_rng(1)
    psi = rng.normal(size=8) + 1j * rng.normal(size=8)
    psi /= np.linalg.norm(psi)
    obs = Z(0) @ Z(1) + 0.5 * X(2)
    direct = (psi.conj() @ ref.pauli_matrix("ZZI") @ psi + 0.5 * psi.conj() @ ref.pauli_matrix("IIX") @ psi).real
    assert ref.dense_expval(psi, obs.matrix(3)) == pytest.approx(direct, abs=1e-12)


@pytest.mark.parametrize(
    "build, error",
    [
        (lambda: Z(0) @ X(0), ValueError),
        (lambda: Hermitian(np.eye(2), 0) @ Z(1), TypeError),
        (lambda: Hermitian([[0, 1], [0, 0]], 0), ValueError),
        (lambda: Hermitian(np.eye(2), [0, 1]), ValueError),
        (lambda: Hermitian(np.eye(4), [1, 1]), ValueError),
        (lambda: Hermitian([[np.nan, 0], [0, 1]], 0), ValueError),
        (lambda: (1j) * Z(0), TypeError),
        (lambda: True * Z(0), TypeError),
        (lambda: float("nan") * Z(0), ValueError),
        (lambda: Z(0) * Z(1), TypeError),
        (lambda: Observable.from_list([("ZQ", (0, 1), 1.0)]), ValueError),
        (lambda: Observable.from_list([("ZZ", (0,), 1.0)]), ValueError),
        (lambda: Z(-1), ValueError),
        (lambda: Z(True), ValueError),
    ],
)
def test_bad_observables(build, error):
    with pytest.raises(error):
        build()


def test_hashable_and_equal():
    assert len({Z(0) @ Z(1), Z(1) @ Z(0)}) == 1
    h = Hermitian(np.diag([1.0, -1.0]), 0)
    assert h == Hermitian(np.diag([1.0, -1.0]), 0)
    assert hash(h) == hash(Hermitian(np.diag([1.0, -1.0]), 0))
