"""QKAN layers and networks as pure functions: ``init_*(key, ...) -> params``, ``apply_*(params, x)``.

A layer's parameters are a dict of arrays over its edges ``(n_out, n_in)``:
``theta (n_out, n_in, rows, cols)`` circuit angles, optionally ``w``, ``b``
``(n_out, n_in, reps)`` (trainable pre-processing; absent means ``w = 1, b = 0``),
``pw``, ``pb``, ``bw`` ``(n_out, n_in)`` post-activation weight and bias and SiLU base
weight, and ``mask`` ``(n_out, n_in)`` (0 prunes an edge). The layer computes

    y_j = sum_i mask_ji * pw_ji * (phi_ji(x_i) + pb_ji) + sum_i mask_ji * bw_ji * SiLU(x_i).
"""
from __future__ import annotations

import functools
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from qmlsim.qml.qkan.daruan import check_ansatz, daruan_fast, daruan_layer_numpy, theta_shape

TRAINABLE = ("theta", "preact", "postact_weight", "postact_bias", "base")
# which parameter arrays each trainability switch covers
SWITCH_KEYS = {"theta": ("theta",), "preact": ("w", "b"), "postact_weight": ("pw",), "postact_bias": ("pb",), "base": ("bw",)}


def check_width(width: Sequence[int]) -> list[int]:
    """``width`` as a list of ints, or ``ValueError`` naming what is wrong."""
    try:
        out = [int(n) for n in width]
    except (TypeError, ValueError):
        raise ValueError(f"width must be a list of positive integers like [2, 5, 1], got {width!r}") from None
    if len(out) < 2:
        raise ValueError(f"width needs at least two entries (inputs and outputs), got {out}")
    if any(n < 1 for n in out) or any(n != w for n, w in zip(out, width)):
        raise ValueError(f"every entry of width must be a positive integer, got {list(width)}")
    return out


def init_layer(
    key: jax.Array, n_in: int, n_out: int, reps: int, ansatz: str = "pz", preact: bool = False,
    base: bool = False, theta_init: str = "xavier", dtype: Any = jnp.float32,
) -> dict[str, jax.Array]:
    """Fresh parameters of one QKAN layer.

    Args:
        key: a JAX PRNG key.
        n_in, n_out: input and output width.
        reps: repetitions of the DARUAN circuit.
        ansatz: see :data:`qmlsim.qml.qkan.daruan.ANSATZES`.
        preact: include trainable ``w`` (init 1) and ``b`` (init 0).
        base: trainable SiLU base branch (``bw`` init 0.5; else 0).
        theta_init: ``"xavier"`` (Xavier-normal over the ``(n_out, n_in, rows, cols)``
            tensor, as the reference package) or ``"small_gaussian"`` (``N(0, 1/reps)``).
        dtype: float dtype of the arrays.

    Returns:
        Dict of arrays as described in the module docstring.

    >>> p = init_layer(jax.random.PRNGKey(0), 2, 3, reps=3)
    >>> p["theta"].shape, sorted(p)
    ((3, 2, 4, 2), ['bw', 'mask', 'pb', 'pw', 'theta'])
    """
    rows, cols = theta_shape(reps, ansatz)
    shape = (n_out, n_in, rows, cols)
    if theta_init == "xavier":
        receptive = rows * cols
        std = np.sqrt(2.0 / (n_in * receptive + n_out * receptive))
    elif theta_init == "small_gaussian":
        std = np.sqrt(1.0 / reps)
    else:
        raise ValueError(f"theta_init must be 'xavier' or 'small_gaussian', got {theta_init!r}")
    params = {
        "theta": (std * jax.random.normal(key, shape)).astype(dtype),
        "pw": jnp.ones((n_out, n_in), dtype),
        "pb": jnp.zeros((n_out, n_in), dtype),
        "bw": jnp.full((n_out, n_in), 0.5 if base else 0.0, dtype),
        "mask": jnp.ones((n_out, n_in), dtype),
    }
    if preact:
        params["w"] = jnp.ones((n_out, n_in, reps), dtype)
        params["b"] = jnp.zeros((n_out, n_in, reps), dtype)
    return params


