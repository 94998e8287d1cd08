"""Every read of the labs that needs permission, the leaderboards, and ``best_results``.

Who sees what:

- a **lab** of a cohort: the cohort's learners (active or completed), its managers
  (instructors, the running organization's administrators), the lab's organization's
  administrators and instructors, operators; a lab of a program without a cohort: whoever
  may read the program and is signed in;
- a **challenge**: the people of member companies and SMEs, the hosting organization's
  people, operators;
- a **submission**: its author; and the lab's managers (its organization's administrators
  and instructors, the cohort's managers, operators), who see every submission of it;
- the **leaderboard**: whoever sees the lab. Its public column shows each participant's
  best public value; the private column is empty until the deadline has passed.

To anyone else a lab or a submission does not exist (404).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.academy import queries as academy_queries
from oneteam.academy.models import SEATED, Enrollment
from oneteam.accounts.models import Person
from oneteam.consortium.models import Membership, Organization, OrganizationKind, Role
from oneteam.labs.bundles import learner_view, parse_results
from oneteam.labs.models import Lab, LabKind, Submission, SubmissionState
from oneteam.platform.errors import AccessDenied, NotFound

COMPANY_KINDS = (OrganizationKind.COMPANY, OrganizationKind.SME)
STAFF_ROLES = (Role.ADMIN, Role.INSTRUCTOR)


def _signed_in(viewer: Any) -> bool:
    return isinstance(viewer, Person) and viewer.is_authenticated


def staff_organizations(viewer: Person) -> QuerySet[Organization]:
    """Organizations where ``viewer`` may upload labs (administrators and instructors)."""
    if viewer.is_operator:
        return Organization.objects.all()
    return Organization.objects.filter(memberships__person=viewer,
                                       memberships__role__in=STAFF_ROLES).distinct()


def companies_of(viewer: Person) -> QuerySet[Organization]:
    """The companies and SMEs ``viewer`` acts for in challenges (any role there)."""
    return Organization.objects.filter(memberships__person=viewer,
                                       kind__in=COMPANY_KINDS).distinct()


def may_manage_lab(viewer: Any, lab: Lab) -> bool:
    if not _signed_in(viewer):
        return False
    if viewer.is_operator:
        return True
    if Membership.objects.filter(person=viewer, organization_id=lab.owner_id,
                                 role__in=STAFF_ROLES).exists():
        return True
    return lab.cohort is not None and academy_queries.is_cohort_manager(viewer, lab.cohort)


def may_see_lab(viewer: Any, lab: Lab) -> bool:
    if not _signed_in(viewer):
        return False
    if may_manage_lab(viewer, lab):
        return True
    if lab.kind == LabKind.CHALLENGE:
        return (companies_of(viewer).exists()
                or Membership.objects.filter(person=viewer, organization_id=lab.owner_id)
                .exists())
    if lab.cohort is not None:
        return Enrollment.objects.filter(cohort=lab.cohort, person=viewer,
                                         status__in=SEATED).exists()
    return lab.program is not None and academy_queries.can_read_program(viewer, lab.program)


def may_submit(viewer: Any, lab: Lab) -> bool:
    return may_see_lab(viewer, lab)


def _lab_queryset() -> QuerySet[Lab]:
    return Lab.objects.select_related("owner", "program", "cohort", "cohort__organization")


def access_labs(viewer: Any) -> list[Lab]:
    """The labs ``viewer`` may see (``may_see_lab``), deciding for all of them from a
    fixed number of queries: the dashboard and the labs page list every lab."""
    if not _signed_in(viewer):
        return []
    labs = list(_lab_queryset().order_by("kind", "slug"))
    if viewer.is_operator:
        return labs
    memberships = list(Membership.objects.filter(person=viewer).values_list(
        "organization_id", "role", "organization__kind"))
    staff = {organization for organization, role, _kind in memberships if role in STAFF_ROLES}
    member = {organization for organization, _role, _kind in memberships}
    in_a_company = any(kind in COMPANY_KINDS for _organization, _role, kind in memberships)
    cohorts = [lab.cohort for lab in labs if lab.cohort is not None]
    managed = academy_queries.managed_cohort_ids(viewer, cohorts)
    seated = set(Enrollment.objects.filter(cohort__in=cohorts, person=viewer,
                                           status__in=SEATED).values_list("cohort_id", flat=True))
    readable: dict[int, bool] = {}

    def sees(lab: Lab) -> bool:
        if lab.owner_id in staff or lab.cohort_id in managed:  # may_manage_lab
            return True
        if lab.kind == LabKind.CHALLENGE:
            return in_a_company or lab.owner_id in member
        if lab.cohort_id is not None:
            return lab.cohort_id in seated
        if lab.program is None:
            return False
        if lab.program.pk not in readable:
            readable[lab.program.pk] = academy_queries.can_read_program(viewer, lab.program)
        return readable[lab.program.pk]

    return [lab for lab in labs if sees(lab)]


def access_lab_by_slug(viewer: Any, slug: str) -> Lab:
    lab = _lab_queryset().filter(slug=slug).first()
    if lab is None or not may_see_lab(viewer, lab):
        raise NotFound(_("There is no lab %(slug)s.") % {"slug": slug})
    return lab


def access_managed_lab_by_slug(viewer: Any, slug: str) -> Lab:
    lab = access_lab_by_slug(viewer, slug)
    if not may_manage_lab(viewer, lab):
        raise AccessDenied(_("Only the lab's instructors and administrators manage it."))
    return lab


def access_submission_by_id(viewer: Any, submission_id: int) -> Submission:
    submission = (Submission.objects.select_related("lab", "lab__owner", "lab__cohort",
                                                    "lab__program", "person", "organization",
                                                    "job")
                  .filter(pk=submission_id).first())
    if submission is None or not _signed_in(viewer) or not (
            submission.person_id == viewer.pk or may_manage_lab(viewer, submission.lab)):
        raise NotFound(_("There is no submission %(id)s.") % {"id": submission_id})
    return submission


def my_submissions(viewer: Person, lab: Lab) -> QuerySet[Submission]:
    return Submission.objects.filter(lab=lab, person=viewer).select_related("job")


def access_lab_submissions_by_slug(viewer: Any, slug: str) -> tuple[Lab, QuerySet[Submission]]:
    lab = access_managed_lab_by_slug(viewer, slug)
    return lab, Submission.objects.filter(lab=lab).select_related("person", "organization")


def day_start(now: datetime.datetime | None = None) -> datetime.datetime:
    """The start of today in the platform's time zone (the daily limit's day)."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def submissions_today(person: Person, lab: Lab) -> int:
    return Submission.objects.filter(lab=lab, person=person, created__gte=day_start()).count()


