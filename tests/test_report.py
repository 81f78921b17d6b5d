"""Report folder: results.json (strict JSON, provenance), report.md (tables, published numbers), PNGs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from genept.evaluation.cells import evaluate_cells
from genept._serialize import to_jsonable as _clean
from genept.evaluation.report import plot_confusion, plot_umaps, provenance, write_report


def gene_results() -> dict:
    cov = {
        "n_genes": 100,
        "n_with_embedding": 80,
        "fraction": 0.8,
        "n_conflicting_labels": 2,
        "n_duplicates_merged": 3,
        "n_used": 75,
        "n_missing_type": 4,
    }
    classes = {
        "accuracy": 0.9,
        "f1_macro": 0.8,
        "classes": ["a", "b"],
        "class_sizes": {"a": 40, "b": 35},
        "confusion_matrix": [[10, 2], [1, 9]],
        "n_train": 53,
        "n_test": 22,
        "coverage": cov,
    }
    ggi_cov = {
        "n_genes": 50,
        "n_with_embedding": 40,
        "fraction": 0.8,
        "n_pairs_train": 1000,
        "n_pairs_train_used": 700,
        "n_pairs_test": 100,
        "n_pairs_test_used": 70,
    }
    go = {
        "auc": {"median": 0.7, "q1": 0.6, "q3": 0.8, "n": 3},
        "by_ontology": {"BP": {"median": 0.7, "q1": 0.6, "q3": 0.8, "n": 3}},
        "per_term": {"GO:1": 0.7, "GO:2": float("nan")},
        "n_terms_eligible": 3,
        "n_terms": 3,
        "alpha": [10.0],
        "coverage": cov,
    }
    prop = {"n_pos": 30, "n_neg": 45, "coverage": cov, "logreg": {"auc": {"mean": 0.81, "sd": 0.02, "n": 5}, "folds": [0.8] * 5}}
    return {
        "tasks": {
            "classes": {"emb": classes, "random:emb": classes},
            "ggi": {"emb": {"coverage": ggi_cov, "sum": {"auc": 0.77}, "product": {"auc": 0.7}}},
            "go": {"emb": go},
            "property:tfs.tsv": {"emb": prop},
        },
        "skipped": {},
        "settings": {"seed": 0, "go_propagate": False, "go_max_terms": None},
    }


def test_clean_makes_strict_json():
    out = _clean({"a": np.float32(0.5), "b": [np.int64(3), float("nan")], 1: np.arange(2), "c": (float("inf"),)})
    assert out == {"a": 0.5, "b": [3, None], "1": [0, 1], "c": [None]}
    json.dumps(out, allow_nan=False)


def test_provenance_records_command_versions_and_date():
    meta = provenance(["genept", "bench", "genes"])
    assert meta["command"] == "genept bench genes"
    assert {"numpy", "scanpy", "scikit-learn", "genept"} <= set(meta["versions"]) and meta["date"][:2] == "20"
    assert meta["git_commit"] is None or len(meta["git_commit"]) >= 7


def test_write_report_gene_and_cell_sections(tmp_path):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(loc=c, size=(20, 4)) for c in (0, 5)]).astype(np.float32)
    y = np.repeat(["t1", "t2"], 20)
    cells = evaluate_cells({"genept_w:emb": X, "pca": X[:, :2]}, y, batch=np.tile(["d1", "d2"], 20), n_seeds=1, resolutions=(1.0,))
    entry = {
        "results": cells,
        "embeddings": {
            "genept_w:emb": {
                "source": "test",
                "dim": 4,
                "coverage": {"n_genes": 10, "n_genes_embedded": 8, "fraction_expression_lost": 0.1},
            },
            "pca": {"source": "pca", "dim": 2},
        },
        "label_key": "cell_type",
        "batch_key": "donor",
    }
    report = write_report(tmp_path / "rep", genes=gene_results(), cells={"toy": entry}, command="genept bench test")
    text = report.read_text()
    data = json.loads((tmp_path / "rep" / "results.json").read_text())  # strict: NaN became null
    assert data["meta"]["command"] == "genept bench test" and data["genes"]["tasks"]["go"]["emb"]["per_term"]["GO:2"] is None
    assert data["cells"]["toy"]["results"]["tasks"]["pca"]["knn"]["cv"]["accuracy"]["n"] == 5
    # published numbers beside ours, labelled as such
    assert "0.956" in text and "GenePT ada-002 (published, not re-measured; Fig. 2c) | n/a | n/a | n/a | 0.82" in text
    assert "| emb | 75 / 100 | 2 | 22 | 0.900 | 0.800 |" in text
    assert "0.810 ± 0.020" in text and "### toy" in text and "`cell_type`" in text
    assert "8 / 10 genes embedded, 10.0% of counts" in text
    pngs = sorted(p.name for p in (tmp_path / "rep").glob("*.png"))
    assert pngs == [
        "confusion_gene_types_emb.png",
        "confusion_gene_types_random_emb.png",
        "confusion_toy_genept_w_emb.png",
        "confusion_toy_pca.png",
    ]
    for p in pngs:
        assert f"]({p})" in text
    assert not list((tmp_path / "rep").glob(".*tmp*"))  # no temporary files left behind


def test_plot_confusion_and_umaps(tmp_path):
    path = plot_confusion([[3, 1], [0, 4]], ["a", "b"], tmp_path / "cm.png", title="t")
    assert path.read_bytes()[:4] == b"\x89PNG"
    rng = np.random.default_rng(0)
    obs = pd.DataFrame(
        {"cell_type": np.repeat(["x", "y"], 15), "donor": np.tile(["d1", "d2", "d3"], 10)}, index=[f"c{i}" for i in range(30)]
    )
    files = plot_umaps({"emb a": rng.normal(size=(30, 5))}, obs, ["cell_type", "donor"], tmp_path, prefix="toy_")
    assert files == {"emb a": "toy_umap_emb_a.png"} and (tmp_path / "toy_umap_emb_a.png").read_bytes()[:4] == b"\x89PNG"


def test_write_report_nothing_but_reference(tmp_path):
    report = write_report(tmp_path, command="x")
    assert "Published reference numbers" in report.read_text()
    assert json.loads((tmp_path / "results.json").read_text())["genes"] is None
