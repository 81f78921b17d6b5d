"""``genept bench genes|cells``: score embeddings against baselines and write a report folder.

The folder holds ``report.md`` (tables, UMAPs, confusion matrices), ``report.html`` (the same
report as one self-contained page, figures embedded, readable offline), the PNGs, and
``results.json`` with every number, the seeds, package versions, the command and git commit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

#: Environment variable naming the folder with the gene task files (when --data-dir is not given).
DATA_DIR_ENV = "GENEPT_DATA_DIR"
#: Files each gene task reads, relative to the task data folder.
TASK_FILES = {
    "classes": ("gene_types_geneformer.csv.gz",),
    "ggi": ("gene2vec_ggi/train_text.txt", "gene2vec_ggi/train_label.txt", "gene2vec_ggi/test_text.txt", "gene2vec_ggi/test_label.txt"),
    "go": ("go_annotations_human_2022.tsv.gz", "go_parents_2022.tsv.gz"),
}

LABEL_FORMAT = (
    "Label files (--labels): one gene per line, 'gene<TAB>label' (comma if the file has no tab); "
    "gene = symbol, alias, Ensembl or Entrez id; label = 0/1 or one of two class names; "
    "optional header line; '#' lines ignored. Or a CSV/TSV table with a header, columns chosen as "
    "FILE:ID_COLUMN:LABEL_COLUMN (labels 0/1, True/False or two classes; guessed when unambiguous)."
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


def _task_data_dir(given: str | None, tasks: list[str]) -> tuple[Path | None, str]:
    """The folder with the gene task files and where it came from; never the working directory by default."""
    if given:
        return Path(given).expanduser().resolve(), "--data-dir"
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        root = Path(env).expanduser().resolve()
        # GENEPT_DATA_DIR may name the task folder itself or a data root holding it as genes/
        if not (root / TASK_FILES["classes"][0]).exists() and (root / "genes").is_dir():
            root = root / "genes"
        return root, DATA_DIR_ENV
    if any(t in TASK_FILES for t in tasks):
        raise ValueError(
            f"the tasks {', '.join(t for t in tasks if t in TASK_FILES)} read task files, and no folder holding them was "
            f"given: pass --data-dir DIR or set {DATA_DIR_ENV}=DIR (DIR holds {', '.join(f for fs in TASK_FILES.values() for f in fs[:1])}, "
            "...; in the genept repository that is ../shared/data/genes). Or run only --tasks property with --labels FILE."
        )
    return None, "not needed"


def _bench_genes(args: argparse.Namespace) -> int:
    from genept.embeddings import GeneEmbeddings
    from genept.evaluation.genes import evaluate_genes
    from genept.evaluation.report import write_report

    embeddings = {name: GeneEmbeddings.load(path) for name, path in _named(args.embeddings).items()}
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if args.labels and "property" not in tasks:
        tasks.append("property")
    data_dir, origin = _task_data_dir(args.data_dir, tasks)
    if data_dir is not None and not data_dir.is_dir():
        raise FileNotFoundError(f"task data folder {data_dir} (from {origin}) does not exist")
    results = evaluate_genes(
        embeddings,
        data_dir,
        tasks=tasks,
        label_files=args.labels,
        random_control=not args.no_random,
        go_max_terms=args.go_max_terms,
        go_propagate=args.go_propagate,
        seed=args.seed,
    )
    for task, why in results["skipped"].items():
        print(f"{task:<24} skipped: {why}")
    if not results["tasks"]:
        raise ValueError(
            f"every task was skipped ({'; '.join(f'{t}: {w}' for t, w in results['skipped'].items())}); no report was written. "
            f"Check --data-dir / {DATA_DIR_ENV} (now {data_dir}, from {origin}) and --labels."
        )
    inputs = {"task data": f"`{data_dir}` (from {origin})" if data_dir else "none (label files only)"}
    inputs["tasks run"] = ", ".join(results["tasks"])
    if results["skipped"]:
        inputs["tasks skipped"] = "; ".join(f"{t} ({w})" for t, w in results["skipped"].items())
    report = write_report(
        args.out, genes=results, command=["genept", *sys.argv[1:]], title="genept gene-level benchmark", inputs=inputs
    )
    for task, per_emb in results["tasks"].items():
        for name, r in per_emb.items():
            print(f"{task:<24} {name:<32} {_headline(task, r)}")
    print(f"wrote {report}, {report.with_suffix('.html').name} and results.json")
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
    if args.protocol == "genept-paper":
        return _bench_cells_paper(args, adata)
    embs, info = cell_embeddings(
        adata,
        gene_embeddings=_named(args.genes),
        obsm_keys=args.obsm,
        layer=args.layer,
        transform=args.transform or "counts",
        input=args.input_kind,
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
    kind = _input_kind(info, args.input_kind)
    report = write_report(
        args.out, cells={dataset: entry}, umaps=umaps, command=["genept", *sys.argv[1:]], title="genept cell-level benchmark",
        inputs={"expression": kind},
    )  # fmt: skip
    print(f"input: {kind}")
    print(format_cells_summary(results, info))
    for note in results["notes"]:
        print(f"note: {note}")
    print(f"wrote {report}, {report.with_suffix('.html').name} and results.json")
    return 0


def _bench_cells_paper(args: argparse.Namespace, adata: Any) -> int:
    """``bench cells --protocol genept-paper``: Table 2 (k-means ARI / AMI / ASW) and Table C4 (10-NN on 80/20)."""
    from genept.cells.validation import looks_like_counts
    from genept.evaluation.cells import cell_embeddings
    from genept.evaluation.paper import ensemble, ensemble_members, evaluate_paper, genept_s_cells
    from genept.evaluation.published import seed_system
    from genept.evaluation.report import paper_cells_markdown, write_report

    # The paper's GenePT-w weights log-normalised expression (normalize_total, log1p).
    if args.input_kind == "auto":
        counts = looks_like_counts(adata.X if args.layer is None else adata.layers[args.layer])
    else:
        counts = args.input_kind == "counts"
    transform = args.transform or ("log1p_cp10k" if counts else "counts")
    embs, info = cell_embeddings(
        adata, gene_embeddings=_named(args.genes), obsm_keys=args.obsm, layer=args.layer, transform=transform,
        input="counts" if counts else "log1p", pca=not args.no_pca, random_control=not args.no_random, seed=args.seed,
    )  # fmt: skip
    for spec in args.sentence_encoder:
        name = f"genept_s:{spec}"
        embs[name], info[name] = genept_s_cells(adata, spec, layer=args.layer, top_k=args.top_k or None, windows=args.windows)
        info[name]["dim"] = int(embs[name].shape[1])
    members = [m.strip() for m in args.ensemble.split(",") if m.strip()] if args.ensemble else ensemble_members(list(embs))
    unknown = [m for m in members if m not in embs]
    if unknown:
        raise ValueError(f"--ensemble names {unknown}, which are not among the embeddings ({', '.join(embs)})")
    if len(members) >= 2:
        embs["ensemble"], how = ensemble([embs[m] for m in members])
        info["ensemble"] = {"source": f"mean of L2-normalised {' + '.join(members)} ({how})", "dim": int(embs["ensemble"].shape[1])}
    results = evaluate_paper(embs, adata.obs[args.label], k=args.k, seed=args.seed)
    dataset = Path(args.data).name.removesuffix(".h5ad")
    entry = {"results": results, "embeddings": info, "label_key": args.label, "file": str(args.data), "ensemble": members}
    inputs = {"cells": f"`{args.data}`, {adata.n_obs:,} cells, labels `{args.label}`", "protocol": "genept-paper (Table 2 and C4)"}
    report = write_report(
        args.out, command=["genept", *sys.argv[1:]], title="genept cell-level benchmark, the GenePT paper's protocol",
        inputs=inputs, extra=paper_cells_markdown(dataset, entry), reference=False, payload={"cells": {dataset: entry}},
    )  # fmt: skip
    width = max(len("embedding"), *map(len, results["tasks"]))
    head = f"{'embedding':<{width}}  {'system':<10}  {'ARI':>6} {'AMI':>6} {'ASW':>6}  {'acc.':>6} {'P':>6} {'R':>6} {'F1':>6}"
    print(head)
    print("-" * len(head))
    for name, r in results["tasks"].items():
        km, kn = r["kmeans"], r["knn"]
        print(
            f"{name:<{width}}  {seed_system(name) or '-':<10}  {km['ari']:>6.3f} {km['ami']:>6.3f} {km['asw']:>6.3f}  "
            f"{kn['accuracy']:>6.3f} {kn['precision_macro']:>6.3f} {kn['recall_macro']:>6.3f} {kn['f1_macro']:>6.3f}"
        )
    print(f"wrote {report}, {report.with_suffix('.html').name} and results.json")
    return 0


def format_cells_summary(results: dict[str, Any], info: dict[str, Any] | None = None) -> str:
    """The console table of ``bench cells``: kNN macro-F1, k-means ARI / AMI, and batch scores when batches were given.

    Examples
    --------
    >>> r = {"knn": {"cv": {"f1_macro": {"mean": 0.9}}}, "batch_mixing": {"same_batch": 0.6, "expected": 0.5},
    ...      "kmeans": {"ari": {"mean": 0.5}, "ami": {"mean": 0.6}, "batch_ari": {"mean": 0.01}}}
    >>> print(format_cells_summary({"tasks": {"pca": r}, "settings": {"k": 10, "batches": {"a": 1}}}, {"pca": {"dim": 50}}))
    embedding  dim  10-NN F1  k-means ARI  k-means AMI  same-batch kNN (random)  batch ARI
    --------------------------------------------------------------------------------------
    pca         50     0.900        0.500        0.600            0.600 (0.500)      0.010
    """
    s = results.get("settings", {})
    has_batch = bool(s.get("batches"))
    k = s.get("k", 10)
    names = list(results["tasks"])
    width = max([len("embedding"), *map(len, names)])
    head = f"{'embedding':<{width}} {'dim':>4}  {f'{k}-NN F1':>8}  {'k-means ARI':>11}  {'k-means AMI':>11}"
    if has_batch:  # batch scores: lower = batches better mixed
        head += f"  {'same-batch kNN (random)':>23}  {'batch ARI':>9}"
    scib = results.get("scib") or {}
    if scib:
        head += f"  {'scib batch':>10}  {'scib bio':>8}"
    lines = [head, "-" * len(head)]
    for name, r in results["tasks"].items():
        dim = (info or {}).get(name, {}).get("dim", "")
        row = (
            f"{name:<{width}} {dim!s:>4}  {r['knn']['cv']['f1_macro']['mean']:>8.3f}  {r['kmeans']['ari']['mean']:>11.3f}"
            f"  {r['kmeans']['ami']['mean']:>11.3f}"
        )
        if has_batch:
            bm = r["batch_mixing"]
            mixing = f"{bm['same_batch']:.3f} ({bm['expected']:.3f})"
            row += f"  {mixing:>23}  {_num(r['kmeans'].get('batch_ari', {}).get('mean')):>9}"
        if scib:
            sc = scib.get(name, {})
            row += f"  {_num(sc.get('Batch correction')):>10}  {_num(sc.get('Bio conservation')):>8}"
        lines.append(row)
    return "\n".join(lines)


def _num(x: Any) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def register(sub: argparse._SubParsersAction) -> None:
    bench = sub.add_parser(
        "bench",
        help="evaluate gene or cell embeddings against baselines; write a report (report.md, report.html, results.json)",
    )
    bsub = bench.add_subparsers(dest="bench_command", metavar="SUBCOMMAND", required=True)

    p = bsub.add_parser(
        "genes",
        help="gene-level tasks: gene types, gene-gene interactions, GO terms, binary properties",
        description="Score gene embeddings on gene-level tasks, each beside a random-embedding control "
        "(Gaussian vectors, same genes and dimension). Task files come from --data-dir or $"
        + DATA_DIR_ENV
        + ", never from the working directory. "
        + LABEL_FORMAT,
    )
    p.add_argument("--embeddings", action="append", required=True, metavar="[NAME=]FILE.npz", help="gene embeddings (repeatable)")
    p.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help=f"folder with the task files: classes reads DIR/{TASK_FILES['classes'][0]}, ggi reads DIR/gene2vec_ggi/"
        f"{{train,test}}_{{text,label}}.txt, go reads DIR/{TASK_FILES['go'][0]} and DIR/{TASK_FILES['go'][1]}. "
        f"Default: ${DATA_DIR_ENV} (the folder itself, or its genes/ subfolder); never the working directory. "
        "A task whose files are missing is skipped with the missing path; if every task is skipped the exit status is 2",
    )
    p.add_argument("--tasks", default="classes,ggi,go", help="comma-separated subset of classes,ggi,go,property (default: classes,ggi,go)")
    p.add_argument(
        "--labels", action="append", default=[], metavar="FILE[:ID_COLUMN:LABEL_COLUMN]", help="binary gene label file or table for the property task (repeatable)"
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
    p.add_argument(
        "--input-kind", choices=["auto", "counts", "log1p"], default="auto",
        help="what the expression values are: raw counts or log-normalised (default auto: whole numbers on the first "
        "500 rows = counts). GenePT-scaled and PCA log-normalise counts and take log-normalised values as given",
    )  # fmt: skip
    p.add_argument(
        "--transform", choices=["counts", "log1p", "log1p_cp10k"], default=None,
        help="GenePT-w expression weights (default counts; with --protocol genept-paper, log1p_cp10k on counts as the paper)",
    )  # fmt: skip
    p.add_argument(
        "--protocol", choices=["genept", "genept-paper"], default="genept",
        help="genept (default): kNN CV, k-means over seeds, Leiden, ASW, batch scores; genept-paper: the GenePT paper's "
        "Table 2 (k-means ARI / AMI / ASW) and Table C4 (10-NN on one 80/20 split), with the paper's ensemble and its "
        "published numbers beside the measured rows",
    )  # fmt: skip
    p.add_argument(
        "--sentence-encoder", action="append", default=[], metavar="SPEC",
        help="genept-paper: also GenePT-s with this encoder (repeatable), e.g. openai:text-embedding-ada-002 as the paper, or minilm",
    )  # fmt: skip
    p.add_argument("--top-k", type=int, default=1000, help="GenePT-s: genes per sentence (0: all expressed; default 1000, as the paper)")
    p.add_argument(
        "--windows", choices=["all", "first"], default="all",
        help="GenePT-s: all = read every ranked gene (default); first = one string cut at the encoder's limit, as the paper",
    )  # fmt: skip
    p.add_argument(
        "--ensemble", default=None, metavar="A,B[,C]",
        help="genept-paper: embeddings to average (L2-normalised) as the paper's ensemble "
        "(default: the first genept_w:, the first genept_s: and the scGPT obsm key, when at least two exist)",
    )  # fmt: skip
    p.add_argument("--k", type=int, default=10, help="neighbours for kNN annotation and batch mixing")
    p.add_argument("--scib", action="store_true", help="also compute scib-metrics scores (needs genept[scib]; slow)")
    p.add_argument("--no-pca", action="store_true", help="skip the PCA baseline")
    p.add_argument("--no-random", action="store_true", help="skip the random-gene-vector control")
    p.add_argument("--no-umap", action="store_true", help="skip UMAP figures")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--out", required=True, help="report folder to write")
    p.set_defaults(func=_bench_cells)


def _input_kind(info: dict[str, Any], asked: str) -> str:
    """What the expression was taken to be, in words, for the console and the report."""
    kinds = {v.get("input") for v in info.values() if isinstance(v, dict) and v.get("input")}
    kind = kinds.pop() if len(kinds) == 1 else "unknown"
    words = {"counts": "raw counts (log-normalised by GenePT-scaled and PCA)", "log1p": "log-normalised values (used as given, never logged again)"}
    return f"{words.get(kind, kind)}; {'detected from the values' if asked == 'auto' else 'from --input-kind'}"
