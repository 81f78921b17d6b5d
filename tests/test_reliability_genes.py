"""Reliability: bad gene input (unknown, ambiguous or positional names, genes without text,
zero overlap, gene embeddings that do not fit the cache or are damaged).

Each case is an error that names the problem and the fix, or a documented behaviour that shows up
in the coverage report. The table of cases is in docs/reliability.md.
"""

from __future__ import annotations

import numpy as np
import pytest

import genept
from genept.cli import main
from genept.embeddings import GeneEmbeddings
from genept.encoders import get_encoder
from genept.encoders.cache import CachedEncoder, EmbeddingCache
from genept.genes.corpus import GeneCorpus

REFSEQ = (
    "entrez_id\tsymbol\tfull_name\tgene_type\tsummary\n"
    "916\tCD3E\tCD3 epsilon subunit of T-cell receptor complex\tprotein-coding\tPart of the T-cell receptor-CD3 complex.\n"
    "3630\tINS\tinsulin\tprotein-coding\tA peptide hormone made by beta cells.\n"
)


def own_args(method, gene_emb):
    """The inputs ``method`` takes: gene embeddings, or (GenePT-s) a text encoder."""
    if method == "s":
        return {"method": "s", "encoder": "hashing", "cache": False}
    return {"method": method, "gene_embeddings": gene_emb}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def gene_emb(small_adata, rng):
    genes = [*small_adata.var_names, "A1CF", "ASIP"]  # ASIP and A1CF both have the alias ASP
    return GeneEmbeddings(genes, rng.normal(size=(len(genes), 16)).astype(np.float32), {"encoder": "test:random"})


def renamed(adata, mapping):
    out = adata.copy()
    out.var_names = [mapping.get(g, g) for g in adata.var_names]
    return out


# -- identifiers -----------------------------------------------------------------------------------
def test_unknown_genes_lose_only_their_expression_and_are_reported(small_adata, gene_emb):
    adata = renamed(small_adata, {"CD3E": "NOT_A_GENE", "LYZ": "MADE_UP_7"})
    genept.tl.embed_cells(adata, gene_emb, method="w")
    Y = adata.obsm["X_genept_w"]
    assert np.isfinite(Y).all()
    cov = adata.uns["X_genept_w"]["coverage"]
    assert (cov["n_genes"], cov["n_genes_embedded"], cov["n_genes_missing"]) == (40, 38, 2)
    X = small_adata.X.toarray()
    lost = X[:, [small_adata.var_names.get_loc("CD3E"), small_adata.var_names.get_loc("LYZ")]].sum() / X.sum()
    assert cov["fraction_expression_lost"] == pytest.approx(lost, abs=1e-6)
    # The unknown genes simply contribute nothing: same as dropping their columns.
    keep = ~adata.var_names.isin(["NOT_A_GENE", "MADE_UP_7"])
    ref = genept.tl.embed_cells(adata[:, keep].copy(), gene_emb, method="w", copy=True).obsm["X_genept_w"]
    np.testing.assert_allclose(Y, ref, atol=1e-6)


def test_ambiguous_alias_is_never_guessed(small_adata, gene_emb):
    adata = renamed(small_adata, {"CD3E": "ASP"})  # ASP is an alias of A1CF and of ASIP (and more)
    E, found = gene_emb.reindex(adata.var_names, species="human")
    assert not found[0] and not E[0].any()
    genept.tl.embed_cells(adata, gene_emb, method="w")
    assert adata.uns["X_genept_w"]["coverage"]["n_genes_missing"] == 1
    genept.tl.embed_cells(adata, method="s", encoder="hashing", cache=False)
    cov_s = adata.uns["X_genept_s"]["coverage"]
    assert cov_s["n_genes_resolved"] == 39  # ASP stays ASP in sentences


def test_resolve_cli_lists_ambiguous_candidates_and_unknown_ids(capsys):
    assert main(["genes", "resolve", "ASP", "NOT_A_GENE", "CD3E", "--species", "human"]) == 0
    err = capsys.readouterr().err
    assert "1 / 3 identifiers resolved" in err
    assert "ASP -> A1CF|ASIP" in err and "unresolved: NOT_A_GENE" in err


@pytest.mark.parametrize("method", ["w", "s"])
def test_positional_var_names_are_refused(small_adata, gene_emb, method):
    adata = small_adata.copy()
    adata.var_names = [str(i) for i in range(adata.n_vars)]  # what AnnData(X) gives without var
    with pytest.raises(ValueError, match=r"0, 1, \.\.\., 39: a positional index, not gene ids.*adata.var_names ="):
        genept.tl.embed_cells(adata, **own_args(method, gene_emb))
    with pytest.raises(ValueError, match="positional index"):
        genept.tl.add_gene_embeddings(adata, gene_emb)


