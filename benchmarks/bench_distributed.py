"""Scale-out on Dask: DaskExecutor on 1 and 2 local workers against plain Simulator, in one run.

Cases (each worker is one process with one thread and one numba thread):

- ``gram zz8 N=...``: the fidelity Gram matrix of ``zz_feature_map(8)`` on N random points:
  ``FidelityQuantumKernel`` on a plain ``Simulator`` (numba and BLAS on 1 thread, then on
  every usable CPU) and on ``DaskExecutor`` over a ``LocalCluster`` of 1 and 2 workers.
- ``rows 4-wire x N``: ``expval`` of a 4-wire, 20-gate circuit over N input rows.
- ``task overhead``: seconds per task of a DaskExecutor call whose tasks do almost nothing
  (one row each).
- ``gram zz8 N=... to disk``: the out-of-core Gram matrix written tile by tile to a zarr
  store (``kernel.matrix(X, out=path)``), and the extrapolation to N = 100,000 (marked
  as such: 80 GB of float64 is more than this machine's free disk).

``ratio`` is the time of the row's reference (plain Simulator on 1 thread for the 1-worker
row, the 1-worker row for the 2-worker row) / this row's time: above 1 is faster.

Run: ``python benchmarks/run.py distributed [--quick] --threads 2`` (the 2-worker rows need
2 usable CPUs; ``--threads 1`` runs the 1-worker rows only).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import timed

OURS = "qmlsim"


def _clients(max_workers: int) -> list[tuple[int, Any]]:
    from distributed import Client, LocalCluster

    out = []
    for workers in range(1, max_workers + 1):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        out.append((workers, Client(cluster, set_as_default=False)))
    return out


def _one_thread() -> Any:
    import contextlib

    import numba
    from threadpoolctl import threadpool_limits

    @contextlib.contextmanager
    def limited() -> Any:
        before = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            with threadpool_limits(1):
                yield
        finally:
            numba.set_num_threads(before)

    return limited()


def gram_case(n: int, clients: list, repeats: int) -> list[dict]:
    from qmlsim.circuits.templates import zz_feature_map
    from qmlsim.qml.kernels import FidelityQuantumKernel
    from qmlsim.simulators import DaskExecutor

    case = f"gram zz8 N={n}"
    X = np.random.default_rng(0).uniform(0, 2 * np.pi, size=(n, 8))
    local = FidelityQuantumKernel(zz_feature_map(8))
    local.matrix(X[:50])
    with _one_thread():
        single, expected = timed(lambda: local.matrix(X), repeats)
    rows = [{"case": case, "impl": "plain Simulator, 1 thread", "seconds": single, "ratio": None}]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if cpus > 1:
        every, _ = timed(lambda: local.matrix(X), repeats)
        rows.append({"case": case, "impl": f"plain Simulator, {cpus} threads", "seconds": every, "ratio": single / every})
    previous = single
    for workers, client in clients:
        kernel = FidelityQuantumKernel(zz_feature_map(8), device=DaskExecutor(client))
        kernel.matrix(X[:50])
        seconds, k = timed(lambda: kernel.device.gram(kernel.feature_map, X, progress=False), repeats)
        error = float(np.abs(k - expected).max())
        rows.append({"case": case, "impl": f"DaskExecutor, {workers} worker{'s' if workers > 1 else ''}",
                     "seconds": seconds, "ratio": previous / seconds,
                     "note": f"vs {'plain 1 thread' if workers == 1 else '1 worker'}; max |K - plain| {error:.0e}"})
        previous = seconds
    return rows


def rows_case(n: int, clients: list) -> list[dict]:
    from qmlsim.circuits import Circuit, Z
    from qmlsim.simulators import DaskExecutor, Simulator

    case = f"rows 4-wire x {n}"
    c = Circuit(4)
    x = c.inputs(4)
    for layer in range(5):
        for w in range(4):
            c.ry(x[w] * (layer + 1), w)
        if layer % 2:
            c.cx(0, 1).cx(1, 2).cx(2, 3).cz(3, 0)
    rows_in = np.random.default_rng(1).normal(size=(n, 4))
    sim = Simulator()
    sim.expval(c, Z(0), x=rows_in[:100])
    with _one_thread():
        single, expected = timed(lambda: sim.expval(c, Z(0), x=rows_in))
    out = [{"case": case, "impl": "plain Simulator, 1 thread", "seconds": single, "ratio": None}]
    previous = single
    for workers, client in clients:
        dask = DaskExecutor(client)
        dask.expval(c, Z(0), x=rows_in[:100])
        seconds, values = timed(lambda: dask.expval(c, Z(0), x=rows_in))
        out.append({"case": case, "impl": f"DaskExecutor, {workers} worker{'s' if workers > 1 else ''}",
                    "seconds": seconds, "ratio": previous / seconds,
                    "note": f"max |value - plain| {float(np.abs(values - expected).max()):.0e}"})
        previous = seconds
    return out


def overhead_case(clients: list) -> list[dict]:
    from qmlsim.circuits import Circuit, Z
    from qmlsim.simulators import DaskExecutor

    c = Circuit(1)
    x = c.inputs(1)
    c.ry(x[0], 0)
    rows_in = np.zeros((400, 1))
    out = []
    for workers, client in clients:
        dask = DaskExecutor(client, rows_per_task=1)
        dask.expval(c, Z(0), x=rows_in[:8])
        seconds, _ = timed(lambda: dask.expval(c, Z(0), x=rows_in), 2)
        out.append({"case": "task overhead (per task, 400 one-row tasks)", "impl": f"DaskExecutor, {workers} worker"
                    f"{'s' if workers > 1 else ''}", "seconds": seconds / 400, "ratio": None})
    return out


def disk_case(n: int, client: Any, workers: int) -> list[dict]:
    from qmlsim.circuits.templates import zz_feature_map
    from qmlsim.qml.kernels import FidelityQuantumKernel
    from qmlsim.simulators import DaskExecutor

    X = np.random.default_rng(2).uniform(0, 2 * np.pi, size=(n, 8))
    kernel = FidelityQuantumKernel(zz_feature_map(8), device=DaskExecutor(client))
    folder = tempfile.mkdtemp(prefix="qmlsim-gram-")
    try:
        path = os.path.join(folder, "gram.zarr")
        start = time.perf_counter()
        kernel.device.gram(kernel.feature_map, X, out=path, block_rows=2048, progress=False)
        seconds = time.perf_counter() - start
        size = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    scale = (100_000 / n) ** 2
    return [
        {"case": f"gram zz8 N={n} to disk", "impl": f"DaskExecutor, {workers} worker{'s' if workers > 1 else ''}",
         "seconds": seconds, "ratio": None, "note": f"zarr store {size / 2**30:.2f} GiB, measured"},
        {"case": "gram zz8 N=100000 to disk", "impl": f"DaskExecutor, {workers} worker{'s' if workers > 1 else ''}",
         "seconds": seconds * scale, "ratio": None,
         "note": f"EXTRAPOLATED from N={n} (x{scale:.0f}, N^2); about {size * scale / 2**30:.0f} GiB on disk, "
                 f"{shutil.disk_usage(tempfile.gettempdir()).free / 2**30:.0f} GiB free here"},
    ]


def run(quick: bool = False) -> list[dict]:
    """Every case; ``quick`` uses N = 1,000 and 10^5 rows."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    clients = _clients(min(2, cpus))
    try:
        rows = []
        for n in (1000,) if quick else (3000, 20000):
            rows += gram_case(n, clients, 1 if n > 5000 else 3)
        rows += rows_case(100_000 if quick else 1_000_000, clients)
        rows += overhead_case(clients)
        workers, client = clients[-1]
        rows += disk_case(2000 if quick else 20000, client, workers)
        if cpus < 2:
            for row in rows:
                row["note"] = (row.get("note", "") + "; 1 usable CPU: no 2-worker rows").lstrip("; ")
        return rows
    finally:
        for _, client in clients:
            cluster = client.cluster
            client.close()
            cluster.close()


if __name__ == "__main__":  # the same as ``python benchmarks/run.py distributed [--quick] [--threads 1,2]``
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.run import main

    sys.exit(main(["distributed", *sys.argv[1:]]))
