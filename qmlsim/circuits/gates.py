"""The gate library: every gate is one entry of :data:`GATES`.

A :class:`GateDef` holds the gate's matrix as a function of its angles (vectorised:
angles of shape ``()`` or ``(batch,)`` give matrices ``(..., 2**k, 2**k)``), the
derivative matrices used by the adjoint method, the spectrum of its generators used by
parameter-shift rules, and the structure that the engine's fast paths exploit
(diagonal, permutation, or a controlled version of another gate).

Conventions (``docs/conventions.md``): wire 0 is the most significant bit of a local
matrix index; rotations are ``exp(-i theta P / 2)``.

Adding a gate is one entry in :data:`GATES` (its matrix function, and an exact
decomposition into other gates where Qiskit, PennyLane or OpenQASM lack it) plus its
independent reference matrix in ``tests/reference.py``: the converters, the numba
kernels and the PennyLane device read everything else from the entry
(``docs/contributing.md``, "Adding a gate").

>>> import numpy as np
>>> m = GATES["rx"].matrix([np.pi], np, np.complex128)
>>> np.allclose(m, [[0, -1j], [-1j, 0]])
True
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["GateDef", "GATES", "PAULI_MATRICES", "NUMBA_KERNELS", "controlled_matrix"]

MatrixFn = Callable[[Sequence[Any], Any, Any], Any]
Decomposition = Callable[[Sequence[Any]], "list[tuple[str, tuple, tuple[int, ...]]]"]

NUMBA_KERNELS = ("rx", "ry", "rz", "p", "u3", "rot", "rxx", "ryy", "rzz")
"""Names of the hand-written numba matrix builders of :mod:`qmlsim.simulators.fast.kernels`.

