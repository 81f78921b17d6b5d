"""UMAP plots of GenePT embeddings (scanpy style): draws the coordinates :func:`genept.tl.umap` stored."""

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
    key: str | None = None,
    path: str | os.PathLike | None = None,
    dpi: int = 150,
    show: bool = False,
    **kwargs: Any,
):
    """Draw the stored UMAP of a cell embedding, optionally saved as a PNG. Computes nothing.

    Parameters
    ----------
    adata
        AnnData with UMAP coordinates from :func:`genept.tl.umap` in ``obsm[key]``.
    basis
        The embedding the UMAP was made from (names the default ``key`` and the titles).
    color
        ``obs`` column(s) to colour by.
    key
        ``obsm`` key of the 2-d coordinates; default ``f"{basis}_umap"`` (where
        :func:`genept.tl.umap` stores them).
    path
        Save the figure here (written atomically; format from the suffix, e.g. ``.png``).
    dpi
        Resolution of the saved figure.
    show
        Show the figure (interactive sessions).
    **kwargs
        Passed to ``scanpy.pl.embedding`` (``palette``, ``size``, ``legend_loc``, ``title``, ...).

    Returns
    -------
    The matplotlib ``Figure``. ``adata`` is not changed.

    Raises
    ------
    KeyError
        No coordinates in ``obsm[key]``: run ``genept.tl.umap(adata, basis)`` first.

    Examples
    --------
    >>> import anndata as ad, numpy as np, pandas as pd, genept
    >>> adata = ad.AnnData(np.ones((4, 2), dtype=np.float32), obs=pd.DataFrame({"cell_type": list("aabb")}, index=list("wxyz")))
    >>> adata.obsm["X_genept_w_umap"] = np.array([[0, 0], [0, 1], [5, 5], [5, 6]], dtype=np.float32)
    >>> fig = genept.pl.umap(adata, "X_genept_w", color="cell_type")
    >>> [ax.get_title() for ax in fig.axes][:1]
    ['X_genept_w: cell_type']
    """
    import anndata as ad
    import scanpy as sc

    key = key or f"{basis}_umap"
    if key not in adata.obsm:
        raise KeyError(
            f"adata.obsm has no UMAP coordinates {key!r} (it has {list(adata.obsm)}); compute them first with "
            f"genept.tl.umap(adata, basis={basis!r}" + (f", key_added={key!r}" if key != f"{basis}_umap" else "") + ")"
        )
    coords = np.asarray(adata.obsm[key], dtype=np.float32)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"adata.obsm[{key!r}] must hold 2-d coordinates (n_cells, 2), got shape {coords.shape}")
    colors = [color] if isinstance(color, str) else list(color or [])
    missing = [c for c in colors if c not in adata.obs]
    if missing:
        raise ValueError(f"color {missing} not found in adata.obs (columns: {list(adata.obs.columns)})")
    tmp = ad.AnnData(obs=adata.obs[colors].copy(), obsm={"X_umap": coords})
    for c in colors:  # keep the user's category colours
        if f"{c}_colors" in adata.uns:
            tmp.uns[f"{c}_colors"] = adata.uns[f"{c}_colors"]
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


__all__ = ["umap"]
