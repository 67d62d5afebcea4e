"""Direct conversion between qmlsim circuits and PennyLane operations, tapes and quantum functions.

PennyLane shares qmlsim's conventions (wire 0 most significant, ``exp(-i theta P / 2)``
rotations, ``Rot``, ``U3``), so gates map one to one by :attr:`GateDef.pennylane_name`,
user matrices go across unchanged as ``QubitUnitary``, and states need no reordering.
PennyLane's ``GlobalPhase`` is dropped at top level and kept as a phase gate on the
controls when it is controlled.

Going to PennyLane, symbolic angles are evaluated: inputs and weights become numbers
(or arrays of any PennyLane interface, so gradients flow), and a 2-D ``x`` becomes
PennyLane parameter broadcasting. Coming from PennyLane, every numeric gate parameter
becomes one symbol, in tape order, and its current value is returned alongside.

>>> import numpy as np
>>> from qmlsim.circuits import Circuit, Z
>>> c = Circuit(2); x = c.inputs(1); _ = c.h(0).crx(2 * x[0], 0, 1)
>>> tape = to_tape(c, Z(1), x=np.array([[0.1], [0.2]]))
>>> [op.name for op in tape.operations], tape.batch_size
(['Hadamard', 'CRX'], 2)
>>> back, values = from_pennylane(tape, parameters="inputs")
>>> [op.name for op in back.ops], values.shape
(['h', 'crx'], (2, 1))
"""
from __future__ import annotations

import math
from typing import Any, Hashable, Sequence

import numpy as np

from qmlsim.circuits.circuit import (
    Circuit,
    Op,
    check_input_shape,
    check_weight_shape,
    expand_ops,
    missing_inputs_error,
    missing_weights_error,
)
from qmlsim.circuits.convert import require
from qmlsim.circuits.expressions import Const, Expr, Symbol, compile_expressions
from qmlsim.circuits.gates import GATES
from qmlsim.circuits.observables import Hermitian, Observable, PauliTerm

__all__ = [
    "to_pennylane",
    "to_tape",
    "from_pennylane",
    "tape_to_circuit",
    "to_pennylane_observable",
    "from_pennylane_observable",
    "to_pennylane_qsvt",
    "to_pennylane_gqsp",
    "PENNYLANE_GATES",
    "pennylane_gate_set",
]

qml = require("pennylane", "pennylane")

# PennyLane operation name -> qmlsim gate name ("U3" is both u and u3: read it as u3).
PENNYLANE_GATES: dict[str, str] = {g.pennylane_name: name for name, g in GATES.items() if g.pennylane_name and name != "u"}
_ADJOINT_PREFIX = "Adjoint("


class _MathNamespace:
    """The functions an angle expression calls, dispatched by PennyLane's ``qml.math`` (any interface)."""

    sin = staticmethod(qml.math.sin)
    cos = staticmethod(qml.math.cos)
    exp = staticmethod(qml.math.exp)
    sqrt = staticmethod(qml.math.sqrt)
    arccos = staticmethod(qml.math.arccos)
    log = staticmethod(qml.math.log)


_XP = _MathNamespace()


# --- qmlsim -> PennyLane -----------------------------------------------------------
def to_pennylane(circuit: Circuit, x: Any = None, weights: Any = None, wire_labels: Sequence[Hashable] | None = None) -> list:
    """PennyLane operations applying ``circuit`` with its inputs and weights bound.

    Args:
        circuit: the circuit.
        x: one input row ``(num_inputs,)``, or ``(batch, num_inputs)`` for PennyLane
            parameter broadcasting; ``None`` when the circuit has no inputs. Arrays of
            any PennyLane interface (autograd, JAX, Torch) keep their gradients.
        weights: ``(num_weights,)`` or ``None``.
        wire_labels: PennyLane wire label of each qmlsim wire (default: ``0..n-1``).

    Returns:
        A list of PennyLane operators (call inside a QNode, or put on a tape).

    Example:
        >>> from qmlsim.circuits import Circuit
        >>> c = Circuit(2); w = c.weights(1); _ = c.ry(w[0], 0).cx(0, 1).sdg(1)
        >>> [op.name for op in to_pennylane(c, weights=[0.3])]
        ['RY', 'CNOT', 'Adjoint(S)']
    """
    if not isinstance(circuit, Circuit):
        raise TypeError(f"to_pennylane expects a qmlsim Circuit, got {type(circuit).__name__}")
    labels = list(range(circuit.num_wires)) if wire_labels is None else list(wire_labels)
    if len(labels) != circuit.num_wires:
        raise ValueError(f"wire_labels has {len(labels)} labels for a circuit of {circuit.num_wires} wires")
    x_rows, single = _input_rows(circuit, x)
    w = _weights(circuit, weights)
    circuit_ops = pennylane_gate_set(circuit).ops
    exprs = [p for op in circuit_ops for p in op.params]
    values = compile_expressions(exprs)(x_rows, w, _XP) if exprs else []
    ops, k = [], 0
    for op in circuit_ops:
        angles = []
        for p in op.params:
            value = values[k]
            k += 1
            if single and p.depends_on_inputs:
                value = value[0]
            angles.append(value)
        ops.append(_pennylane_op(op, angles, labels))
    return ops