A parametric gate names one of them in :attr:`GateDef.kernel`; a gate with
``kernel=None`` runs on the numba path's generic kernel, which reads its matrix (built
by :attr:`GateDef.matrix`, per row) from an array. Both are exact; a builder saves
the per-row NumPy work."""

PAULI_MATRICES = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}
_H = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)
_SX = np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]], dtype=complex) / 2
_SWAP = np.eye(4, dtype=complex)[[0, 2, 1, 3]]
_ISWAP = np.array([[1, 0, 0, 0], [0, 0, 1j, 0], [0, 1j, 0, 0], [0, 0, 0, 1]], dtype=complex)
_PAULI_ROTATION_SPECTRUM = ((-0.5, 0.5),)
_PHASE_SPECTRUM = ((0.0, -1.0),)


@dataclass(frozen=True)
class GateDef:
    """A gate as data.

    Attributes:
        name: Qiskit's method name (``"cx"``, ``"rz"``, ...).
        num_wires: number of wires, controls included.
        num_params: number of angles.
        matrix: ``(params, xp, dtype) -> (..., D, D)`` with ``D = 2**num_wires``.
        derivatives: ``(params, xp, dtype) -> [dM/dparam_k]``, each ``(..., D, D)``;
            ``None`` for gates without angles.
        diagonal: ``(params, xp, dtype) -> (..., D)`` for diagonal gates, else ``None``.
        permutation: for angle-free permutation gates, ``out[j] = in[permutation[j]]``.
        base: for controlled gates, the name of the gate on the targets.
        num_controls: how many of the leading wires are controls.
        generator_spectrum: per angle, eigenvalues of ``G`` where the gate is
            ``exp(-i theta G)`` times factors independent of ``theta``; parameter-shift
            rules are derived from their differences.
        qiskit_name: the ``qiskit.circuit.library`` gate name (``""``: none; the
            converter writes :attr:`decomposition`).
        pennylane_name: the PennyLane operation name (``""``: none; the converter writes
            :attr:`decomposition`).
        qasm_name: the ``stdgates.inc`` gate of the same matrix (``""``: none;
            ``to_qasm3`` writes a ``gate`` definition from :attr:`decomposition`).
        decomposition: ``params -> [(gate name, angles, local wires), ...]``, an exact
            (global phase included) product of other :data:`GATES` entries, first
            applied first. Angles may be floats or symbolic expressions. Required when
            any of the three names above is empty.
        kernel: for parametric gates, the numba matrix builder (one of
            :data:`NUMBA_KERNELS`), or ``None`` for the numba path's generic kernel.
    """

    name: str
    num_wires: int
    num_params: int
    matrix: MatrixFn
    derivatives: MatrixFn | None = None
    diagonal: MatrixFn | None = None
    permutation: tuple[int, ...] | None = None
    base: str | None = None
    num_controls: int = 0
    generator_spectrum: tuple[tuple[float, ...], ...] = ()
    qiskit_name: str = ""
    pennylane_name: str = ""
    aliases: tuple[str, ...] = field(default=())
    qasm_name: str = ""
    decomposition: Decomposition | None = None
    kernel: str | None = None

    def __post_init__(self) -> None:
        # a gate that some path cannot represent fails here, at import, not silently later
        if self.kernel is not None and self.kernel not in NUMBA_KERNELS:
            raise ValueError(f"gate {self.name!r}: kernel must be one of {NUMBA_KERNELS} or None, got {self.kernel!r}")
        missing = [what for what, name in (("qiskit", self.qiskit_name), ("pennylane", self.pennylane_name),
                                           ("qasm", self.qasm_name)) if not name]
        if missing and self.decomposition is None:
            raise ValueError(f"gate {self.name!r} has no {', '.join(missing)} name: give it a decomposition")

    @property
    def num_targets(self) -> int:
        return self.num_wires - self.num_controls


def _entries(params: Sequence[Any], xp: Any) -> tuple[Any, ...]:
    return tuple(xp.asarray(p) for p in params)


def _from_entries(rows: Sequence[Sequence[Any]], xp: Any, dtype: Any) -> Any:
    """Stack scalar-or-batched entries into ``(..., d, d)``."""
    flat = [xp.asarray(e, dtype=dtype) for row in rows for e in row]
    shape = np.broadcast_shapes(*(tuple(e.shape) for e in flat))
    d = len(rows)
    stacked = xp.stack([xp.broadcast_to(e, shape) for e in flat], axis=-1)
    return stacked.reshape(shape + (d, d))


def _diag_to_matrix(diag: Any, xp: Any) -> Any:
    d = diag.shape[-1]
    return diag[..., :, None] * xp.asarray(np.eye(d), dtype=diag.dtype)


def _constant(matrix: np.ndarray) -> MatrixFn:
    def fn(params: Sequence[Any], xp: Any, dtype: Any) -> Any:
        return xp.asarray(matrix, dtype=dtype)

    return fn


def _constant_diagonal(diag: Sequence[complex]) -> MatrixFn:
    values = np.asarray(diag, dtype=complex)

    def fn(params: Sequence[Any], xp: Any, dtype: Any) -> Any:
        return xp.asarray(values, dtype=dtype)

    return fn


def _pauli_rotation(word: str) -> tuple[MatrixFn, MatrixFn]:
    """``exp(-i theta P / 2) = cos(theta/2) I - i sin(theta/2) P`` and its derivative."""
    pauli = PAULI_MATRICES[word[0]]
    for letter in word[1:]:
        pauli = np.kron(pauli, PAULI_MATRICES[letter])
    eye = np.eye(pauli.shape[0], dtype=complex)

    def combine(c: Any, s: Any, xp: Any, dtype: Any) -> Any:
        c = xp.asarray(c, dtype=dtype)[..., None, None]
        s = xp.asarray(s, dtype=dtype)[..., None, None]
        return c * xp.asarray(eye, dtype=dtype) + s * xp.asarray(-1j * pauli, dtype=dtype)

    def matrix(params: Sequence[Any], xp: Any, dtype: Any) -> Any:
        (theta,) = _entries(params, xp)
        return combine(xp.cos(theta / 2), xp.sin(theta / 2), xp, dtype)

    def derivatives(params: Sequence[Any], xp: Any, dtype: Any) -> list:
        (theta,) = _entries(params, xp)
        return [combine(-xp.sin(theta / 2) / 2, xp.cos(theta / 2) / 2, xp, dtype)]

    return matrix, derivatives


def _pauli_z_rotation_diagonal(num_wires: int) -> tuple[MatrixFn, MatrixFn]:
    """Diagonal of ``exp(-i theta Z...Z / 2)``: the sign is the parity of the basis index."""
    parity = np.array([(-1) ** bin(i).count("1") for i in range(2**num_wires)], dtype=float)

    def diagonal(params: Sequence[Any], xp: Any, dtype: Any) -> Any:
        (theta,) = _entries(params, xp)
        return xp.exp(xp.asarray(-0.5j, dtype=dtype) * xp.asarray(theta, dtype=dtype)[..., None] * xp.asarray(parity, dtype=dtype))

    def derivative(params: Sequence[Any], xp: Any, dtype: Any) -> list:
        factor = xp.asarray(-0.5j * parity, dtype=dtype)
        return [_diag_to_matrix(factor * diagonal(params, xp, dtype), xp)]

    return diagonal, derivative


def _phase_diagonal(params: Sequence[Any], xp: Any, dtype: Any) -> Any:
    (theta,) = _entries(params, xp)
    phase = xp.exp(1j * xp.asarray(theta, dtype=dtype))
    return xp.stack([xp.ones_like(phase), phase], axis=-1)


def _phase_derivative(params: Sequence[Any], xp: Any, dtype: Any) -> list:
    (theta,) = _entries(params, xp)
    phase = xp.exp(1j * xp.asarray(theta, dtype=dtype))
    return [_diag_to_matrix(xp.stack([xp.zeros_like(phase), 1j * phase], axis=-1), xp)]


def _u3_matrix(params: Sequence[Any], xp: Any, dtype: Any) -> Any:
    theta, phi, lam = _entries(params, xp)
    c, s = xp.cos(theta / 2), xp.sin(theta / 2)
    el, ep = xp.exp(1j * lam), xp.exp(1j * phi)
    return _from_entries([[c, -el * s], [ep * s, ep * el * c]], xp, dtype)


def _u3_derivatives(params: Sequence[Any], xp: Any, dtype: Any) -> list:
    theta, phi, lam = _entries(params, xp)
    c, s = xp.cos(theta / 2), xp.sin(theta / 2)
    el, ep = xp.exp(1j * lam), xp.exp(1j * phi)
    zero = xp.zeros_like(c)
    return [
        _from_entries([[-s / 2, -el * c / 2], [ep * c / 2, -ep * el * s / 2]], xp, dtype),
        _from_entries([[zero, zero], [1j * ep * s, 1j * ep * el * c]], xp, dtype),
        _from_entries([[zero, -1j * el * s], [zero, 1j * ep * el * c]], xp, dtype),
    ]


def _rot_matrix(params: Sequence[Any], xp: Any, dtype: Any) -> Any:
    """PennyLane's ``Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi)``."""
    phi, theta, omega = _entries(params, xp)
    c, s = xp.cos(theta / 2), xp.sin(theta / 2)
    a, b = xp.exp(-0.5j * (phi + omega)), xp.exp(0.5j * (phi - omega))
    return _from_entries([[a * c, -b * s], [xp.conj(b) * s, xp.conj(a) * c]], xp, dtype)


