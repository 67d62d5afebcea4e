"""The registry of execution paths that the differential tests run.

Each :class:`ExecutionPath` says how to build an executor-like object for the path,
which measurements it can make, which circuits reach it (a JAX program switches to
``lax.scan`` above ``SCAN_THRESHOLD`` steps, the numba kernels switch to cache-blocked
groups above ``chunk_bits`` wires...) and a *probe*: spies on the functions that only
this path calls. A test that runs a path asserts that its probe fired, so a path that
silently stops being reached (a threshold moved, a fallback taken) fails instead of
passing on another path's results.

A new execution path in the engine is one entry in :data:`PATHS` (and its name in
``qmlsim.simulators.executor.EXECUTION_PATHS``); ``test_registry.py`` fails until
both agree.
"""
from __future__ import annotations

import collections
import importlib
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from qmlsim.circuits import Circuit
from qmlsim.circuits.observables import HermitianTerm, Observable
from qmlsim.simulators import Simulator
from qmlsim.simulators.program import SCAN_THRESHOLD

# measurements an adapter can make
STATE, PROBS, EXPVAL, HERMITIAN, SAMPLE, JACOBIAN = "state", "probs", "expval", "hermitian", "sample", "jacobian"
INITIAL = "initial-state"  # statevector and probs from given start states (Simulator's initial_state)
ALL_MEASURES = frozenset({STATE, PROBS, EXPVAL, HERMITIAN, SAMPLE, JACOBIAN, INITIAL})


def host(a: Any) -> np.ndarray:
    """Any backend's array as a plain host ``ndarray`` (CuPy stand-in, JAX)."""
    return np.array(a, copy=True).view(np.ndarray)


# --------------------------------------------------------------------------------------
# probes: spies on functions only one path calls
# --------------------------------------------------------------------------------------
def _resolve(target: str) -> tuple[Any, str]:
    module_name, attr = target.split(":")
    owner: Any = importlib.import_module(module_name)
    *parents, leaf = attr.split(".")
    for name in parents:
        owner = getattr(owner, name)
    return owner, leaf


def spy(monkeypatch: Any, counter: collections.Counter, target: str) -> None:
    """Count calls of ``module:attr`` (or ``module:Class.method``) in ``counter[target]``."""
    owner, leaf = _resolve(target)
    original = getattr(owner, leaf)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        counter[target] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, leaf, wrapper)


@dataclass(frozen=True)
class Probe:
    """Functions of which a path must call at least one (``hits``) and must call none (``misses``)."""

    hits: tuple[str, ...]
    misses: tuple[str, ...] = ()

    def install(self, monkeypatch: Any) -> collections.Counter:
        counter: collections.Counter = collections.Counter()
        for target in self.hits + self.misses:
            spy(monkeypatch, counter, target)
        return counter

    def verdict(self, counter: collections.Counter) -> str | None:
        """``None`` when the path was taken, else what went wrong."""
        wrong = [t for t in self.misses if counter[t] > 0]
        if not any(counter[t] for t in self.hits):
            return f"never called any of {list(self.hits)}"
        if wrong:
            return f"called {wrong}, which belongs to another path"
        return None


