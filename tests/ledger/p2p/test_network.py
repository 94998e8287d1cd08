"""The validator network: a full mesh, broadcast, duplicate links, restarts, revalidation."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import cast

import pytest

from oneteam.ledger.keys import KeyPair
from oneteam.ledger.p2p.errors import HandshakeError, NotConnected, Refusal
from oneteam.ledger.p2p.link import Network, _keep_new, connect

from ..conftest import run
from .conftest import CHAIN, FAST, ValidatorSet, allow_all, node_key

TIMEOUT = 8.0
NODES = [node_key(f"validator-{i}") for i in range(4)]


def make_network(identity: KeyPair, validators: ValidatorSet, port: int = 0) -> Network:
    return Network(identity, CHAIN, validators.is_authorized, port=port, limits=FAST,
                   dial_timeout_s=1.0, backoff_initial_s=0.02, backoff_max_s=0.2,
                   recheck_s=0.1)


@contextlib.asynccontextmanager
async def mesh(identities: Sequence[KeyPair],
               validators: ValidatorSet) -> AsyncIterator[list[Network]]:
    """Start one network per identity, each knowing every other's address; stop all after."""
    networks = [make_network(identity, validators) for identity in identities]
    try:
        for network in networks:
            await network.start()
        book = {network.public_key: network.address for network in networks}
        for network in networks:
            network.set_address_book(book)
        yield networks
    finally:
        for network in networks:
            await network.stop()


def settled(networks: Sequence[Network]) -> bool:
    """Every pair shares one link (the same session on both ends), and no dial or inbound
    handshake is in flight that could still replace one."""
    links = [network.links() for network in networks]
    return all(
        b.public_key in links[i] and a.public_key in links[j]
        and links[i][b.public_key].session_id == links[j][a.public_key].session_id
        for (i, a), (j, b) in itertools.combinations(enumerate(networks), 2)
    ) and all(
        network.dialing == 0 and network.server is not None
        and network.server.pending_handshakes == 0
        for network in networks
    )


async def converged(networks: Sequence[Network], timeout_s: float = TIMEOUT) -> None:
    """Wait until the mesh is :func:`settled`."""
    async with asyncio.timeout(timeout_s):
        while not settled(networks):
            await asyncio.sleep(0.02)


async def broadcast_round(networks: Sequence[Network], tag: bytes) -> None:
    """Every node broadcasts once; every node hears each other node exactly once."""
    for network in networks:
        reached = await network.broadcast(tag + network.public_key)
        assert len(reached) == len(networks) - 1
    for network in networks:
        heard = sorted([await network.recv(TIMEOUT) for _ in range(len(networks) - 1)])
        expected = sorted((other.public_key, tag + other.public_key) for other in networks
                          if other is not network)
        assert heard == expected
    for network in networks:
        with pytest.raises(TimeoutError):
            await network.recv(0.02)  # nothing duplicated


def test_four_nodes_form_a_full_mesh_broadcast_and_reconnect_after_a_restart() -> None:
    validators = ValidatorSet.of(*NODES)

    async def scenario() -> None:
        async with mesh(NODES, validators) as networks:
            await converged(networks)
            await broadcast_round(networks, b"round 1 from ")
            # One peer to another, directly.
            await networks[0].send_to(NODES[3].public_key, b"direct")
            assert await networks[3].recv(TIMEOUT) == (NODES[0].public_key, b"direct")
            # Node 3 restarts on the same port.
            address = networks[3].address
            await networks[3].stop()
            for network in networks[:3]:
                async with asyncio.timeout(TIMEOUT):
                    while NODES[3].public_key in network.connected:
                        await asyncio.sleep(0.02)
            with pytest.raises(NotConnected):
                await networks[0].send_to(NODES[3].public_key, b"to nobody")
            restarted = make_network(NODES[3], validators, port=address[1])
            networks[3] = restarted
            await restarted.start()
            restarted.set_address_book({n.public_key: n.address for n in networks})
            await converged(networks)
            await broadcast_round(networks, b"round 2 from ")

    run(scenario(), timeout_s=30)


def test_simultaneous_dials_settle_on_the_link_dialed_by_the_lower_key() -> None:
    validators = ValidatorSet.of(*NODES[:2])

    async def scenario() -> None:
        for _ in range(3):  # both dial at once, every time
            async with mesh(NODES[:2], validators) as networks:
                await converged(networks)
                await asyncio.sleep(0.2)  # any loser has been closed by now
                await converged(networks)
                lower = min(NODES[0].public_key, NODES[1].public_key)
                [link] = networks[0].links().values()
                assert link.initiator_key == lower
                await broadcast_round(networks, b"once ")

    run(scenario(), timeout_s=30)


def test_revalidate_disconnects_a_removed_validator_and_keeps_it_out() -> None:
    validators = ValidatorSet.of(*NODES[:3])

    async def scenario() -> None:
        async with mesh(NODES[:3], validators) as networks:
            await converged(networks)
            removed = NODES[2]
            validators.remove(removed)
            # Before revalidation: messages from the removed node are never delivered.
            with contextlib.suppress(NotConnected):
                await networks[2].send_to(NODES[0].public_key, b"from a removed node")
            with pytest.raises(TimeoutError):
                await networks[0].recv(0.2)
            assert networks[0].revalidate() in ([], [removed.public_key])
            assert networks[1].revalidate() == [removed.public_key]
            for network in networks[:2]:
                async with asyncio.timeout(TIMEOUT):
                    while removed.public_key in network.connected:
                        await asyncio.sleep(0.02)
            # The removed node keeps dialing, and is refused every time.
            await asyncio.sleep(0.5)
            for network in networks[:2]:
                assert removed.public_key not in network.connected
                assert network.server is not None
                assert network.server.refusals["UNAUTHORIZED"] >= 1
            # The others still talk.
            await networks[0].send_to(NODES[1].public_key, b"still a mesh")
            assert await networks[1].recv(TIMEOUT) == (NODES[0].public_key, b"still a mesh")
            # Re-admitted, it reconnects.
            validators.keys.add(removed.public_key)
            await converged(networks)

    run(scenario(), timeout_s=30)


