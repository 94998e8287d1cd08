"""The local sandbox through the Executor interface: happy path, usage, steps, errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from oneteam.compute.executors import (
    Executor,
    FailureReason,
    JobSpec,
    JobState,
    Limits,
    LocalSandbox,
    Mount,
    SpecError,
    Step,
    UnknownJob,
)
from oneteam.compute.executors.base import (
    JobHandle,
    result_from_json,
    result_to_json,
    spec_from_json,
    spec_to_json,
)
from tests.compute.jobs import python_job, unique


def test_local_sandbox_is_an_executor(sandbox: LocalSandbox) -> None:
    assert isinstance(sandbox, Executor)


def test_a_job_runs_and_reports_output_and_usage(sandbox: LocalSandbox) -> None:
    spec = python_job("happy", "import os; x = sum(range(20_000_000)); "
                      "print('hello', os.getcwd()); import sys; print('oops', file=sys.stderr)")
    handle = sandbox.submit(spec)
    result = sandbox.result(handle, timeout_s=60)
    assert sandbox.poll(handle) is JobState.SUCCEEDED
    assert result.succeeded and result.reason is None and result.failed_step is None
    step = result.steps[0]
    assert step.exit_status == 0
    assert step.stdout_tail == b"hello /work\n"
    assert step.stderr_tail == b"oops\n"
    assert result.cpu_seconds > 0.1          # the sum above is real work, and it is counted
    assert result.peak_memory_bytes > 5 << 20
    assert result.gpu_seconds == 0
    assert 0 < step.wall_seconds <= result.wall_seconds
    assert result.enforcement["network"] == "none"


def test_steps_share_the_work_directory_and_only_given_steps_see_results(
        sandbox: LocalSandbox, tmp_path: Path) -> None:
    (tmp_path / "input.txt").write_text("41")
    spec = JobSpec(job_id=unique("steps"), files={"in/input.txt": tmp_path / "input.txt"},
                   steps=(
                       Step("run", ("python", "-c",
                                    "import os; n = int(open('in/input.txt').read()); "
                                    "open('answer.txt', 'w').write(str(n + 1)); "
                                    "print(os.path.exists('/results'))")),
                       Step("grade", ("python", "-c",
                                      "import json; a = open('/work/answer.txt').read(); "
                                      "json.dump({'answer': a}, open('/results/out.json', 'w'))"),
                            results=True)),
                   collect=("answer.txt", "missing.txt"), limits=Limits(wall_seconds=20))
    result = sandbox.result(sandbox.submit(spec), timeout_s=60)
    assert result.succeeded, result.detail
    assert result.steps[0].stdout_tail == b"False\n"
    assert json.loads(result.files["results/out.json"]) == {"answer": "42"}
    assert result.files["answer.txt"] == b"42"
    assert "missing.txt" not in result.files


def test_a_failing_step_stops_the_job_with_its_exit_status(sandbox: LocalSandbox) -> None:
    spec = JobSpec(job_id=unique("exit"), steps=(
        Step("run", ("python", "-c", "import sys; sys.exit(3)")),
        Step("grade", ("python", "-c", "print('never')"))))
    result = sandbox.result(sandbox.submit(spec), timeout_s=60)
    assert result.state is JobState.FAILED
    assert result.reason is FailureReason.EXIT_STATUS
    assert result.failed_step == "run"
    assert result.detail == "exited with status 3"
    assert [step.name for step in result.steps] == ["run"]


def test_the_system_and_mounts_are_read_only(sandbox: LocalSandbox, tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("public")
    tmp_path.chmod(0o755)  # a mount's own files must be readable by the sandbox's user
    code = ("import os\n"
            "for path in ('/usr/x', '/data/x', '/etc/x', '/x'):\n"
            "    try:\n"
            "        open(path, 'w')\n"
            "        print('wrote', path)\n"
            "    except OSError as error:\n"
            "        print('refused', path, error.errno)\n"
            "print(open('/data/data.txt').read())")
    result = sandbox.result(sandbox.submit(python_job(
        "readonly", code, mounts=(Mount(tmp_path, "/data"),))), timeout_s=60)
    out = result.steps[0].stdout_tail.decode()
    assert "wrote" not in out
    assert out.count("refused") == 4 and "public" in out


def test_cancel_stops_a_running_job(sandbox: LocalSandbox) -> None:
    handle = sandbox.submit(python_job("cancel", "import time; time.sleep(60)", wall_seconds=120))
    deadline = time.monotonic() + 20
    while sandbox.poll(handle) is not JobState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    sandbox.cancel(handle)
    result = sandbox.result(handle, timeout_s=30)
    assert result.state is JobState.CANCELLED
    assert result.reason is FailureReason.CANCELLED


def test_bad_specs_are_refused_naming_the_field(sandbox: LocalSandbox, tmp_path: Path) -> None:
    step = Step("run", ("true",))
    cases = [
        (JobSpec(job_id="Bad Id", steps=(step,)), "job_id"),
        (JobSpec(job_id="ok", steps=()), "steps"),
        (JobSpec(job_id="ok", steps=(step, step)), "steps[1].name"),
        (JobSpec(job_id="ok", steps=(Step("run", ()),)), "steps[0].argv"),
        (JobSpec(job_id="ok", steps=(step,), limits=Limits(memory_bytes=1)),
         "limits.memory_bytes"),
        (JobSpec(job_id="ok", steps=(Step("run", ("true",), mounts=(
            Mount(tmp_path, "/work"),)),)), "steps[0].mounts[0].target"),
        (JobSpec(job_id="ok", steps=(step,), mounts=(Mount(tmp_path / "nope", "/data"),)),
         "mounts[0].source"),
        (JobSpec(job_id="ok", steps=(step,), files={"../escape": tmp_path}),
         "files['../escape']"),
        (JobSpec(job_id="ok", steps=(step,), limits=Limits(gpus=1)), "limits.gpus"),
    ]
    for spec, field in cases:
        with pytest.raises(SpecError) as caught:
            sandbox.submit(spec)
        assert caught.value.field == field, (field, str(caught.value))


def test_unknown_handles_are_refused(sandbox: LocalSandbox) -> None:
    with pytest.raises(UnknownJob):
        sandbox.poll(JobHandle("local", "never-submitted", "never-submitted"))


def test_specs_and_results_round_trip_through_json(sandbox: LocalSandbox) -> None:
    spec = python_job("json", "print('x' * 10)")
    assert spec_from_json(json.loads(json.dumps(spec_to_json(spec)))) == spec
    result = sandbox.result(sandbox.submit(spec), timeout_s=60)
    assert result_from_json(json.loads(json.dumps(result_to_json(result)))) == result


def test_statistics_count_jobs(sandbox: LocalSandbox) -> None:
    statistics = sandbox.statistics()
    assert statistics["slots"] == 2
    assert statistics["submitted"] >= statistics["succeeded"] + statistics["failed"]
