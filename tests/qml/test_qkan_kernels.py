"""The compiled DARUAN layer kernels (CPU forward and adjoint) against matrix products and finite differences.

``apply_layer`` on CPU differentiates through ``qmlsim.qml.qkan.daruan_kernels`` and
``apply_layer_numpy`` runs its forward; both must equal the explicit product of 2x2
matrices of every edge, and the gradients must equal central differences, for every
ansatz, both readouts, with and without pre-processing weights.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import enable_x64

from qmlsim.qml.qkan.daruan import theta_shape
from qmlsim.qml.qkan.layer import apply_layer, apply_layer_numpy
from tests.qml.test_qkan import reference

ANSATZ_NAMES = ["pz", "rpz", "px", "real", "mix"]
REPS = 2


def _layer(rng: np.random.Generator, ansatz: str, preact: bool, n_in: int = 2, n_out: int = 3) -> dict:
    rows, cols = theta_shape(REPS, ansatz)
    p = {
        "theta": rng.normal(size=(n_out, n_in, rows, cols)),
        "pw": rng.normal(size=(n_out, n_in)),
        "pb": rng.normal(size=(n_out, n_in)),
        "bw": rng.normal(size=(n_out, n_in)),
        "mask": np.ones((n_out, n_in)),
    }
    if preact:
        p["w"] = rng.uniform(0.3, 0.9, size=(n_out, n_in, REPS))
        p["b"] = rng.uniform(-0.1, 0.1, size=(n_out, n_in, REPS))
    return p


def _expected(p: dict, x: np.ndarray, ansatz: str, measure: str) -> np.ndarray:
    n_out, n_in = p["theta"].shape[:2]
    out = np.zeros((x.shape[0], n_out))
    for n in range(x.shape[0]):
        for j in range(n_out):
            for i in range(n_in):
                w = p["w"][j, i] if "w" in p else np.ones(REPS)
                b = p["b"][j, i] if "b" in p else np.zeros(REPS)
                phi = reference(ansatz, p["theta"][j, i], w, b, x[n, i], measure)
                silu = x[n, i] / (1 + np.exp(-x[n, i]))
                out[n, j] += p["pw"][j, i] * (phi + p["pb"][j, i]) + p["bw"][j, i] * silu
    return out


@pytest.mark.parametrize("preact", [False, True])
@pytest.mark.parametrize("measure", ["born", "amplitude"])
@pytest.mark.parametrize("ansatz", ANSATZ_NAMES)
def test_layer_kernels_match_matrix_products_and_finite_differences(ansatz: str, measure: str, preact: bool) -> None:
    rng = np.random.default_rng(4 * ANSATZ_NAMES.index(ansatz) + 2 * (measure == "born") + preact)
    p = _layer(rng, ansatz, preact)
    # |x| < 0.9 keeps px's arccos(w x + b) inside its domain
    x = rng.uniform(-0.9, 0.9, size=(5, 2))
    expected = _expected(p, x, ansatz, measure)
    np.testing.assert_allclose(apply_layer_numpy(p, x, REPS, ansatz, measure), expected, atol=1e-12)
    np.testing.assert_allclose(apply_layer_numpy({k: v.astype(np.float32) for k, v in p.items()}, x.astype(np.float32),
                                                 REPS, ansatz, measure), expected, atol=2e-5)
    with enable_x64():
        params = {k: jnp.asarray(v) for k, v in p.items()}
        xj = jnp.asarray(x)
        np.testing.assert_allclose(np.asarray(jax.jit(lambda q, x: apply_layer(q, x, REPS, ansatz, measure))(params, xj)),
                                   expected, atol=1e-12)
        weights = jnp.asarray(rng.normal(size=(5, 3)))

        def loss(q: dict, x: jax.Array) -> jax.Array:
            return jnp.sum(weights * apply_layer(q, x, REPS, ansatz, measure))

        grads, x_grad = jax.jit(jax.grad(loss, argnums=(0, 1)))(params, xj)
        eps = 1e-6
        for key in ("theta", "w", "b"):
            if key not in p:
                continue
            flat = p[key].reshape(-1)
            for index in rng.choice(flat.size, size=min(4, flat.size), replace=False):
                def shifted(d: float, key: str = key, index: int = index) -> float:
                    q = dict(params)
                    q[key] = jnp.asarray((flat + d * (np.arange(flat.size) == index)).reshape(p[key].shape))
                    return float(loss(q, xj))
                fd = (shifted(eps) - shifted(-eps)) / (2 * eps)
                assert abs(float(np.asarray(grads[key]).reshape(-1)[index]) - fd) < 1e-6, (key, index)
        for n, i in ((0, 0), (3, 1)):
            def shifted_x(d: float, n: int = n, i: int = i) -> float:
                return float(loss(params, xj.at[n, i].add(d)))
            fd = (shifted_x(eps) - shifted_x(-eps)) / (2 * eps)
            assert abs(float(x_grad[n, i]) - fd) < 1e-6, ("x", n, i)
