"""The engine against two independent references on every backend.

Random circuits (every gate, random expressions of inputs and weights, random
unitaries, controlled and inverted sub-circuits, up to 8 wires) are simulated by
qmlsim on NumPy, JAX and CuPy-on-CPU (the CuPy backend driven by a NumPy-backed
stand-in module) in complex128 and complex64, and compared with the dense
``np.kron`` simulator and Qiskit's ``Statevector`` of ``tests/reference.py``.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from qmlsim.circuits import Circuit, X, Y, Z
from qmlsim.simulators import Simulator
from tests import reference as ref
from tests.backends import ATOL, SPEC_IDS, make_simulator
from tests.backends import BACKEND_SPECS as SPECS
# the invariant and measurement tests skip jax-complex64 (covered by the state tests) to keep the run short
CORE = [i for i, s in enumerate(SPECS) if s != ("jax", "complex64")]
CORE_SPECS = [SPECS[i] for i in CORE]
CORE_IDS = [SPEC_IDS[i] for i in CORE]


def host(a) -> np.ndarray:
    return np.array(a, copy=True).view(np.ndarray)


def reference_states(c: Circuit, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    rows = x if c.num_inputs else np.zeros((len(x), 0))
    return np.stack([ref.dense_statevector(c, row, w) for row in rows])


def marginal(probs: np.ndarray, wires: list[int], num_wires: int) -> np.ndarray:
    """Probabilities of ``wires`` (listed order, first most significant) from full ones ``(..., 2**n)``."""
    lead = probs.shape[:-1]
    t = probs.reshape(lead + (2,) * num_wires)
    rest = [len(lead) + w for w in range(num_wires) if w not in wires]
    t = t.sum(axis=tuple(rest))
    # remaining axes are in increasing wire order; put them in the listed order
    kept = sorted(wires)
    t = np.moveaxis(t, [len(lead) + kept.index(w) for w in wires], list(range(len(lead), len(lead) + len(wires))))
    return t.reshape(lead + (2 ** len(wires),))


def check_against_references(sim: Simulator, c: Circuit, x: np.ndarray, w: np.ndarray, qiskit: bool = True) -> None:
    atol = ATOL[sim.dtype]
    xin = x if c.num_inputs else None
    states = host(sim.statevector(c, x=xin, weights=w if c.num_weights else None))
    if xin is None:
        states = states[None]
    expected = reference_states(c, x if xin is not None else np.zeros((1, 0)), w)
    assert states.shape == expected.shape
    np.testing.assert_allclose(states, expected, atol=atol, err_msg=repr(c))
    np.testing.assert_allclose(np.linalg.norm(states, axis=1), 1.0, atol=atol)
    if qiskit:
        row = x[0] if c.num_inputs else None
        np.testing.assert_allclose(states[0], ref.qiskit_statevector(c, row, w), atol=atol, err_msg=repr(c))


# --- states ------------------------------------------------------------------
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(case=ref.circuits(max_wires=8, max_gates=10))
def test_random_circuits_match_dense_and_qiskit(backend_spec, case):
    spec = backend_spec
    c, x, w = case
    check_against_references(make_simulator(spec), c, x, w)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(case=ref.circuits(max_wires=6, max_gates=16))
def test_random_circuits_numpy_many(case):
    c, x, w = case
    check_against_references(Simulator(), c, x, w, qiskit=False)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(case=ref.circuits(max_wires=8, max_gates=24))
def test_random_circuits_match_references_slow(backend_spec, case):
    spec = backend_spec
    c, x, w = case
    check_against_references(make_simulator(spec), c, x, w)


def _gate_on_entangled_state(c: Circuit, name: str, wires: list[int]) -> None:
    from qmlsim.circuits.gates import GATES

    xs = [s for s in _symbols(c, "x")]
    ws = [s for s in _symbols(c, "w")]
    params = [(k + 1) * xs[1] - ws[0] for k in range(GATES[name].num_params)]
    c.gate(name, *params, *wires)


def _symbols(c: Circuit, kind: str) -> list:
    from qmlsim.circuits.expressions import Symbol

    count = c.num_inputs if kind == "x" else c.num_weights
    return [Symbol(kind, i) for i in range(count)]


def _entangled_prefix() -> Circuit:
    c = Circuit(4)
    xs = c.inputs(2)
    c.weights(1)
    for q in range(4):
        c.ry(0.3 + 0.4 * q + xs[0], q)
    return c.cx(0, 1).cx(2, 3).cx(1, 2)


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[5]], ids=[SPEC_IDS[0], SPEC_IDS[5]])
def test_every_gate_on_shuffled_wires(spec):
    """Each gate alone, on shuffled wires of an entangled 4-wire state, with input-dependent angles."""
    from qmlsim.circuits.gates import GATES

    sim = make_simulator(spec)
    rng = np.random.default_rng(0)
    for name, gate in sorted(GATES.items()):
        c = _entangled_prefix()
        _gate_on_entangled_state(c, name, rng.permutation(4)[: gate.num_wires].tolist())
        check_against_references(sim, c, rng.uniform(-2, 2, (3, 2)), rng.uniform(-2, 2, 1))


def test_all_gates_in_one_circuit(backend_spec):
    """Every gate once, in one circuit (one compilation per backend)."""
    spec = backend_spec
    from qmlsim.circuits.gates import GATES

    sim = make_simulator(spec)
    rng = np.random.default_rng(10)
    c = _entangled_prefix()
    for name, gate in sorted(GATES.items()):
        _gate_on_entangled_state(c, name, rng.permutation(4)[: gate.num_wires].tolist())
    check_against_references(sim, c, rng.uniform(-2, 2, (3, 2)), rng.uniform(-2, 2, 1))


def test_long_circuit(backend_spec):
    """Longer than the engine's JAX scan threshold, so the JAX backend takes its scan path."""
    spec = backend_spec
    sim = make_simulator(spec)
    rng = np.random.default_rng(1)
    c = ref.random_circuit(rng, 5, 80, blocks=False)
    x = rng.uniform(-1, 1, (4, c.num_inputs))
    w = rng.uniform(-1, 1, c.num_weights)
    atol = 10 * ATOL[sim.dtype]
    states = host(sim.statevector(c, x=x, weights=w))
    np.testing.assert_allclose(states, reference_states(c, x, w), atol=atol)


