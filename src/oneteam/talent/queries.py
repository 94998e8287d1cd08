"""Reads of the talent platform that need a permission: the only place that decides.

Who sees what:

- A **profile** is its owner's. A recruiter sees it only with the owner's consent, for
  an organization the consent names: the audience the owner chose ("nobody", the
  recruiters of member companies they chose, or of every member company), or an
  application of theirs to one of the organization's postings that is still active, or
  a job fair they joined in which the organization has a position. Within it, only the
  parts the owner shows (skills with their evidence, projects, preferences). To anyone
  else the profile does not exist (404). Operators are not recruiters: they see no
  profile either. Every recruiter's look is logged (``actions.do_view_candidate``) and
  shown to the owner.
- A **recruiter** acts for a member company (kind company or SME) in which they hold the
  recruiter or administrator role.
- A **posting** open for applications is public; a draft or closed one only for its
  company's recruiters and administrators (403 for those who saw it open, 404 for others).
- An **application** is seen by its applicant and by the posting company's recruiters.
- A **job fair** is seen by everyone signed in; it is run by the administrators and
  instructors of its organizer (and operators); a company ranks for its own positions.
- **Outcomes** of a program are for the staff of its owner and operators; a cohort's
  for its managers too.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.academy import queries as academy_queries
from oneteam.academy.models import SEATED, Cohort, Enrollment, Program
from oneteam.accounts.models import Person
from oneteam.consortium.models import Membership, Organization, OrganizationKind, Role
from oneteam.platform.errors import AccessDenied, InputError, NotFound
from oneteam.talent import evidence as evidence_module
from oneteam.talent import searching
from oneteam.talent.models import (
    ACTIVE_APPLICATION,
    Application,
    Audience,
    FairParticipant,
    FairPosition,
    JobFair,
    Placement,
    Posting,
    PostingStatus,
    ProfileView,
    Project,
    TalentProfile,
)
from oneteam.talent.search import SearchResult
from oneteam.talent.searching import Snapshot

Viewer = Person | AnonymousUser
COMPANY_KINDS = (OrganizationKind.COMPANY, OrganizationKind.SME)
RECRUITING_ROLES = (Role.RECRUITER, Role.ADMIN)
FAIR_ORGANIZER_ROLES = (Role.ADMIN, Role.INSTRUCTOR)
RESULTS_MAX = 50
VIEWS_SHOWN_MAX = 200
OUTCOME_WINDOW_DAYS = 183  # "within six months of the cohort's end"


def signed_in(viewer: Any) -> bool:
    return isinstance(viewer, Person) and viewer.is_authenticated


def _signed_in(viewer: Any) -> Person | None:
    return viewer if signed_in(viewer) else None


def _person(viewer: Viewer) -> Person:
    if not isinstance(viewer, Person) or not viewer.is_authenticated:
        raise AccessDenied(_("Sign in first."))
    return viewer


# --------------------------------------------------------------------------- recruiters


def recruiting_organizations(viewer: Viewer) -> QuerySet[Organization]:
    """Member companies for which ``viewer`` recruits (recruiter or administrator)."""
    person = _signed_in(viewer)
    if person is None:
        return Organization.objects.none()
    return Organization.objects.filter(
        kind__in=COMPANY_KINDS, memberships__person=person,
        memberships__role__in=RECRUITING_ROLES).distinct().order_by("name_en")


def may_recruit_for(viewer: Viewer, organization: Organization) -> bool:
    person = _signed_in(viewer)
    return person is not None and organization.kind in COMPANY_KINDS and (
        Membership.objects.filter(person=person, organization=organization,
                                  role__in=RECRUITING_ROLES).exists())


def access_recruiting_organization_by_slug(viewer: Viewer, slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise NotFound(_("There is no member organization “%(slug)s”.") % {"slug": slug})
    if not may_recruit_for(viewer, organization):
        raise AccessDenied(_("Only the recruiters and administrators of a member company "
                             "post and recruit for it."))
    return organization


# --------------------------------------------------------------------------- profiles


def profile_of(person: Person) -> TalentProfile | None:
    return (TalentProfile.objects.filter(person=person)
            .prefetch_related("projects", "chosen_organizations").first())


def consenting_organization_ids(profiles: Sequence[TalentProfile]) -> dict[int, set[int] | None]:
    """Per profile, the organizations whose recruiters may see it (None: every member
    company), in a fixed number of queries."""
    result: dict[int, set[int] | None] = {}
    by_person = {profile.person_id: profile.pk for profile in profiles}
    chosen: dict[int, set[int]] = defaultdict(set)
    through = TalentProfile.chosen_organizations.through
    for profile_id, organization_id in through.objects.filter(
            talentprofile_id__in=[p.pk for p in profiles]).values_list(
            "talentprofile_id", "organization_id"):
        chosen[profile_id].add(organization_id)
    extra: dict[int, set[int]] = defaultdict(set)
    for person_id, organization_id in Application.objects.filter(
            person_id__in=by_person, status__in=ACTIVE_APPLICATION).values_list(
            "person_id", "posting__organization_id"):
        extra[by_person[person_id]].add(organization_id)
    for person_id, fair_id in FairParticipant.objects.filter(
            person_id__in=by_person).values_list("person_id", "fair_id"):
        extra[by_person[person_id]].update(FairPosition.objects.filter(
            fair_id=fair_id).values_list("posting__organization_id", flat=True))
    for profile in profiles:
        if profile.audience == Audience.MEMBERS:
            result[profile.pk] = None
        elif profile.audience == Audience.CHOSEN:
            result[profile.pk] = chosen[profile.pk] | extra[profile.pk]
        else:
            result[profile.pk] = set(extra[profile.pk])
    return result


def consents_to(profile: TalentProfile, organization: Organization) -> bool:
    if organization.kind not in COMPANY_KINDS:
        return False
    allowed = consenting_organization_ids([profile])[profile.pk]
    return allowed is None or organization.pk in allowed


def recruiting_organization_for(viewer: Viewer, profile: TalentProfile,
                                posting: Posting | None = None) -> Organization | None:
    """The organization for which ``viewer`` may see ``profile`` (the posting's, when one
    is given), or None."""
    if not signed_in(viewer) or profile.person_id == viewer.pk:
        return None
    organizations = list(recruiting_organizations(viewer))
    if posting is not None:
        organizations = [o for o in organizations if o.pk == posting.organization_id]
    allowed = consenting_organization_ids([profile])[profile.pk]
    for organization in organizations:
        if allowed is None or organization.pk in allowed:
            return organization
    return None


@dataclass(frozen=True, slots=True)
class CandidateView:
    """A profile as a recruiter of ``organization`` may see it (or its owner)."""

    profile: TalentProfile
    organization: Organization | None  # None: the owner looking at their own
    skills: list[evidence_module.SkillEvidence]
    projects: list[Project]
    show_preferences: bool
    applications: list[Application] = field(default_factory=list)

    @property
    def person(self) -> Person:
        return self.profile.person


def candidate_view(profile: TalentProfile, organization: Organization | None) -> CandidateView:
    """What the profile shows: everything to its owner, the shown parts to a recruiter."""
    items = evidence_module.collect(profile.person, profile)
    owner = organization is None
    shown = items if owner else searching.shown_evidence(profile, items)
    projects = list(profile.projects.all()) if owner or profile.show_projects else []
    applications = []
    if organization is not None:
        applications = list(Application.objects.filter(
            person=profile.person, posting__organization=organization)
            .select_related("posting"))
    return CandidateView(profile, organization, evidence_module.summarize(shown), projects,
                         owner or profile.show_preferences, applications)


def _no_candidate() -> NotFound:
    return NotFound(_("No such candidate, or the candidate does not share their profile "
                      "with you."))


def access_candidate_by_id(viewer: Viewer, profile_id: int,
                           posting: Posting | None = None) -> CandidateView:
    """A candidate's profile for a recruiter who has the candidate's consent (else 404).
    Callers log the view: use ``actions.do_view_candidate``."""
    profile = (TalentProfile.objects.select_related("person")
               .prefetch_related("projects").filter(pk=profile_id).first())
    if profile is None:
        raise _no_candidate()
    organization = recruiting_organization_for(viewer, profile, posting)
    if organization is None:
        raise _no_candidate()
    return candidate_view(profile, organization)


def access_views_of_my_profile(viewer: Viewer) -> list[ProfileView]:
    """Who looked at my profile, newest first."""
    person = _person(viewer)
    return list(ProfileView.objects.filter(profile__person_id=person.pk)
                .select_related("organization", "posting")[:VIEWS_SHOWN_MAX])


# --------------------------------------------------------------------------- postings


def open_postings_q(prefix: str = "") -> Q:
    today = timezone.localdate()
    return Q(**{f"{prefix}status": PostingStatus.OPEN}) & (
        Q(**{f"{prefix}deadline__isnull": True}) | Q(**{f"{prefix}deadline__gte": today}))


def access_postings(viewer: Viewer, *, kind: str = "", industry: str = "",
                    organization: str = "") -> QuerySet[Posting]:
    """Postings open for applications, newest first, optionally filtered."""
    postings = Posting.objects.filter(open_postings_q()).select_related("organization")
    if kind:
        postings = postings.filter(kind=kind)
    if industry:
        postings = postings.filter(industry=industry)
    if organization:
        postings = postings.filter(organization__slug=organization)
    return postings


def access_managed_postings(viewer: Viewer) -> QuerySet[Posting]:
    """Every posting (any status) of the companies the viewer recruits for."""
    return (Posting.objects.filter(organization__in=recruiting_organizations(viewer))
            .select_related("organization"))


def _no_posting() -> NotFound:
    return NotFound(_("There is no such posting."))


def access_posting_by_id(viewer: Viewer, posting_id: int) -> Posting:
    posting = Posting.objects.select_related("organization").filter(pk=posting_id).first()
    if posting is None:
        raise _no_posting()
    if posting.is_accepting or may_recruit_for(viewer, posting.organization):
        return posting
    if posting.status == PostingStatus.DRAFT:
        raise _no_posting()
    return posting  # closed: still readable, by applicants and anyone with the link


def access_managed_posting_by_id(viewer: Viewer, posting_id: int) -> Posting:
    posting = access_posting_by_id(viewer, posting_id)
    if not may_recruit_for(viewer, posting.organization):
        raise AccessDenied(_("Only the recruiters and administrators of %(organization)s "
                             "manage this posting.")
                           % {"organization": posting.organization.name})
    return posting


# --------------------------------------------------------------------------- applications


def access_my_applications(viewer: Viewer) -> QuerySet[Application]:
    person = _person(viewer)
    return (Application.objects.filter(person=person)
            .select_related("posting", "posting__organization"))


def access_applications_by_posting(viewer: Viewer, posting: Posting) -> list[Application]:
    """A posting's applications for its company's recruiters, with applicants' profiles."""
    if not may_recruit_for(viewer, posting.organization):
        raise AccessDenied(_("Only the recruiters and administrators of %(organization)s "
                             "see this posting's applications.")
                           % {"organization": posting.organization.name})
    applications = list(Application.objects.filter(posting=posting)
                        .select_related("person", "person__talent_profile")
                        .order_by("-changed", "-id"))
    return applications


