"""The numba fast path (``qmlsim.simulators.fast``) against the array path and independent references.

The array path (``kernels.py`` via ``Program.run``) is the reference the fast path is
tested against; the dense ``np.kron`` simulator of ``tests/reference.py`` shares no
code with either. Fast kernels are also pitted against each other: a diagonal,
permutation or controlled gate against the same operator given as a dense matrix.
"""
from __future__ import annotations

import numpy as np
import pytest

from qmlsim.circuits import Circuit, Hermitian, X, Y, Z
from qmlsim.circuits.gates import GATES
from qmlsim.simulators import Simulator
from qmlsim.simulators.backends import get_backend
from qmlsim.simulators.program import compile_circuit
from tests import reference as ref

fast = pytest.importorskip("qmlsim.simulators.fast")
if not fast.available():  # pragma: no cover - numba is installed in CI
    pytest.skip("numba is not installed", allow_module_level=True)

ATOL = {"complex128": 1e-10, "complex64": 1e-5}
DTYPES = ("complex128", "complex64")


def _program(circuit: Circuit, dtype: str):
    return compile_circuit(circuit, get_backend("numpy"), dtype)


def _inputs(circuit: Circuit, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(-2, 2, (batch, circuit.num_inputs)), rng.uniform(-2, 2, circuit.num_weights)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 6])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_circuits_match_array_path_and_dense_reference(dtype, batch, seed):
    rng = np.random.default_rng(seed)
    circuit = ref.random_circuit(rng, 4, 30)
    x, w = _inputs(circuit, batch, rng)
    program = _program(circuit, dtype)
    plan = fast.plan_for(program)
    assert plan is not None
    got = plan.states(x, w)
    expected = np.asarray(program.run(x, w)).reshape(batch, -1)
    np.testing.assert_allclose(got, expected, atol=ATOL[dtype], rtol=0)
    dense = ref.dense_statevector(circuit, x[0], w)
    np.testing.assert_allclose(got[0], dense, atol=ATOL[dtype], rtol=0)
    assert got.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [3, 4])
def test_cache_blocked_groups_match_array_path(dtype, seed):
    # tiny cache blocks force the large-state path (gather, grouped ops, scatter) on 7 wires
    rng = np.random.default_rng(seed)
    circuit = ref.random_circuit(rng, 7, 40, blocks=False)
    x, w = _inputs(circuit, 2, rng)
    program = _program(circuit, dtype)
    plan = fast.FastPlan(program, chunk_bits=5, run_bits=1)
    assert len(plan.groups()) > 1
    expected = np.asarray(program.run(x, w)).reshape(2, -1)
    np.testing.assert_allclose(plan.states(x, w), expected, atol=ATOL[dtype], rtol=0)


def test_groups_reorder_only_gates_on_disjoint_wires():
    # a CX ladder forces order along the chain; rotations far down may be pulled forward
    c = Circuit(8)
    w = c.weights(8)
    for i in range(8):
        c.rx(w[i], i)
    for i in range(7):
        c.cx(i, i + 1)
    for i in range(8):
        c.ry(w[i], 7 - i)
    program = _program(c, "complex128")
    plan = fast.FastPlan(program, chunk_bits=4, run_bits=2)
    x, weights = np.zeros((1, 0)), np.random.default_rng(5).uniform(-2, 2, 8)
    groups = plan.groups()
    assert sum(g.ops.shape[0] for g in groups) == len(c.ops)
    assert len(groups) < len(c.ops)
    np.testing.assert_allclose(plan.states(x, weights)[0], ref.dense_statevector(c, None, weights), atol=1e-10, rtol=0)