def pennylane_gate_set(circuit: Circuit) -> Circuit:
    """``circuit`` with the gates PennyLane lacks (GQSP's rotation) replaced by their exact
    decompositions: the circuit whose angles are, in order, the parameters of the tape
    :func:`to_pennylane` writes (gradients through a tape are taken with respect to them).

    Example:
        >>> from qmlsim.circuits import Circuit
        >>> c = Circuit(1); w = c.weights(3); _ = c.gqsp(w[0], w[1], w[2], 0)
        >>> [op.name for op in pennylane_gate_set(c).ops]
        ['x', 'u3', 'x', 'z']
    """
    ops = expand_ops(circuit.ops, lambda gate: bool(gate.pennylane_name))
    if len(ops) == len(circuit.ops):
        return circuit
    out = Circuit(circuit.num_wires)
    out.num_inputs, out.num_weights = circuit.num_inputs, circuit.num_weights
    for op in ops:
        out.append(op)
    return out


def _input_rows(circuit: Circuit, x: Any) -> tuple[Any, bool]:
    # shapes only: the values stay arrays of their interface (autograd, JAX, Torch) to keep gradients
    if x is None:
        if circuit.num_inputs:
            raise missing_inputs_error(circuit)
        return np.zeros((1, 0)), True
    shape = qml.math.shape(x)
    single = check_input_shape(circuit, shape)
    return (qml.math.reshape(x, (1, shape[0])) if single else x), single


def _weights(circuit: Circuit, weights: Any) -> Any:
    if weights is None:
        if circuit.num_weights:
            raise missing_weights_error(circuit)
        return np.zeros(0)
    check_weight_shape(circuit, qml.math.shape(weights))
    return weights


def _pennylane_op(op: Op, angles: list, labels: list) -> Any:
    wires = [labels[w] for w in op.wires]
    if op.name == "unitary":
        out = qml.QubitUnitary(op.matrix, wires=wires)
    else:
        name = GATES[op.name].pennylane_name
        if name.startswith(_ADJOINT_PREFIX):
            out = qml.adjoint(getattr(qml, name[len(_ADJOINT_PREFIX) : -1])(wires=wires))
        else:
            out = getattr(qml, name)(*angles, wires=wires)
    if op.adjoint:
        out = qml.adjoint(out)
    if op.controls:
        out = qml.ctrl(out, control=[labels[c] for c in op.controls])
    return out


def to_pennylane_observable(observable: Observable, wire_labels: Sequence[Hashable] | None = None) -> Any:
    """A qmlsim observable as a PennyLane operator (a Pauli word, ``Hermitian``, or a linear combination).

    Example:
        >>> from qmlsim.circuits import X, Z
        >>> to_pennylane_observable(0.5 * Z(0) @ X(1))
        0.5 * (Z(0) @ X(1))
    """
    if not isinstance(observable, Observable):
        raise TypeError(f"expected a qmlsim Observable, got {type(observable).__name__}")

    def label(w: int) -> Hashable:
        return w if wire_labels is None else wire_labels[w]

    paulis = {"X": qml.PauliX, "Y": qml.PauliY, "Z": qml.PauliZ}
    terms = []
    for term in observable.terms:
        if isinstance(term, PauliTerm):
            factors = [paulis[p](label(w)) for w, p in term.word]
            op = qml.Identity(label(0)) if not factors else factors[0] if len(factors) == 1 else qml.prod(*factors)
        else:
            op = qml.Hermitian(term.matrix, wires=[label(w) for w in term.wires])
        terms.append(op if term.coeff == 1.0 else qml.s_prod(term.coeff, op))
    if not terms:
        return qml.s_prod(0.0, qml.Identity(label(0)))
    return terms[0] if len(terms) == 1 else qml.sum(*terms)


