"""Encrypted frames: counter nonces, authentication, size limits, the wrap-around guard."""

from __future__ import annotations

import tracemalloc

import nacl.bindings
import pytest

from oneteam.ledger.p2p.errors import FrameError, LinkClosed, MessageTooLarge, NonceExhausted
from oneteam.ledger.p2p.framing import (
    LENGTH,
    MAX_FRAME_BYTES,
    MAX_MESSAGE_BYTES,
    MIN_FRAME_BYTES,
    NONCE_LIMIT,
    FrameKind,
    FrameOpener,
    FrameReader,
    FrameSealer,
    frame_length,
    nonce,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def pair(**kwargs: int) -> tuple[FrameSealer, FrameOpener]:
    return FrameSealer(KEY, **kwargs), FrameOpener(KEY, **kwargs)


def split(frame: bytes) -> tuple[bytes, bytes]:
    return frame[:4], frame[4:]


def test_nonce_layout_is_four_zero_bytes_then_little_endian_counter() -> None:
    assert nonce(0) == bytes(12)
    assert nonce(1) == bytes(4) + b"\x01" + bytes(7)
    assert nonce(0x0102030405060708) == bytes(4) + bytes([8, 7, 6, 5, 4, 3, 2, 1])
    assert nonce(NONCE_LIMIT - 1) == bytes(4) + b"\xfe" + b"\xff" * 7


def test_frame_layout_and_round_trip() -> None:
    sealer, opener = pair()
    frame = sealer.seal(FrameKind.DATA, b"hello")
    prefix, ciphertext = split(frame)
    assert LENGTH.unpack(prefix) == (1 + 5 + 16,) and len(ciphertext) == 22
    expected = nacl.bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
        b"\x00hello", prefix, nonce(0), KEY)
    assert ciphertext == expected
    assert opener.open(prefix, ciphertext) == (FrameKind.DATA, b"hello")
    assert sealer.counter == opener.counter == 1


def test_counter_advances_so_equal_messages_encrypt_differently() -> None:
    sealer, opener = pair()
    frames = [sealer.seal(FrameKind.DATA, b"same") for _ in range(3)]
    assert len(set(frames)) == 3
    assert [opener.open(*split(f)) for f in frames] == [(FrameKind.DATA, b"same")] * 3
    assert sealer.counter == 3


def test_reordered_replayed_or_dropped_frames_fail() -> None:
    sealer, opener = pair()
    first, second = sealer.seal(FrameKind.DATA, b"1"), sealer.seal(FrameKind.DATA, b"2")
    with pytest.raises(FrameError, match="fails authentication"):
        opener.open(*split(second))  # out of order (frame 0 was dropped)
    sealer, opener = pair()
    first = sealer.seal(FrameKind.DATA, b"1")
    opener.open(*split(first))
    with pytest.raises(FrameError):
        opener.open(*split(first))  # replayed


def test_every_flipped_bit_is_rejected_and_breaks_the_opener() -> None:
    frame = FrameSealer(KEY).seal(FrameKind.DATA, b"a validator message")
    for position in range(len(frame)):
        for bit in (0x01, 0x80):
            tampered = bytearray(frame)
            tampered[position] ^= bit
            opener = FrameOpener(KEY)
            prefix, ciphertext = split(bytes(tampered))
            with pytest.raises(FrameError):
                opener.open(prefix, ciphertext)
            assert opener.broken is not None
            # once broken, even the authentic frame is refused: the link must close
            with pytest.raises((LinkClosed, FrameError)):
                opener.open(*split(frame))


def test_wrong_key_fails() -> None:
    frame = FrameSealer(KEY).seal(FrameKind.DATA, b"x")
    with pytest.raises(FrameError, match="authentication"):
        FrameOpener(OTHER_KEY).open(*split(frame))


