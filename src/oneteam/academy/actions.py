"""Every write of the academy: ``do_<verb>_<noun>``, one transaction each.

Input is checked before anything is written, and bad input raises
:class:`~oneteam.platform.errors.InputError` naming the field; a person who may not do
something gets :class:`~oneteam.platform.errors.AccessDenied`. E-mails go out as tasks
after commit. ``actor=None`` means the system itself (demo data, imports).

Enrollment moves between statuses so::

    (none) ──join (open)──────────────▶ active ──complete──▶ completed
    (none) ──request (approval)──▶ requested ──approve──▶ active
                                   requested ──reject───▶ rejected
    (none) ──invite──▶ invited ──accept──▶ active
    invited, requested, active ──withdraw──▶ withdrawn ──join/request/invite──▶ ...

A seat (active or completed) counts against the cohort's capacity; seats are counted
with the cohort's row locked, so two last-seat joins cannot both succeed.
"""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.academy import queries
from oneteam.academy.content import ProgramSpec
from oneteam.academy.images import check_image, store_blob
from oneteam.academy.lesson_html import content_digest
from oneteam.academy.models import (
    CLASS_NAME_LENGTH_MAX,
    COHORT_NAME_LENGTH_MAX,
    JOIN_CODE_LENGTH,
    LESSON_BODY_CHARS_MAX,
    SEATED,
    TITLE_LENGTH_MAX,
    Cohort,
    Course,
    Enrollment,
    EnrollmentMode,
    EnrollmentStatus,
    Lesson,
    LessonImage,
    LessonProgress,
    LessonRendering,
    Module,
    Program,
    SchoolClass,
    Visibility,
)
from oneteam.accounts.models import Person, normalize_email
from oneteam.consortium.models import Membership, Organization, Role
from oneteam.consortium.queries import is_admin_of
from oneteam.platform.errors import AccessDenied, InputError

CAPACITY_MAX = 10_000
EMAILS_PER_REQUEST_MAX = 200
COHORT_DAYS_MAX = 3 * 366
IMAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# Join codes avoid letters and digits that look alike (0/O, 1/I/L).
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LESSON_MINUTES_MAX = 24 * 60


# --------------------------------------------------------------------------- checking input


def _clean_text(value: str, field: str, *, length_max: int, missing: str) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise InputError(field, missing)
    if len(value) > length_max:
        raise InputError(field, _("At most %(count)d characters.") % {"count": length_max})
    return value


def _clean_email(value: str, field: str) -> str:
    email = normalize_email(value or "")
    try:
        validate_email(email)
    except ValidationError:
        raise InputError(field, _("“%(value)s” is not a valid e-mail address.")
                         % {"value": value}) from None
    return email


def clean_emails(values: Iterable[str], field: str = "emails") -> list[str]:
    """Distinct, valid e-mail addresses, in the order given; at least one."""
    emails: list[str] = []
    for value in values:
        if not value.strip():
            continue
        email = _clean_email(value, field)
        if email not in emails:
            emails.append(email)
    if not emails:
        raise InputError(field, _("Enter at least one e-mail address."))
    if len(emails) > EMAILS_PER_REQUEST_MAX:
        raise InputError(field, _("At most %(count)d addresses at once.")
                         % {"count": EMAILS_PER_REQUEST_MAX})
    return emails


