"""``genept programs`` / ``annotate`` / ``search-genes`` on small files (hashing encoder)."""

from __future__ import annotations

import gzip

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genept.cli import main
from genept.embeddings import GeneEmbeddings
from genept.encoders import get_encoder
from genept.genes.corpus import GeneFacts, corpus_from_facts

THEMES = {
    "IFN": "interferon antiviral response innate immunity signaling",
    "RIB": "ribosome translation ribosomal subunit rRNA processing",
    "ECM": "collagen extracellular matrix fibroblast adhesion",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_query")
    rng = np.random.default_rng(0)
    facts = {}
    for theme, words in THEMES.items():
        for i in range(10):
            g = f"{theme}{i}"
            facts[g] = GeneFacts(symbol=g, summary=f"Involved in {words}. Gene number {i}.", source="test")
    for i in range(30):  # other genes: the reference pool of score_genes
        facts[f"OTHER{i}"] = GeneFacts(symbol=f"OTHER{i}", summary=f"Uncharacterised open reading frame {i}.", source="test")
    corpus = corpus_from_facts(facts)
    corpus.save(d / "corpus.json.gz")
    genes = corpus.genes
    enc = get_encoder("hashing", dim=128)
    GeneEmbeddings(genes, enc.encode([corpus[g] for g in genes]), {"encoder": enc.identity}).save(d / "genes.npz")
    counts = rng.poisson(2.0, size=(60, len(genes))).astype(np.float32)
    for t in range(3):
        counts[t * 20 : (t + 1) * 20, t * 10 : (t + 1) * 10] += rng.poisson(8.0, size=(20, 10))
    adata = ad.AnnData(
        sp.csr_matrix(counts),
        obs=pd.DataFrame({"cell_type": np.repeat(["antiviral", "translating", "matrix"], 20)}, index=[f"c{i}" for i in range(60)]),
        var=pd.DataFrame({"highly_variable": [not g.startswith("OTHER") for g in genes]}, index=genes),
    )
    adata.write_h5ad(d / "cells.h5ad")
    with gzip.open(d / "go_ann.tsv.gz", "wt") as fh:
        fh.write("entrez_id\tsymbol\tgo_id\tevidence\tontology\n")
        for i in range(10):
            fh.write(f"{i}\tIFN{i}\tGO:0000002\tIDA\tBP\n")
            fh.write(f"{i}\tRIB{i}\tGO:0000003\tND\tBP\n")  # ND: dropped
            fh.write(f"{i}\tECM{i}\tGO:0000004\tIEA\tBP\n")
            fh.write(f"{i}\tRIB{i}\tGO:0000005\tIEA\tBP\n")
    with gzip.open(d / "go_terms.tsv.gz", "wt") as fh:
        fh.write("go_id\tontology\tterm\tdefinition\nGO:0000002\tBP\tantiviral defense\tx\nGO:0000003\tBP\ttranslation\ty\n"
                 "GO:0000004\tBP\tmatrix\tz\nGO:0000005\tBP\tribosome\tw\n")
    return d


def test_programs_command(files, tmp_path, capsys):
    out = tmp_path / "out.h5ad"
    report = tmp_path / "report"
    rc = main([
        "programs", str(files / "cells.h5ad"), "--genes", str(files / "genes.npz"), "--corpus", str(files / "corpus.json.gz"),
        "--go-annotations", str(files / "go_ann.tsv.gz"), "--go-terms", str(files / "go_terms.tsv.gz"),
        "--n-neighbors", "5", "--groupby", "cell_type", "-o", str(out), "--report", str(report), "--species", "human",
    ])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "3 programs from 30 genes" in text and "raw counts" in text
    a = ad.read_h5ad(out)
    assert a.uns["genept_programs"]["params"]["species"] == "human"
    assert a.uns["genept_programs_scores"]["params"]["lognormalized"]  # X held counts: scored on log1p(CP10k)
    assert a.obsm["genept_programs_scores"].shape == (60, 3)
    assert a.layers.keys() == set() and np.array_equal(a.X.toarray(), ad.read_h5ad(files / "cells.h5ad").X.toarray())
    summary = pd.read_csv(report / "programs.tsv", sep="\t", index_col=0)
    ifn = a.var.loc["IFN0", "genept_programs"]
    assert summary.loc[ifn, "top_term"] == "antiviral defense"
    enrichment = pd.read_csv(report / "enrichment.tsv", sep="\t")
    assert "GO:0000003" not in set(enrichment["term"])  # evidence ND was dropped
    assert len(pd.read_csv(report / "members.tsv", sep="\t")) == 30
    assert (report / "heatmap.png").read_bytes()[:4] == b"\x89PNG"


def test_annotate_command(files, tmp_path, capsys):
    labels = tmp_path / "labels.txt"
    labels.write_text(
        "# one label per line\nantiviral: interferon antiviral response\n\ntranslating: ribosome translation\nmatrix: collagen extracellular matrix\n"
    )
    out = tmp_path / "annotated.h5ad"
    rc = main(["annotate", str(files / "cells.h5ad"), "--labels", str(labels), "--genes", str(files / "genes.npz"),
               "--encoder", "hashing:128", "-o", str(out)])  # fmt: skip
    assert rc == 0
    a = ad.read_h5ad(out)
    assert (a.obs["genept_zero_shot"].astype(str) == a.obs["cell_type"]).all()
    assert "X_genept_scaled" in a.obsm and "20  antiviral" in capsys.readouterr().out
    rc = main(["annotate", str(files / "cells.h5ad"), "--labels", str(labels), "--method", "genes", "--n-genes", "5",
               "--genes", str(files / "genes.npz"), "--encoder", "hashing:128", "-o", str(tmp_path / "g.h5ad")])  # fmt: skip
    assert rc == 0 and "raw counts" in capsys.readouterr().out
    g = ad.read_h5ad(tmp_path / "g.h5ad")
    assert (g.obs["genept_zero_shot"].astype(str) == g.obs["cell_type"]).mean() >= 0.9 and not g.layers.keys()
    assert g.uns["genept_zero_shot"]["genes"].loc["matrix", "genes"].startswith("ECM")
    # Inline labels, and the encoder check: a 64-d hashing encoder did not make these embeddings.
    rc = main(["annotate", str(out), "--labels", "antiviral: interferon", "matrix: collagen", "--encoder", "hashing:64",
               "-o", str(tmp_path / "x.h5ad")])  # fmt: skip
    assert rc == 2 and "same encoder" in capsys.readouterr().err
    rc = main(["annotate", str(files / "cells.h5ad"), "--labels", "a: x", "b: y", "-o", str(tmp_path / "y.h5ad")])
    assert rc == 2 and "--genes" in capsys.readouterr().err
    rc = main(["annotate", str(out), "--labels", "a:", "b: y", "--encoder", "hashing:128", "-o", str(tmp_path / "z.h5ad")])
    assert rc == 2 and "empty name or description" in capsys.readouterr().err


def test_search_genes_command(files, capsys):
    rc = main(["search-genes", "collagen extracellular matrix", "--genes", str(files / "genes.npz"), "--encoder", "hashing:128", "--top", "5"])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["gene", "score", "rank"] and len(lines) == 6
    assert all(line.split()[0].startswith("ECM") for line in lines[1:])
    rc = main(["search-genes", " ", "--genes", str(files / "genes.npz"), "--encoder", "hashing:128"])
    assert rc == 2 and "empty" in capsys.readouterr().err
    rc = main(["search-genes", "x", "--genes", str(files / "missing.npz")])
    assert rc == 2 and "not found" in capsys.readouterr().err


def test_annotate_labels_file_and_marker_genes(files, tmp_path, capsys):
    labels = tmp_path / "types.tsv"
    labels.write_text(
        "name\tdescription\nantiviral\tinterferon response; expresses IFN0 and IFN1\n"
        "translating\tribosome; expresses RIB0, RIB1\nmatrix\tcollagen; expresses ECM0 and ECM2\n"
    )
    out = tmp_path / "m.h5ad"
    # markers only, not refined: needs neither gene nor cell embeddings
    rc = main(["annotate", str(files / "cells.h5ad"), "--labels-file", str(labels), "--method", "markers", "--refine", "0",
               "--smooth", "0", "-o", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "antiviral: IFN0, IFN1" in text and "raw counts" in text
    a = ad.read_h5ad(out)
    assert (a.obs["genept_zero_shot"].astype(str) == a.obs["cell_type"]).all()
    assert a.uns["genept_zero_shot"]["marker_genes"].loc["matrix", "genes"] == "ECM0, ECM2"
    # the default (text + markers + refine) from the same file given to --labels
    rc = main(["annotate", str(files / "cells.h5ad"), "--labels", str(labels), "--genes", str(files / "genes.npz"),
               "--encoder", "hashing:128", "-o", str(tmp_path / "d.h5ad")])  # fmt: skip
    assert rc == 0
    d = ad.read_h5ad(tmp_path / "d.h5ad")
    assert (d.obs["genept_zero_shot"].astype(str) == d.obs["cell_type"]).all()
    params = d.uns["genept_zero_shot"]["params"]
    assert params["refine"] == 0 and params["smooth"] == 10 and params["markers"]
    rc = main(["annotate", str(files / "cells.h5ad"), "--labels-file", str(labels), "--labels", "a: x", "b: y", "-o", str(out)])
    assert rc == 2 and "not both" in capsys.readouterr().err
    rc = main(["annotate", str(files / "cells.h5ad"), "--labels-file", str(tmp_path / "none.tsv"), "-o", str(out)])
    assert rc == 2 and "does not exist" in capsys.readouterr().err
    rc = main(["annotate", str(files / "cells.h5ad"), "--labels-file", str(labels), "--method", "markers", "-o", str(out)])
    assert rc == 2 and "--smooth 0 --refine 0" in capsys.readouterr().err
