"""Gene programs: Leiden on gene embeddings, TF-IDF names, GO enrichment, scores, heatmap."""

from __future__ import annotations

import logging
from math import comb

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genept.embeddings import GeneEmbeddings
from genept.encoders import get_encoder
from genept.pl import program_heatmap
from genept.text import program_enrichment, program_terms
from genept.tl import gene_programs, score_programs

THEMES = {
    "IFN": "interferon antiviral response innate immunity signaling",
    "RIB": "ribosome translation ribosomal subunit rRNA processing",
    "ECM": "collagen extracellular matrix fibroblast adhesion",
}
FILLER = ["cell", "protein", "regulation", "process", "binding", "activity", "complex", "expressed"]


@pytest.fixture(scope="module")
def themed():
    """3 themes x 12 genes with themed texts; 90 cells, each type over-expressing one theme.

    Two extra genes: ``LONE`` (its own topic, too small for a program) and ``NOEMB`` (no embedding).
    """
    rng = np.random.default_rng(0)
    texts = {}
    for theme, words in THEMES.items():
        for i in range(12):
            g = f"{theme}{i}"
            texts[g] = f"Gene symbol: {g}\nSummary: involved in {words}. " + " ".join(rng.choice(FILLER, 3))
    texts["LONE"] = "Gene symbol: LONE\nSummary: olfactory receptor for odorant molecules in the nose."
    genes = list(texts)
    enc = get_encoder("hashing", dim=256)
    emb = GeneEmbeddings(genes, enc.encode([texts[g] for g in genes]), {"encoder": enc.identity})
    var = [*genes, "NOEMB"]
    counts = rng.poisson(1.0, size=(90, len(var))).astype(np.float32)
    for t in range(3):
        counts[t * 30 : (t + 1) * 30, t * 12 : (t + 1) * 12] += rng.poisson(8.0, size=(30, 12))
    adata = ad.AnnData(
        sp.csr_matrix(counts),
        obs=pd.DataFrame({"cell_type": np.repeat(["A", "B", "C"], 30)}, index=[f"c{i}" for i in range(90)]),
        var=pd.DataFrame(index=var),
    )
    return adata, emb, texts


def test_programs_recover_the_themes(themed, caplog):
    adata, emb, texts = themed
    with caplog.at_level(logging.INFO, logger="genept.text"):
        out = gene_programs(adata, emb, n_neighbors=6, corpus=texts, copy=True)
    assert "key" not in adata.var and "genept_programs" not in adata.var  # copy=True
    col = out.var["genept_programs"]
    assert isinstance(col.dtype, pd.CategoricalDtype)
    info = out.uns["genept_programs"]
    programs = {p: set(g) - {"LONE"} for p, g in info["programs"].items()}  # LONE joins its nearest genes
    assert sorted(map(sorted, programs.values())) == sorted(sorted(f"{t}{i}" for i in range(12)) for t in THEMES)
    assert pd.isna(col["NOEMB"])
    assert info["params"]["n_genes_without_embedding"] == 1
    assert "no embedding" in caplog.text
    summary = info["summary"]
    assert sorted(summary["n_genes"].tolist()) == [12, 12, 13] and list(summary.index) == ["P0", "P1", "P2"]
    assert summary["n_genes"].iloc[0] == 13  # numbered by decreasing size
    for p, genes in programs.items():
        theme = next(iter(genes))[:3]
        assert any(w in summary.loc[p, "terms"] for w in THEMES[theme].lower().split()), summary.loc[p, "terms"]
        assert (col[list(genes)] == p).all()


