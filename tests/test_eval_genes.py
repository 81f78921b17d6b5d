"""Gene-level tasks on small synthetic data with known answers, and the runner end to end."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from genept.embeddings import GeneEmbeddings
from genept.evaluation.baselines import random_gene_embeddings
from genept.evaluation.genes import (
    align_labels,
    evaluate_genes,
    functional_classes,
    gene_interactions,
    gene_property,
    go_terms,
    load_gene_types,
    propagate_annotations,
    read_gene_pairs,
    read_label_file,
)


def clustered_embeddings(n_per: int = 60, n_groups: int = 3, dim: int = 16, sep: float = 4.0, seed: int = 0):
    """Genes GENE0000.. in ``n_groups`` well-separated Gaussian clusters; returns (emb, group)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_groups, dim)) * sep
    group = np.repeat(np.arange(n_groups), n_per)
    vectors = centers[group] + rng.normal(size=(group.size, dim))
    genes = [f"GENE{i:04d}" for i in range(group.size)]
    return GeneEmbeddings(genes, vectors.astype(np.float32), {"encoder": "synthetic"}), group


# -- labels and alignment ------------------------------------------------------------------
def test_align_labels_drops_conflicts_and_merges_duplicates():
    emb, _ = clustered_embeddings(n_per=5)
    genes = ["GENE0000", "GENE0000", "GENE0001", "GENE0001", "GENE0002", "NOT_A_GENE"]
    labels = ["a", "a", "a", "b", "b", "a"]
    rows, y, cov = align_labels(emb, genes, labels)
    assert rows.tolist() == [0, 2] and y.tolist() == ["a", "b"]
    assert cov == {
        "n_genes": 4, "n_with_embedding": 3, "fraction": 0.75,
        "n_conflicting_labels": 1, "n_duplicates_merged": 1, "n_used": 2,
    }  # fmt: skip


def test_align_labels_resolves_identifiers_and_catches_same_vector_twice():
    emb = GeneEmbeddings(["CD3E", "CD19", "ACTB"], np.eye(3, dtype=np.float32))
    # 916 is CD3E's Entrez id, ENSG00000177455 CD19's and ENSG00000075624 ACTB's Ensembl id: each vector reached twice
    rows, y, cov = align_labels(emb, ["CD3E", "916", "CD19", "ENSG00000177455", "ACTB", "ENSG00000075624"], [1, 0, 1, 1, 0, 0])
    assert rows.tolist() == [1, 2] and y.tolist() == [1, 0]  # CD3E dropped: its two ids carry different labels
    assert cov["n_with_embedding"] == 6 and cov["n_conflicting_labels"] == 1 and cov["n_duplicates_merged"] == 2


def test_read_label_file_formats(tmp_path):
    p = tmp_path / "a.tsv"
    p.write_text("# a comment\ngene\tlabel\nTP53\tsensitive\nACTB\tinsensitive\n\nMYC\tsensitive\n")
    y = read_label_file(p)
    assert y.to_dict() == {"TP53": 1, "ACTB": 0, "MYC": 1} and y.name == "sensitive"
    assert y.attrs["classes"] == ["insensitive", "sensitive"]
    assert read_label_file(p, positive="insensitive").to_dict() == {"TP53": 0, "ACTB": 1, "MYC": 0}

    p.write_text("TP53\t1\nACTB\t0\n")  # no header
    assert read_label_file(p).to_dict() == {"TP53": 1, "ACTB": 0}
    p.write_text("gene,label\nTP53,yes\nACTB,no\nMYC,no\n")  # commas when no tab
    assert read_label_file(p).to_dict() == {"TP53": 1, "ACTB": 0, "MYC": 0}

    p.write_text("TP53\ta\nACTB\tb\nMYC\tc\nKRAS\ta\n")
    with pytest.raises(ValueError, match="exactly two label values"):
        read_label_file(p)
    p.write_text("TP53\n")
    with pytest.raises(ValueError, match="gene<TAB>label"):
        read_label_file(p)
    p.write_text("TP53\t1\nACTB\t0\n")
    with pytest.raises(ValueError, match="positive class"):
        read_label_file(p, positive="yes")


