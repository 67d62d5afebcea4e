"""QSP, QSVT and GQSP circuits, block encodings and the qubitization walk, as ordinary qmlsim circuits.

Every builder returns a :class:`~qmlsim.circuits.Circuit` (or a :class:`BlockEncoding`
holding one), so any executor runs it and the converters export it. Wire layout of a
block encoding: its ancillas first (wires ``0 .. k-1``, the most significant bits), then
the system, so the encoded block is the top-left ``2^n x 2^n`` corner of the circuit's
matrix: ``U[:2**n, :2**n] = A / scale``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from qmlsim.circuits.circuit import Circuit, Op
from qmlsim.circuits.expressions import arccos
from qmlsim.circuits.observables import Observable, PauliTerm
from qmlsim.circuits.qsp.angles import convert_phases

__all__ = [
    "qsp_circuit",
    "BlockEncoding",
    "block_encode_matrix",
    "block_encode_pauli_sum",
    "walk_operator",
    "qsvt",
    "qsvt_polynomial",
    "gqsp",
    "projector_phase",
    "householder",
    "global_phase",
    "state_preparation",
]

HERMITIAN_ATOL = 1e-10


def qsp_circuit(phases: Sequence[float]) -> Circuit:
    """Single-qubit QSP sequence with the signal ``a`` as input ``x[0]`` (Wx convention).

    ``U(a) = e^{i phi_0 Z} W(a) ... W(a) e^{i phi_d Z}``, ``W(a) = e^{i arccos(a) X}``, written
    as ``RZ(-2 phi)`` and ``RX(-2 arccos(x[0]))`` gates, so a batch of signal values is one
    engine call: ``Simulator().statevector(c, x=a[:, None])[:, 0]`` is ``<0|U(a)|0>``, whose
    imaginary part is ``P(a)`` for phases from :func:`qmlsim.circuits.qsp.angles`.

    Example:
        >>> c = qsp_circuit([0.1, 0.2, 0.1])
        >>> c.num_wires, c.num_inputs, len(c.ops)
        (1, 1, 5)
    """
    phases = _phases(phases)
    c = Circuit(1)
    (a,) = c.inputs(1)
    signal = -2 * arccos(a)
    c.rz(-2 * float(phases[-1]), 0)  # the rightmost factor acts first
    for phi in phases[-2::-1]:
        c.rx(signal, 0)
        c.rz(-2 * float(phi), 0)
    return c


@dataclass(frozen=True)
class BlockEncoding:
    """A circuit whose top-left block is ``matrix / scale`` (final class).

    Attributes:
        circuit: ``num_ancillas + num_system`` wires, ancillas first.
        num_ancillas: wires ``0 .. num_ancillas - 1``; the block is their ``|0...0>`` corner.
        scale: ``alpha`` with block ``= A / alpha`` (1 for a matrix encoded as it is).
        hermitian: the circuit's unitary is Hermitian (``U = U^dagger``), as QSVT with
            reflection phases and the qubitization walk assume.
        matrix: the encoded ``A`` (unscaled) when known, else ``None``.
    """

    circuit: Circuit
    num_ancillas: int
    scale: float
    hermitian: bool
    matrix: np.ndarray | None = None

    @property
    def num_system(self) -> int:
        return self.circuit.num_wires - self.num_ancillas


def _phases(phases: Sequence[float]) -> np.ndarray:
    phases = np.asarray(phases, dtype=float)
    if phases.ndim != 1 or phases.size == 0:
        raise ValueError(f"phases must be a non-empty 1-D sequence, got shape {phases.shape}")
    if not np.all(np.isfinite(phases)):
        raise ValueError("phases contain NaN or infinite values")
    return phases


def _num_wires(dim: int, what: str) -> int:
    n = int(round(math.log2(dim))) if dim > 0 else -1
    if n < 1 or 2**n != dim:
        raise ValueError(f"{what} has dimension {dim}; it must be a power of two (pad it with zeros to 2^n)")
    return n


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((m + m.conj().T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.conj().T


def block_encode_matrix(matrix: Any, scale: float = 1.0) -> BlockEncoding:
    """Unitary dilation ``[[A, sqrt(I - A A^+)], [sqrt(I - A^+ A), -A^+]]`` of ``A = matrix / scale``: one ancilla.

    Nothing is rescaled behind your back (PennyLane's ``qml.BlockEncode`` silently divides
    by ``max(||A A^+||_inf, ||A^+ A||_inf)`` when that exceeds 1, even for ``||A||_2 < 1``):
    the block is ``matrix / scale`` exactly, and a matrix with ``||A||_2 > 1`` is an error.
    For Hermitian ``A`` the dilation is Hermitian (``hermitian=True``).

    Args:
        matrix: ``(2^n, 2^n)`` complex.
        scale: divide by this first (for example ``np.linalg.norm(matrix, 2)``).

    Example:
        >>> be = block_encode_matrix(np.diag([0.5, -0.25]))
        >>> be.num_ancillas, be.hermitian, be.circuit.num_wires
        (1, True, 2)
    """
    raw = np.asarray(matrix, dtype=complex)
    if raw.ndim != 2 or raw.shape[0] != raw.shape[1]:
        raise ValueError(f"a block encoding needs a square matrix, got shape {raw.shape}")
    if not np.all(np.isfinite(raw)):
        raise ValueError("the matrix contains NaN or infinite entries")
    n = _num_wires(raw.shape[0], "the matrix")
    scale = float(scale)
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    a = raw / scale
    norm = float(np.linalg.norm(a, 2))
    if norm > 1 + 1e-12:
        raise ValueError(
            f"the matrix / scale has spectral norm {norm:.6g} > 1, which no unitary can hold as a block; "
            f"pass scale={norm * scale:.6g} (its norm) or larger"
        )
    dim = a.shape[0]
    u = np.empty((2 * dim, 2 * dim), dtype=complex)
    u[:dim, :dim] = a
    u[:dim, dim:] = _sqrt_psd(np.eye(dim) - a @ a.conj().T)
    u[dim:, :dim] = _sqrt_psd(np.eye(dim) - a.conj().T @ a)
    u[dim:, dim:] = -a.conj().T
    circuit = Circuit(n + 1).unitary(u, list(range(n + 1)))
    hermitian = bool(np.abs(a - a.conj().T).max() <= HERMITIAN_ATOL)
    return BlockEncoding(circuit, 1, scale, hermitian, raw)


def householder(vector: Any) -> np.ndarray:
    """A Hermitian unitary whose first column is the unit vector ``vector / |vector|`` (a Householder reflection).

    Example:
        >>> h = householder([3.0, 4.0])
        >>> h[:, 0].real.round(6).tolist()
        [0.6, 0.8]
    """
    v = np.asarray(vector, dtype=complex)
    norm = np.linalg.norm(v)
    if v.ndim != 1 or norm == 0 or not np.isfinite(norm):
        raise ValueError("the state vector must be a finite, nonzero 1-D array")
    v = v / norm
    # make v[0] real and non-positive-free: absorb its phase, reflect e0 onto the rest
    phase = v[0] / abs(v[0]) if abs(v[0]) > 0 else 1.0
    w = v / phase
    e0 = np.zeros_like(w)
    e0[0] = 1.0
    u = e0 - w
    if np.linalg.norm(u) < 1e-15:
        reflection = np.eye(v.size, dtype=complex)
    else:
        reflection = np.eye(v.size, dtype=complex) - 2 * np.outer(u, u.conj()) / np.vdot(u, u)
    # reflection e0 = w; multiplying the first column by the phase keeps the matrix unitary
    out = reflection.copy()
    out[:, 0] *= phase
    return out


def state_preparation(vector: Any) -> Circuit:
    """A circuit preparing ``vector / |vector|`` from ``|0...0>`` (amplitude encoding; one dense unitary).

    Example:
        >>> state_preparation([1.0, 0.0, 0.0, 1.0]).num_wires
        2
    """
    v = np.asarray(vector, dtype=complex)
    n = _num_wires(v.size, "the state vector")
    return Circuit(n).unitary(householder(v), list(range(n)))


def global_phase(circuit: Circuit, angle: float, wire: int = 0) -> Circuit:
    """Multiply ``circuit`` by ``e^{i angle}`` (in place): ``P(angle)`` and ``X P(angle) X`` on one wire.

    A global phase is invisible alone, but not once the circuit is controlled or added to
    another (QSVT's real-part trick), so the builders keep it exact.
    """
    if angle % (2 * math.pi):
        circuit.p(angle, wire).x(wire).p(angle, wire).x(wire)
    return circuit


def projector_phase(circuit: Circuit, phi: float, wires: Sequence[int]) -> Circuit:
    """``e^{i phi (2 Pi - I)}`` with ``Pi = |0...0><0...0|`` on ``wires`` (in place): QSVT's projector-controlled phase."""
    wires = list(wires)
    if len(wires) == 1:
        return circuit.rz(-2 * phi, wires[0])
    diagonal = np.full(2 ** len(wires), np.exp(-1j * phi))
    diagonal[0] = np.exp(1j * phi)
    return circuit.unitary(np.diag(diagonal), wires)


def block_encode_pauli_sum(observable: Observable, num_wires: int | None = None) -> BlockEncoding:
    """LCU block encoding ``PREPARE^+ SELECT PREPARE`` of ``H = sum_j c_j P_j``, block ``H / sum_j |c_j|``.

    ``ceil(log2(terms))`` ancillas (at least one); PREPARE is a Householder reflection with
    first column ``sqrt(|c_j| / lambda)``, SELECT applies ``sign(c_j) P_j`` for ancilla value
    ``j``. The unitary is Hermitian, so it serves QSVT and the qubitization walk.

    Args:
        observable: a Pauli-sum :class:`~qmlsim.circuits.Observable` (real coefficients).
        num_wires: system size (default: one more than the largest wire used).

    Example:
        >>> from qmlsim.circuits import X, Z
        >>> be = block_encode_pauli_sum(0.5 * Z(0) @ Z(1) - 0.25 * X(0), 2)
        >>> be.num_ancillas, be.scale
        (1, 0.75)
    """
    if not isinstance(observable, Observable) or not observable.is_pauli:
        raise ValueError("block_encode_pauli_sum needs a Pauli-sum Observable (for a dense matrix use block_encode_matrix)")
    terms = [t for t in observable.terms if isinstance(t, PauliTerm) and t.coeff != 0]
    if not terms:
        raise ValueError("the observable has no nonzero term")
    used = max((w for t in terms for w, _ in t.word), default=0) + 1
    n = used if num_wires is None else int(num_wires)
    if n < used:
        raise ValueError(f"the observable acts on wire {used - 1}; num_wires={n} is too small")
    k = max(1, math.ceil(math.log2(len(terms))))
    weights = np.array([abs(t.coeff) for t in terms])
    lam = float(weights.sum())
    amplitudes = np.zeros(2**k)
    amplitudes[: len(terms)] = np.sqrt(weights / lam)
    prepare = householder(amplitudes)
    ancillas = list(range(k))
    c = Circuit(k + n)
    c.unitary(prepare, ancillas)
    for j, term in enumerate(terms):
        zeros = [a for a in ancillas if not (j >> (k - 1 - a)) & 1]
        for a in zeros:
            c.x(a)
        for wire, letter in term.word:
            c.append(Op(letter.lower(), (k + wire,), controls=tuple(ancillas)))
        if term.coeff < 0:  # -1 on ancilla value j: Z on the last ancilla, controlled by the others
            c.append(Op("z", (ancillas[-1],), controls=tuple(ancillas[:-1])))
        for a in zeros:
            c.x(a)
    c.unitary(prepare.conj().T, ancillas)
    return BlockEncoding(c, k, lam, True, None)


def walk_operator(block_encoding: BlockEncoding) -> Circuit:
    """The qubitization walk ``W = (2 Pi - I) U`` of a Hermitian block encoding of ``H``.

    On each 2-dimensional invariant subspace through ``|0>|E>`` (``H |E> = E |E>``), ``W`` is
    a rotation with eigenvalues ``e^{+-i arccos(E / alpha)}``.
    """
    if not block_encoding.hermitian:
        raise ValueError("the walk operator needs a Hermitian block encoding (U = U^dagger), such as the LCU one")
    c = block_encoding.circuit.copy()
    ancillas = range(block_encoding.num_ancillas)
    projector_phase(c, math.pi / 2, ancillas)  # e^{i pi/2 (2 Pi - I)} = i (2 Pi - I)
    return global_phase(c, -math.pi / 2)


def qsvt(block_encoding: BlockEncoding, phases: Sequence[float]) -> Circuit:
    """QSVT sequence on a Hermitian block encoding, for Wx phases: its block is ``<0|U_Wx(A/alpha)|0>``.

    With phases from :func:`qmlsim.circuits.qsp.angles` for ``P``, the block's imaginary part is
    ``P(A / alpha)`` (:func:`qsvt_polynomial` gives ``P`` itself). The phases are converted to
    the reflection convention, applied as projector-controlled phases ``e^{i phi (2 Pi - I)}``
    between the ``d`` applications of ``U``, and the global phase ``i^d`` is kept.
    """
    if not block_encoding.hermitian:
        raise ValueError(
            "qsvt here takes a Hermitian block encoding (U = U^dagger), e.g. block_encode_matrix of a Hermitian "
            "matrix or block_encode_pauli_sum"
        )
    phases = _phases(phases)
    reflection = convert_phases(phases, "Wx", "reflection")
    d = phases.size - 1
    ancillas = range(block_encoding.num_ancillas)
    c = Circuit(block_encoding.circuit.num_wires)
    projector_phase(c, float(reflection[-1]), ancillas)
    for phi in reflection[-2::-1]:
        c.compose(block_encoding.circuit)
        projector_phase(c, float(phi), ancillas)
    return global_phase(c, d * math.pi / 2)


def qsvt_polynomial(block_encoding: BlockEncoding, phases: Sequence[float]) -> BlockEncoding:
    """Block encoding of ``P(A / alpha)`` itself: ``(U_Phi - U_-Phi) / 2i`` by one more ancilla (wire 0).

    ``<0|U_-Phi|0>`` is the complex conjugate of ``<0|U_Phi|0>`` (Wx convention), so the
    combination keeps exactly the imaginary part, ``P``. Success probability on a state
    ``|psi>``: ``|P(A/alpha) psi|^2``.
    """
    phases = _phases(phases)
    plus, minus = qsvt(block_encoding, phases), qsvt(block_encoding, -phases)
    inner = plus.num_wires
    c = Circuit(inner + 1)
    c.h(0).x(0)
    c.compose(plus.controlled(1))  # on ancilla |0>
    c.x(0)
    c.compose(minus.controlled(1))  # on ancilla |1>
    c.z(0)
    global_phase(c, -math.pi / 2)  # 1 / i
    c.h(0)
    return BlockEncoding(c, block_encoding.num_ancillas + 1, block_encoding.scale, False, block_encoding.matrix)


def gqsp(unitary: Circuit | Any, angles: Any) -> Circuit:
    """GQSP on ``unitary`` (a circuit or a matrix): control wire 0, then the unitary's wires.

    The ancilla-``|0>`` block is ``P(U)`` for ``angles = gqsp_angles(P)`` (shape ``(3, d + 1)``,
    PennyLane's ``qml.GQSP`` layout); ``U`` is applied controlled on the ancilla being ``|0>``.

    Example:
        >>> import numpy as np
        >>> from qmlsim.circuits.qsp import gqsp_angles
        >>> c = gqsp(np.diag([1.0, -1.0]), gqsp_angles(np.array([0.2, 0.5])))
        >>> c.num_wires
        2
    """
    if not isinstance(unitary, Circuit):
        matrix = np.asarray(unitary, dtype=complex)
        n = _num_wires(matrix.shape[0] if matrix.ndim == 2 else 0, "the unitary")
        unitary = Circuit(n).unitary(matrix, list(range(n)))
    if unitary.num_inputs or unitary.num_weights:
        raise ValueError("gqsp needs a unitary without inputs or weights (bind them first)")
    angles = np.asarray(angles, dtype=float)
    if angles.ndim != 2 or angles.shape[0] != 3:
        raise ValueError(f"GQSP angles have shape (3, d + 1) (theta, phi, lam), got {angles.shape}")
    controlled = unitary.controlled(1)
    c = Circuit(unitary.num_wires + 1)
    c.gqsp(*angles[:, 0], 0)
    for theta, phi, lam in angles[:, 1:].T:
        c.x(0)
        c.compose(controlled)
        c.x(0)
        c.gqsp(theta, phi, lam, 0)
    return c
