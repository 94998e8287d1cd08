"""cgroup v2 limits for sandboxed steps, where the machine delegates them to the worker.

A step's processes go into a cgroup of their own, ``<parent>/oneteam-sandbox/<name>``,
with ``memory.max`` (no swap) and ``pids.max``: the kernel then bounds the memory and the
processes of the whole step, not of each process. That needs a cgroup v2 hierarchy at
``/sys/fs/cgroup`` in which the worker's own cgroup has the ``memory`` and ``pids``
controllers in its ``cgroup.subtree_control`` and is writable (as under a systemd
service with ``Delegate=yes``, or as root on a plain v2 machine). Where that is not so,
``CgroupParent.find()`` returns None and the sandbox falls back to rlimits and its own
watch of the step's processes (the result's ``enforcement`` says which applied).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP_NAME = "oneteam-sandbox"
NEEDED = ("memory", "pids")


@dataclass(frozen=True)
class StepUsage:
    memory_peak_bytes: int
    oom_kills: int
    pids_max_hits: int
    cpu_seconds: float


class CgroupParent:
    """The cgroup under which steps get their own cgroups."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def find(cls, root: Path = CGROUP_ROOT, self_cgroup: str | None = None) -> CgroupParent | None:
        """The delegated parent for this process, or None when limits cannot be set."""
        if not (root / "cgroup.controllers").is_file():
            return None  # not a cgroup v2 hierarchy (v1, or hybrid with v2 elsewhere)
        if self_cgroup is None:
            try:
                lines = Path("/proc/self/cgroup").read_text().splitlines()
            except OSError:
                return None
            self_cgroup = next((line[3:] for line in lines if line.startswith("0::")), None)
            if self_cgroup is None:
                return None
        own = root / self_cgroup.lstrip("/")
        try:
            enabled = (own / "cgroup.subtree_control").read_text().split()
        except OSError:
            return None
        if not all(name in enabled for name in NEEDED) or not os.access(own, os.W_OK):
            return None
        group = own / GROUP_NAME
        try:
            group.mkdir(exist_ok=True)
            available = (group / "cgroup.controllers").read_text().split()
            if not all(name in available for name in NEEDED):
                return None
            (group / "cgroup.subtree_control").write_text(" ".join(f"+{n}" for n in NEEDED))
        except OSError:
            return None
        return cls(group)

    def create(self, name: str, *, memory_bytes: int, processes: int) -> StepCgroup:
        path = self.path / name
        path.mkdir()
        step = StepCgroup(path)
        try:
            (path / "memory.max").write_text(str(memory_bytes))
            with contextlib.suppress(FileNotFoundError):  # no swap controller: no swap to bound
                (path / "memory.swap.max").write_text("0")
            (path / "pids.max").write_text(str(processes))
        except OSError:
            step.remove()
            raise
        return step


class StepCgroup:
    """One step's cgroup: where its processes go, its usage, and how to end it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def procs_file(self) -> Path:
        return self.path / "cgroup.procs"

    def usage(self) -> StepUsage:
        def read_int(name: str) -> int:
            try:
                return int((self.path / name).read_text().strip() or 0)
            except (OSError, ValueError):
                return 0

        def read_keyed(name: str) -> dict[str, int]:
            values: dict[str, int] = {}
            try:
                for line in (self.path / name).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    with contextlib.suppress(ValueError):
                        values[key] = int(value)
            except OSError:
                pass
            return values

        return StepUsage(
            memory_peak_bytes=read_int("memory.peak"),
            oom_kills=read_keyed("memory.events").get("oom_kill", 0),
            pids_max_hits=read_keyed("pids.events").get("max", 0),
            cpu_seconds=read_keyed("cpu.stat").get("usage_usec", 0) / 1e6,
        )

    def kill(self) -> None:
        """Kill every process in the cgroup (cgroup.kill, Linux 5.14 and later)."""
        with contextlib.suppress(OSError):
            (self.path / "cgroup.kill").write_text("1")

    def remove(self, timeout_s: float = 5.0) -> None:
        """Remove the cgroup once its processes are gone (killing any left)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    return
                self.kill()
                time.sleep(0.05)
