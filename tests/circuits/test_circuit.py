"""The circuit IR: building, validation, compose/inverse/controlled, checked with the dense reference."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from qmlsim.circuits import Circuit, GATES
from qmlsim.circuits.expressions import Symbol
from tests import reference as ref

ATOL = 1e-12


def test_gate_methods_record_ops():
    c = Circuit(3)
    x = c.inputs(1)
    w = c.weights(2)
    c.h(0).cx(0, 1).rz(2 * x[0], 2).rot(w[0], w[1], 0.5, 1).ccx(0, 1, 2).cswap(2, 0, 1)
    assert [op.name for op in c.ops] == ["h", "cx", "rz", "rot", "ccx", "cswap"]
    assert c.ops[1].wires == (0, 1)
    assert c.ops[4].wires == (0, 1, 2)
    assert len(c) == 6 and c.num_inputs == 1 and c.num_weights == 2


@pytest.mark.parametrize("name", sorted(GATES))
def test_every_gate_has_a_method_matching_gate(name):
    gate = GATES[name]
    c1, c2 = Circuit(gate.num_wires), Circuit(gate.num_wires)
    args = [0.1 * (k + 1) for k in range(gate.num_params)] + list(reversed(range(gate.num_wires)))
    getattr(c1, name)(*args)
    c2.gate(name, *args)
    assert c1.key == c2.key
    np.testing.assert_allclose(
        ref.dense_unitary(c1),
        ref.embed(ref.dense_gate_matrix(name, args[: gate.num_params]), args[gate.num_params :], gate.num_wires),
        atol=ATOL,
    )


def test_symbols_are_numbered_in_declaration_order():
    c = Circuit(1)
    assert c.inputs(2) == (Symbol("x", 0), Symbol("x", 1))
    assert c.inputs(1) == (Symbol("x", 2),)
    assert c.weights(2) == (Symbol("w", 0), Symbol("w", 1))
    assert c.num_inputs == 3 and c.num_weights == 2


# --- bad input -----------------------------------------------------------------
def test_bad_num_wires():
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="num_wires"):
            Circuit(bad)


def test_wire_out_of_range():
    with pytest.raises(ValueError, match="out of range"):
        Circuit(2).h(2)
    with pytest.raises(ValueError, match="out of range"):
        Circuit(2).cx(0, -1)


def test_repeated_wire():
    with pytest.raises(ValueError, match="repeat"):
        Circuit(2).cx(1, 1)


def test_bool_or_float_wire():
    with pytest.raises(TypeError, match="integers"):
        Circuit(2).h(True)
    with pytest.raises(TypeError, match="integers"):
        Circuit(2).h(0.0)


def test_wrong_number_of_arguments():
    with pytest.raises(TypeError, match="angle"):
        Circuit(1).gate("rx", 0)
    with pytest.raises(TypeError, match="angle"):
        Circuit(1).gate("u", 0.1, 0.2, 0)


def test_unknown_gate():
    with pytest.raises(ValueError, match="unknown gate"):
        Circuit(1).gate("foo", 0)


def test_nan_and_bool_angles():
    with pytest.raises(ValueError, match="finite"):
        Circuit(1).rx(float("nan"), 0)
    with pytest.raises(TypeError):
        Circuit(1).rx(True, 0)


def test_undeclared_symbol():
    c = Circuit(1)
    with pytest.raises(ValueError, match="declares only 0 inputs"):
        c.rx(Symbol("x", 0), 0)
    c.weights(1)
    with pytest.raises(ValueError, match="weights"):
        c.rx(Symbol("w", 1), 0)


def test_non_unitary_matrix():
    with pytest.raises(ValueError, match="not unitary"):
        Circuit(1).unitary([[1, 1], [0, 1]], 0)
    with pytest.raises(ValueError, match="shape"):
        Circuit(2).unitary(np.eye(2), [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        Circuit(1).unitary([[np.nan, 0], [0, 1]], 0)


def test_bad_compose_wires():
    with pytest.raises(ValueError, match="target wires"):
        Circuit(3).compose(Circuit(2), wires=[0])
    with pytest.raises(ValueError, match="repeat"):
        Circuit(3).compose(Circuit(2), wires=[1, 1])


# --- semantics -------------------------------------------------------------------
def test_unitary_op_wire_order():
    rng = np.random.default_rng(0)
    u = ref.random_unitary(4, rng)
    c = Circuit(3).unitary(u, [2, 0])
    np.testing.assert_allclose(ref.dense_unitary(c), ref.embed(u, [2, 0], 3), atol=ATOL)
    # against Qiskit, whose UnitaryGate is little-endian in its qargs
    np.testing.assert_allclose(ref.dense_statevector(Circuit(3).h(0).h(1).unitary(u, [2, 0])),
                               ref.qiskit_statevector(Circuit(3).h(0).h(1).unitary(u, [2, 0])), atol=ATOL)


def test_inverse_is_adjoint():
    rng = np.random.default_rng(1)
    c = ref.random_circuit(rng, 3, 12)
    x, w = rng.uniform(-1, 1, c.num_inputs), rng.uniform(-1, 1, c.num_weights)
    inv = c.inverse()
    assert inv.num_inputs == c.num_inputs and inv.num_weights == c.num_weights
    np.testing.assert_allclose(ref.dense_unitary(inv, x, w), ref.dense_unitary(c, x, w).conj().T, atol=1e-10)
    both = c.copy().compose(inv, share_weights=True)
    np.testing.assert_allclose(ref.dense_unitary(both, x, w), np.eye(8), atol=1e-10)


@pytest.mark.parametrize("num_controls", [1, 2])
def test_controlled_is_block_diagonal(num_controls):
    rng = np.random.default_rng(2 + num_controls)
    c = ref.random_circuit(rng, 2, 8)
    x, w = rng.uniform(-1, 1, c.num_inputs), rng.uniform(-1, 1, c.num_weights)
    cc = c.controlled(num_controls)
    assert cc.num_wires == 2 + num_controls
    k = 2**num_controls
    expected = np.eye(4 * k, dtype=complex)
    expected[-4:, -4:] = ref.dense_unitary(c, x, w)
    np.testing.assert_allclose(ref.dense_unitary(cc, x, w), expected, atol=1e-10)


def test_compose_shares_inputs_and_appends_weights():
    a = Circuit(2)
    xa = a.inputs(2)
    wa = a.weights(1)
    a.ry(xa[0] * wa[0], 0)
    b = Circuit(1)
    xb = b.inputs(1)
    wb = b.weights(2)
    b.rx(xb[0] + wb[1], 0).rz(wb[0], 0)
    a.compose(b, wires=[1])
    assert a.num_inputs == 2 and a.num_weights == 3
    # b's x[0] is a's x[0]; b's w[j] became a's w[1 + j]
    expected = Circuit(2)
    ex_ = expected.inputs(2)
    ew = expected.weights(3)
    expected.ry(ex_[0] * ew[0], 0).rx(ex_[0] + ew[2], 1).rz(ew[1], 1)
    x, w = np.array([0.3, -0.4]), np.array([0.5, 0.6, 0.7])
    np.testing.assert_allclose(ref.dense_unitary(a, x, w), ref.dense_unitary(expected, x, w), atol=ATOL)


def test_compose_options():
    b = Circuit(1)
    xb = b.inputs(1)
    wb = b.weights(1)
    b.rx(xb[0] * wb[0], 0)
    a = Circuit(1)
    a.inputs(1)
    a.weights(1)
    a.compose(b, share_inputs=False, share_weights=True)
    assert a.num_inputs == 2 and a.num_weights == 1
    assert a.ops[0].params[0].symbols() == {Symbol("x", 1), Symbol("w", 0)}


def test_compose_keeps_extra_controls_on_mapped_wires():
    inner = Circuit(1).x(0).controlled(1)  # CX with the control as an extra control
    c = Circuit(3).compose(inner, wires=[2, 0])
    np.testing.assert_allclose(ref.dense_unitary(c), ref.embed(ref.dense_gate_matrix("cx"), [2, 0], 3), atol=ATOL)


def test_ops_are_read_only_and_copy_is_independent():
    c = Circuit(1).h(0)
    assert isinstance(c.ops, tuple)
    d = c.copy().x(0)
    assert len(c) == 1 and len(d) == 2


def test_key_tracks_structure():
    a = Circuit(2).h(0).cx(0, 1)
    b = Circuit(2).h(0).cx(0, 1)
    assert a.key == b.key
    b.rz(0.1, 1)
    assert a.key != b.key
    b2 = Circuit(2).h(0).cx(0, 1).rz(0.2, 1)
    assert b.key != b2.key


def test_pickle_roundtrip():
    rng = np.random.default_rng(5)
    c = ref.random_circuit(rng, 3, 10)
    d = pickle.loads(pickle.dumps(c))
    assert d.key == c.key
    x, w = rng.uniform(-1, 1, c.num_inputs), rng.uniform(-1, 1, c.num_weights)
    np.testing.assert_allclose(ref.dense_unitary(d, x, w), ref.dense_unitary(c, x, w), atol=ATOL)
