"""Gene embeddings: a gene index, a float32 matrix and the metadata that says how it was made.

- :mod:`genept.embeddings.core`: :class:`GeneEmbeddings` (save/load, locate genes) and
  :func:`embed_genes` (a gene text corpus through a text encoder).
- :mod:`genept.embeddings.importers`: :func:`import_embeddings`, gene embeddings made by other
  tools (Gene2vec, word2vec, scGPT, Geneformer, GenePT files, tables) keyed by HGNC symbol.
- :mod:`genept.embeddings.export`: :func:`align` to a model's own gene order, and
  ``genept.embeddings.export.export`` to write ``.npy``, TSV or word2vec files (not re-exported
  here: the name would hide the module).
- :mod:`genept.embeddings.postprocess`: centring, top-direction removal and whitening.

Examples
--------
>>> from genept.embeddings import GeneEmbeddings, align, import_embeddings
>>> emb = GeneEmbeddings.from_mapping({"CD3E": [1.0, 0.0], "INS": [0.0, 1.0]})
>>> matrix, mask = align(emb, ["INS", "MY_GENE", "cd3e"])
>>> matrix.tolist(), mask.tolist()
([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]], [True, False, True])

Gene2vec text, with an alias (``P53``) mapped to its HGNC symbol:

>>> from pathlib import Path
>>> _ = Path("g2v.txt").write_text("CD3E 0.1 0.2\\nP53 0.3 0.4\\n")
>>> imported, report = import_embeddings("g2v.txt", "gene2vec")
>>> imported.genes.tolist(), report.key_classes
(['CD3E', 'TP53'], {'symbol': 1, 'alias': 1})
"""

from genept.embeddings.core import GeneEmbeddings, embed_genes, load_gene_embeddings
from genept.embeddings.export import align
from genept.embeddings.importers import import_embeddings

__all__ = ["GeneEmbeddings", "align", "embed_genes", "import_embeddings", "load_gene_embeddings"]
