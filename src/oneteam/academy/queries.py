"""Reads of the academy that need a permission: ``access_<thing>_by_<key>`` raise on denial.

Who sees what:

- A **program** marked public is readable by anyone, signed in or not; one marked
  ``organization`` only by its owner's people, the learners and instructors of its
  cohorts, the teachers and students of classes that use its courses, and operators.
  To everyone else it does not exist (404).
- A **cohort** is seen by its managers (administrators of the organization running it,
  its instructors, the alliance's operators), by anyone it has an enrollment for (by
  person, or by e-mail address for an invitation not yet accepted), and, when it is
  open or by approval, by anyone who may read its program. A cohort by invitation is
  invisible to everyone else.
- A cohort's **roster and progress** are for its managers only: an instructor sees the
  cohorts they teach, an administrator their organization's; nobody else's.
- A **class** is seen by its teacher, its students, its school's administrators and
  operators; its students' progress by all of them but the students.

Functions that return several things fetch them with a fixed number of queries,
whatever their number (the tests assert the counts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.academy.models import (
    SEATED,
    Cohort,
    Course,
    Enrollment,
    EnrollmentMode,
    EnrollmentStatus,
    Lesson,
    LessonProgress,
    Module,
    Program,
    SchoolClass,
    Visibility,
    english_active,
)
from oneteam.academy.progress import Column, Table, build_table, next_lesson_index, percent
from oneteam.accounts.models import Person
from oneteam.consortium.models import Membership, Organization, Role
from oneteam.platform.errors import AccessDenied, NotFound

LESSON_OUTLINE_FIELDS = ("id", "program_id", "module_id", "slug", "position", "ordinal",
                         "title_ko", "title_en", "minutes")
COHORTS_ON_DASHBOARD_MAX = 20
CLASSES_ON_DASHBOARD_MAX = 20


PROGRAM_LESSONS_CACHE_S = 3600


@dataclass(frozen=True, slots=True)
class LessonRef:
    """A lesson's place and titles, without its text: what lists and links need."""

    id: int
    slug: str
    ordinal: int
    title_ko: str
    title_en: str
    module_id: int

    @property
    def pk(self) -> int:
        return self.id

    @property
    def title(self) -> str:
        return self.title_en if english_active() else self.title_ko


def _program_lessons_key(program: Program) -> str:
    return f"academy:program-lessons:{program.pk}:{program.revision}"


def programs_lessons(programs: list[Program]) -> dict[int, tuple[LessonRef, ...]]:
    """Each program's lessons in teaching order, from memory when the program's revision
    is unchanged; the programs not in memory are read together, in one query."""
    keys = {_program_lessons_key(program): program for program in programs}
    found: dict[int, tuple[LessonRef, ...]] = {}
    for key, refs in cache.get_many(list(keys)).items():
        found[keys[key].pk] = refs
    missing = [program for program in programs if program.pk not in found]
    if missing:
        rows: dict[int, list[LessonRef]] = {program.pk: [] for program in missing}
        for program_id, lesson_id, slug, ordinal, title_ko, title_en, module_id in (
                Lesson.objects.filter(program__in=missing).order_by("program_id", "ordinal")
                .values_list("program_id", "id", "slug", "ordinal", "title_ko", "title_en",
                             "module_id")):
            rows[program_id].append(LessonRef(lesson_id, slug, ordinal, title_ko, title_en,
                                              module_id))
        fresh = {program.pk: tuple(rows[program.pk]) for program in missing}
        cache.set_many({_program_lessons_key(program): fresh[program.pk]
                        for program in missing}, PROGRAM_LESSONS_CACHE_S)
        found.update(fresh)
    return found


def program_lessons(program: Program) -> tuple[LessonRef, ...]:
    return programs_lessons([program])[program.pk]


def signed_in(viewer: Any) -> bool:
    return isinstance(viewer, Person) and viewer.is_authenticated


# --------------------------------------------------------------------------- organizations


def organizations_for_cohorts(viewer: Person) -> QuerySet[Organization]:
    """Organizations in which ``viewer`` may create cohorts and classes (admin or instructor)."""
    if viewer.is_operator:
        return Organization.objects.all()
    return Organization.objects.filter(
        Exists(Membership.objects.filter(organization=OuterRef("pk"), person=viewer,
                                         role__in=[Role.ADMIN, Role.INSTRUCTOR])))


