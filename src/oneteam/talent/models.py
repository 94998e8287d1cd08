"""The talent platform's tables: profiles and consent, the log of recruiters' views,
postings, applications and their history, job fairs, and placements.

A learner's skills are not stored here: they are collected when needed from what
evidences them (credentials, completed courses, lab results: ``evidence.py``), plus what
the learner declares. What a profile shows, and to whom, is the learner's choice
(``TalentProfile.audience`` and the ``show_*`` switches); ``queries.py`` is the only
place that applies it.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oneteam.academy.models import Cohort
from oneteam.consortium.models import Organization

HEADLINE_LENGTH_MAX = 200
SUMMARY_LENGTH_MAX = 4000
TITLE_LENGTH_MAX = 200
DESCRIPTION_LENGTH_MAX = 10_000
REGION_LENGTH_MAX = 100
ROLE_LENGTH_MAX = 200
NOTE_LENGTH_MAX = 1000


class Audience(models.TextChoices):
    NOBODY = "nobody", _("Nobody: my profile is private")
    CHOSEN = "chosen", _("Recruiters of the member companies I choose")
    MEMBERS = "members", _("Recruiters of every member company")


class WorkType(models.TextChoices):
    ONSITE = "onsite", _("On site")
    HYBRID = "hybrid", _("Hybrid")
    REMOTE = "remote", _("Remote")


class PostingKind(models.TextChoices):
    JOB = "job", _("Job")
    INTERNSHIP = "internship", _("Internship")
    PROJECT = "project", _("AI+X project")


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    FINANCE = "finance", _("Finance")
    LOGISTICS = "logistics", _("Logistics")
    TELECOM = "telecom", _("Telecommunications")
    ELECTRONICS = "electronics", _("Electronics")
    SHIPBUILDING = "shipbuilding", _("Shipbuilding and maritime")
    FOOD = "food", _("Food and retail")
    HEALTHCARE = "healthcare", _("Healthcare")
    ENERGY = "energy", _("Energy")
    PUBLIC = "public", _("Public sector")
    RESEARCH = "research", _("Research")
    OTHER = "other", _("Other")


class Language(models.TextChoices):
    KO = "ko", "한국어"
    EN = "en", "English"


class TalentProfile(models.Model):
    """A learner's profile: what they add, and what they let recruiters see.

    Skills shown are the evidenced ones (collected, never typed in) and those the learner
    declares (``declared_skills``, weighed as their own word). Preferences say what work
    they look for. ``audience`` says which recruiters may see the profile at all; the
    ``show_*`` switches which parts.
    """

    person = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="talent_profile", verbose_name=_("person"))
    headline = models.CharField(_("headline"), max_length=HEADLINE_LENGTH_MAX, blank=True)
    summary = models.TextField(_("about me"), max_length=SUMMARY_LENGTH_MAX, blank=True)
    declared_skills = models.JSONField(_("skills I declare"), default=list, blank=True)
    desired_roles = models.CharField(_("roles I look for"), max_length=ROLE_LENGTH_MAX,
                                     blank=True)
    regions = models.JSONField(_("regions"), default=list, blank=True)
    work_types = models.JSONField(_("types of work"), default=list, blank=True)
    posting_kinds = models.JSONField(_("kinds of posting"), default=list, blank=True)
    audience = models.CharField(_("who may see my profile"), max_length=16,
                                choices=Audience.choices, default=Audience.NOBODY)
    chosen_organizations = models.ManyToManyField(
        Organization, blank=True, related_name="+", verbose_name=_("chosen companies"))
    show_skills = models.BooleanField(_("show my skills and their evidence"), default=True)
    show_projects = models.BooleanField(_("show my projects"), default=True)
    show_preferences = models.BooleanField(_("show my preferences"), default=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created = models.DateTimeField(_("created"), default=timezone.now)
    updated = models.DateTimeField(_("updated"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("talent profile")
        verbose_name_plural = _("talent profiles")

    def __str__(self) -> str:
        return f"profile of {self.person_id}"


class Project(models.Model):
    """Something the learner built, in their own words, with the skills it used."""

    profile = models.ForeignKey(TalentProfile, on_delete=models.CASCADE,
                                related_name="projects", verbose_name=_("profile"))
    title = models.CharField(_("title"), max_length=TITLE_LENGTH_MAX)
    description = models.TextField(_("description"), max_length=SUMMARY_LENGTH_MAX,
                                   blank=True)
    url = models.URLField(_("link"), blank=True)
    skills = models.JSONField(_("skills used"), default=list, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering: ClassVar[list[str]] = ["-created", "-id"]

    def __str__(self) -> str:
        return self.title


class ViewChannel(models.TextChoices):
    PROFILE = "profile", _("Opened the profile")
    SEARCH = "search", _("Saw it in search results")
    API = "api", _("Read it through the API")


class ProfileView(models.Model):
    """One recruiter's look at a profile: who, for which organization, when, from where."""

    profile = models.ForeignKey(TalentProfile, on_delete=models.CASCADE,
                                related_name="views", verbose_name=_("profile"))
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                               null=True, related_name="+", verbose_name=_("viewer"))
    viewer_name = models.CharField(_("viewer's name"), max_length=200)
    organization = models.ForeignKey(Organization, on_delete=models.SET_NULL, null=True,
                                     related_name="+", verbose_name=_("organization"))
    posting = models.ForeignKey("Posting", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("posting"))
    channel = models.CharField(_("how"), max_length=16, choices=ViewChannel.choices)
    created = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("profile view")
        verbose_name_plural = _("profile views")
        ordering: ClassVar[list[str]] = ["-created", "-id"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["profile", "-created"], name="profile_view_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.viewer_name} saw {self.profile_id} ({self.channel})"


class PostingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Posting(models.Model):
    """A member company's job, internship or AI+X project (a problem from its industry)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="postings", verbose_name=_("company"))
    kind = models.CharField(_("kind"), max_length=16, choices=PostingKind.choices)
    industry = models.CharField(_("industry"), max_length=32, choices=Industry.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    title = models.CharField(_("title"), max_length=TITLE_LENGTH_MAX)
    description = models.TextField(_("description"), max_length=DESCRIPTION_LENGTH_MAX)
    # [{"code": skill id, "level": 1-5, "required": bool}]
    requirements = models.JSONField(_("skills"), default=list)
    region = models.CharField(_("region"), max_length=REGION_LENGTH_MAX, blank=True)
    work_type = models.CharField(_("work type"), max_length=16, choices=WorkType.choices)
    deadline = models.DateField(_("apply by"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=PostingStatus.choices,
                              default=PostingStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, related_name="+")
    is_demo = models.BooleanField(_("demo data"), default=False)
    created = models.DateTimeField(_("created"), default=timezone.now)
    updated = models.DateTimeField(_("updated"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering: ClassVar[list[str]] = ["-created", "-id"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["status", "deadline"], name="posting_open"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_accepting(self) -> bool:
        """Open, and its deadline (if any) not past."""
        return self.status == PostingStatus.OPEN and (
            self.deadline is None or self.deadline >= timezone.localdate())


class ApplicationStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    SHORTLISTED = "shortlisted", _("Shortlisted")
    INTERVIEW = "interview", _("Interview")
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Offer declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REJECTED = "rejected", _("Not selected")


# An application in one of these shares the applicant's profile with the company.
ACTIVE_APPLICATION = (ApplicationStatus.APPLIED, ApplicationStatus.SHORTLISTED,
                      ApplicationStatus.INTERVIEW, ApplicationStatus.OFFERED,
                      ApplicationStatus.ACCEPTED)


class Application(models.Model):
    posting = models.ForeignKey(Posting, on_delete=models.PROTECT,
                                related_name="applications", verbose_name=_("posting"))
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="applications", verbose_name=_("applicant"))
    status = models.CharField(_("status"), max_length=16, choices=ApplicationStatus.choices)
    message = models.TextField(_("message"), max_length=NOTE_LENGTH_MAX, blank=True)
    created = models.DateTimeField(_("applied"), default=timezone.now)
    changed = models.DateTimeField(_("status changed"), default=timezone.now)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering: ClassVar[list[str]] = ["-changed", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["posting", "person"],
                                    name="application_one_per_posting"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.posting_id} ({self.status})"


class ApplicationEvent(models.Model):
    """One step of an application's history: from which status to which, by whom."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="events", verbose_name=_("application"))
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=ApplicationStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              related_name="+", verbose_name=_("by"))
    note = models.CharField(_("note"), max_length=NOTE_LENGTH_MAX, blank=True)
    created = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("application step")
        verbose_name_plural = _("application steps")
        ordering: ClassVar[list[str]] = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"


