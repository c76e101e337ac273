"""A small random BertForSequenceClassification for tests: varied init so a wrong op cannot hide.

Run: .venv/bin/python scripts/make_small_checkpoint.py OUT_DIR --labels a,b,c [--vocab VOCAB_TXT]
     [--hidden 64 --layers 2 --heads 4 --intermediate 128 --seed 3 --init-range 0.2]
With --vocab, the checkpoint gets that vocabulary's size and BertTokenizerFast files.
"""
import argparse

import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--labels", required=True)
    ap.add_argument("--vocab")
    ap.add_argument("--vocab-size", type=int, default=30522)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=128)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--init-range", type=float, default=0.2)
    ap.add_argument("--problem-type", default=None,
                    choices=["single_label_classification", "multi_label_classification", "regression"])
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    labels = a.labels.split(",")
    vocab_size = a.vocab_size
    if a.vocab:
        vocab_size = sum(1 for _ in open(a.vocab, encoding="utf-8"))
    config = BertConfig(
        vocab_size=vocab_size, hidden_size=a.hidden, num_hidden_layers=a.layers, num_attention_heads=a.heads,
        intermediate_size=a.intermediate, max_position_embeddings=128, initializer_range=a.init_range,
        num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)},
        problem_type=a.problem_type,
    )
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(a.out)
    if a.vocab:
        BertTokenizerFast(vocab_file=a.vocab, do_lower_case=True, model_max_length=128).save_pretrained(a.out)


if __name__ == "__main__":
    main()
