"""``genept bench genes`` and ``genept bench cells`` end to end on small files."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from genept.cli import main
from genept.embeddings import GeneEmbeddings


def make_gene_data(root, n_per: int = 80) -> tuple[GeneEmbeddings, np.ndarray]:
    rng = np.random.default_rng(0)
    group = np.repeat(np.arange(3), n_per)
    vectors = (rng.normal(size=(3, 12)) * 4)[group] + rng.normal(size=(group.size, 12))
    genes = [f"GENE{i:04d}" for i in range(group.size)]
    emb = GeneEmbeddings(genes, vectors.astype(np.float32), {"encoder": "synthetic"})
    types = np.array(["protein_coding", "lncRNA", "miRNA"])[group]
    pd.DataFrame({"ensembl_id": "", "gene_name": genes, "gene_type": types}).to_csv(root / "gene_types_geneformer.csv.gz")
    ggi = root / "gene2vec_ggi"
    ggi.mkdir()
    for split, n in (("train", 600), ("test", 200)):
        idx = rng.integers(0, len(genes), size=(n, 2))
        (ggi / f"{split}_text.txt").write_text("".join(f"{genes[a]} {genes[b]}\n" for a, b in idx))
        (ggi / f"{split}_label.txt").write_text("".join(f"{int(group[a] == group[b])}\n" for a, b in idx))
    with gzip.open(root / "go_annotations_human_2022.tsv.gz", "wt") as fh:
        fh.write("entrez_id\tsymbol\tgo_id\tevidence\tontology\n")
        for g, k in zip(genes, group, strict=True):
            fh.write(f"0\t{g}\tGO:{k:07d}\tIDA\tBP\n")
    with gzip.open(root / "go_parents_2022.tsv.gz", "wt") as fh:
        fh.write("child_go_id\tparent_go_id\trelationship_type\tontology\n")
    return emb, group


def test_bench_genes_cli(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    emb, group = make_gene_data(data)
    emb.save(tmp_path / "syn.npz")
    GeneEmbeddings(emb.genes, np.random.default_rng(1).normal(size=(len(emb), 6)).astype(np.float32)).save(tmp_path / "noise.npz")
    labels = tmp_path / "prop.tsv"
    labels.write_text("".join(f"{g}\t{'yes' if k == 0 else 'no'}\n" for g, k in zip(emb.genes, group, strict=True)))
    out = tmp_path / "report"
    rc = main([
        "bench", "genes", "--embeddings", str(tmp_path / "syn.npz"), "--embeddings", f"other={tmp_path / 'noise.npz'}",
        "--data-dir", str(data), "--labels", str(labels), "--no-random", "--out", str(out),
    ])  # fmt: skip
    assert rc == 0
    printed = capsys.readouterr().out
    assert "classes" in printed and "syn" in printed and "other" in printed and "wrote" in printed
    res = json.loads((out / "results.json").read_text())
    tasks = res["genes"]["tasks"]
    assert set(tasks) == {"classes", "ggi", "go", "property:prop.tsv"} and set(tasks["classes"]) == {"syn", "other"}
    assert tasks["classes"]["syn"]["accuracy"] > 0.95 and tasks["property:prop.tsv"]["syn"]["logreg"]["auc"]["mean"] > 0.95
    assert res["meta"]["command"].startswith("genept ") and res["genes"]["settings"]["seed"] == 0
    assert (out / "report.md").exists() and (out / "confusion_gene_types_syn.png").exists()

    rc = main(["bench", "genes", "--embeddings", str(tmp_path / "missing.npz"), "--out", str(out)])
    assert rc == 2 and "not found" in capsys.readouterr().err


def test_bench_cells_cli(tmp_path, small_adata, capsys):
    from genept.encoders import get_encoder

    enc = get_encoder("hashing", dim=16)
    genes = list(small_adata.var_names)
    GeneEmbeddings(genes, enc.encode([f"gene {g}" for g in genes]), {"encoder": enc.identity}).save(tmp_path / "g.npz")
    small_adata.obsm["X_scgpt"] = np.random.default_rng(0).normal(size=(small_adata.n_obs, 4)).astype(np.float32)
    small_adata.write_h5ad(tmp_path / "cells.h5ad")
    out = tmp_path / "rep"
    args = [
        "bench",
        "cells",
        str(tmp_path / "cells.h5ad"),
        "--label",
        "cell_type",
        "--batch",
        "batch",
        "--genes",
        str(tmp_path / "g.npz"),
        "--obsm",
        "X_scgpt",
        "--k",
        "5",
        "--no-umap",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    assert "genept_w:g" in capsys.readouterr().out
    res = json.loads((out / "results.json").read_text())
    entry = res["cells"]["cells"]
    assert set(entry["results"]["tasks"]) == {"genept_scaled:g", "genept_w:g", "random_w:g", "pca", "X_scgpt"}
    assert entry["embeddings"]["genept_w:g"]["coverage"]["n_genes_embedded"] == 40 and entry["label_key"] == "cell_type"
    assert "### cells" in (out / "report.md").read_text()

    assert main(["bench", "cells", str(tmp_path / "cells.h5ad"), "--label", "nope", "--out", str(out)]) == 2
    assert "no obs column 'nope'" in capsys.readouterr().err


def test_bench_help_documents_label_format(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "genes", "--help"])
    assert "gene<TAB>label" in capsys.readouterr().out
