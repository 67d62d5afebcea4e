"""Observables: real linear combinations of Pauli words and small Hermitian matrices.

>>> from qmlsim.circuits import X, Z, Observable
>>> obs = 0.5 * Z(0) @ Z(1) + X(2)
>>> len(obs.terms)
2
>>> Observable.from_list([("ZZ", (0, 1), 0.5), ("X", (2,), 1.0)]) == obs
True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from qmlsim.circuits.gates import PAULI_MATRICES

__all__ = ["PauliTerm", "HermitianTerm", "Observable", "X", "Y", "Z", "I", "Hermitian"]

HERMITIAN_ATOL = 1e-8


@dataclass(frozen=True)
class PauliTerm:
    """``coeff * P_{w1} (x) P_{w2} ...``; ``word`` is sorted ``((wire, "X"|"Y"|"Z"), ...)``."""

    coeff: float
    word: tuple[tuple[int, str], ...]

    @property
    def wires(self) -> tuple[int, ...]:
        return tuple(w for w, _ in self.word)


@dataclass(frozen=True, eq=False)
class HermitianTerm:
    """``coeff * H`` with ``H`` a Hermitian ``(2**k, 2**k)`` matrix on ``wires`` (first wire most significant)."""

    coeff: float
    matrix: np.ndarray
    wires: tuple[int, ...]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, HermitianTerm)
            and self.coeff == other.coeff
            and self.wires == other.wires
            and np.array_equal(self.matrix, other.matrix)
        )

    def __hash__(self) -> int:
        return hash((self.coeff, self.wires, self.matrix.tobytes()))


Term = PauliTerm | HermitianTerm


class Observable:
    """A Hermitian observable: a sum of :class:`PauliTerm` and :class:`HermitianTerm` (final class).

    Build with :func:`X`, :func:`Y`, :func:`Z`, :func:`I`, :func:`Hermitian`, ``@`` for
    tensor products of Pauli words on distinct wires, ``+``/``-`` and real scalars.
    """

    __slots__ = ("terms",)

    def __init__(self, terms: Iterable[Term]):
        self.terms: tuple[Term, ...] = _simplify(tuple(terms))

    @classmethod
    def from_list(cls, items: Sequence[tuple[str, Sequence[int], float]]) -> Observable:
        """From ``[(pauli_string, wires, coeff), ...]``, e.g. ``[("ZZ", (0, 1), 0.5)]``.

        Letters ``I`` in the string are allowed and dropped.
        """
        terms = []
        for item in items:
            if len(item) != 3:
                raise ValueError(f"each item is (pauli_string, wires, coeff), got {item!r}")
            letters, wires, coeff = item
            wires = tuple(wires)
            if len(letters) != len(wires):
                raise ValueError(f"Pauli string {letters!r} has {len(letters)} letters but {len(wires)} wires were given")
            obs = Observable([PauliTerm(_real(coeff), ())])
            for letter, wire in zip(letters.upper(), wires):
                if letter not in "IXYZ":
                    raise ValueError(f"unknown Pauli letter {letter!r} in {letters!r}; use I, X, Y or Z")
                obs = obs @ _pauli(letter, wire)
            terms.extend(obs.terms)
        return cls(terms)

    @property
    def wires(self) -> tuple[int, ...]:
        out: set[int] = set()
        for t in self.terms:
            out.update(t.wires)
        return tuple(sorted(out))

    @property
    def is_pauli(self) -> bool:
        return all(isinstance(t, PauliTerm) for t in self.terms)

    def matrix(self, num_wires: int) -> np.ndarray:
        """Dense ``(2**n, 2**n)`` matrix on ``num_wires`` wires (for tests and small cases)."""
        dim = 2**num_wires
        out = np.zeros((dim, dim), dtype=complex)
        for t in self.terms:
            if isinstance(t, PauliTerm):
                factors = [PAULI_MATRICES["I"]] * num_wires
                for w, letter in t.word:
                    factors[w] = PAULI_MATRICES[letter]
                m = np.array([[1.0 + 0j]])
                for f in factors:
                    m = np.kron(m, f)
                out += t.coeff * m
            else:
                out += t.coeff * _embed(t.matrix, t.wires, num_wires)
        return out

    # --- algebra ------------------------------------------------------------
    def __matmul__(self, other: Observable) -> Observable:
        if not isinstance(other, Observable):
            return NotImplemented
        terms = []
        for a in self.terms:
            for b in other.terms:
                if not (isinstance(a, PauliTerm) and isinstance(b, PauliTerm)):
                    raise TypeError(
                        "@ combines Pauli words only; write a product with a Hermitian matrix as one Hermitian "
                        "on the union of wires"
                    )
                if set(a.wires) & set(b.wires):
                    raise ValueError(
                        f"tensor product of Pauli words sharing wires {sorted(set(a.wires) & set(b.wires))}; "
                        "@ needs distinct wires"
                    )
                terms.append(PauliTerm(a.coeff * b.coeff, tuple(sorted(a.word + b.word))))
        return Observable(terms)

    def __add__(self, other: Any) -> Observable:
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            other = Observable([PauliTerm(float(other), ())])
        if not isinstance(other, Observable):
            return NotImplemented
        return Observable(self.terms + other.terms)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Observable:
        return self + (-1.0) * other

    def __rsub__(self, other: Any) -> Observable:
        return (-1.0) * self + other

    def __neg__(self) -> Observable:
        return (-1.0) * self

    def __mul__(self, scalar: Any) -> Observable:
        if isinstance(scalar, Observable):
            raise TypeError("use @ for the tensor product of observables")
        c = _real(scalar)
        return Observable([_scaled(t, c) for t in self.terms])

    __rmul__ = __mul__

    def __truediv__(self, scalar: Any) -> Observable:
        return self * (1.0 / _real(scalar))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Observable) and set(self.terms) == set(other.terms)

    def __hash__(self) -> int:
        return hash(frozenset(self.terms))

    def __repr__(self) -> str:
        parts = []
        for t in self.terms:
            if isinstance(t, PauliTerm):
                word = " @ ".join(f"{p}({w})" for w, p in t.word) or "I"
                parts.append(f"{t.coeff:g} * {word}")
            else:
                parts.append(f"{t.coeff:g} * Hermitian(wires={t.wires})")
        return " + ".join(parts) or "0"


def _pauli(letter: str, wire: int) -> Observable:
    if not isinstance(wire, (int, np.integer)) or isinstance(wire, bool) or wire < 0:
        raise ValueError(f"an observable's wire must be a non-negative integer, got {wire!r}")
    word = () if letter == "I" else ((int(wire), letter),)
    return Observable([PauliTerm(1.0, word)])


def X(wire: int) -> Observable:
    """Pauli X on ``wire``."""
    return _pauli("X", wire)


def Y(wire: int) -> Observable:
    """Pauli Y on ``wire``."""
    return _pauli("Y", wire)


def Z(wire: int) -> Observable:
    """Pauli Z on ``wire``."""
    return _pauli("Z", wire)


def I(wire: int = 0) -> Observable:  # noqa: E743 - the identity's usual name
    """The identity (its wire does not matter)."""
    return _pauli("I", wire)


def Hermitian(matrix: Any, wires: int | Sequence[int]) -> Observable:
    """A Hermitian matrix observable on a few wires (first wire most significant)."""
    wires = (wires,) if isinstance(wires, (int, np.integer)) else tuple(int(w) for w in wires)
    matrix = np.asarray(matrix, dtype=complex)
    dim = 2 ** len(wires)
    if matrix.shape != (dim, dim):
        raise ValueError(f"a Hermitian on {len(wires)} wire(s) must have shape ({dim}, {dim}), got {matrix.shape}")
    if len(set(wires)) != len(wires):
        raise ValueError(f"Hermitian wires {wires} repeat a wire")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("the Hermitian matrix contains NaN or infinite entries")
    error = np.abs(matrix - matrix.conj().T).max()
    if error > HERMITIAN_ATOL:
        raise ValueError(f"matrix is not Hermitian: max |H - H^dagger| = {error:.2e}; use (H + H^dagger) / 2")
    return Observable([HermitianTerm(1.0, matrix, wires)])


def _real(value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"observable coefficients must be real numbers, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"observable coefficient is {value}; it must be finite")
    return value


def _scaled(term: Term, c: float) -> Term:
    if isinstance(term, PauliTerm):
        return PauliTerm(term.coeff * c, term.word)
    return HermitianTerm(term.coeff * c, term.matrix, term.wires)


def _simplify(terms: tuple[Term, ...]) -> tuple[Term, ...]:
    """Merge Pauli terms with equal words; keep Hermitian terms as they are."""
    merged: dict[tuple, float] = {}
    others: list[Term] = []
    for t in terms:
        if isinstance(t, PauliTerm):
            merged[t.word] = merged.get(t.word, 0.0) + t.coeff
        else:
            others.append(t)
    return tuple(PauliTerm(c, w) for w, c in merged.items()) + tuple(others)


def _embed(matrix: np.ndarray, wires: Sequence[int], num_wires: int) -> np.ndarray:
    """Dense matrix of ``matrix`` acting on ``wires`` of ``num_wires`` (reference path)."""
    k = len(wires)
    tensor = matrix.reshape((2,) * (2 * k))
    eye = np.eye(2**num_wires, dtype=complex).reshape((2,) * (2 * num_wires))
    # contract the operator's input legs with the identity's output legs on `wires`
    out = np.tensordot(tensor, eye, axes=(list(range(k, 2 * k)), list(wires)))
    out = np.moveaxis(out, list(range(k)), list(wires))
    return out.reshape(2**num_wires, 2**num_wires)

