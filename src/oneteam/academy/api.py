"""The academy API, mounted at /api/academy/: everything the academy's pages do.

Programs and lessons (in either language), progress, cohorts and enrollment (join,
request, accept, withdraw; invite, approve, reject, complete), a cohort's progress for
its managers, classes, and lesson editing with image upload. Errors are JSON
``{"message", "field"}`` like the rest of the API; a reference in the body to something
that does not exist or is not visible (a program, an organization, a course) is a 422
naming that field, a path that does is a 404.
"""

from __future__ import annotations

import datetime
from typing import Literal

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from oneteam.academy import actions, queries
from oneteam.academy.images import IMAGE_BYTES_MAX, SUFFIXES
from oneteam.academy.lesson_html import lesson_html
from oneteam.academy.models import (
    Cohort,
    Course,
    Enrollment,
    EnrollmentStatus,
    Lesson,
    LessonImage,
    LessonProgress,
    Program,
    SchoolClass,
)
from oneteam.academy.progress import Table
from oneteam.accounts.auth import api_auth
from oneteam.accounts.models import Person
from oneteam.consortium.queries import access_organization_by_slug
from oneteam.platform.errors import InputError, NotFound
from oneteam.platform.http import api_person as _person
from oneteam.platform.http import origin_of

router = Router(tags=["academy"], auth=api_auth)

Language = Literal["ko", "en"]


# --------------------------------------------------------------------------- schemas


class ProgramOut(Schema):
    slug: str
    track: str
    title_ko: str
    title_en: str
    summary_ko: str
    summary_en: str
    hours: int
    owner: str
    visibility: str


class LessonRefOut(Schema):
    id: int
    slug: str
    title_ko: str
    title_en: str
    minutes: int
    started: bool
    completed: bool


class ModuleOut(Schema):
    slug: str
    title_ko: str
    title_en: str
    lessons: list[LessonRefOut]


class SkillLevelOut(Schema):
    code: str
    level: int


class CourseOut(Schema):
    slug: str
    title_ko: str
    title_en: str
    summary_ko: str
    summary_en: str
    skills: list[SkillLevelOut]
    modules: list[ModuleOut]


class ProgramTreeOut(ProgramOut):
    lesson_count: int
    completed_count: int
    next_lesson: str | None
    courses: list[CourseOut]


class HeadingOut(Schema):
    level: int
    id: str
    text: str


class ProgressOut(Schema):
    program: str
    lesson: str
    started: datetime.datetime
    completed: datetime.datetime | None
    cohort: int | None


class LessonOut(Schema):
    id: int
    program: str
    course: str
    module: str
    slug: str
    language: str
    title: str
    title_ko: str
    title_en: str
    minutes: int
    html: str
    markdown: str
    headings: list[HeadingOut]
    previous: str | None
    next: str | None
    progress: ProgressOut | None


class ProgressIn(Schema):
    completed: bool


class LessonIn(Schema):
    title_ko: str | None = None
    title_en: str | None = None
    body_ko: str | None = None
    body_en: str | None = None
    minutes: int | None = None


class ImageOut(Schema):
    name: str
    url: str
    digest: str
    content_type: str
    size_bytes: int
    width: int
    height: int


class CohortOut(Schema):
    id: int
    name: str
    program: str
    organization: str
    starts_on: datetime.date
    ends_on: datetime.date
    enrollment_mode: str
    capacity: int | None
    instructors: list[str]
    partners: list[str]
    my_status: str | None
    is_manager: bool


class CohortIn(Schema):
    program: str
    organization: str
    name: str
    starts_on: datetime.date
    ends_on: datetime.date
    enrollment_mode: str = "open"
    capacity: int | None = None
    instructors: list[str] = Field(default_factory=list)
    partners: list[str] = Field(default_factory=list)