def split_emails(text: str) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or lines."""
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


# --------------------------------------------------------------------------- programs


def _check_editor(actor: Person | None, program: Program) -> None:
    if actor is not None and not queries.can_edit_program(actor, program):
        raise AccessDenied(_("Only the administrators and instructors of %(owner)s change "
                             "this program.") % {"owner": program.owner.name})


def do_import_program(*, actor: Person | None, spec: ProgramSpec, owner: Organization,
                      visibility: str = Visibility.PUBLIC, is_demo: bool = False) -> Program:
    """Create the program of ``spec`` (a shipped content program), or bring it up to date.

    Courses, modules and lessons are matched by slug: new ones are added, changed ones
    updated, progress kept. A lesson the content no longer lists is removed only if
    nobody has progress on it; otherwise the import stops, naming it, and changes nothing.
    """
    if visibility not in Visibility.values:
        raise InputError("visibility", _("Choose one of: %(values)s.")
                         % {"values": ", ".join(Visibility.values)})
    existing = Program.objects.select_related("owner").filter(slug=spec.slug).first()
    if existing is not None and existing.owner_id != owner.pk:
        raise InputError("slug", _("%(owner)s already has a program with this short name.")
                         % {"owner": existing.owner.name})
    if existing is not None:
        _check_editor(actor, existing)
    elif actor is not None and not (actor.is_operator or is_admin_of(actor, owner)):
        raise AccessDenied(_("Only operators and the administrators of %(owner)s add its "
                             "programs.") % {"owner": owner.name})
    from oneteam.academy.content import CONTENT_ROOT

    with transaction.atomic(durable=True):
        program, _created = Program.objects.update_or_create(slug=spec.slug, defaults={
            "owner": owner, "track": spec.track, "title_ko": spec.title_ko,
            "title_en": spec.title_en, "summary_ko": spec.summary_ko,
            "summary_en": spec.summary_en, "hours": spec.hours, "visibility": visibility,
            "is_demo": is_demo})
        kept_lessons: set[int] = set()
        kept_modules: set[int] = set()
        kept_courses: set[int] = set()
        ordinal = 0
        for course_position, course_spec in enumerate(spec.courses):
            course, _c = Course.objects.update_or_create(
                program=program, slug=course_spec.slug, defaults={
                    "position": course_position, "title_ko": course_spec.title_ko,
                    "title_en": course_spec.title_en, "summary_ko": course_spec.summary_ko,
                    "summary_en": course_spec.summary_en,
                    "skills": [dict(skill) for skill in course_spec.skills]})
            kept_courses.add(course.pk)
            for module_position, module_spec in enumerate(course_spec.modules):
                module, _m = Module.objects.update_or_create(
                    course=course, slug=module_spec.slug, defaults={
                        "position": module_position, "title_ko": module_spec.title_ko,
                        "title_en": module_spec.title_en})
                kept_modules.add(module.pk)
                for lesson_position, lesson_spec in enumerate(module_spec.lessons):
                    content_path = (
                        (spec.directory / lesson_spec.path).relative_to(CONTENT_ROOT).as_posix()
                        if spec.directory.is_relative_to(CONTENT_ROOT) else "")
                    lesson, _l = Lesson.objects.update_or_create(
                        program=program, slug=lesson_spec.slug, defaults={
                            "module": module, "position": lesson_position, "ordinal": ordinal,
                            "title_ko": lesson_spec.title_ko, "title_en": lesson_spec.title_en,
                            "minutes": lesson_spec.minutes, "body_ko": lesson_spec.body_ko,
                            "body_en": lesson_spec.body_en, "content_path": content_path,
                            "updated": timezone.now()})
                    _refresh_digest(lesson)
                    kept_lessons.add(lesson.pk)
                    ordinal += 1
        gone = Lesson.objects.filter(program=program).exclude(pk__in=kept_lessons)
        studied = gone.filter(progress__isnull=False).values_list("slug", flat=True).distinct()
        if studied:
            raise InputError("lessons", _("These lessons are no longer in the content but "
                                          "people have progress on them: %(slugs)s. Keep them "
                                          "in the content.")
                             % {"slugs": ", ".join(sorted(studied))})
        gone.delete()
        Module.objects.filter(course__program=program).exclude(pk__in=kept_modules).delete()
        Course.objects.filter(program=program).exclude(pk__in=kept_courses).delete()
        _new_revision(program)
    return program


def _new_revision(program: Program) -> None:
    """The program's content changed: what processes cached about it is stale."""
    Program.objects.filter(pk=program.pk).update(revision=F("revision") + 1)
    program.refresh_from_db(fields=["revision"])


