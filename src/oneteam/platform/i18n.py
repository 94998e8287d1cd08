"""Message catalogs in pure Python: extract, update, compile and check, with no GNU gettext.

English is the source language: every ``gettext`` call and ``{% translate %}`` tag holds
English, and each OneTeam app keeps its Korean translations in
``<app>/locale/ko/LC_MESSAGES/django.po``, compiled to ``django.mo`` beside it (both
are kept in the repository, so nothing is compiled at install or run time).

``oneteam messages`` extracts the strings of every installed OneTeam app (its Python
modules and its templates; Django's own template lexer reads the templates), merges
them into the ``.po`` files keeping the translations made so far, and compiles the
``.mo`` files. ``oneteam messages --check`` changes nothing and reports what is wrong:
a string with no translation (or only a fuzzy one), a translation whose placeholders
differ from its source, a ``.mo`` that does not match its ``.po``. The test suite runs
the check.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

TARGET_LANGUAGES = ("ko",)
DOMAIN = "django"
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
TEMPLATE_SUFFIXES = (".html", ".txt")
PROJECT = "OneTeam"


@dataclass(frozen=True, slots=True)
class Found:
    message: str | tuple[str, ...]
    context: str | None
    path: str
    line: int


def _python_strings(source: bytes, path: str) -> Iterator[Found]:
    for line, message, _comments, context in extract(
            "python", io.BytesIO(source), keywords=KEYWORDS, comment_tags=(),
            options={"encoding": "utf-8"}, strip_comment_tags=True):
        yield Found(message, context, path, line)


def _template_strings(text: str, path: str) -> Iterator[Found]:
    from django.utils.translation.template import templatize

    # templatize turns a template into Python-like text whose gettext calls hold the
    # template's translatable strings, exactly as Django's makemessages sees them.
    # Its lines keep the template's indentation, which Python's tokenizer would reject.
    code = "\n".join(line.lstrip() for line in templatize(text, origin=path).split("\n"))
    yield from _python_strings(code.encode("utf-8"), path)


def extract_app(app_dir: Path) -> list[Found]:
    """Every translatable string of one app: Python modules (not migrations), templates."""
    found: list[Found] = []
    for path in sorted(app_dir.rglob("*.py")):
        if "migrations" in path.relative_to(app_dir).parts:
            continue
        found.extend(_python_strings(path.read_bytes(), str(path.relative_to(app_dir))))
    templates = app_dir / "templates"
    if templates.is_dir():
        for path in sorted(templates.rglob("*")):
            if path.suffix in TEMPLATE_SUFFIXES and path.is_file():
                found.extend(_template_strings(path.read_text(encoding="utf-8"),
                                               str(path.relative_to(app_dir))))
    return found


def template_catalog(app_dir: Path) -> Catalog:
    catalog = Catalog(project=PROJECT, fuzzy=False)
    for item in extract_app(app_dir):
        catalog.add(item.message, None, locations=[(item.path, item.line)],
                    context=item.context)
    return catalog


def po_path(app_dir: Path, language: str) -> Path:
    return app_dir / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, language: str) -> Catalog:
    with path.open("rb") as stream:
        return read_po(stream, locale=language, domain=DOMAIN)


def _compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update_app(app_dir: Path) -> list[Path]:
    """Merge the app's strings into its catalogs and compile them; returns the files written."""
    source = template_catalog(app_dir)
    written: list[Path] = []
    if not len(source):
        return written
    for language in TARGET_LANGUAGES:
        path = po_path(app_dir, language)
        if path.exists():
            catalog = read_catalog(path, language)
        else:
            catalog = Catalog(locale=language, domain=DOMAIN, project=PROJECT, fuzzy=False,
                              version="", copyright_holder="the OneTeam authors",
                              msgid_bugs_address="", last_translator="the OneTeam authors",
                              language_team="the OneTeam authors")
        # Dates change only when the translations do, so an unchanged catalog stays unchanged.
        source.creation_date = catalog.creation_date
        catalog.update(source, no_fuzzy_matching=True, update_header_comment=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as stream:
            write_po(stream, catalog, width=100, ignore_obsolete=True, omit_header=False,
                     sort_output=False, include_previous=False)
        mo = path.with_suffix(".mo")
        mo.write_bytes(_compiled(read_catalog(path, language)))
        written.extend([path, mo])
    return written


def _translations(catalog: Catalog) -> dict[tuple[object, str | None], object]:
    def plain(value: object) -> object:  # read_mo gives plural forms as lists
        return tuple(value) if isinstance(value, list | tuple) else value

    return {(plain(message.id), message.context): plain(message.string)
            for message in catalog if message.id and not message.fuzzy}


def check_app(app_dir: Path) -> list[str]:
    """What is wrong with one app's catalogs; an empty list when all is well."""
    problems: list[str] = []
    found = extract_app(app_dir)
    if not found:
        return problems
    name = app_dir.name
    for language in TARGET_LANGUAGES:
        path = po_path(app_dir, language)
        if not path.exists():
            problems.append(f"{name}: no {language} catalog; run: oneteam messages")
            continue
        catalog = read_catalog(path, language)
        for item in found:
            key = item.message[0] if isinstance(item.message, tuple) else item.message
            message = catalog.get(key, context=item.context)
            where = f"{name}/{item.path}:{item.line}"
            if message is None:
                problems.append(f"{where}: {key!r} is not in the {language} catalog; "
                                f"run: oneteam messages")
            elif message.fuzzy or not all(
                    message.string if isinstance(message.string, tuple) else [message.string]):
                problems.append(f"{where}: {key!r} has no {language} translation")
        for message, errors in catalog.check():
            for error in errors:
                problems.append(f"{name} {language}: {message.id!r}: {error}")
        mo = path.with_suffix(".mo")
        if not mo.exists():
            problems.append(f"{name}: {mo.name} is missing; run: oneteam messages")
            continue
        with mo.open("rb") as stream:
            compiled = read_mo(stream)
        if _translations(compiled) != _translations(catalog):
            problems.append(f"{name}: {mo} does not match its .po; run: oneteam messages")
    return problems


def oneteam_app_dirs() -> list[Path]:
    """The directories of the installed OneTeam apps (Django must be set up)."""
    from django.apps import apps

    return [Path(config.path) for config in apps.get_app_configs()
            if config.name.startswith("oneteam.")]


def run(*, check: bool) -> int:
    """The ``oneteam messages`` command."""
    import django

    django.setup()
    if check:
        problems = [problem for app_dir in oneteam_app_dirs() for problem in check_app(app_dir)]
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s)")
        return 1 if problems else 0
    for app_dir in oneteam_app_dirs():
        for path in update_app(app_dir):
            print(f"wrote {path}")
    return 0
