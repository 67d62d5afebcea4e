"""Fidelity quantum kernels ``K(x, z) = |<Phi(x)|Phi(z)>|^2`` on the simulator and on hardware.

The estimators here check data and parameters; the Gram matrix itself comes from
:func:`qmlsim.simulators.gram.fidelity_gram`: on a statevector device every distinct
input row is simulated once, batched (ZZ-like feature maps as phase products), and the
Gram matrix is ``|S_X^* S_Y^T|^2`` in tiles; on a hardware executor every pair runs the
compute-uncompute circuit ``U(z)^dagger U(x)`` as one row of one batch.

>>> import numpy as np
>>> k = FidelityQuantumKernel()
>>> K = k.matrix(np.array([[0.1, 0.2], [0.3, 0.4]]))
>>> K.shape, bool(np.allclose(np.diag(K), 1))
((2, 2), True)
"""
from __future__ import annotations

import abc
import functools
from typing import Any, Callable

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array, check_is_fitted

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.templates import compute_uncompute, zz_feature_map
from qmlsim.simulators.executor import resolve_device
from qmlsim.simulators.gram import PhaseProgram, compile_phase_program, fidelity_gram, phase_program_states, project_psd

__all__ = [
    "PhaseProgram",
    "compile_phase_program",
    "phase_program_states",
    "compute_uncompute",
    "kernel_target_alignment",
    "project_psd",
    "FidelityQuantumKernel",
    "TrainableFidelityQuantumKernel",
]

def _validated_pair(x: Any, y: Any, n_features: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    x = check_array(x, dtype=np.float64, input_name="X")
    if y is not None:
        y = check_array(y, dtype=np.float64, input_name="Y")
        if y.shape[1] != x.shape[1]:
            raise ValueError(f"X has {x.shape[1]} features but Y has {y.shape[1]}; both must have the same number of features")
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"X has {x.shape[1]} features, but the feature map takes {n_features} inputs")
    return x, y


class _FidelityKernelBase(BaseEstimator, abc.ABC):
    """Shared evaluation of the fidelity kernels (abstract; the public kernels are final)."""

    def __init__(self, feature_map: Circuit | None, device: Any, batch_size: int | None, shots: int | None, seed: int | None,
                 enforce_psd: bool, fast_path: bool, max_memory_bytes: int | None):
        # the parameters both kernels take (scikit-learn reads each subclass's own signature)
        self.feature_map = feature_map
        self.device = device
        self.batch_size = batch_size
        self.shots = shots
        self.seed = seed
        self.enforce_psd = enforce_psd
        self.fast_path = fast_path
        self.max_memory_bytes = max_memory_bytes

    @abc.abstractmethod
    def _feature_map_for(self, n_features: int) -> Circuit:
        """The feature map for ``n_features`` inputs."""

    @abc.abstractmethod
    def _weights(self) -> Any:
        """The feature map's weights (``None`` without weights)."""

    def matrix(self, X: Any, Y: Any = None, out: str | None = None) -> Any:
        """The Gram matrix ``K[i, j] = |<Phi(X_i)|Phi(Y_j)>|^2``.

        Args:
            X: ``(n, num_features)``.
            Y: ``(m, num_features)``, or ``None`` for the symmetric ``K(X, X)``.
            out: with a :class:`~qmlsim.simulators.DaskExecutor` device, a directory for a zarr
                store that receives the matrix tile by tile (for matrices larger than memory;
                a second call with the same arguments skips finished tiles).

        Returns:
            ``(n, m)`` float64, or the ``zarr.Array`` written to ``out``.

        Raises:
            ValueError: NaN/inf features, mismatched feature counts, ``out`` without a Dask
                device or with shots.
            MemoryError: when the result would not fit in memory (or on disk, with ``out``).
        """
        X, Y = _validated_pair(X, Y, None)
        feature_map = self._feature_map_for(X.shape[1])
        if feature_map.num_inputs != X.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features, but the feature map takes {feature_map.num_inputs} inputs")
        _check_shots(self.shots)
        if out is not None:
            device = resolve_device(self.device)
            if not callable(getattr(device, "gram", None)):
                raise ValueError("out= writes the matrix tile by tile from Dask tasks: use device=DaskExecutor(...)")
            if self.shots is not None:
                raise ValueError("out= computes exact kernels; sample shots from the stored values, or use shots=None")
            return device.gram(feature_map, X, Y, self._weights(), fast_path=self.fast_path, out=out,
                               block_rows=self.batch_size)
        return fidelity_gram(
            feature_map, X, Y, self._weights(), resolve_device(self.device), shots=self.shots, seed=self.seed,
            enforce_psd=self.enforce_psd, tile_rows=self.batch_size, fast_path=self.fast_path,
            max_memory_bytes=self.max_memory_bytes,
        )

    def __call__(self, X: Any, Y: Any = None) -> np.ndarray:
        """``k(X, Y)``: the Gram matrix, so the kernel works as ``sklearn.svm.SVC(kernel=k)``."""
        return self.matrix(X, Y)