def access_application_by_id(viewer: Viewer, application_id: int) -> Application:
    application = (Application.objects.select_related("posting", "posting__organization",
                                                      "person")
                   .filter(pk=application_id).first())
    if application is None or not signed_in(viewer) or not (
            application.person_id == viewer.pk
            or may_recruit_for(viewer, application.posting.organization)):
        raise NotFound(_("There is no such application."))
    return application


# --------------------------------------------------------------------------- search


@dataclass(frozen=True, slots=True)
class CandidateResult:
    """A search result for a recruiter: the profile, and why it ranks where it does."""

    profile: TalentProfile
    result: SearchResult
    evidence_links: dict[str, str]
    is_applicant: bool = False


@dataclass(frozen=True, slots=True)
class PostingResult:
    posting: Posting
    result: SearchResult
    application: Application | None = None


def _candidate_results(viewer: Viewer, organization: Organization, snapshot: Snapshot,
                       results: Iterable[SearchResult], limit: int, *,
                       posting: Posting | None = None) -> list[CandidateResult]:
    """Results the organization may see, in order: consent is checked here, per result."""
    ranked = list(results)
    profiles = {profile.pk: profile for profile in TalentProfile.objects.filter(
        pk__in=[searching.number_of(r.id) for r in ranked]).select_related("person")}
    allowed = consenting_organization_ids(list(profiles.values()))
    applicants: set[int] = set()
    if posting is not None:
        applicants = set(Application.objects.filter(
            posting=posting, status__in=ACTIVE_APPLICATION).values_list("person_id", flat=True))
    found = []
    for result in ranked:
        profile = profiles.get(searching.number_of(result.id))
        if profile is None or profile.person_id == getattr(viewer, "pk", None):
            continue
        organizations = allowed.get(profile.pk)
        if organizations is not None and organization.pk not in organizations:
            continue
        found.append(CandidateResult(profile, result, snapshot.evidence_links.get(result.id, {}),
                                     profile.person_id in applicants))
        if len(found) == limit:
            break
    return found


