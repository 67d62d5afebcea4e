"""Bounded polynomial approximations in the Chebyshev basis, ready for QSP.

Every polynomial here is a :class:`QSPPolynomial`, a ``numpy.polynomial.Chebyshev`` that
also records what it approximates: ``target`` (the scaled function), ``scale``,
``error`` (max ``|p - target|`` on a dense grid, on the region the approximation is
meant for) and ``parity``. Coefficients are computed from function values at Chebyshev
nodes (a discrete cosine transform), never through the monomial basis, whose
coefficients reach 1e11 by degree 41 and lose every digit by degree 61.

Each constructor scales its result so that ``max |p| = max_scale`` on ``[-1, 1]``
(default 0.9, pyqsp's choice): QSP can only realise polynomials bounded by 1, and
staying away from 1 keeps the angle finders well conditioned.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numpy.polynomial import Chebyshev

__all__ = [
    "QSPPolynomial",
    "chebyshev_approximation",
    "sign_polynomial",
    "erf_polynomial",
    "shifted_sign_polynomial",
    "threshold_polynomial",
    "inverse_polynomial",
    "cos_polynomial",
    "sin_polynomial",
    "gibbs_polynomial",
    "max_abs",
    "parity_of",
]

DEFAULT_MAX_SCALE = 0.9


class QSPPolynomial(Chebyshev):
    """A Chebyshev series with what it approximates (final class).

    Attributes:
        target: the function it approximates, scale included (``None`` for plain arithmetic results).
        scale: the factor applied to the function so that ``max |p| = max_scale``.
        error: max ``|p(x) - target(x)|`` over a dense grid of ``domain_check``.
        parity: 0 (even), 1 (odd) or ``None`` (mixed).
        domain_check: the intervals ``[(lo, hi), ...]`` where ``error`` is measured.
        description: what was approximated, in words.
    """

    target: Callable[[np.ndarray], np.ndarray] | None = None
    scale: float = 1.0
    error: float = math.nan
    parity: int | None = None
    domain_check: tuple[tuple[float, float], ...] = ((-1.0, 1.0),)
    description: str = ""

    def __repr__(self) -> str:
        what = self.description or "Chebyshev series"
        return f"QSPPolynomial({what}, degree {self.degree()}, scale {self.scale:.6g}, error {self.error:.2e})"


# --- helpers ------------------------------------------------------------------------------
_erf = np.frompyfunc(math.erf, 1, 1)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function elementwise (``math.erf``; this layer uses NumPy and the standard library only)."""
    return np.asarray(_erf(np.asarray(x, dtype=float)), dtype=float)


def parity_of(coef: np.ndarray, rtol: float = 1e-14) -> int | None:
    """0 if only even Chebyshev coefficients are nonzero (relative to the largest), 1 if only odd, else ``None``."""
    coef = np.asarray(coef)
    size = np.abs(coef).max(initial=0.0)
    if size == 0:
        return 0
    odd_part, even_part = np.abs(coef[1::2]).max(initial=0.0), np.abs(coef[0::2]).max(initial=0.0)
    if odd_part <= rtol * size:
        return 0
    if even_part <= rtol * size:
        return 1
    return None


def chebyshev_coefficients(f: Callable[[np.ndarray], np.ndarray], num_nodes: int) -> np.ndarray:
    """Coefficients of the interpolant of ``f`` at ``num_nodes`` first-kind Chebyshev nodes (a cosine transform).

    ``c_k = (2 / N) sum_j f(cos t_j) cos(k t_j)``, ``t_j = pi (j + 1/2) / N``; ``c_0`` halved.
    Exact for polynomials of degree below ``N``, and the near-best approximation otherwise.
    """
    n = int(num_nodes)
    theta = np.pi * (np.arange(n) + 0.5) / n
    values = np.asarray(f(np.cos(theta)), dtype=complex)
    # the cosine transform by one FFT of the even extension (O(N log N), no N x N matrix)
    extended = np.concatenate([values, values[::-1]])
    spectrum = np.fft.fft(extended)[:n] * np.exp(-0.5j * np.pi * np.arange(n) / n) / n
    coef = np.array(spectrum.real if not np.any(values.imag) else spectrum)
    coef[0] /= 2
    return coef


