"""GenePT-scaled: scaled expression of highly variable genes, placed isometrically in the gene-text space.

Plain GenePT-w (:mod:`genept.cells.weighted`) sums gene embeddings weighted by raw expression:
each cell is dominated by its most abundant transcripts and by the direction all gene texts
share, so cell types separate less well than with PCA of scaled expression. GenePT-scaled keeps
each cell a linear combination of gene embeddings but chooses the weights so that the geometry
of the cells is exactly that of PCA:

1. ``T = transform(X)`` (default ``log1p`` of counts per 10,000), per-gene moments, and the
   ``n_top_genes`` highly variable genes (HVGs; scanpy's ``seurat`` flavour);
2. ``z = (T_hvg - mean) / sd`` (``sc.pp.scale``; optionally clipped at ``max_value``) and its
   top ``n_comps`` principal axes ``P`` (``n_hvg x k``), from the covariance accumulated block
   by block;
3. the text vector of each axis, ``U = P^T E`` (``k x dim``; ``E`` = the HVGs' gene embeddings,
   zero rows for genes without one), made orthonormal by the symmetric (Löwdin / polar)
   orthogonalisation ``Q = (U U^T)^(-1/2) U``: the isometry closest to ``U``;
4. ``cell = (z - mean(z)) P Q = sum_g w_g e_g`` with gene weights
   ``w = (z - mean(z)) P (U U^T)^(-1/2) P^T``.

Because ``Q`` has orthonormal rows, distances and cosines between cells equal those between
their PCA scores (scanpy ``normalize_total``, ``log1p``, HVGs, ``scale``, ``pca``), whatever
the gene embeddings: the text decides only *where* in the text space the cells sit, which is
what text queries (:mod:`genept.text.scores`) and comparisons across datasets use. The map is
invariant to the sign and order of the principal axes, so the result does not depend on
eigenvector conventions.

:func:`fit_scaled` learns the map (:class:`ScaledProjection`, reusable on other cells with the
same genes), :func:`embed_scaled` fits and applies it with a coverage report. Both read any
AnnData matrix in row blocks (in memory, backed ``.h5ad``, dask), three passes over the data;
sparse input stays sparse except one block of HVG columns at a time.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genept.cells.blocks import iter_row_blocks, prepare_matrix
from genept.cells.validation import check_block, warn_if_not_counts
from genept.cells.weighted import TRANSFORMS, Transform, transform_block

logger = logging.getLogger(__name__)

# Gene-text directions with less than this share of the largest one's weight cannot be mapped
# isometrically (the HVGs along those principal axes have (almost) no embeddings).
_RANK_TOL = 1e-6


@dataclass
class ScaledProjection:
    """A fitted GenePT-scaled map from expression to the gene-text space.

    Attributes
    ----------
    genes
        Column indices (into the fitted matrix) of the genes used: the HVGs, ascending.
    mean, std
        Per used gene: mean and standard deviation (ddof 1, zeros replaced by 1) of the
        log-expression, for scaling.
    max_value
        Scaled values are clipped to ``[-max_value, max_value]`` (``None``: no clipping).
    center
        Mean of the (clipped) scaled values over the fitted cells (removed before projecting).
    components
        ``(k, n_used)`` principal axes of the scaled values (unit rows).
    explained_variance
        ``(k,)`` variance of the cells along each axis.
    total_variance
        Total variance of the scaled values (sum over used genes).
    weights
        ``(n_used, dim)`` gene-to-text map: ``cell = (z - center) @ weights``.
    transform
        Expression transform applied first (see :func:`genept.cells.weighted.transform_block`).
    n_genes
        Number of columns of the fitted matrix (new input must have the same genes, in order).
    """

    genes: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    max_value: float | None
    center: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    total_variance: float
    weights: np.ndarray
    transform: str
    n_genes: int
    gene_names: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_comps(self) -> int:
        return int(self.components.shape[0])

    @property
    def dim(self) -> int:
        return int(self.weights.shape[1])

    def columns(self, var_names: Any) -> np.ndarray:
        """For each used gene, its column in a matrix with genes ``var_names`` (``-1``: not measured there).

        Examples
        --------
        >>> proj.gene_names.tolist()  # doctest: +SKIP
        ['CD3E', 'MS4A1']
        >>> proj.columns(["MS4A1", "LYZ"]).tolist()  # doctest: +SKIP
        [-1, 0]
        """
        if self.gene_names is None:
            raise ValueError("this projection has no gene names (it was fitted by fit_scaled directly); pass a matrix with the fitted genes in order")
        pos: dict[str, int] = {}
        for i, name in enumerate(var_names):
            pos.setdefault(str(name), i)  # the first of duplicated names, as GeneEmbeddings.reindex
        return np.fromiter((pos.get(g, -1) for g in self.gene_names.astype(str)), dtype=np.int64, count=len(self.gene_names))

    def scaled_block(self, block, cols: np.ndarray | None = None) -> np.ndarray:
        """Clipped, scaled log-expression of the used genes for one block of cells (dense float32).

        ``cols`` (from :meth:`columns`) picks the used genes from a block with other genes; genes
        it marks ``-1`` are taken at their mean (a scaled value of 0).
        """
        T = transform_block(block, self.transform)  # library size from every gene of the block
        if cols is None:
            T = T[:, self.genes]
            Z = T.toarray() if sp.issparse(T) else np.array(T, dtype=np.float32)
            Z = np.asarray(Z, dtype=np.float32)
            Z -= self.mean
            Z /= self.std
        else:
            present = cols >= 0
            T = T[:, cols[present]]
            Zp = T.toarray() if sp.issparse(T) else np.array(T, dtype=np.float32)
            Z = np.zeros((block.shape[0], len(cols)), dtype=np.float32)
            Z[:, present] = (np.asarray(Zp, dtype=np.float32) - self.mean[present]) / self.std[present]
        if self.max_value is not None:
            np.clip(Z, -self.max_value, self.max_value, out=Z)
        return Z

    def transform_block(self, block, cols: np.ndarray | None = None) -> np.ndarray:
        """Cell embeddings of one in-memory block; cells with no expression on the used genes get zero rows."""
        if cols is None and block.shape[1] != self.n_genes:
            raise ValueError(f"the block has {block.shape[1]} genes but the projection was fitted on {self.n_genes}")
        Z = self.scaled_block(block, cols)
        Z -= self.center
        Y = np.asarray(Z @ self.weights, dtype=np.float32)
        Y[_empty_rows(block, self.genes if cols is None else cols[cols >= 0])] = 0.0
        return Y

    def transform_matrix(
        self,
        X: Any,
        var_names: Any = None,
        *,
        chunk_size: int = 5_000,
        show_progress: bool | None = None,
        where: str = "adata.X",
    ) -> np.ndarray:
        """Cell embeddings of any matrix (in memory, backed or dask), block by block.

        Without ``var_names``, ``X`` must have the fitted genes in the fitted order. With
        ``var_names``, genes are matched by name: extra genes are ignored and used genes that
        ``X`` lacks are taken at their mean (count them with :meth:`columns`).

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = rng.poisson(1.0, (40, 6)).astype(np.float32)
        >>> E = rng.standard_normal((6, 8)).astype(np.float32)
        >>> proj = fit_scaled(X, E, n_comps=3)
        >>> np.allclose(proj.transform_matrix(X), embed_scaled(X, E, n_comps=3)[0], atol=1e-5)
        True
        """
        cols = None
        if var_names is not None:
            cols = self.columns(var_names)
            if not (cols >= 0).any():
                raise ValueError(
                    f"{where} measures none of the {len(cols)} genes of the GenePT-scaled map (e.g. "
                    f"{', '.join(map(str, self.gene_names[:5]))}); check that gene names use the same convention (symbols)"
                )
        elif X.shape[1] != self.n_genes:
            raise ValueError(f"{where} has {X.shape[1]} genes but the projection was fitted on {self.n_genes}; use the same genes in the same order, or pass var_names")
        X = prepare_matrix(X)
        Y = np.empty((X.shape[0], self.weights.shape[1]), dtype=np.float32)
        for start, stop, block in iter_row_blocks(X, chunk_size, show_progress=show_progress, desc="GenePT-scaled"):
            check_block(block, where=where, start=start)
            Y[start:stop] = self.transform_block(block, cols)
        return Y

    # -- storing ------------------------------------------------------------------------------
    _ARRAYS = ("genes", "mean", "std", "center", "components", "explained_variance", "weights")

    def to_dict(self) -> dict[str, Any]:
        """Arrays and settings for ``adata.uns`` or a file (:meth:`from_dict` reads it back)."""
        out: dict[str, Any] = {name: np.asarray(getattr(self, name)) for name in self._ARRAYS}
        out["gene_names"] = np.asarray([] if self.gene_names is None else self.gene_names, dtype=str)
        out["max_value"] = -1.0 if self.max_value is None else float(self.max_value)
        out["total_variance"] = float(self.total_variance)
        out["transform"] = str(self.transform)
        out["n_genes"] = int(self.n_genes)
        out["meta"] = {str(k): str(v) for k, v in self.meta.items()}
        return out

    @classmethod
    def from_dict(cls, value: Any) -> ScaledProjection:
        """The inverse of :meth:`to_dict`."""
        missing = [k for k in (*cls._ARRAYS, "transform", "n_genes") if k not in value]
        if missing:
            raise ValueError(f"not a stored GenePT-scaled map: missing {missing}")
        names = np.asarray(value.get("gene_names", []), dtype=str)
        max_value = float(value.get("max_value", -1.0))
        return cls(
            **{name: np.asarray(value[name]) for name in cls._ARRAYS},
            max_value=None if max_value < 0 else max_value,
            total_variance=float(value.get("total_variance", 0.0)),
            transform=str(value["transform"]),
            n_genes=int(value["n_genes"]),
            gene_names=names if len(names) else None,
            meta={str(k): str(v) for k, v in dict(value.get("meta", {})).items()},
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the map to ``path`` (``.npz``, no pickles, atomic).

        Examples
        --------
        >>> path = proj.save("pancreas_map.npz")  # doctest: +SKIP
        >>> ScaledProjection.load(path).n_comps  # doctest: +SKIP
        50
        """
        import json

        from genept._utils import atomic_write

        d = self.to_dict()
        meta = json.dumps({k: d.pop(k) for k in ("max_value", "total_variance", "transform", "n_genes", "meta")})
        path = Path(path)
        with atomic_write(path) as fh:
            np.savez_compressed(fh, **d, settings=np.asarray(meta))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> ScaledProjection:
        """Read a map written by :meth:`save`."""
        import json

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"GenePT-scaled map {path} not found; write one with ScaledProjection.save or genept.tl.genept_scaled(..., save_map=...)")
        with np.load(path, allow_pickle=False) as z:
            if "settings" not in z.files:
                raise ValueError(f"{path} is not a GenePT-scaled map written by ScaledProjection.save")
            d = {k: z[k] for k in z.files if k != "settings"}
            d.update(json.loads(str(z["settings"])))
        return cls.from_dict(d)


