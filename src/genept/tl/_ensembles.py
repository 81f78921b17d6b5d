"""Ensembles of cell embeddings (e.g. GenePT-w + GenePT-s, or GenePT + PCA of expression)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from genept.encoders.base import l2_normalize
from genept.tl._store import store

if TYPE_CHECKING:
    from anndata import AnnData

__all__ = ["combine_embeddings"]


def combine_embeddings(
    adata: AnnData,
    keys: Sequence[str],
    *,
    method: Literal["concat", "mean"] = "concat",
    weights: Sequence[float] | None = None,
    n_comps: int | None = None,
    key_added: str = "X_genept_ensemble",
    seed: int = 0,
    copy: bool = False,
) -> AnnData | None:
    """Combine several cell embeddings of ``adata.obsm`` into one.

    Each embedding is first L2-normalised row by row, so that none dominates by scale, then

    ``"concat"``
        blocks are scaled by ``sqrt(w_i)`` and concatenated. With weights summing to 1 the rows
        stay unit-length and the cosine between two cells is the weighted mean of their cosines
        in each embedding. Optionally each block is first reduced to ``n_comps`` principal
        components (fit on these cells), which keeps the ensemble small.
    ``"mean"``
        the weighted average, L2-normalised. Only for embeddings of one space (same dimension,
        e.g. GenePT-w and GenePT-s from the same encoder: both live in the encoder's text space);
        coordinates of different spaces (or of PCAs fit separately) do not correspond, so
        averaging them is refused.

    Cells that are all-zero in one embedding (no expression on embedded genes) contribute a zero
    block there; a cell all-zero in every embedding stays all-zero.

    Parameters
    ----------
    adata
        Annotated data with the embeddings in ``obsm``.
    keys
        ``obsm`` keys to combine (at least two, distinct).
    method
        ``"concat"`` (default) or ``"mean"``.
    weights
        Non-negative weight per key, normalised to sum 1; default equal.
    n_comps
        ``concat`` only: reduce each block to this many principal components first.
    key_added
        ``obsm`` key of the result (float32); ``uns[key_added]["params"]`` records the keys,
        method, normalised weights and ``n_comps`` (``-1``: none).
    seed
        Random seed of the PCA solver.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy when ``copy=True``.

    Examples
    --------
    >>> import anndata as ad, numpy as np, genept
    >>> rng = np.random.default_rng(0)
    >>> adata = ad.AnnData(np.ones((5, 2), dtype=np.float32),
    ...                    obsm={"X_genept_w": rng.normal(size=(5, 4)), "X_pca": rng.normal(size=(5, 3))})
    >>> genept.tl.combine_embeddings(adata, ["X_genept_w", "X_pca"], weights=[0.5, 0.5])
    >>> adata.obsm["X_genept_ensemble"].shape
    (5, 7)
    >>> adata.uns["X_genept_ensemble"]["params"]["weights"]
    [0.5, 0.5]
    """
    adata = adata.copy() if copy else adata
    keys = [str(k) for k in keys]
    if len(keys) < 2:
        raise ValueError(f"give at least two obsm keys to combine, got {keys}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"keys must be distinct, got {keys}")
    missing = [k for k in keys if k not in adata.obsm]
    if missing:
        raise KeyError(f"not in adata.obsm: {missing} (it has {list(adata.obsm)})")
    if method not in ("concat", "mean"):
        raise ValueError(f"method must be 'concat' or 'mean', not {method!r}")
    if weights is None:
        w = np.full(len(keys), 1.0 / len(keys))
    else:
        w = np.asarray(list(weights), dtype=np.float64)
        if w.shape != (len(keys),):
            raise ValueError(f"give one weight per key: {len(keys)} keys, {w.size} weights")
        if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"weights must be finite, non-negative and not all zero, got {w.tolist()}")
        w = w / w.sum()

    blocks = []
    for k in keys:
        X = np.asarray(adata.obsm[k], dtype=np.float32)
        if X.ndim != 2:
            raise ValueError(f"adata.obsm[{k!r}] must be 2-d, got shape {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError(f"adata.obsm[{k!r}] contains NaN or inf; fix or drop those cells first")
        blocks.append(l2_normalize(X))

    if method == "mean":
        if n_comps is not None:
            raise ValueError(
                "n_comps is for method='concat': principal components of different embeddings do not "
                "correspond, so they cannot be averaged"
            )
        dims = {b.shape[1] for b in blocks}
        if len(dims) != 1:
            raise ValueError(
                f"method='mean' needs embeddings of one space (same dimension), got dimensions "
                f"{[b.shape[1] for b in blocks]}; use method='concat'"
            )
        out = np.zeros_like(blocks[0])
        for wi, b in zip(w, blocks, strict=True):
            out += np.float32(wi) * b
        out = l2_normalize(out)
    else:
        if n_comps is not None:
            blocks = [_pca(b, n_comps, seed, k) for b, k in zip(blocks, keys, strict=True)]
        out = np.hstack([np.float32(np.sqrt(wi)) * b for wi, b in zip(w, blocks, strict=True)])

    adata.obsm[key_added] = out.astype(np.float32, copy=False)
    params = {
        "keys": keys,
        "method": method,
        "weights": [float(x) for x in w],
        "n_comps": -1 if n_comps is None else int(n_comps),
        "seed": int(seed),
    }
    store(adata, key_added, params)
    return adata if copy else None


def _pca(X: np.ndarray, n_comps: int, seed: int, key: str) -> np.ndarray:
    """Principal components of one L2-normalised block, re-normalised to unit rows."""
    from sklearn.decomposition import PCA

    limit = min(X.shape) - 1
    if not 1 <= n_comps <= limit:
        raise ValueError(f"n_comps must be between 1 and {limit} for adata.obsm[{key!r}] of shape {X.shape}, got {n_comps}")
    Z = PCA(n_components=n_comps, random_state=seed).fit_transform(X).astype(np.float32)
    return l2_normalize(Z)