def _rot_derivatives(params: Sequence[Any], xp: Any, dtype: Any) -> list:
    phi, theta, omega = _entries(params, xp)
    c, s = xp.cos(theta / 2), xp.sin(theta / 2)
    a, b = xp.exp(-0.5j * (phi + omega)), xp.exp(0.5j * (phi - omega))
    bc, ac = xp.conj(b), xp.conj(a)
    return [
        _from_entries([[-0.5j * a * c, -0.5j * b * s], [-0.5j * bc * s, 0.5j * ac * c]], xp, dtype),
        _from_entries([[-a * s / 2, -b * c / 2], [bc * c / 2, -ac * s / 2]], xp, dtype),
        _from_entries([[-0.5j * a * c, 0.5j * b * s], [0.5j * bc * s, 0.5j * ac * c]], xp, dtype),
    ]


def controlled_matrix(target: Any, num_controls: int, xp: Any, identity: bool = True) -> Any:
    """Full matrix of ``target`` (``(..., d, d)``) controlled on ``num_controls`` leading wires (all ones).

    With ``identity=False`` the block where a control is 0 is zero instead of the
    identity: the derivative of a controlled gate.
    """
    k = 2**num_controls
    d = target.shape[-1]
    on = np.zeros((k, k))
    on[-1, -1] = 1.0
    on_part = xp.einsum("ab,...cd->...acbd", xp.asarray(on, dtype=target.dtype), target)
    on_part = on_part.reshape(target.shape[:-2] + (k * d, k * d))
    if not identity:
        return on_part
    return xp.asarray(np.kron(np.eye(k) - on, np.eye(d)), dtype=target.dtype) + on_part


