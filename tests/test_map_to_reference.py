"""Reference mapping: genes across panels and species, log input, the unassigned rule, bad inputs."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import genept
from genept.cells.mapping import UNASSIGNED, expression_kind, map_arrays, match_genes

# Human genes whose capitalised form is the mouse ortholog's symbol (checked in the fixture).
HUMAN = [
    "INS", "GCG", "SST", "PPY", "CD3E", "CD19", "PTPRC", "CD74", "ACTB", "GAPDH", "KRT19", "SOX9", "PECAM1", "CDH5",
    "COL1A1", "COL3A1", "PDGFRB", "ACTA2", "CPA1", "CTRB1", "PRSS2", "MAFA", "NKX6-1", "PDX1", "ARX", "HHEX", "CD68",
    "CSF1R", "MS4A1", "CD79A", "NKG7", "GZMA", "VWF", "KDR", "SPARC", "FN1", "VIM", "EPCAM", "CFTR", "SPP1",
]  # fmt: skip
N_TYPES = 4


def _world(n_per_type=60, n_genes=40, seed=0, types=range(N_TYPES)):
    """Counts with 4 planted types, each with 8 marker genes at 6x."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for t in types:
        lam = np.full(n_genes, 1.0)
        lam[t * 8 : t * 8 + 8] = 6.0
        X.append(rng.poisson(lam, (n_per_type, n_genes)))
        y += [f"type{t}"] * n_per_type
    return np.vstack(X).astype(np.float32), np.array(y)


def _adata(X, names, labels=None):
    a = ad.AnnData(X.astype(np.float32), var=pd.DataFrame(index=list(names)))
    a.obs_names = [f"c{i}" for i in range(X.shape[0])]
    if labels is not None:
        a.obs["cell_type"] = pd.Categorical(labels)
    return a


@pytest.fixture(scope="module")
def mouse_names():
    from genept.genes.ids import GeneResolver

    mouse = [g.capitalize() for g in HUMAN]
    back = GeneResolver.default().to_symbols(mouse, species="mouse")
    ok = [m for m, h, b in zip(mouse, HUMAN, back, strict=True) if b == h]
    if len(ok) < 30:
        pytest.skip(f"the ortholog tables resolved only {len(ok)} of the test genes")
    return dict(zip(HUMAN, [g.capitalize() if g.capitalize() in ok else None for g in HUMAN], strict=True))


def _acc(pred, truth):
    return float((np.asarray(pred) == np.asarray(truth)).mean())


# -- genes ----------------------------------------------------------------------------------------
def test_cross_panel_query_uses_shared_genes():
    R, yr = _world(seed=0)
    Q, yq = _world(seed=1, n_per_type=30)
    names = [f"G{i}" for i in range(40)]
    panel = np.r_[0:4, 8:12, 16:20, 24:28, 32:40]  # 4 of each type's 8 markers + 8 other genes
    out, _, ref, m = map_arrays(Q[:, panel], [names[i] for i in panel], R, names, yr, n_comps=10, k=10)
    assert m.n_shared == len(panel) and m.route == "name"
    assert ref.projection.gene_names.tolist() == [names[i] for i in panel]
    assert _acc(out.predicted, yq) > 0.95
    assert out.unassigned_rate < 0.1


def test_cross_species_through_orthologs(mouse_names):
    keep = [h for h in HUMAN if mouse_names[h]]
    R, yr = _world(seed=0, n_genes=len(keep))
    Q, yq = _world(seed=2, n_per_type=30, n_genes=len(keep))
    order = np.random.default_rng(3).permutation(len(keep))  # the mouse matrix has its own gene order
    qnames = [mouse_names[keep[i]] for i in order]
    out, _, _, m = map_arrays(Q[:, order], qnames, R, keep, yr, n_comps=10, k=10)
    assert m.route == "ortholog" and m.query_species == "mouse" and m.reference_species == "human"
    assert m.n_shared == len(keep)
    assert _acc(out.predicted, yq) > 0.95


