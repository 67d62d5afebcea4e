"""Classical baselines in the QKAN API: B-spline KAN, Fourier KAN and an MLP.

Each is a pair of pure functions (``init_*``, ``apply_*``) and a final estimator class
with ``fit``, ``predict``, ``param_count``. Parameter counts follow the reference
package: B-spline KAN ``G + k + 2`` per edge (efficient-KAN: spline coefficients, base
weight, spline scaler), Fourier KAN ``2G + 2`` per edge.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence, final

import jax
import jax.numpy as jnp
import numpy as np

from qmlsim.qml.qkan.layer import check_width
from qmlsim.qml.qkan.model import check_x
from qmlsim.qml.qkan.training import train


def _silu(x: jax.Array) -> jax.Array:
    return x / (1 + jnp.exp(-x))


# --- B-spline KAN ----------------------------------------------------------------------
def bspline_basis(x: jax.Array, grid_size: int = 5, order: int = 3, lo: float = -1.0, hi: float = 1.0) -> jax.Array:
    """Cox-de Boor B-spline bases on a uniform extended grid, ``(..., ) -> (..., G + k)``.

    >>> bool(jnp.allclose(bspline_basis(jnp.linspace(-1, 1, 5)).sum(-1), 1.0, atol=1e-6))
    True
    """
    h = (hi - lo) / grid_size
    knots = lo + h * jnp.arange(-order, grid_size + order + 1, dtype=x.dtype)
    x = x[..., None]
    bases = ((x >= knots[:-1]) & (x < knots[1:])).astype(x.dtype)
    for k in range(1, order + 1):
        left = (x - knots[: -(k + 1)]) / (knots[k:-1] - knots[: -(k + 1)]) * bases[..., :-1]
        right = (knots[k + 1:] - x) / (knots[k + 1:] - knots[1:-k]) * bases[..., 1:]
        bases = left + right
    return bases


def init_bspline_kan(key: jax.Array, width: Sequence[int], grid_size: int = 5, order: int = 3) -> list[dict]:
    """Parameters: per layer ``coef (n_out, n_in, G + k)``, ``bw``, ``scale`` ``(n_out, n_in)``."""
    width = check_width(width)
    keys = jax.random.split(key, len(width) - 1)
    return [{"coef": 0.1 * jax.random.normal(k, (o, i, grid_size + order)) / np.sqrt(i),
             "bw": jnp.full((o, i), 1.0 / np.sqrt(i)), "scale": jnp.ones((o, i))}
            for k, i, o in zip(keys, width[:-1], width[1:])]


# jitted as a whole: called eagerly, every new batch shape compiled each primitive anew
# (3.2 s per call for a [2, 5, 1] B-spline KAN against 0.35 s compiled once)
@functools.partial(jax.jit, static_argnames=("grid_size", "order"))
def apply_bspline_kan(params: Sequence[dict], x: jax.Array, grid_size: int = 5, order: int = 3) -> jax.Array:
    """B-spline KAN forward ``(batch, n0) -> (batch, nL)``.

    >>> p = init_bspline_kan(jax.random.PRNGKey(0), [2, 5, 1])
    >>> apply_bspline_kan(p, jnp.zeros((3, 2))).shape
    (3, 1)
    """
    for p in params:
        basis = bspline_basis(x, grid_size, order)  # (b, i, G + k)
        x = jnp.einsum("bik,oik->bo", basis, p["coef"] * p["scale"][..., None]) + _silu(x) @ p["bw"].T
    return x


# --- Fourier KAN -----------------------------------------------------------------------
def init_fourier_kan(key: jax.Array, width: Sequence[int], grid_size: int = 5) -> list[dict]:
    """Parameters: per layer ``a``, ``b`` ``(n_out, n_in, G)``, ``bw``, ``scale`` ``(n_out, n_in)``."""
    width = check_width(width)
    keys = jax.random.split(key, 2 * (len(width) - 1))
    std = lambda i: 1.0 / np.sqrt(i * grid_size)  # noqa: E731
    return [{"a": std(i) * jax.random.normal(keys[2 * n], (o, i, grid_size)),
             "b": std(i) * jax.random.normal(keys[2 * n + 1], (o, i, grid_size)),
             "bw": jnp.full((o, i), 1.0 / np.sqrt(i)), "scale": jnp.ones((o, i))}
            for n, (i, o) in enumerate(zip(width[:-1], width[1:]))]


@functools.partial(jax.jit, static_argnames=("grid_size",))
def apply_fourier_kan(params: Sequence[dict], x: jax.Array, grid_size: int = 5) -> jax.Array:
    """Fourier KAN forward; inputs mapped from ``[-1, 1]`` to ``[-pi, pi]``.

    >>> p = init_fourier_kan(jax.random.PRNGKey(0), [2, 5, 1])
    >>> apply_fourier_kan(p, jnp.zeros((3, 2))).shape
    (3, 1)
    """
    k = jnp.arange(1, grid_size + 1, dtype=x.dtype)
    for p in params:
        z = jnp.pi * x[..., None] * k  # (b, i, G)
        x = (jnp.einsum("bik,oik->bo", jnp.cos(z), p["a"] * p["scale"][..., None])
             + jnp.einsum("bik,oik->bo", jnp.sin(z), p["b"] * p["scale"][..., None]) + _silu(x) @ p["bw"].T)
    return x


# --- MLP ---------------------------------------------------------------------------------
def init_mlp(key: jax.Array, width: Sequence[int]) -> list[dict]:
    """Dense layers ``{"w": (n_in, n_out), "b": (n_out,)}`` (PyTorch-style uniform init)."""
    width = check_width(width)
    keys = jax.random.split(key, len(width) - 1)
    out = []
    for k, i, o in zip(keys, width[:-1], width[1:]):
        kw, kb = jax.random.split(k)
        bound = 1 / np.sqrt(i)
        out.append({"w": jax.random.uniform(kw, (i, o), minval=-bound, maxval=bound),
                    "b": jax.random.uniform(kb, (o,), minval=-bound, maxval=bound)})
    return out


@jax.jit
def apply_mlp(params: Sequence[dict], x: jax.Array) -> jax.Array:
    """MLP forward with tanh hidden activations.

    >>> apply_mlp(init_mlp(jax.random.PRNGKey(0), [2, 8, 1]), jnp.zeros((3, 2))).shape
    (3, 1)
    """
    for p in params[:-1]:
        x = jnp.tanh(x @ p["w"] + p["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


# --- estimators ------------------------------------------------------------------------
_OPTIONS = ("solver", "steps", "learning_rate", "batch_size", "seed", "progress")


def _fit(model: Any, init: Callable, apply: Callable, X: Any, y: Any) -> Any:
    width = check_width(model.width)
    X = check_x(X, width[0], np.float32)
    y = np.asarray(y, np.float32).reshape(len(X), -1)
    params = init(jax.random.PRNGKey(model.seed), width)
    keys = tuple({k for p in params for k in p})
    params, info = train(apply, params, keys, X, y, label=type(model).__name__, **{k: getattr(model, k) for k in _OPTIONS})
    model.params_, model.loss_, model.diverged_ = params, info["loss"], info["diverged"]
    return model


def _predict(model: Any, apply: Callable, X: Any) -> np.ndarray:
    if not hasattr(model, "params_"):
        raise RuntimeError(f"this {type(model).__name__} is not fitted yet: call fit(X, y) first")
    X = check_x(X, check_width(model.width)[0], np.float32)
    return np.asarray(apply(model.params_, jnp.asarray(X)))


@final
class BSplineKAN:
    """B-spline KAN (efficient-KAN formulation), final class.

    Args:
        width: layer widths. grid_size, order: spline grid ``G`` and order ``k``.
        solver, steps, learning_rate, batch_size, seed, progress: as in ``QKAN``.

    >>> BSplineKAN([2, 5, 1]).param_count
    150
    """

    def __init__(self, width: Sequence[int], grid_size: int = 5, order: int = 3, solver: str = "lbfgs",
                 steps: int = 200, learning_rate: float | None = None, batch_size: int | None = None,
                 seed: int = 0, progress: bool = False):
        self.width, self.grid_size, self.order = width, grid_size, order
        self.solver, self.steps, self.learning_rate = solver, steps, learning_rate
        self.batch_size, self.seed, self.progress = batch_size, seed, progress

    @property
    def param_count(self) -> int:
        """Trainable scalars: ``(G + k + 2)`` per edge."""
        w = check_width(self.width)
        return sum(a * b for a, b in zip(w[:-1], w[1:])) * (self.grid_size + self.order + 2)

    def _apply(self) -> Callable:
        return functools.partial(apply_bspline_kan, grid_size=self.grid_size, order=self.order)

    def fit(self, X: Any, y: Any) -> BSplineKAN:
        """Train (MSE); returns ``self``."""
        init = functools.partial(init_bspline_kan, grid_size=self.grid_size, order=self.order)
        return _fit(self, init, self._apply(), X, y)

    def predict(self, X: Any) -> np.ndarray:
        """Outputs ``(n, nL)``."""
        return _predict(self, self._apply(), X)


@final
class FourierKAN:
    """Fourier KAN (``G`` harmonics per edge plus a SiLU base term), final class.

    >>> FourierKAN([2, 5, 1]).param_count
    180
    """

    def __init__(self, width: Sequence[int], grid_size: int = 5, solver: str = "lbfgs", steps: int = 200,
                 learning_rate: float | None = None, batch_size: int | None = None, seed: int = 0,
                 progress: bool = False):
        self.width, self.grid_size = width, grid_size
        self.solver, self.steps, self.learning_rate = solver, steps, learning_rate
        self.batch_size, self.seed, self.progress = batch_size, seed, progress

    @property
    def param_count(self) -> int:
        """Trainable scalars: ``2G + 2`` per edge."""
        w = check_width(self.width)
        return sum(a * b for a, b in zip(w[:-1], w[1:])) * (2 * self.grid_size + 2)

    def fit(self, X: Any, y: Any) -> FourierKAN:
        """Train (MSE); returns ``self``."""
        init = functools.partial(init_fourier_kan, grid_size=self.grid_size)
        return _fit(self, init, functools.partial(apply_fourier_kan, grid_size=self.grid_size), X, y)

    def predict(self, X: Any) -> np.ndarray:
        """Outputs ``(n, nL)``."""
        return _predict(self, functools.partial(apply_fourier_kan, grid_size=self.grid_size), X)


@final
class MLP:
    """Multilayer perceptron with tanh hidden layers, final class.

    >>> MLP([2, 10, 1]).param_count
    41
    """

    def __init__(self, width: Sequence[int], solver: str = "lbfgs", steps: int = 200,
                 learning_rate: float | None = None, batch_size: int | None = None, seed: int = 0,
                 progress: bool = False):
        self.width = width
        self.solver, self.steps, self.learning_rate = solver, steps, learning_rate
        self.batch_size, self.seed, self.progress = batch_size, seed, progress

    @property
    def param_count(self) -> int:
        """Weights and biases."""
        w = check_width(self.width)
        return sum(a * b + b for a, b in zip(w[:-1], w[1:]))

    def fit(self, X: Any, y: Any) -> MLP:
        """Train (MSE); returns ``self``."""
        return _fit(self, init_mlp, apply_mlp, X, y)

    def predict(self, X: Any) -> np.ndarray:
        """Outputs ``(n, nL)``."""
        return _predict(self, apply_mlp, X)
