"""The ledger side of verification: the anchor check, the issuer-membership check, keys
taken from the chain, and the saved ledger header set for offline verification.

Plain Python (no Django), so ``oneteam verify`` runs without the platform.

**The anchor proof's value.** A credential's anchor proof (cryptosuite
``oneteam-merkle-anchor-2025``, :mod:`oneteam.credentials.merkle`) carries in
``proofValue`` the multibase base64url of the JCS bytes of the batch inclusion proof
(``type``, ``leafIndex``, ``treeSize``, ``path``, ``root``) plus one member ``ledger``:
``chainId``, ``org``, ``batchId``, ``txid``, ``height`` and ``proof``, the ledger's
inclusion proof of the ``anchors.anchor_batch`` transaction as ``GET /v1/tx/{id}/proof``
returns it. So a credential carries everything needed to check its anchor against a
set of trusted validator keys, with no network.

**The ledger header set** (``oneteam verify --save-headers FILE``), JSON::

    {"format": "oneteam-ledger-headers/v1", "chain_id": ..., "saved_height": H,
     "validators": [hex, ...], "headers": {"<height>": "<header hash hex>", ...},
     "members": {"<org>": {"name": ..., "roles": [...], "keys": [hex, ...]}, ...}}

``validators`` are the keys trusted to sign (or certify) headers; ``headers`` the
header hashes the saver read from its node (a proof's header must be the one saved for
its height, when that height is in the set); ``members`` the member organizations and
their active keys at ``saved_height``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import msgspec

from oneteam.credentials.did import ResolutionError, ResolvedKey
from oneteam.credentials.encoding import (
    MULTIBASE_BASE64URL,
    EncodingError,
    multibase_decode,
    multibase_encode,
)
from oneteam.credentials.jcs import canonicalize_json
from oneteam.credentials.merkle import (
    ANCHOR_CRYPTOSUITE,
    InclusionProof,
    MerkleError,
    is_anchor_proof,
)
from oneteam.credentials.multikey import Ed25519PublicKey
from oneteam.credentials.openbadges import issuer_id
from oneteam.credentials.verify import (
    FAILED,
    PASSED,
    SKIPPED,
    WARNING,
    CheckResult,
    Message,
    Problem,
    VerificationContext,
)
from oneteam.ledger.client import LedgerClient, LedgerClientError, ProofError, verify_proof

HEADER_SET_FORMAT = "oneteam-ledger-headers/v1"
HEADERS_PAGE = 100
HEADERS_SAVED_MAX = 1_000_000
ANCHOR_OP = "anchors.anchor_batch"
ORG_DID = re.compile(r"^did:web:[^#]+:orgs:([a-z0-9][a-z0-9._-]{0,63})$")

LEDGER_MESSAGES: dict[str, dict[str, str]] = {
    "anchor.ok": {
        "ko": "원장 블록 {height} 의 거래 {txid} 에 앵커되어 있습니다.",
        "en": "Anchored on the ledger in transaction {txid} at block {height}.",
    },
    "anchor.pending": {
        "ko": "아직 원장에 앵커되지 않았습니다(몇 초 안에 앵커됩니다).",
        "en": "Not anchored on the ledger yet (anchoring takes a few seconds).",
    },
    "anchor.failed": {
        "ko": "원장 앵커를 확인하지 못했습니다: {detail}",
        "en": "The ledger anchor does not hold: {detail}",
    },
    "membership.ok": {
        "ko": "발급 기관 {org} 은(는) 원장에 등록된 회원이며 "
        "서명 키가 그 기관의 키입니다({basis}).",
        "en": "The issuer {org} is a member registered on the ledger, and the signing key "
        "is its key ({basis}).",
    },
    "membership.failed": {
        "ko": "발급 기관의 원장 회원 자격을 확인하지 못했습니다: {detail}",
        "en": "The issuer's membership on the ledger does not hold: {detail}",
    },
    "membership.unknown": {
        "ko": "원장 정보가 없어 발급 기관의 회원 자격을 확인하지 않았습니다.",
        "en": "The issuer's membership was not checked: no ledger information.",
    },
    "status_anchor.ok": {
        "ko": "상태 목록이 원장에 앵커된 최신 판과 같습니다({versions}).",
        "en": "The status lists are the latest versions anchored on the ledger ({versions}).",
    },
    "status_anchor.differs": {
        "ko": "상태 목록이 원장에 앵커된 판과 다릅니다: {detail}. 발급 기관이 방금 바꾼 "
        "목록이 아직 앵커되지 않았을 수 있습니다.",
        "en": "A status list differs from the version anchored on the ledger: {detail}. The "
        "issuer may have just changed it, and its anchoring may be on its way.",
    },
    "status_anchor.foreign": {
        "ko": "이 플랫폼 회원의 상태 목록이 아니어서 원장과 비교하지 않았습니다.",
        "en": "The status lists are not a member's lists on this platform's ledger: not "
        "compared with it.",
    },
    "status.offline": {
        "ko": "오프라인 검증에서는 상태 목록을 확인하지 않습니다.",
        "en": "The status list is not checked offline.",
    },
}


@dataclass(frozen=True)
class LedgerMessage(Message):
    """A message of the ledger checks, in Korean and English."""

    def text(self, language: str = "ko") -> str:
        templates = LEDGER_MESSAGES[self.key]
        return templates.get(language, templates["en"]).format(**self.params)


# --- the anchor proof's value ---------------------------------------------------------------


def anchor_proof_with_ledger(inclusion: InclusionProof, *, anchor_reference: str, created: str,
                             ledger: Mapping[str, Any]) -> dict[str, Any]:
    """An anchor proof whose value carries the batch path and the ledger's proof."""
    value = {**inclusion.to_json(), "ledger": dict(ledger)}
    return {
        "type": "DataIntegrityProof",
        "cryptosuite": ANCHOR_CRYPTOSUITE,
        "created": created,
        "verificationMethod": anchor_reference,
        "proofPurpose": "assertionMethod",
        "proofValue": multibase_encode(canonicalize_json(value), MULTIBASE_BASE64URL),
    }


