"""OpenQASM 3 export and OpenQASM 2 import, checked by Qiskit's and openqasm3's parsers and a dense reference."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("qiskit")
from qiskit import qasm3  # noqa: E402
from qiskit.quantum_info import Operator  # noqa: E402

from qmlsim.circuits import GATES, Circuit  # noqa: E402
from qmlsim.circuits.convert import from_qasm2, reverse_bit_order, to_qasm3  # noqa: E402

from tests.circuits.test_convert_qiskit import dense_unitary, equal_up_to_phase, random_qmlsim_circuit  # noqa: E402

ATOL = 1e-8


def _qiskit_unitary(program: str, n: int) -> np.ndarray:
    return reverse_bit_order(Operator(qasm3.loads(program)).data, n, axes=(-2, -1))


@pytest.mark.parametrize("seed", range(3))
def test_bound_export_has_the_same_unitary(seed):
    pytest.importorskip("qiskit_qasm3_import")
    rng = np.random.default_rng(seed)
    c = random_qmlsim_circuit(rng)
    x_row, w = rng.uniform(-1, 1, c.num_inputs), rng.uniform(-1, 1, c.num_weights)
    program = to_qasm3(c, x=x_row, weights=w)
    assert "input" not in program
    # gate definitions keep the global phase, so controlled user matrices are exact too
    assert equal_up_to_phase(_qiskit_unitary(program, c.num_wires), dense_unitary(c, x_row, w), ATOL)


def test_every_gate_exact_under_control():
    pytest.importorskip("qiskit_qasm3_import")
    rng = np.random.default_rng(1)
    for name, gate in GATES.items():
        c = Circuit(gate.num_wires + 1)
        c.gate(name, *rng.uniform(-2, 2, gate.num_params), *range(1, gate.num_wires + 1))
        for variant in (c.controlled(1), c.inverse()):
            got = _qiskit_unitary(to_qasm3(variant), variant.num_wires)
            np.testing.assert_allclose(got, dense_unitary(variant), atol=ATOL, err_msg=name)


def test_symbolic_export_declares_inputs_and_parses():
    openqasm3 = pytest.importorskip("openqasm3")
    from qmlsim.circuits import arccos, cos, exp, sin, sqrt

    c = Circuit(2)
    x, w = c.inputs(2), c.weights(1)
    c.rx(sin(x[0]) * w[0] + cos(x[1]) ** 2, 0).ry(arccos(x[0] / 2) - sqrt(exp(w[0])), 1).cx(0, 1)
    program = to_qasm3(c)
    assert "input float[64] x_0;" in program and "input float[64] w_0;" in program
    tree = openqasm3.parse(program)  # the reference grammar accepts it
    assert len(tree.statements) > 3
    # bind the weights only: inputs stay symbolic
    partly = to_qasm3(c, weights=[0.5])
    assert "w_0" not in partly and "x_1" in partly


def test_arithmetic_inputs_load_as_qiskit_parameters():
    pytest.importorskip("qiskit_qasm3_import")
    c = Circuit(2)
    x, w = c.inputs(2), c.weights(1)
    c.h(0).crz(2 * x[0] - x[1] / 3, 0, 1).ry(w[0] * x[1] + 0.5, 1)
    qc = qasm3.loads(to_qasm3(c))
    values = {"x_0": 0.3, "x_1": -0.8, "w_0": 1.7}
    bound = qc.assign_parameters({p: values[p.name] for p in qc.parameters})
    expected = dense_unitary(c, [0.3, -0.8], [1.7])
    assert equal_up_to_phase(reverse_bit_order(Operator(bound).data, 2, axes=(-2, -1)), expected, ATOL)


def test_from_qasm2():
    program = """
    OPENQASM 2.0;
    include "qelib1.inc";
    gate mygate(theta) a, b { cx a, b; rz(theta) b; cx a, b; }
    qreg q[2];
    qreg r[1];
    creg c[3];
    h q[0];
    u3(0.1, 0.2, 0.3) r[0];
    u2(0.4, 0.5) q[1];
    mygate(0.7) q[1], r[0];
    ccx q[0], q[1], r[0];
    sdg q[1];
    barrier q;
    measure q -> c[0:1];
    """.replace("c[0:1]", "c")
    program = program.replace("measure q -> c;", "measure q[0] -> c[0];\n    measure q[1] -> c[1];")
    c = from_qasm2(program)
    ref = Circuit(3)
    ref.h(0).u3(0.1, 0.2, 0.3, 2).u(np.pi / 2, 0.4, 0.5, 1).cx(1, 2).rz(0.7, 2).cx(1, 2).ccx(0, 1, 2).sdg(1)
    assert equal_up_to_phase(dense_unitary(c), dense_unitary(ref), ATOL)
    with pytest.raises(ValueError, match="invalid OpenQASM 2"):
        from_qasm2("OPENQASM 2.0; qreg q[1]; notagate q[0];")
    with pytest.raises(TypeError):
        from_qasm2(b"bytes")


def test_bad_binding_shape():
    c = Circuit(1)
    c.inputs(2)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        to_qasm3(c, x=[0.1])
