"""The user-facing statevector simulator: validation at the boundary, batching, chunking, results.

>>> import numpy as np
>>> from qmlsim.circuits import Circuit, Z
>>> c = Circuit(2); x = c.inputs(1); _ = c.ry(x[0], 0).cx(0, 1)
>>> sim = Simulator()
>>> np.round(sim.expval(c, Z(0) @ Z(1), x=np.array([[0.0], [np.pi]])), 6).tolist()
[1.0, 1.0]
"""
from __future__ import annotations

import contextlib
import functools
import sys
from typing import Any, Callable, Sequence

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.observables import Observable
from qmlsim.simulators import measurements
from qmlsim.simulators.backends import DTYPES, REAL_DTYPES, Backend, available_memory_bytes, get_backend
from qmlsim.simulators.gradients import JACOBIANS
from qmlsim.simulators.calls import Call, prepare_call
from qmlsim.simulators.validation import check_shots, initial_states
from qmlsim.simulators.program import Program, compile_circuit

__all__ = ["Simulator"]

# Working memory of one row relative to one state: the state, a kernel's output and
# temporaries; the adjoint method holds two states plus a derivative product.
_WORK_FACTOR = {"run": 3, "jacobian": 5}
# Rows processed per chunk are limited to this share of available memory.
_CHUNK_SHARE = 0.25
# Below this many bytes of working memory a call does not read /proc/meminfo (it costs ~10 us).
_SMALL_WORK_BYTES = 1 << 20
KERNELS = ("auto", "numba", "array")


def _is_tracer(value: Any) -> bool:
    # a value can be a tracer only once JAX is imported: never import it here (a NumPy
    # user would pay JAX's import time on the first call)
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(value, jax.core.Tracer)


def _jax_x64_enabled() -> bool:
    import jax  # noqa: PLC0415 - only asked by JAX simulators

    return bool(jax.config.jax_enable_x64)


def _fast_expvals(plan: Any, observables: list[Observable], x: Any, weights: Any, backend: Backend) -> Any:
    """Expectation values from the numba states: Pauli sums in one kernel, other observables by the array path."""
    packed = plan.pauli_observables(observables)
    if packed is not None and plan.simd_rows(x.shape[0]):
        return plan.direct_expvals(x, weights, packed, len(observables))
    states = plan.states(x, weights)
    if packed is not None:
        return plan.expvals(states, packed, len(observables))
    return measurements.expvals(states.reshape((states.shape[0],) + (2,) * plan.num_wires), observables, backend)


def _small_lane(circuit: Circuit, observables: Any, obs_list: list[Observable], plan: Any) -> Any:
    """A :class:`~qmlsim.simulators.fast.single.SmallLane` for repeated calls, or ``None`` (large state, Hermitian terms)."""
    if plan.num_wires > plan.chunk_bits:
        return None
    packed = plan.pauli_observables(obs_list)
    if packed is None:
        return None
    from qmlsim.simulators.fast.single import SmallLane  # noqa: PLC0415 - numba path only

    return SmallLane(circuit, observables, plan, packed)


def _in_backend_scope(method: Callable) -> Callable:
    """Run a public method inside the backend's scope (64-bit JAX types for a complex128 JAX simulator)."""

    @functools.wraps(method)
    def run(self: Simulator, *args: Any, **kwargs: Any) -> Any:
        if self._scoped:
            if any(_is_tracer(a) for a in (*args, *kwargs.values())) and not _jax_x64_enabled():
                # the caller's transformation (grad, jit) runs outside our 64-bit scope
                raise ValueError(
                    "tracing a complex128 JAX simulator (jax.grad, jax.jit...) needs 64-bit JAX types: add "
                    'jax.config.update("jax_enable_x64", True) at the start of your program, '
                    'or use Simulator(backend="jax", dtype="complex64")'
                )
            with self.backend.scope():
                return method(self, *args, **kwargs)
        return method(self, *args, **kwargs)

    return run


