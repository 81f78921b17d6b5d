"""Cell embeddings from gene knowledge.

- :mod:`genept.cells.scaled`: GenePT-scaled (the default of :func:`genept.tl.embed_cells`), scaled
  expression of highly variable genes placed isometrically in the gene-text space.
- :mod:`genept.cells.weighted`: GenePT-w, the expression-weighted average of gene embeddings
  (in memory, backed ``.h5ad`` in row chunks, dask).
- :mod:`genept.cells.sentences`: GenePT-s, the text embedding of each cell's ranked gene symbols.
- :mod:`genept.cells.blocks`: reading any AnnData matrix block by block.
- :mod:`genept.cells.validation`: input checks shared by both methods.

Most users call :func:`genept.tl.embed_cells`, which writes the result into an AnnData.
"""

from genept.cells.scaled import embed_scaled, fit_scaled
from genept.cells.sentences import cell_sentences
from genept.cells.weighted import embed_weighted, weighted_embedding

__all__ = ["cell_sentences", "embed_scaled", "embed_weighted", "fit_scaled", "weighted_embedding"]
