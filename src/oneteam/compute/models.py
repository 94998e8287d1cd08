"""Compute pools, the jobs that run on them, what they used and what it cost.

A ``ComputePool`` is compute a member organization offers to the alliance: an executor
(the local sandbox, or a Slurm cluster with its settings), a capacity in concurrent jobs,
who may use it (programs and organizations; none listed: anyone), and a price in credits
per CPU-hour and per GPU-hour. A ``Job`` is one piece of work on a pool, on behalf of an
organization that pays for it (its *consumer*); the worker takes jobs from a fair queue
(``fairqueue.py``). Using another organization's pool needs a ``UsageApproval``: the
consumer's administrators authorize the provider on the ledger (``credits.approve_usage``)
up to a limit. A finished job's usage is charged on the ledger (``credits.charge``) as a
``Charge``; a job on the consumer's own pool costs nothing.
"""

from __future__ import annotations

import math
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from oneteam.consortium.models import LedgerSubmission, Organization, SubmissionState

NAME_LENGTH_MAX = 100
CAPACITY_MAX = 1000
PRICE_MAX = 1_000_000_000
MILLISECONDS_PER_HOUR = 3_600_000


class ExecutorKind(models.TextChoices):
    LOCAL = "local", _("Local sandbox")
    SLURM = "slurm", _("Slurm cluster")


