"""scikit-learn / SciPy reference for recsys's regression and multi-label metrics.

Run: .venv/bin/python scripts/eval_heads_sklearn.py PREDICTIONS_JSONL TASK LABELS_JSON [THRESHOLDS_JSON]
PREDICTIONS_JSONL: written by `recsys eval --predictions` (row, targets, logits per line).
Prints the metrics as JSON, under the names recsys's report uses.
"""
import json
import sys

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import (accuracy_score, f1_score, hamming_loss, mean_absolute_error, mean_squared_error,
                             precision_score, r2_score, recall_score, root_mean_squared_error)


def regression(y, p, labels):
    out = {
        "mae": mean_absolute_error(y, p), "mse": mean_squared_error(y, p),
        "rmse": root_mean_squared_error(y, p), "r2": r2_score(y, p),
        "pearson": float(np.mean([pearsonr(y[:, j], p[:, j])[0] for j in range(y.shape[1])])),
        "spearman": float(np.mean([spearmanr(y[:, j], p[:, j])[0] for j in range(y.shape[1])])),
    }
    out["loss"] = float(np.mean((y - p) ** 2))
    if len(labels) > 1:
        for j, name in enumerate(labels):
            out[f"mae:{name}"] = mean_absolute_error(y[:, j], p[:, j])
            out[f"rmse:{name}"] = root_mean_squared_error(y[:, j], p[:, j])
            out[f"r2:{name}"] = r2_score(y[:, j], p[:, j])
            out[f"pearson:{name}"] = float(pearsonr(y[:, j], p[:, j])[0])
            out[f"spearman:{name}"] = float(spearmanr(y[:, j], p[:, j])[0])
    return out


def multilabel(y, logits, labels, thresholds):
    prob = 1 / (1 + np.exp(-logits.astype(np.float64)))
    pred = (prob >= np.array(thresholds)).astype(int)
    y = y.astype(int)
    out = {"subset_accuracy": accuracy_score(y, pred), "hamming_loss": hamming_loss(y, pred)}
    for avg in ["micro", "macro", "weighted", "samples"]:
        out[f"{avg}_precision"] = precision_score(y, pred, average=avg, zero_division=0)
        out[f"{avg}_recall"] = recall_score(y, pred, average=avg, zero_division=0)
        out[f"{avg}_f1"] = f1_score(y, pred, average=avg, zero_division=0)
    x = logits.astype(np.float64)
    out["loss"] = float(np.mean(np.logaddexp(0, x) - y * x))  # BCE-with-logits
    per_p = precision_score(y, pred, average=None, zero_division=0)
    per_r = recall_score(y, pred, average=None, zero_division=0)
    per_f = f1_score(y, pred, average=None, zero_division=0)
    for j, name in enumerate(labels):
        out[f"precision:{name}"] = per_p[j]
        out[f"recall:{name}"] = per_r[j]
        out[f"f1:{name}"] = per_f[j]
        out[f"support:{name}"] = int(y[:, j].sum())
    return out


def main():
    rows = [json.loads(line) for line in open(sys.argv[1])]
    task = sys.argv[2]
    labels = json.loads(sys.argv[3])
    y = np.array([r["targets"] for r in rows], dtype=np.float64)
    logits = np.array([r["logits"] for r in rows], dtype=np.float64)
    if task == "regression":
        out = regression(y, np.array([r["logits"] for r in rows], dtype=np.float32).astype(np.float64), labels)
    else:
        thresholds = json.loads(sys.argv[4]) if len(sys.argv) > 4 else [0.5] * len(labels)
        out = multilabel(y, logits, labels, thresholds)
    print(json.dumps({k: float(v) for k, v in out.items()}))


if __name__ == "__main__":
    main()
