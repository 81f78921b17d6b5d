"""Zero-shot annotation: marker genes named in the text, label files, calibration, the new default (synthetic)."""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genept.embeddings import GeneEmbeddings
from genept.encoders import get_encoder
from genept.genes.ids import GeneResolver
from genept.text import UNASSIGNED, text_scores
from genept.text.calibration import cell_neighbors, refine_prototypes, smooth_scores, standardize
from genept.text.labels import read_label_file
from genept.text.markers import marker_gene_sets, marker_scores, symbol_candidates
from genept.tl import zero_shot_annotate


@pytest.fixture(scope="module")
def resolver():
    """A resolver over a few genes: no bundled tables are loaded (fast, and independent of their release)."""
    human = pd.DataFrame(
        {
            "symbol": ["INS", "GCG", "PTPRC", "IFNA1", "TBXT", "PPA1", "CD3E"],
            "alias_symbol": ["", "", "", "IFN", "", "PP", ""],
            "prev_symbol": ["", "", "CD45", "", "T", "", ""],
            "ensembl_gene_id": [f"ENSG0000000000{i}" for i in range(7)],
        }
    )
    orthologs = pd.DataFrame(
        {
            "mouse_ensembl": ["ENSMUSG00000000001", "ENSMUSG00000000002", "ENSMUSG00000000003", "ENSMUSG00000000004"],
            "mouse_symbol": ["Ins1", "Ins2", "Gcg", "Ptprc"],
            "human_ensembl": ["ENSG00000000000", "ENSG00000000000", "ENSG00000000001", "ENSG00000000002"],
            "homology": ["ortholog_one2many", "ortholog_one2many", "ortholog_one2one", "ortholog_one2one"],
        }
    )
    mouse = pd.DataFrame(
        {
            "ensembl_id": list(orthologs["mouse_ensembl"]),
            "symbol": list(orthologs["mouse_symbol"]),
            "alias_symbols": ["", "", "", ""],
            "prev_symbols": ["", "", "", ""],
        }
    )
    return GeneResolver(human, version="test", orthologs=orthologs, mouse_genes=mouse)


# -- which words are genes ----------------------------------------------------------------------


def test_symbol_candidates_keep_symbols_and_skip_cell_words():
    text = "Beta cell: secretes insulin (INS); expresses INS, IAPP and NKX6.1. Not NK cells, T cells or PP cells."
    assert symbol_candidates(text) == ["INS", "IAPP", "NKX6.1"]
    assert symbol_candidates("CD14-positive monocyte; HLA-DRA high; CD8 T cells") == ["CD14", "HLA-DRA", "CD8"]
    # mouse-style words count, but not as the first word of a sentence (ordinary capitalised words)
    assert symbol_candidates("Insulin-producing; expresses Ins1 and Ins2. Macrophage markers") == ["Ins1", "Ins2"]
    assert symbol_candidates("lower-case insulin and a single letter B") == []


def test_marker_sets_human(resolver):
    var = ["INS", "GCG", "PTPRC", "IFNA1", "TBXT", "PPA1", "T", "ACTB"]
    texts = {
        "beta": "Beta cell; expresses INS but not GCG.",
        "leuko": "Leukocyte: CD45 positive",  # a previous symbol with a digit: PTPRC
        "ifn": "IFN responding T cell",  # IFN is an alias of IFNA1, T a previous symbol of TBXT: not genes here
        "gamma": "Pancreatic PP cell",  # PP: alias of PPA1, and a cell word follows
        "none": "XYZ123 and QQQ",  # written like symbols, not genes
    }
    sets, notes = marker_gene_sets(texts, var, species="human", resolver=resolver)
    assert sets == {"beta": ["INS", "GCG"], "leuko": ["PTPRC"], "ifn": [], "gamma": [], "none": []}
    assert notes["leuko"]["CD45"] == "previous of PTPRC"
    assert "alias" in notes["ifn"]["IFN"] and "T" not in notes["ifn"]
    assert notes["none"]["XYZ123"] == "not a gene symbol"


