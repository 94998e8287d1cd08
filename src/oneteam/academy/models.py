"""The academy's tables: programs and their content, cohorts, enrollments, progress, classes.

A program's content is a tree, Program → Course → Module → Lesson, in teaching order.
Every lesson also knows its program and its ``ordinal`` (its place in the whole
program), so previous/next and "the next lesson" are one indexed lookup. A cohort is
one run of a program by an organization; a school class uses some of the same courses.

A person has one progress record per lesson wherever they study it (a cohort, a class,
on their own); ``cohort`` on the record says where it was completed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from oneteam.consortium.models import Organization

TITLE_LENGTH_MAX = 200
SUMMARY_LENGTH_MAX = 2000
LESSON_BODY_CHARS_MAX = 200_000
COHORT_NAME_LENGTH_MAX = 120
CLASS_NAME_LENGTH_MAX = 120
JOIN_CODE_LENGTH = 8


def english_active() -> bool:
    return (get_language() or "ko").startswith("en")


class Bilingual:
    """Fields ``<name>_ko`` and ``<name>_en``; :meth:`localized` picks the active language."""

    def localized(self, name: str) -> str:
        english = getattr(self, f"{name}_en", "")
        korean = getattr(self, f"{name}_ko", "")
        return str((english or korean) if english_active() else (korean or english))

    @property
    def title(self) -> str:
        return self.localized("title")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public: anyone may read it")
    ORGANIZATION = "organization", _("Organization: its people and its learners only")


TRACK_NAMES = {
    "developer": _("AI developer track"),
    "enterprise": _("Enterprise practical track"),
    "school": _("AI education for schools"),
}


class Program(Bilingual, models.Model):
    """A curriculum an organization owns: the AI school's tracks, a company course."""

    slug = models.SlugField(_("short name"), max_length=50, unique=True)
    track = models.SlugField(_("track"), max_length=50)
    title_ko = models.CharField(_("title in Korean"), max_length=TITLE_LENGTH_MAX)
    title_en = models.CharField(_("title in English"), max_length=TITLE_LENGTH_MAX)
    summary_ko = models.TextField(_("summary in Korean"), max_length=SUMMARY_LENGTH_MAX)
    summary_en = models.TextField(_("summary in English"), max_length=SUMMARY_LENGTH_MAX)
    hours = models.PositiveIntegerField(_("planned hours"))
    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="programs",
                              verbose_name=_("owner"))
    visibility = models.CharField(_("visibility"), max_length=16, choices=Visibility.choices,
                                  default=Visibility.PUBLIC)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created = models.DateTimeField(_("created"), default=timezone.now)
    # Raised by every action that changes the program's courses, modules or lessons, so
    # that what the web processes keep in memory about them is looked up under a new key.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering: ClassVar[list[str]] = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def summary(self) -> str:
        return self.localized("summary")

    @property
    def track_name(self) -> str:
        return str(TRACK_NAMES.get(self.track, self.track))


