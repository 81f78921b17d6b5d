"""``genept.tl.genept_w``: the paper's GenePT-w into ``obsm``."""

from __future__ import annotations

from typing import Any

from genept.cells.weighted import Normalize, Transform
from genept.tl._cells import run_cell_tool


def genept_w(
    adata: Any,
    gene_embeddings: Any,
    *,
    transform: Transform = "counts",
    normalize: Normalize = "l2",
    layer: str | None = None,
    use_raw: bool = False,
    species: str = "auto",
    key_added: str = "X_genept_w",
    chunk_size: int = 5_000,
    show_progress: bool | None = None,
    copy: bool = False,
):
    """GenePT-w: the expression-weighted average of each cell's gene embeddings, L2-normalised.

    The array-level engine is :func:`genept.cells.genept_w`, which documents the method.

    Parameters
    ----------
    adata
        Cells x genes; ``X`` (or ``layer``, or ``raw`` with ``use_raw``) >= 0. Backed and dask
        matrices are read in row blocks.
    gene_embeddings
        A :class:`~genept.GeneEmbeddings` or the path of a saved one (``.npz``).
    transform
        Weights: ``"counts"`` (default, values as given), ``"log1p"`` or ``"log1p_cp10k"``.
    normalize
        ``"l2"`` (default), ``"n_genes"`` or ``"none"``.
    layer, use_raw
        Which matrix to read.
    species
        ``"auto"``, ``"human"`` or ``"mouse"``: how gene names are resolved.
    key_added
        ``obsm`` key of the embedding and ``uns`` key of its record.
    chunk_size, show_progress
        Cells per block; progress bars (``None``: on a terminal).
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None`` (or the copy). Sets ``adata.obsm[key_added]`` (float32, finite) and
    ``adata.uns[key_added]`` (:class:`~genept.cells.CellEmbeddingRecord`: ``params``, coverage,
    gene-embedding identity, time).

    Examples
    --------
    >>> import anndata as ad, numpy as np, genept
    >>> genes = genept.GeneEmbeddings(["CD3E", "CD19"], np.eye(2, dtype=np.float32))
    >>> adata = ad.AnnData(np.array([[3.0, 4.0], [0.0, 1.0]], dtype=np.float32))
    >>> adata.var_names = ["CD3E", "CD19"]
    >>> genept.tl.genept_w(adata, genes)
    >>> adata.obsm["X_genept_w"].round(2).tolist()
    [[0.6, 0.8], [0.0, 1.0]]
    >>> adata.uns["X_genept_w"]["params"]["transform"]
    'counts'
    """
    from genept.cells.embed import genept_w as engine

    return run_cell_tool(
        adata, engine, key_added=key_added, layer=layer, use_raw=use_raw, copy=copy, species=species,
        gene_embeddings=gene_embeddings, transform=transform, normalize=normalize, chunk_size=chunk_size,
        show_progress=show_progress,
    )  # fmt: skip

