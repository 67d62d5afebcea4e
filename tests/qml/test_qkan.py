"""DARUAN and QKAN against independent references: 2x2 matrix products, the generic engine,
closed-form spectra, finite differences. Long training runs are in test_qkan_training.py."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import enable_x64

from qmlsim.circuits import Z
from qmlsim.qml.qkan import ANSATZES, HQKAN, MLP, QKAN, BSplineKAN, FourierKAN, daruan, daruan_circuit, daruan_numpy
from qmlsim.qml.qkan.daruan import theta_shape
from qmlsim.qml.qkan.hardware import apply_qkan_device
from qmlsim.qml.qkan.layer import apply_qkan, init_qkan
from qmlsim.simulators import Simulator

# --- an independent reference: explicit 2x2 complex matrices --------------------------
H = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
XM = np.array([[0, 1], [1, 0]], complex)
ZM = np.diag([1.0, -1.0]).astype(complex)


def rz(t):
    return np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])


def ry(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    return np.array([[c, -s], [s, c]], complex)


def rx(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    return np.array([[c, -1j * s], [-1j * s, c]])


def reference(ansatz, theta, w, b, x, measure):
    """One edge, one scalar input, by matrix products (shares no code with qmlsim)."""
    r = len(w)
    psi = H @ np.array([1, 0], complex)
    for l in range(r):
        enc = w[l] * x + b[l]
        if ansatz == "pz":
            psi = rz(enc) @ ry(theta[l, 1]) @ rz(theta[l, 0]) @ psi
        elif ansatz == "rpz":
            psi = rz(enc) @ ry(theta[l, 0]) @ psi
        elif ansatz == "px":
            psi = rx(np.arccos(enc)) @ rz(theta[l, 0]) @ psi
        elif ansatz == "real":
            psi = ry(enc) @ ZM @ ry(theta[l, 0]) @ XM @ psi
        else:  # mix
            psi = ry(enc) @ rx(theta[l, 1]) @ rz(theta[l, 0]) @ psi
    if ansatz in ("pz", "mix"):
        psi = (ry if ansatz == "pz" else rx)(theta[r, 1]) @ rz(theta[r, 0]) @ psi
    elif ansatz == "rpz":
        psi = ry(theta[r, 0]) @ psi
    elif ansatz == "px":
        psi = rz(theta[r, 0]) @ psi
    a, bb = np.abs(psi)
    return a**2 - bb**2 if measure == "born" else a - bb


def random_edge(rng, reps, ansatz, edges=(3, 2)):
    rows, cols = theta_shape(reps, ansatz)
    theta = rng.normal(size=edges + (rows, cols))
    w = rng.uniform(0.3, 0.9, size=edges + (reps,))
    b = rng.uniform(-0.1, 0.1, size=edges + (reps,))
    return theta, w, b


@pytest.mark.parametrize("measure", ["born", "amplitude"])
@pytest.mark.parametrize("ansatz", list(ANSATZES))
def test_daruan_equals_matrix_product(ansatz, measure):
    rng = np.random.default_rng(1)
    reps = 3
    theta, w, b = random_edge(rng, reps, ansatz)
    x = rng.uniform(-1, 1, size=(5, 1, 2))
    expect = np.array([[[reference(ansatz, theta[o, i], w[o, i], b[o, i], x[n, 0, i], measure)
                         for i in range(2)] for o in range(3)] for n in range(5)])
    params = {"theta": theta.astype(np.float32), "w": w.astype(np.float32), "b": b.astype(np.float32)}
    got32 = np.asarray(daruan(params, x.astype(np.float32), reps, ansatz, measure))
    assert got32.dtype == np.float32 and got32.shape == (5, 3, 2)
    np.testing.assert_allclose(got32, expect, atol=1e-6 if measure == "born" else 2e-6)
    got64 = daruan_numpy({"theta": theta, "w": w, "b": b}, x, reps, ansatz, measure)
    np.testing.assert_allclose(got64, expect, atol=1e-12)


@pytest.mark.parametrize("ansatz", list(ANSATZES))
def test_fast_path_equals_generic_engine(ansatz):
    rng = np.random.default_rng(2)
    reps = 3
    theta, w, b = random_edge(rng, reps, ansatz, edges=())
    x = rng.uniform(-1, 1, size=(16, 1))
    circuit = daruan_circuit(reps, ansatz)
    weights = np.concatenate([theta.ravel(), w, b])
    for dtype, cdtype, tol in (("float32", "complex64", 1e-6), ("float64", "complex128", 1e-12)):
        engine = Simulator("numpy", dtype=cdtype).expval(circuit, Z(0), x=x, weights=weights)
        params = {"theta": theta[None], "w": w[None], "b": b[None]}
        params = {k: v.astype(dtype) for k, v in params.items()}
        if dtype == "float32":
            fast = np.asarray(daruan(params, x.astype(dtype), reps, ansatz))[:, 0]
        else:
            with enable_x64():
                fast = np.asarray(daruan(params, x, reps, ansatz))[:, 0]
                assert fast.dtype == np.float64
        np.testing.assert_allclose(fast, np.asarray(engine, np.float64), atol=tol)


@pytest.mark.parametrize("weights, highest", [((1, 1, 1), 3), ((1, 2, 4), 7), ((1, 3, 9), 13)])
def test_spectrum_grows_with_preact_weights(weights, highest):
    rng = np.random.default_rng(3)
    theta = rng.normal(size=(1, 4, 2))
    n = 512
    x = (2 * np.pi * np.arange(n) / n)[:, None]
    f = daruan_numpy({"theta": theta, "w": np.array([weights], float), "b": np.zeros((1, 3))}, x, 3)[:, 0]
    power = np.abs(np.fft.rfft(f)) / n
    support = np.nonzero(power > 1e-10)[0]
    assert support.max() == highest
    if highest == 13:
        assert len(support) == 14  # every frequency 0..13 present: 27 distinct with negatives


def test_param_counts():
    assert QKAN([10, 10]).param_count == 800
    assert QKAN([10, 100]).param_count == 8000
    assert QKAN([10, 10, 1]).param_count == 880
    assert QKAN([2, 5, 1], reps=3, trainable="all").param_count == 255
    assert BSplineKAN([2, 5, 1]).param_count == 150
    assert FourierKAN([2, 5, 1]).param_count == 180
    model = QKAN([2, 5, 1], trainable="all")
    counted = sum(int(np.size(v)) for p in model.init() for k, v in p.items() if k != "mask")
    assert counted == 255


def test_layer_formula():
    rng = np.random.default_rng(4)
    params = init_qkan(jax.random.PRNGKey(0), [3, 2], reps=2, preact=True, base=True)
    params = [{k: jnp.asarray(rng.normal(size=v.shape), jnp.float32) if k != "mask" else v for k, v in p.items()}
              for p in params]
    p = {k: np.asarray(v, np.float64) for k, v in params[0].items()}
    x = rng.uniform(-1, 1, size=(4, 3))
    expect = np.zeros((4, 2))
    for n in range(4):
        for j in range(2):
            for i in range(3):
                phi = reference("pz", p["theta"][j, i], p["w"][j, i], p["b"][j, i], x[n, i], "born")
                silu = x[n, i] / (1 + np.exp(-x[n, i]))
                expect[n, j] += p["pw"][j, i] * (phi + p["pb"][j, i]) + p["bw"][j, i] * silu
    np.testing.assert_allclose(np.asarray(apply_qkan(params, jnp.asarray(x, jnp.float32), 2)), expect, atol=2e-5)


@pytest.mark.parametrize("trainable", ["all", ("theta",)])
@pytest.mark.parametrize("ansatz", ["pz", "rpz", "px", "real", "mix"])
def test_refine_preserves_output(ansatz, trainable):
    rng = np.random.default_rng(5)
    model = QKAN([2, 3, 1], reps=2, ansatz=ansatz, trainable=trainable)
    params = model.init()
    model.params_ = [{k: (jnp.asarray(rng.normal(size=v.shape), v.dtype) if k != "mask" else v) for k, v in p.items()}
                     for p in params]
    x = rng.uniform(-1, 1, size=(64, 2))
    bigger = model.refine(5)
    rows = 5 if ansatz == "real" else 6  # "real" has no final block
    assert bigger.reps == 5 and bigger.params_[0]["theta"].shape[2] == rows
    np.testing.assert_allclose(bigger.predict(x), model.predict(x), atol=1e-5)
    for measure in ("born", "amplitude"):
        model.measure = bigger.measure = measure
        np.testing.assert_allclose(bigger.predict(x), model.predict(x), atol=1e-5)


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(6)
    with enable_x64():
        params = init_qkan(jax.random.PRNGKey(1), [2, 3, 1], reps=2, preact=True, base=True, dtype=jnp.float64)
        x = jnp.asarray(rng.uniform(-1, 1, size=(7, 2)))
        loss = jax.jit(lambda p: jnp.sum(apply_qkan(p, x, 2) ** 2))
        grad = jax.grad(loss)(params)
        eps = 1e-6
        for layer, key, index in [(0, "theta", (1, 0, 2, 1)), (0, "w", (2, 1, 0)), (1, "b", (0, 2, 1)),
                                  (1, "pw", (0, 1)), (0, "bw", (1, 1)), (1, "pb", (0, 0))]:
            def shifted(d):
                new = [dict(p) for p in params]
                new[layer][key] = new[layer][key].at[index].add(d)
                return float(loss(new))
            fd = (shifted(eps) - shifted(-eps)) / (2 * eps)
            assert abs(float(grad[layer][key][index]) - fd) < 1e-6, (key, index)


def test_training_step_compiles_once():
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, size=(32, 2))
    y = np.sin(x[:, :1] + x[:, 1:])
    model = QKAN([2, 2, 1], reps=1, solver="adam", steps=5, learning_rate=0.05).fit(x, y)
    assert model.step_._cache_size() == 1
    before = model.loss_[0]
    model.fit(x, y)  # a warm start: new parameter values
    assert model.loss_[-1] < before


def test_numpy_and_jax_forward_agree():
    rng = np.random.default_rng(8)
    model = QKAN([3, 4, 2], reps=3, trainable="all")
    params = model.init()
    x = rng.uniform(-1, 1, size=(10, 3)).astype(np.float32)
    model.params_ = params
    np.testing.assert_allclose(model.predict(x), np.asarray(apply_qkan(params, jnp.asarray(x), 3)), atol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"width": [3]}, "at least two"),
    ({"width": [3, 0]}, "positive"),
    ({"width": [2, 1], "reps": 0}, "reps"),
    ({"width": [2, 1], "ansatz": "zz"}, "unknown ansatz"),
    ({"width": [2, 1], "measure": "shots"}, "measurement mode"),
    ({"width": [2, 1], "trainable": ["gamma"]}, "trainable"),
])
def test_bad_configuration(kwargs, message):
    with pytest.raises(ValueError, match=message):
        QKAN(**kwargs).param_count


def test_nan_input_rejected():
    x = np.zeros((4, 2)); x[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        QKAN([2, 1], steps=1).fit(x, np.zeros(4))


def test_divergence_keeps_last_good_parameters():
    rng = np.random.default_rng(9)
    x = rng.uniform(-1, 1, size=(16, 1))
    model = QKAN([1, 1], reps=1, trainable="all", solver="adam", learning_rate=1e30, steps=20)
    with pytest.warns(RuntimeWarning, match="diverged|non-finite"):
        model.fit(x, 1e30 * x)
    assert model.diverged_
    assert all(bool(jnp.all(jnp.isfinite(v))) for p in model.params_ for v in p.values())


def test_save_load_roundtrip_and_width_mismatch(tmp_path):
    rng = np.random.default_rng(10)
    model = QKAN([2, 3, 1], reps=2, trainable="all")
    model.params_ = model.init()
    path = str(tmp_path / "qkan.npz")
    model.save(path)
    x = rng.uniform(-1, 1, size=(5, 2))
    np.testing.assert_array_equal(QKAN([2, 3, 1], reps=2, trainable="all").load(path).predict(x), model.predict(x))
    with pytest.raises(ValueError, match="width"):
        QKAN([2, 4, 1], reps=2).load(path)


def test_prune_masks_dead_edges():
    model = QKAN([2, 2], reps=1, trainable="all")
    params = model.init()
    params[0]["pw"] = params[0]["pw"].at[1, 0].set(0.0)
    params[0]["bw"] = params[0]["bw"].at[1, 0].set(0.0)
    model.params_ = params
    model.prune(np.random.default_rng(0).uniform(-1, 1, (32, 2)), threshold=1e-3)
    np.testing.assert_array_equal(np.asarray(model.params_[0]["mask"]), [[1, 1], [0, 1]])


def test_packed_device_evaluation_matches_fast_path():
    rng = np.random.default_rng(11)
    model = QKAN([2, 3, 1], reps=2, trainable="all")
    model.params_ = [{k: (jnp.asarray(rng.normal(size=v.shape) * 0.5, v.dtype) if k != "mask" else v)
                      for k, v in p.items()} for p in model.init()]
    x = rng.uniform(-1, 1, size=(6, 2))
    exact = apply_qkan_device(Simulator("numpy", "complex128"), model.params_, x, 2, max_wires=4)
    np.testing.assert_allclose(exact, model.predict(x), atol=1e-5)


def test_qiskit_fake_backend_with_shots():
    pytest.importorskip("qiskit_ibm_runtime", reason="qiskit-ibm-runtime (fake IBM backends) not installed")
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    from qmlsim.simulators import QiskitExecutor

    rng = np.random.default_rng(12)
    model = QKAN([1, 2], reps=1)
    model.params_ = model.init()
    x = rng.uniform(-1, 1, size=(3, 1))
    device = QiskitExecutor(FakeManilaV2(), shots=4000, seed=3, journal=False)
    got = model.set_params(device=device).predict(x)
    expect = model.set_params(device=None).predict(x)
    assert np.max(np.abs(got - expect)) < 0.15  # shots (1/sqrt(4000) per edge) and the fake device's noise


@pytest.mark.slow  # 9 s of JAX compiles; the default run stays under 4 minutes cold on 2 cores
def test_hqkan_classifier_and_baselines_run():
    rng = np.random.default_rng(13)
    x = rng.normal(size=(120, 6)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    clf = HQKAN(k=3, loss="cross_entropy", solver="adam", steps=120, learning_rate=0.05).fit(x, y)
    assert np.mean(clf.predict(x) == y) > 0.85
    xr = rng.uniform(-1, 1, size=(64, 1))
    for model in (MLP([1, 8, 1], solver="adam", steps=150, learning_rate=0.05),
                  FourierKAN([1, 1], solver="adam", steps=150, learning_rate=0.05),
                  BSplineKAN([1, 1], solver="adam", steps=150, learning_rate=0.05)):
        pred = model.fit(xr, np.sin(2 * xr)).predict(xr)
        assert np.mean((pred - np.sin(2 * xr)) ** 2) < 5e-2, type(model).__name__


# every ansatz and readout compiles its own JAX graphs (about 4 s each): two cases in the
# default run, the rest in the slow step
@pytest.mark.parametrize("ansatz, measure", [
    pytest.param(a, m, marks=() if (a, m) in (("pz", "born"), ("px", "amplitude")) else pytest.mark.slow)
    for a in ANSATZES for m in ("born", "amplitude")
])
def test_adjoint_backward_equals_autodiff(ansatz, measure):
    from qmlsim.qml.qkan.daruan import daruan_batch_last, daruan_fast

    rng = np.random.default_rng(14)
    with enable_x64():
        theta, w, b = random_edge(rng, 2, ansatz)
        for params in ({"theta": theta, "w": w, "b": b}, {"theta": theta}):
            params = {k: jnp.asarray(v) for k, v in params.items()}
            x = jnp.asarray(rng.uniform(-0.9, 0.9, size=(2, 6)))
            grads = [jax.grad(lambda p, x: jnp.sum(jnp.sin(f(p, x, 2, ansatz, measure))), argnums=(0, 1))(params, x)
                     for f in (daruan_fast, daruan_batch_last)]
            for u, v in zip(jax.tree_util.tree_leaves(grads[0]), jax.tree_util.tree_leaves(grads[1])):
                np.testing.assert_allclose(u, v, atol=1e-12)
