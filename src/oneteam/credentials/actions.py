"""Every write of the credentials app.

Issuing signs an OpenBadgeCredential with the issuing organization's current key
(``consortium.queries.organization_signer``, unsealed at that moment), gives it a random
index in the organization's status lists, stores it, and after commit enqueues the
anchoring task, which batches credentials every few seconds (or every ``N``) and puts
each batch's Merkle root on the ledger. Revoking, suspending and reinstating set or clear
the credential's bit, record who did it and why, re-sign the list credential and anchor
its new digest.

Who may: an organization's administrators and instructors issue, revoke, suspend and
reinstate its credentials (``None`` as actor: the system, after its own checks, as for
automatic issuance on completion). Learners share their own credentials.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.academy.models import SEATED, Cohort, Course, Enrollment, Program
from oneteam.accounts.models import Person
from oneteam.consortium import actions as consortium_actions
from oneteam.consortium import queries as consortium_queries
from oneteam.consortium.models import LedgerState, Membership, Organization, Role
from oneteam.credentials import dataintegrity, statuslist
from oneteam.credentials.did import did_web_to_url
from oneteam.credentials.ledgercheck import digest_of
from oneteam.credentials.models import (
    Achievement,
    AchievementType,
    CredentialState,
    CriteriaKind,
    IssuedCredential,
    ShareLink,
    StatusAction,
    StatusChange,
    StatusList,
    StatusPurpose,
)
from oneteam.credentials.openbadges import AchievementSpec, Alignment, issuer_profile
from oneteam.credentials.openbadges import build_open_badge_credential as build_credential
from oneteam.platform.errors import AccessDenied, InputError, NotFound

NAME_LENGTH_MAX = 200
TEXT_LENGTH_MAX = 2000
REASON_LENGTH_MAX = 500
SKILLS_MAX = 30
COHORT_ISSUE_MAX = 2000
BULK_BATCH = 500
LAB_THRESHOLDS_MAX = 10
SHARE_DAYS_MAX = 365
SHARE_LINKS_PER_CREDENTIAL_MAX = 20
CRYPTOSUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")


# --- helpers ------------------------------------------------------------------------------


def may_issue_for(person: Person | None, organization: Organization) -> bool:
    """Administrators and instructors of ``organization`` issue and revoke its credentials."""
    if person is None or not person.is_authenticated:
        return False
    return Membership.objects.filter(person=person, organization=organization,
                                     role__in=[Role.ADMIN, Role.INSTRUCTOR]).exists()


def _require_issuer(actor: Person | None, organization: Organization) -> None:
    if actor is not None and not may_issue_for(actor, organization):
        raise AccessDenied(_("Only the administrators and instructors of %(organization)s "
                             "issue and revoke its credentials.")
                           % {"organization": organization.name})


def site_base_url(organization: Organization) -> str:
    """``https://host[:port]`` where credentials' URLs (status lists, verify page) live:
    ONETEAM_BASE_URL, else the host of the organizations' did:web identities."""
    configured = str(getattr(settings, "ONETEAM_BASE_URL", "") or "").rstrip("/")
    if configured:
        return configured
    url = urlsplit(did_web_to_url(consortium_queries.organization_did(organization)))
    return f"{url.scheme}://{url.netloc}"


