"""``qmlsim experiment qsp`` (quick): its numbers are checked against NumPy here, not against earlier output."""
from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_quick_qsp_experiment_writes_checked_results(tmp_path):
    from qmlsim.qml.qsp_experiment import run_experiment

    summary = run_experiment(str(tmp_path), quick=True)
    assert {p["name"] for p in summary["polynomials"]} == {"sign", "1/x", "cos(t x)"}
    for row in summary["polynomials"]:
        assert row["realisation_error"] < 1e-12  # engine vs the polynomial itself
    for row in summary["solver"]:  # fidelities are against numpy.linalg.solve inside the experiment
        bound = 1 - 1e-10 if row["method"] == "qsvt" else 0.99
        assert row["fidelity"] >= bound and 0 < row["success_probability"] <= 1
    saved = json.loads((tmp_path / "qsp.json").read_text())
    assert saved["solver"] == summary["solver"]
    assert (tmp_path / "qsp_polynomials.png").stat().st_size > 0 and (tmp_path / "qsp_solver.png").stat().st_size > 0