def _controlled(name: str, base: GateDef, num_controls: int, qiskit_name: str, pennylane_name: str, qasm_name: str) -> GateDef:
    def matrix(params: Sequence[Any], xp: Any, dtype: Any) -> Any:
        return controlled_matrix(base.matrix(params, xp, dtype), num_controls, xp)

    derivatives = None
    if base.derivatives is not None:

        def derivatives(params: Sequence[Any], xp: Any, dtype: Any) -> list:
            return [controlled_matrix(d, num_controls, xp, identity=False) for d in base.derivatives(params, xp, dtype)]

    diagonal = None
    if base.diagonal is not None:

        def diagonal(params: Sequence[Any], xp: Any, dtype: Any) -> Any:
            target = base.diagonal(params, xp, dtype)
            ones = xp.ones(target.shape[:-1] + ((2**num_controls - 1) * target.shape[-1],), dtype=target.dtype)
            return xp.concatenate([ones, target], axis=-1)

    permutation = None
    if base.permutation is not None:
        d = len(base.permutation)
        offset = (2**num_controls - 1) * d
        permutation = tuple(range(offset)) + tuple(offset + p for p in base.permutation)
    spectrum = tuple(tuple(sorted(set(ev) | {0.0})) for ev in base.generator_spectrum)
    return GateDef(
        name=name,
        num_wires=base.num_wires + num_controls,
        num_params=base.num_params,
        matrix=matrix,
        derivatives=derivatives,
        diagonal=diagonal,
        permutation=permutation,
        base=base.name,
        num_controls=num_controls,
        generator_spectrum=spectrum,
        qiskit_name=qiskit_name,
        pennylane_name=pennylane_name,
        qasm_name=qasm_name,
        kernel=base.kernel,
    )


def _diagonal_gate(name: str, num_wires: int, num_params: int, diagonal: MatrixFn, **kw: Any) -> GateDef:
    def matrix(params: Sequence[Any], xp: Any, dtype: Any) -> Any:
        return _diag_to_matrix(diagonal(params, xp, dtype), xp)

    return GateDef(name=name, num_wires=num_wires, num_params=num_params, matrix=matrix, diagonal=diagonal, **kw)


def _rotation_gate(word: str, qiskit_name: str, pennylane_name: str, qasm_name: str = "",
                   decomposition: Decomposition | None = None) -> GateDef:
    name = "r" + word.lower()
    matrix, derivatives = _pauli_rotation(word)
    diagonal = None
    if set(word) == {"Z"}:
        diagonal, derivatives = _pauli_z_rotation_diagonal(len(word))
    return GateDef(
        name=name,
        num_wires=len(word),
        num_params=1,
        matrix=matrix,
        derivatives=derivatives,
        diagonal=diagonal,
        generator_spectrum=_PAULI_ROTATION_SPECTRUM,
        qiskit_name=qiskit_name,
        pennylane_name=pennylane_name,
        qasm_name=qasm_name,
        decomposition=decomposition,
        kernel=name,
    )


def _gqsp_matrix(params: Sequence[Any], xp: Any, dtype: Any) -> Any:
    """``R(theta, phi, lam) = [[e^{i(phi+lam)} cos, e^{i phi} sin], [e^{i lam} sin, -cos]]`` (angles of ``theta``)."""
    theta, phi, lam = _entries(params, xp)
    c, s = xp.cos(theta), xp.sin(theta)
    ep, el = xp.exp(1j * phi), xp.exp(1j * lam)
    return _from_entries([[ep * el * c, ep * s], [el * s, -c]], xp, dtype)


