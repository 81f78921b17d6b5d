"""Gene-level evaluation: can a simple model read gene function out of the embeddings?

Every task takes :class:`~genept.embeddings.GeneEmbeddings` plus labels and returns a plain dict of
numbers (JSON-ready) that always includes ``coverage``: how many of the task's genes have an
embedding. Gene identifiers in labels may be symbols, aliases, previous symbols, Ensembl or Entrez
ids; they are matched to embedding keys first directly, then through the gene resolver.

Tasks
-----
- :func:`functional_classes`: Ensembl gene type (GenePT's 15 classes), logistic regression.
- :func:`gene_property`: any binary gene label file (:func:`read_label_file`), 5-fold CV.
- :func:`gene_interactions`: Gene2vec gene-gene interaction pairs, train / test.
- :func:`go_terms`: one-vs-rest prediction of GO term membership, per-term ROC-AUC.

:func:`evaluate_genes` runs them all for several embeddings, each with a random-embedding control.

GenePT protocols: :func:`gene_interactions_controlled` (GGI beside a study-bias control,
:func:`study_bias_covariates`, :func:`stratified_auc`), :func:`read_labels` (label tables with
named columns) and :func:`lexical_baseline` (TF-IDF + SVD of the gene texts).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genept.embeddings import GeneEmbeddings
from genept.evaluation.metrics import mean_sd, median_iqr, roc_auc_columns
from genept.genes.ontology import load_go, propagate_annotations

log = logging.getLogger(__name__)

_MISSING = {"", "nan", "none", "na", "null"}


# -- matching genes to embedding rows ---------------------------------------------------------
def _rows(emb: GeneEmbeddings, ids: Sequence[str], *, species: str = "human") -> np.ndarray:
    """Row of ``emb`` for each identifier (-1 when it has no embedding): :meth:`GeneEmbeddings.locate`."""
    return emb.locate(ids, species=species)


def _dedupe(keys: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Keep one row per key; drop keys seen with different labels.

    Returns ``(keep_mask, n_conflicting_keys, n_duplicate_rows_merged)``.
    """
    frame = pd.DataFrame({"key": keys, "label": labels})
    n_labels = frame.groupby("key", sort=False)["label"].transform("nunique").to_numpy()
    conflicting = n_labels > 1
    first = ~frame.duplicated("key").to_numpy()
    keep = first & ~conflicting
    n_conflicting = int(frame.loc[conflicting, "key"].nunique())
    n_merged = int((~first & ~conflicting).sum())
    return keep, n_conflicting, n_merged


