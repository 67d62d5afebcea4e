"""The ``Executor`` protocol: one interface for the simulator, Qiskit backends and PennyLane devices.

Everything in :mod:`qmlsim.qml` takes ``device=`` any executor. A new executor
subclasses :class:`BaseExecutor` and implements one method, the probabilities of a
batch of rows; checks, shapes, expectation values, samples and parameter-shift
Jacobians come from the base (``docs/contributing.md``, "Adding an executor").

>>> from qmlsim.simulators import Simulator
>>> isinstance(Simulator(), Executor)
True
"""
from __future__ import annotations

import abc
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.observables import Observable
from qmlsim.simulators import measurements
from qmlsim.simulators.calls import Call, prepare_call
from qmlsim.simulators.gradients import chain_rule, circuit_partials, shift_plan

__all__ = ["Executor", "BaseExecutor", "EXECUTION_PATHS", "resolve_device"]

#: Every way this layer computes a result, name -> description. The differential test
#: harness (``tests/differential/paths.py``) registers each name and fails while one is
#: missing: a new path (fusion, a kernel family, a distributed executor) is added here and there.
EXECUTION_PATHS: dict[str, str] = {
    "numba-rows": "numba kernels, small states (up to 12 wires): rows simulated serially, op by op in cache",
    "numba-rows-parallel": "numba kernels, small states: row blocks in parallel (prange) above 2**21 updates",
    "numba-rows-simd": "numba kernels, at least 8 rows of at most 10 wires: amplitudes x rows blocks, the rows as the SIMD axis",
    "numba-lane-simd": "repeated small expval calls with at least 8 rows: the SIMD-rows kernels, no per-row interpreter",
    "numba-blocked": "numba kernels, interleaved cache-blocked gate groups (a plan built with split_wires above its width)",
    "numba-split": "numba kernels, one state of at least 13 wires: passes over chunks in the split (real, imaginary) layout",
    "numba-split-chunks": "the split layout with several chunks per pass (above split_bits wires), one after another",
    "numba-split-chunks-parallel": "the split layout with the chunks of each pass in parallel (one large state, 2**21 updates)",
    "numba-split-rows-parallel": "the split layout with the rows in parallel (prange) above 2**21 updates",
    "numba-adjoint-within-state": "numba adjoint sweep of fewer rows than threads of at least 14 wires: each "
    "pass over a state split over the threads",
    "numba-lane": "repeated small expval calls: states, Pauli sums and the finiteness check in one numba call",
    "array": "array kernels on NumPy (kernels='array'), the generic reference path",
    "chunked": "any Simulator call split into memory-bounded chunks of rows",
    "jax-unrolled": "JAX backend, programs up to SCAN_THRESHOLD steps, jitted gate by gate (up to 20 wires the "
    "constant prefix and runs of constant permutations are folded on the host)",
    "jax-layers": "JAX backend, runs of one-wire gates applied as one lax.scan layer (one pass per wire)",
    "jax-real": "JAX backend, circuits of real gates from |0...0> run in real arithmetic",
    "jax-scan": "JAX backend, longer programs (after folding) as one lax.scan over op tables",
    "cupy-standin": "CuPy backend (run on CPU through a NumPy stand-in module in the tests)",
    "custatevec-standin": "CuPy backend with cuStateVec apply_matrix (a stand-in library in the tests)",
    "jax-bridge": "jax_expval: a NumPy simulator inside JAX code, custom VJP from adjoint sweeps",
    "pennylane-device": "qmlsim.statevector PennyLane device, driven through PennyLaneExecutor",
    "qiskit-primitives": "QmlsimEstimator / QmlsimSampler on circuits exported by to_qiskit",
    "base-executor": "BaseExecutor: term measurements, samples and parameter-shift Jacobians over a subclass's probabilities",
    "dask-executor": "DaskExecutor: input rows split into Dask tasks on worker processes, results reassembled in row order",
}


