"""The block log and LMDB state survive reopening, torn tails, truncation and bit flips.

Blocks reach the store two ways here: through a real :class:`Node` run in-process
(admission, mempool, block builder, commit thread), and built by hand exactly as
``Node._execute_and_commit`` builds them, so that two stores can commit the very
same blocks.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest

from oneteam.ledger import merkle
from oneteam.ledger import store as store_module
from oneteam.ledger.blocks import (
    Block,
    Header,
    decode_block,
    encode_block,
    header_hash,
    sign_header,
)
from oneteam.ledger.contracts.credits import Transfer
from oneteam.ledger.contracts.schema import balance_key, decode_value, nonce_key
from oneteam.ledger.errors import StorageCorrupt
from oneteam.ledger.execution import (
    encode_write_set,
    execute_block,
    next_state_root,
    receipt_bytes,
)
from oneteam.ledger.genesis import Genesis, GenesisMember
from oneteam.ledger.invariants import InvariantViolation
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.node import Node, NodeConfig
from oneteam.ledger.store import Store, Tip
from oneteam.ledger.tx import decode_and_verify, encode_tx, txid_of

CHAIN_ID = "store-test"
ACCOUNTS = 6
CREDITS = 1_000_000
GHOST_ORG = "ghost"  # not a member: transfers to it fail, but consume the nonce
RECORD = struct.Struct(">II")  # the log's record header: payload length, CRC-32
WAIT_S = 10.0


def _keypair(index: int) -> KeyPair:
    return KeyPair.from_seed(hashlib.sha256(f"{CHAIN_ID}/{index}".encode()).digest())


def _org(index: int) -> str:
    return f"org-{index:02d}"


VALIDATOR = _keypair(-1)
PAIRS = [_keypair(i) for i in range(ACCOUNTS)]


def make_genesis() -> Genesis:
    return Genesis(
        chain_id=CHAIN_ID,
        members=[GenesisMember(org=_org(i), name=f"Member {i}",
                               keys=[PAIRS[i].public_key.hex()], credits=CREDITS)
                 for i in range(ACCOUNTS)],
        validators=[VALIDATOR.public_key.hex()],
    )


class Signer:
    """Signs transfers with each sender's next nonce; every seventh goes to a non-member."""

    def __init__(self) -> None:
        self.nonces = [0] * ACCOUNTS
        self.count = 0

    def transfers(self, count: int) -> list[bytes]:
        wires: list[bytes] = []
        for _ in range(count):
            sender = self.count % ACCOUNTS
            recipient = _org((sender + 1 + self.count % (ACCOUNTS - 1)) % ACCOUNTS)
            if self.count % 7 == 6:
                recipient = GHOST_ORG
            wires.append(encode_tx(PAIRS[sender], chain_id=CHAIN_ID, org=_org(sender),
                                   nonce=self.nonces[sender], op="credits.transfer",
                                   args=Transfer(to=recipient, amount=1 + self.count % 5)))
            self.nonces[sender] += 1
            self.count += 1
        return wires


# -- driving a real node in-process ------------------------------------------------------


def node_config(data_dir: Path) -> NodeConfig:
    return NodeConfig(data_dir=data_dir, block_interval_ms=5, block_txs_max=16,
                      verify_workers=2)


async def _run_node(data_dir: Path, batches: list[list[bytes]]) -> list[bytes]:
    node = Node(node_config(data_dir), make_genesis(), VALIDATOR)
    txids: list[bytes] = []
    await node.start()
    try:
        for batch in batches:
            results = await node.submit(batch)
            assert [r.code for r in results] == ["accepted"] * len(batch), results
            for result in results:
                assert result.txid is not None
                assert await node.wait_committed(result.txid, WAIT_S), "commit timed out"
                txids.append(result.txid)
    finally:
        await node.stop()
    return txids


def run_node(data_dir: Path, batches: list[list[bytes]]) -> list[bytes]:
    """Start a node on ``data_dir``, commit every batch (one after another), stop it."""
    return asyncio.run(_run_node(data_dir, batches))


def open_node(data_dir: Path) -> Node:
    return Node(node_config(data_dir), make_genesis(), VALIDATOR)


def stop_node(node: Node) -> None:
    asyncio.run(node.stop())


# -- building blocks by hand, as Node._execute_and_commit does -----------------------------


