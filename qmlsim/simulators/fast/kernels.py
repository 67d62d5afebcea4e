"""numba gate kernels of the fast path: serial, in place, on one flat state of ``2**n`` amplitudes.

Also the op interpreter over packed op records (see :mod:`qmlsim.simulators.fast.plan`
for the record layout), the row-block and cache-block drivers, and Pauli expectation
values. Everything here takes plain arrays; nothing here knows about circuits.
"""
from __future__ import annotations

import numpy as np

try:
    import numba
    from numba import njit, prange
    from numba.extending import overload
except ImportError:  # pragma: no cover - numba is a core dependency of the fast path
    numba = None
if numba is not None:
    from qmlsim.simulators.fast.cache import use_user_cache

    use_user_cache()  # compiled kernels go to the user cache directory, not into the package

# op record fields
F_CODE, F_KIND, F_K, F_CMASK, F_SLOT, F_NSLOT, F_OFF, F_IOFF, F_ADJ, F_ROWDEP, F_POS = range(11)
KMAX = 12
NFIELDS = F_POS + KMAX
# kernel kinds
K_DENSE, K_DIAG, K_PERM = 0, 1, 2
# matrix sources: constants, built from angles by a builder below, or (C_ROW) read per row from
# the row values, where the plan put the gate table's matrix (any parametric gate, no builder needed)
C_CONST, C_RX, C_RY, C_RZ, C_P, C_U3, C_ROT, C_RXX, C_RYY, C_RZZ, C_ROW = range(11)
KERNEL_CODES = {"rx": C_RX, "ry": C_RY, "rz": C_RZ, "p": C_P, "u3": C_U3, "rot": C_ROT, "rxx": C_RXX, "ryy": C_RYY, "rzz": C_RZZ}
"""The builder of each name of :data:`qmlsim.circuits.gates.NUMBA_KERNELS` (a test checks they agree)."""
# angle slot sources
S_CONST, S_X, S_W, S_GEN = range(4)
# a parallel launch (and waking the worker threads) pays off above this many amplitude-gate updates
PARALLEL_WORK = 1 << 21
# large states run their cache blocks in parallel from this many wires on
PARALLEL_WIRES = 20



def available() -> bool:
    """Whether numba is importable (the fast path exists)."""
    return numba is not None



