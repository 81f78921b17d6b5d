"""Gene programs on the Kang PBMC set (IFN-beta stimulated vs control): GO enrichment of the programs.

Programs are Leiden communities of the MiniLM gene embeddings of the dataset's genes
(``genept.tl.gene_programs`` defaults: resolution 1, 15 neighbours, programs of >= 5 genes).
Each is named by TF-IDF terms of its RefSeq texts, tested for GO Biological Process enrichment
(annotations propagated to ancestor terms; universe = the grouped genes that carry a BP
annotation; hypergeometric test, Benjamini-Hochberg per program) and scored in every cell
(``score_programs`` on log1p counts per 10k).

Control: the same program sizes filled with randomly drawn genes (10 draws) get the same test.

Usage::

    python benchmarks/programs_kang.py --genes bench_out/genes_minilm.npz --corpus bench_out/corpus_refseq_r220.json.gz
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("GENEPT_PROGRESS", "0")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
ALPHA = 0.05


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--genes", default=str(ROOT / "bench_out" / "genes_minilm.npz"))
    p.add_argument("--corpus", default=str(ROOT / "bench_out" / "corpus_refseq_r220.json.gz"))
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "programs_kang.md"))
    p.add_argument("--figure", default=str(ROOT / "bench_out" / "programs_kang_heatmap.png"))
    args = p.parse_args()

    import anndata as ad
    import scanpy as sc

    from genept._utils import atomic_write
    from genept.embeddings import GeneEmbeddings
    from genept.genes.corpus import GeneCorpus
    from genept.genes.ontology import read_go_sets
    from genept.pl import program_heatmap
    from genept.text import program_enrichment
    from genept.tl import gene_programs, score_programs

    t0 = time.perf_counter()
    emb = GeneEmbeddings.load(args.genes)
    corpus = GeneCorpus.load(args.corpus)
    g = DATA / "genes"
    go, names = read_go_sets(g / "go_annotations_human_2022.tsv.gz", g / "go_terms_2022.tsv.gz", g / "go_parents_2022.tsv.gz")
    t_go = time.perf_counter() - t0
    adata = ad.read_h5ad(DATA / "cells" / "kang2018_pbmc_ifnb_1556c.h5ad")
    t1 = time.perf_counter()
    gene_programs(adata, emb, corpus=corpus, annotations=go, term_names=names)
    t_prog = time.perf_counter() - t1
    info = adata.uns["genept_programs"]
    summary, enr = info["summary"], info["enrichment"]
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    score_programs(adata)
    scores = adata.obsm["genept_programs_scores"]
    by_type = scores.groupby(adata.obs["cluster_id"].astype(str).to_numpy()).mean()
    stim = scores[adata.obs["group_id"].astype(str).eq("stim").to_numpy()].mean()
    ctrl = scores[adata.obs["group_id"].astype(str).eq("ctrl").to_numpy()].mean()
    program_heatmap(adata, "cluster_id", path=args.figure)

    sig = enr[enr["padj"] < ALPHA]
    n_sig = sig.groupby("program").size().reindex(summary.index, fill_value=0)
    # Background = every gene that was grouped (in a program or not): the symbols with embeddings.
    rows = emb.locate(adata.var_names.tolist())
    background = emb.genes[rows[rows >= 0]].tolist()
    sizes = [len(v) for v in info["programs"].values()]
    rng = np.random.default_rng(0)
    rand_hits, rand_any = [], []
    for _ in range(10):
        perm = rng.permutation(background)
        cuts = np.cumsum([0, *sizes])
        rand = {f"R{i}": perm[cuts[i] : cuts[i + 1]].tolist() for i in range(len(sizes))}
        r = program_enrichment(rand, go, background, term_names=names)
        rs = r[r["padj"] < ALPHA].groupby("program").size()
        rand_hits.append(int(rs.sum()))
        rand_any.append(int((rs > 0).sum()))

    lines = []
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    lines.append("# Gene programs on Kang 2018 PBMC (IFN-beta): GO enrichment\n")
    lines.append(
        f"Command: `python benchmarks/programs_kang.py --genes {os.path.relpath(args.genes, ROOT)} --corpus "
        f"{os.path.relpath(args.corpus, ROOT)}` (commit `{head}`, {dt.date.today().isoformat()}, 2 CPU cores)."
    )
    lines.append(
        f"Data: `kang2018_pbmc_ifnb_1556c.h5ad`, {adata.n_obs:,} cells x {adata.n_vars:,} genes; "
        f"{info['params']['n_genes_grouped']:,} genes have a MiniLM embedding and were grouped "
        f"({info['params']['n_genes_without_embedding']} without). GO: BP, 2022 annotations propagated over is_a/part_of, "
        f"evidence ND dropped; {len(background):,} grouped genes, universe = those with a BP annotation "
        f"({int(enr['universe'].iloc[0]) if len(enr) else 0:,}); terms of 5-500 universe genes tested."
    )
    lines.append(
        f"Time: GO tables read and propagated {t_go:.0f} s; `gene_programs` (kNN, Leiden, TF-IDF names, enrichment) {t_prog:.1f} s; "
        f"total {time.perf_counter() - t0:.0f} s.\n"
    )
    lines.append("## Summary\n")
    lines.append(f"- {len(summary)} programs ({sum(sizes):,} genes; sizes {min(sizes)}-{max(sizes)}, median {int(np.median(sizes))}).")
    lines.append(
        f"- Programs with at least one GO BP term at BH-adjusted p < {ALPHA}: **{int((n_sig > 0).sum())} of {len(summary)}**; "
        f"significant (program, term) pairs: {int(n_sig.sum()):,}."
    )
    lines.append(
        f"- Control, random gene sets of the same sizes (10 draws): programs with a significant term "
        f"{np.mean(rand_any):.1f} of {len(sizes)} on average (range {min(rand_any)}-{max(rand_any)}); "
        f"significant pairs {np.mean(rand_hits):.1f} on average."
    )
    lines.append("\n## Programs, best GO terms and where they are active\n")
    lines.append(
        "`terms`: TF-IDF of the members' RefSeq texts. GO: the 3 best terms (BH-adjusted p, fold enrichment). "
        "Activity: the cell type with the highest mean score, and the mean score in IFN-beta-stimulated minus control cells.\n"
    )
    lines.append("| program | genes | terms (text) | best GO BP terms (padj, fold) | top cell type | stim - ctrl |")
    lines.append("|---|---|---|---|---|---|")
    for prog in summary.index:
        e = enr[enr["program"] == prog].sort_values("pvalue").head(3)
        go_txt = "; ".join(f"{r.term_name} ({r.padj:.1e}, {r.fold:.1f}x)" for r in e.itertuples() if r.padj < ALPHA) or "none"
        members = ", ".join(info["programs"][prog][:8]) + (" ..." if len(info["programs"][prog]) > 8 else "")
        lines.append(
            f"| {prog} ({summary.loc[prog, 'n_genes']}) | {members} | {summary.loc[prog, 'terms']} | {go_txt} | "
            f"{by_type[prog].idxmax()} | {stim[prog] - ctrl[prog]:+.3f} |"
        )
    lines.append(f"\nHeatmap (program x cell type, mean score): `{os.path.relpath(args.figure, ROOT)}` (not committed).")
    text = "\n".join(lines) + "\n"
    with atomic_write(args.out, "w") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
