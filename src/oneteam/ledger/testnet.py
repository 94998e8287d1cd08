"""A local testnet: several validator processes on loopback, with their keys and genesis.

``oneteam ledger testnet --validators 4`` lays out one data directory per
validator (its node key, the shared genesis, the address book of everyone's
peer links), starts a ``oneteam ledger start`` process for each, and stops
them all on Ctrl-C. The benchmark uses the same functions.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from oneteam.ledger.genesis import Genesis, GenesisMember, write_genesis
from oneteam.ledger.keys import KeyPair, write_key_file
from oneteam.ledger.server import GENESIS_FILE, NODE_KEY_FILE, PEERS_FILE

READY_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class TestnetNode:
    data_dir: Path
    api_port: int
    p2p_port: int
    public_key: bytes

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


def lay_out(directory: Path, genesis: Genesis, validator_keys: list[KeyPair],
            api_ports: list[int], p2p_ports: list[int]) -> list[TestnetNode]:
    """Write each validator's data directory; ``genesis.validators`` must list their keys."""
    if sorted(genesis.validators) != sorted(k.public_key.hex() for k in validator_keys):
        raise ValueError("genesis must name exactly the testnet's validator keys")
    book = {key.public_key.hex(): f"127.0.0.1:{port}"
            for key, port in zip(validator_keys, p2p_ports, strict=True)}
    nodes = []
    for index, key in enumerate(validator_keys):
        data_dir = Path(directory) / f"validator-{index}"
        data_dir.mkdir(parents=True, exist_ok=False)
        write_genesis(data_dir / GENESIS_FILE, genesis)
        write_key_file(data_dir / NODE_KEY_FILE, key, label=f"testnet validator {index}")
        (data_dir / PEERS_FILE).write_text(json.dumps(book, indent=2) + "\n", encoding="utf-8")
        nodes.append(TestnetNode(data_dir, api_ports[index], p2p_ports[index], key.public_key))
    return nodes


def dev_testnet(directory: Path, validators: int, base_port: int) -> list[TestnetNode]:
    """A fresh testnet: the validators, one member organization per validator, an operator."""
    if validators < 1:
        raise ValueError("a testnet needs at least one validator")
    keys = [KeyPair.generate() for _ in range(validators)]
    members_dir = Path(directory) / "member-keys"
    members = []
    for index in range(validators):
        member = KeyPair.generate()
        org = f"member-{index}"
        write_key_file(members_dir / f"{org}.json", member, label=f"member {org}")
        roles = ["issuer", "operator", "provider", "validator"] if index == 0 else ["validator"]
        members.append(GenesisMember(org=org, name=f"Testnet member {index}",
                                     keys=[member.public_key.hex()], roles=roles,
                                     credits=1_000_000))
    genesis = Genesis(chain_id="oneteam-testnet", members=members,
                      validators=[k.public_key.hex() for k in keys],
                      genesis_time_ms=int(time.time() * 1000))
    return lay_out(directory, genesis, keys,
                   [base_port + i for i in range(validators)],
                   [base_port + 100 + i for i in range(validators)])


def start(nodes: list[TestnetNode], extra: list[str] | None = None,
          ) -> list[subprocess.Popen[bytes]]:
    """Start one process per validator and wait until each says it is ready."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for node in nodes:
            command = [sys.executable, "-m", "oneteam.cli", "ledger", "start",
                       "--data-dir", str(node.data_dir), "--port", str(node.api_port),
                       "--p2p-port", str(node.p2p_port), *(extra or [])]
            log = (node.data_dir / "node.log").open("ab")
            processes.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log))
        for node, process in zip(nodes, processes, strict=True):
            assert process.stdout is not None
            line = process.stdout.readline().decode()
            if "ready" not in line:
                raise RuntimeError(f"validator in {node.data_dir} did not start; see "
                                   f"{node.data_dir / 'node.log'}")
    except BaseException:
        stop(processes)
        raise
    return processes


def stop(processes: list[subprocess.Popen[bytes]], timeout_s: float = 10.0) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def run(directory: Path, validators: int, base_port: int) -> int:
    """The ``oneteam ledger testnet`` command: lay out (first time), start, wait for Ctrl-C."""
    directory = Path(directory)
    if not (directory / "validator-0" / GENESIS_FILE).exists():
        nodes = dev_testnet(directory, validators, base_port)
    else:
        nodes = []
        for index in range(validators):
            data_dir = directory / f"validator-{index}"
            book = json.loads((data_dir / PEERS_FILE).read_text())
            key = json.loads((data_dir / NODE_KEY_FILE).read_text())["public_key"]
            nodes.append(TestnetNode(data_dir, base_port + index,
                                     int(book[key].rsplit(":", 1)[1]), bytes.fromhex(key)))
    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    processes = start(nodes)
    for node in nodes:
        print(f"validator {node.public_key.hex()[:16]}…  api {node.url}  "
              f"p2p 127.0.0.1:{node.p2p_port}  data {node.data_dir}", flush=True)
    print(f"member keys in {directory / 'member-keys'}; Ctrl-C stops the testnet", flush=True)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        with contextlib.suppress(Exception):
            stop(processes)
    failed = [p.returncode for p in processes if p.returncode not in (0, -signal.SIGTERM)]
    return 1 if failed else 0
