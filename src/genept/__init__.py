"""genept: gene and single-cell embeddings from written knowledge about genes.

GenePT (Chen & Zou, 2023) embeds each gene's text (NCBI/RefSeq summary, name, aliases) with a
text encoder; cells are embedded from their expression profile (GenePT-w) or from a sentence of
their top-expressed gene symbols (GenePT-s).

Everything is imported lazily, so ``import genept`` stays fast and imports no heavy dependency:
``genept.tl`` (or any subpackage: ``genes``, ``encoders``, ``embeddings``, ``cells``, ``text``,
``tl``, ``pl``, ``evaluation``, ``cli``) is imported on first use.

Examples
--------
>>> import genept
>>> genept.cells.validation.looks_like_counts([[0, 2], [1, 0]])
True
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

__version__ = "0.2.0"

#: Subpackages, in layer order (docs/architecture.md); each is imported on first attribute access.
SUBPACKAGES: tuple[str, ...] = ("genes", "encoders", "embeddings", "cells", "text", "tl", "pl", "evaluation", "cli")

_LAZY = {
    "GeneResolver": "genept.genes.ids",
    "GeneCorpus": "genept.genes.corpus",
    "build_corpus": "genept.genes.corpus",
    "GeneEmbeddings": "genept.embeddings",
    "embed_genes": "genept.embeddings",
    "get_encoder": "genept.encoders",
}

__all__ = ["__version__", *SUBPACKAGES, *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    # Any public submodule: the subpackages above, and modules such as genept.demo.
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'genept' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
