"""Zero-shot cell-type annotation from text: accuracy and macro-F1 on the shared labelled sets.

Cells are embedded twice from the same gene embeddings: GenePT-w (``embed_cells(method="w")``) and
the package default GenePT-scaled (``embed_cells()``, ``obsm["X_genept_scaled"]``). Every label gets
a short written description (below); ``genept.tl.zero_shot_annotate`` labels each cell. Nothing is
trained and no labelled cell is used except to score the result.

The datasets' labels are terse codes (``beta``, ``activated_stellate``, ``t_cell``, ``CD14+
Monocytes``), so each is mapped by hand to a readable name and to a one-sentence description
naming its function and a few canonical marker genes (by HGNC symbol). These texts are benchmark
inputs, not package defaults.

Settings compared on each basis (all through ``zero_shot_annotate``):

- ``0.2 default (text)``: text cosine only (``markers=False, smooth=0, refine=0``: genept 0.2's
  default scoring);
- ``text + calibration``: the text cosine, then the cell-based calibration (kNN smoothing of the
  scores, prototype re-scoring) at the defaults;
- ``text + markers``: text cosine plus the named marker genes' expression, no calibration;
- ``new default``: ``zero_shot_annotate``'s defaults now (text + markers + calibration);
- ``markers only`` (``method="markers"``), without and with calibration;
- ``genes`` (``method="genes"``, 10 text-nearest genes): the 0.2 setting, and with markers +
  calibration.

Tuning rule, fixed before the held-out sets were run with MiniLM: the defaults of
``marker_weight``, ``smooth`` and ``refine`` are the best mean macro-F1 over both bases on Baron
human with the first ``--genes`` (MiniLM; the sweep is printed for that pair only); Baron mouse and
Kang, and the other gene embeddings, are reported as they come.
Not blind: the kinds of evidence and calibration were picked after exploratory runs with the
hashing (bag-of-words) encoder on all three sets.

A fourth data set is held out from every choice: scanpy's bundled ``pbmc68k_reduced`` with the six
descriptions of ``docs/tutorial.ipynb`` (written before this tuning), scored on the described types.

Controls, per dataset: the majority class for every cell; a uniformly random label (mean of 100
draws); **shuffled descriptions**: the descriptions permuted among the labels (a derangement: no
label keeps its own text), then the same setting run again (mean of ``--n-shuffles``
permutations), for the 0.2 default and the new default on each basis.

Usage::

    python benchmarks/zero_shot.py --genes bench_out/genes_minilm.npz
    python benchmarks/zero_shot.py --genes bench_out/genes_minilm.npz bench_out/genes_static_tfidf.npz
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
# The tutorial's descriptions (docs/tutorial.ipynb, written before this benchmark's tuning) for scanpy's
# bundled pbmc68k_reduced: a fourth data set, held out from every choice made here. Four of its ten
# bulk_labels are not described; those cells are annotated but not scored.
TUTORIAL = {
    "CD14+ Monocyte": "classical monocyte expressing CD14, LYZ, S100A8, S100A9",
    "CD19+ B": "B cell expressing CD19, MS4A1, CD79A, CD79B",
    "CD56+ NK": "natural killer cell expressing NCAM1, NKG7, GNLY, GZMB, KLRD1",
    "CD8+ Cytotoxic T": "cytotoxic T cell expressing CD8A, CD8B, CD3E, GZMK",
    "CD4+/CD45RO+ Memory": "memory helper T cell expressing CD4, IL7R, CD3E",
    "Dendritic": "dendritic cell expressing FCER1A, CST3, HLA-DQA1",
}
MARGINS = (0.0, 0.01, 0.02, 0.05, 0.1)
SWEEP_WEIGHTS = (1.0, 2.0, 3.0, 4.0, 8.0)
SWEEP_SMOOTH = (0, 5, 10, 15, 30)
SWEEP_REFINE = (0, 1)
SEARCH_QUERIES = (
    "type I interferon response to virus",
    "interferon-stimulated genes",
    "ribosome",
    "cell",
    "olfactory receptor for odorants",
)
BASES = {"GenePT-w": "X_genept_w", "GenePT-scaled (default)": "X_genept_scaled"}
# setting -> zero_shot_annotate keyword arguments (basis added per basis)
OFF = {"smooth": 0, "refine": 0}
SETTINGS = {
    "0.2 default (text)": {"markers": False, **OFF},
    "text + calibration": {"markers": False},
    "text + markers": {**OFF},
    "new default (text + markers + calibration)": {},
    "new default + prototype re-scoring (refine=1)": {"refine": 1},
    "new default, labels by readable name only": {"texts": "name"},
    "markers only": {"method": "markers", **OFF},
    "markers only + calibration": {"method": "markers"},
}
GENE_SETTINGS = {
    "genes (10), 0.2": {"method": "genes", "markers": False, **OFF},
    "genes (10) + markers + calibration": {"method": "genes"},
}
NEW = "new default (text + markers + calibration)"


def metrics(truth: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    classes = np.unique(truth)  # macro over the true classes; "unassigned" counts as an error
    return float(np.mean(truth == pred)), float(f1_score(truth, pred, labels=classes, average="macro", zero_division=0))


def derangement(n: int, rng: np.random.Generator) -> np.ndarray:
    while True:
        p = rng.permutation(n)
        if not np.any(p == np.arange(n)):
            return p


def annotate(adata, labels: dict[str, str], kwargs: dict, emb, enc, names: dict[str, str] | None = None):
    from genept.tl import zero_shot_annotate

    kw = {"encoder": enc, **kwargs}
    if kw.pop("texts", None) == "name":
        labels = names
    if kw.get("method") == "genes":
        kw["gene_embeddings"] = emb
    out = zero_shot_annotate(adata, labels, copy=True, **kw)
    return out.obs["genept_zero_shot"].astype(str).to_numpy(), out.obsm["genept_zero_shot_scores"].to_numpy(), out.uns["genept_zero_shot"]


def f3(x: tuple[float, float]) -> str:
    return f"{x[0]:.3f} / {x[1]:.3f}"


def run_genes(genes_path: str, args: argparse.Namespace, summary: list, first: bool) -> str:
    import anndata as ad

    from genept import tl
    from genept.embeddings import GeneEmbeddings
    from genept.encoders import get_encoder

    emb = GeneEmbeddings.load(genes_path)
    spec = emb.meta.get("encoder_spec") or emb.meta.get("encoder_name") or "minilm"
    # MiniLM's identity names its compute type; query with the one that made the gene embeddings
    dtype = {"minilm": ("float32" if "dtype=float32" in str(emb.meta.get("encoder")) else "bfloat16")}.get(spec)
    enc = get_encoder(spec, **({"dtype": dtype} if dtype else {}))
    if emb.meta.get("encoder") != enc.identity:
        raise SystemExit(f"{genes_path} was made with {emb.meta.get('encoder')}, not {enc.identity}")
    gname = os.path.basename(genes_path)
    rng = np.random.default_rng(0)
    detail: list[str] = [f"\n## Gene embeddings `{gname}` (encoder `{enc.identity}`)\n"]
    for dname, (rel, col, table) in DATASETS.items():
        adata = ad.read_h5ad(DATA / rel)
        truth = adata.obs[col].astype(str).to_numpy()
        codes = sorted(set(truth))
        labels = {c: table[c][1] for c in codes}
        t0 = time.perf_counter()
        tl.embed_cells(adata, emb, method="w")
        tl.embed_cells(adata, emb)
        t_embed = time.perf_counter() - t0
        counts = pd.Series(truth).value_counts()
        maj = metrics(truth, np.full(len(truth), counts.index[0]))
        uni = np.mean([metrics(truth, rng.choice(codes, size=len(truth))) for _ in range(100)], axis=0)
        detail.append(f"\n### {dname}: {adata.n_obs:,} cells, {len(codes)} labels (`{col}`); both embeddings {t_embed:.0f} s\n")
        t0 = time.perf_counter()
        _, _, info = annotate(adata, labels, {"basis": "X_genept_w"}, emb, enc)
        named = {k: list(v) for k, v in info["marker_genes"].items()}
        detail.append("Marker genes found in the descriptions (`uns[key]['marker_genes']`): "
                      + "; ".join(f"{k}: {', '.join(v) if v else '(none)'}" for k, v in named.items()) + "\n")
        detail.append("| setting | " + " | ".join(f"{b}: acc / macro-F1" for b in BASES) + " |")
        detail.append("|---|" + "---|" * len(BASES))
        res: dict[tuple[str, str], tuple[float, float]] = {}
        preds: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        for sname, kw in {**SETTINGS, **GENE_SETTINGS}.items():
            cells = []
            for bname, basis in BASES.items():
                if kw.get("refine", 1) == 0 and kw.get("smooth", 1) == 0 and kw.get("method") in ("genes", "markers") and bname != next(iter(BASES)):
                    res[(sname, bname)] = res[(sname, next(iter(BASES)))]  # no basis used: same result
                    cells.append("same")
                    continue
                pred, S, _ = annotate(adata, labels, {**kw, "basis": basis}, emb, enc, names={c: table[c][0] for c in codes})
                res[(sname, bname)] = metrics(truth, pred)
                preds[(sname, bname)] = (pred, S)
                cells.append(f3(res[(sname, bname)]))
            detail.append(f"| {sname} | " + " | ".join(cells) + " |")
        shuf: dict[tuple[str, str], np.ndarray] = {}
        for sname in ("0.2 default (text)", NEW):
            cells = []
            for bname, basis in BASES.items():
                runs = []
                for _ in range(args.n_shuffles):
                    perm = derangement(len(codes), rng)
                    shuffled = {c: labels[codes[j]] for c, j in zip(codes, perm, strict=True)}
                    runs.append(metrics(truth, annotate(adata, shuffled, {**SETTINGS[sname], "basis": basis}, emb, enc)[0]))
                shuf[(sname, bname)] = np.mean(runs, axis=0)
                cells.append(f3(tuple(shuf[(sname, bname)])))
            detail.append(f"| control: {sname}, descriptions shuffled among labels ({args.n_shuffles}x) | " + " | ".join(cells) + " |")
        detail.append(f"| control: majority class ({counts.index[0]}) | {f3(maj)} | {f3(maj)} |")
        detail.append(f"| control: uniform random label (100x) | {f3(tuple(uni))} | {f3(tuple(uni))} |")
        detail.append(f"\n({time.perf_counter() - t0:.0f} s for the settings and controls above.)\n")
        if dname.startswith("Baron human") and first:
            detail.append("Tuning sweep (Baron human only; chooses `marker_weight`, `smooth` and `refine`): macro-F1 per basis, then mean\n")
            detail.append("| marker_weight | smooth | refine | " + " | ".join(BASES) + " | mean |\n|---|---|---|" + "---|" * (len(BASES) + 1))
            for w in SWEEP_WEIGHTS:
                for k in SWEEP_SMOOTH:
                    for r in SWEEP_REFINE:
                        kw = {"marker_weight": w, "smooth": k, "refine": r}
                        f1s = [metrics(truth, annotate(adata, labels, {**kw, "basis": b}, emb, enc)[0])[1] for b in BASES.values()]
                        detail.append(f"| {w} | {k} | {r} | " + " | ".join(f"{f:.3f}" for f in f1s) + f" | {np.mean(f1s):.3f} |")
        new = NEW
        for bname in BASES:
            pred, S = preds[(new, bname)]
            detail.append(f"\nNew default on {bname}: recall per label and what it is mistaken for\n")
            detail.append("| label | cells | recall | most common prediction |\n|---|---|---|---|")
            for c in counts.index:
                m = truth == c
                top = pd.Series(pred[m]).value_counts()
                detail.append(f"| {c} | {m.sum()} | {np.mean(pred[m] == c):.2f} | {top.index[0]} ({top.iloc[0]}) |")
            detail.append("\nUnassigned threshold `min_margin` (best minus second-best score; standard deviations of the combined score):\n")
            detail.append("| min_margin | cells assigned | accuracy on assigned | macro-F1 (unassigned = wrong) |\n|---|---|---|---|")
            from genept.text import assign_labels

            for mm in MARGINS:
                p = assign_labels(S, codes, min_margin=mm)
                kept = p != "unassigned"
                acc_kept = float(np.mean(truth[kept] == p[kept])) if kept.any() else float("nan")
                detail.append(f"| {mm:.2f} | {kept.mean():.1%} | {acc_kept:.3f} | {metrics(truth, p)[1]:.3f} |")
        for bname in BASES:
            summary.append((gname, dname, bname, res[("0.2 default (text)", bname)], res[(new, bname)],
                            res[("markers only", bname)], maj, tuple(shuf[("0.2 default (text)", bname)]),
                            tuple(shuf[(new, bname)])))  # fmt: skip

    detail.append(heldout_pbmc68k(emb, enc, args, rng))
    if first:
        from sklearn.metrics import roc_auc_score

        from genept.tl import search_cells

        kang = ad.read_h5ad(DATA / DATASETS["Kang PBMC (IFN-b)"][0])
        tl.embed_cells(kang, emb, method="w")
        stim = kang.obs["group_id"].astype(str).eq("stim").to_numpy()
        detail.append(f"\n### Cell search: Kang, IFN-beta-stimulated vs control cells (`{gname}`)\n")
        detail.append(
            "`search_cells(adata, query, basis='X_genept_w')` (centred); ROC-AUC of the score for stimulated (806) vs control "
            "(750) cells. The stimulation labels are used only to score. Control queries: unrelated or generic text.\n"
        )
        detail.append("| query | ROC-AUC stim vs ctrl |\n|---|---|")
        for q in SEARCH_QUERIES:
            search_cells(kang, q, basis="X_genept_w", encoder=enc)
            detail.append(f"| {q} | {roc_auc_score(stim, kang.obs['genept_search']):.3f} |")
    return "\n".join(detail) + "\n"


def heldout_pbmc68k(emb, enc, args: argparse.Namespace, rng: np.random.Generator) -> str:
    """scanpy's pbmc68k_reduced (log-normalised ``.raw``) with the tutorial's six descriptions."""
    import anndata as ad
    import scanpy as sc
    from sklearn.metrics import f1_score

    from genept import tl

    pbmc = sc.datasets.pbmc68k_reduced()
    adata = ad.AnnData(X=pbmc.raw.X.copy(), obs=pbmc.obs[["bulk_labels"]].copy(), var=pbmc.raw.var.copy())
    tl.embed_cells(adata, emb, method="w")
    tl.embed_cells(adata, emb)
    truth = adata.obs["bulk_labels"].astype(str).to_numpy()
    scored = np.isin(truth, list(TUTORIAL))
    codes = list(TUTORIAL)

    def score(pred: np.ndarray) -> tuple[float, float]:
        t, p = truth[scored], pred[scored]
        return float(np.mean(t == p)), float(f1_score(t, p, labels=codes, average="macro", zero_division=0))

    share = pd.Series(truth[scored]).value_counts(normalize=True)
    maj = score(np.full(len(truth), share.index[0]))
    out = [f"\n### Held out: scanpy's pbmc68k_reduced, the tutorial's descriptions ({scored.sum()} of {len(truth)} cells in "
           f"the {len(codes)} described types are scored; `X` = `.raw`, log-normalised)\n",
           "| setting | " + " | ".join(f"{b}: acc / macro-F1" for b in BASES) + " |", "|---|" + "---|" * len(BASES)]  # fmt: skip
    for sname in ("0.2 default (text)", NEW, "markers only + calibration"):
        cells = [f3(score(annotate(adata, TUTORIAL, {**SETTINGS[sname], "basis": b}, emb, enc)[0])) for b in BASES.values()]
        out.append(f"| {sname} | " + " | ".join(cells) + " |")
    for sname in ("0.2 default (text)", NEW):
        cells = []
        for b in BASES.values():
            runs = []
            for _ in range(args.n_shuffles):
                perm = derangement(len(codes), rng)
                shuffled = {c: TUTORIAL[codes[j]] for c, j in zip(codes, perm, strict=True)}
                runs.append(score(annotate(adata, shuffled, {**SETTINGS[sname], "basis": b}, emb, enc)[0]))
            cells.append(f3(tuple(np.mean(runs, axis=0))))
        out.append(f"| control: {sname}, descriptions shuffled ({args.n_shuffles}x) | " + " | ".join(cells) + " |")
    out.append(f"| control: majority class ({share.index[0]}) | {f3(maj)} | {f3(maj)} |")
    return "\n".join(out) + "\n"


def run(args: argparse.Namespace) -> str:
    summary: list = []
    parts = [run_genes(g, args, summary, first=(i == 0)) for i, g in enumerate(args.genes)]
    lines = [
        "| gene embeddings | dataset | cells | 0.2 default: acc / F1 | new default: acc / F1 | markers only: acc / F1 | "
        "majority: acc / F1 | shuffled descr., 0.2 default | shuffled descr., new default |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for g, d, b, old, new, mk, maj, sh_old, sh_new in summary:
        lines.append(f"| {g} | {d} | {b} | {f3(old)} | {f3(new)} | {f3(mk)} | {f3(maj)} | {f3(sh_old)} | {f3(sh_new)} |")
    return "\n".join(lines) + "\n" + "\n".join(parts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--genes", nargs="+", default=[str(ROOT / "bench_out" / "genes_minilm.npz")],
                   help="gene embeddings (.npz), each made by an encoder that can embed free text")  # fmt: skip
    p.add_argument("--n-shuffles", type=int, default=5, help="description permutations per shuffled control (default 5)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "zero_shot.md"))
    args = p.parse_args()
    t0 = time.perf_counter()
    load0 = os.getloadavg()
    body = run(args)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "benchmarks/zero_shot.py"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.split()[1::2]  # fmt: skip
    dirty = ", ".join(f"`{d}`" for d in dirty)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    genes = " ".join(os.path.relpath(g, ROOT) for g in args.genes)
    cmd = f"python benchmarks/zero_shot.py --genes {genes} --n-shuffles {args.n_shuffles}"
    label_rows = "\n".join(f"| `{k}` | {v[0]} | {v[1]} |" for k, v in {**BARON, **KANG}.items())
    import inspect

    from genept.tl import zero_shot_annotate

    sig = inspect.signature(zero_shot_annotate).parameters
    defaults = ", ".join(f"`{k}={sig[k].default!r}`" for k in ("method", "markers", "marker_weight", "smooth", "refine"))
    text = f"""# Zero-shot cell-type annotation from text descriptions

