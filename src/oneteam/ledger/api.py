"""The node's HTTP API for clients (aiohttp). See docs/ledger/PROTOCOL.md, "Node API".

Every error is JSON: ``{"error": {"code": ..., "message": ..., "field": ...}}``
with a 4xx status for bad input; handlers never let input crash the node.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import msgspec
from aiohttp import web

from oneteam.ledger.blocks import Block, Header, encode_header, header_hash
from oneteam.ledger.contracts.schema import (
    NEXT_VALIDATORS_KEY,
    VALIDATOR_SET_KEY,
    allowance_key,
    balance_key,
    batch_key,
    nonce_key,
    org_key,
    proposal_key,
    status_list_key,
    usage_key,
    validators_at,
)
from oneteam.ledger.errors import LedgerError
from oneteam.ledger.node import Node

log = logging.getLogger("oneteam.ledger.api")

TX_BODY_BYTES_MAX = 64 * 1024
BATCH_BODY_BYTES_MAX = 32 * 1024 * 1024
BATCH_TXS_MAX = 20_000
HEADERS_PER_PAGE_MAX = 1000
WAIT_S_MAX = 60.0
MSGPACK = "application/msgpack"

NODE_KEY: web.AppKey[Node] = web.AppKey("node", Node)
_batch_decoder = msgspec.msgpack.Decoder(list[bytes])

STATUS_BY_CODE = {
    "malformed": 400,
    "bad_signature": 400,
    "wrong_chain": 400,
    "unauthorized": 403,
    "bad_nonce": 409,
    "duplicate": 409,
    "expired": 409,
    "mempool_full": 503,
    "busy": 503,
    "unavailable": 503,
    "not_found": 404,
    "storage_corrupt": 500,
}


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, msgspec.Struct):
        return {f: getattr(value, f) for f in value.__struct_fields__}
    raise TypeError(f"cannot encode {type(value).__name__}")


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, default=_json_default, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


def error(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    return json_response({"error": {"code": code, "message": message, "field": field}}, status)


def _hex_arg(request: web.Request, name: str, size: int) -> bytes:
    text = request.match_info[name]
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": {"code": "malformed", "field": name,
                                       "message": f"{name} must be hex"}}),
            content_type="application/json",
        ) from None
    if len(value) != size:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": {"code": "malformed", "field": name,
                                       "message": f"{name} must be {size} bytes"}}),
            content_type="application/json",
        )
    return value


def header_json(header: Header) -> dict[str, Any]:
    data = {f: getattr(header, f) for f in header.__struct_fields__}
    data["hash"] = header_hash(header)
    data["bytes"] = encode_header(header)
    return data


def block_json(block: Block) -> dict[str, Any]:
    return {
        "header": header_json(block.header),
        "signature": block.signature,
        "txs": block.txs,
        "receipts": [
            {"code": r.code, "reason": r.reason, "events": [list(e) for e in r.events]}
            for r in block.receipts
        ],
    }


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status, "bad_request")
        return error(exc.status, code, exc.reason)
    except LedgerError as exc:
        return error(STATUS_BY_CODE.get(exc.code, 400), exc.code, exc.reason)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unexpected error serving %s", request.path)
        return error(500, "internal", "internal error; the node logged it")


class Handlers:
    def __init__(self, node: Node, engine: StatisticsSource | None = None) -> None:
        self.node = node
        self.engine = engine

    def _validators(self) -> dict[str, Any]:
        """The set in force for the next height, and any change already scheduled."""
        store = self.node.store
        height = store.height + 1
        pending = store.get(NEXT_VALIDATORS_KEY)
        return {
            "height": height,
            "validators": validators_at(store.get, height),
            "next": None if pending is None or pending.height <= height else {
                "height": pending.height, "validators": list(pending.validators)},
        }

    async def validators(self, request: web.Request) -> web.Response:
        return json_response(self._validators())

    async def status(self, request: web.Request) -> web.Response:
        node = self.node
        tip = node.store.tip
        assert tip is not None
        genesis_header = node.store.header(0)
        assert genesis_header is not None
        return json_response({
            "chain_id": node.chain_id,
            "height": tip.height,
            "tip_hash": tip.block_hash,
            "state_root": tip.state_root,
            "genesis_hash": header_hash(genesis_header),
            "validators": self._validators()["validators"],
            "node_key": node.keypair.public_key,
            "statistics": node.statistics(),
            "consensus": None if self.engine is None else self.engine.statistics(),
        })

    async def submit_one(self, request: web.Request) -> web.Response:
        body = await request.read()
        if len(body) > TX_BODY_BYTES_MAX:
            return error(413, "too_large", f"body of {len(body)} bytes; a transaction "
                         f"request is at most {TX_BODY_BYTES_MAX}", "tx")
        if request.content_type == "application/json":
            try:
                wire = bytes.fromhex(json.loads(body)["tx"])
            except (ValueError, KeyError, TypeError):
                return error(400, "malformed", 'expected {"tx": "<hex>"}', "tx")
        else:
            wire = body
        if not wire:
            return error(400, "malformed", "empty body", "tx")
        [result] = await self.node.submit([wire])
        if result.code == "accepted":
            return json_response({"txid": result.txid, "code": result.code}, 202)
        status = STATUS_BY_CODE.get(result.code, 400)
        return json_response({"txid": result.txid, "error": {
            "code": result.code, "message": result.reason, "field": "tx"}}, status)

    async def submit_batch(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            wires = _batch_decoder.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return error(400, "malformed", f"expected a msgpack array of transactions: {exc}",
                         "body")
        if len(wires) > BATCH_TXS_MAX:
            return error(413, "too_large", f"{len(wires)} transactions; at most {BATCH_TXS_MAX}",
                         "body")
        results = await self.node.submit(wires)
        accepted = sum(1 for r in results if r.code == "accepted")
        rows = [[r.txid, r.code, r.reason] for r in results]
        if MSGPACK in request.headers.get("Accept", ""):
            payload = msgspec.msgpack.encode({"accepted": accepted, "results": rows})
            return web.Response(body=payload, content_type=MSGPACK)
        return json_response({"accepted": accepted, "results": rows})

    async def tx_status(self, request: web.Request) -> web.Response:
        txid = _hex_arg(request, "txid", 32)
        return json_response({"txid": txid, **self.node.tx_status(txid)})

    async def tx_wait(self, request: web.Request) -> web.Response:
        txid = _hex_arg(request, "txid", 32)
        try:
            timeout_s = float(request.query.get("timeout_s", "10"))
        except ValueError:
            return error(400, "malformed", "timeout_s must be a number", "timeout_s")
        if not 0 <= timeout_s <= WAIT_S_MAX:
            return error(400, "malformed", f"timeout_s must be within 0..{WAIT_S_MAX}",
                         "timeout_s")
        await self.node.wait_committed(txid, timeout_s)
        return json_response({"txid": txid, **self.node.tx_status(txid)})

    async def tx_proof(self, request: web.Request) -> web.Response:
        txid = _hex_arg(request, "txid", 32)
        proof = self.node.proof(txid)
        if proof is None:
            return error(404, "not_found", "transaction is not committed", "txid")
        proof["header"] = header_json(proof["header"])
        proof["txid"] = txid
        return json_response(proof)

    async def block(self, request: web.Request) -> web.StreamResponse:
        try:
            height = int(request.match_info["height"])
        except ValueError:
            return error(400, "malformed", "height must be an integer", "height")
        if not 0 <= height < 2**63:  # storage keys heights as u64: no such block, not a crash
            return error(404, "not_found", f"no block at height {height}", "height")
        if request.query.get("format") == "msgpack":
            raw = self.node.store.block_bytes(height)
            if raw is None:
                return error(404, "not_found", f"no block at height {height}", "height")
            return web.Response(body=raw, content_type=MSGPACK)
        block = self.node.store.block(height)
        if block is None:
            return error(404, "not_found", f"no block at height {height}", "height")
        return json_response(block_json(block))

    async def headers(self, request: web.Request) -> web.Response:
        try:
            start = int(request.query.get("from", "0"))
            stop = int(request.query.get("to", str(start + 100)))
        except ValueError:
            return error(400, "malformed", "from and to must be integers", "from")
        if start < 0 or stop < start or stop - start > HEADERS_PER_PAGE_MAX:
            return error(400, "malformed",
                         f"need 0 <= from <= to <= from + {HEADERS_PER_PAGE_MAX}", "to")
        return json_response({"headers": [header_json(h) for h in
                                          self.node.store.headers(start, stop)]})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        with_txids = request.query.get("txids") in ("1", "true")
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        async with self.node.subscribe() as queue:
            await response.prepare(request)
            await response.write(b": connected\n\n")
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if event is None:
                    break
                data = {"height": event.height, "hash": event.block_hash.hex(),
                        "tx_count": event.tx_count, "time_ms": event.time_ms}
                if with_txids:
                    data["txids"] = [t.hex() for t in event.txids]
                await response.write(b"event: block\ndata: " + json.dumps(data).encode()
                                     + b"\n\n")
        return response

    async def state(self, request: web.Request) -> web.Response:
        contract = request.match_info["contract"]
        kind = request.match_info["kind"]
        # Split the raw path, then unquote each segment: an argument may itself hold a
        # "/" (labels allow it), sent as %2F, which the decoded match_info cannot tell apart.
        parts = [urllib.parse.unquote(p) for p in request.rel_url.raw_parts[5:] if p]
        store = self.node.store
        key = _state_key(contract, kind, parts)
        if key is None:
            return error(404, "not_found", f"no state query {contract}/{kind} with "
                         f"{len(parts)} arguments", "path")
        if key == "m/org/*":
            orgs = [{"org": k[len("m/org/"):], **_json_struct(v)}
                    for k, v in store.scan("m/org/", limit=10_000)]
            return json_response({"organizations": orgs})
        value = store.read(key)
        return json_response({"key": key, "value": _json_struct(value)})


def _json_struct(value: Any) -> Any:
    if isinstance(value, msgspec.Struct):
        return {f: getattr(value, f) for f in value.__struct_fields__}
    return value


def _state_key(contract: str, kind: str, parts: list[str]) -> str | None:
    """The state key a query path names. Labels (usage refs, batch and list ids) may
    contain "/", so they take the rest of the path after the organization."""
    label = "/".join(parts[1:])
    try:
        if contract == "credits":
            if kind == "balance" and len(parts) == 1:
                return balance_key(parts[0])
            if kind == "allowance" and len(parts) == 2:
                return allowance_key(parts[0], parts[1])
            if kind == "usage" and len(parts) >= 2:
                return usage_key(parts[0], label)
        elif contract == "membership":
            if kind == "org" and len(parts) == 1:
                return org_key(parts[0])
            if kind == "orgs" and not parts:
                return "m/org/*"
            if kind == "nonce" and len(parts) == 1:
                key = bytes.fromhex(parts[0])
                return nonce_key(key) if len(key) == 32 else None
            if kind == "proposal" and len(parts) == 1:
                return proposal_key(parts[0])
            if kind == "validators" and not parts:
                return VALIDATOR_SET_KEY
        elif contract == "anchors":
            if kind == "batch" and len(parts) >= 2:
                return batch_key(parts[0], label)
            if kind == "status" and len(parts) >= 2:
                return status_list_key(parts[0], label)
    except ValueError:
        return None
    return None


class StatisticsSource(Protocol):
    def statistics(self) -> dict[str, Any]: ...


def make_app(node: Node, engine: StatisticsSource | None = None) -> web.Application:
    """The node's HTTP API; ``engine`` (a validator of several) adds consensus counters."""
    app = web.Application(client_max_size=BATCH_BODY_BYTES_MAX, middlewares=[errors_middleware])
    app[NODE_KEY] = node
    h = Handlers(node, engine)
    app.router.add_get("/v1/status", h.status)
    app.router.add_get("/v1/validators", h.validators)
    app.router.add_post("/v1/tx", h.submit_one)
    app.router.add_post("/v1/txs", h.submit_batch)
    app.router.add_get("/v1/tx/{txid}", h.tx_status)
    app.router.add_get("/v1/tx/{txid}/wait", h.tx_wait)
    app.router.add_get("/v1/tx/{txid}/proof", h.tx_proof)
    app.router.add_get("/v1/blocks/stream", h.stream)
    app.router.add_get("/v1/blocks/{height}", h.block)
    app.router.add_get("/v1/headers", h.headers)
    app.router.add_get("/v1/state/{contract}/{kind}", h.state)
    app.router.add_get("/v1/state/{contract}/{kind}/{rest:.*}", h.state)
    return app
