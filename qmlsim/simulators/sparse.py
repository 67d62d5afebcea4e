"""Observables as ``scipy.sparse`` matrices: the matrix-free methods' view of a Pauli sum.

The circuits layer holds NumPy and the standard library only; the sparse form lives here.

>>> from qmlsim.circuits import X, Y, Z
>>> obs = Z(0) @ X(1) + 0.5 * Y(0)
>>> float(abs(sparse_matrix(obs, 2) - obs.matrix(2)).max())
0.0
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import sparse

from qmlsim.circuits.observables import Observable, PauliTerm

__all__ = ["sparse_matrix"]


def sparse_matrix(observable: Observable, num_wires: int) -> sparse.csr_matrix:
    """``(2**n, 2**n)`` CSR matrix of ``observable`` (wire 0 the most significant bit), for Krylov and
    Chebyshev methods beyond the sizes :meth:`Observable.matrix` can hold.

    A Pauli word moves ``|i>`` to ``|i ^ x>`` (``x``: its X and Y wires) with phase
    ``i^{#Y} (-1)^{popcount(i & z)}`` (``z``: its Y and Z wires); Hermitian terms are embedded
    through Kronecker products.
    """
    dim = 1 << num_wires
    if observable.wires and max(observable.wires) >= num_wires:
        raise ValueError(f"the observable acts on wire {max(observable.wires)}; num_wires must be at least {max(observable.wires) + 1}")
    index = np.arange(dim, dtype=np.int64)
    rows, cols, values = [], [], []
    out = sparse.csr_matrix((dim, dim), dtype=complex)
    for t in observable.terms:
        if not isinstance(t, PauliTerm):
            out = out + t.coeff * _sparse_embed(t.matrix, t.wires, num_wires)
            continue
        x_mask = z_mask = num_y = 0
        for wire, letter in t.word:
            bit = 1 << (num_wires - 1 - wire)
            x_mask |= bit if letter in "XY" else 0
            z_mask |= bit if letter in "YZ" else 0
            num_y += letter == "Y"
        rows.append(index ^ x_mask)
        cols.append(index)
        values.append(t.coeff * (1j**num_y) * (1.0 - 2.0 * _parity(index & z_mask)))
    if rows:
        # duplicate entries (terms with the same X/Y wires) are summed by the conversion
        out = out + sparse.coo_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(dim, dim)).tocsr()
    return out.tocsr()


def _parity(values: np.ndarray) -> np.ndarray:
    """Parity of the set bits of each entry."""
    parity = np.zeros_like(values)
    v = values.copy()
    while np.any(v):
        parity ^= v & 1
        v >>= 1
    return parity


def _sparse_embed(matrix: np.ndarray, wires: Sequence[int], num_wires: int) -> sparse.csr_matrix:
    """``matrix`` on ``wires`` as a sparse ``(2**n, 2**n)`` operator (identity elsewhere)."""
    k = len(wires)
    rest = [w for w in range(num_wires) if w not in wires]
    dim = 1 << num_wires
    index = np.arange(dim, dtype=np.int64)
    bits = (index[:, None] >> (num_wires - 1 - np.arange(num_wires))) & 1
    permuted = np.zeros(dim, dtype=np.int64)  # each basis state's index with ``wires`` moved to the front
    for position, wire in enumerate(list(wires) + rest):
        permuted |= bits[:, wire] << (num_wires - 1 - position)
    leading = sparse.kron(sparse.csr_matrix(matrix), sparse.identity(1 << (num_wires - k)), format="csr")
    move = sparse.csr_matrix((np.ones(dim), (permuted, index)), shape=(dim, dim))
    return (move.T @ leading @ move).tocsr()
