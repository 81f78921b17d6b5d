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
    printed = capsys.readouterr().out
    # compact console table: kNN F1, ARI, AMI and, with --batch, the batch scores
    head = next(line for line in printed.splitlines() if line.startswith("embedding"))
    assert head.split() == ["embedding", "dim", "5-NN", "F1", "k-means", "ARI", "k-means", "AMI", "same-batch", "kNN", "(random)", "batch", "ARI"]
    rows = {line.split()[0]: line.split() for line in printed.splitlines() if line.split() and line.split()[0] in {"pca", "genept_w:g", "X_scgpt"}}
    assert set(rows) == {"pca", "genept_w:g", "X_scgpt"} and all(len(r) == 8 for r in rows.values())
    assert rows["X_scgpt"][1] == "4" and rows["pca"][-2].startswith("(")
    assert "input: raw counts (log-normalised by GenePT-scaled and PCA); detected from the values" in printed
    assert "raw counts" in (out / "report.md").read_text()
    # the same cells log-normalised: detected, never logged again, and the same PCA geometry as from the counts
    import scanpy as sc

    sc.pp.normalize_total(small_adata, target_sum=1e4)
    sc.pp.log1p(small_adata)
    small_adata.write_h5ad(tmp_path / "logged.h5ad")
    assert main([*args[:2], str(tmp_path / "logged.h5ad"), *args[3:-1], str(tmp_path / "rep2")]) == 0
    assert "input: log-normalised values (used as given, never logged again); detected from the values" in capsys.readouterr().out
    assert main([*args[:2], str(tmp_path / "logged.h5ad"), *args[3:-1], str(tmp_path / "rep3"), "--transform", "log1p"]) == 2
    assert "--transform" in capsys.readouterr().err
    assert f"wrote {out / 'report.md'}, report.html and results.json" in printed
    html = (out / "report.html").read_text()
    assert "<table>" in html and "<code>cell_type</code>" in html and "command: <code>genept " in html
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


def test_bench_genes_task_files_never_from_the_working_directory(tmp_path, monkeypatch, capsys):
    data = tmp_path / "shared" / "genes"
    data.mkdir(parents=True)
    emb, _ = make_gene_data(data)
    emb.save(tmp_path / "syn.npz")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("GENEPT_DATA_DIR", raising=False)
    base = ["bench", "genes", "--embeddings", str(tmp_path / "syn.npz"), "--no-random", "--tasks", "classes,ggi"]
    # no folder given: a clear error naming the flag and the variable, exit 2, nothing written
    assert main([*base, "--out", "r0"]) == 2
    err = capsys.readouterr().err
    assert "--data-dir DIR" in err and "GENEPT_DATA_DIR" in err and not (elsewhere / "r0").exists()
    # the documented variable, naming a data root with genes/ inside
    monkeypatch.setenv("GENEPT_DATA_DIR", str(tmp_path / "shared"))
    assert main([*base, "--out", "r1"]) == 0
    out = capsys.readouterr().out
    assert "skipped" not in out and "classes" in out and "ggi" in out
    md = (elsewhere / "r1" / "report.md").read_text()
    assert f"`{data}` (from GENEPT_DATA_DIR)" in md and (elsewhere / "r1" / "report.html").exists()
    # GenePT's property label sets were not run here, and the report says so
    assert "none of which this run scored" in md and "not included here" not in md


def test_bench_genes_skips_name_the_missing_file_and_all_skipped_fails(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    emb, _ = make_gene_data(data)
    emb.save(tmp_path / "syn.npz")
    (data / "gene_types_geneformer.csv.gz").unlink()
    base = ["bench", "genes", "--embeddings", str(tmp_path / "syn.npz"), "--no-random", "--data-dir", str(data)]
    assert main([*base, "--tasks", "classes,ggi", "--out", str(tmp_path / "r1")]) == 0
    out = capsys.readouterr().out
    assert f"classes                  skipped: missing {data / 'gene_types_geneformer.csv.gz'}" in out
    md = (tmp_path / "r1" / "report.md").read_text()
    assert "Skipped: classes (missing" in md and "### Gene-gene interactions" in md

    assert main([*base, "--tasks", "classes", "--out", str(tmp_path / "r2")]) == 2
    out, err = capsys.readouterr()
    assert "skipped: missing" in out and "every task was skipped" in err and "no report was written" in err
    assert not (tmp_path / "r2").exists()


def test_bench_genes_report_wording_when_property_labels_run(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    emb, group = make_gene_data(data)
    emb.save(tmp_path / "syn.npz")
    labels = tmp_path / "dosage_sensitive_tfs.tsv"
    labels.write_text("".join(f"{g}\t{int(k == 0)}\n" for g, k in zip(emb.genes, group, strict=True)))
    argv = ["bench", "genes", "--embeddings", str(tmp_path / "syn.npz"), "--no-random", "--tasks", "property", "--labels", str(labels)]
    assert main([*argv, "--out", str(tmp_path / "r")]) == 0  # property alone needs no task folder
    md = (tmp_path / "r" / "report.md").read_text()
    assert "This run scored the label file `dosage_sensitive_tfs.tsv`" in md and "not included here" not in md
    assert "Cell level on hPancreas" not in md  # no cell task ran
