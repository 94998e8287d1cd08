"""The client SDK: sign, submit, wait, query, and verify proofs without trusting the node.

The platform reaches the ledger only through this module, over HTTP, as any
member's software would. :class:`LedgerClient` is asynchronous (aiohttp);
:class:`SyncLedgerClient` uses only the standard library, for synchronous
callers such as Django views and tasks.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec

from oneteam.ledger import keys, merkle
from oneteam.ledger.blocks import decode_header, header_hash
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.tx import HEIGHT_MAX, encode_tx

MSGPACK = "application/msgpack"
STREAM_LINE_BYTES_MAX = 64 * 1024 * 1024
TIMEOUT_S_DEFAULT = 30.0


class LedgerClientError(Exception):
    """The node refused a request (``code``, ``message``, ``status``) or could not be reached."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status = status
        self.code = code
        self.message = message


class ProofError(Exception):
    """A proof does not hold: the node's answer must not be trusted."""


@dataclass(slots=True)
class Account:
    """A member organization's signing key, with the next nonce it will use."""

    keypair: KeyPair
    org: str
    chain_id: str
    nonce: int = 0

    def sign(self, op: str, args: msgspec.Struct, *, expiry_height: int = HEIGHT_MAX) -> bytes:
        """Sign the next transaction of this account; the nonce advances."""
        wire = encode_tx(self.keypair, chain_id=self.chain_id, org=self.org, nonce=self.nonce,
                         op=op, args=args, expiry_height=expiry_height)
        self.nonce += 1
        return wire


@dataclass(frozen=True, slots=True)
class VerifiedInclusion:
    txid: bytes
    height: int
    index: int
    block_hash: bytes
    receipt_code: str
    receipt_reason: str
    # Under consensus a receipt is certified by the next height; until that height
    # exists the transaction's inclusion is proven but its receipt is not yet.
    receipt_certified: bool = True


def _certified(value_hex: str, certificate_hex: str, validators: list[bytes],
               chain_id: str) -> tuple[Any, Any]:
    """Decode a block value and its commit certificate, and check one certifies the other."""
    from oneteam.ledger.consensus.messages import (
        CommitCertificate,
        InvalidCertificate,
        value_id,
        verify_certificate,
    )
    from oneteam.ledger.ordering import decode_value

    try:
        value_bytes = bytes.fromhex(value_hex)
        value = decode_value(value_bytes)
        certificate = msgspec.msgpack.decode(bytes.fromhex(certificate_hex),
                                             type=CommitCertificate)
    except (ValueError, TypeError, msgspec.DecodeError, msgspec.ValidationError) as error:
        raise ProofError(f"value or certificate is malformed: {error}") from None
    try:
        verify_certificate(certificate, validators, chain_id=chain_id)
    except InvalidCertificate as error:
        raise ProofError(f"commit certificate does not verify: {error.reason}") from None
    if certificate.value_id != value_id(value_bytes) or certificate.height != value.height:
        raise ProofError("commit certificate is for another value")
    return value, certificate


