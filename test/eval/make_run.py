"""Test fixture: a recsys run directory (docs/run-dir.md layout) without running `recsys train`.

Run: .venv/bin/python test/eval/make_run.py DATASET_DIR RUN_DIR [--seed N] [--no-config] [--curves]
       [--labels a,b,c] [--record-dataset]

RUN_DIR/model holds a seeded random BertForSequenceClassification with a varied init (init range
0.2, perturbed biases and LayerNorm weights, so predictions spread over several classes) saved
with save_pretrained, plus BertTokenizerFast files from the dataset's vocab.txt. RUN_DIR/manifest.json
is the dataset's manifest (plus dataset_dir with --record-dataset, as recsys train writes it);
config.yaml names the dataset (data.out) unless --no-config; --curves
writes a metrics.jsonl with train and validation records. --labels overrides the model's
id2label (to test the model/manifest check).
"""
import json
import math
import os
import sys

import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast


def write_curves(file):
    """metrics.jsonl in the format recsys train writes (src/eval/metrics-record.ts), with made-up curves."""
    best, best_step = None, None
    with open(file, "w", encoding="utf-8") as f:
        def record(o):
            f.write(json.dumps(o, separators=(",", ":")) + "\n")
        for step in range(10, 210, 10):
            epoch = (step - 1) // 100
            record({"type": "train", "step": step, "epoch": epoch, "loss": 2.5 * math.exp(-step / 80) + 0.3,
                    "lr": 3e-4 * min(1, step / 20) * (1 - step / 220), "grad_norm": 1.5 * math.exp(-step / 120) + 0.2,
                    "samples_per_s": 900, "time_s": step / 30})
            if step % 50 == 0:
                accuracy = 0.9 - 0.6 * math.exp(-step / 60)
                macro_f1 = 0.85 - 0.7 * math.exp(-step / 60)
                if best is None or macro_f1 > best:
                    best, best_step = macro_f1, step
                record({"type": "eval", "step": step, "epoch": epoch, "split": "validation", "rows": 300,
                        "accuracy": accuracy, "loss": 2.4 * math.exp(-step / 90) + 0.45, "macro_f1": macro_f1,
                        "weighted_f1": macro_f1 + 0.02, "best": best, "best_step": best_step})


def main(dataset, run, seed, write_config, curves, labels_override, record_dataset):
    manifest = json.load(open(os.path.join(dataset, "manifest.json"), encoding="utf-8"))
    labels = labels_override or manifest["labels"]
    os.makedirs(os.path.join(run, "model"), exist_ok=True)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=manifest["tokenizer"]["vocab_size"], hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=max(64, manifest["max_length"]), initializer_range=0.2,
        num_labels=len(labels), id2label={i: l for i, l in enumerate(labels)},
        label2id={l: i for i, l in enumerate(labels)},
        problem_type="single_label_classification",
    )
    model = BertForSequenceClassification(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(os.path.join(run, "model"))
    tok = BertTokenizerFast(vocab_file=os.path.join(dataset, "tokenizer", "vocab.txt"), do_lower_case=True,
                            model_max_length=manifest["max_length"])
    tok.save_pretrained(os.path.join(run, "model"))
    if record_dataset:  # as recsys train does: the run manifest names the dataset it was trained on
        manifest["dataset_dir"] = os.path.abspath(dataset)
    with open(os.path.join(run, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
    if write_config:
        with open(os.path.join(run, "config.yaml"), "w", encoding="utf-8") as f:
            f.write(f"seed: {seed}\ndata:\n  out: {json.dumps(os.path.abspath(dataset))}\n")
    if curves:
        write_curves(os.path.join(run, "metrics.jsonl"))
    with open(os.path.join(run, "train_summary.json"), "w", encoding="utf-8") as f:
        json.dump({"fixture": "test/eval/make_run.py", "seed": seed}, f)


if __name__ == "__main__":
    args = sys.argv[1:]
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 1
    labels = args[args.index("--labels") + 1].split(",") if "--labels" in args else None
    main(args[0], args[1], seed, "--no-config" not in args, "--curves" in args, labels, "--record-dataset" in args)
