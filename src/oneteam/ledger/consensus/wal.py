"""The consensus write-ahead log: what a validator signed, and its lock, kept across crashes.

:class:`WalEntry` (defined with the other formats in ``messages``) is the record; the
core emits it in a ``PersistWal`` action before the ``Broadcast`` of the message it
records, and the driver makes it durable before sending. :class:`FileWal` is the file
the driver appends to — the only code of the consensus package that touches files.

File format: the magic line ``oneteam-wal-v1\\n``, then records, each a 4-byte
big-endian payload length, the 4-byte big-endian CRC-32 (zlib) of the payload, and the
payload, a MessagePack ``WalEntry`` (the same framing as ``blocks.log``). Every append is
fsynced before it returns, so only the last record can be torn by a crash: on opening,
a bad record with no good record anywhere after it is cut off; a bad record followed by a
good one is corruption, and opening fails rather than forget something the validator
signed.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import msgspec

from oneteam.ledger.consensus.messages import Step, WalEntry
from oneteam.ledger.errors import StorageCorrupt
from oneteam.ledger.invariants import InvariantViolation, check

MAGIC: Final = b"oneteam-wal-v1\n"
RECORD_BYTES_MAX: Final = 4 << 20
_HEADER = struct.Struct(">II")  # payload length, CRC-32 of payload


_encoder = msgspec.msgpack.Encoder()
_entry_decoder = msgspec.msgpack.Decoder(WalEntry)

__all__ = ["MAGIC", "FileWal", "Step", "WalEntry", "decode_entry", "encode_entry", "frame"]


def encode_entry(entry: WalEntry) -> bytes:
    return _encoder.encode(entry)


def decode_entry(data: bytes) -> WalEntry:
    return _entry_decoder.decode(data)


def frame(entry: WalEntry) -> bytes:
    payload = encode_entry(entry)
    check(0 < len(payload) <= RECORD_BYTES_MAX, f"WAL entry of {len(payload)} bytes")
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def _record_at(data: bytes, offset: int) -> tuple[WalEntry | None, int, str]:
    """The entry framed at ``offset``, the offset after it, and what is wrong if no entry."""
    if len(data) - offset < _HEADER.size:
        return None, len(data), "a record header is cut short"
    length, crc = _HEADER.unpack_from(data, offset)
    end = offset + _HEADER.size + length
    if not 0 < length <= RECORD_BYTES_MAX:
        return None, end, f"a record claims {length} bytes"
    if end > len(data):
        return None, end, "a record is cut short"
    payload = data[offset + _HEADER.size:end]
    if zlib.crc32(payload) != crc:
        return None, end, "a record fails its CRC"
    try:
        return decode_entry(payload), end, ""
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return None, end, "a record does not decode"


def _parse(data: bytes, path: Path) -> tuple[list[WalEntry], int]:
    """The entries in ``data`` (after the magic) and the length of its good prefix.

    A bad record is a torn tail unless a good record can be found somewhere after it:
    appends are fsynced one after another, so a crash can only tear the last one.
    """
    entries: list[WalEntry] = []
    offset = len(MAGIC)
    while offset < len(data):
        entry, end, problem = _record_at(data, offset)
        if entry is not None:
            entries.append(entry)
            offset = end
            continue
        for later in range(offset + 1, len(data) - _HEADER.size):
            if _record_at(data, later)[0] is not None:
                raise StorageCorrupt(
                    f"WAL {path} at byte {offset}: {problem}, and a good record follows "
                    f"at byte {later}")
        return entries, offset
    return entries, offset


class FileWal:
    """An append-only, fsynced file of :class:`WalEntry` records, repaired on opening."""

    def __init__(self, path: Path, fd: int, entries: list[WalEntry], size: int,
                 truncated_bytes: int) -> None:
        self._path = path
        self._fd: int | None = fd
        self._entries = entries
        self._size = size
        self._stats = {"appended": 0, "fsyncs": 0, "truncated_bytes": truncated_bytes,
                       "pruned": 0}

    @classmethod
    def open(cls, path: Path) -> FileWal:
        """Open (or create) the WAL at ``path``, cutting off a torn last record."""
        path = Path(path)
        created = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            data = b""
            while chunk := os.read(fd, 1 << 20):
                data += chunk
            if len(data) < len(MAGIC) and MAGIC.startswith(data):
                data = b""  # created, crashed before the magic was durable
            if not data:
                os.ftruncate(fd, 0)
                os.pwrite(fd, MAGIC, 0)
                os.fsync(fd)
                if created:
                    _fsync_directory(path.parent)
                return cls(path, fd, [], len(MAGIC), 0)
            if not data.startswith(MAGIC):
                raise StorageCorrupt(f"{path} is not a oneteam WAL (bad magic)")
            entries, good = _parse(data, path)
            if good < len(data):
                os.ftruncate(fd, good)
                os.fsync(fd)
            return cls(path, fd, entries, good, len(data) - good)
        except BaseException:
            os.close(fd)
            raise

    @property
    def path(self) -> Path:
        return self._path

    def entries(self) -> list[WalEntry]:
        """Every entry, in the order appended."""
        return list(self._entries)

    def append(self, entry: WalEntry) -> None:
        self.append_many([entry])

    def append_many(self, entries: Iterable[WalEntry]) -> None:
        """Append ``entries`` and fsync once; durable when this returns."""
        batch = list(entries)
        if not batch:
            return
        data = b"".join(frame(entry) for entry in batch)
        fd = self._open_fd()
        written = os.pwrite(fd, data, self._size)
        check(written == len(data), f"short WAL write: {written} of {len(data)} bytes")
        os.fsync(fd)
        self._size += len(data)
        self._entries.extend(batch)
        self._stats["appended"] += len(batch)
        self._stats["fsyncs"] += 1

    def prune_below(self, height: int) -> None:
        """Drop entries of heights below ``height`` (decided and durable elsewhere).

        Rewrites the file to a temporary one, fsyncs it and renames it over the old one,
        so a crash leaves either the old WAL or the new one.
        """
        old_fd = self._open_fd()
        kept = [entry for entry in self._entries if entry.height >= height]
        if len(kept) == len(self._entries):
            return
        temporary = self._path.with_name(self._path.name + ".tmp")
        data = MAGIC + b"".join(frame(entry) for entry in kept)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self._path)
        _fsync_directory(self._path.parent)
        os.close(old_fd)
        self._fd = os.open(self._path, os.O_RDWR)
        self._stats["pruned"] += len(self._entries) - len(kept)
        self._entries = kept
        self._size = len(data)

    def _open_fd(self) -> int:
        if self._fd is None:
            raise InvariantViolation(f"WAL {self._path} used after close")
        return self._fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def statistics(self) -> dict[str, int]:
        return {**self._stats, "entries": len(self._entries), "bytes": self._size}

    def __enter__(self) -> FileWal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