@dataclass(frozen=True)
class Prepared:
    block: Block
    block_hash: bytes
    encoded: list[tuple[bytes, bytes | None]]
    writes: dict[str, Any]
    txids: list[bytes]

    def commit_to(self, store: Store) -> None:
        store.commit(self.block, self.block_hash, self.encoded, self.writes, self.txids)


def commit_genesis(store: Store) -> None:
    block, writes = make_genesis().block()
    store.commit(block, header_hash(block.header), encode_write_set(writes), writes, [])


def prepare_block(store: Store, wires: list[bytes]) -> Prepared:
    """The next block on top of ``store`` holding ``wires``; deterministic (fixed time)."""
    tip = store.tip
    assert tip is not None
    height = tip.height + 1
    txs = [decode_and_verify(wire, CHAIN_ID) for wire in wires]
    result = execute_block(store, height, txs)
    encoded = encode_write_set(result.writes)
    header = Header(
        chain_id=CHAIN_ID,
        height=height,
        time_ms=1_700_000_000_000 + height,
        prev_hash=tip.block_hash,
        tx_root=merkle.merkle_root(wires),
        receipts_root=merkle.root_of_leaves(
            [merkle.leaf_hash(receipt_bytes(r)) for r in result.receipts]),
        state_root=next_state_root(tip.state_root, encoded),
        tx_count=len(txs),
        proposer=VALIDATOR.public_key,
    )
    block = Block(header=header, signature=sign_header(VALIDATOR, header), txs=list(wires),
                  receipts=result.receipts)
    return Prepared(block, header_hash(header), encoded, result.writes,
                    [tx.txid for tx in txs])


def reexecute(store: Store, block: Block) -> Prepared:
    """``block`` (committed elsewhere) with the writes it makes on top of ``store``."""
    txs = [decode_and_verify(wire, CHAIN_ID) for wire in block.txs]
    result = execute_block(store, block.header.height, txs)
    assert result.receipts == block.receipts
    encoded = encode_write_set(result.writes)
    tip = store.tip
    assert tip is not None
    assert next_state_root(tip.state_root, encoded) == block.header.state_root
    return Prepared(block, header_hash(block.header), encoded, result.writes,
                    [tx.txid for tx in txs])


# -- observing a store ---------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    tip: Tip
    digest: bytes
    blocks: list[bytes]
    balances: list[tuple[str, Any]]
    nonces: list[Any]


def snapshot(store: Store) -> Snapshot:
    tip = store.tip
    assert tip is not None
    blocks: list[bytes] = []
    for height in range(tip.height + 1):
        raw = store.block_bytes(height)
        assert raw is not None
        blocks.append(raw)
    return Snapshot(
        tip=tip,
        digest=store.state_digest(),
        blocks=blocks,
        balances=store.scan("c/bal/"),
        nonces=[store.get(nonce_key(pair.public_key)) for pair in PAIRS],
    )


def log_path(data_dir: Path) -> Path:
    return data_dir / "chain" / "blocks.log"


def block_offset(data_dir: Path, height: int) -> int:
    """Where the record of block ``height`` starts in the log, by walking the records."""
    data = log_path(data_dir).read_bytes()
    offset = 0
    for _ in range(height):
        length: int = RECORD.unpack_from(data, offset)[0]
        offset += RECORD.size + length
    return offset


@pytest.fixture()
def chain_dir(tmp_path: Path) -> Path:
    """A node data directory with genesis and a few blocks of transfers (some failing)."""
    signer = Signer()
    run_node(tmp_path, [signer.transfers(20), signer.transfers(30), signer.transfers(11)])
    return tmp_path


# -- tests -----------------------------------------------------------------------------------


def test_genesis_block_commits_and_reopens(tmp_path: Path) -> None:
    store = Store(tmp_path)
    try:
        assert store.height == -1 and store.tip is None
        assert store.block_bytes(0) is None
        commit_genesis(store)
        assert store.height == 0
        assert store.get(balance_key(_org(0))) == CREDITS
        before = snapshot(store)
    finally:
        store.close()
    store = Store(tmp_path)
    try:
        assert snapshot(store) == before
        block = store.block(0)
        assert block is not None and block.header == make_genesis().block()[0].header
    finally:
        store.close()


