"""The simulator: many seeds pass, the same seed replays, and broken cores are caught.

The checks would be worthless if they could not fail, so each class of bug the design
guards against — a missing lock, a WAL ignored on restart, a quorum too small, a message
sent before it is durable — is planted in a subclass of the core, and the simulator must
find it within a few seeds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from oneteam.cli import main
from oneteam.ledger import node as node_module
from oneteam.ledger.chain import ChainApp, Committed, MissingBatches
from oneteam.ledger.consensus import sim
from oneteam.ledger.consensus.core import Action, TendermintCore, _Height
from oneteam.ledger.consensus.messages import CommitCertificate, Proposal, VoteKind, encode_message
from oneteam.ledger.consensus.sim import FAULT_KINDS, run_many, run_seed
from oneteam.ledger.consensus.wal import WalEntry
from oneteam.ledger.execution import BlockResult
from oneteam.ledger.ordering import assemble, decode_value


@pytest.mark.sim
def test_two_hundred_seeds_are_safe_and_live() -> None:
    summary = run_many(200, start=0)
    assert summary["failing_seeds"] == [], summary["failures"]
    assert summary["safety_violations"] == 0 and summary["liveness_failures"] == 0
    # The run was not vacuous: every kind of fault was injected, and the cores saw them.
    assert all(summary["faults_injected"][kind] > 0 for kind in FAULT_KINDS), (
        summary["faults_injected"])
    assert summary["attack_seeds"] > 20
    counters = summary["core_statistics"]
    for name in ("invalid_signature", "not_member", "equivocations", "duplicates",
                 "decisions_by_commit", "restored_messages", "future_buffered", "commits_sent"):
        assert counters[name] > 0, name


@pytest.mark.sim
def test_seven_validators_with_two_byzantine_are_safe_and_live() -> None:
    summary = run_many(15, start=1000, validators=7, byzantine=2)
    assert summary["failing_seeds"] == [], summary["failures"]


@pytest.mark.sim
def test_the_split_attack_scenario_against_the_real_core() -> None:
    """A targeted scenario on the same harness: every fault on, a splitting Byzantine."""
    for seed in range(12):
        result = run_seed(seed, byzantine=1, behaviours=("split",), swarm=False, heights=8,
                          loss_max=0.05, partitions_max=1, clogs_max=2, crashes_max=1,
                          gst_ms_min=10_000, gst_ms_max=10_000)
        assert result.ok, result.safety_violations + result.liveness_failures
        assert result.faults_injected["split"] > 0 and result.faults_injected["decide_crash"] > 0


def test_a_seed_replays_exactly() -> None:
    first, second = run_seed(7), run_seed(7)
    assert first == second
    assert run_seed(8).trace_digest != first.trace_digest


def test_a_seed_replays_exactly_whatever_the_hash_seed() -> None:
    """No set or dict of bytes may order anything: Python salts their hashes per process."""
    code = ("from oneteam.ledger.consensus.sim import run_seed; r = run_seed(11); "
            "print(r.trace_digest, r.steps, sorted(r.faults_injected.items()))")
    outputs = set()
    for hash_seed in ("1", "2"):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                env={**os.environ, "PYTHONHASHSEED": hash_seed},
                                timeout=60, check=True)
        outputs.add(result.stdout)
    assert len(outputs) == 1


# -- broken cores the simulator must catch -------------------------------------------------------


class NoLock(TendermintCore):
    """Prevotes any valid proposal, locked or not: lines 23 and 29 without their lock."""

    def _may_prevote_for(self, s: _Height, proposal: Proposal, valid_round: int) -> bool:
        return self._valid(s, proposal.value)


class Amnesia(TendermintCore):
    """Forgets its WAL on restart."""

    def restore(self, entries: Iterable[WalEntry]) -> None:
        del entries


class SmallQuorum(TendermintCore):
    """Takes 2f votes for a quorum."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._quorum -= 1


class SendsFirst(TendermintCore):
    """Puts the broadcast of a vote before the WAL entry that records it."""

    def _sign_vote(self, kind: VoteKind, value: bytes, actions: list[Action]) -> None:
        before = len(actions)
        super()._sign_vote(kind, value, actions)
        if len(actions) == before + 2:
            actions[before], actions[before + 1] = actions[before + 1], actions[before]


class AcceptsAnyValue(ChainApp):
    """Judges every value valid: a Byzantine proposer's invalid value can be decided."""

    def validate_value(self, height: int, value: bytes) -> bool:
        super().validate_value(height, value)
        return True


