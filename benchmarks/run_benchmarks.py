"""The full genept evaluation suite on ../shared/data, for the gene-embedding files given.

One command (from the repository root)::

    .venv/bin/python benchmarks/run_benchmarks.py [--genes bench_out/genes_minilm.npz ...] [--scib]

Without ``--genes`` it uses whichever of ``bench_out/genes_minilm.npz`` and
``bench_out/genes_static.npz`` exist, or else builds a lexical baseline (hashing encoder on the
RefSeq summaries, ``bench_out/genes_hashing384_refseq.npz``); ``--lexical`` adds that baseline anyway.
The run recorded in ``benchmarks/results/benchmarks.md``::

    .venv/bin/python benchmarks/run_benchmarks.py --lexical --scib

Gene level (each embedding beside a random-Gaussian control with the same genes and dimension):
Ensembl gene types, Gene2vec gene-gene interactions, GO terms (direct annotations), and three
binary properties derived here from the shared data (see :func:`derived_label_files`).

Cell level (GenePT-w per embedding, GenePT-w from random gene vectors, raw-expression PCA):
Baron human (``cell_type1``, batch ``donor``), Baron mouse (``cell_type1``, batch ``donor``),
Kang PBMC (``cluster_id``, batch ``patient``) and Kang stimulation (``group_id``, batch ``patient``).

Writes the full report folder (``report.md``, PNGs, ``results.json``) to ``--out`` (default
``bench_out/benchmark_report``) and ``benchmarks/results/benchmarks.md`` + ``benchmarks.json``
(the same numbers without the per-GO-term AUCs and figures).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger("run_benchmarks")
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

CELL_SETS = (
    # (name, file, label, batch, scib)
    ("Baron human pancreas", "baron2016_human_pancreas_2142c.h5ad", "cell_type1", "donor", True),
    ("Baron mouse pancreas", "baron2016_mouse_pancreas_1886c.h5ad", "cell_type1", "donor", True),
    ("Kang PBMC cell types", "kang2018_pbmc_ifnb_1556c.h5ad", "cluster_id", "patient", True),
    ("Kang PBMC stimulation", "kang2018_pbmc_ifnb_1556c.h5ad", "group_id", "patient", False),
)


def _rel(path: Path) -> str:
    return str(path.resolve().relative_to(ROOT)) if path.resolve().is_relative_to(ROOT) else str(path)


def default_gene_files() -> dict[str, Path]:
    found = {p.stem: p for p in (ROOT / "bench_out" / "genes_minilm.npz", ROOT / "bench_out" / "genes_static.npz") if p.exists()}
    return found or lexical_gene_file()


def lexical_gene_file() -> dict[str, Path]:
    """The lexical baseline: feature hashing (384-d) of the RefSeq summaries, built once."""
    path = ROOT / "bench_out" / "genes_hashing384_refseq.npz"
    if not path.exists():
        from genept.embeddings import GeneEmbeddings
        from genept.encoders import get_encoder
        from genept.genes.corpus import build_corpus
        from genept.genes.sources.files import read_summary_table

        corpus = build_corpus(None, [read_summary_table(DATA / "genes" / "refseq_summaries_human_r220.tsv.gz")], compose_missing=False)
        enc = get_encoder("hashing", dim=384)
        genes = corpus.genes
        GeneEmbeddings(genes, enc.encode([corpus[g] for g in genes]), {"encoder": enc.identity, "corpus_hash": corpus.hash}).save(path)
    return {"genes_hashing": path}


def derived_label_files(data_dir: Path, out_dir: Path, *, per_class: int = 1000, seed: int = 0) -> list[Path]:
    """Three binary gene properties built from the shared tables (GenePT's own label sets are not shared).

    - ``tf_vs_other_protein_coding``: genes annotated to GO:0003700 "DNA-binding transcription
      factor activity" or any is_a/part_of descendant (propagated MF annotations, ND excluded) vs
      other protein-coding genes with at least one MF annotation;
    - ``nucleus_vs_plasma_membrane``: direct CC annotation to GO:0005634 (nucleus) but not
      GO:0005886 (plasma membrane), vs the reverse;
    - ``chrX_vs_autosome_protein_coding``: protein-coding genes on chromosome X vs on chromosomes
      1-22 (NCBI gene info); a control where summaries rarely say where a gene lies.

    Each class is sampled down to at most ``per_class`` genes (fixed seed) to keep the random
    forest quick. Files are ``gene<TAB>label`` with a header.
    """
    from genept._utils import atomic_write
    from genept.evaluation.genes import load_go, propagate_annotations

    rng = np.random.default_rng(seed)
    info = pd.read_csv(data_dir / "ncbi_gene_info_human_2022.tsv.gz", sep="\t", dtype=str, keep_default_na=False)
    coding = set(info.loc[info["gene_type"] == "protein-coding", "symbol"])
    go = load_go(data_dir)
    ann = go["annotations"][go["annotations"]["evidence"] != "ND"]
    mf = ann[ann["ontology"] == "MF"]
    mf_prop = propagate_annotations(mf, go["parents"])
    tfs = set(mf_prop.loc[mf_prop["go_id"] == "GO:0003700", "symbol"]) & coding
    other = (set(mf["symbol"]) & coding) - tfs
    cc = ann[ann["ontology"] == "CC"]
    nucleus = set(cc.loc[cc["go_id"] == "GO:0005634", "symbol"])
    membrane = set(cc.loc[cc["go_id"] == "GO:0005886", "symbol"])
    chrom = info[info["gene_type"] == "protein-coding"]
    x_linked = set(chrom.loc[chrom["chromosome"] == "X", "symbol"])
    autosomal = set(chrom.loc[chrom["chromosome"].isin([str(i) for i in range(1, 23)]), "symbol"])
    tasks = {
        "tf_vs_other_protein_coding": (tfs, other, "tf", "other"),
        "nucleus_vs_plasma_membrane": (nucleus - membrane, membrane - nucleus, "nucleus", "plasma_membrane"),
        "chrX_vs_autosome_protein_coding": (x_linked, autosomal, "chrX", "autosome"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (pos, neg, pos_name, neg_name) in tasks.items():
        rows = []
        for genes, label in ((pos, pos_name), (neg, neg_name)):
            genes = sorted(genes)
            pick = rng.choice(len(genes), size=min(per_class, len(genes)), replace=False)
            rows += [(genes[i], label) for i in sorted(pick)]
        path = out_dir / f"{name}.tsv"
        with atomic_write(path, "w") as fh:
            fh.write("gene\tlabel\n" + "".join(f"{g}\t{lab}\n" for g, lab in rows))
        paths.append(path)
        log.info("%s: %d %s, %d %s (before sampling)", name, len(pos), pos_name, len(neg), neg_name)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--genes", action="append", default=[], metavar="[NAME=]FILE.npz", help="gene embeddings (repeatable)")
    parser.add_argument("--data", default=str(DATA), help="the shared data folder")
    parser.add_argument("--out", default=str(ROOT / "bench_out" / "benchmark_report"), help="full report folder")
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results"), help="where benchmarks.md/json go")
    parser.add_argument("--scib", action="store_true", help="also run scib-metrics (slow)")
    parser.add_argument("--lexical", action="store_true", help="add the hashing-encoder (bag of words) gene embeddings as a baseline")
    parser.add_argument("--go-max-terms", type=int, default=None, help="subsample GO terms (fixed seed)")
    parser.add_argument("--skip-genes", action="store_true")
    parser.add_argument("--skip-cells", action="store_true")
    parser.add_argument("--no-umap", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("numba", "matplotlib", "jax", "absl", "h5py"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    import anndata as ad

    from genept._utils import atomic_write
    from genept.cli.bench import _named
    from genept.embeddings import GeneEmbeddings
    from genept.evaluation.cells import cell_embeddings, evaluate_cells
    from genept.evaluation.genes import evaluate_genes
    from genept.evaluation.report import _clean, plot_umaps, render_markdown, write_report

    data, out = Path(args.data), Path(args.out)
    files = {k: Path(v) for k, v in _named(args.genes).items()} if args.genes else default_gene_files()
    if args.lexical:
        files.update(lexical_gene_file())
    log.info("gene embeddings: %s", {k: str(v) for k, v in files.items()})
    start = time.perf_counter()
    # Loaded once: genes and cells use the same vectors even if a file is rewritten meanwhile.
    embeddings = {name: GeneEmbeddings.load(p) for name, p in files.items()}
    genes_res = None
    if not args.skip_genes:
        labels = derived_label_files(data / "genes", out / "labels", seed=args.seed)
        genes_res = evaluate_genes(
            embeddings, data / "genes", tasks=("classes", "ggi", "go", "property"), label_files=labels,
            go_max_terms=args.go_max_terms, seed=args.seed,
        )  # fmt: skip
        log.info("gene tasks done in %.0f s", time.perf_counter() - start)
    cells_res, umaps = {}, {}
    if not args.skip_cells:
        loaded: dict[str, tuple] = {}
        for name, fname, label, batch, scib in CELL_SETS:
            t0 = time.perf_counter()
            if fname not in loaded:
                adata = ad.read_h5ad(data / "cells" / fname)
                embs, info = cell_embeddings(adata, gene_embeddings=embeddings, seed=args.seed)
                loaded = {fname: (adata, embs, info)}  # keep one dataset in memory
            adata, embs, info = loaded[fname]
            res = evaluate_cells(embs, adata.obs[label], batch=adata.obs[batch], scib=args.scib and scib, seed=args.seed)
            cells_res[name] = {"results": res, "embeddings": info, "label_key": label, "batch_key": batch, "file": fname}
            if not args.no_umap and name != "Kang PBMC stimulation":
                colors = [label, batch] + (["group_id"] if "group_id" in adata.obs and label != "group_id" else [])
                prefix = fname.removesuffix(".h5ad") + "_"
                umaps[name] = plot_umaps(embs, adata.obs, colors, out, prefix=prefix, seed=args.seed)
            log.info("%s done in %.0f s", name, time.perf_counter() - t0)
    command = ["python", "benchmarks/run_benchmarks.py", *(argv if argv is not None else sys.argv[1:])]
    report = write_report(out, genes=genes_res, cells=cells_res or None, umaps=umaps, command=command, title="genept benchmarks")
    payload = json.loads((out / "results.json").read_text())
    payload["meta"]["wall_time_s"] = round(time.perf_counter() - start, 1)
    payload["meta"]["gene_embedding_files"] = {k: str(v) for k, v in files.items()}
    for per_emb in (payload.get("genes") or {}).get("tasks", {}).get("go", {}).values():
        per_emb.pop("per_term", None)  # thousands of numbers; kept in the full report folder
    payload.pop("figures", None)
    results = Path(args.results)
    with atomic_write(results / "benchmarks.json", "w") as fh:
        json.dump(_clean(payload), fh, indent=1, allow_nan=False)
    text = render_markdown(genes=genes_res, cells=cells_res or None, meta=payload["meta"], title="genept benchmarks")
    text += f"\nWall time {payload['meta']['wall_time_s']:.0f} s on this machine. Full report with figures: `{_rel(out)}/report.md`.\n"
    with atomic_write(results / "benchmarks.md", "w") as fh:
        fh.write(text)
    log.info("wrote %s, %s and %s", report, results / "benchmarks.md", results / "benchmarks.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
