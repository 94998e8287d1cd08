"""Every write of the labs: uploading bundles, submitting, choosing final submissions.

Bad input raises InputError naming the field (a bundle's problems each name their file
and field in the lab.toml, all of them at once); a person who may not do something gets
AccessDenied. A submission's files are written, its row and its compute job created in
one transaction; the worker runs the job, and ``grading_records`` records the outcome.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oneteam.academy import queries as academy_queries
from oneteam.academy.models import Cohort, Program
from oneteam.accounts.models import Person
from oneteam.compute.actions import do_cancel_job, do_queue_job
from oneteam.consortium.models import Membership, Organization
from oneteam.labs import queries, storage
from oneteam.labs.bundles import FILE_NAME, Bundle, BundleError, Problem
from oneteam.labs.grading import SubmissionError, job_for_submission
from oneteam.labs.models import (
    FINAL_SUBMISSIONS_MAX,
    Lab,
    LabKind,
    Submission,
    SubmissionState,
)
from oneteam.platform.errors import AccessDenied, InputError

BUNDLE_BYTES_MAX = 256 << 20
FILES_PER_SUBMISSION_MAX = 16


class BundleInputError(InputError):
    """A bundle that does not validate; ``problems`` lists each (file, field, message)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("bundle", "; ".join(str(p) for p in self.problems[:20]))


# --------------------------------------------------------------------------- bundles


def _store(archive: Any) -> tuple[str, Bundle]:
    with tempfile.NamedTemporaryFile(dir=storage.labs_dir(), prefix=".upload-",
                                     suffix=".zip") as handle:
        try:
            storage.hash_stream(archive, handle, BUNDLE_BYTES_MAX)
        except ValueError:
            raise InputError("bundle", _("A bundle may be at most %(megabytes)d MB.")
                             % {"megabytes": BUNDLE_BYTES_MAX >> 20}) from None
        handle.flush()
        if handle.tell() == 0:
            raise InputError("bundle", _("The file is empty."))
        try:
            return storage.store_bundle(Path(handle.name))
        except BundleError as error:
            # name the zip as its uploader knows it, not by the temporary file's name
            shown = Path(str(getattr(archive, "name", "") or "bundle.zip")).name
            raise BundleInputError(
                Problem(shown if p.file == Path(handle.name).name else p.file, p.field,
                        p.message) for p in error.problems) from None


def _check_placement(actor: Person | None, kind: str, owner: Organization,
                     program: Program | None, cohort: Cohort | None) -> Program | None:
    if actor is not None and not actor.is_operator and not Membership.objects.filter(
            person=actor, organization=owner, role__in=queries.STAFF_ROLES).exists():
        raise AccessDenied(_("Only the administrators and instructors of %(organization)s "
                             "upload labs for it.") % {"organization": owner.name})
    if kind == LabKind.CHALLENGE:
        if program is not None or cohort is not None:
            raise InputError("program", _("A challenge is open to the alliance's companies; "
                                          "it belongs to no program or cohort."))
        return None
    if cohort is not None:
        if program is not None and cohort.program_id != program.pk:
            raise InputError("cohort", _("This cohort runs another program."))
        if actor is not None and not actor.is_operator and not (
                academy_queries.is_cohort_manager(actor, cohort)
                or cohort.organization_id == owner.pk):
            raise AccessDenied(_("Only the cohort's instructors and administrators add labs "
                                 "to it."))
        return cohort.program
    if program is None:
        raise InputError("program", _("A lab belongs to a program (and optionally to one of "
                                      "its cohorts): choose one."))
    if actor is not None and not academy_queries.can_read_program(actor, program):
        raise InputError("program", _("There is no such program."))
    return program


def _clean_deadline(deadline: datetime.datetime | None) -> datetime.datetime | None:
    if deadline is not None and timezone.is_naive(deadline):
        raise InputError("deadline", _("Give the deadline with its time zone."))
    return deadline


def do_upload_lab(*, actor: Person | None, archive: Any, owner: Organization,
                  program: Program | None = None, cohort: Cohort | None = None,
                  deadline: datetime.datetime | None = None,
                  final_submissions_max: int = 2, is_demo: bool = False) -> Lab:
    """A lab or challenge from a bundle zip; BundleInputError lists the bundle's problems."""
    if not 1 <= final_submissions_max <= FINAL_SUBMISSIONS_MAX:
        raise InputError("final_submissions_max", _("Choose from 1 to %(count)d.")
                         % {"count": FINAL_SUBMISSIONS_MAX})
    deadline = _clean_deadline(deadline)
    digest, bundle = _store(archive)
    program = _check_placement(actor, bundle.kind, owner, program, cohort)
    with transaction.atomic(durable=True):
        if Lab.objects.filter(slug=bundle.slug).exists():
            raise InputError("bundle", _("A lab with the short name %(slug)s exists already; "
                                         "upload a new version on its page.")
                             % {"slug": bundle.slug})
        lab = Lab(slug=bundle.slug, kind=bundle.kind, owner=owner, program=program,
                  cohort=cohort, deadline=deadline,
                  final_submissions_max=final_submissions_max, is_demo=is_demo,
                  created_by=actor)
        _apply_bundle(lab, digest, bundle)
        lab.save()
    return lab