class DropsLastTransaction(ChainApp):
    """One validator executes a decided value without its last transaction."""

    def commit_decided(self, height: int, value: bytes, certificate: CommitCertificate
                       ) -> Committed | None:
        if self.node.keypair.public_key != min(self.validators):
            return super().commit_decided(height, value, certificate)
        decoded = decode_value(value)
        txs = assemble(decoded.batches, self.batches, self.is_committed)
        if txs is None:
            raise MissingBatches(self.batches.missing(decoded.batches))
        outcome = self.node.commit_transactions(
            txs[:-1], time_ms=decoded.time_ms, proposer=decoded.proposer,
            prev_hash=decoded.prev_hash, height=height, value=value,
            certificate=encode_message(certificate))
        assert outcome is not None
        self.batches.committed(decoded.batches)
        return Committed(outcome[0], txs[:-1], outcome[1], decoded)


def first_failure(core_class: type[TendermintCore], seeds: int, **options: Any
                  ) -> tuple[int, str]:
    for seed in range(seeds):
        result = run_seed(seed, core_class=core_class, **options)
        if result.safety_violations:
            return seed, result.safety_violations[0]
    raise AssertionError(f"{core_class.__name__} passed {seeds} seeds: the checks are blind")


@pytest.mark.sim
def test_a_core_without_the_lock_rule_decides_two_values() -> None:
    seed, violation = first_failure(NoLock, 80)
    assert "another honest validator" in violation, (seed, violation)


def test_a_core_that_forgets_its_wal_signs_twice() -> None:
    _, violation = first_failure(Amnesia, 40)
    assert "signed two different" in violation


def test_a_core_with_a_small_quorum_makes_certificates_that_do_not_verify() -> None:
    _, violation = first_failure(SmallQuorum, 5)
    assert "certificate rejected" in violation


def test_a_core_that_sends_before_persisting_is_caught() -> None:
    _, violation = first_failure(SendsFirst, 5)
    assert "before its WAL held it" in violation


def test_a_validator_that_accepts_invalid_values_is_caught() -> None:
    _, violation = first_failure(TendermintCore, 20, chain_class=AcceptsAnyValue,
                                 byzantine=1, behaviours=("invalid_value",))
    assert "raised" in violation or "invalid" in violation, violation


def test_a_validator_that_skips_a_transaction_is_caught() -> None:
    _, violation = first_failure(TendermintCore, 10, chain_class=DropsLastTransaction,
                                 byzantine=0)
    assert "do not match the tx root" in violation, violation


def test_nondeterministic_execution_is_caught_by_the_state_roots(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Execution that writes something extra on one validator only: same value, same
    transactions, another state root."""
    real = node_module.execute_block

    def drifting(state: Any, height: int, txs: Any, **kwargs: Any) -> BlockResult:
        result = real(state, height, txs, **kwargs)
        if getattr(state, "directory", Path()).parent.name == "v0" and txs:
            result.writes["x/drift"] = height
        return result

    monkeypatch.setattr(node_module, "execute_block", drifting)
    _, violation = first_failure(TendermintCore, 10, byzantine=0)
    assert "state root differs" in violation, violation


def test_clients_transactions_are_committed_and_counted() -> None:
    result = run_seed(4, byzantine=0, swarm=False, loss_max=0.0, duplicate_max=0.0,
                      partitions_max=0, clogs_max=0, crashes_max=0, clients=3,
                      txs_per_client=4, gst_ms_min=500, gst_ms_max=500)
    assert result.ok, result.liveness_failures
    assert result.client_txs == 12


def test_an_exception_in_the_core_is_reported_with_its_seed() -> None:
    class Raises(TendermintCore):
        def restore(self, entries: Iterable[WalEntry]) -> None:
            raise RuntimeError("boom")

    result = run_seed(3, core_class=Raises, byzantine=0, swarm=False, crashes_max=1,
                      gst_ms_min=2000, gst_ms_max=2000)
    assert any("RuntimeError: boom" in v and v.startswith("seed 3") for v in
               result.safety_violations)


# -- the command ---------------------------------------------------------------------------------


def test_the_command_prints_a_summary_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "sim", "--seeds", "3", "--start", "5", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {"seeds", "safety_violations", "liveness_failures", "steps",
            "faults_injected"} <= summary.keys()
    assert (summary["seeds"], summary["start"], summary["failing_seeds"]) == (3, 5, [])


def test_the_command_fails_and_names_the_failing_seeds(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    real = sim.run_seed
    monkeypatch.setattr(sim, "run_seed", lambda seed, **options: real(
        seed, **options, core_class=SmallQuorum))
    assert main(["ledger", "sim", "--seeds", "2", "--heights", "2"]) == 1
    captured = capsys.readouterr()
    assert "2 safety violations" in captured.out or "safety violations" in captured.out
    assert "failing seeds: 0, 1" in captured.err
    assert "oneteam ledger sim --seeds 1 --start 0" in captured.err
