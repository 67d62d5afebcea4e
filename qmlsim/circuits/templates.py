"""Circuit templates (feature maps, ansatzes, data re-uploading) and model Hamiltonians.

The circuit templates return a :class:`Circuit`; the spin models (``tfim``, ``tfim_2d``,
``heisenberg_xxz``) return Pauli-sum :class:`Observable` objects.

>>> c = zz_feature_map(2, reps=2)
>>> c.num_inputs, c.num_weights
(2, 0)
"""
from __future__ import annotations

import itertools

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.observables import Observable, PauliTerm

__all__ = [
    "zz_feature_map",
    "angle_encoding",
    "hardware_efficient_ansatz",
    "havlicek_ansatz",
    "data_reuploading",
    "compute_uncompute",
    "tfim",
    "tfim_2d",
    "heisenberg_xxz",
]

_ENTANGLEMENTS = ("full", "linear", "circular")


def _pairs(num_wires: int, entanglement: str) -> list[tuple[int, int]]:
    if entanglement not in _ENTANGLEMENTS:
        raise ValueError(f"unknown entanglement {entanglement!r}; choose one of {_ENTANGLEMENTS}")
    if entanglement == "full":
        return list(itertools.combinations(range(num_wires), 2))
    pairs = [(i, i + 1) for i in range(num_wires - 1)]
    if entanglement == "circular" and num_wires > 2:
        pairs.append((num_wires - 1, 0))
    return pairs


def zz_feature_map(num_wires: int, reps: int = 2, entanglement: str = "full", alpha: float = 2.0) -> Circuit:
    """Havlicek et al.'s second-order Pauli-Z feature map, with Qiskit's ``zz_feature_map`` gate sequence.

    Per repetition: ``H`` on every wire, ``P(alpha * x_i)`` on wire ``i``, then for each
    pair ``(i, j)``: ``CX(i, j) P(alpha * (pi - x_i)(pi - x_j)) on j  CX(i, j)``.
    Qiskit numbers its qubits little-endian; the states here equal Qiskit's with the
    wire order reversed, and the kernels are identical (``docs/conventions.md``).

    Args:
        num_wires: number of wires and of input features.
        reps: number of repetitions.
        entanglement: ``"full"`` (all pairs), ``"linear"`` or ``"circular"``.
        alpha: angle scale (Qiskit's default 2).

    Returns:
        A circuit with ``num_wires`` inputs and no weights.

    Example:
        >>> len(zz_feature_map(3, reps=1, entanglement="linear"))
        12
    """
    c = Circuit(num_wires)
    x = c.inputs(num_wires)
    if not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ValueError(f"reps must be a positive integer, got {reps!r}")
    pairs = _pairs(num_wires, entanglement)
    for _ in range(reps):
        for i in range(num_wires):
            c.h(i)
        for i in range(num_wires):
            c.p(alpha * x[i], i)
        for i, j in pairs:
            c.cx(i, j).p(alpha * (np.pi - x[i]) * (np.pi - x[j]), j).cx(i, j)
    return c


def angle_encoding(num_wires: int, rotation: str = "ry") -> Circuit:
    """One rotation per wire with angle ``x_i``: ``rotation`` in ``"rx" | "ry" | "rz"``.

    Example:
        >>> angle_encoding(3).num_inputs
        3
    """
    if rotation not in ("rx", "ry", "rz"):
        raise ValueError(f"rotation must be 'rx', 'ry' or 'rz', got {rotation!r}")
    c = Circuit(num_wires)
    x = c.inputs(num_wires)
    for i in range(num_wires):
        c.gate(rotation, x[i], i)
    return c


def hardware_efficient_ansatz(num_wires: int, layers: int, entanglement: str = "circular") -> Circuit:
    """Layers of ``RY(w) RZ(w)`` on every wire followed by a CNOT ring.

    Args:
        num_wires: number of wires.
        layers: number of layers; the circuit has ``2 * num_wires * layers`` weights.
        entanglement: CNOT pattern, ``"circular"`` (ring, default), ``"linear"`` or ``"full"``.

    Example:
        >>> hardware_efficient_ansatz(4, 2).num_weights
        16
    """
    c = Circuit(num_wires)
    pairs = _pairs(num_wires, entanglement) if num_wires > 1 else []
    for _ in range(layers):
        w = c.weights(2 * num_wires)
        for i in range(num_wires):
            c.ry(w[2 * i], i).rz(w[2 * i + 1], i)
        for i, j in pairs:
            c.cx(i, j)
    return c


def havlicek_ansatz(num_wires: int, reps: int, entanglement: str = "full") -> Circuit:
    """The variational circuit of Havlicek et al.: local ``RY RZ`` layers with ``CZ`` entanglers between.

    ``W = U_loc^(reps) U_ent ... U_loc^(1) U_ent U_loc^(0)``, so ``reps = 0`` is one
    local layer without entanglement; ``2 * num_wires * (reps + 1)`` weights.

    Example:
        >>> havlicek_ansatz(2, 4).num_weights
        20
    """
    c = Circuit(num_wires)
    pairs = _pairs(num_wires, entanglement) if num_wires > 1 else []
    for layer in range(reps + 1):
        if layer > 0:
            for i, j in pairs:
                c.cz(i, j)
        w = c.weights(2 * num_wires)
        for i in range(num_wires):
            c.ry(w[2 * i], i).rz(w[2 * i + 1], i)
    return c


