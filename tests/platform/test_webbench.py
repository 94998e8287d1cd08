"""`oneteam bench web`: its arithmetic and its refusals (the run itself: test_webbench_run)."""

from __future__ import annotations

import pytest

from oneteam.cli import build_parser, main
from oneteam.webbench import find_lesson_path, percentile


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.95) == 0.0
    with pytest.raises(ValueError):
        percentile(values, 1.5)


def test_the_next_lesson_is_found_in_a_dashboard() -> None:
    html = ('<a href="/academy/programs/x/">program</a>'
            '<a class="next" href="/academy/programs/x/lessons/intro/">다음 강의</a>')
    assert find_lesson_path(html) == "/academy/programs/x/lessons/intro/"
    assert find_lesson_path("<p>no lessons</p>") is None


@pytest.mark.parametrize("options", [
    ["--clients", "0"], ["--rate", "0"], ["--duration-s", "-1"],
    ["--lesson-path", "lesson"], ["--database-url", "sqlite:///x.db"],
])
def test_bad_options_are_refused_before_anything_starts(
        options: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "web", *options]) == 2
    assert "error:" in capsys.readouterr().err


def test_the_defaults_are_the_issue_s_load() -> None:
    args = build_parser().parse_args(["bench", "web"])
    assert (args.clients, args.rate) == (50, 300.0)
