"""Calibrating zero-shot label scores on arrays: put evidence on one scale, then let the cells vote.

Text scores are noisy per cell but right on average for many cells: a description can sit closer
to one cell type's region of the embedding than to another's for reasons of wording (the
"macrophage" text attracting every non-endocrine cell of a pancreas). Two steps use the cells
themselves to correct that, with no label:

:func:`standardize`
    Divide a whole score matrix by its standard deviation (after removing its mean), so that
    text cosines and expression z-scores can be added with comparable weight. One scale for the
    whole matrix, not one per label: per-label scaling changes which label wins in a cell
    according to how common each type is in the dataset.
:func:`refine_prototypes`
    One nearest-prototype step in the cell embedding: each label's prototype is the mean
    (centred, unit-length) embedding of the cells that chose it most confidently (margin above
    the label's median), and every cell is re-scored by its cosine with each prototype. The
    text decides which group of cells a label means; the cells decide where the group's
    boundary lies. Labels chosen by no cell get no prototype (their score is NaN).
:func:`smooth_scores`
    Each cell's scores averaged with those of its nearest neighbours in the cell embedding
    (cosine, after centring): a cell whose own evidence is weak or noisy (few marker reads, a
    description that fits several types) takes the evidence of cells like it.
"""

from __future__ import annotations

import warnings

import numpy as np

from genept.encoders.base import l2_normalize


def standardize(scores: np.ndarray) -> np.ndarray:
    """``(S - mean) / sd`` over all finite entries of ``S`` (float32; NaN stays NaN).

    Examples
    --------
    >>> import numpy as np
    >>> standardize(np.array([[1.0, 3.0], [np.nan, 5.0]])).round(2).tolist()
    [[-1.22, 0.0], [nan, 1.22]]
    """
    S = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(S)
    if not finite.any():
        return S.astype(np.float32)
    sd = S[finite].std()
    return ((S - S[finite].mean()) / (sd if sd > 0 else 1.0)).astype(np.float32)


def refine_prototypes(cells: np.ndarray, scores: np.ndarray, *, n_iter: int = 1, center: bool = True) -> np.ndarray:
    """Re-score cells by their cosine with label prototypes built from the confidently labelled cells.

    Parameters
    ----------
    cells
        ``(n_cells, dim)`` cell embeddings. All-zero rows (and rows whose scores are all NaN)
        keep NaN scores and seed no prototype.
    scores
        ``(n_cells, n_labels)`` first-pass scores (any scale): they choose each cell's label
        and its margin.
    n_iter
        Rounds of (assign, build prototypes, re-score); ``0`` returns ``scores`` unchanged.
    center
        Subtract the mean cell before the cosine (as :func:`~genept.text.scores.text_scores`).

    Returns
    -------
    numpy.ndarray
        ``(n_cells, n_labels)`` float32 cosines with the prototypes; NaN for labels no cell chose.

    Examples
    --------
    Two groups of cells; the first-pass scores put two cells of group ``b`` on label ``a``.
    The prototypes, built from the confident cells, put them back:

    >>> import numpy as np
    >>> cells = np.array([[1, 0.1], [1, 0.0], [1, -0.1], [0, 1], [0.1, 1], [-0.1, 1], [0.2, 1]], dtype=np.float32)
    >>> S = np.array([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.1, 0.9], [0.5, 0.4], [0.6, 0.4]])
    >>> S.argmax(axis=1).tolist(), refine_prototypes(cells, S).argmax(axis=1).tolist()
    ([0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 1, 1])
    """
    C = np.asarray(cells, dtype=np.float32)
    S = np.asarray(scores, dtype=np.float32)
    if C.ndim != 2 or S.ndim != 2 or C.shape[0] != S.shape[0]:
        raise ValueError(f"cells {C.shape} and scores {S.shape} must be 2-d with one row per cell")
    if n_iter < 0:
        raise ValueError(f"n_iter must be >= 0, got {n_iter}")
    empty = ~np.any(C != 0, axis=1)
    if center and (~empty).any():
        C = C - C[~empty].mean(axis=0, dtype=np.float64).astype(np.float32)
    U = l2_normalize(C)
    for _ in range(n_iter):
        filled = np.where(np.isnan(S), -np.inf, S)
        usable = np.isfinite(filled).any(axis=1) & ~empty
        best = np.argmax(filled, axis=1)
        top2 = -np.sort(-filled, axis=1)[:, :2] if S.shape[1] > 1 else np.c_[filled, np.full(len(S), -np.inf)]
        with np.errstate(invalid="ignore"):
            margin = np.where(np.isfinite(top2[:, 1]), top2[:, 0] - top2[:, 1], np.inf)
        P = np.full((S.shape[1], U.shape[1]), np.nan, dtype=np.float32)
        for k in range(S.shape[1]):
            members = np.flatnonzero(usable & (best == k))
            if len(members) == 0:
                continue
            m = margin[members]
            seeds = members[m >= np.median(m)] if np.isfinite(m).any() else members
            P[k] = U[seeds].mean(axis=0)
        has = ~np.isnan(P[:, 0])
        new = np.full(S.shape, np.nan, dtype=np.float32)
        new[:, has] = U @ l2_normalize(P[has]).T
        new[empty | ~usable] = np.nan
        S = new
    return S.astype(np.float32, copy=False)


