"""Grades the diabetes lab: predicted disease progression against the hidden values.

Tests: every row gets a finite number; R² at least 0.35 (shown); root mean squared
error at most 58 (hidden). The leaderboard shows the RMSE (lower is better).
"""

import time

STARTED = time.perf_counter()

import csv
import io
import json
import math

PREDICTIONS_BYTES_MAX = 5 << 20
R2_THRESHOLD = 0.35
RMSE_THRESHOLD = 58.0


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


def value_of(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def run_seconds():
    try:
        with open("/work/timing.json", encoding="utf-8") as handle:
            value = float(json.load(handle).get("run_seconds", 0.0))
        return value if 0 <= value < 86400 else 0.0
    except (OSError, ValueError, AttributeError):
        return 0.0


def main():
    with open("/hidden/test_targets.csv", newline="", encoding="utf-8") as handle:
        truth = {row["id"]: float(row["target"]) for row in csv.DictReader(handle)}
    predicted, problem = read_predictions("/work/predictions.csv")
    tests = []
    mean = sum(truth.values()) / len(truth)
    rmse, r2 = math.inf, -math.inf
    if predicted is None:
        tests.append({"name": "Predictions cover every test patient", "score": 0,
                      "max_score": 10, "visibility": "visible", "output": problem})
    else:
        values = {row_id: value_of(predicted.get(row_id, "")) for row_id in truth}
        missing = [row_id for row_id, value in values.items() if value is None]
        tests.append({
            "name": "Predictions cover every test patient", "score": 0 if missing else 10,
            "max_score": 10, "visibility": "visible",
            "output": (f"{len(missing)} of {len(truth)} rows have no finite prediction "
                       f"(first: id {missing[0]})") if missing else
            f"all {len(truth)} rows have a prediction"})
        if not missing:
            squared = sum((values[i] - truth[i]) ** 2 for i in truth)
            rmse = math.sqrt(squared / len(truth))
            r2 = 1 - squared / sum((truth[i] - mean) ** 2 for i in truth)
    tests.append({"name": f"R² at least {R2_THRESHOLD:.2f}",
                  "score": 40 if r2 >= R2_THRESHOLD else 0, "max_score": 40,
                  "visibility": "visible", "output": f"R² {r2:.4f}"})
    tests.append({"name": f"RMSE at most {RMSE_THRESHOLD:.0f}",
                  "score": 50 if rmse <= RMSE_THRESHOLD else 0, "max_score": 50,
                  "visibility": "hidden", "output": f"RMSE {rmse:.2f}"})
    grade_seconds = time.perf_counter() - STARTED
    results = {
        "score": sum(test["score"] for test in tests),
        "max_score": sum(test["max_score"] for test in tests),
        "execution_time": run_seconds() + grade_seconds,
        "output": f"On the hidden test set: RMSE {rmse:.2f}, R² {r2:.4f}",
        "tests": tests,
        "leaderboard": ([{"name": "rmse", "value": rmse, "order": "asc"}]
                        if math.isfinite(rmse) else []),
        "extra_data": {"run_seconds": run_seconds(), "grade_seconds": grade_seconds},
    }
    with open("/results/results.json", "w", encoding="utf-8") as handle:
        json.dump(results, handle)


main()
