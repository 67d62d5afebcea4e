"""Observables as ``scipy.sparse`` matrices: the matrix-free methods' view of a Pauli sum.

The circuits layer holds NumPy and the standard library only; the sparse form lives here.

>>> from qmlsim.circuits import X, Y, Z
>>> obs = Z(0) @ X(1) + 0.5 * Y(0)
>>> float(abs(sparse_matrix(obs, 2) - obs.matrix(2)).max())
0.0
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy import sparse

from qmlsim.circuits.observables import Observable, PauliTerm

__all__ = ["sparse_matrix", "PauliSumOperator"]


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


class PauliSumOperator:
    """``a H + b`` for a Pauli sum ``H`` as a matrix-free operator on ``(2**n,)`` states (final class).

    The matrix is grouped by the bits its entries flip: ``(M psi)[i] = sum_g D_g[i ^ x_g] psi[i ^ x_g]``
    with one vector ``D_g`` of phases and coefficients per group (a TFIM has ``n + 1``
    groups); a group whose entries are all equal is stored as one number, and a real ``H``
    as real vectors. :meth:`chebyshev_step` fuses one step of a Chebyshev recurrence,
    ``T_{k+1} = 2 A T_k - T_{k-1}`` and ``out += c T_{k+1}``, into one parallel pass over
    blocks of 2,048 amplitudes. Why not ``scipy.sparse``: its CSR product is single-threaded
    and the recurrence around it costs three more passes over the vectors. A real ``H`` with
    a real coefficient (every step of the cooling method) takes a real kernel on the float64
    views of the vectors, whose group loops run over contiguous runs and vectorise: the
    14-wire TFIM dense cooling step (5,249 products) took 0.31 s on 2 threads and 0.54 s on
    1, against 0.62 s with the complex kernel and 1.19 s with the CSR product (2026-12-08,
    same session). Anything else takes the complex kernel (an amplitude at a time) on 2+
    threads, or the CSR product (as fast as that kernel on one thread, and without numba).

    Example:
        >>> import numpy as np
        >>> from qmlsim.circuits import X, Y, Z
        >>> obs = Z(0) @ X(1) - 0.5 * Y(0)
        >>> op = PauliSumOperator(obs, 2, scale=2.0, shift=1.0)
        >>> psi = np.array([1, 0.5, 0, 0.5j], complex)
        >>> bool(np.allclose(op @ psi, (2 * obs.matrix(2) + np.eye(4)) @ psi))
        True
    """

    def __init__(self, observable: Observable, num_wires: int, scale: float = 1.0, shift: float = 0.0):
        from scipy import sparse as scipy_sparse  # noqa: PLC0415

        dim = 1 << num_wires
        self.csr = (scale * sparse_matrix(observable, num_wires) + shift * scipy_sparse.identity(dim, format="csr")).tocsr()
        self.shape, self.dtype = self.csr.shape, np.dtype(complex)
        coo = self.csr.tocoo()
        flips = coo.row ^ coo.col
        masks = np.unique(flips)
        groups = np.zeros((masks.size, dim), complex)
        groups[np.searchsorted(masks, flips), coo.col] = coo.data  # M[j ^ x, j] = D_g[j]
        # A group whose entries are all equal (a TFIM's X_i: every group but the diagonal)
        # is one number, and a real H needs real entries: at 14 wires the TFIM's 15 complex
        # vectors (3.9 MB) no longer fit in cache, its one real vector does (2.1x faster step).
        constant = np.all(groups == groups[:, :1], axis=1)
        masks = masks.astype(np.int64)
        self.varying_masks = masks[~constant]
        varying = groups[~constant]
        self.varying = varying if varying.imag.any() else varying.real.copy()
        self.constant_masks = masks[constant]
        self.constant_values = groups[constant, 0].copy()
        self._real = self.varying.dtype == np.float64 and not self.constant_values.imag.any()
        if self._real:
            self.constant_values = self.constant_values.real.copy()
        self._kernels = _kernels()

    def _kernel(self, coefficient: complex) -> Any:
        """The kernel for this step, or ``None`` for the CSR product.

        The real kernel beats CSR on one thread too (14-wire TFIM: 93 against 224 us per
        product); the complex one gathers an amplitude at a time and only wins on 2+ threads.
        """
        if self._kernels is None:
            return None
        if self._real and coefficient.imag == 0:
            return self._kernels[1]
        import numba  # noqa: PLC0415

        return self._kernels[0] if numba.get_num_threads() > 1 else None

    def _run(self, kernel: Any, current: np.ndarray, previous: np.ndarray, coefficient: complex, out: np.ndarray,
             following: np.ndarray) -> None:
        if kernel is self._kernels[1]:
            current, previous, out, following = (a.view(np.float64) for a in (current, previous, out, following))
            coefficient = coefficient.real
        kernel(self.varying, self.varying_masks, self.constant_values, self.constant_masks, current, previous,
               coefficient, out, following)

    def __matmul__(self, psi: np.ndarray) -> np.ndarray:
        kernel = self._kernel(0.5 + 0j)
        if psi.ndim != 1 or kernel is None:
            return self.csr @ psi
        psi = np.ascontiguousarray(psi, dtype=complex)
        out, following = np.zeros_like(psi), np.empty_like(psi)
        # A psi = (2 A psi - 0) / 2: the fused step with no previous term and weight 1/2
        self._run(kernel, psi, np.zeros_like(psi), 0.5 + 0j, out, following)
        return out

    def chebyshev_step(self, current: np.ndarray, previous: np.ndarray, coefficient: complex, out: np.ndarray) -> np.ndarray:
        """``following = 2 A current - previous``; ``out += coefficient * following`` in place; returns ``following``.

        All three vectors are C-contiguous complex ``(2**n,)`` arrays.
        """
        coefficient = complex(coefficient)
        kernel = self._kernel(coefficient)
        if kernel is None:
            following = self.csr @ current
            following *= 2
            following -= previous
            out += coefficient * following
            return following
        following = np.empty_like(current)
        self._run(kernel, current, previous, coefficient, out, following)
        return following


_KERNELS: list = []


def _kernels() -> tuple[Any, Any] | None:
    """The fused Chebyshev-step kernels of :class:`PauliSumOperator`, complex and real (numba, cached on disk), or ``None``."""
    if _KERNELS:
        return _KERNELS[0]
    try:
        from numba import njit, prange  # noqa: PLC0415
    except ImportError:
        _KERNELS.append(None)
        return None

    block = 2048  # amplitudes per task: group-major loops over a block vectorise (gathers), a block fits in L1

    @njit(parallel=True, cache=True)
    def chebyshev_step(varying, varying_masks, constant_values, constant_masks, current, previous, coefficient, out,
                       following):  # pragma: no cover - compiled
        size = current.size
        for b in prange((size + block - 1) // block):
            start = b * block
            stop = min(size, start + block)
            acc = np.zeros(stop - start, dtype=current.dtype)
            for g in range(varying_masks.size):
                m = varying_masks[g]
                for i in range(start, stop):
                    j = i ^ m
                    acc[i - start] += varying[g, j] * current[j]
            for g in range(constant_masks.size):
                m = constant_masks[g]
                c = constant_values[g]
                for i in range(start, stop):
                    acc[i - start] += c * current[i ^ m]
            for i in range(start, stop):
                value = 2 * acc[i - start] - previous[i]
                following[i] = value
                out[i] += coefficient * value

    @njit(parallel=True, cache=True)
    def chebyshev_step_real(varying, varying_masks, constant_values, constant_masks, current, previous, coefficient,
                            out, following):  # pragma: no cover - compiled
        # A real H with a real coefficient acts on the real and imaginary parts alike, so the
        # complex vectors come as float64 views (2 numbers per amplitude). A group flipping
        # bits x maps each aligned run of 2**tz(x) amplitudes onto another contiguous run;
        # runs of 4+ amplitudes are added as slices, which LLVM vectorises (indexing the
        # whole arrays instead measured 4x slower: it could not rule out aliasing).
        size = current.size // 2
        for b in prange((size + block - 1) // block):
            start = b * block
            stop = min(size, start + block)
            width = stop - start
            acc = np.zeros(2 * width)
            for g in range(varying_masks.size):
                m = varying_masks[g]
                run = m & -m
                if run == 0 or run > width:
                    run = width
                for first in range(start, stop, run):
                    source = first ^ m
                    dst = acc[2 * (first - start): 2 * (first - start + run)]
                    src = current[2 * source: 2 * (source + run)]
                    d = varying[g, source: source + run]
                    for k in range(run):
                        dst[2 * k] += d[k] * src[2 * k]
                        dst[2 * k + 1] += d[k] * src[2 * k + 1]
            for g in range(constant_masks.size):
                m = constant_masks[g]
                c = constant_values[g]
                run = m & -m
                if run == 0 or run > width:
                    run = width
                if run < 4:
                    for i in range(start, stop):
                        j = i ^ m
                        acc[2 * (i - start)] += c * current[2 * j]
                        acc[2 * (i - start) + 1] += c * current[2 * j + 1]
                    continue
                for first in range(start, stop, run):
                    source = first ^ m
                    dst = acc[2 * (first - start): 2 * (first - start + run)]
                    src = current[2 * source: 2 * (source + run)]
                    for k in range(2 * run):
                        dst[k] += c * src[k]
            before = previous[2 * start: 2 * stop]
            after = following[2 * start: 2 * stop]
            total = out[2 * start: 2 * stop]
            for k in range(2 * width):
                value = 2 * acc[k] - before[k]
                after[k] = value
                total[k] += coefficient * value

    _KERNELS.append((chebyshev_step, chebyshev_step_real))
    return _KERNELS[0]
