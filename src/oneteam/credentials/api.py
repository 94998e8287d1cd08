"""The credentials API, mounted at /api/credentials/.

Public (no credentials): verifying a credential (each check separately, in Korean and
English), status list credentials, achievements' descriptions, a shared credential.
Everything else needs a person (``api_auth``): a learner's own credentials and share
links; an organization's achievements, issuing, revoking, suspending and reinstating
for its administrators and instructors.
"""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from oneteam.academy.models import Cohort, Course, Program
from oneteam.accounts.auth import api_auth
from oneteam.accounts.models import Person
from oneteam.credentials import actions, queries
from oneteam.credentials.models import Achievement, IssuedCredential
from oneteam.credentials.verification import CREDENTIAL_BYTES_MAX, verify_for_platform
from oneteam.platform.errors import InputError
from oneteam.platform.http import api_person as _person
from oneteam.platform.http import origin_of

router = Router(tags=["credentials"], auth=api_auth)




# --- schemas ----------------------------------------------------------------------------------


class VerifyIn(Schema):
    credential: dict[str, Any] | str


class VerifyOut(Schema):
    verified: bool
    language: str
    checks: list[dict[str, Any]]


class SkillIn(Schema):
    name: str
    url: str = ""


class AchievementIn(Schema):
    organization: str
    name: str
    description: str
    criteria_narrative: str
    criteria_kind: str = "manual"
    achievement_type: str = "CertificateOfCompletion"
    course_id: int | None = None
    program_id: int | None = None
    lab_thresholds: list[dict[str, Any]] = Field(default_factory=list)
    skills: list[SkillIn] = Field(default_factory=list)
    valid_days: int | None = None


class AchievementOut(Schema):
    id: uuid.UUID
    organization: str
    name: str
    description: str
    criteria_narrative: str
    criteria_kind: str
    achievement_type: str
    skills: list[dict[str, str]]
    valid_days: int | None


class IssueIn(Schema):
    recipient_email: str
    cryptosuite: str = "eddsa-rdfc-2022"


class CohortIssueIn(Schema):
    cohort_id: int
    completed_only: bool = True


class CredentialOut(Schema):
    id: uuid.UUID
    achievement: str
    organization: str
    recipient: str
    state: str
    issued: datetime.datetime
    valid_until: datetime.datetime | None
    anchored: bool
    anchor_height: int | None
    verify_url: str


class CredentialDetailOut(CredentialOut):
    document: dict[str, Any]


class ReasonIn(Schema):
    reason: str


class ShareIn(Schema):
    days: int = 30


class ShareOut(Schema):
    id: int
    url: str
    expires: datetime.datetime


def _achievement_out(achievement: Achievement) -> AchievementOut:
    return AchievementOut(
        id=achievement.public_id, organization=achievement.organization.slug,
        name=achievement.name, description=achievement.description,
        criteria_narrative=achievement.criteria_narrative,
        criteria_kind=achievement.criteria_kind, achievement_type=achievement.achievement_type,
        skills=achievement.skills, valid_days=achievement.valid_days)


def _credential_out(credential: IssuedCredential, request: HttpRequest,
                    detail: bool = False) -> CredentialOut:
    batch = credential.batch
    fields: dict[str, Any] = {
        "id": credential.public_id, "achievement": credential.achievement.name,
        "organization": credential.organization.slug,
        "recipient": credential.recipient.display_name, "state": credential.state,
        "issued": credential.issued, "valid_until": credential.valid_until,
        "anchored": bool(batch and batch.height is not None and batch.state == "anchored"),
        "anchor_height": batch.height if batch else None,
        "verify_url": f"{origin_of(request)}/credentials/verify/"
                      f"?credential={credential.public_id}",
    }
    if detail:
        return CredentialDetailOut(document=credential.document, **fields)
    return CredentialOut(**fields)


# --- verifying (public) -------------------------------------------------------------------------


@router.post("/verify", auth=None, response=VerifyOut,
             summary="Verify a credential: each check separately, in Korean and English")
def verify(request: HttpRequest, payload: VerifyIn) -> VerifyOut:
    text = payload.credential if isinstance(payload.credential, str) else \
        json.dumps(payload.credential)
    if not text.strip():
        raise InputError("credential", _("Paste a credential (JSON)."))
    if len(text.encode()) > CREDENTIAL_BYTES_MAX:
        raise InputError("credential", _("A credential is at most %(count)d bytes.")
                         % {"count": CREDENTIAL_BYTES_MAX})
    report = verify_for_platform(payload.credential).to_json()
    return VerifyOut(verified=report["verified"], language=get_language() or "ko",
                     checks=report["checks"])


@router.get("/status/{list_id}", auth=None, response=dict[str, Any],
            summary="A status list credential (also at /credentials/status/<id>)")
def status_list(request: HttpRequest, list_id: str) -> dict[str, Any]:
    document: dict[str, Any] = queries.public_status_list_by_public_id(list_id).document
    return document


@router.get("/shared/{token}", auth=None, response=CredentialDetailOut,
            summary="A credential shared by its holder (until the link expires)")
def shared(request: HttpRequest, token: str) -> CredentialOut:
    return _credential_out(queries.access_credential_by_share_token(token), request, True)


# --- a learner's credentials ----------------------------------------------------------------


@router.get("/mine", response=list[CredentialOut], summary="My credentials")
def mine(request: HttpRequest) -> list[CredentialOut]:
    found = queries.access_my_credentials(_person(request))[:queries.LIST_MAX]
    return [_credential_out(credential, request) for credential in found]


