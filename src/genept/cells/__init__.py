"""Cell embeddings from gene knowledge, on arrays (no AnnData needed).

- :mod:`genept.cells.embed`: one entry, :func:`embed` (matrix + gene ids + gene embeddings ->
  ``(embedding, record)``), and one function per method: :func:`genept_scaled`,
  :func:`genept_w`, :func:`genept_s`.
- :mod:`genept.cells.record`: :class:`CellEmbeddingRecord`, the typed provenance of a run.
- :mod:`genept.cells.scaled`: GenePT-scaled (the default), and its fitted map
  :class:`ScaledProjection` (save / load / apply to other cells).
- :mod:`genept.cells.weighted`: GenePT-w kernels (in memory, backed ``.h5ad`` in row chunks, dask).
- :mod:`genept.cells.sentences`: GenePT-s sentences and their encoding.
- :mod:`genept.cells.mapping`: reference mapping (label transfer from a labelled reference).
- :mod:`genept.cells.layout`: 2-d layouts (UMAP coordinates) of a cell embedding.
- :mod:`genept.cells.blocks`, :mod:`genept.cells.validation`: block readers and input checks.

:mod:`genept.tl` stores these results in an AnnData.

Examples
--------
>>> from genept import cells
>>> from genept.embeddings import GeneEmbeddings
>>> genes = GeneEmbeddings.from_mapping({"CD3E": [1.0, 0.0], "MS4A1": [0.0, 1.0]})
>>> X = np.array([[3.0, 0.0, 1.0], [0.0, 2.0, 5.0]])  # 2 cells x 3 genes, one without an embedding
>>> Y, record = cells.embed(X, ["CD3E", "MS4A1", "MY_GENE"], genes, method="w")
>>> Y.round(3).tolist(), record.method
([[1.0, 0.0], [0.0, 1.0]], 'GenePT-w')
"""

from genept.cells.embed import embed, fit_genept_scaled, genept_s, genept_scaled, genept_w
from genept.cells.record import CellEmbeddingRecord
from genept.cells.scaled import ScaledProjection, embed_scaled, fit_scaled
from genept.cells.sentences import cell_sentences
from genept.cells.weighted import embed_weighted, weighted_embedding

__all__ = [
    "CellEmbeddingRecord",
    "ScaledProjection",
    "cell_sentences",
    "embed",
    "embed_scaled",
    "embed_weighted",
    "fit_genept_scaled",
    "fit_scaled",
    "genept_s",
    "genept_scaled",
    "genept_w",
    "weighted_embedding",
]
