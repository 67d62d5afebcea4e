"""The circuit IR: a list of :class:`Op` on ``num_wires`` wires with symbolic inputs and weights.

>>> import numpy as np
>>> from qmlsim.circuits import Circuit
>>> c = Circuit(2)
>>> x = c.inputs(2)
>>> w = c.weights(1)
>>> _ = c.h(0).cx(0, 1).rz(2 * (np.pi - x[0]) * (np.pi - x[1]), 1).ry(w[0], 0)
>>> len(c), c.num_inputs, c.num_weights
(4, 2, 1)
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any, Iterator, Sequence

import numpy as np

from qmlsim.circuits.expressions import Const, Expr, Symbol, as_expr
from qmlsim.circuits.gates import GATES

__all__ = [
    "Op",
    "Circuit",
    "UNITARY_ATOL",
    "matrix_permutation",
    "expand_ops",
    "check_input_shape",
    "check_weight_shape",
    "missing_inputs_error",
    "missing_weights_error",
]

UNITARY_ATOL = 1e-8


def matrix_permutation(matrix: np.ndarray) -> tuple[int, ...] | None:
    """``perm`` with ``matrix[j, perm[j]] == 1`` when ``matrix`` is a permutation matrix, else ``None``."""
    ones = matrix == 1
    if not np.all(ones | (matrix == 0)) or not np.all(ones.sum(axis=0) == 1) or not np.all(ones.sum(axis=1) == 1):
        return None
    return tuple(int(i) for i in np.argmax(ones, axis=1))
"""Tolerance of the unitarity check of ``Circuit.unitary`` matrices."""


@dataclass(frozen=True, eq=False)
class Op:
    """One gate application.

    Attributes:
        name: a key of :data:`qmlsim.circuits.gates.GATES`, or ``"unitary"``.
        wires: the gate's wires in its own order (controls of a controlled gate first).
        params: the angles as expressions.
        controls: extra control wires (all controlled on 1), added by ``Circuit.controlled``.
        adjoint: apply the conjugate transpose of the gate.
        matrix: the user matrix of a ``"unitary"`` op, ``(2**k, 2**k)`` complex.
    """

    name: str
    wires: tuple[int, ...]
    params: tuple[Expr, ...] = ()
    controls: tuple[int, ...] = ()
    adjoint: bool = False
    matrix: np.ndarray | None = None

    @property
    def all_wires(self) -> tuple[int, ...]:
        """Extra controls first, then the gate's own wires."""
        return self.controls + self.wires

    @property
    def key(self) -> tuple:
        """Hashable structure of this op (used to cache compiled circuits)."""
        mat = None if self.matrix is None else (self.matrix.shape, self.matrix.tobytes())
        return (self.name, self.wires, self.params, self.controls, self.adjoint, mat)

    @functools.cached_property
    def permutation(self) -> tuple[int, ...] | None:
        """For a ``"unitary"`` op whose matrix permutes basis states: ``out[j] = in[permutation[j]]``.

        The engine then runs the op with its permutation kernel (a gather) instead of a
        dense matrix product; ``None`` for every other op.
        """
        if self.matrix is None:
            return None
        return matrix_permutation(self.matrix)

    def local_matrix(self, values: Sequence[Any] = (), xp: Any = np, dtype: Any = np.complex128) -> Any:
        """Matrix of the gate on its own ``wires`` (without extra controls, without adjoint)."""
        if self.name == "unitary":
            return xp.asarray(self.matrix, dtype=dtype)
        return GATES[self.name].matrix(values, xp, dtype)

    def decomposed(self) -> list[Op]:
        """This op as the gate's exact :attr:`~qmlsim.circuits.gates.GateDef.decomposition`.

        Extra controls and the adjoint carry over: every part gets the controls, and an
        adjoint op is the reversed sequence of adjoint parts.
        """
        gate = GATES[self.name]
        if gate.decomposition is None:
            raise ValueError(f"gate {self.name!r} has no decomposition")
        parts = [
            Op(name, tuple(self.wires[i] for i in local), tuple(as_expr(a) for a in angles), self.controls, self.adjoint)
            for name, angles, local in gate.decomposition(self.params)
        ]
        return parts[::-1] if self.adjoint else parts

    def __repr__(self) -> str:
        args = ", ".join(repr(p) for p in self.params)
        ctrl = f", controls={self.controls}" if self.controls else ""
        dag = ".adjoint" if self.adjoint else ""
        return f"{self.name}({args}){dag} on {self.wires}{ctrl}"


