"""Writing ``.h5ad`` files atomically, and results into an existing one without rewriting (or loading) the rest of it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from genept._utils import atomic_path


def patch_h5ad(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    adata: Any,
    *,
    obsm: Sequence[str] = (),
    obs: Sequence[str] = (),
    uns: Sequence[str] = (),
) -> Path:
    """Copy ``src`` to ``dst`` byte for byte, then replace the named ``obsm`` / ``obs`` / ``uns`` entries with ``adata``'s.

    The expression matrix is never read, so this works for backed data of any size; ``dst`` is
    written to a temporary file and renamed into place (``dst`` may be ``src``: on failure the
    input is left as it was).

    Examples
    --------
    >>> import anndata as ad, numpy as np, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> adata = ad.AnnData(np.ones((2, 3), dtype=np.float32))
    >>> adata.write_h5ad(folder / "in.h5ad")
    >>> adata.obsm["X_new"] = np.zeros((2, 4), dtype=np.float32)
    >>> adata.uns["X_new"] = {"params": {"n": 4}}
    >>> out = patch_h5ad(folder / "in.h5ad", folder / "out.h5ad", adata, obsm=["X_new"], uns=["X_new"])
    >>> ad.read_h5ad(out).obsm["X_new"].shape
    (2, 4)
    """
    import h5py
    import pandas as pd
    from anndata.io import read_elem, write_elem

    src, dst = Path(src), Path(dst)
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
        with h5py.File(tmp, "r+") as f:
            for group_name, keys, source in (("obsm", obsm, adata.obsm), ("uns", uns, adata.uns)):
                group = f.require_group(group_name)
                for key in keys:
                    if key in group:
                        del group[key]
                    write_elem(group, key, source[key] if group_name == "obsm" else _plain_dict(source[key]))
            if obs:
                frame = read_elem(f["obs"])
                for key in obs:
                    frame[key] = adata.obs[key].to_numpy() if hasattr(adata.obs[key], "to_numpy") else adata.obs[key]
                    if isinstance(adata.obs[key].dtype, pd.CategoricalDtype):
                        frame[key] = frame[key].astype("category")
                del f["obs"]
                write_elem(f, "obs", frame)
    return dst


def write_h5ad(adata: Any, path: str | os.PathLike) -> Path:
    """``adata.write_h5ad(path)`` through a temporary file renamed into place: an interrupted write leaves the old file.

    Examples
    --------
    >>> import anndata as ad, numpy as np, tempfile, pathlib
    >>> out = write_h5ad(ad.AnnData(np.ones((2, 3), dtype=np.float32)), pathlib.Path(tempfile.mkdtemp()) / "a.h5ad")
    >>> ad.read_h5ad(out).shape
    (2, 3)
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        adata.write_h5ad(tmp)
    return path


def _plain_dict(value: Any) -> Any:
    return {k: _plain_dict(v) for k, v in value.items()} if hasattr(value, "items") else value
