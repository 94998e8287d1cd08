"""A validator among several: batches apart from ordering, Tendermint over batch digests.

The driver around the sans-I/O :class:`TendermintCore`, on a :class:`Node`
(admission, mempool, storage, API) and a :class:`Network` of authenticated
links. One task owns the core: every input (a peer's proposal or vote, a
timeout firing, a decision committed) reaches it through one bounded queue,
and its actions are carried out in order, a WAL entry made durable before
anything after it is sent.

Data path: the node's admitted transactions are packed into signed batches
(``batches.py``) and sent to every validator; a validator verifies a received
batch's transactions in parallel (the node's verifier) before storing it. A
proposal names batches by digest (``ordering.BlockValue``); a validator that
lacks some asks the proposer and the others for them, and takes part in the
round once they arrive (or prevotes nil when the propose timeout fires first).
A decided value becomes a block as on a single node, carrying the value and
its commit certificate; a validator that falls behind fetches committed blocks
from a peer and applies those whose certificate verifies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from oneteam.ledger.batches import BATCH_TXS_MAX, BatchRejected, BatchStore
from oneteam.ledger.chain import (
    BATCH_ORDER_WAIT_S,
    ChainApp,
    FileBatchJournal,
    MissingBatches,
    SyncRejected,
    decode_certificate,
)
from oneteam.ledger.consensus.core import (
    Action,
    Broadcast,
    Decide,
    PersistWal,
    ScheduleTimeout,
    TendermintCore,
    TimeoutConfig,
)
from oneteam.ledger.consensus.messages import (
    Commit,
    CommitCertificate,
    Proposal,
    Vote,
    decode_message,
    encode_message,
    value_id,
)
from oneteam.ledger.consensus.wal import FileWal, WalEntry
from oneteam.ledger.errors import LedgerError
from oneteam.ledger.node import Node
from oneteam.ledger.ordering import VALUE_TXS_MAX
from oneteam.ledger.p2p.link import Address, LinkLimits, Network
from oneteam.ledger.peer_messages import (
    BLOCKS_PER_REQUEST_MAX,
    BatchMsg,
    BatchRequest,
    BatchResponse,
    BlocksRequest,
    BlocksResponse,
    ConsensusMsg,
    PeerMessage,
    decode_peer_message,
    encode_peer_message,
)

__all__ = ["BATCH_ORDER_WAIT_S", "ConsensusEngine", "ValidatorConfig", "decode_certificate"]

log = logging.getLogger("oneteam.ledger.validator")

EVENTS_MAX = 10_000
HELD_PROPOSALS_MAX = 64
BATCH_FETCH_TIMEOUT_S = 2.0
SYNC_INTERVAL_S = 1.0
# Peer links notice a silent partition within seconds (a PING after 1 s of not sending;
# a link that hears nothing for 5 s is closed) and redial often, so that after a heal
# they reconnect at once rather than wait for TCP's backed-off retransmissions.
PEER_LINK_LIMITS = LinkLimits(keepalive_s=1.0, idle_timeout_s=5.0)
PEER_DIAL_TIMEOUT_S = 2.0
PEER_BACKOFF_MAX_S = 1.0
OWN_BATCHES_RESENT_MAX = 64
COMMITS_HANDED_TO_CORE = 16


@dataclass(frozen=True, slots=True)
class ValidatorConfig:
    validators: tuple[bytes, ...]
    p2p_host: str = "127.0.0.1"
    p2p_port: int = 0
    peers: dict[bytes, Address] = field(default_factory=dict)
    batch_interval_ms: int = 20
    batch_txs_max: int = 2048
    empty_block_wait_ms: int = 1000
    timeouts: TimeoutConfig = field(default_factory=lambda: TimeoutConfig(
        propose_ms=1000, propose_delta_ms=500, prevote_ms=500, prevote_delta_ms=250,
        precommit_ms=500, precommit_delta_ms=250))


class ConsensusEngine:
    """Runs a :class:`Node` as one validator of several."""

    def __init__(self, node: Node, config: ValidatorConfig) -> None:
        self.node = node
        self.config = config
        # The ledger logic, shared with the simulator: batches, values, commits, the set.
        data_dir = Path(node.config.data_dir)
        self.chain = ChainApp(node, journal=FileBatchJournal(data_dir / "batch-journal"))
        self.chain.restore_journal()
        self._batch_seq = 0
        self.wal = FileWal.open(data_dir / "consensus.wal")
        self.core = self._new_core()
        # Recent decisions first, so the core can hand them to validators that lag.
        self.core.load_commits(self.chain.recent_commits(COMMITS_HANDED_TO_CORE))
        self.core.restore(self.wal.entries())
        self.network = Network(node.keypair, node.chain_id, self._is_allowed,
                               host=config.p2p_host, port=config.p2p_port,
                               address_book=config.peers, inbox_max=4096,
                               limits=PEER_LINK_LIMITS, dial_timeout_s=PEER_DIAL_TIMEOUT_S,
                               backoff_max_s=PEER_BACKOFF_MAX_S)
        self._events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(EVENTS_MAX)
        # Proposals and commits whose batches are not here yet, by value id and round.
        self._held: OrderedDict[bytes, Proposal | Commit] = OrderedDict()
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: list[asyncio.TimerHandle] = []
        self._last_progress = time.monotonic()
        self._syncing = False
        self._own_batches: OrderedDict[bytes, None] = OrderedDict()
        self.statistics_counts: dict[str, int] = {
            "batches_made": 0, "batches_received": 0, "batches_rejected": 0,
            "batches_fetched": 0, "batches_resent": 0, "blocks_synced": 0,
            "blocks_rejected": 0, "heights_decided": 0}

    @property
    def batches(self) -> BatchStore:
        return self.chain.batches

    @property
    def validators(self) -> tuple[bytes, ...]:
        """The validator set of the height being decided."""
        return self.chain.validators

    # -- the validator set -----------------------------------------------------------------

    def _new_core(self) -> TendermintCore:
        me = self.node.keypair
        validators = self.chain.validators
        signer = me if me.public_key in validators else None  # else an observer
        return TendermintCore(self.node.chain_id, list(validators), signer, self.chain,
                              timeouts=self.config.timeouts)

    def _is_allowed(self, public_key: bytes) -> bool:
        return public_key in self.chain.allowed

    async def _start_height(self, height: int) -> None:
        """Begin ``height``, with a new core if a validator-set change takes effect."""
        if self.chain.refresh_validators(height):
            log.info("height %d: validator set of %d takes effect", height, len(self.validators))
            self.core = self._new_core()
            self.core.load_commits(self.chain.recent_commits(COMMITS_HANDED_TO_CORE))
        self.network.revalidate()
        self.wal.prune_below(height)
        self.chain.journal.prune_below(height)
        await self._perform(self.core.start_height(height))

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        await self.network.start()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._consensus_loop(), name="consensus"),
            loop.create_task(self._inbound_loop(), name="peer-inbound"),
            loop.create_task(self._batch_loop(), name="batcher"),
            loop.create_task(self._sync_loop(), name="sync"),
        ]

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.network.stop()
        self.wal.close()

    @property
    def p2p_address(self) -> Address:
        return self.network.address

    def statistics(self) -> dict[str, Any]:
        return {**self.statistics_counts, "held_proposals": len(self._held),
                "batches_stored": len(self.batches),
                "peers_connected": len(self.network.connected),
                "validators": len(self.validators),
                "core": self.core.statistics()}

    # -- the one owner of the core -------------------------------------------------------

    async def _consensus_loop(self) -> None:
        try:
            await self._run_consensus()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # A validator that can no longer decide must not go on serving as if it
            # could: the node fails, and the server stops with a non-zero status.
            log.exception("consensus stopped; the node stops")
            self.node.failure = f"consensus failed: {error!r}"
            self.node.failed.set()

    async def _run_consensus(self) -> None:
        await self._start_height(self.node.store.height + 1)
        while True:
            kind, payload = await self._events.get()
            if kind == "proposal":
                actions = self.core.on_proposal(payload)
            elif kind == "vote":
                actions = self.core.on_vote(payload)
            elif kind == "commit":
                actions = self.core.on_commit(payload)
            elif kind == "timeout":
                actions = self.core.on_timeout(*payload)
            elif kind == "rebroadcast":
                actions = self.core.rebroadcast()
            elif kind == "synced":
                # Blocks were applied from a peer: move the core to the next height.
                actions = []
                if payload >= self.core.height:
                    await self._start_height(payload + 1)
            else:
                raise AssertionError(f"unknown event {kind}")
            await self._perform(actions)

    async def _perform(self, actions: list[Action]) -> None:
        pending_wal = []
        for action in actions:
            if isinstance(action, PersistWal):
                pending_wal.append(action.entry)
                continue
            if pending_wal:
                await asyncio.to_thread(self._persist, pending_wal)
                pending_wal = []
            if isinstance(action, Broadcast):
                await self._broadcast_consensus(action.message)
            elif isinstance(action, ScheduleTimeout):
                self._schedule(action)
            elif isinstance(action, Decide):
                await self._commit_decision(action.height, action.value, action.certificate)
                self._last_progress = time.monotonic()
                await self._wait_for_work()
                await self._start_height(action.height + 1)
                return
        if pending_wal:
            await asyncio.to_thread(self._persist, pending_wal)

    def _persist(self, entries: list[WalEntry]) -> None:
        """The batches the entries vote for, then the entries: durable before sending."""
        self.chain.journal_for(entries)
        self.wal.append_many(entries)

    async def _wait_for_work(self) -> None:
        """Pause an empty chain: wait (bounded) for a pending batch before the next height."""
        deadline = time.monotonic() + self.config.empty_block_wait_ms / 1000
        while not self.batches.pending(1) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    def _schedule(self, action: ScheduleTimeout) -> None:
        loop = asyncio.get_running_loop()
        self._timers = [t for t in self._timers if not t.cancelled()][-64:]

        def fire() -> None:
            with contextlib.suppress(asyncio.QueueFull):
                self._events.put_nowait(("timeout", (action.kind, action.height, action.round)))

        self._timers.append(loop.call_later(action.delay_ms / 1000, fire))

    async def _broadcast_consensus(self, message: Proposal | Vote | Commit) -> None:
        data = encode_message(message)
        kind = type(message).__name__.lower()
        await self.network.broadcast(encode_peer_message(ConsensusMsg(kind, data)), 2.0)

    # -- committing a decision -----------------------------------------------------------

    async def _commit_decision(self, height: int, value: bytes,
                               certificate: CommitCertificate) -> None:
        deadline = time.monotonic() + 30
        loop = asyncio.get_running_loop()
        while True:
            try:
                committed = await loop.run_in_executor(
                    self.node._exec_thread, self.chain.commit_decided, height, value,
                    certificate)
                break
            except MissingBatches as missing:
                if time.monotonic() > deadline:
                    raise LedgerError(f"height {height}: batches of the decided value could "
                                      "not be fetched from any peer") from None
                await self._fetch_batches(missing.digests)
        if committed is not None:  # None: the same block arrived from a peer meanwhile
            self.node.after_commit(committed.block, committed.txs, committed.unconsumed)
            self.statistics_counts["heights_decided"] += 1

    # -- batches -------------------------------------------------------------------------

    async def _batch_loop(self) -> None:
        interval_s = self.config.batch_interval_ms / 1000
        while True:
            await asyncio.sleep(interval_s)
            mempool = self.node.mempool
            while mempool.ready_count:
                taken = mempool.take(min(self.config.batch_txs_max, BATCH_TXS_MAX))
                made = self.chain.make_batches(taken, self._batch_seq)
                self._batch_seq += len(made)
                for digest, wire in made:
                    self._own_batches[digest] = None
                    while len(self._own_batches) > OWN_BATCHES_RESENT_MAX:
                        self._own_batches.popitem(last=False)
                    self.statistics_counts["batches_made"] += 1
                    await self.network.broadcast(encode_peer_message(BatchMsg(wire)), 5.0)

    async def _accept_batch(self, wire: bytes) -> bytes | None:
        try:
            digest, body = self.chain.open_batch(wire)
        except BatchRejected as error:
            self.statistics_counts["batches_rejected"] += 1
            log.info("batch refused: %s", error.reason)
            return None
        if digest in self.batches:
            return digest
        verdicts = await self.node.verifier.verify(body.txs)
        if not self.chain.store_batch(digest, wire, verdicts):
            self.statistics_counts["batches_rejected"] += 1
            return None
        self.statistics_counts["batches_received"] += 1
        self._release_held()
        return digest

    async def _fetch_batches(self, digests: list[bytes]) -> None:
        if not digests:
            return
        request = encode_peer_message(BatchRequest(digests[:256]))
        await self.network.broadcast(request, 2.0)
        deadline = time.monotonic() + BATCH_FETCH_TIMEOUT_S
        while self.batches.missing(digests) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    def _hold(self, message: Proposal | Commit, missing: list[bytes]) -> bytes:
        """Keep a proposal or commit until its batches are here; returns the request."""
        round_ = message.round if isinstance(message, Proposal) else message.certificate.round
        key = value_id(message.value) + round_.to_bytes(8, "big", signed=True) + (
            b"p" if isinstance(message, Proposal) else b"c")
        self._held[key] = message
        while len(self._held) > HELD_PROPOSALS_MAX:
            self._held.popitem(last=False)
        return encode_peer_message(BatchRequest(missing[:256]))

    def _release_held(self) -> None:
        for key, message in list(self._held.items()):
            if not self.chain.missing_batches(message.value):
                del self._held[key]
                kind = "proposal" if isinstance(message, Proposal) else "commit"
                with contextlib.suppress(asyncio.QueueFull):
                    self._events.put_nowait((kind, message))

    # -- messages from peers --------------------------------------------------------------

    async def _inbound_loop(self) -> None:
        while True:
            try:
                peer, data = await self.network.recv(60)
            except TimeoutError:
                continue
            try:
                message = decode_peer_message(data)
            except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
                log.info("undecodable message from %s dropped", peer.hex()[:16])
                continue
            try:
                await self._handle(peer, message)
            except (LedgerError, msgspec.DecodeError, msgspec.ValidationError) as error:
                log.info("message from %s dropped: %s", peer.hex()[:16], error)

    async def _handle(self, peer: bytes, message: PeerMessage) -> None:
        if isinstance(message, BatchMsg):
            await self._accept_batch(message.wire)
        elif isinstance(message, BatchRequest):
            # One response per group that fits a peer message.
            for wires in self.chain.batch_responses(message.digests):
                await self.network.send_to(peer, encode_peer_message(BatchResponse(wires)), 2.0)
        elif isinstance(message, BatchResponse):
            for wire in message.wires[:256]:
                if await self._accept_batch(wire) is not None:
                    self.statistics_counts["batches_fetched"] += 1
        elif isinstance(message, ConsensusMsg):
            await self._consensus_message(peer, message.data)
        elif isinstance(message, BlocksRequest):
            blocks = self.chain.blocks_from(message.start, message.count)
            if blocks:
                await self.network.send_to(peer, encode_peer_message(BlocksResponse(blocks)),
                                           5.0)
        elif isinstance(message, BlocksResponse):
            await self._apply_blocks(message.blocks)

    async def _consensus_message(self, peer: bytes, data: bytes) -> None:
        decoded = decode_message(data)
        if isinstance(decoded, Proposal | Commit):
            missing = self.chain.missing_batches(decoded.value)
            if missing:
                # Take part once the batches are here (the core keeps one verdict per
                # value, so it must not judge a value before): ask the others for them.
                await self.network.broadcast(self._hold(decoded, missing), 2.0)
                return
            await self._events.put(("proposal" if isinstance(decoded, Proposal)
                                    else "commit", decoded))
        elif isinstance(decoded, Vote):
            if decoded.height > self.node.store.height + 2:
                self._request_sync(peer)
            await self._events.put(("vote", decoded))

    # -- catching up -------------------------------------------------------------------------

    def _request_sync(self, peer: bytes) -> None:
        if self._syncing:
            return
        self._syncing = True
        request = BlocksRequest(self.node.store.height + 1, BLOCKS_PER_REQUEST_MAX)

        async def ask() -> None:
            try:
                await self.network.send_to(peer, encode_peer_message(request), 2.0)
            except LedgerError:
                pass
            finally:
                await asyncio.sleep(0.5)
                self._syncing = False

        asyncio.get_running_loop().create_task(ask())

    async def _resend_own_batches(self, seen_links: dict[bytes, object]) -> None:
        """Send this validator's uncommitted batches again over each link opened since
        the last look: a batch is pushed once, to the peers connected then, so a peer
        that was cut off or restarted would otherwise lack it."""
        links = self.network.links()
        fresh = [peer for peer, link in links.items() if seen_links.get(peer) is not link]
        seen_links.clear()
        seen_links.update(links)
        if not fresh:
            return
        pending = set(self.batches.pending(VALUE_TXS_MAX * 4))
        own = [d for d in self._own_batches if d in pending][-OWN_BATCHES_RESENT_MAX:]
        for peer in fresh:
            for digest in own:
                wire = self.batches.wire(digest)
                if wire is None:
                    continue
                try:
                    await self.network.send_to(peer, encode_peer_message(BatchMsg(wire)), 2.0)
                except LedgerError:
                    break
            self.statistics_counts["batches_resent"] += len(own)

    async def _sync_loop(self) -> None:
        """When no height was decided for a while, ask a peer for the blocks we lack;
        give peers on new links the batches of ours they may have missed."""
        seen_links: dict[bytes, object] = {}
        while True:
            await asyncio.sleep(SYNC_INTERVAL_S)
            await self._resend_own_batches(seen_links)
            stalled = time.monotonic() - self._last_progress > 3 * SYNC_INTERVAL_S
            connected = sorted(self.network.connected)
            if stalled and connected:
                peer = connected[int(time.monotonic()) % len(connected)]
                self._request_sync(peer)
                # Through the queue: the core has one owner, and what it re-sends
                # goes out only after any WAL entry before it is durable.
                with contextlib.suppress(asyncio.QueueFull):
                    self._events.put_nowait(("rebroadcast", None))

    async def _apply_blocks(self, raws: list[bytes]) -> None:
        applied = -1
        loop = asyncio.get_running_loop()
        for raw in raws[:BLOCKS_PER_REQUEST_MAX]:
            try:
                synced = self.chain.check_synced_block(raw)
                if synced is None:
                    continue
                verdicts = await self.node.verifier.verify(synced.block.txs)
                committed = await loop.run_in_executor(
                    self.node._exec_thread, self.chain.commit_synced, synced, verdicts)
            except SyncRejected as error:
                self.statistics_counts["blocks_rejected"] += 1
                log.info("synced block refused: %s", error.reason)
                break
            if committed is None:
                continue
            self.node.after_commit(committed.block, committed.txs, committed.unconsumed)
            self.statistics_counts["blocks_synced"] += 1
            applied = committed.block.header.height
        if applied >= 0:
            self._last_progress = time.monotonic()
            await self._events.put(("synced", applied))
