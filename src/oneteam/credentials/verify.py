"""Verifying a credential: a list of independent checks, each with a stable code.

:func:`verify_credential` runs the checks in order and returns one
:class:`CheckResult` per check: ``format``, ``structure`` (Open Badges 3.0 data
model), ``jsonld`` (pinned contexts, no undefined terms), ``issuer_key`` (each
proof's verification method resolves to a key the issuer controls), ``proof``
(Data Integrity signatures), ``status`` (Bitstring Status List) and ``validity``
(``validFrom``/``validUntil`` against the clock). Callers append their own checks
(the ledger anchor, the issuer's membership of the alliance) through
``extra_checks``: any callable taking the :class:`VerificationContext` and
returning a :class:`CheckResult`.

Every message exists in Korean and English (:data:`MESSAGES`); the Django app wires
them to gettext. Problems carry a JSON path where one applies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from oneteam.credentials import dataintegrity as di
from oneteam.credentials.did import (
    KeyResolver,
    ResolutionError,
    ResolvedKey,
    VerificationMethodResolver,
)
from oneteam.credentials.jsonld import (
    JsonLdError,
    PinnedDocumentLoader,
    UndefinedTerm,
    UndefinedTermError,
    UnknownContextError,
    default_loader,
    expand_strict,
)
from oneteam.credentials.merkle import is_anchor_proof
from oneteam.credentials.openbadges import issuer_id, parse_date_time_z, validate_credential
from oneteam.credentials.statuslist import (
    ENTRY_TYPE,
    PURPOSE_REVOCATION,
    PURPOSE_SUSPENSION,
    StatusListError,
    parse_entry,
)
from oneteam.credentials.statuslist import check_status as read_status

PASSED = "passed"
FAILED = "failed"
WARNING = "warning"
SKIPPED = "skipped"
UNSUPPORTED = "unsupported"
LANGUAGES = ("ko", "en")
STATUS_ENTRIES_MAX = 8

MESSAGES: dict[str, dict[str, str]] = {
    # format
    "format.ok": {"ko": "JSON 자격증명입니다.", "en": "The credential is JSON."},
    "format.jwt": {
        "ko": "JWT(VC-JOSE) 형식 자격증명은 지원하지 않습니다. "
        "Data Integrity 증명이 포함된 JSON 자격증명만 검증합니다.",
        "en": "JWT (VC-JOSE) credentials are not supported; "
        "only JSON credentials with Data Integrity proofs are verified.",
    },
    "format.not_json": {
        "ko": "JSON으로 읽을 수 없습니다: {detail}",
        "en": "The credential is not valid JSON: {detail}",
    },
    "format.not_object": {
        "ko": "자격증명은 JSON 객체여야 합니다.",
        "en": "A credential must be a JSON object.",
    },
    # structure
    "structure.ok": {
        "ko": "Open Badges 3.0 구조가 올바릅니다.",
        "en": "The Open Badges 3.0 structure is valid.",
    },
    "structure.failed": {
        "ko": "구조 오류 {count}건이 있습니다.",
        "en": "{count} structural problem(s) found.",
    },
    "structure.unsupported": {
        "ko": "지원하지 않는 자격증명 형식입니다(VC 1.1 등).",
        "en": "This credential format is not supported (for example VC 1.1).",
    },
    "structure.problem": {"ko": "{path}: {detail}", "en": "{path}: {detail}"},
    # jsonld
    "jsonld.ok": {
        "ko": "모든 속성이 고정된 JSON-LD 컨텍스트로 정의되어 있습니다.",
        "en": "Every property is defined by the pinned JSON-LD contexts.",
    },
    "jsonld.unknown_context": {
        "ko": "알 수 없는 컨텍스트 {url} 를 사용합니다. 컨텍스트는 네트워크에서 가져오지 않습니다.",
        "en": "The credential uses the unknown context {url}; "
        "contexts are never fetched from the network.",
    },
    "jsonld.undefined_term": {
        "ko": "컨텍스트에 정의되지 않은 항목이 있어 서명되지 않은 데이터가 생깁니다: {detail}",
        "en": "An undefined term would leave data outside the signature: {detail}",
    },
    "jsonld.error": {
        "ko": "JSON-LD 처리에 실패했습니다: {detail}",
        "en": "JSON-LD processing failed: {detail}",
    },
    # issuer key
    "issuer_key.ok": {
        "ko": "서명 키가 발급자 {issuer} 의 키로 확인되었습니다.",
        "en": "The signing key belongs to the issuer {issuer}.",
    },
    "issuer_key.unresolved": {
        "ko": "검증 방법 {method} 을(를) 확인할 수 없습니다: {detail}",
        "en": "The verification method {method} could not be resolved: {detail}",
    },
    "issuer_key.not_issuer": {
        "ko": "검증 방법 {method} 의 소유자 {controller} 가 발급자 {issuer} 와 다릅니다.",
        "en": "The verification method {method} is controlled by {controller}, "
        "not by the issuer {issuer}.",
    },
    "issuer_key.no_issuer": {
        "ko": "발급자 id가 없습니다.",
        "en": "The credential has no issuer id.",
    },
    "issuer_key.no_proof": {
        "ko": "확인할 지원 증명이 없습니다.",
        "en": "There is no supported proof whose key could be checked.",
    },
    # proof
    "proof.ok": {"ko": "서명이 유효합니다({suite}).", "en": "The signature is valid ({suite})."},
    "proof.missing": {"ko": "증명(proof)이 없습니다.", "en": "The credential has no proof."},
    "proof.invalid": {
        "ko": "서명 검증에 실패했습니다({suite}): {detail}",
        "en": "The signature does not verify ({suite}): {detail}",
    },
    "proof.malformed": {
        "ko": "증명 형식이 잘못되었습니다: {detail}",
        "en": "The proof is malformed: {detail}",
    },
    "proof.unsupported": {
        "ko": "지원하지 않는 증명 방식입니다: {detail}. "
        "지원: DataIntegrityProof eddsa-rdfc-2022, eddsa-jcs-2022.",
        "en": "Unsupported proof: {detail}. "
        "Supported: DataIntegrityProof with eddsa-rdfc-2022 or eddsa-jcs-2022.",
    },
    "proof.no_key": {
        "ko": "키를 확인하지 못해 서명을 검증할 수 없습니다({method}).",
        "en": "The signature cannot be checked because its key was not resolved ({method}).",
    },
    "proof.anchor": {
        "ko": "원장 앵커 증명은 앵커 검사에서 확인합니다.",
        "en": "The ledger anchor proof is checked by the anchor check.",
    },
    # status
    "status.none": {
        "ko": "상태 목록 항목이 없습니다.",
        "en": "The credential has no status entry.",
    },
    "status.ok": {
        "ko": "폐기·정지되지 않았습니다.",
        "en": "The credential is neither revoked nor suspended.",
    },
    "status.revoked": {
        "ko": "발급자가 이 자격증명을 폐기했습니다.",
        "en": "The issuer has revoked this credential.",
    },
    "status.suspended": {
        "ko": "발급자가 이 자격증명을 정지했습니다.",
        "en": "The issuer has suspended this credential.",
    },
    "status.message": {"ko": "상태 값 {value}: {detail}", "en": "Status value {value}: {detail}"},
    "status.unsupported": {
        "ko": "지원하지 않는 상태 방식입니다: {detail}",
        "en": "Unsupported status mechanism: {detail}",
    },
    "status.unavailable": {
        "ko": "상태 목록 {url} 을(를) 가져올 수 없습니다: {detail}",
        "en": "The status list {url} is not available: {detail}",
    },
    "status.list_invalid": {
        "ko": "상태 목록 자격증명 {url} 이(가) 유효하지 않습니다: {detail}",
        "en": "The status list credential {url} is not valid: {detail}",
    },
    "status.error": {"ko": "상태 항목 오류: {detail}", "en": "Status entry error: {detail}"},
    # validity
    "validity.ok": {
        "ko": "유효 기간 안에 있습니다.",
        "en": "The credential is within its validity period.",
    },
    "validity.not_yet": {
        "ko": "아직 유효하지 않습니다(시작: {when}).",
        "en": "The credential is not valid yet (valid from {when}).",
    },
    "validity.expired": {
        "ko": "유효 기간이 지났습니다(만료: {when}).",
        "en": "The credential has expired (valid until {when}).",
    },
    "validity.bad_date": {
        "ko": "{field} 날짜 형식이 잘못되었습니다.",
        "en": "{field} is not a valid date-time.",
    },
    "validity.missing": {"ko": "validFrom이 없습니다.", "en": "validFrom is missing."},
}


@dataclass(frozen=True)
class Message:
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, language: str = "ko") -> str:
        templates = MESSAGES[self.key]
        return templates.get(language, templates["en"]).format(**self.params)

    def to_json(self) -> dict[str, str]:
        return {language: self.text(language) for language in LANGUAGES}


@dataclass(frozen=True)
class Problem:
    code: str
    message: Message
    path: str | None = None


@dataclass(frozen=True)
class CheckResult:
    code: str
    status: str
    summary: Message
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status in (PASSED, SKIPPED, WARNING)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": self.status,
            "message": self.summary.to_json(),
            "problems": [
                {"code": problem.code, "path": problem.path, "message": problem.message.to_json()}
                for problem in self.problems
            ],
        }


@dataclass(frozen=True)
class VerificationReport:
    checks: tuple[CheckResult, ...]

    @property
    def verified(self) -> bool:
        proof = self.get("proof")
        return (
            all(check.ok for check in self.checks) and proof is not None and proof.status == PASSED
        )

    def get(self, code: str) -> CheckResult | None:
        for check in self.checks:
            if check.code == code:
                return check
        return None

    def __getitem__(self, code: str) -> CheckResult:
        check = self.get(code)
        if check is None:
            raise KeyError(code)
        return check

    def to_json(self) -> dict[str, Any]:
        return {"verified": self.verified, "checks": [check.to_json() for check in self.checks]}


class StatusListSource(Protocol):
    def status_list_credential(self, url: str) -> Mapping[str, Any]:
        """The status list credential at ``url``; raise any exception if unavailable."""
        ...


class StaticStatusLists:
    """Status list credentials held in memory by URL (no network)."""

    def __init__(self, lists: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._lists = dict(lists or {})

    def status_list_credential(self, url: str) -> Mapping[str, Any]:
        if url not in self._lists:
            raise LookupError(f"no status list credential is held for {url}")
        return self._lists[url]


@dataclass
class VerificationContext:
    credential: Mapping[str, Any]
    loader: PinnedDocumentLoader
    resolver: VerificationMethodResolver
    status_lists: StatusListSource
    now: dt.datetime
    require_issuer_controls_key: bool = True
    resolved_keys: dict[int, ResolvedKey] = field(default_factory=dict)
    results: list[CheckResult] = field(default_factory=list)
    depth: int = 0


Check = Callable[[VerificationContext], CheckResult]


def _supported(proof: Mapping[str, Any]) -> bool:
    return (
        proof.get("type") == di.PROOF_TYPE and proof.get("cryptosuite") in di.SUPPORTED_CRYPTOSUITES
    )


def _describe_proof(proof: Mapping[str, Any]) -> str:
    kind = proof.get("type")
    suite = proof.get("cryptosuite")
    return f"{kind} {suite}" if suite else str(kind)


def check_structure(context: VerificationContext) -> CheckResult:
    problems = validate_credential(context.credential)
    if not problems:
        return CheckResult("structure", PASSED, Message("structure.ok"))
    items = tuple(
        Problem(
            f"STRUCTURE_{problem.code}",
            Message("structure.problem", {"path": problem.path, "detail": problem.message}),
            problem.path,
        )
        for problem in problems
    )
    if all(problem.code == "UNSUPPORTED" for problem in problems):
        return CheckResult("structure", UNSUPPORTED, Message("structure.unsupported"), items)
    return CheckResult(
        "structure", FAILED, Message("structure.failed", {"count": len(problems)}), items
    )


def _signed_parts(credential: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """What the supported proofs sign: the document without ``proof``, and each proof's
    configuration under the document's ``@context``. Proofs of other types sign nothing
    this verifier reads, so their vocabulary is not its concern."""
    parts: list[tuple[str, Mapping[str, Any]]] = [
        ("$", {key: value for key, value in credential.items() if key != "proof"})
    ]
    try:
        proofs = di.proofs_of(credential)
    except di.DataIntegrityError:
        return parts
    listed = isinstance(credential.get("proof"), list)
    for index, proof in enumerate(proofs):
        if _supported(proof) or is_anchor_proof(proof):
            configuration = {key: value for key, value in proof.items() if key != "proofValue"}
            if "@context" in credential:
                configuration["@context"] = credential["@context"]
            parts.append((f"$.proof[{index}]" if listed else "$.proof", configuration))
    return parts


def _rebase(path: str, prefix: str) -> str:
    return prefix + path[1:] if prefix != "$" and path.startswith("$") else path


def check_jsonld(context: VerificationContext) -> CheckResult:
    problems: list[Problem] = []
    for prefix, part in _signed_parts(context.credential):
        found = _check_jsonld_part(context, part, prefix)
        if found and found[0].code in ("JSONLD_UNKNOWN_CONTEXT", "JSONLD_ERROR"):
            return CheckResult("jsonld", FAILED, found[0].message, tuple(found))
        problems.extend(found)
    if problems:
        summary = Message(
            "jsonld.undefined_term",
            {"detail": "; ".join(str(p.message.params["detail"]) for p in problems)},
        )
        return CheckResult("jsonld", FAILED, summary, tuple(problems))
    return CheckResult("jsonld", PASSED, Message("jsonld.ok"))


def _check_jsonld_part(
    context: VerificationContext, part: Mapping[str, Any], prefix: str
) -> list[Problem]:
    try:
        expand_strict(part, context.loader)
    except UnknownContextError as error:
        return [
            Problem(
                "JSONLD_UNKNOWN_CONTEXT",
                Message("jsonld.unknown_context", {"url": error.url}),
                "$.@context",
            )
        ]
    except UndefinedTermError as error:
        problems = []
        for term in error.problems:
            paths = tuple(_rebase(path, prefix) for path in term.paths)
            rebased = UndefinedTerm(term.kind, term.term, paths)
            problems.append(
                Problem(
                    "JSONLD_UNDEFINED_TERM",
                    Message("jsonld.undefined_term", {"detail": rebased.describe()}),
                    paths[0] if paths else prefix,
                )
            )
        return problems
    except JsonLdError as error:
        return [Problem("JSONLD_ERROR", Message("jsonld.error", {"detail": str(error)}))]
    return []


def _proofs(context: VerificationContext) -> list[dict[str, Any]] | None:
    try:
        return di.proofs_of(context.credential)
    except di.DataIntegrityError:
        return None


def check_issuer_key(context: VerificationContext) -> CheckResult:
    proofs = _proofs(context) or []
    issuer = issuer_id(context.credential)
    problems: list[Problem] = []
    checked = 0
    for index, proof in enumerate(proofs):
        if not _supported(proof):
            continue
        checked += 1
        method = proof.get("verificationMethod")
        path = (
            f"$.proof[{index}].verificationMethod"
            if isinstance(context.credential.get("proof"), list)
            else "$.proof.verificationMethod"
        )
        try:
            resolved = context.resolver.resolve(
                str(method) if method is not None else "", purpose=str(proof.get("proofPurpose"))
            )
        except ResolutionError as error:
            problems.append(
                Problem(
                    f"KEY_{error.code}",
                    Message("issuer_key.unresolved", {"method": method, "detail": str(error)}),
                    path,
                )
            )
            continue
        # The key is kept even when it is not the issuer's, so the proof check still
        # reports whether the signature itself matches; this check reports the binding.
        context.resolved_keys[index] = resolved
        if issuer is None:
            problems.append(Problem("KEY_NO_ISSUER", Message("issuer_key.no_issuer"), "$.issuer"))
            continue
        if context.require_issuer_controls_key and resolved.controller != issuer:
            problems.append(
                Problem(
                    "KEY_NOT_ISSUER",
                    Message(
                        "issuer_key.not_issuer",
                        {"method": method, "controller": resolved.controller, "issuer": issuer},
                    ),
                    path,
                )
            )
            continue
    if checked == 0:
        return CheckResult("issuer_key", SKIPPED, Message("issuer_key.no_proof"))
    if problems:
        return CheckResult("issuer_key", FAILED, problems[0].message, tuple(problems))
    return CheckResult("issuer_key", PASSED, Message("issuer_key.ok", {"issuer": issuer}))


def check_proof(context: VerificationContext) -> CheckResult:
    proofs = _proofs(context)
    if proofs is None:
        message = Message(
            "proof.malformed", {"detail": "proof must be an object or an array of objects"}
        )
        return CheckResult(
            "proof", FAILED, message, (Problem("MALFORMED_PROOF_ERROR", message, "$.proof"),)
        )
    if not proofs:
        return CheckResult(
            "proof",
            FAILED,
            Message("proof.missing"),
            (Problem("PROOF_MISSING", Message("proof.missing"), "$.proof"),),
        )
    listed = isinstance(context.credential.get("proof"), list)
    problems: list[Problem] = []
    verified: list[str] = []
    unsupported: list[str] = []
    for index, proof in enumerate(proofs):
        path = f"$.proof[{index}]" if listed else "$.proof"
        if is_anchor_proof(proof):
            problems.append(Problem("PROOF_ANCHOR_DELEGATED", Message("proof.anchor"), path))
            continue
        if not _supported(proof):
            unsupported.append(_describe_proof(proof))
            problems.append(
                Problem(
                    "PROOF_UNSUPPORTED",
                    Message("proof.unsupported", {"detail": _describe_proof(proof)}),
                    path,
                )
            )
            continue
        key = context.resolved_keys.get(index)
        if key is None:
            problems.append(
                Problem(
                    "PROOF_KEY_UNRESOLVED",
                    Message("proof.no_key", {"method": proof.get("verificationMethod")}),
                    path,
                )
            )
            continue
        result = di.verify_proof(
            context.credential, proof, key.public_key, now=context.now, loader=context.loader
        )
        if result.verified:
            verified.append(str(proof.get("cryptosuite")))
        else:
            problems.append(
                Problem(
                    result.code or "PROOF_VERIFICATION_ERROR",
                    Message(
                        "proof.invalid",
                        {"suite": proof.get("cryptosuite"), "detail": result.message},
                    ),
                    path,
                )
            )
    failing = [
        problem
        for problem in problems
        if problem.code not in ("PROOF_UNSUPPORTED", "PROOF_ANCHOR_DELEGATED")
    ]
    if failing:
        return CheckResult("proof", FAILED, failing[0].message, tuple(problems))
    if verified:
        return CheckResult(
            "proof", PASSED, Message("proof.ok", {"suite": ", ".join(verified)}), tuple(problems)
        )
    if unsupported:
        return CheckResult(
            "proof",
            UNSUPPORTED,
            Message("proof.unsupported", {"detail": ", ".join(unsupported)}),
            tuple(problems),
        )
    return CheckResult("proof", FAILED, Message("proof.missing"), tuple(problems))


_LIST_CHECKS_MAX = 256
# name -> (the loader it was checked with, the result); the loader is held so that the id
# in the name stays its own
_list_checks: OrderedDict[str, tuple[Any, CheckResult]] = OrderedDict()
_list_checks_lock = threading.Lock()


def _list_check(inner: VerificationContext, check: Check) -> CheckResult:
    """``check`` of a status list credential, remembered when it cannot change.

    Every credential of an issuer points at the same few list credentials, so a verifier
    would check the same list's JSON-LD and signature again and again. Both results
    depend only on the list credential, the key the resolver gave for it (resolved
    again each time: ``check_issuer_key`` runs first) and the loader; a proof that
    ``expires`` depends on the clock too, and is not remembered.
    """
    if check not in (check_jsonld, check_proof):
        return check(inner)
    proofs = _proofs(inner) or []
    if any("expires" in proof for proof in proofs):
        return check(inner)
    keys = ",".join(f"{index}:{key.public_key.raw.hex()}"
                    for index, key in sorted(inner.resolved_keys.items()))
    digest = getattr(inner, "_oneteam_list_digest", None)
    if digest is None:
        try:
            document = json.dumps(inner.credential, sort_keys=True, ensure_ascii=False)
        except (TypeError, ValueError):
            return check(inner)
        digest = hashlib.sha256(document.encode("utf-8")).hexdigest()
        inner._oneteam_list_digest = digest  # type: ignore[attr-defined]
    name = f"{check.__name__} {id(inner.loader)} {keys} {digest}"
    with _list_checks_lock:
        known = _list_checks.get(name)
        if known is not None and known[0] is inner.loader:
            _list_checks.move_to_end(name)
            return known[1]
    result = check(inner)
    with _list_checks_lock:
        _list_checks[name] = (inner.loader, result)
        while len(_list_checks) > _LIST_CHECKS_MAX:
            _list_checks.popitem(last=False)
    return result


def _verify_status_list(
    context: VerificationContext, list_credential: Mapping[str, Any]
) -> list[str]:
    """Problems with the list credential itself: signature, key, validity, same issuer."""
    if context.depth > 0:
        return ["status lists may not themselves depend on status lists"]
    inner = VerificationContext(
        credential=list_credential,
        loader=context.loader,
        resolver=context.resolver,
        status_lists=context.status_lists,
        now=context.now,
        require_issuer_controls_key=context.require_issuer_controls_key,
        depth=context.depth + 1,
    )
    reasons = []
    for check in (check_issuer_key, check_jsonld, check_proof, check_validity):
        result = _list_check(inner, check)
        inner.results.append(result)
        if not result.ok or (check is check_proof and result.status != PASSED):
            reasons.append(f"{result.code}: {result.summary.text('en')}")
    if issuer_id(list_credential) != issuer_id(context.credential):
        reasons.append(f"issued by {issuer_id(list_credential)!r}, not by the credential's issuer")
    return reasons


def check_status(context: VerificationContext) -> CheckResult:
    raw = context.credential.get("credentialStatus")
    if raw is None:
        return CheckResult("status", SKIPPED, Message("status.none"))
    entries = raw if isinstance(raw, list) else [raw]
    if len(entries) > STATUS_ENTRIES_MAX:
        message = Message(
            "status.error", {"detail": f"more than {STATUS_ENTRIES_MAX} status entries"}
        )
        return CheckResult(
            "status", FAILED, message, (Problem("STATUS_ERROR", message, "$.credentialStatus"),)
        )
    problems: list[Problem] = []
    unsupported = False
    warnings = False
    for position, entry in enumerate(entries):
        path = f"$.credentialStatus[{position}]" if isinstance(raw, list) else "$.credentialStatus"
        if not isinstance(entry, Mapping):
            problems.append(
                Problem(
                    "STATUS_ERROR",
                    Message("status.error", {"detail": "entry is not an object"}),
                    path,
                )
            )
            continue
        kinds = entry.get("type")
        if ENTRY_TYPE not in (kinds if isinstance(kinds, list) else [kinds]):
            unsupported = True
            problems.append(
                Problem(
                    "STATUS_UNSUPPORTED",
                    Message("status.unsupported", {"detail": str(kinds)}),
                    path,
                )
            )
            continue
        try:
            url, _index, _purpose, _size = parse_entry(entry)
        except StatusListError as error:
            problems.append(
                Problem(error.code, Message("status.error", {"detail": str(error)}), path)
            )
            continue
        try:
            list_credential = context.status_lists.status_list_credential(url)
        except Exception as error:  # noqa: BLE001 - any failure of the caller's source means "unavailable"
            problems.append(
                Problem(
                    "STATUS_RETRIEVAL_ERROR",
                    Message("status.unavailable", {"url": url, "detail": str(error)}),
                    path,
                )
            )
            continue
        reasons = _verify_status_list(context, list_credential)
        if reasons:
            problems.append(
                Problem(
                    "STATUS_VERIFICATION_ERROR",
                    Message("status.list_invalid", {"url": url, "detail": "; ".join(reasons)}),
                    path,
                )
            )
            continue
        try:
            status = read_status(entry, list_credential, now=context.now)
        except StatusListError as error:
            problems.append(
                Problem(error.code, Message("status.error", {"detail": str(error)}), path)
            )
            continue
        if status.is_set and status.purpose == PURPOSE_REVOCATION:
            problems.append(Problem("STATUS_REVOKED", Message("status.revoked"), path))
        elif status.is_set and status.purpose == PURPOSE_SUSPENSION:
            problems.append(Problem("STATUS_SUSPENDED", Message("status.suspended"), path))
        elif status.is_set:
            warnings = True
            problems.append(
                Problem(
                    "STATUS_MESSAGE",
                    Message(
                        "status.message", {"value": status.value, "detail": status.message or ""}
                    ),
                    path,
                )
            )
    failing = [p for p in problems if p.code not in ("STATUS_UNSUPPORTED", "STATUS_MESSAGE")]
    if failing:
        return CheckResult("status", FAILED, failing[0].message, tuple(problems))
    if unsupported:
        return CheckResult("status", UNSUPPORTED, problems[0].message, tuple(problems))
    if warnings:
        return CheckResult("status", WARNING, problems[0].message, tuple(problems))
    return CheckResult("status", PASSED, Message("status.ok"), tuple(problems))


def check_validity(context: VerificationContext) -> CheckResult:
    credential = context.credential
    if "validFrom" not in credential:
        message = Message("validity.missing")
        return CheckResult(
            "validity", FAILED, message, (Problem("VALIDITY_MISSING", message, "$.validFrom"),)
        )
    problems: list[Problem] = []
    valid_from = parse_date_time_z(credential.get("validFrom"))
    if valid_from is None:
        problems.append(
            Problem(
                "VALIDITY_BAD_DATE",
                Message("validity.bad_date", {"field": "validFrom"}),
                "$.validFrom",
            )
        )
    elif context.now < valid_from:
        problems.append(
            Problem(
                "VALIDITY_NOT_YET_VALID",
                Message("validity.not_yet", {"when": credential["validFrom"]}),
                "$.validFrom",
            )
        )
    if "validUntil" in credential:
        valid_until = parse_date_time_z(credential.get("validUntil"))
        if valid_until is None:
            problems.append(
                Problem(
                    "VALIDITY_BAD_DATE",
                    Message("validity.bad_date", {"field": "validUntil"}),
                    "$.validUntil",
                )
            )
        elif context.now >= valid_until:
            problems.append(
                Problem(
                    "VALIDITY_EXPIRED",
                    Message("validity.expired", {"when": credential["validUntil"]}),
                    "$.validUntil",
                )
            )
    if problems:
        return CheckResult("validity", FAILED, problems[0].message, tuple(problems))
    return CheckResult("validity", PASSED, Message("validity.ok"))


DEFAULT_CHECKS: tuple[Check, ...] = (
    check_structure,
    check_jsonld,
    check_issuer_key,
    check_proof,
    check_status,
    check_validity,
)

_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def _parse_input(
    credential: Mapping[str, Any] | str | bytes,
) -> tuple[Mapping[str, Any] | None, CheckResult]:
    if isinstance(credential, Mapping):
        return credential, CheckResult("format", PASSED, Message("format.ok"))
    text = (
        credential.decode("utf-8", errors="replace")
        if isinstance(credential, bytes)
        else credential
    )
    stripped = text.strip()
    if _JWT.match(stripped):
        message = Message("format.jwt")
        return None, CheckResult(
            "format", UNSUPPORTED, message, (Problem("FORMAT_JWT_UNSUPPORTED", message),)
        )
    try:
        parsed = json.loads(stripped)
    except ValueError as error:
        message = Message("format.not_json", {"detail": str(error)})
        return None, CheckResult("format", FAILED, message, (Problem("FORMAT_NOT_JSON", message),))
    if not isinstance(parsed, dict):
        message = Message("format.not_object")
        return None, CheckResult(
            "format", FAILED, message, (Problem("FORMAT_NOT_OBJECT", message),)
        )
    return parsed, CheckResult("format", PASSED, Message("format.ok"))


def verify_credential(
    credential: Mapping[str, Any] | str | bytes,
    *,
    resolver: VerificationMethodResolver | None = None,
    status_lists: StatusListSource | None = None,
    loader: PinnedDocumentLoader | None = None,
    now: dt.datetime | None = None,
    checks: Sequence[Check] = DEFAULT_CHECKS,
    extra_checks: Sequence[Check] = (),
    require_issuer_controls_key: bool = True,
) -> VerificationReport:
    """Run every check on ``credential`` and report each result; nothing is fetched."""
    parsed, format_result = _parse_input(credential)
    if parsed is None:
        return VerificationReport((format_result,))
    context = VerificationContext(
        credential=parsed,
        loader=loader or default_loader(),
        resolver=resolver or KeyResolver(),
        status_lists=status_lists or StaticStatusLists(),
        now=now or dt.datetime.now(dt.UTC),
        require_issuer_controls_key=require_issuer_controls_key,
    )
    context.results.append(format_result)
    for check in (*checks, *extra_checks):
        context.results.append(check(context))
    return VerificationReport(tuple(context.results))
