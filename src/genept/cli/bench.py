"""``genept bench genes|cells``: score embeddings against baselines and write a report folder.

The folder holds ``report.md`` (tables, UMAPs, confusion matrices), the PNGs, and
``results.json`` with every number, the seeds, package versions, the command and git commit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

LABEL_FORMAT = (
    "Label files (--labels): one gene per line, 'gene<TAB>label' (comma if the file has no tab); "
    "gene = symbol, alias, Ensembl or Entrez id; label = 0/1 or one of two class names; "
    "optional header line; '#' lines ignored."
)


def _named(specs: list[str]) -> dict[str, str]:
    """``NAME=PATH`` or ``PATH`` (named after the file) -> ``{name: path}``."""
    out: dict[str, str] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            path, name = spec, Path(spec).name.removesuffix(".npz")
        if not Path(path).is_file():
            raise FileNotFoundError(f"gene embedding file {path} not found")
        if name in out:
            raise ValueError(f"two embeddings are called {name!r}; name them with NAME=PATH")
        out[name] = path
    return out


def _bench_genes(args: argparse.Namespace) -> int:
    from genept.embeddings import GeneEmbeddings
    from genept.evaluation.genes import evaluate_genes
    from genept.evaluation.report import write_report

    embeddings = {name: GeneEmbeddings.load(path) for name, path in _named(args.embeddings).items()}
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if args.labels and "property" not in tasks:
        tasks.append("property")
    results = evaluate_genes(
        embeddings,
        args.data_dir,
        tasks=tasks,
        label_files=args.labels,
        random_control=not args.no_random,
        go_max_terms=args.go_max_terms,
        go_propagate=args.go_propagate,
        seed=args.seed,
    )
    report = write_report(args.out, genes=results, command=["genept", *sys.argv[1:]], title="genept gene-level benchmark")
    for task, per_emb in results["tasks"].items():
        for name, r in per_emb.items():
            print(f"{task:<24} {name:<32} {_headline(task, r)}")
    for task, why in results["skipped"].items():
        print(f"{task:<24} skipped: {why}")
    print(f"wrote {report} and {report.parent / 'results.json'}")
    return 0


def _headline(task: str, r: dict) -> str:
    if task == "classes":
        return f"accuracy {r['accuracy']:.3f}  macro F1 {r['f1_macro']:.3f}  ({len(r['classes'])} classes)"
    if task == "ggi":
        return "  ".join(f"AUC({k}) {r[k]['auc']:.3f}" for k in ("sum", "product") if k in r)
    if task == "go":
        a = r["auc"]
        return f"median AUC {a['median']:.3f} [{a['q1']:.3f}, {a['q3']:.3f}] over {r['n_terms']:,} terms"
    return "  ".join(f"{m} AUC {r[m]['auc']['mean']:.3f} ± {r[m]['auc']['sd']:.3f}" for m in ("logreg", "random_forest") if m in r)


def _bench_cells(args: argparse.Namespace) -> int:
    from genept._checks import read_h5ad
    from genept.evaluation.cells import cell_embeddings, evaluate_cells
    from genept.evaluation.report import plot_umaps, write_report

    adata = read_h5ad(args.data)
    for col in [args.label] + ([args.batch] if args.batch else []):
        if col not in adata.obs:
            raise ValueError(f"{args.data} has no obs column {col!r}; columns are {list(adata.obs.columns)}")
    embs, info = cell_embeddings(
        adata,
        gene_embeddings=_named(args.genes),
        obsm_keys=args.obsm,
        layer=args.layer,
        transform=args.transform,
        pca=not args.no_pca,
        random_control=not args.no_random,
        seed=args.seed,
    )
    results = evaluate_cells(
        embs,
        adata.obs[args.label],
        batch=adata.obs[args.batch] if args.batch else None,
        k=args.k,
        scib=args.scib,
        seed=args.seed,
    )
    dataset = Path(args.data).name.removesuffix(".h5ad")
    umaps = {}
    if not args.no_umap:
        colors = [args.label] + ([args.batch] if args.batch else [])
        umaps[dataset] = plot_umaps(embs, adata.obs, colors, args.out, prefix=f"{dataset}_", seed=args.seed)
    entry = {"results": results, "embeddings": info, "label_key": args.label, "batch_key": args.batch, "file": str(args.data)}
    report = write_report(
        args.out, cells={dataset: entry}, umaps=umaps, command=["genept", *sys.argv[1:]], title="genept cell-level benchmark"
    )
    for name, r in results["tasks"].items():
        print(
            f"{name:<28} 10-NN macro F1 {r['knn']['cv']['f1_macro']['mean']:.3f}  k-means ARI {r['kmeans']['ari']['mean']:.3f}"
            f"  AMI {r['kmeans']['ami']['mean']:.3f}  Leiden best ARI {r['leiden']['best_ari']['ari']:.3f}  ASW {r['silhouette']:.3f}"
        )
    for note in results["notes"]:
        print(f"note: {note}")
    print(f"wrote {report} and {report.parent / 'results.json'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser("bench", help="evaluate gene or cell embeddings against baselines; write a report")
    bsub = bench.add_subparsers(dest="bench_command", metavar="SUBCOMMAND", required=True)

    p = bsub.add_parser(
        "genes",
        help="gene-level tasks: gene types, gene-gene interactions, GO terms, binary properties",
        description="Score gene embeddings on gene-level tasks, each beside a random-embedding control "
        "(Gaussian vectors, same genes and dimension). " + LABEL_FORMAT,
    )
    p.add_argument("--embeddings", action="append", required=True, metavar="[NAME=]FILE.npz", help="gene embeddings (repeatable)")
    p.add_argument("--data-dir", default="../shared/data/genes", help="folder with gene_types_geneformer.csv.gz, gene2vec_ggi/, GO tables")
    p.add_argument("--tasks", default="classes,ggi,go", help="comma-separated subset of classes,ggi,go,property (default: classes,ggi,go)")
    p.add_argument(
        "--labels", action="append", default=[], metavar="FILE", help="binary gene label file for the property task (repeatable)"
    )
    p.add_argument("--go-max-terms", type=int, default=None, help="evaluate a random subset of this many GO terms (fixed seed)")
    p.add_argument("--go-propagate", action="store_true", help="propagate GO annotations to ancestor terms (is_a, part_of)")
    p.add_argument("--no-random", action="store_true", help="skip the random-embedding control")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--out", required=True, help="report folder to write")
    p.set_defaults(func=_bench_genes)

    p = bsub.add_parser(
        "cells",
        help="cell-level tasks: kNN annotation, k-means, Leiden, silhouette, batch mixing",
        description="Score GenePT-w (from each --genes file), a random-gene-vector control, raw-expression PCA "
        "and any obsm embedding on the same splits; counts come from X or --layer.",
    )
    p.add_argument("data", help="an .h5ad file with raw counts")
    p.add_argument("--label", required=True, help="obs column with cell types")
    p.add_argument("--batch", help="obs column with batches (donor, sample, ...)")
    p.add_argument("--genes", action="append", default=[], metavar="[NAME=]FILE.npz", help="gene embeddings for GenePT-w (repeatable)")
    p.add_argument("--obsm", action="append", default=[], metavar="KEY", help="an existing obsm embedding to compare (repeatable)")
    p.add_argument("--layer", help="layer with raw counts (default X)")
    p.add_argument("--transform", choices=["counts", "log1p", "log1p_cp10k"], default="counts", help="GenePT-w expression weights")
    p.add_argument("--k", type=int, default=10, help="neighbours for kNN annotation and batch mixing")
    p.add_argument("--scib", action="store_true", help="also compute scib-metrics scores (needs genept[scib]; slow)")
    p.add_argument("--no-pca", action="store_true", help="skip the PCA baseline")
    p.add_argument("--no-random", action="store_true", help="skip the random-gene-vector control")
    p.add_argument("--no-umap", action="store_true", help="skip UMAP figures")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--out", required=True, help="report folder to write")
    p.set_defaults(func=_bench_cells)
