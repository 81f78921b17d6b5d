"""Binary gene label tables: CSV/TSV, Ensembl/Entrez/symbol ids, 0/1, True/False or two classes, columns by name."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from genept.evaluation.genes import read_labels


def _write(path, text):
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "text", "spec", "expect", "classes"),
    [
        ("a.csv", "symbol,dosage\nTP53,1\nACTB,0\nMYC,1\n", "", {"TP53": 1, "ACTB": 0, "MYC": 1}, ["0", "1"]),
        ("a.tsv", "gene\tis_tf\nTP53\tTrue\nACTB\tFalse\n", "", {"TP53": 1, "ACTB": 0}, ["False", "True"]),
        ("a.tsv.gz", "entrez_id\tlabel\n7157\tyes\n60\tno\n", "", {"7157": 1, "60": 0}, ["no", "yes"]),
        (
            "b.csv",
            "ensembl_id,symbol,range,score\nENSG00000141510,TP53,long,0.3\nENSG00000075624,ACTB,short,0.1\n",
            ":ensembl_id:range",
            {"ENSG00000141510": 0, "ENSG00000075624": 1},
            ["long", "short"],
        ),
        ("c.csv", "Gene,Class\nTP53,bivalent\nACTB,Lys4-only\n", ":Gene:Class", {"TP53": 1, "ACTB": 0}, ["Lys4-only", "bivalent"]),
        ("d.csv", "symbol,x\nTP53,TRUE\nACTB,false\n", ":SYMBOL:X", {"TP53": 1, "ACTB": 0}, ["false", "TRUE"]),
    ],
)
def test_layouts(tmp_path, name, text, spec, expect, classes):
    path = _write(tmp_path / name, text)
    y = read_labels(f"{path}{spec}")
    assert y.to_dict() == expect
    assert y.dtype == np.int8 and y.attrs["classes"] == classes


def test_positive_class_can_be_named(tmp_path):
    path = _write(tmp_path / "r.csv", "gene,range\nA,long\nB,short\n")
    y = read_labels(f"{path}:gene:range", positive="long")
    assert y.to_dict() == {"A": 1, "B": 0}
    with pytest.raises(ValueError, match="not one of the labels"):
        read_labels(f"{path}:gene:range", positive="medium")


def test_headerless_two_column_file_goes_to_the_simple_reader(tmp_path):
    path = _write(tmp_path / "plain.tsv", "TP53\t1\nACTB\t0\n")
    assert read_labels(path).to_dict() == {"TP53": 1, "ACTB": 0}


def test_ambiguous_label_column_lists_the_columns(tmp_path):
    path = _write(tmp_path / "amb.csv", "symbol,is_tf,is_kinase\nA,1,0\nB,0,1\n")
    with pytest.raises(ValueError, match=r"which column holds the labels.*\['symbol', 'is_tf', 'is_kinase'\]"):
        read_labels(path)
    assert read_labels(f"{path}:symbol:is_kinase").to_dict() == {"A": 0, "B": 1}


def test_ambiguous_id_column_lists_the_columns(tmp_path):
    path = _write(tmp_path / "ids.csv", "symbol,ensembl_id,label\nA,ENSG1,1\nB,ENSG2,0\n")
    with pytest.raises(ValueError, match=r"which column holds the gene ids.*\['symbol', 'ensembl_id', 'label'\]"):
        read_labels(path)


def test_missing_column_and_bad_labels_are_clear(tmp_path):
    path = _write(tmp_path / "m.csv", "symbol,label\nA,1\nB,0\nC,2\n")
    with pytest.raises(ValueError, match=r"no label column 'status'; the columns are \['symbol', 'label'\]"):
        read_labels(f"{path}:symbol:status")
    with pytest.raises(ValueError, match=r"exactly two values, found 3"):
        read_labels(f"{path}:symbol:label")
    with pytest.raises(ValueError, match="does not exist"):
        read_labels(tmp_path / "nope.csv")
    empty = _write(tmp_path / "e.csv", "# only a comment\n")
    with pytest.raises(ValueError, match="empty"):
        read_labels(empty)
    nosep = _write(tmp_path / "n.txt", "genelabel\nA1\n")
    with pytest.raises(ValueError):
        read_labels(nosep)


def test_headerless_two_class_file_keeps_its_first_gene(tmp_path):
    path = _write(tmp_path / "plain.tsv", "TP53\tsensitive\nACTB\tinsensitive\nMYC\tsensitive\n")
    assert read_labels(path).to_dict() == {"TP53": 1, "ACTB": 0, "MYC": 1}


def test_evaluate_genes_reads_column_specs(tmp_path):
    import numpy as np

    from genept.embeddings import GeneEmbeddings
    from genept.evaluation.genes import evaluate_genes

    genes = [f"G{i}" for i in range(40)]
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    emb = GeneEmbeddings(genes, rng.normal(size=(40, 4)) + y[:, None])
    path = _write(tmp_path / "p.csv", "id,other,flag\n" + "".join(f"{g},x{i % 3},{bool(v)}\n" for i, (g, v) in enumerate(zip(genes, y))))
    res = evaluate_genes({"e": emb}, tasks=["property"], label_files=[f"{path}:id:flag"], random_control=False)
    out = next(iter(res["tasks"].values()))["e"]
    assert out["logreg"]["auc"]["mean"] > 0.8 and out["n_pos"] == 20
