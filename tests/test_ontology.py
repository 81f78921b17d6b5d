"""genes.ontology: the one GO reader, used by the corpus source, enrichment and the GO evaluation task."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from genept.genes import ontology
from genept.genes.ontology import load_go, propagate_annotations, read_annotations, read_go_sets


def _write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture
def go_dir(tmp_path):
    _write(tmp_path / "go_annotations_human_2022.tsv.gz",
           "entrez_id\tsymbol\tgo_id\tevidence\tontology\n1\tINS\tGO:3\tIDA\tBP\n2\tGCG\tGO:2\tIEA\tBP\n3\tGCG\tGO:9\tND\tCC\n")
    _write(tmp_path / "go_terms_2022.tsv.gz",
           "go_id\tontology\tterm\tdefinition\nGO:1\tBP\troot process\t.\nGO:2\tBP\thormone secretion\t.\n"
           "GO:3\tBP\tinsulin secretion\t.\nGO:9\tCC\tnucleus\t.\n")
    _write(tmp_path / "go_parents_2022.tsv.gz",
           "child_go_id\tparent_go_id\trelationship_type\tontology\nGO:3\tGO:2\tisa\tBP\nGO:2\tGO:1\tpart of\tBP\n")
    return tmp_path


def test_load_go_reads_the_three_tables(go_dir):
    go = load_go(go_dir)
    assert sorted(go) == ["annotations", "parents", "terms"]
    assert go["annotations"]["symbol"].tolist() == ["INS", "GCG", "GCG"]
    (go_dir / "go_terms_2022.tsv.gz").unlink()
    assert sorted(load_go(go_dir)) == ["annotations", "parents"]  # term names only label reports


def test_evaluation_and_enrichment_read_through_the_same_functions(go_dir):
    from genept.evaluation import genes as eval_genes
    from genept.text import enrichment

    assert eval_genes.load_go is ontology.load_go and eval_genes.propagate_annotations is ontology.propagate_annotations
    assert enrichment.read_go_sets is ontology.read_go_sets
    go = load_go(go_dir)
    ann = go["annotations"][go["annotations"]["evidence"] != "ND"]
    propagated = propagate_annotations(ann, go["parents"])
    sets, names = read_go_sets(*(go_dir / f for f in ("go_annotations_human_2022.tsv.gz", "go_terms_2022.tsv.gz", "go_parents_2022.tsv.gz")))
    # Same true-path pairs from both entry points (read_go_sets keeps BP, which is all that is left).
    assert set(map(tuple, sets.to_numpy().tolist())) == set(map(tuple, propagated[["symbol", "go_id"]].to_numpy().tolist()))
    assert names["GO:3"] == "insulin secretion"


def test_read_annotations_fills_terms_and_normalises_ontologies(tmp_path):
    ann = _write(tmp_path / "ann.csv", "Symbol,GO_ID,Ontology\n INS ,GO:3,biological_process\nGCG,GO:9,\n")
    terms = _write(tmp_path / "terms.csv", "go_id,term,ontology\nGO:3,insulin secretion,P\nGO:9,nucleus,cellular_component\n")
    table = read_annotations(ann, terms)
    assert table[["symbol", "term", "ontology", "evidence"]].to_dict("records") == [
        {"symbol": "INS", "term": "insulin secretion", "ontology": "BP", "evidence": ""},
        {"symbol": "GCG", "term": "nucleus", "ontology": "CC", "evidence": ""},
    ]
    with pytest.raises(ValueError, match=r"missing column\(s\) \['symbol'\]"):
        read_annotations(_write(tmp_path / "bad.tsv", "gene\tgo_id\nINS\tGO:3\n"))


def test_read_go_sets_accepts_long_ontology_names(tmp_path):
    ann = _write(tmp_path / "a.tsv", "symbol\tgo_id\tontology\nINS\tGO:3\tbiological_process\nGCG\tGO:9\tcellular_component\n")
    bp, _ = read_go_sets(ann, ontologies=["biological_process"])
    assert bp["symbol"].tolist() == ["INS"]
    assert isinstance(bp, pd.DataFrame)
