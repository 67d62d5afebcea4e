"""A local journal of hardware jobs: what was submitted, with which parameters, and what came back.

Hardware runs are slow and paid for. :class:`~qmlsim.simulators.QiskitExecutor` writes
a record here as soon as a job is submitted, so that a crashed or interrupted script
can fetch the results of jobs that already ran instead of submitting them again
(:meth:`QiskitExecutor.resume <qmlsim.simulators.executors.qiskit.QiskitExecutor.resume>`).

The journal is a JSON-lines file: one JSON object per line, only ever appended to (a
crash can at worst cut the last line, which is skipped on reading). Events:

- ``submitted``: ``job_id``, ``task`` (hash of everything that defines the work:
  circuit structure, parameter rows, observables, shots, backend), ``chunk`` (which
  slice of the task's rows), ``primitive`` (``"sampler"``/``"estimator"``),
  ``backend``, ``circuit`` (structure hash), ``rows``, ``parameters`` (a ``.npy`` file
  beside the journal, with its SHA-256), ``observables`` (Pauli labels after layout),
  ``shots`` or ``precision``;
- ``done``: ``job_id`` and ``result``, an ``.npz`` file of the result arrays;
- ``failed``: ``job_id``, ``job_status`` (the provider's) and ``error``.

Arrays live in the folder ``<journal stem>_data/`` next to the journal.

>>> import tempfile, pathlib, numpy as np
>>> path = pathlib.Path(tempfile.mkdtemp()) / "jobs.jsonl"
>>> j = Journal(path)
>>> j.record_submission("job-1", task="t", chunk=0, primitive="sampler", backend="aer",
...                     circuit="c", parameters=np.zeros((2, 1)), shots=10)
>>> j.record_result("job-1", {"bits": np.ones(3)})
>>> Journal(path).result("job-1")["bits"].tolist()
[1.0, 1.0, 1.0]
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Journal", "default_journal_path", "task_hash"]

DEFAULT_FOLDER = "qmlsim_jobs"


def default_journal_path() -> Path:
    """``./qmlsim_jobs/journal-<UTC time>-<pid>.jsonl``: a fresh file per executor."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return Path(DEFAULT_FOLDER) / f"journal-{stamp}-{os.getpid()}.jsonl"