@dataclass
class ScaledStats:
    """Coverage of a GenePT-scaled run.

    ``fraction_variance_embedded`` is the share of the cells' variance (along the principal axes
    kept) that lies on genes with an embedding: how much of the geometry the gene texts describe.
    """

    n_cells: int
    n_genes: int
    n_genes_embedded: int
    n_hvg: int
    n_hvg_embedded: int
    n_comps: int
    variance_explained: float
    fraction_variance_embedded: float
    n_empty_cells: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "n_cells": self.n_cells,
            "n_genes": self.n_genes,
            "n_genes_embedded": self.n_genes_embedded,
            "n_genes_missing": self.n_genes - self.n_genes_embedded,
            "n_hvg": self.n_hvg,
            "n_hvg_embedded": self.n_hvg_embedded,
            "n_comps": self.n_comps,
            "variance_explained": round(float(self.variance_explained), 6),
            "fraction_variance_embedded": round(float(self.fraction_variance_embedded), 6),
            "n_empty_cells": self.n_empty_cells,
        }

    def __str__(self) -> str:
        text = (
            f"{self.n_hvg_embedded:,} / {self.n_hvg:,} highly variable genes have an embedding "
            f"({100 * self.fraction_variance_embedded:.1f}% of the variance along the {self.n_comps} principal axes, "
            f"which explain {100 * self.variance_explained:.1f}% of the scaled variance)"
        )
        if self.n_empty_cells:
            text += f"; {self.n_empty_cells:,} of {self.n_cells:,} cells have no expression on those genes (zero rows)"
        return text


