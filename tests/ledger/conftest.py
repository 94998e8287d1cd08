"""Shared helpers for the ledger tests: a small alliance, its signers, and a served node.

Everything is deterministic: every key is derived from a fixed seed, so a failing
hypothesis example replays exactly. pytest-asyncio is not used; async code runs
through :func:`run` (``asyncio.run`` with a time limit) inside ordinary tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pytest
from aiohttp import web

from oneteam.ledger.api import make_app
from oneteam.ledger.client import Account
from oneteam.ledger.execution import BlockResult, Receipt, execute_block
from oneteam.ledger.genesis import Genesis, GenesisMember
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.node import Node, NodeConfig
from oneteam.ledger.tx import SIGNING_DOMAIN, SignedTx, Transaction, decode_and_verify

T = TypeVar("T")

CHAIN_ID = "oneteam-test"
RUN_TIMEOUT_S = 20.0

# org id -> (roles, genesis credits). "alpha" is the operator; "delta" holds no credits.
DEFAULT_MEMBERS: dict[str, tuple[list[str], int]] = {
    "alpha": (["operator", "provider"], 1_000_000),
    "beta": (["provider"], 1_000),
    "gamma": (["issuer"], 500),
    "delta": ([], 0),
}

_encoder = msgspec.msgpack.Encoder()


def keypair_for(label: str) -> KeyPair:
    """A deterministic key pair, distinct for every label."""
    return KeyPair.from_seed(hashlib.sha256(b"oneteam-test-key:" + label.encode()).digest())


@dataclass(slots=True)
class Chain:
    """A genesis document together with the private keys behind it."""

    genesis: Genesis
    keys: dict[str, KeyPair]
    validator: KeyPair

    @property
    def chain_id(self) -> str:
        return self.genesis.chain_id

    @property
    def orgs(self) -> list[str]:
        return [member.org for member in self.genesis.members]

    def account(self, org: str, nonce: int = 0, keypair: KeyPair | None = None) -> Account:
        """A signer for ``org`` (its genesis key unless ``keypair`` is given)."""
        return Account(keypair or self.keys[org], org, self.chain_id, nonce)

    def accounts(self) -> dict[str, Account]:
        return {org: self.account(org) for org in self.orgs}


def make_chain(
    members: dict[str, tuple[list[str], int]] | None = None, *, chain_id: str = CHAIN_ID
) -> Chain:
    """A genesis with ``members`` (default :data:`DEFAULT_MEMBERS`), one key each."""
    members = DEFAULT_MEMBERS if members is None else members
    keys = {org: keypair_for(f"{chain_id}/{org}") for org in members}
    validator = keypair_for(f"{chain_id}/validator")
    genesis = Genesis(
        chain_id=chain_id,
        members=[
            GenesisMember(org=org, name=f"{org.title()} Org", keys=[keys[org].public_key.hex()],
                          roles=list(roles), credits=credits)
            for org, (roles, credits) in members.items()
        ],
        validators=[validator.public_key.hex()],
    )
    return Chain(genesis, keys, validator)


@pytest.fixture
def chain() -> Chain:
    """The default four-member alliance."""
    return make_chain()


@pytest.fixture
def accounts(chain: Chain) -> dict[str, Account]:
    """One :class:`Account` per member org, each starting at nonce 0."""
    return chain.accounts()


# -- executing blocks on a dict -------------------------------------------------------------------


@dataclass(slots=True)
class DictState:
    """A dict-backed state reader; :meth:`apply` merges a block's writes (None deletes)."""

    data: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def apply(self, writes: dict[str, Any]) -> None:
        for key, value in writes.items():
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value

    def copy(self) -> DictState:
        return DictState(dict(self.data))


def genesis_state(chain: Chain) -> DictState:
    return DictState(dict(chain.genesis.state_writes()))


def decode(chain: Chain, wires: Iterable[bytes]) -> list[Transaction]:
    """Decode and verify wires as the node's admission would."""
    return [decode_and_verify(wire, chain.chain_id) for wire in wires]


def run_block(
    state: DictState,
    txs: Sequence[Transaction],
    *,
    height: int = 1,
    workers: int = 1,
    apply: bool = True,
) -> BlockResult:
    """Execute one block with checked contexts; merge its writes into ``state`` if ``apply``."""
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            result = execute_block(state, height, txs, pool=pool, workers=workers, checked=True)
    else:
        result = execute_block(state, height, txs, checked=True)
    if apply:
        state.apply(result.writes)
    return result


@dataclass(slots=True)
class Sim:
    """A chain executed on a dict: each :meth:`block` runs the next height, checked."""

    chain: Chain
    state: DictState
    height: int = 0

    @classmethod
    def start(cls, chain: Chain) -> Sim:
        return cls(chain, genesis_state(chain))

    def block(self, *wires: bytes, workers: int = 1) -> list[Receipt]:
        """Execute ``wires`` as the next block, merge its writes, return its receipts."""
        self.height += 1
        return run_block(self.state, decode(self.chain, wires), height=self.height,
                         workers=workers).receipts

    def one(self, wire: bytes) -> Receipt:
        """Execute one transaction as a block of its own."""
        [receipt] = self.block(wire)
        return receipt

    def get(self, key: str) -> Any:
        return self.state.get(key)


def sign_body(keypair: KeyPair, body: bytes) -> bytes:
    """Wrap arbitrary body bytes in a correctly signed wire (for hand-made bodies)."""
    return _encoder.encode(SignedTx(body=body, signature=keypair.sign(SIGNING_DOMAIN + body)))


# -- async helpers and a served node --------------------------------------------------------------


def run(coro: Coroutine[Any, Any, T], timeout_s: float = RUN_TIMEOUT_S) -> T:
    """Run ``coro`` in a fresh event loop, failing the test rather than hanging."""
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


@dataclass(slots=True)
class Served:
    node: Node
    url: str
    chain: Chain


@contextlib.asynccontextmanager
async def serve_node(
    data_dir: Path, chain: Chain, **config: Any
) -> AsyncIterator[Served]:
    """Start a checked node and its HTTP API on 127.0.0.1 at an ephemeral port."""
    settings: dict[str, Any] = {"block_interval_ms": 10, "verify_workers": 2, "checked": True}
    settings.update(config)
    node = Node(NodeConfig(data_dir=data_dir, **settings), chain.genesis, chain.validator)
    await node.start()
    runner = web.AppRunner(make_app(node), access_log=None, shutdown_timeout=1.0)
    try:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield Served(node, f"http://{host}:{port}", chain)
    finally:
        # Stopping the node first ends open block streams, so the runner need not wait.
        await node.stop()
        await runner.cleanup()


@pytest.fixture
def serve(
    tmp_path: Path, chain: Chain
) -> Callable[..., contextlib.AbstractAsyncContextManager[Served]]:
    """``async with serve(**config) as served``: the default chain's node in this test's loop."""

    def factory(**config: Any) -> contextlib.AbstractAsyncContextManager[Served]:
        return serve_node(tmp_path / "node", chain, **config)

    return factory
