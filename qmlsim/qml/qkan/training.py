"""Full-batch or mini-batch training of a pure ``apply(params, x)`` with optax (Adam or L-BFGS from :func:`qmlsim.qml.optimizers.transform`).

Only the parameter arrays named trainable are optimised; the rest are held fixed. A
non-finite loss stops training with a warning and the last finite-loss parameters.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from qmlsim.qml.optimizers import transform

SOLVERS = ("lbfgs", "adam")
# L-BFGS stops when the loss improved by less than 1e-9 (relative) over this many steps
_STALL_STEPS = 50


def split(params: Sequence[dict[str, Any]], keys: Sequence[str]) -> tuple[list[dict], list[dict]]:
    """``(trainable, frozen)`` lists of dicts, by array name."""
    keys = set(keys)
    return ([{k: v for k, v in p.items() if k in keys} for p in params],
            [{k: v for k, v in p.items() if k not in keys} for p in params])


def merge(trainable: Sequence[dict], frozen: Sequence[dict]) -> list[dict]:
    """Inverse of :func:`split`."""
    return [{**f, **t} for t, f in zip(trainable, frozen)]


def mse(pred: jax.Array, y: jax.Array) -> jax.Array:
    """Mean squared error."""
    return jnp.mean((pred - y) ** 2)


def cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    """Mean softmax cross-entropy against integer labels ``y`` ``(n,)``."""
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y.astype(jnp.int32).reshape(-1)))


LOSSES: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {"mse": mse, "cross_entropy": cross_entropy}


def train(
    apply: Callable[[Any, jax.Array], jax.Array],
    params: Sequence[dict[str, Any]],
    trainable_keys: Sequence[str],
    x: np.ndarray,
    y: np.ndarray,
    *,
    solver: str = "lbfgs",
    steps: int = 200,
    learning_rate: float | None = None,
    batch_size: int | None = None,
    loss: str = "mse",
    seed: int = 0,
    progress: bool = False,
    label: str = "train",
) -> tuple[list[dict], dict[str, Any]]:
    """Minimise ``loss(apply(params, x), y)`` over the trainable arrays.

    Args:
        apply: pure function ``(params, x (batch, d_in)) -> (batch, d_out)``.
        params: list of dicts of arrays.
        trainable_keys: names of the arrays to optimise.
        x: ``(n, d_in)`` inputs; y: ``(n, d_out)`` targets (``(n,)`` labels for
            cross-entropy).
        solver: ``"lbfgs"`` (full batch, zoom line search) or ``"adam"``.
        steps: optimiser steps.
        learning_rate: Adam step size (default 1e-2); L-BFGS scale (default 1, line search).
        batch_size: Adam mini-batch size (default: full batch).
        loss: ``"mse"`` or ``"cross_entropy"``.
        seed: seed of the mini-batch order.
        progress: show a tqdm bar with the loss.
        label: what the bar is labelled with (the model's name), followed by the solver.

    Returns:
        ``(params, info)``; ``info`` has ``"loss"`` (history), ``"diverged"`` and the
        compiled ``"step"`` (to check that it compiled once).
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    loss_fn = LOSSES[loss]
    trainable, frozen = split(params, trainable_keys)
    x = jnp.asarray(x)
    y = jnp.asarray(y)

    def objective(t: Any, xb: jax.Array, yb: jax.Array) -> jax.Array:
        return loss_fn(apply(merge(t, frozen), xb), yb)

    opt = transform(solver, learning_rate)
    if solver == "lbfgs":

        @jax.jit
        def step(t: Any, state: Any, xb: jax.Array, yb: jax.Array) -> tuple[Any, Any, jax.Array]:
            # data are arguments, not closure constants: XLA would constant-fold them slowly
            def value_fn(p: Any) -> jax.Array:
                return objective(p, xb, yb)

            value, grad = optax.value_and_grad_from_state(value_fn)(t, state=state)
            updates, state = opt.update(grad, state, t, value=value, grad=grad, value_fn=value_fn)
            return optax.apply_updates(t, updates), state, value
    else:

        @jax.jit
        def step(t: Any, state: Any, xb: jax.Array, yb: jax.Array) -> tuple[Any, Any, jax.Array]:
            value, grad = jax.value_and_grad(objective)(t, xb, yb)
            updates, state = opt.update(grad, state, t)
            return optax.apply_updates(t, updates), state, value

    # strong-typed state leaves, so the second step does not recompile for weak types
    state = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=jnp.asarray(a).dtype), opt.init(trainable))
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    history: list[float] = []
    diverged = False
    bar = None
    last_good = trainable
    for _ in range(steps):
        if solver == "lbfgs" or batch_size is None or batch_size >= n:
            xb, yb = x, y
        else:
            idx = rng.choice(n, batch_size, replace=False)
            xb, yb = x[idx], y[idx]
        new, state, value = step(trainable, state, xb, yb)
        value = float(value)
        if not np.isfinite(value):
            diverged = True
            warnings.warn(
                f"training diverged (non-finite loss or parameters) at step {len(history)}; "
                "stopped and kept the last parameters with a finite loss. Lower the learning rate.",
                RuntimeWarning, stacklevel=3,
            )
            break
        last_good = trainable
        history.append(value)
        trainable = new
        if solver == "lbfgs" and len(history) > _STALL_STEPS and (
                history[-_STALL_STEPS - 1] - value <= 1e-9 * abs(history[-_STALL_STEPS - 1])):
            break  # converged: the line search no longer finds descent
        if progress and bar is None:
            # opened after the first (compiling) step, so its rate and ETA are the steady state's
            from tqdm.auto import tqdm

            bar = tqdm(total=steps, desc=f"{label} ({solver})", leave=False)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{value:.3e}")
    if bar is not None:
        bar.close()
    if not diverged and not all(bool(jnp.all(jnp.isfinite(a))) for a in jax.tree_util.tree_leaves(trainable)):
        diverged = True
        warnings.warn("the last training step gave non-finite parameters; kept the previous ones", RuntimeWarning, stacklevel=2)
    final = last_good if diverged else trainable
    return merge(final, frozen), {"loss": history, "diverged": diverged, "step": step}
