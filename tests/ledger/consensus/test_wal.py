"""The file WAL: durable appends, a torn last record cut off, corruption refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from oneteam.ledger.consensus.core import PersistWal
from oneteam.ledger.consensus.wal import MAGIC, FileWal, WalEntry, frame
from oneteam.ledger.errors import StorageCorrupt

from .conftest import feed, make_core, prevote, proposal


def some_entries() -> list[WalEntry]:
    """Real entries: a proposer's proposal and prevote at height 1, a lock at height 2."""
    core = make_core(1)
    actions = core.start_height(1)
    actions += feed(core, prevote(2, 1, 0, b"value-1-1-1"), prevote(3, 1, 0, b"value-1-1-1"))
    actions += core.start_height(2)
    actions += core.on_timeout("propose", 2, 0)
    entries = [a.entry for a in actions if isinstance(a, PersistWal)]
    assert {e.height for e in entries} == {1, 2} and len(entries) >= 4
    return entries


def test_entries_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "consensus.wal"
    entries = some_entries()
    with FileWal.open(path) as wal:
        wal.append(entries[0])
        wal.append_many(entries[1:])
        assert wal.statistics()["fsyncs"] == 2
    with FileWal.open(path) as wal:
        assert wal.entries() == entries
        assert wal.statistics()["truncated_bytes"] == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("cut", [1, 5, 9, -1])
def test_a_torn_last_record_is_cut_off_and_appending_goes_on(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "consensus.wal"
    entries = some_entries()
    with FileWal.open(path) as wal:
        wal.append_many(entries)
    last = len(frame(entries[-1]))
    size = path.stat().st_size
    os.truncate(path, size - last + cut if cut > 0 else size + cut)  # a crash mid-append
    with FileWal.open(path) as wal:
        assert wal.entries() == entries[:-1]
        assert wal.statistics()["truncated_bytes"] > 0
        wal.append(entries[-1])
    with FileWal.open(path) as wal:
        assert wal.entries() == entries


def test_a_zero_filled_tail_is_cut_off(tmp_path: Path) -> None:
    path = tmp_path / "consensus.wal"
    entries = some_entries()
    with FileWal.open(path) as wal:
        wal.append_many(entries)
    with path.open("ab") as handle:  # a file system that grew the file, not its contents
        handle.write(bytes(4096))
    with FileWal.open(path) as wal:
        assert wal.entries() == entries


def test_a_bad_record_followed_by_good_ones_is_corruption(tmp_path: Path) -> None:
    path = tmp_path / "consensus.wal"
    entries = some_entries()
    with FileWal.open(path) as wal:
        wal.append_many(entries)
    data = bytearray(path.read_bytes())
    data[len(MAGIC) + 12] ^= 0xFF  # inside the first record's payload
    path.write_bytes(bytes(data))
    with pytest.raises(StorageCorrupt, match="good record follows"):
        FileWal.open(path)
    assert path.read_bytes() == bytes(data)  # nothing was cut


def test_a_file_that_is_not_a_wal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "consensus.wal"
    path.write_bytes(b"something else entirely\n")
    with pytest.raises(StorageCorrupt, match="magic"):
        FileWal.open(path)


def test_a_wal_whose_magic_was_torn_at_creation_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "consensus.wal"
    path.write_bytes(MAGIC[:5])
    with FileWal.open(path) as wal:
        assert wal.entries() == []
    assert path.read_bytes() == MAGIC


def test_pruning_keeps_the_heights_still_open(tmp_path: Path) -> None:
    path = tmp_path / "consensus.wal"
    entries = some_entries()
    with FileWal.open(path) as wal:
        wal.append_many(entries)
        wal.prune_below(2)
        kept = [e for e in entries if e.height >= 2]
        assert wal.entries() == kept
        wal.append(entries[0])  # appending after pruning goes to the new file
    with FileWal.open(path) as wal:
        assert wal.entries() == [*kept, entries[0]]
    assert not path.with_name(path.name + ".tmp").exists()


def test_a_restart_from_the_file_never_double_signs(tmp_path: Path) -> None:
    """The whole loop: persist what the core asks, crash, reopen, restore, re-send."""
    path = tmp_path / "consensus.wal"
    core = make_core(1)
    actions = core.start_height(1)
    with FileWal.open(path) as wal:
        for action in actions:
            if isinstance(action, PersistWal):
                wal.append(action.entry)
    proposed = [a for a in actions if not isinstance(a, PersistWal)]
    with FileWal.open(path) as wal:
        restored = make_core(1)
        restored.restore(wal.entries())
    again = restored.start_height(1)
    assert [a for a in again if not isinstance(a, PersistWal)][:2] == proposed[:2]
    assert feed(restored, proposal(1, 0, b"value-1-1-1")) == []  # a duplicate of its own