def _search_depth(snapshot: Snapshot) -> int:
    """Ask for every indexed candidate: consent filters after ranking."""
    return max(1, min(len(snapshot.index.candidate_columns), 1_000))


def search_candidates_for_posting(viewer: Viewer, posting: Posting,
                                  limit: int = 20) -> list[CandidateResult]:
    """The best candidates for a posting that share their profile with its company."""
    if not may_recruit_for(viewer, posting.organization):
        raise AccessDenied(_("Only the recruiters and administrators of %(organization)s "
                             "search candidates for this posting.")
                           % {"organization": posting.organization.name})
    snapshot = searching.current()
    count = _search_depth(snapshot)
    if not len(snapshot.index.candidate_columns):
        return []
    results = snapshot.index.search_candidates(searching.search_posting(posting), k=count,
                                               depth=max(count, 1))
    return _candidate_results(viewer, posting.organization, snapshot, results,
                              min(limit, RESULTS_MAX), posting=posting)


def search_candidates_by_text(viewer: Viewer, organization: Organization, text: str,
                              limit: int = 20) -> list[CandidateResult]:
    """A recruiter's free search, in Korean or English."""
    from oneteam.talent.search import Query

    if not may_recruit_for(viewer, organization):
        raise AccessDenied(_("Only the recruiters and administrators of a member company "
                             "search candidates."))
    text = (text or "").strip()
    if not text:
        raise InputError("q", _("Say what you are looking for."))
    snapshot = searching.current()
    count = _search_depth(snapshot)
    if not len(snapshot.index.candidate_columns):
        return []
    results = snapshot.index.search_candidates(Query(text[:500]), k=count, depth=count)
    return _candidate_results(viewer, organization, snapshot, results, min(limit, RESULTS_MAX))


