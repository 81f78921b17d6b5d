"""Cross-cutting reliability helpers: readable input files and SQLite faults as clear errors.

Every SQLite file genept keeps (the embedding cache, the NCBI response cache) goes through
:func:`sqlite_errors`, which turns SQLite's terse errors into messages that say what happened to
which file and what to do. genept never deletes or rewrites a damaged cache on its own: the user
decides, so nothing is lost silently.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class CacheLockedError(RuntimeError):
    """Another process held a cache file's write lock for longer than the wait allowed.

    Examples
    --------
    >>> import sqlite3
    >>> with sqlite_errors("emb.sqlite", timeout=5):
    ...     raise sqlite3.OperationalError("database is locked")
    Traceback (most recent call last):
    ...
    genept._checks.CacheLockedError: emb.sqlite (genept embedding cache) is locked by another process (waited 5 s). ...
    """


class CacheWriteError(RuntimeError):
    """A cache file could not be written (disk full, read-only file or folder, I/O error).

    Examples
    --------
    >>> import sqlite3
    >>> with sqlite_errors("emb.sqlite"):
    ...     raise sqlite3.OperationalError("database or disk is full")
    Traceback (most recent call last):
    ...
    genept._checks.CacheWriteError: cannot write emb.sqlite (genept embedding cache): the disk is full. ...
    """


class CacheCorruptError(ValueError):
    """A file at a cache path is not a usable SQLite database.

    Examples
    --------
    >>> import sqlite3
    >>> from pathlib import Path
    >>> _ = Path("bad.sqlite").write_text("not a database " * 20)
    >>> with sqlite_errors("bad.sqlite"):
    ...     sqlite3.connect("bad.sqlite").execute("select 1 from sqlite_master")
    Traceback (most recent call last):
    ...
    genept._checks.CacheCorruptError: bad.sqlite is not a usable genept embedding cache (file is not a database). ...
    """


@contextlib.contextmanager
def sqlite_errors(path: str | os.PathLike, *, what: str = "genept embedding cache", timeout: float | None = None) -> Iterator[None]:
    """Translate ``sqlite3`` errors raised inside the block into errors that name the fix.

    Parameters
    ----------
    path
        The SQLite file, named in the messages.
    what
        What the file is, e.g. ``"genept embedding cache"``.
    timeout
        The lock wait that was allowed, in seconds (only for the message).

    Raises
    ------
    CacheLockedError
        ``database is locked``: another process kept the write lock longer than ``timeout``.
        Nothing was written by this call; what was committed before is kept.
    CacheWriteError
        Disk full, read-only file or I/O error. Earlier committed transactions are kept.
    CacheCorruptError
        Not a database, or a damaged one. The file is left as it is.

    Examples
    --------
    >>> import sqlite3
    >>> with sqlite_errors("emb.sqlite"), sqlite3.connect("emb.sqlite") as db:
    ...     _ = db.execute("create table t (x)")
    >>> with sqlite_errors("emb.sqlite", timeout=5):
    ...     raise sqlite3.OperationalError("database is locked")
    Traceback (most recent call last):
    ...
    genept._checks.CacheLockedError: emb.sqlite (genept embedding cache) is locked by another process (waited 5 s). ...
    """
    path = Path(path)
    try:
        yield
    except sqlite3.Error as err:
        msg = str(err)
        low = msg.lower()
        if "locked" in low or "busy" in low:
            waited = f" (waited {timeout:g} s)" if timeout is not None else ""
            raise CacheLockedError(
                f"{path} ({what}) is locked by another process{waited}. Let that job finish and run again, "
                "or pass another cache path. Nothing already cached is lost."
            ) from err
        if "disk is full" in low or "i/o error" in low or "readonly" in low or "read-only" in low or "unable to open" in low:
            why = "the disk is full" if "full" in low else msg
            raise CacheWriteError(
                f"cannot write {path} ({what}): {why}. Vectors committed before this point are kept; "
                "free some space (or pass a writable cache path) and run again to resume."
            ) from err
        if isinstance(err, sqlite3.DatabaseError):
            raise CacheCorruptError(
                f"{path} is not a usable {what} ({msg}). genept leaves the file as it is: delete it (or move it away) "
                "to start a new cache, or pass another cache path. Cached vectors can be recomputed."
            ) from err
        raise


def read_h5ad(path: str | os.PathLike, *, backed: str | None = None, what: str = "input") -> Any:
    """``anndata.read_h5ad`` with a clear error for a missing, truncated or non-AnnData file.

    Parameters
    ----------
    path
        The ``.h5ad`` file.
    backed
        ``None`` reads everything into memory; ``"r"`` leaves ``X`` on disk (read by blocks).
    what
        What the file is, named in the messages (``"input"``, ``"reference"``).

    Returns
    -------
    anndata.AnnData
        As ``anndata.read_h5ad`` returns it.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist or is a folder.
    ValueError
        The file is not an ``.h5ad`` AnnData file (not HDF5, cut short, or HDF5 without AnnData's
        groups).

    Examples
    --------
    >>> import anndata as ad
    >>> ad.AnnData(np.ones((3, 2), dtype=np.float32)).write_h5ad("cells.h5ad")
    >>> read_h5ad("cells.h5ad", backed="r").shape
    (3, 2)
    >>> _ = open("cut.h5ad", "w").write("x")
    >>> read_h5ad("cut.h5ad")
    Traceback (most recent call last):
    ...
    ValueError: cut.h5ad (1 bytes) is not a readable .h5ad AnnData file (OSError: ...). If it was cut short ...
    """
    import anndata as ad

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {path} not found" + (" (it is a folder)" if path.is_dir() else ""))
    try:
        return ad.read_h5ad(path, backed=backed)
    except (OSError, KeyError, TypeError, ValueError) as err:
        size = path.stat().st_size
        raise ValueError(
            f"{path} ({size:,} bytes) is not a readable .h5ad AnnData file ({type(err).__name__}: {str(err).splitlines()[0][:200]}). "
            "If it was cut short by an interrupted copy or download, copy it again; otherwise write it with "
            "adata.write_h5ad(...)."
        ) from err


__all__ = ["CacheCorruptError", "CacheLockedError", "CacheWriteError", "read_h5ad", "sqlite_errors"]
