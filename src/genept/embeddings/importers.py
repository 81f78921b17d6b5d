"""Import gene embeddings made by other tools, keyed by HGNC symbol, with a coverage report.

Every importer reads a file in its own tool's format, maps its keys (symbols, previous symbols,
aliases, Ensembl ids, ...) to HGNC symbols through :class:`~genept.genes.ids.GeneResolver`, and
returns ``(GeneEmbeddings, ImportReport)``.

=================  ==========================================================================
format             what is read
=================  ==========================================================================
``gene2vec``       Gene2vec text: ``GENE v1 v2 ...`` per line (tab or spaces), header optional
``word2vec``       word2vec text (``n dim`` header line) or binary (float32 rows), auto-detected
``scgpt``          scGPT checkpoint (``best_model.pt`` state dict) + ``vocab.json``: the rows of
                   the gene-token embedding (``encoder.embedding.weight``)
``geneformer``     Hugging Face model folder + token dictionary pickle (Ensembl id -> token id):
                   the word-embedding rows of the Ensembl gene tokens
``genept-pickle``  GenePT's ``{key: vector}`` pickles (v1, v2), read without running code
``genept-json``    the same as JSON
``table``          TSV/CSV/parquet, first column the gene, the other columns numbers
=================  ==========================================================================

Rules shared by all formats
---------------------------
- **Resolution.** Keys are resolved as human genes (``species="human"``) unless told otherwise.
  A key that names several genes (a shared alias or previous symbol) is *ambiguous* and left
  out, never guessed; a key that names no gene is *unresolved* and left out (``keep_unresolved``
  keeps it under its own name).
- **Duplicates.** When several keys resolve to one gene (``TP53`` and its alias ``P53``),
  ``merge="best"`` (default) keeps the row of the key that names the gene most directly, in the
  order of :data:`~genept.genes.ids.ROUTES` (approved symbol, symbol with dots, Ensembl id,
  Entrez id, HGNC id, previous symbol, alias), the earlier row in the file on a tie;
  ``"first"`` keeps the earliest row in the file; ``"mean"`` averages the rows.
- **Special tokens** (``<pad>``, ``<cls>``, ``[MASK]``) are never genes and are always dropped.
- **NaN / inf rows** are an error naming the keys (``nonfinite="drop"`` leaves them out).
- **Loading is safe.** Pickles go through a restricted unpickler (builtin containers and numpy
  arrays only); torch checkpoints through ``torch.load(..., weights_only=True)``; Hugging Face
  folders through ``transformers`` with ``local_files_only``. A file holding any other object is
  refused, and nothing in it is executed.

Examples
--------
>>> from pathlib import Path
>>> import tempfile
>>> from genept.embeddings.importers import import_embeddings
>>> path = Path(tempfile.mkdtemp()) / "g2v.txt"
>>> _ = path.write_text("CD3E\\t0.1 0.2\\nP53 0.3 0.4\\nTP53 0.5 0.6\\n<pad> 0 0\\n")
>>> emb, report = import_embeddings(path, "gene2vec")
>>> emb.genes.tolist(), emb["TP53"].tolist()
(['CD3E', 'TP53'], [0.5, 0.6000000238418579])
>>> report.key_classes
{'symbol': 2, 'alias': 1, 'special_token': 1}
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import pickle
import re
import zipfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from genept._utils import require
from genept.embeddings._readers import load_pickle, mapping_arrays, pickle_arrays, table_arrays
from genept.embeddings.core import GeneEmbeddings

logger = logging.getLogger(__name__)

FORMATS = ("gene2vec", "word2vec", "scgpt", "geneformer", "genept-pickle", "genept-json", "table")
MERGE_RULES = ("best", "first", "mean")
Merge = Literal["best", "first", "mean"]

# Resolver routes, best first, then the kinds of keys that resolve to no gene.
_RESOLVED_ROUTES = ("symbol", "symbol_dot", "ensembl", "entrez", "hgnc_id", "previous", "alias", "mouse_ortholog", "mouse_uppercase")
_ROUTE_LABEL = {
    "symbol": "current HGNC symbol",
    "symbol_dot": "symbol with dots for dashes",
    "ensembl": "Ensembl gene id",
    "entrez": "Entrez gene id",
    "hgnc_id": "HGNC id",
    "previous": "previous HGNC symbol",
    "alias": "alias",
    "mouse_ortholog": "mouse gene (human ortholog)",
    "mouse_uppercase": "mouse symbol (upper-cased)",
    "ambiguous": "ambiguous (not guessed)",
    "special_token": "special token",
    "ncbi_loc": "NCBI LOC id",
    "ensembl_other": "Ensembl id not in HGNC",
    "clone_name": "clone-based name (AC012345.1, RP11-...)",
    "other": "other name",
}
_SPECIAL = re.compile(r"^(<[^<>]*>|\[[A-Z_]+\])$")
_LOC = re.compile(r"^LOC\d+$", re.IGNORECASE)
_ENS = re.compile(r"^ENS[A-Z]*[GTP]\d{6,}(\.\d+)?$", re.IGNORECASE)
_CLONE = re.compile(r"^([A-Z]{1,2}\d{5,6}\.\d+|(RP\d+|CT[A-D]|CH\d+|KB|XX[a-z]*|LL\d+|WI2)-[\w.]+)$", re.IGNORECASE)


def _unresolved_kind(key: str) -> str:
    if _SPECIAL.match(key):
        return "special_token"
    if _LOC.match(key):
        return "ncbi_loc"
    if _ENS.match(key):
        return "ensembl_other"
    if _CLONE.match(key):
        return "clone_name"
    return "other"


@dataclass
class ImportReport:
    """What an import read and how its keys became genes.

    Attributes
    ----------
    format, source
        The format name and the file (or folder) read.
    n_keys, dim
        Rows (keys) in the file and their dimension.
    key_classes
        Keys by class: a resolver route (``symbol`` = current HGNC symbol, ``previous``, ``alias``,
        ``ensembl``, ...), ``ambiguous``, or, for keys naming no gene, ``special_token``,
        ``ncbi_loc``, ``ensembl_other``, ``clone_name`` or ``other``. Sums to ``n_keys``.
    n_genes
        Distinct genes in the result (resolved keys after merging duplicates, plus kept unresolved keys).
    merge
        The duplicate rule used (``best``, ``first`` or ``mean``).
    duplicates
        Gene -> the keys merged into it (genes with more than one key only).
    ambiguous
        Ambiguous key -> candidate genes.
    unresolved
        Keys naming no gene (special tokens included), in file order.
    dropped_nonfinite
        Keys left out because their row held NaN or inf (``nonfinite="drop"``).
    kept_unresolved
        Unresolved keys kept under their own name (``keep_unresolved=True``).
    notes
        Format-specific facts: which checkpoint key was read, rows without a token, ...
    """

    format: str
    source: str
    n_keys: int
    dim: int
    key_classes: dict[str, int]
    n_genes: int
    merge: str
    resolver_version: str = ""
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    dropped_nonfinite: list[str] = field(default_factory=list)
    kept_unresolved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def n_resolved(self) -> int:
        """Keys that resolved to exactly one gene (before merging duplicates)."""
        return sum(self.key_classes.get(r, 0) for r in _RESOLVED_ROUTES)

    def to_dict(self, *, max_items: int | None = None) -> dict[str, Any]:
        """Plain JSON-ready values; ``max_items`` caps each list/mapping (for embedding metadata)."""

        def cap(x: Any) -> Any:
            if max_items is None:
                return x
            return dict(list(x.items())[:max_items]) if isinstance(x, dict) else list(x)[:max_items]

        return {
            "format": self.format,
            "source": self.source,
            "n_keys": self.n_keys,
            "dim": self.dim,
            "n_resolved": self.n_resolved,
            "n_genes": self.n_genes,
            "key_classes": dict(self.key_classes),
            "merge": self.merge,
            "resolver_version": self.resolver_version,
            "n_duplicate_genes": len(self.duplicates),
            "duplicates": cap(self.duplicates),
            "ambiguous": cap(self.ambiguous),
            "unresolved": cap(self.unresolved),
            "dropped_nonfinite": cap(self.dropped_nonfinite),
            "kept_unresolved": cap(self.kept_unresolved),
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        lines = [
            f"{self.format} {self.source}: {self.n_keys:,} keys ({self.dim}-d) -> {self.n_genes:,} genes "
            f"({self.n_resolved:,} keys resolved; HGNC {self.resolver_version or '?'})"
        ]
        for cls, n in self.key_classes.items():
            lines.append(f"  {_ROUTE_LABEL.get(cls, cls):<42} {n:>9,}")
        if self.duplicates:
            n_keys = sum(len(v) for v in self.duplicates.values())
            rule = {
                "best": "kept the key that names the gene most directly (symbol > Ensembl/Entrez > previous > alias), then the earlier row",
                "first": "kept the earliest row in the file",
                "mean": "averaged the rows",
            }[self.merge]
            ex = "; ".join(f"{g} <- {', '.join(k[:4])}" for g, k in list(self.duplicates.items())[:3])
            lines.append(f"  {len(self.duplicates):,} genes had several keys ({n_keys:,} keys): {rule}. e.g. {ex}")
        if self.ambiguous:
            ex = ", ".join(f"{k} -> {'|'.join(v)}" for k, v in list(self.ambiguous.items())[:4])
            lines.append(f"  ambiguous keys left out: {ex}{' ...' if len(self.ambiguous) > 4 else ''}")
        if self.unresolved:
            ex = ", ".join(self.unresolved[:8])
            kept = f" ({len(self.kept_unresolved):,} kept under their own name)" if self.kept_unresolved else " (left out)"
            lines.append(f"  unresolved{kept}: {ex}{' ...' if len(self.unresolved) > 8 else ''}")
        if self.dropped_nonfinite:
            lines.append(f"  {len(self.dropped_nonfinite):,} rows with NaN/inf left out: {', '.join(self.dropped_nonfinite[:5])}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


# -- keys -> HGNC symbols ------------------------------------------------------------------
def key_by_symbol(
    keys: Sequence[str],
    vectors: np.ndarray,
    *,
    format: str = "custom",
    source: str = "",
    species: Literal["human", "mouse", "auto"] = "human",
    merge: Merge = "best",
    keep_unresolved: bool = False,
    nonfinite: Literal["raise", "drop"] = "raise",
    resolver: Any = None,
    notes: Sequence[str] = (),
    meta: Mapping[str, Any] | None = None,
) -> tuple[GeneEmbeddings, ImportReport]:
    """Key rows by HGNC symbol: resolve every key, merge duplicates, report what happened.

    Parameters
    ----------
    keys, vectors
        One key per row of the ``(n, dim)`` matrix, as written in the source file.
    format, source
        Recorded in the report and the embedding metadata.
    species
        How keys are resolved (``"human"`` for every published gene embedding named here).
    merge
        ``"best"``, ``"first"`` or ``"mean"``: see the module notes.
    keep_unresolved
        Keep keys that name no gene under their own name (special tokens are still dropped).
    nonfinite
        ``"raise"`` (default) on rows with NaN or inf, or ``"drop"`` them.
    resolver
        A :class:`~genept.genes.ids.GeneResolver`; default the bundled one.
    notes, meta
        Extra report notes and metadata.

    Examples
    --------
    >>> import numpy as np
    >>> from genept.embeddings.importers import key_by_symbol
    >>> emb, rep = key_by_symbol(["p53", "ENSG00000198851", "LOC100", "TP53"], np.eye(4), merge="mean")
    >>> emb.genes.tolist(), emb["TP53"].tolist()
    (['TP53', 'CD3E'], [0.5, 0.0, 0.0, 0.5])
    >>> rep.key_classes
    {'symbol': 1, 'ensembl': 1, 'alias': 1, 'ncbi_loc': 1}
    """
    from genept.genes.ids import GeneResolver

    if merge not in MERGE_RULES:
        raise ValueError(f"merge must be one of {MERGE_RULES}, not {merge!r}")
    if nonfinite not in ("raise", "drop"):
        raise ValueError(f"nonfinite must be 'raise' or 'drop', not {nonfinite!r}")
    keys = [str(k).strip() for k in keys]
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(keys):
        raise ValueError(f"{source or format}: {len(keys):,} keys but a matrix of shape {vectors.shape}; need one row per key")
    if not len(keys):
        raise ValueError(f"{source or format}: no vectors in the file")
    bad_rows = ~np.isfinite(vectors).all(axis=1)
    dropped: list[str] = []
    if bad_rows.any():
        bad = [keys[i] for i in np.flatnonzero(bad_rows)]
        if nonfinite == "raise":
            raise ValueError(
                f"{source or format}: {len(bad):,} rows hold NaN or inf (e.g. {bad[:5]}); the file may be damaged. "
                "Re-export it, or leave those rows out with nonfinite='drop' (CLI: --drop-nonfinite)."
            )
        dropped = bad
    resolver = resolver or GeneResolver.default()
    special = np.array([bool(_SPECIAL.match(k)) for k in keys])
    todo = [k for k, s in zip(keys, special, strict=True) if not s]
    res = resolver.resolve(todo, species=species) if todo else None
    symbols: list[str | None] = [None] * len(keys)
    classes: list[str] = ["special_token"] * len(keys)
    ambiguous: dict[str, list[str]] = {}
    if res is not None:
        idx = np.flatnonzero(~special)
        for i, sym, route, cands in zip(idx, res["symbol"], res["route"], res["candidates"], strict=True):
            if route == "unresolved":
                classes[i] = _unresolved_kind(keys[i])
            else:
                classes[i] = route
                symbols[i] = sym if isinstance(sym, str) else None
                if route == "ambiguous":
                    ambiguous[keys[i]] = cands.split("|")
    order = [*_RESOLVED_ROUTES, "ambiguous", "special_token", "ncbi_loc", "ensembl_other", "clone_name", "other"]
    counts = {c: classes.count(c) for c in order if c in classes}
    rank = {r: i for i, r in enumerate(_RESOLVED_ROUTES)}

    groups: dict[str, list[int]] = defaultdict(list)
    for i, sym in enumerate(symbols):
        if sym is not None and not bad_rows[i]:
            groups[sym].append(i)
    out_genes: list[str] = []
    rows: list[np.ndarray] = []
    duplicates: dict[str, list[str]] = {}
    for sym, members in groups.items():  # insertion order = first appearance in the file
        if len(members) > 1:
            duplicates[sym] = [keys[i] for i in members]
        if merge == "mean":
            row = vectors[members].mean(axis=0)
        elif merge == "first":
            row = vectors[members[0]]
        else:
            row = vectors[min(members, key=lambda i: (rank[classes[i]], i))]
        out_genes.append(sym)
        rows.append(row)
    unresolved = [k for k, c, s in zip(keys, classes, symbols, strict=True) if s is None and c != "ambiguous"]
    kept: list[str] = []
    if keep_unresolved:
        taken = set(out_genes)
        for i, (k, c, s) in enumerate(zip(keys, classes, symbols, strict=True)):
            if s is None and c not in ("ambiguous", "special_token") and k not in taken and not bad_rows[i]:
                taken.add(k)
                kept.append(k)
                out_genes.append(k)
                rows.append(vectors[i])
    name = Path(source).name if source else format
    report = ImportReport(
        format=format,
        source=source,
        n_keys=len(keys),
        dim=int(vectors.shape[1]),
        key_classes=counts,
        n_genes=len(out_genes),
        merge=merge,
        resolver_version=str(getattr(resolver, "version", "")),
        duplicates=duplicates,
        ambiguous=ambiguous,
        unresolved=unresolved,
        dropped_nonfinite=dropped,
        kept_unresolved=kept,
        notes=list(notes),
    )
    if not out_genes:
        ex = ", ".join(keys[:5])
        raise ValueError(
            f"{source or format}: none of the {len(keys):,} keys resolved to a {species} gene (e.g. {ex}). "
            "For mouse genes pass species='mouse' (CLI: --species mouse); keep_unresolved=True (--keep-unresolved) "
            "keeps the keys as written."
        )
    out_meta = {
        "encoder": f"imported:{format}:{name}",
        "source_file": name,
        "import_format": format,
        "import_report": report.to_dict(max_items=20),
        **(meta or {}),
    }
    return GeneEmbeddings(out_genes, np.stack(rows), out_meta), report


# -- word2vec / Gene2vec --------------------------------------------------------------------
def _open_bytes(path: Path) -> bytes:
    with (gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")) as fh:
        return fh.read()


def _header(line: bytes) -> tuple[int, int] | None:
    parts = line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return None


def word2vec_arrays(path: str | Path, *, binary: bool | None = None) -> tuple[list[str], np.ndarray]:
    """Keys and vectors of a word2vec (text or binary) or Gene2vec text file.

    Text: one ``KEY v1 ... vd`` per line, separated by spaces or tabs, with or without a
    ``n d`` header line. Binary (word2vec ``-binary 1``): a ``n d`` header line, then per row
    the key, a space and ``d`` little-endian float32. ``binary=None`` detects which.
    """
    path = Path(path)
    data = _open_bytes(path)
    first, _, rest = data.partition(b"\n")
    head = _header(first)
    if binary is None:
        if head is None:
            binary = False
        else:
            line = rest.split(b"\n", 1)[0]
            try:
                parts = line.decode("utf-8").split()
                binary = not (len(parts) == head[1] + 1 and all(_is_float(p) for p in parts[1:]))
            except UnicodeDecodeError:
                binary = True
    if binary:
        if head is None:
            raise ValueError(f"{path}: a binary word2vec file starts with a 'n_vectors dim' line; this one starts with {first[:40]!r}")
        return _word2vec_binary(path, rest, *head)
    body = rest if head else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err}); for a binary word2vec file pass binary=True (--binary)") from err
    keys: list[str] = []
    values: list[str] = []
    dim = head[1] if head else None
    for lineno, line in enumerate(text.splitlines(), start=2 if head else 1):
        parts = line.split()
        if not parts:
            continue
        if dim is None:
            dim = len(parts) - 1
            if dim < 1:
                raise ValueError(f"{path}: line {lineno} holds only {parts[0]!r}; expected a gene and its numbers")
        if len(parts) != dim + 1:
            raise ValueError(
                f"{path}: line {lineno} ({parts[0]!r}) has {len(parts) - 1} numbers, expected {dim} "
                f"({'from the header' if head else 'as on the first line'}); the file is damaged or not in this format"
            )
        keys.append(parts[0])
        values.extend(parts[1:])
    if not keys:
        raise ValueError(f"{path}: no vectors in the file")
    try:
        matrix = np.asarray(values, dtype=np.float32).reshape(len(keys), dim)
    except ValueError as err:
        raise ValueError(f"{path}: every value after the gene must be a number ({err})") from err
    if head and head[0] != len(keys):
        raise ValueError(f"{path}: the header announces {head[0]:,} vectors but the file holds {len(keys):,}; was it cut short?")
    return keys, matrix


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _word2vec_binary(path: Path, body: bytes, n: int, dim: int) -> tuple[list[str], np.ndarray]:
    keys: list[str] = []
    matrix = np.empty((n, dim), dtype=np.float32)
    pos, size = 0, dim * 4
    for i in range(n):
        while pos < len(body) and body[pos : pos + 1] in (b"\n", b" ", b"\r"):
            pos += 1
        end = body.find(b" ", pos)
        if end < 0 or end + 1 + size > len(body):
            raise ValueError(f"{path}: the header announces {n:,} vectors of {dim} but the file ends after {i:,}; was it cut short?")
        keys.append(body[pos:end].decode("utf-8", errors="replace"))
        matrix[i] = np.frombuffer(body, dtype="<f4", count=dim, offset=end + 1)
        pos = end + 1 + size
    if body[pos:].strip():
        raise ValueError(f"{path}: bytes left after the {n:,} vectors the header announces; the header or the dimension is wrong")
    return keys, matrix


def read_word2vec(path: str | Path, *, binary: bool | None = None, format: str = "word2vec", **options: Any) -> tuple[GeneEmbeddings, ImportReport]:
    """Import a word2vec text/binary file (for example Gene2vec's ``*_w2v.txt``).

    ``options`` go to :func:`key_by_symbol` (``species``, ``merge``, ``keep_unresolved``, ``nonfinite``).
    """
    keys, matrix = word2vec_arrays(path, binary=binary)
    return key_by_symbol(keys, matrix, format=format, source=str(path), **options)


def read_gene2vec(path: str | Path, **options: Any) -> tuple[GeneEmbeddings, ImportReport]:
    """Import Gene2vec's pre-trained embeddings (``gene2vec_dim_200_iter_9.txt`` or its ``_w2v`` twin).

    Gene2vec (Du et al. 2019) writes one gene symbol and 200 numbers per line; the ``_w2v``
    version adds a word2vec header. Both read here.
    """
    return read_word2vec(path, binary=False, format="gene2vec", **options)


# -- GenePT pickles / JSON, tables ----------------------------------------------------------
def read_genept(path: str | Path, **options: Any) -> tuple[GeneEmbeddings, ImportReport]:
    """Import GenePT's published ``{key: vector}`` file (pickle, or JSON / JSON.gz).

    GenePT v1 keys are gene names from scGPT's vocabulary that have an NCBI summary; the v2
    release (Zenodo 10833191) holds 93,800 keys (ada-002) and 133,736 keys
    (text-embedding-3-large). The report says how those keys split into current HGNC symbols,
    previous symbols, aliases and other names, and how many distinct genes they give.
    """
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".json"):
        try:
            with (gzip.open(path, "rt") if path.name.endswith(".gz") else path.open()) as fh:
                data = json.load(fh)
        except (OSError, ValueError) as err:
            raise ValueError(f"{path}: not a readable JSON file ({err})") from err
        if not isinstance(data, Mapping):
            raise ValueError(f"{path}: expected a JSON object {{gene: [numbers]}}, got {type(data).__name__}")
        keys, matrix = mapping_arrays(data, str(path))
        fmt = "genept-json"
    else:
        keys, matrix = pickle_arrays(path)
        fmt = "genept-pickle"
    return key_by_symbol(keys, matrix, format=fmt, source=str(path), **options)


def read_table(path: str | Path, *, sep: str | None = None, **options: Any) -> tuple[GeneEmbeddings, ImportReport]:
    """Import a table (TSV/CSV/parquet): first column the gene, the other columns numbers."""
    keys, matrix = table_arrays(path, sep=sep)
    return key_by_symbol(keys, matrix, format="table", source=str(path), **options)


# -- token vocabularies ---------------------------------------------------------------------
def _check_vocab(vocab: Any, n_rows: int, *, what: str, matrix: str, allow_extra_rows: bool) -> tuple[list[str], np.ndarray, list[str]]:
    """Validate a ``{token: row}`` mapping against a matrix of ``n_rows`` rows."""
    if not isinstance(vocab, Mapping) or not vocab:
        raise ValueError(f"{what}: expected a non-empty mapping {{token: row index}}, got {type(vocab).__name__}")
    tokens = [str(t) for t in vocab]
    try:
        index = np.asarray([int(v) for v in vocab.values()], dtype=np.int64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what}: every token must map to an integer row index ({err})") from err
    uniq, counts = np.unique(index, return_counts=True)
    if (counts > 1).any():
        dup = int(uniq[counts > 1][0])
        names = [t for t, i in zip(tokens, index, strict=True) if i == dup][:4]
        raise ValueError(f"{what}: {int((counts > 1).sum()):,} row indices are used by several tokens (row {dup}: {names}); the vocabulary is damaged")
    if index.min() < 0 or index.max() >= n_rows:
        raise ValueError(
            f"{what} has {len(tokens):,} tokens with indices up to {int(index.max()):,}, but {matrix} has {n_rows:,} rows: "
            "this vocabulary belongs to another model. Use the vocabulary saved with these weights."
        )
    notes = []
    if len(tokens) != n_rows:
        if not allow_extra_rows:
            raise ValueError(
                f"{what} has {len(tokens):,} tokens but {matrix} has {n_rows:,} rows: this vocabulary belongs to another "
                "model. Use the vocabulary saved with these weights (allow_extra_rows=True / --allow-extra-rows accepts "
                "a padded matrix whose extra rows have no token)."
            )
        notes.append(f"{n_rows - len(tokens):,} rows of {matrix} have no token and were ignored")
    return tokens, index, notes


# -- scGPT ---------------------------------------------------------------------------------
SCGPT_KEYS = ("encoder.embedding.weight",)


def load_state_dict(path: str | Path) -> dict[str, Any]:
    """Tensors of a torch checkpoint or a ``.safetensors`` file, loaded without running pickled code.

    ``torch.load(..., weights_only=True)`` unpickles tensors, numbers and containers only; a
    checkpoint holding any other class (a whole pickled model, an optimizer object) is refused.
    A checkpoint wrapped as ``{"model_state_dict": ...}`` / ``{"state_dict": ...}`` is unwrapped.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        try:
            return dict(load_file(str(path)))
        except Exception as err:  # safetensors raises its own SafetensorError
            raise ValueError(f"{path}: not a readable safetensors file ({err})") from err
    torch = require("torch", "reading torch checkpoints")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        lines = str(err).strip().splitlines()
        why = next((ln.strip() for ln in lines if "GLOBAL" in ln), None)
        if why is None:  # not a class it refused: garbage or a file cut short
            raise ValueError(f"{path}: not a readable torch checkpoint ({lines[-1] if lines else err!r})") from err
        raise ValueError(
            f"{path}: refused to load this checkpoint: it holds objects other than tensors and plain containers ({why}). "
            "genept never runs pickled code. Save the weights alone, e.g. torch.save(model.state_dict(), 'best_model.pt')."
        ) from err
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as err:
        raise ValueError(f"{path}: not a readable torch checkpoint ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})") from err
    for wrap in ("model_state_dict", "state_dict", "model"):
        if isinstance(state, Mapping) and isinstance(state.get(wrap), Mapping) and not any(hasattr(v, "shape") for v in state.values()):
            state = state[wrap]
    if not isinstance(state, Mapping):
        raise ValueError(f"{path}: expected a state dict {{name: tensor}}, got {type(state).__name__}")
    return dict(state)


def _to_numpy(tensor: Any) -> np.ndarray:
    if hasattr(tensor, "detach"):
        return tensor.detach().float().cpu().numpy()
    return np.asarray(tensor, dtype=np.float32)


def _pick_matrix(state: Mapping[str, Any], n_tokens: int, key: str | None, path: Path) -> str:
    two_d = {k: tuple(v.shape) for k, v in state.items() if hasattr(v, "shape") and len(v.shape) == 2}
    if key is not None:
        if key not in state:
            raise ValueError(f"{path}: no {key!r} in the checkpoint; 2-d tensors there: {_shapes(two_d)}")
        if key not in two_d:
            raise ValueError(f"{path}: {key!r} has shape {tuple(state[key].shape)}, not (n_tokens, dim)")
        return key
    for want in SCGPT_KEYS:
        hits = [k for k in two_d if k == want or k.endswith("." + want)]
        if len(hits) == 1:
            return hits[0]
    by_rows = [k for k, s in two_d.items() if s[0] == n_tokens]
    if len(by_rows) == 1:
        return by_rows[0]
    raise ValueError(
        f"{path}: no {SCGPT_KEYS[0]!r} in the checkpoint and {len(by_rows)} 2-d tensors with one row per vocabulary "
        f"token ({n_tokens:,}); name the gene-token embedding with key=... (CLI: --key). 2-d tensors: {_shapes(two_d)}"
    )


def _shapes(two_d: Mapping[str, tuple]) -> str:
    items = [f"{k} {s}" for k, s in list(two_d.items())[:8]]
    return ", ".join(items) + (" ..." if len(two_d) > 8 else "") if items else "none"


def read_scgpt(
    checkpoint: str | Path,
    vocab: str | Path | None = None,
    *,
    key: str | None = None,
    allow_extra_rows: bool = False,
    **options: Any,
) -> tuple[GeneEmbeddings, ImportReport]:
    """Import scGPT's gene-token embeddings from a checkpoint and its vocabulary.

    Parameters
    ----------
    checkpoint
        ``best_model.pt`` (a state dict saved with ``torch.save``; loaded with ``weights_only=True``)
        or a ``.safetensors`` file.
    vocab
        ``vocab.json`` (``{token: row}``); default: ``vocab.json`` beside the checkpoint.
    key
        The state-dict entry holding the gene-token embedding. Default: ``encoder.embedding.weight``
        (also under a ``module.`` prefix), else the only 2-d tensor with one row per vocabulary
        token. The report notes which key was used.
    allow_extra_rows
        Accept a matrix with more rows than the vocabulary has tokens.
    **options
        For :func:`key_by_symbol` (``species``, ``merge``, ``keep_unresolved``, ``nonfinite``).

    Notes
    -----
    The rows are scGPT's *input* gene-token embeddings (before its ``enc_norm`` layer norm), the
    gene vectors scGPT's own tutorials and GenePT's comparison use.
    """
    checkpoint = Path(checkpoint)
    vocab = Path(vocab) if vocab is not None else checkpoint.with_name("vocab.json")
    if not vocab.is_file():
        raise FileNotFoundError(f"scGPT vocabulary {vocab} not found; pass the vocab.json saved with the checkpoint (vocab=..., --vocab)")
    try:
        with (gzip.open(vocab, "rt") if vocab.name.endswith(".gz") else vocab.open()) as fh:
            token_to_row = json.load(fh)
    except (OSError, ValueError) as err:
        raise ValueError(f"{vocab}: not a readable JSON vocabulary ({err})") from err
    state = load_state_dict(checkpoint)
    n_tokens = len(token_to_row) if isinstance(token_to_row, Mapping) else 0
    used = _pick_matrix(state, n_tokens, key, checkpoint)
    matrix = _to_numpy(state[used])
    tokens, rows, notes = _check_vocab(token_to_row, matrix.shape[0], what=str(vocab), matrix=f"{used!r}", allow_extra_rows=allow_extra_rows)
    notes.insert(0, f"gene-token rows read from {used!r} {tuple(matrix.shape)}")
    return key_by_symbol(tokens, matrix[rows], format="scgpt", source=str(checkpoint), notes=notes, **options)


# -- Geneformer ----------------------------------------------------------------------------
def _find_token_dictionary(folder: Path) -> Path:
    found = sorted({*folder.glob("*token_dictionary*.pkl"), *folder.parent.glob("*token_dictionary*.pkl")})
    if len(found) == 1:
        return found[0]
    what = f"{len(found)} candidates ({', '.join(p.name for p in found)})" if found else "none"
    raise FileNotFoundError(
        f"Geneformer token dictionary not given and {what} found beside {folder}; pass token_dictionary=... "
        "(CLI: --token-dictionary), e.g. Geneformer's token_dictionary_gc104M.pkl"
    )


def read_geneformer(
    folder: str | Path,
    token_dictionary: str | Path | None = None,
    *,
    allow_extra_rows: bool = False,
    **options: Any,
) -> tuple[GeneEmbeddings, ImportReport]:
    """Import Geneformer's gene-token embeddings: the model's input word embeddings of Ensembl gene tokens.

    Parameters
    ----------
    folder
        A Hugging Face model folder (``config.json`` + ``model.safetensors`` or ``pytorch_model.bin``),
        loaded offline with ``transformers.AutoModel`` (``local_files_only=True``).
    token_dictionary
        Geneformer's token dictionary pickle (``{Ensembl id: token id}`` plus ``<pad>``,
        ``<mask>``, ...), read with the restricted unpickler. Default: the only
        ``*token_dictionary*.pkl`` in the folder or its parent.
    allow_extra_rows
        Accept a word-embedding matrix with more rows than the dictionary has tokens.
    **options
        For :func:`key_by_symbol`; Ensembl ids resolve through HGNC's Ensembl column.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise ValueError(f"{folder} is not a Hugging Face model folder (no config.json); give the folder that save_pretrained wrote")
    token_dictionary = Path(token_dictionary) if token_dictionary is not None else _find_token_dictionary(folder)
    token_to_row = load_pickle(token_dictionary)
    transformers = require("transformers", "reading Geneformer models")
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()  # "weights of BertForMaskedLM not used": expected, we read embeddings only
    hf_logging.disable_progress_bar()
    try:
        model = transformers.AutoModel.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError, RuntimeError, pickle.UnpicklingError) as err:
        raise ValueError(f"{folder}: transformers could not load this model offline ({type(err).__name__}: {str(err).splitlines()[0]})") from err
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    matrix = _to_numpy(model.get_input_embeddings().weight)
    tokens, rows, notes = _check_vocab(
        token_to_row, matrix.shape[0], what=str(token_dictionary), matrix="the word-embedding matrix", allow_extra_rows=allow_extra_rows
    )
    notes.insert(0, f"word-embedding rows of {type(model).__name__} {tuple(matrix.shape)}")
    return key_by_symbol(tokens, matrix[rows], format="geneformer", source=str(folder), notes=notes, **options)


# -- one entry point -------------------------------------------------------------------------
def detect_format(path: str | Path) -> str:
    """Guess the format from the path: folder -> geneformer, ``.pt``/``.pth``/``.ckpt`` -> scgpt,
    ``.pkl``/``.pickle`` -> genept-pickle, ``.json`` -> genept-json, ``.txt``/``.vec``/``.bin`` -> word2vec
    (header optional, so Gene2vec files read too), anything else -> table."""
    path = Path(path)
    if path.is_dir():
        return "geneformer"
    name = path.name.lower().removesuffix(".gz")
    for ends, fmt in (
        ((".pt", ".pth", ".ckpt", ".safetensors"), "scgpt"),
        ((".pkl", ".pickle"), "genept-pickle"),
        ((".json",), "genept-json"),
        ((".txt", ".vec", ".bin", ".w2v"), "word2vec"),
    ):
        if name.endswith(ends):
            return fmt
    return "table"


def import_embeddings(path: str | Path, format: str | None = None, **options: Any) -> tuple[GeneEmbeddings, ImportReport]:
    """Import gene embeddings in any supported format (see the module table); ``format=None`` guesses.

    ``options`` go to the format's reader: ``vocab``, ``key`` (scgpt), ``token_dictionary``
    (geneformer), ``binary`` (word2vec), ``sep`` (table), ``allow_extra_rows``, and for every
    format ``species``, ``merge``, ``keep_unresolved``, ``nonfinite``.
    """
    fmt = format or detect_format(path)
    readers = {
        "gene2vec": read_gene2vec,
        "word2vec": read_word2vec,
        "scgpt": read_scgpt,
        "geneformer": read_geneformer,
        "genept-pickle": read_genept,
        "genept-json": read_genept,
        "table": read_table,
    }
    if fmt not in readers:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not Path(path).exists():
        raise FileNotFoundError(f"{path} not found")
    return readers[fmt](path, **options)


__all__ = [
    "FORMATS",
    "ImportReport",
    "MERGE_RULES",
    "detect_format",
    "import_embeddings",
    "key_by_symbol",
    "load_state_dict",
    "read_gene2vec",
    "read_genept",
    "read_geneformer",
    "read_scgpt",
    "read_table",
    "read_word2vec",
    "word2vec_arrays",
]
