"""Every optimizer of qmlsim, in one place: optax transformations and one training loop.

What optax (a core dependency) already has comes from optax: Adam and L-BFGS
(:func:`transform`); L-BFGS over losses that are not JAX functions comes from scipy.
SPSA, which optax lacks, is written here in optax's ``GradientTransformation`` form
(:func:`spsa_transform`), so :func:`minimize`, the loop the device-based models train
with, and the JAX training of :mod:`qmlsim.qml.qkan.training` take any of them.

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

import jax
import numpy as np
import optax

__all__ = [
    "Optimizer",
    "SPSAState",
    "spsa",
    "spsa_transform",
    "minimize_spsa",
    "AdamState",
    "adam",
    "transform",
    "minimize",
    "METHODS",
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
    rule = _SPSARule.checked(perturbation, learning_rate, alpha, gamma, stability_constant, target_magnitude, calibration_steps)

    def init(loss: Loss, params: np.ndarray, seed: int = 0) -> SPSAState:
        params = np.atleast_2d(np.asarray(params, dtype=float))
        return SPSAState(0, rule.calibrate(loss, params, int(seed)), int(seed))

    def update(loss: Loss, params: np.ndarray, state: SPSAState) -> tuple[np.ndarray, SPSAState, np.ndarray]:
        step, value = rule.step(loss, params, state)
        return params - step, SPSAState(state.k + 1, state.a, state.seed), value

    return Optimizer(init, update)


class _SPSARule(NamedTuple):
    """The SPSA gains and steps shared by :func:`spsa` and :func:`spsa_transform`."""

    perturbation: float
    learning_rate: float | None
    alpha: float
    gamma: float
    stability_constant: float
    target_magnitude: float
    calibration_steps: int

    @classmethod
    def checked(cls, *args: Any) -> _SPSARule:
        rule = cls(*args)
        if rule.perturbation <= 0:
            raise ValueError(f"perturbation must be > 0, got {rule.perturbation}")
        return rule

    def calibrate(self, loss: Loss, params: np.ndarray, seed: int) -> np.ndarray:
        """The gains ``a`` ``(runs,)``: fixed, or qiskit-machine-learning's calibration."""
        runs = params.shape[0]
        if self.learning_rate is not None:
            return np.full(runs, float(self.learning_rate))
        c, steps = self.perturbation, self.calibration_steps
        deltas = _perturbation(seed, 0, (steps, runs, params.shape[1]))
        points = np.concatenate([params[None] + c * deltas, params[None] - c * deltas])
        values = np.asarray(loss(points.reshape(-1, params.shape[1]))).reshape(2, steps, runs)
        magnitude = np.abs((values[0] - values[1]) / (2 * c)).mean(axis=0)
        a = np.where(magnitude > 0, self.target_magnitude / np.where(magnitude > 0, magnitude, 1.0), self.target_magnitude)
        # Qiskit's fallback when calibration finds a flat landscape.
        return np.where(a < 1e-10, self.target_magnitude, a)

    def step(self, loss: Loss, params: np.ndarray, state: SPSAState) -> tuple[np.ndarray, np.ndarray]:
        """``(step to subtract (runs, P), loss estimate (runs,))`` of iteration ``state.k + 1``."""
        k = state.k + 1
        ck = self.perturbation / k**self.gamma
        ak = state.a / (self.stability_constant + k) ** self.alpha
        delta = _perturbation(state.seed, k, params.shape)
        values = np.asarray(loss(np.concatenate([params + ck * delta, params - ck * delta])))
        plus, minus = values[: params.shape[0]], values[params.shape[0] :]
        gradient = ((plus - minus) / (2 * ck))[:, None] * delta
        return ak[:, None] * gradient, (plus + minus) / 2


