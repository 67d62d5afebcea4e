"""Fidelity kernels against qiskit-machine-learning, a dense reference, the engine, and on executors without statevectors."""
import numpy as np
from sklearn.svm import SVC
import pytest

from qmlsim.circuits import Circuit
from qmlsim.circuits.templates import zz_feature_map
from qmlsim.qml.classifiers import QSVC
from qmlsim.qml.datasets import ad_hoc_data, ad_hoc_states
from qmlsim.qml.kernels import (
    FidelityQuantumKernel,
    TrainableFidelityQuantumKernel,
    compile_phase_program,
    compute_uncompute,
    kernel_target_alignment,
    phase_program_states,
    project_psd,
)
from qmlsim.simulators import Simulator

ATOL = 1e-10


class ProbsOnly:
    """An executor without statevectors (as hardware): forwards probs/sample to the simulator and counts calls."""

    def __init__(self):
        self.sim = Simulator()
        self.calls = []

    def probs(self, circuit, x=None, weights=None, wires=None):
        self.calls.append(("probs", None if x is None else np.shape(x)))
        return self.sim.probs(circuit, x=x, weights=weights, wires=wires)

    def sample(self, circuit, shots, x=None, weights=None, seed=None):
        self.calls.append(("sample", np.shape(x)))
        return self.sim.sample(circuit, shots, x=x, weights=weights, seed=seed)


def _random_phase_circuit(rng, n, depth):
    """H layers and diagonal gates, with CX/SWAP conjugations that cancel before every H."""
    c = Circuit(n)
    x = c.inputs(n)
    w = c.weights(2)
    for _ in range(depth):
        for q in range(n):
            c.h(q)
        for _ in range(4):
            kind = rng.integers(6)
            a, b = (int(v) for v in rng.choice(n, 2, replace=False))
            angle = x[a] * (1.3 - x[b]) + w[0] if kind < 3 else w[1] * x[a]
            if kind == 0:
                c.cx(a, b).rz(angle, b).cx(a, b)
            elif kind == 1:
                c.swap(a, b).p(angle, a).cz(a, b).t(b).swap(a, b)
            elif kind == 2:
                c.crz(angle, a, b).rzz(x[b], a, b)
            elif kind == 3:
                c.cp(angle, a, b).s(a).sdg(b).z(a)
            else:
                c.gate("rz", angle, a).gate("i", b)
    return c


@pytest.mark.parametrize("n, entanglement, reps", [(1, "full", 2), (2, "full", 2), (3, "linear", 3), (4, "circular", 1), (5, "full", 2)])
def test_phase_program_equals_engine_for_zz_maps(n, entanglement, reps):
    rng = np.random.default_rng(n)
    fm = zz_feature_map(n, reps=reps, entanglement=entanglement)
    x = rng.uniform(0, 2 * np.pi, (6, n))
    program = compile_phase_program(fm)
    assert program is not None
    np.testing.assert_allclose(phase_program_states(program, x), Simulator().statevector(fm, x=x), atol=ATOL)
    inverse = fm.inverse()
    np.testing.assert_allclose(phase_program_states(compile_phase_program(inverse), x), Simulator().statevector(inverse, x=x), atol=ATOL)


@pytest.mark.parametrize("seed", range(4))
def test_phase_program_equals_engine_for_random_diagonal_circuits(seed):
    rng = np.random.default_rng(seed)
    c = _random_phase_circuit(rng, 3, 3)
    x, w = rng.uniform(0, 2 * np.pi, (5, 3)), rng.normal(size=2)
    program = compile_phase_program(c)
    assert program is not None
    np.testing.assert_allclose(phase_program_states(program, x, w), Simulator().statevector(c, x=x, weights=w), atol=ATOL)


def test_phase_program_refuses_other_gates():
    c = Circuit(2)
    _ = c.h(0).rx(0.3, 1)
    assert compile_phase_program(c) is None
    c = Circuit(2)
    _ = c.h(0).cx(0, 1).h(1)  # CX not undone before a Hadamard
    assert compile_phase_program(c) is None
    c = Circuit(2)
    _ = c.h(0).cx(0, 1)  # nor at the end
    assert compile_phase_program(c) is None


