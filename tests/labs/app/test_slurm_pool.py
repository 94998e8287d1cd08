"""A submission's whole path on a Slurm pool: the lab's job queued on a pool whose executor
is a real Slurm cluster (``tests/compute/slurm_cluster.py``), submitted with ``sbatch`` by
the compute worker, followed until ``sacct`` reports its end, graded, its usage taken
from Slurm's accounting; a failing submission failed clearly; and a worker that stopped
mid-job replaced by one that adopts the Slurm job rather than running it again.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from oneteam.compute import actions as compute_actions
from oneteam.compute.executors.slurm import parse_duration
from oneteam.compute.models import Charge, ComputePool, ExecutorKind, Job, JobState
from oneteam.compute.worker import ComputeWorker
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
