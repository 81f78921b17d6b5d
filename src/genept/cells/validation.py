"""Input checks for cell embeddings, in one place.

:func:`check_inputs` checks shapes and alignment once, before any work; :func:`check_block`
checks values block by block while the matrix is streamed (so backed and dask input is read
only once). Both raise ``ValueError`` with what was wrong and what to do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp


def check_inputs(
    X: Any,
    var_names: Any,
    *,
    n_obs: int | None = None,
    gene_vectors: np.ndarray | None = None,
    where: str = "adata.X",
) -> None:
    """Check that the expression matrix is non-empty, 2-d and aligned with its genes (and embeddings).

    Examples
    --------
    >>> import numpy as np
    >>> check_inputs(np.ones((2, 3)), ["A", "B", "C"])
    """
    shape = tuple(getattr(X, "shape", ()))
    if len(shape) != 2:
        raise ValueError(f"{where} must be a 2-d cells x genes matrix, got shape {shape}")
    n_cells, n_genes = (int(s) for s in shape)
    if n_cells == 0 or n_genes == 0:
        raise ValueError(f"{where} is empty ({n_cells} cells x {n_genes} genes); nothing to embed")
    if len(var_names) != n_genes:
        raise ValueError(f"{where} has {n_genes} genes but {len(var_names)} gene names are given; they must match")
    if n_obs is not None and n_obs != n_cells:
        raise ValueError(f"{where} has {n_cells} rows but the AnnData has {n_obs} cells")
    if gene_vectors is not None:
        if gene_vectors.ndim != 2 or gene_vectors.shape[0] != n_genes:
            raise ValueError(
                f"gene embeddings have shape {gene_vectors.shape}; expected ({n_genes}, dim), one row per gene of {where}. "
                "Align them with GeneEmbeddings.reindex(var_names)."
            )
        if gene_vectors.shape[1] == 0:
            raise ValueError("gene embeddings have dimension 0")


def check_block(block: Any, *, where: str = "adata.X", start: int = 0) -> None:
    """Check the values of one block of cells: finite and non-negative.

    GenePT weights (GenePT-w) and ranks (GenePT-s) genes by their expression, so values must be
    counts or normalised expression (>= 0). Negative values usually mean scaled data
    (``sc.pp.scale``); NaN or inf mean a broken matrix.

    Examples
    --------
    >>> import numpy as np
    >>> check_block(np.array([[0.0, 1.5]]))
    """
    data = block.data if sp.issparse(block) else np.asarray(block)
    if data.size == 0:
        return
    if data.dtype.kind == "f" and not np.isfinite(data).all():
        row = _first_bad_row(block, lambda v: ~np.isfinite(v)) + start
        raise ValueError(
            f"{where} contains NaN or inf values (first in cell {row}); GenePT cannot weight or rank them. "
            "Fix or remove those cells (or pass another layer= with clean values)."
        )
    if data.dtype.kind in "fi" and data.min() < 0:
        row = _first_bad_row(block, lambda v: v < 0) + start
        raise ValueError(
            f"{where} has negative values (min {float(data.min()):.3g}, first in cell {row}); GenePT needs expression >= 0. "
            "This looks like scaled data (sc.pp.scale): pass counts or log-normalised values via layer=... "
            "or use_raw=True."
        )


def _first_bad_row(block: Any, bad) -> int:
    if sp.issparse(block):
        csr = sp.csr_matrix(block)
        pos = int(np.flatnonzero(bad(csr.data))[0])
        return int(np.searchsorted(csr.indptr, pos, side="right") - 1)
    return int(np.flatnonzero(bad(np.asarray(block)).any(axis=1))[0])


__all__ = ["check_inputs", "check_block"]
