"""Symbolic angle expressions: evaluation against a tree walk with ``math``, ``diff`` against finite differences."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qmlsim.circuits import expressions as ex
from qmlsim.circuits.expressions import Const, Symbol, as_expr, compile_expressions
from tests import reference as ref

x0, x1 = Symbol("x", 0), Symbol("x", 1)
w0, w1 = Symbol("w", 0), Symbol("w", 1)


def test_closed_forms():
    x = np.array([[0.3, -0.7], [1.1, 0.2]])
    w = np.array([0.5, -1.25])
    cases = {
        x0 + w0: x[:, 0] + w[0],
        2 * (np.pi - x0) * (np.pi - x1): 2 * (np.pi - x[:, 0]) * (np.pi - x[:, 1]),
        w0 / (2 + ex.cos(x1)): w[0] / (2 + np.cos(x[:, 1])),
        (1.5 + ex.sin(x0)) ** w1: (1.5 + np.sin(x[:, 0])) ** w[1],
        ex.arccos(0.5 * x0): np.arccos(0.5 * x[:, 0]),
        ex.exp(-x0) - ex.sqrt(2.0 + x1): np.exp(-x[:, 0]) - np.sqrt(2.0 + x[:, 1]),
        -w0 * 3: np.full(2, -3 * w[0]),
        3 ** w0: np.full(2, 3 ** w[0]),
    }
    for expr, expected in cases.items():
        got = np.broadcast_to(np.asarray(expr.evaluate(x, w)), (2,))
        np.testing.assert_allclose(got, expected, rtol=1e-14, err_msg=repr(expr))


def test_shapes_batch_and_scalar():
    x = np.zeros((5, 1))
    assert np.shape((x0 + 1).evaluate(x, np.zeros(1))) == (5,)
    assert np.ndim((w0 + 1).evaluate(x, np.array([2.0]))) == 0
    assert np.ndim(Const(1.5).evaluate(x, np.zeros(0))) == 0


def test_numpy_interop_builds_expressions():
    assert isinstance(np.pi - x0, ex.Expr)
    assert isinstance(np.float64(2.0) * x0, ex.Expr)
    assert isinstance(np.sin(x0), ex.Expr)
    assert isinstance(np.cos(x0), ex.Expr)
    assert isinstance(np.arccos(x0), ex.Expr)
    assert isinstance(np.exp(x0), ex.Expr)
    assert isinstance(np.sqrt(x0), ex.Expr)
    assert isinstance(-x0, ex.Expr)
    x = np.array([[0.4]])
    np.testing.assert_allclose((np.pi - x0).evaluate(x, np.zeros(0)), np.pi - 0.4)
    np.testing.assert_allclose(np.sin(x0).evaluate(x, np.zeros(0)), math.sin(0.4))
    # the module's functions act on plain numbers too
    assert ex.sin(0.5) == pytest.approx(math.sin(0.5))


def test_symbols_and_constness():
    e = 2 * x0 + ex.sin(w1)
    assert e.symbols() == {x0, w1}
    assert e.depends_on_inputs
    assert not (w0 * 2).depends_on_inputs
    assert Const(1.0).is_constant
    assert repr(x0) == "x[0]" and repr(w1) == "w[1]"


def test_evaluation_namespaces_agree():
    import jax
    import jax.numpy as jnp

    e = ex.arccos(0.3 * ex.cos(x0 * w0)) + (1.5 + ex.sin(x1)) ** 2 / (2 + ex.cos(w1))
    x = np.array([[0.1, 0.2], [0.3, -0.4]])
    w = np.array([0.7, -0.9])
    with jax.enable_x64(True):  # scoped: a global switch would leak into other tests of this worker
        value = np.asarray(e.evaluate(jnp.asarray(x), jnp.asarray(w), jnp))
    np.testing.assert_allclose(value, e.evaluate(x, w), rtol=1e-14)


def test_compile_expressions_returns_all_values():
    f = compile_expressions([x0 + 1, w0 * 2, Const(3.0)])
    values = f(np.array([[1.0], [2.0]]), np.array([4.0]), np)
    np.testing.assert_allclose(values[0], [2.0, 3.0])
    assert float(values[1]) == 8.0 and float(values[2]) == 3.0


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_expressions_evaluate_like_a_tree_walk(seed):
    rng = np.random.default_rng(seed)
    e = ref.random_expression(rng, 2, 2, depth=3)
    x = rng.uniform(-1.5, 1.5, (4, 2))
    w = rng.uniform(-1.5, 1.5, 2)
    got = np.broadcast_to(np.asarray(e.evaluate(x, w), dtype=float), (4,))
    expected = [ref.evaluate_expr(e, row, w) for row in x]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=repr(e))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_diff_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    e = ref.random_expression(rng, 2, 2, depth=3)
    x_row = rng.uniform(-1.2, 1.2, 2)
    w = rng.uniform(-1.2, 1.2, 2)
    params = np.concatenate([x_row, w])

    def f(p):
        return ref.evaluate_expr(e, p[:2], p[2:])

    fd = ref.finite_difference(f, params, eps=1e-6)
    for k, sym in enumerate([x0, x1, w0, w1]):
        d = ref.evaluate_expr(e.diff(sym), x_row, w)
        assert abs(d - fd[k]) <= 1e-6 * (1 + abs(d)), (repr(e), sym, d, fd[k])


def test_diff_of_unrelated_symbol_is_zero():
    assert (ex.sin(x0) * w0).diff(x1) == Const(0.0)
    assert x0.diff(x0) == Const(1.0)


@pytest.mark.parametrize(
    "value, error",
    [
        (True, TypeError),
        (np.bool_(False), TypeError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (1 + 2j, TypeError),
        ("0.5", TypeError),
        (np.array([1.0, 2.0]), TypeError),
    ],
)
def test_bad_angles_are_rejected(value, error):
    with pytest.raises(error):
        as_expr(value)


def test_no_truth_value():
    with pytest.raises(TypeError, match="truth value"):
        bool(x0 + 1)