def submission_view(submission: Submission) -> dict[str, Any]:
    """What the learner sees of an outcome: visible tests in full, hidden ones as a score."""
    lab = submission.lab
    passed = lab.deadline_passed()
    view: dict[str, Any] = {"results": None}
    if submission.results is not None:
        results = parse_results(submission.results)
        view["results"] = learner_view(results, due_date_passed=passed, published=passed)
        view["show_grader_stdout"] = results.stdout_visibility == "visible"
    return view


# --------------------------------------------------------------------------- leaderboards


@dataclass(frozen=True)
class BoardRow:
    rank: int
    person: Person
    organization: Organization
    value: float
    score: float | None
    submission_id: int
    submitted: datetime.datetime
    entries: int


def _ranked(lab: Lab, candidates: dict[int, Submission], value_of: Any) -> list[BoardRow]:
    def key(item: tuple[Submission, float]) -> tuple[float, datetime.datetime, int]:
        submission, value = item
        return (-value if lab.metric_direction == "max" else value, submission.created,
                submission.pk)

    items = sorted(((s, value_of(s)) for s in candidates.values()), key=key)
    counts: dict[int, int] = {}
    for submission in Submission.objects.filter(lab=lab, state=SubmissionState.GRADED
                                                ).values_list("person_id", flat=True):
        counts[submission] = counts.get(submission, 0) + 1
    return [BoardRow(rank=index, person=s.person, organization=s.organization, value=value,
                     score=s.score, submission_id=s.pk, submitted=s.created,
                     entries=counts.get(s.person_id, 0))
            for index, (s, value) in enumerate(items, start=1)]


