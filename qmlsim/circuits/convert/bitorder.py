"""The one place where arrays change between qmlsim's and Qiskit's bit order.

qmlsim (like PennyLane and textbooks) makes wire 0 the most significant bit of a basis
index; Qiskit makes qubit 0 the least significant bit. Circuits convert qubit ``i`` to
wire ``i`` unchanged, so the only difference between ``Statevector(to_qiskit(c))`` and
qmlsim's state is the integer indexing of basis states. :func:`reverse_bit_order`
converts states, probabilities and (with ``axes=(-2, -1)``) matrices in either
direction; it is its own inverse.

>>> import numpy as np
>>> reverse_bit_order(np.array([0.1, 0.2, 0.3, 0.4]), 2).tolist()
[0.1, 0.3, 0.2, 0.4]
"""
from __future__ import annotations

import functools
from typing import Any, Sequence

import numpy as np

__all__ = ["reverse_bit_order", "bit_reversal_permutation"]


@functools.lru_cache(maxsize=64)
def bit_reversal_permutation(num_wires: int) -> np.ndarray:
    """Indices ``perm`` with ``perm[i]`` = ``i`` with its ``num_wires`` bits reversed, shape ``(2**num_wires,)``."""
    index = np.arange(2**num_wires)
    out = np.zeros_like(index)
    for bit in range(num_wires):
        out |= ((index >> bit) & 1) << (num_wires - 1 - bit)
    out.setflags(write=False)
    return out


def reverse_bit_order(array: Any, num_wires: int, axes: Sequence[int] = (-1,)) -> Any:
    """Reorder basis-state axes between big-endian (qmlsim, PennyLane) and little-endian (Qiskit) order.

    Args:
        array: states ``(..., 2**n)``, probabilities ``(..., 2**n)`` or matrices
            ``(..., 2**n, 2**n)`` (pass ``axes=(-2, -1)``); NumPy, CuPy or JAX.
        num_wires: ``n``.
        axes: which axes index basis states.

    Returns:
        The same values with basis index ``i`` moved to ``i`` bit-reversed.

    Raises:
        ValueError: if an axis does not have length ``2**num_wires``.

    Example:
        >>> import numpy as np
        >>> psi = np.zeros(8); psi[1] = 1.0          # |001>: wire 2 set
        >>> int(np.argmax(reverse_bit_order(psi, 3)))  # Qiskit: qubit 2 is bit 2
        4
    """
    if not isinstance(num_wires, (int, np.integer)) or num_wires < 0:
        raise ValueError(f"num_wires must be a non-negative integer, got {num_wires!r}")
    perm = bit_reversal_permutation(int(num_wires))
    ndim = len(array.shape)
    for axis in axes:
        if array.shape[axis] != perm.shape[0]:
            raise ValueError(
                f"axis {axis} has length {array.shape[axis]} but {num_wires} wires need {perm.shape[0]}; "
                "pass the right num_wires or axes"
            )
        index = [slice(None)] * ndim
        index[axis] = perm
        array = array[tuple(index)]
    return array
