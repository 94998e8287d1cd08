"""Writes the wine testbed's data: scikit-learn's wine recognition set (178 wines, 13
chemical measurements, three cultivars; shipped inside the package), split 60/40 with a
fixed seed, stratified. Half of the hidden test rows, drawn with a second fixed seed,
score the public leaderboard; the other half the private one."""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

from oneteam.labs.content import SPLIT_SEED, number, write_csv

PUBLIC_FRACTION = 0.5


def build(destination: Path, source: Path) -> None:
    dataset = load_wine()
    names = list(dataset.feature_names)
    names = [name.replace("/", "_per_") for name in names]
    ids = [f"w{index:03d}" for index in range(len(dataset.target))]
    train_ids, test_ids, x_train, x_test, y_train, y_test = train_test_split(
        ids, dataset.data, dataset.target, test_size=0.4, random_state=SPLIT_SEED,
        stratify=dataset.target)
    order = np.random.default_rng(SPLIT_SEED + 1).permutation(len(test_ids))
    public = set(order[:round(len(test_ids) * PUBLIC_FRACTION)].tolist())
    write_csv(destination / "data/public/train.csv", ["id", *names, "cultivar"],
              ([row_id, *(number(v) for v in x), int(y)]
               for row_id, x, y in zip(train_ids, x_train, y_train, strict=True)))
    write_csv(destination / "data/public/test_features.csv", ["id", *names],
              ([row_id, *(number(v) for v in x)] for row_id, x in zip(test_ids, x_test,
                                                                      strict=True)))
    write_csv(destination / "data/hidden/test_labels.csv", ["id", "cultivar", "split"],
              ([row_id, int(y), "public" if index in public else "private"]
               for index, (row_id, y) in enumerate(zip(test_ids, y_test, strict=True))))
