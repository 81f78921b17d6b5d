"""GeneEmbeddings persistence and imports, and embed_genes (hashing encoder; no model needed)."""

from __future__ import annotations

import io
import os
import pickle

import numpy as np
import pandas as pd
import pytest

from genept.embeddings import GeneEmbeddings, embed_genes
from genept.genes.corpus import GeneCorpus, GeneFacts, corpus_from_facts


@pytest.fixture
def corpus() -> GeneCorpus:
    facts = {
        "CD3E": GeneFacts("CD3E", "CD3 epsilon subunit of T-cell receptor complex", summary="Part of the T-cell receptor-CD3 complex.", source="refseq"),
        "INS": GeneFacts("INS", "insulin", summary="Encodes insulin, a peptide hormone that regulates glucose.", source="refseq"),
        "TP53": GeneFacts("TP53", "tumor protein p53", summary="A tumour suppressor that responds to DNA damage.", source="refseq"),
        "LINC01128": GeneFacts("LINC01128", "long intergenic non-protein coding RNA 1128", gene_type="ncRNA", source="hgnc"),
        "OR4F5": GeneFacts("OR4F5", "olfactory receptor family 4 subfamily F member 5", aliases=("OR4F5P",), source="hgnc"),
    }
    return corpus_from_facts(facts)


def _emb(genes=("CD3E", "INS", "TP53"), dim=4, seed=0) -> GeneEmbeddings:
    rng = np.random.default_rng(seed)
    return GeneEmbeddings(list(genes), rng.standard_normal((len(genes), dim)), {"encoder": "test"})


# -- persistence and lookup ----------------------------------------------------------------
def test_save_load_roundtrip(tmp_path):
    emb = _emb()
    path = emb.save(tmp_path / "e.npz")
    back = GeneEmbeddings.load(path)
    assert back.genes.tolist() == ["CD3E", "INS", "TP53"]
    assert back.vectors.dtype == np.float32
    np.testing.assert_array_equal(back.vectors, emb.vectors)
    assert back.meta["encoder"] == "test" and back.meta["format"] == "genept.gene_embeddings"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_load_rejects_other_files(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="from_pickle / from_table"):
        GeneEmbeddings.load(tmp_path / "x.npz")


def test_reindex_by_alias_and_ensembl():
    emb = _emb()
    matrix, found = emb.reindex(["p53", "ENSG00000198851", "INS", "NOT_A_GENE"], species="human")
    assert found.tolist() == [True, True, True, False]
    np.testing.assert_array_equal(matrix[0], emb["TP53"])
    np.testing.assert_array_equal(matrix[1], emb["CD3E"])
    assert not matrix[3].any()


# -- imports -----------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", [2, 4, 5])
@pytest.mark.parametrize("as_array", [False, True])
def test_from_pickle_genept_style(tmp_path, protocol, as_array):
    rng = np.random.default_rng(1)
    data = {g: rng.standard_normal(1536) for g in ("CD3E", "INS", "TP53")}
    data = {g: (v if as_array else v.tolist()) for g, v in data.items()}
    path = tmp_path / "genept.pickle"
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    emb = GeneEmbeddings.from_pickle(path)
    assert len(emb) == 3 and emb.dim == 1536 and emb.vectors.dtype == np.float32
    np.testing.assert_allclose(emb["INS"], np.asarray(data["INS"], dtype=np.float32))
    assert emb.meta["encoder"] == "imported:genept.pickle"


