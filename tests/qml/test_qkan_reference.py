"""DARUAN and the QKAN layer against the reference ``qkan`` package (PyTorch) on shared parameters.

Test-only dependency: ``pip install torch qkan`` (CPU torch is enough).
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the reference comparison needs torch (pip install torch qkan)")
qkan = pytest.importorskip("qkan", reason="the reference comparison needs the qkan package (pip install qkan)")

from qmlsim.qml.qkan import QKAN, daruan  # noqa: E402
from qmlsim.qml.qkan.layer import apply_qkan  # noqa: E402


@pytest.mark.parametrize("measure", ["born", "amplitude"])
@pytest.mark.parametrize("ansatz", ["pz", "rpz", "real", "mix"])
def test_daruan_equals_qkan_exact_solver(ansatz, measure):
    from qkan.solver import torch_exact_solver

    rng = np.random.default_rng(0)
    reps, n_out, n_in = 3, 3, 2
    rows = reps if ansatz == "real" else reps + 1
    cols = 2 if ansatz in ("pz", "mix") else 1
    theta = rng.normal(size=(n_out, n_in, rows, cols)).astype(np.float32)
    w = rng.uniform(0.5, 1.5, size=(n_out, n_in, reps)).astype(np.float32)
    b = rng.uniform(-0.3, 0.3, size=(n_out, n_in, reps)).astype(np.float32)
    x = rng.uniform(-1, 1, size=(8, n_in)).astype(np.float32)
    kwargs = {"ansatz": ansatz, "preacts_trainable": True, "fast_measure": measure == "amplitude"}
    if ansatz == "real":
        kwargs["dtype"] = torch.complex64  # keep the reference in single precision, not its default bf16
    ref = torch_exact_solver(torch.from_numpy(x), torch.from_numpy(theta), torch.from_numpy(w), torch.from_numpy(b),
                             reps, **kwargs).detach().float().numpy()
    got = np.asarray(daruan({"theta": theta, "w": w, "b": b}, x[:, None, :], reps, ansatz, measure))
    tol = 1e-2 if ansatz == "real" else 2e-6
    np.testing.assert_allclose(got, ref, atol=tol)


@pytest.mark.parametrize("measure", ["born", "amplitude"])
def test_network_equals_qkan_forward(measure):
    rng = np.random.default_rng(1)
    ref = qkan.QKAN([3, 4, 2], reps=3, solver="exact", fast_measure=measure == "amplitude", device="cpu",
                    preact_trainable=True, postact_weight_trainable=True, postact_bias_trainable=True,
                    ba_trainable=True)
    params = []
    with torch.no_grad():
        for layer in ref.layers:
            for p in (layer.theta, layer.preacts_weight, layer.preacts_bias, layer.postact_weights,
                      layer.postact_bias, layer.base_weight):
                p.copy_(torch.from_numpy(rng.normal(scale=0.5, size=tuple(p.shape)).astype(np.float32)))
            params.append({"theta": layer.theta.numpy(), "w": layer.preacts_weight.numpy(),
                           "b": layer.preacts_bias.numpy(), "pw": layer.postact_weights.numpy(),
                           "pb": layer.postact_bias.numpy(), "bw": layer.base_weight.numpy(),
                           "mask": layer.mask.numpy()})
    x = rng.uniform(-1, 1, size=(16, 3)).astype(np.float32)
    with torch.no_grad():
        expect = ref(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(np.asarray(apply_qkan(params, x, 3, measure=measure)), expect, atol=1e-5)


def test_param_counts_match_reference():
    assert QKAN([10, 10]).param_count == qkan.QKAN([10, 10], device="cpu").param_size
    assert QKAN([10, 100]).param_count == qkan.QKAN([10, 100], device="cpu").param_size