def test_capitals_in_var_names_are_taken_as_written(resolver):
    # A word that is a gene of the dataset as written is a marker (the user named it), unless it is one letter.
    sets, _ = marker_gene_sets({"a": "NK cells express NCAM1", "b": "T cells; B cells"}, ["NK", "NCAM1", "T", "B"],
                               species="human", resolver=resolver)  # fmt: skip
    assert sets == {"a": ["NCAM1"], "b": []}


def test_marker_sets_mouse(resolver):
    var = ["Ins1", "Ins2", "Gcg", "Ptprc", "Cd3e", "Actb"]
    texts = {"beta": "Beta cell: INS and GCG", "leuko": "Leukocyte with CD45", "t": "T cell; expresses Cd3e"}
    sets, notes = marker_gene_sets(texts, var, species="auto", resolver=resolver)
    assert sets == {"beta": ["Ins1", "Ins2", "Gcg"], "leuko": ["Ptprc"], "t": ["Cd3e"]}
    assert notes["beta"]["GCG"] == "var_names (case)" and notes["beta"]["INS"].startswith("symbol of INS")
    with pytest.raises(ValueError, match="species"):
        marker_gene_sets(texts, var, species="rat")


def test_marker_scores_standardise_each_gene():
    rng = np.random.default_rng(0)
    X = rng.poisson(1.0, size=(40, 5)).astype(np.float32)
    X[:20, 0] += 20  # gene A: very high in the first half
    X[20:, 1] += 1  # gene B: a little higher in the second half
    S = marker_scores(sp.csr_matrix(X), list("ABCDE"), {"one": ["A"], "two": ["B"], "none": ["Z"]})
    assert S.shape == (40, 3) and S.dtype == np.float32 and np.isnan(S[:, 2]).all()
    np.testing.assert_allclose(S[:, 0].mean(), 0, atol=1e-6)
    np.testing.assert_allclose(S[:, 0].std(), 1, atol=1e-5)
    assert S[:, 1].std() == pytest.approx(1, abs=1e-5)  # same scale whatever the expression level


# -- label files ---------------------------------------------------------------------------------


def test_read_label_files(tmp_path):
    tsv = tmp_path / "l.tsv"
    tsv.write_text("cell_type\tsource\tDescription\nbeta\tme\tbeta cell; INS\nalpha\tme\talpha cell; GCG\n")
    assert read_label_file(tsv) == {"beta": "beta cell; INS", "alpha": "alpha cell; GCG"}
    csv = tmp_path / "l.csv"
    csv.write_text('name,definition\nbeta,"beta cell, INS"\nalpha,"alpha cell, GCG"\n')
    assert read_label_file(csv) == {"beta": "beta cell, INS", "alpha": "alpha cell, GCG"}
    names_only = tmp_path / "n.csv"
    names_only.write_text("label\nT cell\nB cell\n")
    assert read_label_file(names_only) == {"T cell": "T cell", "B cell": "B cell"}
    js = tmp_path / "l.json"
    js.write_text(json.dumps({"beta": "beta cell; INS", "alpha": "alpha cell; GCG"}))
    assert read_label_file(js) == {"beta": "beta cell; INS", "alpha": "alpha cell; GCG"}
    js.write_text(json.dumps([{"name": "beta", "description": "INS"}, {"name": "alpha", "description": "GCG"}]))
    assert read_label_file(js) == {"beta": "INS", "alpha": "GCG"}
    txt = tmp_path / "l.txt"
    txt.write_text("# types\nbeta: beta cell; INS\n\nalpha\n")
    assert read_label_file(txt) == {"beta": "beta cell; INS", "alpha": "alpha"}


@pytest.mark.parametrize(
    ("name", "content", "err", "match"),
    [
        ("missing.tsv", None, FileNotFoundError, "does not exist"),
        ("empty.tsv", "", ValueError, "is empty"),
        ("nohead.tsv", "beta\tbeta cell\nalpha\talpha cell\n", ValueError, "no label column"),
        ("dup.tsv", "name\tdescription\nbeta\tx\nbeta\ty\n", ValueError, "given twice"),
        ("blank.tsv", "name\tdescription\nbeta\t \nalpha\ty\n", ValueError, "row 2: label 'beta' has an empty description"),
        ("short.tsv", "name\tdescription\nbeta\n", ValueError, "separator"),
        ("bad.json", "{beta: 1", ValueError, "not valid JSON"),
        ("num.json", '{"beta": 3}', ValueError, "must be a string"),
        ("str.json", '"beta"', ValueError, "expected an object"),
        ("head.csv", "name,description\n", ValueError, "defines no labels"),
    ],
)
def test_bad_label_files(tmp_path, name, content, err, match):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(err, match=match):
        read_label_file(path)


