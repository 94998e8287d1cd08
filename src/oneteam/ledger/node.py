"""A validator node: admission, mempool, block building, execution, durable commit.

One asyncio loop owns the mempool and the waiters. Verification runs on a pool
of threads; a block is executed and committed on one dedicated thread, so the
loop keeps admitting transactions while a block is written. Clients hear of a
block only after :meth:`Store.commit` returned, i.e. after fsync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oneteam.ledger import merkle
from oneteam.ledger.admission import Rejection, Verdict, Verifier
from oneteam.ledger.blocks import Block, Header, header_hash, sign_header
from oneteam.ledger.contracts.schema import nonce_key, org_key
from oneteam.ledger.errors import Busy, Expired, LedgerError, Unauthorized, Unavailable
from oneteam.ledger.execution import (
    BAD_NONCE,
    UNAUTHORIZED,
    encode_write_set,
    execute_block,
    next_state_root,
    receipt_bytes,
    receipt_leaf_hashes,
)
from oneteam.ledger.genesis import Genesis
from oneteam.ledger.invariants import check
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.mempool import Mempool
from oneteam.ledger.store import Store
from oneteam.ledger.tx import Transaction, decode_unverified

log = logging.getLogger("oneteam.ledger.node")

WAITERS_MAX = 100_000


class HeaderMismatch(LedgerError):
    code = "header_mismatch"
SUBSCRIBERS_MAX = 256
SUBSCRIBER_QUEUE_MAX = 1024


@dataclass(frozen=True, slots=True)
class NodeConfig:
    data_dir: Path
    block_txs_max: int = 4096
    block_interval_ms: int = 50
    mempool_capacity: int = 200_000
    verify_workers: int | None = None
    verify_mode: str = "threads"
    exec_workers: int = 1
    serial: bool = False
    checked: bool = False


@dataclass(frozen=True, slots=True)
class SubmitResult:
    txid: bytes | None
    code: str
    reason: str = ""


@dataclass(slots=True)
class BlockEvent:
    height: int
    block_hash: bytes
    tx_count: int
    time_ms: int
    txids: list[bytes] = field(default_factory=list)


class Node:
    def __init__(self, config: NodeConfig, genesis: Genesis, keypair: KeyPair) -> None:
        self.config = config
        self.genesis = genesis
        self.chain_id = genesis.chain_id
        self.keypair = keypair
        validators = {bytes.fromhex(v) for v in genesis.validators}
        # A single validator makes the blocks itself, so it must be that validator; on
        # a chain of several, a node outside the set follows as an observer until a
        # validator-set change admits it.
        if len(validators) == 1 and keypair.public_key not in validators:
            raise ValueError(
                f"node key {keypair.public_key.hex()} is not in the genesis validator set"
            )
        self.store = Store(config.data_dir / "chain")
        if self.store.height < 0:
            self._commit_genesis()
        self._check_genesis()
        self.verifier = Verifier(self.chain_id, 1 if config.serial else config.verify_workers,
                                 config.verify_mode)
        exec_workers = 1 if config.serial else config.exec_workers
        self._exec_thread = ThreadPoolExecutor(1, thread_name_prefix="commit")
        self._exec_pool = (
            ThreadPoolExecutor(exec_workers, thread_name_prefix="exec")
            if exec_workers > 1 else None
        )
        self.exec_workers = exec_workers
        self.mempool = Mempool(config.mempool_capacity, self._committed_nonce)
        self._wake = asyncio.Event()
        self._waiters: dict[bytes, list[asyncio.Future[None]]] = {}
        self._waiter_count = 0
        # Set when the node can no longer commit (a storage failure): the server
        # stops rather than keep accepting transactions it will never commit.
        self.failed = asyncio.Event()
        self.failure: str | None = None
        self._subscribers: set[asyncio.Queue[BlockEvent | None]] = set()
        self._builder: asyncio.Task[None] | None = None
        self._closing = False
        self.started_at = time.monotonic()
        self.committed_txs = 0

    # -- genesis and state helpers --------------------------------------------

    def _commit_genesis(self) -> None:
        block, writes = self.genesis.block()
        self.store.commit(block, header_hash(block.header), encode_write_set(writes), writes, [])

    def _check_genesis(self) -> None:
        """The stored chain must be the one ``genesis.json`` describes."""
        stored = self.store.header(0)
        expected = self.genesis.block()[0].header
        if stored is None or header_hash(stored) != header_hash(expected):
            self.store.close()
            raise ValueError(
                f"the chain stored in {self.config.data_dir} does not start with the block "
                "its genesis.json describes; was genesis.json edited after init?"
            )

    def _committed_nonce(self, sender: bytes) -> int:
        value: int | None = self.store.get(nonce_key(sender))
        return value or 0

    @property
    def height(self) -> int:
        return self.store.height

    # -- lifecycle --------------------------------------------------------------

    async def start(self, *, build_blocks: bool = True) -> None:
        """Start serving; ``build_blocks=False`` when a consensus engine makes the blocks."""
        if build_blocks:
            self._builder = asyncio.create_task(self._build_loop(), name="block-builder")

    async def stop(self) -> None:
        self._closing = True
        self._wake.set()
        if self._builder is not None:
            self._builder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._builder
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)
        for futures in self._waiters.values():
            for future in futures:
                if not future.done():
                    future.cancel()
        self._waiters.clear()
        self.close()

    def close(self) -> None:
        """Release the verifier, the commit threads and the store (what stop() ends with;
        a caller that never started the node, such as the simulator, calls it alone)."""
        self.verifier.close()
        self._exec_thread.shutdown(wait=True)
        if self._exec_pool is not None:
            self._exec_pool.shutdown(wait=True)
        self.store.close()

    # -- admission --------------------------------------------------------------

    async def submit(self, wires: list[bytes]) -> list[SubmitResult]:
        """Verify a batch in parallel, then admit each valid transaction to the mempool."""
        if self.failure is not None:
            raise Unavailable(f"the node is stopping: {self.failure}")
        verdicts = await self.verifier.verify(wires)
        return self.admit_verified(verdicts)

    def admit_verified(self, verdicts: list[Verdict]) -> list[SubmitResult]:
        """Admit verified transactions to the mempool; a result per verdict, in order."""
        results: list[SubmitResult] = []
        admitted = False
        for verdict in verdicts:
            if isinstance(verdict, Rejection):
                results.append(SubmitResult(None, verdict.code, verdict.reason))
                continue
            try:
                self._admit(verdict)
            except LedgerError as error:
                results.append(SubmitResult(verdict.txid, error.code, error.reason))
                continue
            results.append(SubmitResult(verdict.txid, "accepted"))
            admitted = True
        if admitted and self.mempool.ready_count >= self.config.block_txs_max:
            self._wake.set()
        return results

    def _admit(self, tx: Transaction) -> None:
        next_height = self.store.height + 1
        if tx.expiry_height < next_height:
            raise Expired(f"expired at height {tx.expiry_height}; the next block is {next_height}")
        org = self.store.get(org_key(tx.org))
        if org is None or tx.sender not in org.keys:
            raise Unauthorized(f"key {tx.sender.hex()} is not an active key of {tx.org}")
        self.mempool.add(tx)

    # -- building blocks ----------------------------------------------------------

    async def _build_loop(self) -> None:
        loop = asyncio.get_running_loop()
        interval_s = self.config.block_interval_ms / 1000
        while not self._closing:
            if self.mempool.ready_count < self.config.block_txs_max:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), interval_s)
            if self._closing:
                break
            txs = self.mempool.take(self.config.block_txs_max)
            if not txs:
                continue
            try:
                block, unconsumed = await loop.run_in_executor(
                    self._exec_thread, self._execute_and_commit, txs
                )
            except Exception as error:
                # Nothing of this block was acknowledged; the store recovers on
                # restart. Keep no longer accepting work we cannot commit.
                log.exception("commit failed; the node stops")
                self.failure = f"commit of a block failed: {error!r}"
                self._closing = True
                self.failed.set()
                return
            self.after_commit(block, txs, unconsumed)

    def _execute_and_commit(self, txs: list[Transaction]) -> tuple[Block, set[bytes]]:
        """The single validator's block: its own time, its own key signs the header."""
        result = self.commit_transactions(txs, time_ms=int(time.time() * 1000),
                                          proposer=self.keypair.public_key)
        check(result is not None, "the single validator's next height was taken")
        assert result is not None
        return result

    def commit_transactions(
        self, txs: list[Transaction], *, time_ms: int, proposer: bytes,
        prev_hash: bytes | None = None, height: int | None = None,
        tx_root: bytes | None = None, value: bytes = b"", certificate: bytes = b"",
        expect_header: bytes | None = None,
    ) -> tuple[Block, set[bytes]] | None:
        """On the commit thread: execute ``txs`` as the next block, build its header, make
        it durable; returns the block and the senders whose nonce was not consumed.

        The one commit path of both modes. A single validator signs the header; under
        consensus the decided ``value`` and its ``certificate`` go in the block instead,
        and ``height``/``prev_hash``/``tx_root`` are the value's, checked against the
        tip. None when ``height`` is already committed (a decision and a synced block
        arrived at once). ``expect_header``: the hash the new header must have (a block
        a peer sent); if it differs, nothing is stored and LedgerError is raised.
        """
        tip = self.store.tip
        check(tip is not None, "no genesis")
        assert tip is not None
        if height is not None and height <= tip.height:
            return None
        next_height = tip.height + 1
        check(height in (None, next_height) and prev_hash in (None, tip.block_hash),
              f"block {height} does not extend the tip {tip.height}")
        wires = [tx.wire for tx in txs]
        root = merkle.merkle_root(wires)
        check(tx_root in (None, root), "the decided tx_root does not match the transactions")
        result = execute_block(
            self.store, next_height, txs,
            pool=self._exec_pool, workers=self.exec_workers, checked=self.config.checked,
        )
        encoded = encode_write_set(result.writes)
        header = Header(
            chain_id=self.chain_id,
            height=next_height,
            time_ms=time_ms,
            prev_hash=tip.block_hash,
            tx_root=root,
            receipts_root=merkle.root_of_leaves(receipt_leaf_hashes(result.receipts)),
            state_root=next_state_root(tip.state_root, encoded),
            tx_count=len(txs),
            proposer=proposer,
        )
        if expect_header is not None and header_hash(header) != expect_header:
            raise HeaderMismatch(f"block {next_height} executes here to a header other than "
                                 "the one given; nothing stored")
        signature = b"" if certificate else sign_header(self.keypair, header)
        block = Block(header=header, signature=signature, txs=wires,
                      receipts=result.receipts, value=value, certificate=certificate)
        self.store.commit(block, header_hash(header), encoded, result.writes,
                          [tx.txid for tx in txs])
        unconsumed = {
            tx.sender for tx, receipt in zip(txs, result.receipts, strict=True)
            if receipt.code in (BAD_NONCE, UNAUTHORIZED)
        }
        return block, unconsumed

    def after_commit(self, block: Block, txs: list[Transaction], unconsumed: set[bytes]
                     ) -> None:
        """On the loop, once a block is durable: mempool, counters, waiters, streams."""
        self.mempool.committed(txs, unconsumed, block.header.height)
        self.committed_txs += len(txs)
        self._publish(block, [tx.txid for tx in txs])

    def _publish(self, block: Block, txids: list[bytes]) -> None:
        waiters = self._waiters
        if waiters:
            for txid in txids:
                futures = waiters.pop(txid, None)
                if futures:
                    for future in futures:
                        if not future.done():
                            future.set_result(None)
        if self._subscribers:
            header = block.header
            event = BlockEvent(header.height, header_hash(header), header.tx_count,
                               header.time_ms, txids)
            for queue in list(self._subscribers):
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    # A subscriber that cannot keep up is cut off rather than
                    # letting its queue grow without bound: its queue is emptied
                    # and ends with None, so its stream closes and it reconnects.
                    self._subscribers.discard(queue)
                    while not queue.empty():
                        queue.get_nowait()
                    queue.put_nowait(None)

    # -- what clients ask -----------------------------------------------------------

    def tx_status(self, txid: bytes) -> dict[str, Any]:
        location = self.store.tx_location(txid)
        if location is not None:
            block = self.store.block(location.height)
            check(block is not None, f"indexed block {location.height} missing")
            assert block is not None
            receipt = block.receipts[location.index]
            return {
                "status": "committed",
                "height": location.height,
                "index": location.index,
                "receipt": {"code": receipt.code, "reason": receipt.reason,
                            "events": [list(e) for e in receipt.events]},
            }
        if self.mempool.contains(txid):
            return {"status": "pending"}
        reason = self.mempool.dropped.get(txid)
        if reason is not None:
            return {"status": "dropped", "reason": reason}
        return {"status": "unknown"}

    async def wait_committed(self, txid: bytes, timeout_s: float) -> bool:
        """True once ``txid`` is committed; False if ``timeout_s`` passes first."""
        if self.store.tx_location(txid) is not None:
            return True
        if self._waiter_count >= WAITERS_MAX:
            raise Busy(f"{WAITERS_MAX} clients are waiting already; retry later")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(txid, []).append(future)
        self._waiter_count += 1
        # The block may have committed between the check above and now.
        if self.store.tx_location(txid) is not None:
            future.set_result(None)
        try:
            await asyncio.wait_for(future, timeout_s)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiter_count -= 1
            futures = self._waiters.get(txid)
            if futures is not None:
                with contextlib.suppress(ValueError):
                    futures.remove(future)
                if not futures:
                    del self._waiters[txid]

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[BlockEvent | None]]:
        if len(self._subscribers) >= SUBSCRIBERS_MAX:
            raise Busy(f"at most {SUBSCRIBERS_MAX} block streams at once; retry later")
        queue: asyncio.Queue[BlockEvent | None] = asyncio.Queue(SUBSCRIBER_QUEUE_MAX)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def proof(self, txid: bytes) -> dict[str, Any] | None:
        """An inclusion proof of ``txid`` against its block's signed header."""
        location = self.store.tx_location(txid)
        if location is None:
            return None
        block = self.store.block(location.height)
        assert block is not None
        leaves = [merkle.leaf_hash(wire) for wire in block.txs]
        receipt_leaves = receipt_leaf_hashes(block.receipts)
        proof: dict[str, Any] = {
            "tx": block.txs[location.index],
            "index": location.index,
            "tx_path": merkle.inclusion_path(leaves, location.index),
            "receipt": receipt_bytes(block.receipts[location.index]),
            "receipt_path": merkle.inclusion_path(receipt_leaves, location.index),
            "header": block.header,
            "signature": block.signature,
            "value": block.value,
            "certificate": block.certificate,
        }
        if block.certificate:
            # Under consensus the header's post-execution roots are certified by the
            # next height, whose value names this header's hash.
            following = self.store.block(location.height + 1)
            if following is not None:
                proof["next_value"] = following.value
                proof["next_certificate"] = following.certificate
        return proof

    def replay_check(self) -> None:
        """Re-execute every stored block from genesis and compare state roots (slow; tools)."""
        from oneteam.ledger.execution import Overlay

        state: dict[str, Any] = {}
        genesis, writes = self.genesis.block()
        state.update(writes)
        root = genesis.header.state_root
        for height in range(1, self.height + 1):
            block = self.store.block(height)
            assert block is not None
            txs = [decode_unverified(wire, self.chain_id) for wire in block.txs]
            result = execute_block(Overlay(_DictState(state), {}), height, txs)
            root = next_state_root(root, encode_write_set(result.writes))
            check(root == block.header.state_root, f"state root differs at height {height}")
            state.update(result.writes)

    def statistics(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "committed_txs": self.committed_txs,
            "mempool": self.mempool.statistics(),
            "verify_workers": self.verifier.workers,
            "verify_mode": self.verifier.mode,
            "exec_workers": self.exec_workers,
            "subscribers": len(self._subscribers),
            "uptime_s": round(time.monotonic() - self.started_at, 3),
        }


class _DictState:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def get(self, key: str) -> Any:
        return self.data.get(key)

