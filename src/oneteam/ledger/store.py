"""Durable storage: state in LMDB, blocks in an append-only log.

Commit order, which recovery relies on:

1. the block is appended to ``blocks.log`` and fsynced;
2. one LMDB write transaction stores the state writes, the transaction index,
   the block's offset and the new chain tip, and commits (LMDB fsyncs);
3. only then are clients told the block committed.

On open, the log is cut back to the end LMDB recorded: a block appended but
never indexed was never acknowledged, so dropping it loses nothing committed.
Every log record carries its length and a CRC-32, so a torn tail is detected.
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lmdb

from oneteam.ledger.blocks import (
    Block,
    Header,
    decode_block,
    decode_header,
    encode_block,
    encode_header,
)
from oneteam.ledger.contracts.schema import decode_value
from oneteam.ledger.errors import StorageCorrupt
from oneteam.ledger.invariants import check

_RECORD = struct.Struct(">II")  # payload length, CRC-32 of payload
_LOCATION = struct.Struct(">QI")  # height, index in block
_OFFSET = struct.Struct(">QI")  # offset of record, length of payload
_U64 = struct.Struct(">Q")
MAP_SIZE_BYTES = 1 << 36  # 64 GiB of address space; the file grows as needed
CACHE_ENTRIES_MAX = 2_000_000
BLOCK_BYTES_MAX = 256 * 1024 * 1024
HEIGHT_LIMIT = 2**63


@dataclass(frozen=True, slots=True)
class TxLocation:
    height: int
    index: int


@dataclass(frozen=True, slots=True)
class Tip:
    height: int
    block_hash: bytes
    state_root: bytes
    log_end: int


class Store:
    """The node's durable state. One writer (the node's commit path); readers anywhere."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.env = lmdb.open(
            str(self.directory / "state.lmdb"),
            map_size=MAP_SIZE_BYTES,
            max_dbs=8,
            subdir=True,
            sync=True,
            metasync=True,
            readahead=False,
        )
        self.db_state = self.env.open_db(b"state")
        self.db_txs = self.env.open_db(b"txs")
        self.db_blocks = self.env.open_db(b"blocks")
        self.db_meta = self.env.open_db(b"meta")
        self.log_path = self.directory / "blocks.log"
        self._cache: dict[str, Any] = {}
        # Bumped (under the lock) by every commit: a reader that fetched a value
        # from LMDB caches it only if no commit happened since it started reading,
        # so a value read just before a commit can never outlive it in the cache.
        self._cache_lock = threading.Lock()
        self._generation = 0
        self._log_fd = -1
        try:
            self._tip = self._read_tip()
            self._log_fd = os.open(self.log_path, os.O_RDWR | os.O_CREAT, 0o644)
            self._recover_log()
        except BaseException:
            # LMDB refuses a second open of an environment in one process: release it.
            self.close()
            raise

    # -- opening and recovery ------------------------------------------------

    def _read_tip(self) -> Tip | None:
        with self.env.begin(db=self.db_meta) as txn:
            raw = txn.get(b"tip")
        if raw is None:
            return None
        height, log_end = struct.unpack(">QQ", raw[:16])
        return Tip(height, raw[16:48], raw[48:80], log_end)

    def _recover_log(self) -> None:
        size = os.fstat(self._log_fd).st_size
        end = 0 if self._tip is None else self._tip.log_end
        if size < end:
            raise StorageCorrupt(
                f"{self.log_path} has {size} bytes but committed blocks end at {end}"
            )
        if size > end:
            # An appended block whose index never committed: never acknowledged.
            os.ftruncate(self._log_fd, end)
            os.fsync(self._log_fd)

    def close(self) -> None:
        if self._log_fd >= 0:
            os.close(self._log_fd)
            self._log_fd = -1
        self.env.close()

    # -- reads ---------------------------------------------------------------

    @property
    def tip(self) -> Tip | None:
        return self._tip

    @property
    def height(self) -> int:
        """Height of the last committed block; -1 before genesis."""
        return -1 if self._tip is None else self._tip.height

    def get(self, key: str) -> Any:
        """A state value (decoded), or None. Cached; the cache never holds uncommitted data."""
        try:
            return self._cache[key]
        except KeyError:
            pass
        generation = self._generation
        with self.env.begin(db=self.db_state) as txn:
            raw = txn.get(key.encode())
        value = None if raw is None else decode_value(key, raw)
        with self._cache_lock:
            if generation == self._generation:
                if len(self._cache) >= CACHE_ENTRIES_MAX:
                    self._cache.clear()
                self._cache[key] = value
        return value

    def read(self, key: str) -> Any:
        """A state value read from LMDB without touching the cache (for client queries,
        whose keys come from outside and must not be able to evict the working set)."""
        with self.env.begin(db=self.db_state) as txn:
            raw = txn.get(key.encode())
        return None if raw is None else decode_value(key, raw)

    def scan(self, prefix: str, limit: int = 1000) -> list[tuple[str, Any]]:
        """Up to ``limit`` state entries whose keys start with ``prefix``, in key order."""
        out: list[tuple[str, Any]] = []
        raw_prefix = prefix.encode()
        with self.env.begin(db=self.db_state) as txn:
            cursor = txn.cursor()
            if not cursor.set_range(raw_prefix):
                return out
            for raw_key, raw_value in cursor:
                if not raw_key.startswith(raw_prefix) or len(out) >= limit:
                    break
                key = raw_key.decode()
                out.append((key, decode_value(key, raw_value)))
        return out

    def tx_location(self, txid: bytes) -> TxLocation | None:
        with self.env.begin(db=self.db_txs) as txn:
            raw = txn.get(txid)
        if raw is None:
            return None
        height, index = _LOCATION.unpack(raw)
        return TxLocation(height, index)

    def block(self, height: int) -> Block | None:
        raw = self.block_bytes(height)
        return None if raw is None else decode_block(raw)

    def block_bytes(self, height: int) -> bytes | None:
        # Bounded by the LMDB index, not by the in-memory tip: the tx index is read
        # from LMDB too, and a commit publishes its tip only after LMDB committed.
        if not 0 <= height < HEIGHT_LIMIT:
            return None
        with self.env.begin(db=self.db_blocks) as txn:
            raw = txn.get(_U64.pack(height))
        if raw is None:
            return None
        offset, length = _OFFSET.unpack(raw)
        record = os.pread(self._log_fd, _RECORD.size + length, offset)
        stored_length, crc = _RECORD.unpack_from(record)
        payload = record[_RECORD.size:]
        if stored_length != length or zlib.crc32(payload) != crc:
            raise StorageCorrupt(f"block {height} in {self.log_path} fails its checksum")
        return payload

    def header(self, height: int) -> Header | None:
        if not 0 <= height < HEIGHT_LIMIT:
            return None
        with self.env.begin(db=self.db_meta) as txn:
            raw = txn.get(b"h" + _U64.pack(height))
        return None if raw is None else decode_header(raw)

    def headers(self, start: int, stop: int) -> Iterator[Header]:
        with self.env.begin(db=self.db_meta) as txn:
            for height in range(max(0, start), min(stop, self.height + 1)):
                raw = txn.get(b"h" + _U64.pack(height))
                if raw is None:
                    raise StorageCorrupt(f"header {height} is missing below the tip")
                yield decode_header(raw)

    # -- the one write path ----------------------------------------------------

    def commit(
        self,
        block: Block,
        block_hash: bytes,
        writes: list[tuple[bytes, bytes | None]],
        decoded_writes: dict[str, Any],
        txids: list[bytes],
    ) -> None:
        """Make ``block`` and its state changes durable, in the order the module describes."""
        header = block.header
        check(header.height == self.height + 1,
              f"block {header.height} does not follow the tip {self.height}")
        check(len(txids) == len(block.txs), "one id per transaction")
        payload = encode_block(block)
        check(len(payload) <= BLOCK_BYTES_MAX, f"block of {len(payload)} bytes is too large")
        offset = 0 if self._tip is None else self._tip.log_end
        record = _RECORD.pack(len(payload), zlib.crc32(payload)) + payload
        written = os.pwrite(self._log_fd, record, offset)
        check(written == len(record), "short write to the block log")
        os.fsync(self._log_fd)
        log_end = offset + len(record)
        with self.env.begin(write=True) as txn:
            state = txn.cursor(db=self.db_state)
            for key, value in writes:
                if value is None:
                    txn.delete(key, db=self.db_state)
                else:
                    state.put(key, value)
            locations = [
                (txid, _LOCATION.pack(header.height, index)) for index, txid in enumerate(txids)
            ]
            txn.cursor(db=self.db_txs).putmulti(locations)
            txn.put(_U64.pack(header.height), _OFFSET.pack(offset, len(payload)),
                    db=self.db_blocks)
            txn.put(b"h" + _U64.pack(header.height), encode_header(header),
                    db=self.db_meta)
            txn.put(
                b"tip",
                struct.pack(">QQ", header.height, log_end) + block_hash + header.state_root,
                db=self.db_meta,
            )
        with self._cache_lock:
            self._generation += 1
            self._tip = Tip(header.height, block_hash, header.state_root, log_end)
            if len(self._cache) + len(decoded_writes) >= CACHE_ENTRIES_MAX:
                self._cache.clear()
            self._cache.update(decoded_writes)

    def state_digest(self) -> bytes:
        """sha256 over every state entry in key order: for checking two stores agree."""
        digest = hashlib.sha256()
        with self.env.begin(db=self.db_state) as txn:
            for key, value in txn.cursor():
                digest.update(_U64.pack(len(key)) + key + _U64.pack(len(value)) + value)
        return digest.digest()

