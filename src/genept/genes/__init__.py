"""Genes: identifiers to canonical HGNC symbols (:mod:`.ids`), gene texts (:mod:`.corpus`) and
the sources those texts come from (:mod:`.sources`)."""

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
