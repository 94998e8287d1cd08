"""The consensus core stays sans-I/O: no clock, no randomness, no files, no sockets."""

from __future__ import annotations

from pathlib import Path

from ...test_project import imported_modules

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "oneteam" / "ledger" / "consensus"
IO_AND_CLOCK = ("asyncio", "socket", "os", "io", "pathlib", "time", "datetime", "random",
                "secrets", "threading", "concurrent", "subprocess", "select", "selectors",
                "aiohttp", "lmdb", "logging", "shutil", "tempfile")


def offenders(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(name for name in imported_modules(path)
                  if any(name == f or name.startswith(f + ".") for f in forbidden))


def test_the_core_and_its_messages_do_no_io_and_read_no_clock() -> None:
    for name in ("core.py", "messages.py"):
        assert offenders(PACKAGE / name, IO_AND_CLOCK) == [], name
    consensus = "oneteam.ledger.consensus"
    assert offenders(PACKAGE / "core.py", (f"{consensus}.wal", f"{consensus}.sim")) == []


def test_only_the_wal_and_the_simulator_touch_files_and_only_the_simulator_draws_random(
        ) -> None:
    """The simulator runs real nodes, whose stores are files in a temporary directory;
    it opens no socket, starts no thread and runs no event loop."""
    files = sorted(PACKAGE.glob("*.py"))
    assert {f.name for f in files} >= {"core.py", "messages.py", "wal.py", "sim.py"}
    for path in files:
        if path.name not in ("wal.py", "sim.py"):
            assert offenders(path, ("os", "io", "pathlib", "shutil", "tempfile")) == [], (
                path.name)
        if path.name != "sim.py":
            assert offenders(path, ("random", "secrets")) == [], path.name
    assert offenders(PACKAGE / "sim.py", ("socket", "asyncio", "threading",
                                          "subprocess")) == []