def test_from_pickle_numpy1_module_names(tmp_path):
    # GenePT's files were written with numpy 1.x, whose arrays pickle as numpy.core.multiarray.
    raw = pickle.dumps({"CD3E": np.arange(3, dtype=np.float64)}, protocol=2)
    assert b"numpy._core.multiarray" in raw
    path = tmp_path / "old.pickle"
    path.write_bytes(raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    np.testing.assert_array_equal(GeneEmbeddings.from_pickle(path)["CD3E"], [0, 1, 2])


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_from_pickle_refuses_code(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pickle"
    path.write_bytes(pickle.dumps({"CD3E": [1.0, 2.0], "x": _Evil(str(marker))}))
    with pytest.raises(ValueError, match="refused.*system"):
        GeneEmbeddings.from_pickle(path)
    assert not marker.exists()
    df_path = tmp_path / "frame.pickle"
    pd.DataFrame({"a": [1.0]}, index=["CD3E"]).to_pickle(df_path)
    with pytest.raises(ValueError, match="refused"):
        GeneEmbeddings.from_pickle(df_path)


def test_from_pickle_bad_shapes(tmp_path):
    path = tmp_path / "p.pickle"
    path.write_bytes(pickle.dumps({"A": [1.0, 2.0], "B": [1.0]}))
    with pytest.raises(ValueError, match="different lengths"):
        GeneEmbeddings.from_pickle(path)
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(ValueError, match="expected a pickled dict"):
        GeneEmbeddings.from_pickle(path)


def test_from_table_formats(tmp_path):
    emb = _emb(dim=3)
    frame = emb.to_frame()
    frame.to_csv(tmp_path / "h.tsv.gz", sep="\t", header=["d0", "d1", "d2"], index_label="gene")
    frame.to_csv(tmp_path / "n.csv", header=False)
    frame.columns = ["d0", "d1", "d2"]
    frame.to_parquet(tmp_path / "p.parquet")
    frame.reset_index(names="gene").to_parquet(tmp_path / "q.parquet")
    for name in ("h.tsv.gz", "n.csv", "p.parquet", "q.parquet"):
        got = GeneEmbeddings.from_table(tmp_path / name)
        assert got.genes.tolist() == ["CD3E", "INS", "TP53"], name
        np.testing.assert_allclose(got.vectors, emb.vectors, rtol=1e-6, err_msg=name)


def test_from_table_rejects_text_values(tmp_path):
    (tmp_path / "t.tsv").write_text("gene\tv\nCD3E\t0.5\nINS\tabc\n")
    with pytest.raises(ValueError, match="must hold numbers"):
        GeneEmbeddings.from_table(tmp_path / "t.tsv")


# -- embed_genes -------------------------------------------------------------------------
def test_embed_genes_meta_and_composed(corpus, tmp_path):
    emb = embed_genes(corpus, "hashing", cache=None, show_progress=False, dim=64)
    assert emb.genes.tolist() == corpus.genes and emb.dim == 64
    np.testing.assert_allclose(np.linalg.norm(emb.vectors, axis=1), 1, atol=1e-6)
    meta = emb.meta
    assert meta["encoder"] == "hashing:dim=64:bigrams=1:v1" and meta["encoder_name"] == "hashing"
    assert meta["corpus_hash"] == corpus.hash and meta["template"] == corpus.template.id
    assert meta["composed_genes"] == ["LINC01128", "OR4F5"] and meta["n_composed"] == 2
    assert meta["encode_stats"]["n_texts"] == 5 and meta["genept_version"]
    back = GeneEmbeddings.load(emb.save(tmp_path / "g.npz"))
    assert back.meta["composed_genes"] == ["LINC01128", "OR4F5"]


def test_embed_genes_cache_and_path(corpus, tmp_path):
    corpus_path = corpus.save(tmp_path / "corpus.json.gz")
    cache = tmp_path / "c.sqlite"
    first = embed_genes(corpus_path, "hashing", cache=cache, show_progress=False)
    second = embed_genes(corpus_path, "hashing", cache=cache, show_progress=False)
    assert first.meta["encode_stats"]["n_cached"] == 0
    assert second.meta["encode_stats"]["n_cached"] == 5
    np.testing.assert_array_equal(first.vectors, second.vectors)


def test_embed_genes_default_cache_respects_env(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path / "home-cache"))
    embed_genes(corpus, "hashing", show_progress=False)
    assert (tmp_path / "home-cache" / "embeddings.sqlite").is_file()


def test_embed_genes_empty_corpus():
    empty = GeneCorpus({}, pd.DataFrame(columns=["source", "version", "composed", "sha256"]))
    with pytest.raises(ValueError, match="empty"):
        embed_genes(empty, "hashing", cache=None)


# -- CLI: genept genes embed / import --------------------------------------------------------
def test_cli_embed_hashing_and_cache(corpus, tmp_path, capsys):
    from genept.cli import main

    corpus_path = corpus.save(tmp_path / "corpus.json.gz")
    args = ["genes", "embed", "--corpus", str(corpus_path), "--encoder", "hashing", "-o", str(tmp_path / "g.npz"), "--cache", str(tmp_path / "c.sqlite"), "-q"]
    assert main(args) == 0
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "embedded 5 genes (512-d)" in out
    assert "from cache: 0; newly encoded: 5" in out and "from cache: 5; newly encoded: 0" in out
    assert "composed text (no written summary): 2 genes: LINC01128, OR4F5" in out
    assert GeneEmbeddings.load(tmp_path / "g.npz").meta["n_composed"] == 2
    assert main(["genes", "embed", "--corpus", str(corpus_path), "--encoder", "hashing", "-o", str(tmp_path / "x.npz"), "--dimensions", "8"]) == 2
    assert "openai:MODEL encoders only" in capsys.readouterr().err


def test_cli_embed_openai_asks_before_paying(corpus, tmp_path, capsys, monkeypatch):
    from openai_server import FakeOpenAI

    from genept.cli import main

    pytest.importorskip("openai")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    corpus_path = corpus.save(tmp_path / "corpus.json.gz")
    with FakeOpenAI(dim=8, api_key="k") as srv:
        base = ["genes", "embed", "--corpus", str(corpus_path), "--encoder", "openai:text-embedding-3-small", "--base-url", srv.base_url,
                "--dimensions", "8", "-o", str(tmp_path / "o.npz"), "--cache", str(tmp_path / "c.sqlite"), "-q"]
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        assert main(base) == 2  # not a terminal and no --yes: refuse
        assert "--yes" in capsys.readouterr().err and srv.requests == []
        assert main([*base, "--yes"]) == 0
        out = capsys.readouterr().out
        assert "5 texts to send" in out and "$0.00" in out and "embedded 5 genes (8-d)" in out
        assert main(base) == 0  # everything cached: nothing to pay, no question
        assert "0 texts to send" in capsys.readouterr().out
        assert sum(len(r.inputs) for r in srv.requests) == 5


def test_cli_import(tmp_path, capsys):
    from genept.cli import main

    path = tmp_path / "genept.pickle"
    path.write_bytes(pickle.dumps({"CD3E": [0.1, 0.2, 0.3], "INS": [0.3, 0.2, 0.1]}))
    assert main(["genes", "import", str(path), "-o", str(tmp_path / "g.npz")]) == 0
    assert "imported 2 genes x 3" in capsys.readouterr().out
    assert GeneEmbeddings.load(tmp_path / "g.npz").genes.tolist() == ["CD3E", "INS"]
    (tmp_path / "t.csv").write_text("gene,a,b\nCD3E,1,2\n")
    assert main(["genes", "import", str(tmp_path / "t.csv"), "-o", str(tmp_path / "t.npz")]) == 0