def _posting_results(results: Iterable[SearchResult], person: Person | None,
                     limit: int) -> list[PostingResult]:
    ranked = list(results)
    postings = {posting.pk: posting for posting in Posting.objects.filter(
        open_postings_q(), pk__in=[searching.number_of(r.id) for r in ranked])
        .select_related("organization")}
    applications: dict[int, Application] = {}
    if person is not None:
        applications = {a.posting_id: a for a in Application.objects.filter(
            person=person, posting_id__in=postings)}
    found = []
    for result in ranked:
        posting = postings.get(searching.number_of(result.id))
        if posting is None:
            continue
        found.append(PostingResult(posting, result, applications.get(posting.pk)))
        if len(found) == limit:
            break
    return found


def recommended_postings(viewer: Viewer, limit: int = 10) -> list[PostingResult]:
    """The best open postings for the viewer, from all their evidence (their own view:
    what they hide from recruiters still counts for them)."""
    person = _person(viewer)
    snapshot = searching.current()
    postings = len(snapshot.index.posting_columns)
    if not postings:
        return []
    profile = profile_of(person)
    items = evidence_module.collect(person, profile)
    query = searching.own_candidate(person, profile, items)
    if not query.evidence and not query.text:
        return []
    k = min(postings, 1_000)
    results = snapshot.index.search_postings(query, k=k, depth=k)
    return _posting_results(results, person, min(limit, RESULTS_MAX))


def search_postings_by_text(viewer: Viewer, text: str, limit: int = 20) -> list[PostingResult]:
    """Anyone's free search of open postings, in Korean or English."""
    from oneteam.talent.search import Query

    text = (text or "").strip()
    if not text:
        raise InputError("q", _("Say what you are looking for."))
    snapshot = searching.current()
    postings = len(snapshot.index.posting_columns)
    if not postings:
        return []
    k = min(postings, 1_000)
    results = snapshot.index.search_postings(Query(text[:500]), k=k, depth=k)
    return _posting_results(results, viewer if signed_in(viewer) else None,  # type: ignore[arg-type]
                            min(limit, RESULTS_MAX))


