"""``genept.tl.map_to_reference``: annotate a query AnnData from a labelled reference AnnData."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from genept.tl._store import expression, store


def map_to_reference(
    query: Any,
    reference: Any,
    *,
    label: str,
    gene_embeddings: Any = None,
    key_added: str = "genept_ref",
    layer: str | None = None,
    use_raw: bool = False,
    reference_layer: str | None = None,
    reference_use_raw: bool = False,
    query_species: str = "auto",
    reference_species: str = "auto",
    n_top_genes: int | None = 2000,
    n_comps: int = 50,
    k: int = 15,
    min_confidence: float = 0.5,
    distance_quantile: float = 0.99,
    min_marker: float = 0.4,
    center: str = "reference",
    scale: bool = False,
    unassigned: bool = True,
    embedding_key: str = "X_genept_scaled",
    copy: bool = False,
):
    """Annotate the cells of ``query`` with the labels of their nearest cells in ``reference``.

    Genes are matched by name or, across species, through human orthologs; only the shared genes
    are used, so a targeted panel is compared with the reference on its own genes. Raw counts and
    log-normalised values are both accepted (detected; the log is never taken twice). A
    GenePT map (principal axes of the centred log-expression, isometric into the gene-text space) is
    fitted on the reference's shared genes and both datasets are placed with
    it; ``k`` reference neighbours vote (distance-weighted). A cell is ``"unassigned"`` when no
    label has a majority of the votes, when it is far from the reference relative to the rest of
    the query (a cut calibrated on the reference itself), or when it does not express the marker
    genes of the label it would get (how a cell type the reference lacks is caught). See
    :mod:`genept.cells.mapping`.

    Parameters
    ----------
    query
        Cells to annotate (counts or log-normalised; see ``layer`` / ``use_raw``). Changed in place
        (nothing is written when an error is raised); the reference is never changed.
    reference
        Labelled cells (counts or log-normalised).
    label
        Column of ``reference.obs`` with the cell types (at least 2; missing values are not voters).
    gene_embeddings
        A :class:`~genept.GeneEmbeddings` or its path: the query embedding is then written in the
        gene-text space (so text queries work on it). Without it, ``obsm`` holds the principal-axis
        scores; the labels are the same either way.
    key_added
        Writes ``query.obs[key_added + "_label"]``, ``obs[key_added + "_confidence"]``,
        ``obs[key_added + "_reason"]`` (why a cell is unassigned: ``"uncertain"``, ``"far"``,
        ``"markers"``, ``"no_expression"``; empty when labelled),
        ``obsm["X_" + key_added]`` and ``uns[key_added]``: ``params``, the gene match, a summary,
        and ``labels``, a DataFrame with one row per label (query cells, median confidence,
        the marker genes of the check, comma-separated). A table, not a mapping, because a
        label such as ``"CD4+/CD25 T Reg"`` cannot be a key in an ``.h5ad`` file.
    layer, use_raw
        Which query matrix to read (as every ``tl`` tool).
    reference_layer, reference_use_raw
        Which reference matrix to read.
    query_species, reference_species
        ``"auto"``, ``"human"`` or ``"mouse"``.
    n_top_genes, n_comps
        Highly variable genes and principal axes of the map fitted on the reference.
    k, min_confidence, distance_quantile
        Voting neighbours; the vote share below which a cell is ``"unassigned"``; the quantile
        of the reference's own neighbour distances beyond which a cell is far.
    min_marker
        A cell whose evidence for its label's marker genes is below this is ``"unassigned"``
        (0 = like the other query cells, 1 = like the label's clearest cells; ``0`` turns the
        check off).
    center
        ``"reference"`` (default): the query is centred on the reference's gene means;
        ``"query"``: on its own, as ``scanpy.tl.ingest`` does (removes an offset between two
        studies' normalisations; assumes similar proportions of types). See
        :func:`genept.cells.mapping.map_arrays`.
    scale
        Scale each shared gene to unit variance before the principal axes (default ``False``:
        centred log-expression). Measured: better on random panels of a large gene set (Baron,
        +0.06 to +0.14 macro-F1), worse with all genes and on Kang's panels
        (``benchmarks/results/reference_mapping.md``).
    unassigned
        ``False`` keeps every vote's winner.
    embedding_key
        Where genept cell embeddings are stored in either object: if both carry a record
        (``uns[embedding_key]``) from different text encoders, or ``gene_embeddings`` come from
        another encoder than the reference's, the call stops (their spaces cannot be compared).
    copy
        Return an annotated copy instead of changing ``query``.

    Returns
    -------
    ``None`` (or the annotated copy).

    Examples
    --------
    >>> import anndata as ad, numpy as np, genept
    >>> rng = np.random.default_rng(0)
    >>> lam = [np.r_[np.full(20, 6.0), np.ones(20)], np.r_[np.ones(20), np.full(20, 6.0)]]
    >>> ref = ad.AnnData(np.vstack([rng.poisson(l, (50, 40)) for l in lam]).astype(np.float32))
    >>> ref.var_names = [f"G{i}" for i in range(40)]
    >>> ref.obs["cell_type"] = ["a"] * 50 + ["b"] * 50
    >>> query = ad.AnnData(rng.poisson(lam[1], (6, 40))[:, :30].astype(np.float32))   # a 30-gene panel
    >>> query.var_names = [f"G{i}" for i in range(30)]
    >>> genept.tl.map_to_reference(query, ref, label="cell_type", n_comps=5, k=5)
    >>> query.obs["genept_ref_label"].tolist()
    ['b', 'b', 'b', 'b', 'b', 'b']
    >>> query.uns["genept_ref"]["genes"]["n_shared_genes"]
    30
    """
    from genept.cells.mapping import map_arrays
    from genept.cells.validation import check_adata
    from genept.tl._cells import copy_adata

    check_adata(query, what="query")
    check_adata(reference, what="reference")
    if label not in reference.obs:
        cols = [c for c in reference.obs.columns if not np.issubdtype(np.asarray(reference.obs[c]).dtype, np.number)]
        raise KeyError(f"reference.obs has no column {label!r}; label columns it has: {cols or list(reference.obs.columns)}")
    encoders = _encoders(query, reference, gene_embeddings, embedding_key)
    if copy:
        query = copy_adata(query)
    Xq, q_names, q_where = expression(query, layer=layer, use_raw=use_raw)
    Xr, r_names, r_where = expression(reference, layer=reference_layer, use_raw=reference_use_raw)
    out, Y, ref, match = map_arrays(
        Xq, list(q_names), Xr, list(r_names), reference.obs[label].to_numpy(), gene_embeddings,
        query_species=query_species, reference_species=reference_species, n_top_genes=n_top_genes,
        n_comps=n_comps, k=k, min_confidence=min_confidence, distance_quantile=distance_quantile, min_marker=min_marker,
        center=center, scale=scale, unassigned=unassigned,
    )  # fmt: skip
    import pandas as pd

    cats = [*ref.classes, *(["unassigned"] if (out.labels == "unassigned").any() else [])]
    query.obs[f"{key_added}_label"] = pd.Categorical(out.labels, categories=cats)
    query.obs[f"{key_added}_confidence"] = out.confidence
    query.obs[f"{key_added}_reason"] = pd.Categorical(out.reason)
    query.obsm[f"X_{key_added}"] = Y
    params = {
        "label": label, "layer": layer, "use_raw": use_raw, "reference_layer": reference_layer,
        "reference_use_raw": reference_use_raw, "query_species": query_species, "reference_species": reference_species,
        "n_top_genes": n_top_genes, "n_comps": n_comps, "k": k, "min_confidence": min_confidence,
        "distance_quantile": distance_quantile, "min_marker": min_marker, "center": center, "scale": scale, "unassigned": unassigned,
    }  # fmt: skip
    store(
        query, key_added, params,
        genes=match.to_dict(),
        expression={"query": f"{q_where} ({out.params['query_kind']})", "reference": f"{r_where} ({ref.params['reference_kind']})"},
        reference={"n_cells": int(len(ref.labels)), "classes": ref.classes, "loo_accuracy": round(ref.loo_accuracy, 4),
                   "distance_cut": round(ref.distance_cut, 4), "n_hvg": int(len(ref.projection.genes)), "n_comps": ref.projection.n_comps},
        summary={k: v for k, v in out.summary().items() if k != "counts"},
        labels=_label_table(out, ref, match),
        embedding={"obsm": f"X_{key_added}", "space": "gene-text (GenePT map of the reference)" if gene_embeddings is not None
                   else "principal-axis scores of the reference (pass gene_embeddings for gene-text coordinates)",
                   "encoder": encoders.get("used", "")},
    )  # fmt: skip
    return query if copy else None


def _label_table(out: Any, ref: Any, match: Any):
    """One row per label (the reference's, then ``unassigned``): query cells, median confidence, markers."""
    import pandas as pd

    names = [*ref.classes, "unassigned"]
    markers = ref.markers.to_dict(match.names) if ref.markers is not None else {}
    conf = pd.Series(out.confidence).groupby(out.labels).median()
    return pd.DataFrame(
        {
            "n_cells": [int((out.labels == n).sum()) for n in names],
            "median_confidence": [float(conf.get(n, np.nan)) for n in names],
            "markers": [", ".join(markers.get(n, [])) for n in names],
        },
        index=pd.Index(names, name="label"),
    )


def _encoders(query: Any, reference: Any, gene_embeddings: Any, key: str) -> dict[str, str]:
    """The text encoders behind each side; an error when two of them differ."""
    found: dict[str, str] = {}
    for name, adata in (("query", query), ("reference", reference)):
        entry = adata.uns.get(key) if isinstance(getattr(adata, "uns", None), Mapping) else None
        if isinstance(entry, Mapping) and isinstance(entry.get("gene_embeddings"), Mapping):
            enc = str(entry["gene_embeddings"].get("encoder", ""))
            if enc and enc != "unknown":
                found[name] = enc
    if gene_embeddings is not None:
        from genept.embeddings import load_gene_embeddings

        enc = str(load_gene_embeddings(gene_embeddings).meta.get("encoder", ""))
        if enc and enc != "unknown":
            found["gene_embeddings"] = enc
    if len(set(found.values())) > 1:
        said = "; ".join(f"{k}: {v}" for k, v in found.items())
        raise ValueError(
            f"the reference and the query were embedded with different text encoders ({said}, under uns[{key!r}]), "
            "so their GenePT spaces cannot be compared. Embed both with the same gene embeddings (genept.tl.genept_scaled) "
            "and pass those as gene_embeddings=, or delete the stale uns entry."
        )
    if found:
        found["used"] = next(iter(found.values()))
    return found


__all__ = ["map_to_reference"]
