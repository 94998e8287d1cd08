"""kill -9 at any moment: the node restarts at its last committed block, nothing committed lost.

A real node process takes pre-signed ``credits.transfer`` load among 50 accounts
through the client SDK while this test records every transaction the node
reported committed (block stream, and ``wait``). At a random moment (seeded) the
node gets SIGKILL. With the process dead, the data directory is opened in this
process and checked: height never went backwards, no committed block changed,
every acknowledged transaction is still committed at the height reported,
credits are conserved, each sender's nonce counts its committed transactions,
and re-executing the chain from genesis reproduces every state root. Then the
node restarts on the same directory, the lost (uncommitted) transactions are
submitted again, and the load goes on. Rerun a failure with
``ONETEAM_CRASH_SEED=<seed>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import queue
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from oneteam.ledger.blocks import header_hash
from oneteam.ledger.client import LedgerClient, LedgerClientError
from oneteam.ledger.contracts.credits import Transfer
from oneteam.ledger.contracts.schema import nonce_key
from oneteam.ledger.genesis import Genesis, GenesisMember, write_genesis
from oneteam.ledger.keys import KeyPair, write_key_file
from oneteam.ledger.server import GENESIS_FILE, NODE_KEY_FILE, open_node
from oneteam.ledger.tx import decode_unverified, encode_tx, txid_of

pytestmark = pytest.mark.slow

CHAIN_ID = "crash-test"
ACCOUNTS = 50
CREDITS = 10**9
GHOST_ORG = "ghost"  # not a member: ~3% of transfers go there, fail, and use their nonce
CYCLES = 15
WINDOW = 24  # transactions per sender submitted but not yet seen committed
KILL_BEFORE_READY_SHARE = 0.15
READY_TIMEOUT_S = 15.0
EXIT_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 5.0
SETTLE_TIMEOUT_S = 20.0


def _org(index: int) -> str:
    return f"acct-{index:03d}"


class Plan:
    """The one transaction each (sender, nonce) ever signs: resubmitting gives the same bytes."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.pairs = [KeyPair.from_seed(hashlib.sha256(f"crash/{i}".encode()).digest())
                      for i in range(ACCOUNTS)]
        self.validator = KeyPair.from_seed(hashlib.sha256(b"crash/validator").digest())
        self.sender_of_key = {pair.public_key: i for i, pair in enumerate(self.pairs)}
        self._wires: dict[tuple[int, int], bytes] = {}
        self.owner: dict[bytes, tuple[int, int]] = {}  # txid -> (sender, nonce)

    def genesis(self) -> Genesis:
        return Genesis(
            chain_id=CHAIN_ID,
            members=[GenesisMember(org=_org(i), name=f"Account {i}",
                                   keys=[self.pairs[i].public_key.hex()], credits=CREDITS)
                     for i in range(ACCOUNTS)],
            validators=[self.validator.public_key.hex()],
        )

    def wire(self, sender: int, nonce: int) -> bytes:
        wire = self._wires.get((sender, nonce))
        if wire is None:
            rng = random.Random(f"{self.seed}/{sender}/{nonce}")
            if rng.random() < 0.03:
                recipient = GHOST_ORG
            else:
                recipient = _org((sender + rng.randrange(1, ACCOUNTS)) % ACCOUNTS)
            wire = encode_tx(self.pairs[sender], chain_id=CHAIN_ID, org=_org(sender),
                             nonce=nonce, op="credits.transfer",
                             args=Transfer(to=recipient, amount=rng.randrange(1, 1000)))
            self._wires[(sender, nonce)] = wire
            self.owner[txid_of(wire)] = (sender, nonce)
        return wire

    def txid(self, sender: int, nonce: int) -> bytes:
        return txid_of(self.wire(sender, nonce))


