"""Transactions: the wire format, canonical bytes, signing and stateless checks.

Wire form (msgpack): ``[body: bin, signature: bin(64)]``. The body is itself the
canonical msgpack encoding of ``[chain_id, org, sender, nonce, expiry_height, op,
args]``; the signature is Ed25519 over ``SIGNING_DOMAIN + body``. The
transaction id is ``sha256(body)``. See docs/ledger/PROTOCOL.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec

from oneteam.ledger import keys
from oneteam.ledger.errors import BadSignature, MalformedTransaction, WrongChain
from oneteam.ledger.keys import KeyPair

SIGNING_DOMAIN = b"oneteam/tx/v1\x00"
TX_BYTES_MAX = 16 * 1024
NONCE_MAX = 2**63 - 1
HEIGHT_MAX = 2**63 - 1


class TxBody(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    chain_id: str
    org: str
    sender: bytes
    nonce: int
    expiry_height: int
    op: str
    args: msgspec.Raw


class SignedTx(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    body: bytes
    signature: bytes


_encoder = msgspec.msgpack.Encoder()
_body_decoder = msgspec.msgpack.Decoder(TxBody)
_signed_decoder = msgspec.msgpack.Decoder(SignedTx)


class Transaction(msgspec.Struct, frozen=True, gc=False):
    """A decoded transaction whose signature has been verified.

    A msgspec Struct rather than a dataclass: it is built once per admitted
    transaction on the hot path, and Struct construction is several times faster.
    """

    txid: bytes
    wire: bytes
    chain_id: str
    org: str
    sender: bytes
    nonce: int
    expiry_height: int
    op: str
    args: Any

    @property
    def txid_hex(self) -> str:
        return self.txid.hex()


def encode_tx(
    keypair: KeyPair,
    *,
    chain_id: str,
    org: str,
    nonce: int,
    op: str,
    args: msgspec.Struct,
    expiry_height: int = HEIGHT_MAX,
) -> bytes:
    """Build, sign and encode a transaction; returns its wire bytes."""
    from oneteam.ledger.contracts import operation

    spec = operation(op)
    if not isinstance(args, spec.args_type):
        raise TypeError(f"{op} takes {spec.args_type.__name__}, not {type(args).__name__}")
    body = _encoder.encode(
        TxBody(
            chain_id=chain_id,
            org=org,
            sender=keypair.public_key,
            nonce=nonce,
            expiry_height=expiry_height,
            op=op,
            args=msgspec.Raw(_encoder.encode(args)),
        )
    )
    signature = keypair.sign(SIGNING_DOMAIN + body)
    return _encoder.encode(SignedTx(body=body, signature=signature))


_OPERATIONS: Mapping[str, Any] | None = None


def _operations() -> Mapping[str, Any]:
    """The contracts' operations, imported once (the contracts import this module, so
    not at the top); an import statement on every transaction costs microseconds."""
    global _OPERATIONS  # noqa: PLW0603 - a cache filled once
    if _OPERATIONS is None:
        from oneteam.ledger.contracts import OPERATIONS

        _OPERATIONS = OPERATIONS
    return _OPERATIONS


def txid_of(wire: bytes) -> bytes:
    """The id of a transaction from its wire bytes (sha256 of the body), unchecked."""
    return hashlib.sha256(_signed_decoder.decode(wire).body).digest()


def decode_and_verify(wire: bytes, chain_id: str) -> Transaction:
    """Decode, check and verify one transaction; raise a ledger error naming the fault.

    Runs in worker threads: everything here is stateless, and libsodium's
    verification releases the GIL.
    """
    if len(wire) > TX_BYTES_MAX:
        raise MalformedTransaction(f"transaction is {len(wire)} bytes, limit {TX_BYTES_MAX}")
    # msgspec reports invalid UTF-8 in a string as UnicodeDecodeError, not DecodeError.
    try:
        signed = _signed_decoder.decode(wire)
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        raise MalformedTransaction(f"not a signed transaction: {error}") from None
    if _encoder.encode(signed) != wire:
        raise MalformedTransaction("transaction is not in canonical encoding")
    try:
        body = _body_decoder.decode(signed.body)
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        raise MalformedTransaction(f"malformed body: {error}") from None
    if body.chain_id != chain_id:
        raise WrongChain(f"transaction is for chain {body.chain_id!r}, this is {chain_id!r}")
    if len(body.sender) != keys.PUBLIC_KEY_BYTES:
        raise MalformedTransaction(f"sender key has {len(body.sender)} bytes, expected 32")
    if len(signed.signature) != keys.SIGNATURE_BYTES:
        raise MalformedTransaction(
            f"signature has {len(signed.signature)} bytes, expected 64"
        )
    if not 0 <= body.nonce <= NONCE_MAX:
        raise MalformedTransaction(f"nonce {body.nonce} is out of range")
    if not 0 <= body.expiry_height <= HEIGHT_MAX:
        raise MalformedTransaction(f"expiry height {body.expiry_height} is out of range")
    if not body.org or len(body.org) > 64:
        raise MalformedTransaction("organization id must have 1 to 64 characters")
    spec = _operations().get(body.op)
    if spec is None:
        raise MalformedTransaction(f"unknown operation {body.op!r}")
    try:
        args = spec.decoder.decode(body.args)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as error:
        raise MalformedTransaction(f"{body.op}: bad arguments: {error}") from None
    if _encoder.encode(args) != bytes(body.args) or _encoder.encode(body) != signed.body:
        raise MalformedTransaction("body is not in canonical encoding")
    if not keys.verify(body.sender, SIGNING_DOMAIN + signed.body, signed.signature):
        raise BadSignature("signature does not verify against the sender key")
    return Transaction(
        txid=hashlib.sha256(signed.body).digest(),
        wire=wire,
        chain_id=body.chain_id,
        org=body.org,
        sender=body.sender,
        nonce=body.nonce,
        expiry_height=body.expiry_height,
        op=body.op,
        args=args,
    )


def decode_unverified(wire: bytes, chain_id: str) -> Transaction:
    """Decode a transaction already verified once (a committed block being replayed)."""
    signed = _signed_decoder.decode(wire)
    body = _body_decoder.decode(signed.body)
    spec = _operations()[body.op]
    return Transaction(
        txid=hashlib.sha256(signed.body).digest(),
        wire=wire,
        chain_id=body.chain_id,
        org=body.org,
        sender=body.sender,
        nonce=body.nonce,
        expiry_height=body.expiry_height,
        op=body.op,
        args=spec.decoder.decode(body.args),
    )
