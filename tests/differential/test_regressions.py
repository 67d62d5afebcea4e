"""Regressions the differential harness found, each against an independent reference."""
from __future__ import annotations

import numpy as np
import pytest

from qmlsim.circuits import Circuit, Z
from qmlsim.simulators import Simulator
from qmlsim.simulators.program import SCAN_THRESHOLD
from tests import reference as ref


@pytest.mark.parametrize("dtype", ["complex128", "complex64"])
def test_jax_scan_with_constant_phases_and_a_symbolic_signal(dtype):
    # issue 9: a QSP-like sequence longer than SCAN_THRESHOLD; every constant RZ phase
    # used to take the first one's value on the lax.scan path
    c = Circuit(1)
    x = c.inputs(1)
    phases = np.random.default_rng(0).uniform(-3, 3, 60)
    for phi in phases:
        c.rz(float(phi), 0).rx(-2 * x[0], 0)
    assert len(c.ops) > SCAN_THRESHOLD
    xs = np.linspace(0, 3, 5)[:, None]
    got = np.asarray(Simulator(backend="jax", dtype=dtype).expval(c, Z(0), x=xs))
    expected = [ref.dense_expval(ref.dense_statevector(c, row), ref.pauli_matrix("Z")) for row in xs]
    np.testing.assert_allclose(got, expected, atol=1e-9 if dtype == "complex128" else 2e-4)


PARAMETRIC = ["rx", "ry", "rz", "p", "u", "u3", "rot", "crx", "cry", "crz", "cp", "rxx", "ryy", "rzz"]


@pytest.mark.parametrize("name", PARAMETRIC)
def test_jax_scan_every_parametric_gate_with_constant_angles(name):
    """60 copies of one gate, each with its own constant angles (and an input between them), on the scan path."""
    rng = np.random.default_rng(len(name))
    n = 3
    c = Circuit(n)
    x = c.inputs(1)
    width, num_params = ref._num_wires_params(name)
    for _ in range(30):
        wires = rng.choice(n, width, replace=False).tolist()
        c.gate(name, *[float(a) for a in rng.uniform(-3, 3, num_params)], *wires)
        c.ry(0.5 * x[0], int(rng.integers(n)))
    assert len(c.ops) > SCAN_THRESHOLD
    xs = np.array([[0.3], [-1.2]])
    got = np.asarray(Simulator(backend="jax").statevector(c, x=xs))
    expected = np.stack([ref.qiskit_statevector(c, row) for row in xs])
    np.testing.assert_allclose(got, expected, atol=1e-10)


def test_from_qiskit_reads_a_power_with_a_parametric_exponent():
    # Qiskit 2.x's ParameterExpression.sympify gives NotImplemented for c ** f(x)
    from qmlsim.circuits import expressions as ex
    from qmlsim.circuits.convert.qiskit import from_qiskit, to_qiskit

    c = Circuit(1)
    x = c.inputs(2)
    w = c.weights(1)
    c.ry(0.7 * (1.5 + ex.sin(ex.Const(1.818))) ** (0.5 * ex.cos(x[1])) * w[0], 0).rx(2.0 ** x[0] + x[1] * x[0], 0)
    back = from_qiskit(to_qiskit(c), parameters="inputs")  # parameters in Qiskit's order: w[0], x[0], x[1]
    xs, weights = np.array([[0.3, 0.7], [-1.1, 0.2]]), np.array([0.4])
    got = Simulator().statevector(back, x=np.hstack([np.full((2, 1), weights[0]), xs]))
    expected = np.stack([ref.dense_statevector(c, row, weights) for row in xs])
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_from_qiskit_reads_an_expression_that_reduced_to_one_parameter():
    # Qiskit 2.x: 1.0 * x, x + 0, -(-x) are ParameterExpressions with is_symbol() and no .name
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    from qmlsim.circuits.convert.qiskit import from_qiskit

    x = ParameterVector("x", 2)
    qc = QuantumCircuit(1)
    qc.ry(1.0 * x[0], 0)
    qc.rz(x[1] + 0, 0)
    qc.rx(-(-x[0]), 0)
    c = from_qiskit(qc, parameters="inputs")
    rows = np.array([[0.3, -0.8], [1.2, 0.4]])
    got = Simulator().statevector(c, x=rows)
    expected = []
    for a, b in rows:
        rx = np.array([[np.cos(a / 2), -1j * np.sin(a / 2)], [-1j * np.sin(a / 2), np.cos(a / 2)]])
        rz = np.diag([np.exp(-0.5j * b), np.exp(0.5j * b)])
        ry = np.array([[np.cos(a / 2), -np.sin(a / 2)], [np.sin(a / 2), np.cos(a / 2)]])
        expected.append(rx @ rz @ ry @ np.array([1, 0]))
    np.testing.assert_allclose(got, np.array(expected), atol=1e-12)


