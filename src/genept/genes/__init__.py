"""Genes: everything genept knows about a gene before any model sees it.

- :mod:`~genept.genes.ids`: identifiers (symbols, aliases, Ensembl, Entrez, mouse genes) to
  canonical HGNC symbols (:class:`GeneResolver`, :func:`coverage_report`);
- :mod:`~genept.genes.facts`: :class:`GeneFacts`, what one source knows about one gene;
- :mod:`~genept.genes.ontology`: the one Gene Ontology reader;
- :mod:`~genept.genes.sources`: text sources (files, NCBI, GO, the bundled HGNC table);
- :mod:`~genept.genes.corpus`: one text per gene with provenance (:class:`GeneCorpus`,
  :func:`build_corpus`, :class:`TextTemplate`).

Names are imported on first use, so ``import genept.genes`` loads no table.

Examples
--------
>>> import genept.genes
>>> genept.genes.GeneResolver.default().to_symbols(["cd3e", "ENSG00000254647"])
['CD3E', 'INS']
>>> genept.genes.GeneFacts("INS", full_name="insulin").full_name
'insulin'
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "GeneResolver": "genept.genes.ids",
    "coverage_report": "genept.genes.ids",
    "GeneFacts": "genept.genes.facts",
    "GeneCorpus": "genept.genes.corpus",
    "TextTemplate": "genept.genes.corpus",
    "build_corpus": "genept.genes.corpus",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'genept.genes' has no attribute {name!r}")
