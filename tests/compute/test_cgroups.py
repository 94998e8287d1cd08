"""The cgroup v2 helper, on a stand-in directory tree shaped like /sys/fs/cgroup (the test
machines have cgroup v1 controllers, so the sandbox falls back to rlimits there)."""

from __future__ import annotations

from pathlib import Path

from oneteam.compute.executors.cgroups import CgroupParent


def fake_root(tmp_path: Path, delegated: str) -> Path:
    root = tmp_path / "cgroup"
    own = root / "service"
    (own / "oneteam-sandbox").mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.subtree_control").write_text(delegated)
    (own / "oneteam-sandbox" / "cgroup.controllers").write_text("memory pids\n")
    (own / "oneteam-sandbox" / "cgroup.subtree_control").write_text("")
    return root


def test_a_delegated_parent_is_found_and_steps_get_limits(tmp_path: Path) -> None:
    root = fake_root(tmp_path, "memory pids\n")
    parent = CgroupParent.find(root, "/service")
    assert parent is not None
    assert (parent.path / "cgroup.subtree_control").read_text() == "+memory +pids"
    step = parent.create("job-run", memory_bytes=1 << 30, processes=64)
    assert (step.path / "memory.max").read_text() == str(1 << 30)
    assert (step.path / "pids.max").read_text() == "64"
    assert step.procs_file == step.path / "cgroup.procs"
    (step.path / "memory.peak").write_text("123456\n")
    (step.path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    (step.path / "pids.events").write_text("max 0\n")
    (step.path / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\n")
    usage = step.usage()
    assert (usage.memory_peak_bytes, usage.oom_kills, usage.pids_max_hits) == (123456, 1, 0)
    assert usage.cpu_seconds == 2.5
    step.kill()
    assert (step.path / "cgroup.kill").read_text() == "1"


def test_without_delegation_or_v2_there_is_no_parent(tmp_path: Path) -> None:
    assert CgroupParent.find(fake_root(tmp_path / "a", "cpu\n"), "/service") is None
    assert CgroupParent.find(tmp_path / "nothing", "/service") is None
