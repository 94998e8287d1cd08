"""The compute worker: takes jobs from the fair queue, runs them, records and charges them.

One loop (``ComputeWorker.step``), every ``poll_interval_s``:

1. **recover**: a job left ``running`` whose lease has run out belongs to a worker that
   stopped. On a Slurm pool the job lives on in the cluster, so this worker adopts it
   and follows it to the end: its Slurm id is on the row or, when the worker stopped
   between ``sbatch`` and saving it, found again from the job's id
   (``SlurmExecutor.find``: the id file in its folder, else the Slurm job's name and
   folder). A Slurm job that was never submitted has its folder removed (and anything
   under its name cancelled, ``discard``) before it is queued again; when Slurm cannot be
   asked, the job waits for a later round, so it never runs twice. On the local sandbox
   the job died with its worker: it is queued again once (a new attempt, a new executor
   job id), and a job that was lost twice fails with ``worker_lost``, saying so;
2. **cancel** what people cancelled while it ran;
3. **dispatch**: for each active pool with a free slot, the fair queue's next job
   (``fairqueue.choose_next``), claimed with the pool's row locked, so two workers never
   take more than the pool's capacity; its authorization is checked again (an approval
   replaced by a smaller one fails the job before it runs, ``not_authorized``);
4. **follow** the jobs this worker holds and **finish** each that ended: its state,
   reason, usage and result on the row, the ``job_finished`` signal to its owner in the
   same transaction, and the charge (``credits.charge`` through the consortium's outbox)
   for a job on another organization's pool. Following never waits: an executor with
   ``result_if_ready`` (Slurm) answers None for a job that ended but whose accounting is
   not final yet, and the job is looked at again in a later round (the executor bounds
   that wait, then reports the best usage it knows and says so).

The leases (``LEASE_S``) of the jobs this worker holds are renewed at the start of each
round and again during it, whenever a quarter of the lease has passed since the last
renewal, so a long round (many jobs started or finished at once) does not let them run
out.

Executors: one ``LocalSandbox`` per local pool (slots = the pool's capacity), one
``SlurmExecutor`` per Slurm pool, made when first needed. ``oneteam worker`` runs the
loop in a thread beside the task worker; ``oneteam manage compute_worker`` runs it alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import os
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Any

from django.db import close_old_connections, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.compute import queries
from oneteam.compute.executors.base import (
    Executor,
    ExecutorError,
    FailureReason,
    JobHandle,
    JobResult,
    SpecError,
    UnknownJob,
    failed_result,
    result_to_json,
    spec_from_json,
)
from oneteam.compute.executors.base import JobState as ExecutorState
from oneteam.compute.fairqueue import USAGE_WINDOW_S, Waiting, choose_next
from oneteam.compute.models import (
    Charge,
    ComputePool,
    ExecutorKind,
    Job,
    JobReason,
    JobState,
)
from oneteam.compute.signals import job_finished
from oneteam.consortium.actions import do_submit_ledger_transaction
from oneteam.platform.errors import InputError

logger = logging.getLogger("oneteam.compute.worker")

LEASE_S = 60
ATTEMPTS_MAX = 2             # a local job lost with its worker runs at most twice
POLL_INTERVAL_S = 0.5
DISPATCH_PER_STEP_MAX = 100  # bound on the jobs one step starts
DETAIL_CHARS_MAX = 1000


def _now() -> datetime.datetime:
    return timezone.now()


def new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def make_executor(pool: ComputePool) -> Executor:
    """The executor a pool's settings describe (ExecutorError when it cannot run here)."""
    from oneteam.compute.executors import LocalSandbox, SandboxConfig, SlurmConfig, SlurmExecutor

    if pool.executor == ExecutorKind.LOCAL:
        return LocalSandbox(SandboxConfig(slots=max(1, pool.capacity)))
    options = pool.executor_settings or {}
    env = {"SLURM_CONF": options["slurm_conf"]} if options.get("slurm_conf") else {}
    extra: dict[str, Any] = {}
    if options.get("accounting_wait_s") is not None:
        extra["accounting_wait_s"] = float(options["accounting_wait_s"])
    return SlurmExecutor(SlurmConfig(
        shared_dir=Path(options["shared_dir"]), partition=options.get("partition"),
        account=options.get("account"), env=env,
        node_jobs_dir=options.get("node_jobs_dir"), **extra))