def _clean_text(value: Any, field: str, length_max: int, *, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InputError(field, _("This field is required."))
    if len(text) > length_max:
        raise InputError(field, _("At most %(count)d characters.") % {"count": length_max})
    return text


def _clean_skills(skills: Iterable[Any] | None) -> list[dict[str, str]]:
    cleaned: list[dict[str, str]] = []
    for position, given in enumerate(skills or []):
        field = f"skills[{position}]"
        skill = {"name": given} if isinstance(given, str) else given
        if not isinstance(skill, Mapping):
            raise InputError(field, _("A skill is a name, with an optional URL."))
        name = _clean_text(skill.get("name"), f"{field}.name", NAME_LENGTH_MAX)
        url = _clean_text(skill.get("url"), f"{field}.url", 500, required=False)
        if url and not url.startswith(("https://", "http://")):
            raise InputError(f"{field}.url", _("Enter an http(s) URL."))
        cleaned.append({"name": name, "url": url})
    if len(cleaned) > SKILLS_MAX:
        raise InputError("skills", _("At most %(count)d skills.") % {"count": SKILLS_MAX})
    return cleaned


# --- achievements -------------------------------------------------------------------------


def _clean_lab_thresholds(lab_thresholds: Sequence[Any]) -> list[dict[str, Any]]:
    """``[{"lab": slug, "score_min": number}]``: each a lab of the platform, once, with a
    minimum score as its grader counts points (0 or more)."""
    from oneteam.labs.models import Lab

    if not isinstance(lab_thresholds, Sequence) or isinstance(lab_thresholds, str) or \
            not lab_thresholds:
        raise InputError("lab_thresholds", _("Give at least one lab and its minimum score."))
    if len(lab_thresholds) > LAB_THRESHOLDS_MAX:
        raise InputError("lab_thresholds", _("At most %(count)d labs.")
                         % {"count": LAB_THRESHOLDS_MAX})
    cleaned: list[dict[str, Any]] = []
    for position, item in enumerate(lab_thresholds):
        where = f"lab_thresholds[{position}]"
        if not isinstance(item, Mapping) or set(item) - {"lab", "score_min"}:
            raise InputError(where, _("A threshold names a lab and a minimum score."))
        slug = str(item.get("lab", "")).strip()
        if not Lab.objects.filter(slug=slug).exists():
            raise InputError(f"{where}.lab", _("There is no lab %(lab)s.") % {"lab": slug})
        if any(done["lab"] == slug for done in cleaned):
            raise InputError(f"{where}.lab", _("Each lab once."))
        score = item.get("score_min")
        if isinstance(score, bool) or not isinstance(score, int | float) or \
                not math.isfinite(score) or score < 0:
            raise InputError(f"{where}.score_min",
                             _("The minimum score is a number, 0 or more."))
        cleaned.append({"lab": slug, "score_min": score})
    return cleaned


def lab_thresholds_met(achievement: Achievement, best: Mapping[str, float]) -> bool:
    """Whether the best scores (lab slug to score) reach every threshold of ``achievement``."""
    thresholds = achievement.lab_thresholds or []
    return bool(thresholds) and all(
        item["lab"] in best and best[item["lab"]] >= float(item["score_min"])
        for item in thresholds)


def do_define_achievement(*, actor: Person | None, organization: Organization, name: str,
                          description: str, criteria_narrative: str,
                          criteria_kind: str = CriteriaKind.MANUAL,
                          achievement_type: str = AchievementType.CERTIFICATE_OF_COMPLETION,
                          course: Course | None = None, program: Program | None = None,
                          lab_thresholds: Sequence[Mapping[str, Any]] = (),
                          skills: Iterable[Any] | None = None,
                          valid_days: int | None = None, is_demo: bool = False) -> Achievement:
    """Define what ``organization`` certifies and when it is awarded."""
    _require_issuer(actor, organization)
    name = _clean_text(name, "name", NAME_LENGTH_MAX)
    description = _clean_text(description, "description", TEXT_LENGTH_MAX)
    criteria_narrative = _clean_text(criteria_narrative, "criteria_narrative", TEXT_LENGTH_MAX)
    if criteria_kind not in CriteriaKind.values:
        raise InputError("criteria_kind", _("Choose one of: %(choices)s.")
                         % {"choices": ", ".join(CriteriaKind.values)})
    if achievement_type not in AchievementType.values:
        raise InputError("achievement_type", _("Choose one of: %(choices)s.")
                         % {"choices": ", ".join(AchievementType.values)})
    if criteria_kind == CriteriaKind.COURSE:
        if course is None:
            raise InputError("course", _("Choose the course whose completion earns it."))
        program = None
    elif criteria_kind == CriteriaKind.PROGRAM:
        if program is None:
            raise InputError("program", _("Choose the program whose completion earns it."))
        course = None
    elif criteria_kind == CriteriaKind.LAB_SCORE:
        lab_thresholds = _clean_lab_thresholds(lab_thresholds)
        course = program = None
    if valid_days is not None and not 1 <= valid_days <= 36500:
        raise InputError("valid_days", _("Between 1 and 36500 days, or empty."))
    cleaned_skills = _clean_skills(skills)
    with transaction.atomic(durable=True):
        return Achievement.objects.create(
            organization=organization, name=name, description=description,
            criteria_narrative=criteria_narrative, criteria_kind=criteria_kind,
            achievement_type=achievement_type, course=course, program=program,
            lab_thresholds=[dict(item) for item in lab_thresholds], skills=cleaned_skills,
            valid_days=valid_days, created_by=actor, is_demo=is_demo)


def _set_achievement_active(actor: Person | None, achievement: Achievement,
                            active: bool) -> Achievement:
    _require_issuer(actor, achievement.organization)
    with transaction.atomic(durable=True):
        achievement = Achievement.objects.select_for_update().get(pk=achievement.pk)
        if achievement.is_active != active:
            achievement.is_active = active
            achievement.save(update_fields=["is_active"])
    return achievement


def do_deactivate_achievement(*, actor: Person | None, achievement: Achievement) -> Achievement:
    """Stop awarding ``achievement``, by hand or automatically; credentials already issued
    keep their state (revoke them one by one if they must lose it)."""
    return _set_achievement_active(actor, achievement, False)


def do_reactivate_achievement(*, actor: Person | None, achievement: Achievement) -> Achievement:
    """Award ``achievement`` again."""
    return _set_achievement_active(actor, achievement, True)


# --- status lists --------------------------------------------------------------------------


def _sign(document: dict[str, Any], organization: Organization,
          cryptosuite: str = "eddsa-rdfc-2022") -> dict[str, Any]:
    signer = consortium_queries.organization_signer(organization)
    created = dataintegrity.format_date_time(timezone.now())
    return dataintegrity.add_proof(document, signer.key_pair, cryptosuite=cryptosuite,
                                   verification_method=signer.verification_method,
                                   created=created)


def status_list_url(status_list: StatusList) -> str:
    return f"{site_base_url(status_list.organization)}/credentials/status/" \
           f"{status_list.public_id}"


def _publish(status_list: StatusList) -> None:
    """Sign the list's current bits as a new version and queue its digest for the ledger."""
    bits = statuslist.StatusList(status_list.length, data=bytes(status_list.bits))
    status_list.version += 1
    unsigned = statuslist.build_status_list_credential(
        list_credential_url=status_list_url(status_list),
        issuer=consortium_queries.organization_did(status_list.organization),
        purpose=status_list.purpose, status_list=bits,
        valid_from=dataintegrity.format_date_time(timezone.now()))
    status_list.document = _sign(unsigned, status_list.organization)
    status_list.digest = digest_of(status_list.document).hex()
    status_list.updated = timezone.now()
    if status_list.organization.ledger_state == LedgerState.REGISTERED:
        status_list.submission = consortium_actions.do_submit_ledger_transaction(
            status_list.organization, "anchors.set_status_list",
            {"list_id": status_list.ledger_label, "digest": bytes.fromhex(status_list.digest)})
    status_list.save()


def _open_lists(organization: Organization) -> tuple[StatusList, StatusList]:
    """The organization's open pair of lists (made, signed and published when missing)."""
    revocation = (StatusList.objects.select_for_update()
                  .filter(organization=organization, purpose=StatusPurpose.REVOCATION,
                          is_open=True).first())
    if revocation is not None:
        suspension = StatusList.objects.get(pair=revocation.pair,
                                            purpose=StatusPurpose.SUSPENSION)
        return revocation, suspension
    pair = uuid.uuid4()
    made = []
    for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION):
        empty = statuslist.StatusList(statuslist.MINIMUM_LIST_BITS)
        status_list = StatusList.objects.create(
            organization=organization, purpose=purpose, pair=pair, length=empty.bit_length,
            bits=empty.to_bytes())
        _publish(status_list)
        made.append(status_list)
    return made[0], made[1]