# -- calibration ---------------------------------------------------------------------------------


def _three_groups(seed):
    """90 cell embeddings in 3 well separated groups of 30, their group, and the generator."""
    rng = np.random.default_rng(seed)
    centres = np.eye(3, 16, dtype=np.float32) * 3
    cells = np.repeat(centres, 30, axis=0) + rng.normal(0, 0.5, size=(90, 16)).astype(np.float32)
    return cells, np.repeat([0, 1, 2], 30), rng


def test_refine_fixes_a_label_that_attracts_another_group():
    cells, truth, rng = _three_groups(0)
    # first-pass scores: right for the first 20 cells of each group, but label 0 also takes the last 10 of group 1
    S = np.eye(3)[truth] + rng.normal(0, 0.05, size=(90, 3))
    wrong = np.flatnonzero(truth == 1)[20:]
    S[wrong] = [0.6, 0.4, 0.0]
    assert (S.argmax(axis=1) == truth).mean() == pytest.approx(80 / 90)
    R = refine_prototypes(cells, S)
    assert (R.argmax(axis=1) == truth).all()
    assert refine_prototypes(cells, S, n_iter=0) is not None and np.array_equal(refine_prototypes(cells, S, n_iter=0), S.astype(np.float32))
    # a label chosen by no cell gets no prototype: NaN, never chosen
    S2 = np.c_[S, np.full(90, -5.0)]
    assert np.isnan(refine_prototypes(cells, S2)[:, 3]).all()
    cells[0] = 0  # a cell without an embedding keeps NaN scores
    assert np.isnan(refine_prototypes(cells, S)[0]).all()
    with pytest.raises(ValueError, match="one row per cell"):
        refine_prototypes(cells[:5], S)


def test_smoothing_fixes_cells_with_misleading_own_scores():
    cells, truth, rng = _three_groups(1)
    S = np.eye(3)[truth] + rng.normal(0, 0.1, size=(90, 3))
    wrong = rng.choice(90, size=9, replace=False)  # a tenth of the cells point at the next type
    S[wrong] = np.eye(3)[(truth[wrong] + 1) % 3]
    assert (S.argmax(axis=1) == truth).mean() == pytest.approx(81 / 90)
    assert (smooth_scores(cells, S, n_neighbors=10).argmax(axis=1) == truth).all()
    np.testing.assert_array_equal(smooth_scores(cells, S, n_neighbors=1), S.astype(np.float32))
    nn = cell_neighbors(cells, 10)
    assert nn.shape == (90, 10) and (nn[:, 0] == np.arange(90)).all()
    assert (truth[nn] == truth[:, None]).mean() > 0.95  # neighbours are (almost all) of the same type
    with pytest.raises(ValueError, match="n_neighbors"):
        smooth_scores(cells, S, n_neighbors=0)


def test_standardize_one_scale_for_the_matrix():
    S = np.array([[0.1, 0.3], [0.2, np.nan]])
    Z = standardize(S)
    assert np.isnan(Z[1, 1]) and np.nanmean(Z) == pytest.approx(0, abs=1e-6) and np.nanstd(Z) == pytest.approx(1, abs=1e-6)
    assert np.argmax(Z[0]) == np.argmax(S[0])  # one affine map: the order within a cell is kept


# -- the AnnData tool: planted example ----------------------------------------------------------

TYPES = {"acinar": ("PRSS1", "CPA1"), "ductal": ("KRT19", "SOX9"), "stellate": ("COL1A1", "ACTA2")}
GENE_TEXT = {
    "PRSS1": "trypsin digestive enzyme secreted by the exocrine pancreas",
    "CPA1": "carboxypeptidase digestive enzyme of the exocrine pancreas",
    "KRT19": "keratin intermediate filament of epithelial cells",
    "SOX9": "transcription factor of epithelial duct development",
    "COL1A1": "collagen extracellular matrix of fibroblasts",
    "ACTA2": "smooth muscle actin of myofibroblasts",
}


