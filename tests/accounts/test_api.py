"""The accounts API: everything the pages do, with tokens or the session; errors as JSON."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from oneteam.accounts.models import ApiToken, Person
from tests.conftest import ApiClient
from tests.factories import PASSWORD, make_api_token, make_person

pytestmark = pytest.mark.django_db


def assert_error(response: Any, status: int, field: str | None) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "field"}, body
    assert body["field"] == field, body
    assert body["message"]
    return str(body["message"])


def test_sign_up_then_get_a_token_by_password_then_use_it(api: ApiClient) -> None:
    response = api.post("/api/accounts/people", {"email": "Jung@Example.org",
                                                 "display_name": "Jung", "password": PASSWORD,
                                                 "preferred_language": "en"})
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "jung@example.org"
    assert "password" not in response.json()
    response = api.post("/api/accounts/tokens/by-password",
                        {"email": "jung@example.org", "password": PASSWORD, "name": "cli"})
    assert response.status_code == 201, response.content
    secret = response.json()["token"]
    me = api.get("/api/accounts/me", token=secret)
    assert me.status_code == 200
    assert me.json()["display_name"] == "Jung"
    listed = api.get("/api/accounts/tokens", token=secret).json()
    assert [t["name"] for t in listed] == ["cli"]
    assert "token" not in listed[0] and "digest" not in listed[0]


@pytest.mark.parametrize(("body", "field"), [
    ({"display_name": "A", "password": PASSWORD}, "email"),
    ({"email": "bad", "display_name": "A", "password": PASSWORD}, "email"),
    ({"email": "a@example.org", "display_name": "", "password": PASSWORD}, "display_name"),
    ({"email": "a@example.org", "display_name": "A", "password": "123"}, "password"),
    ({"email": "a@example.org", "display_name": "A", "password": PASSWORD,
      "preferred_language": "de"}, "preferred_language"),
    ({"email": 5, "display_name": "A", "password": PASSWORD}, "email"),
])
def test_sign_up_rejects_bad_input_naming_the_field(api: ApiClient, body: dict[str, Any],
                                                    field: str) -> None:
    assert_error(api.post("/api/accounts/people", body), 422, field)
    assert not Person.objects.exists()


def test_malformed_json_and_wrong_shapes_are_clear_errors(api: ApiClient) -> None:
    message = assert_error(api.post("/api/accounts/people", raw="{not json"), 400, None)
    assert "JSON" in message
    assert_error(api.post("/api/accounts/people", raw="[1, 2]"), 422, "email")


def test_tokens_authenticate_and_revoked_or_unknown_ones_do_not(api: ApiClient) -> None:
    person = make_person()
    token, secret = make_api_token(person)
    assert api.get("/api/accounts/me", token=secret).status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used is not None
    assert_error(api.get("/api/accounts/me", token="ot_unknown"), 401, None)
    assert_error(api.get("/api/accounts/me", token="not-even-a-token"), 401, None)
    assert_error(api.get("/api/accounts/me"), 401, None)
    response = api.client.get("/api/accounts/me", HTTP_AUTHORIZATION="Basic abc")
    assert_error(response, 401, None)
    assert api.delete(f"/api/accounts/tokens/{token.pk}", token=secret).status_code == 200
    assert_error(api.get("/api/accounts/me", token=secret), 401, None)


def test_nobody_revokes_or_sees_another_persons_tokens(api: ApiClient) -> None:
    owner = make_person()
    token, _ = make_api_token(owner, name="owner's")
    _, intruder_secret = make_api_token(make_person())
    assert_error(api.delete(f"/api/accounts/tokens/{token.pk}", token=intruder_secret), 404,
                 None)
    names = [t["name"] for t in api.get("/api/accounts/tokens", token=intruder_secret).json()]
    assert "owner's" not in names
    assert ApiToken.objects.get(pk=token.pk).revoked is None


def test_creating_a_token_needs_a_name(api: ApiClient) -> None:
    _, secret = make_api_token(make_person())
    assert_error(api.post("/api/accounts/tokens", {"name": "  "}, token=secret), 422, "name")
    assert_error(api.post("/api/accounts/tokens", {}, token=secret), 422, "name")


def test_token_by_password_is_throttled_like_sign_in(api: ApiClient) -> None:
    make_person(email="t@example.org")
    for _ in range(5):
        assert_error(api.post("/api/accounts/tokens/by-password",
                              {"email": "t@example.org", "password": "no", "name": "x"}),
                     422, "password")
    response = api.post("/api/accounts/tokens/by-password",
                        {"email": "t@example.org", "password": PASSWORD, "name": "x"})
    assert_error(response, 429, "email")
    assert int(response["Retry-After"]) > 0


def test_profile_and_password_through_the_api(api: ApiClient) -> None:
    person = make_person()
    _, secret = make_api_token(person)
    response = api.patch("/api/accounts/me", {"preferred_language": "en"}, token=secret)
    assert response.json()["preferred_language"] == "en"
    assert_error(api.patch("/api/accounts/me", {"display_name": ""}, token=secret), 422,
                 "display_name")
    assert_error(api.post("/api/accounts/me/password",
                          {"current_password": "nope", "new_password": "Fresh-pass-99"},
                          token=secret), 422, "current_password")
    response = api.post("/api/accounts/me/password",
                        {"current_password": PASSWORD, "new_password": "Fresh-pass-99"},
                        token=secret)
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.check_password("Fresh-pass-99")


def test_password_reset_by_email_end_to_end(api: ApiClient,
                                            django_capture_on_commit_callbacks: Any) -> None:
    person = make_person(email="reset@example.org", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/accounts/password-reset", {"email": "RESET@example.org"})
    assert response.status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        unknown = api.post("/api/accounts/password-reset", {"email": "nobody@example.org"})
    assert unknown.status_code == 202 and unknown.json() == response.json()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["reset@example.org"]
    assert message.subject == "Reset your OneTeam password"  # in the person's language
    uid, token = re.search(r"/accounts/reset/([^/]+)/([^/]+)/", message.body).groups()
    assert_error(api.post("/api/accounts/password-reset/confirm",
                          {"uid": uid, "token": "bad-token", "new_password": "Brand-new-77"}),
                 422, "token")
    assert_error(api.post("/api/accounts/password-reset/confirm",
                          {"uid": uid, "token": token, "new_password": "123"}),
                 422, "new_password")
    response = api.post("/api/accounts/password-reset/confirm",
                        {"uid": uid, "token": token, "new_password": "Brand-new-77"})
    assert response.status_code == 200, response.content
    person.refresh_from_db()
    assert person.check_password("Brand-new-77")
    # A link works once: the new password changed what the token was made from.
    assert_error(api.post("/api/accounts/password-reset/confirm",
                          {"uid": uid, "token": token, "new_password": "Other-new-88"}),
                 422, "token")


def test_session_sign_in_needs_csrf_and_session_writes_too() -> None:
    client = Client(enforce_csrf_checks=True)
    person = make_person(email="s@example.org", language="en")
    api = ApiClient(client)
    assert_error(api.post("/api/accounts/session", {"email": "s@example.org",
                                                    "password": PASSWORD}), 403, None)
    csrf = client.get("/api/accounts/csrf").json()["csrf_token"]
    response = client.post("/api/accounts/session", {"email": "s@example.org",
                                                     "password": PASSWORD},
                           content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200, response.content
    assert response.cookies["django_language"].value == "en"
    assert api.get("/api/accounts/me").json()["email"] == person.email
    # A write with the session but without the CSRF header is refused...
    assert_error(api.post("/api/accounts/tokens", {"name": "x"}), 403, None)
    # ... and accepted with it (signing in rotated the token: take it from the cookie).
    csrf = client.cookies["csrftoken"].value
    response = client.post("/api/accounts/tokens", {"name": "x"},
                           content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201
    response = client.delete("/api/accounts/session", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200
    assert_error(api.get("/api/accounts/me"), 401, None)