def to_tape(
    circuit: Circuit,
    observables: Observable | Sequence[Observable] | None = None,
    x: Any = None,
    weights: Any = None,
    shots: Any = None,
) -> Any:
    """A PennyLane ``QuantumScript`` running ``circuit`` and measuring expectation values.

    Args:
        circuit: the circuit.
        observables: one observable or a list (``expval`` of each); ``None`` measures
            ``qml.state()``.
        x: ``(batch, num_inputs)`` (parameter broadcasting), ``(num_inputs,)`` or ``None``.
        weights: ``(num_weights,)`` or ``None``.
        shots: PennyLane shots (``None`` for exact results).

    Returns:
        ``qml.tape.QuantumScript`` on wires ``0..n-1``.

    Example:
        >>> from qmlsim.circuits import Circuit, Z
        >>> import pennylane as qml
        >>> c = Circuit(1); _ = c.x(0)
        >>> float(qml.device("default.qubit").execute(to_tape(c, Z(0))))
        -1.0
    """
    ops = to_pennylane(circuit, x, weights)
    if observables is None:
        measurements = [qml.state()]
    else:
        obs_list = list(observables) if isinstance(observables, (list, tuple)) else [observables]
        measurements = [qml.expval(to_pennylane_observable(o)) for o in obs_list]
    return qml.tape.QuantumScript(ops, measurements, shots=shots)


# --- PennyLane -> qmlsim -----------------------------------------------------------
def from_pennylane(
    tape_or_qfunc: Any,
    *args: Any,
    parameters: str = "weights",
    wire_order: Sequence[Hashable] | None = None,
    **kwargs: Any,
) -> tuple[Circuit, np.ndarray]:
    """Convert a PennyLane tape or quantum function into a qmlsim circuit and its parameter values.

    Every numeric gate parameter becomes one symbol, in tape order; matrices of
    ``QubitUnitary`` stay constant. Operations outside qmlsim's gate set are replaced
    by their PennyLane decomposition, or by their matrix when they have none.
    Measurements are ignored (convert them with :func:`from_pennylane_observable`).

    Args:
        tape_or_qfunc: a ``QuantumScript``/``QuantumTape``, or a quantum function called
            with ``*args, **kwargs`` to record one.
        parameters: ``"weights"`` (default): parameters become weights ``w[k]`` and the
            values have shape ``(num_weights,)``; ``"inputs"``: they become inputs
            ``x[k]`` and the values have shape ``(batch, num_inputs)``, ``batch`` being
            the tape's broadcasting size (1 without broadcasting).
        wire_order: PennyLane wire labels in qmlsim wire order (default: ``0..max`` for
            integer labels, else the tape's wires).

    Returns:
        ``(circuit, values)`` with ``values`` a float array as described above.

    Raises:
        ValueError: for broadcast tapes with ``parameters="weights"``, wires missing
            from ``wire_order``, or operations that cannot be converted.

    Example:
        >>> import pennylane as qml
        >>> def qfunc(a):
        ...     qml.RX(a, wires=0)
        ...     qml.CNOT(wires=[0, 1])
        >>> c, w = from_pennylane(qfunc, 0.4)
        >>> [op.name for op in c.ops], w.tolist()
        (['rx', 'cx'], [0.4])
    """
    if parameters not in ("inputs", "weights"):
        raise ValueError(f"parameters must be 'inputs' or 'weights', got {parameters!r}")
    if isinstance(tape_or_qfunc, qml.tape.QuantumScript):
        tape = tape_or_qfunc
    elif callable(tape_or_qfunc):
        tape = qml.tape.make_qscript(tape_or_qfunc)(*args, **kwargs)
    else:
        raise TypeError(f"from_pennylane expects a QuantumScript or a quantum function, got {type(tape_or_qfunc).__name__}")
    if wire_order is None:
        labels = list(tape.wires)
        if labels and all(isinstance(w, (int, np.integer)) and w >= 0 for w in labels):
            labels = list(range(max(labels) + 1))
        wire_order = labels or [0]
    circuit, columns, _ = tape_to_circuit(tape.operations, wire_order, kind="x" if parameters == "inputs" else "w")
    batch = tape.batch_size
    if parameters == "weights":
        if batch is not None:
            raise ValueError("this tape broadcasts its parameters: convert it with parameters='inputs' to get one input row per batch entry")
        return circuit, np.array([float(np.real(c)) for c in columns], dtype=float)
    rows = batch or 1
    values = np.zeros((rows, len(columns)))
    for k, column in enumerate(columns):
        values[:, k] = np.real(np.asarray(column, dtype=complex))
    return circuit, values


