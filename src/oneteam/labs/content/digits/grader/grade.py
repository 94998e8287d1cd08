"""Grades the digits lab: the predictions in /work against the hidden labels.

Writes /results/results.json (Gradescope's shape): a test that every test image got a
valid digit, a visible accuracy threshold and a hidden, higher one; the accuracy as the
leaderboard value. Nothing the submission wrote is run or trusted: predictions.csv is
read as text, at most PREDICTIONS_BYTES_MAX of it.
"""

import time

STARTED = time.perf_counter()

import csv
import io
import json

PREDICTIONS_BYTES_MAX = 5 << 20
LABELS = {str(digit) for digit in range(10)}
VISIBLE_THRESHOLD = 0.90
HIDDEN_THRESHOLD = 0.95


def read_predictions(path):
    """{id: text} from the submission's predictions, or an error message."""
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


def label_of(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return str(int(value)) if value.is_integer() and str(int(value)) in LABELS else None


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
        tests.append({"name": "Predictions cover every test image", "score": 0,
                      "max_score": 10, "visibility": "visible", "output": problem})
    else:
        labels = {row_id: label_of(predicted.get(row_id, "")) for row_id in truth}
        missing = [row_id for row_id, label in labels.items() if label is None]
        tests.append({
            "name": "Predictions cover every test image", "score": 0 if missing else 10,
            "max_score": 10, "visibility": "visible",
            "output": (f"{len(missing)} of {len(truth)} test images have no valid digit "
                       f"(first: id {missing[0]})") if missing else
            f"all {len(truth)} test images have a digit from 0 to 9"})
        accuracy = sum(labels[row_id] == truth[row_id] for row_id in truth) / len(truth)
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
        "output": f"Accuracy on the hidden test images: {accuracy:.4f}",
        "tests": tests,
        "leaderboard": [{"name": "accuracy", "value": accuracy, "order": "desc"}],
        "extra_data": {"run_seconds": run_seconds(), "grade_seconds": grade_seconds},
    }
    with open("/results/results.json", "w", encoding="utf-8") as handle:
        json.dump(results, handle)


main()