# --------------------------------------------------------------------------------------
# numba kernels (serial, in place, on one flat state of 2**n amplitudes)
# --------------------------------------------------------------------------------------
if numba is not None:

    @njit(cache=True, inline="always")
    def insert_zero(i, p):
        return ((i >> p) << (p + 1)) | (i & ((1 << p) - 1))

    @njit(cache=True, inline="always")
    def angle(slot, sk, sv, xrow, w, grow):
        kind = sk[slot, 0]
        if kind == S_CONST:
            return sv[slot, 1]
        if kind == S_X:
            return sv[slot, 0] * xrow[sk[slot, 1]] + sv[slot, 1]
        if kind == S_W:
            return sv[slot, 0] * w[sk[slot, 1]] + sv[slot, 1]
        return grow[sk[slot, 1]]

    @njit(cache=True, inline="always")
    def build_matrix(code, t0, t1, t2, m):
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
            build_matrix(code, t0 + np.pi / 2, t1, t2, m)
            m[0] = 0.0
            return
        if code == C_U3 and j > 0:
            if j == 1:
                build_matrix(code, t0, t1 + np.pi / 2, t2, m)
                m[0] = 0.0
                m[1] = 0.0
            else:
                build_matrix(code, t0, t1, t2 + np.pi / 2, m)
                m[0] = 0.0
                m[2] = 0.0
            return
        if j == 0:
            t0 = t0 + np.pi
        elif j == 1:
            t1 = t1 + np.pi
        else:
            t2 = t2 + np.pi
        build_matrix(code, t0, t1, t2, m)
        d = 2 if (code == C_RZ or code == C_P) else (4 if code == C_RZZ else (16 if (code == C_RXX or code == C_RYY) else 4))
        for i in range(d):
            m[i] = 0.5 * m[i]

    @njit(cache=True, inline="always")
    def _row_matrix(grow, off, size, m):
        """``m[:size]`` from the row values: ``size`` (re, im) pairs from ``grow[off]`` on (a C_ROW op)."""
        for i in range(size):
            m[i] = grow[off + 2 * i] + 1j * grow[off + 2 * i + 1]

    @njit(cache=True)
    def derivative(rec, j, t0, t1, t2, grow, m):
        """``d M / d angle_j`` of an op into ``m``: from its builder, or from the row values (C_ROW)."""
        code = rec[F_CODE]
        if code == C_ROW:
            d = 1 << rec[F_K]
            size = d if rec[F_KIND] == K_DIAG else d * d
            _row_matrix(grow, rec[F_OFF] + 2 * size * (1 + j), size, m)
        else:
            _build_derivative(code, j, t0, t1, t2, m)

    @njit(cache=True, inline="always")
    def adjoint_in_place(kind, dim, m):
        if kind == K_DIAG:
            for i in range(dim):
                m[i] = np.conj(m[i])
        else:
            for r in range(dim):
                for c in range(r, dim):
                    a = m[r * dim + c]
                    m[r * dim + c] = np.conj(m[c * dim + r])
                    m[c * dim + r] = np.conj(a)

    def as_real(s):  # pragma: no cover - replaced by the overload below inside numba
        raise NotImplementedError

    @overload(as_real)
    def _as_real_overload(s):
        """The interleaved (re, im) float view of a contiguous complex array."""
        if s.dtype == numba.complex64:
            return lambda s: s.view(np.float32)
        return lambda s: s.view(np.float64)

    def _is_single(s):  # pragma: no cover - replaced by the overload below inside numba
        raise NotImplementedError

    @overload(_is_single)
    def _is_single_overload(s):
        """Whether ``s`` is complex64 (a compile-time constant inside numba)."""
        single = s.dtype == numba.complex64
        return lambda s: single

    # complex64 amplitudes are processed in pieces of this many (two temporaries stay in L1)
    _PIECE = 512
    # below this many amplitudes per state the structured kernels' slicing and temporaries
    # cost more than they save: plain per-pair loops
    _STRUCTURED_MIN = 256
    _LOW_SIGN = np.uint64(0x80000000)

    @njit(cache=True, inline="always")
    def _times_i_c64(src, dst):
        """``dst = 1j * src`` for complex64 data viewed as uint64: swap the 32-bit halves and flip
        the sign of the new real part. Integer lane operations vectorise where the interleaved
        float form does not."""
        for j in range(src.size):
            v = src[j]
            dst[j] = ((v >> np.uint64(32)) | (v << np.uint64(32))) ^ _LOW_SIGN

    @njit(cache=True, fastmath=True)
    def _low_c64(s, p, c1a, c2a, c1b, c2b, partner):
        """complex64 1-target update on a low bit ``p < 4``: ``x' = c1 x + c2 (i y)`` with ``y`` the pair
        partner (``partner``) or ``x`` itself (diagonal gates), coefficients ``(c1a, c2a)`` where bit
        ``p`` is 0 and ``(c1b, c2b)`` where it is 1. ``i y`` comes from an integer pass (half swap),
        the update is elementwise on the float view with the coefficient pattern laid out once."""
        step = 1 << p
        piece = min(_PIECE, s.size)
        u = s.view(np.uint64)
        ts = np.empty(piece, np.uint64)
        fts = ts.view(np.float32)
        c1 = np.empty(2 * piece, np.float32)
        c2 = np.empty(2 * piece, np.float32)
        for f in range(2 * piece):
            one = ((f >> 1) & step) != 0
            c1[f] = c1b if one else c1a
            c2[f] = c2b if one else c2a
        flip = step if partner else 0
        for lo in range(0, s.size, piece):
            src = u[lo : lo + piece]
            for k in range(piece):
                v = src[k ^ flip]
                ts[k] = ((v >> np.uint64(32)) | (v << np.uint64(32))) ^ _LOW_SIGN
            x = s[lo : lo + piece].view(np.float32)
            for f in range(2 * piece):
                x[f] = c1[f] * x[f] + c2[f] * fts[f]

    @njit(cache=True, fastmath=True)
    def _high_c64(s, p, c1a, c2a, c1b, c2b, partner):
        """:func:`_low_c64` for bits ``p >= 4``: per L1 piece of the two halves of each block,
        ``i a`` and ``i b`` by the integer half swap, then an elementwise float32 update
        ``a' = c1a a + c2a (i b)``, ``b' = c1b b + c2b (i a)`` (``partner``; RX-like gates) or
        ``a' = c1a a + c2a (i a)``, ``b' = c1b b + c2b (i b)`` (diagonal gates)."""
        u = s.view(np.uint64)
        ta = np.empty(_PIECE, np.uint64)
        tb = np.empty(_PIECE, np.uint64)
        ga = (tb if partner else ta).view(np.float32)
        gb = (ta if partner else tb).view(np.float32)
        step = 1 << p
        piece = min(step, _PIECE)
        for hi in range(0, s.size, 2 * step):
            for lo in range(hi, hi + step, piece):
                _times_i_c64(u[lo : lo + piece], ta)
                _times_i_c64(u[lo + step : lo + step + piece], tb)
                a = s[lo : lo + piece].view(np.float32)
                b = s[lo + step : lo + step + piece].view(np.float32)
                for k in range(2 * piece):
                    a[k] = c1a * a[k] + c2a * ga[k]
                    b[k] = c1b * b[k] + c2b * gb[k]


    @njit(cache=True, fastmath=True)
    def _dense1_blocks(s, m, p):
        """Uncontrolled 1-target dense gate on bit ``p >= 1`` in real arithmetic on the float view:
        LLVM vectorises this form (about 4x faster than complex arithmetic on the same data)."""
        f = as_real(s)
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

    @njit(cache=True, fastmath=True)
    def _dense1_real(s, m, p):
        """Uncontrolled 1-target gate with a real matrix (RY, H, ...): on the float view the real and
        imaginary parts transform alike, so the loop is elementwise and vectorises fully (about 5x the
        interleaved complex form)."""
        f = as_real(s)
        a00, a01, a10, a11 = m[0].real, m[1].real, m[2].real, m[3].real
        step = 2 << p
        for hi in range(0, f.size, 2 * step):
            a = f[hi : hi + step]
            b = f[hi + step : hi + 2 * step]
            for j in range(step):
                x = a[j]
                y = b[j]
                a[j] = a00 * x + a01 * y
                b[j] = a10 * x + a11 * y

    @njit(cache=True, fastmath=True)
    def _pair_c128(s, p, c1a, c2a, c1b, c2b, partner):
        """complex128 form of :func:`_pair_gate`, interleaved real arithmetic on the float view."""
        f = as_real(s)
        step = 2 << p
        for hi in range(0, f.size, 2 * step):
            a = f[hi : hi + step]
            b = f[hi + step : hi + 2 * step]
            for j in range(0, step, 2):
                ar = a[j]
                ai = a[j + 1]
                br = b[j]
                bi = b[j + 1]
                # y is what gets multiplied by i: the pair partner (RX-like) or the amplitude itself
                yar, yai, ybr, ybi = (br, bi, ar, ai) if partner else (ar, ai, br, bi)
                a[j] = c1a * ar - c2a * yai
                a[j + 1] = c1a * ai + c2a * yar
                b[j] = c1b * br - c2b * ybi
                b[j + 1] = c1b * bi + c2b * ybr

    @njit(cache=True, inline="always")
    def _pair_gate(s, p, c1a, c2a, c1b, c2b, partner):
        """Uncontrolled 1-target gate ``a' = c1a a + c2a (i y_a)``, ``b' = c1b b + c2b (i y_b)`` with
        real coefficients, where ``y`` is the pair partner (``partner``: RX-like gates, real diagonal
        and imaginary off-diagonal, a quarter of a general gate's multiplications) or the amplitude
        itself (diagonal gates). complex64 computes ``i y`` by the integer half swap."""
        if not _is_single(s):
            _pair_c128(s, p, c1a, c2a, c1b, c2b, partner)
        elif p >= 4:
            _high_c64(s, p, c1a, c2a, c1b, c2b, partner)
        else:
            _low_c64(s, p, c1a, c2a, c1b, c2b, partner)

    @njit(cache=True, inline="always")
    def _dense1(s, m, p, cmask):
        m0, m1, m2, m3 = m[0], m[1], m[2], m[3]
        step = 1 << p
        # tiny states (QML rows) take the plain loop below: no slicing or temporaries
        if cmask == 0 and s.size >= _STRUCTURED_MIN:
            if m0.imag == 0 and m1.imag == 0 and m2.imag == 0 and m3.imag == 0:
                _dense1_real(s, m, p)
                return
            if m0.imag == 0 and m3.imag == 0 and m1.real == 0 and m2.real == 0:
                _pair_gate(s, p, m0.real, m1.imag, m3.real, m2.imag, True)
                return
            if p >= 2:
                _dense1_blocks(s, m, p)
                return
        for i in range(s.size >> 1):
            i0 = insert_zero(i, p)
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
        if cmask == 0 and s.size >= _STRUCTURED_MIN:
            _pair_gate(s, p, d0.real, d0.imag, d1.real, d1.imag, False)
            return
        for i in range(s.size >> 1):
            i0 = insert_zero(i, p)
            if (i0 & cmask) != cmask:
                continue
            s[i0] *= d0
            s[i0 | step] *= d1

    @njit(cache=True)
    def _flip1_one_control(s, p, c):
        """CX: swap the target pairs inside the control-is-1 quarter only, as contiguous runs of
        ``2**min(p, c)`` amplitudes (no test per index; LLVM vectorises the run copies)."""
        step, cbit = 1 << p, 1 << c
        lo, hi = (p, c) if p < c else (c, p)
        run = 1 << lo
        if lo < 2:  # runs too short to pay for slicing
            for i in range(s.size >> 2):
                i0 = insert_zero(insert_zero(i, lo), hi) | cbit
                a = s[i0]
                s[i0] = s[i0 | step]
                s[i0 | step] = a
            return
        f = as_real(s)
        for i in range(0, s.size >> 2, run):
            i0 = insert_zero(insert_zero(i, lo), hi) | cbit
            a = f[2 * i0 : 2 * (i0 + run)]
            b = f[2 * (i0 + step) : 2 * (i0 + step + run)]
            for t in range(2 * run):
                v = a[t]
                a[t] = b[t]
                b[t] = v

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
            i0 = insert_zero(i, p)
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
            i0 = insert_zero(insert_zero(i, lo_p), hi_p)
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
    def offsets(rec, k):
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
    def base_index(i, sorted_pos):
        for t in range(sorted_pos.size):
            i = insert_zero(i, sorted_pos[t])
        return i

    @njit(cache=True)
    def _generic(s, rec, k, kind, m, perm, cmask):
        """Any ``k``-target dense / diagonal / permutation operator (gather, apply, scatter)."""
        d = 1 << k
        offs, sorted_pos = offsets(rec, k)
        v = np.empty(d, s.dtype)
        for i in range(s.size >> k):
            base = base_index(i, sorted_pos)
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
    def load(rec, inverse, cdata, sk, sv, xrow, w, grow, m):
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
        if code == C_ROW:
            _row_matrix(grow, rec[F_OFF], size, m)
        else:
            slot = rec[F_SLOT]
            ns = rec[F_NSLOT]
            t0 = angle(slot, sk, sv, xrow, w, grow)
            t1 = angle(slot + 1, sk, sv, xrow, w, grow) if ns > 1 else 0.0
            t2 = angle(slot + 2, sk, sv, xrow, w, grow) if ns > 2 else 0.0
            build_matrix(code, t0, t1, t2, m)
        if (rec[F_ADJ] != 0) != inverse:
            adjoint_in_place(kind, d, m)
        return size

    @njit(cache=True, inline="always")
    def apply(s, rec, inverse, cdata, idata, sk, sv, xrow, w, grow, m):
        load(rec, inverse, cdata, sk, sv, xrow, w, grow, m)
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

    @njit(cache=True)
    def apply_out_of_line(s, rec, inverse, cdata, idata, sk, sv, xrow, w, grow, m):
        """:func:`apply` as a function of its own. The drivers of large states and the adjoint
        sweep call it: each op there works on at least a cache block or a whole state, so the
        call costs nothing, while inlining the interpreter into every driver made numba compile
        it again for each (measured: the cache-blocked driver 12.1 s -> 2.3 s, the adjoint
        25.8 s -> 12.9 s of compile time). The row drivers of small states keep it inlined:
        there the call was 40% of a small circuit's time per row."""
        apply(s, rec, inverse, cdata, idata, sk, sv, xrow, w, grow, m)

    @njit(cache=True, inline="always")
    def _run_ops(s, ops, cdata, idata, sk, sv, xrow, w, grow, m):
        for o in range(ops.shape[0]):
            apply_out_of_line(s, ops[o], False, cdata, idata, sk, sv, xrow, w, grow, m)

    @njit(cache=True)
    def msize(ops):
        """Entries of the largest operator of ``ops`` (at least 16, the 2-target dense size)."""
        size = 16
        for o in range(ops.shape[0]):
            d = 1 << ops[o, F_K]
            size = max(size, d if ops[o, F_KIND] == K_DIAG else (d * d if ops[o, F_KIND] == K_DENSE else 1))
        return size

    @njit(cache=True)  # one call per block of rows: shared by the serial and parallel drivers, compiled once
    def _run_block(states, start, stop, ops, cdata, idata, sk, sv, x, w, gen, m, reset):
        """Rows ``start..stop-1`` from ``|0>`` (``reset``) or from the states they hold, op by op
        across the rows (they stay in L1 together): an op whose angles do not depend on the row
        builds its matrix once for all of them."""
        if reset:
            for b in range(start, stop):
                states[b, :] = 0
                states[b, 0] = 1
        for o in range(ops.shape[0]):
            rec = ops[o]
            if rec[F_ROWDEP] != 0:
                for b in range(start, stop):
                    apply(states[b], rec, False, cdata, idata, sk, sv, x[b], w, gen[b], m)
            else:
                load(rec, False, cdata, sk, sv, x[start], w, gen[start], m)
                for b in range(start, stop):
                    _apply_loaded(states[b], rec, False, idata, m)

    @njit(cache=True)
    def rows_serial(states, ops, cdata, idata, sk, sv, x, w, gen, block, reset):
        m = np.empty(msize(ops), states.dtype)
        batch = states.shape[0]
        for start in range(0, batch, block):
            _run_block(states, start, min(start + block, batch), ops, cdata, idata, sk, sv, x, w, gen, m, reset)

    @njit(cache=True, parallel=True)
    def rows_parallel(states, ops, cdata, idata, sk, sv, x, w, gen, block, reset):
        batch = states.shape[0]
        for i in prange((batch + block - 1) // block):
            m = np.empty(msize(ops), states.dtype)
            start = i * block
            _run_block(states, start, min(start + block, batch), ops, cdata, idata, sk, sv, x, w, gen, m, reset)

    @njit(cache=True, inline="always")
    def _group_part(s, ops, cdata, idata, sk, sv, xrow, w, grow, nonlocal_pos, runs, run_bits, chunk_bits, start, stop):
        """Chunks ``start..stop-1``: each is gathered, gets all ``ops`` (local positions), is written back."""
        run = 1 << run_bits
        buf = np.empty(1 << chunk_bits, s.dtype)
        m = np.empty(msize(ops), s.dtype)
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
    def group_parallel(s, ops, cdata, idata, sk, sv, xrow, w, grow, nonlocal_pos, runs, run_bits, chunk_bits, parts):
        """One pass over ``s`` with the chunks split into ``parts`` run in parallel."""
        nchunks = s.size >> chunk_bits
        for t in prange(parts):
            _group_part(s, ops, cdata, idata, sk, sv, xrow, w, grow, nonlocal_pos, runs, run_bits, chunk_bits,
                        t * nchunks // parts, (t + 1) * nchunks // parts)

    @njit(cache=True)
    def group_serial(s, ops, cdata, idata, sk, sv, xrow, w, grow, nonlocal_pos, runs, run_bits, chunk_bits, parts):
        """One pass over ``s``, serially (small states: waking threads costs more than it saves)."""
        _group_part(s, ops, cdata, idata, sk, sv, xrow, w, grow, nonlocal_pos, runs, run_bits, chunk_bits,
                    0, s.size >> chunk_bits)

    @njit(cache=True, inline="always")
    def parity(v):
        v ^= v >> 32
        v ^= v >> 16
        v ^= v >> 8
        v ^= v >> 4
        v ^= v >> 2
        v ^= v >> 1
        return v & 1

    @njit(cache=True)
    def _pauli_range(s, xmask, zmask, start, stop):
        """``sum_i conj(s[i ^ xmask]) s[i] (-1)^parity(i & zmask)`` over ``start <= i < stop``."""
        if xmask == 0:
            racc = 0.0
            for i in range(start, stop):
                a = s[i]
                v = a.real * a.real + a.imag * a.imag
                racc += -v if parity(i & zmask) else v
            return racc + 0j
        acc = 0j
        for i in range(start, stop):
            v = np.conj(s[i ^ xmask]) * s[i]
            acc += -v if parity(i & zmask) else v
        return acc

    @njit(cache=True)
    def _pauli_expval_row(s, xmask, zmask, phase):
        """``Re <s| P |s>`` for ``P = phase * X^xmask Z^zmask`` (phase in 1, i, -1, -i)."""
        return (phase * _pauli_range(s, xmask, zmask, 0, s.size)).real

    @njit(cache=True, parallel=True)
    def pauli_expvals_one_large(state, term_obs, coeffs, masks, phases, out, parts):
        """:func:`pauli_expvals_serial` for one large state: each term's sum split over ``parts`` in parallel."""
        partial = np.zeros(parts, np.complex128)
        for t in range(coeffs.size):
            for q in prange(parts):
                partial[q] = _pauli_range(state, masks[t, 0], masks[t, 1], q * state.size // parts, (q + 1) * state.size // parts)
            out[0, term_obs[t]] += coeffs[t] * (phases[t] * partial.sum()).real

    @njit(cache=True, parallel=True)
    def pauli_expvals_parallel(states, term_obs, coeffs, masks, phases, out):
        for b in prange(states.shape[0]):
            for t in range(coeffs.size):
                out[b, term_obs[t]] += coeffs[t] * _pauli_expval_row(states[b], masks[t, 0], masks[t, 1], phases[t])

    @njit(cache=True)
    def pauli_expvals_serial(states, term_obs, coeffs, masks, phases, out):
        for b in range(states.shape[0]):
            for t in range(coeffs.size):
                out[b, term_obs[t]] += coeffs[t] * _pauli_expval_row(states[b], masks[t, 0], masks[t, 1], phases[t])
