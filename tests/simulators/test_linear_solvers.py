"""QSVT and HHL linear solvers against numpy.linalg.solve and the spec's textbook instances."""
from __future__ import annotations

import numpy as np
import pytest

from qmlsim.simulators.linear_solvers import hhl_solve, qsvt_solve

A2 = np.array([[1.0, -1 / 3], [-1 / 3, 1.0]])
B2 = np.array([1.0, 0.0])


def _solution(a, b):
    return np.linalg.solve(a, b)


def test_hhl_textbook_instance_is_exact():
    result = hhl_solve(A2, B2, clock_wires=2, time=3 * np.pi / 4, constant=2 / 3)
    assert result.fidelity(_solution(A2, B2)) >= 1 - 1e-10
    assert result.success_probability == pytest.approx(0.625, abs=1e-10)
    finer = hhl_solve(A2, B2, clock_wires=3, time=3 * np.pi / 4, constant=1 / 3)
    assert finer.fidelity(_solution(A2, B2)) >= 1 - 1e-10
    assert finer.success_probability == pytest.approx(0.15625, abs=1e-10)


def _four_by_four(eigenvalues):
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))
    return q @ np.diag(eigenvalues) @ q.T


def test_hhl_off_grid_instance():
    a, b = _four_by_four([1.3, 2.1, 2.9, 3.7]), np.ones(4)
    for clock, bound in ((3, 0.998), (5, 0.9998)):
        assert hhl_solve(a, b, clock, 2 * np.pi / 8).fidelity(_solution(a, b)) >= bound
    on_grid = _four_by_four([1.0, 2.0, 3.0, 4.0])
    assert hhl_solve(on_grid, b, 3, 2 * np.pi / 8).fidelity(_solution(on_grid, b)) >= 1 - 1e-10
    # wrap-around (lambda_max t >= 2 pi) visibly fails
    assert hhl_solve(a, b, 4, 2 * np.pi / 2.5).fidelity(_solution(a, b)) < 0.9


def test_qsvt_textbook_instance():
    result = qsvt_solve(A2, B2, eps=1e-8)
    assert result.fidelity(_solution(A2, B2)) >= 1 - 1e-10
    assert 0 < result.success_probability <= 1 and result.polynomial.parity == 1


@pytest.mark.parametrize("dim", [8, 16])
def test_qsvt_random_well_conditioned_systems(dim):
    rng = np.random.default_rng(dim)
    m = rng.normal(size=(dim, dim))
    values, vectors = np.linalg.eigh(m + m.T)
    a = vectors @ np.diag(np.sign(values) * np.linspace(0.25, 1.0, dim)) @ vectors.T
    b = rng.normal(size=dim)
    eps = 1e-6
    result = qsvt_solve(a, b, eps=eps)
    assert result.fidelity(_solution(a, b)) >= 1 - eps
    # ||A|| = 1 and kappa = 4: the success probability is |P(A) b|^2 with P(y) ~ scale / (4 y)
    expected = np.linalg.norm(result.polynomial.scale / 4.0 * _solution(a, b / np.linalg.norm(b))) ** 2
    assert result.success_probability == pytest.approx(expected, rel=1e-4)


def test_bad_systems_are_refused():
    with pytest.raises(ValueError, match="Hermitian"):
        qsvt_solve(np.array([[1.0, 2.0], [0.0, 1.0]]), [1.0, 0.0])
    with pytest.raises(ValueError, match="singular"):
        qsvt_solve(np.diag([1.0, 0.0]), [1.0, 0.0])
    with pytest.raises(ValueError, match="power of two"):
        qsvt_solve(np.eye(3), [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="kappa"):
        qsvt_solve(np.diag([1.0, 0.1]), [1.0, 1.0], kappa=2.0)
    with pytest.raises(ValueError, match="nonzero"):
        hhl_solve(A2, [0.0, 0.0], 2, 1.0)
