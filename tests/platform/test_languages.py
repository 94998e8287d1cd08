"""Korean by default, English by a switch; every string translated."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from oneteam.platform import i18n
from tests.factories import PASSWORD, make_person

pytestmark = pytest.mark.django_db


def test_korean_is_the_default(client: Client) -> None:
    page = client.get("/").content.decode()
    assert '<html lang="ko">' in page
    assert "가입하기" in page and "로그인" in page


def test_a_browser_asking_for_english_gets_english(client: Client) -> None:
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in page and "Sign up" in page


def test_the_switch_changes_the_language_and_back(client: Client) -> None:
    response = client.post("/language/", {"language": "en", "next": "/accounts/sign-in/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/sign-in/"
    page = client.get("/accounts/sign-in/").content.decode()
    assert '<html lang="en">' in page and "Forgot your password?" in page
    client.post("/language/", {"language": "ko", "next": "/"})
    assert "비밀번호를 잊으셨나요?" in client.get("/accounts/sign-in/").content.decode()


def test_the_switch_remembers_a_signed_in_persons_choice(client: Client) -> None:
    person = make_person(email="lang@example.org", language="ko")
    client.post("/accounts/sign-in/", {"email": "lang@example.org", "password": PASSWORD})
    client.post("/language/", {"language": "en", "next": "/dashboard/"})
    person.refresh_from_db()
    assert person.preferred_language == "en"
    # On another browser, signing in brings the language along.
    other = Client()
    response = other.post("/accounts/sign-in/", {"email": "lang@example.org",
                                                 "password": PASSWORD})
    assert response.cookies["django_language"].value == "en"
    assert "Dashboard" in other.get("/dashboard/").content.decode()


def test_an_unknown_language_is_ignored(client: Client) -> None:
    client.post("/language/", {"language": "xx", "next": "/"})
    assert '<html lang="ko">' in client.get("/").content.decode()


def test_every_string_of_every_app_is_translated_into_korean() -> None:
    """English source strings, Korean translations: none missing, none fuzzy, .mo current.

    When this fails: run `oneteam messages`, translate the new entries in the .po files
    it names, and run it again to compile them.
    """
    problems = [p for app_dir in i18n.oneteam_app_dirs() for p in i18n.check_app(app_dir)]
    assert problems == []


def test_the_check_notices_an_untranslated_template_string(tmp_path: Path) -> None:
    app = tmp_path / "sample"
    (app / "templates" / "sample").mkdir(parents=True)
    (app / "templates" / "sample" / "page.html").write_text(
        '{% load i18n %}<p>{% translate "Hello there" %}</p>\n'
        '  {% blocktranslate with name=x %}Hi {{ name }}{% endblocktranslate %}\n')
    (app / "views.py").write_text("from django.utils.translation import gettext as _\n"
                                  "MESSAGE = _('From Python')\n")
    found = {item.message for item in i18n.extract_app(app)}
    assert found == {"Hello there", "Hi %(name)s", "From Python"}
    assert any("no ko catalog" in problem for problem in i18n.check_app(app))
    i18n.update_app(app)
    problems = i18n.check_app(app)
    assert len([p for p in problems if "has no ko translation" in p]) == 3
