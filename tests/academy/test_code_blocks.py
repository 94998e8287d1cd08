"""Every runnable ```python block of every lesson runs, in a child process, within a bound.

A lesson file's blocks run in order in one fresh namespace, like cells of a notebook, so a
later block may use what an earlier one defined. A block is skipped when its fence says
``python no-run`` or its first line is ``# no-run``. All lesson files run in one child
process (imports are paid once) that gives each file its own time limit; the whole run has
an overall timeout too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oneteam.academy.content import LANGUAGES, code_blocks, load_programs

PER_FILE_SECONDS = 30
TOTAL_SECONDS = 240

RUNNER = r'''
import contextlib, io, json, signal, sys, time, traceback

class Timeout(Exception):
    pass

def on_alarm(signum, frame):
    raise Timeout()

signal.signal(signal.SIGALRM, on_alarm)
jobs = json.load(sys.stdin)
results = []
for job in jobs:
    namespace = {"__name__": "__lesson__"}
    out = io.StringIO()
    started = time.monotonic()
    error = None
    signal.setitimer(signal.ITIMER_REAL, job["limit"])
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            for block in job["blocks"]:
                code = compile(block["code"], f"{job['name']}:{block['line']}", "exec")
                exec(code, namespace)
    except Timeout:
        error = f"timed out after {job['limit']} s"
    except BaseException:
        error = traceback.format_exc(limit=-3)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    results.append({"name": job["name"], "error": error,
                    "seconds": round(time.monotonic() - started, 2)})
json.dump(results, sys.stdout)
'''


def lesson_jobs() -> list[dict[str, object]]:
    jobs: list[dict[str, object]] = []
    for program in load_programs():
        for lesson in program.lessons():
            for language in LANGUAGES:
                file = lesson.file_en if language == "en" else lesson.file_ko
                blocks = [{"code": b.code, "line": b.line}
                          for b in code_blocks(lesson.body(language)) if b.runnable]
                if blocks:
                    jobs.append({"name": str(file.relative_to(program.directory.parent)),
                                 "blocks": blocks, "limit": PER_FILE_SECONDS})
    return jobs


def run_jobs(jobs: list[dict[str, object]], cwd: Path) -> list[dict[str, object]]:
    """Run the jobs in one child process, each file in a fresh namespace with its own limit."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(jobs),
                            capture_output=True, text=True, timeout=TOTAL_SECONDS,
                            cwd=cwd, env=env, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    results: list[dict[str, object]] = json.loads(result.stdout)
    assert [r["name"] for r in results] == [j["name"] for j in jobs]
    return results


@pytest.mark.slow
def test_every_runnable_python_block_runs(tmp_path: Path) -> None:
    jobs = lesson_jobs()
    assert len(jobs) >= 40
    results = run_jobs(jobs, tmp_path)
    failures = [f"{r['name']}:\n{r['error']}" for r in results if r["error"]]
    assert not failures, "\n\n".join(failures)
    assert list(tmp_path.iterdir()) == [], "lessons must clean up the files they write"


def test_the_runner_reports_errors_and_timeouts(tmp_path: Path) -> None:
    """The check above cannot pass vacuously: failures and endless loops are caught."""
    jobs = [
        {"name": "ok.md", "blocks": [{"code": "x = 2\n", "line": 1},
                                     {"code": "assert x == 2\nprint(x)\n", "line": 5}],
         "limit": 5},
        {"name": "fails.md", "blocks": [{"code": "import numpy\nraise ValueError('boom')\n",
                                         "line": 3}], "limit": 5},
        {"name": "leaks.md", "blocks": [{"code": "print(x)\n", "line": 1}], "limit": 5},
        {"name": "loops.md", "blocks": [{"code": "while True:\n    pass\n", "line": 1}],
         "limit": 0.5},
    ]
    ok, fails, leaks, loops = run_jobs(jobs, tmp_path)
    assert ok["error"] is None
    assert "ValueError: boom" in str(fails["error"]) and "fails.md:3" in str(fails["error"])
    assert "NameError" in str(leaks["error"])          # each file starts from a clean namespace
    assert loops["error"] == "timed out after 0.5 s"


def test_every_lesson_has_runnable_python_in_both_languages() -> None:
    for program in load_programs():
        for lesson in program.lessons():
            counts = {language: sum(b.runnable for b in code_blocks(lesson.body(language)))
                      for language in LANGUAGES}
            assert counts["ko"] >= 1, f"{lesson.file_ko} has no runnable Python block"
            assert counts["ko"] == counts["en"], (
                f"{lesson.path}: {counts} runnable blocks: the translations are out of step")


def test_every_code_block_names_its_language() -> None:
    for program in load_programs():
        for lesson in program.lessons():
            for language in LANGUAGES:
                for block in code_blocks(lesson.body(language)):
                    assert block.lang, f"{lesson.path}.{language}.md:{block.line}: fence " \
                                       "without a language tag"


def test_the_skip_markers_are_recognised() -> None:
    blocks = code_blocks("```python no-run\nx = 1\n```\n\n```python\n# no-run\ny\n```\n\n"
                         "```python\nz = 2\n```\n\n```text\nplain\n```\n")
    assert [b.runnable for b in blocks] == [False, False, True, False]
    assert blocks[0].flags == frozenset({"no-run"})
    assert blocks[2].line == 10
