"""Dynamical cooling (inferred protocol), circuit method: qmlsim's engine against lightning.qubit and Aer, in one run.

Cases, on the TFIM chain (h = 1, open) at n system qubits plus the GQSP ancilla, d = 64
cooling steps, c = 1 (so ``t = 8`` per step, ``ceil(4 t) = 32`` slices per step):

- ``circuit step n=N``: one cooling step, i.e. ``trotter_slices`` runs of the slice circuit
  (``e^{-i delta lambda V / 2}``, GQSP of the shifted sign in the Strang-Trotter
  ``e^{-i tau H}``, ``U^-m``, ``e^{-i delta lambda V / 2}``), each from the current state
  ``|0>|psi>`` with the ancilla post-selected. Every implementation runs the same circuit:
  qmlsim's engine (``Simulator.statevector(..., initial_state=...)``); PennyLane
  ``lightning.qubit`` on the operations of ``to_pennylane`` after ``StatePrep``; Qiskit Aer's
  statevector method on ``to_qiskit`` after ``set_statevector``, with its default gate
  fusion. A peer's time per slice is measured on one slice and multiplied by the slices
  per step (``note`` says so); qmlsim's is a whole step.
- ``dense step n=N``: one step of the exact (dense) method, which above 10 wires applies
  Chebyshev series in sparse ``H`` (``H`` products per step in ``note``).

``gates``, ``queries`` per step sit next to the times. ``ratio`` is the peer's time / qmlsim's
time in the same case. These are our numbers for an inferred protocol, not the paper's.

Run: ``python benchmarks/run.py cooling [--quick]``.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import numpy as np

from benchmarks.common import timed

OURS = "qmlsim"


def _slices(n: int, steps: int = 64, coupling: float = 1.0) -> tuple[Any, np.ndarray, np.ndarray, int]:
    """The slice builder, the angles of the first threshold, a start state and the slices per step."""
    from qmlsim.circuits.templates import tfim
    from qmlsim.qml.cooling import _CircuitSlices, _spectrum, default_perturbation, linear_mu_schedule

    h = tfim(n, h=1.0)
    from qmlsim.simulators.sparse import sparse_matrix

    spectrum = _spectrum(sparse_matrix(h, n))
    energies = spectrum.energies
    lam = coupling / math.sqrt(steps)
    t = 1 / lam
    slices = math.ceil(4 * t)
    eps = 0.025 * float(energies[-1] - energies[0])
    builder = _CircuitSlices(h, default_perturbation(n), n, energies, eps, t / slices, lam, None)
    mu = float(linear_mu_schedule(energies, steps)[steps // 2])
    rng = np.random.default_rng(0)
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    return builder, builder.angles(mu), psi / np.linalg.norm(psi), slices


def circuit_case(n: int, peers: bool) -> list[dict]:
    case = f"circuit step n={n}"
    builder, angles, psi, slices = _slices(n)
    circuit = builder.circuit
    gates = len(circuit.ops)
    info = {"gates": gates * slices, "queries": {"exp(-iH)": builder.degree * slices, "V": slices}}
    builder(angles, psi)  # compile

    def step() -> np.ndarray:
        state = psi
        for _ in range(slices):
            state = builder(angles, state)
        return state

    ours, final = timed(step)
    rows = [{"case": case, "impl": OURS, "seconds": ours, "ratio": None, **info,
             "note": f"{slices} slices of {gates} gates on {n + 1} wires"}]
    if not peers:
        return rows
    start = np.concatenate([psi, np.zeros_like(psi)])
    expected = np.asarray(builder.device.statevector(circuit, weights=angles, initial_state=start))
    for impl, make in (("lightning.qubit", _lightning), ("aer statevector", _aer)):
        try:
            run = make(circuit, angles, start)
            run()  # warm-up
            seconds, state = timed(run)
            error = float(np.abs(np.asarray(state) - expected).max())
            rows.append({"case": case, "impl": impl, "seconds": seconds * slices, "ratio": seconds * slices / ours, **info,
                         "note": f"one slice timed, x {slices}; max |state - qmlsim| {error:.1e}"})
        except Exception as err:  # noqa: BLE001 - a peer's failure is a result
            rows.append({"case": case, "impl": impl, "seconds": None, "ratio": None, **info,
                         "note": f"failed: {type(err).__name__}: {str(err)[:80]}"})
    return rows


def _lightning(circuit: Any, angles: np.ndarray, start: np.ndarray) -> Callable[[], np.ndarray]:
    import pennylane as qml

    from qmlsim.circuits.convert import to_pennylane

    dev = qml.device("lightning.qubit", wires=circuit.num_wires)

    @qml.qnode(dev)
    def run(state: np.ndarray) -> Any:
        qml.StatePrep(state, wires=range(circuit.num_wires))
        to_pennylane(circuit, weights=angles)
        return qml.state()

    return lambda: run(start)


def _aer(circuit: Any, angles: np.ndarray, start: np.ndarray) -> Callable[[], np.ndarray]:
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator

    from qmlsim.circuits.convert.qiskit import parameter_values, to_qiskit

    n = circuit.num_wires
    body = to_qiskit(circuit)
    bound = body.assign_parameters(parameter_values(body, weights=angles)[0])
    # qmlsim's wire 0 is the most significant bit; Qiskit's qubit 0 the least
    little = np.asarray(start).reshape((2,) * n).transpose(tuple(range(n))[::-1]).reshape(-1)
    qc = QuantumCircuit(n)
    qc.set_statevector(little)
    qc.compose(bound, inplace=True)
    qc.save_statevector()
    sim = AerSimulator(method="statevector")
    from qiskit import transpile

    compiled = transpile(qc, sim, optimization_level=0)

    def run() -> np.ndarray:
        data = np.asarray(sim.run(compiled).result().get_statevector())
        return data.reshape((2,) * n).transpose(tuple(range(n))[::-1]).reshape(-1)

    return run


def dense_case(n: int) -> list[dict]:
    from qmlsim.circuits.templates import tfim
    from qmlsim.qml.cooling import (
        _MatrixFreeStep, _operator_norm, _spectrum, default_perturbation, linear_mu_schedule,
    )

    steps = 64
    from qmlsim.simulators.sparse import sparse_matrix

    hamiltonian = tfim(n, h=1.0)
    h = sparse_matrix(hamiltonian, n)
    v = sparse_matrix(default_perturbation(n), n)
    spectrum = _spectrum(h)
    energies = spectrum.energies
    lam = 1 / math.sqrt(steps)
    step = _MatrixFreeStep(hamiltonian, n, v, energies, 0.025 * float(energies[-1] - energies[0]), lam, 1 / lam,
                           _operator_norm(v))
    psi = np.zeros(2**n, complex)
    psi[0] = 1
    mu = float(linear_mu_schedule(energies, steps)[steps // 2])
    seconds, _ = timed(lambda: step(mu, psi), 2)
    return [{"case": f"dense step n={n}", "impl": OURS, "seconds": seconds, "ratio": None,
             "note": f"Chebyshev series in H, Lanczos in S + lambda V: {step.products // 2} H products per step"}]


def run(quick: bool = False) -> list[dict]:
    """Every case; ``quick`` runs n = 8 and 10 only."""
    sizes = (8, 10) if quick else (10, 12, 14)
    rows = []
    for n in sizes:
        rows += circuit_case(n, peers=True)
    for n in (12,) if quick else (12, 14):
        rows += dense_case(n)
    return rows


if __name__ == "__main__":  # the same as ``python benchmarks/run.py cooling [--quick] [--threads 1,2]``
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.run import main

    sys.exit(main(["cooling", *sys.argv[1:]]))
