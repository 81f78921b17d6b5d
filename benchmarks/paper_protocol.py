"""The GenePT paper's cell protocol (``bench cells --protocol genept-paper``) on the three shared cell sets.

Claim checked: what the paper's Table 2 / C4 protocol gives for genept's offline gene embeddings
(hashing = lexical baseline, static = model2vec distilled from MiniLM), beside the controls of the
same run: GenePT-w from random Gaussian gene vectors (same genes, same dimension) and raw-expression
PCA. Cell embeddings, all through ``genept.evaluation``:

- ``genept_w:<enc>``: GenePT-w as the paper (log1p of counts per 10,000 as weights, L2-normalised);
- ``random_w:<enc>``: the same with random gene vectors (control);
- ``genept_scaled:<enc>``: genept's default;
- ``genept_s:static``: GenePT-s, the paper's sentence (prefix, top 1,000 genes), static encoder
  (every gene read);
- ``ensemble``: the paper's ensemble of GenePT-w and GenePT-s (mean of L2-normalised vectors;
  no scGPT embedding is available here);
- ``pca``: normalize_total, log1p, 2,000 HVG, 50 PCs.

k-means, ASW and the 80/20 10-NN split are run for seeds 0..n-1 (the paper reports one run);
mean +- sd over seeds.

Usage::

    nice -n 10 .venv/bin/python benchmarks/paper_protocol.py --seeds 3 --out benchmarks/results/paper_protocol.md
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SETS = {
    "Baron human pancreas": ("cells/baron2016_human_pancreas_2142c.h5ad", "cell_type1"),
    "Baron mouse pancreas": ("cells/baron2016_mouse_pancreas_1886c.h5ad", "cell_type1"),
    "Kang PBMC": ("cells/kang2018_pbmc_ifnb_1556c.h5ad", "cluster_id"),
}


def gene_embeddings() -> dict:
    from genept import build_corpus, embed_genes
    from genept.genes.sources.files import read_summary_table

    texts = read_summary_table(DATA / "genes" / "refseq_summaries_human_r220.tsv.gz")
    corpus = build_corpus(list(texts), [texts])
    return {enc: embed_genes(corpus, enc, show_progress=False) for enc in ("hashing", "static")}


def main() -> int:
    from threadpoolctl import threadpool_limits

    from genept._checks import read_h5ad
    from genept.evaluation.cells import cell_embeddings
    from genept.evaluation.metrics import mean_sd
    from genept.evaluation.paper import ensemble, evaluate_paper, genept_s_cells

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "paper_protocol.md"))
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found")
        return 0
    t0 = time.perf_counter()
    genes = gene_embeddings()
    t_genes = time.perf_counter() - t0
    rows: dict[str, dict[str, dict[str, dict]]] = {}
    for title, (rel, label) in SETS.items():
        adata = read_h5ad(DATA / rel)
        embs, info = cell_embeddings(adata, gene_embeddings=genes, transform="log1p_cp10k", seed=0)
        embs["genept_s:static"], _ = genept_s_cells(adata, "static", top_k=1000, windows="all")
        embs["ensemble"], _ = ensemble([embs["genept_w:static"], embs["genept_s:static"]])
        per_seed = []
        with threadpool_limits(1):
            for seed in range(args.seeds):
                per_seed.append(evaluate_paper(embs, adata.obs[label], seed=seed)["tasks"])
        rows[title] = {
            name: {
                m: mean_sd([r[name][part][m] for r in per_seed])
                for part, ms in (("kmeans", ("ari", "ami", "asw")), ("knn", ("accuracy", "precision_macro", "recall_macro", "f1_macro")))
                for m in ms
            }
            for name in embs
        }
        rows[title]["_dims"] = {name: {"dim": int(X.shape[1])} for name, X in embs.items()}
        print(f"{title}: done at {time.perf_counter() - t0:.0f} s", flush=True)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()
    lines = [
        "# The GenePT paper's cell protocol on the shared cell sets",
        "",
        f"`{' '.join([Path(sys.executable).name, *sys.argv])}`; commit `{commit}`; {_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M} UTC; "
        f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (2 shared cores); {time.perf_counter() - t0:.0f} s "
        f"(gene embeddings {t_genes:.0f} s).",
        "",
        "Protocol (`genept.evaluation.paper`): k-means with k = number of labels (ARI, AMI), ASW of the labels "
        "(Euclidean), 10-NN cosine on a random 80/20 split (macro precision / recall / F1); mean ± sd over "
        f"{args.seeds} seeds (k-means seed and split). Gene embeddings: the 15,134 RefSeq r220 summaries, hashing "
        "and static encoders. `genept_w` = GenePT-w with log1p(CP10k) weights as the paper; `random_w` = the same "
        "with random Gaussian gene vectors (control); `genept_s:static` = GenePT-s (prefix, top 1,000 genes); "
        "`ensemble` = mean of L2-normalised `genept_w:static` and `genept_s:static` (no scGPT here); `pca` = "
        "normalize_total, log1p, 2,000 HVG, 50 PCs. These are genept's encoders, not the paper's ada-002.",
        "",
    ]
    for title, res in rows.items():
        dims = res.pop("_dims")
        lines += [f"## {title}", "", "| embedding | dim | ARI | AMI | ASW | 10-NN accuracy | macro precision | macro recall | macro F1 |",
                  "|---|---:|---|---|---|---|---|---|---|"]  # fmt: skip
        for name, r in res.items():
            cells = " | ".join(f"{r[m]['mean']:.3f} ± {r[m]['sd']:.3f}" for m in ("ari", "ami", "asw", "accuracy", "precision_macro", "recall_macro", "f1_macro"))
            lines.append(f"| {name} | {dims[name]['dim']} | {cells} |")
        lines.append("")
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