class EnrollmentOut(Schema):
    id: int
    cohort: int
    email: str
    display_name: str | None
    status: str
    created: datetime.datetime
    changed: datetime.datetime
    joined: datetime.datetime | None
    completed: datetime.datetime | None


class EmailsIn(Schema):
    emails: list[str]


class InvitedOut(Schema):
    email: str
    outcome: str
    enrollment: EnrollmentOut


class ColumnOut(Schema):
    id: int
    title: str
    group: str
    lessons: list[int]


class ProgressRowOut(Schema):
    email: str
    display_name: str | None
    status: str | None
    cells: list[int]
    completed: int
    percent: int


class ProgressTableOut(Schema):
    by: str
    lesson_count: int
    average_percent: int
    columns: list[ColumnOut]
    rows: list[ProgressRowOut]


class CohortProgressOut(ProgressTableOut):
    cohort: int


class NextLessonOut(Schema):
    slug: str
    title: str


class ProgramProgressOut(Schema):
    program: str
    title: str
    cohort: int | None
    lesson_count: int
    completed_count: int
    percent: int
    next_lesson: NextLessonOut | None


class InvitationOut(Schema):
    cohort: int
    cohort_name: str
    program: str
    organization: str
    starts_on: datetime.date


class CourseRefOut(Schema):
    program: str
    course: str
    title: str


class ClassOut(Schema):
    id: int
    name: str
    school: str
    teacher: str
    courses: list[CourseRefOut]
    join_code: str | None
    is_teacher: bool


class ClassIn(Schema):
    school: str
    name: str
    courses: list[str]
    """Each course as "program/course", e.g. "ai-developer/python-data"."""


class CourseProgressOut(Schema):
    program: str
    course: str
    lesson_count: int
    completed_count: int
    percent: int
    next_lesson: NextLessonOut | None


class ClassDetailOut(ClassOut):
    progress: ProgressTableOut | None
    my_courses: list[CourseProgressOut] | None


class JoinClassIn(Schema):
    code: str


class Done(Schema):
    message: str


# --------------------------------------------------------------------------- helpers




def _language(requested: str | None) -> str:
    if requested:
        return requested
    return "en" if (get_language() or "ko").startswith("en") else "ko"


def _program_out(program: Program) -> ProgramOut:
    return ProgramOut(slug=program.slug, track=program.track, title_ko=program.title_ko,
                      title_en=program.title_en, summary_ko=program.summary_ko,
                      summary_en=program.summary_en, hours=program.hours,
                      owner=program.owner.slug, visibility=program.visibility)


def _progress_out(progress: LessonProgress | None, lesson: Lesson) -> ProgressOut | None:
    if progress is None:
        return None
    return ProgressOut(program=lesson.program.slug, lesson=lesson.slug,
                       started=progress.started, completed=progress.completed,
                       cohort=progress.cohort_id)


def _enrollment_out(enrollment: Enrollment) -> EnrollmentOut:
    return EnrollmentOut(id=enrollment.pk, cohort=enrollment.cohort_id, email=enrollment.email,
                         display_name=enrollment.person.display_name if enrollment.person
                         else None, status=enrollment.status, created=enrollment.created,
                         changed=enrollment.changed, joined=enrollment.joined,
                         completed=enrollment.completed)


def _cohort_out(access: queries.CohortAccess) -> CohortOut:
    cohort = access.cohort
    return CohortOut(
        id=cohort.pk, name=cohort.name, program=cohort.program.slug,
        organization=cohort.organization.slug, starts_on=cohort.starts_on,
        ends_on=cohort.ends_on, enrollment_mode=cohort.enrollment_mode,
        capacity=cohort.capacity,
        instructors=[p.display_name for p in cohort.instructors.order_by("display_name")],
        partners=[o.slug for o in cohort.partners.order_by("slug")],
        my_status=access.status, is_manager=access.is_manager)