def align_labels(
    embeddings: GeneEmbeddings,
    genes: Sequence[str],
    labels: Sequence,
    *,
    fallback_ids: Sequence[str] | None = None,
    species: str = "human",
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Match labelled genes to embedding rows, dropping contradictions and duplicates.

    A gene listed with two different labels is dropped; a gene listed twice with the same label is
    kept once. The same is then done per embedding row, because two identifiers (an alias and its
    symbol, two Ensembl ids with one name) can reach the same vector; keeping both would put one
    vector in train and test.

    Parameters
    ----------
    genes, labels
        Gene identifiers and their labels (any hashable values).
    fallback_ids
        Second identifier per gene (e.g. Ensembl id) tried when ``genes[i]`` has no embedding.

    Returns
    -------
    ``(rows, labels, coverage)`` with ``coverage`` = ``n_genes`` (distinct labelled genes),
    ``n_with_embedding``, ``fraction``, ``n_conflicting_labels`` (dropped), ``n_duplicates_merged``
    and ``n_used``.

    Examples
    --------
    ``CD3epsilon`` is an alias of ``CD3E`` (one vector: kept once); ``INS`` is listed with both
    labels (dropped); ``NOPE`` has no embedding:

    >>> from genept.embeddings import GeneEmbeddings
    >>> emb = GeneEmbeddings(["CD3E", "CD19", "INS"], np.eye(3, dtype=np.float32))
    >>> rows, y, cov = align_labels(emb, ["CD3E", "CD3epsilon", "CD19", "INS", "INS", "NOPE"], [1, 1, 0, 0, 1, 1])
    >>> rows.tolist(), y.tolist()
    ([0, 1], [1, 0])
    >>> cov
    {'n_genes': 5, 'n_with_embedding': 4, 'fraction': 0.8, 'n_conflicting_labels': 1, 'n_duplicates_merged': 1, 'n_used': 2}
    """
    genes = np.asarray([str(g).strip() for g in genes], dtype=object)
    labels = np.asarray(labels, dtype=object)
    if genes.shape != labels.shape:
        raise ValueError(f"{genes.size} genes but {labels.size} labels")
    rows = _rows(embeddings, genes, species=species)
    if fallback_ids is not None:
        fallback = np.asarray([str(f).strip() for f in fallback_ids], dtype=object)
        miss = np.flatnonzero(rows < 0)
        if miss.size:
            rows[miss] = _rows(embeddings, fallback[miss], species=species)
    # Coverage counts distinct listed genes, before any is dropped for contradicting itself.
    listed = pd.Series(rows >= 0).groupby(genes).any()
    keep, n_conf_ids, n_dup_ids = _dedupe(genes, labels)
    rows, labels = rows[keep], labels[keep]
    found = rows >= 0
    keep2, n_conf_rows, n_dup_rows = _dedupe(rows[found], labels[found])
    rows, out_labels = rows[found][keep2], labels[found][keep2]
    coverage = {
        "n_genes": int(listed.size),
        "n_with_embedding": int(listed.sum()),
        "fraction": float(listed.mean()) if listed.size else 0.0,
        "n_conflicting_labels": n_conf_ids + n_conf_rows,
        "n_duplicates_merged": n_dup_ids + n_dup_rows,
        "n_used": int(rows.size),
    }
    return rows, out_labels, coverage


def _logreg(seed: int, max_iter: int = 1000):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # Standardised inputs make one C fit encoders whose vectors have very different scales.
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=max_iter, random_state=seed))


# -- 1. functional classes -------------------------------------------------------------------
def load_gene_types(path: str | Path) -> pd.DataFrame:
    """Read ``gene_types_geneformer.csv.gz`` (columns ``ensembl_id``, ``gene_name``, ``gene_type``).

    Examples
    --------
    >>> from pathlib import Path
    >>> _ = Path("types.csv").write_text("ensembl_id,gene_name,gene_type\\nENSG00000198851,CD3E,protein_coding\\n")
    >>> load_gene_types("types.csv").to_dict("records")
    [{'ensembl_id': 'ENSG00000198851', 'gene_name': 'CD3E', 'gene_type': 'protein_coding'}]
    """
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table = table.drop(columns=[c for c in table.columns if c.startswith("Unnamed")])
    need = {"gene_name", "gene_type"}
    if not need <= set(table.columns):
        raise ValueError(f"{path}: expected columns gene_name, gene_type (and ensembl_id); got {list(table.columns)}")
    return table


def functional_classes(
    embeddings: GeneEmbeddings,
    gene_types: pd.DataFrame,
    *,
    min_genes: int = 75,
    test_size: float = 0.3,
    seed: int = 0,
) -> dict[str, Any]:
    """Predict a gene's Ensembl biotype from its embedding (GenePT's "15 functional classes").

    Rows with a missing type are dropped; a gene name listed under several types is dropped
    (Geneformer's table has hundreds; kept, one vector would sit in train and test with different
    labels); a name listed twice under one type is kept once, and so is a vector reached by two
    names. The counts are in ``coverage``. Classes with more than
    ``min_genes`` embedded genes are kept. Logistic regression on standardised vectors, stratified
    ``1 - test_size`` / ``test_size`` split.

    Parameters
    ----------
    gene_types
        Columns ``gene_name``, ``gene_type`` and optionally ``ensembl_id`` (tried for names without
        an embedding); see :func:`load_gene_types`.

    Returns
    -------
    ``accuracy``, ``f1_macro``, ``classes``, ``class_sizes``, ``confusion_matrix`` (rows = true
    class, columns = predicted, test set), ``n_train``, ``n_test``, ``coverage``.

    Examples
    --------
    60 toy genes of two types whose vectors differ (``min_genes`` lowered to fit):

    >>> from genept.embeddings import GeneEmbeddings
    >>> genes = [f"G{i}" for i in range(60)]
    >>> types = pd.DataFrame({"gene_name": genes, "gene_type": np.repeat(["protein_coding", "lncRNA"], 30)})
    >>> vectors = np.random.default_rng(0).normal(size=(60, 8)) + (types["gene_type"] == "lncRNA").to_numpy()[:, None] * 2
    >>> res = functional_classes(GeneEmbeddings(genes, vectors.astype(np.float32)), types, min_genes=10)
    >>> res["accuracy"], res["classes"], res["n_test"]
    (1.0, ['lncRNA', 'protein_coding'], 18)

    With the shared data:

    >>> # skipped: needs gene_types_geneformer.csv.gz from ../shared/data/genes and real gene embeddings
    >>> res = functional_classes(emb, load_gene_types("gene_types_geneformer.csv.gz"))  # doctest: +SKIP
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
    from sklearn.model_selection import train_test_split

    types = gene_types["gene_type"].astype(str).str.strip()
    has_type = ~types.str.lower().isin(_MISSING)
    table = gene_types.loc[has_type]
    fallback = table["ensembl_id"].tolist() if "ensembl_id" in table.columns else None
    rows, labels, coverage = align_labels(embeddings, table["gene_name"].tolist(), types[has_type].tolist(), fallback_ids=fallback)
    coverage["n_missing_type"] = int((~has_type).sum())
    sizes = pd.Series(labels).value_counts()
    classes = sorted(sizes.index[sizes > min_genes])
    if len(classes) < 2:
        raise ValueError(f"only {len(classes)} gene types have more than {min_genes} embedded genes; embed more genes or lower min_genes")
    keep = np.isin(labels, classes)
    X, y = embeddings.vectors[rows[keep]], labels[keep].astype(str)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)
    model = _logreg(seed).fit(X_tr, y_tr)
    pred = model.predict(X_te)
    return {
        "accuracy": float(accuracy_score(y_te, pred)),
        "f1_macro": float(f1_score(y_te, pred, average="macro", labels=classes, zero_division=0)),
        "classes": classes,
        "class_sizes": {c: int(sizes[c]) for c in classes},
        "confusion_matrix": confusion_matrix(y_te, pred, labels=classes).tolist(),
        "n_train": len(y_tr),
        "n_test": len(y_te),
        "coverage": coverage,
    }


# -- 2. binary gene properties ----------------------------------------------------------------
def read_label_file(path: str | Path, *, positive: str | None = None) -> pd.Series:
    """Read a binary gene label file.

    Format: one gene per line, ``gene<TAB>label`` (a comma works too when the file has no tab).
    ``gene`` is any identifier (symbol, alias, Ensembl or Entrez id). ``label`` is ``0``/``1``
    or one of exactly two class names. Blank lines and lines starting with ``#`` are ignored. A
    header line is optional: the first line is taken as a header when its label is neither
    ``0``/``1`` nor a value that occurs again in the file.

    Parameters
    ----------
    positive
        Class name coded as 1. Default: ``1`` for 0/1 files, otherwise the class name that sorts
        second (ROC-AUC does not depend on which class is called positive).

    Returns
    -------
    pandas.Series
        0/1 (int8) indexed by gene identifier, named after the positive class; its
        ``attrs["classes"]`` holds ``[negative, positive]`` class names.

    Examples
    --------
    >>> from pathlib import Path
    >>> _ = Path("dosage.tsv").write_text("gene\\tlabel\\nTP53\\tsensitive\\nACTB\\tinsensitive\\nMYC\\tsensitive\\n")
    >>> y = read_label_file("dosage.tsv", positive="sensitive")
    >>> y.to_dict(), y.attrs["classes"]
    ({'TP53': 1, 'ACTB': 0, 'MYC': 1}, ['insensitive', 'sensitive'])
    """
    path = Path(path)
    lines = [ln.rstrip("\n\r") for ln in path.read_text().splitlines()]
    lines = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{path} has no gene lines; expected 'gene<TAB>label' per line")
    sep = "\t" if any("\t" in ln for ln in lines) else ","
    pairs = []
    for n, ln in enumerate(lines, 1):
        parts = [p.strip() for p in ln.split(sep)]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise ValueError(f"{path}, gene line {n}: expected 'gene<TAB>label', got {ln!r}")
        pairs.append((parts[0], parts[1]))
    genes, labels = [p[0] for p in pairs], [p[1] for p in pairs]
    if labels[0] not in {"0", "1"} and labels[0] not in labels[1:]:
        genes, labels = genes[1:], labels[1:]
    classes = sorted(set(labels))
    if len(classes) != 2:
        raise ValueError(
            f"{path}: a binary label file needs exactly two label values, found {len(classes)} ({classes[:5]}); use 0/1 or two class names"
        )
    if positive is None:
        positive = "1" if set(classes) == {"0", "1"} else classes[1]
    if positive not in classes:
        raise ValueError(f"{path}: positive class {positive!r} is not one of the labels {classes}")
    negative = next(c for c in classes if c != positive)
    series = pd.Series([np.int8(lab == positive) for lab in labels], index=pd.Index(genes, name="gene"), name=positive, dtype=np.int8)
    series.attrs["classes"] = [negative, positive]
    return series


