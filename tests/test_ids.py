"""Gene identifier resolution: routes, ambiguity, mouse orthologs, coverage reports."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from genept.genes.ids import ROUTES, GeneResolver, coverage_report, read_gene_list

HGNC_COLUMNS = ["symbol", "name", "locus_group", "alias_symbol", "prev_symbol", "ensembl_gene_id", "entrez_id", "hgnc_id"]
HGNC_ROWS = [
    ("CD3E", "CD3 epsilon subunit of T-cell receptor complex", "protein-coding gene", "CD3epsilon|T3E", "", "ENSG00000198851", "916", "HGNC:1674"),
    ("NKX6-1", "NK6 homeobox 1", "protein-coding gene", "NKX6A", "", "ENSG00000163623", "4825", "HGNC:7839"),
    ("CENPS-CORT", "CENPS-CORT readthrough", "protein-coding gene", "", "APITD1-CORT", "ENSG00000251503", "100526739", "HGNC:48346"),
    ("IRF4", "interferon regulatory factor 4", "protein-coding gene", "LSIRF", "MUM1OLD", "ENSG00000137265", "3662", "HGNC:6119"),
    ("PWWP3A", "PWWP domain containing 3A", "protein-coding gene", "", "MUM1", "ENSG00000160953", "84939", "HGNC:29641"),
    ("LINC00001", "long intergenic non-protein coding RNA 1", "non-coding RNA", "MUM1", "", "", "", "HGNC:1"),
    ("A1CF", "APOBEC1 complementation factor", "protein-coding gene", "ACF|ASP", "", "ENSG00000148584", "29974", "HGNC:24086"),
    ("ASIP", "agouti signaling protein", "protein-coding gene", "ASP|AGSW", "", "ENSG00000101440", "434", "HGNC:745"),
    ("INS", "insulin", "protein-coding gene", "IDDM2", "", "ENSG00000254647", "3630", "HGNC:6081"),
    ("GCG", "glucagon", "protein-coding gene", "GLP1", "", "ENSG00000115263", "2641", "HGNC:4191"),
    ("ZNF1", "zinc finger 1", "protein-coding gene", "", "", "ENSG00000000001", "1001", "HGNC:9001"),
    ("ZNF2", "zinc finger 2", "protein-coding gene", "", "", "ENSG00000000002", "1002", "HGNC:9002"),
    ("MT-CO1", "mitochondrially encoded cytochrome c oxidase I", "protein-coding gene", "COI", "MTCO1", "ENSG00000198804", "4512", "HGNC:7419"),
]  # fmt: skip

MOUSE_GENES = pd.DataFrame(
    [
        ("ENSMUSG00000035804", "Ins1", "", ""),
        ("ENSMUSG00000035805", "Ins2", "Ins-2", ""),
        ("ENSMUSG00000000394", "Gcg", "", ""),
        ("ENSMUSG00000032093", "Cd3e", "T3e|Foo1", "Cd3"),
        ("ENSMUSG00000099999", "Foo1", "", ""),  # official symbol without ortholog; also an alias of Cd3e
        ("ENSMUSG00000011111", "Zfp1", "", ""),
        ("ENSMUSG00000022222", "Irf4", "", ""),
        ("ENSMUSG00000033333", "Nkx6-1", "", ""),  # no ortholog on record
        ("ENSMUSG00000044444", "Alms1-ps2", "", ""),
    ],
    columns=["ensembl_id", "symbol", "alias_symbols", "prev_symbols"],
)
ORTHOLOGS = pd.DataFrame(
    [
        ("ENSMUSG00000035804", "Ins1", "ENSG00000254647", "ortholog_one2many"),
        ("ENSMUSG00000035805", "Ins2", "ENSG00000254647", "ortholog_one2many"),
        ("ENSMUSG00000000394", "Gcg", "ENSG00000115263", "ortholog_one2one"),
        ("ENSMUSG00000032093", "Cd3e", "ENSG00000198851", "ortholog_one2one"),
        ("ENSMUSG00000011111", "Zfp1", "ENSG00000000001", "ortholog_one2many"),
        ("ENSMUSG00000011111", "Zfp1", "ENSG00000000002", "ortholog_one2many"),
        # HCOP says PWWP3A, Ensembl's one-to-one says IRF4: the one-to-one wins.
        ("ENSMUSG00000022222", "Irf4", "ENSG00000160953", "hcop"),
        ("ENSMUSG00000022222", "Irf4", "ENSG00000137265", "ortholog_one2one"),
        ("ENSMUSG00000044444", "Alms1-ps2", "ENSG00000148584", "hcop"),
    ],
    columns=["mouse_ensembl", "mouse_symbol", "human_ensembl", "homology"],
)


@pytest.fixture(scope="module")
def resolver() -> GeneResolver:
    hgnc = pd.DataFrame(HGNC_ROWS, columns=HGNC_COLUMNS)
    return GeneResolver(hgnc, version="test", orthologs=ORTHOLOGS, mouse_genes=MOUSE_GENES)


def routes(resolver, ids, species="human"):
    res = resolver.resolve(ids, species=species)
    return list(zip(res["symbol"], res["route"], strict=True))


def test_symbols_any_case(resolver):
    assert routes(resolver, ["CD3E", "cd3e", " Cd3E "]) == [("CD3E", "symbol")] * 3


def test_symbol_dot_from_r_make_names(resolver):
    assert routes(resolver, ["NKX6.1", "MT.CO1"]) == [("NKX6-1", "symbol_dot"), ("MT-CO1", "symbol_dot")]


def test_ids(resolver):
    got = routes(resolver, ["ENSG00000198851", "ENSG00000198851.12", "916", "HGNC:1674", "hgnc:6081"])
    assert got == [("CD3E", "ensembl"), ("CD3E", "ensembl"), ("CD3E", "entrez"), ("CD3E", "hgnc_id"), ("INS", "hgnc_id")]
    assert routes(resolver, ["ENSG00000999999", "999999", "HGNC:0"]) == [(None, "unresolved")] * 3


def test_compound_names_with_an_ensembl_id(resolver):
    got = routes(resolver, ["CD3E_ENSG00000198851", "ENSG00000254647|INS", "GCG_ENSG00000999999", "NOPE_ENSG00000999999"])
    # Ensembl id first; an unknown id falls back to the symbol part.
    assert got == [("CD3E", "ensembl"), ("INS", "ensembl"), ("GCG", "symbol"), (None, "unresolved")]


def test_previous_and_alias(resolver):
    got = routes(resolver, ["MTCO1", "T3E", "cd3epsilon", "MUM1OLD", "APITD1-CORT", "APITD1.CORT"])
    assert got == [
        ("MT-CO1", "previous"),
        ("CD3E", "alias"),
        ("CD3E", "alias"),
        ("IRF4", "previous"),
        ("CENPS-CORT", "previous"),
        ("CENPS-CORT", "previous"),  # dots read as dashes for previous symbols too
    ]


def test_previous_symbol_beats_alias(resolver):
    # MUM1 is PWWP3A's previous symbol and LINC00001's alias: previous symbols are tried first.
    assert routes(resolver, ["MUM1"]) == [("PWWP3A", "previous")]


def test_ambiguous_alias_lists_candidates(resolver):
    res = resolver.resolve(["ASP"], species="human")
    assert res.loc[0, "symbol"] is None
    assert res.loc[0, "route"] == "ambiguous"
    assert res.loc[0, "candidates"] == "A1CF|ASIP"


def test_unknown(resolver):
    res = resolver.resolve(["NOTAGENE", "", "12ab"], species="human")
    assert res["route"].tolist() == ["unresolved"] * 3
    assert res["symbol"].isna().all()


def test_mouse_orthologs(resolver):
    got = routes(resolver, ["Ins1", "Ins2", "Gcg", "ENSMUSG00000032093.5", "T3e", "Cd3", "Irf4"], species="mouse")
    assert got == [
        ("INS", "mouse_ortholog"),  # many mouse genes to one human gene
        ("INS", "mouse_ortholog"),
        ("GCG", "mouse_ortholog"),
        ("CD3E", "mouse_ortholog"),  # Ensembl id, version ignored
        ("CD3E", "mouse_ortholog"),  # MGI alias
        ("CD3E", "mouse_ortholog"),  # MGI previous symbol
        ("IRF4", "mouse_ortholog"),  # Ensembl one-to-one beats HCOP
    ]


def test_mouse_one_to_many_is_ambiguous(resolver):
    res = resolver.resolve(["Zfp1"], species="mouse")
    assert (res.loc[0, "route"], res.loc[0, "candidates"]) == ("ambiguous", "ZNF1|ZNF2")


def test_mouse_fallbacks(resolver):
    got = routes(resolver, ["Nkx6-1", "Alms1.ps2", "Foo1", "Gene9"], species="mouse")
    assert got == [
        ("NKX6-1", "mouse_uppercase"),
        ("A1CF", "mouse_ortholog"),  # make.names dots read as dashes
        (None, "unresolved"),  # an official symbol is not read as another gene's alias
        (None, "unresolved"),
    ]


def test_species_guess(resolver):
    assert GeneResolver.guess_species(["CD3E", "INS", "GCG", "MT-CO1"]) == "human"
    assert GeneResolver.guess_species(["Cd3e", "Ins1", "Gcg", "CD3E"]) == "mouse"
    assert GeneResolver.guess_species(["ENSMUSG00000035804", "ENSMUSG00000000394"]) == "mouse"
    assert GeneResolver.guess_species([]) == "human"
    assert routes(resolver, ["Ins1", "Gcg", "Cd3e"], species="auto")[0] == ("INS", "mouse_ortholog")
    with pytest.raises(ValueError, match="species must be"):
        resolver.resolve(["CD3E"], species="zebrafish")


def test_resolve_keeps_order_and_duplicates(resolver):
    res = resolver.resolve(["INS", "GCG", "INS"], species="human")
    assert res["query"].tolist() == ["INS", "GCG", "INS"]
    assert resolver.to_symbols(["gcg", "nope"], species="human") == ["GCG", None]


def test_coverage_report_counts_and_text(resolver):
    ids = ["CD3E", "NKX6.1", "916", "T3E", "ASP", "NOTAGENE", "MTCO1", "INS"]
    report = coverage_report(resolver.resolve(ids, species="human"))
    assert report.n_total == 8
    assert report.n_resolved == 6
    assert report.fraction_resolved == pytest.approx(0.75)
    assert report.by_route == {"symbol": 2, "symbol_dot": 1, "entrez": 1, "previous": 1, "alias": 1, "ambiguous": 1, "unresolved": 1}
    assert list(report.by_route) == [r for r in ROUTES if r in report.by_route]  # stable route order
    assert report.unresolved == ["NOTAGENE"]
    assert report.ambiguous == {"ASP": ["A1CF", "ASIP"]}
    assert report.n_duplicates == 2  # 916 and T3E both land on CD3E, which the list already has
    text = str(report)
    assert text.splitlines()[0] == "6 / 8 identifiers resolved (75.0%)"
    assert "ASP -> A1CF|ASIP" in text and "unresolved: NOTAGENE" in text
    d = report.to_dict()
    assert d["n_resolved"] == 6 and d["ambiguous"] == {"ASP": ["A1CF", "ASIP"]}


def test_coverage_report_empty(resolver):
    report = coverage_report(resolver.resolve([], species="human"))
    assert (report.n_total, report.n_resolved, report.fraction_resolved) == (0, 0, 0.0)


def test_facts(resolver):
    f = resolver.facts("CD3E")
    assert f["full_name"] == "CD3 epsilon subunit of T-cell receptor complex"
    assert f["entrez_id"] == "916" and f["aliases"] == "CD3epsilon|T3E"


def test_read_gene_list(tmp_path):
    (tmp_path / "genes.txt").write_text("# my genes\nCD3E\n\nINS\n")
    (tmp_path / "genes.tsv").write_text("symbol\tscore\nCD3E\t1\nINS\t2\n")
    with gzip.open(tmp_path / "genes.csv.gz", "wt") as fh:
        fh.write('gene,score\n"CD3E",1\nINS,2\n')
    for name in ("genes.txt", "genes.tsv", "genes.csv.gz"):
        assert read_gene_list(tmp_path / name) == ["CD3E", "INS"], name


def test_default_tables():
    """The bundled HGNC, MGI and ortholog tables load offline and cover common genes."""
    r = GeneResolver.default()
    assert r is GeneResolver.default()
    assert len(r.table) > 40_000
    assert r.to_symbols(["CD3E", "NKX6.1", "ENSG00000198851.12", "916", "PTPRC_ENSG00000081237"], species="human") == [
        "CD3E",
        "NKX6-1",
        "CD3E",
        "CD3E",
        "PTPRC",
    ]
    assert r.to_symbols(["Ins1", "Ins2", "Gcg", "Cd3e"], species="mouse") == ["INS", "INS", "GCG", "CD3E"]
