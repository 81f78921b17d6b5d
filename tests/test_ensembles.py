"""Ensembles of cell embeddings."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from genept.tl import combine_embeddings


@pytest.fixture
def adata():
    rng = np.random.default_rng(0)
    a = ad.AnnData(obs=pd.DataFrame(index=[f"c{i}" for i in range(40)]))
    a.obsm["X_a"] = rng.normal(size=(40, 16)).astype(np.float32) * 5  # scale must not matter
    a.obsm["X_b"] = rng.normal(size=(40, 16)).astype(np.float32)
    a.obsm["X_c"] = rng.normal(size=(40, 30)).astype(np.float32)
    return a


def _unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_concat_cosine_is_the_weighted_mean_of_cosines(adata):
    combine_embeddings(adata, ["X_a", "X_c"], weights=[3, 1])
    E = adata.obsm["X_genept_ensemble"]
    assert E.shape == (40, 46) and E.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, rtol=1e-5)
    A, C = _unit(adata.obsm["X_a"]), _unit(adata.obsm["X_c"])
    np.testing.assert_allclose(E @ E.T, 0.75 * A @ A.T + 0.25 * C @ C.T, atol=1e-5)
    info = adata.uns["X_genept_ensemble"]["params"]  # uns[key_added]["params"], like every tool
    assert info["keys"] == ["X_a", "X_c"] and np.allclose(info["weights"], [0.75, 0.25])
    assert info["method"] == "concat" and info["n_comps"] == -1


def test_mean_of_one_space(adata):
    out = combine_embeddings(adata, ["X_a", "X_b"], method="mean", key_added="X_mean", copy=True)
    assert "X_mean" not in adata.obsm
    assert out.uns["X_mean"]["params"]["method"] == "mean" and "X_mean" not in adata.uns
    expected = _unit(_unit(adata.obsm["X_a"]) + _unit(adata.obsm["X_b"]))
    np.testing.assert_allclose(out.obsm["X_mean"], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="same dimension"):
        combine_embeddings(adata, ["X_a", "X_c"], method="mean")
    with pytest.raises(ValueError, match="n_comps is for method='concat'"):
        combine_embeddings(adata, ["X_a", "X_b"], method="mean", n_comps=4)


def test_concat_with_pca(adata):
    combine_embeddings(adata, ["X_a", "X_b", "X_c"], n_comps=5)
    E = adata.obsm["X_genept_ensemble"]
    assert E.shape == (40, 15)
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="n_comps must be between 1 and"):
        combine_embeddings(adata, ["X_a", "X_b"], n_comps=100)


def test_zero_rows_stay_zero(adata):
    adata.obsm["X_a"][0] = 0
    adata.obsm["X_b"][0] = 0
    combine_embeddings(adata, ["X_a", "X_b"], method="mean")
    assert not adata.obsm["X_genept_ensemble"][0].any()
    assert np.isfinite(adata.obsm["X_genept_ensemble"]).all()


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"keys": ["X_a"]}, ValueError, "at least two"),
        ({"keys": ["X_a", "X_a"]}, ValueError, "distinct"),
        ({"keys": ["X_a", "X_missing"]}, KeyError, "X_missing"),
        ({"keys": ["X_a", "X_b"], "method": "max"}, ValueError, "'concat' or 'mean'"),
        ({"keys": ["X_a", "X_b"], "weights": [1]}, ValueError, "one weight per key"),
        ({"keys": ["X_a", "X_b"], "weights": [1, -1]}, ValueError, "non-negative"),
        ({"keys": ["X_a", "X_b"], "weights": [0, 0]}, ValueError, "not all zero"),
    ],
)
def test_bad_arguments(adata, kwargs, err, match):
    with pytest.raises(err, match=match):
        combine_embeddings(adata, **kwargs)


def test_nan_is_refused(adata):
    adata.obsm["X_b"][3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        combine_embeddings(adata, ["X_a", "X_b"])
