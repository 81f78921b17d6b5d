"""2-d layouts of a cell embedding, on arrays: what ``tl.umap`` stores and ``pl.umap`` draws.

Kept here, below both :mod:`genept.tl` and :mod:`genept.evaluation`, so that the AnnData tool
and the benchmark report compute the same layout without importing each other.
"""

from __future__ import annotations

import numpy as np


def umap_coordinates(
    X: np.ndarray,
    *,
    n_neighbors: int = 15,
    metric: str = "cosine",
    min_dist: float = 0.5,
    random_state: int = 0,
) -> np.ndarray:
    """UMAP of the rows of ``X``: scanpy's neighbour graph (``metric``) then ``scanpy.tl.umap``.

    The work happens on a private AnnData, so nothing of the caller's objects changes.

    Parameters
    ----------
    X
        ``(n_cells, dim)`` embedding; at least 3 rows, finite.
    n_neighbors
        Neighbours per cell (capped at ``n_cells - 1``).
    metric
        Distance of the neighbour graph (cosine by default: GenePT embeddings are directions).
    min_dist, random_state
        Passed to ``scanpy.tl.umap``.

    Returns
    -------
    numpy.ndarray
        ``(n_cells, 2)`` float32 coordinates.

    Raises
    ------
    ValueError
        Fewer than 3 cells, not 2-d, or NaN / inf values.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(30, 5)).astype(np.float32)
    >>> # skipped under doctest: numba compiles UMAP on first use (~45 s CPU)
    >>> umap_coordinates(X, n_neighbors=5).shape  # doctest: +SKIP
    (30, 2)
    """
    import anndata as ad
    import scanpy as sc

    rep = np.asarray(X, dtype=np.float32)
    if rep.ndim != 2:
        raise ValueError(f"the embedding must be 2-d (cells x dimensions), got shape {rep.shape}")
    if rep.shape[0] < 3:
        raise ValueError(f"UMAP needs at least 3 cells, got {rep.shape[0]}")
    if not np.isfinite(rep).all():
        raise ValueError("the embedding contains NaN or inf; recompute it (or drop those cells) first")
    tmp = ad.AnnData(obsm={"X_rep": rep}, obs={"_": np.zeros(rep.shape[0])})
    sc.pp.neighbors(tmp, n_neighbors=min(n_neighbors, rep.shape[0] - 1), use_rep="X_rep", metric=metric, random_state=random_state)
    sc.tl.umap(tmp, min_dist=min_dist, random_state=random_state)
    return np.asarray(tmp.obsm["X_umap"], dtype=np.float32)


__all__ = ["umap_coordinates"]
