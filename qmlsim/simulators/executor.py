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

__all__ = ["Executor"]


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
