"""The Simulator's public contract: shapes, backends, bad input, memory, chunking, shots, JAX interplay.

References are independent of the engine: Qiskit's Statevector (bit order reversed),
closed forms and finite differences.
"""
from __future__ import annotations

import numpy as np
import pytest

from qmlsim.circuits import Circuit, Hermitian, X, Y, Z
from qmlsim.simulators import Simulator, backends

from tests.backends import BACKEND_SPECS, SPEC_IDS, make_simulator
from tests.cupy_standin import make_cupy_standin

ATOL = {"complex128": 1e-10, "complex64": 1e-5}


def example_circuit() -> Circuit:
    c = Circuit(2)
    x = c.inputs(2)
    w = c.weights(3)
    c.h(0).h(1)
    c.rz(2 * x[0], 0)
    c.cx(0, 1).rz(2 * (np.pi - x[0]) * (np.pi - x[1]), 1).cx(0, 1)
    c.ry(w[0], 0).rot(w[0], w[1], w[2], 1)
    return c


def qiskit_example_state(x_row: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The example circuit built by hand in Qiskit, state reordered to wire 0 = most significant."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Statevector

    qc = QuantumCircuit(2)
    qc.h(0)
    qc.h(1)
    qc.rz(2 * x_row[0], 0)
    qc.cx(0, 1)
    qc.rz(2 * (np.pi - x_row[0]) * (np.pi - x_row[1]), 1)
    qc.cx(0, 1)
    qc.ry(theta[0], 0)
    # Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi)
    qc.rz(theta[0], 1)
    qc.ry(theta[1], 1)
    qc.rz(theta[2], 1)
    little = np.asarray(Statevector(qc).data)
    return little.reshape(2, 2).transpose(1, 0).reshape(-1)


def backend_params():
    # jax-complex64 is covered by the engine reference tests; these API tests skip it to stay short
    return [pytest.param(spec, id=i) for spec, i in zip(BACKEND_SPECS, SPEC_IDS) if spec != ("jax", "complex64")]


def host(a) -> np.ndarray:
    return np.array(a, copy=True).view(np.ndarray)


@pytest.mark.parametrize("spec", backend_params())
def test_issue_example_shapes_and_values(spec):
    rng = np.random.default_rng(0)
    sim = make_simulator(spec)
    c = example_circuit()
    x = rng.uniform(0, 2 * np.pi, (50, 2))
    theta = rng.normal(size=3)
    psi = host(sim.statevector(c, x=x, weights=theta))
    assert psi.shape == (50, 4)
    expected = np.stack([qiskit_example_state(row, theta) for row in x])
    assert np.abs(psi - expected).max() < ATOL[spec[1]] * 10
    assert host(sim.statevector(c, x=x[0], weights=theta)).shape == (4,)
    p = host(sim.probs(c, x=x, weights=theta))
    np.testing.assert_allclose(p, np.abs(expected) ** 2, atol=ATOL[spec[1]] * 10)
    marg = host(sim.probs(c, x=x, weights=theta, wires=[1]))
    np.testing.assert_allclose(marg, (np.abs(expected) ** 2).reshape(50, 2, 2).sum(axis=1), atol=ATOL[spec[1]] * 10)
    e = host(sim.expval(c, Z(0) @ Z(1), x=x, weights=theta))
    assert e.shape == (50,)
    zz = np.diag([1, -1, -1, 1])
    np.testing.assert_allclose(e, np.einsum("bi,ij,bj->b", expected.conj(), zz, expected).real, atol=ATOL[spec[1]] * 10)
    many = host(sim.expval(c, [Z(0), X(1), Y(0) @ X(1)], x=x, weights=theta))
    assert many.shape == (50, 3)
    s = sim.sample(c, shots=1000, x=x[:3], weights=theta, seed=0)
    assert s.shape == (3, 1000, 2) and s.dtype.kind == "i" and set(np.unique(s)) <= {0, 1}
    assert sim.sample(c, shots=10, x=x[0], weights=theta, seed=0).shape == (10, 2)


@pytest.mark.parametrize("spec", backend_params())
@pytest.mark.parametrize("method", ["adjoint", "parameter-shift", "finite-diff"])
def test_jacobian_matches_finite_differences_of_reference(spec, method):
    rng = np.random.default_rng(1)
    sim = make_simulator(spec)
    c = example_circuit()
    x = rng.uniform(0, 2 * np.pi, (4, 2))
    theta = rng.normal(size=3)
    obs = np.kron(np.diag([1, -1]), np.eye(2)) * 0.5 + np.kron(np.eye(2), np.array([[0, 1], [1, 0]]))

    def energy(row, th):
        s = qiskit_example_state(row, th)
        return float(np.real(s.conj() @ obs @ s))

    h = 1e-5
    expected_w = np.array(
        [[(energy(r, theta + h * e) - energy(r, theta - h * e)) / (2 * h) for e in np.eye(3)] for r in x]
    )
    expected_x = np.array([[(energy(r + h * e, theta) - energy(r - h * e, theta)) / (2 * h) for e in np.eye(2)] for r in x])
    tol = 1e-6 if spec[1] == "complex128" else 2e-2
    g = host(sim.jacobian(c, 0.5 * Z(0) + X(1), x=x, weights=theta, method=method))
    assert g.shape == (4, 3)
    np.testing.assert_allclose(g, expected_w, atol=tol)
    gx = host(sim.jacobian(c, 0.5 * Z(0) + X(1), x=x, weights=theta, method=method, argnum="x"))
    np.testing.assert_allclose(gx, expected_x, atol=tol)


def test_hermitian_observable_and_controlled_rotation_shift_rule():
    # <psi| H |psi> for a CRX circuit: the four-term shift rule must match the adjoint and a closed form
    c = Circuit(2)
    w = c.weights(1)
    c.h(0).crx(w[0], 0, 1)
    sim = Simulator()
    theta = np.array([0.7])
    # closed form: P(wire1 = 1) = 1/2 * sin^2(theta / 2)
    p1 = sim.probs(c, weights=theta, wires=[1])
    assert np.isclose(p1[1], 0.5 * np.sin(0.35) ** 2)
    for method in ("adjoint", "parameter-shift"):
        g = sim.jacobian(c, Z(1), weights=theta, method=method)
        assert np.isclose(g[0], -0.5 * np.sin(0.7) / 2 * 2)
    herm = Hermitian(np.array([[2.0, 1j], [-1j, 0.0]]), 1)
    value = sim.expval(c, herm, weights=theta)
    state = sim.statevector(c, weights=theta)
    dense = np.kron(np.eye(2), np.array([[2.0, 1j], [-1j, 0.0]]))
    assert np.isclose(value, np.real(state.conj() @ dense @ state))


def test_shots_agree_with_exact_within_standard_errors():
    rng = np.random.default_rng(2)
    sim = Simulator()
    c = example_circuit()
    x = rng.uniform(0, 2 * np.pi, (6, 2))
    theta = rng.normal(size=3)
    shots = 20000
    obs = [Z(0), X(1), 0.5 * Y(0) @ Z(1)]
    exact = sim.expval(c, obs, x=x, weights=theta)
    sampled = sim.expval(c, obs, x=x, weights=theta, shots=shots, seed=3)
    stderr = np.sqrt(np.maximum(1 - (exact / np.array([1, 1, 0.5])) ** 2, 1e-3) / shots) * np.array([1, 1, 0.5])
    assert np.all(np.abs(sampled - exact) < 5 * stderr)
    bits = sim.sample(c, shots=shots, x=x, weights=theta, seed=4)
    index = bits[..., 0] * 2 + bits[..., 1]
    freq = np.stack([np.bincount(row, minlength=4) / shots for row in index])
    p = sim.probs(c, x=x, weights=theta)
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / shots) + 1e-3)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s, c: s.statevector(c, x=np.zeros((3, 3)), weights=np.zeros(3)), r"x must have shape \(batch, 2\)"),
        (lambda s, c: s.statevector(c, x=np.array([[np.nan, 0.0]]), weights=np.zeros(3)), "NaN"),
        (lambda s, c: s.statevector(c, x=np.zeros((1, 2)), weights=np.array([0.0, np.inf, 0.0])), "NaN or infinite"),
        (lambda s, c: s.statevector(c, x=np.zeros((1, 2)), weights=np.zeros(2)), r"weights must have shape \(3,\)"),
        (lambda s, c: s.statevector(c, weights=np.zeros(3)), "declares 2 inputs"),
        (lambda s, c: s.jacobian(c, Z(0), x=np.zeros((1, 2)), weights=np.zeros(3), method="magic"), "unknown gradient method"),
        (lambda s, c: s.jacobian(c, Z(0), x=np.zeros((1, 2)), weights=np.zeros(3), method="backprop"), "JAX backend"),
        (lambda s, c: s.expval(c, Z(5), x=np.zeros((1, 2)), weights=np.zeros(3)), "wire"),
        (lambda s, c: s.sample(c, shots=0, x=np.zeros((1, 2)), weights=np.zeros(3)), "shots"),
        (lambda s, c: s.probs(c, x=np.zeros((1, 2)), weights=np.zeros(3), wires=[0, 0]), "distinct"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(Simulator(), example_circuit())


def test_unknown_backend_and_dtype():
    with pytest.raises(ValueError, match="unknown backend 'torch'"):
        Simulator(backend="torch")
    with pytest.raises(ValueError, match="dtype must be one of"):
        Simulator(dtype="float32")


def test_memory_is_checked_before_allocating(monkeypatch):
    monkeypatch.setattr(backends, "available_memory_bytes", lambda: 2**20)
    from qmlsim.simulators import simulator as simulator_module

    monkeypatch.setattr(simulator_module, "available_memory_bytes", lambda: 2**20)
    c = Circuit(20)
    c.h(0)
    with pytest.raises(MemoryError, match="complex64"):
        Simulator().probs(c)
    small = Circuit(8)
    small.h(0)
    with pytest.raises(MemoryError, match="smaller batch"):
        Simulator().statevector(small.compose(_inputs_circuit(8)), x=np.zeros((10_000, 1)))


def _inputs_circuit(n: int) -> Circuit:
    c = Circuit(n)
    x = c.inputs(1)
    c.rx(x[0], 0)
    return c


def test_chunked_batches_equal_unchunked_reference():
    rng = np.random.default_rng(5)
    c = example_circuit()
    x = rng.uniform(0, 2 * np.pi, (10, 2))
    theta = rng.normal(size=3)
    chunked = Simulator(max_chunk_rows=3)
    expected = np.stack([qiskit_example_state(row, theta) for row in x])
    np.testing.assert_allclose(chunked.statevector(c, x=x, weights=theta), expected, atol=1e-10)
    g = chunked.jacobian(c, Z(0), x=x, weights=theta)
    np.testing.assert_allclose(g, Simulator().jacobian(c, Z(0), x=x, weights=theta, method="finite-diff"), atol=1e-6)


def test_cupy_standin_refuses_host_arrays():
    cp = make_cupy_standin()
    with pytest.raises(TypeError, match="mixes device arrays"):
        cp.asarray(np.ones(3)) + np.ones(3)


def test_cupy_missing_names_the_install():
    try:
        import cupy  # noqa: F401

        pytest.skip("cupy is installed here")
    except ImportError:
        pass
    with pytest.raises(ImportError, match=r"pip install \"qmlsim\[gpu\]\""):
        Simulator(backend="cupy")


def test_jax_jit_grad_vmap_through_expval_and_no_recompile():
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(True):  # tracing a complex128 JAX simulator needs the user's x64
        _jit_grad_vmap(jax, jnp)


def _jit_grad_vmap(jax, jnp):
    sim = Simulator(backend="jax")
    c = example_circuit()
    rng = np.random.default_rng(6)
    x = jnp.asarray(rng.uniform(0, 2 * np.pi, (5, 2)))
    traces = []

    def loss(w):
        traces.append(1)
        return jnp.sum(sim.expval(c, Z(0) @ Z(1), x=x, weights=w))

    jitted = jax.jit(loss)
    w0 = jnp.asarray(rng.normal(size=3))
    assert np.isclose(jitted(w0), loss(w0))
    jitted(w0 + 1.0)
    assert len(traces) == 2  # one eager call, one trace: new values did not retrace
    grad = jax.grad(loss)(w0)
    fd = Simulator().jacobian(c, Z(0) @ Z(1), x=np.asarray(x), weights=np.asarray(w0), method="finite-diff").sum(0)
    np.testing.assert_allclose(grad, fd, atol=1e-6)
    jac = jax.jacrev(lambda w: sim.expval(c, Z(0), x=x, weights=w))(w0)
    assert jac.shape == (5, 3)
    batched = jax.vmap(lambda w: sim.expval(c, Z(0), x=x, weights=w))(jnp.stack([w0, w0 + 1]))
    assert batched.shape == (2, 5)


def test_jax_long_circuit_uses_scan_and_matches_numpy():
    import jax

    c = Circuit(4)
    w = c.weights(120)
    for k in range(120):
        c.gate(["rx", "ry", "rz"][k % 3], w[k], k % 4)
        if k % 4 == 3:
            c.cx(0, 1).cz(1, 2).crx(w[k], 2, 3).ccx(0, 1, 3)
    theta = np.random.default_rng(7).normal(size=120)
    expected = Simulator().expval(c, [Z(0), X(3)], weights=theta)
    with jax.enable_x64(True):
        got = jax.jit(lambda t: Simulator(backend="jax").expval(c, [Z(0), X(3)], weights=t))(theta)
    np.testing.assert_allclose(got, expected, atol=1e-10)


def test_jax_simulator_leaves_the_global_jax_configuration_alone():
    import jax
    import jax.numpy as jnp

    c = example_circuit()
    x = np.random.default_rng(3).uniform(0, 2 * np.pi, (4, 2))
    w = np.array([0.3, -0.2, 0.9])
    before = bool(jax.config.jax_enable_x64)
    sim = Simulator(backend="jax")
    eager = np.asarray(sim.expval(c, Z(0) @ Z(1), x=x, weights=w))
    np.testing.assert_allclose(eager, Simulator().expval(c, Z(0) @ Z(1), x=x, weights=w), atol=1e-12)  # full precision
    assert bool(jax.config.jax_enable_x64) == before
    if not before:
        assert jnp.array(1.0).dtype == jnp.float32
        with pytest.raises(ValueError, match='jax.config.update\\("jax_enable_x64", True\\)'):
            jax.grad(lambda v: sim.expval(c, Z(0), x=jnp.asarray(x), weights=v).sum())(jnp.asarray(w))
    # complex64 needs no 64-bit types: traced and differentiated as it is
    single = Simulator(backend="jax", dtype="complex64")
    grad = jax.grad(lambda v: single.expval(c, Z(0), x=jnp.asarray(x, jnp.float32), weights=v).sum())(jnp.asarray(w, jnp.float32))
    fd = Simulator().jacobian(c, Z(0), x=x, weights=w, method="finite-diff").sum(0)
    np.testing.assert_allclose(np.asarray(grad), fd, atol=2e-4)


def test_jax_bridge_on_a_circuit_without_weights():
    # a circuit with inputs only (the QFWP fast programmer): the gradient is d cos(x) / dx
    import jax
    import jax.numpy as jnp

    from qmlsim.simulators import jax_expval

    c = Circuit(1)
    x = c.inputs(1)
    c.ry(x[0], 0)
    f = jax_expval(Simulator(), c, Z(0))
    with jax.enable_x64(True):
        xs = jnp.asarray([[0.3], [1.7]])
        grad = jax.grad(lambda v: jnp.sum(f(v, jnp.zeros(0))))(xs)
    np.testing.assert_allclose(np.asarray(grad)[:, 0], -np.sin([0.3, 1.7]), atol=1e-10)


def test_jax_bridge_gradients_match_finite_differences():
    import jax
    import jax.numpy as jnp

    from qmlsim.simulators import jax_expval

    c = example_circuit()
    f = jax_expval(Simulator(), c, [Z(0), X(1)])
    rng = np.random.default_rng(8)
    with jax.enable_x64(True):  # the user's JAX code in 64 bits; without it the bridge returns float32
        x = jnp.asarray(rng.uniform(0, 2 * np.pi, (3, 2)))
        w = jnp.asarray(rng.normal(size=3))

        def loss(xv, wv):
            return jnp.sum(f(xv, wv) ** 2)

        gx, gw = jax.grad(loss, argnums=(0, 1))(x, w)
    h = 1e-6

    def host_loss(xv, wv):
        return float(np.sum(Simulator().expval(c, [Z(0), X(1)], x=xv, weights=wv) ** 2))

    xn, wn = np.asarray(x), np.asarray(w)
    fd_w = [(host_loss(xn, wn + h * e) - host_loss(xn, wn - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(gw, fd_w, atol=1e-6)
    e = np.zeros_like(xn)
    e[1, 0] = h
    np.testing.assert_allclose(gx[1, 0], (host_loss(xn + e, wn) - host_loss(xn - e, wn)) / (2 * h), atol=1e-6)


@pytest.mark.parametrize("scan", [False, True])
def test_jax_controlled_gates_after_input_rotations_match_qiskit(monkeypatch, scan):
    # XLA on CPU miscompiled a scatter-based controlled update in this pattern (jax 0.10)
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Statevector

    import qmlsim.simulators.program as program_module

    if scan:
        monkeypatch.setattr(program_module, "SCAN_THRESHOLD", 1)
    x = np.array([[0.3, 0.2], [1.0, 2.0]])
    c = Circuit(3)
    xs = c.inputs(2)
    c.rx(xs[0], 0).ry(xs[1], 1).z(0).cx(0, 1).h(1).ccx(2, 0, 1).crx(xs[0], 1, 2)
    got = host(Simulator(backend="jax").statevector(c, x=x))
    for row, state in zip(x, got):
        qc = QuantumCircuit(3)
        qc.rx(row[0], 0)
        qc.ry(row[1], 1)
        qc.z(0)
        qc.cx(0, 1)
        qc.h(1)
        qc.ccx(2, 0, 1)
        qc.crx(row[0], 1, 2)
        expected = np.asarray(Statevector(qc).data).reshape(2, 2, 2).transpose(2, 1, 0).reshape(-1)
        np.testing.assert_allclose(state, expected, atol=1e-12)


def test_simulator_pickles_and_copies_by_backend_name():
    import copy
    import pickle

    c = example_circuit()
    x = np.random.default_rng(9).uniform(0, 2 * np.pi, (3, 2))
    theta = np.array([0.1, 0.2, 0.3])
    for sim in (Simulator(), Simulator(backend="jax", dtype="complex64")):
        for twin in (pickle.loads(pickle.dumps(sim)), copy.deepcopy(sim)):
            assert (twin.backend.name, twin.dtype) == (sim.backend.name, sim.dtype)
            expected = np.stack([qiskit_example_state(row, theta) for row in x])
            np.testing.assert_allclose(host(twin.statevector(c, x=x, weights=theta)), expected, atol=1e-5)


def test_a_numpy_simulator_under_jax_grad_says_what_to_use():
    import jax
    import jax.numpy as jnp

    c = Circuit(1)
    w = c.weights(1)
    c.ry(w[0], 0)
    with pytest.raises(TypeError, match='backend="jax".*jax_expval'):
        jax.grad(lambda v: Simulator().expval(c, Z(0), weights=v).sum())(jnp.array([0.3]))


def test_initial_state_shapes_and_bad_input():
    """initial_state: one state for every row, one per row, several states sharing one input row; clear errors."""
    from qmlsim.circuits import Circuit
    from qmlsim.simulators import Simulator
    from tests.reference import qiskit_statevector

    c = Circuit(2)
    x = c.inputs(1)
    c.ry(x[0], 0).cx(0, 1)
    rng = np.random.default_rng(3)
    starts = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
    starts /= np.linalg.norm(starts, axis=1, keepdims=True)
    sim = Simulator()
    rows = np.array([[0.3], [1.1], [-2.0]])
    per_row = sim.statevector(c, x=rows, initial_state=starts)
    assert per_row.shape == (3, 4)
    for i in range(3):
        np.testing.assert_allclose(per_row[i], qiskit_statevector(c, rows[i], [], initial=starts[i]), atol=1e-12)
    shared_row = sim.statevector(c, x=[0.3], initial_state=starts)  # three states, one input row: a batch
    np.testing.assert_allclose(shared_row[2], qiskit_statevector(c, [0.3], [], initial=starts[2]), atol=1e-12)
    single = sim.statevector(c, x=[0.3], initial_state=starts[1])
    assert single.shape == (4,)
    probs = sim.probs(c, x=rows, initial_state=starts[0], wires=[1])
    expected = np.abs(qiskit_statevector(c, rows[2], [], initial=starts[0])) ** 2
    np.testing.assert_allclose(probs[2], [expected[0] + expected[2], expected[1] + expected[3]], atol=1e-12)
    with pytest.raises(ValueError, match="norm 2, not 1"):
        sim.statevector(c, x=[0.3], initial_state=[2, 0, 0, 0])
    with pytest.raises(ValueError, match=r"shape \(4,\) or \(rows, 4\)"):
        sim.statevector(c, x=[0.3], initial_state=[1, 0])
    with pytest.raises(ValueError, match="2 rows but the call has 3 input rows"):
        sim.statevector(c, x=rows, initial_state=starts[:2])
    with pytest.raises(ValueError, match="NaN"):
        sim.statevector(c, x=[0.3], initial_state=[np.nan, 0, 0, 0])
