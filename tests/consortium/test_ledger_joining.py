"""Joining the ledger end to end, against a real validator process (conftest's ``ledger``).

Tasks run at once (the test settings), after the database commits: these tests use
transactional database access so that ``transaction.on_commit`` fires as in production.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from oneteam.consortium import actions, outbox, queries
from oneteam.consortium.models import (
    KeyState,
    LedgerState,
    LedgerSubmission,
    Organization,
    OrganizationKey,
    SubmissionError,
    SubmissionPurpose,
    SubmissionState,
)
from oneteam.consortium.tasks import process_ledger_submissions
from oneteam.ledger.client import verify_proof
from tests.conftest import ApiClient
from tests.consortium.conftest import LedgerNode
from tests.factories import make_admin, make_api_token, make_operator, make_organization

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def current_key(organization: Organization) -> OrganizationKey:
    return OrganizationKey.objects.get(organization=organization, state=KeyState.CURRENT)


def join(api: ApiClient, token: str, slug: str, **body: Any) -> dict[str, Any]:
    response = api.post(f"/api/consortium/organizations/{slug}/join", body, token=token)
    assert response.status_code == 202, response.content
    result: dict[str, Any] = response.json()
    return result


def test_members_join_with_a_quorum_of_approvals(ledger: LedgerNode, api: ApiClient) -> None:
    operator = make_operator()
    _, operator_token = make_api_token(operator)
    kt = make_organization(slug="kt", name_ko="KT", name_en="KT")
    kaist = make_organization(slug="kaist", name_ko="한국과학기술원", name_en="KAIST",
                              kind="university")
    etri = make_organization(slug="etri", kind="research_institute")
    kt_admin, kaist_admin = make_admin(kt), make_admin(kaist)
    _, kt_token = make_api_token(kt_admin)
    _, kaist_token = make_api_token(kaist_admin)

    # One member (the alliance): its own proposal is a quorum; KT is registered at once.
    sent = join(api, operator_token, "kt")
    assert sent["op"] == "membership.propose" and sent["signer"] is None
    kt.refresh_from_db()
    assert kt.ledger_state == LedgerState.REGISTERED, queries.ledger_status(kt)
    assert kt.ledger_proof_verified and len(kt.ledger_txid) == 64 and kt.ledger_height
    on_chain = ledger.state("membership", "org", "kt")
    assert on_chain["keys"] == [current_key(kt).public_key]
    assert on_chain["name"] == "KT" and on_chain["roles"] == ["issuer", "provider"]
    # The confirmation shown is the ledger's: the same proof verifies here, independently.
    status = ledger.client().status()
    proof = ledger.client().proof(bytes.fromhex(kt.ledger_txid))
    inclusion = verify_proof(proof, [bytes.fromhex(v) for v in status["validators"]],
                             status["chain_id"], bytes.fromhex(kt.ledger_txid))
    assert inclusion.height == kt.ledger_height and inclusion.receipt_code == "ok"
    shown = api.get("/api/consortium/organizations/kt/ledger").json()
    assert shown["state"] == "registered" and shown["proof_verified"] is True
    assert shown["txid"] == kt.ledger_txid and shown["height"] == kt.ledger_height

    # Two members: KAIST needs the alliance's and KT's approvals.
    join(api, operator_token, "kaist", roles=["issuer"])
    kaist.refresh_from_db()
    assert kaist.ledger_state == LedgerState.PROPOSED
    assert kaist.ledger_approvals == ["alliance"] and kaist.ledger_quorum == 2
    assert ledger.state("membership", "org", "kaist") is None
    pending = api.get("/api/consortium/organizations/kt/approvals", token=kt_token).json()
    assert [p["organization"]["slug"] for p in pending] == ["kaist"]
    # KAIST's administrator cannot approve for KT; nor can the operator sign for KT.
    refused = api.post("/api/consortium/organizations/kt/approvals/kaist", token=kaist_token)
    assert refused.status_code == 403
    refused = api.post("/api/consortium/organizations/kt/approvals/kaist",
                       token=operator_token)
    assert refused.status_code == 403
    approved = api.post("/api/consortium/organizations/kt/approvals/kaist", token=kt_token)
    assert approved.status_code == 202, approved.content
    approval = LedgerSubmission.objects.get(pk=approved.json()["id"])
    assert approval.state == SubmissionState.COMMITTED and approval.proof_verified
    assert approval.signer_key == current_key(kt).public_key
    kaist.refresh_from_db()
    assert kaist.ledger_state == LedgerState.REGISTERED
    assert kaist.ledger_txid == approval.txid  # the approval that reached the quorum
    assert ledger.state("membership", "org", "kaist")["roles"] == ["issuer"]
    again = api.post("/api/consortium/organizations/kt/approvals/kaist", token=kt_token)
    assert again.status_code == 422 and again.json()["field"] == "subject"

    # Three members: quorum 3, so ETRI needs KT and KAIST both.
    join(api, operator_token, "etri")
    api.post("/api/consortium/organizations/kt/approvals/etri", token=kt_token)
    etri.refresh_from_db()
    assert etri.ledger_state == LedgerState.PROPOSED
    assert queries.ledger_status(etri).detail.count("2") >= 1
    assert etri.ledger_approvals == ["alliance", "kt"] and etri.ledger_quorum == 3
    api.post("/api/consortium/organizations/kaist/approvals/etri", token=kaist_token)
    etri.refresh_from_db()
    assert etri.ledger_state == LedgerState.REGISTERED
    members = ledger.state("membership", "orgs")["organizations"]
    assert sorted(m["org"] for m in members) == ["alliance", "etri", "kaist", "kt"]

    overview = api.get("/api/consortium/alliance", token=operator_token).json()
    assert overview["registered"] == 3 and overview["ledger_members"] == 4
    assert overview["proposals"] == [] and overview["ledger_ok"] is True


def test_a_dead_ledger_loses_nothing_and_a_retry_succeeds(ledger: LedgerNode,
                                                          api: ApiClient) -> None:
    operator = make_operator()
    kt = make_organization(slug="kt")
    actions.do_start_joining(actor=operator, organization=kt)
    kt.refresh_from_db()
    assert kt.ledger_state == LedgerState.REGISTERED

    ledger.stop()
    kaist = make_organization(slug="kaist")
    submission = actions.do_start_joining(actor=operator, organization=kaist)
    submission.refresh_from_db()
    assert submission.state == SubmissionState.QUEUED
    assert submission.error_code == SubmissionError.UNREACHABLE and submission.attempts == 1
    assert submission.next_attempt > timezone.now()
    status = queries.ledger_status(kaist)
    assert status.state == LedgerState.JOINING and status.pending
    assert status.retry_at == submission.next_attempt
    shown = api.client.get("/api/consortium/organizations/kaist/ledger?refresh=true",
                           HTTP_ACCEPT_LANGUAGE="en").json()
    assert shown["state"] == "joining" and shown["retry_at"]
    assert "unreachable" in shown["detail"] and "attempt 2" in shown["detail"]
    # The page says so too, in Korean by default.
    page = api.client.get("/consortium/orgs/kaist/").content.decode()
    assert "연결할 수 없" in page

    # Later, the ledger is back: the next run sends the very transaction it signed.
    ledger.start()
    LedgerSubmission.objects.filter(pk=submission.pk).update(
        next_attempt=timezone.now() - datetime.timedelta(seconds=1))
    process_ledger_submissions.call()
    submission.refresh_from_db()
    assert submission.state == SubmissionState.COMMITTED and submission.proof_verified
    kaist.refresh_from_db()
    assert kaist.ledger_state == LedgerState.PROPOSED and kaist.ledger_approvals == ["alliance"]


def test_retries_are_bounded_and_a_person_can_retry(ledger: LedgerNode) -> None:
    operator = make_operator()
    kt = make_organization(slug="kt")
    ledger.stop()
    submission = actions.do_start_joining(actor=operator, organization=kt)
    for _ in range(outbox.ATTEMPTS_MAX):
        LedgerSubmission.objects.filter(pk=submission.pk).update(
            next_attempt=timezone.now() - datetime.timedelta(seconds=1))
        process_ledger_submissions.call()
    submission.refresh_from_db()
    assert submission.state == SubmissionState.FAILED
    assert submission.error_code == SubmissionError.GAVE_UP
    assert submission.attempts == outbox.ATTEMPTS_MAX
    assert queries.ledger_status(kt).state == LedgerState.FAILED
    assert [outbox.backoff_s(n) for n in (1, 2, 3, 9, 20)] == [2, 4, 8, 300, 300]

    ledger.start()
    actions.do_retry_ledger_submission(actor=operator, submission=submission)
    submission.refresh_from_db()
    assert submission.state == SubmissionState.COMMITTED
    kt.refresh_from_db()
    assert kt.ledger_state == LedgerState.REGISTERED


def test_rotating_a_key_replaces_it_on_the_ledger(ledger: LedgerNode, api: ApiClient,
                                                  did_host: str) -> None:
    operator = make_operator()
    kt = make_organization(slug="kt")
    admin = make_admin(kt)
    _, token = make_api_token(admin)
    actions.do_start_joining(actor=operator, organization=kt)
    first = current_key(kt)

    response = api.post("/api/consortium/organizations/kt/keys/rotate", token=token)
    assert response.status_code == 201, response.content
    second = current_key(kt)
    assert response.json()["number"] == second.number == 2
    # add_key signed by the old key, then revoke_key signed by the new one.
    steps = list(LedgerSubmission.objects.filter(signer=kt).order_by("id"))
    assert [(s.purpose, s.state) for s in steps] == [
        (SubmissionPurpose.ADD_KEY, SubmissionState.COMMITTED),
        (SubmissionPurpose.REVOKE_KEY, SubmissionState.COMMITTED)]
    assert steps[0].signer_key == first.public_key
    assert steps[1].signer_key == second.public_key
    assert all(s.proof_verified for s in steps)
    assert ledger.state("membership", "org", "kt")["keys"] == [second.public_key]
    kt.refresh_from_db()
    assert kt.ledger_keys == [second.public_key]
    keys = {k["number"]: k for k in
            api.get("/api/consortium/organizations/kt/keys", token=token).json()}
    assert keys[2]["on_ledger"] and not keys[1]["on_ledger"]
    assert keys[1]["state"] == "retired"
    # The retired key still verifies what it signed: assertions only, not authentication.
    document = api.client.get("/orgs/kt/did.json").json()
    assert document["assertionMethod"] == [f"{document['id']}#key-2",
                                           f"{document['id']}#key-1"]
    assert document["authentication"] == [f"{document['id']}#key-2"]

    # The organization still acts on the ledger, now with its new key.
    kaist = make_organization(slug="kaist")
    actions.do_start_joining(actor=operator, organization=kaist)
    approval = actions.do_approve_joining(actor=admin, approver=kt, subject=kaist)
    approval.refresh_from_db()
    assert approval.state == SubmissionState.COMMITTED
    assert approval.signer_key == second.public_key


def test_other_apps_submit_transactions_for_an_organization(ledger: LedgerNode) -> None:
    operator = make_operator()
    kaist = make_organization(slug="kaist", kind="university")
    actions.do_start_joining(actor=operator, organization=kaist)
    kaist.refresh_from_db()
    submission = actions.do_submit_ledger_transaction(
        kaist, "anchors.anchor_batch",
        {"batch_id": "2026/spring", "root": bytes(range(32)), "count": 40})
    submission.refresh_from_db()
    assert submission.state == SubmissionState.COMMITTED and submission.proof_verified
    assert submission.args_shown == {"batch_id": "2026/spring",
                                     "root": bytes(range(32)).hex(), "count": 40}
    record = ledger.state("anchors", "batch", "kaist", "2026/spring")
    assert record["count"] == 40 and record["root"] == bytes(range(32)).hex()
    assert record["height"] == submission.height
    # A refusal by the contract is a failed submission with the contract's reason.
    again = actions.do_submit_ledger_transaction(
        kaist, "anchors.anchor_batch",
        {"batch_id": "2026/spring", "root": bytes(range(32)), "count": 40})
    again.refresh_from_db()
    assert again.state == SubmissionState.FAILED
    assert again.error_code == SubmissionError.RECEIPT and again.receipt_code == "failed"
    assert again.receipt_reason


def test_the_demo_alliance_registers_its_founding_members(ledger: LedgerNode) -> None:
    from oneteam.platform import demo

    ran = demo.load_demo()
    assert "oneteam.consortium.demo.load_demo" in ran
    founding = list(Organization.objects.filter(slug__in=[m.slug for m in
                                                          demo.FOUNDING_MEMBERS]))
    assert len(founding) == 9
    assert {o.ledger_state for o in founding} == {LedgerState.REGISTERED}
    assert all(o.ledger_proof_verified for o in founding)
    members = ledger.state("membership", "orgs")["organizations"]
    assert len(members) == 10
    # Each joined with the approvals of a quorum of the members before it.
    assert not LedgerSubmission.objects.exclude(state=SubmissionState.COMMITTED).exists()
    assert LedgerSubmission.objects.filter(purpose=SubmissionPurpose.JOIN).count() == 9
    assert LedgerSubmission.objects.filter(purpose=SubmissionPurpose.APPROVE).count() == sum(
        outbox.quorum(n) - 1 for n in range(1, 10))
