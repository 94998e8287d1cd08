"""The demo alliance: nine founding members, a person per role, each loader once."""

from __future__ import annotations

import pytest

from oneteam.accounts.models import Person
from oneteam.consortium.models import Membership, Organization
from oneteam.platform import demo
from oneteam.platform.models import DemoLoad

pytestmark = pytest.mark.django_db


def test_load_demo_creates_the_founding_members_and_people_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The platform's loader alone: the apps' loaders add data of their own (their tests).
    platform_loader = demo.loaders()[:1]
    monkeypatch.setattr(demo, "loaders", lambda: platform_loader)
    ran = demo.load_demo()
    assert ran[0] == "oneteam.platform.demo.load_alliance"  # then each app's loader
    organizations = Organization.objects.all()
    assert organizations.count() == 9
    assert all(o.is_demo and o.name_ko and o.name_en for o in organizations)
    assert {"kt", "hd-hyundai", "kaist", "hanyang", "etri", "lg-electronics", "lg-uplus",
            "korea-investment", "dongwon"} == {o.slug for o in organizations}
    people = Person.objects.filter(is_demo=True)
    assert people.count() == len(demo.DEMO_PEOPLE)
    assert people.get(email="operator@demo.oneteam.example").is_operator
    roles = set(Membership.objects.values_list("organization__slug", "role"))
    assert {("kt", "admin"), ("kaist", "instructor"), ("lg-electronics", "recruiter"),
            ("hanyang", "learner")} == roles
    assert demo.load_demo() == []
    assert Organization.objects.count() == 9


def test_demo_people_sign_in_with_the_data_directorys_password() -> None:
    from oneteam.accounts.actions import do_sign_in
    from oneteam.platform import datadir

    demo.load_demo()
    assert do_sign_in(email="learner@demo.oneteam.example", password=datadir.demo_password(),
                      address="127.0.0.1")


def test_an_apps_loader_runs_once_after_the_alliance(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[demo.DemoAlliance] = []
    base = demo.loaders

    def with_extra() -> list[tuple[str, demo.Loader]]:
        return [*base(), ("tests.extra.load_demo", calls.append)]

    monkeypatch.setattr(demo, "loaders", with_extra)
    assert demo.load_demo()[-1] == "tests.extra.load_demo"
    assert calls[0].organizations["kaist"].name_en == "KAIST"
    assert calls[0].people["learner"].email == "learner@demo.oneteam.example"
    assert demo.load_demo() == []
    assert DemoLoad.objects.filter(name="tests.extra.load_demo").exists()
