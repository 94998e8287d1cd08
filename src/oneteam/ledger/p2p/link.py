"""Peer links over TCP with asyncio: the handshake and framing driven by real sockets.

- :func:`connect` dials a validator and returns a :class:`PeerLink` once the handshake
  (handshake.py) has completed, or raises; :func:`serve` accepts links and hands each
  established one to ``on_link``.
- A :class:`PeerLink` carries application messages both ways, encrypted (framing.py).
  Sending goes through a bounded queue (backpressure: :meth:`PeerLink.send` waits for
  room, up to a timeout); receiving goes through a bounded queue too, and when it is
  full the link stops reading from the socket, which pushes back on the peer over TCP.
- Every wait has a timeout (:class:`LinkLimits`): connecting, the handshake, a socket
  write, room in a queue, and silence from the peer (keepalive pings every
  ``keepalive_s``; a link that hears nothing for ``idle_timeout_s`` closes).
- Authorization is checked at the handshake and again for every message: a frame
  that arrives, or is about to be delivered, while its sender is outside the current
  validator set closes the link and is dropped. A message is therefore never acted on
  unless its sender is authorized at the moment it is delivered.

:class:`Network` keeps one link per authorized peer: it dials the peers of an address
book, accepts inbound links, resolves duplicate links deterministically, reconnects
with bounded exponential backoff, and merges all inbound messages into one bounded
queue. Delivery is at most once: a message queued on a link that closes (a restart, a
duplicate being resolved) is lost, and the protocols above must tolerate loss.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from oneteam.ledger.errors import Busy
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.p2p.errors import (
    HandshakeError,
    LinkClosed,
    MessageTooLarge,
    NonceExhausted,
    NotConnected,
    P2PError,
    PeerUnreachable,
    Refusal,
)
from oneteam.ledger.p2p.framing import (
    LENGTH,
    LENGTH_PREFIX_BYTES,
    MAX_CLOSE_REASON_BYTES,
    MAX_MESSAGE_BYTES,
    NONCE_LIMIT,
    FrameKind,
    FrameOpener,
    FrameSealer,
)
from oneteam.ledger.p2p.handshake import (
    HANDSHAKE_MESSAGE_MAX,
    Handshake,
    IsAuthorized,
    Role,
    Session,
    refusal_message,
)

log = logging.getLogger("oneteam.ledger.p2p")

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class LinkLimits:
    """Bounds and timeouts of a link (seconds, counts of messages)."""

    handshake_timeout_s: float = 5.0
    send_queue_max: int = 256
    send_timeout_s: float = 5.0
    write_timeout_s: float = 10.0
    recv_queue_max: int = 256
    recv_timeout_s: float = 30.0
    recv_stall_timeout_s: float = 30.0
    keepalive_s: float = 5.0
    idle_timeout_s: float = 20.0
    close_timeout_s: float = 1.0
    max_pending_handshakes: int = 64
    nonce_limit: int = NONCE_LIMIT

    def __post_init__(self) -> None:
        for name in ("send_queue_max", "recv_queue_max", "max_pending_handshakes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.keepalive_s >= self.idle_timeout_s:
            raise ValueError("keepalive_s must be shorter than idle_timeout_s")


DEFAULT_LIMITS = LinkLimits()


def _frame(message: bytes) -> bytes:
    return LENGTH.pack(len(message)) + message


async def _read_handshake_message(reader: asyncio.StreamReader) -> bytes:
    prefix = await reader.readexactly(LENGTH_PREFIX_BYTES)
    (length,) = LENGTH.unpack(prefix)
    if length > HANDSHAKE_MESSAGE_MAX or length == 0:
        reason = f"handshake message of {length} bytes (limit {HANDSHAKE_MESSAGE_MAX})"
        raise HandshakeError(Refusal.TOO_LARGE, reason, refusal_message(Refusal.TOO_LARGE, reason))
    return await reader.readexactly(length)


async def _run_handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         handshake: Handshake, limits: LinkLimits, peer: str) -> Session:
    """Drive ``handshake`` over a stream; on a refusal, send its reply before raising."""
    try:
        async with asyncio.timeout(limits.handshake_timeout_s):
            if handshake.role is Role.INITIATOR:
                writer.write(_frame(handshake.start()))
            while not handshake.complete:
                await writer.drain()
                reply = handshake.receive(await _read_handshake_message(reader))
                if reply is not None:
                    writer.write(_frame(reply))
            await writer.drain()
    except HandshakeError as error:
        if error.reply is not None and not writer.is_closing():
            writer.write(_frame(error.reply))
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(limits.close_timeout_s):
                    await writer.drain()
        raise
    except TimeoutError:
        raise PeerUnreachable(f"handshake with {peer} timed out after "
                              f"{limits.handshake_timeout_s}s ({handshake.state})") from None
    except asyncio.IncompleteReadError:
        raise PeerUnreachable(f"{peer} closed the connection during the handshake "
                              f"({handshake.state})") from None
    except OSError as error:
        raise PeerUnreachable(f"handshake with {peer} failed: {error}") from None
    return handshake.session()


def _close_writer(writer: asyncio.StreamWriter, grace_s: float) -> None:
    """Close gracefully (flushing what is buffered), but abort after ``grace_s``."""
    transport = writer.transport
    transport.close()
    if transport.get_write_buffer_size():
        asyncio.get_running_loop().call_later(grace_s, transport.abort)


def _describe(writer: asyncio.StreamWriter) -> str:
    peername = writer.get_extra_info("peername")
    if isinstance(peername, tuple) and len(peername) >= 2:
        return f"{peername[0]}:{peername[1]}"
    return "peer"


class PeerLink:
    """An established, authenticated, encrypted link to one validator.

    Created by :func:`connect` and :func:`serve`, already running. ``peer_key`` is the
    peer's Ed25519 node key as proven in the handshake; ``session_id`` is the final
    transcript hash, equal on both ends; ``initiator_key`` is the key of the side that
    dialed.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 session: Session, *, local_key: bytes, is_authorized: IsAuthorized,
                 limits: LinkLimits = DEFAULT_LIMITS) -> None:
        self.peer_key = session.peer_key
        self.session_id = session.session_id
        self.outbound = session.role is Role.INITIATOR
        self.initiator_key = local_key if self.outbound else session.peer_key
        self.address = _describe(writer)
        self.limits = limits
        self.opened_at = self.last_heard = time.monotonic()
        self.close_reason: str | None = None
        self._reader = reader
        self._writer = writer
        self._is_authorized = is_authorized
        self._sealer = FrameSealer(session.send_key, limit=limits.nonce_limit)
        self._opener = FrameOpener(session.recv_key, limit=limits.nonce_limit)
        self._outbox: asyncio.Queue[tuple[FrameKind, bytes]] = asyncio.Queue(
            limits.send_queue_max)
        self._inbox: collections.deque[bytes] = collections.deque()
        self._readable = asyncio.Event()
        self._room = asyncio.Event()
        self._closed = asyncio.Event()
        self._read_task = asyncio.create_task(self._read_loop(), name=f"p2p-read-{self}")
        self._write_task = asyncio.create_task(self._write_loop(), name=f"p2p-write-{self}")

    def __repr__(self) -> str:
        direction = "to" if self.outbound else "from"
        return f"PeerLink({direction} {self.peer_key.hex()[:16]} at {self.address})"

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def silent_s(self) -> float:
        """Seconds since the last authentic frame from the peer (or since the handshake)."""
        return time.monotonic() - self.last_heard

    @property
    def pending_sends(self) -> int:
        return self._outbox.qsize()

    # -- sending ---------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise LinkClosed(f"link to {self.peer_key.hex()} is closed: {self.close_reason}")
        if not self._is_authorized(self.peer_key):
            self.close("peer is no longer in the validator set")
            raise LinkClosed(f"peer {self.peer_key.hex()} is no longer in the validator set")

    async def send(self, message: bytes, timeout_s: float | None = None) -> None:
        """Queue ``message``, waiting up to ``timeout_s`` (default ``send_timeout_s``) for room.

        Raises :class:`~oneteam.ledger.errors.Busy` when the queue stays full,
        :class:`LinkClosed` when the link is (or gets) closed, :class:`MessageTooLarge`.
        """
        if len(message) > MAX_MESSAGE_BYTES:
            raise MessageTooLarge(f"message of {len(message)} bytes exceeds the limit of "
                                  f"{MAX_MESSAGE_BYTES} bytes")
        self._check_open()
        timeout = self.limits.send_timeout_s if timeout_s is None else timeout_s
        try:
            async with asyncio.timeout(timeout):
                await self._outbox.put((FrameKind.DATA, bytes(message)))
        except TimeoutError:
            raise Busy(f"send queue to {self.peer_key.hex()[:16]} stayed full for "
                       f"{timeout}s") from None
        if self.closed:  # closed while waiting: the queue was discarded
            raise LinkClosed(f"link to {self.peer_key.hex()} closed: {self.close_reason}")

    def try_send(self, message: bytes) -> bool:
        """Queue ``message`` if there is room now; False when the queue is full."""
        if len(message) > MAX_MESSAGE_BYTES:
            raise MessageTooLarge(f"message of {len(message)} bytes exceeds the limit of "
                                  f"{MAX_MESSAGE_BYTES} bytes")
        self._check_open()
        try:
            self._outbox.put_nowait((FrameKind.DATA, bytes(message)))
        except asyncio.QueueFull:
            return False
        return True

    async def _write_loop(self) -> None:
        try:
            while True:
                try:
                    async with asyncio.timeout(self.limits.keepalive_s):
                        kind, body = await self._outbox.get()
                except TimeoutError:
                    kind, body = FrameKind.PING, b""
                self._writer.write(self._sealer.seal(kind, body))
                async with asyncio.timeout(self.limits.write_timeout_s):
                    await self._writer.drain()
        except TimeoutError:
            self._shutdown(f"peer did not read for {self.limits.write_timeout_s}s",
                           goodbye=False)
        except NonceExhausted as error:
            self._shutdown(error.reason, goodbye=False)
        except (OSError, RuntimeError) as error:
            self._shutdown(f"write failed: {error!r}", goodbye=False)

    # -- receiving -------------------------------------------------------------------------------

    async def recv(self, timeout_s: float | None = None) -> bytes:
        """The next message from the peer, waiting up to ``timeout_s`` (default
        ``recv_timeout_s``; raises :class:`TimeoutError`).

        Messages that arrived before the peer closed the link are still delivered;
        then :class:`LinkClosed` is raised. Nothing is delivered once the peer has left
        the validator set, nor after :meth:`close`.
        """
        timeout = self.limits.recv_timeout_s if timeout_s is None else timeout_s
        async with asyncio.timeout(timeout):
            while not self._inbox:
                if self.closed:
                    raise LinkClosed(f"link to {self.peer_key.hex()} is closed: "
                                     f"{self.close_reason}")
                self._readable.clear()
                await self._readable.wait()
        message = self._inbox.popleft()
        self._room.set()
        if not self._is_authorized(self.peer_key):
            self._shutdown("peer is no longer in the validator set", goodbye=True,
                           discard=True)
            raise LinkClosed(f"peer {self.peer_key.hex()} is no longer in the validator set")
        return message

    async def _deliver(self, message: bytes) -> None:
        while len(self._inbox) >= self.limits.recv_queue_max:
            self._room.clear()
            async with asyncio.timeout(self.limits.recv_stall_timeout_s):
                await self._room.wait()
        self._inbox.append(message)
        self._readable.set()

    async def _read_loop(self) -> None:
        reader, opener, idle = self._reader, self._opener, self.limits.idle_timeout_s
        try:
            while True:
                async with asyncio.timeout(idle):
                    prefix = await reader.readexactly(LENGTH_PREFIX_BYTES)
                length = opener.length(prefix)  # refused before reading the body
                async with asyncio.timeout(idle):
                    ciphertext = await reader.readexactly(length)
                kind, body = opener.open(prefix, ciphertext)
                self.last_heard = time.monotonic()
                if kind is FrameKind.PING:
                    continue
                if kind is FrameKind.CLOSE:
                    text = body.decode("utf-8", "replace")
                    self._shutdown(f"peer closed the link: {text}", goodbye=False)
                    return
                if not self._is_authorized(self.peer_key):
                    self._shutdown("peer is no longer in the validator set", goodbye=True,
                                   discard=True)
                    return
                try:
                    await self._deliver(body)
                except TimeoutError:
                    self._shutdown(f"receive queue full for {self.limits.recv_stall_timeout_s}s",
                                   goodbye=True)
                    return
        except TimeoutError:
            self._shutdown(f"nothing received for {idle}s", goodbye=False)
        except asyncio.IncompleteReadError:
            self._shutdown("peer closed the connection", goodbye=False)
        except P2PError as error:
            log.info("dropping link %r: %s", self, error.reason)
            self._shutdown(f"{error.code}: {error.reason}", goodbye=False)
        except OSError as error:
            self._shutdown(f"read failed: {error!r}", goodbye=False)

    # -- closing ---------------------------------------------------------------------------------

    def close(self, reason: str = "closed by its owner") -> None:
        """Close the link now: unsent and undelivered messages are discarded, and the
        peer is told ``reason`` in a close frame, on a best-effort basis. Idempotent."""
        self._shutdown(reason, goodbye=True, discard=True)

    def _shutdown(self, reason: str, *, goodbye: bool, discard: bool = False) -> None:
        if discard:
            self._inbox.clear()
        if self.closed:
            return
        self.close_reason = reason
        self._closed.set()
        self._readable.set()
        self._room.set()
        log.debug("link %r closed: %s", self, reason)
        current = asyncio.current_task()
        for task in (self._read_task, self._write_task):
            if task is not current:
                task.cancel()
        while not self._outbox.empty():
            self._outbox.get_nowait()
        transport = self._writer.transport
        if goodbye and not transport.is_closing():
            text = reason.encode("utf-8", "replace")[:MAX_CLOSE_REASON_BYTES]
            with contextlib.suppress(P2PError, OSError, RuntimeError):
                self._writer.write(self._sealer.seal(FrameKind.CLOSE, text))
        _close_writer(self._writer, self.limits.close_timeout_s)

    async def wait_closed(self, timeout_s: float | None = None) -> None:
        """Wait until the link is closed and its tasks have ended."""
        timeout = self.limits.close_timeout_s * 5 if timeout_s is None else timeout_s
        async with asyncio.timeout(timeout):
            await self._closed.wait()
            await asyncio.gather(self._read_task, self._write_task, return_exceptions=True)

    async def wait_until_closed(self, timeout_s: float) -> bool:
        """True once the link is closed; False if it is still open after ``timeout_s``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._closed.wait()
        return self.closed


# -- dialing and serving ------------------------------------------------------------------------


async def connect(
    host: str,
    port: int,
    identity: KeyPair,
    chain_id: str,
    is_authorized: IsAuthorized,
    *,
    expected_peer: bytes | None = None,
    timeout_s: float = 10.0,
    limits: LinkLimits = DEFAULT_LIMITS,
) -> PeerLink:
    """Dial ``host:port``, run the handshake as initiator, return the running link.

    Raises :class:`HandshakeError` (or :class:`PeerRefused`, its subclass, when the
    responder refused) and :class:`PeerUnreachable` (no TCP connection, a timeout, or
    the peer hung up); ``timeout_s`` bounds connecting and the handshake together.
    """
    handshake = Handshake(Role.INITIATOR, identity, chain_id, is_authorized,
                          expected_peer=expected_peer)
    peer = f"{host}:{port}"
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError) as error:
        raise PeerUnreachable(f"cannot connect to {peer}: {error!r}") from None
    try:
        async with asyncio.timeout(timeout_s):
            session = await _run_handshake(reader, writer, handshake, limits, peer)
    except TimeoutError:
        writer.transport.abort()
        raise PeerUnreachable(f"handshake with {peer} timed out after {timeout_s}s") from None
    except HandshakeError:
        _close_writer(writer, limits.close_timeout_s)
        raise
    except BaseException:
        writer.transport.abort()
        raise
    return PeerLink(reader, writer, session, local_key=identity.public_key,
                    is_authorized=is_authorized, limits=limits)


class PeerServer:
    """A listening socket that runs the responder handshake for each connection.

    ``refusals`` counts failed inbound handshakes by reason (``Refusal`` names, plus
    ``"unreachable"`` for timeouts and hang-ups); ``accepted`` counts links handed to
    ``on_link``.
    """

    def __init__(self, identity: KeyPair, chain_id: str, is_authorized: IsAuthorized,
                 on_link: Callable[[PeerLink], None], limits: LinkLimits) -> None:
        self.identity = identity
        self.chain_id = chain_id
        self.limits = limits
        self._is_authorized = is_authorized
        self._on_link = on_link
        self._server: asyncio.Server | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self.refusals: collections.Counter[str] = collections.Counter()
        self.accepted = 0

    @property
    def pending_handshakes(self) -> int:
        return len(self._pending)

    @property
    def address(self) -> Address:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the server is not listening")
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def _listen(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, host, port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _describe(writer)
        task = asyncio.current_task()
        if len(self._pending) >= self.limits.max_pending_handshakes or task is None:
            self.refusals[Refusal.BUSY.name] += 1
            writer.write(_frame(refusal_message(Refusal.BUSY, "too many pending handshakes")))
            _close_writer(writer, self.limits.close_timeout_s)
            return
        self._pending.add(task)
        try:
            handshake = Handshake(Role.RESPONDER, self.identity, self.chain_id,
                                  self._is_authorized)
            session = await _run_handshake(reader, writer, handshake, self.limits, peer)
        except HandshakeError as error:
            self.refusals[error.refusal.name] += 1
            log.info("refused inbound handshake from %s: %s", peer, error.reason)
            _close_writer(writer, self.limits.close_timeout_s)
            return
        except PeerUnreachable as error:
            self.refusals["unreachable"] += 1
            log.info("inbound handshake from %s failed: %s", peer, error.reason)
            writer.transport.abort()
            return
        except asyncio.CancelledError:
            writer.transport.abort()
            raise
        except Exception:
            self.refusals["error"] += 1
            log.exception("inbound handshake from %s failed unexpectedly", peer)
            writer.transport.abort()
            return
        finally:
            self._pending.discard(task)
        link = PeerLink(reader, writer, session, local_key=self.identity.public_key,
                        is_authorized=self._is_authorized, limits=self.limits)
        self.accepted += 1
        try:
            self._on_link(link)
        except Exception:
            log.exception("on_link failed for %r; closing it", link)
            link.close("internal error")

    def close(self) -> None:
        """Stop listening and abandon pending handshakes; established links are the
        owner's (``on_link``) to close."""
        if self._server is not None:
            self._server.close()
        for task in list(self._pending):
            task.cancel()

    async def wait_closed(self, timeout_s: float = 5.0) -> None:
        async with asyncio.timeout(timeout_s):
            if self._pending:
                await asyncio.gather(*self._pending, return_exceptions=True)
            if self._server is not None:
                await self._server.wait_closed()


