"""The ledger logic validators share with the simulator: batches, values, commits, sync."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from oneteam.ledger.batches import make_batch
from oneteam.ledger.blocks import decode_block, encode_block, header_hash
from oneteam.ledger.chain import (
    BATCH_RESPONSE_BYTES_MAX,
    ChainApp,
    FileBatchJournal,
    MemoryBatchJournal,
    MissingBatches,
    SyncRejected,
)
from oneteam.ledger.consensus.messages import (
    PRECOMMIT,
    PREVOTE,
    CommitCertificate,
    WalEntry,
    sign_vote,
    value_id,
)
from oneteam.ledger.contracts.credits import Transfer
from oneteam.ledger.genesis import Genesis, GenesisMember
from oneteam.ledger.node import Node, NodeConfig
from oneteam.ledger.ordering import decode_value, encode_value
from oneteam.ledger.tx import decode_unverified, encode_tx

from .conftest import keypair_for

CHAIN = "oneteam-chain-test"
VALIDATORS = [keypair_for(f"chain/validator-{i}") for i in range(4)]
ACCOUNT = keypair_for("chain/account")
GENESIS = Genesis(
    chain_id=CHAIN,
    members=[GenesisMember(org="org-a", name="A", keys=[ACCOUNT.public_key.hex()],
                           credits=1000),
             GenesisMember(org="org-b", name="B", keys=[keypair_for("chain/b").public_key.hex()])],
    validators=[v.public_key.hex() for v in VALIDATORS],
)


def transfer(nonce: int, amount: int = 1) -> bytes:
    return encode_tx(ACCOUNT, chain_id=CHAIN, org="org-a", nonce=nonce, op="credits.transfer",
                     args=Transfer(to="org-b", amount=amount))


def certify(value: bytes, height: int) -> CommitCertificate:
    votes = tuple(sign_vote(v, chain_id=CHAIN, kind=PRECOMMIT, height=height, round_=0,
                            value_id=value_id(value)) for v in VALIDATORS[:3])
    return CommitCertificate(chain_id=CHAIN, height=height, round=0,
                             value_id=value_id(value), votes=votes)


def open_chain(directory: Path, index: int = 0, **kwargs: object) -> ChainApp:
    node = Node(NodeConfig(data_dir=directory, verify_workers=1), GENESIS, VALIDATORS[index])
    return ChainApp(node, wall_ms=lambda: 1_000, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def chains(tmp_path: Path) -> Iterator[list[ChainApp]]:
    made = [open_chain(tmp_path / f"v{i}", i) for i in range(2)]
    yield made
    for chain in made:
        chain.node.close()


def batch_of(chain: ChainApp, wires: list[bytes], seq: int = 0) -> bytes:
    """Make a batch at ``chain`` of these transactions; return its wire."""
    txs = [decode_unverified(w, CHAIN) for w in wires]
    [(_, wire)] = chain.make_batches(txs, seq)
    return wire


def receive(chain: ChainApp, wire: bytes) -> bytes:
    digest, body = chain.open_batch(wire)
    assert chain.store_batch(digest, wire, chain.node.verifier.verify_now(body.txs))
    return digest


def test_a_proposed_value_is_valid_elsewhere_and_commits_to_the_same_block(
        chains: list[ChainApp]) -> None:
    proposer, other = chains
    receive(other, batch_of(proposer, [transfer(0), transfer(1)]))
    value = proposer.propose_value(1)
    assert other.validate_value(1, value)
    blocks = [chain.commit_decided(1, value, certify(value, 1)) for chain in chains]
    assert all(b is not None for b in blocks)
    assert len({header_hash(b.block.header) for b in blocks if b}) == 1
    assert [b.block.header.tx_count for b in blocks if b] == [2, 2]
    # Deciding it again changes nothing; another value at that height is a violation.
    assert other.commit_decided(1, value, certify(value, 1)) is None
    with pytest.raises(Exception, match="another value"):
        other.already_committed(1, encode_value(msgspec.structs.replace(
            decode_value(value), time_ms=5)))


def test_values_that_do_not_match_their_batches_or_the_chain_are_refused(
        chains: list[ChainApp]) -> None:
    proposer, other = chains
    receive(other, batch_of(proposer, [transfer(0)]))
    good = decode_value(proposer.propose_value(1))
    for bad, reason in [
        (msgspec.structs.replace(good, tx_root=bytes(32)), "tx_root"),
        (msgspec.structs.replace(good, prev_hash=bytes(32)), "extend"),
        (msgspec.structs.replace(good, tx_count=2), "claims"),
        (msgspec.structs.replace(good, proposer=ACCOUNT.public_key), "not a validator"),
    ]:
        problem = other.value_problem(1, encode_value(bad))
        assert problem is not None and reason in problem, (reason, problem)
    assert other.value_problem(1, b"\x00garbage") == "malformed value"


def test_a_decided_value_whose_batches_are_missing_asks_for_them(
        chains: list[ChainApp]) -> None:
    proposer, other = chains
    wire = batch_of(proposer, [transfer(0)])
    value = proposer.propose_value(1)
    assert other.missing_batches(value) == decode_value(value).batches
    with pytest.raises(MissingBatches) as missing:
        other.commit_decided(1, value, certify(value, 1))
    assert missing.value.digests == decode_value(value).batches
    assert other.node.store.height == 0
    receive(other, wire)
    assert other.commit_decided(1, value, certify(value, 1)) is not None


def test_a_batch_with_an_invalid_transaction_is_refused_whole(chains: list[ChainApp]) -> None:
    other = chains[1]
    good = transfer(0)
    broken = good[:-1] + bytes([good[-1] ^ 1])
    _, wire = make_batch(VALIDATORS[0], CHAIN, 9, [transfer(1), broken])
    digest, body = other.open_batch(wire)
    assert not other.store_batch(digest, wire, other.node.verifier.verify_now(body.txs))
    assert digest not in other.batches


def test_batch_responses_are_split_to_fit_a_peer_message(chains: list[ChainApp]) -> None:
    proposer, _ = chains
    digests = []
    for seq in range(40):
        txs = [decode_unverified(transfer(1000 * seq + n), CHAIN) for n in range(700)]
        [(digest, _)] = proposer.make_batches(txs, seq)
        digests.append(digest)
    groups = proposer.batch_responses(digests)
    assert len(groups) > 1
    assert sum(len(group) for group in groups) == 40
    for group in groups:
        assert sum(len(w) for w in group) <= BATCH_RESPONSE_BYTES_MAX or len(group) == 1


def test_a_synced_block_with_a_forged_header_stores_nothing(chains: list[ChainApp]) -> None:
    proposer, other = chains
    receive(other, batch_of(proposer, [transfer(0)]))
    value = proposer.propose_value(1)
    committed = proposer.commit_decided(1, value, certify(value, 1))
    assert committed is not None
    raw = proposer.node.store.block_bytes(1)
    assert raw is not None
    block = decode_block(raw)
    forged = encode_block(msgspec.structs.replace(block, header=msgspec.structs.replace(
        block.header, state_root=bytes(32))))
    fresh = ChainApp(other.node)
    synced = fresh.check_synced_block(forged)
    assert synced is not None
    with pytest.raises(SyncRejected):
        fresh.commit_synced(synced, fresh.node.verifier.verify_now(list(synced.block.txs)))
    assert other.node.store.height == 0  # nothing stored
    # The true block applies.
    synced = fresh.check_synced_block(raw)
    assert synced is not None
    assert fresh.commit_synced(synced, fresh.node.verifier.verify_now(list(block.txs)))
    assert other.node.store.height == 1


def test_a_synced_block_without_a_quorum_is_refused(chains: list[ChainApp]) -> None:
    proposer, other = chains
    value = proposer.propose_value(1)
    certificate = certify(value, 1)
    weak = msgspec.structs.replace(certificate, votes=certificate.votes[:2])
    committed = proposer.commit_decided(1, value, weak)
    assert committed is not None
    raw = proposer.node.store.block_bytes(1)
    assert raw is not None
    with pytest.raises(SyncRejected, match=r"quorum|votes|signed"):
        other.check_synced_block(raw)


def test_recent_commits_feed_a_restarted_core(chains: list[ChainApp]) -> None:
    proposer, _ = chains
    for height in (1, 2, 3):
        value = proposer.propose_value(height)
        assert proposer.commit_decided(height, value, certify(value, height)) is not None
    commits = proposer.recent_commits(2)
    assert [c.certificate.height for c in commits] == [2, 3]


def test_batches_voted_for_survive_a_restart_through_the_journal(tmp_path: Path) -> None:
    proposer = open_chain(tmp_path / "p", 1)
    voter = open_chain(tmp_path / "v", 0, journal=FileBatchJournal(tmp_path / "v" / "j"))
    try:
        digest = receive(voter, batch_of(proposer, [transfer(0)]))
        value = proposer.propose_value(1)
        assert voter.validate_value(1, value)
        vote = sign_vote(VALIDATORS[0], chain_id=CHAIN, kind=PREVOTE, height=1, round_=0,
                         value_id=value_id(value))
        voter.journal_for([WalEntry(height=1, round=0, step="prevote", locked_round=-1,
                                    locked_value=None, valid_round=-1, valid_value=None,
                                    valid_votes=(), proposal=None, vote=vote)])
    finally:
        proposer.node.close()
        voter.node.close()
    again = open_chain(tmp_path / "v", 0, journal=FileBatchJournal(tmp_path / "v" / "j"))
    try:
        assert digest not in again.batches
        assert again.restore_journal() == 1
        assert digest in again.batches
        assert again.commit_decided(1, value, certify(value, 1)) is not None
    finally:
        again.node.close()


def test_the_file_journal_ignores_a_torn_tail_and_prunes(tmp_path: Path) -> None:
    journal = FileBatchJournal(tmp_path)
    journal.write(3, [b"first", b"second"])
    journal.write(4, [b"third"])
    path = tmp_path / f"{4:020d}.batches"
    path.write_bytes(path.read_bytes() + b"\x00\x00\x00\x09torn")
    assert journal.load(3) == [b"first", b"second", b"third"]
    assert journal.load(4) == [b"third"]
    journal.prune_below(4)
    assert journal.load(0) == [b"third"]
    memory = MemoryBatchJournal()
    memory.write(2, [b"a"])
    memory.write(5, [b"b"])
    memory.prune_below(3)
    assert memory.load(0) == [b"b"]
