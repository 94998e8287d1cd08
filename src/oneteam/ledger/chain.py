"""The node logic of one validator among several, apart from any I/O.

What a validator does with data, whoever carries it: pack admitted transactions into
signed batches, take in peers' batches once their transactions verify, build the value
it proposes, judge the values others propose, turn a decided value (or a block a peer
sends) into a durable block, and find the validator set in force at a height. Both the
asyncio driver of a real validator (:mod:`oneteam.ledger.validator`) and the
deterministic simulator (:mod:`oneteam.ledger.consensus.sim`) run this same code over
a real :class:`Node` (LMDB state, block log, execution); they differ only in how
messages, time and signature verification reach it.

Time is a parameter: ``wall_ms`` gives a proposal's timestamp, ``monotonic_s`` the
clock for holding back out-of-order batches. The real node passes the system clocks,
the simulator its simulated one.
"""

from __future__ import annotations

import logging
import os
import struct
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import msgspec

from oneteam.ledger import merkle
from oneteam.ledger.admission import Rejection
from oneteam.ledger.admission import Verdict as TxVerdict
from oneteam.ledger.batches import (
    BATCH_TXS_MAX,
    BatchBody,
    BatchStore,
    SignedBatch,
    make_batch,
    open_batch,
)
from oneteam.ledger.blocks import Block, decode_block, header_hash
from oneteam.ledger.consensus.messages import (
    NIL,
    Commit,
    CommitCertificate,
    InvalidCertificate,
    commit_problem,
    encode_message,
    value_id,
    verify_certificate,
)
from oneteam.ledger.consensus.wal import WalEntry
from oneteam.ledger.contracts.schema import NEXT_VALIDATORS_KEY, validators_at
from oneteam.ledger.errors import LedgerError, StorageCorrupt
from oneteam.ledger.invariants import check
from oneteam.ledger.node import HeaderMismatch, Node
from oneteam.ledger.ordering import (
    VALUE_BATCHES_MAX,
    VALUE_TXS_MAX,
    BlockValue,
    assemble,
    build_value,
    check_value,
    decode_value,
    encode_value,
)
from oneteam.ledger.peer_messages import BATCHES_PER_REQUEST_MAX, BLOCKS_PER_REQUEST_MAX
from oneteam.ledger.tx import Transaction, decode_unverified

log = logging.getLogger("oneteam.ledger.chain")

# How long a proposer holds back a batch that would run a sender's transaction ahead of
# an earlier nonce it has not received (see ChainApp.batches_in_nonce_order).
BATCH_ORDER_WAIT_S = 3.0
# Peer links carry messages of at most 4 MiB (P2P.md); leave room for framing.
BATCH_WIRE_BYTES_MAX = 3 * 1024 * 1024
SYNC_RESPONSE_BYTES_MAX = 3 * 1024 * 1024
BATCH_RESPONSE_BYTES_MAX = 3 * 1024 * 1024
VALUES_REMEMBERED_MAX = 256
JOURNALED_REMEMBERED_MAX = 4096


class MissingBatches(LedgerError):
    """A decided value names batches this validator does not hold yet."""

    code = "missing_batches"

    def __init__(self, digests: list[bytes]) -> None:
        super().__init__(f"{len(digests)} batches of the decided value are missing")
        self.digests = digests


class SyncRejected(LedgerError):
    """A block a peer sent does not carry a valid decision of the next height."""

    code = "bad_block"


@dataclass(frozen=True, slots=True)
class Committed:
    """A block made durable here, with what the node's bookkeeping needs after it."""

    block: Block
    txs: list[Transaction]
    unconsumed: set[bytes]
    value: BlockValue


@dataclass(frozen=True, slots=True)
class SyncedBlock:
    """A peer's block whose certificate and value check out, ready to execute."""

    block: Block
    value: BlockValue


class BatchJournal(Protocol):
    """Where a validator keeps the batches of values it voted for, across a crash."""

    def write(self, height: int, wires: list[bytes]) -> None: ...

    def load(self, from_height: int) -> list[bytes]: ...

    def prune_below(self, height: int) -> None: ...


class MemoryBatchJournal:
    """A journal that lives as long as its owner (the simulator keeps one per validator
    across its simulated crashes, as a disk would)."""

    def __init__(self) -> None:
        self._heights: dict[int, list[bytes]] = {}

    def write(self, height: int, wires: list[bytes]) -> None:
        self._heights.setdefault(height, []).extend(wires)

    def load(self, from_height: int) -> list[bytes]:
        return [w for h in sorted(self._heights) if h >= from_height for w in self._heights[h]]

    def prune_below(self, height: int) -> None:
        for old in [h for h in self._heights if h < height]:
            del self._heights[old]


