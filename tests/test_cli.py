"""The ``qmlsim`` command: info, experiment dispatch and errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qmlsim import cli

ROOT = Path(__file__).resolve().parents[1]


def _fake_experiment(out_dir: str, quick: bool = False) -> dict:
    (Path(out_dir) / "result.json").write_text(json.dumps({"quick": quick}))
    return {"accuracy": 1.0, "quick": quick}


def test_info_runs(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    for name in ("qmlsim", "numpy", "jax", "numba", "qiskit", "qiskit-aer", "pennylane", "scikit-learn", "cupy", "custatevec"):
        assert name in out


def test_info_json(capsys):
    assert cli.main(["info", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["backends"]["numpy"] == "available"
    assert set(report["backends"]) == {"numpy", "jax", "cupy", "custatevec"}
    from qmlsim import __version__

    assert report["versions"]["qmlsim"] == __version__


def test_info_survives_missing_cupy(monkeypatch):
    # an import of cupy that fails, whatever is installed
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setitem(sys.modules, "cuquantum", None)
    status = cli.backend_status()
    assert status["cupy"].startswith("not installed")
    assert status["custatevec"].startswith("not installed")


def test_console_script_module_entry():
    out = subprocess.run([sys.executable, "-m", "qmlsim.cli", "info"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "backends:" in out.stdout


def test_unknown_experiment_lists_names(capsys):
    assert cli.main(["experiment", "no-such-thing"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment" in err
    for name in cli.EXPERIMENTS:
        assert name in err


def test_experiment_dispatch(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(cli.EXPERIMENTS, "fake", "tests.test_cli:_fake_experiment")
    out_dir = tmp_path / "out"
    assert cli.main(["experiment", "fake", "--out", str(out_dir), "--quick"]) == 0
    assert "outputs in" in capsys.readouterr().out
    assert json.loads((out_dir / "result.json").read_text()) == {"quick": True}
    summary = json.loads((out_dir / "summary.json").read_text())
    machine = summary.pop("machine")
    assert summary == {"accuracy": 1.0, "quick": True}
    assert machine["quick"] is True and machine["seconds"] >= 0 and machine["date_utc"].startswith("20")


def test_flags_an_experiment_does_not_take_are_refused_before_running(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(cli.EXPERIMENTS, "fake", "tests.test_cli:_fake_experiment")
    for flag in (["--large"], ["--scheduler", "tcp://127.0.0.1:9"]):
        assert cli.main(["experiment", "fake", "--out", str(tmp_path / "out"), *flag]) == 2
        assert f"does not take {flag[0]}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_missing_experiment_module_is_reported(monkeypatch, capsys):
    monkeypatch.setitem(cli.EXPERIMENTS, "ghost", "qmlsim.qml.no_such_module:run_experiment")
    assert cli.main(["experiment", "ghost"]) == 1
    assert "not available" in capsys.readouterr().err


def test_command_is_required():
    with pytest.raises(SystemExit):
        cli.main([])


# --- benchmarks/run.py -----------------------------------------------------------
def _bench_run_module():
    import importlib

    return importlib.import_module("benchmarks.run")


def test_bench_runner_writes_table_and_json(monkeypatch, tmp_path, capsys):
    import types

    run = _bench_run_module()
    fake = types.ModuleType("benchmarks.bench_fake")
    fake.run = lambda quick: [
        {"case": "4 wires", "impl": "qmlsim", "seconds": 0.002, "ratio": 1.0},
        {"case": "4 wires", "impl": "peer", "seconds": 2.5, "ratio": 1250.0, "extrapolated": True, "note": "from 2-3 wires"},
    ]
    monkeypatch.setitem(sys.modules, "benchmarks.bench_fake", fake)
    monkeypatch.setattr(run, "ROOT", tmp_path.parent)
    assert run.run_suite("fake", True, {"cpu_count": 2, "threads": 1}, tmp_path) == "ok"
    out = capsys.readouterr().out
    assert "2 ms" in out and "2.5 s *" in out and "1.25e+03" in out and "extrapolated" in out
    saved = json.loads((tmp_path / "fake-1threads.json").read_text())
    assert saved["quick"] is True and saved["machine"] == {"cpu_count": 2, "threads": 1} and len(saved["rows"]) == 2


def test_bench_runner_refuses_more_threads_than_cpus_before_changing_anything(monkeypatch):
    import os

    run = _bench_run_module()
    before = {name: os.environ.get(name) for name in run.THREAD_VARIABLES}
    with pytest.raises(SystemExit, match="usable CPUs"):
        run.limit_threads(len(run.usable_cpus()) + 1)
    with pytest.raises(SystemExit, match="usable CPUs"):
        run.limit_threads(0)
    assert {name: os.environ.get(name) for name in run.THREAD_VARIABLES} == before


def test_bench_runner_reports_missing_and_broken_suites(monkeypatch, tmp_path, capsys):
    import types

    run = _bench_run_module()
    assert run.run_suite("does_not_exist", True, {}) == "missing"
    broken = types.ModuleType("benchmarks.bench_broken")
    broken.run = lambda quick: [{"case": "x"}]  # lacks impl and seconds
    monkeypatch.setitem(sys.modules, "benchmarks.bench_broken", broken)
    monkeypatch.setattr(run, "RESULTS", tmp_path)
    assert run.run_suite("broken", True, {}) == "failed"
    assert "lacks" in capsys.readouterr().err


def test_bench_machine_info():
    info = _bench_run_module().machine_info()
    assert info["cpu_count"] >= 1 and info["versions"]["numpy"]


def test_readme_results_block_is_rendered_from_the_snapshots():
    """The README's numbers are the snapshots' (python benchmarks/run.py --update-readme), never typed by hand."""
    run = _bench_run_module()
    readme = run.README.read_text()
    start, end = readme.index(run.README_BEGIN), readme.index(run.README_END) + len(run.README_END)
    assert readme[start:end] == run.readme_block(), "run: python benchmarks/run.py --update-readme"


def test_documentation_snapshots_are_full_runs_with_equal_threads():
    """docs/results/ holds full benchmark runs at 1 and 2 threads per suite, each recording its machine and commit."""
    run = _bench_run_module()
    snapshots = sorted(run.DOCS_RESULTS.glob("*threads.json"))
    assert snapshots, "no benchmark snapshots in docs/results/"
    suites = {}
    for path in snapshots:
        data = json.loads(path.read_text())
        assert data["quick"] is False, f"{path.name} is a --quick run"
        machine = data["machine"]
        assert machine["threads"] in (1, 2) and machine["commit"] and machine["date_utc"]
        assert path.name == run.results_name(data["suite"], machine["threads"])
        suites.setdefault(data["suite"], set()).add(machine["threads"])
    assert all(threads == {1, 2} for threads in suites.values()), suites
