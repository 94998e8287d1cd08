"""Every read of the compute app that needs permission, and the figures the pages show.

Who sees what:

- the pool directory (names, providers, executors, capacity, prices, who may use them):
  anyone signed in;
- a pool's jobs and usage: the provider's administrators and the operators;
- an organization's usage, charges and approvals, as consumer and as provider: its
  administrators and the operators (``access_usage_by_organization_slug``);
- a job: the person who submitted it, the administrators of the paying and the
  providing organization, the operators;
- changing a pool: the provider's administrators and the operators; approving usage:
  the paying organization's own administrators only (an operator does not sign for a
  member).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.accounts.models import Person
from oneteam.compute.executors.base import JobSpec
from oneteam.compute.models import (
    FINISHED_STATES,
    Charge,
    ComputePool,
    Job,
    JobState,
    UsageApproval,
)
from oneteam.consortium.models import LedgerState, Organization, SubmissionState
from oneteam.consortium.queries import (
    access_managed_organization_by_slug,
    is_admin_of,
    organizations_administered_by,
)
from oneteam.platform.errors import AccessDenied, InputError, NotFound


def _signed_in(viewer: Any) -> bool:
    return isinstance(viewer, Person) and viewer.is_authenticated


def _require_signed_in(viewer: Any) -> Person:
    if not _signed_in(viewer):
        raise AccessDenied(_("Sign in first."))
    assert isinstance(viewer, Person)
    return viewer


# --------------------------------------------------------------------------- pools


def access_pools(viewer: Any) -> QuerySet[ComputePool]:
    _require_signed_in(viewer)
    return ComputePool.objects.select_related("owner").order_by("owner__name_en", "slug")


def access_pool_by_slug(viewer: Any, slug: str) -> ComputePool:
    _require_signed_in(viewer)
    pool = ComputePool.objects.select_related("owner").filter(slug=slug).first()
    if pool is None:
        raise NotFound(_("There is no compute pool %(slug)s.") % {"slug": slug})
    return pool


def may_manage_pool(viewer: Any, pool: ComputePool) -> bool:
    return _signed_in(viewer) and (viewer.is_operator or is_admin_of(viewer, pool.owner))


def access_managed_pool_by_slug(viewer: Any, slug: str) -> ComputePool:
    pool = access_pool_by_slug(viewer, slug)
    if not may_manage_pool(viewer, pool):
        raise AccessDenied(_("Only the administrators of %(organization)s manage this pool.")
                           % {"organization": pool.owner.name})
    return pool


def organizations_providing(viewer: Person) -> QuerySet[Organization]:
    """The organizations for which ``viewer`` may register pools."""
    if viewer.is_operator:
        return Organization.objects.all()
    return organizations_administered_by(viewer)


def pools_usable_by(consumer: Organization, *, program_id: int | None,
                    gpus: int = 0) -> list[ComputePool]:
    """Active pools that take jobs of ``consumer`` (for ``program_id``), the consumer's own
    first, then the cheapest."""
    pools = (ComputePool.objects.filter(active=True, gpus__gte=gpus)
             .filter(Q(allowed_organizations__isnull=True) | Q(allowed_organizations=consumer)
                     | Q(owner=consumer))
             .select_related("owner").distinct())
    usable = []
    for pool in pools:
        programs = set(pool.allowed_programs.values_list("id", flat=True))
        if programs and pool.owner_id != consumer.pk and program_id not in programs:
            continue
        usable.append(pool)
    usable.sort(key=lambda pool: (pool.owner_id != consumer.pk, pool.price_cpu_hour,
                                  pool.price_gpu_hour, pool.slug))
    return usable


# --------------------------------------------------------------------------- costs


def max_cost(pool: ComputePool, spec: JobSpec) -> int:
    """The most a job may cost on ``pool``: every step's wall limit on all its CPUs and GPUs.

    A charge never exceeds it (``worker.charge_for``), so reserving it keeps concurrent
    jobs from overdrawing an approval.
    """
    cpu = gpu = 0
    for step in spec.steps:
        limits = spec.step_limits(step)
        cpu += limits.wall_seconds * limits.cpus
        gpu += limits.wall_seconds * limits.gpus
    return pool.cost(cpu, gpu)


def approval_in_force(consumer: Organization, provider: Organization) -> UsageApproval | None:
    """The latest approval of ``provider`` by ``consumer`` that the ledger has committed."""
    return (UsageApproval.objects.filter(consumer=consumer, provider=provider,
                                         submission__state=SubmissionState.COMMITTED)
            .select_related("submission").order_by("-created", "-id").first())


def approval_pending(consumer: Organization, provider: Organization) -> UsageApproval | None:
    """An approval still on its way to the ledger, if any."""
    return (UsageApproval.objects.filter(consumer=consumer, provider=provider,
                                         submission__state__in=(SubmissionState.QUEUED,
                                                                SubmissionState.SENT))
            .order_by("-created", "-id").first())


@dataclass(frozen=True)
class Allowance:
    approval: UsageApproval
    limit: int
    charged: int       # charges made under it
    reserved: int      # the most that jobs waiting or running under it may still cost

    @property
    def remaining(self) -> int:
        return self.limit - self.charged - self.reserved


def allowance(approval: UsageApproval, *, excluding_job: Job | None = None) -> Allowance:
    charged = Charge.objects.filter(approval=approval).aggregate(total=Sum("amount"))["total"]
    unfinished = Job.objects.filter(approval=approval).exclude(state__in=FINISHED_STATES)
    if excluding_job is not None:
        unfinished = unfinished.exclude(pk=excluding_job.pk)
    reserved = unfinished.aggregate(total=Sum("max_cost"))["total"]
    return Allowance(approval, approval.limit, charged or 0, reserved or 0)


def check_authorized(pool: ComputePool, consumer: Organization, cost: int, *,
                     excluding_job: Job | None = None) -> UsageApproval | None:
    """The approval a job of ``cost`` credits runs under (None: nothing to charge).

    InputError on ``pool`` says what is missing: the approval, or enough of it.
    """
    provider = pool.owner
    if provider.pk == consumer.pk or cost == 0:
        return None
    names = {"consumer": consumer.name, "provider": provider.name, "pool": pool.name}
    if provider.ledger_state != LedgerState.REGISTERED:
        raise InputError("pool", _("%(provider)s is not a member on the ledger yet, so its "
                                   "pool %(pool)s cannot charge for jobs.") % names)
    approval = approval_in_force(consumer, provider)
    if approval is None:
        waiting = approval_pending(consumer, provider)
        if waiting is not None:
            raise InputError("pool", _("%(consumer)s's authorization of %(provider)s is "
                                       "still on its way to the ledger; try again in a "
                                       "moment.") % names)
        raise InputError("pool", _(
            "%(consumer)s has not authorized %(provider)s to charge it for compute on "
            "%(pool)s. An administrator of %(consumer)s approves usage on the compute "
            "usage page.") % names)
    left = allowance(approval, excluding_job=excluding_job).remaining
    if left < cost:
        raise InputError("pool", _(
            "%(consumer)s's authorization of %(provider)s has %(left)d credits left, and "
            "this job may cost up to %(cost)d. An administrator of %(consumer)s can raise "
            "the limit on the compute usage page.") % {**names, "left": max(0, left),
                                                        "cost": cost})
    return approval


# --------------------------------------------------------------------------- jobs


def may_see_job(viewer: Any, job: Job) -> bool:
    if not _signed_in(viewer):
        return False
    return (viewer.is_operator or job.submitted_by_id == viewer.pk
            or is_admin_of(viewer, job.consumer) or is_admin_of(viewer, job.pool.owner))


def access_job_by_id(viewer: Any, job_id: int) -> Job:
    _require_signed_in(viewer)
    job = Job.objects.select_related("pool", "pool__owner", "consumer").filter(
        pk=job_id).first()
    if job is None or not may_see_job(viewer, job):
        raise NotFound(_("There is no job %(id)s.") % {"id": job_id})
    return job


def access_pool_jobs_by_slug(viewer: Any, slug: str) -> tuple[ComputePool, QuerySet[Job]]:
    pool = access_managed_pool_by_slug(viewer, slug)
    return pool, Job.objects.filter(pool=pool).select_related("consumer")


def queue_position(job: Job) -> int | None:
    """How many jobs wait on the job's pool before it (the fair queue may reorder them)."""
    if job.state != JobState.QUEUED:
        return None
    return Job.objects.filter(pool_id=job.pool_id, state=JobState.QUEUED,
                              created__lt=job.created).count()


