"""`oneteam up` end to end: a real ledger validator, web server and worker, in a temp dir."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

BANNER = "OneTeam is running at "
START_TIMEOUT_S = 150.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Up:
    """One `oneteam up` process, its output collected line by line."""

    def __init__(self, data_dir: Path, port: int, ledger_port: int) -> None:
        # What the test run itself set (its data directory, immediate tasks) stays here.
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("ONETEAM_")
               and key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oneteam.cli", "up", "--data-dir", str(data_dir),
             "--port", str(port), "--ledger-port", str(ledger_port), "--web-workers", "1",
             "--web-threads", "2", "--verify-mode", "threads"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.url = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def close(self) -> None:
        """Kill the process if it still runs, and close its output pipe."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self._reader.join(10)
        assert self.process.stdout is not None
        self.process.stdout.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout_s: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} in the output:\n" + "\n".join(self.lines))

    def output(self) -> str:
        while True:
            try:
                line = self._queue.get(timeout=1)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        return "\n".join(self.lines)

    def descendants(self) -> list[int]:
        return descendants(self.process.pid)


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # pid (comm) state ppid ...: comm may hold spaces, so split after its closing bracket.
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (Linux /proc)."""
    parents = {int(entry.name): _parent_of(int(entry.name))
               for entry in Path("/proc").iterdir() if entry.name.isdigit()}
    found, frontier = [], [root]
    while frontier:
        current = frontier.pop()
        children = [pid for pid, parent in parents.items() if parent == current]
        found.extend(children)
        frontier.extend(children)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def fetch(url: str, body: dict[str, Any] | None = None) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type":
                                                              "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    """The processes of ``pids`` still alive after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = [pid for pid in pids if alive(pid)]
        if not remaining or time.monotonic() > deadline:
            return remaining
        time.sleep(0.2)


def test_up_runs_everything_stops_cleanly_and_keeps_the_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port, ledger_port = free_port(), free_port()
    leftovers: list[int] = []
    first = Up(data_dir, port, ledger_port)
    try:
        first.wait_for(BANNER)
        first.wait_for("Ctrl-C stops OneTeam")
        output = first.output()
        assert "Demo sign-ins" in output and "learner@demo.oneteam.example" in output
        status, page = fetch(first.url + "/")
        assert status == 200 and '<html lang="ko">' in page
        status, docs = fetch(first.url + "/api/docs")
        assert status == 200 and "swagger" in docs.lower()
        status, body = fetch(first.url + "/api/status")
        assert status == 200 and json.loads(body)["ledger_ok"] is True
        # In the background, the worker joins the nine founding members to the ledger.
        deadline = time.monotonic() + 90
        while True:
            status, body = fetch(first.url + "/api/consortium/organizations")
            states = {o["slug"]: o["ledger"]["state"] for o in json.loads(body)}
            if list(states.values()).count("registered") >= 9:
                break
            assert time.monotonic() < deadline, states
            time.sleep(0.5)
        assert json.loads(body)[0]["did"].startswith(f"did:web:127.0.0.1%3A{port}:orgs:")
        status, body = fetch(first.url + "/api/accounts/people", {
            "email": "kept@example.org", "display_name": "Kept", "password": "Kept-data-2026",
            "preferred_language": "en"})
        assert status == 201, body
        # The worker sends the reset e-mail (printed to its log: no SMTP server is set).
        status, body = fetch(first.url + "/api/accounts/password-reset",
                             {"email": "kept@example.org"})
        assert status == 202, body
        worker_log = data_dir / "logs" / "worker.log"
        deadline = time.monotonic() + 30
        while "/accounts/reset/" not in worker_log.read_text(errors="replace"):
            assert time.monotonic() < deadline, worker_log.read_text(errors="replace")
            time.sleep(0.5)
        children = first.descendants()
        assert len(children) >= 4  # ledger, worker, web master and its worker
        first.process.send_signal(signal.SIGINT)
        assert first.process.wait(60) == 0, first.output()
        assert "OneTeam stopped." in first.output()
        leftovers = wait_gone(children, 10)
        assert leftovers == []
    finally:
        first.close()
    for name in ("secret_key", "kek", "demo_password", "db.sqlite3"):
        assert (data_dir / "platform" / name).exists()
    assert oct((data_dir / "platform" / "secret_key").stat().st_mode & 0o777) == "0o600"

    second = Up(data_dir, port, ledger_port)
    try:
        second.wait_for(BANNER)
        assert "loaded demo data" not in second.output()
        status, body = fetch(second.url + "/api/accounts/tokens/by-password", {
            "email": "kept@example.org", "password": "Kept-data-2026", "name": "second run"})
        assert status == 201, body
        password = (data_dir / "platform" / "demo_password").read_text().strip()
        status, body = fetch(second.url + "/api/accounts/tokens/by-password", {
            "email": "learner@demo.oneteam.example", "password": password, "name": "demo"})
        assert status == 201, body
        # Killed outright, the supervisor takes its children along (PR_SET_PDEATHSIG).
        children = second.descendants()
        second.process.kill()
        second.process.wait(10)
        leftovers = wait_gone(children, 30)
        assert leftovers == []
    finally:
        second.close()
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)


def test_up_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "oneteam.cli", "up", "--data-dir", str(tmp_path),
             "--port", str(port), "--ledger-port", str(free_port())],
            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
