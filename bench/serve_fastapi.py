"""The reference service for bench/serve.ts: a recsys ONNX export behind FastAPI + uvicorn +
onnxruntime, written the way users write one -- a plain per-request handler (a sync `def`, run in
uvicorn's thread pool), the export's tokenizer.json through Hugging Face `tokenizers`, one
onnxruntime session, no batching and no cache. Same endpoint and answer shape as `recsys serve`.

    .venv/bin/python bench/serve_fastapi.py --export EXPORT_DIR [--port 8090] [--host 127.0.0.1]
"""

import argparse
import json
import os

import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from tokenizers import Tokenizer

parser = argparse.ArgumentParser()
parser.add_argument("--export", required=True)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8090)
args = parser.parse_args()

with open(os.path.join(args.export, "manifest.json")) as f:
    manifest = json.load(f)
with open(os.path.join(args.export, "config.json")) as f:
    config = json.load(f)
labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
tokenizer = Tokenizer.from_file(os.path.join(args.export, "tokenizer.json"))
tokenizer.enable_truncation(max_length=manifest["max_length"])
tokenizer.enable_padding(pad_id=manifest["tokenizer"].get("special_ids", {}).get("pad", 0))
session = ort.InferenceSession(os.path.join(args.export, "onnx", "model.onnx"), providers=["CPUExecutionProvider"])

app = FastAPI()


class ClassifyRequest(BaseModel):
    inputs: list[str]


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/v1/models/{name}/classify")
def classify(name: str, body: ClassifyRequest):
    if not body.inputs:
        raise HTTPException(400, "inputs: empty")
    enc = tokenizer.encode_batch(body.inputs)
    feeds = {
        "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
    }
    logits = session.run(["logits"], feeds)[0]
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = exp / exp.sum(axis=1, keepdims=True)
    best = probs.argmax(axis=1)
    return {
        "model": name,
        "results": [{"label": labels[int(b)], "score": float(p[b])} for b, p in zip(best, probs)],
    }


if __name__ == "__main__":
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
