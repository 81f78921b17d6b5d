"""The SQLite embedding cache and CachedEncoder (with the hashing encoder: no model needed)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from genept.encoders.cache import (
    CachedEncoder,
    EmbeddingCache,
    default_cache_path,
    text_key,
)
from genept.encoders.hashing import HashingEncoder


class CountingEncoder(HashingEncoder):
    """Hashing encoder that records every text it is asked to encode; can fail on a given call."""

    def __init__(self, dim: int = 32, fail_on_call: int | None = None, max_tokens: int | None = None) -> None:
        super().__init__(dim)
        self.seen: list[str] = []
        self.calls = 0
        self.fail_on_call = fail_on_call
        self.max_tokens = max_tokens

    def count_tokens(self, texts):
        return [len(t.split()) for t in texts]

    def encode(self, texts, *, show_progress=False):
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt("simulated kill")
        self.seen.extend(texts)
        out = super().encode(texts)
        if self.max_tokens is not None:
            self.stats.n_truncated += sum(n > self.max_tokens for n in self.count_tokens(texts))
        return out


TEXTS = [f"gene {i} encodes a protein of family {i % 5}" for i in range(50)]


def test_cache_roundtrip_and_summary(tmp_path):
    with EmbeddingCache(tmp_path / "sub" / "c.sqlite") as cache:
        vecs = np.arange(12, dtype=np.float32).reshape(3, 4)
        cache.put("enc-a", ["x", "y", "z"], vecs, truncated=[False, True, False])
        got = cache.get("enc-a", ["z", "x", "missing"])
        assert set(got) == {"x", "z"}
        np.testing.assert_array_equal(got["z"], vecs[2])
        assert got["x"].dtype == np.float32
        assert cache.get("enc-b", ["x"]) == {}
        assert cache.lookup("enc-a", [text_key("y")])[text_key("y")][1] is True
        assert cache.summary() == {"enc-a": 3}
        assert cache.dim("enc-a") == 4 and cache.dim("enc-b") is None
        assert cache.clear("enc-a") == 3 and cache.summary() == {}
    mode = sqlite3.connect(tmp_path / "sub" / "c.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_cache_refuses_a_second_dimension(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    cache.put("enc", ["a"], np.ones((1, 4), np.float32))
    with pytest.raises(ValueError, match="4-d vectors"):
        cache.put("enc", ["b"], np.ones((1, 8), np.float32))
    assert cache.summary() == {"enc": 1}  # the failed batch left nothing behind


def test_not_a_database(tmp_path):
    bad = tmp_path / "c.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ValueError, match="not a usable genept embedding cache"):
        EmbeddingCache(bad).summary()


def test_default_path_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path / "gc"))
    assert default_cache_path() == tmp_path / "gc" / "embeddings.sqlite"
    monkeypatch.delenv("GENEPT_CACHE_DIR")
    assert default_cache_path().parts[-3:] == (".cache", "genept", "embeddings.sqlite")


def test_cached_encoder_matches_plain_and_dedups(tmp_path):
    inner = CountingEncoder()
    enc = CachedEncoder(inner, tmp_path / "c.sqlite", batch_size=8)
    texts = TEXTS[:20] + TEXTS[:5]
    out = enc.encode(texts)
    np.testing.assert_allclose(out, HashingEncoder(32).encode(texts), atol=1e-6)
    assert sorted(inner.seen) == sorted(TEXTS[:20])  # each distinct text encoded once
    assert inner.calls == 3  # 20 misses in batches of 8
    assert enc.stats.n_texts == 25 and enc.stats.n_cached == 0

    out2 = enc.encode(TEXTS[10:30])
    assert sorted(inner.seen[20:]) == sorted(TEXTS[20:30])
    assert enc.stats.n_cached == 10
    np.testing.assert_allclose(out2, HashingEncoder(32).encode(TEXTS[10:30]), atol=1e-6)
    assert enc.name == "hashing" and enc.identity == inner.identity and enc.dim == 32
    assert enc.encode([]).shape == (0, 32)


def test_interrupted_run_keeps_finished_batches(tmp_path):
    path = tmp_path / "c.sqlite"
    crashing = CountingEncoder(fail_on_call=3)
    with pytest.raises(KeyboardInterrupt):
        CachedEncoder(crashing, path, batch_size=10).encode(TEXTS)
    done = set(crashing.seen)
    assert len(done) == 20  # two batches finished before the "kill"
    assert EmbeddingCache(path).summary() == {crashing.identity: 20}

    fresh = CountingEncoder()
    enc = CachedEncoder(fresh, path, batch_size=10)
    out = enc.encode(TEXTS)
    assert not done & set(fresh.seen) and len(fresh.seen) == 30
    assert enc.stats.n_cached == 20
    np.testing.assert_allclose(out, HashingEncoder(32).encode(TEXTS), atol=1e-6)


def test_dimension_mismatch_with_encoder_is_an_error(tmp_path):
    path = tmp_path / "c.sqlite"
    enc16 = HashingEncoder(16)
    EmbeddingCache(path).put(enc16.identity, TEXTS[:2], np.ones((2, 8), np.float32))  # a wrong identity reused
    with pytest.raises(ValueError, match="8-d vectors.*16-d"):
        CachedEncoder(enc16, path).encode(TEXTS[:3])


def test_truncation_is_remembered(tmp_path):
    path = tmp_path / "c.sqlite"
    texts = ["short one", "this text has more than five words in it", "tiny", "another long text with many many words"]
    enc = CachedEncoder(CountingEncoder(max_tokens=5), path, batch_size=4)
    enc.encode(texts)
    assert enc.stats.n_truncated == 2
    again = CachedEncoder(CountingEncoder(max_tokens=5), path)
    again.encode(texts)
    assert again.stats.n_cached == 4 and again.stats.n_truncated == 2


def test_two_processes_share_one_cache(tmp_path):
    import multiprocessing as mp

    path = tmp_path / "c.sqlite"
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.starmap(_encode_in_child, [(str(path), 0), (str(path), 25)])
    assert EmbeddingCache(path).summary() == {HashingEncoder(32).identity: 50}


def _encode_in_child(path: str, start: int) -> None:
    CachedEncoder(HashingEncoder(32), path, batch_size=5).encode(TEXTS[start : start + 25])