@pytest.fixture(scope="module")
def planted():
    """90 cells of three types (30 each), each expressing its two markers; 20 filler genes.

    The descriptions name each type's markers, but one description's wording points the text
    embedding at another type (wording can mislead).
    """
    enc = get_encoder("hashing", dim=256)
    rng = np.random.default_rng(3)
    filler = {f"G{i}": f"uncharacterised protein {i} of unknown function" for i in range(20)}
    texts = {**GENE_TEXT, **filler}
    genes = list(texts)
    emb = GeneEmbeddings(genes, enc.encode([f"{g}: {texts[g]}" for g in genes]), {"encoder": enc.identity})
    counts = rng.poisson(1.0, size=(90, len(genes))).astype(np.float32)
    for t, markers in enumerate(TYPES.values()):
        for m in markers:
            counts[t * 30 : (t + 1) * 30, genes.index(m)] += rng.poisson(6.0, size=30)
    adata = ad.AnnData(
        sp.csr_matrix(counts),
        obs=pd.DataFrame({"cell_type": np.repeat(list(TYPES), 30)}, index=[f"c{i}" for i in range(90)]),
        var=pd.DataFrame(index=genes),
    )
    from genept import tl

    tl.embed_cells(adata, emb, method="w")
    tl.embed_cells(adata, emb)
    labels = {
        "acinar": "exocrine cell; expresses PRSS1 and CPA1",
        "ductal": "collagen extracellular matrix fibroblast; expresses KRT19 and SOX9",
        "stellate": "stellate cell; expresses COL1A1 and ACTA2",
    }
    return adata, enc, labels


@pytest.mark.parametrize("basis", ["X_genept_w", "X_genept_scaled"])
def test_new_default_beats_the_old_one_on_a_planted_example(planted, basis):
    adata, enc, labels = planted
    truth = adata.obs["cell_type"].to_numpy()
    old = zero_shot_annotate(adata, labels, basis=basis, encoder=enc, markers=False, smooth=0, refine=0, copy=True)
    new = zero_shot_annotate(adata, labels, basis=basis, encoder=enc, copy=True)
    acc_old = (old.obs["genept_zero_shot"].astype(str).to_numpy() == truth).mean()
    acc_new = (new.obs["genept_zero_shot"].astype(str).to_numpy() == truth).mean()
    assert acc_old < 0.7 and acc_new >= 0.85 and acc_new - acc_old >= 0.25
    # markers=False, refine=0 is the 0.2 scoring exactly
    C = np.asarray(adata.obsm[basis], dtype=np.float32)
    np.testing.assert_allclose(old.obsm["genept_zero_shot_scores"].to_numpy(), text_scores(C, enc.encode(list(labels.values()))), atol=1e-6)
    info = new.uns["genept_zero_shot"]
    assert {k: g.split(", ") for k, g in info["marker_genes"]["genes"].items()} == {k: list(v) for k, v in TYPES.items()}
    p = info["params"]
    assert p["markers"] is True and p["marker_weight"] == 3.0 and p["smooth"] == 10 and p["refine"] == 0 and p["basis"] == basis
    assert p["lognormalized"] is True and p["expression"] == "adata.X"
    assert (new.X != adata.X).nnz == 0  # counts normalised on a copy


