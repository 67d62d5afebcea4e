"""Qiskit V2 primitives backed by qmlsim: ``QmlsimSampler`` and ``QmlsimEstimator``.

Each PUB's circuit is converted once with
:func:`~qmlsim.circuits.convert.qiskit.from_qiskit` (``parameters="inputs"``: the
``k``-th entry of ``circuit.parameters`` becomes input ``x[k]``), and all of the PUB's
parameter-binding rows run as one batch on :class:`~qmlsim.simulators.Simulator`.
Circuits made of standard instructions are converted once per primitive and reused by
content (QNN training sends the same circuit every step).
Results follow Qiskit's V2 semantics so that code written for
``StatevectorSampler``/``StatevectorEstimator`` (qiskit-machine-learning's QNNs and
fidelity kernels, for instance) runs unchanged:

- sampler: one ``BitArray`` per classical register, of shape ``pub.shape`` with
  ``shots`` shots; a clbit holds the outcome of the qubit last measured into it, clbits
  never measured read 0; only terminal measurements are allowed (a gate after a
  measurement on the same qubit raises ``ValueError``);
- estimator: ``evs`` and ``stds`` of the broadcast shape of parameter values and
  observables. With ``precision > 0`` every value gets Gaussian noise of that standard
  deviation, and ``stds`` reports it (``StatevectorEstimator`` reports 0).

>>> from qiskit import QuantumCircuit
>>> qc = QuantumCircuit(2); _ = qc.h(0); _ = qc.cx(0, 1); _ = qc.measure_all()
>>> counts = QmlsimSampler(seed=1).run([qc], shots=100).result()[0].data.meas.get_counts()
>>> sorted(counts), sum(counts.values())
(['00', '11'], 100)
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from qmlsim.circuits.convert import require
from qmlsim.circuits.convert.qiskit import from_qiskit
from qmlsim.circuits.observables import Observable
from qmlsim.simulators import measurements
from qmlsim.simulators.simulator import Simulator
from qmlsim.simulators.validation import check_shots

require("qiskit", "qiskit")
from qiskit.primitives import BaseEstimatorV2, BaseSamplerV2, PrimitiveJob, PrimitiveResult  # noqa: E402
from qiskit.primitives.containers import BitArray, DataBin, PubResult, SamplerPubResult  # noqa: E402
from qiskit.primitives.containers.estimator_pub import EstimatorPub  # noqa: E402
from qiskit.primitives.containers.sampler_pub import SamplerPub  # noqa: E402
from qiskit.circuit import ParameterExpression  # noqa: E402
from qiskit.circuit.library import UnitaryGate, get_standard_gate_name_mapping  # noqa: E402
from qiskit.circuit.library import Barrier, Measure  # noqa: E402
from qiskit.quantum_info import SparsePauliOp  # noqa: E402

__all__ = ["QmlsimSampler", "QmlsimEstimator"]

# Imaginary parts of observable coefficients above this are a non-Hermitian observable.
_IMAG_TOL = 1e-10


def _check_seed(seed: Any) -> Any:
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    raise TypeError(f"seed must be None, a non-negative int or a numpy Generator, got {seed!r}")


def _rng(seed: Any) -> np.random.Generator:
    # An int seed makes every run() reproducible on its own; a Generator is shared across runs.
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _binding_rows(pub: Any) -> np.ndarray:
    """The PUB's parameter values as input rows ``(prod(shape), num_parameters)`` in ``circuit.parameters`` order."""
    parameters = list(pub.circuit.parameters)
    values = pub.parameter_values.as_array(parameters) if parameters else np.zeros(pub.parameter_values.shape + (0,))
    return values.reshape(int(np.prod(pub.parameter_values.shape, dtype=int)), len(parameters))


def _final_measurements(qc: Any) -> dict[str, list[int | None]]:
    """Per classical register, the qubit measured into each of its clbits (``None``: never measured)."""
    measured: dict[int, int] = {}
    for instruction in qc.data:
        if instruction.operation.name == "measure":
            qubit = qc.find_bit(instruction.qubits[0]).index
            measured[qc.find_bit(instruction.clbits[0]).index] = qubit
    return {
        creg.name: [measured.get(qc.find_bit(bit).index) for bit in creg]
        for creg in qc.cregs
    }


# Instruction classes whose name, qubits and parameters determine them completely; circuits
# made only of these are cached by that content (custom gates may share names, so not them).
_KNOWN_TYPES = {name: type(gate) for name, gate in get_standard_gate_name_mapping().items()}
_KNOWN_TYPES.update({"unitary": UnitaryGate, "measure": Measure, "barrier": Barrier})
_CACHE_SIZE = 64