def may_run_cohorts_for(viewer: Person, organization: Organization) -> bool:
    return viewer.is_operator or Membership.objects.filter(
        person=viewer, organization=organization,
        role__in=[Role.ADMIN, Role.INSTRUCTOR]).exists()


def may_teach_for(person: Person, organization: Organization) -> bool:
    """Whether ``person`` may be an instructor of the organization's cohorts or classes."""
    return Membership.objects.filter(person=person, organization=organization,
                                     role__in=[Role.ADMIN, Role.INSTRUCTOR]).exists()


# --------------------------------------------------------------------------- programs


def _program_readers_q(viewer: Any, prefix: str = "") -> Q:
    """A filter for the programs ``viewer`` may read (``prefix``: the path to a Program)."""
    public = Q(**{f"{prefix}visibility": Visibility.PUBLIC})
    if not signed_in(viewer):
        return public
    if viewer.is_operator:
        return Q()
    program = OuterRef(f"{prefix}pk" if prefix else "pk")
    owner = OuterRef(f"{prefix}owner_id" if prefix else "owner_id")
    return (public
            | Q(Exists(Membership.objects.filter(organization=owner, person=viewer)))
            | Q(Exists(Enrollment.objects.filter(cohort__program=program, person=viewer,
                                                 status__in=SEATED)))
            | Q(Exists(Cohort.instructors.through.objects.filter(
                cohort__program=program, person=viewer)))
            | Q(Exists(SchoolClass.objects.filter(
                Q(students=viewer) | Q(teacher=viewer), courses__program=program))))


def can_read_program(viewer: Any, program: Program) -> bool:
    if program.visibility == Visibility.PUBLIC:
        return True
    if not signed_in(viewer):
        return False
    return Program.objects.filter(pk=program.pk).filter(_program_readers_q(viewer)).exists()


def can_edit_program(viewer: Any, program: Program) -> bool:
    """Operators and the owner's administrators and instructors change a program's lessons."""
    if not signed_in(viewer):
        return False
    return viewer.is_operator or Membership.objects.filter(
        person=viewer, organization_id=program.owner_id,
        role__in=[Role.ADMIN, Role.INSTRUCTOR]).exists()


def access_programs(viewer: Any) -> QuerySet[Program]:
    """The catalogue: every program ``viewer`` may read, with its owner and its counts."""
    return (Program.objects.filter(_program_readers_q(viewer)).select_related("owner")
            .annotate(course_count=Count("courses", distinct=True),
                      lesson_count=Count("lessons", distinct=True))
            .order_by("track", "slug"))


def _no_program(slug: str) -> NotFound:
    return NotFound(_("There is no program “%(slug)s”.") % {"slug": slug})


def access_program_by_slug(viewer: Any, slug: str) -> Program:
    program = Program.objects.select_related("owner").filter(slug=slug).first()
    if program is None or not can_read_program(viewer, program):
        raise _no_program(slug)
    return program


def program_outline(program: Program) -> list[Course]:
    """The program's courses, each with ``.outline_modules``, each with ``.outline_lessons``
    (lessons without their bodies): three queries."""
    courses = list(program.courses.order_by("position"))
    modules = list(Module.objects.filter(course__program=program).order_by("position"))
    lessons = list(Lesson.objects.filter(program=program).only(*LESSON_OUTLINE_FIELDS)
                   .order_by("ordinal"))
    by_module: dict[int, list[Lesson]] = defaultdict(list)
    for lesson in lessons:
        by_module[lesson.module_id].append(lesson)
    by_course: dict[int, list[Module]] = defaultdict(list)
    for module in modules:
        module.outline_lessons = by_module[module.pk]  # type: ignore[attr-defined]
        by_course[module.course_id].append(module)
    for course in courses:
        course.outline_modules = by_course[course.pk]  # type: ignore[attr-defined]
        course.outline_lessons = [  # type: ignore[attr-defined]
            lesson for module in by_course[course.pk] for lesson in by_module[module.pk]]
    return courses


