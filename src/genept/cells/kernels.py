"""Fused GenePT-w kernel: weighting transform, sparse-dense product and row normalisation in one pass.

``scipy``'s ``csr @ dense`` runs on one thread and materialises the product before a second pass
normalises it. This numba kernel works row-parallel over all cores, applies the transform to each
nonzero on the fly, accumulates into the output row and normalises it while it is still in cache,
so the only allocation is the output itself. The cost is dominated by gathering one embedding row
per nonzero (see ``benchmarks/perf_genept_w.py``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

_TRANSFORM_CODE = {"counts": 0, "log1p": 1, "log1p_cp10k": 2}
_NORMALIZE_CODE = {"none": 0, "l2": 1, "n_genes": 2}


def _build_kernel():
    from numba import njit, prange

    @njit(parallel=True, fastmath=True, cache=True)
    def kernel(indptr, indices, data, E, out, transform, normalize, n_genes):  # pragma: no cover - compiled
        n = indptr.shape[0] - 1
        d = E.shape[1]
        for i in prange(n):
            acc = out[i]
            start, stop = indptr[i], indptr[i + 1]
            scale = 1.0
            if transform == 2:
                total = 0.0
                for j in range(start, stop):
                    total += data[j]
                scale = 1e4 / total if total > 0 else 0.0
            for j in range(start, stop):
                w = data[j]
                if transform == 1:
                    w = np.log1p(w)
                elif transform == 2:
                    w = np.log1p(w * scale)
                if w == 0:
                    continue
                row = E[indices[j]]
                for k in range(d):
                    acc[k] += w * row[k]
            if normalize == 1:
                s = 0.0
                for k in range(d):
                    s += acc[k] * acc[k]
                if s > 0:
                    inv = 1.0 / np.sqrt(s)
                    for k in range(d):
                        acc[k] *= inv
            elif normalize == 2:
                inv = 1.0 / max(n_genes, 1)
                for k in range(d):
                    acc[k] *= inv

    return kernel


_KERNEL = None


def fused_weighted_embedding(X: sp.csr_matrix, E: np.ndarray, transform: str = "counts", normalize: str = "l2") -> np.ndarray:
    """GenePT-w of a CSR block in one parallel pass; equal (to float32 rounding) to the scipy path.

    Parameters
    ----------
    X
        ``(n_cells, n_genes)`` CSR matrix; converted to float32 CSR if needed.
    E
        ``(n_genes, dim)`` C-contiguous float32 gene embeddings aligned with the columns of ``X``.
    transform, normalize
        As in :func:`genept.cells.weighted.weighted_embedding`.
    """
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = _build_kernel()
    X = sp.csr_matrix(X)
    if X.dtype != np.float32:
        X = X.astype(np.float32)
    E = np.ascontiguousarray(E, dtype=np.float32)
    out = np.zeros((X.shape[0], E.shape[1]), dtype=np.float32)
    _KERNEL(
        X.indptr,
        X.indices,
        X.data,
        E,
        out,
        _TRANSFORM_CODE[transform],
        _NORMALIZE_CODE[normalize],
        X.shape[1],
    )
    return out


def _build_rank_kernel():
    from numba import njit, prange

    @njit(parallel=True, cache=True)
    def kernel(indptr, indices, values, bits, counts, offsets, flat, scratch):  # pragma: no cover - compiled
        # Per row, one of two exact orderings (descending value, then ascending column):
        # - integer values (raw counts) of modest size: a counting sort, O(nnz + max value);
        # - otherwise: one int64 key per nonzero (float32 bits of the value, then the column),
        #   sorted. Float32 bits are monotonic for values >= 0.
        # ``scratch`` has one slot per nonzero: no large allocation inside the loop.
        n = indptr.shape[0] - 1
        for i in prange(n):
            start, stop = indptr[i], indptr[i + 1]
            m = 0
            vmax = 0.0
            integral = True
            for j in range(start, stop):
                v = values[j]
                if v > 0:
                    m += 1
                    if v > vmax:
                        vmax = v
                    if v != np.floor(v):
                        integral = False
            o = offsets[i]
            if integral and vmax <= 4 * m + 256:
                top = np.int64(vmax)
                hist = np.zeros(top + 2, dtype=np.int64)  # slot top - v + 1 counts value v
                for j in range(start, stop):
                    if values[j] > 0:
                        hist[top - np.int64(values[j]) + 1] += 1
                for v in range(1, top + 2):
                    hist[v] += hist[v - 1]
                for j in range(start, stop):  # columns in CSR order: ties keep column order
                    if values[j] > 0:
                        slot = top - np.int64(values[j])
                        scratch[start + hist[slot]] = indices[j]
                        hist[slot] += 1
                for j in range(counts[i]):
                    flat[o + j] = scratch[start + j]
            else:
                k = 0
                for j in range(start, stop):
                    if values[j] > 0:
                        scratch[start + k] = (np.int64(0x7FFFFFFF - bits[j]) << 32) | np.int64(indices[j])
                        k += 1
                row = scratch[start : start + m]
                row.sort()
                for j in range(counts[i]):
                    flat[o + j] = row[j] & 0xFFFFFFFF

    return kernel


_RANK_KERNEL = None


def rank_rows(X: sp.csr_matrix, top_k: int | None) -> list[np.ndarray]:
    """Column indices of each row's positive entries, largest first, ties by column order, at most ``top_k``.

    A parallel numba pass over CSR rows that orders only each row's nonzeros: a counting sort for
    integer counts, else a sort of one int64 key per entry (float32 bits of the value, then the
    column). The result equals a stable descending
    ``argsort`` of the dense row with zeros dropped (GenePT's approach, ~10x slower).
    """
    flat, offsets = rank_rows_flat(X, top_k)
    return np.split(flat, offsets[1:-1])


def rank_rows_flat(X: sp.csr_matrix, top_k: int | None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rank_rows` as one flat int64 array and row offsets (``flat[offsets[i]:offsets[i + 1]]``)."""
    global _RANK_KERNEL
    if _RANK_KERNEL is None:
        _RANK_KERNEL = _build_rank_kernel()
    X = sp.csr_matrix(X)
    if not X.has_sorted_indices:  # the counting sort breaks ties by position in the row
        X = X.sorted_indices()
    values = X.data.astype(np.float32, copy=False)
    exact = X.data.dtype == np.float32 or np.array_equal(values.astype(X.data.dtype), X.data)
    if not exact or X.shape[1] >= 2**31:
        # values float32 cannot hold exactly (e.g. float64 that differ past 7 digits): rank exactly
        ranks = _rank_rows_numpy(X, top_k)
        offsets = np.zeros(X.shape[0] + 1, dtype=np.int64)
        np.cumsum([len(r) for r in ranks], out=offsets[1:])
        return (np.concatenate(ranks) if ranks else np.zeros(0, np.int64)), offsets
    positive = np.diff(X.indptr)
    nonpositive = np.flatnonzero(X.data <= 0)  # explicit zeros are rare: count them apart
    if nonpositive.size:
        positive = positive - np.bincount(np.searchsorted(X.indptr, nonpositive, side="right") - 1, minlength=X.shape[0])
    counts = positive if top_k is None else np.minimum(positive, top_k)
    offsets = np.zeros(X.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    flat = np.empty(offsets[-1], dtype=np.int64)
    _RANK_KERNEL(X.indptr, X.indices, values, values.view(np.int32), counts, offsets, flat, np.empty(X.nnz, dtype=np.int64))
    return flat, offsets


def _rank_rows_numpy(X: sp.csr_matrix, top_k: int | None) -> list[np.ndarray]:
    out = []
    for a, b in zip(X.indptr[:-1], X.indptr[1:], strict=True):
        vals, cols = X.data[a:b], X.indices[a:b]
        keep = vals > 0
        order = np.lexsort((cols[keep], -vals[keep]))
        out.append(cols[keep][order][:top_k].astype(np.int64))
    return out


def _build_sum_kernel():
    from numba import njit, prange

    @njit(parallel=True, cache=True)
    def kernel(offsets, flat, T, H, P, out):  # pragma: no cover - compiled
        n = offsets.shape[0] - 1
        d = T.shape[1]
        for i in prange(n):
            acc = out[i]
            a, b = offsets[i], offsets[i + 1]
            if a == b:
                for k in range(d):
                    acc[k] = P[k]
            else:
                for k in range(d):
                    acc[k] = H[k]
                for j in range(a, b):
                    row = T[flat[j]]
                    for k in range(d):
                        acc[k] += row[k]
            s = 0.0
            for k in range(d):
                s += acc[k] * acc[k]
            if s > 0:
                inv = 1.0 / np.sqrt(s)
                for k in range(d):
                    acc[k] *= inv

    return kernel


_SUM_KERNEL = None


def static_sentence_sums(offsets: np.ndarray, flat: np.ndarray, T: np.ndarray, H: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Unit rows ``normalise(H + sum_g T[g])`` over each row's selected genes; ``normalise(P)`` for an empty row.

    The GenePT-s fast path for static encoders (:mod:`genept.cells.sentences`): ``T[g]`` is the
    sum of the token vectors of separator + gene ``g``, ``H`` the prefix minus one separator,
    ``P`` the prefix alone. Row-parallel numba.
    """
    global _SUM_KERNEL
    if _SUM_KERNEL is None:
        _SUM_KERNEL = _build_sum_kernel()
    out = np.empty((offsets.shape[0] - 1, T.shape[1]), dtype=np.float32)
    _SUM_KERNEL(
        np.ascontiguousarray(offsets, dtype=np.int64),
        np.ascontiguousarray(flat, dtype=np.int64),
        np.ascontiguousarray(T, dtype=np.float32),
        np.ascontiguousarray(H, dtype=np.float32),
        np.ascontiguousarray(P, dtype=np.float32),
        out,
    )
    return out