# --------------------------------------------------------------------------------------
# adapters for paths that are not a plain Simulator
# --------------------------------------------------------------------------------------
class BlockedPlan:
    """The numba cache-blocked group kernels forced on small states (``chunk_bits < num_wires``)."""

    def __init__(self, dtype: str):
        self.dtype = dtype
        self._sim = Simulator(dtype=dtype, kernels="numba")

    def _plan(self, circuit: Circuit) -> Any:
        from qmlsim.simulators.fast import FastPlan  # noqa: PLC0415
        from qmlsim.simulators.program import compile_circuit  # noqa: PLC0415

        program = compile_circuit(circuit, self._sim.backend, self.dtype)
        # one wire outside each block; a block still holds the widest op (4 wires) above its run bits;
        # the interleaved groups, not the split layout
        return FastPlan(program, chunk_bits=circuit.num_wires - 1, run_bits=2, split_wires=circuit.num_wires + 1)

    @staticmethod
    def _rows(circuit: Circuit, x: Any) -> np.ndarray:
        return np.asarray(x, float) if x is not None else np.zeros((1, circuit.num_inputs))

    @staticmethod
    def _w(circuit: Circuit, weights: Any) -> np.ndarray:
        return np.asarray(weights, float) if weights is not None else np.zeros(circuit.num_weights)

    def statevector(self, circuit: Circuit, x: Any = None, weights: Any = None, initial_state: Any = None) -> np.ndarray:
        rows = self._rows(circuit, x)
        start = None if initial_state is None else np.broadcast_to(initial_state, (rows.shape[0], 2**circuit.num_wires))
        return self._plan(circuit).states(rows, self._w(circuit, weights), start)

    def jacobian(self, circuit: Circuit, observables: Any, x: Any = None, weights: Any = None,
                 method: str = "adjoint", argnum: str = "weights") -> np.ndarray:
        from qmlsim.simulators.fast import adjoint_jacobian  # noqa: PLC0415

        return adjoint_jacobian(self._plan(circuit), list(observables), self._rows(circuit, x),
                                self._w(circuit, weights), argnum)


class SplitPlan(BlockedPlan):
    """The split layout forced on small states with two chunks per pass (``split_bits = num_wires - 1``);
    with ``parallel``, the chunks of each pass in parallel."""

    def __init__(self, dtype: str, parallel: bool = False):
        super().__init__(dtype)
        self.parallel = parallel

    def _plan(self, circuit: Circuit) -> Any:
        from qmlsim.simulators.fast import FastPlan  # noqa: PLC0415
        from qmlsim.simulators.program import compile_circuit  # noqa: PLC0415

        program = compile_circuit(circuit, self._sim.backend, self.dtype)
        n = circuit.num_wires
        # a pass leaves split_bits - SPECTATORS = n - 5 positions to its ops: at least the widest op (4 wires)
        return FastPlan(program, split_wires=1, split_bits=n - 1, parallel_work=0 if self.parallel else 1 << 62)

    def statevector(self, circuit: Circuit, x: Any = None, weights: Any = None, initial_state: Any = None) -> np.ndarray:
        if not self.parallel:
            return super().statevector(circuit, x, weights, initial_state)
        # one row per call: several rows would run in parallel row by row instead of chunk by chunk
        rows = self._rows(circuit, x)
        start = None if initial_state is None else np.broadcast_to(initial_state, (rows.shape[0], 2**circuit.num_wires))
        plan = self._plan(circuit)
        return np.concatenate([
            plan.states(rows[b : b + 1], self._w(circuit, weights), None if start is None else start[b : b + 1])
            for b in range(rows.shape[0])
        ])


class AdjointWithinState(BlockedPlan):
    """The adjoint sweep of one state split over the threads (``within_state``), forced on small
    states with tasks of 4 amplitude pairs: runs that a task boundary cuts, whole blocks of
    pairs, and constant ops un-applied from ``psi`` and ``lam`` side by side."""

    def _plan(self, circuit: Circuit) -> Any:
        from qmlsim.simulators.fast import FastPlan  # noqa: PLC0415
        from qmlsim.simulators.program import compile_circuit  # noqa: PLC0415

        return FastPlan(compile_circuit(circuit, self._sim.backend, self.dtype))

    def jacobian(self, circuit: Circuit, observables: Any, x: Any = None, weights: Any = None,
                 method: str = "adjoint", argnum: str = "weights") -> np.ndarray:
        from qmlsim.simulators.fast import adjoint_jacobian  # noqa: PLC0415

        return adjoint_jacobian(self._plan(circuit), list(observables), self._rows(circuit, x),
                                self._w(circuit, weights), argnum, within_state=True, sweep_chunk=4)


class RepeatedCall:
    """The small-state lane: the second ``expval`` with the same circuit and observables objects."""

    def __init__(self, dtype: str):
        self._sim = Simulator(dtype=dtype, kernels="numba")

    def expval(self, circuit: Circuit, observables: Any, x: Any = None, weights: Any = None) -> np.ndarray:
        self._sim.expval(circuit, observables, x=x, weights=weights)
        return self._sim.expval(circuit, observables, x=x, weights=weights)


