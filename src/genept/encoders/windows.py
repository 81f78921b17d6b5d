"""Read whole texts: split long texts into overlapping word-aligned windows, embed each, pool.

A transformer encoder reads at most ``max_tokens`` word pieces and silently drops the rest. A
:class:`WindowedEncoder` instead cuts every text longer than one window into overlapping windows
that start and end on word boundaries, embeds each window with the wrapped encoder, and pools the
window vectors into one unit vector.

Windows are **substrings of the original text** (cut at the character offsets of word-start
tokens), so re-tokenising a window gives exactly its word pieces, a window never exceeds the
model's limit, and each window is an ordinary text for the wrapped encoder and its cache. A text
that fits in one window is passed through unchanged, so it shares its cached vector with the
plain (truncating) encoder.

Pooling
-------
``"tokens"`` (default): mean of the unit window vectors weighted by each window's number of word
pieces, then L2-normalised (a short tail window counts less than a full one). ``"mean"``: plain
mean of the window vectors, then L2-normalised. Overlapping pieces count in both windows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from genept.encoders.base import Encoder, EncodeStats, l2_normalize

POOLINGS = ("tokens", "mean")


def split_windows(
    text: str,
    offsets: Sequence[tuple[int, int]],
    word_starts: Sequence[bool],
    size: int,
    overlap: int,
) -> list[tuple[str, int]]:
    """Cut ``text`` into word-aligned windows of at most ``size`` tokens overlapping by about ``overlap``.

    Parameters
    ----------
    text
        The text.
    offsets
        ``(start, end)`` character span of each content token (no special tokens).
    word_starts
        ``True`` where a token starts a new word (a window may begin or end only there).
    size
        Most content tokens per window.
    overlap
        Tokens shared by consecutive windows (rounded to word boundaries; ``0 <= overlap < size``).

    Returns
    -------
    ``[(window_text, n_tokens), ...]``; ``[(text, n)]`` when the text fits in one window.

    Examples
    --------
    >>> words = "a b c d e f g".split()
    >>> offs = [(2 * i, 2 * i + 1) for i in range(7)]
    >>> [w for w, _ in split_windows("a b c d e f g", offs, [True] * 7, size=3, overlap=1)]
    ['a b c', 'c d e', 'e f g']
    """
    n = len(offsets)
    if size < 1:
        raise ValueError(f"window size must be positive, got {size}")
    if not 0 <= overlap < size:
        raise ValueError(f"overlap must be in [0, size), got overlap={overlap} for size={size}")
    if n <= size:
        return [(text, n)]
    starts = [i for i in range(n) if word_starts[i]] or [0]
    out: list[tuple[str, int]] = []
    begin = 0
    while True:
        end = begin + size  # exclusive
        if end >= n:
            end = n
        else:
            # End before the last word that would be cut; a word longer than a window is cut anyway.
            fit = [s for s in starts if begin < s <= end]
            end = fit[-1] if fit else end
        out.append((text[offsets[begin][0] : offsets[end - 1][1]], end - begin))
        if end >= n:
            return out
        target = max(end - overlap, begin + 1)
        nxt = [s for s in starts if begin < s <= target]
        begin = nxt[-1] if nxt else end


class WindowedEncoder:
    """Embed whole texts in overlapping windows with a transformer encoder and pool them.

    Parameters
    ----------
    encoder
        The window encoder, e.g. :class:`~genept.encoders.local.LocalEncoder`, which must have
        ``max_tokens`` and a Hugging Face fast tokenizer (``encoder.model.tokenizer``) unless
        ``tokenizer`` is given.
    overlap
        Word pieces shared by consecutive windows (default 32).
    pooling
        ``"tokens"`` (token-weighted mean, default) or ``"mean"``; see the module notes.
    cache
        Cache the *window* vectors: ``None``/``False`` (no cache), ``True`` (the default cache) or an
        :class:`~genept.encoders.cache.EmbeddingCache` / path. Windows are cached under the wrapped
        encoder's identity, so single-window texts share vectors with the plain encoder.
    tokenizer
        A callable ``texts -> list of (offsets, word_starts)`` replacing the model's tokenizer.

    Notes
    -----
    ``window_stats`` counts ``n_texts``, ``n_multi_window`` (texts longer than one window) and
    ``n_windows``. ``stats.n_truncated`` stays 0: nothing is cut.

    Examples
    --------
    >>> from genept.encoders.windows import WindowedEncoder
    >>> from genept.encoders.local import LocalEncoder
    >>> enc = WindowedEncoder(LocalEncoder())
    >>> enc.encode(["insulin " * 600]).shape  # 600 words: 3 windows of at most 254 pieces
    (1, 384)
    >>> enc.window_stats["n_multi_window"]
    1
    """

    def __init__(
        self,
        encoder: Encoder,
        *,
        overlap: int = 32,
        pooling: str = "tokens",
        cache: Any = None,
        tokenizer: Callable[[list[str]], list[tuple[list[tuple[int, int]], list[bool]]]] | None = None,
    ) -> None:
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        limit = getattr(encoder, "max_tokens", None)
        if not limit:
            raise ValueError(f"{encoder!r} has no max_tokens; windows are only needed for encoders that truncate")
        self.base = encoder
        # [CLS] and [SEP] take two of the model's positions.
        self.size = int(limit) - 2
        if not 0 <= overlap < self.size:
            raise ValueError(f"overlap must be in [0, {self.size}), got {overlap}")
        self.overlap = int(overlap)
        self.pooling = pooling
        self._tokenizer = tokenizer
        self._window_encoder: Any = encoder
        self.with_cache(cache)
        self.name = f"{encoder.name}-windows"
        self.identity = f"windows({encoder.identity};size={self.size};overlap={self.overlap};pool={pooling})"
        self.max_tokens: int | None = None
        self.batch_size = getattr(encoder, "batch_size", 32)
        self.stats = EncodeStats()
        self.window_stats = {"n_texts": 0, "n_multi_window": 0, "n_windows": 0}

    def __repr__(self) -> str:
        return f"WindowedEncoder({self.identity})"

    def with_cache(self, cache: Any) -> WindowedEncoder:
        """Cache the window vectors (under the wrapped encoder's identity); returns ``self``.

        :func:`~genept.encoders.get_encoder` calls this instead of caching the pooled vectors.
        """
        if cache is not None and cache is not False:
            from genept.encoders.cache import CachedEncoder

            self._window_encoder = CachedEncoder(self.base, None if cache is True else cache)
        return self

    @property
    def dim(self) -> int:
        return int(self.base.dim)

    def _tokenize(self, texts: list[str]) -> list[tuple[list[tuple[int, int]], list[bool]]]:
        if self._tokenizer is not None:
            return self._tokenizer(texts)
        tok = self.base.model.tokenizer
        enc = tok(texts, add_special_tokens=False, truncation=False, return_offsets_mapping=True, verbose=False)
        out = []
        for i in range(len(texts)):
            words = enc.word_ids(i)
            starts = [w is not None and (j == 0 or words[j - 1] != w) for j, w in enumerate(words)]
            out.append(([tuple(o) for o in enc["offset_mapping"][i]], starts))
        return out

    def windows(self, texts: Sequence[str]) -> list[list[tuple[str, int]]]:
        """The windows (text, word pieces) of each text, as :meth:`encode` embeds them."""
        texts = [str(t) for t in texts]
        return [split_windows(t, offs, starts, self.size, self.overlap) for t, (offs, starts) in zip(texts, self._tokenize(texts), strict=True)]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, special tokens included (all are read)."""
        return [len(offs) + 2 for offs, _ in self._tokenize([str(t) for t in texts])]

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed ``texts`` into a ``(n, dim)`` float32 array with unit rows, reading every token."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        per_text = self.windows(texts)
        flat = [w for ws in per_text for w, _ in ws]
        vecs = np.asarray(self._window_encoder.encode(flat, show_progress=show_progress), dtype=np.float32)
        out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
        at = 0
        n_tokens = 0
        for i, ws in enumerate(per_text):
            block = vecs[at : at + len(ws)]
            counts = np.asarray([c for _, c in ws], dtype=np.float32)
            weights = counts if self.pooling == "tokens" else np.ones_like(counts)
            out[i] = (weights[:, None] * block).sum(axis=0) / max(float(weights.sum()), 1e-12)
            at += len(ws)
            n_tokens += int(counts.sum())
        self.window_stats["n_texts"] += len(texts)
        self.window_stats["n_multi_window"] += sum(len(ws) > 1 for ws in per_text)
        self.window_stats["n_windows"] += len(flat)
        self.stats.add(EncodeStats(n_texts=len(texts), n_tokens=n_tokens))
        return l2_normalize(out)

