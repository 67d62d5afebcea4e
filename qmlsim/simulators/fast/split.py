"""One state of 13 or more wires in the split layout: real and imaginary parts in two arrays.

The interleaved ``complex128`` layout leaves LLVM little to vectorise: a complex
product needs the real and imaginary parts of one amplitude swapped inside a vector,
and measured on one core (AVX-512) a general 1-target gate cost 0.8-1.4 ns per
amplitude there, against 0.35-0.45 ns with the two parts in separate arrays. In the
split layout every gate is a loop over contiguous runs of real numbers, as long as the
runs are long: a gate on one of the lowest bits has runs of one or two amplitudes and
measured 1.3-3.5 ns per amplitude.

So the state is processed in *passes*. A pass gathers a chunk of ``2**bits``
amplitudes (``bits = min(num_wires, split_bits)``, about 1 MiB) into two real arrays with its bits
permuted so that the lowest :data:`SPECTATORS` local bits are positions that none of
the pass's ops touches; every op of the pass then works on runs of at least
``2**SPECTATORS`` amplitudes. The chunk gets all of the pass's ops while it sits in the
L2 cache, and is written back. Ops join a pass greedily, as in the cache-blocked groups
of :mod:`~qmlsim.simulators.fast.plan` (an op may move ahead of ops it shares no wire with).
Chunks of one pass run in parallel when there is enough work.

Used by :class:`~qmlsim.simulators.fast.plan.FastPlan` for states of at least
:data:`SPLIT_MIN_WIRES` wires that do not take the SIMD-rows kernels; the differential
tests run it against the reference on every gate of the table, both dtypes.
"""
from __future__ import annotations

import numpy as np

from qmlsim.simulators.fast.kernels import F_CMASK, F_K, F_KIND, F_OFF, F_POS, K_DIAG, K_PERM, numba

__all__ = ["SPECTATORS", "SPLIT_MIN_WIRES", "PIECE"]

#: local bits of a pass that no op of the pass touches: every run is at least 16 amplitudes long
#: (measured per gate, one thread, layered RX + CNOT at 14-18 wires: 3 spectator bits 0.49-0.54 ns
#: per amplitude, 4 bits 0.43-0.51, 5 bits 0.38-0.52 but more passes at 12 and 20 wires)
SPECTATORS = 4
#: from this many wires a single state takes the split layout (measured per call on one thread, one
#: layer of each benchmark family, interleaved path / split: 12 wires 0.86-1.26x, a loss on the
#: RX + CNOT ladder and random gates; 13 wires 1.02-1.67x; 16-20 wires 1.14-2.07x)
SPLIT_MIN_WIRES = 13
def split_bits(itemsize: int) -> int:
    """Amplitudes per chunk of a pass are ``2**split_bits``: the two real arrays take 1 MiB, half a
    core's L2 cache here (measured at 18-20 wires: 1 MiB 0.43-0.52 ns per amplitude and gate, 512 KiB 0.45-0.56)."""
    return 16 if itemsize == 16 else 17


#: amplitudes per piece of the generic k-target kernel's temporaries (they stay in L1)
PIECE = 256


