"""The upon-rules of Algorithm 1, one by one, on validator 0 at height 1.

proposer(1, r) is validator (1 + r) % 4: validator 1 in round 0, 2 in round 1, 3 in
round 2, and validator 0 itself in round 3.
"""

from __future__ import annotations

import msgspec
import pytest

from oneteam.ledger.consensus.core import (
    Broadcast,
    Limits,
    PersistWal,
    ScheduleTimeout,
    TendermintCore,
)
from oneteam.ledger.consensus.messages import (
    NIL,
    Commit,
    Proposal,
    Vote,
    sign_vote,
    value_id,
    verify_certificate,
    verify_evidence,
)

from .conftest import (
    CHAIN,
    KEYS,
    OUTSIDER,
    TIMEOUTS,
    VALIDATORS,
    Network,
    ScriptedApp,
    assert_persist_before_broadcast,
    decisions,
    feed,
    make_core,
    precommit,
    prevote,
    proposal,
    sent,
    sent_votes,
    timeouts,
    wal_entries,
)

V = b"value-v"
W = b"value-w"


def started(index: int = 0) -> TendermintCore:
    core = make_core(index)
    core.start_height(1)
    return core


def locked_on(value: bytes = V) -> TendermintCore:
    """Validator 0, locked on ``value`` in round 0 (it prevoted and precommitted it)."""
    core = started()
    actions = feed(core, proposal(1, 0, value), prevote(1, 1, 0, value),
                   prevote(2, 1, 0, value))
    assert [v.value_id for v in sent_votes(actions, "precommit")] == [value_id(value)]
    assert (core.locked_round, core.locked_value) == (0, value)
    return core


def to_round(core: TendermintCore, round_: int) -> None:
    """Move on by OnTimeoutPrecommit, round after round."""
    while core.round < round_:
        core.on_timeout("precommit", core.height, core.round)
    assert core.round == round_


# -- StartRound (line 10) ------------------------------------------------------------------------


def test_a_validator_that_does_not_propose_schedules_the_propose_timeout() -> None:
    core = make_core(0)
    actions = core.start_height(1)
    assert actions == [ScheduleTimeout("propose", 1, 0, TIMEOUTS.propose_ms)]
    assert (core.height, core.round, core.step) == (1, 0, "propose")


def test_the_proposer_persists_then_broadcasts_its_proposal_and_prevotes_for_it() -> None:
    app_core = make_core(1)
    actions = app_core.start_height(1)
    assert [type(a) for a in actions] == [PersistWal, Broadcast, PersistWal, Broadcast]
    proposed, prevoted = sent(actions)
    assert isinstance(proposed, Proposal) and proposed.valid_round == -1
    assert isinstance(prevoted, Vote) and prevoted.value_id == value_id(proposed.value)
    assert_persist_before_broadcast(actions, VALIDATORS[1])
    assert timeouts(actions) == []  # the paper's proposer waits for no proposal


# -- line 22 -------------------------------------------------------------------------------------


def test_line_22_a_valid_proposal_gets_a_prevote_for_its_value() -> None:
    core = started()
    actions = feed(core, proposal(1, 0, V))
    assert [v.value_id for v in sent_votes(actions, "prevote")] == [value_id(V)]
    assert core.step == "prevote"
    assert_persist_before_broadcast(actions, VALIDATORS[0])


def test_line_22_an_invalid_value_gets_a_prevote_for_nil() -> None:
    core = started()
    actions = feed(core, proposal(1, 0, b"bad value"))
    assert [v.value_id for v in sent_votes(actions, "prevote")] == [NIL]


def test_line_22_a_validator_locked_on_v_prevotes_nil_for_a_fresh_other_value() -> None:
    core = locked_on(V)
    to_round(core, 1)
    actions = feed(core, proposal(1, 1, W))
    assert [v.value_id for v in sent_votes(actions, "prevote")] == [NIL]


def test_line_22_a_validator_locked_on_v_prevotes_for_v_proposed_again() -> None:
    core = locked_on(V)
    to_round(core, 1)
    actions = feed(core, proposal(1, 1, V))
    assert [v.value_id for v in sent_votes(actions, "prevote")] == [value_id(V)]


# -- line 28 -------------------------------------------------------------------------------------


def test_line_28_a_lock_gives_way_to_a_proposal_justified_in_a_later_round() -> None:
    core = locked_on(V)
    to_round(core, 1)
    # Round 1: no proposal reaches validator 0, but 1, 2 and 3 prevote W.
    feed(core, prevote(1, 1, 1, W), prevote(2, 1, 1, W), prevote(3, 1, 1, W))
    to_round(core, 2)
    actions = feed(core, proposal(1, 2, W, valid_round=1))  # vr 1 >= lockedRound 0
    assert [v.value_id for v in sent_votes(actions, "prevote")] == [value_id(W)]


