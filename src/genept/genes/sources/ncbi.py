"""Gene summaries from NCBI Gene through the E-utilities ``esummary`` endpoint.

This is the one source that needs a network. It is polite and restartable:

- Genes are mapped to Entrez Gene ids offline, through the bundled HGNC table
  (:meth:`GeneResolver.default`); genes without an Entrez id are reported and skipped.
- Ids are sent in batches (``batch_size``, 200 by default, as NCBI suggests) with HTTP POST
  to ``{base_url}/esummary.fcgi`` (``db=gene&retmode=json&id=1,2,...``), with ``tool``,
  ``email`` and ``api_key`` when given.
- Requests are spaced to NCBI's limit: at most 3 per second, or 10 with an API key
  (``api_key=`` or the ``NCBI_API_KEY`` environment variable).
- HTTP 429, 5xx, timeouts, connection errors and malformed bodies are retried up to
  ``max_retries`` times with exponential backoff (0.5 s, 1 s, 2 s, ... at most 60 s), or after
  the delay a ``Retry-After`` header asks for. A batch that still fails raises
  :class:`NCBIError`, naming the batch and its ids; batches already fetched stay cached.
- Every document summary fetched is stored in a SQLite cache (``cache_dir``, by default
  ``<cache root>/ncbi``: ``$GENEPT_CACHE_DIR/ncbi`` or ``~/.cache/genept/ncbi``; one committed transaction per batch, so an interrupted run keeps
  what it finished). A gene found in the cache is never fetched again; entries NCBI answered
  with an ``error`` field are not cached and are asked for again on the next run.

The JSON parsed is NCBI's documented ``esummary`` format::

    {"header": {...}, "result": {"uids": ["916", ...],
     "916": {"uid": "916", "name": "CD3E", "description": "CD3 epsilon subunit of ...",
             "otheraliases": "IMD18, T3E, TCRE", "summary": "...", "nomenclaturesymbol": "CD3E", ...}}}

Facts returned per gene: ``full_name`` = ``description``, ``aliases`` = ``otheraliases``,
``summary`` = ``summary``, ``source="ncbi"`` and ``version`` = the date the summary was fetched.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from genept._utils import cache_dir, progress, retry_after
from genept.genes.facts import GeneFacts

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_MAX_DELAY = 60.0


class NCBIError(RuntimeError):
    """NCBI could not be reached or answered something that is not an esummary document."""


class _Malformed(ValueError):
    pass


def default_cache_dir() -> Path:
    """``<cache root>/ncbi``, the root being :func:`genept._utils.cache_dir` (``$GENEPT_CACHE_DIR``,
    else ``~/.cache/genept``)."""
    return cache_dir() / "ncbi"


class RateLimiter:
    """Space calls at least ``1 / rate`` seconds apart (NCBI counts requests per second).

    ``clock`` and ``sleep`` are injectable so tests can check the spacing without waiting.

    Examples
    --------
    >>> t = [0.0]
    >>> limiter = RateLimiter(2.0, clock=lambda: t[0], sleep=lambda s: t.__setitem__(0, t[0] + s))
    >>> [limiter.wait() for _ in range(3)]
    [0.0, 0.5, 0.5]
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.interval = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next = -float("inf")
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until the next call is allowed; return the seconds waited."""
        with self._lock:
            now = self._clock()
            delay = max(0.0, self._next - now)
            if delay:
                self._sleep(delay)
            self._next = max(now, self._next) + self.interval
            return delay


class _Cache:
    """uid -> (fetched date, document summary JSON) in one SQLite file."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "esummary_gene.sqlite3"
        with self._errors():
            self._db = sqlite3.connect(self.path, timeout=60)
            try:
                self._db.execute("CREATE TABLE IF NOT EXISTS docsum (uid TEXT PRIMARY KEY, fetched TEXT NOT NULL, body TEXT NOT NULL)")
                self._db.commit()
            except BaseException:
                self._db.close()
                raise

    def _errors(self):
        from genept._checks import sqlite_errors

        return sqlite_errors(self.path, what="NCBI response cache", timeout=60)

    def get(self, uids: Sequence[str]) -> dict[str, tuple[str, dict]]:
        out: dict[str, tuple[str, dict]] = {}
        with self._errors():
            for start in range(0, len(uids), 900):  # SQLite's bound-parameter limit
                chunk = list(uids[start : start + 900])
                marks = ",".join("?" * len(chunk))
                for uid, fetched, body in self._db.execute(f"SELECT uid, fetched, body FROM docsum WHERE uid IN ({marks})", chunk):
                    out[uid] = (fetched, json.loads(body))
        return out

    def put(self, docs: Mapping[str, dict], fetched: str) -> None:
        with self._errors(), self._db:  # one transaction: the whole batch or nothing
            self._db.executemany(
                "INSERT OR REPLACE INTO docsum (uid, fetched, body) VALUES (?, ?, ?)",
                [(uid, fetched, json.dumps(doc, ensure_ascii=False)) for uid, doc in docs.items()],
            )

    def close(self) -> None:
        self._db.close()


