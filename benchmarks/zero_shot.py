"""Zero-shot cell-type annotation from text: accuracy and macro-F1 on the shared labelled sets.

Cells are embedded with GenePT-w (``genept.tl.embed_cells``, default settings) from the MiniLM
gene embeddings of the RefSeq corpus; every label gets a short written description (below); each
cell takes the label whose description embedding is most similar (``genept.text.scores``, ``genept.tl.zero_shot_annotate``). Nothing is
trained and no labelled cell is used.

The datasets' labels are terse codes (``beta``, ``activated_stellate``, ``t_cell``, ``CD14+
Monocytes``), so each is mapped by hand to a readable name and to a one-sentence description
naming its function and a few canonical marker genes (by HGNC symbol, as gene texts name them).
Both are tested: the readable name alone, and the description.

Scoring variants (``S`` = cells x labels):

- ``raw``: cosine of the cell vector with the text vector;
- ``centred``: cosine after subtracting the dataset's mean cell (``center=True``, the default of
  ``zero_shot_annotate``);
- ``centred+z``: ``centred``, then each label's scores standardised across cells;
- ``gene-centred``: cosine after subtracting the mean of all gene embeddings (dataset-free).

Controls: the majority class for every cell; the best variant's predictions shuffled across cells
(same label frequencies, no link to the cell; mean of 100 shuffles); a uniformly random label
(mean of 100 draws).

Usage::

    python benchmarks/zero_shot.py --genes bench_out/genes_minilm.npz            # GenePT-w
    python benchmarks/zero_shot.py --genes bench_out/genes_minilm.npz --with-s   # + GenePT-s
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GENEPT_PROGRESS", "0")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

# label code -> (readable name, description). Markers are standard textbook markers.
BARON = {
    "alpha": ("pancreatic alpha cell", "Pancreatic alpha cell: an islet endocrine cell that secretes glucagon (GCG) to raise blood glucose; expresses GCG, ARX and IRX2."),
    "beta": ("pancreatic beta cell", "Pancreatic beta cell: an islet endocrine cell that produces and secretes insulin (INS) to lower blood glucose; expresses INS, IAPP, MAFA and PDX1."),
    "delta": ("pancreatic delta cell", "Pancreatic delta cell: an islet endocrine cell that secretes somatostatin (SST); expresses SST and HHEX."),
    "gamma": ("pancreatic PP (gamma) cell", "Pancreatic PP (gamma) cell: an islet endocrine cell that secretes pancreatic polypeptide (PPY)."),
    "epsilon": ("pancreatic epsilon cell", "Pancreatic epsilon cell: an islet endocrine cell that secretes ghrelin (GHRL)."),
    "acinar": ("pancreatic acinar cell", "Pancreatic acinar cell: an exocrine cell that makes and secretes digestive enzymes such as trypsin (PRSS1), carboxypeptidase A (CPA1), chymotrypsin (CTRB1) and lipase (PNLIP)."),
    "ductal": ("pancreatic ductal cell", "Pancreatic ductal cell: an epithelial cell lining the pancreatic ducts that secretes bicarbonate; expresses keratin 19 (KRT19), SOX9 and CFTR."),
    "activated_stellate": ("activated pancreatic stellate cell", "Activated pancreatic stellate cell: a myofibroblast that produces collagen and extracellular matrix in fibrosis; expresses COL1A1, COL3A1 and smooth muscle actin (ACTA2)."),
    "quiescent_stellate": ("quiescent pancreatic stellate cell", "Quiescent pancreatic stellate cell (pericyte): a vascular mural cell that stores vitamin A; expresses RGS5, PDGFRB and CSPG4."),
    "endothelial": ("endothelial cell", "Endothelial cell: lines blood vessels and capillaries; expresses PECAM1, VWF, PLVAP and CDH5."),
    "macrophage": ("macrophage", "Macrophage: a phagocytic innate immune cell of the monocyte lineage; expresses CD68, CD163, C1QA and CSF1R."),
    "mast": ("mast cell", "Mast cell: an immune cell with granules of histamine and tryptase (TPSAB1); expresses KIT and CPA3."),
    "t_cell": ("T cell", "T lymphocyte: an adaptive immune cell that recognises antigen with the T cell receptor; expresses CD3E, CD3D and CD2."),
    "T_cell": ("T cell", "T lymphocyte: an adaptive immune cell that recognises antigen with the T cell receptor; expresses CD3E, CD3D and CD2."),
    "B_cell": ("B cell", "B lymphocyte: an adaptive immune cell that makes antibodies; expresses CD19, MS4A1 (CD20) and CD79A."),
    "immune_other": ("immune cell", "Immune cell (leukocyte) of another type; expresses the leukocyte common antigen PTPRC (CD45)."),
    "schwann": ("Schwann cell", "Schwann cell: a glial cell that ensheathes and myelinates peripheral nerves; expresses SOX10, S100B and PLP1."),
}  # fmt: skip
KANG = {
    "B cells": ("B cell", "B lymphocyte: an adaptive immune cell that makes antibodies; expresses CD19, MS4A1 (CD20) and CD79A."),
    "CD4 T cells": ("CD4 T helper cell", "CD4 helper T lymphocyte: a T cell that coordinates immune responses; expresses CD3E, CD4 and IL7R."),
    "CD8 T cells": ("CD8 cytotoxic T cell", "CD8 cytotoxic T lymphocyte: a T cell that kills infected cells; expresses CD3E, CD8A, granzymes (GZMB, GZMK) and perforin (PRF1)."),
    "CD14+ Monocytes": ("CD14+ classical monocyte", "Classical monocyte: a CD14-positive phagocytic blood monocyte; expresses CD14, LYZ, S100A8 and S100A9."),
    "FCGR3A+ Monocytes": ("FCGR3A+ non-classical monocyte", "Non-classical monocyte: a CD16 (FCGR3A)-positive blood monocyte that patrols vessels; expresses FCGR3A, MS4A7 and CX3CR1."),
}  # fmt: skip
DATASETS = {
    "Baron human pancreas": ("cells/baron2016_human_pancreas_2142c.h5ad", "cell_type1", BARON),
    "Baron mouse pancreas": ("cells/baron2016_mouse_pancreas_1886c.h5ad", "cell_type1", BARON),
    "Kang PBMC (IFN-b)": ("cells/kang2018_pbmc_ifnb_1556c.h5ad", "cluster_id", KANG),
}
MARGINS = (0.0, 0.01, 0.02, 0.05, 0.1)
SEARCH_QUERIES = (
    "type I interferon response to virus",
    "interferon-stimulated genes",
    "ribosome",
    "cell",
    "olfactory receptor for odorants",
)


def metrics(truth: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    classes = np.unique(truth)  # macro over the true classes; "unassigned" counts as an error
    return float(np.mean(truth == pred)), float(f1_score(truth, pred, labels=classes, average="macro", zero_division=0))


def score_variants(C: np.ndarray, T: np.ndarray, gene_mean: np.ndarray) -> dict[str, np.ndarray]:
    from genept.encoders.base import l2_normalize
    from genept.text import text_scores

    cen = text_scores(C, T, center=True)
    z = (cen - np.nanmean(cen, axis=0)) / np.nanstd(cen, axis=0)
    return {
        "raw": text_scores(C, T, center=False),
        "centred": cen,
        "centred+z": z,
        "centred, labels centred too": text_scores(C, T - T.mean(axis=0), center=True),
        "gene-centred": l2_normalize(C - gene_mean) @ T.T,
    }


def run(args: argparse.Namespace) -> str:
    import anndata as ad
    import scanpy as sc

    from genept import tl
    from genept.embeddings import GeneEmbeddings
    from genept.encoders import get_encoder
    from genept.text import assign_labels
    from genept.tl import zero_shot_annotate

    emb = GeneEmbeddings.load(args.genes)
    enc = get_encoder("minilm")
    if emb.meta.get("encoder") != enc.identity:
        raise SystemExit(f"{args.genes} was made with {emb.meta.get('encoder')}, not {enc.identity}")
    gene_mean = emb.vectors.mean(axis=0)
    rng = np.random.default_rng(0)
    summary_rows = []
    detail: list[str] = []
    for dname, (rel, col, table) in DATASETS.items():
        adata = ad.read_h5ad(DATA / rel)
        truth = adata.obs[col].astype(str).to_numpy()
        codes = sorted(set(truth))
        names = [table[c][0] for c in codes]
        descs = [table[c][1] for c in codes]
        t0 = time.perf_counter()
        tl.embed_cells(adata, emb)
        tl.embed_cells(adata, emb, transform="log1p_cp10k", key_added="X_genept_w_log1p_cp10k")
        t_w = time.perf_counter() - t0
        t_s = 0.0
        if args.with_s:
            t0 = time.perf_counter()
            tl.embed_cells(adata, method="s", encoder=enc)
            t_s = time.perf_counter() - t0
        T = {"name": enc.encode(names), "description": enc.encode(descs)}
        counts = pd.Series(truth).value_counts()
        maj = np.full(len(truth), counts.index[0])
        acc_maj, f1_maj = metrics(truth, maj)
        uni = [metrics(truth, rng.choice(codes, size=len(truth))) for _ in range(100)]
        results: dict[tuple[str, str, str], tuple] = {}
        plan = [("X_genept_w", "name", None), ("X_genept_w", "description", None),
                ("X_genept_w_log1p_cp10k", "description", ("raw", "centred"))]  # fmt: skip
        if args.with_s:
            plan += [("X_genept_s", "name", ("raw", "centred")), ("X_genept_s", "description", ("raw", "centred"))]
        for basis, text_kind, keep in plan:
            C = np.asarray(adata.obsm[basis], dtype=np.float32)
            for variant, S in score_variants(C, T[text_kind], gene_mean).items():
                if keep is None or variant in keep:
                    pred = assign_labels(S, codes)
                    results[(f"embedding: {basis}", text_kind, variant)] = (S, pred, *metrics(truth, pred))
        # method="genes": the description picks genes, score_genes scores them.
        sc.pp.normalize_total(adata, target_sum=1e4)
        sc.pp.log1p(adata)
        for text_kind, texts in (("name", names), ("description", descs)):
            for n in (10, 25):
                out = zero_shot_annotate(
                    adata, dict(zip(codes, texts, strict=True)), method="genes", gene_embeddings=emb, encoder=enc,
                    n_genes=n, copy=True,
                )  # fmt: skip
                S = out.obsm["genept_zero_shot_scores"].to_numpy()
                pred = out.obs["genept_zero_shot"].astype(str).to_numpy()
                results[("genes", text_kind, f"n_genes={n}")] = (S, pred, *metrics(truth, pred))
        best_key = max(results, key=lambda k: results[k][3])
        best_pred = results[best_key][1]
        shuf = [metrics(truth, rng.permutation(best_pred)) for _ in range(100)]
        timing = f"GenePT-w {t_w:.0f} s" + (f", GenePT-s {t_s:.0f} s" if args.with_s else "")
        detail.append(f"\n### {dname}: {adata.n_obs:,} cells, {len(codes)} labels (`{col}`); embedding: {timing}\n")
        detail.append("| method: cells | label text | scoring | accuracy | macro-F1 |\n|---|---|---|---|---|")
        for (m, text_kind, variant), (_, _, acc, f1) in results.items():
            detail.append(f"| {m} | {text_kind} | {variant} | {acc:.3f} | {f1:.3f} |")
        detail.append(f"| control | majority class ({counts.index[0]}) | | {acc_maj:.3f} | {f1_maj:.3f} |")
        detail.append(
            f"| control | best variant's predictions shuffled (100x) | | {np.mean([s[0] for s in shuf]):.3f} | {np.mean([s[1] for s in shuf]):.3f} |"
        )
        detail.append(f"| control | uniform random label (100x) | | {np.mean([u[0] for u in uni]):.3f} | {np.mean([u[1] for u in uni]):.3f} |")

        default = results[("embedding: X_genept_w", "description", "centred")]
        genes10 = results[("genes", "description", "n_genes=10")]
        summary_rows.append((dname, default, genes10, acc_maj, f1_maj, shuf, best_key, results[best_key]))
        for title, key in (("`method=\"embedding\"` (default)", ("embedding: X_genept_w", "description", "centred")),
                           ("`method=\"genes\"`, 10 genes", ("genes", "description", "n_genes=10"))):  # fmt: skip
            S, pred = results[key][0], results[key][1]
            detail.append(f"\n{title}, descriptions: recall per label and what it is mistaken for\n")
            detail.append("| label | cells | recall | most common prediction |\n|---|---|---|---|")
            for c in counts.index:
                m = truth == c
                top = pd.Series(pred[m]).value_counts()
                detail.append(f"| {c} | {m.sum()} | {np.mean(pred[m] == c):.2f} | {top.index[0]} ({top.iloc[0]}) |")
            unit = "centred cosine" if key[0] != "genes" else "score_genes units"
            detail.append(f"\nUnassigned threshold `min_margin` (best minus second-best score, {unit}):\n")
            detail.append("| min_margin | cells assigned | accuracy on assigned | macro-F1 (unassigned = wrong) |\n|---|---|---|---|")
            for mm in MARGINS:
                p = assign_labels(S, codes, min_margin=mm)
                kept = p != "unassigned"
                acc_kept = float(np.mean(truth[kept] == p[kept])) if kept.any() else float("nan")
                detail.append(f"| {mm:.2f} | {kept.mean():.1%} | {acc_kept:.3f} | {metrics(truth, p)[1]:.3f} |")
            srt = np.sort(np.where(np.isnan(S), -np.inf, S), axis=1)
            q = np.quantile(srt[:, -1] - srt[:, -2], [0.1, 0.5, 0.9])
            detail.append(f"\nMargin quantiles (10/50/90%): {q[0]:.3f} / {q[1]:.3f} / {q[2]:.3f}")

    # Cell search: does a text query find the IFN-beta-stimulated cells of Kang (labels unused)?
    from sklearn.metrics import roc_auc_score

    from genept.tl import search_cells

    kang = ad.read_h5ad(DATA / DATASETS["Kang PBMC (IFN-b)"][0])
    tl.embed_cells(kang, emb)
    stim = kang.obs["group_id"].astype(str).eq("stim").to_numpy()
    detail.append("\n## Cell search: Kang, IFN-beta-stimulated vs control cells\n")
    detail.append(
        "`search_cells(adata, query)` (GenePT-w, centred); ROC-AUC of the score for stimulated (806) vs control (750) cells. "
        "The stimulation labels are used only to score. Control queries: unrelated or generic text.\n"
    )
    detail.append("| query | ROC-AUC stim vs ctrl |\n|---|---|")
    for q in SEARCH_QUERIES:
        search_cells(kang, q, encoder=enc)
        detail.append(f"| {q} | {roc_auc_score(stim, kang.obs['genept_search']):.3f} |")

    lines = [
        "| dataset | default (embedding): acc / macro-F1 | genes (10): acc / macro-F1 | majority: acc / F1 | shuffled: acc / F1 | best variant: acc / F1 |",
        "|---|---|---|---|---|---|",
    ]
    for dname, d, g, am, fm, shuf, bk, b in summary_rows:
        lines.append(
            f"| {dname} | {d[2]:.3f} / {d[3]:.3f} | {g[2]:.3f} / {g[3]:.3f} | {am:.3f} / {fm:.3f} | "
            f"{np.mean([s[0] for s in shuf]):.3f} / {np.mean([s[1] for s in shuf]):.3f} | {' / '.join(bk)}: {b[2]:.3f} / {b[3]:.3f} |"
        )
    return "\n".join(lines) + "\n" + "\n".join(detail) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--genes", default=str(ROOT / "bench_out" / "genes_minilm.npz"), help="MiniLM gene embeddings (.npz)")
    p.add_argument("--with-s", action="store_true", help="also test GenePT-s cell embeddings (slower: encodes every cell)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "zero_shot.md"))
    args = p.parse_args()
    t0 = time.perf_counter()
    body = run(args)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    cmd = "python benchmarks/zero_shot.py --genes " + os.path.relpath(args.genes, ROOT) + (" --with-s" if args.with_s else "")
    label_rows = "\n".join(f"| `{k}` | {v[0]} | {v[1]} |" for k, v in {**BARON, **KANG}.items())
    text = f"""# Zero-shot cell-type annotation from text descriptions