# -- functional classes ----------------------------------------------------------------------
def test_functional_classes_separable_and_deduplicated():
    emb, group = clustered_embeddings(n_per=100)
    names = list(emb.genes)
    types = np.array(["protein_coding", "lncRNA", "miRNA"])[group].tolist()
    table = pd.DataFrame({"gene_name": names, "gene_type": types, "ensembl_id": ""})
    extra = pd.DataFrame(
        {
            "gene_name": ["GENE0000", "GENE0001", "GENE0002", "XYZ", "ALIAS1"],
            "gene_type": ["lncRNA", "protein_coding", "nan", "snRNA", "miRNA"],
            "ensembl_id": ["", "", "", "", "GENE0250"],  # fallback id reaches an embedded gene
        }
    )
    res = functional_classes(emb, pd.concat([table, extra], ignore_index=True), seed=0)
    cov = res["coverage"]
    # GENE0000 listed as protein_coding and lncRNA: dropped; GENE0001 listed twice alike: merged;
    # ALIAS1 reaches GENE0250 through its fallback id with the same type: merged.
    assert cov["n_conflicting_labels"] == 1 and cov["n_duplicates_merged"] == 2 and cov["n_missing_type"] == 1
    assert cov["n_used"] == 299 and res["classes"] == ["lncRNA", "miRNA", "protein_coding"]
    assert res["accuracy"] == pytest.approx(1.0) and res["f1_macro"] == pytest.approx(1.0)
    cm = np.asarray(res["confusion_matrix"])
    assert cm.sum() == res["n_test"] == 90 and np.trace(cm) == 90


def test_functional_classes_min_genes_and_random_control():
    emb, group = clustered_embeddings(n_per=100)
    types = np.array(["a", "b", "c"])[group]
    types[:30] = "rare"
    table = pd.DataFrame({"gene_name": list(emb.genes), "gene_type": types})
    res = functional_classes(emb, table, min_genes=75)
    assert "rare" not in res["classes"]
    rand = functional_classes(random_gene_embeddings(emb, seed=1), table, min_genes=75)
    assert rand["accuracy"] < 0.6 < res["accuracy"]
    with pytest.raises(ValueError, match="more than 500"):
        functional_classes(emb, table, min_genes=500)


# -- binary properties ---------------------------------------------------------------------
def test_gene_property_separable_and_random():
    emb, group = clustered_embeddings(n_per=40, n_groups=2)
    y = pd.Series((group == 1).astype(np.int8), index=emb.genes)
    res = gene_property(emb, y, seed=0)
    assert res["n_pos"] == res["n_neg"] == 40 and res["coverage"]["n_used"] == 80
    for model in ("logreg", "random_forest"):
        assert res[model]["auc"]["mean"] > 0.99 and res[model]["auc"]["n"] == 5 and len(res[model]["folds"]) == 5
    shuffled = pd.Series(np.random.default_rng(3).permutation(y.to_numpy()), index=emb.genes)
    null = gene_property(emb, shuffled, seed=0, models=("logreg",))
    assert abs(null["logreg"]["auc"]["mean"] - 0.5) < 0.2
    with pytest.raises(ValueError, match="unknown model"):
        gene_property(emb, y, models=("svm",))
    with pytest.raises(ValueError, match="5-fold CV needs"):
        gene_property(emb, y.iloc[36:44])


# -- gene-gene interactions -----------------------------------------------------------------
def _pairs(n: int, n_genes: int, rng) -> np.ndarray:
    return np.array([[f"GENE{a:04d}", f"GENE{b:04d}"] for a, b in rng.integers(0, n_genes, size=(n, 2))])


