"""QFWP, QLSTM and LSTM: circuits against PennyLane, the recursion, gradients, batching, training."""
from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = jax.numpy

from qmlsim.circuits import Z  # noqa: E402
from qmlsim.qml.datasets import damped_pendulum, narma, windows  # noqa: E402
from qmlsim.qml.fast_weights import QFWP, QFWPConfig, apply, fast_circuit, fast_weights, init  # noqa: E402
from qmlsim.qml.recurrent import LSTM, QLSTM, LSTMConfig, QLSTMConfig, lstm_apply, lstm_init, qlstm_circuit  # noqa: E402
from qmlsim.simulators import Simulator  # noqa: E402


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def _pennylane_fast_circuit(x, theta, readout):
    qml = pytest.importorskip("pennylane")
    n = theta.shape[1]
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev)
    def net():
        for q in range(n):
            qml.Hadamard(q)
        for i, value in enumerate(x):
            qml.RY(value, wires=i)
        for layer in theta:
            for q in range(0, n - 1, 2):
                qml.CNOT([q, q + 1])
            for q in range(1, n - 1, 2):
                qml.CNOT([q, q + 1])
            for q in range(n):
                qml.RY(layer[q], wires=q)
        return [qml.expval(qml.PauliZ(q)) for q in range(readout)]

    return np.array(net())


def test_fast_circuit_equals_pennylane_default_qubit():
    config = QFWPConfig()
    rng = np.random.default_rng(0)
    x, theta = rng.uniform(-1, 1, (6, 1)), rng.normal(size=(6, 2, 8))
    rows = np.concatenate([x, theta.reshape(6, -1)], axis=1)
    got = np.asarray(Simulator(backend="jax").expval(fast_circuit(config), [Z(q) for q in range(4)], x=jnp.asarray(rows)))
    expected = np.stack([_pennylane_fast_circuit(x[i], theta[i], 4) for i in range(6)])
    np.testing.assert_allclose(got, expected, atol=1e-10)


def test_qlstm_circuit_equals_pennylane_default_qubit():
    qml = pytest.importorskip("pennylane")
    config = QLSTMConfig()
    rng = np.random.default_rng(1)
    v, weights = rng.uniform(-1, 1, 4), rng.normal(size=(2, 4, 3))
    dev = qml.device("default.qubit", wires=4)

    @qml.qnode(dev)
    def vqc():  # the reference's encoding and layers, written with PennyLane
        for i in range(4):
            qml.Hadamard(i)
            qml.RY(np.arctan(v[i]), wires=i)
            qml.RZ(np.arctan(v[i] ** 2), wires=i)
        for layer in weights:
            for i in range(4):
                qml.CNOT([i, (i + 1) % 4])
            for i in range(4):
                qml.CNOT([i, (i + 2) % 4])
            for i in range(4):
                qml.Rot(*layer[i], wires=i)
        return [qml.expval(qml.PauliZ(i)) for i in range(4)]

    row = np.concatenate([np.arctan(v), np.arctan(v**2), weights.reshape(-1)])[None]
    got = np.asarray(Simulator().expval(qlstm_circuit(config), [Z(q) for q in range(4)], x=row))[0]
    np.testing.assert_allclose(got, np.array(vqc()), atol=1e-10)


def test_parameter_counts_match_the_references():
    assert QFWP().param_count == 111
    assert QLSTM().param_count == 149
    assert QLSTM(depth=4).param_count == 293
    assert LSTM().param_count == 146


def test_fast_weights_are_the_sum_of_outer_products():
    config = QFWPConfig()
    params = init(jax.random.PRNGKey(2), config)
    X = np.random.default_rng(2).uniform(-1, 1, (3, 5, 1))
    p = jax.tree_util.tree_map(np.asarray, params)
    theta = np.asarray(fast_weights(params, jnp.asarray(X), config))
    for b in range(3):
        total = np.zeros((2, 8))
        for t in range(5):
            h = X[b, t] @ p["encoder"]["w"] + p["encoder"]["b"]
            total += np.outer(h @ p["layer_head"]["w"] + p["layer_head"]["b"], h @ p["wire_head"]["w"] + p["wire_head"]["b"])
            np.testing.assert_allclose(theta[b, t], total, atol=1e-13)


