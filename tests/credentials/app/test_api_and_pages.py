"""Authorization, errors naming the field, share links that expire, the pages."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from oneteam.credentials import actions
from oneteam.credentials.models import IssuedCredential, ShareLink
from tests.conftest import ApiClient
from tests.credentials.app.conftest import Issuing
from tests.factories import PASSWORD, make_api_token, make_membership, make_person

pytestmark = pytest.mark.django_db


def issue(issuing: Issuing) -> IssuedCredential:
    return actions.do_issue_credential(actor=issuing.instructor,
                                       achievement=issuing.achievement,
                                       recipient=issuing.learner)


def test_only_the_issuers_staff_issue_and_revoke(offline_issuing: Issuing,
                                                 api: ApiClient) -> None:
    issuing = offline_issuing
    _, learner_token = make_api_token(issuing.learner)
    _, instructor_token = make_api_token(issuing.instructor)
    outsider = make_person()
    make_membership(outsider, issuing.organization)  # a learner of the organization
    _, outsider_token = make_api_token(outsider)
    path = f"/api/credentials/achievements/{issuing.achievement.public_id}/issue"
    body = {"recipient_email": issuing.learner.email}
    assert api.post(path, body, token=learner_token).status_code == 404
    assert api.post(path, body, token=outsider_token).status_code == 404
    assert api.post(path, body).status_code == 401
    response = api.post(path, body, token=instructor_token)
    assert response.status_code == 201, response.content
    credential_id = response.json()["id"]
    assert response.json()["document"]["type"] == ["VerifiableCredential",
                                                   "OpenBadgeCredential"]
    # Issuing the same achievement again names the recipient.
    again = api.post(path, body, token=instructor_token)
    assert again.status_code == 422 and again.json()["field"] == "recipient"

    revoke = f"/api/credentials/credentials/{credential_id}/revoke"
    assert api.post(revoke, {"reason": "x"}, token=learner_token).status_code == 403
    assert api.post(revoke, {"reason": "x"}, token=outsider_token).status_code == 404
    missing = api.post(revoke, {"reason": "  "}, token=instructor_token)
    assert missing.status_code == 422 and missing.json()["field"] == "reason"
    no_field = api.post(revoke, {}, token=instructor_token)
    assert no_field.status_code == 422 and no_field.json()["field"] == "reason"
    done = api.post(revoke, {"reason": "Issued by mistake"}, token=instructor_token)
    assert done.status_code == 200 and done.json()["state"] == "revoked"


def test_learners_see_only_their_own(offline_issuing: Issuing, api: ApiClient) -> None:
    credential = issue(offline_issuing)
    _, learner_token = make_api_token(offline_issuing.learner)
    _, other_token = make_api_token(make_person())
    mine = api.get("/api/credentials/mine", token=learner_token)
    assert [item["id"] for item in mine.json()] == [str(credential.public_id)]
    assert api.get("/api/credentials/mine", token=other_token).json() == []
    detail = f"/api/credentials/credentials/{credential.public_id}"
    assert api.get(detail, token=other_token).status_code == 404
    assert api.get(detail, token=learner_token).json()["document"]["id"] == \
        credential.credential_id


def test_define_achievement_errors_name_the_field(offline_issuing: Issuing,
                                                  api: ApiClient) -> None:
    _, token = make_api_token(offline_issuing.instructor)
    base = {"organization": "kaist", "name": "Badge", "description": "d",
            "criteria_narrative": "c"}
    for change, field in (({"name": ""}, "name"), ({"criteria_kind": "luck"}, "criteria_kind"),
                          ({"criteria_kind": "course"}, "course"),
                          ({"course_id": 999999}, "course_id"),
                          ({"skills": [{"name": "x", "url": "ftp://x"}]}, "skills[0].url"),
                          ({"valid_days": 0}, "valid_days")):
        response = api.post("/api/credentials/achievements", {**base, **change}, token=token)
        assert response.status_code == 422, (change, response.content)
        assert response.json()["field"] == field, (change, response.json())
    made = api.post("/api/credentials/achievements", {**base, "skills": [{"name": "SQL"}]},
                    token=token)
    assert made.status_code == 201 and made.json()["skills"] == [{"name": "SQL", "url": ""}]


def test_verify_api_reports_each_check(offline_issuing: Issuing, api: ApiClient) -> None:
    credential = issue(offline_issuing)
    response = api.post("/api/credentials/verify", {"credential": credential.document})
    assert response.status_code == 200
    checks = {check["code"]: check for check in response.json()["checks"]}
    assert checks["proof"]["status"] == "passed"
    assert checks["status"]["status"] == "passed"
    assert set(checks["proof"]["message"]) == {"ko", "en"}
    bad = api.post("/api/credentials/verify", {"credential": "   "})
    assert bad.status_code == 422 and bad.json()["field"] == "credential"
    not_json = api.post("/api/credentials/verify", {"credential": "{nope"})
    assert not_json.json()["checks"][0]["code"] == "format"
    assert not not_json.json()["verified"]


def test_share_links_expire(offline_issuing: Issuing, api: ApiClient) -> None:
    credential = issue(offline_issuing)
    _, token = make_api_token(offline_issuing.learner)
    _, other_token = make_api_token(make_person())
    path = f"/api/credentials/credentials/{credential.public_id}/share"
    assert api.post(path, {"days": 0}, token=token).json()["field"] == "days"
    assert api.post(path, {"days": 7}, token=other_token).status_code == 404
    made = api.post(path, {"days": 7}, token=token)
    assert made.status_code == 201
    share_token = made.json()["url"].rstrip("/").rsplit("/", 1)[1]
    assert api.get(f"/api/credentials/shared/{share_token}").status_code == 200
    client = Client()
    assert client.get(f"/credentials/shared/{share_token}/").status_code == 200
    ShareLink.objects.update(expires=timezone.now() - datetime.timedelta(seconds=1))
    assert api.get(f"/api/credentials/shared/{share_token}").status_code == 404
    assert client.get(f"/credentials/shared/{share_token}/").status_code == 404


def test_pages(offline_issuing: Issuing, client: Client) -> None:
    credential = issue(offline_issuing)
    # The verify page: paste, upload, errors.
    page = client.post("/credentials/verify/", {"credential": json.dumps(credential.document)})
    assert page.status_code == 200 and b'data-check="proof" data-status="passed"' in page.content
    empty = client.post("/credentials/verify/", {"credential": ""})
    assert empty.status_code == 422 and b'data-field="credential"' in empty.content
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("c.json", json.dumps(credential.document).encode())
    uploaded = client.post("/credentials/verify/", {"file": upload})
    assert b'data-check="signature"' not in uploaded.content
    assert b'data-check="proof" data-status="passed"' in uploaded.content
    assert client.get(f"/credentials/verify/{credential.public_id}/").status_code == 200
    # The status list at its stable URL, signed.
    url = credential.document["credentialStatus"][0]["statusListCredential"]
    listed = client.get(url.split("8443", 1)[1])
    assert listed.status_code == 200 and listed.json()["proof"]["cryptosuite"]
    # A learner's pages; another person sees nothing of them.
    client.login(username=offline_issuing.learner.email, password=PASSWORD)
    assert credential.achievement.name.encode() in client.get("/credentials/mine/").content
    # The learner's dashboard lists it, with its certificate.
    dashboard = client.get("/dashboard/").content.decode()
    assert credential.achievement.name in dashboard
    assert f"/credentials/c/{credential.public_id}/certificate.pdf" in dashboard
    download = client.get(f"/credentials/c/{credential.public_id}/download.json")
    assert json.loads(download.content)["id"] == credential.credential_id
    shared = client.post(f"/credentials/c/{credential.public_id}/share/", {"days": "3"},
                         follow=True)
    assert b"/credentials/shared/" in shared.content
    other = Client()
    other.login(username=make_person().email, password=PASSWORD)
    assert other.get(f"/credentials/c/{credential.public_id}/").status_code == 404
    assert other.get(f"/credentials/c/{credential.public_id}/download.json").status_code == 404
    # The printable certificate: one page, the font embedded, the QR code linking the
    # credential's verify page; nobody else gets it.
    certificate = client.get(f"/credentials/c/{credential.public_id}/certificate.pdf")
    assert certificate.status_code == 200
    assert certificate["Content-Type"] == "application/pdf"
    pdf = certificate.content
    assert pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page\n") == 1
    assert b"/FontFile2" in pdf and b"NanumGothic" in pdf
    assert f"/credentials/verify/{credential.public_id}/".encode() in pdf
    assert other.get(f"/credentials/c/{credential.public_id}/certificate.pdf").status_code == 404
    assert credential.achievement.name not in other.get("/dashboard/").content.decode()
    # The instructor suspends from the page, with a reason.
    staff = Client()
    staff.login(username=offline_issuing.instructor.email, password=PASSWORD)
    staff.post(f"/credentials/c/{credential.public_id}/suspend/", {"reason": "Check"})
    credential.refresh_from_db()
    assert credential.state == "suspended"
