"""Steps: one circuit op resolved to a kernel, and how a step is applied to a state.

Shared by the array engine (:mod:`qmlsim.simulators.program`), its JAX scan
(:mod:`qmlsim.simulators.jax_scan`), the cuStateVec path and the gradient sweeps.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qmlsim.circuits.circuit import Op
from qmlsim.circuits.gates import GATES, GateDef
from qmlsim.simulators import kernels

if TYPE_CHECKING:
    from qmlsim.simulators.backends import Backend

__all__ = [
    "Step",
    "KIND_DIAGONAL",
    "KIND_PERMUTATION",
    "KIND_MATRIX",
    "resolve_op",
    "step_kind",
    "target_operator",
    "apply_target",
    "apply_step",
]

KIND_DIAGONAL = "diagonal"
KIND_PERMUTATION = "permutation"
KIND_MATRIX = "matrix"


@dataclass(frozen=True, eq=False)
class Step:
    """One op resolved to a kernel.

    Attributes:
        op: the source op.
        kind: ``"diagonal"``, ``"permutation"`` or ``"matrix"`` (the kernel on the targets).
        targets: wires the target gate acts on.
        controls: all control wires (the gate's own and the op's extra controls).
        gate: the target gate's definition (``None`` for a user unitary).
        slots: indices of this step's angles in the program's angle list.
        adjoint: apply the conjugate transpose.
        constant: the precomputed diagonal/matrix/permutation when no angle is symbolic.
        spectrum: per angle, generator eigenvalues of the whole (controlled) op.
    """

    op: Op
    kind: str
    targets: tuple[int, ...]
    controls: tuple[int, ...]
    gate: GateDef | None
    slots: tuple[int, ...]
    adjoint: bool
    constant: Any
    spectrum: tuple[tuple[float, ...], ...]


def resolve_op(op: Op) -> tuple[GateDef | None, tuple[int, ...], tuple[int, ...]]:
    """The target gate, all controls and the targets of an op."""
    if op.name == "unitary":
        return None, op.controls, op.wires
    gate = GATES[op.name]
    k = gate.num_controls
    controls = op.controls + op.wires[:k]
    target_gate = GATES[gate.base] if gate.base is not None else gate
    return target_gate, controls, op.wires[k:]


def step_kind(gate: GateDef | None, op: Op) -> str:
    if gate is None:
        return KIND_MATRIX if op.permutation is None else KIND_PERMUTATION
    if gate.diagonal is not None:
        return KIND_DIAGONAL
    if gate.permutation is not None:
        return KIND_PERMUTATION
    return KIND_MATRIX


def target_operator(step: Step, values: list, xp: Any, dtype: Any) -> Any:
    """The target gate's diagonal, permutation or matrix for angle ``values`` (adjoint applied)."""
    gate, op = step.gate, step.op
    if step.kind == KIND_PERMUTATION:
        perm = np.asarray(op.permutation if gate is None else gate.permutation)
        return tuple(np.argsort(perm)) if step.adjoint else tuple(perm)
    if step.kind == KIND_DIAGONAL:
        diag = gate.diagonal(values, xp, dtype)
        return xp.conj(diag) if step.adjoint else diag
    matrix = op.local_matrix((), xp, dtype) if gate is None else gate.matrix(values, xp, dtype)
    return xp.conj(xp.swapaxes(matrix, -1, -2)) if step.adjoint else matrix


def apply_target(sub: Any, step: Step, operator: Any, targets: tuple[int, ...], xp: Any) -> Any:
    """Apply a step's target operator (from :func:`target_operator`) to a (sub-)state."""
    if step.kind == KIND_PERMUTATION:
        return kernels.apply_permutation(sub, operator, targets, xp)
    if step.kind == KIND_DIAGONAL:
        return kernels.apply_diagonal(sub, operator, targets, xp)
    return kernels.apply_matrix(sub, operator, targets, xp)


def apply_step(state: Any, step: Step, operator: Any, backend: Backend) -> Any:
    """Apply one step with its operator, using the controlled fast path when it has controls."""
    xp = backend.xp
    if not step.controls:
        return apply_target(state, step, operator, step.targets, xp)
    targets = kernels.relabel(step.targets, step.controls)
    return kernels.apply_controlled(
        state, lambda sub: apply_target(sub, step, operator, targets, xp), step.controls, backend.set_index
    )
