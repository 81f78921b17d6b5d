"""Claim: splitting programs.py / queries.py into genept.text + genept.tl changed no number.

Runs the old modules (read from git at ``--old``, the last commit that had them) and the new API
side by side on real data and asserts equality: GO gene sets (real 2022 GO files, three ontology
choices), gene programs on Kang PBMC (membership, summary with TF-IDF names and top GO terms,
enrichment table), program scores, zero-shot annotation with ``method="genes"`` and gene search.
Gene embeddings: the hashing encoder (256-d) over the RefSeq summaries of the shared data, so the
check needs no model. Prints one line per check; any difference raises.

    nice -n 10 .venv/bin/python benchmarks/split_equivalence.py
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--old", default="56c1056", help="commit that still has src/genept/programs.py and queries.py")
    args = p.parse_args()

    old_dir = Path(tempfile.mkdtemp(prefix="genept_old_"))
    for name in ("programs", "queries"):
        src = subprocess.run(["git", "show", f"{args.old}:src/genept/{name}.py"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        (old_dir / f"old_{name}.py").write_text(src.replace("from genept.programs import", "from old_programs import"))
    sys.path.insert(0, str(old_dir))

    import anndata as ad
    import old_programs
    import old_queries
    import pandas as pd
    import scanpy as sc

    from genept import tl
    from genept.embeddings import GeneEmbeddings
    from genept.encoders import get_encoder
    from genept.genes.ontology import read_go_sets

    g = DATA / "genes"
    t = pd.read_csv(g / "refseq_summaries_human_r220.tsv.gz", sep="\t", dtype=str, keep_default_na=False)
    t = t[t["summary"] != ""].drop_duplicates("symbol")
    texts = dict(zip(t["symbol"], t["symbol"] + ": " + t["summary"], strict=True))
    enc = get_encoder("hashing", dim=256)
    emb = GeneEmbeddings(list(texts), enc.encode(list(texts.values())), {"encoder": enc.identity})
    files = (g / "go_annotations_human_2022.tsv.gz", g / "go_terms_2022.tsv.gz", g / "go_parents_2022.tsv.gz")

    def key(f):
        return f.sort_values(["symbol", "go_id"]).reset_index(drop=True)

    t0 = time.perf_counter()
    old_go, old_names = old_programs.read_go_sets(*files)
    t_old = time.perf_counter() - t0
    t0 = time.perf_counter()
    new_go, new_names = read_go_sets(*files)
    t_new = time.perf_counter() - t0
    pd.testing.assert_frame_equal(key(old_go), key(new_go))
    assert old_names == new_names
    print(f"read_go_sets (BP, propagated): identical, {len(new_go):,} gene-term pairs; {t_old:.1f} s old, {t_new:.1f} s new")
    for onts in (["MF"], ["CC", "BP"]):
        a, _ = old_programs.read_go_sets(*files, ontologies=onts)
        b, _ = read_go_sets(*files, ontologies=onts)
        pd.testing.assert_frame_equal(key(a), key(b))
        print(f"read_go_sets ({'+'.join(onts)}): identical, {len(b):,} pairs")

    adata = ad.read_h5ad(DATA / "cells" / "kang2018_pbmc_ifnb_1556c.h5ad")
    a, b = adata.copy(), adata.copy()
    old_programs.gene_programs(a, emb, corpus=texts, annotations=old_go, term_names=old_names)
    tl.gene_programs(b, emb, corpus=texts, annotations=new_go, term_names=new_names)
    pd.testing.assert_series_equal(a.var["genept_programs"], b.var["genept_programs"])
    for part in ("summary", "enrichment"):
        pd.testing.assert_frame_equal(a.uns["genept_programs"][part], b.uns["genept_programs"][part])
    n_prog, n_enr = len(b.uns["genept_programs"]["programs"]), len(b.uns["genept_programs"]["enrichment"])
    print(f"gene_programs (Kang, {adata.n_vars:,} genes): identical membership, summary, enrichment ({n_prog} programs, {n_enr:,} rows)")
    for x in (a, b):
        sc.pp.normalize_total(x, target_sum=1e4)
        sc.pp.log1p(x)
    old_programs.score_programs(a)
    tl.score_programs(b)
    pd.testing.assert_frame_equal(a.obsm["genept_programs_scores"], b.obsm["genept_programs_scores"])
    print(f"score_programs: identical ({a.n_obs:,} cells x {n_prog})")
    labels = {
        "T": "T cell receptor signalling CD3", "B": "B cell receptor immunoglobulin",
        "Mono": "monocyte macrophage lysozyme", "NK": "natural killer cytotoxic granzyme",
    }  # fmt: skip
    old_queries.zero_shot_annotate(a, labels, method="genes", gene_embeddings=emb, encoder=enc)
    tl.zero_shot_annotate(b, labels, method="genes", gene_embeddings=emb, encoder=enc)
    pd.testing.assert_frame_equal(a.obsm["genept_zero_shot_scores"], b.obsm["genept_zero_shot_scores"])
    assert (a.obs["genept_zero_shot"] == b.obs["genept_zero_shot"]).all()
    print("zero_shot_annotate(method='genes'): identical scores and labels")
    q = "interferon antiviral response"
    pd.testing.assert_frame_equal(old_queries.search_genes(q, emb, enc, top_n=50), tl.search_genes(q, emb, enc, top_n=50))
    print("search_genes (top 50): identical")


if __name__ == "__main__":
    main()
