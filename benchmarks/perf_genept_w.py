"""GenePT-w in memory: genept's fused kernel vs the plain scipy CSR @ dense product.

    .venv/bin/python benchmarks/perf_genept_w.py --cells 100000 --genes 20000 --dim 1536

Both compute L2-normalised rows of ``X @ E`` on the same data in the same run, alternating, best of
``--repeats``; the script checks that they agree (max |difference| and max cosine error) and prints
cells/s, the ratio (issue 15 target: genept >= 4x scipy, cosine error <= 1e-4) and the load
average before and after.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from _synthetic import count_matrix, gene_vectors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--genes", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=1536)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    from threadpoolctl import threadpool_info

    from genept.cells.weighted import embed_weighted

    t = time.perf_counter()
    X = count_matrix(args.cells, args.genes)
    E = gene_vectors(args.genes, args.dim)
    print(f"data: {args.cells:,} cells x {args.genes:,} genes, {X.nnz / X.shape[0]:.0f} nonzeros/cell "
          f"({100 * X.nnz / X.shape[0] / X.shape[1]:.1f}%), E {E.shape} float32; made in {time.perf_counter() - t:.0f} s")
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; BLAS: {[i['internal_api'] for i in threadpool_info()]}")

    embed_weighted(X[:100], E)  # compile the numba kernel outside the timing
    best = {"scipy": np.inf, "genept": np.inf}
    for _ in range(args.repeats):
        t = time.perf_counter()
        ref = np.asarray(X @ E, dtype=np.float32)
        ref /= np.maximum(np.linalg.norm(ref, axis=1, keepdims=True), 1e-12)
        best["scipy"] = min(best["scipy"], time.perf_counter() - t)
        del ref
        t = time.perf_counter()
        got, _ = embed_weighted(X, E, chunk_size=10_000, show_progress=False)
        best["genept"] = min(best["genept"], time.perf_counter() - t)
    load_after = os.getloadavg()
    ref = np.asarray(X @ E, dtype=np.float32)
    ref /= np.maximum(np.linalg.norm(ref, axis=1, keepdims=True), 1e-12)
    err = float(np.abs(got - ref).max())
    cos_err = float(1 - np.einsum("ij,ij->i", got.astype(np.float64), ref.astype(np.float64)).min())
    for name, sec in best.items():
        print(f"{name:<8} {sec:8.2f} s  {args.cells / sec:10,.0f} cells/s")
    print(f"ratio genept/scipy speed: {best['scipy'] / best['genept']:.2f}x; max |difference| {err:.2e}; "
          f"max cosine error {cos_err:.1e}")
    print(f"load average after: {load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f}")
    assert err < 1e-5, "results differ"


if __name__ == "__main__":
    main()