def gene_property(
    embeddings: GeneEmbeddings,
    labels: pd.Series,
    *,
    n_splits: int = 5,
    seed: int = 0,
    models: Sequence[str] = ("logreg", "random_forest"),
    n_jobs: int = 1,
) -> dict[str, Any]:
    """Binary gene property prediction: stratified k-fold ROC-AUC (mean +- sd over folds).

    Parameters
    ----------
    labels
        0/1 per gene identifier, e.g. from :func:`read_label_file`.
    models
        ``logreg`` (logistic regression on standardised vectors) and/or ``random_forest``
        (100 trees).

    Returns
    -------
    dict
        ``{model: {"auc": {"mean", "sd", "n"}, "folds": [...]}}`` plus ``n_pos``, ``n_neg`` and
        ``coverage``.

    Examples
    --------
    >>> from genept.embeddings import GeneEmbeddings
    >>> genes = [f"G{i}" for i in range(40)]
    >>> labels = pd.Series(np.repeat([0, 1], 20).astype(np.int8), index=genes)
    >>> vectors = np.random.default_rng(0).normal(size=(40, 8)) + labels.to_numpy()[:, None] * 2
    >>> res = gene_property(GeneEmbeddings(genes, vectors.astype(np.float32)), labels, models=("logreg",))
    >>> res["logreg"]["auc"], res["n_pos"]
    ({'mean': 1.0, 'sd': 0.0, 'n': 5}, 20)
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    rows, y, coverage = align_labels(embeddings, labels.index.tolist(), labels.to_numpy())
    y = y.astype(np.int8)
    n_pos, n_neg = int(y.sum()), int((y == 0).sum())
    if min(n_pos, n_neg) < n_splits:
        raise ValueError(
            f"{n_pos} positive and {n_neg} negative genes have embeddings; {n_splits}-fold CV needs at least that many of each class"
        )
    X = embeddings.vectors[rows]
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    builders = {
        "logreg": lambda: _logreg(seed),
        "random_forest": lambda: RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=n_jobs),
    }
    out: dict[str, Any] = {"n_pos": n_pos, "n_neg": n_neg, "coverage": coverage}
    for name in models:
        if name not in builders:
            raise ValueError(f"unknown model {name!r}; choose from {sorted(builders)}")
        folds = cross_val_score(builders[name](), X, y, cv=cv, scoring="roc_auc")
        out[name] = {"auc": mean_sd(folds), "folds": [float(f) for f in folds]}
    return out


# -- 3. gene-gene interactions ----------------------------------------------------------------
def read_gene_pairs(data_dir: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Gene2vec-format pairs: ``{split}_text.txt`` ("GENE GENE" per line) and ``{split}_label.txt`` (0/1).

    Returns ``(pairs, labels)``: a ``(n, 2)`` string array and a ``(n,)`` int8 array.

    Examples
    --------
    >>> from pathlib import Path
    >>> _ = Path("train_text.txt").write_text("CD3E CD3D\\nINS CD19\\n")
    >>> _ = Path("train_label.txt").write_text("1\\n0\\n")
    >>> pairs, y = read_gene_pairs(".", "train")
    >>> pairs.tolist(), y.tolist()
    ([['CD3E', 'CD3D'], ['INS', 'CD19']], [1, 0])
    """
    data_dir = Path(data_dir)
    text = data_dir / f"{split}_text.txt"
    label = data_dir / f"{split}_label.txt"
    pairs = np.array([ln.split() for ln in text.read_text().splitlines() if ln.strip()], dtype=object)
    y = np.array([int(v) for v in label.read_text().split()], dtype=np.int8)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"{text}: every line must hold two gene identifiers separated by a space")
    if len(pairs) != len(y):
        raise ValueError(f"{text} has {len(pairs)} pairs but {label} has {len(y)} labels")
    return pairs.astype(str), y


def _pair_features(V: np.ndarray, rows: np.ndarray, kind: str) -> np.ndarray:
    a, b = V[rows[:, 0]], V[rows[:, 1]]
    if kind == "sum":
        return a + b
    if kind == "product":
        return a * b
    raise ValueError(f"unknown pair feature {kind!r}; choose 'sum' or 'product'")