def _graded(lab: Lab) -> QuerySet[Submission]:
    return (Submission.objects.filter(lab=lab, state=SubmissionState.GRADED,
                                      metric__isnull=False)
            .select_related("person", "organization").order_by("created", "id"))


def public_leaderboard(lab: Lab) -> list[BoardRow]:
    """Each participant's best public value; equal values: the earlier submission first."""
    best: dict[int, Submission] = {}
    for submission in _graded(lab):
        current = best.get(submission.person_id)
        assert submission.metric is not None
        if current is None or lab.better(submission.metric, current.metric or 0.0):
            best[submission.person_id] = submission
    return _ranked(lab, best, lambda s: s.metric)


def final_submissions(lab: Lab, person_id: int, graded: list[Submission]) -> list[Submission]:
    """The submissions that count for the private board: those chosen, else the best public."""
    mine = [s for s in graded if s.person_id == person_id]
    chosen = [s for s in mine if s.is_final]
    if chosen:
        return chosen[:lab.final_submissions_max]
    best: Submission | None = None
    for submission in mine:
        assert submission.metric is not None
        if best is None or lab.better(submission.metric, best.metric or 0.0):
            best = submission
    return [best] if best is not None else []


def private_value(lab: Lab, submission: Submission) -> float | None:
    """The private split's value; a lab without one is ranked on its one value."""
    return submission.private_metric if submission.private_metric is not None else (
        submission.metric)


def private_leaderboard(lab: Lab) -> list[BoardRow] | None:
    """None until the deadline has passed; then each participant's best final submission
    on the private split (ties: the earlier submission)."""
    if not lab.deadline_passed():
        return None
    graded = list(_graded(lab))
    best: dict[int, Submission] = {}
    for person_id in {s.person_id for s in graded}:
        for submission in final_submissions(lab, person_id, graded):
            value = private_value(lab, submission)
            if value is None:
                continue
            current = best.get(person_id)
            current_value = private_value(lab, current) if current is not None else None
            if current is None or current_value is None or lab.better(value, current_value):
                best[person_id] = submission
    return _ranked(lab, best, lambda s: private_value(lab, s))


# --------------------------------------------------------------------------- for other apps


@dataclass(frozen=True)
class BestResult:
    lab_slug: str
    title_ko: str
    title_en: str
    kind: str
    score: float
    max_score: float
    metric_name: str
    metric: float | None
    graded_at: datetime.datetime
    submission_id: int
    url: str
    skills: list[dict[str, Any]]     # [{"code": skill id, "level": 1-5}]


def best_results(person: Person) -> list[BestResult]:
    """Each lab's best graded result of ``person``: the highest score, then the better
    metric, then the earlier submission. For the credentials app (awards on lab scores)."""
    best: dict[int, Submission] = {}
    for submission in (Submission.objects.filter(person=person, state=SubmissionState.GRADED,
                                                 score__isnull=False)
                       .select_related("lab").order_by("created", "id")):
        current = best.get(submission.lab_id)
        if current is None:
            best[submission.lab_id] = submission
            continue
        lab = submission.lab
        assert submission.score is not None and current.score is not None
        if submission.score > current.score or (
                submission.score == current.score and submission.metric is not None
                and (current.metric is None or lab.better(submission.metric, current.metric))):
            best[submission.lab_id] = submission
    results = []
    for submission in sorted(best.values(), key=lambda s: s.lab.slug):
        lab = submission.lab
        assert submission.score is not None and submission.graded_at is not None
        results.append(BestResult(
            lab_slug=lab.slug, title_ko=lab.title_ko, title_en=lab.title_en, kind=lab.kind,
            score=submission.score, max_score=submission.max_score or 0.0,
            metric_name=lab.metric_name, metric=submission.metric,
            graded_at=submission.graded_at, submission_id=submission.pk,
            url=reverse("labs:submission", args=[lab.slug, submission.pk]),
            skills=[dict(skill) for skill in lab.skills]))
    return results


def labs_for_program(viewer: Any, program_id: int) -> list[Lab]:
    return [lab for lab in _lab_queryset().filter(Q(program_id=program_id)
                                                  | Q(cohort__program_id=program_id))
            if may_see_lab(viewer, lab)]