def tape_to_circuit(
    operations: Sequence[Any], wire_order: Sequence[Hashable], kind: str = "x"
) -> tuple[Circuit, list[Any], list[int | None]]:
    """Convert PennyLane operations into a circuit whose every numeric parameter is a symbol.

    Used by the PennyLane device and executor: circuits of tapes that differ only in
    parameter values are equal (same ``key``), so they compile once and run as one batch.

    Args:
        operations: the tape's operations.
        wire_order: PennyLane labels in qmlsim wire order.
        kind: ``"x"`` (symbols are inputs) or ``"w"`` (weights).

    Returns:
        ``(circuit, values, symbol_of_parameter)``: ``values[k]`` is the numeric value
        (scalar, or ``(batch,)`` when broadcast) of symbol ``k``;
        ``symbol_of_parameter[j]`` is the symbol index of the ``j``-th parameter of the
        operations in tape order (``None`` for matrices, which stay constant).

    Example:
        >>> ops = [qml.RX(0.1, "a"), qml.QubitUnitary(np.eye(2), "b"), qml.CRY(0.2, ["b", "a"])]
        >>> c, values, symbols = tape_to_circuit(ops, ["a", "b"])
        >>> [op.name for op in c.ops], values, symbols
        (['rx', 'unitary', 'cry'], [0.1, 0.2], [0, None, 1])
    """
    wire_map = {label: i for i, label in enumerate(wire_order)}
    builder = _FromPennyLane(len(wire_order), wire_map, kind)
    for op in operations:
        builder.operation(op, (), tape_params=True)
    circuit = Circuit(len(wire_order))
    if kind == "x":
        circuit.inputs(len(builder.values))
    else:
        circuit.weights(len(builder.values))
    for op in builder.ops:
        circuit.append(op)
    return circuit, builder.values, builder.param_symbols


