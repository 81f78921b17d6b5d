"""``genept.tl.genept_s``: GenePT-s (sentences of ranked gene symbols through a text encoder) into ``obsm``."""

from __future__ import annotations

import os
from typing import Any, Literal

from genept.cells.sentences import DEFAULT_PREFIX
from genept.tl._cells import run_cell_tool


def genept_s(
    adata: Any,
    encoder: Any = None,
    *,
    top_k: int | None = 1000,
    prefix: str = DEFAULT_PREFIX,
    separator: str = " ",
    windows: Literal["all", "first"] = "first",
    pooling: Literal["mean", "rank"] = "rank",
    cache: bool | str | os.PathLike | None = True,
    layer: str | None = None,
    use_raw: bool = False,
    species: str = "auto",
    key_added: str = "X_genept_s",
    chunk_size: int = 5_000,
    show_progress: bool | None = None,
    copy: bool = False,
):
    """GenePT-s: the text embedding of each cell's gene symbols, highest expression first.

    The engine is :func:`genept.cells.genept_s`, which documents the sentence rule.

    Parameters
    ----------
    adata
        Cells x genes.
    encoder
        An encoder spec (``"minilm"``, the default; ``"static"``, ``"hashing"``, ``"openai:MODEL"``)
        or an encoder object.
    top_k, prefix, separator
        Genes per sentence (default 1,000; ``None``: all expressed), text before, text between.
    windows, pooling
        ``"first"`` (default): one string cut at the encoder's token limit, as the GenePT paper
        did; ``"all"``: every ranked gene is read, in windows within the limit, pooled by
        ``"rank"`` (default) or ``"mean"`` (see :func:`genept.cells.genept_s` for why ``"first"``
        is the default). Static encoders read every gene exactly either way.
    cache
        Embedding cache: ``True`` (default file), a path, or ``False``/``None``.
    layer, use_raw, species, key_added, chunk_size, show_progress, copy
        As in :func:`genept.tl.genept_w`; default key ``"X_genept_s"``.

    Returns
    -------
    ``None`` (or the copy). Sets ``adata.obsm[key_added]`` and ``adata.uns[key_added]`` (record
    with the encoder identity and how many genes of each sentence it read).

    Examples
    --------
    >>> import anndata as ad, numpy as np, genept
    >>> adata = ad.AnnData(np.array([[0, 5, 1], [2, 0, 0]], dtype=np.float32))
    >>> adata.var_names = ["CD3E", "CD19", "LYZ"]
    >>> genept.tl.genept_s(adata, "hashing", cache=False)
    >>> adata.obsm["X_genept_s"].shape[0], adata.uns["X_genept_s"]["params"]["top_k"]
    (2, 1000)
    """
    from genept.cells.embed import genept_s as engine

    return run_cell_tool(
        adata, engine, key_added=key_added, layer=layer, use_raw=use_raw, copy=copy, species=species,
        encoder=encoder, top_k=top_k, prefix=prefix, separator=separator, windows=windows, pooling=pooling, cache=cache, chunk_size=chunk_size,
        show_progress=show_progress,
    )  # fmt: skip