# -- fitting --------------------------------------------------------------------------------------
def fit_scaled(
    X: Any,
    gene_vectors: np.ndarray,
    *,
    found: np.ndarray | None = None,
    transform: Transform = "log1p_cp10k",
    n_top_genes: int | None = 2000,
    n_comps: int = 50,
    max_value: float | None = None,
    scale: bool = True,
    chunk_size: int = 5_000,
    show_progress: bool | None = None,
    where: str = "adata.X",
) -> ScaledProjection:
    """Learn the GenePT-scaled map of a matrix: HVGs, scaling, principal axes, isometry into text space.

    Parameters
    ----------
    X
        ``(n_cells, n_genes)`` expression, >= 0: numpy, scipy sparse, a backed AnnData's ``X``
        or a dask array, read ``chunk_size`` rows at a time (three passes).
    gene_vectors
        ``(n_genes, dim)`` gene embeddings aligned with the columns, zero rows for genes without
        one (:meth:`genept.GeneEmbeddings.reindex`).
    found
        Which genes have an embedding (default: the non-zero rows of ``gene_vectors``).
    transform
        How expression becomes log-expression: ``"log1p_cp10k"`` (raw counts; default),
        ``"log1p"``, or ``"counts"`` (values used as given, e.g. already log-normalised).
    n_top_genes
        Highly variable genes to keep (scanpy ``seurat`` flavour on ``expm1`` of the
        log-expression); ``None``, or at least the number of genes, keeps every gene.
    n_comps
        Principal axes kept (at most ``dim``, ``n_cells - 1`` and the number of genes used).
    max_value
        Clip scaled values to ``[-max_value, max_value]`` (``sc.pp.scale(max_value=...)``).
        Default ``None``, as ``sc.pp.scale``. On the benchmark sets clipping at 10 (Seurat's
        convention) gave equal or slightly lower k-means ARI / AMI and no better batch mixing, but
        better zero-shot annotation on the two pancreas sets
        (``benchmarks/results/quality_ablation.md``).
    scale
        Scale each gene to unit variance (GenePT-scaled). ``False``: principal axes of the
        centred log-expression, as ``scanpy.tl.ingest`` (used by reference mapping,
        :mod:`genept.cells.mapping`).
    chunk_size, show_progress, where
        Cells per block; progress bars (``None``: on a terminal); matrix name in errors.

    Returns
    -------
    :class:`ScaledProjection`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.poisson(1.0, (50, 30)).astype(np.float32)       # raw counts, 30 genes
    >>> E = rng.standard_normal((30, 8)).astype(np.float32)     # their gene embeddings
    >>> proj = fit_scaled(X, E, n_top_genes=20, n_comps=4)
    >>> proj.weights.shape     # (n_hvg, dim)
    (20, 8)
    """
    E = np.ascontiguousarray(gene_vectors, dtype=np.float32)
    if E.ndim != 2 or E.shape[0] != X.shape[1]:
        raise ValueError(f"X has {X.shape[1]} genes but gene_vectors has shape {E.shape}; align them with GeneEmbeddings.reindex")
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}, not {transform!r}")
    if n_top_genes is not None and n_top_genes < 1:
        raise ValueError(f"n_top_genes must be a positive number of genes or None, not {n_top_genes}")
    if n_comps < 1:
        raise ValueError(f"n_comps must be at least 1, not {n_comps}")
    if max_value is not None and not max_value > 0:
        raise ValueError(f"max_value must be positive or None, not {max_value}")
    found = np.any(E != 0, axis=1) if found is None else np.asarray(found, dtype=bool)
    if found.shape != (E.shape[0],):
        raise ValueError(f"found must be a boolean mask with one entry per gene ({E.shape[0]}), got shape {found.shape}")
    if not found.any():
        raise ValueError("no gene has an embedding; check that the gene names match the embeddings (GeneEmbeddings.reindex)")
    n_cells = int(X.shape[0])
    if n_cells < 2:
        raise ValueError(f"GenePT-scaled needs at least 2 cells to scale expression, got {n_cells}")
    X = prepare_matrix(X)
    blocks = {"chunk_size": chunk_size, "show_progress": show_progress}

    # Pass 1: per-gene moments of the log-expression T and of expm1(T) (for the HVG dispersions).
    s1, s2, e1, e2 = (np.zeros(E.shape[0]) for _ in range(4))
    warned = False
    for start, _, block in iter_row_blocks(X, desc="GenePT-scaled 1/3", **blocks):
        check_block(block, where=where, start=start)
        # log1p / log1p_cp10k expect raw counts: warn (once) on non-integer values.
        warned = warned or warn_if_not_counts(block, transform, where=where, start=start)
        T = transform_block(block, transform)
        for acc, values in ((s1, None), (s2, np.square), (e1, np.expm1), (e2, _expm1_sq)):
            acc += _column_sums(T, values)
    mean = s1 / n_cells
    var = np.maximum(s2 / n_cells - mean**2, 0.0) * (n_cells / (n_cells - 1))
    genes = np.arange(E.shape[0])
    if n_top_genes is not None and n_top_genes < E.shape[0]:
        e_mean = e1 / n_cells
        e_var = np.maximum(e2 / n_cells - e_mean**2, 0.0) * (n_cells / (n_cells - 1))
        genes = np.flatnonzero(seurat_hvg(e_mean, e_var, n_top_genes))
    std = np.sqrt(var[genes]) if scale else np.ones(len(genes))
    std[std == 0] = 1.0
    proj = ScaledProjection(
        genes=genes,
        mean=mean[genes].astype(np.float32),
        std=std.astype(np.float32),
        max_value=None if max_value is None else float(max_value),
        center=np.zeros(len(genes), dtype=np.float32),
        components=np.zeros((0, len(genes)), dtype=np.float32),
        explained_variance=np.zeros(0, dtype=np.float32),
        total_variance=0.0,
        weights=np.zeros((len(genes), E.shape[1]), dtype=np.float32),
        transform=transform,
        n_genes=int(E.shape[0]),
    )

    # Pass 2: covariance of the scaled values, one dense block of HVG columns at a time.
    gram = np.zeros((len(genes), len(genes)))
    zsum = np.zeros(len(genes))
    for _, _, block in iter_row_blocks(X, desc="GenePT-scaled 2/3", **blocks):
        Z = proj.scaled_block(block)
        gram += Z.T @ Z  # float32 product per block, float64 sum over blocks
        zsum += Z.sum(axis=0, dtype=np.float64)
    center = zsum / n_cells
    cov = (gram - n_cells * np.outer(center, center)) / (n_cells - 1)
    k = int(min(n_comps, len(genes), n_cells - 1, E.shape[1]))
    evals, P = _top_eigenpairs(cov, k)  # descending; P is (n_used, k)
    P *= np.where(P[np.abs(P).argmax(axis=0), np.arange(k)] < 0, -1.0, 1.0)  # deterministic signs (cosmetic)

    # The isometry: text vectors of the axes, symmetrically orthonormalised.
    # Gene embeddings as they are: centring them leaves the geometry unchanged but made zero-shot
    # annotation worse on all three benchmark sets (benchmarks/results/quality_ablation.md).
    U = P.T @ np.where(found[genes, None], E[genes], 0.0)
    lam, V = np.linalg.eigh(U @ U.T)
    keep = lam > _RANK_TOL * max(lam.max(), 0.0)
    if not keep.all():
        warnings.warn(
            f"the gene embeddings of the {int(found[genes].sum())} used genes with one span only {int(keep.sum())} of the "
            f"{k} principal axes; the other {int((~keep).sum())} are dropped. Use gene embeddings covering more of the "
            "highly variable genes, or fewer n_comps.",
            UserWarning,
            stacklevel=2,
        )
    V = V[:, keep]
    Q = (V / np.sqrt(lam[keep])) @ V.T @ U  # (k, dim), orthonormal rows on the kept axes
    proj.center = center.astype(np.float32)
    proj.components = np.ascontiguousarray(P.T, dtype=np.float32)
    proj.explained_variance = np.clip(evals, 0.0, None).astype(np.float32)
    proj.total_variance = float(max(np.trace(cov), 0.0))
    proj.weights = np.ascontiguousarray(P @ Q, dtype=np.float32)
    return proj