def test_outputs_of_a_batch_equal_single_sequence_runs_and_the_last_step():
    config = QFWPConfig(num_wires=6, readout_wires=3)
    params = init(jax.random.PRNGKey(3), config)
    sim = Simulator(backend="jax")
    X = jnp.asarray(np.random.default_rng(3).uniform(-1, 1, (5, 4, 1)))
    batched = np.asarray(apply(params, X, config, sim))
    single = jax.jit(lambda p, x: apply(p, x, config, sim))
    singles = np.concatenate([np.asarray(single(params, X[i : i + 1])) for i in range(5)])
    np.testing.assert_allclose(batched, singles, atol=1e-13)
    sequence = np.asarray(apply(params, X, config, sim, sequence=True))
    np.testing.assert_allclose(sequence[:, -1], batched, atol=1e-13)
    # the output after step t depends only on steps <= t: a run on the prefix gives it
    np.testing.assert_allclose(sequence[:, 1], np.asarray(apply(params, X[:, :2], config, sim)), atol=1e-13)


@pytest.mark.parametrize("update", ["additive", "decay", "gated"])
def test_gradients_through_all_steps_equal_finite_differences(update):
    config = QFWPConfig(num_wires=4, readout_wires=2, update=update)
    params = init(jax.random.PRNGKey(4), config)
    sim = Simulator(backend="jax")
    X = jnp.asarray(np.random.default_rng(4).uniform(-1, 1, (3, 4, 1)))

    @jax.jit
    def loss(p):
        return jnp.sum(apply(p, X, config, sim) ** 2)

    grads = jax.grad(loss)(params)
    leaves, tree = jax.tree_util.tree_flatten(params)
    grad_leaves = jax.tree_util.tree_leaves(grads)
    rng = np.random.default_rng(5)
    for index, leaf in enumerate(leaves):
        flat = np.asarray(leaf).reshape(-1)
        i = int(rng.integers(flat.size))
        step = np.zeros_like(flat)
        step[i] = 1e-6

        def shifted(sign):
            moved = list(leaves)
            moved[index] = jnp.asarray((flat + sign * step).reshape(np.shape(leaf)))
            return float(loss(jax.tree_util.tree_unflatten(tree, moved)))

        fd = (shifted(1) - shifted(-1)) / 2e-6
        assert abs(float(np.asarray(grad_leaves[index]).reshape(-1)[i]) - fd) < 1e-6 * max(1.0, abs(fd))


def test_the_classical_lstm_equals_torch():
    torch = pytest.importorskip("torch")
    config = LSTMConfig(input_dim=2, hidden=3)
    params = jax.tree_util.tree_map(np.asarray, lstm_init(jax.random.PRNGKey(6), config))
    reference = torch.nn.LSTM(2, 3, batch_first=True).double()
    w, b = params["cell"]["w"], params["cell"]["b"]  # gates f, i, g, o; torch orders them i, f, g, o
    order = np.r_[3:6, 0:3, 6:9, 9:12]
    with torch.no_grad():
        reference.weight_ih_l0.copy_(torch.tensor(w[:2, order].T))
        reference.weight_hh_l0.copy_(torch.tensor(w[2:, order].T))
        reference.bias_ih_l0.copy_(torch.tensor(b[order]))
        reference.bias_hh_l0.zero_()
    X = np.random.default_rng(6).normal(size=(4, 5, 2))
    hidden, _ = reference(torch.tensor(X))
    expected = hidden.detach().numpy() @ params["output"]["w"] + params["output"]["b"]
    got = np.asarray(lstm_apply(jax.tree_util.tree_map(jnp.asarray, params), jnp.asarray(X), config, sequence=True))
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_windows_are_consecutive_and_split_chronologically():
    X, y, X_test, y_test = damped_pendulum()
    assert X.shape == (157, 4, 1) and X_test.shape == (78, 4, 1)
    np.testing.assert_array_equal(X[1:, :-1], X[:-1, 1:])
    np.testing.assert_array_equal(y[:-1], X[1:, -1, 0])
    np.testing.assert_array_equal(X_test[0, :, 0], np.r_[X[-1, 1:, 0], y[-1]])
    everything = np.r_[X[:, 0, 0], X_test[:, 0, 0]]
    assert everything.min() >= -1 and everything.max() <= 1


def test_narma_follows_its_recurrence():
    X, y, _, _ = narma(order=5, window=4, length=60, seed=3, include_input=True)
    # the recurrence written out from the same seeded drive, then scaled as the windows are
    u = np.random.default_rng(3).uniform(0.0, 0.5, 60)
    series = np.zeros(60)
    for t in range(4, 59):
        series[t + 1] = 0.3 * series[t] + 0.05 * series[t] * sum(series[t - i] for i in range(5)) + 1.5 * u[t - 4] * u[t] + 0.1
    low, high = series.min(), series.max()
    np.testing.assert_allclose(X[:, :, 0], (2 * (np.stack([series[i : i + 4] for i in range(len(X))]) - low) / (high - low) - 1))
    assert X.shape[2] == 2


