"""GenePT-s: each cell is the text embedding of a sentence of its gene symbols, ranked by expression.

Ranking rule (deterministic): genes with zero expression are dropped; the rest are ordered by
expression, highest first; **equal values keep the order of the genes in ``var_names``**. The
same rule picks which tied genes make the ``top_k`` cut. Selection uses ``np.partition`` on each
sparse row's stored values, never a dense sort of the whole matrix.

Sentence words are HGNC symbols where a gene name resolves (aliases, Ensembl ids and mouse
genes become the approved human symbol; mouse genes through their human ortholog), else the
name as given.

Text encoders read a limited number of tokens (all-MiniLM-L6-v2: 256 word pieces, about the
first 70-80 genes), so :func:`embed_sentences` reports how many genes each cell's sentence
actually contributes: counted with the encoder's tokenizer when it has one
(``count_tokens``), else estimated (marked ``"estimate"``).

:func:`embed_cell_sentences` is the whole GenePT-s engine over any matrix (memory, backed,
dask). Two paths give the vectors:

* **static encoders** (model2vec; :class:`genept.encoders.static.StaticEncoder`, also behind a
  cache): the embedding of a sentence is the normalised sum of its token vectors, and every gene
  symbol is tokenised on its own (BERT's pre-tokeniser splits on spaces and punctuation), so
  ``sentence = prefix + first gene + sum over the other genes of (separator + gene)``. The engine
  tabulates those per-gene sums once (:func:`static_sentence_table`, which checks the
  decomposition against the tokenizer on every gene and falls back to strings if it does not
  hold) and computes each cell as a sparse sum over its top-k genes: every gene is read, no text
  is built, and the result equals encoding the string to float32 rounding.
* **other encoders** encode text. With ``windows="all"`` a cell's ranked genes are cut
  into consecutive windows, each ``prefix + genes`` and each within the encoder's token limit
  (counted with its tokenizer), so every top-k gene is read; the unit window vectors are pooled
  with weights ``pooling="mean"`` (each window weighted by its number of genes: every gene counts
  the same) or ``pooling="rank"`` (each gene at rank ``r`` = 1, 2, ... weighs ``1 / log2(r + 1)``,
  a window the sum over its genes: higher-ranked genes count more). ``windows="first"`` (default)
  encodes the whole sentence once and lets the encoder cut it (the GenePT paper's behaviour: MiniLM
  reads the first ~75 genes). It stays the default because reading every gene cost quality where it
  was measured (Kang PBMC, 150 cells, MiniLM: 10-NN macro-F1 0.57 first window, 0.50 all/rank,
  0.36 all/mean; k-means ARI 0.20 / 0.21 / 0.25; ``benchmarks/perf_windows.py``) and costs ~5 texts
  per cell.
"""

from __future__ import annotations

import logging
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from genept.cells.blocks import is_dask, iter_row_blocks
from genept.cells.validation import check_block

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "A cell with genes ranked by expression: "

# Word pieces per character of an HGNC symbol under BERT's uncased WordPiece (MiniLM), measured
# on the 19,295 protein-coding symbols of the bundled HGNC set: mean 3.51 pieces, 0.65 per
# character. Used only when an encoder has a token limit but no tokenizer to count with.
_PIECES_PER_CHAR = 0.65
_BASIC_TOKEN = re.compile(r"\w+|[^\w\s]")


def rank_row(values: np.ndarray, columns: np.ndarray, top_k: int | None) -> np.ndarray:
    """Column indices of one cell's expressed genes, highest first, ties by column order.

    Examples
    --------
    >>> import numpy as np
    >>> rank_row(np.array([1.0, 3.0, 0.0, 3.0]), np.array([0, 1, 2, 3]), 2)
    array([1, 3])
    """
    if values.dtype.kind == "u":
        values = values.astype(np.int64)  # so that -values below cannot wrap around
    keep = values > 0
    if not keep.all():
        values, columns = values[keep], columns[keep]
    if top_k is not None and top_k < len(values):
        kth = len(values) - top_k
        threshold = np.partition(values, kth)[kth]  # the top_k-th largest value
        above = np.flatnonzero(values > threshold)
        tied = np.flatnonzero(values == threshold)
        tied = tied[np.argsort(columns[tied], kind="stable")[: top_k - len(above)]]
        sel = np.concatenate([above, tied])
        values, columns = values[sel], columns[sel]
    order = np.lexsort((columns, -values))
    return columns[order]


