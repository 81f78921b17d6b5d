"""OpenAI (or any OpenAI-compatible ``/v1/embeddings`` server) as a text encoder.

GenePT's published embeddings were made with ``text-embedding-ada-002`` (1536-d) and
``text-embedding-3-large`` (3072-d). This encoder batches texts by an *estimated* token budget
(no tiktoken: it downloads its BPE files at run time), retries rate limits and server errors
with exponential backoff and jitter (honouring ``Retry-After``), truncates over-long inputs
explicitly and counts them, and estimates the cost before a job.

The API key comes from the ``api_key`` argument or ``OPENAI_API_KEY``; it is never logged and
never part of the encoder identity, caches or embedding metadata.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from genept._utils import progress, require, retry_after
from genept.encoders.base import EncodeStats, l2_normalize

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "text-embedding-3-small"
DEFAULT_BASE_URL = "https://api.openai.com/v1"

#: Output dimension of known models.
MODEL_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
#: USD per 1M input tokens, OpenAI list prices for the embeddings endpoint (standard tier, as
#: published since January 2024). Unknown models have no price: ``estimate`` returns cost ``None``.
PRICE_PER_1M_TOKENS = {"text-embedding-3-small": 0.02, "text-embedding-3-large": 0.13, "text-embedding-ada-002": 0.10}

MAX_INPUTS_PER_REQUEST = 2048  # API limit
MAX_TOKENS_PER_REQUEST = 300_000  # API limit, summed over a request's inputs
MAX_INPUT_TOKENS = 8191  # per input, every OpenAI embedding model
# English prose is ~4 characters per cl100k token; gene texts (symbols, numbers) have fewer.
# Assuming 3 over-counts tokens, which keeps batches and truncation inside the real limits.
CHARS_PER_TOKEN = 3.0


class OpenAIEncoderError(RuntimeError):
    """The embeddings API refused or kept failing a request."""


def estimate_tokens(text: str, chars_per_token: float = CHARS_PER_TOKEN) -> int:
    """Conservative token estimate: ASCII characters / ``chars_per_token``, 2 per other character.

    Examples
    --------
    >>> estimate_tokens("T cell receptor"), estimate_tokens("β-actin")
    (5, 4)
    """
    n_ascii = sum(1 for c in text if c < "\x80") if not text.isascii() else len(text)
    return int(math.ceil(n_ascii / chars_per_token)) + 2 * (len(text) - n_ascii)


def _truncate(text: str, max_tokens: int, chars_per_token: float) -> str:
    if estimate_tokens(text, chars_per_token) <= max_tokens:
        return text
    lo, hi = 0, len(text)  # longest prefix whose estimate fits (estimates grow with the prefix)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if estimate_tokens(text[:mid], chars_per_token) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def _public_url(url: str) -> str:
    """The URL without user info, query or fragment (safe for identities and logs)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def _server_wait(headers: Any) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms`` or ``Retry-After``); ``None`` when it
    did not ask or the header is unreadable. Never raises: a malformed header from a proxy must
    mean "back off as usual", not the end of a long paid job."""
    try:
        if headers is None:
            return None
        ms = retry_after(headers.get("retry-after-ms"))
        if ms is not None:
            return ms / 1000
        return retry_after(headers.get("retry-after"))
    except Exception:
        return None


class OpenAIEncoder:
    """Embeddings from an OpenAI-compatible ``/v1/embeddings`` API.

    Parameters
    ----------
    model
        Model name (``text-embedding-3-small``, ``text-embedding-3-large``,
        ``text-embedding-ada-002`` or any model the server offers).
    base_url
        API root; default ``$OPENAI_BASE_URL`` or ``https://api.openai.com/v1``. Local servers
        (vLLM, llama.cpp, text-embeddings-inference, ...) work too.
    api_key
        Default ``$OPENAI_API_KEY``. Servers other than api.openai.com may need none.
    dimensions
        Shorter output vectors (``text-embedding-3-*`` only).
    batch_size
        Most inputs per request (at most 2048). With a cache, also texts per commit.
    max_batch_tokens
        Most estimated tokens per request (the API allows 300,000 summed over inputs).
    max_input_tokens
        Per-input limit; longer inputs are cut (by estimate) before sending and counted in
        ``stats.n_truncated``.
    chars_per_token
        Characters per token for the estimates (lower is more conservative).
    timeout
        Seconds to wait for one response.
    max_retries
        Retries of a request after 429, 5xx, time-outs, connection errors or unreadable
        responses, with exponential backoff (``backoff`` seconds doubled each time, up to
        ``max_backoff``, with random jitter) or the server's ``Retry-After``.

    Examples
    --------
    Estimates need no network (nor a key, for a server other than api.openai.com):

    >>> from genept.encoders.openai import OpenAIEncoder
    >>> enc = OpenAIEncoder("text-embedding-3-large", base_url="http://127.0.0.1:8000/v1")
    >>> enc.dim
    3072
    >>> enc.estimate(["CD3E: CD3 epsilon subunit of T-cell receptor complex"])  # (tokens, USD), upper estimates
    (18, 2.34e-06)

    Encoding calls the API (``OPENAI_API_KEY`` for api.openai.com), so it is not run here:

    >>> # skipped: needs an embeddings server
    >>> x = enc.encode(["CD3E: CD3 epsilon subunit"])  # doctest: +SKIP
    """

    name = "openai"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        dimensions: int | None = None,
        batch_size: int = 256,
        max_batch_tokens: int = 250_000,
        max_input_tokens: int = MAX_INPUT_TOKENS,
        chars_per_token: float = CHARS_PER_TOKEN,
        timeout: float = 60.0,
        max_retries: int = 8,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
    ) -> None:
        if not 1 <= batch_size <= MAX_INPUTS_PER_REQUEST:
            raise ValueError(f"batch_size must be between 1 and {MAX_INPUTS_PER_REQUEST} (the API limit), got {batch_size}")
        if dimensions is not None and dimensions < 1:
            raise ValueError("dimensions must be positive")
        if max_input_tokens < 1 or max_batch_tokens < max_input_tokens:
            raise ValueError("need 1 <= max_input_tokens <= max_batch_tokens")
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY")
        if not self._api_key:
            if _public_url(self.base_url) == DEFAULT_BASE_URL:
                raise ValueError("no OpenAI API key: set OPENAI_API_KEY or pass api_key=...")
            self._api_key = "unused"  # OpenAI-compatible servers often need no key; the client insists on one
        self.dimensions = dimensions
        self.batch_size = int(batch_size)
        self.max_batch_tokens = int(max_batch_tokens)
        self.max_tokens: int | None = int(max_input_tokens)
        self.chars_per_token = float(chars_per_token)
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.stats = EncodeStats()
        self._dim: int | None = dimensions or MODEL_DIMS.get(model)
        self._client: Any = None
        self.identity = (
            f"openai:{model}:dim={dimensions or 'native'}:url={_public_url(self.base_url)}"
            f":max_input={self.max_tokens}:cpt={self.chars_per_token:g}"
        )

    def __repr__(self) -> str:
        return f"OpenAIEncoder(model={self.model!r}, base_url={_public_url(self.base_url)!r}, dimensions={self.dimensions})"

    def __getstate__(self) -> dict:
        # Never carry the key (or a client holding it) into pickles.
        return {k: v for k, v in self.__dict__.items() if k not in ("_api_key", "_client")} | {"_api_key": None, "_client": None}

    @property
    def client(self) -> Any:
        if self._client is None:
            openai = require("openai", "the OpenAI encoder")
            if self._api_key is None:
                raise ValueError("this encoder was unpickled without its API key; create a new one")
            self._client = openai.OpenAI(api_key=self._api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0)
        return self._client

    @property
    def dim(self) -> int:
        """Output dimension; for a model not in :data:`MODEL_DIMS` one short probe request finds it."""
        if self._dim is None:
            self._dim = int(self._request(["dimension probe"])[0].shape[1])
        return self._dim

    # -- estimates -----------------------------------------------------------------------
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Estimated tokens per text (see :func:`estimate_tokens`; no tokenizer download)."""
        return [estimate_tokens(t, self.chars_per_token) for t in texts]

    def estimate(self, texts: Sequence[str]) -> tuple[int, float | None]:
        """``(tokens, cost_usd)`` for embedding ``texts``, after truncation; cost ``None`` for unknown models.

        Tokens are over-estimated (see ``chars_per_token``), so the cost is an upper estimate.
        """
        tokens = sum(min(n, self.max_tokens or n) for n in self.count_tokens(texts))
        price = PRICE_PER_1M_TOKENS.get(self.model)
        return tokens, (None if price is None else tokens * price / 1e6)

    # -- requests ------------------------------------------------------------------------
    def _batches(self, texts: Sequence[str], tokens: Sequence[int]) -> Iterator[tuple[int, int]]:
        start, used = 0, 0
        for i, n in enumerate(tokens):
            if i > start and (i - start >= self.batch_size or used + n > self.max_batch_tokens):
                yield start, i
                start, used = i, 0
            used += n
        if start < len(texts):
            yield start, len(texts)

    def _request(self, batch: list[str]) -> tuple[np.ndarray, int | None]:
        openai = require("openai", "the OpenAI encoder")
        extra: dict[str, Any] = {"dimensions": self.dimensions} if self.dimensions else {}
        for attempt in range(self.max_retries + 1):
            asked: float | None = None  # the server's Retry-After, read while handling the error
            try:
                resp = self.client.embeddings.create(model=self.model, input=batch, **extra)
                return self._parse(resp, len(batch))
            except openai.AuthenticationError as err:
                raise OpenAIEncoderError(
                    f"the embeddings API at {_public_url(self.base_url)} refused the API key (HTTP 401). "
                    "Check OPENAI_API_KEY (or api_key=...) and that base_url is the server the key belongs to."
                ) from err
            except openai.PermissionDeniedError as err:
                raise OpenAIEncoderError(
                    f"the API key may not use model {self.model!r} at {_public_url(self.base_url)} (HTTP 403): {err.message}"
                ) from err
            except openai.APIStatusError as err:
                if err.status_code != 429 and err.status_code < 500:
                    raise OpenAIEncoderError(
                        f"the embeddings API rejected a request for model {self.model!r} (HTTP {err.status_code}): {err.message}. "
                        + ("If an input is too long, lower chars_per_token or max_input_tokens." if err.status_code == 400 else "")
                    ) from err
                why, asked = f"HTTP {err.status_code}", _server_wait(getattr(err.response, "headers", None))
            except openai.APITimeoutError:
                why = f"no response within {self.timeout:g} s"
            except openai.APIConnectionError as err:
                why = f"connection error ({err.__cause__ or err})"
            except (openai.APIResponseValidationError, ValueError, KeyError, TypeError) as err:
                why = f"unreadable response ({type(err).__name__}: {err})"
            if attempt == self.max_retries:
                raise OpenAIEncoderError(
                    f"the embeddings API at {_public_url(self.base_url)} failed {self.max_retries + 1} times in a row "
                    f"(last: {why}). Finished batches are kept in the cache; rerun to resume."
                )
            wait = asked
            if wait is None:
                wait = min(self.max_backoff, self.backoff * 2**attempt) * random.uniform(0.5, 1.5)
            logger.warning("embeddings request failed (%s); retry %d/%d in %.1f s", why, attempt + 1, self.max_retries, wait)
            time.sleep(min(wait, self.max_backoff * 5))
        raise AssertionError("unreachable")

    def _parse(self, resp: Any, n: int) -> tuple[np.ndarray, int | None]:
        data = sorted(resp.data, key=lambda d: d.index)
        if [d.index for d in data] != list(range(n)):
            raise ValueError(f"expected embeddings for indices 0..{n - 1}, got {len(data)} items")
        out = np.asarray([np.asarray(d.embedding, dtype=np.float32) for d in data])
        if out.ndim != 2 or not np.isfinite(out).all():
            raise ValueError("embeddings of unequal length or with NaN/inf")
        usage = getattr(resp, "usage", None)
        return out, (int(usage.prompt_tokens) if usage is not None and usage.prompt_tokens is not None else None)

    # -- encoding ------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed ``texts``; returns a ``(n, dim)`` float32 array with unit rows."""
        texts = [str(t) for t in texts]
        empty = [i for i, t in enumerate(texts) if not t.strip()]
        if empty:
            raise ValueError(f"{len(empty)} empty texts (e.g. position {empty[0]}); the embeddings API rejects empty input")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        limit = self.max_tokens or MAX_INPUT_TOKENS
        tokens = self.count_tokens(texts)
        long = [i for i, n in enumerate(tokens) if n > limit]
        for i in long:
            texts[i] = _truncate(texts[i], limit, self.chars_per_token)
            tokens[i] = estimate_tokens(texts[i], self.chars_per_token)
        if long:
            logger.warning(
                "%d of %d texts are longer than ~%d tokens and were truncated before sending to %s",
                len(long), len(texts), limit, self.model,
            )
        if len(texts) >= 1000:
            n_tok, cost = self.estimate(texts)
            logger.warning(
                "embedding %d texts (~%s tokens, %s) with %s at %s",
                len(texts), f"{n_tok:,}", "unknown cost" if cost is None else f"~${cost:.2f}", self.model, _public_url(self.base_url),
            )
        out: list[np.ndarray] = []
        used = 0
        bar = progress(total=len(texts), desc=f"embedding ({self.model})", disable=not show_progress, unit="text")
        try:
            for start, stop in self._batches(texts, tokens):
                vecs, real_tokens = self._request(texts[start:stop])
                if out and vecs.shape[1] != out[0].shape[1]:
                    raise OpenAIEncoderError(f"the server returned {vecs.shape[1]}-d vectors after {out[0].shape[1]}-d ones")
                out.append(vecs)
                used += real_tokens if real_tokens is not None else sum(tokens[start:stop])
                bar.update(stop - start)
        finally:
            bar.close()
        matrix = np.concatenate(out)
        if self._dim is not None and matrix.shape[1] != self._dim:
            raise OpenAIEncoderError(
                f"{self.model} returned {matrix.shape[1]}-d vectors, expected {self._dim}; "
                "pass dimensions= to match the server or use another model name"
            )
        self._dim = int(matrix.shape[1])
        self.stats.add(EncodeStats(n_texts=len(texts), n_truncated=len(long), n_tokens=used))
        return l2_normalize(matrix)
