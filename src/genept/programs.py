"""Gene programs: groups of genes whose texts say similar things, scored in cells and named.

A *program* is a Leiden community of a cosine k-nearest-neighbour graph built on the gene
embeddings of an AnnData's genes. Programs are

- stored as membership (``adata.var[key]``, ``adata.uns[key]``) by :func:`gene_programs`,
- named from their members' texts (:func:`program_terms`: the most characteristic TF-IDF terms)
  and tested for Gene Ontology enrichment (:func:`program_enrichment`: hypergeometric test with
  Benjamini-Hochberg correction),
- scored in every cell by :func:`score_programs` (scanpy's ``score_genes``) and drawn per cell
  group by :func:`program_heatmap`.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genept._utils import atomic_path
from genept.encoders.base import l2_normalize

if TYPE_CHECKING:
    from anndata import AnnData
    from matplotlib.axes import Axes

    from genept.embeddings import GeneEmbeddings
    from genept.genes.corpus import GeneCorpus

logger = logging.getLogger(__name__)

__all__ = [
    "gene_programs", "program_enrichment", "program_heatmap", "program_terms", "read_go_sets", "score_gene_sets", "score_programs",
]

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


# -- genes <-> embedding keys ---------------------------------------------------------------------
def _embedding_keys(gene_embeddings: GeneEmbeddings, ids: Sequence[str]) -> list[str | None]:
    """The embedding key of each identifier (itself, or its symbol via the resolver), or None.

    Same matching rule as :meth:`GeneEmbeddings.reindex`.
    """
    ids = [str(i) for i in ids]
    pos = gene_embeddings.genes.get_indexer(ids)
    keys: list[str | None] = [ids[i] if p >= 0 else None for i, p in enumerate(pos)]
    missing = np.flatnonzero(pos < 0)
    if len(missing):
        from genept.genes.ids import GeneResolver

        resolver = GeneResolver.default()
        species = resolver.guess_species(ids)
        symbols = resolver.to_symbols([ids[i] for i in missing], species=species)
        for i, s in zip(missing, symbols, strict=True):
            if s is not None and s in gene_embeddings.genes:
                keys[i] = s
    return keys


def _texts_of(texts: GeneCorpus | Mapping[str, str]) -> dict[str, str]:
    return dict(texts.texts) if hasattr(texts, "texts") else {str(k): str(v) for k, v in texts.items()}


# -- programs -------------------------------------------------------------------------------------
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


def gene_programs(
    adata: AnnData,
    gene_embeddings: GeneEmbeddings,
    *,
    resolution: float = 1.0,
    n_neighbors: int = 15,
    genes: Sequence[str] | None = None,
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
    of the embeddings; edge weight = similarity, an edge kept when either end chose it) and the
    graph is split with Leiden (igraph, modularity objective with ``resolution``, iterated until
    stable). Communities smaller than ``min_size`` are not programs; their genes stay
    unassigned. Programs are numbered ``P0, P1, ...`` by decreasing size.

    Parameters
    ----------
    adata
        Annotated data; only ``var_names`` (and ``var["highly_variable"]``) are read.
    gene_embeddings
        Gene embeddings; ``var_names`` are matched as in :meth:`GeneEmbeddings.reindex`
        (symbols directly, other identifiers and mouse genes through the resolver).
    resolution
        Leiden resolution: higher gives more, smaller programs.
    n_neighbors
        Neighbours per gene in the kNN graph (the gene itself included, as in scanpy).
    genes
        Genes to group (a subset of ``var_names``). Default: ``var["highly_variable"]`` when
        present, else every gene. Genes without an embedding are left out (logged).
    min_size
        Smallest community kept as a program.
    corpus
        Gene texts (a :class:`~genept.genes.corpus.GeneCorpus` or ``{symbol: text}``) to name
        programs by their characteristic terms (:func:`program_terms`).
    annotations
        Term -> genes (e.g. GO), or a long table with a gene and a term column, to test each
        program for enrichment (:func:`program_enrichment`) against the grouped genes.
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
        ``programs`` (program id -> array of member ``var_names``), ``summary`` (DataFrame:
        ``n_genes``, first ``genes``; with ``corpus`` the ``terms``; with ``annotations`` the
        ``top_term`` and its ``top_term_padj``, empty/NaN when no term has adjusted p < 0.05),
        ``enrichment`` (the :func:`program_enrichment` table, with ``annotations``) and ``params``.

    Examples
    --------
    >>> import genept
    >>> emb = genept.GeneEmbeddings.load("genes_minilm.npz")
    >>> genept.programs.gene_programs(adata, emb, corpus=corpus)
    >>> adata.uns["genept_programs"]["summary"].head()
    """
    adata = adata.copy() if copy else adata
    if min_size < 1:
        raise ValueError(f"min_size must be at least 1, got {min_size}")
    if n_neighbors < 2:
        raise ValueError(f"n_neighbors must be at least 2, got {n_neighbors}")
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
    if not candidates:
        raise ValueError("no genes to group: the selection is empty (no highly variable genes?)")
    keys = _embedding_keys(gene_embeddings, candidates)
    kept = [i for i, k in enumerate(keys) if k is not None]
    n_missing = len(candidates) - len(kept)
    if n_missing:
        logger.info("%d of %d genes have no embedding and are left out of the programs", n_missing, len(candidates))
    if len(kept) <= n_neighbors:
        raise ValueError(
            f"only {len(kept)} of {len(candidates)} genes have an embedding; need more than n_neighbors={n_neighbors}. "
            "Check that the embeddings cover these genes, or lower n_neighbors."
        )
    members = [candidates[i] for i in kept]
    symbols = [keys[i] for i in kept]
    vectors = l2_normalize(gene_embeddings.vectors[gene_embeddings.genes.get_indexer(symbols)])
    labels = _leiden(vectors, n_neighbors, resolution, seed)

    # Renumber by decreasing size; ties by the first member's position (deterministic).
    ids, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(ids)), key=lambda j: (-counts[j], first[j]))
    rename = {ids[j]: f"P{r}" for r, j in enumerate(o for o in order if counts[o] >= min_size)}
    programs: dict[str, list[str]] = {name: [] for name in rename.values()}
    program_symbols: dict[str, list[str]] = {name: [] for name in rename.values()}
    gene_program: dict[str, str] = {}
    for gene, sym, lab in zip(members, symbols, labels, strict=True):
        if lab in rename:
            programs[rename[lab]].append(gene)
            program_symbols[rename[lab]].append(sym)
            gene_program[gene] = rename[lab]
    if not programs:
        raise ValueError(f"no community has at least min_size={min_size} genes; lower min_size or the resolution")

    names = list(programs)
    summary = pd.DataFrame(
        {
            "n_genes": [len(programs[p]) for p in names],
            "genes": [", ".join(programs[p][:10]) for p in names],
        },
        index=pd.Index(names, name="program"),
    )
    if corpus is not None:
        terms = program_terms(program_symbols, corpus, n_terms=n_terms)
        summary["terms"] = [", ".join(terms[p]) for p in names]
    enrichment = None
    if annotations is not None:
        enrichment = program_enrichment(program_symbols, annotations, background=symbols, term_names=term_names)
        best = enrichment.sort_values(["program", "padj", "pvalue"], kind="stable").groupby("program", observed=True).head(1)
        best = best.set_index("program")
        best = best[best["padj"] < 0.05]  # a name only from a significant term
        label = best["term_name"].where(best["term_name"] != "", best["term"])
        summary["top_term"] = label.reindex(names).fillna("").astype(str)
        summary["top_term_padj"] = best["padj"].reindex(names).astype(float)

    adata.var[key_added] = pd.Categorical([gene_program.get(g) for g in var_names], categories=names)
    adata.uns[key_added] = {
        "programs": {p: np.asarray(programs[p], dtype=str) for p in names},
        "summary": summary,
        "params": {
            "resolution": float(resolution),
            "n_neighbors": int(n_neighbors),
            "min_size": int(min_size),
            "seed": int(seed),
            "genes": selection,
            "n_genes_grouped": len(members),
            "n_genes_without_embedding": int(n_missing),
            "encoder": str(gene_embeddings.meta.get("encoder", "unknown")),
        },
    }
    if enrichment is not None:
        adata.uns[key_added]["enrichment"] = enrichment
    logger.info("%d programs from %d genes (%d in programs)", len(names), len(members), len(gene_program))
    return adata if copy else None


