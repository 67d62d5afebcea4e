"""QmlsimSampler / QmlsimEstimator against Qiskit's StatevectorSampler / StatevectorEstimator on random PUBs,
and qiskit-machine-learning's QNNs and fidelity kernel running on them."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytest.importorskip("qiskit")

from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister  # noqa: E402
from qiskit.circuit import ParameterVector  # noqa: E402
from qiskit.primitives import StatevectorEstimator, StatevectorSampler  # noqa: E402
from qiskit.quantum_info import SparsePauliOp, Statevector  # noqa: E402

from qmlsim.simulators import QmlsimEstimator, QmlsimSampler  # noqa: E402

SHOTS = 4000


def random_parametrised_circuit(num_qubits: int, depth: int, seed: int) -> QuantumCircuit:
    """Random circuit with named parameters, parameter expressions and constant angles."""
    rng = np.random.default_rng(seed)
    params = ParameterVector("p", 3)
    qc = QuantumCircuit(num_qubits)
    for q in range(num_qubits):
        qc.h(q)
    for layer in range(depth):
        for q in range(num_qubits):
            kind = rng.integers(4)
            angle = [params[rng.integers(3)], 2 * params[rng.integers(3)] + 0.3, float(rng.uniform(-3, 3)), params[0] * params[1]][kind]
            [qc.rx, qc.ry, qc.rz, qc.ry][kind](angle, q)
        a, b = rng.choice(num_qubits, 2, replace=False)
        [qc.cx, qc.cz][layer % 2](int(a), int(b))
        qc.crx(params[2], int(b), int(a))
    return qc


def _frequencies(bit_array, loc) -> dict[str, float]:
    counts = bit_array.get_counts(loc)
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()}


def _assert_same_distribution(ours, theirs, shots: int) -> None:
    """Two sampled distributions agree within 5 combined standard errors per outcome."""
    for loc in np.ndindex(ours.shape):
        f, g = _frequencies(ours, loc), _frequencies(theirs, loc)
        for key in set(f) | set(g):
            p = 0.5 * (f.get(key, 0.0) + g.get(key, 0.0))
            tol = 5 * np.sqrt(2 * max(p * (1 - p), 1 / shots) / shots)
            assert abs(f.get(key, 0.0) - g.get(key, 0.0)) <= tol, (loc, key)


# --- sampler ---------------------------------------------------------------------------
def test_sampler_bit_order_registers_and_unmeasured_clbits_are_exact():
    qr = QuantumRegister(4)
    alpha, beta = ClassicalRegister(3, "alpha"), ClassicalRegister(2, "beta")
    qc = QuantumCircuit(qr, alpha, beta)
    qc.x(0)
    qc.x(3)
    qc.measure(0, alpha[2])  # qubit 0 (=1) into the most significant alpha bit
    qc.measure(1, alpha[0])  # qubit 1 (=0)
    qc.measure(3, beta[0])  # qubit 3 (=1); beta[1] and alpha[1] never measured
    ours = QmlsimSampler(seed=1).run([qc], shots=16).result()[0].data
    theirs = StatevectorSampler(seed=1).run([qc], shots=16).result()[0].data
    for name in ("alpha", "beta"):
        assert getattr(ours, name).num_bits == getattr(theirs, name).num_bits
        assert getattr(ours, name).get_counts() == getattr(theirs, name).get_counts()
    assert ours.alpha.get_counts() == {"100": 16}
    assert ours.beta.get_counts() == {"01": 16}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sampler_matches_statevector_sampler_on_random_pubs(seed):
    rng = np.random.default_rng(seed)
    n = 3
    qc = random_parametrised_circuit(n, depth=3, seed=seed)
    creg = ClassicalRegister(2, "c")
    qc.add_register(creg)
    measured = rng.choice(n, 2, replace=False)
    qc.measure([int(q) for q in measured], creg)
    qc.measure_all()  # a second register with every qubit
    shape = [(2,), (2, 2), ()][seed]
    values = rng.uniform(-np.pi, np.pi, shape + (qc.num_parameters,))
    pubs = [(qc, values), (qc, values, 2000)]
    ours = QmlsimSampler(seed=seed).run(pubs, shots=SHOTS).result()
    theirs = StatevectorSampler(seed=seed).run(pubs, shots=SHOTS).result()
    for o, t, shots in zip(ours, theirs, (SHOTS, 2000)):
        assert o.data.shape == t.data.shape == shape
        assert o.metadata["shots"] == shots
        for name in ("c", "meas"):
            a, b = getattr(o.data, name), getattr(t.data, name)
            assert (a.shape, a.num_bits, a.num_shots) == (b.shape, b.num_bits, b.num_shots)
            _assert_same_distribution(a, b, shots)


def test_sampler_probabilities_match_exact_statevector():
    qc = random_parametrised_circuit(3, depth=2, seed=7)
    qc.measure_all()
    values = np.array([0.3, -1.1, 2.0])
    bits = QmlsimSampler(seed=5).run([(qc, values)], shots=20000).result()[0].data.meas
    exact = Statevector(qc.remove_final_measurements(inplace=False).assign_parameters(values)).probabilities_dict()
    freq = _frequencies(bits, ())
    for key, p in exact.items():
        assert abs(freq.get(key, 0.0) - p) <= 5 * np.sqrt(max(p * (1 - p), 1e-4) / 20000) + 1e-12


def test_sampler_is_seeded_and_rejects_bad_input():
    qc = QuantumCircuit(1)
    qc.h(0)
    qc.measure_all()
    a = QmlsimSampler(seed=3).run([qc], shots=50).result()[0].data.meas.array
    b = QmlsimSampler(seed=3).run([qc], shots=50).result()[0].data.meas.array
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="shots"):
        QmlsimSampler(default_shots=0)
    with pytest.raises(TypeError, match="seed"):
        QmlsimSampler(seed="one")
    mid = QuantumCircuit(1, 1)
    mid.measure(0, 0)
    mid.h(0)
    with pytest.raises(ValueError, match="after they were measured"):
        QmlsimSampler().run([mid]).result()


# --- estimator -------------------------------------------------------------------------
def _random_observable(n: int, rng: np.random.Generator, terms: int = 3) -> SparsePauliOp:
    labels = ["".join(rng.choice(list("IXYZ"), n)) for _ in range(terms)]
    return SparsePauliOp(labels, rng.normal(size=terms)).simplify()


@pytest.mark.parametrize(
    "param_shape, obs_shape",
    [((4,), (3, 1)), ((2, 3), (3,)), ((), (4,)), ((5,), (5,)), ((2, 1), (1, 3))],
)
def test_estimator_matches_statevector_estimator_with_broadcasting(param_shape, obs_shape):
    rng = np.random.default_rng(sum(param_shape) + 10 * sum(obs_shape))
    n = 3
    qc = random_parametrised_circuit(n, depth=3, seed=len(param_shape) + 3)
    values = rng.uniform(-np.pi, np.pi, param_shape + (qc.num_parameters,))
    observables = np.empty(obs_shape, dtype=object)
    for idx in np.ndindex(obs_shape):
        observables[idx] = _random_observable(n, rng)
    pub = (qc, observables, values)
    ours = QmlsimEstimator().run([pub]).result()[0]
    theirs = StatevectorEstimator().run([pub]).result()[0]
    assert ours.data.evs.shape == theirs.data.evs.shape == np.broadcast_shapes(param_shape, obs_shape)
    np.testing.assert_allclose(ours.data.evs, theirs.data.evs, atol=1e-10)
    np.testing.assert_array_equal(ours.data.stds, 0.0)


def test_estimator_projector_observables_and_unparametrised_circuits():
    from qiskit.quantum_info import SparseObservable

    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    obs = [SparseObservable("00"), SparseObservable("+1"), SparsePauliOp(["XX", "YY"], [0.5, 2.0])]
    ours = QmlsimEstimator().run([(qc, obs)]).result()[0].data.evs
    state = Statevector(qc)
    expected = [0.5, 0.25, 0.5 - 2.0]
    np.testing.assert_allclose(ours, expected, atol=1e-12)
    assert abs(state.expectation_value(SparsePauliOp(["XX", "YY"], [0.5, 2.0])) - expected[2]) < 1e-12


def test_estimator_precision_adds_seeded_noise_of_that_size():
    qc = QuantumCircuit(1)
    qc.h(0)
    values = QmlsimEstimator(seed=4).run([(qc, ["Z"] * 1000)], precision=0.1).result()[0]
    assert abs(values.data.evs.mean()) < 5 * 0.1 / np.sqrt(1000)
    assert abs(values.data.evs.std() - 0.1) < 0.01
    np.testing.assert_array_equal(values.data.stds, 0.1)
    again = QmlsimEstimator(seed=4).run([(qc, ["Z"] * 1000)], precision=0.1).result()[0]
    np.testing.assert_array_equal(values.data.evs, again.data.evs)
    with pytest.raises(ValueError, match="precision"):
        QmlsimEstimator(default_precision=-1.0)


# --- qiskit-machine-learning -----------------------------------------------------------
needs_qiskit_ml = pytest.mark.skipif(
    importlib.util.find_spec("qiskit_machine_learning") is None, reason="needs qiskit-machine-learning"
)


def _qnn_circuit() -> tuple[QuantumCircuit, list, list]:
    from qiskit.circuit.library import real_amplitudes, zz_feature_map

    feature_map = zz_feature_map(2, reps=1)
    ansatz = real_amplitudes(2, reps=1)
    qc = QuantumCircuit(2)
    qc.compose(feature_map, inplace=True)
    qc.compose(ansatz, inplace=True)
    return qc, list(feature_map.parameters), list(ansatz.parameters)


@needs_qiskit_ml
def test_estimator_qnn_forward_and_backward_match_statevector():
    from qiskit_machine_learning.neural_networks import EstimatorQNN

    qc, inputs, weights = _qnn_circuit()
    rng = np.random.default_rng(0)
    x = rng.uniform(0, np.pi, (5, len(inputs)))
    w = rng.uniform(-np.pi, np.pi, len(weights))
    obs = SparsePauliOp(["ZZ", "XI"], [1.0, 0.5])

    def qnn(estimator):
        return EstimatorQNN(
            circuit=qc, estimator=estimator, observables=obs, input_params=inputs, weight_params=weights,
            input_gradients=True, default_precision=0.0,
        )

    ours, theirs = qnn(QmlsimEstimator()), qnn(StatevectorEstimator())
    np.testing.assert_allclose(ours.forward(x, w), theirs.forward(x, w), atol=1e-10)
    for a, b in zip(ours.backward(x, w), theirs.backward(x, w)):
        np.testing.assert_allclose(a, b, atol=1e-10)


@needs_qiskit_ml
def test_sampler_qnn_matches_statevector_within_sampling_error():
    from qiskit_machine_learning.neural_networks import SamplerQNN

    qc, inputs, weights = _qnn_circuit()
    qc.measure_all()
    rng = np.random.default_rng(1)
    x = rng.uniform(0, np.pi, (3, len(inputs)))
    w = rng.uniform(-np.pi, np.pi, len(weights))

    def qnn(sampler):
        return SamplerQNN(circuit=qc, sampler=sampler, input_params=inputs, weight_params=weights, interpret=lambda b: b % 2, output_shape=2)

    ours = qnn(QmlsimSampler(default_shots=SHOTS, seed=2)).forward(x, w)
    exact = np.array([
        [sum(p for k, p in Statevector(qc.remove_final_measurements(inplace=False).assign_parameters(
            dict(zip(inputs + weights, np.concatenate([row, w]))))).probabilities_dict().items() if int(k, 2) % 2 == parity)
         for parity in (0, 1)]
        for row in x
    ])
    assert ours.shape == (3, 2)
    np.testing.assert_allclose(ours, exact, atol=5 * 0.5 / np.sqrt(SHOTS))


@needs_qiskit_ml
def test_fidelity_quantum_kernel_on_qmlsim_sampler_matches_exact_fidelities():
    from qiskit.circuit.library import zz_feature_map
    from qiskit_machine_learning.kernels import FidelityQuantumKernel
    from qiskit_machine_learning.state_fidelities import ComputeUncompute

    feature_map = zz_feature_map(2, reps=2)
    rng = np.random.default_rng(3)
    x = rng.uniform(0, np.pi, (4, 2))
    kernel = FidelityQuantumKernel(feature_map=feature_map, fidelity=ComputeUncompute(sampler=QmlsimSampler(default_shots=SHOTS, seed=3)))
    gram = kernel.evaluate(x)
    states = [Statevector(feature_map.assign_parameters(row)) for row in x]
    exact = np.array([[abs(a.inner(b)) ** 2 for b in states] for a in states])
    np.testing.assert_allclose(gram, exact, atol=5 * 0.5 / np.sqrt(SHOTS))


def test_conversion_cache_follows_circuit_content():
    from qiskit.circuit.library import UnitaryGate
    from qiskit.quantum_info import random_unitary

    estimator = QmlsimEstimator()
    reference = StatevectorEstimator()
    qc = QuantumCircuit(2)
    qc.rx(0.3, 0)
    qc.append(UnitaryGate(random_unitary(4, seed=1)), [0, 1])
    variants = [qc.copy()]
    changed_angle = QuantumCircuit(2)
    changed_angle.rx(0.3 + 1e-9, 0)  # differs beyond the digits a printout shows
    changed_angle.rx(0.5, 0)
    changed_angle.append(UnitaryGate(random_unitary(4, seed=1)), [0, 1])
    variants.append(changed_angle)
    changed_matrix = QuantumCircuit(2)
    changed_matrix.rx(0.3, 0)
    changed_matrix.append(UnitaryGate(random_unitary(4, seed=2)), [0, 1])
    variants.append(changed_matrix)
    grown = qc.copy()
    grown.h(1)  # one more gate
    for circuit in [*variants, qc, grown, qc]:
        pub = (circuit, ["ZI", "XY"])
        np.testing.assert_allclose(estimator.run([pub]).result()[0].data.evs, reference.run([pub]).result()[0].data.evs, atol=1e-10)
    mutated = qc.copy()
    estimator.run([(mutated, "ZZ")]).result()
    mutated.x(0)
    np.testing.assert_allclose(
        estimator.run([(mutated, "ZZ")]).result()[0].data.evs, reference.run([(mutated, "ZZ")]).result()[0].data.evs, atol=1e-10
    )
