"""The validator handshake: a sans-I/O state machine for both roles (no sockets inside).

Protocol followed: **SIGMA** (Krawczyk, "SIGMA: the 'SIGn-and-MAc' approach to
authenticated Diffie-Hellman", CRYPTO 2003), in its basic three-message form with
identities in the clear, as used by the IKEv2 / TLS 1.3 signature handshakes, with a
Noise-style running transcript hash (``MixHash``). Each side:

1. contributes a fresh ephemeral X25519 key;
2. signs, with its long-term Ed25519 node key, the transcript hash of everything sent
   so far: the domain string, protocol version, chain id, both ephemeral keys and both
   identities (so each signature also names the peer it was meant for);
3. MACs the transcript under a key derived from the X25519 shared secret, proving it
   holds the ephemeral secret the signature vouches for (SIGMA's identity binding).

Messages (byte layouts in docs/ledger/P2P.md §3)::

    initiator -> responder   M1  hello:   version, chain id, e_i, s_i
    responder -> initiator   M2  reply:   e_r, s_r, Sig_r(h2), MAC_r(h2 || Sig_r)
    initiator -> responder   M3  finish:  Sig_i(h3), MAC_i(h3 || Sig_i)
    responder -> initiator   M4  accept:  MAC_a(h_final)

Deviations from SIGMA as published, each deliberate:

- **Identities are sent in the clear** (SIGMA-I would encrypt them under handshake
  keys). Validator keys are public on chain; identity hiding is not a goal. Because the
  initiator names itself in M1, both signatures cover *both* identities, which is the
  ISO 9798-3 variant of signed Diffie-Hellman; the MACs are kept anyway.
- **Early refusal.** The responder checks the initiator's *claimed* key against the
  validator set when M1 arrives, before any Diffie-Hellman or signing work, and checks
  it again when M3 proves it. The initiator checks the responder's key on M2.
- **A fourth message, M4 (accept).** SIGMA ends after three messages. Here the
  initiator is not done until the responder confirms that it accepted M3, so a dialer
  learns of a refusal (for example, its key left the validator set) as a handshake
  error instead of a link that closes at once. It costs half a round trip per link;
  links are long-lived.
- **Refusal messages.** Either side may send a refusal (a reason code and a short text)
  instead of the next message. Refusals are unauthenticated: they are diagnostics and
  never change what the receiver accepts; the link is closed either way.
- **Chain id and version are bound into the transcript** from M1, so a node of another
  chain or version cannot complete a handshake even if it ignored the explicit checks.
- **Key derivation** uses keyed BLAKE2b with personalisation (libsodium's
  ``crypto_generichash``) instead of HKDF; see P2P.md §4. Traffic keys are derived from
  the final transcript hash, one key per direction.
- **No rekeying.** A link is closed before either direction's frame counter could wrap
  (framing.py); the dialer reconnects with a fresh handshake and fresh keys.

Replays: every signature and MAC covers both ephemeral keys, which are fresh per
session, so a message recorded from another session fails verification in this one.

Usage: the initiator calls :meth:`Handshake.start` to get M1 and then feeds each
message it receives to :meth:`Handshake.receive`, sending whatever it returns; the
responder only calls :meth:`Handshake.receive`. When :attr:`Handshake.complete` is
true, :meth:`Handshake.session` gives the peer's key and the traffic keys. Any failure
raises :class:`~oneteam.ledger.p2p.errors.HandshakeError`, whose ``reply`` (when not
``None``) is a refusal message to send before closing; after a failure the machine
accepts nothing more.
"""

from __future__ import annotations

import enum
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

import nacl.bindings
import nacl.exceptions
import nacl.utils

from oneteam.ledger import keys
from oneteam.ledger.contracts.schema import CHAIN_ID_PATTERN
from oneteam.ledger.invariants import InvariantViolation, check
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.p2p.errors import HandshakeError, PeerRefused, Refusal

PROTOCOL_VERSION = 1
MAGIC = b"OTLP"
DOMAIN = b"oneteam/ledger/p2p/v1\x00"
SIG_DOMAIN_RESPONDER = b"oneteam/ledger/p2p/v1/responder\x00"
SIG_DOMAIN_INITIATOR = b"oneteam/ledger/p2p/v1/initiator\x00"
PERSON_HASH = b"oneteam-p2p-hash"
PERSON_KDF = b"oneteam-p2p-kdf1"
PERSON_MAC = b"oneteam-p2p-mac1"

