"""Time series for sequence models: windows of past values -> the next value.

Each generator returns ``(X_train, y_train, X_test, y_test)`` with ``X`` of shape
``(n, window, features)`` and ``y`` of shape ``(n,)``. As in the QFWP and QLSTM reference
code (Chen 2024; Chen, Yoo, Fang 2022): the series is min-max scaled to ``[-1, 1]``
as a whole, cut into windows of ``window`` consecutive values whose target is the value
after them (``len - window - 1`` windows), and split chronologically, the first 67% for
training. Nothing is downloaded: every series is generated here.

>>> X, y, X_test, y_test = damped_pendulum()
>>> X.shape, y.shape, X_test.shape
((157, 4, 1), (157,), (78, 4, 1))
"""
from __future__ import annotations

import numpy as np
from scipy.integrate import odeint
from scipy.special import jv

__all__ = ["damped_pendulum", "bessel_j2", "delayed_control", "narma", "windows", "TRAIN_FRACTION"]

TRAIN_FRACTION = 0.67


def _check_window(window: int, length: int) -> int:
    if not isinstance(window, (int, np.integer)) or isinstance(window, bool) or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    if window + 1 >= length:
        raise ValueError(
            f"a window of {window} needs a series of at least {window + 2} values (window, target, and one more "
            f"as in the reference split); this series has {length}: use a shorter window or a longer series"
        )
    return int(window)


def windows(
    series: np.ndarray, window: int = 4, train_fraction: float = TRAIN_FRACTION, scale: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scale a series to ``[-1, 1]``, cut it into windows and split it chronologically.

    Args:
        series: ``(length,)`` or ``(length, features)``; the target is feature 0.
        window: values per input sequence.
        train_fraction: share of the windows (the earliest) used for training.
        scale: min-max scale every feature to ``[-1, 1]`` first.

    Returns:
        ``(X_train, y_train, X_test, y_test)``, ``X`` ``(n, window, features)``, ``y`` ``(n,)``.

    Raises:
        ValueError: NaN or infinite values, a window longer than the series, or a split
            that leaves a side empty.

    Example:
        >>> X, y, _, _ = windows(np.arange(10.0), window=3, scale=False)
        >>> X[0, :, 0].tolist(), float(y[0])
        ([0.0, 1.0, 2.0], 3.0)
    """
    values = np.asarray(series, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"series must be (length,) or (length, features), got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(values), axis=1))[0])
        raise ValueError(f"the series has NaN or infinite values (first at index {bad}); fill or drop them first")
    window = _check_window(window, len(values))
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction!r}")
    if scale:
        low, high = values.min(axis=0), values.max(axis=0)
        values = 2.0 * (values - low) / np.where(high > low, high - low, 1.0) - 1.0
    count = len(values) - window - 1  # as the reference loaders: the last possible window is left out
    X = np.stack([values[i : i + window] for i in range(count)])
    y = values[window : window + count, 0].copy()
    split = int(train_fraction * count)
    if split < 1 or split >= count:
        raise ValueError(f"{count} windows split at {train_fraction} leave one side empty; use a longer series")
    return X[:split], y[:split], X[split:], y[split:]


def damped_pendulum(
    window: int = 4, points: int = 240, damping: float = 0.15, gravity: float = 9.81, length: float = 1.0,
    mass: float = 1.0, initial_velocity: float = 3.0, duration: float = 20.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Angular velocity of a damped pendulum ``theta'' = -(b/m) theta' - (g/L) sin(theta)``.

    The defaults are the QFWP reference (``b = 0.15``, ``g = 9.81``, ``m = L = 1``,
    ``theta(0) = 0``, ``theta'(0) = 3``, 240 points on ``[0, 20]``): 157 training and 78
    test windows of 4.
    """
    def rhs(state: np.ndarray, _t: float) -> list[float]:
        theta, omega = state
        return [omega, -(damping / mass) * omega - (gravity / length) * np.sin(theta)]

    t = np.linspace(0.0, duration, points)
    trajectory = odeint(rhs, [0.0, initial_velocity], t)
    return windows(trajectory[:, 1], window)


def bessel_j2(window: int = 4, points: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The Bessel function ``J_2(x)`` on ``points`` values of ``x`` in ``[2, 100]``."""
    return windows(jv(2, np.linspace(2.0, 100.0, points)), window)


def delayed_control(window: int = 4, step: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The delayed quantum control pulse train ``sum_{n=0}^{10} exp(-10 (x - 2n)^2) exp(-x/16)``, ``x`` in ``[-2, 20)``."""
    x = np.arange(-2.0, 20.0, step)
    pulses = np.exp(-10.0 * (x[:, None] - 2.0 * np.arange(11)[None, :]) ** 2).sum(axis=1)
    return windows(pulses * np.exp(-x / 16.0), window)


def narma(
    order: int = 5, window: int = 4, length: int = 300, seed: int = 0, include_input: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A NARMA series, ``y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i<order} y(t-i) + 1.5 u(t-order+1) u(t) + 0.1``.

    The drive ``u(t)`` is uniform on ``[0, 0.5]`` (seeded). This is the standard NARMA
    definition; which drive Chen's papers used is not known to us (inferred, see
    ``docs/qfwp.md``). With ``include_input`` the windows carry ``(y, u)`` (2 features)
    instead of ``y`` alone.
    """
    if order not in (5, 10):
        raise ValueError(f"order must be 5 or 10, got {order!r}")
    if length < order + window + 2:
        raise ValueError(f"length {length} is too short for order {order} and window {window}")
    u = np.random.default_rng(seed).uniform(0.0, 0.5, length)
    y = np.zeros(length)
    for t in range(order - 1, length - 1):
        y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * y[t - order + 1 : t + 1].sum() + 1.5 * u[t - order + 1] * u[t] + 0.1
    series = np.stack([y, u], axis=1) if include_input else y
    return windows(series, window)
