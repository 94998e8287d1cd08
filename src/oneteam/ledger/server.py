"""Running a node: load its data directory, serve the API, stop cleanly on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from aiohttp import web

from oneteam.ledger.api import make_app
from oneteam.ledger.genesis import Genesis, load_genesis, write_genesis
from oneteam.ledger.keys import KeyPair, read_key_file, write_key_file
from oneteam.ledger.node import Node, NodeConfig

log = logging.getLogger("oneteam.ledger.server")

GENESIS_FILE = "genesis.json"
NODE_KEY_FILE = "node_key.json"


def init_data_dir(data_dir: Path, *, chain_id: str = "oneteam-dev",
                  operator_org: str = "alliance", operator_name: str = "AI One Team 운영사무국",
                  operator_credits: int = 1_000_000_000) -> dict[str, str]:
    """Create a node's data directory: its key, an operator member's key, a genesis file.

    Refuses to touch a directory that already has a genesis file.
    """
    data_dir = Path(data_dir)
    if (data_dir / GENESIS_FILE).exists():
        raise FileExistsError(f"{data_dir / GENESIS_FILE} exists; this node is initialized")
    data_dir.mkdir(parents=True, exist_ok=True)
    node_key = KeyPair.generate()
    operator_key = KeyPair.generate()
    write_key_file(data_dir / NODE_KEY_FILE, node_key, label="validator node")
    write_key_file(data_dir / "keys" / f"{operator_org}.json", operator_key,
                   label=f"member {operator_org}")
    from oneteam.ledger.genesis import GenesisMember

    genesis = Genesis(
        chain_id=chain_id,
        members=[GenesisMember(org=operator_org, name=operator_name,
                               keys=[operator_key.public_key.hex()],
                               roles=["issuer", "operator", "provider", "validator"],
                               credits=operator_credits)],
        validators=[node_key.public_key.hex()],
    )
    write_genesis(data_dir / GENESIS_FILE, genesis)
    return {"node_key": node_key.public_key.hex(), "operator_key": operator_key.public_key.hex(),
            "chain_id": chain_id}


def open_node(data_dir: Path, **config: object) -> Node:
    data_dir = Path(data_dir)
    genesis = load_genesis(data_dir / GENESIS_FILE)
    keypair = read_key_file(data_dir / NODE_KEY_FILE)
    return Node(NodeConfig(data_dir=data_dir, **config), genesis, keypair)  # type: ignore[arg-type]


async def serve(node: Node, host: str, port: int, *, ready: asyncio.Event | None = None,
                stop: asyncio.Event | None = None) -> None:
    """Serve ``node`` until ``stop`` is set, SIGINT/SIGTERM arrives, or the node fails.

    A node that can no longer commit (``node.failed``) stops serving, and this
    raises :class:`NodeFailed` after a clean shutdown so the process exits non-zero.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await node.start()
    runner = web.AppRunner(make_app(node), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    log.info("node %s serving chain %s at height %d on http://%s:%d",
             node.keypair.public_key.hex()[:16], node.chain_id, node.height, host, port)
    print(f"ledger node ready: http://{host}:{port} chain={node.chain_id} height={node.height}",
          flush=True)
    if ready is not None:
        ready.set()
    waits = [asyncio.create_task(stop.wait()), asyncio.create_task(node.failed.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
        await runner.cleanup()
        await node.stop()
    if node.failure is not None:
        raise NodeFailed(node.failure)


class NodeFailed(RuntimeError):
    """The node stopped because it could not commit."""
