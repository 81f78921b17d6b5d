"""Heatmap of gene-program scores per cell group: draws what :func:`genept.tl.score_programs` stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from genept._utils import atomic_path

if TYPE_CHECKING:
    from anndata import AnnData
    from matplotlib.axes import Axes


def program_heatmap(
    adata: AnnData,
    groupby: str,
    key: str = "genept_programs",
    *,
    programs: Sequence[str] | None = None,
    standard_scale: bool = True,
    path: str | Path | None = None,
    ax: Axes | None = None,
    dpi: int = 150,
) -> Axes:
    """Heatmap of the mean program score per cell group.

    Parameters
    ----------
    adata
        Annotated data scored by :func:`genept.tl.score_programs`.
    groupby
        Column of ``adata.obs`` with the groups (e.g. cell types).
    key
        The programs' key (scores read from ``adata.obsm[f"{key}_scores"]``).
    programs
        Programs to show, in order; default all.
    standard_scale
        Show each program's group means as z-scores across groups (colour = where a program is
        highest), else the raw mean scores. The numbers in the cells are always the raw means.
    path
        Save the figure here (PNG unless the suffix says otherwise), written atomically.
    ax
        Draw into this Axes.
    dpi
        Resolution of the saved file.

    Returns
    -------
    The Axes drawn into.

    Raises
    ------
    KeyError
        No scores (run :func:`genept.tl.score_programs` first), or ``groupby`` / a program not found.

    Examples
    --------
    >>> import anndata as ad, numpy as np, pandas as pd, genept
    >>> adata = ad.AnnData(np.ones((4, 2), dtype=np.float32), obs=pd.DataFrame({"cell_type": list("aabb")}, index=list("wxyz")))
    >>> adata.obsm["genept_programs_scores"] = pd.DataFrame({"P0": [1.0, 0.8, 0.0, 0.1], "P1": [0.0, 0.1, 0.9, 1.0]},
    ...                                                     index=adata.obs_names)
    >>> ax = genept.pl.program_heatmap(adata, "cell_type")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['P0', 'P1']
    """
    scores = adata.obsm.get(f"{key}_scores")
    if scores is None:
        raise KeyError(f"adata.obsm[{key + '_scores'!r}] not found; run genept.tl.score_programs(adata, key={key!r}) first")
    if groupby not in adata.obs.columns:
        raise KeyError(f"{groupby!r} is not a column of adata.obs (columns: {list(adata.obs.columns)[:10]})")
    scores = pd.DataFrame(scores, index=adata.obs_names)
    if programs is not None:
        missing = [p for p in programs if p not in scores.columns]
        if missing:
            raise KeyError(f"programs {missing} have no score; known: {list(scores.columns)}")
        scores = scores[list(programs)]
    groups = adata.obs[groupby].astype("category")
    means = scores.groupby(groups.to_numpy(), observed=True).mean().T  # programs x groups
    shown = means.to_numpy(dtype=float)
    if standard_scale:
        sd = shown.std(axis=1, keepdims=True)
        shown = np.divide(shown - shown.mean(axis=1, keepdims=True), sd, out=np.zeros_like(shown), where=sd > 0)
    labels = list(means.index)
    summary = adata.uns.get(key, {}).get("summary") if isinstance(adata.uns.get(key), Mapping) else None
    if isinstance(summary, pd.DataFrame):
        for i, p in enumerate(labels):
            if p in summary.index:
                text = summary.loc[p, "terms"] if "terms" in summary.columns else ""
                if not text and "top_term" in summary.columns:
                    text = summary.loc[p, "top_term"]
                text = ", ".join(str(text).split(", ")[:3])
                labels[i] = f"{p} ({int(summary.loc[p, 'n_genes'])})" + (f" {text}" if text else "")

    n_rows, n_cols = shown.shape
    own_figure = ax is None
    if own_figure:
        size = (1.2 + 0.6 * n_cols + 0.07 * max(len(s) for s in labels), 1.2 + 0.35 * n_rows)
        if path is not None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=size)
        else:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=size)
        ax = fig.add_subplot()
    vmax = float(np.nanmax(np.abs(shown))) if shown.size else 1.0
    im = ax.imshow(shown, aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
    ax.set_xticks(range(n_cols), [str(c) for c in means.columns], rotation=60, ha="right")
    ax.set_yticks(range(n_rows), labels)
    if n_rows * n_cols <= 400:
        for i in range(n_rows):
            for j in range(n_cols):
                dark = abs(shown[i, j]) > 0.6 * vmax
                ax.text(j, i, f"{means.iat[i, j]:.2f}", ha="center", va="center", fontsize=6, color="white" if dark else "black")
    ax.set_xlabel(groupby)
    ax.figure.colorbar(im, ax=ax, label="z-score across groups" if standard_scale else "mean score", shrink=0.8)
    if path is not None:
        path = Path(path)
        fmt = path.suffix.lstrip(".") or "png"
        ax.figure.tight_layout()
        with atomic_path(path) as tmp:
            ax.figure.savefig(tmp, dpi=dpi, format=fmt, bbox_inches="tight")
    return ax


__all__ = ["program_heatmap"]