@pytest.mark.parametrize("spec", CORE_SPECS, ids=CORE_IDS)
def test_circuit_then_inverse_is_identity(spec):
    sim = make_simulator(spec)
    rng = np.random.default_rng(2)
    for _ in range(3):
        c = ref.random_circuit(rng, 4, 15)
        both = c.copy().compose(c.inverse(), share_weights=True)
        x = rng.uniform(-1, 1, (2, c.num_inputs))
        w = rng.uniform(-1, 1, c.num_weights)
        states = host(sim.statevector(both, x=x, weights=w))
        expected = np.zeros_like(states)
        expected[:, 0] = 1
        np.testing.assert_allclose(states, expected, atol=10 * ATOL[sim.dtype])


@pytest.mark.parametrize("spec", CORE_SPECS, ids=CORE_IDS)
def test_batched_equals_stacked_single(spec):
    sim = make_simulator(spec)
    rng = np.random.default_rng(3)
    c = ref.random_circuit(rng, 4, 20, num_inputs=3)
    x = rng.uniform(-1, 1, (5, 3))
    w = rng.uniform(-1, 1, c.num_weights)
    batched = host(sim.statevector(c, x=x, weights=w))
    singles = np.stack([host(sim.statevector(c, x=row, weights=w)) for row in x])
    assert batched.shape == (5, 16) and singles.shape == (5, 16)
    np.testing.assert_allclose(batched, singles, atol=ATOL[sim.dtype])
    obs = Z(0) @ X(2)
    e_batched = host(sim.expval(c, obs, x=x, weights=w))
    e_single = np.array([host(sim.expval(c, obs, x=row, weights=w)) for row in x])
    np.testing.assert_allclose(e_batched, e_single, atol=ATOL[sim.dtype])


def test_chunked_equals_unchunked():
    rng = np.random.default_rng(4)
    c = ref.random_circuit(rng, 3, 12)
    x = rng.uniform(-1, 1, (7, c.num_inputs))
    w = rng.uniform(-1, 1, c.num_weights)
    whole = Simulator().statevector(c, x=x, weights=w)
    chunked = Simulator(max_chunk_rows=2).statevector(c, x=x, weights=w)
    np.testing.assert_allclose(chunked, whole, atol=1e-14)
    np.testing.assert_allclose(whole, reference_states(c, x, w), atol=1e-10)


