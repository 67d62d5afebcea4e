"""Job journal and resume: a crash after submission is resumed without resubmitting; failed jobs
raise errors naming the job and the journal, and finished work is kept."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("qiskit_aer")

from qiskit.primitives import BaseSamplerV2, StatevectorEstimator, StatevectorSampler  # noqa: E402
from qiskit_aer import AerSimulator  # noqa: E402

from qmlsim.circuits import Circuit, Z  # noqa: E402
from qmlsim.simulators import QiskitExecutor, Simulator  # noqa: E402
from qmlsim.simulators.executors.journal import Journal  # noqa: E402
from qmlsim.simulators.executors.qiskit import QiskitJobError  # noqa: E402

SHOTS = 2000


class CountingSampler(BaseSamplerV2):
    """A V2 sampler that counts submissions and keeps its jobs, like a service that can fetch them by id."""

    def __init__(self, seed: int = 1):
        self.inner = StatevectorSampler(seed=seed)
        self.jobs: dict[str, object] = {}
        self.submitted = 0

    def run(self, pubs, *, shots=None):
        job = self.inner.run(pubs, shots=shots)
        self.submitted += 1
        self.jobs[job.job_id()] = job
        return job


class FakeService:
    """Stands in for QiskitRuntimeService: fetches jobs by id and backends by name."""

    def __init__(self, sampler: CountingSampler, backend):
        self.sampler = sampler
        self._backend = backend
        self.fetched: list[str] = []

    def job(self, job_id):
        self.fetched.append(job_id)
        return self.sampler.jobs[job_id]

    def backend(self, name):
        assert name == self._backend.name
        return self._backend


class FailingJob:
    """A job the backend cancelled."""

    def __init__(self, job_id: str):
        self._id = job_id

    def job_id(self):
        return self._id

    def status(self):
        return "CANCELLED"

    def error_message(self):
        return "cancelled by the provider"

    def result(self):
        raise RuntimeError("job was cancelled")


class FailSecondSampler(BaseSamplerV2):
    """Runs the first job, cancels every later one."""

    def __init__(self):
        self.inner = StatevectorSampler(seed=2)
        self.submitted = 0

    def run(self, pubs, *, shots=None):
        self.submitted += 1
        if self.submitted == 1:
            return self.inner.run(pubs, shots=shots)
        return FailingJob(f"bad-{self.submitted}")


class Crash(BaseException):
    """An interruption that is not an Exception (like KeyboardInterrupt)."""


def _circuit() -> tuple[Circuit, np.ndarray]:
    c = Circuit(2)
    x = c.inputs(2)
    c.ry(x[0], 0).cx(0, 1).rx(x[1], 1)
    return c, np.random.default_rng(0).uniform(0, np.pi, (4, 2))


def test_journal_records_round_trip_and_survive_a_cut_last_line(tmp_path):
    path = tmp_path / "jobs.jsonl"
    journal = Journal(path)
    params = np.arange(6.0).reshape(3, 2)
    journal.record_submission("a", task="t", chunk=0, primitive="sampler", backend="aer", circuit="c", parameters=params, shots=5)
    journal.record_submission("b", task="t", chunk=0, primitive="sampler", backend="aer", circuit="c", parameters=params, shots=5)
    journal.record_result("a", {"evs": np.ones(2)})
    journal.record_failure("b", "ERROR", "boom")
    with path.open("a") as handle:
        handle.write('{"event": "submitted", "job_id": "c", "ta')  # a crash mid-write
    lines = [json.loads(line) for line in path.read_text().splitlines()[:-1]]
    assert [line["event"] for line in lines] == ["submitted", "submitted", "done", "failed"]
    again = Journal(path)
    assert [(j["job_id"], j["status"]) for j in again.jobs()] == [("a", "done"), ("b", "failed")]
    np.testing.assert_array_equal(again.parameters("a"), params)
    np.testing.assert_array_equal(again.result("a")["evs"], [1.0, 1.0])
    assert again.result("b") is None
    # earlier jobs are handed out once each, failed ones never
    assert again.previous("t", 0) == "a" and again.previous("t", 0) is None
    np.save(again.data_dir / again.job("a")["parameters"], params + 1)
    with pytest.raises(ValueError, match="modified"):
        again.parameters("a")
    with pytest.raises(KeyError, match="jobs.jsonl"):
        again.job("zzz")


def test_crash_after_submission_resumes_without_resubmitting(tmp_path):
    path = tmp_path / "run.jsonl"
    backend = AerSimulator()
    sampler = CountingSampler()
    c, x = _circuit()

    def crash_on_submit(event):
        if event["event"] == "submitted":
            raise Crash

    ex = QiskitExecutor(backend, shots=SHOTS, sampler=sampler, journal=path, callback=crash_on_submit)
    with pytest.raises(Crash):
        ex.probs(c, x=x)
    assert sampler.submitted == 1
    (record,) = Journal(path).jobs()
    assert record["status"] == "submitted" and record["shots"] == SHOTS
    np.testing.assert_array_equal(Journal(path).parameters(record["job_id"]).shape, (4, 2))

    sampler.jobs[record["job_id"]].result()  # the provider finishes the job while the script is down
    service = FakeService(sampler, backend)
    resumed = QiskitExecutor.resume(path, service, shots=SHOTS, sampler=sampler)
    assert resumed.resume_summary == {"done": 1, "failed": 0, "pending": 0, "unreachable": 0}
    assert service.fetched == [record["job_id"]]
    p = resumed.probs(c, x=x)  # the same call as before the crash
    assert sampler.submitted == 1 and resumed.submissions == 0
    reference = Simulator().probs(c, x=x)
    np.testing.assert_array_less(np.abs(p - reference), 5 * np.sqrt(reference * (1 - reference) / SHOTS) + 2e-3)
    # new work is still submitted
    resumed.probs(c, x=x[:2])
    assert sampler.submitted == 2


def test_resume_waits_for_jobs_still_running(tmp_path):
    path = tmp_path / "pending.jsonl"
    backend = AerSimulator()
    sampler = CountingSampler()
    c, x = _circuit()

    def crash_on_submit(event):
        if event["event"] == "submitted":
            raise Crash

    with pytest.raises(Crash):
        QiskitExecutor(backend, shots=SHOTS, sampler=sampler, journal=path, callback=crash_on_submit).sample(c, x=x)
    service = FakeService(sampler, backend)
    resumed = QiskitExecutor.resume(path, service, shots=SHOTS, sampler=sampler)
    summary = resumed.resume_summary
    assert summary["done"] + summary["pending"] == 1
    bits = resumed.sample(c, x=x)
    assert bits.shape == (4, SHOTS, 2) and sampler.submitted == 1
    (record,) = Journal(path).jobs()
    assert record["status"] == "done"


def test_rerunning_with_the_same_journal_reuses_stored_results(tmp_path):
    path = tmp_path / "est.jsonl"
    c, x = _circuit()
    first = QiskitExecutor(AerSimulator(), shots=SHOTS, estimator=StatevectorEstimator(seed=1), journal=path)
    a = first.expval(c, [Z(0), Z(1)], x=x)
    second = QiskitExecutor(AerSimulator(), shots=SHOTS, estimator=StatevectorEstimator(seed=9), journal=path)
    b = second.expval(c, [Z(0), Z(1)], x=x)
    assert second.submissions == 0
    np.testing.assert_array_equal(a, b)
    second.expval(c, [Z(0), Z(1)], x=x)  # within one session the same call runs again
    assert second.submissions == 1


def test_failed_job_names_job_and_journal_and_keeps_finished_chunks(tmp_path):
    path = tmp_path / "fail.jsonl"
    c, x = _circuit()
    sampler = FailSecondSampler()
    ex = QiskitExecutor(AerSimulator(), shots=100, sampler=sampler, journal=path, max_rows_per_job=2)
    with pytest.raises(QiskitJobError) as info:
        ex.sample(c, x=x)
    message = str(info.value)
    assert "bad-2" in message and str(path) in message and "QiskitExecutor.resume" in message
    assert info.value.job_id == "bad-2"
    statuses = {j["job_id"]: j["status"] for j in Journal(path).jobs()}
    assert statuses["bad-2"] == "failed" and list(statuses.values()).count("done") == 1
    # rerunning resubmits only the failed chunk
    retry_sampler = CountingSampler()
    retry = QiskitExecutor(AerSimulator(), shots=100, sampler=retry_sampler, journal=path, max_rows_per_job=2)
    bits = retry.sample(c, x=x)
    assert bits.shape == (4, 100, 2) and retry_sampler.submitted == 1


def test_progress_reports_submitted_status_and_done(tmp_path):
    events: list[dict] = []
    c, x = _circuit()
    ex = QiskitExecutor(AerSimulator(), shots=50, seed=1, journal=tmp_path / "p.jsonl", callback=events.append, max_rows_per_job=2)
    ex.sample(c, x=x)
    kinds = [e["event"] for e in events]
    assert kinds.count("submitted") == 2 and kinds.count("done") == 2
    assert {e["status"] for e in events if e["event"] == "status"} <= {"QUEUED", "RUNNING", "INITIALIZING", "DONE"}
    assert events[-1]["done"] == events[-1]["total"] == 2


def test_resume_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="no journal"):
        QiskitExecutor.resume(tmp_path / "missing.jsonl", AerSimulator())
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ValueError, match="nothing to resume"):
        QiskitExecutor.resume(tmp_path / "empty.jsonl", AerSimulator())


class UnreachableJob:
    """A job whose status cannot be read: the connection is gone."""

    def __init__(self, inner):
        self.inner = inner

    def job_id(self):
        return self.inner.job_id()

    def status(self):
        raise ConnectionError("connection reset by peer")


class DisconnectingSampler(CountingSampler):
    def run(self, pubs, *, shots=None):
        return UnreachableJob(super().run(pubs, shots=shots))


def test_lost_connection_keeps_the_job_for_resume(tmp_path):
    path = tmp_path / "lost.jsonl"
    backend = AerSimulator()
    sampler = DisconnectingSampler()
    c, x = _circuit()
    with pytest.raises(QiskitJobError, match="connection reset") as info:
        QiskitExecutor(backend, shots=SHOTS, sampler=sampler, journal=path).probs(c, x=x)
    (record,) = Journal(path).jobs()
    assert record["status"] == "submitted" and info.value.job_id == record["job_id"]
    assert str(path) in str(info.value)
    service = FakeService(sampler, backend)  # the connection is back: the service returns the real job
    resumed = QiskitExecutor.resume(path, service, shots=SHOTS, sampler=sampler)
    resumed.probs(c, x=x)
    assert sampler.submitted == 1 and resumed.submissions == 0


def test_resume_restores_the_recorded_options_and_never_pays_twice(tmp_path):
    # the newcomer's trap: resume(path, backend) without the original shots=1000, seed=1
    path = tmp_path / "run1.jsonl"
    c, x = _circuit()
    backend = AerSimulator()
    first = QiskitExecutor(backend, shots=1000, seed=1, journal=path)
    values = first.expval(c, Z(0), x=x)
    jobs_before = len(Journal(path).jobs())
    resumed = QiskitExecutor.resume(path, backend)
    assert resumed.shots == 1000 and resumed.seed == 1
    again = resumed.expval(c, Z(0), x=x)
    assert resumed.submissions == 0 and len(Journal(path).jobs()) == jobs_before
    np.testing.assert_array_equal(again, values)
    with pytest.raises(ValueError, match="shots=1000"):
        QiskitExecutor.resume(path, backend, shots=500)


def test_the_same_work_under_other_options_raises_instead_of_resubmitting(tmp_path):
    path = tmp_path / "run2.jsonl"
    c, x = _circuit()
    backend = AerSimulator()
    QiskitExecutor(backend, shots=1000, seed=1, journal=path).expval(c, Z(0), x=x)
    other = QiskitExecutor(backend, shots=4000, seed=1, journal=path)
    with pytest.raises(ValueError, match=r"shots=1000 \(now 4000\)"):
        other.expval(c, Z(0), x=x)
    assert other.submissions == 0
    other.expval(c, Z(0), x=x[:2])  # other work is not blocked
    assert other.submissions == 1


def test_estimate_reports_the_jobs_and_submits_nothing(tmp_path):
    path = tmp_path / "plan.jsonl"
    c, x = _circuit()
    sampler = CountingSampler()
    ex = QiskitExecutor(AerSimulator(), shots=300, sampler=sampler, journal=path, max_rows_per_job=3)
    plan = ex.estimate("probs", c, x=x)
    assert plan == {"primitive": "sampler", "jobs": 2, "reused_from_journal": 0, "rows": 4, "shots": 1200,
                    "backend": ex.backend_name}
    assert sampler.submitted == 0 and ex.submissions == 0 and Journal(path).jobs() == []
    ex.probs(c, x=x)
    assert sampler.submitted == 2
    later = QiskitExecutor(AerSimulator(), shots=300, sampler=sampler, journal=path, max_rows_per_job=3)
    assert later.estimate("probs", c, x=x)["reused_from_journal"] == 2
    with pytest.raises(ValueError, match="unknown executor method"):
        ex.estimate("_execute")
