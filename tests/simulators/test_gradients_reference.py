"""Every gradient method against central finite differences of the dense reference.

``adjoint``, ``parameter-shift``, ``finite-diff`` (all backends) and ``backprop`` (JAX)
Jacobians with respect to weights and inputs are compared with finite differences of
``tests/reference.py``'s kron simulator, on random circuits with random angle
expressions; JAX compilation is checked to happen once.
"""
from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from qmlsim.circuits import Circuit, Observable, X, Y, Z
from qmlsim.simulators import Simulator
from tests import reference as ref
from tests.backends import make_simulator

# (backend, dtype, method, tolerance relative to 1 + |J|)
CASES = [
    ("numpy", "complex128", "adjoint", 1e-6),
    ("numpy", "complex128", "parameter-shift", 1e-6),
    ("numpy", "complex128", "finite-diff", 1e-5),
    ("numpy", "complex64", "adjoint", 2e-4),
    ("jax", "complex128", "adjoint", 1e-6),
    ("jax", "complex128", "parameter-shift", 1e-6),
    ("jax", "complex128", "backprop", 1e-6),
    ("cupy-on-cpu", "complex128", "adjoint", 1e-6),
    ("cupy-on-cpu", "complex128", "parameter-shift", 1e-6),
    ("cupy-on-cpu", "complex64", "finite-diff", 5e-3),
]
CASE_IDS = [f"{b}-{d}-{m}" for b, d, m, _ in CASES]
# eager JAX sweeps dispatch op by op (slow): the quick random test leaves them to the slow run
QUICK = [i for i, case in enumerate(CASES) if not (case[0] == "jax" and case[2] != "backprop")]


def host(a) -> np.ndarray:
    return np.array(a, copy=True).view(np.ndarray)


def reference_expvals(c: Circuit, x_row: np.ndarray, w: np.ndarray, matrices: list[np.ndarray]) -> np.ndarray:
    state = ref.dense_statevector(c, x_row, w)
    return np.array([ref.dense_expval(state, m) for m in matrices])


def reference_jacobian(c: Circuit, observables: list[Observable], x: np.ndarray, w: np.ndarray, argnum: str) -> np.ndarray:
    """``(batch, k, P)`` by central differences of the dense reference."""
    matrices = [o.matrix(c.num_wires) for o in observables]
    rows = []
    for x_row in x:
        if argnum == "weights":
            rows.append(ref.finite_difference(lambda p: reference_expvals(c, x_row, p, matrices), w, eps=1e-6))
        else:
            rows.append(ref.finite_difference(lambda p: reference_expvals(c, p, w, matrices), x_row, eps=1e-6))
    return np.stack(rows)


def observables_for(num_wires: int) -> list[Observable]:
    last = num_wires - 1
    return [Z(0), 0.5 * X(last) + Y(0) @ Z(last) if last else 0.5 * X(0) + Y(0)]


def check_jacobians(sim: Simulator, method: str, tol: float, c: Circuit, x: np.ndarray, w: np.ndarray) -> None:
    observables = observables_for(c.num_wires)
    for argnum in ("weights", "x"):
        expected = reference_jacobian(c, observables, x, w, argnum)
        got = host(sim.jacobian(c, observables, x=x, weights=w, method=method, argnum=argnum))
        size = c.num_weights if argnum == "weights" else c.num_inputs
        assert got.shape == (x.shape[0], len(observables), size)
        err = np.abs(got - expected) / (1 + np.abs(expected))
        assert err.max(initial=0.0) <= tol, f"{method} wrt {argnum}: max rel error {err.max():.2e}\n{c!r}"


@pytest.mark.parametrize("backend, dtype, method, tol", [CASES[i] for i in QUICK], ids=[CASE_IDS[i] for i in QUICK])
@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(case=ref.circuits(max_wires=4, max_gates=8))
def test_random_circuits(backend, dtype, method, tol, case):
    c, x, w = case
    check_jacobians(make_simulator(backend, dtype), method, tol, c, x[:2], w)


@pytest.mark.slow
@pytest.mark.parametrize("backend, dtype, method, tol", CASES, ids=CASE_IDS)
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(case=ref.circuits(max_wires=5, max_gates=16))
def test_random_circuits_slow(backend, dtype, method, tol, case):
    c, x, w = case
    check_jacobians(make_simulator(backend, dtype), method, tol, c, x, w)