def access_course_by_slug(viewer: Any, program_slug: str, course_slug: str) -> Course:
    """A course with its program (and the program's owner)."""
    course = (Course.objects.select_related("program__owner")
              .filter(program__slug=program_slug, slug=course_slug).first())
    if course is None or not can_read_program(viewer, course.program):
        raise NotFound(_("There is no course “%(course)s” in “%(program)s”.")
                       % {"course": course_slug, "program": program_slug})
    return course


def course_outline(course: Course) -> list[Module]:
    """The course's modules, each with ``.outline_lessons`` (no bodies): two queries."""
    modules = list(course.modules.order_by("position"))
    lessons = (Lesson.objects.filter(module__course=course).only(*LESSON_OUTLINE_FIELDS)
               .order_by("ordinal"))
    by_module: dict[int, list[Lesson]] = defaultdict(list)
    for lesson in lessons:
        by_module[lesson.module_id].append(lesson)
    for module in modules:
        module.outline_lessons = by_module[module.pk]  # type: ignore[attr-defined]
    return modules


# What the lesson page and the lesson API show of a lesson and its parents. Naming the
# columns keeps the query small to build and to send; the bodies stay in the database.
LESSON_PAGE_FIELDS = (
    "id", "program_id", "module_id", "slug", "ordinal", "title_ko", "title_en", "minutes",
    "content_digest", "content_path",
    "module__id", "module__slug", "module__title_ko", "module__title_en", "module__course_id",
    "module__course__id", "module__course__slug", "module__course__title_ko",
    "module__course__title_en",
    "program__id", "program__slug", "program__title_ko", "program__title_en",
    "program__visibility", "program__owner_id", "program__revision",
)


def _lesson_page_queryset() -> QuerySet[Lesson]:
    return (Lesson.objects.select_related("module__course", "program")
            .only(*LESSON_PAGE_FIELDS))


def access_lesson_by_slug(viewer: Any, program_slug: str, lesson_slug: str) -> Lesson:
    """The lesson with its module, course and program.

    The program's row is read every time (one small query: its revision and who may read
    it); the lesson and its parents come from memory while the program's revision is the
    same, which saves the busiest page a four-table join.
    """
    row = (Program.objects.filter(slug=program_slug)
           .values_list("id", "revision", "visibility", "owner_id").first())
    lesson: Lesson | None = None
    if row is not None:
        program_id, revision, visibility, owner_id = row
        key = f"academy:lesson-page:{program_id}:{revision}:{lesson_slug}"
        lesson = cache.get(key)
        if lesson is None:
            lesson = _lesson_page_queryset().filter(program_id=program_id,
                                                    slug=lesson_slug).first()
            if lesson is not None:
                cache.set(key, lesson, PROGRAM_LESSONS_CACHE_S)
        if lesson is not None:  # who may read it is as the database says now
            lesson.program.visibility = visibility
            lesson.program.owner_id = owner_id
    if lesson is None or not can_read_program(viewer, lesson.program):
        raise NotFound(_("There is no lesson “%(lesson)s” in “%(program)s”.")
                       % {"lesson": lesson_slug, "program": program_slug})
    return lesson


def access_lesson_by_id(viewer: Any, lesson_id: int) -> Lesson:
    lesson = _lesson_page_queryset().filter(pk=lesson_id).first()
    if lesson is None or not can_read_program(viewer, lesson.program):
        raise NotFound(_("There is no lesson with this number."))
    return lesson


def access_editable_lesson_by_id(viewer: Person, lesson_id: int) -> Lesson:
    lesson = Lesson.objects.select_related("program__owner", "module__course").filter(
        pk=lesson_id).first()
    if lesson is None or not can_read_program(viewer, lesson.program):
        raise NotFound(_("There is no lesson with this number."))
    if not can_edit_program(viewer, lesson.program):
        raise AccessDenied(_("Only the administrators and instructors of %(owner)s change "
                             "this program's lessons.") % {"owner": lesson.program.owner.name})
    return lesson


def lesson_neighbours(lesson: Lesson) -> tuple[LessonRef | None, LessonRef | None]:
    """The lessons before and after ``lesson`` in its program (from memory, usually)."""
    refs = program_lessons(lesson.program)
    index = next((i for i, ref in enumerate(refs) if ref.id == lesson.pk), None)
    if index is None:  # the lesson is newer than the program's revision: cannot happen
        return None, None
    return (refs[index - 1] if index > 0 else None,
            refs[index + 1] if index + 1 < len(refs) else None)


