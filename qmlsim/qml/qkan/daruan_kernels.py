"""Compiled CPU kernels of DARUAN: the single-qubit recursion and its adjoint, per edge, batch innermost.

XLA on CPU runs the real-split recursion of :mod:`qmlsim.qml.qkan.daruan` as many
separate passes (each gate and each batch reduction of the backward is its own loop
over ``edges x batch``). Here one numba loop per edge keeps the four state arrays of one
edge (``batch`` floats each) in L1 while every gate runs over them, and the backward
uncomputes the state gate by gate (the rotations are orthogonal in the real split), so
it costs about two forward passes.

The trigonometry is computed by the caller (NumPy or XLA, both vectorised); the kernels
only multiply and add. Layout: ``ct``, ``st`` ``(E, rows, cols)`` cosines and sines of
half the circuit angles per edge; ``cd``, ``sd`` ``(D, K, B)`` of half the data angles,
where edge ``e`` reads row ``data_row[e]`` (``K = 1``: one data angle for every
repetition; ``K = reps``: one per repetition). Gates are three int arrays over the
sequence: ``code`` (:data:`RZ`, :data:`RY`, :data:`RX`, :data:`FIX_X`, :data:`FIX_Z`),
``source`` (theta column, :data:`DATA`, or :data:`FIXED`) and ``layer``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from qmlsim.simulators.fast.cache import use_user_cache

use_user_cache()  # compiled kernels go to the user cache directory, not into the package

__all__ = ["gate_table", "forward", "backward"]

RZ, RY, RX, FIX_X, FIX_Z = range(5)
DATA, FIXED = -2, -1
_CODES = {"rz": RZ, "ry": RY, "rx": RX, "x": FIX_X, "z": FIX_Z}
_HALF_SQRT2 = 0.7071067811865476


def gate_table(spec: Any, reps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(code, source, layer)`` int64 arrays of an ansatz's gate sequence with ``reps`` blocks.

    >>> from qmlsim.qml.qkan.daruan import ANSATZES
    >>> [a.tolist() for a in gate_table(ANSATZES["rpz"], 1)]
    [[1, 0, 1], [0, -2, 0], [0, 0, 1]]
    """
    code, source, layer = [], [], []
    steps = [(g, s, l) for l in range(reps) for g, s in spec.block] + [(g, s, reps) for g, s in spec.final]
    for gate, src, row in steps:
        code.append(_CODES[gate])
        source.append(FIXED if src is None else DATA if src == "data" else int(src))
        layer.append(row)
    return np.array(code, np.int64), np.array(source, np.int64), np.array(layer, np.int64)


@njit(cache=True, fastmath=True, inline="always")
def _rotate(code, ar, ai, br, bi, c, s, n):
    """``R_code(t)`` on the real split, ``c = cos(t/2)``, ``s = sin(t/2)`` (arrays of length ``n``)."""
    if code == RZ:
        for j in range(n):
            xr, xi, yr, yi = ar[j], ai[j], br[j], bi[j]
            ar[j] = xr * c[j] + xi * s[j]
            ai[j] = xi * c[j] - xr * s[j]
            br[j] = yr * c[j] - yi * s[j]
            bi[j] = yi * c[j] + yr * s[j]
    elif code == RY:
        for j in range(n):
            xr, xi, yr, yi = ar[j], ai[j], br[j], bi[j]
            ar[j] = c[j] * xr - s[j] * yr
            ai[j] = c[j] * xi - s[j] * yi
            br[j] = s[j] * xr + c[j] * yr
            bi[j] = s[j] * xi + c[j] * yi
    else:
        for j in range(n):
            xr, xi, yr, yi = ar[j], ai[j], br[j], bi[j]
            ar[j] = c[j] * xr + s[j] * yi
            ai[j] = c[j] * xi - s[j] * yr
            br[j] = c[j] * yr + s[j] * xi
            bi[j] = c[j] * yi - s[j] * xr


@njit(cache=True, fastmath=True, inline="always")
def _fixed(code, ar, ai, br, bi, n):
    if code == FIX_X:
        for j in range(n):
            ar[j], br[j] = br[j], ar[j]
            ai[j], bi[j] = bi[j], ai[j]
    else:
        for j in range(n):
            br[j] = -br[j]
            bi[j] = -bi[j]


@njit(cache=True, fastmath=True, inline="always")
def _generator(code, ar, ai, br, bi, lr, li, mr, mi, n):
    """Per row ``<lam, -i/2 P psi>`` in the real split (``psi`` after the gate): the angle derivative."""
    out = np.empty(n, ar.dtype)
    if code == RZ:
        for j in range(n):
            out[j] = 0.5 * (lr[j] * ai[j] - li[j] * ar[j] - mr[j] * bi[j] + mi[j] * br[j])
    elif code == RY:
        for j in range(n):
            out[j] = 0.5 * (mr[j] * ar[j] + mi[j] * ai[j] - lr[j] * br[j] - li[j] * bi[j])
    else:
        for j in range(n):
            out[j] = 0.5 * (lr[j] * bi[j] - li[j] * br[j] + mr[j] * ai[j] - mi[j] * ar[j])
    return out