def test_no_shared_genes_and_no_ortholog_route():
    R, yr = _world()
    with pytest.raises(ValueError, match="share no gene"):
        map_arrays(R[:10], [f"NOT_A_GENE_{i}" for i in range(40)], R, [f"G{i}" for i in range(40)], yr)


def test_match_genes_resolves_ids_on_the_same_species():
    m = match_genes(["ENSG00000198851", "LYZ"], ["CD3E", "LYZ", "MS4A1"], query_species="human", reference_species="human")
    assert m.names.tolist() == ["CD3E", "LYZ"] and m.query_index.tolist() == [0, 1]


# -- expression -----------------------------------------------------------------------------------
def test_log_normalised_query_is_detected_and_not_logged_twice():
    R, yr = _world(seed=0)
    Q, _ = _world(seed=1, n_per_type=20)
    names = [f"G{i}" for i in range(40)]
    logq = np.log1p(Q / Q.sum(1, keepdims=True) * 1e4)
    assert expression_kind(Q) == "counts" and expression_kind(logq) == "log"
    a, Ya, _, _ = map_arrays(Q, names, R, names, yr, n_comps=10, k=10)
    b, Yb, _, _ = map_arrays(logq, names, R, names, yr, n_comps=10, k=10)
    assert b.params["query_kind"] == "log"
    np.testing.assert_allclose(Ya, Yb, atol=1e-3)  # the same cells in the same place
    assert (a.labels == b.labels).all()


def test_scaled_query_is_refused():
    R, yr = _world()
    names = [f"G{i}" for i in range(40)]
    with pytest.raises(ValueError, match="scaled"):
        map_arrays(R[:10] - R.mean(0), names, R, names, yr)


# -- the unassigned rule --------------------------------------------------------------------------
def test_type_missing_from_the_reference_comes_out_unassigned():
    R, yr = _world(seed=0, types=range(3))  # the reference lacks type3
    Q, yq = _world(seed=1, n_per_type=40)
    names = [f"G{i}" for i in range(40)]
    out, _, _, _ = map_arrays(Q, names, R, names, yr, n_comps=10, k=10)
    novel = yq == "type3"
    assert (out.labels[novel] == UNASSIGNED).mean() >= 0.5
    assert (out.labels[~novel] == yq[~novel]).mean() > 0.9
    forced, _, _, _ = map_arrays(Q, names, R, names, yr, n_comps=10, k=10, unassigned=False)
    assert not (forced.labels == UNASSIGNED).any()  # the rule, not the vote, abstains


def test_uncertain_vote_is_unassigned():
    R, yr = _world(seed=0)
    names = [f"G{i}" for i in range(40)]
    # Cells half type0 half type1: no label gets a majority of their neighbours' votes.
    rng = np.random.default_rng(5)
    lam = np.ones(40)
    lam[0:16] = 3.5
    mixed = rng.poisson(lam, (30, 40)).astype(np.float32)
    out, _, _, _ = map_arrays(mixed, names, R, names, yr, n_comps=10, k=15, min_confidence=0.75)
    assert (out.reason == "uncertain").mean() > 0.3
    assert (out.confidence[out.reason == "uncertain"] < 0.75).all()


