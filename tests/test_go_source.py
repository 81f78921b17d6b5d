"""GO term source: filtering, ordering for a text encoder, file handling."""

from __future__ import annotations

import gzip

import pytest

from genept.genes.sources import load_source
from genept.genes.sources.go import read_go_facts

ANNOTATIONS = [
    # entrez_id, symbol, go_id, evidence, ontology
    ("1", "GA", "GO:0000001", "IDA", "BP"),
    ("1", "GA", "GO:0000001", "IEA", "BP"),  # same term again, weaker evidence
    ("1", "GA", "GO:0000002", "IDA", "BP"),
    ("1", "GA", "GO:0000003", "TAS", "MF"),
    ("1", "GA", "GO:0000004", "IDA", "CC"),
    ("1", "GA", "GO:0000005", "IEA", "BP"),
    ("1", "GA", "GO:0005515", "IPI", "MF"),  # protein binding
    ("1", "GA", "GO:0008150", "ND", "BP"),  # root
    ("2", "GB", "GO:0000002", "IMP", "BP"),
    ("2", "GB", "GO:0000004", "IDA", "CC"),
    ("2", "GB", "GO:0000006", "IEA", "MF"),
    ("3", "GC", "GO:0000004", "IEA", "CC"),
    ("3", "GC", "GO:0000002", "ND", "BP"),
    ("4", "GD", "GO:0005515", "IPI", "MF"),
]
TERMS = [
    ("GO:0000001", "BP", "insulin secretion"),
    ("GO:0000002", "BP", "cell adhesion"),
    ("GO:0000003", "MF", "hormone activity"),
    ("GO:0000004", "CC", "nucleus"),
    ("GO:0000005", "BP", "glucose homeostasis"),
    ("GO:0000006", "MF", "kinase activity"),
    ("GO:0005515", "MF", "protein binding"),
    ("GO:0008150", "BP", "biological_process"),
]


def write_tsv(path, header, rows):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt") as fh:
        fh.write("\t".join(header) + "\n")
        fh.writelines("\t".join(r) + "\n" for r in rows)
    return path


@pytest.fixture
def go_files(tmp_path):
    ann = write_tsv(tmp_path / "go_annotations_test.tsv.gz", ["entrez_id", "symbol", "go_id", "evidence", "ontology"], ANNOTATIONS)
    terms = write_tsv(tmp_path / "go_terms_test.tsv.gz", ["go_id", "ontology", "term", "definition"], [(*t, "a definition") for t in TERMS])
    return ann, terms


def test_defaults(go_files):
    facts = read_go_facts(*go_files)
    assert sorted(facts) == ["GA", "GB", "GC"]  # GD only has 'protein binding'
    # Curated first; ontologies take turns (BP, MF, CC), the most specific term of each first
    # ('insulin secretion': 1 gene, before 'cell adhesion': 2 genes); electronic last.
    assert facts["GA"].go_terms == ("insulin secretion", "hormone activity", "nucleus", "cell adhesion", "glucose homeostasis")
    assert facts["GB"].go_terms == ("cell adhesion", "nucleus", "kinase activity")
    assert facts["GC"].go_terms == ("nucleus",)  # its ND annotation is dropped
    assert (facts["GA"].source, facts["GA"].version, facts["GA"].symbol) == ("go", "go_annotations_test.tsv.gz", "GA")
    assert facts["GA"].summary == ""


def test_curated_only_and_ontology_choice(go_files):
    curated = read_go_facts(*go_files, evidence_exclude=("ND", "IEA"))
    assert sorted(curated) == ["GA", "GB"]
    assert curated["GA"].go_terms == ("insulin secretion", "hormone activity", "nucleus", "cell adhesion")
    mf = read_go_facts(*go_files, ontologies=("molecular_function",))
    assert {g: f.go_terms for g, f in mf.items()} == {"GA": ("hormone activity",), "GB": ("kinase activity",)}
    cc_first = read_go_facts(*go_files, ontologies=("CC", "BP"))
    assert cc_first["GA"].go_terms == ("nucleus", "insulin secretion", "cell adhesion", "glucose homeostasis")
    everything = read_go_facts(*go_files, exclude_terms=(), evidence_exclude=())
    assert "protein binding" in everything["GD"].go_terms and "biological_process" in everything["GA"].go_terms
    with pytest.raises(ValueError, match="unknown ontology"):
        read_go_facts(*go_files, ontologies=("XX",))


def test_order_is_stable_whatever_the_row_order(go_files, tmp_path):
    (tmp_path / "other").mkdir()
    shuffled = write_tsv(tmp_path / "other" / "ann.tsv", ["entrez_id", "symbol", "go_id", "evidence", "ontology"], ANNOTATIONS[::-1])
    a = read_go_facts(go_files[0], go_files[1])
    b = read_go_facts(shuffled, go_files[1])
    assert {g: f.go_terms for g, f in a.items()} == {g: f.go_terms for g, f in b.items()}


def test_terms_file_found_beside_annotations(go_files):
    assert read_go_facts(go_files[0])["GB"].go_terms == ("cell adhesion", "nucleus", "kinase activity")


def test_term_names_inside_annotations(tmp_path):
    rows = [("GA", "GO:0000001", "insulin secretion", "P"), ("GA", "GO:0000003", "hormone activity", "F")]
    path = tmp_path / "ann.csv"
    path.write_text("Symbol,GO_ID,Term,Ontology\n" + "".join(",".join(r) + "\n" for r in rows))
    assert read_go_facts(path)["GA"].go_terms == ("insulin secretion", "hormone activity")


def test_clear_errors(tmp_path, go_files):
    (tmp_path / "x").mkdir()
    lonely = write_tsv(tmp_path / "x" / "ann.tsv", ["symbol", "go_id", "evidence", "ontology"], [("GA", "GO:0000001", "IDA", "BP")])
    with pytest.raises(ValueError, match="no single go_terms"):
        read_go_facts(lonely)
    bad = write_tsv(tmp_path / "bad.tsv", ["gene", "go"], [("GA", "GO:0000001")])
    with pytest.raises(ValueError, match=r"missing column\(s\) \['symbol', 'go_id'\]"):
        read_go_facts(bad, go_files[1])
    bad_terms = write_tsv(tmp_path / "terms.tsv", ["id", "name"], [("GO:0000001", "x")])
    with pytest.raises(ValueError, match="expected a GO term table"):
        read_go_facts(lonely, bad_terms)


def test_load_source_spec(go_files):
    facts = load_source(f"go:{go_files[0]}:{go_files[1]}")
    assert facts["GA"].go_terms[0] == "insulin secretion"


def test_real_go_files(shared_data):
    genes = shared_data / "genes"
    facts = read_go_facts(genes / "go_annotations_human_2022.tsv.gz", genes / "go_terms_2022.tsv.gz")
    assert 20_000 < len(facts) < 21_000
    ins = facts["INS"].go_terms
    assert len(ins) == len(set(ins))
    assert "hormone activity" in ins[:15] and "insulin receptor binding" in ins[:15]
    assert "protein binding" not in ins
    assert all("protein binding" not in f.go_terms for f in facts.values())
