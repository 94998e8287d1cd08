"""The ledger outbox: sends the platform's ledger transactions and mirrors what the chain says.

Actions never talk to the ledger. They write a ``LedgerSubmission`` in the same
database transaction as the change it records and, after commit, enqueue
:func:`oneteam.consortium.tasks.process_ledger_submissions`, which calls
:func:`process_due` here. This module is the only one in the app that reaches the
ledger, and it does so only through ``oneteam.ledger.client`` (plus the key file reader
of ``oneteam.ledger.keys`` and the operations' argument structs of
``oneteam.ledger.contracts``, which the client's signing needs).

Sending one submission:

1. Sign once: the signer's key (the alliance operator's key file, or the organization's
   sealed key that the chain lists as active), the key's next nonce from the chain; the
   wire bytes and txid are stored before anything is sent, so a retry resends the same
   transaction and can never make a second one.
2. Submit; wait for the block (``/wait``); fetch the inclusion proof and check it with
   ``client.verify_proof`` against the node's validator set; record height, receipt,
   events and whether the proof verified.
3. Read the organizations concerned back from the chain (:func:`refresh_organization`).

A ledger that does not answer (or is busy) leaves the submission where it was, with the
error and the time of the next attempt: backoff doubles from 2 s to at most 5 min, for
at most ``ATTEMPTS_MAX`` attempts; after that it is failed, and a person can retry it.
Submissions of one signer go out in order, one at a time (their nonces follow each
other), and a submission waits for the one it comes ``after``.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.consortium.identity import unseal_seed
from oneteam.consortium.models import (
    KeyState,
    LedgerReason,
    LedgerState,
    LedgerSubmission,
    Organization,
    OrganizationKey,
    SubmissionError,
    SubmissionPurpose,
    SubmissionState,
)
from oneteam.ledger.client import (
    Account,
    LedgerClientError,
    ProofError,
    SyncLedgerClient,
    verify_proof,
)
from oneteam.ledger.contracts import operation
from oneteam.ledger.keys import KeyPair, read_key_file
from oneteam.platform.errors import InputError

logger = logging.getLogger(__name__)

ATTEMPTS_MAX = 10
BACKOFF_FIRST_S = 2
BACKOFF_MAX_S = 300
# A run holds a submission this long; a run that died leaves it to the next run after.
CLAIM_S = 120
WAIT_S = 10.0
REQUEST_TIMEOUT_S = 10.0
# A committed transaction whose proof is not complete yet (the next height certifies its
# receipt under consensus), or one still pending, is looked at again this soon.
RECHECK_S = 1
SUBMISSIONS_PER_RUN_MAX = 1000
# How many due submissions one claim looks through for one that may go (the others wait
# for an older one of their signer, or for the one they come after).
CANDIDATES_MAX = 500
# Node error codes that say "not now" rather than "never" (PROTOCOL §15.1, §15.3).
TRANSIENT_CODES = frozenset({"unreachable", "mempool_full", "busy", "unavailable",
                             "http_error", "internal"})
# The membership contract's constants (PROTOCOL §6.1).
PROPOSAL_LIFETIME_BLOCKS = 100_000
UNFINISHED = (SubmissionState.QUEUED, SubmissionState.SENT)


def quorum(member_count: int) -> int:
    """Approvals a membership proposal needs among ``member_count`` members (PROTOCOL §6.1)."""
    return (2 * member_count) // 3 + 1


def ledger_client(timeout_s: float = REQUEST_TIMEOUT_S) -> SyncLedgerClient:
    return SyncLedgerClient(settings.ONETEAM_LEDGER_URL, timeout_s=timeout_s)


# --- arguments --------------------------------------------------------------------------------

_MSGSPEC_PATH = re.compile(r" - at `\$\.?([^`]*)`$")


def _shown(value: Any) -> Any:
    """Arguments as JSON: bytes as hex."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class EncodedArgs:
    packed: bytes  # MessagePack of the argument map, as signed
    shown: dict[str, Any]


