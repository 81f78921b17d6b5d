"""Evaluation of gene and cell embeddings against baselines, and the benchmark report.

- :mod:`~genept.evaluation.genes`: gene-level tasks (functional classes, binary properties,
  gene-gene interactions, GO terms) and :func:`evaluate_genes`.
- :mod:`~genept.evaluation.cells`: cell-level tasks (kNN annotation, k-means, Leiden, silhouette,
  batch mixing, scib-metrics) and :func:`evaluate_cells`.
- :mod:`~genept.evaluation.paper`: the GenePT paper's cell protocol, as pure functions;
  :mod:`~genept.evaluation.published`: the paper's published numbers, as data.
- :mod:`~genept.evaluation.baselines`: random gene vectors, raw-expression PCA, GenePT cell
  embeddings through :func:`genept.cells.embed`.
- :mod:`~genept.evaluation.metrics`: the metric functions no library provides.
- :mod:`~genept.evaluation.report`: ``report.md``, ``report.html`` and ``results.json``.

Names are imported on first use, so ``import genept.evaluation`` loads none of the tasks.

Examples
--------
>>> from genept.evaluation import evaluate_genes, cell_embeddings, evaluate_cells, write_report
>>> from genept.embeddings import GeneEmbeddings

A full run needs the task files and a labelled dataset, and takes minutes:

>>> # skipped: needs genes.npz, the gene task files in ../shared/data/genes and an AnnData `adata`
>>> genes = evaluate_genes({"minilm": GeneEmbeddings.load("genes.npz")}, "../shared/data/genes")  # doctest: +SKIP
>>> embs, info = cell_embeddings(adata, gene_embeddings={"minilm": "genes.npz"})  # doctest: +SKIP
>>> cells = evaluate_cells(embs, adata.obs["cell_type"], batch=adata.obs["donor"])  # doctest: +SKIP
>>> write_report("report", genes=genes, cells={"my data": {"results": cells, "embeddings": info}})  # doctest: +SKIP
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