@dataclass(frozen=True)
class AnchorEvidence:
    reference: str
    inclusion: InclusionProof
    ledger: dict[str, Any] | None


def anchor_evidence(credential: Mapping[str, Any]) -> list[AnchorEvidence]:
    """Every anchor proof of ``credential``; raises MerkleError if one is malformed."""
    from oneteam.credentials.dataintegrity import proofs_of

    found = []
    for proof in proofs_of(credential):
        if not is_anchor_proof(proof):
            continue
        try:
            data = json.loads(multibase_decode(str(proof.get("proofValue")),
                                               expected_base=MULTIBASE_BASE64URL))
        except (EncodingError, ValueError) as error:
            raise MerkleError(f"malformed anchor proof value: {error}") from error
        if not isinstance(data, dict):
            raise MerkleError("the anchor proof value is not a JSON object")
        ledger = data.get("ledger")
        if ledger is not None and not isinstance(ledger, dict):
            raise MerkleError("the anchor proof's ledger member is not an object")
        found.append(AnchorEvidence(str(proof.get("verificationMethod")),
                                    InclusionProof.from_json(data), ledger))
    return found


@dataclass(frozen=True)
class AnchorTransaction:
    chain_id: str
    org: str
    sender: bytes
    op: str
    args: dict[str, Any]


def decode_transaction(wire: bytes) -> AnchorTransaction:
    """The parts of a ledger transaction's wire bytes a verifier needs (PROTOCOL §2)."""
    try:
        signed = msgspec.msgpack.decode(wire)
        body = msgspec.msgpack.decode(signed[0])
        chain_id, org, sender, _nonce, _expiry, op, args = body
    except (msgspec.DecodeError, ValueError, TypeError, IndexError, UnicodeDecodeError) as error:
        raise ProofError(f"the proven transaction does not decode: {error}") from None
    if not isinstance(args, dict) or not isinstance(sender, bytes):
        raise ProofError("the proven transaction has no argument map")
    return AnchorTransaction(str(chain_id), str(org), sender, str(op), args)


# --- what the verifier knows of the ledger ------------------------------------------------


class LedgerView(Protocol):
    """The chain as a verifier sees it: trusted validators, headers, members, anchors."""

    chain_id: str
    validators: list[bytes]
    online: bool

    def header_hash(self, height: int) -> bytes | None: ...

    def member(self, org: str) -> dict[str, Any] | None: ...

    def batch_record(self, org: str, batch_id: str) -> dict[str, Any] | None: ...

    def status_record(self, org: str, list_id: str) -> dict[str, Any] | None: ...


