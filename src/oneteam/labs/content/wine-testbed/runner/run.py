"""Turns a testbed submission into predictions: a model is loaded and asked, or the
submitted predictions are checked.

- ``model.pkl``: a pickled scikit-learn estimator with ``predict_proba`` (trained on
  the public training data). It is unpickled here, inside the sandbox, never on the
  platform: unpickling runs code.
- ``predictions.csv``: ``id,p0,p1,p2``, the probability of each cultivar for every row
  of ``test_features.csv``.

Writes ``/work/predictions.csv`` in the second form and ``/work/timing.json``.
"""

import time

STARTED = time.perf_counter()

import csv
import json
import os
import pickle
import sys

DATA = "/data"
WORK = "/work"
CLASSES = 3


def from_model():
    import numpy as np

    with open(f"{DATA}/test_features.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    features = np.array([[float(v) for v in row[1:]] for row in rows])
    with open(f"{WORK}/model.pkl", "rb") as handle:
        model = pickle.load(handle)
    probabilities = np.asarray(model.predict_proba(features))
    if probabilities.shape != (len(rows), CLASSES):
        sys.exit(f"predict_proba returned shape {probabilities.shape}, not "
                 f"({len(rows)}, {CLASSES})")
    with open(f"{WORK}/predictions.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", *(f"p{k}" for k in range(CLASSES))])
        for row, p in zip(rows, probabilities, strict=True):
            writer.writerow([row[0], *(repr(float(v)) for v in p)])
    print(f"model.pkl predicted {len(rows)} rows")


def main():
    if os.path.exists(f"{WORK}/model.pkl"):
        from_model()
    elif os.path.exists(f"{WORK}/predictions.csv"):
        print("predictions.csv submitted; the grader checks it")
    else:
        sys.exit("submit model.pkl or predictions.csv")
    with open(f"{WORK}/timing.json", "w", encoding="utf-8") as handle:
        json.dump({"run_seconds": time.perf_counter() - STARTED}, handle)


main()
sys.stdout.flush()
os._exit(0)
