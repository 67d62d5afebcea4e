"""The quantum ridgelet transform (reconstruction): qmlsim's engine against lightning.qubit and Aer, in one run.

Cases, at P = 13 (``ceil(log2 13) = 4`` wires per register):

- ``qrt D=k``: the QRT circuit on ``(k + 1) x 4`` wires (D = 1..4; D = 4 is 20 qubits) from the
  amplitude-encoded target, run by qmlsim (``Simulator.statevector(..., initial_state=...)``),
  by PennyLane ``lightning.qubit`` (``StatePrep`` then the operations of ``to_pennylane``) and by
  Qiskit Aer (``set_statevector`` then ``to_qiskit``). ``gates`` is the circuit's length
  (``2 D + 3``: linear in D). The classical Fourier-slice transform of the same function is
  a row of its own (it grows as ``P^{D+1}``). Every peer's state is checked against qmlsim's.
- ``sample 10^4 nodes D=4``: ``sample_nodes(f, 10_000, "qrt")``, the circuit and the draws.

``ratio`` is the peer's time / qmlsim's time. These are our numbers for a reconstruction.

Run: ``python benchmarks/run.py ridgelet [--quick]``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.common import timed

OURS = "qmlsim"


def qrt_case(d: int, peers: bool) -> list[dict]:
    from benchmarks.bench_cooling import _aer, _lightning
    from qmlsim.qml.ridgelet import encoded_state, qrt_circuit, ridgelet_transform
    from qmlsim.simulators import Simulator

    p = 13
    case = f"qrt D={d}"
    f = np.random.default_rng(d).normal(size=(p,) * d)
    circuit = qrt_circuit(p, d)
    start = encoded_state(f)
    sim = Simulator()
    sim.statevector(circuit, initial_state=start)
    repeats = 3 if d < 4 else 1
    ours, state = timed(lambda: sim.statevector(circuit, initial_state=start), repeats)
    info = {"gates": len(circuit.ops), "wires": circuit.num_wires}
    rows = [{"case": case, "impl": OURS, "seconds": ours, "ratio": None, **info, "note": f"{circuit.num_wires} wires"}]
    seconds, _ = timed(lambda: ridgelet_transform(f), repeats)
    rows.append({"case": case, "impl": "classical Fourier slice (numpy)", "seconds": seconds, "ratio": seconds / ours, **info,
                 "note": f"P^(D+1) = {p ** (d + 1)} outputs"})
    if not peers:
        return rows
    for impl, make in (("lightning.qubit", _lightning), ("aer statevector", _aer)):
        try:
            run = make(circuit, np.zeros(0), start)
            run()
            seconds, other = timed(run, repeats)
            error = float(np.abs(np.asarray(other) - np.asarray(state)).max())
            rows.append({"case": case, "impl": impl, "seconds": seconds, "ratio": seconds / ours, **info,
                         "note": f"max |state - qmlsim| {error:.1e}"})
        except Exception as err:  # noqa: BLE001 - a peer's failure is a result
            rows.append({"case": case, "impl": impl, "seconds": None, "ratio": None, **info,
                         "note": f"failed: {type(err).__name__}: {str(err)[:80]}"})
    return rows


def sampling_case(d: int) -> list[dict]:
    from qmlsim.qml.ridgelet import sample_nodes

    f = np.random.default_rng(0).normal(size=(13,) * d)
    sample_nodes(f, 10, "qrt", seed=0)
    seconds, nodes = timed(lambda: sample_nodes(f, 10_000, "qrt", seed=1))
    return [{"case": f"sample 10^4 nodes D={d}", "impl": OURS, "seconds": seconds, "ratio": None,
             "note": f"circuit on the engine + draws; {nodes.shape[0]} nodes"}]


def run(quick: bool = False) -> list[dict]:
    """Every case; ``quick`` stops at D = 3."""
    rows = []
    for d in (1, 2, 3) if quick else (1, 2, 3, 4):
        rows += qrt_case(d, peers=True)
    rows += sampling_case(3 if quick else 4)
    return rows


if __name__ == "__main__":  # the same as ``python benchmarks/run.py ridgelet [--quick] [--threads 1,2]``
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.run import main

    sys.exit(main(["ridgelet", *sys.argv[1:]]))
