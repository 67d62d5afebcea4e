"""Quantum classifiers as scikit-learn estimators: a quantum-kernel SVM and the variational classifier.

Both follow Havlicek et al. (Nature 567, 209, 2019). :class:`QSVC` trains a classical
SVM on a quantum Gram matrix; :class:`VariationalClassifier` trains
``W(theta) U_Phi(x) |0>`` with a parity readout and the paper's smoothed binomial
error cost.

>>> import numpy as np
>>> X = np.array([[0.1, 0.2], [2.0, 1.0], [0.2, 0.1], [2.1, 0.9]]); y = [0, 1, 0, 1]
>>> QSVC().fit(X, y).predict(X).tolist()
[0, 1, 0, 1]
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.svm import SVC
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from qmlsim.circuits.circuit import Circuit, substitute
from qmlsim.circuits.expressions import Symbol
from qmlsim.circuits.observables import Observable, Z
from qmlsim.circuits.templates import havlicek_ansatz, zz_feature_map
from qmlsim.qml.kernels import FidelityQuantumKernel, TrainableFidelityQuantumKernel
from qmlsim.simulators.executor import resolve_device
from qmlsim.qml.optimizers import METHODS, minimize
from qmlsim.qml.sequence_training import progress_bar

__all__ = ["QSVC", "VariationalClassifier", "parity_observable", "weights_as_inputs"]


# --------------------------------------------------------------------------------------
# QSVC
# --------------------------------------------------------------------------------------
def _kernel_values(kernel: Any, X: np.ndarray, Y: np.ndarray | None) -> np.ndarray:
    if hasattr(kernel, "matrix"):
        return np.asarray(kernel.matrix(X, Y))
    return np.asarray(kernel(X, X if Y is None else Y))


class QSVC(ClassifierMixin, BaseEstimator):
    """Support vector classifier on a quantum kernel (final class).

    Wraps ``sklearn.svm.SVC(kernel="precomputed")``. At prediction time only kernel
    entries against the support vectors are computed.

    Args:
        kernel: a :class:`~qmlsim.qml.kernels.FidelityQuantumKernel`, a
            ``TrainableFidelityQuantumKernel`` (fitted by ``fit``), any callable
            ``k(X, Y) -> (n, m)``, or ``"precomputed"`` (``fit`` takes the training Gram
            matrix ``(n, n)``, for example the zarr store of ``kernel.matrix(X, out=...)``,
            and ``predict`` takes ``K(X_test, X_train)`` ``(n_test, n)``); default
            ``FidelityQuantumKernel()``.
        C: SVM regularisation.
        class_weight: as in ``SVC``.
        tol: as in ``SVC``.
        max_iter: as in ``SVC``.
        decision_function_shape: ``"ovr"`` or ``"ovo"``, as in ``SVC``.
        random_state: as in ``SVC``.

    Attributes:
        kernel_: the kernel used (cloned from ``kernel``).
        svc_: the fitted ``SVC``.
        classes_, support_, support_vectors_, n_features_in_.

    Example:
        >>> X = np.array([[0.1, 0.2], [2.0, 1.0], [0.2, 0.1], [2.1, 0.9]]); y = [0, 1, 0, 1]
        >>> QSVC(C=10).fit(X, y).score(X, y)
        1.0
    """

    def __init__(
        self,
        kernel: Any = None,
        C: float = 1.0,
        class_weight: Any = None,
        tol: float = 1e-3,
        max_iter: int = -1,
        decision_function_shape: str = "ovr",
        random_state: int | None = None,
    ):
        self.kernel = kernel
        self.C = C
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.decision_function_shape = decision_function_shape
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> QSVC:
        """Fit the SVM on the Gram matrix of ``X``.

        Args:
            X: ``(n_samples, n_features)`` finite features.
            y: ``(n_samples,)`` class labels.

        Returns:
            ``self``.
        """
        precomputed = isinstance(self.kernel, str) and self.kernel == "precomputed"
        X, y = validate_data(self, np.asarray(X) if precomputed else X, y, dtype=np.float64)  # a zarr store loads here
        check_classification_targets(y)
        if precomputed:
            if X.shape[0] != X.shape[1]:
                raise ValueError(f"kernel='precomputed' takes the square training Gram matrix (n, n), got shape {X.shape}")
            kernel, gram = "precomputed", X
        elif self.kernel is None:
            kernel = FidelityQuantumKernel()
        elif hasattr(self.kernel, "get_params"):
            kernel = clone(self.kernel)
        elif callable(self.kernel):
            kernel = self.kernel
        else:
            raise TypeError(f"kernel must be None, a quantum kernel or a callable k(X, Y), got {type(self.kernel).__name__}")
        if isinstance(kernel, TrainableFidelityQuantumKernel):
            kernel.fit(X, y)
        if not precomputed:
            gram = _kernel_values(kernel, X, None)
        self.svc_ = SVC(
            kernel="precomputed", C=self.C, class_weight=self.class_weight, tol=self.tol, max_iter=self.max_iter,
            decision_function_shape=self.decision_function_shape, random_state=self.random_state,
        ).fit(gram, y)
        self.kernel_ = kernel
        self.classes_ = self.svc_.classes_
        self.support_ = self.svc_.support_
        self.support_vectors_ = None if precomputed else X[self.support_]
        self.n_train_ = X.shape[0]
        self.n_iter_ = self.svc_.n_iter_
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # The default feature map expects angles (features in [0, 2 pi)); on unscaled
        # data such as scikit-learn's test blobs its accuracy is legitimately low.
        tags.classifier_tags.poor_score = True
        return tags

    def _test_gram(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "svc_")
        if isinstance(self.kernel_, str):  # "precomputed": X is K(X_test, X_train) (n_test, n_train)
            return validate_data(self, np.asarray(X), reset=False, dtype=np.float64)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        gram = np.zeros((X.shape[0], self.n_train_))
        gram[:, self.support_] = _kernel_values(self.kernel_, X, self.support_vectors_)
        return gram

    def decision_function(self, X: Any) -> np.ndarray:
        """SVM decision values: ``(n,)`` for two classes, ``(n, n_classes)`` otherwise (``"ovr"``)."""
        gram = self._test_gram(X)
        return self.svc_.decision_function(gram)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels ``(n,)``."""
        gram = self._test_gram(X)
        return self.svc_.predict(gram)


