"""Every path reads the gate table: a gate that some path cannot handle fails here.

The engine, gradient and converter tests loop over ``GATES`` against independent
references (``tests/reference.py``, Qiskit, PennyLane). These tests check what they
cannot see: that no gate silently leaves the numba path for the slower array path,
that each record is complete (decompositions exact, names real), and that the
PennyLane device's capabilities file lists exactly the table's gates.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from qmlsim.circuits import Circuit, Z
from qmlsim.circuits.gates import GATES, NUMBA_KERNELS
from qmlsim.simulators import Simulator, fast
from qmlsim.simulators.backends import get_backend
from qmlsim.simulators.fast.kernels import KERNEL_CODES
from qmlsim.simulators.program import compile_circuit
from tests import reference as ref

NAMES = sorted(GATES)
DECOMPOSED = [n for n in NAMES if GATES[n].decomposition is not None]


def one_gate_circuit(name: str, controlled: bool = False) -> Circuit:
    """``name`` on shuffled wires of an entangled 4-wire state, angles mixing inputs and weights."""
    gate = GATES[name]
    c = Circuit(4)
    x = c.inputs(2)
    w = c.weights(max(1, gate.num_params))
    for q in range(4):
        c.ry(0.4 + 0.3 * q + x[0], q)
    c.cx(0, 1).cx(2, 3).cx(1, 2)
    wires = [3, 1, 0, 2][: gate.num_wires]
    params = [w[k] * (1 + 0.5 * x[k % 2]) + 0.1 * k for k in range(gate.num_params)]
    inner = Circuit(gate.num_wires)
    inner.num_inputs, inner.num_weights = c.num_inputs, c.num_weights
    inner.gate(name, *params, *range(gate.num_wires))
    if controlled:  # one more control, on a wire the gate leaves free
        free = [q for q in range(4) if q not in wires][0]
        return c.compose(inner.controlled(1), wires=[free] + wires, share_weights=True)
    return c.compose(inner, wires=wires, share_weights=True)


@pytest.mark.parametrize("dtype, atol", [("complex128", 1e-10), ("complex64", 2e-5)])
@pytest.mark.parametrize("controlled", [False, True], ids=["plain", "controlled"])
@pytest.mark.parametrize("name", NAMES)
def test_every_gate_runs_on_the_numba_path(name, controlled, dtype, atol):
    """No gate sends its circuit to the array path: the numba plan exists, and states and
    adjoint gradients match the dense reference and finite differences."""
    c = one_gate_circuit(name, controlled)
    plan = fast.plan_for(compile_circuit(c, get_backend("numpy"), dtype))
    assert plan is not None, f"{name}: the numba path refused the circuit (array-path fallback)"
    rng = np.random.default_rng(NAMES.index(name))
    x = rng.uniform(-1, 1, (3, 2))
    w = rng.uniform(-2, 2, c.num_weights)
    states = plan.states(x, w)
    expected = np.stack([ref.dense_statevector(c, row, w) for row in x])
    np.testing.assert_allclose(states, expected, atol=atol)
    if not GATES[name].num_params:
        return
    obs = Z(0) @ Z(3) + 0.5 * Z(1)
    got = fast.adjoint_jacobian(plan, [obs], x[:1], w, "weights")[0, 0]
    obs_matrix = np.kron(ref.pauli_matrix("Z"), np.kron(np.eye(4), ref.pauli_matrix("Z"))) + 0.5 * np.kron(
        np.eye(2), np.kron(ref.pauli_matrix("Z"), np.eye(4))
    )

    def energy(weights: np.ndarray) -> float:
        return float(ref.dense_expval(ref.dense_statevector(c, x[0], weights), obs_matrix))

    np.testing.assert_allclose(got, ref.finite_difference(energy, w), atol=100 * atol + 1e-6)


def test_numba_builders_are_the_gate_tables_kernels():
    assert set(KERNEL_CODES) == set(NUMBA_KERNELS)
    for name, gate in GATES.items():
        if gate.num_params:
            assert gate.kernel is None or gate.kernel in KERNEL_CODES, name


def test_generic_kernel_equals_the_builders(monkeypatch):
    """Every gate with a numba builder, run instead through the generic kernel (matrix from the table)."""
    from dataclasses import replace

    import qmlsim.simulators.program as program_module

    rng = np.random.default_rng(3)
    for name in [n for n in NAMES if GATES[n].kernel is not None]:
        c = one_gate_circuit(name)
        x, w = rng.uniform(-1, 1, (2, 2)), rng.uniform(-2, 2, c.num_weights)
        built = Simulator(kernels="numba").jacobian(c, Z(0) @ Z(3), x=x, weights=w)
        table = dict(GATES)
        table.update({n: replace(g, kernel=None) for n, g in GATES.items()})
        with monkeypatch.context() as patch:
            patch.setattr(program_module, "GATES", table)
            patch.setattr(program_module, "_PROGRAMS", {})
            generic_program = compile_circuit(c, get_backend("numpy"))
            plan = fast.plan_for(generic_program)
            assert plan is not None and plan.needs_row_values
            generic = fast.adjoint_jacobian(plan, [Z(0) @ Z(3)], x, w, "weights")[:, 0]
            np.testing.assert_allclose(plan.states(x, w), Simulator(kernels="array").statevector(c, x=x, weights=w), atol=1e-12)
        np.testing.assert_allclose(generic, built, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("name", DECOMPOSED)
def test_decompositions_are_exact(name):
    """The product of the parts' reference matrices is the gate's reference matrix, global phase included."""
    gate = GATES[name]
    rng = np.random.default_rng(DECOMPOSED.index(name))
    params = rng.uniform(-2 * np.pi, 2 * np.pi, gate.num_params)
    c = Circuit(gate.num_wires)
    for part, angles, wires in gate.decomposition(list(params)):
        c.gate(part, *[float(a) for a in angles], *wires)
    np.testing.assert_allclose(ref.dense_unitary(c), ref.dense_gate_matrix(name, params), atol=1e-12)


def test_records_name_real_gates():
    """Qiskit and OpenQASM names exist; gates without one are reachable through their decomposition."""
    from qiskit.circuit.library import get_standard_gate_name_mapping

    qiskit_gates = get_standard_gate_name_mapping()
    stdgates = {"id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "p", "cx", "cy", "cz", "ch",
                "swap", "crx", "cry", "crz", "cp", "ccx", "cswap", "U", "u1", "u2", "u3", "phase", "cphase", "cu"}
    for name, gate in GATES.items():
        assert not gate.qiskit_name or gate.qiskit_name in qiskit_gates, name
        assert not gate.qasm_name or gate.qasm_name in stdgates, name
        if not (gate.qiskit_name and gate.pennylane_name and gate.qasm_name):
            assert gate.decomposition is not None, name


def test_gqsp_rotation_is_pennylanes():
    """The GQSP rotation (added by following docs/contributing.md) against PennyLane's qml.GQSP with no signal step."""
    import pennylane as qml

    rng = np.random.default_rng(4)
    for _ in range(3):
        theta, phi, lam = rng.uniform(-np.pi, np.pi, 3)
        angles = np.array([[theta], [phi], [lam]])
        theirs = qml.matrix(qml.GQSP(qml.PauliX(1), angles, control=0), wire_order=[0, 1])
        ours = np.kron(GATES["gqsp"].matrix([theta, phi, lam], np, np.complex128), np.eye(2))
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_device_capabilities_list_the_gate_table():
    """The device declares exactly the table's PennyLane names, plus what its TOML adds."""
    from qmlsim.simulators.executors.pennylane_device import QmlsimDevice

    import qmlsim.simulators.executors as executors

    path = Path(executors.__file__).with_name("qmlsim_statevector.toml")
    toml = tomllib.loads(path.read_text())
    device_extras = set(toml["operators"]["gates"])
    assert device_extras == {"MultiControlledX", "QubitUnitary", "GlobalPhase"}
    from_table = {g.pennylane_name.removeprefix("Adjoint(").removesuffix(")") for g in GATES.values() if g.pennylane_name}
    declared = set(QmlsimDevice.capabilities.operations)
    extras_from_pennylane_table = set(toml["pennylane"]["operators"]["gates"])
    assert declared == from_table | device_extras | extras_from_pennylane_table