def test_line_28_waits_for_the_prevotes_of_the_valid_round() -> None:
    core = locked_on(V)
    to_round(core, 1)
    feed(core, prevote(1, 1, 1, W), prevote(2, 1, 1, W))  # 2f only
    to_round(core, 2)
    assert sent(feed(core, proposal(1, 2, W, valid_round=1))) == []
    assert core.step == "propose"
    actions = feed(core, prevote(3, 1, 1, W))  # the third arrives: line 28 fires
    assert [v.value_id for v in sent_votes(actions, "prevote")] == [value_id(W)]


def test_line_28_a_lock_newer_than_the_valid_round_holds() -> None:
    core = started()
    # Round 0: no proposal arrives, but the others prevote W: a POL for W in round 0.
    feed(core, prevote(1, 1, 0, W), prevote(2, 1, 0, W), prevote(3, 1, 0, W))
    to_round(core, 1)
    # Round 1: V is proposed and gets 2f+1 prevotes: validator 0 locks on V in round 1.
    feed(core, proposal(1, 1, V), prevote(1, 1, 1, V), prevote(2, 1, 1, V))
    assert (core.locked_round, core.locked_value) == (1, V)
    to_round(core, 2)
    actions = feed(core, proposal(1, 2, W, valid_round=0))  # vr 0 < lockedRound 1
    assert [v.value_id for v in sent_votes(actions, "prevote")] == [NIL]


# -- lines 34, 44, 47: timeouts on any 2f+1, and nil ---------------------------------------------


def test_line_34_two_thirds_of_any_prevotes_schedule_the_prevote_timeout_once() -> None:
    core = started()
    to_round(core, 2)
    core.on_timeout("propose", 1, 2)  # step prevote, nil
    actions = feed(core, prevote(1, 1, 2, V), prevote(2, 1, 2, W))
    expected = ScheduleTimeout("prevote", 1, 2, TIMEOUTS.prevote_ms + 2 * TIMEOUTS.prevote_delta_ms)
    assert timeouts(actions) == [expected]
    assert timeouts(feed(core, prevote(3, 1, 2, V))) == []


def test_line_44_two_thirds_of_nil_prevotes_bring_a_nil_precommit() -> None:
    core = started()
    core.on_timeout("propose", 1, 0)
    actions = feed(core, prevote(1, 1, 0, None), prevote(2, 1, 0, None))
    assert [v.value_id for v in sent_votes(actions, "precommit")] == [NIL]
    assert core.step == "precommit" and core.locked_round == -1


def test_line_47_two_thirds_of_any_precommits_schedule_the_precommit_timeout_once() -> None:
    core = started()
    actions = feed(core, precommit(1, 1, 0, V), precommit(2, 1, 0, None),
                   precommit(3, 1, 0, W))
    assert timeouts(actions) == [ScheduleTimeout("precommit", 1, 0, TIMEOUTS.precommit_ms)]
    assert timeouts(feed(core, precommit(0, 1, 0, None))) == []


# -- line 36 -------------------------------------------------------------------------------------


def test_line_36_in_the_prevote_step_locks_and_precommits() -> None:
    core = started()
    actions = feed(core, proposal(1, 0, V), prevote(1, 1, 0, V), prevote(2, 1, 0, V))
    assert [v.value_id for v in sent_votes(actions, "precommit")] == [value_id(V)]
    assert (core.locked_round, core.valid_round, core.valid_value) == (0, 0, V)
    entry = wal_entries(actions)[-1].entry
    assert entry.vote is not None and entry.vote.kind == "precommit"
    assert (entry.locked_round, entry.locked_value, entry.step) == (0, V, "precommit")
    assert len(entry.valid_votes) == 3  # the prevotes that justify V


def test_line_36_in_the_precommit_step_only_updates_the_valid_value() -> None:
    core = started()
    core.on_timeout("propose", 1, 0)  # prevote nil
    feed(core, prevote(1, 1, 0, V), prevote(2, 1, 0, V))  # 2f+1 of any: timeout scheduled
    core.on_timeout("prevote", 1, 0)  # precommit nil
    assert core.step == "precommit"
    actions = feed(core, proposal(1, 0, V), prevote(3, 1, 0, V))
    assert sent(actions) == []
    assert (core.locked_round, core.valid_round, core.valid_value) == (-1, 0, V)
    (persisted,) = wal_entries(actions)
    assert persisted.entry.vote is None and persisted.entry.valid_value == V


