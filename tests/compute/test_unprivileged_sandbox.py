"""The sandbox as an ordinary user would run it (unprivileged mode): bubblewrap makes a
user namespace itself, and the disk quota is a watch. Root starts it as ``nobody`` with
the system's Python (the project's may live where ``nobody`` cannot read)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from oneteam.compute.executors import (
    FailureReason,
    JobResult,
    JobSpec,
    Limits,
    SandboxConfig,
    SandboxRunner,
    Step,
)
from tests.compute.conftest import sandbox_or_skip

SYSTEM_PYTHON = "/usr/bin/python3"
NOBODY = 65534


@pytest.fixture(scope="module")
def runner() -> Iterator[SandboxRunner]:
    sandbox_or_skip()
    if os.geteuid() != 0 or not Path(SYSTEM_PYTHON).exists():
        pytest.skip("needs root (to start the sandbox as nobody) and the system's python3")
    # a folder nobody can reach (pytest's own temporary folders are private to root)
    jobs = Path(tempfile.mkdtemp(prefix="oneteam-unprivileged-"))
    jobs.chmod(0o711)
    runner = SandboxRunner(SandboxConfig(mode="unprivileged", run_as_uid=NOBODY,
                                         python_dirs=(), jobs_dir=jobs / "jobs"))
    yield runner
    runner.close()
    shutil.rmtree(jobs, ignore_errors=True)


def run(runner: SandboxRunner, code: str, **limits: int) -> JobResult:
    values = {"wall_seconds": 15, "processes": 32, "disk_bytes": 32 << 20, **limits}
    return runner.run(JobSpec(job_id="unprivileged", steps=(
        Step("run", (SYSTEM_PYTHON, "-c", code)),), limits=Limits(**values)))


def test_a_job_runs_as_the_unprivileged_user(runner: SandboxRunner) -> None:
    result = run(runner, "import os; print(os.getuid())")
    assert result.succeeded, result.detail
    assert result.steps[0].stdout_tail == f"{NOBODY}\n".encode()
    assert result.enforcement["mode"] == "unprivileged"
    assert result.enforcement["disk"] == "watch+rlimit"


def test_limits_hold_without_privileges(runner: SandboxRunner) -> None:
    bomb = "import os\nwhile True:\n    try: os.fork()\n    except OSError: pass"
    assert run(runner, bomb).reason is FailureReason.PROCESS_LIMIT
    fill = "f = open('/work/x', 'wb')\nwhile True: f.write(b'0' * (1 << 20))"
    assert run(runner, fill).reason is FailureReason.DISK_LIMIT
    userns = ("import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
              "print(libc.unshare(0x10000000))")
    assert run(runner, userns).steps[0].stdout_tail == b"-1\n"
    network = "import socket; socket.create_connection(('1.1.1.1', 80), timeout=3)"
    result = run(runner, network)
    assert b"Network is unreachable" in result.steps[0].stderr_tail
