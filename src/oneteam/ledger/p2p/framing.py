"""Encrypted transport frames after the handshake (sans-I/O).

A frame on the wire is ``length (u32, big-endian) || ciphertext``; the ciphertext is
ChaCha20-Poly1305 (IETF, RFC 8439) of ``kind (u8) || body`` under the direction's
traffic key, with the 4-byte length prefix as associated data and a 96-bit nonce
``0x00000000 || counter (u64, little-endian)`` taken from a per-direction counter that
starts at 0 and goes up by one per frame (the nonce layout of the Noise Protocol
Framework). Each direction has its own key, so the two counters never share a key.

Rules (docs/ledger/P2P.md §5):

- the length is checked against :data:`MAX_FRAME_BYTES` (and the minimum) as soon as
  its four bytes are known, before the ciphertext is read or any buffer for it exists;
- a frame that fails authentication, or decrypts to an unknown kind, breaks the
  opener: it refuses every later frame and the link must close;
- a counter never reaches :data:`NONCE_LIMIT`: the frame that would use it is refused
  with :class:`~oneteam.ledger.p2p.errors.NonceExhausted` and the link must close
  (there is no rekeying; a new handshake gives new keys).
"""

from __future__ import annotations

import enum
import struct

import nacl.bindings
import nacl.exceptions

from oneteam.ledger.p2p.errors import FrameError, LinkClosed, MessageTooLarge, NonceExhausted

LENGTH = struct.Struct(">I")
LENGTH_PREFIX_BYTES = LENGTH.size  # 4
TAG_BYTES = 16
KEY_BYTES = 32
KIND_BYTES = 1
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
MAX_FRAME_BYTES = KIND_BYTES + MAX_MESSAGE_BYTES + TAG_BYTES
MIN_FRAME_BYTES = KIND_BYTES + TAG_BYTES
MAX_CLOSE_REASON_BYTES = 256
# Counter values 0 .. NONCE_LIMIT - 1 are used; 2**64 - 1 is never used (as in Noise).
NONCE_LIMIT = 2**64 - 1


class FrameKind(enum.IntEnum):
    DATA = 0  # an application message
    PING = 1  # keepalive; empty body
    CLOSE = 2  # the sender closes the link; body: a UTF-8 reason


def nonce(counter: int) -> bytes:
    """The 12-byte nonce of frame number ``counter``."""
    return b"\x00\x00\x00\x00" + counter.to_bytes(8, "little")


def frame_length(prefix: bytes, limit: int = MAX_FRAME_BYTES, minimum: int = 1) -> int:
    """The length a 4-byte prefix announces, refused when outside ``minimum .. limit``."""
    if len(prefix) != LENGTH_PREFIX_BYTES:
        raise FrameError(f"a length prefix has {LENGTH_PREFIX_BYTES} bytes, got {len(prefix)}")
    (length,) = LENGTH.unpack(prefix)
    if length > limit:
        raise FrameError(f"frame of {length} bytes exceeds the limit of {limit} bytes")
    if length < minimum:
        raise FrameError(f"frame of {length} bytes is shorter than the minimum {minimum}")
    return int(length)


class _CipherState:
    def __init__(self, key: bytes, counter: int, limit: int) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a traffic key has {KEY_BYTES} bytes, got {len(key)}")
        if not 0 <= counter <= limit <= NONCE_LIMIT:
            raise ValueError("need 0 <= counter <= limit <= NONCE_LIMIT")
        self._key = key
        self.counter = counter
        self.limit = limit

    def _next_nonce(self) -> bytes:
        if self.counter >= self.limit:
            raise NonceExhausted(
                f"frame counter reached its limit ({self.limit}); the link must close")
        value = nonce(self.counter)
        self.counter += 1
        return value

    def __repr__(self) -> str:  # never show the key
        return f"{type(self).__name__}(counter={self.counter}, limit={self.limit})"


