"""Independent oracles for qmlsim's tests.

Nothing here imports qmlsim's gate table, engine or converters: gate matrices are
written out by hand from their textbook / Qiskit definitions, circuits are simulated
by embedding every gate into the full space with ``np.kron`` and a permutation, and
the Qiskit oracle builds its ``QuantumCircuit`` gate by gate with Qiskit's own gate
classes. Angle expressions are evaluated by walking the expression tree with ``math``
functions (not through qmlsim's code generator).

Conventions (``docs/conventions.md``): wire 0 is the most significant bit of a basis
index; Qiskit is little-endian and :func:`to_big_endian` is the one place that
reorders its vectors here.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable, Sequence

import numpy as np

from qmlsim.circuits import expressions as ex

# ---------------------------------------------------------------------------
# Gate matrices, written by hand (wire order: first wire = most significant bit)
# ---------------------------------------------------------------------------
_I2 = np.eye(2, dtype=complex)
_X = np.array([[0, 1], [1, 0]], dtype=complex)
_Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
_Z = np.array([[1, 0], [0, -1]], dtype=complex)
_PAULI = {"I": _I2, "X": _X, "Y": _Y, "Z": _Z}


def _rot_pauli(word: str, theta: float) -> np.ndarray:
    """``exp(-i theta P / 2)`` by the closed form ``cos(theta/2) I - i sin(theta/2) P``."""
    p = np.array([[1.0 + 0j]])
    for letter in word:
        p = np.kron(p, _PAULI[letter])
    return math.cos(theta / 2) * np.eye(p.shape[0]) - 1j * math.sin(theta / 2) * p


def _controlled(target: np.ndarray, num_controls: int = 1) -> np.ndarray:
    """Block-diagonal ``diag(I, ..., I, target)``: controls first, all controlled on |1>."""
    d = target.shape[0]
    k = 2**num_controls
    out = np.eye(k * d, dtype=complex)
    out[(k - 1) * d :, (k - 1) * d :] = target
    return out


def _u3(theta: float, phi: float, lam: float) -> np.ndarray:
    # Qiskit's U(theta, phi, lambda)
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array(
        [[c, -np.exp(1j * lam) * s], [np.exp(1j * phi) * s, np.exp(1j * (phi + lam)) * c]], dtype=complex
    )


def _rz(t: float) -> np.ndarray:
    return np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])


def _ry(t: float) -> np.ndarray:
    return np.array([[math.cos(t / 2), -math.sin(t / 2)], [math.sin(t / 2), math.cos(t / 2)]], dtype=complex)


_H = np.array([[1, 1], [1, -1]], dtype=complex) / math.sqrt(2)
_SX = 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]])
_SWAP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=complex)

_DENSE: dict[str, Callable[..., np.ndarray]] = {
    "i": lambda: _I2,
    "x": lambda: _X,
    "y": lambda: _Y,
    "z": lambda: _Z,
    "h": lambda: _H,
    "s": lambda: np.diag([1, 1j]),
    "sdg": lambda: np.diag([1, -1j]),
    "t": lambda: np.diag([1, np.exp(1j * math.pi / 4)]),
    "tdg": lambda: np.diag([1, np.exp(-1j * math.pi / 4)]),
    "sx": lambda: _SX,
    "sxdg": lambda: _SX.conj().T,
    "rx": lambda t: _rot_pauli("X", t),
    "ry": _ry,
    "rz": _rz,
    "p": lambda t: np.diag([1, np.exp(1j * t)]),
    "u": _u3,
    "u3": _u3,
    # PennyLane's Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi)
    "rot": lambda phi, theta, omega: _rz(omega) @ _ry(theta) @ _rz(phi),
    "cx": lambda: _controlled(_X),
    "cy": lambda: _controlled(_Y),
    "cz": lambda: _controlled(_Z),
    "ch": lambda: _controlled(_H),
    "swap": lambda: _SWAP,
    "iswap": lambda: np.array([[1, 0, 0, 0], [0, 0, 1j, 0], [0, 1j, 0, 0], [0, 0, 0, 1]], dtype=complex),
    "crx": lambda t: _controlled(_rot_pauli("X", t)),
    "cry": lambda t: _controlled(_ry(t)),
    "crz": lambda t: _controlled(_rz(t)),
    "cp": lambda t: np.diag([1, 1, 1, np.exp(1j * t)]),
    "rxx": lambda t: _rot_pauli("XX", t),
    "ryy": lambda t: _rot_pauli("YY", t),
    "rzz": lambda t: _rot_pauli("ZZ", t),
    "ccx": lambda: _controlled(_X, 2),
    "cswap": lambda: _controlled(_SWAP),
    # GQSP rotation, Motlagh & Wiebe (PRX Quantum 5, 020368), their R(theta, phi, lambda)
    "gqsp": lambda theta, phi, lam: np.array(
        [[np.exp(1j * (phi + lam)) * math.cos(theta), np.exp(1j * phi) * math.sin(theta)],
         [np.exp(1j * lam) * math.sin(theta), -math.cos(theta)]]
    ),
}

DENSE_GATE_NAMES = tuple(_DENSE)


def dense_gate_matrix(name: str, params: Sequence[float] = ()) -> np.ndarray:
    """Matrix of gate ``name`` at angles ``params`` (floats), ``(2**k, 2**k)``, first wire most significant."""
    return np.asarray(_DENSE[name](*[float(p) for p in params]), dtype=complex)


# ---------------------------------------------------------------------------
# Angle expressions, evaluated by walking the tree
# ---------------------------------------------------------------------------
_MATH = {"sin": math.sin, "cos": math.cos, "exp": math.exp, "sqrt": math.sqrt, "arccos": math.acos, "log": math.log}


def evaluate_expr(expr: ex.Expr, x_row: Sequence[float], weights: Sequence[float]) -> float:
    """Value of an angle expression for one input row, computed node by node with ``math``."""
    if isinstance(expr, ex.Const):
        return float(expr.value)
    if isinstance(expr, ex.Symbol):
        return float(x_row[expr.index] if expr.kind == "x" else weights[expr.index])
    if isinstance(expr, ex.Add):
        return evaluate_expr(expr.a, x_row, weights) + evaluate_expr(expr.b, x_row, weights)
    if isinstance(expr, ex.Neg):
        return -evaluate_expr(expr.a, x_row, weights)
    if isinstance(expr, ex.Mul):
        return evaluate_expr(expr.a, x_row, weights) * evaluate_expr(expr.b, x_row, weights)
    if isinstance(expr, ex.Div):
        return evaluate_expr(expr.a, x_row, weights) / evaluate_expr(expr.b, x_row, weights)
    if isinstance(expr, ex.Pow):
        return evaluate_expr(expr.a, x_row, weights) ** evaluate_expr(expr.b, x_row, weights)
    if isinstance(expr, ex.Func):
        return _MATH[expr.name](evaluate_expr(expr.a, x_row, weights))
    raise TypeError(f"unknown expression node {type(expr).__name__}")


# ---------------------------------------------------------------------------
# Dense simulation by np.kron embedding
# ---------------------------------------------------------------------------
def embed(matrix: np.ndarray, wires: Sequence[int], num_wires: int) -> np.ndarray:
    """``matrix`` on ``wires`` as a ``(2**n, 2**n)`` operator: ``P^T (M (x) I) P``.

    ``P`` permutes basis states so that ``wires`` (in order) become the leading, most
    significant bits; the identity acts on the remaining wires. ``P`` is a permutation,
    so the product is taken by indexing.
    """
    full = np.kron(matrix, np.eye(2 ** (num_wires - len(wires))))
    new = _reorder_index(tuple(int(w) for w in wires), num_wires)
    return full[np.ix_(new, new)]


@functools.lru_cache(maxsize=1024)
def _reorder_index(wires: tuple[int, ...], num_wires: int) -> np.ndarray:
    """``new[i]``: basis index ``i`` with its bits reordered as ``wires + rest`` (first = most significant)."""
    order = list(wires) + [w for w in range(num_wires) if w not in wires]
    index = np.arange(2**num_wires)
    new = np.zeros_like(index)
    for w in order:
        new = (new << 1) | ((index >> (num_wires - 1 - w)) & 1)
    return new


def op_matrix(op: Any, x_row: Sequence[float], weights: Sequence[float]) -> np.ndarray:
    """Local matrix of ``op`` on ``op.controls + op.wires`` (adjoint and extra controls applied)."""
    if op.name == "unitary":
        m = np.asarray(op.matrix, dtype=complex)
    else:
        m = dense_gate_matrix(op.name, [evaluate_expr(p, x_row, weights) for p in op.params])
    if op.adjoint:
        m = m.conj().T
    if op.controls:
        m = _controlled(m, len(op.controls))
    return m


def dense_unitary(circuit: Any, x_row: Sequence[float] | None = None, weights: Sequence[float] | None = None) -> np.ndarray:
    """The circuit's ``(2**n, 2**n)`` unitary for one input row."""
    x_row = np.zeros(0) if x_row is None else np.asarray(x_row, dtype=float)
    weights = np.zeros(0) if weights is None else np.asarray(weights, dtype=float)
    n = circuit.num_wires
    u = np.eye(2**n, dtype=complex)
    for op in circuit.ops:
        u = embed(op_matrix(op, x_row, weights), tuple(op.controls) + tuple(op.wires), n) @ u
    return u


