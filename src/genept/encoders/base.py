"""The encoder interface: texts in, an L2-normalised float32 matrix out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass
class EncodeStats:
    """What happened during encoding; reported to users and stored in embedding metadata."""

    n_texts: int = 0
    n_truncated: int = 0
    n_cached: int = 0
    n_tokens: int = 0

    def add(self, other: EncodeStats) -> None:
        self.n_texts += other.n_texts
        self.n_truncated += other.n_truncated
        self.n_cached += other.n_cached
        self.n_tokens += other.n_tokens

    def to_dict(self) -> dict[str, int]:
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
    """

    name: str
    identity: str
    dim: int
    max_tokens: int | None
    stats: EncodeStats

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Return a ``(len(texts), dim)`` float32 array with unit-norm rows."""
        ...


def l2_normalize(x: np.ndarray, *, eps: float = 1e-12) -> np.ndarray:
    """Row-wise L2 normalisation in float32; all-zero rows stay zero (no NaN)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, eps)
