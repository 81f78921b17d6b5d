"""``genept embed-cells``: GenePT-scaled / GenePT-w / GenePT-s cell embeddings for an ``.h5ad`` file.

The output is the input file with ``obsm[KEY]`` and ``uns["genept"][KEY]`` added: the input is
copied byte for byte and patched (so the rest of the file is exactly as it was, and with
``--backed`` the expression matrix is never loaded whole), then renamed into place.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from genept._utils import atomic_path


def format_record(record: Mapping[str, Any]) -> str:
    """A few lines about one ``adata.uns["genept"][key]`` record, for the terminal."""
    cov = record.get("coverage", {})
    lines = [f"{record.get('method', '?')}: {cov.get('n_cells', 0):,} cells in {record.get('seconds', 0):.1f} s"]
    if record.get("method") == "GenePT-scaled":
        emb = record.get("gene_embeddings", {})
        lines.append(f"  gene embeddings: {emb.get('n_genes', 0):,} genes x {emb.get('dim', 0)} ({emb.get('encoder', '?')})")
        lines.append(
            f"  highly variable genes: {cov['n_hvg']:,}, {cov['n_hvg_embedded']:,} with an embedding "
            f"({100 * cov['fraction_variance_embedded']:.1f}% of the variance along {cov['n_comps']} principal axes)"
        )
    elif record.get("method") == "GenePT-w":
        emb = record.get("gene_embeddings", {})
        lines.append(f"  gene embeddings: {emb.get('n_genes', 0):,} genes x {emb.get('dim', 0)} ({emb.get('encoder', '?')})")
        lines.append(
            f"  genes matched: {cov['n_genes_embedded']:,} / {cov['n_genes']:,}; the {cov['n_genes_missing']:,} unmatched "
            f"carry {100 * cov['fraction_expression_lost']:.2f}% of the expression"
        )
    else:
        enc = record.get("encoder", {})
        tr = record.get("truncation", {})
        lines.append(f"  encoder: {enc.get('identity', '?')}")
        n_cached = enc.get("encode_stats", {}).get("n_cached", 0)
        lines.append(f"  sentences: {cov.get('n_distinct_sentences', 0):,} distinct; {n_cached:,} from the cache")
        if tr.get("method") == "no_limit":
            lines.append(f"  the encoder reads whole sentences (median {tr.get('genes_in_sentence_median', 0):g} genes)")
        else:
            how = "counted with its tokenizer" if tr.get("method") == "tokenizer" else "estimated"
            lines.append(
                f"  the encoder reads {tr.get('max_tokens')} tokens: the first {tr.get('genes_seen_median', 0):g} genes "
                f"(median; {how}) of {tr.get('genes_in_sentence_median', 0):g}; {tr.get('n_cells_truncated', 0):,} sentences truncated"
            )
    if cov.get("n_empty_cells"):
        lines.append(f"  {cov['n_empty_cells']:,} cells have nothing to embed and got all-zero rows")
    return "\n".join(lines)


def write_results(src: str | Path, dst: str | Path, adata, key: str) -> Path:
    """Copy ``src`` to ``dst`` with ``obsm[key]`` and ``uns["genept"]`` from ``adata``, atomically."""
    import h5py
    from anndata.io import write_elem

    src, dst = Path(src), Path(dst)
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
        with h5py.File(tmp, "r+") as f:
            obsm = f.require_group("obsm")
            if key in obsm:
                del obsm[key]
            write_elem(obsm, key, adata.obsm[key])
            uns = f.require_group("uns")
            if "genept" in uns:
                del uns["genept"]
            write_elem(uns, "genept", dict(adata.uns["genept"]))
    return dst


def _embed_cells(args: argparse.Namespace) -> int:
    from genept import tl
    from genept._checks import read_h5ad

    src = Path(args.input)
    if args.method in ("scaled", "w") and not args.genes:
        raise ValueError(f"--method {args.method} needs --genes GENES.npz (gene embeddings from `genept genes embed` or genept.embed_genes)")
    adata = read_h5ad(src, backed="r" if args.backed else None)
    try:
        tl.embed_cells(
            adata,
            args.genes,
            method=args.method,
            encoder=args.encoder,
            layer=args.layer,
            use_raw=args.use_raw,
            transform=args.transform,
            normalize=args.normalize,
            n_top_genes=None if args.n_top_genes == 0 else args.n_top_genes,
            n_comps=args.n_comps,
            top_k=None if args.top_k == 0 else args.top_k,
            key_added=args.key_added,
            species=args.species,
            chunk_size=args.chunk_size,
            cache=not args.no_cache,
            show_progress=not args.quiet,
        )
        key = args.key_added or f"X_genept_{args.method}"
        print(format_record(adata.uns["genept"][key]))
        write_results(src, args.output, adata, key)
    finally:
        if args.backed:
            adata.file.close()
    print(f"wrote {args.output} (obsm[{key!r}], uns['genept'][{key!r}])")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "embed-cells",
        help="GenePT-scaled / GenePT-w / GenePT-s cell embeddings for an .h5ad file",
        description="Adds obsm[KEY] (float32) and uns['genept'][KEY] (parameters, coverage, "
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
    p.add_argument("--top-k", type=int, default=1000, help="GenePT-s: genes per sentence (0: all expressed genes)")
    p.add_argument("--key-added", default=None, help="obsm key (default X_genept_scaled / X_genept_w / X_genept_s)")
    p.add_argument("--species", choices=["auto", "human", "mouse"], default="auto")
    p.add_argument("--backed", action="store_true", help="read X from disk in chunks (bounded memory)")
    p.add_argument("--chunk-size", type=int, default=5_000, help="cells per chunk (default 5000)")
    p.add_argument("--no-cache", action="store_true", help="GenePT-s: do not use the embedding cache")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_embed_cells)
