"""faiss-cpu on the vectors of bench/search.ts: exact (IndexFlatIP on L2-normalised vectors = cosine),
HNSW (IndexHNSWFlat, inner product) and IVF-PQ (IndexIVFPQ, inner product, nprobe; alone and wrapped in
IndexRefineFlat with k_factor 10), searched one query at a time on one thread, as recsys search does.
Recall@k is against faiss's own exact search; prints one JSON object.

usage: search_faiss.py EMBEDDINGS.arrow QUERIES.f32 DIM K NLIST M_PQ NPROBE HNSW_M EF_CONSTRUCTION EF_SEARCH
"""
import json
import sys
import time

import faiss
import numpy as np
import pyarrow as pa

arrow_file, queries_file = sys.argv[1], sys.argv[2]
dim, k, nlist, m_pq, nprobe, hnsw_m, ef_construction, ef_search = map(int, sys.argv[3:11])

with pa.memory_map(arrow_file) as source:
    table = pa.ipc.open_file(source).read_all()
vectors = np.asarray(table.column("vector").combine_chunks().flatten(), dtype=np.float32).reshape(-1, dim)
queries = np.fromfile(queries_file, dtype=np.float32).reshape(-1, dim)
faiss.normalize_L2(vectors)
faiss.normalize_L2(queries)
# One query per call: OpenMP threads only add hand-off cost there (and spin on a loaded machine).
faiss.omp_set_num_threads(1)


def timed_search(index):
    index.search(queries[:1], k)  # warm-up
    t0 = time.perf_counter()
    found = [index.search(queries[i : i + 1], k)[1][0] for i in range(len(queries))]
    seconds = time.perf_counter() - t0
    return np.array(found), len(queries) / seconds


def build(index, train=False):
    t0 = time.perf_counter()
    if train:
        index.train(vectors)
    index.add(vectors)
    return time.perf_counter() - t0


flat = faiss.IndexFlatIP(dim)
build_flat = build(flat)
exact, flat_qps = timed_search(flat)


def recall(found):
    return float(np.mean([len(set(f) & set(e)) / k for f, e in zip(found, exact)]))


hnsw = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
hnsw.hnsw.efConstruction = ef_construction
build_hnsw = build(hnsw)
hnsw.hnsw.efSearch = ef_search
hnsw_found, hnsw_qps = timed_search(hnsw)

ivfpq = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, nlist, m_pq, 8, faiss.METRIC_INNER_PRODUCT)
build_ivfpq = build(ivfpq, train=True)
ivfpq.nprobe = nprobe
ivfpq_found, ivfpq_qps = timed_search(ivfpq)

# IVF-PQ candidates re-ranked by exact inner product, as LanceDB's refine factor does.
ivfpq_for_refine = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, nlist, m_pq, 8, faiss.METRIC_INNER_PRODUCT)
refined = faiss.IndexRefineFlat(ivfpq_for_refine)
build_refined = build(refined, train=True)
ivfpq_for_refine.nprobe = nprobe
refined.k_factor = 10
refined_found, refined_qps = timed_search(refined)

print(
    json.dumps(
        {
            "faiss": faiss.__version__,
            "threads": faiss.omp_get_max_threads(),
            "exact_ids": exact.tolist(),
            "rows": {
                "flat": {"recall": 1.0, "qps": flat_qps, "build_s": build_flat},
                "hnsw": {"recall": recall(hnsw_found), "qps": hnsw_qps, "build_s": build_hnsw},
                "ivf_pq": {"recall": recall(ivfpq_found), "qps": ivfpq_qps, "build_s": build_ivfpq},
                "ivf_pq_refine": {"recall": recall(refined_found), "qps": refined_qps, "build_s": build_refined},
            },
        }
    )
)