class Course(Bilingual, models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="courses",
                                verbose_name=_("program"))
    slug = models.SlugField(_("short name"), max_length=50)
    position = models.PositiveIntegerField(_("position"))
    title_ko = models.CharField(_("title in Korean"), max_length=TITLE_LENGTH_MAX)
    title_en = models.CharField(_("title in English"), max_length=TITLE_LENGTH_MAX)
    summary_ko = models.TextField(_("summary in Korean"), blank=True,
                                  max_length=SUMMARY_LENGTH_MAX)
    summary_en = models.TextField(_("summary in English"), blank=True,
                                  max_length=SUMMARY_LENGTH_MAX)
    # What completing the course evidences: [{"code": skill id, "level": 1-5}], codes of
    # the talent taxonomy (checked by the content loader and the actions that set it).
    skills = models.JSONField(_("skills evidenced"), default=list, blank=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering: ClassVar[list[str]] = ["program_id", "position"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["program", "slug"], name="course_unique_slug"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}/{self.slug}"

    @property
    def summary(self) -> str:
        return self.localized("summary")


class Module(Bilingual, models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules",
                               verbose_name=_("course"))
    slug = models.SlugField(_("short name"), max_length=50)
    position = models.PositiveIntegerField(_("position"))
    title_ko = models.CharField(_("title in Korean"), max_length=TITLE_LENGTH_MAX)
    title_en = models.CharField(_("title in English"), max_length=TITLE_LENGTH_MAX)

    class Meta:
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        ordering: ClassVar[list[str]] = ["course_id", "position"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["course", "slug"], name="module_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.slug


class Lesson(Bilingual, models.Model):
    """A lesson: Markdown in Korean and English, rendered to safe HTML on first read.

    ``content_path`` is the lesson's stem under the shipped content folder (for lessons
    loaded from it); its images are served from there. ``content_digest`` is the SHA-256
    of everything the rendering depends on (bodies, path, uploaded images), kept
    current by the actions; rendered HTML is cached under it, per language.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="lessons",
                                verbose_name=_("program"))
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons",
                               verbose_name=_("module"))
    slug = models.SlugField(_("short name"), max_length=80)
    position = models.PositiveIntegerField(_("position in its module"))
    ordinal = models.PositiveIntegerField(_("position in its program"))
    title_ko = models.CharField(_("title in Korean"), max_length=TITLE_LENGTH_MAX)
    title_en = models.CharField(_("title in English"), max_length=TITLE_LENGTH_MAX)
    minutes = models.PositiveIntegerField(_("minutes"))
    body_ko = models.TextField(_("text in Korean (Markdown)"), max_length=LESSON_BODY_CHARS_MAX)
    body_en = models.TextField(_("text in English (Markdown)"), max_length=LESSON_BODY_CHARS_MAX)
    content_path = models.CharField(_("path in the shipped content"), max_length=300,
                                    blank=True)
    content_digest = models.CharField(max_length=64)
    updated = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        ordering: ClassVar[list[str]] = ["program_id", "ordinal"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["program", "slug"], name="lesson_unique_slug"),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["program", "ordinal"], name="lesson_program_order"),
        ]

    def __str__(self) -> str:
        return self.slug

    def body(self, language: str) -> str:
        return self.body_en if language == "en" else self.body_ko


class LessonImage(models.Model):
    """An image uploaded for a lesson, stored by the SHA-256 of its bytes.

    The lesson's Markdown refers to it by ``name`` (``![what it shows](chart.png)``).
    """

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="images",
                               verbose_name=_("lesson"))
    name = models.CharField(_("name"), max_length=100)
    digest = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    content_type = models.CharField(_("type"), max_length=32)
    size_bytes = models.PositiveIntegerField(_("size in bytes"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+")
    created = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("lesson image")
        verbose_name_plural = _("lesson images")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["lesson", "name"], name="lesson_image_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.digest[:12]})"


class LessonRendering(models.Model):
    """A lesson's HTML in one language, for one content digest (and renderer version)."""

    key = models.CharField(max_length=64)
    language = models.CharField(max_length=8)
    html = models.TextField()
    headings = models.JSONField(default=list)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["key", "language"], name="rendering_unique_key"),
        ]


class EnrollmentMode(models.TextChoices):
    OPEN = "open", _("Open: anyone may join")
    APPROVAL = "approval", _("By approval: anyone may ask, the organizers decide")
    INVITATION = "invitation", _("By invitation only")


MODE_SHORT_NAMES: dict[str, StrOrPromise] = {
    EnrollmentMode.OPEN: _("Open"),
    EnrollmentMode.APPROVAL: _("By approval"),
    EnrollmentMode.INVITATION: _("By invitation"),
}