def _param_key(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return (value.shape, value.tobytes())
    if isinstance(value, ParameterExpression):
        return str(value)
    return repr(value)


def _fingerprint(qc: Any) -> tuple | None:
    """Content key of a circuit of standard instructions, or ``None`` when it has others."""
    items = []
    for instruction in qc.data:
        operation = instruction.operation
        if _KNOWN_TYPES.get(operation.name) is not type(operation):
            return None
        items.append(
            (
                operation.name,
                tuple(qc.find_bit(q).index for q in instruction.qubits),
                tuple(qc.find_bit(c).index for c in instruction.clbits),
                tuple(_param_key(p) for p in operation.params),
            )
        )
    return (qc.num_qubits, tuple(p.name for p in qc.parameters), tuple(items))


class _Converter:
    """``from_qiskit(qc, parameters="inputs")`` memoised by circuit content (final class).

    QNN training sends the same circuit on every step; converting symbolic angles through
    sympy costs far more than simulating, so each distinct circuit is converted once.
    """

    def __init__(self):
        self._cache: dict[tuple, Any] = {}

    def convert(self, qc: Any) -> Any:
        key = _fingerprint(qc)
        if key is None:
            return from_qiskit(qc, parameters="inputs")
        circuit = self._cache.get(key)
        if circuit is None:
            circuit = from_qiskit(qc, parameters="inputs")
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = circuit
        return circuit


class _OnSimulator:
    """What both primitives share: the seed, the simulator, the circuit converter, running PUBs as one job."""

    def __init__(self, seed: Any, backend: str):
        self._seed = _check_seed(seed)
        self._simulator = Simulator(backend=backend)
        self._converter = _Converter()

    @property
    def seed(self) -> Any:
        """The seed or Generator of the sampling (or of the precision noise)."""
        return self._seed

    def _job(self, coerced: list[Any]) -> PrimitiveJob:
        job = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs: list[Any]) -> PrimitiveResult:
        rng = _rng(self._seed)
        return PrimitiveResult([self._run_pub(pub, rng) for pub in pubs], metadata={"version": 2})


class QmlsimSampler(_OnSimulator, BaseSamplerV2):
    """A Qiskit ``BaseSamplerV2`` that samples from qmlsim's batched statevectors (final class).

    Args:
        default_shots: shots of PUBs that give none, when ``run`` gives none either.
        seed: ``None``, an int (every ``run`` call reproducible) or a NumPy Generator.
        backend: qmlsim backend of the simulator (``"numpy"``, ``"jax"``, ``"cupy"``).

    Example:
        >>> import numpy as np
        >>> from qiskit import QuantumCircuit
        >>> from qiskit.circuit import Parameter
        >>> qc = QuantumCircuit(1); _ = qc.rx(Parameter("t"), 0); _ = qc.measure_all()
        >>> res = QmlsimSampler(seed=3).run([(qc, np.array([[0.0], [np.pi]]))], shots=10).result()[0]
        >>> res.data.meas.shape, [res.data.meas.get_counts(i) for i in range(2)]
        ((2,), [{'0': 10}, {'1': 10}])
    """

    def __init__(self, *, default_shots: int = 1024, seed: Any = None, backend: str = "numpy"):
        self._default_shots = check_shots(default_shots, "default_shots")
        super().__init__(seed, backend)

    @property
    def default_shots(self) -> int:
        """Shots used when neither the PUB nor ``run`` gives any."""
        return self._default_shots

    def run(self, pubs: Iterable[Any], *, shots: int | None = None) -> PrimitiveJob:
        """Sample every PUB ``(circuit, parameter_values?, shots?)``; returns a job whose result has one ``SamplerPubResult`` per PUB."""
        shots = self._default_shots if shots is None else check_shots(shots, "shots")
        return self._job([SamplerPub.coerce(pub, shots) for pub in pubs])

    def _run_pub(self, pub: Any, rng: np.random.Generator) -> SamplerPubResult:
        qc = pub.circuit
        registers = _final_measurements(qc)
        circuit = self._converter.convert(qc)
        rows = _binding_rows(pub)
        shots = pub.shots
        qubits = sorted({q for clbits in registers.values() for q in clbits if q is not None})
        if qubits:
            probs = np.asarray(self._simulator.backend.to_host(self._simulator.probs(circuit, x=rows, wires=qubits)))
            probs = np.clip(probs.reshape(rows.shape[0], -1).astype(np.float64), 0.0, None)
            bits = measurements.indices_to_bits(measurements.sample_indices(probs, shots, rng), len(qubits))
        else:
            bits = np.zeros((rows.shape[0], shots, 0), dtype=np.int64)
        # one extra all-zero column for clbits that were never measured
        bits = np.concatenate([bits, np.zeros(bits.shape[:-1] + (1,), dtype=bits.dtype)], axis=-1).astype(bool)
        position = {q: i for i, q in enumerate(qubits)}
        arrays = {}
        for name, clbits in registers.items():
            columns = [position.get(q, len(qubits)) if q is not None else len(qubits) for q in clbits]
            register_bits = bits[..., columns]  # (rows, shots, size): clbit 0 first
            packed = BitArray.from_bool_array(register_bits, order="little")
            arrays[name] = packed.reshape(pub.shape + (shots,))
        return SamplerPubResult(
            DataBin(**arrays, shape=pub.shape), metadata={"shots": shots, "circuit_metadata": qc.metadata}
        )


