#!/usr/bin/env python3
"""Reference BERT checkpoints and vectors for recsys's model parity tests.

    generate [--out DIR]              write test/fixtures/reference/<name>/{config.json, model.safetensors, vectors.json}
    predict --model DIR --inputs F    load DIR with BertForSequenceClassification.from_pretrained, print logits/pooled JSON

Each fixture is a small random BERT saved with Hugging Face's own `save_pretrained`, with
initializer_range 0.2 and perturbed biases and LayerNorm weights so that logits vary from input to
input (at HF's default 0.02 a random BERT gives nearly constant logits and a wrong mask, GELU or
LayerNorm would still pass a 1e-4 check). `vectors.json` holds inputs (single rows, padded batches,
sentence pairs, a row at max length) and the logits / pooled output / last hidden state that
transformers computes for them in float32 with eager attention.

Setup (pinned versions in scripts/requirements-reference.txt, which scripts/requirements-dev.txt
includes; the wheels come from the local store that `pip config list` shows):
    bash scripts/setup-python.sh                     # makes .venv, as CI does
    .venv/bin/python scripts/make_reference.py generate
or by hand:
    python3 -m venv .venv-reference
    .venv-reference/bin/pip install --index-url <local simple index> -r scripts/requirements-reference.txt
Deterministic: same versions + same seeds = byte-identical files; test/model/reference-fresh.test.ts
regenerates them into a temp dir and compares with the committed ones (≈10 s) when a venv exists.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from transformers import BertConfig, BertForPreTraining, BertForSequenceClassification, BertModel

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "test" / "fixtures" / "reference"
MAX_TOTAL_BYTES = 5 * 1024 * 1024

# name: (architecture, config kwargs, save dtype, labels)
FIXTURES = {
    "cls-l2-h64": ("seqcls", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=2, intermediate_size=256,
                                  vocab_size=1000, max_position_embeddings=64), "float32",
                   ["apparel", "electronics", "home"]),
    "cls-l4-h128": ("seqcls", dict(num_hidden_layers=4, hidden_size=128, num_attention_heads=4, intermediate_size=256,
                                   vocab_size=400, max_position_embeddings=48), "float32", ["irrelevant", "relevant"]),
    "pretraining-l2-h32": ("pretraining", dict(num_hidden_layers=2, hidden_size=32, num_attention_heads=2,
                                               intermediate_size=64, vocab_size=300, max_position_embeddings=40),
                           "float32", None),
    "minilm-l2-h64": ("bare", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128,
                                   vocab_size=500, max_position_embeddings=48), "float32", None),
    "cls-gelu-new": ("seqcls", dict(num_hidden_layers=2, hidden_size=32, num_attention_heads=2, intermediate_size=128,
                                    vocab_size=300, max_position_embeddings=32, hidden_act="gelu_new"), "float32",
                     ["neg", "pos"]),
    "cls-relu": ("seqcls", dict(num_hidden_layers=1, hidden_size=32, num_attention_heads=2, intermediate_size=64,
                                vocab_size=200, max_position_embeddings=32, hidden_act="relu", layer_norm_eps=1e-5),
                 "float32", ["a", "b", "c", "d", "e"]),
    "cls-fp16": ("seqcls", dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128,
                                vocab_size=500, max_position_embeddings=32), "float16", ["w", "x", "y", "z"]),
    "cls-bf16": ("seqcls", dict(num_hidden_layers=1, hidden_size=32, num_attention_heads=2, intermediate_size=64,
                                vocab_size=200, max_position_embeddings=32), "bfloat16", ["no", "yes"]),
}

ARCH = {"seqcls": BertForSequenceClassification, "pretraining": BertForPreTraining, "bare": BertModel}


def perturb(model: torch.nn.Module, gen: torch.Generator) -> None:
    """Make biases and LayerNorm parameters non-trivial so every part of the graph shows in the output."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))


def make_cases(vocab: int, max_pos: int, rng: np.random.Generator) -> list[dict]:
    """Inputs: a single row, a padded batch of 4, sentence pairs, a batch at max length."""

    def ids(n: int) -> list[int]:
        return rng.integers(1, vocab, size=n).tolist()

    cases = []
    s = 9
    cases.append(dict(name="single", input_ids=[ids(s)], attention_mask=[[1] * s], token_type_ids=[[0] * s]))

    s, lengths = 16, [16, 12, 5, 1]
    rows, mask = [], []
    for i, n in enumerate(lengths):
        # row 2 keeps random ids in its padding: only the mask may hide them
        pad = ids(s - n) if i == 2 else [0] * (s - n)
        rows.append(ids(n) + pad)
        mask.append([1] * n + [0] * (s - n))
    cases.append(dict(name="batch4_padded", input_ids=rows, attention_mask=mask, token_type_ids=[[0] * s for _ in rows]))

    s = 14
    rows, mask, tt = [], [], []
    for a, b in [(5, 9), (7, 4), (3, 3)]:
        n = a + b
        rows.append(ids(n) + [0] * (s - n))
        mask.append([1] * n + [0] * (s - n))
        tt.append([0] * a + [1] * b + [0] * (s - n))
    cases.append(dict(name="pairs", input_ids=rows, attention_mask=mask, token_type_ids=tt))

    s = max_pos
    half = s // 2
    rows = [ids(s), ids(half) + [0] * (s - half)]
    mask = [[1] * s, [1] * half + [0] * (s - half)]
    tt = [[0] * half + [1] * (s - half), [0] * s]
    cases.append(dict(name="max_length", input_ids=rows, attention_mask=mask, token_type_ids=tt))
    return cases


