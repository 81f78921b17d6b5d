"""``genept genes resolve`` and ``genept genes build-corpus`` through ``genept.cli.main``."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from genept.cli import main
from genept.genes.corpus import GeneCorpus

REFSEQ = (
    "entrez_id\tsymbol\tfull_name\tgene_type\tsummary\n"
    "916\tCD3E\tCD3 epsilon subunit of T-cell receptor complex\tprotein-coding\tPart of the T-cell receptor-CD3 complex.\n"
    "3630\tINS\tinsulin\tprotein-coding\tA peptide hormone made by beta cells.\n"
)


@pytest.fixture
def refseq(tmp_path):
    path = tmp_path / "refseq_small.tsv"
    path.write_text(REFSEQ)
    return path


def test_resolve_prints_table_and_report(capsys):
    assert main(["genes", "resolve", "CD3E", "NKX6.1", "916", "ASP", "NOT_A_GENE", "--species", "human"]) == 0
    out, err = capsys.readouterr()
    table = out.splitlines()
    assert table[0].split() == ["query", "symbol", "route", "candidates"]
    assert table[2].split() == ["NKX6.1", "NKX6-1", "symbol_dot"]
    assert "A1CF|" in table[4] and "ambiguous" in table[4]
    assert err.splitlines()[0] == "3 / 5 identifiers resolved (60.0%)"
    assert "unresolved: NOT_A_GENE" in err


def test_resolve_from_file_to_tsv(tmp_path, capsys):
    ids = tmp_path / "ids.txt"
    ids.write_text("gene\nCd3e\nIns1\nIns2\n")
    out_path = tmp_path / "resolved.tsv"
    assert main(["genes", "resolve", "--genes-from", str(ids), "-o", str(out_path)]) == 0
    out, err = capsys.readouterr()
    assert out == ""  # the table went to the file
    table = pd.read_csv(out_path, sep="\t", keep_default_na=False)
    assert table["symbol"].tolist() == ["CD3E", "INS", "INS"]
    assert set(table["route"]) == {"mouse_ortholog"}  # species guessed from the symbols
    assert "1 identifiers map to a gene that another identifier also maps to" in err


def test_resolve_without_ids_is_an_error(capsys):
    assert main(["genes", "resolve"]) == 2
    assert "give identifiers as arguments or --genes-from" in capsys.readouterr().err


def test_build_corpus(tmp_path, refseq, capsys):
    genes = tmp_path / "genes.txt"
    genes.write_text("CD3E\nINS\nPPY\nNOT_A_GENE\n")
    out_path, report = tmp_path / "corpus.json.gz", tmp_path / "report.json"
    argv = ["genes", "build-corpus", "-o", str(out_path), "--source", f"refseq:{refseq}", "--genes-from", str(genes), "--species", "human", "--report", str(report)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    corpus = GeneCorpus.load(out_path)
    assert corpus.genes == ["CD3E", "INS", "PPY"]
    assert corpus.composed == ["PPY"]
    assert "Summary: A peptide hormone made by beta cells." in corpus["INS"]
    assert corpus.summary().splitlines()[0] in out
    assert "3 / 4 identifiers resolved (75.0%)" in out
    assert "3 / 4 identifiers have a text (1 texts composed from structured facts)" in out
    assert out.rstrip().endswith(f"wrote {out_path}")
    assert json.loads(report.read_text())["unresolved"] == ["NOT_A_GENE"]


def test_build_corpus_no_compose_and_summary_template(tmp_path, refseq, capsys):
    genes = tmp_path / "genes.txt"
    genes.write_text("CD3E\nINS\nPPY\n")
    out_path = tmp_path / "corpus.json"
    argv = ["genes", "build-corpus", "-o", str(out_path), "--source", f"refseq:{refseq}", "--genes-from", str(genes), "--no-compose", "--template", "summary-only"]
    assert main(argv) == 0
    corpus = GeneCorpus.load(out_path)
    assert corpus.genes == ["CD3E", "INS"]
    assert corpus["INS"] == "A peptide hormone made by beta cells.\nINS insulin"
    assert corpus.template.name == "summary-only"


def test_build_corpus_from_h5ad_genes(tmp_path, refseq, small_adata, capsys):
    h5ad = tmp_path / "cells.h5ad"
    small_adata.write_h5ad(h5ad)
    out_path = tmp_path / "corpus.json"
    assert main(["genes", "build-corpus", "-o", str(out_path), "--source", f"refseq:{refseq}", "--genes-from", str(h5ad)]) == 0
    corpus = GeneCorpus.load(out_path)
    assert len(corpus) == small_adata.n_vars
    assert set(corpus.genes) == set(small_adata.var_names)
    assert sorted(set(corpus.genes) - set(corpus.composed)) == ["CD3E", "INS"]


def test_build_corpus_bad_source(tmp_path, capsys):
    assert main(["genes", "build-corpus", "-o", str(tmp_path / "c.json"), "--source", "wiki:x"]) == 2
    assert "unknown source 'wiki:x'" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()


def test_build_corpus_all_genes_covers_every_hgnc_gene(tmp_path, refseq, capsys):
    from genept.genes.ids import GeneResolver

    n_hgnc = len(GeneResolver.default().table)
    out_path = tmp_path / "corpus.json"
    argv = ["genes", "build-corpus", "-o", str(out_path), "--source", f"refseq:{refseq}", "--all-genes", "--no-compose"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert n_hgnc > 40_000
    assert f"{n_hgnc:,} / {n_hgnc:,} identifiers resolved (100.0%)" in out
    assert f"2 / {n_hgnc:,} identifiers have a text" in out  # --no-compose: only the two written summaries
    assert sorted(GeneCorpus.load(out_path).genes) == ["CD3E", "INS"]


def test_build_corpus_genes_from_repeatable_h5ad_text_csv(tmp_path, refseq, small_adata, capsys):
    h5ad = tmp_path / "cells.h5ad"
    small_adata[:, :3].copy().write_h5ad(h5ad)  # CD3E, CD3D, CD2
    text = tmp_path / "genes.txt"
    text.write_text("# my genes\nINS\nCD3E\n")
    csv = tmp_path / "table.csv"
    csv.write_text("score,gene\n1.5,GCG\n2.0,PPY\n")
    out_path = tmp_path / "corpus.json"
    argv = [
        "genes", "build-corpus", "-o", str(out_path), "--source", f"refseq:{refseq}",
        "--genes-from", str(h5ad), "--genes-from", str(text), "--genes-from", f"{csv}:gene",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert GeneCorpus.load(out_path).genes == ["CD3E", "CD3D", "CD2", "INS", "GCG", "PPY"]  # union, first order, CD3E once
    assert "6 / 6 identifiers resolved" in out


def test_build_corpus_genes_from_errors_name_the_flag(tmp_path, capsys):
    csv = tmp_path / "table.csv"
    csv.write_text("score,gene\n1.5,GCG\n")
    assert main(["genes", "build-corpus", "-o", str(tmp_path / "c.json"), "--genes-from", f"{csv}:symbol"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("genept genes: error: --genes-from") and "no column 'symbol'" in err and "['score', 'gene']" in err
    assert main(["genes", "build-corpus", "-o", str(tmp_path / "c.json"), "--genes-from", str(tmp_path / "nope.txt")]) == 2
    assert "--genes-from" in capsys.readouterr().err and "Traceback" not in err


def test_embed_reports_truncation_once_in_the_summary(tmp_path, refseq, monkeypatch, capsys):
    """Per-batch "N of 32 texts ... truncated" warnings do not reach the console: the summary gives the total."""
    import logging

    import numpy as np

    import genept.embeddings
    from genept.embeddings import GeneEmbeddings

    corpus = tmp_path / "corpus.json"
    genes = tmp_path / "genes.txt"
    genes.write_text("CD3E\nINS\n")
    assert main(["genes", "build-corpus", "-o", str(corpus), "--source", f"refseq:{refseq}", "--genes-from", str(genes)]) == 0

    def fake_embed_genes(corpus, encoder, **kwargs):
        for _ in range(5):  # what a real encoder logs once per batch
            logging.getLogger("genept.encoders.local").warning(
                "%d of %d texts are longer than %d tokens and were truncated by %s", 3, 32, 256, "minilm"
            )
        logging.getLogger("genept.other").warning("%d of %d genes are odd", 1, 10)
        logging.getLogger("genept.other").warning("%d of %d genes are odd", 2, 10)
        meta = {"encoder": "fake", "encode_stats": {"n_cached": 0, "n_truncated": 15}, "composed_genes": []}
        return GeneEmbeddings(corpus.genes, np.ones((len(corpus), 4), np.float32), meta)

    monkeypatch.setattr(genept.embeddings, "embed_genes", fake_embed_genes)
    capsys.readouterr()
    assert main(["genes", "embed", "--corpus", str(corpus), "--encoder", "hashing", "--no-cache", "-o", str(tmp_path / "e.npz")]) == 0
    out, err = capsys.readouterr()
    assert "truncated" not in err
    # other repeated warnings collapse into one line with the summed counts, no source path
    assert err.count("genes are odd") == 1 and "genept genes: warning: 3 of 20 genes are odd (summed over 2 reports)" in err
    assert ".py" not in err
    assert "embedded 2 genes" in out
