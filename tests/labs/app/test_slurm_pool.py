"""A submission's whole path on a Slurm pool: the lab's job queued on a pool whose executor
is a real Slurm cluster (``tests/compute/slurm_cluster.py``), submitted with ``sbatch`` by
the compute worker, followed until ``sacct`` reports its end, graded, its usage taken
from Slurm's accounting; a failing submission failed clearly; and a worker that stopped
mid-job replaced by one that adopts the Slurm job rather than running it again, also when
it stopped between ``sbatch`` and saving the Slurm job's id, and one that stopped before
``sbatch`` leaving nothing behind when the job runs again.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from oneteam.compute import actions as compute_actions
from oneteam.compute.executors import Executor, JobHandle, JobSpec, SlurmExecutor
from oneteam.compute.executors.slurm import parse_duration
from oneteam.compute.models import Charge, ComputePool, ExecutorKind, Job, JobState
from oneteam.compute.worker import ComputeWorker, make_executor
from oneteam.labs.models import SubmissionState
from tests.compute.conftest import slurm_cluster  # noqa: F401 - fixture
from tests.compute.slurm_cluster import Cluster
from tests.factories.labs import reference_file, submit_files
from tests.labs.app.conftest import Classroom

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RUN_TIMEOUT_S = 120   # a bound on each wait; the jobs take seconds


@pytest.fixture
def slurm_pool(classroom: Classroom, slurm_cluster: Cluster,  # noqa: F811
               tmp_path: Path) -> ComputePool:
    """The university's Slurm pool, its only active one (its local pool stops taking jobs)."""
    compute_actions.do_update_pool(actor=None, pool=classroom.pool, active=False)
    shared = tmp_path / "slurm-jobs"
    return compute_actions.do_register_pool(
        actor=None, owner=classroom.university, slug="kaist-slurm", name="KAIST cluster",
        executor=ExecutorKind.SLURM, capacity=2, price_cpu_hour=0,
        executor_settings={"shared_dir": str(shared), "slurm_conf": str(slurm_cluster.conf)})


@pytest.fixture
def slurm_worker() -> Iterator[ComputeWorker]:
    running = ComputeWorker(poll_interval_s=0.05)
    yield running
    running.close()


def sacct_cpu_seconds(cluster: Cluster, slurm_id: str) -> float:
    """The job's CPU time as Slurm's accounting has it (``TotalCPU``; on versions that leave
    the allocation's line empty, its steps' sum)."""
    output = subprocess.run(
        ["sacct", "-j", slurm_id, "--parsable2", "--noheader", "--format=JobID,TotalCPU"],
        env={**os.environ, **cluster.env}, capture_output=True, text=True,
        timeout=30, check=True).stdout
    rows = [line.split("|") for line in output.splitlines() if "|" in line]
    total = next(parse_duration(cpu) for job_id, cpu in rows if job_id == slurm_id and cpu)
    if total == 0:
        total = sum(parse_duration(cpu) for job_id, cpu in rows
                    if job_id.startswith(f"{slurm_id}.") and cpu)
    return total


def test_a_reference_solution_is_graded_on_slurm_with_sacct_usage(
        classroom: Classroom, slurm_pool: ComputePool, slurm_cluster: Cluster,  # noqa: F811
        slurm_worker: ComputeWorker) -> None:
    submission = submit_files(classroom.learner, classroom.lab,
                              {"solution.py": reference_file("digits")})
    assert submission.job is not None and submission.job.pool == slurm_pool
    slurm_worker.run_until_idle(timeout_s=RUN_TIMEOUT_S)

    submission.refresh_from_db()
    assert submission.state == SubmissionState.GRADED, (submission.reason, submission.detail)
    assert submission.score == submission.max_score and submission.metric > 0.95
    job = Job.objects.get(pk=submission.job_id)
    assert job.state == JobState.SUCCEEDED and job.attempts == 1
    # it ran as a Slurm batch job, and the worker followed it to its end
    assert job.native_id.isdigit()
    assert job.result["executor"] == "slurm"
    assert job.result["enforcement"]["slurm_job"] == job.native_id
    # its usage is Slurm's accounting, not the sandbox's own measure
    assert job.result["enforcement"]["usage"] == "sacct"
    assert job.cpu_seconds > 0
    assert job.cpu_seconds == pytest.approx(sacct_cpu_seconds(slurm_cluster, job.native_id))
    assert job.gpu_seconds == 0
    # charged from that usage: the university's own pool costs it nothing
    assert job.pool.cost(job.cpu_seconds, job.gpu_seconds) == 0
    assert not Charge.objects.filter(job=job).exists()
    # the job's folder on the shared file system is gone once the result is recorded
    assert not any(Path(slurm_pool.executor_settings["shared_dir"]).iterdir())


