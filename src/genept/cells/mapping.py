"""Reference mapping on arrays: match genes across panels and species, place cells, transfer labels.

A labelled reference and an unlabelled query are placed in one space and each query cell takes the
label of its reference neighbours, or ``"unassigned"``. Nothing here needs an AnnData
(:func:`genept.tl.map_to_reference` is the AnnData face).

How (each choice measured in ``benchmarks/results/reference_mapping.md``):

1. **Genes.** :func:`match_genes` pairs the query's genes with the reference's by name or, across
   species, through human orthologs (:class:`~genept.genes.ids.GeneResolver`). Only shared genes
   are used from here on, so a 200-gene panel is compared with the reference on the same 200 genes.
2. **Expression.** Raw counts and log-normalised values are both accepted
   (:func:`expression_kind`); log values are turned back into normalised expression with
   ``expm1`` (never logged twice) and every matrix is then normalised on the shared genes
   (``log1p`` of counts per 10,000), so the library sizes of the two datasets are comparable
   whatever genes each measured. Scaled (negative) values are refused.
3. **Placement.** A GenePT map is fitted on the reference's shared genes
   (:func:`fit_reference`): highly variable genes, principal axes of the centred log-expression
   (not scaled to unit variance: measured better across studies, see ``scale``), and the
   isometry into the gene-text space. Both datasets are projected with the reference's statistics
   (``center="query"`` centres the query on its own gene means instead, as ``scanpy.tl.ingest``
   does; see :func:`map_arrays`). Neighbours
   are searched on the principal-axis scores, which have the same distances as the text-space
   coordinates (the map is an isometry) at a fraction of the width.
4. **Labels.** ``k`` nearest reference cells vote, weighted by ``1 / (distance + eps)``; the
   confidence is the winning label's share of the votes.
5. **Unassigned.** A cell is ``"unassigned"`` for one of three reasons, checked in this order.

   - ``"uncertain"``: its vote is uncertain (confidence below ``min_confidence``, default 0.5:
     no majority).
   - ``"far"``: it is far from the reference. "Far" is calibrated on the reference alone by
     leave-one-out: each reference cell's mean distance to its ``k`` neighbours (in the whole
     scaled gene space: on the axes and off them), divided by the median of its label, gives a
     log ratio; robustly standardised (median, MAD) its ``distance_quantile`` (default 0.99) is
     the cut. A query cell's log ratio (against the median of its predicted label in the
     reference) is standardised with the query's own median and MAD, never below the
     reference's: a shift that moves every cell (another study, species or state) and a wider
     spread (a response that differs between types) are removed, so only cells far *relative to
     the rest of the query* are unassigned. This assumes most query cells are of types the
     reference knows. Measured: with the median alone (no spread), 31% of the stimulated Kang
     cells of known types came out far; with the spread, 1.2%.
   - ``"markers"``: it does not express the marker genes of the label it would get. A cell of a
     type the reference lacks is often neither uncertain nor far: it takes the nearest known
     type by a clear majority. What gives it away is the absence of positive evidence: each
     label's 10 most specific genes in the reference (:func:`fit_markers`) are scored in the
     query (:func:`marker_scores`) and placed on a scale read from the query itself, from the
     cells predicted as other labels (0) to the label's clearest cells (1)
     (:func:`marker_evidence`); below ``min_marker`` the cell is unassigned. The default
     ``min_marker`` was chosen on two benchmark pairs (Baron human -> mouse, Kang control ->
     stimulated) as the largest threshold that cost at most 0.02 macro-F1 on the known types,
     then measured on the other pairs (``benchmarks/results/reference_mapping.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from genept.cells.neighbors import knn
from genept.cells.scaled import ScaledProjection

logger = logging.getLogger(__name__)

UNASSIGNED = "unassigned"
"""The label of a query cell whose neighbourhood is uncertain or far from the reference."""

ExpressionKind = Literal["counts", "log"]


# -- genes ----------------------------------------------------------------------------------------
@dataclass
class GeneMatch:
    """Which query gene (column) is which reference gene.

    Attributes
    ----------
    query_index, reference_index
        Paired column indices, one pair per shared gene, in reference column order.
    names
        The reference's name of each shared gene.
    route
        ``"name"`` (same identifiers) or ``"ortholog"`` (both resolved to human symbols).
    query_species, reference_species
        As resolved (``"human"`` / ``"mouse"``).
    n_query, n_reference
        Genes of each input.
    """

    query_index: np.ndarray
    reference_index: np.ndarray
    names: np.ndarray
    route: str
    query_species: str
    reference_species: str
    n_query: int
    n_reference: int

    @property
    def n_shared(self) -> int:
        return int(len(self.names))

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "query_species": self.query_species,
            "reference_species": self.reference_species,
            "n_query_genes": self.n_query,
            "n_reference_genes": self.n_reference,
            "n_shared_genes": self.n_shared,
        }

    def __str__(self) -> str:
        via = "by name" if self.route == "name" else f"through {self.query_species} -> human <- {self.reference_species} orthologs"
        return f"{self.n_shared:,} shared genes {via} ({self.n_query:,} in the query, {self.n_reference:,} in the reference)"


def match_genes(
    query_names: Sequence[Any],
    reference_names: Sequence[Any],
    *,
    query_species: str = "auto",
    reference_species: str = "auto",
    resolver: Any = None,
) -> GeneMatch:
    """Pair the genes of a query with those of a reference, across panels and species.

    Same species: identifiers are matched as written, and those left over are matched after
    resolving both sides to HGNC symbols (so Ensembl ids meet symbols). Different species: both
    sides are resolved to human symbols (mouse genes through their orthologs). A gene that
    resolves to a symbol already taken keeps the first match only.

    Parameters
    ----------
    query_names, reference_names
        Gene identifiers of the two matrices' columns.
    query_species, reference_species
        ``"auto"`` (guessed from the identifiers), ``"human"`` or ``"mouse"``.
    resolver
        A :class:`~genept.genes.ids.GeneResolver` (default: the bundled one).

    Raises
    ------
    ValueError
        No shared gene (with what was tried and what to do).

    Examples
    --------
    >>> m = match_genes(["CD3E", "LYZ", "XIST"], ["LYZ", "CD3E", "MS4A1"], query_species="human", reference_species="human")
    >>> m.query_index.tolist(), m.reference_index.tolist(), m.names.tolist()
    ([1, 0], [0, 1], ['LYZ', 'CD3E'])
    """
    from genept.genes.ids import GeneResolver

    q = [str(g) for g in query_names]
    r = [str(g) for g in reference_names]
    species = []
    for ids, sp_ in ((q, query_species), (r, reference_species)):
        if sp_ not in ("auto", "human", "mouse"):
            raise ValueError(f"species must be 'auto', 'human' or 'mouse', not {sp_!r}")
        species.append(GeneResolver.guess_species(ids) if sp_ == "auto" else sp_)
    qs, rs = species
    qpos: dict[str, int] = {}
    pairs: dict[int, int] = {}  # reference column -> query column
    route = "name"
    if qs == rs:
        for i, g in enumerate(q):
            qpos.setdefault(g, i)
        for j, g in enumerate(r):
            if g in qpos:
                pairs[j] = qpos[g]
    if qs != rs or len(pairs) < min(len(q), len(r)):
        resolver = resolver or GeneResolver.default()
        q_sym = resolver.to_symbols(q, species=qs)
        r_sym = resolver.to_symbols(r, species=rs)
        by_sym: dict[str, int] = {}
        used_q = set(pairs.values())
        for i, s in enumerate(q_sym):
            if s is not None and i not in used_q:
                by_sym.setdefault(s, i)
        taken = {q_sym[i] for i in used_q if q_sym[i] is not None}
        n_before = len(pairs)
        for j, s in enumerate(r_sym):
            if j in pairs or s is None or s in taken or s not in by_sym:
                continue
            pairs[j] = by_sym.pop(s)
            taken.add(s)
        if qs != rs and len(pairs) > n_before:
            route = "ortholog"
    if not pairs:
        raise ValueError(
            f"the query and the reference share no gene: the query has {len(q):,} genes like {', '.join(q[:3])} "
            f"({qs}), the reference {len(r):,} like {', '.join(r[:3])} ({rs}), and resolving both to human symbols "
            "(orthologs for mouse) found no common one. Put gene symbols or Ensembl ids in var_names, or pass "
            "query_species= / reference_species= if the guess is wrong."
        )
    ref_idx = np.fromiter(sorted(pairs), dtype=np.int64)
    qry_idx = np.fromiter((pairs[j] for j in ref_idx), dtype=np.int64, count=len(ref_idx))
    names = np.asarray([r[j] for j in ref_idx], dtype=str)
    return GeneMatch(qry_idx, ref_idx, names, route, qs, rs, len(q), len(r))


# -- expression -----------------------------------------------------------------------------------
def expression_kind(X: Any, *, where: str = "X", sample: int = 500) -> ExpressionKind:
    """``"counts"`` or ``"log"`` (log-normalised), from the first ``sample`` cells; refuses scaled data.

    Log-normalised data are non-negative with fractional values no larger than ``log1p`` of a
    million (20); anything negative was scaled or centred and cannot be placed.

    Examples
    --------
    >>> expression_kind(np.array([[0.0, 3.0], [1.0, 0.0]]))
    'counts'
    >>> expression_kind(np.log1p(np.array([[0.0, 3.0], [1.5, 0.0]])))
    'log'
    """
    from genept.cells.validation import looks_like_counts

    if looks_like_counts(X, sample=sample):
        return "counts"
    block = X[: min(sample, X.shape[0])]
    data = block.data if sp.issparse(block) else np.asarray(block)
    data = np.asarray(data, dtype=np.float64).ravel()
    if data.size and np.isfinite(data).all() and data.min() >= 0 and data.max() <= 20 and data.max() > 0:
        return "log"
    lo = float(np.nanmin(data)) if data.size else 0.0
    raise ValueError(
        f"{where} holds neither raw counts nor log-normalised values (min {lo:.3g}, max "
        f"{float(np.nanmax(data)) if data.size else 0.0:.3g}): scaled or centred data cannot be mapped. "
        "Point layer= at the counts, or use_raw=True where adata.raw holds log-normalised values."
    )


def shared_counts(X: Any, columns: np.ndarray, kind: ExpressionKind) -> sp.csr_matrix:
    """The shared-gene columns of ``X`` as counts (or ``expm1`` of log values), float32 CSR.

    ``log1p`` of counts per 10,000 is then computed on these columns alone, so library sizes count
    only the genes both datasets measured.

    Examples
    --------
    >>> shared_counts(np.log1p(np.array([[1.0, 3.0, 7.0]])), np.array([2, 0]), "log").toarray().round(3).tolist()
    [[7.0, 1.0]]
    """
    columns = np.asarray(columns)
    if len(columns) == X.shape[1] and np.array_equal(columns, np.arange(X.shape[1])):
        sub = X if not hasattr(X, "compute") else X.compute()  # the same genes in the same order: no gather
    else:
        sub = X[:, columns] if not hasattr(X, "compute") else X[:, columns].compute()
    sub = sp.csr_matrix(sub, dtype=np.float32)
    if kind == "log":
        sub.data = np.expm1(sub.data)  # back to normalised expression (a new array): the log is taken once, below
    if not sub.data.all():
        if sp.issparse(X) and np.shares_memory(sub.data, X.data):
            sub = sub.copy()  # never change the caller's matrix
        sub.eliminate_zeros()
    return sub


# -- reference ------------------------------------------------------------------------------------
@dataclass
class Reference:
    """A labelled reference fitted for mapping: the map on the shared genes, the cells' scores, calibration.

    Attributes
    ----------
    projection
        The GenePT-scaled map fitted on the reference's shared genes (``gene_names`` = the
        reference's names of those genes).
    scores
        ``(n_cells, k)`` principal-axis scores of the reference cells (the neighbour space).
    labels
        Label of each reference cell (str).
    k
        Neighbours that vote.
    label_scale
        Per label: median leave-one-out neighbour distance of its reference cells.
    distance_center, distance_spread
        Median and MAD of the reference's log scaled distances.
    distance_cut
        The ``distance_quantile`` of the reference's standardised log distances (the "far" cut).
    loo_accuracy
        Leave-one-out accuracy of the vote on the reference (how separable its labels are).
    markers
        Each label's marker genes (:func:`fit_markers`), for the "unexpressed markers" check.
    """

    projection: ScaledProjection
    scores: np.ndarray
    labels: np.ndarray
    k: int
    label_scale: dict[str, float]
    distance_cut: float
    distance_center: float
    distance_spread: float
    distance_quantile: float
    loo_accuracy: float
    residual: np.ndarray | None = None
    markers: Markers | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels.tolist()))

    def text_map(self) -> np.ndarray:
        """``(k, dim)``: scores to gene-text coordinates (``Y = scores @ text_map``; orthonormal rows)."""
        return np.asarray(self.projection.components @ self.projection.weights, dtype=np.float32)


def check_labels(labels: Any, n_cells: int, *, where: str = "reference labels") -> np.ndarray:
    """Labels as strings; at least 2 classes, no missing value in use.

    Examples
    --------
    >>> check_labels(["a", "b", "a"], 3).tolist()
    ['a', 'b', 'a']
    """
    import pandas as pd

    s = pd.Series(np.asarray(labels, dtype=object))
    if len(s) != n_cells:
        raise ValueError(f"{where}: {len(s)} labels for {n_cells} cells")
    missing = s.isna()
    if missing.all():
        raise ValueError(f"{where} are all missing; pass the column that holds cell types")
    values = s.astype(str).to_numpy()
    values[missing.to_numpy()] = ""
    classes = sorted(set(values[values != ""]))
    if len(classes) < 2:
        raise ValueError(
            f"{where} have {len(classes)} class ({', '.join(classes) or 'none'}): label transfer needs at least 2 cell types "
            "in the reference. Check the column name, or use zero-shot annotation (genept.tl.zero_shot_annotate) instead."
        )
    if UNASSIGNED in classes:
        raise ValueError(f"{where} use the reserved label {UNASSIGNED!r}; rename or drop those cells")
    return values


def fit_reference(
    X: Any,
    labels: Any,
    gene_vectors: np.ndarray | None = None,
    *,
    kind: ExpressionKind | None = None,
    n_top_genes: int | None = 2000,
    n_comps: int = 50,
    k: int = 15,
    distance_quantile: float = 0.99,
    gene_names: Sequence[Any] | None = None,
    max_calibration: int = 20_000,
    scale: bool = False,
    n_markers: int = 10,
    where: str = "reference",
) -> Reference:
    """Fit the map on a reference's shared genes and calibrate the vote and the "far" cut on it.

    Parameters
    ----------
    X
        ``(n_cells, n_shared)`` reference expression on the shared genes (counts or log values;
        see :func:`shared_counts`).
    labels
        Cell type of each reference cell; cells with a missing label are used for the map but
        not as voters.
    gene_vectors
        ``(n_shared, dim)`` gene embeddings of the shared genes (zero rows for genes without one).
        ``None``: an identity basis (neighbours and labels are the same; only the text-space
        coordinates are not available).
    kind
        ``"counts"`` or ``"log"`` (default: :func:`expression_kind`).
    n_top_genes, n_comps
        Highly variable genes and principal axes of the map.
    k
        Voting neighbours.
    distance_quantile
        Quantile of the reference's own scaled neighbour distances above which a query cell is
        far (see the module docstring).
    gene_names
        Names of the columns (stored with the map).
    max_calibration
        Reference cells (a seeded random subset when there are more) whose leave-one-out
        neighbours calibrate the vote and the distance cut.
    scale
        Scale each gene to unit variance before the principal axes (GenePT-scaled's own map).
        Default ``False``: centred log-expression, as ``scanpy.tl.ingest``'s PCA. Measured on the
        benchmark pairs, scaling lowered macro-F1 by 0.05-0.17 on three of four pairs (it gives
        genes with little variance, which carry study-specific noise, the weight of markers) and
        raised it by 0.05 on one (``benchmarks/results/reference_mapping.md``).
    n_markers
        Marker genes per label for the "unexpressed markers" check (:func:`fit_markers`);
        ``0`` skips them.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.poisson(lam, (40, 30)) for lam in (np.r_[np.full(15, 5), np.ones(15)], np.r_[np.ones(15), np.full(15, 5)])])
    >>> ref = fit_reference(X.astype(np.float32), ["a"] * 40 + ["b"] * 40, n_comps=5, k=5)
    >>> ref.classes, ref.loo_accuracy
    (['a', 'b'], 1.0)
    """
    from genept.cells.scaled import fit_scaled

    n = int(X.shape[0])
    values = check_labels(labels, n)
    kind = kind or expression_kind(X, where=where)
    if kind == "counts" and sp.isspmatrix_csr(X) and X.dtype == np.float32:
        C = X  # already what shared_counts makes (map_arrays passes it): no copy of a large matrix
    else:
        C = shared_counts(X, np.arange(X.shape[1]), kind)
    if gene_vectors is None:
        # Any full-rank basis will do (twice as wide as the axes, so it stays well conditioned):
        # neighbours use the principal-axis scores, which the text map does not change (it is an
        # isometry); a fixed seed keeps the stored map reproducible.
        E = np.random.default_rng(0).standard_normal((X.shape[1], 2 * max(n_comps, 1))).astype(np.float32)
    else:
        E = np.asarray(gene_vectors, dtype=np.float32)
    proj = fit_scaled(C, E, found=None if gene_vectors is not None else np.ones(X.shape[1], bool), scale=scale,
                      n_top_genes=n_top_genes, n_comps=n_comps, where=where,
                      show_progress=None if n >= LONG_WORK_CELLS else False)  # fmt: skip
    if not scale:
        proj.meta["scaling"] = "centred log-expression (no unit variance)"
    if gene_names is not None:
        proj.gene_names = np.asarray([str(g) for g in gene_names], dtype=str)
    S, res = project_scores(proj, C, residual=True)
    voters = values != ""
    Sv, lv, rv = S[voters], values[voters], res[voters]
    k_eff = int(min(k, len(lv) - 1))
    # Calibrate on at most max_calibration reference cells (a distribution needs no more), each
    # against all voters but itself: leave-one-out.
    cal = np.arange(len(lv))
    if len(cal) > max_calibration:
        cal = np.sort(np.random.default_rng(0).choice(len(lv), max_calibration, replace=False))
    dist, idx = knn(Sv[cal], Sv, k_eff + 1, exclude=cal, desc="reference mapping: calibrating on the reference")
    dist, idx = dist[:, :-1], idx[:, :-1]
    lv_cal, rv_cal = lv[cal], rv[cal]
    pred, _ = vote(dist, lv[idx])
    d_mean = full_distance(dist, rv_cal, rv[idx])
    lv_all, lv = lv, lv_cal
    label_scale = {c: float(np.median(d_mean[lv == c])) for c in sorted(set(lv))}
    log_ratio = np.log(np.maximum(d_mean, 1e-12) / np.maximum(np.array([label_scale[c] for c in lv]), 1e-12))
    center, spread = float(np.median(log_ratio)), max(_mad(log_ratio), 1e-6)
    ref = Reference(
        projection=proj,
        scores=Sv,
        labels=lv_all,
        k=k_eff,
        label_scale=label_scale,
        distance_cut=float(np.quantile((log_ratio - center) / spread, distance_quantile)),
        distance_center=center,
        distance_spread=spread,
        distance_quantile=float(distance_quantile),
        loo_accuracy=float((pred == lv).mean()),
        residual=rv,
        markers=fit_markers(C, values, n_markers=n_markers) if n_markers > 0 else None,
        params={"kind": kind, "n_top_genes": -1 if n_top_genes is None else int(n_top_genes), "n_comps": int(n_comps), "k": k_eff,
                "n_markers": int(n_markers)},
    )
    return ref


def project_scores(proj: ScaledProjection, C: Any, *, residual: bool = False, chunk_size: int = 5_000):
    """Principal-axis scores ``(z - center) @ components.T`` of counts on the map's genes (in its order).

    With ``residual=True`` also returns each cell's squared distance from the principal subspace
    (``||z - center||^2 - ||scores||^2``): large for cells whose variation the reference's axes do
    not describe, e.g. a cell type the reference lacks.
    """
    out = np.empty((C.shape[0], proj.n_comps), dtype=np.float32)
    res = np.empty(C.shape[0], dtype=np.float32)
    P = np.ascontiguousarray(proj.components.T, dtype=np.float32)
    for start in range(0, C.shape[0], chunk_size):
        block = C[start : start + chunk_size]
        Z = proj.scaled_block(block)
        Z -= proj.center
        S = Z @ P
        out[start : start + chunk_size] = S
        res[start : start + chunk_size] = np.maximum(np.einsum("ij,ij->i", Z, Z) - np.einsum("ij,ij->i", S, S), 0.0)
    return (out, res) if residual else out


def _mad(x: np.ndarray) -> float:
    return float(np.median(np.abs(x - np.median(x)))) if len(x) else 0.0


def full_distance(dist: np.ndarray, residual: np.ndarray, neighbour_residual: np.ndarray) -> np.ndarray:
    """Root-mean-square distance to the neighbours in the whole scaled gene space (axes + what they miss).

    The principal-axis distance ``dist`` plus both cells' squared distances from the subspace (the
    parts off the axes are treated as independent).
    """
    return np.sqrt((dist.astype(np.float64) ** 2).mean(axis=1) + residual + neighbour_residual.mean(axis=1))


# -- markers ----------------------------------------------------------------------------------------
MIN_MARKER_EFFECT = 0.5
"""A marker's advantage in its label is at least this many within-label standard deviations (Cohen's d)."""


@dataclass
class Markers:
    """Each reference label's most specific genes, for the "unexpressed markers" check.

    Attributes
    ----------
    classes
        The labels, sorted.
    genes
        Per label, column indices (of the shared genes) of its markers: the ``n_markers`` genes
        whose mean log-expression (``log1p`` of counts per 10,000) is highest in the label
        relative to the mean of the other labels (each label weighted equally), among those
        whose advantage is at least :data:`MIN_MARKER_EFFECT` within-label standard deviations
        (a gene that differs by chance, as a sparse one can, is not a marker).
    level
        Per label, that mean advantage on its markers (log units).
    background
        Per label, the mean log-expression of its markers in the other labels.
    """

    classes: list[str]
    genes: dict[str, np.ndarray]
    level: dict[str, float]
    background: dict[str, float]

    def to_dict(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        pick = (lambda g: [str(names[i]) for i in g]) if names is not None else (lambda g: [int(i) for i in g])
        return {c: pick(self.genes[c]) for c in self.classes}


def fit_markers(C: Any, labels: np.ndarray, *, n_markers: int = 10, chunk_size: int = 5_000) -> Markers:
    """Markers of each label (see :class:`Markers`) from counts ``C`` on the shared genes.

    Cells whose label is ``""`` (missing) are not used.

    Examples
    --------
    >>> C = np.array([[9, 0, 1], [8, 0, 1], [0, 7, 1], [0, 9, 1]], dtype=np.float32)
    >>> m = fit_markers(C, np.array(["a", "a", "b", "b"]), n_markers=1)
    >>> m.to_dict(["G0", "G1", "G2"])
    {'a': ['G0'], 'b': ['G1']}
    """
    from genept.cells.weighted import transform_block

    labels = np.asarray(labels, dtype=str)
    classes = sorted(set(labels[labels != ""].tolist()))
    code = np.searchsorted(classes, labels)
    voters = labels != ""
    sums = np.zeros((len(classes), int(C.shape[1])))
    squares = np.zeros_like(sums)
    for start in range(0, int(C.shape[0]), chunk_size):
        v = voters[start : start + chunk_size]
        T = sp.csr_matrix(transform_block(C[start : start + chunk_size], "log1p_cp10k"))
        ind = sp.csr_matrix((np.ones(int(v.sum()), dtype=np.float32), (code[start : start + chunk_size][v], np.flatnonzero(v))),
                            shape=(len(classes), T.shape[0]))  # fmt: skip
        sums += (ind @ T).toarray()
        squares += (ind @ T.multiply(T)).toarray()
    n = np.maximum(np.bincount(code[voters], minlength=len(classes)), 1)[:, None]
    M = sums / n
    var = np.maximum(squares / n - M**2, 0.0)
    genes, level, background = {}, {}, {}
    for i, c in enumerate(classes):
        others = np.delete(M, i, axis=0).mean(axis=0)
        diff = M[i] - others
        spread = np.sqrt((var[i] + np.delete(var, i, axis=0).mean(axis=0)) / 2)
        diff[diff < MIN_MARKER_EFFECT * spread] = -np.inf
        top = np.argsort(-diff, kind="stable")[:n_markers]
        top = top[np.isfinite(diff[top]) & (diff[top] > 0)]
        genes[c] = np.sort(top)
        level[c] = float(diff[top].mean()) if len(top) else 0.0
        background[c] = float(others[top].mean()) if len(top) else 0.0
    return Markers(classes=list(classes), genes=genes, level=level, background=background)


def marker_scores(markers: Markers, C: Any) -> np.ndarray:
    """``(n_cells, n_labels)``: each cell's mean log-expression (``log1p`` of counts per 10,000 on the shared genes) of each label's markers.

    Examples
    --------
    >>> m = Markers(["a", "b"], {"a": np.array([0]), "b": np.array([1])}, {"a": 1.0, "b": 1.0}, {"a": 0.0, "b": 0.0})
    >>> marker_scores(m, np.array([[9, 0, 1], [0, 9, 1]], dtype=np.float32)).round(1).tolist()
    [[9.1, 0.0], [0.0, 9.1]]
    """
    used = np.unique(np.concatenate([markers.genes[c] for c in markers.classes] + [np.zeros(0, dtype=np.int64)])).astype(np.int64)
    out = np.zeros((C.shape[0], len(markers.classes)), dtype=np.float32)
    if not len(used) or not C.shape[0]:
        return out
    from genept.cells.weighted import log1p_cp10k_columns

    T = log1p_cp10k_columns(sp.csr_matrix(C, dtype=np.float32), used)
    pos = {int(gene): j for j, gene in enumerate(used)}
    for i, c in enumerate(markers.classes):
        cols = [pos[int(gene)] for gene in markers.genes[c]]
        if cols:
            out[:, i] = T[:, cols].mean(axis=1)
    return out


MIN_BACKGROUND_CELLS = 20
"""Query cells predicted as other labels needed to read a label's marker background from the query."""


