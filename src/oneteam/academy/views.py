"""The academy's pages: catalogue, programs, courses, lessons, cohorts, classes.

Reads go through ``queries`` (which raise NotFound/AccessDenied: 404/403 pages), writes
through ``actions``. Buttons that change one thing on a page (mark a lesson complete,
join a cohort, approve a request) post with htmx and get back the fragment to swap in;
without JavaScript the same forms post normally and the page is shown again.

htmx does not swap responses with an error status, so a refused htmx action answers
200 with the fragment showing the error; the same refusal without htmx is a message on
the page it returns to.
"""

from __future__ import annotations

import csv
import mimetypes
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oneteam.academy import actions, queries
from oneteam.academy.content import ContentError, asset_path
from oneteam.academy.forms import ClassForm, CohortForm, EmailsForm, JoinClassForm
from oneteam.academy.images import blob_path
from oneteam.academy.lesson_html import lesson_html
from oneteam.academy.models import (
    SEATED,
    Enrollment,
    EnrollmentStatus,
    LessonImage,
    Visibility,
)
from oneteam.academy.progress import percent
from oneteam.academy.rendering import pygments_css
from oneteam.accounts.models import Person
from oneteam.platform.errors import AccessDenied, InputError, NotFound
from oneteam.platform.http import origin_of
from oneteam.platform.http import page_language as _language
from oneteam.platform.http import page_person as _person

# Served files cannot run anything, whatever a browser makes of them.
SANDBOX_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
IMAGE_USES_CHECKED_MAX = 20




def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"




# --------------------------------------------------------------------------- programs


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    programs = list(queries.access_programs(viewer))
    may_create = isinstance(viewer, Person) and queries.organizations_for_cohorts(
        viewer).exists()
    return render(request, "academy/catalogue.html",
                  {"programs": programs, "may_create": may_create})


@require_GET
def program_page(request: HttpRequest, program: str) -> HttpResponse:
    viewer = request.user
    found = queries.access_program_by_slug(viewer, program)
    courses = queries.program_outline(found)
    states = queries.lesson_states(viewer, program=found)
    next_lesson = None
    lesson_count = 0
    for course in courses:
        lessons = course.outline_lessons  # type: ignore[attr-defined]
        lesson_count += len(lessons)
        done = sum(1 for lesson in lessons if lesson.pk in states.completed)
        course.done_count = done  # type: ignore[attr-defined]
        course.percent = percent(done, len(lessons))  # type: ignore[attr-defined]
        if next_lesson is None:
            next_lesson = next((lesson for lesson in lessons
                                if lesson.pk not in states.completed), None)
    cohorts = queries.listed_cohorts(viewer, found)
    mine: dict[int, Enrollment] = {}
    if isinstance(viewer, Person) and cohorts:
        for enrollment in Enrollment.objects.filter(cohort__in=cohorts, email=viewer.email):
            mine[enrollment.cohort_id] = enrollment
    for cohort in cohorts:
        cohort.my_enrollment = mine.get(cohort.pk)  # type: ignore[attr-defined]
    may_create = isinstance(viewer, Person) and queries.organizations_for_cohorts(
        viewer).exists()
    return render(request, "academy/program.html", {
        "program": found, "courses": courses, "states": states, "next_lesson": next_lesson,
        "lesson_count": lesson_count, "done_count": len(states.completed),
        "percent": percent(len(states.completed), lesson_count),
        "cohorts": cohorts, "may_create": may_create,
        "started": bool(states.completed or states.started)})


@require_GET
def course_page(request: HttpRequest, program: str, course: str) -> HttpResponse:
    viewer = request.user
    found = queries.access_course_by_slug(viewer, program, course)
    modules = queries.course_outline(found)
    states = queries.lesson_states(viewer, course=found)
    lessons = [lesson for module in modules
               for lesson in module.outline_lessons]  # type: ignore[attr-defined]
    next_lesson = next((lesson for lesson in lessons if lesson.pk not in states.completed),
                       None)
    done = sum(1 for lesson in lessons if lesson.pk in states.completed)
    return render(request, "academy/course.html", {
        "program": found.program, "course": found, "modules": modules, "states": states,
        "lesson_count": len(lessons), "done_count": done,
        "percent": percent(done, len(lessons)), "next_lesson": next_lesson,
        "signed_in": isinstance(viewer, Person)})