class _FromPennyLane:
    """Walks PennyLane operators and collects qmlsim ops (final)."""

    def __init__(self, num_wires: int, wire_map: dict, kind: str):
        self.num_wires = num_wires
        self.wire_map = wire_map
        self.kind = kind
        self.ops: list[Op] = []
        self.values: list[Any] = []
        self.param_symbols: list[int | None] = []

    def wires(self, labels: Any) -> tuple[int, ...]:
        try:
            return tuple(self.wire_map[w] for w in labels)
        except KeyError as error:
            raise ValueError(
                f"operation wire {error.args[0]!r} is not in the wire order {list(self.wire_map)}; pass wire_order with every wire"
            ) from None

    def symbol(self, value: Any, tape_params: bool) -> Expr:
        """A new symbol for a numeric parameter (constants when inside a decomposition)."""
        value = qml.math.unwrap(value) if not isinstance(value, (int, float)) else value
        if not tape_params:
            array = np.asarray(value)
            if array.ndim == 0:
                return Const(float(np.real(array)))
        index = len(self.values)
        self.values.append(value)
        if tape_params:
            self.param_symbols.append(index)
        return Symbol(self.kind, index)

    def skip_params(self, op: Any, tape_params: bool) -> None:
        if tape_params:
            self.param_symbols.extend([None] * len(op.data))

    def emit(self, name: str, wires: tuple[int, ...], params: tuple[Expr, ...], controls: tuple[int, ...], adjoint: bool) -> None:
        self.ops.append(Op(name, wires, params, controls=controls, adjoint=adjoint))

    def operation(self, op: Any, controls: tuple[int, ...], tape_params: bool, adjoint: bool = False) -> None:
        name = PENNYLANE_GATES.get(op.name)
        if name is not None and len(op.data) == GATES[name].num_params:
            params = tuple(self.symbol(v, tape_params) for v in op.data)
            self.emit(name, self.wires(op.wires), params, controls, adjoint)
            return
        if op.name == "QubitUnitary":
            matrix = np.asarray(qml.math.unwrap(op.data[0]), dtype=complex)
            if matrix.ndim != 2:
                raise ValueError("a broadcast QubitUnitary cannot be converted; split the batch into separate tapes")
            self.skip_params(op, tape_params)
            self.ops.append(Op("unitary", self.wires(op.wires), (), controls=controls, adjoint=adjoint, matrix=matrix))
            return
        if op.name == "GlobalPhase":
            # GlobalPhase(phi) = exp(-i phi): a phase only relative to the controls.
            (phi,) = op.data
            angle = self.symbol(phi, tape_params)
            if controls:
                sign = 1.0 if adjoint else -1.0
                self.emit("p", (controls[-1],), (sign * angle,), controls[:-1], False)
            return
        if isinstance(op, qml.ops.Adjoint):
            self.operation(op.base, controls, tape_params, not adjoint)
            return
        if isinstance(op, qml.ops.Controlled):
            ctrl = self.wires(op.control_wires)
            flips = [c for c, v in zip(ctrl, op.control_values) if not v]
            for c in flips:
                self.emit("x", (c,), (), controls, False)
            self.operation(op.base, controls + ctrl, tape_params, adjoint)
            for c in flips:
                self.emit("x", (c,), (), controls, False)
            return
        if op.name == "U2":
            phi, delta = (self.symbol(v, tape_params) for v in op.data)
            self.emit("u", self.wires(op.wires), (Const(math.pi / 2), phi, delta), controls, adjoint)
            return
        if op.has_decomposition:
            # parameters of a decomposition are functions of the tape's: freeze them as constants
            self.skip_params(op, tape_params)
            decomposition = op.decomposition()
            if adjoint:
                decomposition = [qml.adjoint(d) for d in reversed(decomposition)]
            for inner in decomposition:
                self.operation(inner, controls, tape_params=False)
            return
        if op.has_matrix and op.batch_size is None:
            self.skip_params(op, tape_params)
            matrix = np.asarray(qml.math.unwrap(op.matrix()), dtype=complex)
            self.ops.append(Op("unitary", self.wires(op.wires), (), controls=controls, adjoint=adjoint, matrix=matrix))
            return
        raise ValueError(f"PennyLane operation {op.name} has no decomposition or matrix and cannot be converted to qmlsim")


def from_pennylane_observable(observable: Any, wire_order: Sequence[Hashable] | None = None) -> Observable:
    """A PennyLane observable as a qmlsim :class:`Observable` (Pauli sums exactly, anything else as a Hermitian matrix).

    Args:
        observable: a PennyLane operator (``qml.Z(0) @ qml.X(1)``, ``qml.Hamiltonian``, ``qml.Hermitian``...).
        wire_order: PennyLane labels in qmlsim wire order (default: integer labels as they are).

    Raises:
        ValueError: for non-Hermitian observables or wires missing from ``wire_order``.

    Example:
        >>> import pennylane as qml
        >>> from_pennylane_observable(0.5 * qml.Z(0) @ qml.X(1))
        0.5 * Z(0) @ X(1)
    """
    wire_map = None if wire_order is None else {label: i for i, label in enumerate(wire_order)}

    def index(label: Hashable) -> int:
        if wire_map is None:
            if not isinstance(label, (int, np.integer)):
                raise ValueError(f"observable wire {label!r} is not an integer: pass wire_order")
            return int(label)
        if label not in wire_map:
            raise ValueError(f"observable wire {label!r} is not in the wire order {list(wire_map)}")
        return wire_map[label]

    rep = observable.pauli_rep
    if rep is not None:
        terms = []
        for word, coeff in rep.items():
            coeff = complex(qml.math.unwrap(coeff))
            if abs(coeff.imag) > 1e-10:
                raise ValueError(f"observable {observable} has a complex coefficient {coeff}; observables must be Hermitian")
            terms.append(PauliTerm(coeff.real, tuple(sorted((index(w), p) for w, p in word.items()))))
        return Observable(terms)
    if isinstance(observable, qml.ops.Sum):
        out = Observable([])
        for term in observable.operands:
            out = out + from_pennylane_observable(term, wire_order)
        return out
    if isinstance(observable, qml.ops.SProd) and np.ndim(qml.math.unwrap(observable.scalar)) == 0:
        return float(np.real(qml.math.unwrap(observable.scalar))) * from_pennylane_observable(observable.base, wire_order)
    labels = list(observable.wires)
    matrix = np.asarray(qml.math.unwrap(qml.matrix(observable, wire_order=labels)), dtype=complex)
    if not labels:
        return Observable([PauliTerm(float(np.real(matrix.reshape(-1)[0])), ())])
    return Hermitian(matrix, [index(w) for w in labels])