# --------------------------------------------------------------------------------------
# Variational classifier: pure functions
# --------------------------------------------------------------------------------------
def parity_observable(num_wires: int) -> Observable:
    """``Z x Z x ... x Z``: +1 for bit strings of even parity, -1 for odd.

    Example:
        >>> parity_observable(2).matrix(2).real.diagonal().tolist()
        [1.0, -1.0, -1.0, 1.0]
    """
    obs = Z(0)
    for w in range(1, num_wires):
        obs = obs @ Z(w)
    return obs


def weights_as_inputs(feature_map: Circuit, ansatz: Circuit) -> Circuit:
    """``ansatz . feature_map`` with the ansatz weights turned into extra inputs.

    Inputs are the feature map's ``d`` features followed by the ansatz's ``P``
    weights, so rows ``[x, theta]`` evaluate many parameter vectors in one batch.

    Example:
        >>> weights_as_inputs(zz_feature_map(2), havlicek_ansatz(2, 1)).num_inputs
        10
    """
    if feature_map.num_weights:
        raise ValueError("feature_map must not have weights; put trainable gates in the ansatz")
    if ansatz.num_inputs:
        raise ValueError("ansatz must not read inputs; put data-dependent gates in the feature map")
    if ansatz.num_wires != feature_map.num_wires:
        raise ValueError(f"ansatz has {ansatz.num_wires} wires but the feature map has {feature_map.num_wires}")
    d = feature_map.num_inputs
    c = Circuit(feature_map.num_wires)
    c.inputs(d + ansatz.num_weights)
    c.compose(feature_map)
    mapping = {Symbol("w", j): Symbol("x", d + j) for j in range(ansatz.num_weights)}
    for op in ansatz.ops:
        c.append(replace(op, params=tuple(substitute(p, mapping) for p in op.params)))
    return c