def gene_interactions(
    embeddings: GeneEmbeddings,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    *,
    features: Sequence[str] = ("sum", "product"),
    seed: int = 0,
) -> dict[str, Any]:
    """Gene-gene interaction prediction: logistic regression on a pair feature, ROC-AUC on test.

    The pair feature is the sum of the two gene vectors (GenePT's choice; symmetric in the pair)
    or their element-wise product. Pairs with a gene lacking an embedding are dropped and counted.

    Parameters
    ----------
    train, test
        ``(pairs, labels)`` as returned by :func:`read_gene_pairs`.

    Returns
    -------
    dict
        ``{feature: {"auc": ...}}`` plus ``coverage`` (genes and pairs kept per split).

    Examples
    --------
    Toy pairs that interact when both genes are in the same half (train = test here, only to
    show the call):

    >>> from genept.embeddings import GeneEmbeddings
    >>> rng = np.random.default_rng(0)
    >>> genes = np.array([f"G{i}" for i in range(20)])
    >>> group = np.repeat([0, 1], 10)
    >>> emb = GeneEmbeddings(genes, (rng.normal(size=(20, 4)) + group[:, None] * 2).astype(np.float32))
    >>> idx = rng.integers(0, 20, size=(60, 2))
    >>> pairs, y = genes[idx], (group[idx[:, 0]] == group[idx[:, 1]]).astype(np.int8)
    >>> res = gene_interactions(emb, (pairs, y), (pairs, y), features=("product",))
    >>> sorted(res), res["coverage"]["n_pairs_test_used"]
    (['coverage', 'product'], 60)

    With the Gene2vec pairs of the shared data:

    >>> # skipped: needs ../shared/data/genes/gene2vec_ggi and real gene embeddings
    >>> ggi = "../shared/data/genes/gene2vec_ggi"
    >>> res = gene_interactions(emb, read_gene_pairs(ggi, "train"), read_gene_pairs(ggi, "test"))  # doctest: +SKIP
    """
    from sklearn.metrics import roc_auc_score

    genes = np.unique(np.concatenate([train[0].ravel(), test[0].ravel()]))
    gene_rows = dict(zip(genes.tolist(), _rows(embeddings, genes).tolist(), strict=True))
    coverage: dict[str, Any] = {
        "n_genes": int(genes.size),
        "n_with_embedding": int(sum(r >= 0 for r in gene_rows.values())),
    }
    coverage["fraction"] = coverage["n_with_embedding"] / max(coverage["n_genes"], 1)
    data = {}
    for split, (pairs, y) in (("train", train), ("test", test)):
        rows = np.vectorize(gene_rows.__getitem__, otypes=[np.int64])(pairs) if len(pairs) else np.empty((0, 2), np.int64)
        ok = (rows >= 0).all(axis=1)
        coverage[f"n_pairs_{split}"] = len(pairs)
        coverage[f"n_pairs_{split}_used"] = int(ok.sum())
        data[split] = (rows[ok], y[ok])
    for split, (_, y) in data.items():
        if len(np.unique(y)) < 2:
            raise ValueError(f"the {split} pairs with embeddings hold only one class; too few genes are embedded")
    out: dict[str, Any] = {"coverage": coverage}
    for kind in features:
        X_tr = _pair_features(embeddings.vectors, data["train"][0], kind)
        X_te = _pair_features(embeddings.vectors, data["test"][0], kind)
        model = _logreg(seed).fit(X_tr, data["train"][1])
        out[kind] = {"auc": float(roc_auc_score(data["test"][1], model.predict_proba(X_te)[:, 1]))}
    return out


# -- 4. GO terms ------------------------------------------------------------------------------
def go_terms(
    embeddings: GeneEmbeddings,
    annotations: pd.DataFrame,
    *,
    min_genes: int = 20,
    max_genes: int = 500,
    ontologies: Sequence[str] = ("BP", "MF", "CC"),
    exclude_evidence: Sequence[str] = ("ND",),
    n_splits: int = 5,
    max_terms: int | None = None,
    alphas: Sequence[float] = (1.0, 10.0, 100.0, 1000.0),
    seed: int = 0,
) -> dict[str, Any]:
    """GO term membership from gene embeddings: per-term ROC-AUC, median and IQR over terms.

    Genes: embedded genes with at least one annotation in ``ontologies`` (``ND``, "no biological
    data available", does not count). Terms: those with ``min_genes`` to ``max_genes`` of these
    genes. Model: one-vs-rest ridge regression on the 0/1 membership of every term at once
    (standardised vectors; one penalty chosen from ``alphas`` by scikit-learn's efficient
    leave-one-out on each training fold), ``n_splits``-fold CV with shuffled folds; each term's
    ROC-AUC is computed on the pooled out-of-fold scores so that every positive gene counts once.
    Annotations are used as given: pass :func:`propagate_annotations` output for ancestor terms.

    Parameters
    ----------
    annotations
        Columns ``symbol`` (any gene identifier), ``go_id``, ``ontology`` and optionally
        ``evidence``.
    max_terms
        Evaluate a random subset of this many eligible terms (fixed ``seed``).

    Returns
    -------
    dict
        ``auc`` (``median``, ``q1``, ``q3``, ``n``), ``by_ontology``, ``per_term`` ({go_id: auc}),
        ``n_terms_eligible``, ``n_terms``, ``alpha``, ``coverage``.

    Examples
    --------
    Three toy terms whose member genes share a direction in the embedding:

    >>> from genept.embeddings import GeneEmbeddings
    >>> genes = [f"G{i}" for i in range(60)]
    >>> term = np.repeat([0, 1, 2], 20)
    >>> emb = GeneEmbeddings(genes, (np.random.default_rng(0).normal(size=(60, 8)) + np.eye(8)[term] * 3).astype(np.float32))
    >>> ann = pd.DataFrame({"symbol": genes, "go_id": [f"GO:{t}" for t in term], "ontology": "BP"})
    >>> res = go_terms(emb, ann, min_genes=10, n_splits=3)
    >>> res["n_terms"], res["auc"]["median"] > 0.9
    (3, True)

    With the GO tables of the shared data:

    >>> # skipped: needs the GO tables in ../shared/data/genes and real gene embeddings
    >>> go = load_go("../shared/data/genes")  # doctest: +SKIP
    >>> res = go_terms(emb, go["annotations"], max_terms=1000)  # doctest: +SKIP
    """
    import scipy.sparse as sp
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import StandardScaler

    ann = annotations[annotations["ontology"].isin(list(ontologies))]
    if "evidence" in ann.columns and exclude_evidence:
        ann = ann[~ann["evidence"].isin(list(exclude_evidence))]
    genes = pd.unique(ann["symbol"].astype(str))
    rows_of_gene = _rows(embeddings, genes)
    coverage = {
        "n_genes": int(genes.size),
        "n_with_embedding": int((rows_of_gene >= 0).sum()),
        "fraction": float((rows_of_gene >= 0).mean()) if genes.size else 0.0,
    }
    row_map = pd.Series(rows_of_gene, index=genes)
    ann = ann.assign(row=ann["symbol"].astype(str).map(row_map).to_numpy())
    ann = ann[ann["row"] >= 0].drop_duplicates(["row", "go_id"])
    universe = np.sort(ann["row"].unique())
    coverage["n_used"] = int(universe.size)
    gene_idx = pd.Index(universe).get_indexer(ann["row"])
    term_codes, term_ids = pd.factorize(ann["go_id"])
    sizes = np.bincount(term_codes, minlength=len(term_ids))
    eligible = np.flatnonzero((sizes >= min_genes) & (sizes <= max_genes))
    n_eligible = int(eligible.size)
    if n_eligible == 0:
        raise ValueError(f"no GO term has {min_genes}..{max_genes} annotated genes among the {universe.size} embedded genes")
    chosen = eligible
    if max_terms is not None and n_eligible > max_terms:
        chosen = np.sort(np.random.default_rng(seed).choice(eligible, size=max_terms, replace=False))
    M = sp.csr_matrix((np.ones(len(ann), np.float32), (gene_idx, term_codes)), shape=(universe.size, len(term_ids)))
    Y = M[:, chosen].toarray()
    X = embeddings.vectors[universe]
    scores = np.zeros_like(Y)
    chosen_alphas = []
    for tr, te in KFold(n_splits=n_splits, shuffle=True, random_state=seed).split(X):
        scaler = StandardScaler().fit(X[tr])
        model = RidgeCV(alphas=tuple(alphas)).fit(scaler.transform(X[tr]), Y[tr])
        scores[te] = model.predict(scaler.transform(X[te]))
        chosen_alphas.append(float(model.alpha_))
    auc = roc_auc_columns(Y, scores)
    go_ids = term_ids[chosen].astype(str)
    term_ontology = ann.drop_duplicates("go_id").set_index("go_id")["ontology"].reindex(go_ids).to_numpy()
    by_ontology = {o: median_iqr(auc[term_ontology == o]) for o in ontologies if (term_ontology == o).any()}
    return {
        "auc": median_iqr(auc),
        "by_ontology": by_ontology,
        "per_term": {g: float(a) for g, a in zip(go_ids, auc, strict=True)},
        "n_terms_eligible": n_eligible,
        "n_terms": int(chosen.size),
        "alpha": chosen_alphas,
        "coverage": coverage,
    }


