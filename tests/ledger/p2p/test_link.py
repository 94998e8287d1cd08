"""Peer links on 127.0.0.1: authorization, encryption, limits, and hostile peers."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from oneteam.ledger.errors import Busy
from oneteam.ledger.p2p.errors import (
    HandshakeError,
    LinkClosed,
    MessageTooLarge,
    PeerRefused,
    PeerUnreachable,
    Refusal,
)
from oneteam.ledger.p2p.framing import LENGTH, MAX_MESSAGE_BYTES, FrameKind
from oneteam.ledger.p2p.handshake import Handshake, Role, refusal_message
from oneteam.ledger.p2p.link import PeerLink, connect

from ..conftest import run
from .conftest import (
    CHAIN,
    FAST,
    RawPeer,
    ValidatorSet,
    allow_all,
    node_key,
    raw_connect,
    raw_handshake,
    read_message,
    read_until_eof,
    serving,
    write_message,
)

ALICE = node_key("alice")
BOB = node_key("bob")
MALLORY = node_key("mallory")  # not a validator

TIMEOUT = 5.0


def test_two_validators_exchange_messages_both_ways() -> None:
    validators = ValidatorSet.of(ALICE, BOB)

    async def scenario() -> None:
        async with serving(BOB, validators) as (server, accepted):
            link = await connect(*server.address, ALICE, CHAIN, validators.is_authorized,
                                 expected_peer=BOB.public_key, timeout_s=TIMEOUT, limits=FAST)
            inbound = await asyncio.wait_for(accepted.get(), TIMEOUT)
            assert link.peer_key == BOB.public_key and inbound.peer_key == ALICE.public_key
            assert link.session_id == inbound.session_id
            assert link.initiator_key == inbound.initiator_key == ALICE.public_key
            assert link.outbound and not inbound.outbound
            for i in range(50):
                await link.send(b"a->b %d" % i)
                await inbound.send(b"b->a %d" % i)
            assert [await inbound.recv() for _ in range(50)] == [b"a->b %d" % i
                                                                  for i in range(50)]
            assert [await link.recv() for _ in range(50)] == [b"b->a %d" % i for i in range(50)]
            await link.send(b"x" * 1_000_000)  # a large message crosses in one piece
            assert await inbound.recv() == b"x" * 1_000_000
            with pytest.raises(TimeoutError):
                await link.recv(timeout_s=0.05)
            with pytest.raises(MessageTooLarge):
                await link.send(bytes(MAX_MESSAGE_BYTES + 1))
            link.close("done")
            with pytest.raises(LinkClosed, match="done"):
                await inbound.recv()
            with pytest.raises(LinkClosed):
                await link.send(b"after close")
            await link.wait_closed()
            assert server.accepted == 1 and not server.refusals

    run(scenario())


def test_unauthorized_node_cannot_connect_to_a_validator() -> None:
    validators = ValidatorSet.of(ALICE, BOB)

    async def scenario() -> None:
        async with serving(BOB, validators) as (server, accepted):
            with pytest.raises(PeerRefused) as refused:
                # Mallory's crypto is fine and she accepts anyone; Bob's set lacks her.
                await connect(*server.address, MALLORY, CHAIN, allow_all, timeout_s=TIMEOUT,
                              limits=FAST)
            assert refused.value.refusal is Refusal.UNAUTHORIZED
            assert "not in the current validator set" in refused.value.reason
            assert server.refusals == {"UNAUTHORIZED": 1} and server.accepted == 0
            assert accepted.empty()

    run(scenario())


def test_unauthorized_node_accepting_a_validators_dial_gets_nothing_acted_on() -> None:
    """Mallory listens and accepts anyone; Alice dials her. Alice refuses at M2, so
    Mallory never completes a handshake, never gets a link, and has no keys to send
    frames that Alice would open."""
    validators = ValidatorSet.of(ALICE, BOB)

    async def scenario() -> None:
        async with serving(MALLORY) as (rogue, rogue_links):
            with pytest.raises(HandshakeError) as error:
                await connect(*rogue.address, ALICE, CHAIN, validators.is_authorized,
                              timeout_s=TIMEOUT, limits=FAST)
            assert error.value.refusal is Refusal.UNAUTHORIZED
            assert not isinstance(error.value, PeerRefused)  # Alice's own decision
            await asyncio.sleep(0.05)
            assert rogue.accepted == 0 and rogue_links.empty()
            assert rogue.refusals == {"UNAUTHORIZED": 1}  # Mallory got Alice's refusal

    run(scenario())


def test_a_peer_removed_from_the_set_is_not_acted_on_even_before_revalidation() -> None:
    validators = ValidatorSet.of(ALICE, BOB)

    async def scenario() -> None:
        async with serving(BOB, validators) as (server, accepted):
            link = await connect(*server.address, ALICE, CHAIN, validators.is_authorized,
                                 timeout_s=TIMEOUT, limits=FAST)
            inbound = await asyncio.wait_for(accepted.get(), TIMEOUT)
            await link.send(b"while a validator")
            assert await inbound.recv() == b"while a validator"
            await link.send(b"queued before removal")
            await asyncio.sleep(0.05)  # delivered into Bob's receive queue
            validators.remove(ALICE)
            with pytest.raises(LinkClosed, match="no longer in the validator set"):
                await inbound.recv()  # checked at delivery: dropped
            assert inbound.closed
            assert await link.wait_until_closed(TIMEOUT)
            assert "no longer in the validator set" in (link.close_reason or "")

    run(scenario())


def test_handshake_refusals_reach_the_dialer() -> None:
    validators = ValidatorSet.of(ALICE, BOB)

    async def scenario() -> None:
        async with serving(BOB, validators) as (server, _):
            with pytest.raises(PeerRefused) as refused:
                await connect(*server.address, ALICE, "other-chain", validators.is_authorized,
                              timeout_s=TIMEOUT, limits=FAST)
            assert refused.value.refusal is Refusal.WRONG_CHAIN
            with pytest.raises(HandshakeError) as error:
                await connect(*server.address, ALICE, CHAIN, validators.is_authorized,
                              expected_peer=ALICE.public_key, timeout_s=TIMEOUT, limits=FAST)
            assert error.value.refusal is Refusal.UNEXPECTED_PEER
            assert server.refusals["WRONG_CHAIN"] == 1
            await asyncio.sleep(0.05)
            assert server.refusals["UNEXPECTED_PEER"] == 1  # told by Alice's refusal

    run(scenario())


def test_dialing_nobody_fails_cleanly() -> None:
    async def scenario() -> None:
        async with serving(BOB) as (server, _):
            address = server.address
        with pytest.raises(PeerUnreachable, match="cannot connect"):
            await connect(*address, ALICE, CHAIN, allow_all, timeout_s=TIMEOUT, limits=FAST)

    run(scenario())


# -- hostile and broken peers ---------------------------------------------------------------------


async def assert_server_still_serves(address: tuple[str, int],
                                     validators: ValidatorSet) -> None:
    link = await connect(*address, ALICE, CHAIN, validators.is_authorized, timeout_s=TIMEOUT,
                         limits=FAST)
    link.close()
    await link.wait_closed()


def test_garbage_and_oversized_prefixes_are_dropped_without_hurting_the_server() -> None:
    validators = ValidatorSet.of(ALICE, BOB)
    limits = dataclasses.replace(FAST, handshake_timeout_s=0.3)

    async def scenario() -> None:
        async with serving(BOB, validators, limits=limits) as (server, accepted):
            # An oversized handshake length prefix: refused before the body is read.
            peer = await raw_connect(server.address)
            peer.writer.write(b"\xff\xff\xff\xff" + b"x" * 64)
            reply = await read_until_eof(peer.reader)
            assert reply[4:12] == refusal_message(Refusal.TOO_LARGE, "")[:8]
            peer.close()
            # Plain garbage with a small length: refused as malformed.
            peer = await raw_connect(server.address)
            write_message(peer.writer, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = await read_until_eof(peer.reader)
            assert reply[4:11] == b"OTLP\x00\x01\x05" and reply[11] == Refusal.MALFORMED
            peer.close()
            # Random bytes without any framing, then silence: timed out.
            peer = await raw_connect(server.address)
            peer.writer.write(b"\x00\x00\x00\x30" + bytes(range(20)))
            assert await read_until_eof(peer.reader) == b""
            peer.close()
            # A zero-length message.
            peer = await raw_connect(server.address)
            peer.writer.write(b"\x00\x00\x00\x00")
            await read_until_eof(peer.reader)
            peer.close()
            assert server.refusals == {"TOO_LARGE": 2, "MALFORMED": 1, "unreachable": 1}
            assert accepted.empty()
            await assert_server_still_serves(server.address, validators)

    run(scenario())


async def established(address: tuple[str, int],
                      accepted: asyncio.Queue[PeerLink]) -> tuple[RawPeer, PeerLink]:
    peer = await raw_handshake(address, ALICE)
    return peer, await asyncio.wait_for(accepted.get(), TIMEOUT)


def test_oversized_frame_after_the_handshake_drops_the_link_only() -> None:
    validators = ValidatorSet.of(ALICE, BOB)

    async def scenario() -> None:
        async with serving(BOB, validators) as (server, accepted):
            peer, link = await established(server.address, accepted)
            peer.writer.write(peer.sealer.seal(FrameKind.DATA, b"fine"))
            assert await link.recv() == b"fine"
            peer.writer.write(LENGTH.pack(0xFFFFFFFF) + b"x" * 1000)
            assert await link.wait_until_closed(TIMEOUT)
            assert "exceeds the limit" in (link.close_reason or "")
            await read_until_eof(peer.reader)
            peer.close()
            await assert_server_still_serves(server.address, validators)

    run(scenario())


def test_a_forged_frame_closes_the_link() -> None:
    validators = ValidatorSet.of(ALICE, BOB)

    async def scenario() -> None:
        async with serving(BOB, validators) as (server, accepted):
            peer, link = await established(server.address, accepted)
            frame = bytearray(peer.sealer.seal(FrameKind.DATA, b"tampered in flight"))
            frame[10] ^= 0x40
            peer.writer.write(bytes(frame) + peer.sealer.seal(FrameKind.DATA, b"later"))
            with pytest.raises(LinkClosed, match="fails authentication"):
                await link.recv()
            peer.close()

    run(scenario())


def test_a_silent_peer_is_dropped_after_the_idle_timeout() -> None:
    validators = ValidatorSet.of(ALICE, BOB)
    limits = dataclasses.replace(FAST, keepalive_s=0.1, idle_timeout_s=0.3)

    async def scenario() -> None:
        async with serving(BOB, validators, limits=limits) as (server, accepted):
            peer, link = await established(server.address, accepted)
            assert await link.wait_until_closed(TIMEOUT)
            assert "nothing received" in (link.close_reason or "")
            # Bob kept pinging meanwhile: authentic, empty PING frames.
            data = await read_until_eof(peer.reader)
            (length,) = LENGTH.unpack(data[:4])
            assert peer.opener.open(data[:4], data[4:4 + length]) == (FrameKind.PING, b"")
            peer.close()

    run(scenario())


def test_keepalive_keeps_an_idle_link_open() -> None:
    validators = ValidatorSet.of(ALICE, BOB)
    limits = dataclasses.replace(FAST, keepalive_s=0.05, idle_timeout_s=0.25)

    async def scenario() -> None:
        async with serving(BOB, validators, limits=limits) as (server, accepted):
            link = await connect(*server.address, ALICE, CHAIN, validators.is_authorized,
                                 timeout_s=TIMEOUT, limits=limits)
            inbound = await asyncio.wait_for(accepted.get(), TIMEOUT)
            await asyncio.sleep(0.8)
            assert not link.closed and not inbound.closed
            await link.send(b"still here")
            assert await inbound.recv() == b"still here"
            link.close()
            await link.wait_closed()

    run(scenario())


def test_handshake_timeout_and_pending_handshake_bound() -> None:
    validators = ValidatorSet.of(ALICE, BOB)
    limits = dataclasses.replace(FAST, handshake_timeout_s=0.3, max_pending_handshakes=1)

    async def scenario() -> None:
        async with serving(BOB, validators, limits=limits) as (server, _):
            silent = await raw_connect(server.address)
            await asyncio.sleep(0.05)
            second = await raw_connect(server.address)
            message = await read_message(second.reader)
            assert message[7] == Refusal.BUSY
            second.close()
            assert await read_until_eof(silent.reader) == b""  # dropped after 0.3 s
            silent.close()
            assert server.refusals == {"BUSY": 1, "unreachable": 1}
            await assert_server_still_serves(server.address, validators)

    run(scenario())


def test_send_queue_is_bounded_and_a_peer_that_never_reads_is_dropped() -> None:
    validators = ValidatorSet.of(ALICE, BOB)
    limits = dataclasses.replace(FAST, send_queue_max=2, send_timeout_s=0.1,
                                 write_timeout_s=0.5, idle_timeout_s=30.0)

    async def scenario() -> None:
        async with serving(BOB, validators, limits=limits) as (server, accepted):
            peer, link = await established(server.address, accepted)
            big = bytes(MAX_MESSAGE_BYTES)
            sent = 0
            with pytest.raises(Busy, match="stayed full"):
                for _ in range(64):  # far more than socket buffers hold
                    await link.send(big)
                    sent += 1
            assert sent < 64 and link.pending_sends == 2
            assert not link.try_send(b"no room")
            assert await link.wait_until_closed(TIMEOUT)
            assert "did not read" in (link.close_reason or "")
            peer.close()

    run(scenario())


def test_counter_limit_closes_the_link_before_a_nonce_could_repeat() -> None:
    validators = ValidatorSet.of(ALICE, BOB)
    limits = dataclasses.replace(FAST, nonce_limit=3)

    async def scenario() -> None:
        async with serving(BOB, validators, limits=limits) as (server, accepted):
            link = await connect(*server.address, ALICE, CHAIN, validators.is_authorized,
                                 timeout_s=TIMEOUT, limits=limits)
            inbound = await asyncio.wait_for(accepted.get(), TIMEOUT)
            for i in range(3):
                await link.send(b"%d" % i)
            assert [await inbound.recv() for _ in range(3)] == [b"0", b"1", b"2"]
            await link.send(b"one too many")
            assert await link.wait_until_closed(TIMEOUT)
            assert "limit" in (link.close_reason or "")
            with pytest.raises(LinkClosed):
                await inbound.recv()

    run(scenario())


def test_responder_handshake_over_raw_streams_matches_the_sans_io_machine() -> None:
    """A hand-driven initiator (the sans-I/O machine over raw streams) interoperates with
    the asyncio responder, and its frames are understood both ways."""
    validators = ValidatorSet.of(ALICE, BOB)

    async def scenario() -> None:
        async with serving(BOB, validators) as (server, accepted):
            peer = await raw_connect(server.address)
            handshake = Handshake(Role.INITIATOR, ALICE, CHAIN, validators.is_authorized,
                                  expected_peer=BOB.public_key)
            write_message(peer.writer, handshake.start())
            write_message(peer.writer, handshake.receive(await read_message(peer.reader)) or b"")
            assert handshake.receive(await read_message(peer.reader)) is None
            peer.session = handshake.session()
            link = await asyncio.wait_for(accepted.get(), TIMEOUT)
            assert link.session_id == peer.session.session_id
            await link.send(b"to the raw peer")
            prefix = await peer.reader.readexactly(4)
            body = await peer.reader.readexactly(peer.opener.length(prefix))
            assert peer.opener.open(prefix, body) == (FrameKind.DATA, b"to the raw peer")
            peer.close()

    run(scenario())
