"""OpenQASM export (version 3) and import (version 2).

:func:`to_qasm3` writes the circuit directly: unbound inputs and weights become
``input float[64] x_0;`` / ``w_0`` declarations and angle expressions are written with
OpenQASM 3's ``sin``, ``cos``, ``exp``, ``arccos``, ``sqrt``, ``log`` and ``**``. qmlsim's
wire ``i`` is ``q[i]``. Gates of ``stdgates.inc`` are used where their definition in the
OpenQASM 3 specification matches qmlsim's matrix exactly; the others are defined in the
header (exactly, global phase included, so ``ctrl @`` stays right). ``u``/``u3`` are
written as the built-in ``U``, whose matrix is qmlsim's (stdgates' ``u3`` differs by a
global phase). Extra controls become ``ctrl(k) @`` and adjoints ``inv @``. User matrices
are synthesised into ``U``/``cx`` gates with Qiskit (needs ``pip install qiskit``).

:func:`from_qasm2` reads OpenQASM 2 (``qelib1.inc``) with Qiskit's parser and converts
the result with :func:`~qmlsim.circuits.convert.qiskit.from_qiskit` (measurements and
barriers at the end are dropped).

>>> from qmlsim.circuits import Circuit
>>> c = Circuit(2); x = c.inputs(1); _ = c.h(0).crx(2 * x[0], 0, 1)
>>> print(to_qasm3(c))
OPENQASM 3.0;
include "stdgates.inc";
input float[64] x_0;
qubit[2] q;
h q[0];
crx((2.0 * x_0)) q[0], q[1];
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from qmlsim.circuits.circuit import Circuit, Op
from qmlsim.circuits.expressions import Add, Const, Div, Expr, Func, Mul, Neg, Pow, Symbol, compile_expressions
from qmlsim.circuits.gates import GATES

__all__ = ["to_qasm3", "from_qasm2", "QASM3_DEFINITIONS"]

def _definition(name: str) -> str:
    """An exact ``gate`` definition of a GATES entry that ``stdgates.inc`` lacks, from its decomposition."""
    gate = GATES[name]
    # parameter names sort in argument order: some importers (qiskit-qasm3-import 0.6) bind by sorted name
    params = tuple(Symbol("w", j) for j in range(gate.num_params))
    args = [f"q{j}" for j in range(gate.num_wires)]
    body = []
    for op in Op(name, tuple(range(gate.num_wires)), params).decomposed():
        call = GATES[op.name].qasm_name or op.name
        if op.params:
            call += "(" + ", ".join(_source(p, None, None, parameter="p") for p in op.params) + ")"
        body.append(f"{call} {', '.join(args[w] for w in op.wires)};")
    head = f"gate {name}" + (f"({', '.join(f'p{j}' for j in range(gate.num_params))})" if gate.num_params else "")
    return f"{head} {', '.join(args)} {{ {' '.join(body)} }}"


def to_qasm3(circuit: Circuit, x: Any = None, weights: Any = None) -> str:
    """The circuit as an OpenQASM 3 program.

    Args:
        circuit: the circuit.
        x: one input row ``(num_inputs,)`` to bind, or ``None`` to leave the inputs as
            ``input float[64] x_i`` declarations.
        weights: ``(num_weights,)`` to bind, or ``None`` for ``input float[64] w_j``.

    Returns:
        The program text (no measurements: the program is the circuit's unitary).

    Raises:
        ValueError: if ``x`` or ``weights`` has the wrong shape.

    Example:
        >>> from qmlsim.circuits import Circuit
        >>> c = Circuit(1); w = c.weights(1); _ = c.ry(w[0], 0)
        >>> to_qasm3(c, weights=[0.5]).splitlines()[-1]
        'ry(0.5) q[0];'
    """
    if not isinstance(circuit, Circuit):
        raise TypeError(f"to_qasm3 expects a qmlsim Circuit, got {type(circuit).__name__}")
    x_row = _bound(x, circuit.num_inputs, "x")
    w = _bound(weights, circuit.num_weights, "weights")
    header = ["OPENQASM 3.0;", 'include "stdgates.inc";']
    definitions: dict[str, str] = {}
    body = []
    for op in circuit.ops:
        if op.name == "unitary":
            gate_name = f"unitary_{len([k for k in definitions if k.startswith('unitary_')])}"
            definitions[gate_name] = _unitary_definition(gate_name, op.matrix)
            call = gate_name
        else:
            _declare(op.name, definitions)
            call = GATES[op.name].qasm_name or op.name
            if op.params:
                call += "(" + ", ".join(_angle(p, x_row, w) for p in op.params) + ")"
        modifiers = ""
        if op.controls:
            modifiers += "ctrl @ " if len(op.controls) == 1 else f"ctrl({len(op.controls)}) @ "
        if op.adjoint:
            modifiers += "inv @ "
        qubits = ", ".join(f"q[{wire}]" for wire in op.controls + op.wires)
        body.append(f"{modifiers}{call} {qubits};")
    inputs = []
    if x_row is None:
        inputs += [f"input float[64] x_{i};" for i in range(circuit.num_inputs)]
    if w is None:
        inputs += [f"input float[64] w_{j};" for j in range(circuit.num_weights)]
    lines = header + list(definitions.values()) + inputs + [f"qubit[{circuit.num_wires}] q;"] + body
    return "\n".join(lines)


def _declare(name: str, definitions: dict[str, str]) -> None:
    """Add the definition of gate ``name`` (and of the gates it is defined by) when stdgates.inc lacks it."""
    if name in definitions or name not in QASM3_DEFINITIONS:
        return
    for part in Op(name, tuple(range(GATES[name].num_wires)), (0.0,) * GATES[name].num_params).decomposed():
        _declare(part.name, definitions)
    definitions[name] = QASM3_DEFINITIONS[name]


def _bound(values: Any, size: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=float)
    if array.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},) to bind it, got {array.shape}; pass None to keep it symbolic")
    return array


def _angle(expr: Expr, x_row: np.ndarray | None, w: np.ndarray | None) -> str:
    symbols = expr.symbols()
    bound_x = x_row is not None or not any(s.kind == "x" for s in symbols)
    bound_w = w is not None or not any(s.kind == "w" for s in symbols)
    if bound_x and bound_w:
        x = np.zeros((1, 0)) if x_row is None else x_row[None, :]
        value = compile_expressions([expr])(x, np.zeros(0) if w is None else w, np)[0]
        return repr(float(np.asarray(value).reshape(-1)[0]))
    return _source(expr, x_row, w)


def _source(expr: Expr, x_row: np.ndarray | None, w: np.ndarray | None, parameter: str = "w_") -> str:
    """OpenQASM text of an expression; unbound weights are written ``{parameter}{index}``."""
    if isinstance(expr, Const):
        return repr(float(expr.value))
    if isinstance(expr, Symbol):
        if expr.kind == "x":
            return f"x_{expr.index}" if x_row is None else repr(float(x_row[expr.index]))
        return f"{parameter}{expr.index}" if w is None else repr(float(w[expr.index]))
    if isinstance(expr, Neg):
        return f"(-{_source(expr.a, x_row, w, parameter)})"
    if isinstance(expr, Func):
        return f"{expr.name}({_source(expr.a, x_row, w, parameter)})"
    operator = {Add: "+", Mul: "*", Div: "/", Pow: "**"}[type(expr)]
    return f"({_source(expr.a, x_row, w, parameter)} {operator} {_source(expr.b, x_row, w, parameter)})"


def _unitary_definition(name: str, matrix: np.ndarray) -> str:
    """An exact gate definition of a user matrix in ``U`` and ``cx`` (with its global phase)."""
    from qmlsim.circuits.convert import require  # noqa: PLC0415

    require("qiskit", "qiskit")
    from qiskit import transpile  # noqa: PLC0415

    from qmlsim.circuits.convert.qiskit import to_qiskit  # noqa: PLC0415

    k = int(round(math.log2(matrix.shape[0])))
    local = Circuit(k).unitary(matrix, list(range(k)))
    qc = transpile(to_qiskit(local), basis_gates=["u", "cx"], optimization_level=0)
    args = [f"a{j}" for j in range(k)]
    lines = []
    for instruction in qc.data:
        qubits = ", ".join(args[qc.find_bit(q).index] for q in instruction.qubits)
        operation = instruction.operation
        if operation.name == "u":
            angles = ", ".join(repr(float(p)) for p in operation.params)
            lines.append(f"U({angles}) {qubits};")
        else:
            lines.append(f"cx {qubits};")
    phase = float(qc.global_phase)
    if phase:
        lines.append(f"gphase({phase!r});")
    return f"gate {name} {', '.join(args)} {{ {' '.join(lines)} }}"


def from_qasm2(text: str, parameters: str = "inputs") -> Circuit:
    """Read an OpenQASM 2 program (``qelib1.inc`` gates and custom ``gate`` definitions).

    Args:
        text: the program.
        parameters: passed to :func:`~qmlsim.circuits.convert.qiskit.from_qiskit` (OpenQASM 2
            programs have numeric angles, so this matters only for Qiskit extensions).

    Returns:
        The circuit; registers are flattened in declaration order, terminal
        measurements and barriers are dropped.

    Raises:
        ValueError: for invalid programs (the parser's message is included), resets or
            gates after measurements.

    Example:
        >>> c = from_qasm2('OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; '
        ...                'h q[0]; cx q[0], q[1]; u1(pi/4) q[1]; measure q -> c;')
        >>> [op.name for op in c.ops]
        ['h', 'cx', 'p']
    """
    from qmlsim.circuits.convert import require  # noqa: PLC0415

    require("qiskit", "qiskit")
    from qiskit import qasm2  # noqa: PLC0415

    from qmlsim.circuits.convert.qiskit import from_qiskit  # noqa: PLC0415

    if not isinstance(text, str):
        raise TypeError(f"from_qasm2 expects the program text as a str, got {type(text).__name__}")
    try:
        qc = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    except qasm2.QASM2ParseError as error:
        raise ValueError(f"invalid OpenQASM 2 program: {error}") from error
    return from_qiskit(qc, parameters=parameters)


QASM3_DEFINITIONS = {name: _definition(name) for name, gate in GATES.items() if not gate.qasm_name}
"""Exact OpenQASM 3 definitions of the qmlsim gates that ``stdgates.inc`` lacks (from each gate's decomposition)."""
