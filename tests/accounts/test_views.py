"""The accounts pages: forms name the field at fault, sign-in sets the person's language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from oneteam.accounts.models import ApiToken, Person
from tests.factories import PASSWORD, make_api_token, make_person

pytestmark = pytest.mark.django_db


def field_errors(response: Any) -> dict[str, list[str]]:
    form = response.context["form"]
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def test_sign_up_page_creates_the_person_and_signs_them_in(client: Client) -> None:
    assert client.get("/accounts/sign-up/").status_code == 200
    response = client.post("/accounts/sign-up/", {
        "email": "new@example.org", "display_name": "New Learner", "password": PASSWORD,
        "preferred_language": "en"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert response.cookies["django_language"].value == "en"
    page = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="ko")
    assert page.status_code == 200
    assert "Hello, New Learner" in page.content.decode()


@pytest.mark.parametrize(("changes", "field"), [
    ({"email": "nope"}, "email"),
    ({"display_name": ""}, "display_name"),
    ({"password": "abc"}, "password"),
    ({"preferred_language": "xx"}, "preferred_language"),
])
def test_sign_up_form_names_the_bad_field(client: Client, changes: dict[str, str],
                                         field: str) -> None:
    data = {"email": "x@example.org", "display_name": "X", "password": PASSWORD,
            "preferred_language": "ko", **changes}
    response = client.post("/accounts/sign-up/", data)
    assert response.status_code == 422
    assert field in field_errors(response)
    assert not Person.objects.exists()


def test_sign_up_form_reports_a_taken_address_on_the_email_field(client: Client) -> None:
    make_person(email="taken@example.org")
    response = client.post("/accounts/sign-up/", {
        "email": "taken@example.org", "display_name": "X", "password": PASSWORD,
        "preferred_language": "ko"})
    assert response.status_code == 422
    assert "email" in field_errors(response)


def test_sign_in_page_errors_and_throttling(client: Client) -> None:
    make_person(email="in@example.org")
    response = client.post("/accounts/sign-in/", {"email": "in@example.org", "password": "x"})
    assert response.status_code == 422
    assert "password" in field_errors(response)
    for _ in range(4):
        client.post("/accounts/sign-in/", {"email": "in@example.org", "password": "x"})
    response = client.post("/accounts/sign-in/", {"email": "in@example.org",
                                                  "password": PASSWORD})
    assert response.status_code == 429
    assert "email" in field_errors(response)


def test_sign_in_goes_to_a_safe_next_page_only(client: Client) -> None:
    make_person(email="next@example.org")
    response = client.post("/accounts/sign-in/?next=/accounts/tokens/",
                           {"email": "next@example.org", "password": PASSWORD})
    assert response["Location"] == "/accounts/tokens/"
    client.post("/accounts/sign-out/")
    response = client.post("/accounts/sign-in/?next=https://evil.example/",
                           {"email": "next@example.org", "password": PASSWORD})
    assert response["Location"] == "/dashboard/"


def test_sign_out_needs_post(signed_in: Client) -> None:
    assert signed_in.get("/accounts/sign-out/").status_code == 405
    assert signed_in.post("/accounts/sign-out/").status_code == 302
    assert signed_in.get("/dashboard/").status_code == 302


def test_pages_that_need_a_person_send_others_to_sign_in(client: Client) -> None:
    for path in ("/dashboard/", "/accounts/profile/", "/accounts/tokens/",
                 "/accounts/password/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/sign-in/?next=")


def test_password_reset_pages(client: Client, django_capture_on_commit_callbacks: Any) -> None:
    person = make_person(email="forgot@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password-reset/", {"email": "forgot@example.org"})
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "OneTeam 비밀번호 재설정"
    link = re.search(r"http://testserver(/accounts/reset/[^/]+/[^/]+/)", mail.outbox[0].body)
    assert link is not None
    assert client.get(link.group(1)).status_code == 200
    response = client.post(link.group(1), {"new_password": "123"})
    assert response.status_code == 422 and "new_password" in field_errors(response)
    response = client.post(link.group(1), {"new_password": "Renewed-pass-31"})
    assert response["Location"] == "/accounts/sign-in/"
    person.refresh_from_db()
    assert person.check_password("Renewed-pass-31")
    assert client.get(link.group(1)).status_code == 400  # used once, no more
    assert client.get("/accounts/reset/xx/yy/").status_code == 400


def test_profile_page_saves_and_switches_the_language(signed_in: Client, person: Any) -> None:
    response = signed_in.post("/accounts/profile/", {"display_name": "Renamed",
                                                     "preferred_language": "en"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    person.refresh_from_db()
    assert (person.display_name, person.preferred_language) == ("Renamed", "en")
    response = signed_in.post("/accounts/profile/", {"display_name": "",
                                                     "preferred_language": "en"})
    assert response.status_code == 422 and "display_name" in field_errors(response)


def test_password_change_page(signed_in: Client, person: Any) -> None:
    response = signed_in.post("/accounts/password/", {"current_password": "wrong",
                                                      "new_password": "Newer-pass-55"})
    assert response.status_code == 422 and "current_password" in field_errors(response)
    response = signed_in.post("/accounts/password/", {"current_password": PASSWORD,
                                                      "new_password": "Newer-pass-55"})
    assert response.status_code == 302
    assert signed_in.get("/accounts/profile/").status_code == 200  # still signed in


def test_tokens_page_shows_a_new_secret_once_and_revokes(signed_in: Client, person: Any) -> None:
    response = signed_in.post("/accounts/tokens/", {"name": "notebook"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["created"]["secret"]
    assert secret in response.content.decode()
    listing = signed_in.get("/accounts/tokens/").content.decode()
    assert "notebook" in listing and secret not in listing
    token = ApiToken.objects.get(person=person)
    response = signed_in.post(f"/accounts/tokens/{token.pk}/revoke/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="token-{token.pk}"' in response.content.decode()
    token.refresh_from_db()
    assert token.revoked is not None
    other_token, _ = make_api_token(make_person())
    assert signed_in.post(f"/accounts/tokens/{other_token.pk}/revoke/").status_code == 404
    response = signed_in.post("/accounts/tokens/", {"name": ""})
    assert response.status_code == 422 and "name" in field_errors(response)
