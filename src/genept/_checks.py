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
    """Another process held a cache file's write lock for longer than the wait allowed."""


class CacheWriteError(RuntimeError):
    """A cache file could not be written (disk full, read-only file or folder, I/O error)."""


class CacheCorruptError(ValueError):
    """A file at a cache path is not a usable SQLite database."""


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
    >>> with sqlite_errors("emb.sqlite"):
    ...     pass
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

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist or is a folder.
    ValueError
        The file is not an ``.h5ad`` AnnData file (not HDF5, cut short, or HDF5 without AnnData's
        groups).

    Examples
    --------
    >>> adata = read_h5ad("cells.h5ad", backed="r")
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
