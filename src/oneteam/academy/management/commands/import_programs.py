"""``oneteam manage import_programs --owner SLUG [--program SLUG ...]``: load the shipped
programs (or bring them up to date) without the demo data."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oneteam.academy.actions import do_import_program
from oneteam.academy.content import ContentError, load_programs
from oneteam.academy.models import Visibility
from oneteam.consortium.models import Organization
from oneteam.platform.errors import InputError


class Command(BaseCommand):
    help = "Import the academy's shipped programs, owned by a member organization."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--owner", required=True,
                            help="short name (slug) of the organization that owns them")
        parser.add_argument("--program", action="append", default=[],
                            help="import only this program (repeatable); default: all")
        parser.add_argument("--visibility", default=Visibility.PUBLIC,
                            choices=Visibility.values)

    def handle(self, *args: Any, **options: Any) -> None:
        owner = Organization.objects.filter(slug=options["owner"]).first()
        if owner is None:
            raise CommandError(f"--owner: there is no organization {options['owner']!r}")
        try:
            specs = load_programs()
        except ContentError as error:
            raise CommandError(str(error)) from None
        wanted = set(options["program"])
        unknown = wanted - {spec.slug for spec in specs}
        if unknown:
            raise CommandError(f"--program: no shipped program {', '.join(sorted(unknown))}")
        for spec in specs:
            if wanted and spec.slug not in wanted:
                continue
            try:
                program = do_import_program(actor=None, spec=spec, owner=owner,
                                            visibility=options["visibility"])
            except InputError as error:
                raise CommandError(f"{spec.slug}: {error.field}: {error.message}") from None
            lessons = program.lessons.count()
            self.stdout.write(f"{program.slug}: {lessons} lessons, owned by {owner.slug}")