# --- issuing ------------------------------------------------------------------------------


def _achievement_spec(achievement: Achievement, base: str) -> AchievementSpec:
    alignments = [Alignment(target_name=skill["name"], target_url=skill["url"],
                            target_type="ceasn:Competency")
                  for skill in achievement.skills if skill.get("url")]
    return AchievementSpec(
        id=f"{base}/credentials/achievements/{achievement.public_id}",
        name=achievement.name, description=achievement.description,
        criteria_narrative=achievement.criteria_narrative,
        achievement_type=achievement.achievement_type, alignments=alignments,
        tags=[skill["name"] for skill in achievement.skills])


class _Issuer:
    """Issuing one achievement's credentials, to one recipient or to a cohort at once.

    Inside the caller's transaction. What every credential shares is found once: the
    signing key (unsealed once), the issuer profile, the achievement, and the open pair
    of status lists with the positions already handed out.
    """

    def __init__(self, achievement: Achievement, cryptosuite: str) -> None:
        organization = achievement.organization
        self.achievement = achievement
        self.organization = organization
        self.cryptosuite = cryptosuite
        self.signer = consortium_queries.organization_signer(organization)
        self.base = site_base_url(organization)
        name = organization.name_ko if organization.name_ko == organization.name_en else \
            f"{organization.name_ko} ({organization.name_en})"
        self.issuer = issuer_profile(self.signer.did, name,
                                     url=f"{self.base}/consortium/orgs/{organization.slug}/")
        self.spec = _achievement_spec(achievement, self.base)
        self._lists: tuple[StatusList, StatusList] | None = None
        self._allocator: statuslist.IndexAllocator | None = None

    def _position(self) -> tuple[StatusList, StatusList, int]:
        if self._lists is None or self._allocator is None:
            self._lists = _open_lists(self.organization)
            used = IssuedCredential.objects.filter(revocation_list=self._lists[0]).values_list(
                "status_index", flat=True)
            self._allocator = statuslist.IndexAllocator(self._lists[0].length, used)
        if self._allocator.capacity_left == 0:
            StatusList.objects.filter(pair=self._lists[0].pair).update(is_open=False)
            self._lists = _open_lists(self.organization)
            self._allocator = statuslist.IndexAllocator(self._lists[0].length, ())
        return self._lists[0], self._lists[1], self._allocator.allocate()

    def credential(self, *, actor: Person | None, recipient: Person,
                   cohort: Cohort | None) -> IssuedCredential:
        """A signed credential for ``recipient``, not yet saved."""
        revocation, suspension, index = self._position()
        public_id = uuid.uuid4()
        now = timezone.now().replace(microsecond=0)
        valid_days = self.achievement.valid_days
        valid_until = now + datetime.timedelta(days=valid_days) if valid_days else None
        # The subject is a pseudonym per credential: no e-mail address or name is published.
        subject = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.base}/people/{recipient.pk}/{public_id}")
        statuses = [statuslist.status_list_entry(status_list_url(status_list), index,
                                                 status_list.purpose)
                    for status_list in (revocation, suspension)]
        unsigned = build_credential(
            credential_id=f"urn:uuid:{public_id}", issuer=self.issuer,
            subject_id=f"urn:uuid:{subject}", achievement=self.spec,
            valid_from=dataintegrity.format_date_time(now),
            valid_until=dataintegrity.format_date_time(valid_until) if valid_until else None,
            awarded_date=dataintegrity.format_date_time(now), credential_status=statuses[0])
        unsigned["credentialStatus"] = statuses
        # A fresh document with no proof yet: the proof is added without copying it again.
        document = {**unsigned, "proof": dataintegrity.create_proof(
            unsigned, self.signer.key_pair, cryptosuite=self.cryptosuite,
            verification_method=self.signer.verification_method,
            created=dataintegrity.format_date_time(now))}
        return IssuedCredential(
            public_id=public_id, achievement=self.achievement, organization=self.organization,
            recipient=recipient, cohort=cohort, document=document, issued=now,
            valid_until=valid_until, revocation_list=revocation, suspension_list=suspension,
            status_index=index, issued_by=actor)


