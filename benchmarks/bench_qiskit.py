"""The Qiskit path versus the engine, on the same 200-row batch of a 4-wire circuit.

Circuit: a ZZ feature map (reps 2) followed by a two-layer hardware-efficient ansatz on
4 wires; observables Z0 Z1 and Z3; 4000 shots where shots apply.

Cases:

- ``expval 200 rows``: ``Simulator(numpy).expval`` (exact; the reference),
  ``QiskitExecutor(AerSimulator)`` with and without its journal (conversion, cached
  transpilation, one estimator sweep), and Aer's ``EstimatorV2`` run directly on the
  already transpiled circuit and parameter array (the floor of the Qiskit path).
- ``probs 200 rows``: ``Simulator.probs`` (exact) versus ``QiskitExecutor.probs``
  (one sampler sweep of 4000 shots per row, counts to probabilities) and Aer's
  ``SamplerV2`` run directly on the transpiled circuit and parameter array.
- ``estimator PUB 200 x 2``: ``QmlsimEstimator`` (reference) versus Qiskit's
  ``StatevectorEstimator`` on the same PUB.
- ``sampler PUB 200``: ``QmlsimSampler`` (reference) versus ``StatevectorSampler``.

``ratio`` is an implementation's time divided by the reference's time in the same case
(above 1: the reference is faster). Times are the best of a few repetitions, after a
warm-up call (so transpilation and compilation caches are warm).

Run: ``python benchmarks/bench_qiskit.py [--quick]``; writes ``benchmarks/results/qiskit.json``.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

try:
    from benchmarks.common import NUM_WIRES, best_time, executor_problem
except ImportError:  # run as a script from benchmarks/
    from common import NUM_WIRES, best_time, executor_problem

ROWS = 200
SHOTS = 4000






def run(quick: bool = False) -> list[dict]:
    """Time every implementation on every case.

    Args:
        quick: 40 rows and one repetition, for smoke tests.

    Returns:
        Rows ``{"case", "impl", "seconds", "ratio"}``.
    """
    from qiskit.primitives import StatevectorEstimator, StatevectorSampler
    from qiskit_aer import AerSimulator
    from qiskit_aer.primitives import EstimatorV2 as AerEstimatorV2
    from qiskit_aer.primitives import SamplerV2 as AerSamplerV2

    from qmlsim.circuits.convert.qiskit import parameter_values, to_qiskit, to_qiskit_observable
    from qmlsim.simulators import QiskitExecutor, QmlsimEstimator, QmlsimSampler, Simulator

    rows = 40 if quick else ROWS
    repeats = 1 if quick else 3
    circuit, observables, x, weights = executor_problem(rows)
    simulator = Simulator()
    results: list[dict] = []
    references: dict[str, str] = {}

    def record(case: str, impl: str, fn: Callable[[], Any], reference: bool = False) -> None:
        results.append({"case": case, "impl": impl, "seconds": best_time(fn, repeats), "ratio": np.nan})
        if reference:
            references[case] = impl

    with tempfile.TemporaryDirectory() as folder:
        plain = QiskitExecutor(AerSimulator(), shots=SHOTS, seed=1, journal=False)
        journaled = QiskitExecutor(AerSimulator(), shots=SHOTS, seed=1, journal=Path(folder) / "bench.jsonl")

        case = f"expval {rows} rows"
        record(case, "qmlsim Simulator", lambda: simulator.expval(circuit, observables, x=x, weights=weights), reference=True)
        record(case, "QiskitExecutor(Aer)", lambda: plain.expval(circuit, observables, x=x, weights=weights))
        # a fresh session each call: a warm journal would serve stored results
        record(
            case,
            "QiskitExecutor(Aer)+journal",
            lambda: QiskitExecutor(
                AerSimulator(), shots=SHOTS, seed=1, journal=Path(folder) / f"j{time.perf_counter_ns()}.jsonl"
            ).expval(circuit, observables, x=x, weights=weights),
        )
        compiled = plain._compile(circuit, "estimator")
        values = parameter_values(compiled.circuit, x, weights)
        mapped = [to_qiskit_observable(o, NUM_WIRES).apply_layout(compiled.circuit.layout) for o in observables]
        pub = (compiled.circuit, [[m] for m in mapped], values, 1 / np.sqrt(SHOTS))
        aer_estimator = AerEstimatorV2(options={"run_options": {"seed_simulator": 1}})
        record(case, "Aer EstimatorV2 direct", lambda: aer_estimator.run([pub]).result())

        case = f"probs {rows} rows"
        record(case, "qmlsim Simulator", lambda: simulator.probs(circuit, x=x, weights=weights), reference=True)
        record(case, "QiskitExecutor(Aer)", lambda: plain.probs(circuit, x=x, weights=weights))
        sampled = plain._compile(circuit, "sampler").circuit
        sampler_values = parameter_values(sampled, x, weights)
        aer_sampler = AerSamplerV2(seed=1)
        record(case, "Aer SamplerV2 direct", lambda: aer_sampler.run([(sampled, sampler_values)], shots=SHOTS).result())
        del journaled

    qc = to_qiskit(circuit)
    qc_values = parameter_values(qc, x, weights)
    labels = ["IIZZ", "ZIII"]  # Qiskit order: qubit 0 rightmost
    est_pub = (qc, [[label] for label in labels], qc_values)
    case = f"estimator PUB {rows} x {len(labels)}"
    ours_est, theirs_est = QmlsimEstimator(), StatevectorEstimator()
    record(case, "QmlsimEstimator", lambda: ours_est.run([est_pub]).result(), reference=True)
    record(case, "StatevectorEstimator", lambda: theirs_est.run([est_pub]).result())

    measured = qc.copy()
    measured.measure_all()
    case = f"sampler PUB {rows}"
    ours_s, theirs_s = QmlsimSampler(seed=1), StatevectorSampler(seed=1)
    record(case, "QmlsimSampler", lambda: ours_s.run([(measured, qc_values)], shots=1024).result(), reference=True)
    record(case, "StatevectorSampler", lambda: theirs_s.run([(measured, qc_values)], shots=1024).result())

    seconds = {(r["case"], r["impl"]): r["seconds"] for r in results}
    for r in results:
        r["ratio"] = r["seconds"] / seconds[(r["case"], references[r["case"]])]
    return results


if __name__ == "__main__":  # the same as ``python benchmarks/run.py qiskit [--quick] [--threads 1,2]``
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.run import main

    sys.exit(main(["qiskit", *sys.argv[1:]]))