def test_reopen_gives_identical_tip_and_state(chain_dir: Path) -> None:
    node = open_node(chain_dir)
    try:
        before = snapshot(node.store)
        assert before.tip.height >= 3
        assert before.tip.log_end == log_path(chain_dir).stat().st_size
        locations = {}
        for height in range(1, before.tip.height + 1):
            block = node.store.block(height)
            assert block is not None
            for wire in block.txs:
                locations[txid_of(wire)] = node.store.tx_location(txid_of(wire))
        assert len(locations) == 61
    finally:
        stop_node(node)
    store = Store(chain_dir / "chain")
    try:
        assert snapshot(store) == before
        assert store.header(before.tip.height) == decode_block(before.blocks[-1]).header
        assert [h.height for h in store.headers(0, 1000)] == list(range(before.tip.height + 1))
        for txid, location in locations.items():
            assert store.tx_location(txid) == location
    finally:
        store.close()


def test_nonces_and_balances_after_commits(chain_dir: Path) -> None:
    store = Store(chain_dir / "chain")
    try:
        # 61 transfers round-robin over 6 senders; every one consumed its nonce.
        assert [store.get(nonce_key(p.public_key)) for p in PAIRS] == [11, 10, 10, 10, 10, 10]
        balances = [value for _key, value in store.scan("c/bal/")]
        assert len(balances) == ACCOUNTS
        assert sum(balances) == ACCOUNTS * CREDITS
        assert store.get(balance_key(GHOST_ORG)) is None
    finally:
        store.close()


def _unindexed_record(data_dir: Path) -> bytes:
    """A complete, valid record of the next block: appended and fsynced, never indexed."""
    store = Store(data_dir / "chain")
    try:
        signer = Signer()
        signer.nonces = [store.get(nonce_key(p.public_key)) or 0 for p in PAIRS]
        payload = encode_block(prepare_block(store, signer.transfers(5)).block)
    finally:
        store.close()
    return RECORD.pack(len(payload), zlib.crc32(payload)) + payload


TAILS: dict[str, Callable[[Path], bytes]] = {
    "partial_record_header": lambda d: b"\x00\x00\x01",
    "record_header_only": lambda d: RECORD.pack(500, 12345),
    "partial_payload": lambda d: _unindexed_record(d)[:-7],
    "garbage": lambda d: os.urandom(4096),
    "full_record_never_indexed": _unindexed_record,
}


@pytest.mark.parametrize("tail", sorted(TAILS))
def test_torn_tail_is_cut_off_on_reopen(chain_dir: Path, tail: str) -> None:
    store = Store(chain_dir / "chain")
    before = snapshot(store)
    store.close()
    extra = TAILS[tail](chain_dir)
    with log_path(chain_dir).open("ab") as log:
        log.write(extra)
    assert log_path(chain_dir).stat().st_size == before.tip.log_end + len(extra)

    store = Store(chain_dir / "chain")
    try:
        assert log_path(chain_dir).stat().st_size == before.tip.log_end
        assert snapshot(store) == before
        assert store.block_bytes(before.tip.height + 1) is None
    finally:
        store.close()

    # The node carries on from the same tip; the new block lands where the tail was.
    signer = Signer()
    signer.nonces = list(before.nonces)
    run_node(chain_dir, [signer.transfers(4)])
    node = open_node(chain_dir)
    try:
        after = snapshot(node.store)
        assert after.tip.height > before.tip.height
        assert after.blocks[: len(before.blocks)] == before.blocks
        assert decode_block(after.blocks[before.tip.height + 1]).header.prev_hash == (
            before.tip.block_hash)
        node.replay_check()
    finally:
        stop_node(node)


def test_unindexed_block_can_be_committed_again_after_recovery(tmp_path: Path) -> None:
    """Crash between step 1 (log append) and step 2 (LMDB commit), then retry the block."""
    store = Store(tmp_path / "chain")
    commit_genesis(store)
    signer = Signer()
    prepared = prepare_block(store, signer.transfers(9))
    payload = encode_block(prepared.block)
    store.close()
    with log_path(tmp_path).open("ab") as log:  # step 1 only
        log.write(RECORD.pack(len(payload), zlib.crc32(payload)) + payload)

    store = Store(tmp_path / "chain")
    try:
        assert store.height == 0
        prepared.commit_to(store)
        assert store.height == 1
        assert store.block_bytes(1) == payload
        assert store.tx_location(prepared.txids[-1]) is not None
    finally:
        store.close()