def _member_json(value: Mapping[str, Any]) -> dict[str, Any]:
    keys = [k.hex() if isinstance(k, bytes) else str(k) for k in value.get("keys", [])]
    return {"name": str(value.get("name", "")), "roles": list(value.get("roles", [])),
            "keys": keys}


class OnlineLedger:
    """A node read through ``SyncLedgerClient``; validators as the node reports them, or
    as the caller pins them."""

    online = True

    def __init__(self, client: Any, *, validators: list[bytes] | None = None) -> None:
        self.client = client
        status = client.status()
        self.chain_id = str(status["chain_id"])
        self.validators = validators if validators is not None else [
            bytes.fromhex(v) for v in status.get("validators", [])]

    def header_hash(self, height: int) -> bytes | None:
        return None  # the proof's own header, certified by the validators, is what counts

    def member(self, org: str) -> dict[str, Any] | None:
        try:
            value = self.client.state("membership", "org", org)
        except LedgerClientError as error:
            if error.status == 404:
                return None
            raise
        return _member_json(value) if isinstance(value, Mapping) else None

    def batch_record(self, org: str, batch_id: str) -> dict[str, Any] | None:
        return self._anchors("batch", org, batch_id)

    def status_record(self, org: str, list_id: str) -> dict[str, Any] | None:
        return self._anchors("status", org, list_id)

    def _anchors(self, kind: str, org: str, label: str) -> dict[str, Any] | None:
        try:
            value = self.client.state("anchors", kind, org, label)
        except LedgerClientError as error:
            if error.status == 404:
                return None
            raise
        return dict(value) if isinstance(value, Mapping) else None


@dataclass
class HeaderSet:
    """A saved ledger header set (see the module's docstring for the file format)."""

    chain_id: str
    validators: list[bytes]
    saved_height: int
    headers: dict[int, bytes] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    online = False

    def header_hash(self, height: int) -> bytes | None:
        return self.headers.get(height)

    def member(self, org: str) -> dict[str, Any] | None:
        return self.members.get(org)

    def batch_record(self, org: str, batch_id: str) -> dict[str, Any] | None:
        return None

    def status_record(self, org: str, list_id: str) -> dict[str, Any] | None:
        return None  # the saved set holds no status lists: offline, status is not checked

    def to_json(self) -> dict[str, Any]:
        return {
            "format": HEADER_SET_FORMAT,
            "chain_id": self.chain_id,
            "saved_height": self.saved_height,
            "validators": [v.hex() for v in self.validators],
            "headers": {str(h): self.headers[h].hex() for h in sorted(self.headers)},
            "members": self.members,
        }

    @classmethod
    def from_json(cls, data: Any) -> HeaderSet:
        if not isinstance(data, dict) or data.get("format") != HEADER_SET_FORMAT:
            raise ValueError(f"not a ledger header set (format {HEADER_SET_FORMAT})")
        try:
            validators = [bytes.fromhex(v) for v in data["validators"]]
            headers = {int(h): bytes.fromhex(v) for h, v in data.get("headers", {}).items()}
            members = {str(org): _member_json(value)
                       for org, value in data.get("members", {}).items()}
            result = cls(str(data["chain_id"]), validators, int(data["saved_height"]),
                         headers, members)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"malformed ledger header set: {error}") from None
        if not validators or any(len(v) != 32 for v in validators):
            raise ValueError("malformed ledger header set: validators must be 32-byte keys")
        return result

    @classmethod
    def load(cls, path: Path) -> HeaderSet:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def fetch_header_set(url: str, *, progress: Callable[[int, int], None] | None = None,
                     timeout_s: float = 30.0) -> HeaderSet:
    """Read the chain's headers, validators and members from the node at ``url``."""

    async def run() -> HeaderSet:
        async with LedgerClient(url, timeout_s=timeout_s) as client:
            status = await client.status()
            height = int(status["height"])
            first = max(0, height - HEADERS_SAVED_MAX + 1)
            headers: dict[int, bytes] = {}
            start = first
            while start <= height:
                page = await client.headers(start, min(height + 1, start + HEADERS_PAGE))
                if not page:
                    break
                for header in page:
                    headers[int(header["height"])] = bytes.fromhex(str(header["hash"]))
                start = max(headers) + 1
                if progress is not None:
                    progress(start - first, height + 1 - first)
            orgs = await client.state("membership", "orgs")
            members = {str(item["org"]): _member_json(item)
                       for item in (orgs.get("organizations", []) if isinstance(orgs, dict)
                                    else [])}
            return HeaderSet(str(status["chain_id"]),
                             [bytes.fromhex(v) for v in status.get("validators", [])],
                             height, headers, members)

    return asyncio.run(run())


