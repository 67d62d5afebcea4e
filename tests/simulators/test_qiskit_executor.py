"""QiskitExecutor on AerSimulator and the fake IBM backend FakeManilaV2 against qmlsim's Simulator
(itself tested against Qiskit's Statevector), within sampling error."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("qiskit_aer")

from qiskit_aer import AerSimulator  # noqa: E402

from qmlsim.circuits import Circuit, Hermitian, X, Y, Z  # noqa: E402
from qmlsim.circuits.templates import hardware_efficient_ansatz, zz_feature_map  # noqa: E402
from qmlsim.simulators import Executor, QiskitExecutor, Simulator  # noqa: E402

SHOTS = 4000


def _model(num_wires: int = 3) -> Circuit:
    c = zz_feature_map(num_wires, reps=1)
    c.compose(hardware_efficient_ansatz(num_wires, layers=1))
    return c


def _data(c: Circuit, rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0, np.pi, (rows, c.num_inputs)), rng.uniform(-np.pi, np.pi, c.num_weights)


def _aer(**options) -> QiskitExecutor:
    return QiskitExecutor(AerSimulator(seed_simulator=11), shots=SHOTS, seed=11, journal=False, **options)


def test_is_an_executor():
    assert isinstance(_aer(), Executor)


def test_expval_matches_simulator_within_standard_errors():
    c = _model()
    x, w = _data(c, 5, 0)
    obs = [Z(0) @ Z(1), 0.5 * X(2) + Y(0), Hermitian(np.array([[1.0, 0.5], [0.5, -1.0]]), (1,))]
    values, stderr = _aer().expval_with_error(c, obs, x=x, weights=w)
    reference = Simulator().expval(c, obs, x=x, weights=w)
    assert values.shape == stderr.shape == (5, 3)
    assert np.all(stderr > 0)
    np.testing.assert_array_less(np.abs(values - reference), 5 * stderr)
    single = _aer().expval(c, Z(0), x=x[0], weights=w)
    assert np.ndim(single) == 0
    assert abs(single - Simulator().expval(c, Z(0), x=x[0], weights=w)) < 5 / np.sqrt(SHOTS)


def test_probs_match_simulator_within_sampling_error_in_wire_order():
    c = _model()
    x, w = _data(c, 3, 1)
    for wires in (None, [2, 0]):
        p, err = _aer().probs_with_error(c, x=x, weights=w, wires=wires)
        reference = Simulator().probs(c, x=x, weights=w, wires=wires)
        assert p.shape == reference.shape
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
        np.testing.assert_array_less(np.abs(p - reference), 5 * np.sqrt(reference * (1 - reference) / SHOTS) + 2e-3)
        np.testing.assert_allclose(err, np.sqrt(p * (1 - p) / SHOTS))


def test_sample_bits_are_in_wire_order():
    c = Circuit(3)
    x = c.inputs(1)
    c.rx(x[0], 0).x(2)
    bits = _aer().sample(c, 50, x=np.array([[np.pi], [0.0]]))
    assert bits.shape == (2, 50, 3)
    assert (bits[0] == [1, 0, 1]).all() and (bits[1] == [0, 0, 1]).all()
    assert _aer().sample(c, 7, x=np.array([np.pi])).shape == (7, 3)
    assert (_aer().sample(c, 5, x=np.array([np.pi]), wires=[2, 1]) == [1, 0]).all()


def test_rows_go_out_as_one_sweep_unless_limits_split_them():
    c = _model()
    x, w = _data(c, 20, 2)
    events: list[dict] = []
    ex = _aer(callback=events.append)
    ex.probs(c, x=x, weights=w)
    assert ex.submissions == 1
    assert [e["event"] for e in events][0] == "submitted" and events[-1]["event"] == "done"
    split = _aer(max_rows_per_job=6)
    p = split.probs(c, x=x, weights=w)
    assert split.submissions == 4
    reference = Simulator().probs(c, x=x, weights=w)
    np.testing.assert_array_less(np.abs(p - reference), 5 * np.sqrt(reference * (1 - reference) / SHOTS) + 2e-3)
    capped = _aer(max_executions_per_job=5 * SHOTS)
    capped.expval(c, [Z(0), Z(1)], x=x, weights=w)
    assert capped.submissions == 10  # 2 observables x SHOTS per row: 2 rows per job


def test_parametrised_controlled_rotations_on_aer():
    # Aer 0.18 mis-applies sweep-bound crx/cry/crz/cp; the executor must translate them away
    c = Circuit(2)
    x = c.inputs(4)
    c.ry(x[0], 0).h(1).crx(x[1], 0, 1).cry(x[2], 0, 1).crz(x[3], 1, 0).cp(x[1] + x[2], 0, 1)
    xs = np.random.default_rng(8).uniform(-2, 2, (3, 4))
    obs = [Z(1), X(1), Y(0) @ X(1)]
    ex = QiskitExecutor(AerSimulator(), shots=10**6, seed=2, journal=False)
    np.testing.assert_allclose(ex.expval(c, obs, x=xs), Simulator().expval(c, obs, x=xs), atol=6e-3)
    p = _aer().probs(c, x=xs)
    reference = Simulator().probs(c, x=xs)
    np.testing.assert_array_less(np.abs(p - reference), 5 * np.sqrt(reference * (1 - reference) / SHOTS) + 2e-3)


def test_transpiles_once_per_structure():
    c = _model()
    x, w = _data(c, 2, 3)
    ex = _aer()
    ex.expval(c, Z(0), x=x, weights=w)
    ex.expval(c, Z(1), x=x[:1], weights=w + 1.0)
    assert len(ex._compiled) == 1


@pytest.mark.parametrize("argnum", ["weights", "x"])
def test_parameter_shift_jacobian_matches_adjoint(argnum):
    c = Circuit(2)
    x = c.inputs(2)
    w = c.weights(4)
    c.ry(2 * x[0], 0).rx(x[1] * w[0], 1).crx(w[1], 0, 1).rot(w[2], x[0], w[3], 1).cx(1, 0)
    rng = np.random.default_rng(4)
    xs, ws = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, 4)
    obs = [Z(0), X(1) @ Z(0)]
    # Aer's estimator adds Gaussian noise of size 1/sqrt(shots): many shots cost nothing there
    ex = QiskitExecutor(AerSimulator(), shots=10**6, seed=3, journal=False, max_executions_per_job=10**12)
    jac = ex.jacobian(c, obs, x=xs, weights=ws, argnum=argnum)
    reference = Simulator().jacobian(c, obs, x=xs, weights=ws, method="adjoint", argnum=argnum)
    assert jac.shape == reference.shape
    np.testing.assert_allclose(jac, reference, atol=0.02)
    assert ex.submissions == 1
    one = ex.jacobian(c, Z(0), x=xs[0], weights=ws, argnum=argnum)
    assert one.shape == reference[0, 0].shape
    # at 4000 shots the errors are honest: deviations within a few standard errors
    few = QiskitExecutor(AerSimulator(), shots=SHOTS, seed=5, journal=False)
    jac, err = few.jacobian_with_error(c, obs, x=xs, weights=ws, argnum=argnum)
    assert err.shape == jac.shape and np.all(err[reference != 0] > 0)
    np.testing.assert_array_less(np.abs(jac - reference), 5 * err + 1e-9)


def test_fake_manila_runs_hardware_native_circuits_close_to_ideal():
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    backend = FakeManilaV2()
    c = Circuit(2)
    x = c.inputs(1)
    c.ry(x[0], 0).cx(0, 1).x(1)  # <Z1> = -<Z0> = -cos(x): a swapped wire order flips signs
    xs = np.array([[0.3], [2.6]])
    ex = QiskitExecutor(backend, shots=SHOTS, seed=5, journal=False)
    values = ex.expval(c, [Z(0), Z(1)], x=xs)
    compiled = next(iter(ex._compiled.values())).circuit
    assert {i.operation.name for i in compiled.data} <= set(backend.target.operation_names) | {"barrier"}
    # Manila's noise (readout and CX errors) moves these values by up to about 0.15
    np.testing.assert_allclose(values, Simulator().expval(c, [Z(0), Z(1)], x=xs), atol=0.25)
    bits = ex.sample(c, SHOTS, x=np.array([np.pi]))
    np.testing.assert_allclose(bits.mean(axis=0), [1.0, 0.0], atol=0.15)


def test_bad_input_gets_clear_errors():
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    from qmlsim.simulators.executors.qiskit_backends import check_supported as _check_supported

    c = _model()
    x, w = _data(c, 2, 5)
    ex = _aer()
    with pytest.raises(TypeError, match="BackendV2"):
        QiskitExecutor("aer")
    with pytest.raises(TypeError, match="BaseSamplerV2"):
        QiskitExecutor(AerSimulator(), sampler=object(), journal=False)
    with pytest.raises(ValueError, match="shots"):
        QiskitExecutor(AerSimulator(), shots=0, journal=False)
    with pytest.raises(ValueError, match="has 5 qubits"):
        QiskitExecutor(FakeManilaV2(), journal=False).probs(Circuit(6).h(0))
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        ex.probs(c, x=np.zeros((2, 2)), weights=w)
    with pytest.raises(ValueError, match="weights"):
        ex.probs(c, x=x)
    with pytest.raises(TypeError, match="Observables"):
        ex.expval(c, "Z0", x=x, weights=w)
    with pytest.raises(ValueError, match="wire"):
        ex.expval(c, Z(7), x=x, weights=w)
    with pytest.raises(ValueError, match="parameter-shift"):
        ex.jacobian(c, Z(0), x=x, weights=w, method="adjoint")
    # a circuit transpiled for Aer (any gate) is not native to Manila
    aer_isa = next(iter(_compiled_for(ex, c).values())).circuit
    with pytest.raises(ValueError, match="does not support"):
        _check_supported(aer_isa, FakeManilaV2().target, "fake_manila")


def _compiled_for(ex: QiskitExecutor, c: Circuit) -> dict:
    x, w = _data(c, 1, 6)
    ex.expval(c, Z(0), x=x, weights=w)
    return ex._compiled


def test_fidelity_kernel_runs_on_the_executor_as_one_job():
    kernels = pytest.importorskip("qmlsim.qml.kernels")
    x = np.random.default_rng(9).uniform(0, np.pi, (4, 2))
    ex = _aer()
    gram = kernels.FidelityQuantumKernel(device=ex).matrix(x)
    exact = kernels.FidelityQuantumKernel().matrix(x)
    assert ex.submissions == 1
    np.testing.assert_allclose(gram, exact, atol=5 * 0.5 / np.sqrt(SHOTS))


def test_runtime_batch_and_session_modes_with_a_fake_backend():
    runtime = pytest.importorskip("qiskit_ibm_runtime")
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    backend = FakeManilaV2()
    c = Circuit(2)
    x = c.inputs(1)
    c.ry(x[0], 0).cx(0, 1)
    for mode_cls in (runtime.Batch, runtime.Session):
        with mode_cls(backend=backend) as mode:
            ex = QiskitExecutor(backend, shots=1000, mode=mode, seed=3, journal=False)
            values = ex.expval(c, Z(1), x=np.array([[0.0], [np.pi]]))
        np.testing.assert_allclose(values, [1.0, -1.0], atol=0.2)
        assert ex.submissions == 1


@pytest.mark.filterwarnings("ignore:Qiskit backend:UserWarning")
def test_any_backend_v2_through_qiskit_backend_primitives():
    from qiskit.providers.fake_provider import GenericBackendV2

    backend = GenericBackendV2(num_qubits=3, noise_info=False, seed=4)
    c = _model()
    x, w = _data(c, 3, 10)
    ex = QiskitExecutor(backend, shots=SHOTS, seed=4, journal=False)
    values, stderr = ex.expval_with_error(c, [Z(0), X(1) @ Z(2)], x=x, weights=w)
    np.testing.assert_array_less(np.abs(values - Simulator().expval(c, [Z(0), X(1) @ Z(2)], x=x, weights=w)), 5 * stderr + 1e-3)
    p = ex.probs(c, x=x, weights=w)
    reference = Simulator().probs(c, x=x, weights=w)
    np.testing.assert_array_less(np.abs(p - reference), 5 * np.sqrt(reference * (1 - reference) / SHOTS) + 2e-3)
    assert ex.submissions == 2


def test_default_journal_only_for_remote_backends():
    from qiskit.providers.fake_provider import GenericBackendV2
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    assert QiskitExecutor(AerSimulator()).journal is None
    assert QiskitExecutor(FakeManilaV2()).journal is None
    remote_like = QiskitExecutor(GenericBackendV2(num_qubits=2, seed=1))
    assert remote_like.journal is not None and not remote_like.journal.path.exists()  # created on first job


def test_circuits_without_parameters_over_several_rows():
    c = Circuit(2)
    c.h(0).cx(0, 1)
    rows = np.zeros((3, 0))
    p = _aer().probs(c, x=rows)
    np.testing.assert_array_less(np.abs(p - [0.5, 0, 0, 0.5]), 5 * 0.5 / np.sqrt(SHOTS))
    bits = _aer().sample(c, 10, x=rows)
    assert bits.shape == (3, 10, 2) and (bits[..., 0] == bits[..., 1]).all()
    values = _aer().expval(c, [Z(0) @ Z(1), X(0) @ X(1)], x=rows)
    assert values.shape == (3, 2)
    np.testing.assert_allclose(values, 1.0, atol=5 / np.sqrt(SHOTS))


def test_models_share_the_executor_instead_of_copying_it():
    import copy

    ex = _aer()
    assert copy.deepcopy(ex) is ex
    assert copy.deepcopy({"device": ex})["device"] is ex


def test_ibm_backends_use_the_client_side_primitives_without_deprecation_warnings(tmp_path):
    import warnings

    runtime = pytest.importorskip("qiskit_ibm_runtime")
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    from qmlsim.simulators.executors.journal import Journal

    has_executor = hasattr(runtime, "executor_sampler") or _importable("qiskit_ibm_runtime.executor_sampler")
    c = Circuit(2)
    x = c.inputs(1)
    c.ry(x[0], 0).cx(0, 1)
    path = tmp_path / "fake.jsonl"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex = QiskitExecutor(FakeManilaV2(), shots=1000, seed=3, journal=path)
        values = ex.expval(c, Z(1), x=np.array([[0.0], [np.pi]]))
        bits = ex.sample(c, 500, x=np.array([np.pi]))
    deprecations = [
        w for w in caught
        if issubclass(w.category, DeprecationWarning)
        and any(word in str(w.message) + w.filename for word in ("qiskit-ibm-runtime", "qiskit_ibm_runtime"))
    ]
    assert not deprecations, [str(w.message) for w in deprecations]
    np.testing.assert_allclose(values, [1.0, -1.0], atol=0.2)
    np.testing.assert_allclose(bits.mean(axis=0), [1.0, 1.0], atol=0.15)
    sampler, estimator = ex._primitives[3]
    if has_executor:
        assert type(sampler).__module__.startswith("qiskit_ibm_runtime.executor_sampler")
        assert type(estimator).__module__.startswith("qiskit_ibm_runtime.executor_estimator")
    assert len(Journal(path).jobs()) == 2 and all(j["status"] == "done" for j in Journal(path).jobs())


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False