@pytest.mark.parametrize("cut", [1, 7, "half", "all"])
def test_log_shorter_than_committed_end_raises(chain_dir: Path, cut: int | str) -> None:
    store = Store(chain_dir / "chain")
    assert store.tip is not None
    log_end = store.tip.log_end
    store.close()
    if cut == "half":
        size = log_end // 2
    elif cut == "all":
        size = 0
    else:
        size = log_end - int(cut)
    with log_path(chain_dir).open("r+b") as log:
        log.truncate(size)
    expected = f"blocks.log has {size} bytes but committed blocks end at {log_end}"
    with pytest.raises(StorageCorrupt, match=expected) as info:
        Store(chain_dir / "chain")
    assert info.value.code == "storage_corrupt"
    # The node refuses to start on it, the same way.
    with pytest.raises(StorageCorrupt, match=expected):
        open_node(chain_dir)
    # The log is left as it was: nothing "repairs" committed history away.
    assert log_path(chain_dir).stat().st_size == size


def test_failed_open_releases_the_environment(chain_dir: Path) -> None:
    """After a StorageCorrupt on open, the directory can be opened again once repaired."""
    original = log_path(chain_dir).read_bytes()
    log_path(chain_dir).write_bytes(original[:-1])
    with pytest.raises(StorageCorrupt) as info:
        Store(chain_dir / "chain")
    # The caller still holds the error (and so its traceback) while the operator repairs.
    assert "committed blocks end at" in str(info.value)
    log_path(chain_dir).write_bytes(original)
    store = Store(chain_dir / "chain")
    try:
        assert store.tip is not None and store.tip.log_end == len(original)
    finally:
        store.close()


FLIPS: dict[str, Callable[[int], int]] = {
    "payload_middle": lambda length: RECORD.size + length // 2,
    "payload_last_byte": lambda length: RECORD.size + length - 1,
    "crc": lambda length: 5,
    "length": lambda length: 2,
}


@pytest.mark.parametrize("where", sorted(FLIPS))
def test_flipped_byte_in_block_raises(chain_dir: Path, where: str) -> None:
    victim = 2
    store = Store(chain_dir / "chain")
    before = snapshot(store)
    store.close()
    offset = block_offset(chain_dir, victim)
    length = len(before.blocks[victim])
    position = offset + FLIPS[where](length)
    with log_path(chain_dir).open("r+b") as log:
        log.seek(position)
        byte = log.read(1)
        log.seek(position)
        log.write(bytes([byte[0] ^ 0x10]))

    node = open_node(chain_dir)  # the size did not change, so it opens
    try:
        store = node.store
        assert store.tip == before.tip
        with pytest.raises(StorageCorrupt, match=f"block {victim} in .*blocks.log fails"):
            store.block_bytes(victim)
        with pytest.raises(StorageCorrupt):
            store.block(victim)
        for height, raw in enumerate(before.blocks):
            if height != victim:
                assert store.block_bytes(height) == raw
        # Asking about a transaction in that block reports the corruption too.
        txid = txid_of(decode_block(before.blocks[victim]).txs[0])
        with pytest.raises(StorageCorrupt):
            node.tx_status(txid)
        with pytest.raises(StorageCorrupt):
            node.replay_check()
        # The state itself lives in LMDB and is intact.
        assert store.state_digest() == before.digest
    finally:
        stop_node(node)


def test_state_digest_equal_across_stores_with_the_same_blocks(tmp_path: Path) -> None:
    one, two = Store(tmp_path / "one"), Store(tmp_path / "two")
    try:
        commit_genesis(one)
        commit_genesis(two)
        assert one.state_digest() == two.state_digest()
        signer = Signer()
        for size in (1, 8, 0, 25):
            prepared = prepare_block(one, signer.transfers(size))
            prepared.commit_to(one)
            assert one.state_digest() != two.state_digest() or size == 0
            reexecute(two, prepared.block).commit_to(two)
            assert one.state_digest() == two.state_digest()
            assert one.tip == two.tip
        assert snapshot(one) == snapshot(two)
    finally:
        one.close()
        two.close()


