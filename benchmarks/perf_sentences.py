"""GenePT-s cell sentences: genept's partial sort on sparse rows vs the reference dense approach.

    .venv/bin/python benchmarks/perf_sentences.py --cells 100000 --top-k 1000

The reference is the approach of GenePT's notebook: densify each cell, ``argsort`` all genes
(stable, so ties keep gene order: the same tie rule genept documents), keep the top-k expressed
genes and filter them with ``np.isin`` against the gene vocabulary. Both produce the gene index
list of every cell; the script checks they are identical and prints cells/s and the ratio
(issue target: >= 10x).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from _synthetic import count_matrix


def reference_ranks(X, top_k: int, vocabulary: np.ndarray, block: int = 1_000) -> list[np.ndarray]:
    genes = np.arange(X.shape[1])
    out = []
    for s in range(0, X.shape[0], block):
        dense = X[s : s + block].toarray()
        for row in dense:
            order = np.argsort(-row, kind="stable")[:top_k]
            order = order[row[order] > 0]
            out.append(order[np.isin(genes[order], vocabulary)])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--genes", type=int, default=20_000)
    ap.add_argument("--top-k", type=int, default=1000)
    args = ap.parse_args()

    from genept.cells.sentences import rank_block

    X = count_matrix(args.cells, args.genes)
    print(f"data: {args.cells:,} cells x {args.genes:,} genes, {X.nnz / X.shape[0]:.0f} nonzeros/cell; "
          f"top_k {args.top_k}; cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    rank_block(X[:10], args.top_k)  # load the compiled numba kernel outside the timing
    t = time.perf_counter()
    ours = []
    for s in range(0, X.shape[0], 10_000):
        ours.extend(rank_block(X[s : s + 10_000], args.top_k))
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    ref = reference_ranks(X, args.top_k, np.arange(args.genes))
    t_ref = time.perf_counter() - t
    same = all(np.array_equal(a, b) for a, b in zip(ours, ref, strict=True))
    print(f"genept    {t_ours:8.2f} s  {args.cells / t_ours:10,.0f} cells/s")
    print(f"reference {t_ref:8.2f} s  {args.cells / t_ref:10,.0f} cells/s")
    print(f"ratio: {t_ref / t_ours:.1f}x; identical gene lists for all {args.cells:,} cells: {same}")
    assert same, "outputs differ"


if __name__ == "__main__":
    main()
