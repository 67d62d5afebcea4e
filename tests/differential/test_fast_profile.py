"""The differential harness, fast profile: every registered path on random circuits.

Each path runs on circuits that reach it (wires and lengths on both sides of every
threshold), with constant, input, weight, mixed and non-affine angles, and is compared
with the dense and Qiskit references: states, probabilities, Pauli-sum and Hermitian
expectation values, samples (chi-square) and Jacobians (each gradient method, with
respect to weights and inputs, against central differences). The path's probe must
fire: a path that is no longer reached fails here.
"""
from __future__ import annotations

import zlib

import pytest

from tests.differential.checks import ANGLE_MODES, Tally, draw_case, run_case
from tests.differential.paths import EXPVAL, INITIAL, JACOBIAN, PATH_KEYS, STATE, by_key

# circuits per path in the fast profile: cheap paths get more
CIRCUITS = 8


@pytest.mark.parametrize("key", PATH_KEYS)
def test_path_matches_references(key, monkeypatch):
    path = by_key(key)
    counter = path.enter(monkeypatch)
    tally = Tally()
    count = max(2, CIRCUITS // path.cost)
    base = zlib.crc32(key.encode()) % 10**6
    jacobian_case = min(count - 1, ANGLE_MODES.index("mixed"))
    for i in range(count):
        # constant-angle circuits first: the class of bug a threshold hides
        case = draw_case(base + i, path.wires, path.ops, path.batch, mode=ANGLE_MODES[i % len(ANGLE_MODES)], gates=path.gates)
        # expensive paths (JAX compiles every new circuit) take one gradient method here;
        # the long profile (test_long_profile.py) runs all of them
        methods = path.jacobian_methods[:1] if path.cost >= 10 else None
        only = frozenset({STATE, EXPVAL}) if path.cost >= 10 and i > 0 else None
        if path.cost >= 10 and (path.dtype == "complex64" or path.name == "jax-scan"):
            # start states make JAX compile every circuit again: here on the unrolled complex128 path,
            # on every path and dtype in the long profile (the slow step)
            only = (only or path.measures) - {INITIAL}
        # Jacobians on one circuit with trainable angles (the first has constant ones: nothing to
        # differentiate), on every circuit for a path that only computes Jacobians
        jacobians = (i == jacobian_case and (path.cost < 10 or path.dtype == "complex128")) or path.measures == {JACOBIAN}
        run_case(path, case, tally, jacobians=jacobians, sample=i == 0, methods=methods, only=only)
    verdict = path.probe.verdict(counter)
    assert verdict is None, f"path {key} was not exercised: {verdict}"
    tally.write(f"fast-{key}")
