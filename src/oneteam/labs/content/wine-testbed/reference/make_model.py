"""How a company would make a submission to the wine testbed: train on the public data,
then either pickle the model (model.pkl) or write its predictions (predictions.csv)."""

import csv
import pickle
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def _read(path: Path, with_label: bool) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    width = len(rows[0]) - (2 if with_label else 1)
    ids = [row[0] for row in rows]
    features = np.array([[float(v) for v in row[1:1 + width]] for row in rows])
    labels = np.array([int(row[-1]) for row in rows]) if with_label else None
    return ids, features, labels


def train(public_data: Path) -> object:
    _, features, labels = _read(public_data / "train.csv", with_label=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    model.fit(features, labels)
    return model


def write_model(public_data: Path, destination: Path) -> Path:
    destination.write_bytes(pickle.dumps(train(public_data)))
    return destination


def write_predictions(public_data: Path, destination: Path) -> Path:
    model = train(public_data)
    ids, features, _ = _read(public_data / "test_features.csv", with_label=False)
    probabilities = model.predict_proba(features)  # type: ignore[attr-defined]
    with open(destination, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "p0", "p1", "p2"])
        for row_id, p in zip(ids, probabilities, strict=True):
            writer.writerow([row_id, *(repr(float(v)) for v in p)])
    return destination