def _refresh_digest(lesson: Lesson) -> None:
    images = LessonImage.objects.filter(lesson=lesson).values_list("name", "digest",
                                                                   "content_type")
    digest = content_digest(body_ko=lesson.body_ko, body_en=lesson.body_en,
                            content_path=lesson.content_path, images=list(images))
    if digest != lesson.content_digest:
        lesson.content_digest = digest
        Lesson.objects.filter(pk=lesson.pk).update(content_digest=digest)


def _clean_body(value: str, field: str) -> str:
    if not value or not value.strip():
        raise InputError(field, _("Write the lesson; it may not be empty."))
    if len(value) > LESSON_BODY_CHARS_MAX:
        raise InputError(field, _("At most %(count)d characters.")
                         % {"count": LESSON_BODY_CHARS_MAX})
    return value


def do_update_lesson(*, actor: Person | None, lesson: Lesson, title_ko: str | None = None,
                     title_en: str | None = None, body_ko: str | None = None,
                     body_en: str | None = None, minutes: int | None = None) -> Lesson:
    """Change a lesson's titles, text or time; its HTML is rendered anew on the next read."""
    _check_editor(actor, lesson.program)
    changes: dict[str, object] = {}
    for field, value in (("title_ko", title_ko), ("title_en", title_en)):
        if value is not None:
            changes[field] = _clean_text(value, field, length_max=TITLE_LENGTH_MAX,
                                         missing=_("Enter the title."))
    for field, value in (("body_ko", body_ko), ("body_en", body_en)):
        if value is not None:
            changes[field] = _clean_body(value, field)
    if minutes is not None:
        if isinstance(minutes, bool) or not 1 <= minutes <= LESSON_MINUTES_MAX:
            raise InputError("minutes", _("Give the minutes as a whole number from 1 to "
                                          "%(max)d.") % {"max": LESSON_MINUTES_MAX})
        changes["minutes"] = minutes
    if not changes:
        return lesson
    with transaction.atomic(durable=True):
        for name, change in changes.items():
            setattr(lesson, name, change)
        lesson.updated = timezone.now()
        lesson.save(update_fields=[*changes, "updated"])
        _refresh_digest(lesson)
        _new_revision(lesson.program)
    return lesson


def do_add_lesson_image(*, actor: Person | None, lesson: Lesson, name: str,
                        data: bytes) -> LessonImage:
    """Upload an image the lesson's Markdown refers to by ``name``; same name replaces.

    Only PNG, JPEG, GIF and WebP, checked by their bytes, up to 2 MB (see ``images``).
    """
    _check_editor(actor, lesson.program)
    name = (name or "").strip()
    if not IMAGE_NAME.fullmatch(name):
        raise InputError("name", _("Name the image with letters, digits, '.', '-' and '_' "
                                   "(for example chart.png), at most 100 characters."))
    info = check_image(data, "file")
    store_blob(data, info.digest)
    with transaction.atomic(durable=True):
        image, _created = LessonImage.objects.update_or_create(
            lesson=lesson, name=name, defaults={
                "digest": info.digest, "content_type": info.content_type,
                "size_bytes": info.size_bytes, "width": info.width, "height": info.height,
                "uploaded_by": actor, "created": timezone.now()})
        lesson.body_ko, lesson.body_en = Lesson.objects.filter(pk=lesson.pk).values_list(
            "body_ko", "body_en").get()
        _refresh_digest(lesson)
        _new_revision(lesson.program)
    return image


def do_store_rendering(*, key: str, language: str, html: str,
                       headings: list[list[object]]) -> None:
    """Keep a lesson's rendered HTML (another process may have stored it first: fine)."""
    try:
        with transaction.atomic(durable=True):
            LessonRendering.objects.get_or_create(key=key, language=language, defaults={
                "html": html, "headings": headings})
    except IntegrityError:
        pass


# --------------------------------------------------------------------------- progress


def _check_reader(person: Person, lesson: Lesson) -> None:
    if not queries.can_read_program(person, lesson.program):
        raise AccessDenied(_("You may not study this program."))