def combine_edges(params: dict[str, Any], phi: Any, x: Any, xp: Any) -> Any:
    """A layer's outputs ``(batch, n_out)`` from its edge activations ``phi`` ``(batch, n_out, n_in)``:
    masked, scaled and shifted sums plus the SiLU base branch (shared by the simulated and hardware paths)."""
    scale = params["mask"] * params["pw"]
    y = xp.einsum("boi,oi->bo", phi, scale) + xp.sum(scale * params["pb"], axis=1)
    silu = x / (1 + xp.exp(-x))
    return y + silu @ (params["mask"] * params["bw"]).T


# jitted as a whole: called eagerly, every new batch shape compiled each primitive anew
# (2.2-3.4 s per call for a [2, 5, 1] QKAN, reps 3, against 0.32 s compiled once)
@functools.partial(jax.jit, static_argnames=("reps", "ansatz", "measure"))
def apply_layer(params: dict[str, Any], x: Any, reps: int, ansatz: str = "pz", measure: str = "born") -> jax.Array:
    """One QKAN layer, ``(batch, n_in) -> (batch, n_out)`` (pure, jittable, differentiable).

    >>> p = init_layer(jax.random.PRNGKey(0), 2, 3, reps=2)
    >>> apply_layer(p, jnp.zeros((4, 2)), reps=2).shape
    (4, 3)
    """
    phi = daruan_fast(params, x.T, reps, ansatz, measure)  # (n_out, n_in, batch)
    scale = params["mask"] * params["pw"]
    y = jnp.einsum("oib,oi->bo", phi, scale) + jnp.sum(scale * params["pb"], axis=1)
    return y + (x / (1 + jnp.exp(-x))) @ (params["mask"] * params["bw"]).T


def apply_layer_numpy(params: dict[str, Any], x: np.ndarray, reps: int, ansatz: str = "pz", measure: str = "born") -> np.ndarray:
    """:func:`apply_layer` in NumPy (forward only)."""
    params = {k: np.asarray(v) for k, v in params.items()}
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    phi = daruan_layer_numpy(params, np.ascontiguousarray(x.T), reps, ansatz, measure)  # (n_out, n_in, batch)
    return combine_edges(params, phi.transpose(2, 0, 1), x, np).astype(x.dtype, copy=False)


def init_qkan(
    key: jax.Array, width: Sequence[int], reps: int = 3, ansatz: str = "pz", preact: bool = False,
    base: bool = False, theta_init: str = "xavier", dtype: Any = jnp.float32,
) -> list[dict[str, jax.Array]]:
    """Parameters of a QKAN network: one :func:`init_layer` dict per consecutive pair of ``width``.

    >>> [p["theta"].shape for p in init_qkan(jax.random.PRNGKey(0), [2, 5, 1])]
    [(5, 2, 4, 2), (1, 5, 4, 2)]
    """
    width = check_width(width)
    check_ansatz(ansatz)
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    keys = jax.random.split(key, len(width) - 1)
    return [
        init_layer(k, n_in, n_out, reps, ansatz, preact, base, theta_init, dtype)
        for k, n_in, n_out in zip(keys, width[:-1], width[1:])
    ]


@functools.partial(jax.jit, static_argnames=("reps", "ansatz", "measure"))
def apply_qkan(params: Sequence[dict[str, Any]], x: Any, reps: int, ansatz: str = "pz", measure: str = "born") -> jax.Array:
    """A QKAN network, ``(batch, n0) -> (batch, nL)``.

    >>> p = init_qkan(jax.random.PRNGKey(0), [2, 5, 1], reps=3)
    >>> apply_qkan(p, jnp.zeros((8, 2)), reps=3).shape
    (8, 1)
    """
    for layer in params:
        x = apply_layer(layer, x, reps, ansatz, measure)
    return x


