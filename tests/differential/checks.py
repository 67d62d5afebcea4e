"""Random cases, independent references and the comparisons of the differential harness.

References share no code with the engine: states come from the dense ``np.kron``
simulator of ``tests/reference.py`` (up to :data:`DENSE_MAX_WIRES` wires) and from
Qiskit's ``Statevector`` (every size; always for the first row); observables are
applied letter by letter here; Jacobians are central differences of the reference
expectation values; samples are judged by a chi-square test against the reference
probabilities.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from scipy import stats as scipy_stats

from qmlsim.circuits import Circuit, Observable
from qmlsim.circuits import expressions as ex
from qmlsim.circuits.observables import HermitianTerm
from tests import reference as ref
from tests.differential.paths import EXPVAL, HERMITIAN, INITIAL, JACOBIAN, PROBS, SAMPLE, STATE, ExecutionPath, host

DENSE_MAX_WIRES = 6
ANGLE_MODES = ("constant", "constant+input", "input", "weight", "mixed", "nonaffine")
# tolerances per dtype: states/expvals; Jacobians (the reference is a central difference)
ATOL = {"complex128": 1e-9, "complex64": 2e-4}
JAC_ATOL = {"complex128": 2e-6, "complex64": 5e-3}
SHOTS = 3000
# a sample fails when its chi-square p-value is below this (seeded, so reproducible)
P_VALUE = 1e-6


# --------------------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------------------
def _angle_drawer(mode: str) -> Callable[[np.random.Generator, int, int], ex.Expr]:
    def constant(rng: np.random.Generator) -> ex.Expr:
        return ex.Const(float(rng.uniform(-math.pi, math.pi)))

    def affine(rng: np.random.Generator, kind: str, count: int) -> ex.Expr:
        s = ex.Symbol(kind, int(rng.integers(count)))
        roll = rng.random()
        if roll < 0.4:
            return s
        if roll < 0.7:
            return float(rng.uniform(-2, 2)) * s + float(rng.uniform(-1, 1))
        return -2 * s

    def draw(rng: np.random.Generator, num_inputs: int, num_weights: int) -> ex.Expr:
        choice = mode
        if mode == "constant+input":
            choice = "constant" if rng.random() < 0.5 else "input"
        elif mode == "mixed":
            choice = ("constant", "input", "weight", "nonaffine")[int(rng.integers(4))]
        if choice == "input" and num_inputs:
            return affine(rng, "x", num_inputs)
        if choice == "weight" and num_weights:
            return affine(rng, "w", num_weights)
        if choice == "nonaffine":
            return ref.random_expression(rng, num_inputs, num_weights)
        return constant(rng)

    return draw


@dataclass
class Case:
    """One random circuit with its inputs, weights and observables."""

    seed: int
    mode: str
    circuit: Circuit
    x: np.ndarray
    weights: np.ndarray
    observables: list[Observable]
    memo: dict = field(default_factory=dict, repr=False)  # references, computed once per case

    def __repr__(self) -> str:
        c = self.circuit
        return f"Case(seed={self.seed}, mode={self.mode!r}, wires={c.num_wires}, ops={len(c.ops)})"


def draw_case(seed: int, wires: tuple[int, int], ops: tuple[int, int], batch: int, mode: str | None = None,
              hermitian: bool = True, gates: tuple[str, ...] | None = None) -> Case:
    """A random circuit with ``wires[0]..wires[1]`` wires and ``ops[0]..ops[1]`` ops (of ``gates``
    and permutation matrices only, when ``gates`` is given)."""
    rng = np.random.default_rng(seed)
    mode = ANGLE_MODES[int(rng.integers(len(ANGLE_MODES)))] if mode is None else mode
    n = int(rng.integers(wires[0], wires[1] + 1))
    target = int(rng.integers(ops[0], ops[1] + 1))
    drawn = ref.random_circuit(rng, n, target, gates=gates, num_inputs=2, num_weights=2, angle=_angle_drawer(mode),
                               haar=gates is None)
    c = Circuit(n)
    c.inputs(drawn.num_inputs)
    c.weights(drawn.num_weights)
    for op in drawn.ops[:target]:  # blocks add several ops: trim to the drawn length
        c.append(op)
    x = rng.uniform(-2, 2, (batch, c.num_inputs))
    w = rng.uniform(-2, 2, c.num_weights)
    observables = [ref.random_observable(rng, n, hermitian and rng.random() < 0.5) for _ in range(2)]
    return Case(seed, mode, c, x, w, observables)


# --------------------------------------------------------------------------------------
# references
# --------------------------------------------------------------------------------------
def reference_states(case: Case) -> np.ndarray:
    """``(batch, 2**n)`` states of the case's rows: dense simulation for small circuits,
    Qiskit's Statevector above (computed once per case)."""
    if "states" not in case.memo:
        c = case.circuit
        if c.num_wires <= DENSE_MAX_WIRES:
            states = [ref.dense_statevector(c, row, case.weights) for row in case.x]
        else:
            states = [ref.qiskit_evolve(qc) for qc in qiskit_circuits(case)]
        case.memo["states"] = np.stack(states)
    return case.memo["states"]


