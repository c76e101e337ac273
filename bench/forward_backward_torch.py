#!/usr/bin/env python3
"""One training step of a random BERT in PyTorch, for bench/forward-backward.ts to compare against.

HF BertForSequenceClassification (eager attention, dropout on) + torch.optim.AdamW, on random
token ids with a fixed seed. Prints one JSON line: {"ms_per_step", "samples_per_s", ...}.

    python bench/forward_backward_torch.py --model tiny --batch 32 --seq 128 --steps 5 --warmup 1
Needs the reference venv (scripts/requirements-reference.txt).
"""
from __future__ import annotations

import argparse
import json
import time

import torch
from transformers import BertConfig, BertForSequenceClassification

MODELS = {
    "tiny": dict(num_hidden_layers=2, hidden_size=128, num_attention_heads=2, intermediate_size=512),
    "mini": dict(num_hidden_layers=4, hidden_size=256, num_attention_heads=4, intermediate_size=1024),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(MODELS), required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--vocab", type=int, default=30522)
    ap.add_argument("--labels", type=int, default=3)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch's default)")
    args = ap.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=args.vocab, max_position_embeddings=512, num_labels=args.labels, **MODELS[args.model])
    config._attn_implementation = "eager"
    model = BertForSequenceClassification(config).train()
    # weight decay on Linear kernels only, as recsys's AdamW (src/train/adamw.ts)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and "embeddings" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() == 2 and "embeddings" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=1e-4)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, args.vocab, (args.batch, args.seq), generator=g)
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    labels = torch.randint(0, args.labels, (args.batch,), generator=g)

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        loss = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels).loss
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    times = []
    started = time.perf_counter()
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - started > args.max_seconds:
            break
    ms = 1000 * sorted(times)[len(times) // 2]
    print(json.dumps({
        "runtime": "torch", "model": args.model, "ms_per_step": ms, "samples_per_s": args.batch / (ms / 1000),
        "steps": len(times), "threads": torch.get_num_threads(), "torch": torch.__version__,
        "params": sum(p.numel() for p in model.parameters()),
    }))


if __name__ == "__main__":
    main()
