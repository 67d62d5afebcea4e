"""The cuStateVec path's plumbing (bit order, pointers, per-row matrices, controls) on CPU.

The stand-in library below implements cuStateVec's documented ``apply_matrix``
semantics independently (index bits counted from the least significant; the first
target is the least significant bit of the matrix index) on host memory reached
through the same integer pointers the engine passes.
"""
from __future__ import annotations

import ctypes
import types

import numpy as np
import pytest

from qmlsim.circuits import Circuit, X, Z
from qmlsim.simulators import Simulator, custatevec
from qmlsim.simulators.backends import cupy_backend

from tests.cupy_standin import make_cupy_standin


def _view(pointer: int, count: int, dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    buffer = (ctypes.c_char * (count * dtype.itemsize)).from_address(pointer)
    return np.frombuffer(buffer, dtype=dtype)


def make_library(calls: list) -> custatevec.CuStateVecLibrary:
    dtypes = {1: np.complex64, 2: np.complex128}

    def apply_matrix(handle, sv, sv_type, n_bits, matrix, m_type, layout, adjoint, targets, n_targets,
                     controls, control_values, n_controls, compute, workspace, workspace_size):
        calls.append((tuple(targets), tuple(controls)))
        dtype = dtypes[sv_type]
        state = _view(sv, 2**n_bits, dtype)
        d = 2**n_targets
        m = _view(matrix, d * d, dtype).reshape(d, d)
        new = state.copy()
        for index in range(2**n_bits):
            if any(((index >> c) & 1) != v for c, v in zip(controls, control_values)):
                continue
            row = sum(((index >> t) & 1) << i for i, t in enumerate(targets))
            base = index
            for t in targets:
                base &= ~(1 << t)
            total = 0
            for col in range(d):
                source = base
                for i, t in enumerate(targets):
                    source |= ((col >> i) & 1) << t
                total += m[row, col] * state[source]
            new[index] = total
        state[:] = new

    module = types.SimpleNamespace(apply_matrix=apply_matrix)
    return custatevec.CuStateVecLibrary(
        module=module,
        data_types={np.dtype(np.complex64): 1, np.dtype(np.complex128): 2},
        compute_types={np.dtype(np.complex64): 0, np.dtype(np.complex128): 0},
        row_major=1,
        handle=0,
    )


@pytest.mark.parametrize("dtype", ["complex128", "complex64"])
def test_custatevec_path_matches_shared_kernels(monkeypatch, dtype):
    monkeypatch.setattr(custatevec, "MIN_WIRES", 3)
    calls: list = []
    sim = Simulator(backend=cupy_backend(make_cupy_standin(), custatevec_library=make_library(calls)), dtype=dtype)
    c = Circuit(4)
    x = c.inputs(1)
    w = c.weights(3)
    c.h(0).rx(x[0], 1).cx(0, 2).crz(w[0], 3, 1).ccx(0, 1, 3).rzz(w[1], 2, 0).swap(3, 1).u(w[0], w[1], w[2], 2)
    c.unitary(np.linalg.qr(np.arange(16).reshape(4, 4) + 1j * np.eye(4))[0], [3, 0])
    xs = np.array([[0.3], [1.1]])
    theta = np.array([0.4, -0.7, 1.3])
    expected = Simulator(dtype=dtype).statevector(c, x=xs, weights=theta)
    got = np.asarray(sim.statevector(c, x=xs, weights=theta)).view(np.ndarray)
    np.testing.assert_allclose(got, expected, atol=1e-5 if dtype == "complex64" else 1e-12)
    assert len(calls) == 2 * len(c)  # every gate went through the library, once per row
    assert ((3,), ()) in calls  # wire 0 of 4 is cuStateVec bit 3
    grad = sim.jacobian(c, Z(0) + X(3), x=xs, weights=theta)
    np.testing.assert_allclose(np.asarray(grad), Simulator(dtype=dtype).jacobian(c, Z(0) + X(3), x=xs, weights=theta),
                               atol=1e-4 if dtype == "complex64" else 1e-10)


def test_small_states_keep_the_shared_kernels(monkeypatch):
    calls: list = []
    sim = Simulator(backend=cupy_backend(make_cupy_standin(), custatevec_library=make_library(calls)))
    c = Circuit(2)
    c.h(0).cx(0, 1)
    sim.statevector(c)
    assert calls == []