def test_bad_input_is_refused_before_training():
    X, y, _, _ = damped_pendulum()
    with pytest.raises(ValueError, match="feature"):
        QFWP(epochs=1).fit(np.repeat(X, 2, axis=2), y)
    bad = X.copy()
    bad[3, 2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        QFWP(epochs=1).fit(bad, y)
    with pytest.raises(ValueError, match="window of 10"):
        windows(np.arange(8.0), window=10)
    with pytest.raises(ValueError, match="NaN"):
        windows(np.r_[np.arange(8.0), np.nan])
    with pytest.raises(ValueError, match="optimizer"):
        QFWP(optimizer="sgd").fit(X, y)
    with pytest.raises(ValueError, match="shape"):
        QFWP(epochs=1).fit(X, y[:-1])
    with pytest.raises(ValueError, match="readout_wires"):
        QFWP(num_wires=2, readout_wires=4).fit(X, y)


def test_an_interrupted_fit_resumes_from_its_checkpoint(tmp_path):
    X, y, _, _ = damped_pendulum()
    path = str(tmp_path / "lstm.ckpt")
    straight = LSTM(epochs=4, random_state=0).fit(X, y)
    LSTM(epochs=2, random_state=0, checkpoint=path).fit(X, y)  # "interrupted" after 2 epochs
    resumed = LSTM(epochs=4, random_state=0, checkpoint=path).fit(X, y)
    np.testing.assert_allclose(resumed.loss_curve_, straight.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(resumed.predict(X), straight.predict(X), atol=1e-12)
    with pytest.raises(ValueError, match="other settings"):
        LSTM(epochs=4, random_state=0, learning_rate=0.1, checkpoint=path).fit(X, y)


def test_fits_that_share_compiled_functions_equal_fits_that_do_not():
    from qmlsim.qml import sequence_training

    X, y, _, _ = damped_pendulum()
    X, y = X[:30], y[:30]
    sequence_training._COMPILED.clear()
    alone = LSTM(epochs=2, learning_rate=0.1, random_state=1).fit(X, y).loss_curve_
    # another learning rate (a constant compiled into the update): other compiled functions
    other = LSTM(epochs=2, learning_rate=0.01, random_state=1).fit(X, y).loss_curve_
    assert len(sequence_training._COMPILED) == 2 and other[1] != alone[1]
    np.testing.assert_allclose(LSTM(epochs=2, learning_rate=0.1, random_state=1).fit(X, y).loss_curve_, alone, rtol=1e-13)


def _torch_reference_init(seed):
    """The reference code's initial parameters: ``torch.manual_seed(seed)``, then its Linear layers in order."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(1, 8), torch.nn.Linear(8, 2), torch.nn.Linear(8, 8), torch.nn.Linear(4, 1)]
    names = ["encoder", "layer_head", "wire_head", "output"]
    return {n: {"w": l.weight.detach().double().numpy().T.copy(), "b": l.bias.detach().double().numpy().copy()} for n, l in zip(names, layers)}


@pytest.mark.slow
def test_damped_pendulum_reaches_the_reference_errors_and_beats_qlstm():
    X, y, X_test, y_test = damped_pendulum()
    errors = {}
    for seed in (0, 1):
        # the reference's own initialisation for its seed, its batches in order, 30 epochs
        model = QFWP(epochs=30, shuffle=False, init_params=_torch_reference_init(seed), random_state=seed)
        errors[seed] = float(np.mean((model.fit(X, y).predict(X_test) - y_test) ** 2))
        assert errors[seed] < 2e-3
    qlstm = QLSTM(epochs=30, shuffle=False, random_state=0).fit(X, y)
    assert errors[0] <= float(np.mean((qlstm.predict(X_test) - y_test) ** 2))


def test_sequences_of_the_wrong_kind_are_refused_with_the_fix():
    from scipy import sparse

    from qmlsim.qml.sequence_training import check_sequences

    with pytest.raises(TypeError, match="sparse"):
        check_sequences(sparse.csr_matrix(np.ones((3, 4))), 1)
    with pytest.raises(ValueError, match="complex"):
        check_sequences(np.ones((3, 4)) * 1j, 1)
    with pytest.raises(ValueError, match="Reshape"):
        check_sequences(np.ones(4), 1)
    assert check_sequences(np.ones((3, 4)), 1).shape == (3, 4, 1)