class JaxBridge:
    """``jax_expval``: the NumPy engine inside JAX code, differentiated by ``jax.jacrev`` (custom VJP)."""

    def __init__(self, dtype: str):
        import jax.numpy as jnp  # noqa: PLC0415

        self._sim = Simulator(dtype=dtype)
        # the bridge returns JAX's default float: float32 unless x64 is enabled
        self.single_precision_output = jnp.result_type(float) == jnp.float32

    def expval(self, circuit: Circuit, observables: Any, x: Any = None, weights: Any = None) -> np.ndarray:
        from qmlsim.simulators import jax_expval  # noqa: PLC0415

        return host(jax_expval(self._sim, circuit, list(observables))(x, weights))

    def jacobian(self, circuit: Circuit, observables: Any, x: Any = None, weights: Any = None,
                 method: str = "adjoint", argnum: str = "weights") -> np.ndarray:
        import jax  # noqa: PLC0415

        from qmlsim.simulators import jax_expval  # noqa: PLC0415

        f = jax_expval(self._sim, circuit, list(observables))
        if argnum == "weights":
            jac = jax.jacrev(lambda w: f(x, w))(weights)  # (batch, k, P)
            return host(jac)
        jac = host(jax.jacrev(lambda xs: f(xs, weights))(x))  # (batch, k, batch, P): rows are independent
        return np.stack([jac[b, :, b, :] for b in range(jac.shape[0])])


class QiskitPrimitives:
    """qmlsim's Qiskit V2 primitives on the circuit exported by ``to_qiskit``."""

    def __init__(self, dtype: str):
        self.dtype = dtype

    def expval(self, circuit: Circuit, observables: Any, x: Any = None, weights: Any = None) -> np.ndarray:
        from qmlsim.circuits.convert.qiskit import parameter_values, to_qiskit, to_qiskit_observable  # noqa: PLC0415
        from qmlsim.simulators import QmlsimEstimator  # noqa: PLC0415

        qc = to_qiskit(circuit)
        values = parameter_values(qc, x, weights)
        pubs = [(qc, to_qiskit_observable(o, circuit.num_wires), values) for o in observables]
        results = QmlsimEstimator().run(pubs).result()
        return np.stack([np.asarray(r.data.evs) for r in results], axis=-1)

    def sample(self, circuit: Circuit, shots: int, x: Any = None, weights: Any = None, seed: int | None = None) -> np.ndarray:
        from qmlsim.circuits.convert.qiskit import parameter_values, to_qiskit  # noqa: PLC0415
        from qmlsim.simulators import QmlsimSampler  # noqa: PLC0415

        qc = to_qiskit(circuit)
        qc.measure_all()
        values = parameter_values(qc, x, weights)
        bits = QmlsimSampler(seed=seed).run([(qc, values)], shots=shots).result()[0].data.meas
        n = circuit.num_wires
        # BitArray: clbit 0 (qubit 0 = wire 0) is the least significant bit of get_int_counts' integers
        ints = np.asarray(bits.array)  # (rows, shots, bytes), big-endian bytes
        flat = np.unpackbits(ints, axis=-1)[..., -n:]  # last n bits; the last one is clbit 0
        return flat[..., ::-1].astype(np.int64)  # wire order


