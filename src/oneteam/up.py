"""``oneteam up``: the whole platform on one machine, as child processes of one supervisor.

In order: lay out the data directory (keys and secrets on first run), start one ledger
validator (``oneteam ledger start``; ``ledger init`` first on a new directory) and wait
until it answers, migrate the database, load the demo alliance (each demo loader once
per database), then start the web server (``oneteam web``: gunicorn, threaded workers)
and the task worker (``oneteam worker``), wait until the web server answers, and print
where everything is. Ctrl-C or SIGTERM stops the web server, the worker and the ledger,
in that order, each with SIGTERM (SIGKILL after a grace period). Every child is told to
die with the supervisor (``PR_SET_PDEATHSIG``), so a supervisor killed with SIGKILL
leaves nothing behind. Running it again keeps the data.

This module sits beside ``cli.py``, above the ledger and the platform: it may start
both, and it is not a platform app.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

PARENT_PID_ENV = "ONETEAM_PARENT_PID"
PR_SET_PDEATHSIG = 1
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0
POLL_INTERVAL_S = 0.25


def die_with_parent() -> None:
    """In a child of ``oneteam up``: ask the kernel for SIGTERM when the supervisor dies.

    Called first thing by ``oneteam`` when ``ONETEAM_PARENT_PID`` is set. If the
    supervisor died before the signal was armed, exit at once.
    """
    expected = os.environ.get(PARENT_PID_ENV)
    if not expected:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: children are still stopped by the supervisor's own handler
    if str(os.getppid()) != expected:
        os._exit(0)


def default_web_workers() -> int:
    """Web processes: two per core and one more, the usual sizing for threaded workers."""
    return 2 * (os.cpu_count() or 1) + 1


class UpError(Exception):
    """`oneteam up` cannot go on; the message says why and what to do."""


@dataclass(slots=True)
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass(slots=True)
class Options:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    ledger_port: int = 7545
    web_workers: int = field(default_factory=default_web_workers)
    web_threads: int = 4
    demo: bool = True
    verify_mode: str = "processes"


def _check_port_free(host: str, port: int, option: str) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UpError(f"cannot listen on {host}:{port} ({error.strerror}); "
                          f"choose another port with {option}") from None


def _answers(url: str, timeout_s: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Supervisor:
    """Starts the children, watches them, and stops them all, in reverse order."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.root = options.data_dir.resolve()
        self.logs = self.root / "logs"
        self.children: list[Child] = []
        self.stopping = False

    @property
    def url(self) -> str:
        host = f"[{self.options.host}]" if ":" in self.options.host else self.options.host
        return f"http://{host}:{self.options.port}"

    @property
    def ledger_url(self) -> str:
        return f"http://127.0.0.1:{self.options.ledger_port}"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "ONETEAM_DATA_DIR": str(self.root),
            "ONETEAM_LEDGER_URL": self.ledger_url,
            "DJANGO_SETTINGS_MODULE": "oneteam.platform.settings",
            # The queue is the database's, drained by the worker this supervisor starts.
            "ONETEAM_TASKS": "database",
            "PYTHONUNBUFFERED": "1",
            PARENT_PID_ENV: str(os.getpid()),
        })
        if not (env.get("ONETEAM_DID_HOST") or env.get("ONETEAM_BASE_URL")):
            # The member organizations' did:web identities name this web server (the same
            # in every process, pages or background tasks); a wildcard, an IPv6 address or
            # a name without a dot (localhost) cannot be a did:web host: loopback stands in.
            host = self.options.host
            if host == "0.0.0.0" or ":" in host or "." not in host:
                host = "127.0.0.1"
            env["ONETEAM_DID_HOST"] = f"{host}:{self.options.port}"
        return env

    def start_child(self, name: str, arguments: list[str]) -> Child:
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "oneteam.cli", *arguments], stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, env=self.environment(),
                # Its own session: a Ctrl-C in the terminal reaches the supervisor only,
                # which then stops the children in order.
                start_new_session=True)
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def wait_until(self, child: Child, ready: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.stopping:
            if child.process.poll() is not None:
                raise UpError(f"the {child.name} stopped while starting "
                              f"(exit status {child.process.returncode}); see {child.log}")
            if check():
                return
            if time.monotonic() > deadline:
                raise UpError(f"the {child.name} did not answer within "
                              f"{READY_TIMEOUT_S:.0f} s ({ready}); see {child.log}")
            time.sleep(POLL_INTERVAL_S)
        raise KeyboardInterrupt

    def stop_all(self) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
            try:
                child.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                print(f"the {child.name} did not stop within {STOP_TIMEOUT_S:.0f} s; killing it",
                      file=sys.stderr)
                child.process.kill()
                child.process.wait(5)

    def ledger(self) -> Child:
        from oneteam.ledger.client import LedgerClientError, SyncLedgerClient
        from oneteam.ledger.server import GENESIS_FILE, init_data_dir

        ledger_dir = self.root / "ledger"
        if not (ledger_dir / GENESIS_FILE).exists():
            info = init_data_dir(ledger_dir)
            print(f"created a development chain {info['chain_id']} in {ledger_dir}", flush=True)
        child = self.start_child("ledger", [
            "ledger", "start", "--data-dir", str(ledger_dir), "--host", "127.0.0.1",
            "--port", str(self.options.ledger_port), "--verify-mode", self.options.verify_mode])
        client = SyncLedgerClient(self.ledger_url, timeout_s=2)

        def answers() -> bool:
            try:
                client.status()
            except (LedgerClientError, OSError):
                return False
            return True

        self.wait_until(child, "ledger status", answers)
        return child

    def prepare_database(self) -> list[tuple[str, str]]:
        """Migrate, load the demo data; returns the demo sign-ins (empty without demo)."""
        os.environ.update({key: value for key, value in self.environment().items()
                           if key != PARENT_PID_ENV})
        import django
        from django.core.management import call_command
        from django.db import connections

        django.setup()
        print("migrating the database ...", flush=True)
        call_command("migrate", interactive=False, verbosity=0)
        sign_ins: list[tuple[str, str]] = []
        if self.options.demo:
            from oneteam.accounts.models import Person
            from oneteam.platform.demo import demo_sign_ins, load_demo

            for name in load_demo():
                print(f"loaded demo data: {name}", flush=True)
            present = set(Person.objects.filter(is_demo=True).values_list("email", flat=True))
            sign_ins = [(key, email) for key, email in demo_sign_ins() if email in present]
        connections.close_all()
        return sign_ins

    def run(self) -> int:
        options = self.options
        _check_port_free(options.host, options.port, "--port")
        _check_port_free("127.0.0.1", options.ledger_port, "--ledger-port")
        self.root.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        from oneteam.platform import datadir

        datadir.secret_key(self.root)
        datadir.key_encryption_key(self.root)
        demo_password = datadir.demo_password(self.root) if options.demo else ""

        def on_signal(signum: int, frame: FrameType | None) -> None:
            self.stopping = True

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            return self._run(demo_password)
        except KeyboardInterrupt:
            return 0
        finally:
            self.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            print("OneTeam stopped.", flush=True)

    def _run(self, demo_password: str) -> int:
        options = self.options
        print(f"starting the ledger validator on {self.ledger_url} ...", flush=True)
        self.ledger()
        sign_ins = self.prepare_database()
        if self.stopping:
            return 0
        self.start_child("worker", ["worker"])
        print(f"starting the web server on {self.url} ({options.web_workers} processes, "
              f"{options.web_threads} threads each) ...", flush=True)
        web = self.start_child("web", [
            "web", "--host", options.host, "--port", str(options.port),
            "--workers", str(options.web_workers), "--threads", str(options.web_threads)])
        self.wait_until(web, "GET /healthz", lambda: _answers(f"{self.url}/healthz"))
        for line in self.banner(sign_ins, demo_password):
            print(line, flush=True)
        while not self.stopping:
            for child in self.children:
                if child.process.poll() is not None:
                    print(f"error: the {child.name} stopped (exit status "
                          f"{child.process.returncode}); see {child.log}", file=sys.stderr,
                          flush=True)
                    return 1
            time.sleep(POLL_INTERVAL_S)
        return 0

    def banner(self, sign_ins: list[tuple[str, str]], demo_password: str) -> Iterator[str]:
        yield ""
        yield f"OneTeam is running at {self.url}"
        yield f"  API and its documentation  {self.url}/api/docs"
        yield f"  ledger validator           {self.ledger_url}"
        yield f"  data                       {self.root}"
        yield f"  logs (e-mails in worker)   {self.logs}"
        if sign_ins:
            yield ""
            yield f"Demo sign-ins (password {demo_password}):"
            width = max(len(email) for _key, email in sign_ins)
            for key, email in sign_ins:
                yield f"  {email:<{width}}  {DEMO_ROLES.get(key, key)}"
        yield ""
        yield "Ctrl-C stops OneTeam; running `oneteam up` again keeps the data."


DEMO_ROLES = {
    "operator": "alliance operator",
    "admin": "administrator of KT",
    "instructor": "instructor at KAIST",
    "recruiter": "recruiter at LG Electronics",
    "learner": "learner, no organization",
    "student": "learner at Hanyang University",
    "teacher": "teacher at Seoul AI High School (a class)",
    "pupil": "pupil in that class",
}


def run(options: Options) -> int:
    try:
        return Supervisor(options).run()
    except UpError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def run_web(host: str, port: int, workers: int, threads: int) -> int:
    """``oneteam web``: the platform under gunicorn, threaded workers (gthread)."""
    from gunicorn.app.base import BaseApplication

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oneteam.platform.settings")
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    settings = {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "preload_app": True,
        "timeout": 60,
        "graceful_timeout": 15,
        "keepalive": 5,
        "max_requests": 20_000,
        "max_requests_jitter": 2_000,
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "oneteam-web",
        # No control socket: it would live in the home directory, shared by every instance.
        "control_socket_disable": True,
    }

    class WebServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> object:
            from oneteam.platform.wsgi import application

            return application

    WebServer().run()
    return 0


def run_worker() -> int:
    """``oneteam worker``: run background tasks from the database queue until stopped."""
    import django
    from django.core.management import call_command

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oneteam.platform.settings")
    django.setup()
    from oneteam.compute.worker import start_in_thread

    start_in_thread()  # the compute jobs (labs' submissions), beside the task queue
    call_command("db_worker", queue_name="*", reload=False, interval=1.0)
    return 0
