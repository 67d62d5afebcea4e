"""qmlsim <-> Qiskit conversion, checked against Qiskit's Operator and a dense np.kron reference."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("qiskit")
from qiskit import QuantumCircuit  # noqa: E402
from qiskit.circuit import Parameter  # noqa: E402
from qiskit.circuit.random import random_circuit  # noqa: E402
from qiskit.quantum_info import Operator, SparsePauliOp, Statevector  # noqa: E402
from scipy.stats import unitary_group  # noqa: E402

from qmlsim.circuits import GATES, Circuit, Hermitian, X, Y, Z  # noqa: E402
from qmlsim.circuits import expressions as ex  # noqa: E402
from qmlsim.circuits.convert import (  # noqa: E402
    from_qiskit,
    parameter_values,
    qiskit_parameters,
    reverse_bit_order,
    to_qiskit,
    to_qiskit_observable,
)

ATOL = 1e-9


# --- an independent dense reference: every op embedded with np.kron-style tensor algebra
def _embed(matrix: np.ndarray, wires: tuple[int, ...], n: int) -> np.ndarray:
    """Full 2**n matrix of ``matrix`` on ``wires`` (first wire most significant) by permuting a kron product."""
    others = [w for w in range(n) if w not in wires]
    full = np.kron(matrix, np.eye(2 ** len(others)))
    order = list(wires) + others  # tensor axis k of `full` is wire order[k]
    full = full.reshape((2,) * (2 * n))
    perm = [order.index(w) for w in range(n)]
    full = full.transpose(perm + [n + p for p in perm])
    return full.reshape(2**n, 2**n)


def _control(matrix: np.ndarray, k: int) -> np.ndarray:
    d = matrix.shape[0]
    out = np.eye(2**k * d, dtype=complex)
    out[-d:, -d:] = matrix
    return out


def dense_unitary(circuit: Circuit, x_row=None, weights=None) -> np.ndarray:
    n = circuit.num_wires
    x = np.zeros((1, circuit.num_inputs)) if x_row is None else np.asarray(x_row, float)[None, :]
    w = np.zeros(circuit.num_weights) if weights is None else np.asarray(weights, float)
    u = np.eye(2**n, dtype=complex)
    for op in circuit.ops:
        values = [np.asarray(p.evaluate(x, w)).reshape(-1)[0] for p in op.params]
        m = op.matrix if op.name == "unitary" else GATES[op.name].matrix(values, np, np.complex128)
        m = np.asarray(m).reshape(m.shape[-2:])
        if op.adjoint:
            m = m.conj().T
        if op.controls:
            m = _control(m, len(op.controls))
        u = _embed(m, op.all_wires, n) @ u
    return u


def equal_up_to_phase(a: np.ndarray, b: np.ndarray, atol: float = ATOL) -> bool:
    k = np.argmax(np.abs(b))
    phase = a.flat[k] / b.flat[k]
    return abs(abs(phase) - 1) < atol and np.allclose(a, phase * b, atol=atol)


# --- random circuits over the whole gate set ---------------------------------------
def _angle(rng, xs, ws):
    choice = rng.integers(6)
    a, b = xs[rng.integers(len(xs))], ws[rng.integers(len(ws))]
    return [
        float(rng.uniform(-np.pi, np.pi)),
        a,
        b,
        2 * (np.pi - a) * (0.5 + b),
        ex.sin(a) * b - ex.cos(b) / 3 + ex.exp(0.1 * a),
        ex.arccos(ex.cos(a) * 0.9) + ex.sqrt(1.0 + b**2) - b / (2.0 + a**2),
    ][choice]


def random_qmlsim_circuit(rng, n=4, depth=18) -> Circuit:
    c = Circuit(n)
    xs, ws = c.inputs(3), c.weights(3)
    names = sorted(GATES)
    for k in range(depth):
        kind = rng.integers(10)
        if kind == 0:
            wires = tuple(int(v) for v in rng.choice(n, size=2, replace=False))
            c.unitary(unitary_group.rvs(4, random_state=int(rng.integers(1 << 30))), wires)
            continue
        name = names[k % len(names)] if k < len(names) else names[rng.integers(len(names))]
        gate = GATES[name]
        wires = [int(v) for v in rng.choice(n, size=gate.num_wires, replace=False)]
        c.gate(name, *[_angle(rng, xs, ws) for _ in range(gate.num_params)], *wires)
    # controlled and inverted sub-circuits, user matrix included
    sub = Circuit(2)
    sx, sw = sub.inputs(3), sub.weights(3)
    sub.rot(sx[0], sw[1], 0.3, 0).cry(sw[0] * sx[1], 0, 1).unitary(unitary_group.rvs(2, random_state=3), 1).s(0).u(sx[2], sw[2], 0.2, 1)
    c.compose(sub.controlled(1), wires=(3, 0, 2), share_weights=True)
    c.compose(sub.controlled(2), wires=(1, 3, 0, 2), share_weights=True)
    c.compose(sub.inverse(), wires=(2, 1), share_weights=True)
    c.compose(sub.controlled(1).inverse(), wires=(0, 1, 3), share_weights=True)
    return c


def _bind(qc: QuantumCircuit, x_row, w) -> QuantumCircuit:
    values = parameter_values(qc, x_row, w)[0]
    return qc.assign_parameters(dict(zip(qc.parameters, values)))


@pytest.mark.parametrize("seed", range(6))
def test_to_qiskit_operator_matches_dense_reference_exactly(seed):
    rng = np.random.default_rng(seed)
    c = random_qmlsim_circuit(rng)
    x_row, w = rng.uniform(-1, 1, c.num_inputs), rng.uniform(-1, 1, c.num_weights)
    qc = to_qiskit(c)
    qiskit_matrix = reverse_bit_order(Operator(_bind(qc, x_row, w)).data, c.num_wires, axes=(-2, -1))
    # the conversion keeps the global phase too
    np.testing.assert_allclose(qiskit_matrix, dense_unitary(c, x_row, w), atol=ATOL)


def test_every_gate_alone_converts_exactly():
    rng = np.random.default_rng(7)
    for name, gate in GATES.items():
        c = Circuit(gate.num_wires + 1)
        params = list(rng.uniform(-2, 2, gate.num_params))
        c.gate(name, *params, *range(1, gate.num_wires + 1))
        for variant in (c, c.inverse(), c.controlled(1)):
            got = reverse_bit_order(Operator(to_qiskit(variant)).data, variant.num_wires, axes=(-2, -1))
            np.testing.assert_allclose(got, dense_unitary(variant), atol=ATOL, err_msg=name)


@pytest.mark.parametrize("seed", range(4))
def test_round_trip_preserves_unitary(seed):
    rng = np.random.default_rng(100 + seed)
    c = random_qmlsim_circuit(rng)
    x_row, w = rng.uniform(-1, 1, c.num_inputs), rng.uniform(-1, 1, c.num_weights)
    qc = to_qiskit(c)
    back = from_qiskit(qc)
    assert back.num_inputs == qc.num_parameters and back.num_weights == 0
    row = parameter_values(qc, x_row, w)[0]
    assert equal_up_to_phase(dense_unitary(back, row), dense_unitary(c, x_row, w))
    as_weights = from_qiskit(qc, parameters="weights")
    assert equal_up_to_phase(dense_unitary(as_weights, None, row), dense_unitary(c, x_row, w))


def test_statevector_differs_only_by_bit_order():
    c = Circuit(3)
    x = c.inputs(2)
    c.ry(x[0], 0).cx(0, 2).rz(x[1], 2).h(1)
    x_row = np.array([0.7, -0.4])
    psi = dense_unitary(c, x_row)[:, 0]
    qiskit_psi = Statevector(_bind(to_qiskit(c), x_row, None)).data
    np.testing.assert_allclose(reverse_bit_order(qiskit_psi, 3), psi, atol=ATOL)
    # a plain X on wire 2 is |001> for qmlsim and index 4 for Qiskit
    one = Circuit(3).x(2)
    assert np.argmax(abs(Statevector(to_qiskit(one)).data)) == 4


@pytest.mark.parametrize("seed", range(5))
def test_from_qiskit_random_qiskit_circuits(seed):
    qc = random_circuit(4, depth=8, max_operands=3, seed=seed)
    c = from_qiskit(qc)
    expected = reverse_bit_order(Operator(qc).data, 4, axes=(-2, -1))
    assert equal_up_to_phase(dense_unitary(c), expected)


def test_from_qiskit_controlled_global_phase_and_open_controls():
    inner = QuantumCircuit(1, global_phase=0.7)
    inner.rx(0.3, 0)
    gate = inner.to_gate(label="phased")
    qc = QuantumCircuit(3)
    qc.append(gate.control(1), [0, 1])
    qc.append(gate.control(2, ctrl_state="01"), [2, 0, 1])
    qc.cx(1, 2, ctrl_state=0)
    qc.cu(0.1, 0.2, 0.3, 0.4, 0, 2)
    c = from_qiskit(qc)
    expected = reverse_bit_order(Operator(qc).data, 3, axes=(-2, -1))
    assert equal_up_to_phase(dense_unitary(c), expected)


def test_from_qiskit_parameter_expressions():
    a, b = Parameter("a"), Parameter("b")
    qc = QuantumCircuit(2)
    qc.rx((2 * a + b).sin() * a.cos() + a.exp() / 2, 0)
    qc.ry(b.arccos() - a**2 + (1 + b**2) ** 0.5, 1)
    qc.crz(a.tan() + b.arcsin(), 0, 1)
    c = from_qiskit(qc, parameters="weights")
    values = {a: 0.3, b: -0.6}
    expected = reverse_bit_order(Operator(qc.assign_parameters(values)).data, 2, axes=(-2, -1))
    assert equal_up_to_phase(dense_unitary(c, None, [values[p] for p in qc.parameters]), expected)


def test_measurements_and_barriers_dropped_midcircuit_rejected():
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.barrier()
    qc.cx(0, 1)
    qc.measure_all()
    assert [op.name for op in from_qiskit(qc).ops] == ["h", "cx"]
    bad = QuantumCircuit(2, 1)
    bad.h(0)
    bad.measure(0, 0)
    bad.x(0)
    with pytest.raises(ValueError, match="after they were measured"):
        from_qiskit(bad)
    reset = QuantumCircuit(1)
    reset.reset(0)
    with pytest.raises(ValueError, match="reset"):
        from_qiskit(reset)
    with pytest.raises(ValueError, match="'inputs', 'weights' or 'split'"):
        from_qiskit(qc, parameters="both")
    with pytest.raises(TypeError, match="QuantumCircuit"):
        from_qiskit(Circuit(1))
    with pytest.raises(TypeError, match="Circuit"):
        to_qiskit(qc)


def test_parameter_helpers():
    c = Circuit(2)
    x, w = c.inputs(3), c.weights(2)
    c.rx(x[2], 0).ry(w[1] * x[0], 1)
    qc = to_qiskit(c)
    inputs, weights = qiskit_parameters(qc)
    assert [p.name for p in inputs] == ["x[0]", "x[1]", "x[2]"] and [p.name for p in weights] == ["w[0]", "w[1]"]
    xs = np.arange(6.0).reshape(2, 3)
    values = parameter_values(qc, xs, [0.5, 0.25])
    by_name = [dict(zip([p.name for p in qc.parameters], row)) for row in values]
    assert by_name[1] == {"w[1]": 0.25, "x[0]": 3.0, "x[2]": 5.0}
    with pytest.raises(ValueError, match="columns"):
        parameter_values(qc, np.zeros((2, 1)), [0.5, 0.25])


def test_observable_to_sparse_pauli_op():
    rng = np.random.default_rng(3)
    h = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    obs = 0.5 * Z(0) @ X(2) - 1.5 * Y(1) + Hermitian(h + h.conj().T, (2, 0)) + 0.25
    op = to_qiskit_observable(obs, 3)
    assert isinstance(op, SparsePauliOp)
    np.testing.assert_allclose(reverse_bit_order(op.to_matrix(), 3, axes=(-2, -1)), obs.matrix(3), atol=ATOL)


def test_importing_the_converters_needs_numpy_only():
    import subprocess
    import sys

    code = (
        "import sys, qmlsim.circuits.convert as c; c.reverse_bit_order; "
        "assert not {'qiskit', 'pennylane'} & set(sys.modules), sorted(m for m in sys.modules if m in ('qiskit', 'pennylane'))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_round_trip_with_split_parameters_restores_inputs_and_weights():
    from tests import reference as ref

    c = Circuit(2)
    x, w = c.inputs(2), c.weights(3)
    c.ry(x[0] * w[0], 0).cx(0, 1).rz(w[2] + x[1], 1).rx(w[1], 0)
    back = from_qiskit(to_qiskit(c), parameters="split")
    assert (back.num_inputs, back.num_weights) == (2, 3)
    xs, ws = np.array([[0.1, 0.2], [0.3, -0.4]]), np.array([0.5, 0.6, -0.7])
    for row in xs:
        state = ref.dense_statevector(back, row, ws)
        np.testing.assert_allclose(abs(np.vdot(state, ref.dense_statevector(c, row, ws))), 1.0, atol=1e-12)
    foreign = QuantumCircuit(1)
    foreign.rx(Parameter("theta"), 0)
    with pytest.raises(ValueError, match='parameters="inputs"'):
        from_qiskit(foreign, parameters="split")


def test_hermitian_terms_keep_their_small_pauli_components():
    """SparsePauliOp.from_operator drops terms below rtol = 1e-5 by default; the export keeps them
    (the differential harness found a dropped 8.9e-6 term moving an expectation value by 1e-6)."""
    zz = np.diag([1.0, -1.0, -1.0, 1.0]).astype(complex)
    xz = np.kron(np.array([[0, 1], [1, 0]]), np.diag([1.0, -1.0])).astype(complex)
    matrix = zz + 8.9e-6 * xz + 3e-10 * np.eye(4)
    exported = to_qiskit_observable(0.5 * Hermitian(matrix, (0, 1)), 2)
    assert isinstance(exported, SparsePauliOp)
    # qiskit's qubit 0 is wire 0: its matrix is the wire-ordered one with the bit order reversed
    expected = 0.5 * matrix.reshape(2, 2, 2, 2).transpose(1, 0, 3, 2).reshape(4, 4)
    np.testing.assert_allclose(exported.to_matrix(), expected, atol=1e-15)
