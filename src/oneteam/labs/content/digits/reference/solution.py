"""Reference solution of the digits lab: standardized pixels, an RBF support vector machine."""

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC


def train_and_predict(X_train, y_train, X_test):
    model = make_pipeline(StandardScaler(), SVC(C=10, gamma="scale"))
    model.fit(X_train, y_train)
    return model.predict(X_test)