def verify_proof(proof: dict[str, Any], trusted_validators: Iterable[bytes],
                 chain_id: str, txid: bytes | None = None) -> VerifiedInclusion:
    """Check a proof from ``GET /v1/tx/{id}/proof`` using nothing but its contents.

    The header must be signed by a validator the caller already trusts; the
    transaction and its receipt must hash up to the header's roots; when ``txid``
    is given, the proven transaction must be that one. Raises
    :class:`ProofError` naming the first check that fails.
    """
    try:
        header_bytes = bytes.fromhex(proof["header"]["bytes"])
        header = decode_header(header_bytes)
        signature = bytes.fromhex(proof["signature"])
        tx = bytes.fromhex(proof["tx"])
        receipt = bytes.fromhex(proof["receipt"])
        index = int(proof["index"])
        tx_path = [bytes.fromhex(h) for h in proof["tx_path"]]
        receipt_path = [bytes.fromhex(h) for h in proof["receipt_path"]]
    except (KeyError, TypeError, ValueError, msgspec.DecodeError) as error:
        raise ProofError(f"proof is malformed: {error}") from None
    if header.chain_id != chain_id:
        raise ProofError(f"header is for chain {header.chain_id!r}, expected {chain_id!r}")
    validators = list(trusted_validators)
    receipt_certified = True
    if proof.get("certificate"):
        # Several validators: a quorum certified the block value, which fixes every
        # header field known before execution; the next height certifies the rest.
        value, _ = _certified(proof.get("value", ""), proof["certificate"], validators,
                              chain_id)
        if (value.height, value.time_ms, value.prev_hash, value.tx_root, value.tx_count,
                value.proposer) != (header.height, header.time_ms, header.prev_hash,
                                    header.tx_root, header.tx_count, header.proposer):
            raise ProofError("header does not match its certified value")
        if proof.get("next_certificate"):
            following, _ = _certified(proof.get("next_value", ""), proof["next_certificate"],
                                      validators, chain_id)
            if following.height != header.height + 1 or following.prev_hash != header_hash(
                    header):
                raise ProofError("the next height does not certify this header")
        else:
            receipt_certified = False
    else:
        if header.proposer not in set(validators):
            raise ProofError("header is not signed by a trusted validator")
        if not keys.verify(header.proposer, header_hash(header), signature):
            raise ProofError("header signature does not verify")
    if not merkle.verify_inclusion(merkle.leaf_hash(tx), index, header.tx_count, tx_path,
                                   header.tx_root):
        raise ProofError("transaction is not included under the header's tx_root")
    if not merkle.verify_inclusion(merkle.leaf_hash(receipt), index, header.tx_count,
                                   receipt_path, header.receipts_root):
        raise ProofError("receipt is not included under the header's receipts_root")
    from oneteam.ledger.execution import Receipt
    from oneteam.ledger.tx import txid_of

    try:
        decoded = msgspec.msgpack.decode(receipt, type=Receipt)
        proven = txid_of(tx)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as error:
        raise ProofError(f"proven transaction or receipt does not decode: {error}") from None
    if txid is not None and proven != txid:
        raise ProofError(f"the proof is for transaction {proven.hex()}, not {txid.hex()}")
    return VerifiedInclusion(proven, header.height, index, header_hash(header),
                             decoded.code, decoded.reason, receipt_certified)


def _raise_for(status: int, body: bytes) -> None:
    try:
        data = json.loads(body)
        err = data["error"]
        raise LedgerClientError(status, err.get("code", "error"), err.get("message", ""))
    except (ValueError, KeyError, TypeError):
        raise LedgerClientError(status, "http_error", body[:200].decode("utf-8", "replace"))\
            from None


