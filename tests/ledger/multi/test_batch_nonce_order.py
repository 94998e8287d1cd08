"""A proposer never runs a sender's later nonces ahead of a batch it has not received.

Found by the network-namespace fault tests (test_netns_faults.py): a validator that
rejoins after a partition may hold another validator's batch k+1 without batch k
(at-most-once delivery: k went out while the link was down). Proposing k+1 alone
executes the senders' later nonces first: they fail with bad_nonce, the nonce after
them is then a gap, and everything that sender sends afterwards is held and dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from oneteam.ledger import validator as validator_module
from oneteam.ledger.batches import make_batch
from oneteam.ledger.contracts.credits import Transfer
from oneteam.ledger.genesis import Genesis, GenesisMember
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.node import Node, NodeConfig
from oneteam.ledger.ordering import decode_value
from oneteam.ledger.tx import Transaction, decode_and_verify, encode_tx
from oneteam.ledger.validator import ConsensusEngine, ValidatorConfig

CHAIN = "oneteam-order"


def key(label: str) -> KeyPair:
    return KeyPair.from_seed(hashlib.sha256(f"order/{label}".encode()).digest())


VALIDATORS = [key(f"validator-{i}") for i in range(4)]
SENDER = key("sender")
GENESIS = Genesis(
    chain_id=CHAIN,
    members=[GenesisMember(org="sender", name="Sender", keys=[SENDER.public_key.hex()],
                           credits=1_000),
             GenesisMember(org="payee", name="Payee", keys=[key("payee").public_key.hex()])],
    validators=[v.public_key.hex() for v in VALIDATORS],
)


def batch(author: int, seq: int, nonces: range) -> tuple[bytes, bytes, list[Transaction]]:
    wires = [encode_tx(SENDER, chain_id=CHAIN, org="sender", nonce=n, op="credits.transfer",
                       args=Transfer(to="payee", amount=1)) for n in nonces]
    digest, wire = make_batch(VALIDATORS[author], CHAIN, seq, wires)
    return digest, wire, [decode_and_verify(w, CHAIN) for w in wires]


def proposed_batches(engine: ConsensusEngine) -> list[bytes]:
    return decode_value(engine.chain.propose_value(engine.node.store.height + 1)).batches


def test_a_batch_ahead_of_a_missing_one_waits_then_goes(tmp_path: Path) -> None:
    async def scenario() -> None:
        node = Node(NodeConfig(data_dir=tmp_path / "v0", checked=True), GENESIS, VALIDATORS[0])
        engine = ConsensusEngine(node, ValidatorConfig(
            validators=tuple(v.public_key for v in VALIDATORS)))
        try:
            first, first_wire, first_txs = batch(1, 0, range(0, 3))
            second, second_wire, second_txs = batch(1, 1, range(3, 6))
            # Validator 1's second batch arrived here, its first did not (yet).
            engine.batches.add(second, second_wire, second_txs)
            assert proposed_batches(engine) == []
            assert proposed_batches(engine) == []
            # The first arrives: both go, the first ahead of the second even though it
            # arrived later (at the latest in the next value).
            engine.batches.add(first, first_wire, first_txs)
            proposed = proposed_batches(engine)
            assert proposed[:1] == [first]
            assert second not in proposed[:1]
        finally:
            engine.wal.close()
            await node.stop()

    asyncio.run(scenario())


def test_a_batch_whose_gap_never_fills_goes_after_the_wait(tmp_path: Path) -> None:
    async def scenario() -> None:
        node = Node(NodeConfig(data_dir=tmp_path / "v0", checked=True), GENESIS, VALIDATORS[0])
        engine = ConsensusEngine(node, ValidatorConfig(
            validators=tuple(v.public_key for v in VALIDATORS)))
        try:
            second, second_wire, second_txs = batch(1, 1, range(3, 6))
            engine.batches.add(second, second_wire, second_txs)
            assert proposed_batches(engine) == []
            # Its author lost the first batch for good: after the wait it is proposed
            # anyway (its transactions then fail with bad_nonce, as before the wait).
            engine.chain._held_back = {d: t - validator_module.BATCH_ORDER_WAIT_S - 1
                                 for d, t in engine.chain._held_back.items()}
            assert proposed_batches(engine) == [second]
        finally:
            engine.wal.close()
            await node.stop()

    asyncio.run(scenario())


def test_batches_in_order_go_together(tmp_path: Path) -> None:
    async def scenario() -> None:
        node = Node(NodeConfig(data_dir=tmp_path / "v0", checked=True), GENESIS, VALIDATORS[0])
        engine = ConsensusEngine(node, ValidatorConfig(
            validators=tuple(v.public_key for v in VALIDATORS)))
        try:
            first, first_wire, first_txs = batch(1, 0, range(0, 3))
            second, second_wire, second_txs = batch(2, 0, range(3, 6))
            engine.batches.add(first, first_wire, first_txs)
            engine.batches.add(second, second_wire, second_txs)
            assert proposed_batches(engine) == [first, second]
        finally:
            engine.wal.close()
            await node.stop()

    asyncio.run(scenario())
