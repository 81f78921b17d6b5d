"""``genept.tl.add_gene_embeddings``: gene embeddings aligned with ``var_names`` into ``varm``."""

from __future__ import annotations

from typing import Any

from genept.tl._cells import copy_adata
from genept.tl._store import store


def add_gene_embeddings(
    adata: Any,
    gene_embeddings: Any,
    *,
    key_added: str = "X_genept",
    species: str = "auto",
    copy: bool = False,
):
    """Attach gene embeddings to ``adata.varm[key_added]``, aligned with ``var_names``.

    Genes without an embedding get a zero row; ``adata.var[key_added + "_embedded"]`` marks
    which have one. The provenance goes to ``adata.uns[key_added]``.

    Parameters
    ----------
    adata
        Cells x genes.
    gene_embeddings
        A :class:`~genept.GeneEmbeddings` or its path.
    key_added
        ``varm`` / ``uns`` key, and the prefix of the ``var`` column.
    species
        ``"auto"``, ``"human"`` or ``"mouse"``: how gene names are matched.
    copy
        Return a modified copy.

    Examples
    --------
    >>> import anndata as ad, numpy as np, genept
    >>> genes = genept.GeneEmbeddings(["CD3E", "CD19"], np.eye(2, dtype=np.float32))
    >>> adata = ad.AnnData(np.ones((1, 3), dtype=np.float32))
    >>> adata.var_names = ["CD3E", "CD19", "NOT_A_GENE"]
    >>> genept.tl.add_gene_embeddings(adata, genes)
    >>> adata.varm["X_genept"].shape, adata.var["X_genept_embedded"].tolist()
    ((3, 2), [True, True, False])
    """
    from genept.cells.record import gene_embedding_info
    from genept.cells.validation import check_adata, check_gene_overlap, check_var_names
    from genept.embeddings import load_gene_embeddings

    check_adata(adata)
    if copy:
        adata = copy_adata(adata)
    emb = load_gene_embeddings(gene_embeddings)
    if adata.n_vars == 0:
        raise ValueError("adata has no genes; nothing to attach embeddings to")
    check_var_names(adata.var_names, where="adata.var_names")
    matrix, found = emb.reindex(adata.var_names, species=species)
    check_gene_overlap(found, adata.var_names, emb.genes, where="adata.var_names")
    adata.varm[key_added] = matrix
    adata.var[f"{key_added}_embedded"] = found
    store(
        adata,
        key_added,
        {"species": species},
        gene_embeddings=gene_embedding_info(emb),
        coverage={"n_genes": int(adata.n_vars), "n_genes_embedded": int(found.sum())},
    )
    return adata if copy else None