def data_reuploading(num_wires: int, num_inputs: int | None = None, layers: int = 3, entangle: bool = True) -> Circuit:
    """Data re-uploading circuit (Perez-Salinas et al. 2020) with trainable encodings.

    Each layer applies, on wire ``q``, ``Rot(w, w, w)`` then ``RY(a * x_k + b)`` with
    trainable ``a, b`` and ``k = q mod num_inputs`` (so more features than wires are
    spread over the layers as ``k = (q + layer * num_wires) mod num_inputs``), then a
    ring of ``CZ`` when ``entangle`` and ``num_wires > 1``. A final ``Rot`` layer closes it.

    Example:
        >>> c = data_reuploading(2, num_inputs=2, layers=2)
        >>> c.num_inputs, c.num_weights
        (2, 26)
    """
    num_inputs = num_wires if num_inputs is None else num_inputs
    c = Circuit(num_wires)
    x = c.inputs(num_inputs)
    pairs = _pairs(num_wires, "circular") if (entangle and num_wires > 1) else []
    for layer in range(layers):
        for q in range(num_wires):
            w = c.weights(5)
            k = (q + layer * num_wires) % num_inputs if num_inputs else None
            c.rot(w[0], w[1], w[2], q)
            if k is not None:
                c.ry(w[3] * x[k] + w[4], q)
        for i, j in pairs:
            c.cz(i, j)
    for q in range(num_wires):
        w = c.weights(3)
        c.rot(w[0], w[1], w[2], q)
    return c


def compute_uncompute(feature_map: Circuit) -> Circuit:
    """``U(z)^dagger U(x)``: inputs ``x`` first then ``z``; weights shared by both halves.

    The probability of all zeros on ``|0...0>`` is ``|<Phi(z)|Phi(x)>|^2``.

    Example:
        >>> compute_uncompute(zz_feature_map(2)).num_inputs
        4
    """
    return feature_map.copy().compose(feature_map.inverse(), share_inputs=False, share_weights=True)


# --- model Hamiltonians -----------------------------------------------------------------------
def _chain_bonds(num_wires: int, periodic: bool) -> list[tuple[int, int]]:
    if isinstance(num_wires, bool) or not isinstance(num_wires, (int, np.integer)) or num_wires < 2:
        raise ValueError(f"a spin chain needs num_wires >= 2, got {num_wires!r}")
    bonds = [(i, i + 1) for i in range(num_wires - 1)]
    if periodic and num_wires > 2:
        bonds.append((num_wires - 1, 0))
    return bonds


def _ising(bonds: list[tuple[int, int]], num_wires: int, h: float, j: float) -> Observable:
    terms = [PauliTerm(-float(j), ((min(a, b), "Z"), (max(a, b), "Z"))) for a, b in bonds]
    terms += [PauliTerm(-float(h), ((i, "X"),)) for i in range(num_wires)]
    return Observable(terms)


def tfim(num_wires: int, h: float = 1.0, j: float = 1.0, periodic: bool = False) -> Observable:
    """Transverse-field Ising chain ``-j sum_i Z_i Z_{i+1} - h sum_i X_i`` (open, or periodic with ``periodic=True``).

    Example:
        >>> H = tfim(3, h=0.5)
        >>> len(H.terms)
        5
    """
    return _ising(_chain_bonds(num_wires, periodic), num_wires, h, j)


def tfim_2d(rows: int, cols: int, h: float = 1.0, j: float = 1.0, periodic: bool = False) -> Observable:
    """Transverse-field Ising model on a ``rows x cols`` square lattice; site ``(r, c)`` is wire ``r * cols + c``.

    Example:
        >>> len(tfim_2d(2, 2).terms)  # 4 bonds and 4 fields
        8
    """
    for name, value in (("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if rows * cols < 2:
        raise ValueError("the lattice needs at least two sites")
    site = lambda r, c: r * cols + c  # noqa: E731
    bonds = set()
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0)):
                rr, cc = r + dr, c + dc
                if periodic:
                    rr, cc = rr % rows, cc % cols
                if rr < rows and cc < cols and (rr, cc) != (r, c):
                    bonds.add(tuple(sorted((site(r, c), site(rr, cc)))))
    return _ising(sorted(bonds), rows * cols, h, j)


def heisenberg_xxz(
    num_wires: int, delta: float = 1.0, j: float = 1.0, periodic: bool = False, h: float = 0.0
) -> Observable:
    """Heisenberg XXZ chain ``j sum_i (X_i X_{i+1} + Y_i Y_{i+1} + delta Z_i Z_{i+1}) - h sum_i Z_i``.

    Example:
        >>> len(heisenberg_xxz(3, delta=0.5).terms)
        6
    """
    terms = []
    for a, b in _chain_bonds(num_wires, periodic):
        a, b = min(a, b), max(a, b)
        for letter, coeff in (("X", j), ("Y", j), ("Z", j * delta)):
            if coeff:
                terms.append(PauliTerm(float(coeff), ((a, letter), (b, letter))))
    if h:
        terms += [PauliTerm(-float(h), ((i, "Z"),)) for i in range(num_wires)]
    return Observable(terms)