def do_start_lesson(*, person: Person, lesson: Lesson) -> LessonProgress:
    """Record that ``person`` opened the lesson (once; later calls return the record)."""
    _check_reader(person, lesson)
    existing = LessonProgress.objects.filter(person=person, lesson=lesson).first()
    if existing is not None:
        return existing
    cohort = queries.learning_cohort(person, lesson.program_id)
    try:
        with transaction.atomic(durable=True):
            progress, _created = LessonProgress.objects.get_or_create(
                person=person, lesson=lesson, defaults={"cohort": cohort})
    except IntegrityError:  # opened at the same moment in another tab
        progress = LessonProgress.objects.get(person=person, lesson=lesson)
    return progress


def do_complete_lesson(*, person: Person, lesson: Lesson) -> LessonProgress:
    """Mark the lesson complete for ``person``, in the cohort they learn its program in."""
    _check_reader(person, lesson)
    cohort = queries.learning_cohort(person, lesson.program_id)
    now = timezone.now()
    with transaction.atomic(durable=True):
        progress, created = LessonProgress.objects.select_for_update().get_or_create(
            person=person, lesson=lesson,
            defaults={"cohort": cohort, "started": now, "completed": now})
        if not created and progress.completed is None:
            progress.completed = now
            progress.cohort = cohort or progress.cohort
            progress.save(update_fields=["completed", "cohort"])
    return progress


def do_uncomplete_lesson(*, person: Person, lesson: Lesson) -> LessonProgress | None:
    """Take back a "complete" (the lesson stays started)."""
    _check_reader(person, lesson)
    with transaction.atomic(durable=True):
        progress = LessonProgress.objects.select_for_update().filter(
            person=person, lesson=lesson).first()
        if progress is not None and progress.completed is not None:
            progress.completed = None
            progress.save(update_fields=["completed"])
    return progress


# --------------------------------------------------------------------------- cohorts


def _clean_capacity(capacity: int | None) -> int | None:
    if capacity is None:
        return None
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not (
            1 <= capacity <= CAPACITY_MAX):
        raise InputError("capacity", _("Give the capacity as a whole number from 1 to "
                                       "%(max)d, or leave it empty for no limit.")
                         % {"max": CAPACITY_MAX})
    return capacity


def _clean_dates(starts_on: datetime.date | None,
                 ends_on: datetime.date | None) -> tuple[datetime.date, datetime.date]:
    if not isinstance(starts_on, datetime.date):
        raise InputError("starts_on", _("Enter the first day, as YYYY-MM-DD."))
    if not isinstance(ends_on, datetime.date):
        raise InputError("ends_on", _("Enter the last day, as YYYY-MM-DD."))
    if ends_on < starts_on:
        raise InputError("ends_on", _("The last day may not come before the first."))
    if (ends_on - starts_on).days > COHORT_DAYS_MAX:
        raise InputError("ends_on", _("A cohort lasts at most three years."))
    return starts_on, ends_on


def _instructors(organization: Organization, emails: Sequence[str]) -> list[Person]:
    found = []
    for email in clean_emails(emails, "instructors") if emails else []:
        person = Person.objects.filter(email=email, is_active=True).first()
        if person is None:
            raise InputError("instructors", _("No one has signed up with %(email)s.")
                             % {"email": email})
        if not queries.may_teach_for(person, organization):
            raise InputError("instructors", _("%(email)s is not an instructor or "
                                              "administrator of %(organization)s.")
                             % {"email": email, "organization": organization.name})
        found.append(person)
    return found


def _partners(slugs: Sequence[str]) -> list[Organization]:
    partners = []
    for slug in slugs:
        organization = Organization.objects.filter(slug=(slug or "").strip().lower()).first()
        if organization is None:
            raise InputError("partners", _("There is no member organization “%(slug)s”.")
                             % {"slug": slug})
        if organization not in partners:
            partners.append(organization)
    return partners