def test_zero_overlap_is_an_error_not_a_zero_embedding(small_adata, gene_emb):
    adata = small_adata.copy()
    adata.var_names = [f"ENSMUSG{i:011d}" for i in range(adata.n_vars)]  # mouse ids unknown to the tables
    with pytest.raises(ValueError, match=r"none of the 40 genes of adata.X matches a gene embedding .*species='mouse'") as info:
        genept.tl.embed_cells(adata, gene_emb, method="w")
    assert "ENSMUSG00000000000" in str(info.value) and "CD3E" in str(info.value)  # shows both sides
    assert "X_genept_w" not in adata.obsm
    with pytest.raises(ValueError, match="none of the 40 genes of adata.var_names"):
        genept.tl.add_gene_embeddings(adata, gene_emb)
    assert "X_genept" not in adata.varm


# -- genes without text ----------------------------------------------------------------------------
@pytest.fixture
def refseq(tmp_path):
    path = tmp_path / "refseq.tsv"
    path.write_text(REFSEQ)
    return path


def test_genes_without_text_are_composed_or_left_out_and_counted(small_adata, refseq, tmp_path, capsys):
    h5ad = tmp_path / "cells.h5ad"
    small_adata.write_h5ad(h5ad)
    corpus_path, emb_path = tmp_path / "corpus.json", tmp_path / "genes.npz"
    argv = ["genes", "build-corpus", "-o", str(corpus_path), "--source", f"refseq:{refseq}", "--genes-from", str(h5ad), "--no-compose"]
    assert main(argv) == 0
    assert "2 / 40 identifiers have a text" in capsys.readouterr().out
    assert main(["genes", "embed", "--corpus", str(corpus_path), "--encoder", "hashing", "-o", str(emb_path), "--no-cache", "-q"]) == 0
    out = tmp_path / "out.h5ad"
    assert main(["embed-cells", str(h5ad), str(out), "--method", "w", "--genes", str(emb_path), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "genes matched: 2 / 40; the 38 unmatched carry" in printed

    # With composition (the default) every gene gets a text, flagged as composed.
    assert main(["genes", "build-corpus", "-o", str(corpus_path), "--source", f"refseq:{refseq}", "--genes-from", str(h5ad)]) == 0
    corpus = GeneCorpus.load(corpus_path)
    assert len(corpus) == 40 and len(corpus.composed) == 38
    assert main(["genes", "embed", "--corpus", str(corpus_path), "--encoder", "hashing", "-o", str(emb_path), "--no-cache", "-q"]) == 0
    assert "composed text (no written summary): 38 genes" in capsys.readouterr().out
    assert len(GeneEmbeddings.load(emb_path).meta["composed_genes"]) == 38


@pytest.mark.parametrize("genes, extra, why", [("NOT_A_GENE\nFOO_BAR\n", [], "no identifier resolved"), ("PPY\nGCG\n", ["--no-compose"], "--no-compose left out")])
def test_build_corpus_with_no_text_at_all_is_an_error_and_writes_nothing(refseq, tmp_path, capsys, genes, extra, why):
    (tmp_path / "genes.txt").write_text(genes)
    out = tmp_path / "corpus.json"
    argv = ["genes", "build-corpus", "-o", str(out), "--source", f"refseq:{refseq}", "--genes-from", str(tmp_path / "genes.txt"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no gene of the 2 identifiers has a text" in err and why in err and "nothing was written" in err
    assert not out.exists()


# -- gene embeddings that do not fit ---------------------------------------------------------------
@pytest.fixture
def corpus_file(tmp_path, refseq):
    path = tmp_path / "corpus.json"
    (tmp_path / "g.txt").write_text("CD3E\nINS\nGCG\n")
    assert main(["genes", "build-corpus", "-o", str(path), "--source", f"refseq:{refseq}", "--genes-from", str(tmp_path / "g.txt")]) == 0
    return path


def test_cache_holding_another_dimension_is_a_clear_error_and_is_kept(corpus_file, tmp_path, capsys):
    cache_path = tmp_path / "emb.sqlite"
    enc = get_encoder("hashing")
    corpus = GeneCorpus.load(corpus_file)
    with EmbeddingCache(cache_path) as cache:  # an older run with a different output size, same identity
        cache.put(enc.identity, [corpus[g] for g in corpus.genes[:2]], np.ones((2, 8), np.float32))
    capsys.readouterr()
    out = tmp_path / "genes.npz"
    code = main(["genes", "embed", "--corpus", str(corpus_file), "--encoder", "hashing", "--cache", str(cache_path), "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "holds 8-d vectors" in err and "-d vectors" in err and "clear" in err
    assert not out.exists()
    with EmbeddingCache(cache_path) as cache:
        assert cache.summary() == {enc.identity: 2}  # nothing deleted behind the user's back


def test_encoder_that_returns_nan_is_refused_and_nothing_is_cached(tmp_path):
    class NaNEncoder:
        name = identity = "test:nan-after-first-batch"
        dim, max_tokens, batch_size = 4, None, 2

        def __init__(self):
            from genept.encoders.base import EncodeStats

            self.stats = EncodeStats()
            self.calls = 0

        def encode(self, texts, show_progress=False):
            self.calls += 1
            out = np.ones((len(texts), 4), np.float32)
            if self.calls == 2:
                out[1, 2] = np.nan
            return out

    enc = CachedEncoder(NaNEncoder(), tmp_path / "c.sqlite")
    with pytest.raises(ValueError, match="returned NaN or inf for 1 of 2 texts; nothing of this batch was cached"):
        enc.encode(["a", "b", "c", "d", "e"])
    assert enc.cache.summary() == {"test:nan-after-first-batch": 2}  # the good first batch is kept


@pytest.mark.parametrize("cut", ["half", "empty"])
def test_truncated_gene_embedding_file_is_a_clear_error(small_adata, gene_emb, tmp_path, capsys, cut):
    path = gene_emb.save(tmp_path / "genes.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if cut == "half" else b"")
    with pytest.raises(ValueError, match="is not a genept gene-embedding file .*rebuild it with `genept genes embed`"):
        genept.tl.embed_cells(small_adata, path, method="w")
    h5ad = tmp_path / "cells.h5ad"
    small_adata.write_h5ad(h5ad)
    assert main(["embed-cells", str(h5ad), str(tmp_path / "out.h5ad"), "--method", "w", "--genes", str(path), "-q"]) == 2
    err = capsys.readouterr().err
    assert "is not a genept gene-embedding file" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "text, message",
    [
        ("CD3E\t1\tnan\nINS\t1\t2\n", "must hold numbers"),  # a 'nan' first row is data, not a header to drop
        ("CD3E\t1\t3\nINS\t1\n", "1 empty cells \\(first in the row of gene 'INS'\\)"),
        ("CD3E\t1\t3\nINS\t1\tinf\n", "NaN or inf \\(e.g. \\['INS'\\]\\)"),
        ("CD3E\t1\t3\nCD3E\t1\t2\n", "duplicate genes"),
    ],
    ids=["nan-first-row", "short-row", "inf", "duplicate"],
)
def test_bad_embedding_tables_are_refused_never_silently_trimmed(tmp_path, text, message):
    path = tmp_path / "vectors.tsv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        GeneEmbeddings.from_table(path)


def test_embedding_table_header_is_still_detected(tmp_path):
    path = tmp_path / "vectors.tsv"
    path.write_text("gene\tdim0\tdim1\nCD3E\t1\t3\nINS\t1\t2\n")
    emb = GeneEmbeddings.from_table(path)
    assert list(emb.genes) == ["CD3E", "INS"] and emb.dim == 2


def test_gene_embeddings_with_nan_are_refused():
    with pytest.raises(ValueError, match=r"NaN or inf \(e.g. \['B'\]\)"):
        GeneEmbeddings(["A", "B"], np.array([[1.0, 0.0], [np.nan, 1.0]]))


@pytest.mark.parametrize("method", ["w", "s"])
def test_a_nan_from_any_stage_never_reaches_obsm(small_adata, gene_emb, monkeypatch, method):
    """The last guard: whatever goes wrong upstream, embed_cells raises instead of storing NaN."""
    from genept.cells import sentences, weighted

    if method == "w":
        real = weighted.embed_weighted

        def broken(*args, **kw):
            Y, stats = real(*args, **kw)
            Y[3, 0] = np.nan
            return Y, stats

        monkeypatch.setattr(weighted, "embed_weighted", broken)
    else:
        real = sentences.embed_sentences

        def broken(*args, **kw):
            Y, n = real(*args, **kw)
            Y[3, 0] = np.inf
            return Y, n

        monkeypatch.setattr(sentences, "embed_sentences", broken)
    with pytest.raises(RuntimeError, match="NaN or inf in 1 rows \\(first: cell 'c3'\\); nothing was written to adata"):
        genept.tl.embed_cells(small_adata, **own_args(method, gene_emb))
    assert not small_adata.obsm and f"X_genept_{method}" not in small_adata.uns