if numba is not None:
    from numba import njit, prange

    from qmlsim.simulators.fast.kernels import insert_zero, load, offsets

    @njit(cache=True, inline="always")
    def _spread(g, special, count):
        """``g`` with zeros inserted at the sorted positions ``special[:count]``."""
        for t in range(count):
            g = insert_zero(g, special[t])
        return g

    @njit(cache=True)
    def _specials(rec, special):
        """The op's target and control positions, sorted, into ``special``; returns how many."""
        count = 0
        for t in range(rec[F_K]):
            special[count] = rec[F_POS + t]
            count += 1
        cmask, q = rec[F_CMASK], 0
        while cmask:
            if cmask & 1:
                special[count] = q
                count += 1
            cmask >>= 1
            q += 1
        special[:count] = np.sort(special[:count])
        return count

    @njit(cache=True, fastmath=True)
    def _dense1(re, im, p, cmask, mr, mi, special, count):
        """1-target dense gate on position ``p`` where the controls hold, run by run."""
        step, run = 1 << p, 1 << special[0]
        a0r, a0i, a1r, a1i = mr[0], mi[0], mr[1], mi[1]
        a2r, a2i, a3r, a3i = mr[2], mi[2], mr[3], mi[3]
        for g in range(0, re.size >> count, run):
            a = _spread(g, special, count) | cmask
            b = a + step
            xr, xi, yr, yi = re[a : a + run], im[a : a + run], re[b : b + run], im[b : b + run]
            for j in range(run):
                ur, ui, vr, vi = xr[j], xi[j], yr[j], yi[j]
                xr[j] = a0r * ur - a0i * ui + a1r * vr - a1i * vi
                xi[j] = a0r * ui + a0i * ur + a1r * vi + a1i * vr
                yr[j] = a2r * ur - a2i * ui + a3r * vr - a3i * vi
                yi[j] = a2r * ui + a2i * ur + a3r * vi + a3i * vr

    @njit(cache=True, fastmath=True)
    def _diag(re, im, rec, cmask, mr, mi, special, count):
        """``k``-target diagonal where the controls hold: each run is scaled by one entry
        (entries equal to 1, as in CZ and controlled phases, are skipped)."""
        k = rec[F_K]
        offs, _ = offsets(rec, k)
        run = 1 << special[0]
        for g in range(0, re.size >> count, run):
            base = _spread(g, special, count) | cmask
            for e in range(1 << k):
                dr, di = mr[e], mi[e]
                if dr == 1.0 and di == 0.0:
                    continue
                o = base + offs[e]
                xr, xi = re[o : o + run], im[o : o + run]
                for j in range(run):
                    ur, ui = xr[j], xi[j]
                    xr[j] = dr * ur - di * ui
                    xi[j] = dr * ui + di * ur

    @njit(cache=True)
    def _flip(re, im, p, cmask, special, count):
        """X on position ``p`` where the controls hold: swap runs."""
        step, run = 1 << p, 1 << special[0]
        for g in range(0, re.size >> count, run):
            a = _spread(g, special, count) | cmask
            b = a + step
            for part in (re, im):
                x, y = part[a : a + run], part[b : b + run]
                for j in range(run):
                    t = x[j]
                    x[j] = y[j]
                    y[j] = t

    @njit(cache=True, fastmath=True)
    def _generic(re, im, rec, kind, perm, mr, mi, special, count, tr, ti):
        """Any ``k``-target dense or permutation operator: the ``2**k`` runs of each group are
        copied to ``tr, ti`` piece by piece, and the operator applied run against run."""
        k = rec[F_K]
        d = 1 << k
        offs, _ = offsets(rec, k)
        cmask = rec[F_CMASK]
        run = 1 << special[0]
        piece = min(run, tr.shape[1])
        for g in range(0, re.size >> count, run):
            base = _spread(g, special, count) | cmask
            for q in range(0, run, piece):
                for a in range(d):
                    o = base + offs[a] + q
                    tr[a, :piece] = re[o : o + piece]
                    ti[a, :piece] = im[o : o + piece]
                for a in range(d):
                    o = base + offs[a] + q
                    xr, xi = re[o : o + piece], im[o : o + piece]
                    if kind == K_PERM:
                        xr[:] = tr[perm[a], :piece]
                        xi[:] = ti[perm[a], :piece]
                        continue
                    xr[:] = 0.0
                    xi[:] = 0.0
                    for c in range(d):
                        er, ei = mr[a * d + c], mi[a * d + c]
                        if er == 0.0 and ei == 0.0:
                            continue
                        sr, si = tr[c], ti[c]
                        for j in range(piece):
                            xr[j] += er * sr[j] - ei * si[j]
                            xi[j] += er * si[j] + ei * sr[j]

    @njit(cache=True)
    def _apply(re, im, rec, idata, mr, mi, special, tr, ti):
        kind, k, cmask = rec[F_KIND], rec[F_K], rec[F_CMASK]
        count = _specials(rec, special)
        if kind == K_PERM:
            perm = idata[rec[F_OFF] : rec[F_OFF] + (1 << k)]
            if k == 1:
                if perm[0] == 1:
                    _flip(re, im, rec[F_POS], cmask, special, count)
                return
            _generic(re, im, rec, kind, perm, mr, mi, special, count, tr, ti)
        elif kind == K_DIAG:
            _diag(re, im, rec, cmask, mr, mi, special, count)
        elif k == 1:
            _dense1(re, im, rec[F_POS], cmask, mr, mi, special, count)
        else:
            _generic(re, im, rec, kind, idata[0:0], mr, mi, special, count, tr, ti)

    @njit(cache=True)
    def _run_ops(re, im, ops, cdata, idata, sk, sv, xrow, w, grow, m, mr, mi, special, tr, ti):
        for o in range(ops.shape[0]):
            rec = ops[o]
            if rec[F_KIND] != K_PERM:
                size = load(rec, False, cdata, sk, sv, xrow, w, grow, m)
                for e in range(size):
                    mr[e] = m[e].real
                    mi[e] = m[e].imag
            _apply(re, im, rec, idata, mr, mi, special, tr, ti)

    @njit(cache=True)
    def _chunks(s, ops, cdata, idata, sk, sv, xrow, w, grow, nonlocal_pos, high, low, start, stop, re, im, msize, kmax,
                fresh):
        """Chunks ``start..stop-1`` of one pass: gather (bits permuted) into ``re, im``, all ops, scatter back.
        ``fresh``: the state is ``|0...0>`` (the first pass of a reset row): the chunks are filled, not read."""
        nlow = low.shape[1]
        global_high, local_high, global_low = high[0], high[1], low[0]
        m = np.empty(msize, np.complex128)
        mr = np.empty(msize, re.dtype)
        mi = np.empty(msize, re.dtype)
        special = np.empty(64, np.int64)
        tr = np.empty((1 << kmax, PIECE), re.dtype)
        ti = np.empty((1 << kmax, PIECE), re.dtype)
        for c in range(start, stop):
            base = 0
            for q in range(nonlocal_pos.size):
                if (c >> q) & 1:
                    base |= 1 << nonlocal_pos[q]
            if fresh:
                re[:] = 0.0
                im[:] = 0.0
                if base == 0:
                    re[0] = 1.0  # global index 0 is local index 0 in every layout
            else:
                # rows of the permuted layout in the state's order: the read streams walk forwards
                for h in range(global_high.size):
                    g, lh = base | global_high[h], local_high[h]
                    rr, ri = re[lh : lh + nlow], im[lh : lh + nlow]
                    for t in range(nlow):
                        v = s[g | global_low[t]]
                        rr[t] = v.real
                        ri[t] = v.imag
            _run_ops(re, im, ops, cdata, idata, sk, sv, xrow, w, grow, m, mr, mi, special, tr, ti)
            for h in range(global_high.size):
                g, lh = base | global_high[h], local_high[h]
                rr, ri = re[lh : lh + nlow], im[lh : lh + nlow]
                for t in range(nlow):
                    s[g | global_low[t]] = complex(rr[t], ri[t])

    @njit(cache=True)
    def _row(s, reset, ops, bounds, nonlocal_pos, high, low, cdata, idata, sk, sv, xrow, w, grow, re, im, msize, kmax):
        """Every pass on one state, serially. Pass ``q`` is ``ops[bounds[q, 0]:bounds[q, 1]]`` with its
        non-local positions ``nonlocal_pos[q]`` and gather tables ``high[q]``, ``low[q]``."""
        if reset and bounds.shape[0] == 0:
            s[:] = 0
            s[0] = 1
        for q in range(bounds.shape[0]):
            _chunks(s, ops[bounds[q, 0] : bounds[q, 1]], cdata, idata, sk, sv, xrow, w, grow, nonlocal_pos[q], high[q],
                    low[q], 0, 1 << nonlocal_pos.shape[1], re, im, msize, kmax, reset and q == 0)

    @njit(cache=True)
    def split_rows(states, reset, ops, bounds, nonlocal_pos, high, low, cdata, idata, sk, sv, x, w, gen, re, im, msize, kmax):
        """Final states of every row of ``states`` ``(batch, 2**n)`` (read as start states unless ``reset``),
        one row after another.

        Pass ``q`` runs ``ops[bounds[q, 0]:bounds[q, 1]]`` (local positions) on the chunks given by the
        positions ``nonlocal_pos[q]``, gathered by the tables ``high[q]`` ``(2, H)`` and ``low[q]`` ``(2, L)``:
        the amplitude at ``chunk base | high[q, 0, h] | low[q, 0, t]`` goes to local index
        ``high[q, 1, h] | low[q, 1, t]``.
        ``re, im`` ``(workers, 2**bits)``: the chunk buffers (row 0 here; one row per thread or part in
        the parallel drivers), allocated by the caller once: fresh pages cost a fault each, which
        measured more than the gather itself.
        """
        for b in range(states.shape[0]):
            _row(states[b], reset, ops, bounds, nonlocal_pos, high, low, cdata, idata, sk, sv, x[b], w, gen[b],
                 re[0], im[0], msize, kmax)

    @njit(cache=True, parallel=True)
    def split_rows_parallel(states, reset, ops, bounds, nonlocal_pos, high, low, cdata, idata, sk, sv, x, w, gen, re, im,
                            msize, kmax):
        """:func:`split_rows` with the rows in parallel (buffer row = the thread's id)."""
        for b in prange(states.shape[0]):
            worker = numba.get_thread_id()
            _row(states[b], reset, ops, bounds, nonlocal_pos, high, low, cdata, idata, sk, sv, x[b], w, gen[b],
                 re[worker], im[worker], msize, kmax)

    @njit(cache=True, parallel=True)
    def split_chunks_parallel(states, reset, ops, bounds, nonlocal_pos, high, low, cdata, idata, sk, sv, x, w, gen, re,
                              im, msize, kmax):
        """:func:`split_rows` with the chunks of each pass split into ``re.shape[0]`` parallel parts (one large state)."""
        nchunks = 1 << nonlocal_pos.shape[1]
        parts = re.shape[0]
        for b in range(states.shape[0]):
            s = states[b]
            if reset and bounds.shape[0] == 0:
                s[:] = 0
                s[0] = 1
            for q in range(bounds.shape[0]):
                pass_ops = ops[bounds[q, 0] : bounds[q, 1]]
                for t in prange(parts):
                    _chunks(s, pass_ops, cdata, idata, sk, sv, x[b], w, gen[b], nonlocal_pos[q], high[q], low[q],
                            t * nchunks // parts, (t + 1) * nchunks // parts, re[t], im[t], msize, kmax, reset and q == 0)