def rank_block(block: Any, top_k: int | None) -> list[np.ndarray]:
    """:func:`rank_row` for every cell of an in-memory block (CSR or dense; dense becomes CSR)."""
    from genept.cells.kernels import rank_rows

    csr = block if sp.issparse(block) and block.format == "csr" else sp.csr_matrix(block)
    if csr.data.dtype.kind in "fiu":
        # the parallel numba kernel; equal to rank_row on every row (tests/test_cells_kernels.py)
        return rank_rows(csr, top_k)
    indptr, indices, data = csr.indptr, csr.indices, csr.data
    return [rank_row(data[a:b], indices[a:b], top_k) for a, b in zip(indptr[:-1], indptr[1:], strict=True)]


def sentence_symbols(gene_names: Sequence[str], *, species: str = "auto", resolver=None) -> list[str]:
    """Words used for each gene: its HGNC symbol where it resolves, else its name as given.

    Examples
    --------
    >>> sentence_symbols(["CD3E", "Ins1", "my_gene"], species="auto")  # doctest: +SKIP
    """
    return sentence_words(gene_names, species=species, resolver=resolver)[0]


def sentence_words(gene_names: Sequence[str], *, species: str = "auto", resolver=None) -> tuple[list[str], int]:
    """:func:`sentence_symbols` and how many of the names resolved to an HGNC symbol (for the record).

    Examples
    --------
    >>> words, n_resolved = sentence_words(["CD3E", "my_gene"], species="human")  # doctest: +SKIP
    >>> words, n_resolved  # doctest: +SKIP
    (['CD3E', 'my_gene'], 1)
    """
    from genept.genes.ids import GeneResolver

    names = [str(g) for g in gene_names]
    resolver = resolver or GeneResolver.default()
    symbols = resolver.to_symbols(names, species=species)
    words = [s if s else n for s, n in zip(symbols, names, strict=True)]
    return words, sum(s is not None for s in symbols)


def _check_top_k(top_k: int | None) -> None:
    if top_k is not None and (not isinstance(top_k, int | np.integer) or top_k < 1):
        raise ValueError(f"top_k must be a positive number of genes or None (all expressed genes), not {top_k!r}")


def iter_sentence_blocks(
    X: Any,
    words: Sequence[str],
    *,
    top_k: int | None = 1000,
    prefix: str = DEFAULT_PREFIX,
    separator: str = " ",
    chunk_size: int = 10_000,
    show_progress: bool | None = None,
    where: str = "adata.X",
):
    """Yield ``(start, stop, ranks, sentences)`` block by block (``words`` are the final words)."""
    _check_top_k(top_k)
    words = np.asarray(list(words), dtype=object)
    if len(words) != X.shape[1]:
        raise ValueError(f"X has {X.shape[1]} genes but {len(words)} gene names are given; they must match")
    for start, stop, block in iter_row_blocks(X, chunk_size, show_progress=show_progress, desc="GenePT-s"):
        check_block(block, where=where, start=start)
        ranks = rank_block(block, top_k)
        yield start, stop, ranks, [prefix + separator.join(words[r].tolist()) for r in ranks]


def cell_sentences(
    X: Any,
    gene_names: Sequence[str],
    *,
    top_k: int | None = 1000,
    prefix: str = DEFAULT_PREFIX,
    separator: str = " ",
    resolve: bool = True,
    species: str = "auto",
    chunk_size: int = 10_000,
    show_progress: bool | None = None,
) -> list[str]:
    """One sentence per cell: its expressed gene symbols, highest expression first.

    Parameters
    ----------
    X
        ``(n_cells, n_genes)`` expression >= 0: numpy, scipy sparse, a backed AnnData's ``X``
        or a dask array (read block by block).
    gene_names
        One name per column (``adata.var_names``).
    top_k
        Keep at most this many genes per cell (``None``: all expressed genes).
    prefix, separator
        Text before the first gene and between genes.
    resolve
        Write HGNC symbols for genes that resolve (mouse genes: their human ortholog); with
        ``False`` the names are used as given.
    species
        ``auto``, ``human`` or ``mouse``, for resolving names.
    chunk_size
        Cells per block.

    Returns
    -------
    A list of ``n_cells`` strings. A cell with no expressed gene gets the bare ``prefix``.

    Examples
    --------
    >>> import numpy as np
    >>> cell_sentences(np.array([[0, 2, 5, 2]]), ["CD3E", "CD3D", "MS4A1", "LYZ"], prefix="")
    ['MS4A1 CD3D LYZ']
    """
    words = sentence_symbols(gene_names, species=species) if resolve else [str(g) for g in gene_names]
    out: list[str] = []
    for _, _, _, sentences in iter_sentence_blocks(
        X, words, top_k=top_k, prefix=prefix, separator=separator, chunk_size=chunk_size, show_progress=show_progress
    ):
        out.extend(sentences)
    return out


