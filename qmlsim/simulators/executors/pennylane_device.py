"""qmlsim as a PennyLane device: ``qml.device("qmlsim.statevector", wires=n, backend="numpy")``.

Registered through the ``pennylane.plugins`` entry point; its capabilities are in
``qmlsim_statevector.toml`` next to this module.

How a batch of tapes runs: preprocessing decomposes every operation into qmlsim's gate
set (validation happens there, so :meth:`QmlsimDevice.execute` trusts its input). Each
tape is converted into a circuit whose every gate parameter is an *input*; tapes that
differ only in parameter values therefore give the same circuit, and all their rows
(broadcast rows included) run through one batched ``Simulator`` call. Measurements are
computed from the batch of final states: expectation values, variances and
probabilities vectorised over rows, other measurements by PennyLane's own
``process_state``; with shots, every measurement with an observable samples the state
rotated into that observable's eigenbasis. Derivatives use qmlsim's adjoint method,
again one call per group of equal-structure tapes.

>>> import pennylane as qml
>>> dev = qml.device("qmlsim.statevector", wires=2)
>>> @qml.qnode(dev)
... def bell():
...     qml.Hadamard(0)
...     qml.CNOT([0, 1])
...     return qml.probs()
>>> bell().round(6).tolist()
[0.5, 0.0, 0.0, 0.5]
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Hashable, Sequence

import numpy as np

from qmlsim.circuits.convert import require
from qmlsim.circuits.convert.pennylane import PENNYLANE_GATES, from_pennylane_observable, tape_to_circuit
from qmlsim.circuits.gates import GATES
from qmlsim.circuits.observables import Observable
from qmlsim.simulators import kernels, measurements
from qmlsim.simulators.backends import get_backend
from qmlsim.simulators.simulator import Simulator

qml = require("pennylane", "pennylane")
from pennylane.devices import Device, ExecutionConfig  # noqa: E402
from pennylane.devices.modifiers import simulator_tracking, single_tape_support  # noqa: E402
from pennylane.devices.preprocess import (  # noqa: E402
    decompose,
    no_sampling,
    validate_adjoint_trainable_params,
    validate_device_wires,
    validate_measurements,
    validate_observables,
)
from pennylane.exceptions import DeviceError  # noqa: E402
from pennylane.measurements import (  # noqa: E402
    ExpectationMP,
    ProbabilityMP,
    SampleMeasurement,
    StateMeasurement,
    StateMP,
    VarianceMP,
)
from pennylane.transforms import broadcast_expand, defer_measurements, split_non_commuting  # noqa: E402
from pennylane.transforms.core import CompilePipeline, transform  # noqa: E402

__all__ = ["QmlsimDevice"]

# Tape structures remembered per device (oldest dropped first).
_STRUCTURE_CACHE_SIZE = 256

_NUMPY = get_backend("numpy")
# Operations the device runs without decomposing (besides adjoints and controlled versions of them).
_NATIVE = frozenset(PENNYLANE_GATES) | {"QubitUnitary", "GlobalPhase", "MultiControlledX"}
_OBSERVABLES = frozenset(
    {"Identity", "PauliX", "PauliY", "PauliZ", "Hadamard", "Hermitian", "Projector", "SparseHamiltonian", "SProd", "Prod", "Sum", "LinearCombination"}
)


def _matrix_only(op: Any) -> bool:
    """Operations run as their matrix: user matrices, and gates PennyLane cannot decompose."""
    # look through adjoint/control wrappers: PennyLane 0.45's Controlled.has_decomposition
    # raises IndexError on a broadcast base (its SU(2) test indexes the batch axis)
    while isinstance(op, (qml.ops.Adjoint, qml.ops.Controlled)) and op.name not in _NATIVE:
        op = op.base
    return op.name == "QubitUnitary" or (op.name not in _NATIVE and op.has_matrix and not op.has_decomposition)


def _supported_operation(op: Any) -> bool:
    if isinstance(op, (qml.ops.Adjoint, qml.ops.Controlled)) and op.name not in _NATIVE:
        return _supported_operation(op.base)
    if _matrix_only(op):
        return op.batch_size is None
    return op.name in _NATIVE


def _adjoint_operation(op: Any) -> bool:
    """Adjoint differentiation: a trainable user matrix has no angle to differentiate, so it is decomposed."""
    if not _supported_operation(op):
        return False
    base = op
    while isinstance(base, (qml.ops.Adjoint, qml.ops.Controlled)) and base.name not in _NATIVE:
        base = base.base
    return not _matrix_only(base) or not any(qml.math.requires_grad(d) for d in base.data)


def _supported_observable(obs: Any) -> bool:
    if obs.name == "SProd":
        return _supported_observable(obs.base)
    if obs.name in ("Prod", "Sum", "LinearCombination"):
        return all(_supported_observable(o) for o in obs.operands)
    return obs.name in _OBSERVABLES


@transform
def _split_when_sampling(tape: Any) -> tuple[list, Any]:
    """With shots, split measurements of sums into terms (each is sampled in its own eigenbasis)."""
    if not tape.shots:
        return [tape], _first
    return split_non_commuting(tape)


@transform
def _expand_broadcast_matrices(tape: Any) -> tuple[list, Any]:
    """Broadcast user matrices cannot become circuit inputs: run those tapes row by row."""
    if tape.batch_size and any(_matrix_only(op) and op.batch_size for op in tape.operations):
        return broadcast_expand(tape)
    return [tape], _first


def _first(results: Sequence[Any]) -> Any:
    return results[0]


@simulator_tracking
@single_tape_support
class QmlsimDevice(Device):
    """PennyLane device backed by qmlsim's batched statevector simulator (final class).

    Args:
        wires: number of wires or their labels (optional: the tapes' wires otherwise).
        shots: deprecated by PennyLane on devices; set shots on the QNode instead.
        seed: seed of the sampling generator (an int, ``None`` for fresh entropy, or a
            ``numpy.random.Generator``).
        backend: qmlsim backend, ``"numpy"`` (default), ``"jax"`` or ``"cupy"``.
        dtype: ``"complex128"`` (default) or ``"complex64"``.

    Example:
        >>> import pennylane as qml
        >>> dev = qml.device("qmlsim.statevector", wires=1)
        >>> float(dev.execute(qml.tape.QuantumScript([qml.RX(np.pi, 0)], [qml.expval(qml.Z(0))])))
        -1.0
    """

    config_filepath = str(Path(__file__).with_name("qmlsim_statevector.toml"))

    def __init__(self, wires: Any = None, shots: Any = None, seed: Any = None, backend: str = "numpy", dtype: str = "complex128"):
        super().__init__(wires=wires, shots=shots)
        self._simulator = Simulator(backend=backend, dtype=dtype)
        self._rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self._structures: dict[tuple, tuple] = {}

    @property
    def name(self) -> str:
        return "qmlsim.statevector"

    # --- configuration and preprocessing ------------------------------------------------
    def setup_execution_config(self, config: ExecutionConfig | None = None, circuit: Any = None) -> ExecutionConfig:
        """Resolve ``gradient_method="best"`` to the adjoint method and mid-circuit measurements to deferral."""
        config = config or ExecutionConfig()
        updates: dict[str, Any] = {}
        method = config.gradient_method
        if method in ("best", "device"):
            method = "adjoint"
            updates["gradient_method"] = method
        if config.use_device_gradient is None:
            updates["use_device_gradient"] = method == "adjoint"
        if config.grad_on_execution is None:
            updates["grad_on_execution"] = False
        mcm = config.mcm_config
        if mcm.mcm_method not in (None, "deferred"):
            raise DeviceError(
                f"{self.name} handles mid-circuit measurements by deferring them; mcm_method={mcm.mcm_method!r} is not supported"
            )
        updates["mcm_config"] = replace(mcm, mcm_method="deferred")
        for option in config.device_options:
            raise DeviceError(f"device option {option!r} is not supported by {self.name}")
        return replace(config, **updates)

    def _add_decomposition(self, program: Any, stopping_condition: Any, name: str) -> None:
        """Decompose what ``stopping_condition`` refuses into qmlsim's native gates."""
        program.add_transform(
            decompose,
            stopping_condition=stopping_condition,
            skip_initial_state_prep=False,
            device_wires=self.wires,
            target_gates=set(_NATIVE),
            name=name,
        )

    def preprocess_transforms(self, execution_config: ExecutionConfig | None = None) -> CompilePipeline:
        """Defer mid-circuit measurements, decompose into qmlsim's gate set, validate, prepare sampling and gradients."""
        config = execution_config or ExecutionConfig()
        program = CompilePipeline()
        program.add_transform(defer_measurements, allow_postselect=False)
        self._add_decomposition(program, _supported_operation, self.name)
        program.add_transform(validate_device_wires, self.wires, name=self.name)
        program.add_transform(
            validate_measurements,
            analytic_measurements=lambda mp: isinstance(mp, StateMeasurement),
            sample_measurements=lambda mp: isinstance(mp, SampleMeasurement),
            name=self.name,
        )
        program.add_transform(validate_observables, stopping_condition=_supported_observable, name=self.name)
        program.add_transform(_split_when_sampling)
        program.add_transform(_expand_broadcast_matrices)
        if config.gradient_method == "adjoint":
            name = f"adjoint + {self.name}"
            program.add_transform(no_sampling, name=name)
            self._add_decomposition(program, _adjoint_operation, name)
            program.add_transform(
                validate_measurements,
                analytic_measurements=lambda mp: isinstance(mp, ExpectationMP),
                name=name,
            )
            program.add_transform(validate_adjoint_trainable_params)
        return program

    def supports_derivatives(self, execution_config: ExecutionConfig | None = None, circuit: Any = None) -> bool:
        """Adjoint first derivatives of expectation values without shots."""
        if execution_config is None:
            return True
        if execution_config.gradient_method not in ("adjoint", "best", "device") or execution_config.derivative_order != 1:
            return False
        if circuit is None:
            return True
        return not circuit.shots and all(isinstance(mp, ExpectationMP) for mp in circuit.measurements)

    # --- execution ----------------------------------------------------------------------
    def execute(self, circuits: Sequence[Any], execution_config: ExecutionConfig | None = None) -> tuple:
        """Run preprocessed tapes; tapes of equal structure share one batched simulation."""
        results: list[Any] = [None] * len(circuits)
        for group in self._groups(circuits):
            states = self._states(group)
            for (index, tape, wire_order, _), state in zip(group.members, states):
                results[index] = self._measure(tape, wire_order, state)
        return tuple(results)

    def compute_derivatives(self, circuits: Sequence[Any], execution_config: ExecutionConfig | None = None) -> tuple:
        """Adjoint-method Jacobians of expectation values, one batched sweep per group of equal-structure tapes."""
        results: list[Any] = [None] * len(circuits)
        for group in self._groups(circuits):
            for (index, tape, wire_order, param_symbols), jac in zip(group.members, self._jacobians(group)):
                results[index] = _format_jacobian(tape, jac, param_symbols)
        return tuple(results)

    def execute_and_compute_derivatives(self, circuits: Sequence[Any], execution_config: ExecutionConfig | None = None) -> tuple:
        return self.execute(circuits, execution_config), self.compute_derivatives(circuits, execution_config)

    # --- internals ----------------------------------------------------------------------
    def _wire_order(self, tape: Any) -> list[Hashable]:
        if self.wires is not None:
            return list(self.wires)
        return list(tape.wires) or [0]

    def _groups(self, circuits: Sequence[Any]) -> list[_Group]:
        groups: dict[tuple, _Group] = {}
        for index, tape in enumerate(circuits):
            wire_order = self._wire_order(tape)
            circuit, values, param_symbols = self._convert(tape, wire_order)
            rows = _rows(values, tape.batch_size)
            group = groups.get(circuit.key)
            if group is None:
                group = groups[circuit.key] = _Group(circuit)
            group.add((index, tape, wire_order, param_symbols), rows)
        return list(groups.values())

    def _convert(self, tape: Any, wire_order: list[Hashable]) -> tuple[Any, list[Any], list[int | None]]:
        """``tape_to_circuit`` memoised by the tape's structure (names, wires, control values).

        Converting gate by gate is the device's main cost on small circuits; tapes that
        differ only in angles reuse the circuit and only read their parameters. Tapes with
        matrices (whose values are part of the structure) are converted every time.
        """
        signature = (tuple(wire_order), tuple(_op_signature(op) for op in tape.operations))
        cached = self._structures.get(signature)
        params = tape.get_parameters(trainable_only=False)
        if cached is not None:
            circuit, param_symbols = cached
            return circuit, [params[j] for j, k in enumerate(param_symbols) if k is not None], param_symbols
        circuit, values, param_symbols = tape_to_circuit(tape.operations, wire_order, kind="x")
        operation_params = len(params) - sum(len(mp.obs.data) if mp.obs is not None else 0 for mp in tape.measurements)
        if None not in param_symbols and len(values) == len(param_symbols) == operation_params:
            if len(self._structures) >= _STRUCTURE_CACHE_SIZE:
                self._structures.pop(next(iter(self._structures)))
            self._structures[signature] = (circuit, param_symbols)
        return circuit, values, param_symbols

    def _states(self, group: _Group) -> list[np.ndarray]:
        """Final states per member: ``(rows, 2, ..., 2)`` complex on the host."""
        x = np.concatenate(group.rows, axis=0)
        states = self._simulator.backend.to_host(self._simulator.statevector(group.circuit, x=x))
        states = states.reshape((x.shape[0],) + (2,) * group.circuit.num_wires)
        return np.split(states, np.cumsum([len(r) for r in group.rows])[:-1], axis=0)

    def _jacobians(self, group: _Group) -> list[np.ndarray]:
        """Per member: ``(rows, num_measurements, num_inputs)``."""
        member_obs = [
            [from_pennylane_observable(mp.obs, wire_order) for mp in tape.measurements] for _, tape, wire_order, _ in group.members
        ]
        if all(obs == member_obs[0] for obs in member_obs):
            x = np.concatenate(group.rows, axis=0)
            jac = self._simulator.jacobian(group.circuit, member_obs[0], x=x, method="adjoint", argnum="x")
            jac = self._simulator.backend.to_host(jac)
            return np.split(jac, np.cumsum([len(r) for r in group.rows])[:-1], axis=0)
        return [
            self._simulator.backend.to_host(self._simulator.jacobian(group.circuit, obs, x=rows, method="adjoint", argnum="x"))
            for obs, rows in zip(member_obs, group.rows)
        ]

    def _measure(self, tape: Any, wire_order: list[Hashable], state: np.ndarray) -> Any:
        batched = tape.batch_size is not None
        if tape.shots:
            per_bin = self._sample_measurements(tape, wire_order, state, batched)
            if not tape.shots.has_partitioned_shots:
                return per_bin[0]
            return tuple(per_bin)
        values = tuple(_analytic(mp, state, wire_order, batched) for mp in tape.measurements)
        return values[0] if len(values) == 1 else values

    def _sample_measurements(self, tape: Any, wire_order: list[Hashable], state: np.ndarray, batched: bool) -> list[Any]:
        """Results per shot bin; measurements with an observable sample the rotated state."""
        wire_map = {w: i for i, w in enumerate(wire_order)}
        wires = qml.wires.Wires(wire_order)
        total = tape.shots.total_shots
        n = len(wire_order)
        plain_samples = None
        per_mp = []
        for mp in tape.measurements:
            obs = mp.obs
            if obs is None or _diagonal(obs):
                if plain_samples is None:
                    plain_samples = self._draw(state, total, n)
                samples = plain_samples
            else:
                samples = self._draw(_rotate(state, obs.diagonalizing_gates(), wire_map), total, n)
            outcomes = []
            for lower, upper in tape.shots.bins():
                chunk = samples[:, lower:upper, :]
                outcomes.append(_process_samples(mp, chunk if batched else chunk[0], wires, batched))
            per_mp.append(outcomes)
        per_bin = []
        for b in range(len(list(tape.shots.bins()))):
            values = tuple(outcomes[b] for outcomes in per_mp)
            per_bin.append(values[0] if len(values) == 1 else values)
        return per_bin

    def _draw(self, state: np.ndarray, shots: int, n: int) -> np.ndarray:
        p = np.abs(state.reshape(state.shape[0], -1)) ** 2
        return measurements.indices_to_bits(measurements.sample_indices(p, shots, self._rng), n)


def _op_signature(op: Any) -> tuple:
    if isinstance(op, qml.ops.Controlled):
        # read the stored hyperparameters: Controlled.wires is rebuilt on every access
        hyper = op.hyperparameters
        return (op.name, tuple(hyper["control_wires"]), tuple(hyper["control_values"]), _op_signature(op.base))
    return (op.name, tuple(op.wires))


class _Group:
    """Tapes whose circuits have one structure, with their input rows (final)."""

    def __init__(self, circuit: Any):
        self.circuit = circuit
        self.members: list[tuple] = []
        self.rows: list[np.ndarray] = []

    def add(self, member: tuple, rows: np.ndarray) -> None:
        self.members.append(member)
        self.rows.append(rows)


def _rows(values: list[Any], batch_size: int | None) -> np.ndarray:
    """Parameter values as input rows ``(batch, num_inputs)``; scalars repeat over broadcast rows."""
    rows = batch_size or 1
    out = np.empty((rows, len(values)))
    for k, value in enumerate(values):
        out[:, k] = np.real(np.asarray(value))
    return out


def _diagonal(obs: Any) -> bool:
    return not obs.diagonalizing_gates()


def _rotate(state: np.ndarray, gates: Sequence[Any], wire_map: dict) -> np.ndarray:
    """Apply a measurement's diagonalizing gates to states ``(rows, 2, ..., 2)``."""
    for gate in gates:
        matrix = np.asarray(qml.matrix(gate), dtype=state.dtype)
        state = kernels.apply_matrix(state, matrix, [wire_map[w] for w in gate.wires], np)
    return state


def _analytic(mp: Any, state: np.ndarray, wire_order: list[Hashable], batched: bool) -> Any:
    """One measurement on states ``(rows, 2, ..., 2)``; vectorised for expval/var/probs/state."""
    wire_map = {w: i for i, w in enumerate(wire_order)}
    if isinstance(mp, (ExpectationMP, VarianceMP)) and mp.obs is not None:
        obs = from_pennylane_observable(mp.obs, wire_order)
        if isinstance(mp, ExpectationMP):
            value = measurements.expval(state, obs, _NUMPY)
        else:
            value = _variance(state, obs)
    elif isinstance(mp, ProbabilityMP) and mp.obs is None and mp.mv is None:
        wires = [wire_map[w] for w in mp.wires] if mp.wires else None
        value = measurements.probs(state, np, wires)
    elif type(mp) is StateMP and not mp.wires:
        value = state.reshape(state.shape[0], -1)
    else:
        # PennyLane's process_state expects the state already in the observable's eigenbasis
        if mp.obs is not None:
            state = _rotate(state, mp.obs.diagonalizing_gates(), wire_map)
        flat = state.reshape(state.shape[0], -1)
        wires = qml.wires.Wires(wire_order)
        rows = [mp.process_state(flat[r], wires) for r in range(flat.shape[0])]
        value = np.stack([np.asarray(r) for r in rows])
    value = np.asarray(value)
    return value if batched else value[0]


def _variance(state: np.ndarray, obs: Observable) -> np.ndarray:
    """``<O^2> - <O>^2`` per row, with ``<O^2> = || O |psi> ||^2``."""
    mean = measurements.expval(state, obs, _NUMPY)
    ket = measurements.apply_observable(state, obs, _NUMPY)
    second = np.sum(np.abs(ket.reshape(ket.shape[0], -1)) ** 2, axis=1)
    return second - mean**2


def _process_samples(mp: Any, samples: np.ndarray, wires: Any, batched: bool) -> Any:
    if not batched or type(mp).__name__ != "CountsMP":
        return mp.process_samples(samples, wires)
    return tuple(mp.process_samples(row, wires) for row in samples)


def _format_jacobian(tape: Any, jac: np.ndarray, param_symbols: list[int | None]) -> Any:
    """PennyLane's Jacobian layout: measurements outermost, then trainable parameters."""
    columns = []
    for t in tape.trainable_params:
        symbol = param_symbols[t] if t < len(param_symbols) else None
        if symbol is None:
            raise DeviceError("adjoint differentiation on qmlsim.statevector supports trainable gate angles only")
        columns.append(symbol)
    batched = tape.batch_size is not None
    per_mp = []
    for m in range(len(tape.measurements)):
        per_param = tuple(np.asarray(jac[:, m, s] if batched else jac[0, m, s]) for s in columns)
        per_mp.append(per_param[0] if len(per_param) == 1 else per_param)
    if len(tape.measurements) == 1:
        return per_mp[0]
    return tuple(per_mp)


def _add_gate_table(capabilities: Any) -> None:
    """Declare every gate of the gate table that PennyLane names: one place to add a gate."""
    from pennylane.devices.capabilities import OperatorProperties  # noqa: PLC0415 - PennyLane's own record

    for gate in GATES.values():
        name = gate.pennylane_name.removeprefix("Adjoint(").removesuffix(")")
        if name and name not in capabilities.operations:
            capabilities.operations[name] = OperatorProperties(invertible=True, controllable=True, differentiable=True)


_add_gate_table(QmlsimDevice.capabilities)
