"""Every write of the talent platform: ``do_<verb>_<noun>``, one transaction each.

Input is checked before anything is written; bad input raises
:class:`~oneteam.platform.errors.InputError` naming the field, a person who may not do
something gets :class:`~oneteam.platform.errors.AccessDenied`. ``actor=None`` means the
system itself (demo data).

An application moves so (``TRANSITIONS``; anything else is refused)::

    applied ──shortlist──▶ shortlisted ──interview──▶ interview ──offer──▶ offered
    offered ──accept──▶ accepted (a placement)      offered ──decline──▶ declined
    applied, shortlisted, interview ──reject──▶ rejected            (the company)
    applied, shortlisted, interview, offered ──withdraw──▶ withdrawn  (the applicant)
    withdrawn ──apply again──▶ applied

Every step is kept (``ApplicationEvent``).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.academy.models import Cohort
from oneteam.accounts.models import Person
from oneteam.consortium.models import Organization
from oneteam.platform.errors import AccessDenied, InputError
from oneteam.talent import queries
from oneteam.talent.errors import TalentInputError
from oneteam.talent.matching import MatchingInstance, deferred_acceptance
from oneteam.talent.models import (
    DESCRIPTION_LENGTH_MAX,
    HEADLINE_LENGTH_MAX,
    NOTE_LENGTH_MAX,
    REGION_LENGTH_MAX,
    ROLE_LENGTH_MAX,
    SUMMARY_LENGTH_MAX,
    TITLE_LENGTH_MAX,
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Audience,
    FairParticipant,
    FairPosition,
    FairStatus,
    Industry,
    JobFair,
    Language,
    Placement,
    PlacementSource,
    Posting,
    PostingKind,
    PostingStatus,
    ProfileView,
    Project,
    TalentProfile,
    ViewChannel,
    WorkType,
)
from oneteam.talent.taxonomy import default_taxonomy

REGIONS_MAX = 10
CHOSEN_ORGANIZATIONS_MAX = 100
PROJECTS_MAX = 50
SKILLS_PER_ITEM_MAX = 30
REQUIREMENTS_MAX = 30
CAPACITY_MAX = 1_000
POSITIONS_PER_FAIR_MAX = 500
DEADLINE_DAYS_MAX = 2 * 366

S = ApplicationStatus


@dataclass(frozen=True, slots=True)
class Transition:
    sources: tuple[str, ...]
    target: str
    by: str  # "company" or "applicant"


TRANSITIONS: dict[str, Transition] = {
    "shortlist": Transition((S.APPLIED,), S.SHORTLISTED, "company"),
    "interview": Transition((S.SHORTLISTED,), S.INTERVIEW, "company"),
    "offer": Transition((S.INTERVIEW,), S.OFFERED, "company"),
    "reject": Transition((S.APPLIED, S.SHORTLISTED, S.INTERVIEW), S.REJECTED, "company"),
    "accept": Transition((S.OFFERED,), S.ACCEPTED, "applicant"),
    "decline": Transition((S.OFFERED,), S.DECLINED, "applicant"),
    "withdraw": Transition((S.APPLIED, S.SHORTLISTED, S.INTERVIEW, S.OFFERED), S.WITHDRAWN,
                           "applicant"),
}


# --------------------------------------------------------------------------- checking input


def _text(value: Any, field: str, *, length_max: int, required: bool = False,
          missing: str = "", one_line: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InputError(field, _("Must be text."))
    text: str = " ".join(value.split()) if one_line else value.strip()
    if required and not text:
        raise InputError(field, missing or _("This is required."))
    if len(text) > length_max:
        raise InputError(field, _("At most %(count)d characters.") % {"count": length_max})
    return text


def _choice(value: Any, field: str, choices: Iterable[str]) -> str:
    allowed = list(choices)
    if value not in allowed:
        raise InputError(field, _("Choose one of: %(values)s.") % {"values": ", ".join(allowed)})
    return str(value)  # one of the allowed strings


def _choices(values: Any, field: str, choices: Iterable[str]) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise InputError(field, _("Must be a list."))
    allowed = list(choices)
    picked = []
    for i, value in enumerate(values):
        _choice(value, f"{field}[{i}]", allowed)
        if value not in picked:
            picked.append(value)
    return picked


def _skills(value: Any, field: str, *, with_required: bool = False,
            items_max: int = SKILLS_PER_ITEM_MAX) -> list[dict[str, Any]]:
    try:
        return default_taxonomy().skill_levels(value if value is not None else [],
                                               field=field, with_required=with_required,
                                               items_max=items_max)
    except TalentInputError as error:
        raise InputError(error.field, error.message) from None


def _url(value: Any, field: str) -> str:
    url = _text(value, field, length_max=500)
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise InputError(field, _("Enter a web address starting with https:// or "
                                      "http://.")) from None
    return url


def _regions(values: Any, field: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [part for part in re.split(r"[,\n]", values)]
    if not isinstance(values, list | tuple):
        raise InputError(field, _("Must be a list."))
    regions: list[str] = []
    for i, value in enumerate(values):
        region = _text(value, f"{field}[{i}]", length_max=REGION_LENGTH_MAX)
        if region and region not in regions:
            regions.append(region)
    if len(regions) > REGIONS_MAX:
        raise InputError(field, _("At most %(count)d regions.") % {"count": REGIONS_MAX})
    return regions


def _date(value: Any, field: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(field, _("Enter a date as YYYY-MM-DD.")) from None


# --------------------------------------------------------------------------- profiles


def do_open_profile(person: Person, *, is_demo: bool = False) -> TalentProfile:
    """The person's profile, made (private: audience nobody) if they have none."""
    with transaction.atomic(durable=True):
        profile, _created = TalentProfile.objects.get_or_create(
            person=person, defaults={"is_demo": is_demo})
    return profile


