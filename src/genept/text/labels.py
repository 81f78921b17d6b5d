"""Cell-type label definitions read from a file: ``{name: description}`` for zero-shot annotation.

Formats, chosen by the file's suffix:

``.tsv`` / ``.tab`` / ``.csv``
    A table with a header row. The label column is ``name`` (or ``label``, ``cell_type``); the
    text column is ``description`` (or ``definition``, ``text``). Other columns are ignored.
    Without a text column every label's name is its text.
``.json``
    An object ``{"name": "description", ...}`` or a list of objects with the keys above.
anything else (``.txt``)
    One label per line, ``name: description`` or just a name; blank lines and lines starting
    with ``#`` are skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

NAME_COLUMNS = ("name", "label", "cell_type")
TEXT_COLUMNS = ("description", "definition", "text")


def _pick(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    lower = {c.strip().lower(): c for c in columns}
    return next((lower[w] for w in wanted if w in lower), None)


def _add(labels: dict[str, str], name: Any, text: Any, where: str) -> None:
    name = "" if name is None else str(name).strip()
    text = "" if text is None else str(text).strip()
    if not name:
        raise ValueError(f"{where}: the label name is empty")
    if not text:
        raise ValueError(f"{where}: label {name!r} has an empty description; write one or leave the column out")
    if name in labels:
        raise ValueError(f"{where}: label {name!r} is given twice")
    labels[name] = text


def _table(path: Path, sep: str) -> dict[str, str]:
    import csv

    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh, delimiter=sep) if any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{path} is empty; it needs a header row ('name{sep}description') and one row per label")
    header = rows[0]
    name_col, text_col = _pick(header, NAME_COLUMNS), _pick(header, TEXT_COLUMNS)
    if name_col is None:
        raise ValueError(
            f"{path}: no label column in the header {header}; name it one of {list(NAME_COLUMNS)} "
            f"(and the text column one of {list(TEXT_COLUMNS)})"
        )
    i, j = header.index(name_col), (header.index(text_col) if text_col is not None else None)
    labels: dict[str, str] = {}
    for k, row in enumerate(rows[1:], start=2):
        if len(row) <= max(i, j or 0):
            raise ValueError(f"{path}, row {k}: {len(row)} fields, fewer than the header's {len(header)} (is the separator {sep!r}?)")
        _add(labels, row[i], row[j] if j is not None else row[i], f"{path}, row {k}")
    return labels


def _json(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err})") from err
    labels: dict[str, str] = {}
    if isinstance(data, dict):
        for name, text in data.items():
            if not isinstance(text, str):
                raise ValueError(f"{path}: the description of {name!r} must be a string, got {type(text).__name__}")
            _add(labels, name, text, str(path))
    elif isinstance(data, list):
        for k, item in enumerate(data):
            if not isinstance(item, dict):
                raise ValueError(f"{path}: item {k} must be an object with a name and a description")
            name_key, text_key = _pick(list(item), NAME_COLUMNS), _pick(list(item), TEXT_COLUMNS)
            if name_key is None:
                raise ValueError(f"{path}: item {k} has no name; use one of the keys {list(NAME_COLUMNS)}")
            _add(labels, item[name_key], item[text_key] if text_key else item[name_key], f"{path}, item {k}")
    else:
        raise ValueError(f'{path}: expected an object {{"name": "description", ...}} or a list of objects, got {type(data).__name__}')
    return labels


def parse_label_lines(lines: list[str], where: str = "labels") -> dict[str, str]:
    """``"name: description"`` lines (or plain names) -> ``{name: description}``.

    Blank lines and lines starting with ``#`` are skipped. A plain name is its own description.

    Examples
    --------
    >>> parse_label_lines(["beta: insulin-secreting cell (INS)", "# comment", "alpha"])
    {'beta': 'insulin-secreting cell (INS)', 'alpha': 'alpha'}
    """
    labels: dict[str, str] = {}
    for k, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, text = line.partition(":")
        name, text = name.strip(), text.strip()
        if not sep:
            text = name
        if not name or not text:
            raise ValueError(f"{where}, line {k}: {line!r} has an empty name or description; write 'name: description' or just a name")
        _add(labels, name, text, f"{where}, line {k}")
    return labels


def read_label_file(path: str | os.PathLike) -> dict[str, str]:
    """Read label definitions from a ``.tsv``/``.csv``, ``.json`` or ``name: description`` text file.

    Parameters
    ----------
    path
        The file (format by suffix, see the module notes).

    Returns
    -------
    dict
        ``{name: description}`` in file order.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A header without a label column, a repeated or empty label, an empty description, or
        invalid JSON; the message names the file and row.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "types.tsv"
    >>> _ = p.write_text("name\\tdescription\\nbeta\\tbeta cell; expresses INS\\nalpha\\talpha cell; expresses GCG\\n")
    >>> read_label_file(p)
    {'beta': 'beta cell; expresses INS', 'alpha': 'alpha cell; expresses GCG'}
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"label file {p} does not exist (give a .tsv/.csv with name and description columns, a .json mapping or a text file)")
    suffix = p.suffix.lower()
    if suffix in (".tsv", ".tab"):
        labels = _table(p, "\t")
    elif suffix == ".csv":
        labels = _table(p, ",")
    elif suffix == ".json":
        labels = _json(p)
    else:
        labels = parse_label_lines(p.read_text(encoding="utf-8").splitlines(), str(p))
    if not labels:
        raise ValueError(f"{p} defines no labels")
    return labels


__all__ = ["parse_label_lines", "read_label_file"]
