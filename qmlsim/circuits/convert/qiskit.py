"""Direct conversion between qmlsim circuits and Qiskit ``QuantumCircuit`` objects.

Wire ``i`` becomes qubit ``i`` and back. Gate semantics per argument order are the same
in both libraries (``cx(control, target)``, ...), so named gates map one to one; what
differs is the integer indexing of basis states (Qiskit is little-endian). That shows in
exactly two places: user matrices (``UnitaryGate`` reads its first qubit as the least
significant, so qmlsim's wires are passed reversed) and arrays, which
:func:`qmlsim.circuits.convert.reverse_bit_order` converts.

Symbolic angles become Qiskit parameters: inputs ``x[i]`` are the elements of
``ParameterVector("x", num_inputs)``, weights ``w[j]`` of ``ParameterVector("w",
num_weights)``, and expressions become ``ParameterExpression`` objects.

Conversion rules of :func:`from_qiskit`:

- gates of qmlsim's set map by name (``u1`` as ``p``, ``cu1`` as ``cp``);
- controlled gates whose base gate is known become that gate with extra controls
  (open controls are conjugated by X);
- any other gate is replaced by its Qiskit definition, recursively, or, when it has
  none and no free parameters, by its matrix as a ``unitary`` op;
- ``measure``, ``barrier`` and ``delay`` are dropped: a qmlsim circuit is the unitary
  part; what is measured is asked of the executor. A gate after a measurement on the
  same qubit, ``reset`` and classically conditioned operations raise ``ValueError``;
- the global phase is dropped at top level (it is unobservable) and kept, as a phase
  gate on the controls, inside the definition of a gate that is controlled.

>>> import numpy as np
>>> from qmlsim.circuits import Circuit
>>> c = Circuit(2); x = c.inputs(1); _ = c.h(0).crx(2 * x[0], 0, 1)
>>> qc = to_qiskit(c)
>>> [i.operation.name for i in qc.data]
['h', 'crx']
>>> back = from_qiskit(qc)
>>> [op.name for op in back.ops], back.num_inputs
(['h', 'crx'], 1)
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from qmlsim.circuits.circuit import Circuit, Op, expand_ops
from qmlsim.circuits.convert import require
from qmlsim.circuits.convert.bitorder import reverse_bit_order
from qmlsim.circuits.expressions import Add, Const, Div, Expr, Func, Mul, Neg, Pow, Symbol, as_expr
from qmlsim.circuits.gates import GATES
from qmlsim.circuits.observables import HermitianTerm, Observable

__all__ = ["to_qiskit", "from_qiskit", "qiskit_parameters", "parameter_values", "to_qiskit_observable"]

require("qiskit", "qiskit")
from qiskit.circuit import (  # noqa: E402 - after the friendly import check
    ControlledGate,
    Gate,
    ParameterExpression,
    ParameterVector,
    ParameterVectorElement,
    QuantumCircuit,
)
from qiskit.circuit.library import UnitaryGate, get_standard_gate_name_mapping  # noqa: E402

_STANDARD = get_standard_gate_name_mapping()

# qmlsim name -> Qiskit gate class
_TO_QISKIT_CLASS = {name: type(_STANDARD[g.qiskit_name]) for name, g in GATES.items() if g.qiskit_name}
# Qiskit name -> qmlsim name
_FROM_QISKIT_NAME = {g.qiskit_name: name for name, g in GATES.items() if g.qiskit_name}
_FROM_QISKIT_NAME.update({"u1": "p", "cu1": "cp", "cnot": "cx", "toffoli": "ccx", "fredkin": "cswap"})

# Instructions without effect on the unitary part of a circuit.
_DROPPED = frozenset({"measure", "barrier", "delay"})

INPUTS_NAME = "x"
WEIGHTS_NAME = "w"


# --- qmlsim -> Qiskit ---------------------------------------------------------------
def to_qiskit(circuit: Circuit) -> QuantumCircuit:
    """Convert a qmlsim circuit into a Qiskit ``QuantumCircuit`` with the same unitary.

    Args:
        circuit: the circuit; its inputs become ``ParameterVector("x", num_inputs)``
            and its weights ``ParameterVector("w", num_weights)``.

    Returns:
        A ``QuantumCircuit`` on ``circuit.num_wires`` qubits (qubit ``i`` = wire ``i``),
        without measurements. Its ``Statevector`` equals qmlsim's state after
        :func:`~qmlsim.circuits.convert.reverse_bit_order`; its ``Operator`` equals
        qmlsim's unitary after reversing both axes. The unitary is exact, global phase
        included.

    Raises:
        TypeError: if ``circuit`` is not a qmlsim ``Circuit``.

    Example:
        >>> from qmlsim.circuits import Circuit
        >>> c = Circuit(2); w = c.weights(1); _ = c.rot(w[0], 0.1, 0.2, 1)
        >>> [i.operation.name for i in to_qiskit(c).data]
        ['rz', 'ry', 'rz']
    """
    if not isinstance(circuit, Circuit):
        raise TypeError(f"to_qiskit expects a qmlsim Circuit, got {type(circuit).__name__}")
    inputs = ParameterVector(INPUTS_NAME, circuit.num_inputs)
    weights = ParameterVector(WEIGHTS_NAME, circuit.num_weights)
    qc = QuantumCircuit(circuit.num_wires)
    # gates Qiskit lacks (Rot, GQSP) go as their exact decomposition, controlled or inverted as a whole
    for op in expand_ops(circuit.ops, lambda gate: bool(gate.qiskit_name)):
        for gate, qargs in _qiskit_gates(op, inputs, weights):
            qc.append(gate, qargs)
    return qc


def _qiskit_gates(op: Op, inputs: Any, weights: Any) -> list[tuple[Gate, list[int]]]:
    params = [to_parameter_expression(p, inputs, weights) for p in op.params]
    if op.name == "unitary":
        # UnitaryGate's first qubit is its least significant bit: pass the wires reversed.
        gate: Gate = UnitaryGate(op.matrix, check_input=False)
        qargs = list(reversed(op.wires))
    else:
        gate = _TO_QISKIT_CLASS[op.name](*params)
        qargs = list(op.wires)
    if op.adjoint:
        gate = gate.inverse()
    if op.controls:
        gate = gate.control(len(op.controls))
    return [(gate, list(op.controls) + qargs)]


def to_parameter_expression(expr: Expr, inputs: Sequence[Any], weights: Sequence[Any]) -> Any:
    """An angle expression as a float or Qiskit ``ParameterExpression`` over ``inputs`` and ``weights``.

    Example:
        >>> from qmlsim.circuits import Symbol, sin
        >>> x = ParameterVector("x", 1)
        >>> str(to_parameter_expression(2 * sin(Symbol("x", 0)), x, []))
        '2*sin(x[0])'
    """
    if isinstance(expr, Const):
        return float(expr.value)
    if isinstance(expr, Symbol):
        return inputs[expr.index] if expr.kind == "x" else weights[expr.index]
    if isinstance(expr, Neg):
        return -to_parameter_expression(expr.a, inputs, weights)
    if isinstance(expr, Func):
        a = to_parameter_expression(expr.a, inputs, weights)
        if not isinstance(a, ParameterExpression):
            return float(getattr(np, expr.name)(a))
        if expr.name == "sqrt":
            return a**0.5
        return getattr(a, expr.name)()
    a = to_parameter_expression(expr.a, inputs, weights)
    b = to_parameter_expression(expr.b, inputs, weights)
    if isinstance(expr, Add):
        return a + b
    if isinstance(expr, Mul):
        return a * b
    if isinstance(expr, Div):
        return a / b
    if isinstance(expr, Pow):
        return a**b
    raise TypeError(f"cannot convert expression node {type(expr).__name__} to Qiskit")  # pragma: no cover


def qiskit_parameters(qc: QuantumCircuit) -> tuple[list[Any], list[Any]]:
    """The Qiskit parameters of the inputs and of the weights of a circuit made by :func:`to_qiskit`.

    Args:
        qc: a circuit from :func:`to_qiskit` (possibly transpiled).

    Returns:
        ``(inputs, weights)``: the full vectors ``x[0..]`` and ``w[0..]`` as lists of
        Qiskit parameters (empty when the circuit uses none of a vector).

    Example:
        >>> from qmlsim.circuits import Circuit
        >>> c = Circuit(1); x = c.inputs(2); _ = c.rx(x[1], 0)
        >>> [len(v) for v in qiskit_parameters(to_qiskit(c))]
        [2, 0]
    """
    vectors: dict[str, list[Any]] = {}
    for p in qc.parameters:
        if isinstance(p, ParameterVectorElement) and p.vector.name in (INPUTS_NAME, WEIGHTS_NAME):
            vectors[p.vector.name] = list(p.vector.params)
    return vectors.get(INPUTS_NAME, []), vectors.get(WEIGHTS_NAME, [])


def parameter_values(qc: QuantumCircuit, x: Any = None, weights: Any = None) -> np.ndarray:
    """Parameter values of ``qc`` in ``qc.parameters`` order, one row per input row (for Qiskit PUBs).

    Args:
        qc: a circuit from :func:`to_qiskit` (possibly transpiled).
        x: inputs ``(batch, num_inputs)`` or ``(num_inputs,)`` or ``None``.
        weights: ``(num_weights,)`` or ``None``.

    Returns:
        float array ``(batch, qc.num_parameters)``; ``batch`` is 1 for 1-D or absent ``x``.

    Raises:
        ValueError: if ``qc`` has a parameter that is not an input or weight, or a
            needed value is missing.

    Example:
        >>> import numpy as np
        >>> from qmlsim.circuits import Circuit
        >>> c = Circuit(1); x = c.inputs(1); w = c.weights(1); _ = c.rx(x[0], 0).ry(w[0], 0)
        >>> parameter_values(to_qiskit(c), np.array([[0.1], [0.2]]), np.array([0.5])).tolist()
        [[0.5, 0.1], [0.5, 0.2]]
    """
    x_rows = np.zeros((1, 0)) if x is None else np.atleast_2d(np.asarray(x, dtype=float))
    w = np.zeros(0) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    columns = []
    for p in qc.parameters:
        if not (isinstance(p, ParameterVectorElement) and p.vector.name in (INPUTS_NAME, WEIGHTS_NAME)):
            raise ValueError(
                f"parameter {p.name!r} is neither an input x[i] nor a weight w[j]; bind it with "
                "qc.assign_parameters before running"
            )
        if p.vector.name == INPUTS_NAME:
            if p.index >= x_rows.shape[1]:
                raise ValueError(f"the circuit uses input x[{p.index}] but x has {x_rows.shape[1]} columns")
            columns.append(x_rows[:, p.index])
        else:
            if p.index >= w.shape[0]:
                raise ValueError(f"the circuit uses weight w[{p.index}] but {w.shape[0]} weights were given")
            columns.append(np.full(x_rows.shape[0], w[p.index]))
    if not columns:
        return np.zeros((x_rows.shape[0], 0))
    return np.stack(columns, axis=1)


def to_qiskit_observable(observable: Observable, num_wires: int) -> Any:
    """A qmlsim observable as a Qiskit ``SparsePauliOp`` on ``num_wires`` qubits (qubit ``i`` = wire ``i``).

    Hermitian-matrix terms are expanded in Pauli words.

    Example:
        >>> from qmlsim.circuits import Z, X
        >>> op = to_qiskit_observable(0.5 * Z(0) @ X(1), 2)
        >>> op.paulis[0].to_label(), complex(op.coeffs[0])
        ('XZ', (0.5+0j))
    """
    from qiskit.quantum_info import Operator, SparsePauliOp  # noqa: PLC0415

    if not isinstance(observable, Observable):
        raise TypeError(f"expected a qmlsim Observable, got {type(observable).__name__}")
    items: list[tuple[str, list[int], complex]] = []
    for term in observable.terms:
        if isinstance(term, HermitianTerm):
            k = len(term.wires)
            # no tolerance: from_operator's default drops Pauli terms below rtol = 1e-5 (found by the
            # differential harness: a dropped 8.9e-6 term moved an expectation value by 1e-6)
            local = SparsePauliOp.from_operator(Operator(reverse_bit_order(term.matrix, k, axes=(-2, -1))), atol=0.0, rtol=0.0)
            for label, coeff in zip(local.paulis.to_labels(), local.coeffs):
                # label[-1 - j] is local qubit j, i.e. wire term.wires[j]
                items.append((label[::-1], list(term.wires), term.coeff * coeff))
        else:
            items.append(("".join(p for _, p in term.word), [w for w, _ in term.word], term.coeff))
    if not items:
        items.append(("", [], 0.0))
    # simplify merges repeated words; atol=0 drops exact zeros only (its default drops |c| < 1e-8)
    return SparsePauliOp.from_sparse_list(items, num_qubits=num_wires).simplify(atol=0.0)


# --- Qiskit -> qmlsim ---------------------------------------------------------------
def from_qiskit(qc: QuantumCircuit, parameters: str = "inputs") -> Circuit:
    """Convert a Qiskit ``QuantumCircuit`` into a qmlsim circuit with the same unitary up to global phase.

    Args:
        qc: the circuit (qubit ``i`` becomes wire ``i``).
        parameters: ``"inputs"`` (default) makes the ``k``-th entry of
            ``qc.parameters`` the input ``x[k]``, so each row of a PUB's parameter
            values is an input row; ``"weights"`` makes it the weight ``w[k]``;
            ``"split"`` restores the inputs and weights of a circuit written by
            :func:`to_qiskit` (its parameter vectors ``x`` and ``w``), so
            ``from_qiskit(to_qiskit(c), parameters="split")`` has ``c``'s inputs and weights.

    Returns:
        The circuit; see the module docstring for how measurements, unknown gates and
        the global phase are handled.

    Raises:
        TypeError: if ``qc`` is not a ``QuantumCircuit``.
        ValueError: for resets, classically conditioned operations, gates after a
            measurement on the same qubit, or an unknown parametrised gate without a
            definition.

    Example:
        >>> from qiskit import QuantumCircuit
        >>> from qiskit.circuit import Parameter
        >>> qc = QuantumCircuit(2); _ = qc.ry(Parameter("a"), 0); _ = qc.cx(0, 1); _ = qc.measure_all()
        >>> c = from_qiskit(qc, parameters="weights")
        >>> [op.name for op in c.ops], c.num_weights
        (['ry', 'cx'], 1)
    """
    if not isinstance(qc, QuantumCircuit):
        raise TypeError(f"from_qiskit expects a qiskit QuantumCircuit, got {type(qc).__name__}")
    if parameters not in ("inputs", "weights", "split"):
        raise ValueError(f"parameters must be 'inputs', 'weights' or 'split', got {parameters!r}")
    out = Circuit(qc.num_qubits)
    params = list(qc.parameters)
    if parameters == "split":
        symbols = _split_symbols(params, out)
    else:
        kind = "x" if parameters == "inputs" else "w"
        if kind == "x":
            out.inputs(len(params))
        else:
            out.weights(len(params))
        symbols = {p.name: Symbol(kind, k) for k, p in enumerate(params)}
    converter = _FromQiskit(out, symbols)
    converter.circuit(qc, list(range(qc.num_qubits)), ())
    return out


def _split_symbols(params: list, out: Circuit) -> dict[str, Symbol]:
    """Symbols for the ``x[i]`` / ``w[j]`` parameter vectors that :func:`to_qiskit` writes; sizes set on ``out``."""
    symbols: dict[str, Symbol] = {}
    sizes = {"x": 0, "w": 0}
    for p in params:
        vector = getattr(p, "vector", None)
        name = None if vector is None else vector.name
        if name not in (INPUTS_NAME, WEIGHTS_NAME):
            raise ValueError(
                f'parameters="split" needs the parameter vectors {INPUTS_NAME!r} and {WEIGHTS_NAME!r} written by '
                f'to_qiskit, but the circuit has parameter {p.name!r}; use parameters="inputs" or "weights"'
            )
        kind = "x" if name == INPUTS_NAME else "w"
        symbols[p.name] = Symbol(kind, p.index)
        sizes[kind] = max(sizes[kind], p.index + 1, len(vector))
    out.inputs(sizes["x"])
    out.weights(sizes["w"])
    return symbols


class _FromQiskit:
    """Walks Qiskit instructions, appending qmlsim ops to ``out`` (final)."""

    def __init__(self, out: Circuit, symbols: dict[str, Symbol]):
        self.out = out
        self.symbols = symbols
        self.measured: set[int] = set()

    def circuit(self, qc: QuantumCircuit, wires: list[int], controls: tuple[int, ...]) -> None:
        if controls:
            self.phase(qc.global_phase, controls)
        for instruction in qc.data:
            operation = instruction.operation
            qargs = [wires[qc.find_bit(q).index] for q in instruction.qubits]
            name = operation.name
            if getattr(operation, "condition", None) is not None or name in ("if_else", "while_loop", "for_loop", "switch_case"):
                raise ValueError(f"classically controlled operation {name!r} cannot be converted: qmlsim circuits are unitary")
            if name == "reset":
                raise ValueError("reset is not unitary and cannot be converted; remove it from the circuit")
            if name in _DROPPED:
                if name == "measure":
                    self.measured.update(qargs)
                continue
            touched = self.measured.intersection(qargs)
            if touched:
                raise ValueError(
                    f"gate {name!r} acts on qubit(s) {sorted(touched)} after they were measured; only terminal "
                    "measurements can be dropped, so move measurements to the end"
                )
            self.operation(operation, qargs, controls)

    def operation(self, operation: Any, qargs: list[int], controls: tuple[int, ...]) -> None:
        name = _FROM_QISKIT_NAME.get(operation.name)
        if name is not None and len(operation.params) == GATES[name].num_params:
            angles = tuple(self.angle(p) for p in operation.params)
            self.out.append(Op(name, tuple(qargs), angles, controls=controls))
            return
        if operation.name in ("u2",):
            phi, lam = (self.angle(p) for p in operation.params)
            self.out.append(Op("u", tuple(qargs), (Const(math.pi / 2), phi, lam), controls=controls))
            return
        if operation.name == "global_phase":
            if controls:
                self.phase(operation.params[0], controls)
            return
        if isinstance(operation, ControlledGate) and len(operation.params) == len(operation.base_gate.params):
            k = operation.num_ctrl_qubits
            ctrl, targets = qargs[:k], qargs[k:]
            open_controls = [c for bit, c in enumerate(ctrl) if not (operation.ctrl_state >> bit) & 1]
            for c in open_controls:
                self.out.append(Op("x", (c,), controls=controls))
            self.operation(operation.base_gate, targets, controls + tuple(ctrl))
            for c in open_controls:
                self.out.append(Op("x", (c,), controls=controls))
            return
        if isinstance(operation, UnitaryGate) or (operation.definition is None and not _is_parametrised(operation)):
            from qiskit.quantum_info import Operator  # noqa: PLC0415

            # Qiskit matrices index qargs little-endian: qmlsim's wires are the qargs reversed.
            matrix = np.asarray(Operator(operation).data, dtype=complex)
            self.out.append(Op("unitary", tuple(reversed(qargs)), (), controls=controls, matrix=matrix))
            return
        definition = operation.definition
        if definition is None:
            raise ValueError(
                f"gate {operation.name!r} has free parameters, no definition and is not in qmlsim's gate set; "
                "bind its parameters or transpile the circuit to standard gates first"
            )
        self.circuit(definition, qargs, controls)

    def phase(self, phase: Any, controls: tuple[int, ...]) -> None:
        """A global phase controlled on ``controls``: a phase gate on the last control."""
        angle = self.angle(phase)
        if angle == Const(0.0):
            return
        self.out.append(Op("p", (controls[-1],), (angle,), controls=controls[:-1]))

    def angle(self, value: Any) -> Expr:
        if isinstance(value, ParameterExpression):
            if not value.parameters:
                number = complex(value.numeric())
                if abs(number.imag) > 1e-12:
                    raise ValueError(f"gate angle {value} is complex; qmlsim angles are real")
                return as_expr(number.real)
            if value.is_symbol():
                # a Parameter, or (Qiskit 2.x) an expression that reduced to one, which has no .name
                (parameter,) = value.parameters
                return self.symbols[parameter.name]
            return _from_sympy(_sympify(value), self.symbols)
        return as_expr(float(value))


def _sympify(value: ParameterExpression) -> Any:
    """``value`` as a sympy expression whose symbols are named like the Qiskit parameters."""
    import sympy  # noqa: PLC0415 - sympy comes with Qiskit's symbolic parameters

    try:
        expr = value.sympify()
    except (AttributeError, TypeError, sympy.SympifyError):
        expr = NotImplemented
    if expr is not NotImplemented:
        return expr
    # Qiskit 2.x's sympify gives NotImplemented (or raises) for a power with a constant
    # base and a parametric exponent: parse the expression's text instead

    text, names = str(value), {}
    for i, parameter in enumerate(sorted(value.parameters, key=lambda p: -len(p.name))):
        token = f"qmlsim_parameter_{i}"
        text = text.replace(parameter.name, token)
        names[token] = sympy.Symbol(parameter.name)
    return sympy.sympify(text, locals=names)


def _is_parametrised(operation: Any) -> bool:
    return any(isinstance(p, ParameterExpression) and p.parameters for p in operation.params)


def _from_sympy(expr: Any, symbols: dict[str, Symbol]) -> Expr:
    """A sympy expression over Qiskit parameter names as a qmlsim expression."""
    import sympy  # noqa: PLC0415 - Qiskit's ParameterExpression.sympify needs it already

    if expr.is_Symbol:
        return symbols[expr.name]
    if expr.is_Number or expr is sympy.pi or expr.is_NumberSymbol:
        value = complex(expr)
        if abs(value.imag) > 1e-12:
            raise ValueError(f"gate angle contains the complex number {expr}; qmlsim angles are real")
        return Const(value.real)
    args = [_from_sympy(a, symbols) for a in expr.args]
    if expr.is_Add:
        out = args[0]
        for a in args[1:]:
            out = Add(out, a)
        return out
    if expr.is_Mul:
        out = args[0]
        for a in args[1:]:
            out = Mul(out, a)
        return out
    if expr.is_Pow:
        base, exponent = args
        if exponent == Const(0.5):
            return Func("sqrt", base)
        if exponent == Const(-1.0):
            return Div(Const(1.0), base)
        return Pow(base, exponent)
    functions = {sympy.sin: "sin", sympy.cos: "cos", sympy.exp: "exp", sympy.acos: "arccos", sympy.log: "log"}
    name = functions.get(expr.func)
    if name is not None:
        return Func(name, args[0])
    if expr.func is sympy.tan:
        return Div(Func("sin", args[0]), Func("cos", args[0]))
    if expr.func is sympy.asin:
        return Add(Const(math.pi / 2), Neg(Func("arccos", args[0])))
    raise ValueError(
        f"parameter expression {expr} uses {expr.func}, which qmlsim angles do not support "
        "(supported: + - * / **, sin, cos, tan, exp, log, sqrt, arccos, arcsin); bind it to a number first"
    )
