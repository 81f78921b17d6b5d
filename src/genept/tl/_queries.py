"""Text queries on an AnnData: zero-shot cell types, cell search, gene search.

The scores are computed by :mod:`genept.text.scores` (see its notes on why cell scores are
centred); this module reads the AnnData, checks the encoder against the one that made the
embeddings, and writes the results.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from genept.tl._cells import legacy_entry
from genept.tl._store import expression, store

if TYPE_CHECKING:
    from anndata import AnnData

    from genept.embeddings import GeneEmbeddings
    from genept.encoders.base import Encoder

logger = logging.getLogger(__name__)


def _identity_of(record: Mapping[str, Any]) -> str | None:
    """The encoder identity in a cell-embedding record (``CellEmbeddingRecord.to_uns`` or the 0.1 dict)."""
    enc = record.get("encoder")
    if isinstance(enc, Mapping) and enc.get("identity"):
        return str(enc["identity"])  # GenePT-s
    genes = record.get("gene_embeddings")
    if isinstance(genes, Mapping) and genes.get("encoder") not in (None, "", "unknown"):
        return str(genes["encoder"])  # GenePT-w / -scaled: the encoder of the gene embeddings
    if isinstance(enc, str) and enc:
        return enc
    return None


def basis_encoder_identity(adata: AnnData, basis: str) -> str | None:
    """The identity of the encoder whose text space ``obsm[basis]`` lives in, or ``None``.

    Read from the cell-embedding record ``adata.uns[basis]``; the 0.1 layout
    ``adata.uns["genept"][basis]`` is still read, with a ``DeprecationWarning``.

    Examples
    --------
    >>> import anndata as ad, numpy as np
    >>> adata = ad.AnnData(np.ones((2, 2), dtype=np.float32))
    >>> adata.uns["X_genept_w"] = {"params": {}, "gene_embeddings": {"encoder": "hashing:d=64"}}
    >>> basis_encoder_identity(adata, "X_genept_w")
    'hashing:d=64'
    >>> basis_encoder_identity(adata, "X_pca") is None
    True
    """
    record = adata.uns.get(basis)
    if isinstance(record, Mapping):
        identity = _identity_of(record)
        if identity is not None:
            return identity
    old = legacy_entry(adata, basis)
    return None if old is None else _identity_of(old)


def _cells(adata: AnnData, basis: str) -> np.ndarray:
    if basis not in adata.obsm:
        raise KeyError(
            f"adata.obsm has no {basis!r} (it has {list(adata.obsm)}); embed the cells first, "
            "e.g. genept.tl.embed_cells(adata, gene_embeddings)"
        )
    C = np.asarray(adata.obsm[basis], dtype=np.float32)
    if C.ndim != 2:
        raise ValueError(f"adata.obsm[{basis!r}] must be a 2-d array, got shape {C.shape}")
    return C


def _basis_spec(adata: AnnData, basis: str) -> str | None:
    """The encoder spec recorded with the gene embeddings behind ``obsm[basis]`` (fitted or combined encoders)."""
    record = adata.uns.get(basis)
    genes = record.get("gene_embeddings") if isinstance(record, Mapping) else None
    spec = genes.get("encoder_spec") if isinstance(genes, Mapping) else None
    return str(spec) if spec else None


def _gene_encoder(emb: GeneEmbeddings, encoder: str | Encoder | None) -> Encoder:
    from genept.text.scores import query_encoder

    expected = emb.meta.get("encoder")
    expected = None if expected in (None, "", "unknown") else str(expected)
    return query_encoder(encoder, expected, "the gene embeddings", spec=emb.meta.get("encoder_spec") or None)


def label_gene_sets(
    adata: AnnData,
    labels: Sequence[str] | Mapping[str, str],
    gene_embeddings: GeneEmbeddings | str | os.PathLike,
    encoder: str | Encoder | None = None,
    *,
    n_genes: int = 10,
    species: str = "auto",
) -> dict[str, list[str]]:
    """For each label, the ``n_genes`` genes of ``adata`` whose text is closest to its description.

    Ties are broken by ``var_names`` order. Genes without an embedding are never chosen.

    Parameters
    ----------
    adata
        Only ``var_names`` are read.
    labels
        Label names (embedded as written) or ``{name: description}``.
    gene_embeddings
        A :class:`~genept.GeneEmbeddings` or the path of one, made by ``encoder``.
    encoder
        Encoder spec or object; default ``"minilm"``.
    n_genes
        Genes per label.
    species
        ``"human"``, ``"mouse"`` or ``"auto"``: how ``var_names`` are matched
        (:meth:`GeneEmbeddings.locate`).

    Returns
    -------
    dict
        ``{label: [gene, ...]}``, closest first.

    Examples
    --------
    >>> import anndata as ad, numpy as np
    >>> from genept.embeddings import GeneEmbeddings
    >>> from genept.encoders import get_encoder
    >>> enc = get_encoder("hashing")
    >>> genes = ["INS", "GCG", "COL1A1"]
    >>> emb = GeneEmbeddings(genes, enc.encode(["insulin hormone", "glucagon hormone", "collagen fibre"]),
    ...                      {"encoder": enc.identity})
    >>> adata = ad.AnnData(np.ones((2, 3), dtype=np.float32), var={"gene": genes}).copy()
    >>> adata.var_names = genes
    >>> label_gene_sets(adata, {"beta": "insulin", "fibro": "collagen"}, emb, enc, n_genes=1)
    {'beta': ['INS'], 'fibro': ['COL1A1']}
    """
    from genept.embeddings import load_gene_embeddings
    from genept.text.scores import clean_texts, nearest_genes

    if isinstance(labels, Mapping):
        names, texts = [str(k) for k in labels], clean_texts([labels[k] for k in labels], "label descriptions")
    else:
        names = [str(x) for x in labels]
        texts = clean_texts(names, "labels")
    if n_genes < 1:
        raise ValueError(f"n_genes must be at least 1, got {n_genes}")
    emb = load_gene_embeddings(gene_embeddings)
    enc = _gene_encoder(emb, encoder)
    return nearest_genes(adata.var_names.tolist(), emb, enc.encode(texts), names, n_genes=n_genes, species=species)


def _gene_table(names: Sequence[str], sets: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """One row per label with its genes, comma-separated (stored in ``uns``; see :func:`zero_shot_annotate`)."""
    return pd.DataFrame({"genes": [", ".join(map(str, sets.get(n, []))) for n in names]}, index=pd.Index(list(names), name="label"))


def zero_shot_annotate(
    adata: AnnData,
    labels: Sequence[str] | Mapping[str, str] | str | os.PathLike,
    *,
    method: Literal["embedding", "genes", "markers"] = "embedding",
    basis: str = "X_genept_scaled",
    encoder: str | Encoder | None = None,
    center: bool = True,
    markers: bool = True,
    marker_weight: float = 3.0,
    smooth: int = 10,
    refine: int = 0,
    gene_embeddings: GeneEmbeddings | str | os.PathLike | None = None,
    n_genes: int = 10,
    layer: str | None = None,
    use_raw: bool = False,
    counts: Literal["warn", "normalize"] = "normalize",
    species: str = "auto",
    min_margin: float = 0.0,
    min_score: float | None = None,
    key_added: str = "genept_zero_shot",
    copy: bool = False,
) -> AnnData | None:
    """Label cells by the cell-type description they match best (no training data).

    A label's evidence comes from up to three places, then the cells themselves calibrate it:

    1. **Text** (``method``):

       ``"embedding"`` (default)
           The description is embedded with the encoder that made ``obsm[basis]``; the score is
           the cosine with the cell's embedding after subtracting the dataset's mean cell
           (``center``, see :mod:`genept.text.scores`).
       ``"genes"``
           The description picks the ``n_genes`` genes of ``adata`` whose texts are closest to
           it (:func:`label_gene_sets`), scored with ``scanpy.tl.score_genes`` on log-normalised
           expression. Needs ``gene_embeddings``.
       ``"markers"``
           No text embedding: only the marker genes named in the descriptions (step 2). Labels
           that name no gene of the dataset cannot be chosen.

    2. **Marker genes named in the text** (``markers``): gene symbols written in a description
       (``"expresses INS, IAPP and PDX1"``) that are genes of ``adata`` (directly, in another
       case, or as HGNC alias / mouse ortholog; :mod:`genept.text.markers` gives the rule that
       keeps words like ``T``, ``NK`` or ``IFN`` out) are scored as their mean standardised
       log expression. Text and marker scores are each standardised over the whole matrix
       (:func:`genept.text.calibration.standardize`) and added, markers with
       ``marker_weight``; a label that names no gene keeps its text evidence only. Nothing
       changes when no description names a gene of the dataset.
    3. **Calibration by the cells** (no label used), in ``obsm[basis]``: ``smooth`` averages each
       cell's scores with those of its nearest cells (:func:`genept.text.calibration.smooth_scores`),
       so a cell with weak own evidence takes that of cells like it. Optionally (``refine``,
       off by default) rounds of prototype re-scoring: each label's prototype is the mean
       embedding of the cells that chose it most confidently, and every cell is re-scored by
       its cosine with the prototypes (:func:`genept.text.calibration.refine_prototypes`).
       Skipped for ``"genes"`` and ``"markers"`` when ``obsm[basis]`` is absent.

    Measured on three labelled sets (``benchmarks/results/zero_shot.md``, with majority-class and
    shuffled-description controls). ``markers=False, smooth=0, refine=0`` is the scoring of genept 0.2.

    Each cell gets the best-scoring label, or ``"unassigned"``. The threshold is a *margin*:
    a cell stays unassigned when its best label beats the second best by less than
    ``min_margin``. A margin compares labels within one cell, so it ignores whatever shifts all of
    a cell's scores together, which an absolute floor does not; unlike a z-score across cells it
    does not depend on how common each type is in the dataset. The default ``0`` assigns every
    cell: a good margin depends on the encoder, the labels and the scoring, so choose it from
    the coverage/accuracy trade-off measured in ``benchmarks/results/zero_shot.md``.

    Parameters
    ----------
    adata
        Annotated data: cell embeddings in ``obsm[basis]`` and expression (``X``, ``layer`` or
        ``raw``; raw counts are log-normalised on a copy, see ``counts``) for marker genes and
        ``"genes"``.
    labels
        Label names (embedded as written), ``{name: description}``, e.g.
        ``{"beta": "pancreatic beta cell: secretes insulin; expresses INS, IAPP and PDX1"}``, or
        the path of a label file (``.tsv``/``.csv`` with ``name`` and ``description`` columns, a
        ``.json`` mapping, or ``name: description`` lines; see :mod:`genept.text.labels`).
        Naming marker genes by their symbols helps twice: gene texts contain them, and they are
        scored in the expression. At least two labels.
    method
        ``"embedding"``, ``"genes"`` or ``"markers"`` (above).
    basis
        ``obsm`` key of the cell embeddings (``X_genept_scaled``, the default of
        :func:`genept.tl.embed_cells`; ``X_genept_w`` or ``X_genept_s``).
    encoder
        Encoder spec or object; default: the one recorded with the embeddings, else
        ``"minilm"``. When the cell embeddings (``uns[basis]``) or the gene embeddings
        (``meta["encoder"]``) record the encoder that made them, a different one is refused.
    center
        ``"embedding"`` and ``refine``: compare each cell's deviation from the mean cell
        (default) instead of the raw vector.
    markers
        Add the score of the marker genes named in the descriptions (default ``True``).
    marker_weight
        Weight of the standardised marker score against the standardised text score (default
        ``3``: named markers are the more direct evidence; chosen on Baron human, see the
        benchmark).
    smooth
        Cells whose scores are averaged, each cell and its nearest neighbours in
        ``obsm[basis]`` (default ``10``; ``0`` or ``1``: no smoothing). Exact neighbours up to
        50,000 cells, approximate (pynndescent) above. A type with fewer cells than this
        borrows evidence from its neighbours' types; lower it for very rare types.
    refine
        Rounds of prototype re-scoring in ``obsm[basis]`` after smoothing (default ``0``: it
        did not help after smoothing in the benchmark).
    gene_embeddings
        ``"genes"``: a :class:`~genept.GeneEmbeddings` or the path of one.
    n_genes
        ``"genes"``: genes per label.
    layer, use_raw
        The expression read for marker genes and ``"genes"``; default ``X``.
    counts
        ``"normalize"`` (default): when the expression looks like raw counts, score ``log1p``
        of counts per 10,000 instead (``adata`` is left as it is). ``"warn"``: score it as it
        is (``"genes"`` warns when it looks like counts).
    species
        ``"human"``, ``"mouse"`` or ``"auto"``: how ``var_names`` are matched to gene symbols in
        the text and to the gene embeddings (mouse genes through human orthologs).
    min_margin
        Unassigned when the best score exceeds the second best by less than this, in the
        units of ``obsm[f"{key_added}_scores"]``: standard deviations of the combined score
        when marker genes were scored (the default with named markers); otherwise the text
        score (cosine, or expression units for ``"genes"``); cosine with the prototypes when
        ``refine``. Smoothing averages the scores and keeps their units. With ``0`` (default) every cell with a score
        gets a label; an exact tie goes to the earlier label. Any ``min_margin > 0`` leaves
        ties unassigned.
    min_score
        Unassigned when the best score is below this. Default: no floor.
    key_added
        Where results go (see below).
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy when ``copy=True``. Writes

    ``adata.obs[key_added]``
        Categorical label (the label names, then ``"unassigned"``).
    ``adata.obs[f"{key_added}_margin"]``
        Best minus second-best score (float32; NaN for cells without a score).
    ``adata.obsm[f"{key_added}_scores"]``
        DataFrame of float32 final scores, one column per label (NaN for a label no cell can
        take).
    ``adata.uns[key_added]``
        ``params`` (method, basis, encoder identity, markers, marker_weight, smooth, refine,
        thresholds, ...), ``labels``, ``descriptions``, ``marker_genes`` (a DataFrame, one row
        per label: the genes named in its text and used, comma-separated; empty when none) and,
        for ``"genes"``, ``genes`` (the same table of each label's genes). Tables, not mappings,
        because a label such as ``"CD4+/CD25 T Reg"`` cannot be a key in an ``.h5ad`` file.

    Examples
    --------
    >>> import anndata as ad, numpy as np, genept
    >>> from genept.encoders import get_encoder
    >>> enc = get_encoder("hashing")
    >>> cells = enc.encode(["insulin secreting cell"] * 20 + ["glucagon secreting cell"] * 20)
    >>> X = np.array([[9, 0]] * 20 + [[0, 9]] * 20, dtype=np.float32)
    >>> adata = ad.AnnData(X, obsm={"X_genept_w": cells})
    >>> adata.var_names = ["INS", "GCG"]
    >>> genept.tl.zero_shot_annotate(adata, {"beta": "insulin; expresses INS", "alpha": "glucagon; expresses GCG"},
    ...                              basis="X_genept_w", encoder=enc)
    >>> adata.obs["genept_zero_shot"].value_counts().to_dict()
    {'beta': 20, 'alpha': 20, 'unassigned': 0}
    >>> adata.uns["genept_zero_shot"]["marker_genes"]["genes"].to_dict()
    {'beta': 'INS', 'alpha': 'GCG'}
    """
    from genept.cells.validation import looks_like_counts
    from genept.text.calibration import refine_prototypes, smooth_scores, standardize
    from genept.text.markers import marker_gene_sets, marker_scores
    from genept.text.scores import UNASSIGNED, assign_labels, label_margins, label_texts, query_encoder, text_scores
    from genept.text.scoring import scoring_matrix

    if method not in ("embedding", "genes", "markers"):
        raise ValueError(f"method must be 'embedding', 'genes' or 'markers', not {method!r}")
    if marker_weight < 0:
        raise ValueError(f"marker_weight must be >= 0, got {marker_weight}")
    if refine < 0:
        raise ValueError(f"refine must be >= 0 rounds, got {refine}")
    if smooth < 0:
        raise ValueError(f"smooth must be >= 0 neighbours, got {smooth}")
    adata = adata.copy() if copy else adata
    names, texts = label_texts(labels)
    params: dict[str, Any] = {"method": method, "min_margin": float(min_margin), "min_score": min_score}
    extra: dict[str, Any] = {}
    use_markers = method == "markers" or (markers and marker_weight > 0)
    sets: dict[str, list[str]] = {n: [] for n in names}
    X = where = None
    if method == "genes" or method == "markers":
        X, var_names, where = expression(adata, layer=layer, use_raw=use_raw)
    elif use_markers:
        try:
            X, var_names, where = expression(adata, layer=layer, use_raw=use_raw)
        except ValueError as err:  # markers are optional evidence for the embedding method
            logger.warning("zero-shot: no expression to score marker genes (%s); text scores only", err)
            use_markers = False
    if use_markers:
        sets, notes = marker_gene_sets(dict(zip(names, texts, strict=True)), list(var_names), species=species)
        for n in names:
            logger.info("zero-shot label %s: marker genes %s (words read: %s)", n, sets[n], notes[n])
        if method == "markers" and not any(sets.values()):
            raise ValueError(
                "method='markers' but no description names a gene of adata (by symbol, e.g. 'expresses INS and IAPP'); "
                "name markers in the descriptions or use method='embedding'"
            )
    normalized = False
    if method == "genes":
        X, normalized = scoring_matrix(X, counts)
    elif any(sets.values()):
        if counts not in ("warn", "normalize"):
            raise ValueError(f"counts must be 'warn' or 'normalize', not {counts!r}")
        # Marker genes alone: normalise their columns by each cell's total, no copy of the matrix.
        normalized = counts == "normalize" and looks_like_counts(X)
    S: np.ndarray | None = None
    C: np.ndarray | None = None  # obsm[basis], read once for the text scores and the calibration
    if method == "embedding":
        C = _cells(adata, basis)
        enc = query_encoder(encoder, basis_encoder_identity(adata, basis), f"adata.obsm[{basis!r}]", spec=_basis_spec(adata, basis))
        S = text_scores(C, enc.encode(texts), center=center)
        params.update(basis=basis, center=bool(center), encoder=enc.identity)
    elif method == "genes":
        from genept.embeddings import load_gene_embeddings
        from genept.text.scoring import score_gene_sets

        if gene_embeddings is None:
            raise ValueError("method='genes' needs gene_embeddings (a GeneEmbeddings or the path of one)")
        emb = load_gene_embeddings(gene_embeddings)
        enc = _gene_encoder(emb, encoder)
        gsets = label_gene_sets(adata, dict(zip(names, texts, strict=True)), emb, enc, n_genes=n_genes, species=species)
        S = score_gene_sets(adata.obs_names, var_names, X, gsets).to_numpy(dtype=np.float32)
        params.update(n_genes=int(n_genes), encoder=str(emb.meta.get("encoder", "unknown")))
        extra["genes"] = _gene_table(names, gsets)
    has_markers = any(sets.values())
    if method == "genes" or has_markers:  # the expression was read: say which and how
        params.update(layer=layer, use_raw=bool(use_raw), expression=where, counts=counts, lognormalized=normalized, species=species)
    if has_markers:
        # method="genes" scored an already normalised copy; otherwise the marker columns are normalised here
        M = marker_scores(X, list(var_names), sets, normalize_counts=normalized and method != "genes")
        S = M if S is None else standardize(S) + float(marker_weight) * np.nan_to_num(standardize(M), nan=0.0)
    params.update(markers=bool(use_markers), marker_weight=float(marker_weight))
    extra["marker_genes"] = _gene_table(names, sets)
    n_refine, n_smooth = int(refine), int(smooth) if smooth > 1 else 0
    if (n_refine or n_smooth) and method != "embedding" and basis not in adata.obsm:
        logger.info("zero-shot: adata.obsm has no %r; the scores are not smoothed or refined", basis)
        n_refine = n_smooth = 0
    if n_refine or n_smooth:
        C = _cells(adata, basis) if C is None else C
        if n_smooth:
            S = smooth_scores(C, S, n_neighbors=n_smooth, center=center)
        if n_refine:
            S = refine_prototypes(C, S, n_iter=n_refine, center=center)
        params.update(basis=basis, center=bool(center))
    params.update(smooth=n_smooth, refine=n_refine)
    S = np.asarray(S, dtype=np.float32)
    assigned = assign_labels(S, names, min_margin=min_margin, min_score=min_score)

    adata.obs[key_added] = pd.Categorical(assigned, categories=[*names, UNASSIGNED])
    adata.obs[f"{key_added}_margin"] = label_margins(S)
    adata.obsm[f"{key_added}_scores"] = pd.DataFrame(S, index=adata.obs_names, columns=names)
    store(adata, key_added, params, labels=np.asarray(names, dtype=str), descriptions=np.asarray(texts, dtype=str), **extra)
    n_un = int((assigned == UNASSIGNED).sum())
    logger.info("zero-shot: %d labels, %d of %d cells unassigned", len(names), n_un, adata.n_obs)
    return adata if copy else None


def search_genes(
    query: str,
    gene_embeddings: GeneEmbeddings | str | os.PathLike,
    encoder: str | Encoder | None = None,
    *,
    top_n: int = 20,
) -> pd.DataFrame:
    """The genes whose text embedding is most similar to a free-text query.

    Parameters
    ----------
    query
        Any text, e.g. ``"T cell receptor signalling"``.
    gene_embeddings
        Gene embeddings (or the path of a saved file); their ``meta["encoder"]``, when recorded,
        must match ``encoder``.
    encoder
        Encoder spec or object; default ``"minilm"``.
    top_n
        Number of genes returned (all genes when there are fewer).

    Returns
    -------
    pandas.DataFrame
        Columns ``gene``, ``score`` (cosine similarity) and ``rank`` (1 = best), best first.
        Equal scores are ordered by gene name.

    Examples
    --------
    >>> import genept
    >>> from genept.encoders import get_encoder
    >>> enc = get_encoder("hashing")
    >>> emb = genept.GeneEmbeddings(["INS", "COL1A1"], enc.encode(["insulin hormone", "collagen fibre"]),
    ...                             {"encoder": enc.identity})
    >>> genept.tl.search_genes("insulin", emb, enc, top_n=1)["gene"].tolist()
    ['INS']
    """
    from genept.embeddings import load_gene_embeddings
    from genept.text.scores import clean_texts, rank_genes

    (query,) = clean_texts([query], "the query")
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    emb = load_gene_embeddings(gene_embeddings)
    if len(emb) == 0:
        raise ValueError("the gene embeddings are empty")
    enc = _gene_encoder(emb, encoder)
    return rank_genes(emb, enc.encode([query])[0], top_n=top_n)


def search_cells(
    adata: AnnData,
    query: str,
    *,
    basis: str = "X_genept_scaled",
    encoder: str | Encoder | None = None,
    center: bool = True,
    key_added: str = "genept_search",
    copy: bool = False,
) -> AnnData | None:
    """Score every cell for a free-text query (e.g. ``"interferon response"``).

    The score is the cosine between the query's embedding and the cell's embedding minus the
    dataset's mean cell (``center``, see :mod:`genept.text.scores`): positive when a cell is
    closer to the query than the average cell. Cells without an embedding (all-zero rows) score
    NaN.

    Parameters
    ----------
    adata
        Annotated data with cell embeddings in ``obsm[basis]``.
    query
        Any text.
    basis
        ``obsm`` key of the cell embeddings.
    encoder
        Encoder spec or object; default ``"minilm"``; must match the one recorded for ``basis``.
    center
        Subtract the mean cell before the cosine (default).
    key_added
        ``adata.obs`` column for the scores (float32); ``uns[key_added]["params"]`` holds the
        query, basis, encoder identity and ``center``.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy when ``copy=True``.

    Examples
    --------
    >>> import anndata as ad, numpy as np, genept
    >>> from genept.encoders import get_encoder
    >>> enc = get_encoder("hashing")
    >>> cells = enc.encode(["interferon response", "collagen fibre", "collagen matrix"])
    >>> adata = ad.AnnData(np.ones((3, 2), dtype=np.float32), obsm={"X_genept_w": cells})
    >>> genept.tl.search_cells(adata, "interferon", basis="X_genept_w", encoder=enc)
    >>> int(adata.obs["genept_search"].to_numpy().argmax())
    0
    """
    from genept.text.scores import clean_texts, query_encoder, text_scores

    adata = adata.copy() if copy else adata
    (query,) = clean_texts([query], "the query")
    C = _cells(adata, basis)
    enc = query_encoder(encoder, basis_encoder_identity(adata, basis), f"adata.obsm[{basis!r}]", spec=_basis_spec(adata, basis))
    adata.obs[key_added] = text_scores(C, enc.encode([query]), center=center)[:, 0]
    store(adata, key_added, {"query": query, "basis": basis, "encoder": enc.identity, "center": bool(center)})
    return adata if copy else None


__all__ = ["basis_encoder_identity", "label_gene_sets", "search_cells", "search_genes", "zero_shot_annotate"]
