"""The discrete ridgelet transform and the QRT circuit (reconstruction), against the defining sums and each other."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from qmlsim.qml.ridgelet import LABEL, dual_transform, qrt_state, reconstruction_constant, ridgelet_transform


def direct_sum(f, p, d, psi_hat):
    """R[f](a, b) = sum_x f(x) conj(psi(a.x - b)), written out point by point (independent of the module)."""
    psi = np.array([sum(psi_hat[w] * np.exp(2j * np.pi * w * u / p) for w in range(p)) / p for u in range(p)])
    out = np.zeros((p,) * d + (p,), complex)
    for a in itertools.product(range(p), repeat=d):
        for b in range(p):
            out[a + (b,)] = sum(f[x] * np.conj(psi[(np.dot(a, x) - b) % p]) for x in itertools.product(range(p), repeat=d))
    return out


@pytest.mark.parametrize("p, d", [(5, 1), (7, 2), (5, 3), (11, 2)])
def test_circuit_equals_the_direct_sum(p, d):
    rng = np.random.default_rng(p * 10 + d)
    f = rng.normal(size=(p,) * d) + 1j * rng.normal(size=(p,) * d)
    unit = f / np.linalg.norm(f)
    random_phases = np.r_[0, np.exp(2j * np.pi * rng.random(p - 1))]
    for psi_hat in (np.r_[0, np.ones(p - 1)], random_phases):
        expected = direct_sum(unit, p, d, psi_hat) if p**d <= 125 else ridgelet_transform(unit, psi_hat, method="direct")
        got = qrt_state(f, psi_hat)
        np.testing.assert_allclose(got, expected / np.sqrt((p - 1) * p ** (d - 1)), atol=1e-12)
        assert np.linalg.norm(got) == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(ridgelet_transform(unit, psi_hat), expected, atol=1e-12)


def test_exact_reconstruction():
    p, d = 11, 2
    sigma = np.maximum(0, np.arange(p) - (p - 1) / 2) / p  # a centred ReLU on Z_P
    f = np.random.default_rng(3).normal(size=(p, p))
    c = reconstruction_constant(p, d, sigma)
    # C = P^{D-1} sum_{w != 0} sigma_hat(w) = P^{D-1} (P sigma(0) - sigma_hat(0)) for psi_hat = 1 off zero
    assert c == pytest.approx(p ** (d - 1) * (p * sigma[0] - sigma.sum()))
    np.testing.assert_allclose(dual_transform(ridgelet_transform(f), sigma), c * f, atol=1e-12)
    assert "inferred" in LABEL


def test_bad_input():
    with pytest.raises(ValueError, match="must be prime"):
        ridgelet_transform(np.ones((9, 9)))
    with pytest.raises(ValueError, match=r"shape \(P,\) \* D"):
        ridgelet_transform(np.ones((5, 7)))
    with pytest.raises(ValueError, match="psi_hat"):
        ridgelet_transform(np.ones((5,)), psi_hat=np.ones(4))
    with pytest.raises(ValueError, match="psi_hat\\(0\\) = 0"):
        reconstruction_constant(5, 1, np.ones(5), psi_hat=np.ones(5))
    with pytest.raises(ValueError, match="zero everywhere"):
        qrt_state(np.zeros((5, 5)))


def _toy():
    """The spec's D = 2, P = 13 toy: two plane waves, centred ReLU."""
    p = 13
    x = np.array(list(itertools.product(range(p), repeat=2)))
    f = np.sin(2 * np.pi * (2 * x[:, 0] + 3 * x[:, 1]) / p) + 0.7 * np.cos(2 * np.pi * (x[:, 0] - 4 * x[:, 1]) / p)
    sigma = np.maximum(0, np.arange(p) - (p - 1) / 2) / p
    return p, f.reshape(p, p), sigma


def test_circuit_sampling_matches_the_exact_distribution():
    from scipy import stats

    from qmlsim.qml.ridgelet import node_probabilities, sample_nodes

    p, f, _ = _toy()
    # 4,000 measurement outcomes, in two calls (one call draws at most the 2,197 nodes there are)
    nodes = np.vstack([sample_nodes(f, 2000, method="qrt", seed=seed) for seed in (1, 2)])
    assert nodes.shape == (4000, 3) and nodes.min() >= 0 and nodes.max() < p
    expected = node_probabilities(f).reshape(-1)
    counts = np.bincount(np.ravel_multi_index(nodes.T, (p, p, p)), minlength=p**3)
    support = expected > 0
    assert counts[~support].sum() == 0  # never a node of zero weight
    # cells pooled in order of probability until each pool expects at least 5 draws (Pearson's rule)
    order = np.argsort(expected[support])
    observed, wanted = counts[support][order], 4000 * expected[support][order]
    pools, current = np.zeros(wanted.size, int), 0
    running = 0.0
    for index, value in enumerate(wanted):
        pools[index] = current
        running += value
        if running >= 5:
            current, running = current + 1, 0.0
    pools[pools == current] = max(current - 1, 0)  # a short last pool joins the one before
    obs, exp = np.bincount(pools, weights=observed), np.bincount(pools, weights=wanted)
    assert np.all(exp >= 5) and stats.chisquare(obs, exp).pvalue > 1e-3


