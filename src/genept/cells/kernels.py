"""GenePT-w kernel: weighting transform, sparse-dense product and row normalisation in one pass.

``scipy``'s ``csr @ dense`` runs on one thread, gathers one embedding row (6 KB at 1,536-d) per
nonzero from wherever it lies in memory, and materialises the product before a second pass
normalises it. This numba kernel instead works on blocks of ~1,000 cells in parallel and, within
a block, goes **gene by gene** (a counting sort turns the block into columns): each gene's
embedding row is read once per block, in order (streamed, not gathered), and added into the
block's accumulator, a ``(cells, 128)`` tile of the output that stays in the core's L2 cache while
all genes stream past; the embedding dimension is covered tile by tile. The weighting transform
is applied to each nonzero on the fly and rows are normalised while the block is still in cache,
so the only allocation is the output itself. Results equal the scipy reference to float32
rounding (``tests/test_cells_kernels.py``); speed is in ``benchmarks/perf_genept_w.py``.
"""

from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp

_TRANSFORM_CODE = {"counts": 0, "log1p": 1, "log1p_cp10k": 2}
_NORMALIZE_CODE = {"none": 0, "l2": 1, "n_genes": 2}

# cells per block x embedding columns per tile: the float32 accumulator (512 KB) fits L2 (1 MB
# per core here); measured best of 512-2048 x 64-256 on 20k genes x 1,536-d
_BLOCK_CELLS = 1024
_TILE = 128


def _build_kernel():
    from numba import njit, prange

    @njit(parallel=True, fastmath=True, cache=True)
    def kernel(indptr, indices, data, E, out, transform, normalize, n_genes, block, tile):  # pragma: no cover - compiled
        n = indptr.shape[0] - 1
        G, d = E.shape
        n_blocks = (n + block - 1) // block
        for bi in prange(n_blocks):
            r0 = bi * block
            r1 = min(n, r0 + block)
            m = r1 - r0
            a0, a1 = indptr[r0], indptr[r1]
            # the block as columns (counting sort by gene), weights transformed on the way
            colptr = np.zeros(G + 1, np.int64)
            for p in range(a0, a1):
                colptr[indices[p] + 1] += 1
            for g in range(G):
                colptr[g + 1] += colptr[g]
            pos = colptr[:G].copy()
            rows = np.empty(a1 - a0, np.int32)
            vals = np.empty(a1 - a0, np.float32)
            for r in range(r0, r1):
                scale = 1.0
                if transform == 2:
                    total = 0.0
                    for p in range(indptr[r], indptr[r + 1]):
                        total += data[p]
                    scale = 1e4 / total if total > 0 else 0.0
                for p in range(indptr[r], indptr[r + 1]):
                    w = data[p]
                    if transform == 1:
                        w = np.log1p(w)
                    elif transform == 2:
                        w = np.log1p(w * scale)
                    g = indices[p]
                    q = pos[g]
                    rows[q] = r - r0
                    vals[q] = w
                    pos[g] = q + 1
            acc = np.empty((m, tile), np.float32)
            ss = np.zeros(m, np.float64)
            for k0 in range(0, d, tile):
                tt = min(tile, d - k0)
                acc[:, :] = 0.0
                for g in range(G):
                    c0, c1 = colptr[g], colptr[g + 1]
                    if c0 == c1:
                        continue
                    e = E[g, k0 : k0 + tt]
                    for q in range(c0, c1):
                        w = vals[q]
                        if w == 0:
                            continue
                        a = acc[rows[q]]
                        for k in range(tt):
                            a[k] += w * e[k]
                for i in range(m):
                    s = 0.0
                    o = out[r0 + i]
                    for k in range(tt):
                        v = acc[i, k]
                        o[k0 + k] = v
                        s += v * v
                    ss[i] += s
            if normalize == 1:
                for i in range(m):
                    if ss[i] > 0:
                        inv = np.float32(1.0 / np.sqrt(ss[i]))
                        o = out[r0 + i]
                        for k in range(d):
                            o[k] *= inv
            elif normalize == 2:
                inv = np.float32(1.0 / max(n_genes, 1))
                for i in range(m):
                    o = out[r0 + i]
                    for k in range(d):
                        o[k] *= inv

    return kernel


_KERNEL = None


def _block_cells(n: int) -> int:
    """Equal blocks of at most ``_BLOCK_CELLS`` cells, a multiple of the thread count in number."""
    try:
        from numba import get_num_threads

        threads = max(int(get_num_threads()), 1)
    except Exception:  # pragma: no cover - numba missing is reported when the kernel is built
        threads = os.cpu_count() or 1
    n_blocks = threads * max(1, -(-n // (threads * _BLOCK_CELLS)))
    return max(1, -(-n // n_blocks))


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

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> X = sp.random(50, 30, density=0.2, format="csr", dtype=np.float32, random_state=0)
    >>> E = np.random.default_rng(0).standard_normal((30, 8)).astype(np.float32)
    >>> Y = fused_weighted_embedding(X, E)
    >>> ref = X @ E
    >>> bool(np.allclose(Y, ref / np.linalg.norm(ref, axis=1, keepdims=True), atol=1e-6))
    True
    """
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = _build_kernel()
    X = sp.csr_matrix(X)
    if X.dtype != np.float32:
        X = X.astype(np.float32)
    E = np.ascontiguousarray(E, dtype=np.float32)
    out = np.empty((X.shape[0], E.shape[1]), dtype=np.float32)
    if X.shape[0] == 0:
        return out
    _KERNEL(
        X.indptr,
        X.indices,
        X.data,
        E,
        out,
        _TRANSFORM_CODE[transform],
        _NORMALIZE_CODE[normalize],
        X.shape[1],
        _block_cells(X.shape[0]),
        _TILE,
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

