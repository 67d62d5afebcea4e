"""DaskExecutor on a LocalCluster of two single-threaded worker processes: equal to the single-process Simulator.

The executor conformance suite (test_executor_conformance.py) runs it against the dense
reference too; here: bit-for-bit agreement with ``Simulator`` (states, Jacobians, seeded
samples), a worker killed mid-computation, and the checks made before any work.
"""
from __future__ import annotations

import atexit
import os
import signal
import threading
import time

import numpy as np
import pytest

pytest.importorskip("distributed")

from qmlsim.circuits import Circuit, X, Z  # noqa: E402
from qmlsim.circuits.templates import hardware_efficient_ansatz  # noqa: E402
from qmlsim.simulators import DaskExecutor, Simulator  # noqa: E402
from qmlsim.simulators.executors import dask_executor  # noqa: E402

_CLIENT: list = []


def local_client():
    """One two-worker LocalCluster per test process, closed at exit."""
    if not _CLIENT:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster, set_as_default=False)
        _CLIENT.append(client)
        atexit.register(lambda: (client.close(), cluster.close()))
    return _CLIENT[0]


def _circuit() -> Circuit:
    c = Circuit(4)
    x, w = c.inputs(2), c.weights(3)
    c.ry(x[0], 0).rx(x[1] * w[0], 1).cx(0, 2).crz(w[1], 2, 3).ry(w[2], 3).cz(3, 1).h(2)
    return c


ROWS = np.random.default_rng(0).normal(size=(13, 2))
WEIGHTS = np.array([0.3, -0.7, 1.1])


@pytest.mark.parametrize("rows_per_task", [1, 4, None])
def test_equal_to_the_single_process_simulator(rows_per_task):
    dask, local = DaskExecutor(local_client(), rows_per_task=rows_per_task), Simulator()
    c, obs = _circuit(), [Z(0) @ Z(3), X(2) - 0.5 * Z(1)]
    np.testing.assert_allclose(dask.statevector(c, x=ROWS, weights=WEIGHTS), local.statevector(c, x=ROWS, weights=WEIGHTS), atol=1e-12)
    np.testing.assert_allclose(dask.expval(c, obs, x=ROWS, weights=WEIGHTS), local.expval(c, obs, x=ROWS, weights=WEIGHTS), atol=1e-12)
    for argnum in ("weights", "x"):
        np.testing.assert_allclose(
            dask.jacobian(c, obs, x=ROWS, weights=WEIGHTS, argnum=argnum),
            local.jacobian(c, obs, x=ROWS, weights=WEIGHTS, argnum=argnum), atol=1e-12,
        )
    # seeds are per row, not per task: the split does not change the samples
    assert np.array_equal(dask.sample(c, 200, x=ROWS, weights=WEIGHTS, seed=11), local.sample(c, 200, x=ROWS, weights=WEIGHTS, seed=11))


def test_large_inputs_are_scattered_to_the_workers_first():
    """At least 1 MiB of input rows (70,000 x 2 here) goes to the workers by ``client.scatter``, one
    future per task, instead of inside the task graph; results are unchanged."""
    client = local_client()
    rows = np.random.default_rng(4).normal(size=(70_000, 2))
    assert rows.nbytes >= dask_executor._SCATTER_BYTES
    scattered = []
    original = client.scatter

    def spy(data, *args, **kwargs):
        scattered.append(data)
        return original(data, *args, **kwargs)

    client.scatter = spy
    try:
        got = DaskExecutor(client, rows_per_task=30_000).expval(_circuit(), Z(0) @ Z(3), x=rows, weights=WEIGHTS)
    finally:
        del client.scatter
    blocks = [d for d in scattered if isinstance(d, list) and d and isinstance(d[0], np.ndarray)]
    assert [b.shape[0] for b in blocks[0]] == [30_000, 30_000, 10_000]
    np.testing.assert_allclose(got, Simulator().expval(_circuit(), Z(0) @ Z(3), x=rows, weights=WEIGHTS), atol=1e-12)


def test_shot_expval_does_not_depend_on_the_split():
    c = _circuit()
    one = DaskExecutor(local_client(), rows_per_task=1).expval(c, Z(0), x=ROWS, weights=WEIGHTS, shots=500, seed=3)
    five = DaskExecutor(local_client(), rows_per_task=5).expval(c, Z(0), x=ROWS, weights=WEIGHTS, shots=500, seed=3)
    assert np.array_equal(one, five)
    exact = Simulator().expval(c, Z(0), x=ROWS, weights=WEIGHTS)
    assert np.abs(one - exact).max() < 0.25  # 500 shots: standard error <= 0.045


