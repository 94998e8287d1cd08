"""The Slurm executor against a real single-node cluster (slow: the cluster starts once per
session), and the parsing of what Slurm's commands print."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from oneteam.compute.executors import (
    Executor,
    FailureReason,
    JobState,
    SlurmConfig,
    SlurmExecutor,
    SpecError,
)
from oneteam.compute.executors.slurm import gpus_in_tres, parse_duration
from tests.compute.jobs import python_job
from tests.compute.slurm_cluster import Cluster


def test_slurm_durations_and_tres_are_parsed() -> None:
    assert parse_duration("00:00.404") == pytest.approx(0.404)
    assert parse_duration("01:02:03") == 3723
    assert parse_duration("2-00:00:01") == 2 * 86400 + 1
    assert parse_duration("12:34.5") == pytest.approx(754.5)
    with pytest.raises(ValueError):
        parse_duration("soon")
    assert gpus_in_tres("billing=1,cpu=1,gres/gpu=2,mem=100M,node=1") == 2
    assert gpus_in_tres("cpu=1,gres/gpu:a100=1,gres/gpu=1,mem=1G") == 2
    assert gpus_in_tres("cpu=4,mem=1G,node=1") == 0
    assert gpus_in_tres("") == 0


@pytest.fixture(scope="module")
def slurm(slurm_cluster: Cluster) -> SlurmExecutor:
    return SlurmExecutor(SlurmConfig(shared_dir=slurm_cluster.directory / "jobs",
                                     env=slurm_cluster.env, poll_interval_s=0.3))


@pytest.mark.slow
def test_a_gpu_job_runs_sandboxed_and_is_accounted(slurm: SlurmExecutor) -> None:
    assert isinstance(slurm, Executor)
    code = ("import os, time\n"
            "x = sum(range(30_000_000))\n"
            "time.sleep(2.5)\n"
            "print('gpus', os.environ.get('CUDA_VISIBLE_DEVICES'), 'uid', os.getuid())")
    spec = python_job("slurm-gpu", code, gpus=1, wall_seconds=60)
    handle = slurm.submit(spec)
    assert slurm.poll(handle) in (JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED)
    result = slurm.result(handle, timeout_s=120)
    assert result.succeeded, result.detail
    assert result.executor == "slurm"
    out = result.steps[0].stdout_tail.decode()
    assert out.startswith("gpus 0 uid ") and " uid 0" not in out   # sandboxed, not root
    assert result.enforcement["usage"] == "sacct"
    assert result.enforcement["mode"] == "privileged"
    assert result.cpu_seconds > 0.2                        # TotalCPU from sacct
    assert result.gpu_seconds >= 2                         # 1 GPU × ElapsedRaw (no real GPU)
    assert slurm.poll(handle) is JobState.SUCCEEDED
    with pytest.raises(SpecError):
        slurm.submit(spec)  # a job id is used once per shared directory


@pytest.mark.slow
def test_a_cpu_job_has_no_gpu_seconds_and_limits_apply(slurm: SlurmExecutor) -> None:
    handle = slurm.submit(python_job("slurm-mem", "block = bytearray(50 << 30)",
                                     memory_bytes=256 << 20))
    result = slurm.result(handle, timeout_s=120)
    assert result.state is JobState.FAILED
    assert result.reason is FailureReason.MEMORY_LIMIT
    assert result.gpu_seconds == 0


@pytest.mark.slow
def test_cancelling_a_slurm_job(slurm: SlurmExecutor) -> None:
    handle = slurm.submit(python_job("slurm-cancel", "import time; time.sleep(120)",
                                     wall_seconds=300))
    deadline = time.monotonic() + 60
    while slurm.poll(handle) is not JobState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.3)
    slurm.cancel(handle)
    result = slurm.result(handle, timeout_s=120)
    assert result.state is JobState.CANCELLED
    assert result.reason is FailureReason.CANCELLED
    slurm.forget(handle)
    assert not (Path(slurm.config.shared_dir) / handle.job_id).exists()