def _check_shots(shots: Any) -> None:
    if shots is not None and (not isinstance(shots, (int, np.integer)) or isinstance(shots, bool) or shots < 1):
        raise ValueError(f"shots must be None (exact) or a positive integer, got {shots!r}")


@functools.lru_cache(maxsize=32)
def _default_feature_map(n_features: int) -> Circuit:
    return zz_feature_map(n_features, reps=2)


class FidelityQuantumKernel(_FidelityKernelBase):
    """``K(x, z) = |<Phi(x)|Phi(z)>|^2`` of a feature-map circuit (final class).

    Args:
        feature_map: circuit with ``num_features`` inputs and no weights; default
            ``zz_feature_map(num_features, reps=2)``, built at the first call.
        device: ``None`` (NumPy simulator), a backend name (``"numpy"``, ``"jax"``,
            ``"cupy"``) or an executor. Statevector devices use the batched
            statevector route; others run compute-uncompute circuits.
        batch_size: rows of ``X`` per tile of the Gram product (default: tiles of
            about 2**23 entries).
        shots: ``None`` for exact fidelities, else shots per kernel entry. On a
            simulator the estimate is a seeded binomial draw (the exact law of the
            all-zeros frequency); on hardware the circuits are sampled.
        seed: seed of the sampling.
        enforce_psd: project sampled symmetric Gram matrices onto the PSD cone.
        fast_path: build states of Hadamard+diagonal circuits by phase products.
        max_memory_bytes: cap on the result's memory (default: half of available memory).

    Example:
        >>> from sklearn.svm import SVC
        >>> X = np.array([[0.1, 0.2], [2.0, 1.0], [0.2, 0.1], [2.1, 0.9]]); y = [0, 1, 0, 1]
        >>> SVC(kernel=FidelityQuantumKernel()).fit(X, y).predict(X).tolist()
        [0, 1, 0, 1]
    """

    def __init__(
        self,
        feature_map: Circuit | None = None,
        device: Any = None,
        batch_size: int | None = None,
        shots: int | None = None,
        seed: int | None = None,
        enforce_psd: bool = True,
        fast_path: bool = True,
        max_memory_bytes: int | None = None,
    ):
        super().__init__(feature_map, device, batch_size, shots, seed, enforce_psd, fast_path, max_memory_bytes)

    def _feature_map_for(self, n_features: int) -> Circuit:
        if self.feature_map is None:
            return _default_feature_map(n_features)
        if not isinstance(self.feature_map, Circuit):
            raise TypeError(f"feature_map must be a qmlsim Circuit or None, got {type(self.feature_map).__name__}")
        if self.feature_map.num_weights:
            raise ValueError("feature_map has trainable weights: use TrainableFidelityQuantumKernel")
        return self.feature_map

    def _weights(self) -> None:
        return None

    def fit(self, X: Any, y: Any = None) -> FidelityQuantumKernel:
        """Nothing to learn; validates ``X`` and returns ``self`` (for pipelines)."""
        check_array(X, input_name="X")
        return self


def kernel_target_alignment(kernel_matrix: np.ndarray, y: np.ndarray) -> float:
    """Kernel-target alignment ``<K, y y^T>_F / (N ||K||_F)`` for labels ``y`` in ``{-1, +1}``.

    Example:
        >>> kernel_target_alignment(np.eye(2), np.array([1, -1]))
        0.7071067811865475
    """
    y = np.asarray(y, dtype=float)
    return float(y @ kernel_matrix @ y / (y.size * np.linalg.norm(kernel_matrix)))


def _default_trainable_feature_map(n_features: int) -> Circuit:
    c = Circuit(n_features)
    c.inputs(n_features)
    w = c.weights(n_features)
    for i in range(n_features):
        c.ry(w[i], i)
    return c.compose(zz_feature_map(n_features, reps=2))