def embed_scaled(
    X: Any,
    gene_vectors: np.ndarray,
    *,
    found: np.ndarray | None = None,
    transform: Transform = "log1p_cp10k",
    n_top_genes: int | None = 2000,
    n_comps: int = 50,
    max_value: float | None = None,
    chunk_size: int = 5_000,
    show_progress: bool | None = None,
    where: str = "adata.X",
    return_projection: bool = False,
) -> tuple[np.ndarray, ScaledStats] | tuple[np.ndarray, ScaledStats, ScaledProjection]:
    """GenePT-scaled cell embeddings of a whole matrix, in bounded memory, with a coverage report.

    Fits :func:`fit_scaled` on ``X`` and applies it to the same cells. Parameters as in
    :func:`fit_scaled`.

    Returns
    -------
    ``(embeddings, stats)``: a ``(n_cells, dim)`` float32 array in the gene-text space (cells
    with no expression on the genes used get zero rows, never NaN) and :class:`ScaledStats`;
    with ``return_projection=True`` also the fitted :class:`ScaledProjection`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.poisson(1.0, (50, 30)).astype(np.float32)
    >>> E = rng.standard_normal((30, 8)).astype(np.float32)
    >>> Y, stats = embed_scaled(X, E, n_top_genes=20, n_comps=4)
    >>> Y.shape, stats.n_hvg, stats.n_comps
    ((50, 8), 20, 4)
    """
    proj = fit_scaled(
        X, gene_vectors, found=found, transform=transform, n_top_genes=n_top_genes, n_comps=n_comps,
        max_value=max_value, chunk_size=chunk_size, show_progress=show_progress, where=where,
    )  # fmt: skip
    Y = proj.transform_matrix(X, chunk_size=chunk_size, show_progress=show_progress, where=where)
    found = np.any(np.asarray(gene_vectors) != 0, axis=1) if found is None else np.asarray(found, dtype=bool)
    P = proj.components.astype(np.float64)
    on_embedded = (P[:, found[proj.genes]] ** 2).sum(axis=1)  # share of each unit axis on embedded genes
    var_k = proj.explained_variance.astype(np.float64)
    stats = ScaledStats(
        n_cells=int(X.shape[0]),
        n_genes=int(proj.n_genes),
        n_genes_embedded=int(found.sum()),
        n_hvg=len(proj.genes),
        n_hvg_embedded=int(found[proj.genes].sum()),
        n_comps=proj.n_comps,
        variance_explained=float(var_k.sum() / proj.total_variance) if proj.total_variance > 0 else 0.0,
        fraction_variance_embedded=float((var_k * on_embedded).sum() / var_k.sum()) if var_k.sum() > 0 else 0.0,
        n_empty_cells=int(np.count_nonzero(~np.any(Y != 0, axis=1))),
    )
    logger.info("GenePT-scaled: %s", stats)
    return (Y, stats, proj) if return_projection else (Y, stats)


