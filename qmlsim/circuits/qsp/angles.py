"""QSP phase factors for real polynomials of definite parity: symmetric QSP by Newton's method.

The convention (``"Wx"``, as pyqsp's ``sym_qsp`` and QSPPACK; all conventions are in
``docs/qsp.md``)::

    U(a) = e^{i phi_0 Z} W(a) e^{i phi_1 Z} W(a) ... W(a) e^{i phi_d Z},
    W(a) = e^{i arccos(a) X} = [[a, i sqrt(1 - a^2)], [i sqrt(1 - a^2), a]],

and the polynomial is the imaginary part of the top-left entry: ``Im <0|U(a)|0> = P(a)``.
The phases are symmetric (``phi_k = phi_{d-k}``), which makes the problem square:
``ceil((d + 1) / 2)`` *reduced* phases for as many Chebyshev coefficients of the parity
of ``d`` (Dong, Lin, Ni, Wang, arXiv:2307.12468).

The solver is Newton's method on the map from reduced phases to Chebyshev coefficients,
evaluated at the ``ceil((d + 1) / 2)`` positive Chebyshev nodes. The Jacobian needs, at
every node, the products of the QSP factors before and after each phase. Symmetry makes
the suffix products the transposes of the prefix products, and the prefixes are
computed by a blocked scan: ``sqrt(d)`` steps inside blocks and ``sqrt(d)`` across
them, each step one NumPy operation over all nodes and blocks, so there is no Python
loop over phases or nodes. One Newton step costs ``O(d^2)`` arithmetic plus a ``d/2``
linear solve; 6 to 10 steps reach machine precision.
"""
from __future__ import annotations

import math

import numpy as np

from numpy.polynomial import Chebyshev

from qmlsim.circuits.qsp.polynomials import as_chebyshev_coefficients, max_abs, parity_of

__all__ = [
    "angles",
    "AngleFindingError",
    "reduced_to_full",
    "qsp_unitary",
    "qsp_response",
    "CONVENTIONS",
    "convert_phases",
]


class AngleFindingError(RuntimeError):
    """Newton's method did not reach the requested accuracy (final class)."""


CONVENTIONS = ("Wx", "Wz", "Wx-real", "reflection", "pennylane-qsvt")
"""Phase conventions :func:`convert_phases` maps between (see ``docs/qsp.md``)."""


def reduced_to_full(reduced: np.ndarray, parity: int) -> np.ndarray:
    """Full symmetric phases ``(d + 1,)`` from reduced ones: odd ``d`` mirrors them, even ``d`` doubles the middle one.

    Example:
        >>> reduced_to_full(np.array([0.1, 0.2]), 1).tolist()
        [0.2, 0.1, 0.1, 0.2]
        >>> reduced_to_full(np.array([0.1, 0.2]), 0).tolist()
        [0.2, 0.2, 0.2]
    """
    reduced = np.asarray(reduced, dtype=float)
    if parity == 1:
        return np.concatenate([reduced[::-1], reduced])
    return np.concatenate([reduced[:0:-1], [2 * reduced[0]], reduced[1:]])


