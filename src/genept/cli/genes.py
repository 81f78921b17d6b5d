"""``genept genes ...``: resolve identifiers and build the gene text corpus."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path


def _genes_from_file(spec: str) -> list[str]:
    """Identifiers from ``FILE`` or ``FILE:COLUMN``: an .h5ad's var_names (or a var column), a text file
    (one per line) or a TSV/CSV table (its first column, or COLUMN)."""
    path, column = spec, None
    if not Path(spec).exists() and ":" in spec:
        path, _, column = spec.rpartition(":")
    if not Path(path).is_file():
        raise FileNotFoundError(f"--genes-from {spec}: no such file")
    if path.endswith(".h5ad"):
        from genept._checks import read_h5ad

        adata = read_h5ad(path, backed="r", what="--genes-from")
        try:
            if column is None:
                return adata.var_names.astype(str).tolist()
            if column not in adata.var:
                raise ValueError(f"--genes-from {spec}: {path} has no var column {column!r}; columns are {list(adata.var.columns)}")
            return adata.var[column].astype(str).tolist()
        finally:
            adata.file.close()
    if column is not None:
        import pandas as pd

        name = path.lower().removesuffix(".gz")
        table = pd.read_csv(path, sep="\t" if name.endswith((".tsv", ".txt")) else ",", dtype=str)
        if column not in table:
            raise ValueError(f"--genes-from {spec}: {path} has no column {column!r}; columns are {list(table.columns)}")
        return table[column].dropna().str.strip().tolist()
    from genept.genes.ids import read_gene_list

    return read_gene_list(path)


def _read_ids(args: argparse.Namespace) -> list[str] | None:
    specs = getattr(args, "genes_from", None) or []
    if isinstance(specs, str):
        specs = [specs]
    ids: list[str] | None = None
    if getattr(args, "all_genes", False):
        from genept.genes.ids import GeneResolver

        ids = GeneResolver.default().table["symbol"].astype(str).tolist()
    for spec in specs:
        ids = (ids or []) + _genes_from_file(spec)
    if ids is not None:
        return list(dict.fromkeys(i for i in ids if i))  # one entry per identifier, first order kept
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
    if not len(corpus):
        if ids and not any(GeneResolver.default().to_symbols(ids, species=args.species)):
            why = "no identifier resolved to a gene"
        elif args.no_compose:
            why = "--no-compose left out every gene without a written summary"
        else:
            why = "the sources hold no gene"
        n = f" of the {len(ids):,} identifiers" if ids is not None else ""
        raise ValueError(
            f"no gene{n} has a text ({why}); nothing was written. Check the identifiers with `genept genes resolve` "
            "and the --source files" + (", or drop --no-compose." if args.no_compose else ".")
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


def _embed(args: argparse.Namespace) -> int:
    from genept.embeddings import embed_genes
    from genept.encoders import get_encoder
    from genept.encoders.cache import CachedEncoder
    from genept.genes.corpus import GeneCorpus

    corpus = GeneCorpus.load(args.corpus)
    kind = args.encoder.partition(":")[0]
    if args.cache and args.no_cache:
        raise ValueError("give --cache PATH or --no-cache, not both")
    if (args.base_url or args.dimensions) and kind != "openai":
        raise ValueError("--base-url and --dimensions apply to openai:MODEL encoders only")
    if args.dtype and kind != "minilm":
        raise ValueError("--dtype applies to the minilm encoder only")
    kwargs: dict = {}
    if args.batch_size and kind != "hashing":
        kwargs["batch_size"] = args.batch_size
    if kind == "openai":
        kwargs.update({k: v for k, v in (("base_url", args.base_url), ("dimensions", args.dimensions)) if v})
    if args.dtype:
        kwargs["dtype"] = args.dtype
    encoder = get_encoder(args.encoder, cache=None if args.no_cache else (args.cache or True), **kwargs)
    if kind == "openai":
        todo = encoder.missing(corpus.texts.values()) if isinstance(encoder, CachedEncoder) else list(corpus.texts.values())
        tokens, cost = encoder.estimate(todo)
        price = "unknown cost" if cost is None else f"about ${cost:.2f} (an upper estimate)"
        print(f"{len(todo):,} texts to send to {args.encoder} (~{tokens:,} tokens, {price}); {len(corpus) - len(todo):,} already cached")
        if todo and not args.yes:
            if not sys.stdin.isatty():
                raise ValueError("this job calls a paid API; pass --yes to confirm")
            if input("proceed? [y/N] ").strip().lower() not in ("y", "yes"):
                print("cancelled")
                return 1
    # The summary below states how many texts were truncated; the encoder's own per-batch warning
    # would only repeat it (once per batch of 32).
    with _without_truncation_warnings():
        if args.no_cache and not args.quiet and not sys.stderr.isatty():
            # uncached encoders draw their own tqdm bar, a wall of partial lines in a log: one line instead
            from genept._utils import progress

            with progress(total=len(corpus), desc=f"embedding ({encoder.name})", unit="text") as bar:
                emb = embed_genes(corpus, encoder, cache=None, show_progress=False)
                bar.update(len(corpus))
        else:
            emb = embed_genes(corpus, encoder, cache=None, show_progress=not args.quiet)
    emb.save(args.output)
    st = emb.meta["encode_stats"]
    composed = emb.meta["composed_genes"]
    limit = encoder.max_tokens
    print(f"embedded {len(emb):,} genes ({emb.dim}-d) with {emb.meta['encoder']}")
    print(f"  from cache: {st['n_cached']:,}; newly encoded: {len(emb) - st['n_cached']:,}")
    if limit:
        print(f"  truncated (longer than {limit} tokens; only the start of each was embedded): {st['n_truncated']:,} of {len(emb):,} texts")
    head = ", ".join(composed[:8]) + (", ..." if len(composed) > 8 else "")
    print(f"  composed text (no written summary): {len(composed):,} gene{'' if len(composed) == 1 else 's'}" + (f": {head}" if composed else ""))
    print(f"wrote {args.output}")
    return 0


@contextlib.contextmanager
def _without_truncation_warnings() -> Iterator[None]:
    """Drop the encoders' "N of M texts ... were truncated" log records while the block runs."""
    import logging

    def keep(record: logging.LogRecord) -> bool:
        return not (record.name.startswith("genept.encoders") and "truncated" in str(record.msg))

    handlers = list(logging.getLogger().handlers)
    for h in handlers:
        h.addFilter(keep)
    try:
        yield
    finally:
        for h in handlers:
            h.removeFilter(keep)


