"""GenePT-w: each cell is the expression-weighted average of its genes' embeddings.

``cell = normalise( sum_g w(x_cg) * e_g )`` where ``e_g`` is the embedding of gene ``g`` (zero
for genes without one) and ``w`` the weighting transform. With ``normalize="l2"`` (the paper's
definition and the default) each row is scaled to unit length; the reference notebook's
``X @ E / n_genes`` without normalisation is available as ``normalize="n_genes"``.

Because the L2 normalisation removes any per-cell scale, weighting by raw counts and by
library-size-normalised counts give the same result; only non-linear transforms (``log1p``)
change the direction of a cell's vector.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp

Transform = Literal["counts", "log1p", "log1p_cp10k"]
Normalize = Literal["l2", "n_genes", "none"]
TRANSFORMS: tuple[str, ...] = ("counts", "log1p", "log1p_cp10k")


def transform_block(X, transform: Transform = "counts"):
    """Apply the weighting transform to a block of cells (sparse stays sparse, float32)."""
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


def normalize_rows(Y: np.ndarray, normalize: Normalize, n_genes: int) -> np.ndarray:
    """Finish a block of weighted sums in place: unit L2 rows (zero rows stay zero) or ``/ n_genes``."""
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