# -- what the encoder sees -----------------------------------------------------------------------
class TokenBudget:
    """How many of a sentence's genes fit in an encoder's token limit.

    Token counts per word are taken from the encoder's ``count_tokens`` when it has one
    (``method="tokenizer"``; word-piece tokenizers split on whitespace first, so counts add up
    across space-separated words), else estimated from the word length
    (``method="estimate"``). Encoders without a limit see every gene (``method="no_limit"``).
    """

    def __init__(self, encoder: Any, words: Sequence[str], *, prefix: str = DEFAULT_PREFIX, separator: str = " ") -> None:
        self.max_tokens = getattr(encoder, "max_tokens", None)
        words = [str(w) for w in words]
        if self.max_tokens is None:
            self.method = "no_limit"
            self.word_tokens = np.zeros(len(words), dtype=np.int64)
            self.fixed = 0
            self.sep_tokens = 0
            return
        count = getattr(encoder, "count_tokens", None)
        if callable(count):
            self.method = "tokenizer"
            uniq = sorted(set(words))
            base = int(_counts(count, [""])[0])  # special tokens ([CLS], [SEP]) alone
            probe = _counts(count, [prefix, "a", f"a{separator}a", *uniq])
            n_prefix, n_a, n_aa = (int(v) - base for v in probe[:3])
            per_word = dict(zip(uniq, (np.asarray(probe[3:], dtype=np.int64) - base).tolist(), strict=True))
            self.word_tokens = np.array([per_word[w] for w in words], dtype=np.int64)
            self.fixed = base + n_prefix
            self.sep_tokens = max(n_aa - 2 * n_a, 0)
        else:
            self.method = "estimate"
            self.word_tokens = np.array([max(1, math.ceil(_PIECES_PER_CHAR * len(w))) for w in words], dtype=np.int64)
            # English words of the prefix: about one piece per word or punctuation mark, plus
            # [CLS] and [SEP]; the separator costs its punctuation marks.
            self.fixed = 2 + len(_BASIC_TOKEN.findall(prefix))
            self.sep_tokens = len(re.findall(r"[^\w\s]", separator))

    def genes_seen(self, ranks: Sequence[np.ndarray]) -> np.ndarray:
        """Number of leading genes of each ranked list that fit in the limit."""
        n = np.array([len(r) for r in ranks], dtype=np.int64)
        if self.max_tokens is None:
            return n
        budget = self.max_tokens - self.fixed
        seen = np.empty(len(ranks), dtype=np.int64)
        for i, r in enumerate(ranks):
            # tokens used by the first j genes: their pieces plus j-1 separators
            used = np.cumsum(self.word_tokens[r] + self.sep_tokens) - self.sep_tokens
            seen[i] = np.searchsorted(used, budget, side="right")
        return seen


def _counts(count_tokens, texts: Sequence[str]) -> np.ndarray:
    return np.asarray(count_tokens(list(texts)), dtype=np.int64).ravel()


def truncation_summary(n_genes: np.ndarray, n_seen: np.ndarray, budget: TokenBudget) -> dict[str, Any]:
    """Summary stored in ``adata.uns``: how much of each sentence the encoder reads."""
    n_genes = np.asarray(n_genes)
    n_seen = np.asarray(n_seen)
    truncated = n_seen < n_genes
    return {
        "method": budget.method,
        "max_tokens": -1 if budget.max_tokens is None else int(budget.max_tokens),
        "n_cells": int(len(n_genes)),
        "n_cells_truncated": int(truncated.sum()),
        "genes_in_sentence_median": float(np.median(n_genes)) if len(n_genes) else 0.0,
        "genes_seen_median": float(np.median(n_seen)) if len(n_seen) else 0.0,
        "genes_seen_min": int(n_seen.min()) if len(n_seen) else 0,
        "genes_seen_max": int(n_seen.max()) if len(n_seen) else 0,
    }


def embed_sentences(
    sentences: Sequence[str],
    encoder: Any,
    *,
    show_progress: bool | None = None,
) -> tuple[np.ndarray, int]:
    """Encode sentences, each distinct sentence once; returns ``(embeddings, n_distinct)``.

    Examples
    --------
    >>> from genept.encoders import get_encoder
    >>> Y, n = embed_sentences(["A cell: CD3E", "A cell: CD3E"], get_encoder("hashing"))
    >>> Y.shape, n
    ((2, 512), 1)
    """
    index: dict[str, int] = {}
    inverse = np.fromiter((index.setdefault(s, len(index)) for s in sentences), dtype=np.int64, count=len(sentences))
    uniq = list(index)
    if not uniq:
        return np.zeros((0, int(encoder.dim)), dtype=np.float32), 0
    show = sys.stderr.isatty() if show_progress is None else bool(show_progress)  # encoding is the slow part
    vectors = np.asarray(encoder.encode(uniq, show_progress=show), dtype=np.float32)
    if vectors.shape != (len(uniq), int(encoder.dim)):
        raise RuntimeError(f"encoder {getattr(encoder, 'name', encoder)!r} returned shape {vectors.shape} for {len(uniq)} texts")
    return np.ascontiguousarray(vectors[inverse]), len(uniq)


