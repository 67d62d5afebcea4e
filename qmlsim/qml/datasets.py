"""The ad hoc data set of Havlicek et al. (Nature 567, 209, 2019), generated locally.

The algorithm and the order of random draws follow
``qiskit_machine_learning.datasets.ad_hoc_data`` (0.9), so for a fixed seed the arrays
are identical to qiskit-machine-learning's with
``algorithm_globals.random_seed = seed``. Differences (all in the defaults and the
seeding, not in the data): ``n=2`` and ``gap=0.3`` by default (the paper's values),
integer labels ``class_labels`` by default instead of one-hot, the generator is an
argument instead of a global, and Sobol sampling is seeded from the same generator
(qiskit-machine-learning leaves it unseeded).

>>> x_train, y_train, x_test, y_test = ad_hoc_data(5, 2, seed=0)
>>> x_train.shape, y_train.tolist()
((10, 2), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
"""
from __future__ import annotations

import itertools
from typing import Any, Sequence

import numpy as np

from qmlsim.qml.series import bessel_j2, damped_pendulum, delayed_control, narma, windows

__all__ = [
    "ad_hoc_data", "ad_hoc_observable", "ad_hoc_states",
    "damped_pendulum", "bessel_j2", "delayed_control", "narma", "windows",
]

# Points per axis of the labelled grid, as in qiskit-machine-learning.
_GRID_COUNT = {1: 5000, 2: 100, 3: 20}
_ENTANGLEMENTS = ("full", "linear", "circular")
_SAMPLINGS = ("grid", "hypercube", "sobol")


def _z_signs(n: int) -> np.ndarray:
    """``(n, 2**n)``: the diagonal of ``Z_i``; wire 0 is the most significant bit."""
    index = np.arange(2**n)
    bits = (index[None, :] >> (n - 1 - np.arange(n))[:, None]) & 1
    return 1.0 - 2.0 * bits


def _pairs(n: int, entanglement: str) -> list[tuple[int, int]]:
    if entanglement == "full":
        return list(itertools.combinations(range(n), 2))
    pairs = [(i, i + 1) for i in range(n - 1)]
    if entanglement == "circular":
        pairs.append((n - 1, 0))
    return pairs


def _hadamard(n: int) -> np.ndarray:
    h = np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2)
    out = np.eye(1)
    for _ in range(n):
        out = np.kron(out, h)
    return out


