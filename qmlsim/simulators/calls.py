"""One preparation of an executor call: arguments checked once, results shaped once.

Every executor (:class:`~qmlsim.simulators.Simulator`, ``QiskitExecutor``,
``PennyLaneExecutor``) takes the same arguments and returns the same shapes (see
:class:`~qmlsim.simulators.executor.Executor`). :func:`prepare_call` checks them and
:meth:`Call.result` gives results their public shape, so a new executor implements
only "run these rows".

>>> import numpy as np
>>> from qmlsim.circuits import Circuit, Z
>>> c = Circuit(1); _ = c.inputs(1)
>>> call = prepare_call(c, [0.5], observables=Z(0), argnum="x")
>>> call.rows.shape, call.single, call.is_list
((1, 1), True, False)
>>> call.result(np.zeros((1, 1, 1)), observables=True).shape  # (batch, k, P) -> (P,)
(1,)
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.observables import Observable
from qmlsim.simulators.validation import (
    check_input_shape,
    check_shots,
    check_weight_shape,
    check_wires,
    missing_inputs_error,
    missing_weights_error,
    observable_list,
    real_array,
)

__all__ = ["Call", "prepare_call", "ARGNUMS"]

ARGNUMS = ("weights", "x")
_UNSET: Any = object()


class Call(NamedTuple):
    """A checked executor call.

    Attributes:
        rows: inputs ``(batch, num_inputs)`` (one zero-width row when the circuit has none).
        weights: ``(num_weights,)``.
        single: the caller passed one row (or no ``x``): results drop the batch axis.
        observables: the observables as a list (empty when the call measures none).
        is_list: the caller passed a list of observables: results keep the observable axis.
        shots: shots, or ``None`` for exact results.
        wires: measured wires, or ``None`` for all.
        argnum: ``"weights"`` or ``"x"`` for Jacobians, else ``None``.
    """

    rows: Any
    weights: Any
    single: bool
    observables: list[Observable]
    is_list: bool
    shots: int | None = None
    wires: tuple[int, ...] | None = None
    argnum: str | None = None

    # a NamedTuple: built on every executor call, where a frozen dataclass cost microseconds
    @property
    def batch(self) -> int:
        return int(self.rows.shape[0])

    def result(self, value: Any, observables: bool = False) -> Any:
        """``value`` (batch axis first; then, with ``observables``, the observable axis) in its public shape.

        A tuple (values and their errors) is shaped element by element.
        """
        if isinstance(value, tuple):
            return tuple(self.result(v, observables) for v in value)
        if observables and not self.is_list:
            value = value[:, 0]
        return value[0] if self.single else value


def prepare_call(
    circuit: Circuit,
    x: Any = None,
    weights: Any = None,
    *,
    observables: Any = _UNSET,
    shots: Any = None,
    wires: Any = None,
    argnum: Any = None,
    host: Callable[[Any, str], Any] = real_array,
) -> Call:
    """Check an executor call's arguments before any work.

    Args:
        circuit: the circuit.
        x: ``(batch, num_inputs)``, ``(num_inputs,)`` or ``None``.
        weights: ``(num_weights,)`` or ``None``.
        observables: one observable or a list (leave out when the call measures none).
        shots: ``None`` or a positive integer.
        wires: measured wires (``None``: all).
        argnum: for Jacobians, ``"weights"`` or ``"x"``.
        host: ``(value, name) -> array`` that converts and checks ``x`` and ``weights``
            (default: a finite real NumPy array); an executor passes its own to keep
            device arrays or tracers.

    Returns:
        The :class:`Call`.

    Raises:
        TypeError, ValueError: saying which argument is wrong and what it should be.
    """
    if not isinstance(circuit, Circuit):
        raise TypeError(f"expected a qmlsim Circuit, got {type(circuit).__name__}")
    if argnum is not None and argnum not in ARGNUMS:
        raise ValueError(f"argnum must be 'weights' or 'x', got {argnum!r}")
    obs_list, is_list = ([], False) if observables is _UNSET else observable_list(observables, circuit.num_wires)
    if x is None:
        if circuit.num_inputs:
            raise missing_inputs_error(circuit)
        rows, single = np.zeros((1, 0)), True
    else:
        rows = host(x, "x")
        single = check_input_shape(circuit, rows.shape)
        rows = rows[None, :] if single else rows
    if weights is None:
        if circuit.num_weights:
            raise missing_weights_error(circuit)
        w = np.zeros(0)
    else:
        w = host(weights, "weights")
        check_weight_shape(circuit, w.shape)
    return Call(
        rows=rows,
        weights=w,
        single=single,
        observables=obs_list,
        is_list=is_list,
        shots=None if shots is None else check_shots(shots),
        wires=check_wires(wires, circuit.num_wires),
        argnum=argnum,
    )
