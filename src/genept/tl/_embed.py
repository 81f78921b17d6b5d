"""``genept.tl.embed_cells``: one entry that dispatches to the three cell-embedding tools."""

from __future__ import annotations

from typing import Any, Literal

from genept.cells.record import METHODS


def embed_cells(
    adata: Any,
    gene_embeddings: Any = None,
    *,
    method: Literal["scaled", "w", "s"] = "scaled",
    key_added: str | None = None,
    copy: bool = False,
    **params: Any,
):
    """Embed every cell with GenePT-scaled (default), GenePT-w or GenePT-s.

    A thin dispatcher: ``method="scaled"`` calls :func:`genept.tl.genept_scaled`, ``"w"``
    :func:`genept.tl.genept_w` and ``"s"`` :func:`genept.tl.genept_s`; ``params`` are that
    tool's own parameters (``layer``, ``use_raw``, ``species``, ``transform``, ``encoder``, ...),
    and a parameter of another method is an error that names its method.

    Parameters
    ----------
    adata
        Cells x genes.
    gene_embeddings
        GenePT-scaled and GenePT-w: a :class:`~genept.GeneEmbeddings` or its path. GenePT-s
        takes ``encoder=`` instead.
    method
        ``"scaled"``, ``"w"`` or ``"s"``.
    key_added
        ``obsm``/``uns`` key; default ``"X_genept_<method>"``.
    copy
        Return a modified copy.
    **params
        Parameters of the chosen tool.

    Examples
    --------
    >>> import anndata as ad, numpy as np, genept
    >>> genes = genept.GeneEmbeddings(["CD3E", "CD19"], np.eye(2, dtype=np.float32))
    >>> adata = ad.AnnData(np.array([[3.0, 4.0], [0.0, 1.0]], dtype=np.float32))
    >>> adata.var_names = ["CD3E", "CD19"]
    >>> genept.tl.embed_cells(adata, genes, method="w")
    >>> sorted(adata.obsm)
    ['X_genept_w']
    >>> genept.tl.embed_cells(adata, genes, method="w", n_comps=5)
    Traceback (most recent call last):
    ...
    TypeError: genept_w() does not take n_comps (n_comps is a parameter of method='scaled')
    """
    from genept.cells.embed import check_method_parameters
    from genept.cells.validation import check_adata
    from genept.tl._genept_s import genept_s
    from genept.tl._genept_scaled import genept_scaled
    from genept.tl._genept_w import genept_w

    check_adata(adata)
    if method not in METHODS:
        raise ValueError(f"method must be 'scaled' (GenePT-scaled), 'w' (GenePT-w) or 's' (GenePT-s), not {method!r}")
    tools = {"scaled": genept_scaled, "w": genept_w, "s": genept_s}
    tool = tools[method]
    check_method_parameters(params, tools, method, what=f"{tool.__name__}()")
    params = {k: v for k, v in params.items() if not (k == "transform" and v is None)}  # None: the method's default
    if key_added is not None:
        params["key_added"] = key_added
    if method == "s":
        if gene_embeddings is not None:
            raise TypeError("GenePT-s embeds sentences of gene symbols with a text encoder: pass encoder=, not gene embeddings")
        return tool(adata, copy=copy, **params)
    return tool(adata, gene_embeddings, copy=copy, **params)