TYPE_HELLO = 1
TYPE_REPLY = 2
TYPE_FINISH = 3
TYPE_ACCEPT = 4
TYPE_REFUSAL = 5

HEADER = struct.Struct(">4sHB")  # magic, version, type
HEADER_BYTES = HEADER.size  # 7
KEY_BYTES = 32
SIG_BYTES = 64
MAC_BYTES = 32
HASH_BYTES = 32
CHAIN_ID_MAX = 64
REASON_MAX = 200

HELLO_MIN = HEADER_BYTES + 1 + 1 + 2 * KEY_BYTES
HELLO_MAX = HEADER_BYTES + 1 + CHAIN_ID_MAX + 2 * KEY_BYTES
REPLY_BYTES = HEADER_BYTES + 2 * KEY_BYTES + SIG_BYTES + MAC_BYTES
FINISH_BYTES = HEADER_BYTES + SIG_BYTES + MAC_BYTES
ACCEPT_BYTES = HEADER_BYTES + MAC_BYTES
REFUSAL_MAX = HEADER_BYTES + 2 + REASON_MAX
# The largest handshake message either side accepts; checked on the length prefix,
# before the message is read.
HANDSHAKE_MESSAGE_MAX = 512

IsAuthorized = Callable[[bytes], bool]


class Role(enum.Enum):
    INITIATOR = "initiator"
    RESPONDER = "responder"


class _State(enum.Enum):
    START = "start"
    WAIT_REPLY = "waiting for M2 (reply)"
    WAIT_ACCEPT = "waiting for M4 (accept)"
    WAIT_HELLO = "waiting for M1 (hello)"
    WAIT_FINISH = "waiting for M3 (finish)"
    COMPLETE = "complete"
    FAILED = "failed"


# -- primitives ----------------------------------------------------------------------------------


def blake2b(data: bytes, *, size: int = HASH_BYTES, key: bytes = b"", person: bytes) -> bytes:
    """BLAKE2b (RFC 7693) with an optional key and a 16-byte personalisation."""
    check(len(person) == 16, "a BLAKE2b personalisation has 16 bytes")
    digest: bytes = nacl.bindings.crypto_generichash_blake2b_salt_personal(
        data, digest_size=size, key=key, person=person)
    return digest


def mix_hash(h: bytes, data: bytes) -> bytes:
    """The running transcript hash: ``h' = BLAKE2b-256(h || data, person=PERSON_HASH)``."""
    return blake2b(h + data, person=PERSON_HASH)


def kdf(chaining_key: bytes, label: bytes, context: bytes = b"", size: int = 32) -> bytes:
    """``BLAKE2b-<8*size>(label || context, key=chaining_key, person=PERSON_KDF)``."""
    return blake2b(label + context, size=size, key=chaining_key, person=PERSON_KDF)


def mac(key: bytes, data: bytes) -> bytes:
    """``BLAKE2b-256(data, key=key, person=PERSON_MAC)``."""
    return blake2b(data, key=key, person=PERSON_MAC)


def initial_hash() -> bytes:
    """``h0 = BLAKE2b-256(DOMAIN, person=PERSON_HASH)``."""
    return blake2b(DOMAIN, person=PERSON_HASH)


def _header(kind: int, version: int = PROTOCOL_VERSION) -> bytes:
    return HEADER.pack(MAGIC, version, kind)


def refusal_message(refusal: Refusal, reason: str) -> bytes:
    """The bytes of a refusal message (type 5): code, reason length, reason (UTF-8)."""
    text = reason.encode("utf-8", "replace")[:REASON_MAX]
    return _header(TYPE_REFUSAL) + bytes([int(refusal), len(text)]) + text


def _parse_refusal(message: bytes) -> PeerRefused:
    """The :class:`PeerRefused` a refusal message reports (any version is understood)."""
    if len(message) < HEADER_BYTES + 2 or len(message) > REFUSAL_MAX:
        return PeerRefused(Refusal.MALFORMED, "peer sent a malformed refusal message")
    code, length = message[HEADER_BYTES], message[HEADER_BYTES + 1]
    if len(message) != HEADER_BYTES + 2 + length:
        return PeerRefused(Refusal.MALFORMED, "peer sent a malformed refusal message")
    text = message[HEADER_BYTES + 2:].decode("utf-8", "replace")
    try:
        refusal = Refusal(code)
    except ValueError:
        refusal = Refusal.MALFORMED
    return PeerRefused(refusal, f"peer refused the handshake: {text}")


