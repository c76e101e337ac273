"""Reference training run for recsys's trainer: Hugging Face BERT on torch, replaying recsys's batches.

Run: .venv/bin/python scripts/train_reference.py MODEL_DIR DATASET_DIR BATCHES_JSONL OUT_JSON [options]
  --lr 3e-4 --weight-decay 0.01 --warmup 2 --total-steps 20 --clip 1.0 --class-weights w0,w1,...
  --pos-weight w0,w1,... (multi-label)

MODEL_DIR: a save_pretrained BertForSequenceClassification (the same one recsys starts from).
DATASET_DIR: a `recsys prepare` dataset; rows are read from train.arrow by index.
BATCHES_JSONL: written by `recsys train --dump-batches`: one line per optimizer step with the row
indices of each micro-batch, so both sides see the same batches in the same order.
The loss is the model's own (BertForSequenceClassification picks it from config.problem_type:
cross-entropy, MSE for regression, BCE-with-logits for multi-label, the targets then read from the
shard's `targets` column), or CrossEntropyLoss(weight) / BCEWithLogitsLoss(pos_weight) when given.
Dropout is off (model.eval()); AdamW decays Linear weight matrices only (not biases, LayerNorm or
embeddings), as recsys does; linear warmup + decay; clip_grad_norm_. Writes the loss of every step
and the L2 norm of every parameter at the end.
"""
import argparse
import json

import pyarrow.ipc as ipc
import torch
from reference_optim import add_optimizer_args, adamw_with_schedule
from transformers import BertForSequenceClassification


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("dataset_dir")
    ap.add_argument("batches")
    ap.add_argument("out")
    add_optimizer_args(ap)
    ap.add_argument("--class-weights", default=None)
    ap.add_argument("--pos-weight", default=None)
    a = ap.parse_args()

    torch.manual_seed(0)
    table = ipc.open_file(f"{a.dataset_dir}/train.arrow").read_all()
    ids = table.column("input_ids").to_pylist()
    types = table.column("token_type_ids").to_pylist()
    labels = table.column("label").to_pylist()
    targets = table.column("targets").to_pylist() if "targets" in table.column_names else None

    model = BertForSequenceClassification.from_pretrained(a.model_dir)
    model.eval()  # dropout off; gradients flow as in training
    opt, sched = adamw_with_schedule(model, a)
    weight = torch.tensor([float(x) for x in a.class_weights.split(",")]) if a.class_weights else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight) if weight is not None else None
    if a.pos_weight:
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([float(x) for x in a.pos_weight.split(",")]))
    problem = model.config.problem_type or "single_label_classification"

    losses = []
    for line in open(a.batches):
        step = json.loads(line)
        micro = step["batches"]
        opt.zero_grad()
        total = 0.0
        for rows in micro:
            width = max(len(ids[i]) for i in rows)
            x = torch.zeros((len(rows), width), dtype=torch.long)
            m = torch.zeros_like(x)
            t = torch.zeros_like(x)
            for j, i in enumerate(rows):
                n = len(ids[i])
                x[j, :n] = torch.tensor(ids[i])
                t[j, :n] = torch.tensor(types[i])
                m[j, :n] = 1
            if problem == "single_label_classification":
                y = torch.tensor([labels[i] for i in rows])
            else:
                y = torch.tensor([targets[i] for i in rows], dtype=torch.float32)
            out = model(input_ids=x, attention_mask=m, token_type_ids=t, labels=None if loss_fn else y)
            loss = (loss_fn(out.logits, y) if loss_fn else out.loss) / len(micro)
            loss.backward()
            total += loss.item()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        sched.step()
        losses.append(total)
    norms = {name: p.detach().norm().item() for name, p in model.named_parameters()}
    json.dump({"losses": losses, "norms": norms}, open(a.out, "w"))


if __name__ == "__main__":
    main()
