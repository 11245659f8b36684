#!/usr/bin/env python3
"""The classic baseline for `npm run bench -- quality`: TF-IDF word 1-2-grams + one-vs-rest logistic
regression with balanced class weights, per-label thresholds tuned on validation (F1 per label), scored
on the test split. Debian's python3-sklearn. Usage: tfidf_baseline.py TRAIN.jsonl VAL.jsonl TEST.jsonl
Prints one JSON object: {"micro_f1", "macro_f1", "seconds", "sklearn"}."""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer


def read(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    return [r["text"] for r in rows], [r["labels"] for r in rows]


def main(train, val, test):
    start = time.time()
    (xtr, ytr), (xva, yva), (xte, yte) = read(train), read(val), read(test)
    mlb = MultiLabelBinarizer().fit(ytr + yva + yte)
    Ytr, Yva, Yte = mlb.transform(ytr), mlb.transform(yva), mlb.transform(yte)
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    Xtr = vec.fit_transform(xtr)
    keep = Ytr.sum(0) > 0  # a label with no training row gets no classifier (scores 0)
    clf = OneVsRestClassifier(LogisticRegression(class_weight="balanced", max_iter=1000), n_jobs=2).fit(Xtr, Ytr[:, keep])

    def scores(x):
        s = np.zeros((len(x), Ytr.shape[1]))
        s[:, keep] = clf.predict_proba(vec.transform(x))
        return s

    pva, pte = scores(xva), scores(xte)
    grid = np.linspace(0.05, 0.95, 19)
    thr = np.array([grid[np.argmax([f1_score(Yva[:, j], pva[:, j] >= t, zero_division=0) for t in grid])] for j in range(Yva.shape[1])])
    pred = (pte >= thr).astype(int)
    print(json.dumps({
        "micro_f1": f1_score(Yte, pred, average="micro", zero_division=0),
        "macro_f1": f1_score(Yte, pred, average="macro", zero_division=0),
        "seconds": time.time() - start,
        "sklearn": sklearn.__version__,
    }))


if __name__ == "__main__":
    main(*sys.argv[1:4])
