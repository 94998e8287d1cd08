"""What a Slurm batch job runs on its node: the job's steps, in the local sandbox.

``python -m oneteam.compute.executors.slurm_job SPEC RESULT [--jobs-dir DIR]`` reads the
job specification, runs it with ``SandboxRunner`` (one job, this allocation), and writes
the result, atomically, for ``SlurmExecutor`` to read. GPUs that Slurm gave the job
(``CUDA_VISIBLE_DEVICES``) are passed on to the steps, with the NVIDIA device files when
the node has them. Without bubblewrap on the node the job fails with reason ``error``:
submissions never run unsandboxed.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from oneteam.compute.executors.base import (
    ExecutorError,
    FailureReason,
    failed_result,
    result_to_json,
    spec_from_json,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="slurm_job")
    parser.add_argument("spec", type=Path)
    parser.add_argument("result", type=Path)
    parser.add_argument("--jobs-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    spec = spec_from_json(json.loads(args.spec.read_text()))
    gpu_env = {key: os.environ[key] for key in ("CUDA_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL")
               if key in os.environ}
    if gpu_env:
        spec = replace(spec, env={**spec.env, **gpu_env})
    from oneteam.compute.executors.sandbox import SandboxConfig, SandboxRunner

    try:
        runner = SandboxRunner(SandboxConfig(
            jobs_dir=args.jobs_dir, slots=1,
            device_binds=tuple(sorted(glob.glob("/dev/nvidia*"))) if gpu_env else ()))
        try:
            result = runner.run(spec)
        finally:
            runner.close()
    except ExecutorError as error:
        result = failed_result(spec.job_id, "slurm", FailureReason.ERROR, str(error))
    result = replace(result, executor="slurm",
                     enforcement={**result.enforcement, "node": os.uname().nodename})
    temporary = args.result.with_suffix(".tmp")
    temporary.write_text(json.dumps(result_to_json(result)))
    os.replace(temporary, args.result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
