"""``genept.tl.genept_scaled``: GenePT-scaled (genept's default cell embedding) into ``obsm``, with its map."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from genept.cells.scaled import ScaledProjection
from genept.cells.weighted import Transform
from genept.tl._cells import run_cell_tool


def genept_scaled(
    adata: Any,
    gene_embeddings: Any = None,
    *,
    transform: Transform = "log1p_cp10k",
    n_top_genes: int | None = 2000,
    n_comps: int = 50,
    projection: Any = None,
    layer: str | None = None,
    use_raw: bool = False,
    species: str = "auto",
    key_added: str = "X_genept_scaled",
    chunk_size: int = 5_000,
    show_progress: bool | None = None,
    copy: bool = False,
):
    """GenePT-scaled: scaled PCA of the highly variable genes, placed isometrically in the gene-text space.

    Each cell is a weighted sum of gene embeddings, so text queries work on it, and distances
    between cells are exactly those of PCA of scaled expression (:mod:`genept.cells.scaled`).
    The fitted map is stored in ``adata.uns[key_added]["projection"]``: pass this AnnData (or
    the map, or a file written by :meth:`~genept.cells.ScaledProjection.save`) as
    ``projection=`` to place other cells in the same space.

    Parameters
    ----------
    adata
        Cells x genes, raw counts by default (see ``transform``).
    gene_embeddings
        A :class:`~genept.GeneEmbeddings` or its path. Not needed with ``projection``.
    transform
        ``"log1p_cp10k"`` (default; raw counts), ``"log1p"``, or ``"counts"`` (values used as
        given, for log-normalised data).
    n_top_genes, n_comps
        Highly variable genes (``None``: all genes) and principal axes.
    projection
        Apply a stored map instead of fitting one: a reference AnnData embedded with this tool
        (its ``uns[key_added]["projection"]``), a :class:`~genept.cells.ScaledProjection`, or the
        path of a saved one. Genes are matched by name; genes of the map missing here are taken
        at their mean and counted.
    layer, use_raw, species, key_added, chunk_size, show_progress, copy
        As in :func:`genept.tl.genept_w`; default key ``"X_genept_scaled"``.

    Returns
    -------
    ``None`` (or the copy). Sets ``adata.obsm[key_added]`` and ``adata.uns[key_added]`` (the
    record plus ``"projection"``, the map as arrays).

    Examples
    --------
    >>> import anndata as ad, numpy as np, genept
    >>> rng = np.random.default_rng(0)
    >>> names = [f"G{i}" for i in range(40)]
    >>> genes = genept.GeneEmbeddings(names, rng.standard_normal((40, 16)).astype(np.float32))
    >>> ref = ad.AnnData(rng.poisson(2.0, (60, 40)).astype(np.float32))
    >>> ref.var_names = names
    >>> genept.tl.genept_scaled(ref, genes, n_comps=5)
    >>> query = ref[:10].copy()
    >>> genept.tl.genept_scaled(query, projection=ref)       # the reference's map
    >>> bool(np.allclose(query.obsm["X_genept_scaled"], ref.obsm["X_genept_scaled"][:10], atol=1e-5))
    True
    """
    from genept.cells.embed import fit_genept_scaled

    proj_in = None if projection is None else as_projection(projection, key=key_added)
    fitted: list[ScaledProjection] = []

    def engine(X, var_names, **kw):
        Y, record, proj = fit_genept_scaled(X, var_names, **kw)
        fitted.append(proj)
        return Y, record

    out = run_cell_tool(
        adata, engine, key_added=key_added, layer=layer, use_raw=use_raw, copy=copy, species=species,
        gene_embeddings=gene_embeddings, transform=transform, n_top_genes=n_top_genes, n_comps=n_comps,
        projection=proj_in, chunk_size=chunk_size, show_progress=show_progress,
    )  # fmt: skip
    target = out if copy else adata
    target.uns[key_added]["projection"] = fitted[0].to_dict()
    return out


def as_projection(projection: Any, *, key: str = "X_genept_scaled") -> ScaledProjection:
    """A :class:`~genept.cells.ScaledProjection` from a map, a saved file, or an AnnData that stores one.

    Examples
    --------
    >>> proj = as_projection(reference_adata)           # doctest: +SKIP
    >>> proj.save("reference_map.npz")                  # doctest: +SKIP
    """
    if isinstance(projection, ScaledProjection):
        return projection
    if isinstance(projection, str | os.PathLike):
        return ScaledProjection.load(projection)
    uns = getattr(projection, "uns", None)
    if isinstance(uns, Mapping):
        entry = uns.get(key)
        if not isinstance(entry, Mapping) or "projection" not in entry:
            stored = [k for k, v in uns.items() if isinstance(v, Mapping) and "projection" in v]
            raise ValueError(
                f"the reference AnnData has no GenePT-scaled map under uns[{key!r}]"
                + (f"; it has one under {stored}: pass key_added=" if stored else "; run genept.tl.genept_scaled on it first")
            )
        return ScaledProjection.from_dict(entry["projection"])
    raise TypeError(f"projection must be a ScaledProjection, a file path or an AnnData, not {type(projection).__name__}")
