"""The ``Executor`` protocol: one interface for the simulator, Qiskit backends and PennyLane devices.

Everything in :mod:`qmlsim.qml` takes ``device=`` any executor.

>>> from qmlsim.simulators import Simulator
>>> isinstance(Simulator(), Executor)
True
"""
from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.observables import Observable

__all__ = ["Executor", "EXECUTION_PATHS", "resolve_device"]

#: Every way this layer computes a result, name -> description. The differential test
#: harness (``tests/differential/paths.py``) registers each name and fails while one is
#: missing: a new path (fusion, a kernel family, a distributed executor) is added here and there.
EXECUTION_PATHS: dict[str, str] = {
    "numba-rows": "numba kernels, small states: rows simulated serially, op by op in cache",
    "numba-rows-parallel": "numba kernels, small states: row blocks in parallel (prange) above 2**21 updates",
    "numba-blocked": "numba kernels, large states: cache-blocked gate groups (above chunk_bits wires)",
    "numba-lane": "repeated small expval calls: states, Pauli sums and the finiteness check in one numba call",
    "array": "array kernels on NumPy (kernels='array'), the generic reference path",
    "chunked": "any Simulator call split into memory-bounded chunks of rows",
    "jax-unrolled": "JAX backend, programs up to SCAN_THRESHOLD steps, jitted gate by gate",
    "jax-scan": "JAX backend, longer programs as one lax.scan over op tables",
    "cupy-standin": "CuPy backend (run on CPU through a NumPy stand-in module in the tests)",
    "custatevec-standin": "CuPy backend with cuStateVec apply_matrix (a stand-in library in the tests)",
    "jax-bridge": "jax_expval: a NumPy simulator inside JAX code, custom VJP from adjoint sweeps",
    "pennylane-device": "qmlsim.statevector PennyLane device, driven through PennyLaneExecutor",
    "qiskit-primitives": "QmlsimEstimator / QmlsimSampler on circuits exported by to_qiskit",
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
