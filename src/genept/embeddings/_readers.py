"""Raw readers for gene-vector files: keys as written in the file, one float32 row per key.

Private to :mod:`genept.embeddings`. :meth:`GeneEmbeddings.from_pickle` / ``from_table`` and the
importers in :mod:`genept.embeddings.importers` call these; nothing here maps keys to genes or
builds a :class:`~genept.embeddings.GeneEmbeddings` (so ``core`` can import this module without a
cycle).
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles builtin containers and numpy arrays; refuses every other global."""

    _ALLOWED = {
        ("builtins", n) for n in ("dict", "list", "tuple", "set", "frozenset", "int", "float", "complex", "str", "bytes", "bytearray", "bool")
    } | {
        ("collections", "OrderedDict"),
        ("_codecs", "encode"),  # protocol 2 stores bytes as encode(str, "latin1")
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
    }

    def find_class(self, module: str, name: str) -> Any:
        # Pickles from numpy 1.x name numpy.core, which numpy 2 renamed numpy._core.
        canonical = "numpy._core" + module[len("numpy.core"):] if module.startswith("numpy.core") else module
        if (canonical, name) in self._ALLOWED:
            return super().find_class(canonical, name)
        raise pickle.UnpicklingError(
            f"it contains {module}.{name}, which is neither a builtin container nor a numpy array; "
            "only {gene: vector} dicts of lists or numpy arrays are loaded (pickles can execute code)"
        )


def load_pickle(path: str | Path) -> Any:
    """Unpickle ``path`` with :class:`RestrictedUnpickler`; errors are ``ValueError`` naming the file."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return RestrictedUnpickler(fh).load()
    except pickle.UnpicklingError as err:
        raise ValueError(f"{path}: refused to load this pickle ({err})") from err
    except (EOFError, ValueError, TypeError, AttributeError, IndexError) as err:
        raise ValueError(f"{path} is not a readable pickle ({type(err).__name__}: {err})") from err


def mapping_arrays(mapping: Mapping[Any, Any], what: str) -> tuple[list[str], np.ndarray]:
    """``{key: vector}`` -> ``(keys, float32 matrix)``; every vector must have the same length."""
    if not mapping:
        raise ValueError(f"{what}: the gene -> vector mapping is empty")
    keys = [str(k) for k in mapping]
    try:
        rows = [np.asarray(v, dtype=np.float32) for v in mapping.values()]
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what}: cannot read the vectors ({err}); each value must be a list or array of numbers") from err
    dims = sorted({r.shape for r in rows}, key=str)
    if len(dims) != 1 or len(dims[0]) != 1:
        raise ValueError(
            f"{what}: vectors have different lengths {[d[0] if len(d) == 1 else d for d in dims][:5]}; "
            "expected one dimension for all genes"
        )
    return keys, np.stack(rows) if rows else np.zeros((0, 0), np.float32)


def pickle_arrays(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Keys and vectors of a GenePT-style ``{gene: vector}`` pickle, read without running code."""
    path = Path(path)
    data = load_pickle(path)
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: expected a pickled dict {{gene symbol: vector}}, got {type(data).__name__}")
    return mapping_arrays(data, str(path))


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def table_arrays(path: str | Path, *, sep: str | None = None) -> tuple[list[str], np.ndarray]:
    """Keys (first column) and vectors (the other columns) of a TSV/CSV/parquet table."""
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".parquet", ".pq")):
        table = pd.read_parquet(path)
        if pd.api.types.is_numeric_dtype(table.index):  # a default RangeIndex: genes are the first column
            table = table.set_index(table.columns[0])
        elif not pd.api.types.is_numeric_dtype(table.iloc[:, 0]):
            raise ValueError(f"{path}: the gene column is ambiguous (string index and a non-numeric first column)")
    else:
        sep = sep or ("," if name.endswith(".csv") else "\t")
        table = pd.read_csv(path, sep=sep, header=None, dtype=str, keep_default_na=False)
        if table.shape[1] < 2:
            raise ValueError(f"{path}: found {table.shape[1]} column(s) with separator {sep!r}; need a gene column and vector columns")
        if not all(map(_is_number, table.iloc[0, 1:])):  # a header row ('nan' and 'inf' are numbers: data)
            table = table.iloc[1:]
        table = table.set_index(0)
        blank = table.isna() | (table == "")
        if blank.to_numpy().any():
            row = int(np.flatnonzero(blank.to_numpy().any(axis=1))[0])
            raise ValueError(
                f"{path}: {int(blank.to_numpy().sum())} empty cells (first in the row of gene {table.index[row]!r}); "
                f"every row needs a gene and {table.shape[1]} numbers"
            )
    try:
        values = table.apply(pd.to_numeric, errors="raise").to_numpy(dtype=np.float32)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{path}: every column after the first must hold numbers ({err})") from err
    if not len(table):
        raise ValueError(f"{path}: the table has no rows")
    return table.index.astype(str).str.strip().tolist(), values
