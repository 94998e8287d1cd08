"""The node's HTTP API end to end: a real node on 127.0.0.1, driven by the client SDK.

Each test serves a fresh checked node inside its own event loop (see conftest's
``serve``). Synchronous client calls run in a thread so the server keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
from collections.abc import AsyncGenerator, Callable
from typing import Any, cast

import aiohttp
import msgspec
import pytest

from oneteam.ledger import merkle
from oneteam.ledger.api import BATCH_TXS_MAX, TX_BODY_BYTES_MAX
from oneteam.ledger.blocks import decode_block, decode_header, encode_header, header_hash
from oneteam.ledger.client import (
    Account,
    LedgerClient,
    LedgerClientError,
    ProofError,
    SyncLedgerClient,
    submit_and_wait,
    verify_proof,
)
from oneteam.ledger.contracts.anchors import AnchorBatch, SetStatusList
from oneteam.ledger.contracts.credits import ApproveUsage, Charge, Transfer
from oneteam.ledger.contracts.membership import Propose
from oneteam.ledger.tx import SignedTx, txid_of

from .conftest import Chain, Served, keypair_for, run, sign_body

Serve = Callable[..., contextlib.AbstractAsyncContextManager[Served]]
Stream = AsyncGenerator[dict[str, Any], None]
ROOT = bytes(range(32))
enc = msgspec.msgpack.Encoder()


async def call(session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
               ) -> tuple[int, Any]:
    """One raw request; returns the status and the decoded JSON body (which must be JSON)."""
    async with session.request(method, url, **kwargs) as response:
        body = await response.read()
        assert response.content_type == "application/json", (response.status, body[:200])
        return response.status, json.loads(body)


def transfer(chain: Chain, org: str, nonce: int, to: str = "beta", amount: int = 1) -> bytes:
    return chain.account(org, nonce).sign("credits.transfer", Transfer(to=to, amount=amount))


def expect_error(status: int, body: Any, http: int, code: str, field: str | None = None) -> None:
    assert status == http, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body
    if field is not None:
        assert body["error"]["field"] == field, body


# -- submitting and waiting -----------------------------------------------------------------------


def test_submit_one_pending_then_committed(serve: Serve, chain: Chain) -> None:
    """A binary submission is accepted and pending until its block commits; ids are sha256."""

    async def main() -> None:
        # Blocks are cut at two ready txs (the interval is far away): the first stays pending.
        async with serve(block_txs_max=2, block_interval_ms=60_000) as served, \
                LedgerClient(served.url) as client:
            first = transfer(chain, "alpha", 0)
            txid = await client.submit(first)
            assert txid == txid_of(first)
            assert await client.tx(txid) == {"txid": txid.hex(), "status": "pending"}
            unknown = bytes(32)
            assert await client.tx(unknown) == {"txid": unknown.hex(), "status": "unknown"}
            assert (await client.wait(txid, 0.05))["status"] == "pending"
            second = await client.submit(transfer(chain, "alpha", 1))
            status = await client.wait(txid, 5)
            assert status == {"txid": txid.hex(), "status": "committed", "height": 1, "index": 0,
                              "receipt": {"code": "ok", "reason": "", "events": []}}
            assert (await client.wait(second, 5))["index"] == 1
            assert await client.state("credits", "balance", "beta") == 1_002
            assert await client.next_nonce(chain.keys["alpha"].public_key) == 2

    run(main())


def test_submit_json_form(serve: Serve, chain: Chain) -> None:
    """POST /v1/tx with {"tx": hex} is the same submission as the binary form."""

    async def main() -> None:
        async with serve() as served, aiohttp.ClientSession() as session:
            wire = transfer(chain, "gamma", 0, to="delta", amount=5)
            status, body = await call(session, "POST", served.url + "/v1/tx",
                                      json={"tx": wire.hex()})
            assert (status, body) == (202, {"txid": txid_of(wire).hex(), "code": "accepted"})
            status, body = await call(session, "GET",
                                      f"{served.url}/v1/tx/{txid_of(wire).hex()}/wait",
                                      params={"timeout_s": "5"})
            assert body["status"] == "committed"
            assert body["receipt"]["code"] == "ok"

    run(main())


def test_submit_batch_reports_each_transaction(serve: Serve, chain: Chain) -> None:
    """A batch answers one row per tx, in order: accepted ones and each refusal's code."""

    async def main() -> None:
        async with serve() as served, LedgerClient(served.url) as client, \
                aiohttp.ClientSession() as session:
            good = [transfer(chain, "alpha", n) for n in range(3)]
            outsider = chain.account("outsider", keypair=keypair_for("outsider")).sign(
                "credits.transfer", Transfer(to="beta", amount=1))
            wrong_chain = Account(chain.keys["beta"], "beta", "other-chain").sign(
                "credits.transfer", Transfer(to="alpha", amount=1))
            batch = [good[0], b"garbage", good[1], good[1], outsider, wrong_chain, good[2],
                     transfer(chain, "alpha", 0, amount=2)]
            rows = await client.submit_batch(batch)
            assert [code for _, code, _ in rows] == [
                "accepted", "malformed", "accepted", "duplicate", "unauthorized",
                "wrong_chain", "accepted", "bad_nonce"]
            assert rows[0][0] == txid_of(good[0])
            assert rows[1][0] is None
            assert rows[1][2]
            for wire in good:
                assert (await client.wait(txid_of(wire), 5))["status"] == "committed"
            assert await client.state("credits", "balance", "beta") == 1_003
            # Without Accept: msgpack, the same rows come back as JSON with hex ids.
            more = [transfer(chain, "alpha", 3), b"\x00"]
            status, body = await call(session, "POST", served.url + "/v1/txs",
                                      data=enc.encode(more),
                                      headers={"Content-Type": "application/msgpack"})
            assert status == 200
            assert body["accepted"] == 1
            assert body["results"][0] == [txid_of(more[0]).hex(), "accepted", ""]
            assert body["results"][1][:2] == [None, "malformed"]

    run(main())


