"""Any executor over a Dask cluster: input rows split into tasks, results reassembled in row order.

QML workloads outgrow one machine data-parallel: many input rows through one circuit,
Gram matrices, sweeps. :class:`DaskExecutor` runs an inner executor (default
``Simulator()``) on Dask workers, so every model that takes ``device=`` runs distributed
with one argument. Needs ``pip install -e ".[distributed]"``; ``import qmlsim`` does not
import Dask.

One statevector larger than a node's memory is out of reach here: each task simulates
whole states (sharding one state across nodes is a later step).

>>> from distributed import Client, LocalCluster          # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
>>> DaskExecutor(client).expval(circuit, Z(0), x=rows)    # doctest: +SKIP
"""
from __future__ import annotations

import math
import os
import sys
from typing import Any, Callable, Sequence

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.observables import Observable
from qmlsim.simulators import measurements
from qmlsim.simulators.calls import Call, prepare_call
from qmlsim.simulators.validation import check_seed, check_shots

__all__ = ["DaskExecutor", "connect"]

#: input rows of at least this many bytes are scattered to the workers before the tasks
_SCATTER_BYTES = 1 << 20


def _run_block(method: str, executor: Any, numba_threads: int, args: tuple, kwargs: dict) -> np.ndarray:
    """On a worker: ``executor.method(*args, **kwargs)`` with the worker's numba threads limited.

    Dask limits OpenMP and BLAS threads per worker but not numba's: without this, every
    worker process would start one numba thread per core and they would fight over them.
    """
    _limit_numba(numba_threads)
    return np.asarray(getattr(executor, method)(*args, **kwargs))


def _block_states(executor: Any, circuit: Circuit, x: np.ndarray, weights: Any, fast_path: bool, numba_threads: int) -> np.ndarray:
    """On a worker: the feature map's states ``(rows, 2**n)`` of one row block (the Gram matrix's fast path included)."""
    from qmlsim.simulators.gram import feature_map_states, host_array  # noqa: PLC0415

    _limit_numba(numba_threads)
    with executor.backend.scope():
        return np.ascontiguousarray(host_array(feature_map_states(circuit, x, weights, executor, fast_path)))


def _tile(sx: np.ndarray, sy: np.ndarray, diagonal: bool) -> np.ndarray:
    """``|sx^* sy^T|^2``; a diagonal tile of a symmetric matrix gets its diagonal set to exactly 1."""
    block = sx.conj() @ sy.T
    k = block.real**2 + block.imag**2
    if diagonal:
        np.fill_diagonal(k, 1.0)
    return k


def _tile_to_store(path: str, i: int, j: int, rows: tuple[int, int], cols: tuple[int, int], sx: np.ndarray, sy: np.ndarray,
                   symmetric: bool) -> tuple[int, int]:
    """On a worker: one tile written into the zarr store (and its mirror when symmetric), then marked done."""
    import zarr  # noqa: PLC0415

    group = zarr.open_group(path, mode="r+")
    k = _tile(sx, sy, symmetric and i == j)
    group["gram"][rows[0] : rows[1], cols[0] : cols[1]] = k
    if symmetric and i != j:
        group["gram"][cols[0] : cols[1], rows[0] : rows[1]] = k.T
    group["done"][i, j] = True  # after the values: an interrupted tile is computed again
    if symmetric:
        group["done"][j, i] = True
    return i, j


def _limit_numba(threads: int) -> None:
    try:
        import numba  # noqa: PLC0415

        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    except ImportError:
        pass


def _worker_versions() -> dict:
    """On a worker: the versions the client compares with its own."""
    import numpy  # noqa: PLC0415

    try:
        import qmlsim  # noqa: PLC0415

        version = qmlsim.__version__
    except ImportError:
        version = None
    return {"qmlsim": version, "numpy": numpy.__version__, "python": sys.version.split()[0]}


def connect(address: str, timeout: float = 10.0) -> Any:
    """A ``distributed.Client`` for the scheduler at ``address`` with its workers checked (qmlsim
    installed, same versions), or a clear error before any work.

    Example:
        >>> connect("tcp://127.0.0.1:9", timeout=0.5)  # doctest: +SKIP
        ConnectionError: cannot reach the Dask scheduler at tcp://127.0.0.1:9 ...
    """
    try:
        from distributed import Client  # noqa: PLC0415
    except ImportError as err:
        raise ImportError('a Dask scheduler needs Dask here: pip install -e ".[distributed]"') from err
    try:
        client = Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as err:
        raise ConnectionError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({err}); "
            "check the address (dask scheduler prints it) and that the port is open"
        ) from err
    DaskExecutor._check_workers(client)
    print(f"qmlsim: connected to the Dask scheduler at {address}; dashboard {client.dashboard_link}")
    return client


