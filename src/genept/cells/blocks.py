"""Read an AnnData matrix row block by row block, whatever holds it.

Handled: numpy arrays, scipy sparse matrices/arrays, backed ``.h5ad`` datasets
(``anndata.read_h5ad(path, backed="r").X``: CSR, CSC or dense) and dask arrays. Memory stays
bounded by one block, except for backed CSC, which cannot be read by rows and is loaded once
(with a warning).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp

from genept._utils import progress


def is_dask(X: Any) -> bool:
    """True for a dask array (checked without importing dask).

    Examples
    --------
    >>> import dask.array as da
    >>> is_dask(da.ones((4, 2), chunks=2)), is_dask(np.ones((4, 2)))
    (True, False)
    """
    return type(X).__module__.startswith("dask.") and hasattr(X, "chunks") and hasattr(X, "map_blocks")


def is_backed(X: Any) -> bool:
    """True for an on-disk matrix of a backed AnnData (h5py dataset or anndata sparse dataset).

    Examples
    --------
    >>> import anndata as ad
    >>> import scipy.sparse as sp
    >>> ad.AnnData(sp.csr_matrix(np.eye(3, dtype=np.float32))).write_h5ad("cells.h5ad")
    >>> is_backed(ad.read_h5ad("cells.h5ad", backed="r").X), is_backed(np.eye(3))
    (True, False)
    """
    mod = type(X).__module__
    return mod.startswith("h5py.") or mod.startswith("zarr.") or "sparse_dataset" in mod


def prepare_matrix(X: Any) -> Any:
    """Put ``X`` in a form that can be sliced by rows cheaply (in-memory sparse becomes CSR).

    Dask arrays and backed CSR/dense datasets are returned as they are; a backed CSC matrix is
    loaded into memory as CSR, with a warning; anything else becomes a 2-d numpy array.

    Raises
    ------
    ValueError
        ``X`` is not 2-d.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> prepare_matrix(sp.csc_matrix(np.eye(3))).format
    'csr'
    >>> prepare_matrix([[1, 2], [3, 4]]).shape
    (2, 2)
    """
    if is_dask(X):
        return X
    if is_backed(X):
        fmt = getattr(X, "format", None)
        if fmt == "csc":
            warnings.warn(
                "the backed matrix is CSC, which cannot be read by rows; loading it into memory. "
                "For bounded memory, store the matrix as CSR (adata.X = adata.X.tocsr(); adata.write_h5ad(...)).",
                UserWarning,
                stacklevel=3,
            )
            return sp.csr_matrix(X.to_memory())
        return X
    if sp.issparse(X):
        return X if X.format == "csr" else X.tocsr()
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-d expression matrix, got shape {X.shape}")
    return X


def read_rows(X: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of a prepared matrix, as a scipy CSR matrix or a numpy array.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> read_rows(prepare_matrix(sp.eye(4, format="csr")), 1, 3).toarray()
    array([[0., 1., 0., 0.],
           [0., 0., 1., 0.]])
    >>> read_rows(np.arange(6).reshape(3, 2), 2, 3)
    array([[4, 5]])
    """
    if is_dask(X):
        block = X[start:stop].compute()
    else:
        block = X[start:stop]
    if sp.issparse(block):
        return sp.csr_matrix(block)
    return np.asarray(block)


def iter_row_blocks(
    X: Any,
    chunk_size: int = 10_000,
    *,
    show_progress: bool | None = None,
    desc: str = "cells",
) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(start, stop, block)`` over the rows of ``X``; blocks are CSR or dense numpy.

    Dask arrays are read along their own row chunks (each computed with the current dask
    scheduler); everything else in blocks of ``chunk_size`` rows.

    Parameters
    ----------
    X
        numpy array, scipy sparse matrix/array, backed ``.h5ad`` matrix or dask array.
    chunk_size
        Rows per block (ignored for dask, which keeps its own chunks).
    show_progress
        Show a progress bar; ``None`` follows ``GENEPT_PROGRESS``.
    desc
        Label of the progress bar.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> X = sp.random(25, 4, density=0.5, format="csr")
    >>> [(a, b) for a, b, _ in iter_row_blocks(X, 10)]
    [(0, 10), (10, 20), (20, 25)]
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive number of cells, not {chunk_size}")
    X = prepare_matrix(X)
    n = int(X.shape[0])
    if is_dask(X):
        bounds = np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(int)
    else:
        bounds = np.unique(np.r_[np.arange(0, n, chunk_size), n]).astype(int)
    disable = None if show_progress is None else not show_progress
    with progress(total=n, desc=desc, disable=disable, unit="cells") as bar:
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
            yield int(start), int(stop), read_rows(X, int(start), int(stop))
            bar.update(int(stop - start))


__all__ = ["is_dask", "is_backed", "prepare_matrix", "read_rows", "iter_row_blocks"]
