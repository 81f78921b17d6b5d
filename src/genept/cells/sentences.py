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
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from genept.cells.blocks import iter_row_blocks
from genept.cells.validation import check_block

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
    from genept.genes.ids import GeneResolver

    names = [str(g) for g in gene_names]
    resolver = resolver or GeneResolver.default()
    symbols = resolver.to_symbols(names, species=species)
    return [s if s else n for s, n in zip(symbols, names, strict=True)]


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


__all__ = [
    "DEFAULT_PREFIX",
    "TokenBudget",
    "cell_sentences",
    "embed_sentences",
    "iter_sentence_blocks",
    "rank_block",
    "rank_row",
    "sentence_symbols",
    "truncation_summary",
]
