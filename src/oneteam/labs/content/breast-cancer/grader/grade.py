"""Grades the breast-cancer lab: predicted diagnoses against the hidden ones.

Label 0 is malignant, 1 benign. Tests: every row gets 0 or 1; accuracy at least 0.93
(shown); recall of malignant tumours at least 0.92 (hidden: missing a malignant tumour
is the costly mistake). The leaderboard shows accuracy.
"""

import time

STARTED = time.perf_counter()

import csv
import io
import json

PREDICTIONS_BYTES_MAX = 5 << 20
ACCURACY_THRESHOLD = 0.93
RECALL_THRESHOLD = 0.92
MALIGNANT = "0"


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


def label_of(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return str(int(value)) if value in (0.0, 1.0) else None


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
    accuracy = recall = 0.0
    if predicted is None:
        tests.append({"name": "Predictions cover every test tumour", "score": 0,
                      "max_score": 10, "visibility": "visible", "output": problem})
    else:
        labels = {row_id: label_of(predicted.get(row_id, "")) for row_id in truth}
        missing = [row_id for row_id, label in labels.items() if label is None]
        tests.append({
            "name": "Predictions cover every test tumour", "score": 0 if missing else 10,
            "max_score": 10, "visibility": "visible",
            "output": (f"{len(missing)} of {len(truth)} rows have no prediction of 0 or 1 "
                       f"(first: id {missing[0]})") if missing else
            f"all {len(truth)} rows have a prediction"})
        accuracy = sum(labels[i] == truth[i] for i in truth) / len(truth)
        malignant = [i for i in truth if truth[i] == MALIGNANT]
        recall = sum(labels[i] == MALIGNANT for i in malignant) / len(malignant)
    tests.append({"name": f"Accuracy at least {ACCURACY_THRESHOLD:.2f}",
                  "score": 40 if accuracy >= ACCURACY_THRESHOLD else 0, "max_score": 40,
                  "visibility": "visible", "output": f"accuracy {accuracy:.4f}"})
    tests.append({"name": f"Recall of malignant tumours at least {RECALL_THRESHOLD:.2f}",
                  "score": 50 if recall >= RECALL_THRESHOLD else 0, "max_score": 50,
                  "visibility": "hidden", "output": f"recall {recall:.4f}"})
    grade_seconds = time.perf_counter() - STARTED
    results = {
        "score": sum(test["score"] for test in tests),
        "max_score": sum(test["max_score"] for test in tests),
        "execution_time": run_seconds() + grade_seconds,
        "output": f"Accuracy on the hidden test set: {accuracy:.4f}",
        "tests": tests,
        "leaderboard": [{"name": "accuracy", "value": accuracy, "order": "desc"}],
        "extra_data": {"run_seconds": run_seconds(), "grade_seconds": grade_seconds},
    }
    with open("/results/results.json", "w", encoding="utf-8") as handle:
        json.dump(results, handle)


main()
