"""The qmlsim PennyLane device versus default.qubit and lightning.qubit on the same tapes.

Cases (4 wires, a ZZ feature map followed by a two-layer hardware-efficient ansatz,
expectation of Z0 Z1 and Z3):

- ``execute 200 tapes``: 200 tapes, one per data row, through ``qml.execute`` (device
  preprocessing included). qmlsim's own ``Simulator.expval`` on the same 200 rows is
  reported in this case too (impl ``qmlsim Simulator``).
- ``broadcast tape (200 rows)``: one tape with the 200 rows as parameter broadcasting.
- ``adjoint jacobian 200 tapes``: ``jacobian`` of the 200 tapes with respect to their gate
  angles through each device's adjoint method.

``ratio`` is an implementation's time divided by the ``qmlsim.statevector`` time in the
same case (above 1: qmlsim is faster). Times are the best of a few repetitions.

Run: ``python benchmarks/bench_pennylane.py [--quick]``.
"""
from __future__ import annotations

from pathlib import Path

from typing import Any, Callable

import numpy as np

try:
    from benchmarks.common import NUM_WIRES, best_time, executor_problem
except ImportError:  # run as a script from benchmarks/
    from common import NUM_WIRES, best_time, executor_problem

REFERENCE = "qmlsim.statevector"
ROWS = 200






def run(quick: bool = False) -> list[dict]:
    """Time every implementation on every case.

    Args:
        quick: fewer rows (40) and repetitions, for smoke tests.

    Returns:
        Rows ``{"case", "impl", "seconds", "ratio"}``.
    """
    import pennylane as qml

    from qmlsim.circuits.convert import to_tape
    from qmlsim.simulators import Simulator

    rows = 40 if quick else ROWS
    repeats = 1 if quick else 3
    circuit, observables, x, weights = executor_problem(rows)
    tapes = [to_tape(circuit, observables, x=row, weights=weights) for row in x]
    broadcast = to_tape(circuit, observables, x=x, weights=weights)
    devices = {
        REFERENCE: qml.device(REFERENCE, wires=NUM_WIRES),
        "default.qubit": qml.device("default.qubit", wires=NUM_WIRES),
        "lightning.qubit": qml.device("lightning.qubit", wires=NUM_WIRES),
    }
    results: list[dict] = []

    def record(case: str, impl: str, fn: Callable[[], Any]) -> None:
        results.append({"case": case, "impl": impl, "seconds": best_time(fn, repeats), "ratio": np.nan})

    case = f"execute {rows} tapes"
    for name, dev in devices.items():
        record(case, name, lambda dev=dev: qml.execute(tapes, dev, diff_method=None))
    simulator = Simulator()
    record(case, "qmlsim Simulator", lambda: simulator.expval(circuit, observables, x=x, weights=weights))

    case = f"broadcast tape ({rows} rows)"
    for name, dev in devices.items():
        record(case, name, lambda dev=dev: qml.execute([broadcast], dev, diff_method=None))

    case = f"adjoint jacobian {rows} tapes"
    adjoint_tapes = [t.copy() for t in tapes]
    for t in adjoint_tapes:
        t.trainable_params = list(range(len(t.get_parameters(trainable_only=False))))
    for name, dev in devices.items():
        record(case, name, lambda dev=dev: _device_jacobians(qml, dev, adjoint_tapes))
    record(
        case,
        "qmlsim Simulator",
        lambda: simulator.jacobian(circuit, observables, x=x, weights=weights, method="adjoint", argnum="weights"),
    )

    reference = {r["case"]: r["seconds"] for r in results if r["impl"] == REFERENCE}
    for r in results:
        r["ratio"] = r["seconds"] / reference[r["case"]]
    return results


def _device_jacobians(qml: Any, device: Any, tapes: list) -> Any:
    """Adjoint Jacobians of the tapes' angles through the device (preprocessing included)."""
    config = device.setup_execution_config(qml.devices.ExecutionConfig(gradient_method="adjoint"))
    program = device.preprocess_transforms(config)
    processed, _ = program(tapes)
    return device.compute_derivatives(processed, config)


if __name__ == "__main__":  # the same as ``python benchmarks/run.py pennylane [--quick] [--threads 1,2]``
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.run import main

    sys.exit(main(["pennylane", *sys.argv[1:]]))