class DaskExecutor:
    """An :class:`~qmlsim.simulators.Executor` whose rows run as Dask tasks (final class).

    Args:
        client: a ``distributed.Client``; ``None`` uses the current default client, or starts
            a ``LocalCluster`` (one single-threaded worker process per usable CPU) and prints
            its dashboard link.
        executor: what runs on the workers (default ``Simulator()``); any executor, hardware
            included (it must pickle).
        rows_per_task: rows per task (default: the batch split into 2 tasks per worker; input rows of
            1 MiB or more are scattered to the workers first, not sent inside the task graph).
        numba_threads: numba threads per task on a worker (default 1: one per worker thread).

    ``probs``, ``expval``, ``sample``, ``jacobian`` and ``statevector`` take the same arguments
    and return the same shapes as the inner executor (see
    :class:`~qmlsim.simulators.executor.Executor`). Arguments are checked on the client
    before anything is submitted; the circuit and the inner executor travel to each worker
    once per call (``client.scatter(..., broadcast=True)``), not once per task. Seeds are
    per row, so the split does not change results: ``sample`` draws on the client from the
    gathered probabilities (bit for bit what ``Simulator.sample`` draws), and ``expval`` with
    shots seeds row ``r`` from ``(seed, r)``. A worker that dies costs only its tasks, which
    Dask runs again elsewhere.
    """

    def __init__(self, client: Any = None, executor: Any = None, rows_per_task: int | None = None, numba_threads: int = 1):
        try:
            import distributed  # noqa: F401, PLC0415
        except ImportError as err:
            raise ImportError('DaskExecutor needs Dask: pip install -e ".[distributed]"') from err
        if rows_per_task is not None and (isinstance(rows_per_task, bool) or int(rows_per_task) != rows_per_task or rows_per_task < 1):
            raise ValueError(f"rows_per_task must be a positive integer, got {rows_per_task!r}")
        if isinstance(numba_threads, bool) or not isinstance(numba_threads, int) or numba_threads < 1:
            raise ValueError(f"numba_threads must be a positive integer, got {numba_threads!r}")
        if executor is None:
            from qmlsim.simulators import Simulator  # noqa: PLC0415

            executor = Simulator()
        for method in ("probs", "expval"):
            if not callable(getattr(executor, method, None)):
                raise TypeError(f"executor must be a qmlsim executor (with probs/expval), got {type(executor).__name__}")
        self.executor = executor
        self.rows_per_task = rows_per_task
        self.numba_threads = numba_threads
        self._client = client
        self._checked: Any = None  # the client whose workers passed the version check

    supports_statevector = True

    def __repr__(self) -> str:
        return f"DaskExecutor(executor={self.executor!r}, rows_per_task={self.rows_per_task})"

    # --- the cluster -----------------------------------------------------------
    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (found or started on first use)."""
        if self._client is None:
            from distributed import Client, LocalCluster, default_client  # noqa: PLC0415

            try:
                self._client = default_client()
            except ValueError:
                cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
                cluster = LocalCluster(n_workers=cpus, threads_per_worker=1, processes=True)
                self._client = Client(cluster)
                print(f"qmlsim: started a local Dask cluster of {cpus} workers; dashboard {self._client.dashboard_link}")
        if self._checked is not self._client:
            self._check_workers(self._client)
            self._checked = self._client
        return self._client

    @staticmethod
    def _check_workers(client: Any) -> None:
        """Workers reachable, qmlsim installed there, same qmlsim and NumPy as here: else a clear error, before any work."""
        import qmlsim  # noqa: PLC0415

        try:
            versions = client.run(_worker_versions)
        except OSError as err:
            raise ConnectionError(f"cannot reach the Dask scheduler at {client.scheduler.address}: {err}") from err
        if not versions:
            raise RuntimeError("the Dask cluster has no workers; start some (or pass a LocalCluster's client)")
        local = _worker_versions()
        for address, remote in versions.items():
            if remote["qmlsim"] is None:
                raise RuntimeError(f"qmlsim is not installed on Dask worker {address}; install it there (pip install qmlsim)")
            for name in ("qmlsim", "numpy"):
                if remote[name] != local[name]:
                    raise RuntimeError(
                        f"version mismatch: {name} {remote[name]} on worker {address} but {local[name]} here; "
                        "install the same versions on the client and the workers"
                    )
        del qmlsim

    def _task_rows(self, batch: int) -> int:
        if self.rows_per_task is not None:
            return int(self.rows_per_task)
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        # two tasks per worker: one computes while the other's result travels; more, smaller
        # tasks only added overhead (10^6 4-wire rows on 2 workers: 0.34 s against 0.37 s with 4 per worker)
        return max(1, math.ceil(batch / (2 * workers)))

    def _map(self, method: str, circuit: Circuit, call: Call, kwargs: dict,
             per_task: Callable[[int, int], dict] | None = None) -> np.ndarray:
        """``method`` of the inner executor over row blocks, as tasks; results concatenated in row order."""
        client = self.client
        rows, weights = np.asarray(call.rows), np.asarray(call.weights)
        batch = rows.shape[0]
        step = self._task_rows(batch)
        circuit_ref, executor_ref = client.scatter([circuit, self.executor], broadcast=True, hash=False)
        starts = range(0, batch, step)
        blocks: list = [rows[start : start + step] for start in starts]
        if rows.nbytes >= _SCATTER_BYTES:
            # large inputs go to the workers directly (Dask's advice), not inside the task graph through the scheduler
            blocks = client.scatter(blocks, hash=False)
        futures = []
        for start, block in zip(starts, blocks):
            extra = per_task(start, min(start + step, batch)) if per_task is not None else {}
            futures.append(client.submit(
                _run_block, method, executor_ref, self.numba_threads, (circuit_ref,),
                {**kwargs, **extra, "x": block, "weights": weights}, pure=False,
            ))
        try:
            parts = client.gather(futures)
        finally:
            client.cancel(futures)
        return np.concatenate(parts, axis=0)

    # --- the Executor protocol -------------------------------------------------------
    def statevector(self, circuit: Circuit, x: Any = None, weights: Any = None) -> np.ndarray:
        """Final states ``(batch, 2**n)`` (inner executor's ``statevector``)."""
        call = prepare_call(circuit, x, weights)
        return call.result(self._map("statevector", circuit, call, {}))

    def probs(self, circuit: Circuit, x: Any = None, weights: Any = None, wires: Sequence[int] | None = None) -> np.ndarray:
        """Probabilities ``(batch, 2**k)``."""
        call = prepare_call(circuit, x, weights, wires=wires)
        return call.result(self._map("probs", circuit, call, {"wires": call.wires}))

    def expval(self, circuit: Circuit, observables: Observable | Sequence[Observable], x: Any = None, weights: Any = None,
               shots: int | None = None, seed: int | None = None) -> np.ndarray:
        """Expectation values ``(batch,)`` or ``(batch, k)``; with ``shots``, row ``r`` is seeded from ``(seed, r)``."""
        call = prepare_call(circuit, x, weights, observables=observables, shots=shots)
        seed = check_seed(seed)
        obs = list(call.observables)
        if call.shots is None:
            out = self._map("expval", circuit, call, {"observables": obs})
            return call.result(out.reshape(call.batch, len(obs)), observables=True)
        entropy = np.random.SeedSequence(seed).entropy

        def row_seeds(start: int, stop: int) -> dict:
            return {"seeds": [int(np.random.SeedSequence([entropy, r]).generate_state(1)[0]) for r in range(start, stop)]}

        out = self._map_rows_with_seeds(circuit, call, obs, row_seeds)
        return call.result(out, observables=True)

    def _map_rows_with_seeds(self, circuit: Circuit, call: Call, obs: list, row_seeds: Callable) -> np.ndarray:
        wrapper = _SeededRows(self.executor, obs, call.shots)
        inner, self.executor = self.executor, wrapper
        try:
            return self._map("expval", circuit, call, {}, per_task=row_seeds)
        finally:
            self.executor = inner

    def sample(self, circuit: Circuit, shots: int, x: Any = None, weights: Any = None, seed: int | None = None) -> np.ndarray:
        """Bits ``(batch, shots, n)``: probabilities from the workers, drawn here with ``seed`` as ``Simulator.sample`` does."""
        shots = check_shots(shots)
        seed = check_seed(seed)
        call = prepare_call(circuit, x, weights)
        probabilities = self._map("probs", circuit, call, {"wires": None}).astype(np.float64)
        rng = np.random.default_rng(seed)
        bits = measurements.indices_to_bits(measurements.sample_indices(probabilities, shots, rng), circuit.num_wires)
        return call.result(bits)

    def jacobian(self, circuit: Circuit, observables: Observable | Sequence[Observable], x: Any = None, weights: Any = None,
                 method: str = "adjoint", argnum: str = "weights") -> np.ndarray:
        """Jacobians ``(batch, P)`` or ``(batch, k, P)``: rows are independent, so each task takes a block."""
        call = prepare_call(circuit, x, weights, observables=observables, argnum=argnum)
        obs = list(call.observables)
        out = self._map("jacobian", circuit, call, {"observables": obs, "method": method, "argnum": call.argnum})
        return call.result(out.reshape((call.batch, len(obs), -1)), observables=True)


    # --- Gram matrices ----------------------------------------------------------------
    def gram(self, feature_map: Circuit, x: np.ndarray, y: np.ndarray | None = None, weights: Any = None, *,
             fast_path: bool = True, out: str | None = None, block_rows: int | None = None, progress: bool = True,
             max_memory_bytes: int | None = None) -> Any:
        """The fidelity Gram matrix ``|<phi(x_i)|phi(y_j)>|^2`` as Dask tasks: states once per row block, one task per tile.

        Used by :meth:`FidelityQuantumKernel.matrix <qmlsim.qml.kernels.FidelityQuantumKernel.matrix>`
        when its device is a ``DaskExecutor``; the inner executor must give statevectors.

        Args:
            feature_map: the feature map circuit.
            x: ``(n, d)`` validated features; ``y``: ``(m, d)`` or ``None`` (symmetric: upper tiles only).
            weights: the feature map's weights, or ``None``.
            fast_path: the phase-product states for Hadamard-and-diagonal feature maps.
            out: ``None`` (return an ``(n, m)`` array) or a directory for a zarr store written tile
                by tile: the group holds ``gram`` ``(n, m)`` and ``done`` (one flag per tile);
                calling again with the same arguments skips finished tiles (an interrupted
                run resumes). Returns the ``zarr.Array``.
            block_rows: rows per block (default: about 2 blocks per worker, at most 2048).
            progress: a tqdm bar over the tiles.
            max_memory_bytes: limit for the in-memory result (default: half the available memory).

        Raises:
            MemoryError: the result does not fit in memory (``out=None``) or on disk (``out``),
                checked before any work.
        """
        from qmlsim.simulators.backends import available_memory_bytes  # noqa: PLC0415

        if not getattr(self.executor, "supports_statevector", False):
            raise TypeError("DaskExecutor.gram needs an inner executor with statevectors (a Simulator)")
        symmetric = y is None
        y = x if symmetric else y
        n, m = x.shape[0], y.shape[0]
        need = 8 * n * m
        if out is None:
            limit = max_memory_bytes if max_memory_bytes is not None else 0.5 * available_memory_bytes()
            if need > limit:
                raise MemoryError(
                    f"a {n} x {m} kernel matrix needs {need / 2**30:.2f} GiB but the limit is {limit / 2**30:.2f} GiB; "
                    "pass out='path/to/store.zarr' to write it to disk block by block"
                )
        client = self.client
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        # about 2 row blocks per worker (3 tiles each for a symmetric matrix), at most 2048 rows: more, smaller
        # tiles only add transfers (measured at N = 3,000 on 2 workers: 375-row blocks 3% slower than 750)
        block = int(block_rows) if block_rows is not None else max(1, min(2048, math.ceil(max(n, m) / (2 * workers))))
        x_blocks = [(a, min(a + block, n)) for a in range(0, n, block)]
        y_blocks = x_blocks if symmetric else [(a, min(a + block, m)) for a in range(0, m, block)]
        tiles = [(i, j) for i in range(len(x_blocks)) for j in range(len(y_blocks)) if not symmetric or j >= i]
        store = None
        if out is not None:
            store = self._open_store(out, n, m, block, symmetric, x, y, feature_map, weights, need)
            done = store["done"][...]
            tiles = [(i, j) for i, j in tiles if not done[i, j]]
        executor_ref, circuit_ref = client.scatter([self.executor, feature_map], broadcast=True, hash=False)
        # a symmetric matrix's blocks serve as rows and as columns
        needed_x = sorted({i for i, _ in tiles} | ({j for _, j in tiles} if symmetric else set()))
        needed_y = sorted({j for _, j in tiles})
        sx = {i: client.submit(_block_states, executor_ref, circuit_ref, x[slice(*x_blocks[i])], weights, fast_path,
                               self.numba_threads, pure=False) for i in needed_x}
        sy = sx if symmetric else {
            j: client.submit(_block_states, executor_ref, circuit_ref, y[slice(*y_blocks[j])], weights, fast_path,
                             self.numba_threads, pure=False) for j in needed_y}
        futures = {}
        for i, j in tiles:
            if store is None:
                futures[client.submit(_tile, sx[i], sy[j], symmetric and i == j, pure=False)] = (i, j)
            else:
                futures[client.submit(_tile_to_store, out, i, j, x_blocks[i], y_blocks[j], sx[i], sy[j], symmetric,
                                      pure=False)] = (i, j)
        result = np.empty((n, m)) if store is None else None
        try:
            from distributed import as_completed  # noqa: PLC0415

            bar = None
            if progress and tiles:
                from tqdm.auto import tqdm  # noqa: PLC0415

                bar = tqdm(total=len(tiles), desc="gram tiles", unit="tile")
            for future in as_completed(list(futures), loop=client.loop):
                i, j = futures[future]
                if result is not None:
                    k = future.result()
                    result[slice(*x_blocks[i]), slice(*y_blocks[j])] = k
                    if symmetric and i != j:
                        result[slice(*y_blocks[j]), slice(*x_blocks[i])] = k.T
                else:
                    future.result()  # raises the task's error, if any
                if bar is not None:
                    bar.update(1)
            if bar is not None:
                bar.close()
        finally:
            client.cancel(list(futures) + list(sx.values()) + ([] if symmetric else list(sy.values())))
        return result if store is None else store["gram"]

    @staticmethod
    def _open_store(path: str, n: int, m: int, block: int, symmetric: bool, x: np.ndarray, y: np.ndarray,
                    feature_map: Circuit, weights: Any, need: int) -> Any:
        """The zarr group at ``path``: created, or reopened when it holds this very problem (else an error)."""
        import hashlib  # noqa: PLC0415
        import shutil  # noqa: PLC0415

        import zarr  # noqa: PLC0415

        digest = hashlib.sha256()
        for part in (x, y, np.asarray([] if weights is None else weights, float)):
            digest.update(np.ascontiguousarray(part, dtype=float).tobytes())
        digest.update(repr(feature_map.key).encode())
        fingerprint = {"n": n, "m": m, "block": block, "symmetric": symmetric, "problem": digest.hexdigest()}
        if os.path.exists(path):
            group = zarr.open_group(path, mode="r+")
            if dict(group.attrs).get("qmlsim_gram") != fingerprint:
                raise ValueError(
                    f"{path} holds a different Gram matrix (other data, feature map, weights or block size); "
                    "pass a new path, or delete it to start again"
                )
            return group
        parent = os.path.dirname(os.path.abspath(path))
        free = shutil.disk_usage(parent).free
        if need > free:
            raise MemoryError(f"the {n} x {m} kernel matrix needs {need / 2**30:.2f} GiB on disk but {parent} has "
                              f"{free / 2**30:.2f} GiB free")
        group = zarr.open_group(path, mode="w")
        group.create_array("gram", shape=(n, m), chunks=(block, block), dtype="float64", fill_value=0.0)
        tiles = (math.ceil(n / block), math.ceil(m / block))
        group.create_array("done", shape=tiles, chunks=(1, 1), dtype="bool", fill_value=False)
        group.attrs["qmlsim_gram"] = fingerprint
        return group


class _SeededRows:
    """An executor wrapper for shot-based ``expval`` that seeds each row on its own (final class)."""

    def __init__(self, executor: Any, observables: list, shots: int):
        self.executor, self.observables, self.shots = executor, observables, shots

    def expval(self, circuit: Circuit, x: np.ndarray, weights: np.ndarray, seeds: list[int]) -> np.ndarray:
        rows = [
            np.asarray(self.executor.expval(circuit, self.observables, x=x[i : i + 1], weights=weights, shots=self.shots, seed=s))
            for i, s in enumerate(seeds)
        ]
        return np.concatenate([r.reshape(1, len(self.observables)) for r in rows], axis=0)
