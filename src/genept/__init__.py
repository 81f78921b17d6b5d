"""genept: gene and single-cell embeddings from written knowledge about genes.

GenePT (Chen & Zou, 2023) embeds each gene's text (NCBI/RefSeq summary, name, aliases) with a
text encoder; cells are embedded from their expression profile (GenePT-w) or from a sentence of
their top-expressed gene symbols (GenePT-s).

Heavy modules are imported lazily so that ``import genept`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "GeneResolver": "genept.genes.ids",
    "GeneCorpus": "genept.genes.corpus",
    "build_corpus": "genept.genes.corpus",
    "GeneEmbeddings": "genept.embeddings",
    "embed_genes": "genept.embeddings",
    "get_encoder": "genept.encoders",
    "tl": "genept.tl",
    "pl": "genept.pl",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return module if module.__name__.endswith(name) else getattr(module, name)
    raise AttributeError(f"module 'genept' has no attribute {name!r}")