def marker_evidence(scores: np.ndarray, predicted: np.ndarray, markers: Markers, *, top_quantile: float = 0.9) -> np.ndarray:
    """Per cell, how far it expresses its predicted label's markers: 0 = like the other cells, 1 = like that label.

    Both ends are read from the query where it can tell, so a study, species or state that moves
    a marker's level moves the yardstick with it: ``0`` is the median score among the query cells
    predicted as *other* labels (the reference's :attr:`Markers.background` when fewer than
    :data:`MIN_BACKGROUND_CELLS` are), ``1`` the ``top_quantile`` among the cells predicted as
    this label (its clearest cells, whatever else the vote put there). The unit is never smaller
    than half the label's advantage in the reference (:attr:`Markers.level`), so a label whose
    predicted cells all lack its markers is not measured against itself. ``NaN`` for labels
    without markers.

    Examples
    --------
    >>> m = Markers(["a", "b"], {"a": np.array([0]), "b": np.array([1])}, {"a": 2.0, "b": 2.0}, {"a": 0.0, "b": 0.0})
    >>> S = np.array([[2.0, 0.0], [0.2, 0.0], [0.0, 2.0], [0.0, 2.0]])
    >>> marker_evidence(S, np.array(["a", "a", "b", "b"]), m).round(2).tolist()
    [1.1, 0.11, 1.0, 1.0]
    """
    z = np.full(len(predicted), np.nan)
    for i, c in enumerate(markers.classes):
        sel = predicted == c
        if not sel.any() or not len(markers.genes[c]):
            continue
        other = ~sel
        low = float(np.median(scores[other, i])) if other.sum() >= MIN_BACKGROUND_CELLS else markers.background[c]
        high = float(np.quantile(scores[sel, i], top_quantile))
        z[sel] = (scores[sel, i] - low) / max(high - low, 0.5 * markers.level[c], 1e-6)
    return z


