"""Training of sequence regressors (QFWP, QLSTM, LSTM): one scikit-learn contract, one loop.

Each model is a pair of pure functions ``init(key, config)`` / ``apply(params, X, config,
simulator)``; :class:`SequenceRegressor` (abstract) holds what the estimators share:
input checks before any work, optax RMSprop or Adam, mini-batches, a whole epoch
compiled as one ``jax.lax.scan`` over batches, a labelled progress bar, the loss
history, and checkpoints after every epoch from which an interrupted ``fit`` resumes.

The loss is the per-sample MSE of the last step's prediction. The QFWP/QLSTM reference
code compares an ``(N, 1)`` output with an ``(N,)`` target, which broadcasts to the mean
over all ``N x N`` output/target pairs; ``loss="broadcast"`` reproduces that only to
compare with the reference's curves.
"""
from __future__ import annotations

import abc
import contextlib
import hashlib
import os
import pickle
import time
from typing import Any, Callable

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["SequenceRegressor", "OPTIMIZERS", "LOSSES", "check_sequences", "linear_init", "param_count", "positive_int", "progress_bar"]

OPTIMIZERS = ("rmsprop", "adam")
LOSSES = ("mse", "broadcast")
DTYPES = {"float64": "complex128", "float32": "complex64"}

# Compiled start and epoch functions per model, settings and data shape, and predict
# functions per model and settings. A study
# over seeds (the same settings, another random_state or init_params) compiles once
# instead of once per fit: about 2 s of a QFWP fit. The oldest entries are dropped.
_COMPILED: dict[tuple, dict[str, Any]] = {}
_COMPILED_MAX = 16


def _compiled_for(key: tuple) -> dict[str, Any]:
    """The (possibly empty) record of compiled functions for ``key``, made the newest."""
    record = _COMPILED.pop(key, None) or {}
    _COMPILED[key] = record
    while len(_COMPILED) > _COMPILED_MAX:
        del _COMPILED[next(iter(_COMPILED))]
    return record


def _predict_function(apply: Callable, config: Any, dtype: str, simulator: Any, sequence: bool) -> Callable:
    """``apply`` compiled as a whole, shared by ``fit``'s validation and ``predict`` (jit compiles once
    per input shape): eagerly every primitive compiles anew for each new number of sequences
    (0.9 s against 0.5 s for a QFWP)."""
    import jax  # noqa: PLC0415

    record = _compiled_for((apply, config, dtype, "predict", sequence))
    return record.setdefault("predict", jax.jit(lambda p, xs: apply(p, xs, config, simulator, sequence=sequence)))


def check_sequences(X: Any, input_dim: int, name: str = "X") -> np.ndarray:
    """``X`` as ``(n, steps, input_dim)`` float64; ``(n, steps)`` means one feature per step.

    Raises:
        ValueError: wrong rank, a feature width other than ``input_dim``, no samples or
            steps, NaN or infinite values.
    """
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{name}: sparse input is not supported; pass a dense array of sequences")
    if np.iscomplexobj(X):
        raise ValueError(f"{name}: complex data not supported; pass real-valued sequences")
    array = np.asarray(X, dtype=float)
    if array.ndim == 1:
        raise ValueError(
            f"{name} is 1-D (shape {array.shape}): Reshape your data to (n_samples, steps) for one feature per step, "
            "or (n_samples, steps, features)"
        )
    if array.ndim == 2 and input_dim == 1:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(
            f"{name} must be sequences of shape (n_samples, steps, features), or (n_samples, steps) with one "
            f"feature, got shape {array.shape}"
        )
    if array.shape[2] != input_dim:
        raise ValueError(
            f"{name} has {array.shape[2]} feature(s) per step but the model was set up with input_dim={input_dim}: "
            f"pass input_dim={array.shape[2]} or reshape the data"
        )
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} needs at least one sequence of at least one step, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array).all(axis=(1, 2)))[0])
        raise ValueError(f"{name} has NaN or infinite values (first in sequence {bad}); clean the series first")
    return array


def _check_targets(y: Any, n: int, outputs: int) -> np.ndarray:
    array = np.asarray(y, dtype=float)
    if array.ndim == 1 and outputs == 1:
        array = array[:, None]
    if array.shape != (n, outputs):
        raise ValueError(f"y must have shape ({n},) or ({n}, {outputs}) for {n} sequences, got {np.shape(y)}")
    if not np.all(np.isfinite(array)):
        raise ValueError("y has NaN or infinite values; clean the targets first")
    return array


