"""Recurrent baselines for sequence regression: QLSTM (Chen, Yoo, Fang 2022) and a classical LSTM.

QLSTM replaces each of the LSTM's gate layers by a 4-wire variational circuit, as in
the authors' reference code (``ycchen1989/FederatedQLSTM``): with ``v_t = [x_t, h_{t-1}]``,

    f, i, o = sigmoid(VQC_{1,2,4}(v_t)),  g = tanh(VQC_3(v_t)),  c_t = f c_{t-1} + i g
    h_t = VQC_5(o tanh c_t),  y_t = Linear(VQC_6(o tanh c_t))

Each VQC encodes ``v`` by ``H, RY(arctan v_i), RZ(arctan v_i^2)`` on wire ``i`` and has
``depth`` layers of two CNOT rings (neighbours, then next-nearest) and ``Rot`` on every
wire; it reads ``<Z_k>``. The four gate circuits of a step share one structure, so they
run as one batched engine call (their weights are inputs of the call), and so do VQC_5
and VQC_6. 149 parameters at depth 2 with one input and 3 hidden values.

>>> import jax
>>> params = qlstm_init(jax.random.PRNGKey(0), QLSTMConfig())
>>> sum(int(v.size) for v in jax.tree_util.tree_leaves(params))
149
"""
from __future__ import annotations

import dataclasses
from typing import Any

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.observables import Z
from qmlsim.qml.sequence_training import SequenceRegressor, linear_init, positive_int

__all__ = ["QLSTM", "LSTM", "QLSTMConfig", "LSTMConfig", "qlstm_init", "qlstm_apply", "qlstm_circuit", "lstm_init", "lstm_apply", "lstm_cell"]


def _positive(config: Any) -> None:
    for field in dataclasses.fields(config):
        positive_int(field.name, getattr(config, field.name))


@dataclasses.dataclass(frozen=True)
class QLSTMConfig:
    """QLSTM sizes: ``input_dim + hidden`` wires per circuit (4 in the reference), ``depth`` layers."""

    input_dim: int = 1
    hidden: int = 3
    depth: int = 2
    outputs: int = 1

    def __post_init__(self) -> None:
        _positive(self)

    @property
    def num_wires(self) -> int:
        return self.input_dim + self.hidden


@dataclasses.dataclass(frozen=True)
class LSTMConfig:
    """Classical LSTM sizes (hidden 5 gives 146 parameters with one input: close to QLSTM's 149)."""

    input_dim: int = 1
    hidden: int = 5
    outputs: int = 1

    def __post_init__(self) -> None:
        _positive(self)


def qlstm_circuit(config: QLSTMConfig) -> Circuit:
    """One QLSTM VQC; inputs: ``arctan v`` (wires), ``arctan v^2`` (wires), then the ``Rot`` angles ``(depth, wires, 3)``.

    Example:
        >>> qlstm_circuit(QLSTMConfig()).num_inputs
        32
    """
    n = config.num_wires
    circuit = Circuit(n)
    x = circuit.inputs(2 * n + 3 * n * config.depth)
    for q in range(n):
        circuit.h(q).ry(x[q], q).rz(x[n + q], q)
    for k in range(config.depth):
        for q in range(n):
            circuit.cx(q, (q + 1) % n)
        for q in range(n):
            circuit.cx(q, (q + 2) % n)
        for q in range(n):
            base = 2 * n + 3 * (k * n + q)
            circuit.rot(x[base], x[base + 1], x[base + 2], q)
    return circuit


def qlstm_init(key: Any, config: QLSTMConfig) -> dict[str, Any]:
    """``{"vqc": (6, depth, wires, 3) ~ 0.01 N(0, 1), "output": Linear(wires -> outputs)}``, as the reference."""
    import jax  # noqa: PLC0415

    k_vqc, k_out = jax.random.split(key)
    return {
        "vqc": 0.01 * jax.random.normal(k_vqc, (6, config.depth, config.num_wires, 3)),
        "output": linear_init(k_out, config.num_wires, config.outputs),
    }


def _vqc_rows(values: Any, weights: Any) -> Any:
    """Rows of :func:`qlstm_circuit` inputs: ``values`` ``(G, B, wires)``, ``weights`` ``(G, depth, wires, 3)`` -> ``(G*B, inputs)``."""
    import jax.numpy as jnp  # noqa: PLC0415

    groups, batch = values.shape[0], values.shape[1]
    angles = jnp.broadcast_to(weights.reshape(groups, 1, -1), (groups, batch, weights[0].size))
    rows = jnp.concatenate([jnp.arctan(values), jnp.arctan(values**2), angles], axis=-1)
    return rows.reshape(groups * batch, -1)