async def serve(
    host: str,
    port: int,
    identity: KeyPair,
    chain_id: str,
    is_authorized: IsAuthorized,
    *,
    on_link: Callable[[PeerLink], None],
    limits: LinkLimits = DEFAULT_LIMITS,
) -> PeerServer:
    """Listen on ``host:port`` (0: an ephemeral port, see :attr:`PeerServer.address`).

    Each inbound connection runs the responder handshake under
    ``limits.handshake_timeout_s``; at most ``limits.max_pending_handshakes`` run at
    once (more are refused as busy). Each established link is passed to ``on_link``,
    which owns it from then on. Failures never stop the server.
    """
    server = PeerServer(identity, chain_id, is_authorized, on_link, limits)
    await server._listen(host, port)
    return server


# -- the network of validators ------------------------------------------------------------------


def _keep_new(new: PeerLink, old: PeerLink, stale_after_s: float) -> bool:
    """Which of two links to the same peer to keep (P2P.md §7.2); True: the new one.

    Same dialer: the new link (the dialer reconnected, so the old one is dead at its
    end). Different dialers: the link dialed by the lower key (byte-wise), which both
    ends compute alike; unless nothing was heard on the old link for ``stale_after_s``,
    a sign that the peer restarted without closing it, and then the new link.
    """
    if new.initiator_key == old.initiator_key:
        return True
    if old.silent_s > stale_after_s:
        return True
    return new.initiator_key < old.initiator_key


