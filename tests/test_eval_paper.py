"""The GenePT paper's cell protocol (genept.evaluation.paper) against hand-computed and scikit-learn values,
its published numbers (genept.evaluation.published), and ``bench cells --protocol genept-paper`` / ``bench genes``
with a user's own scGPT file turning the published row into a measured one."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genept.evaluation import paper
from genept.evaluation.published import (
    C4_DATASETS,
    PUBLISHED_VALUES,
    SYSTEMS_CELL,
    SYSTEMS_GENE,
    TABLE2_DATASETS,
    lookup,
    missing_reason,
    property_task,
    seed_system,
)


def _blobs(seed: int = 0, n: int = 30, dim: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(["a", "b", "c"], n)
    centres = rng.normal(size=(3, dim)) * 3 + 5
    X = centres[np.repeat(np.arange(3), n)] + rng.normal(size=(3 * n, dim)) * 3
    return X, y


def _angles(degrees) -> np.ndarray:
    r = np.deg2rad(np.asarray(degrees, dtype=float))
    return np.stack([np.cos(r), np.sin(r)], axis=1)


# -- the protocol's metrics, by hand ---------------------------------------------------------------
def test_knn_split_scores_hand_computed():
    # train: a at 0, 5, 10, 40 degrees; b at 80, 85, 90. Test: 2 deg (a -> a), 88 deg (b -> b),
    # 60 deg (a; its 3 nearest by angle are 40 a, 80 b, 85 b -> predicted b).
    X = _angles([0, 5, 10, 40, 80, 85, 90, 2, 88, 60])
    y = np.array(["a", "a", "a", "a", "b", "b", "b", "a", "b", "a"])
    split = (np.arange(7), np.arange(7, 10))
    r = paper.knn_split_scores(X, y, k=3, split=split)
    # y_true = a b a, pred = a b b: precision a 1/1, b 1/2; recall a 1/2, b 1/1; F1 2/3 each
    assert r["accuracy"] == pytest.approx(2 / 3)
    assert r["precision_macro"] == pytest.approx(0.75) and r["recall_macro"] == pytest.approx(0.75)
    assert r["f1_macro"] == pytest.approx(2 / 3) and (r["n_train"], r["n_test"]) == (7, 3)


def test_label_asw_hand_computed():
    # 1-d points 0, 1 (a) and 10, 11 (b): s = (b - a) / max(a, b) per point
    expected = np.mean([(10.5 - 1) / 10.5, (9.5 - 1) / 9.5, (9.5 - 1) / 9.5, (10.5 - 1) / 10.5])
    assert paper.label_asw([[0], [1], [10], [11]], ["a", "a", "b", "b"]) == pytest.approx(expected)
    assert paper.label_asw([[0], [1], [10], [11]], ["a", "b", "a", "b"]) < 0  # labels across the two groups


def test_kmeans_knn_asw_match_scikit_learn():
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, precision_recall_fscore_support, silhouette_score
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier

    X, y = _blobs()
    km = paper.kmeans_scores(X, y, seed=3)
    clusters = KMeans(n_clusters=3, n_init=10, random_state=3).fit_predict(X)
    assert km["ari"] == adjusted_rand_score(y, clusters) and km["ami"] == adjusted_mutual_info_score(y, clusters)
    assert km["n_clusters"] == 3 and 0.5 < km["ari"] < 1.0  # overlapping blobs: neither trivial nor perfect
    assert paper.label_asw(X, y) == pytest.approx(silhouette_score(X, y))
    assert paper.label_asw(X, y, metric="cosine") == pytest.approx(silhouette_score(X, y, metric="cosine"))

    tr, te = train_test_split(np.arange(y.size), test_size=0.2, random_state=7)
    pred = KNeighborsClassifier(n_neighbors=10, metric="cosine", algorithm="brute").fit(X[tr], y[tr]).predict(X[te])
    p, r, f, _ = precision_recall_fscore_support(y[te], pred, average="macro", zero_division=0)
    got = paper.knn_split_scores(X, y, seed=7)
    assert (got["precision_macro"], got["recall_macro"], got["f1_macro"]) == pytest.approx((p, r, f))
    assert got["accuracy"] == pytest.approx(np.mean(pred == y[te])) and (got["n_train"], got["n_test"]) == (72, 18)


def test_minibatch_kmeans_as_in_the_authors_notebook():
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.metrics import adjusted_rand_score

    X, y = _blobs(1)
    km = paper.kmeans_scores(X, y, seed=2023, minibatch=20, n_init=3)
    clusters = MiniBatchKMeans(n_clusters=3, batch_size=20, n_init=3, random_state=2023).fit_predict(X)
    assert km["ari"] == adjusted_rand_score(y, clusters)


def test_split_is_shared_and_stratify_option():
    _, y = _blobs(n=10)
    tr, te = paper.split_80_20(y, seed=0)
    assert len(te) == 6 and np.intersect1d(tr, te).size == 0 and np.union1d(tr, te).size == 30
    tr_s, te_s = paper.split_80_20(y, seed=0, stratify=True)
    assert sorted(np.unique(y[te_s], return_counts=True)[1]) == [2, 2, 2]
    res = paper.evaluate_paper({"one": _blobs()[0], "two": _blobs()[0][:, :3]}, _blobs()[1], seed=5)
    assert res["tasks"]["one"]["knn"]["n_test"] == res["tasks"]["two"]["knn"]["n_test"] == 18
    assert res["protocol"] == "genept-paper" and res["settings"]["asw_metric"] == "euclidean"
    assert set(res["tasks"]["one"]["kmeans"]) >= {"ari", "ami", "asw"}


def test_ensemble_mean_and_concat():
    rng = np.random.default_rng(0)
    A, B, C = rng.normal(size=(5, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 7))
    Y, how = paper.ensemble([A, B])
    nA = A / np.linalg.norm(A, axis=1, keepdims=True)
    nB = B / np.linalg.norm(B, axis=1, keepdims=True)
    assert how == "mean" and np.allclose(Y, (nA + nB) / 2, atol=1e-6)
    # different widths: cosine similarity of the ensemble = mean of the members' cosine similarities
    Y, how = paper.ensemble([A, C])
    nC = C / np.linalg.norm(C, axis=1, keepdims=True)
    assert how == "concat" and Y.shape == (5, 11)
    assert np.allclose(Y @ Y.T, (nA @ nA.T + nC @ nC.T) / 2, atol=1e-6)
    with pytest.raises(ValueError, match="at least two"):
        paper.ensemble([A])
    with pytest.raises(ValueError, match="same cells"):
        paper.ensemble([A, B[:3]])
    with pytest.raises(ValueError, match="how='concat'"):
        paper.ensemble([A, C], how="mean")
    assert paper.ensemble_members(["pca", "genept_w:a", "genept_w:b", "X_scGPT"]) == ["genept_w:a", "X_scGPT"]
    assert paper.ensemble_members(["pca", "genept_w:a"]) == ["genept_w:a"]


def test_protocol_errors_say_what_to_do():
    with pytest.raises(ValueError, match="two distinct labels"):
        paper.kmeans_scores(np.ones((4, 2)), ["a"] * 4)
    with pytest.raises(ValueError, match="NaN"):
        paper.knn_split_scores(np.full((4, 2), np.nan), ["a", "b"] * 2)
    with pytest.raises(ValueError, match="one value per cell"):
        paper.label_asw(np.ones((4, 2)), ["a", "b"])


# -- the published numbers ---------------------------------------------------------------------------
def test_published_table_covers_every_paper_task_with_a_source():
    assert all(v.source and v.table and v.protocol and v.via for v in PUBLISHED_VALUES)
    for dataset in TABLE2_DATASETS:
        for system in ("GenePT-w", "GenePT-s", "Geneformer", "scGPT"):
            assert all(lookup("cells:kmeans", system, dataset, m) is not None for m in ("ari", "ami", "asw"))
    for dataset in C4_DATASETS:
        for system in ("GenePT-w", "GenePT-s", "Geneformer", "scGPT", "Ensemble"):
            assert lookup("cells:knn", system, dataset, "f1_macro") is not None
    # spot checks against the paper's tables
    assert lookup("cells:kmeans", "GenePT-w", "Pancreas / cell type", "ari").value == 0.49
    assert lookup("cells:knn", "Ensemble", "Multiple Sclerosis", "f1_macro").value == 0.55
    assert lookup("property:bivalent_vs_lys4", "Geneformer", None, "auc").value == 0.88
    assert lookup("property:dosage", "GenePT", None, "auc_logreg").value == 0.889
    # a gap says why
    assert missing_reason("cells:knn", "Gene2vec") == "not evaluated on cells in the paper"
    assert missing_reason("property:dosage", "scGPT") == "not reported in the paper"
    assert "0.65-0.67" in missing_reason("ggi", "scGPT")
    assert set(SYSTEMS_GENE) <= {v.system for v in PUBLISHED_VALUES} | {"scGPT", "BioLinkBERT"}
    assert set(SYSTEMS_CELL) - {"Gene2vec", "BioLinkBERT"} <= {v.system for v in PUBLISHED_VALUES}


def test_seed_system_and_property_task_names():
    assert seed_system("X_scGPT") == "scGPT" and seed_system("X_scgpt") == "scGPT" and seed_system("pca") is None
    assert seed_system("genept_w:genept") == "GenePT-w" and seed_system("genept_w:minilm") is None
    assert seed_system("genept_s:openai:text-embedding-ada-002") == "GenePT-s" and seed_system("ensemble") == "Ensemble"
    assert seed_system("scgpt", level="gene") == "scGPT" and seed_system("genept-ada", level="gene") == "GenePT"
    assert seed_system("random:scgpt", level="gene") is None
    assert property_task("tf_range_long_vs_short.tsv") == "property:tf_range"
    assert property_task("bivalent_vs_nonmethylated.tsv") == "property:bivalent_vs_nonmethylated"


# -- the commands --------------------------------------------------------------------------------------
def test_bench_cells_paper_protocol_cli(tmp_path, small_adata, capsys):
    from genept.cli import main
    from genept.embeddings import GeneEmbeddings
    from genept.encoders import get_encoder

    enc = get_encoder("hashing", dim=16)
    genes = list(small_adata.var_names)
    GeneEmbeddings(genes, enc.encode([f"gene {g}" for g in genes]), {"encoder": enc.identity}).save(tmp_path / "g.npz")
    rng = np.random.default_rng(0)
    codes = np.unique(small_adata.obs["cell_type"], return_inverse=True)[1]
    small_adata.obsm["X_scGPT"] = (np.eye(3)[codes] * 3 + rng.normal(size=(small_adata.n_obs, 3))).astype(np.float32)
    small_adata.write_h5ad(tmp_path / "cells.h5ad")
    out = tmp_path / "rep"
    rc = main([
        "bench", "cells", str(tmp_path / "cells.h5ad"), "--label", "cell_type", "--protocol", "genept-paper",
        "--genes", f"genept={tmp_path / 'g.npz'}", "--obsm", "X_scGPT", "--sentence-encoder", "hashing", "--no-random",
        "--no-pca", "--no-umap", "--out", str(out),
    ])  # fmt: skip
    assert rc == 0
    printed = capsys.readouterr().out
    assert "ARI" in printed and "ensemble" in printed
    res = json.loads((out / "results.json").read_text())["extra"]["cells"]["cells"]
    tasks = res["results"]["tasks"]
    assert set(tasks) == {"genept_scaled:genept", "genept_w:genept", "genept_s:hashing", "X_scGPT", "ensemble"}
    assert res["ensemble"] == ["genept_w:genept", "genept_s:hashing", "X_scGPT"]
    # the numbers in the report are the protocol's own, recomputed here from the same embedding
    adata = small_adata
    direct = paper.evaluate_paper({"X_scGPT": adata.obsm["X_scGPT"]}, adata.obs["cell_type"])
    assert tasks["X_scGPT"]["knn"] == direct["tasks"]["X_scGPT"]["knn"]
    text = (out / "report.md").read_text()
    # scGPT and GenePT-w were given: measured rows; Geneformer was not: published only, beside Table 2 / C4 values
    assert "| scGPT | measured (`X_scGPT`); published beside it |" in text
    assert "| GenePT-w | measured (`genept_w:genept`); published beside it |" in text
    assert "| Geneformer | published, not re-measured | not measured: pass `--obsm X_geneformer` | 0.1 / 0.12 / -0.005 |" in text
    assert "| Gene2vec | no cell-level row in the paper |" in text and "not evaluated" in text
    assert "Table C4" in text and "arusli1/GenePT" in text
    assert (out / "report.html").exists()


def test_bench_genes_scgpt_file_replaces_the_published_row(tmp_path, capsys):
    from genept.cli import main

    import pandas as pd

    from genept.embeddings import GeneEmbeddings

    data = tmp_path / "data"
    (data / "gene2vec_ggi").mkdir(parents=True)
    rng = np.random.default_rng(0)
    group = np.repeat(np.arange(3), 80)
    genes = [f"GENE{i:04d}" for i in range(group.size)]
    emb = GeneEmbeddings(genes, ((rng.normal(size=(3, 8)) * 4)[group] + rng.normal(size=(group.size, 8))).astype(np.float32))
    types = np.array(["protein_coding", "lncRNA", "miRNA"])[group]
    pd.DataFrame({"ensembl_id": "", "gene_name": genes, "gene_type": types}).to_csv(data / "gene_types_geneformer.csv.gz")
    for split, n in (("train", 400), ("test", 150)):
        idx = rng.integers(0, len(genes), size=(n, 2))
        (data / "gene2vec_ggi" / f"{split}_text.txt").write_text("".join(f"{genes[a]} {genes[b]}\n" for a, b in idx))
        (data / "gene2vec_ggi" / f"{split}_label.txt").write_text("".join(f"{int(group[a] == group[b])}\n" for a, b in idx))
    emb.save(tmp_path / "syn.npz")
    labels = tmp_path / "dosage_tfs.tsv"
    labels.write_text("".join(f"{g}\t{'yes' if k == 0 else 'no'}\n" for g, k in zip(emb.genes, group, strict=True)))
    out = tmp_path / "rep"
    rc = main([
        "bench", "genes", "--embeddings", f"scgpt={tmp_path / 'syn.npz'}", "--data-dir", str(data), "--tasks", "classes,ggi",
        "--labels", str(labels), "--no-random", "--out", str(out),
    ])  # fmt: skip
    assert rc == 0
    text = (out / "report.md").read_text()
    ggi = text.split("### Gene-gene interactions", 1)[1].split("###", 1)[0]
    assert "| scgpt (measured; scGPT) |" in ggi and "scGPT (published" not in ggi
    assert "| Geneformer (published, not re-measured) | n/a | n/a | n/a | no single value" in ggi
    assert "| GenePT ada-002 (published, not re-measured; Fig. 2c) | n/a | n/a | n/a | 0.82 |" in ggi
    assert "| BioLinkBERT (published, not re-measured) | n/a | n/a | n/a | not reported in the paper |" in ggi
    prop = text.split("### Binary gene property `dosage_tfs.tsv`", 1)[1].split("###", 1)[0]
    assert "| Geneformer (published, not re-measured; Table 1) | n/a | n/a | 0.91 ± 0.02 (fine-tuned) |" in prop
    assert "| Gene2vec (published, not re-measured; Table 1) | n/a | n/a | 0.91 ± 0.03 | n/a |" in prop
    assert "| scGPT (published" not in prop and "scgpt (measured; scGPT)" in prop


def test_reference_section_lists_every_paper_system_and_task():
    from genept.evaluation.report import render_markdown

    text = render_markdown()  # no run at all: the reference section alone
    gene = text.split("### The paper's gene-level numbers", 1)[1].split("###", 1)[0]
    for system in ("GenePT ada-002", "Geneformer", "scGPT", "Gene2vec", "BioLinkBERT"):
        assert f"| {system} |" in gene
    assert "| scGPT | not reported in the paper | no single value" in gene and "0.91 ± 0.02 (fine-tuned)" in gene
    t2 = text.split("### The paper's Table 2", 1)[1].split("###", 1)[0]
    assert all(f"{d} (published)" in t2 for d in TABLE2_DATASETS) and "| Gene2vec | not evaluated |" in t2
    assert "| Ensemble | not reported |" in t2
    c4 = text.split("### The paper's Table C4", 1)[1]
    assert "| Ensemble | 0.93 / 0.95 / 0.82 / 0.86 |" in c4 and "arusli1/GenePT" in c4


def test_bench_cells_paper_unknown_ensemble_member(tmp_path, small_adata, capsys):
    from genept.cli import main

    small_adata.obsm["X_a"] = np.random.default_rng(0).normal(size=(small_adata.n_obs, 3)).astype(np.float32)
    small_adata.write_h5ad(tmp_path / "cells.h5ad")
    rc = main([
        "bench", "cells", str(tmp_path / "cells.h5ad"), "--label", "cell_type", "--protocol", "genept-paper", "--obsm", "X_a",
        "--no-pca", "--no-random", "--no-umap", "--ensemble", "X_a,X_missing", "--out", str(tmp_path / "rep"),
    ])  # fmt: skip
    assert rc == 2 and "--ensemble names ['X_missing']" in capsys.readouterr().err
