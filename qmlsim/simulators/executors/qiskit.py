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
import os
from typing import Any, Callable, Sequence

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.convert import require
from qmlsim.circuits.observables import Observable
from qmlsim.simulators.executors.jobs import MAX_EXECUTIONS_PER_JOB, JobRunner, Planned, QiskitJobError, unpack_bits
from qmlsim.simulators.executors.journal import Journal, default_journal_path
from qmlsim.simulators.executors.qiskit_backends import check_supported, default_primitives, is_local_simulator, pass_manager
from qmlsim.simulators.calls import prepare_call
from qmlsim.simulators.gradients import chain_rule, circuit_partials, shift_plan
from qmlsim.simulators.validation import check_seed, check_shots

require("qiskit", "qiskit")
from qiskit.primitives import BaseEstimatorV2, BaseSamplerV2  # noqa: E402

from qmlsim.circuits.convert.qiskit import parameter_values, to_qiskit, to_qiskit_observable  # noqa: E402

__all__ = ["QiskitExecutor", "QiskitJobError"]

def _structure_hash(key: Any) -> str:
    return hashlib.sha256(repr(key).encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class _Compiled:
    """A transpiled circuit and the hash of the qmlsim structure it came from."""

    circuit: Any
    structure: str


def _runner_attribute(name: str, doc: str) -> property:
    def get(self: QiskitExecutor) -> Any:
        return getattr(self.jobs, name)

    def set(self: QiskitExecutor, value: Any) -> None:
        setattr(self.jobs, name, value)

    return property(get, set, doc=doc)


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
        limit = max_rows_per_job if max_rows_per_job is not None else getattr(backend, "max_circuits", None)
        if journal is None:
            journal = not is_local_simulator(backend)
        self.jobs = JobRunner(
            self.backend_name, self._primitive, lambda: self.result_options,
            None if journal is False else Journal(default_journal_path() if journal is True else journal),
            service if service is not None else getattr(backend, "service", None), bool(progress), callback,
            None if limit is None else check_shots(limit, "max_rows_per_job"),
            check_shots(max_executions_per_job, "max_executions_per_job"), float(poll_interval), timeout,
        )
        self._user_sampler = sampler
        self._user_estimator = estimator
        self._primitives: dict[Any, tuple[Any, Any]] = {}
        self._compiled: dict[tuple, _Compiled] = {}
        self._pass_manager = pass_manager(backend, optimization_level, self.seed)
        self.resume_summary: dict[str, int] | None = None

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

    # the job settings live on the runner; these names are the executor's public attributes
    journal = _runner_attribute("journal", "the job journal (``None`` when journaling is off)")
    service = _runner_attribute("service", "where jobs are fetched by id after a crash")
    progress = _runner_attribute("progress", "whether a tqdm bar of jobs is shown")
    callback = _runner_attribute("callback", "called with a dict on every submission and status change")
    max_rows_per_job = _runner_attribute("max_rows_per_job", "most parameter rows per job")
    max_executions_per_job = _runner_attribute("max_executions_per_job", "most shots x parameter sets per job")
    poll_interval = _runner_attribute("poll_interval", "seconds between status checks")
    timeout = _runner_attribute("timeout", "seconds to wait for a job (``None``: no limit)")
    submissions = _runner_attribute("submissions", "jobs this executor submitted")

    def fetch_finished(self) -> dict[str, int]:
        """Fetch and store the results of the journal's jobs that finished since they were submitted.

        Does not wait for jobs still queued or running.

        Returns:
            Counts of jobs by state: ``done``, ``failed``, ``pending``, ``unreachable``
            (no way to fetch it: no service, or the service does not know it).
        """
        return self.jobs.fetch_finished()

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

    # --- circuits ----------------------------------------------------------------------
    def _primitive(self, kind: str, seed: int | None) -> Any:
        user = self._user_sampler if kind == "sampler" else self._user_estimator
        if user is not None:
            return user
        pair = self._primitives.get(seed)
        if pair is None:
            pair = default_primitives(self.backend, self.mode, seed)
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
        check_supported(isa, self.backend.target, self.backend_name)
        compiled = _Compiled(isa, _structure_hash((circuit.key, purpose)))
        self._compiled[key] = compiled
        return compiled

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
        self.jobs.planning = []
        try:
            call(*args, **kwargs)
        except Planned:
            pass
        finally:
            planned, self.jobs.planning = self.jobs.planning, None
        if not planned:
            return {"primitive": None, "jobs": 0, "reused_from_journal": 0, "rows": 0, "shots": 0, "backend": self.backend_name}
        return planned[0]

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
            chunks = self.jobs.execute("sampler", compiled, values[:1], shots * batch, seed)
            bits = np.concatenate([unpack_bits(c) for c in chunks], axis=0).reshape(batch, shots, -1)
        else:
            chunks = self.jobs.execute("sampler", compiled, values, shots, seed)
            bits = np.concatenate([unpack_bits(c) for c in chunks], axis=0)
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
        chunks = self.jobs.execute(
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
        program, symbols, partials = circuit_partials(circuit, argnum, rows, w)
        plan = shift_plan(program, partials)
        d_angle = np.zeros((batch, k, len(plan.slots)))
        var_angle = np.zeros_like(d_angle)
        if plan.shifts:
            compiled = self._compile(circuit, "angles", lambda: plan.circuit)
            # the shift plan's circuit has one input x[slot] per angle: its parameters are elements of that vector
            columns = [int(p.index) for p in compiled.circuit.parameters]
            values = plan.rows(program, rows, w)[..., columns]  # (batch, 2 S, P) in compiled.circuit.parameters order
            chunks = self.jobs.execute(
                "estimator", compiled, values, shots, self._call_seed(seed), *self._mapped(obs_list, compiled, circuit.num_wires)
            )
            evs = np.concatenate([c["evs"] for c in chunks], axis=0).reshape(batch, 2 * len(plan.shifts), k)
            stds = np.concatenate([c["stds"] for c in chunks], axis=0).reshape(batch, 2 * len(plan.shifts), k)
            d_angle = plan.derivatives(evs)
            var_angle = plan.derivatives(stds**2, squared=True)
        out = chain_rule(d_angle, plan.slots, partials, batch, len(symbols))
        err = np.sqrt(chain_rule(var_angle, plan.slots, partials, batch, len(symbols), squared=True))
        return call.result((out, err), observables=True)
