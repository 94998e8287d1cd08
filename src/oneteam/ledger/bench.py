"""``oneteam ledger bench``: committed TPS of a real node, against the verify ceiling.

Pre-signs N ``credits.transfer`` transactions among S accounts, starts a node
in a separate process, submits through the real client API, follows the block
stream until every accepted transaction is committed, and measures in the same
run the ceiling: Ed25519 verifications per second on all cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import itertools
import json
import os
import random
import socket
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec

from oneteam.ledger import keys
from oneteam.ledger.client import LedgerClient, LedgerClientError
from oneteam.ledger.contracts.credits import Transfer
from oneteam.ledger.genesis import Genesis, GenesisMember
from oneteam.ledger.keys import KeyPair
from oneteam.ledger.tx import SIGNING_DOMAIN, SignedTx, TxBody, encode_tx

CHAIN_ID = "oneteam-bench"
CEILING_SECONDS = 2.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tx", type=int, default=100_000, help="transfers to commit")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--hot-key-ratio", type=float, default=0.01,
                        help="share of transfers paying the one hot account")
    parser.add_argument("--serial", action="store_true",
                        help="node verifies and executes one transaction after another")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="offer the load at this many tx/s (0: all at once)")
    parser.add_argument("--batch", type=int, default=1000, help="transactions per request")
    parser.add_argument("--in-flight", type=int, default=4, help="requests in flight at once")
    parser.add_argument("--exec-workers", type=int, default=1)
    parser.add_argument("--verify-mode", choices=("threads", "processes"), default="processes")
    parser.add_argument("--block-txs-max", type=int, default=4096)
    parser.add_argument("--block-interval-ms", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout-s", type=float, default=600.0)
    parser.add_argument("--validators", type=int, default=1,
                        help="validators, each a process on this machine (ratio is then "
                        "committed_tps / (ceiling / validators))")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _keypair(index: int, seed: int) -> KeyPair:
    return KeyPair.from_seed(hashlib.sha256(f"bench/{seed}/{index}".encode()).digest())


def _account(index: int) -> str:
    return f"acct-{index:06d}"


def make_workload(tx_count: int, accounts: int, hot_ratio: float, seed: int
                  ) -> tuple[Genesis, KeyPair, list[bytes]]:
    """Genesis with ``accounts`` members, the validator key, and the signed transfers."""
    genesis, validators, wires = make_workload_for(tx_count, accounts, hot_ratio, seed, 1)
    return genesis, validators[0], wires


def make_workload_for(tx_count: int, accounts: int, hot_ratio: float, seed: int,
                      validator_count: int) -> tuple[Genesis, list[KeyPair], list[bytes]]:
    """As :func:`make_workload`, for a chain of ``validator_count`` validators."""
    if accounts < 2:
        raise ValueError("the benchmark needs at least 2 accounts")
    if not 0 <= hot_ratio <= 1:
        raise ValueError("--hot-key-ratio must be within 0..1")
    pairs = [_keypair(i, seed) for i in range(accounts)]
    validators = [_keypair(-1 - i, seed) for i in range(validator_count)]
    genesis = Genesis(
        chain_id=CHAIN_ID,
        members=[GenesisMember(org=_account(i), name=f"Bench account {i}",
                               keys=[pairs[i].public_key.hex()], credits=10**12)
                 for i in range(accounts)],
        validators=[v.public_key.hex() for v in validators],
    )
    rng = random.Random(seed)
    plan: list[tuple[int, int, int]] = []  # sender, nonce, recipient
    nonces = [0] * accounts
    for i in range(tx_count):
        sender = i % accounts
        if rng.random() < hot_ratio and sender != 0:
            recipient = 0
        else:
            recipient = rng.randrange(1, accounts)
            if recipient == sender:
                recipient = 1 + (recipient % (accounts - 1))
        plan.append((sender, nonces[sender], recipient))
        nonces[sender] += 1

    def sign(part: list[tuple[int, int, int]]) -> list[bytes]:
        return [encode_tx(pairs[s], chain_id=CHAIN_ID, org=_account(s), nonce=n,
                          op="credits.transfer", args=Transfer(to=_account(r), amount=1))
                for s, n, r in part]

    workers = os.cpu_count() or 1
    step = -(-len(plan) // workers)
    with ThreadPoolExecutor(workers) as pool:
        parts = pool.map(sign, [plan[i:i + step] for i in range(0, len(plan), step)])
        wires = [w for part in parts for w in part]
    return genesis, validators, wires


def measure_ceiling(wires: list[bytes], seconds: float = CEILING_SECONDS) -> float:
    """Ed25519 verifications per second on all cores, over the benchmark's own transactions."""
    signed = [msgspec.msgpack.decode(w, type=SignedTx) for w in wires[:20_000]]
    jobs = [(msgspec.msgpack.decode(s.body, type=TxBody).sender, SIGNING_DOMAIN + s.body,
             s.signature) for s in signed]
    workers = os.cpu_count() or 1

    def run(_: int) -> int:
        done = 0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            for public_key, message, signature in jobs[:1000]:
                if not keys.verify(public_key, message, signature):
                    raise RuntimeError("benchmark signature failed to verify")
            done += 1000
        return done

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        total = sum(pool.map(run, range(workers)))
    return total / (time.perf_counter() - start)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, int(share * len(sorted_values)))
    return sorted_values[index]