def _to_observable(sparse: Any) -> Observable:
    """A Qiskit ``SparseObservable`` (qubit ``i`` = wire ``i``) as a qmlsim observable."""
    op = SparsePauliOp.from_sparse_observable(sparse).simplify()
    items = []
    for letters, qubits, coeff in op.to_sparse_list():
        if abs(complex(coeff).imag) > _IMAG_TOL:
            raise ValueError(f"observable coefficient {coeff} is complex: estimator observables must be Hermitian")
        items.append((letters, tuple(int(q) for q in qubits), float(complex(coeff).real)))
    return Observable.from_list(items)


class QmlsimEstimator(_OnSimulator, BaseEstimatorV2):
    """A Qiskit ``BaseEstimatorV2`` computing expectation values with qmlsim (final class).

    Args:
        default_precision: standard deviation of the Gaussian noise added to each value
            when neither the PUB nor ``run`` gives a precision (0: exact).
        seed: ``None``, an int or a NumPy Generator (used only when precision > 0).
        backend: qmlsim backend of the simulator (``"numpy"``, ``"jax"``, ``"cupy"``).

    Example:
        >>> import numpy as np
        >>> from qiskit import QuantumCircuit
        >>> from qiskit.circuit import Parameter
        >>> qc = QuantumCircuit(1); _ = qc.ry(Parameter("t"), 0)
        >>> pub = (qc, [["Z"], ["X"]], np.array([0.0, np.pi / 2]).reshape(2, 1))
        >>> QmlsimEstimator().run([pub]).result()[0].data.evs.round(6).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """

    def __init__(self, *, default_precision: float = 0.0, seed: Any = None, backend: str = "numpy"):
        self._default_precision = _check_precision(default_precision)
        super().__init__(seed, backend)

    @property
    def default_precision(self) -> float:
        """Precision used when neither the PUB nor ``run`` gives any."""
        return self._default_precision

    def run(self, pubs: Iterable[Any], *, precision: float | None = None) -> PrimitiveJob:
        """Estimate every PUB ``(circuit, observables[, parameter_values[, precision]])``; returns a job of ``PubResult`` objects."""
        precision = self._default_precision if precision is None else _check_precision(precision)
        return self._job([EstimatorPub.coerce(pub, precision) for pub in pubs])

    def _run_pub(self, pub: Any, rng: np.random.Generator) -> PubResult:
        circuit = self._converter.convert(pub.circuit)
        rows = _binding_rows(pub)
        shape = pub.shape
        row_index = np.arange(rows.shape[0]).reshape(pub.parameter_values.shape)
        sparse = pub.observables.sparse_observables_array()
        unique: dict[Any, int] = {}
        observables: list[Observable] = []
        obs_index = np.empty(sparse.shape, dtype=np.int64)
        for idx, obs in np.ndenumerate(sparse):
            converted = _to_observable(obs)
            key = converted.terms
            if key not in unique:
                unique[key] = len(observables)
                observables.append(converted)
            obs_index[idx] = unique[key]
        rows_b, obs_b = (np.broadcast_to(a, shape) for a in (row_index, obs_index))
        evs = np.zeros(shape)
        host = self._simulator.backend.to_host
        if rows.shape[0] * len(observables) <= 2 * max(1, evs.size):
            # (nearly) every row meets every observable: simulate each row once
            table = np.asarray(host(self._simulator.expval(circuit, observables, x=rows))).reshape(rows.shape[0], -1)
            evs = table[rows_b, obs_b]
        else:
            # sparse pairings (e.g. zipped arrays): simulate only the rows each observable needs
            for k, observable in enumerate(observables):
                mask = obs_b == k
                if mask.any():
                    evs[mask] = np.asarray(host(self._simulator.expval(circuit, observable, x=rows[rows_b[mask]])))
        precision = pub.precision
        stds = np.full(shape, float(precision))
        if precision > 0:
            evs = evs + rng.normal(0.0, precision, size=shape)
        return PubResult(
            DataBin(evs=np.asarray(evs, dtype=np.float64), stds=stds, shape=shape),
            metadata={"target_precision": precision, "circuit_metadata": pub.circuit.metadata},
        )


def _check_precision(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value >= 0:
        raise ValueError(f"precision must be a non-negative number, got {value!r}")
    return float(value)