class Circuit:
    """A quantum circuit with symbolic inputs and trainable weights (final class).

    Gate methods follow Qiskit's names and argument order (angles first, then wires)
    and return the circuit, so calls chain.

    Args:
        num_wires: number of qubits.

    Example:
        >>> c = Circuit(1)
        >>> w = c.weights(1)
        >>> _ = c.rx(w[0], 0)
        >>> c.ops[0].name
        'rx'
    """

    __slots__ = ("num_wires", "_ops", "_num_inputs", "_num_weights", "_key")

    def __init__(self, num_wires: int):
        if not isinstance(num_wires, (int, np.integer)) or isinstance(num_wires, bool) or num_wires < 1:
            raise ValueError(f"num_wires must be a positive integer, got {num_wires!r}")
        self.num_wires = int(num_wires)
        self._ops: list[Op] = []
        self._num_inputs = 0
        self._num_weights = 0
        self._key: tuple | None = None

    @property
    def ops(self) -> tuple[Op, ...]:
        """The ops in order (read-only: build with the gate methods, ``append`` or ``compose``)."""
        return tuple(self._ops)

    @property
    def num_inputs(self) -> int:
        return self._num_inputs

    @num_inputs.setter
    def num_inputs(self, value: int) -> None:
        self._num_inputs = value
        self._key = None

    @property
    def num_weights(self) -> int:
        return self._num_weights

    @num_weights.setter
    def num_weights(self, value: int) -> None:
        self._num_weights = value
        self._key = None

    # --- symbols -------------------------------------------------------------
    def inputs(self, n: int) -> tuple[Symbol, ...]:
        """Declare ``n`` more input features; returns their symbols ``x[i]``."""
        start = self.num_inputs
        self.num_inputs += _count(n, "inputs")
        return tuple(Symbol("x", i) for i in range(start, self.num_inputs))

    def weights(self, n: int) -> tuple[Symbol, ...]:
        """Declare ``n`` more trainable weights; returns their symbols ``w[j]``."""
        start = self.num_weights
        self.num_weights += _count(n, "weights")
        return tuple(Symbol("w", j) for j in range(start, self.num_weights))

    # --- building ------------------------------------------------------------
    def append(self, op: Op) -> Circuit:
        """Validate and append one op. All gate methods go through here."""
        self._check_op(op)
        self._ops.append(op)
        self._key = None
        return self

    def gate(self, name: str, *args: Any) -> Circuit:
        """Append gate ``name`` from :data:`GATES`: its angles first, then its wires."""
        gate = GATES.get(name)
        if gate is None:
            raise ValueError(f"unknown gate {name!r}; known gates: {', '.join(sorted(GATES))}")
        expected = gate.num_params + gate.num_wires
        if len(args) != expected:
            raise TypeError(
                f"{name} takes {gate.num_params} angle(s) then {gate.num_wires} wire(s), got {len(args)} argument(s)"
            )
        params = tuple(as_expr(a) for a in args[: gate.num_params])
        wires = tuple(args[gate.num_params :])
        return self.append(Op(name, _wires(wires, self.num_wires), params))

    def unitary(self, matrix: Any, wires: int | Sequence[int]) -> Circuit:
        """Append a user matrix on ``wires`` (wire order as everywhere: first wire most significant)."""
        wires = (wires,) if isinstance(wires, (int, np.integer)) else tuple(wires)
        matrix = np.asarray(matrix, dtype=complex)
        dim = 2 ** len(wires)
        if matrix.shape != (dim, dim):
            raise ValueError(f"a unitary on {len(wires)} wire(s) must have shape ({dim}, {dim}), got {matrix.shape}")
        if not np.all(np.isfinite(matrix)):
            raise ValueError("the unitary matrix contains NaN or infinite entries")
        error = np.abs(matrix @ matrix.conj().T - np.eye(dim)).max()
        if error > UNITARY_ATOL:
            raise ValueError(
                f"matrix is not unitary: max |U U^dagger - I| = {error:.2e} > {UNITARY_ATOL:g}; "
                "orthonormalise it first (for example with scipy.linalg.polar)"
            )
        return self.append(Op("unitary", _wires(wires, self.num_wires), (), matrix=matrix))

    def permutation(self, table: Sequence[int], wires: int | Sequence[int]) -> Circuit:
        """Append the basis permutation ``|j> -> |table[j]>`` on ``wires`` (first wire most significant).

        ``table`` has ``2**len(wires)`` entries, each index once. The op is stored as a
        ``"unitary"`` (so every converter exports it) and the engine runs it with its
        permutation kernel. Example: a modular increment on Z_3 in two wires, padding
        state 3 left alone:

        >>> c = Circuit(2).permutation([1, 2, 0, 3], [0, 1])
        >>> c.ops[0].permutation
        (2, 0, 1, 3)
        """
        wires = (wires,) if isinstance(wires, (int, np.integer)) else tuple(wires)
        table = np.asarray(table)
        dim = 2 ** len(wires)
        if table.shape != (dim,) or not np.issubdtype(table.dtype, np.integer):
            raise ValueError(f"a permutation on {len(wires)} wire(s) is {dim} integers, got shape {table.shape} of {table.dtype}")
        if not np.array_equal(np.sort(table), np.arange(dim)):
            raise ValueError(f"the table must hold each of 0..{dim - 1} exactly once (a bijection of basis states)")
        matrix = np.zeros((dim, dim), dtype=complex)
        matrix[table, np.arange(dim)] = 1.0
        return self.append(Op("unitary", _wires(wires, self.num_wires), (), matrix=matrix))

    def _check_op(self, op: Op) -> None:
        _wires(op.all_wires, self.num_wires)
        for p in op.params:
            for s in p.symbols():
                limit = self.num_inputs if s.kind == "x" else self.num_weights
                if s.index >= limit:
                    what = "inputs" if s.kind == "x" else "weights"
                    raise ValueError(
                        f"{s!r} is used but the circuit declares only {limit} {what}; "
                        f"call circuit.{what}(n) first to declare them"
                    )

    # --- composition ---------------------------------------------------------
    def compose(
        self,
        other: Circuit,
        wires: Sequence[int] | None = None,
        share_inputs: bool = True,
        share_weights: bool = False,
    ) -> Circuit:
        """Append ``other`` (in place) with its wire ``i`` on ``wires[i]``.

        Inputs are shared by default (``other``'s ``x[i]`` is this circuit's ``x[i]``:
        a feature map re-uploaded twice reads the same features); weights are new by
        default (appended after this circuit's weights: two trainable blocks do not
        share angles).

        This **modifies the circuit in place** and returns ``self`` (Qiskit's
        ``QuantumCircuit.compose`` returns a new circuit instead); for a new circuit
        write ``c.copy().compose(other)``.
        """
        if wires is None and other.num_wires > self.num_wires:
            raise ValueError(
                f"cannot compose a {other.num_wires}-wire circuit into {self.num_wires} wires; "
                "pass wires=... or build a larger circuit"
            )
        wires = tuple(range(other.num_wires)) if wires is None else tuple(wires)
        if len(wires) != other.num_wires:
            raise ValueError(f"compose needs {other.num_wires} target wires, got {len(wires)}")
        _wires(wires, self.num_wires)
        if share_inputs:
            input_offset = 0
            self.num_inputs = max(self.num_inputs, other.num_inputs)
        else:
            input_offset = self.num_inputs
            self.num_inputs += other.num_inputs
        if share_weights:
            weight_offset = 0
            self.num_weights = max(self.num_weights, other.num_weights)
        else:
            weight_offset = self.num_weights
            self.num_weights += other.num_weights
        mapping = {Symbol("x", i): Symbol("x", i + input_offset) for i in range(other.num_inputs)}
        mapping.update({Symbol("w", j): Symbol("w", j + weight_offset) for j in range(other.num_weights)})
        for op in other.ops:
            self.append(
                replace(
                    op,
                    wires=tuple(wires[w] for w in op.wires),
                    controls=tuple(wires[w] for w in op.controls),
                    params=tuple(substitute(p, mapping) for p in op.params),
                )
            )
        return self

    def inverse(self) -> Circuit:
        """A new circuit applying the inverse: reversed order, every op adjoint."""
        out = self._empty_like(self.num_wires)
        out._ops = [replace(op, adjoint=not op.adjoint) for op in reversed(self._ops)]
        return out

    def controlled(self, num_controls: int = 1) -> Circuit:
        """A new circuit on ``num_controls + num_wires`` wires: this one, controlled on the first wires.

        Controls are the new wires ``0 .. num_controls - 1`` (all controlled on 1); this
        circuit's wire ``i`` becomes wire ``num_controls + i``.
        """
        k = _count(num_controls, "num_controls")
        out = self._empty_like(self.num_wires + k)
        ctrl = tuple(range(k))
        out._ops = [
            replace(op, wires=tuple(w + k for w in op.wires), controls=ctrl + tuple(w + k for w in op.controls))
            for op in self._ops
        ]
        return out

    def copy(self) -> Circuit:
        out = self._empty_like(self.num_wires)
        out._ops = list(self._ops)
        return out

    def _empty_like(self, num_wires: int) -> Circuit:
        out = Circuit(num_wires)
        out.num_inputs, out.num_weights = self.num_inputs, self.num_weights
        return out

    # --- inspection ----------------------------------------------------------
    @property
    def key(self) -> tuple:
        """Hashable structure (ops, wires, symbols): equal keys compile to the same program (memoised)."""
        if self._key is None:
            self._key = (self.num_wires, self._num_inputs, self._num_weights, tuple(op.key for op in self._ops))
        return self._key

    def __len__(self) -> int:
        return len(self._ops)

    def __iter__(self) -> Iterator[Op]:
        return iter(self._ops)

    def __repr__(self) -> str:
        lines = [f"Circuit(num_wires={self.num_wires}, num_inputs={self.num_inputs}, num_weights={self.num_weights})"]
        lines += [f"  {op!r}" for op in self.ops]
        return "\n".join(lines)

    def __getattr__(self, name: str) -> Any:
        # every GATES entry is a method: gates without a hand-written one below get ``gate(name, ...)``
        if not name.startswith("_") and name in GATES:
            return functools.partial(self.gate, name)
        raise AttributeError(f"'Circuit' object has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(GATES))

    def __getstate__(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__ if name != "_key"}

    def __setstate__(self, state: dict) -> None:
        self._key = None
        for name, value in state.items():
            object.__setattr__(self, name, value)

    # --- gate methods (Qiskit's names; angles first, then wires) -------------
    def i(self, wire: int) -> Circuit:
        """Identity on ``wire`` (kept in the circuit, e.g. as a placeholder)."""
        return self.gate("i", wire)

    def id(self, wire: int) -> Circuit:
        """Identity on ``wire`` (Qiskit's name for :meth:`i`)."""
        return self.gate("i", wire)

    def x(self, wire: int) -> Circuit:
        """Pauli X (NOT) on ``wire``."""
        return self.gate("x", wire)

    def y(self, wire: int) -> Circuit:
        """Pauli Y on ``wire``."""
        return self.gate("y", wire)

    def z(self, wire: int) -> Circuit:
        """Pauli Z on ``wire``."""
        return self.gate("z", wire)

    def h(self, wire: int) -> Circuit:
        """Hadamard on ``wire``."""
        return self.gate("h", wire)

    def s(self, wire: int) -> Circuit:
        """S = diag(1, i) on ``wire``."""
        return self.gate("s", wire)

    def sdg(self, wire: int) -> Circuit:
        """S^dagger = diag(1, -i) on ``wire``."""
        return self.gate("sdg", wire)

    def t(self, wire: int) -> Circuit:
        """T = diag(1, e^{i pi/4}) on ``wire``."""
        return self.gate("t", wire)

    def tdg(self, wire: int) -> Circuit:
        """T^dagger on ``wire``."""
        return self.gate("tdg", wire)

    def sx(self, wire: int) -> Circuit:
        """sqrt(X) on ``wire``."""
        return self.gate("sx", wire)

    def sxdg(self, wire: int) -> Circuit:
        """sqrt(X)^dagger on ``wire``."""
        return self.gate("sxdg", wire)

    def rx(self, theta: Any, wire: int) -> Circuit:
        """RX(theta) = exp(-i theta X / 2) on ``wire``; ``theta`` a number or an expression of inputs/weights."""
        return self.gate("rx", theta, wire)

    def ry(self, theta: Any, wire: int) -> Circuit:
        """RY(theta) = exp(-i theta Y / 2) on ``wire``."""
        return self.gate("ry", theta, wire)

    def rz(self, theta: Any, wire: int) -> Circuit:
        """RZ(theta) = exp(-i theta Z / 2) on ``wire``."""
        return self.gate("rz", theta, wire)

    def p(self, theta: Any, wire: int) -> Circuit:
        """Phase gate diag(1, e^{i theta}) on ``wire``."""
        return self.gate("p", theta, wire)

    def u(self, theta: Any, phi: Any, lam: Any, wire: int) -> Circuit:
        """Qiskit's U(theta, phi, lam) on ``wire``."""
        return self.gate("u", theta, phi, lam, wire)

    def u3(self, theta: Any, phi: Any, lam: Any, wire: int) -> Circuit:
        """Qiskit's U3(theta, phi, lam) (the same matrix as :meth:`u`) on ``wire``."""
        return self.gate("u3", theta, phi, lam, wire)

    def rot(self, phi: Any, theta: Any, omega: Any, wire: int) -> Circuit:
        """PennyLane's ``Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi)``."""
        return self.gate("rot", phi, theta, omega, wire)

    def cx(self, control: int, target: int) -> Circuit:
        """Controlled X (CNOT) from ``control`` to ``target``."""
        return self.gate("cx", control, target)

    def cnot(self, control: int, target: int) -> Circuit:
        """Controlled X (alias of :meth:`cx`)."""
        return self.gate("cx", control, target)

    def cy(self, control: int, target: int) -> Circuit:
        """Controlled Y."""
        return self.gate("cy", control, target)

    def cz(self, control: int, target: int) -> Circuit:
        """Controlled Z."""
        return self.gate("cz", control, target)

    def ch(self, control: int, target: int) -> Circuit:
        """Controlled Hadamard."""
        return self.gate("ch", control, target)

    def swap(self, wire1: int, wire2: int) -> Circuit:
        """Swap two wires."""
        return self.gate("swap", wire1, wire2)

    def iswap(self, wire1: int, wire2: int) -> Circuit:
        """iSWAP: swap with a phase i on the swapped states."""
        return self.gate("iswap", wire1, wire2)

    def crx(self, theta: Any, control: int, target: int) -> Circuit:
        """Controlled RX(theta)."""
        return self.gate("crx", theta, control, target)

    def cry(self, theta: Any, control: int, target: int) -> Circuit:
        """Controlled RY(theta)."""
        return self.gate("cry", theta, control, target)

    def crz(self, theta: Any, control: int, target: int) -> Circuit:
        """Controlled RZ(theta)."""
        return self.gate("crz", theta, control, target)

    def cp(self, theta: Any, control: int, target: int) -> Circuit:
        """Controlled phase diag(1, 1, 1, e^{i theta})."""
        return self.gate("cp", theta, control, target)

    def rxx(self, theta: Any, wire1: int, wire2: int) -> Circuit:
        """RXX(theta) = exp(-i theta X X / 2) on two wires."""
        return self.gate("rxx", theta, wire1, wire2)

    def ryy(self, theta: Any, wire1: int, wire2: int) -> Circuit:
        """RYY(theta) = exp(-i theta Y Y / 2) on two wires."""
        return self.gate("ryy", theta, wire1, wire2)

    def rzz(self, theta: Any, wire1: int, wire2: int) -> Circuit:
        """RZZ(theta) = exp(-i theta Z Z / 2) on two wires."""
        return self.gate("rzz", theta, wire1, wire2)

    def ccx(self, control1: int, control2: int, target: int) -> Circuit:
        """Toffoli: X on ``target`` when both controls are 1."""
        return self.gate("ccx", control1, control2, target)

    def cswap(self, control: int, target1: int, target2: int) -> Circuit:
        """Fredkin: swap ``target1`` and ``target2`` when ``control`` is 1."""
        return self.gate("cswap", control, target1, target2)


# --- argument shapes: one wording for every executor and converter -----------------
def check_input_shape(circuit: Circuit, shape: Sequence[int]) -> bool:
    """Raise unless ``shape`` is ``(batch, num_inputs)`` or ``(num_inputs,)``; return whether it is one row."""
    shape = tuple(shape)
    if len(shape) == 1 and shape[0] == circuit.num_inputs:
        return True
    if len(shape) != 2 or shape[1] != circuit.num_inputs:
        raise ValueError(
            f"x must have shape (batch, {circuit.num_inputs}) or ({circuit.num_inputs},) for this circuit, got {shape}"
        )
    return False


def check_weight_shape(circuit: Circuit, shape: Sequence[int]) -> None:
    """Raise unless ``shape`` is ``(num_weights,)``."""
    if tuple(shape) != (circuit.num_weights,):
        raise ValueError(f"weights must have shape ({circuit.num_weights},) for this circuit, got {tuple(shape)}")


def missing_inputs_error(circuit: Circuit) -> ValueError:
    """The error for a missing ``x`` when the circuit declares inputs."""
    return ValueError(f"the circuit declares {circuit.num_inputs} inputs: pass x of shape (batch, {circuit.num_inputs})")


def missing_weights_error(circuit: Circuit) -> ValueError:
    """The error for missing ``weights`` when the circuit declares weights."""
    return ValueError(f"the circuit declares {circuit.num_weights} weights: pass weights of shape ({circuit.num_weights},)")


def expand_ops(ops: Sequence[Op], native: Any) -> list[Op]:
    """``ops`` with every gate for which ``native(GateDef)`` is false replaced by its decomposition (recursively).

    Converters pass what their target has, for example ``lambda g: bool(g.qiskit_name)``.
    User unitaries stay as they are.
    """
    out: list[Op] = []
    for op in ops:
        if op.name == "unitary" or native(GATES[op.name]):
            out.append(op)
        else:
            out.extend(expand_ops(op.decomposed(), native))
    return out


def substitute(expr: Expr, mapping: dict[Symbol, Expr]) -> Expr:
    """Replace symbols in ``expr`` according to ``mapping``."""
    if isinstance(expr, Symbol):
        return mapping.get(expr, expr)
    if isinstance(expr, Const):
        return expr
    fields = {name: getattr(expr, name) for name in expr.__dataclass_fields__}
    return type(expr)(**{k: substitute(v, mapping) if isinstance(v, Expr) else v for k, v in fields.items()})


def _count(n: Any, what: str) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {n!r}")
    return int(n)


def _wires(wires: Sequence[Any], num_wires: int) -> tuple[int, ...]:
    out = []
    for w in wires:
        if not isinstance(w, (int, np.integer)) or isinstance(w, bool):
            raise TypeError(f"wires must be integers, got {w!r} ({type(w).__name__})")
        if not 0 <= w < num_wires:
            raise ValueError(f"wire {w} is out of range for a circuit of {num_wires} wires (valid: 0..{num_wires - 1})")
        out.append(int(w))
    if len(set(out)) != len(out):
        raise ValueError(f"wires {tuple(out)} repeat a wire; a gate acts on distinct wires")
    return tuple(out)