@dataclass
class Model:
    """What the node told clients, and what the last offline check found."""

    acked: dict[bytes, int] = field(default_factory=dict)  # txid -> committed height
    reported_hashes: dict[int, bytes] = field(default_factory=dict)  # height -> block hash
    max_height: int = 0  # the highest height any answer of the node showed
    next_submit: list[int] = field(default_factory=lambda: [0] * ACCOUNTS)
    committed_floor: list[int] = field(default_factory=lambda: [0] * ACCOUNTS)
    accepted_end: list[int] = field(default_factory=lambda: [0] * ACCOUNTS)
    rejected: Counter[str] = field(default_factory=Counter)
    verified_hashes: list[bytes] = field(default_factory=list)  # header hashes, 0..height
    sender_counts: list[int] = field(default_factory=lambda: [0] * ACCOUNTS)
    acks_by_wait: int = 0
    kills: int = 0
    tails_cut: int = 0  # reopenings that cut an appended but never indexed tail off the log
    resubmitted: int = 0  # accepted transactions a crash lost before they committed

    def ack(self, txid: bytes, height: int, plan: Plan, how: str) -> None:
        previous = self.acked.setdefault(txid, height)
        assert previous == height, (
            f"{txid.hex()} reported committed at {previous} and at {height} ({how})")
        self.max_height = max(self.max_height, height)
        owner = plan.owner.get(txid)
        if owner is not None:
            sender, nonce = owner
            self.committed_floor[sender] = max(self.committed_floor[sender], nonce + 1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class NodeProcess:
    """``oneteam ledger start`` as a child process; stdout lines are read on a thread."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.ready_height = -1
        command = [sys.executable, "-m", "oneteam.cli", "ledger", "start",
                   "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(self.port),
                   "--block-interval-ms", "5", "--block-txs-max", "200"]
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log,
                                         stdin=subprocess.DEVNULL)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.decode(errors="replace"))
        self._lines.put(None)

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> int:
        """The height the node announced when it became ready."""
        deadline = time.monotonic() + timeout_s
        seen: list[str] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"node not ready after {timeout_s} s: {seen} {self.log()}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"node exited ({self.proc.poll()}) before ready: "
                                   f"{seen} {self.log()}")
            seen.append(line)
            if "ready" in line:
                match = re.search(r"height=(\d+)", line)
                assert match is not None, line
                return int(match.group(1))

    def kill(self) -> None:
        """SIGKILL (no-op if it already exited), and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(EXIT_TIMEOUT_S)
        self._reader.join(EXIT_TIMEOUT_S)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def terminate(self) -> int:
        """SIGTERM, a clean stop; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
        code = self.proc.wait(EXIT_TIMEOUT_S)
        self._reader.join(EXIT_TIMEOUT_S)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return code

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


# -- load while the node lives ------------------------------------------------------------


async def _drive(node: NodeProcess, plan: Plan, model: Model, kill_after_s: float | None,
                 settle: bool = False) -> None:
    """Load the node and record acknowledgements; SIGKILL after ``kill_after_s``.

    With ``settle``, instead of killing: submit every transaction ever accepted
    that is not committed yet, and wait until all are committed.
    """
    stop = asyncio.Event()
    unacked: list[bytes] = []  # accepted, not yet acknowledged; newest last

    async with LedgerClient(node.url, timeout_s=REQUEST_TIMEOUT_S) as client:

        async def follow() -> None:
            with contextlib.suppress(LedgerClientError, TimeoutError):
                async for event in client.blocks(txids=True):
                    height = int(event["height"])
                    block_hash = bytes.fromhex(event["hash"])
                    previous = model.reported_hashes.setdefault(height, block_hash)
                    assert previous == block_hash, f"two blocks reported at height {height}"
                    model.max_height = max(model.max_height, height)
                    for hex_id in event["txids"]:
                        model.ack(bytes.fromhex(hex_id), height, plan, "stream")

        async def submit() -> None:
            await asyncio.sleep(0.05)  # let the block stream attach
            while not stop.is_set():
                batch: list[bytes] = []
                owners: list[tuple[int, int]] = []
                for sender in range(ACCOUNTS):
                    end = model.committed_floor[sender] + WINDOW
                    if settle:
                        end = max(model.accepted_end[sender], model.committed_floor[sender])
                    for nonce in range(model.next_submit[sender], end):
                        batch.append(plan.wire(sender, nonce))
                        owners.append((sender, nonce))
                if not batch:
                    if settle:
                        return
                    await asyncio.sleep(0.005)
                    continue
                try:
                    rows = await client.submit_batch(batch)
                except (LedgerClientError, TimeoutError):
                    return
                for (sender, nonce), (txid, code, reason) in zip(owners, rows, strict=True):
                    if code == "accepted":
                        assert txid == plan.txid(sender, nonce)
                        model.next_submit[sender] = nonce + 1
                        model.accepted_end[sender] = max(model.accepted_end[sender], nonce + 1)
                        unacked.append(txid)
                    else:
                        model.rejected[f"{code}: {reason}"] += 1
                        model.next_submit[sender] = min(model.next_submit[sender], nonce)
                        stop.set()

        async def waiter() -> None:
            """Also hear of commits through ``GET /v1/tx/{id}/wait``, as clients do."""
            while not stop.is_set():
                while unacked and unacked[-1] in model.acked:
                    unacked.pop()
                if not unacked:
                    await asyncio.sleep(0.005)
                    continue
                txid = unacked[-1]
                try:
                    status = await client.wait(txid, 1.0)
                except (LedgerClientError, TimeoutError):
                    return
                if status["status"] == "committed":
                    model.acks_by_wait += 1
                    model.ack(txid, int(status["height"]), plan, "wait")

        async def reader() -> None:
            """Query state while blocks commit (the node reads state on its event loop)."""
            rng = random.Random(plan.seed)
            while not stop.is_set():
                try:
                    status = await client.status()
                    model.max_height = max(model.max_height, int(status["height"]))
                    await client.state("credits", "balance", _org(rng.randrange(ACCOUNTS)))
                    sender = rng.randrange(ACCOUNTS)
                    await client.next_nonce(plan.pairs[sender].public_key)
                except (LedgerClientError, TimeoutError):
                    return
                await asyncio.sleep(0.01)

        tasks = [asyncio.create_task(job()) for job in (follow, submit, waiter, reader)]
        try:
            if settle:
                await asyncio.wait_for(tasks[1], SETTLE_TIMEOUT_S)
                deadline = time.monotonic() + SETTLE_TIMEOUT_S
                while any(model.committed_floor[s] < model.accepted_end[s]
                          for s in range(ACCOUNTS)):
                    assert time.monotonic() < deadline, "accepted transactions never committed"
                    assert not tasks[0].done(), "the block stream ended"
                    await asyncio.sleep(0.02)
            else:
                assert kill_after_s is not None
                await asyncio.sleep(kill_after_s)
                node.proc.kill()  # SIGKILL, mid-load
                await asyncio.to_thread(node.proc.wait, EXIT_TIMEOUT_S)
        finally:
            stop.set()
            _done, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT_S + 2)
            for task in pending:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(
                    result, asyncio.CancelledError):
                raise result


# -- the offline check, with the node process dead ----------------------------------------


def check_data_dir(data_dir: Path, plan: Plan, model: Model, context: str) -> int:
    """Open the node's directory in-process, check every invariant, return its height."""
    block_log = data_dir / "chain" / "blocks.log"
    log_size = block_log.stat().st_size if block_log.exists() else 0  # killed before genesis?
    node = open_node(data_dir)
    try:
        store = node.store
        height = store.height
        if block_log.stat().st_size < log_size:
            model.tails_cut += 1
        assert height >= model.max_height, (
            f"{context}: height went back from {model.max_height} to {height}")
        hashes = [header_hash(h) for h in store.headers(0, height + 1)]
        assert len(hashes) == height + 1
        known = len(model.verified_hashes)
        assert hashes[:known] == model.verified_hashes, (
            f"{context}: a block below the last checked height {known - 1} changed")
        for reported_height, block_hash in model.reported_hashes.items():
            assert hashes[reported_height] == block_hash, (
                f"{context}: block {reported_height} differs from the one reported committed")

        lost = [(txid.hex(), h) for txid, h in model.acked.items()
                if (location := store.tx_location(txid)) is None or location.height != h]
        assert not lost, f"{context}: {len(lost)} acknowledged transactions lost: {lost[:5]}"

        total = sum(value for _key, value in store.scan("c/bal/", limit=10 * ACCOUNTS))
        assert total == ACCOUNTS * CREDITS, f"{context}: credits not conserved: {total}"

        counts = model.sender_counts
        for block_height in range(known, height + 1):
            block = store.block(block_height)
            assert block is not None
            assert len(block.txs) == block.header.tx_count
            for wire in block.txs:
                counts[plan.sender_of_key[decode_unverified(wire, CHAIN_ID).sender]] += 1
        nonces = [store.get(nonce_key(pair.public_key)) or 0 for pair in plan.pairs]
        assert nonces == counts, f"{context}: nonces {nonces} != committed counts {counts}"
        for sender, nonce in enumerate(nonces):
            where = f"{context}: sender {sender} at nonce {nonce}"
            assert nonce >= model.committed_floor[sender], f"{where}: an acknowledged tx lost"
            if nonce:
                assert store.tx_location(plan.txid(sender, nonce - 1)) is not None, where
            assert store.tx_location(plan.txid(sender, nonce)) is None, where

        node.replay_check()
        model.resubmitted += sum(max(0, end - nonce)
                                 for end, nonce in zip(model.accepted_end, nonces, strict=True))
        model.verified_hashes = hashes
        model.max_height = height
        model.committed_floor = list(nonces)
        model.next_submit = list(nonces)  # resubmit whatever the crash lost
        return height
    finally:
        asyncio.run(node.stop())


def assert_log_clean(log_path: Path, context: str) -> None:
    """The node logged no error: no request failed inside it, no commit failed."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    found = [text.find(mark) for mark in (" ERROR ", "Traceback") if mark in text]
    assert not found, f"{context}: the node logged an error:\n{text[min(found):][:3000]}"


def start_node(data_dir: Path, log_path: Path) -> NodeProcess:
    """Start the node; retry on another port if the one picked was taken meanwhile."""
    for _attempt in range(3):
        node = NodeProcess(data_dir, log_path)
        try:
            node.ready_height = node.wait_ready()
        except RuntimeError:
            node.kill()
            if "in use" not in node.log():
                raise
            continue
        except BaseException:
            node.kill()
            raise
        return node
    raise RuntimeError("no free port for the node")


def test_kill_9_mid_load_loses_no_committed_transaction(tmp_path: Path) -> None:
    seed = int(os.environ.get("ONETEAM_CRASH_SEED", random.randrange(2**32)))
    print(f"crash test seed={seed} (rerun: ONETEAM_CRASH_SEED={seed})")
    rng = random.Random(seed)
    plan = Plan(seed)
    model = Model()
    data_dir = tmp_path / "node"
    data_dir.mkdir()
    write_genesis(data_dir / GENESIS_FILE, plan.genesis())
    write_key_file(data_dir / NODE_KEY_FILE, plan.validator, label="crash-test validator")
    log_path = tmp_path / "node.log"
    started = time.monotonic()
    height = -1
    node: NodeProcess | None = None
    try:
        for cycle in range(CYCLES):
            context = f"seed={seed} cycle={cycle}"
            if rng.random() < KILL_BEFORE_READY_SHARE:
                # Kill it while it opens its store and starts serving.
                node = NodeProcess(data_dir, log_path)
                time.sleep(rng.uniform(0.0, 0.3))
                node.kill()
            else:
                node = start_node(data_dir, log_path)
                assert node.ready_height == max(height, 0), (
                    f"{context}: restarted at {node.ready_height}, last checked {height}")
                kill_after_s = rng.choice([rng.uniform(0.0, 0.1), rng.uniform(0.1, 1.5)])
                asyncio.run(_drive(node, plan, model, kill_after_s))
                node.kill()
            model.kills += 1
            assert_log_clean(log_path, context)
            assert not model.rejected, f"{context}: node refused transactions: {model.rejected}"
            new_height = check_data_dir(data_dir, plan, model, context)
            assert new_height >= height, f"{context}: height went back"
            height = new_height

        # Restart once more: the lost transactions are submitted again and all commit.
        node = start_node(data_dir, log_path)
        assert node.ready_height == height
        asyncio.run(_drive(node, plan, model, None, settle=True))
        assert node.terminate() == 0, node.log()
        node = None
        assert not model.rejected, f"seed={seed}: node refused transactions: {model.rejected}"
        height = check_data_dir(data_dir, plan, model, f"seed={seed} final")
        assert model.committed_floor == model.accepted_end
        assert_log_clean(log_path, f"seed={seed} final")
        committed = sum(model.sender_counts)
        print(f"{model.kills} kills, height {height}, {committed} transactions committed, "
              f"{len(model.acked)} acknowledged ({model.acks_by_wait} through wait), "
              f"{model.resubmitted} lost uncommitted and resubmitted, "
              f"{model.tails_cut} torn tails cut, {time.monotonic() - started:.1f} s")
        assert committed > 0 and len(model.acked) > 0
    finally:
        if node is not None:
            node.kill()
