"""Text queries: zero-shot annotation, gene and cell search (hashing encoder, synthetic themes)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genept.embeddings import GeneEmbeddings
from genept.encoders import get_encoder
from genept.text import UNASSIGNED, assign_labels, text_scores
from genept.tl import label_gene_sets, search_cells, search_genes, zero_shot_annotate

THEMES = {
    "IFN": "interferon antiviral response innate immunity signaling",
    "RIB": "ribosome translation ribosomal subunit rRNA processing",
    "ECM": "collagen extracellular matrix fibroblast adhesion",
}
FILLER = ["cell", "protein", "regulation", "process", "binding", "activity", "complex", "expressed"]
LABELS = {
    "antiviral": "interferon antiviral response innate immunity",
    "translating": "ribosome translation ribosomal subunit",
    "matrix": "collagen extracellular matrix fibroblast",
}


@pytest.fixture(scope="module")
def enc():
    return get_encoder("hashing", dim=256)


@pytest.fixture(scope="module")
def themed(enc):
    """Gene embeddings of 3 x 10 themed gene texts (+ 30 others) and 90 cells, each type expressing one theme."""
    from genept import tl

    rng = np.random.default_rng(1)
    texts = {}
    for theme, words in THEMES.items():
        for i in range(10):
            g = f"{theme}{i}"
            texts[g] = f"Gene symbol: {g}\nSummary: involved in {words}. " + " ".join(rng.choice(FILLER, 3))
    for i in range(30):  # background genes, a reference pool for score_genes
        texts[f"OTHER{i}"] = f"Gene symbol: OTHER{i}\nSummary: " + " ".join(rng.choice(FILLER, 5))
    genes = list(texts)
    emb = GeneEmbeddings(genes, enc.encode([texts[g] for g in genes]), {"encoder": enc.identity})
    counts = rng.poisson(2.0, size=(90, len(genes))).astype(np.float32)
    for t in range(3):
        counts[t * 30 : (t + 1) * 30, t * 10 : (t + 1) * 10] += rng.poisson(6.0, size=(30, 10))
    adata = ad.AnnData(
        sp.csr_matrix(counts),
        obs=pd.DataFrame({"cell_type": np.repeat(list(LABELS), 30)}, index=[f"c{i}" for i in range(90)]),
        var=pd.DataFrame(index=genes),
    )
    tl.embed_cells(adata, emb)
    return adata, emb, texts


def test_zero_shot_recovers_the_cell_types(themed, enc):
    adata, _, _ = themed
    out = zero_shot_annotate(adata, LABELS, encoder=enc, copy=True)
    pred = out.obs["genept_zero_shot"]
    assert list(pred.cat.categories) == [*LABELS, UNASSIGNED]
    assert (pred.astype(str) == out.obs["cell_type"]).mean() == 1.0
    scores = out.obsm["genept_zero_shot_scores"]
    assert isinstance(scores, pd.DataFrame) and list(scores.columns) == list(LABELS)
    assert scores.dtypes.eq(np.float32).all() and scores.index.equals(out.obs_names)
    margin = out.obs["genept_zero_shot_margin"].to_numpy()
    top2 = -np.sort(-scores.to_numpy(), axis=1)[:, :2]
    np.testing.assert_allclose(margin, top2[:, 0] - top2[:, 1], rtol=1e-6)
    assert out.uns["genept_zero_shot"]["params"]["encoder"] == enc.identity
    assert "genept_zero_shot" not in adata.obs  # copy=True left the input alone


def test_zero_shot_in_place_and_list_labels(themed, enc):
    adata, _, _ = themed
    a = adata.copy()
    assert zero_shot_annotate(a, list(LABELS.values()), encoder=enc, key_added="zs") is None
    assert set(a.obs["zs"].cat.categories) == {*LABELS.values(), UNASSIGNED}
    assert "zs_scores" in a.obsm


def test_zero_shot_threshold_leaves_uncertain_cells_unassigned(themed, enc):
    adata, _, _ = themed
    a = zero_shot_annotate(adata, LABELS, encoder=enc, copy=True)
    margin = a.obs["genept_zero_shot_margin"].to_numpy()
    cut = float(np.median(margin))
    b = zero_shot_annotate(adata, LABELS, encoder=enc, min_margin=cut, copy=True)
    unassigned = (b.obs["genept_zero_shot"] == UNASSIGNED).to_numpy()
    np.testing.assert_array_equal(unassigned, margin < cut)
    c = zero_shot_annotate(adata, LABELS, encoder=enc, min_score=2.0, copy=True)  # above any cosine
    assert (c.obs["genept_zero_shot"] == UNASSIGNED).all()


def test_zero_shot_refuses_another_encoder(themed):
    adata, _, _ = themed
    with pytest.raises(ValueError, match="same encoder"):
        zero_shot_annotate(adata, LABELS, encoder=get_encoder("hashing", dim=128), copy=True)


@pytest.mark.parametrize(
    ("labels", "err", "match"),
    [
        ({"a": "interferon", "b": "  "}, ValueError, "empty"),
        (["interferon", ""], ValueError, "empty"),
        (["interferon"], ValueError, "at least two"),
        ({"a": "x", UNASSIGNED: "y"}, ValueError, "reserved"),
        ("interferon", TypeError, "list of names"),
        (["x", "x"], ValueError, "unique"),
    ],
)
def test_zero_shot_bad_labels(themed, enc, labels, err, match):
    adata, _, _ = themed
    with pytest.raises(err, match=match):
        zero_shot_annotate(adata, labels, encoder=enc, copy=True)


def test_zero_shot_needs_the_basis(themed, enc):
    adata, _, _ = themed
    with pytest.raises(KeyError, match="embed the cells first"):
        zero_shot_annotate(adata, LABELS, basis="X_missing", encoder=enc, copy=True)


def test_assign_labels_ties_margins_and_nan():
    S = np.array(
        [
            [0.5, 0.5, 0.1],  # exact tie: earlier label with min_margin=0, unassigned with > 0
            [0.1, 0.3, 0.29],  # margin 0.01
            [np.nan, np.nan, np.nan],  # no embedding
            [0.2, 0.9, 0.0],
        ],
        dtype=np.float32,
    )
    names = ["a", "b", "c"]
    assert assign_labels(S, names).tolist() == ["a", "b", UNASSIGNED, "b"]
    assert assign_labels(S, names, min_margin=0.05).tolist() == [UNASSIGNED, UNASSIGNED, UNASSIGNED, "b"]
    assert assign_labels(S, names, min_margin=1e-6).tolist()[0] == UNASSIGNED
    assert assign_labels(S, names, min_score=0.4).tolist() == ["a", UNASSIGNED, UNASSIGNED, "b"]
    with pytest.raises(ValueError, match="min_margin"):
        assign_labels(S, names, min_margin=-1)
    with pytest.raises(ValueError, match="do not match"):
        assign_labels(S, ["a", "b"])


def test_text_scores_centring_and_empty_cells():
    rng = np.random.default_rng(0)
    C = rng.normal(size=(6, 8)).astype(np.float32)
    C[2] = 0.0
    T = rng.normal(size=(2, 8)).astype(np.float32)
    S = text_scores(C, T)
    mean = C[[0, 1, 3, 4, 5]].mean(axis=0)
    D = C - mean
    Tn = T / np.linalg.norm(T, axis=1, keepdims=True)
    expected = (D / np.linalg.norm(D, axis=1, keepdims=True)) @ Tn.T
    keep = [0, 1, 3, 4, 5]
    np.testing.assert_allclose(S[keep], expected[keep], rtol=1e-5, atol=1e-6)
    assert np.isnan(S[2]).all()
    raw = text_scores(C, T, center=False)
    np.testing.assert_allclose(raw[0], (C[0] / np.linalg.norm(C[0])) @ Tn.T, rtol=1e-5)
    with pytest.raises(ValueError, match="same dimension"):
        text_scores(C, T[:, :4])


def test_search_genes_ranks_the_theme_first(themed, enc):
    _, emb, _ = themed
    hits = search_genes("collagen extracellular matrix fibroblast adhesion", emb, enc, top_n=10)
    assert list(hits.columns) == ["gene", "score", "rank"]
    assert hits["rank"].tolist() == list(range(1, 11))
    assert all(g.startswith("ECM") for g in hits["gene"])
    assert hits["score"].is_monotonic_decreasing
    assert len(search_genes("collagen", emb, enc, top_n=1000)) == len(emb)


def test_search_genes_ties_are_ordered_by_name(enc):
    v = enc.encode(["insulin secretion", "insulin secretion", "collagen"])
    emb = GeneEmbeddings(["ZZZ", "AAA", "MMM"], v, {"encoder": enc.identity})
    hits = search_genes("insulin secretion", emb, enc, top_n=3)
    assert hits["gene"].tolist() == ["AAA", "ZZZ", "MMM"]
    assert hits["score"].iloc[0] == hits["score"].iloc[1]


def test_search_genes_errors(themed, enc):
    _, emb, _ = themed
    with pytest.raises(ValueError, match="empty"):
        search_genes("   ", emb, enc)
    with pytest.raises(ValueError, match="top_n"):
        search_genes("collagen", emb, enc, top_n=0)
    with pytest.raises(ValueError, match="same encoder"):
        search_genes("collagen", emb, get_encoder("hashing", dim=64))


def test_search_cells_scores_the_matching_type_highest(themed, enc):
    adata, _, _ = themed
    out = search_cells(adata, "interferon antiviral response", encoder=enc, copy=True)
    s = out.obs["genept_search"]
    assert s.dtype == np.float32
    means = s.groupby(out.obs["cell_type"]).mean()
    assert means.idxmax() == "antiviral" and means["antiviral"] > 0 > means["matrix"]
    params = out.uns["genept_search"]["params"]
    assert params["query"] == "interferon antiviral response" and params["basis"] == "X_genept_scaled"
    assert params["encoder"] == enc.identity and params["center"] is True
    with pytest.raises(ValueError, match="empty"):
        search_cells(adata, "", encoder=enc, copy=True)


def test_zero_shot_gene_sets(themed, enc):
    import scanpy as sc

    adata, emb, _ = themed
    a = adata.copy()
    a.layers["log"] = a.X.copy()
    sc.pp.normalize_total(a, layer="log")
    sc.pp.log1p(a, layer="log")
    zero_shot_annotate(a, LABELS, method="genes", gene_embeddings=emb, encoder=enc, n_genes=5, layer="log")
    assert (a.obs["genept_zero_shot"].astype(str) == a.obs["cell_type"]).all()
    info = a.uns["genept_zero_shot"]
    assert info["params"]["method"] == "genes" and info["params"]["encoder"] == enc.identity
    assert info["params"]["layer"] == "log" and info["params"]["lognormalized"] is False
    prefix = {"antiviral": "IFN", "translating": "RIB", "matrix": "ECM"}
    for label, genes in info["genes"]["genes"].items():
        genes = genes.split(", ")
        assert len(genes) == 5 and all(g.startswith(prefix[label]) for g in genes)
    with pytest.warns(UserWarning, match="raw counts"):  # counts="warn": scored as it is
        zero_shot_annotate(adata, LABELS, method="genes", gene_embeddings=emb, encoder=enc, counts="warn", copy=True)
    with pytest.raises(ValueError, match="needs gene_embeddings"):
        zero_shot_annotate(a, LABELS, method="genes", encoder=enc, copy=True)
    with pytest.raises(ValueError, match="layer"):  # the one matrix chooser (tl._store.expression)
        zero_shot_annotate(a, LABELS, method="genes", gene_embeddings=emb, encoder=enc, layer="nope", copy=True)
    # counts="normalize": raw counts in X are scored as log1p(counts per 10,000), X left as it is.
    b = zero_shot_annotate(adata, LABELS, method="genes", gene_embeddings=emb, encoder=enc, n_genes=5, counts="normalize", copy=True)
    assert b.uns["genept_zero_shot"]["params"]["lognormalized"] is True
    assert (b.X != adata.X).nnz == 0
    c = adata.copy()
    c.layers["cp10k"] = c.X.copy()
    sc.pp.normalize_total(c, layer="cp10k", target_sum=1e4)
    sc.pp.log1p(c, layer="cp10k")
    zero_shot_annotate(c, LABELS, method="genes", gene_embeddings=emb, encoder=enc, n_genes=5, layer="cp10k")
    np.testing.assert_allclose(b.obsm["genept_zero_shot_scores"], c.obsm["genept_zero_shot_scores"], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="same encoder"):
        zero_shot_annotate(a, LABELS, method="genes", gene_embeddings=emb, encoder=get_encoder("hashing", dim=64), copy=True)
    with pytest.raises(ValueError, match="method"):
        zero_shot_annotate(a, LABELS, method="nearest", copy=True)


def test_label_gene_sets_ties_follow_var_order(enc):
    v = enc.encode(["insulin secretion", "insulin secretion", "collagen fibre"])
    emb = GeneEmbeddings(["ZZZ", "AAA", "MMM"], v, {"encoder": enc.identity})
    a = ad.AnnData(np.zeros((2, 4), dtype=np.float32), var=pd.DataFrame(index=["MMM", "ZZZ", "NOEMB", "AAA"]))
    sets = label_gene_sets(a, {"beta": "insulin secretion", "fibro": "collagen fibre"}, emb, enc, n_genes=2)
    assert sets == {"beta": ["ZZZ", "AAA"], "fibro": ["MMM", "ZZZ"]}
    with pytest.raises(ValueError, match="n_genes"):
        label_gene_sets(a, ["x"], emb, enc, n_genes=0)


def test_encoder_identity_is_read_from_genept_s_records_or_trusted_when_absent(themed, enc):
    adata, _, _ = themed
    a = adata.copy()
    a.obsm["X_s"] = a.obsm["X_genept_scaled"].copy()
    a.uns["X_s"] = {"params": {}, "method": "GenePT-s", "encoder": {"identity": "hashing:dim=999:bigrams=1:v1"}}
    with pytest.raises(ValueError, match="dim=999"):
        zero_shot_annotate(a, LABELS, basis="X_s", encoder=enc, copy=True)
    # The genept 0.1 layout uns["genept"][basis] is still read, with a DeprecationWarning.
    del a.uns["X_s"]
    a.uns["genept"] = {"X_s": {"method": "GenePT-s", "encoder": {"identity": "hashing:dim=999:bigrams=1:v1"}}}
    with pytest.warns(DeprecationWarning, match="0.1 layout"), pytest.raises(ValueError, match="dim=999"):
        zero_shot_annotate(a, LABELS, basis="X_s", encoder=enc, copy=True)
    a.obsm["X_plain"] = a.obsm["X_genept_scaled"].copy()  # no record: the given encoder is trusted
    out = zero_shot_annotate(a, LABELS, basis="X_plain", encoder=enc, copy=True)
    assert (out.obs["genept_zero_shot"].astype(str) == out.obs["cell_type"]).all()


def test_zero_shot_records_params_and_survives_h5ad(themed, enc, tmp_path):
    adata, _, _ = themed
    a = adata.copy()
    zero_shot_annotate(a, LABELS, encoder=enc, min_margin=0.01)
    entry = a.uns["genept_zero_shot"]
    assert entry["params"] == {
        "method": "embedding", "min_margin": 0.01, "min_score": "", "basis": "X_genept_scaled", "center": True,
        "encoder": enc.identity, "markers": True, "marker_weight": 3.0, "smooth": 10, "refine": 0,
    }  # fmt: skip
    assert (entry["marker_genes"]["genes"] == "").all()  # these descriptions name no gene
    assert entry["labels"].tolist() == list(LABELS) and "genept_version" in entry
    search_cells(a, "collagen", encoder=enc)
    a.write_h5ad(tmp_path / "z.h5ad")
    b = ad.read_h5ad(tmp_path / "z.h5ad")
    assert b.uns["genept_zero_shot"]["params"]["encoder"] == enc.identity
    assert b.uns["genept_search"]["params"]["query"] == "collagen"
