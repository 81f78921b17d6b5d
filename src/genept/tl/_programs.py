"""Gene programs on an AnnData: find them among its genes (:func:`gene_programs`), score them in its cells.

The engines are in :mod:`genept.text.programs` (kNN graph + Leiden, TF-IDF names),
:mod:`genept.text.enrichment` and :mod:`genept.text.scoring`; the heatmap is
:func:`genept.pl.program_heatmap`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from genept.tl._store import expression, store

if TYPE_CHECKING:
    from anndata import AnnData

    from genept.embeddings import GeneEmbeddings
    from genept.genes.corpus import GeneCorpus


def gene_programs(
    adata: AnnData,
    gene_embeddings: GeneEmbeddings | str,
    *,
    resolution: float = 1.0,
    n_neighbors: int = 15,
    genes: Sequence[str] | None = None,
    species: str = "auto",
    min_size: int = 5,
    corpus: GeneCorpus | Mapping[str, str] | None = None,
    annotations: Mapping[str, Collection[str]] | pd.DataFrame | None = None,
    term_names: Mapping[str, str] | None = None,
    n_terms: int = 5,
    key_added: str = "genept_programs",
    seed: int = 0,
    copy: bool = False,
) -> AnnData | None:
    """Group the AnnData's genes into programs: Leiden communities of their text embeddings.

    Each gene is linked to its ``n_neighbors - 1`` most similar genes (exact cosine similarity
    of the embeddings) and the graph is split with Leiden
    (:func:`genept.text.programs.find_programs`). Communities smaller than ``min_size`` are
    not programs; their genes stay unassigned. Programs are numbered ``P0, P1, ...`` by
    decreasing size.

    Parameters
    ----------
    adata
        Annotated data; only ``var_names`` (and ``var["highly_variable"]``) are read.
    gene_embeddings
        Gene embeddings (or the path of a saved file); ``var_names`` are matched by
        :meth:`GeneEmbeddings.locate`.
    resolution
        Leiden resolution: higher gives more, smaller programs.
    n_neighbors
        Neighbours per gene in the kNN graph (the gene itself included, as in scanpy).
    genes
        Genes to group (a subset of ``var_names``). Default: ``var["highly_variable"]`` when
        present, else every gene. Genes without an embedding are left out (logged).
    species
        ``"human"``, ``"mouse"`` or ``"auto"``: how ``var_names`` are matched to the embeddings
        (mouse genes through their human orthologs).
    min_size
        Smallest community kept as a program.
    corpus
        Gene texts (a :class:`~genept.genes.corpus.GeneCorpus` or ``{symbol: text}``) to name
        programs by their characteristic terms (:func:`genept.text.program_terms`).
    annotations
        Term -> genes (e.g. GO from :func:`genept.genes.ontology.read_go_sets`), or a long table
        with a gene and a term column, to test each program for enrichment
        (:func:`genept.text.program_enrichment`) against the grouped genes.
    term_names
        Term id -> readable name for the enrichment table.
    n_terms
        Terms kept per program name.
    key_added
        Where results go (see below).
    seed
        Random seed of Leiden.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy when ``copy=True``. Writes

    ``adata.var[key_added]``
        Categorical program id per gene (NaN: not grouped, no embedding or in a small community).
    ``adata.uns[key_added]``
        ``params``, ``programs`` (program id -> array of member ``var_names``), ``summary``
        (DataFrame: ``n_genes``, first ``genes``; with ``corpus`` the ``terms``; with
        ``annotations`` the ``top_term`` and its ``top_term_padj``, empty/NaN when no term has
        adjusted p < 0.05), ``enrichment`` (the enrichment table, with ``annotations``).

    Examples
    --------
    >>> import anndata as ad, numpy as np, genept
    >>> rng = np.random.default_rng(0)
    >>> vectors = np.repeat(np.eye(2, 8, dtype=np.float32), 6, axis=0) + 0.05 * rng.normal(size=(12, 8)).astype(np.float32)
    >>> genes = [f"G{i}" for i in range(12)]
    >>> emb = genept.GeneEmbeddings(genes, vectors)
    >>> adata = ad.AnnData(np.ones((3, 12), dtype=np.float32))
    >>> adata.var_names = genes
    >>> genept.tl.gene_programs(adata, emb, n_neighbors=4, min_size=3, species="human")
    >>> adata.uns["genept_programs"]["summary"]["n_genes"].tolist()
    [6, 6]
    >>> adata.uns["genept_programs"]["params"]["n_genes_grouped"]
    12
    """
    from genept.embeddings import load_gene_embeddings
    from genept.text.programs import find_programs, program_summary

    adata = adata.copy() if copy else adata
    emb = load_gene_embeddings(gene_embeddings)
    var_names = adata.var_names
    if genes is None:
        if "highly_variable" in adata.var.columns:
            mask = adata.var["highly_variable"].to_numpy(dtype=bool)
            selection = "highly_variable"
        else:
            mask = np.ones(adata.n_vars, dtype=bool)
            selection = "all"
        candidates = var_names[mask].tolist()
    else:
        candidates = list(dict.fromkeys(str(g) for g in genes))
        unknown = [g for g in candidates if g not in var_names]
        if unknown:
            raise ValueError(
                f"{len(unknown)} of the genes passed are not in adata.var_names (e.g. {unknown[:5]}); "
                "pass a subset of var_names."
            )
        selection = "given"
    found = find_programs(
        candidates, emb, species=species, resolution=resolution, n_neighbors=n_neighbors, min_size=min_size, seed=seed
    )
    summary, enrichment = program_summary(found, corpus=corpus, annotations=annotations, term_names=term_names, n_terms=n_terms)
    names = list(found.programs)
    adata.var[key_added] = pd.Categorical(found.membership(var_names), categories=names)
    params = {
        "resolution": float(resolution),
        "n_neighbors": int(n_neighbors),
        "min_size": int(min_size),
        "seed": int(seed),
        "species": species,
        "genes": selection,
        "n_terms": int(n_terms),
        "n_genes_grouped": len(found.grouped),
        "n_genes_without_embedding": int(found.n_without_embedding),
        "encoder": str(emb.meta.get("encoder", "unknown")),
    }
    extra = {"enrichment": enrichment} if enrichment is not None else {}
    store(adata, key_added, params, programs={p: np.asarray(found.programs[p], dtype=str) for p in names}, summary=summary, **extra)
    return adata if copy else None


def _programs_of(adata: AnnData, key: str) -> dict[str, list[str]]:
    info = adata.uns.get(key)
    if not isinstance(info, Mapping) or "programs" not in info:
        raise KeyError(f"adata.uns[{key!r}] holds no programs; run genept.tl.gene_programs(adata, ...) first")
    return {str(p): [str(g) for g in genes] for p, genes in info["programs"].items()}


def score_programs(
    adata: AnnData,
    key: str = "genept_programs",
    *,
    layer: str | None = None,
    use_raw: bool = False,
    counts: Literal["warn", "normalize"] = "warn",
    ctrl_size: int = 50,
    n_bins: int = 25,
    random_state: int = 0,
    key_added: str | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Score every program in every cell with scanpy's ``tl.score_genes``.

    A program's score is the mean expression of its genes minus the mean of a reference set of
    genes with similar average expression (``ctrl_size`` per expression bin, ``n_bins`` bins),
    as in Satija et al. 2015 (:func:`genept.text.score_gene_sets`). ``score_genes`` expects
    log-normalised expression (``sc.pp.normalize_total`` then ``sc.pp.log1p``): with
    ``counts="warn"`` a warning is raised when the matrix looks like raw counts; with
    ``counts="normalize"`` such a matrix is scored as ``log1p`` of counts per 10,000 (``adata``
    is left as it is). Program genes missing from the matrix (e.g. after subsetting) are dropped;
    a program with no gene left scores NaN, with a warning.

    Parameters
    ----------
    adata
        Annotated data with programs from :func:`gene_programs` in ``adata.uns[key]``.
    key
        The programs' key.
    layer, use_raw
        The expression scored: a layer, ``adata.raw`` or (default) ``adata.X``.
    counts
        ``"warn"`` or ``"normalize"`` (above).
    ctrl_size, n_bins, random_state
        Passed to ``scanpy.tl.score_genes``.
    key_added
        Where the scores go; default ``f"{key}_scores"``.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy when ``copy=True``. Writes ``adata.obsm[key_added]``: a float32
    DataFrame, one column per program, indexed like ``adata.obs``; and
    ``adata.uns[key_added]["params"]`` (the programs' key, the matrix scored, whether it was
    normalised here, the scanpy parameters).

    Examples
    --------
    >>> import anndata as ad, numpy as np, genept
    >>> rng = np.random.default_rng(0)
    >>> adata = ad.AnnData(np.log1p(rng.poisson(1.0, size=(20, 40)).astype(np.float32)))
    >>> adata.var_names = [f"G{i}" for i in range(40)]
    >>> adata.uns["genept_programs"] = {"programs": {"P0": np.array(["G0", "G1", "G2"])}}
    >>> genept.tl.score_programs(adata, ctrl_size=10, n_bins=5)
    >>> adata.obsm["genept_programs_scores"].shape
    (20, 1)
    >>> adata.uns["genept_programs_scores"]["params"]["programs"]
    'genept_programs'
    """
    from genept.text.scoring import score_gene_sets, scoring_matrix

    adata = adata.copy() if copy else adata
    programs = _programs_of(adata, key)
    X, var_names, where = expression(adata, layer=layer, use_raw=use_raw)
    X, normalized = scoring_matrix(X, counts)
    scores = score_gene_sets(adata.obs_names, var_names, X, programs, ctrl_size=ctrl_size, n_bins=n_bins, random_state=random_state)
    out_key = key_added or f"{key}_scores"
    adata.obsm[out_key] = scores.astype(np.float32)
    params = {
        "programs": key,
        "layer": layer,
        "use_raw": bool(use_raw),
        "expression": where,
        "counts": counts,
        "lognormalized": normalized,
        "ctrl_size": int(ctrl_size),
        "n_bins": int(n_bins),
        "random_state": int(random_state),
    }
    store(adata, out_key, params, n_programs=len(programs))
    return adata if copy else None


__all__ = ["gene_programs", "score_programs"]
