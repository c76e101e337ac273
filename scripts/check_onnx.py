#!/usr/bin/env python3
"""Structural and runtime check of recsys ONNX exports with the reference onnx/onnxruntime packages.

    check_onnx.py MODEL.onnx [MODEL.onnx ...]

For each file: onnx.checker.check_model(path, full_check=True) (the path form follows external
data), strict type-checked shape inference, IR ≤ 8 and opset ≤ 17 (what Debian's python3-onnx 1.12
accepts), and one run in Python onnxruntime on a padded batch. Prints one JSON line per file.
Setup: bash scripts/setup-python.sh (adds onnx and onnxruntime to .venv).
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import shape_inference


def check(path: str) -> dict:
    onnx.checker.check_model(path, full_check=True)
    m = onnx.load(path)
    shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    assert m.ir_version <= 8 and opset <= 17, (m.ir_version, opset)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ids = np.array([[101, 7, 8, 102, 0], [101, 9, 102, 0, 0]], dtype=np.int64)
    mask = (ids != 0).astype(np.int64)
    # A classifier's output is logits; a bi-encoder's first output is sentence_embedding.
    first = sess.get_outputs()[0].name
    logits = sess.run([first], {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    return {
        "file": path, "ir_version": m.ir_version, "opset": opset, "onnx": onnx.__version__, "onnxruntime": ort.__version__,
        "inputs": [[i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]] for i in m.graph.input],
        "outputs": [[o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]] for o in m.graph.output],
        "metadata": sorted(p.key for p in m.metadata_props), "logits_shape": list(logits.shape),
        "finite": bool(np.isfinite(logits).all()),
    }


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        print(json.dumps(check(p)))