#: Above this many cells the neighbours are approximate (pynndescent) instead of exact blocks.
EXACT_NEIGHBORS_MAX = 50_000


def cell_neighbors(cells: np.ndarray, n_neighbors: int, *, center: bool = True, block: int = 2048) -> np.ndarray:
    """Each cell's ``n_neighbors`` nearest cells (cosine, itself included first): ``(n_cells, k)`` int64.

    Exact (in blocks of ``block`` cells) up to :data:`EXACT_NEIGHBORS_MAX` cells, approximate
    (``pynndescent``, seeded) above. All-zero rows are nobody's neighbour and have only themselves.

    Examples
    --------
    >>> import numpy as np
    >>> cells = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    >>> cell_neighbors(cells, 2, center=False).tolist()
    [[0, 1], [1, 0], [2, 3], [3, 2]]
    """
    C = np.asarray(cells, dtype=np.float32)
    n = C.shape[0]
    empty = ~np.any(C != 0, axis=1)
    if center and (~empty).any():
        C = C - C[~empty].mean(axis=0, dtype=np.float64).astype(np.float32)
    U = l2_normalize(C)
    U[empty] = 0
    k = max(1, min(int(n_neighbors), int((~empty).sum()) or 1))
    out = np.empty((n, k), dtype=np.int64)
    if n > EXACT_NEIGHBORS_MAX:
        from pynndescent import NNDescent

        live = np.flatnonzero(~empty)
        index = NNDescent(U[live], n_neighbors=k, metric="cosine", random_state=0)
        idx, _ = index.neighbor_graph
        out[live] = live[idx]
    elif len(live := np.flatnonzero(~empty)):
        from genept.cells.neighbors import knn

        # On unit rows the Euclidean order is the cosine order; each cell itself first, then the k - 1 nearest others.
        _, idx = knn(U[live], U[live], k, exclude_self=True, exact=True, chunk_size=block, desc=None)
        out[live] = np.c_[live, live[idx]]
    out[empty] = np.flatnonzero(empty)[:, None]
    return out


def smooth_scores(cells: np.ndarray, scores: np.ndarray, *, n_neighbors: int = 15, center: bool = True) -> np.ndarray:
    """Each cell's scores averaged over itself and its nearest cells in the embedding (float32).

    Parameters
    ----------
    cells
        ``(n_cells, dim)`` cell embeddings; neighbours by cosine (:func:`cell_neighbors`).
    scores
        ``(n_cells, n_labels)`` scores; NaN entries are left out of the mean.
    n_neighbors
        Cells averaged, the cell itself included; ``1`` returns ``scores`` as they are.
    center
        Subtract the mean cell before the cosine.

    Examples
    --------
    The third cell's own scores favour ``a``, but it sits among ``b`` cells:

    >>> import numpy as np
    >>> cells = np.array([[1, 0], [0, 1], [0.1, 1], [-0.1, 1]], dtype=np.float32)
    >>> S = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.4], [0.0, 1.0]])
    >>> smooth_scores(cells, S, n_neighbors=3, center=False).argmax(axis=1).tolist()
    [0, 1, 1, 1]
    """
    S = np.asarray(scores, dtype=np.float32)
    if S.ndim != 2 or S.shape[0] != np.asarray(cells).shape[0]:
        raise ValueError(f"cells {np.asarray(cells).shape} and scores {S.shape} must have one row per cell")
    if n_neighbors < 1:
        raise ValueError(f"n_neighbors must be at least 1, got {n_neighbors}")
    if n_neighbors == 1:
        return S.copy()
    idx = cell_neighbors(cells, n_neighbors, center=center)
    out = np.empty_like(S)
    for start in range(0, len(S), 4096):  # bounded memory: (block, k, n_labels)
        block = S[idx[start : start + 4096]]
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices stay NaN
            out[start : start + 4096] = np.nanmean(block, axis=1)
    return out


__all__ = ["EXACT_NEIGHBORS_MAX", "cell_neighbors", "refine_prototypes", "smooth_scores", "standardize"]