# --- QSP templates -----------------------------------------------------------------------------
def to_pennylane_qsvt(matrix: Any, phases: Sequence[float], wires: Sequence[Hashable]) -> Any:
    """``qml.QSVT(qml.BlockEncode(matrix), PCPhase projectors)`` for Wx phases of :func:`qmlsim.circuits.qsp.angles`.

    The phases are converted to PennyLane's convention (``qsp.convert_phases(..., "pennylane-qsvt")``),
    so ``Re`` of the operator's top-left block is ``P(matrix)``. PennyLane's ``BlockEncode``
    divides ``matrix`` by ``max(||A A^+||_inf, ||A^+ A||_inf)`` whenever that exceeds 1, even
    when the spectral norm does not; this function refuses such a matrix instead of letting
    the block silently become ``P(A / norm)``.

    Args:
        matrix: ``(2^n, 2^n)`` with ``||A||_2 <= 1``.
        phases: Wx phases (``d + 1``).
        wires: ``n + 1`` PennyLane wires (the first is the block encoding's ancilla).

    Example:
        >>> import numpy as np
        >>> from qmlsim.circuits import qsp
        >>> p = qsp.sign_polynomial(11, 3)
        >>> op = to_pennylane_qsvt(np.diag([0.5, -0.2]), qsp.angles(p), wires=[0, 1])
        >>> block = qml.matrix(op, wire_order=[0, 1])[:2, :2]
        >>> bool(np.allclose(block.real.diagonal(), p(np.array([0.5, -0.2])), atol=1e-12))
        True
    """
    from qmlsim.circuits.qsp import convert_phases  # noqa: PLC0415

    a = np.asarray(matrix)
    op = qml.BlockEncode(a, wires=list(wires))
    norm = op.hyperparameters.get("norm", 1.0)
    if norm > 1:
        raise ValueError(
            f"qml.BlockEncode would divide this matrix by {norm:.6g} (its max(||AA^+||_inf, ||A^+A||_inf)), so the "
            f"QSVT block would be P(A / {norm:.6g}); divide the matrix by {norm:.6g} first and evaluate P there"
        )
    dim = a.shape[0]
    projectors = [qml.PCPhase(phi, dim=dim, wires=list(wires)) for phi in convert_phases(phases, "Wx", "pennylane-qsvt")]
    return qml.QSVT(op, projectors)


def to_pennylane_gqsp(unitary: Any, angles: Any, control: Hashable) -> Any:
    """``qml.GQSP(unitary, angles, control)`` for angles of :func:`qmlsim.circuits.qsp.gqsp_angles` (same layout).

    ``unitary`` is a PennyLane operator, or a qmlsim :class:`Circuit` without inputs or weights
    (converted with :func:`to_pennylane` onto wires ``1 .. n`` when ``control`` is 0).
    """
    if isinstance(unitary, Circuit):
        ops = to_pennylane(unitary, wire_labels=[w + 1 for w in range(unitary.num_wires)])
        unitary = qml.prod(*ops[::-1]) if len(ops) > 1 else ops[0]
    return qml.GQSP(unitary, np.asarray(angles, dtype=float), control=control)
