"""``genept genes ...``: resolve identifiers and build the gene text corpus."""

from __future__ import annotations

import argparse
import json
import sys


def _read_ids(args: argparse.Namespace) -> list[str] | None:
    if getattr(args, "genes_from", None):
        src = args.genes_from
        if src.endswith(".h5ad"):
            import anndata as ad

            return ad.read_h5ad(src, backed="r").var_names.tolist()
        from genept.genes.ids import read_gene_list

        return read_gene_list(src)
    return list(args.ids) if getattr(args, "ids", None) else None


def _resolve(args: argparse.Namespace) -> int:
    from genept.genes.ids import GeneResolver, coverage_report

    ids = _read_ids(args)
    if not ids:
        raise ValueError("give identifiers as arguments or --genes-from FILE (.txt, .tsv or .h5ad)")
    res = GeneResolver.default().resolve(ids, species=args.species)
    if args.output:
        from genept._utils import atomic_write

        with atomic_write(args.output, "w") as fh:
            res.to_csv(fh, sep="\t", index=False)
    elif len(res) <= 50:
        print(res.to_string(index=False))
    print(coverage_report(res), file=sys.stderr)
    return 0


def _build_corpus(args: argparse.Namespace) -> int:
    from genept.genes.corpus import TEMPLATES, build_corpus
    from genept.genes.ids import GeneResolver, coverage_report
    from genept.genes.sources import load_source

    ids = _read_ids(args)
    sources = [load_source(spec, cache_dir=args.cache_dir, genes=ids) for spec in args.source]
    corpus = build_corpus(
        ids,
        sources,
        template=TEMPLATES[args.template],
        compose_missing=not args.no_compose,
        species=args.species,
    )
    corpus.save(args.output)
    print(corpus.summary())
    if ids is not None:
        res = GeneResolver.default().resolve(ids, species=args.species)
        report = coverage_report(res)
        print(report)
        with_text = res["symbol"].isin(list(corpus.texts)).sum()
        print(f"{with_text:,} / {len(ids):,} identifiers have a text ({len(corpus.composed):,} texts composed from structured facts)")
        if args.report:
            from genept._utils import atomic_write

            with atomic_write(args.report, "w") as fh:
                fh.write(json.dumps(report.to_dict(), indent=1))
    print(f"wrote {args.output}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    genes = sub.add_parser("genes", help="gene identifiers, texts and embeddings")
    gsub = genes.add_subparsers(dest="genes_command", metavar="SUBCOMMAND", required=True)

    p = gsub.add_parser("resolve", help="map identifiers to HGNC symbols and report coverage")
    p.add_argument("ids", nargs="*", help="gene identifiers (symbols, aliases, Ensembl, Entrez, mouse symbols)")
    p.add_argument("--genes-from", metavar="FILE", help="read identifiers from a text/TSV file or an .h5ad's var_names")
    p.add_argument("--species", choices=["auto", "human", "mouse"], default="auto")
    p.add_argument("-o", "--output", help="write the full resolution table (TSV) here")
    p.set_defaults(func=_resolve)

    p = gsub.add_parser(
        "build-corpus",
        help="build the gene text corpus and print its coverage",
        description="Sources, earliest wins: 'refseq:FILE.tsv[.gz]', 'genept-json:FILE.json', "
        "'table:FILE.tsv:GENE_COL:TEXT_COL', 'ncbi' (E-utilities; needs a network), 'go:ANNOTATIONS.tsv.gz:TERMS.tsv.gz'. "
        "Genes without a written summary get text composed from the bundled HGNC facts unless --no-compose.",
    )
    p.add_argument("-o", "--output", required=True, help="corpus file to write (.json or .json.gz)")
    p.add_argument("--source", action="append", default=[], metavar="SPEC", help="a text source (repeatable)")
    p.add_argument("--genes-from", metavar="FILE", help="genes to cover (text/TSV file or .h5ad); default: every gene the sources know")
    p.add_argument("--species", choices=["auto", "human", "mouse"], default="auto")
    p.add_argument("--template", choices=["ncbi-page", "summary-only"], default="ncbi-page")
    p.add_argument("--no-compose", action="store_true", help="leave out genes without a written summary")
    p.add_argument("--cache-dir", default=None, help="where network sources cache responses (default ~/.cache/genept)")
    p.add_argument("--report", help="write the coverage report as JSON here")
    p.set_defaults(func=_build_corpus)
