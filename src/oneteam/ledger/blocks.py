"""Block headers and blocks: their encoding, hashes and signatures."""

from __future__ import annotations

import hashlib

import msgspec

from oneteam.ledger import keys
from oneteam.ledger.execution import Receipt

HEADER_DOMAIN = b"oneteam/header/v1\x00"
ZERO_HASH = bytes(32)


class Header(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    chain_id: str
    height: int
    time_ms: int
    prev_hash: bytes
    tx_root: bytes
    receipts_root: bytes
    state_root: bytes
    tx_count: int
    proposer: bytes

    def hash(self) -> bytes:
        return header_hash(self)


class Block(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """A committed block. Under consensus (several validators) ``value`` is the
    decided block value (ordering.BlockValue) and ``certificate`` the encoded
    commit certificate for it; a single validator leaves both empty and signs
    the header instead."""

    header: Header
    signature: bytes
    txs: list[bytes]
    receipts: list[Receipt]
    value: bytes = b""
    certificate: bytes = b""


_encoder = msgspec.msgpack.Encoder()
_header_decoder = msgspec.msgpack.Decoder(Header)
_block_decoder = msgspec.msgpack.Decoder(Block)


def encode_header(header: Header) -> bytes:
    return _encoder.encode(header)


def decode_header(data: bytes) -> Header:
    return _header_decoder.decode(data)


def header_hash(header: Header) -> bytes:
    return hashlib.sha256(HEADER_DOMAIN + _encoder.encode(header)).digest()


def encode_block(block: Block) -> bytes:
    return _encoder.encode(block)


def decode_block(data: bytes) -> Block:
    return _block_decoder.decode(data)


def sign_header(keypair: keys.KeyPair, header: Header) -> bytes:
    return keypair.sign(header_hash(header))


def verify_header_signature(header: Header, signature: bytes) -> bool:
    """The proposer named in the header signed it (the chain's genesis is unsigned)."""
    return keys.verify(header.proposer, header_hash(header), signature)
