"""The validators' peer network: mutually authenticated, encrypted links (docs/ledger/P2P.md).

- handshake.py: the sans-I/O handshake (SIGMA-style signed X25519 with Ed25519 node keys);
- framing.py: ChaCha20-Poly1305 frames with counter nonces and size limits;
- link.py: asyncio links (:func:`connect`, :func:`serve`, :class:`PeerLink`) and the
  :class:`Network` that keeps one link per authorized peer.
"""

from __future__ import annotations

from oneteam.ledger.p2p.errors import (
    FrameError,
    HandshakeError,
    LinkClosed,
    MessageTooLarge,
    NonceExhausted,
    NotConnected,
    P2PError,
    PeerRefused,
    PeerUnreachable,
    Refusal,
)
from oneteam.ledger.p2p.handshake import Handshake, Role, Session
from oneteam.ledger.p2p.link import (
    LinkLimits,
    Network,
    PeerLink,
    PeerServer,
    connect,
    serve,
)

__all__ = [
    "FrameError",
    "Handshake",
    "HandshakeError",
    "LinkClosed",
    "LinkLimits",
    "MessageTooLarge",
    "Network",
    "NonceExhausted",
    "NotConnected",
    "P2PError",
    "PeerLink",
    "PeerRefused",
    "PeerServer",
    "PeerUnreachable",
    "Refusal",
    "Role",
    "Session",
    "connect",
    "serve",
]
