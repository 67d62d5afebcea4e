"""Generalized QSP (Motlagh and Wiebe, arXiv:2308.01501): any polynomial in a unitary, angles by peeling.

For ``P(z) = sum_k p_k z^k`` of degree ``d`` with ``|P| <= 1`` on the unit circle, the circuit
(our ``gqsp`` gate is PennyLane's ``qml.GQSP`` rotation ``R(theta, phi, lam)``)::

    R(theta_0, phi_0, lam_0), then d times: U controlled on the ancilla being |0>, R(theta_j, phi_j, lam_j)

has ``P(U)`` in the ancilla-``|0>`` block. The angles come from the pair ``(P, Q)`` with
``|P|^2 + |Q|^2 = 1`` on the circle: each step reads one rotation off the top coefficients
and lowers the degree by one (the peeling of the paper's Theorem 3).

The complementary ``Q`` is the outer (minimum-phase) Fejer-Riesz factor of
``1 - |P|^2``, computed from the FFT of ``log(1 - |P|^2)`` (a Hilbert transform) rather than
by polynomial root finding, which is what limits PennyLane's GQSP angles to 1e-6 - 1e-7.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["complementary_polynomial", "gqsp_angles", "gqsp_matrix", "laurent_series"]


def _grid_size(degree: int, floor: int = 1 << 14) -> int:
    return max(floor, 1 << int(np.ceil(np.log2(64 * (degree + 1)))))


def laurent_series(function: Any, size: int, tol: float = 0.0, half_degree: int | None = None) -> np.ndarray:
    """Coefficients ``c_{-m} .. c_m`` of a smooth periodic ``function(theta) = sum_k c_k e^{i k theta}``, by one FFT.

    ``size`` grid points; ``m`` is ``half_degree`` when given, else the largest ``|k|`` with
    ``|c_k| > tol``. Times ``z^m``, the result is the GQSP polynomial (low to high) whose
    ``P(U) U^-m`` is the function of ``U``'s eigenphases.

    Example:
        >>> np.allclose(laurent_series(np.cos, 64, tol=1e-12), [0.5, 0.0, 0.5], atol=1e-15)
        True
    """
    theta = 2 * np.pi * np.arange(size) / size
    spectrum = np.fft.fft(function(theta)) / size  # the coefficient of e^{+i k theta}, k mod size
    if half_degree is None:
        k = np.arange(size)
        k = np.where(k < size // 2, k, k - size)
        keep = np.abs(spectrum) > tol
        half_degree = int(np.abs(k[keep]).max()) if keep.any() else 0
    m = int(half_degree)
    return np.concatenate([spectrum[size - m :], spectrum[: m + 1]]) if m else spectrum[:1]


def _check_poly(coefficients: np.ndarray) -> np.ndarray:
    p = np.asarray(coefficients, dtype=complex)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"polynomial coefficients must be a non-empty 1-D sequence (low to high), got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("the polynomial has NaN or infinite coefficients")
    return p


def complementary_polynomial(coefficients: np.ndarray, max_modulus: float = 1 - 1e-12) -> np.ndarray:
    """``Q`` of the same degree as ``P`` with ``|P(z)|^2 + |Q(z)|^2 = 1`` on ``|z| = 1`` (coefficients low to high).

    Args:
        coefficients: ``p_0 .. p_d`` of ``P(z) = sum_k p_k z^k`` (complex allowed).
        max_modulus: the largest ``|P|`` accepted on the circle.

    Raises:
        ValueError: ``max |P| > max_modulus`` on the circle (the message gives the scale to apply).

    Example:
        >>> p = np.array([0.3, 0.2j, 0.4])
        >>> q = complementary_polynomial(p)
        >>> z = np.exp(1j * np.linspace(0, 2 * np.pi, 9))
        >>> bool(np.allclose(abs(np.polyval(p[::-1], z))**2 + abs(np.polyval(q[::-1], z))**2, 1))
        True
    """
    p = _check_poly(coefficients)
    d = p.size - 1
    n = _grid_size(d)
    # P on the n-th roots of unity: P(w^j) = sum_k p_k w^{jk} = n * ifft(p)_j
    values = np.fft.ifft(p, n) * n
    peak = float(np.abs(values).max())
    if peak > max_modulus:
        raise ValueError(
            f"max |P| on the unit circle is {peak:.6g}; GQSP needs |P| < 1: scale the polynomial by {0.99 / peak:.6g}"
        )
    # log|Q| = log(1 - |P|^2) / 2 on the circle; the analytic (outer) Q has
    # log Q = c_0 + 2 sum_{k>0} c_k z^k with c_k the Fourier coefficients of log|Q|
    log_modulus = 0.5 * np.log1p(-np.abs(values) ** 2)
    c = np.fft.fft(log_modulus) / n  # c_k multiplies e^{ik theta}; log|Q| is real, so c_{-k} = conj(c_k)
    analytic = np.zeros(n, dtype=complex)
    analytic[0] = c[0]
    analytic[1 : n // 2] = 2 * c[1 : n // 2]
    q_values = np.exp(np.fft.ifft(analytic) * n)
    q = np.fft.fft(q_values) / n
    return q[: d + 1]


def gqsp_angles(coefficients: np.ndarray, complementary: np.ndarray | None = None) -> np.ndarray:
    """GQSP angles ``(3, d + 1)`` = ``(theta, phi, lam)`` putting ``P(U)`` in the ancilla-``|0>`` block.

    The layout is PennyLane's ``qml.GQSP`` (and :func:`poly_to_angles(..., "GQSP")`); our
    ``gqsp`` gate takes the columns. ``lam`` is nonzero only in the first column.

    Args:
        coefficients: ``p_0 .. p_d`` (low to high) of ``P(z)``, ``|P| < 1`` on the unit circle.
        complementary: ``Q`` if already known; else :func:`complementary_polynomial`.

    Returns:
        ``angles`` of shape ``(3, d + 1)``.

    Example:
        >>> angles = gqsp_angles(np.array([0.1, 0.2j, 0.3]))
        >>> angles.shape
        (3, 3)
    """
    p = _check_poly(coefficients)
    q = complementary_polynomial(p) if complementary is None else _check_poly(complementary)
    if q.size != p.size:
        raise ValueError(f"P and Q must have the same number of coefficients, got {p.size} and {q.size}")
    d = p.size - 1
    theta, phi, lam = np.zeros(d + 1), np.zeros(d + 1), np.zeros(d + 1)
    p, q = p.copy(), q.copy()
    for j in range(d, 0, -1):
        # R_j^dagger must send the top coefficient pair (p_j, q_j) to the first component and the
        # bottom pair (p_0, q_0) to the second; the pairs are orthogonal, so either fixes the
        # rotation. Reading it off the larger pair keeps the peeling stable (reading it always
        # off the top pair lets rounding grow by ~1e11 over 50 steps)
        if abs(p[j]) ** 2 + abs(q[j]) ** 2 >= abs(p[0]) ** 2 + abs(q[0]) ** 2:
            theta[j] = np.arctan2(abs(q[j]), abs(p[j]))  # e^{-i phi} sin(theta) p_j = cos(theta) q_j
            phi[j] = np.angle(p[j]) - np.angle(q[j])
        else:
            theta[j] = np.arctan2(abs(p[0]), abs(q[0]))  # e^{-i phi} cos(theta) p_0 = -sin(theta) q_0
            phi[j] = np.angle(p[0]) - np.angle(q[0]) - np.pi
        c, s, e = np.cos(theta[j]), np.sin(theta[j]), np.exp(-1j * phi[j])
        # R(theta, phi, 0)^dagger = [[e^{-i phi} c, s], [e^{-i phi} s, -c]]
        top = e * c * p + s * q
        bottom = e * s * p - c * q
        # then divide out the controlled signal diag(z, 1): the top loses its constant term, the bottom its z^j term
        p, q = top[1 : j + 1], bottom[:j]
    theta[0] = np.arctan2(abs(q[0]), abs(p[0]))
    lam[0] = np.angle(q[0])
    phi[0] = np.angle(p[0]) - lam[0]
    return np.stack([theta, phi, lam])


def gqsp_matrix(angles: np.ndarray, unitary: np.ndarray) -> np.ndarray:
    """The GQSP operator for a unitary matrix, ancilla first (a NumPy reference, no circuit).

    Example:
        >>> u = np.diag([1.0, -1.0]).astype(complex)
        >>> m = gqsp_matrix(gqsp_angles(np.array([0.2, 0.5])), u)
        >>> bool(np.allclose(m[:2, :2], 0.2 * np.eye(2) + 0.5 * u))
        True
    """
    angles = np.asarray(angles, dtype=float)
    unitary = np.asarray(unitary, dtype=complex)
    dim = unitary.shape[0]

    def rotation(theta: float, phi: float, lam: float) -> np.ndarray:
        c, s = np.cos(theta), np.sin(theta)
        r = np.array([[np.exp(1j * (phi + lam)) * c, np.exp(1j * phi) * s], [np.exp(1j * lam) * s, -c]])
        return np.kron(r, np.eye(dim))

    controlled = np.zeros((2 * dim, 2 * dim), dtype=complex)
    controlled[:dim, :dim] = unitary
    controlled[dim:, dim:] = np.eye(dim)
    out = rotation(*angles[:, 0])
    for j in range(1, angles.shape[1]):
        out = rotation(*angles[:, j]) @ controlled @ out
    return out
