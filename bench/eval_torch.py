#!/usr/bin/env python3
"""Hugging Face / torch inference on a recsys dataset split, for bench/eval.ts to compare with.

BertForSequenceClassification.from_pretrained(RUN/model) (the weights recsys evaluates), eval
mode, torch.inference_mode(), the split's rows in file order, batches of --batch-size padded to
their longest row (dynamic padding) with attention mask and token types; logits → argmax and
accuracy, so the output is used. One warm-up batch is run first and not counted (recsys's number
includes its own warm-up). Prints one JSON line: {"rows", "seconds", "rows_per_second", ...}.

    python bench/eval_torch.py MODEL_DIR SPLIT.arrow [--batch-size 64] [--threads 0] [--repeat 1]
Needs the reference venv (bash scripts/setup-python.sh).
"""
from __future__ import annotations

import argparse
import json
import time

import pyarrow.ipc as ipc
import torch
from transformers import BertForSequenceClassification


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("split_file")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default)")
    ap.add_argument("--repeat", type=int, default=1, help="timed passes over the rows; the best is reported")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    model = BertForSequenceClassification.from_pretrained(args.model_dir).eval()
    with ipc.open_file(args.split_file) as f:
        table = f.read_all()
    ids = table.column("input_ids").to_pylist()
    types = table.column("token_type_ids").to_pylist()
    labels = table.column("label").to_pylist()
    pad = model.config.pad_token_id or 0

    def batch(rows: range):
        width = max(len(ids[i]) for i in rows)
        x = torch.full((len(rows), width), pad, dtype=torch.long)
        m = torch.zeros((len(rows), width), dtype=torch.long)
        t = torch.zeros((len(rows), width), dtype=torch.long)
        for j, i in enumerate(rows):
            n = len(ids[i])
            x[j, :n] = torch.tensor(ids[i])
            m[j, :n] = 1
            t[j, :n] = torch.tensor(types[i])
        return x, m, t

    n = len(ids)
    bs = args.batch_size
    best = float("inf")
    correct = 0
    with torch.inference_mode():
        x, m, t = batch(range(0, min(bs, n)))
        model(input_ids=x, attention_mask=m, token_type_ids=t)  # warm-up, not counted
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            correct = 0
            for s in range(0, n, bs):
                rows = range(s, min(s + bs, n))
                x, m, t = batch(rows)
                pred = model(input_ids=x, attention_mask=m, token_type_ids=t).logits.argmax(-1)
                correct += sum(int(p) == labels[i] for p, i in zip(pred.tolist(), rows))
            best = min(best, time.perf_counter() - t0)
    print(json.dumps({
        "rows": n, "seconds": best, "rows_per_second": n / best, "accuracy": correct / n, "batch_size": bs,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "attention": getattr(model.config, "_attn_implementation", "eager"),
    }))


if __name__ == "__main__":
    main()