def _after_issue() -> None:
    from oneteam.credentials.tasks import anchor_credentials

    transaction.on_commit(anchor_credentials.enqueue)


def _check_issuable(achievement: Achievement, recipient: Person) -> None:
    if not achievement.is_active:
        raise InputError("achievement", _("This achievement is no longer awarded."))
    if IssuedCredential.objects.filter(achievement=achievement, recipient=recipient).exclude(
            state=CredentialState.REVOKED).exists():
        raise InputError("recipient", _("%(person)s already holds this credential.")
                         % {"person": recipient.display_name})


def do_issue_credential(*, actor: Person | None, achievement: Achievement, recipient: Person,
                        cohort: Cohort | None = None,
                        cryptosuite: str = "eddsa-rdfc-2022") -> IssuedCredential:
    """Sign and store ``achievement``'s credential for ``recipient``; anchored soon after."""
    _require_issuer(actor, achievement.organization)
    _check_cryptosuite(cryptosuite)
    _check_issuable(achievement, recipient)
    try:
        with transaction.atomic(durable=True):
            issued = _Issuer(achievement, cryptosuite).credential(
                actor=actor, recipient=recipient, cohort=cohort)
            issued.save()
            _after_issue()
    except IntegrityError:  # issued at the same moment by another request
        raise InputError("recipient", _("%(person)s already holds this credential.")
                         % {"person": recipient.display_name}) from None
    return issued


