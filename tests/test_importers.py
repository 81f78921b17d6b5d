"""Gene-embedding importers: files written here in the real formats, keys mapped to HGNC symbols, damaged inputs."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest

from genept.embeddings import GeneEmbeddings
from genept.embeddings.importers import (
    detect_format,
    import_embeddings,
    key_by_symbol,
    read_gene2vec,
    read_geneformer,
    read_genept,
    read_scgpt,
    read_word2vec,
)

# current symbol, alias of TP53, the symbol itself, previous symbol, ambiguous alias, NCBI LOC, clone name, nonsense
KEYS = ["CD3E", "P53", "TP53", "FAM46C", "ASP", "LOC100", "AC012345.1", "FOO1BAR"]


def _rows(n: int, dim: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


# -- the shared key rules ---------------------------------------------------------------------
def test_key_classes_and_duplicate_rules():
    x = _rows(len(KEYS))
    emb, rep = key_by_symbol(KEYS, x, format="custom")
    assert emb.genes.tolist() == ["CD3E", "TP53", "TENT5C"]
    assert rep.key_classes == {"symbol": 2, "previous": 1, "alias": 1, "ambiguous": 1, "ncbi_loc": 1, "clone_name": 1, "other": 1}
    assert sum(rep.key_classes.values()) == rep.n_keys == 8 and rep.n_resolved == 4 and rep.n_genes == 3
    # best: the approved symbol's row wins over the alias that comes first in the file
    np.testing.assert_array_equal(emb["TP53"], x[2])
    assert rep.duplicates == {"TP53": ["P53", "TP53"]}
    assert set(rep.ambiguous["ASP"]) >= {"ASPA", "ASPM"}
    assert rep.unresolved == ["LOC100", "AC012345.1", "FOO1BAR"]
    first, _ = key_by_symbol(KEYS, x, merge="first")
    np.testing.assert_array_equal(first["TP53"], x[1])
    mean, _ = key_by_symbol(KEYS, x, merge="mean")
    np.testing.assert_allclose(mean["TP53"], (x[1] + x[2]) / 2, rtol=1e-6)
    kept, rep_k = key_by_symbol(KEYS, x, keep_unresolved=True)
    assert kept.genes.tolist()[3:] == ["LOC100", "AC012345.1", "FOO1BAR"] and rep_k.kept_unresolved == rep.unresolved
    text = str(rep)
    assert "previous HGNC symbol" in text and "TP53 <- P53, TP53" in text and "ASP ->" in text
    assert emb.meta["import_report"]["n_genes"] == 3 and emb.meta["import_format"] == "custom"


def test_nonfinite_rows_and_nothing_resolved():
    x = _rows(3)
    x[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"1 rows hold NaN or inf \(e.g. \['INS'\]\).*nonfinite='drop'"):
        key_by_symbol(["CD3E", "INS", "TP53"], x)
    emb, rep = key_by_symbol(["CD3E", "INS", "TP53"], x, nonfinite="drop")
    assert emb.genes.tolist() == ["CD3E", "TP53"] and rep.dropped_nonfinite == ["INS"]
    with pytest.raises(ValueError, match="none of the 2 keys resolved.*species='mouse'"):
        key_by_symbol(["FOO1BAR", "<pad>"], _rows(2))
    with pytest.raises(ValueError, match="3 keys but a matrix of shape"):
        key_by_symbol(["CD3E", "INS", "TP53"], _rows(2))
    with pytest.raises(ValueError, match="merge must be one of"):
        key_by_symbol(["CD3E"], _rows(1), merge="max")


# -- Gene2vec / word2vec ----------------------------------------------------------------------
def _write_gene2vec(path, keys, x, *, header=False, sep="\t"):
    lines = [f"{len(keys)} {x.shape[1]}"] if header else []
    lines += [f"{k}{sep}{' '.join(f'{v:.6f}' for v in row)} " for k, row in zip(keys, x, strict=True)]  # Gene2vec leaves a trailing space
    path.write_text("\n".join(lines) + "\n")


def test_gene2vec_text_with_and_without_header(tmp_path):
    keys = ["CD3E", "INS", "SEPT7", "TP53"]
    x = _rows(4, 5)
    _write_gene2vec(tmp_path / "gene2vec_dim_5.txt", keys, x)
    _write_gene2vec(tmp_path / "gene2vec_dim_5_w2v.txt", keys, x, header=True, sep=" ")
    for name in ("gene2vec_dim_5.txt", "gene2vec_dim_5_w2v.txt"):
        emb, rep = read_gene2vec(tmp_path / name)
        assert emb.genes.tolist() == ["CD3E", "INS", "SEPTIN7", "TP53"], name
        np.testing.assert_allclose(emb.vectors, x, atol=1e-6)
        assert rep.key_classes == {"symbol": 3, "previous": 1} and rep.format == "gene2vec"
    emb2, rep2 = read_word2vec(tmp_path / "gene2vec_dim_5_w2v.txt")
    assert rep2.format == "word2vec" and emb2.genes.tolist() == emb.genes.tolist()


def test_word2vec_binary(tmp_path):
    keys = ["CD3E", "INS", "TP53"]
    x = _rows(3, 6)
    body = b"".join(k.encode() + b" " + row.astype("<f4").tobytes() + b"\n" for k, row in zip(keys, x, strict=True))
    (tmp_path / "g.bin").write_bytes(b"3 6\n" + body)
    emb, _ = import_embeddings(tmp_path / "g.bin")  # binary detected
    np.testing.assert_array_equal(emb.vectors, x)
    (tmp_path / "cut.bin").write_bytes(b"3 6\n" + body[:-30])
    with pytest.raises(ValueError, match="ends after 2.*cut short"):
        read_word2vec(tmp_path / "cut.bin", binary=True)


def test_gene2vec_damaged(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("CD3E 0.1 0.2 0.3\nINS 0.1 0.2\nTP53 0.1 0.2 0.3\n")
    with pytest.raises(ValueError, match=r"line 2 \('INS'\) has 2 numbers, expected 3"):
        read_gene2vec(path)
    path.write_text("3 2\nCD3E 0.1 0.2\nINS 0.1 0.2\n")
    with pytest.raises(ValueError, match="announces 3 vectors but the file holds 2"):
        read_gene2vec(path)
    path.write_text("CD3E 0.1 abc\nINS 0.1 0.2\n")
    with pytest.raises(ValueError, match="must be a number"):
        read_gene2vec(path)
    path.write_text("CD3E 0.1 0.2\nINS nan 0.2\n")
    with pytest.raises(ValueError, match=r"NaN or inf \(e.g. \['INS'\]\)"):
        read_gene2vec(path)
    emb, _ = read_gene2vec(path, nonfinite="drop")
    assert emb.genes.tolist() == ["CD3E"]


# -- scGPT --------------------------------------------------------------------------------------
SCGPT_VOCAB = ["<pad>", "<cls>", "<eoc>", "CD3E", "INS", "P53", "TP53", "LOC100"]


@pytest.fixture
def scgpt_files(tmp_path):
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    state = {
        "encoder.embedding.weight": torch.randn(len(SCGPT_VOCAB), 6, generator=g),
        "encoder.enc_norm.weight": torch.ones(6),
        "value_encoder.linear1.weight": torch.randn(6, 1, generator=g),
        "transformer_encoder.layers.0.linear1.weight": torch.randn(12, 6, generator=g),
    }
    folder = tmp_path / "scGPT_human"
    folder.mkdir()
    torch.save(state, folder / "best_model.pt")
    order = [3, 0, 7, 1, 6, 2, 4, 5]  # vocab.json is not in row order
    (folder / "vocab.json").write_text(json.dumps({SCGPT_VOCAB[i]: i for i in order}))
    return folder, state


def test_scgpt_rows_and_key(scgpt_files):
    folder, state = scgpt_files
    emb, rep = read_scgpt(folder / "best_model.pt")  # vocab.json found beside it
    w = state["encoder.embedding.weight"].numpy()
    assert emb.genes.tolist() == ["CD3E", "TP53", "INS"]
    np.testing.assert_array_equal(emb["CD3E"], w[3])
    np.testing.assert_array_equal(emb["TP53"], w[6])  # the symbol's row, not its alias P53's (row 5)
    assert rep.notes[0] == "gene-token rows read from 'encoder.embedding.weight' (8, 6)"
    assert rep.key_classes["special_token"] == 3 and rep.duplicates == {"TP53": ["TP53", "P53"]}


def test_scgpt_prefixed_and_wrapped_checkpoints(scgpt_files, tmp_path):
    import torch

    folder, state = scgpt_files
    wrapped = {"model_state_dict": {"module." + k: v for k, v in state.items()}, "epoch": 3}
    torch.save(wrapped, tmp_path / "ddp.pt")
    emb, rep = read_scgpt(tmp_path / "ddp.pt", folder / "vocab.json")
    assert "'module.encoder.embedding.weight'" in rep.notes[0]
    np.testing.assert_array_equal(emb["INS"], state["encoder.embedding.weight"][4].numpy())
    # unknown layout: the only 2-d tensor with one row per token is used, and the report says so
    torch.save({"gene_emb": state["encoder.embedding.weight"], "proj": torch.zeros(6, 6)}, tmp_path / "other.pt")
    _, rep = read_scgpt(tmp_path / "other.pt", folder / "vocab.json")
    assert "'gene_emb'" in rep.notes[0]


def test_scgpt_damaged(scgpt_files, tmp_path):
    import torch

    folder, state = scgpt_files
    ckpt = folder / "best_model.pt"
    vocab = {t: i for i, t in enumerate(SCGPT_VOCAB)}
    (tmp_path / "short.json").write_text(json.dumps(dict(list(vocab.items())[:6])))
    with pytest.raises(ValueError, match="has 6 tokens but 'encoder.embedding.weight' has 8 rows.*another model"):
        read_scgpt(ckpt, tmp_path / "short.json")
    (tmp_path / "big.json").write_text(json.dumps({**vocab, "GCG": 8}))
    with pytest.raises(ValueError, match="indices up to 8.*has 8 rows"):
        read_scgpt(ckpt, tmp_path / "big.json")
    (tmp_path / "dup.json").write_text(json.dumps({**vocab, "LOC100": 3}))
    with pytest.raises(ValueError, match="used by several tokens"):
        read_scgpt(ckpt, tmp_path / "dup.json")
    with pytest.raises(ValueError, match=r"'encoder.enc_norm.weight' has shape \(6,\)"):
        read_scgpt(ckpt, key="encoder.enc_norm.weight")
    torch.save({"a": torch.zeros(8, 2), "b": torch.zeros(8, 3)}, tmp_path / "two.pt")
    with pytest.raises(ValueError, match="2 2-d tensors with one row per vocabulary token.*key="):
        read_scgpt(tmp_path / "two.pt", folder / "vocab.json")
    bad = dict(state)
    bad["encoder.embedding.weight"] = state["encoder.embedding.weight"].clone()
    bad["encoder.embedding.weight"][4, 0] = float("nan")
    torch.save(bad, tmp_path / "nan.pt")
    with pytest.raises(ValueError, match=r"NaN or inf \(e.g. \['INS'\]\)"):
        read_scgpt(tmp_path / "nan.pt", folder / "vocab.json")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable torch checkpoint"):
        read_scgpt(tmp_path / "junk.pt", folder / "vocab.json")
    with pytest.raises(FileNotFoundError, match="vocab.json saved with the checkpoint"):
        read_scgpt(tmp_path / "junk.pt")


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Model:  # a pickled object of a foreign class (what torch.save(model) writes)
    def __init__(self):
        self.weight = np.zeros((2, 2))


def test_scgpt_refuses_foreign_classes(scgpt_files, tmp_path):
    import torch

    folder, state = scgpt_files
    marker = tmp_path / "pwned"
    torch.save({**state, "hook": _Evil(str(marker))}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="refused to load this checkpoint.*never runs pickled code"):
        read_scgpt(tmp_path / "evil.pt", folder / "vocab.json")
    assert not marker.exists()
    torch.save({**state, "model": _Model()}, tmp_path / "obj.pt")
    with pytest.raises(ValueError, match="refused.*state_dict"):
        read_scgpt(tmp_path / "obj.pt", folder / "vocab.json")


# -- Geneformer -----------------------------------------------------------------------------
GF_TOKENS = {"<pad>": 0, "<mask>": 1, "ENSG00000198851": 2, "ENSG00000254647": 3, "ENSG00000141510": 4, "ENSG00000000000": 5, "ENSG00000105383": 6}


@pytest.fixture
def geneformer_files(tmp_path):
    transformers = pytest.importorskip("transformers")
    import torch

    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(GF_TOKENS), hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16, max_position_embeddings=32
    )
    model = transformers.BertForMaskedLM(config)  # Geneformer checkpoints are BertForMaskedLM
    folder = tmp_path / "gf-6L"
    model.save_pretrained(folder)
    with (tmp_path / "token_dictionary_gc104M.pkl").open("wb") as fh:
        pickle.dump(GF_TOKENS, fh)
    return folder, model.bert.embeddings.word_embeddings.weight.detach().numpy()


def test_geneformer_rows(geneformer_files, tmp_path):
    folder, w = geneformer_files
    emb, rep = read_geneformer(folder)  # the token dictionary is found in the parent folder
    assert emb.genes.tolist() == ["CD3E", "INS", "TP53", "CD33"]
    np.testing.assert_allclose(emb.vectors, w[[2, 3, 4, 6]], rtol=1e-6)
    assert rep.key_classes == {"ensembl": 4, "special_token": 2, "ensembl_other": 1}
    assert "(7, 8)" in rep.notes[0]


def test_geneformer_damaged(geneformer_files, tmp_path):
    folder, _ = geneformer_files
    small = dict(list(GF_TOKENS.items())[:5])
    with (tmp_path / "small.pkl").open("wb") as fh:
        pickle.dump(small, fh)
    with pytest.raises(ValueError, match="has 5 tokens but the word-embedding matrix has 7 rows"):
        read_geneformer(folder, tmp_path / "small.pkl")
    emb, rep = read_geneformer(folder, tmp_path / "small.pkl", allow_extra_rows=True)
    assert len(emb) == 3 and "2 rows of the word-embedding matrix have no token" in rep.notes[1]
    marker = tmp_path / "pwned"
    with (tmp_path / "evil.pkl").open("wb") as fh:
        pickle.dump({**GF_TOKENS, "x": _Evil(str(marker))}, fh)
    with pytest.raises(ValueError, match="refused to load this pickle.*system"):
        read_geneformer(folder, tmp_path / "evil.pkl")
    assert not marker.exists()
    with pytest.raises(ValueError, match="not a Hugging Face model folder"):
        read_geneformer(tmp_path, tmp_path / "small.pkl")
    (tmp_path / "other_token_dictionary.pkl").write_bytes(pickle.dumps(GF_TOKENS))
    with pytest.raises(FileNotFoundError, match="2 candidates"):
        read_geneformer(folder)


# -- GenePT pickles and JSON ------------------------------------------------------------------
def test_genept_pickle_and_json_key_count(tmp_path):
    x = _rows(len(KEYS), 3)
    data = {k: row for k, row in zip(KEYS, x, strict=True)}
    (tmp_path / "GenePT_gene_embedding_ada_text.pickle").write_bytes(pickle.dumps(data))
    (tmp_path / "genept.json").write_text(json.dumps({k: v.tolist() for k, v in data.items()}))
    for name, fmt in (("GenePT_gene_embedding_ada_text.pickle", "genept-pickle"), ("genept.json", "genept-json")):
        emb, rep = import_embeddings(tmp_path / name)
        assert rep.format == fmt and emb.genes.tolist() == ["CD3E", "TP53", "TENT5C"]
        assert rep.key_classes["symbol"] == 2 and rep.key_classes["previous"] == 1 and rep.key_classes["alias"] == 1
        np.testing.assert_allclose(emb["TENT5C"], x[3], rtol=1e-6)
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a JSON object"):
        read_genept(tmp_path / "list.json")


def test_detect_format(tmp_path):
    assert [detect_format(p) for p in ("a.pt", "b.pickle", "c.json.gz", "d_w2v.txt", "e.tsv", str(tmp_path))] == [
        "scgpt", "genept-pickle", "genept-json", "word2vec", "table", "geneformer",
    ]
    with pytest.raises(ValueError, match="unknown format 'fasttext'"):
        import_embeddings(tmp_path, "fasttext")


# -- CLI ------------------------------------------------------------------------------------
def test_cli_import_formats(scgpt_files, tmp_path, capsys):
    from genept.cli import main

    folder, _ = scgpt_files
    out = tmp_path / "scgpt.npz"
    report = tmp_path / "report.json"
    assert main(["genes", "import", str(folder / "best_model.pt"), "--format", "scgpt", "-o", str(out), "--report", str(report)]) == 0
    text = capsys.readouterr().out
    assert "imported 3 genes x 6" in text and "encoder.embedding.weight" in text and "special token" in text
    assert GeneEmbeddings.load(out).genes.tolist() == ["CD3E", "TP53", "INS"]
    assert json.loads(report.read_text())["key_classes"]["special_token"] == 3
    g2v = tmp_path / "g.txt"
    g2v.write_text("CD3E 0.1 0.2\nINS nan 0.2\n")
    assert main(["genes", "import", str(g2v), "--format", "gene2vec", "-o", str(tmp_path / "g.npz")]) == 2
    assert "--drop-nonfinite" in capsys.readouterr().err
    assert main(["genes", "import", str(g2v), "--format", "gene2vec", "--drop-nonfinite", "-o", str(tmp_path / "g.npz")]) == 0
    assert "imported 1 genes x 2" in capsys.readouterr().out