def encode_args(op: str, args: Mapping[str, Any]) -> EncodedArgs:
    """Check ``args`` against the operation's argument struct; InputError names the fault."""
    try:
        spec = operation(op)
    except KeyError:
        raise InputError("op", _("There is no ledger operation “%(op)s”.") % {"op": op}) \
            from None
    if not isinstance(args, Mapping):
        raise InputError("args", _("Send the arguments as an object."))
    try:
        struct = msgspec.convert(dict(args), type=spec.args_type)
    except msgspec.ValidationError as error:
        text = str(error)
        match = _MSGSPEC_PATH.search(text)
        where = match.group(1).split("[")[0].split(".")[0] if match else ""
        raise InputError(f"args.{where}" if where else "args",
                         _("The arguments of %(op)s are not valid: %(reason)s")
                         % {"op": op, "reason": text}) from None
    shown = _shown(msgspec.to_builtins(struct, builtin_types=(bytes,)))
    return EncodedArgs(msgspec.msgpack.encode(struct), shown)


def decode_args(submission: LedgerSubmission) -> msgspec.Struct:
    spec = operation(submission.op)
    struct: msgspec.Struct = msgspec.msgpack.decode(bytes(submission.args), type=spec.args_type)
    return struct


def txid_of(wire: bytes) -> str:
    """The transaction id: SHA-256 of the body, the first element of the wire (PROTOCOL §2.2)."""
    body, _signature = msgspec.msgpack.decode(wire, type=tuple[bytes, bytes])
    return hashlib.sha256(body).hexdigest()


# --- what one run knows about the chain -------------------------------------------------------


class _Failure(Exception):
    """The submission cannot succeed as it is: recorded as failed, with a code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class _Resign(Exception):
    """The signed transaction can no longer be used (its nonce went, it expired, it was
    dropped): sign and send it again."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


_operator_orgs: dict[tuple[str, str], str] = {}


def operator_keypair() -> KeyPair:
    """The alliance operator's key, from the key file ``ONETEAM_LEDGER_OPERATOR_KEY``."""
    from pathlib import Path

    path = Path(settings.ONETEAM_LEDGER_OPERATOR_KEY)
    try:
        return read_key_file(path)
    except (OSError, ValueError) as error:
        raise _Failure(SubmissionError.OPERATOR_KEY, str(error)) from None


@dataclass(slots=True)
class ChainView:
    """The node's status and member list, read at most once per run."""

    client: SyncLedgerClient
    _status: dict[str, Any] | None = None
    _members: list[dict[str, Any]] | None = None

    def status(self) -> dict[str, Any]:
        if self._status is None:
            self._status = self.client.status()
        return self._status

    @property
    def chain_id(self) -> str:
        return str(self.status()["chain_id"])

    def members(self) -> list[dict[str, Any]]:
        if self._members is None:
            data = self.client.state("membership", "orgs")
            self._members = list(data.get("organizations", []))
        return self._members

    def forget(self) -> None:
        """After a commit: the status and the member list may have changed."""
        self._status = None
        self._members = None

    def operator_org(self, keypair: KeyPair) -> str:
        """The chain's organization whose active keys include the operator's key."""
        key_hex = keypair.public_key.hex()
        cached = _operator_orgs.get((self.chain_id, key_hex))
        if cached:
            return cached
        for member in self.members():
            if key_hex in member.get("keys", []):
                _operator_orgs[(self.chain_id, key_hex)] = str(member["org"])
                return str(member["org"])
        raise _Failure(SubmissionError.OPERATOR_KEY,
                       f"the key in {settings.ONETEAM_LEDGER_OPERATOR_KEY} is not an active "
                       f"key of any member of chain {self.chain_id}")


@dataclass(frozen=True, slots=True)
class _Signer:
    org: str
    keypair: KeyPair


