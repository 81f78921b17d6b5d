"""Plots of GenePT embeddings (scanpy style).

:func:`umap` computes the neighbour graph and UMAP of an embedding on a private AnnData, so
the user's ``obsp``, ``uns["neighbors"]`` and ``obsm["X_umap"]`` are left alone unless asked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genept._utils import atomic_path


def umap(
    adata,
    basis: str = "X_genept_scaled",
    color: str | Sequence[str] | None = None,
    *,
    path: str | os.PathLike | None = None,
    n_neighbors: int = 15,
    metric: str = "cosine",
    min_dist: float = 0.5,
    random_state: int = 0,
    key_added: str | None = None,
    recompute: bool = False,
    dpi: int = 150,
    show: bool = False,
    **kwargs: Any,
):
    """UMAP of a cell embedding (cosine neighbours by default), optionally saved as a PNG.

    Parameters
    ----------
    adata
        AnnData with the embedding in ``obsm[basis]``.
    basis
        ``obsm`` key of the embedding (``"X_genept_scaled"``, ``"X_genept_w"``, ``"X_genept_s"``, ``"X_pca"``, ...).
    color
        ``obs`` column(s) to colour by.
    path
        Save the figure here (written atomically; format from the suffix, e.g. ``.png``).
    n_neighbors, metric, min_dist, random_state
        Passed to ``scanpy.pp.neighbors`` / ``scanpy.tl.umap``.
    key_added
        ``obsm`` key for the 2-d coordinates: default ``f"{basis}_umap"``, where coordinates
        from an earlier call are reused (to re-plot with other colours) unless ``recompute``.
        An explicit key is always recomputed; pass ``"X_umap"`` to replace scanpy's UMAP.
    recompute
        Recompute even when ``obsm[f"{basis}_umap"]`` exists.
    dpi
        Resolution of the saved figure.
    show
        Show the figure (interactive sessions).
    **kwargs
        Passed to ``scanpy.pl.embedding`` (``palette``, ``size``, ``legend_loc``, ...).

    Returns
    -------
    The matplotlib ``Figure``. ``adata.obsm[key_added]`` holds the coordinates; nothing else in
    ``adata`` changes (the neighbour graph is not kept).

    Examples
    --------
    >>> genept.tl.embed_cells(adata, "genes.npz")
    >>> genept.pl.umap(adata, "X_genept_w", color="cell_type", path="umap_genept_w.png")
    """
    import anndata as ad
    import scanpy as sc

    if basis not in adata.obsm:
        raise ValueError(f"adata.obsm has no {basis!r} (it has {list(adata.obsm)}); run genept.tl.embed_cells first")
    colors = [color] if isinstance(color, str) else list(color or [])
    missing = [c for c in colors if c not in adata.obs]
    if missing:
        raise ValueError(f"color {missing} not found in adata.obs (columns: {list(adata.obs.columns)})")
    key = key_added or f"{basis}_umap"
    rep = np.asarray(adata.obsm[basis], dtype=np.float32)
    if not np.isfinite(rep).all():
        raise ValueError(f"adata.obsm[{basis!r}] contains NaN or inf; recompute the embedding")
    tmp = ad.AnnData(obs=adata.obs[colors].copy(), obsm={"X_rep": rep})
    for c in colors:  # keep the user's category colours
        if f"{c}_colors" in adata.uns:
            tmp.uns[f"{c}_colors"] = adata.uns[f"{c}_colors"]
    if key_added is None and key in adata.obsm and not recompute:
        tmp.obsm["X_umap"] = np.asarray(adata.obsm[key])
    else:
        if adata.n_obs < 3:
            raise ValueError(f"UMAP needs at least 3 cells, got {adata.n_obs}")
        sc.pp.neighbors(tmp, n_neighbors=min(n_neighbors, adata.n_obs - 1), use_rep="X_rep", metric=metric, random_state=random_state)
        sc.tl.umap(tmp, min_dist=min_dist, random_state=random_state)
        adata.obsm[key] = np.asarray(tmp.obsm["X_umap"], dtype=np.float32)
    kwargs.setdefault("frameon", False)
    kwargs.setdefault("title", [f"{basis}: {c}" for c in colors] or basis)
    fig = sc.pl.embedding(tmp, "X_umap", color=colors or None, show=False, return_fig=True, **kwargs)
    if path is not None:
        path = Path(path)
        with atomic_path(path) as tmp_path:
            fig.savefig(tmp_path, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    if show:
        import matplotlib.pyplot as plt

        plt.show()
    return fig

