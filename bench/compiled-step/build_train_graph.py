"""Spike: one BERT training step (forward with dropout, loss, gradients, global-norm clipping, AdamW on
resource variables) as a single TensorFlow graph, saved as a SavedModel whose `train` signature runs
the whole step per session call. Mirrors src/model/bert.ts op for op (fused QKV matmul, 2-D hidden
states, BiasAdd, erf GELU, Philox dropout masks from seeds fed per step) and src/train/adamw.ts
(ResourceApplyAdam + ResourceApplyGradientDescent for the decoupled decay).

    .venv/bin/python bench/compiled-step/build_train_graph.py OUT_DIR [--layers 2 --hidden 128 ...]
"""

import argparse
import math

import tensorflow as tf

v1 = tf.compat.v1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    for k, d in [("layers", 2), ("hidden", 128), ("heads", 2), ("inter", 512), ("vocab", 30522), ("labels", 3),
                 ("batch", 32), ("seq", 128), ("positions", 512), ("types", 2)]:
        ap.add_argument(f"--{k}", type=int, default=d)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--forward-graphdef", help="also write the graph up to the loss (GraphDef) for grad_probe.c")
    ap.add_argument("--init", help="safetensors file with the initial parameters (recsys layout)")
    a = ap.parse_args()
    INIT.update(read_safetensors(a.init) if a.init else {})
    v1.disable_eager_execution()
    v1.disable_control_flow_v2()
    g = tf.Graph()
    with g.as_default():
        build(a)
        with v1.Session(graph=g) as sess:
            sess.run(v1.global_variables_initializer())
            b = v1.saved_model.Builder(a.out)
            ins = {k: g.get_tensor_by_name(f"{k}:0") for k in INPUTS}
            outs = {"loss": g.get_tensor_by_name("loss:0"), "grad_norm": g.get_tensor_by_name("grad_norm:0")}
            sig = v1.saved_model.signature_def_utils.predict_signature_def(ins, outs)
            b.add_meta_graph_and_variables(sess, ["serve"], signature_def_map={"train": sig}, strip_default_attrs=True)
            b.save()


INIT: dict = {}