class TrainableFidelityQuantumKernel(_FidelityKernelBase):
    """A fidelity kernel whose feature map has trainable weights, fitted by kernel-target alignment (final class).

    ``fit(X, y)`` maximises the alignment of ``K(X, X)`` with ``y y^T`` (binary
    labels; more classes use the one-vs-rest sum) with SPSA, and stores ``weights_``.

    Args:
        feature_map: circuit with ``num_features`` inputs and weights; default an
            ``RY(w_i)`` layer followed by ``zz_feature_map(num_features, reps=2)``.
        device, batch_size, shots, seed, enforce_psd, fast_path, max_memory_bytes:
            as :class:`FidelityQuantumKernel`.
        maxiter: SPSA iterations.
        initial_weights: ``(num_weights,)``; default uniform in ``[-pi, pi)``.
        random_state: seed of the initial weights and of SPSA.

    Example:
        >>> X = np.array([[0.1, 0.2], [2.0, 1.0], [0.2, 0.1], [2.1, 0.9]]); y = [0, 1, 0, 1]
        >>> k = TrainableFidelityQuantumKernel(maxiter=5, random_state=0).fit(X, y)
        >>> k.weights_.shape
        (2,)
    """

    def __init__(
        self,
        feature_map: Circuit | None = None,
        device: Any = None,
        batch_size: int | None = None,
        shots: int | None = None,
        seed: int | None = None,
        enforce_psd: bool = True,
        fast_path: bool = True,
        max_memory_bytes: int | None = None,
        maxiter: int = 50,
        initial_weights: Any = None,
        random_state: int | None = None,
    ):
        super().__init__(feature_map, device, batch_size, shots, seed, enforce_psd, fast_path, max_memory_bytes)
        self.maxiter = maxiter
        self.initial_weights = initial_weights
        self.random_state = random_state

    def _feature_map_for(self, n_features: int) -> Circuit:
        if self.feature_map is None:
            return _default_trainable_feature_map(n_features)
        if not isinstance(self.feature_map, Circuit):
            raise TypeError(f"feature_map must be a qmlsim Circuit or None, got {type(self.feature_map).__name__}")
        return self.feature_map

    def _weights(self) -> np.ndarray:
        check_is_fitted(self, "weights_")
        return self.weights_

    def fit(self, X: Any, y: Any, callback: Callable[[int, float], None] | None = None) -> TrainableFidelityQuantumKernel:
        """Train the feature-map weights by kernel-target alignment.

        Args:
            X: ``(n_samples, num_features)``.
            y: ``(n_samples,)`` labels (two or more classes).
            callback: called as ``callback(iteration, alignment)``.

        Returns:
            ``self``, with ``weights_`` and ``alignment_curve_``.
        """
        from qmlsim.qml.optimizers import minimize_spsa  # noqa: PLC0415 - optimizers import nothing from here

        X = check_array(X, dtype=np.float64, input_name="X")
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
        feature_map = self._feature_map_for(X.shape[1])
        if feature_map.num_inputs != X.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features, but the feature map takes {feature_map.num_inputs} inputs")
        if feature_map.num_weights == 0:
            raise ValueError("feature_map has no weights to train: use FidelityQuantumKernel")
        _check_shots(self.shots)
        classes = np.unique(y)
        targets = [np.where(y == c, 1.0, -1.0) for c in (classes[1:] if classes.size == 2 else classes)]
        device = resolve_device(self.device)
        rng = np.random.default_rng(self.random_state)
        if self.initial_weights is None:
            w0 = rng.uniform(-np.pi, np.pi, feature_map.num_weights)
        else:
            w0 = np.asarray(self.initial_weights, dtype=float).reshape(feature_map.num_weights)

        def loss(points: np.ndarray) -> np.ndarray:
            out = []
            for w in points:
                k = fidelity_gram(feature_map, X, None, w, device, self.shots, self.seed, self.enforce_psd, self.batch_size, self.fast_path)
                out.append(-sum(kernel_target_alignment(k, t) for t in targets) / len(targets))
            return np.array(out)

        weights, curve = minimize_spsa(loss, w0[None, :], self.maxiter, seed=int(rng.integers(2**31)), callback=callback)
        self.weights_ = weights[0]
        self.alignment_curve_ = -curve[:, 0]
        self.n_features_in_ = X.shape[1]
        return self
