"""Export for downstream models: aligned matrices with masks, .npy + gene list, TSV and word2vec text."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from genept.embeddings import GeneEmbeddings
from genept.embeddings.export import align, export, guess_export_format
from genept.embeddings.importers import import_embeddings

GENES = ["CD3E", "INS", "TP53", "GCG"]


@pytest.fixture
def emb() -> GeneEmbeddings:
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    return GeneEmbeddings(GENES, x, {"encoder": "test"})


def test_align_order_aliases_repeats_and_mask(emb):
    target = ["GCG", "p53", "NOT_A_GENE", "ENSG00000198851", "GCG"]
    matrix, mask = align(emb, target, species="human")
    assert matrix.shape == (5, 5) and matrix.dtype == np.float32
    assert mask.tolist() == [True, True, False, True, True]
    np.testing.assert_array_equal(matrix[[0, 1, 3, 4]], emb.vectors[[3, 2, 0, 3]])
    assert not matrix[2].any()
    m0, k0 = align(emb, [])
    assert m0.shape == (0, 5) and k0.shape == (0,)


def test_npy_export(emb, tmp_path):
    res = export(emb, tmp_path / "out.npy", genes=["INS", "XYZ1", "CD3E"], species="human")
    assert [p.name for p in res.paths] == ["out.npy", "out.genes.txt", "out.mask.npy"] and res.missing == ["XYZ1"]
    x = np.load(tmp_path / "out.npy")
    assert x.dtype == np.float32 and x.shape == (3, 5)
    np.testing.assert_array_equal(x[[0, 2]], emb.vectors[[1, 0]])
    assert not x[1].any()
    assert (tmp_path / "out.genes.txt").read_text().split() == ["INS", "XYZ1", "CD3E"]
    assert np.load(tmp_path / "out.mask.npy").tolist() == [True, False, True]
    whole = export(emb, tmp_path / "all.npy")  # no gene list: every gene, no mask file
    assert [p.name for p in whole.paths] == ["all.npy", "all.genes.txt"]
    np.testing.assert_array_equal(np.load(tmp_path / "all.npy"), emb.vectors)
    dropped = export(emb, tmp_path / "d.npy", genes=["INS", "XYZ1"], missing="drop", species="human")
    assert dropped.n_rows == 1 and (tmp_path / "d.genes.txt").read_text() == "INS\n"
    assert "1 genes have no embedding, left out: XYZ1" in str(dropped)


@pytest.mark.parametrize("name", ["e.tsv", "e.csv", "e.tsv.gz", "e_w2v.txt", "e.vec.gz"])
def test_text_exports_read_back_exactly(emb, tmp_path, name):
    export(emb, tmp_path / name)
    if name.endswith(".gz"):
        with gzip.open(tmp_path / name, "rt") as fh:
            first = fh.readline().rstrip("\n")
    else:
        first = (tmp_path / name).read_text().splitlines()[0]
    assert first == ("4 5" if "w2v" in name or ".vec" in name else ("gene,d0,d1,d2,d3,d4" if name.endswith(".csv") else "gene\td0\td1\td2\td3\td4"))
    back, rep = import_embeddings(tmp_path / name, "word2vec" if ("w2v" in name or ".vec" in name) else "table")
    assert back.genes.tolist() == GENES and rep.n_genes == 4
    np.testing.assert_array_equal(back.vectors, emb.vectors)  # 9 significant digits: float32 exact


def test_export_errors(emb, tmp_path):
    with pytest.raises(ValueError, match="cannot tell the export format"):
        export(emb, tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="none of the 2 genes has an embedding"):
        export(emb, tmp_path / "x.npy", genes=["XYZ1", "XYZ2"], species="human")
    spaced = GeneEmbeddings(["A B"], np.ones((1, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="whitespace"):
        export(spaced, tmp_path / "x.txt")
    assert guess_export_format("a.vec.gz") == "word2vec" and guess_export_format("a.CSV") == "tsv"
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_cli_export(emb, tmp_path, capsys):
    from genept.cli import main

    emb.save(tmp_path / "g.npz")
    (tmp_path / "order.txt").write_text("gene\nTP53\nNOT_A_GENE\nINS\n")
    assert main(["genes", "export", str(tmp_path / "g.npz"), "--genes-from", str(tmp_path / "order.txt"), "--species", "human", "-o", str(tmp_path / "p.npy")]) == 0
    out = capsys.readouterr().out
    assert "wrote 3 genes x 5 (npy)" in out and "1 genes have no embedding, zero rows (mask False): NOT_A_GENE" in out
    assert np.load(tmp_path / "p.mask.npy").tolist() == [True, False, True]
    assert main(["genes", "export", str(tmp_path / "g.npz"), "-o", str(tmp_path / "g.txt")]) == 0
    assert (tmp_path / "g.txt").read_text().startswith("4 5\nCD3E ")