def test_gene_interactions_sum_vs_product():
    rng = np.random.default_rng(0)
    n_genes, dim = 120, 8
    V = rng.normal(size=(n_genes, dim)).astype(np.float32)
    V[:, 0] = np.where(rng.random(n_genes) < 0.5, -1.0, 1.0)
    emb = GeneEmbeddings([f"GENE{i:04d}" for i in range(n_genes)], V)
    train, test = _pairs(3000, n_genes, rng), _pairs(1000, n_genes, rng)
    sign = lambda p: np.array([V[int(a[4:]), 0] * V[int(b[4:]), 0] for a, b in p])
    # Interaction when both genes share the sign of coordinate 0: linear in the product, not in the sum.
    y_tr, y_te = (sign(train) > 0).astype(np.int8), (sign(test) > 0).astype(np.int8)
    test_with_missing = np.vstack([test, [["GENE0001", "NOPE"]]])
    res = gene_interactions(emb, (train, y_tr), (test_with_missing, np.append(y_te, 1)))
    assert res["product"]["auc"] > 0.99
    assert res["sum"]["auc"] < 0.8  # the sum cannot tell (+1, +1) and (-1, -1) from (+1, -1)
    cov = res["coverage"]
    assert cov["n_pairs_test"] == 1001 and cov["n_pairs_test_used"] == 1000 and cov["n_genes"] - cov["n_with_embedding"] == 1
    with pytest.raises(ValueError, match="pair feature"):
        gene_interactions(emb, (train, y_tr), (test, y_te), features=("concat",))


def test_read_gene_pairs(tmp_path):
    (tmp_path / "train_text.txt").write_text("A B\nC D\n")
    (tmp_path / "train_label.txt").write_text("1\n0\n")
    pairs, y = read_gene_pairs(tmp_path, "train")
    assert pairs.tolist() == [["A", "B"], ["C", "D"]] and y.tolist() == [1, 0]
    (tmp_path / "train_label.txt").write_text("1\n")
    with pytest.raises(ValueError, match="labels"):
        read_gene_pairs(tmp_path, "train")


def test_read_gene_pairs_real(shared_data):
    pairs, y = read_gene_pairs(shared_data / "genes" / "gene2vec_ggi", "test")
    assert pairs.shape == (21448, 2) and set(np.unique(y)) == {0, 1}


# -- GO terms ---------------------------------------------------------------------------------
def _go_table(group: np.ndarray, genes, rng) -> pd.DataFrame:
    rows = []
    for g, grp in zip(genes, group, strict=True):
        rows.append((g, f"GO:{grp:07d}", "IDA", "BP"))  # one term per cluster: predictable
        if rng.random() < 0.3:
            rows.append((g, "GO:0009999", "IEA", "MF"))  # random membership: not predictable
        rows.append((g, "GO:0008150", "ND", "BP"))  # root term with no data: ignored
    return pd.DataFrame(rows, columns=["symbol", "go_id", "evidence", "ontology"])


def test_go_terms_known_answer():
    emb, group = clustered_embeddings(n_per=40, n_groups=4)
    ann = _go_table(group, list(emb.genes), np.random.default_rng(0))
    res = go_terms(emb, ann, min_genes=20, max_genes=100, seed=0)
    per = res["per_term"]
    assert "GO:0008150" not in per  # ND only: excluded
    assert res["n_terms"] == res["n_terms_eligible"] == 5
    assert all(per[f"GO:{g:07d}"] > 0.99 for g in range(4))
    assert abs(per["GO:0009999"] - 0.5) < 0.15
    assert set(res["by_ontology"]) == {"BP", "MF"} and res["by_ontology"]["MF"]["n"] == 1
    assert res["coverage"]["n_used"] == 160 and len(res["alpha"]) == 5
    sub = go_terms(emb, ann, min_genes=20, max_genes=100, max_terms=2, seed=0)
    assert sub["n_terms"] == 2 and sub["n_terms_eligible"] == 5
    with pytest.raises(ValueError, match="no GO term"):
        go_terms(emb, ann, min_genes=1000, max_genes=2000)


