"""The ``oneteam`` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

DEFAULT_DATA_DIR = Path(os.environ.get("ONETEAM_DATA_DIR", ".oneteam"))
DEFAULT_URL = os.environ.get("ONETEAM_LEDGER_URL", "http://127.0.0.1:7545")


def _ledger_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ledger = sub.add_parser("ledger", help="the consortium ledger: keys, node, benchmark")
    lsub = ledger.add_subparsers(dest="ledger_command", required=True)

    keygen = lsub.add_parser("keygen", help="write a new Ed25519 key file (mode 600)")
    keygen.add_argument("path", type=Path)
    keygen.add_argument("--label", default="")
    keygen.add_argument("--encrypt", action="store_true",
                        help="encrypt the seed with a passphrase (ONETEAM_KEY_PASSPHRASE, "
                        "or asked for)")

    init = lsub.add_parser("init", help="create a node's data directory and genesis")
    init.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR / "ledger")
    init.add_argument("--chain-id", default="oneteam-dev")

    start = lsub.add_parser("start", help="run a validator node")
    _node_options(start)

    status = lsub.add_parser("status", help="ask a node for its status")
    status.add_argument("--url", default=DEFAULT_URL)
    status.add_argument("--json", action="store_true")

    testnet = lsub.add_parser("testnet", help="run several validators on loopback")
    testnet.add_argument("--validators", type=int, default=4)
    testnet.add_argument("--dir", type=Path, default=DEFAULT_DATA_DIR / "testnet")
    testnet.add_argument("--base-port", type=int, default=7600,
                         help="API ports from here, peer-link ports from here + 100")

    sim = lsub.add_parser("sim", help="simulate consensus under faults, one seed per run")
    sim.add_argument("--seeds", type=int, default=100, help="how many seeds to run")
    sim.add_argument("--start", type=int, default=0, help="the first seed")
    sim.add_argument("--validators", type=int, default=4)
    sim.add_argument("--heights", type=int, default=3,
                     help="heights every honest validator must decide")
    sim.add_argument("--json", action="store_true")

    bench = lsub.add_parser("bench", help="measure committed TPS against the verify ceiling")
    from oneteam.ledger.bench import add_arguments

    add_arguments(bench)


def _node_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR / "ledger")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7545)
    parser.add_argument("--serial", action="store_true",
                        help="verify and execute one transaction after another")
    parser.add_argument("--block-txs-max", type=int, default=4096)
    parser.add_argument("--block-interval-ms", type=int, default=50)
    parser.add_argument("--mempool-capacity", type=int, default=200_000)
    parser.add_argument("--exec-workers", type=int, default=1)
    parser.add_argument("--verify-workers", type=int, default=None)
    parser.add_argument("--p2p-host", default="127.0.0.1",
                        help="address for links with other validators (several validators)")
    parser.add_argument("--p2p-port", type=int, default=0,
                        help="port for links with other validators (default: from peers.json)")
    parser.add_argument("--peers", type=Path, default=None,
                        help="address book of the validators (default: DATA_DIR/peers.json)")
    consensus = parser.add_argument_group(
        "several validators", "settings of the consensus engine (ignored on a single validator)")
    consensus.add_argument("--batch-interval-ms", type=int, default=20,
                           help="how often admitted transactions are packed into batches")
    consensus.add_argument("--batch-txs-max", type=int, default=2048,
                           help="transactions per batch, at most")
    consensus.add_argument("--empty-block-wait-ms", type=int, default=1000,
                           help="after a height, how long to wait for work before an empty "
                           "block")
    consensus.add_argument("--propose-timeout-ms", type=int, default=1000,
                           help="propose timeout of round 0 (grows by half of it a round)")
    consensus.add_argument("--vote-timeout-ms", type=int, default=500,
                           help="prevote and precommit timeouts of round 0 (grow by half a "
                           "round)")
    parser.add_argument("--verify-mode", choices=("threads", "processes"), default="processes",
                        help="verify signatures on a process pool (default: measured faster, "
                        "see docs/BENCHMARKS.md) or a thread pool")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oneteam", description="OneTeam: the AI alliance's "
                                     "platform and consortium ledger")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    _platform_parsers(sub)
    _ledger_parser(sub)
    verify = sub.add_parser("verify", help="verify an Open Badges credential file: each "
                            "check, online or --offline with a saved ledger header set")
    from oneteam.credentials.command import add_arguments as add_verify_arguments

    add_verify_arguments(verify)
    bench = sub.add_parser("bench", help="benchmarks of the platform (the ledger's: "
                           "`oneteam ledger bench`)")
    bsub = bench.add_subparsers(dest="bench_command", required=True)
    web = bsub.add_parser("web", help="requests per second and latency of the lesson page "
                          "and the learner dashboard, against PostgreSQL, as `oneteam up` "
                          "serves them")
    from oneteam.webbench import add_arguments as add_web_arguments

    add_web_arguments(web)
    grading = bsub.add_parser("grading", help="jobs per minute and per-job overhead of the "
                              "local sandbox, grading queued submissions of the digits lab")
    from oneteam.compute.bench import add_arguments as add_grading_arguments

    add_grading_arguments(grading)
    talent = bsub.add_parser("talent", help="talent search (a million synthetic profiles) "
                             "and deferred acceptance (100,000 applicants), on synthetic data")
    from oneteam.talent.bench import add_arguments as add_talent_arguments

    add_talent_arguments(talent)
    credentials = bsub.add_parser("credentials", help="Open Badges credentials issued "
                                  "(signed, stored, anchored on the ledger) and verified per "
                                  "second, for each cryptosuite")
    from oneteam.credentials.bench import add_arguments as add_credentials_arguments

    add_credentials_arguments(credentials)
    _labs_parser(sub)
    return parser


def _labs_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    labs = sub.add_parser("labs", help="lab and challenge bundles: check, build, grade")
    lsub = labs.add_subparsers(dest="labs_command", required=True)
    check = lsub.add_parser("check", help="validate a bundle (a folder or a zip)")
    check.add_argument("path", type=Path)
    build = lsub.add_parser("build", help="build one of the platform's labs into a folder")
    build.add_argument("slug")
    build.add_argument("destination", type=Path)
    grade = lsub.add_parser("grade", help="grade a submission in the local sandbox")
    grade.add_argument("bundle", type=Path, help="a bundle folder or zip")
    grade.add_argument("files", type=Path, nargs="+", help="the submission's files")
    grade.add_argument("--json", action="store_true")


def _platform_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from oneteam.up import default_web_workers

    up = sub.add_parser("up", help="run OneTeam locally: ledger validator, web server, worker")
    up.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                    help="where everything is kept (default .oneteam, or ONETEAM_DATA_DIR)")
    up.add_argument("--host", default="127.0.0.1", help="address of the web server")
    up.add_argument("--port", type=int, default=8000, help="port of the web server")
    up.add_argument("--ledger-port", type=int, default=7545,
                    help="port of the ledger validator's API (on 127.0.0.1)")
    up.add_argument("--web-workers", type=int, default=default_web_workers(),
                    help="web server processes (default: 2 per core + 1)")
    up.add_argument("--web-threads", type=int, default=4, help="threads per web process")
    up.add_argument("--no-demo", action="store_true",
                    help="do not load the demo alliance into a new database")
    up.add_argument("--verify-mode", choices=("threads", "processes"), default="processes",
                    help="how the ledger validator verifies signatures")

    web = sub.add_parser("web", help="run the web server alone (gunicorn, threaded workers)")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8000)
    web.add_argument("--workers", type=int, default=default_web_workers())
    web.add_argument("--threads", type=int, default=4)

    sub.add_parser("worker", help="run the background task worker alone")

    manage = sub.add_parser("manage", help="a Django management command, e.g. `oneteam manage "
                            "createsuperuser`", add_help=False)
    manage.add_argument("arguments", nargs=argparse.REMAINDER)

    messages = sub.add_parser("messages", help="update and compile the Korean translations "
                              "(pure Python, no GNU gettext)")
    messages.add_argument("--check", action="store_true",
                          help="change nothing; report untranslated or stale messages")


def _engine_settings(args: argparse.Namespace) -> dict[str, object]:
    """The consensus engine's settings from the command line; ValueError names a bad one."""
    from oneteam.ledger.consensus.core import TimeoutConfig

    for name in ("batch_interval_ms", "batch_txs_max", "propose_timeout_ms",
                 "vote_timeout_ms"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    if args.empty_block_wait_ms < 0:
        raise ValueError("--empty-block-wait-ms must not be negative")
    propose, vote = args.propose_timeout_ms, args.vote_timeout_ms
    return {
        "batch_interval_ms": args.batch_interval_ms,
        "batch_txs_max": args.batch_txs_max,
        "empty_block_wait_ms": args.empty_block_wait_ms,
        "timeouts": TimeoutConfig(propose_ms=propose, propose_delta_ms=max(1, propose // 2),
                                  prevote_ms=vote, prevote_delta_ms=max(1, vote // 2),
                                  precommit_ms=vote, precommit_delta_ms=max(1, vote // 2)),
    }


def _start(args: argparse.Namespace, *, init_if_missing: bool) -> int:
    from oneteam.ledger.server import GENESIS_FILE, init_data_dir, open_node, serve

    settings = _engine_settings(args)
    if not (args.data_dir / GENESIS_FILE).exists():
        if not init_if_missing:
            print(f"error: {args.data_dir} is not initialized; run: oneteam ledger init "
                  f"--data-dir {args.data_dir}", file=sys.stderr)
            return 2
        info = init_data_dir(args.data_dir)
        print(f"initialized {args.data_dir} (chain {info['chain_id']})")
    node = open_node(
        args.data_dir,
        serial=args.serial,
        block_txs_max=args.block_txs_max,
        block_interval_ms=args.block_interval_ms,
        mempool_capacity=args.mempool_capacity,
        exec_workers=args.exec_workers,
        verify_workers=args.verify_workers,
        verify_mode=args.verify_mode,
    )
    from oneteam.ledger.server import NodeFailed, open_engine

    try:
        engine = open_engine(node, p2p_host=args.p2p_host, p2p_port=args.p2p_port,
                             peers_file=args.peers, settings=settings)
    except (FileNotFoundError, ValueError):
        node.store.close()
        raise
    try:
        asyncio.run(serve(node, args.host, args.port, engine=engine))
    except NodeFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    from oneteam.up import die_with_parent

    die_with_parent()  # a child of `oneteam up` dies with it
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return _dispatch(args)
    except (FileNotFoundError, FileExistsError, PermissionError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


PLATFORM_COMMANDS = frozenset({"up", "web", "worker", "manage", "messages"})


def _platform(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oneteam.platform.settings")
    if args.command == "up":
        from oneteam.up import Options, run

        for name in ("port", "ledger_port", "web_workers", "web_threads"):
            if getattr(args, name) < 1:
                print(f"error: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
                return 2
        return run(Options(data_dir=args.data_dir, host=args.host, port=args.port,
                           ledger_port=args.ledger_port, web_workers=args.web_workers,
                           web_threads=args.web_threads, demo=not args.no_demo,
                           verify_mode=args.verify_mode))
    if args.command == "web":
        from oneteam.up import run_web

        return run_web(args.host, args.port, args.workers, args.threads)
    if args.command == "worker":
        from oneteam.up import run_worker

        return run_worker()
    if args.command == "manage":
        from django.core.management import execute_from_command_line

        execute_from_command_line(["oneteam manage", *args.arguments])
        return 0
    if args.command == "messages":
        from oneteam.platform.i18n import run as run_messages

        return run_messages(check=args.check)
    raise AssertionError(f"unhandled command {args.command}")


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in PLATFORM_COMMANDS:
        return _platform(args)
    if args.command == "labs":
        from oneteam.labs.cli import run as run_labs

        return run_labs(args)
    if args.command == "bench" and args.bench_command == "talent":
        from oneteam.talent.bench import run as run_talent_bench

        return run_talent_bench(args)
    if args.command == "bench" and args.bench_command == "credentials":
        from oneteam.credentials.bench import run as run_credentials_bench

        return run_credentials_bench(args)
    if args.command == "bench" and args.bench_command == "grading":
        from oneteam.compute.bench import run as run_grading_bench

        return run_grading_bench(args)
    if args.command == "verify":
        from oneteam.credentials.command import run as run_verify

        return run_verify(args)
    if args.command == "bench":
        from oneteam.webbench import run as run_web_bench

        try:
            return run_web_bench(args)
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    command = args.ledger_command
    if command == "keygen":
        from oneteam.ledger.keys import KeyPair, write_key_file

        passphrase = None
        if args.encrypt:
            import getpass

            from oneteam.ledger.keys import PASSPHRASE_ENV

            passphrase = os.environ.get(PASSPHRASE_ENV) or getpass.getpass("passphrase: ")
            if not passphrase:
                print("error: an empty passphrase encrypts nothing", file=sys.stderr)
                return 2
        keypair = KeyPair.generate()
        write_key_file(args.path, keypair, label=args.label, passphrase=passphrase)
        print(keypair.public_key.hex())
        return 0
    if command == "init":
        from oneteam.ledger.server import init_data_dir

        info = init_data_dir(args.data_dir, chain_id=args.chain_id)
        print(json.dumps(info, indent=2))
        return 0
    if command == "start":
        return _start(args, init_if_missing=False)
    if command == "status":
        from oneteam.ledger.client import LedgerClientError, SyncLedgerClient

        try:
            status = SyncLedgerClient(args.url, timeout_s=5).status()
        except LedgerClientError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(status, indent=2))
        else:
            stats = status["statistics"]
            print(f"chain {status['chain_id']}  height {status['height']}  "
                  f"tip {status['tip_hash'][:16]}…  mempool {stats['mempool']['pending']}  "
                  f"committed {stats['committed_txs']} txs")
        return 0
    if command == "testnet":
        from oneteam.ledger.testnet import run as run_testnet

        return run_testnet(args.dir, args.validators, args.base_port)
    if command == "sim":
        from oneteam.ledger.consensus.sim import run_cli

        return run_cli(seeds=args.seeds, start=args.start, validators=args.validators,
                       heights=args.heights, as_json=args.json)
    if command == "bench":
        from oneteam.ledger.bench import run

        return run(args)
    raise AssertionError(f"unhandled command {command}")


if __name__ == "__main__":
    sys.exit(main())