def dense_statevector(circuit: Any, x_row: Sequence[float] | None = None, weights: Sequence[float] | None = None) -> np.ndarray:
    """Final state ``(2**n,)`` from ``|0...0>``, gate by gate (no full unitary product)."""
    x_row = np.zeros(0) if x_row is None else np.asarray(x_row, dtype=float)
    weights = np.zeros(0) if weights is None else np.asarray(weights, dtype=float)
    n = circuit.num_wires
    state = np.zeros(2**n, dtype=complex)
    state[0] = 1.0
    for op in circuit.ops:
        state = embed(op_matrix(op, x_row, weights), tuple(op.controls) + tuple(op.wires), n) @ state
    return state


def apply_local(states: np.ndarray, matrix: np.ndarray, wires: Sequence[int], num_wires: int) -> np.ndarray:
    """``matrix`` on ``wires`` (first = most significant) applied to states ``(batch, 2**n)`` by one tensor contraction."""
    batch, k, n = states.shape[0], len(wires), num_wires
    t = states.reshape((batch,) + (2,) * n)
    m = np.asarray(matrix).reshape((2,) * (2 * k))
    out = np.tensordot(m, t, axes=(list(range(k, 2 * k)), [1 + q for q in wires]))  # (out..., batch, rest)
    rest = [q for q in range(n) if q not in wires]
    order = [k] + [0] * n  # axis of each wire in `out`
    for i, q in enumerate(wires):
        order[1 + q] = i
    for j, q in enumerate(rest):
        order[1 + q] = k + 1 + j
    return np.transpose(out, order).reshape(batch, -1)