def _table_out(table: Table, by: str) -> ProgressTableOut:
    rows = []
    for row in table.rows:
        subject = row.subject
        if isinstance(subject, Enrollment):
            email, status = subject.email, subject.status
            name = subject.person.display_name if subject.person else None
        else:
            email, status, name = subject.email, None, subject.display_name
        rows.append(ProgressRowOut(email=email, display_name=name, status=status,
                                   cells=list(row.cells), completed=row.done,
                                   percent=row.percent))
    return ProgressTableOut(
        by=by, lesson_count=table.lesson_count, average_percent=table.average_percent,
        columns=[ColumnOut(id=c.key, title=c.title, group=c.group, lessons=list(c.lesson_ids))
                 for c in table.columns], rows=rows)


def _next(lesson: Lesson | queries.LessonRef | None) -> NextLessonOut | None:
    return NextLessonOut(slug=lesson.slug, title=lesson.title) if lesson else None


def _field_reference(field: str, error: NotFound) -> InputError:
    return InputError(field, error.message)


# --------------------------------------------------------------------------- programs


@router.get("/programs", response=list[ProgramOut], summary="The catalogue: programs I may read")
def list_programs(request: HttpRequest) -> list[ProgramOut]:
    return [_program_out(p) for p in queries.access_programs(_person(request))]


@router.get("/programs/{slug}", response=ProgramTreeOut,
            summary="A program's courses, modules and lessons, with my progress")
def get_program(request: HttpRequest, slug: str) -> ProgramTreeOut:
    viewer = _person(request)
    program = queries.access_program_by_slug(viewer, slug)
    states = queries.lesson_states(viewer, program=program)
    courses = queries.program_outline(program)
    lessons = [lesson for course in courses
               for lesson in course.outline_lessons]  # type: ignore[attr-defined]
    next_lesson = next((lesson.slug for lesson in lessons
                        if lesson.pk not in states.completed), None)
    return ProgramTreeOut(
        **_program_out(program).model_dump(), lesson_count=len(lessons),
        completed_count=len(states.completed), next_lesson=next_lesson,
        courses=[CourseOut(
            slug=course.slug, title_ko=course.title_ko, title_en=course.title_en,
            summary_ko=course.summary_ko, summary_en=course.summary_en,
            skills=[SkillLevelOut(code=skill["code"], level=skill["level"])
                    for skill in course.skills],
            modules=[ModuleOut(
                slug=module.slug, title_ko=module.title_ko, title_en=module.title_en,
                lessons=[LessonRefOut(
                    id=lesson.pk, slug=lesson.slug, title_ko=lesson.title_ko,
                    title_en=lesson.title_en, minutes=lesson.minutes,
                    started=lesson.pk in states.started or lesson.pk in states.completed,
                    completed=lesson.pk in states.completed)
                    for lesson in module.outline_lessons])
                for module in course.outline_modules])  # type: ignore[attr-defined]
            for course in courses])


def _lesson_out(viewer: Person, lesson: Lesson, language: str,
                progress: LessonProgress | None) -> LessonOut:
    rendered = lesson_html(lesson, language)
    previous, following = queries.lesson_neighbours(lesson)
    return LessonOut(
        id=lesson.pk, program=lesson.program.slug, course=lesson.module.course.slug,
        module=lesson.module.slug, slug=lesson.slug, language=language,
        title=lesson.title_en if language == "en" else lesson.title_ko,
        title_ko=lesson.title_ko, title_en=lesson.title_en, minutes=lesson.minutes,
        html=rendered.html, markdown=lesson.body(language),
        headings=[HeadingOut(level=h[0], id=h[1], text=h[2]) for h in rendered.headings],
        previous=previous.slug if previous else None,
        next=following.slug if following else None,
        progress=_progress_out(progress, lesson))


@router.get("/programs/{slug}/lessons/{lesson}", response=LessonOut,
            summary="A lesson's content in a language (HTML, safe; and its Markdown)")