def do_update_profile(person: Person, *, headline: Any = None, summary: Any = None,
                      desired_roles: Any = None, regions: Any = None, work_types: Any = None,
                      posting_kinds: Any = None, declared_skills: Any = None) -> TalentProfile:
    """Change what the learner says about themselves; ``None`` leaves a field as it is."""
    changes: dict[str, Any] = {}
    if headline is not None:
        changes["headline"] = _text(headline, "headline", length_max=HEADLINE_LENGTH_MAX)
    if summary is not None:
        changes["summary"] = _text(summary, "summary", length_max=SUMMARY_LENGTH_MAX,
                                   one_line=False)
    if desired_roles is not None:
        changes["desired_roles"] = _text(desired_roles, "desired_roles",
                                         length_max=ROLE_LENGTH_MAX)
    if regions is not None:
        changes["regions"] = _regions(regions, "regions")
    if work_types is not None:
        changes["work_types"] = _choices(work_types, "work_types", WorkType.values)
    if posting_kinds is not None:
        changes["posting_kinds"] = _choices(posting_kinds, "posting_kinds", PostingKind.values)
    if declared_skills is not None:
        changes["declared_skills"] = _skills(declared_skills, "declared_skills")
    profile = do_open_profile(person)
    with transaction.atomic(durable=True):
        profile = TalentProfile.objects.select_for_update().get(pk=profile.pk)
        for name, value in changes.items():
            setattr(profile, name, value)
        profile.updated = timezone.now()
        profile.save()
    return profile


def do_set_profile_visibility(person: Person, *, audience: Any,
                              organizations: Sequence[str] = (), show_skills: bool = True,
                              show_projects: bool = True,
                              show_preferences: bool = True) -> TalentProfile:
    """Who may see the profile (nobody, chosen member companies, every member company)
    and which parts."""
    audience = _choice(audience, "audience", Audience.values)
    if isinstance(organizations, str) or not isinstance(organizations, list | tuple):
        raise InputError("organizations", _("Must be a list."))
    if len(organizations) > CHOSEN_ORGANIZATIONS_MAX:
        raise InputError("organizations", _("At most %(count)d companies.")
                         % {"count": CHOSEN_ORGANIZATIONS_MAX})
    chosen = []
    for i, slug in enumerate(organizations):
        organization = Organization.objects.filter(slug=slug).first() if isinstance(
            slug, str) else None
        if organization is None:
            raise InputError(f"organizations[{i}]", _("There is no member organization "
                                                      "“%(slug)s”.") % {"slug": slug})
        if organization.kind not in queries.COMPANY_KINDS:
            raise InputError(f"organizations[{i}]", _("%(name)s is not a company: only "
                                                      "companies recruit.")
                             % {"name": organization.name})
        chosen.append(organization)
    if audience == Audience.CHOSEN and not chosen:
        raise InputError("organizations", _("Choose at least one company, or another "
                                            "audience."))
    for name, value in (("show_skills", show_skills), ("show_projects", show_projects),
                        ("show_preferences", show_preferences)):
        if not isinstance(value, bool):
            raise InputError(name, _("Must be true or false."))
    profile = do_open_profile(person)
    with transaction.atomic(durable=True):
        profile = TalentProfile.objects.select_for_update().get(pk=profile.pk)
        profile.audience = audience
        profile.show_skills = show_skills
        profile.show_projects = show_projects
        profile.show_preferences = show_preferences
        profile.updated = timezone.now()
        profile.save()
        profile.chosen_organizations.set(chosen if audience == Audience.CHOSEN else [])
    return profile