@pytest.mark.parametrize(
    "backend, dtype, method, tol",
    [pytest.param(*case, marks=() if i in QUICK else pytest.mark.slow) for i, case in enumerate(CASES)],
    ids=CASE_IDS,
)
def test_every_parametric_gate(backend, dtype, method, tol):
    """One circuit with every parametric gate, controlled once, angles mixing inputs and weights."""
    from qmlsim.circuits.gates import GATES

    rng = np.random.default_rng(0)
    c = Circuit(4)
    xs = c.inputs(2)
    for q in range(4):
        c.h(q)
    c.cx(0, 1).cx(2, 3)
    for name, gate in sorted(GATES.items()):
        if not gate.num_params:
            continue
        ws = c.weights(gate.num_params)
        params = [ws[k] * (1 + 0.3 * xs[k % 2]) for k in range(gate.num_params)]
        wires = rng.permutation(4)[: gate.num_wires].tolist()
        c.gate(name, *params, *wires)
    # the same gates again, as a controlled block
    block = Circuit(2)
    bw = block.weights(3)
    block.crx(bw[0], 0, 1).u(bw[0], bw[1], bw[2], 1).rzz(bw[2], 0, 1).p(bw[1], 0)
    c.compose(block.controlled(1), wires=[3, 0, 2])
    x = rng.uniform(-1, 1, (2, 2))
    w = rng.uniform(-np.pi, np.pi, c.num_weights)
    check_jacobians(make_simulator(backend, dtype), method, tol, c, x, w)


def test_methods_agree_with_each_other():
    rng = np.random.default_rng(1)
    c = ref.random_circuit(rng, 3, 14, num_inputs=2, num_weights=4)
    x = rng.uniform(-1, 1, (3, 2))
    w = rng.uniform(-1, 1, c.num_weights)
    obs = Z(0) @ X(1) + 0.3 * Y(2)
    sim = Simulator()
    adjoint = sim.jacobian(c, obs, x=x, weights=w, method="adjoint")
    shift = sim.jacobian(c, obs, x=x, weights=w, method="parameter-shift")
    assert adjoint.shape == (3, c.num_weights)
    np.testing.assert_allclose(adjoint, shift, atol=1e-10)
    backprop = host(Simulator("jax").jacobian(c, obs, x=x, weights=w, method="backprop"))
    np.testing.assert_allclose(adjoint, backprop, atol=1e-10)


def test_single_row_drops_batch_axis():
    rng = np.random.default_rng(2)
    c = ref.random_circuit(rng, 2, 6, num_inputs=2, num_weights=2)
    w = rng.uniform(-1, 1, c.num_weights)
    x = rng.uniform(-1, 1, 2)
    g = Simulator().jacobian(c, Z(0), x=x, weights=w)
    assert g.shape == (c.num_weights,)
    expected = reference_jacobian(c, [Z(0)], x[None], w, "weights")[0, 0]
    np.testing.assert_allclose(g, expected, atol=1e-7)


# --- JAX compilation -----------------------------------------------------------
class _CompileLog(logging.Handler):
    """Counts JAX's "Compiling ..." log records (emitted under ``jax.log_compiles()``)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Compiling"):
            self.count += 1


@pytest.fixture
def compile_log():
    import jax

    handler = _CompileLog()
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles():
            yield handler
    finally:
        logger.removeHandler(handler)


def _jax_case():
    rng = np.random.default_rng(3)
    c = ref.random_circuit(rng, 3, 12, num_inputs=2, num_weights=3)
    x = rng.uniform(-1, 1, (4, 2))
    return c, x, rng


def test_second_call_does_not_recompile(compile_log):
    c, x, rng = _jax_case()
    sim = Simulator("jax")
    obs = Z(0) @ Z(2)
    for method in ("expval", "backprop"):
        run = (
            (lambda w, xv: sim.expval(c, obs, x=xv, weights=w))
            if method == "expval"
            else (lambda w, xv: sim.jacobian(c, obs, x=xv, weights=w, method="backprop"))
        )
        host(run(rng.uniform(-1, 1, c.num_weights), x))
        before = compile_log.count
        assert before > 0, "expected the first call to compile (is the JAX backend jitting?)"
        for _ in range(2):
            host(run(rng.uniform(-1, 1, c.num_weights), rng.uniform(-1, 1, x.shape)))
        assert compile_log.count == before, f"{method}: new values recompiled"


def test_jitted_equals_eager_and_differentiates():
    import jax
    import jax.numpy as jnp

    c, x, rng = _jax_case()
    sim = Simulator("jax")
    obs = Z(0) @ Z(2) + 0.5 * X(1)
    w = rng.uniform(-1, 1, c.num_weights)

    def loss(weights):
        return sim.expval(c, obs, x=jnp.asarray(x), weights=weights).sum()

    with jax.enable_x64(True):  # tracing a complex128 JAX simulator needs the user's x64
        eager = float(loss(jnp.asarray(w)))
        jitted = float(jax.jit(loss)(jnp.asarray(w)))
        grad = np.asarray(jax.jit(jax.grad(loss))(jnp.asarray(w)))
    assert jitted == pytest.approx(eager, abs=1e-12)
    matrices = [obs.matrix(3)]
    assert eager == pytest.approx(sum(reference_expvals(c, row, w, matrices)[0] for row in x), abs=1e-10)
    expected = reference_jacobian(c, [obs], x, w, "weights").sum(axis=(0, 1))
    np.testing.assert_allclose(grad, expected, atol=1e-6)