def test_sync_client_in_a_thread(serve: Serve, chain: Chain) -> None:
    """SyncLedgerClient submits, waits, reads state and proofs, and reports refusals."""

    async def main() -> None:
        async with serve() as served:
            sync = SyncLedgerClient(served.url, timeout_s=10)
            wire = transfer(chain, "beta", 0, to="gamma", amount=40)
            txid = await asyncio.to_thread(sync.submit, wire)
            assert txid == txid_of(wire)
            status = await asyncio.to_thread(sync.wait, txid, 5.0)
            assert status["status"] == "committed"
            assert (await asyncio.to_thread(sync.tx, txid))["height"] == status["height"]
            assert await asyncio.to_thread(sync.state, "credits", "balance", "gamma") == 540
            assert await asyncio.to_thread(sync.next_nonce, chain.keys["beta"].public_key) == 1
            proof = await asyncio.to_thread(sync.proof, txid)
            assert verify_proof(proof, [chain.validator.public_key], chain.chain_id).txid == txid
            info = await asyncio.to_thread(sync.status)
            assert (info["chain_id"], info["height"]) == (chain.chain_id, status["height"])
            with pytest.raises(LedgerClientError) as error:
                await asyncio.to_thread(sync.submit, wire)
            assert error.value.status == 409
            with pytest.raises(LedgerClientError) as error:
                await asyncio.to_thread(sync.proof, bytes(32))
            assert (error.value.status, error.value.code) == (404, "not_found")

    run(main())


