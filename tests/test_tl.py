"""genept.tl / genept.pl: AnnData conventions (obsm, uns, varm, copy), validation, cache reuse."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

import genept
from genept.cells.weighted import weighted_embedding
from genept.embeddings import GeneEmbeddings
from genept.encoders import get_encoder


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def gene_emb(small_adata, rng):
    """Embeddings for all but the last five genes of small_adata."""
    genes = list(small_adata.var_names[:-5])
    vectors = rng.normal(size=(len(genes), 16)).astype(np.float32)
    return GeneEmbeddings(genes, vectors, {"encoder": "test:random", "corpus_hash": "abc123"})


def test_genept_w_writes_obsm_and_uns(small_adata, gene_emb):
    adata = small_adata
    assert genept.tl.embed_cells(adata, gene_emb, method="w") is None
    Y = adata.obsm["X_genept_w"]
    assert Y.shape == (adata.n_obs, 16) and Y.dtype == np.float32
    E, _ = gene_emb.reindex(adata.var_names)
    np.testing.assert_allclose(Y, weighted_embedding(adata.X, E), atol=1e-6)
    rec = adata.uns["X_genept_w"]
    assert rec["method"] == "GenePT-w"
    assert rec["params"]["transform"] == "counts" and rec["params"]["normalize"] == "l2"
    cov = rec["coverage"]
    assert (cov["n_genes"], cov["n_genes_embedded"], cov["n_empty_cells"]) == (40, 35, 0)
    X = adata.X.toarray()
    assert cov["fraction_expression_lost"] == pytest.approx(X[:, -5:].sum() / X.sum(), abs=1e-6)
    assert rec["gene_embeddings"]["encoder"] == "test:random" and rec["gene_embeddings"]["corpus_hash"] == "abc123"
    assert adata.shape == (60, 40)  # never subset


def test_key_added_layer_and_path(small_adata, gene_emb, tmp_path):
    adata = small_adata
    adata.layers["counts"] = adata.X.copy()
    adata.X = adata.X * 0  # X no longer has the counts
    path = gene_emb.save(tmp_path / "genes.npz")
    genept.tl.embed_cells(adata, str(path), method="w", layer="counts", transform="log1p", key_added="emb")
    assert "emb" in adata.obsm and "X_genept_w" not in adata.obsm
    assert adata.uns["emb"]["params"]["layer"] == "counts"
    E, _ = gene_emb.reindex(adata.var_names)
    np.testing.assert_allclose(adata.obsm["emb"], weighted_embedding(adata.layers["counts"], E, transform="log1p"), atol=1e-6)


def test_use_raw(small_adata, gene_emb):
    adata = small_adata
    adata.raw = adata
    adata = adata[:, :20].copy()  # X has fewer genes than raw
    genept.tl.embed_cells(adata, gene_emb, method="w", use_raw=True)
    assert adata.uns["X_genept_w"]["coverage"]["n_genes"] == 40


def test_copy_true_returns_new_object_and_leaves_input_untouched(small_adata, gene_emb):
    adata = small_adata
    X_before = adata.X.copy()
    out = genept.tl.embed_cells(adata, gene_emb, method="w", copy=True)
    assert out is not adata and "X_genept_w" in out.obsm
    assert "X_genept_w" not in adata.obsm and "genept" not in adata.uns
    assert (adata.X != X_before).nnz == 0


def test_second_method_keeps_the_first_record(small_adata, gene_emb):
    adata = small_adata
    genept.tl.embed_cells(adata, gene_emb, method="w")
    genept.tl.embed_cells(adata, method="s", encoder="hashing", cache=False)
    assert {"X_genept_w", "X_genept_s"} <= set(adata.uns)


def test_genept_s_records_encoder_and_truncation(small_adata):
    adata = small_adata
    genept.tl.embed_cells(adata, method="s", encoder=get_encoder("hashing", dim=32), top_k=10, cache=False)
    Y = adata.obsm["X_genept_s"]
    assert Y.shape == (60, 32)
    np.testing.assert_allclose(np.linalg.norm(Y, axis=1), 1.0, rtol=1e-5)
    rec = adata.uns["X_genept_s"]
    assert rec["method"] == "GenePT-s" and rec["params"]["top_k"] == 10
    assert rec["encoder"]["identity"].startswith("hashing:dim=32")
    assert rec["truncation"]["method"] == "no_limit"
    assert rec["truncation"]["genes_in_sentence_median"] == 10
    assert rec["coverage"]["n_genes_resolved"] == 40


def test_genept_s_truncation_counted_with_the_encoders_tokenizer(small_adata):
    class Limited:
        """Hashing vectors; one token per character of each word plus two special tokens; 40-token limit."""

        name, identity, dim, max_tokens = "limited", "limited:v1", 16, 40

        def __init__(self):
            self.inner = get_encoder("hashing", dim=16)
            self.stats = self.inner.stats

        def count_tokens(self, texts):
            return [2 + sum(len(w) for w in t.split()) for t in texts]

        def encode(self, texts, *, show_progress=False):
            return self.inner.encode(texts)

    genept.tl.embed_cells(small_adata, method="s", encoder=Limited(), prefix="", cache=False, windows="first")
    tr = small_adata.uns["X_genept_s"]["truncation"]
    assert tr["method"] == "tokenizer" and tr["max_tokens"] == 40
    # symbols of 2-7 characters in a 38-token budget: between 5 and 19 genes fit
    assert 5 <= tr["genes_seen_min"] <= tr["genes_seen_median"] <= tr["genes_seen_max"] <= 19
    assert tr["n_cells_truncated"] == small_adata.n_obs
    # windows="all" reads every ranked gene, in windows within the limit
    genept.tl.embed_cells(small_adata, method="s", encoder=Limited(), prefix="", cache=False, windows="all")
    cov = small_adata.uns["X_genept_s"]["coverage"]
    assert cov["fraction_genes_read"] == 1.0 and cov["windows_per_cell_mean"] > 1
    assert small_adata.uns["X_genept_s"]["truncation"]["n_cells_truncated"] == 0


def test_genept_s_empty_cells_get_zero_rows(small_adata):
    adata = small_adata
    X = adata.X.tolil()
    X[3, :] = 0
    adata.X = X.tocsr()
    genept.tl.embed_cells(adata, method="s", encoder="hashing", cache=False)
    assert not adata.obsm["X_genept_s"][3].any()
    assert adata.uns["X_genept_s"]["coverage"]["n_empty_cells"] == 1


def test_sentence_cache_encodes_identical_sentences_once(small_adata, tmp_path):
    from genept.encoders.cache import CachedEncoder

    class Counting:
        def __init__(self):
            self.inner = get_encoder("hashing", dim=16)
            self.name, self.identity, self.dim, self.max_tokens = "counting", "counting:v1", 16, None
            self.stats = self.inner.stats
            self.calls: list[str] = []

        def encode(self, texts, *, show_progress=False):
            self.calls.extend(texts)
            return self.inner.encode(texts)

    adata = small_adata
    # 60 cells but only 3 distinct profiles: 3 distinct sentences
    dense = adata.X.toarray()
    dense[:] = dense[[0, 20, 40] * 20]
    adata.X = sp.csr_matrix(dense)
    inner = Counting()
    enc = CachedEncoder(inner, tmp_path / "emb.sqlite")
    genept.tl.embed_cells(adata, method="s", encoder=enc)
    assert len(inner.calls) == 3
    assert adata.uns["X_genept_s"]["coverage"]["n_distinct_sentences"] == 3
    first = adata.obsm["X_genept_s"].copy()
    genept.tl.embed_cells(adata, method="s", encoder=enc)  # second run: all from the cache
    assert len(inner.calls) == 3
    assert adata.uns["X_genept_s"]["encoder"]["encode_stats"]["n_cached"] == 3
    np.testing.assert_array_equal(first, adata.obsm["X_genept_s"])
    # a spec string with cache=path wraps the encoder in the same cache
    genept.tl.embed_cells(adata, method="s", encoder="hashing", cache=tmp_path / "other.sqlite")
    assert adata.uns["X_genept_s"]["encoder"]["cache"].endswith("other.sqlite")


def test_backed_and_dask_equal_in_memory(small_adata, gene_emb, tmp_path):
    path = tmp_path / "cells.h5ad"
    small_adata.write_h5ad(path)
    genept.tl.embed_cells(small_adata, gene_emb, method="w")
    genept.tl.embed_cells(small_adata, method="s", encoder="hashing", cache=False)
    backed = ad.read_h5ad(path, backed="r")
    genept.tl.embed_cells(backed, gene_emb, method="w", chunk_size=7)
    genept.tl.embed_cells(backed, method="s", encoder="hashing", cache=False, chunk_size=7)
    np.testing.assert_allclose(backed.obsm["X_genept_w"], small_adata.obsm["X_genept_w"], atol=1e-6)
    np.testing.assert_array_equal(backed.obsm["X_genept_s"], small_adata.obsm["X_genept_s"])
    with pytest.raises(ValueError, match="backed"):
        genept.tl.embed_cells(backed, gene_emb, method="w", copy=True)
    backed.file.close()
    da = pytest.importorskip("dask.array")
    lazy = small_adata.copy()
    lazy.X = da.from_array(small_adata.X, chunks=(16, 40))
    genept.tl.embed_cells(lazy, gene_emb, method="w")
    np.testing.assert_allclose(lazy.obsm["X_genept_w"], small_adata.obsm["X_genept_w"], atol=1e-6)


def test_result_survives_write_h5ad(small_adata, gene_emb, tmp_path):
    genept.tl.embed_cells(small_adata, gene_emb, method="w")
    genept.tl.embed_cells(small_adata, method="s", encoder="hashing", cache=False)
    small_adata.write_h5ad(tmp_path / "out.h5ad")
    back = ad.read_h5ad(tmp_path / "out.h5ad")
    assert back.uns["X_genept_s"]["method"] == "GenePT-s"
    np.testing.assert_array_equal(back.obsm["X_genept_w"], small_adata.obsm["X_genept_w"])


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: setattr(a, "X", a.X * -1.0), "negative values"),
        (lambda a: a.X.data.__setitem__(0, np.nan), "NaN or inf"),
    ],
)
def test_bad_values_refused(small_adata, gene_emb, change, message):
    change(small_adata)
    with pytest.raises(ValueError, match=message):
        genept.tl.embed_cells(small_adata, gene_emb)
    with pytest.raises(ValueError, match=message):
        genept.tl.embed_cells(small_adata, method="s", encoder="hashing", cache=False)
    assert "X_genept_w" not in small_adata.obsm


def test_argument_errors(small_adata, gene_emb, tmp_path):
    with pytest.raises(ValueError, match="needs gene embeddings"):
        genept.tl.embed_cells(small_adata)
    with pytest.raises(ValueError, match="method"):
        genept.tl.embed_cells(small_adata, gene_emb, method="x")
    with pytest.raises(ValueError, match="layer 'nope' not found"):
        genept.tl.embed_cells(small_adata, gene_emb, layer="nope")
    with pytest.raises(ValueError, match="adata.raw is None"):
        genept.tl.embed_cells(small_adata, gene_emb, use_raw=True)
    with pytest.raises(FileNotFoundError):
        genept.tl.embed_cells(small_adata, tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="empty"):
        genept.tl.embed_cells(small_adata[:0].copy(), gene_emb)


def test_add_gene_embeddings(small_adata, gene_emb):
    out = genept.tl.add_gene_embeddings(small_adata, gene_emb, copy=True)
    assert "X_genept" not in small_adata.varm
    M = out.varm["X_genept"]
    assert M.shape == (40, 16)
    assert out.var["X_genept_embedded"].sum() == 35
    assert not M[-5:].any()
    np.testing.assert_array_equal(M[0], gene_emb[small_adata.var_names[0]])
    assert out.uns["X_genept"]["coverage"]["n_genes_embedded"] == 35
    assert genept.tl.add_gene_embeddings(small_adata, gene_emb, key_added="g") is None
    assert "g" in small_adata.varm
