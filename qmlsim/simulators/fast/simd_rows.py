"""Many rows of a small circuit with the rows as the SIMD axis.

The row kernels of :mod:`qmlsim.simulators.fast.kernels` simulate one row at a time:
a 4-wire state is 16 amplitudes, so every gate is a handful of scalar updates and the
interpreter's per-gate cost dominates (about 130 ns per gate and row). Here a block of
rows is held as two real arrays ``re, im`` of shape ``(2**n, rows)``: amplitude-major,
rows contiguous, real and imaginary parts apart. Each gate is then a loop over the
block's rows for every amplitude pair, which LLVM vectorises, and the interpreter's
cost is paid once per block instead of once per row. A row-dependent gate (an angle
that reads ``x``) gets its matrix entries per row, as arrays of the same layout.

Used by :class:`~qmlsim.simulators.fast.plan.FastPlan` for states of at most
:data:`SIMD_MAX_WIRES` wires and at least :data:`SIMD_MIN_ROWS` rows; the results are
the row kernels' (the differential tests run both against the reference).
"""
from __future__ import annotations

import numpy as np

from qmlsim.simulators.fast.kernels import (
    C_ROW,
    F_ADJ,
    F_CMASK,
    F_CODE,
    F_NSLOT,
    F_SLOT,
    S_CONST,
    S_GEN,
    S_X,
    F_K,
    F_KIND,
    F_OFF,
    F_POS,
    F_ROWDEP,
    K_DIAG,
    K_PERM,
    numba,
)

__all__ = ["SIMD_MAX_WIRES", "SIMD_MIN_ROWS", "simd_block_rows"]

#: at most this many wires. Measured per row on one thread, HEA with 3 layers and 2,048 rows:
#: 4 wires 3.98 us -> 0.34 us, 6 wires 10.7 -> 1.9, 8 wires 23.2 -> 7.7, 10 wires 74.8 -> 43.2
#: (``benchmarks/bench_rows.py`` has the suite; at 10 wires the gain is down to 1.7x)
SIMD_MAX_WIRES = 10
#: below this many rows a block is too narrow for the vector units: the row kernels run
SIMD_MIN_ROWS = 8


