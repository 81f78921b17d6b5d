"""Gene-set scores in cells, on a matrix: scanpy's ``score_genes`` for many sets at once.

The AnnData tools built on these functions are :func:`genept.tl.score_programs` and
:func:`genept.tl.zero_shot_annotate` (``method="genes"``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from genept.cells.validation import looks_like_counts

logger = logging.getLogger(__name__)


def scoring_matrix(X: Any, counts: Literal["warn", "normalize"] = "warn") -> tuple[Any, bool]:
    """The matrix to score genes on, log-normalised first when asked and ``X`` holds raw counts.

    Parameters
    ----------
    X
        Cells x genes expression.
    counts
        ``"warn"``: return ``X`` as it is (:func:`score_gene_sets` warns when it looks like raw
        counts). ``"normalize"``: when ``X`` looks like raw counts
        (:func:`genept.cells.validation.looks_like_counts`), return ``log1p`` of counts per
        10,000 (``scanpy.pp.normalize_total`` then ``log1p``), computed on a copy.

    Returns
    -------
    tuple
        ``(matrix, normalized)``: the matrix and whether it was normalised here.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 3.0], [2.0, 2.0]], dtype=np.float32)
    >>> Y, normalized = scoring_matrix(X, counts="normalize")
    >>> normalized, Y[0].astype(float).round(3).tolist()
    (True, [7.824, 8.923])
    >>> scoring_matrix(Y, counts="normalize")[1]
    False
    """
    if counts not in ("warn", "normalize"):
        raise ValueError(f"counts must be 'warn' or 'normalize', not {counts!r}")
    if counts == "warn" or not looks_like_counts(X):
        return X, False
    import anndata as ad
    import scanpy as sc

    tmp = ad.AnnData(X=X.copy() if hasattr(X, "copy") else np.array(X))
    sc.pp.normalize_total(tmp, target_sum=1e4)
    sc.pp.log1p(tmp)
    logger.info("the expression looks like raw counts: scored on log1p(counts per 10,000)")
    return tmp.X, True


def score_gene_sets(
    obs_names: Sequence[str],
    var_names: Sequence[str],
    X,
    gene_sets: Mapping[str, Sequence[str]],
    *,
    ctrl_size: int = 50,
    n_bins: int = 25,
    random_state: int = 0,
) -> pd.DataFrame:
    """``scanpy.tl.score_genes`` of each gene set on matrix ``X`` -> cells x sets float32 DataFrame.

    A set's score is the mean expression of its genes minus the mean of a reference set of genes
    with similar average expression (``ctrl_size`` per expression bin, ``n_bins`` bins), as in
    Satija et al. 2015. Genes missing from ``var_names`` are skipped (logged); a set with none
    left scores NaN (warned). Warns when ``X`` looks like raw counts
    (:func:`genept.cells.validation.looks_like_counts`): score_genes expects log-normalised
    expression; :func:`scoring_matrix` makes it.

    Parameters
    ----------
    obs_names, var_names
        Cell and gene names of ``X``.
    X
        Cells x genes expression (dense or sparse), log-normalised.
    gene_sets
        Set name -> genes (names of ``var_names``).
    ctrl_size, n_bins, random_state
        Passed to ``scanpy.tl.score_genes``.

    Returns
    -------
    pandas.DataFrame
        Cells x sets, float32, indexed by ``obs_names``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.log1p(rng.poisson(1.0, size=(20, 40)).astype(np.float32))
    >>> X[:10, :5] += 2.0  # the first ten cells express G0..G4 highly
    >>> genes = [f"G{i}" for i in range(40)]
    >>> scores = score_gene_sets([f"c{i}" for i in range(20)], genes, X, {"up": genes[:5]}, ctrl_size=10, n_bins=5)
    >>> bool(scores["up"][:10].mean() > scores["up"][10:].mean() + 1.5)
    True
    """
    import anndata as ad
    import scanpy as sc

    if looks_like_counts(X):
        warnings.warn(
            "the expression looks like raw counts; score_genes expects log-normalised data "
            "(sc.pp.normalize_total + sc.pp.log1p, or pass layer=)",
            UserWarning,
            stacklevel=3,
        )
    # A light AnnData over the same matrix, so scanpy writes nowhere in the user's object.
    view = ad.AnnData(X=X, obs=pd.DataFrame(index=pd.Index(obs_names).astype(str)), var=pd.DataFrame(index=pd.Index(var_names).astype(str)))
    scores = pd.DataFrame(index=view.obs_names)
    for name, genes in gene_sets.items():
        present = [g for g in genes if g in view.var_names]
        if len(present) < len(genes):
            logger.warning("gene set %s: %d of %d genes are not in adata and are skipped", name, len(genes) - len(present), len(genes))
        if not present:
            warnings.warn(f"gene set {name}: none of its genes is in adata; its score is NaN", UserWarning, stacklevel=3)
            scores[name] = np.float32(np.nan)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            try:
                sc.tl.score_genes(
                    view, present, ctrl_size=ctrl_size, n_bins=n_bins, score_name="_score",
                    random_state=random_state, use_raw=False,
                )  # fmt: skip
            except (ValueError, RuntimeError) as err:
                raise ValueError(
                    f"gene set {name}: scanpy.tl.score_genes failed ({err}): too few genes outside the set "
                    f"({view.n_vars} genes in all) to draw reference genes from. Score a matrix with more genes, "
                    f"or lower n_bins (now {n_bins})."
                ) from err
        scores[name] = view.obs["_score"].to_numpy(dtype=np.float32)
    return scores.astype(np.float32)


__all__ = ["score_gene_sets", "scoring_matrix"]