def local_statevector(
    circuit: Any, x_row: Sequence[float] | None = None, weights: Sequence[float] | None = None, initial: Any = None
) -> np.ndarray:
    """Final state ``(2**n,)`` from ``|0...0>`` (or ``initial``), each gate's local matrix contracted with the state.

    The same gate matrices as :func:`dense_statevector`, in ``O(2**n)`` memory and time per
    gate: the finite-difference reference for circuits too wide for dense embedding.
    """
    x_row = np.zeros(0) if x_row is None else np.asarray(x_row, dtype=float)
    weights = np.zeros(0) if weights is None else np.asarray(weights, dtype=float)
    n = circuit.num_wires
    state = np.zeros((1, 2**n), dtype=complex)
    state[0, 0] = 1.0
    if initial is not None:
        state = np.asarray(initial, dtype=complex).reshape(1, 2**n)
    for op in circuit.ops:
        state = apply_local(state, op_matrix(op, x_row, weights), tuple(op.controls) + tuple(op.wires), n)
    return state[0]


def dense_expval(state: np.ndarray, obs_matrix: np.ndarray) -> np.ndarray:
    """``<psi|O|psi>`` for states ``(2**n,)`` or ``(batch, 2**n)``; real part (O Hermitian)."""
    state = np.asarray(state)
    return np.real(np.einsum("...i,ij,...j->...", state.conj(), obs_matrix, state))


def pauli_matrix(word: str) -> np.ndarray:
    """Kronecker product of Pauli letters, first letter on the most significant wire."""
    m = np.array([[1.0 + 0j]])
    for letter in word:
        m = np.kron(m, _PAULI[letter])
    return m