def test_a_submission_over_its_memory_limit_fails_clearly_on_slurm(
        classroom: Classroom, slurm_pool: ComputePool, slurm_worker: ComputeWorker) -> None:
    submission = submit_files(classroom.learner, classroom.lab,
                              {"solution.py": b"block = bytearray(50 * 1024 ** 3)\n"})
    slurm_worker.run_until_idle(timeout_s=RUN_TIMEOUT_S)

    submission.refresh_from_db()
    assert submission.state == SubmissionState.FAILED
    assert submission.reason == "memory_limit", (submission.reason, submission.detail)
    assert submission.detail and submission.score is None
    job = Job.objects.get(pk=submission.job_id)
    assert job.state == JobState.FAILED and job.reason == "memory_limit"
    assert job.native_id.isdigit() and job.result["enforcement"]["usage"] == "sacct"


def test_a_worker_that_stopped_mid_job_is_replaced_by_one_that_adopts_it(
        classroom: Classroom, slurm_pool: ComputePool, slurm_worker: ComputeWorker) -> None:
    submission = submit_files(classroom.learner, classroom.lab,
                              {"solution.py": reference_file("digits")})
    # the first worker submits the job to Slurm, then stops (its lease lasts a second)
    stopped = ComputeWorker(lease_s=1)
    assert stopped.dispatch() == 1
    job = Job.objects.get(pk=submission.job_id)
    assert job.state == JobState.RUNNING and job.worker == stopped.worker_id
    slurm_id = job.native_id
    assert slurm_id.isdigit()
    deadline = time.monotonic() + 30
    while timezone.now() <= job.lease_until:
        assert time.monotonic() < deadline, "the lease did not run out"
        time.sleep(0.1)

    # a new worker adopts the running Slurm job and follows it to its end
    slurm_worker.run_until_idle(timeout_s=RUN_TIMEOUT_S)
    job.refresh_from_db()
    assert job.worker == slurm_worker.worker_id
    assert job.state == JobState.SUCCEEDED
    assert (job.attempts, job.native_id) == (1, slurm_id)   # the same run, not a second one
    assert job.result["enforcement"]["slurm_job"] == slurm_id
    assert job.result["enforcement"]["usage"] == "sacct" and job.cpu_seconds > 0
    submission.refresh_from_db()
    assert submission.state == SubmissionState.GRADED, (submission.reason, submission.detail)
    assert submission.score == submission.max_score


class WorkerDied(BaseException):
    """Stands in for the worker's process being killed at a chosen moment."""


class DyingExecutor:
    """A pool's real Slurm executor in a worker that dies inside ``submit``: before
    ``sbatch`` (the job's folder written), or right after it, with the Slurm job's id
    written in the folder or not yet (``lose_id``)."""

    def __init__(self, executor: Executor, *, before_sbatch: bool = False,
                 lose_id: bool = False) -> None:
        assert isinstance(executor, SlurmExecutor)
        self.executor = executor
        self.before_sbatch = before_sbatch
        self.lose_id = lose_id
        self.submitted: list[JobHandle] = []

    def submit(self, spec: JobSpec) -> JobHandle:
        directory = self.executor.config.shared_dir / spec.job_id
        if self.before_sbatch:
            directory.mkdir()
            self.executor._write_job(spec, directory)
            raise WorkerDied
        handle = self.executor.submit(spec)
        self.submitted.append(handle)
        if self.lose_id:
            (directory / "slurm_id").unlink()
        raise WorkerDied

    def __getattr__(self, name: str) -> Any:
        return getattr(self.executor, name)


def slurm_jobs_in(cluster: Cluster, shared: Path) -> list[str]:
    """The Slurm jobs (their ids) that ran or wait in a folder under ``shared``, ended ones
    included (the test cluster keeps them for ``MinJobAge``, 600 s)."""
    output = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i|%Z"],
                            env={**os.environ, **cluster.env}, capture_output=True,
                            text=True, timeout=30, check=True).stdout
    rows = [line.split("|", 1) for line in output.splitlines() if "|" in line]
    return sorted(slurm_id for slurm_id, folder in rows
                  if folder.startswith(f"{shared}/"))


def _die_in_submit(dying: DyingExecutor, job_id: int) -> Job:
    """A worker with a one-second lease claims the job and dies in ``submit``; returns the
    job once that lease has run out."""
    stopped = ComputeWorker(lease_s=1, executor_factory=lambda pool: dying)
    with pytest.raises(WorkerDied):
        stopped.dispatch()
    job = Job.objects.get(pk=job_id)
    assert job.state == JobState.RUNNING and job.worker == stopped.worker_id
    assert job.native_id == ""          # the Slurm job's id was never saved
    assert job.lease_until is not None
    deadline = time.monotonic() + 30
    while timezone.now() <= job.lease_until:
        assert time.monotonic() < deadline, "the lease did not run out"
        time.sleep(0.1)
    return job