def _signer(submission: LedgerSubmission, chain: ChainView) -> _Signer:
    if submission.signer_id is None:
        keypair = operator_keypair()
        return _Signer(chain.operator_org(keypair), keypair)
    organization = submission.signer
    assert organization is not None
    member = chain.client.state("membership", "org", organization.ledger_org)
    active = set(member.get("keys", [])) if isinstance(member, dict) else set()
    # The current key if the chain has it, else the newest retired one it still lists
    # (during a rotation the old key registers the new one).
    keys = (OrganizationKey.objects.filter(organization=organization)
            .exclude(state=KeyState.REVOKED).order_by("-number"))
    ordered = sorted(keys, key=lambda key: key.state != KeyState.CURRENT)
    for key in ordered:
        if key.public_key in active:
            return _Signer(organization.ledger_org, KeyPair.from_seed(unseal_seed(key)))
    raise _Failure(SubmissionError.NO_KEY,
                   f"no key of {organization.ledger_org} held by the platform is active on "
                   f"the ledger")


# --- bookkeeping: each a short transaction of its own -----------------------------------------


def _save(submission: LedgerSubmission, *fields: str) -> None:
    submission.updated = timezone.now()
    with transaction.atomic():
        submission.save(update_fields=[*fields, "updated"])


def _release(submission: LedgerSubmission) -> None:
    submission.claimed_until = None
    _save(submission, "claimed_until")


def _fail(submission: LedgerSubmission, code: str, detail: str) -> None:
    submission.state = SubmissionState.FAILED
    submission.error_code = code
    submission.last_error = detail[:500]
    submission.claimed_until = None
    _save(submission, "state", "error_code", "last_error", "claimed_until", "attempts")
    logger.warning("ledger submission %s (%s) failed: %s: %s", submission.pk, submission.op,
                   code, detail)


def backoff_s(attempts: int) -> int:
    """Seconds before attempt ``attempts + 1``: 2, 4, 8, … at most 300."""
    return int(min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, attempts - 1)))


def _retry_later(submission: LedgerSubmission, code: str, detail: str) -> None:
    submission.attempts += 1
    if submission.attempts >= ATTEMPTS_MAX:
        _fail(submission, SubmissionError.GAVE_UP,
              f"{detail} (after {submission.attempts} attempts)")
        return
    submission.error_code = code
    submission.last_error = detail[:500]
    submission.next_attempt = timezone.now() + datetime.timedelta(
        seconds=backoff_s(submission.attempts))
    submission.claimed_until = None
    _save(submission, "attempts", "error_code", "last_error", "next_attempt", "claimed_until")


def _look_again_soon(submission: LedgerSubmission) -> None:
    submission.attempts += 1
    if submission.attempts >= ATTEMPTS_MAX * 3:
        _fail(submission, SubmissionError.GAVE_UP, "the transaction was not committed in time")
        return
    submission.next_attempt = timezone.now() + datetime.timedelta(seconds=RECHECK_S)
    submission.claimed_until = None
    _save(submission, "attempts", "next_attempt", "claimed_until")


# --- sending ----------------------------------------------------------------------------------


def _sign(submission: LedgerSubmission, chain: ChainView) -> None:
    signer = _signer(submission, chain)
    nonce = chain.client.next_nonce(signer.keypair.public_key)
    account = Account(signer.keypair, signer.org, chain.chain_id, nonce)
    wire = account.sign(submission.op, decode_args(submission))
    submission.wire = wire
    submission.txid = txid_of(wire)
    submission.nonce = nonce
    submission.signer_key = signer.keypair.public_key.hex()
    _save(submission, "wire", "txid", "nonce", "signer_key")


def _forget_signature(submission: LedgerSubmission) -> None:
    submission.wire = None
    submission.txid = ""
    submission.nonce = None
    submission.state = SubmissionState.QUEUED
    _save(submission, "wire", "txid", "nonce", "state")


def _send(submission: LedgerSubmission, chain: ChainView) -> None:
    assert submission.wire is not None
    try:
        chain.client.submit(bytes(submission.wire))
    except LedgerClientError as error:
        if error.code == "duplicate":
            pass  # already pending: sent before, by a run that did not see the answer
        elif error.code in ("bad_nonce", "expired"):
            status = chain.client.tx(bytes.fromhex(submission.txid))
            if status.get("status") not in ("committed", "pending"):
                raise _Resign(f"{error.code}: {error.message}") from None
        elif error.code == "unauthorized":
            raise _Failure(SubmissionError.NO_KEY, error.message) from None
        elif error.code in TRANSIENT_CODES or error.status == 0 or error.status >= 500:
            raise
        else:
            raise _Failure(SubmissionError.REFUSED, f"{error.code}: {error.message}") from None
    submission.state = SubmissionState.SENT
    _save(submission, "state")


