"""Several views of the same text in one vector: weighted concatenation of encoder channels.

Each channel returns unit rows; channel ``i`` is multiplied by ``sqrt(w_i / sum(w))`` and the
pieces are concatenated, so the result has unit norm and the cosine of two combined vectors is the
weighted mean of the channels' cosines. (A model that standardises features, such as the
benchmarks' logistic regression, does not see the weights; cosine-based uses, such as GenePT-w and
gene search, do.)

Every channel is cached under **its own** identity, so changing one channel or a weight never
re-embeds the others; the combined identity lists every channel identity and weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from genept.encoders.base import Encoder, EncodeStats


class CombinedEncoder:
    """Concatenate weighted encoder channels.

    Parameters
    ----------
    channels
        ``[(encoder, weight), ...]`` with positive weights.
    cache
        ``None``/``False``: no cache; ``True``: the default cache; an
        :class:`~genept.encoders.cache.EmbeddingCache` or a path. Each channel is wrapped in a
        :class:`~genept.encoders.cache.CachedEncoder` keyed by that channel's identity.
    name
        Short name (default: the channel names joined by ``+``).

    Notes
    -----
    Channels that must be fitted on the corpus (the lexical channel) are fitted by :meth:`fit`
    or :meth:`fit_corpus`, which :func:`~genept.embeddings.embed_genes` calls with the corpus texts.
    :meth:`channel_meta` describes every channel for ``GeneEmbeddings.meta``.

    Examples
    --------
    >>> from genept.encoders.combined import CombinedEncoder
    >>> from genept.encoders.hashing import HashingEncoder
    >>> enc = CombinedEncoder([(HashingEncoder(dim=8), 1.0), (HashingEncoder(dim=4), 3.0)])
    >>> x = enc.encode(["T cell receptor"])
    >>> x.shape, round(float((x ** 2).sum()), 5), round(float((x[0, 8:] ** 2).sum()), 5)
    ((1, 12), 1.0, 0.75)
    """

    max_tokens: int | None = None

    def __init__(self, channels: Sequence[tuple[Encoder, float]], *, cache: Any = None, name: str | None = None) -> None:
        channels = list(channels)
        if not channels:
            raise ValueError("a combined encoder needs at least one (encoder, weight) channel")
        weights = [float(w) for _, w in channels]
        if any(not np.isfinite(w) or w <= 0 for w in weights):
            raise ValueError(f"channel weights must be positive numbers, got {weights}")
        self.encoders = [e for e, _ in channels]
        total = sum(weights)
        self.weights = [w / total for w in weights]
        self._channels: list[Any] = list(self.encoders)
        self.with_cache(cache)
        self.name = name or "+".join(e.name for e in self.encoders)
        self.stats = EncodeStats()
        self.batch_size = min(int(getattr(e, "batch_size", 256)) for e in self.encoders)

    def __repr__(self) -> str:
        return f"CombinedEncoder({self.name}, weights={[round(w, 3) for w in self.weights]})"

    def with_cache(self, cache: Any) -> CombinedEncoder:
        """Cache every channel under its own identity; returns ``self``.

        :func:`~genept.encoders.get_encoder` calls this instead of caching the concatenation, so a
        new weight or a new channel re-embeds nothing that is cached.
        """
        if cache is not None and cache is not False:
            from genept.encoders.cache import CachedEncoder, EmbeddingCache

            store = cache if isinstance(cache, EmbeddingCache) else EmbeddingCache(None if cache is True else cache)
            self._channels = [
                e.with_cache(store) if hasattr(e, "with_cache") else CachedEncoder(e, store) for e in self.encoders
            ]
        return self

    @property
    def identity(self) -> str:
        parts = ";".join(f"{w:.4g}*[{e.identity}]" for e, w in zip(self.encoders, self.weights, strict=True))
        return f"combined({parts})"

    @property
    def spec(self) -> str:
        """A :func:`~genept.encoders.get_encoder` spec that rebuilds this encoder (fitted channels by their saved fit)."""
        return "+".join(f"{getattr(e, 'spec', e.name)}*{w:.4g}" for e, w in zip(self.encoders, self.weights, strict=True))

    @property
    def dim(self) -> int:
        return int(sum(e.dim for e in self.encoders))

    @property
    def needs_fit(self) -> bool:
        return any(getattr(e, "fitted", True) is False for e in self.encoders)

    def fit(self, texts: Sequence[str]) -> CombinedEncoder:
        """Fit every channel that must be fitted on the corpus (and is not yet); returns ``self``."""
        for e in self.encoders:
            if getattr(e, "fitted", True) is False:
                e.fit(texts)
        return self

    def fit_corpus(self, texts: Sequence[str]) -> None:
        """Fit (and save, see :meth:`TfidfSvdEncoder.fit_corpus <genept.encoders.lexical.TfidfSvdEncoder.fit_corpus>`)
        every channel that is fitted on the corpus; the hook :func:`~genept.embeddings.embed_genes` calls."""
        for e in self.encoders:
            hook = getattr(e, "fit_corpus", None)
            if callable(hook):
                hook(texts)

    def channel_meta(self) -> list[dict[str, Any]]:
        """``[{"name", "identity", "dim", "weight"}, ...]`` for ``GeneEmbeddings.meta``."""
        out = []
        for e, w in zip(self.encoders, self.weights, strict=True):
            item = {"name": e.name, "identity": e.identity, "dim": int(e.dim), "weight": w}
            if hasattr(e, "window_stats"):
                item["window_stats"] = dict(e.window_stats)
            out.append(item)
        return out

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed ``texts`` with every channel; ``(n, sum of dims)`` float32 with unit rows."""
        texts = [str(t) for t in texts]
        blocks = []
        for enc, w in zip(self._channels, self.weights, strict=True):
            before = EncodeStats(**enc.stats.to_dict())
            x = np.asarray(enc.encode(texts, show_progress=show_progress), dtype=np.float32)
            after = enc.stats.to_dict()
            self.stats.add(EncodeStats(**{k: after[k] - v for k, v in before.to_dict().items()}))
            blocks.append(np.sqrt(w, dtype=np.float32) * x)
        self.stats.n_texts -= len(texts) * (len(blocks) - 1)  # count texts once, not once per channel
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.ascontiguousarray(np.hstack(blocks), dtype=np.float32)
