"""The two helpers every ``tl`` tool uses: choose the expression matrix, record what was done.

Every tool reads ``layer=`` / ``use_raw=`` through :func:`expression` and writes
``adata.uns[key_added] = {"params": ..., <results>, "genept_version": ...}`` through :func:`store`, so
all tools share one matrix rule and one ``uns`` layout (scanpy's ``key_added`` convention).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from genept._serialize import h5ad_safe as _h5ad_safe


def store(adata: Any, key_added: str, params: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """Write ``adata.uns[key_added] = {"params": params, **extra, "genept_version": ...}``.

    ``params`` are made ``write_h5ad``-safe (``None`` becomes ``""``, numpy scalars become Python
    ones); ``extra`` values (tables, arrays) are stored as given apart from the same scalar cleaning.
    An existing entry under ``key_added`` is replaced.

    Parameters
    ----------
    adata
        The AnnData to write into.
    key_added
        The ``uns`` key (by convention the tool's ``key_added``).
    params
        The tool's parameters, as the user passed them (after defaults).
    **extra
        Further results of the tool, e.g. ``labels=...`` or ``record=...``.

    Returns
    -------
    dict
        The entry written.

    Examples
    --------
    >>> import anndata as ad, numpy as np
    >>> adata = ad.AnnData(np.ones((2, 3), dtype=np.float32))
    >>> entry = store(adata, "my_tool", {"layer": None, "n": np.int64(3)}, n_labels=2)
    >>> adata.uns["my_tool"]["params"]
    {'layer': '', 'n': 3}
    >>> adata.uns["my_tool"]["n_labels"]
    2
    """
    from genept import __version__

    entry: dict[str, Any] = {"params": _h5ad_safe(dict(params))}
    for name, value in extra.items():
        entry[str(name)] = _h5ad_safe(value) if isinstance(value, Mapping | list | tuple | np.generic) or value is None else value
    entry["genept_version"] = __version__
    adata.uns[key_added] = entry
    return entry


def expression(adata: Any, layer: str | None = None, use_raw: bool = False) -> tuple[Any, Any, str]:
    """The expression matrix a tool reads: ``adata.X``, a layer, or ``adata.raw.X``.

    Parameters
    ----------
    adata
        The AnnData.
    layer
        A key of ``adata.layers``; ``None`` for ``adata.X``.
    use_raw
        Read ``adata.raw.X`` (with ``adata.raw.var_names``).

    Returns
    -------
    tuple
        ``(X, var_names, where)``: the matrix (as stored: dense, sparse or backed), its gene names,
        and its name for messages (``"adata.X"``, ``"adata.layers['counts']"``, ``"adata.raw.X"``).

    Raises
    ------
    ValueError
        Both ``layer`` and ``use_raw`` given, a missing layer, no ``raw``, or ``adata.X`` is ``None``.

    Examples
    --------
    >>> import anndata as ad, numpy as np
    >>> adata = ad.AnnData(np.ones((2, 3), dtype=np.float32))
    >>> adata.layers["counts"] = np.full((2, 3), 2.0, dtype=np.float32)
    >>> X, var_names, where = expression(adata, layer="counts")
    >>> where, X.shape, list(var_names)
    ("adata.layers['counts']", (2, 3), ['0', '1', '2'])
    """
    if layer is not None and use_raw:
        raise ValueError("give layer= or use_raw=True, not both")
    if use_raw:
        if adata.raw is None:
            raise ValueError("use_raw=True but adata.raw is None; pass layer= or use adata.X")
        return adata.raw.X, adata.raw.var_names, "adata.raw.X"
    if layer is not None:
        if layer not in adata.layers:
            raise ValueError(f"layer {layer!r} not found; adata.layers has {list(adata.layers)}. Pass layer=None for adata.X")
        return adata.layers[layer], adata.var_names, f"adata.layers[{layer!r}]"
    if adata.X is None:
        raise ValueError("adata.X is None; pass layer= (or use_raw=True) to say which matrix holds the expression")
    return adata.X, adata.var_names, "adata.X"


__all__ = ["expression", "store"]
