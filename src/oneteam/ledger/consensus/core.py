"""The Tendermint consensus core: Algorithm 1 of Buchman, Kwon and Milosevic (2018).

"The latest gossip on BFT consensus" (arXiv:1807.04938). The core is sans-I/O: it
holds the state of one height, takes events (a proposal, a vote, a commit, a timeout
firing, the start of a height) and returns the actions a driver must carry out, in
order: persist a WAL entry (durably, before anything after it), broadcast a message,
schedule a timeout, deliver a decision. It has no clock, no sockets, no files and no
randomness, so a simulator can run it under any schedule and replay it from a seed.

The upon-rules are evaluated in one place, :meth:`TendermintCore._fire_one`; each
carries the line number of Algorithm 1 it implements. Where this code departs from
the paper (value ids, bounded buffers, the WAL, the height hand-over to the driver,
catching up with commits), docs/ledger/CONSENSUS.md argues why.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from oneteam.ledger.consensus.messages import (
    HEIGHT_MAX,
    NIL,
    NIL_ROUND,
    PRECOMMIT,
    PREVOTE,
    VALUE_BYTES_MAX,
    Commit,
    CommitCertificate,
    Equivocation,
    Message,
    Proposal,
    Step,
    Vote,
    VoteKind,
    WalEntry,
    check_validator_set,
    commit_problem,
    proposal_problem,
    proposer_of,
    quorum_size,
    round_skip_size,
    sign_proposal,
    sign_vote,
    value_id,
    verify_proposal_signature,
    verify_vote_signature,
    vote_problem,
)
from oneteam.ledger.errors import StorageCorrupt
from oneteam.ledger.invariants import InvariantViolation, check
from oneteam.ledger.keys import KeyPair

TimeoutKind = Literal["propose", "prevote", "precommit"]
PROPOSE: Final = "propose"
PROPOSALS_PER_ROUND_MAX: Final = 2  # the first, and one conflicting (kept as evidence)
# Per round and kind, a validator's first two votes are kept whatever they are for;
# further conflicting votes only if for nil or for the value of a proposal of the height.
VOTES_PER_VALIDATOR_MAX: Final = 2
RULE_FIRINGS_MAX: Final = 10_000  # per input; each firing changes step, round or a flag

STATISTICS_COUNTERS: Final = (
    "received", "malformed", "wrong_chain", "not_member", "not_proposer", "invalid_signature",
    "duplicates", "stale", "stale_round", "far_round", "future_buffered", "future_dropped",
    "not_started", "equivocations", "equivocations_dropped", "invalid_commits",
    "invalid_values_certified", "commits_sent", "signed", "sign_reused", "rounds_started",
    "timeouts", "timeouts_ignored", "decisions", "decisions_by_commit", "restored_messages",
)


class Application(Protocol):
    """What consensus needs from the application: make a value, judge a value.

    ``validate_value`` must be deterministic: every correct validator gives the same
    answer for the same height and value.
    """

    def propose_value(self, height: int) -> bytes: ...

    def validate_value(self, height: int, value: bytes) -> bool: ...


@dataclass(frozen=True, slots=True)
class TimeoutConfig:
    """timeoutX(r) = X_ms + r * X_delta_ms; growing with the round is what makes the
    protocol live after GST whatever the unknown message delay."""

    propose_ms: int = 3000
    propose_delta_ms: int = 500
    prevote_ms: int = 1000
    prevote_delta_ms: int = 500
    precommit_ms: int = 1000
    precommit_delta_ms: int = 500

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            least = 0 if name.endswith("delta_ms") else 1
            if type(value) is not int or value < least:
                raise ValueError(f"timeout {name} must be an integer >= {least}, got {value!r}")

    def delay_ms(self, kind: TimeoutKind, round_: int) -> int:
        if kind == PROPOSE:
            return self.propose_ms + round_ * self.propose_delta_ms
        if kind == PREVOTE:
            return self.prevote_ms + round_ * self.prevote_delta_ms
        if kind == PRECOMMIT:
            return self.precommit_ms + round_ * self.precommit_delta_ms
        raise ValueError(f"unknown timeout kind {kind!r}")


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on everything the core keeps, so no peer can make it grow without limit."""

    rounds_ahead_max: int = 8  # rounds above the current one whose messages are kept
    rounds_behind_max: int = 32  # rounds below the current one kept (plus locked, valid)
    future_messages_max: int = 1024  # messages kept for the next height
    commits_retained: int = 64  # recent decisions kept to answer validators that lag
    evidence_retained: int = 256
    rebroadcast_rounds_max: int = 16  # own messages of this many past rounds re-sent

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"limit {name} must be a positive integer, got {value!r}")


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Send ``message`` to every validator (the driver's gossip decides how)."""

    message: Message


@dataclass(frozen=True, slots=True)
class ScheduleTimeout:
    """Call ``on_timeout(kind, height, round)`` after ``delay_ms``."""

    kind: TimeoutKind
    height: int
    round: int
    delay_ms: int


@dataclass(frozen=True, slots=True)
class PersistWal:
    """Make ``entry`` durable before carrying out any later action of the same list."""

    entry: WalEntry


@dataclass(frozen=True, slots=True)
class Decide:
    """``value`` is decided at ``height``; the driver commits it, then calls start_height."""

    height: int
    value: bytes
    certificate: CommitCertificate


Action = Broadcast | ScheduleTimeout | PersistWal | Decide


class _RoundLog:
    """The messages of one round of the current height, with running tallies."""

    __slots__ = ("precommit_tally", "precommits", "prevote_tally", "prevotes", "proposals",
                 "senders")

    def __init__(self) -> None:
        self.proposals: list[Proposal] = []
        self.prevotes: dict[bytes, list[Vote]] = {}  # validator -> its (<= 2) prevotes
        self.precommits: dict[bytes, list[Vote]] = {}
        self.prevote_tally: dict[bytes, int] = {}  # value id (b"" nil) -> validators
        self.precommit_tally: dict[bytes, int] = {}
        self.senders: dict[bytes, None] = {}  # validators with any message in this round


class _Height:
    """Everything Algorithm 1 keeps for the height ``h_p``."""

    __slots__ = ("commit", "decided", "far_rounds", "height", "line36_rounds",
                 "locked_round", "locked_value", "own", "precommit_timeout_rounds",
                 "prevote_timeout_rounds", "proposed", "round", "rounds", "step",
                 "valid_round", "valid_value", "validity")

    def __init__(self, height: int) -> None:
        self.height = height
        self.round = 0
        self.step: Step = "propose"
        self.decided = False
        self.commit: Commit | None = None
        self.locked_value: bytes | None = None
        self.locked_round = NIL_ROUND
        self.valid_value: bytes | None = None
        self.valid_round = NIL_ROUND
        self.rounds: dict[int, _RoundLog] = {}
        self.far_rounds: dict[bytes, int] = {}  # validator -> highest round beyond the window
        self.prevote_timeout_rounds: set[int] = set()  # line 34 fired ("for the first time")
        self.precommit_timeout_rounds: set[int] = set()  # line 47 fired
        self.line36_rounds: set[int] = set()  # line 36 fired
        self.own: dict[tuple[int, str], Proposal | Vote] = {}  # (round, kind) -> what I signed
        self.validity: dict[bytes, bool] = {}  # value id -> valid(v), asked once
        self.proposed: dict[bytes, None] = {}  # value ids of the proposals kept


def _own_key(message: Proposal | Vote) -> tuple[int, str]:
    return (message.round, "proposal" if isinstance(message, Proposal) else message.kind)


def _height_of(message: Message) -> int:
    return message.certificate.height if isinstance(message, Commit) else message.height


class TendermintCore:
    """One validator's (or observer's) consensus state machine; the single owner of it.

    Inputs — :meth:`start_height`, :meth:`on_proposal`, :meth:`on_vote`,
    :meth:`on_commit`, :meth:`on_timeout` — return the actions to carry out, in order.
    A ``PersistWal`` always precedes the ``Broadcast`` of the message it records.
    """

    def __init__(self, chain_id: str, validators: Sequence[bytes], signer: KeyPair | None,
                 app: Application, *, timeouts: TimeoutConfig | None = None,
                 limits: Limits | None = None) -> None:
        check_validator_set(validators)
        if not isinstance(chain_id, str) or not 0 < len(chain_id) <= 64:
            raise ValueError("chain id must have 1 to 64 characters")
        self._chain_id = chain_id
        self._validators = tuple(validators)
        self._index = {key: i for i, key in enumerate(self._validators)}
        self._quorum = quorum_size(len(self._validators))
        self._skip = round_skip_size(len(self._validators))
        self._signer = signer
        self._me = signer.public_key if signer is not None else None
        if self._me is not None and self._me not in self._index:
            raise ValueError("the signer is not in the validator set (pass signer=None for an "
                             "observer)")
        self._app = app
        self._timeouts = timeouts or TimeoutConfig()
        self._limits = limits or Limits()
        self._state: _Height | None = None
        self._future: dict[Message, None] = {}  # verified messages of the next height
        self._restored: dict[int, list[WalEntry]] = {}
        self._commits: dict[int, Commit] = {}  # recent decisions, oldest first
        self._evidence: deque[Equivocation] = deque(maxlen=self._limits.evidence_retained)
        self._stats: dict[str, int] = dict.fromkeys(STATISTICS_COUNTERS, 0)

    # -- read-only views ----------------------------------------------------------------

    @property
    def chain_id(self) -> str:
        return self._chain_id

    @property
    def validators(self) -> tuple[bytes, ...]:
        return self._validators

    @property
    def public_key(self) -> bytes | None:
        return self._me

    def _started(self) -> _Height:
        if self._state is None:
            raise InvariantViolation("the core has not started a height yet")
        return self._state

    @property
    def height(self) -> int:
        return self._started().height

    @property
    def round(self) -> int:
        return self._started().round

    @property
    def step(self) -> Step:
        return self._started().step

    @property
    def decided(self) -> bool:
        return self._started().decided

    @property
    def locked_round(self) -> int:
        return self._started().locked_round

    @property
    def locked_value(self) -> bytes | None:
        return self._started().locked_value

    @property
    def valid_round(self) -> int:
        return self._started().valid_round

    @property
    def valid_value(self) -> bytes | None:
        return self._started().valid_value

    def progress(self) -> tuple[int, int, str, bool]:
        """(height, round, step, decided); a driver re-sends when this stops changing."""
        s = self._state
        if s is None:
            return (-1, -1, PROPOSE, False)
        return (s.height, s.round, s.step, s.decided)

    def proposer(self, height: int, round_: int) -> bytes:
        return proposer_of(self._validators, height, round_)

    def evidence(self) -> list[Equivocation]:
        """Equivocations seen (the most recent ``Limits.evidence_retained``)."""
        return list(self._evidence)

    def statistics(self) -> dict[str, int]:
        s = self._state
        return {
            **self._stats,
            "height": s.height if s else -1,
            "round": s.round if s else -1,
            "future_pending": len(self._future),
            "commits_retained": len(self._commits),
            "evidence_retained": len(self._evidence),
        }

    # -- inputs -------------------------------------------------------------------------

    def restore(self, entries: Iterable[WalEntry]) -> None:
        """Load a WAL before the first :meth:`start_height`, after a restart.

        The height then started resumes where the entries left it — round, step, lock,
        valid value — and re-broadcasts what was signed; nothing already signed is ever
        signed again differently.
        """
        check(self._state is None, "restore() must come before the first start_height()")
        seen: dict[tuple[int, int, str], Proposal | Vote] = {}
        for entry in entries:
            if entry.proposal is not None and entry.vote is not None:
                raise StorageCorrupt("a WAL entry records a proposal and a vote at once")
            message = entry.proposal if entry.proposal is not None else entry.vote
            if message is not None:
                signer = message.proposer if isinstance(message, Proposal) else message.validator
                if self._me is None or signer != self._me:
                    raise StorageCorrupt("the WAL holds a message this validator did not sign")
                if (message.chain_id, message.height, message.round) != (
                        self._chain_id, entry.height, entry.round):
                    raise StorageCorrupt("a WAL entry disagrees with the message it records")
                key = (entry.height, *_own_key(message))
                if seen.setdefault(key, message) != message:
                    raise StorageCorrupt(
                        f"the WAL holds two different {key[2]} messages for height {key[0]} "
                        f"round {key[1]}: this validator double-signed")
            self._restored.setdefault(entry.height, []).append(entry)

    def load_commits(self, commits: Iterable[Commit]) -> None:
        """Recent decisions from the driver's block store, after a restart, so the core can
        hand them to validators that lag (it keeps the last ``commits_retained``)."""
        for commit in commits:
            problem = commit_problem(commit, self._validators, self._chain_id)
            if problem is not None:
                raise StorageCorrupt(f"a stored commit does not verify: {problem}")
            self._retain(commit)

    def start_height(self, height: int) -> list[Action]:
        """Begin ``height`` (the first, or the one after a decision the driver committed)."""
        check(type(height) is int and 0 <= height <= HEIGHT_MAX, f"height {height!r}")
        previous = self._state
        check(previous is None or height > previous.height,
              f"start_height({height}) after height {previous.height if previous else -1}")
        above = [h for h in self._restored if h > height]
        if above:
            raise StorageCorrupt(
                f"the WAL holds signed messages for height {max(above)}, above the height "
                f"{height} being started: decisions were lost")
        restored = self._restored.pop(height, None)
        self._restored.clear()
        buffered = [m for m in self._future if _height_of(m) == height]
        self._future.clear()
        s = self._state = _Height(height)
        actions: list[Action] = []
        if restored:
            self._resume(s, restored, actions)
        else:
            self._start_round(0, actions)
        for message in buffered:
            if not isinstance(message, Commit):
                self._insert(s, message)
        for message in buffered:
            if isinstance(message, Commit):
                self._decide_by_commit(message, actions)
        self._advance(actions)
        return actions

    def on_message(self, message: Message) -> list[Action]:
        if isinstance(message, Proposal):
            return self.on_proposal(message)
        if isinstance(message, Vote):
            return self.on_vote(message)
        if isinstance(message, Commit):
            return self.on_commit(message)
        raise TypeError(f"not a consensus message: {type(message).__name__}")

    def on_proposal(self, proposal: Proposal) -> list[Action]:
        actions: list[Action] = []
        self._receive(proposal, actions)
        return actions

    def on_vote(self, vote: Vote) -> list[Action]:
        actions: list[Action] = []
        self._receive(vote, actions)
        return actions

    def on_commit(self, commit: Commit) -> list[Action]:
        """A decision some validator reached: a value and 2f+1 precommits for it."""
        actions: list[Action] = []
        self._count("received")
        s = self._state
        if s is None:
            self._count("not_started")
            return actions
        height = commit.certificate.height
        if type(height) is not int or height < s.height or (height == s.height and s.decided):
            self._count("stale")
            return actions
        if height > s.height + 1:
            self._count("future_dropped")
            return actions
        if height == s.height + 1 and (
                commit in self._future
                or len(self._future) >= self._limits.future_messages_max):
            self._count("duplicates" if commit in self._future else "future_dropped")
            return actions
        problem = commit_problem(commit, self._validators, self._chain_id)
        if problem is not None:
            self._count("invalid_commits")
            return actions
        if height == s.height + 1:
            self._future[commit] = None
            self._count("future_buffered")
            return actions
        self._decide_by_commit(commit, actions)
        self._advance(actions)
        return actions

    def on_timeout(self, kind: TimeoutKind, height: int, round_: int) -> list[Action]:
        """Lines 57-67: OnTimeoutPropose, OnTimeoutPrevote, OnTimeoutPrecommit."""
        if kind not in (PROPOSE, PREVOTE, PRECOMMIT):
            raise ValueError(f"unknown timeout kind {kind!r}")
        actions: list[Action] = []
        s = self._state
        if s is None or s.decided or height != s.height or round_ != s.round:
            self._count("timeouts_ignored")
            return actions
        self._count("timeouts")
        if kind == PROPOSE:
            if s.step == PROPOSE:  # line 57
                s.step = "prevote"
                self._sign_vote(PREVOTE, NIL, actions)
        elif kind == PREVOTE:
            if s.step == PREVOTE:  # line 61
                s.step = "precommit"
                self._sign_vote(PRECOMMIT, NIL, actions)
        else:  # line 65
            self._start_round(round_ + 1, actions)
        self._advance(actions)
        return actions

    def rebroadcast(self) -> list[Action]:
        """Messages to send again when progress stalls: the gossip the paper assumes.

        Algorithm 1 is live only if every message a correct validator received reaches
        every correct validator. So: this validator's own messages, then every proposal
        and vote it holds, of the height's recent rounds (``rebroadcast_rounds_max``), and
        the prevotes that justify its valid value; once decided, the commit. Nothing is
        signed here, so nothing needs the WAL.
        """
        s = self._state
        if s is None:
            return []
        if s.decided:
            check(s.commit is not None, "a decided height keeps its commit")
            return [Broadcast(s.commit)] if s.commit is not None else []
        messages: dict[Message, None] = {}
        lowest = s.round - self._limits.rebroadcast_rounds_max
        for (round_, _), message in s.own.items():
            if round_ >= lowest:
                messages[message] = None
        for round_ in sorted(r for r in s.rounds if r >= lowest):
            log = s.rounds[round_]
            messages.update(dict.fromkeys(log.proposals))
            for votes in (*log.prevotes.values(), *log.precommits.values()):
                messages.update(dict.fromkeys(votes))
        if s.valid_value is not None:
            messages.update(dict.fromkeys(
                self._prevotes_for(s, s.valid_round, value_id(s.valid_value))))
        return [Broadcast(message) for message in messages]

    # -- receiving ----------------------------------------------------------------------

    def _count(self, name: str, amount: int = 1) -> None:
        self._stats[name] += amount

    def _receive(self, message: Proposal | Vote, actions: list[Action]) -> None:
        self._count("received")
        if isinstance(message, Proposal):
            problem = proposal_problem(message)
        elif isinstance(message, Vote):
            problem = vote_problem(message)
        else:
            raise TypeError(f"not a proposal or vote: {type(message).__name__}")
        if problem is not None:
            self._count("malformed")
            return
        if message.chain_id != self._chain_id:
            self._count("wrong_chain")
            return
        s = self._state
        if s is None:
            self._count("not_started")
            return
        signer = message.proposer if isinstance(message, Proposal) else message.validator
        if signer not in self._index:
            self._count("not_member")
            return
        if isinstance(message, Proposal) and signer != self.proposer(message.height,
                                                                     message.round):
            self._count("not_proposer")
            return
        if message.height < s.height or (message.height == s.height and s.decided):
            self._count("stale")
            commit = self._commits.get(message.height)
            # The signer lags: hand it the decision (a forgery earns nothing).
            if commit is not None and self._verify(message):
                actions.append(Broadcast(commit))
                self._count("commits_sent")
            return
        if message.height > s.height + 1:
            self._count("future_dropped")
            return
        if message.height == s.height + 1:
            self._buffer_future(message)
            return
        if message.round < s.round - self._limits.rounds_behind_max and not (
                isinstance(message, Vote) and self._justifies_proposal(s, message)):
            self._count("stale_round")
            return
        if message.round > s.round + self._limits.rounds_ahead_max:
            # Beyond the window: keep only the highest round each validator reached, for
            # the round skip (line 55); the message itself will be re-sent by gossip.
            if self._verify(message):
                self._count("far_round")
                if s.far_rounds.get(signer, NIL_ROUND) < message.round:
                    s.far_rounds[signer] = message.round
                self._advance(actions)
            return
        log = s.rounds.get(message.round)
        if log is not None and self._holds(log, message):
            self._count("duplicates")
            return
        if not self._verify(message):
            return
        self._insert(s, message)
        self._advance(actions)

    def _justifies_proposal(self, s: _Height, vote: Vote) -> bool:
        """Is ``vote`` a prevote of the valid round a proposal of this round names?"""
        log = s.rounds.get(s.round)
        return vote.kind == PREVOTE and log is not None and any(
            proposal.valid_round == vote.round and value_id(proposal.value) == vote.value_id
            for proposal in log.proposals)

    def _holds(self, log: _RoundLog, message: Proposal | Vote) -> bool:
        if isinstance(message, Proposal):
            return message in log.proposals
        votes = log.prevotes if message.kind == PREVOTE else log.precommits
        return message in votes.get(message.validator, ())

    def _verify(self, message: Proposal | Vote) -> bool:
        if isinstance(message, Proposal):
            ok = verify_proposal_signature(message)
        else:
            ok = verify_vote_signature(message)
        if not ok:
            self._count("invalid_signature")
        return ok

    def _buffer_future(self, message: Proposal | Vote) -> None:
        """Keep a verified message of the next height, within bounds."""
        if message in self._future:
            self._count("duplicates")
            return
        if (message.round > self._limits.rounds_ahead_max
                or len(self._future) >= self._limits.future_messages_max):
            self._count("future_dropped")
            return
        if self._verify(message):
            self._future[message] = None
            self._count("future_buffered")

    def _insert(self, s: _Height, message: Proposal | Vote) -> None:
        """Add a verified message to the round's log; keep evidence of equivocation.

        Each validator counts once per value it voted for, as in the paper, where all
        of an equivocator's messages are received. To bound the log, beyond its first two
        votes of a round and kind only votes for nil or for a proposed value are kept:
        the upon-rules count nothing else. Dropping the rest would let an equivocator
        hide, from some validators, the prevotes that justify a proposal (line 28).
        """
        log = s.rounds.get(message.round)
        if log is None:
            log = s.rounds[message.round] = _RoundLog()
        if isinstance(message, Proposal):
            if message in log.proposals:
                self._count("duplicates")
                return
            if log.proposals:
                self._record_equivocation(log.proposals[0], message)
                if len(log.proposals) >= PROPOSALS_PER_ROUND_MAX:
                    self._count("equivocations_dropped")
                    return
            log.proposals.append(message)
            log.senders[message.proposer] = None
            s.proposed[value_id(message.value)] = None
            return
        votes, tally = ((log.prevotes, log.prevote_tally) if message.kind == PREVOTE
                        else (log.precommits, log.precommit_tally))
        earlier = votes.get(message.validator)
        if earlier is None:
            votes[message.validator] = [message]
        else:
            if message in earlier:
                self._count("duplicates")
                return
            self._record_equivocation(earlier[0], message)
            if len(earlier) >= VOTES_PER_VALIDATOR_MAX and not (
                    message.value_id == NIL or message.value_id in s.proposed):
                self._count("equivocations_dropped")
                return
            earlier.append(message)
        tally[message.value_id] = tally.get(message.value_id, 0) + 1
        log.senders[message.validator] = None

    def _record_equivocation(self, first: Proposal | Vote, second: Proposal | Vote) -> None:
        self._count("equivocations")
        self._evidence.append(Equivocation(first=first, second=second))

    # -- Algorithm 1 --------------------------------------------------------------------

    def _valid(self, s: _Height, value: bytes) -> bool:
        """valid(v), asked of the application once per value and height."""
        key = value_id(value)
        known = s.validity.get(key)
        if known is None:
            known = bool(self._app.validate_value(s.height, value))
            s.validity[key] = known
        return known

    def _prevotes_for(self, s: _Height, round_: int, value: bytes) -> list[Vote]:
        log = s.rounds.get(round_)
        if log is None:
            return []
        return [vote for voter in log.prevotes.values() for vote in voter
                if vote.value_id == value]

    def _may_prevote_for(self, s: _Height, proposal: Proposal, valid_round: int) -> bool:
        """The lock rule of lines 23 and 29: prevote for v only if valid and not locked on
        another value (or locked no later than the proposal's valid round)."""
        if not self._valid(s, proposal.value):
            return False
        if s.locked_round == NIL_ROUND:
            return True
        if s.locked_value is not None and value_id(s.locked_value) == value_id(proposal.value):
            return True
        return valid_round != NIL_ROUND and s.locked_round <= valid_round

    def _advance(self, actions: list[Action]) -> None:
        """Fire enabled upon-rules until none is; each firing changes the state."""
        for _ in range(RULE_FIRINGS_MAX):
            if not self._fire_one(actions):
                return
        raise InvariantViolation(f"upon-rules still enabled after {RULE_FIRINGS_MAX} firings")

    def _fire_one(self, actions: list[Action]) -> bool:
        s = self._state
        if s is None or s.decided:
            return False
        quorum = self._quorum
        # Line 49: a proposal and 2f+1 precommits for its value, in any round: decide.
        for round_, past in s.rounds.items():
            if len(past.precommits) < quorum:
                continue
            for proposal in past.proposals:
                if (past.precommit_tally.get(value_id(proposal.value), 0) >= quorum
                        and self._valid(s, proposal.value)):
                    self._decide(s, proposal.value, round_, None, actions)
                    return True
        # Line 55: f+1 validators sent messages of a higher round: go to that round.
        target = self._round_skip_target(s)
        if target is not None:
            self._start_round(target, actions)
            return True
        log = s.rounds.get(s.round)
        if log is None:
            return False
        if s.step == PROPOSE:
            for proposal in log.proposals:
                valid_round = proposal.valid_round
                if valid_round == NIL_ROUND:  # line 22
                    ok = self._may_prevote_for(s, proposal, NIL_ROUND)
                elif valid_round < s.round and len(self._prevotes_for(
                        s, valid_round, value_id(proposal.value))) >= quorum:  # line 28
                    ok = self._may_prevote_for(s, proposal, valid_round)
                else:
                    continue
                s.step = "prevote"
                self._sign_vote(PREVOTE, value_id(proposal.value) if ok else NIL, actions)
                return True
        # Line 36: a proposal of this round and 2f+1 prevotes for it, for the first time.
        if s.step != PROPOSE and s.round not in s.line36_rounds:
            for proposal in log.proposals:
                if (log.prevote_tally.get(value_id(proposal.value), 0) >= quorum
                        and self._valid(s, proposal.value)):
                    s.line36_rounds.add(s.round)
                    changed = (s.valid_value, s.valid_round) != (proposal.value, s.round)
                    s.valid_value, s.valid_round = proposal.value, s.round
                    if s.step == PREVOTE:
                        s.locked_value, s.locked_round = proposal.value, s.round
                        s.step = "precommit"
                        self._sign_vote(PRECOMMIT, value_id(proposal.value), actions)
                    elif changed and self._me is not None:
                        actions.append(PersistWal(self._entry(s, None)))
                    return True
        if s.step == PREVOTE:
            # Line 44: 2f+1 prevotes for nil.
            if log.prevote_tally.get(NIL, 0) >= quorum:
                s.step = "precommit"
                self._sign_vote(PRECOMMIT, NIL, actions)
                return True
            # Line 34: 2f+1 prevotes of any kind, for the first time.
            if len(log.prevotes) >= quorum and s.round not in s.prevote_timeout_rounds:
                s.prevote_timeout_rounds.add(s.round)
                actions.append(self._timeout(PREVOTE, s))
                return True
        # Line 47: 2f+1 precommits of any kind, for the first time.
        if len(log.precommits) >= quorum and s.round not in s.precommit_timeout_rounds:
            s.precommit_timeout_rounds.add(s.round)
            actions.append(self._timeout(PRECOMMIT, s))
            return True
        return False

    def _round_skip_target(self, s: _Height) -> int | None:
        target = None
        for round_, log in s.rounds.items():
            if round_ > s.round and len(log.senders) >= self._skip and (
                    target is None or round_ > target):
                target = round_
        if len(s.far_rounds) >= self._skip:
            # f+1 validators reached rounds beyond the window: the (f+1)-th highest of
            # them was reached by at least one correct validator.
            far = sorted(s.far_rounds.values(), reverse=True)[self._skip - 1]
            if far > s.round and (target is None or far > target):
                target = far
        return target

    def _timeout(self, kind: TimeoutKind, s: _Height) -> ScheduleTimeout:
        return ScheduleTimeout(kind, s.height, s.round, self._timeouts.delay_ms(kind, s.round))

    def _start_round(self, round_: int, actions: list[Action]) -> None:
        """StartRound(round), line 10."""
        s = self._started()
        check(round_ >= s.round, f"round {round_} after round {s.round}")
        s.round, s.step = round_, "propose"
        self._count("rounds_started")
        s.far_rounds = {key: r for key, r in s.far_rounds.items() if r > round_}
        lowest = round_ - self._limits.rounds_behind_max
        for old in [r for r in s.rounds if r < lowest and r not in (s.locked_round,
                                                                     s.valid_round)]:
            del s.rounds[old]
        for key in [key for key in s.own if key[0] < lowest]:
            del s.own[key]
        signer = self._signer
        if signer is None or self.proposer(s.height, round_) != signer.public_key:
            actions.append(self._timeout(PROPOSE, s))
            return
        proposal = s.own.get((round_, "proposal"))
        if proposal is not None:  # signed before a restart: never sign another one
            check(isinstance(proposal, Proposal), "own proposal slot holds a proposal")
            self._count("sign_reused")
            actions.append(Broadcast(proposal))
        else:
            if s.valid_value is not None:
                value, valid_round = s.valid_value, s.valid_round
            else:
                value, valid_round = self._app.propose_value(s.height), NIL_ROUND
                check(isinstance(value, bytes) and len(value) <= VALUE_BYTES_MAX,
                      "the application proposed something other than bytes of at most "
                      f"{VALUE_BYTES_MAX}")
            proposal = sign_proposal(signer, chain_id=self._chain_id, height=s.height,
                                     round_=round_, value=value, valid_round=valid_round)
            s.own[(round_, "proposal")] = proposal
            self._count("signed")
            actions.append(PersistWal(self._entry(s, proposal)))
            actions.append(Broadcast(proposal))
        if isinstance(proposal, Proposal):
            if proposal.valid_round != NIL_ROUND:  # the prevotes that justify re-proposing
                for vote in self._prevotes_for(s, proposal.valid_round,
                                               value_id(proposal.value)):
                    actions.append(Broadcast(vote))
            self._insert(s, proposal)

    def _sign_vote(self, kind: VoteKind, value: bytes, actions: list[Action]) -> None:
        """Sign, persist, broadcast and count a vote of the current round (if a validator).

        If this validator already signed a vote of this kind in this round (before a
        restart), that vote is sent again instead: it never signs two.
        """
        s = self._started()
        signer = self._signer
        if signer is None:
            return
        earlier = s.own.get((s.round, kind))
        if earlier is not None:
            self._count("sign_reused")
            actions.append(Broadcast(earlier))
            return
        vote = sign_vote(signer, chain_id=self._chain_id, kind=kind, height=s.height,
                         round_=s.round, value_id=value)
        s.own[(s.round, kind)] = vote
        self._count("signed")
        actions.append(PersistWal(self._entry(s, vote)))
        actions.append(Broadcast(vote))
        self._insert(s, vote)

    def _entry(self, s: _Height, message: Proposal | Vote | None) -> WalEntry:
        return WalEntry(
            height=s.height, round=s.round, step=s.step, locked_round=s.locked_round,
            locked_value=s.locked_value, valid_round=s.valid_round, valid_value=s.valid_value,
            valid_votes=tuple(self._prevotes_for(s, s.valid_round, value_id(s.valid_value)))
            if s.valid_value is not None else (),
            proposal=message if isinstance(message, Proposal) else None,
            vote=message if isinstance(message, Vote) else None,
        )

    def _resume(self, s: _Height, entries: list[WalEntry], actions: list[Action]) -> None:
        """Continue a height from the WAL: its last entry's round, step and lock."""
        last = entries[-1]
        s.round, s.step = last.round, last.step
        s.locked_round, s.locked_value = last.locked_round, last.locked_value
        s.valid_round, s.valid_value = last.valid_round, last.valid_value
        for vote in last.valid_votes:  # the prevotes behind the valid value
            self._insert(s, vote)
        for entry in entries:
            message = entry.proposal if entry.proposal is not None else entry.vote
            if message is None:
                continue
            s.own[_own_key(message)] = message
            self._insert(s, message)
            actions.append(Broadcast(message))
            self._count("restored_messages")
        if s.step == PROPOSE:  # a proposer that crashed right after proposing
            actions.append(self._timeout(PROPOSE, s))

    def _decide(self, s: _Height, value: bytes, round_: int,
                certificate: CommitCertificate | None, actions: list[Action]) -> None:
        """Line 49: decision_p[h_p] = v. The driver commits it and starts the next height."""
        decided_id = value_id(value)
        if certificate is None:
            log = s.rounds[round_]
            votes = tuple(vote for voter in sorted(log.precommits, key=self._index.__getitem__)
                          for vote in log.precommits[voter] if vote.value_id == decided_id)
            certificate = CommitCertificate(chain_id=self._chain_id, height=s.height,
                                            round=round_, value_id=decided_id, votes=votes)
        check(len({vote.validator for vote in certificate.votes}) >= self._quorum
              and certificate.value_id == decided_id and certificate.height == s.height,
              "a decision carries a quorum of precommits for its value")
        s.decided = True
        s.commit = Commit(value=value, certificate=certificate)
        self._retain(s.commit)
        self._count("decisions")
        actions.append(Decide(s.height, value, certificate))

    def _retain(self, commit: Commit) -> None:
        self._commits[commit.certificate.height] = commit
        while len(self._commits) > self._limits.commits_retained:
            del self._commits[min(self._commits)]

    def _decide_by_commit(self, commit: Commit, actions: list[Action]) -> None:
        """A verified commit for the current height: line 49 with the messages bundled."""
        s = self._started()
        if s.decided:
            return
        if not self._valid(s, commit.value):
            self._count("invalid_values_certified")
            return
        self._count("decisions_by_commit")
        self._decide(s, commit.value, commit.certificate.round, commit.certificate, actions)