def do_add_project(person: Person, *, title: Any, description: Any = "", url: Any = "",
                   skills: Any = None) -> Project:
    title = _text(title, "title", length_max=TITLE_LENGTH_MAX, required=True,
                  missing=_("Name the project."))
    description = _text(description, "description", length_max=SUMMARY_LENGTH_MAX,
                        one_line=False)
    url = _url(url, "url")
    skills = _skills(skills, "skills")
    profile = do_open_profile(person)
    with transaction.atomic(durable=True):
        profile = TalentProfile.objects.select_for_update().get(pk=profile.pk)
        if profile.projects.count() >= PROJECTS_MAX:
            raise InputError(None, _("At most %(count)d projects.") % {"count": PROJECTS_MAX})
        project = Project.objects.create(profile=profile, title=title,
                                         description=description, url=url, skills=skills)
        profile.updated = timezone.now()
        profile.save(update_fields=["updated"])
    return project


def do_delete_project(person: Person, *, project_id: int) -> None:
    with transaction.atomic(durable=True):
        project = Project.objects.select_related("profile").filter(
            pk=project_id, profile__person=person).first()
        if project is None:
            raise InputError("project", _("You have no such project."))
        profile = project.profile
        project.delete()
        profile.updated = timezone.now()
        profile.save(update_fields=["updated"])


def do_view_candidate(viewer: Person, *, profile_id: int, posting: Posting | None = None,
                      channel: str = ViewChannel.PROFILE) -> queries.CandidateView:
    """A recruiter opens a candidate's profile: allowed only with consent, always logged."""
    view = queries.access_candidate_by_id(viewer, profile_id, posting)
    with transaction.atomic(durable=True):
        ProfileView.objects.create(
            profile=view.profile, viewer=viewer, viewer_name=viewer.display_name,
            organization=view.organization, posting=posting, channel=channel)
    return view


def do_log_search_views(viewer: Person, organization: Organization,
                        results: Sequence[queries.CandidateResult],
                        posting: Posting | None = None) -> None:
    """Each profile a recruiter saw in search results is a view, logged for its owner."""
    if not results:
        return
    now = timezone.now()
    with transaction.atomic(durable=True):
        ProfileView.objects.bulk_create([
            ProfileView(profile=found.profile, viewer=viewer, viewer_name=viewer.display_name,
                        organization=organization, posting=posting,
                        channel=ViewChannel.SEARCH, created=now)
            for found in results])


# --------------------------------------------------------------------------- postings


def _posting_fields(*, kind: Any, industry: Any, language: Any, title: Any,
                    description: Any, requirements: Any, region: Any, work_type: Any,
                    deadline: Any) -> dict[str, Any]:
    fields = {
        "kind": _choice(kind, "kind", PostingKind.values),
        "industry": _choice(industry, "industry", Industry.values),
        "language": _choice(language, "language", Language.values),
        "title": _text(title, "title", length_max=TITLE_LENGTH_MAX, required=True,
                       missing=_("Give the posting a title.")),
        "description": _text(description, "description", length_max=DESCRIPTION_LENGTH_MAX,
                             required=True, one_line=False,
                             missing=_("Describe the work or the problem to solve.")),
        "requirements": _skills(requirements, "requirements", with_required=True,
                                items_max=REQUIREMENTS_MAX),
        "region": _text(region, "region", length_max=REGION_LENGTH_MAX),
        "work_type": _choice(work_type, "work_type", WorkType.values),
        "deadline": _date(deadline, "deadline"),
    }
    if not fields["requirements"]:
        raise InputError("requirements", _("Name at least one skill the work needs."))
    return fields


