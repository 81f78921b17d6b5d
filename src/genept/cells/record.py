"""The provenance record of one cell embedding: what was run, on what, and what it covered.

Every cell-embedding engine (:func:`genept.cells.embed`) returns a :class:`CellEmbeddingRecord`;
:mod:`genept.tl` stores it in ``adata.uns[key_added]`` with :meth:`CellEmbeddingRecord.to_uns`
and reads it back with :meth:`CellEmbeddingRecord.from_uns`. One typed record replaces the
per-method nested dicts of genept 0.1, so readers (text queries, the CLI, evaluation) never
parse by shape.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from genept._serialize import h5ad_safe

METHODS = {"scaled": "GenePT-scaled", "w": "GenePT-w", "s": "GenePT-s"}


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def gene_embedding_info(emb: Any) -> dict[str, Any]:
    """The identity of a :class:`~genept.GeneEmbeddings` as recorded with every cell embedding.

    Examples
    --------
    >>> import numpy as np
    >>> from genept import GeneEmbeddings
    >>> emb = GeneEmbeddings(["CD3E", "CD19"], np.eye(2, dtype=np.float32), {"encoder": "demo"})
    >>> gene_embedding_info(emb)["encoder"], gene_embedding_info(emb)["n_genes"]
    ('demo', 2)
    """
    meta = emb.meta
    return {
        "encoder": str(meta.get("encoder", "unknown")),
        "encoder_spec": str(meta.get("encoder_spec", "")),
        "corpus_hash": str(meta.get("corpus_hash", "")),
        "template": str(meta.get("template", "")),
        "n_genes": int(len(emb)),
        "dim": int(emb.dim),
        "created": str(meta.get("created", "")),
    }


@dataclass
class CellEmbeddingRecord:
    """How one cell embedding was made.

    Attributes
    ----------
    method
        ``"GenePT-scaled"``, ``"GenePT-w"`` or ``"GenePT-s"``.
    params
        The method's parameters as run (plus ``layer``/``use_raw``/``species`` when run from
        :mod:`genept.tl`).
    coverage
        Cells, genes matched, expression or variance lost, empty cells, ... (method specific keys).
    gene_embeddings
        Identity of the gene embeddings used (:func:`gene_embedding_info`); empty for GenePT-s.
    encoder
        Identity of the text encoder (GenePT-s), with cache path and encode statistics.
    truncation
        GenePT-s: how many genes of each sentence the encoder read.
    seconds, cells_per_second
        Wall time of the run.
    created, genept_version
        When and by which genept version.

    Examples
    --------
    >>> rec = CellEmbeddingRecord("GenePT-w", {"transform": "counts"}, {"n_cells": 3, "n_genes": 5})
    >>> CellEmbeddingRecord.from_uns(rec.to_uns()) == rec
    True
    >>> print(rec)
    GenePT-w: 3 cells in 0.0 s
    """

    method: str
    params: dict[str, Any] = field(default_factory=dict)
    coverage: dict[str, Any] = field(default_factory=dict)
    gene_embeddings: dict[str, Any] = field(default_factory=dict)
    encoder: dict[str, Any] = field(default_factory=dict)
    truncation: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    cells_per_second: float = 0.0
    created: str = field(default_factory=_now)
    genept_version: str = ""

    def __post_init__(self) -> None:
        if not self.genept_version:
            from genept import __version__

            self.genept_version = __version__

    @property
    def encoder_identity(self) -> str:
        """The text encoder whose space the cells live in (what text queries must use)."""
        if self.encoder.get("identity"):
            return str(self.encoder["identity"])
        return str(self.gene_embeddings.get("encoder", ""))

    def to_uns(self) -> dict[str, Any]:
        """A dict for ``adata.uns`` (``write_h5ad``-safe)."""
        return h5ad_safe({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_uns(cls, value: Mapping[str, Any]) -> CellEmbeddingRecord:
        """Read a record written by :meth:`to_uns` (also genept 0.1's dicts, which have the same keys)."""
        if not isinstance(value, Mapping) or "method" not in value:
            raise ValueError("not a genept cell-embedding record (no 'method' key)")
        known = {f.name for f in fields(cls)}
        kw = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in value.items() if k in known}
        for key in ("seconds", "cells_per_second"):
            if key in kw:
                kw[key] = float(kw[key])
        return cls(**kw)

    def __str__(self) -> str:
        cov = self.coverage
        lines = [f"{self.method}: {int(cov.get('n_cells', 0)):,} cells in {self.seconds:.1f} s"]
        emb = self.gene_embeddings
        if emb:
            lines.append(f"  gene embeddings: {int(emb.get('n_genes', 0)):,} genes x {emb.get('dim', 0)} ({emb.get('encoder', '?')})")
        if self.method == "GenePT-scaled" and "n_hvg" in cov:
            lines.append(
                f"  highly variable genes: {int(cov['n_hvg']):,}, {int(cov['n_hvg_embedded']):,} with an embedding "
                f"({100 * float(cov['fraction_variance_embedded']):.1f}% of the variance along {cov['n_comps']} principal axes)"
            )
            if cov.get("n_genes_imputed"):
                lines.append(f"  {int(cov['n_genes_imputed']):,} genes of the stored map are not measured here (taken at their mean)")
        elif self.method == "GenePT-w" and "n_genes_embedded" in cov:
            lines.append(
                f"  genes matched: {int(cov['n_genes_embedded']):,} / {int(cov['n_genes']):,}; the {int(cov['n_genes_missing']):,} "
                f"unmatched carry {100 * float(cov['fraction_expression_lost']):.2f}% of the expression"
            )
        elif self.method == "GenePT-s" and self.encoder:
            enc, tr = self.encoder, self.truncation
            lines.append(f"  encoder: {enc.get('identity', '?')}")
            n_cached = enc.get("encode_stats", {}).get("n_cached", 0)
            lines.append(f"  sentences: {int(cov.get('n_distinct_sentences', 0)):,} distinct; {int(n_cached):,} from the cache")
            if "fraction_genes_read" in cov:
                how = "exact static sum" if cov.get("path") == "static_sum" else f"windows={self.params.get('windows', '?')}"
                lines.append(
                    f"  genes read: {100 * float(cov['fraction_genes_read']):.1f}% of {int(cov.get('genes_in_sentences', 0)):,} "
                    f"sentence genes ({how}; {float(cov.get('windows_per_cell_mean', 1)):.2f} texts per cell)"
                )
            if tr.get("method") == "no_limit":
                lines.append(f"  the encoder reads whole sentences (median {tr.get('genes_in_sentence_median', 0):g} genes)")
            elif tr and int(tr.get("n_cells_truncated", 0)):
                how = "counted with its tokenizer" if tr.get("method") == "tokenizer" else "estimated"
                lines.append(
                    f"  the encoder reads {tr.get('max_tokens')} tokens: the first {tr.get('genes_seen_median', 0):g} genes "
                    f"(median; {how}) of {tr.get('genes_in_sentence_median', 0):g}; "
                    f"{int(tr.get('n_cells_truncated', 0)):,} sentences truncated"
                )
        if cov.get("n_empty_cells"):
            lines.append(f"  {int(cov['n_empty_cells']):,} cells have nothing to embed and got all-zero rows")
        return "\n".join(lines)


__all__ = ["METHODS", "CellEmbeddingRecord", "gene_embedding_info"]