def _process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (the node and its verification workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time used so far by ``pid`` and its descendants, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in _process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _peak_rss_mb(pid: int) -> float:
    """Sum of the peak resident sizes of ``pid`` and its descendants."""
    total_kb = 0
    for member in _process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


async def _drive(urls: list[str], wires: list[bytes], args: argparse.Namespace,
                 txids: list[bytes]) -> dict[str, Any]:
    """Submit ``wires`` (each account's transactions to one node, in nonce order), follow
    the first node's block stream, and time every transaction from request to commit."""
    clients = [LedgerClient(url, timeout_s=args.timeout_s) for url in urls]
    try:
        return await _drive_clients(clients, wires, args, txids)
    finally:
        for client in clients:
            await client.close()


async def _drive_clients(clients: list[LedgerClient], wires: list[bytes],
                         args: argparse.Namespace, txids: list[bytes]) -> dict[str, Any]:
    submitted_at: dict[bytes, float] = {}
    committed_at: dict[bytes, float] = {}
    rejected: dict[str, int] = {}
    expected = {t for t in txids}
    all_committed = asyncio.Event()
    accepted_total = 0
    submissions_done = False

    client = clients[0]
    stream_ready = asyncio.Event()

    async def follow() -> None:
        async for event in client.blocks(txids=True):
            now = time.perf_counter()
            stream_ready.set()
            for hex_id in event.get("txids", []):
                txid = bytes.fromhex(hex_id)
                if txid in expected:
                    committed_at[txid] = now
            if submissions_done and len(committed_at) >= accepted_total:
                all_committed.set()

    follower = asyncio.create_task(follow())
    # The stream says ": connected" before any block; give it a moment to attach.
    await asyncio.sleep(0.2)
    semaphore = asyncio.Semaphore(args.in_flight)
    # Account a's transactions all go to node a % len(clients), so each node sees
    # every sender's nonces in order; batches alternate between the nodes.
    per_node: list[list[int]] = [[] for _ in clients]
    for index in range(len(wires)):
        per_node[(index % args.accounts) % len(clients)].append(index)
    chunks = [[(node, part[i:i + args.batch]) for i in range(0, len(part), args.batch)]
              for node, part in enumerate(per_node)]
    batches = [chunk for group in itertools.zip_longest(*chunks) for chunk in group
               if chunk is not None]

    async def send(target: tuple[int, list[int]]) -> None:
        nonlocal accepted_total
        node, batch = target
        async with semaphore:
            now = time.perf_counter()
            for index in batch:
                submitted_at[txids[index]] = now
            results = await clients[node].submit_batch([wires[i] for i in batch])
            for (txid, code, _reason) in results:
                if code == "accepted":
                    accepted_total += 1
                else:
                    rejected[code] = rejected.get(code, 0) + 1
                    if txid is not None:
                        expected.discard(txid)

    start = time.perf_counter()
    tasks = []
    for number, batch in enumerate(batches):
        if args.rate > 0:
            due = start + number * len(batch[1]) / args.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(batch)))
    await asyncio.gather(*tasks)
    submissions_done = True
    if len(committed_at) >= accepted_total:
        all_committed.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_committed.wait(), args.timeout_s)
    end = max(committed_at.values(), default=time.perf_counter())
    follower.cancel()
    latencies = sorted((committed_at[t] - submitted_at[t]) * 1000 for t in committed_at)
    return {
        "committed": len(committed_at),
        "accepted": accepted_total,
        "rejected": rejected,
        "seconds": end - start,
        "latency_ms_p50": _percentile(latencies, 0.50),
        "latency_ms_p99": _percentile(latencies, 0.99),
    }