def qlstm_apply(params: dict[str, Any], X: Any, config: QLSTMConfig, simulator: Any, sequence: bool = False) -> Any:
    """QLSTM outputs for a batch of sequences ``X`` ``(batch, steps, input_dim)``.

    Returns ``(batch, outputs)`` after the last step, or ``(batch, steps, outputs)`` with
    ``sequence``. ``simulator`` as in :func:`qmlsim.qml.fast_weights.apply`.
    """
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    batch, steps = X.shape[0], X.shape[1]
    n, circuit = config.num_wires, qlstm_circuit(config)
    readout = [Z(q) for q in range(n)]
    h = jnp.zeros((batch, config.hidden), X.dtype)
    c = jnp.zeros((batch, n), X.dtype)
    outputs = []
    for t in range(steps):
        v = jnp.concatenate([X[:, t], h], axis=1)
        gates = simulator.expval(circuit, readout, x=_vqc_rows(jnp.broadcast_to(v, (4, batch, n)), params["vqc"][:4]))
        f, i, g, o = gates.reshape(4, batch, n)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        out = jax.nn.sigmoid(o) * jnp.tanh(c)
        heads = simulator.expval(circuit, readout, x=_vqc_rows(jnp.broadcast_to(out, (2, batch, n)), params["vqc"][4:]))
        hidden_values, y_values = heads.reshape(2, batch, n)
        h = hidden_values[:, : config.hidden]
        if sequence or t == steps - 1:
            outputs.append(y_values @ params["output"]["w"] + params["output"]["b"])
    return jnp.stack(outputs, axis=1) if sequence else outputs[-1]


def lstm_init(key: Any, config: LSTMConfig) -> dict[str, Any]:
    """A one-layer LSTM (gates from ``[x_t, h_{t-1}]`` with one bias) and a linear head."""
    import jax  # noqa: PLC0415

    k_cell, k_out = jax.random.split(key)
    return {
        "cell": linear_init(k_cell, config.input_dim + config.hidden, 4 * config.hidden),
        "output": linear_init(k_out, config.hidden, config.outputs),
    }


def lstm_cell(params: dict[str, Any], carry: tuple[Any, Any], x: Any) -> tuple[Any, Any]:
    """One LSTM step: ``(h, c)`` ``(batch, hidden)`` each and ``x`` ``(batch, input_dim)`` -> the new ``(h, c)``."""
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    h, c = carry
    z = jnp.concatenate([x, h], axis=1) @ params["cell"]["w"] + params["cell"]["b"]
    f, i, g, o = jnp.split(z, 4, axis=1)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
    return jax.nn.sigmoid(o) * jnp.tanh(c), c


def lstm_apply(params: dict[str, Any], X: Any, config: LSTMConfig, simulator: Any = None, sequence: bool = False) -> Any:
    """Classical LSTM outputs for ``X`` ``(batch, steps, input_dim)`` (``simulator`` unused: same signature as the quantum models)."""
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    batch, hidden = X.shape[0], config.hidden

    def cell(carry: tuple[Any, Any], x_t: Any) -> tuple[tuple[Any, Any], Any]:
        h, c = lstm_cell(params, carry, x_t)
        return (h, c), h

    start = (jnp.zeros((batch, hidden), X.dtype), jnp.zeros((batch, hidden), X.dtype))
    # a scan, not a Python loop: long sequences (RL episodes of 500 steps) compile in one step's time
    (h, _), hs = jax.lax.scan(cell, start, jnp.swapaxes(X, 0, 1))
    if not sequence:
        return h @ params["output"]["w"] + params["output"]["b"]
    return jnp.swapaxes(hs, 0, 1) @ params["output"]["w"] + params["output"]["b"]


class QLSTM(SequenceRegressor):
    """QLSTM as a scikit-learn regressor (final class); training arguments as :class:`~qmlsim.qml.fast_weights.QFWP`.

    Example:
        >>> QLSTM().param_count
        149
    """

    _label = "QLSTM"

    def __init__(
        self, input_dim: int = 1, hidden: int = 3, depth: int = 2, epochs: int = 100, batch_size: int = 10,
        learning_rate: float = 0.01, optimizer: str = "rmsprop", loss: str = "mse", shuffle: bool = True,
        dtype: str = "float64", checkpoint: str | None = None, verbose: bool = False, random_state: int | None = None,
        init_params: Any = None,
    ):
        self.input_dim = input_dim
        self.hidden = hidden
        self.depth = depth
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

    def _config(self) -> QLSTMConfig:
        return QLSTMConfig(self.input_dim, self.hidden, self.depth)

    def _functions(self) -> tuple[Any, Any]:
        return qlstm_init, qlstm_apply


class LSTM(SequenceRegressor):
    """A classical LSTM regressor of similar size (final class; 146 parameters by default).

    Example:
        >>> LSTM().param_count
        146
    """

    _label = "LSTM"

    def __init__(
        self, input_dim: int = 1, hidden: int = 5, epochs: int = 100, batch_size: int = 10,
        learning_rate: float = 0.01, optimizer: str = "rmsprop", loss: str = "mse", shuffle: bool = True,
        dtype: str = "float64", checkpoint: str | None = None, verbose: bool = False, random_state: int | None = None,
        init_params: Any = None,
    ):
        self.input_dim = input_dim
        self.hidden = hidden
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

    def _config(self) -> LSTMConfig:
        return LSTMConfig(self.input_dim, self.hidden)

    def _functions(self) -> tuple[Any, Any]:
        return lstm_init, lstm_apply
