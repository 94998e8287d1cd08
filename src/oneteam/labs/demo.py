"""The labs' demo data: the platform's four labs and its testbed challenge.

Each bundle is built from its source in ``labs/content`` and uploaded as a zip through
``do_upload_lab``, the same path as a person's upload. Digits and breast cancer belong to
KAIST's cohort of the AI Developer track; diabetes and Korean topics to KT's staff
cohort; the wine testbed is KT's challenge for the alliance's companies. Deadlines are
relative to the day of loading.
"""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from django.utils import timezone

from oneteam.academy.models import Cohort
from oneteam.labs.actions import do_upload_lab
from oneteam.labs.content import build_bundle
from oneteam.labs.models import Lab
from oneteam.labs.storage import zip_folder
from oneteam.platform.demo import DemoAlliance

LABS = (
    ("digits", "kaist", "ai-developer", 30),
    ("breast-cancer", "kaist", "ai-developer", 45),
    ("diabetes", "kt", "enterprise-ai-data", 40),
    ("korean-topics", "kt", "enterprise-ai-data", 60),
    ("wine-testbed", "kt", None, 60),
)


def load_demo(alliance: DemoAlliance) -> None:
    now = timezone.now()
    for slug, owner_slug, program_slug, days in LABS:
        owner = alliance.organizations.get(owner_slug)
        if owner is None or Lab.objects.filter(slug=slug).exists():
            continue
        cohort = None
        if program_slug is not None:
            cohort = Cohort.objects.filter(program__slug=program_slug,
                                           organization=owner).order_by("pk").first()
            if cohort is None:
                continue
        with tempfile.TemporaryDirectory(prefix="oneteam-demo-lab-") as temporary:
            folder = Path(temporary) / slug
            build_bundle(slug, folder)
            archive = zip_folder(folder, Path(temporary) / f"{slug}.zip")
            with archive.open("rb") as handle:
                do_upload_lab(actor=None, archive=handle, owner=owner, cohort=cohort,
                              deadline=now + datetime.timedelta(days=days), is_demo=True)
