"""Baselines that every GenePT number is compared with, computed on the same genes and cells.

- :func:`random_gene_embeddings`: Gaussian vectors for the same genes, same dimension, fixed seed
  (the control for every gene-level task and, through GenePT-w, for the cell-level tasks).
- :func:`pca_baseline`: the standard scanpy pipeline on raw expression (normalize_total, log1p,
  2,000 highly variable genes, 50 principal components).
- :func:`genept_cells` / :func:`genept_w`: GenePT cell embeddings from any gene embeddings, with
  gene coverage, through the array-level engine :func:`genept.cells.embed` (never through ``tl``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from genept.embeddings import GeneEmbeddings


def random_gene_embeddings(embeddings: GeneEmbeddings, *, seed: int = 0) -> GeneEmbeddings:
    """Gaussian unit vectors for the same genes and dimension as ``embeddings``.

    Examples
    --------
    >>> import numpy as np
    >>> emb = GeneEmbeddings(["A", "B", "C"], np.eye(3, dtype=np.float32))
    >>> rand = random_gene_embeddings(emb, seed=0)
    >>> rand.genes.equals(emb.genes) and rand.dim == emb.dim
    True
    """
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(embeddings), embeddings.dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    meta = {"encoder": f"random-gaussian:seed={seed}", "control_for": str(embeddings.meta.get("encoder", "unknown"))}
    return GeneEmbeddings(embeddings.genes, vectors, meta)


def _matrix(data: Any, layer: str | None) -> tuple[Any, Any]:
    """``(matrix, var_names)`` of an AnnData (``X`` or ``layers[layer]``) or of a bare matrix."""
    if not hasattr(data, "obs_names"):
        if layer is not None:
            raise ValueError("layer= applies to an AnnData; pass the matrix itself")
        return data, None
    if layer is None:
        return data.X, data.var_names
    if layer not in data.layers:
        raise ValueError(f"layer {layer!r} not in adata.layers ({list(data.layers)}); pass layer=None to use adata.X")
    return data.layers[layer], data.var_names


def pca_baseline(
    data: Any,
    *,
    layer: str | None = None,
    input: Literal["counts", "log1p"] = "counts",
    n_top_genes: int | None = 2000,
    n_comps: int = 50,
    seed: int = 0,
) -> np.ndarray:
    """Principal components of log-normalised highly variable genes: the raw-expression baseline.

    From counts (``input="counts"``): ``normalize_total`` (10,000 per cell), ``log1p``; from
    log-normalised values (``input="log1p"``) the values as given, never logged twice. Then the
    ``n_top_genes`` most variable genes (scanpy's ``seurat`` flavour; all genes when there are
    fewer, or with ``None``) and ``n_comps`` PCs (centred, not scaled). The input is not modified.

    Parameters
    ----------
    data
        An AnnData (``X`` or ``layers[layer]``) or a cells x genes matrix.
    layer
        AnnData layer to read.
    input
        ``"counts"`` (raw counts) or ``"log1p"`` (already log-normalised).
    n_top_genes, n_comps, seed
        Highly variable genes, components, PCA seed.

    Returns
    -------
    ``(n_obs, n_comps)`` float32 array.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).poisson(1.0, (30, 12)).astype(np.float32)
    >>> pca_baseline(X, n_comps=5).shape
    (30, 5)
    """
    import anndata as ad
    import scanpy as sc

    if input not in ("counts", "log1p"):
        raise ValueError(f"input must be 'counts' (raw counts) or 'log1p' (log-normalised values), not {input!r}")
    X, _ = _matrix(data, layer)
    X = X.astype(np.float32, copy=True) if sp.issparse(X) else np.array(X, dtype=np.float32)
    if (X.data if sp.issparse(X) else X).min(initial=0) < 0:
        raise ValueError("pca_baseline needs raw counts or log-normalised values (found negative values: scaled data?); pass layer= with the counts")
    work = ad.AnnData(X=X)
    if input == "counts":
        sc.pp.normalize_total(work, target_sum=1e4)
        sc.pp.log1p(work)
    n_top = work.n_vars if n_top_genes is None else min(n_top_genes, work.n_vars)
    if n_top < work.n_vars:
        sc.pp.highly_variable_genes(work, n_top_genes=n_top, flavor="seurat", subset=True)
    n_comps = min(n_comps, work.n_vars - 1, work.n_obs - 1)
    sc.pp.pca(work, n_comps=n_comps, random_state=seed)
    return np.ascontiguousarray(work.obsm["X_pca"], dtype=np.float32)


def genept_cells(
    data: Any,
    gene_embeddings: GeneEmbeddings,
    *,
    method: str = "scaled",
    layer: str | None = None,
    var_names: Any = None,
    species: str = "auto",
    **params: Any,
) -> tuple[np.ndarray, dict]:
    """Cell embeddings of any GenePT method (:func:`genept.cells.embed`) and their coverage, without touching ``data``.

    Parameters
    ----------
    data
        An AnnData (``X`` or ``layers[layer]``) or a matrix with ``var_names``.
    gene_embeddings
        Gene embeddings (GenePT-scaled, GenePT-w).
    method
        ``"scaled"``, ``"w"`` or ``"s"``.
    **params
        The method's parameters (``transform``, ...); ``transform=None`` means the method's default.

    Returns
    -------
    ``(cells, coverage)``: a float32 ``(n_obs, dim)`` array and the run's coverage record.

    Examples
    --------
    >>> import numpy as np
    >>> from genept import GeneEmbeddings
    >>> genes = GeneEmbeddings(["A", "B"], np.eye(2, dtype=np.float32))
    >>> cells, cov = genept_cells(np.array([[1.0, 2.0]]), genes, method="w", var_names=["A", "B"])
    >>> cov["n_genes_embedded"]
    2
    """
    from genept.cells.embed import embed

    X, names = _matrix(data, layer)
    names = names if var_names is None else var_names
    if names is None:
        raise ValueError("pass var_names= with a bare matrix")
    params = {k: v for k, v in params.items() if not (k == "transform" and v is None)}
    Y, record = embed(X, names, gene_embeddings, method=method, species=species, show_progress=False, **params)
    return np.asarray(Y, dtype=np.float32), dict(record.coverage)


def genept_w(
    data: Any,
    gene_embeddings: GeneEmbeddings,
    *,
    layer: str | None = None,
    transform: str = "counts",
    species: str = "auto",
) -> tuple[np.ndarray, dict]:
    """GenePT-w cell embeddings (:func:`genept.cells.genept_w`) and their coverage, without touching ``data``.

    Examples
    --------
    >>> import numpy as np
    >>> from genept import GeneEmbeddings
    >>> genes = GeneEmbeddings(["A", "B"], np.eye(2, dtype=np.float32))
    >>> import anndata as ad
    >>> adata = ad.AnnData(np.array([[1.0, 0.0]], dtype=np.float32))
    >>> adata.var_names = ["A", "B"]
    >>> cells, cov = genept_w(adata, genes)
    >>> cov["fraction_expression_lost"]
    0.0
    """
    return genept_cells(data, gene_embeddings, method="w", layer=layer, transform=transform, species=species)


__all__ = ["genept_cells", "genept_w", "pca_baseline", "random_gene_embeddings"]
