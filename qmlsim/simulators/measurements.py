"""Measurements on batched states: probabilities, expectation values, shot samples.

>>> import numpy as np
>>> from qmlsim.circuits import Z
>>> from qmlsim.simulators.backends import get_backend
>>> state = np.array([[1, 0, 0, 1]], complex).reshape(1, 2, 2) / np.sqrt(2)
>>> expval(state, Z(0) @ Z(1), get_backend("numpy")).round(12).tolist()
[1.0]
"""
from __future__ import annotations

import functools
from typing import Any, NamedTuple, Sequence

import numpy as np

from qmlsim.circuits.observables import HermitianTerm, Observable, PauliTerm
from qmlsim.simulators import kernels
from qmlsim.simulators.backends import Backend

__all__ = [
    "probs",
    "marginal",
    "expval",
    "apply_observable",
    "sample_indices",
    "indices_to_bits",
    "TermMeasurement",
    "term_measurements",
]


def probs(state: Any, xp: Any, wires: Sequence[int] | None = None) -> Any:
    """Born probabilities ``(batch, 2**k)`` of ``wires`` (all wires by default), first wire most significant."""
    return marginal(xp.real(state * xp.conj(state)), xp, wires)


def marginal(p: Any, xp: Any, wires: Sequence[int] | None = None) -> Any:
    """Probabilities ``(batch, 2, ..., 2)`` (or ``(batch, 2**n)``) summed to ``wires``, in that order: ``(batch, 2**k)``."""
    n = p.ndim - 1 if p.ndim > 2 or p.shape[-1] == 2 else int(round(np.log2(p.shape[-1])))
    p = p.reshape((p.shape[0],) + (2,) * n)
    if wires is None or tuple(wires) == tuple(range(n)):
        return p.reshape(p.shape[0], -1)
    wires = tuple(wires)
    others = tuple(w + 1 for w in range(n) if w not in wires)
    marginal = xp.sum(p, axis=others) if others else p
    kept = sorted(wires)
    order = [0] + [1 + kept.index(w) for w in wires]
    marginal = xp.transpose(marginal, order)
    return marginal.reshape(marginal.shape[0], -1)


def _is_diagonal_word(term: PauliTerm) -> bool:
    return all(letter == "Z" for _, letter in term.word)


def apply_observable(state: Any, observable: Observable, backend: Backend) -> Any:
    """``O |state>`` for every row (used by the adjoint method)."""
    xp = backend.xp
    out = None
    for term in observable.terms:
        if isinstance(term, PauliTerm):
            part = kernels.apply_pauli_word(state, term.word, xp)
        else:
            part = kernels.apply_matrix(state, xp.asarray(term.matrix, dtype=state.dtype), term.wires, xp)
        part = part * term.coeff
        out = part if out is None else out + part
    return out if out is not None else state * 0


# Z-only observables on at most this many wires are read off the probabilities through one
# (2**n, k) sign matrix (one product instead of a reduction per term and observable)
DIAGONAL_MAX_WIRES = 12


def diagonal_signs(observables: Sequence[Observable], num_wires: int) -> np.ndarray | None:
    """``S`` ``(2**n, k)`` with ``<O_k> = sum_j p_j S[j, k]`` when every term is a Z-only Pauli word, else ``None``.

    Built once per observables and width (eager array paths call it on every ``expval``).
    """
    if num_wires > DIAGONAL_MAX_WIRES:
        return None
    if not all(isinstance(t, PauliTerm) and _is_diagonal_word(t) for o in observables for t in o.terms):
        return None
    return _diagonal_signs(tuple(observables), num_wires)


@functools.lru_cache(maxsize=64)
def _diagonal_signs(observables: tuple[Observable, ...], num_wires: int) -> np.ndarray:
    index = np.arange(2**num_wires)
    signs = np.zeros((2**num_wires, len(observables)))
    for k, observable in enumerate(observables):
        for term in observable.terms:
            parity = np.zeros_like(index)
            for wire, _ in term.word:
                parity ^= (index >> (num_wires - 1 - wire)) & 1
            signs[:, k] += float(np.real(term.coeff)) * (1 - 2 * parity)
    signs.setflags(write=False)  # shared by every call with these observables
    return signs


def expvals(state: Any, observables: Sequence[Observable], backend: Backend) -> Any:
    """``<state| O_k |state>`` per row and observable, ``(batch, k)`` real.

    ``state`` may be real (a real circuit run in real arithmetic): Hermitian terms then
    convert it to complex first.
    """
    xp = backend.xp
    n = state.ndim - 1
    signs = diagonal_signs(observables, n)
    if signs is not None:
        p = xp.real(state * xp.conj(state)).reshape(state.shape[0], -1)
        return p @ xp.asarray(signs, dtype=p.dtype)
    if not xp.iscomplexobj(state) and any(isinstance(t, HermitianTerm) for o in observables for t in o.terms):
        state = state.astype(xp.result_type(state.dtype, np.complex64))
    return xp.stack([expval(state, o, backend) for o in observables], axis=1)