# -- the GenePT-s engine -------------------------------------------------------------------------
Windows = Literal["all", "first"]
Pooling = Literal["mean", "rank"]


def _rank_flat(block: Any, top_k: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Ranked columns of every row of a block as ``(flat, offsets)`` (the rule of :func:`rank_row`)."""
    from genept.cells.kernels import rank_rows_flat

    csr = block if sp.issparse(block) and block.format == "csr" else sp.csr_matrix(block)
    if csr.data.dtype.kind in "fiu":
        return rank_rows_flat(csr, top_k)
    ranks = rank_block(csr, top_k)
    offsets = np.zeros(len(ranks) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in ranks], out=offsets[1:])
    return (np.concatenate(ranks).astype(np.int64) if ranks else np.zeros(0, np.int64)), offsets


class NotDecomposableError(ValueError):
    """The static model's tokenizer does not split a sentence into the tokens of its words."""


@dataclass
class StaticSentenceTable:
    """Per-gene token sums that make a static encoder's cell sentence a sparse sum.

    The embedding of ``prefix + w[g1] + separator + w[g2] + ...`` is
    ``normalise(H + T[g1] + T[g2] + ...)`` and that of the bare prefix ``normalise(P)``.
    """

    T: np.ndarray  # (n_words, dim) float32: token vectors of separator + word, summed
    H: np.ndarray  # (dim,): tokens of the prefix minus those of one separator
    P: np.ndarray  # (dim,): the prefix alone
    word_pieces: np.ndarray  # tokens of each word in the sentence


def _units(enc: Any, text: str, unit_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tokens of ``text``, where each starts, and the unit (prefix + first word, separator + word, ...) it is in."""
    ids, starts = enc.token_spans(text)
    return ids, starts, np.searchsorted(unit_starts, starts, side="right") - 1


def _sorted_pairs(unit: np.ndarray, ids: np.ndarray) -> np.ndarray:
    keys = unit.astype(np.int64) << 32 | ids
    return np.sort(keys)


def static_sentence_table(
    encoder: Any, words: Sequence[str], *, prefix: str = DEFAULT_PREFIX, separator: str = " "
) -> StaticSentenceTable:
    """Tabulate a static encoder's token sums per gene word, after checking that sentences decompose.

    Two long sentences hold every word once, in two orders (so every word has other neighbours
    and another word comes first); each is tokenised once and its tokens are assigned to
    ``prefix + first word`` and to ``separator + word`` by the character where they start.

    Parameters
    ----------
    encoder
        A :class:`genept.encoders.static.StaticEncoder` (or a cache wrapping one).
    words, prefix, separator
        As in :func:`iter_sentence_blocks`.

    Raises
    ------
    ValueError
        A word that the tokenizer turns into no token at all (the sentence would silently skip
        that gene), or a model without a vocabulary.
    NotDecomposableError
        A word's tokens depend on its neighbours or on its position (the sparse sum would not
        equal the string); the caller then encodes strings instead.

    Examples
    --------
    >>> table = static_sentence_table(StaticEncoder(path), ["CD3E", "MS4A1"])  # doctest: +SKIP
    >>> table.T.shape  # doctest: +SKIP
    (2, 256)
    """
    from genept.encoders.static import as_static

    enc = as_static(encoder)
    if enc is None:
        raise TypeError(f"{getattr(encoder, 'name', encoder)!r} is not a static (model2vec) encoder")
    words = [str(w) for w in words]
    n = len(words)
    if n == 0:
        raise ValueError("no gene words given")
    lens = np.fromiter((len(w) for w in words), dtype=np.int64, count=n)
    orders = [np.arange(n), np.roll(np.arange(n), -(n // 2))]
    pairs, sums = [], []
    vectors = enc.token_vectors()
    pieces = np.zeros(n, dtype=np.int64)
    heads = []
    for k, order in enumerate(orders):
        text = prefix + separator.join(words[i] for i in order)
        # unit j covers [start of separator before word j, end of word j); unit 0 includes the prefix
        ends = len(prefix) + np.cumsum(lens[order]) + len(separator) * np.arange(n)
        unit_starts = np.concatenate([[0], ends[:-1]])
        ids, starts, unit = _units(enc, text, unit_starts)
        if k == 0:  # tokens inside each word (not its separator)
            word_starts = ends - lens[order]
            inside = starts >= word_starts[unit]
            pieces[order] = np.bincount(unit[inside], minlength=n)
        word = order[unit]
        tail = unit > 0
        pairs.append((word[tail], ids[tail]))
        C = sp.csr_matrix((np.ones(len(ids)), (word, ids)), shape=(n, vectors.shape[0]))
        sums.append(np.asarray(C @ vectors, dtype=np.float64))
        heads.append((order[0], ids[unit == 0]))
    # a word's separator + word tokens must not depend on its neighbours
    (w0, i0), (w1, i1) = pairs
    both0 = w0 != heads[1][0]
    both1 = w1 != heads[0][0]
    if not np.array_equal(_sorted_pairs(w0[both0], i0[both0]), _sorted_pairs(w1[both1], i1[both1])):
        raise NotDecomposableError(f"the tokenizer of {enc.model_path.name} splits some gene words differently next to other words")
    T = sums[1].copy()
    T[heads[1][0]] = sums[0][heads[1][0]]  # the one word that headed the second sentence: its tail from the first
    # prefix + first word = H + (separator + first word), with H the same for every word
    Hs = [sums[k][heads[k][0]] - T[heads[k][0]] for k in range(2)]
    probe = [int(i) for i in np.linspace(0, n - 1, min(n, 32)).astype(int)]
    pre_ids = enc.token_ids([prefix])[0]
    h_ids = [np.sort(np.asarray(enc.token_ids([prefix + words[i]])[0])) for i in probe]
    t_ids = [np.sort(np.asarray(enc.token_ids([separator + words[i]])[0])) for i in probe]
    P = vectors[np.asarray(pre_ids, dtype=np.int64)].astype(np.float64).sum(axis=0)
    ok = np.allclose(Hs[0], Hs[1], atol=1e-4)
    for i, h, t in zip(probe, h_ids, t_ids, strict=True):
        ok = ok and np.allclose(vectors[h].astype(np.float64).sum(0) - vectors[t].astype(np.float64).sum(0), Hs[0], atol=1e-4)
        ok = ok and np.allclose(vectors[t].astype(np.float64).sum(0), T[i], atol=1e-4)
    if not ok:
        raise NotDecomposableError(f"the tokenizer of {enc.model_path.name} splits a gene word differently after the prefix")
    _check_word_pieces(pieces, words, what=f"the static model {enc.model_path.name}")
    return StaticSentenceTable(T=T.astype(np.float32), H=Hs[0].astype(np.float32), P=P.astype(np.float32), word_pieces=pieces)


def _check_word_pieces(pieces: np.ndarray, words: Sequence[str], *, what: str) -> None:
    empty = np.flatnonzero(pieces <= 0)
    if empty.size:
        shown = ", ".join(repr(words[i]) for i in empty[:5])
        raise ValueError(
            f"{what} turns {empty.size} gene name(s) into no token at all ({shown}{', ...' if empty.size > 5 else ''}): "
            "those genes would be silently left out of every sentence. Rename them (e.g. to their HGNC symbol) or "
            "drop those columns first."
        )


def _static_block(block: Any, T: np.ndarray, H: np.ndarray, P: np.ndarray, top_k: int | None) -> np.ndarray:
    """Unit rows and, in the last column, the number of genes in each cell's sentence."""
    from genept.cells.kernels import fused_weighted_embedding

    flat, offsets = _rank_flat(block, top_k)
    n = np.diff(offsets)
    # a 0/1 selection matrix times T is GenePT-w's product: the same cache-blocked kernel
    S = sp.csr_matrix((np.ones(flat.size, np.float32), flat.astype(np.int32), offsets), shape=block.shape)
    Y = fused_weighted_embedding(S, T, "counts", "none")
    Y += H
    Y[n == 0] = P
    norms = np.sqrt(np.einsum("ij,ij->i", Y, Y))
    out = np.empty((block.shape[0], T.shape[1] + 1), dtype=np.float32)
    np.divide(Y, norms[:, None], out=out[:, :-1], where=norms[:, None] > 0)
    out[norms == 0, :-1] = 0
    out[:, -1] = n
    return out


def _dask_static_block(block, T, H, P, *, top_k):
    check_block(block, where="a dask block of X")
    return _static_block(block, T, H, P, top_k)


@dataclass
class SentenceStats:
    """What a GenePT-s run read, per cell, and how.

    ``n_genes``: genes in each cell's sentence (expressed, at most ``top_k``); ``n_read``: how
    many of them the encoder read (counted with its tokenizer where it has one);
    ``n_windows``: texts encoded per cell.
    """

    path: str  # "static_sum" or "strings"
    windows: str
    pooling: str
    budget_method: str  # "static" (every token), "tokenizer", "estimate" or "no_limit"
    max_tokens: int  # -1: no limit
    n_genes: np.ndarray
    n_read: np.ndarray
    n_windows: np.ndarray
    n_texts: int = 0  # texts sent to the encoder (identical texts within a block once)
    fallback: str = ""  # why the static fast path was not used, if it was asked for
    encode_stats: dict[str, int] = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        return int(len(self.n_genes))

    def truncation(self) -> dict[str, Any]:
        """The ``truncation`` summary (same keys as :func:`truncation_summary`)."""
        n_genes, n_read = self.n_genes, self.n_read
        return {
            "method": self.budget_method,
            "max_tokens": int(self.max_tokens),
            "n_cells": self.n_cells,
            "n_cells_truncated": int((n_read < n_genes).sum()),
            "genes_in_sentence_median": float(np.median(n_genes)) if len(n_genes) else 0.0,
            "genes_seen_median": float(np.median(n_read)) if len(n_read) else 0.0,
            "genes_seen_min": int(n_read.min()) if len(n_read) else 0,
            "genes_seen_max": int(n_read.max()) if len(n_read) else 0,
        }

    def to_dict(self) -> dict[str, Any]:
        total = int(self.n_genes.sum())
        return {
            "path": self.path,
            "windows": self.windows,
            "pooling": self.pooling,
            "n_cells": self.n_cells,
            "n_empty_cells": int((self.n_genes == 0).sum()),
            "n_texts_encoded": int(self.n_texts),
            "windows_per_cell_mean": round(float(self.n_windows.mean()), 4) if self.n_cells else 0.0,
            "windows_per_cell_max": int(self.n_windows.max()) if self.n_cells else 0,
            "genes_in_sentences": total,
            "genes_read": int(self.n_read.sum()),
            "fraction_genes_read": round(float(self.n_read.sum() / total), 6) if total else 1.0,
            "fallback": self.fallback,
            "truncation": self.truncation(),
            "encode_stats": {k: int(v) for k, v in self.encode_stats.items()},
        }

    def __str__(self) -> str:
        d = self.to_dict()
        return (
            f"GenePT-s ({self.path}, windows={self.windows}): {d['n_cells']:,} cells, "
            f"{100 * d['fraction_genes_read']:.1f}% of {d['genes_in_sentences']:,} sentence genes read, "
            f"{d['windows_per_cell_mean']:.2f} texts per cell"
        )


def window_bounds(ranks: np.ndarray, budget: TokenBudget) -> tuple[np.ndarray, int]:
    """Cut one cell's ranked genes into consecutive windows that each fit the token limit.

    Returns the window start positions (plus the end, ``len(ranks)``) and the number of genes
    read whole (a single gene longer than the limit is cut by the encoder, so not read whole).

    Examples
    --------
    >>> class Enc:
    ...     max_tokens = 10
    ...     def count_tokens(self, texts): return [len(t.split()) + 2 for t in texts]
    >>> b = TokenBudget(Enc(), ["g"] * 12, prefix="")
    >>> window_bounds(np.arange(12), b)[0].tolist()
    [0, 8, 12]
    """
    m = len(ranks)
    if budget.max_tokens is None or m == 0:
        return np.array([0, m], dtype=np.int64), m
    room = budget.max_tokens - budget.fixed
    used = np.cumsum(budget.word_tokens[ranks] + budget.sep_tokens)  # tokens of genes 0..j, each + 1 separator
    bounds = [0]
    read = m
    while bounds[-1] < m:
        a = bounds[-1]
        base = used[a - 1] if a else 0
        # genes a..b-1 take used[b-1] - base - sep tokens
        b = int(np.searchsorted(used, base + room + budget.sep_tokens, side="right"))
        if b <= a:  # one gene longer than the whole window: alone, and cut
            b = a + 1
            read -= 1
        bounds.append(b)
    return np.asarray(bounds, dtype=np.int64), read


def _pool_weights(bounds: np.ndarray, pooling: str) -> np.ndarray:
    if pooling == "mean":
        w = np.diff(bounds).astype(np.float64)
    else:
        g = 1.0 / np.log2(np.arange(2, bounds[-1] + 2, dtype=np.float64))
        c = np.concatenate([[0.0], np.cumsum(g)])
        w = c[bounds[1:]] - c[bounds[:-1]]
    return np.where(w > 0, w, 1.0)  # an empty cell's one window (the bare prefix)


def embed_cell_sentences(
    X: Any,
    words: Sequence[str],
    encoder: Any,
    *,
    top_k: int | None = 1000,
    prefix: str = DEFAULT_PREFIX,
    separator: str = " ",
    windows: Windows = "first",
    pooling: Pooling = "rank",
    fast_path: bool | None = None,
    chunk_size: int = 10_000,
    show_progress: bool | None = None,
    where: str = "adata.X",
    out: Any = None,
) -> tuple[Any, SentenceStats]:
    """GenePT-s over a whole matrix: rank genes, then embed each cell's sentence.

    Parameters
    ----------
    X
        ``(n_cells, n_genes)`` expression >= 0: numpy, scipy sparse, a backed AnnData's ``X`` or
        a dask array.
    words
        The word for each column (final words: see :func:`sentence_symbols`).
    encoder
        Any genept encoder (:func:`genept.encoders.get_encoder`), cached or not.
    top_k
        Genes per sentence (``None``: all expressed genes).
    prefix, separator
        Text before the first gene and between genes.
    windows
        ``"first"`` (default: one string per cell, cut by the encoder: the paper's behaviour) or
        ``"all"`` (every top-k gene read: consecutive windows within the token limit, pooled).
        Irrelevant for encoders without a token limit and for the static fast path, which read
        every token.
    pooling
        How windows combine with ``windows="all"``: ``"rank"`` (default; gene at rank ``r``
        weighs ``1 / log2(r + 1)``) or ``"mean"`` (weight = genes in the window). See the module
        docstring.
    fast_path
        ``None`` (default): the exact sparse-sum path when ``encoder`` is static, strings
        otherwise; ``False``: always strings; ``True``: require the fast path (error if
        ``encoder`` is not static or its tokenizer does not decompose sentences).
    chunk_size
        Cells per block (memory is one block of cells plus the output).
    show_progress, where
        Progress bar (``None``: on a terminal) and the matrix's name in messages.
    out
        Where to write rows instead of a new array (``out[start:stop] = block``), e.g. an h5py
        dataset; not used for dask input on the fast path.

    Returns
    -------
    ``(Y, stats)``: ``(n_cells, dim)`` float32 unit rows (a cell with no expressed gene gets the
    embedding of the bare ``prefix``; callers may zero it) and :class:`SentenceStats`.

    Examples
    --------
    >>> import numpy as np
    >>> from genept.encoders import get_encoder
    >>> X = np.array([[0, 2, 5], [1, 0, 0]])
    >>> Y, stats = embed_cell_sentences(X, ["CD3E", "CD3D", "MS4A1"], get_encoder("hashing", dim=16))
    >>> Y.shape, stats.n_genes.tolist(), stats.path
    ((2, 16), [2, 1], 'strings')
    """
    _check_top_k(top_k)
    if windows not in ("all", "first"):
        raise ValueError(f"windows must be 'all' (read every ranked gene) or 'first' (one cut string), not {windows!r}")
    if pooling not in ("mean", "rank"):
        raise ValueError(f"pooling must be 'mean' or 'rank', not {pooling!r}")
    words = [str(w) for w in words]
    if len(words) != X.shape[1]:
        raise ValueError(f"X has {X.shape[1]} genes but {len(words)} gene names are given; they must match")
    from genept.encoders.static import as_static

    static = as_static(encoder)
    fallback = ""
    if fast_path is True and static is None:
        raise ValueError(f"fast_path=True needs a static (model2vec) encoder, got {getattr(encoder, 'name', encoder)!r}")
    if static is not None and fast_path is not False:
        try:
            table = static_sentence_table(static, words, prefix=prefix, separator=separator)
        except NotDecomposableError as err:
            if fast_path:
                raise
            fallback = str(err)
            logger.warning("GenePT-s: %s; encoding sentence strings instead (slower, same vectors)", err)
        else:
            return _embed_static(X, table, top_k=top_k, chunk_size=chunk_size, show_progress=show_progress, where=where, out=out)
    return _embed_strings(
        X, words, encoder, top_k=top_k, prefix=prefix, separator=separator, windows=windows, pooling=pooling,
        chunk_size=chunk_size, show_progress=show_progress, where=where, out=out, fallback=fallback,
    )  # fmt: skip


def _embed_static(X, table: StaticSentenceTable, *, top_k, chunk_size, show_progress, where, out):
    dim = table.T.shape[1]
    if is_dask(X):
        from genept._utils import require

        da = require("dask.array", "dask-backed AnnData")
        Xd = X.rechunk({1: -1})  # a sentence needs all genes of its cell
        T = da.from_array(table.T, chunks=table.T.shape)  # shipped to each worker once
        H = da.from_array(table.H, chunks=table.H.shape)
        P = da.from_array(table.P, chunks=table.P.shape)
        Z = da.blockwise(
            _dask_static_block, "ij", Xd, "ik", T, "kj", H, "j", P, "j",
            dtype=np.float32, concatenate=True, meta=np.empty((0, 0), dtype=np.float32), top_k=top_k,
            adjust_chunks={"j": dim + 1},
        ).compute()  # fmt: skip
        Y = np.ascontiguousarray(Z[:, :dim])
        n_genes = Z[:, dim].astype(np.int64)
        if out is not None:
            out[:] = Y
            Y = out
    else:
        if out is None:
            Y = np.empty((X.shape[0], dim), dtype=np.float32)
        elif tuple(out.shape) != (X.shape[0], dim):
            raise ValueError(f"out has shape {tuple(out.shape)}, expected ({X.shape[0]}, {dim})")
        else:
            Y = out
        n_genes = np.zeros(X.shape[0], dtype=np.int64)
        for start, stop, block in iter_row_blocks(X, chunk_size, show_progress=show_progress, desc="GenePT-s"):
            check_block(block, where=where, start=start)
            Z = _static_block(block, table.T, table.H, table.P, top_k)
            Y[start:stop] = Z[:, :dim]
            n_genes[start:stop] = Z[:, dim]
    stats = SentenceStats(
        path="static_sum", windows="all", pooling="sum", budget_method="static", max_tokens=-1,
        n_genes=n_genes, n_read=n_genes.copy(), n_windows=np.ones_like(n_genes),
    )  # fmt: skip
    return Y, stats


def _embed_strings(
    X, words, encoder, *, top_k, prefix, separator, windows, pooling, chunk_size, show_progress, where, out, fallback
):
    budget = TokenBudget(encoder, words, prefix=prefix, separator=separator)
    if budget.method == "tokenizer":
        _check_word_pieces(budget.word_tokens, words, what=f"the tokenizer of {getattr(encoder, 'name', 'the encoder')}")
    before = dict(getattr(encoder, "stats", None).to_dict()) if hasattr(encoder, "stats") else {}
    dim = int(encoder.dim)
    if out is None:
        Y = np.empty((X.shape[0], dim), dtype=np.float32)
    elif tuple(out.shape) != (X.shape[0], dim):
        raise ValueError(f"out has shape {tuple(out.shape)}, expected ({X.shape[0]}, {dim})")
    else:
        Y = out
    n_genes = np.zeros(X.shape[0], dtype=np.int64)
    n_read = np.zeros(X.shape[0], dtype=np.int64)
    n_windows = np.ones(X.shape[0], dtype=np.int64)
    n_texts = 0
    arr = np.asarray(words, dtype=object)
    show = sys.stderr.isatty() if show_progress is None else bool(show_progress)
    for start, stop, ranks, sentences in iter_sentence_blocks(
        X, words, top_k=top_k, prefix=prefix, separator=separator, chunk_size=chunk_size,
        show_progress=show_progress, where=where,
    ):  # fmt: skip
        n_genes[start:stop] = [len(r) for r in ranks]
        if windows == "first" or budget.max_tokens is None:
            V, n = embed_sentences(sentences, encoder, show_progress=show)
            Y[start:stop] = V
            n_read[start:stop] = budget.genes_seen(ranks)
            n_texts += n
            continue
        texts: list[str] = []
        weights: list[np.ndarray] = []
        for i, r in enumerate(ranks):
            bounds, read = window_bounds(r, budget)
            n_read[start + i] = read
            n_windows[start + i] = len(bounds) - 1
            weights.append(_pool_weights(bounds, pooling))
            texts.extend(prefix + separator.join(arr[r[a:b]].tolist()) for a, b in zip(bounds[:-1], bounds[1:], strict=True))
        V, n = embed_sentences(texts, encoder, show_progress=show)
        n_texts += n
        w = np.concatenate(weights)
        first = np.concatenate([[0], np.cumsum(n_windows[start:stop])[:-1]])
        pooled = np.add.reduceat(V.astype(np.float64) * w[:, None], first, axis=0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        Y[start:stop] = (pooled / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    after = encoder.stats.to_dict() if hasattr(encoder, "stats") else {}
    stats = SentenceStats(
        path="strings", windows=windows if budget.max_tokens is not None else "all", pooling=pooling,
        budget_method=budget.method, max_tokens=-1 if budget.max_tokens is None else int(budget.max_tokens),
        n_genes=n_genes, n_read=n_read, n_windows=n_windows, n_texts=n_texts, fallback=fallback,
        encode_stats={k: int(after[k] - before.get(k, 0)) for k in after},
    )  # fmt: skip
    return Y, stats


__all__ = [
    "DEFAULT_PREFIX",
    "NotDecomposableError",
    "SentenceStats",
    "StaticSentenceTable",
    "TokenBudget",
    "cell_sentences",
    "embed_cell_sentences",
    "embed_sentences",
    "iter_sentence_blocks",
    "rank_block",
    "rank_row",
    "sentence_symbols",
    "sentence_words",
    "static_sentence_table",
    "truncation_summary",
    "window_bounds",
]
