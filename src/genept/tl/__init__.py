"""Scanpy-style tools: GenePT cell and gene embeddings written into an AnnData.

This package only re-exports; each tool lives in a private module of its own.
"""

from genept.tl._embed import embed_cells
from genept.tl._ensembles import combine_embeddings
from genept.tl._gene_embeddings import add_gene_embeddings
from genept.tl._genept_s import genept_s
from genept.tl._genept_scaled import genept_scaled
from genept.tl._genept_w import genept_w
from genept.tl._map import map_to_reference
from genept.tl._programs import gene_programs, score_programs
from genept.tl._queries import label_gene_sets, search_cells, search_genes, zero_shot_annotate
from genept.tl._umap import umap

__all__ = [
    "add_gene_embeddings",
    "combine_embeddings",
    "embed_cells",
    "gene_programs",
    "label_gene_sets",
    "map_to_reference",
    "genept_s",
    "genept_scaled",
    "genept_w",
    "score_programs",
    "search_cells",
    "search_genes",
    "umap",
    "zero_shot_annotate",
]
