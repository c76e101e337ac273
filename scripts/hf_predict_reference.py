"""End-to-end reference for `recsys predict --model HF_DIR`: Hugging Face tokenizer + model on raw text.

Run: .venv/bin/python scripts/hf_predict_reference.py MODEL_DIR VOCAB_TXT INPUT_JSONL OUT_JSON [--pair]
Creates MODEL_DIR (a seeded random BertForSequenceClassification with a varied init, saved with
save_pretrained, plus its BertTokenizerFast files), then writes the logits HF computes for each
input row's text (and pair) with truncation at max_length 48.
"""
import json
import sys

import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast


def main(model_dir, vocab, input_jsonl, out_json, pair):
    torch.manual_seed(3)
    config = BertConfig(
        vocab_size=30522, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        max_position_embeddings=128, initializer_range=0.2, num_labels=3,
        id2label={0: "negative", 1: "neutral", 2: "positive"}, label2id={"negative": 0, "neutral": 1, "positive": 2},
    )
    model = BertForSequenceClassification(config).eval()
    with torch.no_grad():  # biases and LayerNorm weights away from 0/1, so a wrong op cannot hide
        for name, p in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(model_dir)
    tok = BertTokenizerFast(vocab_file=vocab, do_lower_case=True, model_max_length=48)
    tok.save_pretrained(model_dir)
    rows = [json.loads(l) for l in open(input_jsonl, encoding="utf-8") if l.strip()]
    out = []
    for r in rows:
        if not r.get("text", "").strip() or (pair and not r.get("title", "").strip()):
            out.append(None)
            continue
        enc = tok(r["text"], r["title"] if pair else None, truncation=True, max_length=48, return_tensors="pt")
        with torch.no_grad():
            out.append(model(**enc).logits[0].tolist())
    json.dump(out, open(out_json, "w"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], "--pair" in sys.argv[5:])
