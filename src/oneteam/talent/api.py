"""The talent API, mounted at /api/talent/: everything the talent pages do.

Profiles and their consent, the log of who looked, postings, search in both directions
with explanations, applications and their pipeline, job fairs and their matching,
placements and outcomes. Errors are JSON ``{"message", "field"}`` like the rest of the
API. A candidate read through the API is logged for its owner like a page view.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from oneteam.accounts.auth import api_auth
from oneteam.accounts.models import Person
from oneteam.consortium.models import Organization
from oneteam.platform.errors import InputError, NotFound
from oneteam.platform.http import api_person as _person
from oneteam.talent import actions, queries
from oneteam.talent.evidence import SkillEvidence
from oneteam.talent.models import (
    Application,
    FairParticipant,
    FairPosition,
    JobFair,
    Placement,
    Posting,
    ProfileView,
    TalentProfile,
    ViewChannel,
)

router = Router(tags=["talent"], auth=api_auth)


# --------------------------------------------------------------------------- schemas


class SkillLevel(Schema):
    code: str
    level: int


class Requirement(SkillLevel):
    required: bool = True


class EvidenceOut(Schema):
    kind: str
    level: int
    title_ko: str
    title_en: str
    issuer: str
    url: str
    when: datetime.datetime | None


class SkillOut(Schema):
    code: str
    name_ko: str
    name_en: str
    ncs_code: str | None
    level: int
    strength: float
    verified: bool
    evidence: list[EvidenceOut]


class ProjectOut(Schema):
    id: int
    title: str
    description: str
    url: str
    skills: list[SkillLevel]


class VisibilityOut(Schema):
    audience: str
    organizations: list[str]
    show_skills: bool
    show_projects: bool
    show_preferences: bool


class PreferencesOut(Schema):
    desired_roles: str
    regions: list[str]
    work_types: list[str]
    posting_kinds: list[str]


class ProfileOut(Schema):
    id: int
    display_name: str
    headline: str
    summary: str
    declared_skills: list[SkillLevel]
    skills: list[SkillOut]
    projects: list[ProjectOut]
    preferences: PreferencesOut
    visibility: VisibilityOut


class ProfileIn(Schema):
    headline: str | None = None
    summary: str | None = None
    desired_roles: str | None = None
    regions: list[str] | None = None
    work_types: list[str] | None = None
    posting_kinds: list[str] | None = None
    declared_skills: list[SkillLevel] | None = None


class VisibilityIn(Schema):
    audience: str
    organizations: list[str] = Field(default_factory=list)
    show_skills: bool = True
    show_projects: bool = True
    show_preferences: bool = True


class ProjectIn(Schema):
    title: str
    description: str = ""
    url: str = ""
    skills: list[SkillLevel] = Field(default_factory=list)


class ViewOut(Schema):
    when: datetime.datetime
    viewer: str
    organization: str | None
    posting: int | None
    posting_title: str | None
    channel: str


class CandidateOut(Schema):
    id: int
    display_name: str
    headline: str
    summary: str
    skills: list[SkillOut] | None
    projects: list[ProjectOut] | None
    preferences: PreferencesOut | None
    organization: str


class PostingOut(Schema):
    id: int
    organization: str
    organization_name: str
    kind: str
    industry: str
    language: str
    title: str
    description: str
    requirements: list[Requirement]
    region: str
    work_type: str
    deadline: datetime.date | None
    status: str
    accepting: bool


class PostingIn(Schema):
    organization: str
    kind: str
    industry: str
    language: str
    title: str
    description: str
    requirements: list[Requirement]
    region: str = ""
    work_type: str = "onsite"
    deadline: datetime.date | None = None
    status: str = "open"


class PostingPatch(Schema):
    kind: str | None = None
    industry: str | None = None
    language: str | None = None
    title: str | None = None
    description: str | None = None
    requirements: list[Requirement] | None = None
    region: str | None = None
    work_type: str | None = None
    deadline: datetime.date | None = None
    status: str | None = None


class PostingResultOut(Schema):
    rank: int
    score: float
    posting: PostingOut
    my_application: str | None
    explanation: dict[str, Any]


class CandidateResultOut(Schema):
    rank: int
    score: float
    id: int
    display_name: str
    headline: str
    applicant: bool
    explanation: dict[str, Any]
    evidence_links: dict[str, str]


class ApplyIn(Schema):
    message: str = ""


class NoteIn(Schema):
    note: str = ""


class EventOut(Schema):
    from_status: str
    to_status: str
    by: str | None
    note: str
    when: datetime.datetime


class ApplicationOut(Schema):
    id: int
    posting: int
    posting_title: str
    organization: str
    applicant: str
    profile: int | None
    status: str
    message: str
    created: datetime.datetime
    changed: datetime.datetime
    history: list[EventOut]


class FairIn(Schema):
    organization: str
    name: str
    description: str = ""
    cohort: int | None = None
    rank_by: datetime.date | None = None


class FairPositionIn(Schema):
    posting: int
    capacity: int


class FairPositionOut(Schema):
    id: int
    posting: int
    title: str
    organization: str
    capacity: int
    ranked: bool


class FairOut(Schema):
    id: int
    name: str
    description: str
    organization: str
    status: str
    rank_by: datetime.date | None
    positions: list[FairPositionOut]
    participants: int
    joined: bool
    organizer: bool
    statistics: dict[str, Any]


class PositionsRankingIn(Schema):
    positions: list[int]


class PeopleRankingIn(Schema):
    people: list[int]


class FairResultOut(Schema):
    fair: int
    status: str
    my_match: FairPositionOut | None
    my_explanation: dict[str, Any] | None
    positions: dict[str, dict[str, Any]]


class PlacementIn(Schema):
    person: int | None = None
    employer: str = ""
    organization: str | None = None
    role: str
    kind: str = "job"
    started_on: datetime.date


class PlacementOut(Schema):
    id: int
    person: int
    employer: str
    organization: str | None
    role: str
    kind: str
    started_on: datetime.date
    source: str


class CountOut(Schema):
    name: str
    count: int


class CohortOutcomeOut(Schema):
    cohort: int
    name: str
    ends_on: datetime.date
    window_ends: datetime.date
    final: bool
    learners: int
    placed: int
    percent: int
    by_company: list[CountOut]
    by_role: list[CountOut]


class OutcomesOut(Schema):
    program: str
    learners: int
    placed: int
    percent: int
    by_company: list[CountOut]
    by_role: list[CountOut]
    cohorts: list[CohortOutcomeOut]


class Done(Schema):
    message: str


# --------------------------------------------------------------------------- helpers




def _skills_out(skills: list[SkillEvidence]) -> list[SkillOut]:
    return [SkillOut(code=s.code, name_ko=s.name_ko, name_en=s.name_en, ncs_code=s.ncs_code,
                     level=s.level, strength=s.strength, verified=s.verified,
                     evidence=[EvidenceOut(kind=i.kind, level=i.level, title_ko=i.title_ko,
                                           title_en=i.title_en, issuer=i.issuer, url=i.url,
                                           when=i.when) for i in s.items])
            for s in skills]


def _projects_out(profile_projects: Any) -> list[ProjectOut]:
    return [ProjectOut(id=p.pk, title=p.title, description=p.description, url=p.url,
                       skills=[SkillLevel(**s) for s in p.skills]) for p in profile_projects]


def _preferences_out(profile: TalentProfile) -> PreferencesOut:
    return PreferencesOut(desired_roles=profile.desired_roles, regions=profile.regions,
                          work_types=profile.work_types, posting_kinds=profile.posting_kinds)


def _profile_out(person: Person) -> ProfileOut:
    profile = actions.do_open_profile(person)
    view = queries.candidate_view(queries.profile_of(person) or profile, None)
    profile = view.profile
    return ProfileOut(
        id=profile.pk, display_name=person.display_name, headline=profile.headline,
        summary=profile.summary,
        declared_skills=[SkillLevel(**s) for s in profile.declared_skills],
        skills=_skills_out(view.skills), projects=_projects_out(view.projects),
        preferences=_preferences_out(profile),
        visibility=VisibilityOut(
            audience=profile.audience,
            organizations=sorted(o.slug for o in profile.chosen_organizations.all()),
            show_skills=profile.show_skills, show_projects=profile.show_projects,
            show_preferences=profile.show_preferences))


def _posting_out(posting: Posting) -> PostingOut:
    return PostingOut(
        id=posting.pk, organization=posting.organization.slug,
        organization_name=posting.organization.name, kind=posting.kind,
        industry=posting.industry, language=posting.language, title=posting.title,
        description=posting.description,
        requirements=[Requirement(**r) for r in posting.requirements], region=posting.region,
        work_type=posting.work_type, deadline=posting.deadline, status=posting.status,
        accepting=posting.is_accepting)


def _application_out(application: Application) -> ApplicationOut:
    profile = TalentProfile.objects.filter(person_id=application.person_id).first()
    return ApplicationOut(
        id=application.pk, posting=application.posting_id,
        posting_title=application.posting.title,
        organization=application.posting.organization.slug,
        applicant=application.person.display_name, profile=profile.pk if profile else None,
        status=application.status, message=application.message, created=application.created,
        changed=application.changed,
        history=[EventOut(from_status=e.from_status, to_status=e.to_status,
                          by=e.actor.display_name if e.actor else None, note=e.note,
                          when=e.created)
                 for e in application.events.select_related("actor")])


def _organization(field: str, slug: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise InputError(field, _("There is no member organization “%(slug)s”.")
                         % {"slug": slug})
    return organization


def _position_out(position: FairPosition) -> FairPositionOut:
    return FairPositionOut(id=position.pk, posting=position.posting_id,
                           title=position.posting.title,
                           organization=position.posting.organization.slug,
                           capacity=position.capacity, ranked=position.ranked is not None)


def _fair_out(viewer: Person, fair: JobFair) -> FairOut:
    return FairOut(
        id=fair.pk, name=fair.name, description=fair.description,
        organization=fair.organization.slug, status=fair.status, rank_by=fair.rank_by,
        positions=[_position_out(p) for p in queries.fair_positions(fair)],
        participants=fair.participants.count(),
        joined=queries.fair_participant(viewer, fair) is not None,
        organizer=queries.is_fair_organizer(viewer, fair), statistics=fair.statistics)


def _placement_out(placement: Placement) -> PlacementOut:
    return PlacementOut(id=placement.pk, person=placement.person_id,
                        employer=placement.employer,
                        organization=placement.organization.slug if placement.organization
                        else None, role=placement.role, kind=placement.kind,
                        started_on=placement.started_on, source=placement.source)


def _counts(rows: list[tuple[str, int]]) -> list[CountOut]:
    return [CountOut(name=name, count=count) for name, count in rows]


# --------------------------------------------------------------------------- my profile


@router.get("/me/profile", response=ProfileOut,
            summary="My profile: everything, with each skill's evidence")
def get_my_profile(request: HttpRequest) -> ProfileOut:
    return _profile_out(_person(request))


@router.patch("/me/profile", response=ProfileOut, summary="Change what I say about myself")
def update_my_profile(request: HttpRequest, payload: ProfileIn) -> ProfileOut:
    person = _person(request)
    data = payload.model_dump(exclude_unset=True)
    actions.do_update_profile(person, **data)
    return _profile_out(person)


@router.put("/me/profile/visibility", response=ProfileOut,
            summary="Who may see my profile, and which parts")
def set_my_visibility(request: HttpRequest, payload: VisibilityIn) -> ProfileOut:
    person = _person(request)
    actions.do_set_profile_visibility(person, **payload.model_dump())
    return _profile_out(person)


@router.post("/me/projects", response={201: ProjectOut}, summary="Add a project")
def add_project(request: HttpRequest, payload: ProjectIn) -> Status[ProjectOut]:
    project = actions.do_add_project(_person(request), **payload.model_dump())
    return Status(201, _projects_out([project])[0])


@router.delete("/me/projects/{int:project_id}", response=Done, summary="Remove a project")
def delete_project(request: HttpRequest, project_id: int) -> Done:
    actions.do_delete_project(_person(request), project_id=project_id)
    return Done(message=_("Removed."))


@router.get("/me/profile/views", response=list[ViewOut],
            summary="Who looked at my profile: recruiter, company, posting, when")
def my_profile_views(request: HttpRequest) -> list[ViewOut]:
    views: list[ProfileView] = queries.access_views_of_my_profile(_person(request))
    return [ViewOut(when=v.created, viewer=v.viewer_name,
                    organization=v.organization.slug if v.organization else None,
                    posting=v.posting_id, posting_title=v.posting.title if v.posting else None,
                    channel=v.channel) for v in views]


@router.get("/me/recommendations", response=list[PostingResultOut],
            summary="The best open postings for me, and why")
def my_recommendations(request: HttpRequest, limit: int = 10) -> list[PostingResultOut]:
    return [PostingResultOut(rank=found.result.rank, score=found.result.score,
                             posting=_posting_out(found.posting),
                             my_application=found.application.status if found.application
                             else None, explanation=found.result.explanation.to_dict())
            for found in queries.recommended_postings(_person(request), limit)]


# --------------------------------------------------------------------------- candidates


@router.get("/candidates/{int:profile_id}", response=CandidateOut,
            summary="A candidate's profile (with their consent; the look is logged)")
def get_candidate(request: HttpRequest, profile_id: int,
                  posting: int | None = None) -> CandidateOut:
    viewer = _person(request)
    found = queries.access_posting_by_id(viewer, posting) if posting is not None else None
    view = actions.do_view_candidate(viewer, profile_id=profile_id, posting=found,
                                     channel=ViewChannel.API)
    profile = view.profile
    return CandidateOut(
        id=profile.pk, display_name=profile.person.display_name, headline=profile.headline,
        summary=profile.summary,
        skills=_skills_out(view.skills) if profile.show_skills else None,
        projects=_projects_out(view.projects) if profile.show_projects else None,
        preferences=_preferences_out(profile) if view.show_preferences else None,
        organization=view.organization.slug if view.organization else "")


def _candidate_results_out(results: list[queries.CandidateResult]) -> list[CandidateResultOut]:
    return [CandidateResultOut(
        rank=i + 1, score=found.result.score, id=found.profile.pk,
        display_name=found.profile.person.display_name, headline=found.profile.headline,
        applicant=found.is_applicant, explanation=found.result.explanation.to_dict(),
        evidence_links=found.evidence_links) for i, found in enumerate(results)]


@router.get("/candidates", response=list[CandidateResultOut],
            summary="Search candidates who share their profile with my company")
def search_candidates(request: HttpRequest, organization: str, q: str,
                      limit: int = 20) -> list[CandidateResultOut]:
    viewer = _person(request)
    company = queries.access_recruiting_organization_by_slug(viewer, organization)
    results = queries.search_candidates_by_text(viewer, company, q, limit)
    actions.do_log_search_views(viewer, company, results)
    return _candidate_results_out(results)


# --------------------------------------------------------------------------- postings


@router.get("/postings", response=list[PostingOut],
            summary="Open postings (q: search in Korean or English, best first)")
def list_postings(request: HttpRequest, kind: str = "", industry: str = "",
                  organization: str = "", q: str = "") -> list[PostingOut]:
    viewer = _person(request)
    if q:
        return [_posting_out(found.posting)
                for found in queries.search_postings_by_text(viewer, q)]
    return [_posting_out(p) for p in queries.access_postings(
        viewer, kind=kind, industry=industry, organization=organization)[:200]]


@router.get("/postings/managed", response=list[PostingOut],
            summary="Every posting of the companies I recruit for")
def managed_postings(request: HttpRequest) -> list[PostingOut]:
    return [_posting_out(p) for p in queries.access_managed_postings(_person(request))]


@router.post("/postings", response={201: PostingOut}, summary="Post a job, internship or project")
def create_posting(request: HttpRequest, payload: PostingIn) -> Status[PostingOut]:
    viewer = _person(request)
    data = payload.model_dump()
    organization = _organization("organization", data.pop("organization"))
    posting = actions.do_create_posting(actor=viewer, organization=organization, **data)
    return Status(201, _posting_out(posting))


@router.get("/postings/{int:posting_id}", response=PostingOut, summary="A posting")
def get_posting(request: HttpRequest, posting_id: int) -> PostingOut:
    return _posting_out(queries.access_posting_by_id(_person(request), posting_id))


@router.patch("/postings/{int:posting_id}", response=PostingOut, summary="Change a posting")
def update_posting(request: HttpRequest, posting_id: int, payload: PostingPatch) -> PostingOut:
    viewer = _person(request)
    posting = queries.access_managed_posting_by_id(viewer, posting_id)
    return _posting_out(actions.do_update_posting(
        actor=viewer, posting=posting, **payload.model_dump(exclude_unset=True)))


@router.get("/postings/{int:posting_id}/candidates", response=list[CandidateResultOut],
            summary="The best candidates for a posting (who consent), and why")
def posting_candidates(request: HttpRequest, posting_id: int,
                       limit: int = 20) -> list[CandidateResultOut]:
    viewer = _person(request)
    posting = queries.access_managed_posting_by_id(viewer, posting_id)
    results = queries.search_candidates_for_posting(viewer, posting, limit)
    actions.do_log_search_views(viewer, posting.organization, results, posting)
    return _candidate_results_out(results)


@router.post("/postings/{int:posting_id}/applications", response={201: ApplicationOut},
             summary="Apply (shares my profile's shown parts with the company)")
def apply(request: HttpRequest, posting_id: int, payload: ApplyIn) -> Status[ApplicationOut]:
    viewer = _person(request)
    posting = queries.access_posting_by_id(viewer, posting_id)
    application = actions.do_apply(person=viewer, posting=posting, message=payload.message)
    return Status(201, _application_out(queries.access_application_by_id(viewer,
                                                                         application.pk)))


@router.get("/postings/{int:posting_id}/applications", response=list[ApplicationOut],
            summary="A posting's applications (its company's recruiters)")
def posting_applications(request: HttpRequest, posting_id: int) -> list[ApplicationOut]:
    viewer = _person(request)
    posting = queries.access_posting_by_id(viewer, posting_id)
    return [_application_out(a) for a in queries.access_applications_by_posting(viewer, posting)]


@router.get("/me/applications", response=list[ApplicationOut], summary="My applications")
def my_applications(request: HttpRequest) -> list[ApplicationOut]:
    return [_application_out(a) for a in queries.access_my_applications(_person(request))]


@router.get("/applications/{int:application_id}", response=ApplicationOut,
            summary="An application and its history")
def get_application(request: HttpRequest, application_id: int) -> ApplicationOut:
    return _application_out(queries.access_application_by_id(_person(request), application_id))


@router.post("/applications/{int:application_id}/{verb}", response=ApplicationOut,
             summary="shortlist, interview, offer, reject (company); accept, decline, "
                     "withdraw (applicant)")
def move_application(request: HttpRequest, application_id: int, verb: str,
                     payload: NoteIn) -> ApplicationOut:
    viewer = _person(request)
    application = queries.access_application_by_id(viewer, application_id)
    moved = actions.do_move_application(actor=viewer, application=application, verb=verb,
                                        note=payload.note)
    return _application_out(queries.access_application_by_id(viewer, moved.pk))


# --------------------------------------------------------------------------- job fairs


@router.get("/fairs", response=list[FairOut], summary="Job fairs")
def list_fairs(request: HttpRequest) -> list[FairOut]:
    viewer = _person(request)
    return [_fair_out(viewer, fair) for fair in queries.access_fairs(viewer)[:100]]


@router.post("/fairs", response={201: FairOut}, summary="Organize a job fair")
def create_fair(request: HttpRequest, payload: FairIn) -> Status[FairOut]:
    from oneteam.academy.models import Cohort

    viewer = _person(request)
    organization = _organization("organization", payload.organization)
    cohort = None
    if payload.cohort is not None:
        cohort = Cohort.objects.filter(pk=payload.cohort, organization=organization).first()
        if cohort is None:
            raise InputError("cohort", _("%(organization)s runs no such cohort.")
                             % {"organization": organization.name})
    fair = actions.do_create_fair(actor=viewer, organization=organization, name=payload.name,
                                  description=payload.description, cohort=cohort,
                                  rank_by=payload.rank_by)
    return Status(201, _fair_out(viewer, fair))


@router.get("/fairs/{int:fair_id}", response=FairOut, summary="A job fair")
def get_fair(request: HttpRequest, fair_id: int) -> FairOut:
    viewer = _person(request)
    return _fair_out(viewer, queries.access_fair_by_id(viewer, fair_id))


@router.post("/fairs/{int:fair_id}/positions", response={201: FairPositionOut},
             summary="Add a posting to the fair, with its places")
def add_fair_position(request: HttpRequest, fair_id: int,
                      payload: FairPositionIn) -> Status[FairPositionOut]:
    viewer = _person(request)
    fair = queries.access_fair_by_id(viewer, fair_id)
    try:
        posting = queries.access_posting_by_id(viewer, payload.posting)
    except NotFound as error:
        raise InputError("posting", error.message) from None
    position = actions.do_add_fair_position(actor=viewer, fair=fair, posting=posting,
                                            capacity=payload.capacity)
    return Status(201, _position_out(position))


@router.post("/fairs/{int:fair_id}/join", response=FairOut,
             summary="Join (shares my profile's shown parts with the fair's companies)")
def join_fair(request: HttpRequest, fair_id: int) -> FairOut:
    viewer = _person(request)
    fair = queries.access_fair_by_id(viewer, fair_id)
    actions.do_join_fair(person=viewer, fair=fair)
    return _fair_out(viewer, fair)


@router.post("/fairs/{int:fair_id}/leave", response=FairOut, summary="Leave a job fair")
def leave_fair(request: HttpRequest, fair_id: int) -> FairOut:
    viewer = _person(request)
    fair = queries.access_fair_by_id(viewer, fair_id)
    actions.do_leave_fair(person=viewer, fair=fair)
    return _fair_out(viewer, fair)


@router.put("/fairs/{int:fair_id}/my-ranking", response=FairOut,
            summary="My ranking of the fair's positions, best first")
def rank_positions(request: HttpRequest, fair_id: int, payload: PositionsRankingIn) -> FairOut:
    viewer = _person(request)
    fair = queries.access_fair_by_id(viewer, fair_id)
    actions.do_rank_positions(person=viewer, fair=fair, position_ids=payload.positions)
    return _fair_out(viewer, fair)


@router.put("/fairs/{int:fair_id}/positions/{int:position_id}/ranking",
            response=FairPositionOut, summary="A position's ranking of the fair's learners")
def rank_people(request: HttpRequest, fair_id: int, position_id: int,
                payload: PeopleRankingIn) -> FairPositionOut:
    viewer = _person(request)
    fair = queries.access_fair_by_id(viewer, fair_id)
    position = queries.access_fair_position_by_id(viewer, fair, position_id)
    return _position_out(actions.do_rank_participants(actor=viewer, position=position,
                                                      person_ids=payload.people))


@router.post("/fairs/{int:fair_id}/run", response=FairOut,
             summary="Run the matching (deferred acceptance, applicants proposing)")
def run_fair(request: HttpRequest, fair_id: int) -> FairOut:
    viewer = _person(request)
    fair = queries.access_managed_fair_by_id(viewer, fair_id)
    return _fair_out(viewer, actions.do_run_fair(actor=viewer, fair=fair))


@router.get("/fairs/{int:fair_id}/result", response=FairResultOut,
            summary="My result, and my company's positions' results, explained")
def fair_result(request: HttpRequest, fair_id: int) -> FairResultOut:
    viewer = _person(request)
    fair = queries.access_fair_by_id(viewer, fair_id)
    participant: FairParticipant | None = queries.fair_participant(viewer, fair)
    positions = (queries.fair_positions(fair) if queries.is_fair_organizer(viewer, fair)
                 else queries.positions_ranked_by(viewer, fair))
    match = participant.matched_position if participant else None
    return FairResultOut(
        fair=fair.pk, status=fair.status,
        my_match=_position_out(match) if match is not None else None,
        my_explanation=participant.explanation if participant and participant.explanation
        else None,
        positions={str(p.pk): p.explanation for p in positions if p.explanation})


# --------------------------------------------------------------------------- outcomes


@router.get("/me/placements", response=list[PlacementOut], summary="Where I work")
def my_placements(request: HttpRequest) -> list[PlacementOut]:
    return [_placement_out(p) for p in queries.access_my_placements(_person(request))]


@router.post("/placements", response={201: PlacementOut},
             summary="Record employment (mine, or a learner of a cohort I manage)")
def record_placement(request: HttpRequest, payload: PlacementIn) -> Status[PlacementOut]:
    viewer = _person(request)
    person = viewer if payload.person is None else get_object_or_404(Person, pk=payload.person)
    organization = (_organization("organization", payload.organization)
                    if payload.organization else None)
    placement = actions.do_record_placement(
        actor=viewer, person=person, employer=payload.employer, role=payload.role,
        kind=payload.kind, started_on=payload.started_on, organization=organization)
    return Status(201, _placement_out(placement))


@router.get("/outcomes/programs/{slug}", response=OutcomesOut,
            summary="Share employed or placed within six months, per cohort")
def program_outcomes(request: HttpRequest, slug: str) -> OutcomesOut:
    outcomes = queries.access_program_outcomes_by_slug(_person(request), slug)
    return OutcomesOut(
        program=outcomes.program.slug, learners=outcomes.learners, placed=outcomes.placed,
        percent=outcomes.percent, by_company=_counts(outcomes.by_company),
        by_role=_counts(outcomes.by_role),
        cohorts=[CohortOutcomeOut(
            cohort=o.cohort.pk, name=o.cohort.name, ends_on=o.cohort.ends_on,
            window_ends=o.window_ends, final=o.finished, learners=o.learners, placed=o.placed,
            percent=o.percent, by_company=_counts(o.by_company), by_role=_counts(o.by_role))
            for o in outcomes.cohorts])