class NCBIClient:
    """Fetch NCBI Gene document summaries (cached, rate-limited, retried) and turn them into facts.

    Parameters
    ----------
    base_url
        E-utilities root; point it at a local server for tests.
    api_key
        NCBI API key (raises the limit from 3 to 10 requests per second); defaults to the
        ``NCBI_API_KEY`` environment variable.
    email, tool
        Sent with every request, as NCBI asks of scripted clients; ``email`` defaults to the
        ``NCBI_EMAIL`` environment variable.
    cache_dir
        Where fetched summaries are kept; by default :func:`default_cache_dir`
        (``$GENEPT_CACHE_DIR/ncbi``, else ``~/.cache/genept/ncbi``).
    batch_size
        Gene ids per request (NCBI suggests at most 200 per ``esummary`` call).
    max_retries
        Retries per batch after the first attempt.
    timeout
        Seconds per request.
    transport
        An ``httpx`` transport (e.g. ``httpx.MockTransport``) instead of the network.
    clock, sleep
        Time source and sleep function for the rate limiter and backoff (tests inject fakes).

    Examples
    --------
    >>> from genept.genes.sources.ncbi import NCBIClient
    >>> client = NCBIClient(email="me@example.org", api_key="")
    >>> round(client.limiter.interval, 3)  # 3 requests per second without an API key
    0.333

    Fetching needs the network, so it is not run here:

    >>> # skipped: calls NCBI E-utilities
    >>> facts = client.fetch_facts(["CD3E", "INS"])  # doctest: +SKIP
    >>> facts["CD3E"].full_name  # doctest: +SKIP
    'CD3 epsilon subunit of T-cell receptor complex'
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str | None = None,
        email: str | None = None,
        tool: str = "genept",
        cache_dir: str | os.PathLike | None = None,
        batch_size: int = 200,
        max_retries: int = 5,
        timeout: float = 30.0,
        transport: Any = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, not {max_retries}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key if api_key is not None else (os.environ.get("NCBI_API_KEY") or None)
        self.email = email if email is not None else (os.environ.get("NCBI_EMAIL") or None)
        self.tool = tool
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.batch_size, self.max_retries, self.timeout = batch_size, max_retries, timeout
        self.transport = transport
        self._sleep = sleep
        self.limiter = RateLimiter(10.0 if self.api_key else 3.0, clock=clock, sleep=sleep)
        self.n_requests = 0  # HTTP requests sent by this client, retries included

    # -- raw document summaries ----------------------------------------------------------------
    def fetch_summaries(self, uids: Iterable[str | int]) -> dict[str, tuple[str, dict]]:
        """Document summaries for Entrez Gene ids: ``{uid: (date fetched, docsum dict)}``.

        Cached ids are read from the cache; the rest are fetched in batches. Ids that NCBI
        answers with an ``error`` entry (or leaves out) are missing from the result.
        """
        uids = list(dict.fromkeys(str(u).strip() for u in uids if str(u).strip()))
        bad = [u for u in uids if not u.isdigit()]
        if bad:
            raise ValueError(f"Entrez Gene ids are integers; got {bad[:5]}")
        cache = _Cache(self.cache_dir)
        try:
            out = cache.get(uids)
            todo = [u for u in uids if u not in out]
            if not todo:
                return out
            batches = [todo[i : i + self.batch_size] for i in range(0, len(todo), self.batch_size)]
            log.info("NCBI esummary: %d of %d genes cached, fetching %d in %d batches", len(out), len(uids), len(todo), len(batches))
            import httpx

            with httpx.Client(transport=self.transport, timeout=self.timeout, headers={"User-Agent": f"{self.tool} (genept)"}) as http:
                for i, batch in enumerate(progress(batches, desc="NCBI esummary", unit="batch")):
                    docs, errors = self._fetch_batch(http, batch, i, len(batches))
                    fetched = _dt.date.today().isoformat()
                    cache.put(docs, fetched)
                    out.update({u: (fetched, d) for u, d in docs.items()})
                    if errors:
                        log.warning("NCBI had no summary for %d ids, e.g. %s", len(errors), list(errors.items())[:3])
            return out
        finally:
            cache.close()

    def _params(self, batch: Sequence[str]) -> dict[str, str]:
        params = {"db": "gene", "retmode": "json", "id": ",".join(batch), "tool": self.tool}
        if self.email:
            params["email"] = self.email
        if self.api_key:
            params["api_key"] = self.api_key
        return params

    def _fetch_batch(self, http, batch: Sequence[str], index: int, n_batches: int) -> tuple[dict[str, dict], dict[str, str]]:
        import httpx

        url = f"{self.base_url}/esummary.fcgi"
        what = f"esummary batch {index + 1}/{n_batches} ({len(batch)} ids, {batch[0]}..{batch[-1]})"
        problem = ""
        for attempt in range(self.max_retries + 1):
            delay = min(_MAX_DELAY, 0.5 * 2**attempt)
            self.limiter.wait()
            self.n_requests += 1
            try:
                resp = http.post(url, data=self._params(batch))
            except httpx.TransportError as err:  # timeouts, refused or dropped connections
                problem = f"{type(err).__name__}: {err}"
            else:
                if resp.status_code in _RETRY_STATUS:
                    problem = f"HTTP {resp.status_code}"
                    asked = retry_after(resp.headers.get("Retry-After"), cap=_MAX_DELAY)
                    if asked is not None:
                        delay = min(_MAX_DELAY, asked)
                elif resp.status_code >= 400:
                    raise NCBIError(f"{what}: NCBI refused the request with HTTP {resp.status_code}: {resp.text[:300]!r}")
                else:
                    try:
                        return self._parse(resp, batch)
                    except _Malformed as err:
                        problem = f"malformed response ({err})"
            if attempt < self.max_retries:
                log.info("%s: %s; retrying in %.1f s", what, problem, delay)
                self._sleep(delay)
        raise NCBIError(f"{what} failed after {self.max_retries + 1} attempts; last problem: {problem}. Finished batches are cached; run again to resume.")

    @staticmethod
    def _parse(resp, batch: Sequence[str]) -> tuple[dict[str, dict], dict[str, str]]:
        try:
            data = resp.json()
        except ValueError as err:
            raise _Malformed(f"not JSON: {resp.text[:80]!r}") from err
        if not isinstance(data, dict):
            raise _Malformed(f"expected a JSON object, got {type(data).__name__}")
        if "error" in data and "result" not in data:  # e.g. {"error": "API rate limit exceeded"}
            raise _Malformed(f"NCBI error: {data['error']!r}")
        result = data.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("uids"), list):
            raise _Malformed(f"no 'result' with a 'uids' list (keys: {sorted(data)[:5]})")
        asked = set(batch)
        docs: dict[str, dict] = {}
        errors: dict[str, str] = {}
        for uid in map(str, result["uids"]):
            doc = result.get(uid)
            if not isinstance(doc, dict):
                raise _Malformed(f"uid {uid} is listed but has no document")
            if uid not in asked:
                continue
            if doc.get("error"):
                errors[uid] = str(doc["error"])
            else:
                docs[uid] = doc
        for uid in asked - set(docs) - set(errors):
            errors[uid] = "not in the response"
        return docs, errors

    # -- facts -----------------------------------------------------------------------------------
    def fetch_facts(self, genes: Iterable[str], *, species: str = "auto", resolver=None) -> dict[str, GeneFacts]:
        """Facts for ``genes`` (any identifier :class:`~genept.genes.ids.GeneResolver` accepts), keyed by HGNC symbol.

        Genes that do not resolve, have no Entrez id, or that NCBI has no summary for are left
        out (and logged).
        """
        from genept.genes.ids import GeneResolver

        resolver = resolver or GeneResolver.default()
        symbols = [s for s in resolver.to_symbols(list(genes), species=species) if s]
        symbols = list(dict.fromkeys(symbols))
        entrez = resolver.table.loc[symbols, "entrez_id"].astype(str).str.strip()
        no_id = entrez.index[~entrez.str.isdigit()].tolist()
        if no_id:
            log.warning("%d genes have no Entrez id in the HGNC table and are skipped, e.g. %s", len(no_id), no_id[:5])
        entrez = entrez[entrez.str.isdigit()]
        docs = self.fetch_summaries(entrez.tolist())
        out: dict[str, GeneFacts] = {}
        for sym, uid in entrez.items():
            if uid not in docs:
                continue
            fetched, doc = docs[uid]
            aliases = [a.strip() for a in str(doc.get("otheraliases") or "").split(",") if a.strip()]
            out[sym] = GeneFacts(
                symbol=sym,
                full_name=str(doc.get("description") or doc.get("nomenclaturename") or ""),
                aliases=tuple(aliases),
                summary=str(doc.get("summary") or "").strip(),
                source="ncbi",
                version=fetched,
            )
        return out


__all__ = ["NCBIClient", "NCBIError", "RateLimiter", "DEFAULT_BASE_URL"]
