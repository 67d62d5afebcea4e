"""``qmlsim experiment qsp``: polynomials realised by QSP on the engine, and the QSVT linear solver against kappa.

Three polynomials (sign by ``erf``, ``1/x`` on ``1/kappa <= |x| <= 1``, ``cos(t x)``) are
turned into symmetric-QSP phases, run as one batched engine call over 2,001 signal values,
and compared with their targets; then ``qsvt_solve`` and textbook HHL solve random
Hermitian systems of growing condition number, compared with ``numpy.linalg.solve``.
Writes ``qsp.json`` and ``qsp_polynomials.png`` / ``qsp_solver.png``. All numbers are
ours, measured here (not a paper's).
"""
from __future__ import annotations

import json
import os
import time
from typing import Any

import numpy as np

from qmlsim.circuits import qsp
from qmlsim.simulators import Simulator
from qmlsim.simulators.linear_solvers import hhl_solve, qsvt_solve


def _polynomial_rows(quick: bool) -> list[dict]:
    sim = Simulator()
    a = np.linspace(-1, 1, 2001)
    cases = [
        ("sign", qsp.sign_polynomial(161 if quick else 321, 20 if quick else 40)),
        ("1/x", qsp.inverse_polynomial(kappa=5 if quick else 10, eps=1e-6)),
        ("cos(t x)", qsp.cos_polynomial(20.0 if quick else 40.0)),
    ]
    rows = []
    for name, p in cases:
        start = time.perf_counter()
        phases = qsp.angles(p)
        angle_seconds = time.perf_counter() - start
        realised = sim.statevector(qsp.qsp_circuit(phases), x=a[:, None])[:, 0].imag
        rows.append({
            "name": name, "description": p.description, "degree": p.degree(), "scale": p.scale,
            "approximation_error": p.error, "realisation_error": float(np.abs(realised - p(a)).max()),
            "angle_seconds": angle_seconds, "x": a.tolist(), "target": p.target(a).tolist(), "realised": realised.tolist(),
        })
    return rows


def _solver_rows(quick: bool) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for kappa in (2, 5, 10) if quick else (2, 5, 10, 20, 40):
        dim = 8
        m = rng.normal(size=(dim, dim))
        values, vectors = np.linalg.eigh(m + m.T)
        spectrum = np.sign(values) * np.geomspace(1.0 / kappa, 1.0, dim)
        a = vectors @ np.diag(spectrum) @ vectors.T
        b = rng.normal(size=dim)
        exact = np.linalg.solve(a, b)
        start = time.perf_counter()
        result = qsvt_solve(a, b, eps=1e-6)
        seconds = time.perf_counter() - start
        rows.append({
            "kappa": kappa, "method": "qsvt", "fidelity": result.fidelity(exact),
            "success_probability": result.success_probability, "degree": result.polynomial.degree(), "seconds": seconds,
        })
        positive = vectors @ np.diag(np.geomspace(1.0 / kappa, 1.0, dim)) @ vectors.T
        exact_positive = np.linalg.solve(positive, b)
        # HHL with 6 clock wires, time chosen so the largest eigenvalue sits just below the wrap-around
        hhl = hhl_solve(positive, b, clock_wires=6, time=2 * np.pi * (1 - 1 / 64) / 1.0)
        rows.append({
            "kappa": kappa, "method": "hhl (6 clock wires)", "fidelity": hhl.fidelity(exact_positive),
            "success_probability": hhl.success_probability, "degree": None, "seconds": None,
        })
    return rows


def _plot(out_dir: str, polynomials: list[dict], solver: list[dict]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, axes = plt.subplots(2, len(polynomials), figsize=(4 * len(polynomials), 6), sharex=True)
    for column, row in enumerate(polynomials):
        x, target, realised = (np.array(row[k]) for k in ("x", "target", "realised"))
        axes[0, column].plot(x, target, label="target (scaled)", lw=2)
        axes[0, column].plot(x, realised, "--", label="Im <0|U(a)|0> on the engine")
        axes[0, column].set_title(f"{row['name']}, degree {row['degree']}")
        axes[0, column].set_ylabel("value")
        axes[0, column].legend(fontsize=7)
        axes[1, column].semilogy(x, np.abs(realised - target) + 1e-18)
        axes[1, column].set_xlabel("signal a")
        axes[1, column].set_ylabel("|realised - target|")
    fig.tight_layout()
    paths.append(os.path.join(out_dir, "qsp_polynomials.png"))
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for method in sorted({r["method"] for r in solver}):
        rows = [r for r in solver if r["method"] == method]
        ax.semilogy([r["kappa"] for r in rows], [max(1 - r["fidelity"], 1e-16) for r in rows], "o-", label=method)
    ax.set_xlabel("condition number kappa")
    ax.set_ylabel("1 - fidelity with numpy.linalg.solve")
    ax.set_title("8x8 Hermitian systems")
    ax.legend()
    fig.tight_layout()
    paths.append(os.path.join(out_dir, "qsp_solver.png"))
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths


def run_experiment(out_dir: str, quick: bool = False) -> dict[str, Any]:
    """Run the QSP experiment, print its tables, write ``qsp.json`` and the two figures into ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    polynomials = _polynomial_rows(quick)
    solver = _solver_rows(quick)
    print(f"{'polynomial':<10} {'degree':>6} {'approx. error':>14} {'QSP realisation error':>22} {'angles (s)':>10}")
    for r in polynomials:
        print(f"{r['name']:<10} {r['degree']:>6} {r['approximation_error']:>14.2e} {r['realisation_error']:>22.2e} "
              f"{r['angle_seconds']:>10.3f}")
    print(f"\n{'kappa':>5} {'method':<20} {'1 - fidelity':>12} {'success prob.':>13}")
    for r in solver:
        print(f"{r['kappa']:>5} {r['method']:<20} {1 - r['fidelity']:>12.2e} {r['success_probability']:>13.4f}")
    paths = _plot(out_dir, polynomials, solver)
    summary = {
        "polynomials": [{k: v for k, v in r.items() if k not in ("x", "target", "realised")} for r in polynomials],
        "solver": solver,
    }
    with open(os.path.join(out_dir, "qsp.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    print(f"wrote {os.path.join(out_dir, 'qsp.json')}, {', '.join(paths)}")
    return summary
