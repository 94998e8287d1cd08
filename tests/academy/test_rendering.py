"""Lesson Markdown renders to highlighted, anchored, sanitized HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from oneteam.academy.content import CONTENT_ROOT, load_programs
from oneteam.academy.rendering import (
    MAX_MARKDOWN_CHARS,
    Heading,
    highlight_code,
    pygments_css,
    render_document,
    render_markdown,
    sanitize_html,
)

ALLOWED_SCHEMES = ("http://", "https://", "mailto:")
FORBIDDEN_TAGS = {"script", "style", "iframe", "frame", "object", "embed", "svg", "math",
                  "form", "input", "button", "textarea", "link", "meta", "base", "template",
                  "noscript"}


class Audit(HTMLParser):
    """Collects every tag and attribute of the output, to check them against the allow-list."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def audit(html: str) -> Audit:
    parser = Audit()
    parser.feed(html)
    parser.close()
    return parser


def assert_safe(html: str) -> None:
    found = audit(html)
    assert not FORBIDDEN_TAGS & set(found.tags), html
    assert not found.comments, html
    for tag, name, value in found.attrs:
        assert not name.startswith("on"), f"<{tag} {name}> in {html}"
        assert name != "style", f"<{tag} style> in {html}"
        if name in {"href", "src"}:
            url = "".join(value.split()).lower()
            has_scheme = ":" in url.split("/", 1)[0] and not url.startswith("#")
            assert not has_scheme or url.startswith(ALLOWED_SCHEMES), f"<{tag} {name}={value!r}>"


# --------------------------------------------------------------------------- highlighting


def test_python_code_is_highlighted_with_classes() -> None:
    html = render_markdown("```python\nimport numpy as np\nx = np.arange(3)  # 주석\n```\n")
    assert '<pre class="highlight"><code class="language-python">' in html
    assert '<span class="kn">import</span>' in html
    assert '<span class="c1"># 주석</span>' in html
    assert_safe(html)


def test_flags_after_the_language_do_not_change_highlighting() -> None:
    html = render_markdown("```python no-run\nprint('x')\n```\n")
    assert 'class="language-python"' in html and '<span class="nb">print</span>' in html


def test_unknown_or_missing_language_is_escaped_plain_text() -> None:
    for fence in ("```nosuchlanguage\n", "```\n"):
        html = render_markdown(fence + "<b>not bold</b> & more\n```\n")
        assert "&lt;b&gt;not bold&lt;/b&gt; &amp; more" in html
        assert "<b>" not in html and "<span" not in html
    assert highlight_code("a < b", "") == '<pre class="highlight"><code>a &lt; b</code></pre>'


def test_the_stylesheet_is_scoped_to_the_highlight_class() -> None:
    css = pygments_css()
    rules = [line for line in css.splitlines() if line.strip()]
    assert any(rule.startswith(".highlight .k ") for rule in rules)
    assert all(rule.startswith(".highlight") for rule in rules)
    dark = pygments_css("monokai", ".lesson-code")
    assert dark.startswith(".lesson-code") and dark != pygments_css("default", ".lesson-code")
    with pytest.raises(ValueError, match="selector"):
        pygments_css(selector="body } * { color: red")


# --------------------------------------------------------------------------- headings


def test_headings_get_prefixed_unique_ids_and_a_table_of_contents() -> None:
    doc = render_document("## 개요 Overview\n\n### The `fit` method\n\n## 요약\n\n## 요약\n")
    assert '<h2 id="sec-개요-overview">' in doc.html
    assert '<h3 id="sec-the-fit-method">The <code>fit</code> method</h3>' in doc.html
    assert '<h2 id="sec-요약">' in doc.html and '<h2 id="sec-요약-2">' in doc.html
    assert doc.headings == (
        Heading(2, "sec-개요-overview", "개요 Overview"),
        Heading(3, "sec-the-fit-method", "The fit method"),
        Heading(2, "sec-요약", "요약"),
        Heading(2, "sec-요약-2", "요약"),
    )


def test_fragment_links_follow_the_id_prefix() -> None:
    html = render_markdown("## Next steps\n\nSee [below](#next-steps).\n")
    assert 'href="#sec-next-steps"' in html
    plain = render_document("## Next steps\n\n[x](#next-steps)\n", id_prefix="")
    assert '<h2 id="next-steps">' in plain.html and 'href="#next-steps"' in plain.html


def test_raw_html_ids_are_prefixed_so_they_cannot_clobber_page_ids() -> None:
    html = render_markdown('<h2 id="csrf_token">x</h2>\n\n<p id="location">y</p>\n')
    assert 'id="sec-csrf_token"' in html
    assert 'id="location"' not in html


def test_a_bad_id_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="prefix"):
        render_markdown("## a", id_prefix='x" onclick="alert(1)')


# --------------------------------------------------------------------------- images


def test_images_are_resolved_through_the_callers_function() -> None:
    seen: list[str] = []

    def image_url(src: str) -> str:
        seen.append(src)
        return f"/academy/assets/ai-developer/{src}"

    html = render_markdown("![5-fold CV](kfold.en.svg)\n", image_url=image_url)
    assert seen == ["kfold.en.svg"]
    assert '<img src="/academy/assets/ai-developer/kfold.en.svg" alt="5-fold CV"' in html


