"""The differential harness, long profile (slow): 2,000 random circuits, 1-18 wires, 1-80 ops.

Every circuit runs on every cheap path that takes its size, and one circuit in
``path.cost`` runs on the expensive ones (JAX compiles each new circuit; the PennyLane
and Qiskit paths convert it); paths reached only from many rows per call (``min_rows``:
the parallel row driver, the SIMD-rows kernels) draw wide batches of their own. The
references are computed once per circuit and shared by the paths. Set
``QMLSIM_DIFF_REPORT=DIR`` to keep per-chunk tallies (circuits and checks per path,
worst error per check); ``python -m tests.differential.report DIR`` sums them up.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.differential.checks import ANGLE_MODES, Tally, draw_case, run_case
from tests.differential.paths import INITIAL, JACOBIAN, PATHS

# 2,000 circuits keep the CI's slow step within its budget on today's 2-core machines: a chunk
# of 250 takes 170-220 s on each of 2 busy workers, so 8 chunks take about 15 minutes (4,000
# took about 30 minutes on 2026-12-07; 10,000 took 16.6 on 2026-11-28's faster machines); the
# fast profile runs every path in the default run
TOTAL_CIRCUITS = 2_000
CHUNKS = 8
PER_CHUNK = TOTAL_CIRCUITS // CHUNKS
# one circuit in LARGE_EVERY has 13-18 wires (references there cost about a second)
LARGE_EVERY = 200
# wide-batch circuits per chunk for each path reached only from many rows (SIMD rows: 8+)
WIDE_DRAWS = 5


def _wires_for(index: int, rng: np.random.Generator) -> tuple[int, int]:
    if index % LARGE_EVERY == LARGE_EVERY - 1:
        n = int(rng.integers(13, 19))
    else:
        n = int(rng.integers(1, 11))
    return n, n


def _run_on_path(path, case, tally, **options) -> None:
    """One case on one path, with the path's probe checked for this run alone."""
    with pytest.MonkeyPatch.context() as mp:
        counter = path.enter(mp)
        run_case(path, case, tally, **options)
        verdict = path.probe.verdict(counter)
    assert verdict is None, f"path {path.key} was not taken on {case!r}: {verdict}"


def _takes(path, index: int) -> bool:
    """One circuit in the path's long-profile cost, at a residue that moves, so every angle mode reaches every path."""
    cost = path.long_cost or path.cost
    return index % cost == (index // cost) % cost


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_long_profile(chunk):
    tally = Tally()
    for j in range(PER_CHUNK):
        index = chunk * PER_CHUNK + j
        seed = 5_000_000 + index
        rng = np.random.default_rng(seed)
        wires = _wires_for(index, rng)
        large = wires[0] >= 13
        mode = ANGLE_MODES[index % len(ANGLE_MODES)]
        case = draw_case(seed, wires, (1, 80), 1 if large else 3, mode=mode)
        n, length = case.circuit.num_wires, len(case.circuit.ops)
        for path in PATHS:
            lo, hi = path.long_range
            if path.gates is not None or path.min_rows > case.x.shape[0] or not (lo <= n <= hi and path.ops[0] <= length <= path.ops[1]):
                continue
            if not _takes(path, index) or (path.applies is not None and not path.applies(case.circuit)):
                continue
            # expensive paths run their slow gradient methods (eager JAX sweeps) on short circuits only
            methods = path.jacobian_methods[:1] if path.cost >= 10 and length > 30 else None
            # start states (a Qiskit evolve per row for the reference) on one circuit in 8, like samples
            only = None if j % 8 == 2 else path.measures - {INITIAL}
            # a path that only computes Jacobians takes them on every circuit it runs
            jacobians = (n <= 8 and j % 8 == 0) or path.measures == {JACOBIAN}
            _run_on_path(path, case, tally, jacobians=jacobians, sample=j % 8 == 1, methods=methods, only=only)
    for p, path in enumerate(PATHS):  # paths reached only from many rows: wide batches of their own
        if path.min_rows <= 3 and path.gates is None:
            continue
        # the parallel row driver (10-11 wires, 32 rows) on every other chunk; the SIMD-rows paths on every chunk
        # the real-gate JAX path (a compilation per circuit): one draw per chunk
        draws = (chunk + 1) % 2 if path.name == "numba-rows-parallel" else (1 if path.gates else WIDE_DRAWS)
        for d in range(draws):
            seed = 7_000_000 + 1000 * p + WIDE_DRAWS * chunk + d
            case = draw_case(seed, path.wires, path.ops, path.batch, mode=ANGLE_MODES[(chunk + d) % len(ANGLE_MODES)],
                             gates=path.gates)
            _run_on_path(path, case, tally, jacobians=d == 0, sample=d == 1)
    tally.write(f"long-{chunk:02d}")
