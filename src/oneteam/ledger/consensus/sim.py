"""A deterministic simulator of validators, driven by a seed (in the VOPR's manner).

Each simulated validator is the real code: the consensus core
(:class:`TendermintCore`) over the real ledger logic (:class:`ChainApp`: signed batches
verified on arrival, values of batch digests built and judged, decided values executed
into blocks on a real :class:`Node` with its LMDB state and block log, blocks synced
from peers and checked against their certificates). What is simulated is what lies
around it: the network, the clock, the WAL's disk, clients, and faults.

Everything random comes from one ``random.Random(seed)``: the network (delay, so
reordering; loss; duplication; partitions that heal; one validator's outgoing links
clogged), crashes (at any moment, including between persisting a WAL entry and sending
the message it records, and right after a decision) and restarts from each validator's
WAL and block store, and up to f Byzantine validators that equivocate, send bad
signatures (on votes and on batches), withhold votes and batches, propose invalid values
and answer block requests with forged blocks. The clock is simulated: an event queue
ordered by (time, sequence number). The same seed replays the same run.

Checked as the run goes: no two honest validators commit different blocks at a height
(the header, so the state root too, must be equal); every committed block is valid (its
certificate verifies against the validator set, its transactions verify and match its
tx root, it extends the previous block); no honest validator signs two different
messages for one height, round and kind, and none broadcasts a message it signed before
its WAL holds it. Checked at the end: after the global stabilization time (GST:
partitions healed, loss off, crashed validators back, delays bounded) every honest
validator commits the target number of heights and every client's transactions within a
bound of simulated time, credits are conserved, and validators at the same height hold
the same state.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import os
import random
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import msgspec

from oneteam.ledger import merkle
from oneteam.ledger.admission import Rejection
from oneteam.ledger.batches import BatchRejected, make_batch
from oneteam.ledger.blocks import decode_block, encode_block, header_hash
from oneteam.ledger.chain import (
    ChainApp,
    Committed,
    MemoryBatchJournal,
    MissingBatches,
    SyncRejected,
    decode_certificate,
)
from oneteam.ledger.consensus.core import (
    STATISTICS_COUNTERS,
    Action,
    Broadcast,
    Decide,
    PersistWal,
    ScheduleTimeout,
    TendermintCore,
    TimeoutConfig,
    TimeoutKind,
)
from oneteam.ledger.consensus.messages import (
    NIL,
    PRECOMMIT,
    PREVOTE,
    Commit,
    InvalidCertificate,
    Message,
    Proposal,
    Vote,
    VoteKind,
    faulty_max,
    sign_proposal,
    sign_vote,
    value_id,
    verify_certificate,
)
from oneteam.ledger.consensus.wal import WalEntry
from oneteam.ledger.contracts.credits import Transfer
from oneteam.ledger.contracts.schema import balance_key
from oneteam.ledger.genesis import Genesis, GenesisMember
from oneteam.ledger.invariants import check
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.node import Node, NodeConfig
from oneteam.ledger.ordering import BlockValue, decode_value, encode_value
from oneteam.ledger.peer_messages import (
    BLOCKS_PER_REQUEST_MAX,
    BatchMsg,
    BatchRequest,
    BatchResponse,
    BlocksRequest,
    BlocksResponse,
)
from oneteam.ledger.tx import encode_tx, txid_of

CHAIN_ID: Final = "oneteam-sim"
SIM_EPOCH_MS: Final = 1_767_225_600_000  # the simulated wall clock starts here
BEHAVIOURS: Final = ("equivocate", "split", "invalid_signature", "withhold", "invalid_value")
FAULT_KINDS: Final = (
    "loss", "duplicate", "partition", "partition_drop", "clog", "clog_drop", "crash",
    "torn_crash", "decide_crash",
    "equivocation", "split", "invalid_signature", "forged_vote", "outsider_vote", "withheld",
    "invalid_value", "withheld_batch", "bad_batch", "forged_block",
)
SIM_TIMEOUTS: Final = TimeoutConfig(propose_ms=400, propose_delta_ms=100, prevote_ms=200,
                                    prevote_delta_ms=100, precommit_ms=200,
                                    precommit_delta_ms=100)
HELD_MAX: Final = 64
DEFERRED_MAX: Final = 4096
OWN_BATCHES_RESENT_MAX: Final = 64
COMMITS_HANDED_TO_CORE: Final = 16


@dataclass(frozen=True, slots=True)
class SimOptions:
    """What a run may do.

    With ``swarm`` (the default) each seed turns each kind of fault on or off, as a coin
    falls, and draws its rate or count up to the maximum given here ("swarm testing":
    runs that leave some faults out reach states the others drown). Without it every
    fault is on at its maximum. A maximum of 0 turns a fault off in either case.
    """

    validators: int = 4
    heights: int = 3  # each honest validator must decide heights 1..heights
    byzantine: int | None = None  # None: 0..f drawn per seed
    behaviours: tuple[str, ...] | None = None  # None: a random non-empty subset each
    loss_max: float = 0.2  # per-seed message loss rate drawn in [0, loss_max], before GST
    duplicate_max: float = 0.1
    delay_ms_max: int = 200  # per message before GST (swarm: the seed's own max, >= 20)
    delay_after_gst_ms_max: int = 40
    partitions_max: int = 2
    clogs_max: int = 4  # one validator's outgoing links cut for a while (one-way failure)
    clog_ms_max: int = 2000
    crashes_max: int = 2  # crashes of honest validators, each restarted before GST
    crash_ms_max: int = 3000  # longest time down
    torn_crash_probability: float = 0.004  # per input before GST: crash amid its actions
    torn_crashes_max: int = 2
    decide_crash_probability: float = 1.0  # per height before GST: its first decider crashes
    gst_ms_min: int = 300
    gst_ms_max: int = 8000
    swarm: bool = True
    attack_share: float = 0.25  # with swarm: the share of seeds that play the split attack
    attack_gst_ms: int = 20_000  # an attack seed's GST: time for several attempts
    liveness_bound_ms: int = 60_000  # after GST
    gossip_interval_ms: int = 250
    steps_max: int = 400_000
    timeouts: TimeoutConfig = SIM_TIMEOUTS
    clients: int = 4  # accounts sending transactions, each one at a time, in nonce order
    txs_per_client: int = 3
    client_poll_ms: int = 100  # how often a client looks whether its transaction committed
    client_retry_ms: int = 1500  # then sends it again, to another validator
    batch_interval_ms: int = 50
    empty_block_wait_ms: int = 150  # as the engine: wait for work before an empty block
    sync_stall_ms: int = 750  # no commit for this long: ask a peer for blocks
    data_dir: str | None = None  # where validators' stores go (default: a temporary dir)
    core_class: type[TendermintCore] = TendermintCore
    chain_class: type[ChainApp] = ChainApp  # tests plant bugs in either

    def __post_init__(self) -> None:
        if self.validators < 1:
            raise ValueError("at least one validator")
        if self.heights < 1:
            raise ValueError("at least one height")
        f = faulty_max(self.validators)
        if self.byzantine is not None and not 0 <= self.byzantine <= f:
            raise ValueError(f"{self.byzantine} Byzantine validators of {self.validators}: "
                             f"at most f = {f}")
        unknown = set(self.behaviours or ()) - set(BEHAVIOURS)
        if unknown:
            raise ValueError(f"unknown Byzantine behaviours {sorted(unknown)}")
        if not self.gst_ms_min <= self.gst_ms_max:
            raise ValueError("gst_ms_min above gst_ms_max")
        if not 1 <= self.clients <= 64 or not 0 <= self.txs_per_client <= 1000:
            raise ValueError("1 to 64 clients, each with 0 to 1000 transactions")


@dataclass(slots=True)
class SeedResult:
    seed: int
    steps: int
    sim_time_ms: int
    gst_ms: int
    decisions: int  # heights committed by honest validators, counted per validator
    client_txs: int  # client transactions committed (each counted once)
    faults_injected: dict[str, int]
    safety_violations: list[str]
    liveness_failures: list[str]
    byzantine: dict[int, tuple[str, ...]]
    heights: int  # the target: options.heights, or more for an attack seed
    attack: bool  # whether the seed played the split attack
    core_statistics: dict[str, int]  # the honest cores' counters, summed over restarts
    trace_digest: str  # sha256 over the decisions in order: equal for equal runs

    @property
    def ok(self) -> bool:
        return not self.safety_violations and not self.liveness_failures


@dataclass(slots=True)
class _Node:
    index: int
    keypair: KeyPair
    behaviours: tuple[str, ...]
    data_dir: Path
    ledger: Node | None = None  # the real node: store, execution, mempool
    chain: ChainApp | None = None  # the real ledger logic over it
    core: TendermintCore | None = None
    incarnation: int = 0
    wal: list[WalEntry] = field(default_factory=list)  # the simulated disk's WAL file
    journal: MemoryBatchJournal = field(default_factory=MemoryBatchJournal)  # and batches
    persisted: set[bytes] = field(default_factory=set)  # signatures of messages in the WAL
    last_progress: tuple[int, int, str, bool] | None = None
    seen_values: dict[int, dict[bytes, None]] = field(default_factory=dict)  # Byzantine aid
    counters: dict[str, int] = field(default_factory=dict)  # of its cores before restarts
    # Proposals and commits whose batches are not here yet (the engine's held messages).
    held: OrderedDict[bytes, Proposal | Commit] = field(default_factory=OrderedDict)
    pending_commit: Decide | None = None  # decided, waiting for batches to execute it
    deferred: list[Message] = field(default_factory=list)  # arrived meanwhile
    waiting_height: int | None = None  # the next height, waiting for work to start
    batch_seq: int = 0
    own_batches: OrderedDict[bytes, None] = field(default_factory=OrderedDict)
    last_commit_ms: int = 0
    value_counter: int = 0
    committed_height: int = 0  # of its block store (known while it is down)

    @property
    def honest(self) -> bool:
        return not self.behaviours

    @property
    def up(self) -> bool:
        return self.core is not None



@dataclass(slots=True)
class _Client:
    index: int
    keypair: KeyPair
    org: str
    nonce: int = 0  # of the transaction in flight
    wire: bytes | None = None
    txid: bytes = b""
    sent_ms: int = 0
    target: int = 0


@dataclass(frozen=True, slots=True)
class _Deliver:
    node: int
    message: Message


_Data = BatchMsg | BatchRequest | BatchResponse | BlocksRequest | BlocksResponse


@dataclass(frozen=True, slots=True)
class _DeliverData:
    node: int
    source: int
    message: _Data


@dataclass(frozen=True, slots=True)
class _Timer:
    node: int
    incarnation: int
    kind: TimeoutKind
    height: int
    round: int


@dataclass(frozen=True, slots=True)
class _Gossip:
    node: int
    incarnation: int


@dataclass(frozen=True, slots=True)
class _BatchTick:
    node: int
    incarnation: int


@dataclass(frozen=True, slots=True)
class _StartHeight:
    node: int
    incarnation: int
    height: int


@dataclass(frozen=True, slots=True)
class _ClientPoll:
    client: int


@dataclass(frozen=True, slots=True)
class _Crash:
    node: int
    restart_at_ms: int


@dataclass(frozen=True, slots=True)
class _Restart:
    node: int


_Event = (_Deliver | _DeliverData | _Timer | _Gossip | _BatchTick | _StartHeight
          | _ClientPoll | _Crash | _Restart)


@dataclass(slots=True)
class _SplitPlan:
    """How a Byzantine validator splits the honest ones at one height and round."""

    larger: list[int]
    smaller: list[int]
    peers: list[int]  # other Byzantine validators: they get the first value
    first: bytes | None = None
    second: bytes | None = None


@dataclass(frozen=True, slots=True)
class _Partition:
    start_ms: int
    end_ms: int
    side: tuple[int, ...]  # side[i]: which side validator i is on


class Simulation:
    """One run: build it from a seed and options, then :meth:`run` it once."""

    def __init__(self, seed: int, options: SimOptions | None = None) -> None:
        self.seed = seed
        self.options = options = options or SimOptions()
        self._rng = random.Random(seed)
        rng = self._rng
        n = options.validators
        keypairs = [KeyPair.from_seed(hashlib.sha256(
            b"oneteam-sim:" + seed.to_bytes(8, "big", signed=True) + i.to_bytes(2, "big")
        ).digest()) for i in range(n)]
        self.validators = [keypair.public_key for keypair in keypairs]
        self._outsider = KeyPair.from_seed(hashlib.sha256(
            b"oneteam-sim-outsider:" + seed.to_bytes(8, "big", signed=True)).digest())
        f = faulty_max(n)
        # One seed in four (with swarm, when Byzantine validators may be drawn) plays the
        # split attack: a Byzantine validator splitting votes, and the first validator
        # to decide a height crashing at once. It is what a missing lock lets through.
        self.attack = (swarm := options.swarm) and options.byzantine is None and f > 0 and (
            rng.random() < options.attack_share)
        byzantine_count = options.byzantine if options.byzantine is not None else (
            rng.randint(1 if self.attack else 0, f))
        byzantine = sorted(rng.sample(range(n), byzantine_count))
        # An attack seed runs enough heights for the Byzantine validators to propose in
        # some of them before GST (the split needs its own proposal).
        self.heights = max(options.heights, 3 * n) if self.attack else options.heights
        self.nodes: list[_Node] = []
        for i, keypair in enumerate(keypairs):
            behaviours: tuple[str, ...] = ()
            if i in byzantine:
                if options.behaviours is not None:
                    behaviours = tuple(options.behaviours)
                elif self.attack:  # noise that does not spoil the split
                    behaviours = ("split", "invalid_signature")
                else:
                    behaviours = tuple(b for b in BEHAVIOURS if rng.random() < 0.5) or (
                        rng.choice(BEHAVIOURS),)
            self.nodes.append(_Node(index=i, keypair=keypair, behaviours=behaviours,
                                    data_dir=Path()))
        # The chain: one organization per client account, with credits to move around.
        self.clients = [_Client(index=c, keypair=KeyPair.from_seed(hashlib.sha256(
            b"oneteam-sim-client:" + seed.to_bytes(8, "big", signed=True) + c.to_bytes(2, "big")
        ).digest()), org=f"org-{c}") for c in range(options.clients)]
        self.genesis = Genesis(
            chain_id=CHAIN_ID,
            members=[GenesisMember(org=client.org, name=f"Client {client.index}",
                                   keys=[client.keypair.public_key.hex()], credits=1_000_000)
                     for client in self.clients],
            validators=[key.hex() for key in self.validators],
            genesis_time_ms=SIM_EPOCH_MS,
        )
        self.credits_total = 1_000_000 * len(self.clients)

        def rate(maximum: float) -> float:
            if not swarm:
                return maximum
            return rng.uniform(0, maximum) if rng.random() < 0.5 else 0.0

        def count(maximum: int) -> int:
            if not swarm or maximum == 0:
                return maximum
            return rng.randint(1, maximum) if rng.random() < 0.5 else 0

        self.loss = rate(options.loss_max)
        self.duplicate = rate(options.duplicate_max)
        self.torn_crash_probability = rate(options.torn_crash_probability)
        self.decide_crash_probability = (options.decide_crash_probability if self.attack
                                         else rate(options.decide_crash_probability))
        self.delay_ms_max = (rng.randint(min(20, options.delay_ms_max), options.delay_ms_max)
                             if swarm else options.delay_ms_max)
        self.gst_ms = (options.attack_gst_ms if self.attack
                       else rng.randint(options.gst_ms_min, options.gst_ms_max))
        self.partitions: list[_Partition] = []
        cursor = 0
        for _ in range(count(options.partitions_max)):
            start = rng.randint(cursor, self.gst_ms)
            end = rng.randint(start, self.gst_ms)
            side = tuple(rng.randint(0, 1) for _ in range(n))
            self.partitions.append(_Partition(start, end, side))
            cursor = end
        self.clogs: list[tuple[int, int, int]] = []  # (start, end, validator), before GST
        for _ in range(count(options.clogs_max)):
            start = rng.randint(0, self.gst_ms)
            end = min(self.gst_ms, start + rng.randint(1, options.clog_ms_max))
            self.clogs.append((start, end, rng.randrange(n)))
        self.now_ms = 0
        self.steps = 0
        self._sequence = 0
        self._queue: list[tuple[int, int, _Event]] = []
        self.faults: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)
        self.faults["byzantine_failure"] = 0  # a Byzantine validator's node gave up
        self.faults["partition"] = len(self.partitions)
        self.faults["clog"] = len(self.clogs)
        self.safety_violations: list[str] = []
        self.liveness_failures: list[str] = []
        self._signed: dict[tuple[bytes, int, int, str], Message] = {}
        self._torn_crashes = 0
        self._split_plans: dict[tuple[int, int, int], _SplitPlan] = {}
        self._attacked: dict[tuple[int, int], bytes] = {}  # (validator, height) -> value
        self._phase_two_votes: dict[tuple[int, int, int, str], None] = {}
        self._trace = hashlib.sha256()
        self._first_block: dict[int, tuple[bytes, bytes, bytes]] = {}  # header, value, state
        self._committed_txids: dict[bytes, int] = {}  # client txid -> height (honest)
        for client in self.clients:
            self._push(rng.randint(0, max(1, self.gst_ms // 2)), _ClientPoll(client.index))
        honest = [node.index for node in self.nodes if node.honest]
        for _ in range(count(options.crashes_max) if honest else 0):
            at = rng.randint(0, self.gst_ms)
            self._push(at, _Crash(rng.choice(honest), self._restart_time(at)))

    # -- the event queue ----------------------------------------------------------------

    def _push(self, at_ms: int, event: _Event) -> None:
        check(at_ms >= self.now_ms, f"event scheduled in the past: {at_ms} < {self.now_ms}")
        self._sequence += 1
        heapq.heappush(self._queue, (at_ms, self._sequence, event))

    def run(self) -> SeedResult:
        options = self.options
        with tempfile.TemporaryDirectory(prefix="oneteam-sim-", dir=options.data_dir
                                         or _fast_tmp()) as tmp:
            for node in self.nodes:
                node.data_dir = Path(tmp) / f"v{node.index}"
            try:
                return self._run()
            finally:
                for node in self.nodes:
                    self._close(node)

    def _done(self, honest: list[_Node]) -> bool:
        return all(node.committed_height >= self.heights for node in honest) and all(
            self._client_done(client) for client in self.clients)

    def _client_done(self, client: _Client) -> bool:
        return client.nonce >= self.options.txs_per_client

    def _run(self) -> SeedResult:
        options = self.options
        for node in self.nodes:  # every validator boots at time 0, as the queue orders
            self._push(0, _Restart(node.index))
        deadline_ms = self.gst_ms + options.liveness_bound_ms
        honest = [node for node in self.nodes if node.honest]
        while self._queue and self.steps < options.steps_max:
            if self._done(honest):
                break
            at_ms, _, event = heapq.heappop(self._queue)
            if at_ms > deadline_ms:
                break
            self.now_ms = at_ms
            self.steps += 1
            try:
                self._handle(event)
            # Any exception of the code under test is a finding, reported with its seed,
            # unless a Byzantine validator's own node gave up (its store may have forked
            # from the honest chain): it crashes, as a real one would, and restarts.
            except Exception as error:  # noqa: BLE001
                index = getattr(event, "node", None)
                if index is not None and not self.nodes[index].honest:
                    self.faults["byzantine_failure"] += 1
                    if self.nodes[index].core is not None:
                        self._crash(self.nodes[index], self.now_ms + 1000)
                    continue
                self.safety_violations.append(
                    f"seed {self.seed}: {type(event).__name__} at {self.now_ms} ms raised "
                    f"{type(error).__name__}: {error}")
                break
        core_statistics = dict.fromkeys(STATISTICS_COUNTERS, 0)
        for node in honest:
            self._keep_counters(node)
            for name, value in node.counters.items():
                core_statistics[name] += value
            if node.committed_height < self.heights:
                self.liveness_failures.append(
                    f"seed {self.seed}: validator {node.index} committed "
                    f"{node.committed_height} of {self.heights} heights by {self.now_ms} ms "
                    f"(GST {self.gst_ms} ms, {self.steps} steps)")
        for client in self.clients:
            if not self._client_done(client):
                self.liveness_failures.append(
                    f"seed {self.seed}: client {client.index} has {client.nonce} of "
                    f"{options.txs_per_client} transactions committed by {self.now_ms} ms "
                    f"(GST {self.gst_ms} ms)")
        if not self.safety_violations:
            self._check_final_state(honest)
        return SeedResult(
            seed=self.seed, steps=self.steps, sim_time_ms=self.now_ms, gst_ms=self.gst_ms,
            decisions=sum(node.committed_height for node in honest),
            client_txs=len(self._committed_txids),
            faults_injected=dict(self.faults),
            safety_violations=list(self.safety_violations),
            liveness_failures=list(self.liveness_failures),
            byzantine={node.index: node.behaviours for node in self.nodes if not node.honest},
            heights=self.heights, attack=self.attack, core_statistics=core_statistics,
            trace_digest=self._trace.hexdigest(),
        )

    def _check_final_state(self, honest: list[_Node]) -> None:
        """Credits conserved at every honest validator; equal heights, equal state."""
        by_height: dict[int, tuple[int, bytes]] = {}
        for node in honest:
            ledger = self._open_ledger(node) if node.ledger is None else node.ledger
            try:
                total = sum(ledger.store.get(balance_key(c.org)) or 0 for c in self.clients)
                if total != self.credits_total:
                    self.safety_violations.append(
                        f"seed {self.seed}: validator {node.index} holds {total} credits in "
                        f"all, not {self.credits_total}")
                digest = ledger.store.state_digest()
                height = ledger.store.height
                first = by_height.setdefault(height, (node.index, digest))
                if first[1] != digest:
                    self.safety_violations.append(
                        f"seed {self.seed}: validators {first[0]} and {node.index} hold "
                        f"different state at height {height}")
            finally:
                if node.ledger is None:
                    ledger.close()

    def _handle(self, event: _Event) -> None:
        if isinstance(event, _Deliver):
            node = self.nodes[event.node]
            if node.core is None:
                return
            if not node.honest and isinstance(event.message, Proposal):
                self._saw_value(node, event.message)
            if "split" in node.behaviours:
                self._split_phase_two(node, event.message)
            self._consensus_message(node, event.message)
        elif isinstance(event, _DeliverData):
            node = self.nodes[event.node]
            if node.core is not None:
                self._data_message(node, event.source, event.message)
        elif isinstance(event, _Timer):
            node = self.nodes[event.node]
            if node.core is None or node.incarnation != event.incarnation:
                return
            self._apply(node, node.core.on_timeout(event.kind, event.height, event.round))
        elif isinstance(event, _Gossip):
            node = self.nodes[event.node]
            if node.core is None or node.incarnation != event.incarnation:
                return
            self._gossip(node)
            self._push(self.now_ms + self.options.gossip_interval_ms, event)
        elif isinstance(event, _BatchTick):
            node = self.nodes[event.node]
            if node.core is None or node.incarnation != event.incarnation:
                return
            self._make_batches(node)
            self._push(self.now_ms + self.options.batch_interval_ms, event)
        elif isinstance(event, _StartHeight):
            node = self.nodes[event.node]
            if (node.core is not None and node.incarnation == event.incarnation
                    and node.waiting_height == event.height):
                self._begin_height(node, event.height)
        elif isinstance(event, _ClientPoll):
            self._client_poll(self.clients[event.client])
        elif isinstance(event, _Crash):
            node = self.nodes[event.node]
            if node.core is not None:
                self.faults["crash"] += 1
                self._crash(node, event.restart_at_ms)
        else:
            node = self.nodes[event.node]
            if node.core is None:
                self._boot(node)

    # -- validators ---------------------------------------------------------------------

    def _open_ledger(self, node: _Node) -> Node:
        return Node(NodeConfig(data_dir=node.data_dir, verify_workers=1, checked=True),
                    self.genesis, node.keypair)

    def _close(self, node: _Node) -> None:
        if node.ledger is not None:
            node.ledger.close()
        node.ledger = node.chain = None

    def _boot(self, node: _Node) -> None:
        """Start (or restart) a validator from its block store and its WAL."""
        ledger = node.ledger = self._open_ledger(node)
        chain = node.chain = self.options.chain_class(
            ledger, wall_ms=lambda: SIM_EPOCH_MS + self.now_ms,
            monotonic_s=lambda: self.now_ms / 1000, journal=node.journal)
        chain.restore_journal()
        node.committed_height = ledger.store.height
        node.held.clear()
        node.pending_commit = None
        node.deferred.clear()
        node.waiting_height = None
        node.own_batches.clear()
        node.last_commit_ms = self.now_ms
        core = self.options.core_class(CHAIN_ID, list(chain.validators), node.keypair, chain,
                                       timeouts=self.options.timeouts)
        core.load_commits(chain.recent_commits(COMMITS_HANDED_TO_CORE))
        core.restore(node.wal)
        node.core = core
        node.last_progress = None
        node.persisted = {self._signature_of(entry) for entry in node.wal}
        self._push(self.now_ms + self.options.gossip_interval_ms,
                   _Gossip(node.index, node.incarnation))
        self._push(self.now_ms + self.options.batch_interval_ms,
                   _BatchTick(node.index, node.incarnation))
        self._apply(node, core.start_height(ledger.store.height + 1))

    def _begin_height(self, node: _Node, height: int) -> None:
        assert node.core is not None and node.chain is not None
        node.waiting_height = None
        node.wal = [entry for entry in node.wal if entry.height >= height]
        node.journal.prune_below(height)
        changed = node.chain.refresh_validators(height)
        check(not changed, "the simulated chain changes no validator set")
        self._apply(node, node.core.start_height(height))

    def _restart_time(self, crash_ms: int) -> int:
        """When a validator that crashes at ``crash_ms`` comes back: by GST at the latest."""
        back_ms = crash_ms + self._rng.randint(1, self.options.crash_ms_max)
        return max(crash_ms, min(back_ms, self.gst_ms))

    def _crash(self, node: _Node, restart_at_ms: int) -> None:
        """Down at once: memory (mempool, batches, core) is lost; the block store and the
        WAL keep what was written (a process crash; the disk stays)."""
        self._keep_counters(node)
        node.core = None
        self._close(node)
        node.incarnation += 1  # timers and gossip of the old incarnation are dropped
        self._push(max(restart_at_ms, self.now_ms), _Restart(node.index))

    @staticmethod
    def _keep_counters(node: _Node) -> None:
        if node.core is not None:
            statistics = node.core.statistics()
            for name in STATISTICS_COUNTERS:
                node.counters[name] = node.counters.get(name, 0) + statistics[name]

    @staticmethod
    def _signature_of(entry: WalEntry) -> bytes:
        message = entry.proposal if entry.proposal is not None else entry.vote
        return message.signature if message is not None else b""

    def _apply(self, node: _Node, actions: Sequence[Action]) -> None:
        """Carry out a core's actions in order, as a driver must; maybe crash amid them."""
        torn_at = None
        if (node.honest and actions and self.now_ms < self.gst_ms
                and self._torn_crashes < self.options.torn_crashes_max
                and self._rng.random() < self.torn_crash_probability):
            torn_at = self._rng.randrange(len(actions))
        for position, action in enumerate(actions):
            if position == torn_at:
                self._torn_crashes += 1
                self.faults["torn_crash"] += 1
                self._crash(node, self._restart_time(self.now_ms))
                return
            if isinstance(action, PersistWal):
                assert node.chain is not None
                node.chain.journal_for([action.entry])
                node.wal.append(action.entry)
                node.persisted.add(self._signature_of(action.entry))
            elif isinstance(action, Broadcast):
                self._send(node, action.message)
            elif isinstance(action, ScheduleTimeout):
                self._push(self.now_ms + action.delay_ms,
                           _Timer(node.index, node.incarnation, action.kind, action.height,
                                  action.round))
            elif isinstance(action, Decide):
                if position != len(actions) - 1:
                    self.safety_violations.append(
                        f"seed {self.seed}: validator {node.index}: a Decide is not the last "
                        "action of its list (a driver may stop at it)")
                self._trace.update(msgspec.msgpack.encode(
                    (node.index, action.height, action.value)))
                node.pending_commit = action
                self._try_commit(node)
                return
            else:  # pragma: no cover - the Action union is closed
                raise TypeError(f"unknown action {action!r}")

    def _try_commit(self, node: _Node) -> None:
        """Execute the decided value once its batches are here; then the next height."""
        decide = node.pending_commit
        assert decide is not None and node.chain is not None
        first = decide.height not in self._first_block
        try:
            committed = node.chain.commit_decided(decide.height, decide.value,
                                                  decide.certificate)
        except MissingBatches as missing:
            self._request_batches(node, missing.digests)
            return
        node.pending_commit = None
        if committed is not None:
            self._committed(node, committed, decide.certificate.value_id)
        if (node.honest and first and self.now_ms < self.gst_ms
                and self._rng.random() < self.decide_crash_probability):
            # The first to decide goes down before anyone hears of it (the worst
            # moment): the others must not decide anything else meanwhile.
            self.faults["decide_crash"] += 1
            self._crash(node, self._restart_time(self.now_ms))
            return
        deferred, node.deferred = node.deferred, []
        self._next_height(node)
        for message in deferred:
            if node.core is None or node.pending_commit is not None:
                break
            self._consensus_message(node, message)

    def _next_height(self, node: _Node, *, wait: bool = True) -> None:
        """Start the height after the store's tip now, or once there is work (bounded;
        ``wait=False`` after blocks were synced, when the core is not at a decision)."""
        assert node.ledger is not None and node.core is not None
        height = node.ledger.store.height + 1
        if height <= node.core.height:
            return
        node.waiting_height = height
        assert node.chain is not None
        if not wait or node.chain.batches.pending(1):
            self._begin_height(node, height)
        else:
            self._push(self.now_ms + self.options.empty_block_wait_ms,
                       _StartHeight(node.index, node.incarnation, height))

    def _committed(self, node: _Node, committed: Committed, certified: bytes) -> None:
        """A block became durable at ``node``: bookkeeping, then the safety checks."""
        assert node.ledger is not None
        block = committed.block
        header = block.header
        height = header.height
        node.ledger.after_commit(block, committed.txs, committed.unconsumed)
        node.committed_height = height
        node.last_commit_ms = self.now_ms
        for tx in committed.txs:
            if node.honest:
                self._committed_txids.setdefault(tx.txid, height)
        if not node.honest:
            return
        where = f"seed {self.seed}: validator {node.index} at height {height}"
        certificate = decode_certificate(block.certificate)
        try:
            verify_certificate(certificate, self.validators, chain_id=CHAIN_ID)
        except InvalidCertificate as error:
            self.safety_violations.append(f"{where}: certificate rejected: {error.reason}")
        else:
            if certificate.value_id != value_id(block.value) or certificate.height != height \
                    or certified != certificate.value_id:
                self.safety_violations.append(f"{where}: certificate is for another decision")
        value = decode_value(block.value)
        if merkle.merkle_root(block.txs) != header.tx_root or header.tx_root != value.tx_root:
            self.safety_violations.append(f"{where}: transactions do not match the tx root")
        verdicts = node.ledger.verifier.verify_now(list(block.txs))
        if any(isinstance(v, Rejection) for v in verdicts):
            self.safety_violations.append(f"{where}: committed an invalid transaction")
        record = (header_hash(header), value_id(block.value), header.state_root)
        first = self._first_block.setdefault(height, record)
        if first[1] != record[1]:
            self.safety_violations.append(
                f"{where}: committed value {record[1].hex()[:16]}, another honest validator "
                f"{first[1].hex()[:16]}")
        elif first[2] != record[2]:
            self.safety_violations.append(f"{where}: state root differs from another honest "
                                          "validator's for the same value")
        elif first[0] != record[0]:
            self.safety_violations.append(f"{where}: block header differs")

    # -- what reaches a validator ---------------------------------------------------------

    def _consensus_message(self, node: _Node, message: Message) -> None:
        assert node.core is not None and node.chain is not None
        if node.pending_commit is not None:
            if len(node.deferred) < DEFERRED_MAX:
                node.deferred.append(message)
            return
        if isinstance(message, Proposal | Commit):
            missing = node.chain.missing_batches(message.value)
            if missing:
                round_ = (message.round if isinstance(message, Proposal)
                          else message.certificate.round)
                key = value_id(message.value) + round_.to_bytes(8, "big", signed=True) + (
                    b"p" if isinstance(message, Proposal) else b"c")
                node.held[key] = message
                while len(node.held) > HELD_MAX:
                    node.held.popitem(last=False)
                self._request_batches(node, missing)
                return
        self._apply(node, node.core.on_message(message))

    def _request_batches(self, node: _Node, digests: list[bytes]) -> None:
        others = [i for i in range(len(self.nodes)) if i != node.index]
        self._transmit_data(node.index, BatchRequest(digests[:256]), others)

    def _data_message(self, node: _Node, source: int, message: _Data) -> None:
        chain = node.chain
        assert chain is not None and node.ledger is not None
        if isinstance(message, BatchMsg):
            self._accept_batch(node, message.wire)
        elif isinstance(message, BatchResponse):
            for wire in message.wires[:256]:
                if node.core is None:  # it crashed on what an earlier batch let it do
                    return
                self._accept_batch(node, wire)
        elif isinstance(message, BatchRequest):
            if "withhold" in node.behaviours:
                self.faults["withheld_batch"] += 1
                return
            for wires in chain.batch_responses(message.digests):
                self._transmit_data(node.index, BatchResponse(wires), [source])
        elif isinstance(message, BlocksRequest):
            blocks = chain.blocks_from(message.start, message.count)
            if blocks and "invalid_value" in node.behaviours:
                self.faults["forged_block"] += 1
                blocks = [_forge_block(raw) for raw in blocks]
            if blocks:
                self._transmit_data(node.index, BlocksResponse(blocks), [source])
        else:
            self._apply_blocks(node, message.blocks)

    def _accept_batch(self, node: _Node, wire: bytes) -> None:
        chain = node.chain
        assert chain is not None and node.ledger is not None
        try:
            digest, body = chain.open_batch(wire)
        except BatchRejected:
            return
        if digest in chain.batches:
            return
        if not chain.store_batch(digest, wire, node.ledger.verifier.verify_now(body.txs)):
            return
        # What waited for batches may go on.
        if node.pending_commit is not None:
            self._try_commit(node)
            if node.core is None or node.pending_commit is not None:
                return
        for key, message in list(node.held.items()):
            if node.core is None or node.pending_commit is not None:
                return
            if key in node.held and not chain.missing_batches(message.value):
                del node.held[key]
                self._consensus_message(node, message)
        if node.core is not None and node.waiting_height is not None:
            self._begin_height(node, node.waiting_height)

    def _apply_blocks(self, node: _Node, raws: list[bytes]) -> None:
        chain = node.chain
        assert chain is not None and node.ledger is not None and node.core is not None
        applied = False
        for raw in raws[:BLOCKS_PER_REQUEST_MAX]:
            try:
                synced = chain.check_synced_block(raw)
                if synced is None:
                    continue
                verdicts = node.ledger.verifier.verify_now(list(synced.block.txs))
                committed = chain.commit_synced(synced, verdicts)
            except SyncRejected:
                break
            if committed is not None:
                self._committed(node, committed, value_id(synced.block.value))
                applied = True
        if not applied:
            return
        decide = node.pending_commit
        if decide is not None and decide.height <= node.ledger.store.height:
            node.pending_commit = None
            chain.already_committed(decide.height, decide.value)
            node.deferred.clear()
        if node.pending_commit is None:
            self._next_height(node, wait=False)

    def _make_batches(self, node: _Node) -> None:
        """The batcher: the mempool's ready transactions, signed into batches, sent."""
        assert node.ledger is not None and node.chain is not None
        mempool = node.ledger.mempool
        if not mempool.ready_count:
            return
        made = node.chain.make_batches(mempool.take(1024), node.batch_seq)
        node.batch_seq += len(made)
        others = [i for i in range(len(self.nodes)) if i != node.index]
        for digest, wire in made:
            node.own_batches[digest] = None
            while len(node.own_batches) > OWN_BATCHES_RESENT_MAX:
                node.own_batches.popitem(last=False)
            recipients = others
            if "withhold" in node.behaviours and self._rng.random() < 0.5:
                self.faults["withheld_batch"] += 1
                recipients = self._rng.sample(others, self._rng.randint(0, len(others)))
            self._transmit_data(node.index, BatchMsg(wire), recipients)
            if "invalid_signature" in node.behaviours and self._rng.random() < 0.5:
                self.faults["bad_batch"] += 1
                broken = wire[:-1] + bytes([wire[-1] ^ 1])  # the author's signature is last
                self._transmit_data(node.index, BatchMsg(broken), others)
        if node.waiting_height is not None:
            self._begin_height(node, node.waiting_height)

    def _gossip(self, node: _Node) -> None:
        """Every gossip interval: re-send when stuck, fetch what is missing, sync."""
        assert node.core is not None and node.chain is not None
        progress = node.core.progress()
        if progress == node.last_progress and node.pending_commit is None:
            self._apply(node, node.core.rebroadcast())
            if node.core is None:
                return
        node.last_progress = progress
        missing: list[bytes] = []
        if node.pending_commit is not None:
            missing += node.chain.missing_batches(node.pending_commit.value)
        for message in node.held.values():
            missing += node.chain.missing_batches(message.value)
        if missing:
            self._request_batches(node, list(dict.fromkeys(missing)))
        if self.now_ms - node.last_commit_ms >= self.options.sync_stall_ms:
            node.last_commit_ms = self.now_ms  # ask again after another stall
            others = [i for i in range(len(self.nodes)) if i != node.index]
            assert node.ledger is not None
            self._transmit_data(node.index, BlocksRequest(node.ledger.store.height + 1,
                                                          BLOCKS_PER_REQUEST_MAX),
                                [self._rng.choice(others)] if others else [])
            # And this validator's own batches not committed yet, to everyone: a peer cut
            # off or restarted since they went out lacks them.
            pending = set(node.chain.batches.pending(1 << 20))
            for digest in node.own_batches:
                wire = node.chain.batches.wire(digest)
                if digest in pending and wire is not None:
                    self._transmit_data(node.index, BatchMsg(wire), others)

    # -- clients ------------------------------------------------------------------------

    def _client_poll(self, client: _Client) -> None:
        """A client sends its transactions one at a time, each again to another validator
        if it is not committed in time, and the next once the last is committed."""
        if self._client_done(client):
            return
        if client.wire is not None and client.txid in self._committed_txids:
            client.nonce += 1
            client.wire = None
            if self._client_done(client):
                return
        if client.wire is None:
            other = self.clients[(client.index + 1) % len(self.clients)].org
            client.wire = encode_tx(client.keypair, chain_id=CHAIN_ID, org=client.org,
                                    nonce=client.nonce, op="credits.transfer",
                                    args=Transfer(to=other, amount=1 + client.nonce))
            client.txid = txid_of(client.wire)
            client.target = self._rng.randrange(len(self.nodes))
            self._submit(client)
        elif self.now_ms - client.sent_ms >= self.options.client_retry_ms:
            client.target = (client.target + 1) % len(self.nodes)
            self._submit(client)
        self._push(self.now_ms + self.options.client_poll_ms, _ClientPoll(client.index))

    def _submit(self, client: _Client) -> None:
        client.sent_ms = self.now_ms
        node = self.nodes[client.target]
        if node.ledger is None or client.wire is None:
            return  # the validator is down: the request is lost
        node.ledger.admit_verified(node.ledger.verifier.verify_now([client.wire]))

    # -- the network --------------------------------------------------------------------

    def _send(self, node: _Node, message: Message) -> None:
        others = [i for i in range(len(self.nodes)) if i != node.index]
        signer = _signer_of(message)
        if not node.honest:
            self._send_byzantine(node, message, others, own=signer == node.keypair.public_key)
            return
        if isinstance(message, Proposal | Vote) and signer == node.keypair.public_key:
            key = _slot(message)
            earlier = self._signed.setdefault(key, message)
            where = f"seed {self.seed}: validator {node.index}"
            if earlier != message:
                self.safety_violations.append(
                    f"{where} signed two different {key[3]} messages at height {key[1]} "
                    f"round {key[2]}")
            if message.signature not in node.persisted:
                self.safety_violations.append(
                    f"{where} broadcast a {key[3]} of height {key[1]} before its WAL held it")
        self._transmit(node.index, message, others)

    def _transmit(self, source: int, message: Message, recipients: Sequence[int]) -> None:
        self._carry(source, recipients, lambda target: _Deliver(target, message))

    def _transmit_data(self, source: int, message: _Data, recipients: Sequence[int]) -> None:
        """Batches and blocks travel the same simulated links as consensus messages."""
        self._carry(source, recipients, lambda target: _DeliverData(target, source, message))

    def _carry(self, source: int, recipients: Sequence[int],
               delivery: Callable[[int], _Event]) -> None:
        """One message from ``source`` to each recipient, through the link's faults."""
        rng = self._rng
        before_gst = self.now_ms < self.gst_ms
        clogged = any(start <= self.now_ms < end and node == source
                      for start, end, node in self.clogs)
        for target in recipients:
            if clogged:
                self.faults["clog_drop"] += 1
                continue
            if self._partitioned(source, target):
                self.faults["partition_drop"] += 1
                continue
            if before_gst and rng.random() < self.loss:
                self.faults["loss"] += 1
                continue
            self._push(self.now_ms + self._delay_ms(), delivery(target))
            if rng.random() < self.duplicate:
                self.faults["duplicate"] += 1
                self._push(self.now_ms + self._delay_ms(), delivery(target))

    def _delay_ms(self) -> int:
        if self.now_ms < self.gst_ms:
            return self._rng.randint(1, self.delay_ms_max)
        return self._rng.randint(1, self.options.delay_after_gst_ms_max)

    def _partitioned(self, source: int, target: int) -> bool:
        for partition in self.partitions:
            if partition.start_ms <= self.now_ms < partition.end_ms:
                return partition.side[source] != partition.side[target]
        return False

    # -- Byzantine validators -----------------------------------------------------------

    def _saw_value(self, node: _Node, proposal: Proposal) -> None:
        seen = node.seen_values.setdefault(proposal.height, {})
        if len(seen) < 16:
            seen[value_id(proposal.value)] = None
        for height in [h for h in node.seen_values if h < proposal.height - 1]:
            del node.seen_values[height]

    def _send_byzantine(self, node: _Node, message: Message, others: list[int], *,
                        own: bool) -> None:
        """Send what an honest validator would, then misbehave as the node's behaviours say."""
        rng = self._rng
        behaviours = node.behaviours
        if isinstance(message, Commit):
            return  # never help a validator that lags: it must catch up from honest ones
        if not own:
            self._transmit(node.index, message, others)
            return
        if isinstance(message, Proposal):
            self._saw_value(node, message)
        if "withhold" in behaviours and isinstance(message, Vote) and rng.random() < 0.7:
            self.faults["withheld"] += 1
            self._transmit(node.index, message, rng.sample(others, rng.randint(0, 1)))
            return
        if "invalid_value" in behaviours and isinstance(message, Proposal) and (
                rng.random() < 0.6):
            self.faults["invalid_value"] += 1
            message = sign_proposal(node.keypair, chain_id=CHAIN_ID, height=message.height,
                                    round_=message.round,
                                    value=self._invalid_value(node, message.height),
                                    valid_round=-1)
        if "invalid_signature" in behaviours and rng.random() < 0.5:
            self.faults["invalid_signature"] += 1
            broken = bytes([message.signature[0] ^ 1]) + message.signature[1:]
            self._transmit(node.index, msgspec.structs.replace(message, signature=broken),
                           others)
            if isinstance(message, Vote):  # a vote forged in an honest validator's name
                self.faults["forged_vote"] += 1
                victim = self.nodes[rng.choice(others)].keypair.public_key
                forged = msgspec.structs.replace(
                    message, validator=victim, signature=rng.randbytes(64))
                self._transmit(node.index, forged, others)
                # and a well-signed vote of a key outside the validator set
                self.faults["outsider_vote"] += 1
                self._transmit(node.index, sign_vote(
                    self._outsider, chain_id=CHAIN_ID, kind=message.kind, height=message.height,
                    round_=message.round, value_id=message.value_id), others)
        if "split" in behaviours:
            self._send_split(node, message, others)
            return
        if "equivocate" in behaviours and rng.random() < 0.7:
            twin = (self._twin_proposal(node, message) if isinstance(message, Proposal)
                    else self._twin_vote(node, message))
            if twin is not None:
                self.faults["equivocation"] += 1
                shuffled = list(others)
                rng.shuffle(shuffled)
                cut = rng.randint(1, len(shuffled) - 1) if len(shuffled) > 1 else 1
                self._transmit(node.index, message, shuffled[:cut])
                self._transmit(node.index, twin, shuffled[cut:])
                return
        self._transmit(node.index, message, others)

    def _send_split(self, node: _Node, message: Proposal | Vote, others: list[int]) -> None:
        """The textbook attack on a protocol without locks, in two phases per height.

        Phase one, round after round: split the honest validators in a larger and a
        smaller side. As proposer, send the value to the larger side and a fresh one to
        the smaller; prevote each side's value to it; precommit the first value to one
        validator of the larger side only, nil to the rest. That one may decide while
        another is locked and the rest are not. Phase two, once such a precommit went
        out: vote, with everyone, for anything but the value that may have been decided.
        Only the lock rule keeps the honest validators from deciding something else.
        """
        rng = self._rng
        height = message.height
        plan = self._split_plans.get((node.index, height, message.round))
        if plan is None:
            honest = [i for i in others if self.nodes[i].honest]
            rng.shuffle(honest)
            half = (len(honest) + 1) // 2
            plan = _SplitPlan(larger=honest[:half], smaller=honest[half:],
                              peers=[i for i in others if not self.nodes[i].honest])
            self._split_plans[(node.index, height, message.round)] = plan
            for old in [k for k in self._split_plans if k[1] < height - 1]:
                del self._split_plans[old]
            for old_height in [h for h in self._attacked if h[1] < height - 1]:
                del self._attacked[old_height]
            for old_vote in [k for k in self._phase_two_votes if k[1] < height - 1]:
                del self._phase_two_votes[old_vote]
        attacked = self._attacked.get((node.index, height))
        self.faults["split"] += 1
        if attacked is not None:  # phase two
            if isinstance(message, Proposal):
                self._transmit(node.index, self._twin_proposal(node, message), others)
                return
            value = message.value_id
            if value == attacked:
                fresh = [v for v in node.seen_values.get(height, {}) if v != attacked]
                value = fresh[-1] if fresh else NIL
            self._transmit(node.index, self._vote_like(node, message, value), others)
            return
        if isinstance(message, Proposal):
            twin = self._twin_proposal(node, message)
            plan.first, plan.second = value_id(message.value), value_id(twin.value)
            self._transmit(node.index, message, plan.larger + plan.peers)
            self._transmit(node.index, twin, plan.smaller)
            return
        first = plan.first if plan.first is not None else message.value_id
        if message.kind == "prevote":
            second = plan.second if plan.second is not None else NIL
            self._transmit(node.index, self._vote_like(node, message, first),
                           plan.larger + plan.peers)
            self._transmit(node.index, self._vote_like(node, message, second), plan.smaller)
            return
        if first == NIL or not plan.larger:
            self._transmit(node.index, message, others)
            return
        lucky = rng.choice(plan.larger)
        self._attacked[(node.index, height)] = first
        self._transmit(node.index, self._vote_like(node, message, first), [lucky, *plan.peers])
        self._transmit(node.index, self._vote_like(node, message, NIL),
                       [i for i in plan.larger + plan.smaller if i != lucky])

    def _split_phase_two(self, node: _Node, message: Message) -> None:
        """After its selective precommit, vote at that height for any other value proposed.

        The node's own core may have decided and moved on; an attacker does not: it keeps
        voting, at the attacked height, for whatever might become a second decision.
        """
        if isinstance(message, Commit):
            return
        attacked = self._attacked.get((node.index, message.height))
        if attacked is None:
            return
        kind: VoteKind
        if isinstance(message, Proposal):
            kind, target = PREVOTE, value_id(message.value)
        elif message.kind == PREVOTE:
            kind, target = PRECOMMIT, message.value_id
        else:
            return
        key = (node.index, message.height, message.round, kind)
        if target in (attacked, NIL) or key in self._phase_two_votes:
            return
        self._phase_two_votes[key] = None
        vote = sign_vote(node.keypair, chain_id=CHAIN_ID, kind=kind, height=message.height,
                         round_=message.round, value_id=target)
        self._transmit(node.index, vote, [i for i in range(len(self.nodes)) if i != node.index])

    def _vote_like(self, node: _Node, vote: Vote, value: bytes) -> Vote:
        if vote.value_id == value:
            return vote
        return sign_vote(node.keypair, chain_id=CHAIN_ID, kind=vote.kind, height=vote.height,
                         round_=vote.round, value_id=value)

    def _twin_proposal(self, node: _Node, proposal: Proposal) -> Proposal:
        """A second proposal for the same height and round: a fresh value claiming no valid
        round, what most tempts a validator that disregards its lock."""
        twin = sign_proposal(node.keypair, chain_id=CHAIN_ID, height=proposal.height,
                             round_=proposal.round,
                             value=self._fresh_value(node, proposal.height),
                             valid_round=-1)
        self._saw_value(node, twin)
        return twin

    def _base_value(self, node: _Node, height: int) -> BlockValue:
        """What an honest proposer would offer at ``height`` if this node can build it;
        else a value of no batches that names a made-up previous block."""
        chain = node.chain
        if chain is not None and chain.node.store.height == height - 1:
            return decode_value(chain.propose_value(height))
        return BlockValue(CHAIN_ID, height, SIM_EPOCH_MS + self.now_ms, self._rng.randbytes(32),
                          [], merkle.EMPTY_ROOT, 0, node.keypair.public_key)

    def _fresh_value(self, node: _Node, height: int) -> bytes:
        """Another valid value for ``height``: the same batches at another time."""
        node.value_counter += 1
        value = self._base_value(node, height)
        return encode_value(msgspec.structs.replace(
            value, time_ms=value.time_ms + node.value_counter))

    def _invalid_value(self, node: _Node, height: int) -> bytes:
        """A value no honest validator may accept, of one of four kinds."""
        rng = self._rng
        value = self._base_value(node, height)
        kind = rng.randrange(4)
        if kind == 0:  # names a batch nobody holds (a withheld batch)
            value = msgspec.structs.replace(value, batches=[*value.batches, rng.randbytes(32)])
        elif kind == 1:  # its transactions do not hash to its tx root
            value = msgspec.structs.replace(value, tx_root=rng.randbytes(32))
        elif kind == 2:  # does not extend the chain
            value = msgspec.structs.replace(value, prev_hash=rng.randbytes(32))
        else:  # names a batch it signed holding a transaction with a broken signature
            client = self.clients[rng.randrange(len(self.clients))]
            wire = encode_tx(client.keypair, chain_id=CHAIN_ID, org=client.org,
                             nonce=rng.randint(0, 10), op="credits.transfer",
                             args=Transfer(to=client.org, amount=1))
            wire = wire[:-1] + bytes([wire[-1] ^ 1])
            node.batch_seq += 1
            digest, batch = make_batch(node.keypair, CHAIN_ID, node.batch_seq, [wire])
            self.faults["bad_batch"] += 1
            self._transmit_data(node.index, BatchMsg(batch),
                                [i for i in range(len(self.nodes)) if i != node.index])
            value = msgspec.structs.replace(value, batches=[*value.batches, digest])
        return encode_value(value)

    def _twin_vote(self, node: _Node, message: Vote) -> Vote | None:
        """A second vote for the same height, round and kind, for another value seen."""
        candidates = [NIL, *node.seen_values.get(message.height, {})]
        candidates = [c for c in candidates if c != message.value_id]
        if not candidates:
            return None
        return sign_vote(node.keypair, chain_id=CHAIN_ID, kind=message.kind,
                         height=message.height, round_=message.round,
                         value_id=self._rng.choice(candidates))


