"""``QKAN`` and ``HQKAN``: the scikit-learn-style models users hold."""
from __future__ import annotations

import functools
import json
import math
from typing import Any, Sequence, final

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from qmlsim.qml.qkan.daruan import check_ansatz, check_measure
from qmlsim.qml.qkan.layer import (
    SWITCH_KEYS, TRAINABLE, apply_qkan, apply_qkan_numpy, check_width, count_trainable, extend_layer, init_qkan,
)
from qmlsim.qml.qkan.training import train

_DTYPES = {"float32": jnp.float32, "float64": jnp.float64}


def check_x(x: Any, n_features: int, dtype: Any) -> np.ndarray:
    """``x`` as a finite ``(n, n_features)`` array of ``dtype``, else ``ValueError``."""
    x = np.asarray(x, dtype=dtype)
    if x.ndim == 1 and n_features == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != n_features:
        raise ValueError(f"x must have shape (n, {n_features}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinite values; clean or impute the inputs first")
    return x


def _check_trainable(trainable: str | Sequence[str]) -> tuple[str, ...]:
    names = TRAINABLE if trainable == "all" else tuple(trainable)
    bad = [n for n in names if n not in TRAINABLE]
    if bad:
        raise ValueError(f"unknown trainable parameter group(s) {bad}; choose from {', '.join(TRAINABLE)} or 'all'")
    return names


def _check_dtype(dtype: str) -> Any:
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    if dtype == "float64" and not jax.config.read("jax_enable_x64"):
        raise ValueError('dtype="float64" needs jax.config.update("jax_enable_x64", True) before training')
    return _DTYPES[dtype]


