"""Gene embeddings: a gene index, a float32 matrix and the metadata that says how it was made.

- :mod:`genept.embeddings.core`: :class:`GeneEmbeddings` (save/load, locate genes) and
  :func:`embed_genes` (a gene text corpus through a text encoder).
"""

from genept.embeddings.core import GeneEmbeddings, embed_genes, load_gene_embeddings

__all__ = ["GeneEmbeddings", "embed_genes", "load_gene_embeddings"]