def linear_init(key: Any, fan_in: int, fan_out: int) -> dict[str, Any]:
    """A linear map ``{"w": (fan_in, fan_out), "b": (fan_out,)}`` initialised as PyTorch's ``nn.Linear``: uniform on ``+-1/sqrt(fan_in)``."""
    import jax  # noqa: PLC0415

    bound = 1.0 / np.sqrt(fan_in)
    k_w, k_b = jax.random.split(key)
    return {
        "w": jax.random.uniform(k_w, (fan_in, fan_out), minval=-bound, maxval=bound),
        "b": jax.random.uniform(k_b, (fan_out,), minval=-bound, maxval=bound),
    }


def param_count(params: Any) -> int:
    """Number of scalar parameters in a pytree of arrays (or of ``jax.eval_shape`` shapes)."""
    import jax  # noqa: PLC0415

    return int(sum(np.prod(leaf.shape, dtype=int) for leaf in jax.tree_util.tree_leaves(params)))


def positive_int(name: str, value: Any) -> int:
    """``value`` as an ``int`` if it is a positive integer (bools refused), else a ``ValueError`` naming ``name``."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _masked_loss(kind: str, pred: Any, y: Any, mask: Any) -> Any:
    import jax.numpy as jnp  # noqa: PLC0415

    count = jnp.sum(mask)
    if kind == "broadcast":  # the reference's (N, 1) - (N,) broadcast: every output against every target
        pair = mask[:, None] * mask[None, :]
        return jnp.sum(pair * (pred[:, None, 0] - y[None, :, 0]) ** 2) / count**2
    return jnp.sum(mask[:, None] * (pred - y) ** 2) / (count * y.shape[1])


class SequenceRegressor(RegressorMixin, BaseEstimator, abc.ABC):
    """Abstract estimator of a sequence model: ``fit(X, y)`` on ``X`` ``(n, steps, input_dim)``, ``y`` ``(n,)``.

    Subclasses (final) give the model's config and its ``init``/``apply`` functions, and
    take these training arguments besides the model's own.

    Args:
        epochs: training epochs.
        batch_size: sequences per mini-batch.
        learning_rate: the optimiser's step.
        optimizer: ``"rmsprop"`` (PyTorch's: decay 0.99, eps 1e-8 outside the root, as
            the reference) or ``"adam"``.
        loss: ``"mse"`` (per sample) or ``"broadcast"`` (the reference's, see the module).
        shuffle: reshuffle the training windows every epoch (seeded by ``random_state``).
        dtype: ``"float64"`` (the reference's precision; 64-bit JAX types are switched on
            only inside this estimator's calls) or ``"float32"``.
        checkpoint: a file path, saved after every epoch; a later ``fit`` with the same
            settings and data resumes from it.
        verbose: show a progress bar.
        random_state: seed of the initial parameters and the shuffling.
        init_params: start from these parameters (a pytree shaped like the model's
            ``init`` output, for example another implementation's initialisation)
            instead of drawing them from ``random_state``.

    Fitted attributes: ``params_``, ``loss_curve_`` (training loss per epoch),
    ``validation_curve_`` (MSE on ``validation_data`` per epoch, when given),
    ``n_epochs_done_``, ``seconds_per_epoch_``.
    """

    _label = "sequence model"

    @abc.abstractmethod
    def _config(self) -> Any:
        """The model's config record (validated by its constructor)."""

    @abc.abstractmethod
    def _functions(self) -> tuple[Callable, Callable]:
        """``(init, apply)``."""

    @property
    def param_count(self) -> int:
        """Trainable parameters of the model these settings describe (fitted or not)."""
        import jax  # noqa: PLC0415

        init, _ = self._functions()
        return param_count(jax.eval_shape(lambda: init(jax.random.PRNGKey(0), self._config())))

    def _scope(self) -> Any:
        import jax  # noqa: PLC0415

        return jax.enable_x64(True) if self.dtype == "float64" else contextlib.nullcontext()

    def _simulator(self) -> Any:
        from qmlsim.simulators import Simulator  # noqa: PLC0415

        return Simulator(backend="jax", dtype=DTYPES[self.dtype])

    def _check_params(self) -> Any:
        positive_int("epochs", self.epochs)
        positive_int("batch_size", self.batch_size)
        if not (isinstance(self.learning_rate, (int, float)) and np.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {self.dtype!r}")
        return self._config()

    def _optax(self) -> Any:
        import optax  # noqa: PLC0415

        if self.optimizer == "rmsprop":
            return optax.rmsprop(self.learning_rate, decay=0.99, eps=1e-8, eps_in_sqrt=False)
        return optax.adam(self.learning_rate)

    def _fingerprint(self, X: np.ndarray, y: np.ndarray) -> str:
        skip = ("checkpoint", "verbose", "epochs", "init_params")
        settings = {k: v for k, v in self.get_params().items() if k not in skip}
        digest = hashlib.sha256(repr(sorted(settings.items())).encode())
        if self.init_params is not None:
            import jax  # noqa: PLC0415

            for leaf in jax.tree_util.tree_leaves(self.init_params):
                digest.update(np.asarray(leaf, dtype=float).tobytes())
        digest.update(type(self).__name__.encode())
        digest.update(X.tobytes())
        digest.update(y.tobytes())
        return digest.hexdigest()

    def fit(self, X: Any, y: Any, validation_data: tuple[Any, Any] | None = None) -> SequenceRegressor:
        """Train on sequences ``X`` ``(n, steps, input_dim)`` (or ``(n, steps)``) and targets ``y`` ``(n,)``.

        Args:
            X: training sequences.
            y: the value to predict after each sequence.
            validation_data: optional ``(X_val, y_val)``, scored (MSE) after every epoch.

        Returns:
            ``self``.

        Raises:
            ValueError: bad settings or data (before any work), or a checkpoint written by
                other settings or data.
        """
        import jax  # noqa: PLC0415
        import jax.numpy as jnp  # noqa: PLC0415

        config = self._check_params()
        X = check_sequences(X, config.input_dim)
        y = _check_targets(y, X.shape[0], config.outputs)
        if validation_data is not None:
            X_val = check_sequences(validation_data[0], config.input_dim, "validation X")
            y_val = _check_targets(validation_data[1], X_val.shape[0], config.outputs)
        init, apply = self._functions()
        simulator = self._simulator()
        optimizer = self._optax()
        n, batch = X.shape[0], min(self.batch_size, X.shape[0])
        batches = -(-n // batch)
        fingerprint = self._fingerprint(X, y)
        seed = self.random_state if self.random_state is not None else int(np.random.SeedSequence().entropy % 2**31)
        # everything the compiled functions below close over
        compiled = _compiled_for((init, apply, config, self.optimizer, float(self.learning_rate), self.loss, self.dtype,
                                  n, batch, X.shape[1:], y.shape[1:]))
        with self._scope():
            real = jnp.float64 if self.dtype == "float64" else jnp.float32

            # one compiled start instead of one small compilation per random draw and
            # optimizer slot (2.6 s of a 9 s fresh-process 100-epoch training otherwise)
            @jax.jit
            def start_state(key: Any) -> tuple[Any, Any]:
                drawn = jax.tree_util.tree_map(lambda a: a.astype(real), init(key, config))
                return drawn, optimizer.init(drawn)

            key = jax.random.PRNGKey(seed)
            # integer hashing and a few additions: LLVM's optimiser only costs compile time here
            if "start" not in compiled:
                compiled["start"] = start_state.lower(key).compile(compiler_options={"xla_backend_optimization_level": 0})
            params, opt_state = compiled["start"](key)
            if self.init_params is not None:
                params = _given_params(self.init_params, params, real)
                opt_state = optimizer.init(params)
            rng = np.random.default_rng(seed)
            history: dict[str, list] = {"loss": [], "validation": [], "seconds": []}
            start = 0
            saved = _load_checkpoint(self.checkpoint, fingerprint)
            if saved is not None:
                params = _restore(params, saved["params"])
                opt_state = _restore(opt_state, saved["opt_state"])
                rng.bit_generator.state = saved["rng"]
                history, start = saved["history"], saved["epoch"]

            def batch_loss(p: Any, xb: Any, yb: Any, mb: Any) -> Any:
                return _masked_loss(self.loss, apply(p, xb, config, simulator), yb, mb)

            def step(carry: Any, data: Any) -> Any:
                p, s = carry
                value, grads = jax.value_and_grad(batch_loss)(p, *data)
                updates, s = optimizer.update(grads, s, p)
                return (jax.tree_util.tree_map(lambda a, u: a + u, p, updates), s), value * jnp.sum(data[2])

            @jax.jit
            def epoch(p: Any, s: Any, xs: Any, ys: Any, masks: Any) -> Any:
                (p, s), weighted = jax.lax.scan(step, (p, s), (xs, ys, masks))
                return p, s, jnp.sum(weighted) / n

            if validation_data is not None:
                predict = _predict_function(apply, config, self.dtype, simulator, sequence=False)
            progress = progress_bar(self.verbose, self.epochs, f"{self._label} epochs", start)

            for index in range(start, self.epochs):
                began = time.perf_counter()
                order = rng.permutation(n) if self.shuffle else np.arange(n)
                padded = np.concatenate([order, np.zeros(batches * batch - n, dtype=int)])
                mask = (np.arange(batches * batch) < n).astype(float).reshape(batches, batch)
                xs = X[padded].reshape(batches, batch, *X.shape[1:])
                ys = y[padded].reshape(batches, batch, -1)
                data = (jnp.asarray(xs, real), jnp.asarray(ys, real), jnp.asarray(mask, real))
                if "epoch" not in compiled:
                    # the epoch's matrix products are tiny (a batch of states): Eigen's threads
                    # only add synchronisation (7.6 ms against 5.1 ms per QFWP epoch on 2 threads)
                    compiled["epoch"] = epoch.lower(params, opt_state, *data).compile(
                        compiler_options={"xla_cpu_multi_thread_eigen": False}
                    )
                params, opt_state, loss = compiled["epoch"](params, opt_state, *data)
                loss = float(loss)
                history["loss"].append(loss)
                if validation_data is not None:
                    history["validation"].append(float(np.mean((np.asarray(predict(params, jnp.asarray(X_val, real))) - y_val) ** 2)))
                history["seconds"].append(time.perf_counter() - began)
                if not np.isfinite(loss):
                    raise FloatingPointError(
                        f"the training loss became {loss} at epoch {index + 1}: lower learning_rate "
                        f"(now {self.learning_rate}) or scale the data to [-1, 1]"
                    )
                if self.checkpoint is not None:
                    _save_checkpoint(self.checkpoint, fingerprint, index + 1, params, opt_state, rng, history)
                if progress is not None:
                    progress.update(1)
                    progress.set_postfix(loss=f"{loss:.3g}")
            if progress is not None:
                progress.close()
            self.params_ = jax.tree_util.tree_map(np.asarray, params)
        self.loss_curve_ = list(history["loss"])
        self.validation_curve_ = list(history["validation"])
        # the first epoch includes compilation: the median of the later ones when there are any
        seconds = history["seconds"][1:] or history["seconds"]
        self.seconds_per_epoch_ = float(np.median(seconds)) if seconds else float("nan")
        self.n_epochs_done_ = len(history["loss"])
        self.n_features_in_ = config.input_dim
        return self

    def predict(self, X: Any, sequence: bool = False) -> np.ndarray:
        """Predictions ``(n,)`` (``(n, outputs)`` for several outputs); with ``sequence``, after every step ``(n, steps[, outputs])``."""
        import jax  # noqa: PLC0415
        import jax.numpy as jnp  # noqa: PLC0415

        check_is_fitted(self, "params_")
        config = self._config()
        X = check_sequences(X, config.input_dim)
        _, apply = self._functions()
        simulator = self._simulator()
        with self._scope():
            real = jnp.float64 if self.dtype == "float64" else jnp.float32
            params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, real), self.params_)
            run = _predict_function(apply, config, self.dtype, simulator, sequence)
            out = np.asarray(run(params, jnp.asarray(X, real)))
        return out[..., 0] if config.outputs == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


def progress_bar(verbose: bool, total: int, desc: str, initial: int = 0) -> Any:
    """A labelled tqdm bar when ``verbose``, else ``None``."""
    if not verbose:
        return None
    from tqdm.auto import tqdm  # noqa: PLC0415

    return tqdm(total=total, desc=desc, initial=initial)


def _given_params(given: Any, template: Any, real: Any) -> Any:
    """``given`` checked against the structure and shapes of ``template`` (the model's ``init``)."""
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    if jax.tree_util.tree_structure(given) != jax.tree_util.tree_structure(template):
        raise ValueError(
            f"init_params must have the structure of the model's init output, {jax.tree_util.tree_structure(template)}; "
            f"got {jax.tree_util.tree_structure(given)}"
        )
    for a, b in zip(jax.tree_util.tree_leaves(given), jax.tree_util.tree_leaves(template)):
        if np.shape(a) != b.shape:
            raise ValueError(f"init_params: an array of shape {np.shape(a)} where the model has {b.shape}")
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, real), given)


def _restore(template: Any, leaves: list) -> Any:
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    structure = jax.tree_util.tree_structure(template)
    return jax.tree_util.tree_unflatten(structure, [jnp.asarray(leaf) for leaf in leaves])


def _save_checkpoint(path: str, fingerprint: str, epoch: int, params: Any, opt_state: Any, rng: Any, history: dict) -> None:
    import jax  # noqa: PLC0415

    record = {
        "fingerprint": fingerprint,
        "epoch": epoch,
        "params": [np.asarray(a) for a in jax.tree_util.tree_leaves(params)],
        "opt_state": [np.asarray(a) for a in jax.tree_util.tree_leaves(opt_state)],
        "rng": rng.bit_generator.state,
        "history": {k: list(v) for k, v in history.items()},
    }
    temporary = f"{path}.tmp"
    with open(temporary, "wb") as handle:
        pickle.dump(record, handle)
    os.replace(temporary, path)  # atomic: an interruption never leaves a half-written checkpoint


def _load_checkpoint(path: str | None, fingerprint: str) -> dict | None:
    if path is None or not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        record = pickle.load(handle)  # noqa: S301 - our own file, written by _save_checkpoint
    if record.get("fingerprint") != fingerprint:
        raise ValueError(
            f"checkpoint {path!r} was written by a fit with other settings or data; delete it or pass another path"
        )
    return record