def _with_dense_twin(name: str, wires: tuple[int, ...], params: tuple[float, ...]) -> tuple[Circuit, Circuit]:
    """The gate through its fast kernel, and the same operator as a dense user matrix."""
    prep = Circuit(4)
    for i, t in enumerate([0.3, 1.1, -0.7, 2.0]):
        prep.ry(t, i).rz(0.5 * t, i)
    fast_c = prep.copy()
    getattr(fast_c, name)(*params, *wires)
    dense_c = prep.copy().unitary(GATES[name].matrix(list(params), np, np.complex128), wires)
    return fast_c, dense_c


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name, wires, params",
    [
        ("rz", (2,), (0.7,)),
        ("p", (0,), (1.3,)),
        ("rzz", (3, 1), (0.4,)),
        ("cz", (2, 0), ()),
        ("cp", (1, 3), (0.9,)),
        ("x", (1,), ()),
        ("cx", (3, 0), ()),
        ("swap", (0, 2), ()),
        ("ccx", (2, 0, 3), ()),
        ("cswap", (1, 3, 0), ()),
        ("crx", (0, 2), (0.8,)),
        ("cry", (3, 1), (-1.2,)),
        ("ch", (2, 1), ()),
        ("rxx", (0, 3), (0.6,)),
        ("ryy", (2, 1), (1.7,)),
        ("u", (1,), (0.3, -0.4, 1.1)),
        ("rot", (3,), (0.2, 0.9, -0.5)),
    ],
)
def test_fast_kernels_equal_the_generic_dense_kernel(dtype, name, wires, params):
    fast_c, dense_c = _with_dense_twin(name, wires, params)
    sim = Simulator(dtype=dtype, kernels="numba")
    np.testing.assert_allclose(sim.statevector(fast_c), sim.statevector(dense_c), atol=ATOL[dtype], rtol=0)
    np.testing.assert_allclose(sim.statevector(fast_c), ref.dense_statevector(fast_c), atol=ATOL[dtype], rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_expvals_and_probs_match_array_path(dtype):
    rng = np.random.default_rng(7)
    circuit = ref.random_circuit(rng, 5, 25)
    x, w = _inputs(circuit, 9, rng)
    observables = [Z(0), X(1) @ Y(3) + 0.5 * Z(2) @ Z(4), Y(4), Hermitian(np.diag([1.0, 3.0]), [2]) + X(0)]
    fast_sim, array_sim = Simulator(dtype=dtype, kernels="numba"), Simulator(dtype=dtype, kernels="array")
    np.testing.assert_allclose(
        fast_sim.expval(circuit, observables, x, w), array_sim.expval(circuit, observables, x, w), atol=ATOL[dtype] * 10, rtol=0
    )
    np.testing.assert_allclose(
        fast_sim.probs(circuit, x, w, wires=[3, 0]), array_sim.probs(circuit, x, w, wires=[3, 0]), atol=ATOL[dtype], rtol=0
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("argnum", ["weights", "x"])
def test_fast_adjoint_matches_array_adjoint_and_finite_differences(dtype, argnum):
    rng = np.random.default_rng(11)
    circuit = ref.random_circuit(rng, 4, 25)
    x, w = _inputs(circuit, 3, rng)
    observables = [Z(0), X(1) @ Y(2), Hermitian(np.array([[1.0, 0.5], [0.5, -1.0]]), [3])]
    fast_sim, array_sim = Simulator(dtype=dtype, kernels="numba"), Simulator(dtype=dtype, kernels="array")
    got = fast_sim.jacobian(circuit, observables, x, w, argnum=argnum)
    np.testing.assert_allclose(got, array_sim.jacobian(circuit, observables, x, w, argnum=argnum), atol=ATOL[dtype] * 100, rtol=0)
    # central differences in complex128 with the array path: independent of the sweep
    reference = Simulator(kernels="array").jacobian(circuit, observables, x, w, method="finite-diff", argnum=argnum)
    np.testing.assert_allclose(got, reference, atol=1e-6 if dtype == "complex128" else 1e-4, rtol=0)


def test_fast_adjoint_of_inverted_and_controlled_blocks():
    c = Circuit(3)
    w = c.weights(4)
    block = Circuit(2)
    bw = block.weights(3)
    block.u(bw[0], bw[1], bw[2], 0).rot(bw[2], bw[0], bw[1], 1).rxx(bw[1], 0, 1)
    c.h(0).compose(block, wires=[1, 2]).compose(block.inverse().controlled(1), wires=[0, 1, 2]).ry(w[3], 2)
    weights = np.random.default_rng(2).uniform(-2, 2, c.num_weights)
    got = Simulator(kernels="numba").jacobian(c, Z(2) @ X(1), weights=weights)
    fd = ref.finite_difference(lambda v: ref.dense_expval(ref.dense_statevector(c, None, v), ref.pauli_matrix("IXZ")), weights)
    np.testing.assert_allclose(got, fd, atol=1e-6, rtol=0)


def test_kernel_choice_and_fallback():
    c = Circuit(7)
    c.h(0).unitary(ref.random_unitary(128, np.random.default_rng(0)), tuple(range(7)))
    # a dense 7-wire user matrix is not covered: auto falls back, numba says so
    assert fast.plan_for(_program(c, "complex128")) is None
    np.testing.assert_allclose(Simulator().statevector(c), Simulator(kernels="array").statevector(c), atol=1e-10, rtol=0)
    with pytest.raises(ValueError, match="not covered by the numba kernels"):
        Simulator(kernels="numba").statevector(c)
    with pytest.raises(ValueError, match="kernels must be one of"):
        Simulator(kernels="fortran")
    with pytest.raises(ValueError, match="NumPy backend only"):
        Simulator(backend="jax", kernels="numba")


def test_compiled_kernels_are_cached_outside_the_package():
    import os

    import qmlsim
    from qmlsim.qml.qkan import daruan_kernels
    from qmlsim.simulators.fast import kernels

    package = os.path.dirname(os.path.abspath(qmlsim.__file__))
    dispatchers = [getattr(m, name) for m in (kernels, daruan_kernels) for name in dir(m)
                   if getattr(getattr(m, name), "_cache", None) is not None and name.startswith("_")]
    assert dispatchers
    for dispatcher in dispatchers:
        path = getattr(dispatcher._cache, "_cache_path", None)
        if path is None:  # another numba release keeps it elsewhere: nothing to check here
            continue
        assert not os.path.abspath(path).startswith(package), f"numba caches {dispatcher.__name__} in the package: {path}"
