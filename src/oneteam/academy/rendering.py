"""Lesson Markdown to safe HTML.

CommonMark plus tables (markdown-it-py), fenced code highlighted on the server by Pygments
with CSS classes (:func:`pygments_css` gives the matching stylesheet), headings with ids
for anchors, images resolved through a function the caller supplies, and the final HTML
passed through an allow-list sanitizer (nh3), so raw HTML inside Markdown can never bring
script, event handlers, ``javascript:``/``data:`` links, inline styles, frames or SVG
into a page.

Pure Python: no Django here, templates mark the result safe.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

__all__ = [
    "DEFAULT_ID_PREFIX",
    "MAX_MARKDOWN_CHARS",
    "Heading",
    "ImageURL",
    "RenderedMarkdown",
    "highlight_code",
    "pygments_css",
    "render_document",
    "render_markdown",
    "sanitize_html",
]

ImageURL = Callable[[str], str | None]
"""Maps an image ``src`` as written in the Markdown to the URL to emit, or None to drop it."""

DEFAULT_ID_PREFIX = "sec-"
"""Every id in rendered content starts with this, so content cannot clobber page ids."""

MAX_MARKDOWN_CHARS = 1_000_000

HIGHLIGHT_CLASS = "highlight"

# Tags a lesson may use. Everything else is removed (its text kept), and the tags in
# _DROP_WITH_CONTENT vanish together with everything inside them.
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "s", "samp", "small", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
_DROP_WITH_CONTENT = {
    "script", "style", "svg", "math", "iframe", "frame", "frameset", "object", "embed",
    "template", "noscript", "noembed", "noframes", "textarea", "select", "xmp", "title",
    "applet", "base", "link", "meta", "form", "button", "input",
}
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan", "class"},
    "th": {"colspan", "rowspan", "class", "scope"},
    "span": {"class"},
    "div": {"class"},
    "pre": {"class"},
    "code": {"class"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
_URL_SCHEMES = {"http", "https", "mailto"}

_TOKEN_CLASSES = frozenset(name for name in STANDARD_TYPES.values() if name)
_ALIGN_CLASSES = frozenset({"align-left", "align-center", "align-right"})
_LANGUAGE_CLASS = re.compile(r"language-[a-z0-9_+#.-]{1,40}")


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class RenderedMarkdown:
    html: str
    headings: tuple[Heading, ...]
    """Every heading in order, e.g. for a table of contents (``#`` + id links to it)."""


def render_markdown(text: str, *, image_url: ImageURL | None = None,
                    id_prefix: str = DEFAULT_ID_PREFIX) -> str:
    """Safe HTML for the Markdown ``text``. See :func:`render_document`."""
    return render_document(text, image_url=image_url, id_prefix=id_prefix).html


def render_document(text: str, *, image_url: ImageURL | None = None,
                    id_prefix: str = DEFAULT_ID_PREFIX) -> RenderedMarkdown:
    """Render ``text`` and return the safe HTML with the list of its headings.

    ``image_url`` maps each relative image ``src`` (as written, e.g. ``kfold.en.svg``) to
    the URL the page should load (``http(s)`` or a path); returning None drops the
    source. Without it, relative paths stay as written. Images with an absolute or
    external source are always dropped: lessons ship their images, and a page never
    loads third-party pixels. Fragment links (``#name``) and heading ids get
    ``id_prefix``.
    """
    if len(text) > MAX_MARKDOWN_CHARS:
        raise ValueError(f"Markdown of {len(text)} characters exceeds the limit of "
                         f"{MAX_MARKDOWN_CHARS}")
    _check_prefix(id_prefix)
    env: dict[str, Any] = {"id_prefix": id_prefix, "headings": []}
    raw_html = _markdown().render(text, env)
    safe = sanitize_html(raw_html, image_url=image_url, id_prefix=id_prefix)
    return RenderedMarkdown(html=safe, headings=tuple(env["headings"]))


def sanitize_html(html: str, *, image_url: ImageURL | None = None,
                  id_prefix: str = DEFAULT_ID_PREFIX) -> str:
    """Keep only the allow-listed tags, attributes, classes and URLs of ``html``."""
    _check_prefix(id_prefix)
    resolve: ImageURL = image_url or _as_written

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "class":
            return _filter_classes(tag, value)
        if tag == "img" and attribute == "src":
            return _safe_url(resolve(value)) if _is_relative(value) else None
        if tag == "a" and attribute == "href" and value.startswith("#"):
            fragment = value[1:]
            if id_prefix and not fragment.startswith(id_prefix):
                fragment = id_prefix + fragment
            return "#" + fragment
        return value

    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=_ATTRIBUTES,
        attribute_filter=attribute_filter,
        strip_comments=True,
        link_rel="noopener noreferrer",
        url_schemes=_URL_SCHEMES,
        id_prefix=id_prefix or None,
        set_tag_attribute_values={"img": {"loading": "lazy"}},
    )


