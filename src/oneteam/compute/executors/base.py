"""The executor interface: what a job is, what running it reports, and the Protocol.

A job is a few **steps** run one after another in one private work directory (``/work``
inside the sandbox) that lives as long as the job: typically a ``run`` step that runs a
learner's submission and a ``grade`` step that scores what it left behind. Each step
names the read-only directories it may see; hidden data is mounted in the grade step
only. Every step runs under the job's limits. Steps stop at the first failure.

Everything here is plain data with a JSON form (``to_json``/``from_json``), so a job can
be written beside a Slurm batch script and its result read back from a file.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, runtime_checkable

JOB_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
STEP_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Paths a step may not mount over: the sandbox's own system and work areas.
RESERVED_TARGETS = ("/", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/proc", "/dev",
                    "/work", "/tmp", "/results")
TAIL_BYTES_DEFAULT = 16 * 1024
STEPS_MAX = 8
MOUNTS_MAX = 32
FILES_MAX = 256
ARGV_MAX = 256


class SpecError(ValueError):
    """A job specification is malformed; the message names the field at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


class ExecutorError(RuntimeError):
    """The executor itself cannot do what was asked (no sandbox, cluster unreachable, ...)."""


class UnknownJob(KeyError):
    """A handle names no job this executor knows."""


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class FailureReason(enum.StrEnum):
    """Why a job failed. Learners see these; they name a limit when a limit was hit."""

    EXIT_STATUS = "exit_status"          # a step exited non-zero on its own
    TIME_LIMIT = "time_limit"            # wall clock or CPU time
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"        # stdout + stderr beyond the allowance
    DISK_LIMIT = "disk_limit"            # the work directory's quota, or the file size limit
    PROCESS_LIMIT = "process_limit"      # processes and threads
    KILLED = "killed"                    # ended by a signal the executor did not send
    CANCELLED = "cancelled"              # cancel() was called
    ERROR = "error"                      # the executor or the cluster failed, not the job


@dataclass(frozen=True)
class Limits:
    """Per-step limits. Sizes in bytes, times in seconds; ``cpus``/``gpus`` are requests."""

    cpu_seconds: int = 60
    wall_seconds: int = 120
    memory_bytes: int = 1 << 30
    processes: int = 64
    file_size_bytes: int = 256 << 20     # one file, RLIMIT_FSIZE
    disk_bytes: int = 256 << 20          # the whole work directory (/work and /tmp)
    output_bytes: int = 1 << 20          # stdout and stderr together, per step
    open_files: int = 256
    cpus: int = 1
    gpus: int = 0

    def check(self) -> None:
        bounds = {
            "cpu_seconds": (1, 7 * 86400), "wall_seconds": (1, 7 * 86400),
            "memory_bytes": (16 << 20, 4 << 40), "processes": (4, 65536),
            "file_size_bytes": (1 << 10, 4 << 40), "disk_bytes": (1 << 20, 4 << 40),
            "output_bytes": (1 << 10, 1 << 30), "open_files": (16, 65536),
            "cpus": (1, 1024), "gpus": (0, 64),
        }
        for name, (low, high) in bounds.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise SpecError(f"limits.{name}", f"must be a whole number from {low} to {high}, "
                                f"not {value!r}")


@dataclass(frozen=True)
class Mount:
    """A host directory (or file) shown read-only at ``target`` inside the sandbox."""

    source: Path
    target: str