def progress_on(viewer: Any, lesson: Lesson) -> LessonProgress | None:
    if not signed_in(viewer):
        return None
    return LessonProgress.objects.filter(person=viewer, lesson=lesson).first()


@dataclass(frozen=True, slots=True)
class LessonStates:
    completed: frozenset[int]
    started: frozenset[int]


def lesson_states(viewer: Any, *, program: Program | None = None,
                  course: Course | None = None) -> LessonStates:
    """Which lessons (of a program or a course) ``viewer`` has completed or only opened."""
    if not signed_in(viewer):
        return LessonStates(frozenset(), frozenset())
    rows = LessonProgress.objects.filter(person=viewer)
    if program is not None:
        rows = rows.filter(lesson__program=program)
    if course is not None:
        rows = rows.filter(lesson__module__course=course)
    completed: set[int] = set()
    started: set[int] = set()
    for lesson_id, done in rows.values_list("lesson_id", "completed"):
        (completed if done is not None else started).add(lesson_id)
    return LessonStates(frozenset(completed), frozenset(started))


def learning_cohort(person: Person, program_id: int) -> Cohort | None:
    """The cohort in which ``person`` learns the program now (their latest seat), if any."""
    enrollment = (Enrollment.objects.filter(person=person, cohort__program_id=program_id,
                                            status__in=SEATED)
                  .select_related("cohort")
                  .order_by("status", "-cohort__starts_on", "-pk").first())
    return enrollment.cohort if enrollment is not None else None


# --------------------------------------------------------------------------- cohorts


def _managed_cohorts_q(viewer: Person) -> Q:
    return (Q(Exists(Cohort.instructors.through.objects.filter(cohort=OuterRef("pk"),
                                                               person=viewer)))
            | Q(Exists(Membership.objects.filter(organization=OuterRef("organization_id"),
                                                 person=viewer, role=Role.ADMIN))))


def _own_enrollment_q(viewer: Person, prefix: str = "") -> Q:
    return (Q(**{f"{prefix}person": viewer})
            | Q(**{f"{prefix}person__isnull": True, f"{prefix}email": viewer.email}))


def is_cohort_manager(viewer: Any, cohort: Cohort) -> bool:
    if not signed_in(viewer):
        return False
    if viewer.is_operator:
        return True
    return Cohort.objects.filter(pk=cohort.pk).filter(_managed_cohorts_q(viewer)).exists()


def managed_cohort_ids(viewer: Person, cohorts: list[Cohort]) -> set[int]:
    """Which of ``cohorts`` ``viewer`` manages: one query."""
    ids = [cohort.pk for cohort in cohorts]
    if viewer.is_operator:
        return set(ids)
    return set(Cohort.objects.filter(pk__in=ids).filter(_managed_cohorts_q(viewer))
               .values_list("pk", flat=True))


def access_cohorts(viewer: Person, *, program: Program | None = None) -> QuerySet[Cohort]:
    """The cohorts ``viewer`` may see, newest first."""
    cohorts = Cohort.objects.select_related("program", "organization")
    if program is not None:
        cohorts = cohorts.filter(program=program)
    if viewer.is_operator:
        return cohorts
    listed = Q(enrollment_mode__in=[EnrollmentMode.OPEN, EnrollmentMode.APPROVAL]) & (
        _program_readers_q(viewer, "program__"))
    enrolled = Q(Exists(Enrollment.objects.filter(cohort=OuterRef("pk")).filter(
        _own_enrollment_q(viewer))))
    return cohorts.filter(listed | enrolled | _managed_cohorts_q(viewer))


def listed_cohorts(viewer: Any, program: Program) -> list[Cohort]:
    """The cohorts of ``program`` shown on its page: those ``viewer`` may see, not ended;
    for visitors who are not signed in, the open and by-approval ones."""
    today = timezone.localdate()
    if signed_in(viewer):
        cohorts = access_cohorts(viewer, program=program)
    else:
        cohorts = Cohort.objects.select_related("program", "organization").filter(
            program=program, enrollment_mode__in=[EnrollmentMode.OPEN, EnrollmentMode.APPROVAL])
    return list(cohorts.filter(ends_on__gte=today).order_by("starts_on", "name")[:50])


