"""Measurements on batched states: probabilities, expectation values, shot samples.

>>> import numpy as np
>>> from qmlsim.circuits import Z
>>> from qmlsim.simulators.backends import get_backend
>>> state = np.array([[1, 0, 0, 1]], complex).reshape(1, 2, 2) / np.sqrt(2)
>>> expval(state, Z(0) @ Z(1), get_backend("numpy")).round(12).tolist()
[1.0]
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from qmlsim.circuits.observables import HermitianTerm, Observable, PauliTerm
from qmlsim.simulators import kernels
from qmlsim.simulators.backends import Backend

__all__ = ["probs", "expval", "apply_observable", "sample_indices", "indices_to_bits"]


def probs(state: Any, xp: Any, wires: Sequence[int] | None = None) -> Any:
    """Born probabilities ``(batch, 2**k)`` of ``wires`` (all wires by default), first wire most significant."""
    n = state.ndim - 1
    p = xp.real(state * xp.conj(state))
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
