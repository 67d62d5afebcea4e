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
