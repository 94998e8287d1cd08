"""Factories of the academy: programs with content, cohorts, enrollments, classes.

Made through the academy's actions, like every factory::

    from tests.factories.academy import make_program, make_cohort, enroll

``make_program`` builds a small program in a temporary content folder (two courses, two
modules each, two lessons per module unless told otherwise) and imports it, so tests
never depend on the shipped lessons changing; ``shipped_program`` imports a shipped one.
"""

from __future__ import annotations

import atexit
import datetime
import itertools
import shutil
import tempfile
from pathlib import Path

from django.utils import timezone

from oneteam.academy import actions
from oneteam.academy.content import load_program, load_programs
from oneteam.academy.models import (
    Cohort,
    Course,
    Enrollment,
    EnrollmentMode,
    Lesson,
    Program,
    SchoolClass,
    Visibility,
)
from oneteam.accounts.models import Person
from oneteam.consortium.models import Organization, OrganizationKind, Role
from tests.factories import make_membership, make_organization, make_person

_counter = itertools.count(1)
_CONTENT_ROOT = Path(tempfile.mkdtemp(prefix="oneteam-test-content-"))
atexit.register(shutil.rmtree, _CONTENT_ROOT, ignore_errors=True)

LESSON_BODY_KO = """수업을 시작하는 문단입니다.

## 코드

```python
total = sum(range(10))
print(total)
```

## 정리

핵심을 정리합니다.
"""

LESSON_BODY_EN = """An opening paragraph.

## Code

```python
total = sum(range(10))
print(total)
```

## Summary

The key points.
"""


def write_program(slug: str, *, courses: int = 2, modules: int = 2, lessons: int = 2,
                  body_ko: str = LESSON_BODY_KO, body_en: str = LESSON_BODY_EN,
                  track: str = "developer") -> Path:
    """A program folder under a temporary content root; returns its directory."""
    folder = _CONTENT_ROOT / str(next(_counter)) / slug  # the folder's name is the slug
    folder.mkdir(parents=True)
    manifest = [f'slug = "{slug}"', f'title_ko = "프로그램 {slug}"',
                f'title_en = "Program {slug}"', 'summary_ko = "요약"',
                'summary_en = "Summary"', f'track = "{track}"', "hours = 120", ""]
    for c in range(1, courses + 1):
        manifest += ["[[courses]]", f'slug = "course-{c}"', f'title_ko = "과정 {c}"',
                     f'title_en = "Course {c}"', ""]
        for m in range(1, modules + 1):
            manifest += ["[[courses.modules]]", f'slug = "module-{c}-{m}"',
                         f'title_ko = "모듈 {c}.{m}"', f'title_en = "Module {c}.{m}"', ""]
            for n in range(1, lessons + 1):
                stem = f"c{c}/m{m}/lesson-{c}-{m}-{n}"
                (folder / stem).parent.mkdir(parents=True, exist_ok=True)
                (folder / f"{stem}.ko.md").write_text(body_ko, encoding="utf-8")
                (folder / f"{stem}.en.md").write_text(body_en, encoding="utf-8")
                manifest += ["[[courses.modules.lessons]]", f'slug = "lesson-{c}-{m}-{n}"',
                             f'title_ko = "강의 {c}.{m}.{n}"',
                             f'title_en = "Lesson {c}.{m}.{n}"', "minutes = 30",
                             f'path = "{stem}"', ""]
    (folder / "program.toml").write_text("\n".join(manifest), encoding="utf-8")
    return folder


def make_program(*, owner: Organization | None = None, slug: str | None = None,
                 visibility: str = Visibility.PUBLIC, courses: int = 2, modules: int = 2,
                 lessons: int = 2, body_ko: str = LESSON_BODY_KO,
                 body_en: str = LESSON_BODY_EN) -> Program:
    slug = slug or f"program-{next(_counter)}"
    folder = write_program(slug, courses=courses, modules=modules, lessons=lessons,
                           body_ko=body_ko, body_en=body_en)
    owner = owner or make_organization(kind=OrganizationKind.UNIVERSITY)
    return actions.do_import_program(actor=None, spec=load_program(folder), owner=owner,
                                     visibility=visibility)


def shipped_program(slug: str = "ai-developer", owner: Organization | None = None) -> Program:
    spec = next(spec for spec in load_programs() if spec.slug == slug)
    return actions.do_import_program(actor=None, spec=spec,
                                     owner=owner or make_organization(slug=f"owner-{slug}"))


def lessons_of(program: Program) -> list[Lesson]:
    return list(Lesson.objects.filter(program=program).order_by("ordinal"))


def make_instructor(organization: Organization, **person_fields: object) -> Person:
    person = make_person(**person_fields)  # type: ignore[arg-type]
    make_membership(person, organization, Role.INSTRUCTOR)
    return person


def make_cohort(program: Program | None = None, *, organization: Organization | None = None,
                mode: str = EnrollmentMode.OPEN, capacity: int | None = None,
                instructors: list[Person] | None = None, name: str | None = None,
                starts_on: datetime.date | None = None,
                ends_on: datetime.date | None = None) -> Cohort:
    program = program or make_program()
    organization = organization or program.owner
    starts_on = starts_on or timezone.localdate() - datetime.timedelta(days=7)
    ends_on = ends_on or starts_on + datetime.timedelta(days=180)
    if instructors is None:
        instructors = [make_instructor(organization)]
    return actions.do_create_cohort(
        actor=None, program=program, organization=organization,
        name=name or f"Cohort {next(_counter)}", starts_on=starts_on, ends_on=ends_on,
        enrollment_mode=mode, capacity=capacity,
        instructor_emails=[person.email for person in instructors])


def enroll(person: Person, cohort: Cohort) -> Enrollment:
    """Seat ``person`` in ``cohort`` whatever its mode (invited, then accepted)."""
    actions.do_invite_learners(actor=None, cohort=cohort, emails=[person.email])
    return actions.do_accept_invitation(person=person, cohort=cohort)


def complete(person: Person, program: Program, count: int) -> list[Lesson]:
    """Mark the first ``count`` lessons of ``program`` complete for ``person``."""
    done = lessons_of(program)[:count]
    for lesson in done:
        actions.do_complete_lesson(person=person, lesson=lesson)
    return done


def make_school_class(*, school: Organization | None = None, teacher: Person | None = None,
                      courses: list[Course] | None = None,
                      students: list[Person] | None = None) -> SchoolClass:
    school = school or make_organization(kind=OrganizationKind.PUBLIC_BODY)
    teacher = teacher or make_instructor(school)
    if courses is None:
        courses = list(make_program().courses.order_by("position")[:1])
    school_class = actions.do_create_class(actor=None, school=school, teacher=teacher,
                                           name=f"Class {next(_counter)}", courses=courses)
    if students:
        actions.do_add_students(actor=None, school_class=school_class,
                                emails=[s.email for s in students])
    return school_class