class ComputeWorker:
    """Runs the queue's jobs on the pools' executors; see the module's description."""

    def __init__(self, *, worker_id: str | None = None, lease_s: int = LEASE_S,
                 poll_interval_s: float = POLL_INTERVAL_S,
                 executor_factory: Any = make_executor) -> None:
        self.worker_id = worker_id or new_worker_id()
        self.lease_s = lease_s
        self.poll_interval_s = poll_interval_s
        self.executor_factory = executor_factory
        self._executors: dict[int, Executor] = {}
        self._held: dict[int, JobHandle] = {}   # job id -> handle, for jobs this worker runs
        self._renewed_at = 0.0                  # monotonic time of the last lease renewal

    # -- the loop -------------------------------------------------------------------------

    def step(self) -> int:
        """One round of the loop; returns how many jobs changed state."""
        self.renew_leases(force=True)
        changed = self.recover()
        self.cancel_marked()
        changed += self.dispatch()
        changed += self.follow()
        return changed

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set; a failing round is logged and the loop goes on."""
        while not stop.is_set():
            try:
                close_old_connections()
                self.step()
            except Exception:
                logger.exception("the compute worker's round failed")
            stop.wait(self.poll_interval_s)
        self.close()

    def run_until_idle(self, timeout_s: float = 120.0) -> None:
        """Step until nothing waits or runs (for commands and tests); TimeoutError after."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.step()
            if not Job.objects.filter(state__in=(JobState.QUEUED, JobState.RUNNING)).exists():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"jobs still waiting or running after {timeout_s} s")
            time.sleep(0.05)

    def close(self) -> None:
        for executor in self._executors.values():
            try:
                executor.close()
            except Exception:
                logger.exception("closing an executor failed")
        self._executors.clear()

    def statistics(self) -> dict[str, int]:
        return {"held": len(self._held), "executors": len(self._executors)}

    def renew_leases(self, *, force: bool = False) -> None:
        """Extend the leases of the jobs this worker holds; unless ``force``, only when a
        quarter of the lease has passed since the last renewal (cheap to call often)."""
        now = time.monotonic()
        if not self._held or (not force and now - self._renewed_at < self.lease_s / 4):
            return
        Job.objects.filter(pk__in=list(self._held), worker=self.worker_id,
                           state=JobState.RUNNING).update(
            lease_until=_now() + datetime.timedelta(seconds=self.lease_s))
        self._renewed_at = now

    # -- executors --------------------------------------------------------------------------

    def executor_for(self, pool: ComputePool) -> Executor:
        executor = self._executors.get(pool.pk)
        if executor is None:
            executor = self.executor_factory(pool)
            self._executors[pool.pk] = executor
        return executor

    # -- 1. recover ---------------------------------------------------------------------

    def recover(self) -> int:
        changed = 0
        stale = list(Job.objects.filter(state=JobState.RUNNING, lease_until__lt=_now())
                     .exclude(worker=self.worker_id).select_related("pool")[:100])
        for candidate in stale:
            self.renew_leases()
            with transaction.atomic():
                job = Job.objects.select_for_update().select_related("pool").get(
                    pk=candidate.pk)
                if job.state != JobState.RUNNING or job.lease_until is None or (
                        job.lease_until >= _now()):
                    continue
                if job.pool.executor == ExecutorKind.SLURM:
                    try:
                        handle = self._recover_slurm(job)
                    except (ExecutorError, OSError) as error:
                        # not knowing whether it runs: ask again in a later round
                        logger.warning("recovering Slurm job of job %s: %s", job.pk, error)
                        continue
                    if handle is not None:
                        job.worker = self.worker_id
                        job.native_id = handle.native_id[:64]
                        job.lease_until = _now() + datetime.timedelta(seconds=self.lease_s)
                        job.save(update_fields=["worker", "native_id", "lease_until"])
                        self._held[job.pk] = handle
                        logger.info("adopted Slurm job %s (job %s)", job.native_id, job.pk)
                        continue
                if job.attempts < ATTEMPTS_MAX and job.reason != JobReason.CANCELLED:
                    job.state = JobState.QUEUED
                    job.worker = ""
                    job.lease_until = None
                    job.native_id = ""
                    job.detail = _("The worker running it stopped; it is queued again.")
                    job.save(update_fields=["state", "worker", "lease_until", "native_id",
                                            "detail"])
                    changed += 1
                    continue
            result = failed_result(job.job_id, job.pool.executor, FailureReason.ERROR,
                                   "the worker running it stopped")
            self.finish(job, result, reason=JobReason.WORKER_LOST,
                        detail=_("The worker running the job stopped, twice; it was not "
                                 "run again."))
            changed += 1
        return changed

    def _recover_slurm(self, job: Job) -> JobHandle | None:
        """The Slurm job of a lost ``job`` to adopt, or None after removing every trace of
        a submission that never happened (ExecutorError: Slurm cannot tell, try later)."""
        if job.native_id:
            return JobHandle("slurm", job.job_id, job.native_id)
        executor = self.executor_for(job.pool)
        find = getattr(executor, "find", None)
        discard = getattr(executor, "discard", None)
        if find is None or discard is None:
            return None
        handle: JobHandle | None = find(job.job_id)
        if handle is None:
            discard(job.job_id)
            logger.info("job %s was lost before Slurm ran it; its folder is removed", job.pk)
        return handle

    # -- 2. cancel ----------------------------------------------------------------------

    def cancel_marked(self) -> None:
        marked = Job.objects.filter(pk__in=list(self._held), state=JobState.RUNNING,
                                    reason=JobReason.CANCELLED).select_related("pool")
        for job in marked:
            self.renew_leases()
            try:
                self.executor_for(job.pool).cancel(self._held[job.pk])
            except (UnknownJob, ExecutorError) as error:
                logger.warning("cancelling job %s: %s", job.pk, error)

    # -- 3. dispatch --------------------------------------------------------------------

    def dispatch(self) -> int:
        started = 0
        pool_ids = (Job.objects.filter(state=JobState.QUEUED).values_list("pool_id", flat=True)
                    .distinct())
        for pool in ComputePool.objects.filter(pk__in=list(pool_ids)).order_by("pk"):
            while started < DISPATCH_PER_STEP_MAX:
                self.renew_leases()
                job = self._claim(pool)
                if job is None:
                    break
                self._start(job)
                started += 1
        return started

    def _claim(self, pool: ComputePool) -> Job | None:
        """The fair queue's next job of ``pool``, marked running for this worker, or None."""
        with transaction.atomic():
            pool = ComputePool.objects.select_for_update().get(pk=pool.pk)
            queued = Job.objects.filter(pool=pool, state=JobState.QUEUED)
            if not pool.active:
                stopped = list(queued.select_related("pool")[:100])
                transaction.on_commit(lambda: self._fail_stopped(stopped))
                return None
            running = Job.objects.filter(pool=pool, state=JobState.RUNNING)
            if running.count() >= pool.capacity:
                return None
            since = _now() - datetime.timedelta(seconds=USAGE_WINDOW_S)
            by_organization = dict(running.values_list("consumer_id").annotate(n=Count("id")))
            by_person = dict(running.values_list("submitted_by_id").annotate(n=Count("id")))
            usage = dict(Job.objects.filter(pool=pool, finished__gte=since)
                         .values_list("consumer_id").annotate(cpu=Sum("cpu_seconds")))
            # the 500 oldest waiting jobs are enough to choose among (a bound on the work)
            waiting = [Waiting(job_id, consumer_id, person_id, created.timestamp())
                       for job_id, consumer_id, person_id, created in
                       queued.order_by("created", "id").values_list(
                           "id", "consumer_id", "submitted_by_id", "created")[:500]]
            chosen = choose_next(waiting, running_by_organization=by_organization,
                                 usage_by_organization=usage, running_by_person=by_person)
            if chosen is None:
                return None
            job = Job.objects.select_for_update().select_related("pool", "consumer").get(
                pk=chosen.job_id)
            job.state = JobState.RUNNING
            job.attempts += 1
            job.worker = self.worker_id
            job.lease_until = _now() + datetime.timedelta(seconds=self.lease_s)
            job.started = job.started or _now()
            job.save(update_fields=["state", "attempts", "worker", "lease_until", "started"])
            return job

    def _fail_stopped(self, jobs: list[Job]) -> None:
        for job in jobs:
            self.finish(job, failed_result(job.job_id, job.pool.executor, FailureReason.ERROR,
                                           "the pool stopped taking jobs"),
                        reason=JobReason.POOL_UNAVAILABLE,
                        detail=_("The compute pool stopped taking jobs before this one ran."))

    def _start(self, job: Job) -> None:
        try:
            approval = queries.check_authorized(job.pool, job.consumer, job.max_cost,
                                                excluding_job=job)
        except InputError as error:
            self.finish(job, failed_result(job.job_id, job.pool.executor, FailureReason.ERROR,
                                           error.message),
                        reason=JobReason.NOT_AUTHORIZED, detail=error.message)
            return
        if approval is not None and approval.pk != job.approval_id:
            Job.objects.filter(pk=job.pk).update(approval=approval)
        try:
            spec = dataclasses.replace(spec_from_json(job.spec), job_id=job.job_id)
            handle = self.executor_for(job.pool).submit(spec)
        except (ExecutorError, SpecError, OSError, KeyError, ValueError) as error:
            logger.warning("job %s could not start: %s", job.pk, error)
            self.finish(job, failed_result(job.job_id, job.pool.executor, FailureReason.ERROR,
                                           str(error)),
                        reason=JobReason.ERROR,
                        detail=_("The compute pool could not start the job: %(error)s")
                        % {"error": str(error)[:500]})
            return
        kept = Job.objects.filter(pk=job.pk, worker=self.worker_id, state=JobState.RUNNING,
                                  attempts=job.attempts).update(
            native_id=handle.native_id[:64])
        if kept:
            self._held[job.pk] = handle
            return
        # another worker took the job over while it was being submitted (this one was too
        # slow to renew its lease): it adopted this Slurm job, or queued the job again and
        # this run must not go on beside the next one
        current = Job.objects.filter(pk=job.pk).values_list("native_id", "attempts").first()
        if current == (handle.native_id[:64], job.attempts):
            return
        logger.warning("job %s was taken over while it was submitted; cancelling %s",
                       job.pk, handle.native_id)
        executor = self.executor_for(job.pool)
        with contextlib.suppress(UnknownJob, ExecutorError, OSError):
            executor.cancel(handle)
        forget = getattr(executor, "forget", None)
        if forget is not None:
            with contextlib.suppress(UnknownJob, ExecutorError, OSError):
                forget(handle)

    # -- 4. follow and finish -----------------------------------------------------------

    def follow(self) -> int:
        if not self._held:
            return 0
        finished = 0
        jobs = Job.objects.filter(pk__in=list(self._held)).select_related("pool")
        for job in jobs:
            self.renew_leases()
            handle = self._held[job.pk]
            if job.worker != self.worker_id or job.is_finished:
                self._held.pop(job.pk, None)    # another worker took it over
                continue
            executor = self.executor_for(job.pool)
            try:
                result_if_ready = getattr(executor, "result_if_ready", None)
                if result_if_ready is not None:
                    # never waits: None while it runs or its accounting is not final yet
                    ready: JobResult | None = result_if_ready(handle)
                    if ready is None:
                        continue
                    result = ready
                else:
                    state = executor.poll(handle)
                    if not state.finished:
                        continue
                    # the local sandbox has its result once it reports an end
                    result = executor.result(handle, timeout_s=30)
            except UnknownJob:
                result = failed_result(job.job_id, job.pool.executor, FailureReason.ERROR,
                                       "the executor no longer knows the job")
            except (ExecutorError, TimeoutError) as error:
                logger.warning("following job %s: %s", job.pk, error)
                continue
            self.finish(job, result)
            self._held.pop(job.pk, None)
            forget = getattr(executor, "forget", None)
            if forget is not None:
                with contextlib.suppress(UnknownJob, ExecutorError, OSError):
                    forget(handle)
            finished += 1
        return finished

    def finish(self, job: Job, result: JobResult, *, reason: str | None = None,
               detail: str | None = None) -> None:
        record_finished(job, result, reason=reason, detail=detail)