class Simulator:
    """Batched statevector simulator (final class); satisfies the ``Executor`` protocol.

    Args:
        backend: ``"numpy"`` (default), ``"jax"``, ``"cupy"`` or a :class:`Backend`.
        dtype: ``"complex128"`` (default) or ``"complex64"``.
        max_chunk_rows: cap on rows simulated at once (default: from available memory).
        kernels: NumPy backend only: ``"auto"`` (default) runs the compiled numba kernels
            (``qmlsim.simulators.fast``) when numba is installed and the circuit is
            covered, else the array kernels; on a machine where the numba kernels were
            never compiled, it runs the array kernels while a background process compiles
            them (:mod:`qmlsim.simulators.fast.background`), so the first call does not
            wait. ``"numba"`` insists on them (compiling in place if needed); ``"array"``
            runs the plain array path, the reference the fast path is tested against.

    Example:
        >>> from qmlsim.circuits import Circuit
        >>> c = Circuit(1); _ = c.h(0)
        >>> Simulator().probs(c).round(3).tolist()
        [0.5, 0.5]
    """

    supports_statevector = True

    def __init__(
        self, backend: str | Backend = "numpy", dtype: str = "complex128", max_chunk_rows: int | None = None,
        kernels: str = "auto",
    ):
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if kernels not in KERNELS:
            raise ValueError(f"kernels must be one of {', '.join(KERNELS)}, got {kernels!r}")
        self.backend = get_backend(backend, dtype)
        if kernels == "numba" and self.backend.name != "numpy":
            raise ValueError(f'kernels="numba" runs on the NumPy backend only, not {self.backend.name!r}; use kernels="auto"')
        self.dtype = dtype
        self.max_chunk_rows = max_chunk_rows
        self.kernels = kernels
        self._scoped = self.backend.scope is not contextlib.nullcontext
        self._last: tuple[Any, Any, Program] | None = None
        self._lane: Any = None  # fast.single.SmallLane of the last small expval call

    def __reduce__(self) -> tuple:
        # named backends are rebuilt on unpickling (a Backend holds a module); a custom
        # Backend object (e.g. a CuPy stand-in) has no name to rebuild from
        if self.backend.custatevec is None and self.backend.name in ("numpy", "jax", "cupy"):
            return (Simulator, (self.backend.name, self.dtype, self.max_chunk_rows, self.kernels))
        raise TypeError("a Simulator built on a custom Backend object cannot be pickled; pass a backend name")

    def __deepcopy__(self, memo: dict) -> Simulator:
        return Simulator(self.backend, self.dtype, self.max_chunk_rows, self.kernels)

    def __repr__(self) -> str:
        return f"Simulator(backend={self.backend.name!r}, dtype={self.dtype!r})"

    # --- validation --------------------------------------------------------------
    def _prepare(self, circuit: Circuit, x: Any, weights: Any, **checks: Any) -> tuple[Program, Any, Any, Call]:
        """The program, ``x`` and ``weights`` on the backend, and the checked :class:`~qmlsim.simulators.calls.Call`."""
        call = prepare_call(circuit, x, weights, host=self._host_value, **checks)
        real = REAL_DTYPES[self.dtype]
        xp = self.backend.xp
        return self._program(circuit), xp.asarray(call.rows, dtype=real), xp.asarray(call.weights, dtype=real), call

    def _host_value(self, value: Any, name: str) -> Any:
        # JAX tracers stay tracers on the JAX backend (jax.grad through the simulator)
        if self.backend.traceable and _is_tracer(value):
            return value
        return self._host_checked(value, name)

    def _program(self, circuit: Circuit) -> Program:
        # the circuit's memoised key object is replaced when the circuit changes, so an
        # identity check skips hashing the whole structure on repeated calls
        key = circuit.key
        last = self._last
        if last is not None and last[0] is circuit and last[1] is key:
            return last[2]
        program = compile_circuit(circuit, self.backend, self.dtype)
        self._last = (circuit, key, program)
        return program

    def _fast_plan(self, program: Program) -> Any:
        """The numba plan of ``program``, or ``None`` for the array path."""
        if self.kernels == "array" or self.backend.name != "numpy":
            return None
        from qmlsim.simulators import fast  # noqa: PLC0415 - numba is imported on first use
        from qmlsim.simulators.fast.background import compiled_kernels_ready  # noqa: PLC0415

        if not fast.available():
            if self.kernels == "numba":
                raise ImportError('kernels="numba" needs numba: pip install numba')
            return None
        if self.kernels == "auto" and not compiled_kernels_ready(self.dtype):
            return None  # the array kernels, while a background process compiles the numba ones
        plan = fast.plan_for(program)
        if plan is None and self.kernels == "numba":
            raise ValueError('this circuit is not covered by the numba kernels; use kernels="auto" or "array"')
        return plan

    def _host_checked(self, value: Any, name: str) -> Any:
        if _is_tracer(value):
            raise TypeError(
                f"{name} is a JAX tracer (this call is inside jax.grad, jax.jit or jax.vmap), but this simulator runs on "
                f"the {self.backend.name!r} backend, which JAX cannot trace: use Simulator(backend=\"jax\"), or wrap "
                "this simulator with qmlsim.simulators.jax_expval(simulator, circuit, observables) for a custom gradient"
            )
        plain = isinstance(value, (np.ndarray, list, tuple, float, int, np.generic))
        host = np.asarray(value) if plain else self.backend.to_host(value)
        if host.dtype.kind == "c":
            raise TypeError(f"{name} must be real, got complex values")
        if host.dtype.kind not in "fiub":
            raise TypeError(f"{name} must be a real numeric array, got dtype {host.dtype}")
        # one reduction tells all-finite apart in the common case; an overflowing sum gets the exact check
        if not np.isfinite(host.sum()) and not np.isfinite(host).all():
            raise ValueError(f"{name} contains NaN or infinite values; clean the data before simulating")
        return host

    def _chunk_rows(self, num_wires: int, batch: int, purpose: str) -> int:
        itemsize = np.dtype(DTYPES[self.dtype]).itemsize
        per_row = itemsize * 2**num_wires * _WORK_FACTOR[purpose]
        if per_row * batch <= _SMALL_WORK_BYTES and self.max_chunk_rows is None:
            return batch
        available = available_memory_bytes()
        if per_row > available:
            raise MemoryError(
                f"a {num_wires}-wire state needs {itemsize * 2**num_wires / 2**30:.2f} GiB in {self.dtype} "
                f"(about {per_row / 2**30:.2f} GiB with working copies) but only {available / 2**30:.2f} GiB is available; "
                "use dtype='complex64' or fewer wires"
            )
        rows = max(1, int(available * _CHUNK_SHARE // per_row))
        if self.max_chunk_rows is not None:
            rows = min(rows, self.max_chunk_rows)
        return min(rows, batch)

    def _check_result_fits(self, batch: int, row_bytes: int, what: str) -> None:
        need = batch * row_bytes
        if need <= _SMALL_WORK_BYTES:
            return
        available = available_memory_bytes()
        if need > 0.8 * available:
            raise MemoryError(
                f"{what} for {batch} rows needs {need / 2**30:.2f} GiB but only {available / 2**30:.2f} GiB is available; "
                "pass a smaller batch, use dtype='complex64', or ask for probs/expval which are computed in chunks"
            )

    def _chunked(self, fn: Any, program: Program, x: Any, purpose: str = "run") -> Any:
        """Apply ``fn(x_chunk) -> array with batch axis first`` over memory-bounded chunks."""
        batch = x.shape[0]
        rows = self._chunk_rows(program.num_wires, batch, purpose)
        if rows >= batch:
            return fn(x)
        xp = self.backend.xp
        return xp.concatenate([fn(x[i : i + rows]) for i in range(0, batch, rows)], axis=0)

    # --- results -----------------------------------------------------------------
    def _start(self, call: Call, x: Any, initial_state: Any, num_wires: int) -> tuple[Call, Any, Any]:
        """``(call, x, start states)``: the states ``(batch, 2**n)`` on the backend, or ``None`` for ``|0...0>``.

        Several start states with one input row (or none) make a batch sharing that row.
        """
        if initial_state is None:
            return call, x, None
        states = initial_states(initial_state, num_wires, call.batch)
        xp = self.backend.xp
        if states.shape[0] != call.batch:
            if call.batch == 1:
                x = xp.repeat(x, states.shape[0], axis=0)
                call = call._replace(rows=x, single=call.single and np.ndim(initial_state) == 1)
            else:
                states = np.repeat(states, call.batch, axis=0)  # a copy: the array kernels write in place
        elif np.ndim(initial_state) == 2:
            call = call._replace(single=False)
        return call, x, xp.asarray(states, dtype=DTYPES[self.dtype])

    def _run_states(self, program: Program, x: Any, weights: Any, start: Any, finish: Callable, key: Any) -> Any:
        """``finish(states (rows, 2, ..., 2))`` over memory-bounded chunks of rows, from ``|0...0>`` or ``start``."""
        plan = self._fast_plan(program)
        shape = (2,) * program.num_wires
        if plan is not None:
            def run(xc: Any, w: Any, sc: Any = None) -> Any:
                states = plan.states(xc, w, sc)
                return finish(states.reshape((states.shape[0],) + shape))
        elif start is None:
            run = program.function(key, lambda: lambda xc, w: finish(program.run(xc, w)))
        else:
            run = program.function((key, "from"), lambda: lambda xc, w, sc: finish(program.run(xc, w, initial=sc)))
        if start is None:
            return self._chunked(lambda xc: run(xc, weights), program, x)
        rows = self._chunk_rows(program.num_wires, x.shape[0], "run")
        parts = [run(x[i : i + rows], weights, start[i : i + rows]) for i in range(0, x.shape[0], rows)]
        return parts[0] if len(parts) == 1 else self.backend.xp.concatenate(parts, axis=0)

    @_in_backend_scope
    def statevector(self, circuit: Circuit, x: Any = None, weights: Any = None, initial_state: Any = None) -> Any:
        """Final states.

        Args:
            circuit: the circuit.
            x: inputs ``(batch, num_inputs)``, or one row ``(num_inputs,)``, or ``None``.
            weights: ``(num_weights,)`` or ``None``.
            initial_state: start state instead of ``|0...0>``: ``(2**num_wires,)`` for every
                row, or ``(batch, 2**num_wires)`` one per row (with one input row or none,
                any number of states, which then form the batch); normalised, wire 0 the
                most significant bit of the index.

        Returns:
            ``(batch, 2**num_wires)`` complex, or ``(2**num_wires,)`` for a single row.

        Example:
            >>> from qmlsim.circuits import Circuit
            >>> c = Circuit(1); _ = c.x(0)
            >>> Simulator().statevector(c, initial_state=[0.6, 0.8]).real.round(3).tolist()
            [0.8, 0.6]
        """
        program, x, weights, call = self._prepare(circuit, x, weights)
        call, x, start = self._start(call, x, initial_state, circuit.num_wires)
        self._check_result_fits(x.shape[0], np.dtype(DTYPES[self.dtype]).itemsize * 2**circuit.num_wires, "statevector")
        states = self._run_states(program, x, weights, start, lambda s: s.reshape(s.shape[0], -1), "statevector")
        return call.result(states)

    @_in_backend_scope
    def probs(
        self, circuit: Circuit, x: Any = None, weights: Any = None, wires: Sequence[int] | None = None,
        initial_state: Any = None,
    ) -> Any:
        """Born probabilities ``(batch, 2**k)`` of ``wires`` (all by default; first wire most significant);
        ``initial_state`` as in :meth:`statevector`."""
        program, x, weights, call = self._prepare(circuit, x, weights, wires=wires)
        call, x, start = self._start(call, x, initial_state, circuit.num_wires)
        wires = call.wires
        xp = self.backend.xp
        out = self._run_states(program, x, weights, start, lambda s: measurements.probs(s, xp, wires), ("probs", wires))
        return call.result(out)

    @_in_backend_scope
    def expval(
        self,
        circuit: Circuit,
        observables: Observable | Sequence[Observable],
        x: Any = None,
        weights: Any = None,
        shots: int | None = None,
        seed: int | None = None,
    ) -> Any:
        """Expectation values ``(batch,)`` for one observable, ``(batch, k)`` for a list.

        With ``shots``, each Pauli term is estimated from ``shots`` measurements in its
        eigenbasis (seeded by ``seed``); otherwise values are exact.
        """
        lane = self._lane
        if shots is None and lane is not None and lane.matches(circuit, observables, x, weights):
            return lane.expval(x, weights)
        program, x, weights, call = self._prepare(circuit, x, weights, observables=observables, shots=shots)
        obs_list = call.observables
        backend = self.backend
        plan = None if shots is not None else self._fast_plan(program)
        if shots is not None:
            values = self._shot_expvals(circuit, obs_list, x, weights, call.shots, seed)
        elif plan is not None:
            values = self._chunked(lambda xc: _fast_expvals(plan, obs_list, xc, weights, backend), program, x)
            self._lane = _small_lane(circuit, observables, obs_list, plan)
        else:
            run = program.function(
                ("expval", tuple(obs_list)),
                lambda: lambda xc, w: measurements.expvals(program.run(xc, w, keep_real=True), obs_list, backend),
            )
            values = self._chunked(lambda xc: run(xc, weights), program, x)
        return call.result(values, observables=True)

    @_in_backend_scope
    def sample(
        self, circuit: Circuit, shots: int, x: Any = None, weights: Any = None, seed: int | None = None,
        wires: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Measurement outcomes in the computational basis.

        Returns:
            int array ``(batch, shots, k)`` of 0/1 bits in wire order (``k`` = number of
            sampled wires, all by default); ``(shots, k)`` for a single or absent ``x``.
        """
        shots = check_shots(shots)
        probabilities = self.backend.to_host(self.probs(circuit, x=x, weights=weights, wires=wires))
        single = probabilities.ndim == 1
        probabilities = np.atleast_2d(probabilities).astype(np.float64)
        k = circuit.num_wires if wires is None else len(wires)
        rng = np.random.default_rng(seed)
        bits = measurements.indices_to_bits(measurements.sample_indices(probabilities, shots, rng), k)
        return bits[0] if single else bits

    @_in_backend_scope
    def jacobian(
        self,
        circuit: Circuit,
        observables: Observable | Sequence[Observable],
        x: Any = None,
        weights: Any = None,
        method: str = "adjoint",
        argnum: str = "weights",
    ) -> Any:
        """Jacobian of expectation values.

        Args:
            method: ``"adjoint"``, ``"parameter-shift"``, ``"finite-diff"`` or ``"backprop"`` (JAX backend).
            argnum: ``"weights"`` or ``"x"``.

        Returns:
            ``(batch, P)`` for one observable, ``(batch, k, P)`` for a list of ``k``,
            with ``P`` the number of weights or inputs; the batch axis is dropped for a single row.
        """
        jac = JACOBIANS.get(method)
        if jac is None:
            raise ValueError(f"unknown gradient method {method!r}; choose one of {', '.join(JACOBIANS)}")
        if method == "backprop" and self.backend.name != "jax":
            raise ValueError('method="backprop" needs the JAX backend: Simulator(backend="jax")')
        program, x, weights, call = self._prepare(circuit, x, weights, observables=observables, argnum=argnum)
        obs_list = call.observables
        plan = self._fast_plan(program) if method == "adjoint" else None
        if plan is not None:
            from qmlsim.simulators.fast import adjoint_jacobian  # noqa: PLC0415 - numba path only

            run = lambda xc, w: adjoint_jacobian(plan, obs_list, xc, w, argnum)  # noqa: E731
        elif method == "backprop":
            run = program.function(("backprop", tuple(obs_list), argnum), lambda: lambda xc, w: jac(program, obs_list, xc, w, argnum))
        else:
            run = lambda xc, w: jac(program, obs_list, xc, w, argnum)  # noqa: E731 - eager sweeps
        out = self._chunked(lambda xc: run(xc, weights), program, x, "jacobian")
        return call.result(out, observables=True)

    # --- helpers -----------------------------------------------------------------
    def _shot_expvals(self, circuit: Circuit, obs_list: list[Observable], x: Any, weights: Any, shots: int, seed: Any) -> Any:
        """Sampled estimates: every term measured in its own eigenbasis."""
        rng = np.random.default_rng(seed)
        x_host, w_host = self.backend.to_host(x), self.backend.to_host(weights)
        results = np.zeros((x_host.shape[0], len(obs_list)))
        for o, obs in enumerate(obs_list):
            for setting in measurements.term_measurements(circuit, obs):
                if setting.circuit is None:
                    results[:, o] += setting.coeff
                    continue
                p = np.atleast_2d(self.backend.to_host(self.probs(setting.circuit, x_host, w_host, wires=setting.wires)))
                idx = measurements.sample_indices(p, shots, rng)
                results[:, o] += setting.coeff * setting.eigenvalues[idx].mean(axis=1)
        return self.backend.xp.asarray(results)
