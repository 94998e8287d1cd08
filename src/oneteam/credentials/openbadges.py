"""Open Badges 3.0 credentials: building an ``OpenBadgeCredential`` and checking its shape.

The builder writes what the Open Badges 3.0 specification (1EdTech, final 3.0.3 context)
defines: ``@context`` VC 2.0 then OB 3.0; ``type`` VerifiableCredential and
OpenBadgeCredential; the issuer a ``Profile`` (the member's did:web and name); the
subject an ``AchievementSubject`` whose ``achievement`` is an ``Achievement`` with id,
name, description and ``criteria.narrative``. The skills an achievement stands for are
written as ``alignment`` entries (type ``Alignment``, ``targetName`` and ``targetUrl``
required, ``targetType`` one of the specification's values or ``ext:...``, optional
``targetCode``/``targetFramework``/``targetDescription``) and, for free-text labels,
as ``tag`` strings.

:func:`validate_credential` checks the structure the data model requires (required
fields, the ``type`` each object must carry, URIs and DateTimeZ values) and reports
every problem with its JSON path; Open Badges, Endorsement and CLR 2.0 credentials
are recognised. It does not check signatures, status or dates against the clock:
those are separate checks of :mod:`oneteam.credentials.verify`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oneteam.credentials.jsonld import (
    CLR_V2_CONTEXT,
    OB_V3_CONTEXT,
    OB_V3_CONTEXT_PREFIX,
    VC_V1_CONTEXT,
    VC_V2_CONTEXT,
)

OPEN_BADGE_TYPES = ("OpenBadgeCredential", "AchievementCredential")
ENDORSEMENT_TYPE = "EndorsementCredential"
CLR_TYPE = "ClrCredential"

ALIGNMENT_TARGET_TYPES = (
    "ceasn:Competency",
    "ceterms:Credential",
    "CFItem",
    "CFRubric",
    "CFRubricCriterion",
    "CFRubricCriterionLevel",
    "CTDL",
)
ACHIEVEMENT_TYPES = (
    "Achievement",
    "ApprenticeshipCertificate",
    "Assessment",
    "Assignment",
    "AssociateDegree",
    "Award",
    "Badge",
    "BachelorDegree",
    "Certificate",
    "CertificateOfCompletion",
    "Certification",
    "CommunityService",
    "Competency",
    "Course",
    "CoCurricular",
    "Degree",
    "Diploma",
    "DoctoralDegree",
    "Fieldwork",
    "GeneralEducationDevelopment",
    "JourneymanCertificate",
    "LearningProgram",
    "License",
    "Membership",
    "ProfessionalDoctorate",
    "QualityAssuranceCredential",
    "MasterCertificate",
    "MasterDegree",
    "MicroCredential",
    "ResearchDoctorate",
    "SecondarySchoolDiploma",
)
DATE_TIME_Z = re.compile(
    r"^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T"
    r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")
NESTING_MAX = 32


# --- building --------------------------------------------------------------------------


@dataclass(frozen=True)
class Alignment:
    """A skill or competency (a framework item) that an achievement aligns to."""

    target_name: str
    target_url: str
    target_type: str | None = None
    target_code: str | None = None
    target_framework: str | None = None
    target_description: str | None = None

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "type": ["Alignment"],
            "targetName": self.target_name,
            "targetUrl": self.target_url,
        }
        if self.target_type is not None:
            entry["targetType"] = self.target_type
        if self.target_code is not None:
            entry["targetCode"] = self.target_code
        if self.target_framework is not None:
            entry["targetFramework"] = self.target_framework
        if self.target_description is not None:
            entry["targetDescription"] = self.target_description
        return entry


@dataclass(frozen=True)
class AchievementSpec:
    id: str
    name: str
    description: str
    criteria_narrative: str
    criteria_id: str | None = None
    achievement_type: str | None = None
    alignments: Sequence[Alignment] = ()
    tags: Sequence[str] = ()
    image_url: str | None = None
    creator: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        achievement: dict[str, Any] = {"id": self.id, "type": ["Achievement"]}
        if self.achievement_type is not None:
            achievement["achievementType"] = self.achievement_type
        criteria: dict[str, Any] = {}
        if self.criteria_id is not None:
            criteria["id"] = self.criteria_id
        criteria["narrative"] = self.criteria_narrative
        achievement["criteria"] = criteria
        achievement["description"] = self.description
        achievement["name"] = self.name
        if self.alignments:
            achievement["alignment"] = [alignment.to_json() for alignment in self.alignments]
        if self.tags:
            achievement["tag"] = list(self.tags)
        if self.image_url is not None:
            achievement["image"] = {"id": self.image_url, "type": "Image"}
        if self.creator is not None:
            achievement["creator"] = dict(self.creator)
        achievement.update(self.extra)
        return achievement


def issuer_profile(
    issuer_id: str, name: str, *, url: str | None = None, email: str | None = None
) -> dict[str, Any]:
    profile: dict[str, Any] = {"id": issuer_id, "type": ["Profile"], "name": name}
    if url is not None:
        profile["url"] = url
    if email is not None:
        profile["email"] = email
    return profile


def build_open_badge_credential(
    *,
    credential_id: str,
    issuer: Mapping[str, Any],
    subject_id: str,
    achievement: AchievementSpec,
    valid_from: str,
    valid_until: str | None = None,
    name: str | None = None,
    description: str | None = None,
    awarded_date: str | None = None,
    credential_status: Mapping[str, Any] | None = None,
    extra_contexts: Sequence[str] = (),
) -> dict[str, Any]:
    """An unsigned OpenBadgeCredential (sign it with ``dataintegrity.add_proof``)."""
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT, OB_V3_CONTEXT, *extra_contexts],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": dict(issuer),
        "validFrom": valid_from,
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["name"] = name if name is not None else achievement.name
    if description is not None:
        credential["description"] = description
    if awarded_date is not None:
        credential["awardedDate"] = awarded_date
    credential["credentialSubject"] = {
        "id": subject_id,
        "type": ["AchievementSubject"],
        "achievement": achievement.to_json(),
    }
    if credential_status is not None:
        credential["credentialStatus"] = dict(credential_status)
    problems = validate_credential(credential)
    if problems:
        raise ValueError("the credential would be invalid: " + "; ".join(str(p) for p in problems))
    return credential


# --- validating ------------------------------------------------------------------------


@dataclass(frozen=True)
class StructureProblem:
    path: str
    code: str  # REQUIRED, TYPE, FORMAT, CONTEXT, VALUE, UNSUPPORTED
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class _Report:
    def __init__(self) -> None:
        self.problems: list[StructureProblem] = []

    def add(self, path: str, code: str, message: str) -> None:
        self.problems.append(StructureProblem(path, code, message))


def _child(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"


def _types(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _many(obj: Mapping[str, Any], key: str, path: str, report: _Report) -> list[tuple[str, Any]]:
    """The values of a property that may be one value or an array, with their paths."""
    if key not in obj:
        return []
    value = obj[key]
    if isinstance(value, list):
        if not value:
            report.add(_child(path, key), "VALUE", "must not be an empty array")
        return [(_child(_child(path, key), index), item) for index, item in enumerate(value)]
    return [(_child(path, key), value)]


def _require_type(
    obj: Any, path: str, wanted: Sequence[str], report: _Report, *, what: str
) -> bool:
    if not isinstance(obj, Mapping):
        report.add(path, "TYPE", f"{what} must be a JSON object")
        return False
    types = _types(obj.get("type"))
    if types is None:
        report.add(
            _child(path, "type"), "REQUIRED", f"{what} needs a type (a string or array of strings)"
        )
        return False
    if not any(kind in types for kind in wanted):
        report.add(
            _child(path, "type"),
            "TYPE",
            f"{what} type must include {' or '.join(wanted)}, found {types}",
        )
        return False
    return True


def _require_string(
    obj: Mapping[str, Any], key: str, path: str, report: _Report, *, required: bool = True
) -> None:
    if key not in obj:
        if required:
            report.add(_child(path, key), "REQUIRED", f"{key} is required")
        return
    if not isinstance(obj[key], str) or not obj[key].strip():
        report.add(_child(path, key), "TYPE", f"{key} must be a non-empty string")


def _require_uri(
    obj: Mapping[str, Any], key: str, path: str, report: _Report, *, required: bool = True
) -> None:
    if key not in obj:
        if required:
            report.add(_child(path, key), "REQUIRED", f"{key} is required")
        return
    value = obj[key]
    if not isinstance(value, str) or not URI.match(value):
        report.add(_child(path, key), "FORMAT", f"{key} must be an absolute URI, found {value!r}")


def parse_date_time_z(value: Any) -> dt.datetime | None:
    """A timezone-aware datetime for a valid DateTimeZ, else None."""
    if not isinstance(value, str) or not DATE_TIME_Z.match(value):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _require_date(
    obj: Mapping[str, Any], key: str, path: str, report: _Report, *, required: bool = False
) -> None:
    if key not in obj:
        if required:
            report.add(_child(path, key), "REQUIRED", f"{key} is required")
        return
    if parse_date_time_z(obj[key]) is None:
        report.add(
            _child(path, key),
            "FORMAT",
            f"{key} must be a date-time with a time zone (e.g. 2025-03-01T09:00:00Z), "
            f"found {obj[key]!r}",
        )


def _check_profile(
    obj: Any, path: str, report: _Report, depth: int, *, what: str = "Profile"
) -> None:
    if isinstance(obj, str):
        if not URI.match(obj):
            report.add(path, "FORMAT", f"{what} reference must be an absolute URI")
        return
    if not _require_type(obj, path, ["Profile"], report, what=what):
        return
    _require_uri(obj, "id", path, report)
    _require_string(obj, "name", path, report, required=False)
    for item_path, item in _many(obj, "otherIdentifier", path, report):
        if _require_type(
            item, item_path, ["IdentifierEntry"], report, what="otherIdentifier entry"
        ):
            _require_string(item, "identifier", item_path, report)
            _require_string(item, "identifierType", item_path, report)
    if "address" in obj:
        _require_type(obj["address"], _child(path, "address"), ["Address"], report, what="address")
    if "image" in obj:
        _check_image(obj["image"], _child(path, "image"), report)
    if "parentOrg" in obj and depth < NESTING_MAX:
        _check_profile(
            obj["parentOrg"], _child(path, "parentOrg"), report, depth + 1, what="parentOrg"
        )
    for item_path, item in _many(obj, "endorsement", path, report):
        if depth < NESTING_MAX:
            _check_credential(item, item_path, report, depth + 1, nested=True)


def _check_image(obj: Any, path: str, report: _Report) -> None:
    if isinstance(obj, str):
        if not URI.match(obj):
            report.add(path, "FORMAT", "image must be an absolute URI")
        return
    if _require_type(obj, path, ["Image"], report, what="image"):
        _require_uri(obj, "id", path, report)


def _check_alignment(obj: Any, path: str, report: _Report) -> None:
    if not _require_type(obj, path, ["Alignment"], report, what="alignment"):
        return
    _require_string(obj, "targetName", path, report)
    _require_uri(obj, "targetUrl", path, report)
    target_type = obj.get("targetType")
    if target_type is not None and not (
        target_type in ALIGNMENT_TARGET_TYPES
        or (isinstance(target_type, str) and target_type.startswith("ext:"))
    ):
        report.add(
            _child(path, "targetType"),
            "VALUE",
            f"targetType {target_type!r} is not an AlignmentTargetType",
        )
    for key in ("targetCode", "targetFramework", "targetDescription"):
        _require_string(obj, key, path, report, required=False)


def _check_achievement(obj: Any, path: str, report: _Report, depth: int) -> None:
    if isinstance(obj, str):
        report.add(path, "TYPE", "achievement must be embedded as an Achievement object")
        return
    if not _require_type(obj, path, ["Achievement"], report, what="achievement"):
        return
    _require_uri(obj, "id", path, report)
    _require_string(obj, "name", path, report)
    _require_string(obj, "description", path, report)
    criteria = obj.get("criteria")
    if criteria is None:
        report.add(_child(path, "criteria"), "REQUIRED", "criteria is required")
    elif not isinstance(criteria, Mapping):
        report.add(_child(path, "criteria"), "TYPE", "criteria must be an object")
    else:
        if "id" not in criteria and "narrative" not in criteria:
            report.add(_child(path, "criteria"), "REQUIRED", "criteria needs an id or a narrative")
        _require_uri(criteria, "id", _child(path, "criteria"), report, required=False)
        _require_string(criteria, "narrative", _child(path, "criteria"), report, required=False)
    achievement_type = obj.get("achievementType")
    if achievement_type is not None and not (
        achievement_type in ACHIEVEMENT_TYPES
        or (isinstance(achievement_type, str) and achievement_type.startswith("ext:"))
    ):
        report.add(
            _child(path, "achievementType"),
            "VALUE",
            f"achievementType {achievement_type!r} is not defined",
        )
    for item_path, item in _many(obj, "alignment", path, report):
        _check_alignment(item, item_path, report)
    if "tag" in obj:
        tags = obj["tag"] if isinstance(obj["tag"], list) else [obj["tag"]]
        if not all(isinstance(tag, str) and tag for tag in tags):
            report.add(_child(path, "tag"), "TYPE", "tag must be strings")
    if "creator" in obj:
        _check_profile(obj["creator"], _child(path, "creator"), report, depth + 1, what="creator")
    if "image" in obj:
        _check_image(obj["image"], _child(path, "image"), report)
    for item_path, item in _many(obj, "resultDescription", path, report):
        if not _require_type(
            item, item_path, ["ResultDescription"], report, what="resultDescription"
        ):
            continue
        _require_uri(item, "id", item_path, report)
        _require_string(item, "name", item_path, report)
        _require_string(item, "resultType", item_path, report)
        for alignment_path, alignment in _many(item, "alignment", item_path, report):
            _check_alignment(alignment, alignment_path, report)
        for level_path, level in _many(item, "rubricCriterionLevel", item_path, report):
            if _require_type(
                level, level_path, ["RubricCriterionLevel"], report, what="rubricCriterionLevel"
            ):
                _require_uri(level, "id", level_path, report)
                _require_string(level, "name", level_path, report)
    for item_path, item in _many(obj, "otherIdentifier", path, report):
        _require_type(item, item_path, ["IdentifierEntry"], report, what="otherIdentifier entry")
    for item_path, item in _many(obj, "endorsement", path, report):
        if depth < NESTING_MAX:
            _check_credential(item, item_path, report, depth + 1, nested=True)


def _check_achievement_subject(obj: Any, path: str, report: _Report, depth: int) -> None:
    if not _require_type(obj, path, ["AchievementSubject"], report, what="credentialSubject"):
        return
    if "id" not in obj and not obj.get("identifier"):
        report.add(path, "REQUIRED", "credentialSubject needs an id or at least one identifier")
    _require_uri(obj, "id", path, report, required=False)
    if "achievement" not in obj:
        report.add(_child(path, "achievement"), "REQUIRED", "achievement is required")
    else:
        _check_achievement(obj["achievement"], _child(path, "achievement"), report, depth + 1)
    for item_path, item in _many(obj, "identifier", path, report):
        if _require_type(item, item_path, ["IdentityObject"], report, what="identifier"):
            if not isinstance(item.get("hashed"), bool):
                report.add(_child(item_path, "hashed"), "REQUIRED", "hashed must be true or false")
            _require_string(item, "identityHash", item_path, report)
            _require_string(item, "identityType", item_path, report)
    for item_path, item in _many(obj, "result", path, report):
        if _require_type(item, item_path, ["Result"], report, what="result"):
            for alignment_path, alignment in _many(item, "alignment", item_path, report):
                _check_alignment(alignment, alignment_path, report)
    if "source" in obj:
        _check_profile(obj["source"], _child(path, "source"), report, depth + 1, what="source")
    for key in ("activityStartDate", "activityEndDate"):
        _require_date(obj, key, path, report)
    if "creditsEarned" in obj and (
        isinstance(obj["creditsEarned"], bool) or not isinstance(obj["creditsEarned"], (int, float))
    ):
        report.add(_child(path, "creditsEarned"), "TYPE", "creditsEarned must be a number")


def _check_contexts(obj: Mapping[str, Any], path: str, report: _Report, *, want_clr: bool) -> bool:
    contexts = obj.get("@context")
    context_path = _child(path, "@context")
    if not isinstance(contexts, list) or not contexts:
        report.add(
            context_path, "CONTEXT", "@context must be an array starting with the VC 2.0 context"
        )
        return False
    if contexts[0] == VC_V1_CONTEXT:
        report.add(
            context_path,
            "UNSUPPORTED",
            "VC Data Model 1.1 credentials are not supported; OneTeam verifies VC 2.0",
        )
        return False
    if contexts[0] != VC_V2_CONTEXT:
        report.add(_child(context_path, 0), "CONTEXT", f"the first context must be {VC_V2_CONTEXT}")
        return False
    if not any(
        isinstance(item, str) and item.startswith(OB_V3_CONTEXT_PREFIX) for item in contexts
    ):
        report.add(
            context_path, "CONTEXT", f"the Open Badges 3.0 context ({OB_V3_CONTEXT}) is missing"
        )
    if want_clr and CLR_V2_CONTEXT not in contexts:
        report.add(context_path, "CONTEXT", f"the CLR 2.0 context ({CLR_V2_CONTEXT}) is missing")
    return True


def _check_credential(
    obj: Any, path: str, report: _Report, depth: int, *, nested: bool = False
) -> None:
    if not isinstance(obj, Mapping):
        report.add(path, "TYPE", "a credential must be a JSON object")
        return
    types = _types(obj.get("type")) or []
    is_clr = CLR_TYPE in types
    if not _check_contexts(obj, path, report, want_clr=is_clr):
        return
    wanted = [*OPEN_BADGE_TYPES, ENDORSEMENT_TYPE, CLR_TYPE]
    if not _types(obj.get("type")):
        report.add(_child(path, "type"), "REQUIRED", "type is required")
        return
    if "VerifiableCredential" not in types:
        report.add(_child(path, "type"), "TYPE", "type must include VerifiableCredential")
    if not any(kind in types for kind in wanted):
        report.add(
            _child(path, "type"),
            "TYPE",
            f"type must include one of {', '.join(wanted)}, found {types}",
        )
        return
    _require_uri(obj, "id", path, report)
    _require_string(obj, "name", path, report, required=not nested or ENDORSEMENT_TYPE not in types)
    _require_string(obj, "description", path, report, required=False)
    if "issuer" not in obj:
        report.add(_child(path, "issuer"), "REQUIRED", "issuer is required")
    else:
        _check_profile(obj["issuer"], _child(path, "issuer"), report, depth + 1, what="issuer")
    _require_date(obj, "validFrom", path, report, required=True)
    _require_date(obj, "validUntil", path, report)
    _require_date(obj, "awardedDate", path, report)
    if "issuanceDate" in obj or "expirationDate" in obj:
        report.add(
            path,
            "UNSUPPORTED",
            "issuanceDate/expirationDate are VC 1.1 properties; VC 2.0 uses validFrom/validUntil",
        )
    subjects = _many(obj, "credentialSubject", path, report)
    if not subjects:
        report.add(_child(path, "credentialSubject"), "REQUIRED", "credentialSubject is required")
    for subject_path, subject in subjects:
        if is_clr:
            if _require_type(
                subject, subject_path, ["ClrSubject"], report, what="credentialSubject"
            ):
                for vc_path, vc in _many(subject, "verifiableCredential", subject_path, report):
                    if depth < NESTING_MAX:
                        _check_credential(vc, vc_path, report, depth + 1, nested=True)
        elif ENDORSEMENT_TYPE in types and not any(kind in types for kind in OPEN_BADGE_TYPES):
            if _require_type(
                subject, subject_path, ["EndorsementSubject"], report, what="credentialSubject"
            ):
                _require_uri(subject, "id", subject_path, report)
        else:
            _check_achievement_subject(subject, subject_path, report, depth + 1)
    for item_path, item in _many(obj, "evidence", path, report):
        _require_type(item, item_path, ["Evidence"], report, what="evidence")
    if "image" in obj:
        _check_image(obj["image"], _child(path, "image"), report)
    for key in ("credentialStatus", "credentialSchema", "refreshService", "termsOfUse"):
        for item_path, item in _many(obj, key, path, report):
            if not isinstance(item, Mapping) or not isinstance(item.get("type"), (str, list)):
                report.add(item_path, "REQUIRED", f"{key} entries need a type")
    for item_path, item in _many(obj, "endorsement", path, report):
        if depth < NESTING_MAX:
            _check_credential(item, item_path, report, depth + 1, nested=True)


def validate_credential(credential: Any) -> list[StructureProblem]:
    """Every structural problem of an Open Badges 3.0 / Endorsement / CLR 2.0 credential."""
    report = _Report()
    _check_credential(credential, "$", report, 0)
    return report.problems


def credential_types(credential: Mapping[str, Any]) -> list[str]:
    return _types(credential.get("type")) or []


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, Mapping) and isinstance(issuer.get("id"), str):
        return str(issuer["id"])
    return None


def iter_problem_paths(problems: Iterable[StructureProblem]) -> list[str]:
    return [problem.path for problem in problems]
