"""Gradients of expectation values with respect to weights and inputs.

* ``adjoint`` (Jones and Gacon 2020): one forward sweep, then one backward sweep
  carrying two states per row; each angle costs one derivative application and one
  inner product.
* ``parameter-shift``: shift rules derived from each gate's generator spectrum
  (two terms for Pauli rotations, four for controlled rotations).
* ``finite-diff``: central differences on the symbols.
* ``backprop``: JAX autodiff through the program (JAX backend only).

Gradients with respect to gate angles are chained to inputs and weights through the
symbolic partials of the angle expressions.

>>> import numpy as np
>>> from qmlsim.circuits import Circuit, Z
>>> from qmlsim.simulators.backends import get_backend
>>> from qmlsim.simulators.program import compile_circuit
>>> c = Circuit(1); w = c.weights(1); _ = c.ry(2 * w[0], 0)
>>> prog = compile_circuit(c, get_backend("numpy"), "complex128")
>>> g = adjoint_jacobian(prog, [Z(0)], np.zeros((1, 0)), np.array([0.3]), "weights")
>>> bool(np.isclose(g[0, 0, 0], -2 * np.sin(0.6)))
True
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.expressions import Symbol
from qmlsim.circuits.observables import Observable
from qmlsim.simulators import kernels
from qmlsim.simulators.measurements import apply_observable, expval
from qmlsim.simulators.backends import get_backend
from qmlsim.simulators.program import Program, compile_circuit
from qmlsim.simulators.steps import KIND_DIAGONAL, KIND_PERMUTATION, Step, apply_step

__all__ = [
    "symbols_for",
    "adjoint_jacobian",
    "parameter_shift_jacobian",
    "finite_diff_jacobian",
    "shift_rule",
    "chain_rule",
    "ShiftPlan",
    "shift_plan",
    "circuit_partials",
    "inverse_operator",
]


def symbols_for(argnum: str, num_inputs: int, num_weights: int) -> list[Symbol]:
    """The symbols a Jacobian is taken with respect to: ``"weights"`` or ``"x"``."""
    if argnum == "weights":
        return [Symbol("w", j) for j in range(num_weights)]
    if argnum == "x":
        return [Symbol("x", i) for i in range(num_inputs)]
    raise ValueError(f"argnum must be 'weights' or 'x', got {argnum!r}")


def chain_rule(
    derivatives: Any, slots: Sequence[int], partials: Sequence[Sequence[Any]], batch: int, num_symbols: int,
    xp: Any = np, dtype: Any = np.float64, squared: bool = False,
) -> Any:
    """Carry derivatives by gate angles to the circuit's symbols: ``(batch, k, P)``.

    Every gradient method (adjoint sweeps, parameter shifts, any executor) ends here.

    Args:
        derivatives: ``(batch, k, S)``: ``d <O_k> / d angle`` for the angle ``slots``
            (or, with ``squared``, the variances of those estimates).
        slots: the ``S`` angle slots of the last axis.
        partials: ``Program.angle_gradients(symbols)(x, w, xp)``: per angle slot, per
            symbol, ``d angle / d symbol`` (a scalar or ``(batch,)``; ``None`` for zero).
        batch: rows.
        num_symbols: ``P``.
        squared: propagate variances (the partials enter squared).

    Example:
        >>> d = np.ones((1, 1, 2))  # two angles, both with derivative 1
        >>> chain_rule(d, [0, 1], [[2.0, None], [3.0, 1.0]], 1, 2).tolist()
        [[[5.0, 1.0]]]
    """
    if not len(slots):
        return xp.zeros((batch, derivatives.shape[1], num_symbols), dtype=dtype)
    # the chain matrix is filled entry by entry: in place where the array library allows it,
    # on the host for JAX (its partials are concrete here: no sweep is traced)
    inplace = getattr(xp, "__name__", "") != "jax.numpy"
    lib = xp if inplace else np
    if lib is np:
        # the common case: every partial is a number (angles affine in the symbols), one (S, P) table
        column = {slot: i for i, slot in enumerate(slots)}
        pairs = getattr(partials, "pairs", None)
        if pairs is None:
            pairs = [(k, j) for k in slots for j, p in enumerate(partials[k]) if p is not None]
        dense = np.zeros((len(slots), num_symbols), dtype=dtype)
        for k, j in pairs:
            i = column.get(k)
            if i is None:
                continue
            p = partials[k][j]
            if not isinstance(p, (float, int, np.floating)) and np.ndim(p):
                dense = None  # a partial that depends on the row: the general fill below
                break
            dense[i, j] = p
        if dense is not None:
            return np.matmul(np.asarray(derivatives, dtype=dtype), dense * dense if squared else dense)
    chain = lib.zeros((batch, len(slots), num_symbols), dtype=dtype)
    for i, slot in enumerate(slots):
        for j, p in enumerate(partials[slot]):
            if p is not None:
                value = p if inplace else np.asarray(p)
                chain[:, i, j] = value * value if squared else value
    return xp.matmul(xp.asarray(derivatives, dtype=dtype), xp.asarray(chain))


class ShiftPlan(NamedTuple):
    """Parameter-shift evaluations of a program as rows of one batch.

    Attributes:
        circuit: the program's circuit with every non-constant angle ``k`` replaced by its
            own input ``x[k]``: one circuit for every shifted evaluation.
        shifts: ``(angle slot, shift, coefficient)`` per shifted pair.
        slots: the distinct angle slots, in the order of the derivatives' last axis.
    """

    circuit: Circuit
    shifts: tuple[tuple[int, float, float], ...]
    slots: tuple[int, ...]

    def rows(self, program: Program, x: Any, weights: Any) -> np.ndarray:
        """Inputs of :attr:`circuit`: ``(batch, 2 * len(shifts), num_angles)``, plus and minus shift of each pair."""
        batch = x.shape[0]
        angles = np.stack(
            [np.broadcast_to(np.asarray(v, dtype=float), (batch,)) for v in program.angle_values(x, weights)], axis=1
        ) if program.angles else np.zeros((batch, 0))
        shifted = np.repeat(angles[:, None, :], 2 * len(self.shifts), axis=1)
        for e, (slot, shift, _) in enumerate(self.shifts):
            shifted[:, 2 * e, slot] += shift
            shifted[:, 2 * e + 1, slot] -= shift
        return shifted

    def derivatives(self, values: np.ndarray, squared: bool = False) -> np.ndarray:
        """``d <O_k> / d angle`` ``(batch, k, len(slots))`` from the values ``(batch, 2 * len(shifts), k)``
        at :meth:`rows` (with ``squared``: variances from the values' variances)."""
        batch, k = values.shape[0], values.shape[-1]
        pairs = values.reshape(batch, len(self.shifts), 2, k)
        out = np.zeros((batch, k, len(self.slots)))
        column = {slot: i for i, slot in enumerate(self.slots)}
        for e, (slot, _, c) in enumerate(self.shifts):
            if squared:
                out[:, :, column[slot]] += c**2 * (pairs[:, e, 0] + pairs[:, e, 1])
            else:
                out[:, :, column[slot]] += c * (pairs[:, e, 0] - pairs[:, e, 1])
        return out


def shift_plan(program: Program, partials: Sequence[Sequence[Any]]) -> ShiftPlan:
    """The :class:`ShiftPlan` of the angles that depend on a differentiated symbol (``partials``
    from ``program.angle_gradients``); each angle's rule comes from its generator spectrum."""
    shifts = []
    for step in program.steps:
        for j, slot in enumerate(step.slots):
            if _depends(partials, slot):
                shifts.extend((slot, s, c) for s, c in zip(*shift_rule(step.spectrum[j])))
    circuit = Circuit(program.circuit.num_wires)
    circuit.inputs(len(program.angles))
    for step in program.steps:
        op = step.op
        params = tuple(p if p.is_constant else Symbol("x", slot) for p, slot in zip(op.params, step.slots))
        circuit.append(dataclasses.replace(op, params=params))
    return ShiftPlan(circuit, tuple(shifts), tuple(sorted({slot for slot, _, _ in shifts})))


def inverse_operator(step: Step, operator: Any, xp: Any) -> Any:
    """The operator of the step's inverse, from its forward operator."""
    if step.kind == KIND_PERMUTATION:
        return tuple(int(i) for i in np.argsort(np.asarray(operator)))
    if step.kind == KIND_DIAGONAL:
        return xp.conj(operator)
    return xp.conj(xp.swapaxes(operator, -1, -2))


def _expvals(program: Program, observables: Sequence[Observable], state: Any) -> Any:
    xp = program.backend.xp
    return xp.stack([expval(state, o, program.backend) for o in observables], axis=1)


def _derivative_inner(lam: Any, psi: Any, step: Step, values: list, index: int, program: Program) -> Any:
    """``Re <lam| dU/d(angle index) |psi>`` per row, restricted to the controlled sub-space."""
    xp = program.backend.xp
    dm = step.gate.derivatives(values, xp, program.dtype)[index]
    if step.adjoint:
        dm = xp.conj(xp.swapaxes(dm, -1, -2))
    targets = step.targets
    if step.controls:
        where = kernels.control_index(step.controls, program.num_wires)
        lam, psi = lam[where], psi[where]
        targets = kernels.relabel(step.targets, step.controls)
    return kernels.inner_real(lam, kernels.apply_matrix(psi, dm, targets, xp), xp)


def _depends(partials: Any, slot: int) -> bool:
    """Whether angle ``slot`` depends on a differentiated symbol."""
    slots = getattr(partials, "slots", None)
    return slot in slots if slots is not None else any(p is not None for p in partials[slot])


def circuit_partials(circuit: Circuit, argnum: str, x: np.ndarray, weights: np.ndarray) -> tuple[Program, list[Symbol], Any]:
    """``(program, symbols, d angle / d symbol)`` of ``circuit`` on NumPy for host rows ``x``: where every
    executor's parameter-shift or tape Jacobian starts."""
    program = compile_circuit(circuit, get_backend("numpy"), "complex128")
    symbols = symbols_for(argnum, circuit.num_inputs, circuit.num_weights)
    return program, symbols, program.angle_gradients(symbols)(x, weights, np)


def _angles_and_partials(program: Program, x: Any, weights: Any, argnum: str) -> tuple[Any, int, list[Symbol], list, list]:
    """``(xp, batch, symbols, angle values, d angle / d symbol)``: what every sweep starts from."""
    xp = program.backend.xp
    symbols = symbols_for(argnum, program.circuit.num_inputs, program.circuit.num_weights)
    return xp, x.shape[0], symbols, program.angle_values(x, weights), program.angle_gradients(symbols)(x, weights, xp)


def adjoint_jacobian(
    program: Program, observables: Sequence[Observable], x: Any, weights: Any, argnum: str
) -> Any:
    """Adjoint-method Jacobian ``(batch, num_observables, num_symbols)``."""
    xp, batch, symbols, values, partials = _angles_and_partials(program, x, weights, argnum)
    operators = program.operators(values)
    psi = program.evolve(program.initial_state(batch), operators)
    lams = [apply_observable(psi, o, program.backend) for o in observables]
    slots: list[int] = []
    derivatives: list[Any] = []
    for k in range(len(program.steps) - 1, -1, -1):
        step = program.steps[k]
        inverse = inverse_operator(step, operators[k], xp)
        psi = apply_step(psi, step, inverse, program.backend)
        needed = [j for j, slot in enumerate(step.slots) if _depends(partials, slot)]
        if needed:
            step_values = [values[i] for i in step.slots]
            for j in needed:
                slots.append(step.slots[j])
                derivatives.append(xp.stack([2.0 * _derivative_inner(lam, psi, step, step_values, j, program) for lam in lams], axis=1))
        lams = [apply_step(lam, step, inverse, program.backend) for lam in lams]
    stacked = xp.stack(derivatives, axis=2) if derivatives else xp.zeros((batch, len(observables), 0))
    return chain_rule(stacked, slots, partials, batch, len(symbols), xp, program.real_dtype)


@functools.lru_cache(maxsize=128)
def shift_rule(spectrum: tuple[float, ...]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Shifts and coefficients with ``df/dt = sum_m c_m (f(t + s_m) - f(t - s_m))``.

    Frequencies are the distinct positive differences of the generator eigenvalues
    ``spectrum``; shifts are ``(2m - 1) pi / (2 R Omega_0)`` for ``R`` frequencies and
    the coefficients solve the rule exactly on ``sin(Omega_k t)`` (Wierichs et al. 2022).

    >>> s, c = shift_rule((-0.5, 0.5))
    >>> [round(v, 6) for v in s], [round(v, 6) for v in c]
    ([1.570796], [0.5])
    """
    ev = np.unique(np.round(np.asarray(spectrum, dtype=float), 12))
    freqs = np.unique(np.round([b - a for a in ev for b in ev if b > a], 12))
    if freqs.size == 0:
        return (), ()
    r = freqs.size
    base = freqs.min()
    shifts = (2 * np.arange(1, r + 1) - 1) * np.pi / (2 * r * base)
    system = 2 * np.sin(np.outer(freqs, shifts))
    coeffs = np.linalg.solve(system, freqs)
    return tuple(float(s) for s in shifts), tuple(float(c) for c in coeffs)


def parameter_shift_jacobian(
    program: Program, observables: Sequence[Observable], x: Any, weights: Any, argnum: str
) -> Any:
    """Parameter-shift Jacobian ``(batch, num_observables, num_symbols)``."""
    xp, batch, symbols, values, partials = _angles_and_partials(program, x, weights, argnum)
    slots: list[int] = []
    derivatives: list[Any] = []

    def energy(shifted: list) -> Any:
        state = program.evolve(program.initial_state(batch), program.operators(shifted))
        return _expvals(program, observables, state)

    for step in program.steps:
        for j, slot in enumerate(step.slots):
            if all(p is None for p in partials[slot]):
                continue
            shifts, coeffs = shift_rule(step.spectrum[j])
            d_angle = 0.0
            for s, c in zip(shifts, coeffs):
                plus, minus = list(values), list(values)
                plus[slot] = values[slot] + s
                minus[slot] = values[slot] - s
                d_angle = d_angle + c * (energy(plus) - energy(minus))
            slots.append(slot)
            derivatives.append(xp.broadcast_to(xp.asarray(d_angle, dtype=program.real_dtype), (batch, len(observables))))
    stacked = xp.stack(derivatives, axis=2) if derivatives else xp.zeros((batch, len(observables), 0))
    return chain_rule(stacked, slots, partials, batch, len(symbols), xp, program.real_dtype)


def finite_diff_jacobian(
    program: Program,
    observables: Sequence[Observable],
    x: Any,
    weights: Any,
    argnum: str,
    step_size: float | None = None,
) -> Any:
    """Central finite-difference Jacobian ``(batch, num_observables, num_symbols)``."""
    xp = program.backend.xp
    h = step_size if step_size is not None else (1e-6 if program.real_dtype == np.float64 else 1e-3)

    def energy(xv: Any, wv: Any) -> Any:
        return _expvals(program, observables, program.run(xv, wv, batch=x.shape[0]))

    cols = []
    if argnum == "weights":
        for j in range(program.circuit.num_weights):
            e = xp.asarray(np.eye(program.circuit.num_weights)[j], dtype=program.real_dtype)
            cols.append((energy(x, weights + h * e) - energy(x, weights - h * e)) / (2 * h))
    else:
        symbols_for(argnum, 0, 0)
        for i in range(program.circuit.num_inputs):
            e = xp.asarray(np.eye(program.circuit.num_inputs)[i], dtype=program.real_dtype)
            cols.append((energy(x + h * e, weights) - energy(x - h * e, weights)) / (2 * h))
    if not cols:
        return xp.zeros((x.shape[0], len(observables), 0), dtype=program.real_dtype)
    return xp.stack(cols, axis=2)


def backprop_jacobian(
    program: Program, observables: Sequence[Observable], x: Any, weights: Any, argnum: str
) -> Any:
    """JAX reverse-mode Jacobian ``(batch, num_observables, num_symbols)`` (JAX backend only)."""
    import jax  # noqa: PLC0415 - JAX backend only

    def energies(xv: Any, wv: Any) -> Any:
        return _expvals(program, observables, program.run(xv, wv, batch=x.shape[0]))

    if argnum == "weights":
        return jax.jacrev(energies, argnums=1)(x, weights)
    symbols_for(argnum, 0, 0)
    # rows are independent: the Jacobian in x is block-diagonal, so differentiate the sums
    per_obs = [jax.grad(lambda xv, o=o: energies(xv, weights)[:, o].sum())(x) for o in range(len(observables))]
    return jax.numpy.stack(per_obs, axis=1)


JACOBIANS: dict[str, Callable] = {
    "adjoint": adjoint_jacobian,
    "parameter-shift": parameter_shift_jacobian,
    "finite-diff": finite_diff_jacobian,
    "backprop": backprop_jacobian,
}
