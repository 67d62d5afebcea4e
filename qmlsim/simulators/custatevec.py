"""cuQuantum's cuStateVec as the gate kernel of the CuPy backend, when it is installed.

cuStateVec applies a gate to one state vector in place. Batched states are applied
row by row, so it is used where it pays: large states and few rows (at least
:data:`MIN_WIRES` wires, at most :data:`MAX_ROWS` rows). Everything else, and every
machine without cuQuantum, runs the shared array kernels.

Bit order: cuStateVec numbers index bits from the least significant, and the first
entry of ``targets`` is the least significant bit of the gate matrix's index. qmlsim's
wire ``w`` of ``n`` is bit ``n - 1 - w`` and its matrices put the first wire first,
so targets are passed reversed (:func:`custatevec_bits`).

Verified on CPU only, against a stand-in library that implements the documented
semantics (``tests/simulators/test_custatevec.py``); no GPU run was made.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from qmlsim.simulators.steps import KIND_DIAGONAL, KIND_PERMUTATION, Step, apply_step

__all__ = ["CuStateVecLibrary", "load_library", "step_applier", "custatevec_bits", "MIN_WIRES", "MAX_ROWS"]

MIN_WIRES = 14
MAX_ROWS = 8


@dataclass(frozen=True)
class CuStateVecLibrary:
    """The cuStateVec module and the enum values qmlsim passes to it."""

    module: Any
    data_types: dict
    compute_types: dict
    row_major: int
    handle: int


def load_library() -> CuStateVecLibrary | None:
    """cuStateVec with a fresh handle, or ``None`` when cuQuantum is not installed or has no GPU."""
    try:
        import cuquantum  # noqa: PLC0415 - optional GPU library

        try:
            from cuquantum.bindings import custatevec as module  # noqa: PLC0415 - cuQuantum >= 24.08
        except ImportError:
            from cuquantum import custatevec as module  # noqa: PLC0415
        return CuStateVecLibrary(
            module=module,
            data_types={np.dtype(np.complex64): cuquantum.cudaDataType.CUDA_C_32F, np.dtype(np.complex128): cuquantum.cudaDataType.CUDA_C_64F},
            compute_types={np.dtype(np.complex64): cuquantum.ComputeType.COMPUTE_32F, np.dtype(np.complex128): cuquantum.ComputeType.COMPUTE_64F},
            row_major=module.MatrixLayout.ROW,
            handle=module.create(),
        )
    except Exception:  # noqa: BLE001 - no cuQuantum, or no usable GPU: the shared kernels serve
        return None


def custatevec_bits(wires: Sequence[int], num_wires: int) -> list[int]:
    """cuStateVec bit positions of ``wires``, ordered least significant matrix bit first."""
    return [num_wires - 1 - w for w in reversed(wires)]


def _pointer(array: Any) -> int:
    data = array.data
    return int(data.ptr) if hasattr(data, "ptr") else int(array.ctypes.data)


def _dense(step: Step, operator: Any, xp: Any) -> Any:
    if step.kind == KIND_PERMUTATION:
        return xp.asarray(np.eye(len(operator))[list(operator)])
    if step.kind == KIND_DIAGONAL:
        return operator[..., :, None] * xp.eye(operator.shape[-1], dtype=operator.dtype)
    return operator


def step_applier(backend: Any, state: Any) -> Callable:
    """The step function for this state: cuStateVec where it pays, the shared kernels otherwise."""
    lib: CuStateVecLibrary = backend.custatevec
    batch, num_wires = state.shape[0], state.ndim - 1
    if lib is None or num_wires < MIN_WIRES or batch > MAX_ROWS:
        return apply_step

    def apply(state: Any, step: Step, operator: Any, backend: Any) -> Any:
        xp = backend.xp
        matrix = xp.ascontiguousarray(xp.asarray(_dense(step, operator, xp), dtype=state.dtype))
        flat = state.reshape(batch, -1)
        if not flat.flags.c_contiguous:
            flat = xp.ascontiguousarray(flat)
        dtype = np.dtype(state.dtype)
        data_type, compute_type = lib.data_types[dtype], lib.compute_types[dtype]
        targets = custatevec_bits(step.targets, num_wires)
        controls = custatevec_bits(step.controls, num_wires)
        values = [1] * len(controls)
        for row in range(batch):
            row_matrix = matrix if matrix.ndim == 2 else xp.ascontiguousarray(matrix[row])
            lib.module.apply_matrix(
                lib.handle, _pointer(flat) + row * flat.shape[1] * dtype.itemsize, data_type, num_wires,
                _pointer(row_matrix), data_type, lib.row_major, 0,
                targets, len(targets), controls, values, len(controls), compute_type, 0, 0,
            )
        return flat.reshape(state.shape)

    return apply
