"""Fixtures of the labs app's tests: a university with a program, a cohort and its own
local pool, a learner in the cohort, and the digits lab attached to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from oneteam.academy.models import Cohort, Program
from oneteam.accounts.models import Person
from oneteam.compute.models import ComputePool
from oneteam.compute.worker import ComputeWorker
from oneteam.consortium.models import Organization, OrganizationKind
from oneteam.labs.models import Lab
from tests.compute.conftest import sandbox_or_skip
from tests.factories import make_organization, make_person
from tests.factories.academy import enroll, make_cohort, make_instructor, make_program
from tests.factories.labs import make_lab, make_pool


@dataclass
class Classroom:
    university: Organization
    program: Program
    cohort: Cohort
    instructor: Person
    learner: Person
    pool: ComputePool
    lab: Lab


@pytest.fixture
def classroom(db: None) -> Classroom:
    university = make_organization(slug="kaist", name_ko="카이스트", name_en="KAIST",
                                   kind=OrganizationKind.UNIVERSITY)
    program = make_program(owner=university)
    instructor = make_instructor(university)
    cohort = make_cohort(program, instructors=[instructor])
    learner = make_person(display_name="Kim Learner")
    enroll(learner, cohort)
    pool = make_pool(university)
    lab = make_lab("digits", university, cohort=cohort)
    return Classroom(university, program, cohort, instructor, learner, pool, lab)


@pytest.fixture
def worker() -> Iterator[ComputeWorker]:
    """A compute worker for the test, run by hand (``worker.run_until_idle()``)."""
    sandbox_or_skip()
    running = ComputeWorker(poll_interval_s=0.05)
    yield running
    running.close()


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Messages in English, so assertions read them (pages follow the request's language)."""
    from django.utils import translation

    with translation.override("en"):
        yield