def test_lottery_ticket_sampling_beats_uniform_on_the_toy():
    from qmlsim.qml.ridgelet import node_features, sample_nodes

    p, f, sigma = _toy()
    target = f.reshape(-1)

    def relative_mse(nodes):
        features = np.hstack([node_features(nodes, sigma, p), np.ones((p * p, 1))])  # + bias
        w, *_ = np.linalg.lstsq(features, target, rcond=None)
        return np.mean((features @ w - target) ** 2) / np.mean((target - target.mean()) ** 2)

    ridgelet = [relative_mse(sample_nodes(f, 32, method="exact", seed=s)) for s in range(20)]
    uniform = [relative_mse(sample_nodes(f, 32, method="uniform", seed=100 + s)) for s in range(20)]
    assert np.median(ridgelet) < 0.5 * np.median(uniform)  # spec's toy: 0.086 against 0.83 (means)


def test_ridgelet_network_sampled_nodes_beat_uniform_nodes():
    from sklearn.base import clone

    from qmlsim.qml.ridgelet import RidgeletNetwork

    rng = np.random.default_rng(0)
    X, X_test = rng.uniform(-1, 1, size=(400, 2)), rng.uniform(-1, 1, size=(400, 2))
    y, y_test = (np.sin(3 * Z[:, 0]) + Z[:, 1] * Z[:, 0] for Z in (X, X_test))
    model = RidgeletNetwork(n_nodes=24, modulus=11)
    scores = {
        sampling: np.median([clone(model).set_params(sampling=sampling, random_state=s).fit(X, y).score(X_test, y_test)
                             for s in range(8)])
        for sampling in ("exact", "uniform")
    }
    assert scores["exact"] > 0.6 and scores["exact"] > scores["uniform"] + 0.3
    fitted = RidgeletNetwork(n_nodes=24, modulus=11, sampling="qrt", random_state=0).fit(X, y)
    assert fitted.nodes_.shape == (24, 3) and fitted.predict(X_test).shape == (400,)
    with pytest.raises(ValueError, match="n_nodes"):
        RidgeletNetwork(n_nodes=10**6, modulus=11).fit(X, y)
    with pytest.raises(ValueError, match="must be prime"):
        RidgeletNetwork(modulus=12).fit(X, y)


@pytest.mark.slow
def test_quick_experiment_runs_and_writes_its_outputs(tmp_path):
    import json

    from qmlsim.qml.ridgelet_experiment import run_experiment

    summary = run_experiment(str(tmp_path), quick=True)
    assert (tmp_path / "ridgelet.png").exists() and json.loads((tmp_path / "ridgelet.json").read_text())["label"] == LABEL
    toy = {row["N"]: row for row in summary["grid"] if row["D"] == 2}
    assert toy[32]["exact"] < 0.5 * toy[32]["uniform"] and toy[32]["qrt"] < 0.5 * toy[32]["uniform"]
    assert [s["gates"] for s in summary["scaling"]] == [5, 7, 9]  # 2 D + 3: linear in D


def test_non_unit_modulus_psi_hat_by_block_encoding_and_post_selection():
    from qmlsim.qml.ridgelet import qrt_circuit

    p, d = 7, 2
    rng = np.random.default_rng(5)
    f = rng.normal(size=(p, p))
    psi_hat = np.r_[0, rng.uniform(0.2, 1.5, p - 1) * np.exp(2j * np.pi * rng.random(p - 1))]
    assert qrt_circuit(p, d, psi_hat).num_wires == 3 * 3 + 1  # one ancilla for the block encoding
    amplitudes, probability = qrt_state(f, psi_hat, return_probability=True)
    r = direct_sum(f / np.linalg.norm(f), p, d, psi_hat)
    np.testing.assert_allclose(amplitudes, r / np.linalg.norm(r), atol=1e-12)
    # the block holds conj(psi_hat) / max |psi_hat|: success = ||R f||^2 / (max^2 (P - 1) P^(D-1))
    expected = np.linalg.norm(r) ** 2 / (np.abs(psi_hat).max() ** 2 * (p - 1) * p ** (d - 1))
    assert probability == pytest.approx(expected, rel=1e-10) and probability < 1


def test_encoding_circuit_prepares_the_start_state():
    from qmlsim.circuits import Circuit
    from qmlsim.qml.ridgelet import encoded_state, encoding_circuit, qrt_circuit
    from qmlsim.simulators import Simulator

    p, d = 5, 2
    f = np.random.default_rng(2).normal(size=(p, p))
    prepared = Simulator().statevector(encoding_circuit(f))
    np.testing.assert_allclose(prepared, encoded_state(f), atol=1e-12)
    whole = Circuit(9).compose(encoding_circuit(f)).compose(qrt_circuit(p, d))  # from |0...0>, as on hardware
    state = Simulator().statevector(whole)
    reference = qrt_state(f)
    k = 3
    index = np.array([(a1 << 2 * k) | (a2 << k) | b for a1, a2, b in itertools.product(range(p), repeat=3)])
    np.testing.assert_allclose(state[index].reshape(p, p, p), reference, atol=1e-12)


def test_more_nodes_than_exist_is_refused():
    from qmlsim.qml.ridgelet import sample_nodes

    with pytest.raises(ValueError, match="more than the 125 nodes"):
        sample_nodes(np.ones((5, 5)) + np.eye(5), 126, method="uniform")
