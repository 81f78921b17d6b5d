"""Benchmark reports: ``results.json`` (every number, seeds, versions, command), ``report.md`` and
``report.html`` (the same content as one self-contained page, figures embedded; see
:mod:`genept.evaluation.html`).

GenePT's published numbers (OpenAI ada-002 embeddings, from the paper and its notebooks) are
shown beside ours where the task matches, labelled as published and not re-measured here.
"""

from __future__ import annotations

import datetime as _dt
import math
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from genept._serialize import dump_json
from genept._utils import atomic_path, atomic_write
from genept.evaluation.published import (
    C4_DATASETS,
    PROPERTY_TASKS,
    PUBLISHED_VALUES,
    SYSTEMS_CELL,
    SYSTEMS_GENE,
    TABLE2_DATASETS,
    lookup,
    missing_reason,
    property_task,
    seed_system,
)

PUBLISHED_LABEL = "GenePT ada-002 (published, not re-measured)"

#: GenePT's published numbers (OpenAI text-embedding-ada-002), from the paper and its notebooks.
PUBLISHED: dict[str, Any] = {
    "ggi": {"GenePT ada-002": 0.83, "Gene2vec": 0.67, "random embedding": 0.49},
    "classes": {"accuracy": 0.956, "n_classes": 15},
    "property": {
        "dosage-sensitive TFs": (0.889, 0.899),
        "bivalent vs non-methylated": (0.912, 0.922),
        "bivalent vs Lys4-only": (0.941, 0.952),
        "long vs short range TFs": (0.726, 0.635),
    },
    "cells_hpancreas": {"kmeans_ari": 0.49, "kmeans_ami": 0.69, "knn_f1_macro": 0.66},
}

_PACKAGES = (
    "genept", "numpy", "scipy", "pandas", "scikit-learn", "scanpy", "anndata", "igraph", "leidenalg",
    "umap-learn", "pynndescent", "torch", "sentence-transformers", "model2vec", "scib-metrics", "jax",
)  # fmt: skip