# ---------------------------------------------------------------------------
# Qiskit oracle (built gate by gate here, not through qmlsim's converter)
# ---------------------------------------------------------------------------
def to_big_endian(vec: np.ndarray, num_wires: int) -> np.ndarray:
    """Reorder a little-endian (Qiskit) vector ``(..., 2**n)`` so that wire 0 is the most significant bit.

    The one place in the tests that converts Qiskit's bit order; it is its own inverse.
    """
    vec = np.asarray(vec)
    lead = vec.shape[:-1]
    t = vec.reshape(lead + (2,) * num_wires)
    axes = list(range(len(lead))) + [len(lead) + num_wires - 1 - i for i in range(num_wires)]
    return t.transpose(axes).reshape(lead + (2**num_wires,))


def to_big_endian_matrix(matrix: np.ndarray, num_wires: int) -> np.ndarray:
    """A little-endian (Qiskit) operator matrix in wire-0-most-significant order."""
    return to_big_endian(to_big_endian(matrix, num_wires).T, num_wires).T


def qiskit_gate(name: str, params: Sequence[float]) -> Any:
    """The Qiskit gate object for a qmlsim gate name (``rot`` as its RZ RY RZ circuit)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import library as lib

    classes = {
        "i": lib.IGate, "x": lib.XGate, "y": lib.YGate, "z": lib.ZGate, "h": lib.HGate,
        "s": lib.SGate, "sdg": lib.SdgGate, "t": lib.TGate, "tdg": lib.TdgGate,
        "sx": lib.SXGate, "sxdg": lib.SXdgGate, "rx": lib.RXGate, "ry": lib.RYGate, "rz": lib.RZGate,
        "p": lib.PhaseGate, "u": lib.UGate, "u3": lib.U3Gate,
        "cx": lib.CXGate, "cy": lib.CYGate, "cz": lib.CZGate, "ch": lib.CHGate,
        "swap": lib.SwapGate, "iswap": lib.iSwapGate,
        "crx": lib.CRXGate, "cry": lib.CRYGate, "crz": lib.CRZGate, "cp": lib.CPhaseGate,
        "rxx": lib.RXXGate, "ryy": lib.RYYGate, "rzz": lib.RZZGate,
        "ccx": lib.CCXGate, "cswap": lib.CSwapGate,
    }
    if name == "gqsp":
        return lib.UnitaryGate(dense_gate_matrix(name, params), label="gqsp")
    if name == "rot":
        phi, theta, omega = params
        sub = QuantumCircuit(1, name="rot")
        sub.rz(phi, 0)
        sub.ry(theta, 0)
        sub.rz(omega, 0)
        return sub.to_gate()
    return classes[name](*[float(p) for p in params])


def qiskit_circuit(circuit: Any, x_row: Sequence[float] | None = None, weights: Sequence[float] | None = None) -> Any:
    """A Qiskit ``QuantumCircuit`` doing what ``circuit`` does, with qubit ``i`` = wire ``i``."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate

    x_row = np.zeros(0) if x_row is None else np.asarray(x_row, dtype=float)
    weights = np.zeros(0) if weights is None else np.asarray(weights, dtype=float)
    qc = QuantumCircuit(circuit.num_wires)
    for op in circuit.ops:
        if op.name == "unitary":
            gate = UnitaryGate(np.asarray(op.matrix))
            # UnitaryGate's first qubit is its least significant bit: list our wires in reverse
            qargs = list(reversed(op.wires))
        else:
            gate = qiskit_gate(op.name, [evaluate_expr(p, x_row, weights) for p in op.params])
            qargs = list(op.wires)
        if op.adjoint:
            gate = gate.inverse()
        if op.controls:
            gate = gate.control(len(op.controls))
            qargs = list(op.controls) + qargs
        qc.append(gate, qargs)
    return qc


def qiskit_statevector(
    circuit: Any, x_row: Sequence[float] | None = None, weights: Sequence[float] | None = None, initial: Any = None
) -> np.ndarray:
    """Qiskit ``Statevector`` of the hand-built circuit, in qmlsim's wire order, ``(2**n,)``, from ``|0...0>``
    or from ``initial`` (qmlsim's wire order)."""
    return qiskit_evolve(qiskit_circuit(circuit, x_row, weights), initial)


def qiskit_evolve(qc: Any, initial: Any = None) -> np.ndarray:
    """Qiskit ``Statevector`` of the Qiskit circuit ``qc`` (from :func:`qiskit_circuit`) in qmlsim's wire order,
    from ``|0...0>`` or from ``initial`` (qmlsim's wire order): build the circuit once, evolve many starts."""
    from qiskit.quantum_info import Statevector

    n = qc.num_qubits
    if initial is None:
        return to_big_endian(np.asarray(Statevector(qc).data), n)
    start = Statevector(to_big_endian(np.asarray(initial, dtype=complex), n))
    return to_big_endian(np.asarray(start.evolve(qc).data), n)