def _dense_theta(degree: int) -> np.ndarray:
    return np.linspace(0.0, np.pi, 16 * max(degree, 8) + 1)


def max_abs(p: Chebyshev) -> float:
    """``max |p(x)|`` over ``[-1, 1]``: a dense grid in ``theta = arccos x``, refined by Newton steps on ``p'``."""
    theta = _dense_theta(p.degree())
    values = np.abs(p(np.cos(theta)))
    best = float(values.max())
    # refine the largest local maxima of |p| (grid error is second order in the spacing)
    peaks = np.flatnonzero((values[1:-1] >= values[:-2]) & (values[1:-1] >= values[2:])) + 1
    peaks = peaks[np.argsort(values[peaks])[::-1][:16]]
    if peaks.size:
        x = np.cos(theta[peaks])
        d1, d2 = p.deriv(), p.deriv(2)
        for _ in range(4):
            curvature = d2(x)
            step = np.where(np.abs(curvature) > 0, d1(x) / np.where(curvature == 0, 1.0, curvature), 0.0)
            x = np.clip(x - step, -1.0, 1.0)
        best = max(best, float(np.abs(p(x)).max()))
    return max(best, float(abs(p(1.0))), float(abs(p(-1.0))))


def _make(
    coef: np.ndarray,
    function: Callable[[np.ndarray], np.ndarray],
    max_scale: float | None,
    description: str,
    domain_check: tuple[tuple[float, float], ...] = ((-1.0, 1.0),),
    parity: int | None = None,
) -> QSPPolynomial:
    coef = np.array(coef, dtype=float)
    if parity is not None:
        coef[1 - parity :: 2] = 0.0  # exact parity: the other half is rounding noise
    raw = Chebyshev(coef)
    scale = 1.0
    if max_scale is not None:
        _check_max_scale(max_scale)
        scale = max_scale / max_abs(raw)
    p = QSPPolynomial(coef * scale)
    p.scale = float(scale)
    p.target = lambda x, f=function, s=scale: s * np.asarray(f(np.asarray(x, dtype=float)))
    p.parity = parity_of(p.coef) if parity is None else parity
    p.domain_check = tuple(domain_check)
    p.description = description
    p.error = _error(p, domain_check)
    return p


def _error(p: QSPPolynomial, domain_check: tuple[tuple[float, float], ...]) -> float:
    worst = 0.0
    for lo, hi in domain_check:
        # Chebyshev-spaced points of the interval plus a uniform grid
        count = 8 * max(p.degree(), 32) + 1
        x = np.concatenate([
            (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.linspace(0, np.pi, count)), np.linspace(lo, hi, count)
        ])
        worst = max(worst, float(np.abs(p(x) - p.target(x)).max()))
    return worst


def _check_max_scale(max_scale: float) -> None:
    if not 0 < max_scale <= 1:
        raise ValueError(f"max_scale must be in (0, 1] (QSP realises only |P| <= 1), got {max_scale}")


def _check_degree(degree: int, parity: int | None = None, name: str = "degree") -> int:
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {degree!r}")
    if parity is not None and degree % 2 != parity:
        kind = "odd" if parity else "even"
        raise ValueError(f"this polynomial is {kind}: pass an {kind} degree (for example {degree + 1})")
    return int(degree)