# --------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExecutionPath:
    """One way the engine computes a result.

    Attributes:
        name: registry key (also in ``EXECUTION_PATHS``).
        dtype: ``"complex128"`` or ``"complex64"``.
        make: builds the executor-like object (``statevector``/``probs``/``expval``/
            ``sample``/``jacobian`` as in :class:`qmlsim.simulators.Executor`).
        measures: what it can be asked for.
        jacobian_methods: gradient methods it runs.
        probe: proof that the path was taken.
        wires: smallest and largest number of wires that reach the path here.
        ops: smallest and largest number of circuit ops that reach the path.
        long_wires: the wires it takes in the long profile, if more than ``wires``.
        long_cost: the long profile runs the path on one circuit in ``long_cost`` (default ``cost``).
        batch: rows per call.
        cost: relative cost; the long profile runs the path on one circuit in ``cost``.
        setup: extra set-up (monkeypatching) the path needs, given ``monkeypatch``.
        min_rows: the path is reached only from this many rows per call: the long profile
            (whose circuits carry 1-3 rows) gives it wide batches of its own.
        gates: the path is reached only by circuits of these gates (and permutation
            matrices): its cases are drawn from them, in the long profile too.
        applies: the path is reached only by circuits for which this holds; the long
            profile (whose probe verdict is per circuit) gives it no others.
    """

    name: str
    dtype: str
    make: Callable[[], Any]
    measures: frozenset[str]
    probe: Probe
    jacobian_methods: tuple[str, ...] = ()
    wires: tuple[int, int] = (1, 8)
    ops: tuple[int, int] = (1, 80)
    batch: int = 3
    cost: int = 1
    setup: Callable[[Any], None] | None = None
    long_wires: tuple[int, int] | None = None
    long_cost: int | None = None
    min_rows: int = 1
    gates: tuple[str, ...] | None = None
    applies: Callable[[Circuit], bool] | None = None

    @property
    def long_range(self) -> tuple[int, int]:
        """Wires the path takes in the long profile (default: those of the fast profile)."""
        return self.wires if self.long_wires is None else self.long_wires

    def enter(self, monkeypatch: Any) -> collections.Counter:
        """Set the path up under ``monkeypatch`` and install its probe; returns the probe's counter."""
        if self.setup is not None:
            self.setup(monkeypatch)
        return self.probe.install(monkeypatch)

    @property
    def key(self) -> str:
        return f"{self.name}[{self.dtype}]"

    def reaches(self, circuit: Circuit) -> bool:
        return self.wires[0] <= circuit.num_wires <= self.wires[1] and self.ops[0] <= len(circuit.ops) <= self.ops[1]


def _cupy_simulator(dtype: str) -> Simulator:
    from qmlsim.simulators.backends import cupy_backend  # noqa: PLC0415

    from tests.cupy_standin import make_cupy_standin  # noqa: PLC0415

    return Simulator(backend=cupy_backend(make_cupy_standin()), dtype=dtype)


def _custatevec_simulator(dtype: str) -> Simulator:
    from qmlsim.simulators.backends import cupy_backend  # noqa: PLC0415

    from tests.cupy_standin import make_cupy_standin  # noqa: PLC0415
    from tests.simulators.test_custatevec import make_library  # noqa: PLC0415

    return Simulator(backend=cupy_backend(make_cupy_standin(), custatevec_library=make_library([])), dtype=dtype)


def _lower_custatevec_threshold(monkeypatch: Any) -> None:
    from qmlsim.simulators import custatevec  # noqa: PLC0415

    monkeypatch.setattr(custatevec, "MIN_WIRES", 1)


def _base_executor(dtype: str) -> Any:
    """A :class:`BaseExecutor` over exact probabilities: its term measurements, samples and
    parameter-shift Jacobians are what runs."""
    from qmlsim.simulators.executor import BaseExecutor  # noqa: PLC0415

    class OverProbabilities(BaseExecutor):
        def run_probabilities(self, circuit, rows, weights, shots, seed):
            return Simulator(dtype=dtype).probs(circuit, x=rows, weights=weights)

    return OverProbabilities()


def _dask_executor(dtype: str) -> Any:
    """DaskExecutor over ``Simulator(dtype=dtype)`` on a two-worker LocalCluster of processes (one per test
    process), two rows per task."""
    from qmlsim.simulators import DaskExecutor  # noqa: PLC0415

    from tests.simulators.test_dask_executor import local_client  # noqa: PLC0415

    return DaskExecutor(local_client(), executor=Simulator(dtype=dtype), rows_per_task=2)


