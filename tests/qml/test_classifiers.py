"""QSVC and VariationalClassifier: independent references (sklearn SVC on qiskit-ml's kernel, PennyLane default.qubit,
finite differences), the paper's accuracies, executors, bad input."""
import numpy as np
import pytest
from sklearn.svm import SVC

from qmlsim.qml.classifiers import QSVC, VariationalClassifier, binomial_loss, cross_entropy_loss
from qmlsim.qml.datasets import ad_hoc_data
from qmlsim.qml.kernels import FidelityQuantumKernel
from qmlsim.simulators import Simulator


@pytest.fixture(scope="module")
def adhoc():
    return ad_hoc_data(20, 20, seed=0)


class Recording:
    """Simulator wrapper that records every call (to prove validation happens before any circuit runs)."""

    supports_statevector = True

    def __init__(self):
        self.sim, self.calls = Simulator(), []
        self.backend, self.dtype = self.sim.backend, self.sim.dtype

    def __getattr__(self, name):
        method = getattr(self.sim, name)

        def run(*args, **kwargs):
            self.calls.append((name, np.shape(kwargs.get("x"))))
            return method(*args, **kwargs)

        return run


# --- QSVC ---------------------------------------------------------------------------
def test_qsvc_equals_svc_on_qiskit_kernel(adhoc):
    kernels = pytest.importorskip("qiskit_machine_learning.kernels")
    from qiskit.circuit.library import zz_feature_map

    x_train, y_train, x_test, _ = adhoc
    ref_kernel = kernels.FidelityStatevectorKernel(feature_map=zz_feature_map(2, reps=2))
    ref = SVC(kernel="precomputed", C=1.0).fit(ref_kernel.evaluate(x_train), y_train)
    ours = QSVC(C=1.0).fit(x_train, y_train)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_allclose(ours.decision_function(x_test), ref.decision_function(ref_kernel.evaluate(x_test, x_train)), atol=1e-8)


def test_qsvc_predicts_from_support_vectors_only(adhoc):
    x_train, y_train, x_test, _ = adhoc
    shapes = []
    base = FidelityQuantumKernel()

    def kernel(a, b):
        shapes.append((len(a), len(b)))
        return base(a, b)

    clf = QSVC(kernel=kernel).fit(x_train, y_train)
    clf.predict(x_test)
    assert shapes == [(40, 40), (40, len(clf.support_))]
    assert len(clf.support_) < 40


# --- variational classifier: model and cost --------------------------------------------
def test_circuit_matches_pennylane_reference():
    qml = pytest.importorskip("pennylane")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 2 * np.pi, (4, 2))
    clf = VariationalClassifier(reps=2, maxiter=2, learning_rate=0.1, random_state=0).fit(x, [0, 1, 0, 1])
    theta = clf.weights_
    dev = qml.device("default.qubit", wires=2)

    @qml.qnode(dev)
    def circuit(features):
        for _ in range(2):  # Qiskit's ZZ feature map: H, P(2 x_i), CX P(2 (pi - x0)(pi - x1)) CX
            for q in range(2):
                qml.Hadamard(q)
                qml.PhaseShift(2 * features[q], q)
            qml.CNOT([0, 1])
            qml.PhaseShift(2 * (np.pi - features[0]) * (np.pi - features[1]), 1)
            qml.CNOT([0, 1])
        for layer in range(3):  # Havlicek ansatz: (RY RZ) [CZ (RY RZ)] x reps
            if layer:
                qml.CZ([0, 1])
            for q in range(2):
                qml.RY(theta[4 * layer + 2 * q], q)
                qml.RZ(theta[4 * layer + 2 * q + 1], q)
        return qml.expval(qml.PauliZ(0) @ qml.PauliZ(1))

    ref = np.array([circuit(row) for row in x]) - clf.bias_
    np.testing.assert_allclose(clf.decision_function(x), ref, atol=1e-10)


