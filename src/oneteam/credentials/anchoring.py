"""Anchoring issued credentials on the ledger (the only module of the app that reads the
ledger's node, through ``oneteam.ledger.client``; sending goes through the consortium's
outbox).

A batch is the credentials of one organization issued since its last batch. Its Merkle
root (:class:`oneteam.credentials.merkle.CredentialBatch`) is anchored with
``anchors.anchor_batch`` (batch id ``cb-<hex>``, root, count). When that transaction is
committed, each credential's stored document gets an anchor proof carrying its path and
the ledger's inclusion proof (:mod:`oneteam.credentials.ledgercheck`).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field, Min
from django.utils import timezone

from oneteam.consortium import actions as consortium_actions
from oneteam.consortium.models import LedgerState, Organization, SubmissionState
from oneteam.credentials import dataintegrity
from oneteam.credentials.ledgercheck import anchor_proof_with_ledger
from oneteam.credentials.merkle import CredentialBatch, embed_anchor_proof
from oneteam.credentials.models import AnchorBatch, AnchorState, IssuedCredential
from oneteam.ledger.client import LedgerClientError, ProofError, SyncLedgerClient, verify_proof

logger = logging.getLogger(__name__)
LEDGER_TIMEOUT_S = 10.0


def _waiting(organization: Organization | None = None):  # type: ignore[no-untyped-def]
    found = IssuedCredential.objects.filter(
        batch__isnull=True, organization__ledger_state=LedgerState.REGISTERED)
    return found.filter(organization=organization) if organization is not None else found


def waiting_for_membership() -> bool:
    """Whether credentials wait because their organization is not on the ledger yet."""
    return IssuedCredential.objects.filter(batch__isnull=True).exclude(
        organization__ledger_state=LedgerState.REGISTERED).exists()


def anchor_due(*, now: datetime.datetime, interval_s: float, batch_max: int,
               may_wait: bool) -> datetime.datetime | None:
    """When the next batch falls due, if some credentials must still wait for it."""
    if not may_wait:
        return None
    oldest = _waiting().aggregate(oldest=Min("issued"))["oldest"]
    if oldest is None:
        return None
    due = oldest + datetime.timedelta(seconds=interval_s)
    return due if due > now else None


def make_due_batches(*, interval_s: float, batch_max: int, may_wait: bool) -> int:
    """Make and queue the batches that are due; the number made."""
    now = timezone.now()
    made = 0
    org_ids = list(_waiting().values_list("organization_id", flat=True).distinct())
    for organization in Organization.objects.filter(pk__in=org_ids):
        while True:
            waiting = _waiting(organization)
            count = waiting.count()
            if count == 0:
                break
            oldest = waiting.aggregate(oldest=Min("issued"))["oldest"]
            if may_wait and count < batch_max and oldest is not None and \
                    now - oldest < datetime.timedelta(seconds=interval_s):
                break
            if do_anchor_batch(organization, batch_max) is None:
                break
            made += 1
    return made


def do_anchor_batch(organization: Organization, batch_max: int) -> AnchorBatch | None:
    """Batch up to ``batch_max`` waiting credentials of ``organization`` and queue the
    root for the ledger; None if another run took them first."""
    with transaction.atomic(durable=True):
        credentials = list(_waiting(organization).select_for_update()
                           .order_by("issued", "id")[:batch_max])
        if not credentials:
            return None
        tree = CredentialBatch([credential.document for credential in credentials])
        label = f"cb-{uuid.uuid4().hex}"
        submission = consortium_actions.do_submit_ledger_transaction(
            organization, "anchors.anchor_batch",
            {"batch_id": label, "root": tree.root, "count": len(tree)})
        batch = AnchorBatch.objects.create(organization=organization, label=label,
                                           root=tree.root.hex(), count=len(tree),
                                           submission=submission)
        credentials_of_batch = IssuedCredential.objects.filter(
            pk__in=[credential.pk for credential in credentials])
        credentials_of_batch.update(batch=batch)
        _set_each(credentials, "leaf_index", range(len(credentials)))

        def finish() -> None:
            from oneteam.credentials.tasks import finish_anchor_batches

            finish_anchor_batches.enqueue()

        transaction.on_commit(finish)
    return batch


@dataclass
class FinishReport:
    anchored: int = 0
    waiting: int = 0
    failed: int = 0


def _client() -> SyncLedgerClient:
    return SyncLedgerClient(settings.ONETEAM_LEDGER_URL, timeout_s=LEDGER_TIMEOUT_S)


def finish_batches(*, attempts_max: int) -> FinishReport:
    report = FinishReport()
    for batch in AnchorBatch.objects.filter(state=AnchorState.SUBMITTED).select_related(
            "submission", "organization"):
        submission = batch.submission
        if submission is None or submission.state == SubmissionState.FAILED:
            _release(batch, submission.last_error if submission else "no submission")
            report.failed += 1
            continue
        if submission.state != SubmissionState.COMMITTED or not submission.proof_verified:
            batch.attempts += 1
            if batch.attempts > attempts_max:
                _release(batch, "the ledger transaction did not commit in time")
                report.failed += 1
            else:
                batch.save(update_fields=["attempts"])
                report.waiting += 1
            continue
        try:
            _embed(batch, submission.txid)
        except (LedgerClientError, ProofError) as error:
            batch.attempts += 1
            batch.last_error = str(error)[:500]
            batch.save(update_fields=["attempts", "last_error"])
            logger.warning("anchoring batch %s: %s", batch.label, error)
            report.waiting += 1
            continue
        report.anchored += 1
    return report


def _release(batch: AnchorBatch, reason: str) -> None:
    """A failed anchoring: its credentials go into the next batch."""
    with transaction.atomic(durable=True):
        batch.state = AnchorState.FAILED
        batch.last_error = reason[:500]
        batch.save(update_fields=["state", "last_error"])
        IssuedCredential.objects.filter(batch=batch).update(batch=None, leaf_index=None)

        def again() -> None:
            from oneteam.credentials.tasks import anchor_credentials

            anchor_credentials.enqueue()

        transaction.on_commit(again)


def _embed(batch: AnchorBatch, txid_hex: str) -> None:
    client = _client()
    status = client.status()
    chain_id = str(status["chain_id"])
    validators = [bytes.fromhex(v) for v in status.get("validators", [])]
    txid = bytes.fromhex(txid_hex)
    proof = client.proof(txid)
    inclusion = verify_proof(proof, validators, chain_id, txid)
    if inclusion.receipt_code != "ok":
        raise ProofError(f"the anchoring transaction's receipt is {inclusion.receipt_code}")
    base = _reference_base(batch)
    with transaction.atomic(durable=True):
        credentials = list(IssuedCredential.objects.select_for_update().filter(batch=batch)
                           .order_by("leaf_index"))
        tree = CredentialBatch([credential.document for credential in credentials])
        if tree.root.hex() != batch.root:
            raise ProofError("the batch's credentials no longer hash to its root")
        created = dataintegrity.format_date_time(timezone.now())
        ledger = {"chainId": chain_id, "org": batch.organization.slug, "batchId": batch.label,
                  "txid": txid_hex, "height": inclusion.height, "proof": proof}
        documents = []
        for credential in credentials:
            anchor = anchor_proof_with_ledger(
                tree.inclusion(int(credential.leaf_index or 0)),
                anchor_reference=f"{base}/credentials/anchors/{batch.label}",
                created=created, ledger=ledger)
            documents.append(embed_anchor_proof(credential.document, anchor))
        _set_each(credentials, "document", documents)
        batch.state = AnchorState.ANCHORED
        batch.txid = txid_hex
        batch.height = inclusion.height
        batch.ledger_proof = proof
        batch.anchored = timezone.now()
        batch.save(update_fields=["state", "txid", "height", "ledger_proof", "anchored"])


def _set_each(credentials: list[IssuedCredential], name: str, values: Iterable[Any]) -> None:
    """Set ``name`` of each credential to its value, in one statement run for all rows.

    Django's ``bulk_update`` writes one CASE over every row, which costs more than the
    rest of anchoring a batch; an UPDATE executed for many parameter rows does not.
    """
    field = IssuedCredential._meta.get_field(name)
    assert isinstance(field, Field)
    table = connection.ops.quote_name(IssuedCredential._meta.db_table)
    column = connection.ops.quote_name(field.column)
    key = connection.ops.quote_name(IssuedCredential._meta.pk.column)
    rows = [(field.get_db_prep_save(value, connection), credential.pk)
            for credential, value in zip(credentials, values, strict=True)]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE {key} = %s", rows)


def _reference_base(batch: AnchorBatch) -> str:
    from oneteam.credentials.actions import site_base_url

    return site_base_url(batch.organization)
