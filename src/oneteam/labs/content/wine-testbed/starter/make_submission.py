"""와인 품종 테스트베드 제출물 만들기 / Making a submission to the wine testbed.

공개 데이터로 학습한 뒤 model.pkl 또는 predictions.csv를 만듭니다.
Train on the public data, then write model.pkl or predictions.csv.

    python make_submission.py data/public
"""

import csv
import pickle
import sys
from pathlib import Path

import numpy as np
from sklearn.dummy import DummyClassifier


def read(path, with_label):
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    width = len(rows[0]) - (2 if with_label else 1)
    features = np.array([[float(v) for v in row[1:1 + width]] for row in rows])
    labels = np.array([int(row[-1]) for row in rows]) if with_label else None
    return [row[0] for row in rows], features, labels


def main(public):
    _, x_train, y_train = read(public / "train.csv", True)
    # TODO: 더 나은 모델로 바꾸세요 / replace with a better model.
    model = DummyClassifier(strategy="prior").fit(x_train, y_train)
    Path("model.pkl").write_bytes(pickle.dumps(model))
    ids, x_test, _ = read(public / "test_features.csv", False)
    with open("predictions.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "p0", "p1", "p2"])
        for row_id, p in zip(ids, model.predict_proba(x_test), strict=True):
            writer.writerow([row_id, *(repr(float(v)) for v in p)])


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "data/public"))
