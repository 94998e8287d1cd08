"""``oneteam bench grading``: how fast the local sandbox grades, and what it costs per job.

It builds the digits lab, queues ``--jobs`` submissions of its reference solution at
once on a ``LocalSandbox`` with ``--slots`` jobs at a time, and waits for every result.
It reports:

- **jobs per minute**: jobs over the time from the first submission to the last result;
- **per-job overhead**: a job's wall time in the executor (from the moment a slot takes
  it, work area set up, both steps, results collected, work area removed) minus the
  lab's own work, which the lab measures inside the sandbox (the runner and the grader
  each time themselves from their first line, the grader reports the sum as
  ``execution_time`` in results.json): what is left is the sandbox's cost —
  namespaces, mounts, process start, watching, copying, clean-up — plus the
  interpreter's start;
- the share of the machine's CPU time in use during the run (both cores busy is the
  point of two slots on two cores).

It prints figures (``--json`` for a JSON object) and asserts nothing; docs/BENCHMARKS.md
keeps the latest figures and the target (overhead under 300 ms per job).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", type=int, default=200, help="submissions to grade")
    parser.add_argument("--slots", type=int, default=2, help="jobs at once")
    parser.add_argument("--lab", default="digits", help="which of the platform's labs")
    parser.add_argument("--json", action="store_true", help="print a JSON object")


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    return {"mean": round(statistics.fmean(ordered) * 1000, 1), "p50": round(at(0.5) * 1000, 1),
            "p95": round(at(0.95) * 1000, 1), "max": round(ordered[-1] * 1000, 1)}


def run_bench(jobs: int, slots: int, lab: str = "digits",
              progress: bool = False) -> dict[str, Any]:
    from oneteam.compute.executors import LocalSandbox, SandboxConfig
    from oneteam.labs.bundles import parse_results
    from oneteam.labs.content import build_bundle, reference_dir
    from oneteam.labs.grading import job_for_submission

    if jobs < 1 or slots < 1:
        raise ValueError("--jobs and --slots must be at least 1")
    with tempfile.TemporaryDirectory(prefix="oneteam-bench-") as temporary:
        bundle = build_bundle(lab, Path(temporary) / "bundle")
        solution = reference_dir(lab) / "solution.py"
        specs = [job_for_submission(bundle, {"solution.py": solution}, job_id=f"bench-{i:05d}")
                 for i in range(jobs)]
        with LocalSandbox(SandboxConfig(slots=slots, queue_max=max(jobs, 1))) as executor:
            busy_before, total_before = _cpu_times()
            started = time.monotonic()
            handles = [executor.submit(spec) for spec in specs]
            results = []
            for index, handle in enumerate(handles, start=1):
                results.append(executor.result(handle, timeout_s=600))
                if progress:
                    print(f"\r{index}/{jobs} graded", end="", file=sys.stderr, flush=True)
            elapsed = time.monotonic() - started
            busy_after, total_after = _cpu_times()
            enforcement = dict(results[0].enforcement)
        if progress:
            print(file=sys.stderr)
    failed = [r for r in results if not r.succeeded]
    overheads, walls, works = [], [], []
    for result in results:
        if not result.succeeded:
            continue
        parsed = parse_results(result.files["results/results.json"])
        work = parsed.execution_time or 0.0
        walls.append(result.wall_seconds)
        works.append(work)
        overheads.append(result.wall_seconds - work)
    if not overheads:
        raise RuntimeError(f"every job failed; the first: {failed[0].detail}")
    cpu_share = (busy_after - busy_before) / max(1, total_after - total_before)
    return {
        "lab": lab, "jobs": jobs, "slots": slots, "failed": len(failed),
        "elapsed_s": round(elapsed, 2),
        "jobs_per_minute": round(jobs / elapsed * 60, 1),
        "overhead_ms": _percentiles(overheads),
        "job_wall_ms": _percentiles(walls),
        "lab_work_ms": _percentiles(works),
        "cpu_busy_share": round(cpu_share, 3),
        "cpus": os.cpu_count(),
        "enforcement": enforcement,
        "machine": {"python": platform.python_version(), "kernel": platform.release()},
    }


def run(args: argparse.Namespace) -> int:
    from oneteam.compute.executors import ExecutorError

    try:
        figures = run_bench(args.jobs, args.slots, args.lab, progress=sys.stderr.isatty())
    except (ExecutorError, ValueError, RuntimeError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    overhead = figures["overhead_ms"]
    print(f"{figures['jobs']} {figures['lab']} submissions, {figures['slots']} at a time: "
          f"{figures['jobs_per_minute']} jobs/min, overhead per job mean {overhead['mean']} ms,"
          f" p50 {overhead['p50']} ms, p95 {overhead['p95']} ms; CPU busy "
          f"{figures['cpu_busy_share']:.0%}; failed {figures['failed']}")
    return 0
