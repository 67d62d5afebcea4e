"""The discrete ridgelet transform over Z_P^D and its quantum circuit (QRT): a reconstruction (inferred from the abstract).

Yamasaki, Subramanian, Hayakawa and Sonoda (ICML 2023) apply the ridgelet transform to a
quantum state in O(D) gates. **Only the paper's abstract could be read**: the transform
and circuit below are the reconstruction of ``../shared/specs/qsp-cooling-ridgelet-hhl.md``
section 3.2, checked for self-consistency (circuit against direct sum, exact
reconstruction), not against the paper's algorithm. Definitions, for ``x, a`` in Z_P^D
(P prime) and ``b`` in Z_P::

    R[f](a, b) = sum_x f(x) conj(psi((a . x - b) mod P))            (ridgelet transform)
    S[w](x)    = sum_{a, b} w(a, b) sigma((a . x - b) mod P)          (dual: a one-hidden-layer network)
    sum_b R[f](a, b) e^{-2 pi i w b / P} = conj(psi_hat(w)) f_hat(w a) (Fourier slice)
    S[R f] = C f,  C = P^{D-1} sum_{w != 0} conj(psi_hat(w)) sigma_hat(w)   (when psi_hat(0) = 0)

with ``g_hat(k) = sum_u g(u) e^{-2 pi i k u / P}``. The default ``psi_hat`` is 1 on ``w != 0``
and 0 at ``w = 0`` (``psi(u) = delta_{u,0} - 1/P``: the mean-subtracted finite Radon transform).

>>> import numpy as np
>>> f = np.random.default_rng(0).normal(size=(5, 5))
>>> R = ridgelet_transform(f)
>>> R.shape, bool(np.allclose(R, ridgelet_transform(f, method="direct")))
((5, 5, 5), True)
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Callable

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from qmlsim.circuits import Circuit
from qmlsim.circuits.qudits import (
    controlled_inverse_multiply_matrix,
    dft_matrix,
    diagonal_block_encoding,
    phase_matrix,
    register_wires,
    uniform_nonzero_matrix,
)

__all__ = [
    "LABEL", "ridgelet_transform", "dual_transform", "reconstruction_constant", "qrt_circuit", "qrt_state",
    "encoded_state", "encoding_circuit", "node_probabilities", "sample_nodes", "node_features", "RidgeletNetwork",
]

LABEL = "quantum ridgelet transform (reconstruction, inferred from the abstract)"


def _grid_shape(f: np.ndarray) -> tuple[int, int]:
    """``(P, D)`` of a function on Z_P^D, or a ``ValueError``."""
    if f.ndim < 1 or len(set(f.shape)) != 1:
        raise ValueError(f"f must be a function on Z_P^D, an array of shape (P,) * D, got shape {f.shape}")
    p, d = f.shape[0], f.ndim
    if p < 2 or any(p % q == 0 for q in range(2, int(math.isqrt(p)) + 1)):
        raise ValueError(f"P = {p} must be prime (the transform needs every nonzero w invertible mod P)")
    if not np.all(np.isfinite(f)):
        raise ValueError("f contains NaN or infinite values")
    return p, d


def _default_psi_hat(p: int, psi_hat: Any) -> np.ndarray:
    if psi_hat is None:
        values = np.ones(p, dtype=complex)
        values[0] = 0.0
        return values
    values = np.asarray(psi_hat, dtype=complex)
    if values.shape != (p,):
        raise ValueError(f"psi_hat must have one value per frequency, shape ({p},), got {values.shape}")
    return values


def ridgelet_transform(f: Any, psi_hat: Any = None, method: str = "fourier") -> np.ndarray:
    """``R[f](a_1, ..., a_D, b)`` of ``f`` ``(P,) * D``: shape ``(P,) * D + (P,)``.

    Args:
        f: values on Z_P^D (P prime), real or complex.
        psi_hat: the ridgelet function's DFT ``(P,)`` (default 1 on ``w != 0``, 0 at 0).
        method: ``"fourier"`` (Fourier-slice route: a D-dimensional FFT, a gather of
            ``f_hat(w a)`` and one inverse FFT per ``a``, ``O(P^{D+1} log P)``) or ``"direct"``
            (the defining sum, ``O(P^{2D+1})``, the reference).
    """
    f = np.asarray(f)
    p, d = _grid_shape(f)
    psi_hat = _default_psi_hat(p, psi_hat)
    if method == "direct":
        psi = np.fft.ifft(psi_hat)  # psi(u) = (1/P) sum_w psi_hat(w) e^{2 pi i w u / P}
        points = np.array(list(itertools.product(range(p), repeat=d)))
        dots = (points @ points.T) % p  # (a, x)
        flat = f.reshape(-1)
        out = np.stack([np.conj(psi[(dots - b) % p]) @ flat for b in range(p)], axis=-1)
        return out.reshape((p,) * d + (p,))
    if method != "fourier":
        raise ValueError(f"method must be 'fourier' or 'direct', got {method!r}")
    f_hat = np.fft.fftn(f)
    points = np.array(list(itertools.product(range(p), repeat=d)))  # every a
    w = np.arange(p)
    # slice[a, w] = conj(psi_hat(w)) f_hat(w a mod P); then R(a, .) = inverse DFT over w
    index = tuple(((w[None, :, None] * points[:, None, :]) % p)[..., axis] for axis in range(d))
    slices = np.conj(psi_hat)[None, :] * f_hat[index]
    return np.fft.ifft(slices, axis=1).reshape((p,) * d + (p,))


def dual_transform(w: Any, sigma: Callable[[np.ndarray], np.ndarray] | Any) -> np.ndarray:
    """``S[w](x) = sum_{a, b} w(a, b) sigma((a . x - b) mod P)``: the network with output weights ``w`` ``(P,) * D + (P,)``.

    ``sigma`` is the activation on Z_P: values ``(P,)`` or a function of ``u`` in ``0..P-1``.
    """
    w = np.asarray(w)
    p, d = w.shape[-1], w.ndim - 1
    if d < 1 or w.shape != (p,) * (d + 1):
        raise ValueError(f"w must have shape (P,) * D + (P,), got {w.shape}")
    values = np.asarray(sigma(np.arange(p)) if callable(sigma) else sigma)
    points = np.array(list(itertools.product(range(p), repeat=d)))
    dots = (points @ points.T) % p  # (a, x)
    flat = w.reshape(-1, p)
    out = sum(values[(dots - b) % p].T @ flat[:, b] for b in range(p))
    return np.asarray(out).reshape((p,) * d)


def reconstruction_constant(modulus: int, dimension: int, sigma: Any, psi_hat: Any = None) -> complex:
    """``C`` with ``S[R f] = C f``: ``P^{D-1} sum_{w != 0} conj(psi_hat(w)) sigma_hat(w)`` (needs ``psi_hat(0) = 0``)."""
    p = int(modulus)
    psi_hat = _default_psi_hat(p, psi_hat)
    if abs(psi_hat[0]) > 1e-12:
        raise ValueError("exact reconstruction needs psi_hat(0) = 0 (a ridgelet function of zero mean)")
    values = np.asarray(sigma(np.arange(p)) if callable(sigma) else sigma, dtype=complex)
    return complex(p ** (dimension - 1) * np.sum(np.conj(psi_hat[1:]) * np.fft.fft(values)[1:]))


def _needs_block_encoding(psi_hat: np.ndarray) -> bool:
    return not np.allclose(np.abs(psi_hat[1:]), 1.0, atol=1e-12)


def qrt_circuit(modulus: int, dimension: int, psi_hat: Any = None) -> Circuit:
    """The QRT circuit: D data registers then one frequency register, ``(D + 1) ceil(log2 P)`` wires.

    From ``|f>`` on the data registers (frequency register in ``|0>``) it leaves
    ``sum_{a, b} R[f](a, b) / sqrt((P - 1) P^{D-1}) |a>|b>``: DFT_P on each data register,
    the frequency register to ``(P-1)^{-1/2} sum_{w != 0} |w>``, ``|k>|w> -> |w^{-1} k>|w>`` on
    each data register (D controlled modular multiplications: the O(D) part), the phase
    ``conj(psi_hat(w))``, and the inverse DFT_P on the frequency register (which becomes ``b``).
    A ``psi_hat`` that is not unit-modulus on ``w != 0`` is applied as a block-encoded
    diagonal ``conj(psi_hat) / max |psi_hat|`` with one more wire (the last), to be
    post-selected on ``|0>`` (:func:`qrt_state` does, and reports the probability).
    """
    p = int(modulus)
    if isinstance(dimension, bool) or int(dimension) != dimension or dimension < 1:
        raise ValueError(f"dimension D must be a positive integer, got {dimension!r}")
    psi_hat = _default_psi_hat(p, psi_hat)
    k = register_wires(p)
    data = [list(range(i * k, (i + 1) * k)) for i in range(dimension)]
    frequency = list(range(dimension * k, (dimension + 1) * k))
    phases = np.conj(psi_hat).copy()
    phases[0] = 1.0  # w = 0 carries no amplitude
    encoded = _needs_block_encoding(psi_hat)
    c = Circuit((dimension + 1) * k + (1 if encoded else 0))
    forward = dft_matrix(p)
    for register in data:
        c.unitary(forward, register)
    c.unitary(uniform_nonzero_matrix(p), frequency)
    multiply = controlled_inverse_multiply_matrix(p)
    for register in data:
        c.unitary(multiply, register + frequency)
    if encoded:
        scaled = phases / np.abs(phases).max()
        c.unitary(diagonal_block_encoding(p, scaled), frequency + [c.num_wires - 1])
    else:
        c.unitary(phase_matrix(p, phases), frequency)
    c.unitary(dft_matrix(p, inverse=True), frequency)
    return c


def _valid_index(p: int, registers: int) -> np.ndarray:
    """Flat statevector index of each valid value tuple of ``registers`` Z_P registers, in C order."""
    k = register_wires(p)
    values = np.array(list(itertools.product(range(p), repeat=registers)))
    shifts = k * np.arange(registers - 1, -1, -1)
    return (values << shifts).sum(axis=1)


def encoded_state(f: Any) -> np.ndarray:
    """The QRT circuit's start state: ``f / ||f||`` on the D data registers, the frequency register in ``|0>``,
    ``(2^{(D+1) ceil(log2 P)},)``."""
    f = np.asarray(f, dtype=complex)
    p, d = _grid_shape(f)
    norm = np.linalg.norm(f)
    if norm == 0:
        raise ValueError("f is zero everywhere; there is no state to encode")
    k = register_wires(p)
    start = np.zeros(1 << ((d + 1) * k), dtype=complex)
    start[_valid_index(p, d) << k] = f.reshape(-1) / norm  # the frequency register is the last, in |0>
    return start


def encoding_circuit(f: Any) -> Circuit:
    """The amplitude encoding of ``f`` as a circuit on the QRT's wires: ``|0...0> -> encoded_state(f)``.

    One dense unitary (a Householder reflection, :func:`qmlsim.circuits.qsp.state_preparation`);
    prepend it to :func:`qrt_circuit` to run the whole algorithm from ``|0...0>`` (on hardware).
    """
    from qmlsim.circuits.qsp import state_preparation  # noqa: PLC0415

    return state_preparation(encoded_state(f))


def qrt_state(f: Any, psi_hat: Any = None, executor: Any = None, return_probability: bool = False) -> Any:
    """Run :func:`qrt_circuit` on the amplitude encoding of ``f`` (normalised); output amplitudes ``(P,) * D + (P,)``.

    Equals ``ridgelet_transform(f / ||f||, psi_hat) / sqrt((P - 1) P^{D-1})`` for unit-modulus
    ``psi_hat`` (tested to 1e-12). Otherwise the ancilla of the block-encoded diagonal is
    post-selected on ``|0>`` and the state renormalised; ``return_probability`` also returns
    the post-selection's success probability (1 without an ancilla).
    """
    from qmlsim.simulators import Simulator  # noqa: PLC0415

    f = np.asarray(f, dtype=complex)
    p, d = _grid_shape(f)
    start = encoded_state(f)  # checks f before the circuit is built
    circuit = qrt_circuit(p, d, psi_hat)
    ancilla = circuit.num_wires - (d + 1) * register_wires(p)
    if ancilla:
        start = np.kron(start, np.array([1.0, 0.0]))  # the ancilla (last wire) in |0>
    device = Simulator() if executor is None else executor
    state = np.asarray(device.statevector(circuit, initial_state=start))
    if ancilla:
        state = state[0::2]
    out = state[_valid_index(p, d + 1)].reshape((p,) * (d + 1))
    probability = float(np.vdot(out, out).real)
    if ancilla:
        out = out / math.sqrt(probability)
    return (out, probability) if return_probability else out


def node_probabilities(f: Any, psi_hat: Any = None) -> np.ndarray:
    """``p(a, b) = |R[f](a, b)|^2 / sum |R f|^2``, shape ``(P,) * D + (P,)``: the distribution the QRT measures."""
    r = ridgelet_transform(np.asarray(f), psi_hat)
    weights = np.abs(r) ** 2
    total = weights.sum()
    if total == 0:
        raise ValueError("R[f] is zero (f is constant and psi_hat(0) = 0): no node carries weight")
    return weights / total


def sample_nodes(f: Any, num_nodes: int, method: str = "qrt", psi_hat: Any = None, seed: Any = None,
                 executor: Any = None) -> np.ndarray:
    """Draw ``num_nodes`` hidden nodes ``(a, b)``: int array ``(num_nodes, D + 1)`` (``a_1..a_D, b``), with replacement.

    Args:
        f: the target on Z_P^D ``(P,) * D``.
        num_nodes: how many nodes.
        method: ``"qrt"`` (measure the QRT circuit's output state, computed on the engine,
            in the computational basis: what hardware would return), ``"exact"`` (draw from
            ``|R[f]|^2`` computed classically) or ``"uniform"`` (every node equally likely).
        psi_hat: the ridgelet function's DFT (default 1 off zero).
        seed: seed of the draws.
        executor: runs the circuit for ``"qrt"`` (default ``Simulator()``).
    """
    f = np.asarray(f)
    p, d = _grid_shape(f)
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, (int, np.integer)) or num_nodes < 1:
        raise ValueError(f"num_nodes must be a positive integer, got {num_nodes!r}")
    if method not in ("qrt", "exact", "uniform"):
        raise ValueError(f"method must be 'qrt', 'exact' or 'uniform', got {method!r}")
    if num_nodes > p ** (d + 1):
        raise ValueError(f"num_nodes = {num_nodes} is more than the {p ** (d + 1)} nodes (a, b) of Z_{p}^{d} x Z_{p}; "
                         "a network cannot have more distinct hidden nodes")
    rng = np.random.default_rng(seed)
    if method == "uniform":
        probabilities = np.full(p ** (d + 1), 1.0 / p ** (d + 1))
    elif method == "exact":
        probabilities = node_probabilities(f, psi_hat).reshape(-1)
    else:
        probabilities = np.abs(qrt_state(f, psi_hat, executor)).reshape(-1) ** 2
        probabilities /= probabilities.sum()  # the engine's state has norm 1 to rounding
    flat = rng.choice(probabilities.size, size=int(num_nodes), p=probabilities)
    return np.stack(np.unravel_index(flat, (p,) * (d + 1)), axis=1)


def node_features(nodes: np.ndarray, sigma: Any, modulus: int) -> np.ndarray:
    """``sigma((a . x - b) mod P)`` for every grid point ``x`` (rows, C order) and node (columns): ``(P^D, N)``."""
    nodes = np.asarray(nodes)
    d = nodes.shape[1] - 1
    values = np.asarray(sigma(np.arange(modulus)) if callable(sigma) else sigma)
    points = np.array(list(itertools.product(range(modulus), repeat=d)))
    return values[(points @ nodes[:, :d].T - nodes[None, :, d]) % modulus]


_ACTIVATIONS = {
    "relu": lambda p: np.maximum(0, np.arange(p) - (p - 1) / 2) / p,  # centred ReLU on Z_P
    "sign": lambda p: np.sign(np.arange(p) - (p - 1) / 2),
}


class RidgeletNetwork(RegressorMixin, BaseEstimator):
    """A one-hidden-layer network whose hidden nodes are sampled from the ridgelet transform (final class).

    ``fit`` scales each feature to ``0..P-1`` (min-max over the training data, rounded),
    averages the centred targets per grid cell to get ``f`` on Z_P^D (empty cells 0), draws
    ``n_nodes`` nodes ``(a, b)`` by :func:`sample_nodes` and fits only the output layer
    (and a bias) by ridge regression on ``sigma((a . x - b) mod P)``. Sampling
    ``"qrt"`` measures the QRT circuit on ``executor``; ``"exact"`` and ``"uniform"`` are the
    classical references. A reconstruction of the lottery-ticket use of the QRT (inferred
    from the abstract).

    Args:
        n_nodes: hidden nodes N.
        modulus: P (prime): grid points per feature.
        sampling: ``"qrt"``, ``"exact"`` or ``"uniform"``.
        activation: ``"relu"`` (centred ReLU on Z_P) or ``"sign"``.
        alpha: ridge penalty on the output weights.
        random_state: seed of the draws.
        executor: runs the circuit for ``sampling="qrt"`` (default ``Simulator()``).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.uniform(-1, 1, size=(300, 2)); y = np.sin(3 * X[:, 0]) + X[:, 1]
        >>> RidgeletNetwork(n_nodes=40, modulus=11, random_state=0).fit(X, y).score(X, y) > 0.8
        True
    """

    def __init__(self, n_nodes: int = 32, modulus: int = 13, sampling: str = "exact", activation: str = "relu",
                 alpha: float = 1e-6, random_state: int | None = None, executor: Any = None):
        self.n_nodes = n_nodes
        self.modulus = modulus
        self.sampling = sampling
        self.activation = activation
        self.alpha = alpha
        self.random_state = random_state
        self.executor = executor

    def _grid(self, X: np.ndarray) -> np.ndarray:
        scaled = (X - self.low_) / self.span_ * (self.modulus - 1)
        return np.clip(np.rint(scaled), 0, self.modulus - 1).astype(np.int64)

    def _features(self, X: np.ndarray) -> np.ndarray:
        points = self._grid(X)
        nodes = self.nodes_
        d = points.shape[1]
        hidden = self.sigma_[(points @ nodes[:, :d].T - nodes[None, :, d]) % self.modulus]
        return np.hstack([hidden, np.ones((X.shape[0], 1))])

    def fit(self, X: Any, y: Any) -> RidgeletNetwork:
        """Sample the hidden nodes from the data's ridgelet transform and fit the output layer."""
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {self.activation!r}")
        if X.shape[0] < 2:
            raise ValueError(f"RidgeletNetwork needs at least 2 samples to fit, got n_samples = {X.shape[0]}")
        p, d = int(self.modulus), X.shape[1]
        _grid_shape(np.zeros((p,)))  # P must be prime
        if p ** (d + 1) > 2**24:
            raise ValueError(f"P^(D+1) = {p ** (d + 1)} candidate nodes is too many to sample from here; "
                             "reduce the features (D) or P")
        if not 1 <= int(self.n_nodes) <= p ** (d + 1):
            raise ValueError(f"n_nodes must be between 1 and the {p ** (d + 1)} candidate nodes, got {self.n_nodes}")
        self.low_ = X.min(axis=0)
        self.span_ = np.where(X.max(axis=0) > self.low_, X.max(axis=0) - self.low_, 1.0)
        self.sigma_ = _ACTIVATIONS[self.activation](p)
        cells = np.ravel_multi_index(self._grid(X).T, (p,) * d)
        centred = y - y.mean()
        totals = np.bincount(cells, weights=centred, minlength=p**d)
        counts = np.bincount(cells, minlength=p**d)
        f = np.where(counts > 0, totals / np.maximum(counts, 1), 0.0).reshape((p,) * d)
        self.nodes_ = sample_nodes(f, int(self.n_nodes), self.sampling, seed=self.random_state, executor=self.executor)
        features = self._features(X)
        gram = features.T @ features + self.alpha * np.eye(features.shape[1])
        self.coef_ = np.linalg.solve(gram, features.T @ y)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``(n,)`` (inputs outside the training range are clipped to the grid)."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._features(X) @ self.coef_