def _check_deadline(deadline: datetime.date | None, status: str) -> None:
    if deadline is None:
        return
    today = timezone.localdate()
    if status == PostingStatus.OPEN and deadline < today:
        raise InputError("deadline", _("The deadline has passed: choose a later day."))
    if deadline > today + datetime.timedelta(days=DEADLINE_DAYS_MAX):
        raise InputError("deadline", _("At most two years ahead."))


def do_create_posting(*, actor: Person | None, organization: Organization, kind: Any,
                      industry: Any, language: Any, title: Any, description: Any,
                      requirements: Any, region: Any = "", work_type: Any = WorkType.ONSITE,
                      deadline: Any = None, status: Any = PostingStatus.OPEN,
                      is_demo: bool = False) -> Posting:
    if actor is not None and not queries.may_recruit_for(actor, organization):
        raise AccessDenied(_("Only the recruiters and administrators of a member company "
                             "post for it."))
    if organization.kind not in queries.COMPANY_KINDS:
        raise InputError("organization", _("Only member companies post jobs, internships "
                                           "and projects."))
    fields = _posting_fields(kind=kind, industry=industry, language=language, title=title,
                             description=description, requirements=requirements,
                             region=region, work_type=work_type, deadline=deadline)
    status = _choice(status, "status", PostingStatus.values)
    _check_deadline(fields["deadline"], status)
    with transaction.atomic(durable=True):
        return Posting.objects.create(organization=organization, created_by=actor,
                                      status=status, is_demo=is_demo, **fields)


def do_update_posting(*, actor: Person, posting: Posting, **changes: Any) -> Posting:
    """Change a posting; the fields not given stay as they are."""
    if not queries.may_recruit_for(actor, posting.organization):
        raise AccessDenied(_("Only the recruiters and administrators of %(organization)s "
                             "change its postings.") % {"organization": posting.organization.name})
    names = ("kind", "industry", "language", "title", "description", "requirements",
             "region", "work_type", "deadline")
    unknown = sorted(set(changes) - {*names, "status"})
    if unknown:
        raise InputError(unknown[0], _("Unknown field."))
    current = {name: getattr(posting, name) for name in names}
    current.update({name: value for name, value in changes.items() if name in names})
    fields = _posting_fields(**current)
    status = _choice(changes.get("status", posting.status), "status", PostingStatus.values)
    if "deadline" in changes or status != posting.status:
        _check_deadline(fields["deadline"], status)
    with transaction.atomic(durable=True):
        posting = Posting.objects.select_for_update().get(pk=posting.pk)
        for name, value in fields.items():
            setattr(posting, name, value)
        posting.status = status
        posting.updated = timezone.now()
        posting.save()
    return Posting.objects.select_related("organization").get(pk=posting.pk)


# --------------------------------------------------------------------------- applications


def _event(application: Application, from_status: str, actor: Person | None,
           note: str = "") -> None:
    ApplicationEvent.objects.create(application=application, from_status=from_status,
                                    to_status=application.status, actor=actor, note=note)


def do_apply(*, person: Person, posting: Posting, message: Any = "") -> Application:
    """Apply to an open posting. Applying shares the profile with the posting's company
    (its shown parts) while the application is active."""
    message = _text(message, "message", length_max=NOTE_LENGTH_MAX, one_line=False)
    if queries.may_recruit_for(person, posting.organization):
        raise InputError(None, _("You recruit for %(organization)s: you cannot apply to its "
                                 "postings.") % {"organization": posting.organization.name})
    do_open_profile(person)
    now = timezone.now()
    with transaction.atomic(durable=True):
        posting = Posting.objects.select_for_update().select_related("organization").get(
            pk=posting.pk)
        if not posting.is_accepting:
            raise InputError(None, _("This posting no longer takes applications."))
        application = Application.objects.select_for_update().filter(
            posting=posting, person=person).first()
        if application is not None and application.status != S.WITHDRAWN:
            raise InputError(None, _("You have applied already (%(status)s).")
                             % {"status": application.get_status_display()})
        from_status = ""
        if application is None:
            application = Application(posting=posting, person=person, created=now)
        else:
            from_status = application.status
        application.status = S.APPLIED
        application.message = message
        application.changed = now
        application.save()
        _event(application, from_status, person, message[:NOTE_LENGTH_MAX])
    return application


