"""Writes the Korean topics lab's data from source/sentences.tsv: 160 Korean sentences
written for this lab (40 each about weather, sports, the economy and food), split 75/25
with a fixed seed, stratified by topic."""

import csv
from pathlib import Path

from sklearn.model_selection import train_test_split

from oneteam.labs.content import SPLIT_SEED, write_csv

TOPICS = {"날씨": "weather", "스포츠": "sports", "경제": "economy", "음식": "food"}


def build(destination: Path, source: Path) -> None:
    with open(source / "source/sentences.tsv", encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.reader(handle, delimiter="\t") if row]
    texts = [text.strip() for _topic, text in rows]
    labels = [TOPICS[topic] for topic, _text in rows]
    ids = [f"s{index:03d}" for index in range(len(rows))]
    train_ids, test_ids, x_train, x_test, y_train, y_test = train_test_split(
        ids, texts, labels, test_size=0.25, random_state=SPLIT_SEED, stratify=labels)
    write_csv(destination / "data/public/train.csv", ["id", "text", "label"],
              zip(train_ids, x_train, y_train, strict=True))
    write_csv(destination / "data/public/test_features.csv", ["id", "text"],
              zip(test_ids, x_test, strict=True))
    write_csv(destination / "data/hidden/test_labels.csv", ["id", "label"],
              zip(test_ids, y_test, strict=True))
