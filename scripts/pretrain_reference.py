"""Reference masked-LM pretraining for recsys's `pretrain`: Hugging Face BertForMaskedLM on torch,
replaying recsys's batches and masks.

Make a small random checkpoint (varied init, so a wrong op cannot hide):
  .venv/bin/python scripts/pretrain_reference.py make OUT_DIR [--arch BertForMaskedLM|BertForPreTraining]
      [--vocab-size 30522 --hidden 64 --layers 2 --heads 4 --intermediate 128 --seed 3 --init-range 0.2]
Replay a run:
  .venv/bin/python scripts/pretrain_reference.py train MODEL_DIR BATCHES_JSONL OUT_JSON [options]
      --lr 3e-4 --weight-decay 0.01 --warmup 2 --total-steps 20 --clip 1.0 --pad-id 0

BATCHES_JSONL is written by `recsys pretrain --dump-batches FILE` (one line per optimizer step, with
its micro-batches); FILE.masks.jsonl holds each micro-batch's masked inputs and (positions, original
tokens), so both sides see the same masks. Dropout is off (model.eval()); AdamW decays Linear weight
matrices only (not biases, LayerNorm or embeddings), as recsys does; linear warmup + decay;
clip_grad_norm_. Writes the loss of every step and the L2 norm of every parameter at the end.
"""
import argparse
import json

import torch
from reference_optim import add_optimizer_args, adamw_with_schedule
from transformers import BertConfig, BertForMaskedLM, BertForPreTraining


def make(a):
    torch.manual_seed(a.seed)
    config = BertConfig(
        vocab_size=a.vocab_size, hidden_size=a.hidden, num_hidden_layers=a.layers, num_attention_heads=a.heads,
        intermediate_size=a.intermediate, max_position_embeddings=128, initializer_range=a.init_range,
    )
    model = {"BertForMaskedLM": BertForMaskedLM, "BertForPreTraining": BertForPreTraining}[a.arch](config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(a.out)


def train(a):
    torch.manual_seed(0)
    model = BertForMaskedLM.from_pretrained(a.model_dir)
    model.eval()  # dropout off; gradients flow as in training
    opt, sched = adamw_with_schedule(model, a)
    masks = [json.loads(line) for line in open(f"{a.batches}.masks.jsonl")]
    used = 0
    losses = []
    for line in open(a.batches):
        micro = json.loads(line)["batches"]
        opt.zero_grad()
        total = 0.0
        for _ in micro:
            m = masks[used]
            used += 1
            width = max(len(r) for r in m["inputs"])
            x = torch.full((len(m["inputs"]), width), a.pad_id, dtype=torch.long)
            att = torch.zeros_like(x)
            labels = torch.full_like(x, -100)
            for j, (row, (positions, originals)) in enumerate(zip(m["inputs"], m["targets"])):
                x[j, : len(row)] = torch.tensor(row)
                att[j, : len(row)] = 1
                for p, t in zip(positions, originals):
                    labels[j, p] = t
            out = model(input_ids=x, attention_mask=att, token_type_ids=torch.zeros_like(x), labels=labels)
            loss = out.loss / len(micro)
            loss.backward()
            total += loss.item()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        sched.step()
        losses.append(total)
    norms = {name: p.detach().norm().item() for name, p in model.named_parameters()}
    json.dump({"losses": losses, "norms": norms}, open(a.out, "w"))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make")
    mk.add_argument("out")
    mk.add_argument("--arch", default="BertForMaskedLM", choices=["BertForMaskedLM", "BertForPreTraining"])
    mk.add_argument("--vocab-size", type=int, default=30522)
    mk.add_argument("--hidden", type=int, default=64)
    mk.add_argument("--layers", type=int, default=2)
    mk.add_argument("--heads", type=int, default=4)
    mk.add_argument("--intermediate", type=int, default=128)
    mk.add_argument("--seed", type=int, default=3)
    mk.add_argument("--init-range", type=float, default=0.2)
    tr = sub.add_parser("train")
    tr.add_argument("model_dir")
    tr.add_argument("batches")
    tr.add_argument("out")
    add_optimizer_args(tr)
    tr.add_argument("--pad-id", type=int, default=0)
    a = ap.parse_args()
    make(a) if a.cmd == "make" else train(a)


if __name__ == "__main__":
    main()