@pytest.mark.parametrize("loss", [binomial_loss, cross_entropy_loss])
def test_loss_gradients_match_finite_differences(loss):
    rng = np.random.default_rng(1)
    e, b = rng.uniform(-0.9, 0.9, (3, 6)), rng.uniform(-0.3, 0.3, 3)
    y = rng.choice([-1.0, 1.0], (3, 6))
    _, de, db = loss(e, b, y, 200, grad=True)
    h = 1e-6
    fd = np.zeros_like(e)
    for i, j in np.ndindex(e.shape):
        step = np.zeros_like(e)
        step[i, j] = h
        fd[i, j] = (loss(e + step, b, y, 200)[i] - loss(e - step, b, y, 200)[i]) / (2 * h)
    np.testing.assert_allclose(de, fd, atol=1e-6)
    np.testing.assert_allclose(db, (loss(e, b + h, y, 200) - loss(e, b - h, y, 200)) / (2 * h), atol=1e-6)


def test_binomial_loss_closed_form():
    # p_y = 0.8, b = 0, R = 200: sig(sqrt(200) * (0.5 - 0.8) / sqrt(2 * 0.8 * 0.2)).
    value = binomial_loss(np.array([[0.6]]), np.array([0.0]), np.array([1.0]), 200)[0]
    assert value == pytest.approx(1 / (1 + np.exp(-np.sqrt(200) * -0.3 / np.sqrt(0.32))), rel=1e-12)


# --- variational classifier: the paper ------------------------------------------------
def test_variational_classifier_reproduces_paper():
    """Depth 4, SPSA 250 iterations, 5 restarts: >= 0.95 on >= 4 of 5 seeds; depth 0 does worse than depth 1 and 4."""
    accuracy = {0: [], 1: [], 4: []}
    for seed in range(5):
        x_train, y_train, x_test, y_test = ad_hoc_data(20, 20, seed=seed)
        for depth in accuracy:
            clf = VariationalClassifier(reps=depth, maxiter=250, n_restarts=5, random_state=seed).fit(x_train, y_train)
            accuracy[depth].append(clf.score(x_test, y_test))
    assert sum(a >= 0.95 for a in accuracy[4]) >= 4
    assert np.mean(accuracy[0]) + 0.05 < min(np.mean(accuracy[1]), np.mean(accuracy[4]))


@pytest.mark.parametrize("optimizer, loss", [("adam", "binomial"), ("lbfgs", "cross_entropy")])
def test_gradient_optimizers(adhoc, optimizer, loss):
    x_train, y_train, x_test, y_test = adhoc
    clf = VariationalClassifier(reps=2, optimizer=optimizer, loss=loss, maxiter=60, n_restarts=2, random_state=0).fit(x_train, y_train)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.score(x_test, y_test) >= 0.9


def test_one_vs_rest_multiclass():
    rng = np.random.default_rng(0)
    centers = np.array([[0.5, 0.5], [2.5, 0.5], [0.5, 2.5]])
    y = np.repeat([0, 1, 2], 15)
    x = centers[y] + 0.2 * rng.normal(size=(45, 2))
    clf = VariationalClassifier(reps=2, optimizer="lbfgs", loss="cross_entropy", maxiter=50, n_restarts=2, random_state=0).fit(x, y)
    assert clf.weights_.shape == (3, 12) and clf.bias_.shape == (3,)
    assert clf.decision_function(x).shape == (45, 3)
    assert clf.score(x, y) >= 0.8


def test_shots_and_callback(adhoc):
    x_train, y_train, x_test, y_test = adhoc
    seen = []
    exact = VariationalClassifier(reps=2, maxiter=60, n_restarts=2, random_state=1, callback=lambda i, v: seen.append((i, v.shape))).fit(x_train, y_train)
    assert seen == [(i, (2,)) for i in range(60)]
    sampled = VariationalClassifier(reps=2, maxiter=60, n_restarts=2, random_state=1, shots=2000, verbose=True).fit(x_train, y_train)
    # With R = 2000 shots, decision values of the exact model are reproduced within a few sigma.
    noisy = exact.set_params(shots=2000).decision_function(x_test)
    exact.set_params(shots=None)
    assert np.abs(noisy - exact.decision_function(x_test)).max() < 5 * np.sqrt(1 / 2000)
    assert abs(sampled.score(x_test, y_test) - exact.score(x_test, y_test)) <= 0.15


