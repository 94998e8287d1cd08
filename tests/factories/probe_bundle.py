"""A small bundle for tests of the submission path: tight limits, a trivial grader.

The runner runs the submitted ``solution.py`` as a script in ``/work``; the grader gives
full marks when the run left ``/work/answer.txt`` holding ``42`` (a visible test and a
hidden one), and reports the value as the leaderboard's ``answer`` metric. With a wall
limit of a few seconds, a submission that sleeps forever fails fast.
"""

from __future__ import annotations

import io
import zipfile

RUNNER = '''import runpy
runpy.run_path("/work/solution.py", run_name="__main__")
'''

GRADER = '''import json
try:
    with open("/work/answer.txt") as handle:
        text = handle.read(100).strip()
except OSError:
    text = ""
try:
    value = float(text)
except ValueError:
    value = 0.0
right = value == 42
tests = [
    {"name": "An answer was written", "score": 5 if text else 0, "max_score": 5,
     "visibility": "visible", "output": "answer: " + text[:20]},
    {"name": "The answer is right", "score": 5 if right else 0, "max_score": 5,
     "visibility": "hidden", "output": "the secret check"},
]
board = [{"name": "answer", "value": value, "order": "desc", "split": "public"}]
if SPLIT:
    board.append({"name": "answer", "value": value - 1, "order": "desc", "split": "private"})
with open("/results/results.json", "w") as handle:
    json.dump({"tests": tests, "leaderboard": board}, handle)
'''


def probe_bundle_zip(*, slug: str = "probe", kind: str = "lab", per_day: int = 10,
                     wall_seconds: int = 3, memory_mb: int = 256, output_kb: int = 64,
                     disk_mb: int = 16, skills: str = "", extra_toml: str = "") -> bytes:
    challenge = kind == "challenge"
    manifest = f'''format = 1
slug = "{slug}"
kind = "{kind}"
version = "1"

[title]
ko = "탐침 실습"
en = "Probe lab"

[instructions]
ko = "ko.md"
en = "en.md"

[starter]
files = ["starter/solution.py"]

[data]
public = "public"
hidden = "hidden"

[submission]
files = ["solution.py"]
max_bytes = 10000

[run]
directory = "runner"
command = ["python", "/lab/run.py"]

[grade]
directory = "grader"
command = ["python", "/grader/grade.py"]

[metric]
name = "answer"
direction = "max"

[limits]
cpu_seconds = {wall_seconds}
wall_seconds = {wall_seconds}
memory_mb = {memory_mb}
processes = 32
disk_mb = {disk_mb}
output_kb = {output_kb}

[submissions]
per_day = {per_day}
''' + ('\n[leaderboard]\npublic_fraction = 0.5\n' if challenge else "") + skills + extra_toml
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in {
            "lab.toml": manifest, "ko.md": "# 탐침\n", "en.md": "# Probe\n",
            "starter/solution.py": "print('hello')\n", "public/readme.txt": "public\n",
            "hidden/secret.txt": "the hidden answer\n", "runner/run.py": RUNNER,
            "grader/grade.py": f"SPLIT = {challenge}\n" + GRADER,
        }.items():
            info = zipfile.ZipInfo(f"{slug}/{name}")
            info.external_attr = 0o100644 << 16
            archive.writestr(info, text)
    return buffer.getvalue()
