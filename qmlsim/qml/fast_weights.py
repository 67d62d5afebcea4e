"""Quantum fast-weight programmers (Chen, IEEE WCCI 2024, arXiv:2402.17760).

A classical *slow programmer* reads the input ``x_t`` at every time step and writes an
additive, rank-1 update into the angles of a variational circuit, the *fast programmer*:

    h_t = A x_t + a,   L_t = B h_t + b  (depth,),   Q_t = C h_t + c  (num_wires,)
    Theta_t = Theta_{t-1} + outer(L_t, Q_t),   Theta_0 = 0 (reset for every sequence)

The circuit (Hadamards, ``RY(x_t)`` on the first ``input_dim`` wires, then per layer a
brick of CNOTs and ``RY(Theta_t[k, q])``) has no trainable parameters of its own; its
``<Z_q>`` on the first ``readout_wires`` wires go through a linear head. Only classical
parameters are trained, by backpropagation through time. The model follows the
author's reference code (``ycchen1989/Quantum_FWP``), where the prediction is the output
at the last step; the extensions (``update="decay" | "gated"``, ``encoding="arctan"``)
are ours and marked as such.

The circuit runs on the qmlsim engine (JAX backend): every sequence's angles are one row
of a single batched call, so the same circuit also runs on any executor, hardware
included (:func:`fast_circuit` gives it with the angles as inputs).

>>> import jax
>>> params = init(jax.random.PRNGKey(0), QFWPConfig())
>>> param_count(params)
111
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.observables import Z
from qmlsim.qml.sequence_training import SequenceRegressor, linear_init, param_count, positive_int

__all__ = ["QFWP", "QFWPConfig", "readout", "head", "UPDATES", "ENCODINGS", "init", "apply", "fast_weights", "fast_circuit", "param_count"]

UPDATES = ("additive", "decay", "gated")
ENCODINGS = ("angle", "arctan")


@dataclasses.dataclass(frozen=True)
class QFWPConfig:
    """Sizes and options of a QFWP (the defaults are the reference configuration, 111 parameters).

    Attributes:
        num_wires: qubits of the fast programmer.
        depth: variational layers (rows of ``Theta``).
        latent: width of the slow programmer's hidden vector ``h_t``.
        readout_wires: wires whose ``<Z>`` feed the linear head.
        input_dim: features per time step (encoded by ``RY`` on the first wires).
        outputs: outputs of the linear head.
        update: ``"additive"`` (the paper), or the extensions ``"decay"`` (``Theta_t =
            gamma Theta_{t-1} + outer``, one trainable ``gamma`` through a sigmoid) and
            ``"gated"`` (``Theta_t = Theta_{t-1} + g_t outer``, ``g_t`` a sigmoid of ``h_t``).
        encoding: ``"angle"`` (the paper: ``RY(x)``) or the extension ``"arctan"`` (``RY(arctan x)``).
    """

    num_wires: int = 8
    depth: int = 2
    latent: int = 8
    readout_wires: int = 4
    input_dim: int = 1
    outputs: int = 1
    update: str = "additive"
    encoding: str = "angle"

    def __post_init__(self) -> None:
        for name in ("num_wires", "depth", "latent", "readout_wires", "input_dim", "outputs"):
            positive_int(name, getattr(self, name))
        if self.readout_wires > self.num_wires or self.input_dim > self.num_wires:
            raise ValueError(
                f"readout_wires ({self.readout_wires}) and input_dim ({self.input_dim}) must not exceed "
                f"num_wires ({self.num_wires}): each is a wire of the fast circuit"
            )
        if self.update not in UPDATES:
            raise ValueError(f"update must be one of {UPDATES}, got {self.update!r}")
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {self.encoding!r}")


def init(key: Any, config: QFWPConfig) -> dict[str, Any]:
    """Parameters of a QFWP: a pytree of JAX arrays.

    Args:
        key: a ``jax.random.PRNGKey``.
        config: the sizes.

    Returns:
        ``{"encoder", "layer_head", "wire_head", "output"}`` linear maps (``{"w", "b"}``),
        plus ``"decay"`` or ``"gate"`` for those update rules.
    """
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    keys = jax.random.split(key, 5)
    params = {
        "encoder": linear_init(keys[0], config.input_dim, config.latent),
        "layer_head": linear_init(keys[1], config.latent, config.depth),
        "wire_head": linear_init(keys[2], config.latent, config.num_wires),
        "output": linear_init(keys[3], config.readout_wires, config.outputs),
    }
    if config.update == "decay":
        params["decay"] = jnp.asarray(2.0)  # sigmoid(2) = 0.88: mostly keep the past at the start
    elif config.update == "gated":
        params["gate"] = linear_init(keys[4], config.latent, 1)
    return params


def fast_weights(params: dict[str, Any], X: Any, config: QFWPConfig) -> Any:
    """``Theta_t`` for every sequence and step: ``(batch, steps, depth, num_wires)``.

    Args:
        params: from :func:`init`.
        X: ``(batch, steps, input_dim)``.
        config: the sizes.
    """
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    hidden = X @ params["encoder"]["w"] + params["encoder"]["b"]  # (B, T, latent)
    layers = hidden @ params["layer_head"]["w"] + params["layer_head"]["b"]  # (B, T, depth)
    wires = hidden @ params["wire_head"]["w"] + params["wire_head"]["b"]  # (B, T, num_wires)
    updates = layers[..., :, None] * wires[..., None, :]  # rank-1 outer products, per sample and step
    if config.update == "gated":
        gate = jax.nn.sigmoid(hidden @ params["gate"]["w"] + params["gate"]["b"])  # (B, T, 1)
        updates = updates * gate[..., None]
    if config.update == "decay":
        gamma = jax.nn.sigmoid(params["decay"])
        steps = X.shape[1]
        # Theta_t = sum_{s<=t} gamma^(t-s) update_s, as one contraction with a triangular matrix
        lag = np.arange(steps)[:, None] - np.arange(steps)[None, :]
        weights = jnp.where(lag >= 0, gamma ** jnp.maximum(lag, 0), 0.0)
        return jnp.einsum("ts,bskq->btkq", weights.astype(updates.dtype), updates)
    return jnp.cumsum(updates, axis=1)


def fast_circuit(config: QFWPConfig) -> Circuit:
    """The fast programmer: inputs ``x`` (``input_dim``) then ``Theta`` flattened row-major (``depth * num_wires``).

    Example:
        >>> c = fast_circuit(QFWPConfig())
        >>> c.num_wires, c.num_inputs, len(c)
        (8, 17, 39)
    """
    n = config.num_wires
    circuit = Circuit(n)
    x = circuit.inputs(config.input_dim + config.depth * n)
    for q in range(n):
        circuit.h(q)
    for i in range(config.input_dim):
        circuit.ry(x[i], i)
    for k in range(config.depth):
        for q in range(0, n - 1, 2):
            circuit.cx(q, q + 1)
        for q in range(1, n - 1, 2):
            circuit.cx(q, q + 1)
        for q in range(n):
            circuit.ry(x[config.input_dim + k * n + q], q)
    return circuit


def readout(config: QFWPConfig) -> list:
    """The observables read by the head: ``<Z_q>`` on the first ``readout_wires`` wires."""
    return [Z(q) for q in range(config.readout_wires)]


def apply(params: dict[str, Any], X: Any, config: QFWPConfig, simulator: Any, sequence: bool = False) -> Any:
    """Outputs of a QFWP on a batch of sequences (pure; differentiable with JAX).

    Args:
        params: from :func:`init`.
        X: ``(batch, steps, input_dim)``.
        config: the sizes.
        simulator: a JAX :class:`~qmlsim.simulators.Simulator` (``backend="jax"``) or,
            outside ``jax.grad``/``jax.jit``, any executor.
        sequence: the output after every step ``(batch, steps, outputs)`` instead of the
            last step's ``(batch, outputs)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from qmlsim.simulators import Simulator
        >>> config = QFWPConfig(num_wires=4, readout_wires=2)
        >>> params = init(jax.random.PRNGKey(0), config)
        >>> apply(params, jnp.zeros((3, 4, 1)), config, Simulator(backend="jax", dtype="complex64")).shape
        (3, 1)
    """
    theta = fast_weights(params, X, config)  # (B, T, depth, n)
    if not sequence:  # only the last step reaches the output: run one circuit per sequence
        X, theta = X[:, -1:], theta[:, -1:]
    batch, steps = X.shape[0], X.shape[1]
    out = head(params, X.reshape(batch * steps, -1), theta.reshape(batch * steps, -1), config, simulator)
    return out.reshape(batch, steps, -1) if sequence else out.reshape(batch, -1)


def head(params: dict[str, Any], x: Any, theta: Any, config: QFWPConfig, simulator: Any) -> Any:
    """The fast circuit on rows of inputs ``x`` ``(rows, input_dim)`` and angles ``theta`` ``(rows, depth * num_wires)``, then the linear head: ``(rows, outputs)``."""
    import jax.numpy as jnp  # noqa: PLC0415

    encoded = jnp.arctan(x) if config.encoding == "arctan" else x
    values = simulator.expval(fast_circuit(config), readout(config), x=jnp.concatenate([encoded, theta], axis=1))
    return values @ params["output"]["w"] + params["output"]["b"]


class QFWP(SequenceRegressor):
    """Quantum fast-weight programmer as a scikit-learn regressor (final class).

    ``fit(X, y)`` with ``X`` ``(n, steps, input_dim)`` and ``y`` ``(n,)``; see
    :class:`~qmlsim.qml.sequence_training.SequenceRegressor` for the training arguments
    and fitted attributes, and :class:`QFWPConfig` for the model's. The defaults are the
    reference's (111 parameters, RMSprop 0.01, batch 10).

    Example:
        >>> from qmlsim.qml.datasets import damped_pendulum
        >>> X, y, X_test, y_test = damped_pendulum()
        >>> model = QFWP(num_wires=4, readout_wires=2, epochs=2, random_state=0).fit(X[:40], y[:40])
        >>> model.predict(X_test).shape, len(model.loss_curve_)
        ((78,), 2)
    """

    _label = "QFWP"

    def __init__(
        self, num_wires: int = 8, depth: int = 2, latent: int = 8, readout_wires: int = 4, input_dim: int = 1,
        update: str = "additive", encoding: str = "angle", epochs: int = 100, batch_size: int = 10,
        learning_rate: float = 0.01, optimizer: str = "rmsprop", loss: str = "mse", shuffle: bool = True,
        dtype: str = "float64", checkpoint: str | None = None, verbose: bool = False, random_state: int | None = None,
        init_params: Any = None,
    ):
        self.num_wires = num_wires
        self.depth = depth
        self.latent = latent
        self.readout_wires = readout_wires
        self.input_dim = input_dim
        self.update = update
        self.encoding = encoding
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.loss = loss
        self.shuffle = shuffle
        self.dtype = dtype
        self.checkpoint = checkpoint
        self.verbose = verbose
        self.random_state = random_state
        self.init_params = init_params

    def _config(self) -> QFWPConfig:
        return QFWPConfig(self.num_wires, self.depth, self.latent, self.readout_wires, self.input_dim, 1, self.update, self.encoding)

    def _functions(self) -> tuple[Any, Any]:
        return init, apply
