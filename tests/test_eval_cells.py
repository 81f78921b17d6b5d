"""Cell-level tasks and baselines on small synthetic data with known answers."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.sparse as sp

from genept.embeddings import GeneEmbeddings
from genept.evaluation.baselines import pca_baseline, random_gene_embeddings
from genept.evaluation.cells import (
    batch_mixing,
    cell_embeddings,
    cosine_neighbors,
    evaluate_cells,
    kmeans_clustering,
    knn_annotation,
    label_silhouette,
    leiden_sweep,
)


def blobs(n_per: int = 30, n_groups: int = 3, dim: int = 10, seed: int = 0):
    """Well-separated clusters in different directions (cosine-separable)."""
    rng = np.random.default_rng(seed)
    centers = np.eye(dim)[:n_groups] * 5
    y = np.repeat(np.array(["A", "B", "C", "D"][:n_groups]), n_per)
    X = centers[np.repeat(np.arange(n_groups), n_per)] + rng.normal(scale=0.5, size=(n_groups * n_per, dim)) + 1.0
    return X.astype(np.float32), y


def test_knn_annotation_separable_and_random():
    X, y = blobs()
    res = knn_annotation(X, y, k=10, seed=0)
    for metric in ("accuracy", "precision_macro", "recall_macro", "f1_macro"):
        assert res["cv"][metric]["mean"] == pytest.approx(1.0) and res["cv"][metric]["n"] == 5
        assert res["holdout"][metric] == pytest.approx(1.0)
    h = res["holdout"]
    assert h["n_test"] == 18 and h["n_train"] == 72 and np.trace(h["confusion_matrix"]) == 18 and h["classes"] == ["A", "B", "C"]
    # shuffled labels: chance level (1/3) within tolerance
    y_rand = np.random.default_rng(1).permutation(y)
    assert abs(knn_annotation(X, y_rand, seed=0)["cv"]["accuracy"]["mean"] - 1 / 3) < 0.15


def test_knn_annotation_holdout_mask_and_errors():
    X, y = blobs()
    mask = np.zeros(len(y), bool)
    mask[::3] = True
    res = knn_annotation(X, y, holdout=mask)
    assert res["holdout"]["n_test"] == 30 and res["holdout"]["accuracy"] == 1.0
    assert knn_annotation(X, y, holdout=0.5)["holdout"]["n_test"] == 45
    with pytest.raises(ValueError, match="holdout mask"):
        knn_annotation(X, y, holdout=np.ones(len(y), bool))
    with pytest.raises(ValueError, match="two labels"):
        knn_annotation(X, np.full(len(y), "A"))
    with pytest.raises(ValueError, match="one value per cell"):
        knn_annotation(X, y[:-1])
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        knn_annotation(X, y)


def test_kmeans_and_leiden_recover_clusters():
    X, y = blobs()
    batch = np.tile(["b1", "b2"], len(y) // 2)
    km = kmeans_clustering(X, y, n_seeds=3, seed=0, batch=batch)
    assert km["ari"]["mean"] == pytest.approx(1.0) and km["ami"]["mean"] == pytest.approx(1.0) and km["ari"]["n"] == 3
    assert abs(km["batch_ari"]["mean"]) < 0.05 and km["n_clusters"] == 3
    ld = leiden_sweep(X, y, resolutions=(0.1, 0.5, 1.0), seed=0, batch=batch)
    assert [r["resolution"] for r in ld["per_resolution"]] == [0.1, 0.5, 1.0]
    assert ld["best_ari"]["ari"] == pytest.approx(1.0) and ld["best_ami"]["ami"] == pytest.approx(1.0)
    assert "batch_ari" in ld["per_resolution"][0]


def test_label_silhouette_matches_hand_example():
    # two tight pairs on orthogonal axes: cosine distance 0 within, 1 between -> silhouette 1
    X = np.array([[1, 0], [2, 0], [0, 1], [0, 3]], dtype=np.float32)
    assert label_silhouette(X, ["a", "a", "b", "b"]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="distinct labels"):
        label_silhouette(X, ["a"] * 4)


def test_cosine_neighbors_excludes_self_and_matches_brute_force(rng):
    X = rng.normal(size=(25, 6)).astype(np.float32)
    nb = cosine_neighbors(X, 4)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = U @ U.T
    np.fill_diagonal(S, -np.inf)
    expected = np.argsort(-S, axis=1)[:, :4]
    assert (np.sort(nb, axis=1) == np.sort(expected, axis=1)).all()
    with pytest.raises(ValueError, match="n_neighbors"):
        cosine_neighbors(X, 25)


def test_batch_mixing_follows_clusters_or_mixes():
    X, y = blobs(n_per=40, n_groups=2)
    by_cluster = batch_mixing(X, y, k=10)  # batches = clusters: every neighbour from the same batch
    assert by_cluster["same_batch"] == pytest.approx(1.0)
    assert by_cluster["expected"] == pytest.approx((40 * 39 * 2) / (80 * 79))
    assert by_cluster["ratio"] == pytest.approx(1.0 / by_cluster["expected"])
    random_batch = np.random.default_rng(0).permutation(np.tile(["b1", "b2"], 40))
    mixed = batch_mixing(X, random_batch, k=10)
    assert abs(mixed["ratio"] - 1.0) < 0.2 and mixed["k"] == 10


def test_pca_baseline_and_random_gene_embeddings(small_adata):
    before = small_adata.copy()
    P = pca_baseline(small_adata, n_comps=5)
    assert P.shape == (60, 5) and P.dtype == np.float32
    assert (small_adata.X != before.X).nnz == 0 and not small_adata.obsm  # input untouched
    small_adata.layers["counts"] = small_adata.X.copy()
    np.testing.assert_allclose(pca_baseline(small_adata, layer="counts", n_comps=5), P, atol=1e-4)
    with pytest.raises(ValueError, match="layer"):
        pca_baseline(small_adata, layer="nope")
    small_adata.X = small_adata.X - sp.csr_matrix(np.ones(small_adata.shape, np.float32))
    with pytest.raises(ValueError, match="raw counts"):
        pca_baseline(small_adata)

    emb = GeneEmbeddings(["A", "B", "C"], np.eye(3, 4, dtype=np.float32), {"encoder": "x"})
    r1, r2 = random_gene_embeddings(emb, seed=3), random_gene_embeddings(emb, seed=3)
    assert r1.genes.equals(emb.genes) and r1.dim == 4 and np.array_equal(r1.vectors, r2.vectors)
    np.testing.assert_allclose(np.linalg.norm(r1.vectors, axis=1), 1, atol=1e-6)
    assert not np.array_equal(r1.vectors, random_gene_embeddings(emb, seed=4).vectors)


def hashing_genes(genes) -> GeneEmbeddings:
    from genept.encoders import get_encoder

    enc = get_encoder("hashing", dim=32)
    return GeneEmbeddings(list(genes), enc.encode([f"gene {g}" for g in genes]), {"encoder": enc.identity})


def test_cell_embeddings_and_evaluate_cells_end_to_end(small_adata):
    emb = hashing_genes(small_adata.var_names[:30])  # 10 of 40 genes have no embedding
    small_adata.obsm["X_other"] = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    embs, info = cell_embeddings(small_adata, gene_embeddings={"hash": emb}, obsm_keys=["X_other"], seed=0)
    assert list(embs) == ["genept_scaled:hash", "genept_w:hash", "random_w:hash", "pca", "X_other"]
    assert info["genept_scaled:hash"]["coverage"]["n_genes_embedded"] == 30
    assert np.isfinite(embs["genept_scaled:hash"]).all()
    assert embs["genept_w:hash"].shape == (60, 32) and info["pca"]["dim"] == 50 or info["pca"]["dim"] < 50
    np.testing.assert_allclose(np.linalg.norm(embs["genept_w:hash"], axis=1), 1, atol=1e-5)
    assert info["genept_w:hash"]["coverage"]["n_genes_embedded"] == 30
    assert "X_genept_w" not in small_adata.obsm and "genept" not in small_adata.uns  # not modified
    with pytest.raises(ValueError, match="obsm has no"):
        cell_embeddings(small_adata, obsm_keys=["X_missing"], pca=False)

    res = evaluate_cells(embs, small_adata.obs["cell_type"], batch=small_adata.obs["batch"], k=5, n_seeds=2, resolutions=(0.5, 1.0))
    assert set(res["tasks"]) == set(embs)
    for r in res["tasks"].values():
        assert set(r) == {"knn", "kmeans", "leiden", "silhouette", "batch_mixing"}
    # the three simulated cell types are obvious in expression space
    assert res["tasks"]["pca"]["knn"]["cv"]["accuracy"]["mean"] > 0.95
    assert res["tasks"]["genept_w:hash"]["kmeans"]["ari"]["mean"] > 0.9
    assert res["settings"]["labels"] == {"B": 20, "Mono": 20, "T": 20} and res["scib"] is None


def test_evaluate_cells_scib_skips_cleanly(monkeypatch):
    X, y = blobs()
    monkeypatch.setitem(sys.modules, "scib_metrics", None)  # import fails as if not installed
    res = evaluate_cells({"x": X}, y, batch=np.tile(["b1", "b2"], 45), scib=True, n_seeds=1, resolutions=(1.0,))
    assert res["scib"] is None and any("genept[scib]" in n for n in res["notes"])
    res = evaluate_cells({"x": X}, y, scib=True, n_seeds=1, resolutions=(1.0,))
    assert res["notes"] == ["scib-metrics skipped: no batch given"]
