"""GGI with a study-bias control and an annotation-matched view; the lexical baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genept.embeddings import GeneEmbeddings
from genept.evaluation.genes import (
    gene_interactions_controlled,
    lexical_baseline,
    stratified_auc,
    study_bias_covariates,
)


def test_stratified_auc_removes_what_the_strata_explain():
    rng = np.random.default_rng(0)
    strata = np.repeat([0, 1, 2, 3], 250)
    y = (rng.random(1000) < np.array([0.1, 0.3, 0.6, 0.9])[strata]).astype(int)
    score = strata + rng.normal(scale=0.01, size=1000)  # knows only the stratum
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, score) > 0.75
    res = stratified_auc(y, score, strata)
    assert abs(res["auc"] - 0.5) < 0.1 and res["n_strata"] == 4 and res["n_pairs"] == 1000
    assert np.isnan(stratified_auc(np.zeros(10), np.arange(10.0), np.zeros(10))["auc"])


def _hub_world(seed=0):
    """Genes whose interaction odds depend only on how well studied they are (no pairwise signal)."""
    rng = np.random.default_rng(seed)
    genes = np.array([f"G{i}" for i in range(300)])
    studied = rng.gamma(1.0, 10.0, size=300)
    ann = pd.DataFrame([(g, f"GO:{k}") for g, n in zip(genes, studied) for k in range(int(n) + 1)], columns=["symbol", "go_id"])
    texts = {g: "x" * int(10 + 5 * n) for g, n in zip(genes, studied)}

    def pairs(idx, n):
        a, b = rng.choice(idx, size=(2, n))
        logit = 0.15 * (studied[a] + studied[b]) - 3
        y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
        return np.stack([genes[a], genes[b]], axis=1), y

    train, test = pairs(np.arange(200), 4000), pairs(np.arange(200, 300), 1500)
    # embeddings that encode how well studied a gene is, plus noise
    V = np.column_stack([np.log1p(studied), rng.normal(size=(300, 7))])
    return GeneEmbeddings(genes, V), ann, texts, train, test


def test_controlled_ggi_reports_the_bias_control_and_matched_view():
    emb, ann, texts, train, test = _hub_world()
    cov = study_bias_covariates(list(emb.genes), ann, texts)
    assert list(cov.columns) == ["go_count", "log_text_length", "has_summary"]
    res = gene_interactions_controlled(emb, train, test, cov, n_bins=4)
    assert res["control"]["auc"] > 0.7  # the covariates alone predict hub pairs
    assert res["sum"]["auc"] > 0.7
    assert res["sum"]["matched_auc"] < res["sum"]["auc"] - 0.1  # little is left among matched pairs
    assert res["coverage"]["fraction_test_pairs"] == 1.0
    assert set(res) >= {"sum", "product", "control", "matched", "coverage"}


def test_controlled_ggi_counts_pairs_without_embeddings():
    emb, ann, texts, train, test = _hub_world()
    cov = study_bias_covariates(list(emb.genes), ann, texts)
    res = gene_interactions_controlled(emb.subset([g for g in emb.genes if g != "G250"]), train, test, cov)
    assert res["coverage"]["n_pairs_test_used"] < res["coverage"]["n_pairs_test"]
    with pytest.raises(ValueError, match="go_count"):
        gene_interactions_controlled(emb, train, test, cov.drop(columns="go_count"))


def test_lexical_baseline_is_fitted_on_the_given_texts():
    words = "insulin kinase receptor membrane nucleus transport secretion signalling ribosome channel".split()
    texts = {f"G{i}": f"{words[i % 10]} {words[(i * 3) % 10]} gene involved in {words[(i * 7) % 10]} {words[i // 6]}" for i in range(60)}
    emb = lexical_baseline(texts, dim=8)
    assert len(emb) == 60 and emb.dim == 8 and emb.meta["encoder"].startswith("tfidf-svd:")
    np.testing.assert_allclose(np.linalg.norm(emb.vectors, axis=1), 1.0, atol=1e-5)
