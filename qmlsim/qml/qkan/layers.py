"""QKAN layers as pure JAX functions: ``init_layer``/``apply_layer`` and the network ``init``/``apply``.

A layer with ``n_in`` inputs and ``n_out`` outputs has one DARUAN per edge ``(j, i)``:

``y_j = sum_i mask_ji * (pw_ji * (phi_ji(x_i) + pb_ji) + bw_ji * SiLU(x_i))``

Parameters of one layer are a dict of arrays: ``theta (n_out, n_in, rows, cols)``,
optionally ``w``, ``b`` ``(n_out, n_in, reps)`` (pre-activation weights; absent means
``w = 1, b = 0``), and ``pw``, ``pb``, ``bw``, ``mask`` ``(n_out, n_in)``.
Which of them are trained is decided by the model, not here.
"""
from __future__ import annotations

from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from qmlsim.qml.qkan.daruan import check_ansatz, check_measure, daruan, daruan_numpy, theta_shape

THETA_INITS = ("xavier", "small_gaussian", "zeros")


def check_width(width: Sequence[int]) -> tuple[int, ...]:
    """``width`` as a tuple of ints; raises ``ValueError`` if shorter than 2 or not positive."""
    try:
        width = tuple(int(n) for n in width)
    except TypeError:
        raise TypeError(f"width must be a list of layer sizes like [2, 5, 1], got {width!r}") from None
    if len(width) < 2:
        raise ValueError(f"width needs at least two entries (inputs and outputs), got {list(width)}")
    if any(n < 1 for n in width):
        raise ValueError(f"every entry of width must be a positive integer, got {list(width)}")
    return width


def check_reps(reps: int) -> int:
    """``reps`` as an int; raises ``ValueError`` unless ``reps >= 1``."""
    if int(reps) != reps or reps < 1:
        raise ValueError(f"reps must be an integer >= 1, got {reps!r}")
    return int(reps)


def init_layer(
    key: Any, n_in: int, n_out: int, reps: int = 3, ansatz: str = "pz", *, preact: bool = False,
    base_weight: float = 0.0, theta_init: str = "xavier", dtype: Any = jnp.float32,
) -> dict[str, jax.Array]:
    """Initial parameters of one QKAN layer.

    Args:
        key: a ``jax.random`` key.
        n_in, n_out: layer sizes.
        reps: DARUAN repetitions.
        ansatz: DARUAN ansatz (see :func:`~qmlsim.qml.qkan.daruan.daruan`).
        preact: include pre-activation weights ``w = 1`` and biases ``b = 0``.
        base_weight: initial SiLU branch weight (0.5 when it is trained, 0 otherwise,
            as in the reference package).
        theta_init: ``"xavier"`` (Xavier-normal over the ``(n_out, n_in, rows, cols)``
            tensor), ``"small_gaussian"`` (N(0, 1/reps)) or ``"zeros"``.
        dtype: parameter dtype.

    Returns:
        dict of arrays, see the module docstring.

    >>> import jax
    >>> p = init_layer(jax.random.PRNGKey(0), 2, 5, reps=3)
    >>> p["theta"].shape, p["pw"].shape
    ((5, 2, 4, 2), (5, 2))
    """
    rows, cols = theta_shape(check_reps(reps), ansatz)
    shape = (n_out, n_in, rows, cols)
    if theta_init == "xavier":
        recept = rows * cols
        std = float(np.sqrt(2.0 / (n_in * recept + n_out * recept)))
        theta = std * jax.random.normal(key, shape, dtype)
    elif theta_init == "small_gaussian":
        theta = jax.random.normal(key, shape, dtype) / np.sqrt(reps)
    elif theta_init == "zeros":
        theta = jnp.zeros(shape, dtype)
    else:
        raise ValueError(f"unknown theta_init {theta_init!r}; choose one of {THETA_INITS}")
    edges = (n_out, n_in)
    params = {
        "theta": theta,
        "pw": jnp.ones(edges, dtype),
        "pb": jnp.zeros(edges, dtype),
        "bw": jnp.full(edges, base_weight, dtype),
        "mask": jnp.ones(edges, dtype),
    }
    if preact:
        params["w"] = jnp.ones((*edges, reps), dtype)
        params["b"] = jnp.zeros((*edges, reps), dtype)
    return params


def edge_outputs(params: dict[str, Any], x: Any, reps: int, ansatz: str = "pz", measure: str = "born", xp: Any = jnp) -> Any:
    """Per-edge contributions ``mask * (pw (phi + pb) + bw SiLU(x))``, shape ``(batch, n_out, n_in)``.

    ``xp`` is ``jax.numpy`` (default, jittable) or ``numpy`` (plain NumPy forward).
    """
    f = daruan if xp is jnp else daruan_numpy
    phi = f(params, x[:, None, :], reps, ansatz, measure)
    silu = x * (1.0 / (1.0 + xp.exp(-x)))
    out = params["pw"] * (phi + params["pb"]) + params["bw"] * silu[:, None, :]
    return params["mask"] * out


def apply_layer(params: dict[str, Any], x: Any, reps: int, ansatz: str = "pz", measure: str = "born", xp: Any = jnp) -> Any:
    """Output of one QKAN layer.

    Args:
        params: layer parameters from :func:`init_layer`.
        x: ``(batch, n_in)`` inputs.
        reps, ansatz, measure: DARUAN configuration.
        xp: ``jax.numpy`` (default) or ``numpy``.

    Returns:
        ``(batch, n_out)`` array.

    >>> import jax, jax.numpy as jnp
    >>> p = init_layer(jax.random.PRNGKey(0), 2, 3)
    >>> apply_layer(p, jnp.zeros((4, 2)), reps=3).shape
    (4, 3)
    """
    return edge_outputs(params, x, reps, ansatz, measure, xp).sum(axis=-1)


def init(
    key: Any, width: Sequence[int], reps: int = 3, ansatz: str = "pz", *, preact: bool = False,
    base_weight: float = 0.0, theta_init: str = "xavier", dtype: Any = jnp.float32,
) -> list[dict[str, jax.Array]]:
    """Initial parameters of a QKAN network ``width = [n0, n1, ..., nL]``: one dict per layer.

    >>> import jax
    >>> [p["theta"].shape for p in init(jax.random.PRNGKey(0), [2, 5, 1])]
    [(5, 2, 4, 2), (1, 5, 4, 2)]
    """
    width = check_width(width)
    check_ansatz(ansatz)
    keys = jax.random.split(key, len(width) - 1)
    return [
        init_layer(k, n_in, n_out, reps, ansatz, preact=preact, base_weight=base_weight, theta_init=theta_init, dtype=dtype)
        for k, n_in, n_out in zip(keys, width[:-1], width[1:])
    ]


def apply(params: Sequence[dict[str, Any]], x: Any, reps: int = 3, ansatz: str = "pz", measure: str = "born", xp: Any = jnp) -> Any:
    """Output of a QKAN network, ``(batch, n0) -> (batch, nL)``; pure and jittable (``xp=jnp``).

    >>> import jax, jax.numpy as jnp
    >>> params = init(jax.random.PRNGKey(0), [2, 5, 1])
    >>> apply(params, jnp.zeros((3, 2))).shape
    (3, 1)
    """
    check_measure(measure)
    for layer in params:
        x = apply_layer(layer, x, reps, ansatz, measure, xp)
    return x
