"""Messages validators exchange over their authenticated links (see P2P.md for the links).

One msgpack array per message, its first element a tag naming the kind.
"""

from __future__ import annotations

import msgspec

PEER_MESSAGE_BYTES_MAX = 64 * 1024 * 1024
BATCHES_PER_REQUEST_MAX = 256
BLOCKS_PER_REQUEST_MAX = 64


class BatchMsg(msgspec.Struct, tag="batch", array_like=True, frozen=True):
    """A batch its author sends to every validator."""

    wire: bytes


class BatchRequest(msgspec.Struct, tag="batch?", array_like=True, frozen=True):
    digests: list[bytes]


class BatchResponse(msgspec.Struct, tag="batch!", array_like=True, frozen=True):
    wires: list[bytes]


class ConsensusMsg(msgspec.Struct, tag="cons", array_like=True, frozen=True):
    """A consensus proposal or vote, encoded as the consensus package defines."""

    kind: str
    data: bytes


class BlocksRequest(msgspec.Struct, tag="blocks?", array_like=True, frozen=True):
    start: int
    count: int


class BlocksResponse(msgspec.Struct, tag="blocks!", array_like=True, frozen=True):
    """Committed blocks (their stored encoding, each with its value and certificate)."""

    blocks: list[bytes]


PeerMessage = (BatchMsg | BatchRequest | BatchResponse | ConsensusMsg | BlocksRequest
               | BlocksResponse)

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(PeerMessage)


def encode_peer_message(message: PeerMessage) -> bytes:
    return _encoder.encode(message)


def decode_peer_message(data: bytes) -> PeerMessage:
    """Decode a peer message; raises msgspec.DecodeError or ValidationError on bad input."""
    if len(data) > PEER_MESSAGE_BYTES_MAX:
        raise msgspec.DecodeError(f"peer message of {len(data)} bytes is too large")
    message: PeerMessage = _decoder.decode(data)
    return message
