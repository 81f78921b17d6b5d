"""A bag-of-words hashing encoder: no model, no dependencies, deterministic.

Useful as a lexical baseline in benchmarks and as a fast encoder in tests. Each lower-cased word
and word bigram is hashed (BLAKE2) to a signed coordinate; counts are log-scaled and the row is
L2-normalised.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from genept.encoders.base import EncodeStats, l2_normalize

_WORD = re.compile(r"[a-z0-9][a-z0-9\-]*")


class HashingEncoder:
    """Signed feature hashing of words and word bigrams into ``dim`` coordinates.

    Parameters
    ----------
    dim
        Output dimension.
    bigrams
        Also hash pairs of consecutive words (word order then matters a little).

    Examples
    --------
    >>> from genept.encoders.hashing import HashingEncoder
    >>> enc = HashingEncoder(dim=64)
    >>> x = enc.encode(["CD3E: T-cell receptor complex", "T-cell receptor complex CD3E", ""])
    >>> x.shape, x.dtype, np.linalg.norm(x, axis=1).round(3).tolist()
    ((3, 64), dtype('float32'), [1.0, 1.0, 0.0])
    >>> bool(x[0] @ x[1] > 0.8)  # same words, different order: only the bigrams differ
    True
    >>> enc.stats.to_dict()
    {'n_texts': 3, 'n_truncated': 0, 'n_cached': 0, 'n_tokens': 8}
    """

    name = "hashing"
    max_tokens: int | None = None

    def __init__(self, dim: int = 512, *, bigrams: bool = True) -> None:
        if dim < 1:
            raise ValueError("dim must be positive")
        self.dim = int(dim)
        self.bigrams = bigrams
        self.identity = f"hashing:dim={self.dim}:bigrams={int(bigrams)}:v1"
        self.stats = EncodeStats()
        self._memo: dict[str, tuple[int, float]] = {}

    def _slot(self, token: str) -> tuple[int, float]:
        hit = self._memo.get(token)
        if hit is None:
            h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
            hit = (h % self.dim, 1.0 if (h >> 63) & 1 else -1.0)
            self._memo[token] = hit
        return hit

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """``(len(texts), dim)`` float32, unit-norm rows (zeros for a text without words).

        ``show_progress`` is accepted for the :class:`~genept.encoders.base.Encoder` interface;
        hashing is fast enough to need no bar.

        Examples
        --------
        >>> HashingEncoder(dim=8).encode(["insulin"]).shape
        (1, 8)
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            tokens = words + ([f"{a} {b}" for a, b in zip(words, words[1:])] if self.bigrams else [])
            for tok in tokens:
                j, sign = self._slot(tok)
                out[i, j] += sign
            self.stats.n_tokens += len(words)
        self.stats.n_texts += len(texts)
        out = np.sign(out) * np.log1p(np.abs(out))
        return l2_normalize(out)