# --------------------------------------------------------------------------- job fairs


def is_fair_organizer(viewer: Viewer, fair: JobFair) -> bool:
    person = _signed_in(viewer)
    return person is not None and (person.is_operator or (
        Membership.objects.filter(person=person, organization_id=fair.organization_id,
                                  role__in=FAIR_ORGANIZER_ROLES).exists()))


def fair_organizing_organizations(viewer: Viewer) -> QuerySet[Organization]:
    person = _signed_in(viewer)
    if person is None:
        return Organization.objects.none()
    if person.is_operator:
        return Organization.objects.all()
    return Organization.objects.filter(memberships__person=person,
                                       memberships__role__in=FAIR_ORGANIZER_ROLES).distinct()


def access_fairs(viewer: Viewer) -> QuerySet[JobFair]:
    _person(viewer)
    return JobFair.objects.select_related("organization", "cohort")


def access_fair_by_id(viewer: Viewer, fair_id: int) -> JobFair:
    _person(viewer)
    fair = JobFair.objects.select_related("organization", "cohort").filter(pk=fair_id).first()
    if fair is None:
        raise NotFound(_("There is no such job fair."))
    return fair


def access_managed_fair_by_id(viewer: Viewer, fair_id: int) -> JobFair:
    fair = access_fair_by_id(viewer, fair_id)
    if not is_fair_organizer(viewer, fair):
        raise AccessDenied(_("Only the organizers of this job fair manage it."))
    return fair


def fair_positions(fair: JobFair) -> list[FairPosition]:
    return list(fair.positions.select_related("posting", "posting__organization")
                .order_by("posting__organization__name_en", "posting__title"))


def positions_ranked_by(viewer: Viewer, fair: JobFair) -> list[FairPosition]:
    """The fair's positions whose company the viewer recruits for."""
    organizations = set(recruiting_organizations(viewer).values_list("pk", flat=True))
    return [position for position in fair_positions(fair)
            if position.posting.organization_id in organizations]


def access_fair_position_by_id(viewer: Viewer, fair: JobFair, position_id: int
                               ) -> FairPosition:
    position = (FairPosition.objects.select_related("posting", "posting__organization")
                .filter(fair=fair, pk=position_id).first())
    if position is None:
        raise NotFound(_("This job fair has no such position."))
    if not (may_recruit_for(viewer, position.posting.organization)
            or is_fair_organizer(viewer, fair)):
        raise AccessDenied(_("Only the recruiters of %(organization)s rank for this "
                             "position.") % {"organization": position.posting.organization.name})
    return position


def fair_participant(viewer: Viewer, fair: JobFair) -> FairParticipant | None:
    person = _signed_in(viewer)
    if person is None:
        return None
    return FairParticipant.objects.filter(fair=fair, person=person).first()


def fair_participants(fair: JobFair) -> list[FairParticipant]:
    return list(fair.participants.select_related("person", "matched_position__posting")
                .order_by("joined", "id"))


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class CohortOutcome:
    cohort: Cohort
    learners: int
    placed: int
    window_ends: datetime.date
    by_company: list[tuple[str, int]]
    by_role: list[tuple[str, int]]

    @property
    def percent(self) -> int:
        return self.placed * 100 // self.learners if self.learners else 0

    @property
    def finished(self) -> bool:
        """The six months after the cohort's end are over: the figure is final."""
        return self.window_ends < timezone.localdate()


@dataclass(frozen=True, slots=True)
class ProgramOutcomes:
    program: Program
    cohorts: list[CohortOutcome]
    learners: int
    placed: int
    by_company: list[tuple[str, int]]
    by_role: list[tuple[str, int]]

    @property
    def percent(self) -> int:
        return self.placed * 100 // self.learners if self.learners else 0


def _counted(values: Iterable[str]) -> list[tuple[str, int]]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def outcome_window(cohort: Cohort) -> tuple[datetime.date, datetime.date]:
    """Placements that count for a cohort start from its first day to six months after
    its last."""
    return cohort.starts_on, cohort.ends_on + datetime.timedelta(days=OUTCOME_WINDOW_DAYS)


