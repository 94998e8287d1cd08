"""No script reaches a page through a lesson: the whole path, from Markdown to the page."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from oneteam.academy import actions
from tests.factories.academy import lessons_of, make_program

pytestmark = pytest.mark.django_db

FORBIDDEN_TAGS = {"script", "iframe", "svg", "form", "input", "object", "embed", "meta",
                  "style", "link", "base"}


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)

ATTACKS = """Hello.

<script>alert('script')</script>
<img src="x.png" onerror="alert('onerror')">
<a href="javascript:alert('link')">click</a>
<iframe src="https://evil.example/"></iframe>
<svg><script>alert('svg')</script></svg>
<div style="background:url(javascript:alert('style'))" onclick="alert('click')">x</div>
<form action="https://evil.example/"><input name="password"></form>
[markdown link](javascript:alert('md'))
![external](https://evil.example/pixel.png)
<details open ontoggle="alert('toggle')"><summary>s</summary>t</details>
<object data="evil.swf"></object><embed src="evil.swf">
<meta http-equiv="refresh" content="0;url=https://evil.example/">

```html
<script>alert('in code: shown, not run')</script>
```
"""


def test_script_injection_through_a_lesson_is_impossible(client: Client) -> None:
    program = make_program(slug="p")
    lesson = lessons_of(program)[0]
    actions.do_update_lesson(actor=None, lesson=lesson, body_ko=ATTACKS, body_en=ATTACKS)
    for language in ("ko", "en"):
        response = client.get("/academy/programs/p/lessons/lesson-1-1-1/",
                              HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        html = response.content.decode()
        body = html[html.index('<article class="lesson-body"'):html.index("</article>")]
        audit = Audit()
        audit.feed(body)
        assert not audit.tags & FORBIDDEN_TAGS, (language, audit.tags & FORBIDDEN_TAGS)
        for tag, name, value in audit.attributes:
            assert not name.startswith("on"), (language, tag, name)
            assert name != "style", (language, tag)
            if name in ("href", "src"):
                assert value.startswith(("/", "#", "https://", "http://", "mailto:")), value
                assert "evil.example" not in value or tag == "a", (tag, value)
        # The code block shows the markup as text.
        assert "in code: shown, not run" in body and "&lt;/" in body
        # The page's own scripts are the platform's only.
        assert html.count("<script") == 1 and "htmx.min.js" in html