def test_a_killed_worker_costs_only_its_tasks():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as client:
        c = Circuit(14)
        x = c.inputs(1)
        c.ry(x[0], 0)
        c.compose(hardware_efficient_ansatz(14, 12))
        weights = np.random.default_rng(1).normal(size=c.num_weights)
        rows = np.random.default_rng(2).normal(size=(200, 1))
        dask = DaskExecutor(client, rows_per_task=1)
        victim = sorted(client.run(os.getpid).values())[0]
        result = {}
        thread = threading.Thread(target=lambda: result.setdefault("states", dask.statevector(c, x=rows, weights=weights)))
        thread.start()
        time.sleep(1.0)  # some tasks done, some running, most queued
        assert thread.is_alive(), "the work finished before the kill: make it larger"
        os.kill(victim, signal.SIGKILL)
        thread.join(timeout=300)
        assert not thread.is_alive() and "states" in result
        np.testing.assert_array_equal(result["states"], Simulator().statevector(c, x=rows, weights=weights))


class _FakeClient:
    def __init__(self, versions):
        self.versions = versions

    def run(self, fn):
        return self.versions


def test_workers_are_checked_before_any_work():
    import qmlsim

    here = dask_executor._worker_versions()
    with pytest.raises(RuntimeError, match="qmlsim is not installed on Dask worker tcp://a"):
        DaskExecutor._check_workers(_FakeClient({"tcp://a": {**here, "qmlsim": None}}))
    with pytest.raises(RuntimeError, match="version mismatch: qmlsim 0.0.1 on worker tcp://b"):
        DaskExecutor._check_workers(_FakeClient({"tcp://b": {**here, "qmlsim": "0.0.1"}}))
    with pytest.raises(RuntimeError, match="no workers"):
        DaskExecutor._check_workers(_FakeClient({}))
    DaskExecutor._check_workers(_FakeClient({"tcp://c": here}))
    assert here["qmlsim"] == qmlsim.__version__


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(ConnectionError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        dask_executor.connect("tcp://127.0.0.1:9", timeout=1.0)


@pytest.mark.slow
def test_havlicek_sweep_on_a_scheduler_equals_the_local_sweep():
    from qmlsim.qml import havlicek

    cfg = {**havlicek.QUICK, "kernel_seeds": [0, 1], "kernel_shots": 200, "vqc_seeds": [0], "vqc_depths": [0, 1],
           "vqc_maxiter": 5, "vqc_restarts": 1}

    local = havlicek._sweep(cfg, None, progress=False)
    remote = havlicek._sweep(cfg, local_client().scheduler.address, progress=False)
    for ours, theirs in zip(local[0] + local[1], remote[0] + remote[1]):
        assert {k: v for k, v in ours.items() if k != "seconds"} == {k: v for k, v in theirs.items() if k != "seconds"}


def test_bad_arguments_are_refused_before_submitting():
    dask = DaskExecutor(local_client())
    with pytest.raises(ValueError, match="rows_per_task"):
        DaskExecutor(local_client(), rows_per_task=0)
    with pytest.raises(TypeError, match="executor"):
        DaskExecutor(local_client(), executor=object())
    with pytest.raises(ValueError):
        dask.expval(_circuit(), Z(0), x=np.zeros((3, 5)), weights=WEIGHTS)
    with pytest.raises(ValueError):
        dask.sample(_circuit(), 0, x=ROWS, weights=WEIGHTS)


def _features(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 2 * np.pi, size=(n, d))


@pytest.mark.parametrize("fast_path", [True, False])
def test_gram_matrices_equal_the_single_process_ones(fast_path):
    from qmlsim.circuits.templates import zz_feature_map
    from qmlsim.qml.kernels import FidelityQuantumKernel

    X, Y = _features(70, 4, 0), _features(23, 4, 1)
    local = FidelityQuantumKernel(zz_feature_map(4), fast_path=fast_path)
    dask = FidelityQuantumKernel(zz_feature_map(4), device=DaskExecutor(local_client()), fast_path=fast_path, batch_size=16)
    np.testing.assert_allclose(dask.matrix(X), local.matrix(X), atol=1e-12)
    np.testing.assert_allclose(dask.matrix(X, Y), local.matrix(X, Y), atol=1e-12)
    # repeated rows are simulated once, as on one machine
    repeated = np.vstack([X[:5], X[:5]])
    np.testing.assert_allclose(dask.matrix(repeated), local.matrix(repeated), atol=1e-12)


def test_gram_memory_is_checked_before_any_work():
    from qmlsim.circuits.templates import zz_feature_map

    dask = DaskExecutor(local_client())
    with pytest.raises(MemoryError, match="out="):
        dask.gram(zz_feature_map(2), _features(100, 2, 0), max_memory_bytes=1000)


def test_out_of_core_gram_is_written_by_tiles_and_resumes(tmp_path):
    import zarr

    from qmlsim.circuits.templates import zz_feature_map
    from qmlsim.qml.classifiers import QSVC
    from qmlsim.qml.kernels import FidelityQuantumKernel

    X = _features(90, 3, 2)
    y = (np.sin(X[:, 0]) * np.cos(X[:, 1]) > 0).astype(int)
    path = str(tmp_path / "gram.zarr")
    kernel = FidelityQuantumKernel(zz_feature_map(3), device=DaskExecutor(local_client()), batch_size=32)
    expected = FidelityQuantumKernel(zz_feature_map(3)).matrix(X)
    stored = kernel.matrix(X, out=path)
    np.testing.assert_allclose(stored[...], expected, atol=1e-12)
    group = zarr.open_group(path, mode="r+")
    assert group["done"][...].all() and group["done"].shape == (3, 3)
    # a finished tile is not computed again: spoil its values but leave it marked done
    group["gram"][32:64, 64:90] = -1.0
    np.testing.assert_array_equal(kernel.matrix(X, out=path)[32:64, 64:90], -1.0)
    # an interrupted tile (not marked done) is
    group["done"][1, 2] = False
    np.testing.assert_allclose(kernel.matrix(X, out=path)[...], expected, atol=1e-12)
    with pytest.raises(ValueError, match="different Gram matrix"):
        kernel.matrix(X[:50], out=path)
    # QSVC trains on the stored matrix
    from_store = QSVC(kernel="precomputed", C=5.0).fit(zarr.open_array(path + "/gram", mode="r"), y)
    direct = QSVC(kernel=FidelityQuantumKernel(zz_feature_map(3)), C=5.0).fit(X, y)
    np.testing.assert_array_equal(from_store.predict(expected[:20]), direct.predict(X[:20]))


def test_grid_search_under_the_dask_joblib_backend():
    import joblib
    from sklearn.model_selection import GridSearchCV

    from qmlsim.circuits.templates import zz_feature_map
    from qmlsim.qml.classifiers import QSVC
    from qmlsim.qml.kernels import FidelityQuantumKernel

    X = _features(60, 2, 3)
    y = (np.cos(X[:, 0] - X[:, 1]) > 0).astype(int)
    search = GridSearchCV(QSVC(kernel=FidelityQuantumKernel(zz_feature_map(2))), {"C": [0.1, 1.0, 10.0]}, cv=3)
    default = search.fit(X, y)
    best_default, scores_default = default.best_params_, default.cv_results_["mean_test_score"]
    with joblib.parallel_backend("dask", client=local_client()):
        distributed = GridSearchCV(QSVC(kernel=FidelityQuantumKernel(zz_feature_map(2))), {"C": [0.1, 1.0, 10.0]}, cv=3,
                                   n_jobs=-1).fit(X, y)
    assert distributed.best_params_ == best_default
    np.testing.assert_allclose(distributed.cv_results_["mean_test_score"], scores_default)


@pytest.mark.slow
def test_cross_val_score_of_the_variational_classifier_and_qkan_under_the_dask_backend():
    import joblib
    from sklearn.model_selection import cross_val_score

    from qmlsim.qml.classifiers import VariationalClassifier
    from qmlsim.qml.qkan import QKAN

    X = _features(36, 2, 4)
    y = (np.cos(X[:, 0] - X[:, 1]) > 0).astype(int)
    target = np.sin(X[:, 0]) * 0.5
    models = [
        (VariationalClassifier(reps=1, maxiter=10, n_restarts=1, random_state=0), y),
        (QKAN(width=[2, 1], reps=1, steps=15, seed=0), target),  # float32: workers do not enable JAX x64
    ]
    for model, labels in models:
        default = cross_val_score(model, X, labels, cv=3)
        with joblib.parallel_backend("dask", client=local_client()):
            distributed = cross_val_score(model, X, labels, cv=3, n_jobs=-1)
        np.testing.assert_allclose(distributed, default, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_cooling_sweep_on_a_scheduler_equals_the_local_sweep():
    from qmlsim.qml import cooling_experiment
    from qmlsim.qml.sweeps import run_sweep

    calls = [(cooling_experiment._cooling_run, (4, 1.0, 4)), (cooling_experiment._baseline_run, (4, "filtering", 50))]
    local = run_sweep(calls, progress=False)
    remote = run_sweep(calls, local_client().scheduler.address, progress=False)
    (row_here, trace_here), (row_there, trace_there) = local[0], remote[0]
    assert trace_here == trace_there and local[1] == remote[1]
    assert {k: v for k, v in row_here.items() if k != "seconds"} == {k: v for k, v in row_there.items() if k != "seconds"}