# -- runner ----------------------------------------------------------------------------------
GENE_TASKS = ("classes", "ggi", "go", "property")


def evaluate_genes(
    embeddings: Mapping[str, GeneEmbeddings],
    data_dir: str | Path | None = None,
    *,
    tasks: Sequence[str] = GENE_TASKS,
    label_files: Sequence[str | Path] = (),
    random_control: bool = True,
    go_max_terms: int | None = None,
    go_propagate: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Run the gene-level tasks for several embeddings, each beside a random-embedding control.

    Parameters
    ----------
    embeddings
        ``{name: GeneEmbeddings}``.
    data_dir
        Folder with ``gene_types_geneformer.csv.gz``, ``gene2vec_ggi/`` and the GO tables (e.g.
        ``../shared/data/genes``); tasks whose files are absent are skipped with a note.
    tasks
        Subset of ``classes``, ``ggi``, ``go``, ``property``.
    label_files
        Binary gene label files for the ``property`` task (format: :func:`read_label_file`).
    random_control
        Also score Gaussian vectors for the same genes and dimension (``random:<name>``).
    go_max_terms, go_propagate
        Subsample GO terms (fixed ``seed``); propagate annotations to ancestor terms.

    Returns
    -------
    dict
        ``{"tasks": {task: {embedding: result}}, "skipped": {task: reason}, "settings": {...},
        "timings_s": {...}}``.

    Examples
    --------
    The property task on a toy label file; the other tasks are skipped (no ``data_dir``):

    >>> from pathlib import Path
    >>> genes = [f"G{i}" for i in range(40)]
    >>> y = np.repeat([0, 1], 20)
    >>> _ = Path("labels.tsv").write_text("".join(f"{g}\\t{v}\\n" for g, v in zip(genes, y)))
    >>> emb = GeneEmbeddings(genes, (np.random.default_rng(0).normal(size=(40, 8)) + y[:, None] * 2).astype(np.float32))
    >>> res = evaluate_genes({"toy": emb}, tasks=("property", "ggi"), label_files=["labels.tsv"])
    >>> sorted(res["tasks"]["property:labels.tsv"]), sorted(res["skipped"])
    (['random:toy', 'toy'], ['ggi'])

    With the shared data:

    >>> # skipped: needs genes.npz and the gene task files in ../shared/data/genes; takes minutes
    >>> res = evaluate_genes({"minilm": GeneEmbeddings.load("genes.npz")}, "../shared/data/genes")  # doctest: +SKIP
    """
    import time

    from genept.evaluation.baselines import random_gene_embeddings

    unknown = set(tasks) - set(GENE_TASKS)
    if unknown:
        raise ValueError(f"unknown gene tasks {sorted(unknown)}; choose from {GENE_TASKS}")
    models: dict[str, GeneEmbeddings] = {}
    for name, emb in embeddings.items():
        models[name] = emb
        if random_control:
            models[f"random:{name}"] = random_gene_embeddings(emb, seed=seed)
    data_dir = Path(data_dir) if data_dir is not None else None
    results: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    timings: dict[str, float] = {}

    def run(task: str, label: str, fn) -> None:
        for name, emb in models.items():
            t0 = time.perf_counter()
            log.info("gene task %s on %s", label, name)
            results.setdefault(label, {})[name] = fn(emb)
            timings[f"{label}/{name}"] = round(time.perf_counter() - t0, 2)

    def need(task: str, *paths: Path) -> bool:
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            skipped[task] = f"missing {', '.join(missing)}"
        return not missing

    if "classes" in tasks:
        path = data_dir / "gene_types_geneformer.csv.gz" if data_dir else Path("<no data_dir>")
        if need("classes", path):
            gene_types = load_gene_types(path)
            run("classes", "classes", lambda e: functional_classes(e, gene_types, seed=seed))
    if "ggi" in tasks:
        ggi = data_dir / "gene2vec_ggi" if data_dir else Path("<no data_dir>")
        if need("ggi", ggi / "train_text.txt", ggi / "test_text.txt"):
            train, test = read_gene_pairs(ggi, "train"), read_gene_pairs(ggi, "test")
            run("ggi", "ggi", lambda e: gene_interactions(e, train, test, seed=seed))
    if "go" in tasks:
        files = (
            [data_dir / f for f in ("go_annotations_human_2022.tsv.gz", "go_parents_2022.tsv.gz")] if data_dir else [Path("<no data_dir>")]
        )
        if need("go", *files):
            go = load_go(data_dir)
            ann = go["annotations"]
            if go_propagate:
                ann = propagate_annotations(ann[ann["evidence"] != "ND"], go["parents"])
            run("go", "go", lambda e: go_terms(e, ann, max_terms=go_max_terms, seed=seed))
    if "property" in tasks:
        if not label_files:
            skipped["property"] = "no label files given"
        for path in label_files:
            labels = read_labels(path)  # FILE[:ID_COLUMN[:LABEL_COLUMN]], CSV/TSV tables or gene<TAB>label lines
            run("property", f"property:{Path(path).name}", lambda e, y=labels: gene_property(e, y, seed=seed))
    return {
        "tasks": results,
        "skipped": skipped,
        "settings": {
            "seed": seed,
            "tasks": list(tasks),
            "label_files": [str(p) for p in label_files],
            "random_control": random_control,
            "go_max_terms": go_max_terms,
            "go_propagate": go_propagate,
            "embeddings": {
                name: {"n_genes": len(e), "dim": e.dim, "meta": {k: v for k, v in e.meta.items() if not k.startswith("composed")}}
                for name, e in embeddings.items()
            },
        },
        "timings_s": timings,
    }


__all__ = [
    "GENE_TASKS",
    "align_labels",
    "evaluate_genes",
    "functional_classes",
    "gene_interactions",
    "gene_property",
    "go_terms",
    "load_gene_types",
    "load_go",
    "propagate_annotations",
    "read_gene_pairs",
    "read_label_file",
]


# -- GenePT protocols: study-bias control, matched GGI, label tables, lexical baseline ---------
def study_bias_covariates(
    genes: Sequence[str],
    annotations: pd.DataFrame | None = None,
    texts: Mapping[str, str] | None = None,
    *,
    composed: Iterable[str] = (),
) -> pd.DataFrame:
    """Three numbers per gene that say how well studied it is, and nothing about what it does.

    ``go_count``: GO annotations of the gene (distinct terms, ``ND`` excluded) in ``annotations``
    (columns ``symbol``, ``go_id``, optional ``evidence``); ``log_text_length``: ``log1p`` of its text
    length in characters; ``has_summary``: 1 unless the gene is in ``composed`` (text composed
    from structured facts) or has no text.

    Examples
    --------
    >>> ann = pd.DataFrame({"symbol": ["A", "A", "B"], "go_id": ["GO:1", "GO:2", "GO:1"]})
    >>> study_bias_covariates(["A", "B", "C"], ann, {"A": "long text", "B": "x"}).go_count.tolist()
    [2.0, 1.0, 0.0]
    """
    genes = [str(g) for g in genes]
    out = pd.DataFrame(index=pd.Index(genes, name="gene"))
    if annotations is not None:
        ann = annotations
        if "evidence" in ann.columns:
            ann = ann[ann["evidence"] != "ND"]
        counts = ann.drop_duplicates(["symbol", "go_id"]).groupby("symbol").size()
        out["go_count"] = counts.reindex(genes).fillna(0).to_numpy(dtype=float)
    if texts is not None:
        composed = set(composed)
        out["log_text_length"] = [np.log1p(len(texts.get(g, ""))) for g in genes]
        out["has_summary"] = [float(g in texts and g not in composed) for g in genes]
    if out.shape[1] == 0:
        raise ValueError("give GO annotations and/or gene texts: there is nothing to describe the genes with")
    return out


def stratified_auc(y: np.ndarray, score: np.ndarray, strata: np.ndarray, *, min_class: int = 5) -> dict[str, Any]:
    """ROC-AUC inside each stratum, averaged with weights = pairs in the stratum.

    Only strata holding at least ``min_class`` examples of each class count. Comparing a positive
    only with negatives of its own stratum removes whatever the strata explain (here: how well
    studied the two genes are).

    Examples
    --------
    >>> y = np.array([0, 1, 0, 1] * 10); s = np.arange(40.0); st = np.repeat([0, 1], 20)
    >>> round(stratified_auc(y, s, st)["auc"], 3)
    0.55
    """
    from sklearn.metrics import roc_auc_score

    y, score, strata = np.asarray(y), np.asarray(score, dtype=float), np.asarray(strata)
    aucs, sizes = [], []
    for s in np.unique(strata):
        m = strata == s
        n_pos = int(y[m].sum())
        if min(n_pos, int(m.sum()) - n_pos) < min_class:
            continue
        aucs.append(roc_auc_score(y[m], score[m]))
        sizes.append(int(m.sum()))
    if not aucs:
        return {"auc": float("nan"), "n_strata": 0, "n_pairs": 0}
    return {"auc": float(np.average(aucs, weights=sizes)), "n_strata": len(aucs), "n_pairs": int(sum(sizes))}


def _pair_strata(counts: np.ndarray, rows: np.ndarray, n_bins: int) -> np.ndarray:
    """Stratum of each pair: the unordered pair of the genes' annotation-count quantile bins."""
    values = np.log1p(counts)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1]))
    bins = np.searchsorted(edges, values, side="right")
    a, b = bins[rows[:, 0]], bins[rows[:, 1]]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return lo * (n_bins + 1) + hi