def binomial_loss(e: np.ndarray, b: np.ndarray, y: np.ndarray, shots: int, grad: bool = False):
    """The paper's cost: ``sig(sqrt(R) (1/2 - p_y + y b / 2) / sqrt(2 p_y (1 - p_y)))``, averaged.

    Args:
        e: ``(runs, N)`` parity expectation values.
        b: ``(runs,)`` biases.
        y: ``(runs, N)`` or ``(N,)`` targets in ``{-1, +1}``.
        shots: ``R``, the number of shots the surrogate models.
        grad: also return ``(dL/de (runs, N), dL/db (runs,))``.

    Returns:
        ``(runs,)`` losses (and gradients).
    """
    p = np.clip((1 + y * e) / 2, 1e-9, 1 - 1e-9)
    den = np.sqrt(2 * p * (1 - p))
    num = 0.5 - p + y * b[:, None] / 2
    a = np.sqrt(shots) * num / den
    s = 0.5 * (1 + np.tanh(a / 2))
    loss = s.mean(axis=1)
    if not grad:
        return loss
    ds = s * (1 - s) / e.shape[1]
    da_dp = np.sqrt(shots) * (-den - num * (1 - 2 * p) / den) / den**2
    return loss, ds * da_dp * y / 2, (ds * np.sqrt(shots) * (y / 2) / den).sum(axis=1)


def cross_entropy_loss(e: np.ndarray, b: np.ndarray, y: np.ndarray, shots: int = 0, grad: bool = False):
    """``-mean log q_y`` with ``q_y = (1 + y (e - b)) / 2`` clipped to ``[1e-6, 1]``; shapes as :func:`binomial_loss`."""
    raw = (1 + y * (e - b[:, None])) / 2
    q = np.clip(raw, 1e-6, None)
    loss = -np.log(q).mean(axis=1)
    if not grad:
        return loss
    active = (raw > 1e-6) / (q * e.shape[1])
    de = -active * y / 2
    return loss, de, -de.sum(axis=1)


_LOSSES = {"binomial": binomial_loss, "cross_entropy": cross_entropy_loss}
_OPTIMIZERS = METHODS