def get_lesson(request: HttpRequest, slug: str, lesson: str,
               language: Language | None = None) -> LessonOut:
    viewer = _person(request)
    found = queries.access_lesson_by_slug(viewer, slug, lesson)
    return _lesson_out(viewer, found, _language(language), queries.progress_on(viewer, found))


@router.post("/programs/{slug}/lessons/{lesson}/progress", response=ProgressOut,
             summary="Mark a lesson complete (completed: true) or not (false)")
def set_progress(request: HttpRequest, slug: str, lesson: str,
                 payload: ProgressIn) -> ProgressOut | None:
    viewer = _person(request)
    found = queries.access_lesson_by_slug(viewer, slug, lesson)
    if payload.completed:
        progress = actions.do_complete_lesson(person=viewer, lesson=found)
    else:
        progress = (actions.do_uncomplete_lesson(person=viewer, lesson=found)
                    or actions.do_start_lesson(person=viewer, lesson=found))
    return _progress_out(progress, found)


@router.patch("/lessons/{int:lesson_id}", response=LessonOut,
              summary="Change a lesson (the program owner's administrators and instructors)")
def update_lesson(request: HttpRequest, lesson_id: int, payload: LessonIn) -> LessonOut:
    viewer = _person(request)
    lesson = queries.access_editable_lesson_by_id(viewer, lesson_id)
    actions.do_update_lesson(actor=viewer, lesson=lesson, **payload.model_dump())
    lesson = queries.access_lesson_by_id(viewer, lesson_id)
    return _lesson_out(viewer, lesson, _language(None), queries.progress_on(viewer, lesson))


@router.post("/lessons/{int:lesson_id}/images", response={201: ImageOut},
             summary="Upload an image a lesson refers to by name (PNG, JPEG, GIF or WebP; "
                     "at most 2 MB)")