def do_move_application(*, actor: Person | None, application: Application, verb: str,
                        note: Any = "") -> Application:
    """One step of the pipeline (``TRANSITIONS``): a company's or the applicant's."""
    transition = TRANSITIONS.get(verb)
    if transition is None:
        raise InputError("action", _("Choose one of: %(values)s.")
                         % {"values": ", ".join(TRANSITIONS)})
    note = _text(note, "note", length_max=NOTE_LENGTH_MAX)
    if actor is not None:
        if transition.by == "company" and not queries.may_recruit_for(
                actor, application.posting.organization):
            raise AccessDenied(_("Only the recruiters of %(organization)s decide on its "
                                 "applications.")
                               % {"organization": application.posting.organization.name})
        if transition.by == "applicant" and actor.pk != application.person_id:
            raise AccessDenied(_("Only the applicant accepts, declines or withdraws."))
    now = timezone.now()
    with transaction.atomic(durable=True):
        application = (Application.objects.select_for_update()
                       .select_related("posting", "posting__organization", "person")
                       .get(pk=application.pk))
        if application.status not in transition.sources:
            raise InputError("action", _("An application that is “%(status)s” cannot be "
                                         "moved this way.")
                             % {"status": application.get_status_display()})
        from_status = application.status
        application.status = transition.target
        application.changed = now
        application.save(update_fields=["status", "changed"])
        _event(application, from_status, actor, note)
        if transition.target == S.ACCEPTED:
            posting = application.posting
            Placement.objects.create(
                person=application.person, organization=posting.organization,
                employer=posting.organization.name_ko, role=posting.title, kind=posting.kind,
                started_on=timezone.localdate(), source=PlacementSource.OFFER,
                application=application, recorded_by=actor)
    return application


# --------------------------------------------------------------------------- job fairs


def do_create_fair(*, actor: Person | None, organization: Organization, name: Any,
                   description: Any = "", cohort: Cohort | None = None,
                   rank_by: Any = None, is_demo: bool = False) -> JobFair:
    if actor is not None and not queries.fair_organizing_organizations(actor).filter(
            pk=organization.pk).exists():
        raise AccessDenied(_("Only the administrators and instructors of %(organization)s "
                             "organize its job fairs.") % {"organization": organization.name})
    name = _text(name, "name", length_max=TITLE_LENGTH_MAX, required=True,
                 missing=_("Name the job fair."))
    description = _text(description, "description", length_max=SUMMARY_LENGTH_MAX,
                        one_line=False)
    rank_by = _date(rank_by, "rank_by")
    with transaction.atomic(durable=True):
        return JobFair.objects.create(organization=organization, name=name,
                                      description=description, cohort=cohort, rank_by=rank_by,
                                      created_by=actor, is_demo=is_demo)


def _open_fair(fair: JobFair) -> JobFair:
    fair = JobFair.objects.select_for_update().get(pk=fair.pk)
    if fair.status != FairStatus.OPEN:
        raise InputError(None, _("This job fair has been matched: it changes no more."))
    return fair


def do_add_fair_position(*, actor: Person | None, fair: JobFair, posting: Posting,
                         capacity: Any) -> FairPosition:
    """A posting joins the fair with its places: by the fair's organizers or the posting's
    company."""
    if actor is not None and not (queries.is_fair_organizer(actor, fair)
                                  or queries.may_recruit_for(actor, posting.organization)):
        raise AccessDenied(_("Only the organizers of the fair and the posting's recruiters "
                             "add it to the fair."))
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not (
            1 <= capacity <= CAPACITY_MAX):
        raise InputError("capacity", _("Places: a whole number from 1 to %(max)d.")
                         % {"max": CAPACITY_MAX})
    if posting.status == PostingStatus.DRAFT:
        raise InputError("posting", _("Open the posting before adding it to a fair."))
    with transaction.atomic(durable=True):
        fair = _open_fair(fair)
        if fair.positions.count() >= POSITIONS_PER_FAIR_MAX:
            raise InputError("posting", _("At most %(count)d positions in a fair.")
                             % {"count": POSITIONS_PER_FAIR_MAX})
        try:
            with transaction.atomic():
                return FairPosition.objects.create(fair=fair, posting=posting,
                                                   capacity=capacity)
        except IntegrityError:
            raise InputError("posting", _("This posting is in the fair already.")) from None


