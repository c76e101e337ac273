#!/usr/bin/env python3
"""Reference values for recsys's per-query ranking metrics (src/eval/ranking.ts).

    generate [--out test/fixtures/ranking/ranking.json]   seeded query groups + their reference values
    compute INPUT OUTPUT                                     reference values for the groups in INPUT

INPUT is JSON: {"k": [1, 3, 5, 10], "min_relevant_gain": null | number,
"queries": [{"id", "scores", "gains", "unretrieved_gains"}]}. OUTPUT holds, per query, two sets:

- "sklearn": sklearn.metrics.ndcg_score / dcg_score (k and k=None) on the query as a one-row
  matrix, and average_precision_score as `map` where it equals the IR average precision (no tied
  scores, every judged item retrieved, at least one relevant). Unretrieved judged items are
  appended below every candidate, so only the cut-offs k <= the number of candidates are given when
  there are some. sklearn refuses queries with a single candidate: none for those.
- "exhaustive": every metric as the plain average over every ordering of the tied candidates,
  each ordering scored with the textbook definitions below (written independently of recsys). The
  script asserts that this equals sklearn wherever both exist.

Definitions on one ordering (g_i the gain at 0-based rank i, R the relevant judged items,
relevant = gain > 0, or gain >= min_relevant_gain when given): dcg@k = sum_{i<k} g_i / log2(i+2);
ndcg@k = dcg@k / ideal dcg@k over all judged gains (0 when the ideal is 0); precision@k = relevant
in top k / k; recall@k = relevant in top k / R; hit_rate@k = 1 if any relevant in top k;
mrr@k = 1 / rank of the first relevant if <= k; map@k = sum over relevant at rank <= k of
precision at that rank, / R. Without @k: over every candidate. All are 0 when R = 0 (nDCG: when
every gain is 0).

Deterministic: same numpy + sklearn versions and seed = the same file.
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, dcg_score, ndcg_score

KS = [1, 3, 5, 10]
MAX_ORDERINGS = 6000
ESCI = [1.0, 0.1, 0.01, 0.0]
GRADES = [0.0, 1.0, 2.0, 3.0]


def is_relevant(gain: float, min_gain: float | None) -> bool:
    return gain > 0 if min_gain is None else gain >= min_gain


def one_ordering(ranked: list[float], unretrieved: list[float], ks: list[int], min_gain: float | None) -> dict:
    all_gains = sorted(ranked + unretrieved, reverse=True)
    n_rel = sum(is_relevant(g, min_gain) for g in ranked + unretrieved)
    out = {}
    depths = [(k, f"@{k}") for k in ks] + [(max(len(all_gains), 1), "")]
    for k, suffix in depths:
        top = ranked[:k]
        dcg = sum(g / math.log2(i + 2) for i, g in enumerate(top))
        ideal = sum(g / math.log2(i + 2) for i, g in enumerate(all_gains[:k]))
        flags = [is_relevant(g, min_gain) for g in top]
        hits = sum(flags)
        first = next((i for i, f in enumerate(flags) if f), None)
        precisions = [sum(flags[: i + 1]) / (i + 1) for i, f in enumerate(flags) if f]
        out[f"ndcg{suffix}"] = dcg / ideal if ideal > 0 else 0.0
        out[f"dcg{suffix}"] = dcg
        out[f"recall{suffix}"] = hits / n_rel if n_rel else 0.0
        out[f"mrr{suffix}"] = 1 / (first + 1) if first is not None else 0.0
        out[f"map{suffix}"] = sum(precisions) / n_rel if n_rel else 0.0
        if suffix:
            out[f"precision{suffix}"] = hits / k
            out[f"hit_rate{suffix}"] = 1.0 if hits else 0.0
    return out


def exhaustive(q: dict, ks: list[int], min_gain: float | None) -> dict:
    """Mean of one_ordering over every ordering of each block of equal scores."""
    scores, gains = q["scores"], q["gains"]
    blocks: dict[float, list[float]] = {}
    for s, g in zip(scores, gains):
        blocks.setdefault(s, []).append(g)
    ordered = [blocks[s] for s in sorted(blocks, reverse=True)]
    count = math.prod(math.factorial(len(b)) for b in ordered)
    if count > MAX_ORDERINGS:
        raise SystemExit(f"query {q['id']}: {count} orderings of its ties, more than {MAX_ORDERINGS}")
    total: dict[str, float] = {}
    for combo in itertools.product(*(itertools.permutations(b) for b in ordered)):
        ranked = [g for block in combo for g in block]
        for key, v in one_ordering(ranked, list(q["unretrieved_gains"]), ks, min_gain).items():
            total[key] = total.get(key, 0.0) + v
    return {key: v / count for key, v in total.items()}


def with_sklearn(q: dict, ks: list[int], min_gain: float | None) -> dict:
    scores, gains, unretrieved = list(q["scores"]), list(q["gains"]), list(q["unretrieved_gains"])
    n = len(scores)
    if n < 2:
        return {}
    y_score = scores + [min(scores) - 1.0] * len(unretrieved)
    y_true = np.asarray([gains + unretrieved], dtype=float)
    y_score = np.asarray([y_score], dtype=float)
    out = {}
    for k in ks:
        if unretrieved and k > n:
            continue
        out[f"ndcg@{k}"] = float(ndcg_score(y_true, y_score, k=k))
        out[f"dcg@{k}"] = float(dcg_score(y_true, y_score, k=k))
    if not unretrieved:
        out["ndcg"] = float(ndcg_score(y_true, y_score))
        out["dcg"] = float(dcg_score(y_true, y_score))
        binary = [int(is_relevant(g, min_gain)) for g in gains]
        if len(set(scores)) == n and any(binary):
            out["map"] = float(average_precision_score(binary, scores))
    return out


def compute(spec: dict) -> dict:
    ks, min_gain = spec["k"], spec.get("min_relevant_gain")
    per_query = []
    for q in spec["queries"]:
        ex = exhaustive(q, ks, min_gain)
        sk = with_sklearn(q, ks, min_gain)
        for key, v in sk.items():
            if abs(v - ex[key]) > 1e-9:
                raise SystemExit(f"query {q['id']}: {key} sklearn {v} != exhaustive {ex[key]}")
        relevant = sum(is_relevant(g, min_gain) for g in q["gains"] + q["unretrieved_gains"])
        per_query.append({"id": q["id"], "relevant": relevant, "sklearn": sk, "exhaustive": ex})
    keys = per_query[0]["exhaustive"].keys() if per_query else []
    mean = {key: float(np.mean([p["exhaustive"][key] for p in per_query])) for key in keys}
    # sklearn's own average over queries, on the queries it can score with no cut-off.
    sk_ndcg = [p["sklearn"]["ndcg@10"] for p in per_query if "ndcg@10" in p["sklearn"]]
    return {
        "k": ks,
        "min_relevant_gain": min_gain,
        "per_query": per_query,
        "mean": mean,
        "sklearn_mean_ndcg@10": float(np.mean(sk_ndcg)) if sk_ndcg else None,
        "n_without_relevant": sum(p["relevant"] == 0 for p in per_query),
    }


def tied_scores(rng: np.random.Generator, n: int, max_block: int, max_orderings: int = 720) -> list[float]:
    """n scores with a few blocks of equal values (at most max_orderings orderings of the ties)."""
    distinct = [round(float(x), 4) for x in rng.uniform(-3, 3, size=n)]
    out, i = [], 0
    while i < n:
        size = int(rng.integers(1, max_block + 1)) if rng.random() < 0.3 else 1
        size = min(size, n - i)
        out += [distinct[i]] * size
        i += size
    while math.prod(math.factorial(out.count(s)) for s in set(out)) > max_orderings:
        out[out.index(max(set(out), key=out.count))] = round(float(rng.uniform(5, 6)), 6)
    rng.shuffle(out)
    return out


def make_queries(seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    queries = []

    def add(kind: str, scores, gains, unretrieved=()):
        queries.append({
            "id": f"q{len(queries):03d}-{kind}",
            "scores": [float(s) for s in scores],
            "gains": [float(g) for g in gains],
            "unretrieved_gains": [float(g) for g in unretrieved],
        })

    for i in range(40):
        n = int(rng.integers(2, 26))
        scale = ESCI if i % 2 == 0 else GRADES
        gains = rng.choice(scale, size=n, p=[0.35, 0.2, 0.15, 0.3])
        unretrieved = rng.choice(scale, size=int(rng.integers(1, 4))) if i % 5 == 4 else []
        add("esci" if i % 2 == 0 else "graded", tied_scores(rng, n, 4), gains, unretrieved)
    for i in range(12):
        n = int(rng.integers(2, 26))
        scale = ESCI if i % 2 == 0 else GRADES
        add("no-ties", rng.permutation(n) / 3.0 + rng.uniform(0, 0.1), rng.choice(scale, size=n))
    add("all-tied", [0.5] * 6, [0.0, 1.0, 0.1, 0.0, 1.0, 0.01])
    add("all-tied-7", [2.0] * 7, [0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 1.0])
    add("tie-straddles-k", [3, 2, 1, 1, 1, 1, 1, 0, 0, 0, -1, -2], [0, 0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 0])
    add("all-zero", [0.9, 0.1, 0.5, 0.5], [0, 0, 0, 0])
    add("below-threshold", [0.9, 0.1, 0.5], [0.1, 0.01, 0.0])
    add("single", [0.3], [1.0])
    add("single-irrelevant", [0.3], [0.0])
    add("none-retrieved", [], [], [1.0, 0.1])
    add("unretrieved-only-relevant", [1.0, 0.5, 0.5], [0.0, 0.0, 0.0], [2.0])
    add("large-no-ties", rng.permutation(30) / 7.0, rng.choice(GRADES, size=30))
    return queries


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out", default=str(Path(__file__).parent.parent / "test/fixtures/ranking/ranking.json"))
    g.add_argument("--seed", type=int, default=15)
    c = sub.add_parser("compute")
    c.add_argument("input")
    c.add_argument("output")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.cmd == "compute":
        spec = json.loads(Path(args.input).read_text())
        Path(args.output).write_text(json.dumps(compute(spec)))
        return
    queries = make_queries(args.seed)
    doc = {
        "generator": f"scripts/make_ranking_reference.py generate --seed {args.seed}",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "queries": queries,
        "references": [compute({"k": KS, "min_relevant_gain": m, "queries": queries}) for m in (None, 0.5)],
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc) + "\n")
    tmp.replace(out)
    print(f"wrote {out}: {len(queries)} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
