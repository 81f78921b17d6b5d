"""Scanpy-style tools: GenePT cell and gene embeddings written into an AnnData.

This package only re-exports; each tool lives in a private module of its own.
"""

from genept.ensembles import combine_embeddings
from genept.programs import gene_programs, score_programs
from genept.queries import search_cells, search_genes, zero_shot_annotate
from genept.tl._embed import add_gene_embeddings, embed_cells

__all__ = [
    "add_gene_embeddings",
    "combine_embeddings",
    "embed_cells",
    "gene_programs",
    "score_programs",
    "search_cells",
    "search_genes",
    "zero_shot_annotate",
]
