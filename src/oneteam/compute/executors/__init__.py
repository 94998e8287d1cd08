"""Executors: run jobs (a submission, then its grader) behind one interface.

``LocalSandbox`` is the embedded default (bubblewrap on this machine); ``SlurmExecutor``
submits to a Slurm cluster. Both take a ``JobSpec`` and report a ``JobResult``.
"""

from oneteam.compute.executors.base import (
    Executor,
    ExecutorError,
    FailureReason,
    JobHandle,
    JobResult,
    JobSpec,
    JobState,
    Limits,
    Mount,
    SpecError,
    Step,
    StepResult,
    UnknownJob,
)
from oneteam.compute.executors.sandbox import (
    LocalSandbox,
    SandboxConfig,
    SandboxRunner,
    sandbox_unavailable_reason,
)
from oneteam.compute.executors.slurm import SlurmConfig, SlurmExecutor

__all__ = [
    "Executor", "ExecutorError", "FailureReason", "JobHandle", "JobResult", "JobSpec",
    "JobState", "Limits", "LocalSandbox", "Mount", "SandboxConfig", "SandboxRunner",
    "SlurmConfig", "SlurmExecutor", "SpecError", "Step", "StepResult", "UnknownJob",
    "sandbox_unavailable_reason",
]
