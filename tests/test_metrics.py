"""Metric functions against hand-computed values and scikit-learn references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from genept.evaluation.metrics import (
    expected_same_batch_fraction,
    mean_sd,
    median_iqr,
    roc_auc_columns,
    same_batch_fraction,
)


def test_mean_sd_by_hand():
    assert mean_sd([1.0, 2.0, 3.0]) == {"mean": 2.0, "sd": 1.0, "n": 3}
    # ddof=1: values 0.8 and 1.0 -> sd = sqrt(((0.1)^2 * 2) / 1)
    r = mean_sd([0.8, 1.0, float("nan")])
    assert r["n"] == 2 and r["mean"] == pytest.approx(0.9) and r["sd"] == pytest.approx(np.sqrt(0.02))
    assert mean_sd([0.7]) == {"mean": 0.7, "sd": 0.0, "n": 1}
    assert mean_sd([])["n"] == 0 and np.isnan(mean_sd([])["mean"])


def test_median_iqr_by_hand():
    assert median_iqr([5, 1, 4, 2, 3]) == {"median": 3.0, "q1": 2.0, "q3": 4.0, "n": 5}
    # four values, linear interpolation: q1 = 1 + 0.75 * (2 - 1)
    r = median_iqr([1, 2, 3, 4, np.nan])
    assert (r["q1"], r["median"], r["q3"], r["n"]) == (1.75, 2.5, 3.25, 4)


def test_roc_auc_columns_hand_example():
    # positives 0.35, 0.8; negatives 0.1, 0.4: 3 of 4 positive-negative pairs ordered right
    auc = roc_auc_columns(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    assert auc.shape == (1,) and auc[0] == pytest.approx(0.75)
    # a tie between a positive and a negative counts one half
    assert roc_auc_columns(np.array([0, 1]), np.array([0.5, 0.5]))[0] == pytest.approx(0.5)


def test_roc_auc_columns_matches_sklearn_with_ties(rng):
    y = rng.random((200, 7)) < np.linspace(0.05, 0.6, 7)
    scores = np.round(rng.normal(size=(200, 7)) + y * 0.8, 1)  # rounding makes ties
    ours = roc_auc_columns(y, scores)
    ref = [roc_auc_score(y[:, j], scores[:, j]) for j in range(7)]
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_roc_auc_columns_single_class_is_nan_and_shapes_checked():
    y = np.array([[1, 0], [1, 1], [1, 0]])
    s = np.array([[0.1, 0.2], [0.3, 0.9], [0.2, 0.1]])
    auc = roc_auc_columns(y, s)
    assert np.isnan(auc[0]) and auc[1] == 1.0
    with pytest.raises(ValueError, match="same shape"):
        roc_auc_columns(y, s[:2])


def test_same_batch_fraction_by_hand():
    batch = ["a", "a", "b", "b"]
    # cell 0: neighbours 1 (a), 2 (b) -> 1/2; cell 1: 0 (a), 3 (b) -> 1/2; cell 2: 3 (b), 3 -> 1; cell 3: 0, 1 -> 0
    nb = np.array([[1, 2], [0, 3], [3, 3], [0, 1]])
    assert same_batch_fraction(nb, batch) == pytest.approx((0.5 + 0.5 + 1 + 0) / 4)
    with pytest.raises(ValueError, match="n_cells"):
        same_batch_fraction(nb[:3], batch)


def test_expected_same_batch_fraction_is_the_random_pair_average():
    batch = np.array(["a", "a", "a", "b", "c", "c"])
    # exhaustive: over all ordered pairs of distinct cells, the share in the same batch
    pairs = [(i, j) for i, j in itertools.permutations(range(len(batch)), 2)]
    brute = np.mean([batch[i] == batch[j] for i, j in pairs])
    assert expected_same_batch_fraction(batch) == pytest.approx(brute)
    # by hand: (3*2 + 1*0 + 2*1) / (6*5)
    assert expected_same_batch_fraction(batch) == pytest.approx(8 / 30)
    with pytest.raises(ValueError, match="two cells"):
        expected_same_batch_fraction(["a"])