@dataclass(frozen=True, slots=True)
class CohortAccess:
    cohort: Cohort
    is_manager: bool
    enrollment: Enrollment | None
    """The viewer's own enrollment (by person or, for an invitation, by e-mail)."""

    @property
    def status(self) -> str | None:
        return self.enrollment.status if self.enrollment is not None else None


def enrollment_of(viewer: Person, cohort: Cohort) -> Enrollment | None:
    return (Enrollment.objects.filter(cohort=cohort).filter(_own_enrollment_q(viewer))
            .order_by("person_id").first())


def _no_cohort() -> NotFound:
    return NotFound(_("There is no cohort with this number, or it is not open to you."))


def access_cohort_by_id(viewer: Person, cohort_id: int) -> CohortAccess:
    cohort = (Cohort.objects.select_related("program__owner", "organization")
              .filter(pk=cohort_id).first())
    if cohort is None:
        raise _no_cohort()
    manager = is_cohort_manager(viewer, cohort)
    enrollment = enrollment_of(viewer, cohort)
    if not (manager or enrollment is not None
            or (cohort.is_listed and can_read_program(viewer, cohort.program))):
        raise _no_cohort()
    return CohortAccess(cohort, manager, enrollment)


def access_managed_cohort_by_id(viewer: Person, cohort_id: int) -> Cohort:
    """A cohort ``viewer`` manages; 404 if they may not see it at all, 403 if only see it."""
    access = access_cohort_by_id(viewer, cohort_id)
    if not access.is_manager:
        raise AccessDenied(_("Only the cohort's instructors and the administrators of "
                             "%(organization)s manage it.")
                           % {"organization": access.cohort.organization.name})
    return access.cohort


def seats_taken(cohort: Cohort) -> int:
    return Enrollment.objects.filter(cohort=cohort, status__in=SEATED).count()


def access_enrollments_by_cohort_id(viewer: Person, cohort_id: int,
                                    status: str | None = None) -> tuple[Cohort, list[Enrollment]]:
    cohort = access_managed_cohort_by_id(viewer, cohort_id)
    enrollments = Enrollment.objects.filter(cohort=cohort).select_related("person")
    if status:
        enrollments = enrollments.filter(status=status)
    return cohort, list(enrollments.order_by("status", "email"))


def access_enrollment_by_id(viewer: Person, cohort: Cohort, enrollment_id: int) -> Enrollment:
    """An enrollment of ``cohort``, which ``viewer`` must manage."""
    if not is_cohort_manager(viewer, cohort):
        raise AccessDenied(_("Only the cohort's instructors and the administrators of "
                             "%(organization)s manage it.")
                           % {"organization": cohort.organization.name})
    enrollment = (Enrollment.objects.select_related("person", "cohort")
                  .filter(cohort=cohort, pk=enrollment_id).first())
    if enrollment is None:
        raise NotFound(_("This cohort has no enrollment with this number."))
    return enrollment


def _lesson_columns(program_id: int, by: str) -> list[Column]:
    lessons = list(Lesson.objects.filter(program_id=program_id)
                   .select_related("module__course")
                   .only("id", "ordinal", "title_ko", "title_en", "module__title_ko",
                         "module__title_en", "module__position", "module__course__position",
                         "module__course__title_ko", "module__course__title_en")
                   .order_by("ordinal"))
    if by == "lesson":
        return [Column(lesson.pk, lesson.title, (lesson.pk,), lesson.module.title)
                for lesson in lessons]
    columns: dict[int, tuple[Module, list[int]]] = {}
    for lesson in lessons:
        columns.setdefault(lesson.module_id, (lesson.module, []))[1].append(lesson.pk)
    return [Column(module.pk, module.title, tuple(ids), module.course.title)
            for module, ids in columns.values()]


def completed_lessons(person_ids: list[int], lesson_filter: Q) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    rows = (LessonProgress.objects.filter(person_id__in=person_ids, completed__isnull=False)
            .filter(lesson_filter).values_list("person_id", "lesson_id"))
    for person_id, lesson_id in rows:
        found[person_id].add(lesson_id)
    return found