def _pennylane_device(dtype: str) -> Any:
    import pennylane as qml  # noqa: PLC0415

    from qmlsim.simulators import PennyLaneExecutor  # noqa: PLC0415

    class OnQmlsimDevice:
        """A fresh ``qmlsim.statevector`` device per call, sized to the circuit."""

        def __getattr__(self, name: str) -> Callable:
            def call(circuit: Circuit, *args: Any, **kwargs: Any) -> Any:
                device = qml.device("qmlsim.statevector", wires=circuit.num_wires, dtype=dtype)
                return getattr(PennyLaneExecutor(device), name)(circuit, *args, **kwargs)

            return call

    return OnQmlsimDevice()


_FAST = "qmlsim.simulators.fast.plan"
_SCAN = "qmlsim.simulators.jax_scan:run_scan"
_LAYER = "qmlsim.simulators.jax_scan:apply_wire_layer"
# gates whose matrices are real at every angle: circuits of them run in real arithmetic on JAX
REAL_GATES = ("i", "x", "z", "h", "ry", "cx", "cz", "ch", "swap", "cry", "ccx", "cswap")


def _layer_every_run(monkeypatch: Any) -> None:
    """Every run of one-wire gates becomes a layer, constant ones included (fresh program
    cache: layers are decided at compile)."""
    from qmlsim.simulators import program  # noqa: PLC0415

    monkeypatch.setattr(program, "LAYER_MIN_WIRES", 1)
    monkeypatch.setattr(program, "LAYER_FRACTION", 0.0)
    monkeypatch.setattr(program, "FOLD_CONSTANT_PREFIX", False)
    monkeypatch.setattr(program, "_PROGRAMS", {})


def _has_one_wire_op(circuit: Circuit) -> bool:
    """Whether some op acts on one wire without controls (what a layer is made of)."""
    from qmlsim.simulators.steps import resolve_op  # noqa: PLC0415

    return any(len(targets) == 1 and not controls for _, controls, targets in map(resolve_op, circuit.ops))


def _scan_always(monkeypatch: Any) -> None:
    """Every program scans (no folding, no threshold): the scan path on circuits of any length.
    A fresh program cache: the long profile runs the same circuit on the unrolled path too."""
    from qmlsim.simulators import program  # noqa: PLC0415

    monkeypatch.setattr(program, "FUSE_MAX_WIRES", 0)
    monkeypatch.setattr(program, "SCAN_THRESHOLD", 0)
    monkeypatch.setattr(program, "_PROGRAMS", {})


_STEP = "qmlsim.simulators.program:apply_step"
_SIM_GRADS = ("adjoint", "parameter-shift", "finite-diff")
_BASIC = frozenset({STATE, PROBS, EXPVAL, HERMITIAN, SAMPLE, JACOBIAN})
_SIM = _BASIC | {INITIAL}  # a Simulator: also runs from given start states


