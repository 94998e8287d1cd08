"""``oneteam bench credentials``: credentials issued and verified per second, per cryptosuite.

Two parts, each run for ``eddsa-rdfc-2022`` and ``eddsa-jcs-2022``:

- **verify**: ``--count`` Open Badges credentials of one issuer (a ``did:web``
  organization with a revocation and a suspension list, as the platform issues them) are
  verified with every check the verifier runs without the ledger: structure, JSON-LD
  (undefined terms), the issuer's key, the proof, both status lists (each list
  credential's own proof included) and the validity dates. Once in this process, and
  once spread over ``--workers`` processes (the documents travel to them as JSON, and
  that is counted).
- **issue**: the platform itself, in a fresh data directory (SQLite, or ``--database-url``)
  with a real ledger validator on loopback: an organization registered on the ledger
  issues its achievement to a cohort of ``--count`` learners (``do_issue_for_cohort``:
  signing, status positions, storing), then the credentials are anchored as the
  platform's worker anchors them (Merkle batches, one ledger transaction per batch,
  the commit awaited and its inclusion proof checked, the anchor proof added to each
  credential). Reported: the issuing alone and issuing through anchoring.

It prints figures (``--json`` for one JSON object) and asserts nothing of speed; a
credential that fails to verify, or is left unanchored, is an error (exit 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from oneteam.credentials import dataintegrity, statuslist
from oneteam.credentials.dataintegrity import EDDSA_JCS_2022, EDDSA_RDFC_2022
from oneteam.credentials.did import KeyResolver, StaticDocuments, controller_document
from oneteam.credentials.multikey import Ed25519KeyPair
from oneteam.credentials.openbadges import (
    AchievementSpec,
    build_open_badge_credential,
    issuer_profile,
)
from oneteam.credentials.verify import StaticStatusLists, verify_credential

SUITES = (EDDSA_RDFC_2022, EDDSA_JCS_2022)
ISSUER_HOST = "bench.oneteam.example"
ISSUER_DID = f"did:web:{ISSUER_HOST}:orgs:bench"
ISSUER_DOCUMENT_URL = f"https://{ISSUER_HOST}/orgs/bench/did.json"
STATUS_BASE = f"https://{ISSUER_HOST}/credentials/status"
LEDGER_READY_TIMEOUT_S = 20.0
ANCHOR_TIMEOUT_S = 300.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=2000,
                        help="credentials per cryptosuite (at most 2,000 for issuing: one "
                        "cohort)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes of the parallel verification")
    parser.add_argument("--suite", choices=SUITES, action="append",
                        help="only this cryptosuite (repeatable; default both)")
    parser.add_argument("--skip-issue", action="store_true",
                        help="verification only (no platform, no ledger)")
    parser.add_argument("--database-url", default=None,
                        help="the platform's database for issuing (default: SQLite in a "
                        "temporary directory)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


# --- verification ----------------------------------------------------------------------------


class Issuer:
    """An issuer of the shape the platform's organizations have, without the platform."""

    def __init__(self) -> None:
        self.key = Ed25519KeyPair.generate()
        fragment = self.key.public_key.multibase()
        self.method = f"{ISSUER_DID}#{fragment}"
        self.document = controller_document(ISSUER_DID, [self.key.public_key])
        self.lists: dict[str, dict[str, Any]] = {}
        now = dataintegrity.format_date_time(dt.datetime.now(dt.UTC))
        for purpose in ("revocation", "suspension"):
            url = f"{STATUS_BASE}/{uuid.uuid4()}"
            unsigned = statuslist.build_status_list_credential(
                list_credential_url=url, issuer=ISSUER_DID, purpose=purpose,
                status_list=statuslist.StatusList(statuslist.MINIMUM_LIST_BITS),
                valid_from=now)
            self.lists[purpose] = dataintegrity.add_proof(
                unsigned, self.key, cryptosuite=EDDSA_RDFC_2022,
                verification_method=self.method, created=now)
        self.spec = AchievementSpec(
            id=f"https://{ISSUER_HOST}/credentials/achievements/{uuid.uuid4()}",
            name="AI 개발자 과정 수료 (AI Developer)",
            description="머신러닝 시스템을 만들고 배포한다. Builds and ships machine-learning "
                        "systems.",
            criteria_narrative="AI 개발자 과정의 모든 실습을 통과했다. Completed the AI Developer "
                               "program with every lab passed.",
            achievement_type="Certificate", tags=["Python", "Deep learning"])

    def credential(self, suite: str, index: int) -> dict[str, Any]:
        now = dataintegrity.format_date_time(dt.datetime.now(dt.UTC).replace(microsecond=0))
        statuses = [statuslist.status_list_entry(str(document["id"]), index, purpose)
                    for purpose, document in self.lists.items()]
        unsigned = build_open_badge_credential(
            credential_id=f"urn:uuid:{uuid.uuid4()}",
            issuer=issuer_profile(ISSUER_DID, "벤치마크 대학교 (Bench University)"),
            subject_id=f"urn:uuid:{uuid.uuid4()}", achievement=self.spec, valid_from=now,
            awarded_date=now, credential_status=statuses[0])
        unsigned["credentialStatus"] = statuses
        return dataintegrity.add_proof(unsigned, self.key, cryptosuite=suite,
                                       verification_method=self.method, created=now)

    def verifier_inputs(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        return self.document, {str(doc["id"]): doc for doc in self.lists.values()}


_WORKER: tuple[KeyResolver, StaticStatusLists] | None = None


def _verifier(document: Mapping[str, Any],
              lists: Mapping[str, Mapping[str, Any]]) -> tuple[KeyResolver, StaticStatusLists]:
    documents = StaticDocuments()
    documents.add(dict(document))
    return KeyResolver(documents), StaticStatusLists(dict(lists))


def _worker_start(document: dict[str, Any], lists: dict[str, dict[str, Any]]) -> None:
    global _WORKER  # noqa: PLW0603 - one verifier per worker process
    _WORKER = _verifier(document, lists)


def _worker_verify(chunk: list[str]) -> list[str]:
    """The failed checks of each credential in ``chunk`` (empty: verified)."""
    assert _WORKER is not None
    resolver, lists = _WORKER
    failed = []
    for text in chunk:
        report = verify_credential(text, resolver=resolver, status_lists=lists)
        failed.append(",".join(c.code for c in report.checks if not c.ok)
                      if not report.verified else "")
    return failed


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[start:start + size]) for start in range(0, len(items), size)]