class LedgerClient:
    """Asynchronous client of one node."""

    def __init__(self, base_url: str, *, timeout_s: float = TIMEOUT_S_DEFAULT) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> LedgerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=64),
            )
        return self._session

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            async with self._http().request(method, self.base_url + path, **kwargs) as response:
                body = await response.read()
                if response.status >= 400:
                    _raise_for(response.status, body)
                if response.content_type == MSGPACK:
                    return msgspec.msgpack.decode(body)
                return json.loads(body)
        except aiohttp.ClientError as error:
            raise LedgerClientError(0, "unreachable", f"{self.base_url}: {error}") from None

    async def status(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._request("GET", "/v1/status")
        return result

    async def submit(self, wire: bytes) -> bytes:
        """Submit one transaction; returns its id once the node admitted it."""
        data = await self._request("POST", "/v1/tx", data=wire,
                                   headers={"Content-Type": "application/octet-stream"})
        return bytes.fromhex(data["txid"])

    async def submit_batch(self, wires: list[bytes]) -> list[tuple[bytes | None, str, str]]:
        """Submit many transactions in one binary request; one (id, code, reason) each."""
        data = await self._request(
            "POST", "/v1/txs", data=msgspec.msgpack.encode(wires),
            headers={"Content-Type": MSGPACK, "Accept": MSGPACK})
        return [(row[0], row[1], row[2]) for row in data["results"]]

    async def tx(self, txid: bytes) -> dict[str, Any]:
        result: dict[str, Any] = await self._request("GET", f"/v1/tx/{txid.hex()}")
        return result

    async def wait(self, txid: bytes, timeout_s: float = 10.0) -> dict[str, Any]:
        """Wait until ``txid`` is committed (or ``timeout_s`` passes); returns its status."""
        result: dict[str, Any] = await self._request(
            "GET", f"/v1/tx/{txid.hex()}/wait", params={"timeout_s": str(timeout_s)})
        return result

    async def proof(self, txid: bytes) -> dict[str, Any]:
        result: dict[str, Any] = await self._request("GET", f"/v1/tx/{txid.hex()}/proof")
        return result

    async def state(self, contract: str, kind: str, *args: str) -> Any:
        path = "/".join(urllib.parse.quote(a, safe="") for a in (contract, kind, *args))
        data = await self._request("GET", f"/v1/state/{path}")
        return data.get("value", data)

    async def block(self, height: int) -> dict[str, Any]:
        result: dict[str, Any] = await self._request("GET", f"/v1/blocks/{height}")
        return result

    async def headers(self, start: int, stop: int) -> list[dict[str, Any]]:
        data = await self._request("GET", "/v1/headers", params={"from": start, "to": stop})
        result: list[dict[str, Any]] = data["headers"]
        return result

    async def blocks(self, *, txids: bool = False) -> AsyncIterator[dict[str, Any]]:
        """New blocks as they commit (server-sent events), until the caller stops."""
        params = {"txids": "1"} if txids else {}
        timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
        try:
            async with self._http().get(self.base_url + "/v1/blocks/stream", params=params,
                                        timeout=timeout) as response:
                if response.status >= 400:
                    _raise_for(response.status, await response.read())
                # A block's event may carry tens of thousands of ids on one line, longer
                # than aiohttp's line limit: split lines here, with a bound of our own.
                buffer = b""
                async for chunk in response.content.iter_any():
                    buffer += chunk
                    if len(buffer) > STREAM_LINE_BYTES_MAX:
                        raise LedgerClientError(0, "too_large", "block stream line too long")
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.startswith(b"data: "):
                            yield json.loads(line[6:])
        except aiohttp.ClientError as error:
            raise LedgerClientError(0, "unreachable", f"{self.base_url}: {error}") from None

    async def next_nonce(self, public_key: bytes) -> int:
        value = await self.state("membership", "nonce", public_key.hex())
        return int(value or 0)


class SyncLedgerClient:
    """Synchronous client of one node, on the standard library only."""

    def __init__(self, base_url: str, *, timeout_s: float = TIMEOUT_S_DEFAULT) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def _request(self, method: str, path: str, body: bytes | None = None,
                 content_type: str | None = None, timeout_s: float | None = None) -> Any:
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=timeout_s or self.timeout_s) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as error:
            _raise_for(error.code, error.read())
        except (urllib.error.URLError, OSError) as error:
            raise LedgerClientError(0, "unreachable", f"{self.base_url}: {error}") from None

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/v1/status")
        return result

    def submit(self, wire: bytes) -> bytes:
        data = self._request("POST", "/v1/tx", wire, "application/octet-stream")
        return bytes.fromhex(data["txid"])

    def tx(self, txid: bytes) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/v1/tx/{txid.hex()}")
        return result

    def wait(self, txid: bytes, timeout_s: float = 10.0) -> dict[str, Any]:
        result: dict[str, Any] = self._request(
            "GET", f"/v1/tx/{txid.hex()}/wait?timeout_s={timeout_s}", timeout_s=timeout_s + 5)
        return result

    def proof(self, txid: bytes) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/v1/tx/{txid.hex()}/proof")
        return result

    def state(self, contract: str, kind: str, *args: str) -> Any:
        path = "/".join(urllib.parse.quote(a, safe="") for a in (contract, kind, *args))
        data = self._request("GET", f"/v1/state/{path}")
        return data.get("value", data)

    def next_nonce(self, public_key: bytes) -> int:
        return int(self.state("membership", "nonce", public_key.hex()) or 0)


async def submit_and_wait(client: LedgerClient, wire: bytes, timeout_s: float = 10.0
                          ) -> dict[str, Any]:
    txid = await client.submit(wire)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        status = await client.wait(txid, max(0.0, min(remaining, 60.0)))
        if status["status"] == "committed" or remaining <= 0:
            return status
