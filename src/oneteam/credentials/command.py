"""``oneteam verify``: verify an OpenBadgeCredential file, online or offline, without the
platform (no Django).

    oneteam verify FILE [--json] [--lang ko|en] [--ledger URL] [--status-list FILE ...]
    oneteam verify FILE --offline --headers HEADERS.json [--json]
    oneteam verify --save-headers HEADERS.json [--ledger URL]

Online, the anchor and membership checks ask the ledger node at ``--ledger`` (default
``ONETEAM_LEDGER_URL`` or http://127.0.0.1:7545), and status lists are fetched from the
URLs the credential names unless given with ``--status-list``. Offline, only what the
file carries and the saved header set are used: keys come from the ledger proof the
credential carries (checked against the set's validators), membership from the set's
member list, and status lists are not checked (a warning) unless given.

Exit status: 0 verified; 1 not verified (the failed checks are printed); 2 bad usage or
an unreadable file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oneteam.credentials.ledgercheck import LedgerView
    from oneteam.credentials.verify import VerificationReport

DEFAULT_LEDGER_URL = "http://127.0.0.1:7545"
CREDENTIAL_BYTES_MAX = 4 << 20
STATUS_LIST_BYTES_MAX = 8 << 20
FETCH_TIMEOUT_S = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", type=Path,
                        help="the credential (JSON); - reads standard input")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--offline", action="store_true",
                        help="use only the file and the saved header set (--headers)")
    parser.add_argument("--headers", type=Path,
                        help="a ledger header set saved with --save-headers")
    parser.add_argument("--save-headers", type=Path, metavar="FILE",
                        help="save the ledger's headers, validators and members to FILE")
    parser.add_argument("--ledger", default=None,
                        help="the ledger node's URL (default ONETEAM_LEDGER_URL or "
                        f"{DEFAULT_LEDGER_URL})")
    parser.add_argument("--status-list", type=Path, action="append", default=[],
                        help="a status list credential to use instead of fetching it")
    parser.add_argument("--lang", choices=("ko", "en"), default="ko",
                        help="language of the messages (default Korean)")


class FetchedStatusLists:
    """Status list credentials given as files, else fetched over HTTPS from their URL."""

    def __init__(self, given: Mapping[str, Mapping[str, Any]], *, fetch: bool) -> None:
        self.given = dict(given)
        self.fetch = fetch

    def status_list_credential(self, url: str) -> Mapping[str, Any]:
        if url in self.given:
            return self.given[url]
        if not self.fetch:
            raise LookupError(f"no status list was given for {url}")
        if not url.startswith("https://"):
            raise LookupError(f"status lists are fetched over HTTPS only, not {url}")
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as response:
            body = response.read(STATUS_LIST_BYTES_MAX + 1)
        if len(body) > STATUS_LIST_BYTES_MAX:
            raise LookupError(f"{url} is larger than {STATUS_LIST_BYTES_MAX} bytes")
        data = json.loads(body)
        if not isinstance(data, dict):
            raise LookupError(f"{url} is not a JSON object")
        return data


def _read_json(path: Path, what: str) -> Any:
    if str(path) == "-":
        text = sys.stdin.read(CREDENTIAL_BYTES_MAX + 1)
    else:
        if path.stat().st_size > CREDENTIAL_BYTES_MAX:
            raise ValueError(f"{path}: the {what} is larger than {CREDENTIAL_BYTES_MAX} bytes")
        text = path.read_text(encoding="utf-8")
    return text


def verify_file(text: str, *, ledger: LedgerView, offline: bool,
                status_lists: Mapping[str, Mapping[str, Any]]) -> VerificationReport:
    """The report for a credential's JSON text against ``ledger``."""
    from oneteam.credentials.ledgercheck import (
        LedgerKeyResolver,
        anchor_check,
        membership_check,
        offline_status_check,
        status_anchor_check,
    )
    from oneteam.credentials.verify import (
        DEFAULT_CHECKS,
        StaticStatusLists,
        check_status,
        verify_credential,
    )

    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    resolver = LedgerKeyResolver(parsed if isinstance(parsed, Mapping) else {}, ledger)
    checks = DEFAULT_CHECKS
    if offline and not status_lists:
        checks = tuple(offline_status_check if check is check_status else check
                       for check in DEFAULT_CHECKS)
    source = (StaticStatusLists(status_lists) if offline
              else FetchedStatusLists(status_lists, fetch=True))
    return verify_credential(text, resolver=resolver, status_lists=source, checks=checks,
                             extra_checks=(anchor_check(ledger), membership_check(ledger),
                                           status_anchor_check(ledger)))