def bench_verify(issuer: Issuer, suite: str, count: int, workers: int) -> dict[str, Any]:
    started = time.perf_counter()
    credentials = [issuer.credential(suite, index) for index in range(count)]
    signed_s = time.perf_counter() - started
    document, lists = issuer.verifier_inputs()
    resolver, status_lists = _verifier(document, lists)
    verify_credential(credentials[0], resolver=resolver, status_lists=status_lists)  # warm
    started = time.perf_counter()
    failed = [report for report in (verify_credential(credential, resolver=resolver,
                                                      status_lists=status_lists)
                                    for credential in credentials) if not report.verified]
    single_s = time.perf_counter() - started
    if failed:
        codes = sorted({c.code for c in failed[0].checks if not c.ok})
        raise BenchError(f"{len(failed)} {suite} credentials failed verification: {codes}")
    texts = [json.dumps(credential, ensure_ascii=False) for credential in credentials]
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with context.Pool(workers, initializer=_worker_start, initargs=(document, lists)) as pool:
        pool.map(_worker_verify, _chunks(texts[:workers], 1))  # start and warm every worker
        started = time.perf_counter()
        results = pool.map(_worker_verify, _chunks(texts, max(1, count // (workers * 8))))
        parallel_s = time.perf_counter() - started
    failures = [code for chunk in results for code in chunk if code]
    if failures:
        raise BenchError(f"{len(failures)} {suite} credentials failed verification in a "
                         f"worker: {failures[0]}")
    return {
        "cryptosuite": suite, "credentials": count,
        "signed_per_s": round(count / signed_s, 1),
        "verified_per_s": round(count / single_s, 1),
        "verified_per_s_parallel": round(count / parallel_s, 1),
        "workers": workers,
        "bytes_mean": round(sum(len(text.encode()) for text in texts) / count),
    }


class BenchError(Exception):
    pass


# --- issuing through the platform ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _ledger(data_dir: Path) -> Iterator[tuple[str, Path]]:
    """A fresh single-validator chain on loopback, stopped afterwards (made and run with
    the ``oneteam ledger`` commands, as a member would)."""
    from oneteam.ledger.client import LedgerClientError, SyncLedgerClient

    subprocess.run([sys.executable, "-m", "oneteam.cli", "ledger", "init", "--data-dir",
                    str(data_dir)], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = data_dir / "node.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "oneteam.cli", "ledger", "start", "--data-dir",
             str(data_dir), "--host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + LEDGER_READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise BenchError(f"the ledger node exited: {log.read_text()[-2000:]}")
            try:
                SyncLedgerClient(url, timeout_s=2).status()
                break
            except (LedgerClientError, OSError):
                if time.monotonic() > deadline:
                    raise BenchError("the ledger node did not answer") from None
                time.sleep(0.1)
        yield url, data_dir / "keys" / "alliance.json"
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _setup_django(data_dir: Path, database_url: str | None, ledger_url: str,
                  operator_key: Path) -> None:
    os.environ["ONETEAM_DATA_DIR"] = str(data_dir)
    os.environ["ONETEAM_TASKS"] = "immediate"
    os.environ["ONETEAM_LEDGER_URL"] = ledger_url
    os.environ["ONETEAM_LEDGER_OPERATOR_KEY"] = str(operator_key)
    os.environ["ONETEAM_DID_HOST"] = ISSUER_HOST
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "oneteam.platform.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def _member() -> tuple[Any, Any]:
    """An issuing organization on the ledger and its instructor (made directly: setting up
    is not measured)."""
    from oneteam.accounts.models import Person
    from oneteam.consortium import actions as consortium_actions
    from oneteam.consortium.models import LedgerState, Organization, Role

    organization = consortium_actions.do_create_organization(
        actor=None, slug="bench", name_ko="벤치마크 대학교", name_en="Bench University",
        kind="university")
    operator = Person.objects.create_user(email="operator@bench.example",
                                          display_name="Operator", password=None)
    operator.is_operator = True
    operator.save(update_fields=["is_operator"])
    consortium_actions.do_start_joining(actor=operator, organization=organization)
    deadline = time.monotonic() + LEDGER_READY_TIMEOUT_S
    while True:
        organization = Organization.objects.get(pk=organization.pk)
        if organization.ledger_state == LedgerState.REGISTERED or time.monotonic() > deadline:
            break
        time.sleep(0.2)
        consortium_actions.do_refresh_ledger_status(organization)
    if organization.ledger_state != LedgerState.REGISTERED:
        raise BenchError(f"the organization did not join the ledger: "
                         f"{organization.ledger_state}")
    instructor = Person.objects.create_user(email="instructor@bench.example",
                                            display_name="Instructor", password=None)
    consortium_actions.do_add_membership(actor=None, organization=organization,
                                         email=instructor.email, role=Role.INSTRUCTOR)
    return organization, instructor


def _cohort(organization: Any, instructor: Any, count: int, suffix: str) -> tuple[Any, Any]:
    """An achievement and a cohort of ``count`` learners who completed it."""
    from oneteam.academy.models import Cohort, Enrollment, Program
    from oneteam.accounts.models import Person
    from oneteam.credentials.actions import do_define_achievement

    program = Program.objects.create(slug=f"bench-{suffix}", track="bench",
                                     title_ko="벤치마크 과정", title_en="Bench program",
                                     summary_ko="벤치마크", summary_en="Benchmark", hours=1,
                                     owner=organization)
    today = dt.date.today()
    cohort = Cohort.objects.create(program=program, organization=organization,
                                   name=f"Bench {suffix}", starts_on=today, ends_on=today)
    learners = Person.objects.bulk_create(
        [Person(email=f"learner-{suffix}-{n}@bench.example", display_name=f"Learner {n}",
                password="!") for n in range(count)], batch_size=500)
    Enrollment.objects.bulk_create(
        [Enrollment(cohort=cohort, person=person, email=person.email, status="completed")
         for person in learners], batch_size=500)
    achievement = do_define_achievement(
        actor=instructor, organization=organization, name=f"AI 개발자 (AI Developer) {suffix}",
        description="머신러닝 시스템을 만들고 배포한다. Builds and ships machine-learning "
                    "systems.",
        criteria_narrative="AI 개발자 과정의 모든 실습을 통과했다.",
        skills=["Python", "Deep learning"])
    return achievement, cohort


def bench_issue(organization: Any, instructor: Any, suite: str, count: int) -> dict[str, Any]:
    from oneteam.credentials.actions import do_issue_for_cohort
    from oneteam.credentials.models import AnchorState, IssuedCredential
    from oneteam.credentials.tasks import finish_anchor_batches

    achievement, cohort = _cohort(organization, instructor, count, suite.split("-")[1])
    started = time.perf_counter()
    issued = do_issue_for_cohort(actor=instructor, achievement=achievement, cohort=cohort,
                                 cryptosuite=suite)
    issued_s = time.perf_counter() - started
    # With tasks run at once (as here), anchoring ran on commit: every batch was made, its
    # root sent and committed; a batch whose commit was not yet visible is finished here.
    deadline = time.monotonic() + ANCHOR_TIMEOUT_S
    found = IssuedCredential.objects.filter(pk__in=[c.pk for c in issued])
    while found.exclude(batch__state=AnchorState.ANCHORED).exists():
        if time.monotonic() > deadline:
            raise BenchError("credentials were left unanchored")
        finish_anchor_batches.enqueue()
        time.sleep(0.05)
    anchored_s = time.perf_counter() - started
    if len(issued) != count:
        raise BenchError(f"{len(issued)} of {count} credentials issued")
    batches = found.values("batch").distinct().count()
    sample = found.order_by("?").first()
    return {
        "cryptosuite": suite, "credentials": count, "batches": batches,
        "issued_per_s": round(count / issued_s, 1),
        "issued_and_anchored_per_s": round(count / anchored_s, 1),
        "anchored_after_s": round(anchored_s, 2),
        "sample_has_anchor": bool(sample is not None and len(
            dataintegrity.proofs_of(sample.document)) == 2),
    }


# --- the command -----------------------------------------------------------------------------


def _print(result: dict[str, Any]) -> None:
    for row in result["verify"]:
        print(f"verify {row['cryptosuite']}: {row['verified_per_s']:,.0f}/s in one process, "
              f"{row['verified_per_s_parallel']:,.0f}/s over {row['workers']} processes "
              f"({row['credentials']:,} credentials of {row['bytes_mean']:,} bytes; signed at "
              f"{row['signed_per_s']:,.0f}/s)")
    for row in result["issue"]:
        print(f"issue  {row['cryptosuite']}: {row['issued_per_s']:,.0f}/s issued, "
              f"{row['issued_and_anchored_per_s']:,.0f}/s issued and anchored "
              f"({row['credentials']:,} credentials in {row['batches']} batches, all anchored "
              f"after {row['anchored_after_s']} s)")


def run(args: argparse.Namespace) -> int:
    if args.count < 1 or args.workers < 1:
        print("error: --count and --workers must be at least 1", file=sys.stderr)
        return 2
    if not args.skip_issue and args.count > 2000:
        print("error: issuing goes to one cohort, at most 2,000 credentials (--count)",
              file=sys.stderr)
        return 2
    suites = tuple(args.suite or SUITES)
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "verify": [], "issue": []}
    try:
        issuer = Issuer()
        for suite in suites:
            result["verify"].append(bench_verify(issuer, suite, args.count, args.workers))
        if not args.skip_issue:
            scratch = Path(tempfile.mkdtemp(prefix="oneteam-bench-credentials-"))
            try:
                with _ledger(scratch / "ledger") as (ledger_url, operator_key):
                    _setup_django(scratch / "platform", args.database_url, ledger_url,
                                  operator_key)
                    organization, instructor = _member()
                    for suite in suites:
                        result["issue"].append(bench_issue(organization, instructor, suite,
                                                           args.count))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)
    return 0