def test_programs_use_highly_variable_genes_and_validate(themed):
    adata, emb, _ = themed
    a = adata.copy()
    a.var["highly_variable"] = [g.startswith(("IFN", "RIB")) for g in a.var_names]
    gene_programs(a, emb, n_neighbors=6)
    members = {g for genes in a.uns["genept_programs"]["programs"].values() for g in genes}
    assert members == {g for g in a.var_names if g.startswith(("IFN", "RIB"))}
    assert a.uns["genept_programs"]["params"]["genes"] == "highly_variable"
    with pytest.raises(ValueError, match="not in adata.var_names"):
        gene_programs(adata, emb, genes=["IFN0", "NOT_A_GENE"], copy=True)
    with pytest.raises(ValueError, match="need more than n_neighbors"):
        gene_programs(adata, emb, genes=["IFN0", "IFN1", "NOEMB"], copy=True)
    big = gene_programs(adata, emb, n_neighbors=6, min_size=13, copy=True)
    assert list(big.uns["genept_programs"]["programs"]) == ["P0"]  # the 12-gene communities are dropped
    assert big.var["genept_programs"].notna().sum() == 13
    with pytest.raises(ValueError, match="min_size"):
        gene_programs(adata, emb, n_neighbors=6, min_size=100, copy=True)


def test_programs_are_deterministic(themed):
    adata, emb, _ = themed
    a = gene_programs(adata, emb, n_neighbors=6, resolution=2.0, seed=3, copy=True)
    b = gene_programs(adata, emb, n_neighbors=6, resolution=2.0, seed=3, copy=True)
    pd.testing.assert_series_equal(a.var["genept_programs"], b.var["genept_programs"])


def test_enrichment_pvalue_matches_hand_computed_hypergeometric():
    # Universe N=20 annotated genes; term of K=5; program of n=4 with k=3 in the term.
    background = [f"g{i}" for i in range(20)]
    annotations = {"T1": background[:5], "T2": background[5:15], "T3": background[15:]}
    res = program_enrichment({"P": ["g0", "g1", "g2", "g10"]}, annotations, background, min_term_size=1)
    row = res.set_index("term").loc["T1"]
    p_hand = (comb(5, 3) * comb(15, 1) + comb(5, 4) * comb(15, 0)) / comb(20, 4)  # P(X >= 3)
    assert row["pvalue"] == pytest.approx(p_hand, rel=1e-10)
    assert (row["overlap"], row["program_size"], row["term_size"], row["universe"]) == (3, 4, 5, 20)
    assert row["expected"] == pytest.approx(4 * 5 / 20) and row["fold"] == pytest.approx(3 / 1)
    assert row["genes"] == "g0, g1, g2"
    # T2 (k=1 of K=10): P(X >= 1) = 1 - C(10,4)/C(20,4); T3 (k=0) has p = 1 and is not listed,
    # but it is one of the m = 3 tests: BH by hand, padj_(i) = min_{j >= i} p_(j) * m / j.
    p2 = 1 - comb(10, 4) / comb(20, 4)
    assert res.set_index("term").loc["T2", "pvalue"] == pytest.approx(p2, rel=1e-10)
    assert p_hand < p2 < 1
    assert res.set_index("term").loc["T1", "padj"] == pytest.approx(min(p_hand * 3 / 1, p2 * 3 / 2, 1.0))
    assert res.set_index("term").loc["T2", "padj"] == pytest.approx(min(p2 * 3 / 2, 1.0))
    assert res["term"].tolist() == ["T1", "T2"]  # sorted by p-value


def test_enrichment_bh_matches_statsmodels():
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
    rng = np.random.default_rng(3)
    background = [f"g{i}" for i in range(300)]
    annotations = {f"T{j}": list(rng.choice(background, size=int(rng.integers(5, 60)), replace=False)) for j in range(40)}
    program = list(rng.choice(background, size=40, replace=False)) + annotations["T0"][:10]
    res = program_enrichment({"P": program}, annotations, background)
    # Terms without overlap are tested too (p = 1): rebuild the full vector of p-values.
    from scipy.stats import hypergeom

    universe = set().union(*map(set, annotations.values()))  # annotated background genes
    prog = set(program) & universe
    N = len(universe)
    pvals = np.array([hypergeom.sf(len(prog & set(g)) - 1, N, len(set(g)), len(prog)) for g in annotations.values()])
    ref = multipletests(pvals, method="fdr_bh")[1]
    expected = dict(zip(annotations, ref, strict=True))
    for term, padj in zip(res["term"], res["padj"], strict=True):
        assert padj == pytest.approx(expected[term], rel=1e-9)