def do_create_cohort(*, actor: Person | None, program: Program, organization: Organization,
                     name: str, starts_on: datetime.date | None,
                     ends_on: datetime.date | None,
                     enrollment_mode: str = EnrollmentMode.OPEN, capacity: int | None = None,
                     instructor_emails: Sequence[str] = (), partner_slugs: Sequence[str] = (),
                     is_demo: bool = False) -> Cohort:
    """A new run of ``program`` by ``organization``.

    ``actor`` must administer or teach for the organization (or operate the alliance); an
    actor who teaches there becomes one of the cohort's instructors. The organization may
    run a program it owns, or any public one.
    """
    if actor is not None and not queries.may_run_cohorts_for(actor, organization):
        raise AccessDenied(_("Only the administrators and instructors of %(organization)s "
                             "create its cohorts.") % {"organization": organization.name})
    if program.visibility != Visibility.PUBLIC and program.owner_id != organization.pk:
        raise InputError("program", _("%(organization)s may not run this program: it is "
                                      "private to %(owner)s.")
                         % {"organization": organization.name, "owner": program.owner.name})
    name = _clean_text(name, "name", length_max=COHORT_NAME_LENGTH_MAX,
                       missing=_("Name the cohort, for example “2026 spring”."))
    starts_on, ends_on = _clean_dates(starts_on, ends_on)
    if enrollment_mode not in EnrollmentMode.values:
        raise InputError("enrollment_mode", _("Choose one of: %(values)s.")
                         % {"values": ", ".join(EnrollmentMode.values)})
    capacity = _clean_capacity(capacity)
    instructors = _instructors(organization, instructor_emails)
    if actor is not None and actor not in instructors and Membership.objects.filter(
            person=actor, organization=organization, role=Role.INSTRUCTOR).exists():
        instructors.insert(0, actor)
    partners = _partners(partner_slugs)
    with transaction.atomic(durable=True):
        cohort = Cohort.objects.create(
            program=program, organization=organization, name=name, starts_on=starts_on,
            ends_on=ends_on, enrollment_mode=enrollment_mode, capacity=capacity,
            created_by=actor, is_demo=is_demo)
        cohort.instructors.set(instructors)
        cohort.partners.set(partners)
    return cohort


def _locked_cohort(cohort: Cohort) -> Cohort:
    return Cohort.objects.select_for_update().select_related("program", "organization").get(
        pk=cohort.pk)


def _check_seat(cohort: Cohort) -> None:
    """Raise if the cohort is full or over; call with the cohort's row locked."""
    if cohort.ends_on < timezone.localdate():
        raise InputError(None, _("This cohort has ended."))
    if cohort.capacity is not None and queries.seats_taken(cohort) >= cohort.capacity:
        raise InputError(None, _("This cohort is full (%(capacity)d learners).")
                         % {"capacity": cohort.capacity})


def _own_enrollment(person: Person, cohort: Cohort) -> Enrollment | None:
    return (Enrollment.objects.select_for_update().filter(cohort=cohort, email=person.email)
            .first())


def _seat(enrollment: Enrollment, person: Person, now: datetime.datetime,
          decided_by: Person | None = None) -> Enrollment:
    enrollment.person = person
    enrollment.status = EnrollmentStatus.ACTIVE
    enrollment.changed = enrollment.joined = now
    enrollment.decided_by = decided_by or enrollment.decided_by
    enrollment.save()
    return enrollment


def do_join_cohort(*, person: Person, cohort: Cohort) -> Enrollment:
    """Join an open cohort (or take up an invitation to any cohort)."""
    if not queries.can_read_program(person, cohort.program) and not cohort.enrollments.filter(
            email=person.email).exists():
        raise AccessDenied(_("You may not study this program."))
    now = timezone.now()
    with transaction.atomic(durable=True):
        cohort = _locked_cohort(cohort)
        enrollment = _own_enrollment(person, cohort)
        if enrollment is not None and enrollment.status in SEATED:
            return enrollment
        if enrollment is not None and enrollment.status == EnrollmentStatus.REJECTED:
            raise InputError(None, _("The organizers of this cohort did not admit you."))
        invited = enrollment is not None and enrollment.status == EnrollmentStatus.INVITED
        if cohort.enrollment_mode == EnrollmentMode.APPROVAL and not invited:
            raise InputError(None, _("This cohort admits learners by approval: ask to join."))
        if cohort.enrollment_mode == EnrollmentMode.INVITATION and not invited:
            raise InputError(None, _("This cohort takes learners by invitation only."))
        _check_seat(cohort)
        if enrollment is None:
            enrollment = Enrollment(cohort=cohort, email=person.email, created=now)
        return _seat(enrollment, person, now)


