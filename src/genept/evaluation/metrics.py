"""Metric functions used by the evaluation tasks: pure, typed, vectorised.

Everything scikit-learn already computes (accuracy, F1, ARI, AMI, silhouette, single ROC-AUC) is
called from scikit-learn; this module holds only the pieces no library provides in the shape the
tasks need, plus the summaries (mean +- sd, median and IQR) every report uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def mean_sd(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Mean and sample standard deviation (``ddof=1``; 0 for a single value), NaNs ignored.

    Parameters
    ----------
    values
        Numbers; NaN and infinite values are left out.

    Returns
    -------
    dict
        ``{"mean", "sd", "n"}``; NaN mean and sd with ``n == 0`` when nothing is left.

    Examples
    --------
    >>> mean_sd([1.0, 2.0, 3.0])
    {'mean': 2.0, 'sd': 1.0, 'n': 3}
    >>> mean_sd([0.7, float("nan")])
    {'mean': 0.7, 'sd': 0.0, 'n': 1}
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": float("nan"), "sd": float("nan"), "n": 0}
    sd = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    return {"mean": float(np.mean(v)), "sd": sd, "n": int(v.size)}


def median_iqr(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Median, first and third quartile (linear interpolation) and count, NaNs ignored.

    Parameters
    ----------
    values
        Numbers; NaN and infinite values are left out.

    Returns
    -------
    dict
        ``{"median", "q1", "q3", "n"}`` (NaN values with ``n == 0`` when nothing is left).

    Examples
    --------
    >>> median_iqr([1, 2, 3, 4, 5])
    {'median': 3.0, 'q1': 2.0, 'q3': 4.0, 'n': 5}
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"median": float("nan"), "q1": float("nan"), "q3": float("nan"), "n": 0}
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3), "n": int(v.size)}


def roc_auc_columns(y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC-AUC of every column at once (Mann-Whitney U on tied-average ranks).

    Equal to ``sklearn.metrics.roc_auc_score(y_true[:, j], scores[:, j])`` for each column ``j``,
    but one vectorised pass instead of a Python loop over thousands of GO terms.

    Parameters
    ----------
    y_true
        ``(n_samples, n_columns)`` binary indicators (bool or 0/1). A 1-d array is one column.
    scores
        Same shape; higher means more likely positive.

    Returns
    -------
    numpy.ndarray
        ``(n_columns,)`` float64; NaN for a column without both classes.

    Examples
    --------
    >>> roc_auc_columns(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    array([0.75])
    """
    from scipy.stats import rankdata

    y = np.asarray(y_true)
    s = np.asarray(scores, dtype=np.float64)
    if y.ndim == 1:
        y, s = y[:, None], s.reshape(-1, 1)
    if y.shape != s.shape:
        raise ValueError(f"y_true {y.shape} and scores {s.shape} must have the same shape")
    y = y.astype(bool)
    ranks = rankdata(s, axis=0)  # ties get the average rank, as in the U statistic
    n_pos = y.sum(axis=0).astype(np.float64)
    n_neg = y.shape[0] - n_pos
    rank_sum = np.einsum("ij,ij->j", ranks, y.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    auc[(n_pos == 0) | (n_neg == 0)] = np.nan
    return auc


def same_batch_fraction(neighbors: np.ndarray, batch: Sequence | np.ndarray) -> float:
    """Share of kNN neighbours that come from the cell's own batch, averaged over cells.

    Parameters
    ----------
    neighbors
        ``(n_cells, k)`` integer indices of each cell's neighbours (the cell itself excluded).
    batch
        ``(n_cells,)`` batch of every cell.

    Returns
    -------
    float
        In [0, 1]; compare with :func:`expected_same_batch_fraction` (well mixed batches come
        close to it, separated batches close to 1).

    Examples
    --------
    >>> same_batch_fraction(np.array([[1, 2], [0, 2], [0, 1]]), ["a", "a", "b"])
    0.3333333333333333
    """
    codes = _codes(batch)
    nb = np.asarray(neighbors)
    if nb.ndim != 2 or nb.shape[0] != codes.size:
        raise ValueError(f"neighbors must be (n_cells, k) with n_cells={codes.size}, got {nb.shape}")
    return float(np.mean(codes[nb] == codes[:, None]))


def expected_same_batch_fraction(batch: Sequence | np.ndarray) -> float:
    """Same-batch share expected if neighbours were drawn at random from the other cells.

    ``sum_b n_b (n_b - 1) / (N (N - 1))``: a cell of batch ``b`` picks another cell uniformly,
    which shares its batch with probability ``(n_b - 1) / (N - 1)``; averaging over cells weights
    batch ``b`` by ``n_b / N``.

    Parameters
    ----------
    batch
        ``(n_cells,)`` batch of every cell (at least two cells).

    Returns
    -------
    float

    Examples
    --------
    >>> expected_same_batch_fraction(["a", "a", "b"])
    0.3333333333333333
    """
    counts = np.bincount(_codes(batch)).astype(np.float64)
    n = counts.sum()
    if n < 2:
        raise ValueError("need at least two cells to compute a same-batch expectation")
    return float((counts * (counts - 1)).sum() / (n * (n - 1)))


def _codes(values: Sequence | np.ndarray) -> np.ndarray:
    """Integer codes of categorical values (any hashable dtype)."""
    return np.unique(np.asarray(values).astype(str), return_inverse=True)[1].ravel()


__all__ = [
    "expected_same_batch_fraction",
    "mean_sd",
    "median_iqr",
    "roc_auc_columns",
    "same_batch_fraction",
]
