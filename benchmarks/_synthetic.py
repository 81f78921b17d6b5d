"""Synthetic count matrices with the shape of real single-cell data, for the speed benchmarks.

Genes have skewed detection rates (a few ubiquitous, most rare) with a mean density of 6.4%
(~1,280 genes per cell at 20k genes, as in the notes' 100k x 20k reference); values are
1 + geometric counts.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def gene_rates(n_genes: int, density: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.pareto(1.2, n_genes) + 0.05
    rates = raw / raw.mean() * density
    for _ in range(20):  # clip at 0.95 and rescale until the mean is right
        rates = np.minimum(rates, 0.95)
        rates *= density / rates.mean()
    return np.minimum(rates, 0.95).astype(np.float32)


def count_block(n_cells: int, rates: np.ndarray, rng: np.random.Generator) -> sp.csr_matrix:
    """``n_cells`` rows of sparse counts (float32 CSR, int32 indices)."""
    mask = rng.random((n_cells, rates.size), dtype=np.float32) < rates
    rows, cols = np.nonzero(mask)
    data = (1 + rng.geometric(0.45, size=rows.size)).astype(np.float32)
    indptr = np.zeros(n_cells + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_cells), out=indptr[1:])
    return sp.csr_matrix((data, cols.astype(np.int32), indptr), shape=(n_cells, rates.size))


def count_matrix(n_cells: int, n_genes: int = 20_000, density: float = 0.064, seed: int = 0, block: int = 2_000) -> sp.csr_matrix:
    rates = gene_rates(n_genes, density, seed)
    rng = np.random.default_rng(seed + 1)
    return sp.vstack([count_block(min(block, n_cells - s), rates, rng) for s in range(0, n_cells, block)], format="csr")


def gene_vectors(n_genes: int = 20_000, dim: int = 1536, seed: int = 0) -> np.ndarray:
    E = np.random.default_rng(seed).standard_normal((n_genes, dim), dtype=np.float32)
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    return E