def access_cohort_progress_by_id(viewer: Person, cohort_id: int,
                                 by: str = "module") -> tuple[Cohort, Table]:
    """The cohort's learners × its program's modules (``by="module"``) or lessons."""
    cohort = access_managed_cohort_by_id(viewer, cohort_id)
    return cohort, cohort_progress_table(cohort, by)


def cohort_progress_table(cohort: Cohort, by: str = "module") -> Table:
    enrollments = list(Enrollment.objects.filter(cohort=cohort, status__in=SEATED)
                       .select_related("person").order_by("person__display_name", "email"))
    columns = _lesson_columns(cohort.program_id, by)
    person_ids = [e.person_id for e in enrollments if e.person_id is not None]
    completed = completed_lessons(person_ids, Q(lesson__program_id=cohort.program_id))
    return build_table(columns, [(e.person_id or 0, e) for e in enrollments], completed)


# --------------------------------------------------------------------------- dashboards


@dataclass(frozen=True, slots=True)
class ProgramProgress:
    program: Program
    cohort: Cohort | None
    lesson_count: int
    completed_count: int
    next_lesson: LessonRef | None

    @property
    def percent(self) -> int:
        return percent(self.completed_count, self.lesson_count)


def my_enrollments(viewer: Person) -> list[Enrollment]:
    """``viewer``'s seats and pending invitations, with their cohorts: one query that both
    the learner's programs and invitations use."""
    return list(Enrollment.objects.filter(_own_enrollment_q(viewer),
                                          status__in=[*SEATED, EnrollmentStatus.INVITED])
                .select_related("cohort__program", "cohort__organization")
                .only("id", "cohort_id", "person_id", "status", "cohort__name",
                      "cohort__starts_on", "cohort__program_id", "cohort__program__slug",
                      "cohort__program__title_ko", "cohort__program__title_en",
                      "cohort__organization__slug", "cohort__organization__name_ko",
                      "cohort__organization__name_en")
                .order_by("status", "-cohort__starts_on", "pk"))


def learner_programs(viewer: Person, enrollments: list[Enrollment] | None = None,
                     classes: list[SchoolClass] | None = None) -> list[ProgramProgress]:
    """The programs ``viewer`` learns (a seat in a cohort, a class using a course, or any
    progress of their own), with progress and the next lesson.

    Two queries, given ``enrollments`` (from :func:`my_enrollments`) and ``classes``
    (from :func:`student_classes`), as the dashboard does; one more for each not given,
    and one for the programs whose lessons are not in memory.
    """
    if enrollments is None:
        enrollments = my_enrollments(viewer)
    if classes is None:
        classes = student_classes(viewer)
    class_programs = {course.program_id for school_class in classes
                      for course in school_class.courses.all()}
    cohort_of: dict[int, Cohort] = {}
    for enrollment in enrollments:
        if enrollment.status in SEATED and enrollment.person_id == viewer.pk:
            cohort_of.setdefault(enrollment.cohort.program_id, enrollment.cohort)
    progress = list(LessonProgress.objects.filter(person=viewer)
                    .values_list("lesson_id", "lesson__program_id", "completed"))
    program_ids = (set(cohort_of) | class_programs
                   | {program_id for _l, program_id, _c in progress})
    if not program_ids:
        return []
    programs = list(Program.objects.filter(pk__in=program_ids)
                    .only("id", "slug", "title_ko", "title_en", "revision").order_by("slug"))
    completed = {lesson_id for lesson_id, _p, done in progress if done is not None}
    ordered = programs_lessons(programs)
    result = []
    for program in programs:
        lessons = ordered[program.pk]
        index = next_lesson_index([lesson.pk for lesson in lessons], completed)
        result.append(ProgramProgress(
            program=program, cohort=cohort_of.get(program.pk), lesson_count=len(lessons),
            completed_count=sum(1 for lesson in lessons if lesson.pk in completed),
            next_lesson=lessons[index] if index is not None else None))
    # Programs with a next lesson first, the most advanced first among them.
    result.sort(key=lambda p: (p.next_lesson is None, -p.percent, p.program.slug))
    return result


def pending_invitations(viewer: Person,
                        enrollments: list[Enrollment] | None = None) -> list[Enrollment]:
    if enrollments is None:
        enrollments = my_enrollments(viewer)
    invited = [e for e in enrollments if e.status == EnrollmentStatus.INVITED]
    return sorted(invited, key=lambda e: (e.cohort.starts_on, e.pk))


