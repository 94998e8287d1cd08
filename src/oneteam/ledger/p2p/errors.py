"""Errors of the validator peer network, each a :class:`LedgerError` with a stable code."""

from __future__ import annotations

import enum

from oneteam.ledger.errors import LedgerError


class Refusal(enum.IntEnum):
    """Why a handshake was refused; the one-byte code of a refusal message (P2P.md §3.6)."""

    MALFORMED = 1
    VERSION = 2
    WRONG_CHAIN = 3
    UNAUTHORIZED = 4
    BAD_SIGNATURE = 5
    UNEXPECTED_PEER = 6
    SELF_CONNECTION = 7
    TOO_LARGE = 8
    BUSY = 9
    STATE = 10


class P2PError(LedgerError):
    """Base class of the peer network's errors."""

    code = "p2p_error"


class HandshakeError(P2PError):
    """The handshake failed; ``refusal`` says why, ``reply`` is the refusal to send, if any.

    ``reply`` is ``None`` when nothing should be sent back, e.g. when the peer itself
    refused.
    """

    code = "handshake_failed"

    def __init__(self, refusal: Refusal, reason: str, reply: bytes | None = None) -> None:
        super().__init__(f"{refusal.name.lower()}: {reason}")
        self.refusal = refusal
        self.reply = reply


class PeerRefused(HandshakeError):
    """The peer sent a refusal message. It is unauthenticated: advice, not proof."""

    code = "refused_by_peer"


class FrameError(P2PError):
    """A transport frame is too large, too short, fails authentication or is malformed.

    The link that produced it is closed: a frame stream never resynchronises.
    """

    code = "bad_frame"


class NonceExhausted(P2PError):
    """A direction's 64-bit frame counter reached its limit; the link must close."""

    code = "nonce_exhausted"


class LinkClosed(P2PError):
    """The link is closed (by either side, by a failure, or by revalidation)."""

    code = "link_closed"


class PeerUnreachable(P2PError):
    """A TCP connection to the peer could not be opened, or the handshake timed out."""

    code = "unreachable"


class NotConnected(P2PError):
    """There is no open link to the requested peer."""

    code = "not_connected"


class MessageTooLarge(P2PError):
    """An application message exceeds :data:`~oneteam.ledger.p2p.framing.MAX_MESSAGE_BYTES`."""

    code = "too_large"
