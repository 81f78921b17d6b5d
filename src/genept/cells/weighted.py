"""GenePT-w: each cell is the expression-weighted average of its genes' embeddings.

``cell = normalise( sum_g w(x_cg) * e_g )`` where ``e_g`` is the embedding of gene ``g`` (zero
for genes without one) and ``w`` the weighting transform. With ``normalize="l2"`` (the paper's
definition and the default) each row is scaled to unit length; the reference notebook's
``X @ E / n_genes`` without normalisation is available as ``normalize="n_genes"``.

Because the L2 normalisation removes any per-cell scale, weighting by raw counts and by
library-size-normalised counts give the same result; only non-linear transforms (``log1p``)
change the direction of a cell's vector.

:func:`weighted_embedding` is the kernel: one in-memory block of cells and the aligned gene
matrix in, finished rows out. :func:`embed_weighted` drives it over any AnnData matrix (in
memory, backed ``.h5ad`` read in row chunks, or dask via ``blockwise``) and reports coverage:
genes without an embedding, the fraction of expression they carry, and cells left with no
embedded expression (those get an all-zero row, never NaN).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from genept.cells.blocks import is_dask, iter_row_blocks
from genept.cells.validation import check_block, warn_if_not_counts

Transform = Literal["counts", "log1p", "log1p_cp10k"]
Normalize = Literal["l2", "n_genes", "none"]
TRANSFORMS: tuple[str, ...] = ("counts", "log1p", "log1p_cp10k")


def transform_block(X, transform: Transform = "counts"):
    """Apply the weighting transform to a block of cells (sparse stays sparse, float32).

    ``counts`` keeps the values, ``log1p`` takes ``log(1 + x)``, ``log1p_cp10k`` first scales each
    cell to a total of 10,000 (empty cells stay zero).

    Examples
    --------
    >>> transform_block(np.array([[1.0, 3.0], [0.0, 0.0]]), "log1p")
    array([[0.6931472, 1.3862944],
           [0.       , 0.       ]], dtype=float32)
    >>> import scipy.sparse as sp
    >>> transform_block(sp.csr_matrix([[1.0, 3.0]]), "log1p_cp10k").toarray().round(3)
    array([[7.824, 8.923]], dtype=float32)
    """
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}, not {transform!r}")
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float32, copy=transform != "counts")
        if transform == "log1p_cp10k":
            totals = np.asarray(X.sum(axis=1)).ravel()
            scale = np.divide(1e4, totals, out=np.zeros_like(totals), where=totals > 0)
            X.data *= np.repeat(scale, np.diff(X.indptr)).astype(np.float32)
        if transform != "counts":
            np.log1p(X.data, out=X.data)
        return X
    X = np.asarray(X, dtype=np.float32)
    if transform == "log1p_cp10k":
        totals = X.sum(axis=1, keepdims=True)
        X = X * np.divide(1e4, totals, out=np.zeros_like(totals), where=totals > 0)
    if transform != "counts":
        X = np.log1p(X)
    return X


def log1p_cp10k_columns(X, columns) -> np.ndarray:
    """``log1p`` of counts per 10,000 of some ``columns`` only, each cell's total taken over all genes (dense float64).

    What ``transform_block(X, "log1p_cp10k")[:, columns]`` gives, without normalising (or
    copying) the rest of ``X``: for scoring a few marker genes of a large matrix.

    Examples
    --------
    >>> log1p_cp10k_columns(np.array([[1.0, 3.0], [0.0, 0.0]]), [1]).round(3).tolist()
    [[8.923], [0.0]]
    """
    total = np.asarray(X.sum(axis=1), dtype=np.float64).ravel()
    scale = np.divide(1e4, total, out=np.zeros_like(total), where=total > 0)
    sub = X[:, columns]
    sub = sub.toarray() if hasattr(sub, "toarray") else np.asarray(sub)
    return np.log1p(sub.astype(np.float64) * scale[:, None])


def normalize_rows(Y: np.ndarray, normalize: Normalize, n_genes: int) -> np.ndarray:
    """Finish a block of weighted sums in place: unit L2 rows (zero rows stay zero) or ``/ n_genes``.

    Examples
    --------
    >>> normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32), "l2", n_genes=2)
    array([[0.6, 0.8],
           [0. , 0. ]], dtype=float32)
    >>> normalize_rows(np.array([[3.0, 4.0]], dtype=np.float32), "n_genes", n_genes=2)
    array([[1.5, 2. ]], dtype=float32)
    """
    if normalize == "l2":
        norms = np.sqrt(np.einsum("ij,ij->i", Y, Y))
        np.divide(Y, norms[:, None], out=Y, where=norms[:, None] > 0)
    elif normalize == "n_genes":
        Y /= np.float32(max(n_genes, 1))
    elif normalize != "none":
        raise ValueError(f"normalize must be 'l2', 'n_genes' or 'none', not {normalize!r}")
    return Y


def weighted_embedding(
    X,
    gene_vectors: np.ndarray,
    *,
    transform: Transform = "counts",
    normalize: Normalize = "l2",
) -> np.ndarray:
    """GenePT-w for one in-memory block of cells.

    Parameters
    ----------
    X
        ``(n_cells, n_genes)`` expression, scipy sparse or dense. Never densified.
    gene_vectors
        ``(n_genes, dim)`` gene embeddings aligned with the columns of ``X``; rows of genes
        without an embedding must be zero.
    transform
        Weighting: ``counts`` (values as given), ``log1p``, or ``log1p_cp10k``
        (normalise each cell to 10,000 then ``log1p``).
    normalize
        ``l2`` (unit rows; default), ``n_genes`` (divide by the number of genes, as GenePT's
        notebook did) or ``none``.

    Returns
    -------
    ``(n_cells, dim)`` float32 array. Cells with no expression in embedded genes get a zero row.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> X = sp.random(5, 10, density=0.3, format="csr", dtype=np.float32)
    >>> E = np.random.default_rng(0).normal(size=(10, 8)).astype(np.float32)
    >>> weighted_embedding(X, E).shape
    (5, 8)
    """
    E = np.ascontiguousarray(gene_vectors, dtype=np.float32)
    if X.shape[1] != E.shape[0]:
        raise ValueError(f"X has {X.shape[1]} genes but gene_vectors has {E.shape[0]} rows; align them first")
    W = transform_block(X, transform)
    # `X @ E` on the sparse matrix; np.dot(sparse, dense) silently builds an object array.
    Y = np.asarray(W @ E, dtype=np.float32)
    return normalize_rows(Y, normalize, X.shape[1])


def embed_block(block: Any, E: np.ndarray, *, transform: Transform = "counts", normalize: Normalize = "l2") -> np.ndarray:
    """One in-memory block -> finished rows.

    Sparse blocks go through the fused parallel numba kernel (:mod:`genept.cells.kernels`),
    dense ones through :func:`weighted_embedding`; both give the same numbers to float32 rounding.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> E = np.array([[1, 0], [0, 1], [0, 0]], dtype=np.float32)  # the third gene has no embedding
    >>> X = np.array([[3, 0, 1], [0, 2, 5], [0, 0, 4]], dtype=np.float32)
    >>> embed_block(sp.csr_matrix(X), E)
    array([[1., 0.],
           [0., 1.],
           [0., 0.]], dtype=float32)
    >>> np.array_equal(embed_block(X, E), embed_block(sp.csr_matrix(X), E))
    True
    """
    if sp.issparse(block):
        from genept.cells.kernels import fused_weighted_embedding

        return fused_weighted_embedding(block, E, transform, normalize)
    return weighted_embedding(block, E, transform=transform, normalize=normalize)


@dataclass
class WeightedStats:
    """Coverage of a GenePT-w run.

    ``expression_*`` are sums of the input values as given (before the weighting transform):
    for a counts matrix, UMIs.

    Examples
    --------
    >>> stats = WeightedStats(n_cells=3, n_genes=3, n_genes_embedded=2, n_empty_cells=1,
    ...                       expression_total=15.0, expression_missing=10.0)
    >>> print(stats)
    2 / 3 genes have an embedding; the 1 without one carry 66.67% of the expression; 1 of 3 cells have no embedded expression (zero rows)
    >>> stats.to_dict()["n_genes_missing"], stats.to_dict()["fraction_expression_lost"]
    (1, 0.666667)
    """

    n_cells: int
    n_genes: int
    n_genes_embedded: int
    n_empty_cells: int
    expression_total: float
    expression_missing: float

    @property
    def fraction_expression_lost(self) -> float:
        """Share of the total expression that falls on genes without an embedding."""
        return self.expression_missing / self.expression_total if self.expression_total > 0 else 0.0

    def to_dict(self) -> dict[str, float | int]:
        """The counts as plain JSON-safe values, with ``n_genes_missing`` and ``fraction_expression_lost``."""
        return {
            "n_cells": self.n_cells,
            "n_genes": self.n_genes,
            "n_genes_embedded": self.n_genes_embedded,
            "n_genes_missing": self.n_genes - self.n_genes_embedded,
            "n_empty_cells": self.n_empty_cells,
            "expression_total": float(self.expression_total),
            "expression_missing": float(self.expression_missing),
            "fraction_expression_lost": round(float(self.fraction_expression_lost), 6),
        }

    def __str__(self) -> str:
        text = (
            f"{self.n_genes_embedded:,} / {self.n_genes:,} genes have an embedding; the "
            f"{self.n_genes - self.n_genes_embedded:,} without one carry "
            f"{100 * self.fraction_expression_lost:.2f}% of the expression"
        )
        if self.n_empty_cells:
            text += f"; {self.n_empty_cells:,} of {self.n_cells:,} cells have no embedded expression (zero rows)"
        return text


def _row_stats(block: Any, found: np.ndarray) -> np.ndarray:
    """Per cell: total expression and expression on embedded genes (``(n, 2)`` float64)."""
    total = np.asarray(block.sum(axis=1)).ravel()
    embedded = np.asarray(block @ found).ravel()
    return np.column_stack([total, embedded]).astype(np.float64)


def _stats(row_stats: np.ndarray, found: np.ndarray) -> WeightedStats:
    total = float(row_stats[:, 0].sum())
    embedded = float(row_stats[:, 1].sum())
    return WeightedStats(
        n_cells=int(row_stats.shape[0]),
        n_genes=int(found.shape[0]),
        n_genes_embedded=int(np.count_nonzero(found)),
        n_empty_cells=int(np.count_nonzero(row_stats[:, 1] <= 0)),
        expression_total=total,
        expression_missing=max(total - embedded, 0.0),
    )


def embed_weighted(
    X: Any,
    gene_vectors: np.ndarray,
    *,
    found: np.ndarray | None = None,
    transform: Transform = "counts",
    normalize: Normalize = "l2",
    chunk_size: int = 5_000,
    show_progress: bool | None = None,
    where: str = "adata.X",
    out: Any = None,
) -> tuple[Any, WeightedStats]:
    """GenePT-w over a whole matrix in bounded memory, with a coverage report.

    Parameters
    ----------
    X
        ``(n_cells, n_genes)`` expression: numpy, scipy sparse, a backed AnnData's ``X``
        (``anndata.read_h5ad(path, backed="r").X``, read ``chunk_size`` rows at a time) or a
        dask array (one task per row chunk through ``blockwise``, run by whichever dask
        scheduler is active; chunks along genes are merged).
    gene_vectors
        ``(n_genes, dim)`` gene embeddings aligned with the columns; zero rows for genes without
        an embedding (:meth:`genept.GeneEmbeddings.reindex` returns exactly this).
    found
        Which genes have an embedding (default: the non-zero rows of ``gene_vectors``).
    transform, normalize
        See :func:`weighted_embedding`.
    chunk_size
        Cells per block for in-memory and backed input. Memory is one block plus the output.
    show_progress
        Progress bar (``None``: only on a terminal).
    where
        Name of the matrix in error messages.
    out
        Where to write the rows instead of a new in-memory array: anything that takes
        ``out[start:stop] = block`` with shape ``(n_cells, dim)`` (``np.memmap``, an h5py dataset,
        a zarr array). With a backed ``X`` this keeps memory bounded by one block whatever the
        number of cells. Not used for dask input (``dask.array.to_zarr`` streams there).

    Returns
    -------
    tuple
        ``(embeddings, stats)``: a ``(n_cells, dim)`` float32 array (or ``out``) equal (up to
        float rounding) to :func:`weighted_embedding` on the whole matrix, and
        :class:`WeightedStats`.

    Examples
    --------
    A backed ``.h5ad`` file read two cells at a time; ``MY_GENE`` has no embedding:

    >>> import anndata as ad
    >>> import scipy.sparse as sp
    >>> from genept.embeddings import GeneEmbeddings
    >>> counts = sp.csr_matrix(np.array([[3, 0, 1], [0, 2, 5], [0, 0, 4]], dtype=np.float32))
    >>> ad.AnnData(counts, var=pd.DataFrame(index=["CD3E", "MS4A1", "MY_GENE"])).write_h5ad("cells.h5ad")
    >>> adata = ad.read_h5ad("cells.h5ad", backed="r")
    >>> gene_embeddings = GeneEmbeddings.from_mapping({"CD3E": [1.0, 0.0], "MS4A1": [0.0, 1.0]})
    >>> E, found = gene_embeddings.reindex(adata.var_names)
    >>> Y, stats = embed_weighted(adata.X, E, found=found, chunk_size=2)
    >>> Y
    array([[1., 0.],
           [0., 1.],
           [0., 0.]], dtype=float32)
    >>> print(stats)
    2 / 3 genes have an embedding; the 1 without one carry 66.67% of the expression; 1 of 3 cells have no embedded expression (zero rows)
    """
    E = np.ascontiguousarray(gene_vectors, dtype=np.float32)
    if E.ndim != 2 or E.shape[0] != X.shape[1]:
        raise ValueError(f"X has {X.shape[1]} genes but gene_vectors has shape {E.shape}; align them with GeneEmbeddings.reindex")
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}, not {transform!r}")
    if normalize not in ("l2", "n_genes", "none"):
        raise ValueError(f"normalize must be 'l2', 'n_genes' or 'none', not {normalize!r}")
    found = np.any(E != 0, axis=1) if found is None else np.asarray(found, dtype=bool)
    if found.shape != (E.shape[0],):
        raise ValueError(f"found must be a boolean mask with one entry per gene ({E.shape[0]}), got shape {found.shape}")
    found_f = found.astype(np.float32)
    # log1p / log1p_cp10k expect raw counts: warn (once) on non-integer values.
    counts_done = False
    if is_dask(X):
        if transform != "counts":  # one extra read of the first row chunk
            warn_if_not_counts(X[: X.chunks[0][0]].compute(), transform, where=where)
        Y, rows = _embed_dask(X, E, found_f, transform=transform, normalize=normalize)
        return Y, _stats(rows, found)
    if out is None:
        Y = np.empty((X.shape[0], E.shape[1]), dtype=np.float32)
    elif tuple(out.shape) != (X.shape[0], E.shape[1]):
        raise ValueError(f"out has shape {tuple(out.shape)}, expected ({X.shape[0]}, {E.shape[1]})")
    else:
        Y = out
    rows = np.empty((X.shape[0], 2), dtype=np.float64)
    for start, stop, block in iter_row_blocks(X, chunk_size, show_progress=show_progress, desc="GenePT-w"):
        check_block(block, where=where, start=start)
        counts_done = counts_done or warn_if_not_counts(block, transform, where=where, start=start)
        Y[start:stop] = embed_block(block, E, transform=transform, normalize=normalize)
        rows[start:stop] = _row_stats(block, found_f)
    return Y, _stats(rows, found)


def _dask_weighted_block(block, E, *, transform, normalize):
    check_block(block, where="a dask block of X")
    return embed_block(block, E, transform=transform, normalize=normalize)


def _dask_stats_block(block, found):
    return _row_stats(block, found)


def _embed_dask(X, E, found_f, *, transform, normalize) -> tuple[np.ndarray, np.ndarray]:
    from genept._utils import require

    dask = require("dask", "dask-backed AnnData")
    da = require("dask.array", "dask-backed AnnData")
    X = X.rechunk({1: -1})  # every task needs all genes of its cells
    # E and the mask enter the graph once, as single-block arrays, so a distributed scheduler
    # ships them to each worker once instead of with every task.
    E_d = da.from_array(E, chunks=E.shape)
    F_d = da.from_array(found_f, chunks=found_f.shape)
    Y = da.blockwise(
        _dask_weighted_block, "ij", X, "ik", E_d, "kj",
        dtype=np.float32, concatenate=True, meta=np.empty((0, 0), dtype=np.float32),
        transform=transform, normalize=normalize,
    )  # fmt: skip
    S = da.blockwise(
        _dask_stats_block, "is", X, "ik", F_d, "k",
        new_axes={"s": 2}, dtype=np.float64, concatenate=True, meta=np.empty((0, 0), dtype=np.float64),
    )  # fmt: skip
    Y, S = dask.compute(Y, S)
    return np.ascontiguousarray(Y, dtype=np.float32), np.asarray(S, dtype=np.float64)


__all__ = [
    "TRANSFORMS",
    "WeightedStats",
    "embed_block",
    "embed_weighted",
    "log1p_cp10k_columns",
    "normalize_rows",
    "transform_block",
    "weighted_embedding",
]
