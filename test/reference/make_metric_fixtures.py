#!/usr/bin/env python3
"""Writes test/fixtures/metrics.json: scikit-learn's roc_auc_score and average_precision_score
on random scores with many ties (rounded), so the library's metrics are checked against them.
    /usr/bin/python3 test/reference/make_metric_fixtures.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, roc_auc_score

rng = np.random.default_rng(0)
cases = []
for n, digits in ((10, 1), (1000, 2), (5000, 3), (300, 0)):
    labels = (rng.random(n) < 0.3).astype(int)
    labels[0], labels[1] = 0, 1
    scores = np.round(rng.random(n) + 0.3 * labels, digits)
    cases.append({"scores": scores.tolist(), "labels": labels.tolist(), "auroc": roc_auc_score(labels, scores), "ap": average_precision_score(labels, scores)})
path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metrics.json")
with open(path, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "cases": cases}, f)
print(f"wrote {os.path.normpath(path)} with scikit-learn {sklearn.__version__}")