def task_hash(meta: dict[str, Any], *arrays: np.ndarray) -> str:
    """SHA-256 of JSON metadata and arrays (shape, dtype and bytes): equal work gives equal hashes.

    >>> a = np.arange(3.0)
    >>> task_hash({"k": 1}, a) == task_hash({"k": 1}, a.copy()) != task_hash({"k": 2}, a)
    True
    """
    digest = hashlib.sha256(json.dumps(meta, sort_keys=True, default=str).encode())
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype.str}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class Journal:
    """An append-only JSON-lines record of submitted jobs and their results (final class).

    Args:
        path: the journal file; created (with its folder) on the first record. An
            existing journal is read: its submissions are what :meth:`previous` offers
            for reuse.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise ValueError(f"journal path {self.path} is a folder; pass a file path such as {self.path / 'jobs.jsonl'}")
        self.data_dir = self.path.with_name(self.path.stem + "_data")
        self._jobs: dict[str, dict[str, Any]] = {}
        self._previous: dict[tuple[str, int], list[str]] = {}
        self.options: dict[str, Any] = {}  # the latest executor options recorded (record_options)
        for record in self._read():
            self._apply(record)
        # submissions written before this object existed, in order, per (task, chunk)
        for job_id, job in self._jobs.items():
            self._previous.setdefault((job["task"], job["chunk"]), []).append(job_id)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r}, jobs={len(self._jobs)})"

    # --- reading -------------------------------------------------------------------
    def _read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        records = []
        with self.path.open("r", encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    # a line cut by a crash while writing: everything before it is intact
                    continue
        return records

    def _apply(self, record: dict[str, Any]) -> None:
        if record.get("event") == "options":
            self.options = {k: v for k, v in record.items() if k not in ("event", "time")}
            return
        job_id = record.get("job_id")
        if job_id is None:
            return
        if record.get("event") == "submitted":
            self._jobs[job_id] = dict(record, status="submitted")
        elif job_id in self._jobs:
            job = self._jobs[job_id]
            job["status"] = record["event"]
            job.update({k: v for k, v in record.items() if k not in ("event", "time")})

    def jobs(self) -> list[dict[str, Any]]:
        """Every submitted job with its latest status (``submitted``, ``done`` or ``failed``), in submission order."""
        return [dict(job) for job in self._jobs.values()]

    def job(self, job_id: str) -> dict[str, Any]:
        """The record of one job (``KeyError`` naming the journal if absent)."""
        if job_id not in self._jobs:
            raise KeyError(f"job {job_id!r} is not in the journal {self.path}")
        return dict(self._jobs[job_id])

    def previous(self, task: str, chunk: int) -> str | None:
        """Take the next job of an earlier session that did ``(task, chunk)``, or ``None``.

        Each earlier job is handed out once, so a script that ran the same work twice
        gets its two jobs back in order.
        """
        queue = self._previous.get((task, chunk))
        while queue:
            job_id = queue.pop(0)
            if self._jobs[job_id]["status"] != "failed":
                return job_id
        return None

    def holds(self, task: str, chunk: int) -> bool:
        """Whether an earlier session's job for ``(task, chunk)`` is still there to reuse (see :meth:`previous`)."""
        return bool(self._previous.get((task, chunk)))

    def conflict(self, work: str, task: str) -> dict[str, Any] | None:
        """A job that did the same ``work`` under other options (another ``task``), or ``None``."""
        for job in self._jobs.values():
            if job.get("work") == work and job["task"] != task and job["status"] != "failed":
                return dict(job)
        return None

    def parameters(self, job_id: str) -> np.ndarray:
        """The parameter rows a job was submitted with (checked against their recorded SHA-256)."""
        job = self.job(job_id)
        array = np.load(self.data_dir / job["parameters"])
        if task_hash({}, array) != job["parameters_sha256"]:
            raise ValueError(f"the parameter file of job {job_id} in {self.data_dir} was modified; it no longer matches the journal")
        return array

    def result(self, job_id: str) -> dict[str, np.ndarray] | None:
        """The stored result arrays of a finished job, or ``None`` if it has none yet."""
        job = self._jobs.get(job_id)
        if job is None or job.get("status") != "done":
            return None
        with np.load(self.data_dir / job["result"]) as data:
            return {k: data[k] for k in data.files}

    # --- writing -------------------------------------------------------------------
    def _append(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(dict(record, time=_now()), default=str)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._apply(record)

    def _safe_name(self, job_id: str) -> str:
        return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(job_id))

    def record_submission(
        self,
        job_id: str,
        *,
        task: str,
        chunk: int,
        primitive: str,
        backend: str,
        circuit: str,
        parameters: np.ndarray,
        rows: tuple[int, int] | None = None,
        observables: list | None = None,
        shots: int | None = None,
        precision: float | None = None,
        work: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        """Write a submitted job (its parameters to a ``.npy`` file first, then the journal line).

        ``work`` identifies the computation apart from the options that change its
        results (``options``: shots, seed...), so the same work asked for again under
        other options is recognised (:meth:`conflict`).
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        name = f"{self._safe_name(job_id)}-parameters.npy"
        np.save(self.data_dir / name, np.asarray(parameters))
        self._append(
            {
                "event": "submitted",
                "job_id": str(job_id),
                "task": task,
                "chunk": int(chunk),
                "primitive": primitive,
                "backend": backend,
                "circuit": circuit,
                "rows": list(rows) if rows is not None else None,
                "parameters": name,
                "parameters_sha256": task_hash({}, np.asarray(parameters)),
                "observables": observables,
                "shots": shots,
                "precision": precision,
                "work": work,
                "options": options,
            }
        )

    def record_options(self, options: dict[str, Any]) -> None:
        """Record the executor options that change results (read back by ``QiskitExecutor.resume``)."""
        if options != self.options:
            self._append(dict(options, event="options"))

    def record_result(self, job_id: str, arrays: dict[str, np.ndarray]) -> None:
        """Store a finished job's result arrays and mark it ``done``."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        name = f"{self._safe_name(job_id)}-result.npz"
        np.savez(self.data_dir / name, **arrays)
        self._append({"event": "done", "job_id": str(job_id), "result": name})

    def record_failure(self, job_id: str, status: str, error: str) -> None:
        """Mark a job failed (cancelled, errored); it is never reused."""
        self._append({"event": "failed", "job_id": str(job_id), "job_status": status, "error": error})