# -- votes -------------------------------------------------------------------------------
LONG_WORK_CELLS = 20_000
"""References of at least this many cells show progress while the map is fitted."""


def vote(dist: np.ndarray, neighbour_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance-weighted vote (weights ``1 / (d + eps)``): the winning label and its share of the votes.

    Examples
    --------
    >>> vote(np.array([[1.0, 1.0, 2.0]]), np.array([["a", "b", "b"]]))
    (array(['b'], dtype='<U1'), array([0.6]))
    """
    w = 1.0 / (dist.astype(np.float64) + 1e-6 * max(float(np.median(dist)), 1e-12))
    classes, inv = np.unique(neighbour_labels, return_inverse=True)
    inv = inv.reshape(neighbour_labels.shape)
    tally = np.zeros((len(dist), len(classes)))
    np.add.at(tally, (np.repeat(np.arange(len(dist)), dist.shape[1]), inv.ravel()), w.ravel())
    best = tally.argmax(axis=1)
    share = tally[np.arange(len(dist)), best] / tally.sum(axis=1)
    return classes[best], np.round(share, 6)


@dataclass
class Transfer:
    """Labels transferred to query cells.

    Attributes
    ----------
    labels
        Final label per cell (``"unassigned"`` where the rule fired).
    predicted
        The vote's winner before the rule (what a plain kNN would say).
    confidence
        The winner's share of the distance-weighted votes (0-1).
    distance
        Standardised log distance to the ``k`` reference neighbours (against the predicted
        label's reference scale, the query's median and spread); ``"far"`` above ``distance_cut``.
    reason
        ``""``, ``"uncertain"``, ``"far"``, ``"markers"`` (the predicted label's marker genes are
        not expressed) or ``"no_expression"`` per cell.
    markers
        Marker evidence for the predicted label (:func:`marker_evidence`; NaN where not checked).
    shift
        How much farther (>= 1, a factor) the typical query cell sits from the reference than the
        typical reference cell from its neighbours.
    """

    labels: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray
    distance: np.ndarray
    reason: np.ndarray
    shift: float
    markers: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def unassigned_rate(self) -> float:
        return float((self.labels == UNASSIGNED).mean()) if len(self.labels) else 0.0

    def summary(self) -> dict[str, Any]:
        import collections

        return {
            "n_cells": int(len(self.labels)),
            "n_unassigned": int((self.labels == UNASSIGNED).sum()),
            "n_uncertain": int((self.reason == "uncertain").sum()),
            "n_far": int((self.reason == "far").sum()),
            "n_markers": int((self.reason == "markers").sum()),
            "shift": round(float(self.shift), 4),
            "counts": dict(collections.Counter(self.labels.tolist()).most_common()),
        }


def transfer_labels(
    query_scores: np.ndarray,
    reference: Reference,
    *,
    query_residual: np.ndarray | None = None,
    query_markers: np.ndarray | None = None,
    min_confidence: float = 0.5,
    min_marker: float = 0.4,
    unassigned: bool = True,
    chunk_size: int | None = None,
) -> Transfer:
    """kNN label transfer from a fitted :class:`Reference` with the ``unassigned`` rule.

    Parameters
    ----------
    query_scores
        ``(n_cells, k)`` query scores from :func:`project_scores` with the reference's map.
    query_residual
        The query cells' squared distances from the reference's axes (``project_scores(...,
        residual=True)``); without it the neighbours' own are used (only on-axis distance counts).
    reference
        From :func:`fit_reference`.
    query_markers
        ``(n_cells, n_labels)`` :func:`marker_scores` of the query with ``reference.markers``;
        without them the marker check is skipped.
    min_confidence
        Below this vote share a cell is ``"uncertain"`` (default 0.5: no majority).
    min_marker
        Below this :func:`marker_evidence` a cell is ``"markers"``: it does not express the
        markers of the label it would get (40% of the way from the other cells to the
        label's clearest cells; chosen on two benchmark pairs, see the module docstring).
        ``0`` or less turns the check off.
    unassigned
        ``False`` keeps every vote's winner (``labels == predicted``); confidence and distance
        are still reported.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> lam = [np.r_[np.full(15, 5), np.ones(15)], np.r_[np.ones(15), np.full(15, 5)]]
    >>> X = np.vstack([rng.poisson(l, (40, 30)) for l in lam]).astype(np.float32)
    >>> ref = fit_reference(X, ["a"] * 40 + ["b"] * 40, n_comps=5, k=5)
    >>> Q = rng.poisson(lam[1], (5, 30)).astype(np.float32)
    >>> S, res = project_scores(ref.projection, shared_counts(Q, np.arange(30), "counts"), residual=True)
    >>> out = transfer_labels(S, ref, query_residual=res)
    >>> out.labels.tolist()
    ['b', 'b', 'b', 'b', 'b']
    """
    dist, idx = knn(query_scores, reference.scores, reference.k, chunk_size=chunk_size, desc="reference mapping: nearest reference cells")
    predicted, confidence = vote(dist, reference.labels[idx])
    scale = np.array([reference.label_scale[c] for c in predicted]) if len(predicted) else np.zeros(0)
    nres = reference.residual[idx] if reference.residual is not None else np.zeros(dist.shape)
    qres = nres.mean(axis=1) if query_residual is None else np.asarray(query_residual, dtype=np.float64)
    log_ratio = np.log(np.maximum(full_distance(dist, qres, nres), 1e-12) / np.maximum(scale, 1e-12))
    # The query's own centre and spread, never tighter than the reference's (see the module docstring).
    center = max(float(np.median(log_ratio)), reference.distance_center) if len(log_ratio) else reference.distance_center
    # The spread from the cells nearer than the median: cells of a type the reference lacks sit in
    # the far tail and must not widen the cut that should catch them.
    near = log_ratio[log_ratio <= np.median(log_ratio)] if len(log_ratio) else log_ratio
    spread = max(float(np.median(np.median(log_ratio) - near)) if len(near) else 0.0, reference.distance_spread)
    shift = float(np.exp(center - reference.distance_center))
    ratio = (log_ratio - center) / spread
    reason = np.full(len(predicted), "", dtype=object)
    evidence = None
    if query_markers is not None and reference.markers is not None:
        evidence = marker_evidence(np.asarray(query_markers), predicted.astype(str), reference.markers)
    if unassigned:
        reason[confidence < min_confidence] = "uncertain"
        reason[(ratio > reference.distance_cut) & (reason == "")] = "far"
        if evidence is not None and min_marker > 0:
            reason[(np.nan_to_num(evidence, nan=np.inf) < min_marker) & (reason == "")] = "markers"
    labels = np.where(reason == "", predicted, UNASSIGNED).astype(object)
    return Transfer(
        labels=labels.astype(str),
        predicted=predicted.astype(str),
        confidence=confidence.astype(np.float32),
        distance=ratio.astype(np.float32),
        reason=reason.astype(str),
        shift=shift,
        markers=None if evidence is None else evidence.astype(np.float32),
        params={"k": reference.k, "min_confidence": float(min_confidence), "distance_cut": reference.distance_cut,
                "distance_quantile": reference.distance_quantile, "min_marker": float(min_marker),
                "unassigned": bool(unassigned)},  # fmt: skip
    )


def map_arrays(
    query_X: Any,
    query_names: Sequence[Any],
    reference_X: Any,
    reference_names: Sequence[Any],
    labels: Any,
    gene_embeddings: Any = None,
    *,
    query_species: str = "auto",
    reference_species: str = "auto",
    n_top_genes: int | None = 2000,
    n_comps: int = 50,
    k: int = 15,
    min_confidence: float = 0.5,
    distance_quantile: float = 0.99,
    min_marker: float = 0.4,
    n_markers: int = 10,
    unassigned: bool = True,
    scale: bool = False,
    center: Literal["reference", "query"] = "reference",
) -> tuple[Transfer, np.ndarray, Reference, GeneMatch]:
    """The whole mapping on arrays: match genes, fit the reference, project the query, transfer labels.

    Parameters
    ----------
    center
        Which gene means the query is centred on before projection: ``"reference"`` (default;
        robust to a query made of other proportions of types, e.g. one sorted population) or
        ``"query"``, its own (what ``scanpy.tl.ingest`` does: removes a gene-wise offset between
        two studies' normalisations, but assumes both hold the types in similar proportions).
        Measured on the benchmark pairs: ``"query"`` gains 0.07-0.16 macro-F1 on two pairs and
        loses 0.03-0.07 on the other two (``benchmarks/results/reference_mapping.md``).
    Other parameters: as :func:`fit_reference`, :func:`transfer_labels` and
    :func:`genept.tl.map_to_reference`.

    Returns
    -------
    ``(transfer, query_embedding, reference, match)``: the query embedding is in the gene-text
    space when ``gene_embeddings`` is given, else the principal-axis scores.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> lam = [np.r_[np.full(15, 5), np.ones(15)], np.r_[np.ones(15), np.full(15, 5)]]
    >>> R = np.vstack([rng.poisson(l, (40, 30)) for l in lam]).astype(np.float32)
    >>> genes = [f"G{i}" for i in range(30)]
    >>> Q = rng.poisson(lam[0], (4, 30))[:, ::2].astype(np.float32)       # a 15-gene panel
    >>> out, Y, ref, m = map_arrays(Q, genes[::2], R, genes, ["a"] * 40 + ["b"] * 40, n_comps=5, k=5)
    >>> m.n_shared, out.labels.tolist()
    (15, ['a', 'a', 'a', 'a'])
    """
    match = match_genes(query_names, reference_names, query_species=query_species, reference_species=reference_species)
    q_kind = expression_kind(query_X, where="query")
    r_kind = expression_kind(reference_X, where="reference")
    E = None
    info: dict[str, Any] = {}
    if gene_embeddings is not None:
        from genept.cells.record import gene_embedding_info
        from genept.embeddings import load_gene_embeddings

        emb = load_gene_embeddings(gene_embeddings)
        E, _ = emb.reindex(match.names.tolist(), species=match.reference_species)
        info = gene_embedding_info(emb)
    R = shared_counts(reference_X, match.reference_index, r_kind)
    ref = fit_reference(R, labels, E, kind="counts", n_top_genes=n_top_genes, n_comps=n_comps, k=k,
                        distance_quantile=distance_quantile, gene_names=match.names, scale=scale,
                        n_markers=n_markers if min_marker > 0 else 0)  # fmt: skip
    ref.params["reference_kind"] = r_kind
    ref.params["gene_embeddings"] = info
    Q = shared_counts(query_X, match.query_index, q_kind)
    empty = np.asarray(Q[:, ref.projection.genes].sum(axis=1)).ravel() == 0
    if empty.all():
        raise ValueError(
            f"no query cell expresses any of the {len(ref.projection.genes)} genes the reference map uses "
            f"(e.g. {', '.join(match.names[ref.projection.genes[:5]])}); check the gene names and that the query holds expression"
        )
    if center not in ("reference", "query"):
        raise ValueError(f"center must be 'reference' or 'query', not {center!r}")
    proj = ref.projection
    if center == "query":
        import dataclasses

        from genept.cells.weighted import transform_block

        own = np.zeros(len(proj.genes))
        for start in range(0, Q.shape[0], 5_000):
            own += np.asarray(transform_block(Q[start : start + 5_000], proj.transform)[:, proj.genes].sum(axis=0)).ravel()
        proj = dataclasses.replace(proj, mean=(own / max(Q.shape[0], 1)).astype(np.float32))
    S, res = project_scores(proj, Q, residual=True)
    M = marker_scores(ref.markers, Q) if ref.markers is not None else None
    out = transfer_labels(S, ref, query_residual=res, query_markers=M, min_confidence=min_confidence,
                          min_marker=min_marker, unassigned=unassigned)  # fmt: skip
    if empty.any():  # no signal on the map's genes: nothing to vote on
        out.labels[empty] = UNASSIGNED
        out.reason[empty] = "no_expression"
        out.confidence[empty] = 0.0
    out.params["query_kind"] = q_kind
    out.params["center"] = center
    Y = S @ ref.text_map() if E is not None else S
    return out, np.asarray(Y, dtype=np.float32), ref, match


__all__ = [
    "UNASSIGNED",
    "GeneMatch",
    "Markers",
    "Reference",
    "Transfer",
    "check_labels",
    "expression_kind",
    "fit_markers",
    "fit_reference",
    "full_distance",
    "map_arrays",
    "marker_evidence",
    "marker_scores",
    "match_genes",
    "project_scores",
    "shared_counts",
    "transfer_labels",
    "vote",
]