def _paths() -> list[ExecutionPath]:
    paths: list[ExecutionPath] = []
    for dtype in ("complex128", "complex64"):
        paths += [
            ExecutionPath(
                "numba-rows", dtype, lambda d=dtype: Simulator(dtype=d, kernels="numba"), _SIM,
                Probe((f"{_FAST}:rows_serial",), (_STEP,)), ("adjoint",), wires=(1, 10), long_wires=(1, 12),
            ),
            ExecutionPath(
                "numba-rows-parallel", dtype, lambda d=dtype: Simulator(dtype=d, kernels="numba"),
                frozenset({STATE, EXPVAL, INITIAL}), Probe((f"{_FAST}:rows_parallel",), (_STEP,)),
                wires=(11, 12), ops=(64, 80), batch=32, cost=8, min_rows=32,
            ),
            ExecutionPath(
                "numba-split", dtype, lambda d=dtype: Simulator(dtype=d, kernels="numba"), _SIM,
                Probe((f"{_FAST}:split_rows",), (_STEP, f"{_FAST}:rows_serial")), ("adjoint",),
                wires=(13, 13), long_wires=(13, 15), cost=4,
            ),
            ExecutionPath(
                "numba-split-chunks", dtype, lambda d=dtype: SplitPlan(d), frozenset({STATE, JACOBIAN, INITIAL}),
                Probe((f"{_FAST}:split_rows",)), ("adjoint",), wires=(9, 10), long_wires=(9, 13), cost=2, long_cost=1,
            ),
            ExecutionPath(
                "numba-split-chunks-parallel", dtype, lambda d=dtype: SplitPlan(d, parallel=True),
                frozenset({STATE, INITIAL}), Probe((f"{_FAST}:split_chunks_parallel",)), wires=(9, 10), batch=1,
            ),
            ExecutionPath(
                "numba-split-rows-parallel", dtype, lambda d=dtype: Simulator(dtype=d, kernels="numba"),
                frozenset({STATE, EXPVAL, INITIAL}), Probe((f"{_FAST}:split_rows_parallel",), (_STEP,)),
                wires=(13, 13), ops=(24, 32), batch=32, cost=8, min_rows=32,
            ),
            ExecutionPath(
                "numba-rows-simd", dtype, lambda d=dtype: Simulator(dtype=d, kernels="numba"), _SIM,
                Probe((f"{_FAST}:simd_states", f"{_FAST}:simd_expvals"), (_STEP,)), ("adjoint",),
                wires=(1, 10), batch=16, min_rows=8,
            ),
            ExecutionPath(
                "numba-lane-simd", dtype, lambda d=dtype: RepeatedCall(d), frozenset({EXPVAL}),
                Probe(("qmlsim.simulators.fast.single:SmallLane.expval",), ("qmlsim.simulators.fast.single:_lane_expvals",)),
                wires=(1, 6), batch=16, min_rows=8,
            ),
            ExecutionPath(
                "numba-blocked", dtype, lambda d=dtype: BlockedPlan(d), frozenset({STATE, JACOBIAN, INITIAL}),
                Probe((f"{_FAST}:group_serial",)), ("adjoint",), wires=(7, 10), long_wires=(7, 18),
            ),
            ExecutionPath(
                "numba-adjoint-within-state", dtype, lambda d=dtype: AdjointWithinState(d), frozenset({JACOBIAN}),
                Probe(("qmlsim.simulators.fast.adjoint:adjoint_large_rows",), ("qmlsim.simulators.fast.adjoint:_adjoint_rows",)),
                ("adjoint",), wires=(1, 10), long_wires=(1, 12), long_cost=4,
            ),
            ExecutionPath(
                "numba-lane", dtype, lambda d=dtype: RepeatedCall(d), frozenset({EXPVAL}),
                Probe(("qmlsim.simulators.fast.single:SmallLane.expval",)), wires=(1, 10), long_wires=(1, 15),
            ),
            ExecutionPath(
                "array", dtype, lambda d=dtype: Simulator(dtype=d, kernels="array"), _SIM,
                Probe((_STEP,), (f"{_FAST}:rows_serial",)), _SIM_GRADS, wires=(1, 10), long_wires=(1, 18),
            ),
            ExecutionPath(
                "chunked", dtype, lambda d=dtype: Simulator(dtype=d, max_chunk_rows=2), _SIM,
                Probe(("qmlsim.simulators.simulator:Simulator._chunk_rows",)), ("adjoint",), batch=5, wires=(1, 10),
                long_wires=(1, 16),
            ),
            ExecutionPath(
                "jax-unrolled", dtype, lambda d=dtype: Simulator(backend="jax", dtype=d), _SIM,
                Probe((_STEP, _LAYER), (_SCAN,)), ("backprop", *_SIM_GRADS), ops=(1, SCAN_THRESHOLD), cost=10,
                long_wires=(1, 14), long_cost=150,
            ),
            ExecutionPath(
                "jax-layers", dtype, lambda d=dtype: Simulator(backend="jax", dtype=d), _SIM,
                Probe((_LAYER,), (_SCAN,)), ("backprop",), ops=(1, SCAN_THRESHOLD), cost=10, long_cost=150,
                setup=_layer_every_run, applies=_has_one_wire_op,
            ),
            ExecutionPath(
                "jax-real", dtype, lambda d=dtype: Simulator(backend="jax", dtype=d), _SIM,
                Probe(("qmlsim.simulators.program:Program._real_parts",), (_SCAN,)), ("backprop",),
                ops=(1, SCAN_THRESHOLD), cost=10, long_cost=150, gates=REAL_GATES,
            ),
            ExecutionPath(
                "jax-scan", dtype, lambda d=dtype: Simulator(backend="jax", dtype=d), _SIM,
                Probe((_SCAN,)), ("backprop", "adjoint", "parameter-shift"), ops=(2, 80), cost=10,
                long_wires=(1, 14), long_cost=150, setup=_scan_always,
            ),
            ExecutionPath(
                "cupy-standin", dtype, lambda d=dtype: _cupy_simulator(d), _SIM,
                Probe(("tests.cupy_standin:_to_device",)), ("adjoint", "parameter-shift"),
                wires=(1, 8), cost=4,
            ),
            ExecutionPath(
                "custatevec-standin", dtype, lambda d=dtype: _custatevec_simulator(d), frozenset({STATE, EXPVAL, INITIAL}),
                Probe(("qmlsim.simulators.custatevec:custatevec_bits",)), wires=(1, 5), ops=(1, 30), batch=2, cost=10,
                setup=_lower_custatevec_threshold,
            ),
            ExecutionPath(
                "jax-bridge", dtype, lambda d=dtype: JaxBridge(d), frozenset({EXPVAL, HERMITIAN, JACOBIAN}),
                Probe(("qmlsim.simulators.simulator:Simulator.expval", "qmlsim.simulators.simulator:Simulator.jacobian")),
                ("adjoint",), wires=(1, 8), cost=5, long_cost=50,
            ),
            ExecutionPath(
                "pennylane-device", dtype, lambda d=dtype: _pennylane_device(d),
                frozenset({PROBS, EXPVAL, HERMITIAN, SAMPLE, JACOBIAN}),
                Probe(("qmlsim.simulators.executors.pennylane_device:QmlsimDevice.execute",)),
                # PennyLane's own parameter-shift transform has no rule for controlled
                # multi-angle gates (C(U3), C(Rot)): the device's adjoint method is what runs here
                ("adjoint",), wires=(1, 6), ops=(1, 40), cost=10,
            ),
        ]
    paths.extend(
        ExecutionPath(
            "base-executor", dtype, lambda d=dtype: _base_executor(d),
            frozenset({PROBS, EXPVAL, HERMITIAN, SAMPLE, JACOBIAN}),
            Probe(("qmlsim.simulators.executor:BaseExecutor.run_expvals", "qmlsim.simulators.executor:BaseExecutor.run_samples",
                   "qmlsim.simulators.executor:BaseExecutor.probs")),
            ("parameter-shift",), wires=(1, 6), ops=(1, 30), cost=8,
        )
        for dtype in ("complex128", "complex64")
    )
    paths.extend(
        ExecutionPath(
            "dask-executor", dtype, lambda d=dtype: _dask_executor(d), frozenset({STATE, PROBS, EXPVAL, HERMITIAN, SAMPLE, JACOBIAN}),
            Probe(("qmlsim.simulators.executors.dask_executor:DaskExecutor._map",)), ("adjoint", "parameter-shift"),
            wires=(1, 8), cost=5, long_cost=100,  # every call is a round trip through the scheduler
        )
        for dtype in ("complex128", "complex64")
    )
    paths.append(
        ExecutionPath(
            "qiskit-primitives", "complex128", lambda: QiskitPrimitives("complex128"),
            frozenset({EXPVAL, HERMITIAN, SAMPLE}),
            Probe(("qmlsim.simulators.executors.primitives:QmlsimEstimator._run_pub",
                   "qmlsim.simulators.executors.primitives:QmlsimSampler._run_pub")),
            wires=(1, 6), ops=(1, 40), cost=10,
        )
    )
    return paths


PATHS: tuple[ExecutionPath, ...] = tuple(_paths())
PATH_KEYS = tuple(p.key for p in PATHS)


def by_key(key: str) -> ExecutionPath:
    return next(p for p in PATHS if p.key == key)


def observable_has_hermitian(observables: Sequence[Observable]) -> bool:
    return any(isinstance(t, HermitianTerm) for o in observables for t in o.terms)
