"""``genept embed-cells``: GenePT-scaled / GenePT-w / GenePT-s cell embeddings for an ``.h5ad`` file.

The output is the input file with ``obsm[KEY]`` and ``uns[KEY]`` added: the input is
copied byte for byte and patched (so the rest of the file is exactly as it was, and with
``--backed`` the expression matrix is never loaded whole), then renamed into place.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _embed_cells(args: argparse.Namespace) -> int:
    from genept import tl
    from genept._checks import read_h5ad
    from genept._io import patch_h5ad
    from genept.tl._cells import read_record

    src = Path(args.input)
    if args.method in ("scaled", "w") and not args.genes:
        raise ValueError(f"--method {args.method} needs --genes GENES.npz (gene embeddings from `genept genes embed` or genept.embed_genes)")
    common = {
        "layer": args.layer,
        "use_raw": args.use_raw,
        "species": args.species,
        "chunk_size": args.chunk_size,
        "show_progress": not args.quiet,
        "key_added": args.key_added or f"X_genept_{args.method}",
    }
    if args.method == "scaled":
        run = lambda a: tl.genept_scaled(  # noqa: E731
            a, args.genes, transform=args.transform or "log1p_cp10k",
            n_top_genes=None if args.n_top_genes == 0 else args.n_top_genes, n_comps=args.n_comps, **common,
        )  # fmt: skip
    elif args.method == "w":
        run = lambda a: tl.genept_w(a, args.genes, transform=args.transform or "counts", normalize=args.normalize, **common)  # noqa: E731
    else:
        run = lambda a: tl.genept_s(  # noqa: E731
            a, args.encoder, top_k=None if args.top_k == 0 else args.top_k, windows=args.windows, pooling=args.pooling,
            cache=not args.no_cache, **common,
        )  # fmt: skip
    key = common["key_added"]
    adata = read_h5ad(src, backed="r" if args.backed else None)
    try:
        run(adata)
        print(read_record(adata, key))
        patch_h5ad(src, args.output, adata, obsm=[key], uns=[key])
    finally:
        if args.backed:
            adata.file.close()
    print(f"wrote {args.output} (obsm[{key!r}], uns[{key!r}])")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "embed-cells",
        help="GenePT-scaled / GenePT-w / GenePT-s cell embeddings for an .h5ad file",
        description="Adds obsm[KEY] (float32) and uns[KEY] (parameters, coverage, "
        "encoder, truncation) to a copy of IN.h5ad. Expression must be >= 0 (counts or log-normalised).",
    )
    p.add_argument("input", metavar="IN.h5ad")
    p.add_argument("output", metavar="OUT.h5ad")
    p.add_argument(
        "--method", choices=["scaled", "w", "s"], default="scaled",
        help="scaled: scaled expression of highly variable genes in the gene-text space (default); "
        "w: expression-weighted gene embeddings (GenePT-w); s: cell sentences",
    )  # fmt: skip
    p.add_argument("--genes", metavar="GENES.npz", help="gene embeddings (needed for --method scaled and w)")
    p.add_argument("--encoder", default=None, help="text encoder for --method s: minilm (default), static, hashing, openai:MODEL")
    p.add_argument("--layer", default=None, help="use adata.layers[LAYER] instead of X")
    p.add_argument("--use-raw", action="store_true", help="use adata.raw.X")
    p.add_argument(
        "--transform", choices=["counts", "log1p", "log1p_cp10k"], default=None,
        help="scaled: log-expression from counts (default log1p_cp10k; counts = values as given, for log-normalised data); "
        "w: weights (default counts = values as given)",
    )  # fmt: skip
    p.add_argument("--n-top-genes", type=int, default=2000, help="scaled: highly variable genes (0: all genes; default 2000)")
    p.add_argument("--n-comps", type=int, default=50, help="scaled: principal components (default 50)")
    p.add_argument("--normalize", choices=["l2", "n_genes", "none"], default="l2", help="GenePT-w row normalisation (default l2)")
    p.add_argument("--top-k", type=int, default=1000, help="GenePT-s: genes per sentence (0: all expressed genes; default 1000)")
    p.add_argument(
        "--windows", choices=["all", "first"], default="first",
        help="GenePT-s with a token-limited encoder: first = one string cut at the limit, as the GenePT paper (default); "
        "all = every ranked gene, in windows within the limit (slower; lower 10-NN F1 in our measurement)",
    )  # fmt: skip
    p.add_argument("--pooling", choices=["mean", "rank"], default="rank", help="GenePT-s --windows all: how windows combine (default rank)")
    p.add_argument("--key-added", default=None, help="obsm key (default X_genept_scaled / X_genept_w / X_genept_s)")
    p.add_argument("--species", choices=["auto", "human", "mouse"], default="auto")
    p.add_argument("--backed", action="store_true", help="read X from disk in chunks (bounded memory)")
    p.add_argument("--chunk-size", type=int, default=5_000, help="cells per chunk (default 5000)")
    p.add_argument("--no-cache", action="store_true", help="GenePT-s: do not use the embedding cache")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_embed_cells)