# --- the checks --------------------------------------------------------------------------


def org_of_did(did: str | None) -> str | None:
    """The organization id of a member's did:web (``did:web:<host>:orgs:<slug>``)."""
    match = ORG_DID.match(did or "")
    return match.group(1) if match else None


@dataclass(frozen=True)
class ProvenAnchor:
    org: str
    sender: bytes
    height: int
    txid: str


def prove_anchor(evidence: AnchorEvidence, credential: Mapping[str, Any],
                 ledger: LedgerView) -> ProvenAnchor:
    """Check one anchor: path to root, root in the ledger transaction, the ledger's proof.

    Raises ProofError (or MerkleError) naming what does not hold.
    """
    if not evidence.inclusion.verify_credential(credential):
        raise MerkleError("the credential's Merkle path does not lead to the batch root")
    data = evidence.ledger
    if data is None:
        raise ProofError("the anchor proof carries no ledger proof")
    try:
        txid = bytes.fromhex(str(data["txid"]))
        proof = data["proof"]
        org, batch_id = str(data["org"]), str(data["batchId"])
    except (KeyError, TypeError, ValueError) as error:
        raise ProofError(f"the anchor's ledger member is malformed: {error}") from None
    if not isinstance(proof, dict):
        raise ProofError("the anchor's ledger proof is not an object")
    inclusion = verify_proof(proof, ledger.validators, ledger.chain_id, txid)
    if inclusion.receipt_code != "ok":
        raise ProofError(f"the anchoring transaction failed on the ledger "
                         f"({inclusion.receipt_code})")
    saved = ledger.header_hash(inclusion.height)
    if saved is not None and saved != inclusion.block_hash:
        raise ProofError(f"block {inclusion.height} differs from the saved header")
    tx = decode_transaction(bytes.fromhex(str(proof.get("tx", ""))))
    if tx.op != ANCHOR_OP:
        raise ProofError(f"the proven transaction is {tx.op}, not {ANCHOR_OP}")
    root = tx.args.get("root")
    if root != evidence.inclusion.root:
        raise ProofError("the batch root is not the one the ledger transaction anchored")
    if tx.args.get("count") != evidence.inclusion.tree_size:
        raise ProofError("the batch size differs from the anchored count")
    if tx.org != org or tx.args.get("batch_id") != batch_id:
        raise ProofError("the anchor names another organization or batch than its transaction")
    if ledger.online:
        record = ledger.batch_record(org, batch_id)
        if record is None or str(record.get("root")) != root.hex():
            raise ProofError("the ledger holds no such anchor record")
    return ProvenAnchor(tx.org, tx.sender, inclusion.height, txid.hex())


def _failed(code: str, key: str, detail: str, path: str | None = None) -> CheckResult:
    message = LedgerMessage(key, {"detail": detail})
    return CheckResult(code, FAILED, message, (Problem(code.upper() + "_FAILED", message,
                                                       path),))


