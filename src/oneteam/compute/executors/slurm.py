"""The Slurm executor: each job a batch job, its steps in the same sandbox on the node.

``submit`` writes the job's directory under ``shared_dir`` (a file system the submit
host and the nodes share): ``spec.json``, the job's files, and ``job.sh``, which runs
``python -m oneteam.compute.executors.slurm_job spec.json result.json`` on the node;
then ``sbatch --parsable`` with the job's request:

- ``--cpus-per-task`` = the largest ``cpus`` of its steps, ``--gres=gpu:N`` when N > 0;
- ``--mem`` = the largest step memory limit plus ``memory_headroom_mb`` for the runner;
- ``--time`` = the sum of the steps' wall-clock limits plus ``time_margin_s``;
- ``--output`` = ``slurm.out`` in the job's directory.

- ``--job-name`` = ``oneteam-<job id>`` and ``--chdir`` = the job's directory, so the
  job can be found again from its id alone (``find``).

States come from ``squeue`` while Slurm holds the job in its queue (final states too, for
``MinJobAge`` after the end), then from ``sacct --parsable2``. Usage comes from
``sacct``: CPU-seconds from ``TotalCPU``, GPU-seconds from the GPUs in ``AllocTRES``
times ``ElapsedRaw``. What the job itself reports (exit statuses, tails, limits hit,
/results) comes from ``result.json``; when Slurm ended the job before it could write one
(its time limit, out of memory, ``scancel``), the result says so from Slurm's state.

``result_if_ready`` never waits: it returns None while the job runs, and while its
accounting is not final yet (slurmdbd writes it a moment after the end, or later when
slow). Once ``accounting_wait_s`` has passed since it first saw the job ended, it
reports the job with the best usage known (the sandbox's own CPU measure, the GPUs
requested times the job's wall time) and says so: ``enforcement["usage"]`` is ``job``
rather than ``sacct``, and ``enforcement["accounting"]`` explains. A cluster without
accounting (no slurmdbd) works that way. ``result`` is the blocking form.

The job directory stays until ``forget``. A handle (``native_id`` = Slurm's job id) is
good in any process configured with the same ``shared_dir``. A caller that lost the
handle (it stopped between ``sbatch`` and keeping the id) gets it back with ``find``, or
cancels whatever was submitted and removes the directory with ``discard``.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from oneteam.compute.executors.base import (
    ExecutorError,
    FailureReason,
    JobHandle,
    JobResult,
    JobSpec,
    JobState,
    SpecError,
    UnknownJob,
    failed_result,
    result_from_json,
    spec_from_json,
    spec_to_json,
)

EXECUTOR_NAME = "slurm"
SQUEUE_STATES = {
    "PENDING": JobState.QUEUED, "CONFIGURING": JobState.QUEUED, "REQUEUED": JobState.QUEUED,
    "REQUEUE_HOLD": JobState.QUEUED, "REQUEUE_FED": JobState.QUEUED,
    "RESV_DEL_HOLD": JobState.QUEUED, "SUSPENDED": JobState.RUNNING,
    "RUNNING": JobState.RUNNING, "COMPLETING": JobState.RUNNING, "STAGE_OUT": JobState.RUNNING,
    "SIGNALING": JobState.RUNNING, "RESIZING": JobState.RUNNING,
}
# sacct's final states, and what a job Slurm ended itself failed of
SACCT_FINAL = {
    "COMPLETED": None, "FAILED": FailureReason.ERROR, "TIMEOUT": FailureReason.TIME_LIMIT,
    "OUT_OF_MEMORY": FailureReason.MEMORY_LIMIT, "CANCELLED": FailureReason.CANCELLED,
    "NODE_FAIL": FailureReason.ERROR, "BOOT_FAIL": FailureReason.ERROR,
    "DEADLINE": FailureReason.TIME_LIMIT, "PREEMPTED": FailureReason.KILLED,
    "REVOKED": FailureReason.ERROR,
}
DURATION = re.compile(r"^(?:(?P<days>\d+)-)?(?:(?P<hours>\d+):)?(?P<minutes>\d+):"
                      r"(?P<seconds>\d+(?:\.\d+)?)$")
GPU_TRES = re.compile(r"(?:^|,)gres/gpu(?::[^=,]+)?=(\d+)")
JOB_NAME_PREFIX = "oneteam-"
FIND_SINCE = "now-7days"   # how far back sacct is asked for a job found by its name


def job_name(job_id: str) -> str:
    """The Slurm job name of a job: derived from its id, which names the job and attempt."""
    return f"{JOB_NAME_PREFIX}{job_id}"


def is_final(slurm_state: str) -> bool:
    """Whether a state that squeue or sacct prints (``CANCELLED by 0``, ...) is an end."""
    return bool(slurm_state) and slurm_state.split(maxsplit=1)[0] in SACCT_FINAL


@dataclass(frozen=True)
class SlurmConfig:
    """Where and how jobs go to Slurm. ``env`` is added to the Slurm commands' environment
    (``SLURM_CONF`` for a cluster other than the machine's default)."""

    shared_dir: Path
    partition: str | None = None
    account: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    python: str = sys.executable
    time_margin_s: int = 120
    memory_headroom_mb: int = 256
    command_timeout_s: float = 30.0
    poll_interval_s: float = 1.0
    # how long after a job's end its accounting may take before the job is reported with
    # the usage it measured itself (``result_if_ready`` checks again at most every
    # ``poll_interval_s`` meanwhile)
    accounting_wait_s: float = 30.0
    node_jobs_dir: str | None = None   # work areas on the node (default: its TMPDIR)


def parse_duration(text: str) -> float:
    """Seconds in one of Slurm's duration forms: ``[D-]HH:MM:SS[.mmm]``, ``MM:SS.mmm``."""
    text = text.strip()
    match = DURATION.match(text)
    if not match:
        raise ValueError(f"not a Slurm duration: {text!r}")
    return (int(match["days"] or 0) * 86400 + int(match["hours"] or 0) * 3600
            + int(match["minutes"]) * 60 + float(match["seconds"]))


def gpus_in_tres(tres: str) -> int:
    """GPUs in a TRES string such as ``billing=1,cpu=2,gres/gpu=1,mem=1G,node=1``."""
    return sum(int(count) for count in GPU_TRES.findall(tres)) if tres else 0


@dataclass(frozen=True)
class AccountingRecord:
    state: str
    exit_code: str
    elapsed_seconds: int
    cpu_seconds: float
    gpus: int


class SlurmExecutor:
    """Runs jobs on a Slurm cluster through its commands (``sbatch``, ``squeue``, ``sacct``,
    ``scancel``)."""

    name = EXECUTOR_NAME

    def __init__(self, config: SlurmConfig) -> None:
        self.config = config
        for command in ("sbatch", "squeue", "sacct", "scancel"):
            if shutil.which(command) is None:
                raise ExecutorError(f"{command} is not installed (Slurm's client commands: "
                                    "apt-get install slurm-client)")
        config.shared_dir.mkdir(parents=True, exist_ok=True)
        self._env = {**os.environ, **config.env}
        # Slurm job id -> (monotonic time its end was first seen without final accounting,
        # monotonic time of the last look)
        self._awaiting_accounting: dict[str, tuple[float, float]] = {}

    # -- the interface ------------------------------------------------------------------

    def submit(self, spec: JobSpec) -> JobHandle:
        spec.check()
        directory = self.config.shared_dir / spec.job_id
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            raise SpecError("job_id", f"{spec.job_id} was already submitted here") from None
        try:
            script = self._write_job(spec, directory)
            output = self._run(["sbatch", "--parsable", *self._request(spec, directory),
                                str(script)])
        except (OSError, ExecutorError):
            shutil.rmtree(directory, ignore_errors=True)
            raise
        slurm_id = output.strip().split(";")[0]
        if not slurm_id.isdigit():
            shutil.rmtree(directory, ignore_errors=True)
            raise ExecutorError(f"sbatch answered {output.strip()!r}, not a job id")
        (directory / "slurm_id").write_text(slurm_id)
        return JobHandle(self.name, spec.job_id, slurm_id)

    def poll(self, handle: JobHandle) -> JobState:
        self._directory(handle)
        queue_state = self._squeue(handle.native_id)
        queued = SQUEUE_STATES.get(queue_state)
        if queued is not None:
            return queued
        local = self._read_result(handle)
        if local is not None:
            return local.state
        final_state = self._slurm_final_state(handle.native_id, queue_state)
        if final_state is None:
            # accounting not written yet, or still being wrapped up
            return JobState.RUNNING
        if final_state.startswith("CANCELLED"):
            return JobState.CANCELLED
        return JobState.FAILED  # final, yet no result file: Slurm ended it

    def cancel(self, handle: JobHandle) -> None:
        self._directory(handle)
        self._run(["scancel", handle.native_id])

    def result(self, handle: JobHandle, timeout_s: float | None = None) -> JobResult:
        """Wait for the job's end (TimeoutError after ``timeout_s``), then for its accounting
        (at most ``accounting_wait_s`` more), and report it."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            result = self.result_if_ready(handle)
            if result is not None:
                return result
            if (deadline is not None and time.monotonic() > deadline
                    and handle.native_id not in self._awaiting_accounting):
                raise TimeoutError(f"job {handle.job_id} (Slurm {handle.native_id}) is still "
                                   f"{self.poll(handle).value}")
            time.sleep(min(self.config.poll_interval_s, 0.5))

    def result_if_ready(self, handle: JobHandle) -> JobResult | None:
        """The job's result once it ended and its accounting is final (or waited for long
        enough, see the module's description); None until then. Never waits."""
        now = time.monotonic()
        awaiting = self._awaiting_accounting.get(handle.native_id)
        if awaiting is not None and now - awaiting[1] < self.config.poll_interval_s:
            self._directory(handle)
            return None
        if awaiting is None and not self.poll(handle).finished:
            return None
        record = self._sacct(handle.native_id)
        if record is not None and not is_final(record.state):
            record = None
        if record is None:
            since = awaiting[0] if awaiting is not None else now
            if now - since < self.config.accounting_wait_s:
                self._awaiting_accounting[handle.native_id] = (since, now)
                return None
        self._awaiting_accounting.pop(handle.native_id, None)
        return self._report(handle, record, waited_s=0.0 if awaiting is None else
                            now - awaiting[0])

    def forget(self, handle: JobHandle) -> None:
        self._awaiting_accounting.pop(handle.native_id, None)
        shutil.rmtree(self._directory(handle), ignore_errors=True)

    def find(self, job_id: str) -> JobHandle | None:
        """The handle of the Slurm job submitted here for ``job_id``, or None if there is none.

        For a caller that stopped between ``sbatch`` and keeping the handle: the id is in
        the job's directory once ``sbatch`` answered; before that, Slurm knows the job by
        its name and working directory (``squeue``, then ``sacct``). A job whose directory
        is gone cannot run, and is not found (``discard`` cancels it). ExecutorError when
        Slurm cannot be asked: not knowing is not the same as there being no job.
        """
        directory = self.config.shared_dir / job_id
        if not directory.is_dir():
            return None
        try:
            known = (directory / "slurm_id").read_text().strip()
        except FileNotFoundError:
            known = ""
        if known.isdigit():
            return JobHandle(self.name, job_id, known)
        found = self._find_by_name(job_id)
        if not found:
            return None
        slurm_id = found[0][0]
        temporary = directory / "slurm_id.tmp"
        temporary.write_text(slurm_id)
        os.replace(temporary, directory / "slurm_id")
        return JobHandle(self.name, job_id, slurm_id)

    def discard(self, job_id: str) -> None:
        """Cancel every Slurm job submitted here for ``job_id`` and remove its directory.

        ExecutorError (and the directory kept) when Slurm cannot be asked or refuses.
        """
        directory = self.config.shared_dir / job_id
        try:
            known = (directory / "slurm_id").read_text().strip()
        except OSError:
            known = ""
        ids = {slurm_id for slurm_id, state in self._find_by_name(job_id)
               if not is_final(state)}
        if known.isdigit() and not is_final(self._squeue(known)):
            ids.add(known)
        if ids:
            self._run(["scancel", *sorted(ids)])
        if known:
            self._awaiting_accounting.pop(known, None)
        shutil.rmtree(directory, ignore_errors=True)

    def close(self) -> None:
        """Nothing to release: jobs belong to the cluster and outlive the executor."""

    def statistics(self) -> dict[str, int]:
        jobs = [entry for entry in self.config.shared_dir.iterdir() if entry.is_dir()]
        return {"jobs_on_disk": len(jobs)}

    # -- submitting ---------------------------------------------------------------------

    def _write_job(self, spec: JobSpec, directory: Path) -> Path:
        files_dir = directory / "files"
        files_dir.mkdir()
        copied = {}
        for index, (name, source) in enumerate(spec.files.items()):
            target = files_dir / f"{index}-{Path(name).name}"
            shutil.copyfile(source, target)
            copied[name] = target
        node_spec = replace(spec, files=copied)
        (directory / "spec.json").write_text(json.dumps(spec_to_json(node_spec), indent=1))
        jobs_dir = self.config.node_jobs_dir
        command = [self.config.python, "-m", "oneteam.compute.executors.slurm_job",
                   str(directory / "spec.json"), str(directory / "result.json")]
        if jobs_dir:
            command += ["--jobs-dir", jobs_dir]
        script = directory / "job.sh"
        script.write_text("#!/bin/sh\n# a OneTeam job: its steps run in the sandbox on this node\n"
                          f"exec {shlex.join(command)}\n")
        script.chmod(0o700)
        return script

    def _request(self, spec: JobSpec, directory: Path) -> list[str]:
        all_limits = [spec.step_limits(step) for step in spec.steps]
        cpus = max(limits.cpus for limits in all_limits)
        gpus = max(limits.gpus for limits in all_limits)
        memory_mb = math.ceil(max(limits.memory_bytes for limits in all_limits) / (1 << 20))
        memory_mb += self.config.memory_headroom_mb
        seconds = sum(limits.wall_seconds for limits in all_limits) + self.config.time_margin_s
        args = [f"--job-name={job_name(spec.job_id)}", f"--cpus-per-task={cpus}",
                f"--mem={memory_mb}M", f"--time={math.ceil(seconds / 60)}",
                f"--output={directory / 'slurm.out'}", f"--chdir={directory}"]
        if gpus > 0:
            args.append(f"--gres=gpu:{gpus}")
        if self.config.partition:
            args.append(f"--partition={self.config.partition}")
        if self.config.account:
            args.append(f"--account={self.config.account}")
        return args

    # -- asking Slurm -------------------------------------------------------------------

    def _run(self, args: list[str], *, check: bool = True) -> str:
        try:
            completed = subprocess.run(args, capture_output=True, text=True, env=self._env,
                                       timeout=self.config.command_timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ExecutorError(f"{args[0]} failed: {error}") from error
        if check and completed.returncode != 0:
            raise ExecutorError(f"{args[0]} failed ({completed.returncode}): "
                                f"{completed.stderr.strip() or completed.stdout.strip()}")
        return completed.stdout

    def _squeue(self, slurm_id: str) -> str:
        """The job's state as slurmctld has it (final ones too, for a while); "" unknown."""
        try:
            output = self._run(["squeue", "-h", "-t", "all", "-j", slurm_id, "-o", "%T"],
                               check=False)
        except ExecutorError:
            return ""
        return output.strip().splitlines()[0].strip() if output.strip() else ""

    def _slurm_final_state(self, slurm_id: str, queue_state: str) -> str | None:
        """The job's final state from sacct, else from squeue; None while neither has one."""
        record = self._sacct(slurm_id)
        if record is not None and is_final(record.state):
            return record.state
        return queue_state if is_final(queue_state) else None

    def _find_by_name(self, job_id: str) -> list[tuple[str, str]]:
        """(Slurm id, state) of the jobs named for ``job_id`` that run in its directory."""
        name, directory = job_name(job_id), str(self.config.shared_dir / job_id)
        output = self._run(["squeue", "-h", "-t", "all", f"--name={name}",
                            "-o", "%i|%T|%Z"])
        found = [(row[0], row[1]) for row in (line.split("|") for line in output.splitlines())
                 if len(row) == 3 and row[0].isdigit() and row[2].rstrip("/") == directory]
        if found:
            return found
        if not (self.config.shared_dir / job_id / "slurm.out").exists():
            # neither waiting in the queue nor ever started (Slurm opens the output file
            # when the job starts): there is no run of it to find
            return []
        # ended and gone from slurmctld's memory (MinJobAge after its end): ask the accounting
        output = self._run(["sacct", "-X", f"--name={name}", "-S", FIND_SINCE,
                            "--parsable2", "--noheader", "--format=JobID,State,WorkDir"])
        return [(row[0], row[1]) for row in (line.split("|") for line in output.splitlines())
                if len(row) == 3 and row[0].isdigit() and row[2].rstrip("/") == directory]

    def _sacct(self, slurm_id: str) -> AccountingRecord | None:
        try:
            output = self._run(["sacct", "-j", slurm_id, "--parsable2", "--noheader",
                                "--format=JobID,State,ExitCode,ElapsedRaw,TotalCPU,AllocTRES"],
                               check=False)
        except ExecutorError:
            return None
        lines = [line.split("|") for line in output.splitlines() if line.count("|") >= 5]
        job = next((row for row in lines if row[0] == slurm_id), None)
        if job is None:
            return None
        try:
            cpu = parse_duration(job[4]) if job[4] else 0.0
            if cpu == 0.0:  # some versions leave the allocation's line empty: add the steps
                cpu = sum(parse_duration(row[4]) for row in lines
                          if row[0].startswith(f"{slurm_id}.") and row[4])
            elapsed = int(job[3] or 0)
        except ValueError:
            return None
        return AccountingRecord(state=job[1], exit_code=job[2], elapsed_seconds=elapsed,
                                cpu_seconds=cpu, gpus=gpus_in_tres(job[5]))

    # -- reporting ----------------------------------------------------------------------

    def _report(self, handle: JobHandle, record: AccountingRecord | None, *,
                waited_s: float) -> JobResult:
        """The result of an ended job, with sacct's final ``record`` or, without one, the
        best usage known and a note saying so."""
        local = self._read_result(handle)
        if local is None:
            reason = FailureReason.ERROR
            detail = "the job ended without a result"
            state = JobState.FAILED
            final_state = record.state if record is not None else self._squeue(
                handle.native_id)
            if is_final(final_state):
                base_state = final_state.split()[0]
                reason = SACCT_FINAL.get(base_state) or FailureReason.ERROR
                exit_code = f" (exit {record.exit_code})" if record is not None else ""
                detail = f"Slurm ended the job: {final_state}{exit_code}"
                if base_state == "CANCELLED":
                    state = JobState.CANCELLED
            tail = self._output_tail(handle)
            if tail:
                detail += f"; its output ends: {tail}"
            local = failed_result(handle.job_id, self.name, reason, detail, state=state)
        enforcement = {**local.enforcement, "slurm_job": handle.native_id}
        if record is not None:
            enforcement["usage"] = "sacct"
            cpu = record.cpu_seconds or local.cpu_seconds
            gpu = float(record.gpus * record.elapsed_seconds)
        else:
            enforcement["usage"] = "job"
            enforcement["accounting"] = (
                f"Slurm's accounting had no final record {waited_s:.0f} s after the job "
                "ended; its usage is the job's own measure (CPU time of its steps, GPUs "
                "requested times its wall time)")
            cpu = local.cpu_seconds
            gpu = float(self._gpus_requested(handle) * local.wall_seconds)
        return replace(local, cpu_seconds=cpu, gpu_seconds=gpu, executor=self.name,
                       enforcement=enforcement)

    def _gpus_requested(self, handle: JobHandle) -> int:
        try:
            spec = spec_from_json(json.loads(
                (self._directory(handle) / "spec.json").read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            return 0
        return max(spec.step_limits(step).gpus for step in spec.steps) if spec.steps else 0

    # -- the job's directory ------------------------------------------------------------

    def _directory(self, handle: JobHandle) -> Path:
        directory = self.config.shared_dir / handle.job_id
        if handle.executor != self.name or not (directory / "slurm_id").is_file() or (
                (directory / "slurm_id").read_text().strip() != handle.native_id):
            raise UnknownJob(handle.job_id)
        return directory

    def _read_result(self, handle: JobHandle) -> JobResult | None:
        path = self._directory(handle) / "result.json"
        try:
            return result_from_json(json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            return failed_result(handle.job_id, self.name, FailureReason.ERROR,
                                 f"the job's result file is unreadable: {error}")

    def _output_tail(self, handle: JobHandle) -> str:
        path = self._directory(handle) / "slurm.out"
        try:
            with open(path, "rb") as output:
                output.seek(max(0, os.path.getsize(path) - 500))
                return output.read().decode(errors="replace").strip()
        except OSError:
            return ""