def test_enrichment_universe_table_input_and_unknown_genes(caplog):
    background = [f"g{i}" for i in range(12)] + ["unannotated"]
    table = pd.DataFrame({"symbol": [f"g{i}" for i in range(12)], "go_id": ["GO:1"] * 6 + ["GO:2"] * 6})
    mapping = {"GO:1": [f"g{i}" for i in range(6)], "GO:2": [f"g{i}" for i in range(6, 12)]}
    programs = {"P0": ["g0", "g1", "g2", "unannotated", "not_in_background"]}
    with caplog.at_level(logging.WARNING, logger="genept.text"):
        a = program_enrichment(programs, table, background, term_names={"GO:1": "first"})
    assert "not in the background" in caplog.text
    b = program_enrichment(programs, mapping, background, term_names={"GO:1": "first"})
    pd.testing.assert_frame_equal(a, b)
    row = a.set_index("term").loc["GO:1"]
    # The universe is the annotated background (12 genes); unannotated program genes do not count.
    assert (row["universe"], row["program_size"], row["overlap"], row["term_name"]) == (12, 3, 3, "first")
    assert "GO:2" not in set(a["term"])  # no overlap: tested (counts in BH) but not listed
    assert program_enrichment(programs, mapping, background, min_term_size=7).empty
    with pytest.raises(ValueError, match="same identifiers"):
        program_enrichment(programs, mapping, ["x", "y"])
    with pytest.raises(ValueError, match="gene column"):
        program_enrichment(programs, pd.DataFrame({"a": [1], "b": [2]}), background)


def test_programs_with_annotations_name_the_best_term(themed):
    adata, emb, _ = themed
    go = {"GO:ifn": [f"IFN{i}" for i in range(10)], "GO:mix": ["IFN0", "RIB0", "ECM0", "RIB1", "ECM1"]}
    out = gene_programs(adata, emb, n_neighbors=6, annotations=go, term_names={"GO:ifn": "interferon"}, copy=True)
    info = out.uns["genept_programs"]
    ifn = next(p for p, g in info["programs"].items() if "IFN0" in g)
    assert info["summary"].loc[ifn, "top_term"] == "interferon"
    assert info["summary"].loc[ifn, "top_term_padj"] < 0.05
    assert set(info["enrichment"]["program"]) <= set(info["programs"])


def test_program_terms_need_several_members():
    texts = {
        "A1": "zinc finger transcription factor AAA1. Alternative splicing results in multiple transcript variants.",
        "A2": "zinc finger transcription repressor.\nMultiple transcript variants encoding different isoforms have been found.",
        "B1": "potassium channel voltage gated",
        "B2": "potassium channel inward rectifier",
        "C1": "unrelated kinase",
    }
    terms = program_terms({"A": ["A1", "A2"], "B": ["B1", "B2"], "empty": ["nope"]}, texts, n_terms=3)
    assert terms["A"][0] in ("zinc finger", "finger transcription") and "aaa1" not in terms["A"]
    assert not any("variant" in t or "splicing" in t for t in terms["A"])  # RefSeq boilerplate is ignored
    assert "potassium channel" in terms["B"] and "potassium" not in terms["B"]  # the pair replaces the word
    assert terms["empty"] == []
    with pytest.raises(ValueError, match="no gene texts"):
        program_terms({"A": ["A1"]}, {})