def test_state_digest_follows_a_node_committed_chain(chain_dir: Path, tmp_path: Path) -> None:
    """A second store fed the node's blocks reaches the node's digest, tip and state."""
    source = Store(chain_dir / "chain")
    copy = Store(tmp_path / "copy")
    try:
        commit_genesis(copy)
        for height in range(1, source.height + 1):
            block = source.block(height)
            assert block is not None
            reexecute(copy, block).commit_to(copy)
        expected = snapshot(source)
        assert snapshot(copy) == expected
    finally:
        source.close()
        copy.close()
    copy = Store(tmp_path / "copy")
    try:
        assert copy.state_digest() == expected.digest
        assert copy.tip == expected.tip
    finally:
        copy.close()


def test_replay_check_passes_after_commits(chain_dir: Path) -> None:
    node = open_node(chain_dir)
    try:
        assert node.height >= 3
        node.replay_check()
    finally:
        stop_node(node)


def test_replay_check_detects_a_wrong_state_root(tmp_path: Path) -> None:
    node = open_node(tmp_path)
    try:
        good = prepare_block(node.store, Signer().transfers(3))
        header = msgspec.structs.replace(good.block.header, state_root=bytes(32))
        block = msgspec.structs.replace(good.block, header=header,
                                        signature=sign_header(VALIDATOR, header))
        node.store.commit(block, header_hash(header), good.encoded, good.writes, good.txids)
        with pytest.raises(InvariantViolation, match="state root differs at height 1"):
            node.replay_check()
    finally:
        stop_node(node)


def test_commit_refuses_a_block_that_does_not_follow_the_tip(tmp_path: Path) -> None:
    store = Store(tmp_path)
    try:
        commit_genesis(store)
        prepared = prepare_block(store, Signer().transfers(2))
        prepared.commit_to(store)
        size = store.log_path.stat().st_size
        with pytest.raises(InvariantViolation, match="does not follow the tip"):
            prepared.commit_to(store)
        assert store.height == 1
        assert store.log_path.stat().st_size == size
    finally:
        store.close()


def test_cache_is_not_poisoned_by_a_read_racing_a_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that fetched a value just before a commit must not cache the old value.

    The node reads state on its event loop (admission, nonces, the state API) while
    the commit thread commits; a stale cached nonce or balance would be executed
    against in the next block.
    """
    store = Store(tmp_path)
    try:
        commit_genesis(store)
        signer = Signer()
        prepared = prepare_block(store, signer.transfers(1))
        key = balance_key(_org(0))
        old = store.get(key)
        store._cache.clear()  # the reader misses the cache and goes to LMDB
        raced = threading.Event()

        def decode_then_commit(state_key: str, data: bytes) -> Any:
            value = decode_value(state_key, data)
            if state_key == key and not raced.is_set():
                raced.set()  # the read already happened; now the commit thread runs
                thread = threading.Thread(target=prepared.commit_to, args=(store,))
                thread.start()
                thread.join(WAIT_S)
            return value

        monkeypatch.setattr(store_module, "decode_value", decode_then_commit)
        assert store.get(key) == old  # a consistent read from just before the commit
        assert raced.is_set() and store.height == 1
        monkeypatch.undo()
        new = prepared.writes[key]
        assert new != old
        assert store.get(key) == new
    finally:
        store.close()


def test_a_transaction_indexed_by_a_commit_in_progress_has_its_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the LMDB commit and the in-memory tip update, an indexed tx has its block.

    The node's event loop answers ``GET /v1/tx/{id}`` and ``/wait`` while the commit
    thread commits; the transaction index is read from LMDB, so the block it points
    at must be readable too (found by the crash test as an HTTP 500 on ``/wait``).
    """
    node = open_node(tmp_path)
    try:
        prepared = prepare_block(node.store, Signer().transfers(3))
        reached, release = threading.Event(), threading.Event()
        real_tip = store_module.Tip

        def tip_after_a_pause(*args: Any) -> Tip:
            reached.set()  # LMDB has committed; the new tip is not published yet
            release.wait(WAIT_S)
            return real_tip(*args)

        monkeypatch.setattr(store_module, "Tip", tip_after_a_pause)
        thread = threading.Thread(target=prepared.commit_to, args=(node.store,))
        thread.start()
        try:
            assert reached.wait(WAIT_S)
            txid = prepared.txids[1]
            location = node.store.tx_location(txid)
            assert location is not None and location.height == 1
            assert node.store.block_bytes(1) == encode_block(prepared.block)
            status = node.tx_status(txid)
            assert status["status"] == "committed" and status["height"] == 1
        finally:
            release.set()
            thread.join(WAIT_S)
        assert node.height == 1
    finally:
        stop_node(node)