# -- line 49 -------------------------------------------------------------------------------------


def test_line_49_decides_on_a_proposal_and_two_thirds_of_precommits() -> None:
    core = started()
    feed(core, proposal(1, 0, V), precommit(1, 1, 0, V))
    assert decisions(feed(core, precommit(2, 1, 0, V))) == []  # 2f (with its own: none)
    actions = feed(core, precommit(3, 1, 0, V))
    (decided,) = decisions(actions)
    assert (decided.height, decided.value) == (1, V)
    verify_certificate(decided.certificate, VALIDATORS, chain_id=CHAIN)
    assert core.decided


def test_line_49_needs_the_proposal_as_well() -> None:
    core = started()
    assert decisions(feed(core, precommit(1, 1, 0, V), precommit(2, 1, 0, V),
                          precommit(3, 1, 0, V))) == []
    assert [d.value for d in decisions(feed(core, proposal(1, 0, V)))] == [V]


def test_line_49_decides_for_an_earlier_round() -> None:
    core = started()
    feed(core, proposal(1, 0, V))
    to_round(core, 2)
    actions = feed(core, precommit(1, 1, 0, V), precommit(2, 1, 0, V), precommit(3, 1, 0, V))
    assert [(d.value, d.certificate.round) for d in decisions(actions)] == [(V, 0)]


def test_line_49_never_decides_an_invalid_value() -> None:
    core = started()
    bad = b"bad value"
    actions = feed(core, proposal(1, 0, bad), precommit(1, 1, 0, bad), precommit(2, 1, 0, bad),
                   precommit(3, 1, 0, bad))
    assert decisions(actions) == [] and not core.decided


# -- line 55 -------------------------------------------------------------------------------------


def test_line_55_f_plus_one_validators_in_a_higher_round_pull_it_there() -> None:
    core = started()
    feed(core, prevote(1, 1, 3, None))
    assert core.round == 0  # f messages: not enough
    actions = feed(core, precommit(2, 1, 3, None))
    assert core.round == 3
    # Validator 0 proposes in round 3 of height 1.
    assert [type(m) for m in sent(actions)] == [Proposal, Vote]


def test_line_55_a_proposal_counts_as_a_message_of_its_round() -> None:
    core = started()
    feed(core, proposal(1, 2, V), prevote(1, 1, 2, None))
    assert core.round == 2


def test_line_55_one_validator_with_many_messages_is_not_enough() -> None:
    core = started()
    feed(core, prevote(1, 1, 3, None), precommit(1, 1, 3, None), prevote(1, 1, 4, None))
    assert core.round == 0


def test_line_55_beyond_the_window_the_f_plus_first_highest_round_is_taken() -> None:
    core = make_core(0, limits=Limits(rounds_ahead_max=2))
    core.start_height(1)
    feed(core, prevote(1, 1, 20, None))
    assert core.round == 0
    feed(core, prevote(2, 1, 10, None))
    assert core.round == 10
    assert core.statistics()["far_round"] == 2


# -- timeouts (lines 57-67) ----------------------------------------------------------------------


def test_on_timeout_propose_prevotes_nil_in_the_propose_step_only() -> None:
    core = started()
    actions = core.on_timeout("propose", 1, 0)
    assert [v.value_id for v in sent_votes(actions, "prevote")] == [NIL]
    assert sent(core.on_timeout("propose", 1, 0)) == []  # step is prevote now


def test_on_timeout_prevote_precommits_nil_in_the_prevote_step_only() -> None:
    core = started()
    assert sent(core.on_timeout("prevote", 1, 0)) == []  # step propose
    core.on_timeout("propose", 1, 0)
    actions = core.on_timeout("prevote", 1, 0)
    assert [v.value_id for v in sent_votes(actions, "precommit")] == [NIL]


def test_timeouts_of_another_height_or_round_are_ignored() -> None:
    core = started()
    assert core.on_timeout("propose", 1, 1) == []
    assert core.on_timeout("precommit", 2, 0) == []
    assert core.statistics()["timeouts_ignored"] == 2
    assert (core.round, core.step) == (0, "propose")


def test_on_timeout_precommit_starts_the_next_round_with_a_longer_timeout() -> None:
    core = started()
    actions = core.on_timeout("precommit", 1, 0)
    assert core.round == 1
    assert timeouts(actions) == [
        ScheduleTimeout("propose", 1, 1, TIMEOUTS.propose_ms + TIMEOUTS.propose_delta_ms)]
    assert TIMEOUTS.delay_ms("prevote", 5) == TIMEOUTS.prevote_ms + 5 * TIMEOUTS.prevote_delta_ms


