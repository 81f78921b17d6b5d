"""One array-level entry for every cell-embedding method: a matrix and gene ids in, ``(embedding, record)`` out.

:func:`embed` runs GenePT-scaled (:func:`genept_scaled`), GenePT-w (:func:`genept_w`) or
GenePT-s (:func:`genept_s`) on any expression matrix (numpy, scipy sparse, a backed AnnData's
``X``, dask) with its gene ids. Nothing here needs an AnnData: :mod:`genept.tl` stores the
result in one, evaluation and benchmarks call these functions directly.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from genept.cells.record import METHODS, CellEmbeddingRecord, gene_embedding_info
from genept.cells.scaled import ScaledProjection
from genept.cells.sentences import DEFAULT_PREFIX
from genept.cells.weighted import Normalize, Transform

logger = logging.getLogger(__name__)

Method = Literal["scaled", "w", "s"]

def embed(
    X: Any,
    var_names: Sequence[Any],
    gene_embeddings: Any = None,
    *,
    method: Method = "scaled",
    **params: Any,
) -> tuple[np.ndarray, CellEmbeddingRecord]:
    """Embed the cells (rows) of ``X`` with any GenePT method.

    Parameters
    ----------
    X
        ``(n_cells, n_genes)`` expression, >= 0 (numpy, scipy sparse, backed, dask).
    var_names
        The gene id of each column (symbols, Ensembl or Entrez ids, mouse symbols).
    gene_embeddings
        A :class:`~genept.GeneEmbeddings` or the path of one (GenePT-scaled and GenePT-w).
    method
        ``"scaled"`` (default, :func:`genept_scaled`), ``"w"`` (:func:`genept_w`) or ``"s"``
        (:func:`genept_s`).
    **params
        The method's own parameters (see its function); a parameter of another method is an error.

    Returns
    -------
    ``(Y, record)``: float32 ``(n_cells, dim)`` embeddings (always finite) and a
    :class:`~genept.cells.CellEmbeddingRecord`.

    Examples
    --------
    >>> import numpy as np
    >>> from genept import GeneEmbeddings
    >>> genes = GeneEmbeddings(["CD3E", "CD19", "LYZ"], np.eye(3, dtype=np.float32))
    >>> X = np.array([[3, 0, 1], [0, 2, 0]], dtype=np.float32)
    >>> Y, record = embed(X, ["CD3E", "CD19", "LYZ"], genes, method="w")
    >>> Y.shape, record.method
    ((2, 3), 'GenePT-w')
    """
    if method not in METHODS:
        raise ValueError(f"method must be 'scaled' (GenePT-scaled), 'w' (GenePT-w) or 's' (GenePT-s), not {method!r}")
    engines = {"scaled": genept_scaled, "w": genept_w, "s": genept_s}
    check_method_parameters(params, engines, method, what=f"method={method!r}")
    if method == "s":
        if gene_embeddings is not None:
            raise TypeError("GenePT-s embeds sentences of gene symbols with a text encoder and takes no gene embeddings; pass encoder=")
        return genept_s(X, var_names, **params)
    fn = genept_scaled if method == "scaled" else genept_w
    return fn(X, var_names, gene_embeddings, **params)


def genept_scaled(
    X: Any,
    var_names: Sequence[Any],
    gene_embeddings: Any = None,
    *,
    transform: Transform = "log1p_cp10k",
    n_top_genes: int | None = 2000,
    n_comps: int = 50,
    projection: ScaledProjection | str | os.PathLike | None = None,
    species: str = "auto",
    chunk_size: int = 5_000,
    show_progress: bool | None = None,
    where: str = "X",
    obs_names: Sequence[Any] | None = None,
) -> tuple[np.ndarray, CellEmbeddingRecord]:
    """GenePT-scaled: scaled PCA of the highly variable genes, placed isometrically in the gene-text space.

    See :mod:`genept.cells.scaled` for the method. With ``projection`` (a fitted
    :class:`~genept.cells.scaled.ScaledProjection` or the path of a saved one), the stored map
    is applied instead of fitting one: genes are matched by name, genes of the map that ``X``
    lacks are taken at their mean (counted in ``coverage["n_genes_imputed"]``), and
    ``gene_embeddings``, ``transform``, ``n_top_genes`` and ``n_comps`` come from the map.

    Parameters
    ----------
    X, var_names
        Expression (raw counts by default) and its gene ids.
    gene_embeddings
        :class:`~genept.GeneEmbeddings` or its path (not needed with ``projection``).
    transform
        ``"log1p_cp10k"`` (default; raw counts), ``"log1p"``, or ``"counts"`` (values used as
        given: already log-normalised data).
    n_top_genes, n_comps
        Highly variable genes kept (``None``: all) and principal axes.
    projection
        A stored map to apply (see above).
    species
        ``"auto"``, ``"human"`` or ``"mouse"``: how gene ids are resolved.
    chunk_size, show_progress, where, obs_names
        Cells per block, progress bars, the matrix's name and cell names for messages.

    Returns
    -------
    ``(Y, record)``. The fitted map itself comes from :func:`fit_genept_scaled` (same
    parameters); :func:`genept.tl.genept_scaled` stores it in the AnnData.

    Examples
    --------
    >>> import numpy as np
    >>> from genept import GeneEmbeddings
    >>> rng = np.random.default_rng(0)
    >>> names = [f"G{i}" for i in range(30)]
    >>> genes = GeneEmbeddings(names, rng.standard_normal((30, 16)).astype(np.float32))
    >>> X = rng.poisson(2.0, (50, 30)).astype(np.float32)
    >>> Y, record = genept_scaled(X, names, genes, n_comps=5)
    >>> Y.shape, record.coverage["n_comps"]
    ((50, 16), 5)
    """
    Y, record, _ = fit_genept_scaled(
        X, var_names, gene_embeddings, transform=transform, n_top_genes=n_top_genes, n_comps=n_comps,
        projection=projection, species=species, chunk_size=chunk_size, show_progress=show_progress,
        where=where, obs_names=obs_names,
    )  # fmt: skip
    return Y, record


def fit_genept_scaled(
    X: Any,
    var_names: Sequence[Any],
    gene_embeddings: Any = None,
    *,
    transform: Transform = "log1p_cp10k",
    n_top_genes: int | None = 2000,
    n_comps: int = 50,
    projection: ScaledProjection | str | os.PathLike | None = None,
    species: str = "auto",
    chunk_size: int = 5_000,
    show_progress: bool | None = None,
    where: str = "X",
    obs_names: Sequence[Any] | None = None,
) -> tuple[np.ndarray, CellEmbeddingRecord, ScaledProjection]:
    """:func:`genept_scaled` that also returns the map used (fitted here, or the one given).

    Examples
    --------
    >>> import numpy as np
    >>> from genept import GeneEmbeddings
    >>> rng = np.random.default_rng(0)
    >>> names = [f"G{i}" for i in range(30)]
    >>> genes = GeneEmbeddings(names, rng.standard_normal((30, 16)).astype(np.float32))
    >>> X = rng.poisson(2.0, (50, 30)).astype(np.float32)
    >>> Y, record, proj = fit_genept_scaled(X, names, genes, n_comps=5)
    >>> Y2, _ = genept_scaled(X, names, projection=proj)   # the stored map on (other) cells
    >>> bool(np.allclose(Y, Y2, atol=1e-5))
    True
    """
    from genept.cells.scaled import embed_scaled
    from genept.cells.validation import check_empty_cells, check_inputs, check_var_names

    start = time.perf_counter()
    n_obs = X.shape[0]
    check_inputs(X, var_names, n_obs=n_obs, where=where)
    n_dup = check_var_names(var_names, where=where)
    if projection is not None:
        proj = projection if isinstance(projection, ScaledProjection) else ScaledProjection.load(projection)
        cols = proj.columns(var_names)
        Y = proj.transform_matrix(X, var_names, chunk_size=chunk_size, show_progress=show_progress, where=where)
        n_imputed = int((cols < 0).sum())
        if n_imputed:
            logger.warning(
                "%d of the %d genes of the GenePT-scaled map are not in %s; they are taken at their mean",
                n_imputed, len(cols), where,
            )  # fmt: skip
        empty = ~Y.any(axis=1)
        check_empty_cells(empty, _names(obs_names, n_obs), where=where, why="no expression on the genes of the stored map")
        coverage = {
            "n_cells": int(n_obs),
            "n_genes": int(len(var_names)),
            "n_hvg": int(len(cols)),
            "n_hvg_embedded": int(proj.meta.get("n_hvg_embedded", len(cols))),
            "n_comps": int(proj.n_comps),
            "fraction_variance_embedded": float(proj.meta.get("fraction_variance_embedded", 1.0)),
            "n_genes_imputed": n_imputed,
            "n_empty_cells": int(empty.sum()),
            "n_duplicate_var_names": n_dup,
        }
        params = {
            "transform": proj.transform,
            "n_top_genes": int(len(cols)),
            "n_comps": int(proj.n_comps),
            "projection": "stored map applied",
            "chunk_size": int(chunk_size),
        }
        info = {k[len("gene_embeddings.") :]: v for k, v in proj.meta.items() if k.startswith("gene_embeddings.")}
        record = CellEmbeddingRecord("GenePT-scaled", params, coverage, gene_embeddings=info)
        return Y, _timed(record, start, n_obs), proj

    emb, E, found = _aligned(gene_embeddings, var_names, species, where, "GenePT-scaled")
    Y, stats, proj = embed_scaled(
        X, E, found=found, transform=transform, n_top_genes=n_top_genes, n_comps=n_comps,
        chunk_size=chunk_size, show_progress=show_progress, where=where, return_projection=True,
    )  # fmt: skip
    check_empty_cells(~Y.any(axis=1), _names(obs_names, n_obs), where=where, why="no expression on the highly variable genes")
    proj.gene_names = np.asarray([str(var_names[i]) for i in proj.genes], dtype=str)
    info = gene_embedding_info(emb)
    proj.meta = {
        **{f"gene_embeddings.{k}": str(v) for k, v in info.items()},
        "species": species,
        "n_hvg_embedded": str(stats.n_hvg_embedded),
        "fraction_variance_embedded": str(stats.fraction_variance_embedded),
    }
    params = {
        "transform": transform,
        "n_top_genes": -1 if n_top_genes is None else int(n_top_genes),
        "hvg_flavor": "seurat",
        "scale_max_value": "none",
        "n_comps": int(n_comps),
        "map": "isometric (Löwdin) text map of the principal axes",
        "chunk_size": int(chunk_size),
    }
    coverage = {**stats.to_dict(), "n_duplicate_var_names": n_dup}
    record = CellEmbeddingRecord("GenePT-scaled", params, coverage, gene_embeddings=info)
    return Y, _timed(record, start, n_obs), proj


def genept_w(
    X: Any,
    var_names: Sequence[Any],
    gene_embeddings: Any,
    *,
    transform: Transform = "counts",
    normalize: Normalize = "l2",
    species: str = "auto",
    chunk_size: int = 5_000,
    show_progress: bool | None = None,
    where: str = "X",
    obs_names: Sequence[Any] | None = None,
) -> tuple[np.ndarray, CellEmbeddingRecord]:
    """GenePT-w: the expression-weighted average of each cell's gene embeddings (the paper's method).

    Genes without an embedding contribute nothing; how many and the share of expression they
    carry are recorded. Cells with no expression on embedded genes get an all-zero row.

    Parameters
    ----------
    X, var_names
        Expression and its gene ids.
    gene_embeddings
        :class:`~genept.GeneEmbeddings` or its path.
    transform
        Weights: ``"counts"`` (default: values as given, counts or normalised), ``"log1p"`` or
        ``"log1p_cp10k"`` (these two expect raw counts). With L2 normalisation ``counts`` on raw
        counts equals weighting by library-size-normalised counts.
    normalize
        ``"l2"`` (default), ``"n_genes"`` (the GenePT notebook's ``/ n_genes``) or ``"none"``.
    species, chunk_size, show_progress, where, obs_names
        As in :func:`genept_scaled`.

    Examples
    --------
    >>> import numpy as np
    >>> from genept import GeneEmbeddings
    >>> genes = GeneEmbeddings(["A", "B"], np.eye(2, dtype=np.float32))
    >>> Y, record = genept_w(np.array([[3.0, 4.0]], dtype=np.float32), ["A", "B"], genes)
    >>> Y.round(2).tolist(), record.coverage["n_genes_embedded"]
    ([[0.6, 0.8]], 2)
    """
    from genept.cells.validation import check_empty_cells, check_inputs, check_var_names
    from genept.cells.weighted import embed_weighted

    start = time.perf_counter()
    n_obs = X.shape[0]
    check_inputs(X, var_names, n_obs=n_obs, where=where)
    n_dup = check_var_names(var_names, where=where)
    emb, E, found = _aligned(gene_embeddings, var_names, species, where, "GenePT-w")
    Y, stats = embed_weighted(
        X, E, found=found, transform=transform, normalize=normalize,
        chunk_size=chunk_size, show_progress=show_progress, where=where,
    )  # fmt: skip
    check_empty_cells(
        ~Y.any(axis=1), _names(obs_names, n_obs), where=where, why="no expression on a gene with an embedding",
        hint=" and that its expressed genes are among those with an embedding",
    )  # fmt: skip
    record = CellEmbeddingRecord(
        "GenePT-w",
        {"transform": transform, "normalize": normalize, "chunk_size": int(chunk_size)},
        {**stats.to_dict(), "n_duplicate_var_names": n_dup},
        gene_embeddings=gene_embedding_info(emb),
    )
    return Y, _timed(record, start, n_obs)


def genept_s(
    X: Any,
    var_names: Sequence[Any],
    *,
    encoder: Any = None,
    top_k: int | None = 1000,
    prefix: str = DEFAULT_PREFIX,
    separator: str = " ",
    windows: Literal["all", "first"] = "first",
    pooling: Literal["mean", "rank"] = "rank",
    cache: bool | str | os.PathLike | None = True,
    species: str = "auto",
    chunk_size: int = 5_000,
    show_progress: bool | None = None,
    where: str = "X",
    obs_names: Sequence[Any] | None = None,
) -> tuple[np.ndarray, CellEmbeddingRecord]:
    """GenePT-s: the text embedding of a sentence of each cell's gene symbols, highest expression first.

    Zeros are dropped, ties keep ``var_names`` order, at most ``top_k`` genes, ``prefix`` in
    front (:mod:`genept.cells.sentences`). A static (model2vec) encoder takes an exact sparse
    fast path that reads every gene. An encoder with a token limit reads only what fits in one
    cut string (``windows="first"``, default: the paper's behaviour), or every ranked gene in
    consecutive windows that fit the limit, pooled (``windows="all"``). ``"first"`` is the
    default because reading every gene with MiniLM cost 5.5 texts per cell and lowered 10-NN
    macro-F1 on Kang PBMC (0.573 first window, 0.496 all with rank pooling, 0.357 with mean
    pooling; ``benchmarks/results/performance.md``). Identical texts are encoded once and, with
    ``cache``, never again. How many genes were read is recorded.

    Parameters
    ----------
    X, var_names
        Expression and its gene ids (resolved to HGNC symbols where possible).
    encoder
        An encoder spec (``"minilm"``, the default; ``"static"``, ``"hashing"``,
        ``"openai:MODEL"``) or an encoder object.
    top_k, prefix, separator
        The sentence: number of genes (``None``: all expressed), text before, text between genes.
    windows, pooling
        ``"first"`` (default) / ``"all"`` (see above); windows pooled by ``"rank"`` (default: gene at
        rank ``r`` weighs ``1 / log2(r + 1)``) or ``"mean"`` (weight = genes in the window).
    cache
        Embedding cache: ``True`` (default file), a path, or ``False``/``None``.
    species, chunk_size, show_progress, where, obs_names
        As in :func:`genept_scaled`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0, 5, 1], [2, 0, 0]], dtype=np.float32)
    >>> Y, record = genept_s(X, ["CD3E", "CD19", "LYZ"], encoder="hashing", cache=False)
    >>> Y.shape[0], record.coverage["fraction_genes_read"]
    (2, 1.0)
    """
    from genept.cells.sentences import embed_cell_sentences, sentence_words
    from genept.cells.validation import check_empty_cells, check_inputs, check_var_names
    from genept.encoders import get_encoder

    start = time.perf_counter()
    n_obs = X.shape[0]
    check_inputs(X, var_names, n_obs=n_obs, where=where)
    n_dup = check_var_names(var_names, where=where)
    enc = get_encoder("minilm" if encoder is None else encoder, cache=None if cache is False else cache)
    names = [str(v) for v in var_names]
    words, n_resolved = sentence_words(names, species=species)
    with _quiet_truncation_warnings():  # truncation is reported per cell in the record instead
        Y, stats = embed_cell_sentences(
            X, words, enc, top_k=top_k, prefix=prefix, separator=separator, windows=windows, pooling=pooling,
            chunk_size=chunk_size, show_progress=show_progress, where=where,
        )  # fmt: skip
    Y = np.asarray(Y, dtype=np.float32)
    empty = stats.n_genes == 0
    check_empty_cells(empty, _names(obs_names, n_obs), where=where, why="no expressed gene (an empty sentence)")
    Y[empty] = 0.0  # no expressed gene: nothing to say about the cell
    info = stats.to_dict()
    truncation = info.pop("truncation")
    encode_stats = info.pop("encode_stats")
    record = CellEmbeddingRecord(
        "GenePT-s",
        {
            "top_k": -1 if top_k is None else int(top_k), "prefix": prefix, "separator": separator,
            "windows": windows, "pooling": pooling, "chunk_size": int(chunk_size),
        },  # fmt: skip
        {
            **info,
            "n_genes": int(len(words)),
            "n_genes_resolved": int(n_resolved),
            "n_genes_renamed_to_hgnc": int(sum(w != v for w, v in zip(words, names, strict=True))),
            "n_distinct_sentences": int(stats.n_texts),
            "n_duplicate_var_names": n_dup,
        },
        encoder={
            "name": str(enc.name),
            "identity": str(enc.identity),
            "dim": int(enc.dim),
            "cache": str(getattr(getattr(enc, "cache", None), "path", "")),
            "encode_stats": encode_stats,
        },
        truncation=truncation,
    )
    return Y, _timed(record, start, n_obs)


# -- helpers -------------------------------------------------------------------------------------
def check_method_parameters(params: Mapping[str, Any], functions: Mapping[str, Any], method: str, *, what: str) -> None:
    """Refuse keyword arguments that ``functions[method]`` does not take, naming the method each belongs to.

    The parameters of each method are read from its signature, so the rule cannot drift from the code.

    Examples
    --------
    >>> check_method_parameters({"n_comps": 5}, {"scaled": genept_scaled, "w": genept_w}, "w", what="genept_w()")
    Traceback (most recent call last):
    ...
    TypeError: genept_w() does not take n_comps (n_comps is a parameter of method='scaled')
    """
    wrong = sorted(set(params) - _keywords(functions[method]))
    if wrong:
        owners = {p: [m for m, fn in functions.items() if p in _keywords(fn)] for p in wrong}
        hint = "; ".join(
            f"{p} is a parameter of method={', '.join(map(repr, ms))}" if ms else f"{p} is not a parameter of any method"
            for p, ms in owners.items()
        )
        raise TypeError(f"{what} does not take {', '.join(wrong)} ({hint})")


def _keywords(fn: Any) -> set[str]:
    """Keyword parameters of a method function (its data arguments left out)."""
    return set(inspect.signature(fn).parameters) - {"X", "var_names", "gene_embeddings", "adata", "copy"}


def _aligned(gene_embeddings: Any, var_names: Sequence[Any], species: str, where: str, method: str):
    """Gene embeddings aligned with ``var_names``: ``(emb, E, found)``."""
    from genept.cells.validation import check_gene_overlap
    from genept.embeddings import load_gene_embeddings

    if gene_embeddings is None:
        raise ValueError(
            f"{method} needs gene embeddings: pass a GeneEmbeddings or the path of a .npz made by "
            "genept.embed_genes / `genept genes embed` (or use GenePT-s, which needs only a text encoder)."
        )
    emb = load_gene_embeddings(gene_embeddings)
    E, found = emb.reindex(var_names, species=species)
    check_gene_overlap(found, var_names, emb.genes, where=where)
    return emb, E, found


def _names(obs_names: Sequence[Any] | None, n: int) -> Sequence[Any]:
    return obs_names if obs_names is not None else [str(i) for i in range(n)]


def _timed(record: CellEmbeddingRecord, start: float, n_obs: int) -> CellEmbeddingRecord:
    seconds = time.perf_counter() - start
    record.seconds = round(seconds, 3)
    record.cells_per_second = round(n_obs / seconds, 1) if seconds > 0 else 0.0
    logger.info("%s", record)
    return record


@contextlib.contextmanager
def _quiet_truncation_warnings() -> Iterator[None]:
    log = logging.getLogger("genept.encoders")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


__all__ = ["check_method_parameters", "embed", "fit_genept_scaled", "genept_s", "genept_scaled", "genept_w"]
