"""``oneteam bench web``: the web app's throughput and latency, as ``oneteam up`` runs it.

It starts ``oneteam up`` in a fresh data directory against PostgreSQL (a database it
creates and drops, or ``--database-url``), signs in as the demo learner, and measures
two pages: the lesson page (the learner's next lesson, found on the dashboard) and the
learner dashboard. For each page it runs

- an **open-loop** phase: requests start at ``--rate`` per second, spread over
  ``--clients`` concurrent connections, for ``--duration-s``; latency is measured from
  each request's scheduled start, so a server that falls behind shows it (no
  coordinated omission);
- a **closed-loop** phase: every client sends its next request as soon as the last is
  answered, for the highest rate the server sustains.

Like the ledger's benchmark, it prints figures (``--json`` for a JSON object) and
asserts nothing: targets are compared in docs/BENCHMARKS.md.

The module imports neither Django nor the platform: it drives them over HTTP as a
user's browser would, and the server it measures runs in other processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEMO_LEARNER = "learner@demo.oneteam.example"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
READY_TIMEOUT_S = 240.0
REQUEST_TIMEOUT_S = 30.0
LESSON_LINK = re.compile(r'href="(/academy/[^"]*lessons?/[^"]+)"')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", type=int, default=50, help="concurrent connections")
    parser.add_argument("--rate", type=float, default=300.0,
                        help="requests per second of the open-loop phase")
    parser.add_argument("--duration-s", type=float, default=20.0,
                        help="length of each measured phase")
    parser.add_argument("--warmup-s", type=float, default=3.0,
                        help="requests before measuring, not counted")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL to use (default: a new database on the local "
                        "server, dropped afterwards)")
    parser.add_argument("--web-workers", type=int, default=None,
                        help="web server processes (default: as `oneteam up` chooses)")
    parser.add_argument("--lesson-path", default=None,
                        help="the lesson page to measure (default: the learner's next "
                        "lesson, from the dashboard)")
    parser.add_argument("--json", action="store_true")


@dataclass(frozen=True, slots=True)
class PhaseResult:
    page: str
    path: str
    mode: str  # "open" (fixed arrival rate) or "closed" (as fast as answered)
    clients: int
    target_rps: float | None
    requests: int
    errors: int
    achieved_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"percentile fraction {fraction} is not within 0..1")
    rank = max(1, min(len(sorted_values), int(-(-fraction * len(sorted_values) // 1))))
    return sorted_values[rank - 1]


def find_lesson_path(html: str) -> str | None:
    """The first link to a lesson page in a dashboard's HTML."""
    match = LESSON_LINK.search(html)
    return None if match is None else match.group(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    """The database to measure against: ``url``, or a fresh one dropped at the end."""
    if url is not None:
        yield url
        return
    import psycopg

    name = f"oneteam_bench_{os.getpid()}"
    try:
        admin = psycopg.connect(DEFAULT_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        raise RuntimeError(
            "the web benchmark needs PostgreSQL: none answers at 127.0.0.1:5432 "
            f"({error}); start one or pass --database-url") from None
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(DEFAULT_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _platform(database_url: str, web_workers: int | None) -> Iterator[tuple[str, Path]]:
    """``oneteam up`` in a temporary data directory; yields its URL and data dir."""
    data_dir = Path(tempfile.mkdtemp(prefix="oneteam-bench-web-"))
    port, ledger_port = _free_port(), _free_port()
    command = [sys.executable, "-m", "oneteam.cli", "up", "--data-dir", str(data_dir),
               "--port", str(port), "--ledger-port", str(ledger_port)]
    if web_workers is not None:
        command += ["--web-workers", str(web_workers)]
    env = {**os.environ, "DATABASE_URL": database_url}
    log = (data_dir.parent / f"{data_dir.name}.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        yield url, data_dir
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        Path(log.name).unlink(missing_ok=True)


async def _wait_ready(session: Any, url: str, data_dir: Path) -> str:
    """Wait until the site answers and the demo data is in; returns the demo password."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    password_file = data_dir / "platform" / "demo_password"
    while time.monotonic() < deadline:
        try:
            async with session.get(url + "/healthz") as response:
                if response.status == 200 and password_file.exists():
                    return password_file.read_text().strip()
        except OSError:
            pass
        await asyncio.sleep(0.5)
    raise RuntimeError(f"`oneteam up` did not answer at {url} within {READY_TIMEOUT_S:.0f} s; "
                       f"see {data_dir.parent / (data_dir.name + '.log')}")


async def _sign_in(session: Any, url: str, password: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        async with session.get(url + "/accounts/sign-in/") as response:
            page = await response.text()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if token is None:
            raise RuntimeError("the sign-in page has no CSRF token")
        form = {"csrfmiddlewaretoken": token.group(1), "email": DEMO_LEARNER,
                "password": password}
        async with session.post(url + "/accounts/sign-in/", data=form,
                                headers={"Referer": url + "/accounts/sign-in/"},
                                allow_redirects=False) as response:
            if response.status in (302, 303):
                return
        if time.monotonic() > deadline:  # the demo people may still be loading
            raise RuntimeError(f"signing in as {DEMO_LEARNER} failed")
        await asyncio.sleep(1.0)


async def _one(session: Any, url: str) -> bool:
    async with session.get(url, allow_redirects=False) as response:
        await response.read()
        return bool(response.status == 200)


async def _open_loop(session: Any, url: str, *, rate: float, clients: int,
                     duration_s: float) -> tuple[list[float], int, float]:
    """Requests start on a fixed schedule; latency counts from the scheduled start."""
    total = int(rate * duration_s)
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    began = time.perf_counter()

    async def client() -> None:
        nonlocal errors
        while True:
            scheduled = await queue.get()
            if scheduled is None:
                return
            try:
                ok = await _one(session, url)
            except (TimeoutError, OSError):
                ok = False
            latencies.append(time.perf_counter() - scheduled)
            errors += not ok

    workers = [asyncio.create_task(client()) for _ in range(clients)]
    for index in range(total):
        scheduled = began + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(scheduled)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return latencies, errors, time.perf_counter() - began


async def _closed_loop(session: Any, url: str, *, clients: int,
                       duration_s: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    began = time.perf_counter()
    stop_at = began + duration_s

    async def client() -> None:
        nonlocal errors
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            try:
                ok = await _one(session, url)
            except (TimeoutError, OSError):
                ok = False
            latencies.append(time.perf_counter() - start)
            errors += not ok

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - began


def _summary(page: str, path: str, mode: str, *, clients: int, rate: float | None,
             latencies: list[float], errors: int, elapsed_s: float) -> PhaseResult:
    ordered = sorted(latencies)
    return PhaseResult(
        page=page, path=path, mode=mode, clients=clients, target_rps=rate,
        requests=len(ordered), errors=errors,
        achieved_rps=round(len(ordered) / elapsed_s, 1) if elapsed_s > 0 else 0.0,
        p50_ms=round(percentile(ordered, 0.50) * 1000, 1),
        p95_ms=round(percentile(ordered, 0.95) * 1000, 1),
        p99_ms=round(percentile(ordered, 0.99) * 1000, 1),
        max_ms=round((ordered[-1] if ordered else 0.0) * 1000, 1))


async def _measure(url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=args.clients)
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with aiohttp.ClientSession(timeout=timeout, connector=connector,
                                     cookie_jar=jar) as session:
        password = await _wait_ready(session, url, data_dir)
        await _sign_in(session, url, password)
        async with session.get(url + "/dashboard/") as response:
            dashboard = await response.text()
            if response.status != 200:
                raise RuntimeError(f"the learner dashboard answered {response.status}")
        lesson = args.lesson_path or find_lesson_path(dashboard)
        if lesson is None:
            raise RuntimeError("the learner dashboard links no lesson; pass --lesson-path")
        pages = [("lesson", lesson), ("learner_dashboard", "/dashboard/")]
        results: list[PhaseResult] = []
        for page, path in pages:
            target = url + path
            if not await _one(session, target):
                raise RuntimeError(f"{path} does not answer 200 for the demo learner")
            await _closed_loop(session, target, clients=args.clients,
                               duration_s=args.warmup_s)
            latencies, errors, elapsed = await _open_loop(
                session, target, rate=args.rate, clients=args.clients,
                duration_s=args.duration_s)
            results.append(_summary(page, path, "open", clients=args.clients,
                                    rate=args.rate, latencies=latencies, errors=errors,
                                    elapsed_s=elapsed))
            latencies, errors, elapsed = await _closed_loop(
                session, target, clients=args.clients, duration_s=args.duration_s)
            results.append(_summary(page, path, "closed", clients=args.clients, rate=None,
                                    latencies=latencies, errors=errors, elapsed_s=elapsed))
    return {"benchmark": "web", "database": "postgresql", "cpus": os.cpu_count(),
            "clients": args.clients, "rate": args.rate, "duration_s": args.duration_s,
            "phases": [asdict(r) for r in results]}


def _check(args: argparse.Namespace) -> None:
    if args.clients < 1 or args.rate <= 0 or args.duration_s <= 0 or args.warmup_s < 0:
        raise ValueError("--clients, --rate and --duration-s must be positive, "
                         "--warmup-s not negative")
    if args.lesson_path is not None and not args.lesson_path.startswith("/"):
        raise ValueError("--lesson-path is a path on the site, starting with /")
    if args.database_url is not None and urllib.parse.urlsplit(
            args.database_url).scheme not in ("postgres", "postgresql"):
        raise ValueError("--database-url must be a postgres:// or postgresql:// URL")


def run(args: argparse.Namespace) -> int:
    _check(args)
    with _database(args.database_url) as database_url, \
            _platform(database_url, args.web_workers) as (url, data_dir):
        report = asyncio.run(_measure(url, data_dir, args))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"web benchmark: {args.clients} clients, PostgreSQL, {os.cpu_count()} CPUs")
    for phase in report["phases"]:
        rate = f"at {phase['target_rps']:.0f} req/s" if phase["target_rps"] else "flat out"
        print(f"  {phase['page']:<18} {rate:<14} {phase['achieved_rps']:>7.1f} req/s  "
              f"p50 {phase['p50_ms']:>6.1f} ms  p95 {phase['p95_ms']:>6.1f} ms  "
              f"p99 {phase['p99_ms']:>6.1f} ms  errors {phase['errors']}")
    return 0