def do_accept_invitation(*, person: Person, cohort: Cohort) -> Enrollment:
    now = timezone.now()
    with transaction.atomic(durable=True):
        cohort = _locked_cohort(cohort)
        enrollment = _own_enrollment(person, cohort)
        if enrollment is not None and enrollment.status in SEATED:
            return enrollment
        if enrollment is None or enrollment.status != EnrollmentStatus.INVITED:
            raise InputError(None, _("You have no invitation to this cohort."))
        _check_seat(cohort)
        return _seat(enrollment, person, now)


def do_request_enrollment(*, person: Person, cohort: Cohort) -> Enrollment:
    """Ask to join a cohort by approval; its managers decide."""
    if not queries.can_read_program(person, cohort.program):
        raise AccessDenied(_("You may not study this program."))
    now = timezone.now()
    with transaction.atomic(durable=True):
        cohort = _locked_cohort(cohort)
        enrollment = _own_enrollment(person, cohort)
        if enrollment is not None and enrollment.status in (*SEATED, EnrollmentStatus.REQUESTED):
            return enrollment
        if enrollment is not None and enrollment.status == EnrollmentStatus.REJECTED:
            raise InputError(None, _("The organizers of this cohort did not admit you."))
        if enrollment is not None and enrollment.status == EnrollmentStatus.INVITED:
            raise InputError(None, _("You are invited already: accept the invitation."))
        if cohort.enrollment_mode == EnrollmentMode.OPEN:
            raise InputError(None, _("This cohort is open: join it directly."))
        if cohort.enrollment_mode == EnrollmentMode.INVITATION:
            raise InputError(None, _("This cohort takes learners by invitation only."))
        if cohort.ends_on < timezone.localdate():
            raise InputError(None, _("This cohort has ended."))
        if enrollment is None:
            enrollment = Enrollment(cohort=cohort, email=person.email, created=now)
        enrollment.person = person
        enrollment.status = EnrollmentStatus.REQUESTED
        enrollment.changed = now
        enrollment.save()
        return enrollment


def do_withdraw_enrollment(*, person: Person, cohort: Cohort) -> Enrollment:
    """Leave a cohort, withdraw a request, or decline an invitation. Progress is kept."""
    with transaction.atomic(durable=True):
        enrollment = _own_enrollment(person, cohort)
        if enrollment is None or enrollment.status not in (
                EnrollmentStatus.ACTIVE, EnrollmentStatus.REQUESTED, EnrollmentStatus.INVITED):
            raise InputError(None, _("You are not in this cohort."))
        enrollment.person = person
        enrollment.status = EnrollmentStatus.WITHDRAWN
        enrollment.changed = timezone.now()
        enrollment.save()
        return enrollment


@dataclass(frozen=True, slots=True)
class Invited:
    email: str
    enrollment: Enrollment
    outcome: str
    """"invited", "admitted" (had asked to join), or "already" (already a learner)."""


