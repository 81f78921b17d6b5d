"""Evaluation of gene and cell embeddings against baselines, and the benchmark report.

- :mod:`~genept.evaluation.genes`: gene-level tasks (functional classes, binary properties,
  gene-gene interactions, GO terms) and :func:`evaluate_genes`.
- :mod:`~genept.evaluation.cells`: cell-level tasks (kNN annotation, k-means, Leiden, silhouette,
  batch mixing, scib-metrics) and :func:`evaluate_cells`.
- :mod:`~genept.evaluation.baselines`: random gene vectors, raw-expression PCA, GenePT-w.
- :mod:`~genept.evaluation.metrics`: the metric functions no library provides.
- :mod:`~genept.evaluation.report`: ``report.md`` and ``results.json``.

Examples
--------
>>> from genept.evaluation import evaluate_genes, cell_embeddings, evaluate_cells, write_report
>>> genes = evaluate_genes({"minilm": GeneEmbeddings.load("genes.npz")}, "../shared/data/genes")
>>> embs, info = cell_embeddings(adata, gene_embeddings={"minilm": "genes.npz"})
>>> cells = evaluate_cells(embs, adata.obs["cell_type"], batch=adata.obs["donor"])
>>> write_report("report", genes=genes, cells={"my data": {"results": cells, "embeddings": info}})
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "evaluate_genes": "genept.evaluation.genes",
    "read_label_file": "genept.evaluation.genes",
    "cell_embeddings": "genept.evaluation.cells",
    "evaluate_cells": "genept.evaluation.cells",
    "write_report": "genept.evaluation.report",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'genept.evaluation' has no attribute {name!r}")
