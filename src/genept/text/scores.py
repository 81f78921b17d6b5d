"""Text meets embeddings, on arrays: score cells against texts, pick labels, pick genes for a text.

GenePT gene and cell embeddings live in the text space of the encoder that made them, so any text
that encoder reads can be compared with them: a cell-type description, a pathway, a phenotype.

Why the scores are centred
    A GenePT-w cell vector is an average of *gene-text* embeddings, so every cell sits near the
    region of the space where gene texts live, and every free text is about equally far from all
    cells: raw cosines differ by little between cells and are dominated by how close a text is
    to gene texts in general. :func:`text_scores` therefore compares each cell's *deviation* from
    the average cell of the dataset with the text: ``score = cos(c - mean(c), t)``, with ``c``
    the cell vector and ``t`` the text's embedding (``center=False`` gives the raw cosine).
    Scores are relative to the dataset: a cell scores high for a text when it is closer to it
    than the average cell is.

The AnnData tools built on these functions are in :mod:`genept.tl` (``zero_shot_annotate``,
``search_cells``, ``search_genes``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from genept.encoders.base import l2_normalize

if TYPE_CHECKING:
    from genept.embeddings import GeneEmbeddings
    from genept.encoders.base import Encoder

logger = logging.getLogger(__name__)

#: The label of cells that no label fits well enough.
UNASSIGNED = "unassigned"


def clean_texts(texts: Sequence[str], what: str) -> list[str]:
    """The texts stripped, refusing non-strings and blank texts (``what`` names them in errors).

    Examples
    --------
    >>> clean_texts(["  insulin secretion "], "queries")
    ['insulin secretion']
    """
    out = []
    for t in texts:
        if not isinstance(t, str):
            raise TypeError(f"{what} must be strings, got {type(t).__name__}")
        if not t.strip():
            raise ValueError(f"{what} must not be empty or blank")
        out.append(t.strip())
    return out


def label_texts(labels: Sequence[str] | Mapping[str, str] | str | os.PathLike) -> tuple[list[str], list[str]]:
    """Label names and the texts to embed for them, checked.

    Parameters
    ----------
    labels
        Label names (each embedded as written), ``{name: description}``, or the path of a label
        file (``.tsv``/``.csv`` with ``name`` and ``description`` columns, a ``.json`` mapping, or
        ``name: description`` lines; :func:`genept.text.labels.read_label_file`). At least two,
        unique, none called ``"unassigned"``.

    Returns
    -------
    tuple
        ``(names, texts)``.

    Examples
    --------
    >>> label_texts({"beta": "pancreatic beta cell (INS)", "alpha": "pancreatic alpha cell (GCG)"})
    (['beta', 'alpha'], ['pancreatic beta cell (INS)', 'pancreatic alpha cell (GCG)'])
    >>> label_texts(["T cell", "B cell"])
    (['T cell', 'B cell'], ['T cell', 'B cell'])
    """
    if isinstance(labels, os.PathLike) or (isinstance(labels, str) and Path(labels).is_file()):
        from genept.text.labels import read_label_file

        labels = read_label_file(labels)
    elif isinstance(labels, str):
        raise TypeError(
            f"labels must be a list of names, a {{name: description}} mapping or the path of a label file; "
            f"{labels[:60]!r} is one string and no such file exists"
        )
    if isinstance(labels, Mapping):
        names = [str(k) for k in labels]
        texts = clean_texts([labels[k] for k in labels], "label descriptions")
    else:
        names = [str(x) for x in labels]
        texts = clean_texts(list(labels), "labels")
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


def query_encoder(encoder: str | Encoder | None, expected: str | None, what: str, *, spec: str | None = None) -> Encoder:
    """Build the encoder for a query and refuse one that differs from the one that made ``what``.

    Parameters
    ----------
    encoder
        Encoder spec or object; ``None`` for the default (``"minilm"``).
    expected
        Identity of the encoder that made the embeddings, or ``None`` when unknown (then any
        encoder is trusted, with a log line).
    what
        The embeddings, for messages (e.g. ``"adata.obsm['X_genept_w']"``).

    Raises
    ------
    ValueError
        The encoder's identity differs from ``expected``.

    Examples
    --------
    >>> enc = query_encoder("hashing", None, "the gene embeddings")
    >>> query_encoder("hashing", "minilm-something", "the gene embeddings")
    Traceback (most recent call last):
    ...
    ValueError: the gene embeddings was made with encoder 'minilm-something', ...
    """
    from genept.encoders import DEFAULT_ENCODER, get_encoder

    if encoder is None:
        # embeddings made by a fitted or combined encoder record the spec that rebuilds it (meta["encoder_spec"])
        encoder = spec or DEFAULT_ENCODER
    enc = get_encoder(encoder)
    if expected is not None and enc.identity != expected:
        raise ValueError(
            f"{what} was made with encoder {expected!r}, but the query encoder is {enc.identity!r}. "
            "Texts and embeddings must come from the same encoder: pass the encoder that made them "
            "(encoder=... with that identity)."
        )
    if expected is None:
        logger.info("%s records no encoder; trusting that %s made it", what, enc.identity)
    return enc


def text_scores(cells: np.ndarray, texts: np.ndarray, *, center: bool = True) -> np.ndarray:
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
    numpy.ndarray
        ``(n_cells, n_texts)`` float32.

    Examples
    --------
    >>> import numpy as np
    >>> cells = np.array([[1.0, 0.2], [0.2, 1.0], [0.0, 0.0]], dtype=np.float32)
    >>> texts = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    >>> text_scores(cells, texts).astype(float).round(2).tolist()
    [[0.71, -0.71], [-0.71, 0.71], [nan, nan]]
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

    Parameters
    ----------
    scores
        ``(n_cells, n_labels)`` scores, e.g. from :func:`text_scores`.
    names
        One name per column.
    min_margin
        Smallest best-minus-second-best score for a label.
    min_score
        Smallest best score for a label; ``None``: no floor.

    Returns
    -------
    numpy.ndarray
        One label (or ``"unassigned"``) per row, dtype object.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[0.9, 0.1], [0.5, 0.45], [np.nan, np.nan]])
    >>> assign_labels(S, ["beta", "alpha"], min_margin=0.1).tolist()
    ['beta', 'unassigned', 'unassigned']
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


def label_margins(scores: np.ndarray) -> np.ndarray:
    """Best minus second-best score per row (float32; NaN for rows without a score).

    Examples
    --------
    >>> import numpy as np
    >>> label_margins(np.array([[0.9, 0.1, 0.3], [np.nan, np.nan, np.nan]])).astype(float).round(2).tolist()
    [0.6, nan]
    """
    filled = np.where(np.isnan(scores), -np.inf, np.asarray(scores, dtype=np.float32))
    top2 = -np.sort(-filled, axis=1)[:, :2]
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(top2[:, 0]), top2[:, 0] - top2[:, 1], np.nan).astype(np.float32)


def nearest_genes(
    genes: Sequence[str],
    gene_embeddings: GeneEmbeddings,
    text_vectors: np.ndarray,
    names: Sequence[str],
    *,
    n_genes: int = 10,
    species: str = "auto",
) -> dict[str, list[str]]:
    """For each text, the ``n_genes`` of ``genes`` whose embedding is closest to it (cosine).

    Parameters
    ----------
    genes
        Candidate gene identifiers (e.g. ``var_names``), matched by :meth:`GeneEmbeddings.locate`.
        Genes without an embedding are never chosen.
    gene_embeddings
        The gene embeddings (made by the encoder that embedded the texts).
    text_vectors
        ``(n_texts, dim)`` text embeddings.
    names
        One name per text: the keys of the result.
    n_genes
        Genes per text. Ties are broken by the order of ``genes``.
    species
        ``"human"``, ``"mouse"`` or ``"auto"``, passed to :meth:`GeneEmbeddings.locate`.

    Returns
    -------
    dict
        ``{name: [gene, ...]}``, closest first, genes as given in ``genes``.

    Examples
    --------
    >>> import numpy as np
    >>> from genept.embeddings import GeneEmbeddings
    >>> emb = GeneEmbeddings(["INS", "GCG", "COL1A1"], np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32))
    >>> nearest_genes(["COL1A1", "GCG", "INS"], emb, np.array([[1.0, 0.0]]), ["hormone"], n_genes=2)
    {'hormone': ['INS', 'GCG']}
    """
    if n_genes < 1:
        raise ValueError(f"n_genes must be at least 1, got {n_genes}")
    pos = gene_embeddings.locate(genes, species=species)
    rows = np.flatnonzero(pos >= 0)
    if len(rows) == 0:
        raise ValueError("no gene has an embedding; check that the genes are symbols or ids (and species=)")
    E = l2_normalize(gene_embeddings.vectors[pos[rows]])
    sim = E @ l2_normalize(np.asarray(text_vectors, dtype=np.float32)).T
    var = np.asarray([str(g) for g in genes], dtype=object)
    return {n: var[rows[np.argsort(-sim[:, j], kind="stable")[:n_genes]]].tolist() for j, n in enumerate(names)}


def rank_genes(gene_embeddings: GeneEmbeddings, query_vector: np.ndarray, *, top_n: int = 20):
    """The ``top_n`` genes of the embeddings closest to one query vector (cosine), best first.

    Equal scores are ordered by gene name.

    Returns
    -------
    pandas.DataFrame
        Columns ``gene``, ``score`` (float32 cosine) and ``rank`` (1 = best).

    Examples
    --------
    >>> import numpy as np
    >>> from genept.embeddings import GeneEmbeddings
    >>> emb = GeneEmbeddings(["INS", "GCG", "COL1A1"], np.array([[1, 0], [0.9, 0.1], [0, 1]], dtype=np.float32))
    >>> rank_genes(emb, np.array([0.0, 1.0]), top_n=2)["gene"].tolist()
    ['COL1A1', 'GCG']
    """
    import pandas as pd

    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    if len(gene_embeddings) == 0:
        raise ValueError("the gene embeddings are empty")
    q = np.asarray(query_vector, dtype=np.float32).ravel()
    scores = l2_normalize(gene_embeddings.vectors) @ (q / max(float(np.linalg.norm(q)), 1e-12))
    order = np.lexsort((np.asarray(gene_embeddings.genes, dtype=str), -scores))[:top_n]
    return pd.DataFrame(
        {
            "gene": np.asarray(gene_embeddings.genes)[order],
            "score": scores[order].astype(np.float32),
            "rank": np.arange(1, len(order) + 1),
        }
    )


__all__ = [
    "UNASSIGNED",
    "assign_labels",
    "clean_texts",
    "label_margins",
    "label_texts",
    "nearest_genes",
    "query_encoder",
    "rank_genes",
    "text_scores",
]
