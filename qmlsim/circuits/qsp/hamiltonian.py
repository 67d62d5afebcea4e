"""Hamiltonian simulation circuits: Trotter-Suzuki product formulas and qubitization with GQSP.

``H`` is a Pauli-sum :class:`~qmlsim.circuits.Observable` (the models are in
:mod:`qmlsim.circuits.templates`: ``tfim``, ``tfim_2d``, ``heisenberg_xxz``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.expressions import Expr
from qmlsim.circuits.observables import Observable, PauliTerm
from qmlsim.circuits.qsp.circuits import BlockEncoding, block_encode_pauli_sum, gqsp, walk_operator
from qmlsim.circuits.qsp.gqsp_phases import gqsp_angles, laurent_series

__all__ = ["pauli_rotation", "trotter", "qubitization_evolution", "jacobi_anger_laurent"]

_SUZUKI_P = 1 / (4 - 4 ** (1 / 3))


def pauli_rotation(circuit: Circuit, angle: Any, word: tuple[tuple[int, str], ...]) -> Circuit:
    """Append ``exp(-i angle/2 P)`` for a Pauli word (in place): basis change, CNOT ladder, ``RZ``, undo.

    One- and two-qubit words of one letter use ``rx``/``ry``/``rz`` and ``rxx``/``ryy``/``rzz`` directly.
    """
    if not word:
        return circuit  # the identity: a global phase, irrelevant to a whole evolution
    letters = {letter for _, letter in word}
    wires = [w for w, _ in word]
    if len(word) == 1:
        return circuit.gate("r" + word[0][1].lower(), angle, wires[0])
    if len(word) == 2 and len(letters) == 1:
        return circuit.gate("r" + 2 * word[0][1].lower(), angle, *wires)
    for wire, letter in word:  # rotate each factor to Z
        if letter == "X":
            circuit.h(wire)
        elif letter == "Y":
            circuit.sdg(wire).h(wire)
    for a, b in zip(wires, wires[1:]):
        circuit.cx(a, b)
    circuit.rz(angle, wires[-1])
    for a, b in reversed(list(zip(wires, wires[1:]))):
        circuit.cx(a, b)
    for wire, letter in word:
        if letter == "X":
            circuit.h(wire)
        elif letter == "Y":
            circuit.h(wire).s(wire)
    return circuit


def _pauli_terms(observable: Observable) -> list[PauliTerm]:
    if not isinstance(observable, Observable) or not observable.is_pauli:
        raise ValueError("Hamiltonian simulation here needs a Pauli-sum Observable (e.g. templates.tfim(4))")
    return [t for t in observable.terms if t.coeff != 0]


def trotter(
    hamiltonian: Observable, time: float | Expr, steps: int = 1, order: int = 2, num_wires: int | None = None
) -> Circuit:
    """Product-formula circuit for ``exp(-i H time)``: Lie-Trotter (order 1), Strang (2) or Suzuki (4).

    The error falls as ``(time/steps)^order`` per unit time. ``time`` may be an expression of
    the circuit's inputs, so one circuit serves every time (declare ``x`` on the result:
    pass ``time=Symbol("x", 0)`` after ``circuit.inputs``; the simplest is a float).

    Args:
        hamiltonian: Pauli-sum observable.
        time: evolution time.
        steps: repetitions of the basic formula.
        order: 1, 2 or 4.
        num_wires: system size (default: one more than the largest wire used).

    Example:
        >>> from qmlsim.circuits.templates import tfim
        >>> c = trotter(tfim(3), time=0.5, steps=4, order=2)
        >>> c.num_wires
        3
    """
    terms = _pauli_terms(hamiltonian)
    if order not in (1, 2, 4):
        raise ValueError(f"order must be 1, 2 or 4, got {order}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    used = max((w for t in terms for w, _ in t.word), default=0) + 1
    n = used if num_wires is None else int(num_wires)
    if n < used:
        raise ValueError(f"the Hamiltonian acts on wire {used - 1}; num_wires={n} is too small")
    c = Circuit(n)
    dt = time / steps

    def layer(fraction: float, sequence: list[PauliTerm]) -> None:
        for t in sequence:  # exp(-i c dt P) = R_P(2 c dt)
            pauli_rotation(c, 2 * t.coeff * fraction * dt, t.word)

    def strang(fraction: float) -> None:
        layer(fraction / 2, terms)
        layer(fraction / 2, terms[::-1])

    for _ in range(steps):
        if order == 1:
            layer(1.0, terms)
        elif order == 2:
            strang(1.0)
        else:
            for fraction in (_SUZUKI_P, _SUZUKI_P, 1 - 4 * _SUZUKI_P, _SUZUKI_P, _SUZUKI_P):
                strang(fraction)
    return c


def jacobi_anger_laurent(tau: float, eps: float = 1e-12) -> np.ndarray:
    """Coefficients ``c_k``, ``k = -K .. K``, of ``exp(-i tau cos(theta)) = sum_k c_k e^{i k theta}`` to ``eps``.

    ``c_k = (-i)^|k| J_|k|(tau)``, computed by an FFT of the function (no Bessel routine
    needed); ``K`` grows like ``e |tau| / 2 + log(1/eps)``.
    """
    tau = float(tau)
    k_max = int(math.ceil(math.e * abs(tau) / 2 + math.log(1 / eps))) + 8
    size = 1 << int(math.ceil(math.log2(4 * k_max + 64)))
    return laurent_series(lambda theta: np.exp(-1j * tau * np.cos(theta)), size, tol=eps / (4 * k_max))


def qubitization_evolution(
    hamiltonian: Observable, time: float, eps: float = 1e-10, scale: float = 0.99, num_wires: int | None = None
) -> BlockEncoding:
    """Block encoding of ``scale * exp(-i H time)`` by GQSP on the qubitization walk of the LCU of ``H``.

    The walk ``W`` has eigenvalues ``e^{+-i theta}`` with ``cos(theta) = E / lambda`` on the
    subspace of each eigenvalue ``E``; the Jacobi-Anger series of ``exp(-i lambda t cos theta)``
    is a Laurent polynomial of degree ``K`` in ``e^{i theta}``, even in ``theta``, so GQSP
    with ``P(z) = scale * z^K * sum_k c_k z^k`` followed by ``W^-K`` gives it on the whole
    subspace. ``2K`` controlled walks, ``K ~ e lambda t / 2 + log(1/eps)``.

    Args:
        hamiltonian: Pauli-sum observable, ``lambda = sum |c_j|``.
        time: evolution time.
        eps: truncation error of the series.
        scale: block ``= scale * exp(-i H t)``; below 1 so the GQSP completion exists.
        num_wires: system size.

    Returns:
        A :class:`BlockEncoding` (ancillas: the GQSP control, then the LCU ancillas).

    Example:
        >>> from qmlsim.circuits.templates import tfim
        >>> be = qubitization_evolution(tfim(2), time=0.3)
        >>> be.num_ancillas
        3
    """
    if not 0 < scale < 1:
        raise ValueError(f"scale must lie in (0, 1): GQSP needs |P| < 1 on the circle; got {scale}")
    lcu = block_encode_pauli_sum(hamiltonian, num_wires)
    walk = walk_operator(lcu)
    laurent = jacobi_anger_laurent(lcu.scale * time, eps)
    k = (laurent.size - 1) // 2
    z = np.exp(2j * np.pi * np.arange(4096) / 4096)
    peak = float(np.abs(np.polynomial.polynomial.polyval(z, laurent)).max())
    p = scale / max(peak, 1.0) * laurent
    c = gqsp(walk, gqsp_angles(p))
    inverse_walk = walk.inverse()
    for _ in range(k):
        c.compose(inverse_walk, wires=list(range(1, c.num_wires)))
    return BlockEncoding(c, 1 + lcu.num_ancillas, 1.0 / scale * max(peak, 1.0), False, None)