def test_end_to_end_on_pennylane_device():
    qml = pytest.importorskip("pennylane")
    from qmlsim.simulators import PennyLaneExecutor

    x_train, y_train, x_test, y_test = ad_hoc_data(6, 6, seed=0)
    device = PennyLaneExecutor(qml.device("default.qubit", wires=2))
    ours = VariationalClassifier(reps=1, maxiter=15, random_state=0).fit(x_train, y_train)
    theirs = VariationalClassifier(reps=1, maxiter=15, random_state=0, device=device).fit(x_train, y_train)
    np.testing.assert_allclose(theirs.weights_, ours.weights_, atol=1e-6)
    np.testing.assert_allclose(theirs.decision_function(x_test), ours.decision_function(x_test), atol=1e-6)
    qsvc = QSVC(kernel=FidelityQuantumKernel(device=device)).fit(x_train, y_train)
    assert qsvc.score(x_test, y_test) == QSVC().fit(x_train, y_train).score(x_test, y_test)


# --- bad input ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, message",
    [
        (dict(optimizer="sgd"), "unknown optimizer 'sgd'"),
        (dict(loss="hinge"), "unknown loss 'hinge'"),
        (dict(n_restarts=0), "n_restarts"),
        (dict(maxiter=-1), "maxiter"),
        (dict(shots=0), "shots"),
        (dict(reps=-1), "reps"),
    ],
)
def test_bad_parameters_fail_before_any_circuit_runs(adhoc, params, message):
    device = Recording()
    with pytest.raises(ValueError, match=message):
        VariationalClassifier(device=device, **params).fit(adhoc[0], adhoc[1])
    assert device.calls == []


@pytest.mark.parametrize("estimator", [QSVC(), VariationalClassifier(reps=1, maxiter=2, learning_rate=0.1)])
def test_bad_data(adhoc, estimator):
    x_train, y_train = adhoc[0], adhoc[1]
    bad = x_train.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        estimator.fit(bad, y_train)
    estimator.fit(x_train, y_train)
    with pytest.raises(ValueError, match="features"):
        estimator.predict(np.ones((3, 3)))
    with pytest.raises(ValueError, match="at least 2 classes|one class|number of classes"):
        type(estimator)().fit(x_train, np.zeros(len(x_train)))


@pytest.mark.slow
def test_havlicek_experiment_quick(tmp_path):
    from qmlsim.qml.havlicek import run_experiment

    lines = []
    results = run_experiment(str(tmp_path), quick=True, echo=lines.append, progress=False)
    assert (tmp_path / "havlicek.json").exists() and (tmp_path / "havlicek.png").stat().st_size > 10_000
    assert np.mean([r["exact_test"] for r in results["kernel"]]) >= 0.97
    assert "Variational classifier" in lines[0]


@pytest.mark.slow
def test_variational_classifier_on_fake_ibm_backend():
    pytest.importorskip("qiskit_ibm_runtime")
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    from qmlsim.simulators import QiskitExecutor

    ex = QiskitExecutor(FakeManilaV2(), shots=4000, seed=1, journal=False)
    x_train, y_train, x_test, y_test = ad_hoc_data(8, 8, seed=0)
    exact = VariationalClassifier(reps=1, maxiter=100, n_restarts=3, random_state=0).fit(x_train, y_train)
    on_hardware = exact.decision_function(x_test)
    exact_values = on_hardware.copy()
    on_hardware = exact.set_params(device=ex).decision_function(x_test)
    # Readout and gate noise shrink <Z Z> toward 0; the signs (the predictions) mostly survive.
    assert np.mean(np.sign(on_hardware) == np.sign(exact_values)) >= 0.8
    trained = VariationalClassifier(reps=1, maxiter=3, learning_rate=0.2, random_state=0, device=ex).fit(x_train, y_train)
    assert trained.loss_curve_.shape == (3,) and ex.submissions >= 4