@final
class QKAN(RegressorMixin, BaseEstimator):
    """Kolmogorov-Arnold network whose edge activations are DARUAN circuits (final class; a scikit-learn regressor).

    Args:
        width: layer widths ``[n0, n1, ..., nL]`` (at least two positive entries), or
            ``None``: ``[n_features, n_outputs]`` from the data at :meth:`fit`.
        reps: DARUAN repetitions ``r >= 1``.
        ansatz: ``"pz"`` (default), ``"rpz"``, ``"px"``, ``"real"``, ``"mix"``.
        measure: ``"born"`` (default: the Born-rule ``<Z>``, the only mode hardware
            runs) or ``"amplitude"`` (``|alpha| - |beta|``, the ``qkan`` package's default).
        trainable: parameter groups to train, a subset of ``("theta", "preact",
            "postact_weight", "postact_bias", "base")`` or ``"all"``; default only the
            circuit angles, as in the reference package.
        theta_init: ``"xavier"`` or ``"small_gaussian"``.
        solver: ``"lbfgs"`` (default) or ``"adam"``.
        steps: optimiser steps of :meth:`fit` (L-BFGS stops earlier once converged).
        learning_rate: see :func:`qmlsim.qml.qkan.training.train`.
        batch_size: Adam mini-batch size (default full batch).
        seed: seed of the initialisation and batching.
        dtype: ``"float32"`` (default) or ``"float64"``.
        device: ``None`` (the fast simulator) or an executor (``Simulator``,
            ``QiskitExecutor``) used by :meth:`predict`: activations are then evaluated
            as packed single-qubit circuits with the executor's shots.
        progress: show a progress bar during :meth:`fit`.
        warm_start: :meth:`fit` continues from the fitted parameters (``True``, the
            default since the first release) or starts from a fresh initialisation.

    Attributes (after ``fit``): ``params_`` (list of dicts of arrays), ``width_``,
    ``n_features_in_``, ``loss_`` (history), ``diverged_``.

    :meth:`score` is the negative mean squared error (higher is better), not scikit-learn's R^2.

    Example:
        >>> import numpy as np
        >>> X = np.linspace(-1, 1, 64)[:, None]; y = np.sin(2 * X)
        >>> model = QKAN([1, 1], reps=2, trainable="all", steps=30).fit(X, y)
        >>> model.param_count, bool(np.mean((model.predict(X) - y) ** 2) < 1e-2)
        (13, True)
    """

    def __init__(
        self, width: Sequence[int] | None = None, reps: int = 3, ansatz: str = "pz", measure: str = "born",
        trainable: str | Sequence[str] = ("theta",), theta_init: str = "xavier", solver: str = "lbfgs",
        steps: int = 1000, learning_rate: float | None = None, batch_size: int | None = None, seed: int = 0,
        dtype: str = "float32", device: Any = None, progress: bool = False, warm_start: bool = True,
    ):
        self.width = width
        self.reps = reps
        self.ansatz = ansatz
        self.measure = measure
        self.trainable = trainable
        self.theta_init = theta_init
        self.solver = solver
        self.steps = steps
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.seed = seed
        self.dtype = dtype
        self.device = device
        self.progress = progress
        self.warm_start = warm_start

    # --- configuration ---------------------------------------------------------
    def _width(self) -> list[int]:
        if hasattr(self, "width_"):
            return self.width_
        if self.width is None:
            raise ValueError("this QKAN infers its width from the data: call fit(X, y) first, or pass width=[n0, ..., nL]")
        return check_width(self.width)

    def _validate(self) -> tuple[list[int], tuple[str, ...]]:
        width = self._width()
        if not isinstance(self.reps, (int, np.integer)) or self.reps < 1:
            raise ValueError(f"reps must be an integer >= 1, got {self.reps!r}")
        check_ansatz(self.ansatz)
        check_measure(self.measure)
        return width, _check_trainable(self.trainable)

    @property
    def param_count(self) -> int:
        """Number of trainable scalars (``QKAN([10, 10]).param_count == 800``)."""
        width, names = self._validate()
        return count_trainable(width, self.reps, self.ansatz, names)

    def _trainable_keys(self) -> tuple[str, ...]:
        _, names = self._validate()
        return tuple(k for n in names for k in SWITCH_KEYS[n])

    def init(self, key: jax.Array | None = None) -> list[dict[str, jax.Array]]:
        """Fresh parameters (pure: does not touch the model)."""
        width, names = self._validate()
        key = jax.random.PRNGKey(self.seed) if key is None else key
        return init_qkan(key, width, self.reps, self.ansatz, preact="preact" in names or self.ansatz == "rpz",
                         base="base" in names, theta_init=self.theta_init, dtype=_check_dtype(self.dtype))

    def apply(self, params: Sequence[dict[str, Any]], x: jax.Array) -> jax.Array:
        """The network as a pure JAX function ``(batch, n0) -> (batch, nL)``."""
        return apply_qkan(params, x, self.reps, self.ansatz, self.measure)

    # --- estimator ---------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> QKAN:
        """Train on ``X`` ``(n, n0)``, ``y`` ``(n, nL)`` or ``(n,)`` (MSE); returns ``self``."""
        dtype = _check_dtype(self.dtype)
        X, y = validate_data(self, X, y, dtype=np.dtype(dtype), multi_output=True, y_numeric=True)
        target = np.asarray(y, dtype).reshape(len(X), -1)
        width = [X.shape[1], target.shape[1]] if self.width is None else check_width(self.width)
        if width[0] != X.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features but width[0] is {width[0]}")
        if width[-1] != target.shape[1]:
            raise ValueError(f"y must have {width[-1]} column(s) (the last width), got shape {np.shape(y)}")
        warm = self.warm_start and hasattr(self, "params_") and getattr(self, "width_", None) == width
        self.width_ = width
        self._validate()
        params = self.params_ if warm else self.init()
        keys = self._trainable_keys() + (("b",) if self.ansatz == "rpz" else ())
        apply = functools.partial(apply_qkan, reps=self.reps, ansatz=self.ansatz, measure=self.measure)
        params, info = train(apply, params, keys, X, target, solver=self.solver, steps=self.steps,
                             learning_rate=self.learning_rate, batch_size=self.batch_size, seed=self.seed,
                             progress=self.progress, label=type(self).__name__)
        self.params_ = params
        self.loss_ = (list(getattr(self, "loss_", [])) if warm else []) + info["loss"]
        self.diverged_ = info["diverged"]
        self.step_ = info["step"]
        self._one_output = np.ndim(y) == 1
        return self

    def _fitted(self) -> list[dict[str, Any]]:
        check_is_fitted(self, "params_")
        return self.params_

    def predict(self, X: Any) -> np.ndarray:
        """Outputs ``(n, nL)``, or ``(n,)`` when fitted on a 1-D ``y`` (through ``device`` when one is set)."""
        params = self._fitted()
        width, _ = self._validate()
        X = validate_data(self, X, reset=False, dtype=np.float64 if self.dtype == "float64" else np.float32)
        X = check_x(X, width[0], X.dtype)
        if self.device is not None:
            from qmlsim.qml.qkan.hardware import apply_qkan_device

            out = np.asarray(apply_qkan_device(self.device, params, X, self.reps, self.ansatz))
        else:
            out = np.asarray(apply_qkan_numpy(params, X, self.reps, self.ansatz, self.measure))
        out = np.asarray(out, dtype=np.float64)
        return out[:, 0] if getattr(self, "_one_output", False) else out

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Negative mean squared error (higher is better), weighted by ``sample_weight``."""
        y = np.asarray(y).reshape(len(X), -1)
        errors = np.mean((np.asarray(self.predict(X)).reshape(len(X), -1) - y) ** 2, axis=1)
        return -float(np.average(errors, weights=sample_weight))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        # score() is the negative MSE (kept from the first release); scikit-learn's generic
        # regressor check compares it with an R^2 threshold
        tags.regressor_tags.poor_score = True
        return tags

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("step_", None)  # a compiled JAX function: rebuilt by the next fit
        return state

    # --- structure -----------------------------------------------------------------
    def refine(self, new_reps: int) -> QKAN:
        """A new fitted model with ``new_reps`` repetitions computing exactly the same function.

        Works for every ansatz: the appended blocks are diagonal or the identity up to a
        global phase (see :func:`~qmlsim.qml.qkan.layer.extend_layer`).
        """
        params = self._fitted()
        if not isinstance(new_reps, (int, np.integer)) or new_reps <= self.reps:
            raise ValueError(f"new_reps must be an integer larger than reps={self.reps}, got {new_reps!r}")
        config = self.get_params()
        config["reps"] = int(new_reps)
        config["warm_start"] = True  # fit() continues from the refined parameters
        model = QKAN(**config)
        model.params_ = [extend_layer(p, self.reps, int(new_reps), self.ansatz) for p in params]
        model.width_ = list(self._width())
        model._one_output = getattr(self, "_one_output", False)
        if hasattr(self, "n_features_in_"):
            model.n_features_in_ = self.n_features_in_
        model.loss_ = list(getattr(self, "loss_", []))
        model.diverged_ = False
        return model

    def prune(self, X: Any, threshold: float = 1e-2) -> QKAN:
        """Mask edges whose mean ``|pw (phi + pb)|`` on ``X`` is below ``threshold``; returns ``self``."""
        from qmlsim.qml.qkan.daruan import daruan_numpy

        params = self._fitted()
        width, _ = self._validate()
        x = check_x(X, width[0], np.float32 if self.dtype == "float32" else np.float64)
        new = []
        for p in params:
            q = {k: np.asarray(v) for k, v in p.items()}
            phi = daruan_numpy(q, x[:, None, :], self.reps, self.ansatz, self.measure)
            size = np.mean(np.abs(q["pw"] * (phi + q["pb"])), axis=0) + np.abs(q["bw"]) * np.mean(np.abs(x / (1 + np.exp(-x))), axis=0)
            mask = q["mask"] * (size >= threshold)
            new.append({**p, "mask": jnp.asarray(mask, q["mask"].dtype)})
            x = apply_qkan_numpy([new[-1]], x, self.reps, self.ansatz, self.measure)
        self.params_ = new
        return self

    # --- persistence -------------------------------------------------------------
    def save(self, path: str) -> None:
        """Write the configuration and parameters to an ``.npz`` file (no pickle)."""
        params = self._fitted()
        config = {k: v for k, v in self.get_params().items() if k != "device"}
        config["width"] = list(self._width())
        config["trainable"] = list(_check_trainable(config["trainable"]))
        arrays = {f"layer{i}/{k}": np.asarray(v) for i, p in enumerate(params) for k, v in p.items()}
        np.savez(path, __config__=np.array(json.dumps(config)), **arrays)

    def load(self, path: str) -> QKAN:
        """Load parameters saved by :meth:`save` into this model; returns ``self``.

        Raises:
            ValueError: the file was saved for another width, reps or ansatz.
        """
        with np.load(path, allow_pickle=False) as data:
            config = json.loads(str(data["__config__"]))
            width = list(config["width"]) if self.width is None and not hasattr(self, "width_") else self._width()
            self._validate() if self.width is not None else None
            for name, mine in (("width", width), ("reps", self.reps), ("ansatz", self.ansatz)):
                if config[name] != mine:
                    raise ValueError(f"parameters in {path!r} were saved for {name}={config[name]!r}, this model has {name}={mine!r}")
            dtype = _DTYPES[self.dtype] if self.dtype == "float32" else _check_dtype(self.dtype)
            layers: list[dict[str, Any]] = [{} for _ in range(len(width) - 1)]
            for key in data.files:
                if key == "__config__":
                    continue
                i, name = key.split("/")
                layers[int(i[5:])][name] = jnp.asarray(data[key], dtype)
        self.params_ = layers
        self.width_ = list(width)
        self.n_features_in_ = width[0]
        return self


# --- hybrid ---------------------------------------------------------------------------
def init_hqkan(key: jax.Array, d_in: int, k: int, m: int, d_out: int, reps: int = 3, ansatz: str = "pz",
               preact: bool = True, base: bool = True) -> dict[str, Any]:
    """Parameters of ``Linear(d_in -> k) -> QKAN([k, m]) -> Linear(m -> d_out)``.

    >>> p = init_hqkan(jax.random.PRNGKey(0), 16, 4, 3, 10)
    >>> p["in"]["w"].shape, p["out"]["w"].shape
    ((16, 4), (3, 10))
    """
    k1, k2, k3 = jax.random.split(key, 3)
    return {
        "in": init_linear(k1, d_in, k),
        "qkan": init_qkan(k2, [k, m], reps, ansatz, preact=preact, base=base),
        "out": init_linear(k3, m, d_out),
    }


def init_linear(key: jax.Array, d_in: int, d_out: int) -> dict[str, jax.Array]:
    """PyTorch-style uniform(-1/sqrt(d_in), 1/sqrt(d_in)) dense layer ``{"w": (d_in, d_out), "b": (d_out,)}``."""
    kw, kb = jax.random.split(key)
    bound = 1.0 / math.sqrt(d_in)
    return {"w": jax.random.uniform(kw, (d_in, d_out), minval=-bound, maxval=bound),
            "b": jax.random.uniform(kb, (d_out,), minval=-bound, maxval=bound)}


# jitted as a whole, as layer.apply_qkan: eagerly every new batch shape compiled each
# primitive anew
@functools.partial(jax.jit, static_argnames=("reps", "ansatz", "measure"))
def apply_hqkan(params: dict[str, Any], x: jax.Array, reps: int = 3, ansatz: str = "pz", measure: str = "born") -> jax.Array:
    """The hybrid block ``(batch, d_in) -> (batch, d_out)``; a tanh keeps the QKAN inputs in range.

    >>> p = init_hqkan(jax.random.PRNGKey(0), 16, 4, 3, 10)
    >>> apply_hqkan(p, jnp.ones((2, 16))).shape
    (2, 10)
    """
    h = jnp.tanh(x @ params["in"]["w"] + params["in"]["b"])
    h = apply_qkan(params["qkan"], h, reps, ansatz, measure)
    return h @ params["out"]["w"] + params["out"]["b"]


@final
class HQKAN(BaseEstimator):
    """Hybrid QKAN, a drop-in replacement of an MLP block (final class; a scikit-learn estimator).

    ``Linear(d_in -> k) -> tanh -> QKAN([k, m]) -> Linear(m -> d_out)``, all trainable.
    ``d_in`` and ``d_out`` are taken from the data in :meth:`fit` (``d_out`` = number of
    classes for ``loss="cross_entropy"``). With ``loss="cross_entropy"`` it is a
    classifier (``score`` is the accuracy), otherwise a regressor (``score`` is R^2).

    Args:
        k: bottleneck width (default ``ceil(log2(d_in))``).
        m: QKAN output width (default ``k``).
        reps, ansatz, measure: as in :class:`QKAN`.
        loss: ``"mse"`` (regression) or ``"cross_entropy"`` (classification).
        solver, steps, learning_rate, batch_size, seed, progress: as in :class:`QKAN`.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0); X = rng.normal(size=(200, 8)); y = (X[:, 0] > 0).astype(int)
        >>> clf = HQKAN(k=3, loss="cross_entropy", solver="adam", steps=150, learning_rate=0.05).fit(X, y)
        >>> bool(np.mean(clf.predict(X) == y) > 0.9)
        True
    """

    def __init__(self, k: int | None = None, m: int | None = None, reps: int = 3, ansatz: str = "pz",
                 measure: str = "born", loss: str = "mse", solver: str = "adam", steps: int = 300,
                 learning_rate: float | None = None, batch_size: int | None = None, seed: int = 0,
                 progress: bool = False):
        self.k = k
        self.m = m
        self.reps = reps
        self.ansatz = ansatz
        self.measure = measure
        self.loss = loss
        self.solver = solver
        self.steps = steps
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.seed = seed
        self.progress = progress

    def _sizes(self, d_in: int) -> tuple[int, int]:
        k = self.k or max(1, math.ceil(math.log2(max(d_in, 2))))
        return k, self.m or k

    def param_count_for(self, d_in: int, d_out: int) -> int:
        """Trainable scalars for the given data sizes (all groups trainable)."""
        k, m = self._sizes(d_in)
        return d_in * k + k + count_trainable([k, m], self.reps, self.ansatz, TRAINABLE) + m * d_out + d_out

    def fit(self, X: Any, y: Any) -> HQKAN:
        """Train on ``X`` ``(n, d_in)`` and ``y`` (labels ``(n,)`` or targets ``(n, d_out)``)."""
        check_ansatz(self.ansatz)
        check_measure(self.measure)
        if self.loss not in ("mse", "cross_entropy"):
            raise ValueError(f"loss must be 'mse' or 'cross_entropy', got {self.loss!r}")
        classify = self.loss == "cross_entropy"
        X, y = validate_data(self, X, y, dtype=np.float32, multi_output=not classify, y_numeric=not classify)
        if classify:
            check_classification_targets(y)
            self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
            d_out, target = len(self.classes_), y_idx.astype(np.int32)
        else:
            target = np.asarray(y, np.float32).reshape(len(X), -1)
            d_out = target.shape[1]
            self._one_output = np.ndim(y) == 1
        k, m = self._sizes(X.shape[1])
        params = init_hqkan(jax.random.PRNGKey(self.seed), X.shape[1], k, m, d_out, self.reps, self.ansatz)
        apply = functools.partial(_apply_hqkan_list, reps=self.reps, ansatz=self.ansatz, measure=self.measure)
        flat, info = train(apply, [params["in"], *params["qkan"], params["out"]], _ALL_KEYS, X, target,
                           solver=self.solver, steps=self.steps, learning_rate=self.learning_rate,
                           batch_size=self.batch_size, loss=self.loss, seed=self.seed, progress=self.progress,
                           label=type(self).__name__)
        self.params_ = {"in": flat[0], "qkan": flat[1:-1], "out": flat[-1]}
        self.loss_ = info["loss"]
        self.diverged_ = info["diverged"]
        return self

    def _outputs(self, X: Any) -> np.ndarray:
        """The network's raw outputs ``(n, d_out)``, in float64 NumPy: each row's value does not
        depend on the other rows of the batch (float32 XLA matmuls differ with the batch size)."""
        check_is_fitted(self, "params_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        p = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), self.params_)
        h = np.tanh(X @ p["in"]["w"] + p["in"]["b"])
        h = np.asarray(apply_qkan_numpy(p["qkan"], h, self.reps, self.ansatz, self.measure), np.float64)
        return h @ p["out"]["w"] + p["out"]["b"]

    @available_if(lambda self: self.loss == "cross_entropy")
    def decision_function(self, X: Any) -> np.ndarray:
        """Class scores (cross-entropy models): the logits ``(n, n_classes)``; for two classes
        scikit-learn's ``(n,)``, the logit of ``classes_[1]`` minus that of ``classes_[0]``."""
        out = self._outputs(X)
        return out[:, 1] - out[:, 0] if out.shape[1] == 2 else out

    def predict(self, X: Any) -> np.ndarray:
        """Class labels ``(n,)`` for cross-entropy, else outputs ``(n, d_out)`` (``(n,)`` when fitted on a 1-D ``y``)."""
        out = self._outputs(X)
        if self.loss == "cross_entropy":
            return self.classes_[np.argmax(out, axis=1)]
        return out[:, 0] if getattr(self, "_one_output", False) else out

    @available_if(lambda self: self.loss == "cross_entropy")
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` (softmax of the outputs; cross-entropy models only)."""
        out = self._outputs(X)
        out = np.exp(out - out.max(axis=1, keepdims=True))
        return out / out.sum(axis=1, keepdims=True)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (cross-entropy) or R^2 (MSE), as scikit-learn's classifiers and regressors."""
        mixin = ClassifierMixin if self.loss == "cross_entropy" else RegressorMixin
        return mixin.score(self, X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self) -> Any:
        # a classifier or a regressor depending on the loss: the tags the two mixins set
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        if self.loss == "cross_entropy":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
        else:
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
            tags.target_tags.multi_output = True
        return tags


_ALL_KEYS = ("w", "b", "theta", "pw", "pb", "bw")


def _apply_hqkan_list(params: list[dict[str, Any]], x: jax.Array, reps: int, ansatz: str, measure: str) -> jax.Array:
    return apply_hqkan({"in": params[0], "qkan": params[1:-1], "out": params[-1]}, x, reps, ansatz, measure)