@pytest.mark.parametrize("lose_id", [False, True], ids=["id-in-folder", "id-lost"])
def test_a_worker_that_died_right_after_sbatch_has_its_slurm_job_adopted_not_run_again(
        classroom: Classroom, slurm_pool: ComputePool, slurm_cluster: Cluster,  # noqa: F811
        slurm_worker: ComputeWorker, lose_id: bool) -> None:
    shared = Path(slurm_pool.executor_settings["shared_dir"])
    submission = submit_files(classroom.learner, classroom.lab,
                              {"solution.py": reference_file("digits")})
    assert submission.job_id is not None
    dying = DyingExecutor(make_executor(slurm_pool), lose_id=lose_id)
    job = _die_in_submit(dying, submission.job_id)
    [handle] = dying.submitted
    assert slurm_jobs_in(slurm_cluster, shared) == [handle.native_id]

    # a new worker finds the Slurm job from the job's id (the id file in its folder, else
    # Slurm's job name and folder) and follows it to its end
    slurm_worker.run_until_idle(timeout_s=RUN_TIMEOUT_S)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, (job.reason, job.detail)
    assert job.worker == slurm_worker.worker_id
    assert (job.attempts, job.native_id) == (1, handle.native_id)  # the same run
    assert job.result["enforcement"]["slurm_job"] == handle.native_id
    submission.refresh_from_db()
    assert submission.state == SubmissionState.GRADED, (submission.reason, submission.detail)
    assert submission.score == submission.max_score
    # one run in all, and nothing left in the shared folder
    assert slurm_jobs_in(slurm_cluster, shared) == [handle.native_id]
    assert not any(shared.iterdir())


def test_a_worker_that_died_before_sbatch_leaves_nothing_behind_and_the_job_runs_once(
        classroom: Classroom, slurm_pool: ComputePool, slurm_cluster: Cluster,  # noqa: F811
        slurm_worker: ComputeWorker) -> None:
    shared = Path(slurm_pool.executor_settings["shared_dir"])
    submission = submit_files(classroom.learner, classroom.lab,
                              {"solution.py": reference_file("digits")})
    assert submission.job_id is not None
    job = _die_in_submit(DyingExecutor(make_executor(slurm_pool), before_sbatch=True),
                         submission.job_id)
    first_folder = shared / job.job_id
    assert (first_folder / "job.sh").exists()
    assert slurm_jobs_in(slurm_cluster, shared) == []

    # the new worker finds no Slurm job for it: removes its folder, queues it again, runs it
    slurm_worker.run_until_idle(timeout_s=RUN_TIMEOUT_S)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, (job.reason, job.detail)
    assert job.attempts == 2 and job.native_id.isdigit()
    submission.refresh_from_db()
    assert submission.state == SubmissionState.GRADED, (submission.reason, submission.detail)
    assert slurm_jobs_in(slurm_cluster, shared) == [job.native_id]
    assert not first_folder.exists() and not any(shared.iterdir())


def test_a_worker_too_slow_to_submit_cancels_its_run_when_another_queued_the_job_again(
        classroom: Classroom, slurm_pool: ComputePool, slurm_cluster: Cluster,  # noqa: F811
        slurm_worker: ComputeWorker) -> None:
    shared = Path(slurm_pool.executor_settings["shared_dir"])
    submission = submit_files(classroom.learner, classroom.lab,
                              {"solution.py": reference_file("digits")})
    executor = make_executor(slurm_pool)
    submitted: list[JobHandle] = []

    class Slow:
        """Submits only after its worker's lease ran out and another worker recovered the
        job (which finds no Slurm job yet, and queues it again)."""

        def submit(self, spec: JobSpec) -> JobHandle:
            job = Job.objects.get(pk=submission.job_id)
            assert job.lease_until is not None
            deadline = time.monotonic() + 30
            while timezone.now() <= job.lease_until:
                assert time.monotonic() < deadline, "the lease did not run out"
                time.sleep(0.1)
            slurm_worker.recover()
            assert Job.objects.get(pk=job.pk).state == JobState.QUEUED
            submitted.append(executor.submit(spec))
            return submitted[-1]

        def __getattr__(self, name: str) -> Any:
            return getattr(executor, name)

    slow = ComputeWorker(lease_s=1, executor_factory=lambda pool: Slow())
    claimed = slow._claim(slurm_pool)       # dispatch's two parts, without a second round
    assert claimed is not None and claimed.pk == submission.job_id
    slow._start(claimed)
    [late] = submitted
    # the slow worker saw the job was no longer its own: it cancelled its run, removed
    # its folder, and follows nothing
    assert slow.statistics()["held"] == 0
    assert not (shared / late.job_id).exists()

    slurm_worker.run_until_idle(timeout_s=RUN_TIMEOUT_S)
    job = Job.objects.get(pk=submission.job_id)
    assert job.state == JobState.SUCCEEDED, (job.reason, job.detail)
    assert job.attempts == 2 and job.native_id != late.native_id
    submission.refresh_from_db()
    assert submission.state == SubmissionState.GRADED, (submission.reason, submission.detail)
    # the late run was cancelled (at most it started; it never ran beside the next one)
    assert slurm_jobs_in(slurm_cluster, shared) == sorted([late.native_id, job.native_id])
    state = subprocess.run(["squeue", "-h", "-t", "all", "-j", late.native_id, "-o", "%T"],
                           env={**os.environ, **slurm_cluster.env}, capture_output=True,
                           text=True, timeout=30, check=True).stdout.strip()
    assert state == "CANCELLED"
    assert not any(shared.iterdir())
