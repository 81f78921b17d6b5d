"""``genept programs``, ``genept annotate``, ``genept search-genes``: text meets embeddings.

Argument parsing and printing only: the work is done by :func:`genept.tl.gene_programs`,
:func:`genept.tl.score_programs`, :func:`genept.tl.zero_shot_annotate`, :func:`genept.tl.search_genes`
and :func:`genept.pl.program_heatmap`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genept._io import write_h5ad
from genept._utils import atomic_write


def _read_h5ad(path: str):
    from genept._checks import read_h5ad

    return read_h5ad(path)


def _load_genes(path: str):
    from genept.embeddings import load_gene_embeddings

    return load_gene_embeddings(path)


def _say_if_normalized(adata, key: str) -> None:
    if adata.uns[key]["params"].get("lognormalized"):
        print(f"{adata.uns[key]['params']['expression']} looks like raw counts: scored on log1p(counts per 10,000)")


def _programs(args: argparse.Namespace) -> int:
    import pandas as pd

    from genept import pl, tl
    from genept.genes.ontology import read_go_sets

    if bool(args.go_annotations) != bool(args.go_terms):
        raise ValueError("give --go-annotations and --go-terms together")
    adata = _read_h5ad(args.input)
    emb = _load_genes(args.genes)
    corpus = None
    if args.corpus:
        from genept.genes.corpus import GeneCorpus

        corpus = GeneCorpus.load(args.corpus)
    annotations = names = None
    if args.go_annotations:
        annotations, names = read_go_sets(args.go_annotations, args.go_terms, args.go_parents, ontologies=args.ontology)
    genes = None
    if args.genes_from:
        from genept.genes.ids import read_gene_list

        genes = read_gene_list(args.genes_from)
    tl.gene_programs(
        adata, emb, resolution=args.resolution, n_neighbors=args.n_neighbors, genes=genes, species=args.species,
        min_size=args.min_size, corpus=corpus, annotations=annotations, term_names=names, seed=args.seed,
    )  # fmt: skip
    # Without --layer, X is scored, log-normalised first when it holds counts; a given layer is scored as it is.
    tl.score_programs(adata, layer=args.layer, counts="normalize" if args.layer is None else "warn")
    _say_if_normalized(adata, "genept_programs_scores")
    info = adata.uns["genept_programs"]
    summary = info["summary"]
    n_in = int(adata.var["genept_programs"].notna().sum())
    print(f"{len(summary)} programs from {info['params']['n_genes_grouped']:,} genes ({n_in:,} in programs)")
    with pd.option_context("display.max_colwidth", 60, "display.width", 200):
        print(summary.drop(columns=["genes"]).head(args.show).to_string())
    write_h5ad(adata, args.output)
    print(f"wrote {args.output} (var['genept_programs'], uns['genept_programs'], obsm['genept_programs_scores'])")
    if args.report:
        report = Path(args.report)
        report.mkdir(parents=True, exist_ok=True)
        with atomic_write(report / "programs.tsv", "w") as fh:
            summary.to_csv(fh, sep="\t")
        members = adata.var["genept_programs"].dropna()
        with atomic_write(report / "members.tsv", "w") as fh:
            members.rename_axis("gene").to_frame("program").to_csv(fh, sep="\t")
        if "enrichment" in info:
            with atomic_write(report / "enrichment.tsv", "w") as fh:
                info["enrichment"].to_csv(fh, sep="\t", index=False)
        if args.groupby:
            pl.program_heatmap(adata, args.groupby, path=report / "heatmap.png")
        print(f"wrote report to {report}/ ({', '.join(sorted(p.name for p in report.iterdir()))})")
    return 0


def _parse_labels(items: list[str]) -> dict[str, str]:
    """``"name: description"`` strings (or plain names), or one label file (.tsv/.csv/.json or one label per line)."""
    from genept.text.labels import parse_label_lines, read_label_file

    if len(items) == 1 and Path(items[0]).is_file():
        return read_label_file(items[0])
    return parse_label_lines(items, "--labels")


def _annotate(args: argparse.Namespace) -> int:
    from genept import tl

    if args.reference:
        from genept.cli.annotate import annotate_from_reference

        return annotate_from_reference(args)
    if args.labels and args.labels_file:
        raise ValueError("give --labels or --labels-file, not both")
    if not args.labels and not args.labels_file:
        raise ValueError(
            "give --labels or --labels-file (zero-shot) or --reference REF.h5ad --label COL (label transfer from a labelled reference)"
        )
    if args.labels_file:
        from genept.text.labels import read_label_file

        labels = read_label_file(args.labels_file)
    else:
        labels = _parse_labels(args.labels)
    adata = _read_h5ad(args.input)
    if args.method == "genes" and not args.genes:
        raise ValueError("--method genes needs --genes GENES.npz")
    # method=embedding needs the cell embeddings; the others use them to smooth and refine.
    calibrate = args.refine > 0 or args.smooth > 1
    if args.basis not in adata.obsm and (args.method == "embedding" or calibrate):
        if not args.genes:
            raise ValueError(
                f"{args.input} has no obsm[{args.basis!r}]: pass --genes GENES.npz to embed the cells (GenePT-scaled) first, "
                "or run `genept embed-cells`" + ("" if args.method == "embedding" else ", or pass --smooth 0 --refine 0")
            )
        tl.embed_cells(adata, _load_genes(args.genes), key_added=args.basis)
    extra = {}
    if args.method == "genes":
        extra = {"gene_embeddings": _load_genes(args.genes), "n_genes": args.n_genes}
    # Without --layer, X is scored (log-normalised first when it holds counts); a given layer is scored as it is.
    tl.zero_shot_annotate(
        adata, labels, method=args.method, basis=args.basis, encoder=args.encoder, min_margin=args.min_margin,
        center=not args.no_center, markers=not args.no_markers, marker_weight=args.marker_weight, smooth=args.smooth,
        refine=args.refine,
        layer=args.layer, counts="normalize" if args.layer is None else "warn", species=args.species,
        key_added=args.key_added, **extra,
    )  # fmt: skip
    info = adata.uns[args.key_added]
    if "expression" in info["params"]:
        _say_if_normalized(adata, args.key_added)
    table = info.get("marker_genes")
    named = {k: g.split(", ") for k, g in table["genes"].items() if g} if table is not None else {}
    if named:
        print("marker genes named in the descriptions: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in named.items()))
    counts = adata.obs[args.key_added].value_counts()
    for name, n in counts.items():
        print(f"{n:>8,}  {name}")
    write_h5ad(adata, args.output)
    print(f"wrote {args.output} (obs[{args.key_added!r}], obsm[{args.key_added + '_scores'!r}])")
    return 0


def _search_genes(args: argparse.Namespace) -> int:
    from genept import tl

    hits = tl.search_genes(args.query, _load_genes(args.genes), args.encoder, top_n=args.top)
    print(hits.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "programs",
        help="gene programs: Leiden communities of gene embeddings, named, GO-tested and scored in cells",
        description="Groups the genes of IN.h5ad (highly variable genes if marked, else all) by their text embeddings, "
        "names each group from its genes' texts (--corpus) and tests GO enrichment (--go-annotations/--go-terms), "
        "then scores every program in every cell.",
    )
    p.add_argument("input", metavar="IN.h5ad")
    p.add_argument("--genes", required=True, metavar="GENES.npz", help="gene embeddings")
    p.add_argument("-o", "--output", required=True, metavar="OUT.h5ad")
    p.add_argument("--corpus", metavar="CORPUS.json.gz", help="gene text corpus, to name programs by their characteristic terms")
    p.add_argument("--go-annotations", metavar="FILE", help="gene-GO table (symbol, go_id[, evidence, ontology])")
    p.add_argument("--go-terms", metavar="FILE", help="GO term table (go_id, term[, ontology])")
    p.add_argument("--go-parents", metavar="FILE", help="GO parent table: propagate annotations to ancestor terms")
    p.add_argument("--ontology", nargs="+", default=["BP"], choices=["BP", "MF", "CC"], help="GO branches tested (default BP)")
    p.add_argument("--genes-from", metavar="FILE", help="group only these genes (one per line)")
    p.add_argument("--species", choices=["auto", "human", "mouse"], default="auto",
                   help="how gene names are matched to the embeddings (mouse genes through human orthologs; default auto)")
    p.add_argument("--resolution", type=float, default=1.0, help="Leiden resolution (default 1.0)")
    p.add_argument("--n-neighbors", type=int, default=15, help="neighbours per gene (default 15)")
    p.add_argument("--min-size", type=int, default=5, help="smallest program (default 5 genes)")
    p.add_argument("--layer", default=None, help="score this layer (log-normalised); default X, normalised first if it holds counts")
    p.add_argument("--groupby", metavar="COL", help="obs column for the report's program-by-group heatmap")
    p.add_argument("--report", metavar="DIR", help="write programs.tsv, members.tsv, enrichment.tsv (and heatmap.png) here")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--show", type=int, default=20, help="programs printed (default 20)")
    p.set_defaults(func=_programs)

    p = sub.add_parser(
        "annotate",
        help="zero-shot cell types: each cell gets the label whose description its embedding is closest to",
        description="Labels are 'name: description' strings (e.g. 'beta: pancreatic beta cell that secretes insulin; expresses INS, IAPP') "
        "or plain names, or a label file (--labels-file). Gene symbols named in a description are scored in the expression too. "
        "Writes obs[KEY] (label or 'unassigned'), "
        "obs[KEY_margin] and obsm[KEY_scores].",
    )
    p.add_argument("input", metavar="IN.h5ad")
    p.add_argument("--labels", nargs="+", metavar="LABEL", help="'name: description' ... or a file (or use --reference)")
    p.add_argument("--labels-file", metavar="FILE",
                   help="label definitions: .tsv/.csv with name and description columns, .json {name: description}, "
                        "or a text file with one 'name: description' per line")  # fmt: skip
    p.add_argument("-o", "--output", required=True, metavar="OUT.h5ad")
    p.add_argument("--method", choices=["embedding", "genes", "markers"], default="embedding",
                   help="embedding: cosine with the cell embeddings (default); genes: score each label's closest genes; "
                        "markers: only the marker genes named in the descriptions")  # fmt: skip
    p.add_argument("--no-markers", action="store_true",
                   help="do not add the expression of marker genes named in the descriptions (e.g. 'expresses INS, IAPP')")
    p.add_argument("--marker-weight", type=float, default=3.0, help="weight of the marker-gene score against the text score (default 3)")
    p.add_argument("--smooth", type=int, default=10,
                   help="average each cell's scores with its nearest cells in the cell embeddings: cells averaged (default 10; 0: none)")
    p.add_argument("--refine", type=int, default=0,
                   help="prototype re-scoring rounds in the cell embeddings (default 0: none). "
                        "--no-markers --smooth 0 --refine 0 is the scoring of genept 0.2")  # fmt: skip
    p.add_argument("--n-genes", type=int, default=10, help="--method genes: genes per label (default 10)")
    p.add_argument("--species", choices=["auto", "human", "mouse"], default="auto",
                   help="--method genes: how gene names are matched to the embeddings (default auto)")
    p.add_argument("--layer", default=None,
                   help="expression for marker genes and --method genes (log-normalised); default X, normalised first if it holds counts")
    p.add_argument("--basis", default="X_genept_scaled", help="obsm key of the cell embeddings (default X_genept_scaled)")
    p.add_argument("--genes", metavar="GENES.npz", help="gene embeddings: for --method genes, or to embed the cells when the basis is missing")
    p.add_argument("--encoder", default=None, help="encoder that made the embeddings: minilm (default), static, hashing[:DIM], openai:MODEL")
    p.add_argument("--min-margin", type=float, default=0.0, help="unassigned below this best-minus-second score margin (default 0)")
    p.add_argument("--no-center", action="store_true", help="raw cosine instead of subtracting the mean cell")
    p.add_argument("--key-added", default="genept_zero_shot")
    from genept.cli.annotate import add_reference_arguments

    add_reference_arguments(p)
    p.set_defaults(func=_annotate)

    p = sub.add_parser("search-genes", help="the genes whose text embedding is closest to a free-text query")
    p.add_argument("query")
    p.add_argument("--genes", required=True, metavar="GENES.npz", help="gene embeddings")
    p.add_argument("--encoder", default=None, help="encoder that made the gene embeddings (default minilm)")
    p.add_argument("--top", type=int, default=20, help="number of genes (default 20)")
    p.set_defaults(func=_search_genes)