@router.get("/credentials/{credential_id}", response=CredentialDetailOut,
            summary="One credential with its signed document (its holder or its issuer)")
def credential_detail(request: HttpRequest, credential_id: str) -> CredentialOut:
    credential = queries.access_credential_by_public_id(_person(request), credential_id)
    return _credential_out(credential, request, True)


@router.post("/credentials/{credential_id}/share", response={201: ShareOut},
             summary="A share link that expires after `days`")
def share(request: HttpRequest, credential_id: str, payload: ShareIn) -> Status[ShareOut]:
    viewer = _person(request)
    credential = queries.access_credential_by_public_id(viewer, credential_id)
    link, token = actions.do_create_share_link(actor=viewer, credential=credential,
                                               days=payload.days)
    return Status(201, ShareOut(id=link.pk, url=f"{origin_of(request)}/credentials/shared/"
                                f"{token}/", expires=link.expires))


# --- issuing ---------------------------------------------------------------------------------


@router.get("/organizations/{slug}/achievements", response=list[AchievementOut],
            summary="An organization's achievements (its administrators and instructors)")
def achievements(request: HttpRequest, slug: str) -> list[AchievementOut]:
    return [_achievement_out(a) for a in
            queries.access_achievements_by_organization_slug(_person(request), slug)]


@router.post("/achievements", response={201: AchievementOut},
             summary="Define an achievement and its criteria")
def define_achievement(request: HttpRequest,
                       payload: AchievementIn) -> Status[AchievementOut]:
    viewer = _person(request)
    organization = queries.access_issuing_organization_by_slug(viewer, payload.organization)
    course = program = None
    if payload.course_id is not None:
        course = Course.objects.filter(pk=payload.course_id,
                                       program__owner=organization).first()
        if course is None:
            raise InputError("course_id", _("No such course of this organization."))
    if payload.program_id is not None:
        program = Program.objects.filter(pk=payload.program_id, owner=organization).first()
        if program is None:
            raise InputError("program_id", _("No such program of this organization."))
    achievement = actions.do_define_achievement(
        actor=viewer, organization=organization, name=payload.name,
        description=payload.description, criteria_narrative=payload.criteria_narrative,
        criteria_kind=payload.criteria_kind, achievement_type=payload.achievement_type,
        course=course, program=program, lab_thresholds=payload.lab_thresholds,
        skills=[skill.dict() for skill in payload.skills], valid_days=payload.valid_days)
    return Status(201, _achievement_out(achievement))


@router.post("/achievements/{achievement_id}/issue", response={201: CredentialDetailOut},
             summary="Issue the achievement's credential to a person, by e-mail address")
def issue(request: HttpRequest, achievement_id: str, payload: IssueIn) -> Status[CredentialOut]:
    viewer = _person(request)
    achievement = queries.access_achievement_by_public_id(viewer, achievement_id)
    recipient = Person.objects.filter(email=payload.recipient_email.strip().lower()).first()
    if recipient is None:
        raise InputError("recipient_email", _("Nobody has signed up with this address."))
    issued = actions.do_issue_credential(actor=viewer, achievement=achievement,
                                         recipient=recipient, cryptosuite=payload.cryptosuite)
    issued.refresh_from_db()
    return Status(201, _credential_out(issued, request, True))


@router.post("/achievements/{achievement_id}/issue-cohort", response={201: list[CredentialOut]},
             summary="Issue to every learner who completed a cohort")
def issue_cohort(request: HttpRequest, achievement_id: str,
                 payload: CohortIssueIn) -> Status[list[CredentialOut]]:
    viewer = _person(request)
    achievement = queries.access_achievement_by_public_id(viewer, achievement_id)
    cohort = Cohort.objects.filter(pk=payload.cohort_id).first()
    if cohort is None:
        raise InputError("cohort_id", _("No such cohort."))
    issued = actions.do_issue_for_cohort(actor=viewer, achievement=achievement, cohort=cohort,
                                         completed_only=payload.completed_only)
    return Status(201, [_credential_out(credential, request) for credential in issued])


@router.get("/organizations/{slug}/issued", response=list[CredentialOut],
            summary="Credentials an organization issued (its administrators and instructors)")
def issued_by(request: HttpRequest, slug: str) -> list[CredentialOut]:
    found = queries.access_issued_by_organization_slug(_person(request), slug)
    return [_credential_out(credential, request) for credential in found[:queries.LIST_MAX]]


def _status_action(request: HttpRequest, credential_id: str, reason: str,
                   action: Any) -> CredentialOut:
    viewer = _person(request)
    credential = queries.access_managed_credential_by_public_id(viewer, credential_id)
    return _credential_out(action(actor=viewer, credential=credential, reason=reason), request)


@router.post("/credentials/{credential_id}/revoke", response=CredentialOut,
             summary="Revoke a credential for good, with a reason")
def revoke(request: HttpRequest, credential_id: str, payload: ReasonIn) -> CredentialOut:
    return _status_action(request, credential_id, payload.reason, actions.do_revoke_credential)


@router.post("/credentials/{credential_id}/suspend", response=CredentialOut,
             summary="Suspend a credential, with a reason")
def suspend(request: HttpRequest, credential_id: str, payload: ReasonIn) -> CredentialOut:
    return _status_action(request, credential_id, payload.reason,
                          actions.do_suspend_credential)


@router.post("/credentials/{credential_id}/reinstate", response=CredentialOut,
             summary="Lift a suspension, with a reason")
def reinstate(request: HttpRequest, credential_id: str, payload: ReasonIn) -> CredentialOut:
    return _status_action(request, credential_id, payload.reason,
                          actions.do_reinstate_credential)