# ---------------------------------------------------------------------------
# Calculus
# ---------------------------------------------------------------------------
def finite_difference(f: Callable[[np.ndarray], Any], params: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of ``f`` at ``params`` ``(P,)``: shape ``f(params).shape + (P,)``."""
    params = np.asarray(params, dtype=float)
    columns = []
    for i in range(params.size):
        step = np.zeros_like(params)
        step.flat[i] = eps
        columns.append((np.asarray(f(params + step)) - np.asarray(f(params - step))) / (2 * eps))
    if not columns:
        return np.zeros(np.shape(f(params)) + (0,))
    return np.stack(columns, axis=-1)


def random_unitary(dim: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-random unitary ``(dim, dim)`` from ``scipy.stats.unitary_group``."""
    from scipy.stats import unitary_group

    return unitary_group.rvs(dim, random_state=rng)


# ---------------------------------------------------------------------------
# Random circuits
# ---------------------------------------------------------------------------
def random_expression(rng: np.random.Generator, num_inputs: int, num_weights: int, depth: int = 2) -> ex.Expr:
    """A random angle expression of inputs and weights, defined everywhere for moderate values.

    Uses ``+ - * /``, powers, ``sin cos exp sqrt arccos`` and NumPy interop
    (``np.pi - e``, ``np.sin(e)``); denominators, power bases and arccos/sqrt arguments
    are kept inside their domains by construction.
    """
    symbols = [ex.Symbol("x", i) for i in range(num_inputs)] + [ex.Symbol("w", j) for j in range(num_weights)]
    if depth <= 0 or rng.random() < 0.25:
        if symbols and rng.random() < 0.85:
            return symbols[rng.integers(len(symbols))]
        return ex.Const(float(np.round(rng.uniform(-2, 2), 3)))

    def sub() -> ex.Expr:
        return random_expression(rng, num_inputs, num_weights, depth - 1)

    a = sub()
    kind = rng.integers(12)
    if kind == 0:
        return a + sub()
    if kind == 1:
        return a - sub()
    if kind == 2:
        return 0.7 * a * sub()
    if kind == 3:
        return a / (2.0 + ex.cos(sub()))
    if kind == 4:
        return (1.5 + ex.sin(a)) ** 2
    if kind == 5:
        return (1.5 + ex.sin(a)) ** (0.5 * ex.cos(sub()))
    if kind == 6:
        return np.sin(a)
    if kind == 7:
        return np.pi - a
    if kind == 8:
        return ex.exp(0.5 * ex.sin(a))
    if kind == 9:
        return ex.arccos(0.9 * ex.cos(a))
    if kind == 10:
        return ex.sqrt(1.2 + ex.sin(a))
    return -a


def random_observable(rng: np.random.Generator, num_wires: int, hermitian: bool | None = None) -> Any:
    """A random sum of 1-3 Pauli words (1-3 letters, coefficients in [-1, 1]), plus a random
    Hermitian term on 1-2 wires when ``hermitian`` (``None``: with probability 1/2)."""
    from qmlsim.circuits import Hermitian, Observable

    obs = Observable([])
    for _ in range(int(rng.integers(1, 4))):
        k = int(rng.integers(1, min(3, num_wires) + 1))
        wires = rng.choice(num_wires, k, replace=False).tolist()
        letters = "".join(rng.choice(list("XYZ"), k))
        obs = obs + Observable.from_list([(letters, wires, float(rng.uniform(-1, 1)))])
    if hermitian is None:
        hermitian = bool(rng.random() < 0.5)
    if hermitian:
        k = int(rng.integers(1, min(2, num_wires) + 1))
        a = rng.normal(size=(2**k, 2**k)) + 1j * rng.normal(size=(2**k, 2**k))
        obs = obs + 0.3 * Hermitian(a + a.conj().T, rng.choice(num_wires, k, replace=False).tolist())
    return obs


def random_circuit(
    rng: np.random.Generator | int,
    num_wires: int,
    num_gates: int,
    gates: Sequence[str] | None = None,
    num_inputs: int = 2,
    num_weights: int = 3,
    blocks: bool = True,
    angle: Callable[[np.random.Generator, int, int], ex.Expr] | None = None,
    haar: bool = True,
) -> Any:
    """A random circuit over ``gates`` (all of qmlsim's by default) with random angle expressions.

    Besides plain gates it appends random ``unitary`` matrices (Haar or permutation
    matrices, on 1-2 wires) and,
    when ``blocks``, small random sub-circuits composed in as ``.controlled(k)`` or
    ``.inverse()``.

    Args:
        rng: a NumPy generator or a seed.
        num_wires: wires of the circuit.
        num_gates: number of top-level items (gates, unitaries, blocks).
        gates: gate names to draw from; default every gate that fits ``num_wires``.
        num_inputs: input features declared.
        num_weights: weights declared up front (blocks add their own).
        blocks: whether to add controlled/inverted sub-circuits.
        haar: whether user matrices may be Haar-random (else permutation matrices only,
            so a circuit of real gates stays real).
        angle: ``angle(rng, num_inputs, num_weights) -> Expr`` draws each gate angle;
            default :func:`random_expression` (mixed inputs, weights and constants).
    """
    from qmlsim.circuits import Circuit

    rng = np.random.default_rng(rng)
    names = list(DENSE_GATE_NAMES if gates is None else gates)
    sizes = {name: _num_wires_params(name) for name in names}
    names = [n for n in names if sizes[n][0] <= num_wires]
    c = Circuit(num_wires)
    c.inputs(num_inputs)
    c.weights(num_weights)
    for _ in range(num_gates):
        roll = rng.random()
        if roll < 0.08:
            k = min(num_wires, int(rng.integers(1, 3)))
            wires = rng.choice(num_wires, k, replace=False).tolist()
            if haar and rng.random() < 0.5:
                c.unitary(random_unitary(2**k, rng), wires)
            else:  # a permutation matrix: the engine runs it with its permutation kernel
                c.unitary(np.eye(2**k)[:, rng.permutation(2**k)], wires)
        elif blocks and roll < 0.16 and num_wires >= 2:
            k_ctrl = int(rng.integers(1, min(2, num_wires - 1) + 1))
            m = int(rng.integers(1, min(2, num_wires - k_ctrl) + 1))
            inner = random_circuit(rng, m, 3, gates=names, num_inputs=num_inputs, num_weights=2, blocks=False, angle=angle,
                                   haar=haar)
            block = inner.inverse() if rng.random() < 0.5 else inner
            if rng.random() < 0.7:
                block = block.controlled(k_ctrl)
            wires = rng.choice(num_wires, block.num_wires, replace=False).tolist()
            c.compose(block, wires=wires)
        else:
            name = names[rng.integers(len(names))]
            nw, npar = sizes[name]
            wires = rng.choice(num_wires, nw, replace=False).tolist()
            draw = random_expression if angle is None else angle
            params = [draw(rng, c.num_inputs, c.num_weights) for _ in range(npar)]
            c.gate(name, *params, *wires)
    return c


def _num_wires_params(name: str) -> tuple[int, int]:
    """Wires and angles of a gate, read off the hand-written matrix (no gate table)."""
    fn = _DENSE[name]
    npar = fn.__code__.co_argcount
    dim = dense_gate_matrix(name, [0.1] * npar).shape[0]
    return int(round(math.log2(dim))), npar


def circuits(max_wires: int = 8, max_gates: int = 12, gates: Sequence[str] | None = None, min_wires: int = 1) -> Any:
    """Hypothesis strategy of random circuits (see :func:`random_circuit`) with inputs and weights.

    Draws ``(circuit, x, weights)`` with ``x`` of shape ``(3, num_inputs)``.
    """
    from hypothesis import strategies as st

    @st.composite
    def build(draw: Any) -> tuple[Any, np.ndarray, np.ndarray]:
        n = draw(st.integers(min_wires, max_wires))
        num_gates = draw(st.integers(1, max_gates))
        seed = draw(st.integers(0, 2**32 - 1))
        num_inputs = draw(st.integers(0, 3))
        rng = np.random.default_rng(seed)
        c = random_circuit(rng, n, num_gates, gates=gates, num_inputs=num_inputs, num_weights=draw(st.integers(0, 3)))
        x = rng.uniform(-1.5, 1.5, (3, c.num_inputs))
        w = rng.uniform(-1.5, 1.5, c.num_weights)
        return c, x, w

    return build()