def spsa_transform(
    perturbation: float = 0.2,
    learning_rate: float | None = None,
    alpha: float = 0.602,
    gamma: float = 0.101,
    stability_constant: float = 0.0,
    target_magnitude: float = 2 * np.pi / 10,
    calibration_steps: int = 25,
    seed: int = 0,
) -> optax.GradientTransformationExtraArgs:
    """:func:`spsa` as an optax transformation (same arguments, same steps).

    ``update(updates, state, params, *, value_fn)`` ignores ``updates`` (SPSA needs no
    gradient) and evaluates ``value_fn``, a batched loss ``(m, P) -> (m,)``, at two
    perturbed points per run; the first update calibrates the gains. The state's
    ``value`` is the mean of the two perturbed losses (the loss estimate).

    Example:
        >>> tx = spsa_transform(learning_rate=0.1)
        >>> loss = lambda p: (p ** 2).sum(axis=1)
        >>> p = np.ones((2, 4)); state = tx.init(p)
        >>> updates, state = tx.update(None, state, p, value_fn=loss)
        >>> (p + updates).shape, state.value.shape
        ((2, 4), (2,))
    """
    rule = _SPSARule.checked(perturbation, learning_rate, alpha, gamma, stability_constant, target_magnitude, calibration_steps)

    def init(params: Any) -> SPSATransformState:
        runs = np.atleast_2d(params).shape[0]
        return SPSATransformState(SPSAState(0, np.zeros(0), int(seed)), np.full(runs, np.nan))

    def update(updates: Any, state: SPSATransformState, params: Any = None, *, value_fn: Loss, **extra: Any) -> tuple[np.ndarray, SPSATransformState]:
        params = np.atleast_2d(np.asarray(params, dtype=float))
        inner = state.spsa
        if inner.k == 0 and inner.a.size == 0:
            inner = SPSAState(0, rule.calibrate(value_fn, params, inner.seed), inner.seed)
        step, value = rule.step(value_fn, params, inner)
        return -step, SPSATransformState(SPSAState(inner.k + 1, inner.a, inner.seed), value)

    return optax.GradientTransformationExtraArgs(init, update)


class SPSATransformState(NamedTuple):
    """State of :func:`spsa_transform`: SPSA's own state and the last loss estimate ``(runs,)``."""

    spsa: SPSAState
    value: np.ndarray


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
    return minimize("spsa", params, maxiter, loss=loss, seed=seed, callback=callback, progress=progress, **options)


class AdamState(NamedTuple):
    """Adam's state: the step count and optax's state."""

    k: int
    inner: Any


