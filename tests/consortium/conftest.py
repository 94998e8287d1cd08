"""A real ledger validator for the consortium's tests: `oneteam ledger start` in a temp dir.

The node runs as a child process, as under `oneteam up`; a test can stop it (the
ledger is down) and start it again on the same port and data directory (it is back,
with its chain). The platform's settings point at it for the test's duration.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oneteam.ledger.client import LedgerClientError, SyncLedgerClient
from oneteam.ledger.server import init_data_dir

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LedgerNode:
    """One validator process on loopback, stoppable and restartable."""

    def __init__(self, data_dir: Path, port: int, log: Path) -> None:
        self.data_dir = data_dir
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def operator_key(self) -> Path:
        return self.data_dir / "keys" / "alliance.json"

    def client(self) -> SyncLedgerClient:
        return SyncLedgerClient(self.url, timeout_s=10)

    def start(self) -> None:
        assert self.process is None, "already running"
        env = {key: value for key, value in os.environ.items()
               if key not in ("DJANGO_SETTINGS_MODULE",)}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "oneteam.cli", "ledger", "start", "--data-dir",
                 str(self.data_dir), "--host", "127.0.0.1", "--port", str(self.port),
                 "--verify-mode", "threads"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"the ledger node exited: {self.log.read_text()}")
            try:
                self.client().status()
                return
            except (LedgerClientError, OSError):
                if time.monotonic() > deadline:
                    raise AssertionError(f"the ledger node did not answer: "
                                         f"{self.log.read_text()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def state(self, contract: str, kind: str, *args: str) -> Any:
        return self.client().state(contract, kind, *args)


@pytest.fixture
def ledger(tmp_path: Path, settings: Any) -> Iterator[LedgerNode]:
    """A fresh chain whose only member is the genesis operator ``alliance``, served on a
    free port; the platform's settings point at it and at its operator key file."""
    from django.core.cache import cache

    data_dir = tmp_path / "ledger"
    init_data_dir(data_dir)
    node = LedgerNode(data_dir, free_port(), tmp_path / "ledger.log")
    node.start()
    settings.ONETEAM_LEDGER_URL = node.url
    settings.ONETEAM_LEDGER_OPERATOR_KEY = str(node.operator_key)
    cache.clear()
    try:
        yield node
    finally:
        node.stop()
        cache.clear()


@pytest.fixture
def did_host(settings: Any) -> str:
    """The platform's DID host for the test: a domain name with a port."""
    settings.ONETEAM_DID_HOST = "oneteam.example:8443"
    return "oneteam.example:8443"
