"""Running parameter sweeps as Qiskit jobs: chunking, submission, journal, polling, results.

A :class:`JobRunner` sends a batch of parameter rows to a V2 primitive in as few jobs as
the backend's limits allow, writes every submission to the
:class:`~qmlsim.simulators.executors.journal.Journal` before waiting, reuses work the
journal already holds (stored results, or jobs still running that it fetches from the
service), polls with back-off, and reports failures together with how to resume.
:class:`~qmlsim.simulators.executors.qiskit.QiskitExecutor` owns one.
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np

from qmlsim.circuits.convert import require
from qmlsim.simulators.executors.journal import Journal, task_hash

require("qiskit", "qiskit")
from qiskit.primitives.containers import BitArray  # noqa: E402

__all__ = ["JobRunner", "QiskitJobError", "MAX_EXECUTIONS_PER_JOB", "Planned", "extract", "unpack_bits", "object_array"]

# Job states after which nothing changes (Qiskit's JobStatus names and IBM Runtime's strings).
FINAL_STATES = frozenset({"DONE", "ERROR", "CANCELLED", "FAILED"})
# IBM Runtime's per-job cap on circuit executions (shots x parameter sets), kept as the default.
MAX_EXECUTIONS_PER_JOB = 10_000_000


class QiskitJobError(RuntimeError):
    """A job failed, was cancelled or could not be reached (final class).

    Attributes:
        job_id: the job concerned.
        journal: the journal that records it (``None`` when journaling is off).
    """

    def __init__(self, message: str, job_id: str | None = None, journal: Any = None):
        super().__init__(message)
        self.job_id = job_id
        self.journal = journal


class Planned(Exception):
    """Raised inside a call run by :meth:`QiskitExecutor.estimate` where it would submit."""


def status_name(job: Any) -> str:
    status = job.status()
    return str(getattr(status, "name", status)).upper()


class Progress:
    """Job progress to a tqdm bar and/or a callback (final class)."""

    def __init__(self, bar: bool, callback: Callable[[dict], None] | None, total: int):
        self.callback = callback
        self.total = total
        self.done = 0
        self.submitted = 0
        self.bar = None
        if bar and total:
            from tqdm.auto import tqdm  # noqa: PLC0415 - only when progress is shown

            self.bar = tqdm(total=total, desc="qiskit jobs", unit="job")

    def emit(self, event: str, job_id: str, status: str) -> None:
        if event == "submitted":
            self.submitted += 1
        if event in ("done", "failed"):
            self.done += 1
            if self.bar is not None:
                self.bar.update(1)
        if self.bar is not None:
            self.bar.set_postfix_str(f"{job_id[:12]} {status.lower()}")
        if self.callback is not None:
            self.callback(
                {"event": event, "job_id": job_id, "status": status, "submitted": self.submitted, "done": self.done, "total": self.total}
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class JobRunner:
    """Submits, journals and collects the jobs of one executor (final class).

    Args:
        backend_name: the backend's name (journal records, messages).
        primitive: ``(kind, seed) -> BaseSamplerV2 | BaseEstimatorV2`` for ``kind`` ``"sampler"`` / ``"estimator"``.
        result_options: ``() -> dict`` of the options that change results (recorded in the journal).
        journal: the :class:`Journal`, or ``None``.
        service: where to fetch jobs by id (``.job(job_id)``), or ``None``.
        progress, callback, max_rows_per_job, max_executions_per_job, poll_interval, timeout:
            as in :class:`~qmlsim.simulators.executors.qiskit.QiskitExecutor`.
    """

    def __init__(
        self, backend_name: str, primitive: Callable[[str, Any], Any], result_options: Callable[[], dict], journal: Journal | None,
        service: Any, progress: bool, callback: Callable[[dict], None] | None, max_rows_per_job: int | None,
        max_executions_per_job: int, poll_interval: float, timeout: float | None,
    ):
        self.backend_name = backend_name
        self.primitive = primitive
        self.result_options = result_options
        self.journal = journal
        self.service = service
        self.progress = progress
        self.callback = callback
        self.max_rows_per_job = max_rows_per_job
        self.max_executions_per_job = max_executions_per_job
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.submissions = 0
        self.planning: list[dict[str, Any]] | None = None  # a list while QiskitExecutor.estimate plans: submit nothing

    def fetch_finished(self) -> dict[str, int]:
        """Fetch and store the results of the journal's jobs that finished since they were submitted.

        Does not wait for jobs still queued or running.

        Returns:
            Counts of jobs by state: ``done``, ``failed``, ``pending``, ``unreachable``
            (no way to fetch it: no service, or the service does not know it).
        """
        counts = {"done": 0, "failed": 0, "pending": 0, "unreachable": 0}
        if self.journal is None:
            return counts
        for record in self.journal.jobs():
            if record["status"] in ("done", "failed"):
                counts[record["status"]] += 1
                continue
            job = self.retrieve(record["job_id"])
            if job is None:
                counts["unreachable"] += 1
                continue
            try:
                status = status_name(job)
            except Exception:  # noqa: BLE001 - no connection: try again later
                counts["unreachable"] += 1
                continue
            if status not in FINAL_STATES:
                counts["pending"] += 1
                continue
            try:
                self.journal.record_result(record["job_id"], extract(record["primitive"], job.result()))
                counts["done"] += 1
            except Exception as error:  # noqa: BLE001 - any failure of a remote job is recorded, not raised
                self.journal.record_failure(record["job_id"], status, repr(error))
                counts["failed"] += 1
        return counts

    def retrieve(self, job_id: str) -> Any:
        fetch = getattr(self.service, "job", None)
        if not callable(fetch):
            return None
        try:
            return fetch(job_id)
        except Exception:  # noqa: BLE001 - unknown id or no connection: treated as unreachable
            return None

    # --- jobs --------------------------------------------------------------------------
    def execute(
        self,
        kind: str,
        compiled: Any,
        values: np.ndarray,
        shots: int,
        seed: int | None,
        observables: list[Any] | None = None,
        observable_key: Any = None,
    ) -> list[dict[str, np.ndarray]]:
        """Run parameter rows ``values`` ``(rows, ..., P)`` as sweeps in as few jobs as limits allow; results per chunk.

        ``observables`` are on physical qubits; ``observable_key`` identifies them before
        the layout, which may differ between sessions, for the task hash.
        """
        per_row = shots * int(np.prod(values.shape[1:-1], dtype=int)) * (len(observables) if observables else 1)
        rows_per_job = max(1, self.max_executions_per_job // max(1, per_row))
        if self.max_rows_per_job is not None:
            rows_per_job = min(rows_per_job, self.max_rows_per_job)
        batch = values.shape[0]
        starts = list(range(0, batch, rows_per_job)) or [0]
        labels = None if observables is None else [op.to_list() for op in observables]
        precision = 1.0 / math.sqrt(shots)
        meta = {
            "primitive": kind, "backend": self.backend_name, "circuit": compiled.structure, "shots": shots,
            "seed": seed, "rows_per_job": rows_per_job, "observables": observable_key,
        }
        task = task_hash(meta, values)
        work = task_hash({k: meta[k] for k in ("primitive", "backend", "circuit", "observables")}, values)
        if self.planning is not None:
            self.plan(task, len(starts), values.shape[0], per_row, kind)
        self.refuse_conflicting_options(work, task)
        options = dict(self.result_options(), shots=shots, seed=seed, rows_per_job=rows_per_job)
        results: list[dict[str, np.ndarray] | None] = [None] * len(starts)
        pending: list[tuple[int, str, Any]] = []
        progress = Progress(self.progress, self.callback, len(starts))
        try:
            for chunk, start in enumerate(starts):
                part = values[start : start + rows_per_job]
                reused = self.reuse(task, chunk)
                if isinstance(reused, dict):
                    results[chunk] = reused
                    progress.emit("done", "journal", "DONE")
                    continue
                if reused is not None:
                    pending.append((chunk, reused[0], reused[1]))
                    continue
                if kind == "sampler":
                    job = self.primitive(kind, seed).run([(compiled.circuit, part, shots)], shots=shots)
                else:
                    pub = (compiled.circuit, object_array(observables), part[..., None, :], precision)
                    job = self.primitive(kind, seed).run([pub], precision=precision)
                job_id = str(job.job_id())
                self.submissions += 1
                if self.journal is not None:
                    self.journal.record_options(self.result_options())  # written once; resume reads it back
                    self.journal.record_submission(
                        job_id, task=task, chunk=chunk, primitive=kind, backend=self.backend_name,
                        circuit=compiled.structure, parameters=part, rows=(start, start + part.shape[0]),
                        observables=labels, shots=shots, precision=precision if kind == "estimator" else None,
                        work=work, options=options,
                    )
                progress.emit("submitted", job_id, "SUBMITTED")
                pending.append((chunk, job_id, job))
        except QiskitJobError:
            raise
        except Exception as error:
            progress.close()
            raise QiskitJobError(
                f"submitting a {kind} job to {self.backend_name} failed: {error!r}. "
                + self.journal_hint(),
                journal=None if self.journal is None else self.journal.path,
            ) from error
        failures = []
        for chunk, job_id, job in pending:
            try:
                status = self.wait(job, job_id, progress)
            except Exception as error:  # noqa: BLE001 - lost connection or timeout: the job may still finish,
                # so it stays "submitted" in the journal and resume can fetch it later
                failures.append((job_id, error))
                progress.emit("failed", job_id, "UNKNOWN")
                continue
            try:
                if status != "DONE":
                    raise RuntimeError(job_error(job, status))
                arrays = extract(kind, job.result())
            except Exception as error:  # noqa: BLE001 - collect every job, then report the failures together
                failures.append((job_id, error))
                if self.journal is not None:
                    self.journal.record_failure(job_id, status, repr(error))
                progress.emit("failed", job_id, status)
                continue
            if self.journal is not None:
                self.journal.record_result(job_id, arrays)
            results[chunk] = arrays
            progress.emit("done", job_id, "DONE")
        progress.close()
        if failures:
            job_id, error = failures[0]
            others = f" ({len(failures) - 1} more failed)" if len(failures) > 1 else ""
            raise QiskitJobError(
                f"job {job_id} on {self.backend_name} did not finish: {error}{others}. Finished jobs were kept. "
                + self.journal_hint(),
                job_id=job_id,
                journal=None if self.journal is None else self.journal.path,
            ) from error
        return results  # type: ignore[return-value]

    def refuse_conflicting_options(self, work: str, task: str) -> None:
        """Raise if the journal holds this work done under other options (it would be paid for twice)."""
        if self.journal is None:
            return
        earlier = self.journal.conflict(work, task)
        if earlier is None:
            return
        before = earlier.get("options") or {"shots": earlier.get("shots")}
        now = self.result_options()
        differ = [f"{k}={before[k]!r} (now {now[k]!r})" for k in before if k in now and before[k] != now[k]]
        differ = differ or [f"rows per job {before.get('rows_per_job')!r}"]
        raise ValueError(
            f"the journal {self.journal.path} already holds this work (job {earlier['job_id']}) done with "
            f"{', '.join(differ)}; resume it with QiskitExecutor.resume({str(self.journal.path)!r}, backend) "
            "(which restores the recorded options), or pass journal=False or a new journal to pay for it again"
        )

    def plan(self, task: str, num_jobs: int, rows: int, shots_per_row: int, kind: str) -> None:
        """Record what this batch would submit (for :meth:`QiskitExecutor.estimate`) and stop before submitting."""
        reusable = 0
        if self.journal is not None:
            reusable = sum(1 for chunk in range(num_jobs) if self.journal.holds(task, chunk))
        self.planning.append({
            "primitive": kind, "jobs": num_jobs - reusable, "reused_from_journal": reusable,
            "rows": int(rows), "shots": int(shots_per_row * rows), "backend": self.backend_name,
        })
        raise Planned

    def journal_hint(self) -> str:
        if self.journal is None:
            return "Journaling was off (journal=False), so nothing was recorded."
        return (
            f"Jobs and results are recorded in the journal {self.journal.path}; fetch them with "
            f"QiskitExecutor.resume({str(self.journal.path)!r}, backend_or_service) instead of resubmitting."
        )

    def reuse(self, task: str, chunk: int) -> Any:
        """A stored result (dict), ``(job_id, job)`` to wait for, or ``None`` to submit."""
        if self.journal is None:
            return None
        job_id = self.journal.previous(task, chunk)
        if job_id is None:
            return None
        stored = self.journal.result(job_id)
        if stored is not None:
            return stored
        job = self.retrieve(job_id)
        return None if job is None else (job_id, job)

    def wait(self, job: Any, job_id: str, progress: Progress) -> str:
        start = time.monotonic()
        last = None
        # local jobs finish in milliseconds, hardware jobs in minutes: poll fast first and
        # back off, keeping the wait after completion under a tenth of the time waited
        while True:
            status = status_name(job)
            if status != last:
                progress.emit("status", job_id, status)
                last = status
            if status in FINAL_STATES:
                return status
            if self.timeout is not None and time.monotonic() - start > self.timeout:
                raise TimeoutError(f"still {status.lower()} after {self.timeout} s")
            time.sleep(min(self.poll_interval, max(0.002, 0.1 * (time.monotonic() - start))))


def object_array(items: list[Any]) -> np.ndarray:
    # np.array would iterate into each SparsePauliOp
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def extract(kind: str, result: Any) -> dict[str, np.ndarray]:
    """The arrays of a one-PUB primitive result."""
    data = result[0].data
    if kind == "sampler":
        bits = data.meas
        return {"packed": np.asarray(bits.array), "num_bits": np.asarray(bits.num_bits)}
    return {"evs": np.asarray(data.evs, dtype=float), "stds": np.asarray(data.stds, dtype=float)}


def unpack_bits(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """``(rows, shots, num_bits)`` bools, clbit 0 first."""
    return BitArray(arrays["packed"], int(arrays["num_bits"])).to_bool_array(order="little")


def job_error(job: Any, status: str) -> str:
    message = getattr(job, "error_message", None)
    detail = message() if callable(message) else None
    return f"job ended {status.lower()}" + (f": {detail}" if detail else "")