def highlight_code(code: str, lang: str) -> str:
    """``<pre class="highlight"><code class="language-…">`` with Pygments' token spans.

    Unknown or empty languages give the escaped code without highlighting.
    """
    lexer_name = lang.strip().lower()
    try:
        lexer = get_lexer_by_name(lexer_name, stripnl=False) if lexer_name else None
    except ClassNotFound:
        lexer = None
    code_class = f' class="language-{_escape(lexer_name)}"' if lexer_name else ""
    body = _escape(code) if lexer is None else highlight(code, lexer, HtmlFormatter(nowrap=True))
    return f'<pre class="{HIGHLIGHT_CLASS}"><code{code_class}>{body}</code></pre>'


@functools.cache
def pygments_css(style: str = "default", selector: str = f".{HIGHLIGHT_CLASS}") -> str:
    """The stylesheet for highlighted code; every rule is scoped under ``selector``.

    ``style`` names a Pygments style (``default``, ``friendly``, ``monokai``, ...).
    """
    if not re.fullmatch(r"[.#]?[A-Za-z][A-Za-z0-9_-]*", selector):
        raise ValueError(f"selector {selector!r} must be a simple class, id or tag selector")
    formatter = HtmlFormatter(style=style)
    rules = [f"{selector} {{ line-height: 125%; }}"]
    rules += formatter.get_background_style_defs(selector)
    rules += formatter.get_token_style_defs(selector)
    return "\n".join(rules) + "\n"


# --------------------------------------------------------------------------- internals


def _check_prefix(id_prefix: str) -> None:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*|", id_prefix):
        raise ValueError(f"id prefix {id_prefix!r} must be letters, digits, '-' or '_'")


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _as_written(src: str) -> str | None:
    return src


def _is_relative(url: str) -> bool:
    parts = urlsplit(url.strip())
    return not (parts.scheme or parts.netloc or url.strip().startswith(("/", "\\")))


def _safe_url(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme and parts.scheme.lower() not in {"http", "https"}:
        return None
    if any(ord(c) < 32 for c in url):
        return None
    return url.strip()


def _filter_classes(tag: str, value: str) -> str | None:
    kept: list[str] = []
    for name in value.split():
        allowed = (
            (tag == "span" and name in _TOKEN_CLASSES)
            or (tag == "pre" and name == HIGHLIGHT_CLASS)
            or (tag == "code" and _LANGUAGE_CLASS.fullmatch(name) is not None)
            or (tag in {"td", "th"} and name in _ALIGN_CLASSES)
        )
        if allowed and name not in kept:
            kept.append(name)
    return " ".join(kept) or None


def _slugify(text: str) -> str:
    slug = unicodedata.normalize("NFC", text).strip().lower()
    slug = re.sub(r"[^\w\s-]", "", slug)
    slug = re.sub(r"[\s_-]+", "-", slug).strip("-")
    return slug[:80].rstrip("-") or "section"


def _plain_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in {"text", "code_inline"}:
            parts.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif child.type == "image":
            parts.append(_plain_text(child))
    return "".join(parts)


def _heading_ids(state: StateCore) -> None:
    prefix: str = state.env.get("id_prefix", "")
    headings: list[Heading] = state.env.setdefault("headings", [])
    used: set[str] = set()
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or index + 1 >= len(tokens):
            continue
        text = _plain_text(tokens[index + 1]).strip()
        base = _slugify(text)
        slug, count = base, 1
        while slug in used:
            count += 1
            slug = f"{base}-{count}"
        used.add(slug)
        full = prefix + slug
        token.attrSet("id", full)
        headings.append(Heading(level=int(token.tag[1]), id=full, text=text))


def _table_alignment(state: StateCore) -> None:
    for token in state.tokens:
        if token.type not in {"th_open", "td_open"}:
            continue
        style = token.attrs.pop("style", None)
        if isinstance(style, str) and style.startswith("text-align:"):
            align = style.removeprefix("text-align:").strip()
            if f"align-{align}" in _ALIGN_CLASSES:
                token.attrSet("class", f"align-{align}")


def _highlight(code: str, lang: str, _attrs: str) -> str:
    return highlight_code(code, lang)


@functools.cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "highlight": _highlight}).enable("table")
    md.enable("strikethrough")
    md.core.ruler.push("oneteam_heading_ids", _heading_ids)
    md.core.ruler.push("oneteam_table_alignment", _table_alignment)
    return md
