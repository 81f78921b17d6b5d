"""GenePT-w and GenePT-s on the Baron 2016 human pancreas cells (2,142 cells, 14 cell types).

Scores 10-NN macro-F1 (5-fold CV) and k-means ARI / AMI (5 seeds) against ``cell_type1`` with
``genept.evaluation.cells``, on the same splits and seeds for every embedding:

- GenePT-w from the gene embeddings given (``--genes``), weights = raw counts (default) and
  ``log1p_cp10k``;
- GenePT-w from random Gaussian gene vectors for the same genes (control);
- GenePT-s with the text encoder given (``--encoder``), sentences of the top 1,000 genes;
- PCA baseline: normalize_total, log1p, 2,000 HVG, 50 PCs (``genept.evaluation.baselines``).

Also times both methods: end to end through ``genept.tl.embed_cells`` and their parts (GenePT-w
kernel alone; GenePT-s sentence building vs encoding). GenePT-s uses a fresh embedding cache in a
temporary folder so every sentence is really encoded.

Usage::

    python benchmarks/cells_baron.py --genes bench_out/genes_minilm.npz --encoder minilm
    python benchmarks/cells_baron.py --genes bench_out/genes_static.npz --encoder static --out benchmarks/results/cells_baron_static.md
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "cells" / "baron2016_human_pancreas_2142c.h5ad"
LABELS = "cell_type1"


def score(X: np.ndarray, labels: np.ndarray) -> dict:
    from threadpoolctl import threadpool_limits

    from genept.evaluation.cells import kmeans_clustering, knn_annotation

    # One thread: scikit-learn's OpenMP k-means was ~10x slower with 2 threads on 2 shared cores.
    with threadpool_limits(1):
        knn = knn_annotation(X, labels, k=10, n_splits=5, seed=0)
        km = kmeans_clustering(X, labels, n_seeds=5, seed=0)
    return {"dim": int(X.shape[1]), "f1": knn["cv"]["f1_macro"], "ari": km["ari"], "ami": km["ami"]}


def truncation_line(tr: dict, n: int) -> str:
    if tr["method"] == "no_limit":
        return f"- GenePT-s truncation: none (the encoder reads whole sentences; median {tr['genes_in_sentence_median']:g} genes)"
    return (
        f"- GenePT-s truncation: the encoder reads {tr['max_tokens']} tokens = the first {tr['genes_seen_median']:g} genes "
        f"(median; min {tr['genes_seen_min']}, max {tr['genes_seen_max']}; {tr['method']}) of a median "
        f"{tr['genes_in_sentence_median']:g} genes per sentence; {tr['n_cells_truncated']:,} of {n:,} sentences truncated"
    )


def fmt(v: dict) -> str:
    return f"{v['mean']:.3f} ± {v['sd']:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--genes", default=str(ROOT / "bench_out" / "genes_minilm.npz"))
    parser.add_argument("--encoder", default="minilm")
    parser.add_argument("--top-k", type=int, default=1000)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cells_baron.md"))
    args = parser.parse_args()

    import anndata as ad

    from genept import tl
    from genept.cells.weighted import embed_weighted
    from genept.embeddings import GeneEmbeddings
    from genept.encoders import get_encoder
    from genept.evaluation.baselines import pca_baseline, random_gene_embeddings

    if not DATA.exists():
        sys.exit(f"{DATA} not found")
    adata = ad.read_h5ad(DATA)
    labels = adata.obs[LABELS].astype(str).to_numpy()
    gene_emb = GeneEmbeddings.load(args.genes)
    print(f"{adata.n_obs} cells x {adata.n_vars} genes; {len(set(labels))} types; {gene_emb}", flush=True)

    results: dict[str, dict] = {}
    timing: dict[str, float] = {}

    for transform in ("counts", "log1p_cp10k"):
        key = f"w_{transform}"
        tl.embed_cells(adata, gene_emb, transform=transform, key_added=key, show_progress=False)
        timing[f"GenePT-w ({transform}) embed_cells, s"] = adata.uns[key]["seconds"]
        results[f"GenePT-w ({transform})"] = score(adata.obsm[key], labels)
    E, found = gene_emb.reindex(adata.var_names)
    t = time.perf_counter()
    embed_weighted(adata.X, E, found=found, show_progress=False)
    timing["GenePT-w kernel only (counts), s"] = time.perf_counter() - t

    rand = random_gene_embeddings(gene_emb, seed=0)
    tl.embed_cells(adata, rand, key_added="w_random", show_progress=False)
    results["GenePT-w, random gene vectors"] = score(adata.obsm["w_random"], labels)

    with tempfile.TemporaryDirectory() as cache_dir:
        enc = get_encoder(args.encoder)
        enc.encode(["warm-up: load the model"])  # model load is not cell time
        t = time.perf_counter()
        tl.embed_cells(adata, method="s", encoder=enc, top_k=args.top_k, cache=Path(cache_dir) / "c.sqlite", show_progress=False)
        timing["GenePT-s embed_cells (cold cache), s"] = time.perf_counter() - t
    rec_s = adata.uns["X_genept_s"]
    from genept.cells.sentences import cell_sentences

    t = time.perf_counter()
    cell_sentences(adata.X, adata.var_names, top_k=args.top_k, show_progress=False)
    timing["GenePT-s sentence building only, s"] = time.perf_counter() - t
    results[f"GenePT-s (top {args.top_k})"] = score(adata.obsm["X_genept_s"], labels)

    t = time.perf_counter()
    pca = pca_baseline(adata)
    timing["PCA baseline, s"] = time.perf_counter() - t
    results["PCA (log1p cp10k, 2000 HVG, 50 PCs)"] = score(pca, labels)

    cov_w = adata.uns["w_counts"]["coverage"]
    n = adata.n_obs
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    script = Path(sys.argv[0])
    script = script.relative_to(ROOT) if script.is_absolute() else script
    cmd = " ".join(["python", str(script), *sys.argv[1:]])
    lines = [
        "# Cell embeddings on Baron 2016 human pancreas",
        "",
        f"- Command: `{cmd}` (from the repository root, `.venv/bin/python`)",
        f"- Date: {_dt.datetime.now(_dt.UTC).isoformat(timespec='minutes')}; commit `{head}`; "
        f"machine: {os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.1f} (shared with other jobs)",
        f"- Data: `../shared/data/cells/{DATA.name}`, {n:,} cells x {adata.n_vars:,} genes, raw counts, "
        f"labels `{LABELS}` ({len(set(labels))} types)",
        f"- Gene embeddings: `{args.genes}` ({len(gene_emb):,} genes x {gene_emb.dim}, `{gene_emb.meta.get('encoder')}`); "
        f"GenePT-s encoder `{rec_s['encoder']['identity']}`",
        f"- Coverage (GenePT-w): {cov_w['n_genes_embedded']:,} / {cov_w['n_genes']:,} genes have an embedding; the rest carry "
        f"{100 * cov_w['fraction_expression_lost']:.2f}% of the counts; {cov_w['n_empty_cells']} cells with no embedded expression",
        truncation_line(rec_s["truncation"], n),
        "- Metrics: `genept.evaluation.cells.knn_annotation(X, labels, k=10, n_splits=5, seed=0)` (macro-F1, mean ± sd "
        "over the 5 folds) and `kmeans_clustering(X, labels, n_seeds=5, seed=0)` (k = 14; mean ± sd over seeds)",
        "",
        "| embedding | dim | 10-NN macro-F1 | k-means ARI | k-means AMI |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['dim']} | {fmt(r['f1'])} | {fmt(r['ari'])} | {fmt(r['ami'])} |")
    lines += ["", "Speed (wall clock, this run):", "", "| step | seconds | cells/s |", "|---|---:|---:|"]
    for name, sec in timing.items():
        lines.append(f"| {name.removesuffix(', s')} | {sec:.2f} | {n / sec:,.0f} |")
    lines.append("")
    text = "\n".join(lines)
    print(text)
    from genept._utils import atomic_write

    with atomic_write(args.out, "w") as fh:
        fh.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
