"""Small job specifications for the executor tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oneteam.compute.executors import JobSpec, Limits, Mount, Step

_counter = [0]


def unique(prefix: str) -> str:
    _counter[0] += 1
    return f"{prefix}-{_counter[0]}"


def python_job(prefix: str, code: str, *, mounts: tuple[Mount, ...] = (),
               files: dict[str, Path] | None = None, **limits: Any) -> JobSpec:
    """One ``run`` step: ``python -c CODE``, under ``Limits(**limits)`` (short defaults)."""
    values = {"wall_seconds": 20, "cpu_seconds": 20, **limits}
    return JobSpec(job_id=unique(prefix), steps=(Step("run", ("python", "-c", code),
                                                      mounts=mounts),),
                   files=files or {}, limits=Limits(**values))
