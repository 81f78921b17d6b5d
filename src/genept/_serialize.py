"""One way to make values storable: in ``adata.uns`` (h5ad) and in JSON files.

Rank 0 of the layers (docs/architecture.md): numpy only, nothing from the rest of genept.

- :func:`h5ad_safe`: what ``AnnData.write_h5ad`` accepts in ``uns``: no ``None`` (``""``),
  plain Python scalars, string keys, nested mappings kept as mappings.
- :func:`to_jsonable`: what ``json.dump`` accepts, strictly: numpy scalars and arrays become
  Python numbers and lists, ``Path`` a string, sets sorted lists, dates ISO strings, and NaN/inf
  ``null`` (JSON has no NaN).
- :func:`dump_json`: :func:`to_jsonable` written atomically (a crash leaves the old file).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from genept._utils import atomic_write


def _sorted_if_possible(values: Any) -> list:
    try:
        return sorted(values)
    except TypeError:  # mixed types: keep iteration order
        return list(values)


def h5ad_safe(value: Any) -> Any:
    """A copy of ``value`` that ``write_h5ad`` can store in ``uns``.

    Mappings stay mappings (string keys), ``None`` becomes ``""``, numpy scalars become Python
    scalars, tuples/lists become lists (their items made safe), sets sorted lists, ``Path`` and
    enums strings. Arrays, strings and numbers pass through (h5ad stores them natively; NaN too).

    Examples
    --------
    >>> import numpy as np
    >>> h5ad_safe({"k": None, "n": np.int64(3), 1: (np.float32(0.5), None), "s": {"b", "a"}})
    {'k': '', 'n': 3, '1': [0.5, ''], 's': ['a', 'b']}
    >>> type(h5ad_safe(np.bool_(True)))
    <class 'bool'>
    """
    if isinstance(value, Mapping):
        return {str(k): h5ad_safe(v) for k, v in value.items()}
    if value is None:
        return ""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [h5ad_safe(v) for v in value]
    if isinstance(value, set | frozenset):
        return [h5ad_safe(v) for v in _sorted_if_possible(value)]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    return value


def to_jsonable(value: Any) -> Any:
    """A copy of ``value`` that ``json.dumps(..., allow_nan=False)`` accepts.

    Mappings get string keys; numpy scalars and arrays become Python numbers and (nested) lists;
    tuples, lists and sets become lists (sets sorted); ``Path`` a string; dates and datetimes ISO
    strings; enums their value; dataclasses their fields; NaN and +-inf ``None`` (``null``).
    Anything else is returned unchanged, so ``json`` names it if it cannot be written.

    Examples
    --------
    >>> import numpy as np
    >>> from pathlib import Path
    >>> to_jsonable({"x": np.arange(3), "f": np.float32(0.5), "nan": float("nan"), "p": Path("a/b"), 2: {3, 1}})
    {'x': [0, 1, 2], 'f': 0.5, 'nan': None, 'p': 'a/b', '2': [1, 3]}
    >>> to_jsonable(np.array([1.0, np.inf]))
    [1.0, None]
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return [to_jsonable(v) for v in _sorted_if_possible(value)]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, _dt.date | _dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    return value


def dump_json(path: str | os.PathLike, obj: Any, *, indent: int | None = 1) -> Path:
    """Write :func:`to_jsonable` of ``obj`` to ``path`` as UTF-8 JSON, atomically; returns the path.

    The parent folder is created. A value JSON cannot hold raises ``TypeError`` before the file
    is touched.

    Examples
    --------
    >>> import json, tempfile, numpy as np
    >>> from pathlib import Path
    >>> out = dump_json(Path(tempfile.mkdtemp()) / "sub" / "summary.json", {"f1": np.float64(0.9), "ari": float("nan")})
    >>> json.loads(out.read_text())
    {'f1': 0.9, 'ari': None}
    """
    path = Path(path)
    text = json.dumps(to_jsonable(obj), indent=indent, allow_nan=False, ensure_ascii=False)
    with atomic_write(path, "wb") as fh:
        fh.write((text + "\n").encode("utf-8"))
    return path


__all__ = ["dump_json", "h5ad_safe", "to_jsonable"]