def read_safetensors(path: str) -> dict:
    import json

    import numpy as np

    data = open(path, "rb").read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        lo, hi = e["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + lo : 8 + n + hi], dtype=np.float32).reshape(e["shape"])
    return out


INPUTS = ["input_ids", "attention_mask", "token_type_ids", "labels", "seeds", "lr", "beta1_power", "beta2_power",
          "eps_hat", "decay", "clip_norm"]


def build(a) -> None:
    B, S, H, A, I = a.batch, a.seq, a.hidden, a.heads, a.inter
    D, N = H // A, a.batch * a.seq
    n_drop = 1 + a.layers * 3 + 1  # embeddings; per layer probs, attention out, ffn out; classifier
    ph = v1.placeholder
    ids = ph(tf.int32, [B, S], "input_ids")
    mask = ph(tf.int32, [B, S], "attention_mask")
    types = ph(tf.int32, [B, S], "token_type_ids")
    labels = ph(tf.int32, [B], "labels")
    seeds = ph(tf.int32, [n_drop, 2], "seeds")
    lr, b1p, b2p, eps_hat, decay, clip = (ph(tf.float32, [], n) for n in INPUTS[5:])

    params: dict[str, tf.Variable] = {}
    decayed: set[str] = set()

    def var(name, shape, kind):
        if name in INIT:
            init = tf.constant(INIT[name])
        elif kind in ("bias", "norm"):
            init = (tf.zeros if kind == "bias" else tf.ones)(shape)
        else:
            init = tf.random.truncated_normal(shape, stddev=0.02)
        params[name] = v1.Variable(init, name=name.replace(".", "/"), use_resource=True)
        if kind == "linear":
            decayed.add(name)
        return params[name].read_value()

    drop_i = [0]

    def drop(x, rate):
        i = drop_i[0]
        drop_i[0] += 1
        u = tf.raw_ops.StatelessRandomUniform(shape=tf.shape(x), seed=seeds[i], dtype=tf.float32)
        keep = 1 - rate
        return x * (tf.floor(u + keep) / keep)

    def dense(prefix, x, n_in, n_out):
        w = var(f"{prefix}.weight", [n_in, n_out], "linear")
        b = var(f"{prefix}.bias", [n_out], "bias")
        return tf.nn.bias_add(tf.matmul(x, w), b)

    def norm(prefix, x, eps=1e-12):
        gm = var(f"{prefix}.weight", [H], "norm")
        bt = var(f"{prefix}.bias", [H], "bias")
        c = x - tf.reduce_mean(x, -1, keepdims=True)
        r = tf.math.rsqrt(tf.reduce_mean(tf.square(c), -1, keepdims=True) + eps)
        return c * r * gm + bt

    we = var("bert.embeddings.word_embeddings.weight", [a.vocab, H], "embedding")
    pe = var("bert.embeddings.position_embeddings.weight", [a.positions, H], "embedding")
    te = var("bert.embeddings.token_type_embeddings.weight", [a.types, H], "embedding")
    words = tf.gather(we, tf.reshape(ids, [-1]))
    typ = tf.gather(te, tf.reshape(types, [-1]))
    emb = tf.reshape(tf.reshape(words + typ, [B, S, H]) + pe[:S], [N, H])
    x = drop(norm("bert.embeddings.LayerNorm", emb), a.dropout)
    mask_add = tf.reshape((1 - tf.cast(mask, tf.float32)) * -3.4028234663852886e38, [B, 1, 1, S])
    for l in range(a.layers):
        p = f"bert.encoder.layer.{l}"
        ws = [var(f"{p}.attention.self.{n}.weight", [H, H], "linear") for n in ("query", "key", "value")]
        bs = [var(f"{p}.attention.self.{n}.bias", [H], "bias") for n in ("query", "key", "value")]
        qkv = tf.nn.bias_add(tf.matmul(x, tf.concat(ws, 1)), tf.concat(bs, 0))
        qkv = tf.transpose(tf.reshape(qkv, [B, S, 3, A, D]), [2, 0, 3, 1, 4])
        q, k, v = tf.unstack(qkv)
        scores = tf.matmul(q, k, transpose_b=True) * (1 / math.sqrt(D)) + mask_add
        probs = drop(tf.nn.softmax(scores, -1), a.dropout)
        ctx = tf.reshape(tf.transpose(tf.matmul(probs, v), [0, 2, 1, 3]), [N, H])
        attn = drop(dense(f"{p}.attention.output.dense", ctx, H, H), a.dropout)
        x = norm(f"{p}.attention.output.LayerNorm", attn + x)
        inter = dense(f"{p}.intermediate.dense", x, H, I)
        inter = inter * 0.5 * (1 + tf.math.erf(inter * math.sqrt(0.5)))
        ff = drop(dense(f"{p}.output.dense", inter, I, H), a.dropout)
        x = norm(f"{p}.output.LayerNorm", ff + x)
    cls = tf.reshape(x, [B, S, H])[:, 0, :]
    pooled = tf.tanh(dense("bert.pooler.dense", cls, H, H))
    logits = dense("classifier", drop(pooled, a.dropout), H, a.labels)
    logp = tf.nn.log_softmax(logits)
    # loss_scale (default 1, not in the signature) lets the bench poison a step to check the finite guard
    scale = v1.placeholder_with_default(1.0, [], "loss_scale")
    ce = -tf.reduce_mean(tf.reduce_sum(logp * tf.one_hot(labels, a.labels), 1))
    loss = tf.identity(ce * scale, "loss_value")

    if a.forward_graphdef:
        with open(a.forward_graphdef, "wb") as f:
            f.write(tf.compat.v1.get_default_graph().as_graph_def().SerializeToString())
    names = list(params)
    grads = tf.gradients(loss, [params[n].handle for n in names])
    grads = [tf.convert_to_tensor(gr) for gr in grads]  # IndexedSlices of the embeddings -> dense, as tfjs
    gnorm = tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(gr)) for gr in grads]))
    coef = tf.minimum(1.0, clip / (gnorm + 1e-6))
    moments = {
        n: [v1.Variable(tf.zeros_like(params[n].initial_value), name=f"{params[n].op.name}/{k}", use_resource=True)
            for k in ("m", "v")]
        for n in names
    }

    def apply():
        updates = []
        for n, gr in zip(names, grads):
            pv, (m, vv) = params[n], moments[n]
            old = pv.read_value()
            with tf.control_dependencies([old]):
                upd = tf.raw_ops.ResourceApplyAdam(var=pv.handle, m=m.handle, v=vv.handle, beta1_power=b1p,
                                                   beta2_power=b2p, lr=lr, beta1=0.9, beta2=0.999, epsilon=eps_hat,
                                                   grad=gr * coef)
            if n in decayed:
                with tf.control_dependencies([upd]):
                    upd = tf.raw_ops.ResourceApplyGradientDescent(var=pv.handle, alpha=decay, delta=old)
            updates.append(upd)
        with tf.control_dependencies(updates):
            return tf.constant(True)

    # As the eager trainer: a step whose loss or gradient norm is not finite is not applied. A v1 cond
    # (Switch/Merge, plain GraphDef nodes) keeps that inside the one session call.
    finite = tf.logical_and(tf.math.is_finite(loss), tf.math.is_finite(gnorm))
    applied = v1.cond(finite, apply, lambda: tf.constant(False))
    with tf.control_dependencies([applied]):
        tf.identity(loss, "loss")
        tf.identity(gnorm, "grad_norm")
        tf.identity(applied, "applied")


if __name__ == "__main__":
    main()
