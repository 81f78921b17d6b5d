"""The GenePT paper's cell protocol (``genept bench cells --protocol genept-paper``), as pure functions.

- :func:`kmeans_scores`: k-means with k = number of labels; ARI and AMI of the clusters against
  the labels (the paper's Table 2).
- :func:`label_asw`: average silhouette width of the labels (Table 2's ASW), in [-1, 1].
- :func:`knn_split_scores`: 10-NN cosine majority vote trained on a random 80% of the cells and
  scored on the other 20%: accuracy and macro precision, recall, F1 (Table C4).
- :func:`ensemble`: the paper's ensemble, the mean of L2-normalised embeddings (GenePT-w,
  GenePT-s and, where the user supplies it, scGPT).
- :func:`evaluate_paper`: all of it for several embeddings, on the same split and seed.

What the paper does not state is a parameter with a documented default: the split is random,
not stratified (the authors' notebook uses ``train_test_split(test_size=0.2)``); k-means is
scikit-learn's ``KMeans`` with ``n_init`` restarts (the notebook uses ``MiniBatchKMeans`` with
batches of 20: ``minibatch=20``); ASW uses Euclidean distance (scikit-learn's default; the paper
does not name one). Embeddings come from :func:`genept.evaluation.cells.cell_embeddings` and
:func:`genept.cells.embed`; nothing here imports :mod:`genept.tl`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

PROTOCOL = "genept-paper"


def _matrix(X: Any) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"expected an (n_cells, dim) embedding, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("the embedding contains NaN or inf; recompute it or drop those cells")
    return X


def _labels(labels: Any, n: int) -> np.ndarray:
    y = np.asarray(labels).astype(str)
    if y.shape != (n,):
        raise ValueError(f"labels must have one value per cell ({n}), got shape {y.shape}")
    if np.unique(y).size < 2:
        raise ValueError("the paper's protocol needs at least two distinct labels")
    return y


def l2_normalize(X: Any) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero).

    Examples
    --------
    >>> l2_normalize([[3.0, 4.0], [0.0, 0.0]]).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    X = _matrix(X)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)


def kmeans_scores(X: Any, labels: Any, *, seed: int = 0, n_init: int = 10, minibatch: int | None = None) -> dict[str, Any]:
    """k-means with k = number of distinct labels; ARI and AMI of the clusters against the labels.

    Parameters
    ----------
    X
        ``(n_cells, dim)`` embedding, clustered as given (Euclidean).
    labels
        One label per cell.
    seed, n_init
        ``KMeans(random_state=seed, n_init=n_init)``.
    minibatch
        Use ``MiniBatchKMeans(batch_size=minibatch)`` instead (the authors' notebook: 20).

    Returns
    -------
    ``{"ari", "ami", "n_clusters", "seed"}``.

    Examples
    --------
    >>> X = [[0, 0], [0, 0.1], [5, 5], [5, 5.1]]
    >>> kmeans_scores(X, ["a", "a", "b", "b"])["ari"]
    1.0
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

    X = _matrix(X)
    y = _labels(labels, X.shape[0])
    k = int(np.unique(y).size)
    if minibatch:
        model = MiniBatchKMeans(n_clusters=k, batch_size=int(minibatch), n_init=n_init, random_state=seed)
    else:
        model = KMeans(n_clusters=k, n_init=n_init, random_state=seed)
    clusters = model.fit_predict(X)
    return {
        "ari": float(adjusted_rand_score(y, clusters)),
        "ami": float(adjusted_mutual_info_score(y, clusters)),
        "n_clusters": k,
        "seed": int(seed),
    }


def label_asw(X: Any, labels: Any, *, metric: str = "euclidean") -> float:
    """Average silhouette width of the labels (not of the clusters), in [-1, 1]; higher = tighter types.

    Examples
    --------
    >>> round(label_asw([[0, 0], [0, 1], [10, 0], [10, 1]], ["a", "a", "b", "b"]), 4)
    0.9002
    """
    from sklearn.metrics import silhouette_score

    X = _matrix(X)
    y = _labels(labels, X.shape[0])
    if np.unique(y).size >= X.shape[0]:
        raise ValueError("the silhouette needs fewer distinct labels than cells")
    return float(silhouette_score(X, y, metric=metric))


def split_80_20(labels: Any, *, test_size: float = 0.2, seed: int = 0, stratify: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Train and test cell indices of one random split (the same for every embedding).

    Examples
    --------
    >>> tr, te = split_80_20(["a"] * 5 + ["b"] * 5)
    >>> len(tr), len(te)
    (8, 2)
    """
    from sklearn.model_selection import train_test_split

    y = np.asarray(labels).astype(str)
    idx = np.arange(y.size)
    tr, te = train_test_split(idx, test_size=test_size, random_state=seed, stratify=y if stratify else None)
    return np.sort(tr), np.sort(te)


def knn_split_scores(
    X: Any,
    labels: Any,
    *,
    k: int = 10,
    test_size: float = 0.2,
    seed: int = 0,
    stratify: bool = False,
    split: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """k-NN (cosine, uniform majority vote) trained on 80% of the cells, scored on the other 20%.

    Ties in the vote go to the label that sorts first (scikit-learn's rule, as ``scipy.stats.mode``
    in the authors' notebook).

    Parameters
    ----------
    split
        ``(train, test)`` indices; default :func:`split_80_20` with ``test_size``, ``seed``,
        ``stratify``.

    Returns
    -------
    ``{"accuracy", "precision_macro", "recall_macro", "f1_macro", "n_train", "n_test", "k"}``;
    classes absent from the predictions count as 0 precision (``zero_division=0``).

    Examples
    --------
    >>> X = [[1, 0], [1, 0.1], [0.9, 0], [0, 1], [0.1, 1], [0, 0.9]] * 2
    >>> y = ["a", "a", "a", "b", "b", "b"] * 2
    >>> knn_split_scores(X, y, k=3, test_size=0.5)["f1_macro"]
    1.0
    """
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support
    from sklearn.neighbors import KNeighborsClassifier

    X = _matrix(X)
    y = _labels(labels, X.shape[0])
    tr, te = split if split is not None else split_80_20(y, test_size=test_size, seed=seed, stratify=stratify)
    if len(tr) == 0 or len(te) == 0:
        raise ValueError("the split needs both training and test cells")
    model = KNeighborsClassifier(n_neighbors=min(k, len(tr)), metric="cosine", algorithm="brute")
    pred = model.fit(X[tr], y[tr]).predict(X[te])
    p, r, f, _ = precision_recall_fscore_support(y[te], pred, average="macro", zero_division=0)
    return {
        "accuracy": float(accuracy_score(y[te], pred)),
        "precision_macro": float(p),
        "recall_macro": float(r),
        "f1_macro": float(f),
        "n_train": int(len(tr)),
        "n_test": int(len(te)),
        "k": int(k),
    }


def ensemble(embeddings: Sequence[Any], *, how: Literal["auto", "mean", "concat"] = "auto") -> tuple[np.ndarray, str]:
    """The paper's ensemble: each embedding L2-normalised per cell, then averaged.

    ``"mean"`` averages the normalised vectors (they must have one width). ``"concat"`` joins
    them, each block scaled by ``1 / sqrt(m)`` for ``m`` members, so that the cosine
    similarity of two cells is the mean of their per-embedding cosine similarities: the same
    average for embeddings of different widths (scGPT 512-d beside GenePT's 1,536-d). ``"auto"``
    = ``"mean"`` when the widths agree, else ``"concat"``.

    Returns
    -------
    ``(Y, how_used)``.

    Examples
    --------
    >>> Y, how = ensemble([[[3.0, 4.0]], [[1.0, 0.0]]])
    >>> Y.tolist(), how
    ([[0.8, 0.4]], 'mean')
    >>> Y, how = ensemble([[[3.0, 4.0]], [[2.0]]])
    >>> how, round(float((Y @ Y.T)[0, 0]), 6)
    ('concat', 1.0)
    """
    if len(embeddings) < 2:
        raise ValueError("an ensemble needs at least two embeddings")
    blocks = [l2_normalize(E) for E in embeddings]
    n = {b.shape[0] for b in blocks}
    if len(n) != 1:
        raise ValueError(f"ensemble members must describe the same cells, got {sorted(n)} rows")
    same_width = len({b.shape[1] for b in blocks}) == 1
    if how == "auto":
        how = "mean" if same_width else "concat"
    if how == "mean":
        if not same_width:
            raise ValueError(f"how='mean' needs one width, got {[b.shape[1] for b in blocks]}; use how='concat'")
        return np.mean(blocks, axis=0).astype(np.float32), "mean"
    if how == "concat":
        return (np.hstack(blocks) / np.sqrt(len(blocks))).astype(np.float32), "concat"
    raise ValueError(f"how must be 'auto', 'mean' or 'concat', not {how!r}")


def ensemble_members(names: Sequence[str], *, scgpt_key: str | None = None) -> list[str]:
    """The paper's ensemble members among ``names``: the first GenePT-w row, the first GenePT-s row, and scGPT.

    GenePT-w / GenePT-s rows are named ``genept_w:...`` / ``genept_s:...`` (as built by
    :func:`genept.evaluation.cells.cell_embeddings` and :func:`genept_s_cells`); scGPT is
    ``scgpt_key`` or the first name :func:`genept.evaluation.published.seed_system` reads as scGPT.

    Examples
    --------
    >>> ensemble_members(["pca", "genept_w:a", "genept_w:b", "genept_s:minilm", "X_scGPT"])
    ['genept_w:a', 'genept_s:minilm', 'X_scGPT']
    """
    from genept.evaluation.published import seed_system

    out = []
    for prefix in ("genept_w:", "genept_s:"):
        first = next((n for n in names if n.startswith(prefix)), None)
        if first is not None:
            out.append(first)
    if scgpt_key is None:
        scgpt_key = next((n for n in names if seed_system(n) == "scGPT"), None)
    if scgpt_key is not None:
        if scgpt_key not in names:
            raise ValueError(f"{scgpt_key!r} is not among the embeddings ({list(names)})")
        out.append(scgpt_key)
    return out


def genept_s_cells(
    adata: Any,
    encoder: str,
    *,
    layer: str | None = None,
    top_k: int | None = 1000,
    windows: Literal["all", "first"] = "all",
    cache: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """GenePT-s cell embeddings of an AnnData through :func:`genept.cells.embed` (``method="s"``).

    The sentence is genept's default (prefix ``"A cell with genes ranked by expression: "``, the
    one in the authors' notebook), at most ``top_k`` genes; ``windows="first"`` is the paper's cut.

    Returns
    -------
    ``(Y, info)`` with ``info = {"source", "coverage"}``.
    """
    from genept.cells.embed import embed

    X = adata.X if layer is None else adata.layers[layer]
    Y, record = embed(X, list(adata.var_names), method="s", encoder=encoder, top_k=top_k, windows=windows, cache=cache, show_progress=False)
    trunc = record.truncation or {}
    source = f"GenePT-s ({encoder}, top {top_k or 'all'} genes, windows={windows})"
    return np.asarray(Y, dtype=np.float32), {"source": source, "coverage": dict(record.coverage), "truncation": trunc}


def evaluate_paper(
    embeddings: Mapping[str, Any],
    labels: Any,
    *,
    k: int = 10,
    test_size: float = 0.2,
    seed: int = 0,
    n_init: int = 10,
    minibatch: int | None = None,
    asw_metric: str = "euclidean",
    stratify: bool = False,
) -> dict[str, Any]:
    """The paper's cell protocol for every embedding, on one split and one k-means seed.

    Returns
    -------
    ``{"protocol": "genept-paper", "tasks": {name: {"kmeans": {"ari", "ami", "asw", ...},
    "knn": {"accuracy", "precision_macro", "recall_macro", "f1_macro", ...}}}, "settings": {...}}``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["a", "b"], 20)
    >>> X = rng.normal(size=(40, 2)) + 10 * np.stack([y == "a", y == "b"], axis=1)
    >>> res = evaluate_paper({"toy": X}, y)
    >>> res["tasks"]["toy"]["kmeans"]["ari"], res["tasks"]["toy"]["knn"]["f1_macro"]
    (1.0, 1.0)
    """
    if not embeddings:
        raise ValueError("nothing to evaluate: give at least one embedding")
    n = _matrix(next(iter(embeddings.values()))).shape[0]
    y = _labels(labels, n)
    split = split_80_20(y, test_size=test_size, seed=seed, stratify=stratify)
    tasks: dict[str, dict[str, Any]] = {}
    for name, X in embeddings.items():
        km = kmeans_scores(X, y, seed=seed, n_init=n_init, minibatch=minibatch)
        km["asw"] = label_asw(X, y, metric=asw_metric)
        tasks[name] = {"kmeans": km, "knn": knn_split_scores(X, y, k=k, split=split)}
    classes, counts = np.unique(y, return_counts=True)
    return {
        "protocol": PROTOCOL,
        "tasks": tasks,
        "settings": {
            "n_cells": int(n),
            "labels": {str(c): int(m) for c, m in zip(classes, counts, strict=True)},
            "k": int(k),
            "test_size": float(test_size),
            "stratify": bool(stratify),
            "seed": int(seed),
            "n_init": int(n_init),
            "minibatch": minibatch,
            "asw_metric": asw_metric,
        },
    }


__all__ = [
    "PROTOCOL",
    "ensemble",
    "ensemble_members",
    "evaluate_paper",
    "genept_s_cells",
    "kmeans_scores",
    "knn_split_scores",
    "l2_normalize",
    "label_asw",
    "split_80_20",
]
