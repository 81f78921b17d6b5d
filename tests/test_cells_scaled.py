"""GenePT-scaled: brute-force reference, PCA geometry, every input kind, empty cells, span, errors."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genept.cells.scaled import (
    ScaledProjection,
    ScaledStats,
    embed_scaled,
    fit_scaled,
    seurat_hvg,
)

N_CELLS, N_GENES, DIM = 61, 40, 64  # DIM > N_GENES: the span of the gene embeddings is a proper subspace
N_TOP, N_COMPS = 20, 8


def reference(counts: np.ndarray, E: np.ndarray, found: np.ndarray, n_top: int | None, n_comps: int, max_value=np.inf):
    """The method written out in float64 from its definition, with scanpy choosing the HVGs."""
    import scanpy as sc

    X = counts.astype(np.float64)
    tot = X.sum(axis=1, keepdims=True)
    L = np.log1p(np.divide(X * 1e4, tot, out=np.zeros_like(X), where=tot > 0))
    if n_top is not None and n_top < X.shape[1]:
        a = ad.AnnData(L.astype(np.float32))
        sc.pp.highly_variable_genes(a, n_top_genes=n_top, flavor="seurat")
        hv = np.flatnonzero(a.var["highly_variable"].to_numpy())
    else:
        hv = np.arange(X.shape[1])
    Lh = L[:, hv]
    sd = Lh.std(axis=0, ddof=1)
    sd[sd == 0] = 1
    Z = np.clip((Lh - Lh.mean(axis=0)) / sd, -max_value, max_value)
    Zc = Z - Z.mean(axis=0)
    evals, evecs = np.linalg.eigh(Zc.T @ Zc / (len(Z) - 1))
    P = evecs[:, np.argsort(evals)[::-1][:n_comps]]
    U = P.T @ np.where(found[:, None], E, 0.0)[hv]
    lam, V = np.linalg.eigh(U @ U.T)
    Q = V @ np.diag(lam**-0.5) @ V.T @ U
    Y = Zc @ P @ Q
    Y[(X[:, hv] == 0).all(axis=1)] = 0.0
    return Y, hv, Zc @ P


@pytest.fixture
def data(rng):
    """Three cell types over 40 genes, one cell without counts, one expressing only a few low-variance genes."""
    lam = np.full((N_CELLS, N_GENES), 0.4)
    for t in range(3):
        lam[t::3, t * 8 : (t + 1) * 8] = 5.0 + t
    lam[:, 30:] = rng.uniform(0.05, 3.0, size=10)
    counts = rng.poisson(lam).astype(np.float32)
    counts[4] = 0  # no expression at all
    E = rng.normal(size=(N_GENES, DIM)).astype(np.float32) + 0.5  # a shared direction, as real text embeddings have
    found = np.ones(N_GENES, dtype=bool)
    found[[1, 9, 17, 33]] = False  # genes without an embedding
    E[~found] = 0
    return counts, E, found


def _as(kind: str, counts: np.ndarray, tmp_path):
    if kind == "dense":
        return counts
    if kind == "csr":
        return sp.csr_matrix(counts)
    if kind == "csc":
        return sp.csc_matrix(counts)
    if kind in ("backed_csr", "backed_dense"):
        path = tmp_path / f"{kind}.h5ad"
        ad.AnnData(X=sp.csr_matrix(counts) if kind == "backed_csr" else counts).write_h5ad(path)
        return ad.read_h5ad(path, backed="r").X
    da = pytest.importorskip("dask.array")
    return da.from_array(sp.csr_matrix(counts), chunks=(13, 9))  # chunks across genes too


def test_matches_the_brute_force_reference(data):
    counts, E, found = data
    Y, stats = embed_scaled(sp.csr_matrix(counts), E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    ref, hv, _ = reference(counts, E, found, N_TOP, N_COMPS)
    assert Y.dtype == np.float32 and Y.shape == (N_CELLS, DIM)
    np.testing.assert_allclose(Y, ref, atol=2e-4 * np.abs(ref).max())
    proj = fit_scaled(counts, E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    np.testing.assert_array_equal(proj.genes, hv)  # the HVGs are scanpy's
    assert isinstance(stats, ScaledStats)
    assert (stats.n_hvg, stats.n_comps, stats.n_hvg_embedded) == (N_TOP, N_COMPS, int(found[hv].sum()))


def test_geometry_is_that_of_the_principal_components(data):
    """Distances and cosines between cells equal those of the PCA scores of the scaled expression."""
    counts, E, found = data
    Y, _ = embed_scaled(counts, E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    _, _, S = reference(counts, E, found, N_TOP, N_COMPS)
    S[4] = 0  # the empty cell
    np.testing.assert_allclose(Y @ Y.T, S @ S.T, atol=1e-4 * np.abs(S @ S.T).max())


@pytest.mark.parametrize("kind", ["dense", "csr", "csc", "backed_csr", "backed_dense", "dask"])
def test_every_input_kind_agrees(kind, data, tmp_path):
    counts, E, found = data
    ref, _ = embed_scaled(sp.csr_matrix(counts), E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    Y, _ = embed_scaled(_as(kind, counts, tmp_path), E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS, chunk_size=7)
    np.testing.assert_allclose(Y, ref, atol=1e-5 * np.abs(ref).max())


def test_empty_cells_get_zero_rows_never_nan(data):
    counts, E, found = data
    counts = counts.copy()
    counts[7] = 0
    counts[7, 30] = 1.0  # expression only outside the HVGs when that gene is not one
    Y, stats = embed_scaled(sp.csr_matrix(counts), E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    proj = fit_scaled(sp.csr_matrix(counts), E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    assert np.isfinite(Y).all()
    assert not Y[4].any()
    assert (not Y[7].any()) == (30 not in proj.genes)
    assert stats.n_empty_cells == 1 + (30 not in proj.genes)


def test_stays_in_the_span_of_the_gene_embeddings(data):
    counts, E, found = data
    Y, _ = embed_scaled(counts, E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    basis, _ = np.linalg.qr(E[found].T.astype(np.float64))  # orthonormal basis of span{e_g}
    residual = Y - (Y @ basis) @ basis.T
    assert np.abs(residual).max() < 1e-5 * np.abs(Y).max()
    # ... and each cell is sum_g w_g e_g with weights on the used genes that have an embedding
    proj = fit_scaled(counts, E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    Eh = E[proj.genes].astype(np.float64)
    W = proj.weights @ np.linalg.pinv(Eh)  # gene-to-gene weights
    np.testing.assert_allclose(W @ Eh, proj.weights, atol=1e-5)


def test_all_genes_when_n_top_genes_is_none_or_large(data):
    counts, E, found = data
    Y1, s1 = embed_scaled(counts, E, found=found, n_top_genes=None, n_comps=N_COMPS)
    Y2, s2 = embed_scaled(counts, E, found=found, n_top_genes=10_000, n_comps=N_COMPS)
    ref, _, _ = reference(counts, E, found, None, N_COMPS)
    np.testing.assert_allclose(Y1, ref, atol=2e-4 * np.abs(ref).max())
    np.testing.assert_array_equal(Y1, Y2)
    assert s1.n_hvg == s2.n_hvg == N_GENES


def test_log_normalised_input_with_transform_counts_equals_counts_input(data):
    counts, E, found = data
    tot = counts.sum(axis=1, keepdims=True)
    lognorm = np.log1p(np.divide(counts * 1e4, tot, out=np.zeros_like(counts), where=tot > 0)).astype(np.float32)
    Y1, _ = embed_scaled(sp.csr_matrix(counts), E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    Y2, _ = embed_scaled(sp.csr_matrix(lognorm), E, found=found, transform="counts", n_top_genes=N_TOP, n_comps=N_COMPS)
    np.testing.assert_allclose(Y1, Y2, atol=1e-4 * np.abs(Y1).max())


def test_projection_applies_to_new_cells(data, rng):
    counts, E, found = data
    proj = fit_scaled(counts, E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    assert isinstance(proj, ScaledProjection) and proj.n_comps == N_COMPS
    new = rng.poisson(1.0, size=(9, N_GENES)).astype(np.float32)
    Y = proj.transform_matrix(sp.csr_matrix(new), chunk_size=4)
    tot = new.sum(axis=1, keepdims=True)
    L = np.log1p(new * 1e4 / tot)[:, proj.genes]
    Z = (L - proj.mean) / proj.std - proj.center
    np.testing.assert_allclose(Y, Z @ proj.weights, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(proj.weights.T @ proj.weights, (proj.weights.T @ proj.weights).T, atol=1e-6)
    with pytest.raises(ValueError, match="same genes"):
        proj.transform_matrix(new[:, :-1])


def test_deterministic_and_clip_option(data):
    counts, E, found = data
    a, _ = embed_scaled(counts, E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    b, _ = embed_scaled(counts, E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    np.testing.assert_array_equal(a, b)
    c, _ = embed_scaled(counts, E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS, max_value=2.0)
    ref, _, _ = reference(counts, E, found, N_TOP, N_COMPS, max_value=2.0)
    assert not np.allclose(c, a, atol=1e-3)  # the clip bites at 2
    np.testing.assert_allclose(c, ref, atol=2e-4 * np.abs(ref).max())


def test_too_few_embedded_genes_drop_axes_with_a_warning(data):
    counts, E, _ = data
    sparse_found = np.zeros(N_GENES, dtype=bool)
    sparse_found[[0, 8]] = True
    E2 = np.where(sparse_found[:, None], E, 0).astype(np.float32)
    with pytest.warns(UserWarning, match="span only"):
        Y, _ = embed_scaled(counts, E2, found=sparse_found, n_top_genes=None, n_comps=N_COMPS)
    assert np.isfinite(Y).all()


def test_n_comps_is_capped_by_the_embedding_dimension(data):
    counts, E, found = data
    Y, stats = embed_scaled(counts, E[:, :5], found=found, n_top_genes=N_TOP, n_comps=50)
    assert stats.n_comps == 5 and Y.shape == (N_CELLS, 5)


def test_seurat_hvg_equals_scanpy(rng):
    import scanpy as sc

    counts = rng.negative_binomial(2, rng.uniform(0.05, 0.9, size=300), size=(150, 300)).astype(np.float32)
    counts[:, :5] = 0  # genes never expressed
    counts[:, 5] = 3  # constant gene
    a = ad.AnnData(sp.csr_matrix(counts))
    sc.pp.normalize_total(a, target_sum=1e4)
    sc.pp.log1p(a)
    x = np.expm1(a.X.toarray().astype(np.float64))
    mean, var = x.mean(axis=0), x.var(axis=0, ddof=1)
    for n_top in (10, 100, 290):
        expected = sc.pp.highly_variable_genes(a, n_top_genes=n_top, flavor="seurat", inplace=False)["highly_variable"]
        np.testing.assert_array_equal(seurat_hvg(mean, var, n_top), expected.to_numpy())


def test_stats_report_coverage(data):
    counts, E, found = data
    _, stats = embed_scaled(counts, E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    d = stats.to_dict()
    assert d["n_genes_missing"] == 4 and d["n_cells"] == N_CELLS and d["n_empty_cells"] == 1
    assert 0 < d["variance_explained"] <= 1 and 0 < d["fraction_variance_embedded"] <= 1
    assert "highly variable genes have an embedding" in str(stats) and "1 of 61 cells" in str(stats)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"transform": "sqrt"}, "transform"),
        ({"n_top_genes": 0}, "n_top_genes"),
        ({"n_comps": 0}, "n_comps"),
        ({"max_value": 0}, "max_value"),
        ({"found": np.ones(3, dtype=bool)}, "found"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match, data):
    counts, E, _ = data
    with pytest.raises(ValueError, match=match):
        embed_scaled(counts, E, **kwargs)


def test_bad_inputs_are_refused(data):
    counts, E, found = data
    with pytest.raises(ValueError, match="align"):
        embed_scaled(counts, E[:-1])
    with pytest.raises(ValueError, match="no gene has an embedding"):
        embed_scaled(counts, np.zeros_like(E))
    with pytest.raises(ValueError, match="at least 2 cells"):
        embed_scaled(counts[:1], E)
    bad = counts.copy()
    bad[3, 2] = -1
    with pytest.raises(ValueError, match="negative values"):
        embed_scaled(sp.csr_matrix(bad), E, found=found)
    X = sp.csr_matrix(counts)
    before = X.data.copy()
    embed_scaled(X, E, found=found, n_comps=N_COMPS)
    np.testing.assert_array_equal(X.data, before)  # the input is not modified


def test_pandas_free_of_warnings_on_categorical_bins(data, recwarn):
    counts, E, found = data
    embed_scaled(counts, E, found=found, n_top_genes=N_TOP, n_comps=N_COMPS)
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning | pd.errors.PerformanceWarning)]


# -- through genept.tl / queries / CLI --------------------------------------------------------------
@pytest.fixture
def gene_emb(small_adata, rng):
    from genept.embeddings import GeneEmbeddings

    genes = list(small_adata.var_names[:-5])  # the last five genes have no embedding
    return GeneEmbeddings(genes, rng.normal(size=(len(genes), 16)).astype(np.float32), {"encoder": "test:random"})


def test_tl_default_is_genept_scaled(small_adata, gene_emb):
    import genept

    adata = small_adata
    genept.tl.embed_cells(adata, gene_emb)
    Y = adata.obsm["X_genept_scaled"]
    E, found = gene_emb.reindex(adata.var_names)
    ref, _ = embed_scaled(adata.X, E, found=found)
    np.testing.assert_allclose(Y, ref, atol=1e-6)
    rec = adata.uns["X_genept_scaled"]
    assert rec["method"] == "GenePT-scaled"
    assert rec["params"]["transform"] == "log1p_cp10k" and rec["params"]["n_top_genes"] == 2000 and rec["params"]["n_comps"] == 50
    assert rec["coverage"]["n_hvg"] == 40 and rec["coverage"]["n_hvg_embedded"] == 35 and rec["coverage"]["n_comps"] == 16
    assert rec["gene_embeddings"]["encoder"] == "test:random"
    genept.tl.embed_cells(adata, gene_emb, method="w")  # the paper's GenePT-w stays available
    assert adata.uns["X_genept_w"]["method"] == "GenePT-w"


def test_tl_backed_and_dask_equal_in_memory(small_adata, gene_emb, tmp_path):
    import genept

    path = tmp_path / "cells.h5ad"
    small_adata.write_h5ad(path)
    genept.tl.embed_cells(small_adata, gene_emb, n_comps=8)
    backed = ad.read_h5ad(path, backed="r")
    genept.tl.embed_cells(backed, gene_emb, n_comps=8, chunk_size=7)
    np.testing.assert_allclose(backed.obsm["X_genept_scaled"], small_adata.obsm["X_genept_scaled"], atol=1e-5)
    backed.file.close()
    da = pytest.importorskip("dask.array")
    lazy = small_adata.copy()
    lazy.X = da.from_array(small_adata.X, chunks=(16, 40))
    genept.tl.embed_cells(lazy, gene_emb, n_comps=8)
    np.testing.assert_allclose(lazy.obsm["X_genept_scaled"], small_adata.obsm["X_genept_scaled"], atol=1e-5)


def test_tl_needs_gene_embeddings(small_adata):
    import genept

    with pytest.raises(ValueError, match="GenePT-scaled needs gene embeddings"):
        genept.tl.embed_cells(small_adata)


def test_zero_shot_works_in_the_text_space():
    """Cells of three types, each over-expressing genes about one theme, are named by the theme's text."""
    from genept import tl
    from genept.embeddings import GeneEmbeddings
    from genept.encoders import get_encoder
    from genept.tl import search_cells, zero_shot_annotate

    enc = get_encoder("hashing", dim=256)
    themes = {
        "antiviral": "interferon antiviral response virus defence",
        "translating": "ribosome translation ribosomal subunit",
        "matrix": "collagen extracellular matrix fibroblast",
    }
    rng = np.random.default_rng(3)
    texts = {f"{t}{i}": f"Summary: involved in {words}." for t, words in themes.items() for i in range(8)}
    texts |= {f"OTHER{i}": f"Summary: {' '.join(rng.choice(['kinase', 'membrane', 'nuclear', 'binding', 'channel'], 3))}." for i in range(24)}
    genes = list(texts)
    emb = GeneEmbeddings(genes, enc.encode(list(texts.values())), {"encoder": enc.identity})
    counts = rng.poisson(2.0, size=(75, len(genes))).astype(np.float32)
    for t in range(3):
        counts[t * 25 : (t + 1) * 25, t * 8 : (t + 1) * 8] += rng.poisson(5.0, size=(25, 8))
    labels = np.repeat(list(themes), 25)
    adata = ad.AnnData(sp.csr_matrix(counts), obs=pd.DataFrame({"cell_type": labels}, index=[f"c{i}" for i in range(75)]))
    adata.var_names = genes
    tl.embed_cells(adata, emb, n_comps=10)
    zero_shot_annotate(adata, themes, encoder=enc)  # the default basis is X_genept_scaled
    assert (adata.obs["genept_zero_shot"].astype(str).to_numpy() == labels).mean() >= 0.95
    search_cells(adata, "collagen extracellular matrix", encoder=enc)
    score = adata.obs["genept_search"].to_numpy()
    assert score[labels == "matrix"].min() > score[labels != "matrix"].max()


def test_cli_embed_cells_default_is_scaled(small_adata, gene_emb, tmp_path, capsys):
    from genept.cli import main

    src, dst = tmp_path / "in.h5ad", tmp_path / "out.h5ad"
    small_adata.write_h5ad(src)
    genes = gene_emb.save(tmp_path / "genes.npz")
    assert main(["embed-cells", str(src), str(dst), "--genes", str(genes), "--n-comps", "8", "-q"]) == 0
    assert "highly variable genes: 40, 35 with an embedding" in capsys.readouterr().out
    out = ad.read_h5ad(dst)
    assert out.obsm["X_genept_scaled"].shape == (60, 16)
    assert out.uns["X_genept_scaled"]["params"]["n_comps"] == 8
