"""Writes the diabetes lab's data: scikit-learn's diabetes set (442 patients, 10
standardized baseline measurements, disease progression a year later; shipped inside
the package), split 75/25 with a fixed seed."""

from pathlib import Path

from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

from oneteam.labs.content import SPLIT_SEED, number, write_csv


def build(destination: Path, source: Path) -> None:
    dataset = load_diabetes()
    names = list(dataset.feature_names)
    ids = [f"p{index:03d}" for index in range(len(dataset.target))]
    train_ids, test_ids, x_train, x_test, y_train, y_test = train_test_split(
        ids, dataset.data, dataset.target, test_size=0.25, random_state=SPLIT_SEED)
    write_csv(destination / "data/public/train.csv", ["id", *names, "target"],
              ([row_id, *(number(v) for v in x), number(y)]
               for row_id, x, y in zip(train_ids, x_train, y_train, strict=True)))
    write_csv(destination / "data/public/test_features.csv", ["id", *names],
              ([row_id, *(number(v) for v in x)] for row_id, x in zip(test_ids, x_test,
                                                                      strict=True)))
    write_csv(destination / "data/hidden/test_targets.csv", ["id", "target"],
              ([row_id, number(y)] for row_id, y in zip(test_ids, y_test, strict=True)))
