"""Any Hugging Face encoder folder as a text encoder (spec ``hf:/path/to/folder``).

For models that ship no sentence-transformers setup, such as BioLinkBERT, PubMedBERT or
BiomedBERT: ``transformers.AutoModel`` + ``AutoTokenizer`` read from a local folder, offline
(``HF_HUB_OFFLINE=1``, ``local_files_only=True``); nothing is downloaded.

Pooling
-------
``pooling="auto"`` (default) follows the folder's sentence-transformers pooling config
(``modules.json`` -> ``*_Pooling/config.json``) when it has one and it asks for CLS or mean
pooling; otherwise it is **mean pooling over the attention mask** (padding excluded; special
tokens ``[CLS]``/``[SEP]`` included, as sentence-transformers does). ``pooling="cls"`` takes the
last hidden state of the first token. Output rows are L2-normalised float32 either way.

Truncation and cache identity follow the local MiniLM encoder
(:class:`~genept.encoders.local.LocalEncoder`): texts longer than ``max_tokens`` word pieces
are cut by the tokenizer, counted in ``stats.n_truncated`` and warned about; the identity
holds the folder's SHA-256 fingerprint (weights, tokenizer, configs), the SHA-256 of its
``config.json``, the pooling, the dtype and ``max_tokens``, so the embedding cache never mixes
vectors of different models or settings.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genept._utils import require
from genept.encoders.base import EncodeStats, count_word_pieces, l2_normalize, record_truncation
from genept.encoders.local import DTYPES, _torch_threads, cpu_supports_bf16, model_fingerprint


POOLINGS = ("auto", "mean", "cls")
# Models whose position table holds two extra rows (padding_idx offset): usable length is 2 less.
_OFFSET_POSITIONS = {"roberta", "xlm-roberta", "camembert", "longformer", "bart", "mbart"}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def st_pooling(folder: str | Path) -> str | None:
    """``"cls"`` or ``"mean"`` when the folder has a sentence-transformers pooling config asking for it, else ``None``."""
    folder = Path(folder)
    modules = folder / "modules.json"
    if not modules.is_file():
        return None
    try:
        entries = json.loads(modules.read_text())
        pooling = next(m for m in entries if str(m.get("type", "")).endswith("Pooling"))
    except (OSError, ValueError, StopIteration, AttributeError):
        return None
    cfg = _read_json(folder / pooling.get("path", "") / "config.json")
    modes = [k for k, v in cfg.items() if k.startswith("pooling_mode") and v]
    return {"pooling_mode_cls_token": "cls", "pooling_mode_mean_tokens": "mean"}.get(modes[0]) if len(modes) == 1 else None


def model_max_tokens(folder: str | Path) -> int | None:
    """Longest input in word pieces the folder's model reads, from its files (no model loaded).

    First of: ``sentence_bert_config.json`` ``max_seq_length``; ``tokenizer_config.json``
    ``model_max_length`` (when set to a real value); ``config.json`` ``max_position_embeddings``
    (less 2 for RoBERTa-style models, whose position table starts at 2).
    """
    folder = Path(folder)
    st = _read_json(folder / "sentence_bert_config.json").get("max_seq_length")
    if st:
        return int(st)
    tok = _read_json(folder / "tokenizer_config.json").get("model_max_length")
    if isinstance(tok, int | float) and 0 < tok < 1_000_000:  # unset reads as 1e30
        return int(tok)
    cfg = _read_json(folder / "config.json")
    n = cfg.get("max_position_embeddings")
    if isinstance(n, int) and n > 0:
        return n - 2 if cfg.get("model_type") in _OFFSET_POSITIONS else n
    return None


class HFEncoder:
    """A Hugging Face encoder model from a local folder, pooled into one vector per text.

    Parameters
    ----------
    model
        A local folder written by ``save_pretrained`` (``config.json``, weights, tokenizer files).
        Hub names are refused: nothing is downloaded.
    pooling
        ``"auto"`` (the folder's sentence-transformers pooling when present, else mean),
        ``"mean"`` (mean of the last hidden states over the attention mask) or ``"cls"`` (the
        first token's last hidden state).
    max_tokens
        Read at most this many word pieces (default: the model's limit, :func:`model_max_tokens`);
        cannot exceed the model's limit.
    batch_size, device, dtype, threads
        As for :class:`~genept.encoders.local.LocalEncoder` (``dtype`` ``"float32"``,
        ``"bfloat16"`` or ``"auto"``).

    Examples
    --------
    >>> from genept.encoders import get_encoder
    >>> enc = get_encoder("hf:/models/BioLinkBERT-large")  # doctest: +SKIP
    >>> enc.identity  # doctest: +SKIP
    'hf:BioLinkBERT-large:sha256=...:config=...:pooling=mean:dtype=float32:max_len=512'
    >>> enc.encode(["T cell receptor complex"]).shape  # doctest: +SKIP
    (1, 1024)
    """

    def __init__(
        self,
        model: str | os.PathLike,
        *,
        pooling: str = "auto",
        max_tokens: int | None = None,
        batch_size: int = 16,
        device: str = "cpu",
        dtype: str = "float32",
        threads: int | None = None,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        folder = Path(model).expanduser()
        if not folder.is_dir() or not (folder / "config.json").is_file():
            raise ValueError(
                f"{str(model)!r} is not a local Hugging Face model folder (a folder with config.json). The hf: encoder "
                "never downloads: save the model with save_pretrained (or `huggingface-cli download`) and give that folder."
            )
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
        if dtype == "auto":
            dtype = "bfloat16" if cpu_supports_bf16() and device == "cpu" else "float32"
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES} or 'auto', got {dtype!r}")
        if dtype == "bfloat16" and device == "cpu" and not cpu_supports_bf16():
            raise ValueError("dtype='bfloat16' needs a CPU with AVX-512 BF16 or AMX; use dtype='float32' or 'auto'.")
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self.model_path = folder.resolve()
        self.pooling = (st_pooling(self.model_path) or "mean") if pooling == "auto" else pooling
        limit = model_max_tokens(self.model_path)
        if max_tokens is not None:
            if max_tokens < 2:
                raise ValueError("max_tokens must be at least 2 (the special tokens)")
            if limit is not None and max_tokens > limit:
                raise ValueError(f"max_tokens={max_tokens} is beyond what {folder.name} reads ({limit} word pieces)")
            limit = int(max_tokens)
        self.max_tokens: int | None = limit
        self.batch_size = int(batch_size)
        self.device = device
        self.dtype = dtype
        self.threads = threads
        self.stats = EncodeStats()
        self.name = folder.name
        config = (self.model_path / "config.json").read_bytes()
        self.config_sha256 = hashlib.sha256(config).hexdigest()
        cfg = _read_json(self.model_path / "config.json")
        hidden = cfg.get("hidden_size") or cfg.get("d_model") or cfg.get("dim")
        self._dim: int | None = int(hidden) if hidden else None
        self.identity = (
            f"hf:{folder.name}:sha256={model_fingerprint(self.model_path)[:16]}:config={self.config_sha256[:12]}"
            f":pooling={self.pooling}:dtype={dtype}:max_len={self.max_tokens}"
        )
        self._model: Any = None
        self._tokenizer: Any = None

    def __repr__(self) -> str:
        return f"HFEncoder({self.identity})"

    # -- model ---------------------------------------------------------------------------
    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            transformers = require("transformers", "hf: encoders")
            try:
                self._tokenizer = transformers.AutoTokenizer.from_pretrained(str(self.model_path), local_files_only=True)
            except (OSError, ValueError) as err:
                raise ValueError(f"{self.model_path}: no usable tokenizer files ({err}); save the tokenizer into the folder too") from err
        return self._tokenizer

    @property
    def model(self) -> Any:
        """The loaded ``transformers`` model (loads on first access)."""
        if self._model is None:
            torch = require("torch", "hf: encoders")
            transformers = require("transformers", "hf: encoders")
            from transformers.utils import logging as hf_logging

            verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
            hf_logging.set_verbosity_error()  # an MLM checkpoint's unused head weights are expected
            hf_logging.disable_progress_bar()  # a "Loading weights" bar on every load is noise
            kwargs: dict[str, Any] = {"dtype": torch.bfloat16} if self.dtype == "bfloat16" else {}
            try:
                with _torch_threads(self.threads):
                    model = transformers.AutoModel.from_pretrained(str(self.model_path), local_files_only=True, **kwargs)
            except (OSError, ValueError, RuntimeError) as err:
                raise ValueError(f"{self.model_path}: transformers could not load this model offline ({str(err).splitlines()[0]})") from err
            finally:
                hf_logging.set_verbosity(verbosity)
                if bars:
                    hf_logging.enable_progress_bar()
            self._model = model.to(self.device).eval()
            if self._dim is None:
                self._dim = int(model.config.hidden_size)
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            _ = self.model
        return int(self._dim)  # type: ignore[arg-type]

    # -- tokens --------------------------------------------------------------------------
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, special tokens included, before truncation (compare with :attr:`max_tokens`)."""
        return count_word_pieces(self.tokenizer, texts)

    # -- encoding ------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed ``texts`` into a ``(n, dim)`` float32 array with unit rows."""
        import torch

        from genept._utils import progress

        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        lengths = np.asarray(self.count_tokens(texts))
        limit = self.max_tokens or int(lengths.max())
        model = self.model
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort(-lengths, kind="stable")  # similar lengths together: less padding
        starts = range(0, len(texts), self.batch_size)
        with _torch_threads(self.threads), torch.inference_mode():
            for start in progress(starts, desc=self.name, disable=not show_progress, unit="batch"):
                idx = order[start : start + self.batch_size]
                enc = self.tokenizer(
                    [texts[i] for i in idx], padding=True, truncation=True, max_length=limit, return_tensors="pt"
                ).to(self.device)
                hidden = model(**enc).last_hidden_state.float()
                if self.pooling == "cls":
                    pooled = hidden[:, 0]
                else:
                    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                out[idx] = pooled.cpu().numpy()
        record_truncation(self, lengths, limit)
        return l2_normalize(out)
