"""Baselines that every GenePT number is compared with, computed on the same genes and cells.

- :func:`random_gene_embeddings`: Gaussian vectors for the same genes, same dimension, fixed seed
  (the control for every gene-level task and, through GenePT-w, for the cell-level tasks).
- :func:`pca_baseline`: the standard scanpy pipeline on raw expression (normalize_total, log1p,
  2,000 highly variable genes, 50 principal components).
- :func:`genept_w`: GenePT-w cell embeddings from any gene embeddings, with gene coverage.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from genept.embeddings import GeneEmbeddings


def random_gene_embeddings(embeddings: GeneEmbeddings, *, seed: int = 0) -> GeneEmbeddings:
    """Gaussian unit vectors for the same genes and dimension as ``embeddings``.

    Examples
    --------
    >>> rand = random_gene_embeddings(emb, seed=0)
    >>> rand.genes.equals(emb.genes) and rand.dim == emb.dim
    True
    """
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(embeddings), embeddings.dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    meta = {"encoder": f"random-gaussian:seed={seed}", "control_for": str(embeddings.meta.get("encoder", "unknown"))}
    return GeneEmbeddings(embeddings.genes, vectors, meta)


def _counts(adata, layer: str | None):
    if layer is None:
        return adata.X
    if layer not in adata.layers:
        raise ValueError(f"layer {layer!r} not in adata.layers ({list(adata.layers)}); pass layer=None to use adata.X")
    return adata.layers[layer]


def pca_baseline(
    adata,
    *,
    layer: str | None = None,
    n_top_genes: int = 2000,
    n_comps: int = 50,
    seed: int = 0,
) -> np.ndarray:
    """Principal components of log-normalised highly variable genes: the raw-expression baseline.

    ``normalize_total`` (10,000 per cell), ``log1p``, the ``n_top_genes`` most variable genes
    (scanpy's ``seurat`` flavour; all genes when there are fewer), then ``n_comps`` PCs.
    ``adata`` is not modified.

    Parameters
    ----------
    adata
        Cells with raw counts in ``X`` or in ``layers[layer]``.

    Returns
    -------
    ``(n_obs, n_comps)`` float32 array.

    Examples
    --------
    >>> adata.obsm["X_pca_baseline"] = pca_baseline(adata)
    """
    import anndata as ad
    import scanpy as sc

    X = _counts(adata, layer)
    X = X.astype(np.float32, copy=True) if sp.issparse(X) else np.array(X, dtype=np.float32)
    if (X.data if sp.issparse(X) else X).min(initial=0) < 0:
        raise ValueError("pca_baseline needs raw counts (found negative values); pass layer= with the counts")
    work = ad.AnnData(X=X)
    sc.pp.normalize_total(work, target_sum=1e4)
    sc.pp.log1p(work)
    n_top = min(n_top_genes, work.n_vars)
    if n_top < work.n_vars:
        sc.pp.highly_variable_genes(work, n_top_genes=n_top, flavor="seurat", subset=True)
    n_comps = min(n_comps, work.n_vars - 1, work.n_obs - 1)
    sc.pp.pca(work, n_comps=n_comps, random_state=seed)
    return np.ascontiguousarray(work.obsm["X_pca"], dtype=np.float32)


def genept_cells(
    adata,
    gene_embeddings: GeneEmbeddings,
    *,
    method: str = "scaled",
    layer: str | None = None,
    transform: str | None = None,
    species: str = "auto",
) -> tuple[np.ndarray, dict]:
    """Cell embeddings of :func:`genept.tl.embed_cells` (``method`` as there) without touching ``adata``.

    Returns
    -------
    ``(cells, coverage)``: a float32 ``(n_obs, dim)`` array and the coverage record of
    :func:`~genept.tl.embed_cells` (genes embedded, share of expression lost, empty cells, ...).

    Examples
    --------
    >>> cells, cov = genept_cells(adata, GeneEmbeddings.load("genes.npz"))
    >>> cov["n_genes_embedded"]
    """
    import anndata as ad
    import pandas as pd

    from genept.tl import embed_cells

    # A light AnnData sharing the matrix: the user's obsm/uns stay as they were.
    X = _counts(adata, layer)
    work = ad.AnnData(X=X, obs=pd.DataFrame(index=adata.obs_names), var=pd.DataFrame(index=adata.var_names))
    embed_cells(work, gene_embeddings, method=method, transform=transform, species=species, key_added="X", show_progress=False)
    return np.asarray(work.obsm["X"], dtype=np.float32), dict(work.uns["genept"]["X"]["coverage"])


def genept_w(
    adata,
    gene_embeddings: GeneEmbeddings,
    *,
    layer: str | None = None,
    transform: str = "counts",
    species: str = "auto",
) -> tuple[np.ndarray, dict]:
    """GenePT-w cell embeddings (:func:`genept.tl.embed_cells`, ``method="w"``) without touching ``adata``.

    Examples
    --------
    >>> cells, cov = genept_w(adata, GeneEmbeddings.load("genes.npz"))
    >>> cov["fraction_expression_lost"]
    """
    return genept_cells(adata, gene_embeddings, method="w", layer=layer, transform=transform, species=species)


__all__ = ["genept_w", "pca_baseline", "random_gene_embeddings"]
