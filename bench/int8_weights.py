"""How each 8-bit weight layout of `recsys export --quantize int8` moves the logits on this CPU.

onnxruntime picks its integer kernels by CPU: with AVX-512 VNNI (or AVX-VNNI) uint8 x int8 products
are summed in 32 bits; on AVX2 (and AVX-512 without VNNI) pairs of them are summed in saturating
16-bit lanes first, so full-range int8 weights can overflow. This script takes an export dir, rebuilds
the quantized model's weights in each layout from the float model's, runs both on random token rows in
onnxruntime, and prints max |logit difference| and argmax agreement with the float model per layout.

Run: .venv/bin/python bench/int8_weights.py EXPORT_DIR [--rows 256]
To see an AVX2 CPU's kernels on a newer one: qemu-x86_64 -cpu EPYC-Rome .venv/bin/python bench/int8_weights.py ...
(qemu-user 7.2+ emulates AVX2, not AVX-512.)
"""

import argparse
import json

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

LAYOUTS = {
    # name: (largest |code|, per output column?, stored as uint8 around 128?)
    "int8 per-column (full range)": (127, True, False),
    "int8 per-tensor": (127, False, False),
    "int7 per-column (reduce_range)": (63, True, False),
    "uint8 per-column, zero point 128 (recsys)": (127, True, True),
}


def quantize(w, qmax, per_column, unsigned):
    amax = np.abs(w).max(axis=0) if per_column else np.full(w.shape[1], np.abs(w).max())
    scale = np.where(amax > 0, amax / qmax, 1).astype(np.float32)
    q = np.clip(np.round(w / scale), -qmax, qmax)
    if unsigned:
        return (q + 128).astype(np.uint8), scale, np.full(w.shape[1], 128, np.uint8)
    return q.astype(np.int8), scale, np.zeros(w.shape[1], np.int8)


def layout_model(float_model, quantized_model, layout):
    floats = {t.name: numpy_helper.to_array(t) for t in float_model.graph.initializer}
    m = onnx.ModelProto()
    m.CopyFrom(quantized_model)
    index = {t.name: i for i, t in enumerate(m.graph.initializer)}
    for name in [n for n in index if n.endswith("_quantized")]:
        w = name[: -len("_quantized")]
        for suffix, arr in zip(("_quantized", "_scale", "_zero_point"), quantize(floats[w], *layout)):
            m.graph.initializer[index[w + suffix]].CopyFrom(numpy_helper.from_array(arr, w + suffix))
    return m.SerializeToString()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("export_dir")
    ap.add_argument("--rows", type=int, default=256)
    ap.add_argument("--seq", type=int, default=32)
    a = ap.parse_args()
    float_model = onnx.load(f"{a.export_dir}/onnx/model.onnx")
    quantized_model = onnx.load(f"{a.export_dir}/onnx/model_quantized.onnx")
    vocab = numpy_helper.to_array(
        next(t for t in float_model.graph.initializer if t.name.endswith("word_embeddings.weight"))
    ).shape[0]
    rng = np.random.default_rng(0)
    ids = rng.integers(1000 if vocab > 2000 else 0, vocab, (a.rows, a.seq)).astype(np.int64)
    mask = np.ones_like(ids)
    for r in range(a.rows):
        mask[r, rng.integers(3, a.seq + 1) :] = 0
    feeds = {"input_ids": ids * mask, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    run = lambda m: ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(["logits"], feeds)[0]
    ref = run(float_model.SerializeToString())
    report = {}
    for name, layout in LAYOUTS.items():
        got = run(layout_model(float_model, quantized_model, layout))
        report[name] = {
            "max_abs_diff": float(np.abs(got - ref).max()),
            "argmax_agreement": float((got.argmax(1) == ref.argmax(1)).mean()),
        }
    print(json.dumps({"rows": a.rows, "max_abs_logit": float(np.abs(ref).max()), "layouts": report}, indent=1))


if __name__ == "__main__":
    main()
