"""Circuit layer: the IR (gates, symbolic inputs and weights, observables), gate library and templates.

Imports only NumPy. Converters to and from Qiskit, PennyLane and OpenQASM live in
:mod:`qmlsim.circuits.convert` and import those libraries lazily.
"""
from qmlsim.circuits import templates
from qmlsim.circuits.circuit import Circuit, Op
from qmlsim.circuits.expressions import Expr, Symbol, arccos, cos, exp, sin, sqrt
from qmlsim.circuits.gates import GATES, GateDef
from qmlsim.circuits.observables import Hermitian, I, Observable, X, Y, Z

__all__ = [
    "Circuit",
    "Op",
    "Expr",
    "Symbol",
    "sin",
    "cos",
    "arccos",
    "exp",
    "sqrt",
    "GATES",
    "GateDef",
    "Observable",
    "X",
    "Y",
    "Z",
    "I",
    "Hermitian",
    "templates",
]
