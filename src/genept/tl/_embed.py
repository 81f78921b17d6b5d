"""Scanpy-style tools: GenePT cell and gene embeddings written into an AnnData.

Conventions follow scanpy: functions work in place and return ``None`` (``copy=True`` returns a
new object and leaves the input untouched), results go to ``obsm``/``varm`` under ``key_added``,
parameters and coverage go to ``adata.uns["genept"][key]``. The user's object is never
subset: genes without an embedding stay in place and are reported.

Examples
--------
>>> import scanpy as sc, genept
>>> adata = sc.read_h5ad("cells.h5ad")                       # raw counts in X
>>> genept.tl.embed_cells(adata, "genes_minilm.npz")         # GenePT-scaled -> obsm["X_genept_scaled"]
>>> genept.tl.embed_cells(adata, "genes_minilm.npz", method="w")  # GenePT-w -> obsm["X_genept_w"]
>>> adata.uns["genept"]["X_genept_w"]["coverage"]["fraction_expression_lost"]
>>> genept.tl.embed_cells(adata, method="s", encoder="minilm")  # GenePT-s -> obsm["X_genept_s"]
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from genept.cells.sentences import DEFAULT_PREFIX
from genept.cells.weighted import Normalize, Transform

logger = logging.getLogger(__name__)

METHODS = ("scaled", "w", "s")
UNS_KEY = "genept"


def embed_cells(
    adata,
    gene_embeddings=None,
    *,
    method: Literal["scaled", "w", "s"] = "scaled",
    encoder: Any = None,
    layer: str | None = None,
    use_raw: bool = False,
    transform: Transform | None = None,
    normalize: Normalize = "l2",
    n_top_genes: int | None = 2000,
    n_comps: int = 50,
    top_k: int | None = 1000,
    prefix: str = DEFAULT_PREFIX,
    separator: str = " ",
    key_added: str | None = None,
    species: str = "auto",
    chunk_size: int = 5_000,
    cache: bool | str | os.PathLike | None = True,
    copy: bool = False,
    show_progress: bool | None = None,
):
    """Embed every cell with GenePT-scaled (default), GenePT-w or GenePT-s.

    **GenePT-scaled** (``method="scaled"``, the default; :mod:`genept.cells.scaled`): the
    cell's scaled expression of the ``n_top_genes`` highly variable genes (``log1p`` of counts
    per 10,000, z-scored per gene), reduced to its ``n_comps`` principal components and placed
    in the gene-text space by the isometry closest to projecting onto the genes' text
    embeddings. Each cell is a weighted sum of gene embeddings, so text queries
    (:mod:`genept.queries`) work on it, and distances between cells are exactly those of the
    PCA of scaled expression; on the shared benchmark sets it matches scaled PCA-50 and beats
    plain GenePT-w on cell-type kNN and clustering (``benchmarks/results/quality_ablation.md``).
    Cells with no expression on the highly variable genes get an all-zero row.

    **GenePT-w** (``method="w"``): the expression-weighted average of the cell's gene embeddings,
    L2-normalised. Genes without an embedding contribute nothing; the number of such genes and
    the share of expression they carry are recorded. Cells with no expression on embedded genes
    get an all-zero row (never NaN) and are counted.

    **GenePT-s** (``method="s"``): the text embedding of a sentence of the cell's gene symbols,
    highest expression first (zeros dropped; equal values keep ``var_names`` order), at most
    ``top_k`` genes, ``prefix`` in front. Identical sentences are encoded once and, with
    ``cache``, never again. How many genes the encoder actually reads (its token limit) is
    recorded. Cells with no expressed gene get an all-zero row.

    Parameters
    ----------
    adata
        Cells x genes. ``X`` (or ``layer``, or ``raw`` with ``use_raw``) holds counts or
        normalised expression, all >= 0. Backed (``read_h5ad(..., backed="r")``) and dask-backed
        matrices are read in row chunks.
    gene_embeddings
        For GenePT-w: a :class:`~genept.GeneEmbeddings` or the path of a saved one. Genes are
        matched through symbols, aliases, Ensembl/Entrez ids and, for mouse data, human orthologs.
        Not used by GenePT-s.
    method
        ``"scaled"`` (default), ``"w"`` (the paper's GenePT-w) or ``"s"``.
    encoder
        For GenePT-s: an encoder spec (``"minilm"``, the default; ``"static"``, ``"hashing"``,
        ``"openai:MODEL"``) or an encoder object.
    layer
        Use ``adata.layers[layer]`` instead of ``X``.
    use_raw
        Use ``adata.raw.X`` and ``adata.raw.var_names``.
    transform
        GenePT-scaled: how values become log-expression, ``"log1p_cp10k"`` (default; raw counts)
        or ``"counts"`` (values used as given, for log-normalised data); ``"log1p"`` also works.
        GenePT-w weights (default ``"counts"``): ``"counts"`` (values as given), ``"log1p"`` or ``"log1p_cp10k"``.
        With L2 normalisation, ``counts`` on raw counts equals weighting by
        library-size-normalised counts. ``"counts"`` suits counts and normalised values alike;
        ``"log1p"`` and ``"log1p_cp10k"`` expect raw counts (they log-transform themselves) and
        warn when the values are not integers (see :mod:`genept.cells.validation`).
    normalize
        GenePT-w rows: ``"l2"`` (default), ``"n_genes"`` (GenePT notebook's ``/ n_genes``) or
        ``"none"``.
    n_top_genes, n_comps
        GenePT-scaled: highly variable genes kept (``None``: all genes) and principal components.
    top_k, prefix, separator
        GenePT-s sentence: number of genes, text before, text between genes.
    key_added
        ``obsm`` and ``uns["genept"]`` key; default ``"X_genept_w"`` / ``"X_genept_s"``.
    species
        ``"auto"``, ``"human"`` or ``"mouse"``: how gene names are resolved.
    chunk_size
        Cells per block (memory is one block plus the output).
    cache
        GenePT-s embedding cache: ``True`` (default file, see
        :mod:`genept.encoders.cache`), a path, or ``False``/``None``.
    copy
        Return a modified copy instead of writing into ``adata``.
    show_progress
        Progress bars (``None``: on a terminal).

    Returns
    -------
    ``None``, or the new AnnData with ``copy=True``. Sets ``adata.obsm[key]`` (float32
    ``n_obs x dim``, always finite) and ``adata.uns["genept"][key]`` (method, parameters,
    coverage, encoder identity, corpus hash, truncation, time).

    Raises
    ------
    TypeError
        ``adata`` is not an AnnData (a path, a matrix, a DataFrame: the message says how to make one).
    ValueError
        Empty data (0 cells or 0 genes); non-numeric, NaN/inf or negative values; no gene of the
        data matches a gene embedding (GenePT-w); every cell empty (nothing expressed, or nothing
        on embedded genes). Nothing is written to ``adata`` when it raises.

    Warns
    -----
    UserWarning
        Duplicated ``var_names`` (kept; counted in ``coverage["n_duplicate_var_names"]``); some
        cells empty (they get zero rows, counted in ``coverage["n_empty_cells"]``); non-integer
        values under a transform that expects raw counts.

    Examples
    --------
    >>> import scanpy as sc, genept
    >>> adata = sc.datasets.pbmc68k_reduced()
    >>> # raw holds log-normalised values: use them as given
    >>> genept.tl.embed_cells(adata, "genes.npz", use_raw=True, transform="counts")
    >>> adata.obsm["X_genept_scaled"].shape
    (700, 384)
    """
    from genept.cells.validation import check_adata, check_output

    check_adata(adata)
    if method not in METHODS:
        raise ValueError(f"method must be 'scaled' (GenePT-scaled), 'w' (GenePT-w) or 's' (GenePT-s), not {method!r}")
    if copy:
        adata = _copy(adata)
    X, var_names, where = _expression(adata, layer=layer, use_raw=use_raw)
    key = key_added or f"X_genept_{method}"
    start = time.perf_counter()
    if method == "scaled":
        Y, record = _genept_scaled(
            adata, X, var_names, where, gene_embeddings,
            transform=transform or "log1p_cp10k", n_top_genes=n_top_genes, n_comps=n_comps, species=species,
            chunk_size=chunk_size, show_progress=show_progress,
        )  # fmt: skip
    elif method == "w":
        Y, record = _genept_w(
            adata, X, var_names, where, gene_embeddings,
            transform=transform or "counts", normalize=normalize, species=species, chunk_size=chunk_size,
            show_progress=show_progress,
        )  # fmt: skip
    else:
        Y, record = _genept_s(
            adata, X, var_names, where, encoder,
            top_k=top_k, prefix=prefix, separator=separator, species=species, chunk_size=chunk_size,
            cache=cache, show_progress=show_progress,
        )  # fmt: skip
    seconds = time.perf_counter() - start
    record["params"].update({"layer": layer or "", "use_raw": bool(use_raw), "species": species})
    record["seconds"] = round(seconds, 3)
    record["cells_per_second"] = round(adata.n_obs / seconds, 1) if seconds > 0 else 0.0
    check_output(Y, adata.obs_names, what=record["method"])
    adata.obsm[key] = Y
    _record(adata, key, record)
    return adata if copy else None


def add_gene_embeddings(
    adata,
    gene_embeddings,
    *,
    key_added: str = "X_genept",
    species: str = "auto",
    copy: bool = False,
):
    """Attach gene embeddings to ``adata.varm[key_added]``, aligned with ``var_names``.

    Genes without an embedding get a zero row; ``adata.var["genept_embedded"]`` marks which
    have one. Provenance goes to ``adata.uns["genept"][key_added]``.

    Examples
    --------
    >>> genept.tl.add_gene_embeddings(adata, "genes_minilm.npz")
    >>> adata.varm["X_genept"].shape, adata.var["genept_embedded"].mean()
    """
    from genept.cells.validation import check_adata, check_gene_overlap, check_var_names

    check_adata(adata)
    if copy:
        adata = _copy(adata)
    emb = _load_gene_embeddings(gene_embeddings)
    if adata.n_vars == 0:
        raise ValueError("adata has no genes; nothing to attach embeddings to")
    check_var_names(adata.var_names, where="adata.var_names")
    matrix, found = emb.reindex(adata.var_names, species=species)
    check_gene_overlap(found, adata.var_names, emb.genes, where="adata.var_names")
    adata.varm[key_added] = matrix
    adata.var["genept_embedded"] = found
    _record(
        adata,
        key_added,
        {
            "kind": "gene_embeddings",
            "gene_embeddings": _gene_embedding_info(emb),
            "coverage": {"n_genes": int(adata.n_vars), "n_genes_embedded": int(found.sum())},
            "created": _now(),
        },
    )
    return adata if copy else None


# -- the three methods ----------------------------------------------------------------------------
def _aligned_gene_embeddings(method, adata, X, var_names, where, gene_embeddings, species):
    """Checked inputs and gene embeddings aligned with ``var_names``: ``(emb, E, found, n_duplicates)``."""
    from genept.cells.validation import check_gene_overlap, check_inputs, check_var_names

    if gene_embeddings is None:
        raise ValueError(
            f"{method} needs gene embeddings: pass a GeneEmbeddings or the path of a .npz made by "
            "genept.embed_genes / `genept genes embed` (or use method='s', which needs only a text encoder)."
        )
    emb = _load_gene_embeddings(gene_embeddings)
    check_inputs(X, var_names, n_obs=adata.n_obs, where=where)
    n_dup = check_var_names(var_names, where=where)
    E, found = emb.reindex(var_names, species=species)
    check_gene_overlap(found, var_names, emb.genes, where=where)
    return emb, E, found, n_dup


def _genept_scaled(adata, X, var_names, where, gene_embeddings, *, transform, n_top_genes, n_comps, species, chunk_size, show_progress):
    from genept.cells.scaled import embed_scaled
    from genept.cells.validation import check_empty_cells

    emb, E, found, n_dup = _aligned_gene_embeddings("GenePT-scaled", adata, X, var_names, where, gene_embeddings, species)
    Y, stats = embed_scaled(
        X, E, found=found, transform=transform, n_top_genes=n_top_genes, n_comps=n_comps,
        chunk_size=chunk_size, show_progress=show_progress, where=where,
    )  # fmt: skip
    check_empty_cells(~Y.any(axis=1), adata.obs_names, where=where, why="no expression on the highly variable genes")
    logger.info("GenePT-scaled: %s", stats)
    record = {
        "method": "GenePT-scaled",
        "params": {
            "transform": transform,
            "n_top_genes": -1 if n_top_genes is None else int(n_top_genes),
            "hvg_flavor": "seurat",
            "scale_max_value": "none",
            "n_comps": int(n_comps),
            "map": "isometric (Löwdin) text map of the principal axes",
            "chunk_size": int(chunk_size),
        },
        "coverage": {**stats.to_dict(), "n_duplicate_var_names": n_dup},
        "gene_embeddings": _gene_embedding_info(emb),
        "created": _now(),
    }
    return Y, record


def _genept_w(adata, X, var_names, where, gene_embeddings, *, transform, normalize, species, chunk_size, show_progress):
    from genept.cells.validation import check_empty_cells
    from genept.cells.weighted import embed_weighted

    emb, E, found, n_dup = _aligned_gene_embeddings("GenePT-w", adata, X, var_names, where, gene_embeddings, species)
    Y, stats = embed_weighted(
        X, E, found=found, transform=transform, normalize=normalize,
        chunk_size=chunk_size, show_progress=show_progress, where=where,
    )  # fmt: skip
    check_empty_cells(
        ~Y.any(axis=1), adata.obs_names, where=where, why="no expression on a gene with an embedding",
        hint=" and that its expressed genes are among those with an embedding",
    )  # fmt: skip
    logger.info("GenePT-w: %s", stats)
    record = {
        "method": "GenePT-w",
        "params": {"transform": transform, "normalize": normalize, "chunk_size": int(chunk_size)},
        "coverage": {**stats.to_dict(), "n_duplicate_var_names": n_dup},
        "gene_embeddings": _gene_embedding_info(emb),
        "created": _now(),
    }
    return Y, record


def _genept_s(adata, X, var_names, where, encoder, *, top_k, prefix, separator, species, chunk_size, cache, show_progress):
    from genept.cells.sentences import TokenBudget, embed_sentences, iter_sentence_blocks, truncation_summary
    from genept.cells.validation import check_empty_cells, check_inputs, check_var_names
    from genept.encoders.base import EncodeStats

    check_inputs(X, var_names, n_obs=adata.n_obs, where=where)
    n_dup = check_var_names(var_names, where=where)
    enc = _encoder(encoder, cache)
    from genept.genes.ids import GeneResolver

    symbols = GeneResolver.default().to_symbols([str(v) for v in var_names], species=species)
    words = [s or str(v) for s, v in zip(symbols, var_names, strict=True)]
    n_resolved = sum(s is not None for s in symbols)
    n_renamed = sum(w != str(v) for w, v in zip(words, var_names, strict=True))
    budget = TokenBudget(enc, words, prefix=prefix, separator=separator)
    sentences: list[str] = []
    n_genes, n_seen = [], []
    for _, _, ranks, block_sentences in iter_sentence_blocks(
        X, words, top_k=top_k, prefix=prefix, separator=separator, chunk_size=chunk_size,
        show_progress=show_progress, where=where,
    ):  # fmt: skip
        sentences.extend(block_sentences)
        n_genes.append(np.fromiter((len(r) for r in ranks), dtype=np.int64, count=len(ranks)))
        n_seen.append(budget.genes_seen(ranks))
    n_genes_all = np.concatenate(n_genes) if n_genes else np.zeros(0, dtype=np.int64)
    n_seen_all = np.concatenate(n_seen) if n_seen else np.zeros(0, dtype=np.int64)
    check_empty_cells(n_genes_all == 0, adata.obs_names, where=where, why="no expressed gene (an empty sentence)")
    before = EncodeStats(**enc.stats.to_dict())
    with _quiet_truncation_warnings():  # truncation is reported below, per cell, instead
        Y, n_distinct = embed_sentences(sentences, enc, show_progress=show_progress)
    after = enc.stats.to_dict()
    empty = n_genes_all == 0
    Y[empty] = 0.0  # no expressed gene: nothing to say about the cell
    truncation = truncation_summary(n_genes_all, n_seen_all, budget)
    logger.info(
        "GenePT-s: %d sentences (%d distinct); %s reads the first %s genes (median) of %s",
        len(sentences), n_distinct, enc.name, truncation["genes_seen_median"], truncation["genes_in_sentence_median"],
    )
    record = {
        "method": "GenePT-s",
        "params": {"top_k": -1 if top_k is None else int(top_k), "prefix": prefix, "separator": separator, "chunk_size": int(chunk_size)},
        "coverage": {
            "n_cells": int(len(sentences)),
            "n_genes": int(len(words)),
            "n_genes_resolved": int(n_resolved),
            "n_genes_renamed_to_hgnc": int(n_renamed),
            "n_empty_cells": int(empty.sum()),
            "n_distinct_sentences": int(n_distinct),
            "n_duplicate_var_names": n_dup,
        },
        "encoder": {
            "name": str(enc.name),
            "identity": str(enc.identity),
            "dim": int(enc.dim),
            "cache": str(getattr(getattr(enc, "cache", None), "path", "")),
            "encode_stats": {k: int(after[k] - v) for k, v in before.to_dict().items()},
        },
        "truncation": truncation,
        "created": _now(),
    }
    return Y, record


# -- helpers -------------------------------------------------------------------------------------
def _copy(adata):
    if getattr(adata, "isbacked", False):
        raise ValueError(
            "copy=True on a backed AnnData would load its matrix into memory. Use copy=False (results are "
            "added to the in-memory obsm/uns of the backed object) or call adata.to_memory() first."
        )
    return adata.copy()


def _expression(adata, *, layer: str | None, use_raw: bool) -> tuple[Any, Any, str]:
    """The matrix to embed, its gene names, and its name for messages."""
    if layer is not None and use_raw:
        raise ValueError("give layer= or use_raw=True, not both")
    if use_raw:
        if adata.raw is None:
            raise ValueError("use_raw=True but adata.raw is None; pass layer= or use adata.X")
        return adata.raw.X, adata.raw.var_names, "adata.raw.X"
    if layer is not None:
        if layer not in adata.layers:
            raise ValueError(f"layer {layer!r} not found; adata.layers has {list(adata.layers)}. Pass layer=None for adata.X")
        return adata.layers[layer], adata.var_names, f"adata.layers[{layer!r}]"
    if adata.X is None:
        raise ValueError("adata.X is None; pass layer= (or use_raw=True) to say which matrix holds the expression")
    return adata.X, adata.var_names, "adata.X"


def _load_gene_embeddings(gene_embeddings):
    from genept.embeddings import GeneEmbeddings

    if isinstance(gene_embeddings, GeneEmbeddings):
        return gene_embeddings
    if isinstance(gene_embeddings, str | os.PathLike):
        path = Path(gene_embeddings)
        if not path.exists():
            raise FileNotFoundError(f"gene embedding file {path} not found; build one with `genept genes embed` or genept.embed_genes")
        return GeneEmbeddings.load(path)
    raise TypeError(f"gene_embeddings must be a GeneEmbeddings or a path, not {type(gene_embeddings).__name__}")


def _encoder(encoder, cache):
    from genept.encoders import get_encoder

    enc = get_encoder("minilm" if encoder is None else encoder)
    if cache is None or cache is False or type(enc).__name__ == "CachedEncoder":
        return enc
    from genept.encoders.cache import CachedEncoder

    return CachedEncoder(enc, None if cache is True else cache)


def _gene_embedding_info(emb) -> dict[str, Any]:
    meta = emb.meta
    return {
        "encoder": str(meta.get("encoder", "unknown")),
        "corpus_hash": str(meta.get("corpus_hash", "")),
        "template": str(meta.get("template", "")),
        "n_genes": int(len(emb)),
        "dim": int(emb.dim),
        "created": str(meta.get("created", "")),
    }


@contextlib.contextmanager
def _quiet_truncation_warnings() -> Iterator[None]:
    log = logging.getLogger("genept.encoders")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _h5ad_safe(value: Any) -> Any:
    """``uns`` content that ``write_h5ad`` accepts: no ``None``, plain Python scalars."""
    if isinstance(value, Mapping):
        return {str(k): _h5ad_safe(v) for k, v in value.items()}
    if value is None:
        return ""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_h5ad_safe(v) for v in value]
    return value


def _record(adata, key: str, record: Mapping[str, Any]) -> None:
    from genept import __version__

    uns = adata.uns.get(UNS_KEY)
    uns = dict(uns) if isinstance(uns, Mapping) else {}
    uns[key] = _h5ad_safe({**record, "genept_version": __version__})
    adata.uns[UNS_KEY] = uns
