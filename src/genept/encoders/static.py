"""Static (model2vec) embeddings: one vector per word piece, averaged. No length limit, very fast.

There is no registry package with static weights, so the default model is *distilled once on the
user's machine* from the offline default encoder (all-MiniLM-L6-v2, see
:mod:`genept.encoders.local`) with ``model2vec.distill`` and cached under
``~/.cache/genept/static/<id>`` (``GENEPT_CACHE_DIR`` moves the folder). Distillation runs one
forward pass per vocabulary entry (~30k), about 90 s on 2 CPU cores; later loads take a second.
Any local model2vec folder can be used instead.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genept._utils import live_bars, require
from genept.encoders.base import EncodeStats, l2_normalize
from genept.encoders.local import default_model_path, model_fingerprint

logger = logging.getLogger(__name__)


def static_cache_dir() -> Path:
    """Where distilled static models are kept: ``<GENEPT_CACHE_DIR or ~/.cache/genept>/static``.

    Examples
    --------
    >>> import os
    >>> os.environ["GENEPT_CACHE_DIR"] = "my_cache"
    >>> static_cache_dir().parts[-2:]
    ('my_cache', 'static')
    """
    from genept.encoders.cache import cache_dir

    return cache_dir() / "static"


def distill_static_model(
    source: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    *,
    pca_dims: int = 256,
    **distill_kwargs: Any,
) -> Path:
    """Distill a model2vec static model from a local sentence-transformers folder, once.

    Parameters
    ----------
    source
        Local sentence-transformers folder; default the bundled all-MiniLM-L6-v2.
    out
        Folder to write. Default ``static_cache_dir() / <id>``, where the id names the source
        model's fingerprint, ``pca_dims`` and the model2vec version. An existing complete folder
        is returned as is (no work).
    pca_dims
        Output dimension (PCA over the token vectors).
    **distill_kwargs
        Passed to ``model2vec.distill.distill`` (e.g. ``token_remove_pattern``, ``sif_coefficient``).

    Returns
    -------
    Path
        The model folder. It is written to a temporary folder beside ``out`` and renamed into
        place, so an interrupted distillation leaves nothing half-written.

    Examples
    --------
    >>> from genept.encoders.static import distill_static_model, StaticEncoder
    >>> # skipped: distils the real all-MiniLM-L6-v2 model (~90 s on 2 cores, once per cache folder)
    >>> path = distill_static_model()  # doctest: +SKIP
    >>> StaticEncoder(path).encode(["insulin secretion"]).shape  # doctest: +SKIP
    (1, 256)
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    src = Path(source) if source is not None else default_model_path()
    if not src.is_dir():
        raise ValueError(f"{str(source)!r} is not a local sentence-transformers folder; distillation never downloads.")
    if out is None:
        out = static_cache_dir() / default_static_id(src, pca_dims, **distill_kwargs)
    out = Path(out)
    if _is_model_dir(out):
        return out
    m2v = require("model2vec", "the static encoder")
    try:
        from model2vec.distill import distill
    except ImportError as err:
        raise ImportError(
            "distilling a static model needs model2vec's distillation dependencies (skeletoken, torch, transformers). "
            "Install them with: pip install 'genept[local,static]'"
        ) from err
    logger.warning("distilling a static model from %s once (about 90 s on 2 cores); it is cached at %s", src, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model = distill(model_name=str(src), pca_dims=pca_dims, device="cpu", **distill_kwargs)
        model.config.pop("max_length", None)  # (else model2vec warns about the change below)
        model.max_length = None  # static models read every token; record it in the saved config
        model.save_pretrained(str(tmp))
        (tmp / "genept_source.json").write_text(
            json.dumps({"source": str(src), "pca_dims": pca_dims, "model2vec": m2v.__version__, **{k: repr(v) for k, v in distill_kwargs.items()}})
        )
        try:
            os.rename(tmp, out)
        except OSError:
            if not _is_model_dir(out):  # not a lost race with another process: a real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def default_static_id(source: str | os.PathLike, pca_dims: int = 256, **distill_kwargs: Any) -> str:
    """Folder name of a distilled model: source fingerprint, options and model2vec version.

    Examples
    --------
    >>> from pathlib import Path
    >>> Path("my_model").mkdir()
    >>> _ = Path("my_model", "config.json").write_text("{}")
    >>> default_static_id("my_model", 128)  # doctest: +ELLIPSIS
    'my_model-...-pca128-...-m2v...'
    """
    import hashlib

    m2v = require("model2vec", "the static encoder")
    opts = hashlib.sha256(json.dumps({k: repr(v) for k, v in sorted(distill_kwargs.items())}).encode()).hexdigest()[:8]
    name = Path(source).name if Path(source).name != "model" else "all-MiniLM-L6-v2"
    return f"{name}-{model_fingerprint(source)[:12]}-pca{pca_dims}-{opts}-m2v{m2v.__version__}"


def _is_model_dir(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file() and (path / "model.safetensors").is_file()


class StaticEncoder:
    """model2vec static embeddings: mean of per-token vectors, no length limit.

    Parameters
    ----------
    model
        A local model2vec folder. Default: the model distilled from all-MiniLM-L6-v2 (distilled
        on first use, ~90 s once, then cached; see :func:`distill_static_model`).
    pca_dims
        Dimension of the default distilled model (ignored when ``model`` is given).
    batch_size
        Texts per batch inside model2vec.

    Notes
    -----
    Every token of every text is used (``max_tokens`` is ``None``; nothing is truncated), so a
    1,000-gene cell sentence is embedded whole. Quality is visibly below MiniLM; speed is
    thousands of texts per second.

    Examples
    --------
    A toy model2vec folder (six word vectors) stands in for the distilled MiniLM:

    >>> from model2vec import StaticModel
    >>> from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    >>> vocab = {"[UNK]": 0, "t": 1, "cell": 2, "receptor": 3, "insulin": 4, "secretion": 5}
    >>> tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    >>> tokenizer.normalizer, tokenizer.pre_tokenizer = normalizers.Lowercase(), pre_tokenizers.Whitespace()
    >>> vectors = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    >>> StaticModel(vectors, tokenizer, max_length=None).save_pretrained("toy_static")
    >>> from genept.encoders.static import StaticEncoder
    >>> enc = StaticEncoder("toy_static")
    >>> enc.dim, enc.max_tokens
    (4, None)
    >>> x = enc.encode(["T cell receptor", "insulin secretion", "nothing known"])
    >>> x.shape, np.linalg.norm(x, axis=1).round(3).tolist()  # no known word: a zero row
    ((3, 4), [1.0, 1.0, 0.0])
    >>> enc.token_ids(["T cell receptor", "insulin foo"]), enc.count_tokens(["insulin foo"])
    ([[1, 2, 3], [4]], [1])
    >>> [a.tolist() for a in enc.token_spans("insulin secretion")]  # token ids, start characters
    [[4, 5], [0, 8]]
    >>> summed = enc.token_vectors()[[1, 2, 3]].sum(axis=0)
    >>> np.allclose(summed / np.linalg.norm(summed), x[0], atol=1e-6)
    True

    The default model (distilled from all-MiniLM-L6-v2 on first use):

    >>> # skipped: distils the real all-MiniLM-L6-v2 model (~90 s on 2 cores, once per cache folder)
    >>> StaticEncoder().encode(["T cell receptor complex"]).shape  # doctest: +SKIP
    (1, 256)
    """

    name = "static"
    max_tokens: int | None = None

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        *,
        pca_dims: int = 256,
        batch_size: int = 1024,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if model is None:
            model = distill_static_model(pca_dims=pca_dims)
        folder = Path(model)
        if not _is_model_dir(folder):
            raise ValueError(
                f"{str(model)!r} is not a local model2vec folder (config.json + model.safetensors). "
                "StaticEncoder never downloads; leave model=None to distill one from the bundled MiniLM."
            )
        self.model_path = folder.resolve()
        self.batch_size = int(batch_size)
        self.stats = EncodeStats()
        self._model: Any = None
        cfg = json.loads((folder / "config.json").read_text())
        self._dim: int | None = int(cfg["hidden_dim"]) if "hidden_dim" in cfg else None
        self.identity = f"model2vec:{folder.name}:sha256={model_fingerprint(self.model_path)[:16]}:max_len=none"

    def __repr__(self) -> str:
        return f"StaticEncoder({self.identity})"

    @property
    def model(self) -> Any:
        """The loaded ``model2vec.StaticModel`` (loaded on first access)."""
        if self._model is None:
            m2v = require("model2vec", "the static encoder")
            try:
                self._model = m2v.StaticModel.from_pretrained(str(self.model_path), max_length=None, force_download=False)
            except ValueError as err:
                if _vocabulary_size(self.model_path) == 0:
                    raise ValueError(self._no_vocabulary()) from err
                raise
            self._dim = int(self._model.dim)
        return self._model

    @property
    def dim(self) -> int:
        """Output dimension (read from the folder's config, else from the loaded model)."""
        if self._dim is None:
            _ = self.model
        return int(self._dim)  # type: ignore[arg-type]

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text as :meth:`encode` averages them (no special tokens, unknown pieces dropped).

        Examples: see :class:`StaticEncoder`.
        """
        self._check_vocabulary()
        return [list(ids) for ids in self.model.tokenize([str(t) for t in texts])]

    def token_spans(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Token ids of one text as :meth:`token_ids` gives them, and the character where each starts."""
        self._check_vocabulary()
        m = self.model
        enc = m.tokenizer.encode(str(text), add_special_tokens=False)
        ids = np.asarray(enc.ids, dtype=np.int64)
        starts = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)[:, 0]
        if m.unk_token_id is not None:  # model2vec drops unknown pieces
            keep = ids != m.unk_token_id
            ids, starts = ids[keep], starts[keep]
        return ids, starts

    def token_vectors(self) -> np.ndarray:
        """``(vocabulary size, dim)`` float32: the vector :meth:`encode` averages for each token id.

        Folds in model2vec's optional per-token weights and vocabulary-quantisation mapping, so
        that ``encode([t])`` is the unit-normalised sum of ``token_vectors()[token_ids([t])[0]]``.
        """
        self._check_vocabulary()
        m = self.model
        n_tokens = len(m.tokens)
        rows = np.arange(n_tokens) if m.token_mapping is None else np.asarray(m.token_mapping)[:n_tokens]
        vectors = np.asarray(m.embedding[rows], dtype=np.float32)
        if m.weights is not None:
            vectors = vectors * np.asarray(m.weights, dtype=np.float32)[:n_tokens, None]
        return np.ascontiguousarray(vectors)

    def _check_vocabulary(self) -> None:
        m = self.model
        tokens = getattr(m, "tokens", None) or ()
        emb = getattr(m, "embedding", None)
        usable = len(tokens) - (getattr(m, "unk_token_id", None) is not None)
        if usable <= 0 or emb is None or len(emb) == 0:
            raise ValueError(self._no_vocabulary())

    def _no_vocabulary(self) -> str:
        return (
            f"the static model at {self.model_path} has no vocabulary (its tokenizer knows no token besides the unknown "
            "token, or it has no token vectors), so every text would embed to zero. Re-create it with "
            "distill_static_model() or give a complete model2vec folder."
        )

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text that carry a vector (unknown pieces are dropped by model2vec)."""
        return [len(ids) for ids in self.model.tokenize(list(texts))]

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed ``texts`` into a ``(n, dim)`` float32 array with unit rows (empty text: zero row)."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._check_vocabulary()
        out = self.model.encode(
            texts,
            max_length=None,
            batch_size=self.batch_size,
            show_progress_bar=live_bars(show_progress),  # no partial lines off a terminal
        )
        self.stats.add(EncodeStats(n_texts=len(texts)))
        return l2_normalize(np.asarray(out, dtype=np.float32))


def _vocabulary_size(folder: Path) -> int | None:
    try:
        model = json.loads((folder / "tokenizer.json").read_text()).get("model", {})
    except (OSError, ValueError):
        return None
    vocab = model.get("vocab")
    return len(vocab) if vocab is not None else None


def as_static(encoder: Any) -> StaticEncoder | None:
    """The :class:`StaticEncoder` behind ``encoder`` (looking through cache wrappers), or ``None``.

    Examples
    --------
    >>> from genept.encoders import get_encoder
    >>> as_static(get_encoder("hashing")) is None
    True
    """
    seen = 0
    while encoder is not None and seen < 8:
        if isinstance(encoder, StaticEncoder):
            return encoder
        encoder = getattr(encoder, "encoder", None)  # CachedEncoder and similar wrappers
        seen += 1
    return None