@pytest.mark.parametrize("argnum", ["weights", "x"])
@pytest.mark.parametrize("name", [n for n in NAMES if not GATES[n].pennylane_name])
def test_gates_pennylane_lacks_differentiate_through_their_decomposition(name, argnum):
    """The tape holds the decomposition's angles (GQSP: 2 theta): its gradients are carried back through them."""
    import pennylane as qml

    from qmlsim.simulators import PennyLaneExecutor

    c = one_gate_circuit(name)
    rng = np.random.default_rng(7)
    x, w = rng.uniform(-1, 1, (2, 2)), rng.uniform(-2, 2, c.num_weights)
    obs = Z(0) @ Z(3) + 0.5 * Z(1)
    got = PennyLaneExecutor(qml.device("default.qubit")).jacobian(c, obs, x=x, weights=w, method="parameter-shift", argnum=argnum)
    matrix = obs.matrix(4)

    def energy(row: np.ndarray, weights: np.ndarray) -> float:
        return float(ref.dense_expval(ref.dense_statevector(c, row, weights), matrix))

    for b in range(2):
        if argnum == "weights":
            expected = ref.finite_difference(lambda v: energy(x[b], v), w)
        else:
            expected = ref.finite_difference(lambda v: energy(v, w), x[b])
        np.testing.assert_allclose(got[b], expected, atol=1e-6)