# --- user functions -----------------------------------------------------------------------
def chebyshev_approximation(
    f: Callable[[np.ndarray], np.ndarray],
    degree: int | None = None,
    eps: float = 1e-12,
    parity: int | None = None,
    max_scale: float | None = DEFAULT_MAX_SCALE,
    max_degree: int = 100_000,
) -> QSPPolynomial:
    """Chebyshev interpolant of any function on ``[-1, 1]``, with its error.

    Args:
        f: a vectorised real function of ``x`` (array in, array out).
        degree: the degree; ``None`` doubles it from 16 until the coefficient tail falls below ``eps``.
        eps: the target accuracy when ``degree`` is ``None``.
        parity: force even (0) or odd (1) parity (QSP with symmetric phases needs one).
        max_scale: scale so that ``max |p| = max_scale``; ``None`` keeps ``f``'s own scale.
        max_degree: the largest degree the adaptive search tries.

    Returns:
        The :class:`QSPPolynomial`; ``p.error`` is ``max |p - scale * f|`` on a dense grid.

    Example:
        >>> import numpy as np
        >>> p = chebyshev_approximation(np.cos, max_scale=None)
        >>> p.degree() <= 32 and p.error < 1e-13
        True
    """
    if degree is None:
        degree = 16
        while True:
            coef = chebyshev_coefficients(f, 2 * degree + 1)
            tail = np.abs(coef[degree + 1 :]).sum()
            if tail <= eps * max(1.0, np.abs(coef).max()) or degree >= max_degree:
                break
            degree *= 2
        coef = coef[: degree + 1]
        nonzero = np.flatnonzero(np.abs(coef) > eps * 1e-3)
        coef = coef[: (nonzero[-1] + 1 if nonzero.size else 1)]
    else:
        degree = _check_degree(degree, parity)
        coef = chebyshev_coefficients(f, 2 * degree + 1)[: degree + 1]
    return _make(np.real(coef), f, max_scale, getattr(f, "__name__", "f"), parity=parity)


# --- the polynomials QSP algorithms need ----------------------------------------------------
def erf_polynomial(degree: int, delta: float, max_scale: float = DEFAULT_MAX_SCALE) -> QSPPolynomial:
    """Odd polynomial close to ``erf(delta x)`` (the smooth sign function), scaled to ``max_scale``.

    Truncated Chebyshev series of ``erf(delta x)``: degree about ``4 delta`` reaches 1e-3,
    and the error falls exponentially beyond (``p.error`` reports it).

    Example:
        >>> p = erf_polynomial(41, delta=10)
        >>> p.parity, round(max_abs(p), 12)
        (1, 0.9)
    """
    degree = _check_degree(degree, parity=1)
    delta = _positive(delta, "delta")
    coef = chebyshev_coefficients(lambda x: erf(delta * x), 2 * degree + 64)[: degree + 1]
    return _make(coef, lambda x: erf(delta * x), max_scale, f"erf({delta:g} x)", parity=1)


def sign_polynomial(degree: int, delta: float, max_scale: float = DEFAULT_MAX_SCALE) -> QSPPolynomial:
    """Odd polynomial approximating ``max_scale * sign(x)`` through ``erf(delta x)``, as pyqsp's ``PolySign``.

    ``p.target`` and ``p.error`` refer to the smooth ``scale * erf(delta x)``; away from
    ``|x| < 2/delta`` that is the sign function up to ``erfc(2)``-small terms.

    Args:
        degree: odd degree.
        delta: steepness; the transition has width about ``1/delta``.
        max_scale: ``max |p|`` on ``[-1, 1]``.

    Returns:
        The :class:`QSPPolynomial` (a ``numpy.polynomial.Chebyshev``).

    Example:
        >>> p = sign_polynomial(161, delta=20)
        >>> bool(abs(p(0.5) - 0.9) < 1e-3) and p.parity == 1
        True
    """
    p = erf_polynomial(degree, delta, max_scale)
    p.description = f"sign(x) via erf({delta:g} x)"
    return p


def shifted_sign_polynomial(
    degree: int, delta: float, shift: float, max_scale: float = DEFAULT_MAX_SCALE
) -> QSPPolynomial:
    """Polynomial close to ``erf(delta (x - shift))``: the sign of ``x - shift`` (no definite parity; use GQSP).

    Example:
        >>> p = shifted_sign_polynomial(80, delta=10, shift=0.3)
        >>> bool(p(0.8) > 0.8 and p(-0.2) < -0.8) and p.parity is None
        True
    """
    degree = _check_degree(degree)
    delta = _positive(delta, "delta")
    if not -1 < shift < 1:
        raise ValueError(f"shift must lie inside (-1, 1), got {shift}")
    f = lambda x: erf(delta * (x - shift))  # noqa: E731
    coef = chebyshev_coefficients(f, 2 * degree + 64)[: degree + 1]
    return _make(coef, f, max_scale, f"erf({delta:g} (x - {shift:g}))")