def test_phase_program_under_jax_and_complex64():
    fm = zz_feature_map(3)
    x = np.random.default_rng(0).uniform(0, 2 * np.pi, (4, 3))
    ref = Simulator().statevector(fm, x=x)
    for device in (Simulator(backend="jax"), Simulator(dtype="complex64")):
        k = FidelityQuantumKernel(device=device)
        tol = 1e-5 if device.dtype == "complex64" else ATOL
        np.testing.assert_allclose(k.matrix(x), np.abs(ref.conj() @ ref.T) ** 2, atol=tol)


def _qiskit_kernel(n):
    qiskit_lib = pytest.importorskip("qiskit.circuit.library")
    kernels = pytest.importorskip("qiskit_machine_learning.kernels")
    return kernels.FidelityStatevectorKernel(feature_map=qiskit_lib.zz_feature_map(n, reps=2))


@pytest.mark.parametrize("n", [2, 3, 4])
def test_equals_qiskit_machine_learning_statevector_kernel(n):
    rng = np.random.default_rng(10 + n)
    x, y = rng.uniform(0, 2 * np.pi, (30, n)), rng.uniform(0, 2 * np.pi, (7, n))
    ref = _qiskit_kernel(n)
    k = FidelityQuantumKernel()
    # Qiskit numbers qubits little-endian and uses exp(-i ...): the states differ by a
    # qubit reversal and complex conjugation, the kernel values are identical.
    np.testing.assert_allclose(k.matrix(x), ref.evaluate(x), atol=ATOL)
    np.testing.assert_allclose(k(x, y), ref.evaluate(x, y), atol=ATOL)
    np.testing.assert_allclose(FidelityQuantumKernel(fast_path=False).matrix(x, y), ref.evaluate(x, y), atol=ATOL)


def test_equals_paper_states_from_dense_reference():
    x = np.random.default_rng(1).uniform(0, 2 * np.pi, (12, 2))
    states = ad_hoc_states(x)  # exp(+i ...), big-endian: the paper's convention
    np.testing.assert_allclose(FidelityQuantumKernel(feature_map=zz_feature_map(2, alpha=2.0)).matrix(x), np.abs(states.conj() @ states.T) ** 2, atol=ATOL)


def test_kernel_invariants_and_tiling():
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 2 * np.pi, (41, 3))
    x[7] = x[3]  # a duplicate row is simulated once and gets K = 1
    k = FidelityQuantumKernel().matrix(x)
    np.testing.assert_array_equal(k, k.T)
    np.testing.assert_allclose(np.diag(k), 1.0, atol=ATOL)
    assert k.min() >= 0 and k.max() <= 1 + ATOL
    assert np.linalg.eigvalsh(k).min() >= -ATOL
    assert k[3, 7] == pytest.approx(1.0, abs=ATOL)
    for batch_size in (1, 5, 40, 100):
        np.testing.assert_allclose(FidelityQuantumKernel(batch_size=batch_size).matrix(x), k, atol=1e-13)
        np.testing.assert_allclose(FidelityQuantumKernel(batch_size=batch_size).matrix(x, x[:9]), k[:, :9], atol=1e-13)


def test_compute_uncompute_on_executor_without_statevector():
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 2 * np.pi, (6, 2)), rng.uniform(0, 2 * np.pi, (4, 2))
    exact = FidelityQuantumKernel()
    device = ProbsOnly()
    k = FidelityQuantumKernel(device=device)
    np.testing.assert_allclose(k.matrix(x), exact.matrix(x), atol=ATOL)
    np.testing.assert_allclose(k.matrix(x, y), exact.matrix(x, y), atol=ATOL)
    # One batch per Gram matrix: the 15 distinct pairs i < j, then all 24 pairs.
    assert device.calls == [("probs", (15, 4)), ("probs", (24, 4))]
    c = compute_uncompute(zz_feature_map(2))
    assert c.num_inputs == 4 and len(c) == 2 * len(zz_feature_map(2))


