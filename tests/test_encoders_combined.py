"""Channel combination: weights, identity, per-channel cache keys; the lexical channel."""

from __future__ import annotations

import numpy as np
import pytest

from genept.encoders import get_encoder
from genept.encoders.cache import EmbeddingCache
from genept.encoders.combined import CombinedEncoder
from genept.encoders.hashing import HashingEncoder
from genept.encoders.lexical import TfidfSvdEncoder

TEXTS = [
    "insulin secretion by pancreatic beta cells",
    "T cell receptor signalling in thymocytes",
    "insulin receptor tyrosine kinase signalling",
    "beta cells of the pancreatic islet",
    "T cell activation and cytokine secretion",
    "receptor tyrosine kinase in the islet",
]


class _Counting(HashingEncoder):
    def __init__(self, dim: int, tag: str) -> None:
        super().__init__(dim=dim)
        self.name = tag
        self.identity = f"{tag}:dim={dim}"
        self.calls = 0

    def encode(self, texts, *, show_progress=False):
        self.calls += len(texts)
        return super().encode(texts)


def test_weighted_concatenation_is_unit_and_cosine_is_weighted_mean():
    a, b = HashingEncoder(dim=16), HashingEncoder(dim=8, bigrams=False)
    enc = CombinedEncoder([(a, 1.0), (b, 3.0)])
    X = enc.encode(TEXTS)
    assert X.shape == (len(TEXTS), 24) and enc.dim == 24
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    A, B = a.encode(TEXTS), b.encode(TEXTS)
    np.testing.assert_allclose(X @ X.T, 0.25 * A @ A.T + 0.75 * B @ B.T, atol=1e-5)
    assert enc.weights == [0.25, 0.75]
    assert enc.identity == f"combined(0.25*[{a.identity}];0.75*[{b.identity}])"
    assert enc.stats.n_texts == len(TEXTS)


@pytest.mark.parametrize("weights", [[0.0, 1.0], [-1.0, 2.0], [float("nan"), 1.0]])
def test_bad_weights_are_refused(weights):
    with pytest.raises(ValueError, match="positive"):
        CombinedEncoder([(HashingEncoder(dim=4), weights[0]), (HashingEncoder(dim=4), weights[1])])
    with pytest.raises(ValueError, match="at least one"):
        CombinedEncoder([])


def test_each_channel_is_cached_under_its_own_identity(tmp_path):
    path = tmp_path / "emb.sqlite"
    a, b = _Counting(16, "a"), _Counting(8, "b")
    first = get_encoder(CombinedEncoder([(a, 1.0), (b, 1.0)]), cache=path)
    first.encode(TEXTS)
    assert EmbeddingCache(path).summary() == {"a:dim=16": len(TEXTS), "b:dim=8": len(TEXTS)}
    assert (a.calls, b.calls) == (len(TEXTS), len(TEXTS))
    # a new weight and a new third channel: the cached channels are not embedded again
    c = _Counting(4, "c")
    again = get_encoder(CombinedEncoder([(a, 2.0), (b, 1.0), (c, 1.0)]), cache=path)
    X = again.encode(TEXTS)
    assert (a.calls, b.calls, c.calls) == (len(TEXTS), len(TEXTS), len(TEXTS))
    assert X.shape == (len(TEXTS), 28)
    assert set(EmbeddingCache(path).summary()) == {"a:dim=16", "b:dim=8", "c:dim=4"}


def test_lexical_channel_identity_depends_on_fitted_corpus():
    enc = TfidfSvdEncoder(dim=3, min_df=1)
    with pytest.raises(ValueError, match="not fitted"):
        _ = enc.identity
    with pytest.raises(ValueError, match="not fitted"):
        enc.encode(["x"])
    enc.fit(TEXTS)
    same = TfidfSvdEncoder(dim=3, min_df=1).fit(list(reversed(TEXTS)) + TEXTS[:2])  # order, duplicates ignored
    other = TfidfSvdEncoder(dim=3, min_df=1).fit(TEXTS[:-1])
    assert enc.identity == same.identity != other.identity
    np.testing.assert_allclose(enc.encode(TEXTS), same.encode(TEXTS), atol=1e-5)
    X = enc.encode(TEXTS)
    assert X.shape == (len(TEXTS), 3)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    assert "dim=3" in enc.identity and "ngram=1-2" in enc.identity


def test_combined_fits_its_lexical_channel_and_describes_channels(tmp_path):
    lex = TfidfSvdEncoder(dim=3, min_df=1)
    enc = CombinedEncoder([(HashingEncoder(dim=8), 1.0), (lex, 1.0)], cache=tmp_path / "c.sqlite")
    assert enc.needs_fit
    enc.fit_corpus(TEXTS)
    assert not enc.needs_fit
    assert enc.encode(TEXTS).shape == (len(TEXTS), 11)
    meta = enc.channel_meta()
    assert [m["name"] for m in meta] == ["hashing", "tfidf"] and [m["weight"] for m in meta] == [0.5, 0.5]
    assert meta[1]["identity"] == lex.identity


def test_spec_builds_channels_and_embed_genes_fits_and_records_them(tmp_path):
    import pandas as pd

    from genept.embeddings import embed_genes
    from genept.genes.corpus import GeneCorpus

    texts = {f"G{i}": t for i, t in enumerate(TEXTS)}
    prov = pd.DataFrame({"source": "test", "version": "", "composed": False, "sha256": ""}, index=list(texts))
    corpus = GeneCorpus(texts, prov)
    enc = get_encoder("hashing:8*3+tfidf:3")
    assert isinstance(enc, CombinedEncoder) and enc.weights == [0.75, 0.25]
    emb = embed_genes(corpus, "hashing:8+tfidf:3", cache=tmp_path / "c.sqlite", show_progress=False)
    assert emb.dim == 11
    assert [c["name"] for c in emb.meta["channels"]] == ["hashing", "tfidf"]
    assert emb.meta["encoder"].startswith("combined(0.5*[hashing:dim=8")
    assert "fit=" in emb.meta["channels"][1]["identity"]
    assert set(EmbeddingCache(tmp_path / "c.sqlite").summary()) == {c["identity"] for c in emb.meta["channels"]}


def test_fitted_lexical_channel_is_saved_and_rebuilt_by_its_spec(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path))
    enc = TfidfSvdEncoder(dim=3, min_df=1)
    enc.fit_corpus(TEXTS)
    back = get_encoder(enc.spec)
    assert back.identity == enc.identity
    np.testing.assert_allclose(back.encode(TEXTS + ["an unseen insulin text"]), enc.encode(TEXTS + ["an unseen insulin text"]), atol=1e-6)
    combined = CombinedEncoder([(HashingEncoder(dim=8), 1.0), (enc, 3.0)])
    again = get_encoder(combined.spec.replace("hashing", "hashing:8"))
    assert again.identity == combined.identity
    with pytest.raises(ValueError, match="no saved TF-IDF fit"):
        get_encoder("tfidf@tfidf-3-1-2-1-0-0000000000000000")