# --- products of QSP factors ---------------------------------------------------------------
def _prefix_rows(phases: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Rows ``<0| G_0 G_1 ... G_{k-1}`` for ``k = 0 .. d``: shape ``(len(a), d + 1, 2)``, by a blocked scan.

    ``G_k = e^{i phi_k Z} W(a)``. Inside blocks of ``s ~ sqrt(d)`` factors the running
    products are full 2x2 matrices (``s`` steps, each over all nodes and blocks at once);
    the row entering each block is then carried across the ``d / s`` blocks; one
    elementwise product combines the two. Arrays are laid out so that every step reads
    and writes contiguous memory.
    """
    n = phases.size - 1
    nodes = a.size
    size = max(1, math.isqrt(n))
    blocks = -(-n // size)
    e = np.ones(blocks * size, dtype=complex)  # padding: e = 1 with W replaced by the identity below
    e[:n] = np.exp(1j * phases[:-1])
    e = e.reshape(blocks, size)
    live = (np.arange(blocks * size) < n).reshape(blocks, size)
    a_col = a[:, None]
    root = np.sqrt(np.clip(1 - a * a, 0.0, None))[:, None]
    # running products inside each block, entry by entry, (size + 1, nodes, blocks)
    m00 = np.empty((size + 1, nodes, blocks), dtype=complex)
    m01, m10, m11 = np.empty_like(m00), np.empty_like(m00), np.empty_like(m00)
    m00[0], m01[0], m10[0], m11[0] = 1.0, 0.0, 0.0, 1.0
    for t in range(size):
        et = e[:, t]
        g00 = np.where(live[:, t], et * a_col, 1.0)  # G = [[e a, i e r], [i conj(e) r, conj(e) a]]
        g01 = np.where(live[:, t], 1j * et * root, 0.0)
        g10 = np.where(live[:, t], 1j * np.conj(et) * root, 0.0)
        g11 = np.where(live[:, t], np.conj(et) * a_col, 1.0)
        m00[t + 1] = m00[t] * g00 + m01[t] * g10
        m01[t + 1] = m00[t] * g01 + m01[t] * g11
        m10[t + 1] = m10[t] * g00 + m11[t] * g10
        m11[t + 1] = m10[t] * g01 + m11[t] * g11
    r0 = np.empty((blocks + 1, nodes), dtype=complex)
    r1 = np.empty_like(r0)
    r0[0], r1[0] = 1.0, 0.0
    for b in range(blocks):
        r0[b + 1] = r0[b] * m00[size, :, b] + r1[b] * m10[size, :, b]
        r1[b + 1] = r0[b] * m01[size, :, b] + r1[b] * m11[size, :, b]
    head0, head1 = r0[:blocks].T, r1[:blocks].T  # (nodes, blocks)
    rows = np.empty((nodes, n + 1, 2), dtype=complex)
    # (size, nodes, blocks) -> (nodes, blocks, size) -> position k = b * size + t
    first = (head0 * m00[:size] + head1 * m10[:size]).transpose(1, 2, 0).reshape(nodes, -1)
    second = (head0 * m01[:size] + head1 * m11[:size]).transpose(1, 2, 0).reshape(nodes, -1)
    rows[:, :n, 0], rows[:, :n, 1] = first[:, :n], second[:, :n]
    # the padding is identities, so the row after all d factors is the one leaving the last block
    rows[:, n, 0], rows[:, n, 1] = r0[blocks], r1[blocks]
    return rows


def qsp_unitary(phases: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``U(a)`` of the Wx convention for each signal value: shape ``(len(a), 2, 2)`` (a NumPy reference, no circuit).

    Example:
        >>> u = qsp_unitary(np.array([0.0, 0.0]), np.array([0.3]))  # one W(a)
        >>> np.allclose(u[0], [[0.3, 1j * np.sqrt(0.91)], [1j * np.sqrt(0.91), 0.3]])
        True
    """
    phases = np.asarray(phases, dtype=float)
    a = np.atleast_1d(np.asarray(a, dtype=float))
    last = np.exp(1j * phases[-1] * np.array([1.0, -1.0]))
    if phases.size == 1:
        return np.broadcast_to(np.diag(last), (a.size, 2, 2)).copy()
    out = np.empty((a.size, 2, 2), dtype=complex)
    # the first row comes from the scan; the second from the first by U's SU(2) structure
    top = _prefix_rows(phases, a)[:, -1] * last
    out[:, 0] = top
    out[:, 1, 0] = -np.conj(top[:, 1])
    out[:, 1, 1] = np.conj(top[:, 0])
    return out


def qsp_response(phases: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``<0|U(a)|0>`` of the Wx convention, shape ``(len(a),)``; its imaginary part is the polynomial of :func:`angles`."""
    return qsp_unitary(phases, a)[:, 0, 0]


# --- Newton's method ------------------------------------------------------------------------
def _nodes(count: int) -> np.ndarray:
    return np.cos(np.pi * (2 * np.arange(count) + 1) / (4 * count))


def _values_and_jacobian(reduced: np.ndarray, parity: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Im <0|U(x_j)|0>`` at the nodes and its Jacobian in the reduced phases, ``(n,)`` and ``(n, n)``."""
    count = reduced.size
    full = reduced_to_full(reduced, parity)
    d = full.size - 1
    values = np.empty(count)
    derivative = np.empty((count, d + 1))
    e = np.exp(1j * full)
    # nodes in chunks: the scan holds O(chunk * d) 2x2 matrices
    chunk = max(1, 2**21 // max(d, 1))
    for start in range(0, count, chunk):
        xs = x[start : start + chunk]
        rows = _prefix_rows(full, xs) if d > 0 else np.ones((xs.size, 1, 2)) * np.array([1.0, 0.0])
        # a_k = <0| G_0 .. G_{k-1}; by the symmetry U^T = U, W M_{k+1} .. M_d |0> = a_{d-k}^T
        prefix, suffix = rows, rows[:, ::-1]
        top = prefix[..., 0] * e * suffix[..., 0]
        bottom = prefix[..., 1] * np.conj(e) * suffix[..., 1]
        values[start : start + chunk] = (top[:, 0] + bottom[:, 0]).imag
        derivative[start : start + chunk] = (1j * (top - bottom)).imag
    # d/d reduced phase: the sum over its two symmetric positions (or twice the middle one)
    if parity == 1:
        return values, derivative[:, count:] + derivative[:, count - 1 :: -1]
    middle = count - 1
    jacobian = np.empty((count, count))
    jacobian[:, 0] = 2 * derivative[:, middle]
    jacobian[:, 1:] = derivative[:, middle + 1 :] + derivative[:, middle - 1 :: -1][:, : count - 1]
    return values, jacobian


def angles(
    p: Chebyshev | np.ndarray,
    tol: float = 1e-14,
    max_iter: int = 50,
    return_info: bool = False,
) -> np.ndarray | tuple[np.ndarray, dict]:
    """Symmetric QSP phases for a real polynomial of definite parity (Wx convention, ``Im <0|U(a)|0> = P(a)``).

    Args:
        p: the polynomial as a ``numpy.polynomial.Chebyshev`` (domain ``[-1, 1]``) or its
            Chebyshev coefficients; degree ``d``, parity ``d mod 2``, real, ``max |P| < 1`` on ``[-1, 1]``.
        tol: stop when ``max |Im <0|U|0> - P|`` over the Chebyshev nodes is below ``tol``.
        max_iter: Newton steps allowed.
        return_info: also return ``{"iterations", "residual", "reduced", "parity"}``.

    Returns:
        The ``d + 1`` phases ``(phi_0, ..., phi_d)``, symmetric; with ``return_info`` a pair.

    Raises:
        ValueError: complex or mixed-parity coefficients, or ``max |P| >= 1`` (the message says what to change).
        AngleFindingError: no convergence in ``max_iter`` steps.

    Example:
        >>> from qmlsim.circuits.qsp import sign_polynomial
        >>> p = sign_polynomial(41, delta=10)
        >>> phases = angles(p)
        >>> a = np.linspace(-1, 1, 7)
        >>> bool(np.abs(qsp_response(phases, a).imag - p(a)).max() < 1e-13)
        True
    """
    coef = as_chebyshev_coefficients(p)
    if np.iscomplexobj(coef):
        if np.abs(coef.imag).max() > 1e-14 * max(1.0, np.abs(coef).max()):
            raise ValueError("symmetric QSP realises real polynomials; for complex ones use qsp.gqsp_angles (GQSP)")
        coef = coef.real
    coef = np.trim_zeros(np.asarray(coef, dtype=float), "b")
    if coef.size == 0:
        coef = np.zeros(1)
    if not np.all(np.isfinite(coef)):
        raise ValueError("the polynomial has NaN or infinite coefficients")
    parity = parity_of(coef)
    degree = coef.size - 1
    if parity is None:
        raise ValueError(
            "symmetric QSP needs a polynomial of definite parity (only even or only odd Chebyshev terms); "
            "split it into its even and odd parts, or use qsp.gqsp_angles (GQSP) for mixed parity"
        )
    if degree % 2 != parity:  # e.g. an odd polynomial whose top coefficient is exactly zero: pad the degree
        degree += 1
        coef = np.append(coef, 0.0)
    peak = max_abs(Chebyshev(coef))
    if peak >= 1:
        raise ValueError(
            f"max |P| on [-1, 1] is {peak:.6g} >= 1, which QSP cannot realise; scale the polynomial by "
            f"{0.9 / peak:.6g} (to max 0.9)"
        )
    # Newton on the values at the positive Chebyshev nodes (as many as unknowns): P there by
    # Clenshaw, no transform between values and coefficients whose rounding Newton would fit
    count = coef[parity::2].size
    x = _nodes(count)
    target = Chebyshev(coef)(x)
    reduced = coef[parity::2] / 2  # the linearisation at zero phases (Dong, Lin, Ni, Wang)
    residual = np.inf
    for iteration in range(1, max_iter + 1):
        current, jacobian = _values_and_jacobian(reduced, parity, x)
        error = current - target
        residual = float(np.abs(error).max())
        if residual < tol:
            break
        reduced = reduced - np.linalg.solve(jacobian, error)
    else:
        raise AngleFindingError(
            f"Newton's method stopped at residual {residual:.2e} after {max_iter} steps (wanted {tol:.0e}); "
            f"max |P| = {peak:.6g}: scale the polynomial further from 1 (for example to 0.9), or raise max_iter"
        )
    phases = reduced_to_full(reduced, parity)
    if return_info:
        return phases, {"iterations": iteration, "residual": residual, "reduced": reduced, "parity": parity}
    return phases


# --- conventions ------------------------------------------------------------------------------
def convert_phases(phases: np.ndarray, source: str, target: str) -> np.ndarray:
    """Phases of the same polynomial in another convention (the table is in ``docs/qsp.md``).

    - ``"Wx"``: this module's, ``Im <0|U|0> = P`` with ``W(a) = e^{i arccos(a) X}`` (pyqsp ``sym_qsp``, QSPPACK).
    - ``"Wz"``: the Hadamard-conjugated sequence ``H U_Wx H`` (signal ``e^{i arccos(a) Z}``,
      phases ``e^{i phi X}``; the Laurent formulations): the same phases, the polynomial in
      ``Im <+|U|+>``.
    - ``"Wx-real"``: the same signal, ``Re <0|U|0> = P`` (PennyLane ``poly_to_angles(..., "QSP")``):
      ``-pi/4`` on the first and last phase.
    - ``"reflection"``: signal ``R(a) = [[a, sqrt(1-a^2)], [sqrt(1-a^2), -a]]`` (a Hermitian block
      encoding, qubitization): ``<0|U_R|0> = i^{-d} <0|U_Wx|0>``; ``-pi/4`` on the end phases, ``-pi/2`` on the others.
    - ``"pennylane-qsvt"``: what ``qml.QSVT`` with ``qml.PCPhase`` projectors takes for ``Re`` of its block
      to be ``P``: PennyLane's ``transform_angles(Wx-real phases, "QSP", "QSVT")``.

    Example:
        >>> convert_phases(np.array([0.1, 0.2, 0.1]), "Wx", "Wx-real").round(4).tolist()
        [-0.6854, 0.2, -0.6854]
    """
    for name in (source, target):
        if name not in CONVENTIONS:
            raise ValueError(f"unknown phase convention {name!r}; choose one of {', '.join(CONVENTIONS)}")
    phases = np.array(phases, dtype=float)
    if phases.ndim != 1 or phases.size == 0:
        raise ValueError(f"phases must be a non-empty 1-D array, got shape {phases.shape}")
    wx = _to_wx(phases, source)
    return _from_wx(wx, target)


def _end_shift(size: int, ends: float, middle: float) -> np.ndarray:
    shift = np.full(size, middle)
    shift[0] = shift[-1] = ends
    if size == 1:
        shift[0] = 2 * ends
    return shift


def _pennylane_qsvt_shift(size: int) -> np.ndarray:
    shift = np.full(size, np.pi / 2)
    shift[0] = 3 * np.pi / 4 - (3 + size % 4) * np.pi / 2
    shift[-1] = -np.pi / 4
    return shift


def _to_wx(phases: np.ndarray, source: str) -> np.ndarray:
    if source in ("Wx", "Wz"):
        return phases
    if source == "Wx-real":
        return phases + _end_shift(phases.size, np.pi / 4, 0.0)
    if source == "reflection":
        return phases + _end_shift(phases.size, np.pi / 4, np.pi / 2)
    return _to_wx(phases - _pennylane_qsvt_shift(phases.size), "Wx-real")


def _from_wx(phases: np.ndarray, target: str) -> np.ndarray:
    if target in ("Wx", "Wz"):
        return phases
    if target == "Wx-real":
        return phases - _end_shift(phases.size, np.pi / 4, 0.0)
    if target == "reflection":
        return phases - _end_shift(phases.size, np.pi / 4, np.pi / 2)
    return _from_wx(phases, "Wx-real") + _pennylane_qsvt_shift(phases.size)
