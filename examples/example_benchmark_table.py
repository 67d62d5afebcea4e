"""
A side-by-side timing, as the benchmark suites report it
========================================================

The suites in ``benchmarks/`` (``python benchmarks/run.py``) time qmlsim and its peers
in one process with the same thread count and report ratios. This small version times
one 4-wire circuit (a ZZ feature map and a hardware-efficient ansatz) evaluated for 2,000 input rows on qmlsim and on PennyLane's
``default.qubit`` with parameter broadcasting. Timings depend on the machine that built
this page.
"""
import time

import numpy as np
import pennylane as qml

from qmlsim.circuits import Z
from qmlsim.circuits.templates import hardware_efficient_ansatz, zz_feature_map
from qmlsim.simulators import Simulator

rows = 2000
circuit = zz_feature_map(4, reps=1).compose(hardware_efficient_ansatz(4, 2))
weights = np.random.default_rng(0).uniform(-1, 1, circuit.num_weights)
x = np.random.default_rng(1).uniform(-1, 1, (rows, circuit.num_inputs))


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


sim = Simulator()
sim.expval(circuit, Z(0), x=x, weights=weights)  # compile once
ours = best_of(lambda: sim.expval(circuit, Z(0), x=x, weights=weights))

dev = qml.device("default.qubit", wires=4)
from qmlsim.circuits.convert import to_pennylane  # noqa: E402


@qml.qnode(dev)
def node(rows_x):
    to_pennylane(circuit, rows_x, weights)  # operations created inside a QNode are queued on its tape
    return qml.expval(qml.PauliZ(0))


theirs = best_of(lambda: node(x))
print(f"{'implementation':28s} {'per row':>10s} {'ratio':>6s}")
print(f"{'qmlsim':28s} {ours / rows * 1e6:8.2f} us {1.0:6.1f}")
print(f"{'default.qubit (broadcast)':28s} {theirs / rows * 1e6:8.2f} us {theirs / ours:6.1f}")
np.testing.assert_allclose(node(x[:5]), sim.expval(circuit, Z(0), x=x[:5], weights=weights), atol=1e-10)
