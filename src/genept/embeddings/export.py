"""Gene embeddings for downstream models: aligned to a gene order, written as ``.npy``, TSV or word2vec text.

A perturbation or expression model usually wants one row per gene *in its own gene order*.
:func:`align` gives that matrix, with zero rows and ``mask == False`` for genes without an
embedding (genes are matched by :meth:`GeneEmbeddings.locate`: symbols, aliases, previous
symbols, Ensembl/Entrez ids, mouse genes). :func:`export` writes it:

==========  ===========================================================================
format      files
==========  ===========================================================================
``npy``     ``OUT.npy`` (float32 ``n x dim``), ``OUT.genes.txt`` (one row name per line) and,
            when aligned to a gene list, ``OUT.mask.npy`` (bool: the gene has an embedding)
``tsv``     one row per gene: the gene, then ``dim`` numbers; a header ``gene d0 d1 ...``
            (``.csv`` writes commas; ``.gz`` compresses). Reads back with ``genept genes import``
``word2vec``  word2vec text: a ``n dim`` header, then ``GENE v1 ... vd`` per line (``.gz`` allowed)
==========  ===========================================================================

Rows of missing genes are zeros in every format (``missing="drop"`` leaves them out instead).
To put the aligned matrix into ``adata.varm`` use ``genept.tl.add_gene_embeddings``.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np

from genept._utils import atomic_write
from genept.embeddings.core import GeneEmbeddings

EXPORT_FORMATS = ("npy", "tsv", "word2vec")


def align(
    emb: GeneEmbeddings,
    genes: Iterable[str],
    *,
    species: str = "auto",
    resolver: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The embedding rows of ``genes``, in that order: ``(matrix, mask)``.

    Parameters
    ----------
    emb
        Gene embeddings.
    genes
        The target gene order (any identifiers :meth:`GeneEmbeddings.locate` understands);
        repeats are allowed and give repeated rows.
    species, resolver
        Passed to :meth:`GeneEmbeddings.locate`.

    Returns
    -------
    matrix
        ``(len(genes), emb.dim)`` float32; rows of genes without an embedding are zero.
    mask
        Boolean, ``True`` where the gene has an embedding.

    Examples
    --------
    >>> import numpy as np
    >>> from genept.embeddings import GeneEmbeddings
    >>> from genept.embeddings.export import align
    >>> emb = GeneEmbeddings(["CD3E", "INS"], np.array([[1, 0], [0, 1]], dtype=np.float32))
    >>> matrix, mask = align(emb, ["INS", "NOT_A_GENE", "CD3E"], species="human")
    >>> matrix.tolist(), mask.tolist()
    ([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]], [True, False, True])
    """
    genes = [str(g) for g in genes]
    if not genes:
        return np.zeros((0, emb.dim), dtype=np.float32), np.zeros(0, dtype=bool)
    pos = np.asarray(emb.locate(genes, species, resolver=resolver))
    mask = pos >= 0
    matrix = np.zeros((len(genes), emb.dim), dtype=np.float32)
    matrix[mask] = emb.vectors[pos[mask]]
    return matrix, mask


@dataclass
class ExportResult:
    """What :func:`export` wrote."""

    format: str
    paths: list[Path]
    n_rows: int
    dim: int
    missing: list[str] = field(default_factory=list)
    missing_rule: str = "zero"

    def __str__(self) -> str:
        lines = [f"wrote {self.n_rows:,} genes x {self.dim} ({self.format}): {', '.join(str(p) for p in self.paths)}"]
        if self.missing:
            how = "zero rows (mask False)" if self.missing_rule == "zero" else "left out"
            shown = ", ".join(self.missing[:10]) + (" ..." if len(self.missing) > 10 else "")
            lines.append(f"  {len(self.missing):,} genes have no embedding, {how}: {shown}")
        return "\n".join(lines)


def guess_export_format(path: str | Path) -> str:
    """``.npy`` -> npy; ``.tsv``/``.csv`` (``.gz``) -> tsv; ``.txt``/``.vec``/``.w2v`` (``.gz``) -> word2vec."""
    name = Path(path).name.lower().removesuffix(".gz")
    if name.endswith(".npy"):
        return "npy"
    if name.endswith((".tsv", ".csv")):
        return "tsv"
    if name.endswith((".txt", ".vec", ".w2v")):
        return "word2vec"
    raise ValueError(f"cannot tell the export format from {Path(path).name!r}; name it .npy, .tsv/.csv or .txt/.vec, or pass format=")