def do_invite_learners(*, actor: Person | None, cohort: Cohort, emails: Iterable[str],
                       origin: str = "") -> list[Invited]:
    """Invite each address to the cohort (people who have not signed up yet too).

    Someone who had asked to join is admitted instead; a learner already seated is left
    as is. Each new invitation is e-mailed after commit, with a link starting ``origin``.
    """
    if actor is not None and not queries.is_cohort_manager(actor, cohort):
        raise AccessDenied(_("Only the cohort's instructors and the administrators of "
                             "%(organization)s invite learners.")
                           % {"organization": cohort.organization.name})
    addresses = clean_emails(emails, "emails")
    now = timezone.now()
    results: list[Invited] = []
    with transaction.atomic(durable=True):
        cohort = _locked_cohort(cohort)
        people = {p.email: p for p in Person.objects.filter(email__in=addresses,
                                                             is_active=True)}
        existing = {e.email: e for e in Enrollment.objects.select_for_update().filter(
            cohort=cohort, email__in=addresses)}
        for email in addresses:
            enrollment = existing.get(email)
            if enrollment is not None and enrollment.status in SEATED:
                results.append(Invited(email, enrollment, "already"))
                continue
            if enrollment is not None and enrollment.status == EnrollmentStatus.REQUESTED:
                _check_seat(cohort)
                _seat(enrollment, enrollment.person or people[email], now, decided_by=actor)
                results.append(Invited(email, enrollment, "admitted"))
                continue
            if enrollment is None:
                enrollment = Enrollment(cohort=cohort, email=email, created=now)
            enrollment.person = people.get(email, enrollment.person)
            enrollment.status = EnrollmentStatus.INVITED
            enrollment.invited_by = actor
            enrollment.changed = now
            enrollment.save()
            results.append(Invited(email, enrollment, "invited"))
        invited_ids = [r.enrollment.pk for r in results if r.outcome == "invited"]
        if invited_ids:
            from oneteam.academy.tasks import send_invitation_email

            transaction.on_commit(lambda: [send_invitation_email.enqueue(pk, origin)
                                           for pk in invited_ids])
    return results


def _check_manager(actor: Person | None, cohort: Cohort) -> None:
    if actor is not None and not queries.is_cohort_manager(actor, cohort):
        raise AccessDenied(_("Only the cohort's instructors and the administrators of "
                             "%(organization)s decide on its learners.")
                           % {"organization": cohort.organization.name})


def do_approve_enrollment(*, actor: Person | None, enrollment: Enrollment) -> Enrollment:
    _check_manager(actor, enrollment.cohort)
    now = timezone.now()
    with transaction.atomic(durable=True):
        cohort = _locked_cohort(enrollment.cohort)
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if enrollment.status in SEATED:
            return enrollment
        if enrollment.status != EnrollmentStatus.REQUESTED or enrollment.person_id is None:
            raise InputError("status", _("Only a request to join can be approved."))
        _check_seat(cohort)
        return _seat(enrollment, enrollment.person, now,  # type: ignore[arg-type]
                     decided_by=actor)


def do_reject_enrollment(*, actor: Person | None, enrollment: Enrollment) -> Enrollment:
    _check_manager(actor, enrollment.cohort)
    with transaction.atomic(durable=True):
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if enrollment.status == EnrollmentStatus.REJECTED:
            return enrollment
        if enrollment.status != EnrollmentStatus.REQUESTED:
            raise InputError("status", _("Only a request to join can be turned down."))
        enrollment.status = EnrollmentStatus.REJECTED
        enrollment.decided_by = actor
        enrollment.changed = timezone.now()
        enrollment.save()
        return enrollment


def do_complete_enrollment(*, actor: Person | None, enrollment: Enrollment) -> Enrollment:
    """Record that a learner completed the cohort."""
    _check_manager(actor, enrollment.cohort)
    now = timezone.now()
    with transaction.atomic(durable=True):
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if enrollment.status == EnrollmentStatus.COMPLETED:
            return enrollment
        if enrollment.status != EnrollmentStatus.ACTIVE:
            raise InputError("status", _("Only a learner in the cohort can complete it."))
        enrollment.status = EnrollmentStatus.COMPLETED
        enrollment.completed = enrollment.changed = now
        enrollment.decided_by = actor
        enrollment.save()
        return enrollment


# --------------------------------------------------------------------------- classes


def _new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _i in range(JOIN_CODE_LENGTH))


