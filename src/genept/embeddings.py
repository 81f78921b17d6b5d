"""Gene embeddings: a gene index, a float32 matrix and the metadata that says how it was made.

File format (``.npz``, no pickles, written atomically): arrays ``genes`` (unicode), ``vectors``
(float32, ``n_genes x dim``) and ``meta`` (a JSON string: encoder identity, corpus hash, text
template, date, encode statistics, list of composed-text genes).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genept._utils import atomic_write

FORMAT = "genept.gene_embeddings"
FORMAT_VERSION = 1


class GeneEmbeddings:
    """A matrix of gene vectors indexed by HGNC symbol.

    Parameters
    ----------
    genes
        Gene keys (HGNC symbols for embeddings genept builds; any strings for imported tables).
    vectors
        ``(len(genes), dim)`` array; stored as float32.
    meta
        Provenance: ``encoder``, ``corpus_hash``, ``template``, ``created``, ...

    Examples
    --------
    >>> from genept import GeneEmbeddings
    >>> emb = GeneEmbeddings.load("genes.npz")
    >>> emb["CD3E"].shape
    (384,)
    >>> matrix, found = emb.reindex(adata.var_names)
    """

    def __init__(self, genes: Sequence[str], vectors: np.ndarray, meta: Mapping[str, Any] | None = None) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        genes = [str(g) for g in genes]
        if vectors.ndim != 2 or vectors.shape[0] != len(genes):
            raise ValueError(f"vectors must be (n_genes, dim) = ({len(genes)}, d), got {vectors.shape}")
        if not np.isfinite(vectors).all():
            bad = [genes[i] for i in np.flatnonzero(~np.isfinite(vectors).all(axis=1))[:5]]
            raise ValueError(f"gene embeddings contain NaN or inf (e.g. {bad}); fix or drop those genes.")
        index = pd.Index(genes)
        if index.has_duplicates:
            raise ValueError(f"duplicate genes in embeddings, e.g. {index[index.duplicated()][:5].tolist()}")
        self.genes = index
        self.vectors = vectors
        self.meta: dict[str, Any] = dict(meta or {})
        self.meta.setdefault("created", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))

    def __len__(self) -> int:
        return len(self.genes)

    def __contains__(self, gene: object) -> bool:
        return gene in self.genes

    def __getitem__(self, gene: str) -> np.ndarray:
        return self.vectors[self.genes.get_loc(gene)]

    def __repr__(self) -> str:
        enc = self.meta.get("encoder", "unknown encoder")
        return f"GeneEmbeddings({len(self):,} genes x {self.dim}, {enc})"

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.vectors, index=self.genes)

    def subset(self, genes: Iterable[str]) -> GeneEmbeddings:
        idx = self.genes.get_indexer(list(genes))
        idx = idx[idx >= 0]
        return GeneEmbeddings(self.genes[idx], self.vectors[idx], self.meta)

    # -- lookup by any identifier ----------------------------------------------------------
    def reindex(
        self,
        ids: Iterable[str],
        *,
        resolver=None,
        species: str = "auto",
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows for ``ids`` (symbols, aliases, Ensembl, Entrez or mouse genes) in order.

        Identifiers that are keys of the embeddings match directly; the rest go through the
        gene resolver. Returns ``(matrix, found)`` where rows of genes without an embedding are
        zero and ``found`` is a boolean mask.
        """
        ids = [str(i) for i in ids]
        pos = self.genes.get_indexer(ids)
        missing = np.flatnonzero(pos < 0)
        if len(missing):
            from genept.genes.ids import GeneResolver

            resolver = resolver or GeneResolver.default()
            if species == "auto":
                species = resolver.guess_species(ids)
            symbols = resolver.to_symbols([ids[i] for i in missing], species=species)
            sym_pos = self.genes.get_indexer([s if s is not None else "\0" for s in symbols])
            pos[missing] = sym_pos
        found = pos >= 0
        matrix = np.zeros((len(ids), self.dim), dtype=np.float32)
        matrix[found] = self.vectors[pos[found]]
        return matrix, found

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``.npz`` (arrays ``genes``, ``vectors``, ``meta``), atomically."""
        path = Path(path)
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **self.meta}
        with atomic_write(path) as fh:
            np.savez(
                fh,
                genes=np.asarray(self.genes, dtype=str),
                vectors=self.vectors,
                meta=np.asarray(json.dumps(meta)),
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> GeneEmbeddings:
        """Read a file written by :meth:`save`."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                genes, vectors, meta = data["genes"], data["vectors"], json.loads(str(data["meta"]))
        except (OSError, KeyError, ValueError) as err:
            raise ValueError(
                f"{path} is not a genept gene-embedding file ({err}). "
                "To import GenePT pickles or other tables use GeneEmbeddings.from_pickle / from_table."
            ) from err
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a genept gene-embedding file (format {meta.get('format')!r}).")
        return cls(genes.tolist(), vectors, meta)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Sequence[float]], meta: Mapping[str, Any] | None = None) -> GeneEmbeddings:
        """From a ``{gene: vector}`` mapping (all vectors the same length)."""
        if not mapping:
            raise ValueError("the gene -> vector mapping is empty")
        genes = list(mapping)
        dims = {len(v) for v in mapping.values()}
        if len(dims) != 1:
            raise ValueError(f"vectors have different lengths {sorted(dims)[:5]}; expected one dimension for all genes")
        return cls(genes, np.asarray([np.asarray(mapping[g], dtype=np.float32) for g in genes]), meta)
