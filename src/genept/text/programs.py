"""Gene programs on arrays: groups of genes whose texts say similar things, and their names.

A *program* is a Leiden community of a cosine k-nearest-neighbour graph built on gene
embeddings (:func:`find_programs`). Programs are named from their members' texts
(:func:`program_terms`: the most characteristic TF-IDF terms) and, with annotations, by their
most enriched term (:func:`program_summary`, using
:func:`genept.text.enrichment.program_enrichment`).

The AnnData tools are :func:`genept.tl.gene_programs` and :func:`genept.tl.score_programs`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genept.encoders.base import l2_normalize

if TYPE_CHECKING:
    from genept.embeddings import GeneEmbeddings
    from genept.genes.corpus import GeneCorpus

logger = logging.getLogger(__name__)

# Words of the corpus text template and of RefSeq's provenance notes: they say nothing about a program.
_TEMPLATE_WORDS = (
    "gene", "genes", "symbol", "full", "name", "type", "known", "summary", "ontology", "protein", "coding",
    "provided", "refseq", "encodes", "encoded", "encoding", "jan", "feb", "mar", "apr", "may", "jun", "jul",
    "aug", "sep", "oct", "nov", "dec", "cell", "cells",
)  # fmt: skip
# RefSeq sentences about transcript variants and pseudogenes: the most common sentences of the
# corpus, about gene structure rather than function; left to them, they name whole programs.
_BOILERPLATE = re.compile(r"(transcript|splice|spliced)\s+variants?|isoforms? ha(ve|s) been|pseudogene", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?\]])\s+|\n")
_TOKEN = re.compile(r"\b[a-z][a-z0-9\-]+\b")


def _analyzer(stop_words: frozenset[str]):
    """Words and pairs of *adjacent* words, neither a stop word (sklearn would pair words across
    removed stop words: "involved in ribosome" -> "involved ribosome")."""

    def analyze(text: str) -> list[str]:
        text = " ".join(s for s in _SENTENCE.split(text) if not _BOILERPLATE.search(s))
        words = _TOKEN.findall(text.lower())
        keep = [w not in stop_words for w in words]
        out = [w for w, k in zip(words, keep, strict=True) if k]
        out += [f"{a} {b}" for a, b, ka, kb in zip(words, words[1:], keep, keep[1:]) if ka and kb]
        return out

    return analyze


def _texts_of(texts: GeneCorpus | Mapping[str, str]) -> dict[str, str]:
    return dict(texts.texts) if hasattr(texts, "texts") else {str(k): str(v) for k, v in texts.items()}



# -- programs ------------------------------------------------------------------------------------
def _knn_graph(vectors: np.ndarray, n_neighbors: int, *, block: int = 2048) -> sp.csr_matrix:
    """Symmetric cosine kNN graph (exact; ``n_neighbors`` counts the gene itself, as in scanpy).

    Edge weight: the cosine similarity, clipped at 0; an edge kept by either end (max).
    """
    n = vectors.shape[0]
    k = min(n_neighbors - 1, n - 1)
    rows = np.repeat(np.arange(n), k)
    cols = np.empty(n * k, dtype=np.int64)
    vals = np.empty(n * k, dtype=np.float32)
    for start in range(0, n, block):
        stop = min(start + block, n)
        S = vectors[start:stop] @ vectors.T
        S[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # not its own neighbour
        top = np.argpartition(-S, k - 1, axis=1)[:, :k]
        cols[start * k : stop * k] = top.ravel()
        vals[start * k : stop * k] = np.take_along_axis(S, top, axis=1).ravel()
    A = sp.csr_matrix((np.clip(vals, 0, None), (rows, cols)), shape=(n, n))
    return A.maximum(A.T).tocsr()


def _leiden(vectors: np.ndarray, n_neighbors: int, resolution: float, seed: int) -> np.ndarray:
    """Leiden communities (igraph, modularity with resolution) of the cosine kNN graph."""
    import random

    import igraph

    A = sp.triu(_knn_graph(vectors, n_neighbors), k=1).tocoo()
    g = igraph.Graph(n=vectors.shape[0], edges=np.column_stack([A.row, A.col]).tolist(), directed=False)
    g.es["weight"] = A.data.astype(float).tolist()
    # igraph draws from a global generator: seed it for this call only.
    igraph.set_random_number_generator(random.Random(seed))
    try:
        part = g.community_leiden(objective_function="modularity", weights="weight", resolution=resolution, n_iterations=-1)
    finally:
        igraph.set_random_number_generator(random)
    return np.asarray(part.membership)


@dataclass
class GenePrograms:
    """Programs found by :func:`find_programs`.

    Attributes
    ----------
    programs
        Program id (``P0, P1, ...`` by decreasing size) -> member genes, as given.
    keys
        Program id -> the members' embedding keys (e.g. HGNC symbols), in the same order: what
        gene texts and annotations are indexed by.
    grouped
        Every gene that had an embedding and was clustered (as given).
    grouped_keys
        Their embedding keys: the natural background of an enrichment test.
    n_without_embedding
        Genes left out because no embedding matched them.
    """

    programs: dict[str, list[str]]
    keys: dict[str, list[str]]
    grouped: list[str] = field(default_factory=list)
    grouped_keys: list[str] = field(default_factory=list)
    n_without_embedding: int = 0

    def membership(self, genes: Sequence[str]) -> list[str | None]:
        """The program of each gene of ``genes`` (``None`` outside every program).

        Examples
        --------
        >>> GenePrograms({"P0": ["A", "B"]}, {"P0": ["A", "B"]}).membership(["B", "C"])
        ['P0', None]
        """
        of = {g: p for p, members in self.programs.items() for g in members}
        return [of.get(str(g)) for g in genes]


def find_programs(
    genes: Sequence[str],
    gene_embeddings: GeneEmbeddings,
    *,
    species: str = "auto",
    resolution: float = 1.0,
    n_neighbors: int = 15,
    min_size: int = 5,
    seed: int = 0,
) -> GenePrograms:
    """Group genes into programs: Leiden communities of their text embeddings.

    Each gene is linked to its ``n_neighbors - 1`` most similar genes (exact cosine similarity
    of the embeddings; edge weight = similarity, an edge kept when either end chose it) and the
    graph is split with Leiden (igraph, modularity objective with ``resolution``, iterated until
    stable). Communities smaller than ``min_size`` are not programs; their genes stay
    unassigned. Programs are numbered ``P0, P1, ...`` by decreasing size (ties: the first
    member's position).

    Parameters
    ----------
    genes
        Gene identifiers, matched by :meth:`GeneEmbeddings.locate`; genes without an embedding
        are left out (logged and counted).
    gene_embeddings
        The gene embeddings.
    species
        ``"human"``, ``"mouse"`` or ``"auto"``, passed to :meth:`GeneEmbeddings.locate`.
    resolution
        Leiden resolution: higher gives more, smaller programs.
    n_neighbors
        Neighbours per gene in the kNN graph (the gene itself included, as in scanpy).
    min_size
        Smallest community kept as a program.
    seed
        Random seed of Leiden.

    Returns
    -------
    GenePrograms

    Examples
    --------
    >>> import numpy as np
    >>> from genept.embeddings import GeneEmbeddings
    >>> rng = np.random.default_rng(0)
    >>> centres = np.eye(2, 8, dtype=np.float32)
    >>> vectors = np.repeat(centres, 6, axis=0) + 0.05 * rng.normal(size=(12, 8)).astype(np.float32)
    >>> emb = GeneEmbeddings([f"G{i}" for i in range(12)], vectors)
    >>> found = find_programs(emb.genes.tolist(), emb, n_neighbors=4, min_size=3)
    >>> sorted(sorted(m) for m in found.programs.values())
    [['G0', 'G1', 'G2', 'G3', 'G4', 'G5'], ['G10', 'G11', 'G6', 'G7', 'G8', 'G9']]
    """
    if min_size < 1:
        raise ValueError(f"min_size must be at least 1, got {min_size}")
    if n_neighbors < 2:
        raise ValueError(f"n_neighbors must be at least 2, got {n_neighbors}")
    candidates = [str(g) for g in genes]
    if not candidates:
        raise ValueError("no genes to group: the selection is empty (no highly variable genes?)")
    pos = gene_embeddings.locate(candidates, species=species)
    kept = np.flatnonzero(pos >= 0)
    n_missing = len(candidates) - len(kept)
    if n_missing:
        logger.info("%d of %d genes have no embedding and are left out of the programs", n_missing, len(candidates))
    if len(kept) <= n_neighbors:
        raise ValueError(
            f"only {len(kept)} of {len(candidates)} genes have an embedding; need more than n_neighbors={n_neighbors}. "
            "Check that the embeddings cover these genes (and species=), or lower n_neighbors."
        )
    members = [candidates[i] for i in kept]
    keys = [str(gene_embeddings.genes[p]) for p in pos[kept]]
    labels = _leiden(l2_normalize(gene_embeddings.vectors[pos[kept]]), n_neighbors, resolution, seed)

    # Renumber by decreasing size; ties by the first member's position (deterministic).
    ids, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(ids)), key=lambda j: (-counts[j], first[j]))
    rename = {ids[j]: f"P{r}" for r, j in enumerate(o for o in order if counts[o] >= min_size)}
    programs: dict[str, list[str]] = {name: [] for name in rename.values()}
    program_keys: dict[str, list[str]] = {name: [] for name in rename.values()}
    for gene, key, lab in zip(members, keys, labels, strict=True):
        if lab in rename:
            programs[rename[lab]].append(gene)
            program_keys[rename[lab]].append(key)
    if not programs:
        raise ValueError(f"no community has at least min_size={min_size} genes; lower min_size or the resolution")
    logger.info("%d programs from %d genes (%d in programs)", len(programs), len(members), sum(map(len, programs.values())))
    return GenePrograms(programs, program_keys, members, keys, int(n_missing))


def program_summary(
    found: GenePrograms,
    *,
    corpus: GeneCorpus | Mapping[str, str] | None = None,
    annotations: Mapping[str, Collection[str]] | pd.DataFrame | None = None,
    term_names: Mapping[str, str] | None = None,
    n_terms: int = 5,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One row per program: size, first genes, and (when given texts / annotations) its names.

    Parameters
    ----------
    found
        Output of :func:`find_programs`.
    corpus
        Gene texts (a :class:`~genept.genes.corpus.GeneCorpus` or ``{symbol: text}``) to name
        programs by their characteristic terms (:func:`program_terms`).
    annotations
        Term -> genes (e.g. GO), or a long table with a gene and a term column, to test each
        program for enrichment against the grouped genes
        (:func:`genept.text.enrichment.program_enrichment`).
    term_names
        Term id -> readable name for the enrichment table.
    n_terms
        Terms kept per program name.

    Returns
    -------
    tuple
        ``(summary, enrichment)``. ``summary`` is indexed by program with ``n_genes`` and
        ``genes`` (the first ten); with ``corpus`` also ``terms``; with ``annotations`` also
        ``top_term`` and ``top_term_padj`` (empty / NaN when no term has adjusted p < 0.05).
        ``enrichment`` is the enrichment table, or ``None`` without annotations.

    Examples
    --------
    >>> found = GenePrograms({"P0": ["IFIT1", "ISG15"]}, {"P0": ["IFIT1", "ISG15"]})
    >>> summary, _ = program_summary(found)
    >>> summary.to_dict("index")
    {'P0': {'n_genes': 2, 'genes': 'IFIT1, ISG15'}}
    """
    from genept.text.enrichment import program_enrichment

    names = list(found.programs)
    summary = pd.DataFrame(
        {
            "n_genes": [len(found.programs[p]) for p in names],
            "genes": [", ".join(found.programs[p][:10]) for p in names],
        },
        index=pd.Index(names, name="program"),
    )
    if corpus is not None:
        terms = program_terms(found.keys, corpus, n_terms=n_terms)
        summary["terms"] = [", ".join(terms[p]) for p in names]
    enrichment = None
    if annotations is not None:
        enrichment = program_enrichment(found.keys, annotations, background=found.grouped_keys, term_names=term_names)
        best = enrichment.sort_values(["program", "padj", "pvalue"], kind="stable").groupby("program", observed=True).head(1)
        best = best.set_index("program")
        best = best[best["padj"] < 0.05]  # a name only from a significant term
        label = best["term_name"].where(best["term_name"] != "", best["term"])
        summary["top_term"] = label.reindex(names).fillna("").astype(str)
        summary["top_term_padj"] = best["padj"].reindex(names).astype(float)
    return summary, enrichment


# -- naming from text ----------------------------------------------------------------------------
def program_terms(
    programs: Mapping[str, Sequence[str]],
    texts: GeneCorpus | Mapping[str, str],
    *,
    n_terms: int = 5,
    min_genes: int = 2,
) -> dict[str, list[str]]:
    """The words and word pairs that characterise each program's gene texts.

    Every text of ``texts`` is a TF-IDF document (English stop words and the corpus template's
    own words removed, sublinear term frequency, unigrams and bigrams seen in at least two
    texts; pairs are adjacent words). A program's profile is the mean TF-IDF vector of its members' texts; terms rank by
    how much that profile exceeds the mean over *all* texts. Sentences about transcript
    variants, isoforms and pseudogenes (RefSeq's most common sentences) are left out. A term must occur in at least
    ``min_genes`` member texts (fewer when the program has fewer texts), so one gene's own
    symbol cannot name a program. A word pair replaces the single words it contains.

    Parameters
    ----------
    programs
        Program -> member genes (keys of ``texts``; genes without a text are ignored).
    texts
        Gene texts: a :class:`~genept.genes.corpus.GeneCorpus` or ``{gene: text}``. All of them
        are the background, so pass the whole corpus, not only the members.
    n_terms
        Terms per program.
    min_genes
        Member texts a term must occur in.

    Returns
    -------
    Program -> up to ``n_terms`` terms, best first (empty for a program without texts).

    Examples
    --------
    >>> texts = {"IFIT1": "Interferon induced antiviral protein.", "ISG15": "Interferon stimulated antiviral gene.",
    ...          "COL1A1": "Collagen of the extracellular matrix.", "COL1A2": "Collagen fibril of the matrix."}
    >>> program_terms({"P0": ["IFIT1", "ISG15"], "P1": ["COL1A1", "COL1A2"]}, texts, n_terms=2)
    {'P0': ['antiviral', 'interferon'], 'P1': ['collagen', 'matrix']}
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    all_texts = _texts_of(texts)
    if not all_texts:
        raise ValueError("no gene texts given: pass a GeneCorpus or a {gene: text} mapping")
    genes = list(all_texts)
    index = pd.Index(genes)
    vec = TfidfVectorizer(
        analyzer=_analyzer(frozenset(ENGLISH_STOP_WORDS.union(_TEMPLATE_WORDS))),
        min_df=min(2, len(genes)),
        sublinear_tf=True,
        dtype=np.float32,
    )
    X = vec.fit_transform([all_texts[g] for g in genes]).tocsr()
    vocab = vec.get_feature_names_out()
    background = np.asarray(X.mean(axis=0)).ravel()
    out: dict[str, list[str]] = {}
    for name, members in programs.items():
        rows = index.get_indexer([str(m) for m in members])
        rows = np.unique(rows[rows >= 0])
        if len(rows) == 0:
            out[name] = []
            continue
        sub = X[rows]
        score = np.asarray(sub.mean(axis=0)).ravel() - background
        df = np.diff(sp.csc_matrix(sub).indptr)
        score[df < min(min_genes, len(rows))] = -np.inf
        # Stable sort: equal scores keep vocabulary (alphabetical) order.
        ranked = np.argsort(-score, kind="stable")
        chosen: list[str] = []
        for j in ranked:
            if len(chosen) == n_terms or not np.isfinite(score[j]) or score[j] <= 0:
                break
            term = str(vocab[j])
            if any(term in c.split(" ") for c in chosen if " " in c):
                continue  # already said by a better pair
            if " " in term:  # a pair replaces the words it contains
                chosen = [c for c in chosen if c not in term.split(" ")]
            chosen.append(term)
        out[name] = chosen
    return out


__all__ = ["GenePrograms", "find_programs", "program_summary", "program_terms"]