class Network:
    """One link per authorized peer, dialed from an address book or accepted inbound.

    ``is_authorized`` must reflect the current validator set; after the set changes,
    call :meth:`revalidate` to close links of removed peers (messages from a removed
    peer are never delivered, even before that call).
    """

    def __init__(
        self,
        identity: KeyPair,
        chain_id: str,
        is_authorized: IsAuthorized,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        address_book: Mapping[bytes, Address] | None = None,
        limits: LinkLimits = DEFAULT_LIMITS,
        dial_timeout_s: float = 5.0,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 10.0,
        inbox_max: int = 1024,
        recheck_s: float = 1.0,
    ) -> None:
        if not 0 < backoff_initial_s <= backoff_max_s:
            raise ValueError("need 0 < backoff_initial_s <= backoff_max_s")
        if inbox_max < 1:
            raise ValueError("inbox_max must be at least 1")
        self.identity = identity
        self.chain_id = chain_id
        self.limits = limits
        self._is_authorized = is_authorized
        self._host = host
        self._port = port
        self._book: dict[bytes, Address] = dict(address_book or {})
        self._dial_timeout_s = dial_timeout_s
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._recheck_s = recheck_s
        self._links: dict[bytes, PeerLink] = {}
        self._pumps: dict[PeerLink, asyncio.Task[None]] = {}
        self._dialers: dict[bytes, asyncio.Task[None]] = {}
        self._inbox: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue(inbox_max)
        self._changed = asyncio.Event()
        self._server: PeerServer | None = None
        self._stopping = False
        self._random = random.Random()
        self.dialing = 0  # connect() calls in flight

    @property
    def public_key(self) -> bytes:
        return self.identity.public_key

    @property
    def address(self) -> Address:
        if self._server is None:
            raise RuntimeError("the network is not started")
        return self._server.address

    @property
    def server(self) -> PeerServer | None:
        return self._server

    def links(self) -> dict[bytes, PeerLink]:
        """The open links, by peer key (a snapshot)."""
        return {peer: link for peer, link in self._links.items() if not link.closed}

    @property
    def connected(self) -> frozenset[bytes]:
        return frozenset(self.links())

    async def start(self) -> None:
        """Listen for inbound links and start dialing the address book."""
        if self._server is not None:
            raise RuntimeError("the network is already started")
        self._server = await serve(self._host, self._port, self.identity, self.chain_id,
                                   self._is_authorized, on_link=self._register,
                                   limits=self.limits)
        self._port = self._server.address[1]
        self.set_address_book(self._book)

    def set_address_book(self, book: Mapping[bytes, Address]) -> None:
        """Replace the address book: dial new peers, stop dialing removed ones (their
        links, if any, stay open until they close or :meth:`revalidate` closes them)."""
        self._book = {key: addr for key, addr in book.items() if key != self.public_key}
        if self._server is None or self._stopping:
            return
        for peer in list(self._dialers):
            if peer not in self._book:
                self._dialers.pop(peer).cancel()
        for peer in sorted(self._book):
            if peer not in self._dialers or self._dialers[peer].done():
                self._dialers[peer] = asyncio.create_task(self._dial_loop(peer),
                                                          name=f"p2p-dial-{peer.hex()[:16]}")

    def add_peer(self, peer: bytes, address: Address) -> None:
        self.set_address_book({**self._book, peer: address})

    def revalidate(self) -> list[bytes]:
        """Close every link whose peer is no longer authorized; return their keys."""
        removed = []
        for peer, link in sorted(self._links.items()):
            if not self._is_authorized(peer):
                link.close("peer is no longer in the validator set")
                removed.append(peer)
        return removed

    async def stop(self) -> None:
        """Stop dialing and listening, close every link, wait for the tasks to end."""
        self._stopping = True
        dialers = list(self._dialers.values())
        self._dialers.clear()
        for task in dialers:
            task.cancel()
        if self._server is not None:
            self._server.close()
        links = list(self._pumps)
        for link in links:
            link.close("network stopping")
        pumps = list(self._pumps.values())
        for task in pumps:
            task.cancel()  # a pump may be waiting for room in the inbox
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.limits.close_timeout_s * 5):
                await asyncio.gather(*dialers, *pumps, return_exceptions=True)
        for link in links:
            with contextlib.suppress(TimeoutError):
                await link.wait_closed()
        if self._server is not None:
            await self._server.wait_closed()

    # -- messages --------------------------------------------------------------------------------

    async def send_to(self, peer: bytes, message: bytes, timeout_s: float | None = None) -> None:
        """Queue ``message`` for ``peer``; :class:`NotConnected` when there is no link."""
        link = self._links.get(peer)
        if link is None or link.closed:
            raise NotConnected(f"no link to {peer.hex()}")
        try:
            await link.send(message, timeout_s)
        except LinkClosed as error:
            raise NotConnected(f"no link to {peer.hex()}: {error.reason}") from None

    async def broadcast(self, message: bytes, timeout_s: float | None = None) -> list[bytes]:
        """Queue ``message`` for every connected peer at once; return the peers reached.

        A peer whose queue stays full for ``timeout_s`` (default ``send_timeout_s``)
        or whose link closes is skipped.
        """
        if len(message) > MAX_MESSAGE_BYTES:
            raise MessageTooLarge(f"message of {len(message)} bytes exceeds the limit of "
                                  f"{MAX_MESSAGE_BYTES} bytes")
        targets = sorted(self.links().items())
        results = await asyncio.gather(*(link.send(message, timeout_s) for _, link in targets),
                                       return_exceptions=True)
        reached = []
        for (peer, _), result in zip(targets, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, P2PError | Busy):
                    raise result
                log.info("broadcast skipped %s: %s", peer.hex()[:16], result)
            else:
                reached.append(peer)
        return reached

    async def recv(self, timeout_s: float) -> tuple[bytes, bytes]:
        """The next ``(peer_key, message)`` from any peer; :class:`TimeoutError` after
        ``timeout_s``. Messages from peers no longer authorized are dropped here."""
        async with asyncio.timeout(timeout_s):
            while True:
                peer, message = await self._inbox.get()
                if self._is_authorized(peer):
                    return peer, message
                log.info("dropped a message from %s: no longer a validator", peer.hex()[:16])

    async def wait_connected(self, peers: frozenset[bytes] | set[bytes],
                             timeout_s: float) -> None:
        """Wait until a link to each of ``peers`` is open; :class:`TimeoutError` otherwise."""
        async with asyncio.timeout(timeout_s):
            while not set(peers) <= self.connected:
                self._changed.clear()
                await self._changed.wait()

    # -- internals -------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()

    def _register(self, link: PeerLink) -> None:
        """Adopt an established link (inbound or dialed), resolving duplicates."""
        peer = link.peer_key
        if self._stopping:
            link.close("network stopping")
            return
        if not self._is_authorized(peer):
            link.close("peer is not in the validator set")
            return
        current = self._links.get(peer)
        if current is not None and not current.closed:
            if not _keep_new(link, current, 2 * self.limits.keepalive_s):
                link.close("duplicate link; the other one is kept")
                return
            current.close("duplicate link; replaced by a newer or preferred one")
        self._links[peer] = link
        self._pumps[link] = asyncio.create_task(self._pump(link),
                                                name=f"p2p-pump-{peer.hex()[:16]}")
        self._notify()

    async def _pump(self, link: PeerLink) -> None:
        peer = link.peer_key
        try:
            while True:
                try:
                    message = await link.recv(self._recheck_s)
                except TimeoutError:
                    continue
                except LinkClosed:
                    return
                try:
                    async with asyncio.timeout(self.limits.recv_stall_timeout_s):
                        await self._inbox.put((peer, message))
                except TimeoutError:
                    link.close("the node is not consuming messages")
                    return
        finally:
            if self._links.get(peer) is link:
                del self._links[peer]
            self._pumps.pop(link, None)
            self._notify()

    def _backoff(self, delay: float) -> float:
        return delay * self._random.uniform(0.5, 1.0)

    async def _dial_once(self, peer: bytes, address: Address) -> PeerLink | None:
        self.dialing += 1
        try:
            return await connect(address[0], address[1], self.identity, self.chain_id,
                                 self._is_authorized, expected_peer=peer,
                                 timeout_s=self._dial_timeout_s, limits=self.limits)
        except P2PError as error:
            log.debug("dial %s at %s:%s failed: %s", peer.hex()[:16], *address, error)
            return None
        finally:
            self.dialing -= 1

    async def _dial_loop(self, peer: bytes) -> None:
        delay = self._backoff_initial_s
        while not self._stopping:
            link = self._links.get(peer)
            if link is not None and not link.closed:
                if await link.wait_until_closed(self._recheck_s):
                    lived = time.monotonic() - link.opened_at
                    if lived >= self._backoff_max_s:
                        delay = self._backoff_initial_s
                    await asyncio.sleep(self._backoff(delay))
                continue
            address = self._book.get(peer)
            if address is None:
                return
            if not self._is_authorized(peer):
                await asyncio.sleep(self._recheck_s)
                continue
            dialed = await self._dial_once(peer, address)
            if dialed is None:
                await asyncio.sleep(self._backoff(delay))
                delay = min(delay * 2, self._backoff_max_s)
                continue
            link = dialed
            if self._stopping:
                link.close("network stopping")
                return
            self._register(link)
            if link.closed:  # lost to an existing link
                continue
            delay = min(delay * 2, self._backoff_max_s)