def test_markers_method_labels_from_a_file_and_errors(planted, tmp_path):
    adata, enc, labels = planted
    truth = adata.obs["cell_type"].to_numpy()
    path = tmp_path / "types.tsv"
    path.write_text("name\tdescription\n" + "".join(f"{k}\t{v}\n" for k, v in labels.items()))
    a = adata.copy()
    assert zero_shot_annotate(a, path, method="markers", smooth=0, refine=0) is None
    assert (a.obs["genept_zero_shot"].astype(str).to_numpy() == truth).all()
    assert a.uns["genept_zero_shot"]["params"]["refine"] == 0
    b = zero_shot_annotate(adata, str(path), method="markers", basis="X_missing", copy=True)  # no basis: not refined
    assert b.uns["genept_zero_shot"]["params"]["refine"] == 0
    # a label that names no gene of the data cannot be chosen by method="markers"
    c = zero_shot_annotate(adata, {**labels, "other": "a cell of another kind"}, method="markers", copy=True)
    assert "other" not in set(c.obs["genept_zero_shot"].astype(str)) and np.isnan(c.obsm["genept_zero_shot_scores"]["other"]).all()
    with pytest.raises(ValueError, match="no description names a gene"):
        zero_shot_annotate(adata, {"a": "first kind", "b": "second kind"}, method="markers", copy=True)
    with pytest.raises(TypeError, match="no such file"):
        zero_shot_annotate(adata, str(tmp_path / "nope.tsv"), encoder=enc, copy=True)
    with pytest.raises(ValueError, match="marker_weight"):
        zero_shot_annotate(adata, labels, encoder=enc, marker_weight=-1, copy=True)
    with pytest.raises(ValueError, match="refine"):
        zero_shot_annotate(adata, labels, encoder=enc, refine=-1, copy=True)
    with pytest.raises(ValueError, match="'markers'"):
        zero_shot_annotate(adata, labels, method="nearest", copy=True)


def test_without_named_genes_or_expression_only_the_text_counts(planted):
    adata, enc, _ = planted
    plain = {"acinar": "trypsin digestive enzyme", "ductal": "keratin epithelial duct", "stellate": "collagen matrix"}
    out = zero_shot_annotate(adata, plain, encoder=enc, copy=True)
    ref = zero_shot_annotate(adata, plain, encoder=enc, markers=False, copy=True)
    np.testing.assert_array_equal(out.obsm["genept_zero_shot_scores"].to_numpy(), ref.obsm["genept_zero_shot_scores"].to_numpy())
    assert (out.uns["genept_zero_shot"]["marker_genes"]["genes"] == "").all()
    no_x = ad.AnnData(obs=adata.obs.copy(), obsm={"X_genept_scaled": adata.obsm["X_genept_scaled"]})
    no_x.uns["X_genept_scaled"] = adata.uns["X_genept_scaled"]
    zero_shot_annotate(no_x, plain, encoder=enc)  # no expression: markers are skipped, text scores only
    assert no_x.obs["genept_zero_shot"].isin([*plain, UNASSIGNED]).all()


def test_marker_scores_on_counts_match_the_normalised_matrix(planted):
    import scanpy as sc

    adata, enc, labels = planted
    lognorm = adata.copy()
    sc.pp.normalize_total(lognorm, target_sum=1e4)
    sc.pp.log1p(lognorm)
    sets = {k: list(v) for k, v in TYPES.items()}
    a = marker_scores(adata.X, adata.var_names, sets, normalize_counts=True)
    b = marker_scores(lognorm.X, adata.var_names, sets)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # the tool: counts in X (normalised on the marker columns) or a log-normalised layer give the same scores
    adata2 = adata.copy()
    adata2.layers["log"] = lognorm.X
    x = zero_shot_annotate(adata2, labels, method="markers", copy=True)
    y = zero_shot_annotate(adata2, labels, method="markers", layer="log", copy=True)
    np.testing.assert_allclose(x.obsm["genept_zero_shot_scores"], y.obsm["genept_zero_shot_scores"], rtol=1e-4, atol=1e-5)
    assert x.uns["genept_zero_shot"]["params"]["lognormalized"] is True
    assert y.uns["genept_zero_shot"]["params"]["lognormalized"] is False


def test_labels_with_a_slash_survive_the_h5ad_file(tmp_path):
    enc = get_encoder("hashing")
    cells = enc.encode(["insulin secreting cell"] * 20 + ["glucagon secreting cell"] * 20)
    a = ad.AnnData(np.array([[9, 0]] * 20 + [[0, 9]] * 20, dtype=np.float32), obsm={"X_genept_w": cells})
    a.var_names = ["INS", "GCG"]
    zero_shot_annotate(a, {"beta/INS+": "expresses INS", "alpha/GCG+": "expresses GCG"}, basis="X_genept_w", encoder=enc)
    a.write_h5ad(tmp_path / "a.h5ad")
    table = ad.read_h5ad(tmp_path / "a.h5ad").uns["genept_zero_shot"]["marker_genes"]
    assert table["genes"].to_dict() == {"beta/INS+": "INS", "alpha/GCG+": "GCG"}