@require_GET
def lesson_page(request: HttpRequest, program: str, lesson: str) -> HttpResponse:
    viewer = request.user
    found = queries.access_lesson_by_slug(viewer, program, lesson)
    rendered = lesson_html(found, _language())
    previous, following = queries.lesson_neighbours(found)
    progress = None
    if isinstance(viewer, Person):  # the first visit starts the lesson
        progress = queries.progress_on(viewer, found) or actions.do_start_lesson(
            person=viewer, lesson=found)
    return render(request, "academy/lesson.html", {
        "program": found.program, "course": found.module.course, "module": found.module,
        "lesson": found, "html": rendered.html,
        "headings": [h for h in rendered.headings if h[0] == 2],
        "previous": previous, "next": following, "progress": progress})


@login_required
@require_POST
def lesson_progress(request: HttpRequest, program: str, lesson: str) -> HttpResponse:
    """Mark the lesson complete (``done=1``) or not (``done=0``)."""
    person = _person(request)
    found = queries.access_lesson_by_slug(person, program, lesson)
    if request.POST.get("done", "1") == "0":
        progress = actions.do_uncomplete_lesson(person=person, lesson=found)
    else:
        progress = actions.do_complete_lesson(person=person, lesson=found)
    if _is_htmx(request):
        _previous, following = queries.lesson_neighbours(found)
        return render(request, "academy/_lesson_progress.html", {
            "program": found.program, "lesson": found, "progress": progress,
            "next": following, "just_completed": progress is not None
            and progress.completed is not None})
    return redirect("academy:lesson", program=program, lesson=lesson)


@require_GET
@cache_control(public=True, max_age=3600)
def content_asset(request: HttpRequest, path: str) -> FileResponse:
    """An image of the shipped lesson content (checked by the content loader)."""
    try:
        file = asset_path(path)
    except ContentError:
        raise Http404(_("No such image.")) from None
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    response = FileResponse(file.open("rb"), content_type=content_type)
    response["Content-Security-Policy"] = SANDBOX_POLICY
    return response


@require_GET
def uploaded_image(request: HttpRequest, name: str) -> FileResponse:
    """An uploaded lesson image by its SHA-256 (and suffix), for those who may read it."""
    digest = name.split(".", 1)[0]
    # The same bytes may serve several lessons: any one the viewer may read will do.
    image = next((candidate for candidate in LessonImage.objects.select_related(
        "lesson__program").filter(digest=digest).order_by("pk")[:IMAGE_USES_CHECKED_MAX]
        if queries.can_read_program(request.user, candidate.lesson.program)), None)
    if image is None:
        raise Http404(_("No such image."))
    try:
        file = blob_path(digest).open("rb")
    except (OSError, ValueError):
        raise Http404(_("No such image.")) from None
    response = FileResponse(file, content_type=image.content_type)
    public = image.lesson.program.visibility == Visibility.PUBLIC
    response["Cache-Control"] = (f"{'public' if public else 'private'}, max-age=31536000, "
                                 "immutable")
    response["Content-Security-Policy"] = SANDBOX_POLICY
    return response


@require_GET
@cache_control(public=True, max_age=86400)
def highlight_css(request: HttpRequest) -> HttpResponse:
    return HttpResponse(pygments_css(), content_type="text/css; charset=utf-8")


# --------------------------------------------------------------------------- cohorts