# --- measurements ------------------------------------------------------------
@pytest.mark.parametrize("spec", CORE_SPECS, ids=CORE_IDS)
def test_probs_against_reference(spec):
    sim = make_simulator(spec)
    rng = np.random.default_rng(5)
    c = ref.random_circuit(rng, 4, 15)
    x = rng.uniform(-1, 1, (3, c.num_inputs))
    w = rng.uniform(-1, 1, c.num_weights)
    full = np.abs(reference_states(c, x, w)) ** 2
    atol = ATOL[sim.dtype]
    np.testing.assert_allclose(host(sim.probs(c, x=x, weights=w)), full, atol=atol)
    for wires in ([2], [3, 0], [1, 2, 0], [0, 1, 2, 3]):
        got = host(sim.probs(c, x=x, weights=w, wires=wires))
        np.testing.assert_allclose(got, marginal(full, wires, 4), atol=atol, err_msg=str(wires))


@pytest.mark.parametrize("spec", CORE_SPECS, ids=CORE_IDS)
def test_expval_against_reference(spec):
    sim = make_simulator(spec)
    rng = np.random.default_rng(6)
    for _ in range(3):
        c = ref.random_circuit(rng, 4, 15)
        x = rng.uniform(-1, 1, (3, c.num_inputs))
        w = rng.uniform(-1, 1, c.num_weights)
        states = reference_states(c, x, w)
        observables = [ref.random_observable(rng, 4) for _ in range(3)]
        got = host(sim.expval(c, observables, x=x, weights=w))
        expected = np.stack([ref.dense_expval(states, o.matrix(4)) for o in observables], axis=1)
        assert got.shape == (3, 3)
        scale = max(1.0, max(np.abs(o.matrix(4)).sum() for o in observables))
        np.testing.assert_allclose(got, expected, atol=ATOL[sim.dtype] * scale)
        one = host(sim.expval(c, observables[0], x=x, weights=w))
        assert one.shape == (3,)
        np.testing.assert_allclose(one, expected[:, 0], atol=ATOL[sim.dtype] * scale)


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[2], SPECS[4]], ids=[SPEC_IDS[0], SPEC_IDS[2], SPEC_IDS[4]])
def test_sampling_within_standard_errors(spec):
    sim = make_simulator(spec)
    rng = np.random.default_rng(7)
    c = ref.random_circuit(rng, 3, 12)
    x = rng.uniform(-1, 1, (2, c.num_inputs))
    w = rng.uniform(-1, 1, c.num_weights)
    shots = 20000
    bits = np.asarray(sim.sample(c, shots=shots, x=x, weights=w, seed=11))
    assert bits.shape == (2, shots, 3)
    assert set(np.unique(bits).tolist()) <= {0, 1}
    index = bits @ (2 ** np.arange(2, -1, -1))  # wire 0 is the most significant bit
    p = np.abs(reference_states(c, x, w)) ** 2
    for row in range(2):
        freq = np.bincount(index[row], minlength=8) / shots
        se = np.sqrt(p[row] * (1 - p[row]) / shots)
        assert np.all(np.abs(freq - p[row]) <= 5 * se + 1e-3), (freq, p[row])
    again = np.asarray(sim.sample(c, shots=shots, x=x, weights=w, seed=11))
    np.testing.assert_array_equal(bits, again)


def test_sampled_expval_within_standard_errors():
    rng = np.random.default_rng(8)
    c = ref.random_circuit(rng, 3, 12)
    x = rng.uniform(-1, 1, (2, c.num_inputs))
    w = rng.uniform(-1, 1, c.num_weights)
    obs = Z(0) @ Y(1) + 0.5 * X(2)
    shots = 20000
    got = np.asarray(Simulator().expval(c, obs, x=x, weights=w, shots=shots, seed=3))
    exact = ref.dense_expval(reference_states(c, x, w), obs.matrix(3))
    # each term has variance <= coeff^2; terms are sampled independently
    se = np.sqrt((1.0 + 0.25) / shots)
    assert np.all(np.abs(got - exact) <= 5 * se), (got, exact)
