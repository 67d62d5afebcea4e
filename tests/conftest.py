"""Test-wide settings: Hypothesis profiles, the backend fixture, the JAX-configuration guard.

Every property test is reproducible: under CI (``CI`` set) examples are derandomized;
locally ``HYPOTHESIS_PROFILE=dev`` (default) keeps Hypothesis' search random but
without wall-clock deadlines, which JIT compilation would trip.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, derandomize=True, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


import sys  # noqa: E402

# Tests decide which kernels run: a Simulator(kernels="auto") compiles the numba kernels on
# first use here instead of running the array kernels while a background build runs
# (that mode has its own tests in tests/simulators/test_background_build.py).
os.environ.setdefault("QMLSIM_COMPILE", "inline")


def _compile_jax_without_llvm_optimiser() -> None:
    """The default run compiles hundreds of small JAX programs once each; LLVM's optimiser is
    a quarter of that time (67 s against 51 s on the JAX-heavy files, 2 cores) and changes
    no result a test checks. ``-m slow`` runs (the long harness profile) keep XLA's default
    pipeline, and so does ``QMLSIM_TEST_XLA_DEFAULT=1``. Only this test process is affected.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):  # a worker inherits the controller's environment
        return
    selected = " ".join(sys.argv)
    if os.environ.get("QMLSIM_TEST_XLA_DEFAULT") or ("slow" in selected and "not slow" not in selected):
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_optimization_level" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_backend_optimization_level=0".strip()


_compile_jax_without_llvm_optimiser()

import pytest  # noqa: E402

from tests.backends import BACKEND_SPECS, SPEC_IDS  # noqa: E402


@pytest.fixture(autouse=True)
def _global_jax_configuration_unchanged():
    """No qmlsim call (and no test) may switch JAX's process-wide x64 flag: each test must leave it as it found it."""
    jax = sys.modules.get("jax")
    before = None if jax is None else bool(jax.config.jax_enable_x64)
    yield
    jax = sys.modules.get("jax")
    if jax is not None and before is not None:
        assert bool(jax.config.jax_enable_x64) == before, "jax_enable_x64 was changed process-wide during this test"


@pytest.fixture(params=BACKEND_SPECS, ids=SPEC_IDS)
def backend_spec(request) -> tuple[str, str]:
    """Every backend and dtype of ``tests/backends.py``: ``(name, dtype)``."""
    return request.param


def pytest_sessionstart(session):
    """With an empty kernel cache, compile the numba kernels once (one process per dtype) before the workers start.

    Without this every xdist worker compiles the same kernels (``QMLSIM_COMPILE=inline``),
    which on 2 cores cost about a minute of the cold run.
    """
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller has done it
        return
    from qmlsim.simulators import fast
    from qmlsim.simulators.fast import background

    if not fast.available():
        return
    missing = [d for d in background.BUILD_ORDER if not background.marker_path(d).exists()]
    if not missing:
        return
    import time

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"qmlsim: compiling the numba kernels once for {', '.join(missing)} (about a minute on 2 cores)")
    start = time.perf_counter()
    background.build_in_parallel(tuple(missing))
    if reporter is not None:
        reporter.write_line(f"qmlsim: kernels compiled in {time.perf_counter() - start:.0f} s")


# Tests that take many seconds each (JAX compiles): started first, so that no worker is
# left running one of them while the other has finished (measured with --durations).
_HEAVY_FIRST = ("jax-scan", "reproduces_paper", "hqkan_classifier_and_baselines", "qkan.md", "circuit_method_agrees")


# The heaviest single cases whose siblings (other backends, sizes or checks) stay in the
# default run: marked slow, so that they run in CI's slow step (measured with --durations,
# 7-10 s each on 2 cores; the default run is to stay under 4 minutes).
_SLOW_CASES = (
    "test_gradients_reference.py::test_every_parametric_gate[jax-complex128-backprop]",
    "test_gradients_reference.py::test_random_circuits[jax-complex128-backprop]",
    "test_executor_conformance.py::test_parameter_shift_jacobian[simulator-jax-weights]",
    "test_sklearn_checks.py::test_qkan_infers_its_width_and_clones",
    "test_sklearn_checks.py::test_hqkan_is_a_classifier_or_regressor_by_its_loss",
    "test_qkan.py::test_adjoint_backward_equals_autodiff[pz-born]",
    "test_linear_solvers.py::test_qsvt_random_well_conditioned_systems[8]",
    "test_rl.py::test_acting_step_by_step_equals_the_sequence_used_for_updates[qfwp]",
    "test_dask_executor.py::test_a_killed_worker_costs_only_its_tasks",  # starts a two-process cluster
)


@pytest.hookimpl(tryfirst=True)  # before the -m filter reads the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(item.nodeid.endswith(case) for case in _SLOW_CASES):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: not any(mark in item.nodeid for mark in _HEAVY_FIRST))