def _lookalike_world(seed, n_per_type=60, with_novel=True):
    """Types A, B, C with 10 strong markers each (x10) on 60 genes; A shares a broad weak program (30 genes,
    x3) with a novel type N that lacks A's markers: N is nearest to A but does not express A's markers."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for name in ("A", "B", "C", "N"):
        if name == "N" and not with_novel:
            continue
        lam = np.ones(60)
        if name != "N":
            i = "ABC".index(name)
            lam[i * 10 : i * 10 + 10] = 10.0
        if name in ("A", "N"):
            lam[30:60] = 3.0
        X.append(rng.poisson(lam, (n_per_type, 60)))
        y += [name] * n_per_type
    return np.vstack(X).astype(np.float32), np.array(y)


def test_cells_without_their_labels_markers_are_unassigned():
    import dataclasses

    from genept.cells.mapping import marker_scores, project_scores, shared_counts, transfer_labels

    R, yr = _lookalike_world(0, with_novel=False)
    Q, yq = _lookalike_world(1, n_per_type=40)
    names = [f"G{i}" for i in range(60)]
    novel = yq == "N"
    out, _, ref, _ = map_arrays(Q, names, R, names, yr, n_comps=10, k=10)
    assert (out.predicted[novel] == "A").mean() > 0.9  # the vote alone puts the novel type on its lookalike
    assert (out.labels[novel] == UNASSIGNED).mean() >= 0.9
    assert (out.labels[~novel] == yq[~novel]).mean() > 0.95
    assert ref.markers.to_dict(names)["A"] == [f"G{i}" for i in range(10)]
    # The marker check alone (no distance cut): the novel cells lack A's markers, the others have theirs.
    C = shared_counts(Q, np.arange(60), "counts")
    S, res = project_scores(ref.projection, C, residual=True)
    no_cut = dataclasses.replace(ref, distance_cut=np.inf)
    only = transfer_labels(S, no_cut, query_residual=res, query_markers=marker_scores(ref.markers, C))
    assert (only.reason[novel] == "markers").mean() >= 0.8
    assert (only.reason[~novel] == "").mean() >= 0.95
    off = transfer_labels(S, no_cut, query_residual=res, query_markers=marker_scores(ref.markers, C), min_marker=0)
    assert not (off.reason == "markers").any()


def test_marker_evidence_ignores_a_gene_level_shift_in_the_query():
    from genept.cells.mapping import fit_markers, marker_evidence, marker_scores

    R, yr = _lookalike_world(0, with_novel=False)
    Q, yq = _lookalike_world(1, n_per_type=40, with_novel=False)
    m = fit_markers(R, yr)
    shifted = Q.copy()
    shifted[:, 0:10] *= 5  # A's markers measured 5x higher in every cell (another protocol or species)
    e1 = marker_evidence(marker_scores(m, Q), yq, m)
    e2 = marker_evidence(marker_scores(m, shifted), yq, m)
    assert np.nanmin(e1) > 0.5 and np.nanmin(e2) > 0.5  # every cell keeps its label under the shift


# -- the AnnData tool and its errors --------------------------------------------------------------
def _snapshot(a):
    return (a.X.copy(), list(a.obs.columns), list(a.obsm.keys()), list(a.uns.keys()), list(a.var_names))


def _same(a, snap):
    X, obs, obsm, uns, var = snap
    return np.array_equal(a.X, X) and list(a.obs.columns) == obs and list(a.obsm.keys()) == obsm and list(a.uns.keys()) == uns and list(a.var_names) == var


def test_tool_writes_documented_keys_and_leaves_reference_alone():
    R, yr = _world(seed=0)
    Q, yq = _world(seed=1, n_per_type=20)
    names = [f"G{i}" for i in range(40)]
    ref, query = _adata(R, names, yr), _adata(Q, names)
    ref_snap = _snapshot(ref)
    genept.tl.map_to_reference(query, ref, label="cell_type", n_comps=10, k=10)
    assert _acc(query.obs["genept_ref_label"], yq) > 0.9
    assert query.obs["genept_ref_confidence"].between(0, 1).all()
    assert query.obsm["X_genept_ref"].shape == (80, 10)
    assert query.uns["genept_ref"]["params"]["label"] == "cell_type"
    assert query.uns["genept_ref"]["genes"]["n_shared_genes"] == 40
    assert _same(ref, ref_snap)
    fresh = _adata(Q, names)
    out = genept.tl.map_to_reference(fresh, ref, label="cell_type", n_comps=10, k=10, copy=True, key_added="m")
    assert "m_label" in out.obs and "m_label" not in fresh.obs


def test_text_space_embedding_with_gene_embeddings():
    R, yr = _world(seed=0)
    names = [f"G{i}" for i in range(40)]
    genes = genept.GeneEmbeddings(names, np.random.default_rng(0).standard_normal((40, 24)).astype(np.float32), {"encoder": "demo"})
    query = _adata(R[::3], names)
    genept.tl.map_to_reference(query, _adata(R, names, yr), label="cell_type", gene_embeddings=genes, n_comps=10, k=10)
    assert query.obsm["X_genept_ref"].shape[1] == 24
    assert query.uns["genept_ref"]["embedding"]["encoder"] == "demo"


@pytest.mark.parametrize(
    ("case", "error", "match"),
    [
        ("no_label_column", KeyError, "no column 'cell_type'"),
        ("one_class", ValueError, "at least 2 cell types"),
        ("no_shared_genes", ValueError, "share no gene"),
        ("no_map_genes", ValueError, "expresses any of the"),
        ("other_encoder", ValueError, "different text encoders"),
    ],
)
def test_bad_inputs_raise_clearly_and_leave_the_query_unchanged(case, error, match):
    R, yr = _world(seed=0)
    names = [f"G{i}" for i in range(40)]
    ref = _adata(R, names, yr)
    query = _adata(_world(seed=1, n_per_type=10)[0], names)
    if case == "no_label_column":
        ref.obs = ref.obs.drop(columns="cell_type")
    elif case == "one_class":
        ref.obs["cell_type"] = "type0"
    elif case == "no_shared_genes":
        query.var_names = [f"OTHER{i}" for i in range(40)]
    elif case == "no_map_genes":
        query.X[:] = 0
        query.X[:, 0] = 1  # only G0: make sure G0 is not among the map's genes by dropping it from the reference
        ref = _adata(R[:, 1:], names[1:], yr)
        query = _adata(query.X, names)
    elif case == "other_encoder":
        ref.uns["X_genept_scaled"] = {"method": "GenePT-scaled", "gene_embeddings": {"encoder": "minilm"}}
        query.uns["X_genept_scaled"] = {"method": "GenePT-scaled", "gene_embeddings": {"encoder": "openai:text-embedding-3-large"}}
    snap = _snapshot(query)
    with pytest.raises(error, match=match):
        genept.tl.map_to_reference(query, ref, label="cell_type", n_comps=10, k=10)
    assert _same(query, snap)


# -- the command line -----------------------------------------------------------------------------
def test_cli_annotate_with_reference(tmp_path, capsys):
    from genept.cli import build_parser, main

    sub = next(a for a in build_parser()._actions if hasattr(a, "choices") and isinstance(a.choices, dict))
    if "--reference" not in sub.choices["annotate"]._option_string_actions:
        pytest.skip("genept annotate has no --reference flag yet")
    R, yr = _world(seed=0)
    Q, yq = _world(seed=1, n_per_type=15)
    names = [f"G{i}" for i in range(40)]
    _adata(R, names, yr).write_h5ad(tmp_path / "ref.h5ad")
    _adata(Q, names).write_h5ad(tmp_path / "query.h5ad")
    before = (tmp_path / "query.h5ad").read_bytes()
    rc = main(["annotate", str(tmp_path / "query.h5ad"), "--reference", str(tmp_path / "ref.h5ad"), "--label", "cell_type",
               "-o", str(tmp_path / "out.h5ad")])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "40 shared by name" in text and "wrote" in text
    out = ad.read_h5ad(tmp_path / "out.h5ad")
    assert _acc(out.obs["genept_ref_label"], yq) > 0.9
    assert (tmp_path / "query.h5ad").read_bytes() == before
    # Writing over the query file is refused; so is a missing --label.
    assert main(["annotate", str(tmp_path / "query.h5ad"), "--reference", str(tmp_path / "ref.h5ad"), "--label", "cell_type",
                 "-o", str(tmp_path / "query.h5ad")]) != 0  # fmt: skip
    assert main(["annotate", str(tmp_path / "query.h5ad"), "--reference", str(tmp_path / "ref.h5ad"), "-o", str(tmp_path / "o2.h5ad")]) != 0
    assert "--label" in capsys.readouterr().err
    assert (tmp_path / "query.h5ad").read_bytes() == before


def test_cluster_search_finds_nearly_the_exact_neighbours_and_respects_exclusions():
    from genept.cells.neighbors import _knn_brute, _knn_ivf

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((8, 20)) * 4
    R = (centres[rng.integers(0, 8, 6000)] + rng.standard_normal((6000, 20))).astype(np.float32)
    Q = (centres[rng.integers(0, 8, 500)] + rng.standard_normal((500, 20))).astype(np.float32)
    d_exact, i_exact = _knn_brute(Q, R, 15, None, None)
    d, i = _knn_ivf(Q, R, 15, None)
    recall = np.mean([len(set(a) & set(b)) / 15 for a, b in zip(i, i_exact, strict=True)])
    assert recall > 0.95
    assert (np.diff(d, axis=1) >= 0).all() and (d >= d_exact - 1e-4).all()  # sorted; never nearer than exact
    ex = i_exact[:, 0]  # forbid each cell's nearest neighbour
    _, i_ex = _knn_ivf(Q, R, 15, ex)
    assert not (i_ex == ex[:, None]).any()


def test_query_centred_on_its_own_means():
    R, yr = _world(seed=0)
    Q, yq = _world(seed=1, n_per_type=30)
    names = [f"G{i}" for i in range(40)]
    out, Y, _, _ = map_arrays(Q, names, R, names, yr, n_comps=10, k=10, center="query")
    assert np.abs(Y.mean(axis=0)).max() < 1e-3  # the query's own mean sits at the origin of the scores
    assert out.params["center"] == "query" and _acc(out.predicted, yq) > 0.95
    _, Y_ref, _, _ = map_arrays(Q, names, R, names, yr, n_comps=10, k=10)
    assert np.abs(Y_ref.mean(axis=0)).max() > 1e-3
    with pytest.raises(ValueError, match="center must be"):
        map_arrays(Q, names, R, names, yr, n_comps=10, k=10, center="both")


def test_labels_with_a_slash_survive_the_h5ad_file(tmp_path):
    R, yr = _world(seed=0)
    names = [f"G{i}" for i in range(40)]
    yr = np.array([f"CD4+/{y}" for y in yr])  # '/' cannot be a key in an .h5ad group
    query = _adata(_world(seed=1, n_per_type=10)[0], names)
    genept.tl.map_to_reference(query, _adata(R, names, yr), label="cell_type", n_comps=10, k=10)
    query.write_h5ad(tmp_path / "q.h5ad")
    table = ad.read_h5ad(tmp_path / "q.h5ad").uns["genept_ref"]["labels"]
    assert table.index.tolist() == [*sorted(set(yr)), "unassigned"]
    assert table.loc["CD4+/type0", "markers"].split(", ") == [f"G{i}" for i in range(8)]
    assert table["n_cells"].sum() == query.n_obs


def test_tool_scales_genes_when_asked():
    R, yr = _world(seed=0)
    names = [f"G{i}" for i in range(40)]
    query = _adata(_world(seed=1, n_per_type=20)[0], names)
    genept.tl.map_to_reference(query, _adata(R, names, yr), label="cell_type", n_comps=10, k=10, scale=True)
    assert query.uns["genept_ref"]["params"]["scale"] is True
    assert _acc(query.obs["genept_ref_label"], np.repeat([f"type{t}" for t in range(N_TYPES)], 20)) > 0.9
