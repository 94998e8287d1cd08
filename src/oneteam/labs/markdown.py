"""Lab instructions as safe HTML: CommonMark without raw HTML, then an allow-list."""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt

TAGS = {"a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "hr", "li", "ol", "p",
        "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul"}


@functools.lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


@functools.lru_cache(maxsize=64)
def render(text: str) -> str:
    html = _parser().render(text)
    return nh3.clean(html, tags=TAGS, attributes={"a": {"href"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener nofollow")