# -- pieces ---------------------------------------------------------------------------------------
def seurat_hvg(mean: np.ndarray, var: np.ndarray, n_top_genes: int, *, n_bins: int = 20) -> np.ndarray:
    """Highly variable genes from per-gene mean and variance, as scanpy's ``flavor="seurat"``.

    ``mean`` and ``var`` (ddof 1) are of the *non-logarithmised* normalised expression
    (``expm1`` of log1p data). Genes are binned by ``log1p(mean)`` into ``n_bins`` equal-width
    bins, log-dispersions are z-scored within each bin, and the genes whose normalised
    dispersion reaches the ``n_top_genes``-th highest are kept (ties at the cut are all kept).

    Examples
    --------
    >>> seurat_hvg(np.array([1.0, 2.0, 3.0]), np.array([1.0, 8.0, 3.0]), 1)
    array([False,  True, False])
    """
    mean = np.array(mean, dtype=np.float64)
    var = np.asarray(var, dtype=np.float64)
    mean[mean == 0] = 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        disp = var / mean
        disp[disp == 0] = np.nan
        disp = np.log(disp)
    df = pd.DataFrame({"mean": np.log1p(mean), "disp": disp})
    df["bin"] = pd.cut(df["mean"], bins=n_bins)
    stats = df.groupby("bin", observed=True)["disp"].agg(avg="mean", dev="std")
    single = stats["dev"].isna()  # one gene in its bin: normalised dispersion 1, as scanpy
    stats.loc[single, "dev"] = stats.loc[single, "avg"]
    stats.loc[single, "avg"] = 0.0
    per_gene = stats.loc[df["bin"]]
    norm = (df["disp"].to_numpy() - per_gene["avg"].to_numpy()) / per_gene["dev"].to_numpy()
    valid = norm[~np.isnan(norm)]
    if valid.size == 0:
        return np.zeros(len(mean), dtype=bool)
    cut = np.sort(valid)[::-1][min(n_top_genes, valid.size) - 1]
    return np.nan_to_num(norm, nan=-np.inf) >= cut


