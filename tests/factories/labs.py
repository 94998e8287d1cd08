"""Factories of the labs and compute apps: pools, bundles, labs, submissions.

Made through the apps' actions, like every factory::

    from tests.factories.labs import make_pool, make_lab, submit_files

Bundles are built from the platform's own lab sources once per test session and kept
as zip bytes (``bundle_zip("digits")``); each upload then goes through the same checks as
a person's.
"""

from __future__ import annotations

import atexit
import io
import shutil
import tempfile
from pathlib import Path

from oneteam.academy.models import Cohort, Program
from oneteam.accounts.models import Person
from oneteam.compute import actions as compute_actions
from oneteam.compute.models import ComputePool, ExecutorKind
from oneteam.consortium.models import Organization
from oneteam.labs import actions
from oneteam.labs.content import build_bundle, reference_dir, source_dir
from oneteam.labs.models import Lab, Submission
from oneteam.labs.storage import zip_folder

_BUILT: dict[str, bytes] = {}
_TEMPORARY = Path(tempfile.mkdtemp(prefix="oneteam-test-bundles-"))
atexit.register(shutil.rmtree, _TEMPORARY, True)


def bundle_zip(slug: str) -> bytes:
    """A zip of the platform's bundle ``slug``, built once per session."""
    if slug not in _BUILT:
        folder = _TEMPORARY / slug
        build_bundle(slug, folder)
        _BUILT[slug] = zip_folder(folder, _TEMPORARY / f"{slug}.zip").read_bytes()
    return _BUILT[slug]


def reference_file(slug: str, name: str = "solution.py") -> bytes:
    return (reference_dir(slug) / name).read_bytes()


def starter_file(slug: str, name: str) -> bytes:
    return (source_dir(slug) / "starter" / name).read_bytes()


def make_pool(owner: Organization, *, slug: str | None = None, capacity: int = 2,
              price_cpu_hour: int = 0, price_gpu_hour: int = 0,
              programs: list[str] | None = None,
              organizations: list[str] | None = None) -> ComputePool:
    return compute_actions.do_register_pool(
        actor=None, owner=owner, slug=slug or f"{owner.slug}-pool", name=f"{owner.name_en} pool",
        executor=ExecutorKind.LOCAL, capacity=capacity, price_cpu_hour=price_cpu_hour,
        price_gpu_hour=price_gpu_hour, allowed_program_slugs=programs or [],
        allowed_organization_slugs=organizations or [])


def make_lab(slug: str, owner: Organization, *, program: Program | None = None,
             cohort: Cohort | None = None, actor: Person | None = None, **fields: object) -> Lab:
    return actions.do_upload_lab(actor=actor, archive=io.BytesIO(bundle_zip(slug)),
                                 owner=owner, program=program, cohort=cohort,
                                 **fields)  # type: ignore[arg-type]


def submit_files(person: Person, lab: Lab, files: dict[str, bytes],
                 organization: Organization | None = None) -> Submission:
    return actions.do_submit(actor=person, lab=lab,
                             files={name: io.BytesIO(data) for name, data in files.items()},
                             organization=organization)