def test_failure_receipts_are_reported(serve: Serve, chain: Chain) -> None:
    """A failing tx commits with code 'failed' and its reason; an expired one is refused."""

    async def main() -> None:
        async with serve() as served, LedgerClient(served.url) as client:
            too_much = transfer(chain, "delta", 0, to="beta", amount=10)
            status = await submit_and_wait(client, too_much, 5)
            assert status["receipt"] == {"code": "failed",
                                         "reason": "delta has 0 credits, 10 needed",
                                         "events": []}
            block = await client.block(status["height"])
            assert block["receipts"][status["index"]] == status["receipt"]
            assert await client.next_nonce(chain.keys["delta"].public_key) == 1  # consumed
            # A tx already expired for the next block is refused at admission.
            late = chain.account("gamma").sign("credits.transfer",
                                                Transfer(to="beta", amount=1), expiry_height=1)
            with pytest.raises(LedgerClientError) as info:
                await client.submit(late)
            assert (info.value.status, info.value.code) == (409, "expired")
            assert (await client.tx(txid_of(late)))["status"] == "unknown"
            assert await client.next_nonce(chain.keys["gamma"].public_key) == 0
            assert await client.state("credits", "balance", "beta") == 1_000

    run(main())


# -- proofs ---------------------------------------------------------------------------------------


def test_proofs_verify_and_tampering_is_caught(serve: Serve, chain: Chain) -> None:
    """A proof verifies with the genesis validator key, and any tampering raises ProofError."""

    async def main() -> dict[str, Any]:
        async with serve() as served, LedgerClient(served.url) as client:
            wires = [transfer(chain, "alpha", n) for n in range(4)]
            wires.append(transfer(chain, "delta", 0, amount=5))  # fails: delta has nothing
            rows = await client.submit_batch(wires)
            assert [code for _, code, _ in rows] == ["accepted"] * 5
            statuses = [await client.wait(txid_of(w), 5) for w in wires]
            assert len({s["height"] for s in statuses}) == 1, "one block expected"
            proofs = {i: await client.proof(txid_of(wires[i])) for i in (2, 4)}
            headers = await client.headers(0, 10)
        validators = [chain.validator.public_key]
        verified = verify_proof(proofs[2], validators, chain.chain_id)
        assert verified.txid == txid_of(wires[2])
        assert (verified.height, verified.index) == (statuses[2]["height"], 2)
        assert verified.block_hash.hex() == headers[verified.height]["hash"]
        assert (verified.receipt_code, verified.receipt_reason) == ("ok", "")
        failed = verify_proof(proofs[4], validators, chain.chain_id)
        assert (failed.receipt_code, failed.receipt_reason) == (
            "failed", "delta has 0 credits, 5 needed")
        # A caller naming the tx it asked about learns if the node proved another one.
        assert verify_proof(proofs[2], validators, chain.chain_id,
                            txid=txid_of(wires[2])).index == 2
        with pytest.raises(ProofError, match="the proof is for transaction"):
            verify_proof(proofs[2], validators, chain.chain_id, txid=txid_of(wires[3]))
        return proofs[2]

    proof = run(main())
    validators = [chain.validator.public_key]

    def refused(tampered: dict[str, Any], match: str, *, trusted: list[bytes] = validators,
                chain_id: str = chain.chain_id) -> None:
        with pytest.raises(ProofError, match=match):
            verify_proof(tampered, trusted, chain_id)

    refused(proof, "not signed by a trusted validator", trusted=[keypair_for("x").public_key])
    refused(proof, "not signed by a trusted validator", trusted=[])
    refused(proof, "header is for chain 'oneteam-test'", chain_id="other-chain")

    def flip(hex_text: str, position: int = 0) -> str:
        data = bytearray(bytes.fromhex(hex_text))
        data[position] ^= 0x01
        return data.hex()

    tampered = copy.deepcopy(proof)
    tampered["tx"] = flip(proof["tx"], len(bytes.fromhex(proof["tx"])) - 1)
    refused(tampered, "transaction is not included")
    tampered = copy.deepcopy(proof)
    tampered["tx_path"][0] = flip(proof["tx_path"][0])
    refused(tampered, "transaction is not included")
    tampered = copy.deepcopy(proof)
    tampered["tx_path"] = proof["tx_path"][:-1]
    refused(tampered, "transaction is not included")
    tampered = copy.deepcopy(proof)
    tampered["tx_path"] = list(reversed(proof["tx_path"]))
    refused(tampered, "transaction is not included")
    tampered = copy.deepcopy(proof)
    tampered["index"] = 3
    refused(tampered, "transaction is not included")
    tampered = copy.deepcopy(proof)
    tampered["receipt_path"][0] = flip(proof["receipt_path"][0])
    refused(tampered, "receipt is not included")
    tampered = copy.deepcopy(proof)
    tampered["receipt"] = enc.encode(["failed", "forged", []]).hex()
    refused(tampered, "receipt is not included")
    tampered = copy.deepcopy(proof)
    tampered["signature"] = flip(proof["signature"])
    refused(tampered, "header signature does not verify")
    # A header with any field changed (here: the height), re-encoded, no longer verifies.
    header = decode_header(bytes.fromhex(proof["header"]["bytes"]))
    for changed in (msgspec.structs.replace(header, height=header.height + 1),
                    msgspec.structs.replace(header, tx_count=header.tx_count + 1),
                    msgspec.structs.replace(header, tx_root=bytes(32))):
        tampered = copy.deepcopy(proof)
        tampered["header"]["bytes"] = encode_header(changed).hex()
        refused(tampered, "header signature does not verify")
    tampered = copy.deepcopy(proof)
    tampered["header"]["bytes"] = flip(proof["header"]["bytes"], 0)
    refused(tampered, "malformed")
    for key in ("tx", "header", "signature", "tx_path", "index"):
        tampered = copy.deepcopy(proof)
        del tampered[key]
        refused(tampered, "malformed")
    tampered = copy.deepcopy(proof)
    tampered["tx_path"] = ["zz"]
    refused(tampered, "malformed")
    # The untouched proof still verifies: each refusal above was the tampering's doing.
    assert verify_proof(proof, validators, chain.chain_id).index == 2