def test_score_programs_and_heatmap(themed, tmp_path):
    import scanpy as sc

    adata, emb, _ = themed
    a = gene_programs(adata, emb, n_neighbors=6, copy=True)
    with pytest.warns(UserWarning, match="raw counts"):
        score_programs(a, copy=True)
    sc.pp.normalize_total(a)
    sc.pp.log1p(a)
    score_programs(a)
    scores = a.obsm["genept_programs_scores"]
    assert list(scores.columns) == ["P0", "P1", "P2"] and scores.dtypes.eq(np.float32).all()
    means = scores.groupby(a.obs["cell_type"]).mean()
    for p, genes in a.uns["genept_programs"]["programs"].items():
        theme = genes[0][:3]
        assert means[p].idxmax() == "ABC"[list(THEMES).index(theme)]
    png = tmp_path / "sub" / "heat.png"
    ax = program_heatmap(a, "cell_type", path=png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B", "C"]
    assert not list(png.parent.glob(".*"))  # no temporary file left behind
    with pytest.raises(KeyError, match="obs"):
        program_heatmap(a, "nope")
    with pytest.raises(KeyError, match="score_programs"):
        program_heatmap(adata, "cell_type")


def test_score_programs_with_missing_genes(themed):
    adata, emb, _ = themed
    a = gene_programs(adata, emb, n_neighbors=6, copy=True)
    a.layers["log"] = a.X.copy()
    a.layers["log"].data = np.log1p(a.layers["log"].data)
    a.uns["genept_programs"]["programs"]["P9"] = np.array(["GONE1", "GONE2"])
    b = a[:, [g for g in a.var_names if g != "IFN0"]].copy()  # a program gene dropped by subsetting
    with pytest.warns(UserWarning, match="P9"):
        score_programs(b, layer="log")
    scores = b.obsm["genept_programs_scores"]
    assert scores["P9"].isna().all() and scores.drop(columns="P9").notna().all().all()
    with pytest.raises(KeyError, match="gene_programs"):
        score_programs(adata, key="nothing")


def test_score_programs_without_reference_genes():
    rng = np.random.default_rng(0)
    a = ad.AnnData(np.log1p(rng.poisson(3, (20, 6)).astype(np.float32) + 0.5), var=pd.DataFrame(index=list("ABCDEF")))
    a.uns["genept_programs"] = {"programs": {"P0": np.array(list("ABCDEF"))}}  # every gene in the program
    with pytest.raises(ValueError, match="lower n_bins"):
        score_programs(a)


def test_programs_survive_h5ad(themed, tmp_path):
    import scanpy as sc

    adata, emb, texts = themed
    go = {"GO:ifn": [f"IFN{i}" for i in range(10)]}
    a = gene_programs(adata, emb, n_neighbors=6, corpus=texts, annotations=go, copy=True)
    sc.pp.log1p(a)
    score_programs(a)
    a.write_h5ad(tmp_path / "p.h5ad")
    b = ad.read_h5ad(tmp_path / "p.h5ad")
    pd.testing.assert_frame_equal(b.uns["genept_programs"]["summary"], a.uns["genept_programs"]["summary"])
    assert b.uns["genept_programs"]["programs"]["P0"].tolist() == a.uns["genept_programs"]["programs"]["P0"].tolist()
    assert b.obsm["genept_programs_scores"].shape == (90, 3)
    assert b.var["genept_programs"].equals(a.var["genept_programs"])


def test_read_go_sets_filters_and_propagates(tmp_path):
    from genept.genes.ontology import read_go_sets

    (tmp_path / "ann.tsv").write_text(
        "symbol\tgo_id\tevidence\tontology\nA\tGO:3\tIDA\tBP\nB\tGO:2\tIEA\tBP\nC\tGO:2\tND\tBP\nD\tGO:9\tIDA\tCC\n"
    )
    (tmp_path / "terms.tsv").write_text(
        "go_id\tontology\tterm\nGO:1\tBP\troot process\nGO:2\tBP\tmiddle\nGO:3\tBP\tleaf\nGO:9\tCC\tplace\n"
    )
    (tmp_path / "parents.tsv").write_text(
        "child_go_id\tparent_go_id\trelationship_type\tontology\nGO:3\tGO:2\tisa\tBP\nGO:2\tGO:1\tpart of\tBP\n"
        "GO:3\tGO:7\tregulates\tBP\n"
    )
    direct, names = read_go_sets(tmp_path / "ann.tsv", tmp_path / "terms.tsv")
    assert sorted(map(tuple, direct.to_numpy().tolist())) == [("A", "GO:3"), ("B", "GO:2")]  # ND and CC dropped
    assert names["GO:2"] == "middle"
    full, _ = read_go_sets(tmp_path / "ann.tsv", tmp_path / "terms.tsv", tmp_path / "parents.tsv")
    pairs = set(map(tuple, full.to_numpy().tolist()))
    assert pairs == {("A", "GO:3"), ("A", "GO:2"), ("A", "GO:1"), ("B", "GO:2"), ("B", "GO:1")}  # not via 'regulates'
    cc, _ = read_go_sets(tmp_path / "ann.tsv", tmp_path / "terms.tsv", ontologies=["CC"])
    assert cc["symbol"].tolist() == ["D"]
    with pytest.raises(ValueError, match="missing column"):
        read_go_sets(tmp_path / "terms.tsv")


def test_programs_and_scores_record_params(themed):
    import scanpy as sc

    adata, emb, _ = themed
    a = adata.copy()
    assert gene_programs(a, emb, n_neighbors=6, species="human", key_added="progs") is None
    params = a.uns["progs"]["params"]
    assert params["species"] == "human" and params["n_neighbors"] == 6 and params["encoder"] == emb.meta["encoder"]
    assert "genept_version" in a.uns["progs"]
    # Raw counts in X: counts="normalize" scores log1p(CP10k) and says so; X is left as it was.
    before = a.X.copy()
    score_programs(a, "progs", counts="normalize", key_added="progs_scored")
    assert (a.X != before).nnz == 0
    p = a.uns["progs_scored"]["params"]
    assert p["programs"] == "progs" and p["lognormalized"] is True and p["expression"] == "adata.X"
    assert a.obsm["progs_scored"].shape == (90, 3)
    # The same scores as normalising by hand.
    b = a.copy()
    sc.pp.normalize_total(b, target_sum=1e4)
    sc.pp.log1p(b)
    score_programs(b, "progs")
    np.testing.assert_allclose(a.obsm["progs_scored"].to_numpy(), b.obsm["progs_scores"].to_numpy(), rtol=1e-5, atol=1e-6)
    assert b.uns["progs_scores"]["params"]["lognormalized"] is False
    with pytest.raises(ValueError, match="species"):
        gene_programs(a, emb, species="fish")


def test_gene_programs_match_mouse_genes_through_orthologs():
    """Mouse var_names reach human-keyed embeddings through orthologs (species='mouse')."""
    human = ["CD3E", "CD3D", "CD3G", "CD4", "CD8A", "INS", "GCG", "SST", "PPY", "IAPP"]
    mouse = ["Cd3e", "Cd3d", "Cd3g", "Cd4", "Cd8a", "Ins2", "Gcg", "Sst", "Ppy", "Iapp"]
    rng = np.random.default_rng(0)
    vectors = np.repeat(np.eye(2, 16, dtype=np.float32), 5, axis=0) + 0.05 * rng.normal(size=(10, 16)).astype(np.float32)
    emb = GeneEmbeddings(human, vectors)
    a = ad.AnnData(np.ones((3, 10), dtype=np.float32), var=pd.DataFrame(index=mouse))
    gene_programs(a, emb, n_neighbors=3, min_size=3, species="mouse")
    programs = sorted(sorted(g) for g in a.uns["genept_programs"]["programs"].values())
    assert programs == [sorted(mouse[:5]), sorted(mouse[5:])]
    assert a.uns["genept_programs"]["params"]["n_genes_without_embedding"] == 0
    # Read as human symbols (case-insensitive), Ins2 has no match: only the ortholog table knows it is INS.
    gene_programs(a, emb, n_neighbors=3, min_size=3, species="human")
    assert a.uns["genept_programs"]["params"]["n_genes_without_embedding"] == 1
    assert pd.isna(a.var["genept_programs"]["Ins2"])