def test_propagate_annotations_true_path():
    ann = pd.DataFrame({"symbol": ["A", "B"], "go_id": ["GO:3", "GO:2"], "ontology": ["BP", "BP"]})
    parents = pd.DataFrame(
        {
            "child_go_id": ["GO:3", "GO:2", "GO:3"],
            "parent_go_id": ["GO:2", "GO:1", "GO:9"],
            "relationship_type": ["isa", "part of", "regulates"],
            "ontology": ["BP", "BP", "BP"],
        }
    )
    out = propagate_annotations(ann, parents)
    assert sorted(map(tuple, out[["symbol", "go_id"]].to_numpy())) == [
        ("A", "GO:1"), ("A", "GO:2"), ("A", "GO:3"), ("B", "GO:1"), ("B", "GO:2"),
    ]  # fmt: skip
    assert set(out["ontology"]) == {"BP"}


# -- runner ---------------------------------------------------------------------------------
def write_gene_data(root, emb: GeneEmbeddings, group: np.ndarray, seed: int = 0) -> None:
    """A tiny stand-in for ../shared/data/genes built from a clustered embedding."""
    rng = np.random.default_rng(seed)
    genes = list(emb.genes)
    types = np.array(["protein_coding", "lncRNA", "miRNA", "snRNA"])[group % 4]
    pd.DataFrame({"ensembl_id": [f"ENSG{i:011d}" for i in range(len(genes))], "gene_name": genes, "gene_type": types}).to_csv(
        root / "gene_types_geneformer.csv.gz"
    )
    ggi = root / "gene2vec_ggi"
    ggi.mkdir()
    for split, n in (("train", 800), ("test", 300)):
        idx = rng.integers(0, len(genes), size=(n, 2))
        y = (group[idx[:, 0]] == group[idx[:, 1]]).astype(int)
        (ggi / f"{split}_text.txt").write_text("".join(f"{genes[a]} {genes[b]}\n" for a, b in idx))
        (ggi / f"{split}_label.txt").write_text("".join(f"{v}\n" for v in y))
    ann = _go_table(group, genes, rng)
    ann.insert(0, "entrez_id", "0")
    ann[["entrez_id", "symbol", "go_id", "evidence", "ontology"]].to_csv(root / "go_annotations_human_2022.tsv.gz", sep="\t", index=False)
    with gzip.open(root / "go_parents_2022.tsv.gz", "wt") as fh:
        fh.write("child_go_id\tparent_go_id\trelationship_type\tontology\nGO:0000001\tGO:0008150\tisa\tBP\n")


def test_evaluate_genes_end_to_end(tmp_path):
    emb, group = clustered_embeddings(n_per=80, n_groups=4)
    write_gene_data(tmp_path, emb, group)
    labels = tmp_path / "prop.tsv"
    labels.write_text("gene\tlabel\n" + "".join(f"{g}\t{int(k == 0)}\n" for g, k in zip(emb.genes, group, strict=True)))
    res = evaluate_genes({"syn": emb}, tmp_path, tasks=("classes", "ggi", "go", "property"), label_files=[labels], seed=0)
    t = res["tasks"]
    assert set(t) == {"classes", "ggi", "go", "property:prop.tsv"}
    assert set(t["classes"]) == {"syn", "random:syn"}
    assert t["classes"]["syn"]["accuracy"] > 0.95 > t["classes"]["random:syn"]["accuracy"]
    assert t["go"]["syn"]["auc"]["median"] > t["go"]["random:syn"]["auc"]["median"]
    assert t["property:prop.tsv"]["syn"]["logreg"]["auc"]["mean"] > 0.95
    assert abs(t["property:prop.tsv"]["random:syn"]["logreg"]["auc"]["mean"] - 0.5) < 0.2
    assert res["settings"]["embeddings"]["syn"]["dim"] == 16 and res["skipped"] == {}

    res = evaluate_genes({"syn": emb}, tmp_path / "missing", tasks=("classes", "property"), random_control=False)
    assert set(res["skipped"]) == {"classes", "property"} and res["tasks"] == {}
    with pytest.raises(ValueError, match="unknown gene tasks"):
        evaluate_genes({"syn": emb}, tmp_path, tasks=("nope",))


def test_load_gene_types_real(shared_data):
    table = load_gene_types(shared_data / "genes" / "gene_types_geneformer.csv.gz")
    assert list(table.columns) == ["ensembl_id", "gene_name", "gene_type"] and len(table) == 80528