def gene_interactions_controlled(
    embeddings: GeneEmbeddings,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    covariates: pd.DataFrame,
    *,
    features: Sequence[str] = ("sum", "product"),
    n_bins: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """GGI as GenePT scores it, beside a study-bias control and a matched (pairwise) view.

    With logistic regression on summed vectors, a pair's score is the sum of two per-gene scores,
    so the task rewards knowing which genes are well studied (hubs) as much as knowing which pairs
    interact. This reports, on the test pairs whose genes have both an embedding and covariates:

    - ``{feature}.auc``: logistic regression on the pair feature (``sum``: GenePT's protocol;
      ``product``: a pairwise view), trained on ``train``;
    - ``{feature}.matched_auc``: the same scores, ROC-AUC only among pairs whose two genes fall in
      the same annotation-count quantile bins (:func:`stratified_auc`, ``n_bins`` bins per gene);
    - ``control``: logistic regression on the covariates (:func:`study_bias_covariates`) summed
      over the pair, with its ``auc`` and ``matched_auc``.

    Examples
    --------
    Toy genes and pairs (train = test here, only to show the call and the result's parts):

    >>> from genept.embeddings import GeneEmbeddings
    >>> rng = np.random.default_rng(0)
    >>> genes = np.array([f"G{i}" for i in range(20)])
    >>> group = np.repeat([0, 1], 10)
    >>> emb = GeneEmbeddings(genes, (rng.normal(size=(20, 4)) + group[:, None] * 2).astype(np.float32))
    >>> idx = rng.integers(0, 20, size=(60, 2))
    >>> pairs, y = genes[idx], (group[idx[:, 0]] == group[idx[:, 1]]).astype(np.int8)
    >>> ann = pd.DataFrame({"symbol": genes[rng.integers(0, 20, 50)], "go_id": [f"GO:{i}" for i in range(50)]})
    >>> cov = study_bias_covariates(genes, ann, {g: "text " * (i + 1) for i, g in enumerate(genes)})
    >>> res = gene_interactions_controlled(emb, (pairs, y), (pairs, y), cov, features=("sum",), n_bins=2)
    >>> sorted(res), res["control"]["features"]
    (['control', 'coverage', 'matched', 'sum'], ['go_count', 'log_text_length', 'has_summary'])

    With the shared data:

    >>> # skipped: needs ../shared/data/genes (Gene2vec pairs, GO annotations), a corpus and real gene embeddings
    >>> cov = study_bias_covariates(emb.genes, go_annotations, corpus.texts, composed=corpus.composed)  # doctest: +SKIP
    >>> res = gene_interactions_controlled(emb, read_gene_pairs(ggi, "train"), read_gene_pairs(ggi, "test"), cov)  # doctest: +SKIP
    """
    from sklearn.metrics import roc_auc_score

    if "go_count" not in covariates.columns:
        raise ValueError("covariates need a go_count column (study_bias_covariates with GO annotations)")
    genes = np.unique(np.concatenate([train[0].ravel(), test[0].ravel()]))
    emb_rows = embeddings.locate(genes, species="human")
    # Covariates are keyed like the embeddings: look genes up under the key they matched.
    keys = np.where(emb_rows >= 0, np.asarray(embeddings.genes)[np.maximum(emb_rows, 0)], genes)
    cov_rows = covariates.index.get_indexer(keys)
    ok_gene = (emb_rows >= 0) & (cov_rows >= 0)
    index = {g: i for i, g in enumerate(genes.tolist())}
    cov = covariates.to_numpy(dtype=float)
    counts_all = covariates["go_count"].to_numpy(dtype=float)
    data: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    coverage: dict[str, Any] = {"n_genes": int(genes.size), "n_used_genes": int(ok_gene.sum())}
    for split, (pairs, y) in (("train", train), ("test", test)):
        local = np.vectorize(index.__getitem__, otypes=[np.int64])(pairs) if len(pairs) else np.empty((0, 2), np.int64)
        ok = ok_gene[local].all(axis=1)
        coverage[f"n_pairs_{split}"] = len(pairs)
        coverage[f"n_pairs_{split}_used"] = int(ok.sum())
        data[split] = (local[ok], np.asarray(y)[ok])
    coverage["fraction_test_pairs"] = coverage["n_pairs_test_used"] / max(coverage["n_pairs_test"], 1)
    strata = _pair_strata(counts_all[cov_rows], data["test"][0], n_bins)

    def fit_score(X_tr: np.ndarray, X_te: np.ndarray) -> dict[str, Any]:
        model = _logreg(seed).fit(X_tr, data["train"][1])
        s = model.predict_proba(X_te)[:, 1]
        y_te = data["test"][1]
        return {"auc": float(roc_auc_score(y_te, s)), "matched_auc": stratified_auc(y_te, s, strata)["auc"]}

    V = embeddings.vectors[np.where(emb_rows >= 0, emb_rows, 0)]
    out: dict[str, Any] = {"coverage": coverage}
    for kind in features:
        out[kind] = fit_score(_pair_features(V, data["train"][0], kind), _pair_features(V, data["test"][0], kind))
    C = cov[np.where(cov_rows >= 0, cov_rows, 0)]
    out["control"] = {"features": list(covariates.columns), **fit_score(_pair_features(C, data["train"][0], "sum"), _pair_features(C, data["test"][0], "sum"))}
    out["matched"] = {"n_bins": n_bins, **{k: v for k, v in stratified_auc(data["test"][1], np.zeros(len(strata)), strata).items() if k != "auc"}}
    return out


_ID_COLUMNS = ("gene", "symbol", "gene_symbol", "gene_name", "hgnc_symbol", "ensembl_id", "ensembl", "ensembl_gene_id",
               "gene_id", "entrez_id", "entrez", "entrezgene", "ncbi_gene_id")
_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n"}


def read_labels(spec: str | Path, *, positive: str | None = None) -> pd.Series:
    """Read binary gene labels from a table, choosing columns by name: ``FILE[:ID_COLUMN[:LABEL_COLUMN]]``.

    The file is CSV or TSV (detected from the content; gzip allowed), with a header row. Gene
    identifiers may be symbols, Ensembl or Entrez ids (matched later through the gene resolver).
    Labels may be ``0``/``1``, ``True``/``False`` (also ``yes``/``no``) or exactly two class names.
    Without ``ID_COLUMN`` the column is guessed from common names (``gene``, ``symbol``,
    ``ensembl_id``, ``entrez_id``, ...) or, with two columns, the first; without
    ``LABEL_COLUMN`` it is the only other column with exactly two values. When a choice is
    ambiguous or a named column is absent, the error lists the columns. A plain
    ``gene<TAB>label`` file without a header goes to :func:`read_label_file`.

    Returns
    -------
    Series of 0/1 (int8) indexed by gene identifier, named after the positive class;
    ``attrs["classes"]`` = ``[negative, positive]``, ``attrs["id_column"]``, ``attrs["label_column"]``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "tf.csv"
    >>> _ = f.write_text("ensembl_id,symbol,is_tf\\nENSG00000141510,TP53,True\\nENSG00000075624,ACTB,False\\n")
    >>> y = read_labels(f"{f}:symbol:is_tf")
    >>> y.to_dict(), y.attrs["classes"]
    ({'TP53': 1, 'ACTB': 0}, ['False', 'True'])
    """
    text = str(spec)
    parts = text.split(":")
    # A path may hold ':' (Windows drives); take columns from the right only when the file exists.
    path, id_col, label_col = Path(text), None, None
    for n_cols in (2, 1):
        if len(parts) > n_cols and Path(":".join(parts[:-n_cols])).exists():
            path = Path(":".join(parts[:-n_cols]))
            cols = parts[-n_cols:]
            id_col = cols[0] or None
            label_col = cols[1] if n_cols == 2 and cols[1] else None
            break
    if not path.exists():
        raise ValueError(f"label file {str(path)!r} does not exist (spec {text!r}; form FILE[:ID_COLUMN[:LABEL_COLUMN]])")
    import csv
    import gzip

    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt") as fh:
        head = fh.read(65536)
    lines = [ln for ln in head.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{path} is empty; expected a table with a header row, a gene column and a label column")
    sep = "\t" if "\t" in lines[0] else ("," if "," in lines[0] else None)
    if sep is None:
        try:
            sep = csv.Sniffer().sniff(lines[0], delimiters=";| ").delimiter
        except csv.Error:
            raise ValueError(f"{path}: cannot find a column separator (tab or comma) in its first line {lines[0][:80]!r}") from None
    table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, comment="#")
    table.columns = [str(c).strip() for c in table.columns]
    columns = list(table.columns)
    first_values = [str(v).strip() for v in columns]
    if id_col is None and label_col is None and len(columns) == 2 and (
        first_values[1].lower() in _TRUE | _FALSE or first_values[1] in set(table.iloc[:, 1].str.strip())
    ):
        return read_label_file(path, positive=positive)  # no header: the first line is a gene and its label
    lower = {c.lower(): c for c in columns}

    def named(col: str, what: str) -> str:
        if col in columns:
            return col
        if col.lower() in lower:
            return lower[col.lower()]
        raise ValueError(f"{path}: no {what} column {col!r}; the columns are {columns}")

    if id_col is not None:
        id_col = named(id_col, "gene id")
    else:
        guesses = [lower[c] for c in _ID_COLUMNS if c in lower]
        if len(guesses) == 1 or (guesses and label_col is not None and len([g for g in guesses if g != label_col]) == 1):
            id_col = next(g for g in guesses if g != label_col)
        elif len(columns) == 2:
            id_col = columns[0]
        else:
            raise ValueError(f"{path}: which column holds the gene ids? Name it as FILE:ID_COLUMN:LABEL_COLUMN; the columns are {columns}")
    if label_col is not None:
        label_col = named(label_col, "label")
    else:
        two = [c for c in columns if c != id_col and table[c].str.strip().replace("", np.nan).dropna().nunique() == 2]
        if len(two) != 1:
            found = f"columns with two values: {two}" if two else "no other column has exactly two values"
            raise ValueError(f"{path}: which column holds the labels? Name it as FILE:{id_col}:LABEL_COLUMN ({found}); the columns are {columns}")
        label_col = two[0]
    frame = table[[id_col, label_col]].apply(lambda s: s.str.strip())
    frame = frame[(frame[id_col] != "") & (frame[label_col] != "")]
    values = sorted(frame[label_col].unique())
    if len(values) != 2:
        raise ValueError(f"{path}: label column {label_col!r} must hold exactly two values, found {len(values)} ({values[:6]}); the columns are {columns}")
    lowered = {v.lower() for v in values}
    if positive is None:
        if lowered <= _TRUE | _FALSE and len(lowered & _TRUE) == 1:
            positive = next(v for v in values if v.lower() in _TRUE)
        else:
            positive = values[1]
    if positive not in values:
        raise ValueError(f"{path}: positive class {positive!r} is not one of the labels {values} in column {label_col!r}")
    negative = next(v for v in values if v != positive)
    series = pd.Series((frame[label_col] == positive).to_numpy(dtype=np.int8), index=pd.Index(frame[id_col].tolist(), name="gene"), name=positive)
    series.attrs.update(classes=[negative, positive], id_column=id_col, label_column=label_col)
    return series


def lexical_baseline(texts: Mapping[str, str], *, dim: int = 256, seed: int = 0) -> GeneEmbeddings:
    """TF-IDF (word 1-2-grams) + SVD gene vectors fitted on the same texts: the lexical baseline.

    Every gene benchmark reports it beside the neural embeddings and the random control (a plain
    TF-IDF of gene texts is a strong gene-function baseline).

    Examples
    --------
    >>> texts = {"A": "insulin secretion", "B": "insulin receptor", "C": "T cell receptor"}
    >>> lexical_baseline(texts, dim=2).dim
    2
    """
    from genept.encoders.lexical import TfidfSvdEncoder

    genes = list(texts)
    enc = TfidfSvdEncoder(dim=dim, seed=seed, min_df=2 if len(genes) > 50 else 1).fit([texts[g] for g in genes])
    return GeneEmbeddings(genes, enc.encode([texts[g] for g in genes]), {"encoder": enc.identity, "encoder_name": "tfidf", "dim": enc.dim})


__all__ += [
    "gene_interactions_controlled",
    "lexical_baseline",
    "read_labels",
    "stratified_auc",
    "study_bias_covariates",
]