def _top_eigenpairs(cov: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest eigenvalues (descending) and their eigenvectors of a symmetric matrix."""
    n = cov.shape[0]
    if n <= 500 or k >= n - 1:
        evals, evecs = np.linalg.eigh(cov)
        return evals[::-1][:k], evecs[:, ::-1][:, :k]
    from scipy.sparse.linalg import eigsh

    # Lanczos for the top k only: a full eigh of a 2,000 x 2,000 matrix took ~10x longer here.
    # A fixed start vector keeps it deterministic; the result (the span) is exact to rounding.
    evals, evecs = eigsh(cov, k=k, which="LA", v0=np.full(n, 1 / np.sqrt(n)))
    order = np.argsort(evals)[::-1]
    return evals[order], evecs[:, order]


def _expm1_sq(v: np.ndarray) -> np.ndarray:
    return np.square(np.expm1(v))


def _column_sums(T, fn) -> np.ndarray:
    """Per-column sum of ``fn(T)`` in float64 (``fn(0) == 0``, so only stored entries count for sparse)."""
    if sp.issparse(T):
        data = T.data.astype(np.float64)
        return np.bincount(T.indices, weights=data if fn is None else fn(data), minlength=T.shape[1])
    T = np.asarray(T, dtype=np.float64)
    return (T if fn is None else fn(T)).sum(axis=0)


def _empty_rows(block, genes: np.ndarray) -> np.ndarray:
    """Cells with no expression on ``genes``."""
    sub = block[:, genes]
    if sp.issparse(sub):
        return np.asarray((sub != 0).sum(axis=1)).ravel() == 0
    return ~np.any(np.asarray(sub) != 0, axis=1)


__all__ = ["ScaledProjection", "ScaledStats", "embed_scaled", "fit_scaled", "seurat_hvg"]
