#!/usr/bin/env python3
"""Conformance check of a recsys SavedModel export in real TensorFlow (2.21 from the local wheel store).

    check_savedmodel.py SAVEDMODEL_DIR CASES_JSON [SAVEDMODEL_DIR CASES_JSON ...]

CASES_JSON: [{"name", "input_ids", "attention_mask", "token_type_ids", "logits"}] where "logits" are
the training runtime's (recsys tfjs) logits for those inputs. For each case the SavedModel is run
through three loaders that ship with TensorFlow:

  tf2     tf.saved_model.load(dir).signatures["serving_default"](**feeds)["logits"]
  tf1     tf.compat.v1.saved_model.loader.load(sess, ["serve"], dir) + sess.run("logits:0")
  capi    TF_LoadSessionFromSavedModel through ctypes on libtensorflow_cc (the C++ loader TF Serving uses)

and prints one JSON line per directory: {"dir", "tensorflow", "signature", "variables", "results": [{"loader", "case", "max_abs_diff"}]}.
Setup: bash scripts/setup-python.sh (adds tensorflow-cpu==2.21.0 to .venv).
"""
from __future__ import annotations

import ctypes
import glob
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def feeds_of(case):
    return {k: np.asarray(case[k], dtype=np.int32) for k in ("input_ids", "attention_mask", "token_type_ids")}


def run_tf2(d, cases):
    fn = tf.saved_model.load(d).signatures["serving_default"]
    sig = {
        "inputs": {k: [v.dtype.name, v.shape.as_list()] for k, v in fn.structured_input_signature[1].items()},
        "outputs": {k: [v.dtype.name, v.shape.as_list()] for k, v in fn.structured_outputs.items()},
    }
    out = []
    for c in cases:
        got = fn(**{k: tf.constant(v) for k, v in feeds_of(c).items()})["logits"].numpy()
        out.append(("tf2", c["name"], got))
    return sig, out


def run_tf1(d, cases):
    out = []
    with tf.compat.v1.Session(graph=tf.Graph()) as sess:
        tf.compat.v1.saved_model.loader.load(sess, ["serve"], d)
        for c in cases:
            f = feeds_of(c)
            got = sess.run("logits:0", {f"{k}:0": v for k, v in f.items()})
            out.append(("tf1", c["name"], got))
    return out


class _Output(ctypes.Structure):
    _fields_ = [("oper", ctypes.c_void_p), ("index", ctypes.c_int)]


def run_capi(d, cases):
    libdir = os.path.dirname(tf.__file__)
    cands = sorted(glob.glob(os.path.join(libdir, "libtensorflow_cc.so*")))
    if not cands:
        return []
    ctypes.CDLL(sorted(glob.glob(os.path.join(libdir, "libtensorflow_framework.so*")))[0], mode=ctypes.RTLD_GLOBAL)
    lib = ctypes.CDLL(cands[0], mode=ctypes.RTLD_GLOBAL)
    vp, i64 = ctypes.c_void_p, ctypes.c_int64
    for name, res, args in [
        ("TF_NewStatus", vp, []), ("TF_GetCode", ctypes.c_int, [vp]), ("TF_Message", ctypes.c_char_p, [vp]),
        ("TF_NewGraph", vp, []), ("TF_NewSessionOptions", vp, []),
        ("TF_LoadSessionFromSavedModel", vp, [vp, vp, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, vp, vp, vp]),
        ("TF_GraphOperationByName", vp, [vp, ctypes.c_char_p]),
        ("TF_AllocateTensor", vp, [ctypes.c_int, ctypes.POINTER(i64), ctypes.c_int, ctypes.c_size_t]),
        ("TF_TensorData", vp, [vp]), ("TF_TensorByteSize", ctypes.c_size_t, [vp]), ("TF_DeleteTensor", None, [vp]),
        ("TF_SessionRun", None, [vp, vp, ctypes.POINTER(_Output), ctypes.POINTER(vp), ctypes.c_int, ctypes.POINTER(_Output),
                                 ctypes.POINTER(vp), ctypes.c_int, vp, ctypes.c_int, vp, vp]),
        ("TF_CloseSession", None, [vp, vp]), ("TF_DeleteSession", None, [vp, vp]),
    ]:
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    status, graph = lib.TF_NewStatus(), lib.TF_NewGraph()
    tags = (ctypes.c_char_p * 1)(b"serve")
    sess = lib.TF_LoadSessionFromSavedModel(lib.TF_NewSessionOptions(), None, d.encode(), tags, 1, graph, None, status)
    if lib.TF_GetCode(status) != 0:
        raise RuntimeError("TF_LoadSessionFromSavedModel: " + lib.TF_Message(status).decode())
    out = []
    names = ("input_ids", "attention_mask", "token_type_ids")
    for c in cases:
        f = feeds_of(c)
        ins = (_Output * 3)(*[_Output(lib.TF_GraphOperationByName(graph, n.encode()), 0) for n in names])
        tensors = []
        for n in names:
            a = np.ascontiguousarray(f[n])
            dims = (i64 * 2)(*a.shape)
            t = lib.TF_AllocateTensor(3, dims, 2, a.nbytes)  # TF_INT32
            ctypes.memmove(lib.TF_TensorData(t), a.ctypes.data, a.nbytes)
            tensors.append(t)
        in_vals = (vp * 3)(*tensors)
        outs = (_Output * 1)(_Output(lib.TF_GraphOperationByName(graph, b"logits"), 0))
        out_vals = (vp * 1)()
        lib.TF_SessionRun(sess, None, ins, in_vals, 3, outs, out_vals, 1, None, 0, None, status)
        if lib.TF_GetCode(status) != 0:
            raise RuntimeError("TF_SessionRun: " + lib.TF_Message(status).decode())
        n = lib.TF_TensorByteSize(out_vals[0]) // 4
        got = np.ctypeslib.as_array(ctypes.cast(lib.TF_TensorData(out_vals[0]), ctypes.POINTER(ctypes.c_float)), shape=(n,)).copy()
        out.append(("capi", c["name"], got.reshape(len(c["input_ids"]), -1)))
        for t in tensors + [out_vals[0]]:
            lib.TF_DeleteTensor(t)
    lib.TF_CloseSession(sess, status)
    lib.TF_DeleteSession(sess, status)
    return out


def check(d: str, cases_file: str) -> None:
    cases = json.load(open(cases_file))
    sig, results = run_tf2(d, cases)
    results += run_tf1(d, cases)
    results += run_capi(d, cases)
    ref = {c["name"]: np.asarray(c["logits"], dtype=np.float32) for c in cases}
    print(json.dumps({
        "dir": d,
        "tensorflow": tf.__version__,
        "signature": sig,
        "variables": [[n, s] for n, s in tf.train.list_variables(os.path.join(d, "variables", "variables"))],
        "results": [{"loader": l, "case": n, "shape": list(g.shape), "max_abs_diff": float(np.abs(g - ref[n]).max())} for l, n, g in results],
    }))


def main() -> None:
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    for i in range(0, len(args), 2):
        check(args[i], args[i + 1])


if __name__ == "__main__":
    main()