def threshold_polynomial(
    degree: int, delta: float, width: float = 0.5, max_scale: float = DEFAULT_MAX_SCALE
) -> QSPPolynomial:
    """Even polynomial close to the rectangle ``1`` on ``|x| < width``, ``0`` outside (pyqsp's ``PolyThreshold``).

    The smooth target is ``(erf(delta (x + width)) - erf(delta (x - width))) / 2``.

    Example:
        >>> p = threshold_polynomial(100, delta=20)
        >>> bool(abs(p(0.0) - 0.9) < 1e-3 and abs(p(0.9)) < 1e-3)
        True
    """
    degree = _check_degree(degree, parity=0)
    delta = _positive(delta, "delta")
    if not 0 < width < 1:
        raise ValueError(f"width must lie in (0, 1), got {width}")
    f = lambda x: (erf(delta * (x + width)) - erf(delta * (x - width))) / 2  # noqa: E731
    coef = chebyshev_coefficients(f, 2 * degree + 64)[: degree + 1]
    return _make(coef, f, max_scale, f"rect(|x| < {width:g}), steepness {delta:g}", parity=0)


def inverse_polynomial(
    kappa: float, eps: float = 1e-6, degree: int | None = None, max_scale: float = DEFAULT_MAX_SCALE
) -> QSPPolynomial:
    """Odd polynomial close to ``scale / (kappa x)`` on ``1/kappa <= |x| <= 1`` (for QSVT linear solvers).

    Approximates ``f(x) = (1 - exp(-(c kappa x)^2)) / (kappa x)`` with ``c = sqrt(log(1/eps))``:
    smooth and odd, equal to ``1/(kappa x)`` up to a relative ``eps`` where ``|x| >= 1/kappa``,
    bounded by ``0.64 c`` near 0. Degree ``O(kappa log(1/eps))``. ``p.error`` is measured on
    ``1/kappa <= |x| <= 1`` against ``scale / (kappa x)``, so it includes the ``eps`` of the smoothing
    (``p.target`` is ``scale / (kappa x)`` there and the smoothed function in the gap).

    Args:
        kappa: condition number bound (``>= 1``): the matrix's eigenvalues satisfy ``1/kappa <= |lambda| <= 1``.
        eps: relative accuracy on that domain.
        degree: odd degree; ``None`` picks the smallest (doubling) that meets ``eps``.
        max_scale: ``max |p|`` on ``[-1, 1]``.

    Example:
        >>> p = inverse_polynomial(kappa=4, eps=1e-4)
        >>> x = 0.5
        >>> bool(abs(p(x) - p.scale / (4 * x)) < 1e-4 * p.scale)
        True
    """
    kappa = _positive(kappa, "kappa")
    if kappa < 1:
        raise ValueError(f"kappa is a condition number bound, at least 1; got {kappa}")
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    c = math.sqrt(math.log(1 / eps))

    def f(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        y = c * kappa * x
        small = np.abs(y) < 1e-8
        safe = np.where(small, 1.0, x)
        return np.where(small, c * c * kappa * x, -np.expm1(-(y**2)) / (kappa * safe))

    def exact(x: np.ndarray) -> np.ndarray:  # 1/(kappa x) on the domain, the smoothed f inside the gap
        x = np.asarray(x, dtype=float)
        inside = np.abs(x) >= 1.0 / kappa
        return np.where(inside, 1.0 / (kappa * np.where(inside, x, 1.0)), f(x))

    domain = ((-1.0, -1.0 / kappa), (1.0 / kappa, 1.0))
    if degree is None:
        degree = 1
        while True:
            degree = 2 * degree + 1
            coef = chebyshev_coefficients(f, 2 * degree + 64)[: degree + 1]
            probe = _make(coef, exact, None, "", domain, parity=1)
            if probe.error <= eps or degree > 200_000:
                break
    else:
        degree = _check_degree(degree, parity=1)
        coef = chebyshev_coefficients(f, 2 * degree + 64)[: degree + 1]
    return _make(coef, exact, max_scale, f"1/({kappa:g} x) on 1/kappa <= |x| <= 1", domain, parity=1)


def _jacobi_anger(t: float, eps: float, degree: int | None, max_scale: float | None, parity: int) -> QSPPolynomial:
    """``cos(t x)`` (parity 0) or ``sin(t x)`` (parity 1) truncated where the Bessel tail falls below ``eps``."""
    if degree is None:
        # |J_k(t)| <= (|t|/2)^k / k!: past k ~ e|t|/2 + log(1/eps) the tail is below eps
        degree = int(math.ceil(math.e * abs(t) / 2 + math.log(1 / eps))) + 8
        degree += (degree % 2) != parity
    else:
        degree = _check_degree(degree, parity)
    fn, name = (np.cos, "cos") if parity == 0 else (np.sin, "sin")
    f = lambda x: fn(t * x)  # noqa: E731
    coef = chebyshev_coefficients(f, 2 * degree + 64)[: degree + 1]
    return _make(coef, f, max_scale, f"{name}({t:g} x)", parity=parity)


def cos_polynomial(
    t: float, eps: float = 1e-12, degree: int | None = None, max_scale: float = DEFAULT_MAX_SCALE
) -> QSPPolynomial:
    """Even polynomial close to ``cos(t x)`` (Jacobi-Anger: ``J_0(t) + 2 sum_k (-1)^k J_2k(t) T_2k(x)``).

    Example:
        >>> p = cos_polynomial(5.0, max_scale=None)
        >>> bool(abs(p(0.3) - math.cos(1.5)) < 1e-12)
        True
    """
    return _jacobi_anger(float(t), eps, degree, max_scale, 0)


def sin_polynomial(
    t: float, eps: float = 1e-12, degree: int | None = None, max_scale: float = DEFAULT_MAX_SCALE
) -> QSPPolynomial:
    """Odd polynomial close to ``sin(t x)`` (Jacobi-Anger: ``2 sum_k (-1)^k J_2k+1(t) T_2k+1(x)``).

    Example:
        >>> p = sin_polynomial(5.0, max_scale=None)
        >>> bool(abs(p(0.3) - math.sin(1.5)) < 1e-12)
        True
    """
    return _jacobi_anger(float(t), eps, degree, max_scale, 1)


def gibbs_polynomial(
    beta: float, eps: float = 1e-12, degree: int | None = None, max_scale: float = DEFAULT_MAX_SCALE
) -> QSPPolynomial:
    """Polynomial close to ``exp(-beta (x + 1))`` on ``[-1, 1]`` (Gibbs-state preparation; no definite parity).

    Example:
        >>> p = gibbs_polynomial(2.0, max_scale=None)
        >>> bool(abs(p(0.0) - math.exp(-2.0)) < 1e-12)
        True
    """
    beta = _positive(beta, "beta")
    f = lambda x: np.exp(-beta * (np.asarray(x) + 1))  # noqa: E731
    if degree is None:
        return _named(chebyshev_approximation(f, eps=eps, max_scale=max_scale), f"exp(-{beta:g} (x + 1))")
    degree = _check_degree(degree)
    coef = chebyshev_coefficients(f, 2 * degree + 64)[: degree + 1]
    return _make(coef, f, max_scale, f"exp(-{beta:g} (x + 1))")


def _named(p: QSPPolynomial, description: str) -> QSPPolynomial:
    p.description = description
    return p


def _positive(value: float, name: str) -> float:
    value = float(value)
    if not value > 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be a positive number, got {value}")
    return value


def as_chebyshev_coefficients(p: Chebyshev | np.ndarray | list) -> np.ndarray:
    """Chebyshev coefficients of ``p`` (a ``Chebyshev`` on the default domain, or a coefficient sequence)."""
    if isinstance(p, Chebyshev):
        if not (np.allclose(p.domain, [-1, 1]) and np.allclose(p.window, [-1, 1])):
            raise ValueError("the Chebyshev series must be on the default domain and window [-1, 1]")
        return np.asarray(p.coef)
    if hasattr(p, "coef") and not isinstance(p, np.ndarray):
        raise TypeError(
            f"{type(p).__name__} is not a Chebyshev series; convert with p.convert(kind=numpy.polynomial.Chebyshev)"
        )
    coef = np.asarray(p)
    if coef.ndim != 1 or coef.size == 0:
        raise ValueError(f"Chebyshev coefficients must be a non-empty 1-D sequence, got shape {coef.shape}")
    return coef

