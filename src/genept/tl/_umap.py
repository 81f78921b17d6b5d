"""UMAP of a cell embedding, stored in the AnnData for :func:`genept.pl.umap` to draw."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from genept.tl._store import store

if TYPE_CHECKING:
    from anndata import AnnData


def umap(
    adata: AnnData,
    basis: str = "X_genept_scaled",
    *,
    n_neighbors: int = 15,
    metric: str = "cosine",
    min_dist: float = 0.5,
    random_state: int = 0,
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """UMAP of ``obsm[basis]`` (cosine neighbours by default), stored as 2-d coordinates.

    The neighbour graph is built on a private AnnData
    (:func:`genept.cells.layout.umap_coordinates`), so the user's ``obsp``,
    ``uns["neighbors"]`` and ``obsm["X_umap"]`` are left alone unless ``key_added="X_umap"``.

    Parameters
    ----------
    adata
        AnnData with the embedding in ``obsm[basis]``.
    basis
        ``obsm`` key of the embedding (``"X_genept_scaled"``, ``"X_genept_w"``, ``"X_pca"``, ...).
    n_neighbors, metric, min_dist, random_state
        Passed to ``scanpy.pp.neighbors`` / ``scanpy.tl.umap``.
    key_added
        ``obsm`` key of the coordinates; default ``f"{basis}_umap"`` (where :func:`genept.pl.umap`
        looks for them). ``"X_umap"`` replaces scanpy's UMAP.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy when ``copy=True``. Writes ``adata.obsm[key_added]`` ((n_cells, 2)
    float32) and ``adata.uns[key_added]["params"]`` (basis and UMAP parameters).

    Examples
    --------
    >>> import anndata as ad, numpy as np, genept
    >>> adata = ad.AnnData(np.ones((30, 2), dtype=np.float32),
    ...                    obsm={"X_genept_w": np.random.default_rng(0).normal(size=(30, 5))})
    >>> # skipped under doctest: numba compiles UMAP on first use (~45 s CPU)
    >>> genept.tl.umap(adata, "X_genept_w", n_neighbors=5)  # doctest: +SKIP
    >>> adata.obsm["X_genept_w_umap"].shape  # doctest: +SKIP
    (30, 2)
    """
    from genept.cells.layout import umap_coordinates

    if basis not in adata.obsm:
        raise KeyError(f"adata.obsm has no {basis!r} (it has {list(adata.obsm)}); embed the cells first, e.g. genept.tl.embed_cells")
    adata = adata.copy() if copy else adata
    key = key_added or f"{basis}_umap"
    try:
        coords = umap_coordinates(
            np.asarray(adata.obsm[basis]), n_neighbors=n_neighbors, metric=metric, min_dist=min_dist, random_state=random_state
        )
    except ValueError as err:
        raise ValueError(f"adata.obsm[{basis!r}]: {err}") from err
    adata.obsm[key] = coords
    params = {
        "basis": basis,
        "n_neighbors": int(min(n_neighbors, adata.n_obs - 1)),
        "metric": metric,
        "min_dist": float(min_dist),
        "random_state": int(random_state),
    }
    store(adata, key, params)
    return adata if copy else None


__all__ = ["umap"]