def ad_hoc_states(x: np.ndarray, entanglement: str = "full") -> np.ndarray:
    """Feature states ``U_Phi(x) H U_Phi(x) H |0>`` of the paper (sign ``exp(+i ...)``, no factor 2).

    Args:
        x: ``(batch, n)`` features.
        entanglement: which ``Z_i Z_j`` terms appear: ``"full"``, ``"linear"`` or ``"circular"``.

    Returns:
        ``(batch, 2**n)`` complex states, wire 0 the most significant bit.

    Example:
        >>> ad_hoc_states(np.zeros((1, 2))).shape
        (1, 4)
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    n = x.shape[1]
    z = _z_signs(n)
    phase = x @ z
    for i, j in _pairs(n, entanglement):
        phase += ((np.pi - x[:, i]) * (np.pi - x[:, j]))[:, None] * (z[i] * z[j])[None, :]
    u = np.exp(1j * phase)
    psi0 = np.full(2**n, 2 ** (-n / 2))
    return u * ((u * psi0) @ _hadamard(n).T)


def ad_hoc_observable(n: int, rng: np.random.Generator) -> np.ndarray:
    """``O = V^dagger Z...Z V`` with qiskit-machine-learning's random ``V`` (draws from ``rng``).

    ``V`` holds the eigenvectors of ``A^dagger A`` for ``A`` with entries
    ``U[0,1) + i U[0,1)``, ordered by decreasing eigenvalue (not Haar random).

    Example:
        >>> o = ad_hoc_observable(2, np.random.default_rng(0))
        >>> bool(np.allclose(o, o.conj().T))
        True
    """
    dims = 2**n
    a = rng.random((dims, dims)) + 1j * rng.random((dims, dims))
    eigvals, eigvecs = np.linalg.eig(a.conj().T @ a)
    v = eigvecs[:, eigvals.argsort()[::-1]]
    parity = np.prod(_z_signs(n), axis=0)
    return v.conj().T @ np.diag(parity) @ v


def _labels(states: np.ndarray, observable: np.ndarray, gap: float) -> np.ndarray:
    values = np.einsum("bi,ij,bj->b", states.conj(), observable, states).real
    return (np.abs(values) > gap) * np.sign(values)


def _grid(n: int, per_class: int, observable: np.ndarray, gap: float, entanglement: str, rng: np.random.Generator):
    count = _GRID_COUNT[n]
    axis = np.linspace(0, 2 * np.pi, count, endpoint=False)
    points = np.array(list(itertools.product(*[axis] * n)))
    labels = _labels(ad_hoc_states(points, entanglement), observable, gap).reshape((count,) * n)
    if not (labels == 1).any() or not (labels == -1).any():
        raise ValueError(f"gap={gap} leaves no grid point in one of the classes; use a smaller gap")
    classes = []
    for target in (1, -1):
        found: list[list[float]] = []
        while len(found) < per_class:
            draws = tuple(rng.choice(count) for _ in range(n))
            if labels[draws] == target:
                found.append([axis[d] for d in draws])
        classes.append(np.array(found).reshape(per_class, n))
    return classes


def _hypercube(n: int, size: int, divisions: int, rng: np.random.Generator) -> np.ndarray:
    samples = np.empty((size, n))
    bins = np.tile(np.arange(divisions), (size + divisions - 1) // divisions)
    for dim in range(n):
        rng.shuffle(bins)
        samples[:, dim] = (bins[:size] + rng.random(size)) * (2 * np.pi / divisions)
    return samples


def _rejection(n, per_class, observable, gap, entanglement, method, divisions, rng):
    from scipy.stats.qmc import Sobol  # noqa: PLC0415 - only this sampling needs it

    found = [np.empty((per_class, n)), np.empty((per_class, n))]
    filled = [0, 0]
    while filled[0] < per_class or filled[1] < per_class:
        size = 2 * per_class - filled[0] - filled[1]
        if method == "sobol":
            size = 2 ** ((size - 1).bit_length())
            x = 2 * np.pi * Sobol(d=n, scramble=True, seed=rng).random(size)
        else:
            x = _hypercube(n, size, divisions, rng)
        labels = _labels(ad_hoc_states(x, entanglement), observable, gap)
        for k, target in enumerate((1, -1)):
            take = x[labels == target][: per_class - filled[k]]
            found[k][filled[k] : filled[k] + len(take)] = take
            filled[k] += len(take)
    return found


def ad_hoc_data(
    training_size: int,
    test_size: int,
    n: int = 2,
    gap: float = 0.3,
    seed: int | np.random.Generator | None = None,
    one_hot: bool = False,
    class_labels: Sequence[Any] = (0, 1),
    entanglement: str = "full",
    sampling_method: str = "grid",
    divisions: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Havlicek et al.'s artificial data set, separable by the ZZ feature-map kernel.

    Points ``x`` in ``[0, 2 pi)^n`` are labelled by the sign of
    ``<Phi(x)| V^dagger Z...Z V |Phi(x)>`` for a random unitary ``V``; points with
    ``|<O>| <= gap`` are rejected. Class A (``<O> > gap``) comes first in each split.

    Args:
        training_size: training points **per class**.
        test_size: test points **per class**.
        n: number of features (qubits).
        gap: separation ``Delta`` (the paper's 0.3).
        seed: seed or ``numpy.random.Generator`` (qiskit-machine-learning's
            ``algorithm_globals.random_seed``).
        one_hot: labels ``[1, 0]`` / ``[0, 1]`` instead of ``class_labels``.
        class_labels: labels of class A and class B when not one-hot.
        entanglement: ``"full"``, ``"linear"`` or ``"circular"`` ``Z_i Z_j`` terms.
        sampling_method: ``"grid"`` (a uniform grid of 100 points per axis for n=2,
            20 for n=3, drawn with replacement: duplicates and train/test overlap are
            possible), ``"hypercube"`` (needs ``divisions``) or ``"sobol"``.
        divisions: strata per axis of ``"hypercube"`` sampling.

    Returns:
        ``(x_train (2*training_size, n), y_train, x_test (2*test_size, n), y_test)``;
        labels are ``(2*size,)`` or ``(2*size, 2)`` one-hot.

    Raises:
        ValueError: negative sizes, ``n < 1``, a negative gap, an unknown entanglement
            or sampling method, grid sampling with ``n > 3``, hypercube without ``divisions``.

    Example:
        >>> x, y, _, _ = ad_hoc_data(3, 0, seed=1)
        >>> bool(((x >= 0) & (x < 2 * np.pi)).all()), sorted(set(y.tolist()))
        (True, [0, 1])
    """
    for name, value in (("training_size", training_size), ("test_size", test_size)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer (points per class), got {value!r}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not np.isfinite(gap) or gap < 0:
        raise ValueError(f"gap must be a finite number >= 0, got {gap!r}")
    if entanglement not in _ENTANGLEMENTS:
        raise ValueError(f"entanglement must be one of {_ENTANGLEMENTS}, got {entanglement!r}")
    if sampling_method not in _SAMPLINGS:
        raise ValueError(f"sampling_method must be one of {_SAMPLINGS}, got {sampling_method!r}")
    if sampling_method == "grid" and n > 3:
        raise ValueError("grid sampling supports n <= 3; use sampling_method='hypercube' or 'sobol'")
    if sampling_method == "hypercube" and divisions < 1:
        raise ValueError("sampling_method='hypercube' needs divisions >= 1 (about training_size)")
    if len(class_labels) != 2:
        raise ValueError(f"class_labels must hold two labels, got {class_labels!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    # Same draw order as qiskit-machine-learning: V first, then the samples.
    observable = ad_hoc_observable(n, rng)
    per_class = int(training_size) + int(test_size)
    if sampling_method == "grid":
        a, b = _grid(n, per_class, observable, gap, entanglement, rng)
    else:
        a, b = _rejection(n, per_class, observable, gap, entanglement, sampling_method, divisions, rng)
    x_train = np.concatenate([a[:training_size], b[:training_size]])
    x_test = np.concatenate([a[training_size:], b[training_size:]])

    def labels(size: int) -> np.ndarray:
        if one_hot:
            return np.array([[1, 0]] * size + [[0, 1]] * size).reshape(2 * size, 2)
        return np.array([class_labels[0]] * size + [class_labels[1]] * size)

    return x_train, labels(int(training_size)), x_test, labels(int(test_size))
