"""Running a node: load its data directory, serve the API, stop cleanly on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from pathlib import Path
from typing import Any

from aiohttp import web

from oneteam.ledger.api import make_app
from oneteam.ledger.genesis import Genesis, load_genesis, write_genesis
from oneteam.ledger.keys import KeyPair, read_key_file, write_key_file
from oneteam.ledger.node import Node, NodeConfig
from oneteam.ledger.validator import ConsensusEngine, ValidatorConfig

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


PEERS_FILE = "peers.json"


def read_peers(path: Path) -> dict[bytes, tuple[str, int]]:
    """The address book: ``{"<validator key hex>": "host:port", ...}``."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"peers file {path} does not exist") from None
    except ValueError as error:
        raise ValueError(f"peers file {path} is not JSON: {error}") from None
    book: dict[bytes, tuple[str, int]] = {}
    if not isinstance(document, dict):
        raise ValueError(f"peers file {path} must map validator keys to host:port")
    for key_hex, address in document.items():
        try:
            key = bytes.fromhex(key_hex)
            host, port_text = str(address).rsplit(":", 1)
            port = int(port_text)
        except ValueError:
            raise ValueError(f"peers file {path}: bad entry {key_hex!r}: {address!r}") from None
        if len(key) != 32 or not 0 < port < 65536:
            raise ValueError(f"peers file {path}: bad entry {key_hex!r}: {address!r}")
        book[key] = (host, port)
    return book


def open_engine(node: Node, *, p2p_host: str, p2p_port: int, peers_file: Path | None,
                settings: dict[str, Any] | None = None) -> ConsensusEngine | None:
    """A consensus engine when genesis names several validators; None for a single one.

    ``settings``: other :class:`ValidatorConfig` fields (batch interval and size, the
    empty-block wait, consensus timeouts)."""
    validators = tuple(bytes.fromhex(v) for v in node.genesis.validators)
    if len(validators) == 1:
        return None
    book = read_peers(peers_file or node.config.data_dir / PEERS_FILE)
    if p2p_port == 0 and node.keypair.public_key in book:
        p2p_port = book[node.keypair.public_key][1]
    return ConsensusEngine(node, ValidatorConfig(validators=validators, p2p_host=p2p_host,
                                                 p2p_port=p2p_port, peers=book,
                                                 **(settings or {})))


async def serve(node: Node, host: str, port: int, *, ready: asyncio.Event | None = None,
                stop: asyncio.Event | None = None,
                engine: ConsensusEngine | None = None) -> None:
    """Serve ``node`` until ``stop`` is set, SIGINT/SIGTERM arrives, or the node fails.

    A node that can no longer commit (``node.failed``) stops serving, and this
    raises :class:`NodeFailed` after a clean shutdown so the process exits non-zero.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await node.start(build_blocks=engine is None)
    if engine is not None:
        await engine.start()
    runner = web.AppRunner(make_app(node, engine), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    log.info("node %s serving chain %s at height %d on http://%s:%d",
             node.keypair.public_key.hex()[:16], node.chain_id, node.height, host, port)
    p2p = "" if engine is None else f" p2p={engine.p2p_address[0]}:{engine.p2p_address[1]}"
    print(f"ledger node ready: http://{host}:{port} chain={node.chain_id} height={node.height}"
          f"{p2p}", flush=True)
    if ready is not None:
        ready.set()
    waits = [asyncio.create_task(stop.wait()), asyncio.create_task(node.failed.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
        await runner.cleanup()
        if engine is not None:
            await engine.stop()
        await node.stop()
    if node.failure is not None:
        raise NodeFailed(node.failure)


class NodeFailed(RuntimeError):
    """The node stopped because it could not commit."""
