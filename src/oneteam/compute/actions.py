"""Every write of the compute app: ``do_<verb>_<noun>``.

Pools are registered and changed by their provider's administrators (or operators);
usage is approved by the paying organization's own administrators, on the ledger
(``credits.approve_usage`` through the consortium's outbox); jobs are queued by other
apps' actions (the labs' submissions), inside the caller's transaction, after checking
that a pool takes them and that the payer has authorized its provider for the most the
job may cost. The worker (``worker.py``) runs, finishes and charges jobs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from oneteam.academy.models import Program
from oneteam.accounts.models import Person
from oneteam.compute import queries
from oneteam.compute.executors.base import (
    FailureReason,
    JobSpec,
    SpecError,
    failed_result,
    spec_to_json,
)
from oneteam.compute.executors.base import JobState as ExecutorState
from oneteam.compute.models import (
    CAPACITY_MAX,
    NAME_LENGTH_MAX,
    PRICE_MAX,
    ComputePool,
    ExecutorKind,
    Job,
    JobReason,
    JobState,
    UsageApproval,
)
from oneteam.compute.worker import record_finished
from oneteam.consortium.actions import do_submit_ledger_transaction
from oneteam.consortium.models import Organization
from oneteam.consortium.queries import is_admin_of
from oneteam.platform.errors import AccessDenied, InputError

POOL_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$")
SLURM_SETTINGS = {"partition", "account", "shared_dir", "slurm_conf", "node_jobs_dir",
                  "accounting_wait_s"}
ACCOUNTING_WAIT_MAX_S = 3600
SLURM_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
GPUS_MAX = 64
APPROVAL_LIMIT_MAX = 2**62


def _require_pool_manager(actor: Person | None, owner: Organization) -> None:
    if actor is None or actor.is_operator or is_admin_of(actor, owner):
        return
    raise AccessDenied(_("Only the administrators of %(organization)s manage its compute "
                         "pools.") % {"organization": owner.name})


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(field, _("Enter a whole number from %(low)d to %(high)d.")
                         % {"low": low, "high": high})
    return value


def _clean_executor_settings(executor: str, settings_in: Mapping[str, Any] | None
                             ) -> dict[str, Any]:
    settings_in = dict(settings_in or {})
    if executor == ExecutorKind.LOCAL:
        if settings_in:
            raise InputError("executor_settings", _("The local sandbox takes no settings."))
        return {}
    unknown = sorted(set(settings_in) - SLURM_SETTINGS)
    if unknown:
        raise InputError(f"executor_settings.{unknown[0]}",
                         _("Not a Slurm setting; the settings are: %(names)s.")
                         % {"names": ", ".join(sorted(SLURM_SETTINGS))})
    cleaned: dict[str, Any] = {}
    for key, value in settings_in.items():
        if value in (None, ""):
            continue
        if key == "accounting_wait_s":
            # seconds a finished job's usage may wait for Slurm's accounting (default 30)
            seconds = int(value) if isinstance(value, str) and value.isdigit() else value
            cleaned[key] = _whole(seconds, f"executor_settings.{key}", 0,
                                  ACCOUNTING_WAIT_MAX_S)
            continue
        if not isinstance(value, str):
            raise InputError(f"executor_settings.{key}", _("Enter text."))
        if key in ("partition", "account") and not SLURM_NAME.match(value):
            raise InputError(f"executor_settings.{key}",
                             _("Use letters, digits, '.', '-' and '_' only."))
        if key in ("shared_dir", "slurm_conf", "node_jobs_dir") and (
                not PurePosixPath(value).is_absolute() or ".." in value.split("/")
                or "\0" in value):
            raise InputError(f"executor_settings.{key}",
                             _("Enter an absolute path without '..'."))
        cleaned[key] = value
    if "shared_dir" not in cleaned:
        raise InputError("executor_settings.shared_dir",
                         _("A Slurm pool needs a folder that the cluster's nodes share with "
                           "the worker."))
    return cleaned


def do_register_pool(*, actor: Person | None, owner: Organization, slug: str, name: str,
                     executor: str, capacity: int, price_cpu_hour: int,
                     price_gpu_hour: int = 0, gpus: int = 0,
                     executor_settings: Mapping[str, Any] | None = None,
                     allowed_program_slugs: Iterable[str] = (),
                     allowed_organization_slugs: Iterable[str] = (),
                     is_demo: bool = False) -> ComputePool:
    """Register compute ``owner`` offers. No programs or organizations listed: anyone."""
    _require_pool_manager(actor, owner)
    slug = (slug or "").strip().lower()
    if not POOL_SLUG.match(slug):
        raise InputError("slug", _("Use 3 to 50 lowercase letters, digits and '-'."))
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_LENGTH_MAX:
        raise InputError("name", _("Enter a name of at most %(count)d characters.")
                         % {"count": NAME_LENGTH_MAX})
    if executor not in ExecutorKind.values:
        raise InputError("executor", _("Choose the local sandbox or a Slurm cluster."))
    settings_clean = _clean_executor_settings(executor, executor_settings)
    capacity = _whole(capacity, "capacity", 1, CAPACITY_MAX)
    gpus = _whole(gpus, "gpus", 0, GPUS_MAX)
    if executor == ExecutorKind.LOCAL and gpus:
        raise InputError("gpus", _("The local sandbox has no GPUs; use a Slurm pool for GPU "
                                   "jobs."))
    price_cpu_hour = _whole(price_cpu_hour, "price_cpu_hour", 0, PRICE_MAX)
    price_gpu_hour = _whole(price_gpu_hour, "price_gpu_hour", 0, PRICE_MAX)
    program_slugs = sorted(set(allowed_program_slugs))
    programs = list(Program.objects.filter(slug__in=program_slugs))
    if len(programs) != len(program_slugs):
        missing = sorted(set(program_slugs) - {p.slug for p in programs})
        raise InputError("allowed_programs", _("There is no program %(slug)s.")
                         % {"slug": missing[0]})
    organization_slugs = sorted(set(allowed_organization_slugs))
    organizations = list(Organization.objects.filter(slug__in=organization_slugs))
    if len(organizations) != len(organization_slugs):
        missing = sorted(set(organization_slugs) - {o.slug for o in organizations})
        raise InputError("allowed_organizations", _("There is no member organization "
                                                    "%(slug)s.") % {"slug": missing[0]})
    with transaction.atomic():
        if ComputePool.objects.filter(slug=slug).exists():
            raise InputError("slug", _("A pool with this short name exists already."))
        pool = ComputePool.objects.create(
            owner=owner, slug=slug, name=name, executor=executor,
            executor_settings=settings_clean, capacity=capacity, gpus=gpus,
            price_cpu_hour=price_cpu_hour, price_gpu_hour=price_gpu_hour, is_demo=is_demo,
            created_by=actor)
        pool.allowed_programs.set(programs)
        pool.allowed_organizations.set(organizations)
    return pool


def do_update_pool(*, actor: Person | None, pool: ComputePool, active: bool | None = None,
                   capacity: int | None = None, price_cpu_hour: int | None = None,
                   price_gpu_hour: int | None = None) -> ComputePool:
    """Change what a pool offers. New prices apply to jobs queued from now on."""
    _require_pool_manager(actor, pool.owner)
    fields = []
    if active is not None:
        pool.active = bool(active)
        fields.append("active")
    if capacity is not None:
        pool.capacity = _whole(capacity, "capacity", 1, CAPACITY_MAX)
        fields.append("capacity")
    if price_cpu_hour is not None:
        pool.price_cpu_hour = _whole(price_cpu_hour, "price_cpu_hour", 0, PRICE_MAX)
        fields.append("price_cpu_hour")
    if price_gpu_hour is not None:
        pool.price_gpu_hour = _whole(price_gpu_hour, "price_gpu_hour", 0, PRICE_MAX)
        fields.append("price_gpu_hour")
    if fields:
        with transaction.atomic(durable=True):
            pool.save(update_fields=fields)
    return pool


def do_approve_usage(*, actor: Person | None, consumer: Organization,
                     provider: Organization, limit: int) -> UsageApproval:
    """``consumer`` authorizes ``provider`` to charge it up to ``limit`` credits from now on.

    Sent to the ledger as ``credits.approve_usage`` (which sets the allowance to ``limit``,
    replacing an earlier one); jobs may use it once the ledger has committed it. Only the
    consumer's own administrators approve (``actor=None``: the system, for demo data).
    """
    if actor is not None and not is_admin_of(actor, consumer):
        raise AccessDenied(_("Only the administrators of %(organization)s authorize spending "
                             "its credits.") % {"organization": consumer.name})
    if provider.pk == consumer.pk:
        raise InputError("provider", _("An organization does not need to authorize itself: "
                                       "its own pools cost it nothing."))
    limit = _whole(limit, "limit", 0, APPROVAL_LIMIT_MAX)
    with transaction.atomic(durable=True):
        submission = do_submit_ledger_transaction(
            consumer, "credits.approve_usage", {"provider": provider.slug, "limit": limit},
            actor=actor, subject=provider)
        return UsageApproval.objects.create(consumer=consumer, provider=provider,
                                            limit=limit, submission=submission,
                                            created_by=actor)


def choose_pool(consumer: Organization, spec: JobSpec, *, program: Program | None,
                pool: ComputePool | None = None
                ) -> tuple[ComputePool, UsageApproval | None, int]:
    """The pool a job runs on, the approval it is charged under, and its most cost.

    Given ``pool``, that one (if it takes the job); otherwise the consumer's own pools
    first, then the cheapest that the consumer may pay for. InputError on ``pool`` says why
    none will do.
    """
    gpus = max([spec.limits.gpus] + [s.limits.gpus for s in spec.steps if s.limits])
    candidates = queries.pools_usable_by(consumer, program_id=program.pk if program else None,
                                         gpus=gpus)
    if pool is not None:
        if pool not in candidates:
            raise InputError("pool", _("The pool %(pool)s does not take jobs of "
                                       "%(organization)s for this.")
                             % {"pool": pool.name, "organization": consumer.name})
        candidates = [pool]
    if not candidates:
        raise InputError("pool", _("No compute pool takes jobs of %(organization)s for this "
                                   "yet; a member registers one on the compute page.")
                         % {"organization": consumer.name})
    first_error: InputError | None = None
    for candidate in candidates:
        cost = queries.max_cost(candidate, spec)
        try:
            approval = queries.check_authorized(candidate, consumer, cost)
        except InputError as error:
            first_error = first_error or error
            continue
        return candidate, approval, cost
    assert first_error is not None
    raise first_error


def do_queue_job(*, spec: JobSpec, consumer: Organization, owner: str, title: str,
                 submitted_by: Person | None, program: Program | None = None,
                 pool: ComputePool | None = None) -> Job:
    """Queue a job for the worker; may run inside the caller's transaction.

    The spec is checked (InputError names its field), a pool chosen (``choose_pool``), and
    the job's most cost reserved under the consumer's approval of the pool's provider.
    """
    try:
        spec.check()
    except SpecError as error:
        raise InputError(f"spec.{error.field}", error.message) from None
    with transaction.atomic():
        chosen, approval, cost = choose_pool(consumer, spec, program=program, pool=pool)
        job = Job.objects.create(pool=chosen, consumer=consumer, submitted_by=submitted_by,
                                 owner=owner[:100], title=title[:200], spec={},
                                 max_cost=cost, approval=approval)
        job.spec = spec_to_json(spec)
        job.save(update_fields=["spec"])
    return job


def do_cancel_job(*, actor: Person | None, job: Job) -> Job:
    """Cancel a job that waits; one that runs is stopped by the worker at its next look."""
    if actor is not None and not queries.may_see_job(actor, job):
        raise AccessDenied(_("You may not cancel this job."))
    with transaction.atomic(durable=True):
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            raise InputError(None, _("The job has finished already."))
        # a running job is stopped by the worker that holds it, at its next look
        job.reason = JobReason.CANCELLED
        job.save(update_fields=["reason"])
        if job.state == JobState.QUEUED:
            job = record_finished(
                job, failed_result(job.job_id, job.pool.executor, FailureReason.CANCELLED,
                                   "cancelled before it started", state=ExecutorState.CANCELLED),
                reason=JobReason.CANCELLED, detail=_("Cancelled before it started."))
    return job
