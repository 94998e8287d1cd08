"""Reference solution of the Korean topics lab: Kiwi's morphemes (nouns, verb and
adjective stems, roots, foreign words), TF-IDF, logistic regression."""

from kiwipiepy import Kiwi
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

KEPT = ("NNG", "NNP", "NNB", "NR", "VV", "VA", "XR", "SL", "MAG")


def train_and_predict(train_texts, train_labels, test_texts):
    kiwi = Kiwi()

    def morphemes(text):
        return [f"{token.form}/{token.tag}" for token in kiwi.tokenize(text)
                if token.tag.startswith(KEPT)]

    model = make_pipeline(
        TfidfVectorizer(analyzer=morphemes, sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=1000))
    model.fit(train_texts, train_labels)
    return list(model.predict(test_texts))
