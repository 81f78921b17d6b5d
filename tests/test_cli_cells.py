"""``genept embed-cells`` and ``genept demo`` end to end (hashing encoder, tiny data)."""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

from genept.cli import main
from genept.embeddings import GeneEmbeddings


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def files(small_adata, tmp_path, rng):
    small_adata.obsm["X_pca"] = rng.normal(size=(small_adata.n_obs, 3)).astype(np.float32)
    small_adata.uns["note"] = "kept"
    src = tmp_path / "in.h5ad"
    small_adata.write_h5ad(src)
    genes = list(small_adata.var_names[:30])
    emb = GeneEmbeddings(genes, rng.normal(size=(30, 8)).astype(np.float32), {"encoder": "test:random"})
    return src, emb.save(tmp_path / "genes.npz"), small_adata


@pytest.mark.parametrize("backed", [False, True])
def test_embed_cells_w_adds_obsm_and_keeps_the_rest(files, tmp_path, capsys, backed):
    src, genes, adata = files
    dst = tmp_path / "out.h5ad"
    argv = ["embed-cells", str(src), str(dst), "--method", "w", "--genes", str(genes), "--transform", "log1p", "-q"]
    assert main(argv + (["--backed", "--chunk-size", "7"] if backed else [])) == 0
    printed = capsys.readouterr().out
    assert "genes matched: 30 / 40" in printed and "wrote" in printed
    out = ad.read_h5ad(dst)
    assert out.obsm["X_genept_w"].shape == (60, 8)
    assert out.uns["X_genept_w"]["params"]["transform"] == "log1p"
    assert out.uns["note"] == "kept"
    np.testing.assert_array_equal(out.obsm["X_pca"], adata.obsm["X_pca"])
    assert (out.X != adata.X).nnz == 0
    assert not list(tmp_path.glob(".out*"))  # no temporary file left behind


def test_embed_cells_s_then_w_into_the_same_file(files, tmp_path, capsys):
    src, genes, _ = files
    dst = tmp_path / "out.h5ad"
    assert main(["embed-cells", str(src), str(dst), "--method", "s", "--encoder", "hashing", "--top-k", "5", "-q"]) == 0
    assert "the encoder reads whole sentences" in capsys.readouterr().out
    assert main(["embed-cells", str(dst), str(dst), "--genes", str(genes), "--key-added", "w2", "-q"]) == 0
    out = ad.read_h5ad(dst)
    assert {"X_genept_s", "w2"} <= set(out.obsm)
    assert {"X_genept_s", "w2"} <= set(out.uns)
    assert out.uns["X_genept_s"]["params"]["top_k"] == 5


def test_embed_cells_errors(files, tmp_path, capsys):
    src, genes, _ = files
    assert main(["embed-cells", str(src), str(tmp_path / "o.h5ad"), "-q"]) == 2
    assert "needs --genes" in capsys.readouterr().err
    assert main(["embed-cells", str(tmp_path / "none.h5ad"), str(tmp_path / "o.h5ad"), "--genes", str(genes)]) == 2
    bad = ad.read_h5ad(src)
    bad.X = sp.csr_matrix(bad.X.toarray() - 1)
    bad.write_h5ad(tmp_path / "bad.h5ad")
    assert main(["embed-cells", str(tmp_path / "bad.h5ad"), str(tmp_path / "o.h5ad"), "--genes", str(genes), "-q"]) == 2
    assert "negative values" in capsys.readouterr().err
    assert not (tmp_path / "o.h5ad").exists()


def test_demo_offline_with_hashing_encoder(tmp_path, capsys, monkeypatch):
    import scanpy as sc

    # Real neighbours + UMAP spend ~25 s compiling numba code; these stand-ins write the same keys.
    def neighbors(a, *args, **kwargs):
        a.obsp["connectivities"] = sp.identity(a.n_obs, format="csr")

    def umap(a, **kwargs):
        a.obsm["X_umap"] = np.asarray(a.obsm["X_rep"][:, :2])

    monkeypatch.setattr(sc.pp, "neighbors", neighbors)
    monkeypatch.setattr(sc.tl, "umap", umap)
    out = tmp_path / "demo"
    from threadpoolctl import threadpool_limits

    # One OpenMP/BLAS thread: k-means' spinning threads slow down 10x when the 2 cores are shared.
    with threadpool_limits(1):
        assert main(["demo", "--out", str(out), "--encoder", "hashing:64", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "10-NN macro-F1" in printed and "GenePT-s" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["results"]) == {"GenePT-scaled", "GenePT-w", "GenePT-s", "PCA"}
    for res in summary["results"].values():
        assert 0 < res["knn10_f1_macro"]["mean"] <= 1
        assert -1 <= res["kmeans_ari"]["mean"] <= 1
    assert summary["genept"]["X_genept_w"]["coverage"]["n_genes_embedded"] > 700
    for name in summary["files"]:
        assert (out / name).stat().st_size > 0
    back = ad.read_h5ad(out / "pbmc68k_genept.h5ad")
    assert {"X_genept_scaled", "X_genept_w", "X_genept_s", "X_pca_lognorm"} <= set(back.obsm)