def _apply_bundle(lab: Lab, digest: str, bundle: Bundle) -> None:
    lab.title_ko, lab.title_en = bundle.title["ko"], bundle.title["en"]
    lab.version = bundle.version
    lab.bundle_digest = digest
    lab.metric_name, lab.metric_direction = bundle.metric_name, bundle.metric_direction
    lab.submissions_per_day = bundle.submissions_per_day
    lab.submission_files = list(bundle.submission_files)
    lab.notebook = bundle.notebook or ""
    lab.submission_max_bytes = bundle.submission_max_bytes
    lab.public_fraction = bundle.public_fraction
    lab.skills = [{"code": code, "level": level} for code, level in bundle.skills]
    lab.starter_files = list(bundle.starter)
    lab.updated = timezone.now()


def do_update_lab_bundle(*, actor: Person | None, lab: Lab, archive: Any) -> Lab:
    """A new version of a lab's bundle (same short name and kind); new submissions use it."""
    if actor is not None and not queries.may_manage_lab(actor, lab):
        raise AccessDenied(_("Only the lab's instructors and administrators manage it."))
    digest, bundle = _store(archive)
    if bundle.slug != lab.slug or bundle.kind != lab.kind:
        raise InputError("bundle", _("This bundle is %(slug)s (%(kind)s), not a new version "
                                     "of %(lab)s.") % {"slug": bundle.slug, "kind": bundle.kind,
                                                       "lab": lab.slug})
    with transaction.atomic(durable=True):
        lab = Lab.objects.select_for_update().get(pk=lab.pk)
        _apply_bundle(lab, digest, bundle)
        lab.save()
    return lab


def do_update_lab(*, actor: Person | None, lab: Lab, deadline: datetime.datetime | None,
                  final_submissions_max: int) -> Lab:
    if actor is not None and not queries.may_manage_lab(actor, lab):
        raise AccessDenied(_("Only the lab's instructors and administrators manage it."))
    if not 1 <= final_submissions_max <= FINAL_SUBMISSIONS_MAX:
        raise InputError("final_submissions_max", _("Choose from 1 to %(count)d.")
                         % {"count": FINAL_SUBMISSIONS_MAX})
    lab.deadline = _clean_deadline(deadline)
    lab.final_submissions_max = final_submissions_max
    lab.updated = timezone.now()
    with transaction.atomic(durable=True):
        lab.save(update_fields=["deadline", "final_submissions_max", "updated"])
    return lab


# --------------------------------------------------------------------------- submissions


def paying_organization(actor: Person, lab: Lab,
                        organization: Organization | None) -> Organization:
    """Who pays for a submission's compute: the cohort's organization for a lab of a
    cohort, the lab's organization for a lab of a program, the submitting company for a
    challenge (one of the person's companies; given when they have several)."""
    if lab.kind == LabKind.LAB:
        return lab.cohort.organization if lab.cohort is not None else lab.owner
    companies = list(queries.companies_of(actor))
    if organization is not None:
        if organization not in companies and not (
                actor.is_operator or organization.pk == lab.owner_id):
            raise InputError("organization", _("You do not act for %(organization)s.")
                             % {"organization": organization.name})
        return organization
    if len(companies) == 1:
        return companies[0]
    if not companies:
        raise InputError("organization", _("Challenges are for the alliance's companies: you "
                                           "are not in one."))
    raise InputError("organization", _("Choose the company you submit for."))