def _check_cryptosuite(cryptosuite: str) -> None:
    if cryptosuite not in CRYPTOSUITES:
        raise InputError("cryptosuite", _("Choose one of: %(choices)s.")
                         % {"choices": ", ".join(CRYPTOSUITES)})


def do_issue_for_cohort(*, actor: Person | None, achievement: Achievement, cohort: Cohort,
                        completed_only: bool = True,
                        cryptosuite: str = "eddsa-rdfc-2022") -> list[IssuedCredential]:
    """Issue to every learner of ``cohort`` (those who completed it, by default) who does
    not hold the credential yet; one transaction, anchored in as few batches as fit."""
    _require_issuer(actor, achievement.organization)
    _check_cryptosuite(cryptosuite)
    if cohort.organization_id != achievement.organization_id:
        raise InputError("cohort", _("The cohort is not run by the achievement's "
                                     "organization."))
    statuses = ["completed"] if completed_only else list(SEATED)
    enrollments = list(Enrollment.objects.filter(cohort=cohort, status__in=statuses,
                                                 person__isnull=False)
                       .select_related("person")[:COHORT_ISSUE_MAX + 1])
    if len(enrollments) > COHORT_ISSUE_MAX:
        raise InputError("cohort", _("At most %(count)d credentials at once.")
                         % {"count": COHORT_ISSUE_MAX})
    if not achievement.is_active:
        raise InputError("achievement", _("This achievement is no longer awarded."))
    holders = set(IssuedCredential.objects.filter(achievement=achievement).exclude(
        state=CredentialState.REVOKED).values_list("recipient_id", flat=True))
    issued = []
    try:
        with transaction.atomic(durable=True):
            issuer = _Issuer(achievement, cryptosuite)
            for enrollment in enrollments:
                person = enrollment.person
                if person is None or person.pk in holders:
                    continue
                issued.append(issuer.credential(actor=actor, recipient=person, cohort=cohort))
                holders.add(person.pk)
            IssuedCredential.objects.bulk_create(issued, batch_size=BULK_BATCH)
            if issued:
                _after_issue()
    except IntegrityError:  # some issued at the same moment by another request
        raise InputError("cohort", _("Some of these learners were given the credential "
                                     "meanwhile; issue again for the rest.")) from None
    return issued


def do_issue_on_lab_results(*, person: Person,
                             lab_slug: str | None = None) -> list[IssuedCredential]:
    """Automatic issuance on lab scores: every active achievement whose thresholds
    ``person``'s best results now reach (those naming ``lab_slug``, when given)."""
    from oneteam.labs.queries import best_results

    found = [achievement for achievement in Achievement.objects.filter(
        is_active=True, criteria_kind=CriteriaKind.LAB_SCORE).select_related("organization")
        if lab_slug is None or any(item.get("lab") == lab_slug
                                   for item in achievement.lab_thresholds or [])]
    if not found:
        return []
    best = {result.lab_slug: result.score for result in best_results(person)}
    return _issue_automatically(person, [achievement for achievement in found
                                         if lab_thresholds_met(achievement, best)])


def _issue_automatically(person: Person,
                         achievements: Iterable[Achievement]) -> list[IssuedCredential]:
    """Issue each of ``achievements`` whose criteria ``person`` met, unless they hold it."""
    issued = []
    for achievement in achievements:
        if IssuedCredential.objects.filter(achievement=achievement, recipient=person).exclude(
                state=CredentialState.REVOKED).exists():
            continue
        try:
            issued.append(do_issue_credential(actor=None, achievement=achievement,
                                              recipient=person))
        except InputError:
            continue  # issued meanwhile
    return issued


def do_issue_on_completion(*, person: Person, course: Course | None = None,
                           program: Program | None = None) -> list[IssuedCredential]:
    """Automatic issuance: every active achievement whose criteria ``person`` now meets."""
    found = Achievement.objects.filter(is_active=True).select_related("organization")
    if course is not None:
        found = found.filter(criteria_kind=CriteriaKind.COURSE, course=course)
    elif program is not None:
        found = found.filter(criteria_kind=CriteriaKind.PROGRAM, program=program)
    else:
        return []
    return _issue_automatically(person, found)