def do_join_fair(*, person: Person, fair: JobFair) -> FairParticipant:
    """A learner joins; their profile's shown parts are visible to the fair's companies."""
    do_open_profile(person)
    with transaction.atomic(durable=True):
        _open_fair(fair)
        participant, _created = FairParticipant.objects.get_or_create(fair=fair, person=person)
        TalentProfile.objects.filter(person=person).update(updated=timezone.now())
    return participant


def do_leave_fair(*, person: Person, fair: JobFair) -> None:
    with transaction.atomic(durable=True):
        fair = _open_fair(fair)
        removed, _count = FairParticipant.objects.filter(fair=fair, person=person).delete()
        if not removed:
            raise InputError(None, _("You are not in this job fair."))
        for position in fair.positions.select_for_update():
            if person.pk in position.ranking:
                position.ranking = [p for p in position.ranking if p != person.pk]
                position.save(update_fields=["ranking"])


def _ranking(values: Any, field: str, allowed: set[int]) -> list[int]:
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise InputError(field, _("Must be a list, best first."))
    ranking: list[int] = []
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            raise InputError(f"{field}[{i}]", _("Not in this job fair: %(value)s.")
                             % {"value": value})
        if value in ranking:
            raise InputError(f"{field}[{i}]", _("Ranked twice: %(value)s.") % {"value": value})
        ranking.append(value)
    return ranking


def do_rank_positions(*, person: Person, fair: JobFair, position_ids: Any) -> FairParticipant:
    """A learner's list of the fair's positions, best first (those left out: not wanted)."""
    with transaction.atomic(durable=True):
        fair = _open_fair(fair)
        participant = FairParticipant.objects.select_for_update().filter(
            fair=fair, person=person).first()
        if participant is None:
            raise InputError(None, _("Join the job fair before ranking its positions."))
        allowed = set(fair.positions.values_list("pk", flat=True))
        participant.ranking = _ranking(position_ids, "positions", allowed)
        participant.ranked = timezone.now()
        participant.save(update_fields=["ranking", "ranked"])
    return participant


def do_rank_participants(*, actor: Person | None, position: FairPosition,
                         person_ids: Any) -> FairPosition:
    """A company's list of the fair's learners for one position, best first."""
    if actor is not None and not queries.may_recruit_for(actor, position.posting.organization):
        raise AccessDenied(_("Only the recruiters of %(organization)s rank for this position.")
                           % {"organization": position.posting.organization.name})
    with transaction.atomic(durable=True):
        fair = _open_fair(position.fair)
        position = FairPosition.objects.select_for_update().get(pk=position.pk)
        allowed = set(fair.participants.values_list("person_id", flat=True))
        position.ranking = _ranking(person_ids, "people", allowed)
        position.ranked = timezone.now()
        position.save(update_fields=["ranking", "ranked"])
    return position