class FileBatchJournal:
    """One file per height under ``directory``: records of a 4-byte length, a 4-byte
    CRC-32 and a batch's wire bytes, each write fsynced; a torn last record is ignored
    (the WAL entry that needed it was never written, since the journal goes first)."""

    _HEADER = struct.Struct(">II")

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, height: int) -> Path:
        return self.directory / f"{height:020d}.batches"

    def write(self, height: int, wires: list[bytes]) -> None:
        path = self._path(height)
        created = not path.exists()
        data = b"".join(self._HEADER.pack(len(w), zlib.crc32(w)) + w for w in wires)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            check(os.write(fd, data) == len(data), "short write to the batch journal")
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            directory_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory_fd)
            finally:
                os.close(directory_fd)

    def load(self, from_height: int) -> list[bytes]:
        wires: list[bytes] = []
        for path in sorted(self.directory.glob("*.batches")):
            if int(path.stem) < from_height:
                continue
            data = path.read_bytes()
            offset = 0
            while offset + self._HEADER.size <= len(data):
                length, crc = self._HEADER.unpack_from(data, offset)
                wire = data[offset + self._HEADER.size:offset + self._HEADER.size + length]
                if len(wire) != length or zlib.crc32(wire) != crc:
                    break  # a torn tail
                wires.append(wire)
                offset += self._HEADER.size + length
        return wires

    def prune_below(self, height: int) -> None:
        for path in self.directory.glob("*.batches"):
            if int(path.stem) < height:
                path.unlink(missing_ok=True)


