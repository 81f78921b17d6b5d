"""Over-representation of annotation terms (e.g. GO) in gene programs: hypergeometric test, BH-corrected.

GO gene sets are read by :func:`genept.genes.ontology.read_go_sets` (re-exported here), the one
GO reader of genept.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from genept.genes.ontology import read_go_sets

logger = logging.getLogger(__name__)


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
    >>> background = [f"G{i}" for i in range(40)]
    >>> go = {"GO:1": background[:6], "GO:2": background[10:30]}
    >>> table = program_enrichment({"P0": background[:5]}, go, background, min_term_size=2)
    >>> table[["program", "term", "overlap", "term_size", "universe"]].to_dict("records")
    [{'program': 'P0', 'term': 'GO:1', 'overlap': 5, 'term_size': 6, 'universe': 26}]
    >>> float(table["padj"][0]) < 1e-3
    True
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


__all__ = ["program_enrichment", "read_go_sets"]
