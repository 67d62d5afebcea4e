"""Quantum linear solvers on the engine: QSVT with the 1/x polynomial, and textbook HHL for comparison.

Both build their circuit with :mod:`qmlsim.circuits.qsp`, run it on an executor that
returns states (the default :class:`~qmlsim.simulators.Simulator`), post-select the
ancillas and return the normalised solution ``A^{-1} b / |A^{-1} b|`` together with the
success probability and the circuit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qmlsim.circuits import Circuit
from qmlsim.circuits.qsp import (
    QSPPolynomial,
    angles,
    block_encode_matrix,
    inverse_polynomial,
    qsvt_polynomial,
    state_preparation,
)

__all__ = ["LinearSolveResult", "qsvt_solve", "hhl_solve", "hhl_circuit"]


@dataclass(frozen=True)
class LinearSolveResult:
    """What a quantum linear solver returns (final class).

    Attributes:
        state: the normalised post-selected system state, ``(2^n,)`` complex (``A^{-1} b`` up to normalisation).
        success_probability: probability of the post-selection.
        circuit: the whole circuit (ancillas first, system last; HHL: ancilla, clock, system).
        num_ancillas: wires before the system register.
        polynomial: the 1/x polynomial (QSVT), else ``None``.
    """

    state: np.ndarray
    success_probability: float
    circuit: Circuit
    num_ancillas: int
    polynomial: QSPPolynomial | None = None

    def fidelity(self, solution: Any) -> float:
        """``|<solution|state>|^2`` with ``solution`` normalised (e.g. ``numpy.linalg.solve(A, b)``)."""
        v = np.asarray(solution, dtype=complex)
        return float(abs(np.vdot(v / np.linalg.norm(v), self.state)) ** 2)


def _hermitian_system(matrix: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.asarray(matrix, dtype=complex)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"A must be a square matrix, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("A contains NaN or infinite entries")
    if np.abs(a - a.conj().T).max() > 1e-10 * max(1.0, np.abs(a).max()):
        raise ValueError(
            "A must be Hermitian; for a general A solve the Hermitian system [[0, A], [A^+, 0]] (x; 0) = (0; b) instead"
        )
    dim = a.shape[0]
    if dim < 2 or dim & (dim - 1):
        raise ValueError(f"A has dimension {dim}; it must be a power of two >= 2 (pad A with an identity block)")
    vector = np.asarray(b, dtype=complex).reshape(-1)
    if vector.size != dim:
        raise ValueError(f"b has {vector.size} entries, A is {dim} x {dim}")
    if not np.all(np.isfinite(vector)) or np.linalg.norm(vector) == 0:
        raise ValueError("b must be a finite, nonzero vector")
    eigenvalues = np.linalg.eigvalsh(a)
    if np.abs(eigenvalues).min() <= 1e-14 * np.abs(eigenvalues).max():
        raise ValueError("A is singular (an eigenvalue is 0); a linear solver needs an invertible A")
    return a, vector, eigenvalues


def _post_select(device: Any, circuit: Circuit, num_ancillas: int, keep: int, system: int) -> tuple[np.ndarray, float]:
    from qmlsim.simulators.simulator import Simulator  # noqa: PLC0415 - the default device

    device = Simulator() if device is None else device
    state = np.asarray(device.statevector(circuit)).reshape(-1)
    dim = 2**system
    # ancillas are the most significant wires: ancilla value ``keep`` is one contiguous slice
    block = state[keep * dim : (keep + 1) * dim]
    probability = float(np.vdot(block, block).real)
    if probability <= 0:
        raise RuntimeError("the post-selection has probability 0; the circuit cannot produce a solution")
    return block / math.sqrt(probability), probability


def qsvt_solve(
    matrix: Any, b: Any, kappa: float | None = None, eps: float = 1e-8, device: Any = None
) -> LinearSolveResult:
    """Solve ``A x = b`` by QSVT with an odd polynomial close to ``1/x`` (Hermitian, invertible ``A``).

    ``A`` is divided by its spectral norm, block encoded by its unitary dilation, and the
    polynomial ``P(y) ~ scale / (kappa y)`` on ``1/kappa <= |y| <= 1`` is applied by
    :func:`~qmlsim.circuits.qsp.qsvt_polynomial`; ``|b>`` is prepared by one dense unitary.

    Args:
        matrix: Hermitian ``(2^n, 2^n)``.
        b: right-hand side ``(2^n,)``.
        kappa: a bound on the condition number ``max|lambda| / min|lambda|``; default: computed from ``A``.
        eps: relative accuracy of the polynomial on the spectrum (the fidelity is about ``1 - eps^2``).
        device: an executor with ``statevector`` (default ``Simulator()``).

    Returns:
        :class:`LinearSolveResult`.

    Raises:
        ValueError: non-Hermitian, singular or non-power-of-two ``A``; ``kappa`` below the true condition number.

    Example:
        >>> A = np.array([[1.0, -1 / 3], [-1 / 3, 1.0]])
        >>> result = qsvt_solve(A, [1.0, 0.0], eps=1e-6)
        >>> result.fidelity(np.linalg.solve(A, [1.0, 0.0])) > 1 - 1e-10
        True
    """
    a, vector, eigenvalues = _hermitian_system(matrix, b)
    norm = float(np.abs(eigenvalues).max())
    condition = norm / float(np.abs(eigenvalues).min())
    if kappa is None:
        kappa = condition
    elif kappa < condition * (1 - 1e-9):
        raise ValueError(f"kappa={kappa} is below A's condition number {condition:.6g}; pass kappa >= {condition:.6g}")
    poly = inverse_polynomial(kappa, eps)
    phases = angles(poly)
    encoding = qsvt_polynomial(block_encode_matrix(a, scale=norm), phases)
    n = int(round(math.log2(a.shape[0])))
    k = encoding.num_ancillas
    circuit = Circuit(k + n)
    circuit.compose(state_preparation(vector), wires=list(range(k, k + n)))
    circuit.compose(encoding.circuit)
    state, probability = _post_select(device, circuit, k, 0, n)
    return LinearSolveResult(state, probability, circuit, k, poly)


def hhl_circuit(matrix: Any, b: Any, clock_wires: int, time: float, constant: float | None = None) -> Circuit:
    """Textbook HHL: QPE of ``e^{i A t}``, reciprocal rotation of an ancilla, inverse QPE.

    Wires: the ancilla (0), the clock register (``1 .. clock_wires``, most significant first),
    then the system. Clock value ``k`` stands for ``lambda = 2 pi k / (t 2^m)``; when ``A`` has
    negative eigenvalues, values ``k >= 2^m / 2`` stand for ``k - 2^m`` (two's complement, so
    then ``|lambda| t < pi`` is needed instead of ``lambda t < 2 pi``). The ancilla turns to
    ``|1>`` with amplitude ``C / lambda``; ``C`` defaults to the smallest ``|lambda|`` of the grid.
    The powers of ``e^{iAt}`` and the QFT are dense unitaries (exact; this is the comparison
    baseline, not a compiled algorithm).
    """
    a, vector, eigenvalues = _hermitian_system(matrix, b)
    signed = bool(eigenvalues.min() < 0)
    m = int(clock_wires)
    if m < 1:
        raise ValueError(f"clock_wires must be a positive integer, got {clock_wires!r}")
    n = int(round(math.log2(a.shape[0])))
    size = 2**m
    grid = 2 * math.pi / (time * size)
    lambdas = np.array([grid * (k - size if signed and k >= size // 2 else k) for k in range(size)])
    constant = float(np.abs(lambdas[1:]).min()) if constant is None else float(constant)
    values, vectors = np.linalg.eigh(a)
    clock = list(range(1, m + 1))
    system = list(range(m + 1, m + 1 + n))
    qft = np.exp(2j * np.pi * np.outer(np.arange(size), np.arange(size)) / size) / math.sqrt(size)

    def phase_estimation(c: Circuit) -> None:
        for w in clock:
            c.h(w)
        for i, w in enumerate(clock):  # the most significant clock wire controls the largest power
            power = (vectors * np.exp(1j * values * time * 2 ** (m - 1 - i))) @ vectors.conj().T
            c.compose(Circuit(n).unitary(power, list(range(n))).controlled(1), wires=[w, *system])
        c.unitary(qft.conj().T, clock)

    c = Circuit(1 + m + n)
    c.compose(state_preparation(vector), wires=system)
    qpe = Circuit(1 + m + n)
    phase_estimation(qpe)
    c.compose(qpe)
    for k in range(1, size):
        ratio = constant / lambdas[k]
        if abs(ratio) > 1:
            raise ValueError(f"C = {constant} exceeds |lambda| = {abs(lambdas[k]):.4g} of clock value {k}; lower C")
        zeros = [clock[i] for i in range(m) if not (k >> (m - 1 - i)) & 1]
        for w in zeros:
            c.x(w)
        rotation = Circuit(1).ry(2 * math.asin(ratio), 0).controlled(m)
        c.compose(rotation, wires=[*clock, 0])
        for w in zeros:
            c.x(w)
    c.compose(qpe.inverse())
    return c


def hhl_solve(
    matrix: Any, b: Any, clock_wires: int, time: float, constant: float | None = None, device: Any = None
) -> LinearSolveResult:
    """Solve ``A x = b`` by textbook HHL (:func:`hhl_circuit`), post-selecting the ancilla on ``|1>``.

    Exact when every ``lambda t 2^m / (2 pi)`` is an integer; needs ``|lambda| t < pi`` (else
    the phase wraps around and the answer is wrong, as the textbook warns).

    Example:
        >>> A = np.array([[1.0, -1 / 3], [-1 / 3, 1.0]])
        >>> r = hhl_solve(A, [1.0, 0.0], clock_wires=2, time=3 * np.pi / 4, constant=2 / 3)
        >>> round(r.success_probability, 10), r.fidelity(np.linalg.solve(A, [1.0, 0.0])) > 1 - 1e-10
        (0.625, True)
    """
    circuit = hhl_circuit(matrix, b, clock_wires, time, constant)
    n = circuit.num_wires - 1 - clock_wires
    # ancilla |1> with the clock back at |0...0>: index 2^(m) in the (ancilla, clock) register
    state, probability = _post_select(device, circuit, 1 + clock_wires, 2**clock_wires, n)
    return LinearSolveResult(state, probability, circuit, 1 + clock_wires)
