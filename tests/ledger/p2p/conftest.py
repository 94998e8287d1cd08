"""Helpers for the peer network tests: deterministic node keys, validator sets, raw peers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from oneteam.ledger.keys import KeyPair
from oneteam.ledger.p2p.framing import LENGTH, FrameOpener, FrameSealer
from oneteam.ledger.p2p.handshake import Handshake, Role, Session
from oneteam.ledger.p2p.link import LinkLimits, PeerLink, PeerServer, serve

from ..conftest import keypair_for

CHAIN = "oneteam-test"

# Short timeouts keep the suite fast; each test that needs a longer one says so.
FAST = LinkLimits(handshake_timeout_s=1.0, send_timeout_s=1.0, write_timeout_s=2.0,
                  recv_timeout_s=2.0, recv_stall_timeout_s=2.0, keepalive_s=0.5,
                  idle_timeout_s=3.0, close_timeout_s=0.5)


def node_key(label: str) -> KeyPair:
    return keypair_for(f"p2p/{label}")


@dataclass(slots=True)
class ValidatorSet:
    """A mutable validator set; ``is_authorized`` is what nodes are given."""

    keys: set[bytes] = field(default_factory=set)

    @classmethod
    def of(cls, *pairs: KeyPair) -> ValidatorSet:
        return cls({pair.public_key for pair in pairs})

    def is_authorized(self, public_key: bytes) -> bool:
        return public_key in self.keys

    def remove(self, pair: KeyPair) -> None:
        self.keys.discard(pair.public_key)


def allow_all(public_key: bytes) -> bool:
    return True


@contextlib.asynccontextmanager
async def serving(identity: KeyPair, validators: ValidatorSet | None = None, *,
                  limits: LinkLimits = FAST, chain_id: str = CHAIN,
                  ) -> AsyncIterator[tuple[PeerServer, asyncio.Queue[PeerLink]]]:
    """A served node whose established links land in a queue; everything closed after."""
    links: asyncio.Queue[PeerLink] = asyncio.Queue()
    accepted: list[PeerLink] = []

    def on_link(link: PeerLink) -> None:
        accepted.append(link)
        links.put_nowait(link)

    check = validators.is_authorized if validators is not None else allow_all
    server = await serve("127.0.0.1", 0, identity, chain_id, check, on_link=on_link,
                         limits=limits)
    try:
        yield server, links
    finally:
        server.close()
        for link in accepted:
            link.close("test over")
        for link in accepted:
            await link.wait_closed()
        await server.wait_closed()


async def read_message(reader: asyncio.StreamReader) -> bytes:
    (length,) = LENGTH.unpack(await reader.readexactly(4))
    return await reader.readexactly(length)


def write_message(writer: asyncio.StreamWriter, message: bytes) -> None:
    writer.write(LENGTH.pack(len(message)) + message)


@dataclass(slots=True)
class RawPeer:
    """A hand-driven peer: raw streams plus, after a handshake, its frame ciphers."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    session: Session | None = None
    _sealer: FrameSealer | None = None
    _opener: FrameOpener | None = None

    @property
    def sealer(self) -> FrameSealer:
        if self._sealer is None:
            assert self.session is not None, "no handshake yet"
            self._sealer = FrameSealer(self.session.send_key)
        return self._sealer

    @property
    def opener(self) -> FrameOpener:
        if self._opener is None:
            assert self.session is not None, "no handshake yet"
            self._opener = FrameOpener(self.session.recv_key)
        return self._opener

    def close(self) -> None:
        self.writer.transport.abort()


async def raw_connect(address: tuple[str, int]) -> RawPeer:
    reader, writer = await asyncio.open_connection(*address)
    return RawPeer(reader, writer)


async def raw_handshake(address: tuple[str, int], identity: KeyPair,
                        chain_id: str = CHAIN) -> RawPeer:
    """Complete an initiator handshake by hand (accepting any responder)."""
    peer = await raw_connect(address)
    handshake = Handshake(Role.INITIATOR, identity, chain_id, allow_all)
    write_message(peer.writer, handshake.start())
    while not handshake.complete:
        reply = handshake.receive(await read_message(peer.reader))
        if reply is not None:
            write_message(peer.writer, reply)
    await peer.writer.drain()
    peer.session = handshake.session()
    return peer


async def read_until_eof(reader: asyncio.StreamReader, timeout_s: float = 3.0) -> bytes:
    """Everything the other side sends until it closes (fails the test on a timeout)."""
    async with asyncio.timeout(timeout_s):
        try:
            return await reader.read(-1)
        except ConnectionResetError:
            return b""