def _finish(submission: LedgerSubmission, status: dict[str, Any], chain: ChainView) -> bool:
    """Record a committed transaction with its verified proof; False to look again later."""
    txid = bytes.fromhex(submission.txid)
    proof = chain.client.proof(txid)
    validators = [bytes.fromhex(v) for v in chain.status().get("validators", [])]
    receipt = status.get("receipt") or {}
    try:
        inclusion = verify_proof(proof, validators, chain.chain_id, txid)
    except ProofError as error:
        submission.proof_verified = False
        submission.error_code = SubmissionError.PROOF
        submission.last_error = str(error)[:500]
        code, reason = str(receipt.get("code", "")), str(receipt.get("reason", ""))
    else:
        if not inclusion.receipt_certified:
            return False  # under consensus the next height certifies the receipt
        submission.proof_verified = True
        submission.error_code = ""
        submission.last_error = ""
        code, reason = inclusion.receipt_code, inclusion.receipt_reason
    submission.height = int(status["height"])
    submission.receipt_code = code
    submission.receipt_reason = reason[:500]
    submission.events = [list(event) for event in receipt.get("events", [])]
    if code == "ok":
        submission.state = SubmissionState.COMMITTED
    else:
        submission.state = SubmissionState.FAILED
        submission.error_code = SubmissionError.RECEIPT
        submission.last_error = f"{code}: {reason}"[:500]
    submission.claimed_until = None
    _save(submission, "proof_verified", "error_code", "last_error", "height", "receipt_code",
          "receipt_reason", "events", "state", "claimed_until")
    return True


def _process(submission: LedgerSubmission, chain: ChainView) -> None:
    try:
        if submission.state == SubmissionState.QUEUED:
            if not submission.wire:
                _sign(submission, chain)
            _send(submission, chain)
        status = chain.client.wait(bytes.fromhex(submission.txid), WAIT_S)
        state = status.get("status")
        if state == "committed":
            if not _finish(submission, status, chain):
                _look_again_soon(submission)
                return
            chain.forget()
            _after_commit(submission, chain)
        elif state == "pending":
            _look_again_soon(submission)
        else:  # dropped, or unknown to a node that restarted
            raise _Resign(f"{state}: {status.get('reason', '')}")
    except _Resign as resign:
        _forget_signature(submission)
        _retry_later(submission, SubmissionError.DROPPED, resign.detail)
    except _Failure as failure:
        _fail(submission, failure.code, failure.detail)
        _after_failure(submission, chain)
    except LedgerClientError as error:
        code = (SubmissionError.UNREACHABLE if error.code == "unreachable"
                else SubmissionError.BUSY)
        _retry_later(submission, code, f"{error.code}: {error.message}")
    except Exception as error:  # a bug must not stop the other submissions
        logger.exception("ledger submission %s (%s): unexpected error", submission.pk,
                         submission.op)
        _retry_later(submission, SubmissionError.INTERNAL, f"{type(error).__name__}: {error}")


def _after_commit(submission: LedgerSubmission, chain: ChainView) -> None:
    seen: set[int] = set()
    for organization in (submission.subject, submission.signer):
        if organization is not None and organization.pk not in seen:
            seen.add(organization.pk)
            refresh_organization(organization, chain)


def _after_failure(submission: LedgerSubmission, chain: ChainView) -> None:
    subject = submission.subject
    if subject is None:
        return
    try:
        refresh_organization(subject, chain)
    except LedgerClientError:
        if submission.purpose == SubmissionPurpose.JOIN:
            _set_ledger_state(subject, LedgerState.FAILED, LedgerReason.JOIN_FAILED,
                              submission.last_error)


# --- choosing what to send --------------------------------------------------------------------