def simd_block_rows(num_wires: int, itemsize: int) -> int:
    """Rows per block: about 1 MiB of amplitudes (``re`` and ``im``), at least 16 and at most 512.

    Wider blocks measured faster up to 512 rows although they leave the L1 cache (the
    row loops stream), and slower beyond about 1 MiB (4 wires: 128 rows 375 ns per row,
    512 rows 337; 8 wires: 256 rows 7.7 us, 512 rows 9.0 us).
    """
    return int(min(512, max(16, ((1 << 20) // itemsize) >> num_wires)))


if numba is not None:
    from numba import njit, prange

    from qmlsim.simulators.fast.kernels import adjoint_in_place, base_index, build_matrix, insert_zero, load, offsets, parity

    @njit(cache=True, fastmath=True)
    def _row_angles(slot, sk, sv, x, w, gen, start, count, out):
        """Angle ``slot`` for rows ``start..start+count-1`` into ``out[:count]``."""
        kind, j, a, c = sk[slot, 0], sk[slot, 1], sv[slot, 0], sv[slot, 1]
        if kind == S_X:
            for b in range(count):
                out[b] = a * x[start + b, j] + c
        elif kind == S_GEN:
            for b in range(count):
                out[b] = gen[start + b, j]
        else:
            value = c if kind == S_CONST else a * w[j] + c
            for b in range(count):
                out[b] = value

    @njit(cache=True)
    def _entries(rec, cdata, sk, sv, x, w, gen, start, count, m, mr, mi, angles):
        """The op's operator entries for rows ``start..start+count-1`` into ``mr, mi`` ``(size, count)``."""
        if rec[F_ROWDEP] != 0 and rec[F_CODE] != C_ROW:
            # angles for all rows first (affine in x: a vectorised loop), then the builder per row
            code, kind, k = rec[F_CODE], rec[F_KIND], rec[F_K]
            d = 1 << k
            size = d if kind == K_DIAG else d * d
            slot, ns = rec[F_SLOT], rec[F_NSLOT]
            for j in range(ns):
                _row_angles(slot + j, sk, sv, x, w, gen, start, count, angles[j])
            adjoint = rec[F_ADJ] != 0
            for b in range(count):
                build_matrix(code, angles[0, b], angles[1, b], angles[2, b], m)
                if adjoint:
                    adjoint_in_place(kind, d, m)
                for e in range(size):
                    mr[e, b] = m[e].real
                    mi[e, b] = m[e].imag
            return size
        if rec[F_ROWDEP] != 0:
            size = 0
            for b in range(count):
                size = load(rec, False, cdata, sk, sv, x[start + b], w, gen[start + b], m)
                for e in range(size):
                    mr[e, b] = m[e].real
                    mi[e, b] = m[e].imag
            return size
        size = load(rec, False, cdata, sk, sv, x[start], w, gen[start], m)
        # an operator shared by every row is read from column 0 only
        for e in range(size):
            mr[e, 0] = m[e].real
            mi[e, 0] = m[e].imag
        return size

    @njit(cache=True, fastmath=True)
    def _dense1(re, im, p, cmask, mr, mi, count):
        step = 1 << p
        for i in range(re.shape[0] >> 1):
            i0 = insert_zero(i, p)
            if (i0 & cmask) != cmask:
                continue
            i1 = i0 | step
            for b in range(count):
                xr, xi, yr, yi = re[i0, b], im[i0, b], re[i1, b], im[i1, b]
                re[i0, b] = mr[0, b] * xr - mi[0, b] * xi + mr[1, b] * yr - mi[1, b] * yi
                im[i0, b] = mr[0, b] * xi + mi[0, b] * xr + mr[1, b] * yi + mi[1, b] * yr
                re[i1, b] = mr[2, b] * xr - mi[2, b] * xi + mr[3, b] * yr - mi[3, b] * yi
                im[i1, b] = mr[2, b] * xi + mi[2, b] * xr + mr[3, b] * yi + mi[3, b] * yr

    @njit(cache=True, fastmath=True)
    def _dense1_shared(re, im, p, cmask, mr, mi, count):
        """:func:`_dense1` for an operator that is the same for every row: scalar coefficients,
        so the row loop touches only the state (about 2x faster)."""
        step = 1 << p
        a0r, a1r, a2r, a3r = mr[0, 0], mr[1, 0], mr[2, 0], mr[3, 0]
        a0i, a1i, a2i, a3i = mi[0, 0], mi[1, 0], mi[2, 0], mi[3, 0]
        for i in range(re.shape[0] >> 1):
            i0 = insert_zero(i, p)
            if (i0 & cmask) != cmask:
                continue
            i1 = i0 | step
            for b in range(count):
                xr, xi, yr, yi = re[i0, b], im[i0, b], re[i1, b], im[i1, b]
                re[i0, b] = a0r * xr - a0i * xi + a1r * yr - a1i * yi
                im[i0, b] = a0r * xi + a0i * xr + a1r * yi + a1i * yr
                re[i1, b] = a2r * xr - a2i * xi + a3r * yr - a3i * yi
                im[i1, b] = a2r * xi + a2i * xr + a3r * yi + a3i * yr

    @njit(cache=True, fastmath=True)
    def _diag_shared(re, im, rec, cmask, mr, mi, count):
        """:func:`_diag` for a diagonal that is the same for every row."""
        k = rec[F_K]
        for i in range(re.shape[0]):
            if (i & cmask) != cmask:
                continue
            local = 0
            for t in range(k):
                local = (local << 1) | ((i >> rec[F_POS + t]) & 1)
            dr, di = mr[local, 0], mi[local, 0]
            for b in range(count):
                xr, xi = re[i, b], im[i, b]
                re[i, b] = dr * xr - di * xi
                im[i, b] = dr * xi + di * xr

    @njit(cache=True, fastmath=True)
    def _diag(re, im, rec, cmask, mr, mi, count):
        """Any ``k``-target diagonal: amplitude ``i`` times entry ``local(i)`` where the controls hold."""
        k = rec[F_K]
        for i in range(re.shape[0]):
            if (i & cmask) != cmask:
                continue
            local = 0
            for t in range(k):
                local = (local << 1) | ((i >> rec[F_POS + t]) & 1)
            for b in range(count):
                xr, xi = re[i, b], im[i, b]
                re[i, b] = mr[local, b] * xr - mi[local, b] * xi
                im[i, b] = mr[local, b] * xi + mi[local, b] * xr

    @njit(cache=True)
    def _swap_rows(re, im, i0, i1, count):
        for b in range(count):
            t = re[i0, b]
            re[i0, b] = re[i1, b]
            re[i1, b] = t
            t = im[i0, b]
            im[i0, b] = im[i1, b]
            im[i1, b] = t

    @njit(cache=True, fastmath=True)
    def _generic(re, im, rec, kind, perm, cmask, mr, mi, tr, ti, count):
        """Any ``k``-target dense or permutation operator: gather the ``2**k`` amplitudes of each
        group into ``tr, ti``, write back the operator applied to them. The entries are per row
        (column ``b``) for a row-dependent op, else shared (column 0)."""
        wide = 1 if rec[F_ROWDEP] != 0 else 0
        k = rec[F_K]
        d = 1 << k
        offs, sorted_pos = offsets(rec, k)
        for g in range(re.shape[0] >> k):
            base = base_index(g, sorted_pos)
            if (base & cmask) != cmask:
                continue
            for a in range(d):
                for b in range(count):
                    tr[a, b] = re[base + offs[a], b]
                    ti[a, b] = im[base + offs[a], b]
            for a in range(d):
                row = base + offs[a]
                if kind == K_PERM:
                    for b in range(count):
                        re[row, b] = tr[perm[a], b]
                        im[row, b] = ti[perm[a], b]
                    continue
                for b in range(count):
                    re[row, b] = 0.0
                    im[row, b] = 0.0
                for c in range(d):
                    e = a * d + c
                    for b in range(count):
                        er, ei = mr[e, b * wide], mi[e, b * wide]
                        re[row, b] += er * tr[c, b] - ei * ti[c, b]
                        im[row, b] += er * ti[c, b] + ei * tr[c, b]

    @njit(cache=True)
    def _apply(re, im, rec, idata, mr, mi, tr, ti, count):
        kind, k, cmask = rec[F_KIND], rec[F_K], rec[F_CMASK]
        if kind == K_PERM:
            perm = idata[rec[F_OFF] : rec[F_OFF] + (1 << k)]
            if k == 1:
                if perm[0] == 1:
                    p = rec[F_POS]
                    for i in range(re.shape[0] >> 1):
                        i0 = insert_zero(i, p)
                        if (i0 & cmask) == cmask:
                            _swap_rows(re, im, i0, i0 | (1 << p), count)
                return
            _generic(re, im, rec, kind, perm, cmask, mr, mi, tr, ti, count)
        elif kind == K_DIAG:
            if rec[F_ROWDEP] != 0:
                _diag(re, im, rec, cmask, mr, mi, count)
            else:
                _diag_shared(re, im, rec, cmask, mr, mi, count)
        elif k == 1:
            if rec[F_ROWDEP] != 0:
                _dense1(re, im, rec[F_POS], cmask, mr, mi, count)
            else:
                _dense1_shared(re, im, rec[F_POS], cmask, mr, mi, count)
        else:
            _generic(re, im, rec, kind, idata[0:0], cmask, mr, mi, tr, ti, count)

    @njit(cache=True)
    def _run_block(re, im, ops, cdata, idata, sk, sv, x, w, gen, start, count, msize, kmax):
        """All ops on the block ``re, im`` holding rows ``start..start+count-1``."""
        m = np.empty(msize, np.complex128)
        mr = np.empty((msize, count), re.dtype)
        mi = np.empty((msize, count), re.dtype)
        tr = np.empty((1 << kmax, count), re.dtype)
        ti = np.empty((1 << kmax, count), re.dtype)
        angles = np.zeros((3, count))
        for o in range(ops.shape[0]):
            rec = ops[o]
            if rec[F_KIND] != K_PERM:
                _entries(rec, cdata, sk, sv, x, w, gen, start, count, m, mr, mi, angles)
            _apply(re, im, rec, idata, mr, mi, tr, ti, count)

    @njit(cache=True)
    def _load_block(re, im, states, initial, start, count):
        if initial:
            for i in range(re.shape[0]):
                for b in range(count):
                    v = states[start + b, i]
                    re[i, b] = v.real
                    im[i, b] = v.imag
        else:
            re[:, :count] = 0.0
            im[:, :count] = 0.0
            re[0, :count] = 1.0

    @njit(cache=True)
    def _states_block(states, initial, ops, cdata, idata, sk, sv, x, w, gen, start, count, msize, kmax, real):
        re = np.empty((states.shape[1], count), real.dtype)
        im = np.empty((states.shape[1], count), real.dtype)
        _load_block(re, im, states, initial, start, count)
        _run_block(re, im, ops, cdata, idata, sk, sv, x, w, gen, start, count, msize, kmax)
        for b in range(count):
            for i in range(re.shape[0]):
                states[start + b, i] = re[i, b] + 1j * im[i, b]

    @njit(cache=True, parallel=True)
    def simd_states(states, initial, ops, cdata, idata, sk, sv, x, w, gen, block, msize, kmax, real, parallel):
        """Final states into ``states`` ``(batch, 2**n)`` (read as the start states if ``initial``)."""
        batch = states.shape[0]
        nblocks = (batch + block - 1) // block
        if parallel:
            for j in prange(nblocks):
                start = j * block
                _states_block(states, initial, ops, cdata, idata, sk, sv, x, w, gen, start, min(block, batch - start),
                              msize, kmax, real)
        else:
            for j in range(nblocks):
                start = j * block
                _states_block(states, initial, ops, cdata, idata, sk, sv, x, w, gen, start, min(block, batch - start),
                              msize, kmax, real)

    @njit(cache=True, fastmath=True)
    def _pauli_block(re, im, term_obs, coeffs, masks, phases, out, start, count):
        acc = np.empty(count)
        for t in range(coeffs.size):
            xmask, zmask = masks[t, 0], masks[t, 1]
            # Re(phase * z) for phase in (1, i, -1, -i): +-Re z or -+Im z
            pr, pi = phases[t].real, phases[t].imag
            acc[:] = 0.0
            for i in range(re.shape[0]):
                j = i ^ xmask
                sign = -1.0 if parity(i & zmask) else 1.0
                for b in range(count):
                    zr = re[j, b] * re[i, b] + im[j, b] * im[i, b]
                    zi = re[j, b] * im[i, b] - im[j, b] * re[i, b]
                    acc[b] += sign * (pr * zr - pi * zi)
            for b in range(count):
                out[start + b, term_obs[t]] += coeffs[t] * acc[b]

    @njit(cache=True)
    def _expvals_block(num_amplitudes, ops, cdata, idata, sk, sv, x, w, gen, start, count, msize, kmax, real,
                       term_obs, coeffs, masks, phases, out):
        re = np.empty((num_amplitudes, count), real.dtype)
        im = np.empty((num_amplitudes, count), real.dtype)
        re[:, :] = 0.0
        im[:, :] = 0.0
        re[0, :] = 1.0
        _run_block(re, im, ops, cdata, idata, sk, sv, x, w, gen, start, count, msize, kmax)
        _pauli_block(re, im, term_obs, coeffs, masks, phases, out, start, count)

    @njit(cache=True, parallel=True)
    def simd_expvals(num_amplitudes, ops, cdata, idata, sk, sv, x, w, gen, block, msize, kmax, real, parallel,
                     term_obs, coeffs, masks, phases, out):
        """Pauli-sum expectation values ``out`` ``(batch, num_observables)`` (added to) from ``|0...0>``,
        without forming the complex states."""
        batch = out.shape[0]
        nblocks = (batch + block - 1) // block
        if parallel:
            for j in prange(nblocks):
                start = j * block
                _expvals_block(num_amplitudes, ops, cdata, idata, sk, sv, x, w, gen, start, min(block, batch - start),
                               msize, kmax, real, term_obs, coeffs, masks, phases, out)
        else:
            for j in range(nblocks):
                start = j * block
                _expvals_block(num_amplitudes, ops, cdata, idata, sk, sv, x, w, gen, start, min(block, batch - start),
                               msize, kmax, real, term_obs, coeffs, masks, phases, out)
