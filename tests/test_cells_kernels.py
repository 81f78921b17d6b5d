"""The fused numba GenePT-w kernel equals the scipy reference for every option."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from genept.cells.kernels import fused_weighted_embedding
from genept.cells.weighted import embed_block, weighted_embedding


@pytest.fixture(scope="module")
def block():
    rng = np.random.default_rng(1)
    X = sp.random(200, 300, density=0.08, format="csr", dtype=np.float32, random_state=1)
    X.data = np.ceil(X.data * 20)
    X = sp.vstack([X, sp.csr_matrix((2, 300), dtype=np.float32)]).tocsr()  # two empty cells
    E = rng.standard_normal((300, 48)).astype(np.float32)
    E[:5] = 0  # genes without an embedding
    return X, E


@pytest.mark.parametrize("transform", ["counts", "log1p", "log1p_cp10k"])
@pytest.mark.parametrize("normalize", ["l2", "n_genes", "none"])
def test_kernel_matches_reference(block, transform, normalize):
    X, E = block
    got = fused_weighted_embedding(X, E, transform, normalize)
    want = weighted_embedding(X, E, transform=transform, normalize=normalize)
    assert got.dtype == np.float32
    # float32 sums in another order: agree to rounding relative to the output's scale
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * np.abs(want).max())
    assert not np.isnan(got).any()
    np.testing.assert_array_equal(got[-2:], 0)


def test_kernel_accepts_int64_indices_and_float64_data(block):
    X, E = block
    X64 = sp.csr_matrix((X.data.astype(np.float64), X.indices.astype(np.int64), X.indptr.astype(np.int64)), shape=X.shape)
    np.testing.assert_allclose(fused_weighted_embedding(X64, E), weighted_embedding(X, E), rtol=1e-5, atol=1e-6)


def test_embed_block_routes_dense_to_reference(block):
    X, E = block
    dense = X.toarray()
    np.testing.assert_array_equal(embed_block(dense, E), weighted_embedding(dense, E))
    np.testing.assert_allclose(embed_block(X, E), weighted_embedding(dense, E), rtol=1e-5, atol=1e-6)


def test_embed_weighted_streams_into_out(tmp_path, block):
    import anndata as ad
    import h5py

    from genept.cells.weighted import embed_weighted

    X, E = block
    path = tmp_path / "cells.h5ad"
    ad.AnnData(X=X).write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    want, _ = embed_weighted(X, E)
    with h5py.File(tmp_path / "out.h5", "w") as f:
        ds = f.create_dataset("Y", shape=(X.shape[0], E.shape[1]), dtype="float32")
        got, stats = embed_weighted(backed.X, E, out=ds, chunk_size=37)
        assert got is ds and stats.n_cells == X.shape[0]
        np.testing.assert_allclose(ds[:], want, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="out has shape"):
        embed_weighted(X, E, out=np.zeros((3, 3), np.float32))
    backed.file.close()


@pytest.mark.parametrize("top_k", [None, 1, 7, 40, 10_000])
def test_rank_rows_matches_dense_stable_argsort(top_k):
    from genept.cells.kernels import rank_rows
    from genept.cells.sentences import rank_row

    X = sp.random(120, 90, density=0.3, format="csr", dtype=np.float32, random_state=5)
    X.data = np.ceil(X.data * 3)  # many ties
    X.data[::17] = 0  # explicit zeros are dropped
    X = sp.vstack([X, sp.csr_matrix((1, 90), dtype=np.float32)]).tocsr()
    got = rank_rows(X, top_k)
    dense = X.toarray()
    for i, row in enumerate(dense):
        order = np.argsort(-row, kind="stable")
        want = order[row[order] > 0][:top_k]
        np.testing.assert_array_equal(got[i], want)
        np.testing.assert_array_equal(rank_row(X.data[X.indptr[i] : X.indptr[i + 1]], X.indices[X.indptr[i] : X.indptr[i + 1]], top_k), want)


def test_rank_rows_unsorted_indices_and_exact_float64():
    from genept.cells.kernels import rank_rows

    # unsorted column indices within a row; ties must still break by column
    X = sp.csr_matrix((np.array([2.0, 5.0, 2.0], np.float32), np.array([7, 3, 1]), np.array([0, 3])), shape=(1, 9))
    np.testing.assert_array_equal(rank_rows(X, None)[0], [3, 1, 7])
    # float64 values that float32 would merge keep their exact order
    a = 1.0 + 1e-12
    Y = sp.csr_matrix(np.array([[1.0, a, 0.5]]))
    np.testing.assert_array_equal(rank_rows(Y, 2)[0], [1, 0])


def test_rank_rows_both_orderings_agree_with_reference():
    """Small integer counts take the counting sort, large or fractional values the key sort."""
    from genept.cells.kernels import rank_rows

    rng = np.random.default_rng(7)
    dense = rng.poisson(0.8, size=(50, 60)).astype(np.float32)
    dense[:10] *= 1000  # large integers: key sort
    dense[10:20] /= 7  # fractional values: key sort
    X = sp.csr_matrix(dense)
    for i, row in enumerate(dense):
        order = np.argsort(-row, kind="stable")
        np.testing.assert_array_equal(rank_rows(X, 25)[i], order[row[order] > 0][:25])
