"""Gene text corpus: templates, building from sources, merging, persistence and hashing."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from genept.genes.corpus import (
    DEFAULT_TEMPLATE,
    SUMMARY_ONLY,
    GeneCorpus,
    GeneFacts,
    TextTemplate,
    build_corpus,
    corpus_from_facts,
    merge_facts,
)
from genept.genes.ids import GeneResolver

HGNC = pd.DataFrame(
    [
        ("CD3E", "CD3 epsilon subunit of T-cell receptor complex", "protein-coding gene", "T3E", "", "ENSG00000198851", "916", "HGNC:1674"),
        ("INS", "insulin", "protein-coding gene", "IDDM2", "", "ENSG00000254647", "3630", "HGNC:6081"),
        ("GCG", "glucagon", "protein-coding gene", "GLP1", "", "ENSG00000115263", "2641", "HGNC:4191"),
        ("MALAT1", "metastasis associated lung adenocarcinoma transcript 1", "non-coding RNA", "NEAT2", "LINC00047", "ENSG00000251562", "378938", "HGNC:29665"),
        ("PPY", "pancreatic polypeptide", "protein-coding gene", "", "", "ENSG00000108849", "5539", "HGNC:9327"),
    ],
    columns=["symbol", "name", "locus_group", "alias_symbol", "prev_symbol", "ensembl_gene_id", "entrez_id", "hgnc_id"],
)  # fmt: skip


@pytest.fixture(scope="module")
def resolver() -> GeneResolver:
    return GeneResolver(HGNC, version="hgnc-test")


@pytest.fixture
def refseq() -> dict[str, GeneFacts]:
    return {
        "CD3E": GeneFacts("CD3E", full_name="CD3e molecule", gene_type="protein coding", summary="Part of the T-cell receptor-CD3 complex.", source="refseq", version="r220"),
        "3630": GeneFacts("3630", summary="Insulin regulates carbohydrate metabolism.", source="refseq", version="r220"),
        "LINC00047": GeneFacts("LINC00047", summary="A long non-coding RNA retained in the nucleus.", source="refseq", version="r220"),
    }  # fmt: skip


# -- templates ---------------------------------------------------------------------------------


def test_render_full_facts():
    facts = GeneFacts("CD3E", "CD3 epsilon", "protein coding", ("T3E", "TCRE"), "  A T-cell gene. ", ("T cell activation", "TCR complex"))
    assert DEFAULT_TEMPLATE.render(facts) == (
        "Gene symbol: CD3E\n"
        "Full name: CD3 epsilon\n"
        "Gene type: protein coding\n"
        "Also known as: T3E, TCRE\n"
        "Summary: A T-cell gene.\n"
        "Gene Ontology: T cell activation; TCR complex"
    )


def test_render_drops_lines_whose_fields_are_all_empty():
    assert DEFAULT_TEMPLATE.render(GeneFacts("PPY", full_name="pancreatic polypeptide")) == (
        "Gene symbol: PPY\nFull name: pancreatic polypeptide"
    )
    # A line with one empty and one filled field stays.
    assert SUMMARY_ONLY.render(GeneFacts("PPY", full_name="pancreatic polypeptide")) == "PPY pancreatic polypeptide"
    assert SUMMARY_ONLY.render(GeneFacts("PPY", summary="Made by PP cells.")) == "Made by PP cells.\nPPY"


def test_render_caps_aliases_and_go_terms():
    t = TextTemplate(name="short", pattern="{aliases} | {go_terms}", max_aliases=2, max_go_terms=1)
    assert t.render(GeneFacts("X", aliases=("A", "B", "C"), go_terms=("g1", "g2"))) == "A, B | g1"
    assert t.id == "short@1"


# -- merging -----------------------------------------------------------------------------------


def test_merge_earlier_layer_wins_and_fills_gaps():
    first = {"A": GeneFacts("A", full_name="first name", summary="first summary", source="s1", version="1")}
    second = {
        "A": GeneFacts("A", full_name="second name", gene_type="type2", aliases=("A2",), summary="second summary", source="s2", version="2"),
        "B": GeneFacts("B", summary="only in second", source="s2", version="2"),
    }
    merged = merge_facts(first, second)
    a = merged["A"]
    assert (a.full_name, a.summary, a.gene_type, tuple(a.aliases)) == ("first name", "first summary", "type2", ("A2",))
    assert (a.source, a.version) == ("s1", "1")
    assert merged["B"].summary == "only in second"


def test_merge_provenance_follows_the_summary():
    go = GeneFacts("A", go_terms=("insulin secretion",), source="go", version="go2022")
    text = GeneFacts("A", summary="written text", source="refseq", version="r220")
    names = GeneFacts("A", full_name="a name", source="hgnc", version="2026")
    m = go.merged(text)
    assert (m.summary, m.source, m.version, tuple(m.go_terms)) == ("written text", "refseq", "r220", ("insulin secretion",))
    # Without any summary, every layer that added something is named.
    m = go.merged(names)
    assert (m.source, m.version) == ("go+hgnc", "go2022+2026")
    # A layer that adds nothing is not named.
    assert go.merged(GeneFacts("A", go_terms=("other",), source="x")).source == "go"


# -- building ----------------------------------------------------------------------------------


def test_build_corpus_from_sources_with_composed_texts(resolver, refseq):
    corpus = build_corpus(["CD3E", "ins", "MALAT1", "PPY", "NOT_A_GENE"], [refseq], resolver=resolver, species="human")
    assert corpus.genes == ["CD3E", "INS", "MALAT1", "PPY"]
    # Keys given as Entrez ids and previous symbols reach their HGNC gene.
    assert "Insulin regulates" in corpus["INS"]
    assert "retained in the nucleus" in corpus["MALAT1"]
    # The source's own fields win over HGNC's; HGNC fills what the source lacks.
    assert corpus["CD3E"].splitlines()[:4] == [
        "Gene symbol: CD3E",
        "Full name: CD3e molecule",
        "Gene type: protein coding",
        "Also known as: T3E",
    ]
    assert corpus["PPY"] == "Gene symbol: PPY\nFull name: pancreatic polypeptide\nGene type: protein coding"
    assert corpus.composed == ["PPY"]
    prov = corpus.provenance
    assert prov.loc["CD3E", ["source", "version", "composed"]].tolist() == ["refseq", "r220", False]
    assert prov.loc["PPY", ["source", "version", "composed"]].tolist() == ["hgnc", "hgnc-test", True]
    assert "Also known as: NEAT2, LINC00047" in corpus["MALAT1"]


def test_build_corpus_without_composing(resolver, refseq):
    corpus = build_corpus(["CD3E", "PPY", "GCG"], [refseq], resolver=resolver, species="human", compose_missing=False)
    assert corpus.genes == ["CD3E"]
    assert corpus.composed == []


def test_build_corpus_all_genes(resolver, refseq):
    everything = build_corpus(None, [refseq], resolver=resolver)
    assert sorted(everything.genes) == sorted(HGNC["symbol"])
    assert sorted(everything.composed) == ["GCG", "PPY"]
    written = build_corpus(None, [refseq], resolver=resolver, compose_missing=False)
    assert sorted(written.genes) == ["CD3E", "INS", "MALAT1"]


def test_build_corpus_layers_and_go_enrichment(resolver, refseq):
    override = {"CD3E": GeneFacts("CD3E", summary="User text wins.", source="mine", version="v1")}
    go = {"PPY": GeneFacts("PPY", go_terms=("hormone activity", "feeding behavior"), source="go", version="go2022")}
    corpus = build_corpus(["CD3E", "PPY"], [override, refseq, go], resolver=resolver, species="human")
    assert "Summary: User text wins." in corpus["CD3E"]
    assert corpus.provenance.loc["CD3E", "source"] == "mine"
    assert corpus["PPY"].endswith("Gene Ontology: hormone activity; feeding behavior")
    assert corpus.provenance.loc["PPY", ["source", "composed"]].tolist() == ["go+hgnc", True]


def test_build_corpus_keeps_user_genes_unknown_to_hgnc(resolver):
    mine = {"MYGENE1": GeneFacts("MYGENE1", summary="A gene only my lab names.", source="lab")}
    corpus = build_corpus(["MYGENE1", "UNKNOWN2"], [mine], resolver=resolver, species="human")
    assert corpus.genes == ["MYGENE1"]
    assert corpus["MYGENE1"] == "Gene symbol: MYGENE1\nSummary: A gene only my lab names."


def test_build_corpus_default_resolver_on_real_tables():
    corpus = build_corpus(["CD3E", "NKX6.1"], [], compose_missing=True)
    assert corpus.genes == ["CD3E", "NKX6-1"]
    assert corpus.composed == ["CD3E", "NKX6-1"]
    assert "Full name: CD3 epsilon subunit of T-cell receptor complex" in corpus["CD3E"]


# -- persistence and hashing -------------------------------------------------------------------


@pytest.fixture
def corpus(resolver, refseq) -> GeneCorpus:
    return build_corpus(["CD3E", "INS", "PPY"], [refseq], resolver=resolver, species="human")


@pytest.mark.parametrize("name", ["corpus.json", "corpus.json.gz"])
def test_save_load_round_trip(corpus, tmp_path, name):
    path = corpus.save(tmp_path / name)
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = GeneCorpus.load(path)
    assert back.texts == corpus.texts
    assert list(back.texts) == list(corpus.texts)
    pd.testing.assert_frame_equal(back.provenance[["source", "version", "composed", "sha256"]], corpus.provenance[["source", "version", "composed", "sha256"]], check_names=False)
    assert back.template == corpus.template
    assert back.hash == corpus.hash
    assert back.created == corpus.created
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary files left behind


def test_hash_is_stable_and_sensitive(corpus):
    texts = dict(reversed(list(corpus.texts.items())))
    same = GeneCorpus(texts, corpus.provenance, corpus.template, created="another day")
    assert same.hash == corpus.hash  # order and creation time do not matter
    assert len(corpus.hash) == 64

    edited = dict(corpus.texts, PPY=corpus.texts["PPY"] + ".")
    assert GeneCorpus(edited, corpus.provenance, corpus.template).hash != corpus.hash
    other_template = TextTemplate(name="ncbi-page", version="2")
    assert GeneCorpus(corpus.texts, corpus.provenance, other_template).hash != corpus.hash
    fewer = corpus.subset(["CD3E", "INS"])
    assert fewer.genes == ["CD3E", "INS"] and fewer.hash != corpus.hash


def test_hash_of_a_rebuilt_corpus_is_unchanged(resolver, refseq, corpus):
    again = build_corpus(["CD3E", "INS", "PPY"], [refseq], resolver=resolver, species="human")
    assert again.hash == corpus.hash


def test_summary_and_container(corpus):
    assert len(corpus) == 3 and "INS" in corpus and "GCG" not in corpus
    text = corpus.summary()
    assert text.startswith(f"GeneCorpus: 3 genes, template ncbi-page@1, hash {corpus.hash[:12]}")
    assert "refseq" in text and "composed" in text


def test_provenance_must_cover_every_gene(corpus):
    with pytest.raises(ValueError, match="provenance is missing for 1 genes"):
        GeneCorpus(dict(corpus.texts, NEW="x"), corpus.provenance)


def _rewrite(path, edit):
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda p: p.write_bytes(b"{not json"), "not a readable genept corpus"),
        (lambda p: p.write_bytes(gzip.compress(b'{"format": "genept.corpus"')[:-8]), "not a readable genept corpus"),
        (lambda p: p.write_text(json.dumps({"format": "something else"})), "not a genept corpus"),
        (lambda p: _rewrite(p, lambda d: d.update(format_version=99)), "newer genept"),
        (lambda p: _rewrite(p, lambda d: d["genes"][0].update(text="tampered")), "do not match their recorded hash"),
        (lambda p: _rewrite(p, lambda d: d["genes"][0].pop("sha256")), "missing a field"),
        (lambda p: _rewrite(p, lambda d: d.pop("template")), "missing a field"),
        (lambda p: _rewrite(p, lambda d: d["genes"].append(dict(d["genes"][0]))), "more than once"),
        (lambda p: _rewrite(p, lambda d: d["genes"].pop()), "hash does not match"),
    ],
)
def test_corrupt_file_gives_a_clear_error(corpus, tmp_path, corrupt, message):
    path = corpus.save(tmp_path / "corpus.json")
    corrupt(path)
    with pytest.raises(ValueError, match=message):
        GeneCorpus.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="not a readable genept corpus"):
        GeneCorpus.load(tmp_path / "nope.json")


def test_corpus_from_facts_skips_empty_texts():
    t = TextTemplate(name="summary", pattern="{summary}")
    c = corpus_from_facts({"A": GeneFacts("A", summary="text"), "B": GeneFacts("B")}, t)
    assert c.genes == ["A"] and c.provenance.loc["A", "source"] == "unknown"


def test_unresolved_database_ids_are_left_out(resolver):
    layer = {
        "916": GeneFacts("916", summary="CD3E by Entrez id.", source="s"),
        "999999999": GeneFacts("999999999", summary="An Entrez id HGNC does not know.", source="s"),
        "ENSG00000999999": GeneFacts("ENSG00000999999", summary="Unknown Ensembl id.", source="s"),
        "LOC1-READTHROUGH": GeneFacts("LOC1-READTHROUGH", summary="A named gene HGNC does not know.", source="s"),
    }
    corpus = build_corpus(None, [layer], resolver=resolver, compose_missing=False)
    assert corpus.genes == ["CD3E", "LOC1-READTHROUGH"]