Command: `{cmd}` (commit `{head}`{f"; uncommitted: {dirty}" if dirty else ""}, {dt.date.today().isoformat()},
{os.cpu_count()} CPU cores shared; load average at start {load0[0]:.2f}, at the end `{uptime}`; {time.perf_counter() - t0:.0f} s in all).
Cells: GenePT-w (`embed_cells(method="w")`, counts weighting) and GenePT-scaled (`embed_cells()`, the package
default `X_genept_scaled`), from the same gene embeddings. Expression for marker genes: `X` (raw counts),
scored as log1p(CP10k) of the marker columns (`counts="normalize"`). Metrics: accuracy and macro-F1 over the dataset's own labels
(`sklearn.metrics.f1_score(average="macro")`); every cell is assigned (`min_margin=0`).

Settings (`genept.tl.zero_shot_annotate`, descriptions below): `0.2 default (text)` = `markers=False, smooth=0,
refine=0` (the scoring of genept 0.2: centred cosine of cell and description embeddings); `text + calibration`
adds the cell-based calibration at the defaults (kNN smoothing of the scores in the basis; prototype re-scoring is
the separate `refine=1` row);
`text + markers` adds the standardised expression of the marker genes named in the description; `new default` =
all of it at the current defaults ({defaults}); `labels by readable name only`: the new default with the short
names (first column of the table at the end) instead of the descriptions; `markers only` = `method="markers"` (no text embedding);
`genes (10)` = `method="genes"`. Shuffled descriptions: the descriptions permuted among the labels (no label keeps
its own), same setting, mean of the permutations. The defaults were chosen on Baron human (sweep below);
Baron mouse and Kang are held out for the values, not for the design (exploratory runs with the hashing encoder
had seen all three sets).

## Summary

{body}
## Label texts

The datasets' label codes mapped by hand to a readable name and a description (`benchmarks/zero_shot.py`).
Only the description is used.

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