# -- naming from text -----------------------------------------------------------------------------
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
    >>> texts = {"IFIT1": "interferon induced antiviral ...", "ISG15": "interferon stimulated ...", ...}
    >>> program_terms({"P0": ["IFIT1", "ISG15"]}, texts)
    {'P0': ['interferon', ...]}
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


# -- enrichment -----------------------------------------------------------------------------------
def _term_sets(annotations: Mapping[str, Collection[str]] | pd.DataFrame) -> dict[str, set[str]]:
    if isinstance(annotations, pd.DataFrame):
        cols = {c.lower(): c for c in annotations.columns}
        gene_col = next((cols[c] for c in ("symbol", "gene", "gene_symbol") if c in cols), None)
        term_col = next((cols[c] for c in ("go_id", "term", "term_id") if c in cols), None)
        if gene_col is None or term_col is None:
            raise ValueError(
                "annotation table needs a gene column (symbol/gene) and a term column (go_id/term); "
                f"got columns {list(annotations.columns)}"
            )
        grouped = annotations[[gene_col, term_col]].dropna().astype(str).groupby(term_col)[gene_col]
        return {t: set(g) for t, g in grouped}
    return {str(t): {str(g) for g in genes} for t, genes in annotations.items()}


def program_enrichment(
    programs: Mapping[str, Collection[str]],
    annotations: Mapping[str, Collection[str]] | pd.DataFrame,
    background: Iterable[str],
    *,
    term_names: Mapping[str, str] | None = None,
    min_term_size: int = 5,
    max_term_size: int = 500,
) -> pd.DataFrame:
    """Over-representation of annotation terms (e.g. GO) in each program: hypergeometric test, BH-corrected.

    The universe is the background genes that carry at least one annotation; program genes and
    term members outside it are ignored. A term of ``K`` universe genes (``min_term_size <= K
    <= max_term_size``) that shares ``k`` genes with a program of ``n`` universe genes, in a
    universe of ``N``, gets ``p = P(X >= k)``, ``X ~ Hypergeometric(N, K, n)`` (one-sided,
    ``scipy.stats.hypergeom.sf(k - 1, N, K, n)``). Benjamini-Hochberg adjusts the p-values of
    every tested term (including those with no overlap, p = 1) separately per program. Only
    terms with ``k >= 1`` are returned.

    Annotations are used as given: propagate GO annotations to ancestor terms beforehand for
    the usual "true path" test.

    Parameters
    ----------
    programs
        Program -> genes.
    annotations
        Term -> genes, or a long table with a gene column (``symbol``/``gene``) and a term column
        (``go_id``/``term``).
    background
        All genes that could have been in a program (e.g. the genes that were grouped).
    term_names
        Term id -> readable name.
    min_term_size, max_term_size
        Only terms with this many universe genes are tested.

    Returns
    -------
    DataFrame with one row per (program, term) with overlap: ``program``, ``term``,
    ``term_name``, ``overlap`` (k), ``program_size`` (n), ``term_size`` (K), ``universe`` (N),
    ``expected`` (nK/N), ``fold`` (k / expected), ``pvalue``, ``padj``, ``genes`` (the
    overlap, comma-separated); sorted by program, then p-value.

    Examples
    --------
    >>> go = {"GO:0060337": ["IFIT1", "ISG15", "MX1", ...], ...}
    >>> program_enrichment({"P0": ["IFIT1", "ISG15", "MX1"]}, go, background=adata.var_names)
    """
    from scipy.stats import false_discovery_control, hypergeom

    columns = ["program", "term", "term_name", "overlap", "program_size", "term_size", "universe",
               "expected", "fold", "pvalue", "padj", "genes"]  # fmt: skip
    if min_term_size < 1 or max_term_size < min_term_size:
        raise ValueError(f"need 1 <= min_term_size <= max_term_size, got {min_term_size}, {max_term_size}")
    background = {str(g) for g in background}
    if not background:
        raise ValueError("the background gene set is empty")
    sets = _term_sets(annotations)
    annotated = set().union(*sets.values()) if sets else set()
    universe = sorted(background & annotated)
    if not universe:
        raise ValueError(
            "no background gene carries an annotation: check that annotations and background use the same "
            "identifiers (e.g. HGNC symbols)"
        )
    pos = {g: i for i, g in enumerate(universe)}
    term_ids, rows, cols = [], [], []
    for term, genes in sets.items():
        idx = [pos[g] for g in genes if g in pos]
        if min_term_size <= len(idx) <= max_term_size:
            rows.extend(idx)
            cols.extend([len(term_ids)] * len(idx))
            term_ids.append(term)
    N = len(universe)
    if not term_ids:
        logger.warning("no term has between %d and %d universe genes; nothing tested", min_term_size, max_term_size)
        return pd.DataFrame(columns=columns)
    M = sp.csc_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(N, len(term_ids)))
    K = np.asarray(M.sum(axis=0)).ravel().astype(np.int64)
    names = term_names or {}
    universe_arr = np.asarray(universe, dtype=object)
    frames = []
    for program, genes in programs.items():
        genes = {str(g) for g in genes}
        outside = genes - background
        if outside:
            logger.warning("program %s: %d genes are not in the background and are ignored", program, len(outside))
        idx = np.array(sorted(pos[g] for g in genes if g in pos), dtype=np.int64)
        n = len(idx)
        if n == 0:
            continue
        hits = M[idx]
        k = np.asarray(hits.sum(axis=0)).ravel().astype(np.int64)
        pvals = hypergeom.sf(k - 1, N, K, n)
        padj = false_discovery_control(pvals, method="bh")
        tested = np.flatnonzero(k > 0)
        hits = hits.tocsc()
        overlap_genes = [
            ", ".join(universe_arr[idx[hits.indices[hits.indptr[j] : hits.indptr[j + 1]]]]) for j in tested
        ]
        expected = n * K[tested] / N
        frames.append(
            pd.DataFrame(
                {
                    "program": program,
                    "term": [term_ids[j] for j in tested],
                    "term_name": [str(names.get(term_ids[j], "")) for j in tested],
                    "overlap": k[tested],
                    "program_size": n,
                    "term_size": K[tested],
                    "universe": N,
                    "expected": expected,
                    "fold": k[tested] / expected,
                    "pvalue": pvals[tested],
                    "padj": padj[tested],
                    "genes": overlap_genes,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    order = {p: i for i, p in enumerate(programs)}
    out = out.sort_values(["pvalue", "term"], kind="stable")
    out = out.iloc[np.argsort(out["program"].map(order).to_numpy(), kind="stable")].reset_index(drop=True)
    return out[columns]


def read_go_sets(
    annotations: str | Path,
    terms: str | Path | None = None,
    parents: str | Path | None = None,
    *,
    ontologies: Sequence[str] = ("BP",),
    exclude_evidence: Sequence[str] = ("ND",),
) -> tuple[pd.DataFrame, dict[str, str]]:
    """GO annotations for :func:`program_enrichment`, read from user files.

    Parameters
    ----------
    annotations
        Table (TSV/CSV, optionally gzipped) with columns ``symbol``, ``go_id`` and optionally
        ``evidence``, ``ontology``: e.g. ``go_annotations_human_2022.tsv.gz``.
    terms
        Table with ``go_id``, ``term`` (and ``ontology``): term names, e.g. ``go_terms_2022.tsv.gz``.
    parents
        Table with ``child_go_id``, ``parent_go_id``, ``relationship_type``: when given, every
        annotation is propagated to its ``is_a`` / ``part_of`` ancestors (the GO true-path rule),
        as enrichment tools do; direct annotations alone miss most general terms.
    ontologies
        GO branches kept (``BP``, ``MF``, ``CC``).
    exclude_evidence
        Evidence codes dropped (``ND``: no biological data).

    Returns
    -------
    ``(table, names)``: a long table (``symbol``, ``go_id``) and ``{go_id: term name}``.

    Examples
    --------
    >>> ann, names = read_go_sets("go_annotations_human_2022.tsv.gz", "go_terms_2022.tsv.gz", "go_parents_2022.tsv.gz")
    >>> program_enrichment(programs, ann, background, term_names=names)
    """

    def read(path: str | Path, need: Sequence[str]) -> pd.DataFrame:
        path = Path(path)
        sep = "," if path.name.removesuffix(".gz").endswith(".csv") else "\t"
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
        table.columns = [c.strip().lower() for c in table.columns]
        missing = [c for c in need if c not in table.columns]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; columns are {list(table.columns)}")
        return table

    ann = read(annotations, ["symbol", "go_id"])
    if "evidence" in ann.columns:
        ann = ann[~ann["evidence"].isin(list(exclude_evidence))]
    names: dict[str, str] = {}
    ontology: dict[str, str] = {}
    if terms is not None:
        tt = read(terms, ["go_id", "term"]).drop_duplicates("go_id")
        names = dict(zip(tt["go_id"], tt["term"], strict=True))
        if "ontology" in tt.columns:
            ontology = dict(zip(tt["go_id"], tt["ontology"], strict=True))
    if "ontology" in ann.columns:
        ontology = {**dict(zip(ann["go_id"], ann["ontology"], strict=True)), **ontology}
    ann = ann[["symbol", "go_id"]].drop_duplicates()
    if parents is not None:
        from genept.evaluation.genes import propagate_annotations

        edges = read(parents, ["child_go_id", "parent_go_id", "relationship_type"])
        if "ontology" not in edges.columns:
            edges["ontology"] = edges["child_go_id"].map(ontology).fillna("")
        ann = ann.assign(ontology=ann["go_id"].map(ontology).fillna(""))
        ann = propagate_annotations(ann, edges)[["symbol", "go_id"]]
        ontology = {**dict(zip(edges["parent_go_id"], edges["ontology"], strict=True)), **ontology}
    wanted = {o.upper() for o in ontologies}
    if ontology:
        ann = ann[ann["go_id"].map(ontology).fillna("").str.upper().isin(wanted)]
    elif wanted != {"BP", "MF", "CC"}:
        raise ValueError("no ontology column in the annotations or terms table; cannot keep only " + ", ".join(sorted(wanted)))
    if ann.empty:
        raise ValueError(f"no GO annotation left in {annotations} for ontologies {sorted(wanted)}")
    return ann.reset_index(drop=True), names


# -- scoring in cells -----------------------------------------------------------------------------
def _programs_of(adata: AnnData, key: str) -> dict[str, list[str]]:
    info = adata.uns.get(key)
    if not isinstance(info, Mapping) or "programs" not in info:
        raise KeyError(f"adata.uns[{key!r}] holds no programs; run genept.programs.gene_programs(adata, ...) first")
    return {str(p): [str(g) for g in genes] for p, genes in info["programs"].items()}


def _looks_like_counts(X) -> bool:
    block = X[: min(X.shape[0], 500)]  # a few rows: X may be large or on disk
    data = block.data if sp.issparse(block) else np.asarray(block)
    sample = np.asarray(data).ravel()
    # Log-normalised values are fractional; counts are whole numbers above 1.
    return sample.size > 0 and sample.max() > 1 and bool(np.all(sample == np.round(sample)))


def score_gene_sets(
    obs_names: Sequence[str],
    var_names: Sequence[str],
    X,
    gene_sets: Mapping[str, Sequence[str]],
    *,
    ctrl_size: int = 50,
    n_bins: int = 25,
    random_state: int = 0,
) -> pd.DataFrame:
    """``scanpy.tl.score_genes`` of each gene set on matrix ``X`` -> cells x sets float32 DataFrame.

    Genes missing from ``var_names`` are skipped (logged); a set with none left scores NaN (warned).
    Warns when ``X`` looks like raw counts (score_genes expects log-normalised expression).
    """
    import anndata as ad
    import scanpy as sc

    if _looks_like_counts(X):
        warnings.warn(
            "the expression looks like raw counts; score_genes expects log-normalised data "
            "(sc.pp.normalize_total + sc.pp.log1p, or pass layer=)",
            UserWarning,
            stacklevel=3,
        )
    # A light AnnData over the same matrix, so scanpy writes nowhere in the user's object.
    view = ad.AnnData(X=X, obs=pd.DataFrame(index=pd.Index(obs_names).astype(str)), var=pd.DataFrame(index=pd.Index(var_names).astype(str)))
    scores = pd.DataFrame(index=view.obs_names)
    for name, genes in gene_sets.items():
        present = [g for g in genes if g in view.var_names]
        if len(present) < len(genes):
            logger.warning("gene set %s: %d of %d genes are not in adata and are skipped", name, len(genes) - len(present), len(genes))
        if not present:
            warnings.warn(f"gene set {name}: none of its genes is in adata; its score is NaN", UserWarning, stacklevel=3)
            scores[name] = np.float32(np.nan)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            try:
                sc.tl.score_genes(
                    view, present, ctrl_size=ctrl_size, n_bins=n_bins, score_name="_score",
                    random_state=random_state, use_raw=False,
                )  # fmt: skip
            except (ValueError, RuntimeError) as err:
                raise ValueError(
                    f"gene set {name}: scanpy.tl.score_genes failed ({err}): too few genes outside the set "
                    f"({view.n_vars} genes in all) to draw reference genes from. Score a matrix with more genes, "
                    f"or lower n_bins (now {n_bins})."
                ) from err
        scores[name] = view.obs["_score"].to_numpy(dtype=np.float32)
    return scores.astype(np.float32)


def score_programs(
    adata: AnnData,
    key: str = "genept_programs",
    *,
    layer: str | None = None,
    ctrl_size: int = 50,
    n_bins: int = 25,
    random_state: int = 0,
    copy: bool = False,
) -> AnnData | None:
    """Score every program in every cell with scanpy's ``tl.score_genes``.

    A program's score is the mean expression of its genes minus the mean of a reference set of
    genes with similar average expression (``ctrl_size`` per expression bin, ``n_bins`` bins),
    as in Satija et al. 2015. ``score_genes`` expects log-normalised expression
    (``sc.pp.normalize_total`` then ``sc.pp.log1p``); a warning is raised when the matrix looks
    like raw counts. Program genes missing from ``adata`` (e.g. after subsetting) are dropped;
    a program with no gene left scores NaN, with a warning.

    Parameters
    ----------
    adata
        Annotated data with programs from :func:`gene_programs` in ``adata.uns[key]``.
    key
        The programs' key.
    layer
        Expression layer to score; ``None`` uses ``adata.X`` (never ``adata.raw``).
    ctrl_size, n_bins, random_state
        Passed to ``scanpy.tl.score_genes``.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or a copy when ``copy=True``. Writes ``adata.obsm[f"{key}_scores"]``: a float32
    DataFrame, one column per program, indexed like ``adata.obs``.

    Examples
    --------
    >>> sc.pp.normalize_total(adata); sc.pp.log1p(adata)
    >>> genept.programs.score_programs(adata)
    >>> adata.obsm["genept_programs_scores"]["P0"].describe()
    """
    adata = adata.copy() if copy else adata
    programs = _programs_of(adata, key)
    X = adata.layers[layer] if layer is not None else adata.X
    scores = score_gene_sets(adata.obs_names, adata.var_names, X, programs, ctrl_size=ctrl_size, n_bins=n_bins, random_state=random_state)
    adata.obsm[f"{key}_scores"] = scores.astype(np.float32)
    return adata if copy else None


# -- plot -----------------------------------------------------------------------------------------
def program_heatmap(
    adata: AnnData,
    groupby: str,
    key: str = "genept_programs",
    *,
    programs: Sequence[str] | None = None,
    standard_scale: bool = True,
    path: str | Path | None = None,
    ax: Axes | None = None,
    dpi: int = 150,
) -> Axes:
    """Heatmap of the mean program score per cell group.

    Parameters
    ----------
    adata
        Annotated data scored by :func:`score_programs`.
    groupby
        Column of ``adata.obs`` with the groups (e.g. cell types).
    key
        The programs' key (scores read from ``adata.obsm[f"{key}_scores"]``).
    programs
        Programs to show, in order; default all.
    standard_scale
        Show each program's group means as z-scores across groups (colour = where a program is
        highest), else the raw mean scores. The numbers in the cells are always the raw means.
    path
        Save the figure here (PNG unless the suffix says otherwise), written atomically.
    ax
        Draw into this Axes.
    dpi
        Resolution of the saved file.

    Returns
    -------
    The Axes drawn into.

    Examples
    --------
    >>> genept.programs.program_heatmap(adata, "cell_type", path="programs.png")
    """
    scores = adata.obsm.get(f"{key}_scores")
    if scores is None:
        raise KeyError(f"adata.obsm[{key + '_scores'!r}] not found; run genept.programs.score_programs(adata, key={key!r}) first")
    if groupby not in adata.obs.columns:
        raise KeyError(f"{groupby!r} is not a column of adata.obs (columns: {list(adata.obs.columns)[:10]})")
    scores = pd.DataFrame(scores, index=adata.obs_names)
    if programs is not None:
        missing = [p for p in programs if p not in scores.columns]
        if missing:
            raise KeyError(f"programs {missing} have no score; known: {list(scores.columns)}")
        scores = scores[list(programs)]
    groups = adata.obs[groupby].astype("category")
    means = scores.groupby(groups.to_numpy(), observed=True).mean().T  # programs x groups
    shown = means.to_numpy(dtype=float)
    if standard_scale:
        sd = shown.std(axis=1, keepdims=True)
        shown = np.divide(shown - shown.mean(axis=1, keepdims=True), sd, out=np.zeros_like(shown), where=sd > 0)
    labels = list(means.index)
    summary = adata.uns.get(key, {}).get("summary") if isinstance(adata.uns.get(key), Mapping) else None
    if isinstance(summary, pd.DataFrame):
        for i, p in enumerate(labels):
            if p in summary.index:
                text = summary.loc[p, "terms"] if "terms" in summary.columns else ""
                if not text and "top_term" in summary.columns:
                    text = summary.loc[p, "top_term"]
                text = ", ".join(str(text).split(", ")[:3])
                labels[i] = f"{p} ({int(summary.loc[p, 'n_genes'])})" + (f" {text}" if text else "")

    n_rows, n_cols = shown.shape
    own_figure = ax is None
    if own_figure:
        size = (1.2 + 0.6 * n_cols + 0.07 * max(len(s) for s in labels), 1.2 + 0.35 * n_rows)
        if path is not None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=size)
        else:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=size)
        ax = fig.add_subplot()
    vmax = float(np.nanmax(np.abs(shown))) if shown.size else 1.0
    im = ax.imshow(shown, aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
    ax.set_xticks(range(n_cols), [str(c) for c in means.columns], rotation=60, ha="right")
    ax.set_yticks(range(n_rows), labels)
    if n_rows * n_cols <= 400:
        for i in range(n_rows):
            for j in range(n_cols):
                dark = abs(shown[i, j]) > 0.6 * vmax
                ax.text(j, i, f"{means.iat[i, j]:.2f}", ha="center", va="center", fontsize=6, color="white" if dark else "black")
    ax.set_xlabel(groupby)
    ax.figure.colorbar(im, ax=ax, label="z-score across groups" if standard_scale else "mean score", shrink=0.8)
    if path is not None:
        path = Path(path)
        fmt = path.suffix.lstrip(".") or "png"
        ax.figure.tight_layout()
        with atomic_path(path) as tmp:
            ax.figure.savefig(tmp, dpi=dpi, format=fmt, bbox_inches="tight")
    return ax