class ComputePool(models.Model):
    """Compute one member offers: an executor, a capacity, who may use it, its price."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="pools",
                              verbose_name=_("provided by"))
    slug = models.SlugField(_("short name"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=NAME_LENGTH_MAX)
    executor = models.CharField(_("executor"), max_length=16, choices=ExecutorKind.choices)
    # Slurm: {"partition": ..., "account": ..., "shared_dir": ..., "slurm_conf": ...}
    executor_settings = models.JSONField(_("executor settings"), default=dict, blank=True)
    capacity = models.PositiveIntegerField(_("jobs at once"))
    gpus = models.PositiveIntegerField(_("GPUs per job at most"), default=0)
    allowed_programs = models.ManyToManyField("academy.Program", blank=True,
                                              related_name="+",
                                              verbose_name=_("programs allowed"))
    allowed_organizations = models.ManyToManyField(Organization, blank=True, related_name="+",
                                                   verbose_name=_("organizations allowed"))
    price_cpu_hour = models.PositiveBigIntegerField(_("credits per CPU-hour"))
    price_gpu_hour = models.PositiveBigIntegerField(_("credits per GPU-hour"), default=0)
    active = models.BooleanField(_("taking jobs"), default=True)
    is_demo = models.BooleanField(_("demo data"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("compute pool")
        verbose_name_plural = _("compute pools")
        ordering: ClassVar[list[str]] = ["slug"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    def cost(self, cpu_seconds: float, gpu_seconds: float) -> int:
        """Credits for this usage: CPU-hours and GPU-hours times the prices, rounded up.

        Integer arithmetic on whole milliseconds, so the same usage always costs the same.
        """
        cpu_ms = max(0, math.ceil(cpu_seconds * 1000))
        gpu_ms = max(0, math.ceil(gpu_seconds * 1000))
        numerator = cpu_ms * self.price_cpu_hour + gpu_ms * self.price_gpu_hour
        return -(-numerator // MILLISECONDS_PER_HOUR)


class UsageApproval(models.Model):
    """A consumer's authorization of a provider to charge it up to ``limit`` credits.

    Sent as ``credits.approve_usage`` through the ledger outbox; it counts once the ledger
    has committed it. A newer approval replaces the older one (the ledger sets the
    allowance to the new limit), so only the latest committed one is in force.
    """

    consumer = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                 related_name="usage_approvals_given",
                                 verbose_name=_("paying organization"))
    provider = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                 related_name="usage_approvals_received",
                                 verbose_name=_("providing organization"))
    limit = models.PositiveBigIntegerField(_("credit limit"))
    submission = models.ForeignKey(LedgerSubmission, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("ledger transaction"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("approved by"))
    created = models.DateTimeField(_("approved"), default=timezone.now)

    class Meta:
        verbose_name = _("usage approval")
        verbose_name_plural = _("usage approvals")
        ordering: ClassVar[list[str]] = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.consumer.slug} → {self.provider.slug} ≤ {self.limit}"

    @property
    def committed(self) -> bool:
        return self.submission.state == SubmissionState.COMMITTED


class JobState(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Finished")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINISHED_STATES = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class JobReason(models.TextChoices):
    """Why a job failed: the executor's reasons (a limit hit, ...) and the platform's own."""

    EXIT_STATUS = "exit_status", _("The program stopped with an error.")
    TIME_LIMIT = "time_limit", _("The time limit was reached.")
    MEMORY_LIMIT = "memory_limit", _("The memory limit was reached.")
    OUTPUT_LIMIT = "output_limit", _("The program printed more than the output limit.")
    DISK_LIMIT = "disk_limit", _("The disk limit was reached.")
    PROCESS_LIMIT = "process_limit", _("The limit on processes was reached.")
    KILLED = "killed", _("The program was killed by a signal.")
    CANCELLED = "cancelled", _("The job was cancelled.")
    ERROR = "error", _("The compute pool failed to run the job.")
    INVALID_RESULTS = "invalid_results", _("The grader's results were not valid.")
    WORKER_LOST = "worker_lost", _("The worker running the job stopped; it was not run "
                                   "again.")
    POOL_UNAVAILABLE = "pool_unavailable", _("The compute pool is no longer available.")
    NOT_AUTHORIZED = "not_authorized", _("The paying organization's authorization of the "
                                         "pool's provider is missing or used up.")


class Job(models.Model):
    """One piece of work on a pool, paid by ``consumer``; its spec, state, usage and result.

    ``spec`` is the executor's job spec in JSON (``spec_to_json``): the files and folders
    it names live in the data directory, so a worker that restarts can run it again.
    ``owner`` names what the job is for (``labs.submission:<id>``), for the app that made it.
    """

    pool = models.ForeignKey(ComputePool, on_delete=models.PROTECT, related_name="jobs",
                             verbose_name=_("pool"))
    consumer = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                 related_name="compute_jobs",
                                 verbose_name=_("paying organization"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="compute_jobs",
                                     verbose_name=_("submitted by"))
    owner = models.CharField(_("for"), max_length=100, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    spec = models.JSONField(editable=False)
    state = models.CharField(_("state"), max_length=16, choices=JobState.choices,
                             default=JobState.QUEUED)
    reason = models.CharField(_("reason"), max_length=32, choices=JobReason.choices,
                              blank=True)
    detail = models.CharField(_("details"), max_length=1000, blank=True)
    # the most the job may cost (its limits at the pool's prices), reserved while it waits
    # and runs so that concurrent jobs cannot overdraw an approval
    max_cost = models.PositiveBigIntegerField(_("most it may cost"), default=0)
    approval = models.ForeignKey(UsageApproval, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="jobs",
                                 verbose_name=_("charged under"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    native_id = models.CharField(_("executor's id"), max_length=64, blank=True)
    worker = models.CharField(_("worker"), max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    cpu_seconds = models.FloatField(_("CPU-seconds"), default=0.0)
    gpu_seconds = models.FloatField(_("GPU-seconds"), default=0.0)
    wall_seconds = models.FloatField(_("seconds"), default=0.0)
    peak_memory_bytes = models.PositiveBigIntegerField(_("peak memory"), default=0)
    result = models.JSONField(_("result"), null=True, blank=True, editable=False)
    created = models.DateTimeField(_("submitted"), default=timezone.now)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering: ClassVar[list[str]] = ["-created", "-id"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["pool", "state", "created"], name="compute_job_queue"),
            models.Index(fields=["state", "lease_until"], name="compute_job_lease"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.state})"

    @property
    def job_id(self) -> str:
        """The executor's job id: unique per job and per attempt."""
        return f"ot-{self.pk}-{self.attempts}"

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES


class Charge(models.Model):
    """A finished job's usage charged on the ledger: the consumer pays the provider."""

    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="charge",
                               verbose_name=_("job"))
    consumer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("paid by"))
    provider = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("paid to"))
    approval = models.ForeignKey(UsageApproval, on_delete=models.PROTECT,
                                 related_name="charges", verbose_name=_("under approval"))
    amount = models.PositiveBigIntegerField(_("credits"))
    usage_ref = models.CharField(_("usage reference"), max_length=128, unique=True)
    submission = models.ForeignKey(LedgerSubmission, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("ledger transaction"))
    created = models.DateTimeField(_("charged"), default=timezone.now)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        ordering: ClassVar[list[str]] = ["-created", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="charge_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.usage_ref}: {self.amount}"
