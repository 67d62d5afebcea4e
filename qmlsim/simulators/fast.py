"""Compiled CPU fast path of the NumPy backend: numba kernels, an op interpreter, cache-blocked fusion.

A :class:`~qmlsim.simulators.program.Program` is packed once into a :class:`FastPlan`:
integer op records (kernel kind, targets as bit positions, control mask, angle slots),
the constant operators of angle-free gates, and affine angle specs (``a * x[i] + b``,
``a * w[j] + b``; other expressions are evaluated in Python per call). One numba call
then runs every gate of every row:

* small states (``num_wires <= chunk_bits``): each row is simulated by a serial
  interpreter while it sits in cache; rows run in parallel (``prange``) when there is
  enough work. No per-gate Python dispatch, which is what makes single calls cost
  microseconds and bulk rows a fraction of one.
* large states: gates are grouped so that each group touches at most ``chunk_bits``
  bit positions (the lowest ``run_bits`` positions always included); a group is applied
  in one pass over memory: every chunk of ``2**chunk_bits`` amplitudes is gathered
  (contiguous runs), all the group's gates are applied to it in cache, and it is
  written back. Gates that commute trivially (disjoint wires) are moved into earlier
  groups. This is gate fusion without dense matrices: the memory traffic of a group is
  that of a single gate.

Gate kernels: dense 1- and 2-target, diagonal, permutation (X swaps, general), and a
generic ``k``-target kernel; controls are a bit mask (the controlled sub-space only).
The plain array path (``kernels.py``) stays the reference; tests pit the two against
each other.

>>> import numpy as np
>>> from qmlsim.circuits import Circuit
>>> from qmlsim.simulators.backends import get_backend
>>> from qmlsim.simulators.program import compile_circuit
>>> c = Circuit(2); w = c.weights(1); _ = c.ry(w[0], 0).cx(0, 1)
>>> plan = plan_for(compile_circuit(c, get_backend("numpy"), "complex128"))
>>> np.round(abs(plan.states(np.zeros((1, 0)), np.array([np.pi]))) ** 2, 6).tolist()
[[0.0, 0.0, 0.0, 1.0]]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

try:
    import numba
    from numba import njit, prange
    from numba.extending import overload
except ImportError:  # pragma: no cover - numba is a core dependency of the fast path
    numba = None

from qmlsim.circuits.expressions import Add, Div, Expr, Mul, Neg, Symbol, compile_expressions
from qmlsim.circuits.observables import Observable, PauliTerm
from qmlsim.simulators.program import KIND_DIAGONAL, KIND_PERMUTATION, Program

__all__ = ["available", "FastPlan", "plan_for", "Unsupported"]

# op record fields
F_CODE, F_KIND, F_K, F_CMASK, F_SLOT, F_NSLOT, F_OFF, F_IOFF, F_ADJ, F_ROWDEP, F_POS = range(11)
KMAX = 12
NFIELDS = F_POS + KMAX
# kernel kinds
K_DENSE, K_DIAG, K_PERM = 0, 1, 2
# matrix sources: constants, or built from angles
C_CONST, C_RX, C_RY, C_RZ, C_P, C_U3, C_ROT, C_RXX, C_RYY, C_RZZ = range(10)
_PARAM_CODES = {"rx": C_RX, "ry": C_RY, "rz": C_RZ, "p": C_P, "u": C_U3, "u3": C_U3, "rot": C_ROT,
                "rxx": C_RXX, "ryy": C_RYY, "rzz": C_RZZ}
_DIAGONAL_CODES = (C_RZ, C_P, C_RZZ)
# angle slot sources
S_CONST, S_X, S_W, S_GEN = range(4)
# a parallel launch (and waking the worker threads) pays off above this many amplitude-gate updates
_PARALLEL_WORK = 1 << 21
# large states run their cache blocks in parallel from this many wires on
_PARALLEL_WIRES = 20


class Unsupported(Exception):
    """The program needs something the fast path does not do; the array path runs it instead."""


def available() -> bool:
    """Whether numba is importable (the fast path exists)."""
    return numba is not None


# --------------------------------------------------------------------------------------
# numba kernels (serial, in place, on one flat state of 2**n amplitudes)
# --------------------------------------------------------------------------------------
if numba is not None:

    @njit(cache=True, inline="always")
    def _insert_zero(i, p):
        return ((i >> p) << (p + 1)) | (i & ((1 << p) - 1))

    @njit(cache=True, inline="always")
    def _angle(slot, sk, sv, xrow, w, grow):
        kind = sk[slot, 0]
        if kind == S_CONST:
            return sv[slot, 1]
        if kind == S_X:
            return sv[slot, 0] * xrow[sk[slot, 1]] + sv[slot, 1]
        if kind == S_W:
            return sv[slot, 0] * w[sk[slot, 1]] + sv[slot, 1]
        return grow[sk[slot, 1]]

    @njit(cache=True, inline="always")
    def _build(code, t0, t1, t2, m):
        """Matrix (dense, row-major) or diagonal of a parametric gate into ``m``."""
        if code == C_RX:
            c, s = np.cos(t0 / 2), np.sin(t0 / 2)
            m[0] = c
            m[1] = -1j * s
            m[2] = -1j * s
            m[3] = c
        elif code == C_RY:
            c, s = np.cos(t0 / 2), np.sin(t0 / 2)
            m[0] = c
            m[1] = -s
            m[2] = s
            m[3] = c
        elif code == C_RZ:
            m[0] = np.exp(-0.5j * t0)
            m[1] = np.exp(0.5j * t0)
        elif code == C_P:
            m[0] = 1.0
            m[1] = np.exp(1j * t0)
        elif code == C_U3:
            c, s = np.cos(t0 / 2), np.sin(t0 / 2)
            m[0] = c
            m[1] = -np.exp(1j * t2) * s
            m[2] = np.exp(1j * t1) * s
            m[3] = np.exp(1j * (t1 + t2)) * c
        elif code == C_ROT:
            # Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi)
            c, s = np.cos(t1 / 2), np.sin(t1 / 2)
            m[0] = np.exp(-0.5j * (t0 + t2)) * c
            m[1] = -np.exp(0.5j * (t0 - t2)) * s
            m[2] = np.exp(-0.5j * (t0 - t2)) * s
            m[3] = np.exp(0.5j * (t0 + t2)) * c
        elif code == C_RZZ:
            a, b = np.exp(-0.5j * t0), np.exp(0.5j * t0)
            m[0] = a
            m[1] = b
            m[2] = b
            m[3] = a
        else:  # RXX, RYY: c I - i s P (x) P
            c, s = np.cos(t0 / 2), np.sin(t0 / 2)
            for i in range(16):
                m[i] = 0.0
            for i in range(4):
                m[5 * i] = c
            outer = 1j * s if code == C_RYY else -1j * s
            m[3] = outer
            m[12] = outer
            m[6] = -1j * s
            m[9] = -1j * s

    @njit(cache=True)
    def _build_derivative(code, j, t0, t1, t2, m):
        """``d M / d angle_j`` into ``m``: half the matrix at the angle shifted by pi for
        Pauli-rotation-like angles; the masked matrix at a pi/2 shift for phase angles."""
        if code == C_P:
            _build(code, t0 + np.pi / 2, t1, t2, m)
            m[0] = 0.0
            return
        if code == C_U3 and j > 0:
            if j == 1:
                _build(code, t0, t1 + np.pi / 2, t2, m)
                m[0] = 0.0
                m[1] = 0.0
            else:
                _build(code, t0, t1, t2 + np.pi / 2, m)
                m[0] = 0.0
                m[2] = 0.0
            return
        if j == 0:
            t0 = t0 + np.pi
        elif j == 1:
            t1 = t1 + np.pi
        else:
            t2 = t2 + np.pi
        _build(code, t0, t1, t2, m)
        d = 2 if (code == C_RZ or code == C_P) else (4 if code == C_RZZ else (16 if (code == C_RXX or code == C_RYY) else 4))
        for i in range(d):
            m[i] = 0.5 * m[i]

    @njit(cache=True, inline="always")
    def _adjoint_in_place(kind, dim, m):
        if kind == K_DIAG:
            for i in range(dim):
                m[i] = np.conj(m[i])
        else:
            for r in range(dim):
                for c in range(r, dim):
                    a = m[r * dim + c]
                    m[r * dim + c] = np.conj(m[c * dim + r])
                    m[c * dim + r] = np.conj(a)

    def _as_real(s):  # pragma: no cover - replaced by the overload below inside numba
        raise NotImplementedError

    @overload(_as_real)
    def _as_real_overload(s):
        """The interleaved (re, im) float view of a contiguous complex array."""
        if s.dtype == numba.complex64:
            return lambda s: s.view(np.float32)
        return lambda s: s.view(np.float64)

    @njit(cache=True, fastmath=True)
    def _dense1_blocks(s, m, p):
        """Uncontrolled 1-target dense gate on bit ``p >= 1`` in real arithmetic on the float view:
        LLVM vectorises this form (about 4x faster than complex arithmetic on the same data)."""
        f = _as_real(s)
        ar, ai, br, bi = m[0].real, m[0].imag, m[1].real, m[1].imag
        cr, ci, dr, di = m[2].real, m[2].imag, m[3].real, m[3].imag
        step = 1 << p
        for hi in range(0, s.size, 2 * step):
            a = f[2 * hi : 2 * (hi + step)]
            b = f[2 * (hi + step) : 2 * (hi + 2 * step)]
            for j in range(step):
                xr = a[2 * j]
                xi = a[2 * j + 1]
                yr = b[2 * j]
                yi = b[2 * j + 1]
                a[2 * j] = ar * xr - ai * xi + br * yr - bi * yi
                a[2 * j + 1] = ar * xi + ai * xr + br * yi + bi * yr
                b[2 * j] = cr * xr - ci * xi + dr * yr - di * yi
                b[2 * j + 1] = cr * xi + ci * xr + dr * yi + di * yr

    @njit(cache=True, inline="always")
    def _dense1(s, m, p, cmask):
        m0, m1, m2, m3 = m[0], m[1], m[2], m[3]
        step = 1 << p
        if cmask == 0 and p >= 2:
            _dense1_blocks(s, m, p)
            return
        for i in range(s.size >> 1):
            i0 = _insert_zero(i, p)
            if (i0 & cmask) != cmask:
                continue
            i1 = i0 | step
            a = s[i0]
            b = s[i1]
            s[i0] = m0 * a + m1 * b
            s[i1] = m2 * a + m3 * b

    @njit(cache=True, inline="always")
    def _diag1(s, m, p, cmask):
        d0, d1 = m[0], m[1]
        step = 1 << p
        if cmask == 0 and p >= 2:
            for hi in range(0, s.size, 2 * step):
                for lo in range(hi, hi + step):
                    s[lo] *= d0
                    s[lo + step] *= d1
            return
        for i in range(s.size >> 1):
            i0 = _insert_zero(i, p)
            if (i0 & cmask) != cmask:
                continue
            s[i0] *= d0
            s[i0 | step] *= d1

    @njit(cache=True)
    def _flip1_one_control(s, p, c):
        """CX: swap the target pairs inside the control-is-1 quarter only (no test per index)."""
        step, cbit = 1 << p, 1 << c
        lo, hi = (p, c) if p < c else (c, p)
        for i in range(s.size >> 2):
            i0 = _insert_zero(_insert_zero(i, lo), hi) | cbit
            a = s[i0]
            s[i0] = s[i0 | step]
            s[i0 | step] = a

    @njit(cache=True, inline="always")
    def _flip1(s, p, cmask):
        step = 1 << p
        if cmask != 0 and (cmask & (cmask - 1)) == 0:
            c = 0
            while (cmask >> c) != 1:
                c += 1
            _flip1_one_control(s, p, c)
            return
        if cmask == 0 and p >= 2:
            for hi in range(0, s.size, 2 * step):
                for lo in range(hi, hi + step):
                    a = s[lo]
                    s[lo] = s[lo + step]
                    s[lo + step] = a
            return
        for i in range(s.size >> 1):
            i0 = _insert_zero(i, p)
            if (i0 & cmask) != cmask:
                continue
            i1 = i0 | step
            a = s[i0]
            s[i0] = s[i1]
            s[i1] = a

    @njit(cache=True, inline="always")
    def _dense2(s, m, pa, pb, cmask):
        lo_p, hi_p = (pa, pb) if pa < pb else (pb, pa)
        ba, bb = 1 << pa, 1 << pb
        for i in range(s.size >> 2):
            i0 = _insert_zero(_insert_zero(i, lo_p), hi_p)
            if (i0 & cmask) != cmask:
                continue
            i1 = i0 | bb
            i2 = i0 | ba
            i3 = i1 | ba
            v0, v1, v2, v3 = s[i0], s[i1], s[i2], s[i3]
            s[i0] = m[0] * v0 + m[1] * v1 + m[2] * v2 + m[3] * v3
            s[i1] = m[4] * v0 + m[5] * v1 + m[6] * v2 + m[7] * v3
            s[i2] = m[8] * v0 + m[9] * v1 + m[10] * v2 + m[11] * v3
            s[i3] = m[12] * v0 + m[13] * v1 + m[14] * v2 + m[15] * v3

    @njit(cache=True)
    def _offsets(rec, k):
        """Offsets of the ``2**k`` local basis states (first target most significant), sorted positions."""
        d = 1 << k
        offs = np.zeros(d, np.int64)
        for local in range(d):
            o = 0
            for t in range(k):
                if (local >> (k - 1 - t)) & 1:
                    o |= 1 << rec[F_POS + t]
            offs[local] = o
        sorted_pos = np.sort(rec[F_POS : F_POS + k].copy())
        return offs, sorted_pos

    @njit(cache=True)
    def _base_index(i, sorted_pos):
        for t in range(sorted_pos.size):
            i = _insert_zero(i, sorted_pos[t])
        return i

    @njit(cache=True)
    def _generic(s, rec, k, kind, m, perm, cmask):
        """Any ``k``-target dense / diagonal / permutation operator (gather, apply, scatter)."""
        d = 1 << k
        offs, sorted_pos = _offsets(rec, k)
        v = np.empty(d, s.dtype)
        for i in range(s.size >> k):
            base = _base_index(i, sorted_pos)
            if (base & cmask) != cmask:
                continue
            for a in range(d):
                v[a] = s[base + offs[a]]
            for a in range(d):
                if kind == K_DIAG:
                    s[base + offs[a]] = m[a] * v[a]
                elif kind == K_PERM:
                    s[base + offs[a]] = v[perm[a]]
                else:
                    acc = 0j
                    for b in range(d):
                        acc += m[a * d + b] * v[b]
                    s[base + offs[a]] = acc

    @njit(cache=True, inline="always")
    def _load(rec, inverse, cdata, sk, sv, xrow, w, grow, m):
        """Fill ``m`` with the op's operator (inverse if asked); returns its dimension in entries."""
        code, kind, k = rec[F_CODE], rec[F_KIND], rec[F_K]
        d = 1 << k
        size = d if kind == K_DIAG else d * d
        if code == C_CONST:
            off = rec[F_IOFF] if inverse else rec[F_OFF]
            if kind != K_PERM:
                for i in range(size):
                    m[i] = cdata[off + i]
            return size
        slot = rec[F_SLOT]
        ns = rec[F_NSLOT]
        t0 = _angle(slot, sk, sv, xrow, w, grow)
        t1 = _angle(slot + 1, sk, sv, xrow, w, grow) if ns > 1 else 0.0
        t2 = _angle(slot + 2, sk, sv, xrow, w, grow) if ns > 2 else 0.0
        _build(code, t0, t1, t2, m)
        if (rec[F_ADJ] != 0) != inverse:
            _adjoint_in_place(kind, d, m)
        return size

    @njit(cache=True, inline="always")
    def _apply(s, rec, inverse, cdata, idata, sk, sv, xrow, w, grow, m):
        _load(rec, inverse, cdata, sk, sv, xrow, w, grow, m)
        _apply_loaded(s, rec, inverse, idata, m)

    @njit(cache=True, inline="always")
    def _apply_loaded(s, rec, inverse, idata, m):
        kind, k, cmask = rec[F_KIND], rec[F_K], rec[F_CMASK]
        if kind == K_PERM:
            off = rec[F_IOFF] if inverse else rec[F_OFF]
            if k == 1:
                if idata[off] == 1:
                    _flip1(s, rec[F_POS], cmask)
                return
            _generic(s, rec, k, kind, m, idata[off : off + (1 << k)], cmask)
        elif k == 1:
            if kind == K_DIAG:
                _diag1(s, m, rec[F_POS], cmask)
            else:
                _dense1(s, m, rec[F_POS], cmask)
        elif k == 2 and kind == K_DENSE:
            _dense2(s, m, rec[F_POS], rec[F_POS + 1], cmask)
        else:
            _generic(s, rec, k, kind, m, idata[0:0], cmask)

    @njit(cache=True, inline="always")
    def _run_ops(s, ops, cdata, idata, sk, sv, xrow, w, grow, m):
        for o in range(ops.shape[0]):
            _apply(s, ops[o], False, cdata, idata, sk, sv, xrow, w, grow, m)

    @njit(cache=True)
    def _msize(ops):
        """Entries of the largest operator of ``ops`` (at least 16, the 2-target dense size)."""
        size = 16
        for o in range(ops.shape[0]):
            d = 1 << ops[o, F_K]
            size = max(size, d if ops[o, F_KIND] == K_DIAG else (d * d if ops[o, F_KIND] == K_DENSE else 1))
        return size

    @njit(cache=True, inline="always")
    def _run_block(states, start, stop, ops, cdata, idata, sk, sv, x, w, gen, m):
        """Rows ``start..stop-1`` from ``|0>``, op by op across the rows (they stay in L1 together):
        an op whose angles do not depend on the row builds its matrix once for all of them."""
        for b in range(start, stop):
            states[b, :] = 0
            states[b, 0] = 1
        for o in range(ops.shape[0]):
            rec = ops[o]
            if rec[F_ROWDEP] != 0:
                for b in range(start, stop):
                    _apply(states[b], rec, False, cdata, idata, sk, sv, x[b], w, gen[b], m)
            else:
                _load(rec, False, cdata, sk, sv, x[start], w, gen[start], m)
                for b in range(start, stop):
                    _apply_loaded(states[b], rec, False, idata, m)

    @njit(cache=True)
    def _rows_serial(states, ops, cdata, idata, sk, sv, x, w, gen, block):
        m = np.empty(_msize(ops), states.dtype)
        batch = states.shape[0]
        for start in range(0, batch, block):
            _run_block(states, start, min(start + block, batch), ops, cdata, idata, sk, sv, x, w, gen, m)

    @njit(cache=True, parallel=True)
    def _rows_parallel(states, ops, cdata, idata, sk, sv, x, w, gen, block):
        batch = states.shape[0]
        for i in prange((batch + block - 1) // block):
            m = np.empty(_msize(ops), states.dtype)
            start = i * block
            _run_block(states, start, min(start + block, batch), ops, cdata, idata, sk, sv, x, w, gen, m)

    @njit(cache=True, inline="always")
    def _group_part(s, ops, cdata, idata, sk, sv, xrow, w, grow, nonlocal_pos, runs, run_bits, chunk_bits, start, stop):
        """Chunks ``start..stop-1``: each is gathered, gets all ``ops`` (local positions), is written back."""
        run = 1 << run_bits
        buf = np.empty(1 << chunk_bits, s.dtype)
        m = np.empty(_msize(ops), s.dtype)
        for c in range(start, stop):
            base = 0
            for q in range(nonlocal_pos.size):
                if (c >> q) & 1:
                    base |= 1 << nonlocal_pos[q]
            for r in range(runs.size):
                src = base + runs[r]
                buf[r * run : (r + 1) * run] = s[src : src + run]
            _run_ops(buf, ops, cdata, idata, sk, sv, xrow, w, grow, m)
            for r in range(runs.size):
                dst = base + runs[r]
                s[dst : dst + run] = buf[r * run : (r + 1) * run]

    @njit(cache=True, parallel=True)
    def _group_parallel(s, ops, cdata, idata, sk, sv, xrow, w, grow, nonlocal_pos, runs, run_bits, chunk_bits, parts):
        """One pass over ``s`` with the chunks split into ``parts`` run in parallel."""
        nchunks = s.size >> chunk_bits
        for t in prange(parts):
            _group_part(s, ops, cdata, idata, sk, sv, xrow, w, grow, nonlocal_pos, runs, run_bits, chunk_bits,
                        t * nchunks // parts, (t + 1) * nchunks // parts)

    @njit(cache=True)
    def _group_serial(s, ops, cdata, idata, sk, sv, xrow, w, grow, nonlocal_pos, runs, run_bits, chunk_bits, parts):
        """One pass over ``s``, serially (small states: waking threads costs more than it saves)."""
        _group_part(s, ops, cdata, idata, sk, sv, xrow, w, grow, nonlocal_pos, runs, run_bits, chunk_bits,
                    0, s.size >> chunk_bits)

    @njit(cache=True, inline="always")
    def _parity(v):
        v ^= v >> 32
        v ^= v >> 16
        v ^= v >> 8
        v ^= v >> 4
        v ^= v >> 2
        v ^= v >> 1
        return v & 1

    @njit(cache=True)
    def _pauli_expval_row(s, xmask, zmask, phase):
        """``Re <s| P |s>`` for ``P = phase * X^xmask Z^zmask`` (phase in 1, i, -1, -i)."""
        acc = 0j
        if xmask == 0:
            racc = 0.0
            for i in range(s.size):
                a = s[i]
                v = a.real * a.real + a.imag * a.imag
                racc += -v if _parity(i & zmask) else v
            return (phase * racc).real
        for i in range(s.size):
            v = np.conj(s[i ^ xmask]) * s[i]
            acc += -v if _parity(i & zmask) else v
        return (phase * acc).real

    @njit(cache=True, parallel=True)
    def _pauli_expvals_parallel(states, term_obs, coeffs, masks, phases, out):
        for b in prange(states.shape[0]):
            for t in range(coeffs.size):
                out[b, term_obs[t]] += coeffs[t] * _pauli_expval_row(states[b], masks[t, 0], masks[t, 1], phases[t])

    @njit(cache=True)
    def _pauli_expvals_serial(states, term_obs, coeffs, masks, phases, out):
        for b in range(states.shape[0]):
            for t in range(coeffs.size):
                out[b, term_obs[t]] += coeffs[t] * _pauli_expval_row(states[b], masks[t, 0], masks[t, 1], phases[t])

    @njit(cache=True)
    def _inner_derivative(lam, psi, rec, k, kind, dm):
        """``<lam| C(dM) |psi>`` with ``dM`` on the targets, zero outside the control sub-space."""
        cmask = rec[F_CMASK]
        acc = 0j
        if k == 1:
            p = rec[F_POS]
            step = 1 << p
            for i in range(psi.size >> 1):
                i0 = _insert_zero(i, p)
                if (i0 & cmask) != cmask:
                    continue
                i1 = i0 | step
                a, b = psi[i0], psi[i1]
                if kind == K_DIAG:
                    acc += np.conj(lam[i0]) * dm[0] * a + np.conj(lam[i1]) * dm[1] * b
                else:
                    acc += np.conj(lam[i0]) * (dm[0] * a + dm[1] * b) + np.conj(lam[i1]) * (dm[2] * a + dm[3] * b)
            return acc
        d = 1 << k
        offs, sorted_pos = _offsets(rec, k)
        for i in range(psi.size >> k):
            base = _base_index(i, sorted_pos)
            if (base & cmask) != cmask:
                continue
            for a in range(d):
                if kind == K_DIAG:
                    acc += np.conj(lam[base + offs[a]]) * dm[a] * psi[base + offs[a]]
                else:
                    v = 0j
                    for b in range(d):
                        v += dm[a * d + b] * psi[base + offs[b]]
                    acc += np.conj(lam[base + offs[a]]) * v
        return acc

    @njit(cache=True)
    def _adjoint_row(psi, lams, ops, cdata, idata, sk, sv, xrow, w, grow, wanted, out):
        m = np.empty(_msize(ops), psi.dtype)
        dm = np.empty(16, psi.dtype)
        for o in range(ops.shape[0] - 1, -1, -1):
            rec = ops[o]
            _apply(psi, rec, True, cdata, idata, sk, sv, xrow, w, grow, m)
            code = rec[F_CODE]
            if code != C_CONST:
                slot, ns = rec[F_SLOT], rec[F_NSLOT]
                t0 = _angle(slot, sk, sv, xrow, w, grow)
                t1 = _angle(slot + 1, sk, sv, xrow, w, grow) if ns > 1 else 0.0
                t2 = _angle(slot + 2, sk, sv, xrow, w, grow) if ns > 2 else 0.0
                for j in range(ns):
                    if not wanted[slot + j]:
                        continue
                    _build_derivative(code, j, t0, t1, t2, dm)
                    if rec[F_ADJ] != 0:
                        _adjoint_in_place(rec[F_KIND], 1 << rec[F_K], dm)
                    for q in range(lams.shape[0]):
                        out[q, slot + j] = 2.0 * _inner_derivative(lams[q], psi, rec, rec[F_K], rec[F_KIND], dm).real
            for q in range(lams.shape[0]):
                _apply(lams[q], rec, True, cdata, idata, sk, sv, xrow, w, grow, m)

    @njit(cache=True, parallel=True)
    def _adjoint_rows(psi, lams, ops, cdata, idata, sk, sv, x, w, gen, wanted, out):
        for b in prange(psi.shape[0]):
            _adjoint_row(psi[b], lams[b], ops, cdata, idata, sk, sv, x[b], w, gen[b], wanted, out[b])


# --------------------------------------------------------------------------------------
# packing a Program into arrays
# --------------------------------------------------------------------------------------
def _affine(expr: Expr) -> tuple[Symbol | None, float, float] | None:
    """``expr = a * symbol + b`` as ``(symbol, a, b)`` (``symbol`` None for constants), else None."""
    if expr.is_constant:
        return None, 0.0, float(compile_expressions([expr])(None, None, np)[0])
    if isinstance(expr, Symbol):
        return expr, 1.0, 0.0
    if isinstance(expr, Neg):
        inner = _affine(expr.a)
        return None if inner is None else (inner[0], -inner[1], -inner[2])
    if isinstance(expr, Add):
        left, right = _affine(expr.a), _affine(expr.b)
        if left is None or right is None:
            return None
        if left[0] is not None and right[0] is not None and left[0] != right[0]:
            return None
        return left[0] if left[0] is not None else right[0], left[1] + right[1], left[2] + right[2]
    if isinstance(expr, (Mul, Div)):
        left, right = _affine(expr.a), _affine(expr.b)
        if left is None or right is None:
            return None
        if right[0] is None:
            factor = right[2] if isinstance(expr, Mul) else 1.0 / right[2]
            return left[0], left[1] * factor, left[2] * factor
        if left[0] is None and isinstance(expr, Mul):
            return right[0], right[1] * left[2], right[2] * left[2]
    return None


def _positions(wires: Sequence[int], num_wires: int) -> list[int]:
    """Bit positions of wires (wire 0 is the most significant bit)."""
    return [num_wires - 1 - w for w in wires]


@dataclass(frozen=True, eq=False)
class _Group:
    """Ops applied together in one pass over a large state."""

    ops: np.ndarray
    nonlocal_pos: np.ndarray
    runs: np.ndarray


class FastPlan:
    """A program packed for the numba kernels (final class). Build with :func:`plan_for`.

    Attributes:
        program: the source program.
        ops: ``(num_ops, NFIELDS)`` int64 op records.
        chunk_bits: amplitudes per cache block are ``2**chunk_bits``.
    """

    def __init__(self, program: Program, chunk_bits: int | None = None, run_bits: int = 9):
        if program.backend.name != "numpy":
            raise Unsupported("the numba kernels run NumPy states only")
        self.program = program
        n = program.num_wires
        self.num_wires = n
        self.dtype = program.dtype
        itemsize = np.dtype(self.dtype).itemsize
        # a block of 512 KiB stays in a core's L2 cache while all of a group's gates run on it
        self.chunk_bits = chunk_bits if chunk_bits is not None else (15 if itemsize == 16 else 16)
        self.run_bits = min(run_bits, self.chunk_bits)
        self._pack_angles()
        self._pack_ops()
        self._groups: list[_Group] | None = None
        self._observables: dict[Any, Any] = {}
        if n > self.chunk_bits:
            self.groups()

    # --- packing -------------------------------------------------------------------
    def _pack_angles(self) -> None:
        angles = self.program.angles
        sk = np.zeros((len(angles), 2), np.int64)
        sv = np.zeros((len(angles), 2), np.float64)
        general: list[Expr] = []
        for i, expr in enumerate(angles):
            form = _affine(expr)
            if form is None:
                sk[i] = (S_GEN, len(general))
                general.append(expr)
                continue
            symbol, a, b = form
            if symbol is None:
                sk[i] = (S_CONST, 0)
            else:
                sk[i] = (S_X if symbol.kind == "x" else S_W, symbol.index)
            sv[i] = (a, b)
        self.sk, self.sv = sk, sv
        self._general = compile_expressions(general) if general else None
        self._num_general = len(general)

    def _pack_ops(self) -> None:
        n = self.num_wires
        records = []
        cdata: list[np.ndarray] = [np.zeros(1, np.complex128)]
        idata: list[np.ndarray] = [np.zeros(1, np.int64)]
        csize, isize = 1, 1
        for step in self.program.steps:
            k = len(step.targets)
            if k > KMAX or (step.constant is None and k > 2):
                raise Unsupported(f"{k}-target op {step.op.name}")
            rec = np.zeros(NFIELDS, np.int64)
            rec[F_K] = k
            rec[F_POS : F_POS + k] = _positions(step.targets, n)
            rec[F_CMASK] = sum(1 << p for p in _positions(step.controls, n))
            rec[F_SLOT] = step.slots[0] if step.slots else 0
            rec[F_NSLOT] = len(step.slots)
            rec[F_ROWDEP] = any(self.sk[i, 0] in (S_X, S_GEN) for i in step.slots)
            if step.constant is not None:
                rec[F_CODE] = C_CONST
                if step.kind == KIND_PERMUTATION:
                    rec[F_KIND] = K_PERM
                    perm = np.asarray(step.constant, np.int64)
                    forward, inverse = perm, np.argsort(perm).astype(np.int64)
                    rec[F_OFF], rec[F_IOFF] = isize, isize + perm.size
                    idata += [forward, inverse]
                    isize += 2 * perm.size
                else:
                    value = np.asarray(step.constant, np.complex128)
                    if step.kind == KIND_DIAGONAL:
                        rec[F_KIND] = K_DIAG
                        forward, inverse = value.reshape(-1), value.conj().reshape(-1)
                    else:
                        rec[F_KIND] = K_DENSE
                        forward, inverse = value.reshape(-1), value.conj().T.reshape(-1)
                    if k > 6 and rec[F_KIND] == K_DENSE:
                        raise Unsupported("dense user matrices on more than 6 wires")
                    rec[F_OFF], rec[F_IOFF] = csize, csize + forward.size
                    cdata += [forward, inverse]
                    csize += 2 * forward.size
            else:
                code = _PARAM_CODES.get(step.gate.name)
                if code is None:
                    raise Unsupported(f"parametric gate {step.gate.name}")
                rec[F_CODE] = code
                rec[F_KIND] = K_DIAG if code in _DIAGONAL_CODES else K_DENSE
                rec[F_ADJ] = int(step.adjoint)
            records.append(rec)
        self.ops = np.array(records, np.int64).reshape(len(records), NFIELDS)
        self.cdata = np.concatenate(cdata)
        self.idata = np.concatenate(idata)

    def _touched(self, rec: np.ndarray) -> set[int]:
        k = int(rec[F_K])
        pos = set(int(p) for p in rec[F_POS : F_POS + k])
        cmask = int(rec[F_CMASK])
        return pos | {p for p in range(self.num_wires) if cmask >> p & 1}

    def groups(self) -> list[_Group]:
        """Ops grouped so each group touches at most ``chunk_bits`` positions (the low ``run_bits`` always).

        An op joins the current group if its positions fit and no op skipped before it
        shares a wire with it (so moving it earlier does not change the result).
        """
        if self._groups is not None:
            return self._groups
        cb, rb = self.chunk_bits, self.run_bits
        free = cb - rb
        pending = list(range(self.ops.shape[0]))
        touched = [self._touched(self.ops[i]) for i in pending]
        groups = []
        while pending:
            high: set[int] = set()
            taken, skipped, blocked = [], [], set()
            for i in pending:
                need = {p for p in touched[i] if p >= rb}
                if len(need) > free:
                    raise Unsupported("an op touches more wires than a cache block holds")
                if not (touched[i] & blocked) and len(high | need) <= free:
                    high |= need
                    taken.append(i)
                else:
                    skipped.append(i)
                    blocked |= touched[i]
            pending = skipped
            groups.append(self._make_group(taken, high))
        self._groups = groups
        return groups

    def _make_group(self, indices: list[int], high: set[int]) -> _Group:
        n, cb, rb = self.num_wires, self.chunk_bits, self.run_bits
        local = set(range(rb)) | high
        p = rb
        while len(local) < cb:  # pad with the lowest free positions: longer contiguous runs
            local.add(p)
            p += 1
        local_sorted = sorted(local)
        where = {g: i for i, g in enumerate(local_sorted)}
        ops = self.ops[indices].copy()
        for rec in ops:
            k = int(rec[F_K])
            rec[F_POS : F_POS + k] = [where[int(q)] for q in rec[F_POS : F_POS + k]]
            cmask = int(rec[F_CMASK])
            rec[F_CMASK] = sum(1 << where[q] for q in range(n) if cmask >> q & 1)
        run_high = [g for g in local_sorted if g >= rb]
        runs = np.array(
            [sum(1 << run_high[t] for t in range(len(run_high)) if r >> t & 1) for r in range(1 << len(run_high))], np.int64
        )
        nonlocal_pos = np.array([q for q in range(n) if q not in local], np.int64)
        return _Group(ops.reshape(len(indices), NFIELDS), nonlocal_pos, runs)

    # --- running ---------------------------------------------------------------------
    def _angle_inputs(self, x: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        batch = x.shape[0]
        x = np.ascontiguousarray(x, np.float64)
        weights = np.ascontiguousarray(weights, np.float64)
        if self._general is None:
            return x, weights, np.zeros((batch, 0))
        gen = np.empty((batch, self._num_general))
        for i, value in enumerate(self._general(x, weights, np)):
            gen[:, i] = value
        return x, weights, gen

    def states(self, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Final states ``(batch, 2**num_wires)`` for ``x`` ``(batch, num_inputs)``, ``weights`` ``(num_weights,)``."""
        x, weights, gen = self._angle_inputs(x, weights)
        batch, n = x.shape[0], self.num_wires
        args = (self.ops, self.cdata, self.idata, self.sk, self.sv)
        if n <= self.chunk_bits:
            states = np.empty((batch, 1 << n), self.dtype)
            work = batch * (1 << n) * max(1, self.ops.shape[0])
            rows = _rows_parallel if batch > 1 and work >= _PARALLEL_WORK else _rows_serial
            # rows processed op by op together: about 32 KiB of amplitudes, one L1 cache
            block = max(1, (2048 * 16 // np.dtype(self.dtype).itemsize) >> n)
            rows(states, *args, x, weights, gen, block)
            return states
        states = np.zeros((batch, 1 << n), self.dtype)
        groups = self.groups()
        parts = min(1 << (n - self.chunk_bits), 4 * numba.get_num_threads())
        # below 2**_PARALLEL_WIRES amplitudes a group pass takes well under a millisecond,
        # where a parallel launch's thread wake-up is a large and (on a busy machine) erratic cost
        group = _group_parallel if n >= _PARALLEL_WIRES else _group_serial
        for b in range(batch):
            row = states[b]
            row[0] = 1
            for g in groups:
                group(
                    row, g.ops, self.cdata, self.idata, self.sk, self.sv, x[b], weights, gen[b],
                    g.nonlocal_pos, g.runs, self.run_bits, self.chunk_bits, parts,
                )
        return states

    __call__ = states

    def pauli_observables(self, observables: Sequence[Observable]) -> Any:
        """Packed Pauli terms of ``observables``, or ``None`` if any has a Hermitian term."""
        key = tuple(observables)
        packed = self._observables.get(key)
        if packed is None and key not in self._observables:
            n = self.num_wires
            term_obs, coeffs, masks, phases = [], [], [], []
            for o, obs in enumerate(observables):
                for term in obs.terms:
                    if not isinstance(term, PauliTerm):
                        self._observables[key] = None
                        return None
                    xmask = zmask = ny = 0
                    for wire, letter in term.word:
                        bit = 1 << (n - 1 - wire)
                        xmask |= bit if letter in "XY" else 0
                        zmask |= bit if letter in "YZ" else 0
                        ny += letter == "Y"
                    term_obs.append(o)
                    coeffs.append(float(np.real(term.coeff)))
                    masks.append((xmask, zmask))
                    phases.append(1j**ny)
            packed = (
                np.array(term_obs, np.int64),
                np.array(coeffs, np.float64),
                np.array(masks, np.int64).reshape(-1, 2),
                np.array(phases, np.complex128),
            )
            self._observables[key] = packed
        return packed

    def expvals(self, states: np.ndarray, packed: Any, num_observables: int) -> np.ndarray:
        """``(batch, num_observables)`` expectation values of packed Pauli observables."""
        out = np.zeros((states.shape[0], num_observables))
        work = states.size * packed[1].size
        (_pauli_expvals_parallel if states.shape[0] > 1 and work >= _PARALLEL_WORK else _pauli_expvals_serial)(states, *packed, out)
        return out

    def adjoint_angle_gradients(
        self, x: np.ndarray, weights: np.ndarray, lams_fn: Any, num_observables: int, wanted: np.ndarray
    ) -> np.ndarray:
        """``d <O_q> / d angle_slot`` ``(batch, num_observables, num_slots)`` by the adjoint method.

        Args:
            lams_fn: ``states (batch, 2**n) -> (batch, num_observables, 2**n)``, the observables applied.
            wanted: ``(num_slots,)`` bool, the slots whose derivative is needed.
        """
        psi = self.states(x, weights)
        lams = lams_fn(psi)
        x, weights, gen = self._angle_inputs(x, weights)
        out = np.zeros((psi.shape[0], num_observables, self.sk.shape[0]))
        _adjoint_rows(psi, lams, self.ops, self.cdata, self.idata, self.sk, self.sv, x, weights, gen, wanted, out)
        return out


def plan_for(program: Program) -> FastPlan | None:
    """The program's cached :class:`FastPlan`, or ``None`` when it needs the array path.

    The array path takes programs on other backends and ops the kernels do not cover
    (parametric gates outside the rotation/phase/U3/Rot family, dense user matrices on
    more than 6 wires, ops wider than a cache block).
    """

    def build() -> Any:
        try:
            return FastPlan(program)
        except Unsupported:
            return False  # cached: the program is not re-packed on every call

    return program.function("numba-plan", build) or None


def adjoint_jacobian(plan: FastPlan, observables: Sequence[Observable], x: np.ndarray, weights: np.ndarray, argnum: str) -> np.ndarray:
    """Adjoint-method Jacobian ``(batch, num_observables, num_symbols)`` with in-place numba sweeps.

    The sweep gives ``d <O> / d angle`` for every angle slot; the symbolic partials of
    the angle expressions carry them to ``weights`` or ``x``.
    """
    from qmlsim.simulators.gradients import symbols_for  # noqa: PLC0415 - avoids a cycle at import
    from qmlsim.simulators.measurements import apply_observable  # noqa: PLC0415

    program = plan.program
    backend = program.backend
    n = plan.num_wires
    batch = x.shape[0]
    symbols = symbols_for(argnum, program.circuit.num_inputs, program.circuit.num_weights)
    partials = program.angle_gradients(symbols)(x, weights, np)
    wanted = np.array([any(p is not None for p in row) for row in partials], dtype=np.bool_)

    def lams_fn(psi: np.ndarray) -> np.ndarray:
        shaped = psi.reshape((batch,) + (2,) * n)
        lams = np.empty((batch, len(observables), 1 << n), plan.dtype)
        for q, obs in enumerate(observables):
            lams[:, q] = apply_observable(shaped, obs, backend).reshape(batch, -1)
        return lams

    grads = plan.adjoint_angle_gradients(x, weights, lams_fn, len(observables), wanted)
    chain = np.zeros((batch, len(partials), len(symbols)))
    for slot, row in enumerate(partials):
        for j, p in enumerate(row):
            if p is not None:
                chain[:, slot, j] = p
    return np.matmul(grads, chain).astype(program.real_dtype, copy=False)
