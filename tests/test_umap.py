"""UMAP: ``tl.umap`` computes and stores coordinates (+ params), ``pl.umap`` only draws them."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import genept


@pytest.fixture
def fake_scanpy_umap(monkeypatch):
    """scanpy's neighbours + UMAP spend ~45 s CPU compiling numba code on first use; these stand-ins
    write where the real ones write, so they still catch any write into the user's object."""
    import scanpy as sc

    calls = {}

    def neighbors(a, n_neighbors=15, *, use_rep=None, metric="euclidean", random_state=0, **kw):
        calls["neighbors"] = (use_rep, metric, n_neighbors, random_state)
        a.obsp["connectivities"] = sp.identity(a.n_obs, format="csr")
        a.uns["neighbors"] = {"params": {"metric": metric}}

    def umap(a, min_dist=0.5, random_state=0, **kw):
        calls["umap"] = (min_dist, random_state)
        a.obsm["X_umap"] = np.asarray(a.obsm["X_rep"][:, :2]) + 1.0

    monkeypatch.setattr(sc.pp, "neighbors", neighbors)
    monkeypatch.setattr(sc.tl, "umap", umap)
    return calls


@pytest.fixture
def embedded():
    rng = np.random.default_rng(0)
    adata = ad.AnnData(
        np.ones((30, 3), dtype=np.float32),
        obs=pd.DataFrame({"cell_type": np.repeat(["T", "B", "NK"], 10)}, index=[f"c{i}" for i in range(30)]),
    )
    adata.obsm["X_genept_w"] = rng.normal(size=(30, 8)).astype(np.float32)
    adata.obsm["X_umap"] = np.zeros((30, 2), dtype=np.float32)  # the user's own UMAP
    return adata


def test_tl_umap_stores_coordinates_and_params(embedded, fake_scanpy_umap):
    adata = embedded
    assert genept.tl.umap(adata, "X_genept_w", n_neighbors=10, random_state=3) is None
    coords = adata.obsm["X_genept_w_umap"]
    assert coords.shape == (30, 2) and coords.dtype == np.float32
    np.testing.assert_allclose(coords, adata.obsm["X_genept_w"][:, :2] + 1.0)
    assert fake_scanpy_umap["neighbors"] == ("X_rep", "cosine", 10, 3)
    params = adata.uns["X_genept_w_umap"]["params"]
    assert params == {"basis": "X_genept_w", "n_neighbors": 10, "metric": "cosine", "min_dist": 0.5, "random_state": 3}
    # The user's graph and UMAP are left alone.
    assert not adata.obsm["X_umap"].any() and "neighbors" not in adata.uns and "connectivities" not in adata.obsp
    out = genept.tl.umap(adata, "X_genept_w", key_added="X_umap", copy=True)  # asked for: replaces scanpy's UMAP
    assert out.obsm["X_umap"].any() and not adata.obsm["X_umap"].any()
    assert out.uns["X_umap"]["params"]["basis"] == "X_genept_w"
    with pytest.raises(KeyError, match="embed the cells first"):
        genept.tl.umap(adata, "X_genept_s")
    bad = adata.copy()
    bad.obsm["X_genept_w"][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        genept.tl.umap(bad, "X_genept_w")


def test_pl_umap_draws_stored_coordinates_only(embedded, fake_scanpy_umap, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    adata = embedded
    with pytest.raises(KeyError, match=r"genept\.tl\.umap\(adata, basis='X_genept_w'\)"):
        genept.pl.umap(adata, "X_genept_w", color="cell_type")
    assert not fake_scanpy_umap  # pl computed nothing
    assert "X_genept_w_umap" not in adata.obsm
    genept.tl.umap(adata, "X_genept_w")
    fake_scanpy_umap.clear()
    before = {k: v.copy() for k, v in adata.obsm.items()}
    fig = genept.pl.umap(adata, "X_genept_w", color="cell_type", path=tmp_path / "u.png")
    assert (tmp_path / "u.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert fig.axes[0].get_title() == "X_genept_w: cell_type"
    assert not fake_scanpy_umap and set(adata.obsm) == set(before)
    assert all(np.array_equal(adata.obsm[k], before[k]) for k in before)
    genept.pl.umap(adata, "X_genept_w", key="X_genept_w_umap")  # an explicit key works too
    with pytest.raises(ValueError, match="not found in adata.obs"):
        genept.pl.umap(adata, "X_genept_w", color="nope")
    with pytest.raises(KeyError, match="key_added='mine'"):
        genept.pl.umap(adata, "X_genept_w", key="mine")
