"""Helpers for the consensus tests: four validators, signed messages on demand, a scripted app.

Validators are ``KEYS[0..3]``; proposer(h, r) is ``KEYS[(h + r) % 4]``, so at height 1
validator 0 proposes in round 3 only, and tests drive validator 0 as the core under test
with the others' messages signed here.
"""

from __future__ import annotations

from collections.abc import Sequence

from oneteam.ledger.consensus.core import (
    Action,
    Broadcast,
    Decide,
    Limits,
    PersistWal,
    ScheduleTimeout,
    TendermintCore,
    TimeoutConfig,
)
from oneteam.ledger.consensus.messages import (
    NIL,
    PRECOMMIT,
    PREVOTE,
    Proposal,
    Vote,
    VoteKind,
    proposer_of,
    sign_proposal,
    sign_vote,
    value_id,
)
from oneteam.ledger.keys import KeyPair

from ..conftest import keypair_for

CHAIN = "oneteam-consensus-test"
KEYS = [keypair_for(f"consensus/validator-{i}") for i in range(4)]
VALIDATORS = [key.public_key for key in KEYS]
OUTSIDER = keypair_for("consensus/outsider")
TIMEOUTS = TimeoutConfig(propose_ms=300, propose_delta_ms=50, prevote_ms=100,
                         prevote_delta_ms=20, precommit_ms=100, precommit_delta_ms=20)


class ScriptedApp:
    """Proposes ``value-<height>-<n>``; any value starting with ``bad`` is invalid."""

    def __init__(self, label: str = "app") -> None:
        self.label = label
        self.proposed = 0
        self.validated: list[bytes] = []

    def propose_value(self, height: int) -> bytes:
        self.proposed += 1
        return f"value-{height}-{self.label}-{self.proposed}".encode()

    def validate_value(self, height: int, value: bytes) -> bool:
        self.validated.append(value)
        return not value.startswith(b"bad")


def make_core(index: int | None = 0, *, app: ScriptedApp | None = None,
              limits: Limits | None = None,
              core_class: type[TendermintCore] = TendermintCore) -> TendermintCore:
    """Validator ``index``'s core (an observer's for None)."""
    signer = KEYS[index] if index is not None else None
    return core_class(CHAIN, VALIDATORS, signer, app or ScriptedApp(str(index)),
                      timeouts=TIMEOUTS, limits=limits)


def key_of_proposer(height: int, round_: int) -> KeyPair:
    proposer = proposer_of(VALIDATORS, height, round_)
    return KEYS[VALIDATORS.index(proposer)]


def proposal(height: int, round_: int, value: bytes, valid_round: int = -1, *,
             signer: KeyPair | None = None) -> Proposal:
    """A proposal signed by the proposer of (height, round), unless ``signer`` says else."""
    return sign_proposal(signer or key_of_proposer(height, round_), chain_id=CHAIN,
                         height=height, round_=round_, value=value, valid_round=valid_round)


def vote(index: int, kind: VoteKind, height: int, round_: int, value: bytes | None) -> Vote:
    """Validator ``index``'s vote for ``value`` (None: nil)."""
    return sign_vote(KEYS[index], chain_id=CHAIN, kind=kind, height=height, round_=round_,
                     value_id=NIL if value is None else value_id(value))


def prevote(index: int, height: int, round_: int, value: bytes | None) -> Vote:
    return vote(index, PREVOTE, height, round_, value)


def precommit(index: int, height: int, round_: int, value: bytes | None) -> Vote:
    return vote(index, PRECOMMIT, height, round_, value)


def feed(core: TendermintCore, *messages: Proposal | Vote) -> list[Action]:
    actions: list[Action] = []
    for message in messages:
        actions += core.on_message(message)
    return actions


def sent(actions: Sequence[Action]) -> list[Proposal | Vote]:
    """The proposals and votes broadcast, in order."""
    return [action.message for action in actions if isinstance(action, Broadcast)
            and isinstance(action.message, Proposal | Vote)]


def sent_votes(actions: Sequence[Action], kind: VoteKind) -> list[Vote]:
    return [m for m in sent(actions) if isinstance(m, Vote) and m.kind == kind]


def timeouts(actions: Sequence[Action]) -> list[ScheduleTimeout]:
    return [action for action in actions if isinstance(action, ScheduleTimeout)]


def decisions(actions: Sequence[Action]) -> list[Decide]:
    return [action for action in actions if isinstance(action, Decide)]


def wal_entries(actions: Sequence[Action]) -> list[PersistWal]:
    return [action for action in actions if isinstance(action, PersistWal)]


def assert_persist_before_broadcast(actions: Sequence[Action], signer: bytes) -> None:
    """Every message ``signer`` signed and broadcast was persisted earlier in the list
    (or in an earlier list: the caller passes everything a core returned, in order)."""
    persisted: set[bytes] = set()
    for action in actions:
        if isinstance(action, PersistWal):
            message = action.entry.proposal or action.entry.vote
            if message is not None:
                persisted.add(message.signature)
        elif isinstance(action, Broadcast) and isinstance(action.message, Proposal | Vote):
            message = action.message
            author = message.proposer if isinstance(message, Proposal) else message.validator
            if author == signer:
                assert message.signature in persisted, f"{message!r} broadcast before its WAL"


class Network:
    """Four cores wired by an in-memory link that delivers every broadcast, in order."""

    def __init__(self, core_class: type[TendermintCore] = TendermintCore) -> None:
        self.cores = [make_core(i, core_class=core_class) for i in range(4)]
        self.log: list[list[Action]] = [[] for _ in range(4)]
        self.pending: list[tuple[int, Proposal | Vote]] = []
        self.decided: dict[int, dict[int, Decide]] = {i: {} for i in range(4)}
        self.timers: list[tuple[int, ScheduleTimeout]] = []

    def take(self, index: int, actions: list[Action]) -> None:
        decides = [i for i, action in enumerate(actions) if isinstance(action, Decide)]
        assert decides in ([], [len(actions) - 1]), "a Decide is the last action of its list"
        self.log[index] += actions
        for action in actions:
            if isinstance(action, Broadcast) and isinstance(action.message, Proposal | Vote):
                self.pending += [(j, action.message) for j in range(4) if j != index]
            elif isinstance(action, Decide):
                self.decided[index][action.height] = action
            elif isinstance(action, ScheduleTimeout):
                self.timers.append((index, action))

    def start(self, height: int) -> None:
        for i, core in enumerate(self.cores):
            self.take(i, core.start_height(height))

    def run(self, steps_max: int = 10_000) -> None:
        """Deliver until quiet (timers are not fired: the caller decides)."""
        for _ in range(steps_max):
            if not self.pending:
                return
            target, message = self.pending.pop(0)
            self.take(target, self.cores[target].on_message(message))
        raise AssertionError("the network did not go quiet")
