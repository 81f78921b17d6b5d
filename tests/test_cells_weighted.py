"""GenePT-w: every input kind against a brute-force reference, coverage, empty cells, validation."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

from genept.cells.validation import check_block, check_inputs
from genept.cells.weighted import WeightedStats, embed_weighted, weighted_embedding

N_CELLS, N_GENES, DIM = 53, 24, 8


def brute_force(counts: np.ndarray, E: np.ndarray, transform: str, normalize: str) -> np.ndarray:
    """Cell by cell, gene by gene, in float64."""
    out = np.zeros((counts.shape[0], E.shape[1]))
    for i, row in enumerate(counts.astype(np.float64)):
        if transform == "log1p_cp10k":
            row = row * (1e4 / row.sum()) if row.sum() > 0 else row
        if transform != "counts":
            row = np.log1p(row)
        for g, w in enumerate(row):
            out[i] += w * E[g]
        if normalize == "l2" and np.linalg.norm(out[i]) > 0:
            out[i] /= np.linalg.norm(out[i])
        elif normalize == "n_genes":
            out[i] /= counts.shape[1]
    return out


@pytest.fixture
def data(rng):
    counts = rng.poisson(0.8, size=(N_CELLS, N_GENES)).astype(np.float32)
    counts[5] = 0  # a cell with no expression at all
    counts[9] = 0
    counts[9, :3] = 4  # a cell expressing only genes without an embedding
    E = rng.normal(size=(N_GENES, DIM)).astype(np.float32)
    E[:3] = 0  # three genes without an embedding
    found = np.ones(N_GENES, dtype=bool)
    found[:3] = False
    return counts, E, found


def _as(kind: str, counts: np.ndarray, tmp_path):
    if kind == "dense":
        return counts
    if kind == "csr":
        return sp.csr_matrix(counts)
    if kind == "csc":
        return sp.csc_matrix(counts)
    if kind in ("backed_csr", "backed_dense"):
        X = sp.csr_matrix(counts) if kind == "backed_csr" else counts
        path = tmp_path / f"{kind}.h5ad"
        ad.AnnData(X=X).write_h5ad(path)
        return ad.read_h5ad(path, backed="r").X
    da = pytest.importorskip("dask.array")
    if kind == "lazy_h5ad":  # what anndata.experimental.read_elem_lazy gives for a file on disk
        import h5py
        from anndata.experimental import read_elem_lazy

        path = tmp_path / "lazy.h5ad"
        ad.AnnData(X=sp.csr_matrix(counts)).write_h5ad(path)
        return read_elem_lazy(h5py.File(path, "r")["X"], chunks=(13, -1))
    if kind == "dask_csr":
        return da.from_array(sp.csr_matrix(counts), chunks=(10, 7))  # chunks across genes too
    if kind == "dask_dense":
        return da.from_array(counts, chunks=(16, N_GENES))
    raise AssertionError(kind)


KINDS = ["dense", "csr", "csc", "backed_csr", "backed_dense", "lazy_h5ad", "dask_csr", "dask_dense"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("transform", ["counts", "log1p", "log1p_cp10k"])
def test_every_input_kind_matches_brute_force(kind, transform, data, tmp_path):
    counts, E, found = data
    X = _as(kind, counts, tmp_path)
    Y, stats = embed_weighted(X, E, found=found, transform=transform, chunk_size=11)
    ref = brute_force(counts, E, transform, "l2")
    assert Y.dtype == np.float32 and Y.shape == (N_CELLS, DIM)
    np.testing.assert_allclose(Y, ref, atol=2e-6)
    assert stats.n_empty_cells == 2


@pytest.mark.parametrize("normalize", ["l2", "n_genes", "none"])
def test_normalisations(normalize, data):
    counts, E, _ = data
    Y = weighted_embedding(sp.csr_matrix(counts), E, transform="log1p", normalize=normalize)
    np.testing.assert_allclose(Y, brute_force(counts, E, "log1p", normalize), rtol=1e-5, atol=1e-6)
    if normalize == "l2":
        norms = np.linalg.norm(Y, axis=1)
        np.testing.assert_allclose(norms[norms > 0], 1.0, rtol=1e-5)


def test_in_memory_kernel_is_the_reference_for_the_chunked_driver(data):
    counts, E, found = data
    X = sp.csr_matrix(counts)
    for chunk in (1, 7, 1000):
        Y, _ = embed_weighted(X, E, found=found, chunk_size=chunk)
        # sparse blocks run through the fused numba kernel: equal to float32 rounding
        np.testing.assert_allclose(Y, weighted_embedding(X, E), rtol=1e-5, atol=1e-6)


def test_coverage_counts_genes_and_expression_lost(data):
    counts, E, found = data
    _, stats = embed_weighted(sp.csr_matrix(counts), E, found=found)
    assert isinstance(stats, WeightedStats)
    assert (stats.n_cells, stats.n_genes, stats.n_genes_embedded) == (N_CELLS, N_GENES, N_GENES - 3)
    expected = counts[:, :3].sum() / counts.sum()
    assert stats.fraction_expression_lost == pytest.approx(expected, rel=1e-6)
    d = stats.to_dict()
    assert d["n_genes_missing"] == 3 and d["n_empty_cells"] == 2
    assert "3 without one carry" in str(stats) and "2 of 53 cells" in str(stats)


def test_found_defaults_to_nonzero_rows(data):
    counts, E, _ = data
    _, stats = embed_weighted(counts, E)
    assert stats.n_genes_embedded == N_GENES - 3


def test_empty_cells_get_zero_rows_never_nan(data):
    counts, E, found = data
    for transform in ("counts", "log1p", "log1p_cp10k"):
        for normalize in ("l2", "n_genes", "none"):
            Y, _ = embed_weighted(sp.csr_matrix(counts), E, found=found, transform=transform, normalize=normalize)
            assert np.isfinite(Y).all()
            assert not Y[5].any() and not Y[9].any()


def test_sparse_input_is_never_densified(data, monkeypatch):
    counts, E, found = data

    def refuse(*args, **kwargs):
        raise AssertionError("a sparse matrix was densified")

    for cls in (sp.csr_matrix, sp.csc_matrix):
        monkeypatch.setattr(cls, "toarray", refuse)
        monkeypatch.setattr(cls, "todense", refuse)
    Y, _ = embed_weighted(sp.csr_matrix(counts), E, found=found, transform="log1p_cp10k", chunk_size=10)
    assert np.isfinite(Y).all()


def test_input_matrix_is_not_modified(data):
    counts, E, found = data
    X = sp.csr_matrix(counts)
    before = X.data.copy()
    embed_weighted(X, E, found=found, transform="log1p_cp10k")
    np.testing.assert_array_equal(X.data, before)


def test_integer_counts_are_accepted(data):
    counts, E, found = data
    Y, _ = embed_weighted(sp.csr_matrix(counts.astype(np.int32)), E, found=found)
    np.testing.assert_allclose(Y, brute_force(counts, E, "counts", "l2"), atol=2e-6)


def test_dask_result_is_computed_with_the_active_scheduler(data):
    dask = pytest.importorskip("dask")
    counts, E, found = data
    X = _as("dask_csr", counts, None)
    with dask.config.set(scheduler="synchronous"):
        Y, stats = embed_weighted(X, E, found=found)
    np.testing.assert_allclose(Y, brute_force(counts, E, "counts", "l2"), atol=2e-6)
    assert stats.n_genes_embedded == N_GENES - 3


@pytest.mark.parametrize(
    "bad, message",
    [(np.nan, "NaN or inf"), (np.inf, "NaN or inf"), (-1.0, "negative values")],
)
@pytest.mark.parametrize("kind", ["dense", "csr", "dask_csr"])
def test_bad_values_are_refused_with_the_cell(bad, message, kind, data):
    counts, E, found = data
    counts = counts.copy()
    counts[17, 4] = bad
    with pytest.raises(ValueError, match=message) as err:
        embed_weighted(_as(kind, counts, None), E, found=found, chunk_size=5)
    if kind != "dask_csr":
        assert "cell 17" in str(err.value)


def test_misaligned_inputs_are_refused(data):
    counts, E, _ = data
    with pytest.raises(ValueError, match="align"):
        embed_weighted(counts, E[:-1])
    with pytest.raises(ValueError, match="transform"):
        embed_weighted(counts, E, transform="sqrt")
    with pytest.raises(ValueError, match="normalize"):
        embed_weighted(counts, E, normalize="l1")
    with pytest.raises(ValueError, match="found"):
        embed_weighted(counts, E, found=np.ones(3, dtype=bool))


def test_check_inputs_messages():
    with pytest.raises(ValueError, match="empty"):
        check_inputs(np.zeros((0, 3)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="gene names"):
        check_inputs(np.zeros((2, 3)), ["a", "b"])
    with pytest.raises(ValueError, match="2 rows but the AnnData has 5"):
        check_inputs(np.zeros((2, 3)), ["a", "b", "c"], n_obs=5)
    with pytest.raises(ValueError, match="reindex"):
        check_inputs(np.zeros((2, 3)), ["a", "b", "c"], gene_vectors=np.zeros((4, 2)))
    check_block(sp.csr_matrix((3, 3)))  # no stored values: fine


def test_backed_csc_is_loaded_with_a_warning(data, tmp_path):
    counts, E, found = data
    path = tmp_path / "csc.h5ad"
    ad.AnnData(X=sp.csc_matrix(counts)).write_h5ad(path)
    X = ad.read_h5ad(path, backed="r").X
    with pytest.warns(UserWarning, match="CSC"):
        Y, _ = embed_weighted(X, E, found=found, chunk_size=10)
    np.testing.assert_allclose(Y, brute_force(counts, E, "counts", "l2"), atol=2e-6)