class FrameSealer(_CipherState):
    """Seals outgoing frames of one direction. ``counter``/``limit`` exist for tests."""

    def __init__(self, key: bytes, *, counter: int = 0, limit: int = NONCE_LIMIT) -> None:
        super().__init__(key, counter, limit)

    def seal(self, kind: FrameKind, body: bytes = b"") -> bytes:
        """The wire bytes of one frame: length prefix and ciphertext."""
        if len(body) > MAX_MESSAGE_BYTES:
            raise MessageTooLarge(
                f"message of {len(body)} bytes exceeds the limit of {MAX_MESSAGE_BYTES} bytes")
        prefix = LENGTH.pack(KIND_BYTES + len(body) + TAG_BYTES)
        ciphertext: bytes = nacl.bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
            bytes([kind]) + body, prefix, self._next_nonce(), self._key)
        return prefix + ciphertext


class FrameOpener(_CipherState):
    """Opens incoming frames of one direction; broken for good after any bad frame."""

    def __init__(self, key: bytes, *, counter: int = 0, limit: int = NONCE_LIMIT,
                 max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        super().__init__(key, counter, limit)
        self.max_frame_bytes = max_frame_bytes
        self.broken: str | None = None

    def _fail(self, reason: str) -> FrameError:
        self.broken = reason
        return FrameError(reason)

    def length(self, prefix: bytes) -> int:
        """Validate a length prefix before its ciphertext is read; see :func:`frame_length`."""
        if self.broken is not None:
            raise LinkClosed(f"link closed after a bad frame: {self.broken}")
        try:
            return frame_length(prefix, self.max_frame_bytes, MIN_FRAME_BYTES)
        except FrameError as error:
            raise self._fail(error.reason) from None

    def open(self, prefix: bytes, ciphertext: bytes) -> tuple[FrameKind, bytes]:
        """Authenticate and decrypt one frame; any failure breaks the opener."""
        announced = self.length(prefix)
        if announced != len(ciphertext):
            raise self._fail(f"frame announces {announced} bytes, got {len(ciphertext)}")
        try:
            number = self._next_nonce()
        except NonceExhausted as error:
            self.broken = error.reason
            raise
        try:
            plaintext: bytes = nacl.bindings.crypto_aead_chacha20poly1305_ietf_decrypt(
                ciphertext, prefix, number, self._key)
        except nacl.exceptions.CryptoError:
            raise self._fail(f"frame {self.counter - 1} fails authentication") from None
        try:
            kind = FrameKind(plaintext[0])
        except ValueError:
            raise self._fail(f"frame {self.counter - 1} has unknown kind {plaintext[0]}") from None
        body = plaintext[1:]
        if kind is FrameKind.PING and body:
            raise self._fail("a ping frame carries no body")
        if kind is FrameKind.CLOSE and len(body) > MAX_CLOSE_REASON_BYTES:
            raise self._fail("a close frame's reason is too long")
        return kind, body


class FrameReader:
    """Incremental reassembly of a byte stream into opened frames (sans-I/O).

    :meth:`feed` refuses an oversized length prefix as soon as its four bytes arrive,
    so a peer cannot make the reader buffer more than one frame's worth of bytes.
    """

    def __init__(self, opener: FrameOpener) -> None:
        self.opener = opener
        self._buffer = bytearray()
        self._need: int | None = None

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[tuple[FrameKind, bytes]]:
        frames: list[tuple[FrameKind, bytes]] = []
        view = memoryview(data)
        while view:
            if self._need is None:
                take = LENGTH_PREFIX_BYTES - len(self._buffer)
                self._buffer += view[:take]
                view = view[take:]
                if len(self._buffer) == LENGTH_PREFIX_BYTES:
                    self._need = self.opener.length(bytes(self._buffer))
                continue
            take = LENGTH_PREFIX_BYTES + self._need - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) == LENGTH_PREFIX_BYTES + self._need:
                raw = bytes(self._buffer)
                self._buffer.clear()
                self._need = None
                frames.append(self.opener.open(raw[:LENGTH_PREFIX_BYTES],
                                               raw[LENGTH_PREFIX_BYTES:]))
        return frames
