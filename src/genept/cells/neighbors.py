"""Euclidean nearest neighbours on arrays: exact for small problems, an inverted-file search for large ones.

Used by reference mapping (:mod:`genept.cells.mapping`: query cells against reference cells, and
leave-one-out on the reference) and by zero-shot calibration
(:func:`genept.text.calibration.cell_neighbors`: cells against cells, cosine on unit rows).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def knn(
    query: np.ndarray,
    reference: np.ndarray,
    k: int,
    *,
    exclude_self: bool = False,
    exclude: np.ndarray | None = None,
    exact: bool = False,
    chunk_size: int | None = None,
    desc: str | None = "nearest reference cells",
) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean ``k`` nearest neighbours (float32).

    With ``exclude_self`` (query is the reference) each cell's own row is dropped and ``k - 1``
    neighbours are returned. ``exclude`` gives, per query row, one reference row it may not
    take (leave-one-out on a subset of the reference).

    Up to :data:`BRUTE_FORCE_PAIRS` query x reference pairs every pair is compared (blocked
    matrix products): exact. Beyond, the reference is grouped into k-means clusters and each
    query cell is compared with the cells of its nearest clusters only (an inverted file, as
    vector search libraries do; :func:`_knn_ivf`): 4 times fewer products, and neighbours that
    can differ from the exact ones (measured in ``benchmarks/results/reference_mapping.md``).
    ``exact=True`` compares every pair whatever the size.

    Examples
    --------
    >>> d, i = knn(np.array([[0.0], [10.0]]), np.array([[1.0], [9.0], [0.5]]), 2)
    >>> i.tolist(), d.round(2).tolist()
    ([[2, 0], [1, 0]], [[0.5, 1.0], [1.0, 9.0]])
    """
    R = np.ascontiguousarray(reference, dtype=np.float32)
    Q = np.ascontiguousarray(query, dtype=np.float32)
    k = int(min(k, R.shape[0]))
    if exclude_self:
        exclude = np.arange(Q.shape[0])
    if exclude is not None:
        exclude = np.asarray(exclude, dtype=np.int64)
    if not exact and float(Q.shape[0]) * R.shape[0] > BRUTE_FORCE_PAIRS and R.shape[0] > 100 * k:
        dists, index = _knn_ivf(Q, R, k, exclude, desc)
    else:
        dists, index = _knn_brute(Q, R, k, exclude, chunk_size, desc if float(Q.shape[0]) * R.shape[0] > BRUTE_FORCE_PAIRS / 4 else None)
    if exclude_self:
        return dists[:, :-1], index[:, :-1]
    return dists, index


BRUTE_FORCE_PAIRS = 5e8
"""Above this many query x reference pairs (e.g. 22,000 x 22,000 cells) :func:`knn` searches clusters."""

PROBE_SHARE = 0.25
"""Share of the reference's cells (by nearest clusters) each query cell is compared with in the cluster search."""