@login_required
@require_http_methods(["GET", "POST"])
def cohort_new(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    organizations = queries.organizations_for_cohorts(person).order_by("name_en")
    if not organizations.exists():
        raise AccessDenied(_("Only the administrators and instructors of a member "
                             "organization create cohorts."))
    programs = queries.access_programs(person)
    initial: dict[str, Any] = {}
    chosen = programs.filter(slug=request.GET.get("program", "")).first()
    if chosen is not None:
        initial["program"] = chosen.pk
    form = CohortForm(request.POST or None, initial=initial, programs=programs,
                      organizations=organizations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cohort = actions.do_create_cohort(
                actor=person, program=data["program"], organization=data["organization"],
                name=data["name"], starts_on=data["starts_on"], ends_on=data["ends_on"],
                enrollment_mode=data["enrollment_mode"], capacity=data["capacity"],
                instructor_emails=actions.split_emails(data["instructors"]),
                partner_slugs=[o.slug for o in data["partners"]])
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("The cohort “%(name)s” has been created. Invite its "
                                        "learners here.") % {"name": cohort.name})
            return redirect("academy:cohort-manage", cohort_id=cohort.pk)
    return render(request, "academy/cohort_new.html", {"form": form},
                  status=422 if form.errors else 200)


def _cohort_context(access: queries.CohortAccess, error: str | None = None) -> dict[str, Any]:
    cohort = access.cohort
    seats = queries.seats_taken(cohort)
    return {"cohort": cohort, "access": access, "enrollment": access.enrollment,
            "status": access.status, "seats": seats, "error": error,
            "full": cohort.capacity is not None and seats >= cohort.capacity}


@login_required
@require_GET
def cohort_page(request: HttpRequest, cohort_id: int) -> HttpResponse:
    person = _person(request)
    access = queries.access_cohort_by_id(person, cohort_id)
    context = _cohort_context(access)
    context["instructors"] = list(access.cohort.instructors.order_by("display_name"))
    context["partners"] = list(access.cohort.partners.order_by("name_en"))
    return render(request, "academy/cohort.html", context)


ENROLLMENT_VERBS: dict[str, Callable[..., Enrollment]] = {
    "join": actions.do_join_cohort,
    "request": actions.do_request_enrollment,
    "accept": actions.do_accept_invitation,
    "withdraw": actions.do_withdraw_enrollment,
}


@login_required
@require_POST
def cohort_enrollment(request: HttpRequest, cohort_id: int, verb: str) -> HttpResponse:
    """Join, ask to join, accept an invitation, or withdraw."""
    person = _person(request)
    action = ENROLLMENT_VERBS.get(verb)
    if action is None:
        raise Http404(_("No such action."))
    access = queries.access_cohort_by_id(person, cohort_id)
    error = None
    try:
        action(person=person, cohort=access.cohort)
    except InputError as refused:
        error = refused.message
    access = queries.access_cohort_by_id(person, cohort_id)
    if _is_htmx(request):
        return render(request, "academy/_enrollment.html", _cohort_context(access, error))
    if error:
        messages.error(request, error)
    return redirect("academy:cohort", cohort_id=cohort_id)


@login_required
@require_http_methods(["GET", "POST"])
def cohort_manage(request: HttpRequest, cohort_id: int) -> HttpResponse:
    """Invite learners, decide on requests, see the roster."""
    person = _person(request)
    cohort = queries.access_managed_cohort_by_id(person, cohort_id)
    form = EmailsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            results = actions.do_invite_learners(
                actor=person, cohort=cohort,
                emails=actions.split_emails(form.cleaned_data["emails"]),
                origin=origin_of(request))
        except InputError as error:
            form.add_input_error(error)
        else:
            counts = {outcome: sum(1 for r in results if r.outcome == outcome)
                      for outcome in ("invited", "admitted", "already")}
            messages.success(request, _("Invited: %(invited)d. Admitted (had asked to join): "
                                        "%(admitted)d. Already learners: %(already)d.")
                             % counts)
            return redirect("academy:cohort-manage", cohort_id=cohort.pk)
    _cohort, enrollments = queries.access_enrollments_by_cohort_id(person, cohort.pk)
    groups = {
        "requested": [e for e in enrollments if e.status == EnrollmentStatus.REQUESTED],
        "invited": [e for e in enrollments if e.status == EnrollmentStatus.INVITED],
        "seated": [e for e in enrollments if e.status in SEATED],
        "left": [e for e in enrollments if e.status in (EnrollmentStatus.WITHDRAWN,
                                                       EnrollmentStatus.REJECTED)],
    }
    return render(request, "academy/cohort_manage.html", {
        "cohort": cohort, "form": form, "groups": groups,
        "seats": len(groups["seated"])}, status=422 if form.errors else 200)


DECISIONS: dict[str, Callable[..., Enrollment]] = {
    "approve": actions.do_approve_enrollment,
    "reject": actions.do_reject_enrollment,
    "complete": actions.do_complete_enrollment,
}


@login_required
@require_POST
def enrollment_decision(request: HttpRequest, cohort_id: int, enrollment_id: int,
                        verb: str) -> HttpResponse:
    person = _person(request)
    action = DECISIONS.get(verb)
    if action is None:
        raise Http404(_("No such action."))
    cohort = queries.access_managed_cohort_by_id(person, cohort_id)
    enrollment = queries.access_enrollment_by_id(person, cohort, enrollment_id)
    error = None
    try:
        enrollment = action(actor=person, enrollment=enrollment)
    except InputError as refused:
        error = refused.message
    if _is_htmx(request):
        return render(request, "academy/_enrollment_row.html",
                      {"cohort": cohort, "enrollment": enrollment, "error": error})
    if error:
        messages.error(request, error)
    return redirect("academy:cohort-manage", cohort_id=cohort_id)


def _progress_by(request: HttpRequest) -> str:
    return "lesson" if request.GET.get("by") == "lesson" else "module"


@login_required
@require_GET
def cohort_progress(request: HttpRequest, cohort_id: int) -> HttpResponse:
    person = _person(request)
    by = _progress_by(request)
    cohort, table = queries.access_cohort_progress_by_id(person, cohort_id, by)
    return render(request, "academy/cohort_progress.html",
                  {"cohort": cohort, "table": table, "by": by})


def _csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text


@login_required
@require_GET
def cohort_progress_csv(request: HttpRequest, cohort_id: int) -> HttpResponse:
    person = _person(request)
    by = _progress_by(request)
    cohort, table = queries.access_cohort_progress_by_id(person, cohort_id, by)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="cohort-{cohort.pk}-progress-by-{by}.csv"')
    response.write("\ufeff")  # spreadsheets then read the Korean as UTF-8
    writer = csv.writer(response)
    writer.writerow([_("Name"), _("E-mail address"), _("Status"),
                     *[_csv_cell(column.title) for column in table.columns],
                     _("Lessons completed"), _("Total %")])
    for row in table.rows:
        enrollment: Enrollment = row.subject
        writer.writerow([
            _csv_cell(enrollment.person.display_name if enrollment.person else ""),
            _csv_cell(enrollment.email), enrollment.get_status_display(), *row.cells,
            row.done, row.percent])
    return response


# --------------------------------------------------------------------------- classes


@login_required
@require_http_methods(["GET", "POST"])
def class_new(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    schools = queries.schools_for_classes(person).order_by("name_en")
    if not schools.exists():
        raise AccessDenied(_("Only the teachers and administrators of a member organization "
                             "open classes."))
    form = ClassForm(request.POST or None, schools=schools,
                     courses=queries.courses_for_classes(person))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            school_class = actions.do_create_class(actor=person, school=data["school"],
                                                   name=data["name"],
                                                   courses=list(data["courses"]))
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("The class “%(name)s” is open. Give your students "
                                        "its join code: %(code)s.")
                             % {"name": school_class.name, "code": school_class.join_code})
            return redirect("academy:class", class_id=school_class.pk)
    return render(request, "academy/class_new.html", {"form": form},
                  status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def class_join(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    form = JoinClassForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if request.method == "POST" and form.is_valid():
        try:
            school_class = actions.do_join_class(person=person, code=form.cleaned_data["code"])
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("You are in the class “%(name)s”.")
                             % {"name": school_class.name})
            return redirect("academy:class", class_id=school_class.pk)
    return render(request, "academy/class_join.html", {"form": form},
                  status=422 if form.errors else 200)


def _class_page(request: HttpRequest, class_id: int, form: EmailsForm | None = None,
                status: int = 200) -> HttpResponse:
    person = _person(request)
    access = queries.access_class_by_id(person, class_id)
    school_class = access.school_class
    courses = queries.class_courses(school_class)
    context: dict[str, Any] = {"school_class": school_class, "access": access,
                               "courses": courses}
    if access.is_manager:
        context["table"] = queries.class_progress_table(school_class, courses)
        context["form"] = form or EmailsForm()
    else:
        context["course_progress"] = queries.course_progress(person, courses)
    return render(request, "academy/class.html", context, status=status)


@login_required
@require_GET
def class_page(request: HttpRequest, class_id: int) -> HttpResponse:
    return _class_page(request, class_id)


@login_required
@require_POST
def class_students(request: HttpRequest, class_id: int) -> HttpResponse:
    """Add students who have signed up, by e-mail address."""
    person = _person(request)
    school_class = queries.access_managed_class_by_id(person, class_id)
    form = EmailsForm(request.POST)
    if form.is_valid():
        try:
            added = actions.do_add_students(
                actor=person, school_class=school_class,
                emails=actions.split_emails(form.cleaned_data["emails"]))
        except InputError as error:
            form.add_input_error(error)
        else:
            messages.success(request, _("Students added: %(count)d.") % {"count": len(added)})
            return redirect("academy:class", class_id=class_id)
    return _class_page(request, class_id, form, status=422)


@login_required
@require_POST
def class_remove_student(request: HttpRequest, class_id: int, person_id: int) -> HttpResponse:
    person = _person(request)
    school_class = queries.access_managed_class_by_id(person, class_id)
    student = school_class.students.filter(pk=person_id).first()
    if student is None:
        raise NotFound(_("This class has no such student."))
    actions.do_remove_student(actor=person, school_class=school_class, student=student)
    messages.success(request, _("%(name)s has left the class.") % {"name": student.display_name})
    return redirect("academy:class", class_id=class_id)

