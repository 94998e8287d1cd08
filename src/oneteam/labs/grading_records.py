"""Recording a submission's outcome when its compute job ends (``compute.job_finished``).

The receiver runs inside the worker's transaction that finishes the job: the outcome is
read from the executor's result with ``grading.read_outcome`` (a score when the grader
wrote valid results, else the failure, named), stored on the submission, the executed
notebook kept beside the submission's files; after commit, ``labs.signals.result_recorded``
is sent. A failure of the platform's own (no authorization, the worker lost, the pool
gone) is reported with the job's reason and words rather than the executor's.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from oneteam.compute.executors.base import JobResult
from oneteam.compute.models import Job, JobReason
from oneteam.labs import storage
from oneteam.labs.bundles import BundleError
from oneteam.labs.grading import EXECUTED_NOTEBOOK, read_outcome
from oneteam.labs.models import Submission, SubmissionState
from oneteam.labs.signals import result_recorded

logger = logging.getLogger("oneteam.labs")

OWNER_PREFIX = "labs.submission:"
OUTPUT_CHARS_MAX = 16 * 1024
PLATFORM_REASONS = (JobReason.WORKER_LOST, JobReason.POOL_UNAVAILABLE,
                    JobReason.NOT_AUTHORIZED, JobReason.CANCELLED)


def record_job_outcome(sender: Any, *, job: Job, result: JobResult, **_: Any) -> None:
    if not job.owner.startswith(OWNER_PREFIX):
        return
    submission = (Submission.objects.select_for_update().select_related("lab")
                  .filter(pk=int(job.owner[len(OWNER_PREFIX):])).first())
    if submission is None or submission.is_finished:
        return
    try:
        bundle = storage.open_bundle(submission.lab.bundle_digest)
    except BundleError as error:
        logger.error("lab %s: its stored bundle does not load: %s", submission.lab.slug, error)
        _fail(submission, JobReason.ERROR, str(error))
        return
    outcome = read_outcome(bundle, result)
    submission.run_stdout = outcome.run_stdout[-OUTPUT_CHARS_MAX:]
    submission.run_stderr = outcome.run_stderr[-OUTPUT_CHARS_MAX:]
    if outcome.executed_notebook:
        path = storage.submission_dir(submission.pk) / EXECUTED_NOTEBOOK
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(outcome.executed_notebook)
        submission.executed_notebook = EXECUTED_NOTEBOOK
    if outcome.graded and job.reason not in PLATFORM_REASONS:
        assert outcome.results is not None
        raw = result.files["results/results.json"]
        submission.results = json.loads(raw)
        submission.state = SubmissionState.GRADED
        submission.score = outcome.score
        submission.max_score = outcome.max_score
        submission.metric = outcome.metric
        submission.private_metric = outcome.private_metric
        submission.grader_stdout = outcome.grader_stdout[-OUTPUT_CHARS_MAX:]
        submission.reason = ""
        submission.detail = ""
        submission.graded_at = timezone.now()
        submission.save()
        _announce(submission)
        return
    if job.reason in PLATFORM_REASONS:
        _fail(submission, job.reason, job.detail)
    else:
        _fail(submission, outcome.reason or JobReason.ERROR, outcome.detail)


def _fail(submission: Submission, reason: str, detail: str) -> None:
    submission.state = SubmissionState.FAILED
    submission.reason = reason[:32]
    submission.detail = detail[:1000]
    submission.graded_at = timezone.now()
    submission.save()
    _announce(submission)


def _announce(submission: Submission) -> None:
    transaction.on_commit(lambda: result_recorded.send(sender=Submission,
                                                       submission=submission))
