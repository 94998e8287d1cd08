"""Grades the wine testbed: multi-class log loss on the hidden test rows, public and
private halves apart.

Tests: predictions are valid probabilities for every row (shown); public log loss at
most 0.5 (shown); private log loss at most 0.5 (after the challenge is published). The
leaderboard carries the log loss of each half ("split": public or private).
"""

import time

STARTED = time.perf_counter()

import csv
import io
import json
import math

PREDICTIONS_BYTES_MAX = 2 << 20
CLASSES = 3
THRESHOLD = 0.5
CLIP = 1e-15


def read_predictions(path):
    try:
        with open(path, "rb") as handle:
            raw = handle.read(PREDICTIONS_BYTES_MAX + 1)
    except OSError:
        return None, "no predictions.csv"
    if len(raw) > PREDICTIONS_BYTES_MAX:
        return None, "predictions.csv is too large"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8", errors="replace"))))
    header = ["id", *(f"p{k}" for k in range(CLASSES))]
    if not rows or rows[0] != header:
        return None, f"predictions.csv must start with the header {','.join(header)}"
    found = {}
    for row in rows[1:]:
        if len(row) != CLASSES + 1:
            return None, f"row {row[:1]} does not have {CLASSES + 1} columns"
        try:
            values = [float(v) for v in row[1:]]
        except ValueError:
            return None, f"row {row[0]} holds something that is not a number"
        if not all(math.isfinite(v) and 0 <= v <= 1 for v in values) or abs(
                sum(values) - 1) > 1e-3:
            return None, f"row {row[0]}: probabilities must be in [0, 1] and add up to 1"
        found[row[0]] = values
    return found, ""


def log_loss(rows, predicted):
    total = 0.0
    for row_id, label in rows:
        total -= math.log(min(max(predicted[row_id][label], CLIP), 1 - CLIP))
    return total / len(rows)


def run_seconds():
    try:
        with open("/work/timing.json", encoding="utf-8") as handle:
            value = float(json.load(handle).get("run_seconds", 0.0))
        return value if 0 <= value < 86400 else 0.0
    except (OSError, ValueError, AttributeError):
        return 0.0


def main():
    with open("/hidden/test_labels.csv", newline="", encoding="utf-8") as handle:
        truth = [(row["id"], int(row["cultivar"]), row["split"])
                 for row in csv.DictReader(handle)]
    predicted, problem = read_predictions("/work/predictions.csv")
    missing = [] if predicted is None else [i for i, _, _ in truth if i not in predicted]
    valid = predicted is not None and not missing
    tests = [{"name": "Valid probabilities for every test wine",
              "score": 10 if valid else 0, "max_score": 10, "visibility": "visible",
              "output": problem or (f"{len(missing)} rows missing (first: {missing[0]})"
                                    if missing else f"all {len(truth)} rows")}]
    leaderboard = []
    losses = {}
    for split, visibility, points in (("public", "visible", 40),
                                      ("private", "after_published", 50)):
        rows = [(i, label) for i, label, s in truth if s == split]
        loss = log_loss(rows, predicted) if valid else math.inf
        losses[split] = loss
        tests.append({"name": f"{split.capitalize()} log loss at most {THRESHOLD}",
                      "score": points if loss <= THRESHOLD else 0, "max_score": points,
                      "visibility": visibility, "output": f"log loss {loss:.4f}"})
        if valid:
            leaderboard.append({"name": "log_loss", "value": loss, "order": "asc",
                                "split": split})
    grade_seconds = time.perf_counter() - STARTED
    results = {
        "score": sum(test["score"] for test in tests),
        "max_score": sum(test["max_score"] for test in tests),
        "execution_time": run_seconds() + grade_seconds,
        "output": f"Public log loss: {losses['public']:.4f}",
        "tests": tests,
        "leaderboard": leaderboard,
        "extra_data": {"run_seconds": run_seconds(), "grade_seconds": grade_seconds},
    }
    with open("/results/results.json", "w", encoding="utf-8") as handle:
        json.dump(results, handle)


main()