@dataclass(frozen=True, slots=True)
class CohortSummary:
    cohort: Cohort
    learners: int
    requests: int
    invitations: int
    lesson_count: int
    completed: int

    @property
    def average_percent(self) -> int:
        return percent(self.completed, self.learners * self.lesson_count)


def cohort_summaries(cohorts: list[Cohort]) -> list[CohortSummary]:
    """Learners, pending requests and average progress of each cohort: three queries."""
    if not cohorts:
        return []
    counts: dict[tuple[int, str], int] = {
        (row["cohort_id"], row["status"]): row["count"]
        for row in Enrollment.objects.filter(cohort__in=cohorts)
        .values("cohort_id", "status").annotate(count=Count("id"))}
    lessons = dict(Lesson.objects.filter(program__in={c.program_id for c in cohorts})
                   .values("program_id").annotate(count=Count("id"))
                   .values_list("program_id", "count"))
    done = _completed_per_cohort(cohorts)
    return [CohortSummary(
        cohort=cohort,
        learners=counts.get((cohort.pk, EnrollmentStatus.ACTIVE), 0)
        + counts.get((cohort.pk, EnrollmentStatus.COMPLETED), 0),
        requests=counts.get((cohort.pk, EnrollmentStatus.REQUESTED), 0),
        invitations=counts.get((cohort.pk, EnrollmentStatus.INVITED), 0),
        lesson_count=lessons.get(cohort.program_id, 0),
        completed=done.get(cohort.pk, 0)) for cohort in cohorts]


def _completed_per_cohort(cohorts: list[Cohort]) -> dict[int, int]:
    """Lessons of its program completed by each cohort's seated learners, summed."""
    program_of = {cohort.pk: cohort.program_id for cohort in cohorts}
    rows = (LessonProgress.objects
            .filter(completed__isnull=False,
                    person__enrollments__cohort__in=cohorts,
                    person__enrollments__status__in=SEATED,
                    lesson__program_id__in=set(program_of.values()))
            .values_list("person__enrollments__cohort_id", "lesson__program_id"))
    done: dict[int, int] = defaultdict(int)
    for cohort_id, program_id in rows:
        if program_of.get(cohort_id) == program_id:
            done[cohort_id] += 1
    return done


def taught_cohorts(viewer: Person) -> list[Cohort]:
    return list(Cohort.objects.filter(instructors=viewer).select_related("program")
                .order_by("-starts_on", "name")[:COHORTS_ON_DASHBOARD_MAX])


def organization_cohorts(viewer: Person) -> list[Cohort]:
    """Cohorts run by the organizations ``viewer`` administers."""
    return list(Cohort.objects.filter(Exists(Membership.objects.filter(
        organization=OuterRef("organization_id"), person=viewer, role=Role.ADMIN)))
        .select_related("program", "organization")
        .order_by("-starts_on", "name")[:COHORTS_ON_DASHBOARD_MAX])


# --------------------------------------------------------------------------- classes


def schools_for_classes(viewer: Person) -> QuerySet[Organization]:
    """Organizations in which ``viewer`` may open a class (administrator or instructor)."""
    return organizations_for_cohorts(viewer)


def courses_for_classes(viewer: Person) -> QuerySet[Course]:
    """Courses a teacher may use in a class: those of the programs they may read."""
    return (Course.objects.filter(_program_readers_q(viewer, "program__"))
            .select_related("program").order_by("program__slug", "position"))


def _class_managers_q(viewer: Person) -> Q:
    return Q(teacher=viewer) | Q(Exists(Membership.objects.filter(
        organization=OuterRef("school_id"), person=viewer, role=Role.ADMIN)))


@dataclass(frozen=True, slots=True)
class ClassAccess:
    school_class: SchoolClass
    is_manager: bool


def access_class_by_id(viewer: Person, class_id: int) -> ClassAccess:
    school_class = (SchoolClass.objects.select_related("school", "teacher")
                    .filter(pk=class_id).first())
    if school_class is None:
        raise NotFound(_("There is no class with this number, or you are not in it."))
    manager = viewer.is_operator or SchoolClass.objects.filter(pk=class_id).filter(
        _class_managers_q(viewer)).exists()
    if not (manager or school_class.students.filter(pk=viewer.pk).exists()):
        raise NotFound(_("There is no class with this number, or you are not in it."))
    return ClassAccess(school_class, manager)