def _fast_tmp() -> str | None:
    """Validators' stores in memory where the system offers it: the simulated disk needs
    no durability beyond the process, and fsync there is cheap."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _forge_block(raw: bytes) -> bytes:
    """A block with its certified value intact and a forged header (another state root)."""
    block = decode_block(raw)
    header = msgspec.structs.replace(
        block.header, state_root=hashlib.sha256(block.header.state_root).digest())
    return encode_block(msgspec.structs.replace(block, header=header))


def _signer_of(message: Message) -> bytes | None:
    if isinstance(message, Proposal):
        return message.proposer
    if isinstance(message, Vote):
        return message.validator
    return None


def _slot(message: Proposal | Vote) -> tuple[bytes, int, int, str]:
    if isinstance(message, Proposal):
        return (message.proposer, message.height, message.round, "proposal")
    return (message.validator, message.height, message.round, message.kind)


def run_seed(seed: int, **options: Any) -> SeedResult:
    """Run one simulation; ``options`` are :class:`SimOptions` fields."""
    return Simulation(seed, dataclasses.replace(SimOptions(), **options)).run()


def run_many(seeds: int, start: int = 0, **options: Any) -> dict[str, Any]:
    """Run seeds ``start .. start+seeds-1``; a summary with the failing seeds named."""
    check(seeds >= 0, "a count of seeds is not negative")
    faults: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)
    counters: dict[str, int] = dict.fromkeys(STATISTICS_COUNTERS, 0)
    failing: list[int] = []
    messages: list[str] = []
    totals = {"steps": 0, "decisions": 0, "client_txs": 0, "safety_violations": 0,
              "liveness_failures": 0, "sim_time_ms": 0, "attack_seeds": 0}
    for seed in range(start, start + seeds):
        result = run_seed(seed, **options)
        totals["steps"] += result.steps
        totals["decisions"] += result.decisions
        totals["client_txs"] += result.client_txs
        totals["sim_time_ms"] += result.sim_time_ms
        totals["safety_violations"] += len(result.safety_violations)
        totals["liveness_failures"] += len(result.liveness_failures)
        totals["attack_seeds"] += result.attack
        for kind, count in result.faults_injected.items():
            faults[kind] = faults.get(kind, 0) + count
        for name, count in result.core_statistics.items():
            counters[name] += count
        if not result.ok:
            failing.append(seed)
            messages.extend((result.safety_violations + result.liveness_failures)[:3])
    return {"seeds": seeds, "start": start, **totals, "faults_injected": faults,
            "core_statistics": counters, "failing_seeds": failing, "failures": messages[:20]}


def run_cli(*, seeds: int, start: int, validators: int, heights: int, as_json: bool) -> int:
    """``oneteam ledger sim``: run seeds, print a summary; 1 if any seed failed."""
    import json
    import sys
    import time

    began = time.perf_counter()
    summary = run_many(seeds, start, validators=validators, heights=heights)
    summary["wall_time_s"] = round(time.perf_counter() - began, 3)
    failing = summary["failing_seeds"]
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        faults = summary["faults_injected"]
        print(f"{seeds} seeds from {start}, {validators} validators, {heights} heights: "
              f"{summary['safety_violations']} safety violations, "
              f"{summary['liveness_failures']} liveness failures, {summary['steps']} steps, "
              f"{summary['decisions']} decisions, {summary['wall_time_s']} s")
        print("faults injected: " + ", ".join(f"{k}={v}" for k, v in faults.items()))
    if failing:
        print(f"failing seeds: {', '.join(map(str, failing))}", file=sys.stderr)
        for line in summary["failures"]:
            print(f"  {line}", file=sys.stderr)
        print(f"reproduce one: oneteam ledger sim --seeds 1 --start {failing[0]} "
              f"--validators {validators} --heights {heights}", file=sys.stderr)
        return 1
    return 0