@contextmanager
def _text_out(path: Path):
    with atomic_write(path, "wb") as raw:
        gz = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if path.name.endswith(".gz") else None
        fh = io.TextIOWrapper(gz if gz is not None else raw, encoding="utf-8", newline="\n")
        yield fh
        fh.flush()
        fh.detach()  # atomic_write closes (and fsyncs) the file itself
        if gz is not None:
            gz.close()  # writes the gzip trailer; leaves raw open


def _write_rows(fh: IO[str], names: Sequence[str], matrix: np.ndarray, sep: str) -> None:
    for name, row in zip(names, matrix, strict=True):
        fh.write(name + sep + sep.join(f"{v:.9g}" for v in row) + "\n")  # 9 digits: float32 reads back exactly


def export(
    emb: GeneEmbeddings,
    path: str | Path,
    *,
    format: str | None = None,
    genes: Iterable[str] | None = None,
    missing: Literal["zero", "drop"] = "zero",
    species: str = "auto",
    resolver: Any = None,
) -> ExportResult:
    """Write gene embeddings for a downstream model, optionally aligned to a gene order.

    Parameters
    ----------
    emb
        Gene embeddings.
    path
        Output file (``.npy``, ``.tsv``/``.csv``, ``.txt``/``.vec``; ``.gz`` for text formats).
    format
        ``"npy"``, ``"tsv"`` or ``"word2vec"``; default guessed from ``path``.
    genes
        Target gene order (see :func:`align`). Default: every gene of ``emb`` in its order.
    missing
        ``"zero"``: genes without an embedding get a zero row (and ``False`` in ``OUT.mask.npy``);
        ``"drop"``: they are left out.
    species, resolver
        For matching ``genes`` (see :meth:`GeneEmbeddings.locate`).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from genept.embeddings import GeneEmbeddings
    >>> from genept.embeddings.export import export
    >>> emb = GeneEmbeddings(["CD3E", "INS"], np.array([[1, 0], [0, 1]], dtype=np.float32))
    >>> out = export(emb, tempfile.mkdtemp() + "/genes.npy", genes=["INS", "GCG"], species="human")
    >>> [p.name for p in out.paths], out.missing
    (['genes.npy', 'genes.genes.txt', 'genes.mask.npy'], ['GCG'])
    """
    path = Path(path)
    fmt = format or guess_export_format(path)
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if missing not in ("zero", "drop"):
        raise ValueError(f"missing must be 'zero' or 'drop', not {missing!r}")
    if genes is None:
        names, matrix, mask = list(emb.genes), emb.vectors, np.ones(len(emb), dtype=bool)
        aligned = False
    else:
        names = [str(g) for g in genes]
        matrix, mask = align(emb, names, species=species, resolver=resolver)
        aligned = True
    absent = [n for n, m in zip(names, mask, strict=True) if not m]
    if missing == "drop" and absent:
        names = [n for n, m in zip(names, mask, strict=True) if m]
        matrix, mask = matrix[mask], mask[mask]
    if aligned and not mask.any():
        raise ValueError(
            f"none of the {len(mask):,} genes has an embedding (e.g. {absent[:5]}); check the gene list and the species "
            "(`genept genes resolve`)"
        )
    if fmt in ("tsv", "word2vec"):
        bad = [n for n in names if not n or any(c.isspace() for c in n) or (fmt == "tsv" and "," in n and ".csv" in path.name)]
        if bad:
            raise ValueError(f"gene names with whitespace (or commas in CSV) cannot be written as {fmt}: {bad[:5]}; use npy")
    paths = [path]
    if fmt == "npy":
        stem = path.name.removesuffix(".npy")
        with atomic_write(path) as fh:
            np.save(fh, np.ascontiguousarray(matrix, dtype=np.float32))
        names_path = path.with_name(stem + ".genes.txt")
        with atomic_write(names_path, "w") as fh:
            fh.write("".join(n + "\n" for n in names))
        paths.append(names_path)
        if aligned:
            mask_path = path.with_name(stem + ".mask.npy")
            with atomic_write(mask_path) as fh:
                np.save(fh, mask)
            paths.append(mask_path)
    elif fmt == "tsv":
        sep = "," if path.name.lower().removesuffix(".gz").endswith(".csv") else "\t"
        with _text_out(path) as fh:
            fh.write(sep.join(["gene", *(f"d{i}" for i in range(matrix.shape[1]))]) + "\n")
            _write_rows(fh, names, matrix, sep)
    else:
        with _text_out(path) as fh:
            fh.write(f"{len(names)} {matrix.shape[1]}\n")
            _write_rows(fh, names, matrix, " ")
    return ExportResult(fmt, paths, len(names), int(matrix.shape[1]), absent, missing)


__all__ = ["EXPORT_FORMATS", "ExportResult", "align", "export", "guess_export_format"]
