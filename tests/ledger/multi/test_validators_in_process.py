"""Four validators in one process, on real authenticated loopback links, agree on blocks."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from oneteam.ledger.blocks import header_hash
from oneteam.ledger.consensus.core import TimeoutConfig
from oneteam.ledger.consensus.messages import value_id, verify_certificate
from oneteam.ledger.contracts.credits import Transfer
from oneteam.ledger.genesis import Genesis, GenesisMember
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.node import Node, NodeConfig
from oneteam.ledger.tx import encode_tx
from oneteam.ledger.validator import ConsensusEngine, ValidatorConfig, decode_certificate

CHAIN = "oneteam-multi"
FAST = TimeoutConfig(propose_ms=400, propose_delta_ms=200, prevote_ms=200,
                     prevote_delta_ms=100, precommit_ms=200, precommit_delta_ms=100)


def key(label: str) -> KeyPair:
    return KeyPair.from_seed(hashlib.sha256(label.encode()).digest())


VALIDATORS = [key(f"validator-{i}") for i in range(4)]
ACCOUNTS = [key(f"account-{i}") for i in range(8)]
GENESIS = Genesis(
    chain_id=CHAIN,
    members=[GenesisMember(org=f"org-{i}", name=f"Org {i}", keys=[a.public_key.hex()],
                           credits=1_000_000) for i, a in enumerate(ACCOUNTS)],
    validators=[v.public_key.hex() for v in VALIDATORS],
)


def transfers(count: int) -> list[bytes]:
    return [encode_tx(ACCOUNTS[i % 8], chain_id=CHAIN, org=f"org-{i % 8}", nonce=i // 8,
                      op="credits.transfer", args=Transfer(to=f"org-{(i + 1) % 8}", amount=1))
            for i in range(count)]


async def start_validator(data_dir: Path, keypair: KeyPair) -> tuple[Node, ConsensusEngine]:
    """A node and its engine on ``data_dir``, with the genesis set and fast timeouts."""
    node = Node(NodeConfig(data_dir=data_dir, checked=True), GENESIS, keypair)
    await node.start(build_blocks=False)
    engine = ConsensusEngine(node, ValidatorConfig(
        validators=tuple(v.public_key for v in VALIDATORS), timeouts=FAST,
        empty_block_wait_ms=200))
    await engine.start()
    return node, engine


def introduce(engines: list[ConsensusEngine]) -> None:
    """Give every engine the address book of all of them."""
    book = {e.node.keypair.public_key: e.p2p_address for e in engines}
    for engine in engines:
        engine.network.set_address_book(book)


async def start_network(tmp: Path, count: int = 4
                        ) -> tuple[list[Node], list[ConsensusEngine]]:
    nodes, engines = [], []
    for i in range(count):
        node, engine = await start_validator(tmp / f"v{i}", VALIDATORS[i])
        nodes.append(node)
        engines.append(engine)
    introduce(engines)
    return nodes, engines


async def stop_network(nodes: list[Node], engines: list[ConsensusEngine]) -> None:
    for engine, node in zip(engines, nodes, strict=True):
        await engine.stop()
        await node.stop()


async def wait_committed(nodes: list[Node], txids: list[bytes], timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while not all(n.store.tx_location(t) is not None for n in nodes for t in txids):
            await asyncio.sleep(0.05)


def test_four_validators_commit_the_same_blocks_with_certificates(tmp_path: Path) -> None:
    async def scenario() -> None:
        nodes, engines = await start_network(tmp_path)
        try:
            wires = transfers(400)
            # Clients spread their transactions over all validators.
            results = []
            for i, node in enumerate(nodes):
                results += await node.submit(wires[i::4])
            assert {r.code for r in results} == {"accepted"}
            txids = [r.txid for r in results if r.txid is not None]
            await wait_committed(nodes, txids, 60)
            height = min(n.store.height for n in nodes)
            assert height >= 1
            for h in range(1, height + 1):
                blocks = [n.store.block(h) for n in nodes]
                assert all(b is not None for b in blocks)
                hashes = {header_hash(b.header) for b in blocks if b is not None}
                assert len(hashes) == 1, f"validators disagree at height {h}"
                first = blocks[0]
                assert first is not None
                certificate = decode_certificate(first.certificate)
                verify_certificate(certificate, [v.public_key for v in VALIDATORS],
                                   chain_id=CHAIN)
                assert certificate.value_id == value_id(first.value)
                assert len({v.validator for v in certificate.votes}) >= 3
            balances = [n.store.get("c/bal/org-0") for n in nodes]
            assert len(set(balances)) == 1
        finally:
            await stop_network(nodes, engines)

    asyncio.run(scenario())


@pytest.mark.slow
def test_a_stopped_validator_catches_up_from_peers(tmp_path: Path) -> None:
    async def scenario() -> None:
        nodes, engines = await start_network(tmp_path)
        try:
            # Take validator 3 away; the other three (2f+1) keep committing.
            await engines[3].stop()
            await nodes[3].stop()
            wires = transfers(200)
            results = await nodes[0].submit(wires)
            txids = [r.txid for r in results if r.txid is not None]
            await wait_committed(nodes[:3], txids, 60)
            behind = nodes[0].store.height
            # It comes back on the same data directory and catches up.
            node, engine = await start_validator(tmp_path / "v3", VALIDATORS[3])
            nodes[3], engines[3] = node, engine
            introduce(engines)
            await wait_committed([node], txids, 60)
            assert node.store.height >= behind
            assert header_hash(node.store.block(behind).header) == header_hash(  # type: ignore[union-attr]
                nodes[0].store.block(behind).header)  # type: ignore[union-attr]
        finally:
            await stop_network(nodes, engines)

    asyncio.run(scenario())


def test_a_client_verifies_a_transaction_against_commit_certificates(tmp_path: Path) -> None:
    """Proofs under consensus: the value's certificate proves inclusion, the next height's
    certificate proves the receipt; a forged certificate or an untrusted set is refused."""
    from oneteam.ledger.api import block_json, header_json
    from oneteam.ledger.client import ProofError, verify_proof

    def as_json(proof: dict[str, object]) -> dict[str, object]:
        import json

        from oneteam.ledger.api import _json_default

        proof = dict(proof)
        proof["header"] = header_json(proof["header"])  # type: ignore[arg-type]
        return json.loads(json.dumps(proof, default=_json_default))  # type: ignore[no-any-return]

    async def scenario() -> None:
        nodes, engines = await start_network(tmp_path)
        try:
            [result] = await nodes[1].submit(transfers(1))
            assert result.txid is not None
            await wait_committed(nodes, [result.txid], 30)
            trusted = [v.public_key for v in VALIDATORS]
            location = nodes[2].store.tx_location(result.txid)
            assert location is not None
            async with asyncio.timeout(30):  # wait for the next height to certify it
                while nodes[2].store.height <= location.height:
                    await asyncio.sleep(0.05)
            proof = as_json(nodes[2].proof(result.txid))  # type: ignore[arg-type]
            verified = verify_proof(proof, trusted, CHAIN, result.txid)
            assert verified.receipt_code == "ok" and verified.receipt_certified
            with pytest.raises(ProofError, match="certificate does not verify"):
                verify_proof(proof, trusted[:1] + [key("stranger").public_key] * 3, CHAIN)
            forged = dict(proof, value=proof["next_value"])
            with pytest.raises(ProofError, match="another value"):
                verify_proof(forged, trusted, CHAIN)
            assert block_json(nodes[0].store.block(1))["header"]["height"] == 1  # type: ignore[arg-type]
        finally:
            await stop_network(nodes, engines)

    asyncio.run(scenario())


@pytest.mark.slow
def test_a_validator_joins_through_membership_and_signs_from_the_defined_height(
    tmp_path: Path,
) -> None:
    """add_validator, approved by a quorum of members, takes effect 2 blocks later; the
    new node, refused on the network until then, catches up and signs certificates."""
    from oneteam.ledger.client import Account
    from oneteam.ledger.contracts.membership import (
        VALIDATOR_CHANGE_DELAY_BLOCKS,
        Approve,
        Propose,
    )
    from oneteam.ledger.contracts.schema import NEXT_VALIDATORS_KEY

    newcomer = key("validator-new")

    async def scenario() -> None:
        nodes, engines = await start_network(tmp_path)
        node, engine = await start_validator(tmp_path / "new", newcomer)
        nodes.append(node)
        engines.append(engine)
        introduce(engines)
        try:
            await asyncio.sleep(1.0)
            assert newcomer.public_key not in engines[0].network.connected
            accounts = [Account(ACCOUNTS[i], f"org-{i}", CHAIN) for i in range(6)]
            wires = [accounts[0].sign("membership.propose", Propose(
                action="add_validator", org="org-0", keys=[newcomer.public_key]))]
            wires += [a.sign("membership.approve", Approve(org="org-0")) for a in accounts[1:]]
            results = await nodes[0].submit(wires)
            assert {r.code for r in results} == {"accepted"}
            txids = [r.txid for r in results if r.txid is not None]
            await wait_committed(nodes[:4], txids, 30)
            pending = nodes[0].store.get(NEXT_VALIDATORS_KEY)
            assert pending is not None and newcomer.public_key in pending.validators
            applied_at = nodes[0].store.tx_location(txids[-1])
            assert applied_at is not None
            assert pending.height == applied_at.height + VALIDATOR_CHANGE_DELAY_BLOCKS
            # Clients learn the change from the API before it takes effect, and the set in
            # force after.
            from aiohttp.test_utils import TestClient, TestServer

            from oneteam.ledger.api import make_app

            async with TestClient(TestServer(make_app(nodes[0], engines[0]))) as http:
                reply = await (await http.get("/v1/validators")).json()
                if reply["next"] is not None:
                    assert reply["next"]["height"] == pending.height
                    assert newcomer.public_key.hex() in reply["next"]["validators"]
                    assert newcomer.public_key.hex() not in reply["validators"]
                status = await (await http.get("/v1/status")).json()
                assert status["consensus"]["heights_decided"] >= 1
                assert status["consensus"]["validators"] in (4, 5)
            # The newcomer is now let in, follows the chain, and votes from that height.
            async with asyncio.timeout(60):
                while True:
                    top = min(n.store.height for n in nodes)
                    signed = [
                        decode_certificate(b.certificate)
                        for h in range(pending.height, top + 1)
                        if (b := nodes[0].store.block(h)) is not None
                    ]
                    if any(newcomer.public_key in {v.validator for v in c.votes}
                           for c in signed):
                        break
                    await asyncio.sleep(0.1)
            async with TestClient(TestServer(make_app(nodes[0], engines[0]))) as http:
                reply = await (await http.get("/v1/validators")).json()
                assert newcomer.public_key.hex() in reply["validators"]
                assert reply["next"] is None
            for h in range(1, min(n.store.height for n in nodes) + 1):
                hashes = {header_hash(n.store.block(h).header)  # type: ignore[union-attr]
                          for n in nodes}
                assert len(hashes) == 1, f"fork at height {h}"
            # Before the defined height the newcomer signed nothing.
            for h in range(1, pending.height):
                block = nodes[0].store.block(h)
                assert block is not None
                voters = {v.validator for v in decode_certificate(block.certificate).votes}
                assert newcomer.public_key not in voters
        finally:
            await stop_network(nodes, engines)

    asyncio.run(scenario())


def test_a_validator_resends_its_pending_batches_over_a_new_link(tmp_path: Path) -> None:
    """A batch is pushed once, to the peers connected then; a peer on a link opened
    later is sent the author's uncommitted batches again."""

    async def scenario() -> None:
        node, engine = await start_validator(tmp_path / "alone", VALIDATORS[0])
        try:
            # Alone (no quorum), it batches what it admits; nobody hears of it.
            results = await node.submit(transfers(8)[0::8])
            assert {r.code for r in results} == {"accepted"}
            async with asyncio.timeout(10):
                while not engine.batches.pending(100):
                    await asyncio.sleep(0.02)
            [digest] = engine.batches.pending(100)
            peer_node, peer = await start_validator(tmp_path / "peer", VALIDATORS[1])
            try:
                introduce([engine, peer])
                async with asyncio.timeout(15):
                    while digest not in peer.batches:
                        await asyncio.sleep(0.05)
                assert engine.statistics_counts["batches_resent"] >= 1
            finally:
                await peer.stop()
                await peer_node.stop()
        finally:
            await engine.stop()
            await node.stop()

    asyncio.run(scenario())
