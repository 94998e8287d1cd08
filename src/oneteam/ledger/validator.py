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

from oneteam.ledger import merkle
from oneteam.ledger.admission import Rejection
from oneteam.ledger.batches import BATCH_TXS_MAX, BatchRejected, BatchStore, make_batch, open_batch
from oneteam.ledger.blocks import Block, decode_block, header_hash
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
    verify_certificate,
)
from oneteam.ledger.consensus.wal import FileWal
from oneteam.ledger.contracts.schema import NEXT_VALIDATORS_KEY, validators_at
from oneteam.ledger.errors import LedgerError
from oneteam.ledger.invariants import check
from oneteam.ledger.node import Node
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
from oneteam.ledger.tx import Transaction, decode_unverified

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
# How long a proposer holds back a batch that would run a sender's transaction ahead of
# an earlier nonce it has not received (see ConsensusEngine._batches_in_nonce_order).
BATCH_ORDER_WAIT_S = 3.0
# Peer links carry messages of at most 4 MiB (P2P.md); leave room for framing.
BATCH_WIRE_BYTES_MAX = 3 * 1024 * 1024
SYNC_RESPONSE_BYTES_MAX = 3 * 1024 * 1024
OWN_BATCHES_RESENT_MAX = 64


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


class _App:
    """What the core asks of the ledger: a value to propose, whether a value is valid."""

    def __init__(self, engine: ConsensusEngine) -> None:
        self.engine = engine

    def propose_value(self, height: int) -> bytes:
        return self.engine.propose_value(height)

    def validate_value(self, height: int, value: bytes) -> bool:
        return self.engine.validate_value(height, value)


