"""Labs and challenges made from uploaded bundles, their submissions and outcomes.

A ``Lab`` is made by uploading a bundle (a zip of a folder with ``lab.toml``, checked by
``bundles.load_bundle``): the zip is kept under its SHA-256 and extracted once into the
data directory, where the jobs mount it. A lab (kind ``lab``) belongs to a program, and
optionally to one cohort of it; a challenge (kind ``challenge``, a testbed) is open to
the alliance's companies. A ``Submission`` is a learner's (or a company's) files; it
becomes a ``compute.Job``, and its outcome is recorded when the job ends.
"""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from oneteam.academy.models import Cohort, Program
from oneteam.compute.models import Job
from oneteam.consortium.models import Organization

TITLE_LENGTH_MAX = 200
FINAL_SUBMISSIONS_DEFAULT = 2
FINAL_SUBMISSIONS_MAX = 10


class LabKind(models.TextChoices):
    LAB = "lab", _("Lab")
    CHALLENGE = "challenge", _("Testbed challenge")


class Lab(models.Model):
    slug = models.SlugField(_("short name"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=LabKind.choices)
    title_ko = models.CharField(_("title in Korean"), max_length=TITLE_LENGTH_MAX)
    title_en = models.CharField(_("title in English"), max_length=TITLE_LENGTH_MAX)
    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="labs",
                              verbose_name=_("run by"))
    program = models.ForeignKey(Program, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="labs", verbose_name=_("program"))
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="labs", verbose_name=_("cohort"))
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    final_submissions_max = models.PositiveIntegerField(
        _("final submissions per person"), default=FINAL_SUBMISSIONS_DEFAULT)
    # from the bundle
    version = models.CharField(_("version"), max_length=40)
    bundle_digest = models.CharField(_("bundle SHA-256"), max_length=64)
    metric_name = models.CharField(_("metric"), max_length=40)
    metric_direction = models.CharField(_("better is"), max_length=3)
    submissions_per_day = models.PositiveIntegerField(_("submissions per day"))
    submission_files = models.JSONField(_("files a submission may contain"), default=list)
    notebook = models.CharField(_("notebook"), max_length=100, blank=True)
    submission_max_bytes = models.PositiveBigIntegerField(_("largest submission"))
    public_fraction = models.FloatField(_("public share of the hidden split"), null=True,
                                        blank=True)
    skills = models.JSONField(_("skills"), default=list, blank=True)  # [{"code", "level"}]
    starter_files = models.JSONField(_("starter files"), default=list, blank=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created = models.DateTimeField(_("created"), default=timezone.now)
    updated = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("lab")
        verbose_name_plural = _("labs")
        ordering: ClassVar[list[str]] = ["kind", "slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def title(self) -> str:
        return self.title_en if (get_language() or "ko").startswith("en") else self.title_ko

    @property
    def is_challenge(self) -> bool:
        return self.kind == LabKind.CHALLENGE

    def deadline_passed(self, now: datetime.datetime | None = None) -> bool:
        return self.deadline is not None and self.deadline <= (now or timezone.now())

    def better(self, first: float, second: float) -> bool:
        return first > second if self.metric_direction == "max" else first < second


class SubmissionState(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    GRADED = "graded", _("Graded")
    FAILED = "failed", _("Failed")


class Submission(models.Model):
    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="submissions",
                            verbose_name=_("lab"))
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="lab_submissions", verbose_name=_("person"))
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="lab_submissions",
                                     verbose_name=_("paid by"))
    job = models.OneToOneField(Job, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="lab_submission", verbose_name=_("job"))
    files = models.JSONField(_("files"), default=list)  # [{"name", "size", "sha256"}]
    is_notebook = models.BooleanField(_("notebook"), default=False)
    state = models.CharField(_("state"), max_length=16, choices=SubmissionState.choices,
                             default=SubmissionState.QUEUED)
    score = models.FloatField(_("score"), null=True, blank=True)
    max_score = models.FloatField(_("out of"), null=True, blank=True)
    metric = models.FloatField(_("public value"), null=True, blank=True)
    private_metric = models.FloatField(_("private value"), null=True, blank=True)
    results = models.JSONField(_("results"), null=True, blank=True, editable=False)
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    detail = models.CharField(_("details"), max_length=1000, blank=True)
    run_stdout = models.TextField(_("output"), blank=True)
    run_stderr = models.TextField(_("errors"), blank=True)
    grader_stdout = models.TextField(_("grader's output"), blank=True)
    executed_notebook = models.CharField(_("executed notebook"), max_length=64, blank=True)
    is_final = models.BooleanField(_("chosen as final"), default=False)
    created = models.DateTimeField(_("submitted"), default=timezone.now)
    graded_at = models.DateTimeField(_("graded"), null=True, blank=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering: ClassVar[list[str]] = ["-created", "-id"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["lab", "person", "created"], name="labs_submission_person"),
            models.Index(fields=["lab", "state"], name="labs_submission_state"),
        ]

    def __str__(self) -> str:
        return f"{self.lab.slug} #{self.pk} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in (SubmissionState.GRADED, SubmissionState.FAILED)

    @property
    def live_state(self) -> str:
        """Its state, with "running" once its job has started."""
        if not self.is_finished and self.job is not None and self.job.state == "running":
            return SubmissionState.RUNNING
        return self.state

    def get_live_state_display(self) -> str:
        return str(SubmissionState(self.live_state).label)