Command: `{cmd}` (commit `{head}`, {dt.date.today().isoformat()}, 2 CPU cores, {time.perf_counter() - t0:.0f} s in all).
Gene embeddings: `{os.path.relpath(args.genes, ROOT)}` (all-MiniLM-L6-v2 on the RefSeq r220 corpus, 384-d).
Cells: GenePT-w, `genept.tl.embed_cells` defaults (counts weighting, L2 rows), and for comparison with
`transform="log1p_cp10k"` weights. No cell label is used except to score the result.
Default = `genept.tl.zero_shot_annotate` defaults (`method="embedding"`, `center=True`,
`min_margin=0`: every cell gets a label) with the description texts. `genes` = `method="genes"`: each
description picks its closest `n_genes` genes of the dataset, scored with `scanpy.tl.score_genes` on
log1p(CP10k). Metrics: accuracy and macro-F1 over the dataset's own labels
(`sklearn.metrics.f1_score(average="macro")`). Scoring variants of `method="embedding"`: `raw` cosine;
`centred` (the mean cell subtracted; default); `centred+z` (then each label z-scored across cells);
`labels centred too` (the mean label embedding subtracted from the label embeddings as well);
`gene-centred` (the mean of all gene embeddings subtracted from the cells).

{body}
## Label texts

The datasets' label codes mapped by hand to a readable name and a description (`benchmarks/zero_shot.py`).

| code | name | description |
|---|---|---|
{label_rows}
"""
    from genept._utils import atomic_write

    with atomic_write(args.out, "w") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