def _gqsp_derivatives(params: Sequence[Any], xp: Any, dtype: Any) -> list:
    theta, phi, lam = _entries(params, xp)
    c, s = xp.cos(theta), xp.sin(theta)
    ep, el = xp.exp(1j * phi), xp.exp(1j * lam)
    zero = xp.zeros_like(c)
    return [
        _from_entries([[-ep * el * s, ep * c], [el * c, s]], xp, dtype),
        _from_entries([[1j * ep * el * c, 1j * ep * s], [zero, zero]], xp, dtype),
        _from_entries([[1j * ep * el * c, zero], [1j * el * s, zero]], xp, dtype),
    ]


# exact decompositions (global phase included) into gates every target has; first applied first
def _sxdg_steps(p: Sequence[Any]) -> list:
    return [("h", (), (0,)), ("sdg", (), (0,)), ("h", (), (0,))]  # H S H = SX exactly


def _iswap_steps(p: Sequence[Any]) -> list:
    return [("s", (), (0,)), ("s", (), (1,)), ("h", (), (0,)), ("cx", (), (0, 1)), ("cx", (), (1, 0)), ("h", (), (1,))]


def _rxx_steps(p: Sequence[Any]) -> list:
    (theta,) = p
    return [("h", (), (0,)), ("h", (), (1,)), ("cx", (), (0, 1)), ("rz", (theta,), (1,)), ("cx", (), (0, 1)),
            ("h", (), (0,)), ("h", (), (1,))]


def _ryy_steps(p: Sequence[Any]) -> list:
    (theta,) = p
    half = np.pi / 2
    return [("rx", (half,), (0,)), ("rx", (half,), (1,)), ("cx", (), (0, 1)), ("rz", (theta,), (1,)),
            ("cx", (), (0, 1)), ("rx", (-half,), (0,)), ("rx", (-half,), (1,))]


def _rzz_steps(p: Sequence[Any]) -> list:
    (theta,) = p
    return [("cx", (), (0, 1)), ("rz", (theta,), (1,)), ("cx", (), (0, 1))]


def _rot_steps(p: Sequence[Any]) -> list:
    phi, theta, omega = p
    return [("rz", (phi,), (0,)), ("ry", (theta,), (0,)), ("rz", (omega,), (0,))]


def _gqsp_steps(p: Sequence[Any]) -> list:
    # PennyLane's qml.GQSP writes its rotation the same way: X U3(2 theta, phi, lam) X, then Z
    theta, phi, lam = p
    return [("x", (), (0,)), ("u3", (2 * theta, phi, lam), (0,)), ("x", (), (0,)), ("z", (), (0,))]


