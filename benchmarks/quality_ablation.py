"""Cell-embedding quality ablation (issue 9): which GenePT-style embedding matches raw-expression PCA?

Every labelled set in ``../shared/data/cells`` (Baron human pancreas ``cell_type1`` / ``donor``;
Baron mouse pancreas ``cell_type1`` / ``donor``, genes mapped to human through orthologs; Kang
PBMC ``cluster_id`` / ``patient``) is embedded many ways, and every embedding is scored with
``genept.evaluation.cells`` on the same splits and seeds:

- cell types: 10-NN (cosine) macro-F1, stratified 5-fold CV repeated over ``--seeds`` split seeds
  (mean +- sd over all folds); k-means with k = number of labels, ARI and AMI (``--seeds`` seeds,
  10 restarts each, mean +- sd);
- batches (donors / patients): ``batch_mixing`` ratio (same-batch share of the 10 nearest
  neighbours over its random expectation; 1 = mixed, lower is better) and the ARI of the k-means
  clusters with the batch (lower is better);
- the text space (only for embeddings that live in it): zero-shot annotation (each cell takes the
  label whose written description is most similar, ``genept.text.text_scores``, centred;
  accuracy and macro-F1) and cross-species transfer (10-NN trained on the human cells, predicting
  the mouse cells of the labels both share, macro-F1). PCA cannot do either.

Rows: plain GenePT-w variants (weights, centring, IDF, HVGs), the steps from a projection of scaled
expression to GenePT-scaled (``genept.cells.scaled``, the default of ``genept.tl.embed_cells``),
one change at a time from that default (clipping, genes, components, normalisation, gene-embedding
centring, encoder and text template, random gene vectors), and the PCA references
(``genept.evaluation.baselines.pca_baseline``, which does not scale, and the same with
``sc.pp.scale(max_value=10)``). Static-encoder rows embed the gene texts on the fly with the
distilled model2vec encoder (seconds); MiniLM rows use ``--genes``. GenePT-s (MiniLM cell
sentences) is slow on 2 cores and only runs with ``--with-s``.

Usage::

    python benchmarks/quality_ablation.py                     # writes benchmarks/results/quality_ablation.md
    python benchmarks/quality_ablation.py --with-s            # + GenePT-s rows (minutes per dataset)
    python benchmarks/quality_ablation.py --seeds 1 --out /tmp/smoke.md   # quick smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GENEPT_PROGRESS", "0")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SUMMARIES = DATA / "genes" / "refseq_summaries_human_r220.tsv.gz"

DATASETS = {
    "Baron human": ("cells/baron2016_human_pancreas_2142c.h5ad", "cell_type1", "donor"),
    "Baron mouse": ("cells/baron2016_mouse_pancreas_1886c.h5ad", "cell_type1", "donor"),
    "Kang PBMC": ("cells/kang2018_pbmc_ifnb_1556c.h5ad", "cluster_id", "patient"),
}

# Label code -> one-sentence description naming the cell's function and textbook markers (HGNC symbols).
DESCRIPTIONS = {
    "alpha": "Pancreatic alpha cell: an islet endocrine cell that secretes glucagon (GCG); expresses GCG, ARX and IRX2.",
    "beta": "Pancreatic beta cell: an islet endocrine cell that secretes insulin (INS); expresses INS, IAPP, MAFA and PDX1.",
    "delta": "Pancreatic delta cell: an islet endocrine cell that secretes somatostatin (SST); expresses SST and HHEX.",
    "gamma": "Pancreatic PP (gamma) cell: an islet endocrine cell that secretes pancreatic polypeptide (PPY).",
    "epsilon": "Pancreatic epsilon cell: an islet endocrine cell that secretes ghrelin (GHRL).",
    "acinar": "Pancreatic acinar cell: an exocrine cell that secretes digestive enzymes: trypsin (PRSS1), CPA1, CTRB1, PNLIP.",
    "ductal": "Pancreatic ductal cell: an epithelial cell lining the pancreatic ducts; expresses KRT19, SOX9 and CFTR.",
    "activated_stellate": "Activated pancreatic stellate cell: a myofibroblast making collagen; expresses COL1A1, COL3A1, ACTA2.",
    "quiescent_stellate": "Quiescent pancreatic stellate cell (pericyte): a vascular mural cell; expresses RGS5, PDGFRB, CSPG4.",
    "endothelial": "Endothelial cell: lines blood vessels and capillaries; expresses PECAM1, VWF, PLVAP and CDH5.",
    "macrophage": "Macrophage: a phagocytic innate immune cell; expresses CD68, CD163, C1QA and CSF1R.",
    "mast": "Mast cell: an immune cell with histamine and tryptase (TPSAB1) granules; expresses KIT and CPA3.",
    "t_cell": "T lymphocyte: an adaptive immune cell with the T cell receptor; expresses CD3E, CD3D and CD2.",
    "T_cell": "T lymphocyte: an adaptive immune cell with the T cell receptor; expresses CD3E, CD3D and CD2.",
    "B_cell": "B lymphocyte: an adaptive immune cell that makes antibodies; expresses CD19, MS4A1 and CD79A.",
    "immune_other": "Immune cell (leukocyte) of another type; expresses PTPRC (CD45).",
    "schwann": "Schwann cell: a glial cell that myelinates peripheral nerves; expresses SOX10, S100B and PLP1.",
    "B cells": "B lymphocyte: an adaptive immune cell that makes antibodies; expresses CD19, MS4A1 and CD79A.",
    "CD4 T cells": "CD4 helper T lymphocyte: a T cell that coordinates immune responses; expresses CD3E, CD4 and IL7R.",
    "CD8 T cells": "CD8 cytotoxic T lymphocyte: kills infected cells; expresses CD3E, CD8A, GZMB, GZMK and PRF1.",
    "CD14+ Monocytes": "Classical monocyte: a CD14-positive blood monocyte; expresses CD14, LYZ, S100A8 and S100A9.",
    "FCGR3A+ Monocytes": "Non-classical monocyte: a CD16 (FCGR3A)-positive blood monocyte; expresses FCGR3A, MS4A7, CX3CR1.",
}
SAME_LABEL = {"T_cell": "t_cell"}  # mouse spelling -> human spelling, for cross-species transfer
DEFAULT_ROW = "**+ isometry = GenePT-scaled (default)**"
PCA_ROW = "PCA-50, `baselines.pca_baseline` (not scaled)"
PCA_SCALED_ROW = "PCA-50 with `sc.pp.scale` (scanpy default, no clip)"


# -- embeddings -----------------------------------------------------------------------------------
class Dataset:
    """One labelled set: counts, labels, batches, and gene embeddings aligned with its genes."""

    def __init__(self, name: str) -> None:
        import anndata as ad

        rel, label_key, batch_key = DATASETS[name]
        self.name = name
        self.adata = ad.read_h5ad(DATA / rel)
        self.X = sp.csr_matrix(self.adata.X, dtype=np.float32)
        self.labels = self.adata.obs[label_key].astype(str).to_numpy()
        self.batch = self.adata.obs[batch_key].astype(str).to_numpy()
        self.label_key, self.batch_key = label_key, batch_key
        self._aligned: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def genes(self, emb) -> tuple[np.ndarray, np.ndarray]:
        if id(emb) not in self._aligned:
            self._aligned[id(emb)] = emb.reindex(self.adata.var_names)
        return self._aligned[id(emb)]


def l2(Y: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(Y, axis=1, keepdims=True)
    return np.divide(Y, norms, out=np.zeros_like(Y), where=norms > 0).astype(np.float32)


def genept_w(d: Dataset, emb, *, transform: str = "counts", gene_weights=None, centre_genes=False, genes_mask=None):
    from genept.cells.weighted import embed_weighted

    E, found = d.genes(emb)
    if centre_genes:
        E = np.where(found[:, None], E - E[found].mean(axis=0), 0).astype(np.float32)
    if genes_mask is not None:
        E = np.where(genes_mask[:, None], E, 0).astype(np.float32)
    X = d.X if gene_weights is None else sp.csr_matrix(d.X.multiply(gene_weights[None, :]), dtype=np.float32)
    return embed_weighted(X, E, found=found, transform=transform)[0]


def idf_weights(d: Dataset) -> np.ndarray:
    """Inverse document frequency per gene: log(n_cells / (1 + cells expressing it)), floored at 0."""
    n = d.X.shape[0]
    expressing = np.diff(d.X.tocsc().indptr)
    return np.maximum(np.log(n / (1.0 + expressing)), 0.0).astype(np.float32)


def scaled(d: Dataset, emb, **kwargs) -> np.ndarray:
    from genept.cells.scaled import embed_scaled

    E, found = d.genes(emb)
    return embed_scaled(d.X, E, found=found, **kwargs)[0]


def scaled_steps(d: Dataset, emb) -> dict[str, np.ndarray]:
    """The steps from a plain projection of scaled expression to GenePT-scaled, and a centred variant."""
    from genept.cells.scaled import fit_scaled

    E, found = d.genes(emb)
    proj = fit_scaled(d.X, E, found=found)
    Z = proj.scaled_block(d.X) - proj.center
    Eh = E[proj.genes].astype(np.float64)
    Ec = np.where(found[:, None], E - E[found].mean(axis=0), 0)[proj.genes].astype(np.float64)
    P = proj.components.T.astype(np.float64)
    return {
        "proj": (Z @ Eh).astype(np.float32),
        "proj_pca": (Z @ P @ (P.T @ Eh)).astype(np.float32),
        "iso_centred": (Z @ P @ _isometry(P, Ec)).astype(np.float32),
        "_hvg": proj.genes,
    }


def _isometry(P: np.ndarray, Eh: np.ndarray) -> np.ndarray:
    U = P.T @ Eh
    lam, V = np.linalg.eigh(U @ U.T)
    return (V / np.sqrt(lam)) @ V.T @ U


def pca_scaled(d: Dataset, max_value: float | None = None) -> np.ndarray:
    """PCA-50 of scaled expression: normalize_total, log1p, 2,000 HVG (seurat), scale, 50 PCs."""
    import anndata as ad
    import scanpy as sc

    work = ad.AnnData(X=d.X.copy())
    sc.pp.normalize_total(work, target_sum=1e4)
    sc.pp.log1p(work)
    if work.n_vars > 2000:
        sc.pp.highly_variable_genes(work, n_top_genes=2000, flavor="seurat", subset=True)
    sc.pp.scale(work, max_value=max_value)
    sc.pp.pca(work, n_comps=50, random_state=0)
    return np.ascontiguousarray(work.obsm["X_pca"], dtype=np.float32)


def static_embeddings(template: str) -> object:
    """Gene embeddings of the RefSeq corpus with the static (model2vec) encoder, made now (no cache)."""
    from genept.embeddings import embed_genes
    from genept.genes.corpus import DEFAULT_TEMPLATE, SUMMARY_ONLY, build_corpus
    from genept.genes.sources.files import read_summary_table

    facts = read_summary_table(SUMMARIES)
    if template == "summary-only":
        corpus = build_corpus(None, [facts], template=SUMMARY_ONLY, compose_missing=False)
    elif template == "composed":
        corpus = build_corpus(None, [facts], template=DEFAULT_TEMPLATE, compose_missing=True)
    else:
        corpus = build_corpus(None, [facts], template=DEFAULT_TEMPLATE, compose_missing=False)
    return embed_genes(corpus, "static", cache=False, show_progress=False)


# -- scores ---------------------------------------------------------------------------------------
def cell_scores(Y: np.ndarray, d: Dataset, n_seeds: int) -> dict[str, dict[str, float]]:
    from threadpoolctl import threadpool_limits

    from genept.evaluation.cells import batch_mixing, kmeans_clustering, knn_annotation

    # One thread: scikit-learn's OpenMP k-means was ~10x slower with 2 threads on 2 shared cores.
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        knn = [knn_annotation(Y, d.labels, k=10, n_splits=5, seed=s)["cv"]["f1_macro"] for s in range(n_seeds)]
        km = kmeans_clustering(Y, d.labels, n_seeds=n_seeds, seed=0, batch=d.batch)
        mix = batch_mixing(Y, d.batch, k=10)
    return {"f1": _pool(knn), "ari": km["ari"], "ami": km["ami"], "batch_ari": km["batch_ari"], "mix": {"mean": mix["ratio"], "sd": 0.0}}


def _pool(parts: list[dict]) -> dict[str, float]:
    """Mean and sd (ddof 1) of all values behind several ``mean_sd`` records (equal sizes)."""
    n = np.array([p["n"] for p in parts], dtype=float)
    m = np.array([p["mean"] for p in parts])
    s = np.array([p["sd"] for p in parts])
    mean = float((n * m).sum() / n.sum())
    ss = ((n - 1) * s**2 + n * (m - mean) ** 2).sum()
    return {"mean": mean, "sd": float(np.sqrt(ss / (n.sum() - 1))), "n": int(n.sum())}


def zero_shot(Y: np.ndarray, d: Dataset, encoder) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    from genept.text import assign_labels, text_scores

    codes = sorted(set(d.labels))
    S = text_scores(Y, encoder.encode([DESCRIPTIONS[c] for c in codes]), center=True)
    pred = assign_labels(S, codes)
    return float(np.mean(pred == d.labels)), float(f1_score(d.labels, pred, labels=codes, average="macro", zero_division=0))


def transfer(Y_h: np.ndarray, human: Dataset, Y_m: np.ndarray, mouse: Dataset) -> float:
    from sklearn.metrics import f1_score
    from sklearn.neighbors import KNeighborsClassifier

    y_h = human.labels
    y_m = np.array([SAME_LABEL.get(v, v) for v in mouse.labels])
    shared = sorted(set(y_h) & set(y_m))
    mh, mm = np.isin(y_h, shared), np.isin(y_m, shared)
    clf = KNeighborsClassifier(n_neighbors=10, metric="cosine", algorithm="brute").fit(Y_h[mh], y_h[mh])
    return float(f1_score(y_m[mm], clf.predict(Y_m[mm]), labels=shared, average="macro", zero_division=0))


# -- the run --------------------------------------------------------------------------------------
def plan(args) -> list[tuple[str, str, str, Callable]]:
    """(section, row name, encoder for text queries or '' when not in text space, builder(d, ctx))."""
    rows: list[tuple[str, str, str, Callable]] = [
        ("A. plain GenePT-w", "GenePT-w, raw counts (paper; `method=\"w\"`)", "minilm", lambda d, c: genept_w(d, c["minilm"])),
        ("A. plain GenePT-w", "GenePT-w, log1p_cp10k", "minilm", lambda d, c: genept_w(d, c["minilm"], transform="log1p_cp10k")),
        ("A. plain GenePT-w", "GenePT-w, counts, mean cell subtracted", "minilm", lambda d, c: _centre(genept_w(d, c["minilm"]))),
        ("A. plain GenePT-w", "GenePT-w, counts x IDF gene weights", "minilm", lambda d, c: genept_w(d, c["minilm"], gene_weights=idf_weights(d))),
        ("A. plain GenePT-w", "GenePT-w, counts, 2,000 HVGs only", "minilm", lambda d, c: genept_w(d, c["minilm"], genes_mask=_hvg_mask(d, c))),
        ("A. plain GenePT-w", "GenePT-w, counts, centred gene embeddings", "minilm", lambda d, c: genept_w(d, c["minilm"], centre_genes=True)),
        ("B. towards GenePT-scaled", "scaled HVGs x gene embeddings (projection)", "minilm", lambda d, c: c["steps"][d.name]["proj"]),
        ("B. towards GenePT-scaled", "+ 50-PC denoising of the scaled expression", "minilm", lambda d, c: c["steps"][d.name]["proj_pca"]),
        ("B. towards GenePT-scaled", DEFAULT_ROW, "minilm", lambda d, c: c["default"][d.name]),
        ("C. one change from the default", "scaled values clipped at 10 (Seurat's convention)", "minilm", lambda d, c: scaled(d, c["minilm"], max_value=10.0)),
        ("C. one change from the default", "5,000 HVGs", "minilm", lambda d, c: scaled(d, c["minilm"], n_top_genes=5000)),
        ("C. one change from the default", "30 components", "minilm", lambda d, c: scaled(d, c["minilm"], n_comps=30)),
        ("C. one change from the default", "100 components", "minilm", lambda d, c: scaled(d, c["minilm"], n_comps=100)),
        ("C. one change from the default", "L2-normalised rows", "minilm", lambda d, c: l2(c["default"][d.name])),
        ("C. one change from the default", "centred gene embeddings (mean gene vector removed)", "minilm", lambda d, c: c["steps"][d.name]["iso_centred"]),
        ("C. one change from the default", "static encoder (model2vec), same template", "static", lambda d, c: scaled(d, c["static"])),
        ("C. one change from the default", "static encoder, summary-only template", "static", lambda d, c: scaled(d, c["static_summary"])),
        ("C. one change from the default", "static encoder, + composed texts for genes without a summary", "static", lambda d, c: scaled(d, c["static_composed"])),
        ("C. one change from the default", "random Gaussian gene vectors (control)", "minilm", lambda d, c: scaled(d, c["random"])),
        ("C. one change from the default", "GenePT-w (paper) with static encoder", "static", lambda d, c: genept_w(d, c["static"])),
    ]
    if args.with_s:
        rows += [
            ("C. one change from the default", "GenePT-s (MiniLM cell sentences, top 1,000 genes)", "minilm", lambda d, c: c["s"][d.name]),
            ("C. one change from the default", "mean of GenePT-scaled and GenePT-s (both L2)", "minilm", lambda d, c: l2(l2(c["default"][d.name]) + l2(c["s"][d.name]))),
        ]
    rows += [
        ("D. references", PCA_ROW, "", lambda d, c: _pca(d)),
        ("D. references", PCA_SCALED_ROW, "", lambda d, c: pca_scaled(d)),
        ("D. references", "PCA-50 with `sc.pp.scale(max_value=10)`", "", lambda d, c: pca_scaled(d, max_value=10.0)),
    ]
    return rows


def same_geometry(A: np.ndarray, B: np.ndarray) -> bool:
    """Whether two embeddings of the same cells have the same inner products (to float32 rounding)."""
    if A.shape[0] != B.shape[0]:
        return False
    GA, GB = A.astype(np.float64) @ A.T.astype(np.float64), B.astype(np.float64) @ B.T.astype(np.float64)
    return bool(np.abs(GA - GB).max() <= 1e-4 * np.abs(GB).max())


def _centre(Y: np.ndarray) -> np.ndarray:
    return (Y - Y.mean(axis=0)).astype(np.float32)


def _pca(d: Dataset) -> np.ndarray:
    from genept.evaluation.baselines import pca_baseline

    return pca_baseline(d.adata)


def _hvg_mask(d: Dataset, ctx) -> np.ndarray:
    mask = np.zeros(d.X.shape[1], dtype=bool)
    mask[ctx["steps"][d.name]["_hvg"]] = True
    return mask


def fmt(v: dict | None, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return f"{v['mean']:.{digits}f} ± {v['sd']:.{digits}f}" if v.get("sd") else f"{v['mean']:.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--genes", default=str(ROOT / "bench_out" / "genes_minilm.npz"), help="MiniLM gene embeddings (.npz)")
    parser.add_argument("--seeds", type=int, default=5, help="k-means seeds and kNN split seeds (5-fold each)")
    parser.add_argument("--with-s", action="store_true", help="add GenePT-s rows (MiniLM cell sentences; slow)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "quality_ablation.md"))
    args = parser.parse_args()
    t_start = time.perf_counter()
    # The commit the code ran at (read first: later commits during a long run must not be credited).
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "benchmarks/quality_ablation.py"], capture_output=True, text=True, cwd=ROOT, check=False).stdout.strip()
    head += " + uncommitted changes" if dirty else ""

    from genept.embeddings import GeneEmbeddings
    from genept.encoders import get_encoder
    from genept.evaluation.baselines import random_gene_embeddings

    timings: dict[str, float] = {}
    ctx: dict = {"minilm": GeneEmbeddings.load(args.genes)}
    ctx["random"] = random_gene_embeddings(ctx["minilm"], seed=0)
    t0 = time.perf_counter()
    for key, template in (("static", "default"), ("static_summary", "summary-only"), ("static_composed", "composed")):
        ctx[key] = static_embeddings(template)
    timings["static gene embeddings (3 corpora)"] = time.perf_counter() - t0
    encoders = {"minilm": get_encoder("minilm"), "static": get_encoder("static")}
    for name, enc in encoders.items():
        meta = ctx["minilm" if name == "minilm" else "static"].meta.get("encoder")
        if meta != enc.identity:
            raise SystemExit(f"{name} gene embeddings were made with {meta}, not {enc.identity}")

    datasets = {name: Dataset(name) for name in DATASETS}
    t0 = time.perf_counter()
    ctx["default"] = {name: scaled(d, ctx["minilm"]) for name, d in datasets.items()}
    timings["GenePT-scaled, 3 datasets (fit + transform)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ctx["w"] = {name: genept_w(d, ctx["minilm"]) for name, d in datasets.items()}
    timings["GenePT-w, 3 datasets"] = time.perf_counter() - t0
    ctx["steps"] = {name: scaled_steps(d, ctx["minilm"]) for name, d in datasets.items()}
    if args.with_s:
        import anndata as ad

        from genept import tl

        ctx["s"] = {}
        t0 = time.perf_counter()
        for name, d in datasets.items():
            work = ad.AnnData(X=d.X, obs=d.adata.obs[[]], var=d.adata.var[[]])
            tl.embed_cells(work, method="s", encoder=encoders["minilm"], cache=False, show_progress=False)
            ctx["s"][name] = np.asarray(work.obsm["X_genept_s"], dtype=np.float32)
        timings["GenePT-s (MiniLM), 3 datasets"] = time.perf_counter() - t0

    results: dict[tuple[str, str], dict] = {}
    embeddings: dict[tuple[str, str], np.ndarray] = {}
    rows = plan(args)
    t0 = time.perf_counter()
    for section, row, enc_name, build in sorted(rows, key=lambda r: r[1] != DEFAULT_ROW):  # the default first
        for name, d in datasets.items():
            Y = build(d, ctx)
            if row != DEFAULT_ROW and same_geometry(Y, ctx["default"][name]):
                # Distances equal the default's (an isometric image of the same PCA): so are the
                # kNN / k-means / mixing scores; verified here, not assumed, then reused.
                res = {k: v for k, v in results[(DEFAULT_ROW, name)].items() if k != "zero_shot"} | {"same_geometry": True}
            else:
                res = cell_scores(Y, d, args.seeds)
            if enc_name:
                res["zero_shot"] = zero_shot(Y, d, encoders[enc_name])
                embeddings[(row, name)] = Y
            results[(row, name)] = res
            print(f"{row[:60]:60s} {name:12s} F1 {fmt(res['f1'])}  ARI {fmt(res['ari'])}  mix {fmt(res['mix'])}", flush=True)
        if enc_name:
            results[(row, "transfer")] = {"f1": transfer(embeddings[(row, "Baron human")], datasets["Baron human"], embeddings[(row, "Baron mouse")], datasets["Baron mouse"])}
    timings["embedding + scoring all rows"] = time.perf_counter() - t0
    total = time.perf_counter() - t_start

    text = report(args, rows, datasets, results, timings, total, head)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"wrote {out} ({total:.0f} s)")
    return 0


def report(args, rows, datasets, results, timings, total, head) -> str:
    cmd = "python benchmarks/quality_ablation.py" + (" --with-s" if args.with_s else "") + ("" if args.seeds == 5 else f" --seeds {args.seeds}")
    n_folds = 5 * args.seeds
    genes_line = (
        f"Gene embeddings: `{os.path.relpath(args.genes, ROOT)}` (all-MiniLM-L6-v2 on the RefSeq r220 corpus, 384-d) unless a "
        "row says static (model2vec distilled from the same MiniLM, 256-d, gene texts embedded during the run)."
    )
    scores_line = (
        f"Scores (`genept.evaluation.cells`): **F1** = 10-NN cosine macro-F1, stratified 5-fold CV x {args.seeds} split seeds "
        f"(mean ± sd over the {n_folds} folds); **ARI / AMI** = k-means (k = number of labels, 10 restarts) against the labels, "
        f"mean ± sd over {args.seeds} seeds; **mix** = `batch_mixing` ratio (same-batch share of the 10 nearest neighbours over "
        "its random expectation; 1 = batches fully mixed; lower is better); **bARI** = ARI of the k-means clusters with the "
        "batch (lower is better); **zs** = zero-shot accuracy / macro-F1 from written label descriptions "
        "(`genept.text.text_scores`, centred; only for embeddings in the text space); cross-species = human-to-mouse 10-NN "
        "transfer macro-F1 on the 11 pancreas labels both sets share. ≡ marks rows whose cell-to-cell inner products equal "
        "the default's (checked in the run): their cell-type and batch scores are the default's by construction and are reused."
    )
    default_line = (
        "`genept.tl.embed_cells(adata, gene_embeddings)` (`method=\"scaled\"`, `genept.cells.scaled`): log1p of counts per "
        "10,000, the 2,000 most variable genes (scanpy `seurat` flavour), z-scored per gene (no clipping), their 50 principal "
        "axes, and each axis mapped into the text space through the text embeddings of its gene loadings, made orthonormal "
        "(Löwdin). Each cell is a weighted sum of gene embeddings, and distances between cells are exactly those of PCA-50 "
        "of scaled expression. The paper's GenePT-w stays available as `method=\"w\"`."
    )
    lines = [
        "# Cell-embedding quality ablation (issue 9)",
        "",
        f"Command: `{cmd}` (commit `{head}`, {dt.date.today().isoformat()}, 2 shared CPU cores, {total / 60:.1f} min wall clock).",
        genes_line,
        "",
        scores_line,
        "",
        "## Chosen default: GenePT-scaled",
        "",
        default_line,
        "",
        "| dataset | embedding | F1 | ARI | AMI | mix ↓ | bARI ↓ | zs acc |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary = (
        ("GenePT-scaled (default)", DEFAULT_ROW),
        ("PCA-50 + `sc.pp.scale`", PCA_SCALED_ROW),
        ("PCA-50, `pca_baseline` (no scale)", PCA_ROW),
        ("GenePT-w (paper)", rows[0][1]),
    )
    for name in datasets:
        for label, row in summary:
            r = results[(row, name)]
            zs = f"{r['zero_shot'][0]:.3f}" if "zero_shot" in r else "–"
            lines.append(f"| {name} | {label} | {fmt(r['f1'])} | {fmt(r['ari'])} | {fmt(r['ami'])} | {fmt(r['mix'])} | {fmt(r['batch_ari'])} | {zs} |")
    transfer_line = (
        f"Human-to-mouse transfer: GenePT-scaled {results[(DEFAULT_ROW, 'transfer')]['f1']:.3f}, GenePT-w "
        f"{results[(rows[0][1], 'transfer')]['f1']:.3f}; PCA has no space shared across species."
    )
    lines += [
        "",
        transfer_line,
        "",
        "## Ablation",
        "",
    ]
    for name in datasets:
        d = datasets[name]
        lines += [f"### {name}: {d.X.shape[0]:,} cells, {len(set(d.labels))} labels (`{d.label_key}`), batches `{d.batch_key}` ({len(set(d.batch))})", ""]
        lines += ["| | embedding | F1 | ARI | AMI | mix ↓ | bARI ↓ | zs acc / F1 |", "|---|---|---|---|---|---|---|---|"]
        for section, row, _, _ in rows:
            r = results[(row, name)]
            zs = f"{r['zero_shot'][0]:.3f} / {r['zero_shot'][1]:.3f}" if "zero_shot" in r else "–"
            same = " ≡" if r.get("same_geometry") else ""
            lines.append(f"| {section[0]} | {row}{same} | {fmt(r['f1'])} | {fmt(r['ari'])} | {fmt(r['ami'])} | {fmt(r['mix'])} | {fmt(r['batch_ari'])} | {zs} |")
        lines.append("")
    lines += ["### Cross-species transfer (Baron human -> Baron mouse, 10-NN, shared labels)", "", "| embedding | macro-F1 |", "|---|---|"]
    for _, row, enc_name, _ in rows:
        if enc_name:
            lines.append(f"| {row} | {results[(row, 'transfer')]['f1']:.3f} |")
    sections = (
        "Sections: A = plain GenePT-w variants, B = steps from a projection of scaled expression to the default, "
        "C = one change from the default, D = PCA references."
    )
    lines += ["", sections, "", "## Timings (2 shared cores, wall clock)", ""]
    lines += [f"- {k}: {v:.1f} s" for k, v in timings.items()]
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