@dataclass(frozen=True, slots=True)
class Session:
    """The outcome of a completed handshake. Traffic keys are left out of ``repr``."""

    role: Role
    peer_key: bytes
    session_id: bytes
    send_key: bytes = field(repr=False)
    recv_key: bytes = field(repr=False)


class Handshake:
    """One handshake, as initiator or responder; see the module docstring.

    ``is_authorized`` answers whether a node key is in the current validator set; it is
    asked about the peer's key (never about this node's own key). ``expected_peer``, for
    an initiator, is the key it means to reach: any other responder is refused.
    ``ephemeral_secret`` is for tests only (a fixed X25519 scalar); by default a fresh
    random one is drawn.

    ``peer_key`` is the key the peer *presented*; it is proven only once the handshake
    is complete, so use :meth:`session` for anything that matters.
    """

    def __init__(
        self,
        role: Role,
        identity: KeyPair,
        chain_id: str,
        is_authorized: IsAuthorized,
        *,
        expected_peer: bytes | None = None,
        ephemeral_secret: bytes | None = None,
    ) -> None:
        if not re.match(CHAIN_ID_PATTERN, chain_id):
            raise ValueError(f"chain id {chain_id!r} is not a valid identifier")
        if expected_peer is not None and len(expected_peer) != KEY_BYTES:
            raise ValueError(f"expected_peer must be a 32-byte key, got {len(expected_peer)}")
        if expected_peer is not None and role is not Role.INITIATOR:
            raise ValueError("only an initiator names the peer it expects")
        if ephemeral_secret is not None and len(ephemeral_secret) != KEY_BYTES:
            raise ValueError("an X25519 secret has 32 bytes")
        self.role = role
        self.identity = identity
        self.chain_id = chain_id
        self._chain_bytes = chain_id.encode("ascii")
        self._is_authorized = is_authorized
        self.expected_peer = expected_peer
        self._e_secret = ephemeral_secret or nacl.utils.random(KEY_BYTES)
        self.ephemeral_public: bytes = nacl.bindings.crypto_scalarmult_base(self._e_secret)
        self._h = initial_hash()
        self._chaining_key = b""
        self._peer_ephemeral = b""
        self.peer_key: bytes | None = None
        self._session: Session | None = None
        self._state = _State.START if role is Role.INITIATOR else _State.WAIT_HELLO

    # -- public API ------------------------------------------------------------------------------

    @property
    def complete(self) -> bool:
        return self._state is _State.COMPLETE

    @property
    def failed(self) -> bool:
        return self._state is _State.FAILED

    @property
    def state(self) -> str:
        """A short description of what the machine waits for (for logs and errors)."""
        return self._state.value

    def session(self) -> Session:
        """The completed session; raises if the handshake is not complete."""
        if self._session is None:
            raise HandshakeError(Refusal.STATE, f"the handshake is not complete ({self.state})")
        return self._session

    def start(self) -> bytes:
        """The initiator's first message, M1 (hello)."""
        if self.role is not Role.INITIATOR or self._state is not _State.START:
            raise HandshakeError(Refusal.STATE, f"start() is for a new initiator ({self.state})")
        message = (_header(TYPE_HELLO) + bytes([len(self._chain_bytes)]) + self._chain_bytes
                   + self.ephemeral_public + self.identity.public_key)
        self._h = mix_hash(self._h, message)
        self._state = _State.WAIT_REPLY
        return message

    def receive(self, message: bytes) -> bytes | None:
        """Process one message from the peer; return the message to send back, if any.

        Raises :class:`HandshakeError` (and the machine fails for good) on anything
        but the next valid message of this handshake.
        """
        if self._state in (_State.COMPLETE, _State.FAILED, _State.START):
            raise HandshakeError(Refusal.STATE, f"no message is expected ({self.state})")
        try:
            if len(message) > HANDSHAKE_MESSAGE_MAX:
                self._refuse(Refusal.TOO_LARGE, f"handshake message of {len(message)} bytes "
                             f"exceeds {HANDSHAKE_MESSAGE_MAX}")
            kind = self._check_header(message)
            if kind == TYPE_REFUSAL:
                self._state = _State.FAILED
                raise _parse_refusal(message)
            if self._state is _State.WAIT_HELLO:
                return self._on_hello(kind, message)
            if self._state is _State.WAIT_REPLY:
                return self._on_reply(kind, message)
            if self._state is _State.WAIT_FINISH:
                return self._on_finish(kind, message)
            check(self._state is _State.WAIT_ACCEPT, f"unhandled handshake state {self.state}")
            self._on_accept(kind, message)
            return None
        except HandshakeError:
            self._state = _State.FAILED
            raise

    # -- steps -----------------------------------------------------------------------------------

    def _known_peer(self) -> bytes:
        if self.peer_key is None:
            raise InvariantViolation("the peer's key is known after M1 (responder) or M2")
        return self.peer_key

    def _refuse(self, refusal: Refusal, reason: str) -> NoReturn:
        self._state = _State.FAILED
        raise HandshakeError(refusal, reason, refusal_message(refusal, reason))

    def _check_header(self, message: bytes) -> int:
        if len(message) < HEADER_BYTES:
            self._refuse(Refusal.MALFORMED, f"handshake message of {len(message)} bytes is "
                         "shorter than its header")
        magic, version, kind = HEADER.unpack_from(message)
        if magic != MAGIC:
            self._refuse(Refusal.MALFORMED, "not a OneTeam ledger p2p handshake (bad magic)")
        if kind == TYPE_REFUSAL:
            return int(kind)
        if version != PROTOCOL_VERSION:
            self._refuse(Refusal.VERSION, f"protocol version {version} is not supported; "
                         f"this node speaks version {PROTOCOL_VERSION}")
        return int(kind)

    def _expect(self, kind: int, wanted: int, name: str, message: bytes, size: int) -> None:
        if kind != wanted:
            self._refuse(Refusal.MALFORMED, f"expected message type {wanted} ({name}), "
                         f"got type {kind}")
        if len(message) != size:
            self._refuse(Refusal.MALFORMED, f"{name} message has {len(message)} bytes, "
                         f"expected {size}")

    def _authorize(self, peer_key: bytes) -> None:
        if peer_key == self.identity.public_key:
            self._refuse(Refusal.SELF_CONNECTION, "the peer presents this node's own key")
        if not self._is_authorized(peer_key):
            self._refuse(Refusal.UNAUTHORIZED, f"node key {peer_key.hex()} is not in the "
                         f"current validator set of chain {self.chain_id}")

    def _derive(self) -> None:
        if self._peer_ephemeral == self.ephemeral_public:
            self._refuse(Refusal.MALFORMED, "the peer echoed this node's ephemeral key")
        try:
            shared: bytes = nacl.bindings.crypto_scalarmult(self._e_secret, self._peer_ephemeral)
        except (nacl.exceptions.RuntimeError, nacl.exceptions.ValueError, ValueError):
            shared = bytes(KEY_BYTES)
        if shared == bytes(KEY_BYTES):
            self._refuse(Refusal.MALFORMED, "the peer's ephemeral key is of low order")
        self._chaining_key = kdf(shared, b"master", self._h, size=64)

    def _on_hello(self, kind: int, message: bytes) -> bytes:
        if kind != TYPE_HELLO:
            self._refuse(Refusal.MALFORMED, f"expected message type {TYPE_HELLO} (hello), "
                         f"got type {kind}")
        if not HELLO_MIN <= len(message) <= HELLO_MAX:
            self._refuse(Refusal.MALFORMED, f"hello message has {len(message)} bytes")
        length = message[HEADER_BYTES]
        if len(message) != HEADER_BYTES + 1 + length + 2 * KEY_BYTES:
            self._refuse(Refusal.MALFORMED, "hello message length does not match its chain id")
        chain = message[HEADER_BYTES + 1:HEADER_BYTES + 1 + length]
        if chain != self._chain_bytes:
            shown = chain.decode("ascii", "replace")
            self._refuse(Refusal.WRONG_CHAIN, f"peer is on chain {shown!r}, this node is on "
                         f"{self.chain_id!r}")
        offset = HEADER_BYTES + 1 + length
        self._peer_ephemeral = message[offset:offset + KEY_BYTES]
        claimed = message[offset + KEY_BYTES:]
        self._authorize(claimed)  # early refusal; proven by M3
        self.peer_key = claimed
        self._h = mix_hash(self._h, message)
        body = _header(TYPE_REPLY) + self.ephemeral_public + self.identity.public_key
        self._h = mix_hash(self._h, body)  # h2
        self._derive()
        signature = self.identity.sign(SIG_DOMAIN_RESPONDER + self._h)
        tag = mac(kdf(self._chaining_key, b"confirm responder"), self._h + signature)
        self._h = mix_hash(self._h, signature + tag)
        self._state = _State.WAIT_FINISH
        return body + signature + tag

    def _on_reply(self, kind: int, message: bytes) -> bytes:
        self._expect(kind, TYPE_REPLY, "reply", message, REPLY_BYTES)
        offset = HEADER_BYTES
        self._peer_ephemeral = message[offset:offset + KEY_BYTES]
        peer_key = message[offset + KEY_BYTES:offset + 2 * KEY_BYTES]
        signature = message[offset + 2 * KEY_BYTES:offset + 2 * KEY_BYTES + SIG_BYTES]
        tag = message[offset + 2 * KEY_BYTES + SIG_BYTES:]
        if self.expected_peer is not None and peer_key != self.expected_peer:
            self._refuse(Refusal.UNEXPECTED_PEER, f"dialed {self.expected_peer.hex()} but "
                         f"the responder is {peer_key.hex()}")
        self._authorize(peer_key)
        self._h = mix_hash(self._h, message[:offset + 2 * KEY_BYTES])  # h2
        if not keys.verify(peer_key, SIG_DOMAIN_RESPONDER + self._h, signature):
            self._refuse(Refusal.BAD_SIGNATURE, "the responder's signature does not verify")
        self._derive()
        expected = mac(kdf(self._chaining_key, b"confirm responder"), self._h + signature)
        if not nacl.bindings.sodium_memcmp(expected, tag):
            self._refuse(Refusal.BAD_SIGNATURE, "the responder's MAC does not verify")
        self.peer_key = peer_key
        self._h = mix_hash(self._h, signature + tag)
        header = _header(TYPE_FINISH)
        self._h = mix_hash(self._h, header)  # h3
        own_signature = self.identity.sign(SIG_DOMAIN_INITIATOR + self._h)
        own_tag = mac(kdf(self._chaining_key, b"confirm initiator"), self._h + own_signature)
        self._h = mix_hash(self._h, own_signature + own_tag)  # h_final
        self._state = _State.WAIT_ACCEPT
        return header + own_signature + own_tag

    def _on_finish(self, kind: int, message: bytes) -> bytes:
        self._expect(kind, TYPE_FINISH, "finish", message, FINISH_BYTES)
        peer_key = self._known_peer()
        self._h = mix_hash(self._h, message[:HEADER_BYTES])  # h3
        signature = message[HEADER_BYTES:HEADER_BYTES + SIG_BYTES]
        tag = message[HEADER_BYTES + SIG_BYTES:]
        if not keys.verify(peer_key, SIG_DOMAIN_INITIATOR + self._h, signature):
            self._refuse(Refusal.BAD_SIGNATURE, "the initiator's signature does not verify")
        expected = mac(kdf(self._chaining_key, b"confirm initiator"), self._h + signature)
        if not nacl.bindings.sodium_memcmp(expected, tag):
            self._refuse(Refusal.BAD_SIGNATURE, "the initiator's MAC does not verify")
        self._authorize(peer_key)  # the set may have changed since M1
        self._h = mix_hash(self._h, signature + tag)  # h_final
        accept = _header(TYPE_ACCEPT) + mac(kdf(self._chaining_key, b"accept"), self._h)
        self._finish(peer_key)
        return accept

    def _on_accept(self, kind: int, message: bytes) -> None:
        self._expect(kind, TYPE_ACCEPT, "accept", message, ACCEPT_BYTES)
        expected = mac(kdf(self._chaining_key, b"accept"), self._h)
        if not nacl.bindings.sodium_memcmp(expected, message[HEADER_BYTES:]):
            self._refuse(Refusal.BAD_SIGNATURE, "the responder's accept MAC does not verify")
        self._finish(self._known_peer())

    def _finish(self, peer_key: bytes) -> None:
        i2r = kdf(self._chaining_key, b"initiator to responder", self._h)
        r2i = kdf(self._chaining_key, b"responder to initiator", self._h)
        send, recv = (i2r, r2i) if self.role is Role.INITIATOR else (r2i, i2r)
        self._session = Session(self.role, peer_key, self._h, send, recv)
        self._chaining_key = b""
        self._e_secret = b""
        self._state = _State.COMPLETE