def apply_qkan_numpy(params: Sequence[dict[str, Any]], x: np.ndarray, reps: int, ansatz: str = "pz", measure: str = "born") -> np.ndarray:
    """:func:`apply_qkan` in NumPy (forward only)."""
    for layer in params:
        x = apply_layer_numpy(layer, x, reps, ansatz, measure)
    return x


def count_trainable(width: Sequence[int], reps: int, ansatz: str, trainable: Sequence[str]) -> int:
    """Number of trainable scalars of a QKAN, from its configuration alone.

    >>> count_trainable([10, 10], 3, "pz", ("theta",)), count_trainable([2, 5, 1], 3, "pz", TRAINABLE)
    (800, 255)
    """
    rows, cols = theta_shape(reps, ansatz)
    per_edge = {"theta": rows * cols, "preact": 2 * reps, "postact_weight": 1, "postact_bias": 1, "base": 1}
    edges = sum(a * b for a, b in zip(width[:-1], width[1:]))
    return edges * sum(per_edge[name] for name in set(trainable))


def extend_layer(params: dict[str, Any], reps: int, new_reps: int, ansatz: str = "pz") -> dict[str, Any]:
    """Layer extension ``reps -> new_reps`` that preserves the function exactly, for every ansatz.

    Keeps the first ``reps`` blocks and moves the old final block to the start of block
    ``reps`` (its gates are the leading gates of a block). Every gate after it is then
    diagonal or the identity up to a global phase, which leaves ``|alpha|`` and
    ``|beta|`` (both readouts) unchanged:

    * ``pz``, ``rpz``: the data gate is an RZ (diagonal); new angles 0.
    * ``mix``: new angles 0 and data angle ``w x + b`` with ``w = b = 0`` (RY(0) = I).
    * ``px``: data angle ``arccos(w x + b)`` with ``w = 0``, ``b = 1`` (RX(0) = I).
    * ``real``: each new block ``X, RY(pi), Z, RY(0)`` multiplies by ``-I``.

    Layers without pre-processing arrays get them (``w = 1``, ``b = 0`` on the old
    blocks) where the identity needs them (``px``, ``mix``, ``real``); they stay fixed
    unless ``"preact"`` is trainable.

    >>> p = init_layer(jax.random.PRNGKey(0), 1, 1, reps=2, ansatz="mix")
    >>> q = extend_layer(p, 2, 4, "mix")
    >>> q["theta"].shape, q["w"].shape
    ((1, 1, 5, 2), (1, 1, 4))
    """
    check_ansatz(ansatz)
    if new_reps <= reps:
        raise ValueError(f"new_reps must be larger than reps={reps}, got {new_reps}")
    theta = params["theta"]
    n_out, n_in = theta.shape[:2]
    added = new_reps - reps
    dtype = theta.dtype
    out = dict(params)
    pad = jnp.zeros((n_out, n_in, added) + theta.shape[3:], dtype)
    if ansatz == "real":
        pad = pad + jnp.pi  # X RY(pi) Z = -I
    out["theta"] = jnp.concatenate([theta, pad], axis=2)
    needs_identity_data = ansatz in ("px", "mix", "real")
    if "w" in params or needs_identity_data:
        old_w = params.get("w", jnp.ones((n_out, n_in, reps), dtype))
        old_b = params.get("b", jnp.zeros((n_out, n_in, reps), dtype))
        new_w = jnp.zeros((n_out, n_in, added), dtype)
        new_b = jnp.full((n_out, n_in, added), 1.0 if ansatz == "px" else 0.0, dtype)
        out["w"] = jnp.concatenate([jnp.asarray(old_w, dtype), new_w], axis=2)
        out["b"] = jnp.concatenate([jnp.asarray(old_b, dtype), new_b], axis=2)
    return out
