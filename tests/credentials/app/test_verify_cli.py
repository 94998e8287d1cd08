"""`oneteam verify`: online against the node, offline with a saved header set, and the
anchor and membership checks failing for the right reasons."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from oneteam.cli import main
from oneteam.credentials import actions
from oneteam.credentials.dataintegrity import proofs_of
from oneteam.credentials.merkle import is_anchor_proof
from oneteam.credentials.models import IssuedCredential
from oneteam.credentials.verification import verify_for_platform
from tests.consortium.conftest import LedgerNode
from tests.credentials.app.conftest import Issuing, make_issuing
from tests.factories import make_person

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def issue(issuing: Issuing, learner: Any = None) -> IssuedCredential:
    issued = actions.do_issue_credential(actor=issuing.instructor,
                                         achievement=issuing.achievement,
                                         recipient=learner or issuing.learner)
    issued.refresh_from_db()
    return issued


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def status_list_files(tmp_path: Path, issued: IssuedCredential) -> list[str]:
    arguments = []
    for status_list in (issued.revocation_list, issued.suspension_list):
        status_list.refresh_from_db()
        path = write(tmp_path / f"{status_list.purpose}.json", status_list.document)
        arguments += ["--status-list", str(path)]
    return arguments


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["verify", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {check["code"]: check["status"] for check in report["checks"]}


def test_online_and_offline(ledger: LedgerNode, issuing: Issuing, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    issued = issue(issuing)
    credential = write(tmp_path / "credential.json", issued.document)
    lists = status_list_files(tmp_path, issued)

    code, report = run_json(capsys, str(credential), "--ledger", ledger.url, *lists)
    assert code == 0 and report["verified"], report
    assert statuses(report)["anchor"] == "passed"
    assert statuses(report)["membership"] == "passed"
    assert statuses(report)["status_anchor"] == "passed"  # the lists given are the anchored

    headers = tmp_path / "headers.json"
    assert main(["verify", "--save-headers", str(headers), "--ledger", ledger.url]) == 0
    saved = json.loads(headers.read_text())
    assert saved["format"] == "oneteam-ledger-headers/v1" and "kaist" in saved["members"]
    capsys.readouterr()

    ledger.stop()  # offline means offline
    code, report = run_json(capsys, str(credential), "--offline", "--headers", str(headers))
    assert code == 0, report
    assert statuses(report) == {
        "format": "passed", "structure": "passed", "jsonld": "passed",
        "issuer_key": "passed", "proof": "passed", "status": "warning",
        "validity": "passed", "anchor": "passed", "membership": "passed",
        "status_anchor": "skipped"}
    # With the status lists given, offline checks them too.
    code, report = run_json(capsys, str(credential), "--offline", "--headers", str(headers),
                            *lists)
    assert code == 0 and statuses(report)["status"] == "passed"

    # Text output names the failed checks, and exits 1.
    tampered = copy.deepcopy(issued.document)
    tampered["credentialSubject"]["achievement"]["name"] = "Chief Scientist"
    assert main(["verify", str(write(tmp_path / "t.json", tampered)), "--offline",
                 "--headers", str(headers), "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "not verified; failed checks:" in out and "proof" in out and "anchor" in out

    # Validators the proof's header was not signed by: the anchor fails.
    saved["validators"] = ["11" * 32]
    other = write(tmp_path / "other.json", saved)
    code, report = run_json(capsys, str(credential), "--offline", "--headers", str(other))
    assert code == 1 and statuses(report)["anchor"] == "failed"


def test_wrong_anchor_fails(ledger: LedgerNode, issuing: Issuing, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    first = issue(issuing)
    second = issue(issuing, make_person())
    # The second credential wearing the first one's anchor proof.
    anchor = next(p for p in proofs_of(first.document) if is_anchor_proof(p))
    forged = copy.deepcopy(second.document)
    forged["proof"] = [p for p in proofs_of(forged) if not is_anchor_proof(p)] + [anchor]
    report = verify_for_platform(forged)
    assert report["anchor"].status == "failed" and not report.verified
    assert report["proof"].status == "passed"  # only the anchor is wrong
    code, result = run_json(capsys, str(write(tmp_path / "f.json", forged)),
                            "--ledger", ledger.url, *status_list_files(tmp_path, second))
    assert code == 1 and statuses(result)["anchor"] == "failed"


def test_an_issuer_that_is_not_a_member_fails_membership(ledger: LedgerNode,
                                                         did_host: str) -> None:
    outsider = make_issuing(slug="outsider", register=False)
    issued = issue(outsider)
    assert issued.batch is None  # waits, unanchored, until the organization joins
    report = verify_for_platform(issued.document)
    assert report["membership"].status == "failed"
    assert report["anchor"].status == "warning"
    assert "outsider" in report["membership"].summary.text("en")
    assert not report.verified


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify"]) == 2
    assert main(["verify", str(tmp_path / "missing.json"), "--offline",
                 "--headers", str(tmp_path / "h.json")]) == 2
    credential = write(tmp_path / "c.json", {"a": 1})
    assert main(["verify", str(credential), "--offline"]) == 2
    assert "--headers" in capsys.readouterr().err
