"""``QiskitExecutor``: run qmlsim circuits on Qiskit backends through V2 primitives.

One call runs one circuit structure over a batch of input rows:

1. the circuit is converted with :func:`~qmlsim.circuits.convert.qiskit.to_qiskit`
   (inputs ``x[i]`` and weights ``w[j]`` become Qiskit parameters) and transpiled for
   the backend with ``generate_preset_pass_manager`` once per structure (cached);
2. the rows become one parameter sweep (a PUB whose parameter values have a batch axis),
   split into as few jobs as the backend's limits allow (``max_rows_per_job``,
   ``max_executions_per_job``), never one job per row;
3. observables become ``SparsePauliOp``\\ s mapped onto the physical qubits with
   ``apply_layout``;
4. jobs go to any ``BaseSamplerV2`` / ``BaseEstimatorV2``: Aer's primitives for
   ``AerSimulator``, IBM Runtime's for IBM backends and the fake IBM backends (with
   ``mode=`` a backend, ``Session`` or ``Batch``), Qiskit's ``BackendSamplerV2`` /
   ``BackendEstimatorV2`` for any other ``BackendV2``, or primitives you pass in.

Every submitted job is written at once to a :class:`~qmlsim.simulators.executors.journal.Journal`
(job id, task hash, parameter rows, observables, shots), and every finished result is
stored beside it. Work already present in the journal from an earlier session (same
circuit, rows, observables, shots, backend) is not submitted again: its stored result is
used, or the job is fetched from the service (:meth:`QiskitExecutor.resume`).

Shot-based results carry standard errors (:meth:`QiskitExecutor.expval_with_error`,
:meth:`QiskitExecutor.probs_with_error`). Bits and probabilities are in qmlsim's wire
order (wire 0 most significant).

>>> import numpy as np
>>> from qiskit_aer import AerSimulator
>>> from qmlsim.circuits import Circuit, Z
>>> c = Circuit(1); x = c.inputs(1); _ = c.rx(x[0], 0)
>>> ex = QiskitExecutor(AerSimulator(), shots=100, seed=1, journal=False)
>>> ex.sample(c, 100, x=np.array([[0.0], [np.pi]])).mean(axis=(1, 2)).tolist()
[0.0, 1.0]
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import time
from typing import Any, Callable, Sequence

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.convert import require
from qmlsim.circuits.observables import Observable
from qmlsim.simulators.backends import get_backend
from qmlsim.simulators.executors.journal import Journal, default_journal_path, task_hash
from qmlsim.simulators.calls import prepare_call
from qmlsim.simulators.gradients import chain_rule, shift_plan, symbols_for
from qmlsim.simulators.program import compile_circuit
from qmlsim.simulators.validation import check_seed, check_shots

require("qiskit", "qiskit")
from qiskit.primitives import BaseEstimatorV2, BaseSamplerV2  # noqa: E402
from qiskit.primitives.containers import BitArray  # noqa: E402
from qiskit.transpiler import generate_preset_pass_manager  # noqa: E402

from qmlsim.circuits.convert.qiskit import parameter_values, to_qiskit, to_qiskit_observable  # noqa: E402

__all__ = ["QiskitExecutor", "QiskitJobError"]

# Job states after which nothing changes (Qiskit's JobStatus names and IBM Runtime's strings).
_FINAL = frozenset({"DONE", "ERROR", "CANCELLED", "FAILED"})
# IBM Runtime's per-job cap on circuit executions (shots x parameter sets), kept as the default.
MAX_EXECUTIONS_PER_JOB = 10_000_000
# Instructions a target need not list.
_IGNORED = frozenset({"barrier"})


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


class _Planned(Exception):
    """Raised inside a call run by :meth:`QiskitExecutor.estimate` where it would submit."""


def _status_name(job: Any) -> str:
    status = job.status()
    return str(getattr(status, "name", status)).upper()


def _structure_hash(key: Any) -> str:
    return hashlib.sha256(repr(key).encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class _Compiled:
    """A transpiled circuit and the hash of the qmlsim structure it came from."""

    circuit: Any
    structure: str


class _Progress:
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


def _is_runtime_backend(backend: Any) -> bool:
    return type(backend).__module__.startswith("qiskit_ibm_runtime")


def _is_local_runtime_backend(backend: Any) -> bool:
    return type(backend).__module__.startswith("qiskit_ibm_runtime.fake_provider")


def _runtime_primitives(mode: Any, seed: int | None, local: bool) -> tuple[Any, Any]:
    runtime = require("qiskit_ibm_runtime", "qiskit-ibm-runtime")
    try:
        # qiskit-ibm-runtime >= 0.50: the client-side primitives (the V2 classes below are deprecated there)
        from qiskit_ibm_runtime.executor_estimator import Estimator as estimator_cls  # noqa: PLC0415, N813
        from qiskit_ibm_runtime.executor_sampler import Sampler as sampler_cls  # noqa: PLC0415, N813
    except ImportError:
        # older releases: the V2 class names moved between them, take whichever this one has
        sampler_cls = getattr(runtime, "SamplerV2", None) or runtime.Sampler
        estimator_cls = getattr(runtime, "EstimatorV2", None) or runtime.Estimator
    sampler, estimator = sampler_cls(mode=mode), estimator_cls(mode=mode)
    if seed is not None and local:
        # local testing mode reads the simulator seed; hardware has none. Runtime skips seed 0.
        sampler.options.simulator.seed_simulator = seed or None
        estimator.options.simulator.seed_simulator = seed or None
    return sampler, estimator


# Aer (0.18) applies controlled rotations whose angle is bound through parameter sweeps
# (crx, cry, crz, cp) wrongly, so for an all-to-all AerSimulator circuits are translated
# to this basis, which has no parametrised controlled gates.
_AER_BASIS = (
    "id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "sxdg", "rx", "ry", "rz", "p", "u",
    "cx", "cy", "cz", "swap", "ccx", "cswap", "rxx", "ryy", "rzz",
)


def _is_aer(backend: Any) -> bool:
    return type(backend).__module__.startswith("qiskit_aer")


def _is_local_simulator(backend: Any) -> bool:
    return _is_aer(backend) or _is_local_runtime_backend(backend)


def _pass_manager(backend: Any, optimization_level: int, seed: int | None) -> Any:
    if _is_aer(backend) and getattr(backend, "coupling_map", None) is None:
        return generate_preset_pass_manager(
            optimization_level=optimization_level, basis_gates=list(_AER_BASIS), seed_transpiler=seed
        )
    return generate_preset_pass_manager(optimization_level=optimization_level, backend=backend, seed_transpiler=seed)


def _default_primitives(backend: Any, mode: Any, seed: int | None) -> tuple[Any, Any]:
    if mode is not None or _is_runtime_backend(backend):
        return _runtime_primitives(mode if mode is not None else backend, seed, _is_local_runtime_backend(backend))
    try:
        from qiskit_aer import AerSimulator  # noqa: PLC0415 - optional
    except ImportError:  # pragma: no cover
        AerSimulator = ()  # noqa: N806
    if isinstance(backend, AerSimulator):
        from qiskit_aer.primitives import EstimatorV2, SamplerV2  # noqa: PLC0415

        run_options = {} if seed is None else {"seed_simulator": seed}
        return (
            SamplerV2.from_backend(backend, seed=seed),
            EstimatorV2.from_backend(backend, options={"run_options": run_options}),
        )
    from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2  # noqa: PLC0415

    return (
        BackendSamplerV2(backend=backend, options={"seed_simulator": seed}),
        BackendEstimatorV2(backend=backend, options={"seed_simulator": seed}),
    )


class QiskitExecutor:
    """Runs qmlsim circuits on a Qiskit backend through V2 primitives (final class); an ``Executor``.

    Args:
        backend: a ``BackendV2``: ``AerSimulator()``, a fake IBM backend
            (``FakeManilaV2()``), an IBM backend from ``QiskitRuntimeService``. Circuits
            are transpiled for its target.
        shots: shots per input row (estimator precision ``1/sqrt(shots)``).
        optimization_level: of ``generate_preset_pass_manager`` (0-3).
        mode: IBM Runtime execution mode: a backend, ``Session`` or ``Batch``
            (default: the backend itself for IBM/fake backends).
        sampler: a ``BaseSamplerV2`` to use instead of the default one.
        estimator: a ``BaseEstimatorV2`` to use instead of the default one.
        journal: path of the job journal; ``True`` for a fresh
            ``./qmlsim_jobs/journal-<time>-<pid>.jsonl``; ``False`` for none. Default
            (``None``): a fresh journal for remote backends, none for local simulators
            (``AerSimulator``, the fake IBM backends), whose jobs cost nothing to redo.
        service: where to fetch jobs by id after a crash (``QiskitRuntimeService`` or
            any object with ``.job(job_id)``); default: ``backend.service`` if present.
        seed: seed of simulators and transpilation (ignored by hardware); a call's
            ``seed=`` overrides it. Primitives you pass in keep their own seeding.
        progress: show a tqdm bar of jobs (submitted, queued, running, done).
        callback: called with a dict ``{"event", "job_id", "status", "submitted",
            "done", "total"}`` on every submission and status change.
        max_rows_per_job: most parameter rows per job (default: the backend's
            ``max_circuits``, else no limit).
        max_executions_per_job: most shots x parameter sets per job.
        poll_interval: seconds between status checks of running jobs.
        timeout: seconds to wait for a job before raising (``None``: no limit); the job
            keeps running and can be fetched later with :meth:`resume`.

    Example:
        >>> from qiskit_aer import AerSimulator
        >>> from qmlsim.circuits import Circuit, Z
        >>> c = Circuit(2); _ = c.h(0).cx(0, 1)
        >>> ex = QiskitExecutor(AerSimulator(), shots=200, seed=7, journal=False)
        >>> values, stderr = ex.expval_with_error(c, Z(0) @ Z(1))
        >>> round(float(values), 1), float(stderr) < 0.1
        (1.0, True)
    """

    def __init__(
        self,
        backend: Any,
        shots: int = 1024,
        optimization_level: int = 1,
        mode: Any = None,
        *,
        sampler: Any = None,
        estimator: Any = None,
        journal: str | os.PathLike | bool | None = None,
        service: Any = None,
        seed: int | None = None,
        progress: bool = False,
        callback: Callable[[dict], None] | None = None,
        max_rows_per_job: int | None = None,
        max_executions_per_job: int = MAX_EXECUTIONS_PER_JOB,
        poll_interval: float = 1.0,
        timeout: float | None = None,
    ):
        if not (hasattr(backend, "target") and hasattr(backend, "num_qubits")):
            raise TypeError(
                f"backend must be a Qiskit BackendV2 (AerSimulator(), FakeManilaV2(), service.backend(...)), got {type(backend).__name__}"
            )
        if sampler is not None and not isinstance(sampler, BaseSamplerV2):
            raise TypeError(f"sampler must be a Qiskit BaseSamplerV2 (V2 primitive), got {type(sampler).__name__}")
        if estimator is not None and not isinstance(estimator, BaseEstimatorV2):
            raise TypeError(f"estimator must be a Qiskit BaseEstimatorV2 (V2 primitive), got {type(estimator).__name__}")
        if optimization_level not in (0, 1, 2, 3):
            raise ValueError(f"optimization_level must be 0, 1, 2 or 3, got {optimization_level!r}")
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable with one dict argument")
        self.backend = backend
        self.shots = check_shots(shots)
        self.optimization_level = optimization_level
        self.mode = mode
        self.seed = check_seed(seed)
        self.service = service if service is not None else getattr(backend, "service", None)
        self.progress = bool(progress)
        self.callback = callback
        limit = max_rows_per_job if max_rows_per_job is not None else getattr(backend, "max_circuits", None)
        self.max_rows_per_job = None if limit is None else check_shots(limit, "max_rows_per_job")
        self.max_executions_per_job = check_shots(max_executions_per_job, "max_executions_per_job")
        self.poll_interval = float(poll_interval)
        self.timeout = timeout
        if journal is None:
            journal = not _is_local_simulator(backend)
        if journal is False:
            self.journal: Journal | None = None
        else:
            self.journal = Journal(default_journal_path() if journal is True else journal)
        self._user_sampler = sampler
        self._user_estimator = estimator
        self._primitives: dict[Any, tuple[Any, Any]] = {}
        self._compiled: dict[tuple, _Compiled] = {}
        self._pass_manager = _pass_manager(backend, optimization_level, self.seed)
        self.submissions = 0
        self.resume_summary: dict[str, int] | None = None
        self._planning: list[dict[str, Any]] | None = None  # set by estimate(): plan jobs, submit nothing

    def __deepcopy__(self, memo: dict) -> QiskitExecutor:
        # An executor is a handle on a backend (or Session) and one journal; scikit-learn's
        # clone deep-copies estimator parameters, and a copy would split the journal's
        # bookkeeping and try to copy live connections. Models share the handle instead.
        return self

    def __repr__(self) -> str:
        name = getattr(self.backend, "name", type(self.backend).__name__)
        return f"QiskitExecutor({name!r}, shots={self.shots}, optimization_level={self.optimization_level})"

    @property
    def backend_name(self) -> str:
        name = getattr(self.backend, "name", None)
        return str(name() if callable(name) else name or type(self.backend).__name__)

    @property
    def result_options(self) -> dict[str, Any]:
        """The options that change what the backend returns; the journal records them for :meth:`resume`."""
        return {
            "backend": self.backend_name, "shots": self.shots, "seed": self.seed,
            "optimization_level": self.optimization_level, "max_rows_per_job": self.max_rows_per_job,
            "max_executions_per_job": self.max_executions_per_job,
        }

    # --- resume ------------------------------------------------------------------------
    @classmethod
    def resume(cls, journal: str | os.PathLike, backend_or_service: Any, **options: Any) -> QiskitExecutor:
        """An executor on an existing journal, with every job that has finished fetched and stored.

        Run the interrupted script again with the returned executor (or with
        ``journal=`` the same path): calls whose work is in the journal take the stored
        results or the submitted jobs instead of submitting again.

        Args:
            journal: path of the journal written by the interrupted session.
            backend_or_service: the backend, or a ``QiskitRuntimeService`` (anything
                with ``.job(job_id)`` and ``.backend(name)``); the backend is then the
                one named in the journal.
            **options: further :class:`QiskitExecutor` arguments (``shots``, ``seed``...).

        Returns:
            The executor; ``resume_summary`` counts the journal's jobs by state
            (``done``, ``failed``, ``pending`` (still queued or running), ``unreachable``).

        Raises:
            ValueError: if the journal does not exist or records no job.
        """
        path = os.fspath(journal)
        if not os.path.isfile(path):
            raise ValueError(f"no journal at {path}; pass the .jsonl file written by the interrupted run")
        journal_file = Journal(path)
        records = journal_file.jobs()
        if not records:
            raise ValueError(f"the journal {path} records no submitted job; there is nothing to resume")
        # the options the work was submitted with come back from the journal; passing a
        # different value would make every call new work and submit it again
        recorded = dict(journal_file.options) or {"shots": records[-1].get("shots")}
        recorded.pop("backend", None)
        for name, value in recorded.items():
            if value is None and name != "seed":
                continue
            if name in options and options[name] != value:
                raise ValueError(
                    f"the journal {path} was written with {name}={value!r} but resume got {name}={options[name]!r}; "
                    f"drop {name}= to resume the recorded work, or start a new journal to run it again"
                )
            options.setdefault(name, value)
        if callable(getattr(backend_or_service, "job", None)) and callable(getattr(backend_or_service, "backend", None)):
            service = backend_or_service
            backend = options.pop("backend", None) or service.backend(records[-1]["backend"])
            options.setdefault("service", service)
        else:
            backend = backend_or_service
        executor = cls(backend, journal=path, **options)
        executor.resume_summary = executor.fetch_finished()
        return executor

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
            job = self._retrieve(record["job_id"])
            if job is None:
                counts["unreachable"] += 1
                continue
            try:
                status = _status_name(job)
            except Exception:  # noqa: BLE001 - no connection: try again later
                counts["unreachable"] += 1
                continue
            if status not in _FINAL:
                counts["pending"] += 1
                continue
            try:
                self.journal.record_result(record["job_id"], _extract(record["primitive"], job.result()))
                counts["done"] += 1
            except Exception as error:  # noqa: BLE001 - any failure of a remote job is recorded, not raised
                self.journal.record_failure(record["job_id"], status, repr(error))
                counts["failed"] += 1
        return counts

    def _retrieve(self, job_id: str) -> Any:
        fetch = getattr(self.service, "job", None)
        if not callable(fetch):
            return None
        try:
            return fetch(job_id)
        except Exception:  # noqa: BLE001 - unknown id or no connection: treated as unreachable
            return None

    # --- circuits ----------------------------------------------------------------------
    def _primitive(self, kind: str, seed: int | None) -> Any:
        user = self._user_sampler if kind == "sampler" else self._user_estimator
        if user is not None:
            return user
        pair = self._primitives.get(seed)
        if pair is None:
            pair = _default_primitives(self.backend, self.mode, seed)
            self._primitives[seed] = pair
        return pair[0] if kind == "sampler" else pair[1]

    def _compile(self, circuit: Circuit, purpose: str, build: Callable[[], Circuit] | None = None) -> _Compiled:
        """The transpiled circuit for ``purpose`` (``"sampler"``, ``"estimator"``, ``"angles"``), cached by structure."""
        key = (circuit.key, purpose)
        compiled = self._compiled.get(key)
        if compiled is not None:
            return compiled
        if circuit.num_wires > self.backend.num_qubits:
            raise ValueError(
                f"the circuit has {circuit.num_wires} wires but {self.backend_name} has {self.backend.num_qubits} qubits; "
                "use fewer wires or a larger backend"
            )
        source = build() if build is not None else circuit
        qc = to_qiskit(source)
        if purpose == "sampler":
            qc.measure_all()
        try:
            isa = self._pass_manager.run(qc)
        except Exception as error:  # noqa: BLE001 - transpiler errors are many types; the message says which
            raise ValueError(f"the circuit cannot be transpiled for {self.backend_name}: {error}") from error
        _check_supported(isa, self.backend.target, self.backend_name)
        compiled = _Compiled(isa, _structure_hash((circuit.key, purpose)))
        self._compiled[key] = compiled
        return compiled

    # --- jobs --------------------------------------------------------------------------
    def _execute(
        self,
        kind: str,
        compiled: _Compiled,
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
        if self._planning is not None:
            self._plan(task, len(starts), values.shape[0], per_row, kind)
        self._refuse_conflicting_options(work, task)
        options = dict(self.result_options, shots=shots, seed=seed, rows_per_job=rows_per_job)
        results: list[dict[str, np.ndarray] | None] = [None] * len(starts)
        pending: list[tuple[int, str, Any]] = []
        progress = _Progress(self.progress, self.callback, len(starts))
        try:
            for chunk, start in enumerate(starts):
                part = values[start : start + rows_per_job]
                reused = self._reuse(task, chunk)
                if isinstance(reused, dict):
                    results[chunk] = reused
                    progress.emit("done", "journal", "DONE")
                    continue
                if reused is not None:
                    pending.append((chunk, reused[0], reused[1]))
                    continue
                if kind == "sampler":
                    job = self._primitive(kind, seed).run([(compiled.circuit, part, shots)], shots=shots)
                else:
                    pub = (compiled.circuit, _object_array(observables), part[..., None, :], precision)
                    job = self._primitive(kind, seed).run([pub], precision=precision)
                job_id = str(job.job_id())
                self.submissions += 1
                if self.journal is not None:
                    self.journal.record_options(self.result_options)  # written once; resume reads it back
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
                + self._journal_hint(),
                journal=None if self.journal is None else self.journal.path,
            ) from error
        failures = []
        for chunk, job_id, job in pending:
            try:
                status = self._wait(job, job_id, progress)
            except Exception as error:  # noqa: BLE001 - lost connection or timeout: the job may still finish,
                # so it stays "submitted" in the journal and resume can fetch it later
                failures.append((job_id, error))
                progress.emit("failed", job_id, "UNKNOWN")
                continue
            try:
                if status != "DONE":
                    raise RuntimeError(_job_error(job, status))
                arrays = _extract(kind, job.result())
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
                + self._journal_hint(),
                job_id=job_id,
                journal=None if self.journal is None else self.journal.path,
            ) from error
        return results  # type: ignore[return-value]

    def _refuse_conflicting_options(self, work: str, task: str) -> None:
        """Raise if the journal holds this work done under other options (it would be paid for twice)."""
        if self.journal is None:
            return
        earlier = self.journal.conflict(work, task)
        if earlier is None:
            return
        before = earlier.get("options") or {"shots": earlier.get("shots")}
        now = self.result_options
        differ = [f"{k}={before[k]!r} (now {now[k]!r})" for k in before if k in now and before[k] != now[k]]
        differ = differ or [f"rows per job {before.get('rows_per_job')!r}"]
        raise ValueError(
            f"the journal {self.journal.path} already holds this work (job {earlier['job_id']}) done with "
            f"{', '.join(differ)}; resume it with QiskitExecutor.resume({str(self.journal.path)!r}, backend) "
            "(which restores the recorded options), or pass journal=False or a new journal to pay for it again"
        )

    def _plan(self, task: str, num_jobs: int, rows: int, shots_per_row: int, kind: str) -> None:
        """Record what this batch would submit (for :meth:`estimate`) and stop before submitting."""
        reusable = 0
        if self.journal is not None:
            reusable = sum(1 for chunk in range(num_jobs) if self.journal.holds(task, chunk))
        self._planning.append({
            "primitive": kind, "jobs": num_jobs - reusable, "reused_from_journal": reusable,
            "rows": int(rows), "shots": int(shots_per_row * rows), "backend": self.backend_name,
        })
        raise _Planned

    def estimate(self, method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """What ``method(*args, **kwargs)`` would submit, without submitting anything.

        Args:
            method: ``"expval"``, ``"probs"``, ``"sample"``, ``"jacobian"`` (or their ``_with_error`` forms).
            args: the call's positional arguments.
            kwargs: the call's keyword arguments.

        Returns:
            ``{"primitive", "jobs", "reused_from_journal", "rows", "shots", "backend"}`` for the
            first batch of jobs the call would send: new jobs, jobs the journal already
            holds, parameter rows, and total shots (shots x rows x observables).

        Example:
            >>> from qiskit_aer import AerSimulator
            >>> from qmlsim.circuits import Circuit, Z
            >>> c = Circuit(1); x = c.inputs(1); _ = c.rx(x[0], 0)
            >>> ex = QiskitExecutor(AerSimulator(), shots=1000, journal=False)
            >>> plan = ex.estimate("expval", c, Z(0), x=[[0.1], [0.2], [0.3]])
            >>> plan["jobs"], plan["shots"], ex.submissions
            (1, 3000, 0)
        """
        call = getattr(self, method, None)
        if method.startswith("_") or not callable(call):
            raise ValueError(f"unknown executor method {method!r}; use expval, probs, sample or jacobian")
        self._planning = []
        try:
            call(*args, **kwargs)
        except _Planned:
            pass
        finally:
            planned, self._planning = self._planning, None
        if not planned:
            return {"primitive": None, "jobs": 0, "reused_from_journal": 0, "rows": 0, "shots": 0, "backend": self.backend_name}
        return planned[0]

    def _journal_hint(self) -> str:
        if self.journal is None:
            return "Journaling was off (journal=False), so nothing was recorded."
        return (
            f"Jobs and results are recorded in the journal {self.journal.path}; fetch them with "
            f"QiskitExecutor.resume({str(self.journal.path)!r}, backend_or_service) instead of resubmitting."
        )

    def _reuse(self, task: str, chunk: int) -> Any:
        """A stored result (dict), ``(job_id, job)`` to wait for, or ``None`` to submit."""
        if self.journal is None:
            return None
        job_id = self.journal.previous(task, chunk)
        if job_id is None:
            return None
        stored = self.journal.result(job_id)
        if stored is not None:
            return stored
        job = self._retrieve(job_id)
        return None if job is None else (job_id, job)

    def _wait(self, job: Any, job_id: str, progress: _Progress) -> str:
        start = time.monotonic()
        last = None
        # local jobs finish in milliseconds, hardware jobs in minutes: poll fast first and
        # back off, keeping the wait after completion under a tenth of the time waited
        while True:
            status = _status_name(job)
            if status != last:
                progress.emit("status", job_id, status)
                last = status
            if status in _FINAL:
                return status
            if self.timeout is not None and time.monotonic() - start > self.timeout:
                raise TimeoutError(f"still {status.lower()} after {self.timeout} s")
            time.sleep(min(self.poll_interval, max(0.002, 0.1 * (time.monotonic() - start))))

    # --- validation --------------------------------------------------------------------
    def _call_seed(self, seed: Any) -> int | None:
        return self.seed if seed is None else check_seed(seed)

    # --- Executor interface ------------------------------------------------------------
    def sample(
        self, circuit: Circuit, shots: int | None = None, x: Any = None, weights: Any = None, seed: int | None = None,
        wires: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Measured bits in wire order.

        Args:
            circuit: the circuit.
            shots: shots per row (default: the executor's).
            x: inputs ``(batch, num_inputs)``, one row ``(num_inputs,)`` or ``None``.
            weights: ``(num_weights,)`` or ``None``.
            seed: simulator seed for this call.
            wires: the wires to return, in this order (default: all).

        Returns:
            int array ``(batch, shots, k)`` of 0/1 (``k`` wires); ``(shots, k)`` for a
            1-D or absent ``x``. All rows go out as one parameter sweep.
        """
        call = prepare_call(circuit, x, weights, shots=shots, wires=wires)
        shots = self.shots if shots is None else call.shots
        wires = list(range(circuit.num_wires)) if wires is None else list(call.wires)
        return call.result(self._sample_bits(circuit, call.rows, call.weights, shots, self._call_seed(seed))[..., wires])

    def _sample_bits(self, circuit: Circuit, rows: np.ndarray, w: np.ndarray, shots: int, seed: int | None) -> np.ndarray:
        compiled = self._compile(circuit, "sampler")
        values = parameter_values(compiled.circuit, rows, w)
        batch = values.shape[0]
        if values.shape[1] == 0 and batch > 1:
            # Without parameters every row is the same circuit: one row of batch * shots
            # i.i.d. shots is the same experiment (and Aer 0.18 mis-samples empty sweeps).
            chunks = self._execute("sampler", compiled, values[:1], shots * batch, seed)
            bits = np.concatenate([_unpack_bits(c) for c in chunks], axis=0).reshape(batch, shots, -1)
        else:
            chunks = self._execute("sampler", compiled, values, shots, seed)
            bits = np.concatenate([_unpack_bits(c) for c in chunks], axis=0)
        # clbit i of measure_all is virtual qubit i, which is wire i
        return bits[..., : circuit.num_wires].astype(np.int64)

    def probs_with_error(
        self, circuit: Circuit, x: Any = None, weights: Any = None, wires: Sequence[int] | None = None,
        shots: int | None = None, seed: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Estimated probabilities and their standard errors ``sqrt(p (1 - p) / shots)``, both ``(batch, 2**k)``."""
        call = prepare_call(circuit, x, weights, shots=shots, wires=wires)
        shots = self.shots if shots is None else call.shots
        wires = list(range(circuit.num_wires)) if wires is None else list(call.wires)
        rows = call.rows
        bits = self._sample_bits(circuit, rows, call.weights, shots, self._call_seed(seed))[..., wires]
        k = len(wires)
        index = bits @ (1 << np.arange(k - 1, -1, -1))  # first wire most significant
        flat = index + (np.arange(rows.shape[0]) * 2**k)[:, None]
        p = np.bincount(flat.reshape(-1), minlength=rows.shape[0] * 2**k).reshape(rows.shape[0], 2**k) / shots
        err = np.sqrt(p * (1 - p) / shots)
        return call.result((p, err))

    def probs(self, circuit: Circuit, x: Any = None, weights: Any = None, wires: Sequence[int] | None = None) -> np.ndarray:
        """Probabilities ``(batch, 2**k)`` of ``wires`` (all by default, first wire most significant), estimated from ``shots`` counts."""
        return self.probs_with_error(circuit, x, weights, wires)[0]

    def expval_with_error(
        self,
        circuit: Circuit,
        observables: Observable | Sequence[Observable],
        x: Any = None,
        weights: Any = None,
        shots: int | None = None,
        seed: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Expectation values and their standard errors, both ``(batch,)`` or ``(batch, k)``.

        All rows and observables go to the estimator as one PUB (rows broadcast against
        observables) with precision ``1/sqrt(shots)``.
        """
        call = prepare_call(circuit, x, weights, observables=observables, shots=shots)
        obs_list, rows, w = call.observables, call.rows, call.weights
        shots = self.shots if shots is None else call.shots
        compiled = self._compile(circuit, "estimator")
        values = parameter_values(compiled.circuit, rows, w)
        if values.shape[1] == 0:
            # every row is the same circuit: estimate it once (Aer 0.18 fails on empty sweeps)
            values = values[:1]
        chunks = self._execute(
            "estimator", compiled, values, shots, self._call_seed(seed), *self._mapped(obs_list, compiled, circuit.num_wires)
        )
        shape = (rows.shape[0], len(obs_list))
        evs = np.broadcast_to(np.concatenate([c["evs"] for c in chunks], axis=0).reshape(-1, len(obs_list)), shape).copy()
        stds = np.broadcast_to(np.concatenate([c["stds"] for c in chunks], axis=0).reshape(-1, len(obs_list)), shape).copy()
        return call.result((evs, stds), observables=True)

    def expval(
        self,
        circuit: Circuit,
        observables: Observable | Sequence[Observable],
        x: Any = None,
        weights: Any = None,
        shots: int | None = None,
        seed: int | None = None,
    ) -> np.ndarray:
        """Expectation values ``(batch,)``, or ``(batch, k)`` for a list of ``k`` observables (see :meth:`expval_with_error`)."""
        return self.expval_with_error(circuit, observables, x, weights, shots, seed)[0]

    @staticmethod
    def _mapped(obs_list: list[Observable], compiled: _Compiled, num_wires: int) -> tuple[list[Any], list]:
        """Observables on the physical qubits of the transpiled circuit (virtual qubit ``i`` = wire ``i``), and their virtual labels."""
        layout = compiled.circuit.layout
        ops = [to_qiskit_observable(o, num_wires) for o in obs_list]
        key = [op.to_list() for op in ops]
        if layout is None:
            return ops, key
        return [op.apply_layout(layout, num_qubits=compiled.circuit.num_qubits) for op in ops], key

    def jacobian(
        self,
        circuit: Circuit,
        observables: Observable | Sequence[Observable],
        x: Any = None,
        weights: Any = None,
        method: str = "parameter-shift",
        argnum: str = "weights",
        shots: int | None = None,
        seed: int | None = None,
    ) -> np.ndarray:
        """Jacobian by the parameter-shift rule: ``(batch, P)`` or ``(batch, k, P)`` (see :meth:`jacobian_with_error`)."""
        return self.jacobian_with_error(circuit, observables, x, weights, method, argnum, shots, seed)[0]

    def jacobian_with_error(
        self,
        circuit: Circuit,
        observables: Observable | Sequence[Observable],
        x: Any = None,
        weights: Any = None,
        method: str = "parameter-shift",
        argnum: str = "weights",
        shots: int | None = None,
        seed: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Parameter-shift Jacobian and its standard errors, both ``(batch, P)`` or ``(batch, k, P)``.

        Every gate angle that depends on the differentiated symbols is shifted by the
        rule of its generator spectrum; all shifted angle sets of all rows go out as one
        estimator sweep, then the chain rule through the symbolic angle derivatives
        carries the result to inputs or weights. Standard errors combine the
        estimator's errors of the independent shifted evaluations.

        Args:
            method: only ``"parameter-shift"`` (exact in expectation, and hardware-ready).
            argnum: ``"weights"`` (``P = num_weights``) or ``"x"`` (``P = num_inputs``).
        """
        if method != "parameter-shift":
            raise ValueError(f"QiskitExecutor computes Jacobians by method='parameter-shift' only, got {method!r}")
        call = prepare_call(circuit, x, weights, observables=observables, shots=shots, argnum=argnum)
        obs_list, rows, w = call.observables, call.rows, call.weights
        shots = self.shots if shots is None else call.shots
        batch, k = rows.shape[0], len(obs_list)
        program = compile_circuit(circuit, get_backend("numpy"), "complex128")
        symbols = symbols_for(argnum, circuit.num_inputs, circuit.num_weights)
        partials = program.angle_gradients(symbols)(rows, w, np)
        plan = shift_plan(program, partials)
        d_angle = np.zeros((batch, k, len(plan.slots)))
        var_angle = np.zeros_like(d_angle)
        if plan.shifts:
            compiled = self._compile(circuit, "angles", lambda: plan.circuit)
            # the shift plan's circuit has one input x[slot] per angle: its parameters are elements of that vector
            columns = [int(p.index) for p in compiled.circuit.parameters]
            values = plan.rows(program, rows, w)[..., columns]  # (batch, 2 S, P) in compiled.circuit.parameters order
            chunks = self._execute(
                "estimator", compiled, values, shots, self._call_seed(seed), *self._mapped(obs_list, compiled, circuit.num_wires)
            )
            evs = np.concatenate([c["evs"] for c in chunks], axis=0).reshape(batch, 2 * len(plan.shifts), k)
            stds = np.concatenate([c["stds"] for c in chunks], axis=0).reshape(batch, 2 * len(plan.shifts), k)
            d_angle = plan.derivatives(evs)
            var_angle = plan.derivatives(stds**2, squared=True)
        out = chain_rule(d_angle, plan.slots, partials, batch, len(symbols))
        err = np.sqrt(chain_rule(var_angle, plan.slots, partials, batch, len(symbols), squared=True))
        return call.result((out, err), observables=True)


def _check_supported(isa: Any, target: Any, name: str) -> None:
    for instruction in isa.data:
        op_name = instruction.operation.name
        if op_name in _IGNORED:
            continue
        qargs = tuple(isa.find_bit(q).index for q in instruction.qubits)
        if not target.instruction_supported(operation_name=op_name, qargs=qargs):
            raise ValueError(
                f"after transpilation the circuit still has {op_name!r} on qubits {qargs}, which {name} does not support; "
                "use gates in the backend's basis or raise optimization_level"
            )


def _object_array(items: list[Any]) -> np.ndarray:
    # np.array would iterate into each SparsePauliOp
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def _extract(kind: str, result: Any) -> dict[str, np.ndarray]:
    """The arrays of a one-PUB primitive result."""
    data = result[0].data
    if kind == "sampler":
        bits = data.meas
        return {"packed": np.asarray(bits.array), "num_bits": np.asarray(bits.num_bits)}
    return {"evs": np.asarray(data.evs, dtype=float), "stds": np.asarray(data.stds, dtype=float)}


def _unpack_bits(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """``(rows, shots, num_bits)`` bools, clbit 0 first."""
    return BitArray(arrays["packed"], int(arrays["num_bits"])).to_bool_array(order="little")


def _job_error(job: Any, status: str) -> str:
    message = getattr(job, "error_message", None)
    detail = message() if callable(message) else None
    return f"job ended {status.lower()}" + (f": {detail}" if detail else "")