def test_shot_estimates_are_binomial():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 2 * np.pi, (20, 2))
    exact = FidelityQuantumKernel().matrix(x)
    shots = 2000
    for device in (None, ProbsOnly()):
        k = FidelityQuantumKernel(device=device, shots=shots, seed=1, enforce_psd=False).matrix(x)
        np.testing.assert_array_equal(k, k.T)
        assert np.allclose(np.diag(k), 1.0)
        z = (k - exact)[np.triu_indices(20, 1)] / np.sqrt(exact * (1 - exact) / shots + 1e-12)[np.triu_indices(20, 1)]
        assert np.abs(z).max() < 5 and abs(z.mean()) < 0.5
        assert not np.array_equal(k, FidelityQuantumKernel(device=device, shots=shots, seed=2, enforce_psd=False).matrix(x))
    psd = FidelityQuantumKernel(shots=100, seed=0).matrix(x)
    assert np.linalg.eigvalsh(psd).min() >= -ATOL


def test_project_psd_is_nearest_psd():
    a = np.array([[1.0, 0.9, -0.6], [0.9, 1.0, 0.9], [-0.6, 0.9, 1.0]])
    p = project_psd(a)
    evals = np.linalg.eigvalsh(p)
    assert evals.min() >= -1e-12
    ref_vals, ref_vecs = np.linalg.eigh(a)
    np.testing.assert_allclose(p, ref_vecs @ np.diag(np.maximum(ref_vals, 0)) @ ref_vecs.T, atol=1e-12)


def test_pennylane_device_kernel():
    qml = pytest.importorskip("pennylane")
    from qmlsim.simulators import PennyLaneExecutor

    x = np.random.default_rng(4).uniform(0, 2 * np.pi, (5, 2))
    k = FidelityQuantumKernel(device=PennyLaneExecutor(qml.device("default.qubit", wires=2)))
    np.testing.assert_allclose(k.matrix(x), FidelityQuantumKernel().matrix(x), atol=1e-8)


def test_qsvc_reproduces_paper_exact_and_with_shots():
    exact, sampled = [], []
    for seed in range(10):
        x_train, y_train, x_test, y_test = ad_hoc_data(20, 20, n=2, gap=0.3, seed=seed)
        exact.append(QSVC(C=1.0).fit(x_train, y_train).score(x_test, y_test))
        sampled.append(QSVC(kernel=FidelityQuantumKernel(shots=50_000, seed=seed), C=1.0).fit(x_train, y_train).score(x_test, y_test))
    assert min(exact) >= 0.975 and np.mean(exact) >= 0.99
    assert np.mean(sampled) >= 0.99


def test_trainable_kernel_improves_alignment():
    x, y, _, _ = ad_hoc_data(8, 0, seed=0)
    k = TrainableFidelityQuantumKernel(maxiter=30, random_state=1).fit(x, y)
    assert k.weights_.shape == (2,)
    untrained = TrainableFidelityQuantumKernel(maxiter=0, random_state=1).fit(x, y)
    start = kernel_target_alignment(untrained.matrix(x), np.where(y == 1, 1, -1))
    end = kernel_target_alignment(k.matrix(x), np.where(y == 1, 1, -1))
    assert end > start
    # The trainable feature map's kernel equals a dense statevector computation.
    fm = k._feature_map_for(2)
    s = Simulator().statevector(fm, x=x, weights=k.weights_)
    np.testing.assert_allclose(k.matrix(x), np.abs(s.conj() @ s.T) ** 2, atol=ATOL)
    # QSVC trains its kernel, then decides exactly as scikit-learn's SVC on the reference Gram matrix
    x_test, _, _, _ = ad_hoc_data(6, 0, seed=5)
    qsvc = QSVC(kernel=TrainableFidelityQuantumKernel(maxiter=5, random_state=0), tol=1e-10).fit(x, y)
    s_train = Simulator().statevector(fm, x=x, weights=qsvc.kernel_.weights_)
    s_test = Simulator().statevector(fm, x=x_test, weights=qsvc.kernel_.weights_)
    reference = SVC(kernel="precomputed", tol=1e-10).fit(np.abs(s_train.conj() @ s_train.T) ** 2, y)
    test_gram = np.abs(s_test.conj() @ s_train.T) ** 2
    np.testing.assert_allclose(qsvc.decision_function(x_test), reference.decision_function(test_gram), atol=1e-6)
    assert np.array_equal(qsvc.predict(x_test), reference.predict(test_gram))


