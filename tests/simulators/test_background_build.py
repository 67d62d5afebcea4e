"""The cold start: ``kernels="auto"`` runs the array kernels while a background process compiles the numba ones."""
from __future__ import annotations

import numpy as np
import pytest

from qmlsim.circuits import Circuit, Z
from qmlsim.simulators import Simulator
from qmlsim.simulators.fast import background
from tests import reference as ref


@pytest.fixture
def cold(monkeypatch, tmp_path):
    """A machine whose kernels were never built: an empty marker directory, no build started yet."""
    monkeypatch.delenv("QMLSIM_COMPILE", raising=False)
    monkeypatch.setattr(background, "_cache_dir", lambda: tmp_path)
    monkeypatch.setattr(background, "_state", {"ready": set(), "last_check": {}, "process": None})
    started = []
    monkeypatch.setattr(background, "start_background_build", lambda: started.append(True))
    return started


def circuit() -> Circuit:
    c = Circuit(3)
    x, w = c.inputs(1), c.weights(2)
    c.h(0).ry(x[0], 1).cx(0, 2).rz(w[0], 2).crx(w[1], 2, 1)
    return c


def test_cold_calls_run_the_array_kernels_and_start_one_build(cold, monkeypatch):
    import qmlsim.simulators.simulator as simulator_module

    planned = []
    monkeypatch.setattr(simulator_module.Simulator, "_fast_plan", _spy(simulator_module.Simulator._fast_plan, planned))
    c, x, w = circuit(), np.array([[0.3], [-1.1]]), np.array([0.4, 0.9])
    sim = Simulator()
    got = sim.expval(c, Z(1) @ Z(2), x=x, weights=w)
    expected = [ref.dense_expval(ref.dense_statevector(c, row, w), (Z(1) @ Z(2)).matrix(3)) for row in x]
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert planned == [None]  # no numba plan: the array kernels ran
    assert cold == [True]  # the build was started once
    sim.expval(c, Z(1) @ Z(2), x=x, weights=w)
    assert cold == [True]  # checked again only after the interval, and started only once


def test_ready_marker_switches_to_the_numba_kernels(cold, monkeypatch):
    import qmlsim.simulators.simulator as simulator_module

    background.marker_path().write_text("ready\n")
    planned = []
    monkeypatch.setattr(simulator_module.Simulator, "_fast_plan", _spy(simulator_module.Simulator._fast_plan, planned))
    Simulator().expval(circuit(), Z(0), x=np.array([[0.2]]), weights=np.array([0.1, 0.2]))
    assert planned and planned[0] is not None
    assert cold == []  # nothing to build


def test_failed_build_falls_back_to_compile_on_first_use(cold):
    class Failed:
        def poll(self) -> int:
            return 1

    background._state["process"] = Failed()
    assert background.compiled_kernels_ready()


def test_inline_mode_and_explicit_numba_do_not_wait(cold, monkeypatch):
    monkeypatch.setenv("QMLSIM_COMPILE", "inline")
    assert background.compiled_kernels_ready()
    assert cold == []


def test_marker_follows_the_kernel_sources_and_the_dtype(cold, monkeypatch):
    first = background.marker_path()
    assert background.marker_path("complex64") != first
    background.marker_path().write_text("ready\n")
    assert background.compiled_kernels_ready("complex128")
    assert not background.compiled_kernels_ready("complex64")  # its kernels are built second
    monkeypatch.setattr(background, "_fingerprint", lambda: "other")
    assert background.marker_path() != first


@pytest.mark.slow
def test_the_build_process_fills_the_cache_and_marks_it(tmp_path):
    """The real build, in its own process and cache: afterwards a cold process takes the numba kernels at once.

    One dtype (complex128) keeps this test to half the compile time; the other dtype's build is the
    same code with another argument, and its marker must stay absent."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    env.pop("QMLSIM_COMPILE", None)
    subprocess.run([sys.executable, "-m", "qmlsim.simulators.fast.background", "complex128"], env=env, check=True, timeout=1200)
    probe = (
        "import numpy as np\n"
        "from qmlsim.circuits import Circuit, Z\n"
        "from qmlsim.simulators import Simulator\n"
        "from qmlsim.simulators.fast.background import marker_path\n"
        "c = Circuit(2); x = c.inputs(1); _ = c.ry(x[0], 0).cx(0, 1)\n"
        "sim = Simulator()\n"
        "print(marker_path().exists(), marker_path('complex64').exists(), "
        "sim._fast_plan(sim._program(c)) is not None, float(sim.expval(c, Z(1), x=[0.5])))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True, timeout=300)
    ready128, ready64, numba_used, value = out.stdout.split()
    assert (ready128, ready64, numba_used) == ("True", "False", "True")
    assert abs(float(value) - np.cos(0.5)) < 1e-12


def _spy(method, record):
    def wrapper(self, program):
        plan = method(self, program)
        record.append(plan)
        return plan

    return wrapper