def pool_statistics(pool: ComputePool) -> dict[str, int]:
    counts = dict.fromkeys(JobState.values, 0)
    for row in Job.objects.filter(pool=pool).values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    return counts


# --------------------------------------------------------------------------- usage pages


@dataclass(frozen=True)
class UsageRow:
    other: Organization
    jobs: int
    cpu_seconds: float
    gpu_seconds: float
    credits: int


@dataclass(frozen=True)
class Usage:
    organization: Organization
    since: datetime.datetime
    as_consumer: list[UsageRow]       # what it used of others' pools, by provider
    as_provider: list[UsageRow]       # what others used of its pools, by consumer
    charges_paid: list[Charge]
    charges_received: list[Charge]
    approvals: list[tuple[UsageApproval, Allowance | None]]  # given by it
    approvals_received: list[tuple[UsageApproval, Allowance | None]]
    own_pools: list[ComputePool]


def _rows(jobs: QuerySet[Job], other_field: str) -> list[UsageRow]:
    totals: dict[int, dict[str, float]] = {}
    for row in jobs.values(other_field).annotate(
            jobs=Count("id"), cpu=Sum("cpu_seconds"), gpu=Sum("gpu_seconds")):
        totals[row[other_field]] = {"jobs": row["jobs"], "cpu": row["cpu"] or 0.0,
                                    "gpu": row["gpu"] or 0.0, "credits": 0}
    charge_field = "provider" if other_field == "pool__owner" else "consumer"
    job_ids = jobs.values("id")
    for row in Charge.objects.filter(job__in=job_ids).values(charge_field).annotate(
            total=Sum("amount")):
        totals.setdefault(row[charge_field], {"jobs": 0, "cpu": 0.0, "gpu": 0.0,
                                              "credits": 0})["credits"] = row["total"]
    organizations = Organization.objects.in_bulk(list(totals))
    return sorted((UsageRow(organizations[key], int(value["jobs"]), value["cpu"],
                            value["gpu"], int(value["credits"]))
                   for key, value in totals.items() if key in organizations),
                  key=lambda row: row.other.name_en)