def _node_options(args: argparse.Namespace) -> list[str]:
    options = ["--block-txs-max", str(args.block_txs_max),
               "--block-interval-ms", str(args.block_interval_ms),
               "--exec-workers", str(args.exec_workers),
               "--verify-mode", args.verify_mode,
               "--mempool-capacity", str(max(200_000, args.tx + 1000))]
    if args.serial:
        options.append("--serial")
    return options


def run(args: argparse.Namespace) -> int:
    def say(message: str) -> None:
        if not args.json:
            print(message, file=sys.stderr, flush=True)

    from oneteam.ledger import testnet

    if args.validators < 1:
        print("error: --validators must be at least 1", file=sys.stderr)
        return 2
    cores = os.cpu_count() or 1
    say(f"signing {args.tx} transfers among {args.accounts} accounts …")
    genesis, validators, wires = make_workload_for(args.tx, args.accounts, args.hot_key_ratio,
                                                   args.seed, args.validators)
    txids = [hashlib.sha256(msgspec.msgpack.decode(w, type=SignedTx).body).digest()
             for w in wires]
    say("measuring the verify ceiling on all cores …")
    ceiling = measure_ceiling(wires)
    with tempfile.TemporaryDirectory(prefix="oneteam-bench-") as tmp:
        ports = [_free_port() for _ in range(2 * args.validators)]
        nodes = testnet.lay_out(Path(tmp), genesis, validators, ports[:args.validators],
                                ports[args.validators:])
        try:
            processes = testnet.start(nodes, _node_options(args))
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        try:
            urls = [node.url for node in nodes]
            say(f"{len(nodes)} validator(s) up at {', '.join(urls)}; submitting …")
            cpu_before = sum(_cpu_seconds(p.pid) for p in processes)
            client_cpu_before = time.process_time()
            result = asyncio.run(_drive(urls, wires, args, txids))
            node_cpu_s = sum(_cpu_seconds(p.pid) for p in processes) - cpu_before
            client_cpu_s = time.process_time() - client_cpu_before
            peak_rss_mb = max(_peak_rss_mb(p.pid) for p in processes)
        except LedgerClientError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        finally:
            testnet.stop(processes)
    seconds = result["seconds"]
    committed_tps = result["committed"] / seconds if seconds > 0 else 0.0
    # Every validator verifies every transaction, so with all validators on this
    # machine the bound is the ceiling divided by their number.
    bound = ceiling / args.validators
    report = {
        "tx": args.tx,
        "accounts": args.accounts,
        "hot_key_ratio": args.hot_key_ratio,
        "validators": args.validators,
        "committed": result["committed"],
        "rejected": result["rejected"],
        "seconds": round(seconds, 3),
        "committed_tps": round(committed_tps, 1),
        "ceiling_verify_per_s": round(ceiling, 1),
        "ratio": round(committed_tps / bound, 3) if bound else 0.0,
        "latency_ms_p50": round(result["latency_ms_p50"], 1),
        "latency_ms_p99": round(result["latency_ms_p99"], 1),
        "offered_rate": args.rate or None,
        "cores": cores,
        "mode": "serial" if args.serial else "parallel",
        "exec_workers": 1 if args.serial else args.exec_workers,
        "verify_mode": "serial" if args.serial else args.verify_mode,
        "node_peak_rss_mb": round(peak_rss_mb, 1),
        "node_cpu_us_per_tx": round(node_cpu_s / max(1, result["committed"]) * 1e6, 1),
        "client_cpu_us_per_tx": round(client_cpu_s / max(1, result["committed"]) * 1e6, 1),
        "verify_cpu_us_per_tx": round(cores / ceiling * 1e6, 1) if ceiling else 0.0,
    }
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:22} {value}")
    ok = result["committed"] == result["accepted"] == args.tx
    return 0 if ok else 1