def run(model: torch.nn.Module, arch: str, case: dict) -> dict:
    feeds = {k: torch.tensor(case[k], dtype=torch.long) for k in ("input_ids", "attention_mask", "token_type_ids")}
    with torch.no_grad():
        if arch == "seqcls":
            out = model(**feeds, output_hidden_states=True)
            hidden = out.hidden_states[-1]
            bert = model.bert
            pooled = bert.pooler(hidden)
            logits = out.logits
        elif arch == "pretraining":
            out = model.bert(**feeds)
            hidden, pooled, logits = out.last_hidden_state, out.pooler_output, None
        else:
            out = model(**feeds)
            hidden, pooled, logits = out.last_hidden_state, out.pooler_output, None
    res = {"pooled": pooled.tolist()}
    if logits is not None:
        res["logits"] = logits.tolist()
    if case["name"] == "single":
        res["last_hidden"] = hidden.tolist()
    return res


GRAD_PARAMS = [
    "classifier.weight", "classifier.bias", "bert.pooler.dense.bias",
    "bert.encoder.layer.0.attention.self.key.weight", "bert.encoder.layer.0.attention.self.query.bias",
    "bert.encoder.layer.1.intermediate.dense.bias", "bert.encoder.layer.0.output.LayerNorm.weight",
    "bert.embeddings.LayerNorm.weight", "bert.embeddings.token_type_embeddings.weight",
]


def reference_grads(model, case: dict, num_labels: int) -> dict:
    """Gradients of the mean cross-entropy (dropout off) for a few parameters, PyTorch layout."""
    feeds = {k: torch.tensor(case[k], dtype=torch.long) for k in ("input_ids", "attention_mask", "token_type_ids")}
    labels = [i % num_labels for i in range(len(case["input_ids"]))]
    model.zero_grad()
    out = model(**feeds, labels=torch.tensor(labels))
    out.loss.backward()
    named = dict(model.named_parameters())
    grads = {n: named[n].grad.tolist() for n in GRAD_PARAMS if n in named}
    model.zero_grad()
    return {"case": case["name"], "labels": labels, "loss": out.loss.item(), "params": grads}


def build(name: str, spec, out_dir: Path, seed: int) -> dict:
    arch, kwargs, dtype, labels = spec
    cfg_kwargs = dict(initializer_range=0.2, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, **kwargs)
    if labels is not None:
        cfg_kwargs.update(id2label={i: l for i, l in enumerate(labels)}, label2id={l: i for i, l in enumerate(labels)})
    config = BertConfig(**cfg_kwargs)
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = ARCH[arch](config).eval()
    gen = torch.Generator().manual_seed(seed + 1)
    perturb(model, gen)
    if dtype != "float32":
        # The reference is the rounded weights computed in float32: what recsys does after import.
        model = model.to(getattr(torch, dtype)).to(torch.float32)
    rng = np.random.default_rng(seed + 2)
    cases = make_cases(config.vocab_size, config.max_position_embeddings, rng)
    for case in cases:
        case.update(run(model, arch, case))

    grads = None
    if arch == "seqcls" and config.hidden_size <= 64:
        grads = reference_grads(model, next(c for c in cases if c["name"] == "batch4_padded"), len(labels))

    target = out_dir / name
    target.mkdir(parents=True, exist_ok=True)
    for old in target.iterdir():
        old.unlink()
    to_save = model.to(getattr(torch, dtype)) if dtype != "float32" else model
    to_save.save_pretrained(target)
    meta = {
        "name": name, "architecture": ARCH[arch].__name__, "saved_dtype": dtype, "seed": seed,
        "torch": torch.__version__, "transformers": __import__("transformers").__version__,
        "cases": cases,
    }
    if grads is not None:
        meta["grads"] = grads
    (target / "vectors.json").write_text(json.dumps(meta) + "\n")
    logit_std = [float(np.std(np.array(c["logits"]), axis=0).mean()) for c in cases if "logits" in c and len(c["logits"]) > 1]
    pooled_std = [float(np.std(np.array(c["pooled"]), axis=0).mean()) for c in cases if len(c["pooled"]) > 1]
    size = sum(f.stat().st_size for f in target.iterdir())
    print(f"{name}: {ARCH[arch].__name__} {dtype} {size / 1024:.0f} KiB; mean std across rows: "
          f"logits {np.mean(logit_std) if logit_std else float('nan'):.3f}, pooled {np.mean(pooled_std):.3f}")
    return {"bytes": size}


def generate(out_dir: Path) -> None:
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    total = 0
    for i, (name, spec) in enumerate(FIXTURES.items()):
        total += build(name, spec, out_dir, seed=1000 + 17 * i)["bytes"]
    print(f"total {total / 1024 / 1024:.2f} MiB")
    if total > MAX_TOTAL_BYTES:
        sys.exit(f"fixtures take {total} bytes, over the {MAX_TOTAL_BYTES} budget")


def predict(model_dir: str, inputs_file: str) -> None:
    """Load a directory recsys saved and print {logits, pooled} per case (used by the HF round-trip test)."""
    model = BertForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager").eval()
    cases = json.loads(Path(inputs_file).read_text())
    out = []
    for case in cases:
        out.append({"name": case.get("name"), **run(model, "seqcls", {**case, "name": None})})
    print(json.dumps({"id2label": {str(k): v for k, v in model.config.id2label.items()},
                      "problem_type": model.config.problem_type, "cases": out}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out", default=str(DEFAULT_OUT))
    p = sub.add_parser("predict")
    p.add_argument("--model", required=True)
    p.add_argument("--inputs", required=True)
    args = ap.parse_args()
    if args.cmd == "generate":
        generate(Path(args.out))
    else:
        predict(args.model, args.inputs)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
