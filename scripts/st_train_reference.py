"""Reference bi-encoder training run (task embedding): sentence-transformers on torch, replaying recsys's batches.

Run: .venv/bin/python scripts/st_train_reference.py MODEL_DIR DATASET_DIR BATCHES_JSONL OUT_JSON [options]
  --lr 3e-4 --weight-decay 0.01 --warmup 2 --total-steps 20 --clip 1.0 --scale 20 --symmetric --pooling mean

MODEL_DIR: the Hugging Face checkpoint recsys starts from; loaded as a SentenceTransformer made of a
Transformer module and a Pooling module (mean or cls).
DATASET_DIR: a `recsys prepare` dataset of task embedding; train.arrow holds the token ids of each
text (input_ids = anchor, positive_ids, negative_ids), read by row index.
BATCHES_JSONL: written by `recsys train --dump-batches`, so both sides see the same batches in order.

The loss is sentence-transformers' MultipleNegativesRankingLoss (symmetric: directions query_to_doc and
doc_to_query, averaged per direction). recsys also takes out of each softmax the candidates that are not
wrong for that anchor (another copy of its positive, or the positive of a row with the same anchor), which
sentence-transformers would count as negatives. So each step's loss here is that loss written in torch
with the same exclusions, and the script checks on every batch that the same torch code with no
exclusion equals sentence-transformers' own loss (1e-5 relative); it fails otherwise.
Dropout is off (eval mode); AdamW decays Linear weight matrices only, linear warmup + decay, clipping.
Writes every step's loss, how many scores were excluded, and the L2 norm of every parameter at the end.
"""
import argparse
import json
import sys
import warnings

import pyarrow.ipc as ipc
import torch
import torch.nn.functional as F
from reference_optim import add_optimizer_args, adamw_with_schedule

warnings.filterwarnings("ignore")
from sentence_transformers import SentenceTransformer  # noqa: E402
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss  # noqa: E402
from sentence_transformers.sentence_transformer.modules import Pooling, Transformer  # noqa: E402


def features(rows, pad_id=0):
    width = max(len(r) for r in rows)
    x = torch.full((len(rows), width), pad_id, dtype=torch.long)
    m = torch.zeros_like(x)
    for j, r in enumerate(rows):
        x[j, : len(r)] = torch.tensor(r)
        m[j, : len(r)] = 1
    return {"input_ids": x, "attention_mask": m, "token_type_ids": torch.zeros_like(x)}


def exclusions(anchors, positives, negatives):
    """Scores left out of the softmax: the same rule as recsys (src/train/mnrl.ts), on token ids."""
    b = len(anchors)
    fwd = torch.zeros((b, b + len(negatives)), dtype=torch.bool)
    bwd = torch.zeros((b, b), dtype=torch.bool)
    for i in range(b):
        for j in range(b):
            if i != j and (anchors[i] == anchors[j] or positives[i] == positives[j]):
                fwd[i, j] = True
                bwd[i, j] = True
        for k, n in enumerate(negatives):
            if n == positives[i]:
                fwd[i, b + k] = True
    return fwd, bwd


def torch_mnrl(a, p, n, fwd_mask, bwd_mask, scale, symmetric):
    """MNRL in plain torch: cross-entropy over scale * cosine, right answer on the diagonal."""
    a, p = F.normalize(a, dim=1), F.normalize(p, dim=1)
    cands = torch.cat([p, F.normalize(n, dim=1)]) if n is not None else p
    labels = torch.arange(a.size(0))
    fwd = F.cross_entropy((a @ cands.T * scale).masked_fill(fwd_mask, float("-inf")), labels)
    if not symmetric:
        return fwd
    bwd = F.cross_entropy((p @ a.T * scale).masked_fill(bwd_mask, float("-inf")), labels)
    return (fwd + bwd) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("dataset_dir")
    ap.add_argument("batches")
    ap.add_argument("out")
    add_optimizer_args(ap)
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--symmetric", action="store_true")
    ap.add_argument("--pooling", choices=["mean", "cls"], default="mean")
    a = ap.parse_args()

    torch.manual_seed(0)
    table = ipc.open_file(f"{a.dataset_dir}/train.arrow").read_all()
    anchor = table.column("input_ids").to_pylist()
    positive = table.column("positive_ids").to_pylist()
    negative = table.column("negative_ids").to_pylist()

    transformer = Transformer(a.model_dir)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode=a.pooling)
    model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    model.eval()  # dropout off; gradients flow as in training
    directions = ("query_to_doc", "doc_to_query") if a.symmetric else ("query_to_doc",)
    st_loss = MultipleNegativesRankingLoss(model, scale=a.scale, directions=directions, partition_mode="per_direction")

    opt, sched = adamw_with_schedule(model, a)

    embed = lambda rows: model(features(rows))["sentence_embedding"]  # noqa: E731
    losses, excluded = [], []
    for line in open(a.batches):
        micro = json.loads(line)["batches"]
        opt.zero_grad()
        total, masked = 0.0, 0
        for rows in micro:
            anchors = [anchor[i] for i in rows]
            positives = [positive[i] for i in rows]
            negatives = [negative[i] for i in rows if negative[i]]
            ea, ep = embed(anchors), embed(positives)
            en = embed(negatives) if negatives else None
            fwd, bwd = exclusions(anchors, positives, negatives)
            masked += int(fwd.sum())
            loss = torch_mnrl(ea, ep, en, fwd, bwd, a.scale, a.symmetric)
            with torch.no_grad():
                plain = torch_mnrl(ea, ep, en, torch.zeros_like(fwd), torch.zeros_like(bwd), a.scale, a.symmetric)
                cols = [ea, ep] + ([en] if en is not None and len(negatives) == len(rows) else [])
                if len(cols) == 3 or en is None:
                    st = st_loss.compute_loss_from_embeddings(cols, None)
                    if abs(st.item() - plain.item()) > 1e-5 * abs(st.item()):
                        sys.exit(f"torch MNRL {plain.item()} differs from sentence-transformers' {st.item()}")
            (loss / len(micro)).backward()
            total += loss.item() / len(micro)
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        sched.step()
        losses.append(total)
        excluded.append(masked)
    norms = {name: p.detach().norm().item() for name, p in transformer.auto_model.named_parameters()}
    json.dump({"losses": losses, "excluded": excluded, "norms": norms}, open(a.out, "w"))


if __name__ == "__main__":
    main()
