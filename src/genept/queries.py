"""Text queries against gene and cell embeddings: zero-shot cell types, gene search, cell search.

GenePT gene and cell embeddings live in the text space of the encoder that made them, so any text
that encoder reads can be compared with them: a cell-type description, a pathway, a phenotype.

Scoring cells (:func:`zero_shot_annotate`, :func:`search_cells`)
    A GenePT-w cell vector is an average of *gene-text* embeddings, so every cell sits near the
    region of the space where gene texts live, and every free text is about equally far from all
    cells: raw cosines differ by little between cells and are dominated by how close a text is
    to gene texts in general. The score therefore compares each cell's *deviation* from the
    average cell of the dataset with the text: ``score = cos(c - mean(c), t)``, with ``c`` the
    cell vector and ``t`` the text's embedding (``center=False`` gives the raw cosine). Scores
    are relative to the dataset: a cell scores high for a text when it is closer to it than the
    average cell is.

    :func:`zero_shot_annotate` can instead let each description pick its closest genes
    (:func:`label_gene_sets`) and score those in the expression (``method="genes"``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from genept.encoders.base import l2_normalize

if TYPE_CHECKING:
    from anndata import AnnData

    from genept.embeddings import GeneEmbeddings
    from genept.encoders.base import Encoder

logger = logging.getLogger(__name__)

__all__ = ["assign_labels", "label_gene_sets", "search_cells", "search_genes", "text_scores", "zero_shot_annotate"]

UNASSIGNED = "unassigned"


# -- encoders and their identity ------------------------------------------------------------------
def _basis_encoder_identity(adata: AnnData, basis: str) -> str | None:
    """The identity of the encoder that made ``obsm[basis]``, from ``uns["genept"][basis]``."""
    record = adata.uns.get("genept", {})
    record = record.get(basis) if isinstance(record, Mapping) else None
    if not isinstance(record, Mapping):
        return None
    enc = record.get("encoder")
    if isinstance(enc, Mapping) and enc.get("identity"):
        return str(enc["identity"])  # GenePT-s
    genes = record.get("gene_embeddings")
    if isinstance(genes, Mapping) and genes.get("encoder") not in (None, "", "unknown"):
        return str(genes["encoder"])  # GenePT-w: the encoder of the gene embeddings
    if isinstance(enc, str) and enc:
        return enc
    return None


def _get_encoder(encoder: str | Encoder | None, expected: str | None, what: str) -> Encoder:
    """Build the encoder and refuse one that differs from the one that made ``what``."""
    from genept.encoders import DEFAULT_ENCODER, get_encoder

    enc = get_encoder(DEFAULT_ENCODER if encoder is None else encoder)
    if expected is not None and enc.identity != expected:
        raise ValueError(
            f"{what} was made with encoder {expected!r}, but the query encoder is {enc.identity!r}. "
            "Texts and embeddings must come from the same encoder: pass the encoder that made them "
            "(encoder=... with that identity)."
        )
    if expected is None:
        logger.info("%s records no encoder; trusting that %s made it", what, enc.identity)
    return enc


def _clean_texts(texts: Sequence[str], what: str) -> list[str]:
    out = []
    for t in texts:
        if not isinstance(t, str):
            raise TypeError(f"{what} must be strings, got {type(t).__name__}")
        if not t.strip():
            raise ValueError(f"{what} must not be empty or blank")
        out.append(t.strip())
    return out


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


def text_scores(
    cells: np.ndarray,
    texts: np.ndarray,
    *,
    center: bool = True,
) -> np.ndarray:
    """Cosine of each cell (optionally minus the mean cell) with each text embedding.

    Parameters
    ----------
    cells
        ``(n_cells, dim)`` cell embeddings. All-zero rows (cells with no expression on embedded
        genes) get NaN scores and are left out of the mean.
    texts
        ``(n_texts, dim)`` text embeddings from the encoder that made the cells.
    center
        Subtract the mean of the (non-zero) cells first (see the module notes).

    Returns
    -------
    ``(n_cells, n_texts)`` float32.

    Examples
    --------
    >>> S = text_scores(adata.obsm["X_genept_w"], enc.encode(["beta cell", "alpha cell"]))
    """
    C = np.asarray(cells, dtype=np.float32)
    T = l2_normalize(np.asarray(texts, dtype=np.float32))
    if C.ndim != 2 or T.ndim != 2 or C.shape[1] != T.shape[1]:
        raise ValueError(
            f"cells {C.shape} and texts {T.shape} must be 2-d with the same dimension; "
            "were they made with the same encoder?"
        )
    empty = ~np.any(C != 0, axis=1)
    if center and (~empty).any():
        C = C - C[~empty].mean(axis=0, dtype=np.float64).astype(np.float32)
    S = l2_normalize(C) @ T.T
    S[empty] = np.nan
    return S.astype(np.float32, copy=False)


# -- zero-shot annotation -------------------------------------------------------------------------
def _label_texts(labels: Sequence[str] | Mapping[str, str]) -> tuple[list[str], list[str]]:
    if isinstance(labels, str):
        raise TypeError("labels must be a list of names or a {name: description} mapping, not one string")
    if isinstance(labels, Mapping):
        names = [str(k) for k in labels]
        texts = _clean_texts([labels[k] for k in labels], "label descriptions")
    else:
        names = [str(x) for x in labels]
        texts = _clean_texts(list(labels), "labels")
    names = [n.strip() for n in names]
    if len(names) < 2:
        raise ValueError(f"give at least two labels to choose between, got {names}")
    if any(not n for n in names):
        raise ValueError("label names must not be empty")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"label names must be unique; repeated: {dup}")
    if UNASSIGNED in names:
        raise ValueError(f"{UNASSIGNED!r} is reserved for cells below the threshold; rename that label")
    return names, texts


def assign_labels(
    scores: np.ndarray,
    names: Sequence[str],
    *,
    min_margin: float = 0.0,
    min_score: float | None = None,
) -> np.ndarray:
    """The best label per row of ``scores``, or ``"unassigned"``.

    A cell is unassigned when its best score is NaN, below ``min_score`` (when given), or less
    than ``min_margin`` above its second-best score. Ties: the earlier label wins (then the
    margin is 0, so any ``min_margin > 0`` leaves the cell unassigned).
    """
    S = np.asarray(scores, dtype=np.float32)
    names = np.asarray(list(names), dtype=object)
    if S.ndim != 2 or S.shape[1] != len(names):
        raise ValueError(f"scores {S.shape} do not match {len(names)} labels")
    if min_margin < 0:
        raise ValueError(f"min_margin must be >= 0, got {min_margin}")
    filled = np.where(np.isnan(S), -np.inf, S)
    best = np.argmax(filled, axis=1)  # first maximum: earlier label wins ties
    top = filled[np.arange(len(S)), best]
    second = np.partition(filled, -2, axis=1)[:, -2] if S.shape[1] > 1 else np.full(len(S), -np.inf)
    with np.errstate(invalid="ignore"):  # -inf - -inf for cells without scores
        ok = np.isfinite(top) & (top - second >= min_margin)
    if min_margin > 0:
        ok &= top > second
    if min_score is not None:
        ok &= top >= min_score
    return np.where(ok, names[best], UNASSIGNED)


def _load_gene_embeddings(gene_embeddings: GeneEmbeddings | str | os.PathLike) -> GeneEmbeddings:
    from genept.embeddings import GeneEmbeddings

    if isinstance(gene_embeddings, GeneEmbeddings):
        return gene_embeddings
    if isinstance(gene_embeddings, str | os.PathLike):
        return GeneEmbeddings.load(gene_embeddings)
    raise TypeError(f"gene_embeddings must be a GeneEmbeddings or a path, not {type(gene_embeddings).__name__}")


def label_gene_sets(
    adata: AnnData,
    labels: Sequence[str] | Mapping[str, str],
    gene_embeddings: GeneEmbeddings | str | os.PathLike,
    encoder: str | Encoder | None = None,
    *,
    n_genes: int = 10,
) -> dict[str, list[str]]:
    """For each label, the ``n_genes`` genes of ``adata`` whose text is closest to its description.

    Ties are broken by ``var_names`` order. Genes without an embedding are never chosen.

    Examples
    --------
    >>> label_gene_sets(adata, {"beta": "pancreatic beta cell: secretes insulin (INS)"}, emb, n_genes=5)
    """
    from genept.programs import _embedding_keys

    if isinstance(labels, Mapping):
        names, texts = [str(k) for k in labels], _clean_texts([labels[k] for k in labels], "label descriptions")
    else:
        names = [str(x) for x in labels]
        texts = _clean_texts(names, "labels")
    if n_genes < 1:
        raise ValueError(f"n_genes must be at least 1, got {n_genes}")
    emb = _load_gene_embeddings(gene_embeddings)
    expected = emb.meta.get("encoder")
    enc = _get_encoder(encoder, None if expected in (None, "", "unknown") else str(expected), "the gene embeddings")
    keys = _embedding_keys(emb, adata.var_names.tolist())
    rows = np.array([i for i, k in enumerate(keys) if k is not None], dtype=np.int64)
    if len(rows) == 0:
        raise ValueError("no gene of adata has an embedding; check that var_names are gene symbols or ids")
    E = l2_normalize(emb.vectors[emb.genes.get_indexer([keys[i] for i in rows])])
    sim = E @ enc.encode(texts).T
    var = np.asarray(adata.var_names, dtype=object)
    return {n: var[rows[np.argsort(-sim[:, j], kind="stable")[:n_genes]]].tolist() for j, n in enumerate(names)}


def zero_shot_annotate(
    adata: AnnData,
    labels: Sequence[str] | Mapping[str, str],
    *,
    method: Literal["embedding", "genes"] = "embedding",
    basis: str = "X_genept_scaled",
    encoder: str | Encoder | None = None,
    center: bool = True,
    gene_embeddings: GeneEmbeddings | str | os.PathLike | None = None,
    n_genes: int = 10,
    layer: str | None = None,
    min_margin: float = 0.0,
    min_score: float | None = None,
    key_added: str = "genept_zero_shot",
    copy: bool = False,
) -> AnnData | None:
    """Label cells by the cell-type description they match best (no training data).

    Two ways to score a cell against a label's text:

    ``method="embedding"`` (default)
        The description is embedded with the encoder that made ``obsm[basis]``, and the score
        is the cosine similarity with the cell's embedding after subtracting the dataset's mean
        cell (``center``, see the module notes). Needs only the cell embeddings.
    ``method="genes"``
        The description picks the ``n_genes`` genes of ``adata`` whose texts are closest to it
        (:func:`label_gene_sets`); the score is ``scanpy.tl.score_genes`` of that set on
        log-normalised expression (``layer`` or ``X``). Needs ``gene_embeddings``.

    Each cell gets the best-scoring label, or ``"unassigned"``. The threshold is a *margin*:
    a cell stays unassigned when its best label beats the second best by less than
    ``min_margin``. A margin compares labels within one cell, so it ignores whatever shifts all of
    a cell's scores together (how close the cell is to text in general), which an absolute
    cosine floor does not; unlike a z-score across cells it does not depend on how common each
    type is in the dataset. The default ``0`` assigns every cell: a good margin depends on the
    encoder and the labels, so choose it from the coverage/accuracy trade-off measured in
    ``benchmarks/results/zero_shot.md``.

    Parameters
    ----------
    adata
        Annotated data: cell embeddings in ``obsm[basis]`` (``"embedding"``), or log-normalised
        expression (``"genes"``).
    labels
        Label names (embedded as written) or ``{name: description}``, e.g.
        ``{"beta": "pancreatic beta cell: secretes insulin (INS)"}``. Naming marker genes by
        their symbols helps: gene texts contain them. At least two labels.
    method
        ``"embedding"`` or ``"genes"`` (above).
    basis
        ``obsm`` key of the cell embeddings (``X_genept_scaled``, the default of
        :func:`genept.tl.embed_cells`; ``X_genept_w`` or ``X_genept_s``).
    encoder
        Encoder spec or object; default ``"minilm"``. When the cell embeddings
        (``uns["genept"][basis]``) or the gene embeddings (``meta["encoder"]``) record the
        encoder that made them, a different one is refused.
    center
        ``"embedding"``: score each cell's deviation from the mean cell (default) instead of the
        raw cosine.
    gene_embeddings
        ``"genes"``: a :class:`~genept.GeneEmbeddings` or the path of one.
    n_genes
        ``"genes"``: genes per label.
    layer
        ``"genes"``: expression layer (log-normalised); ``None`` uses ``X``.
    min_margin
        Unassigned when the best score exceeds the second best by less than this (cosine units
        for ``"embedding"``, expression units for ``"genes"``). With ``0`` (default) every cell
        with a score gets a label; an exact tie goes to the earlier label. Any
        ``min_margin > 0`` leaves ties unassigned.
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
        DataFrame of float32 scores, one column per label.
    ``adata.uns[key_added]``
        Labels, descriptions, method, encoder identity, parameters (and, for ``"genes"``, each
        label's genes).

    Examples
    --------
    >>> genept.tl.embed_cells(adata, "genes_minilm.npz")
    >>> zero_shot_annotate(adata, {"alpha": "pancreatic alpha cell: secretes glucagon (GCG)",
    ...                            "beta": "pancreatic beta cell: secretes insulin (INS)"})
    >>> adata.obs["genept_zero_shot"].value_counts()
    """
    if method not in ("embedding", "genes"):
        raise ValueError(f"method must be 'embedding' or 'genes', not {method!r}")
    adata = adata.copy() if copy else adata
    names, texts = _label_texts(labels)
    extra: dict = {}
    if method == "embedding":
        C = _cells(adata, basis)
        enc = _get_encoder(encoder, _basis_encoder_identity(adata, basis), f"adata.obsm[{basis!r}]")
        S = text_scores(C, enc.encode(texts), center=center)
        identity = enc.identity
        extra = {"basis": basis, "center": bool(center)}
    else:
        from genept.programs import score_gene_sets

        if gene_embeddings is None:
            raise ValueError("method='genes' needs gene_embeddings (a GeneEmbeddings or the path of one)")
        if layer is not None and layer not in adata.layers:
            raise KeyError(f"layer {layer!r} not found; adata.layers has {list(adata.layers)}")
        emb = _load_gene_embeddings(gene_embeddings)
        sets = label_gene_sets(adata, dict(zip(names, texts, strict=True)), emb, encoder, n_genes=n_genes)
        X = adata.layers[layer] if layer is not None else adata.X
        S = score_gene_sets(adata.obs_names, adata.var_names, X, sets).to_numpy(dtype=np.float32)
        identity = str(emb.meta.get("encoder", "unknown"))
        extra = {"n_genes": int(n_genes), "layer": layer or "", "genes": {n: np.asarray(g, dtype=str) for n, g in sets.items()}}
    assigned = assign_labels(S, names, min_margin=min_margin, min_score=min_score)
    filled = np.where(np.isnan(S), -np.inf, S)
    top2 = -np.sort(-filled, axis=1)[:, :2]
    with np.errstate(invalid="ignore"):
        margin = np.where(np.isfinite(top2[:, 0]), top2[:, 0] - top2[:, 1], np.nan).astype(np.float32)

    adata.obs[key_added] = pd.Categorical(assigned, categories=[*names, UNASSIGNED])
    adata.obs[f"{key_added}_margin"] = margin
    adata.obsm[f"{key_added}_scores"] = pd.DataFrame(S, index=adata.obs_names, columns=names)
    adata.uns[key_added] = {
        "labels": np.asarray(names, dtype=str),
        "descriptions": np.asarray(texts, dtype=str),
        "method": method,
        "encoder": identity,
        "min_margin": float(min_margin),
        "min_score": "" if min_score is None else float(min_score),
        **extra,
    }
    n_un = int((assigned == UNASSIGNED).sum())
    logger.info("zero-shot: %d labels, %d of %d cells unassigned", len(names), n_un, adata.n_obs)
    return adata if copy else None


# -- search ---------------------------------------------------------------------------------------
def search_genes(
    query: str,
    gene_embeddings: GeneEmbeddings,
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
        Gene embeddings; their ``meta["encoder"]``, when recorded, must match ``encoder``.
    encoder
        Encoder spec or object; default ``"minilm"``.
    top_n
        Number of genes returned (all genes when there are fewer).

    Returns
    -------
    DataFrame with columns ``gene``, ``score`` (cosine similarity) and ``rank`` (1 = best),
    best first. Equal scores are ordered by gene name.

    Examples
    --------
    >>> emb = genept.GeneEmbeddings.load("genes_minilm.npz")
    >>> search_genes("insulin secretion by pancreatic beta cells", emb, top_n=5)
    """
    (query,) = _clean_texts([query], "the query")
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    if len(gene_embeddings) == 0:
        raise ValueError("the gene embeddings are empty")
    expected = gene_embeddings.meta.get("encoder")
    expected = None if expected in (None, "", "unknown") else str(expected)
    enc = _get_encoder(encoder, expected, "the gene embeddings")
    q = enc.encode([query])[0]
    scores = l2_normalize(gene_embeddings.vectors) @ q
    order = np.lexsort((np.asarray(gene_embeddings.genes, dtype=str), -scores))[:top_n]
    return pd.DataFrame(
        {
            "gene": np.asarray(gene_embeddings.genes)[order],
            "score": scores[order].astype(np.float32),
            "rank": np.arange(1, len(order) + 1),
        }
    )


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
    dataset's mean cell (``center``, see the module notes): positive when a cell is closer to
    the query than the average cell. Cells without an embedding (all-zero rows) score NaN.

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
        ``adata.obs`` column for the scores (float32); the query goes to ``uns[key_added]``.
    copy
        Return a modified copy instead of writing into ``adata``.

    Examples
    --------
    >>> search_cells(adata, "type I interferon response")
    >>> adata.obs["genept_search"].groupby(adata.obs["group_id"]).mean()
    """
    adata = adata.copy() if copy else adata
    (query,) = _clean_texts([query], "the query")
    C = _cells(adata, basis)
    enc = _get_encoder(encoder, _basis_encoder_identity(adata, basis), f"adata.obsm[{basis!r}]")
    adata.obs[key_added] = text_scores(C, enc.encode([query]), center=center)[:, 0]
    adata.uns[key_added] = {"query": query, "basis": basis, "encoder": enc.identity, "center": bool(center)}
    return adata if copy else None

