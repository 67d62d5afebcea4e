"""Array kernels on batched states: pure functions, one generic matrix kernel and its fast paths.

A state is ``(batch, 2, ..., 2)``: batch axis first, then one axis per wire, wire 0
first (most significant). Matrices are ``(D, D)`` for every row or ``(batch, D, D)``
per row, with ``D = 2**len(wires)`` and the first listed wire most significant.
These lines run unchanged on NumPy, CuPy and JAX (``xp``).

>>> import numpy as np
>>> state = np.zeros((1, 2, 2), complex); state[0, 0, 0] = 1
>>> x = np.array([[0, 1], [1, 0]], complex)
>>> np.flatnonzero(apply_matrix(state, x, (1,), np).reshape(-1)).tolist()
[1]
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = [
    "zero_state",
    "apply_matrix",
    "apply_diagonal",
    "apply_permutation",
    "apply_controlled",
    "apply_pauli_word",
    "inner_real",
]


def zero_state(batch: int, num_wires: int, xp: Any, dtype: Any) -> Any:
    """``|0...0>`` for every row: shape ``(batch,) + (2,) * num_wires``."""
    flat = xp.zeros((batch, 2**num_wires), dtype=dtype)
    if hasattr(flat, "at"):
        flat = flat.at[:, 0].set(1)
    else:
        flat[:, 0] = 1
    return flat.reshape((batch,) + (2,) * num_wires)


def _targets_last(state: Any, wires: Sequence[int], xp: Any) -> tuple[Any, tuple, list, list]:
    n = state.ndim - 1
    k = len(wires)
    src = [w + 1 for w in wires]
    dst = list(range(n + 1 - k, n + 1))
    moved = xp.moveaxis(state, src, dst)
    return moved, moved.shape, src, dst


def apply_matrix(state: Any, matrix: Any, wires: Sequence[int], xp: Any) -> Any:
    """Generic kernel: apply a ``(D, D)`` or ``(batch, D, D)`` matrix on ``wires``.

    Args:
        state: ``(batch, 2, ..., 2)``.
        matrix: ``(D, D)`` shared by all rows, or ``(batch, D, D)``.
        wires: target wires, the first most significant in ``matrix``.
        xp: array namespace.

    Returns:
        The new state, same shape.
    """
    d = 2 ** len(wires)
    moved, shape, src, dst = _targets_last(state, wires, xp)
    flat = moved.reshape(shape[0], -1, d)
    if matrix.ndim == 2:
        out = flat @ matrix.T
    else:
        out = xp.matmul(flat, xp.swapaxes(matrix, -1, -2))
    return xp.moveaxis(out.reshape(shape), dst, src)


def _diagonal_factor(diag: Any, wires: Sequence[int], num_wires: int, xp: Any) -> Any:
    """Reshape ``(D,)`` or ``(batch, D)`` diagonal entries to broadcast against the state."""
    k = len(wires)
    lead = diag.shape[0] if diag.ndim == 2 else 1
    tensor = diag.reshape((lead,) + (2,) * k)
    order = sorted(range(k), key=lambda i: wires[i])
    if order != list(range(k)):
        tensor = xp.transpose(tensor, [0] + [1 + i for i in order])
    shape = [lead] + [1] * num_wires
    for w in wires:
        shape[w + 1] = 2
    return tensor.reshape(shape)


def apply_diagonal(state: Any, diag: Any, wires: Sequence[int], xp: Any) -> Any:
    """Fast path: multiply by a diagonal gate given by its ``(D,)`` or ``(batch, D)`` diagonal."""
    return state * _diagonal_factor(diag, wires, state.ndim - 1, xp)


def apply_permutation(state: Any, permutation: Sequence[int], wires: Sequence[int], xp: Any) -> Any:
    """Fast path: ``out[j] = in[permutation[j]]`` on the local index of ``wires``."""
    d = 2 ** len(wires)
    moved, shape, src, dst = _targets_last(state, wires, xp)
    flat = moved.reshape(shape[0], -1, d)
    out = xp.take(flat, xp.asarray(np.asarray(permutation)), axis=-1)
    return xp.moveaxis(out.reshape(shape), dst, src)


def control_index(controls: Sequence[int], num_wires: int) -> tuple:
    """Index selecting the sub-state where every control wire is 1."""
    index: list[Any] = [slice(None)] * (num_wires + 1)
    for c in controls:
        index[c + 1] = 1
    return tuple(index)


def relabel(targets: Sequence[int], controls: Sequence[int]) -> tuple[int, ...]:
    """Target wires renumbered inside the sub-state that drops the control axes."""
    return tuple(t - sum(1 for c in controls if c < t) for t in targets)


def apply_controlled(state: Any, apply_target: Any, controls: Sequence[int], set_index: Any) -> Any:
    """Fast path for controlled gates: apply ``apply_target`` to the controls-all-1 sub-state only.

    Args:
        state: ``(batch, 2, ..., 2)``.
        apply_target: function ``sub_state -> new_sub_state`` on the sub-state without control axes.
        controls: control wires.
        set_index: the backend's ``(array, index, value) -> array``.
    """
    index = control_index(controls, state.ndim - 1)
    return set_index(state, index, apply_target(state[index]))


def apply_pauli_word(state: Any, word: Sequence[tuple[int, str]], xp: Any) -> Any:
    """``P |state>`` for a Pauli word ``((wire, "X"|"Y"|"Z"), ...)``: flips and signs, no matrices."""
    n = state.ndim - 1
    out = state
    phase = 1
    for wire, letter in word:
        if letter in "XY":
            out = xp.flip(out, axis=wire + 1)
        if letter in "YZ":
            sign = xp.asarray(np.array([1.0, -1.0]), dtype=state.dtype)
            shape = [1] * (n + 1)
            shape[wire + 1] = 2
            # after the flip the sign is indexed by the output bit: Y = i * [[0, -1], [1, 0]]
            if letter == "Y":
                sign = -sign
            out = out * sign.reshape(shape)
        if letter == "Y":
            phase = phase * 1j
    return out * phase if phase != 1 else out


def inner_real(bra: Any, ket: Any, xp: Any) -> Any:
    """``Re <bra|ket>`` per row: ``(batch,)``."""
    b = bra.reshape(bra.shape[0], -1)
    k = ket.reshape(ket.shape[0], -1)
    return xp.real(xp.sum(xp.conj(b) * k, axis=1))