def adam(learning_rate: float = 0.05, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam (Kingma and Ba 2015) on NumPy arrays: ``optax.adam`` in float64.

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
    tx = optax.adam(learning_rate, b1=b1, b2=b2, eps=eps)

    def init(params: np.ndarray) -> AdamState:
        with jax.enable_x64(True):  # scoped: float64 moments, as the parameters
            return AdamState(0, tx.init(np.asarray(params, dtype=float)))

    def update(gradient: np.ndarray, params: np.ndarray, state: AdamState) -> tuple[np.ndarray, AdamState]:
        with jax.enable_x64(True):
            updates, inner = tx.update(np.asarray(gradient, dtype=float), state.inner, params)
            return np.asarray(params) + np.asarray(updates), AdamState(state.k + 1, inner)

    return Optimizer(init, update)


METHODS = ("spsa", "adam", "lbfgs")
"""The optimizers :func:`transform` and :func:`minimize` know."""


def transform(method: str, learning_rate: float | None = None, **options: Any) -> optax.GradientTransformationExtraArgs:
    """The optax transformation of ``method``: ``"adam"`` (default step 1e-2), ``"lbfgs"``
    (optax's, with its zoom line search; ``learning_rate`` scales it) or ``"spsa"``
    (:func:`spsa_transform`; ``options`` are its arguments).

    Example:
        >>> type(transform("adam", 0.1)).__name__
        'GradientTransformationExtraArgs'
    """
    if method == "adam":
        return optax.with_extra_args_support(optax.adam(1e-2 if learning_rate is None else learning_rate))
    if method == "lbfgs":
        return optax.lbfgs(learning_rate=learning_rate, memory_size=50)
    if method == "spsa":
        return spsa_transform(learning_rate=learning_rate, **options)
    raise ValueError(f"optimizer must be one of {', '.join(METHODS)}, got {method!r}")


ValueAndGrad = Callable[..., "tuple[np.ndarray, np.ndarray]"]


def minimize(
    method: str,
    params: np.ndarray,
    maxiter: int,
    loss: Loss | None = None,
    value_and_grad: ValueAndGrad | None = None,
    learning_rate: float | None = None,
    seed: int = 0,
    callback: Callable[[int, np.ndarray], None] | None = None,
    progress: Any = None,
    **options: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """The training loop of models whose loss is a NumPy function (a device in the loop).

    Args:
        method: ``"spsa"`` (needs ``loss``), ``"adam"`` or ``"lbfgs"`` (need
            ``value_and_grad``; L-BFGS is scipy's ``L-BFGS-B``, one run after another).
        params: ``(runs, P)`` starting points.
        maxiter: iterations.
        loss: batched ``(m, P) -> (m,)``.
        value_and_grad: ``(points (m, P), run_ids (m,) or None) -> (values (m,), gradients (m, P))``.
        learning_rate: Adam's step (default 0.05); SPSA's ``a`` (default calibrated).
        seed: SPSA's perturbation seed.
        callback: ``callback(iteration, losses (runs,))``.
        progress: an object with ``update(1)`` (a tqdm bar).
        **options: further arguments of :func:`spsa_transform`.

    Returns:
        ``(params (runs, P), curve (maxiter, runs))``.

    Example:
        >>> vg = lambda p, runs=None: (((p - 1) ** 2).sum(axis=1), 2 * (p - 1))
        >>> p, curve = minimize("lbfgs", np.zeros((1, 2)), 50, value_and_grad=vg)
        >>> bool(np.allclose(p, 1.0, atol=1e-6))
        True
    """
    params = np.atleast_2d(np.asarray(params, dtype=float))
    if method == "lbfgs":
        return _minimize_lbfgs(value_and_grad, params, maxiter, callback, progress)
    if method == "spsa":
        tx = spsa_transform(learning_rate=learning_rate, seed=seed, **options)
    elif method == "adam":
        opt = adam(0.05 if learning_rate is None else learning_rate)
    else:
        raise ValueError(f"optimizer must be one of {', '.join(METHODS)}, got {method!r}")
    state = tx.init(params) if method == "spsa" else opt.init(params)
    curve = np.empty((maxiter, params.shape[0]))
    for it in range(maxiter):
        if method == "spsa":
            updates, state = tx.update(None, state, params, value_fn=loss)
            params, curve[it] = params + updates, state.value
        else:
            curve[it], gradient = value_and_grad(params)
            params, state = opt.update(gradient, params, state)
        if callback is not None:
            callback(it, curve[it])
        if progress is not None:
            progress.update(1)
    return params, curve


def _minimize_lbfgs(value_and_grad: ValueAndGrad, params: np.ndarray, maxiter: int, callback: Any, progress: Any) -> tuple[np.ndarray, np.ndarray]:
    # scipy's L-BFGS-B: the loss runs circuits on a device, so it is not a JAX function for optax.lbfgs
    from scipy.optimize import minimize as scipy_minimize  # noqa: PLC0415

    out, curves = [], []
    for run in range(params.shape[0]):
        history: list[float] = []

        def fun(p: np.ndarray) -> tuple[float, np.ndarray]:
            value, gradient = value_and_grad(p[None, :], np.array([run]))
            return float(value[0]), gradient[0]

        def record(intermediate_result: Any) -> None:
            history.append(float(intermediate_result.fun))
            if callback is not None:
                callback(len(history) - 1, np.array([history[-1]]))
            if progress is not None and run == 0:
                progress.update(1)

        result = scipy_minimize(fun, params[run], jac=True, method="L-BFGS-B", options={"maxiter": maxiter}, callback=record)
        out.append(result.x)
        curves.append(history + [history[-1] if history else result.fun] * (maxiter - len(history)))
    return np.array(out), np.array(curves).T
