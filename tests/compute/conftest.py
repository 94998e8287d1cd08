"""Fixtures for the executors: the local sandbox, and a real single-node Slurm cluster.

Both skip, saying why, when their software is missing, and fail instead when
ONETEAM_REQUIRE_SANDBOX=1 or ONETEAM_REQUIRE_SLURM=1 (as .ci/run sets).
"""

from __future__ import annotations

import contextlib
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


class _SharedCluster:
    """The one Slurm test cluster of this process, and how many fixtures hold it.

    Test modules elsewhere import ``slurm_cluster``, which makes pytest keep a fixture per
    module that imports it; they all share this cluster (its name and accounting database
    are per process, so two at once would collide), which stops when the last lets go.
    """

    cluster: Cluster | None = None
    holders = 0
    stack: contextlib.ExitStack | None = None


@contextlib.contextmanager
def shared_slurm_cluster() -> Iterator[Cluster]:
    """The process's Slurm cluster, started on first use; skips (or fails) as the fixture."""
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("ONETEAM_REQUIRE_SLURM") == "1":
            pytest.fail(f"Slurm tests cannot run: {reason} (and ONETEAM_REQUIRE_SLURM=1)")
        pytest.skip(f"Slurm tests cannot run: {reason}")
    sandbox_or_skip()
    if _SharedCluster.cluster is None:
        stack = contextlib.ExitStack()
        try:
            directory = Path(tempfile.mkdtemp(prefix="oneteam-slurm-"))
            stack.callback(shutil.rmtree, directory, ignore_errors=True)
            _SharedCluster.cluster = stack.enter_context(running_cluster(directory))
        except BaseException:
            stack.close()
            raise
        _SharedCluster.stack = stack
    _SharedCluster.holders += 1
    try:
        yield _SharedCluster.cluster
    finally:
        _SharedCluster.holders -= 1
        if _SharedCluster.holders == 0 and _SharedCluster.stack is not None:
            stack, _SharedCluster.stack, _SharedCluster.cluster = _SharedCluster.stack, None, None
            stack.close()


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[Cluster]:
    """A real Slurm cluster (munged, slurmdbd, slurmctld, slurmd on loopback), per session."""
    with shared_slurm_cluster() as cluster:
        yield cluster