def access_managed_class_by_id(viewer: Person, class_id: int) -> SchoolClass:
    access = access_class_by_id(viewer, class_id)
    if not access.is_manager:
        raise AccessDenied(_("Only the class's teacher and the administrators of %(school)s "
                             "manage it.") % {"school": access.school_class.school.name})
    return access.school_class


def class_courses(school_class: SchoolClass) -> list[Course]:
    return list(school_class.courses.select_related("program").order_by("program__slug",
                                                                          "position"))


def class_progress_table(school_class: SchoolClass, courses: list[Course]) -> Table:
    """Students × the class's courses, in percent: three queries."""
    students = list(school_class.students.order_by("display_name", "email"))
    lessons: dict[int, list[int]] = defaultdict(list)
    for lesson_id, course_id in (Lesson.objects.filter(module__course__in=courses)
                                 .order_by("ordinal")
                                 .values_list("id", "module__course_id")):
        lessons[course_id].append(lesson_id)
    columns = [Column(course.pk, course.title, tuple(lessons[course.pk]), course.program.title)
               for course in courses]
    completed = completed_lessons([s.pk for s in students],
                                  Q(lesson__module__course__in=courses))
    return build_table(columns, [(s.pk, s) for s in students], completed)


def access_class_progress_by_id(viewer: Person, class_id: int) -> tuple[SchoolClass, Table]:
    school_class = access_managed_class_by_id(viewer, class_id)
    return school_class, class_progress_table(school_class, class_courses(school_class))


@dataclass(frozen=True, slots=True)
class CourseProgress:
    course: Course
    lesson_count: int
    completed_count: int
    next_lesson: Lesson | None

    @property
    def percent(self) -> int:
        return percent(self.completed_count, self.lesson_count)


def course_progress(viewer: Person, courses: list[Course]) -> list[CourseProgress]:
    """``viewer``'s progress in each course, with the next lesson: two queries."""
    if not courses:
        return []
    ordered: dict[int, list[Lesson]] = defaultdict(list)
    for lesson in (Lesson.objects.filter(module__course__in=courses)
                   .select_related("module").only("id", "program_id", "slug", "ordinal",
                                                  "title_ko", "title_en", "module__course_id")
                   .order_by("ordinal")):
        ordered[lesson.module.course_id].append(lesson)
    done = set(LessonProgress.objects.filter(
        person=viewer, completed__isnull=False, lesson__module__course__in=courses)
        .values_list("lesson_id", flat=True))
    result = []
    for course in courses:
        lessons = ordered[course.pk]
        index = next_lesson_index([lesson.pk for lesson in lessons], done)
        result.append(CourseProgress(course, len(lessons),
                                     sum(1 for lesson in lessons if lesson.pk in done),
                                     lessons[index] if index is not None else None))
    return result


def student_classes(viewer: Person) -> list[SchoolClass]:
    """The classes ``viewer`` is a student of, with school, teacher and courses.

    Most people are in no class: for them this is one small query; the details of the
    classes (two more) are read only when there are some.
    """
    ids = list(SchoolClass.objects.filter(students=viewer).order_by("name")
               .values_list("id", flat=True)[:CLASSES_ON_DASHBOARD_MAX])
    if not ids:
        return []
    return list(SchoolClass.objects.filter(pk__in=ids).select_related("school", "teacher")
                .prefetch_related(Prefetch("courses", Course.objects.select_related("program")
                                           .order_by("program__slug", "position")))
                .order_by("name"))


def taught_classes(viewer: Person) -> list[SchoolClass]:
    """Classes ``viewer`` teaches or whose school they administer, with student counts."""
    return list(SchoolClass.objects.filter(_class_managers_q(viewer))
                .select_related("school", "teacher")
                .annotate(student_count=Count("students", distinct=True))
                .prefetch_related(Prefetch("courses", Course.objects.select_related("program")
                                           .order_by("program__slug", "position")))
                .order_by("name")[:CLASSES_ON_DASHBOARD_MAX])