def test_jax_scan_with_many_user_unitaries():
    # user matrices used to get one lax.switch branch each: 10^4 gates took 74 s to compile;
    # now one branch per matrix size reads its matrix from a table
    rng = np.random.default_rng(5)
    c = Circuit(3)
    x = c.inputs(1)
    for k in range(300):
        wires = rng.choice(3, 1 + k % 2, replace=False).tolist()
        c.unitary(ref.random_unitary(2 ** len(wires), rng), wires)
        c.ry(0.3 * x[0], k % 3)
    xs = np.array([[0.2], [-0.9]])
    got = np.asarray(Simulator(backend="jax").statevector(c, x=xs))
    expected = np.stack([ref.qiskit_statevector(c, row) for row in xs])
    np.testing.assert_allclose(got, expected, atol=1e-10)


@pytest.mark.parametrize("dtype", ["complex128", "complex64"])
def test_jax_program_folds_constant_prefix_and_permutation_runs(dtype):
    # the traced path computes the leading constant gates once and turns each run of
    # constant permutations into one gather: results must not change, from |0> or a start state
    from qmlsim.simulators.backends import get_backend
    from qmlsim.simulators.program import compile_circuit

    c = Circuit(5)
    x = c.inputs(2)
    c.h(0).h(1).rx(0.3, 2).cx(0, 3)  # constant prefix
    c.ry(x[0], 4)
    c.cx(4, 0).swap(1, 2).x(3).ccx(0, 1, 2).cz(2, 4)  # a permutation run (cz is diagonal: it ends the run)
    c.rz(x[1] * 2, 1).cx(1, 0).cx(0, 1)
    backend = get_backend("jax", dtype)
    with backend.scope():  # as the Simulator compiles it (64-bit constants for complex128)
        program = compile_circuit(c, backend, dtype)
        prefix, covered, items = program._fused
    assert covered == 4 and prefix is not None
    assert sum(isinstance(item, np.ndarray) for item in items) == 2
    xs = np.array([[0.4, -1.1], [2.0, 0.7]])
    atol = 1e-12 if dtype == "complex128" else 2e-6
    sim = Simulator(backend="jax", dtype=dtype)
    expected = np.stack([ref.qiskit_statevector(c, row) for row in xs])
    np.testing.assert_allclose(np.asarray(sim.statevector(c, x=xs)), expected, atol=atol)
    rng = np.random.default_rng(3)
    start = rng.normal(size=(2, 32)) + 1j * rng.normal(size=(2, 32))
    start /= np.linalg.norm(start, axis=1, keepdims=True)
    expected = np.stack([ref.qiskit_statevector(c, row, initial=s) for row, s in zip(xs, start)])
    np.testing.assert_allclose(np.asarray(sim.statevector(c, x=xs, initial_state=start)), expected, atol=atol)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_tensor_contraction_reference_equals_qiskit(seed):
    # the harness differentiates this reference for circuits wider than DENSE_MAX_WIRES
    rng = np.random.default_rng(seed)
    c = ref.random_circuit(rng, 8, 40)
    x, w = rng.uniform(-2, 2, c.num_inputs), rng.uniform(-2, 2, c.num_weights)
    np.testing.assert_allclose(ref.local_statevector(c, x, w), ref.qiskit_statevector(c, x, w), atol=1e-10)
    start = rng.normal(size=256) + 1j * rng.normal(size=256)
    start /= np.linalg.norm(start)
    np.testing.assert_allclose(ref.local_statevector(c, x, w, initial=start), ref.qiskit_statevector(c, x, w, initial=start), atol=1e-10)