def cohort_outcomes(cohorts: Sequence[Cohort]) -> list[CohortOutcome]:
    """Per cohort: its learners (seated: learning or completed), how many were employed or
    placed within six months of its end, by company and by role (each learner once: their
    first placement in the window)."""
    learners: dict[int, list[int]] = defaultdict(list)
    for cohort_id, person_id in Enrollment.objects.filter(
            cohort__in=cohorts, status__in=SEATED, person__isnull=False).values_list(
            "cohort_id", "person_id"):
        learners[cohort_id].append(person_id)
    people = {person for persons in learners.values() for person in persons}
    placements: dict[int, list[Placement]] = defaultdict(list)
    for placement in Placement.objects.filter(person_id__in=people).select_related(
            "organization").order_by("started_on", "id"):
        placements[placement.person_id].append(placement)
    outcomes = []
    for cohort in cohorts:
        start, end = outcome_window(cohort)
        firsts = []
        for person_id in learners[cohort.pk]:
            first = next((p for p in placements[person_id] if start <= p.started_on <= end),
                         None)
            if first is not None:
                firsts.append(first)
        outcomes.append(CohortOutcome(
            cohort=cohort, learners=len(learners[cohort.pk]), placed=len(firsts),
            window_ends=end,
            by_company=_counted(p.organization.name if p.organization else p.employer
                                for p in firsts),
            by_role=_counted(p.role for p in firsts)))
    return outcomes


def may_see_program_outcomes(viewer: Viewer, program: Program) -> bool:
    person = _signed_in(viewer)
    return person is not None and (person.is_operator or (
        Membership.objects.filter(person=person, organization_id=program.owner_id,
                                  role__in=(Role.ADMIN, Role.INSTRUCTOR)).exists()))


def outcome_programs(viewer: Viewer) -> list[Program]:
    """Programs whose outcomes the viewer may see (whole, or some of their cohorts)."""
    person = _signed_in(viewer)
    if person is None:
        return []
    programs = Program.objects.select_related("owner").order_by("slug")
    if person.is_operator:
        return list(programs)
    owned = Q(owner__memberships__person=person,
              owner__memberships__role__in=(Role.ADMIN, Role.INSTRUCTOR))
    managed = Q(cohorts__instructors=person) | Q(
        cohorts__organization__memberships__person=person,
        cohorts__organization__memberships__role=Role.ADMIN)
    return list(programs.filter(owned | managed).distinct())


def access_program_outcomes_by_slug(viewer: Viewer, slug: str) -> ProgramOutcomes:
    person = _person(viewer)
    program = academy_queries.access_program_by_slug(person, slug)
    cohorts = list(Cohort.objects.filter(program=program).select_related("organization")
                   .order_by("starts_on", "id"))
    if not may_see_program_outcomes(person, program):
        managed = academy_queries.managed_cohort_ids(person, cohorts)
        cohorts = [cohort for cohort in cohorts if cohort.pk in managed]
        if not cohorts:
            raise AccessDenied(_("Only the staff of %(owner)s and the managers of its cohorts "
                                 "see this program's outcomes.") % {"owner": program.owner.name})
    outcomes = cohort_outcomes(cohorts)
    learners = sum(o.learners for o in outcomes)
    placed = sum(o.placed for o in outcomes)
    company: dict[str, int] = defaultdict(int)
    role: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        for name, count in outcome.by_company:
            company[name] += count
        for name, count in outcome.by_role:
            role[name] += count
    return ProgramOutcomes(
        program=program, cohorts=outcomes, learners=learners, placed=placed,
        by_company=sorted(company.items(), key=lambda item: (-item[1], item[0])),
        by_role=sorted(role.items(), key=lambda item: (-item[1], item[0])))


def may_record_placement_for(viewer: Viewer, person: Person) -> bool:
    """The learner themself, or a manager of a cohort they are (or were) a learner of."""
    actor = _signed_in(viewer)
    if actor is None:
        return False
    if actor.pk == person.pk:
        return True
    cohorts = list(Cohort.objects.filter(enrollments__person=person,
                                         enrollments__status__in=SEATED).distinct())
    return bool(academy_queries.managed_cohort_ids(actor, cohorts))


def access_my_placements(viewer: Viewer) -> QuerySet[Placement]:
    return Placement.objects.filter(person=_person(viewer)).select_related("organization")
