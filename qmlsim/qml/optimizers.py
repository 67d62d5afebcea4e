"""Optimizers as ``(init, update)`` pairs of pure functions, vectorised over independent runs.

Parameters have shape ``(runs, num_params)``: several random restarts advance in
lockstep, so one loss call evaluates every run's points as one batch.

SPSA (Spall 1998) follows qiskit-machine-learning's ``SPSA`` defaults: Bernoulli +-1
perturbations, ``a_k = a / (A + k)^0.602``, ``c_k = c / k^0.101`` for ``k = 1, 2, ...``,
``c = 0.2``, and ``a`` calibrated so that the first step has magnitude ``2 pi / 10``
from 25 random perturbations at the initial point.

>>> import numpy as np
>>> loss = lambda p: ((p - 1.0) ** 2).sum(axis=1)
>>> x, curve = minimize_spsa(loss, np.zeros((1, 3)), maxiter=300, seed=0)
>>> bool(np.allclose(x, 1.0, atol=0.05))
True
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = [
    "Optimizer",
    "SPSAState",
    "spsa",
    "minimize_spsa",
    "AdamState",
    "adam",
]

Loss = Callable[[np.ndarray], np.ndarray]
"""A batched loss: ``(m, num_params) -> (m,)``."""


class Optimizer(NamedTuple):
    """An optimizer as two pure functions."""

    init: Callable[..., Any]
    update: Callable[..., Any]


class SPSAState(NamedTuple):
    """SPSA state: iteration ``k`` (starts at 0), calibrated gains ``a`` ``(runs,)``, the seed."""

    k: int
    a: np.ndarray
    seed: int


def _perturbation(seed: int, k: int, shape: tuple[int, ...]) -> np.ndarray:
    # A fresh generator per (seed, k) keeps update pure: same state, same step.
    return 1.0 - 2.0 * np.random.default_rng((seed, k)).integers(0, 2, size=shape)


def spsa(
    perturbation: float = 0.2,
    learning_rate: float | None = None,
    alpha: float = 0.602,
    gamma: float = 0.101,
    stability_constant: float = 0.0,
    target_magnitude: float = 2 * np.pi / 10,
    calibration_steps: int = 25,
) -> Optimizer:
    """Simultaneous-perturbation stochastic approximation.

    Args:
        perturbation: ``c``, the first perturbation size.
        learning_rate: ``a``; ``None`` calibrates it per run (qiskit-machine-learning's rule).
        alpha: learning-rate decay exponent.
        gamma: perturbation decay exponent.
        stability_constant: ``A``.
        target_magnitude: size of the first step that calibration aims for.
        calibration_steps: random perturbations averaged by the calibration.

    Returns:
        ``Optimizer(init, update)`` with
        ``init(loss, params (runs, P), seed) -> SPSAState`` and
        ``update(loss, params, state) -> (params, state, loss_estimate (runs,))``.

    Example:
        >>> opt = spsa(learning_rate=0.1)
        >>> loss = lambda p: (p ** 2).sum(axis=1)
        >>> state = opt.init(loss, np.ones((2, 4)), seed=0)
        >>> p, state, value = opt.update(loss, np.ones((2, 4)), state)
        >>> p.shape, value.shape, state.k
        ((2, 4), (2,), 1)
    """
    if perturbation <= 0:
        raise ValueError(f"perturbation must be > 0, got {perturbation}")

    def init(loss: Loss, params: np.ndarray, seed: int = 0) -> SPSAState:
        params = np.atleast_2d(np.asarray(params, dtype=float))
        runs = params.shape[0]
        if learning_rate is not None:
            return SPSAState(0, np.full(runs, float(learning_rate)), int(seed))
        deltas = _perturbation(seed, 0, (calibration_steps, runs, params.shape[1]))
        points = np.concatenate([params[None] + perturbation * deltas, params[None] - perturbation * deltas])
        values = np.asarray(loss(points.reshape(-1, params.shape[1]))).reshape(2, calibration_steps, runs)
        magnitude = np.abs((values[0] - values[1]) / (2 * perturbation)).mean(axis=0)
        a = np.where(magnitude > 0, target_magnitude / np.where(magnitude > 0, magnitude, 1.0), target_magnitude)
        # Qiskit's fallback when calibration finds a flat landscape.
        a = np.where(a < 1e-10, target_magnitude, a)
        return SPSAState(0, a, int(seed))

    def update(loss: Loss, params: np.ndarray, state: SPSAState) -> tuple[np.ndarray, SPSAState, np.ndarray]:
        k = state.k + 1
        ck = perturbation / k**gamma
        ak = state.a / (stability_constant + k) ** alpha
        delta = _perturbation(state.seed, k, params.shape)
        values = np.asarray(loss(np.concatenate([params + ck * delta, params - ck * delta])))
        plus, minus = values[: params.shape[0]], values[params.shape[0] :]
        gradient = ((plus - minus) / (2 * ck))[:, None] * delta
        return params - ak[:, None] * gradient, SPSAState(k, state.a, state.seed), (plus + minus) / 2

    return Optimizer(init, update)


def minimize_spsa(
    loss: Loss,
    params: np.ndarray,
    maxiter: int,
    seed: int = 0,
    callback: Callable[[int, np.ndarray], None] | None = None,
    progress: Any = None,
    **options: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Run :func:`spsa` for ``maxiter`` iterations on every run.

    Args:
        loss: ``(m, P) -> (m,)``.
        params: ``(runs, P)`` starting points.
        maxiter: iterations.
        seed: seed of the perturbations.
        callback: called as ``callback(iteration, loss_estimates (runs,))``.
        progress: an object with ``update(1)`` (a tqdm bar), advanced per iteration.
        **options: arguments of :func:`spsa`.

    Returns:
        ``(params (runs, P), curve (maxiter, runs))``; ``curve`` holds the mean of the
        two perturbed losses of each iteration (no extra evaluations).
    """
    opt = spsa(**options)
    params = np.atleast_2d(np.asarray(params, dtype=float))
    state = opt.init(loss, params, seed)
    curve = np.empty((maxiter, params.shape[0]))
    for it in range(maxiter):
        params, state, curve[it] = opt.update(loss, params, state)
        if callback is not None:
            callback(it, curve[it])
        if progress is not None:
            progress.update(1)
    return params, curve


class AdamState(NamedTuple):
    """Adam moments and step count."""

    k: int
    m: np.ndarray
    v: np.ndarray


def adam(learning_rate: float = 0.05, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam (Kingma and Ba 2015) on NumPy arrays.

    Returns:
        ``Optimizer(init, update)`` with ``init(params) -> AdamState`` and
        ``update(gradient, params, state) -> (params, state)``.

    Example:
        >>> opt = adam(0.1)
        >>> p = np.ones((1, 2)); s = opt.init(p)
        >>> for _ in range(200):
        ...     p, s = opt.update(2 * p, p, s)
        >>> bool(np.abs(p).max() < 0.05)
        True
    """
    if learning_rate <= 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate}")

    def init(params: np.ndarray) -> AdamState:
        return AdamState(0, np.zeros_like(params, dtype=float), np.zeros_like(params, dtype=float))

    def update(gradient: np.ndarray, params: np.ndarray, state: AdamState) -> tuple[np.ndarray, AdamState]:
        k = state.k + 1
        m = b1 * state.m + (1 - b1) * gradient
        v = b2 * state.v + (1 - b2) * gradient**2
        step = learning_rate * (m / (1 - b1**k)) / (np.sqrt(v / (1 - b2**k)) + eps)
        return params - step, AdamState(k, m, v)

    return Optimizer(init, update)
