"""The dashboard shows the sections of the viewer's roles, filled by the apps' panels."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import Client

from oneteam.consortium.models import Role
from oneteam.platform import dashboard
from tests.factories import PASSWORD, make_admin, make_membership, make_organization, make_person

pytestmark = pytest.mark.django_db


def sections_seen(client: Client, email: str) -> list[str]:
    client.post("/accounts/sign-in/", {"email": email, "password": PASSWORD})
    response = client.get("/dashboard/")
    assert response.status_code == 200
    return [section.key for section, _panels in response.context["sections"]]


def test_a_learner_without_organization_sees_the_learner_section(client: Client) -> None:
    make_person(email="solo@example.org")
    assert sections_seen(client, "solo@example.org") == ["learner"]
    page = client.get("/dashboard/").content.decode()
    # No course, no credential, no lab: the job board, which anyone may browse, and the
    # section's word on where to start.
    assert 'data-panel="oneteam.talent.dashboard.' in page
    assert 'data-panel="oneteam.academy.' not in page
    assert "아직 등록한 과정이 없습니다" in page


def test_roles_bring_their_sections(client: Client) -> None:
    kaist = make_organization(slug="kaist")
    teacher = make_person(email="teacher@example.org")
    make_membership(teacher, kaist, Role.INSTRUCTOR)
    assert sections_seen(client, "teacher@example.org") == ["instructor"]


def test_an_admin_sees_members_and_the_ledger(client: Client) -> None:
    kt = make_organization(slug="kt", name_en="KT")
    make_admin(kt, email="admin@example.org")
    assert sections_seen(client, "admin@example.org") == ["organization_admin"]
    page = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "admin@example.org" in page
    assert 'hx-get="/dashboard/ledger/"' in page


def test_an_operator_sees_the_alliance(client: Client, settings: object) -> None:
    make_person(email="op@example.org", operator=True)
    make_organization()
    assert sections_seen(client, "op@example.org") == ["operator"]
    settings.ONETEAM_LEDGER_URL = "http://127.0.0.1:9"  # type: ignore[attr-defined]
    from django.core.cache import cache

    cache.clear()
    fragment = client.get("/dashboard/ledger/").content.decode()
    assert "127.0.0.1:9" in fragment


def test_an_app_contributes_a_panel_without_the_platform_importing_it(client: Client) -> None:
    def learning_streak(request: HttpRequest) -> dashboard.Panel:
        return dashboard.Panel(title="Streak", template="platform/panels/ledger.html")

    dashboard.panel("learner", order=1)(learning_streak)
    try:
        name = f"{__name__}.{learning_streak.__qualname__}"
        assert dashboard.registered("learner")[0] == name
        make_person(email="streak@example.org")
        client.post("/accounts/sign-in/", {"email": "streak@example.org", "password": PASSWORD})
        response = client.get("/dashboard/")
        sections = {section.key: panels for section, panels in response.context["sections"]}
        assert sections["learner"][0].name == name
    finally:
        dashboard._registry["learner"] = [entry for entry in dashboard._registry["learner"]
                                          if "learning_streak" not in entry.name]


def test_an_unknown_section_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown dashboard section"):
        dashboard.panel("astronaut")