def qiskit_circuits(case: Case, rows: int | None = None) -> list[Any]:
    """Qiskit circuits for the first ``rows`` rows of ``case.x`` (all by default), each built once:
    building costs more than simulating here."""
    built = case.memo.setdefault("qiskit", [])
    for row in case.x[len(built):rows]:
        built.append(ref.qiskit_circuit(case.circuit, row, case.weights))
    return built[:rows]


def reference_expvals(states: np.ndarray, observables: list[Observable], n: int) -> np.ndarray:
    """``(batch, k)`` expectation values, every term applied to the state here."""
    out = np.zeros((states.shape[0], len(observables)))
    for o, obs in enumerate(observables):
        for term in obs.terms:
            if isinstance(term, HermitianTerm):
                applied = ref.apply_local(states, np.asarray(term.matrix, complex), tuple(term.wires), n)
            else:
                applied = states
                for wire, letter in term.word:
                    applied = ref.apply_local(applied, ref.pauli_matrix(letter), (wire,), n)
            out[:, o] += float(np.real(term.coeff)) * np.real(np.einsum("bi,bi->b", states.conj(), applied))
    return out


def reference_jacobian(case: Case, argnum: str, variant: Any = None) -> np.ndarray:
    """``(batch, k, P)`` central differences of the reference expectation values (cached per ``variant``)."""
    key = ("jacobian", argnum, variant, case.x.shape[0])
    if key not in case.memo:
        case.memo[key] = _reference_jacobian(case, argnum)
    return case.memo[key]