def _check_class_courses(actor: Person | None, courses: Sequence[Course],
                         school: Organization) -> list[Course]:
    if not courses:
        raise InputError("courses", _("Choose at least one course."))
    for course in courses:
        program = course.program
        readable = (program.visibility == Visibility.PUBLIC or program.owner_id == school.pk
                    or (actor is not None and queries.can_read_program(actor, program)))
        if not readable:
            raise InputError("courses", _("The course “%(course)s” is not available to "
                                          "%(school)s.")
                             % {"course": course.title, "school": school.name})
    return list(dict.fromkeys(courses))


def do_create_class(*, actor: Person | None, school: Organization, name: str,
                    courses: Sequence[Course], teacher: Person | None = None,
                    is_demo: bool = False) -> SchoolClass:
    """A class at ``school`` using ``courses``; its teacher is ``teacher`` or the actor."""
    if actor is not None and not queries.may_run_cohorts_for(actor, school):
        raise AccessDenied(_("Only the teachers and administrators of %(school)s open its "
                             "classes.") % {"school": school.name})
    teacher = teacher or actor
    if teacher is None:
        raise InputError("teacher", _("Name the class's teacher."))
    if not queries.may_teach_for(teacher, school):
        raise InputError("teacher", _("%(email)s is not a teacher or administrator of "
                                      "%(school)s.") % {"email": teacher.email,
                                                        "school": school.name})
    name = _clean_text(name, "name", length_max=CLASS_NAME_LENGTH_MAX,
                       missing=_("Name the class, for example “2nd grade, class 3”."))
    chosen = _check_class_courses(actor, courses, school)
    attempts_max = 5
    for attempt in range(attempts_max):
        try:
            with transaction.atomic(durable=True):
                school_class = SchoolClass.objects.create(
                    school=school, teacher=teacher, name=name, join_code=_new_join_code(),
                    is_demo=is_demo)
                school_class.courses.set(chosen)
                return school_class
        except IntegrityError:  # the random join code was taken: draw another
            if attempt == attempts_max - 1:
                raise
    raise AssertionError("unreachable")


def _check_class_manager(actor: Person | None, school_class: SchoolClass) -> None:
    if actor is None or actor.is_operator or actor.pk == school_class.teacher_id:
        return
    if not is_admin_of(actor, school_class.school):
        raise AccessDenied(_("Only the class's teacher and the administrators of %(school)s "
                             "manage it.") % {"school": school_class.school.name})


def do_add_students(*, actor: Person | None, school_class: SchoolClass,
                    emails: Iterable[str]) -> list[Person]:
    """Add people who have signed up, by e-mail; unknown addresses are refused, all named."""
    _check_class_manager(actor, school_class)
    addresses = clean_emails(emails, "emails")
    people = {p.email: p for p in Person.objects.filter(email__in=addresses, is_active=True)}
    unknown = [email for email in addresses if email not in people]
    if unknown:
        raise InputError("emails", _("No one has signed up with: %(emails)s. Ask them to sign "
                                     "up, or give them the class's join code.")
                         % {"emails": ", ".join(unknown)})
    with transaction.atomic(durable=True):
        school_class.students.add(*people.values())
    return [people[email] for email in addresses]


def do_join_class(*, person: Person, code: str) -> SchoolClass:
    """Join the class whose join code this is."""
    code = "".join((code or "").split()).upper()
    if len(code) != JOIN_CODE_LENGTH:
        raise InputError("code", _("A join code has %(count)d letters and digits.")
                         % {"count": JOIN_CODE_LENGTH})
    school_class = SchoolClass.objects.filter(join_code=code).first()
    if school_class is None:
        raise InputError("code", _("No class has this join code. Check it with your teacher."))
    with transaction.atomic(durable=True):
        school_class.students.add(person)
    return school_class


def do_remove_student(*, actor: Person | None, school_class: SchoolClass,
                      student: Person) -> None:
    """Take a student out of the class; their progress stays theirs."""
    _check_class_manager(actor, school_class)
    with transaction.atomic(durable=True):
        school_class.students.remove(student)
