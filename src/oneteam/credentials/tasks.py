"""Background work of the credentials app: anchoring batches, embedding anchor proofs,
automatic issuance on completion.

Anchoring: issued credentials wait, unbatched, until ``ANCHOR_INTERVAL_S`` passes since
the oldest (or ``ANCHOR_BATCH_MAX`` are waiting); then one batch per organization gets
a Merkle root, which goes on the ledger through the consortium's outbox
(``anchors.anchor_batch``). Once the outbox has the transaction committed with a
verified inclusion proof, :func:`finish_anchor_batches` fetches that proof, checks it
again and adds the anchor proof to each credential of the batch. A batch whose
transaction failed releases its credentials for the next batch: nothing is lost.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from oneteam.platform.tasks import default_task_backend, task

logger = logging.getLogger(__name__)

FINISH_RECHECK_S = 2
MEMBERSHIP_RECHECK_S = 30
MEMBERSHIP_WAKEUP_KEY = "credentials.anchor-membership-wakeup"
FINISH_ATTEMPTS_MAX = 600  # at 2 s: twenty minutes, longer than the outbox's own retries


def anchor_interval_s() -> float:
    return float(getattr(settings, "ONETEAM_CREDENTIALS_ANCHOR_INTERVAL_S", 5))


def anchor_batch_max() -> int:
    return int(getattr(settings, "ONETEAM_CREDENTIALS_ANCHOR_BATCH_MAX", 256))


@task()
def anchor_credentials() -> dict[str, int]:
    """Batch the credentials that have waited long enough (or are many enough)."""
    from oneteam.credentials import anchoring

    wait_until = anchoring.anchor_due(now=timezone.now(), interval_s=anchor_interval_s(),
                                      batch_max=anchor_batch_max(),
                                      may_wait=default_task_backend.supports_defer)
    made = anchoring.make_due_batches(interval_s=anchor_interval_s(),
                                      batch_max=anchor_batch_max(),
                                      may_wait=default_task_backend.supports_defer)
    if default_task_backend.supports_defer:
        if wait_until is not None:
            anchor_credentials.using(run_after=wait_until).enqueue()
        elif anchoring.waiting_for_membership() and \
                cache.add(MEMBERSHIP_WAKEUP_KEY, 1, timeout=MEMBERSHIP_RECHECK_S):
            # Credentials of organizations not yet on the ledger: look again later (one
            # deferred run at a time), so they are anchored soon after the joining.
            anchor_credentials.using(run_after=timezone.now() + datetime.timedelta(
                seconds=MEMBERSHIP_RECHECK_S)).enqueue()
    return {"batches": made}


@task()
def finish_anchor_batches() -> dict[str, int]:
    """Embed anchor proofs of committed batches; look again later for those in flight."""
    from oneteam.credentials import anchoring

    report = anchoring.finish_batches(attempts_max=FINISH_ATTEMPTS_MAX)
    if report.waiting and default_task_backend.supports_defer:
        finish_anchor_batches.using(
            run_after=timezone.now() + datetime.timedelta(seconds=FINISH_RECHECK_S)).enqueue()
    return {"anchored": report.anchored, "waiting": report.waiting, "failed": report.failed}


@task()
def issue_on_lab_result(person_id: int, lab_slug: str) -> int:
    """Issue what a graded lab submission earns (the labs' result_recorded signal)."""
    from oneteam.accounts.models import Person
    from oneteam.credentials.actions import do_issue_on_lab_results

    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        return 0
    return len(do_issue_on_lab_results(person=person, lab_slug=lab_slug))


@task()
def issue_on_completion(person_id: int, course_id: int | None = None,
                        program_id: int | None = None) -> int:
    """Issue what a completed course or program earns (the academy's completion signals)."""
    from oneteam.academy.models import Course, Program
    from oneteam.accounts.models import Person
    from oneteam.credentials.actions import do_issue_on_completion

    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        return 0
    course = Course.objects.filter(pk=course_id).first() if course_id else None
    program = Program.objects.filter(pk=program_id).first() if program_id else None
    return len(do_issue_on_completion(person=person, course=course, program=program))
