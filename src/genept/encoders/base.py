"""The encoder interface: texts in, an L2-normalised float32 matrix out."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass
class EncodeStats:
    """What happened during encoding; reported to users and stored in embedding metadata.

    Attributes
    ----------
    n_texts
        Texts encoded (cached ones included).
    n_truncated
        Texts longer than the encoder's ``max_tokens``, cut to fit.
    n_cached
        Texts whose vectors came from the cache.
    n_tokens
        Tokens (or words, for the hashing encoder) read.

    Examples
    --------
    >>> stats = EncodeStats(n_texts=2, n_tokens=10)
    >>> stats.add(EncodeStats(n_texts=1, n_cached=1))
    >>> stats.to_dict()
    {'n_texts': 3, 'n_truncated': 0, 'n_cached': 1, 'n_tokens': 10}
    """

    n_texts: int = 0
    n_truncated: int = 0
    n_cached: int = 0
    n_tokens: int = 0

    def add(self, other: EncodeStats) -> None:
        """Add ``other``'s counts to these, in place."""
        self.n_texts += other.n_texts
        self.n_truncated += other.n_truncated
        self.n_cached += other.n_cached
        self.n_tokens += other.n_tokens

    def to_dict(self) -> dict[str, int]:
        """The counts as plain ``int`` values (JSON-safe)."""
        return {k: int(v) for k, v in self.__dict__.items()}


@runtime_checkable
class Encoder(Protocol):
    """A text encoder.

    Attributes
    ----------
    name
        Short human name (``"minilm"``).
    identity
        Everything that changes the vectors (model, revision, dimension, dtype, options):
        the cache key prefix. Two encoders with equal identity give equal vectors.
    dim
        Output dimension.
    max_tokens
        Longest input in tokens the model reads; longer input is truncated and counted.
        ``None`` when there is no limit.
    stats
        Running :class:`EncodeStats` of this encoder.

    Examples
    --------
    Any object with these attributes and an ``encode`` method is an encoder:

    >>> from genept.encoders.hashing import HashingEncoder
    >>> enc = HashingEncoder(dim=64)
    >>> isinstance(enc, Encoder), enc.identity
    (True, 'hashing:dim=64:bigrams=1:v1')
    >>> enc.encode(["CD3E: T-cell receptor complex", "insulin"]).shape
    (2, 64)
    """

    name: str
    identity: str
    dim: int
    max_tokens: int | None
    stats: EncodeStats

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Return a ``(len(texts), dim)`` float32 array with unit-norm rows.

        A row is all zeros only when the encoder found nothing to read in the text.
        """
        ...


def l2_normalize(x: np.ndarray, *, eps: float = 1e-12) -> np.ndarray:
    """Row-wise L2 normalisation in float32; all-zero rows stay zero (no NaN).

    Parameters
    ----------
    x
        ``(n, d)`` array.
    eps
        Norms below this are treated as ``eps`` (so zero rows stay zero).

    Returns
    -------
    numpy.ndarray
        ``(n, d)`` float32.

    Examples
    --------
    >>> l2_normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]], dtype=float32)
    """
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, eps)


def count_word_pieces(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Word pieces per text with a Hugging Face tokenizer, special tokens included, before truncation.

    Examples
    --------
    >>> class Tok:  # a stand-in with the tokenizer's call signature
    ...     def __call__(self, texts, **kw):
    ...         return {"input_ids": [[0, *t.split(), 1] for t in texts]}
    >>> count_word_pieces(Tok(), ["a b", "c"])
    [4, 3]
    """
    if not len(texts):
        return []
    ids = tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
    return [len(x) for x in ids]


def record_truncation(encoder: Any, lengths: np.ndarray, limit: int) -> None:
    """Add one encode call to ``encoder.stats`` and warn when texts were longer than ``limit`` tokens.

    Examples
    --------
    >>> class Enc:
    ...     name, stats = "toy", EncodeStats()
    >>> enc = Enc()
    >>> record_truncation(enc, np.array([3, 9]), 8)
    >>> enc.stats.n_texts, enc.stats.n_truncated, enc.stats.n_tokens
    (2, 1, 11)
    """
    lengths = np.asarray(lengths)
    n_trunc = int((lengths > limit).sum())
    encoder.stats.add(EncodeStats(n_texts=len(lengths), n_truncated=n_trunc, n_tokens=int(np.minimum(lengths, limit).sum())))
    if n_trunc:
        logging.getLogger(type(encoder).__module__).warning(
            "%d of %d texts are longer than %d tokens and were truncated by %s (only their start is embedded)",
            n_trunc, len(lengths), limit, encoder.name,
        )  # fmt: skip