class VariationalClassifier(ClassifierMixin, BaseEstimator):
    """Havlicek et al.'s quantum variational classifier (final class).

    Circuit: feature map, then ``reps`` blocks of CZ entanglers and local ``RY RZ``
    rotations (:func:`~qmlsim.circuits.templates.havlicek_ansatz`), then the parity
    ``f(z) = (-1)^{z_1 + ... + z_n}`` of all measured bits. The decision is
    ``<f> - b > 0`` with a trainable bias ``b``. More than two classes are handled
    one-vs-rest (one circuit per class, the largest margin wins).

    Args:
        feature_map: circuit with ``n_features`` inputs; default ``zz_feature_map(n_features, reps=2)``.
        ansatz: circuit with weights only; default ``havlicek_ansatz(n_features, reps)``.
        reps: depth ``l`` of the default ansatz (``0``: one local layer, no entangler).
        loss: ``"binomial"`` (the paper's sigmoid of the binomial error) or ``"cross_entropy"``.
        optimizer: ``"spsa"`` (the paper's; qiskit-machine-learning's calibration),
            ``"adam"`` or ``"lbfgs"`` (gradients from the device's ``jacobian``).
        maxiter: optimizer iterations.
        n_restarts: random restarts (run in lockstep as one batch); the lowest
            final training loss wins.
        learning_rate: Adam's step size (default 0.05); SPSA's ``a`` (default calibrated).
        loss_shots: ``R`` in the binomial cost (default ``shots``, else 200).
        shots: ``None`` for exact expectation values, else shots per circuit.
        device: ``None`` (NumPy simulator), a backend name or an executor.
        random_state: seed of initial weights, SPSA and shot sampling.
        callback: called as ``callback(iteration, losses)`` with the loss estimate of
            every run (``(n_models * n_restarts,)``).
        verbose: show a tqdm progress bar.

    Attributes:
        weights_: ``(P,)`` ansatz weights (``(n_classes, P)`` one-vs-rest).
        bias_: scalar bias (``(n_classes,)`` one-vs-rest).
        loss_curve_: ``(maxiter,)`` training loss of the chosen run per iteration
            (the mean over one-vs-rest models).
        classes_, n_features_in_, circuit_.

    Example:
        >>> X = np.array([[0.1, 0.2], [2.0, 1.0], [0.2, 0.1], [2.1, 0.9]]); y = [0, 1, 0, 1]
        >>> clf = VariationalClassifier(reps=1, maxiter=20, random_state=0).fit(X, y)
        >>> clf.loss_curve_.shape, clf.weights_.shape
        ((20,), (8,))
    """

    def __init__(
        self,
        feature_map: Circuit | None = None,
        ansatz: Circuit | None = None,
        reps: int = 4,
        loss: str = "binomial",
        optimizer: str = "spsa",
        maxiter: int = 100,
        n_restarts: int = 1,
        learning_rate: float | None = None,
        loss_shots: int | None = None,
        shots: int | None = None,
        device: Any = None,
        random_state: int | None = None,
        callback: Callable[[int, np.ndarray], None] | None = None,
        verbose: bool = False,
    ):
        self.feature_map = feature_map
        self.ansatz = ansatz
        self.reps = reps
        self.loss = loss
        self.optimizer = optimizer
        self.maxiter = maxiter
        self.n_restarts = n_restarts
        self.learning_rate = learning_rate
        self.loss_shots = loss_shots
        self.shots = shots
        self.device = device
        self.random_state = random_state
        self.callback = callback
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # The default feature map expects angles (features in [0, 2 pi)); on unscaled
        # data such as scikit-learn's test blobs its accuracy is legitimately low.
        tags.classifier_tags.poor_score = True
        return tags

    # --- validation ----------------------------------------------------------------
    def _check_params(self) -> None:
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(_OPTIMIZERS)}")
        if self.loss not in _LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {', '.join(_LOSSES)}")
        for name in ("maxiter", "n_restarts"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < (0 if name == "maxiter" else 1):
                raise ValueError(f"{name} must be a {'non-negative' if name == 'maxiter' else 'positive'} integer, got {value!r}")
        if self.ansatz is None and (not isinstance(self.reps, (int, np.integer)) or self.reps < 0):
            raise ValueError(f"reps must be a non-negative integer, got {self.reps!r}")
        if self.shots is not None and (not isinstance(self.shots, (int, np.integer)) or self.shots < 1):
            raise ValueError(f"shots must be None (exact) or a positive integer, got {self.shots!r}")

    def _build_circuit(self, n_features: int) -> Circuit:
        feature_map = zz_feature_map(n_features, reps=2) if self.feature_map is None else self.feature_map
        if not isinstance(feature_map, Circuit):
            raise TypeError(f"feature_map must be a qmlsim Circuit or None, got {type(feature_map).__name__}")
        if feature_map.num_inputs != n_features:
            raise ValueError(f"X has {n_features} features, but the feature map takes {feature_map.num_inputs} inputs")
        ansatz = havlicek_ansatz(feature_map.num_wires, self.reps) if self.ansatz is None else self.ansatz
        if not isinstance(ansatz, Circuit):
            raise TypeError(f"ansatz must be a qmlsim Circuit or None, got {type(ansatz).__name__}")
        return weights_as_inputs(feature_map, ansatz)

    # --- model ---------------------------------------------------------------------
    def _expvals(self, device: Any, params: np.ndarray, X: np.ndarray, seed: Any) -> np.ndarray:
        """``(m, N)`` parity expectations for ``m`` weight vectors (one device call)."""
        m, n = params.shape[0], X.shape[0]
        rows = np.hstack([np.tile(X, (m, 1)), np.repeat(params, n, axis=0)])
        kwargs = {} if self.shots is None else {"shots": int(self.shots), "seed": seed}
        e = device.expval(self.circuit_, self._observable, x=rows, **kwargs)
        return np.asarray(e, dtype=float).reshape(m, n)

    def fit(self, X: Any, y: Any) -> VariationalClassifier:
        """Train the circuit weights and bias.

        Args:
            X: ``(n_samples, n_features)`` finite features.
            y: ``(n_samples,)`` labels (two or more classes).

        Returns:
            ``self``.

        Raises:
            ValueError: NaN/inf features, an unknown optimizer or loss, a single class.
        """
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError(f"VariationalClassifier needs samples of at least 2 classes; got 1 class ({self.classes_[0]!r})")
        self.circuit_ = self._build_circuit(X.shape[1])
        self._observable = parity_observable(self.circuit_.num_wires)
        device = resolve_device(self.device)
        rng = np.random.default_rng(self.random_state)
        targets = [np.where(y == self.classes_[1], 1.0, -1.0)] if self.classes_.size == 2 else [
            np.where(y == c, 1.0, -1.0) for c in self.classes_
        ]
        n_models, restarts = len(targets), int(self.n_restarts)
        runs = n_models * restarts
        num_angles = self.circuit_.num_inputs - X.shape[1]
        # Run r trains model r // restarts; points reach the loss ordered run-fastest.
        target = np.repeat(np.stack(targets), restarts, axis=0)
        params = np.hstack([rng.uniform(-np.pi, np.pi, (runs, num_angles)), np.zeros((runs, 1))])
        loss_fn = _LOSSES[self.loss]
        R = self.loss_shots if self.loss_shots is not None else (self.shots or 200)

        def loss(points: np.ndarray) -> np.ndarray:
            e = self._expvals(device, points[:, :-1], X, int(rng.integers(2**31)))
            return loss_fn(e, points[:, -1], target[np.arange(points.shape[0]) % runs], R)

        def value_and_grad(points: np.ndarray, run_ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
            m, n = points.shape[0], X.shape[0]
            run_ids = np.arange(m) % runs if run_ids is None else run_ids
            rows = np.hstack([np.tile(X, (m, 1)), np.repeat(points[:, :-1], n, axis=0)])
            e = np.asarray(device.expval(self.circuit_, self._observable, x=rows), dtype=float).reshape(m, n)
            jac = np.asarray(device.jacobian(self.circuit_, self._observable, x=rows, argnum="x"), dtype=float)
            jac = jac.reshape(m, n, -1)[:, :, X.shape[1] :]
            value, de, db = loss_fn(e, points[:, -1], target[run_ids], R, grad=True)
            return value, np.concatenate([np.einsum("mn,mnp->mp", de, jac), db[:, None]], axis=1)

        progress = progress_bar(self.verbose, int(self.maxiter), "VariationalClassifier")
        try:
            params, curve = minimize(
                self.optimizer, params, int(self.maxiter), loss=loss, value_and_grad=value_and_grad,
                learning_rate=self.learning_rate, seed=int(rng.integers(2**31)) if self.optimizer == "spsa" else 0,
                callback=self.callback, progress=progress,
            )
        finally:
            if progress is not None:
                progress.close()
        final = loss(params).reshape(n_models, restarts)
        best = final.argmin(axis=1) + np.arange(n_models) * restarts
        self.loss_curve_ = curve[:, best].mean(axis=1) if curve.size else np.zeros(0)
        self.final_losses_ = final
        weights, bias = params[best, :-1], params[best, -1]
        self.weights_, self.bias_ = (weights[0], float(bias[0])) if n_models == 1 else (weights, bias)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """``<f> - b``: ``(n,)`` for two classes (positive means ``classes_[1]``), else ``(n, n_classes)``."""
        check_is_fitted(self, "weights_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        device = resolve_device(self.device)
        weights = np.atleast_2d(self.weights_)
        seed = None if self.random_state is None else int(self.random_state) + 1
        e = self._expvals(device, weights, X, seed)
        margin = e - np.atleast_1d(self.bias_)[:, None]
        return margin[0] if margin.shape[0] == 1 else margin.T

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels ``(n,)``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[scores.argmax(axis=1)]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_observable", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "circuit_" in state:
            self._observable = parity_observable(state["circuit_"].num_wires)