def test_ping_with_body_close_too_long_and_unknown_kind_are_refused() -> None:
    def raw(kind: int, body: bytes) -> tuple[bytes, bytes]:
        prefix = LENGTH.pack(1 + len(body) + 16)
        return prefix, nacl.bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
            bytes([kind]) + body, prefix, nonce(0), KEY)

    for kind, body, reason in [(1, b"x", "ping"), (2, b"r" * 300, "close"),
                               (9, b"", "unknown kind")]:
        with pytest.raises(FrameError, match=reason):
            FrameOpener(KEY).open(*raw(kind, body))
    assert FrameOpener(KEY).open(*raw(2, b"bye")) == (FrameKind.CLOSE, b"bye")


def test_length_limits() -> None:
    assert MAX_FRAME_BYTES == 4 * 1024 * 1024 + 17
    assert frame_length(LENGTH.pack(MAX_FRAME_BYTES)) == MAX_FRAME_BYTES
    with pytest.raises(FrameError, match="exceeds"):
        frame_length(LENGTH.pack(MAX_FRAME_BYTES + 1))
    opener = FrameOpener(KEY)
    with pytest.raises(FrameError, match="shorter"):
        opener.length(LENGTH.pack(MIN_FRAME_BYTES - 1))
    assert opener.broken is not None
    with pytest.raises(FrameError, match="announces"):
        FrameOpener(KEY).open(LENGTH.pack(40), bytes(39))


def test_oversized_prefix_is_refused_before_any_buffer_is_allocated() -> None:
    reader = FrameReader(FrameOpener(KEY))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with pytest.raises(FrameError, match="exceeds the limit"):
            reader.feed(b"\xff\xff\xff\xff" + b"garbage that must never be buffered")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before < 64 * 1024
    assert reader.buffered == 4  # only the prefix
    with pytest.raises(LinkClosed):
        reader.feed(b"more")


def test_reader_reassembles_frames_from_any_chunking() -> None:
    sealer = FrameSealer(KEY)
    messages = [b"", b"a", b"bc" * 1000, b"d"]
    stream = b"".join(sealer.seal(FrameKind.DATA, m) for m in messages)
    stream += sealer.seal(FrameKind.PING)
    for chunk in (1, 3, 4, 17, 1000, len(stream)):
        reader = FrameReader(FrameOpener(KEY))
        got = []
        for start in range(0, len(stream), chunk):
            got.extend(reader.feed(stream[start:start + chunk]))
        assert got == [(FrameKind.DATA, m) for m in messages] + [(FrameKind.PING, b"")]
        assert reader.buffered == 0


def test_message_size_limit() -> None:
    sealer, opener = pair()
    largest = bytes(MAX_MESSAGE_BYTES)
    frame = sealer.seal(FrameKind.DATA, largest)
    assert len(frame) == 4 + MAX_FRAME_BYTES
    assert opener.open(*split(frame)) == (FrameKind.DATA, largest)
    with pytest.raises(MessageTooLarge):
        sealer.seal(FrameKind.DATA, bytes(MAX_MESSAGE_BYTES + 1))
    assert sealer.counter == 1  # a refused message uses no nonce


def test_counter_never_wraps() -> None:
    sealer, opener = pair(counter=NONCE_LIMIT - 2)
    last = [sealer.seal(FrameKind.DATA, b"x"), sealer.seal(FrameKind.DATA, b"y")]
    assert sealer.counter == NONCE_LIMIT
    with pytest.raises(NonceExhausted):
        sealer.seal(FrameKind.DATA, b"z")
    assert sealer.counter == NONCE_LIMIT  # nothing was sealed
    assert [opener.open(*split(f)) for f in last] == [(FrameKind.DATA, b"x"),
                                                      (FrameKind.DATA, b"y")]
    with pytest.raises(NonceExhausted):
        opener.open(*split(last[0]))
    assert opener.broken is not None
    with pytest.raises(ValueError):
        FrameSealer(KEY, counter=NONCE_LIMIT + 1)
    with pytest.raises(ValueError):
        FrameSealer(KEY, limit=NONCE_LIMIT + 1)


def test_keys_never_appear_in_repr() -> None:
    sealer, opener = pair()
    assert KEY.hex() not in repr(sealer) + repr(opener)
    assert "counter=0" in repr(sealer)
