"""The demo alliance that ``oneteam up`` loads into a new database.

:func:`load_demo` runs the loaders in order, each at most once per database (a
``DemoLoad`` row records it), so a loader added later runs on the next start and
data the people have changed since is never loaded over:

1. the platform's own, :func:`load_alliance`: the nine founding members and a demo
   person for each role;
2. then, for every installed app under ``oneteam.`` in INSTALLED_APPS order, a
   ``load_demo(alliance)`` function in the app's ``demo`` module, if it has one.

An app adds demo data by writing ``<app>/demo.py``::

    def load_demo(alliance: DemoAlliance) -> None:
        kaist = alliance.organizations["kaist"]
        learner = alliance.people["learner"]
        ...  # call the app's own actions

Everything a loader creates should be marked as demo data where the model can say so.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import IntegrityError, transaction

from oneteam.accounts.models import Person
from oneteam.consortium.models import Organization, OrganizationKind, Role
from oneteam.platform import datadir
from oneteam.platform.models import DemoLoad

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DemoOrganization:
    slug: str
    name_ko: str
    name_en: str
    kind: str


FOUNDING_MEMBERS = (
    DemoOrganization("kt", "KT", "KT", OrganizationKind.COMPANY),
    DemoOrganization("hd-hyundai", "HD현대", "HD Hyundai", OrganizationKind.COMPANY),
    DemoOrganization("kaist", "한국과학기술원", "KAIST", OrganizationKind.UNIVERSITY),
    DemoOrganization("hanyang", "한양대학교", "Hanyang University", OrganizationKind.UNIVERSITY),
    DemoOrganization("etri", "한국전자통신연구원", "ETRI", OrganizationKind.RESEARCH_INSTITUTE),
    DemoOrganization("lg-electronics", "LG전자", "LG Electronics", OrganizationKind.COMPANY),
    DemoOrganization("lg-uplus", "LG유플러스", "LG U+", OrganizationKind.COMPANY),
    DemoOrganization("korea-investment", "한국투자증권", "Korea Investment & Securities",
                     OrganizationKind.COMPANY),
    DemoOrganization("dongwon", "동원그룹", "Dongwon", OrganizationKind.COMPANY),
)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    key: str
    email: str
    display_name: str
    language: str
    operator: bool = False
    # (organization slug, role) pairs
    roles: tuple[tuple[str, str], ...] = ()


DEMO_PEOPLE = (
    DemoPerson("operator", "operator@demo.oneteam.example", "운영자 김하나", "ko", operator=True),
    DemoPerson("admin", "admin@demo.oneteam.example", "KT 관리자 이도윤", "ko",
               roles=(("kt", Role.ADMIN),)),
    DemoPerson("instructor", "instructor@demo.oneteam.example", "KAIST 강사 박서연", "ko",
               roles=(("kaist", Role.INSTRUCTOR),)),
    DemoPerson("recruiter", "recruiter@demo.oneteam.example", "LG전자 채용담당 최민준", "ko",
               roles=(("lg-electronics", Role.RECRUITER),)),
    DemoPerson("learner", "learner@demo.oneteam.example", "학습자 정지우", "ko"),
    DemoPerson("student", "student@demo.oneteam.example", "Hanyang student Alex Kim", "en",
               roles=(("hanyang", Role.LEARNER),)),
    # A school teacher and a pupil: the academy's demo gives them their school and class.
    DemoPerson("teacher", "teacher@demo.oneteam.example", "교사 한지민", "ko"),
    DemoPerson("pupil", "pupil@demo.oneteam.example", "학생 오서준", "ko"),
)


@dataclass(slots=True)
class DemoAlliance:
    """What the demo loaders share: the demo organizations and people, by key."""

    organizations: dict[str, Organization] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    password: str = ""


def load_alliance(alliance: DemoAlliance) -> None:
    """The nine founding members, each marked as demo data, and a person for each role."""
    from oneteam.accounts.actions import do_sign_up
    from oneteam.consortium.actions import do_add_membership, do_create_organization

    for member in FOUNDING_MEMBERS:
        organization = Organization.objects.filter(slug=member.slug).first()
        if organization is None:
            organization = do_create_organization(
                actor=None, slug=member.slug, name_ko=member.name_ko, name_en=member.name_en,
                kind=member.kind, is_demo=True)
        alliance.organizations[member.slug] = organization
    for spec in DEMO_PEOPLE:
        person = Person.objects.filter(email=spec.email).first()
        if person is None:
            person = do_sign_up(email=spec.email, display_name=spec.display_name,
                                password=alliance.password, preferred_language=spec.language,
                                is_demo=True)
            if spec.operator:  # runs the alliance, and the administration site with it
                with transaction.atomic(durable=True):
                    person.is_operator = person.is_staff = person.is_superuser = True
                    person.save(update_fields=["is_operator", "is_staff", "is_superuser"])
        for slug, role in spec.roles:
            do_add_membership(actor=None, organization=alliance.organizations[slug],
                              email=spec.email, role=role)
        alliance.people[spec.key] = person


Loader = Callable[[DemoAlliance], None]


def loaders() -> list[tuple[str, Loader]]:
    """The demo loaders in the order they run: the platform's, then each app's."""
    found: list[tuple[str, Loader]] = [("oneteam.platform.demo.load_alliance", load_alliance)]
    for config in apps.get_app_configs():
        if not config.name.startswith("oneteam.") or config.name == "oneteam.platform":
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.demo":
                raise
            continue
        function = getattr(module, "load_demo", None)
        if not callable(function):
            raise TypeError(f"{config.name}.demo must define load_demo(alliance)")
        found.append((f"{config.name}.demo.load_demo", function))
    return found


def demo_alliance() -> DemoAlliance:
    """The demo organizations and people as they are in the database now."""
    alliance = DemoAlliance(password=datadir.demo_password())
    for organization in Organization.objects.filter(slug__in=[m.slug for m in FOUNDING_MEMBERS]):
        alliance.organizations[organization.slug] = organization
    for spec in DEMO_PEOPLE:
        person = Person.objects.filter(email=spec.email).first()
        if person is not None:
            alliance.people[spec.key] = person
    return alliance


def load_demo() -> list[str]:
    """Run every demo loader that has not run on this database; returns the ones that ran."""
    alliance = demo_alliance()
    ran = []
    for name, loader in loaders():
        if DemoLoad.objects.filter(name=name).exists():
            continue
        logger.debug("loading demo data: %s", name)
        loader(alliance)
        try:
            with transaction.atomic(durable=True):
                DemoLoad.objects.create(name=name)
        except IntegrityError:  # another process loaded it at the same moment
            pass
        ran.append(name)
    return ran


def demo_sign_ins() -> list[tuple[str, str]]:
    """(what, e-mail) of each demo person, for `oneteam up` to print."""
    return [(spec.key, spec.email) for spec in DEMO_PEOPLE]