def provenance(command: str | Sequence[str] | None = None) -> dict[str, Any]:
    """Date, exact command, git commit of the genept sources (if in a checkout), package versions.

    ``command`` defaults to ``sys.argv``; a list is joined with spaces. Packages that are not
    installed are left out of ``versions``.

    Examples
    --------
    >>> meta = provenance(["genept", "bench", "cells"])
    >>> sorted(meta), meta["command"], "numpy" in meta["versions"]
    (['command', 'date', 'git_commit', 'platform', 'python', 'versions'], 'genept bench cells', True)
    """
    if command is None:
        command = sys.argv
    if not isinstance(command, str):
        command = " ".join(str(c) for c in command)
    versions = {}
    for pkg in _PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    commit = None
    src = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
        if head.returncode == 0:
            dirty = subprocess.run(
                ["git", "-C", str(src), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            commit = head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "git_commit": commit,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


# -- figures ---------------------------------------------------------------------------------
def plot_confusion(matrix, classes: Sequence[str], path: str | Path, *, title: str = "") -> Path:
    """Save a row-normalised confusion matrix (counts annotated) as a PNG, atomically; returns the path.

    Rows are true classes, columns predicted ones (as ``sklearn.metrics.confusion_matrix``).

    Examples
    --------
    >>> path = plot_confusion([[4, 1], [0, 5]], ["B", "T"], "confusion.png", title="toy")
    >>> path.name, path.read_bytes()[1:4]
    ('confusion.png', b'PNG')
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    M = np.asarray(matrix, dtype=np.float64)
    rows = M.sum(axis=1, keepdims=True)
    frac = np.divide(M, rows, out=np.zeros_like(M), where=rows > 0)
    n = len(classes)
    size = max(4.0, 0.45 * n + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), classes, rotation=90, fontsize=8)
    ax.set_yticks(range(n), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if M[i, j]:
                    ax.text(j, i, int(M[i, j]), ha="center", va="center", fontsize=6, color="white" if frac[i, j] > 0.5 else "black")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of true class")
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    plt.close(fig)
    return path


def plot_umaps(
    embeddings: Mapping[str, np.ndarray],
    obs,
    colors: Sequence[str],
    out_dir: str | Path,
    *,
    prefix: str = "",
    seed: int = 0,
) -> dict[str, str]:
    """One PNG per embedding: UMAP (cosine neighbours) coloured by each ``obs`` column in ``colors``.

    Returns ``{embedding: file name}`` (relative to ``out_dir``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> obs = pd.DataFrame({"cell_type": np.repeat(["T", "B"], 15)})
    >>> # skipped under doctest: numba compiles UMAP on first use (~45 s CPU)
    >>> plot_umaps({"toy": rng.normal(size=(30, 5))}, obs, ["cell_type"], ".")  # doctest: +SKIP
    {'toy': 'umap_toy.png'}
    """
    import anndata as ad
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from genept.cells.layout import umap_coordinates
    from genept.pl import umap

    out_dir = Path(out_dir)
    files = {}
    for name, X in embeddings.items():
        work = ad.AnnData(obs=obs[list(colors)].copy(), obsm={"X_rep_umap": umap_coordinates(X, random_state=seed)})
        work.obs_names = [str(i) for i in range(work.n_obs)]
        fname = f"{prefix}umap_{_slug(name)}.png"
        fig = umap(work, "X_rep", color=list(colors), path=out_dir / fname, title=[f"{name}: {c}" for c in colors])
        plt.close(fig)
        files[name] = fname
    return files


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


# -- markdown --------------------------------------------------------------------------------
def _f(x: Any, nd: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{nd}f}"


def _pm(ms: Mapping[str, Any] | None, nd: int = 3) -> str:
    if not ms:
        return "n/a"
    return f"{_f(ms.get('mean'), nd)} ± {_f(ms.get('sd'), nd)}"


def _cov(c: Mapping[str, Any]) -> str:
    return f"{c.get('n_used', c.get('n_with_embedding', 0)):,} / {c.get('n_genes', 0):,}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


# -- the GenePT paper's published rows (genept.evaluation.published) -------------------------
def _measured(name: str, level: str = "gene") -> str:
    """A measured row's label; names the paper's system when the row stands for one (``scgpt`` -> scGPT)."""
    system = seed_system(name, level=level)
    return f"{name} (measured; {system})" if system else name


def _pub(v: Any, sd: Any = None, suffix: str = "") -> str:
    text = f"{v:g}" + (f" ± {sd:g}" if sd is not None else "")
    return text + suffix


def _published_rows(
    task: str, measured: Mapping[str, Any], columns: Mapping[str, int], *, n: int = 1, level: str = "gene"
) -> list[tuple[str, list[str]]]:
    """One row per paper system without a measured row: ``(label, cells)``, each cell a published value or why there is none.

    ``columns`` maps a published metric to its cell index among ``n`` cells. A system the user
    measured (a row whose name :func:`seed_system` reads as it) gets no published row.
    """
    done = {seed_system(name, level=level) for name in measured}
    out = []
    for system in (*SYSTEMS_GENE, "Random embedding"):
        if system in done:
            continue
        cells, tables = ["n/a"] * n, []
        for metric, col in columns.items():
            v = lookup(task, system, None, metric)
            if v is not None and v.value is not None:
                cells[col] = _pub(v.value, v.sd, " (fine-tuned)" if system == "Geneformer" and metric == "auc" else "")
                tables.append(v.table)
        name = "GenePT ada-002" if system == "GenePT" else system
        if tables:
            out.append((f"{name} (published, not re-measured; {tables[0]})", cells))
        elif system != "Random embedding":
            out.append((f"{name} (published, not re-measured)", [missing_reason(task, system)] + ["n/a"] * (n - 1)))
    return out


def _gene_markdown(genes: Mapping[str, Any], figures: Mapping[str, str]) -> list[str]:
    tasks = genes.get("tasks", {})
    out = ["## Gene-level tasks", ""]
    out.append(
        "Coverage = genes with an embedding / genes in the task. `random:<name>` = Gaussian unit vectors "
        "for the same genes and dimension (fixed seed), scored the same way."
    )
    out.append("")
    if "classes" in tasks:
        out += ["### Gene functional classes (Ensembl gene type; logistic regression, stratified 70/30)", ""]
        rows = []
        for name, r in tasks["classes"].items():
            c = r["coverage"]
            rows.append([_measured(name), _cov(c), len(r["classes"]), r["n_test"], _f(r["accuracy"]), _f(r["f1_macro"])])
        for label, pub in _published_rows("classes", tasks["classes"], {"accuracy": 0}):
            rows.append([label, "n/a", 15, "n/a", pub[0], "n/a"])
        out += _table(["embedding", "genes used / with a type", "classes (>75 genes)", "test genes", "accuracy", "macro F1"], rows)
        first = next(iter(tasks["classes"].values()))
        c = first["coverage"]
        out.append(
            f"Names listed under two or more types (dropped): {c['n_conflicting_labels']:,}; duplicate rows merged: "
            f"{c['n_duplicates_merged']:,}; rows without a type: {c.get('n_missing_type', 0):,}. Classes: "
            + ", ".join(f"{k} ({v:,})" for k, v in first["class_sizes"].items())
            + ". GenePT's 15 classes include many non-coding types; here a type counts only when more than 75 of its genes "
            "have an embedding, so the class set depends on the embedding's gene coverage."
        )
        out.append("")
        for name, f in figures.get("classes", {}).items():
            out.append(f"![confusion matrix, gene types, {name}]({f})")
        out.append("")
    if "ggi" in tasks:
        out += ["### Gene-gene interactions (Gene2vec pairs; logistic regression on train, ROC-AUC on test)", ""]
        rows = []
        for name, r in tasks["ggi"].items():
            c = r["coverage"]
            rows.append([
                _measured(name), f"{c['n_with_embedding']:,} / {c['n_genes']:,}",
                f"{c['n_pairs_train_used']:,} / {c['n_pairs_train']:,}", f"{c['n_pairs_test_used']:,} / {c['n_pairs_test']:,}",
                _f(r.get("sum", {}).get("auc")), _f(r.get("product", {}).get("auc")),
            ])  # fmt: skip
        for label, pub in _published_rows("ggi", tasks["ggi"], {"auc": 0}):
            rows.append([label, "n/a", "n/a", "n/a", pub[0], "n/a"])
        out += _table(["embedding", "genes", "train pairs used", "test pairs used", "AUC (sum)", "AUC (product)"], rows)
        out.append("Pairs with a gene lacking an embedding are dropped, so published and measured numbers use different pair sets.")
        out.append("")
    if "go" in tasks:
        out += ["### GO term membership (one-vs-rest ridge, 5-fold CV, per-term ROC-AUC on out-of-fold scores)", ""]
        rows = []
        for name, r in tasks["go"].items():
            a = r["auc"]
            by = r["by_ontology"]
            rows.append([
                name, _cov(r["coverage"]), f"{r['n_terms']:,} / {r['n_terms_eligible']:,}",
                f"{_f(a['median'])} [{_f(a['q1'])}, {_f(a['q3'])}]",
                *(_f(by.get(o, {}).get("median")) for o in ("BP", "MF", "CC")),
            ])  # fmt: skip
        out += _table(["embedding", "genes used / annotated", "terms evaluated / eligible", "median AUC [IQR]", "BP", "MF", "CC"], rows)
        settings = genes.get("settings", {})
        out.append(
            f"Terms with 20..500 annotated embedded genes; annotations {'propagated to ancestors (is_a, part_of)' if settings.get('go_propagate') else 'direct (not propagated)'}; "
            "evidence ND excluded"
            + (f"; {settings['go_max_terms']:,} terms sampled (fixed seed)" if settings.get("go_max_terms") else "")
            + "."
        )
        out.append("")
    props = [t for t in tasks if t.startswith("property:")]
    for task in props:
        out += [f"### Binary gene property `{task.split(':', 1)[1]}` (5-fold stratified CV, ROC-AUC mean ± sd)", ""]
        rows = []
        for name, r in tasks[task].items():
            rows.append(
                [
                    _measured(name),
                    _cov(r["coverage"]),
                    f"{r['n_pos']:,} / {r['n_neg']:,}",
                    _pm(r.get("logreg", {}).get("auc")),
                    _pm(r.get("random_forest", {}).get("auc")),
                ]
            )
        paper_task = property_task(task.split(":", 1)[1])
        if paper_task:  # the same label set as one of the paper's Table 1 tasks
            for label, pub in _published_rows(paper_task, tasks[task], {"auc_logreg": 0, "auc_rf": 1, "auc": 0}, n=2):
                rows.append([label, "n/a", "n/a", *pub])
        out += _table(["embedding", "genes used / listed", "positive / negative", "logistic regression", "random forest"], rows)
    if genes.get("skipped"):
        out.append("Skipped: " + "; ".join(f"{k} ({v})" for k, v in genes["skipped"].items()))
        out.append("")
    return out


def _cell_markdown(dataset: str, entry: Mapping[str, Any], figures: Mapping[str, Any]) -> list[str]:
    res = entry["results"]
    info = entry.get("embeddings", {})
    s = res["settings"]
    out = [f"### {dataset}", ""]
    desc = f"{s['n_cells']:,} cells, label `{entry.get('label_key', 'label')}` ({len(s['labels'])} classes)"
    if s.get("batches"):
        desc += f", batch `{entry.get('batch_key', 'batch')}` ({len(s['batches'])})"
    out += [desc + ".", ""]
    rows = []
    has_batch = bool(s.get("batches"))
    for name, r in res["tasks"].items():
        knn, km, ld = r["knn"], r["kmeans"], r["leiden"]
        row = [
            name, info.get(name, {}).get("dim", ""),
            _pm(knn["cv"]["accuracy"]), _pm(knn["cv"]["f1_macro"]), _f(knn["holdout"]["f1_macro"]),
            _pm(km["ari"]), _pm(km["ami"]),
            f"{_f(ld['best_ari']['ari'])} ({ld['best_ari']['resolution']:g})", f"{_f(ld['best_ami']['ami'])} ({ld['best_ami']['resolution']:g})",
            _f(r["silhouette"]),
        ]  # fmt: skip
        if has_batch:
            bm = r["batch_mixing"]
            row += [f"{_f(bm['same_batch'])} ({_f(bm['expected'])})", _pm(km.get("batch_ari"))]
        rows.append(row)
    knn, cv = f"{s['k']}-NN", f"{s['n_splits']}-fold"
    header = [
        "embedding",
        "dim",
        f"{knn} accuracy ({cv})",
        f"{knn} macro F1 ({cv})",
        f"{knn} macro F1 (80/20)",
        "k-means ARI",
        "k-means AMI",
        "Leiden best ARI (res.)",
        "Leiden best AMI (res.)",
        "ASW (cosine)",
    ]
    if has_batch:
        header += ["same-batch kNN share (random)", "k-means ARI vs batch"]
    out += _table(header, rows)
    cov_lines = []
    for name, i in info.items():
        line = f"- `{name}`: {i.get('source', '')}"
        c = i.get("coverage")
        if c:
            line += f"; {c['n_genes_embedded']:,} / {c['n_genes']:,} genes embedded"
            if "fraction_expression_lost" in c:  # GenePT-w
                line += f", {100 * c['fraction_expression_lost']:.1f}% of counts on genes without one"
            if "n_hvg" in c:  # GenePT-scaled
                line += f"; {c['n_hvg_embedded']:,} / {c['n_hvg']:,} highly variable genes embedded, {c['n_comps']} components"
        cov_lines.append(line)
    out += ["Embeddings:", *cov_lines, ""]
    if res.get("scib"):
        metrics = list(next(iter(res["scib"].values())))
        rows = [[name, *(_f(v.get(m)) for m in metrics)] for name, v in res["scib"].items()]
        out += ["scib-metrics (embeddings reduced to 50 PCs; PCA baseline as the unintegrated reference; not min-max scaled):", ""]
        out += _table(["embedding", *metrics], rows)
    for note in res.get("notes", []):
        out += [f"Note: {note}", ""]
    for name, f in figures.get("umap", {}).items():
        out.append(f"![UMAP {dataset} {name}]({f})")
    for name, f in figures.get("confusion", {}).items():
        out.append(f"![kNN confusion (held-out cells) {dataset} {name}]({f})")
    out.append("")
    return out


def render_markdown(
    *,
    genes: Mapping[str, Any] | None = None,
    cells: Mapping[str, Mapping[str, Any]] | None = None,
    meta: Mapping[str, Any] | None = None,
    figures: Mapping[str, Any] | None = None,
    title: str = "genept benchmark report",
    inputs: Mapping[str, Any] | None = None,
    extra: str | None = None,
    reference: bool = True,
) -> str:
    """The report as Markdown (see :func:`write_report` for the arguments; ``meta`` is :func:`provenance`).

    Examples
    --------
    >>> render_markdown(title="toy report", inputs={"cells": "toy.h5ad"}, reference=False)
    '# toy report\\n\\n## Input\\n\\n- cells: toy.h5ad\\n'
    """
    figures = figures or {}
    meta = meta or {}
    out = [f"# {title}", ""]
    if meta:
        out += [
            f"- date: {meta.get('date')}",
            f"- command: `{meta.get('command')}`",
            f"- git commit: {meta.get('git_commit') or 'n/a'}",
            f"- python: {meta.get('python', 'n/a')} on {meta.get('platform', 'n/a')}",
            "- versions: " + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items()),
            "",
        ]
    described = _describe_inputs(genes, cells, inputs)
    if described:
        out += ["## Input", ""]
        out += [f"- {k}: {v}" for k, v in described.items()]
        out.append("")
    if extra:
        out += [extra.rstrip(), ""]
    if genes:
        out += _gene_markdown(genes, figures.get("genes", {}))
    if cells:
        out += ["## Cell-level tasks", ""]
        s0 = next(iter(cells.values()))["results"]["settings"]
        out.append(
            f"{s0['k']}-NN: cosine majority vote, stratified {s0['n_splits']}-fold CV (mean ± sd over folds) and one "
            f"stratified 80/20 split. k-means: k = number of labels, {s0['n_seeds']} seeds (mean ± sd). Leiden: scanpy "
            "cosine kNN graph (15 neighbours), best over resolutions "
            f"{', '.join(f'{r:g}' for r in s0['resolutions'])} (chosen with the labels, so optimistic). ASW: silhouette "
            f"of the labels, cosine, in [-1, 1]. Same-batch kNN share: share of each cell's {s0['k']} neighbours from its "
            "own batch, beside the share expected for random neighbours, sum_b n_b(n_b-1) / (N(N-1)). `random_w:<name>` = "
            "GenePT-w from Gaussian gene vectors (same genes and dimension); `pca` = normalize_total, log1p, 2000 HVG, 50 PCs."
        )
        out.append("")
        for dataset, entry in cells.items():
            out += _cell_markdown(dataset, entry, figures.get("cells", {}).get(dataset, {}))
    if reference:
        out += _reference_markdown(genes, cells)
    return "\n".join(out)


def _reference_markdown(genes: Mapping[str, Any] | None, cells: Mapping[str, Any] | None) -> list[str]:
    """Published GenePT numbers, worded after the tasks this run actually scored."""
    out = ["## Published reference numbers (GenePT, OpenAI ada-002; not re-measured here)", ""]
    published = "; ".join(f"{k} {lr:.3f} / {rf:.3f}" for k, (lr, rf) in PUBLISHED["property"].items())
    ran = [t.split(":", 1)[1] for t in (genes or {}).get("tasks", {}) if t.startswith("property:")]
    if ran:
        out.append(
            "Gene property tasks, 5-fold CV ROC-AUC (logistic regression / random forest), on GenePT's four label sets: "
            f"{published}. This run scored the label file{'s' if len(ran) > 1 else ''} "
            + ", ".join(f"`{r}`" for r in ran)
            + " (tables above); compare a row with a published number only when it is the same label set."
        )
        out.append("")
    elif genes is not None or cells is None:
        out.append(
            "Gene property tasks, 5-fold CV ROC-AUC (logistic regression / random forest), on GenePT's four label sets, "
            f"none of which this run scored (give them with `--labels`): {published}."
        )
        out.append("")
    if cells is not None or genes is None:
        pc = PUBLISHED["cells_hpancreas"]
        out.append(
            f"Cell level on hPancreas (a different dataset from the cells here): GenePT-w k-means ARI {pc['kmeans_ari']:.2f} / "
            f"AMI {pc['kmeans_ami']:.2f}, 10-NN macro F1 {pc['knn_f1_macro']:.2f}; raw-expression PCA is a strong baseline that "
            "GenePT-w does not always beat."
        )
        out.append("")
    if genes is not None or cells is None:
        out += published_gene_markdown()
    if cells is not None or genes is None:
        out += published_cell_markdown()
    return out


def published_gene_markdown() -> list[str]:
    """The paper's gene-level numbers for every seed system, as one table (a gap says why).

    Examples
    --------
    >>> lines = published_gene_markdown()
    >>> lines[0]
    "### The paper's gene-level numbers (published, not re-measured)"
    >>> lines[4].split(" | ")[:2]
    ['| GenePT ada-002', '0.956 (Fig. 2b)']
    """
    cols = [("classes", "accuracy", "15 classes, accuracy"), ("ggi", "auc", "GGI, ROC-AUC")]
    cols += [(t, "", f"{name} (LR / RF)") for t, (name, _) in PROPERTY_TASKS.items()]
    rows = []
    for system in (*SYSTEMS_GENE, "Random embedding"):
        row = ["GenePT ada-002" if system == "GenePT" else system]
        for task, metric, _ in cols:
            if metric:
                v = lookup(task, system, None, metric)
                row.append(_pub(v.value, v.sd) + f" ({v.table})" if v and v.value is not None else missing_reason(task, system))
                continue
            vals = {m: lookup(task, system, None, m) for m in ("auc_logreg", "auc_rf", "auc")}
            if vals["auc"] is not None:
                row.append(_pub(vals["auc"].value, vals["auc"].sd, " (fine-tuned)"))
            elif vals["auc_logreg"] or vals["auc_rf"]:
                row.append(" / ".join(_pub(v.value, v.sd) if v else "n/a" for v in (vals["auc_logreg"], vals["auc_rf"])))
            else:
                row.append(missing_reason(task, system))
        rows.append(row)
    out = ["### The paper's gene-level numbers (published, not re-measured)", ""]
    out += _table(["system", *(c[2] for c in cols)], rows)
    out += _sources([v for v in PUBLISHED_VALUES if not v.task.startswith("cells:")])
    return out


def _cell_value(task: str, system: str, dataset: str, metrics: Sequence[str]) -> str:
    vals = [lookup(task, system, dataset, m) for m in metrics]
    if all(v is None or v.value is None for v in vals):
        return "not reported" if not missing_reason(task, system).startswith("not evaluated") else "not evaluated"
    return " / ".join(_pub(v.value) if v is not None and v.value is not None else "n/a" for v in vals)


def published_cell_markdown(measured: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None, dataset: str | None = None) -> list[str]:
    """Tables 2 and C4 of the paper for every seed system; with ``measured`` ({system: (row name, paper-protocol result)}),
    a first column holds this run's measured values, and those systems' rows are marked measured.

    Examples
    --------
    >>> published_cell_markdown()[0]
    "### The paper's Table 2: k-means, ARI / AMI / ASW"
    """
    out = []
    here = f"this run: {dataset} (measured)" if dataset else "this run (measured)"
    for task, title, datasets, metrics, names in (
        ("cells:kmeans", "Table 2: k-means, ARI / AMI / ASW", TABLE2_DATASETS, ("ari", "ami", "asw"), "ARI / AMI / ASW"),
        ("cells:knn", "Table C4: 10-NN, accuracy / macro precision / recall / F1", C4_DATASETS,
         ("accuracy", "precision_macro", "recall_macro", "f1_macro"), "acc. / P / R / F1"),
    ):  # fmt: skip
        rows = []
        for system in SYSTEMS_CELL:
            row = [system]
            if measured is not None:
                if system in measured:
                    name, r = measured[system]
                    part = r["kmeans"] if task == "cells:kmeans" else r["knn"]
                    row += [f"measured (`{name}`); published beside it", " / ".join(_f(part[m], 2) for m in metrics)]
                elif system in ("Gene2vec", "BioLinkBERT"):
                    row += ["no cell-level row in the paper", "not measured: " + _how_to_measure(system)]
                else:
                    row += ["published, not re-measured", "not measured: " + _how_to_measure(system)]
            row += [_cell_value(task, system, d, metrics) for d in datasets]
            rows.append(row)
        header = ["system"] + (["row", here] if measured is not None else []) + [f"{d} (published)" for d in datasets]
        out += [f"### The paper's {title}", "", f"Each cell: {names}. Gene2vec and BioLinkBERT were not evaluated on cells in the paper.", ""]
        out += _table(header, rows)
    out += _sources([v for v in PUBLISHED_VALUES if v.task.startswith("cells:")])
    return out


def paper_cells_markdown(dataset: str, entry: Mapping[str, Any]) -> str:
    """The report section of ``bench cells --protocol genept-paper``: measured rows, then Tables 2 and C4 beside them.

    ``entry`` = ``{"results": evaluate_paper(...), "embeddings": info, "label_key": ...}``. A row whose
    name stands for one of the paper's systems (:func:`~genept.evaluation.published.seed_system`:
    ``X_scGPT``, ``genept_w:genept``, ``ensemble``, ...) fills that system's "this run" column;
    the other systems keep their published rows.

    Examples
    --------
    >>> from genept.evaluation.paper import evaluate_paper
    >>> labels = np.repeat(["T", "B"], 20)
    >>> X = np.random.default_rng(0).normal(size=(40, 8)) + (labels == "T")[:, None] * 3
    >>> entry = {"results": evaluate_paper({"genept_w:genept": X}, labels), "embeddings": {"genept_w:genept": {"dim": 8}}}
    >>> md = paper_cells_markdown("toy", entry)
    >>> [line for line in md.splitlines() if line.startswith("| genept_w:genept")]
    ['| genept_w:genept | GenePT-w | 8 | 1.000 | 1.000 | 0.583 | 1.000 | 1.000 | 1.000 | 1.000 |']
    """
    res, info = entry["results"], entry.get("embeddings", {})
    s = res["settings"]
    out = ["## Cell-level tasks, the GenePT paper's protocol", ""]
    out.append(
        f"{s['n_cells']:,} cells, label `{entry.get('label_key', 'label')}` ({len(s['labels'])} classes). k-means: k = number of "
        f"labels, one run (seed {s['seed']}, {s['n_init']} restarts); ARI and AMI of the clusters against the labels; ASW = "
        f"silhouette of the labels ({s['asw_metric']}), in [-1, 1]. {s['k']}-NN: cosine majority vote trained on a random "
        f"{100 - round(100 * s['test_size'])}% of the cells ({'stratified' if s['stratify'] else 'not stratified'}, seed "
        f"{s['seed']}), scored on the rest; precision, recall and F1 are macro averages. Every embedding uses the same split."
    )
    out.append("")
    rows, measured = [], {}
    for name, r in res["tasks"].items():
        system = seed_system(name)
        if system and system not in measured:
            measured[system] = (name, r)
        km, kn = r["kmeans"], r["knn"]
        rows.append([
            name, system or "-", info.get(name, {}).get("dim", ""), _f(km["ari"]), _f(km["ami"]), _f(km["asw"]),
            _f(kn["accuracy"]), _f(kn["precision_macro"]), _f(kn["recall_macro"]), _f(kn["f1_macro"]),
        ])  # fmt: skip
    out += [f"### {dataset} (measured)", ""]
    out += _table(["embedding", "paper system", "dim", "ARI", "AMI", "ASW", "accuracy", "precision", "recall", "F1"], rows)
    out += ["Embeddings:", *(f"- `{name}`: {i.get('source', '')}" for name, i in info.items()), ""]
    out += [
        "The paper's datasets are not these cells: its published numbers below are context, not a target. A system's "
        "row becomes measured here when its own embedding is given (`--obsm X_scGPT`, `--obsm X_geneformer`, "
        "`--genes genept=GenePT_ada.npz`, `--sentence-encoder openai:text-embedding-ada-002`).",
        "",
    ]
    out += published_cell_markdown(measured, dataset)
    return "\n".join(out)


def _how_to_measure(system: str) -> str:
    return {
        "scGPT": "pass `--obsm X_scGPT`",
        "Geneformer": "pass `--obsm X_geneformer`",
        "GenePT-w": "pass `--genes genept=GenePT_ada.npz`",
        "GenePT-s": "pass `--sentence-encoder openai:text-embedding-ada-002`",
        "Ensemble": "needs two of GenePT-w, GenePT-s, scGPT",
    }.get(system, "no cell embedding of its own")


def _sources(values: Sequence[Any]) -> list[str]:
    tables: dict[str, dict[str, Any]] = {}
    notes: dict[tuple[str, str], list[str]] = {}
    for v in values:
        t = tables.setdefault(v.table, {"value": v, "via": []})
        if v.via not in t["via"]:
            t["via"].append(v.via)
        if v.note and v.dataset not in notes.setdefault((v.system, v.note), []):
            notes[(v.system, v.note)].append(v.dataset)
    lines = [f"Sources (numbers not re-measured by genept), all from {values[0].source}:" if values else "Sources:"]
    lines += [f"- {table}: {t['value'].protocol}; read from {' and '.join(t['via'])}." for table, t in tables.items()]
    lines += [f"- Note, {system} ({', '.join(ds)}): {note}." for (system, note), ds in notes.items()]
    return lines + [""]


def _describe_inputs(
    genes: Mapping[str, Any] | None, cells: Mapping[str, Mapping[str, Any]] | None, inputs: Mapping[str, Any] | None
) -> dict[str, str]:
    """``{what: description}`` of the data this report is about: given ``inputs`` first, then what results record."""
    out = {str(k): str(v) for k, v in (inputs or {}).items()}
    if genes:
        settings = genes.get("settings", {})
        for name, e in settings.get("embeddings", {}).items():
            enc = e.get("meta", {}).get("encoder")
            out.setdefault(f"gene embeddings `{name}`", f"{e.get('n_genes', 0):,} genes x {e.get('dim')}" + (f", encoder {enc}" if enc else ""))
        if settings.get("label_files"):
            out.setdefault("label files", ", ".join(f"`{f}`" for f in settings["label_files"]))
    for dataset, entry in (cells or {}).items():
        s = entry.get("results", {}).get("settings", {})
        desc = f"{s.get('n_cells', 0):,} cells"
        if entry.get("file"):
            desc = f"`{entry['file']}`, " + desc
        desc += f", labels `{entry.get('label_key', 'label')}`"
        if entry.get("batch_key"):
            desc += f", batches `{entry['batch_key']}`"
        if entry.get("input"):
            desc += f"; expression taken as: {entry['input']}"
        out.setdefault(f"cells `{dataset}`", desc)
    return out


def write_report(
    out_dir: str | Path,
    *,
    genes: Mapping[str, Any] | None = None,
    cells: Mapping[str, Mapping[str, Any]] | None = None,
    umaps: Mapping[str, Mapping[str, str]] | None = None,
    command: str | Sequence[str] | None = None,
    confusion_figures: bool = True,
    title: str = "genept benchmark report",
    inputs: Mapping[str, Any] | None = None,
    extra: str | None = None,
    reference: bool = True,
    payload: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``report.md``, ``report.html``, ``results.json`` and confusion-matrix PNGs into ``out_dir``.

    ``report.html`` holds the same text as ``report.md``, with every figure embedded (base64 PNG),
    so it opens offline in any browser and can be shared as one file.

    Parameters
    ----------
    genes
        Output of :func:`~genept.evaluation.genes.evaluate_genes`.
    cells
        ``{dataset: {"results": evaluate_cells(...), "embeddings": info from cell_embeddings,
        "label_key": ..., "batch_key": ...}}``.
    umaps
        ``{dataset: {embedding: png file name in out_dir}}`` from :func:`plot_umaps`.
    command
        The command to record (default ``sys.argv``).
    inputs
        ``{what: description}`` of the input data, shown first in the report's "Input" section
        (cell files, label and batch keys and gene embeddings are added from the results).
    extra
        More Markdown for the report (tables, ``![caption](file.png)`` lines naming PNGs in
        ``out_dir``), placed after the input section; used by the demo.
    reference
        Add GenePT's published numbers at the end.
    payload
        More JSON-ready data for ``results.json`` (under ``"extra"``).

    Returns
    -------
    Path
        ``report.md`` (``report.html`` and ``results.json`` lie beside it).

    Examples
    --------
    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> md = write_report(out, command="genept demo", inputs={"data": "toy"}, extra="| a | b |\\n|---|---|\\n| 1 | 2 |")
    >>> sorted(p.name for p in md.parent.iterdir())
    ['report.html', 'report.md', 'results.json']
    >>> "<td>1</td>" in (md.parent / "report.html").read_text()
    True
    """
    from genept.evaluation.html import markdown_to_html

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = provenance(command)
    figures: dict[str, Any] = {"genes": {}, "cells": {}}
    if confusion_figures and genes and "classes" in genes.get("tasks", {}):
        for name, r in genes["tasks"]["classes"].items():
            fname = f"confusion_gene_types_{_slug(name)}.png"
            plot_confusion(r["confusion_matrix"], r["classes"], out_dir / fname, title=f"gene types, {name} (test set)")
            figures["genes"].setdefault("classes", {})[name] = fname
    for dataset, entry in (cells or {}).items():
        figs: dict[str, dict[str, str]] = {"umap": dict((umaps or {}).get(dataset, {})), "confusion": {}}
        if confusion_figures:
            for name, r in entry["results"]["tasks"].items():
                h = r["knn"]["holdout"]
                fname = f"confusion_{_slug(dataset)}_{_slug(name)}.png"
                plot_confusion(
                    h["confusion_matrix"], h["classes"], out_dir / fname, title=f"{dataset}, {name}: {r['knn']['k']}-NN, held-out cells"
                )
                figs["confusion"][name] = fname
        figures["cells"][dataset] = figs
    record = {"meta": meta, "inputs": dict(inputs or {}), "genes": genes, "cells": cells, "figures": figures}
    if payload is not None:
        record["extra"] = payload
    dump_json(out_dir / "results.json", record)
    text = render_markdown(
        genes=genes, cells=cells, meta=meta, figures=figures, title=title, inputs=inputs, extra=extra, reference=reference
    )
    with atomic_write(out_dir / "report.md", "w") as fh:
        fh.write(text)
    with atomic_write(out_dir / "report.html", "w") as fh:
        fh.write(markdown_to_html(text, base_dir=out_dir, title=title))
    return out_dir / "report.md"


__all__ = ["PUBLISHED", "plot_confusion", "plot_umaps", "provenance", "render_markdown", "write_report"]