def do_submit(*, actor: Person, lab: Lab, files: Mapping[str, Any],
              organization: Organization | None = None) -> Submission:
    """Submit files (or one notebook) to a lab; the submission and its job, queued.

    Refused with InputError naming the field: after the deadline, past the daily limit,
    files the lab does not take or too large, and when no compute pool may run it (no
    pool, no approval or not enough of it), so nothing is queued that cannot run.
    """
    if not queries.may_submit(actor, lab):
        raise AccessDenied(_("You may not submit to this lab."))
    if lab.deadline_passed():
        raise InputError("files", _("The deadline has passed; the lab takes no more "
                                    "submissions."))
    consumer = paying_organization(actor, lab, organization)
    if not files:
        raise InputError("files", _("Choose the files to submit."))
    if len(files) > FILES_PER_SUBMISSION_MAX:
        raise InputError("files", _("At most %(count)d files.")
                         % {"count": FILES_PER_SUBMISSION_MAX})
    accepted = set(lab.submission_files) | ({lab.notebook} if lab.notebook else set())
    for name in files:
        if not FILE_NAME.match(name) or name not in accepted:
            raise InputError("files", _("%(name)s is not a file this lab takes; it takes "
                                        "%(names)s.") % {"name": name,
                                                         "names": ", ".join(sorted(accepted))})
    bundle = storage.open_bundle(lab.bundle_digest)
    with transaction.atomic(durable=True):
        # the person's row, locked, serializes their submissions: two at once cannot
        # both pass the daily limit
        Person.objects.select_for_update().filter(pk=actor.pk).first()
        if queries.submissions_today(actor, lab) >= lab.submissions_per_day:
            raise InputError("files", _("You have made the %(count)d submissions this lab "
                                        "takes per day; submit again tomorrow.")
                             % {"count": lab.submissions_per_day})
        submission = Submission.objects.create(
            lab=lab, person=actor, organization=consumer,
            is_notebook=bool(lab.notebook and lab.notebook in files))
        directory = storage.submission_dir(submission.pk)
        try:
            paths = _write_files(directory, files, lab.submission_max_bytes)
            submission.files = [{"name": name, "size": size, "sha256": digest}
                                for name, (_path, size, digest) in sorted(paths.items())]
            spec = job_for_submission(bundle, {name: path for name, (path, _s, _d)
                                               in paths.items()},
                                      job_id=f"labs-{submission.pk}")
            job = do_queue_job(spec=spec, consumer=consumer,
                               owner=f"labs.submission:{submission.pk}",
                               title=f"{lab.slug} #{submission.pk}", submitted_by=actor,
                               program=lab.program)
        except SubmissionError as error:
            shutil.rmtree(directory, ignore_errors=True)
            raise InputError("files", str(error)) from None
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        submission.job = job
        submission.save(update_fields=["files", "job"])
    return submission


def _write_files(directory: Path, files: Mapping[str, Any],
                 max_bytes: int) -> dict[str, tuple[Path, int, str]]:
    # a folder under this new row's number is left from a transaction that rolled back
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    written: dict[str, tuple[Path, int, str]] = {}
    total = 0
    for name, stream in files.items():
        path = directory / name
        with path.open("wb") as out:
            try:
                digest, size = storage.hash_stream(stream, out, max_bytes - total)
            except ValueError:
                raise InputError("files", _("The submission is larger than %(bytes)d bytes, "
                                            "the most this lab takes.")
                                 % {"bytes": max_bytes}) from None
        total += size
        if size == 0:
            raise InputError("files", _("%(name)s is empty.") % {"name": name})
        written[name] = (path, size, digest)
    return written


def do_choose_final_submissions(*, actor: Person, lab: Lab,
                                submission_ids: Iterable[int]) -> list[Submission]:
    """The submissions that count for the private leaderboard (none chosen: the best
    public one). Chosen before the deadline, at most ``final_submissions_max``."""
    ids = sorted(set(submission_ids))
    if lab.deadline_passed():
        raise InputError("submissions", _("The deadline has passed; final submissions are "
                                          "fixed."))
    if len(ids) > lab.final_submissions_max:
        raise InputError("submissions", _("Choose at most %(count)d submissions.")
                         % {"count": lab.final_submissions_max})
    with transaction.atomic(durable=True):
        mine = Submission.objects.select_for_update().filter(lab=lab, person=actor)
        chosen = list(mine.filter(pk__in=ids))
        if len(chosen) != len(ids):
            raise InputError("submissions", _("Choose among your own submissions."))
        if any(s.state != SubmissionState.GRADED for s in chosen):
            raise InputError("submissions", _("Only graded submissions can be final."))
        mine.exclude(pk__in=ids).update(is_final=False)
        mine.filter(pk__in=ids).update(is_final=True)
    return chosen


def do_cancel_submission(*, actor: Person, submission: Submission) -> Submission:
    if submission.person_id != actor.pk and not queries.may_manage_lab(actor, submission.lab):
        raise AccessDenied(_("You may not cancel this submission."))
    if submission.is_finished or submission.job is None:
        raise InputError(None, _("The submission has finished already."))
    do_cancel_job(actor=None, job=submission.job)
    submission.refresh_from_db()
    return submission