@runtime_checkable
class Executor(Protocol):
    """Runs qmlsim circuits over batches of input rows.

    Shapes (``batch`` rows of ``x``; a 1-D or absent ``x`` drops the batch axis):
    ``probs -> (batch, 2**k)``, ``expval -> (batch,)`` or ``(batch, num_observables)``,
    ``sample -> (batch, shots, num_wires)`` int bits in wire order,
    ``jacobian -> (batch, P)`` or ``(batch, num_observables, P)``.
    """

    def probs(self, circuit: Circuit, x: Any = None, weights: Any = None, wires: Sequence[int] | None = None) -> Any: ...

    def expval(
        self,
        circuit: Circuit,
        observables: Observable | Sequence[Observable],
        x: Any = None,
        weights: Any = None,
        shots: int | None = None,
        seed: int | None = None,
    ) -> Any: ...

    def sample(self, circuit: Circuit, shots: int, x: Any = None, weights: Any = None, seed: int | None = None) -> Any: ...

    def jacobian(
        self,
        circuit: Circuit,
        observables: Observable | Sequence[Observable],
        x: Any = None,
        weights: Any = None,
        method: str = ...,
        argnum: str = "weights",
    ) -> Any: ...


class BaseExecutor(abc.ABC):
    """An :class:`Executor` from one method: the probabilities of a batch of rows (abstract).

    Subclasses implement :meth:`run_probabilities`. The base checks every argument before
    any work (:func:`~qmlsim.simulators.calls.prepare_call`), gives results their shapes,
    estimates observables by measuring each term in its eigenbasis
    (:func:`~qmlsim.simulators.measurements.term_measurements`), draws samples, and
    computes Jacobians by the parameter-shift rule, all shifted evaluations of all rows
    as one batch. An executor with a native estimator or sampler overrides
    :meth:`run_expvals` or :meth:`run_samples` as well.

    Example:
        >>> from qmlsim.circuits import Circuit, Z
        >>> from qmlsim.simulators import Simulator
        >>> class Exact(BaseExecutor):
        ...     def run_probabilities(self, circuit, rows, weights, shots, seed):
        ...         return Simulator().probs(circuit, x=rows, weights=weights)
        >>> c = Circuit(1); w = c.weights(1); _ = c.ry(w[0], 0)
        >>> round(float(Exact().jacobian(c, Z(0), weights=[0.3])[0]), 6)  # -sin(0.3)
        -0.29552
    """

    shots: int | None = None

    @abc.abstractmethod
    def run_probabilities(self, circuit: Circuit, rows: np.ndarray, weights: np.ndarray, shots: int | None, seed: Any) -> np.ndarray:
        """Probabilities ``(batch, 2**num_wires)`` of all wires (first wire most significant) for ``rows`` ``(batch, num_inputs)``.

        Arguments arrive checked. With ``shots``, the frequencies of that many shots per
        row (multiples of ``1 / shots``); ``None`` asks for exact probabilities (an
        executor that cannot give them raises ``ValueError``).
        """

    def run_expvals(self, circuit: Circuit, observables: list[Observable], rows: np.ndarray, weights: np.ndarray,
                    shots: int | None, seed: Any) -> np.ndarray:
        """Expectation values ``(batch, k)``: every term measured in its eigenbasis."""
        rng = np.random.default_rng(seed)
        out = np.zeros((rows.shape[0], len(observables)))
        for o, observable in enumerate(observables):
            for setting in measurements.term_measurements(circuit, observable):
                if setting.circuit is None:
                    out[:, o] += setting.coeff
                    continue
                p = self.run_probabilities(setting.circuit, rows, weights, shots, int(rng.integers(2**31)))
                p = measurements.marginal(np.asarray(p, dtype=float), np, setting.wires)
                out[:, o] += setting.coeff * p @ setting.eigenvalues
        return out

    def run_samples(self, circuit: Circuit, rows: np.ndarray, weights: np.ndarray, shots: int, seed: Any) -> np.ndarray:
        """Bits ``(batch, shots, num_wires)``: the shots behind :meth:`run_probabilities`'s frequencies, in
        random order (drawn from them when it returns exact probabilities instead)."""
        rng = np.random.default_rng(seed)
        p = np.asarray(self.run_probabilities(circuit, rows, weights, shots, int(rng.integers(2**31))), dtype=float)
        counts = np.rint(p * shots).astype(np.int64)
        if np.all(counts.sum(axis=1) == shots) and np.allclose(counts, p * shots, atol=1e-6):
            indices = np.stack([rng.permutation(np.repeat(np.arange(p.shape[1]), row)) for row in counts])
        else:  # exact probabilities rather than frequencies: draw the shots from them
            indices = measurements.sample_indices(p, shots, rng)
        return measurements.indices_to_bits(indices, circuit.num_wires)

    # --- the Executor interface ----------------------------------------------------
    def probs(self, circuit: Circuit, x: Any = None, weights: Any = None, wires: Sequence[int] | None = None,
              shots: int | None = None, seed: int | None = None) -> np.ndarray:
        """Probabilities ``(batch, 2**k)`` of ``wires`` (all by default, first wire most significant)."""
        call = prepare_call(circuit, x, weights, wires=wires, shots=shots)
        p = np.asarray(self.run_probabilities(circuit, call.rows, call.weights, self._shots(call), seed), dtype=float)
        return call.result(measurements.marginal(p, np, call.wires))

    def expval(self, circuit: Circuit, observables: Observable | Sequence[Observable], x: Any = None, weights: Any = None,
               shots: int | None = None, seed: int | None = None) -> np.ndarray:
        """Expectation values ``(batch,)``, or ``(batch, k)`` for a list of ``k`` observables."""
        call = prepare_call(circuit, x, weights, observables=observables, shots=shots)
        values = self.run_expvals(circuit, call.observables, call.rows, call.weights, self._shots(call), seed)
        return call.result(np.asarray(values, dtype=float), observables=True)

    def sample(self, circuit: Circuit, shots: int, x: Any = None, weights: Any = None, seed: int | None = None,
               wires: Sequence[int] | None = None) -> np.ndarray:
        """Bits ``(batch, shots, k)`` in wire order; ``(shots, k)`` for a 1-D or absent ``x``."""
        call = prepare_call(circuit, x, weights, shots=_required_shots(shots), wires=wires)
        bits = self.run_samples(circuit, call.rows, call.weights, call.shots, seed)
        return call.result(bits if call.wires is None else bits[..., list(call.wires)])

    def jacobian(self, circuit: Circuit, observables: Observable | Sequence[Observable], x: Any = None, weights: Any = None,
                 method: str = "parameter-shift", argnum: str = "weights", shots: int | None = None,
                 seed: int | None = None) -> np.ndarray:
        """Jacobian ``(batch, P)`` or ``(batch, k, P)`` by the parameter-shift rule (exact in expectation, hardware-ready)."""
        if method != "parameter-shift":
            raise ValueError(f"{type(self).__name__} computes Jacobians by method='parameter-shift' only, got {method!r}")
        call = prepare_call(circuit, x, weights, observables=observables, shots=shots, argnum=argnum)
        return call.result(self._parameter_shift(circuit, call, seed), observables=True)

    def _shots(self, call: Call) -> int | None:
        return self.shots if call.shots is None else call.shots

    def _parameter_shift(self, circuit: Circuit, call: Call, seed: Any) -> np.ndarray:
        program, symbols, partials = circuit_partials(circuit, call.argnum, call.rows, call.weights)
        plan = shift_plan(program, partials)
        k = len(call.observables)
        derivatives = np.zeros((call.batch, k, 0))
        if plan.shifts:
            rows = plan.rows(program, call.rows, call.weights)  # (batch, 2 S, num_angles)
            values = self.run_expvals(plan.circuit, call.observables, rows.reshape(-1, rows.shape[-1]), np.zeros(0), self._shots(call), seed)
            derivatives = plan.derivatives(np.asarray(values, dtype=float).reshape(call.batch, -1, k))
        return chain_rule(derivatives, plan.slots, partials, call.batch, len(symbols))


def _required_shots(shots: Any) -> int:
    if shots is None:
        raise ValueError("sample needs shots: pass a positive integer")
    return shots


def resolve_device(device: Any) -> Any:
    """The executor a model's ``device=`` argument names: ``None`` -> ``Simulator()``, a backend name -> a
    ``Simulator`` on it, an executor (with ``probs``/``sample``) as it is; ``TypeError`` otherwise."""
    from qmlsim.simulators import Simulator  # noqa: PLC0415 - keeps this import light for hardware users

    if device is None:
        return Simulator()
    if isinstance(device, str):
        return Simulator(backend=device)
    for method in ("probs", "sample"):
        if not callable(getattr(device, method, None)):
            raise TypeError(
                f"device must be None, a backend name ('numpy', 'jax', 'cupy') or an executor with probs/sample, "
                f"got {type(device).__name__}"
            )
    return device
