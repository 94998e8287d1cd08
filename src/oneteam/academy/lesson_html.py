"""A lesson's safe HTML, rendered once per language and content digest, then cached.

The HTML comes from :func:`oneteam.academy.rendering.render_document` (sanitized, code
highlighted). It is kept in two places under the same key, the lesson's
``content_digest`` combined with :data:`RENDERER_VERSION` and the language:

- the ``LessonRendering`` table, shared by every web process and kept across restarts;
- Django's cache (memory of each process by default), so that a lesson read again is
  served without touching the database for its HTML at all.

A lesson edited gets a new digest, hence a new key: nothing is ever invalidated, stale
entries are simply no longer asked for. Change :data:`RENDERER_VERSION` when the
rendering or the image URLs change, so that every lesson is rendered anew.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.core.cache import cache
from django.urls import reverse

from oneteam.academy.content import ContentError, asset_path
from oneteam.academy.images import SUFFIXES
from oneteam.academy.models import Lesson, LessonImage, LessonRendering
from oneteam.academy.rendering import render_document

RENDERER_VERSION = "1"
CACHE_TIMEOUT_S = 24 * 3600


@dataclass(frozen=True, slots=True)
class LessonHtml:
    html: str
    headings: tuple[tuple[int, str, str], ...]
    """(level, id, text) of every heading, for the page's table of contents."""


def content_digest(*, body_ko: str, body_en: str, content_path: str,
                   images: Iterable[tuple[str, str, str]]) -> str:
    """SHA-256 of everything a lesson's rendering depends on.

    ``images`` are (name, digest, content type) of the lesson's uploaded images.
    """
    material = json.dumps({"ko": body_ko, "en": body_en, "path": content_path,
                           "images": sorted(images)}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def rendering_key(lesson: Lesson) -> str:
    return hashlib.sha256(f"{RENDERER_VERSION}:{lesson.content_digest}".encode()).hexdigest()


def lesson_html(lesson: Lesson, language: str) -> LessonHtml:
    """The lesson's HTML in ``language`` ("ko" or "en"): from memory, the table, or rendered."""
    language = "en" if language == "en" else "ko"
    key = rendering_key(lesson)
    cache_key = f"academy:lesson-html:{key}:{language}"
    cached = cache.get(cache_key)
    if isinstance(cached, LessonHtml):
        return cached
    row = (LessonRendering.objects.filter(key=key, language=language)
           .values_list("html", "headings").first())
    if row is not None:
        result = LessonHtml(row[0], tuple(tuple(h) for h in row[1]))
    else:
        result = render_lesson(lesson, language)
        from oneteam.academy.actions import do_store_rendering

        do_store_rendering(key=key, language=language, html=result.html,
                           headings=[list(h) for h in result.headings])
    cache.set(cache_key, result, CACHE_TIMEOUT_S)
    return result


def render_lesson(lesson: Lesson, language: str) -> LessonHtml:
    """Render without any cache (the lesson's body is read from the database if deferred)."""
    uploaded = {image.name: image for image in LessonImage.objects.filter(lesson=lesson)}

    def image_url(src: str) -> str | None:
        return resolve_image(lesson, src, uploaded)

    document = render_document(lesson.body(language), image_url=image_url)
    headings = tuple((h.level, h.id, h.text) for h in document.headings)
    return LessonHtml(document.html, headings)


def resolve_image(lesson: Lesson, src: str, uploaded: dict[str, LessonImage]) -> str | None:
    """The URL of an image the lesson refers to: an upload of that name, else a file of the
    shipped content beside the lesson; None (the image is dropped) otherwise."""
    parts = urlsplit(src.strip())
    if parts.scheme or parts.netloc or parts.query:
        return None
    name = unquote(parts.path)
    image = uploaded.get(name)
    if image is not None:
        return reverse("academy:image",
                       args=[image.digest + SUFFIXES.get(image.content_type, "")])
    if not lesson.content_path:
        return None
    relative = PurePosixPath(lesson.content_path).parent / name
    parts_clean: list[str] = []
    for part in relative.parts:
        if part == "..":
            if not parts_clean:
                return None
            parts_clean.pop()
        elif part not in ("", "."):
            parts_clean.append(part)
    candidate = "/".join(parts_clean)
    try:
        asset_path(candidate)
    except ContentError:
        return None
    return reverse("academy:asset", args=[candidate])
