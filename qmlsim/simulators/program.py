"""Compile a :class:`Circuit` once into a program of array steps; run it on a batch of inputs.

Compilation resolves every op to one kernel (diagonal, permutation, controlled or the
generic matrix kernel), precomputes the matrices of constant gates, and generates one
function that evaluates all gate angles vectorised over the batch. Programs are cached
by circuit structure, backend and dtype (compile once, run many).

>>> import numpy as np
>>> from qmlsim.circuits import Circuit
>>> from qmlsim.simulators.backends import get_backend
>>> c = Circuit(1); x = c.inputs(1); _ = c.rx(x[0], 0)
>>> prog = compile_circuit(c, get_backend("numpy"), "complex128")
>>> state = prog.run(np.array([[np.pi]]), np.zeros(0))
>>> np.round(abs(state.reshape(-1)) ** 2, 6).tolist()
[0.0, 1.0]
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.expressions import Expr, Symbol, compile_expressions
from qmlsim.circuits.gates import GATES
from qmlsim.simulators import kernels
from qmlsim.simulators.backends import DTYPES, Backend, get_backend
from qmlsim.simulators import jax_scan
from qmlsim.simulators.steps import (  # Step and the kinds stay importable from here
    KIND_DIAGONAL,
    KIND_MATRIX,
    KIND_PERMUTATION,
    Step,
    apply_step,
    resolve_op,
    step_kind,
    target_operator,
)

__all__ = ["Step", "Program", "compile_circuit", "KIND_DIAGONAL", "KIND_PERMUTATION", "KIND_MATRIX", "SCAN_THRESHOLD"]

# JAX programs longer than this run as lax.scan over op structures instead of unrolled
SCAN_THRESHOLD = 48
# traced programs on at most this many wires fold their constant parts (Program._fused):
# the index map of a fused permutation is 2**n integers
FUSE_MAX_WIRES = 20
# in traced programs, a run of one-wire gates on at least this many wires, and this share
# of all wires, becomes one layer (jax_scan.apply_wire_layer: one pass per wire of the state)
LAYER_MIN_WIRES = 2
LAYER_FRACTION = 0.5
# fold the leading constant gates into a host-computed start state (the harness turns it
# off to run constant gates through the traced kernels)
FOLD_CONSTANT_PREFIX = True


@dataclasses.dataclass(frozen=True)
class WireLayer:
    """A run of consecutive one-wire, uncontrolled steps (their positions, in order), run as one layer."""

    positions: tuple[int, ...]


class Program:
    """A compiled circuit (final class): steps plus one angle function.

    Attributes:
        circuit: the source circuit.
        backend: where it runs.
        dtype: complex dtype of states.
        steps: one :class:`Step` per op.
        angles: all gate angle expressions, in step order.
        real_operators: every step's operator is real at every angle, so a traced run
            from ``|0...0>`` can stay in real arithmetic.
    """

    def __init__(self, circuit: Circuit, backend: Backend, dtype: str):
        self.circuit = circuit
        self.backend = backend
        self.dtype = DTYPES[dtype]
        self.dtype_name = dtype
        self.num_wires = circuit.num_wires
        angles: list[Expr] = []
        steps = []
        for op in circuit.ops:
            gate, controls, targets = resolve_op(op)
            slots = tuple(range(len(angles), len(angles) + len(op.params)))
            angles.extend(op.params)
            kind = step_kind(gate, op)
            spectrum = ()
            if gate is not None:
                own = GATES[op.name].generator_spectrum
                spectrum = tuple(tuple(sorted(set(ev) | {0.0})) if op.controls else ev for ev in own)
            step = Step(op, kind, targets, controls, gate, slots, op.adjoint, None, spectrum)
            if all(p.is_constant for p in op.params):
                values = [float(v) for v in compile_expressions(op.params)(None, None, np)]
                with backend.concrete():
                    constant = target_operator(step, values, backend.xp, self.dtype)
                step = Step(op, kind, targets, controls, gate, slots, op.adjoint, constant, spectrum)
            steps.append(step)
        self.steps: tuple[Step, ...] = tuple(steps)
        self.angles: tuple[Expr, ...] = tuple(angles)
        self._angle_fn = compile_expressions(self.angles)
        real = np.float64 if self.dtype == np.complex128 else np.float32
        self.real_dtype = real
        self.real_operators = all(_real_step(step) for step in self.steps)
        self._compiled: dict[Any, Callable] = {}

    def function(self, key: Any, build: Callable[[], Callable]) -> Callable:
        """A function of ``(x, weights)`` built once per ``key`` and compiled by the backend (``jax.jit``)."""
        fn = self._compiled.get(key)
        if fn is None:
            fn = self.backend.jit(build())
            self._compiled[key] = fn
        return fn

    # --- evaluation ----------------------------------------------------------
    def angle_values(self, x: Any, weights: Any) -> list:
        """All gate angles: scalars, or ``(batch,)`` arrays for input-dependent ones."""
        return self._angle_fn(x, weights, self.backend.xp)

    def operators(self, values: list) -> list:
        """Each step's target operator for the given angle values."""
        xp = self.backend.xp
        return [
            s.constant if s.constant is not None else target_operator(s, [values[i] for i in s.slots], xp, self.dtype)
            for s in self.steps
        ]

    def _real_parts(self, operators: list) -> list:
        """The real parts of :meth:`operators` (exact when :attr:`real_operators` is true)."""
        xp = self.backend.xp
        return [op if s.kind == KIND_PERMUTATION else xp.real(op) for s, op in zip(self.steps, operators)]

    def initial_state(self, batch: int) -> Any:
        return kernels.zero_state(batch, self.num_wires, self.backend.xp, self.dtype)

    def evolve(self, state: Any, operators: list, start: int = 0, stop: int | None = None) -> Any:
        """Apply steps ``start..stop-1`` to ``state``."""
        stop = len(self.steps) if stop is None else stop
        apply = apply_step
        if self.backend.custatevec is not None:
            from qmlsim.simulators.custatevec import step_applier  # noqa: PLC0415 - GPU library only

            apply = step_applier(self.backend, state)
        for step, operator in zip(self.steps[start:stop], operators[start:stop]):
            state = apply(state, step, operator, self.backend)
        return state

    def run(self, x: Any, weights: Any, batch: int | None = None, initial: Any = None, keep_real: bool = False) -> Any:
        """Final states ``(batch, 2, ..., 2)`` for inputs ``x`` ``(batch, num_inputs)``, from ``|0...0>``
        or from ``initial`` ``(batch, 2**num_wires)``.

        ``keep_real``: a traced circuit of real gates may return its states in the real
        dtype it ran in (for measurements that take real states, see
        :func:`~qmlsim.simulators.measurements.expvals`).
        """
        batch = x.shape[0] if batch is None else batch
        if self.backend.traceable:
            # long programs scan; folding can bring one back under the threshold (a deep
            # layered ansatz is a few items per layer)
            fold = self.num_wires <= FUSE_MAX_WIRES and len(self.steps) <= 8 * SCAN_THRESHOLD
            # (folding never adds items: a program it leaves above the threshold has more steps too)
            if fold and len(self._fused[2]) + (0 if initial is None else self._fused[1]) <= SCAN_THRESHOLD:
                return self._run_fused(x, weights, batch, initial, keep_real)
            if len(self.steps) > SCAN_THRESHOLD:
                return jax_scan.run_scan(self, x, weights, batch, initial)
        state = self.initial_state(batch) if initial is None else initial.reshape((batch,) + (2,) * self.num_wires)
        return self.evolve(state, self.operators(self.angle_values(x, weights)))

    @functools.cached_property
    def _fused(self) -> tuple[np.ndarray | None, int, list]:
        """The traced (JAX) program with its constant parts done once, on the host.

        Why: XLA on CPU pays a few microseconds per operation, and a small circuit is many
        small operations. The state after the leading run of constant steps (from
        ``|0...0>``) is computed once, and every run of consecutive constant permutation
        steps (CNOT bricks, SWAP networks, modular arithmetic) becomes one gather. Each run
        of one-wire gates on enough wires becomes a :class:`WireLayer`.

        Returns ``(prefix state (2**n,) or None, steps it covers, items)``; an item is a step
        index, an index map ``(2**n,)`` with ``new[j] = old[map[j]]``, or a :class:`WireLayer`.
        """
        numpy_backend = get_backend("numpy")
        shape = (1,) + (2,) * self.num_wires

        def host(step: Step) -> Any:
            return step.constant if step.kind == KIND_PERMUTATION else np.asarray(step.constant)

        covered = 0
        while FOLD_CONSTANT_PREFIX and covered < len(self.steps) and self.steps[covered].constant is not None:
            covered += 1
        prefix = None
        if covered:
            prefix = kernels.zero_state(1, self.num_wires, np, np.complex128)
            for step in self.steps[:covered]:
                prefix = apply_step(prefix, step, host(step), numpy_backend)
            prefix = prefix.reshape(-1)
        items: list = []
        run: list[int] = []  # positions of consecutive constant permutation steps

        def flush() -> None:
            if len(run) >= 2:
                index = np.arange(2**self.num_wires, dtype=np.float64).reshape(shape)
                for position in run:
                    index = apply_step(index, self.steps[position], self.steps[position].constant, numpy_backend)
                items.append(index.reshape(-1).astype(np.int32))
            else:
                items.extend(run)
            run.clear()

        for position in range(covered, len(self.steps)):
            step = self.steps[position]
            if step.constant is not None and step.kind == KIND_PERMUTATION:
                run.append(position)
                continue
            flush()
            items.append(position)
        flush()
        return prefix, covered, self._layers(items)

    def _layers(self, items: list) -> list:
        """``items`` with each wide enough run of one-wire step positions made a :class:`WireLayer`."""
        least = max(LAYER_MIN_WIRES, math.ceil(LAYER_FRACTION * self.num_wires))
        out: list = []
        pending: list[int] = []

        def flush() -> None:
            if len({self.steps[p].targets[0] for p in pending}) >= least:
                out.append(WireLayer(tuple(pending)))
            else:
                out.extend(pending)
            pending.clear()

        for item in items:
            if not isinstance(item, np.ndarray) and len(self.steps[item].targets) == 1 and not self.steps[item].controls:
                pending.append(item)
                continue
            flush()
            out.append(item)
        flush()
        return out

    def _apply_layer(self, state: Any, layer: WireLayer, operators: list, batch: int) -> Any:
        """A :class:`WireLayer` on a traced state: each wire's gates multiplied into one matrix, then one pass per wire."""
        xp = self.backend.xp
        eye = np.eye(2)
        per_wire: list[Any] = [None] * self.num_wires
        for position in layer.positions:
            step = self.steps[position]
            matrix = jax_scan.dense_operator(step, operators[position], xp)
            wire = step.targets[0]
            before = per_wire[wire]
            # 2 x 2 products as broadcast sums: they fuse with the angle arithmetic (no matmul call)
            per_wire[wire] = matrix if before is None else (matrix[..., :, :, None] * before[..., None, :, :]).sum(axis=-2)
        shape = (batch, 2, 2)
        matrices = xp.stack(
            [xp.broadcast_to(xp.asarray(eye if m is None else m, dtype=state.dtype), shape) for m in per_wire]
        )
        return jax_scan.apply_wire_layer(state.reshape(batch, -1), matrices).reshape(state.shape)

    def _run_fused(self, x: Any, weights: Any, batch: int, initial: Any, keep_real: bool = False) -> Any:
        xp = self.backend.xp
        prefix, covered, items = self._fused
        shape = (batch,) + (2,) * self.num_wires
        # a circuit of real gates from |0...0> keeps real amplitudes: run it in real arithmetic
        # (XLA on CPU does real products 1.5-2x faster than complex ones) and convert at the end
        real = initial is None and self.real_operators
        dtype = self.real_dtype if real else self.dtype
        if initial is None and prefix is not None:
            start = np.real(prefix) if real else prefix
            state = xp.broadcast_to(xp.asarray(start, dtype=dtype), (batch, prefix.size)).reshape(shape)
        else:
            state = kernels.zero_state(batch, self.num_wires, xp, dtype) if initial is None else initial.reshape(shape)
            items = list(range(covered)) + items if covered else items
        operators = self.operators(self.angle_values(x, weights))
        if real:
            operators = self._real_parts(operators)
        for item in items:
            if isinstance(item, np.ndarray):
                state = jax_scan.permute_amplitudes(state.reshape(batch, -1), item).reshape(shape)
            elif isinstance(item, WireLayer):
                state = self._apply_layer(state, item, operators, batch)
            else:
                state = apply_step(state, self.steps[item], operators[item], self.backend)
        return state.astype(self.dtype) if real and not keep_real else state

    def angle_gradients(self, symbols: list[Symbol]) -> Callable:
        """Function ``(x, w, xp) -> [[d angle_k / d symbol_j for j] for k]``: scalars, ``(batch,)`` or ``None`` (zero)."""
        return _angle_gradient_fn(self.angles, tuple(symbols))