def latest_approvals(approvals: QuerySet[UsageApproval],
                     other: str) -> list[tuple[UsageApproval, Allowance | None]]:
    """The newest approval per counterpart, with what is left of it once committed."""
    seen: set[int] = set()
    rows = []
    for approval in approvals.select_related("submission", "consumer", "provider"):
        key = getattr(approval, f"{other}_id")
        if key in seen:
            continue
        seen.add(key)
        rows.append((approval, allowance(approval) if approval.committed else None))
    return rows


def access_usage_by_organization_slug(viewer: Any, slug: str, *,
                                      days: int = 30) -> Usage:
    organization = access_managed_organization_by_slug(_require_signed_in(viewer), slug)
    since = timezone.now() - datetime.timedelta(days=days)
    finished = Job.objects.filter(finished__gte=since)
    used = finished.filter(consumer=organization).exclude(pool__owner=organization)
    provided = finished.filter(pool__owner=organization).exclude(consumer=organization)
    charges = Charge.objects.select_related("job", "submission", "consumer", "provider")
    return Usage(
        organization=organization, since=since,
        as_consumer=_rows(used, "pool__owner"), as_provider=_rows(provided, "consumer"),
        charges_paid=list(charges.filter(consumer=organization)[:100]),
        charges_received=list(charges.filter(provider=organization)[:100]),
        approvals=latest_approvals(UsageApproval.objects.filter(consumer=organization),
                                   "provider"),
        approvals_received=latest_approvals(
            UsageApproval.objects.filter(provider=organization), "consumer"),
        own_pools=list(ComputePool.objects.filter(owner=organization)))


def usage_organizations(viewer: Person) -> QuerySet[Organization]:
    """The organizations whose usage pages ``viewer`` may open."""
    if viewer.is_operator:
        return Organization.objects.all()
    return organizations_administered_by(viewer)
