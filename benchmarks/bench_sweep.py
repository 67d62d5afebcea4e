"""Per-gate time of one state, every size from 2 to 26 wires, five circuit families, against the peers.

Families (one layer each, constant angles, ``<Z>`` of the last wire at the end):

- ``ladder``: RX on every wire, then a CNOT ladder;
- ``hea``: RY and RZ on every wire, then a CZ ladder (hardware-efficient ansatz);
- ``qft``: the quantum Fourier transform: H and controlled phases, then the swaps that reverse
  the wires; controlled phases of angle ``pi / 2**d`` only for ``d <= 8`` (exact up to 9 wires,
  the approximate QFT above: smaller phases are below any simulator's interest here and
  would make the 26-wire case minutes long);
- ``trotter``: one Trotter step of the transverse-field Ising chain, RZZ on neighbours then RX;
- ``random``: ``3 n`` gates drawn uniformly from a set every peer has natively (1-wire
  Cliffords, rotations, U3, CX/CY/CZ, SWAP, controlled rotations and phases, RXX/RYY/RZZ, Toffoli,
  Fredkin) on random wires.

Each implementation runs the same gates (checked: up to 12 wires every peer's ``<Z>`` must
equal ours to 1e-8, else the row's note says so) with the same thread count, repeats
interleaved, median per gate. ``ratio`` = peer time / qmlsim time (above 1: qmlsim is
faster); ``qmlsim numba complex64`` has ratio = complex128 time / complex64 time. From 22 wires
a ``bound`` row gives the memory-bandwidth floor of one gate (``2 * 16 * 2**n`` bytes over the
N-thread copy bandwidth of this run) with ratio = bound / qmlsim time.

Run: ``python benchmarks/run.py sweep [--quick] [--threads 1,2]`` (``--quick``: up to 20 wires).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from benchmarks.bench_engine import OURS, _interleaved, _optional, _rows, copy_bandwidth

FAMILIES = ("ladder", "hea", "qft", "trotter", "random")
SIZES = (2, 4, 6, 8, 10, 12, 14, 16, 18, 19, 20, 21, 22, 24, 26)
QUICK_SIZES = (4, 8, 12, 16, 18, 19, 20)
QFT_MAX_DISTANCE = 8
CHECK_UP_TO = 12
#: gate name -> (wires, parameters) of the random family; every peer has each natively
RANDOM_SET = {
    "h": (1, 0), "x": (1, 0), "y": (1, 0), "z": (1, 0), "s": (1, 0), "t": (1, 0), "sx": (1, 0),
    "rx": (1, 1), "ry": (1, 1), "rz": (1, 1), "u3": (1, 3),
    "cx": (2, 0), "cy": (2, 0), "cz": (2, 0), "swap": (2, 0), "cp": (2, 1), "crx": (2, 1), "cry": (2, 1), "crz": (2, 1),
    "rxx": (2, 1), "ryy": (2, 1), "rzz": (2, 1), "ccx": (3, 0), "cswap": (3, 0),
}


# --- the gates of a family, as (name, params, wires) ------------------------------------
def family_gates(family: str, n: int, seed: int = 0) -> list[tuple[str, tuple[float, ...], tuple[int, ...]]]:
    """The family's gates on ``n`` wires (constant angles drawn from ``seed``)."""
    rng = np.random.default_rng(seed)

    def angle() -> float:
        return float(rng.uniform(-np.pi, np.pi))

    gates: list[tuple[str, tuple[float, ...], tuple[int, ...]]] = []
    if family == "ladder":
        gates += [("rx", (angle(),), (q,)) for q in range(n)]
        gates += [("cx", (), (q, q + 1)) for q in range(n - 1)]
    elif family == "hea":
        for q in range(n):
            gates += [("ry", (angle(),), (q,)), ("rz", (angle(),), (q,))]
        gates += [("cz", (), (q, q + 1)) for q in range(n - 1)]
    elif family == "qft":
        for q in range(n):
            gates.append(("h", (), (q,)))
            for d in range(1, min(n - q, QFT_MAX_DISTANCE + 1)):
                gates.append(("cp", (math.pi / 2**d,), (q + d, q)))
        gates += [("swap", (), (q, n - 1 - q)) for q in range(n // 2)]
    elif family == "trotter":
        gates += [("rzz", (angle(),), (q, q + 1)) for q in range(n - 1)]
        gates += [("rx", (angle(),), (q,)) for q in range(n)]
    elif family == "random":
        names = [name for name, (k, _) in RANDOM_SET.items() if k <= n]
        for _ in range(3 * n):
            name = names[rng.integers(len(names))]
            k, p = RANDOM_SET[name]
            wires = tuple(int(w) for w in rng.choice(n, k, replace=False))
            gates.append((name, tuple(angle() for _ in range(p)), wires))
    else:
        raise ValueError(f"unknown family {family!r}; pick one of {FAMILIES}")
    return gates


# --- each implementation builds the gates --------------------------------------------------
def _qmlsim(gates: list, n: int, dtype: str) -> Callable[[], float]:
    from qmlsim.circuits import Circuit, Z
    from qmlsim.simulators import Simulator

    c = Circuit(n)
    for name, params, wires in gates:
        c.gate(name, *params, *wires)
    sim = Simulator(kernels="numba", dtype=dtype)
    return lambda: float(sim.expval(c, Z(n - 1)))


def _lightning(gates: list, n: int) -> Callable[[], float] | None:
    qml = _optional("pennylane")
    if qml is None:
        return None
    from qmlsim.circuits import Circuit
    from qmlsim.circuits.convert.pennylane import to_pennylane

    c = Circuit(n)
    for name, params, wires in gates:
        c.gate(name, *params, *wires)
    ops = to_pennylane(c)
    device = qml.device("lightning.qubit", wires=n)

    @qml.qnode(device)
    def circuit() -> Any:
        for op in ops:
            qml.apply(op)
        return qml.expval(qml.PauliZ(n - 1))

    return lambda: float(circuit())


def _qulacs(gates: list, n: int) -> Callable[[], float] | None:
    qulacs = _optional("qulacs")
    if qulacs is None:
        return None
    from qulacs import gate as qg

    qc = qulacs.QuantumCircuit(n)
    fixed = {"h": qg.H, "x": qg.X, "y": qg.Y, "z": qg.Z, "s": qg.S, "t": qg.T, "sx": qg.sqrtX}
    rotations = {"rx": qg.RotX, "ry": qg.RotY, "rz": qg.RotZ}  # exp(-i theta P / 2), as ours
    paulis = {"rxx": 1, "ryy": 2, "rzz": 3}
    for name, params, wires in gates:
        if name in fixed:
            qc.add_gate(fixed[name](wires[0]))
        elif name in rotations:
            qc.add_gate(rotations[name](wires[0], params[0]))
        elif name == "u3":
            qc.add_gate(qg.U3(wires[0], *params))
        elif name == "cx":
            qc.add_gate(qg.CNOT(*wires))
        elif name == "cz":
            qc.add_gate(qg.CZ(*wires))
        elif name == "swap":
            qc.add_gate(qg.SWAP(*wires))
        elif name == "ccx":
            qc.add_gate(qg.TOFFOLI(*wires))
        elif name == "cswap":
            qc.add_gate(qg.FREDKIN(*wires))
        elif name in paulis:
            # qulacs's Pauli rotation is exp(+i theta P / 2): the opposite sign of ours
            qc.add_gate(qg.PauliRotation(list(wires), [paulis[name]] * 2, -params[0]))
        else:  # cy, cp, crx, cry, crz: the target's 2x2 matrix with a control
            from qmlsim.circuits.gates import GATES

            target = GATES[name[1:]].matrix(list(params), np, np.complex128)
            g = qg.DenseMatrix(wires[1], np.asarray(target))
            g.add_control_qubit(wires[0], 1)
            qc.add_gate(g)
    state = qulacs.QuantumState(n)
    obs = qulacs.Observable(n)
    obs.add_operator(1.0, f"Z {n - 1}")

    def run() -> float:
        state.set_zero_state()
        qc.update_quantum_state(state)
        return float(obs.get_expectation_value(state))

    return run


def _aer(gates: list, n: int, threads: int) -> Callable[[], float] | None:
    try:
        from qiskit import transpile
        from qiskit.quantum_info import Pauli
        from qiskit_aer import AerSimulator
    except ImportError:
        return None
    from qmlsim.circuits import Circuit
    from qmlsim.circuits.convert.qiskit import to_qiskit

    c = Circuit(n)
    for name, params, wires in gates:
        c.gate(name, *params, *wires)
    qk = to_qiskit(c)
    qk.save_expectation_value(Pauli("Z"), [n - 1])
    aer = AerSimulator(method="statevector", max_parallel_threads=threads)
    qk = transpile(qk, aer, optimization_level=0)
    return lambda: float(np.real(aer.run(qk).result().data()["expectation_value"]))


# --- the sweep ----------------------------------------------------------------------------
def _repeats(n: int) -> int:
    return 5 if n <= 20 else (3 if n <= 22 else 2)


def sweep_case(family: str, n: int, threads: int, bandwidth: dict[str, float] | None) -> list[dict]:
    """Rows of one family at ``n`` wires: qmlsim, its complex64 (ladder, 18+ wires) and every peer."""
    gates = family_gates(family, n, seed=n)
    fns: dict[str, Callable[[], float]] = {OURS: _qmlsim(gates, n, "complex128")}
    if family == "ladder" and n >= 18:
        fns["qmlsim numba complex64"] = _qmlsim(gates, n, "complex64")
    for impl, fn in (("lightning.qubit", _lightning(gates, n)), ("qulacs", _qulacs(gates, n)), ("aer statevector", _aer(gates, n, threads))):
        if fn is not None:
            fns[impl] = fn
    notes: dict[str, str] = {}
    if n <= CHECK_UP_TO:
        ours = fns[OURS]()
        for impl, fn in fns.items():
            value = fn()
            tolerance = 1e-4 if "complex64" in impl else 1e-8
            if abs(value - ours) > tolerance:
                notes[impl] = f"MISMATCH: <Z> {value:.10f} against qmlsim {ours:.10f}"
    times = _interleaved(fns, _repeats(n))
    case = f"{family} n={n} (per gate)"
    rows = _rows(case, times, scale=1.0 / len(gates), notes=notes)
    for row in rows:
        if row["impl"] == "qmlsim numba complex64":
            row["ratio"] = times[OURS] / times["qmlsim numba complex64"]
            row["note"] = "ratio = complex128 time / complex64 time"
    if bandwidth is not None and n >= 22:
        name = f"{threads} threads" if threads > 1 else "1 thread"
        rate = bandwidth.get(name) or max(bandwidth.values())
        bound = 2 * 16 * 2**n / rate
        rows.append({"case": case, "impl": "bound", "seconds": bound, "ratio": bound / (times[OURS] / len(gates)),
                     "note": f"2*16*2^n bytes at {rate / 1e9:.1f} GB/s (copy); ratio = bound / qmlsim"})
    return rows


def run(quick: bool = False) -> list[dict]:
    """Every family at every size (``quick``: up to 20 wires), at this process's thread count."""
    import numba

    threads = numba.get_num_threads()
    sizes = QUICK_SIZES if quick else SIZES
    bandwidth = copy_bandwidth(1 << 27) if max(sizes) >= 22 else None
    rows: list[dict] = []
    for n in sizes:
        for family in FAMILIES:
            rows += sweep_case(family, n, threads, bandwidth)
    return rows
