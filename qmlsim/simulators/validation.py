"""Boundary checks shared by every executor: inputs, weights, observables, wires, shots, seeds.

Each returns the cleaned value or raises a ``ValueError``/``TypeError`` that says what
was wrong and how to fix it; the engine behind an executor then trusts its input.

>>> import numpy as np
>>> from qmlsim.circuits import Circuit
>>> c = Circuit(1); _ = c.inputs(2)
>>> rows, single = input_rows(c, [0.1, 0.2])
>>> rows.shape, single
((1, 2), True)
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from qmlsim.circuits.circuit import (
    Circuit,
    check_input_shape,
    check_weight_shape,
    missing_inputs_error,
    missing_weights_error,
)
from qmlsim.circuits.observables import Observable

__all__ = [
    "real_array",
    "input_rows",
    "weight_vector",
    "observable_list",
    "check_wires",
    "check_shots",
    "check_seed",
    "initial_states",
    "check_input_shape",
    "check_weight_shape",
    "missing_inputs_error",
    "missing_weights_error",
]


def real_array(value: Any, name: str) -> np.ndarray:
    """``value`` as a finite real float array on the host."""
    array = np.asarray(value)
    if array.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got complex values")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be a real numeric array, got dtype {array.dtype}")
    array = array.astype(float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values; clean the data before running")
    return array


def input_rows(circuit: Circuit, x: Any) -> tuple[np.ndarray, bool]:
    """Input rows ``(batch, num_inputs)`` and whether one row (or none) was given."""
    if not isinstance(circuit, Circuit):
        raise TypeError(f"expected a qmlsim Circuit, got {type(circuit).__name__}")
    if x is None:
        if circuit.num_inputs:
            raise missing_inputs_error(circuit)
        return np.zeros((1, 0)), True
    rows = real_array(x, "x")
    single = check_input_shape(circuit, rows.shape)
    return (rows[None, :] if single else rows), single


def weight_vector(circuit: Circuit, weights: Any) -> np.ndarray:
    """The weights as ``(num_weights,)``."""
    if weights is None:
        if circuit.num_weights:
            raise missing_weights_error(circuit)
        return np.zeros(0)
    w = real_array(weights, "weights")
    check_weight_shape(circuit, w.shape)
    return w


def observable_list(observables: Any, num_wires: int) -> tuple[list[Observable], bool]:
    """A non-empty list of observables on the circuit's wires, and whether a list was passed."""
    is_list = isinstance(observables, (list, tuple))
    obs_list = list(observables) if is_list else [observables]
    if not obs_list:
        raise ValueError("pass at least one observable")
    for o in obs_list:
        if not isinstance(o, Observable):
            raise TypeError(f"observables must be qmlsim Observables (X(0) @ Z(1), Hermitian(...)), got {type(o).__name__}")
        bad = [w for w in o.wires if w >= num_wires]
        if bad:
            raise ValueError(f"observable acts on wire(s) {bad} but the circuit has {num_wires} wires")
    return obs_list, is_list


def check_wires(wires: int | Sequence[int] | None, num_wires: int) -> tuple[int, ...] | None:
    """Distinct wires in range, as a tuple (``None`` passes through: all wires)."""
    if wires is None:
        return None
    wires = tuple(int(w) for w in ([wires] if isinstance(wires, (int, np.integer)) else wires))
    if any(not 0 <= w < num_wires for w in wires) or len(set(wires)) != len(wires):
        raise ValueError(f"wires {wires} must be distinct and in 0..{num_wires - 1}")
    return wires


def check_shots(shots: Any, name: str = "shots") -> int:
    """A positive integer number of shots."""
    if not isinstance(shots, (int, np.integer)) or isinstance(shots, bool) or shots < 1:
        raise ValueError(f"{name} must be a positive integer, got {shots!r}")
    return int(shots)


def check_seed(seed: Any) -> int | None:
    """``None`` or a non-negative integer seed."""
    if seed is None:
        return None
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
    return int(seed)


def initial_states(value: Any, num_wires: int, batch: int) -> np.ndarray:
    """Start states ``(rows, 2**num_wires)`` complex on the host, ``rows`` 1 (every row) or the batch.

    ``value`` is one state ``(2**num_wires,)`` for every row, or one per row
    ``(rows, 2**num_wires)``; with one input row (or none) ``rows`` may be anything and
    the inputs are shared. Wire 0 is the most significant bit of the index, as in the
    statevectors the simulators return. States must be normalised.
    """
    array = np.asarray(value)
    if array.dtype.kind not in "fiubc":
        raise TypeError(f"initial_state must be a numeric array, got dtype {array.dtype}")
    dim = 1 << num_wires
    if array.ndim not in (1, 2) or array.shape[-1] != dim:
        raise ValueError(
            f"initial_state must have shape ({dim},) or (rows, {dim}) for a {num_wires}-wire circuit, got {array.shape}"
        )
    states = array.reshape(-1, dim).astype(complex)
    if batch > 1 and states.shape[0] not in (1, batch):
        raise ValueError(f"initial_state has {states.shape[0]} rows but the call has {batch} input rows; pass one state or one per row")
    if not np.all(np.isfinite(states)):
        raise ValueError("initial_state contains NaN or infinite values")
    norms = np.linalg.norm(states, axis=1)
    worst = int(np.argmax(np.abs(norms - 1)))
    if abs(norms[worst] - 1) > 1e-6:
        raise ValueError(
            f"initial_state row {worst} has norm {norms[worst]:.6g}, not 1; pass psi / np.linalg.norm(psi)"
        )
    return states