def test_a_proposer_with_a_valid_value_proposes_it_again_with_its_round_and_proof() -> None:
    core = locked_on(V)
    to_round(core, 2)
    actions = core.on_timeout("precommit", 1, 2)  # round 3: validator 0 proposes
    messages = sent(actions)
    proposed = messages[0]
    assert isinstance(proposed, Proposal)
    assert (proposed.value, proposed.valid_round) == (V, 0)
    pol = [m for m in messages if isinstance(m, Vote) and m.round == 0]
    assert len(pol) == 3 and {m.value_id for m in pol} == {value_id(V)}
    first, second = actions[:2]
    assert isinstance(first, PersistWal) and first.entry.proposal == proposed
    assert isinstance(second, Broadcast) and second.message == proposed


# -- what is refused -----------------------------------------------------------------------------


def test_bad_signatures_outsiders_and_wrong_proposers_are_ignored_and_counted() -> None:
    core = started()
    good = prevote(1, 1, 0, V)
    forged = msgspec.structs.replace(good, signature=bytes(64))
    outsider = sign_vote(OUTSIDER, chain_id=CHAIN, kind="prevote", height=1, round_=0,
                         value_id=value_id(V))
    wrong_proposer = proposal(1, 0, V, signer=KEYS[2])
    other_chain = sign_vote(KEYS[1], chain_id="another-chain", kind="prevote", height=1,
                            round_=0, value_id=value_id(V))
    malformed = msgspec.structs.replace(good, value_id=b"short")
    bad_round = proposal(1, 0, V, valid_round=0)  # valid round must be below the round
    for message in (forged, outsider, wrong_proposer, other_chain, malformed, bad_round):
        assert core.on_message(message) == []
    stats = core.statistics()
    assert (stats["invalid_signature"], stats["not_member"], stats["not_proposer"],
            stats["wrong_chain"], stats["malformed"]) == (1, 1, 1, 1, 2)
    assert core.step == "propose"  # none of them counted as a proposal


def test_a_duplicate_changes_nothing() -> None:
    core = started()
    feed(core, proposal(1, 0, V), prevote(1, 1, 0, V))
    assert feed(core, prevote(1, 1, 0, V), proposal(1, 0, V)) == []
    assert core.statistics()["duplicates"] == 2


def test_equivocating_votes_are_recorded_as_evidence_that_verifies() -> None:
    core = started()
    feed(core, prevote(1, 1, 0, V), prevote(1, 1, 0, W))
    (evidence,) = core.evidence()
    assert verify_evidence(evidence, VALIDATORS) == VALIDATORS[1]
    assert core.statistics()["equivocations"] == 1


def test_equivocating_proposals_are_recorded_as_evidence() -> None:
    core = started()
    feed(core, proposal(1, 0, V), proposal(1, 0, W))
    (evidence,) = core.evidence()
    assert verify_evidence(evidence, VALIDATORS) == VALIDATORS[1]


def test_an_equivocator_counts_for_each_value_but_cannot_grow_the_log() -> None:
    core = started()
    # Validator 1 prevotes V and W: it counts towards both, as every message is received.
    feed(core, prevote(1, 1, 0, V), prevote(1, 1, 0, W))
    # A third value nobody proposed is dropped; a vote for a proposed value is kept.
    feed(core, prevote(1, 1, 0, b"value-x"))
    assert core.statistics()["equivocations_dropped"] == 1
    feed(core, proposal(1, 0, b"value-y"), prevote(1, 1, 0, b"value-y"))
    assert core.statistics()["equivocations_dropped"] == 1


# -- heights: buffers, stale messages, commits ---------------------------------------------------


def test_messages_of_the_next_height_wait_and_those_beyond_are_dropped() -> None:
    core = started()
    core.on_message(prevote(1, 2, 0, V))
    core.on_message(prevote(1, 3, 0, V))
    stats = core.statistics()
    assert (stats["future_buffered"], stats["future_dropped"], stats["future_pending"]) == (1, 1, 1)
    feed(core, proposal(1, 0, V), precommit(1, 1, 0, V), precommit(2, 1, 0, V),
         precommit(3, 1, 0, V))
    assert core.decided
    # Height 2's proposer is validator 2; with the buffered prevote of 1 and its own
    # prevote, one more makes 2f+1 for V at height 2.
    core.start_height(2)
    actions = feed(core, proposal(2, 0, V), prevote(3, 2, 0, V))
    assert [v.value_id for v in sent_votes(actions, "precommit")] == [value_id(V)]