def test_image_sources_that_are_external_or_refused_are_dropped() -> None:
    calls: list[str] = []

    def refuse(src: str) -> str | None:
        calls.append(src)
        return None

    html = render_markdown("![a](https://tracker.example/p.gif) ![b](/etc/x.png) "
                           "![c](data:image/png;base64,AAAA) ![d](local.png)\n",
                           image_url=refuse)
    assert calls == ["local.png"]                 # only relative sources are offered
    assert "src=" not in html
    assert html.count("<img") == 4                # the alt text stays for readers
    unsafe = render_markdown("![x](pic.png)\n", image_url=lambda s: "javascript:alert(1)")
    assert "src=" not in unsafe


def test_without_a_function_relative_images_stay_as_written() -> None:
    html = render_markdown("![x](img/diagram.svg)\n")
    assert 'src="img/diagram.svg"' in html and 'loading="lazy"' in html


# --------------------------------------------------------------------------- tables


def test_tables_render_with_alignment_classes_not_styles() -> None:
    html = render_markdown("| metric | value |\n|:--|--:|\n| MAE | 45.1 |\n| R² | 0.36 |\n")
    assert "<table>" in html and "<thead>" in html and "<tbody>" in html
    assert '<th class="align-left">metric</th>' in html
    assert '<td class="align-right">45.1</td>' in html
    assert "style=" not in html


# --------------------------------------------------------------------------- XSS

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" ONERROR="alert(1)">',
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"java&#x09;script:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    "<svg><script>alert(1)</script></svg>",
    "<svg onload=alert(1)><circle r=5 /></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<math><mtext><script>alert(1)</script></mtext></math>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"evil.swf\"></object><embed src=\"evil.swf\">",
    "<!--><script>alert(1)</script>-->",
    "<!-- --!><img src=x onerror=alert(1)> -->",
    "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<p style=\"width: expression(alert(1))\">x</p>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "<form action=\"https://evil.example\"><input name=q><button>go</button></form>",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
    "<template><script>alert(1)</script></template>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">ok</a>",
    "<span class=\"btn btn-danger\" title=\"x\">spoof</span>",
    "```python\n</code></pre><script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "<scr<script>ipt>alert(1)</script>",
    "<img src=\"x\" alt=\"\" \"onerror=alert(1)\">",
]


@pytest.mark.parametrize("payload", XSS)
def test_xss_attempts_are_neutralised(payload: str) -> None:
    html = render_markdown(f"Before.\n\n{payload}\n\nAfter.\n")
    assert_safe(html)
    assert "Before." in html and "After." in html
    # text is escaped, so a "<" in the output always opens a real tag
    for marker in ("<script", "<iframe", "<svg", "<style", "<object", "<embed", "<form",
                   "<meta", "<link", "<base", "<math", "<template", "<noscript"):
        assert marker not in html.lower(), f"{marker} survived in {html}"


def test_escaped_script_in_code_stays_visible_as_text() -> None:
    html = render_markdown("```html\n<script>alert(1)</script>\n```\n\n`<b>x</b>`\n")
    assert "&lt;" in html and "<script" not in html
    assert "<code>&lt;b&gt;x&lt;/b&gt;</code>" in html


def test_class_attributes_are_limited_to_our_own_classes() -> None:
    html = render_markdown('<span class="btn k">a</span><div class="highlight modal">b</div>'
                           '<pre class="highlight x">c</pre><code class="language-sql y">d</code>')
    assert '<span class="k">a</span>' in html
    assert "<div>b</div>" in html                      # div gets no class at all
    assert '<pre class="highlight">' in html and '<code class="language-sql">' in html
    assert "btn" not in html and "modal" not in html


def test_safe_markup_survives() -> None:
    html = render_markdown("**bold** *em* ~~old~~ [site](https://oneteam.example/x?a=1&b=2) "
                           "<kbd>Ctrl</kbd> <details><summary>Hint</summary>\n\ntext\n\n"
                           "</details>\n\n1. one\n2. two\n\n> quote\n")
    for fragment in ("<strong>bold</strong>", "<em>em</em>", "<s>old</s>", "<kbd>Ctrl</kbd>",
                     "<details>", "<summary>Hint</summary>", "<ol>", "<blockquote>",
                     'href="https://oneteam.example/x?a=1&amp;b=2"',
                     'rel="noopener noreferrer"'):
        assert fragment in html, fragment


def test_sanitize_html_on_its_own() -> None:
    assert sanitize_html('<p onclick="x()">hi<script>bad()</script></p>') == "<p>hi</p>"


def test_oversized_input_is_refused() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        render_markdown("x" * (MAX_MARKDOWN_CHARS + 1))


# --------------------------------------------------------------------------- real lessons


def test_every_shipped_lesson_renders_safely_with_working_anchors_and_images() -> None:
    rendered = 0
    for program in load_programs():
        for lesson in program.lessons():
            base = lesson.directory.relative_to(CONTENT_ROOT).as_posix()
            for language in ("ko", "en"):
                doc = render_document(lesson.body(language),
                                      image_url=lambda src, base=base: f"/assets/{base}/{src}")
                assert_safe(doc.html)
                ids = [h.id for h in doc.headings]
                assert len(ids) == len(set(ids)) >= 3
                assert all(f'id="{i}"' in doc.html for i in ids)
                assert '<pre class="highlight"><code class="language-python">' in doc.html
                for image in lesson.images:
                    if f".{language}." in image.name or image.name.count(".") == 1:
                        assert f'src="/assets/{base}/{image.name}"' in doc.html
                rendered += 1
    assert rendered >= 56
