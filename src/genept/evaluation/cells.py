"""Cell-level evaluation: does a cell embedding separate cell types, and does it mix batches?

Every task takes an ``(n_cells, dim)`` array (``adata.obsm[...]``) plus per-cell labels and
returns a plain dict of numbers (JSON-ready). Neighbours are cosine throughout. Splits and seeds
depend only on the labels and ``seed``, so every embedding is scored on the same splits.

Tasks
-----
- :func:`knn_annotation`: k-NN majority-vote label transfer (k-fold CV and a held-out split).
- :func:`kmeans_clustering`: k-means with k = number of labels, ARI / AMI over seeds.
- :func:`leiden_sweep`: Leiden on a cosine kNN graph over resolutions, ARI / AMI.
- :func:`label_silhouette`: average silhouette width of the labels (cosine).
- :func:`batch_mixing`: same-batch share of kNN neighbours against its random expectation.
- :func:`scib_scores`: scib-metrics bio-conservation and batch-correction scores (optional extra).

:func:`cell_embeddings` builds GenePT-scaled, GenePT-w, the random-gene control, the PCA baseline
and any ``obsm`` embedding for one AnnData; :func:`evaluate_cells` scores them all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from genept.evaluation.metrics import expected_same_batch_fraction, mean_sd, same_batch_fraction

log = logging.getLogger(__name__)

RESOLUTIONS = (0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def _as_array(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"expected an (n_cells, dim) embedding, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("the embedding contains NaN or inf; recompute it or drop those cells")
    return X


def _labels(labels, n: int, what: str = "labels") -> np.ndarray:
    y = np.asarray(labels).astype(str)
    if y.shape != (n,):
        raise ValueError(f"{what} must have one value per cell ({n}), got shape {y.shape}")
    return y


def _scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)
    return {"accuracy": float(accuracy_score(y_true, y_pred)), "precision_macro": float(p), "recall_macro": float(r), "f1_macro": float(f)}


def _knn_classifier(k: int):
    from sklearn.neighbors import KNeighborsClassifier

    # Uniform majority vote; scikit-learn breaks ties towards the label that sorts first.
    return KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute")


def knn_annotation(
    X,
    labels,
    *,
    k: int = 10,
    n_splits: int = 5,
    seed: int = 0,
    holdout: float | np.ndarray | None = None,
) -> dict[str, Any]:
    """Label transfer by k-nearest-neighbour (cosine) majority vote.

    Scored two ways on the same embedding: stratified ``n_splits``-fold cross-validation (mean
    +- sd over folds) and one held-out split.

    Parameters
    ----------
    X
        ``(n_cells, dim)`` cell embedding.
    labels
        Cell type per cell.
    k
        Neighbours that vote.
    holdout
        The held-out test cells: ``None`` for a stratified 80/20 split, a float for another test
        fraction, or a boolean mask (e.g. one donor) to transfer labels across batches.

    Returns
    -------
    dict
        ``{"cv": {metric: {"mean", "sd", "n"}}, "holdout": {metric: value, "classes",
        "confusion_matrix", "n_train", "n_test"}, "k", "n_splits", "seed"}`` with metrics
        ``accuracy``, ``precision_macro``, ``recall_macro``, ``f1_macro``. Classes with fewer
        cells than ``n_splits`` (or than 2 for the split) cannot be stratified; scikit-learn then
        warns and spreads them as it can.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat(["T", "B"], 20)
    >>> X = rng.normal(size=(40, 8)) + (labels == "T")[:, None] * 3  # two separated cell types
    >>> res = knn_annotation(X, labels)
    >>> res["holdout"]["accuracy"], res["holdout"]["confusion_matrix"], res["cv"]["f1_macro"]["n"]
    (1.0, [[4, 0], [0, 4]], 5)
    """
    import warnings

    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import StratifiedKFold, train_test_split

    X = _as_array(X)
    y = _labels(labels, X.shape[0])
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError("knn_annotation needs at least two labels")
    per_fold: dict[str, list[float]] = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        folds = list(StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(X, y))
    for tr, te in folds:
        pred = _knn_classifier(min(k, len(tr))).fit(X[tr], y[tr]).predict(X[te])
        for name, value in _scores(y[te], pred).items():
            per_fold.setdefault(name, []).append(value)
    if holdout is None or isinstance(holdout, float):
        idx = np.arange(X.shape[0])
        _, counts = np.unique(y, return_counts=True)
        stratify = y if counts.min() >= 2 else None
        tr, te = train_test_split(idx, test_size=0.2 if holdout is None else holdout, stratify=stratify, random_state=seed)
    else:
        mask = np.asarray(holdout, dtype=bool)
        if mask.shape != y.shape or mask.all() or not mask.any():
            raise ValueError("holdout mask must be one boolean per cell with both test and training cells")
        tr, te = np.flatnonzero(~mask), np.flatnonzero(mask)
    pred = _knn_classifier(min(k, len(tr))).fit(X[tr], y[tr]).predict(X[te])
    return {
        "cv": {name: mean_sd(values) for name, values in per_fold.items()},
        "holdout": {
            **_scores(y[te], pred),
            "classes": classes.tolist(),
            "confusion_matrix": confusion_matrix(y[te], pred, labels=classes).tolist(),
            "n_train": len(tr),
            "n_test": len(te),
        },
        "k": int(k),
        "n_splits": int(n_splits),
        "seed": int(seed),
    }


def _agreement(truth: np.ndarray, clusters: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

    return float(adjusted_rand_score(truth, clusters)), float(adjusted_mutual_info_score(truth, clusters))


def kmeans_clustering(
    X,
    labels,
    *,
    n_seeds: int = 5,
    seed: int = 0,
    n_init: int = 10,
    batch=None,
) -> dict[str, Any]:
    """k-means with k = number of labels, repeated over seeds; ARI and AMI against the labels.

    Each seed runs k-means++ with ``n_init`` restarts and keeps the lowest inertia, so the spread
    over seeds is what remains after the usual restarts. k-means runs on the embedding as given (Euclidean; for unit-norm rows such as GenePT-w this
    ranks neighbours like cosine). With ``batch``, the same clusters are also scored against the
    batches (lower = clusters follow batches less).

    Returns
    -------
    dict
        ``{"ari": {"mean", "sd", "n"}, "ami": {...}, "n_clusters": k, "n_seeds", "n_init",
        "seed"}`` (+ ``batch_ari``, ``batch_ami``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat(["T", "B"], 20)
    >>> X = rng.normal(size=(40, 8)) + (labels == "T")[:, None] * 3  # two separated cell types
    >>> kmeans_clustering(X, labels, n_seeds=2)["ari"]
    {'mean': 1.0, 'sd': 0.0, 'n': 2}
    """
    from sklearn.cluster import KMeans

    X = _as_array(X)
    y = _labels(labels, X.shape[0])
    b = _labels(batch, X.shape[0], "batch") if batch is not None else None
    k = int(np.unique(y).size)
    scores: dict[str, list[float]] = {"ari": [], "ami": [], "batch_ari": [], "batch_ami": []}
    for s in range(n_seeds):
        clusters = KMeans(n_clusters=k, n_init=n_init, random_state=seed + s).fit_predict(X)
        ari, ami = _agreement(y, clusters)
        scores["ari"].append(ari)
        scores["ami"].append(ami)
        if b is not None:
            ari, ami = _agreement(b, clusters)
            scores["batch_ari"].append(ari)
            scores["batch_ami"].append(ami)
    return {name: mean_sd(v) for name, v in scores.items() if v} | {
        "n_clusters": k,
        "n_seeds": int(n_seeds),
        "n_init": int(n_init),
        "seed": int(seed),
    }


def cosine_neighbors(X, n_neighbors: int) -> np.ndarray:
    """Indices of each row's ``n_neighbors`` nearest other rows by cosine distance (self excluded).

    Examples
    --------
    >>> cosine_neighbors(np.eye(3) + 0.1, 1).shape
    (3, 1)
    """
    from sklearn.neighbors import NearestNeighbors

    X = _as_array(X)
    if not 0 < n_neighbors < X.shape[0]:
        raise ValueError(f"n_neighbors must be between 1 and n_cells - 1 = {X.shape[0] - 1}")
    nn = NearestNeighbors(n_neighbors=n_neighbors, metric="cosine", algorithm="brute").fit(X)
    # kneighbors() without X leaves each point out of its own neighbour list.
    return nn.kneighbors(return_distance=False)


def leiden_sweep(
    X,
    labels,
    resolutions: Sequence[float] = RESOLUTIONS,
    *,
    n_neighbors: int = 15,
    seed: int = 0,
    batch=None,
) -> dict[str, Any]:
    """Leiden clustering on a cosine kNN graph at several resolutions; ARI / AMI against labels.

    The graph is scanpy's (``sc.pp.neighbors``, UMAP connectivities); clustering is
    ``sc.tl.leiden`` with the igraph backend. ``best_ari`` / ``best_ami`` pick the resolution
    after seeing the labels, so they are optimistic (as in scIB's "optimal" cluster metrics).

    Returns
    -------
    dict
        ``{"per_resolution": [{"resolution", "n_clusters", "ari", "ami"(, "batch_ari",
        "batch_ami")}], "best_ari": {...}, "best_ami": {...}, "n_neighbors", "seed"}``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat(["T", "B"], 20)
    >>> X = rng.normal(size=(40, 8)) + (labels == "T")[:, None] * 3  # two separated cell types
    >>> # skipped under doctest: numba compiles the neighbour graph on first use (~60 s CPU);
    >>> # tests/test_eval_cells.py runs leiden_sweep
    >>> res = leiden_sweep(X, labels, (0.5, 1.0), n_neighbors=5)  # doctest: +SKIP
    >>> [r["n_clusters"] for r in res["per_resolution"]]  # doctest: +SKIP
    [3, 5]
    """
    import anndata as ad
    import scanpy as sc

    X = _as_array(X)
    y = _labels(labels, X.shape[0])
    b = _labels(batch, X.shape[0], "batch") if batch is not None else None
    work = ad.AnnData(obsm={"X_rep": X}, obs={"_": np.zeros(X.shape[0])})
    sc.pp.neighbors(work, n_neighbors=min(n_neighbors, X.shape[0] - 1), use_rep="X_rep", metric="cosine", random_state=seed)
    rows = []
    for res in resolutions:
        sc.tl.leiden(work, resolution=res, flavor="igraph", n_iterations=2, directed=False, random_state=seed, key_added="leiden")
        clusters = work.obs["leiden"].to_numpy()
        ari, ami = _agreement(y, clusters)
        row = {"resolution": float(res), "n_clusters": int(np.unique(clusters).size), "ari": ari, "ami": ami}
        if b is not None:
            row["batch_ari"], row["batch_ami"] = _agreement(b, clusters)
        rows.append(row)
    return {
        "per_resolution": rows,
        "best_ari": max(rows, key=lambda r: r["ari"]),
        "best_ami": max(rows, key=lambda r: r["ami"]),
        "n_neighbors": int(n_neighbors),
        "seed": int(seed),
    }


def label_silhouette(X, labels) -> float:
    """Average silhouette width of the labels with cosine distance, in [-1, 1] (higher = tighter types).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat(["T", "B"], 20)
    >>> X = rng.normal(size=(40, 8)) + (labels == "T")[:, None] * 3  # two separated cell types
    >>> round(label_silhouette(X, labels), 3)
    0.488
    """
    from sklearn.metrics import silhouette_score

    X = _as_array(X)
    y = _labels(labels, X.shape[0])
    if not 2 <= np.unique(y).size < X.shape[0]:
        raise ValueError("the silhouette needs between 2 and n_cells - 1 distinct labels")
    return float(silhouette_score(X, y, metric="cosine"))


def batch_mixing(X, batch, *, k: int = 10) -> dict[str, float]:
    """How often a cell's k nearest neighbours (cosine) come from its own batch.

    ``same_batch`` is the observed share, averaged over cells; ``expected`` is the share if
    neighbours were random other cells, ``sum_b n_b (n_b - 1) / (N (N - 1))`` for batches of
    ``n_b`` cells among ``N``; ``ratio = same_batch / expected`` (1 = batches fully mixed, higher
    = cells cluster by batch). When cell types are unevenly spread over batches, part of the
    excess is biology, not batch effect.

    Examples
    --------
    Donors that alternate across two cell types mix fully (ratio close to 1):

    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat(["T", "B"], 20)
    >>> X = rng.normal(size=(40, 8)) + (labels == "T")[:, None] * 3  # two separated cell types
    >>> donor = np.tile(["d1", "d2"], 20)
    >>> {k: round(v, 3) for k, v in batch_mixing(X, donor, k=5).items()}
    {'same_batch': 0.465, 'expected': 0.487, 'ratio': 0.954, 'k': 5}
    """
    X = _as_array(X)
    b = _labels(batch, X.shape[0], "batch")
    observed = same_batch_fraction(cosine_neighbors(X, min(k, X.shape[0] - 1)), b)
    expected = expected_same_batch_fraction(b)
    return {"same_batch": observed, "expected": expected, "ratio": observed / expected if expected > 0 else float("nan"), "k": int(k)}


def scib_scores(
    embeddings: Mapping[str, np.ndarray],
    labels,
    batch,
    *,
    pre_integrated: np.ndarray,
    n_comps: int = 50,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """scib-metrics bio-conservation and batch-correction scores for several embeddings.

    Embeddings wider than ``n_comps`` are first reduced to ``n_comps`` principal components
    (scib-metrics' k-means is very slow on wide inputs). ``pre_integrated`` is the unintegrated
    reference for the PCR comparison (e.g. :func:`~genept.evaluation.baselines.pca_baseline`).
    Needs the optional extra: ``pip install 'genept[scib]'``.

    Returns
    -------
    dict
        ``{embedding: {metric: value}}`` with scib-metrics' clean metric names plus
        ``Bio conservation``, ``Batch correction`` and ``Total`` (not min-max scaled).

    Examples
    --------
    >>> # skipped: needs the optional extra genept[scib] (scib-metrics, jax), not installed by default
    >>> scores = scib_scores({"genept_w": W, "pca": P}, labels, donor, pre_integrated=P)  # doctest: +SKIP
    >>> scores["genept_w"]["Total"]  # doctest: +SKIP
    """
    import anndata as ad
    import pandas as pd

    from genept._utils import require

    require("scib_metrics", "scib-metrics scores")
    from scib_metrics.benchmark import Benchmarker
    from sklearn.decomposition import PCA

    names = list(embeddings)
    first = _as_array(embeddings[names[0]])
    obs = pd.DataFrame(
        {"label": _labels(labels, first.shape[0]), "batch": _labels(batch, first.shape[0], "batch")},
        index=[str(i) for i in range(first.shape[0])],
    )
    work = ad.AnnData(obs=obs)
    keys = {}
    for i, name in enumerate(names):
        Z = _as_array(embeddings[name])
        if Z.shape[1] > n_comps:
            Z = PCA(n_components=n_comps, random_state=seed).fit_transform(Z).astype(np.float32)
        keys[name] = f"emb{i}"
        work.obsm[keys[name]] = Z
    work.obsm["pre"] = _as_array(pre_integrated)
    bench = Benchmarker(
        work,
        batch_key="batch",
        label_key="label",
        embedding_obsm_keys=list(keys.values()),
        pre_integrated_embedding_obsm_key="pre",
        n_jobs=1,
        progress_bar=False,
    )
    bench.benchmark()
    table = bench.get_results(min_max_scale=False)
    table = table.drop(index="Metric Type", errors="ignore")
    return {name: {str(c): float(v) for c, v in table.loc[key].items()} for name, key in keys.items()}


# -- building and scoring a set of embeddings -------------------------------------------------
def cell_embeddings(
    adata,
    *,
    gene_embeddings: Mapping[str, Any] | None = None,
    obsm_keys: Sequence[str] = (),
    layer: str | None = None,
    transform: str = "counts",
    input: str = "auto",
    pca: bool = True,
    random_control: bool = True,
    seed: int = 0,
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """The embeddings to compare for one dataset, all from the same cells.

    ``input`` says what the values are: ``"counts"`` (raw counts), ``"log1p"``
    (log-normalised) or ``"auto"`` (default: counts when
    :func:`genept.cells.validation.looks_like_counts` finds whole numbers, else log-normalised).
    Every method that transforms follows it, so log-normalised data is never logged twice:
    GenePT-scaled and PCA log-normalise counts and take log-normalised values as given.
    ``info["input"]`` records what the input was taken to be.

    - ``genept_scaled:<name>``: GenePT-scaled (the default method of :func:`genept.cells.embed`);
    - ``genept_w:<name>``: GenePT-w from each gene embedding;
    - ``random_w:<name>``: GenePT-w from Gaussian gene vectors (same genes and dimension, ``seed``);
    - ``pca``: the raw-expression baseline (:func:`~genept.evaluation.baselines.pca_baseline`);
    - each ``obsm`` key as given (scGPT, Geneformer, scVI outputs, GenePT-s, ...).

    ``adata`` is not modified. Counts come from ``X`` or ``layers[layer]``. The GenePT embeddings
    are computed by :mod:`genept.evaluation.baselines` through :func:`genept.cells.embed`.

    Returns
    -------
    tuple
        ``(embeddings, info)``: ``{name: (n_obs, dim) float32}`` and
        ``{name: {"source", "dim", "coverage"?}}``.

    Examples
    --------
    40 cells x 30 genes of counts; 5 genes have a (toy) embedding:

    >>> import anndata as ad
    >>> from genept.embeddings import GeneEmbeddings
    >>> rng = np.random.default_rng(0)
    >>> genes = ["CD3E", "CD3D", "MS4A1", "CD19", "LYZ"] + [f"G{i}" for i in range(25)]
    >>> adata = ad.AnnData(rng.poisson(2, size=(40, 30)).astype(np.float32))
    >>> adata.var_names = genes
    >>> toy = GeneEmbeddings(genes[:5], rng.normal(size=(5, 4)).astype(np.float32))
    >>> embs, info = cell_embeddings(adata, gene_embeddings={"toy": toy})
    >>> {name: X.shape for name, X in sorted(embs.items())}
    {'genept_scaled:toy': (40, 4), 'genept_w:toy': (40, 4), 'pca': (40, 29), 'random_w:toy': (40, 4)}
    >>> info["genept_w:toy"]["coverage"]["n_genes_embedded"], info["pca"]["input"]
    (5, 'counts')
    """
    from genept.embeddings import load_gene_embeddings
    from genept.evaluation.baselines import genept_cells, genept_w, pca_baseline, random_gene_embeddings

    from genept.cells.validation import looks_like_counts

    if input not in ("auto", "counts", "log1p"):
        raise ValueError(f"input must be 'auto', 'counts' or 'log1p', not {input!r}")
    if input == "auto":
        input = "counts" if looks_like_counts(adata.X if layer is None else adata.layers[layer]) else "log1p"
    if input == "log1p" and transform in ("log1p", "log1p_cp10k"):
        raise ValueError(f"the input is log-normalised, so transform={transform!r} would log it twice; use transform='counts' (values as given)")
    scaled_transform = "log1p_cp10k" if input == "counts" else "counts"
    out: dict[str, np.ndarray] = {}
    info: dict[str, dict[str, Any]] = {}
    for name, ge in (gene_embeddings or {}).items():
        emb = load_gene_embeddings(ge)
        out[f"genept_scaled:{name}"], cov = genept_cells(adata, emb, method="scaled", layer=layer, transform=scaled_transform)
        info[f"genept_scaled:{name}"] = {"source": f"GenePT-scaled (default; {scaled_transform}) from {emb.meta.get('encoder', name)}", "coverage": cov}
        out[f"genept_w:{name}"], cov = genept_w(adata, emb, layer=layer, transform=transform)
        info[f"genept_w:{name}"] = {"source": f"GenePT-w ({transform}) from {emb.meta.get('encoder', name)}", "coverage": cov}
        if random_control:
            out[f"random_w:{name}"], cov = genept_w(adata, random_gene_embeddings(emb, seed=seed), layer=layer, transform=transform)
            info[f"random_w:{name}"] = {"source": f"GenePT-w ({transform}) from Gaussian gene vectors, seed {seed}", "coverage": cov}
    if pca:
        out["pca"] = pca_baseline(adata, layer=layer, input=input, seed=seed)
        n_hvg = min(2000, adata.n_vars)
        steps = "normalize_total, log1p" if input == "counts" else "log-normalised values as given"
        info["pca"] = {"source": f"{steps}, {n_hvg} {'HVG (seurat)' if n_hvg < adata.n_vars else 'genes (all)'}, PCA"}
    for key in obsm_keys:
        if key not in adata.obsm:
            raise ValueError(f"adata.obsm has no {key!r} (it has {list(adata.obsm)})")
        out[key] = _as_array(adata.obsm[key])
        info[key] = {"source": f"adata.obsm[{key!r}]"}
    for name, X in out.items():
        info[name]["dim"] = int(X.shape[1])
        info[name]["input"] = input
    if not out:
        raise ValueError("nothing to evaluate: give gene_embeddings, obsm_keys or pca=True")
    return out, info


def evaluate_cells(
    embeddings: Mapping[str, np.ndarray],
    labels,
    *,
    batch=None,
    k: int = 10,
    n_splits: int = 5,
    n_seeds: int = 5,
    resolutions: Sequence[float] = RESOLUTIONS,
    scib: bool = False,
    pre_integrated: str | None = "pca",
    seed: int = 0,
) -> dict[str, Any]:
    """Score every embedding with every cell-level task, on the same splits and seeds.

    Parameters
    ----------
    embeddings
        ``{name: (n_cells, dim) array}``, e.g. from :func:`cell_embeddings`.
    labels, batch
        Per-cell cell type and (optional) batch.
    scib
        Also run :func:`scib_scores` (needs ``batch`` and ``genept[scib]``; skipped with a note
        when not installed). ``pre_integrated`` names the embedding used as the unintegrated
        reference (default the PCA baseline).

    Returns
    -------
    dict
        ``{"tasks": {embedding: {"knn", "kmeans", "leiden", "silhouette", "batch_mixing"?}},
        "scib": {...} or None, "notes": [...], "timings_s": {...}, "settings": {...}}``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat(["T", "B"], 20)
    >>> X = rng.normal(size=(40, 8)) + (labels == "T")[:, None] * 3  # two separated cell types
    >>> embs = {"good": X, "noise": rng.normal(size=(40, 8))}
    >>> # skipped under doctest: the Leiden task makes numba compile the neighbour graph on first
    >>> # use (~60 s CPU); tests/test_eval_cells.py runs evaluate_cells end to end
    >>> res = evaluate_cells(embs, labels, n_splits=2, n_seeds=1, resolutions=(0.5,))  # doctest: +SKIP
    >>> sorted(res["tasks"]["good"])  # doctest: +SKIP
    ['kmeans', 'knn', 'leiden', 'silhouette']
    """
    n = next(iter(embeddings.values())).shape[0]
    y = _labels(labels, n)
    b = _labels(batch, n, "batch") if batch is not None else None
    tasks: dict[str, dict[str, Any]] = {}
    timings: dict[str, float] = {}
    notes: list[str] = []
    for name, X in embeddings.items():
        t0 = time.perf_counter()
        log.info("cell tasks on %s", name)
        res: dict[str, Any] = {
            "knn": knn_annotation(X, y, k=k, n_splits=n_splits, seed=seed),
            "kmeans": kmeans_clustering(X, y, n_seeds=n_seeds, seed=seed, batch=b),
            "leiden": leiden_sweep(X, y, resolutions, seed=seed, batch=b),
            "silhouette": label_silhouette(X, y),
        }
        if b is not None:
            res["batch_mixing"] = batch_mixing(X, b, k=k)
        tasks[name] = res
        timings[name] = round(time.perf_counter() - t0, 2)
    scib_result = None
    if scib:
        if b is None:
            notes.append("scib-metrics skipped: no batch given")
        else:
            try:
                ref = embeddings[pre_integrated] if pre_integrated in embeddings else next(iter(embeddings.values()))
                t0 = time.perf_counter()
                scib_result = scib_scores(embeddings, y, b, pre_integrated=ref, seed=seed)
                timings["scib"] = round(time.perf_counter() - t0, 2)
            except ImportError as err:
                notes.append(f"scib-metrics skipped: {err}")
    classes, counts = np.unique(y, return_counts=True)
    return {
        "tasks": tasks,
        "scib": scib_result,
        "notes": notes,
        "timings_s": timings,
        "settings": {
            "n_cells": int(n),
            "labels": {str(c): int(m) for c, m in zip(classes, counts, strict=True)},
            "batches": {str(c): int(m) for c, m in zip(*np.unique(b, return_counts=True), strict=True)} if b is not None else None,
            "k": k,
            "n_splits": n_splits,
            "n_seeds": n_seeds,
            "resolutions": list(resolutions),
            "seed": seed,
        },
    }


__all__ = [
    "RESOLUTIONS",
    "batch_mixing",
    "cell_embeddings",
    "cosine_neighbors",
    "evaluate_cells",
    "kmeans_clustering",
    "knn_annotation",
    "label_silhouette",
    "leiden_sweep",
    "scib_scores",
]
