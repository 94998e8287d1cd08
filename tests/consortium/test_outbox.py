"""The ledger outbox's own rules, without a ledger: ordering, claims, wakeups, the quorum."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
import pytest
from django.utils import timezone

from oneteam.consortium import actions, outbox
from oneteam.consortium.models import LedgerSubmission, SubmissionError, SubmissionState
from tests.factories import make_operator, make_organization

pytestmark = pytest.mark.django_db


def test_the_quorum_is_more_than_two_thirds() -> None:
    assert [outbox.quorum(n) for n in (1, 2, 3, 4, 5, 7, 10)] == [1, 2, 3, 3, 4, 5, 7]


def test_the_txid_is_the_hash_of_the_body() -> None:
    import hashlib

    wire = msgspec.msgpack.encode([b"body bytes", bytes(64)])
    assert outbox.txid_of(wire) == hashlib.sha256(b"body bytes").hexdigest()


def _queue(**fields: Any) -> LedgerSubmission:
    encoded = outbox.encode_args("membership.approve", {"org": "x"})
    return LedgerSubmission.objects.create(purpose="other", op="membership.approve",
                                           args=encoded.packed, args_shown=encoded.shown,
                                           **fields)


def test_one_signer_goes_in_order_and_a_step_waits_for_the_one_before() -> None:
    kt, kaist = make_organization(slug="kt"), make_organization(slug="kaist")
    first = _queue(signer=kt)
    second = _queue(signer=kt)
    other = _queue(signer=kaist, after=second)
    alliance = _queue(signer=None)
    claimed = outbox._claim_next()
    assert claimed is not None and claimed.pk == first.pk
    # kt's second waits for its first; kaist's waits for kt's second; the alliance's goes.
    claimed = outbox._claim_next()
    assert claimed is not None and claimed.pk == alliance.pk
    assert outbox._claim_next() is None
    LedgerSubmission.objects.filter(pk=first.pk).update(state=SubmissionState.COMMITTED)
    LedgerSubmission.objects.filter(pk=second.pk).update(state=SubmissionState.FAILED)
    assert outbox._claim_next() is None
    other.refresh_from_db()
    assert other.state == SubmissionState.FAILED
    assert other.error_code == SubmissionError.DEPENDENCY


def test_a_claim_lapses_so_a_dead_run_is_taken_over() -> None:
    submission = _queue(signer=None)
    assert outbox._claim_next() is not None
    assert outbox._claim_next() is None
    LedgerSubmission.objects.filter(pk=submission.pk).update(
        claimed_until=timezone.now() - datetime.timedelta(seconds=1))
    claimed = outbox._claim_next()
    assert claimed is not None and claimed.pk == submission.pk


def test_runs_ask_for_one_wakeup_not_many() -> None:
    later = timezone.now() + datetime.timedelta(seconds=30)
    _queue(signer=None, next_attempt=later)
    assert outbox.next_wakeup() == later
    assert outbox.next_wakeup() is None
    assert not outbox.stalled()
    # The wakeup was lost (a worker restarted): long after, a status poll asks for a run.
    hour_ago = timezone.now() - datetime.timedelta(hours=1)
    LedgerSubmission.objects.update(next_attempt=hour_ago, wakeup=hour_ago)
    assert outbox.stalled()
    assert not outbox.stalled()  # asked for once


def test_a_contract_refusal_is_not_retried() -> None:
    submission = _queue(signer=None, state=SubmissionState.FAILED,
                        error_code=SubmissionError.RECEIPT)
    from oneteam.platform.errors import InputError

    with pytest.raises(InputError):
        actions.do_retry_ledger_submission(actor=make_operator(), submission=submission)