def test_unauthorized_node_never_joins_a_network() -> None:
    validators = ValidatorSet.of(*NODES[:2])
    mallory = node_key("mallory")

    async def scenario() -> None:
        async with mesh(NODES[:2], validators) as networks:
            # Mallory runs a network that accepts anyone and knows every address.
            rogue = Network(mallory, CHAIN, allow_all, limits=FAST, backoff_initial_s=0.02,
                            backoff_max_s=0.1, recheck_s=0.1)
            await rogue.start()
            try:
                # The validators also know her address and would dial her.
                for network in networks:
                    network.add_peer(mallory.public_key, rogue.address)
                rogue.set_address_book({n.public_key: n.address for n in networks})
                await converged(networks)
                await asyncio.sleep(0.5)
                assert rogue.connected == frozenset()
                for network in networks:
                    assert mallory.public_key not in network.connected
                await rogue.broadcast(b"act on this")
                for network in networks:
                    with pytest.raises(TimeoutError):
                        await network.recv(0.1)
                assert rogue.server is not None and rogue.server.accepted == 0
                with pytest.raises(HandshakeError) as error:
                    await connect(*networks[0].address, mallory, CHAIN, allow_all,
                                  timeout_s=TIMEOUT, limits=FAST)
                assert error.value.refusal is Refusal.UNAUTHORIZED
            finally:
                await rogue.stop()

    run(scenario(), timeout_s=30)


def test_address_book_changes_start_and_stop_dialing() -> None:
    validators = ValidatorSet.of(*NODES[:2])

    async def scenario() -> None:
        a, b = make_network(NODES[0], validators), make_network(NODES[1], validators)
        try:
            await a.start()
            await b.start()  # b knows nobody: only a dials
            a.add_peer(b.public_key, b.address)
            await a.wait_connected({b.public_key}, TIMEOUT)
            a.set_address_book({})
            b.links()[a.public_key].close("drop it")
            await asyncio.sleep(0.4)
            assert a.connected == frozenset() == b.connected  # nobody redials
            a.add_peer(b.public_key, b.address)  # dialing starts again
            await a.wait_connected({b.public_key}, TIMEOUT)
        finally:
            await a.stop()
            await b.stop()

    run(scenario())


@dataclass
class StubLink:
    initiator_key: bytes
    silent_s: float = 0.0


def test_duplicate_resolution_rule() -> None:
    low, high = b"\x01" * 32, b"\x02" * 32
    keep_new = cast(Callable[[StubLink, StubLink, float], bool], _keep_new)
    # different dialers: the lower dialer's link wins, whichever came first
    assert keep_new(StubLink(low), StubLink(high), 1.0)
    assert not keep_new(StubLink(high), StubLink(low), 1.0)
    # same dialer: it reconnected, the new link wins
    assert keep_new(StubLink(high), StubLink(high), 1.0)
    assert keep_new(StubLink(low), StubLink(low), 1.0)
    # an old link silent for longer than the staleness bound loses to any new link
    assert keep_new(StubLink(high), StubLink(low, silent_s=5.0), 1.0)


def test_redials_back_off_exponentially_up_to_the_bound() -> None:
    validators = ValidatorSet.of(*NODES[:2])

    async def scenario() -> None:
        attempts = 0

        async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal attempts
            attempts += 1
            writer.close()

        server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        network = make_network(NODES[0], validators)  # backoff 0.02 s doubling to 0.2 s
        try:
            await network.start()
            network.add_peer(NODES[1].public_key, server.sockets[0].getsockname()[:2])
            await asyncio.sleep(1.0)
        finally:
            await network.stop()
            server.close()
            await server.wait_closed()
        # 0.02 + 0.04 + 0.08 + 0.16 + 0.2 + ... seconds (times 0.5-1 jitter): a handful
        # of attempts in one second, not a tight loop.
        assert 4 <= attempts <= 25, attempts

    run(scenario())


def test_stop_does_not_wait_on_a_full_inbox() -> None:
    validators = ValidatorSet.of(*NODES[:2])

    async def scenario() -> None:
        a = Network(NODES[0], CHAIN, validators.is_authorized, limits=FAST, inbox_max=1)
        b = make_network(NODES[1], validators)
        await a.start()
        await b.start()
        try:
            b.add_peer(a.public_key, a.address)
            await b.wait_connected({a.public_key}, TIMEOUT)
            for i in range(5):
                await b.send_to(a.public_key, b"%d" % i)
            await asyncio.sleep(0.1)  # a's inbox is full; its pump waits for room
        finally:
            loop = asyncio.get_running_loop()
            started = loop.time()
            await a.stop()
            assert loop.time() - started < 1.0
            await b.stop()

    run(scenario())
