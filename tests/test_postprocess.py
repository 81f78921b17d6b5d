"""Post-processing transforms of gene vectors: centring, removing top components, whitening."""

from __future__ import annotations

import numpy as np
import pytest

from genept.embeddings import GeneEmbeddings
from genept.embeddings.postprocess import PostProcess, postprocess


@pytest.fixture
def emb() -> GeneEmbeddings:
    rng = np.random.default_rng(0)
    common = rng.normal(size=16) * 3  # a shared direction, as text embeddings of genes have
    X = rng.normal(size=(200, 16)) * np.linspace(3, 0.5, 16) + common
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return GeneEmbeddings([f"G{i}" for i in range(200)], X, {"encoder": "test"})


def _mean_cos(X: np.ndarray) -> float:
    C = X @ X.T
    return float((C.sum() - np.trace(C)) / (len(X) * (len(X) - 1)))


def test_center_removes_the_common_direction(emb):
    out = postprocess(emb, "center")
    X = emb.vectors - emb.vectors.mean(0)
    np.testing.assert_allclose(out.vectors, X / np.linalg.norm(X, axis=1, keepdims=True), atol=1e-5)
    assert _mean_cos(emb.vectors) > 0.5 and abs(_mean_cos(out.vectors)) < 0.05
    assert out.meta["postprocess"]["method"] == "center" and out.meta["postprocess"]["n_genes"] == 200
    assert out.meta["encoder"] == "test"


def test_abtt_removes_the_top_directions(emb):
    pp = PostProcess.fit(emb, "abtt", n_components=2)
    out = pp.apply(emb)
    assert pp.components.shape == (2, 16)
    np.testing.assert_allclose(out.vectors @ pp.components.T, 0.0, atol=1e-5)  # nothing left along them
    np.testing.assert_allclose(np.linalg.norm(out.vectors, axis=1), 1.0, atol=1e-5)
    assert out.meta["postprocess"]["n_components"] == 2


def test_whiten_gives_unit_variance_axes(emb):
    pp = PostProcess.fit(emb, "whiten", eps=0.0)
    Z = (emb.vectors - pp.mean) @ pp.components.T / pp.scale  # before the final normalisation
    np.testing.assert_allclose(np.cov(Z, rowvar=False), np.eye(16), atol=1e-3)
    out = pp.apply(emb)
    assert out.dim == 16 and out.meta["postprocess"]["method"] == "whiten"
    kept = PostProcess.fit(emb, "whiten", n_components=4).apply(emb)
    assert kept.dim == 4 and kept.meta["postprocess"]["n_components"] == 4


def test_fitted_transform_applies_to_new_genes_after_save_and_load(emb, tmp_path):
    pp = PostProcess.fit(emb.subset([f"G{i}" for i in range(150)]), "abtt", n_components=1)
    path = pp.save(tmp_path / "pp.npz")
    back = PostProcess.load(path)
    new = emb.subset([f"G{i}" for i in range(150, 200)])
    np.testing.assert_allclose(back.apply(new).vectors, pp.apply(new).vectors, atol=1e-6)
    assert back.describe() == pp.describe() and back.describe()["n_genes"] == 150


def test_bad_inputs_are_refused(emb):
    with pytest.raises(ValueError, match="choose from"):
        PostProcess.fit(emb, "pca")
    with pytest.raises(ValueError, match="abtt removes"):
        PostProcess.fit(emb, "abtt", n_components=0)
    with pytest.raises(ValueError, match="whiten keeps"):
        PostProcess.fit(emb, "whiten", n_components=99)
    with pytest.raises(ValueError, match="already post-processed"):
        postprocess(postprocess(emb, "center"), "center")
    with pytest.raises(ValueError, match="at least two"):
        PostProcess.fit(emb.subset(["G0"]), "center")
    with pytest.raises(ValueError, match=r"\(n, 16\)"):
        PostProcess.fit(emb, "center").transform(np.zeros((2, 3)))
