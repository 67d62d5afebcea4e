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
    _adjoint_in_place,
    _angle,
    _apply,
    _base_index,
    _build_derivative,
    _insert_zero,
    _msize,
    _offsets,
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

    psi = plan.states(x, weights)
    lams = lams_fn(psi)
    xs, ws, gen = plan.angle_inputs(x, weights)
    grads = np.zeros((batch, len(observables), plan.sk.shape[0]))
    _adjoint_rows(psi, lams, plan.ops, plan.cdata, plan.idata, plan.sk, plan.sv, xs, ws, gen, wanted, grads)
    chain = np.zeros((batch, len(partials), len(symbols)))
    for slot, row in enumerate(partials):
        for j, p in enumerate(row):
            if p is not None:
                chain[:, slot, j] = p
    return np.matmul(grads, chain).astype(program.real_dtype, copy=False)
