"""Small circuits over many input rows: the batch sizes of QML training loops.

The 4-wire, 20-gate circuit of ``bench_engine.py`` (RY(x), RZ(w), CX ring, RY(w),
RZ(w)) and ``<Z0>``, for 100, 300, 1,000, 3,000 and 10,000 rows in one call, against
default.qubit + jax.jit broadcasting, lightning.qubit broadcasting (at most 200 rows
timed) and a qulacs loop (at most 500 rows timed); seconds are per row. ``qmlsim numba``
runs the SIMD-rows kernels (rows as the vector axis, from 8 rows of at most 6 wires);
``qmlsim numba per-row`` switches them off in the same interleaved run (the per-row
interpreter that ran these batches before), so the table shows the change. Also the
single call (one row, per call).

Run: ``python benchmarks/run.py rows [--quick]``.
"""
from __future__ import annotations

from pathlib import Path

from benchmarks.bench_engine import small_bulk_case, small_single_case

ROW_COUNTS = (100, 300, 1000, 3000, 10_000)


def run(quick: bool = False) -> list[dict]:
    """Rows ``{"case", "impl", "seconds", "ratio", "note"}`` for every row count and implementation."""
    repeats = 3 if quick else 7
    rows: list[dict] = small_single_case(repeats, calls=200 if quick else 1000)
    for count in ((100, 1000) if quick else ROW_COUNTS):
        rows += small_bulk_case(count, repeats, per_row=True)
    return rows


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.run import main

    sys.exit(main(["rows", *sys.argv[1:]]))