# --- status --------------------------------------------------------------------------------


def _change_status(*, actor: Person | None, credential: IssuedCredential, action: str,
                   reason: str) -> IssuedCredential:
    _require_issuer(actor, credential.organization)
    reason = _clean_text(reason, "reason", REASON_LENGTH_MAX)
    with transaction.atomic(durable=True):
        credential = IssuedCredential.objects.select_for_update().get(pk=credential.pk)
        if credential.state == CredentialState.REVOKED:
            raise InputError("state", _("A revoked credential stays revoked."))
        if action == StatusAction.SUSPEND and credential.state == CredentialState.SUSPENDED:
            raise InputError("state", _("The credential is already suspended."))
        if action == StatusAction.REINSTATE and credential.state != CredentialState.SUSPENDED:
            raise InputError("state", _("Only a suspended credential can be reinstated."))
        target = (credential.revocation_list if action == StatusAction.REVOKE
                  else credential.suspension_list)
        status_list = StatusList.objects.select_for_update().get(pk=target.pk)
        bits = statuslist.StatusList(status_list.length, data=bytes(status_list.bits))
        bits.set(credential.status_index, 0 if action == StatusAction.REINSTATE else 1)
        status_list.bits = bits.to_bytes()
        _publish(status_list)
        states: dict[str, str] = {StatusAction.REVOKE: CredentialState.REVOKED,
                                  StatusAction.SUSPEND: CredentialState.SUSPENDED,
                                  StatusAction.REINSTATE: CredentialState.ACTIVE}
        credential.state = states[action]
        credential.save(update_fields=["state"])
        StatusChange.objects.create(credential=credential, action=action, reason=reason,
                                    actor=actor, list_version=status_list.version)
    return credential


def do_revoke_credential(*, actor: Person | None, credential: IssuedCredential,
                         reason: str) -> IssuedCredential:
    """Revoke for good; the reason is recorded."""
    return _change_status(actor=actor, credential=credential, action=StatusAction.REVOKE,
                          reason=reason)


def do_suspend_credential(*, actor: Person | None, credential: IssuedCredential,
                          reason: str) -> IssuedCredential:
    """Suspend until reinstated; the reason is recorded."""
    return _change_status(actor=actor, credential=credential, action=StatusAction.SUSPEND,
                          reason=reason)


def do_reinstate_credential(*, actor: Person | None, credential: IssuedCredential,
                            reason: str) -> IssuedCredential:
    """Lift a suspension; the reason is recorded."""
    return _change_status(actor=actor, credential=credential, action=StatusAction.REINSTATE,
                          reason=reason)


# --- sharing -------------------------------------------------------------------------------


def share_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def do_create_share_link(*, actor: Person, credential: IssuedCredential,
                         days: int) -> tuple[ShareLink, str]:
    """A link to the credential for anyone who has it, valid ``days``; the token is
    returned once (only its hash is kept)."""
    if credential.recipient_id != actor.pk:
        raise NotFound(_("No such credential."))
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= SHARE_DAYS_MAX:
        raise InputError("days", _("Between 1 and %(count)d days.") % {"count": SHARE_DAYS_MAX})
    if ShareLink.objects.filter(credential=credential, revoked__isnull=True,
                                expires__gt=timezone.now()).count() >= \
            SHARE_LINKS_PER_CREDENTIAL_MAX:
        raise InputError("days", _("At most %(count)d open share links per credential.")
                         % {"count": SHARE_LINKS_PER_CREDENTIAL_MAX})
    token = secrets.token_urlsafe(24)
    with transaction.atomic(durable=True):
        link = ShareLink.objects.create(
            credential=credential, token_hash=share_token_hash(token),
            expires=timezone.now() + datetime.timedelta(days=days))
    return link, token


def do_withdraw_share_link(*, actor: Person, link: ShareLink) -> ShareLink:
    if link.credential.recipient_id != actor.pk:
        raise NotFound(_("No such share link."))
    with transaction.atomic(durable=True):
        if link.revoked is None:
            link.revoked = timezone.now()
            link.save(update_fields=["revoked"])
    return link
