"""The optimiser every training reference script shares: torch AdamW with recsys's parameter groups
(weight decay on the linear layers' weights only, not on LayerNorm, biases or embeddings) and HF's linear
schedule with warmup; plus the command-line options that set them. Imported by train_reference.py,
pretrain_reference.py and st_train_reference.py (run from this directory, as the tests do)."""

import torch
from transformers import get_linear_schedule_with_warmup


def add_optimizer_args(ap):
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--total-steps", type=int, required=True)
    ap.add_argument("--clip", type=float, default=1.0)


def adamw_with_schedule(model, a):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        is_linear_weight = name.endswith(".weight") and "LayerNorm" not in name and "embeddings" not in name
        (decay if is_linear_weight else no_decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": a.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=a.lr, betas=(0.9, 0.999), eps=1e-8,
    )
    return opt, get_linear_schedule_with_warmup(opt, a.warmup, a.total_steps)