def _real_step(step: Step) -> bool:
    """Whether a step's operator is real for every real angle (so real states stay real)."""
    if step.kind == KIND_PERMUTATION:
        return True
    if step.gate is None:
        return not np.any(np.imag(np.asarray(step.constant)))
    return _real_gate(step.gate.name)


@functools.lru_cache(maxsize=None)
def _real_gate(name: str) -> bool:
    """Whether a gate's matrix is real at every angle (checked at three generic angle sets)."""
    gate = GATES[name]
    rng = np.random.default_rng(0)
    for _ in range(3):
        values = list(rng.uniform(-np.pi, np.pi, gate.num_params))
        if np.any(np.imag(np.asarray(gate.matrix(values, np, np.complex128)))):
            return False
    return True


@functools.lru_cache(maxsize=256)
def _angle_gradient_fn(angles: tuple[Expr, ...], symbols: tuple[Symbol, ...]) -> Callable:
    """Partials ``d angle_k / d symbol_j``; ``None`` where the angle does not depend on the symbol."""
    nonzero = [(k, j) for k, angle in enumerate(angles) for j, s in enumerate(symbols) if s in angle.symbols()]
    fn = compile_expressions([angles[k].diff(symbols[j]) for k, j in nonzero])

    pairs = tuple(nonzero)
    slots = frozenset(k for k, _ in nonzero)

    def gradients(x: Any, w: Any, xp: Any) -> AnglePartials:
        out = AnglePartials([None] * len(symbols) for _ in angles)
        for (k, j), value in zip(nonzero, fn(x, w, xp)):
            out[k][j] = value
        out.pairs, out.slots = pairs, slots
        return out

    return gradients


class AnglePartials(list):
    """``d angle_k / d symbol_j`` as rows of a list (``None`` where zero), with where they are nonzero.

    Attributes:
        pairs: the ``(k, j)`` with a nonzero partial.
        slots: the angles ``k`` that depend on some symbol.
    """

    pairs: tuple[tuple[int, int], ...] = ()
    slots: frozenset[int] = frozenset()


_PROGRAMS: dict[tuple, Program] = {}
_MAX_PROGRAMS = 512


def compile_circuit(circuit: Circuit, backend: Backend, dtype: str = "complex128") -> Program:
    """The cached :class:`Program` of ``circuit`` on ``backend`` in ``dtype``."""
    key = (circuit.key, backend.name, id(backend.xp), dtype)
    program = _PROGRAMS.get(key)
    if program is None:
        if len(_PROGRAMS) >= _MAX_PROGRAMS:
            _PROGRAMS.pop(next(iter(_PROGRAMS)))
        program = Program(circuit.copy(), backend, dtype)
        _PROGRAMS[key] = program
    return program