def _print_report(report: VerificationReport, language: str) -> None:
    from oneteam.credentials.verify import FAILED, UNSUPPORTED

    marks = {"passed": "✓", "failed": "✗", "warning": "!", "skipped": "-", "unsupported": "?"}
    for check in report.checks:
        print(f"{marks.get(check.status, '?')} {check.code:<11} {check.status:<11} "
              f"{check.summary.text(language)}")
        for problem in check.problems:
            where = f" ({problem.path})" if problem.path else ""
            print(f"    {problem.code}{where}: {problem.message.text(language)}")
    if report.verified:
        print("verified" if language == "en" else "검증되었습니다 (verified)")
    else:
        failed = [c.code for c in report.checks if c.status in (FAILED, UNSUPPORTED)]
        label = "not verified; failed checks" if language == "en" else \
            "검증 실패 (not verified); 실패한 검사"
        print(f"{label}: {', '.join(failed) or 'proof'}")


def run(args: argparse.Namespace) -> int:
    url = args.ledger or os.environ.get("ONETEAM_LEDGER_URL") or DEFAULT_LEDGER_URL
    from oneteam.credentials.ledgercheck import HeaderSet, OnlineLedger, fetch_header_set
    from oneteam.ledger.client import LedgerClientError, SyncLedgerClient

    if args.save_headers is not None:
        def progress(done: int, total: int) -> None:
            print(f"\rheaders {done}/{total}", end="", file=sys.stderr, flush=True)

        try:
            header_set = fetch_header_set(url, progress=progress)
        except (LedgerClientError, OSError) as error:
            print(f"\nerror: the ledger at {url}: {error}", file=sys.stderr)
            return 2
        print(file=sys.stderr)
        args.save_headers.write_text(json.dumps(header_set.to_json(), indent=1) + "\n",
                                     encoding="utf-8")
        print(f"saved chain {header_set.chain_id} to height {header_set.saved_height}: "
              f"{len(header_set.headers)} headers, {len(header_set.validators)} validators, "
              f"{len(header_set.members)} members -> {args.save_headers}")
        if args.file is None:
            return 0
    if args.file is None:
        print("error: name the credential FILE (or use --save-headers FILE)", file=sys.stderr)
        return 2
    try:
        text = _read_json(args.file, "credential")
        given: dict[str, Mapping[str, Any]] = {}
        for path in args.status_list:
            data = json.loads(_read_json(path, "status list"))
            if not isinstance(data, dict) or not isinstance(data.get("id"), str):
                raise ValueError(f"{path}: not a status list credential")
            given[data["id"]] = data
        ledger: LedgerView | HeaderSet
        if args.offline:
            if args.headers is None:
                print("error: --offline needs --headers FILE (save one with --save-headers)",
                      file=sys.stderr)
                return 2
            ledger = HeaderSet.load(args.headers)
        else:
            pinned = HeaderSet.load(args.headers).validators if args.headers else None
            ledger = OnlineLedger(SyncLedgerClient(url, timeout_s=FETCH_TIMEOUT_S),
                                  validators=pinned)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except LedgerClientError as error:
        print(f"error: the ledger at {url} does not answer ({error}); "
              "use --offline --headers FILE", file=sys.stderr)
        return 2
    report = verify_file(text, ledger=ledger, offline=args.offline, status_lists=given)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=1))
    else:
        _print_report(report, args.lang)
    return 0 if report.verified else 1
