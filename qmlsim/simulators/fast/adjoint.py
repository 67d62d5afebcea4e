"""Adjoint-method gradients on the fast path: one numba sweep per row, in place."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from qmlsim.circuits.observables import Observable
from qmlsim.simulators.fast.kernels import (  # the record layout and kernels
    C_CONST,
    F_ADJ,
    F_CMASK,
    F_CODE,
    F_K,
    F_KIND,
    F_NSLOT,
    F_POS,
    F_SLOT,
    K_DIAG,
    adjoint_in_place,
    angle,
    apply_out_of_line,
    as_real,
    base_index,
    derivative,
    insert_zero,
    load,
    msize,
    offsets,
    numba,
)
from qmlsim.simulators.fast.plan import FastPlan

if numba is not None:
    from numba import njit, prange

    @njit(cache=True)
    def _inner_derivative(lam, psi, rec, k, kind, dm):
        """``<lam| C(dM) |psi>`` with ``dM`` on the targets, zero outside the control sub-space."""
        cmask = rec[F_CMASK]
        acc = 0j
        if k == 1:
            p = rec[F_POS]
            step = 1 << p
            for i in range(psi.size >> 1):
                i0 = insert_zero(i, p)
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
        offs, sorted_pos = offsets(rec, k)
        for i in range(psi.size >> k):
            base = base_index(i, sorted_pos)
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

    @njit(cache=True, inline="always")
    def _segment(k, p, stop):
        """The contiguous run of amplitude pairs of bit ``p`` that starts at pair ``k``: the index of
        its first ``|..0..>`` amplitude and its length (pairs ``k..stop-1`` at most)."""
        step = 1 << p
        j0 = k & (step - 1)
        return ((k >> p) << (p + 1)) + j0, min(step - j0, stop - k)

    @njit(cache=True, inline="always")
    def _halves(fp, fl, a0, step, run):
        """Float views of a run of ``run`` pairs from amplitude ``a0``: its ``|..0..>`` and ``|..1..>``
        halves (``step`` apart) in ``psi`` and in ``lam``."""
        return (fp[2 * a0 : 2 * (a0 + run)], fp[2 * (a0 + step) : 2 * (a0 + step + run)],
                fl[2 * a0 : 2 * (a0 + run)], fl[2 * (a0 + step) : 2 * (a0 + step + run)])

    @njit(cache=True, fastmath=True)
    def _dense1_range(fp, fl, p, u, g, update_psi, start, stop):
        """Pairs ``start..stop-1`` of bit ``p`` (no controls), real arithmetic on the float views
        ``fp``, ``fl`` of ``psi`` and ``lam``: returns their part of ``Re <lam| G |psi>``, then
        ``lam <- u lam`` and, if ``update_psi``, ``psi <- u psi``.

        With ``G = dU U^dagger`` taken before un-applying, ``2 Re <lam|G|psi>`` is the
        derivative ``2 Re <lam| dU |U^dagger psi>`` of the textbook sweep: one pass
        instead of three (un-apply psi, inner product, un-apply lam)."""
        u0r, u0i, u1r, u1i, u2r, u2i, u3r, u3i = u[0].real, u[0].imag, u[1].real, u[1].imag, u[2].real, u[2].imag, u[3].real, u[3].imag
        g0r, g0i, g1r, g1i, g2r, g2i, g3r, g3i = g[0].real, g[0].imag, g[1].real, g[1].imag, g[2].real, g[2].imag, g[3].real, g[3].imag
        acc = 0.0
        k = start
        while k < stop:
            a0, run = _segment(k, p, stop)
            k += run
            pa, pb, la, lb = _halves(fp, fl, a0, 1 << p, run)
            for j in range(run):
                ar, ai, br, bi = pa[2 * j], pa[2 * j + 1], pb[2 * j], pb[2 * j + 1]
                xr, xi, yr, yi = la[2 * j], la[2 * j + 1], lb[2 * j], lb[2 * j + 1]
                v0r = g0r * ar - g0i * ai + g1r * br - g1i * bi
                v0i = g0r * ai + g0i * ar + g1r * bi + g1i * br
                v1r = g2r * ar - g2i * ai + g3r * br - g3i * bi
                v1i = g2r * ai + g2i * ar + g3r * bi + g3i * br
                acc += xr * v0r + xi * v0i + yr * v1r + yi * v1i
                la[2 * j] = u0r * xr - u0i * xi + u1r * yr - u1i * yi
                la[2 * j + 1] = u0r * xi + u0i * xr + u1r * yi + u1i * yr
                lb[2 * j] = u2r * xr - u2i * xi + u3r * yr - u3i * yi
                lb[2 * j + 1] = u2r * xi + u2i * xr + u3r * yi + u3i * yr
                if update_psi:
                    pa[2 * j] = u0r * ar - u0i * ai + u1r * br - u1i * bi
                    pa[2 * j + 1] = u0r * ai + u0i * ar + u1r * bi + u1i * br
                    pb[2 * j] = u2r * ar - u2i * ai + u3r * br - u3i * bi
                    pb[2 * j + 1] = u2r * ai + u2i * ar + u3r * bi + u3i * br
        return acc

    @njit(cache=True, fastmath=True)
    def _real1_range(fp, fl, p, u, g, update_psi, start, stop):
        """:func:`_dense1_range` for real ``u`` and ``G`` (RY, and any real gate with a real generator
        term): elementwise on the float views, since ``Re <l|v> = sum(l_float * v_float)``."""
        u0, u1, u2, u3 = u[0].real, u[1].real, u[2].real, u[3].real
        g0, g1, g2, g3 = g[0].real, g[1].real, g[2].real, g[3].real
        acc = 0.0
        k = start
        while k < stop:
            a0, run = _segment(k, p, stop)
            k += run
            pa, pb, la, lb = _halves(fp, fl, a0, 1 << p, run)
            for j in range(2 * run):
                a = pa[j]
                b = pb[j]
                x = la[j]
                y = lb[j]
                acc += x * (g0 * a + g1 * b) + y * (g2 * a + g3 * b)
                la[j] = u0 * x + u1 * y
                lb[j] = u2 * x + u3 * y
                if update_psi:
                    pa[j] = u0 * a + u1 * b
                    pb[j] = u2 * a + u3 * b
        return acc

    @njit(cache=True, fastmath=True)
    def _diag_elements(fp, fl, p, u0r, u0i, u1r, u1i, g0r, g0i, g1r, g1i, update_psi, first, last):
        """Amplitudes ``first..last-1`` of a diagonal gate on bit ``p``, each with the entry its bit
        selects: a loop over contiguous floats with no pairing, which LLVM vectorises (pairing
        the two halves as :func:`_dense1_range` does measured 4x slower at 12 wires)."""
        a = fp[2 * first : 2 * last]
        x = fl[2 * first : 2 * last]
        acc = 0.0
        for j in range(last - first):
            s = float(((first + j) >> p) & 1)
            ur = u0r + s * (u1r - u0r)
            ui = u0i + s * (u1i - u0i)
            gr = g0r + s * (g1r - g0r)
            gi = g0i + s * (g1i - g0i)
            ar, ai, xr, xi = a[2 * j], a[2 * j + 1], x[2 * j], x[2 * j + 1]
            acc += gr * (xr * ar + xi * ai) - gi * (xr * ai - xi * ar)
            x[2 * j] = ur * xr - ui * xi
            x[2 * j + 1] = ur * xi + ui * xr
            if update_psi:
                a[2 * j] = ur * ar - ui * ai
                a[2 * j + 1] = ur * ai + ui * ar
        return acc

    @njit(cache=True)
    def _diag1_range(fp, fl, p, u, g, update_psi, start, stop):
        """:func:`_dense1_range` for a diagonal gate: ``u`` and ``G`` are the two diagonal entries.
        Whole blocks of pairs are one contiguous range of amplitudes."""
        u0r, u0i, u1r, u1i = u[0].real, u[0].imag, u[1].real, u[1].imag
        g0r, g0i, g1r, g1i = g[0].real, g[0].imag, g[1].real, g[1].imag
        step = 1 << p
        acc = 0.0
        k = start
        while k < stop:
            a0, run = _segment(k, p, stop)
            if run == step and stop - k >= step:
                blocks = (stop - k) >> p
                acc += _diag_elements(fp, fl, p, u0r, u0i, u1r, u1i, g0r, g0i, g1r, g1i, update_psi, a0,
                                      a0 + (blocks << (p + 1)))
                k += blocks << p
                continue
            acc += _diag_elements(fp, fl, p, u0r, u0i, u1r, u1i, g0r, g0i, g1r, g1i, update_psi, a0, a0 + run)
            acc += _diag_elements(fp, fl, p, u0r, u0i, u1r, u1i, g0r, g0i, g1r, g1i, update_psi, a0 + step,
                                  a0 + step + run)
            k += run
        return acc

    SWEEP_DIAG, SWEEP_REAL, SWEEP_DENSE = 0, 1, 2

    @njit(cache=True, inline="always")
    def _sweep_range(sweep, fp, fl, p, u, g, update_psi, start, stop):
        if sweep == SWEEP_DIAG:
            return _diag1_range(fp, fl, p, u, g, update_psi, start, stop)
        if sweep == SWEEP_REAL:
            return _real1_range(fp, fl, p, u, g, update_psi, start, stop)
        return _dense1_range(fp, fl, p, u, g, update_psi, start, stop)

    @njit(cache=True, parallel=True)
    def sweep_parallel(sweep, psi, lam, p, u, g, update_psi, chunk):
        """One fused sweep of one large state, its pairs split into tasks of ``chunk`` pairs over the threads."""
        fp = as_real(psi)
        fl = as_real(lam)
        pairs = psi.size >> 1
        acc = 0.0
        for c in prange((pairs + chunk - 1) // chunk):
            start = c * chunk
            acc += _sweep_range(sweep, fp, fl, p, u, g, update_psi, start, min(pairs, start + chunk))
        return acc

    @njit(cache=True, parallel=True)
    def apply_both_parallel(psi, lams, rec, cdata, idata, sk, sv, xrow, w, grow, m):
        """Un-apply a constant op from ``psi`` and every ``lam`` at once, one vector per thread."""
        for v in prange(1 + lams.shape[0]):
            local = np.empty_like(m)
            apply_out_of_line(psi if v == 0 else lams[v - 1], rec, True, cdata, idata, sk, sv, xrow, w, grow, local)

    @njit(cache=True)
    def _fused_step(psi, lams, rec, slot, m, dm, g, out, chunk):
        """Un-apply a 1-target uncontrolled op with one wanted angle from ``psi`` and every ``lam``,
        taking the angle's derivative on the way (``m`` holds the op, ``dm`` its derivative)."""
        kind = rec[F_KIND]
        p = rec[F_POS]
        if kind == K_DIAG:
            g[0] = dm[0] * np.conj(m[0])
            g[1] = dm[1] * np.conj(m[1])
            m[0] = np.conj(m[0])
            m[1] = np.conj(m[1])
        else:
            # G = dM M^dagger, then m <- M^dagger
            for r in range(2):
                for c in range(2):
                    g[2 * r + c] = dm[2 * r] * np.conj(m[2 * c]) + dm[2 * r + 1] * np.conj(m[2 * c + 1])
            adjoint_in_place(kind, 2, m)
        real = True
        for i in range(4):
            if m[i].imag != 0 or g[i].imag != 0:
                real = False
        sweep = SWEEP_DIAG if kind == K_DIAG else (SWEEP_REAL if real else SWEEP_DENSE)
        nq = lams.shape[0]
        for q in range(nq):
            last = q == nq - 1
            if chunk:
                acc = sweep_parallel(sweep, psi, lams[q], p, m, g, last, chunk)
            else:
                acc = _sweep_range(sweep, as_real(psi), as_real(lams[q]), p, m, g, last, 0, psi.size >> 1)
            out[q, slot] = 2.0 * acc

    @njit(cache=True)
    def _adjoint_row(psi, lams, ops, cdata, idata, sk, sv, xrow, w, grow, wanted, out, chunk):
        """The backward sweep of one row. A nonzero ``chunk`` (one large state; never inside a
        parallel region) splits each fused sweep over the threads in tasks of ``chunk`` pairs
        and un-applies constant ops from ``psi`` and the ``lam`` vectors side by side."""
        m = np.empty(msize(ops), psi.dtype)
        dm = np.empty(msize(ops), psi.dtype)
        g = np.empty(4, psi.dtype)
        for o in range(ops.shape[0] - 1, -1, -1):
            rec = ops[o]
            code = rec[F_CODE]
            if code != C_CONST and rec[F_K] == 1 and rec[F_CMASK] == 0:
                slot, ns = rec[F_SLOT], rec[F_NSLOT]
                nwanted = 0
                for j in range(ns):
                    if wanted[slot + j]:
                        nwanted += 1
                        jw = j
                if nwanted == 1:
                    t0 = angle(slot, sk, sv, xrow, w, grow)
                    t1 = angle(slot + 1, sk, sv, xrow, w, grow) if ns > 1 else 0.0
                    t2 = angle(slot + 2, sk, sv, xrow, w, grow) if ns > 2 else 0.0
                    load(rec, False, cdata, sk, sv, xrow, w, grow, m)
                    derivative(rec, jw, t0, t1, t2, grow, dm)
                    if rec[F_ADJ] != 0:
                        adjoint_in_place(rec[F_KIND], 2, dm)
                    _fused_step(psi, lams, rec, slot + jw, m, dm, g, out, chunk)
                    continue
            if chunk and code == C_CONST:
                apply_both_parallel(psi, lams, rec, cdata, idata, sk, sv, xrow, w, grow, m)
                continue
            apply_out_of_line(psi, rec, True, cdata, idata, sk, sv, xrow, w, grow, m)
            if code != C_CONST:
                slot, ns = rec[F_SLOT], rec[F_NSLOT]
                t0 = angle(slot, sk, sv, xrow, w, grow)
                t1 = angle(slot + 1, sk, sv, xrow, w, grow) if ns > 1 else 0.0
                t2 = angle(slot + 2, sk, sv, xrow, w, grow) if ns > 2 else 0.0
                for j in range(ns):
                    if not wanted[slot + j]:
                        continue
                    derivative(rec, j, t0, t1, t2, grow, dm)
                    if rec[F_ADJ] != 0:
                        adjoint_in_place(rec[F_KIND], 1 << rec[F_K], dm)
                    for q in range(lams.shape[0]):
                        out[q, slot + j] = 2.0 * _inner_derivative(lams[q], psi, rec, rec[F_K], rec[F_KIND], dm).real
            for q in range(lams.shape[0]):
                apply_out_of_line(lams[q], rec, True, cdata, idata, sk, sv, xrow, w, grow, m)

    @njit(cache=True, parallel=True)
    def _adjoint_rows(psi, lams, ops, cdata, idata, sk, sv, x, w, gen, wanted, out):
        for b in prange(psi.shape[0]):
            _adjoint_row(psi[b], lams[b], ops, cdata, idata, sk, sv, x[b], w, gen[b], wanted, out[b], 0)

    @njit(cache=True)
    def adjoint_large_rows(psi, lams, ops, cdata, idata, sk, sv, x, w, gen, wanted, out, chunk):
        """Rows one after another, each sweep parallel within the state (a few large states)."""
        for b in range(psi.shape[0]):
            _adjoint_row(psi[b], lams[b], ops, cdata, idata, sk, sv, x[b], w, gen[b], wanted, out[b], chunk)