@njit(cache=True, fastmath=True, inline="always")
def _edge_state(e, ct, st, cd, sd, data_row, code, source, layer, ar, ai, br, bi, cbuf, sbuf):
    n = ar.size
    v = ar.dtype.type(_HALF_SQRT2)
    for j in range(n):
        ar[j] = v
        ai[j] = 0.0
        br[j] = v
        bi[j] = 0.0
    shared = cd.shape[1] == 1
    for g in range(code.size):
        src = source[g]
        if src == FIXED:
            _fixed(code[g], ar, ai, br, bi, n)
        elif src == DATA:
            k = 0 if shared else layer[g]
            _rotate(code[g], ar, ai, br, bi, cd[data_row[e], k], sd[data_row[e], k], n)
        else:
            cbuf[:] = ct[e, layer[g], src]
            sbuf[:] = st[e, layer[g], src]
            _rotate(code[g], ar, ai, br, bi, cbuf, sbuf, n)


@njit(cache=True, inline="always")
def _buffers(n, dtype):
    """One edge's state arrays (real and imaginary parts of alpha and beta) and two angle buffers."""
    return (np.empty(n, dtype), np.empty(n, dtype), np.empty(n, dtype), np.empty(n, dtype),
            np.empty(n, dtype), np.empty(n, dtype))


def _forward(ct, st, cd, sd, data_row, code, source, layer, born, out):
    num_edges, n = out.shape
    for e in prange(num_edges):
        ar, ai, br, bi, cbuf, sbuf = _buffers(n, out.dtype)
        _edge_state(e, ct, st, cd, sd, data_row, code, source, layer, ar, ai, br, bi, cbuf, sbuf)
        for j in range(n):
            pa = ar[j] * ar[j] + ai[j] * ai[j]
            pb = br[j] * br[j] + bi[j] * bi[j]
            out[e, j] = pa - pb if born else np.sqrt(pa) - np.sqrt(pb)


def _backward(ct, st, cd, sd, data_row, code, source, layer, born, grad_out, theta_bar, data_bar):
    num_edges, n = grad_out.shape
    for e in prange(num_edges):
        ar, ai, br, bi, cbuf, sbuf = _buffers(n, grad_out.dtype)
        _edge_state(e, ct, st, cd, sd, data_row, code, source, layer, ar, ai, br, bi, cbuf, sbuf)
        lr = np.empty(n, grad_out.dtype)
        li = np.empty(n, grad_out.dtype)
        mr = np.empty(n, grad_out.dtype)
        mi = np.empty(n, grad_out.dtype)
        for j in range(n):
            g = grad_out[e, j]
            if born:
                ra = 2 * g
                rb = 2 * g
            else:
                ra = g / np.sqrt(ar[j] * ar[j] + ai[j] * ai[j])
                rb = g / np.sqrt(br[j] * br[j] + bi[j] * bi[j])
            lr[j] = ra * ar[j]
            li[j] = ra * ai[j]
            mr[j] = -rb * br[j]
            mi[j] = -rb * bi[j]
        shared = cd.shape[1] == 1
        for g in range(code.size - 1, -1, -1):
            src = source[g]
            c = code[g]
            if src == FIXED:  # X and Z are their own inverses
                _fixed(c, ar, ai, br, bi, n)
                _fixed(c, lr, li, mr, mi, n)
                continue
            dt = _generator(c, ar, ai, br, bi, lr, li, mr, mi, n)
            if src == DATA:
                k = 0 if shared else layer[g]
                cs, ss = cd[data_row[e], k], sd[data_row[e], k]
                for j in range(n):
                    data_bar[e, layer[g], j] = dt[j]
                for j in range(n):
                    sbuf[j] = -ss[j]
                _rotate(c, ar, ai, br, bi, cs, sbuf, n)
                _rotate(c, lr, li, mr, mi, cs, sbuf, n)
            else:
                theta_bar[e, layer[g], src] = dt.sum()
                cbuf[:] = ct[e, layer[g], src]
                sbuf[:] = -st[e, layer[g], src]
                _rotate(c, ar, ai, br, bi, cbuf, sbuf, n)
                _rotate(c, lr, li, mr, mi, cbuf, sbuf, n)


# Serial and parallel builds of the same loops: below about 2**23 gate-row updates waking a
# thread pool costs more than it saves (and an OpenMP pool's spin-wait takes a core from
# whatever runs next, e.g. XLA's or torch's pools).
PARALLEL_WORK = 1 << 23
forward_serial = njit(cache=True, fastmath=True)(_forward)
forward_parallel = njit(cache=True, fastmath=True, parallel=True)(_forward)
backward_serial = njit(cache=True, fastmath=True)(_backward)
backward_parallel = njit(cache=True, fastmath=True, parallel=True)(_backward)


def forward(ct, st, cd, sd, data_row, code, source, layer, born, out) -> None:  # noqa: ANN001 - arrays
    """Fill ``out`` ``(E, B)`` with ``<Z>`` (``born``) or ``|alpha| - |beta|`` of every edge and row."""
    parallel = out.size * code.size >= PARALLEL_WORK
    (forward_parallel if parallel else forward_serial)(ct, st, cd, sd, data_row, code, source, layer, born, out)


def backward(ct, st, cd, sd, data_row, code, source, layer, born, grad_out, theta_bar, data_bar) -> None:  # noqa: ANN001
    """The adjoint sweep: ``theta_bar`` ``(E, rows, cols)`` and ``data_bar`` ``(E, reps, B)``
    (the derivative with respect to each data angle) for the output cotangent ``grad_out`` ``(E, B)``."""
    parallel = grad_out.size * code.size >= PARALLEL_WORK
    (backward_parallel if parallel else backward_serial)(ct, st, cd, sd, data_row, code, source, layer, born,
                                                           grad_out, theta_bar, data_bar)