# -- state queries --------------------------------------------------------------------------------


def test_state_queries_for_every_contract_kind(serve: Serve, chain: Chain) -> None:
    """Each state query of api._state_key returns the committed value (bytes as hex)."""

    async def main() -> None:
        async with serve() as served, LedgerClient(served.url) as client, \
                aiohttp.ClientSession() as session:
            gamma, beta, alpha = (chain.account(o) for o in ("gamma", "beta", "alpha"))
            wires = [
                gamma.sign("credits.approve_usage", ApproveUsage(provider="beta", limit=100)),
                beta.sign("credits.charge", Charge(consumer="gamma", amount=30,
                                                   usage_ref="job:7/a")),
                gamma.sign("anchors.anchor_batch", AnchorBatch(batch_id="2024/q1", root=ROOT,
                                                               count=9)),
                gamma.sign("anchors.set_status_list", SetStatusList(list_id="revoked",
                                                                    digest=ROOT)),
                alpha.sign("membership.propose", Propose(action="set_roles", org="delta",
                                                         roles=["issuer"])),
            ]
            for wire in wires:
                await client.submit(wire)
            statuses = [await client.wait(txid_of(w), 5) for w in wires]
            assert [s["receipt"]["code"] for s in statuses] == ["ok"] * len(wires)
            height = {s["height"] for s in statuses}

            assert await client.state("credits", "balance", "gamma") == 470
            assert await client.state("credits", "balance", "beta") == 1_030
            assert await client.state("credits", "balance", "nobody") is None
            assert await client.state("credits", "allowance", "gamma", "beta") == 70
            usage = await client.state("credits", "usage", "beta", "job:7/a")
            assert usage == {"consumer": "gamma", "amount": 30, "height": statuses[1]["height"],
                             "txid": txid_of(wires[1]).hex()}
            org = await client.state("membership", "org", "gamma")
            assert org == {"name": "Gamma Org", "roles": ["issuer"],
                           "keys": [chain.keys["gamma"].public_key.hex()], "joined_height": 0}
            orgs = await client.state("membership", "orgs")
            assert [o["org"] for o in orgs["organizations"]] == sorted(chain.orgs)
            assert await client.state("membership", "nonce",
                                      chain.keys["gamma"].public_key.hex()) == 3
            proposal = await client.state("membership", "proposal", "delta")
            assert (proposal["action"], proposal["approvals"], proposal["roles"]) == (
                "set_roles", ["alpha"], ["issuer"])
            assert await client.state("membership", "validators") == [
                chain.validator.public_key.hex()]
            batch = await client.state("anchors", "batch", "gamma", "2024/q1")
            assert (batch["root"], batch["count"]) == (ROOT.hex(), 9)
            assert batch["height"] in height
            status_list = await client.state("anchors", "status", "gamma", "revoked")
            assert (status_list["digest"], status_list["version"]) == (ROOT.hex(), 1)

            for path in ("credits/balance", "credits/balance/a/b", "credits/nothing/x",
                         "membership/nonce/zz", "membership/nonce/abcd", "ledger/balance/x",
                         "anchors/batch/gamma"):
                status, body = await call(session, "GET", f"{served.url}/v1/state/{path}")
                expect_error(status, body, 404, "not_found", "path")

    run(main())