def _reference_jacobian(case: Case, argnum: str) -> np.ndarray:
    # differences of the tensor-contraction simulator above 6 wires: Qiskit's circuit building
    # costs about 50 ms per evaluation here, and the states it checks are compared with Qiskit
    c, n = case.circuit, case.circuit.num_wires
    oracle = ref.dense_statevector if n <= DENSE_MAX_WIRES else ref.local_statevector

    def expvals(x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return reference_expvals(np.stack([oracle(c, row, w) for row in x]), case.observables, n)

    if argnum == "weights":
        return ref.finite_difference(lambda w: expvals(case.x, w), case.weights, eps=1e-5)
    return np.stack([ref.finite_difference(lambda row: expvals(row[None], case.weights)[0], case.x[b], eps=1e-5)
                     for b in range(case.x.shape[0])])


# --------------------------------------------------------------------------------------
# statistics of a run
# --------------------------------------------------------------------------------------
@dataclass
class Tally:
    """Circuits, checks and worst errors per path (the note reports these)."""

    circuits: dict[str, int] = field(default_factory=dict)
    checks: dict[str, dict[str, int]] = field(default_factory=dict)
    worst: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def record(self, key: str, check: str, error: float) -> None:
        self.checks.setdefault(key, {}).setdefault(check, 0)
        self.checks[key][check] += 1
        worst = self.worst.setdefault(key, {})
        worst[check] = max(worst.get(check, 0.0), float(error))

    def circuit(self, key: str) -> None:
        self.circuits[key] = self.circuits.get(key, 0) + 1

    def write(self, name: str) -> None:
        """Write to ``$QMLSIM_DIFF_REPORT/<name>.json`` when that directory is set."""
        folder = os.environ.get("QMLSIM_DIFF_REPORT")
        if not folder:
            return
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{name}.json"), "w") as fh:
            json.dump({"circuits": self.circuits, "checks": self.checks, "worst": self.worst, "seconds": self.seconds},
                      fh, indent=1)


# --------------------------------------------------------------------------------------
# running one case on one path
# --------------------------------------------------------------------------------------
def _assert_close(got: Any, expected: np.ndarray, atol: float, what: str, case: Case, path: ExecutionPath) -> float:
    got = host(got)
    assert got.shape == expected.shape, f"{path.key} {what}: shape {got.shape} != {expected.shape} on {case!r}"
    error = float(np.max(np.abs(got - expected))) if got.size else 0.0
    assert error <= atol, f"{path.key} {what}: max error {error:.3g} > {atol:g} on {case!r}\n{case.circuit!r}"
    return error


def chi_square_p(bits: np.ndarray, probabilities: np.ndarray) -> float:
    """p-value of observed bit strings ``(shots, n)`` (wire order) against ``probabilities`` ``(2**n,)``."""
    n = bits.shape[-1]
    index = bits @ (1 << np.arange(n - 1, -1, -1)) if n else np.zeros(bits.shape[0], int)
    counts = np.bincount(index, minlength=2**n).astype(float)
    expected = probabilities * bits.shape[0]
    if np.any(counts[expected < 1e-12] > 0):
        return 0.0  # an outcome of probability zero was drawn
    big = expected >= 5
    obs_b, exp_b = list(counts[big]), list(expected[big])
    if (~big).any():  # pool the rare outcomes into one bin
        obs_b.append(counts[~big].sum())
        exp_b.append(expected[~big].sum())
    obs_a, exp_a = np.array(obs_b), np.array(exp_b)
    keep = exp_a > 0
    dof = int(keep.sum()) - 1
    if dof <= 0:
        return 1.0
    stat = float(np.sum((obs_a[keep] - exp_a[keep]) ** 2 / exp_a[keep]))
    return float(scipy_stats.chi2.sf(stat, dof))


def run_case(path: ExecutionPath, case: Case, tally: Tally, jacobians: bool = True, sample: bool = True,
             methods: tuple[str, ...] | None = None, only: frozenset[str] | None = None) -> None:
    """Run every measurement ``path`` supports on ``case`` and compare with the references.

    ``jacobians``/``sample`` switch those checks off; ``methods`` limits the gradient
    methods; ``only`` limits the measurements (intersected with the path's).
    """
    start = time.perf_counter()
    try:
        _run_case(path, case, tally, jacobians, sample, methods, only)
    finally:
        tally.seconds[path.key] = tally.seconds.get(path.key, 0.0) + time.perf_counter() - start


def _run_case(path: ExecutionPath, case: Case, tally: Tally, jacobians: bool, sample: bool,
              methods: tuple[str, ...] | None, only: frozenset[str] | None) -> None:
    executor = path.make()
    measures = path.measures if only is None else path.measures & only
    c, n = case.circuit, case.circuit.num_wires
    single_output = getattr(executor, "single_precision_output", False)
    atol = ATOL["complex64" if single_output else path.dtype]
    jac_atol = JAC_ATOL["complex64" if single_output else path.dtype]
    x, w = case.x, case.weights
    expected_states = reference_states(case)
    tally.circuit(path.key)
    if n >= 2 and "oracles agree" not in case.memo:  # the two independent oracles agree too (first row, once)
        np.testing.assert_allclose(expected_states[0], ref.qiskit_evolve(qiskit_circuits(case, 1)[0]), atol=1e-10)
        case.memo["oracles agree"] = True
    if STATE in measures:
        got = executor.statevector(c, x=x, weights=w)
        tally.record(path.key, "state", _assert_close(got, expected_states, atol, "statevector", case, path))
        norms = np.linalg.norm(host(got), axis=1)
        tally.record(path.key, "norm", _assert_close(norms, np.ones(len(x)), atol, "norm", case, path))
    if INITIAL in measures:  # from random start states, one per row, then one shared by every row
        rng = np.random.default_rng(case.seed)
        starts = rng.normal(size=(len(x), 2**n)) + 1j * rng.normal(size=(len(x), 2**n))
        starts /= np.linalg.norm(starts, axis=1, keepdims=True)
        # the tensor-contraction reference for every row (Qiskit's evolve from a start state
        # costs 15 ms a row), checked against Qiskit on the first
        expected = np.stack([ref.local_statevector(c, row, w, initial=s) for row, s in zip(x, starts)])
        np.testing.assert_allclose(expected[0], ref.qiskit_evolve(qiskit_circuits(case, 1)[0], initial=starts[0]), atol=1e-10)
        got = executor.statevector(c, x=x, weights=w, initial_state=starts)
        tally.record(path.key, "initial-state", _assert_close(got, expected, atol, "statevector from initial_state", case, path))
        got = executor.statevector(c, x=x, weights=w, initial_state=starts[0])
        expected = np.stack([ref.local_statevector(c, row, w, initial=starts[0]) for row in x])
        tally.record(path.key, "initial-state", _assert_close(got, expected, atol, "statevector from a shared initial_state", case, path))
        if hasattr(executor, "probs"):
            got = executor.probs(c, x=x, weights=w, initial_state=starts[0])
            tally.record(path.key, "initial-state", _assert_close(got, np.abs(expected) ** 2, atol, "probs from initial_state", case, path))
    probabilities = np.abs(expected_states) ** 2
    if PROBS in measures:
        got = executor.probs(c, x=x, weights=w)
        tally.record(path.key, "probs", _assert_close(got, probabilities, atol, "probs", case, path))
    observables = case.observables
    if HERMITIAN not in measures:
        observables = [Observable([t for t in o.terms if not isinstance(t, HermitianTerm)]) for o in observables]
        observables = [o for o in observables if o.terms] or [Observable.from_list([("Z", [0], 1.0)])]
    if EXPVAL in measures:
        expected = reference_expvals(expected_states, observables, n)
        got = executor.expval(c, observables, x=x, weights=w)
        tally.record(path.key, "expval", _assert_close(got, expected, atol, "expval", case, path))
    if SAMPLE in measures and sample:
        bits = host(executor.sample(c, SHOTS, x=x[:1], weights=w, seed=case.seed))
        p = chi_square_p(bits.reshape(SHOTS, n), probabilities[0])
        assert p > P_VALUE, f"{path.key} sample: chi-square p-value {p:.3g} on {case!r}"
        tally.record(path.key, "sample", 1.0 - p)
    if JACOBIAN in measures and jacobians:
        sub = Case(case.seed, case.mode, c, x[:2], w, observables, case.memo)
        for argnum in ("weights", "x"):
            expected = reference_jacobian(sub, argnum, HERMITIAN in path.measures)
            for method in path.jacobian_methods if methods is None else methods:
                got = executor.jacobian(c, observables, x=sub.x, weights=w, method=method, argnum=argnum)
                error = _assert_close(got, expected, jac_atol, f"jacobian {method} wrt {argnum}", case, path)
                tally.record(path.key, f"jacobian:{method}", error)