class FairStatus(models.TextChoices):
    OPEN = "open", _("Open: joining and ranking")
    MATCHED = "matched", _("Matched")


class JobFair(models.Model):
    """A cohort placement: learners and positions rank each other; deferred acceptance
    (applicants proposing) matches them."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                     related_name="job_fairs", verbose_name=_("organizer"))
    name = models.CharField(_("name"), max_length=TITLE_LENGTH_MAX)
    description = models.TextField(_("description"), max_length=SUMMARY_LENGTH_MAX,
                                   blank=True)
    cohort = models.ForeignKey(Cohort, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+", verbose_name=_("cohort"))
    rank_by = models.DateField(_("rankings due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=FairStatus.choices,
                              default=FairStatus.OPEN)
    statistics = models.JSONField(_("result in figures"), default=dict, blank=True)
    matched = models.DateTimeField(_("matched"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, related_name="+")
    is_demo = models.BooleanField(_("demo data"), default=False)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("job fair")
        verbose_name_plural = _("job fairs")
        ordering: ClassVar[list[str]] = ["-created", "-id"]

    def __str__(self) -> str:
        return self.name


class FairPosition(models.Model):
    """A posting in a fair, with the places it fills there and its ranking of learners."""

    fair = models.ForeignKey(JobFair, on_delete=models.CASCADE, related_name="positions",
                             verbose_name=_("job fair"))
    posting = models.ForeignKey(Posting, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("posting"))
    capacity = models.PositiveIntegerField(_("places"))
    # person ids, best first; empty until the company ranks
    ranking = models.JSONField(_("ranking"), default=list, blank=True)
    ranked = models.DateTimeField(_("ranked"), null=True, blank=True)
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)

    class Meta:
        verbose_name = _("fair position")
        verbose_name_plural = _("fair positions")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["fair", "posting"], name="fair_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.posting_id} in {self.fair_id}"


class FairParticipant(models.Model):
    """A learner in a fair, with their ranking of positions and their result."""

    fair = models.ForeignKey(JobFair, on_delete=models.CASCADE, related_name="participants",
                             verbose_name=_("job fair"))
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="fair_participations",
                               verbose_name=_("learner"))
    # FairPosition ids, best first
    ranking = models.JSONField(_("ranking"), default=list, blank=True)
    ranked = models.DateTimeField(_("ranked"), null=True, blank=True)
    matched_position = models.ForeignKey(FairPosition, on_delete=models.SET_NULL, null=True,
                                         blank=True, related_name="matched_participants",
                                         verbose_name=_("matched to"))
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    joined = models.DateTimeField(_("joined"), default=timezone.now)

    class Meta:
        verbose_name = _("fair participant")
        verbose_name_plural = _("fair participants")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["fair", "person"], name="fair_participant_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.fair_id}"


class PlacementSource(models.TextChoices):
    OFFER = "offer", _("Accepted offer")
    FAIR = "fair", _("Job fair match")
    RECORDED = "recorded", _("Recorded")


class Placement(models.Model):
    """A learner employed or placed: from an accepted offer, a fair's match, or recorded
    by the learner or their program's staff (work found outside the platform)."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="placements", verbose_name=_("learner"))
    organization = models.ForeignKey(Organization, on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("member company"))
    employer = models.CharField(_("employer"), max_length=TITLE_LENGTH_MAX)
    role = models.CharField(_("role"), max_length=ROLE_LENGTH_MAX)
    kind = models.CharField(_("kind"), max_length=16, choices=PostingKind.choices)
    started_on = models.DateField(_("starts on"))
    source = models.CharField(_("source"), max_length=16, choices=PlacementSource.choices)
    application = models.OneToOneField(Application, on_delete=models.SET_NULL, null=True,
                                       blank=True, related_name="placement")
    fair = models.ForeignKey(JobFair, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="placements")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+")
    is_demo = models.BooleanField(_("demo data"), default=False)
    created = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        ordering: ClassVar[list[str]] = ["-started_on", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["fair", "person"], condition=Q(fair__isnull=False),
                                    name="placement_one_per_fair"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} at {self.employer} ({self.role})"