def _sorted_rows(d2: np.ndarray, part: np.ndarray, q2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The kept columns ``part`` of squared partial distances ``d2`` (without ``|q|^2``), sorted: distances, indices."""
    dd = np.take_along_axis(d2, part, axis=1) + q2[:, None]
    order = np.argsort(dd, axis=1, kind="stable")
    return np.sqrt(np.maximum(np.take_along_axis(dd, order, axis=1), 0.0)), np.take_along_axis(part, order, axis=1)


def _knn_brute(Q: np.ndarray, R: np.ndarray, k: int, exclude: np.ndarray | None, chunk_size: int | None, desc: str | None = None):
    from genept._utils import progress

    r2 = np.einsum("ij,ij->i", R, R)
    dists = np.empty((Q.shape[0], k), dtype=np.float32)
    index = np.empty((Q.shape[0], k), dtype=np.int64)
    chunk_size = chunk_size or int(np.clip(16_000_000 // max(R.shape[0], 1), 16, 4_096))  # ~64 MB of distances
    for start in progress(range(0, Q.shape[0], chunk_size), desc=desc or "", disable=desc is None, unit="block"):
        q = Q[start : start + chunk_size]
        d2 = q @ R.T
        d2 *= -2.0
        d2 += r2  # |q|^2 does not change a row's order: added to the k kept only
        if exclude is not None:
            d2[np.arange(len(q)), exclude[start : start + len(q)]] = np.inf
        part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        dists[start : start + len(q)], index[start : start + len(q)] = _sorted_rows(d2, part, np.einsum("ij,ij->i", q, q))
    return dists, index


def _knn_ivf(Q: np.ndarray, R: np.ndarray, k: int, exclude: np.ndarray | None, desc: str | None = None):
    """Inverted-file kNN: each query cell is compared with the reference cells of its nearest clusters only.

    The reference is cut into about ``2 sqrt(n)`` k-means clusters (a few Lloyd steps on a
    sample). Each query cell is compared with the cells of the clusters nearest to its own
    nearest centre, up to :data:`PROBE_SHARE` of the reference, and keeps the ``k`` nearest among
    them. Neighbours it misses lie in clusters centred away from it; how often the vote changes
    is measured in ``benchmarks/results/reference_mapping.md``.
    """
    rng = np.random.default_rng(0)
    n_ref, n_q = R.shape[0], Q.shape[0]
    r2 = np.einsum("ij,ij->i", R, R)
    q2 = np.einsum("ij,ij->i", Q, Q)

    def sq_dist(A, a2, B, b2):
        d2 = A @ B.T
        d2 *= -2.0
        d2 += a2[:, None]
        d2 += b2[None, :]
        return d2

    n_clusters = int(np.clip(2 * np.sqrt(n_ref), 16, 4_096))
    fit = R[rng.choice(n_ref, min(n_ref, 50 * n_clusters), replace=False)]
    f2 = np.einsum("ij,ij->i", fit, fit)
    centres = fit[rng.choice(len(fit), n_clusters, replace=False)].copy()
    for _ in range(6):
        near = sq_dist(fit, f2, centres, np.einsum("ij,ij->i", centres, centres)).argmin(axis=1)
        counts = np.bincount(near, minlength=n_clusters)
        sums = sp.csr_matrix((np.ones(len(near), dtype=np.float32), (near, np.arange(len(near)))), shape=(n_clusters, len(fit))) @ fit
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    c2 = np.einsum("ij,ij->i", centres, centres)
    nearest = lambda A, a2: np.concatenate([sq_dist(A[s : s + 20_000], a2[s : s + 20_000], centres, c2).argmin(axis=1)
                                            for s in range(0, A.shape[0], 20_000)])  # fmt: skip
    label = nearest(R, r2)
    order = np.argsort(label, kind="stable")
    bounds = np.searchsorted(label[order], np.arange(n_clusters + 1))
    sizes = np.diff(bounds)
    # Query cells are grouped by their nearest centre; a group visits the clusters nearest to that
    # centre until they hold PROBE_SHARE of the reference (one product and one partition per group).
    q_label = nearest(Q, q2)
    between = sq_dist(centres, c2, centres, c2)
    need = max(PROBE_SHARE * n_ref, 4 * k)
    q_order = np.argsort(q_label, kind="stable")
    q_bounds = np.searchsorted(q_label[q_order], np.arange(n_clusters + 1))
    where = np.full(n_ref, -1, dtype=np.int64)
    dists = np.empty((n_q, k), dtype=np.float32)
    index = np.empty((n_q, k), dtype=np.int64)
    from genept._utils import progress

    for c in progress(np.flatnonzero(np.diff(q_bounds)), desc=desc or "", disable=desc is None, unit="cluster"):
        users = q_order[q_bounds[c] : q_bounds[c + 1]]
        ranked = np.argsort(between[c], kind="stable")
        probe = ranked[: int(np.searchsorted(np.cumsum(sizes[ranked]), need)) + 1]
        cand = np.concatenate([order[bounds[p] : bounds[p + 1]] for p in probe])
        d2 = sq_dist(Q[users], np.zeros(len(users), dtype=np.float32), R[cand], r2[cand])
        if exclude is not None:
            where[cand] = np.arange(len(cand))
            col = where[exclude[users]]
            hit = np.flatnonzero(col >= 0)
            d2[hit, col[hit]] = np.inf
            where[cand] = -1
        kk = min(k, len(cand))
        part = np.argpartition(d2, kk - 1, axis=1)[:, :kk]
        d_u, i_u = _sorted_rows(d2, part, q2[users])
        dists[users], index[users] = d_u, cand[i_u]
    return dists, index


__all__ = ["BRUTE_FORCE_PAIRS", "PROBE_SHARE", "knn"]
