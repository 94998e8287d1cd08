"""Fixtures for the executors: the local sandbox, and a real single-node Slurm cluster.

Both skip, saying why, when their software is missing, and fail instead when
ONETEAM_REQUIRE_SANDBOX=1 or ONETEAM_REQUIRE_SLURM=1 (as .ci/run sets).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from oneteam.compute.executors import LocalSandbox, SandboxConfig, sandbox_unavailable_reason
from tests.compute.slurm_cluster import Cluster, running_cluster, unavailable_reason


def sandbox_or_skip() -> None:
    reason = sandbox_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("ONETEAM_REQUIRE_SANDBOX") == "1":
        pytest.fail(f"the local sandbox cannot run: {reason} (and ONETEAM_REQUIRE_SANDBOX=1)")
    pytest.skip(f"the local sandbox cannot run: {reason}")


@pytest.fixture(scope="session")
def sandbox() -> Iterator[LocalSandbox]:
    """One local sandbox for the session, two jobs at a time."""
    sandbox_or_skip()
    executor = LocalSandbox(SandboxConfig(slots=2))
    yield executor
    executor.close()


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[Cluster]:
    """A real Slurm cluster (munged, slurmdbd, slurmctld, slurmd on loopback), per session."""
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("ONETEAM_REQUIRE_SLURM") == "1":
            pytest.fail(f"Slurm tests cannot run: {reason} (and ONETEAM_REQUIRE_SLURM=1)")
        pytest.skip(f"Slurm tests cannot run: {reason}")
    sandbox_or_skip()
    directory = Path(tempfile.mkdtemp(prefix="oneteam-slurm-"))
    try:
        with running_cluster(directory) as cluster:
            yield cluster
    finally:
        shutil.rmtree(directory, ignore_errors=True)
