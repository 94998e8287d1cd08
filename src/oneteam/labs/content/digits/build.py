"""Writes the digits lab's data: scikit-learn's handwritten digits (8×8 images, 1,797 of
them, shipped inside the package), split 80/20 with a fixed seed, stratified."""

from pathlib import Path

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from oneteam.labs.content import SPLIT_SEED, write_csv


def build(destination: Path, source: Path) -> None:
    features, labels = load_digits(return_X_y=True)
    ids = [f"d{index:04d}" for index in range(len(labels))]
    train_ids, test_ids, x_train, x_test, y_train, y_test = train_test_split(
        ids, features, labels, test_size=0.2, random_state=SPLIT_SEED, stratify=labels)
    pixels = [f"pixel_{row}_{col}" for row in range(8) for col in range(8)]
    write_csv(destination / "data/public/train.csv", ["id", *pixels, "label"],
              ([row_id, *(int(v) for v in x), int(y)]
               for row_id, x, y in zip(train_ids, x_train, y_train, strict=True)))
    write_csv(destination / "data/public/test_features.csv", ["id", *pixels],
              ([row_id, *(int(v) for v in x)] for row_id, x in zip(test_ids, x_test, strict=True)))
    write_csv(destination / "data/hidden/test_labels.csv", ["id", "label"],
              ([row_id, int(y)] for row_id, y in zip(test_ids, y_test, strict=True)))
