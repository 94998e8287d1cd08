"""Grades the Korean topics lab: predicted topics against the hidden ones.

Tests: every sentence gets one of the four topics; accuracy at least 0.80 (shown);
accuracy at least 0.90 (hidden). The leaderboard shows accuracy.
"""

import time

STARTED = time.perf_counter()

import csv
import io
import json

PREDICTIONS_BYTES_MAX = 1 << 20
TOPICS = {"weather", "sports", "economy", "food"}
VISIBLE_THRESHOLD = 0.80
HIDDEN_THRESHOLD = 0.90


def read_predictions(path):
    try:
        with open(path, "rb") as handle:
            raw = handle.read(PREDICTIONS_BYTES_MAX + 1)
    except OSError:
        return None, "no predictions.csv: the run step wrote none"
    if len(raw) > PREDICTIONS_BYTES_MAX:
        return None, "predictions.csv is too large"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8", errors="replace"))))
    if not rows or rows[0][:2] != ["id", "prediction"]:
        return None, "predictions.csv must start with the header id,prediction"
    return {row[0]: row[1].strip() for row in rows[1:] if len(row) >= 2}, ""


def run_seconds():
    try:
        with open("/work/timing.json", encoding="utf-8") as handle:
            value = float(json.load(handle).get("run_seconds", 0.0))
        return value if 0 <= value < 86400 else 0.0
    except (OSError, ValueError, AttributeError):
        return 0.0


def main():
    with open("/hidden/test_labels.csv", newline="", encoding="utf-8") as handle:
        truth = {row["id"]: row["label"] for row in csv.DictReader(handle)}
    predicted, problem = read_predictions("/work/predictions.csv")
    tests = []
    accuracy = 0.0
    if predicted is None:
        tests.append({"name": "Every sentence gets a topic", "score": 0, "max_score": 10,
                      "visibility": "visible", "output": problem})
    else:
        missing = [i for i in truth if predicted.get(i) not in TOPICS]
        tests.append({
            "name": "Every sentence gets a topic", "score": 0 if missing else 10,
            "max_score": 10, "visibility": "visible",
            "output": (f"{len(missing)} of {len(truth)} sentences have no topic among "
                       f"{', '.join(sorted(TOPICS))} (first: id {missing[0]})") if missing
            else f"all {len(truth)} sentences have a topic"})
        accuracy = sum(predicted.get(i) == truth[i] for i in truth) / len(truth)
    tests.append({"name": f"Accuracy at least {VISIBLE_THRESHOLD:.2f}",
                  "score": 40 if accuracy >= VISIBLE_THRESHOLD else 0, "max_score": 40,
                  "visibility": "visible", "output": f"accuracy {accuracy:.4f}"})
    tests.append({"name": f"Accuracy at least {HIDDEN_THRESHOLD:.2f}",
                  "score": 50 if accuracy >= HIDDEN_THRESHOLD else 0, "max_score": 50,
                  "visibility": "hidden"})
    grade_seconds = time.perf_counter() - STARTED
    results = {
        "score": sum(test["score"] for test in tests),
        "max_score": sum(test["max_score"] for test in tests),
        "execution_time": run_seconds() + grade_seconds,
        "output": f"Accuracy on the hidden test sentences: {accuracy:.4f}",
        "tests": tests,
        "leaderboard": [{"name": "accuracy", "value": accuracy, "order": "desc"}],
        "extra_data": {"run_seconds": run_seconds(), "grade_seconds": grade_seconds},
    }
    with open("/results/results.json", "w", encoding="utf-8") as handle:
        json.dump(results, handle, ensure_ascii=False)


main()
