"""The split (real, imaginary) layout of the numba fast path against independent references.

Every gate of the table, alone and under an extra control, is placed so that each of its
wires visits every wire of the register; the state goes through the split-layout passes
(:mod:`qmlsim.simulators.fast.split`) and is compared with Qiskit's ``Statevector`` of
the same gates (``tests/reference.py``): at 13 wires, where the layout is the default, and
at 9 wires with two chunks per pass (forced), from ``|0...0>`` and from random start
states, in both dtypes, for batches of rows. A spy proves the layout ran.
"""
from __future__ import annotations

import collections

import numpy as np
import pytest

from qmlsim.circuits import Circuit
from qmlsim.circuits.gates import GATES
from qmlsim.simulators import Simulator
from qmlsim.simulators.backends import get_backend
from qmlsim.simulators.program import compile_circuit
from tests import reference as ref
from tests.differential.paths import spy

fast = pytest.importorskip("qmlsim.simulators.fast")
if not fast.available():  # pragma: no cover - numba is installed in CI
    pytest.skip("numba is not installed", allow_module_level=True)

from qmlsim.simulators.fast.split import SPECTATORS, SPLIT_MIN_WIRES  # noqa: E402

ATOL = {"complex128": 1e-10, "complex64": 2e-5}
DTYPES = ("complex128", "complex64")
SPLIT = "qmlsim.simulators.fast.plan:split_rows"


def _gates_everywhere(num_wires: int, name: str, controlled: bool) -> Circuit:
    """An entangled start, then ``name`` once per wire: placement ``s`` puts target ``j`` on wire
    ``(s + 5 j) % num_wires`` (and the extra control, if any, on ``(s + 3) % num_wires`` when free),
    so every wire takes every role. Angles depend on the input and the weight."""
    gate = GATES[name]
    c = Circuit(num_wires)
    x, w = c.inputs(2), c.weights(1)
    for q in range(num_wires):
        c.ry(0.3 + 0.37 * q + x[0], q).rz(0.2 * q - w[0], q)
    for q in range(num_wires - 1):
        c.cx(q, q + 1)
    for s in range(num_wires):
        wires = [(s + 5 * j) % num_wires for j in range(gate.num_wires)]
        params = [(k + 1) * x[1] - w[0] + 0.1 * s for k in range(gate.num_params)]
        if not controlled:
            c.gate(name, *params, *wires)
            continue
        control = next(q for q in ((s + 3 + t) % num_wires for t in range(num_wires)) if q not in wires)
        sub = _sub_circuit(gate.num_wires)
        sub.gate(name, *params, *range(gate.num_wires))
        c.compose(sub.controlled(1), [control, *wires], share_inputs=True, share_weights=True)
    return c


def _sub_circuit(num_wires: int) -> Circuit:
    """An empty circuit with the same symbols as the big one (composed with shared inputs and weights)."""
    sub = Circuit(num_wires)
    sub.inputs(2)
    sub.weights(1)
    return sub


def _rows(rng: np.random.Generator, batch: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(-2, 2, (batch, 2)), rng.uniform(-2, 2, 1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("controlled", [False, True], ids=["plain", "controlled"])
def test_every_gate_on_every_wire_against_qiskit(dtype, controlled, monkeypatch):
    num_wires = SPLIT_MIN_WIRES
    counter: collections.Counter = collections.Counter()
    spy(monkeypatch, counter, SPLIT)
    sim = Simulator(dtype=dtype, kernels="numba")
    rng = np.random.default_rng(7)
    for name in sorted(GATES):
        c = _gates_everywhere(num_wires, name, controlled)
        x, w = _rows(rng, 2)
        got = sim.statevector(c, x=x, weights=w)
        for b in range(2):
            np.testing.assert_allclose(got[b], ref.qiskit_statevector(c, x[b], w), atol=ATOL[dtype], rtol=0, err_msg=name)
    assert counter[SPLIT] > 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_forced_two_chunk_passes_against_qiskit(dtype, monkeypatch):
    # 9 wires in chunks of 8: every pass gathers two chunks through its bit permutation
    num_wires, batch = 9, 2
    counter: collections.Counter = collections.Counter()
    spy(monkeypatch, counter, SPLIT)
    rng = np.random.default_rng(11)
    for name in sorted(GATES):
        for controlled in (False, True):
            c = _gates_everywhere(num_wires, name, controlled)
            program = compile_circuit(c, get_backend("numpy"), dtype)
            plan = fast.FastPlan(program, split_wires=1, split_bits=num_wires - 1)
            assert plan.takes_split(batch)
            x, w = _rows(rng, batch)
            start = rng.normal(size=(batch, 2**num_wires)) + 1j * rng.normal(size=(batch, 2**num_wires))
            start /= np.linalg.norm(start, axis=1, keepdims=True)
            got, from_start = plan.states(x, w), plan.states(x, w, start)
            for b in range(batch):
                np.testing.assert_allclose(got[b], ref.qiskit_statevector(c, x[b], w), atol=ATOL[dtype], rtol=0, err_msg=name)
                expected = ref.qiskit_statevector(c, x[b], w, initial=start[b])
                np.testing.assert_allclose(from_start[b], expected, atol=ATOL[dtype], rtol=0, err_msg=name)
    assert counter[SPLIT] > 0


def test_passes_keep_spectators_free_and_respect_order():
    # a CX ladder orders the ops along the chain; every op of a pass avoids the pass's low local bits
    c = Circuit(14)
    w = c.weights(28)
    for layer in range(2):
        for q in range(14):
            c.rx(w[14 * layer + q], q)
        for q in range(13):
            c.cx(q, q + 1)
    plan = fast.FastPlan(compile_circuit(c, get_backend("numpy"), "complex128"))
    split = plan.split_passes()
    assert split.ops.shape[0] == len(c.ops) and split.bounds.shape[0] > 1
    for rec in split.ops:
        k = int(rec[fast.plan.F_K])
        touched = [int(p) for p in rec[fast.plan.F_POS : fast.plan.F_POS + k]]
        touched += [p for p in range(14) if int(rec[fast.plan.F_CMASK]) >> p & 1]
        assert min(touched) >= SPECTATORS
    weights = np.random.default_rng(3).uniform(-2, 2, 28)
    np.testing.assert_allclose(plan.states(np.zeros((1, 0)), weights)[0], ref.qiskit_statevector(c, None, weights), atol=1e-10)


def test_an_op_wider_than_a_pass_falls_back_to_the_interleaved_kernels():
    n = SPLIT_MIN_WIRES
    c = Circuit(n)
    c.h(0)
    for q in range(1, n):
        c.cx(0, q)
    wide = Circuit(1).x(0).controlled(n - SPECTATORS)  # more positions than a pass leaves free (n - SPECTATORS)
    c.compose(wide, list(range(n - SPECTATORS + 1)))
    plan = fast.FastPlan(compile_circuit(c, get_backend("numpy"), "complex128"))
    assert plan.split_passes() is None and not plan.takes_split(1)
    np.testing.assert_allclose(plan.states(np.zeros((1, 0)), np.zeros(0))[0], ref.qiskit_statevector(c, None, None), atol=1e-12)
