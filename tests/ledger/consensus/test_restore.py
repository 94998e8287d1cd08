"""A validator restarted from its WAL never signs two different messages for one slot."""

from __future__ import annotations

import pytest

from oneteam.ledger.consensus.core import Action, PersistWal, TendermintCore
from oneteam.ledger.consensus.messages import NIL, Proposal, Vote, value_id
from oneteam.ledger.consensus.wal import WalEntry
from oneteam.ledger.errors import StorageCorrupt

from .conftest import (
    VALIDATORS,
    ScriptedApp,
    decisions,
    feed,
    make_core,
    precommit,
    prevote,
    proposal,
    sent,
    sent_votes,
)

V = b"value-v"
W = b"value-w"


def entries_of(actions: list[Action]) -> list[WalEntry]:
    return [action.entry for action in actions if isinstance(action, PersistWal)]


def restarted(index: int, entries: list[WalEntry], height: int = 1) -> tuple[
        TendermintCore, ScriptedApp, list[Action]]:
    """A fresh core for validator ``index``, with an app that would propose something new."""
    app = ScriptedApp(f"after-restart-{index}")
    core = make_core(index, app=app)
    core.restore(entries)
    return core, app, core.start_height(height)


def test_a_restarted_proposer_sends_its_proposal_again_rather_than_a_new_one() -> None:
    before = make_core(1)
    actions = before.start_height(1)
    (proposed, prevoted) = sent(actions)
    core, app, again = restarted(1, entries_of(actions))
    assert app.proposed == 0  # the application was not asked for a new value
    assert sent(again)[:2] == [proposed, prevoted]  # identical bytes, identical signatures
    assert not [a for a in again if isinstance(a, PersistWal) and a.entry.proposal]
    assert (core.round, core.step) == (0, "prevote")


def test_a_restarted_proposer_crashed_between_proposing_and_prevoting_prevotes_the_same() -> None:
    before = make_core(1)
    actions = before.start_height(1)
    only_the_proposal = entries_of(actions)[:1]  # the prevote was never made durable
    _, app, again = restarted(1, only_the_proposal)
    (proposed,) = [m for m in sent(again) if isinstance(m, Proposal)]
    assert proposed == sent(actions)[0] and app.proposed == 0
    assert [v.value_id for v in sent_votes(again, "prevote")] == [value_id(proposed.value)]


def test_a_restarted_voter_fed_the_same_inputs_signs_nothing_new() -> None:
    before = make_core(0)
    log = before.start_height(1)
    inputs: list[Proposal | Vote] = [proposal(1, 0, V), prevote(1, 1, 0, V), prevote(2, 1, 0, V)]
    log += feed(before, *inputs)
    signed_before = [m for m in sent(log) if isinstance(m, Vote) and m.validator == VALIDATORS[0]]
    assert [v.kind for v in signed_before] == ["prevote", "precommit"]
    core, _, again = restarted(0, entries_of(log))
    again += feed(core, *inputs)
    mine = {(m.kind, m.round): m for m in sent(again) if isinstance(m, Vote)
            and m.validator == VALIDATORS[0]}
    assert list(mine.values()) == signed_before  # re-sent as they were, nothing else
    assert not entries_of(again)


def test_a_restarted_voter_does_not_prevote_a_conflicting_proposal_it_sees_first() -> None:
    before = make_core(0)
    log = before.start_height(1)
    log += feed(before, proposal(1, 0, V))  # prevoted V, then crashed
    core, _, again = restarted(0, entries_of(log))
    # The Byzantine proposer now shows it another value for the same round.
    again += feed(core, proposal(1, 0, W), prevote(1, 1, 0, W), prevote(2, 1, 0, W))
    prevotes = {m.value_id for m in sent_votes(again, "prevote") if m.validator == VALIDATORS[0]}
    assert prevotes == {value_id(V)}


def test_the_lock_survives_a_restart() -> None:
    before = make_core(0)
    log = before.start_height(1)
    log += feed(before, proposal(1, 0, V), prevote(1, 1, 0, V), prevote(2, 1, 0, V))
    core, _, _ = restarted(0, entries_of(log))
    assert (core.locked_round, core.locked_value, core.step) == (0, V, "precommit")
    core.on_timeout("precommit", 1, 0)
    actions = feed(core, proposal(1, 1, W))
    assert [v.value_id for v in sent_votes(actions, "prevote")] == [NIL]


def test_the_prevotes_behind_the_valid_value_survive_a_restart() -> None:
    """Re-proposing the valid value needs its 2f+1 prevotes (line 28 at the others),
    and a Byzantine signer among them need never send its prevote again."""
    before = make_core(0)
    log = before.start_height(1)
    log += feed(before, proposal(1, 0, V), prevote(1, 1, 0, V), prevote(2, 1, 0, V))
    core, _, _ = restarted(0, entries_of(log))
    actions: list[Action] = []
    for round_ in range(3):
        actions += core.on_timeout("precommit", 1, round_)
    assert core.round == 3  # validator 0 proposes in round 3 of height 1
    proposed = [m for m in sent(actions) if isinstance(m, Proposal)]
    assert [(p.value, p.valid_round) for p in proposed] == [(V, 0)]
    proof = {m.validator for m in sent(actions) if isinstance(m, Vote) and m.round == 0
             and m.kind == "prevote" and m.value_id == value_id(V)}
    assert proof == set(VALIDATORS[:3])


def test_a_restored_core_still_decides() -> None:
    before = make_core(0)
    log = before.start_height(1)
    log += feed(before, proposal(1, 0, V), prevote(1, 1, 0, V), prevote(2, 1, 0, V))
    core, _, _ = restarted(0, entries_of(log))
    actions = feed(core, precommit(1, 1, 0, V), precommit(2, 1, 0, V))
    assert decisions(actions) == []  # the proposal was not in the WAL: wait for it
    assert [d.value for d in decisions(feed(core, proposal(1, 0, V)))] == [V]


def test_a_wal_with_two_different_messages_for_one_slot_is_refused() -> None:
    core = make_core(0)
    log = core.start_height(1)
    log += core.on_timeout("propose", 1, 0)  # prevote nil
    other = make_core(0)
    other_log = other.start_height(1) + feed(other, proposal(1, 0, V))  # prevote V
    with pytest.raises(StorageCorrupt, match="double-signed"):
        make_core(0).restore(entries_of(log) + entries_of(other_log))


def test_a_wal_of_another_validator_is_refused() -> None:
    core = make_core(1)
    entries = entries_of(core.start_height(1))
    with pytest.raises(StorageCorrupt, match="did not sign"):
        make_core(0).restore(entries)
    with pytest.raises(StorageCorrupt, match="did not sign"):
        make_core(None).restore(entries)


def test_a_wal_ahead_of_the_height_started_is_refused() -> None:
    core = make_core(1)  # it proposes in round 0 of heights 1 and 5
    entries = entries_of(core.start_height(1) + core.start_height(5))
    assert {entry.height for entry in entries} == {1, 5}
    restored = make_core(1)
    restored.restore(entries)
    with pytest.raises(StorageCorrupt, match="decisions were lost"):
        restored.start_height(3)


def test_entries_of_decided_heights_are_ignored() -> None:
    core = make_core(1)
    entries = entries_of(core.start_height(1))
    restored = make_core(1)
    restored.restore(entries)
    actions = restored.start_height(2)  # height 1 is decided and durable elsewhere
    assert all(m.height == 2 for m in sent(actions))
