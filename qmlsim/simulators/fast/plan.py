"""Packing a :class:`~qmlsim.simulators.program.Program` into arrays for the numba kernels.

A :class:`FastPlan` holds one int64 record per op (kernel kind, targets as bit
positions, control mask, angle slots, adjoint flag, offsets into the constant
operators), the constant operators of angle-free gates, and affine angle specs; for
large states it also holds the cache-block groups.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from qmlsim.circuits.expressions import Add, Div, Expr, Mul, Neg, Symbol, compile_expressions
from qmlsim.circuits.observables import Observable, PauliTerm
from qmlsim.simulators.fast.kernels import (  # the record layout and kernels
    C_CONST,
    C_ROW,
    KERNEL_CODES,
    F_ADJ,
    F_CMASK,
    F_CODE,
    F_IOFF,
    F_K,
    F_KIND,
    F_NSLOT,
    F_OFF,
    F_POS,
    F_ROWDEP,
    F_SLOT,
    KMAX,
    K_DENSE,
    K_DIAG,
    K_PERM,
    NFIELDS,
    S_CONST,
    S_GEN,
    S_W,
    S_X,
    PARALLEL_WIRES,
    PARALLEL_WORK,
    group_parallel,
    group_serial,
    pauli_expvals_one_large,
    pauli_expvals_parallel,
    pauli_expvals_serial,
    msize,
    rows_parallel,
    rows_serial,
    numba,
)

if numba is not None:
    from qmlsim.simulators.fast.simd_rows import simd_expvals, simd_states
    from qmlsim.simulators.fast.split import split_chunks_parallel, split_rows, split_rows_parallel
from qmlsim.simulators.fast.split import SPECTATORS, SPLIT_MIN_WIRES, split_bits as split_bits_for
from qmlsim.simulators.fast.simd_rows import SIMD_MAX_WIRES, SIMD_MIN_ROWS, simd_block_rows
from qmlsim.simulators.program import Program
from qmlsim.simulators.steps import KIND_DIAGONAL, KIND_PERMUTATION

__all__ = ["FastPlan", "plan_for", "Unsupported"]


class Unsupported(Exception):
    """The program needs something the fast path does not do; the array path runs it instead."""


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


def kernel_floats(values: np.ndarray) -> np.ndarray:
    """``values`` as a contiguous, writable float64 array: the one layout the kernels are compiled for.

    A read-only array (``np.asarray`` of a JAX array, ``np.broadcast_to``) would make numba
    compile every driver again for that layout, about 20 s each on first use.
    """
    values = np.ascontiguousarray(values, np.float64)
    return values if values.flags.writeable else values.copy()


def _positions(wires: Sequence[int], num_wires: int) -> list[int]:
    """Bit positions of wires (wire 0 is the most significant bit)."""
    return [num_wires - 1 - w for w in wires]


_SCRATCH: dict[tuple, np.ndarray] = {}


def scratch(shape: tuple[int, ...], dtype: Any, slot: int) -> np.ndarray:
    """A reusable work array of ``shape`` and ``dtype`` (contents undefined), one per ``slot``.

    The kernels run under the GIL, so one process never uses the same array twice at once.
    Why: a fresh megabyte is 256 new pages, and each first touch is a page fault, which on
    this project's virtual machines cost more than the work on the page (measured: a split
    pass over 2**16 amplitudes 650 us with new buffers, about 200 us with reused ones).
    Only the latest shape per ``(dtype, slot)`` is kept.
    """
    key = (np.dtype(dtype).str, slot)
    array = _SCRATCH.get(key)
    if array is None or array.shape != shape:
        array = _SCRATCH[key] = np.empty(shape, dtype)
    return array


@dataclass(frozen=True, eq=False)
class _SplitPasses:
    """Passes of the split layout (:mod:`~qmlsim.simulators.fast.split`), packed for its drivers (see ``split_rows``)."""

    ops: np.ndarray
    bounds: np.ndarray
    nonlocal_pos: np.ndarray
    high: np.ndarray
    low: np.ndarray


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
        chunk_bits: amplitudes per cache block of the interleaved groups are ``2**chunk_bits``.
        split_wires: one state of at least this many wires runs in the split layout
            (:mod:`~qmlsim.simulators.fast.split`; default ``SPLIT_MIN_WIRES``).
        split_bits: amplitudes per chunk of a split-layout pass are ``2**split_bits``.
        parallel_work: the split layout runs rows, or the chunks of one state, in parallel from
            this many amplitude-gate updates (a test forces it lower).
    """

    def __init__(
        self,
        program: Program,
        chunk_bits: int | None = None,
        run_bits: int = 9,
        split_wires: int | None = None,
        split_bits: int | None = None,
        parallel_work: int = PARALLEL_WORK,
    ):
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
        # one state from this many wires takes the split layout (a test forces it lower)
        self.split_wires = SPLIT_MIN_WIRES if split_wires is None else split_wires
        self.split_bits = split_bits if split_bits is not None else split_bits_for(itemsize)
        self.parallel_work = parallel_work
        self._split: _SplitPasses | bool | None = None
        self._observables: dict[Any, Any] = {}
        self._simd_constants: tuple | None = None
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
        self._slot_values: Any = None  # all angles per row, compiled when a C_ROW op needs them

    def _pack_ops(self) -> None:
        n = self.num_wires
        # C_ROW ops: (step, offset of its values in a row, diagonal?) and the row width
        self._row_ops: list[tuple[Any, int, bool]] = []
        self._row_size = self._num_general
        records = []
        cdata: list[np.ndarray] = [np.zeros(1, np.complex128)]
        idata: list[np.ndarray] = [np.zeros(1, np.int64)]
        csize, isize = 1, 1
        for step in self.program.steps:
            k = len(step.targets)
            if k > KMAX or (step.constant is None and step.gate.kernel is not None and k > 2):
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
                rec[F_KIND] = K_DIAG if step.kind == KIND_DIAGONAL else K_DENSE
                rec[F_ADJ] = int(step.adjoint)
                if step.gate.kernel is not None:
                    rec[F_CODE] = KERNEL_CODES[step.gate.kernel]
                else:
                    # no builder: the matrix and its derivatives come per row from the gate table
                    if k > 6 and rec[F_KIND] == K_DENSE:
                        raise Unsupported("dense parametric gates on more than 6 wires")
                    size = (1 << k) if rec[F_KIND] == K_DIAG else (1 << (2 * k))
                    rec[F_CODE] = C_ROW
                    rec[F_OFF] = self._row_size
                    rec[F_ROWDEP] = 1
                    self._row_ops.append((step, self._row_size, rec[F_KIND] == K_DIAG))
                    self._row_size += 2 * size * (1 + len(step.slots))
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
        """Ops grouped so each group touches at most ``chunk_bits`` positions (the low ``run_bits`` always)."""
        if self._groups is not None:
            return self._groups
        rb, free = self.run_bits, self.chunk_bits - self.run_bits

        def high(positions: set[int]) -> set[int]:
            return {p for p in positions if p >= rb}

        groups = []
        for taken in self._greedy(lambda used, need: len(high(used | need)) <= free):
            used = set().union(*(self._touched(self.ops[i]) for i in taken))
            groups.append(self._make_group(taken, high(used)))
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

    def _greedy(self, fits: Any) -> list[list[int]]:
        """Op indices in passes: an op joins the current pass if ``fits(positions so far, its positions)``
        and no op skipped before it shares a wire with it (so moving it earlier does not change the result)."""
        pending = list(range(self.ops.shape[0]))
        touched = [self._touched(self.ops[i]) for i in pending]
        passes = []
        while pending:
            used: set[int] = set()
            taken, skipped, blocked = [], [], set()
            for i in pending:
                if not (touched[i] & blocked) and fits(used, touched[i]):
                    used |= touched[i]
                    taken.append(i)
                else:
                    skipped.append(i)
                    blocked |= touched[i]
            if not taken:
                raise Unsupported("an op touches more wires than a pass holds")
            pending = skipped
            passes.append(taken)
        return passes

    def split_passes(self) -> _SplitPasses | None:
        """The passes of the split layout, or ``None`` when an op touches more positions than a
        pass leaves free (``min(num_wires, split_bits) - SPECTATORS``)."""
        if self._split is None:
            try:
                self._split = self._pack_split()
            except Unsupported:
                self._split = False
        return self._split or None

    def _pack_split(self) -> _SplitPasses:
        n = self.num_wires
        bits = min(n, self.split_bits)
        cap = bits - SPECTATORS
        if cap < 1:
            raise Unsupported("too few wires for the split layout")
        records, bounds, nonlocal_rows, highs, lows = [], [], [], [], []
        for taken in self._greedy(lambda used, need: len(used | need) <= cap):
            used = set().union(*(self._touched(self.ops[i]) for i in taken))
            local = set(used)
            p = 0
            while len(local) < bits:  # fill with the lowest free positions: the longest contiguous reads
                local.add(p)
                p += 1
            # untouched positions take the lowest local bits (the lowest SPECTATORS of them are the
            # spectators): the ops' runs are as long as the pass allows
            order = sorted(local - used) + sorted(used)
            where = {g: i for i, g in enumerate(order)}
            ops = self.ops[taken].copy()
            for rec in ops:
                k = int(rec[F_K])
                rec[F_POS : F_POS + k] = [where[int(q)] for q in rec[F_POS : F_POS + k]]
                cmask = int(rec[F_CMASK])
                rec[F_CMASK] = sum(1 << where[q] for q in range(n) if cmask >> q & 1)
            start = sum(len(r) for r in records)
            records.append(ops)
            bounds.append((start, start + len(taken)))
            nonlocal_rows.append([q for q in range(n) if q not in local])
            # gather tables: local index (h << SPECTATORS) | t holds global offset high[0, h] | low[0, t];
            # the rows h are sorted by their global offset, so that the 2**SPECTATORS read streams of the
            # gather walk the state forwards (in local order they jumped by whole pages: 5 ns per amplitude)
            h = np.arange(1 << (bits - SPECTATORS), dtype=np.int64)
            t = np.arange(1 << SPECTATORS, dtype=np.int64)
            ghigh = sum(((h >> j) & 1) << order[SPECTATORS + j] for j in range(bits - SPECTATORS))
            rows = np.argsort(ghigh, kind="stable")
            highs.append([ghigh[rows], rows << SPECTATORS])
            lows.append([sum(((t >> j) & 1) << order[j] for j in range(SPECTATORS)), t])
        return _SplitPasses(
            np.concatenate(records or [np.zeros((0, NFIELDS), np.int64)]).reshape(-1, NFIELDS),
            np.array(bounds, np.int64).reshape(-1, 2),
            np.array(nonlocal_rows, np.int64).reshape(len(bounds), n - bits),
            np.array(highs, np.int64).reshape(len(bounds), 2, 1 << (bits - SPECTATORS)),
            np.array(lows, np.int64).reshape(len(bounds), 2, 1 << SPECTATORS),
        )

    def takes_split(self, batch: int) -> bool:
        """Whether ``batch`` rows run in the split layout (:mod:`~qmlsim.simulators.fast.split`)."""
        return self.num_wires >= self.split_wires and not self.simd_rows(batch) and self.split_passes() is not None

    def _split_states(self, states: np.ndarray, reset: bool, x: np.ndarray, weights: np.ndarray, gen: np.ndarray) -> None:
        split = self.split_passes()
        batch, n = states.shape[0], self.num_wires
        threads = numba.get_num_threads()
        chunks = 1 << split.nonlocal_pos.shape[1]
        work = (1 << n) * max(1, self.ops.shape[0])
        kmax = int(self.ops[:, F_K].max()) if self.ops.shape[0] else 1
        head = (states, reset, split.ops, split.bounds, split.nonlocal_pos, split.high, split.low, self.cdata, self.idata,
                self.sk, self.sv, x, weights, gen)
        if threads > 1 and batch > 1 and batch * work >= self.parallel_work:
            driver, workers = split_rows_parallel, threads
        elif threads > 1 and chunks > 1 and work >= self.parallel_work:
            driver, workers = split_chunks_parallel, min(chunks, threads)
        else:
            driver, workers = split_rows, 1
        real = np.float32 if np.dtype(self.dtype).itemsize == 8 else np.float64
        size = split.high.shape[2] * split.low.shape[2]
        driver(*head, scratch((workers, size), real, 0), scratch((workers, size), real, 1), msize(self.ops), kmax)

    # --- running ---------------------------------------------------------------------
    @property
    def needs_row_values(self) -> bool:
        """Whether the kernels read per-row values (non-affine angles, or matrices of C_ROW ops)."""
        return self._row_size > 0

    def angle_inputs(self, x: np.ndarray, weights: np.ndarray, derivatives: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``x``, ``weights`` as contiguous float64 and the per-row values ``(batch, k)`` the kernels read.

        A row holds the values of the non-affine angles, then, for each op run by the
        generic kernel, its matrix (or diagonal) as (re, im) pairs and, with
        ``derivatives``, the derivative matrices by its angles.
        """
        batch = x.shape[0]
        x, weights = kernel_floats(x), kernel_floats(weights)
        gen = np.zeros((batch, self._row_size))
        if self._general is not None:
            for i, value in enumerate(self._general(x, weights, np)):
                gen[:, i] = value
        if self._row_ops:
            if self._slot_values is None:
                self._slot_values = compile_expressions(self.program.angles)
            values = self._slot_values(x, weights, np)
            for step, offset, diagonal in self._row_ops:
                angles = [values[i] for i in step.slots]
                blocks = [step.gate.diagonal(angles, np, np.complex128) if diagonal else step.gate.matrix(angles, np, np.complex128)]
                if derivatives:
                    parts = step.gate.derivatives(angles, np, np.complex128)
                    blocks += [np.diagonal(d, axis1=-2, axis2=-1) if diagonal else d for d in parts]
                for block in blocks:
                    shape = (batch,) + block.shape[(-1 if diagonal else -2) :]
                    flat = np.ascontiguousarray(np.broadcast_to(block, shape)).reshape(batch, -1).view(np.float64)
                    gen[:, offset : offset + flat.shape[1]] = flat
                    offset += flat.shape[1]
        return x, weights, gen

    def states(self, x: np.ndarray, weights: np.ndarray, initial: np.ndarray | None = None) -> np.ndarray:
        """Final states ``(batch, 2**num_wires)`` for ``x`` ``(batch, num_inputs)``, ``weights`` ``(num_weights,)``,
        from ``|0...0>`` or from ``initial`` ``(batch, 2**num_wires)`` (not modified)."""
        x, weights, gen = self.angle_inputs(x, weights)
        batch, n = x.shape[0], self.num_wires
        args = (self.ops, self.cdata, self.idata, self.sk, self.sv)
        reset = initial is None
        if self.simd_rows(batch):
            states = np.empty((batch, 1 << n), self.dtype) if reset else np.array(initial, self.dtype, order="C")
            simd_states(states, not reset, *args, x, weights, gen, *self._simd_args(batch))
            return states
        if self.takes_split(batch):
            states = np.empty((batch, 1 << n), self.dtype) if reset else np.array(initial, self.dtype, order="C")
            self._split_states(states, reset, x, weights, gen)
            return states
        if n <= self.chunk_bits:
            states = np.empty((batch, 1 << n), self.dtype) if reset else np.array(initial, self.dtype, order="C")
            work = batch * (1 << n) * max(1, self.ops.shape[0])
            rows = rows_parallel if batch > 1 and work >= PARALLEL_WORK else rows_serial
            # rows processed op by op together: about 32 KiB of amplitudes, one L1 cache
            block = max(1, (2048 * 16 // np.dtype(self.dtype).itemsize) >> n)
            rows(states, *args, x, weights, gen, block, reset)
            return states
        states = np.zeros((batch, 1 << n), self.dtype) if reset else np.array(initial, self.dtype, order="C")
        groups = self.groups()
        parts = min(1 << (n - self.chunk_bits), 4 * numba.get_num_threads())
        # below 2**PARALLEL_WIRES amplitudes a group pass takes well under a millisecond,
        # where a parallel launch's thread wake-up is a large and (on a busy machine) erratic cost
        group = group_parallel if n >= PARALLEL_WIRES else group_serial
        for b in range(batch):
            row = states[b]
            if reset:
                row[0] = 1
            for g in groups:
                group(
                    row, g.ops, self.cdata, self.idata, self.sk, self.sv, x[b], weights, gen[b],
                    g.nonlocal_pos, g.runs, self.run_bits, self.chunk_bits, parts,
                )
        return states

    __call__ = states

    # --- many rows of a small state: rows as the SIMD axis ----------------------------
    def simd_rows(self, batch: int) -> bool:
        """Whether ``batch`` rows run with the rows as the SIMD axis (:mod:`~qmlsim.simulators.fast.simd_rows`)."""
        return self.num_wires <= SIMD_MAX_WIRES and batch >= SIMD_MIN_ROWS

    def _simd_args(self, batch: int) -> tuple:
        """``(block, msize, kmax, real dtype marker, parallel)`` of the SIMD-rows kernels for ``batch`` rows.

        All but ``parallel`` are the plan's own, computed once: a repeated call of a few
        hundred rows lasts tens of microseconds, and each numpy or numba call costs several
        when the caches are cold (measured after 10 ms idle: 25 us for this function alone).
        """
        if self._simd_constants is None:
            itemsize = np.dtype(self.dtype).itemsize
            kmax = int(self.ops[:, F_K].max()) if self.ops.shape[0] else 1
            real = np.zeros(0, np.float32 if itemsize == 8 else np.float64)
            self._simd_constants = (simd_block_rows(self.num_wires, itemsize), msize(self.ops), kmax, real)
        block = self._simd_constants[0]
        work = batch * (1 << self.num_wires) * max(1, self.ops.shape[0])
        return (*self._simd_constants, batch > block and work >= PARALLEL_WORK)

    def direct_expvals(self, x: np.ndarray, weights: np.ndarray, packed: Any, num_observables: int) -> np.ndarray:
        """``(batch, num_observables)`` Pauli-sum expectation values from ``|0...0>`` without forming the
        states (for ``batch`` rows where :meth:`simd_rows` holds)."""
        return self.converted_expvals(*self.angle_inputs(x, weights), packed, num_observables)

    def converted_expvals(self, x: np.ndarray, weights: np.ndarray, gen: np.ndarray, packed: Any,
                          num_observables: int) -> np.ndarray:
        """:meth:`direct_expvals` for inputs already as :meth:`angle_inputs` returns them (the
        repeated-call lane passes its own, skipping the conversions on its hot path)."""
        out = np.zeros((x.shape[0], num_observables))
        simd_expvals(1 << self.num_wires, self.ops, self.cdata, self.idata, self.sk, self.sv, x, weights, gen,
                     *self._simd_args(x.shape[0]), *packed, out)
        return out

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
        if states.shape[0] == 1 and self.num_wires >= PARALLEL_WIRES:
            pauli_expvals_one_large(states[0], *packed, out, 4 * numba.get_num_threads())
            return out
        (pauli_expvals_parallel if states.shape[0] > 1 and work >= PARALLEL_WORK else pauli_expvals_serial)(states, *packed, out)
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