def _import(args: argparse.Namespace) -> int:
    from genept.embeddings import GeneEmbeddings
    from genept.embeddings.importers import import_embeddings

    if args.input.lower().endswith(".npz") and not args.format:
        emb = GeneEmbeddings.load(args.input)  # already genept's format: copy
        report = None
    else:
        options: dict = {
            "species": args.species,
            "merge": args.merge,
            "keep_unresolved": args.keep_unresolved,
            "nonfinite": "drop" if args.drop_nonfinite else "raise",
        }
        for name in ("vocab", "key", "token_dictionary"):
            if getattr(args, name):
                options[name] = getattr(args, name)
        if args.allow_extra_rows:
            options["allow_extra_rows"] = True
        if args.binary:
            options["binary"] = True
        emb, report = import_embeddings(args.input, args.format, **options)
    emb.save(args.output)
    if report is not None:
        print(report)
        if args.report:
            from genept._utils import atomic_write

            with atomic_write(args.report, "w") as fh:
                fh.write(json.dumps(report.to_dict(), indent=1))
    print(f"imported {len(emb):,} genes x {emb.dim} from {args.input}")
    print(f"wrote {args.output}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from genept.embeddings import GeneEmbeddings
    from genept.embeddings.export import export

    emb = GeneEmbeddings.load(args.embeddings)
    genes = None
    if args.genes_from:
        if args.genes_from.endswith(".h5ad"):
            from genept._checks import read_h5ad

            adata = read_h5ad(args.genes_from, backed="r", what="--genes-from")
            try:
                genes = adata.var_names.astype(str).tolist()
            finally:
                adata.file.close()
        else:
            from genept.genes.ids import read_gene_list

            genes = read_gene_list(args.genes_from)  # order and repeats kept: rows follow the list
        if not genes:
            raise ValueError(f"--genes-from {args.genes_from}: no gene identifiers in the file")
    result = export(emb, args.output, format=args.format, genes=genes, missing=args.missing, species=args.species)
    print(result)
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
    p.add_argument(
        "--genes-from",
        action="append",
        default=[],
        metavar="FILE[:COLUMN]",
        help="genes to cover (repeatable; the union is used): an .h5ad (var_names, or var column COLUMN), a text file "
        "(one identifier per line) or a TSV/CSV table (first column, or COLUMN). Default: every gene the sources know",
    )
    p.add_argument(
        "--all-genes",
        action="store_true",
        help="cover every approved HGNC gene (the HGNC complete set bundled with genept's gene tables: 44,997 genes "
        "in release 2026-06-20, of which 19,295 protein-coding), plus any --genes-from genes",
    )
    p.add_argument("--species", choices=["auto", "human", "mouse"], default="auto")
    p.add_argument("--template", choices=["ncbi-page", "summary-only"], default="ncbi-page")
    p.add_argument("--no-compose", action="store_true", help="leave out genes without a written summary")
    p.add_argument("--cache-dir", default=None, help="where network sources cache responses (default ~/.cache/genept)")
    p.add_argument("--report", help="write the coverage report as JSON here")
    p.set_defaults(func=_build_corpus)

    p = gsub.add_parser(
        "embed",
        help="embed the gene texts of a corpus with a text encoder",
        description="Encoders: static+tfidf (default: model2vec distilled once from MiniLM beside TF-IDF+SVD fitted on the "
        "corpus; reads every word), minilm (all-MiniLM-L6-v2, the previous default; cuts at 256 word pieces), minilm-windows "
        "(MiniLM over overlapping windows, pooled), static, tfidf, openai:MODEL (any OpenAI-compatible API; key from "
        "OPENAI_API_KEY), hashing (lexical baseline); join channels with '+'. "
        "Vectors are cached (SQLite) so an interrupted run resumes where it stopped.",
    )
    p.add_argument("--corpus", required=True, help="corpus file from build-corpus (.json or .json.gz)")
    p.add_argument("--encoder", default="static+tfidf",
                   help="static+tfidf (default) | minilm | minilm-windows | static | tfidf | openai:MODEL | hashing | A+B channels")
    p.add_argument("-o", "--output", required=True, help="gene embeddings to write (.npz)")
    p.add_argument("--cache", metavar="PATH", default=None, help="embedding cache file (default ~/.cache/genept/embeddings.sqlite; GENEPT_CACHE_DIR moves it)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    p.add_argument("--base-url", help="API root for openai:MODEL (default $OPENAI_BASE_URL or OpenAI's)")
    p.add_argument("--dimensions", type=int, help="shorter output vectors (openai text-embedding-3-* only)")
    p.add_argument("--dtype", choices=["float32", "bfloat16", "auto"], help="minilm compute type (bfloat16 needs AVX-512 BF16 or AMX)")
    p.add_argument("--batch-size", type=int, help="texts per batch (and per cache commit)")
    p.add_argument("--yes", action="store_true", help="do not ask before calling a paid API")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_embed)

    p = gsub.add_parser(
        "import",
        help="import gene embeddings made elsewhere (Gene2vec, word2vec, scGPT, Geneformer, GenePT, tables), keyed by HGNC symbol",
        description="Formats: gene2vec (text), word2vec (text or binary), scgpt (best_model.pt + vocab.json), "
        "geneformer (a Hugging Face model folder + its token dictionary pickle), genept-pickle / genept-json ({key: vector}), "
        "table (TSV/CSV/parquet: gene, numbers). Keys are mapped to HGNC symbols; the report says how (symbol, previous "
        "symbol, alias, Ensembl, ambiguous, unresolved) and how duplicate keys were merged. Pickles and checkpoints are "
        "loaded without running code. See docs/importers.md.",
    )
    p.add_argument("input", help="the file (or model folder) to import; a genept .npz is copied as is")
    p.add_argument("-o", "--output", required=True, help="gene embeddings to write (.npz)")
    p.add_argument("--format", choices=["gene2vec", "word2vec", "scgpt", "geneformer", "genept-pickle", "genept-json", "table"],
                   help="input format (default: guessed from the name: folder=geneformer, .pt=scgpt, .pickle, .json, .txt=word2vec, else table)")
    p.add_argument("--vocab", help="scgpt: vocab.json (default: vocab.json beside the checkpoint)")
    p.add_argument("--key", help="scgpt: the state-dict entry of the gene-token embedding (default encoder.embedding.weight)")
    p.add_argument("--token-dictionary", help="geneformer: the token dictionary pickle (Ensembl id -> token id)")
    p.add_argument("--allow-extra-rows", action="store_true", help="scgpt/geneformer: accept a matrix with more rows than tokens")
    p.add_argument("--binary", action="store_true", help="word2vec: the file is binary (default: detected)")
    p.add_argument("--species", choices=["human", "mouse", "auto"], default="human", help="how keys are resolved (default human)")
    p.add_argument("--merge", choices=["best", "first", "mean"], default="best",
                   help="several keys for one gene: best = the key naming it most directly (symbol > ids > previous > alias), "
                   "first = earliest row, mean = average (default best)")
    p.add_argument("--keep-unresolved", action="store_true", help="keep keys that name no gene under their own name")
    p.add_argument("--drop-nonfinite", action="store_true", help="leave out rows holding NaN/inf instead of failing")
    p.add_argument("--report", help="write the import report as JSON here")
    p.set_defaults(func=_import)

    p = gsub.add_parser(
        "export",
        help="write gene embeddings for a downstream model (.npy + gene list, TSV, word2vec text), optionally in a given gene order",
        description="With --genes-from, rows follow that gene order (a perturbation model's genes, an .h5ad's var_names); "
        "genes without an embedding get zero rows and False in OUT.mask.npy (npy), or are left out with --missing drop. "
        "Format from the output name: .npy (+ .genes.txt, .mask.npy), .tsv/.csv[.gz], .txt/.vec[.gz] (word2vec text).",
    )
    p.add_argument("embeddings", help="gene embeddings (.npz from genept genes embed/import)")
    p.add_argument("-o", "--output", required=True, help="file to write: .npy, .tsv/.csv(.gz) or .txt/.vec(.gz)")
    p.add_argument("--format", choices=["npy", "tsv", "word2vec"], help="default: from the output name")
    p.add_argument("--genes-from", metavar="FILE", help="target gene order: a text/TSV file (first column) or an .h5ad's var_names")
    p.add_argument("--missing", choices=["zero", "drop"], default="zero", help="genes without an embedding: zero rows (default) or left out")
    p.add_argument("--species", choices=["auto", "human", "mouse"], default="auto", help="how --genes-from identifiers are matched")
    p.set_defaults(func=_export)