class Cohort(models.Model):
    """One run of a program by an organization: dates, instructors, learners, partners."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="cohorts",
                                verbose_name=_("program"))
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="cohorts", verbose_name=_("run by"))
    name = models.CharField(_("name"), max_length=COHORT_NAME_LENGTH_MAX)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    enrollment_mode = models.CharField(_("enrollment"), max_length=16,
                                       choices=EnrollmentMode.choices,
                                       default=EnrollmentMode.OPEN)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True,
                                           help_text=_("Most learners at once; empty: no limit."))
    instructors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="taught_cohorts",
                                         blank=True, verbose_name=_("instructors"))
    partners = models.ManyToManyField(Organization, related_name="partner_cohorts", blank=True,
                                      verbose_name=_("partner companies"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, related_name="+")
    is_demo = models.BooleanField(_("demo data"), default=False)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")
        ordering: ClassVar[list[str]] = ["-starts_on", "name"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")),
                                   name="cohort_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def enrollment_mode_short(self) -> str:
        return str(MODE_SHORT_NAMES.get(self.enrollment_mode, self.enrollment_mode))

    @property
    def is_listed(self) -> bool:
        """Open and by-approval cohorts are shown to everyone who may read the program."""
        return self.enrollment_mode != EnrollmentMode.INVITATION


class EnrollmentStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    REQUESTED = "requested", _("Asked to join")
    ACTIVE = "active", _("Learning")
    REJECTED = "rejected", _("Not admitted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    COMPLETED = "completed", _("Completed")


# Statuses that hold a seat (count against capacity) and make a person the cohort's learner.
SEATED = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


class Enrollment(models.Model):
    """A person's place in a cohort, from invitation or request to completion.

    An invitation may go to an e-mail address nobody has signed up with yet: ``person``
    stays empty until someone with that address accepts it.
    """

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="enrollments",
                               verbose_name=_("cohort"))
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                               blank=True, related_name="enrollments", verbose_name=_("person"))
    email = models.EmailField(_("e-mail address"))
    status = models.CharField(_("status"), max_length=16, choices=EnrollmentStatus.choices)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created = models.DateTimeField(_("created"), default=timezone.now)
    changed = models.DateTimeField(_("status changed"), default=timezone.now)
    joined = models.DateTimeField(_("joined"), null=True, blank=True)
    completed = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering: ClassVar[list[str]] = ["cohort_id", "created"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["cohort", "email"], name="enrollment_unique_email"),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["person", "status"], name="enrollment_person_status"),
            models.Index(fields=["email", "status"], name="enrollment_email_status"),
        ]

    def __str__(self) -> str:
        return f"{self.email} in {self.cohort_id} ({self.status})"


class LessonProgress(models.Model):
    """A person's progress on a lesson: opened (``started``), and ``completed`` when marked."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="lesson_progress", verbose_name=_("person"))
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress",
                               verbose_name=_("lesson"))
    cohort = models.ForeignKey(Cohort, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="progress", verbose_name=_("cohort"))
    started = models.DateTimeField(_("started"), default=timezone.now)
    completed = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("lesson progress")
        verbose_name_plural = _("lesson progress")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["person", "lesson"], name="progress_unique_lesson"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.lesson_id} {'done' if self.completed else 'started'}"


class SchoolClass(models.Model):
    """A teacher's class at a school, using some of the academy's courses with students."""

    school = models.ForeignKey(Organization, on_delete=models.PROTECT,
                               related_name="school_classes", verbose_name=_("school"))
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="taught_classes", verbose_name=_("teacher"))
    name = models.CharField(_("name"), max_length=CLASS_NAME_LENGTH_MAX)
    students = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="school_classes",
                                      blank=True, verbose_name=_("students"))
    courses = models.ManyToManyField(Course, related_name="school_classes",
                                     verbose_name=_("courses"))
    join_code = models.CharField(_("join code"), max_length=JOIN_CODE_LENGTH, unique=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering: ClassVar[list[str]] = ["name"]

    def __str__(self) -> str:
        return self.name