@dataclass(frozen=True)
class Step:
    """One command of a job.

    ``mounts`` are read-only and visible in this step only (hidden data goes in the grade
    step's mounts). ``results`` mounts the job's results directory, writable, at
    ``/results``: give it only to trusted steps (the grader), never to a step that runs
    a submission, so a submission cannot write its own results file. ``limits`` replaces
    the job's limits for this step.
    """

    name: str
    argv: tuple[str, ...]
    mounts: tuple[Mount, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    results: bool = False
    limits: Limits | None = None


@dataclass(frozen=True)
class JobSpec:
    """A job: steps, the files placed in ``/work`` before the first, limits, what to return.

    ``files`` maps a relative path in ``/work`` to a host file copied there. ``mounts``
    are read-only in every step. ``collect`` names files of ``/work`` returned with the
    result (an executed notebook, say), besides everything in ``/results``.
    """

    job_id: str
    steps: tuple[Step, ...]
    files: Mapping[str, Path] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    collect: tuple[str, ...] = ()

    def check(self) -> None:
        """Raise SpecError naming the first malformed field."""
        if not isinstance(self.job_id, str) or not JOB_ID.match(self.job_id):
            raise SpecError("job_id", "must be 1-63 of a-z, 0-9, '-', '_', starting with a "
                            f"letter or digit, not {self.job_id!r}")
        if not self.steps:
            raise SpecError("steps", "a job needs at least one step")
        if len(self.steps) > STEPS_MAX:
            raise SpecError("steps", f"at most {STEPS_MAX} steps")
        self.limits.check()
        seen: set[str] = set()
        for index, step in enumerate(self.steps):
            where = f"steps[{index}]"
            if not STEP_NAME.match(step.name):
                raise SpecError(f"{where}.name", "must be a short lowercase name, not "
                                f"{step.name!r}")
            if step.name in seen:
                raise SpecError(f"{where}.name", f"two steps are named {step.name!r}")
            seen.add(step.name)
            if not step.argv or len(step.argv) > ARGV_MAX or not all(
                    isinstance(arg, str) and "\0" not in arg for arg in step.argv):
                raise SpecError(f"{where}.argv", "must be 1 to 256 strings without NUL")
            _check_mounts(f"{where}.mounts", step.mounts)
            _check_env(f"{where}.env", step.env)
            if step.limits is not None:
                step.limits.check()
        _check_mounts("mounts", self.mounts)
        _check_env("env", self.env)
        targets = [m.target for m in self.mounts]
        for step in self.steps:
            clash = set(targets) & {m.target for m in step.mounts}
            if clash:
                raise SpecError("mounts", f"{sorted(clash)[0]} is mounted by the job and a step")
        if len(self.files) > FILES_MAX:
            raise SpecError("files", f"at most {FILES_MAX} files")
        for name, source in self.files.items():
            check_relative_path(f"files[{name!r}]", name)
            if not Path(source).is_file():
                raise SpecError(f"files[{name!r}]", f"{source} is not a file")
        for name in self.collect:
            check_relative_path(f"collect[{name!r}]", name)

    def step_limits(self, step: Step) -> Limits:
        return step.limits if step.limits is not None else self.limits


def check_relative_path(field_name: str, name: str) -> None:
    path = PurePosixPath(name)
    if (not name or "\0" in name or "\\" in name or path.is_absolute()
            or any(part in ("", ".", "..") for part in name.split("/"))):
        raise SpecError(field_name, "must be a relative path inside the work directory, "
                        f"without '..', not {name!r}")


def _check_mounts(field_name: str, mounts: tuple[Mount, ...]) -> None:
    if len(mounts) > MOUNTS_MAX:
        raise SpecError(field_name, f"at most {MOUNTS_MAX} mounts")
    targets: set[str] = set()
    for index, mount in enumerate(mounts):
        where = f"{field_name}[{index}]"
        target = mount.target
        if (not target.startswith("/") or "\0" in target or ".." in target.split("/")
                or target.rstrip("/") in RESERVED_TARGETS or target.startswith(
                    ("/proc/", "/dev/", "/work/", "/tmp/", "/results/", "/usr/", "/etc/"))):
            raise SpecError(f"{where}.target", f"{target!r} is not a free absolute path "
                            "(system, /work, /tmp and /results are the sandbox's own)")
        if target in targets:
            raise SpecError(f"{where}.target", f"{target} is mounted twice")
        targets.add(target)
        if not Path(mount.source).exists():
            raise SpecError(f"{where}.source", f"{mount.source} does not exist")


def _check_env(field_name: str, env: Mapping[str, str]) -> None:
    for key, value in env.items():
        if not ENV_NAME.match(key) or not isinstance(value, str) or "\0" in value:
            raise SpecError(f"{field_name}[{key!r}]", "must be NAME=text without NUL")


@dataclass(frozen=True)
class JobHandle:
    """What submit() returns; serializable, so a caller can keep it and poll later."""

    executor: str
    job_id: str
    native_id: str


@dataclass(frozen=True)
class StepResult:
    name: str
    exit_status: int | None          # None: the step never ran or was killed by the executor
    signal: int | None               # the signal that ended it, if one did
    reason: FailureReason | None     # None: the step succeeded
    detail: str                      # one line explaining ``reason`` to a person
    wall_seconds: float
    cpu_seconds: float
    peak_memory_bytes: int
    stdout_tail: bytes
    stderr_tail: bytes
    stdout_bytes: int                # how much it printed in all (the tails are the end)
    stderr_bytes: int
    processes_max: int               # most processes seen at once (sampled)

    @property
    def succeeded(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class JobResult:
    """What running a job reports. ``files`` holds /results and the ``collect``ed files."""

    job_id: str
    state: JobState
    reason: FailureReason | None
    failed_step: str | None
    detail: str
    steps: tuple[StepResult, ...]
    wall_seconds: float              # from the first step's start to the last step's end
    cpu_seconds: float
    gpu_seconds: float
    peak_memory_bytes: int
    files: Mapping[str, bytes]
    enforcement: Mapping[str, str]   # how each limit was enforced: {"memory": "rlimit+watch", ...}
    executor: str

    @property
    def succeeded(self) -> bool:
        return self.state is JobState.SUCCEEDED

    def step(self, name: str) -> StepResult | None:
        return next((step for step in self.steps if step.name == name), None)


@runtime_checkable
class Executor(Protocol):
    """Runs jobs. Implementations: ``LocalSandbox`` (embedded default), ``SlurmExecutor``.

    ``SlurmExecutor`` also has ``result_if_ready`` (``result`` without waiting, for the
    worker's loop), and ``find``/``discard`` (a job whose handle was lost: get it back, or
    cancel what was submitted and remove its files).
    """

    name: str

    def submit(self, spec: JobSpec) -> JobHandle:
        """Queue a job; raises SpecError for a malformed spec, ExecutorError when full."""
        ...

    def poll(self, handle: JobHandle) -> JobState: ...

    def cancel(self, handle: JobHandle) -> None:
        """Stop a job (queued or running); its result says ``cancelled``. Idempotent."""
        ...

    def result(self, handle: JobHandle, timeout_s: float | None = None) -> JobResult:
        """Wait for the job to finish (TimeoutError after ``timeout_s``) and report it."""
        ...

    def close(self) -> None:
        """Cancel what is still running and release the executor's resources."""
        ...


# ---------------------------------------------------------------------------------------
# JSON forms (a Slurm job reads its spec from a file and writes its result to one)


def spec_to_json(spec: JobSpec) -> dict[str, Any]:
    def mounts(items: tuple[Mount, ...]) -> list[dict[str, str]]:
        return [{"source": str(m.source), "target": m.target} for m in items]

    return {
        "job_id": spec.job_id,
        "steps": [{"name": s.name, "argv": list(s.argv), "mounts": mounts(s.mounts),
                   "env": dict(s.env), "results": s.results,
                   "limits": limits_to_json(s.limits) if s.limits else None}
                  for s in spec.steps],
        "files": {name: str(path) for name, path in spec.files.items()},
        "mounts": mounts(spec.mounts),
        "env": dict(spec.env),
        "limits": limits_to_json(spec.limits),
        "collect": list(spec.collect),
    }


def spec_from_json(data: Mapping[str, Any]) -> JobSpec:
    def mounts(items: list[dict[str, str]]) -> tuple[Mount, ...]:
        return tuple(Mount(Path(m["source"]), m["target"]) for m in items)

    return JobSpec(
        job_id=data["job_id"],
        steps=tuple(Step(name=s["name"], argv=tuple(s["argv"]), mounts=mounts(s["mounts"]),
                         env=dict(s["env"]), results=bool(s["results"]),
                         limits=limits_from_json(s["limits"]) if s["limits"] else None)
                    for s in data["steps"]),
        files={name: Path(path) for name, path in data["files"].items()},
        mounts=mounts(data["mounts"]),
        env=dict(data["env"]),
        limits=limits_from_json(data["limits"]),
        collect=tuple(data["collect"]),
    )


def limits_to_json(limits: Limits) -> dict[str, int]:
    return {f.name: getattr(limits, f.name) for f in fields(limits)}


def limits_from_json(data: Mapping[str, int]) -> Limits:
    names = {f.name for f in fields(Limits)}
    unknown = set(data) - names
    if unknown:
        raise SpecError("limits", f"unknown limit {sorted(unknown)[0]!r}")
    return Limits(**{key: int(value) for key, value in data.items()})


def result_to_json(result: JobResult) -> dict[str, Any]:
    import base64

    return {
        "job_id": result.job_id, "state": result.state.value,
        "reason": result.reason.value if result.reason else None,
        "failed_step": result.failed_step, "detail": result.detail,
        "steps": [{
            "name": s.name, "exit_status": s.exit_status, "signal": s.signal,
            "reason": s.reason.value if s.reason else None, "detail": s.detail,
            "wall_seconds": s.wall_seconds, "cpu_seconds": s.cpu_seconds,
            "peak_memory_bytes": s.peak_memory_bytes,
            "stdout_tail": base64.b64encode(s.stdout_tail).decode(),
            "stderr_tail": base64.b64encode(s.stderr_tail).decode(),
            "stdout_bytes": s.stdout_bytes, "stderr_bytes": s.stderr_bytes,
            "processes_max": s.processes_max} for s in result.steps],
        "wall_seconds": result.wall_seconds, "cpu_seconds": result.cpu_seconds,
        "gpu_seconds": result.gpu_seconds, "peak_memory_bytes": result.peak_memory_bytes,
        "files": {name: base64.b64encode(data).decode() for name, data in result.files.items()},
        "enforcement": dict(result.enforcement), "executor": result.executor,
    }


def result_from_json(data: Mapping[str, Any]) -> JobResult:
    import base64

    def reason(value: str | None) -> FailureReason | None:
        return FailureReason(value) if value else None

    return JobResult(
        job_id=data["job_id"], state=JobState(data["state"]), reason=reason(data["reason"]),
        failed_step=data["failed_step"], detail=data["detail"],
        steps=tuple(StepResult(
            name=s["name"], exit_status=s["exit_status"], signal=s["signal"],
            reason=reason(s["reason"]), detail=s["detail"], wall_seconds=s["wall_seconds"],
            cpu_seconds=s["cpu_seconds"], peak_memory_bytes=s["peak_memory_bytes"],
            stdout_tail=base64.b64decode(s["stdout_tail"]),
            stderr_tail=base64.b64decode(s["stderr_tail"]),
            stdout_bytes=s["stdout_bytes"], stderr_bytes=s["stderr_bytes"],
            processes_max=s["processes_max"]) for s in data["steps"]),
        wall_seconds=data["wall_seconds"], cpu_seconds=data["cpu_seconds"],
        gpu_seconds=data["gpu_seconds"], peak_memory_bytes=data["peak_memory_bytes"],
        files={name: base64.b64decode(blob) for name, blob in data["files"].items()},
        enforcement=dict(data["enforcement"]), executor=data["executor"],
    )


def failed_result(spec_job_id: str, executor: str, reason: FailureReason, detail: str,
                  *, state: JobState = JobState.FAILED,
                  steps: tuple[StepResult, ...] = ()) -> JobResult:
    """A result for a job that ended before or outside its steps (cancelled, infra error)."""
    return JobResult(job_id=spec_job_id, state=state, reason=reason, failed_step=None,
                     detail=detail, steps=steps, wall_seconds=0.0, cpu_seconds=0.0,
                     gpu_seconds=0.0, peak_memory_bytes=0, files={}, enforcement={},
                     executor=executor)


__all__ = [
    "Executor", "ExecutorError", "FailureReason", "JobHandle", "JobResult", "JobSpec",
    "JobState", "Limits", "Mount", "SpecError", "Step", "StepResult", "UnknownJob",
    "failed_result", "result_from_json", "result_to_json", "spec_from_json",
    "spec_to_json",
]
