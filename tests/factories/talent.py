"""Factories of the talent platform: companies and recruiters, learners with profiles,
postings, credentials as evidence. Made through the apps' own actions::

    from tests.factories.talent import make_company, make_recruiter, make_posting
"""

from __future__ import annotations

import itertools
from typing import Any

from oneteam.accounts.models import Person
from oneteam.consortium.models import Organization, OrganizationKind, Role
from oneteam.credentials.actions import do_define_achievement, do_issue_credential
from oneteam.credentials.models import IssuedCredential
from oneteam.talent import actions
from oneteam.talent.models import Audience, Posting, TalentProfile
from tests.factories import make_membership, make_organization, make_person

_counter = itertools.count(1)


def make_company(slug: str | None = None, *, name_ko: str | None = None,
                 name_en: str | None = None) -> Organization:
    number = next(_counter)
    return make_organization(slug=slug or f"company-{number}",
                             name_ko=name_ko or f"회사 {number}",
                             name_en=name_en or f"Company {number}",
                             kind=OrganizationKind.COMPANY)


def make_recruiter(company: Organization, **person_fields: Any) -> Person:
    person = make_person(**person_fields)
    make_membership(person, company, Role.RECRUITER)
    return person


def make_posting(company: Organization, *, title: str = "Computer vision engineer",
                 description: str = "Train defect detection models for our factories.",
                 requirements: Any = None, language: str = "en", kind: str = "job",
                 industry: str = "manufacturing", status: str = "open",
                 **fields: Any) -> Posting:
    return actions.do_create_posting(
        actor=None, organization=company, kind=kind, industry=industry, language=language,
        title=title, description=description,
        requirements=requirements if requirements is not None else [
            {"code": "pytorch", "level": 3}, {"code": "deep-learning", "level": 3},
            {"code": "computer-vision", "level": 2, "required": False}],
        region=fields.pop("region", "Seoul"), work_type=fields.pop("work_type", "onsite"),
        status=status, **fields)


def make_learner(*, audience: str = Audience.MEMBERS, headline: str = "",
                 summary: str = "", declared: Any = None, chosen: tuple[str, ...] = (),
                 **person_fields: Any) -> tuple[Person, TalentProfile]:
    person = make_person(**person_fields)
    actions.do_update_profile(person, headline=headline, summary=summary,
                              declared_skills=declared or [])
    profile = actions.do_set_profile_visibility(person, audience=audience,
                                                organizations=list(chosen))
    return person, profile


def make_issuer(slug: str | None = None) -> tuple[Organization, Person]:
    """A university and one of its instructors (who may issue its credentials)."""
    number = next(_counter)
    university = make_organization(slug=slug or f"univ-{number}", name_ko=f"대학 {number}",
                                   name_en=f"University {number}",
                                   kind=OrganizationKind.UNIVERSITY)
    instructor = make_person()
    make_membership(instructor, university, Role.INSTRUCTOR)
    return university, instructor


def issue_credential(recipient: Person, *, skills: list[Any], name: str = "Deep learning",
                     issuer: tuple[Organization, Person] | None = None,
                     **achievement_fields: Any) -> IssuedCredential:
    """A signed credential (not anchored: no ledger needed) with the achievement's skills."""
    organization, instructor = issuer or make_issuer()
    achievement = do_define_achievement(
        actor=instructor, organization=organization, name=name,
        description=f"{name}: certified.", criteria_narrative="Passed the assessments.",
        skills=skills, **achievement_fields)
    return do_issue_credential(actor=instructor, achievement=achievement, recipient=recipient)
