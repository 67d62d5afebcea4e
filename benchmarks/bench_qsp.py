"""QSP angle finding and QSP responses: qmlsim against pyqsp and PennyLane, in one run.

Cases:

- ``angles sign d=N``: phases for pyqsp's sign polynomial (``erf(delta x)``, ``delta = N / 8``,
  scaled to 0.9) of degree ``N``: qmlsim's symmetric-QSP Newton solver, pyqsp ``sym_qsp`` and
  ``laurent``, PennyLane ``poly_to_angles`` (``"QSP"``; iterative and root-finding solvers,
  which take monomial coefficients). ``residual`` is ``max |realised - P|`` over 1,000 points,
  each in its own convention (qmlsim and ``sym_qsp``: ``Im <0|U|0>``; PennyLane: ``Re <0|U|0>``;
  ``laurent``: ``Re <+|U|+>``). A failure is reported as a row with no time and the error.
  Slow peers run only up to the degree where they take seconds (noted).
- ``response d=321``: ``<0|U(a)|0>`` at many signal values: qmlsim's engine in one batched
  call versus PennyLane ``default.qubit`` executing ``qml.QSVT`` with parameter broadcasting.

``ratio`` is the peer's time / qmlsim's time in the same case.

Run: ``python benchmarks/run.py qsp [--quick]``.
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any, Callable

import numpy as np

from benchmarks.common import timed

OURS = "qmlsim"


def _row(case: str, impl: str, seconds: float | None, residual: float | None, note: str = "") -> dict:
    text = "; ".join(part for part in (f"residual {residual:.1e}" if residual is not None else "", note) if part)
    return {"case": case, "impl": impl, "seconds": seconds, "ratio": None, "residual": residual, "note": text}


def _wx(phases: np.ndarray, a: np.ndarray) -> np.ndarray:
    from qmlsim.circuits.qsp import qsp_unitary

    return qsp_unitary(phases, a)


def angle_case(degree: int, include: dict[str, int]) -> list[dict]:
    from qmlsim.circuits import qsp

    case = f"angles sign d={degree}"
    p = qsp.sign_polynomial(degree, degree / 8)
    a = np.linspace(-1, 1, 1000)
    target = p(a)
    rows = []
    seconds, phases = timed(lambda: qsp.angles(p), 3 if degree <= 321 else 1)
    rows.append(_row(case, OURS, seconds, float(np.abs(_wx(phases, a)[:, 0, 0].imag - target).max()), "symmetric QSP, Newton"))

    def attempt(impl: str, limit: int, run: Callable[[], np.ndarray], measure: Callable[[np.ndarray], np.ndarray]) -> None:
        if degree > limit:
            rows.append(_row(case, impl, None, None, f"not run above degree {limit} (too slow)"))
            return
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                seconds, phases = timed(run)
            rows.append(_row(case, impl, seconds, float(np.abs(measure(np.asarray(phases)) - target).max())))
        except Exception as err:  # noqa: BLE001 - a peer's failure is a result
            rows.append(_row(case, impl, None, None, f"failed: {type(err).__name__}: {str(err)[:80]}"))

    try:
        from pyqsp.angle_sequence import QuantumSignalProcessingPhases
    except ImportError:
        QuantumSignalProcessingPhases = None
    if QuantumSignalProcessingPhases is not None:
        attempt(
            "pyqsp sym_qsp", include["sym_qsp"],
            lambda: QuantumSignalProcessingPhases(p.coef, method="sym_qsp", chebyshev_basis=True)[0],
            lambda ph: _wx(ph, a)[:, 0, 0].imag,
        )

        def plus_element(ph: np.ndarray) -> np.ndarray:
            u = _wx(ph, a)
            return (u.sum(axis=(1, 2)) / 2).real

        attempt("pyqsp laurent", include["laurent"], lambda: QuantumSignalProcessingPhases(p.coef, method="laurent"), plus_element)
    try:
        import pennylane as qml
    except ImportError:
        qml = None
    if qml is not None:
        monomial = np.polynomial.chebyshev.cheb2poly(p.coef)
        for solver in ("iterative", "root-finding"):
            attempt(
                f"pennylane {solver}", include["pennylane"],
                lambda s=solver: qml.poly_to_angles(monomial, "QSP", angle_solver=s),
                lambda ph: _wx(ph, a)[:, 0, 0].real,
            )
    for row in rows[1:]:
        if row["seconds"] is not None:
            row["ratio"] = row["seconds"] / rows[0]["seconds"]
    return rows


def response_case(degree: int, points: int, pennylane_points: int) -> list[dict]:
    from qmlsim.circuits import qsp
    from qmlsim.simulators import Simulator

    case = f"response d={degree}, {points} points (per point)"
    p = qsp.sign_polynomial(degree, degree / 8)
    phases = qsp.angles(p)
    a = np.linspace(-1, 1, points)
    circuit = qsp.qsp_circuit(phases)
    sim = Simulator()
    sim.statevector(circuit, x=a[:16, None])  # compile
    seconds, states = timed(lambda: sim.statevector(circuit, x=a[:, None]), 3)
    ours = seconds / points
    rows = [_row(case, OURS + " engine", ours, float(np.abs(states[:, 0].imag - p(a)).max()), "one batched call")]
    try:
        import pennylane as qml
    except ImportError:
        return rows
    pl_phases = qsp.convert_phases(phases, "Wx", "pennylane-qsvt")
    dev = qml.device("default.qubit", wires=1)

    @qml.qnode(dev)
    def response(x: np.ndarray) -> Any:
        qml.QSVT(qml.RX(2 * np.arccos(x), wires=0), [qml.PCPhase(phi, dim=1, wires=0) for phi in pl_phases])
        return qml.state()

    sub = a[:pennylane_points]
    response(sub[:2])
    seconds, states = timed(lambda: response(sub))
    # qml.RX(2 arccos x) is e^{-i arccos(x) X}: PennyLane's convention keeps Re <0|U|0> = P
    residual = float(np.abs(np.asarray(states)[:, 0].real - p(sub)).max())
    rows.append({
        **_row(case, "pennylane default.qubit QSVT", seconds / pennylane_points, residual,
               f"broadcast over {pennylane_points} points"),
        "ratio": seconds / pennylane_points / ours,
    })
    return rows


def run(quick: bool = False) -> list[dict]:
    """Every case; ``quick`` stops at degree 161 and fewer points."""
    degrees = (41, 161) if quick else (21, 41, 81, 161, 321, 1001, 2001)
    include = {"sym_qsp": 161 if quick else 321, "laurent": 321, "pennylane": 41 if quick else 161}
    rows = []
    for degree in degrees:
        rows += angle_case(degree, include)
    rows += response_case(161 if quick else 321, 10_000 if quick else 100_000, 1_000 if quick else 10_000)
    return rows


if __name__ == "__main__":  # the same as ``python benchmarks/run.py qsp [--quick] [--threads 1,2]``
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.run import main

    sys.exit(main(["qsp", *sys.argv[1:]]))
