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


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: not any(mark in item.nodeid for mark in _HEAVY_FIRST))
