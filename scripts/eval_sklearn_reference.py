"""scikit-learn's numbers on the predictions `recsys eval` wrote, for the agreement test.

Run: .venv/bin/python scripts/eval_sklearn_reference.py PREDICTIONS_JSONL RECSYS_REPORT_JSON OUT_JSON [--digits N]

PREDICTIONS_JSONL is `recsys eval --predictions` output (one row per line: label_id, pred_id,
logits, positive_score for binary tasks). RECSYS_REPORT_JSON is recsys's `--json` report, read only
for the label names and the k values of top-k accuracy. OUT_JSON gets sklearn's values under the
report's key names (plus `text`, the classification_report string), computed with sklearn's
defaults (zero_division="warn", i.e. 0) over every label of the dataset (labels=range(n)):

  classification_report / precision_recall_fscore_support, accuracy_score, confusion_matrix,
  log_loss on softmax(logits), top_k_accuracy_score on the logits, and for binary tasks
  roc_auc_score and average_precision_score on the positive-class scores.
"""
import json
import math
import sys
import warnings

import numpy as np
from sklearn.metrics import (accuracy_score, average_precision_score, classification_report, confusion_matrix,
                             log_loss, precision_recall_fscore_support, roc_auc_score, top_k_accuracy_score)


def none_if_nan(x):
    x = float(x)
    return None if math.isnan(x) else x


def main(pred_file, report_file, out_file, digits):
    report = json.load(open(report_file, encoding="utf-8"))
    names = report["labels"]
    labels = list(range(len(names)))
    rows = [json.loads(l) for l in open(pred_file, encoding="utf-8") if l.strip()]
    y_true = np.array([r["label_id"] for r in rows])
    y_pred = np.array([r["pred_id"] for r in rows])
    logits = np.array([r["logits"] for r in rows], dtype=np.float64)
    # recsys's predictions are its own argmax of these logits (first index on ties)
    assert (logits.argmax(axis=1) == y_pred).all(), "pred_id is not the argmax of the written logits"
    z = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero_division warnings are the point of some cases
        d = classification_report(y_true, y_pred, labels=labels, target_names=names, output_dict=True)
        text = classification_report(y_true, y_pred, labels=labels, target_names=names, digits=digits)
        p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels)
        out = {
            "rows": len(rows),
            "labels": names,
            "text": text,
            "accuracy": accuracy_score(y_true, y_pred),
            "loss": log_loss(y_true, probs, labels=labels),
            "macro_precision": d["macro avg"]["precision"],
            "macro_recall": d["macro avg"]["recall"],
            "macro_f1": d["macro avg"]["f1-score"],
            "weighted_precision": d["weighted avg"]["precision"],
            "weighted_recall": d["weighted avg"]["recall"],
            "weighted_f1": d["weighted avg"]["f1-score"],
            "report_accuracy": d.get("accuracy"),
            "per_class": {
                n: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                for i, n in enumerate(names)
            },
            "per_class_report": {n: d[n] for n in names},
            "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
            "top_k_accuracy": None,
            "roc_auc": None,
            "pr_auc": None,
        }
        if report.get("top_k_accuracy"):
            out["top_k_accuracy"] = {
                k: top_k_accuracy_score(y_true, logits, k=int(k), labels=labels) for k in report["top_k_accuracy"]
            }
        if len(names) == 2:
            score = np.array([r["positive_score"] for r in rows], dtype=np.float64)
            out["roc_auc"] = none_if_nan(roc_auc_score(y_true, score)) if len(set(y_true.tolist())) == 2 else None
            out["pr_auc"] = float(average_precision_score(y_true, score))
    json.dump(out, open(out_file, "w", encoding="utf-8"), indent=1)


if __name__ == "__main__":
    a = sys.argv[1:]
    digits = int(a[a.index("--digits") + 1]) if "--digits" in a else 4
    main(a[0], a[1], a[2], digits)