def expval(state: Any, observable: Observable, backend: Backend) -> Any:
    """``<state| O |state>`` per row, ``(batch,)`` real."""
    xp = backend.xp
    n = state.ndim - 1
    total = None
    p_cache = None
    for term in observable.terms:
        if isinstance(term, PauliTerm) and _is_diagonal_word(term):
            # Z-only words: signs over the probabilities, no second state
            if p_cache is None:
                p_cache = xp.real(state * xp.conj(state))
            signed = p_cache
            for wire, _ in term.word:
                shape = [1] * (n + 1)
                shape[wire + 1] = 2
                signed = signed * xp.asarray(np.array([1.0, -1.0]), dtype=p_cache.dtype).reshape(shape)
            value = xp.sum(signed.reshape(signed.shape[0], -1), axis=1)
        elif isinstance(term, PauliTerm):
            value = kernels.inner_real(state, kernels.apply_pauli_word(state, term.word, xp), xp)
        else:
            assert isinstance(term, HermitianTerm)
            ket = kernels.apply_matrix(state, xp.asarray(term.matrix, dtype=state.dtype), term.wires, xp)
            value = kernels.inner_real(state, ket, xp)
        total = term.coeff * value if total is None else total + term.coeff * value
    if total is None:  # the zero observable
        return xp.zeros(state.shape[0], dtype=xp.real(state).dtype)
    return total


def sample_indices(probabilities: np.ndarray, shots: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``shots`` basis indices per row from ``(batch, D)`` host probabilities: ``(batch, shots)``."""
    cdf = np.cumsum(probabilities, axis=1)
    cdf /= cdf[:, -1:]
    uniforms = rng.random((probabilities.shape[0], shots))
    out = np.empty((probabilities.shape[0], shots), dtype=np.int64)
    for row in range(probabilities.shape[0]):
        out[row] = np.searchsorted(cdf[row], uniforms[row], side="right")
    return np.minimum(out, probabilities.shape[1] - 1)


def indices_to_bits(indices: np.ndarray, num_wires: int) -> np.ndarray:
    """Basis indices to bits in wire order (wire 0 = most significant): ``(..., num_wires)`` int."""
    shifts = np.arange(num_wires - 1, -1, -1)
    return ((indices[..., None] >> shifts) & 1).astype(np.int64)


class TermMeasurement(NamedTuple):
    """How one term of an observable is measured in the computational basis.

    Attributes:
        coeff: the term's coefficient.
        circuit: the circuit followed by the term's basis change (``None``: the term is
            the identity, a constant).
        wires: the wires read out.
        eigenvalues: ``(2**len(wires),)`` the term's eigenvalue for each outcome.
    """

    coeff: float
    circuit: Any
    wires: tuple[int, ...]
    eigenvalues: np.ndarray


def term_measurements(circuit: Any, observable: Observable) -> list[TermMeasurement]:
    """Measurement settings of every term: Pauli words in their eigenbasis (``H`` for X,
    ``S^dagger H`` for Y), Hermitian terms through their eigenvectors.

    ``<O> = sum coeff * sum_outcome p(outcome) * eigenvalue(outcome)`` over the outcomes of
    each setting, so an executor that only samples bit strings estimates any observable.

    Example:
        >>> from qmlsim.circuits import Circuit, X
        >>> [m.circuit.ops[-1].name for m in term_measurements(Circuit(1), X(0))]
        ['h']
    """
    out = []
    for term in observable.terms:
        if isinstance(term, HermitianTerm):
            evals, evecs = np.linalg.eigh(term.matrix)
            rotated = circuit.copy().unitary(evecs.conj().T, term.wires)
            out.append(TermMeasurement(float(np.real(term.coeff)), rotated, tuple(term.wires), evals))
            continue
        if not term.word:
            out.append(TermMeasurement(float(np.real(term.coeff)), None, (), np.ones(1)))
            continue
        rotated = circuit.copy()
        for wire, letter in term.word:
            if letter == "X":
                rotated.h(wire)
            elif letter == "Y":
                rotated.sdg(wire).h(wire)
        wires = tuple(term.wires)
        parity = np.array([(-1.0) ** bin(i).count("1") for i in range(2 ** len(wires))])
        out.append(TermMeasurement(float(np.real(term.coeff)), rotated, wires, parity))
    return out
