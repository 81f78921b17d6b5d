"""What the three cell-embedding tools share: read the matrix, run the engine, store the result."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from genept.cells.record import CellEmbeddingRecord
from genept.tl._store import expression, store

# genept 0.1 wrote every record under uns["genept"][key]; read until 0.3.
LEGACY_UNS_KEY = "genept"


def run_cell_tool(
    adata: Any,
    engine: Callable[..., tuple[np.ndarray, CellEmbeddingRecord]],
    *,
    key_added: str,
    layer: str | None,
    use_raw: bool,
    copy: bool,
    species: str,
    extra: Mapping[str, Any] | None = None,
    **params: Any,
):
    """Run an array-level engine of :mod:`genept.cells.embed` on ``adata`` and store its result.

    Writes ``adata.obsm[key_added]`` and ``adata.uns[key_added]`` (the record, ``params``
    first). Nothing is written when the engine raises. Returns the copy with ``copy=True``.
    """
    from genept.cells.validation import check_adata, check_output

    check_adata(adata)
    if copy:
        adata = copy_adata(adata)
    X, var_names, where = expression(adata, layer=layer, use_raw=use_raw)
    Y, record = engine(X, var_names, where=where, obs_names=adata.obs_names, species=species, **params)
    record.params.update({"layer": layer or "", "use_raw": bool(use_raw), "species": species})
    check_output(Y, adata.obs_names, what=record.method)
    adata.obsm[key_added] = Y
    write_record(adata, key_added, record, **(extra or {}))
    return adata if copy else None


def write_record(adata: Any, key: str, record: CellEmbeddingRecord, **extra: Any) -> None:
    """Store ``record`` (and ``extra`` entries) in ``adata.uns[key]``."""
    uns = record.to_uns()
    params = uns.pop("params")
    uns.pop("genept_version", None)
    store(adata, key, params, **uns, **extra)


def read_record(adata: Any, key: str) -> CellEmbeddingRecord:
    """The :class:`~genept.cells.CellEmbeddingRecord` of ``adata.obsm[key]``.

    Also reads genept 0.1's ``adata.uns["genept"][key]``, with a ``DeprecationWarning``.

    Examples
    --------
    >>> import anndata as ad, numpy as np
    >>> from genept.cells import CellEmbeddingRecord
    >>> adata = ad.AnnData(np.ones((2, 2), dtype=np.float32))
    >>> write_record(adata, "X_genept_w", CellEmbeddingRecord("GenePT-w", {"transform": "counts"}))
    >>> read_record(adata, "X_genept_w").method
    'GenePT-w'
    """
    entry = adata.uns.get(key)
    if isinstance(entry, Mapping) and "method" in entry:
        return CellEmbeddingRecord.from_uns(entry)
    legacy = legacy_entry(adata, key)
    if legacy is not None:
        return CellEmbeddingRecord.from_uns(legacy)
    raise KeyError(f"adata.uns has no genept record for {key!r}; embed the cells with genept.tl.embed_cells(..., key_added={key!r})")


def legacy_entry(adata: Any, key: str) -> Mapping[str, Any] | None:
    """genept 0.1's ``adata.uns["genept"][key]``, with a ``DeprecationWarning``; ``None`` when absent.

    Examples
    --------
    >>> import anndata as ad, numpy as np, warnings
    >>> adata = ad.AnnData(np.ones((1, 1), dtype=np.float32), uns={"genept": {"X_w": {"method": "GenePT-w"}}})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     legacy_entry(adata, "X_w")["method"], caught[0].category.__name__
    ('GenePT-w', 'DeprecationWarning')
    """
    legacy = adata.uns.get(LEGACY_UNS_KEY)
    entry = legacy.get(key) if isinstance(legacy, Mapping) else None
    if not isinstance(entry, Mapping):
        return None
    warnings.warn(
        f"adata.uns['genept'][{key!r}] is the genept 0.1 layout (read until 0.3); genept 0.2 writes adata.uns[{key!r}]: "
        "embed the cells again (or move the entry) before genept 0.3 stops reading it.",
        DeprecationWarning,
        stacklevel=3,
    )
    return entry


def copy_adata(adata: Any):
    """``adata.copy()``, refused for backed objects (it would load the matrix)."""
    if getattr(adata, "isbacked", False):
        raise ValueError(
            "copy=True on a backed AnnData would load its matrix into memory. Use copy=False (results are "
            "added to the in-memory obsm/uns of the backed object) or call adata.to_memory() first."
        )
    return adata.copy()