def _build_table() -> dict[str, GateDef]:
    g: dict[str, GateDef] = {}

    def add(gate: GateDef) -> GateDef:
        g[gate.name] = gate
        return gate

    def named(qiskit: str, pennylane: str, qasm: str) -> dict[str, str]:
        return {"qiskit_name": qiskit, "pennylane_name": pennylane, "qasm_name": qasm}

    add(_diagonal_gate("i", 1, 0, _constant_diagonal([1, 1]), **named("id", "Identity", "id")))
    add(GateDef("x", 1, 0, _constant(PAULI_MATRICES["X"]), permutation=(1, 0), **named("x", "PauliX", "x")))
    add(GateDef("y", 1, 0, _constant(PAULI_MATRICES["Y"]), **named("y", "PauliY", "y")))
    add(_diagonal_gate("z", 1, 0, _constant_diagonal([1, -1]), **named("z", "PauliZ", "z")))
    add(GateDef("h", 1, 0, _constant(_H), **named("h", "Hadamard", "h")))
    add(_diagonal_gate("s", 1, 0, _constant_diagonal([1, 1j]), **named("s", "S", "s")))
    add(_diagonal_gate("sdg", 1, 0, _constant_diagonal([1, -1j]), **named("sdg", "Adjoint(S)", "sdg")))
    add(_diagonal_gate("t", 1, 0, _constant_diagonal([1, np.exp(1j * np.pi / 4)]), **named("t", "T", "t")))
    add(_diagonal_gate("tdg", 1, 0, _constant_diagonal([1, np.exp(-1j * np.pi / 4)]), **named("tdg", "Adjoint(T)", "tdg")))
    add(GateDef("sx", 1, 0, _constant(_SX), **named("sx", "SX", "sx")))
    add(GateDef("sxdg", 1, 0, _constant(_SX.conj().T), decomposition=_sxdg_steps, **named("sxdg", "Adjoint(SX)", "")))
    rx = add(_rotation_gate("X", "rx", "RX", "rx"))
    ry = add(_rotation_gate("Y", "ry", "RY", "ry"))
    rz = add(_rotation_gate("Z", "rz", "RZ", "rz"))
    phase = add(
        _diagonal_gate(
            "p", 1, 1, _phase_diagonal, derivatives=_phase_derivative, generator_spectrum=_PHASE_SPECTRUM,
            kernel="p", **named("p", "PhaseShift", "p"),
        )
    )
    u3_spectrum = (_PAULI_ROTATION_SPECTRUM[0], _PHASE_SPECTRUM[0], _PHASE_SPECTRUM[0])
    add(GateDef("u", 1, 3, _u3_matrix, _u3_derivatives, generator_spectrum=u3_spectrum, kernel="u3", **named("u", "U3", "U")))
    add(GateDef("u3", 1, 3, _u3_matrix, _u3_derivatives, generator_spectrum=u3_spectrum, kernel="u3", **named("u3", "U3", "U")))
    add(
        GateDef(
            "rot", 1, 3, _rot_matrix, _rot_derivatives, generator_spectrum=_PAULI_ROTATION_SPECTRUM * 3,
            decomposition=_rot_steps, kernel="rot", **named("", "Rot", ""),
        )
    )
    add(_controlled("cx", g["x"], 1, "cx", "CNOT", "cx"))
    add(_controlled("cy", g["y"], 1, "cy", "CY", "cy"))
    add(_controlled("cz", g["z"], 1, "cz", "CZ", "cz"))
    add(_controlled("ch", g["h"], 1, "ch", "CH", "ch"))
    add(GateDef("swap", 2, 0, _constant(_SWAP), permutation=(0, 2, 1, 3), **named("swap", "SWAP", "swap")))
    add(GateDef("iswap", 2, 0, _constant(_ISWAP), decomposition=_iswap_steps, **named("iswap", "ISWAP", "")))
    add(_controlled("crx", rx, 1, "crx", "CRX", "crx"))
    add(_controlled("cry", ry, 1, "cry", "CRY", "cry"))
    add(_controlled("crz", rz, 1, "crz", "CRZ", "crz"))
    add(_controlled("cp", phase, 1, "cp", "ControlledPhaseShift", "cp"))
    add(_rotation_gate("XX", "rxx", "IsingXX", decomposition=_rxx_steps))
    add(_rotation_gate("YY", "ryy", "IsingYY", decomposition=_ryy_steps))
    add(_rotation_gate("ZZ", "rzz", "IsingZZ", decomposition=_rzz_steps))
    add(_controlled("ccx", g["x"], 2, "ccx", "Toffoli", "ccx"))
    add(_controlled("cswap", g["swap"], 1, "cswap", "CSWAP", "cswap"))
    # the GQSP rotation of Motlagh & Wiebe (PRX Quantum 5, 020368): no builder, the generic numba kernel
    add(
        GateDef(
            "gqsp", 1, 3, _gqsp_matrix, _gqsp_derivatives, generator_spectrum=((-1.0, 1.0),) + _PHASE_SPECTRUM * 2,
            decomposition=_gqsp_steps, **named("", "", ""),
        )
    )
    return g


GATES: dict[str, GateDef] = _build_table()
"""Every gate of qmlsim by name. The special gate ``"unitary"`` (a user matrix) is not in it."""