def upload_image(request: HttpRequest, lesson_id: int, name: Form[str],
                 file: File[UploadedFile]) -> Status[ImageOut]:
    viewer = _person(request)
    lesson = queries.access_editable_lesson_by_id(viewer, lesson_id)
    if file.size is not None and file.size > IMAGE_BYTES_MAX:
        raise InputError("file", _("The image is larger than %(megabytes)d MB.")
                         % {"megabytes": IMAGE_BYTES_MAX // (1024 * 1024)})
    data = file.read(IMAGE_BYTES_MAX + 1)
    image: LessonImage = actions.do_add_lesson_image(actor=viewer, lesson=lesson, name=name,
                                                     data=data)
    url = reverse("academy:image", args=[image.digest + SUFFIXES[image.content_type]])
    return Status(201, ImageOut(name=image.name, url=url, digest=image.digest,
                                content_type=image.content_type, size_bytes=image.size_bytes,
                                width=image.width, height=image.height))


# --------------------------------------------------------------------------- me


@router.get("/me/programs", response=list[ProgramProgressOut],
            summary="The programs I learn, my progress and my next lesson")
def my_programs(request: HttpRequest) -> list[ProgramProgressOut]:
    return [ProgramProgressOut(
        program=item.program.slug, title=item.program.title,
        cohort=item.cohort.pk if item.cohort else None, lesson_count=item.lesson_count,
        completed_count=item.completed_count, percent=item.percent,
        next_lesson=_next(item.next_lesson))
        for item in queries.learner_programs(_person(request))]


@router.get("/me/invitations", response=list[InvitationOut],
            summary="Invitations to cohorts waiting for my answer")
def my_invitations(request: HttpRequest) -> list[InvitationOut]:
    return [InvitationOut(cohort=e.cohort_id, cohort_name=e.cohort.name,
                          program=e.cohort.program.slug,
                          organization=e.cohort.organization.slug,
                          starts_on=e.cohort.starts_on)
            for e in queries.pending_invitations(_person(request))]


# --------------------------------------------------------------------------- cohorts


@router.get("/cohorts", response=list[CohortOut], summary="Cohorts I may see")
def list_cohorts(request: HttpRequest, program: str | None = None) -> list[CohortOut]:
    viewer = _person(request)
    found = queries.access_program_by_slug(viewer, program) if program else None
    cohorts = list(queries.access_cohorts(viewer, program=found)
                   .prefetch_related("instructors", "partners").order_by("-starts_on", "pk"))
    mine = {e.cohort_id: e for e in Enrollment.objects.filter(cohort__in=cohorts,
                                                               email=viewer.email)}
    managed = queries.managed_cohort_ids(viewer, cohorts)
    return [CohortOut(
        id=c.pk, name=c.name, program=c.program.slug, organization=c.organization.slug,
        starts_on=c.starts_on, ends_on=c.ends_on, enrollment_mode=c.enrollment_mode,
        capacity=c.capacity,
        instructors=sorted(p.display_name for p in c.instructors.all()),
        partners=sorted(o.slug for o in c.partners.all()),
        my_status=mine[c.pk].status if c.pk in mine else None, is_manager=c.pk in managed)
        for c in cohorts]


@router.post("/cohorts", response={201: CohortOut}, summary="Create a cohort of a program")
def create_cohort(request: HttpRequest, payload: CohortIn) -> Status[CohortOut]:
    viewer = _person(request)
    try:
        program = queries.access_program_by_slug(viewer, payload.program)
    except NotFound as error:
        raise _field_reference("program", error) from None
    try:
        organization = access_organization_by_slug(viewer, payload.organization)
    except NotFound as error:
        raise _field_reference("organization", error) from None
    cohort = actions.do_create_cohort(
        actor=viewer, program=program, organization=organization, name=payload.name,
        starts_on=payload.starts_on, ends_on=payload.ends_on,
        enrollment_mode=payload.enrollment_mode, capacity=payload.capacity,
        instructor_emails=payload.instructors, partner_slugs=payload.partners)
    return Status(201, _cohort_out(queries.access_cohort_by_id(viewer, cohort.pk)))


@router.get("/cohorts/{int:cohort_id}", response=CohortOut, summary="A cohort")
def get_cohort(request: HttpRequest, cohort_id: int) -> CohortOut:
    return _cohort_out(queries.access_cohort_by_id(_person(request), cohort_id))


def _enroll(request: HttpRequest, cohort_id: int, verb: str) -> EnrollmentOut:
    viewer = _person(request)
    cohort: Cohort = queries.access_cohort_by_id(viewer, cohort_id).cohort
    action = {"join": actions.do_join_cohort, "request": actions.do_request_enrollment,
              "accept": actions.do_accept_invitation,
              "withdraw": actions.do_withdraw_enrollment}[verb]
    return _enrollment_out(action(person=viewer, cohort=cohort))


@router.post("/cohorts/{int:cohort_id}/join", response=EnrollmentOut,
             summary="Join an open cohort (or one I am invited to)")
def join_cohort(request: HttpRequest, cohort_id: int) -> EnrollmentOut:
    return _enroll(request, cohort_id, "join")


@router.post("/cohorts/{int:cohort_id}/request", response=EnrollmentOut,
             summary="Ask to join a cohort by approval")
def request_enrollment(request: HttpRequest, cohort_id: int) -> EnrollmentOut:
    return _enroll(request, cohort_id, "request")


@router.post("/cohorts/{int:cohort_id}/accept", response=EnrollmentOut,
             summary="Accept my invitation to a cohort")
def accept_invitation(request: HttpRequest, cohort_id: int) -> EnrollmentOut:
    return _enroll(request, cohort_id, "accept")


@router.post("/cohorts/{int:cohort_id}/withdraw", response=EnrollmentOut,
             summary="Leave a cohort, withdraw a request or decline an invitation")
def withdraw_enrollment(request: HttpRequest, cohort_id: int) -> EnrollmentOut:
    return _enroll(request, cohort_id, "withdraw")


@router.get("/cohorts/{int:cohort_id}/enrollments", response=list[EnrollmentOut],
            summary="A cohort's enrollments (its managers)")
def list_enrollments(request: HttpRequest, cohort_id: int,
                     status: EnrollmentStatus | None = None) -> list[EnrollmentOut]:
    _cohort, enrollments = queries.access_enrollments_by_cohort_id(
        _person(request), cohort_id, status.value if status else None)
    return [_enrollment_out(e) for e in enrollments]


@router.post("/cohorts/{int:cohort_id}/invitations", response=list[InvitedOut],
             summary="Invite learners by e-mail address (its managers)")
def invite_learners(request: HttpRequest, cohort_id: int,
                    payload: EmailsIn) -> list[InvitedOut]:
    viewer = _person(request)
    cohort = queries.access_managed_cohort_by_id(viewer, cohort_id)
    results = actions.do_invite_learners(actor=viewer, cohort=cohort, emails=payload.emails,
                                         origin=origin_of(request))
    return [InvitedOut(email=r.email, outcome=r.outcome, enrollment=_enrollment_out(r.enrollment))
            for r in results]


def _decide(request: HttpRequest, cohort_id: int, enrollment_id: int,
            verb: str) -> EnrollmentOut:
    viewer = _person(request)
    cohort = queries.access_managed_cohort_by_id(viewer, cohort_id)
    enrollment = queries.access_enrollment_by_id(viewer, cohort, enrollment_id)
    action = {"approve": actions.do_approve_enrollment, "reject": actions.do_reject_enrollment,
              "complete": actions.do_complete_enrollment}[verb]
    return _enrollment_out(action(actor=viewer, enrollment=enrollment))


@router.post("/cohorts/{int:cohort_id}/enrollments/{int:enrollment_id}/approve",
             response=EnrollmentOut, summary="Admit someone who asked to join")
def approve_enrollment(request: HttpRequest, cohort_id: int,
                       enrollment_id: int) -> EnrollmentOut:
    return _decide(request, cohort_id, enrollment_id, "approve")


@router.post("/cohorts/{int:cohort_id}/enrollments/{int:enrollment_id}/reject",
             response=EnrollmentOut, summary="Turn down a request to join")
def reject_enrollment(request: HttpRequest, cohort_id: int,
                      enrollment_id: int) -> EnrollmentOut:
    return _decide(request, cohort_id, enrollment_id, "reject")


@router.post("/cohorts/{int:cohort_id}/enrollments/{int:enrollment_id}/complete",
             response=EnrollmentOut, summary="Record that a learner completed the cohort")
def complete_enrollment(request: HttpRequest, cohort_id: int,
                        enrollment_id: int) -> EnrollmentOut:
    return _decide(request, cohort_id, enrollment_id, "complete")


@router.get("/cohorts/{int:cohort_id}/progress", response=CohortProgressOut,
            summary="Learners × modules (or lessons) of a cohort, in percent (its managers)")
def cohort_progress(request: HttpRequest, cohort_id: int,
                    by: Literal["module", "lesson"] = "module") -> CohortProgressOut:
    cohort, table = queries.access_cohort_progress_by_id(_person(request), cohort_id, by)
    return CohortProgressOut(cohort=cohort.pk, **_table_out(table, by).model_dump())


# --------------------------------------------------------------------------- classes


def _class_out(school_class: SchoolClass, courses: list[Course], is_teacher: bool) -> ClassOut:
    return ClassOut(
        id=school_class.pk, name=school_class.name, school=school_class.school.slug,
        teacher=school_class.teacher.display_name,
        courses=[CourseRefOut(program=c.program.slug, course=c.slug, title=c.title)
                 for c in courses],
        join_code=school_class.join_code if is_teacher else None, is_teacher=is_teacher)


@router.get("/classes", response=list[ClassOut], summary="Classes I teach or am in")
def list_classes(request: HttpRequest) -> list[ClassOut]:
    viewer = _person(request)
    taught = queries.taught_classes(viewer)
    studied = [c for c in queries.student_classes(viewer) if c.pk not in {t.pk for t in taught}]
    # Both lists come with their courses (prefetched): no query per class.
    return ([_class_out(c, list(c.courses.all()), True) for c in taught]
            + [_class_out(c, list(c.courses.all()), False) for c in studied])


def _courses_from_refs(viewer: Person, refs: list[str]) -> list[Course]:
    courses = []
    for ref in refs:
        program_slug, _slash, course_slug = ref.partition("/")
        try:
            courses.append(queries.access_course_by_slug(viewer, program_slug, course_slug))
        except NotFound as error:
            raise _field_reference("courses", error) from None
    return courses


@router.post("/classes", response={201: ClassDetailOut},
             summary="Open a class at a school, using some courses")
def create_class(request: HttpRequest, payload: ClassIn) -> Status[ClassDetailOut]:
    viewer = _person(request)
    try:
        school = access_organization_by_slug(viewer, payload.school)
    except NotFound as error:
        raise _field_reference("school", error) from None
    school_class = actions.do_create_class(actor=viewer, school=school, name=payload.name,
                                           courses=_courses_from_refs(viewer, payload.courses))
    return Status(201, _class_detail(viewer, school_class.pk))


def _class_detail(viewer: Person, class_id: int) -> ClassDetailOut:
    access = queries.access_class_by_id(viewer, class_id)
    courses = queries.class_courses(access.school_class)
    base = _class_out(access.school_class, courses, access.is_manager)
    if access.is_manager:
        table = queries.class_progress_table(access.school_class, courses)
        return ClassDetailOut(**base.model_dump(), progress=_table_out(table, "course"),
                              my_courses=None)
    return ClassDetailOut(**base.model_dump(), progress=None, my_courses=[
        CourseProgressOut(program=item.course.program.slug, course=item.course.slug,
                          lesson_count=item.lesson_count, completed_count=item.completed_count,
                          percent=item.percent, next_lesson=_next(item.next_lesson))
        for item in queries.course_progress(viewer, courses)])


@router.get("/classes/{int:class_id}", response=ClassDetailOut,
            summary="A class: its students' progress for its teacher, mine for a student")
def get_class(request: HttpRequest, class_id: int) -> ClassDetailOut:
    return _class_detail(_person(request), class_id)


@router.post("/classes/join", response=ClassDetailOut, summary="Join a class with its code")
def join_class(request: HttpRequest, payload: JoinClassIn) -> ClassDetailOut:
    viewer = _person(request)
    school_class = actions.do_join_class(person=viewer, code=payload.code)
    return _class_detail(viewer, school_class.pk)


@router.post("/classes/{int:class_id}/students", response=ClassDetailOut,
             summary="Add students who have signed up, by e-mail address")
def add_students(request: HttpRequest, class_id: int, payload: EmailsIn) -> ClassDetailOut:
    viewer = _person(request)
    school_class = queries.access_managed_class_by_id(viewer, class_id)
    actions.do_add_students(actor=viewer, school_class=school_class, emails=payload.emails)
    return _class_detail(viewer, class_id)


@router.delete("/classes/{int:class_id}/students/{int:person_id}", response=Done,
               summary="Take a student out of a class")
def remove_student(request: HttpRequest, class_id: int, person_id: int) -> Done:
    viewer = _person(request)
    school_class = queries.access_managed_class_by_id(viewer, class_id)
    student = school_class.students.filter(pk=person_id).first()
    if student is None:
        raise NotFound(_("This class has no such student."))
    actions.do_remove_student(actor=viewer, school_class=school_class, student=student)
    return Done(message=_("%(name)s has left the class.") % {"name": student.display_name})
