"""Hugging Face `tokenizers` peer of bench/prepare.ts: tokenize-only time for the same texts.

    python bench/prepare_hf.py TEXTS_JSON VOCAB_TXT [--dataset DIR] [--max-length 128]

Prints one JSON line: seconds for `encode_batch` over the whole list at once and in 10k chunks
(bench/prepare.ts takes the faster of the two, so the reference gets its best batching), and,
with --dataset, how many rows of a recsys dataset differ from Hugging Face's ids (should be 0).
"""

import argparse
import json
import os
import time

from tokenizers import BertWordPieceTokenizer


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("texts")
    p.add_argument("vocab")
    p.add_argument("--dataset")
    p.add_argument("--max-length", type=int, default=128)
    a = p.parse_args()
    texts = json.load(open(a.texts, encoding="utf-8"))
    tok = BertWordPieceTokenizer(a.vocab, lowercase=True)
    tok.enable_truncation(a.max_length)
    tok.encode_batch(texts[:2000])  # warm-up: thread pool and allocator
    whole = timed(lambda: tok.encode_batch(texts))
    chunked = timed(lambda: [tok.encode_batch(texts[i : i + 10000]) for i in range(0, len(texts), 10000)])
    out = {"whole_s": whole, "chunked_s": chunked, "threads": os.cpu_count()}
    if a.dataset:
        import pyarrow.ipc as ipc

        encs = tok.encode_batch(texts)
        checked = mismatched = 0
        for split in ("train", "validation", "test"):
            table = ipc.open_file(os.path.join(a.dataset, f"{split}.arrow")).read_all()
            for row, ids in zip(table.column("row").to_pylist(), table.column("input_ids").to_pylist()):
                checked += 1
                mismatched += ids != encs[row - 1].ids
        out.update(checked=checked, mismatched=mismatched)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