class ConsensusEngine:
    """Runs a :class:`Node` as one validator of several."""

    def __init__(self, node: Node, config: ValidatorConfig) -> None:
        self.node = node
        self.config = config
        # The set of the height being decided, and the nodes allowed on the network:
        # that set plus any set already scheduled to follow it.
        self.validators = config.validators
        self._validator_set = frozenset(config.validators)
        self._allowed = frozenset(config.validators)
        self.batches = BatchStore()
        self._batch_seq = 0
        data_dir = node.config.data_dir
        self.wal = FileWal.open(Path(data_dir) / "consensus.wal")
        self._refresh_validators(node.store.height + 1)
        self.core = self._new_core(self.validators)
        self.core.restore(self.wal.entries())
        self.network = Network(node.keypair, node.chain_id, self._is_allowed,
                               host=config.p2p_host, port=config.p2p_port,
                               address_book=config.peers, inbox_max=4096,
                               limits=PEER_LINK_LIMITS, dial_timeout_s=PEER_DIAL_TIMEOUT_S,
                               backoff_max_s=PEER_BACKOFF_MAX_S)
        self._events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(EVENTS_MAX)
        self._held: OrderedDict[bytes, Proposal] = OrderedDict()
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: list[asyncio.TimerHandle] = []
        self._last_progress = time.monotonic()
        self._syncing = False
        self._held_back: dict[bytes, float] = {}  # batch digest -> since when
        self._own_batches: OrderedDict[bytes, None] = OrderedDict()
        self.statistics_counts: dict[str, int] = {
            "batches_made": 0, "batches_received": 0, "batches_rejected": 0,
            "batches_fetched": 0, "batches_resent": 0, "blocks_synced": 0,
            "heights_decided": 0}

    # -- the validator set -----------------------------------------------------------------

    def _new_core(self, validators: tuple[bytes, ...]) -> TendermintCore:
        me = self.node.keypair
        signer = me if me.public_key in validators else None  # else an observer
        return TendermintCore(self.node.chain_id, list(validators), signer, _App(self),
                              timeouts=self.config.timeouts)

    def _is_allowed(self, public_key: bytes) -> bool:
        return public_key in self._allowed

    def _refresh_validators(self, height: int) -> bool:
        """Load the set governing ``height`` from committed state; True if it changed."""
        store = self.node.store
        current = tuple(validators_at(store.get, height))
        pending = store.get(NEXT_VALIDATORS_KEY)
        upcoming = frozenset(pending.validators) if pending is not None else frozenset()
        self._allowed = frozenset(current) | upcoming
        if current == self.validators:
            return False
        self.validators = current
        self._validator_set = frozenset(current)
        return True

    async def _start_height(self, height: int) -> None:
        """Begin ``height``, with a new core if a validator-set change takes effect."""
        if self._refresh_validators(height):
            log.info("height %d: validator set of %d takes effect", height, len(self.validators))
            self.core = self._new_core(self.validators)
        self.network.revalidate()
        self.wal.prune_below(height)
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
                "core": self.core.statistics()}

    # -- the application side of the core ----------------------------------------------

    def _is_committed(self, txid: bytes) -> bool:
        return self.node.store.tx_location(txid) is not None

    def propose_value(self, height: int) -> bytes:
        tip = self.node.store.tip
        assert tip is not None
        previous = self.node.store.header(tip.height)
        previous_time = 0 if previous is None else previous.time_ms
        value = build_value(chain_id=self.node.chain_id, height=height,
                            time_ms=max(int(time.time() * 1000), previous_time + 1),
                            prev_hash=tip.block_hash, proposer=self.node.keypair.public_key,
                            batches=self._batches_in_nonce_order(),
                            is_committed=self._is_committed)
        return encode_value(value)

    def _batches_in_nonce_order(self) -> BatchStore:
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
        now = time.monotonic()
        for digest in self.batches.pending(VALUE_TXS_MAX)[:VALUE_BATCHES_MAX]:
            txs = self.batches.transactions(digest)
            wire = self.batches.wire(digest)
            assert txs is not None and wire is not None
            after: dict[bytes, int] = {}
            gap = False
            for tx in txs:
                if tx.txid in included or self._is_committed(tx.txid):
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

    def validate_value(self, height: int, value: bytes) -> bool:
        tip = self.node.store.tip
        assert tip is not None
        try:
            proposer = decode_value(value).proposer
        except (msgspec.DecodeError, UnicodeDecodeError):
            return False
        if proposer not in self._validator_set:
            return False
        verdict = check_value(value, chain_id=self.node.chain_id, height=height,
                              prev_hash=tip.block_hash, proposer=proposer,
                              batches=self.batches, is_committed=self._is_committed)
        if not verdict.valid and not verdict.missing:
            log.info("height %d: invalid value: %s", height, verdict.reason)
        return verdict.valid

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
                await asyncio.to_thread(self.wal.append_many, pending_wal)
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
            await asyncio.to_thread(self.wal.append_many, pending_wal)

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
        decoded = decode_value(value)
        if height <= self.node.store.height:
            self._check_already_committed(height, value)
            return
        txs = None
        deadline = time.monotonic() + 30
        while txs is None:
            txs = assemble(decoded.batches, self.batches, self._is_committed)
            if txs is None:
                if time.monotonic() > deadline:
                    raise LedgerError(f"height {height}: batches of the decided value could "
                                      "not be fetched from any peer")
                await self._fetch_batches(self.batches.missing(decoded.batches))
        outcome = await asyncio.get_running_loop().run_in_executor(
            self.node._exec_thread, self._execute_and_commit, decoded, value,
            encode_message(certificate), txs)
        if outcome is None:  # the same block arrived from a peer meanwhile
            self._check_already_committed(height, value)
            return
        block, unconsumed = outcome
        self.batches.committed(decoded.batches)
        self.node.after_commit(block, txs, unconsumed)
        self.statistics_counts["heights_decided"] += 1

    def _check_already_committed(self, height: int, value: bytes) -> None:
        stored = self.node.store.block(height)
        check(stored is not None and value_id(stored.value) == value_id(value),
              f"height {height} was committed with another value: safety violated")

    def _execute_and_commit(self, value: BlockValue, value_bytes: bytes, certificate: bytes,
                            txs: list[Transaction]) -> tuple[Block, set[bytes]] | None:
        """On the node's commit thread: the node's one commit path, with the value's fields.

        None when that height is already committed (decided and synced at once)."""
        return self.node.commit_transactions(
            txs, time_ms=value.time_ms, proposer=value.proposer, prev_hash=value.prev_hash,
            height=value.height, tx_root=value.tx_root, value=value_bytes,
            certificate=certificate)

    # -- batches -------------------------------------------------------------------------

    async def _batch_loop(self) -> None:
        interval_s = self.config.batch_interval_ms / 1000
        while True:
            await asyncio.sleep(interval_s)
            mempool = self.node.mempool
            while mempool.ready_count:
                taken = mempool.take(min(self.config.batch_txs_max, BATCH_TXS_MAX))
                # Each batch must fit in one peer-link message.
                start = 0
                while start < len(taken):
                    size, end = 0, start
                    while end < len(taken) and (end == start or size + len(taken[end].wire)
                                                <= BATCH_WIRE_BYTES_MAX):
                        size += len(taken[end].wire)
                        end += 1
                    txs = taken[start:end]
                    start = end
                    digest, wire = make_batch(self.node.keypair, self.node.chain_id,
                                              self._batch_seq, [tx.wire for tx in txs])
                    self._batch_seq += 1
                    self.batches.add(digest, wire, txs)
                    self._own_batches[digest] = None
                    while len(self._own_batches) > OWN_BATCHES_RESENT_MAX:
                        self._own_batches.popitem(last=False)
                    self.statistics_counts["batches_made"] += 1
                    await self.network.broadcast(encode_peer_message(BatchMsg(wire)), 5.0)

    async def _accept_batch(self, wire: bytes) -> bytes | None:
        try:
            digest, body = open_batch(wire, self.node.chain_id, self._allowed)
        except BatchRejected as error:
            self.statistics_counts["batches_rejected"] += 1
            log.info("batch refused: %s", error.reason)
            return None
        if digest in self.batches:
            return digest
        verdicts = await self.node.verifier.verify(body.txs)
        if any(isinstance(v, Rejection) for v in verdicts):
            # An honest author batches only transactions it verified: refuse it whole.
            self.statistics_counts["batches_rejected"] += 1
            return None
        txs = [v for v in verdicts if isinstance(v, Transaction)]
        self.batches.add(digest, wire, txs)
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

    def _release_held(self) -> None:
        for key, proposal in list(self._held.items()):
            try:
                missing = self.batches.missing(decode_value(proposal.value).batches)
            except (msgspec.DecodeError, UnicodeDecodeError):
                missing = []
            if not missing:
                del self._held[key]
                with contextlib.suppress(asyncio.QueueFull):
                    self._events.put_nowait(("proposal", proposal))

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
            wires = [w for d in message.digests[:256] if (w := self.batches.wire(d))]
            if wires:
                await self.network.send_to(peer, encode_peer_message(BatchResponse(wires)), 2.0)
        elif isinstance(message, BatchResponse):
            for wire in message.wires[:256]:
                if await self._accept_batch(wire) is not None:
                    self.statistics_counts["batches_fetched"] += 1
        elif isinstance(message, ConsensusMsg):
            await self._consensus_message(peer, message.data)
        elif isinstance(message, BlocksRequest):
            await self._serve_blocks(peer, message)
        elif isinstance(message, BlocksResponse):
            await self._apply_blocks(message.blocks)

    async def _consensus_message(self, peer: bytes, data: bytes) -> None:
        decoded = decode_message(data)
        if isinstance(decoded, Proposal):
            try:
                missing = self.batches.missing(decode_value(decoded.value).batches)
            except (msgspec.DecodeError, UnicodeDecodeError):
                missing = []
            if missing:
                # Take part once the batches are here; ask the proposer and the others.
                self._held[value_id(decoded.value) + decoded.round.to_bytes(8, "big")] = decoded
                while len(self._held) > HELD_PROPOSALS_MAX:
                    self._held.popitem(last=False)
                await self.network.broadcast(encode_peer_message(BatchRequest(missing)), 2.0)
                return
            await self._events.put(("proposal", decoded))
        elif isinstance(decoded, Vote):
            if decoded.height > self.node.store.height + 2:
                self._request_sync(peer)
            await self._events.put(("vote", decoded))
        elif isinstance(decoded, Commit):
            await self._events.put(("commit", decoded))

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

    async def _serve_blocks(self, peer: bytes, request: BlocksRequest) -> None:
        store = self.node.store
        start = max(1, request.start)
        stop = min(store.height + 1, start + min(request.count, BLOCKS_PER_REQUEST_MAX))
        blocks: list[bytes] = []
        total = 0
        for height in range(start, stop):
            raw = store.block_bytes(height)
            if raw is None or (blocks and total + len(raw) > SYNC_RESPONSE_BYTES_MAX):
                break
            if len(raw) > SYNC_RESPONSE_BYTES_MAX:
                log.info("block %d is too large to send to a peer", height)
                break
            blocks.append(raw)
            total += len(raw)
        if blocks:
            await self.network.send_to(peer, encode_peer_message(BlocksResponse(blocks)), 5.0)

    async def _apply_blocks(self, raws: list[bytes]) -> None:
        applied = -1
        for raw in raws[:BLOCKS_PER_REQUEST_MAX]:
            block = decode_block(raw)
            if block.header.height != self.node.store.height + 1:
                continue
            if not block.certificate:
                log.info("synced block %d has no certificate", block.header.height)
                return
            certificate = decode_certificate(block.certificate)
            # The set that decided this height, from the state before it.
            deciders = validators_at(self.node.store.get, block.header.height)
            verify_certificate(certificate, deciders, chain_id=self.node.chain_id)
            if certificate.value_id != value_id(block.value) or \
                    certificate.height != block.header.height:
                log.info("synced block %d: certificate is for another value", block.header.height)
                return
            value = decode_value(block.value)
            if (merkle.merkle_root(block.txs) != value.tx_root
                    or value.height != block.header.height):
                log.info("synced block %d does not match its certified value",
                         block.header.height)
                return
            verdicts = await self.node.verifier.verify(block.txs)
            if any(isinstance(v, Rejection) for v in verdicts):
                log.info("synced block %d holds an invalid transaction", block.header.height)
                return
            txs = [decode_unverified(w, self.node.chain_id) for w in block.txs]
            outcome = await asyncio.get_running_loop().run_in_executor(
                self.node._exec_thread, self._execute_and_commit, value, block.value,
                block.certificate, txs)
            if outcome is None:
                continue
            ours, unconsumed = outcome
            if header_hash(ours.header) != header_hash(block.header):
                raise LedgerError(f"block {block.header.height} from a peer executes to a "
                                  "different header here: state diverged")
            self.batches.committed(value.batches)
            self.node.after_commit(ours, txs, unconsumed)
            self.statistics_counts["blocks_synced"] += 1
            applied = ours.header.height
        if applied >= 0:
            self._last_progress = time.monotonic()
            await self._events.put(("synced", applied))


_certificate_decoder = msgspec.msgpack.Decoder(CommitCertificate)


def decode_certificate(data: bytes) -> CommitCertificate:
    """A block's commit certificate (raises msgspec errors on bad bytes)."""
    return _certificate_decoder.decode(data)
