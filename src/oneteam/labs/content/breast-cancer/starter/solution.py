"""유방암 진단 분류 / Breast cancer diagnosis.

train_and_predict를 완성하세요. / Complete train_and_predict.

- X_train: (426, 30) 세포핵 측정값 / measurements of cell nuclei
- y_train: (426,) 0 = 악성 malignant, 1 = 양성 benign
- X_test:  (143, 30)
- 반환 / return: X_test의 각 행에 대해 0 또는 1 / 0 or 1 per row of X_test
"""

import numpy as np


def train_and_predict(X_train, y_train, X_test):
    # TODO: 모델을 학습하고 예측하세요 / train a model and predict.
    # 지금은 모두 양성이라고 답합니다 / for now it calls every tumour benign.
    return np.ones(len(X_test), dtype=int)