def _claimable(now: datetime.datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def _claim_next() -> LedgerSubmission | None:
    """The oldest due submission whose signer has nothing older unfinished; claimed."""
    now = timezone.now()
    due = (LedgerSubmission.objects.filter(state__in=UNFINISHED, next_attempt__lte=now)
           .filter(_claimable(now)).select_related("after").order_by("id"))
    # A bounded look-ahead, read at once (SQLite gives no isolation between a cursor being
    # read and writes on the same connection, so no iterator here).
    for candidate in list(due[:CANDIDATES_MAX]):
        before = candidate.after
        if before is not None and before.state == SubmissionState.FAILED:
            with transaction.atomic():
                LedgerSubmission.objects.filter(pk=candidate.pk, state__in=UNFINISHED).update(
                    state=SubmissionState.FAILED, error_code=SubmissionError.DEPENDENCY,
                    last_error=f"submission {before.pk} ({before.op}) failed",
                    updated=now)
            continue
        if before is not None and before.state != SubmissionState.COMMITTED:
            continue
        older = LedgerSubmission.objects.filter(id__lt=candidate.pk, state__in=UNFINISHED)
        older = (older.filter(signer__isnull=True) if candidate.signer_id is None
                 else older.filter(signer_id=candidate.signer_id))
        if older.exists():
            continue
        with transaction.atomic():
            claimed = (LedgerSubmission.objects.filter(pk=candidate.pk, state__in=UNFINISHED)
                       .filter(_claimable(now))
                       .update(claimed_until=now + datetime.timedelta(seconds=CLAIM_S)))
        if claimed:
            candidate.refresh_from_db()
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class RunReport:
    processed: int
    waiting: int


def process_due(*, limit: int = SUBMISSIONS_PER_RUN_MAX) -> RunReport:
    """Send every submission that is due, in order; returns how many it handled."""
    chain = ChainView(ledger_client())
    processed = 0
    for _round in range(limit):
        submission = _claim_next()
        if submission is None:
            break
        _process(submission, chain)
        processed += 1
    waiting = LedgerSubmission.objects.filter(state__in=UNFINISHED).count()
    return RunReport(processed, waiting)


def next_wakeup() -> datetime.datetime | None:
    """When the next run should start, if a run must be enqueued for it (else None).

    Marks the earliest waiting submission, so that runs enqueue one wakeup, not many.
    """
    earliest = (LedgerSubmission.objects.filter(state__in=UNFINISHED)
                .order_by("next_attempt").first())
    if earliest is None or earliest.wakeup == earliest.next_attempt:
        return None
    with transaction.atomic():
        LedgerSubmission.objects.filter(pk=earliest.pk).update(wakeup=earliest.next_attempt)
    return earliest.next_attempt


def stalled() -> bool:
    """Whether a waiting submission is long overdue and no run was asked for it lately
    (its wakeup was lost: a worker restarted, a queue was cleared). Marks it, so that many
    callers asking at once enqueue one run."""
    now = timezone.now()
    long_ago = now - datetime.timedelta(seconds=CLAIM_S)
    overdue = (LedgerSubmission.objects.filter(state__in=UNFINISHED, next_attempt__lt=long_ago)
               .filter(Q(wakeup__isnull=True) | Q(wakeup__lt=long_ago)).order_by("id").first())
    if overdue is None:
        return False
    with transaction.atomic():
        marked = LedgerSubmission.objects.filter(pk=overdue.pk).filter(
            Q(wakeup__isnull=True) | Q(wakeup__lt=long_ago)).update(wakeup=now)
    return bool(marked)


# --- mirroring the chain ----------------------------------------------------------------------


def _set_ledger_state(organization: Organization, state: str, reason_code: str = "",
                      reason: str = "") -> None:
    organization.ledger_state = state
    organization.ledger_reason_code = reason_code
    organization.ledger_reason = reason[:500]
    organization.ledger_checked = timezone.now()
    with transaction.atomic():
        organization.save(update_fields=["ledger_state", "ledger_reason_code", "ledger_reason",
                                         "ledger_checked"])


def _applying_submission(organization: Organization) -> LedgerSubmission | None:
    """The platform's committed transaction that made ``organization`` a member, if any."""
    candidates = (LedgerSubmission.objects
                  .filter(subject=organization, state=SubmissionState.COMMITTED,
                          purpose__in=(SubmissionPurpose.JOIN, SubmissionPurpose.APPROVE))
                  .order_by("-id"))
    for submission in candidates:
        for event in submission.events:
            if (len(event) == 2 and event[0] == "applied"
                    and event[1].get("org") == organization.ledger_org
                    and event[1].get("action") == "add"):
                return submission
    return None


def refresh_organization(organization: Organization, chain: ChainView | None = None) -> None:
    """Read what the chain says about ``organization`` into its ``ledger_*`` fields.

    Raises LedgerClientError when the ledger does not answer (nothing is changed then).
    """
    chain = chain or ChainView(ledger_client())
    member = chain.client.state("membership", "org", organization.ledger_org)
    fields = ["ledger_state", "ledger_reason_code", "ledger_reason", "ledger_roles",
              "ledger_keys", "ledger_approvals", "ledger_quorum", "ledger_height",
              "ledger_txid", "ledger_proof_verified", "ledger_checked"]
    now = timezone.now()
    organization.ledger_checked = now
    if isinstance(member, dict):
        applying = _applying_submission(organization)
        organization.ledger_state = LedgerState.REGISTERED
        organization.ledger_reason_code = organization.ledger_reason = ""
        organization.ledger_roles = list(member.get("roles", []))
        organization.ledger_keys = list(member.get("keys", []))
        organization.ledger_approvals = []
        organization.ledger_quorum = None
        organization.ledger_height = int(member.get("joined_height", 0))
        organization.ledger_txid = applying.txid if applying else ""
        organization.ledger_proof_verified = bool(applying and applying.proof_verified)
    else:
        organization.ledger_keys = []
        proposal = chain.client.state("membership", "proposal", organization.ledger_org)
        members = chain.members()
        height = int(chain.status().get("height", 0))
        if isinstance(proposal, dict) and proposal.get("action") == "add" and _open(
                proposal, members, height):
            organization.ledger_state = LedgerState.PROPOSED
            organization.ledger_reason_code = organization.ledger_reason = ""
            organization.ledger_roles = list(proposal.get("roles", []))
            organization.ledger_approvals = sorted(proposal.get("approvals", []))
            organization.ledger_quorum = quorum(len(members))
        else:
            organization.ledger_approvals = []
            organization.ledger_quorum = None
            joining = LedgerSubmission.objects.filter(
                subject=organization, purpose=SubmissionPurpose.JOIN).order_by("-id").first()
            if joining is not None and joining.state in UNFINISHED:
                organization.ledger_state = LedgerState.JOINING
            elif joining is not None and joining.state == SubmissionState.FAILED and (
                    organization.ledger_state == LedgerState.JOINING):
                organization.ledger_state = LedgerState.FAILED
                organization.ledger_reason_code = LedgerReason.JOIN_FAILED
                organization.ledger_reason = joining.last_error
            elif organization.ledger_state in (LedgerState.PROPOSED, LedgerState.JOINING):
                organization.ledger_state = LedgerState.FAILED
                organization.ledger_reason_code = LedgerReason.PROPOSAL_CLOSED
                organization.ledger_reason = ""
            elif organization.ledger_state == LedgerState.REGISTERED:
                organization.ledger_state = LedgerState.NOT_REGISTERED
                organization.ledger_reason_code = LedgerReason.GONE
                organization.ledger_reason = ""
    with transaction.atomic():
        organization.save(update_fields=fields)


def _open(proposal: dict[str, Any], members: list[dict[str, Any]], height: int) -> bool:
    """Whether a stored proposal can still be approved.

    It cannot once expired, nor once a member joined after it was made (the member epoch
    changed, PROTOCOL §6.1; a removal changes it too, which the chain's API does not
    show: approving then fails with the contract's reason).
    """
    expiry = int(proposal.get("expiry_height", 0))
    if expiry < height + 1:
        return False
    opened = expiry - PROPOSAL_LIFETIME_BLOCKS
    return all(int(member.get("joined_height", 0)) <= opened for member in members)