#: from this many wires, fewer rows than threads sweep each state in parallel; below, a pass
#: is too short to split (one HEA state, 2 threads, split / serial: 13 wires 0.86x, 14 wires 1.26x)
PARALLEL_SWEEP_WIRES = 14
#: amplitude pairs per task of a parallel sweep (64 KiB of each vector in complex128)
SWEEP_CHUNK = 1 << 12


def adjoint_jacobian(plan: FastPlan, observables: Sequence[Observable], x: np.ndarray, weights: np.ndarray, argnum: str,
                     within_state: bool | None = None, sweep_chunk: int = SWEEP_CHUNK) -> np.ndarray:
    """Adjoint-method Jacobian ``(batch, num_observables, num_symbols)`` with in-place numba sweeps.

    The sweep gives ``d <O> / d angle`` for every angle slot; the symbolic partials of
    the angle expressions carry them to ``weights`` or ``x``. Many rows run in parallel,
    one row per thread; fewer rows than threads of at least ``PARALLEL_SWEEP_WIRES`` wires
    (or any rows, with ``within_state=True``) run one after another, each pass split over
    the threads in tasks of ``sweep_chunk`` amplitude pairs.
    """
    from qmlsim.simulators.gradients import chain_rule, symbols_for  # noqa: PLC0415 - avoids a cycle at import
    from qmlsim.simulators.measurements import apply_observable  # noqa: PLC0415

    program = plan.program
    backend = program.backend
    n = plan.num_wires
    batch = x.shape[0]
    symbols = symbols_for(argnum, program.circuit.num_inputs, program.circuit.num_weights)
    partials = program.angle_gradients(symbols)(x, weights, np)
    wanted = np.zeros(len(partials), dtype=np.bool_)
    wanted[sorted(partials.slots)] = True

    def lams_fn(psi: np.ndarray) -> np.ndarray:
        shaped = psi.reshape((batch,) + (2,) * n)
        lams = np.empty((batch, len(observables), 1 << n), plan.dtype)
        for q, obs in enumerate(observables):
            lams[:, q] = apply_observable(shaped, obs, backend).reshape(batch, -1)
        return lams

    psi = plan.states(x, weights)
    lams = lams_fn(psi)
    xs, ws, gen = plan.angle_inputs(x, weights, derivatives=True)
    grads = np.zeros((batch, len(observables), plan.sk.shape[0]))
    if within_state is None:
        within_state = n >= PARALLEL_SWEEP_WIRES and 1 < numba.get_num_threads() and batch < numba.get_num_threads()
    if within_state:
        adjoint_large_rows(psi, lams, plan.ops, plan.cdata, plan.idata, plan.sk, plan.sv, xs, ws, gen, wanted, grads,
                           int(sweep_chunk))
    else:
        _adjoint_rows(psi, lams, plan.ops, plan.cdata, plan.idata, plan.sk, plan.sv, xs, ws, gen, wanted, grads)
    slots = np.flatnonzero(wanted)
    wanted_grads = grads if slots.size == grads.shape[2] else grads[:, :, slots]
    return chain_rule(wanted_grads, slots, partials, batch, len(symbols)).astype(program.real_dtype, copy=False)
