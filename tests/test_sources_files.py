"""Local file sources: GenePT JSON, RefSeq summary tables, user tables, and ``load_source`` specs."""

from __future__ import annotations

import gzip
import json

import pytest

from genept.genes.corpus import build_corpus
from genept.genes.sources import load_source
from genept.genes.sources.files import read_genept_json, read_summary_table

REFSEQ_TSV = (
    "entrez_id\tsymbol\tfull_name\tgene_type\treview_status\trefseq_accessions\tsummary\n"
    "916\tCD3E\tCD3 epsilon subunit of T-cell receptor complex\tprotein-coding\tREVIEWED REFSEQ\tNM_000733.4\tPart of the TCR-CD3 complex.\n"
    "3630\tINS\tinsulin\tprotein-coding\tREVIEWED REFSEQ\tNM_000207.3\tA peptide hormone.\n"
    "2641\tGCG\tglucagon\tprotein-coding\tREVIEWED REFSEQ\tNM_002054.5\t\n"
    "3880\t\tkeratin 19\tprotein-coding\tREVIEWED REFSEQ\tNM_002276.5\tA keratin, keyed by Entrez id only.\n"
)


@pytest.fixture
def refseq_file(tmp_path):
    path = tmp_path / "refseq_summaries_test.tsv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(REFSEQ_TSV)
    return path


def test_genept_json(tmp_path):
    data = {"CD3E": "Gene Symbol CD3E Full Name: ... Summary: part of the TCR.", "INS": "  insulin text  ", "EMPTY": " "}
    (tmp_path / "NCBI_summary_of_genes.json").write_text(json.dumps(data))
    with gzip.open(tmp_path / "genes.json.gz", "wt") as fh:
        json.dump(data, fh)
    for name in ("NCBI_summary_of_genes.json", "genes.json.gz"):
        facts = read_genept_json(tmp_path / name)
        assert sorted(facts) == ["CD3E", "INS"], name
        assert facts["INS"].summary == "insulin text"
        assert (facts["CD3E"].source, facts["CD3E"].version) == ("genept-json", name)
    assert read_genept_json(tmp_path / "genes.json.gz", version="zenodo-2024")["INS"].version == "zenodo-2024"


@pytest.mark.parametrize("payload", [["CD3E", "text"], {"CD3E": 1.5}])
def test_genept_json_wrong_shape(tmp_path, payload):
    (tmp_path / "bad.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="expected a JSON object mapping gene symbols to texts"):
        read_genept_json(tmp_path / "bad.json")


def test_refseq_table(refseq_file):
    facts = read_summary_table(refseq_file)
    assert list(facts) == ["CD3E", "INS", "3880"]  # GCG has no summary; KRT19's row has no symbol
    cd3e = facts["CD3E"]
    assert cd3e.full_name == "CD3 epsilon subunit of T-cell receptor complex"
    assert cd3e.gene_type == "protein coding"
    assert cd3e.summary == "Part of the TCR-CD3 complex."
    assert (cd3e.source, cd3e.version) == ("refseq", "refseq_summaries_test.tsv")
    # The Entrez-keyed row reaches its gene when the corpus is built.
    corpus = build_corpus(["KRT19", "INS"], [facts], species="human", compose_missing=False)
    assert corpus.genes == ["KRT19", "INS"]
    assert "keyed by Entrez id only" in corpus["KRT19"]


def test_refseq_table_real_file(shared_data):
    facts = read_summary_table(shared_data / "genes" / "refseq_summaries_human_r220.tsv.gz")
    # 15,149 rows, all with a summary; 13 rows have no symbol and are keyed by Entrez id.
    assert len(facts) == 15_149
    assert sum(k.isdigit() for k in facts) == 13
    cd3e = facts["CD3E"]
    assert cd3e.full_name == "CD3 epsilon subunit of T-cell receptor complex"
    assert cd3e.summary.startswith("The protein encoded by this gene is the CD3-epsilon polypeptide")
    assert (cd3e.source, cd3e.gene_type) == ("refseq", "protein coding")
    assert facts["MALAT1"].gene_type == "non-coding RNA"  # NCBI's 'ncRNA', spelled as HGNC facts spell it


def test_user_csv_with_named_columns(tmp_path):
    path = tmp_path / "my_texts.csv"
    path.write_text("ensembl,my description,other\nENSG00000198851,Marks T cells.,x\nENSG00000254647,Made in beta cells.,y\n,orphan,z\n")
    facts = read_summary_table(path, gene_column="ensembl", text_column="my description", version="lab-v2")
    assert sorted(facts) == ["ENSG00000198851", "ENSG00000254647"]
    assert facts["ENSG00000198851"].summary == "Marks T cells."
    assert (facts["ENSG00000198851"].source, facts["ENSG00000198851"].version) == ("file", "lab-v2")
    corpus = build_corpus(["CD3E", "INS"], [facts], species="human", compose_missing=False)
    assert corpus.genes == ["CD3E", "INS"]


def test_bad_column_is_a_clear_error(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("gene\tsummary\nCD3E\ttext\n")
    with pytest.raises(ValueError, match=r"no column 'symbol'; columns are \['gene', 'summary'\]"):
        read_summary_table(path, gene_column="symbol")
    with pytest.raises(ValueError, match="no column 'notes'"):
        read_summary_table(path, text_column="notes")
    path.write_text("id_x\tnotes\nCD3E\ttext\n")
    with pytest.raises(ValueError, match="cannot tell which column holds the gene"):
        read_summary_table(path)
    path.write_text("gene\tnotes\nCD3E\ttext\n")
    with pytest.raises(ValueError, match="cannot tell which column holds the text"):
        read_summary_table(path)


def test_duplicate_rows_fill_gaps(tmp_path):
    path = tmp_path / "dups.tsv"
    path.write_text("symbol\tfull_name\tsummary\nCD3E\t\tfirst text\nCD3E\tCD3 epsilon\tsecond text\n")
    facts = read_summary_table(path)
    assert (facts["CD3E"].summary, facts["CD3E"].full_name) == ("first text", "CD3 epsilon")


def test_load_source_specs(refseq_file, tmp_path):
    assert list(load_source(f"refseq:{refseq_file}")) == ["CD3E", "INS", "3880"]
    table = tmp_path / "t.csv"
    table.write_text("g,t\nCD3E,hello\n")
    facts = load_source(f"table:{table}:g:t")
    assert facts["CD3E"].summary == "hello" and facts["CD3E"].source == "file"
    (tmp_path / "g.json").write_text(json.dumps({"INS": "insulin"}))
    assert load_source(f"genept-json:{tmp_path / 'g.json'}")["INS"].summary == "insulin"
    with pytest.raises(ValueError, match="unknown source 'wiki:x'"):
        load_source("wiki:x")
    with pytest.raises(ValueError, match="needs a gene list"):
        load_source("ncbi")