def _state_of(result: JobResult) -> str:
    if result.state is ExecutorState.SUCCEEDED:
        return JobState.SUCCEEDED
    if result.state is ExecutorState.CANCELLED:
        return JobState.CANCELLED
    return JobState.FAILED


def _stored_result(result: JobResult) -> dict[str, Any]:
    """The result as JSON without its files' bytes (their owner keeps what it needs)."""
    data = result_to_json(result)
    data["files"] = {name: len(blob) for name, blob in result.files.items()}
    return data


def record_finished(job: Job, result: JobResult, *, reason: str | None = None,
                    detail: str | None = None) -> Job:
    """Record the end of a job, tell its owner (``job_finished``) and charge its usage.

    Idempotent: a job already finished is left as it is.
    """
    with transaction.atomic():
        # lock the job's row only (the approval is an outer join PostgreSQL cannot lock)
        job = Job.objects.select_for_update(of=("self",)).select_related(
            "pool", "pool__owner", "consumer", "approval").get(pk=job.pk)
        if job.is_finished:
            return job
        cancelled = job.reason == JobReason.CANCELLED
        job.state = JobState.CANCELLED if cancelled else _state_of(result)
        if reason is not None:
            job.reason = reason
        elif result.reason is not None:
            job.reason = result.reason.value
        elif not cancelled:
            job.reason = ""
        job.detail = (detail if detail is not None else result.detail)[:DETAIL_CHARS_MAX]
        job.cpu_seconds = max(0.0, result.cpu_seconds)
        job.gpu_seconds = max(0.0, result.gpu_seconds)
        job.wall_seconds = max(0.0, result.wall_seconds)
        job.peak_memory_bytes = max(0, result.peak_memory_bytes)
        job.result = _stored_result(result)
        job.finished = _now()
        job.lease_until = None
        job.save()
        charge_for(job)
        job_finished.send(sender=Job, job=job, result=result)
    return job


def charge_for(job: Job) -> Charge | None:
    """Charge a finished job's usage on the ledger, at most its reserved cost, if due."""
    if job.pool.owner_id == job.consumer_id or job.approval is None:
        return None
    amount = min(job.pool.cost(job.cpu_seconds, job.gpu_seconds), job.max_cost)
    if amount <= 0:
        return None
    usage_ref = f"compute/job/{job.pk}"
    try:
        submission = do_submit_ledger_transaction(
            job.pool.owner, "credits.charge",
            {"consumer": job.consumer.slug, "amount": amount, "usage_ref": usage_ref},
            subject=job.consumer)
    except InputError as error:
        logger.warning("job %s was not charged: %s", job.pk, error.message)
        return None
    return Charge.objects.create(job=job, consumer=job.consumer, provider=job.pool.owner,
                                 approval=job.approval, amount=amount, usage_ref=usage_ref,
                                 submission=submission)


def start_in_thread() -> threading.Event:
    """Run a worker in a daemon thread of this process; set the event to stop it."""
    stop = threading.Event()
    worker = ComputeWorker()
    thread = threading.Thread(target=worker.run, args=(stop,), name="compute-worker",
                              daemon=True)
    thread.start()
    return stop