def do_run_fair(*, actor: Person | None, fair: JobFair) -> JobFair:
    """Match the fair: applicant-proposing deferred acceptance over both sides' lists.

    The matching is stable (checked), and each side's result is kept with its
    explanation; every match becomes a placement.
    """
    if actor is not None and not queries.is_fair_organizer(actor, fair):
        raise AccessDenied(_("Only the organizers of this job fair run the matching."))
    with transaction.atomic(durable=True):
        fair = _open_fair(fair)
        positions = list(fair.positions.select_related("posting", "posting__organization")
                         .order_by("id"))
        participants = list(fair.participants.select_related("person").order_by("id"))
        if not positions or not participants:
            raise InputError(None, _("A job fair needs positions and learners to match."))
        position_ids = {position.pk for position in positions}
        person_ids = {participant.person_id for participant in participants}
        instance = MatchingInstance.from_lists(
            {str(p.person_id): [str(x) for x in p.ranking if x in position_ids]
             for p in participants},
            {str(position.pk): [str(x) for x in position.ranking if x in person_ids]
             for position in positions},
            {str(position.pk): position.capacity for position in positions})
        matching = deferred_acceptance(instance)
        matching.check_invariants()
        by_id = {str(position.pk): position for position in positions}
        today = timezone.localdate()
        for participant in participants:
            explanation = matching.explain_applicant(str(participant.person_id))
            participant.explanation = {
                "choice": explanation.choice, "list_length": explanation.list_length,
                "preferred": [{"position": int(item.position_id), "choice": item.choice,
                               "reason": item.reason, "your_rank": item.your_rank,
                               "cutoff_rank": item.cutoff_rank, "capacity": item.capacity}
                              for item in explanation.preferred]}
            matched = by_id.get(explanation.position_id) if explanation.position_id else None
            participant.matched_position = matched
            participant.save(update_fields=["explanation", "matched_position"])
            if matched is not None:
                posting = matched.posting
                Placement.objects.create(
                    person=participant.person, organization=posting.organization,
                    employer=posting.organization.name_ko, role=posting.title,
                    kind=posting.kind, started_on=today, source=PlacementSource.FAIR,
                    fair=fair, recorded_by=actor, is_demo=fair.is_demo)
        for position in positions:
            outcome = matching.explain_position(str(position.pk))
            position.explanation = {
                "capacity": outcome.capacity, "cutoff_rank": outcome.cutoff_rank,
                "admitted": [{"person": int(a.applicant_id), "rank": a.rank, "choice": a.choice}
                             for a in outcome.admitted],
                "rejected": [{"person": int(r.applicant_id), "choice": r.choice,
                              "reason": r.reason, "rank": r.rank,
                              "placed_at": int(r.placed_at) if r.placed_at else None}
                             for r in outcome.rejected]}
            position.save(update_fields=["explanation"])
        fair.statistics = matching.statistics()
        fair.status = FairStatus.MATCHED
        fair.matched = timezone.now()
        fair.save(update_fields=["statistics", "status", "matched"])
    return fair


# --------------------------------------------------------------------------- placements


def do_record_placement(*, actor: Person | None, person: Person, employer: Any, role: Any,
                        started_on: Any, kind: Any = PostingKind.JOB,
                        organization: Organization | None = None,
                        is_demo: bool = False) -> Placement:
    """Employment found outside the platform, recorded by the learner or their program's
    staff."""
    if actor is not None and not queries.may_record_placement_for(actor, person):
        raise AccessDenied(_("Only the learner and the managers of their cohorts record "
                             "where they work."))
    employer = _text(employer if organization is None else (employer or organization.name_ko),
                     "employer", length_max=TITLE_LENGTH_MAX, required=True,
                     missing=_("Name the employer."))
    role = _text(role, "role", length_max=ROLE_LENGTH_MAX, required=True,
                 missing=_("Name the role."))
    kind = _choice(kind, "kind", PostingKind.values)
    started = _date(started_on, "started_on")
    if started is None:
        raise InputError("started_on", _("Enter the first day of work."))
    if started > timezone.localdate() + datetime.timedelta(days=366):
        raise InputError("started_on", _("At most a year ahead."))
    with transaction.atomic(durable=True):
        return Placement.objects.create(
            person=person, organization=organization, employer=employer, role=role,
            kind=kind, started_on=started, source=PlacementSource.RECORDED,
            recorded_by=actor, is_demo=is_demo)


def do_delete_placement(*, actor: Person, placement: Placement) -> None:
    """Remove a recorded placement (those from offers and fairs stay: they are history)."""
    if not queries.may_record_placement_for(actor, placement.person):
        raise AccessDenied(_("Only the learner and the managers of their cohorts change "
                             "where they work."))
    if placement.source != PlacementSource.RECORDED:
        raise InputError(None, _("Only placements recorded by hand can be removed."))
    with transaction.atomic(durable=True):
        Placement.objects.filter(pk=placement.pk).delete()