# -- headers, blocks, stream ----------------------------------------------------------------------


def test_headers_and_blocks(serve: Serve, chain: Chain) -> None:
    """Headers chain by hash from genesis; blocks (JSON and msgpack) match their headers."""

    async def main() -> None:
        async with serve() as served, LedgerClient(served.url) as client, \
                aiohttp.ClientSession() as session:
            for n in range(3):  # three blocks, one tx each
                await submit_and_wait(client, transfer(chain, "alpha", n), 5)
            info = await client.status()
            tip = info["height"]
            assert tip == 3
            headers = await client.headers(0, 100)
            assert [h["height"] for h in headers] == list(range(tip + 1))
            assert headers[0]["prev_hash"] == bytes(32).hex()
            assert headers[0]["tx_count"] == 0
            assert headers[0]["hash"] == info["genesis_hash"]
            assert headers[-1]["hash"] == info["tip_hash"]
            for previous, header in itertools.pairwise(headers):
                assert header["prev_hash"] == previous["hash"]
                decoded = decode_header(bytes.fromhex(header["bytes"]))
                assert header_hash(decoded).hex() == header["hash"]
                assert decoded.proposer == chain.validator.public_key
            assert await client.headers(2, 3) == [headers[2]]
            assert await client.headers(50, 60) == []

            block = await client.block(2)
            assert block["header"] == headers[2]
            txs = [bytes.fromhex(t) for t in block["txs"]]
            assert txs == [transfer(chain, "alpha", 1)]
            assert merkle.merkle_root(txs).hex() == block["header"]["tx_root"]
            assert block["receipts"] == [{"code": "ok", "reason": "", "events": []}]
            genesis = await client.block(0)
            assert (genesis["txs"], genesis["signature"]) == ([], "")
            async with session.get(f"{served.url}/v1/blocks/2",
                                   params={"format": "msgpack"}) as response:
                assert response.content_type == "application/msgpack"
                raw_block = decode_block(await response.read())
            assert raw_block.txs == txs
            assert header_hash(raw_block.header).hex() == headers[2]["hash"]

    run(main())


