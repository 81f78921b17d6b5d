"""``genept demo``: parse flags and run :func:`genept.demo.run_demo`."""

from __future__ import annotations

import argparse


def _demo(args: argparse.Namespace) -> int:
    from genept.demo import run_demo

    run_demo(
        args.out, encoder=args.encoder, gene_encoder=args.gene_encoder, cache=not args.no_cache, top_k=args.top_k, plots=not args.no_plots,
        show_progress=not args.quiet, echo=print,
    )  # fmt: skip
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run GenePT-scaled, GenePT-w and GenePT-s on scanpy's pbmc68k_reduced, offline, and score them",
        description="Corpus -> gene embeddings -> GenePT-scaled / GenePT-w / GenePT-s on scanpy.datasets.pbmc68k_reduced(); "
        "10-NN macro-F1 and k-means ARI/AMI against bulk_labels next to PCA; UMAP plots and summary.json.",
    )
    p.add_argument("--out", default="demo_out", help="output folder (default demo_out)")
    p.add_argument(
        "--encoder", default=None,
        help="text encoder for GenePT-s sentences (default minilm), and for the gene texts unless --gene-encoder is given",
    )  # fmt: skip
    p.add_argument("--gene-encoder", default=None, help="text encoder for the gene texts (default: genept's default, static+tfidf)")
    p.add_argument("--top-k", type=int, default=1000, help="GenePT-s: genes per cell sentence (default 1000)")
    p.add_argument("--no-cache", action="store_true", help="do not use the embedding cache")
    p.add_argument("--no-plots", action="store_true", help="skip the UMAP plots (the slowest step on first run)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_demo)
