"""Writes the breast-cancer lab's data: scikit-learn's Wisconsin diagnostic breast cancer
set (569 tumours, 30 features, shipped inside the package), split 75/25 with a fixed
seed, stratified. Label 0 is malignant, 1 benign."""

from pathlib import Path

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from oneteam.labs.content import SPLIT_SEED, number, write_csv


def build(destination: Path, source: Path) -> None:
    dataset = load_breast_cancer()
    names = [name.replace(" ", "_") for name in dataset.feature_names]
    ids = [f"t{index:03d}" for index in range(len(dataset.target))]
    train_ids, test_ids, x_train, x_test, y_train, y_test = train_test_split(
        ids, dataset.data, dataset.target, test_size=0.25, random_state=SPLIT_SEED,
        stratify=dataset.target)
    write_csv(destination / "data/public/train.csv", ["id", *names, "label"],
              ([row_id, *(number(v) for v in x), int(y)]
               for row_id, x, y in zip(train_ids, x_train, y_train, strict=True)))
    write_csv(destination / "data/public/test_features.csv", ["id", *names],
              ([row_id, *(number(v) for v in x)] for row_id, x in zip(test_ids, x_test,
                                                                      strict=True)))
    write_csv(destination / "data/hidden/test_labels.csv", ["id", "label"],
              ([row_id, int(y)] for row_id, y in zip(test_ids, y_test, strict=True)))
