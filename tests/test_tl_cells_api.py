"""The 0.2 cell-embedding API: array-level engine, typed record, separate tools, stored GenePT-scaled map."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pytest

import genept
from genept.cells import CellEmbeddingRecord, ScaledProjection, embed
from genept.tl._cells import read_record


@pytest.fixture
def gene_emb(small_adata, rng):
    genes = list(small_adata.var_names[:-5])  # the last five genes have no embedding
    return genept.GeneEmbeddings(genes, rng.normal(size=(len(genes), 16)).astype(np.float32), {"encoder": "test:random"})


def test_engine_needs_no_anndata_and_equals_the_tool(small_adata, gene_emb):
    X = small_adata.X
    for method in ("scaled", "w"):
        Y, record = embed(X, small_adata.var_names, gene_emb, method=method, show_progress=False)
        assert isinstance(record, CellEmbeddingRecord) and record.method == {"scaled": "GenePT-scaled", "w": "GenePT-w"}[method]
        adata = small_adata.copy()
        genept.tl.embed_cells(adata, gene_emb, method=method)
        np.testing.assert_allclose(adata.obsm[f"X_genept_{method}"], Y, atol=1e-6)


def test_engine_refuses_another_methods_parameter(small_adata, gene_emb):
    with pytest.raises(TypeError, match="n_comps is a parameter of method='scaled'"):
        embed(small_adata.X, small_adata.var_names, gene_emb, method="w", n_comps=5)
    with pytest.raises(TypeError, match="encoder is a parameter of method='s'"):
        genept.tl.embed_cells(small_adata, gene_emb, method="w", encoder="hashing")
    with pytest.raises(TypeError, match="takes no gene embeddings"):
        embed(small_adata.X, small_adata.var_names, gene_emb, method="s", encoder="hashing")


@pytest.mark.parametrize(
    ("tool", "key", "kwargs"),
    [
        ("genept_scaled", "X_genept_scaled", {"n_comps": 5}),
        ("genept_w", "X_genept_w", {"transform": "log1p"}),
        ("genept_s", "X_genept_s", {"cache": False, "top_k": 7}),
    ],
)
def test_every_cell_tool_writes_params_under_key_added(small_adata, gene_emb, tool, key, kwargs):
    adata = small_adata.copy()
    first = "hashing" if tool == "genept_s" else gene_emb
    assert getattr(genept.tl, tool)(adata, first, **kwargs) is None
    params = adata.uns[key]["params"]
    for name, value in kwargs.items():
        if name != "cache":  # recorded with the encoder (its path), not as a parameter
            assert params[name] == value
    assert params["species"] == "auto" and params["layer"] == "" and params["use_raw"] is False
    record = read_record(adata, key)
    assert record.coverage["n_cells"] == adata.n_obs
    assert str(record).startswith(record.method)
    # key_added moves both obsm and uns
    getattr(genept.tl, tool)(adata, first, key_added="other", **kwargs)
    assert "other" in adata.obsm and adata.uns["other"]["params"]
    # copy=True leaves the input alone
    out = getattr(genept.tl, tool)(small_adata, first, copy=True, **kwargs)
    assert key in out.obsm and key not in small_adata.obsm and key not in small_adata.uns


def test_add_gene_embeddings_uses_key_added_everywhere(small_adata, gene_emb):
    genept.tl.add_gene_embeddings(small_adata, gene_emb, key_added="E")
    assert small_adata.varm["E"].shape == (small_adata.n_vars, gene_emb.dim)
    assert "E_embedded" in small_adata.var and small_adata.uns["E"]["params"]["species"] == "auto"


def test_records_survive_h5ad_and_the_01_layout_is_read_with_a_warning(small_adata, gene_emb, tmp_path):
    genept.tl.genept_w(small_adata, gene_emb)
    small_adata.write_h5ad(tmp_path / "a.h5ad")
    back = ad.read_h5ad(tmp_path / "a.h5ad")
    assert read_record(back, "X_genept_w") == read_record(small_adata, "X_genept_w")
    old = small_adata.copy()
    old.uns["genept"] = {"X_genept_w": dict(old.uns.pop("X_genept_w"))}
    with pytest.warns(DeprecationWarning, match=r"uns\['genept'\]"):
        assert read_record(old, "X_genept_w").method == "GenePT-w"
    with pytest.raises(KeyError, match="embed the cells"):
        read_record(old, "X_missing")


def test_stored_map_projects_a_second_anndata_like_fit_and_transform(small_adata, gene_emb, tmp_path):
    ref = small_adata.copy()
    genept.tl.genept_scaled(ref, gene_emb, n_comps=6)
    # the same cells as a second object, genes in another order: the stored map gives the fitted result
    query = small_adata[:, ::-1].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        genept.tl.genept_scaled(query, projection=ref)
    np.testing.assert_allclose(query.obsm["X_genept_scaled"], ref.obsm["X_genept_scaled"], atol=1e-5)
    assert query.uns["X_genept_scaled"]["params"]["projection"] == "stored map applied"
    # the same through a saved file
    path = ScaledProjection.from_dict(ref.uns["X_genept_scaled"]["projection"]).save(tmp_path / "map.npz")
    again = small_adata.copy()
    genept.tl.genept_scaled(again, projection=path)
    np.testing.assert_allclose(again.obsm["X_genept_scaled"], ref.obsm["X_genept_scaled"], atol=1e-5)
    # and after a round trip through .h5ad
    ref.write_h5ad(tmp_path / "ref.h5ad")
    third = small_adata.copy()
    genept.tl.genept_scaled(third, projection=ad.read_h5ad(tmp_path / "ref.h5ad"))
    np.testing.assert_allclose(third.obsm["X_genept_scaled"], ref.obsm["X_genept_scaled"], atol=1e-5)


def test_stored_map_on_a_smaller_panel_counts_imputed_genes(small_adata, gene_emb):
    ref = small_adata.copy()
    genept.tl.genept_scaled(ref, gene_emb, n_comps=6)
    n_used = len(ref.uns["X_genept_scaled"]["projection"]["gene_names"])
    panel = small_adata[:, 5:].copy()
    genept.tl.genept_scaled(panel, projection=ref)
    imputed = panel.uns["X_genept_scaled"]["coverage"]["n_genes_imputed"]
    assert 0 < imputed <= 5 and n_used - imputed > 0
    assert np.isfinite(panel.obsm["X_genept_scaled"]).all()
    other = ad.AnnData(np.ones((3, 2), dtype=np.float32))
    other.var_names = ["NOT_A", "NOT_B"]
    with pytest.raises(ValueError, match="measures none of the"):
        genept.tl.genept_scaled(other, projection=ref)


def test_projection_argument_errors(small_adata):
    with pytest.raises(ValueError, match="no GenePT-scaled map"):
        genept.tl.genept_scaled(small_adata.copy(), projection=small_adata)
    with pytest.raises(FileNotFoundError, match="GenePT-scaled map"):
        genept.tl.genept_scaled(small_adata.copy(), projection="missing_map.npz")


def test_log_normalised_input_is_never_logged_twice(small_adata, gene_emb):
    """Scaled PCA of the counts equals the result on the same values log-normalised beforehand."""
    import scanpy as sc

    from genept.evaluation.cells import cell_embeddings

    logged = small_adata.copy()
    sc.pp.normalize_total(logged, target_sum=1e4)
    sc.pp.log1p(logged)
    a, info_a = cell_embeddings(small_adata, gene_embeddings={"g": gene_emb}, random_control=False)
    b, info_b = cell_embeddings(logged, gene_embeddings={"g": gene_emb}, random_control=False)
    assert info_a["pca"]["input"] == "counts" and info_b["pca"]["input"] == "log1p"
    np.testing.assert_allclose(np.abs(a["pca"]), np.abs(b["pca"]), atol=1e-3)  # PCA signs are arbitrary
    np.testing.assert_allclose(a["genept_scaled:g"], b["genept_scaled:g"], atol=1e-4)
    with pytest.raises(ValueError, match="log it twice"):
        cell_embeddings(logged, gene_embeddings={"g": gene_emb}, transform="log1p")


def test_queries_rebuild_a_fitted_gene_encoder_from_its_recorded_spec():
    """Gene embeddings from a corpus-fitted, multi-channel encoder are queried without naming the encoder."""
    from genept.genes.corpus import build_corpus

    names = ["CD3E", "CD3D", "CD19", "MS4A1", "LYZ", "CD14", "INS", "GCG", "SST", "PPY", "KRT19", "CFTR", "PTPRC", "NKG7"]
    emb = genept.embed_genes(build_corpus(names), "hashing+tfidf:8", cache=False)
    assert "tfidf@" in emb.meta["encoder_spec"]
    hits = genept.tl.search_genes("insulin", emb, top_n=3)
    assert hits["gene"].iloc[0] == "INS"
    adata = ad.AnnData(np.random.default_rng(0).poisson(2.0, (12, len(names))).astype(np.float32))
    adata.var_names = names
    genept.tl.genept_w(adata, emb)
    assert adata.uns["X_genept_w"]["gene_embeddings"]["encoder_spec"] == emb.meta["encoder_spec"]
    genept.tl.search_cells(adata, "insulin secreting beta cell", basis="X_genept_w")