def test_block_stream_yields_committed_blocks(serve: Serve, chain: Chain) -> None:
    """client.blocks(txids=True) yields each new block with the ids of its transactions."""

    async def main() -> None:
        async with serve() as served, LedgerClient(served.url) as client, \
                contextlib.aclosing(cast(Stream, client.blocks(txids=True))) as stream:
            first = asyncio.ensure_future(anext(stream))
            for _ in range(200):
                if (await client.status())["statistics"]["subscribers"] == 1:
                    break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the stream never subscribed")
            wire = transfer(chain, "beta", 0)
            await client.submit(wire)
            event = await asyncio.wait_for(first, 5)
            assert event["height"] == 1
            assert event["tx_count"] == 1
            assert event["txids"] == [txid_of(wire).hex()]
            assert event["hash"] == (await client.headers(1, 2))[0]["hash"]

    run(main())


# -- bad input ------------------------------------------------------------------------------------


def test_bad_input_is_refused_and_the_node_keeps_serving(serve: Serve, chain: Chain) -> None:
    """Every kind of bad request gets a 4xx JSON error naming its code (and field)."""

    async def main() -> None:
        async with serve() as served, aiohttp.ClientSession() as session, \
                LedgerClient(served.url) as client:
            url = served.url
            good_id = txid_of(transfer(chain, "alpha", 0)).hex()

            async def post_tx(data: bytes, content_type: str = "application/octet-stream"
                              ) -> tuple[int, Any]:
                return await call(session, "POST", url + "/v1/tx", data=data,
                                  headers={"Content-Type": content_type})

            for body in (b"{not json", b'{"tx": "zz"}', b'{"tx": 5}', b"[]", b'{"wire": ""}',
                         b"\xff\xfe", b'{"tx": ""}'):
                status, reply = await post_tx(body, "application/json")
                expect_error(status, reply, 400, "malformed", "tx")
            status, reply = await post_tx(b"")
            expect_error(status, reply, 400, "malformed", "tx")
            status, reply = await post_tx(b"\x92garbage")
            expect_error(status, reply, 400, "malformed", "tx")
            status, reply = await post_tx(bytes(TX_BODY_BYTES_MAX + 1))
            expect_error(status, reply, 413, "too_large", "tx")

            for suffix in ("", "/wait", "/proof"):
                status, reply = await call(session, "GET", f"{url}/v1/tx/not-hex{suffix}")
                expect_error(status, reply, 400, "malformed", "txid")
                status, reply = await call(session, "GET", f"{url}/v1/tx/abcd{suffix}")
                expect_error(status, reply, 400, "malformed", "txid")
                assert "32 bytes" in reply["error"]["message"]
                status, reply = await call(session, "GET", f"{url}/v1/tx/{good_id}00{suffix}")
                expect_error(status, reply, 400, "malformed", "txid")
            for timeout in ("abc", "-1", "61", "nan", "inf"):
                status, reply = await call(session, "GET", f"{url}/v1/tx/{good_id}/wait",
                                           params={"timeout_s": timeout})
                expect_error(status, reply, 400, "malformed", "timeout_s")
            status, reply = await call(session, "GET", f"{url}/v1/tx/{good_id}/proof")
            expect_error(status, reply, 404, "not_found", "txid")

            for body in (b"", b"\xc1", b"\x91\x05", b"garbage", enc.encode({"a": 1})):
                status, reply = await call(session, "POST", url + "/v1/txs", data=body)
                expect_error(status, reply, 400, "malformed", "body")
            status, reply = await call(session, "POST", url + "/v1/txs",
                                       data=enc.encode([b""] * (BATCH_TXS_MAX + 1)))
            expect_error(status, reply, 413, "too_large", "body")

            for path in ("/v1/blocks/abc", "/v1/blocks/1.5", "/v1/blocks/" + "9" * 5000):
                status, reply = await call(session, "GET", url + path)
                expect_error(status, reply, 400, "malformed", "height")
            for path in ("/v1/blocks/-1", "/v1/blocks/1", "/v1/blocks/99999999999999999999",
                         "/v1/blocks/5?format=msgpack"):
                status, reply = await call(session, "GET", url + path)
                expect_error(status, reply, 404, "not_found", "height")
            for params in ({"from": "-1"}, {"from": "5", "to": "2"}, {"from": "x"},
                           {"from": "0", "to": "1001"}, {"to": "y"}):
                status, reply = await call(session, "GET", url + "/v1/headers", params=params)
                expect_error(status, reply, 400, "malformed")

            status, reply = await call(session, "GET", url + "/v1/nothing/here")
            expect_error(status, reply, 404, "not_found")
            status, reply = await call(session, "GET", url + "/v1/tx")
            expect_error(status, reply, 405, "method_not_allowed")
            status, reply = await call(session, "DELETE", url + "/v1/status")
            expect_error(status, reply, 405, "method_not_allowed")

            # After all that the node answers and still commits.
            info = await client.status()
            assert (info["chain_id"], info["height"]) == (chain.chain_id, 0)
            status_reply = await submit_and_wait(client, transfer(chain, "alpha", 0), 5)
            assert status_reply["receipt"]["code"] == "ok"

    run(main())


