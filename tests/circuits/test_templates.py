"""Templates against hand-built circuits, closed forms, and Qiskit's own feature map."""
from __future__ import annotations

import numpy as np
import pytest

from qmlsim.circuits import Circuit, templates
from tests import reference as ref

ATOL = 1e-10


@pytest.mark.parametrize("entanglement", ["full", "linear", "circular"])
@pytest.mark.parametrize("num_wires, reps", [(2, 2), (3, 1), (4, 2)])
def test_zz_feature_map_equals_qiskit(num_wires, reps, entanglement):
    from qiskit.circuit.library import zz_feature_map
    from qiskit.quantum_info import Statevector

    rng = np.random.default_rng(num_wires * 10 + reps)
    c = templates.zz_feature_map(num_wires, reps=reps, entanglement=entanglement)
    assert c.num_inputs == num_wires and c.num_weights == 0
    qc = zz_feature_map(num_wires, reps=reps, entanglement=entanglement)
    for _ in range(2):
        x = rng.uniform(0, 2 * np.pi, num_wires)
        theirs = ref.to_big_endian(np.asarray(Statevector(qc.assign_parameters(x)).data), num_wires)
        np.testing.assert_allclose(ref.dense_statevector(c, x), theirs, atol=ATOL)


def test_zz_feature_map_alpha():
    from qiskit.circuit.library import zz_feature_map
    from qiskit.quantum_info import Statevector

    x = np.array([0.3, 1.7])
    c = templates.zz_feature_map(2, reps=1, alpha=1.3)
    qc = zz_feature_map(2, reps=1, alpha=1.3).assign_parameters(x)
    np.testing.assert_allclose(ref.dense_statevector(c, x), ref.to_big_endian(Statevector(qc).data, 2), atol=ATOL)


def test_zz_feature_map_bad_arguments():
    with pytest.raises(ValueError, match="entanglement"):
        templates.zz_feature_map(2, entanglement="ring")
    with pytest.raises(ValueError, match="reps"):
        templates.zz_feature_map(2, reps=0)


@pytest.mark.parametrize("rotation", ["rx", "ry", "rz"])
def test_angle_encoding_is_a_product_state(rotation):
    x = np.array([0.4, -1.1, 2.5])
    state = ref.dense_statevector(templates.angle_encoding(3, rotation), x)
    expected = np.array([1.0 + 0j])
    for xi in x:
        expected = np.kron(expected, ref.dense_gate_matrix(rotation, [xi])[:, 0])
    np.testing.assert_allclose(state, expected, atol=ATOL)
    with pytest.raises(ValueError):
        templates.angle_encoding(2, "u")


def _layer(c: Circuit, w: np.ndarray, offset: int, num_wires: int) -> None:
    for i in range(num_wires):
        c.ry(float(w[offset + 2 * i]), i).rz(float(w[offset + 2 * i + 1]), i)


def test_hardware_efficient_ansatz_by_hand():
    n, layers = 3, 2
    c = templates.hardware_efficient_ansatz(n, layers)
    assert c.num_weights == 2 * n * layers
    w = np.random.default_rng(0).uniform(-np.pi, np.pi, c.num_weights)
    hand = Circuit(n)
    for layer in range(layers):
        _layer(hand, w, 2 * n * layer, n)
        hand.cx(0, 1).cx(1, 2).cx(2, 0)
    np.testing.assert_allclose(ref.dense_unitary(c, None, w), ref.dense_unitary(hand), atol=ATOL)


def test_havlicek_ansatz_by_hand():
    n, reps = 3, 2
    c = templates.havlicek_ansatz(n, reps)
    assert c.num_weights == 2 * n * (reps + 1)
    w = np.random.default_rng(1).uniform(-np.pi, np.pi, c.num_weights)
    hand = Circuit(n)
    _layer(hand, w, 0, n)
    for layer in range(1, reps + 1):
        hand.cz(0, 1).cz(0, 2).cz(1, 2)
        _layer(hand, w, 2 * n * layer, n)
    np.testing.assert_allclose(ref.dense_unitary(c, None, w), ref.dense_unitary(hand), atol=ATOL)


def test_havlicek_ansatz_reps_zero_is_local():
    c = templates.havlicek_ansatz(2, 0)
    assert [op.name for op in c.ops] == ["ry", "rz", "ry", "rz"]


def test_data_reuploading_by_hand():
    n, num_inputs, layers = 2, 3, 2
    c = templates.data_reuploading(n, num_inputs=num_inputs, layers=layers)
    rng = np.random.default_rng(2)
    w = rng.uniform(-1, 1, c.num_weights)
    x = rng.uniform(-1, 1, num_inputs)
    hand = Circuit(n)
    j = 0
    for layer in range(layers):
        for q in range(n):
            k = (q + layer * n) % num_inputs
            hand.rot(w[j], w[j + 1], w[j + 2], q).ry(w[j + 3] * x[k] + w[j + 4], q)
            j += 5
        hand.cz(0, 1)
    for q in range(n):
        hand.rot(w[j], w[j + 1], w[j + 2], q)
        j += 3
    assert j == c.num_weights
    np.testing.assert_allclose(ref.dense_unitary(c, x, w), ref.dense_unitary(hand), atol=ATOL)
