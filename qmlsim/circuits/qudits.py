"""Qudit registers on qubits: Z_P (P not a power of two) held in ``ceil(log2 P)`` wires.

A register's basis states ``|0>, ..., |P-1>`` are the values; the ``2^k - P`` padding states
are left alone by every gate here. The gates are unitary matrices on the register's wires
(wire order as everywhere: the register's first wire is the most significant bit of its
value), applied with :meth:`Circuit.unitary <qmlsim.circuits.Circuit.unitary>`; the engine
runs the permutation matrices among them (modular addition and multiplication) with its
permutation kernel.

>>> import numpy as np
>>> u = dft_matrix(5)
>>> u.shape, bool(np.allclose(u.conj().T @ u, np.eye(8))), bool(np.allclose(u[5:, 5:], np.eye(3)))
((8, 8), True, True)
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

__all__ = [
    "register_wires",
    "dft_matrix",
    "modular_add_matrix",
    "modular_multiply_matrix",
    "controlled_inverse_multiply_matrix",
    "phase_matrix",
    "diagonal_block_encoding",
    "uniform_nonzero_matrix",
]


def _check_modulus(modulus: int) -> int:
    if isinstance(modulus, bool) or not isinstance(modulus, (int, np.integer)) or modulus < 2:
        raise ValueError(f"the register's modulus P must be an integer >= 2, got {modulus!r}")
    return int(modulus)


def register_wires(modulus: int) -> int:
    """Wires that hold Z_P: ``ceil(log2 P)``.

    Example:
        >>> register_wires(13), register_wires(16)
        (4, 4)
    """
    return max(1, math.ceil(math.log2(_check_modulus(modulus))))


def _embedded(block: np.ndarray, modulus: int) -> np.ndarray:
    """``block`` (P x P) on the valid states, identity on the padding: ``(2^k, 2^k)``."""
    dim = 1 << register_wires(modulus)
    out = np.eye(dim, dtype=complex)
    out[:modulus, :modulus] = block
    return out


def dft_matrix(modulus: int, inverse: bool = False) -> np.ndarray:
    """The unitary DFT over Z_P, ``|x> -> P^{-1/2} sum_k e^{-2 pi i k x / P} |k>`` (``+`` with ``inverse``)."""
    p = _check_modulus(modulus)
    sign = 1 if inverse else -1
    k = np.arange(p)
    return _embedded(np.exp(sign * 2j * np.pi * np.outer(k, k) / p) / math.sqrt(p), p)


def _permutation(modulus: int, image: Sequence[int]) -> np.ndarray:
    p = len(image)
    block = np.zeros((p, p), dtype=complex)
    block[np.asarray(image), np.arange(p)] = 1.0
    return _embedded(block, modulus)


def modular_add_matrix(modulus: int, constant: int) -> np.ndarray:
    """``|x> -> |x + c mod P>`` on the valid states."""
    p = _check_modulus(modulus)
    return _permutation(p, [(x + int(constant)) % p for x in range(p)])


def modular_multiply_matrix(modulus: int, constant: int) -> np.ndarray:
    """``|x> -> |c x mod P>``; ``c`` must be invertible mod P (else it is not a permutation)."""
    p = _check_modulus(modulus)
    if math.gcd(int(constant), p) != 1:
        raise ValueError(f"multiplication by {constant} mod {p} is not invertible (gcd {math.gcd(int(constant), p)}); "
                         "pick a constant coprime to P")
    return _permutation(p, [(int(constant) * x) % p for x in range(p)])


def controlled_inverse_multiply_matrix(modulus: int) -> np.ndarray:
    """On two registers ``|x>|w>`` (``x`` first): ``|w^{-1} x mod P>|w>`` for ``w != 0``; ``w = 0`` and padding untouched.

    P must be prime (every nonzero ``w`` invertible). ``(4^k, 4^k)`` permutation.
    """
    p = _check_modulus(modulus)
    if any(p % d == 0 for d in range(2, int(math.isqrt(p)) + 1)):
        raise ValueError(f"controlled multiplication by w^-1 needs every nonzero w invertible: P must be prime, got {p}")
    k = register_wires(p)
    dim = 1 << k
    image = np.arange(dim * dim)
    for w in range(1, p):
        inverse = pow(w, -1, p)
        for x in range(p):
            image[x * dim + w] = ((inverse * x) % p) * dim + w
    out = np.zeros((dim * dim, dim * dim), dtype=complex)
    out[image, np.arange(dim * dim)] = 1.0
    return out


def phase_matrix(modulus: int, phases: Sequence[complex] | Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``|x> -> phases[x] |x>`` on the valid states: unit-modulus ``phases`` of length P, or a function of ``x`` (``0..P-1``)."""
    p = _check_modulus(modulus)
    values = np.asarray(phases(np.arange(p)) if callable(phases) else phases, dtype=complex)
    if values.shape != (p,):
        raise ValueError(f"phases must have one entry per value of Z_{p}, shape ({p},), got {values.shape}")
    if not np.allclose(np.abs(values), 1.0, atol=1e-12):
        raise ValueError("phases must have modulus 1 (a unitary diagonal); a general diagonal needs a block encoding")
    return _embedded(np.diag(values), p)


def uniform_nonzero_matrix(modulus: int) -> np.ndarray:
    """A unitary with ``|0> -> (P - 1)^{-1/2} sum_{w=1}^{P-1} |w>`` (a Householder reflection on the valid states)."""
    p = _check_modulus(modulus)
    target = np.zeros(p, dtype=complex)
    target[1:] = 1 / math.sqrt(p - 1)
    v = target.copy()
    v[0] -= 1.0  # reflection swapping |0> and the target (both real, unit norm)
    block = np.eye(p, dtype=complex) - 2 * np.outer(v, v.conj()) / np.vdot(v, v).real
    return _embedded(block, p)


def diagonal_block_encoding(modulus: int, values: Sequence[complex]) -> np.ndarray:
    """A unitary on the register and one ancilla (the last wire) whose ancilla-``|0>`` block is ``diag(values)``.

    ``|x>|0> -> values[x] |x>|0> + sqrt(1 - |values[x]|^2) |x>|1>`` for ``|values| <= 1``; padding
    states untouched. ``(2^{k+1}, 2^{k+1})``. For a diagonal that is not unit-modulus, applied with
    post-selection of the ancilla on ``|0>``.
    """
    p = _check_modulus(modulus)
    d = np.asarray(values, dtype=complex)
    if d.shape != (p,):
        raise ValueError(f"values must have one entry per value of Z_{p}, shape ({p},), got {d.shape}")
    if np.abs(d).max() > 1 + 1e-12:
        raise ValueError(f"a block encoding needs |values| <= 1, got max {np.abs(d).max():.4g}: divide by the maximum")
    k = register_wires(p)
    dim = 1 << (k + 1)
    out = np.eye(dim, dtype=complex)
    for x in range(p):
        a, b = d[x], math.sqrt(max(0.0, 1.0 - abs(d[x]) ** 2))
        zero, one = 2 * x, 2 * x + 1  # the ancilla is the least significant bit
        out[zero, zero], out[one, zero] = a, b
        out[zero, one], out[one, one] = -b, np.conj(a)
    return out