def test_refused_submissions_carry_their_code(serve: Serve, chain: Chain) -> None:
    """Single submissions: bad signature 400, wrong chain 400, unknown key 403, replays 409."""

    async def main() -> None:
        async with serve() as served, LedgerClient(served.url) as client:

            async def refused(wire: bytes) -> LedgerClientError:
                with pytest.raises(LedgerClientError) as info:
                    await client.submit(wire)
                return info.value

            wire = transfer(chain, "alpha", 0)
            signed = msgspec.msgpack.decode(wire, type=SignedTx)
            forged = bytearray(signed.signature)
            forged[10] ^= 0x40
            error = await refused(enc.encode(SignedTx(signed.body, bytes(forged))))
            assert (error.status, error.code) == (400, "bad_signature")
            other_chain = Account(chain.keys["alpha"], "alpha", "other-chain").sign(
                "credits.transfer", Transfer(to="beta", amount=1))
            error = await refused(other_chain)
            assert (error.status, error.code) == (400, "wrong_chain")
            outsider = chain.account("alpha", keypair=keypair_for("stranger")).sign(
                "credits.transfer", Transfer(to="beta", amount=1))
            error = await refused(outsider)
            assert (error.status, error.code) == (403, "unauthorized")
            error = await refused(transfer(chain, "alpha", 2000))
            assert (error.status, error.code) == (409, "bad_nonce")

            txid = await client.submit(wire)
            error = await refused(wire)  # still pending, or already committed
            assert error.status == 409
            assert error.code in ("duplicate", "bad_nonce")
            assert (await client.wait(txid, 5))["status"] == "committed"
            error = await refused(wire)  # committed: never executed twice
            assert error.status == 409
            assert (await client.status())["statistics"]["committed_txs"] == 1
            assert await client.state("credits", "balance", "beta") == 1_001

    run(main())


def test_invalid_utf8_tx_does_not_spoil_its_batch(serve: Serve, chain: Chain) -> None:
    """A tx whose body holds invalid UTF-8 is one 'malformed' row, not a 500 for the batch."""

    async def main() -> None:
        async with serve() as served, LedgerClient(served.url) as client:
            key = chain.keys["alpha"]
            body = enc.encode([
                msgspec.Raw(enc.encode(chain.chain_id)), msgspec.Raw(b"\xa2\xff\xfe"),
                msgspec.Raw(enc.encode(key.public_key)), msgspec.Raw(enc.encode(0)),
                msgspec.Raw(enc.encode(1)), msgspec.Raw(enc.encode("credits.transfer")),
                msgspec.Raw(enc.encode(Transfer(to="beta", amount=1))),
            ])
            bad = sign_body(key, body)
            good = transfer(chain, "alpha", 0)
            rows = await client.submit_batch([bad, good])
            assert [code for _, code, _ in rows] == ["malformed", "accepted"]
            assert (await client.wait(txid_of(good), 5))["status"] == "committed"

    run(main())
