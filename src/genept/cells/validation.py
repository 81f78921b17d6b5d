"""Input checks for cell embeddings, in one place.

:func:`check_adata` refuses what is not an AnnData; :func:`check_inputs` checks shapes, dtype
and alignment once, before any work; :func:`check_block` checks values block by block while the
matrix is streamed (so backed and dask input is read only once). They raise ``ValueError`` (or
``TypeError``) with what was wrong and what to do.

Some inputs are legal but deserve a word, given as a ``UserWarning``:
:func:`check_var_names` (duplicated gene names), :func:`warn_if_not_counts` (non-integer values
where the weighting transform expects raw counts) and :func:`check_empty_cells` (cells with
nothing to embed; when *every* cell is empty it is an error). :func:`check_gene_overlap` makes
zero overlap between the data's genes and the gene embeddings an error, never an all-zero result,
and :func:`check_output` guarantees that no NaN or inf reaches ``adata.obsm``.

What "expects counts" means
---------------------------
GenePT-w's ``transform="counts"`` (the default) weights genes by the values *as given*: raw
counts, library-size-normalised or log-normalised values are all legitimate inputs, and with L2
rows raw counts equal library-size-normalised counts. ``transform="log1p"`` and
``"log1p_cp10k"`` apply the log (and library-size) normalisation themselves, so they expect raw
counts: on data that is already log-normalised they would take the log twice. Whether values
look like raw counts is decided in one place, :func:`looks_like_counts` (non-negative whole
numbers, not all zero, on the first rows); non-integer values under these transforms raise a warning (fractional counts from
e.g. salmon/alevin are legitimate: the warning says so). GenePT-s only ranks genes within a cell,
which any monotone normalisation leaves unchanged, so it expects no particular scale.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

COUNT_TRANSFORMS: tuple[str, ...] = ("log1p", "log1p_cp10k")
"""GenePT-w transforms that normalise raw counts themselves (see the module docstring)."""


def check_adata(adata: Any, *, what: str = "adata") -> None:
    """Refuse anything that is not an :class:`anndata.AnnData`, with the way to make one.

    Examples
    --------
    >>> import numpy as np
    >>> check_adata(np.ones((2, 3)))
    Traceback (most recent call last):
    ...
    TypeError: adata must be an AnnData (cells x genes), got numpy.ndarray. Wrap the matrix: ...
    """
    import anndata as ad

    if isinstance(adata, ad.AnnData):
        return
    kind = f"{type(adata).__module__.split('.')[0]}.{type(adata).__name__}" if type(adata).__module__ != "builtins" else type(adata).__name__
    if isinstance(adata, str | bytes) or hasattr(adata, "__fspath__"):
        hint = "Load the file first: adata = anndata.read_h5ad(path) (or use the CLI: genept embed-cells IN.h5ad OUT.h5ad)."
    elif isinstance(adata, pd.DataFrame):
        hint = "Wrap the table: anndata.AnnData(df) with cells as rows and gene names as columns."
    elif isinstance(adata, np.ndarray) or sp.issparse(adata):
        hint = "Wrap the matrix: anndata.AnnData(X, var=pandas.DataFrame(index=gene_names)) with cells as rows."
    else:
        hint = "Build one with anndata.AnnData(X, var=pandas.DataFrame(index=gene_names))."
    raise TypeError(f"{what} must be an AnnData (cells x genes), got {kind}. {hint}")


def check_inputs(
    X: Any,
    var_names: Any,
    *,
    n_obs: int | None = None,
    gene_vectors: np.ndarray | None = None,
    where: str = "adata.X",
) -> None:
    """Check that the expression matrix is non-empty, 2-d and aligned with its genes (and embeddings).

    Examples
    --------
    >>> import numpy as np
    >>> check_inputs(np.ones((2, 3)), ["A", "B", "C"])
    """
    shape = tuple(getattr(X, "shape", ()))
    if len(shape) != 2:
        raise ValueError(f"{where} must be a 2-d cells x genes matrix, got shape {shape}")
    n_cells, n_genes = (int(s) for s in shape)
    if n_cells == 0 or n_genes == 0:
        raise ValueError(
            f"{where} is empty ({n_cells} cells x {n_genes} genes); nothing to embed. "
            "Check the filtering that produced it (or the layer= / use_raw= choice)."
        )
    dtype = getattr(X, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind not in "biuf":
        raise ValueError(
            f"{where} has dtype {np.dtype(dtype)}; expression must be numbers. "
            "Convert it first, e.g. adata.X = adata.X.astype('float32')."
        )
    if len(var_names) != n_genes:
        raise ValueError(f"{where} has {n_genes} genes but {len(var_names)} gene names are given; they must match")
    if n_obs is not None and n_obs != n_cells:
        raise ValueError(f"{where} has {n_cells} rows but the AnnData has {n_obs} cells")
    if gene_vectors is not None:
        if gene_vectors.ndim != 2 or gene_vectors.shape[0] != n_genes:
            raise ValueError(
                f"gene embeddings have shape {gene_vectors.shape}; expected ({n_genes}, dim), one row per gene of {where}. "
                "Align them with GeneEmbeddings.reindex(var_names)."
            )
        if gene_vectors.shape[1] == 0:
            raise ValueError("gene embeddings have dimension 0")


def check_block(block: Any, *, where: str = "adata.X", start: int = 0) -> None:
    """Check the values of one block of cells: finite and non-negative.

    GenePT weights (GenePT-w) and ranks (GenePT-s) genes by their expression, so values must be
    counts or normalised expression (>= 0). Negative values usually mean scaled data
    (``sc.pp.scale``); NaN or inf mean a broken matrix.

    Examples
    --------
    >>> import numpy as np
    >>> check_block(np.array([[0.0, 1.5]]))
    """
    data = block.data if sp.issparse(block) else np.asarray(block)
    if data.size == 0:
        return
    if data.dtype.kind == "f" and not np.isfinite(data).all():
        row = _first_bad_row(block, lambda v: ~np.isfinite(v)) + start
        raise ValueError(
            f"{where} contains NaN or inf values (first in cell {row}); GenePT cannot weight or rank them. "
            "Fix or remove those cells (or pass another layer= with clean values)."
        )
    if data.dtype.kind in "fi" and data.min() < 0:
        row = _first_bad_row(block, lambda v: v < 0) + start
        raise ValueError(
            f"{where} has negative values (min {float(data.min()):.3g}, first in cell {row}); GenePT needs expression >= 0. "
            "This looks like scaled data (sc.pp.scale): pass counts or log-normalised values via layer=... "
            "or use_raw=True."
        )


def check_var_names(var_names: Sequence[Any], *, where: str = "adata.X") -> int:
    """Refuse positional gene names; warn about duplicated ones and return how many are repeats.

    Names ``"0", "1", ..., "n-1"`` are a lost index, not genes: read as Entrez ids they would
    silently match unrelated genes, so they are an error. Duplicates are kept (the user's object
    is never changed): each column is used as it is, so in GenePT-w all columns of one name get
    the same gene embedding and their expression adds up, and in GenePT-s the name can appear
    twice in a sentence.

    Examples
    --------
    >>> check_var_names(["CD3E", "CD3D", "MS4A1"])
    0
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     check_var_names(["CD3E", "CD3E", "MS4A1"])
    1
    >>> check_var_names(["0", "1", "2"])
    Traceback (most recent call last):
    ...
    ValueError: the gene names of adata.X are 0, 1, ..., 2: a positional index, not gene ids ...
    """
    index = pd.Index([str(v) for v in var_names])
    if len(index) > 1 and index.equals(pd.Index([str(i) for i in range(len(index))])):
        raise ValueError(
            f"the gene names of {where} are 0, 1, ..., {len(index) - 1}: a positional index, not gene ids (read as "
            "Entrez ids they would match unrelated genes). Set adata.var_names to gene symbols or Ensembl ids, "
            "e.g. adata.var_names = adata.var['gene_symbols']."
        )
    if not index.has_duplicates:
        return 0
    repeated = index[index.duplicated()]
    examples = list(dict.fromkeys(repeated))[:5]
    warnings.warn(
        f"{where} has {len(repeated):,} duplicated gene names (e.g. {examples}). Each column is used as it is: "
        "GenePT-w gives columns of one name the same gene embedding (their expression adds up) and GenePT-s may "
        "name the gene twice in a sentence. To count each gene once, sum the duplicated columns (or keep one) first.",
        UserWarning,
        stacklevel=4,
    )
    return len(repeated)


def check_gene_overlap(found: np.ndarray, var_names: Sequence[Any], embedded: Sequence[Any], *, where: str = "adata.X") -> None:
    """Refuse data none of whose genes has a gene embedding (every cell would be a zero row).

    Examples
    --------
    >>> import numpy as np
    >>> check_gene_overlap(np.array([True, False]), ["CD3E", "XYZ1"], ["CD3E"])
    >>> check_gene_overlap(np.array([False]), ["0610005C13Rik"], ["CD3E"])
    Traceback (most recent call last):
    ...
    ValueError: none of the 1 genes of adata.X matches a gene embedding ...
    """
    if np.asarray(found, dtype=bool).any():
        return
    ours = [str(v) for v in list(var_names)[:3]]
    theirs = [str(g) for g in list(embedded)[:3]]
    raise ValueError(
        f"none of the {len(var_names):,} genes of {where} matches a gene embedding (gene names look like {ours}; "
        f"the embeddings have genes like {theirs}), so every cell would be an all-zero row. Put gene symbols or "
        "Ensembl/Entrez ids in var_names (e.g. adata.var_names = adata.var['gene_symbols']), pass species='mouse' "
        "for mouse data, or use gene embeddings that cover these genes."
    )


COUNTS_SAMPLE_ROWS = 500
"""Rows (cells) read from the top of a matrix by :func:`looks_like_counts` by default."""


def looks_like_counts(X: Any, *, sample: int | None = COUNTS_SAMPLE_ROWS) -> bool:
    """Whether ``X`` looks like raw counts: the one rule genept uses everywhere.

    The rule: the stored values of the first ``sample`` cells (rows; ``None`` reads every row)
    are all finite, non-negative whole numbers, and at least one of them is positive. Only
    the stored values are read (``.data`` of a sparse matrix), and only the first rows, so the
    check is cheap on a large, backed (on-disk) or dask matrix. An integer dtype with no negative
    value passes without a scan for fractions. An empty or all-zero sample is *not* counts:
    there is no evidence either way, and callers that warn on "not counts" must test for that
    themselves (:func:`warn_if_not_counts` does).

    Log-normalised values are fractional, scaled values are negative, so both fail; fractional
    counts (salmon/alevin) fail too, which is why callers only *warn* on the answer.

    Parameters
    ----------
    X
        Cells x genes matrix: numpy, scipy sparse, an h5py/anndata backed matrix or a dask array
        (anything that slices with ``X[:n]``).
    sample
        How many leading rows to read; ``None`` for all.

    Returns
    -------
    bool
        ``True`` when the sample consists of non-negative integers (not all zero).

    Examples
    --------
    >>> import numpy as np
    >>> looks_like_counts(np.array([[0, 3], [1, 0]]))
    True
    >>> looks_like_counts(np.log1p(np.array([[0.0, 3.0], [1.0, 0.0]])))
    False
    >>> looks_like_counts(np.array([[0.0, -1.0]]))
    False
    >>> looks_like_counts(np.zeros((2, 2)))
    False
    """
    if not hasattr(X, "shape"):  # nested lists
        X = np.asarray(X)
    if len(X.shape) == 0 or isinstance(X, np.ndarray | np.generic) and X.ndim < 2:
        block = X
    else:
        n_rows = int(X.shape[0])
        block = X[: n_rows if sample is None else min(n_rows, int(sample))]  # backed matrices read only these rows
    data = block.data if sp.issparse(block) else block
    if hasattr(data, "compute"):  # dask
        data = data.compute()
        data = data.data if sp.issparse(data) else data
    data = np.asarray(data).ravel()
    if data.size == 0 or data.dtype.kind not in "biuf":
        return False
    if data.dtype.kind == "b":
        return bool(data.any())
    if data.min() < 0 or not data.max() > 0:
        return False
    if data.dtype.kind in "ui":
        return True
    return bool(np.isfinite(data).all() and (data == np.floor(data)).all())


def warn_if_not_counts(block: Any, transform: str, *, where: str = "adata.X", start: int = 0) -> bool:
    """Warn when ``transform`` expects raw counts but ``block`` fails :func:`looks_like_counts`.

    Returns ``True`` when it warned (callers stop checking further blocks), else ``False``.
    A block with no positive value says nothing either way and never warns; negative and
    non-finite values are :func:`check_block`'s job. See the module docstring for what
    "expects counts" means.

    Examples
    --------
    >>> import numpy as np, warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_not_counts(np.array([[0.5, 2.0]]), "log1p")
    True
    >>> warn_if_not_counts(np.array([[1.0, 2.0]]), "log1p")
    False
    """
    if transform not in COUNT_TRANSFORMS:
        return False
    data = block.data if sp.issparse(block) else np.asarray(block)
    if data.size == 0 or data.dtype.kind != "f" or not (data > 0).any():
        return False
    if looks_like_counts(block, sample=None):
        return False
    fractional = data != np.floor(data)
    if not fractional.any():
        return False
    example = float(data[fractional][0])
    row = _first_bad_row(block, lambda v: v != np.floor(v)) + start
    warnings.warn(
        f"{where} has non-integer values (e.g. {example:.4g} in cell {row}), so it does not look like raw counts, "
        f"but transform={transform!r} normalises and log-transforms counts itself: on log-normalised data it would "
        "take the log twice. Pass transform='counts' to weight by the values as given (right for normalised data), "
        "or point layer= at the raw counts. Fractional counts (e.g. from salmon/alevin) are fine: ignore this warning.",
        UserWarning,
        stacklevel=4,
    )
    return True


def check_empty_cells(
    empty: np.ndarray,
    obs_names: Sequence[Any],
    *,
    where: str = "adata.X",
    why: str = "no expression on a gene with an embedding",
    hint: str = "",
) -> None:
    """All cells empty: ``ValueError``. Some: a warning naming the first (they get zero rows).

    Examples
    --------
    >>> import numpy as np
    >>> check_empty_cells(np.array([False, False]), ["c1", "c2"])
    >>> check_empty_cells(np.array([True, True]), ["c1", "c2"])
    Traceback (most recent call last):
    ...
    ValueError: every one of the 2 cells of adata.X has no expression on a gene with an embedding, ...
    """
    empty = np.asarray(empty, dtype=bool)
    n_empty, n = int(empty.sum()), int(empty.size)
    if n_empty == 0:
        return
    if n_empty == n:
        raise ValueError(
            f"every one of the {n:,} cells of {where} has {why}, so every row would be zero. Check that {where} holds "
            f"the expression (not an all-zero matrix; see layer= / use_raw=){hint}."
        )
    first = str(obs_names[int(np.flatnonzero(empty)[0])])
    warnings.warn(
        f"{n_empty:,} of {n:,} cells of {where} have {why} (first: {first!r}); they get all-zero rows (never NaN) "
        "and are counted in coverage['n_empty_cells']. Filter them out first (e.g. sc.pp.filter_cells(adata, "
        "min_counts=1)) if they should not be there.",
        UserWarning,
        stacklevel=4,
    )


def check_output(Y: np.ndarray, obs_names: Sequence[Any], *, what: str = "cell embeddings") -> None:
    """Guarantee no NaN or inf leaves genept: raise before anything is written to the AnnData.

    Examples
    --------
    >>> import numpy as np
    >>> check_output(np.ones((2, 3)), ["c1", "c2"])
    >>> check_output(np.array([[1.0], [np.nan]]), ["c1", "c2"])
    Traceback (most recent call last):
    ...
    RuntimeError: cell embeddings came out with NaN or inf in 1 rows (first: cell 'c2'); ...
    """
    finite = np.isfinite(Y).all(axis=1)
    if finite.all():
        return
    bad = np.flatnonzero(~finite)
    raise RuntimeError(
        f"{what} came out with NaN or inf in {len(bad):,} rows (first: cell {str(obs_names[int(bad[0])])!r}); "
        "nothing was written to adata. The input passed the checks, so the encoder or gene embeddings are at "
        "fault: check them (GeneEmbeddings refuse NaN; an API encoder may have answered garbage)."
    )


def _first_bad_row(block: Any, bad) -> int:
    if sp.issparse(block):
        csr = sp.csr_matrix(block)
        pos = int(np.flatnonzero(bad(csr.data))[0])
        return int(np.searchsorted(csr.indptr, pos, side="right") - 1)
    return int(np.flatnonzero(bad(np.asarray(block)).any(axis=1))[0])


__all__ = [
    "COUNT_TRANSFORMS",
    "check_adata",
    "check_block",
    "check_empty_cells",
    "check_gene_overlap",
    "check_inputs",
    "check_output",
    "check_var_names",
    "COUNTS_SAMPLE_ROWS",
    "looks_like_counts",
    "warn_if_not_counts",
]
