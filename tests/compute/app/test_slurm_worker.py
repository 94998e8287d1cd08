"""The compute worker on a Slurm pool whose accounting lags, against the real test cluster.

The pool's ``slurm.conf`` is the cluster's own with the accounting daemon's port moved to
one where nothing listens: jobs are queued, run and followed by slurmctld as usual, while
``sacct`` cannot reach slurmdbd, as when slurmdbd is slow or down. A finished job's
accounting then never becomes final, so the worker must look at it again on later rounds
(not wait for it inside one), keep the leases of the jobs it holds renewed meanwhile,
and after the pool's ``accounting_wait_s`` finish the job with the usage the job itself
measured, saying so.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oneteam.compute import actions
from oneteam.compute.models import ComputePool, ExecutorKind, Job, JobState
from oneteam.compute.worker import ComputeWorker
from oneteam.consortium.models import Organization
from oneteam.platform.errors import InputError
from tests.compute.jobs import python_job
from tests.compute.slurm_cluster import Cluster
from tests.factories import make_organization

RUN_TIMEOUT_S = 120        # a bound on each wait; the jobs take seconds
ACCOUNTING_WAIT_S = 6      # the pool's bound on waiting for accounting
LEASE_S = 4                # far shorter than what waiting inside a round would take


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def provider() -> Organization:
    return make_organization()


@pytest.fixture
def lagging_pool(slurm_cluster: Cluster, tmp_path: Path, provider: Organization
                 ) -> ComputePool:
    """A Slurm pool on the test cluster whose accounting (sacct) cannot be reached."""
    conf = tmp_path / "no-accounting" / "slurm.conf"
    conf.parent.mkdir()
    text, count = re.subn(r"(?m)^AccountingStoragePort=\d+$",
                          f"AccountingStoragePort={_closed_port()}",
                          slurm_cluster.conf.read_text())
    assert count == 1
    conf.write_text(text)
    return actions.do_register_pool(
        actor=None, owner=provider, slug="lagging-slurm", name="Lagging accounting",
        executor=ExecutorKind.SLURM, capacity=3, gpus=1, price_cpu_hour=0,
        executor_settings={"shared_dir": str(tmp_path / "slurm-jobs"), "slurm_conf": str(conf),
                           "accounting_wait_s": ACCOUNTING_WAIT_S})


@pytest.fixture
def workers() -> Iterator[tuple[ComputeWorker, ComputeWorker]]:
    """The worker under test (short leases) and a rival that recovers what it lets go."""
    worker = ComputeWorker(lease_s=LEASE_S, poll_interval_s=0.05)
    rival = ComputeWorker()
    yield worker, rival
    worker.close()
    rival.close()


def _queue(provider: Organization, pool: ComputePool, prefix: str, code: str,
           **limits: object) -> Job:
    return actions.do_queue_job(spec=python_job(prefix, code, **limits), consumer=provider,
                                owner="test", title=prefix, submitted_by=None, pool=pool)


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_jobs_waiting_for_accounting_hold_up_nothing_and_keep_their_leases(
        provider: Organization, lagging_pool: ComputePool,
        workers: tuple[ComputeWorker, ComputeWorker]) -> None:
    worker, rival = workers
    shared = Path(lagging_pool.executor_settings["shared_dir"])
    long = _queue(provider, lagging_pool, "long", "import time; time.sleep(300)",
                  wall_seconds=600)
    quick = [_queue(provider, lagging_pool, "quick-cpu", "print(sum(range(10**6)))"),
             _queue(provider, lagging_pool, "quick-gpu", "print(6 * 7)", gpus=1)]

    # rounds in which a quick job had ended in Slurm (its own result written) while the
    # platform still waited for its accounting: each must be a round that returned
    waiting_rounds = {job.pk: 0 for job in quick}
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        worker.step()
        # a rival worker finds nothing to recover: every lease the worker holds is fresh
        rival.recover()
        assert rival.statistics()["held"] == 0
        assert not Job.objects.filter(state=JobState.QUEUED).exists()
        for job in quick:
            job.refresh_from_db()
            if job.state == JobState.RUNNING and (shared / job.job_id / "result.json").exists():
                waiting_rounds[job.pk] += 1
        if all(job.is_finished for job in quick):
            break
        assert time.monotonic() < deadline, "the quick jobs did not finish"
        time.sleep(0.05)

    # each was looked at again on later rounds, not waited for inside one
    assert all(rounds >= 2 for rounds in waiting_rounds.values()), waiting_rounds
    for job in quick:
        assert job.state == JobState.SUCCEEDED, (job.reason, job.detail)
        assert job.attempts == 1 and job.worker == worker.worker_id
        # finished with the usage the job measured, and the result says so
        enforcement = job.result["enforcement"]
        assert enforcement["usage"] == "job"
        assert "no final record" in enforcement["accounting"]
        assert enforcement["slurm_job"] == job.native_id
        assert job.cpu_seconds > 0
        assert not (shared / job.job_id).exists()
    cpu_job, gpu_job = quick
    assert cpu_job.gpu_seconds == 0
    # without accounting: the GPU requested for the job's wall time
    assert gpu_job.gpu_seconds == pytest.approx(gpu_job.wall_seconds) and gpu_job.wall_seconds > 0

    # the long job ran on undisturbed, held by the same worker, on its first attempt
    long.refresh_from_db()
    assert long.state == JobState.RUNNING and long.worker == worker.worker_id
    assert long.attempts == 1 and long.native_id.isdigit()

    # cancelled, it ends as cancelled although its accounting never comes
    actions.do_cancel_job(actor=None, job=long)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not long.is_finished:
        assert time.monotonic() < deadline, "the cancelled job did not finish"
        worker.step()
        rival.recover()
        assert rival.statistics()["held"] == 0
        time.sleep(0.05)
        long.refresh_from_db()
    assert long.state == JobState.CANCELLED
    assert long.result["enforcement"]["usage"] == "job"
    assert not any(shared.iterdir())


@pytest.mark.django_db
def test_a_slurm_pools_accounting_wait_is_a_bounded_whole_number(tmp_path: Path) -> None:
    owner = make_organization()

    def register(slug: str, value: object) -> ComputePool:
        return actions.do_register_pool(
            actor=None, owner=owner, slug=slug, name=slug, executor=ExecutorKind.SLURM,
            capacity=1, price_cpu_hour=0,
            executor_settings={"shared_dir": str(tmp_path), "accounting_wait_s": value})

    assert register("wait-int", 5).executor_settings["accounting_wait_s"] == 5
    assert register("wait-text", "12").executor_settings["accounting_wait_s"] == 12
    for slug, value in (("wait-neg", -1), ("wait-big", 10**6), ("wait-word", "soon"),
                        ("wait-float", 1.5)):
        with pytest.raises(InputError) as error:
            register(slug, value)
        assert error.value.field == "executor_settings.accounting_wait_s"
