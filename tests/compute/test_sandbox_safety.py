"""What a hostile or broken submission can do in the local sandbox: fail, clearly, alone.

Each case gets a failed result naming the limit, and leaves the worker (this process),
the machine and the other jobs unharmed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import psutil
import pytest

from oneteam.compute.executors import (
    FailureReason,
    JobSpec,
    JobState,
    Limits,
    LocalSandbox,
    Mount,
    Step,
)
from tests.compute.jobs import python_job, unique

# searches the whole file system that a job sees, but for the kernel's and the system's
FIND = ("import os\n"
        "def find(name):\n"
        "    found = []\n"
        "    for top, dirs, files in os.walk('/'):\n"
        "        if top == '/':\n"
        "            dirs[:] = [d for d in dirs if d not in ('proc', 'sys', 'dev', 'usr')]\n"
        "        found += [os.path.join(top, f) for f in files if f == name]\n"
        "    return found\n")


def assert_machine_fine(sandbox: LocalSandbox) -> None:
    """After a bad job: a normal job still runs, and this process can still fork."""
    result = sandbox.result(sandbox.submit(python_job("fine", "print(6 * 7)")), timeout_s=60)
    assert result.succeeded, result.detail
    assert result.steps[0].stdout_tail == b"42\n"
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0


def test_opening_a_socket_finds_no_network(sandbox: LocalSandbox) -> None:
    code = ("import socket\n"
            "s = socket.socket()\n"
            "s.settimeout(5)\n"
            "s.connect(('1.1.1.1', 80))")
    result = sandbox.result(sandbox.submit(python_job("socket", code)), timeout_s=60)
    assert result.state is JobState.FAILED
    assert result.reason is FailureReason.EXIT_STATUS
    assert b"Network is unreachable" in result.steps[0].stderr_tail
    # names do not resolve either, and only loopback exists
    code = ("import socket, os\n"
            "print(sorted(os.listdir('/sys/class/net')) if os.path.exists('/sys/class/net') "
            "else 'no sysfs')\n"
            "socket.getaddrinfo('example.org', 80)")
    result = sandbox.result(sandbox.submit(python_job("dns", code)), timeout_s=60)
    assert result.state is JobState.FAILED
    assert b"gaierror" in result.steps[0].stderr_tail


def test_hidden_data_is_not_there_during_the_run_step(sandbox: LocalSandbox,
                                                      tmp_path: Path) -> None:
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "labels.csv").write_text("secret answers")
    for path in (tmp_path, hidden):
        path.chmod(0o755)
    spy = FIND + "print('found', find('labels.csv'), os.path.exists('/hidden'))"
    grade = ("print(open('/hidden/labels.csv').read())")
    spec = JobSpec(job_id=unique("hidden"), steps=(
        Step("run", ("python", "-c", spy)),
        Step("grade", ("python", "-c", grade), mounts=(Mount(hidden, "/hidden"),),
             results=True)), limits=Limits(wall_seconds=60))
    result = sandbox.result(sandbox.submit(spec), timeout_s=120)
    assert result.succeeded, result.detail
    assert result.steps[0].stdout_tail == b"found [] False\n"
    assert result.steps[1].stdout_tail == b"secret answers\n"


def test_another_jobs_files_are_not_reachable(sandbox: LocalSandbox, tmp_path: Path) -> None:
    # the first job holds a secret in its work directory while the second looks for it
    owner = python_job("owner", "import time; open('secret.txt', 'w').write('mine'); "
                       "time.sleep(4)", wall_seconds=30)
    owner_handle = sandbox.submit(owner)
    work_areas = str(sandbox.runner.jobs_dir)
    spy = (FIND + f"print(os.path.exists({work_areas!r}))\n"
           "print(find('secret.txt'))\n"
           "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))")
    result = sandbox.result(sandbox.submit(python_job("spy", spy)), timeout_s=60)
    lines = result.steps[0].stdout_tail.decode().splitlines()
    assert lines[0] == "False"                  # the host's work areas are not there
    assert lines[1] == "[]"                     # nor any other job's files
    assert max(eval(lines[2])) < 10             # only its own few processes are visible
    assert sandbox.result(owner_handle, timeout_s=60).succeeded


def test_a_fork_bomb_hits_the_process_limit(sandbox: LocalSandbox) -> None:
    code = ("import os\n"
            "while True:\n"
            "    try:\n"
            "        os.fork()\n"
            "    except OSError:\n"
            "        pass")
    result = sandbox.result(sandbox.submit(python_job("forkbomb", code, processes=32,
                                                      wall_seconds=30)), timeout_s=90)
    assert result.state is JobState.FAILED
    assert result.reason is FailureReason.PROCESS_LIMIT, result.detail
    assert result.steps[0].processes_max <= 32 + 2   # the namespace's init and its launcher
    assert result.steps[0].wall_seconds < 15    # stopped at the ceiling, not at the clock
    assert_machine_fine(sandbox)


def test_filling_the_disk_hits_the_disk_limit(sandbox: LocalSandbox) -> None:
    free_before = shutil.disk_usage("/tmp").free
    code = ("import os\n"
            "for i in range(10_000):\n"
            "    with open(f'/work/fill{i}', 'wb') as f:\n"
            "        f.write(b'0' * (4 << 20))")
    result = sandbox.result(sandbox.submit(python_job("disk", code, disk_bytes=64 << 20,
                                                      file_size_bytes=64 << 20)),
                            timeout_s=60)
    assert result.state is JobState.FAILED
    assert result.reason is FailureReason.DISK_LIMIT, result.detail
    assert b"No space left on device" in result.steps[0].stderr_tail
    assert shutil.disk_usage("/tmp").free > free_before - (256 << 20)
    # /tmp inside is the same quota
    code = "open('/tmp/big', 'wb').write(b'0' * (80 << 20))"
    result = sandbox.result(sandbox.submit(python_job("tmpdisk", code, disk_bytes=64 << 20)),
                            timeout_s=60)
    assert result.reason is FailureReason.DISK_LIMIT, result.detail
    assert_machine_fine(sandbox)


def test_one_huge_file_hits_the_file_size_limit(sandbox: LocalSandbox) -> None:
    code = "open('/work/big', 'wb').write(b'0' * (20 << 20))"
    result = sandbox.result(sandbox.submit(python_job("fsize", code, file_size_bytes=8 << 20)),
                            timeout_s=60)
    assert result.reason is FailureReason.DISK_LIMIT, result.detail
    assert b"File too large" in result.steps[0].stderr_tail


def test_allocating_50_gib_hits_the_memory_limit(sandbox: LocalSandbox) -> None:
    used_before = psutil.virtual_memory().used
    result = sandbox.result(sandbox.submit(python_job(
        "memory", "block = bytearray(50 << 30)", memory_bytes=512 << 20)), timeout_s=60)
    assert result.state is JobState.FAILED
    assert result.reason is FailureReason.MEMORY_LIMIT, result.detail
    assert b"MemoryError" in result.steps[0].stderr_tail
    assert psutil.virtual_memory().used < used_before + (1 << 30)
    assert_machine_fine(sandbox)


def test_processes_that_together_exceed_memory_are_stopped(sandbox: LocalSandbox) -> None:
    # each process stays under its own address-space limit; together they pass the
    # job's memory limit, which the watch of the step's processes catches
    code = ("import os, time\n"
            "for _ in range(5):\n"
            "    if os.fork() == 0:\n"
            "        block = bytearray(200 << 20)\n"
            "        block[::4096] = b'1' * len(block[::4096])\n"
            "        time.sleep(30)\n"
            "        os._exit(0)\n"
            "time.sleep(30)")
    result = sandbox.result(sandbox.submit(python_job("memwatch", code, memory_bytes=600 << 20,
                                                      wall_seconds=40)), timeout_s=90)
    assert result.reason is FailureReason.MEMORY_LIMIT, result.detail
    assert result.steps[0].wall_seconds < 20


def test_sleeping_forever_is_killed_at_the_wall_clock(sandbox: LocalSandbox) -> None:
    code = ("import os, time\n"
            "os.setsid() if os.fork() == 0 else None\n"   # a child that leaves the group
            "time.sleep(100_000)")
    result = sandbox.result(sandbox.submit(python_job("sleep", code, wall_seconds=2)),
                            timeout_s=60)
    assert result.state is JobState.FAILED
    assert result.reason is FailureReason.TIME_LIMIT
    assert 2 <= result.steps[0].wall_seconds < 8
    assert "wall-clock limit of 2 s" in result.detail
    leftovers = [p for p in psutil.process_iter(["cmdline"])
                 if "time.sleep(100_000)" in " ".join(p.info["cmdline"] or [])]
    assert leftovers == []
    assert_machine_fine(sandbox)


def test_spinning_hits_the_cpu_time_limit(sandbox: LocalSandbox) -> None:
    result = sandbox.result(sandbox.submit(python_job("spin", "while True: pass",
                                                      cpu_seconds=1, wall_seconds=30)),
                            timeout_s=60)
    assert result.reason is FailureReason.TIME_LIMIT
    assert result.cpu_seconds >= 0.9
    assert "CPU time" in result.detail


def test_printing_1_gb_hits_the_output_limit_and_is_truncated(sandbox: LocalSandbox) -> None:
    worker = psutil.Process()
    rss_before = worker.memory_info().rss
    code = ("import sys\n"
            "chunk = 'x' * (1 << 20)\n"
            "for _ in range(1024):\n"
            "    sys.stdout.write(chunk)")
    result = sandbox.result(sandbox.submit(python_job("print", code, output_bytes=1 << 20)),
                            timeout_s=60)
    assert result.state is JobState.FAILED
    assert result.reason is FailureReason.OUTPUT_LIMIT
    step = result.steps[0]
    assert (1 << 20) < step.stdout_bytes < (8 << 20)        # stopped right after the limit
    assert len(step.stdout_tail) <= sandbox.config.tail_bytes
    assert worker.memory_info().rss < rss_before + (64 << 20)
    assert_machine_fine(sandbox)


def test_new_user_namespaces_are_refused(sandbox: LocalSandbox) -> None:
    # inside one, a job could mount a tmpfs: memory outside every limit
    code = ("import ctypes, os\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "print(libc.unshare(0x10000000), ctypes.get_errno())")
    result = sandbox.result(sandbox.submit(python_job("userns", code)), timeout_s=60)
    assert result.succeeded, result.detail
    assert result.steps[0].stdout_tail in (b"-1 1\n", b"-1 28\n", b"-1 22\n")


@pytest.mark.slow
def test_a_bad_job_does_not_disturb_one_running_beside_it(sandbox: LocalSandbox) -> None:
    calm = python_job("calm", "import time; t = time.time(); x = sum(range(30_000_000)); "
                      "time.sleep(2); print('done')", wall_seconds=60)
    bomb = python_job("bomb", "import os\nwhile True:\n    try: os.fork()\n    except OSError: "
                      "pass", processes=32, wall_seconds=20)
    calm_handle = sandbox.submit(calm)
    bomb_handle = sandbox.submit(bomb)
    assert sandbox.result(bomb_handle, timeout_s=90).reason is FailureReason.PROCESS_LIMIT
    calm_result = sandbox.result(calm_handle, timeout_s=90)
    assert calm_result.succeeded, calm_result.detail
    assert calm_result.steps[0].stdout_tail == b"done\n"
