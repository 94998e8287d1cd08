"""Runs a submission on the Korean topics lab's public data and writes its predictions.

The submission defines ``train_and_predict(train_texts, train_labels, test_texts)`` in
``/work/solution.py``: lists of sentences and of topic names in, one topic name per test
sentence out. This script writes ``/work/predictions.csv`` (id, prediction) and
``/work/timing.json``.
"""

import time

STARTED = time.perf_counter()

import csv
import importlib.util
import json
import os
import sys

DATA = "/data"
WORK = "/work"


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def find_function():
    found = globals().get("train_and_predict")
    if callable(found):
        return found
    spec = importlib.util.spec_from_file_location("solution", f"{WORK}/solution.py")
    if spec is None or spec.loader is None:
        sys.exit("solution.py is missing")
    sys.path.insert(0, WORK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = getattr(module, "train_and_predict", None)
    if not callable(found):
        sys.exit("solution.py must define train_and_predict(train_texts, train_labels, "
                 "test_texts)")
    return found


def main():
    train = read_rows(f"{DATA}/train.csv")
    test = read_rows(f"{DATA}/test_features.csv")
    predictions = list(find_function()([row["text"] for row in train],
                                       [row["label"] for row in train],
                                       [row["text"] for row in test]))
    if len(predictions) != len(test):
        sys.exit(f"train_and_predict returned {len(predictions)} predictions for "
                 f"{len(test)} test sentences")
    with open(f"{WORK}/predictions.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "prediction"])
        for row, value in zip(test, predictions, strict=True):
            writer.writerow([row["id"], str(value)])
    with open(f"{WORK}/timing.json", "w", encoding="utf-8") as handle:
        json.dump({"run_seconds": time.perf_counter() - STARTED}, handle)
    print(f"wrote {len(predictions)} predictions")


main()
if "get_ipython" not in globals():
    sys.stdout.flush()
    os._exit(0)