class ChainApp:
    """One validator's ledger logic over a :class:`Node`; see the module docstring."""

    def __init__(self, node: Node, *, wall_ms: Callable[[], int] | None = None,
                 monotonic_s: Callable[[], float] = time.monotonic,
                 batch_capacity: int = 4096, journal: BatchJournal | None = None) -> None:
        self.node = node
        self.chain_id = node.chain_id
        self.batches = BatchStore(batch_capacity)
        # Batches of values this validator voted for are made durable before the vote is
        # (see journal_for): after a crash it can still execute a value it locked on,
        # even if the batches' authors are gone or withhold them.
        self.journal: BatchJournal = journal if journal is not None else MemoryBatchJournal()
        self._journaled: OrderedDict[bytes, None] = OrderedDict()
        self._values: OrderedDict[bytes, bytes] = OrderedDict()  # value id -> value
        self._wall_ms = wall_ms or (lambda: int(time.time() * 1000))
        self._monotonic_s = monotonic_s
        self._held_back: dict[bytes, float] = {}  # batch digest -> since when
        # The set of the height being decided, and the authors whose batches and links
        # are accepted: that set plus any set already scheduled to follow it.
        self.validators: tuple[bytes, ...] = ()
        self.validator_set: frozenset[bytes] = frozenset()
        self.allowed: frozenset[bytes] = frozenset()
        self.refresh_validators(node.store.height + 1)

    # -- the validator set ---------------------------------------------------------------

    def refresh_validators(self, height: int) -> bool:
        """Load the set governing ``height`` from committed state; True if it changed."""
        store = self.node.store
        current = tuple(validators_at(store.get, height))
        pending = store.get(NEXT_VALIDATORS_KEY)
        upcoming = frozenset(pending.validators) if pending is not None else frozenset()
        self.allowed = frozenset(current) | upcoming
        if current == self.validators:
            return False
        self.validators = current
        self.validator_set = frozenset(current)
        return True

    # -- batches ---------------------------------------------------------------------------

    def is_committed(self, txid: bytes) -> bool:
        return self.node.store.tx_location(txid) is not None

    def make_batches(self, txs: Sequence[Transaction], first_seq: int
                     ) -> list[tuple[bytes, bytes]]:
        """Sign ``txs`` into batches that each fit one peer message; store them here.

        Returns (digest, wire) per batch, their sequence numbers from ``first_seq``."""
        made: list[tuple[bytes, bytes]] = []
        start = 0
        while start < len(txs):
            size, end = 0, start
            while end < len(txs) and end - start < BATCH_TXS_MAX and (
                    end == start or size + len(txs[end].wire) <= BATCH_WIRE_BYTES_MAX):
                size += len(txs[end].wire)
                end += 1
            chunk = list(txs[start:end])
            digest, wire = make_batch(self.node.keypair, self.chain_id,
                                      first_seq + len(made), [tx.wire for tx in chunk])
            self.batches.add(digest, wire, chunk)
            made.append((digest, wire))
            start = end
        return made

    def open_batch(self, wire: bytes) -> tuple[bytes, BatchBody]:
        """Check a peer's batch envelope (author in the set, signature); raises
        :class:`BatchRejected`. Its transactions still need verifying."""
        return open_batch(wire, self.chain_id, self.allowed)

    def store_batch(self, digest: bytes, wire: bytes, verdicts: Sequence[TxVerdict]) -> bool:
        """Keep a batch whose transactions were verified; False (and nothing kept) if one
        failed: an honest author batches only transactions it verified."""
        if any(isinstance(v, Rejection) for v in verdicts):
            return False
        self.batches.add(digest, wire, [v for v in verdicts if isinstance(v, Transaction)])
        return True

    def batch_responses(self, digests: Iterable[bytes]) -> list[list[bytes]]:
        """The batches asked for that are held here, in groups that each fit one message."""
        groups: list[list[bytes]] = []
        group: list[bytes] = []
        size = 0
        for count, digest in enumerate(digests):
            if count >= BATCHES_PER_REQUEST_MAX:
                break
            wire = self.batches.wire(digest)
            if wire is None:
                continue
            if group and size + len(wire) > BATCH_RESPONSE_BYTES_MAX:
                groups.append(group)
                group, size = [], 0
            group.append(wire)
            size += len(wire)
        if group:
            groups.append(group)
        return groups

    def missing_batches(self, value: bytes) -> list[bytes]:
        """The batches a value names that are not here ([] for an undecodable value)."""
        try:
            return self.batches.missing(decode_value(value).batches)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            return []

    # -- values ------------------------------------------------------------------------

    def propose_value(self, height: int) -> bytes:
        tip = self.node.store.tip
        check(tip is not None and tip.height == height - 1,
              f"proposing height {height} on tip {tip.height if tip else None}")
        assert tip is not None
        previous = self.node.store.header(tip.height)
        previous_time = 0 if previous is None else previous.time_ms
        value = build_value(chain_id=self.chain_id, height=height,
                            time_ms=max(self._wall_ms(), previous_time + 1),
                            prev_hash=tip.block_hash, proposer=self.node.keypair.public_key,
                            batches=self.batches_in_nonce_order(),
                            is_committed=self.is_committed)
        encoded = encode_value(value)
        self._remember(encoded)
        return encoded

    def batches_in_nonce_order(self) -> BatchStore:
        """The pending batches to propose, leaving out for a while any batch that would
        run a sender's transaction ahead of a nonce not used yet.

        A validator that missed a batch (its link dropped: a partition, a restart) may
        hold its author's next one; proposing that alone would execute the senders'
        later nonces first, failing them (bad_nonce) and stranding the ones after. Such a
        batch waits until the gap is filled (its author proposes the earlier batch, or it
        arrives), at most BATCH_ORDER_WAIT_S.
        """
        view = BatchStore(capacity=VALUE_BATCHES_MAX + 1)
        expected: dict[bytes, int] = {}  # sender -> its next nonce once the view executes
        included: set[bytes] = set()
        held_back: dict[bytes, float] = {}
        now = self._monotonic_s()
        for digest in self.batches.pending(VALUE_TXS_MAX)[:VALUE_BATCHES_MAX]:
            txs = self.batches.transactions(digest)
            wire = self.batches.wire(digest)
            assert txs is not None and wire is not None
            after: dict[bytes, int] = {}
            gap = False
            for tx in txs:
                if tx.txid in included or self.is_committed(tx.txid):
                    continue
                nonce = after.get(tx.sender, expected.get(tx.sender))
                if nonce is None:
                    nonce = self.node._committed_nonce(tx.sender)
                if tx.nonce == nonce:
                    after[tx.sender] = nonce + 1
                elif tx.nonce > nonce:
                    gap = True
            if gap:
                since = self._held_back.get(digest, now)
                if now - since < BATCH_ORDER_WAIT_S:
                    held_back[digest] = since
                    continue
            expected.update(after)
            included.update(tx.txid for tx in txs)
            view.add(digest, wire, txs)
        self._held_back = held_back
        return view

    def value_problem(self, height: int, value: bytes) -> str | None:
        """Why ``value`` is not valid for ``height`` here, or None if it is.

        Its batches must be here: a driver asks only once they are (it holds a proposal
        or commit back and fetches them), because the core keeps a verdict per value."""
        tip = self.node.store.tip
        assert tip is not None
        try:
            proposer = decode_value(value).proposer
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            return "malformed value"
        if proposer not in self.validator_set:
            return "the proposer is not a validator"
        verdict = check_value(value, chain_id=self.chain_id, height=height,
                              prev_hash=tip.block_hash, proposer=proposer,
                              batches=self.batches, is_committed=self.is_committed)
        return None if verdict.valid else verdict.reason

    def _remember(self, value: bytes) -> None:
        self._values[value_id(value)] = value
        while len(self._values) > VALUES_REMEMBERED_MAX:
            self._values.popitem(last=False)

    def journal_for(self, entries: Iterable[WalEntry]) -> None:
        """Make durable the batches of every value these WAL entries propose or vote for,
        before the entries themselves are (the caller writes them next). Blocking."""
        for entry in entries:
            # The value proposed or voted for, and the locked and valid values (what the
            # validator may have to vote for or propose again after a restart).
            values = [entry.locked_value, entry.valid_value]
            if entry.proposal is not None:
                values.append(entry.proposal.value)
            if entry.vote is not None and entry.vote.value_id != NIL:
                values.append(self._values.get(entry.vote.value_id))
            wires = []
            for value in values:
                if value is None:
                    continue
                try:
                    digests = decode_value(value).batches
                except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
                    continue
                for digest in digests:
                    wire = self.batches.wire(digest)
                    if digest not in self._journaled and wire is not None:
                        wires.append(wire)
                        self._journaled[digest] = None
            if wires:
                self.journal.write(entry.height, wires)
        while len(self._journaled) > JOURNALED_REMEMBERED_MAX:
            self._journaled.popitem(last=False)

    def restore_journal(self) -> int:
        """After a restart: the journaled batches of heights not committed yet, back in the
        batch store (they were verified before they were written). Returns how many."""
        count = 0
        for wire in self.journal.load(self.node.store.height + 1):
            try:
                digest, body = open_batch(wire, self.chain_id, frozenset([_author(wire)]))
                txs = [decode_unverified(tx, self.chain_id) for tx in body.txs]
            except (LedgerError, msgspec.DecodeError, msgspec.ValidationError) as error:
                raise StorageCorrupt(f"the batch journal holds a bad batch: {error}") from None
            self.batches.add(digest, wire, txs)
            self._journaled[digest] = None
            count += 1
        return count

    def validate_value(self, height: int, value: bytes) -> bool:
        self._remember(value)
        problem = self.value_problem(height, value)
        if problem is not None:
            log.info("height %d: invalid value: %s", height, problem)
        return problem is None

    # -- committing ----------------------------------------------------------------------

    def already_committed(self, height: int, value: bytes) -> bool:
        """True if ``height`` is committed here, with ``value``; a different value there
        is a safety violation and raises."""
        if height > self.node.store.height:
            return False
        stored = self.node.store.block(height)
        check(stored is not None and value_id(stored.value) == value_id(value),
              f"height {height} was committed with another value: safety violated")
        return True

    def commit_decided(self, height: int, value: bytes, certificate: CommitCertificate
                       ) -> Committed | None:
        """Execute a decided value as the next block and make it durable.

        None if that height is committed already (with this value: see
        :meth:`already_committed`). Raises :class:`MissingBatches` if a batch is not
        here; the caller fetches and calls again. Blocking (execution, fsync)."""
        if self.already_committed(height, value):
            return None
        decoded = decode_value(value)
        txs = assemble(decoded.batches, self.batches, self.is_committed)
        if txs is None:
            raise MissingBatches(self.batches.missing(decoded.batches))
        outcome = self.node.commit_transactions(
            txs, time_ms=decoded.time_ms, proposer=decoded.proposer,
            prev_hash=decoded.prev_hash, height=decoded.height, tx_root=decoded.tx_root,
            value=value, certificate=encode_message(certificate))
        if outcome is None:
            return None
        block, unconsumed = outcome
        self.batches.committed(decoded.batches)
        return Committed(block, txs, unconsumed, decoded)

    def check_synced_block(self, raw: bytes) -> SyncedBlock | None:
        """A peer's block for the next height, its certificate and value checked against
        the set in force; None if it is not for the next height. Raises
        :class:`SyncRejected` naming what is wrong."""
        try:
            block = decode_block(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as error:
            raise SyncRejected(f"undecodable block: {error}") from None
        height = block.header.height
        if height != self.node.store.height + 1:
            return None
        if not block.certificate:
            raise SyncRejected(f"block {height} has no certificate")
        try:
            certificate = decode_certificate(block.certificate)
            value = decode_value(block.value)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as error:
            raise SyncRejected(f"block {height}: undecodable certificate or value: {error}"
                               ) from None
        # The set that decided this height, from the state before it.
        deciders = validators_at(self.node.store.get, height)
        try:
            verify_certificate(certificate, deciders, chain_id=self.chain_id)
        except InvalidCertificate as error:
            raise SyncRejected(f"block {height}: {error.reason}") from None
        if certificate.value_id != value_id(block.value) or certificate.height != height:
            raise SyncRejected(f"block {height}: the certificate is for another value")
        if merkle.merkle_root(block.txs) != value.tx_root or value.height != height \
                or len(block.txs) != value.tx_count:
            raise SyncRejected(f"block {height} does not match its certified value")
        return SyncedBlock(block, value)

    def commit_synced(self, synced: SyncedBlock, verdicts: Sequence[TxVerdict]
                      ) -> Committed | None:
        """Execute a checked peer block whose transactions were verified (``verdicts``);
        the header it executes to must equal the peer's before anything is stored."""
        block = synced.block
        if any(isinstance(v, Rejection) for v in verdicts):
            raise SyncRejected(f"block {block.header.height} holds an invalid transaction")
        txs = [v for v in verdicts if isinstance(v, Transaction)]
        value = synced.value
        try:
            outcome = self.node.commit_transactions(
                txs, time_ms=value.time_ms, proposer=value.proposer,
                prev_hash=value.prev_hash, height=value.height, tx_root=value.tx_root,
                value=block.value, certificate=block.certificate,
                expect_header=header_hash(block.header))
        except HeaderMismatch as error:
            # The certified value is right but the header is not what it executes to:
            # the peer altered it (or our state diverged, which the replay check finds).
            raise SyncRejected(error.reason) from None
        if outcome is None:
            return None
        ours, unconsumed = outcome
        self.batches.committed(value.batches)
        return Committed(ours, txs, unconsumed, value)

    # -- serving peers ---------------------------------------------------------------------

    def blocks_from(self, start: int, count: int) -> list[bytes]:
        """Committed blocks from ``start`` for a peer that lags, within one message."""
        store = self.node.store
        start = max(1, start)
        stop = min(store.height + 1, start + min(count, BLOCKS_PER_REQUEST_MAX))
        blocks: list[bytes] = []
        total = 0
        for height in range(start, stop):
            raw = store.block_bytes(height)
            if raw is None or len(raw) > SYNC_RESPONSE_BYTES_MAX or (
                    blocks and total + len(raw) > SYNC_RESPONSE_BYTES_MAX):
                break
            blocks.append(raw)
            total += len(raw)
        return blocks

    def recent_commits(self, count: int) -> list[Commit]:
        """The last ``count`` decisions of the current validator set, oldest first, for a
        restarted core to hand to validators that lag."""
        store = self.node.store
        commits: list[Commit] = []
        for height in range(max(1, store.height - count + 1), store.height + 1):
            block = store.block(height)
            if block is None or not block.certificate:
                continue
            commit = Commit(value=block.value,
                            certificate=decode_certificate(block.certificate))
            # Decisions of an earlier set do not verify against this one: leave them out.
            if commit_problem(commit, self.validators, self.chain_id) is None:
                commits.append(commit)
        return commits


_certificate_decoder = msgspec.msgpack.Decoder(CommitCertificate)
_signed_batch_decoder = msgspec.msgpack.Decoder(SignedBatch)
_batch_body_decoder = msgspec.msgpack.Decoder(BatchBody)


def _author(wire: bytes) -> bytes:
    """The author a batch names (its signature is checked by open_batch)."""
    return _batch_body_decoder.decode(_signed_batch_decoder.decode(wire).body).author


def decode_certificate(data: bytes) -> CommitCertificate:
    """A block's commit certificate (raises msgspec errors on bad bytes)."""
    return _certificate_decoder.decode(data)
