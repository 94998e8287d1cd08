"""Issuance end to end against a real ledger node: sign, anchor, verify each check."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from oneteam.credentials import actions
from oneteam.credentials.ledgercheck import anchor_evidence
from oneteam.credentials.models import AnchorState, IssuedCredential
from oneteam.credentials.verification import verify_for_platform
from tests.consortium.conftest import LedgerNode
from tests.credentials.app.conftest import Issuing

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def statuses(report: Any) -> dict[str, str]:
    return {check.code: check.status for check in report.checks}


def test_an_issued_credential_is_anchored_and_verifies(ledger: LedgerNode,
                                                       issuing: Issuing) -> None:
    issued = actions.do_issue_credential(actor=issuing.instructor,
                                         achievement=issuing.achievement,
                                         recipient=issuing.learner)
    issued.refresh_from_db()
    document = issued.document
    assert document["@context"][:2] == ["https://www.w3.org/ns/credentials/v2",
                                        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert document["issuer"]["id"] == "did:web:oneteam.example%3A8443:orgs:kaist"
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["criteria"]["narrative"].startswith("Completed")
    assert achievement["tag"] == ["Python", "Deep learning"]
    assert achievement["alignment"][0]["targetUrl"] == "https://example.org/skills/dl"
    assert [entry["statusPurpose"] for entry in document["credentialStatus"]] == [
        "revocation", "suspension"]
    assert issued.batch is not None and issued.batch.state == AnchorState.ANCHORED
    (evidence,) = anchor_evidence(document)
    assert evidence.ledger is not None and evidence.ledger["height"] == issued.batch.height
    record = ledger.state("anchors", "batch", "kaist", issued.batch.label)
    assert record["root"] == issued.batch.root

    report = verify_for_platform(document)
    assert report.verified, report.to_json()
    assert statuses(report) == {
        "format": "passed", "structure": "passed", "jsonld": "passed",
        "issuer_key": "passed", "proof": "passed", "status": "passed",
        "validity": "passed", "anchor": "passed", "membership": "passed",
        "status_anchor": "passed"}
    assert "앵커" in report["anchor"].summary.text("ko")


def test_tampering_fails_the_proof_and_the_anchor(ledger: LedgerNode, issuing: Issuing) -> None:
    issued = actions.do_issue_credential(actor=issuing.instructor,
                                         achievement=issuing.achievement,
                                         recipient=issuing.learner)
    issued.refresh_from_db()
    tampered = copy.deepcopy(issued.document)
    tampered["credentialSubject"]["achievement"]["name"] = "Chief Scientist"
    result = statuses(verify_for_platform(tampered))
    assert result["proof"] == "failed" and result["anchor"] == "failed"


def test_a_cohort_is_issued_in_one_batch(ledger: LedgerNode, issuing: Issuing) -> None:
    from oneteam.academy import actions as academy_actions
    from tests.factories.academy import enroll, make_cohort, make_program

    program = make_program(owner=issuing.organization, courses=1, modules=1, lessons=1)
    cohort = make_cohort(program, instructors=[issuing.instructor])
    learners = [issuing.learner, *(make_person_named(f"L{n}") for n in range(2))]
    for learner in learners:
        enrollment = enroll(learner, cohort)
        academy_actions.do_complete_enrollment(actor=None, enrollment=enrollment)
    issued = actions.do_issue_for_cohort(actor=issuing.instructor,
                                         achievement=issuing.achievement, cohort=cohort)
    assert len(issued) == 3
    batches = {credential.batch_id for credential in
               IssuedCredential.objects.filter(pk__in=[c.pk for c in issued])}
    assert len(batches) == 1
    for credential in IssuedCredential.objects.filter(pk__in=[c.pk for c in issued]):
        assert verify_for_platform(credential.document).verified
    # A second run issues nothing new.
    assert actions.do_issue_for_cohort(actor=issuing.instructor,
                                       achievement=issuing.achievement, cohort=cohort) == []


def make_person_named(name: str) -> Any:
    from tests.factories import make_person

    return make_person(display_name=name)


def test_revoke_suspend_reinstate_are_audited_and_anchored(ledger: LedgerNode,
                                                          issuing: Issuing) -> None:
    issued = actions.do_issue_credential(actor=issuing.instructor,
                                         achievement=issuing.achievement,
                                         recipient=issuing.learner)
    issued.refresh_from_db()
    document = issued.document
    actions.do_suspend_credential(actor=issuing.instructor, credential=issued,
                                  reason="Under review")
    report = verify_for_platform(document)
    assert report["status"].status == "failed"
    assert report["status"].problems[0].code == "STATUS_SUSPENDED"
    actions.do_reinstate_credential(actor=issuing.instructor, credential=issued,
                                    reason="Review finished")
    assert verify_for_platform(document).verified
    actions.do_revoke_credential(actor=issuing.instructor, credential=issued,
                                 reason="Plagiarism")
    report = verify_for_platform(document)
    assert report["status"].problems[0].code == "STATUS_REVOKED" and not report.verified
    changes = list(issued.status_changes.order_by("id").values_list("action", "reason"))
    assert changes == [("suspend", "Under review"), ("reinstate", "Review finished"),
                       ("revoke", "Plagiarism")]
    revocation = issued.revocation_list
    revocation.refresh_from_db()
    record = ledger.state("anchors", "status", "kaist", revocation.ledger_label)
    assert record["digest"] == revocation.digest and record["version"] >= 2
    assert report["status_anchor"].status == "passed"


def test_a_list_other_than_the_anchored_one_is_reported(ledger: LedgerNode,
                                                        issuing: Issuing) -> None:
    """An issuer that shows a verifier an old list (one from before a revocation) is
    caught: the list's digest is not the one last anchored."""
    issued = actions.do_issue_credential(actor=issuing.instructor,
                                         achievement=issuing.achievement,
                                         recipient=issuing.learner)
    issued.refresh_from_db()
    revocation = issued.revocation_list
    before = copy.deepcopy(revocation.document)
    actions.do_revoke_credential(actor=issuing.instructor, credential=issued,
                                 reason="Plagiarism")
    assert verify_for_platform(issued.document)["status_anchor"].status == "passed"
    type(revocation).objects.filter(pk=revocation.pk).update(document=before)
    report = verify_for_platform(issued.document)
    assert report["status"].status == "passed"  # the old list says: not revoked
    check = report["status_anchor"]
    assert check.status == "warning"
    assert check.problems[0].code == "STATUS_LIST_NOT_ANCHORED"
    assert "원장" in check.summary.text("ko") and "another digest" in check.summary.text("en")


def test_expired_credential_fails_validity(ledger: LedgerNode, issuing: Issuing) -> None:
    issuing.achievement.valid_days = 30
    issuing.achievement.save()
    issued = actions.do_issue_credential(actor=issuing.instructor,
                                         achievement=issuing.achievement,
                                         recipient=issuing.learner)
    issued.refresh_from_db()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    report = verify_for_platform(issued.document, now=later)
    assert report["validity"].status == "failed"
    assert report["validity"].problems[0].code == "VALIDITY_EXPIRED"