def _proven_anchors(context: VerificationContext, ledger: LedgerView
                    ) -> tuple[list[ProvenAnchor], str | None, bool]:
    """(proven anchors, the first failure, whether there was any anchor at all)."""
    cached = getattr(context, "_oneteam_anchors", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    proven: list[ProvenAnchor] = []
    failure: str | None = None
    try:
        evidence = anchor_evidence(context.credential)
    except MerkleError as error:
        result: tuple[list[ProvenAnchor], str | None, bool] = ([], str(error), True)
    else:
        for item in evidence:
            try:
                proven.append(prove_anchor(item, context.credential, ledger))
            except (ProofError, MerkleError, LedgerClientError) as error:
                failure = failure or str(error)
        result = (proven, failure, bool(evidence))
    context._oneteam_anchors = result  # type: ignore[attr-defined]
    return result


def anchor_check(ledger: LedgerView | None) -> Callable[[VerificationContext], CheckResult]:
    """The ``anchor`` check: see :func:`prove_anchor`."""

    def check_anchor(context: VerificationContext) -> CheckResult:
        if ledger is None:
            return CheckResult("anchor", SKIPPED, LedgerMessage("membership.unknown"))
        proven, failure, any_anchor = _proven_anchors(context, ledger)
        if not any_anchor:
            message = LedgerMessage("anchor.pending")
            return CheckResult("anchor", WARNING, message,
                               (Problem("ANCHOR_PENDING", message, "$.proof"),))
        if failure is not None or not proven:
            return _failed("anchor", "anchor.failed", failure or "no anchor", "$.proof")
        first = proven[0]
        return CheckResult("anchor", PASSED, LedgerMessage(
            "anchor.ok", {"height": first.height, "txid": first.txid}))

    return check_anchor


def _signing_keys(context: VerificationContext) -> list[bytes]:
    return [resolved.public_key.raw for resolved in context.resolved_keys.values()]


def membership_check(ledger: LedgerView | None) -> Callable[[VerificationContext], CheckResult]:
    """The ``membership`` check: the issuer's DID names a member organization, and the key
    that signed the credential is that member's on the chain (its current keys, or the
    key that signed the credential's anchoring transaction for it, proven by the ledger)."""

    def check_membership(context: VerificationContext) -> CheckResult:
        if ledger is None:
            return CheckResult("membership", SKIPPED, LedgerMessage("membership.unknown"))
        issuer = issuer_id(context.credential)
        org = org_of_did(issuer)
        if org is None:
            return _failed("membership", "membership.failed",
                           f"the issuer {issuer!r} is not a member's DID", "$.issuer")
        keys = _signing_keys(context)
        if not keys:
            return _failed("membership", "membership.failed", "no signing key was resolved",
                           "$.proof")
        try:
            member = ledger.member(org)
        except LedgerClientError as error:
            return _failed("membership", "membership.failed", str(error))
        if member is None and ledger.online:
            return _failed("membership", "membership.failed",
                           f"{org} is not a member on the ledger", "$.issuer")
        member_keys = {bytes.fromhex(k) for k in (member or {}).get("keys", [])}
        if all(key in member_keys for key in keys):
            basis = "ledger state" if ledger.online else f"header set at {ledger_height(ledger)}"
            return CheckResult("membership", PASSED, LedgerMessage(
                "membership.ok", {"org": org, "basis": basis}))
        proven, _failure, _any = _proven_anchors(context, ledger)
        for anchor in proven:
            if anchor.org == org and all(key == anchor.sender for key in keys):
                return CheckResult("membership", PASSED, LedgerMessage(
                    "membership.ok", {"org": org, "basis": f"block {anchor.height}"}))
        if member is None:
            return _failed("membership", "membership.failed",
                           f"{org} is not a member in the saved header set", "$.issuer")
        return _failed("membership", "membership.failed",
                       f"the signing key is not a key of {org} on the ledger", "$.proof")

    return check_membership


def ledger_height(ledger: LedgerView) -> int:
    return int(getattr(ledger, "saved_height", 0))


def offline_status_check(context: VerificationContext) -> CheckResult:
    """Offline, the status list is not fetched: a warning, not a failure."""
    if context.credential.get("credentialStatus") is None:
        return CheckResult("status", SKIPPED, Message("status.none"))
    return CheckResult("status", WARNING, LedgerMessage("status.offline"))


class LedgerKeyResolver:
    """Keys of members' did:web identities taken from the ledger rather than fetched.

    For ``did:web:<host>:orgs:<org>#<fragment>``: the key that signed the credential's
    proven anchoring transaction for ``<org>``, else the organization's only active key
    on the chain. Used offline and by the command line, where the DID document is not
    at hand; the membership check still requires the key to be the member's.
    """

    def __init__(self, credential: Mapping[str, Any], ledger: LedgerView) -> None:
        self.credential = credential
        self.ledger = ledger

    def resolve(self, method_id: str, *, purpose: str = "assertionMethod") -> ResolvedKey:
        did, _, fragment = method_id.partition("#")
        org = org_of_did(did)
        if org is None or not fragment:
            raise ResolutionError("METHOD_NOT_FOUND",
                                  f"{method_id} is not a member organization's key")
        candidates: list[bytes] = []
        try:
            evidence = anchor_evidence(self.credential)
        except MerkleError:
            evidence = []
        for item in evidence:
            try:
                proven = prove_anchor(item, self.credential, self.ledger)
            except (ProofError, MerkleError, LedgerClientError):
                continue
            if proven.org == org:
                candidates.append(proven.sender)
        if not candidates:
            member = self.ledger.member(org)
            keys = (member or {}).get("keys", [])
            if len(keys) == 1:
                candidates.append(bytes.fromhex(keys[0]))
        if not candidates:
            raise ResolutionError("METHOD_NOT_FOUND",
                                  f"the ledger tells no single key of {org} for {method_id}")
        return ResolvedKey(method_id, did, Ed25519PublicKey(candidates[0]),
                           frozenset({"assertionMethod"}))


def digest_of(document: Mapping[str, Any]) -> bytes:
    """SHA-256 of a JSON document's JCS bytes (a status list version's anchored digest)."""
    return hashlib.sha256(canonicalize_json(document)).digest()


# --- status lists against the ledger ---------------------------------------------------------

STATUS_LIST_URL = re.compile(r"/credentials/status/([0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?"
                             r"[0-9a-f]{4}-?[0-9a-f]{12})$")


def status_list_label(url: str) -> str | None:
    """The ledger label (``status/<hex>``) under which a member anchors the list at ``url``."""
    match = STATUS_LIST_URL.search(url)
    return f"status/{match.group(1).replace('-', '')}" if match else None


def status_anchor_check(ledger: LedgerView | None
                        ) -> Callable[[VerificationContext], CheckResult]:
    """The ``status_anchor`` check: each status list credential the status check read is
    the version whose digest its issuer last anchored on the ledger
    (``anchors.set_status_list``), so every verifier is shown the same list.

    A list that differs is a warning, not a failure: the issuer publishes a change at
    once and anchors it seconds later. Skipped offline and for credentials without status.
    """

    def check_status_anchor(context: VerificationContext) -> CheckResult:
        raw = context.credential.get("credentialStatus")
        if ledger is None or not ledger.online or raw is None:
            return CheckResult("status_anchor", SKIPPED, LedgerMessage("membership.unknown"))
        org = org_of_did(issuer_id(context.credential))
        entries = [entry for entry in (raw if isinstance(raw, list) else [raw])
                   if isinstance(entry, Mapping)]
        urls = sorted({str(entry.get("statusListCredential")) for entry in entries})
        labels = {url: status_list_label(url) for url in urls}
        if org is None or not urls or any(label is None for label in labels.values()):
            return CheckResult("status_anchor", SKIPPED, LedgerMessage("status_anchor.foreign"))
        versions: list[str] = []
        for url in urls:
            label = str(labels[url])
            try:
                served = context.status_lists.status_list_credential(url)
                record = ledger.status_record(org, label)
            except LedgerClientError as error:
                return _failed("status_anchor", "anchor.failed", str(error),
                               "$.credentialStatus")
            except Exception as error:  # noqa: BLE001 - the status check names the cause
                return _differs(f"{url}: not read ({type(error).__name__})")
            if record is None:
                return _differs(f"{url}: nothing anchored under {label}")
            if str(record.get("digest", "")) != digest_of(served).hex():
                return _differs(f"{url}: version {record.get('version')} anchored at block "
                                f"{record.get('height')} has another digest")
            versions.append(f"v{record.get('version')} @ {record.get('height')}")
        return CheckResult("status_anchor", PASSED, LedgerMessage(
            "status_anchor.ok", {"versions": ", ".join(versions)}))

    return check_status_anchor


def _differs(detail: str) -> CheckResult:
    message = LedgerMessage("status_anchor.differs", {"detail": detail})
    return CheckResult("status_anchor", WARNING, message,
                       (Problem("STATUS_LIST_NOT_ANCHORED", message, "$.credentialStatus"),))