def test_the_next_height_buffer_is_bounded() -> None:
    core = make_core(0, limits=Limits(future_messages_max=3))
    core.start_height(1)
    for round_ in range(5):
        core.on_message(prevote(1, 2, round_, V))
    assert core.statistics()["future_pending"] == 3


def test_a_validator_that_lags_is_handed_the_decision() -> None:
    ahead = started()
    feed(ahead, proposal(1, 0, V), precommit(1, 1, 0, V), precommit(2, 1, 0, V),
         precommit(3, 1, 0, V))
    ahead.start_height(2)
    actions = ahead.on_message(prevote(3, 1, 1, None))  # validator 3 is still at height 1
    (commit,) = [a.message for a in actions if isinstance(a, Broadcast)]
    assert isinstance(commit, Commit) and commit.value == V
    behind = make_core(3)
    behind.start_height(1)
    assert [d.value for d in decisions(behind.on_commit(commit))] == [V]
    assert behind.statistics()["decisions_by_commit"] == 1


def test_a_commit_that_does_not_verify_is_ignored() -> None:
    ahead = started()
    feed(ahead, proposal(1, 0, V), precommit(1, 1, 0, V), precommit(2, 1, 0, V),
         precommit(3, 1, 0, V))
    ahead.start_height(2)
    (commit,) = [a.message for a in ahead.on_message(prevote(3, 1, 0, None))
                 if isinstance(a, Broadcast)]
    assert isinstance(commit, Commit)
    behind = make_core(3)
    behind.start_height(1)
    forged = Commit(value=W, certificate=commit.certificate)
    thin = Commit(value=V, certificate=msgspec.structs.replace(
        commit.certificate, votes=commit.certificate.votes[:2]))
    assert behind.on_commit(forged) == [] and behind.on_commit(thin) == []
    assert behind.statistics()["invalid_commits"] == 2 and not behind.decided


def test_an_observer_follows_and_decides_without_signing() -> None:
    observer = make_core(None)
    actions = observer.start_height(1)
    actions += feed(observer, proposal(1, 0, V), prevote(1, 1, 0, V), prevote(2, 1, 0, V),
                    prevote(3, 1, 0, V), precommit(1, 1, 0, V), precommit(2, 1, 0, V),
                    precommit(3, 1, 0, V))
    assert sent(actions) == [] and wal_entries(actions) == []
    assert [d.value for d in decisions(actions)] == [V]


def test_a_signer_outside_the_set_must_say_it_is_an_observer() -> None:
    with pytest.raises(ValueError, match="observer"):
        TendermintCore(CHAIN, VALIDATORS, OUTSIDER, ScriptedApp())


# -- four cores on an in-memory link -------------------------------------------------------------


def test_four_validators_agree_height_after_height_persisting_before_sending() -> None:
    network = Network()
    for height in range(1, 6):
        network.start(height)
        network.run()
        values = {network.decided[i][height].value for i in range(4)}
        assert len(values) == 1
        for i in range(4):
            verify_certificate(network.decided[i][height].certificate, VALIDATORS,
                               chain_id=CHAIN)
    for i in range(4):
        assert_persist_before_broadcast(network.log[i], VALIDATORS[i])


def test_rebroadcast_relays_what_others_sent_not_only_its_own() -> None:
    """Liveness needs gossip: a precommit only this validator got (a Byzantine validator
    sent it to no one else) is what the validators still in round 0 lack to time out."""
    core = started()
    feed(core, proposal(1, 0, V), prevote(1, 1, 0, V))
    byzantine_precommit = precommit(3, 1, 0, None)
    feed(core, byzantine_precommit)
    core.on_timeout("precommit", 1, 0)  # on to round 1
    relayed = [a.message for a in core.rebroadcast() if isinstance(a, Broadcast)]
    assert byzantine_precommit in relayed
    assert proposal(1, 0, V) in relayed and prevote(1, 1, 0, V) in relayed
    own = [m for m in relayed if isinstance(m, Vote) and m.validator == VALIDATORS[0]]
    assert own  # its own prevote of round 0


def test_rebroadcast_once_decided_is_the_commit() -> None:
    core = started()
    feed(core, proposal(1, 0, V), precommit(1, 1, 0, V), precommit(2, 1, 0, V),
         precommit(3, 1, 0, V))
    (action,) = core.rebroadcast()
    assert isinstance(action, Broadcast) and isinstance(action.message, Commit)
    assert action.message.value == V