def test_kernel_target_alignment_closed_form():
    y = np.array([1.0, 1.0, -1.0])
    ideal = np.outer(y, y)
    assert kernel_target_alignment(ideal, y) == pytest.approx(1.0)
    assert kernel_target_alignment(np.eye(3), y) == pytest.approx(3 / (3 * np.sqrt(3)))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda k: k.matrix(np.array([[0.1, np.nan]])), ValueError, "NaN"),
        (lambda k: k.matrix(np.array([[0.1, np.inf]])), ValueError, "infinity"),
        (lambda k: k.matrix(np.ones((2, 2)), np.ones((2, 3))), ValueError, "same number of features"),
        (lambda k: FidelityQuantumKernel(feature_map=zz_feature_map(3)).matrix(np.ones((2, 2))), ValueError, "feature map takes 3"),
        (lambda k: FidelityQuantumKernel(feature_map="zz").matrix(np.ones((2, 2))), TypeError, "qmlsim Circuit"),
        (lambda k: FidelityQuantumKernel(shots=0).matrix(np.ones((2, 2))), ValueError, "shots"),
        (lambda k: FidelityQuantumKernel(device=object()).matrix(np.ones((2, 2))), TypeError, "device"),
        (lambda k: FidelityQuantumKernel(max_memory_bytes=10_000).matrix(np.ones((100, 2))), MemoryError, "kernel matrix"),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call(FidelityQuantumKernel())


def test_memory_error_raised_before_any_circuit_runs():
    device = ProbsOnly()
    with pytest.raises(MemoryError):
        FidelityQuantumKernel(device=device, max_memory_bytes=1000).matrix(np.ones((50, 2)))
    assert device.calls == []


def _qiskit_executor(backend_name, shots, seed):
    pytest.importorskip("qiskit_aer")
    from qmlsim.simulators import QiskitExecutor

    if backend_name == "aer":
        from qiskit_aer import AerSimulator

        backend = AerSimulator()
    else:
        from qiskit_ibm_runtime.fake_provider import FakeManilaV2

        backend = FakeManilaV2()
    return QiskitExecutor(backend, shots=shots, seed=seed, journal=False)


def test_qiskit_executor_kernel_one_job_within_sampling_error():
    ex = _qiskit_executor("aer", 4000, 3)
    x = np.random.default_rng(6).uniform(0, 2 * np.pi, (8, 2))
    exact = FidelityQuantumKernel().matrix(x)
    k = FidelityQuantumKernel(device=ex, enforce_psd=False).matrix(x)
    assert ex.submissions == 1  # all 28 pairs in one sweep
    sigma = np.sqrt(exact * (1 - exact) / 4000) + 1e-3
    assert (np.abs(k - exact) / sigma).max() < 5
    k = FidelityQuantumKernel(device=ex, shots=2000, seed=0).matrix(x, x[:3])
    assert ex.submissions == 2 and k.shape == (8, 3)


@pytest.mark.slow
def test_qsvc_on_fake_ibm_backend_matches_exact_accuracy():
    ex = _qiskit_executor("fake", 4000, 1)
    x_train, y_train, x_test, y_test = ad_hoc_data(8, 8, seed=0)
    hardware = QSVC(kernel=FidelityQuantumKernel(device=ex)).fit(x_train, y_train).score(x_test, y_test)
    exact = QSVC().fit(x_train, y_train).score(x_test, y_test)
    # 16 test points: one flipped prediction is 0.0625; the fake backend adds device noise.
    assert abs(hardware - exact) <= 0.125


def test_kernel_on_cupy_backend_standin():
    """The CuPy route (run on CPU by a stand-in that refuses host arrays mixed with device arrays)."""
    from qmlsim.simulators.backends import cupy_backend
    from tests.cupy_standin import make_cupy_standin

    device = Simulator(backend=cupy_backend(make_cupy_standin()))
    x = np.random.default_rng(8).uniform(0, 2 * np.pi, (9, 3))
    for fast_path in (True, False):
        k = FidelityQuantumKernel(device=device, fast_path=fast_path)
        np.testing.assert_allclose(k.matrix(x), FidelityQuantumKernel().matrix(x), atol=ATOL)
        np.testing.assert_allclose(k.matrix(x, x[:4]), FidelityQuantumKernel().matrix(x, x[:4]), atol=ATOL)
