"""The GenePT paper's published numbers, as data: every value with its source, table and protocol.

These numbers were **not re-measured** by genept. Reports show them beside genept's measured rows,
marked as published, and a measured row replaces the published one when the user gives that
system's own file (``genept bench genes --embeddings scgpt=FILE.npz``, ``genept bench cells
--obsm X_scGPT``; :func:`seed_system` decides which name stands for which system).

Sources (numbers only, no code):

- ``PAPER``: Chen & Zou, *GenePT*, bioRxiv 10.1101/2023.10.16.562533, v2 (2024-03-05).
- Tables 2 and C4 were read from the public transcription ``benchmarks/paper_tracking.md`` of the
  GitHub repository ``arusli1/GenePT`` (commit 0063025).
- GenePT's own gene-level numbers were read from the outputs stored in the authors' notebooks
  (``yiqunchen/GenePT``, ``gene_level_task_table_1.ipynb`` and ``gene_level_task_figure_2.ipynb``,
  commit 45a36bc), the code behind Table 1 and Fig. 2.
- The other Table 1 rows (Geneformer, Gene2vec, BioLinkBERT, random) come from a public
  transcription of Table 1; the Geneformer row is Theodoris et al., *Nature* 618 (2023), Fig. 2-3,
  which the paper quotes and which was checked there (0.93 +- 0.07, 0.88 +- 0.09, 0.74 +- 0.08).

A value of ``None`` means the paper reports no number for that system on that task; the report
says so in words.

Examples
--------
>>> v = lookup("cells:kmeans", "scGPT", "Pancreas / cell type", "ari")
>>> v.value, v.table
(0.21, 'Table 2')
>>> seed_system("X_scGPT"), seed_system("genept_w:genept"), seed_system("genept_w:minilm")
('scGPT', 'GenePT-w', None)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

#: The systems every report gives a row on every paper task (measured or published).
SYSTEMS_GENE: tuple[str, ...] = ("GenePT", "Geneformer", "scGPT", "Gene2vec", "BioLinkBERT")
SYSTEMS_CELL: tuple[str, ...] = ("GenePT-w", "GenePT-s", "Geneformer", "scGPT", "Gene2vec", "BioLinkBERT", "Ensemble")

PAPER = "Chen & Zou, GenePT, bioRxiv 10.1101/2023.10.16.562533 v2 (2024-03-05)"
VIA_TRACKING = "github.com/arusli1/GenePT benchmarks/paper_tracking.md @0063025 (transcription of Tables 2 and C4)"
VIA_NOTEBOOK = "github.com/yiqunchen/GenePT notebooks @45a36bc (stored cell outputs)"
VIA_TABLE1 = "public transcription of Table 1; Geneformer row checked against Theodoris et al., Nature 618 (2023), Fig. 2-3"
VIA_DATA_README = "../shared/data/README.md (GenePT notebooks)"

# -- protocols, in words ----------------------------------------------------------------------------
P_TABLE2 = "k-means, k = number of labels; ARI and AMI of clusters vs labels, ASW of the labels (one run)"
P_C4 = "10-NN majority vote (cosine) trained on a random 80% of cells, scored on 20%; macro precision, recall, F1"
P_TABLE1 = "5-fold stratified CV ROC-AUC (mean +- sd over folds); GenePT and Gene2vec: logistic regression or random forest on frozen embeddings; Geneformer: fine-tuned model"
P_CLASSES = "15 gene functional classes (Geneformer gene types); logistic regression, random 70/30 split, accuracy"
P_GGI = "Gene2vec GGI pairs; logistic regression on the sum of the two gene embeddings, ROC-AUC on the test split"

#: The four binary gene-property tasks of Table 1, with the words that identify a label file for each.
PROPERTY_TASKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "property:dosage": ("dosage-sensitive vs insensitive TFs", ("dosage",)),
    "property:bivalent_vs_nonmethylated": ("bivalent vs non-methylated", ("non_methyl", "nonmethyl", "unmethyl", "no_methyl")),
    "property:bivalent_vs_lys4": ("bivalent vs Lys4-only methylated", ("lys4", "lysine", "k4")),
    "property:tf_range": ("long- vs short-range TFs", ("range",)),
}

#: Table 2 / C4 datasets, in the paper's order ("dataset / annotation").
TABLE2_DATASETS: tuple[str, ...] = (
    "Aorta / phenotype", "Aorta / cell type", "Artery / cell type", "Bones / cell type", "Myeloid / cancer type",
    "Myeloid / cell type", "Pancreas / cell type", "Multiple Sclerosis / age", "Multiple Sclerosis / cell type",
)  # fmt: skip
C4_DATASETS: tuple[str, ...] = ("Aorta", "Artery", "Bones", "Myeloid", "Pancreas", "Multiple Sclerosis")


@dataclass(frozen=True)
class PublishedValue:
    """One published number (or a documented absence of one).

    Attributes
    ----------
    task
        ``"cells:kmeans"`` (Table 2), ``"cells:knn"`` (Table C4), ``"classes"``, ``"ggi"`` or one of
        :data:`PROPERTY_TASKS`.
    dataset
        The dataset (and annotation) the number is about.
    system
        One of :data:`SYSTEMS_GENE` / :data:`SYSTEMS_CELL` (or ``"Random embedding"``).
    metric
        ``"ari"``, ``"ami"``, ``"asw"``, ``"accuracy"``, ``"precision_macro"``, ``"recall_macro"``,
        ``"f1_macro"``, ``"auc"``, ``"auc_logreg"``, ``"auc_rf"``.
    value, sd
        The number and its spread (``None`` when the paper gives none).
    source, table, protocol, via
        Where it was published, which table or figure, how it was measured, and where genept read it.
    note
        Anything a reader must know to compare it (different split, subset, ...).
    """

    task: str
    dataset: str
    system: str
    metric: str
    value: float | None
    sd: float | None
    source: str
    table: str
    protocol: str
    via: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def _rows() -> list[PublishedValue]:
    out: list[PublishedValue] = []
    # Table 2: ARI / AMI / ASW per dataset (Geneformer, scGPT, GenePT-w, GenePT-s).
    t2 = {
        "Aorta / phenotype": ((0.10, 0.12, -0.005), (0.12, 0.12, 0.01), (0.09, 0.12, -0.04), (0.12, 0.11, 0.02)),
        "Aorta / cell type": ((0.21, 0.31, -0.04), (0.47, 0.64, 0.18), (0.54, 0.60, 0.03), (0.31, 0.47, 0.04)),
        "Artery / cell type": ((0.39, 0.59, 0.10), (0.36, 0.59, 0.15), (0.42, 0.67, 0.16), (0.36, 0.56, 0.06)),
        "Bones / cell type": ((0.09, 0.16, -0.01), (0.12, 0.21, -0.01), (0.21, 0.29, 0.02), (0.17, 0.28, 0.003)),
        "Myeloid / cancer type": ((0.16, 0.18, 0.03), (0.27, 0.29, 0.08), (0.25, 0.27, 0.02), (0.17, 0.17, 0.06)),
        "Myeloid / cell type": ((0.19, 0.29, -0.02), (0.44, 0.53, 0.13), (0.21, 0.28, 0.001), (0.30, 0.41, 0.03)),
        "Pancreas / cell type": ((0.04, 0.11, -0.09), (0.21, 0.41, 0.05), (0.49, 0.69, 0.15), (0.30, 0.50, 0.10)),
        "Multiple Sclerosis / age": ((0.04, 0.11, -0.10), (0.04, 0.11, -0.06), (0.07, 0.13, -0.07), (0.06, 0.12, -0.03)),
        "Multiple Sclerosis / cell type": ((0.21, 0.35, -0.05), (0.25, 0.44, 0.04), (0.17, 0.32, -0.02), (0.19, 0.35, 0.002)),
    }
    for dataset, values in t2.items():
        for system, triple in zip(("Geneformer", "scGPT", "GenePT-w", "GenePT-s"), values, strict=True):
            for metric, v in zip(("ari", "ami", "asw"), triple, strict=True):
                out.append(PublishedValue("cells:kmeans", dataset, system, metric, v, None, PAPER, "Table 2", P_TABLE2, VIA_TRACKING))
    # Table C4: accuracy / precision / recall / F1 (macro) per dataset.
    c4 = {
        "Aorta": {"scGPT": (0.95, 0.95, 0.93, 0.93), "Geneformer": (0.86, 0.70, 0.60, 0.62), "GenePT-w": (0.88, 0.91, 0.68, 0.72),
                  "GenePT-s": (0.86, 0.70, 0.60, 0.62), "Ensemble": (0.93, 0.95, 0.82, 0.86)},
        "Artery": {"scGPT": (0.94, 0.92, 0.89, 0.90), "Geneformer": (0.93, 0.91, 0.84, 0.87), "GenePT-w": (0.95, 0.92, 0.87, 0.88),
                   "GenePT-s": (0.92, 0.88, 0.82, 0.84), "Ensemble": (0.95, 0.93, 0.88, 0.90)},
        "Bones": {"scGPT": (0.34, 0.36, 0.48, 0.25), "Geneformer": (0.22, 0.28, 0.37, 0.17), "GenePT-w": (0.49, 0.49, 0.60, 0.36),
                  "GenePT-s": (0.37, 0.37, 0.49, 0.28), "Ensemble": (0.45, 0.43, 0.57, 0.33)},
        "Myeloid": {"scGPT": (0.53, 0.34, 0.29, 0.30), "Geneformer": (0.44, 0.26, 0.18, 0.20), "GenePT-w": (0.50, 0.35, 0.30, 0.31),
                    "GenePT-s": (0.52, 0.33, 0.27, 0.28), "Ensemble": (0.55, 0.38, 0.34, 0.35)},
        "Pancreas": {"scGPT": (0.77, 0.61, 0.56, 0.55), "Geneformer": (0.50, 0.25, 0.34, 0.27), "GenePT-w": (0.95, 0.76, 0.65, 0.66),
                     "GenePT-s": (0.89, 0.65, 0.53, 0.56), "Ensemble": (0.95, 0.80, 0.67, 0.70)},
        "Multiple Sclerosis": {"scGPT": (0.76, 0.67, 0.62, 0.61), "Geneformer": (0.44, 0.47, 0.36, 0.34),
                               "GenePT-w": (0.38, 0.46, 0.28, 0.24), "GenePT-s": (0.49, 0.50, 0.41, 0.40),
                               "Ensemble": (0.72, 0.66, 0.57, 0.55)},
    }  # fmt: skip
    for dataset, per_system in c4.items():
        for system, four in per_system.items():
            note = "Ensemble = scGPT + GenePT-w + GenePT-s" if system == "Ensemble" else ""
            if dataset == "Aorta" and system == "GenePT-s":
                note = "identical to the Geneformer row in the transcription; check against the paper's PDF before relying on it"
            for metric, v in zip(("accuracy", "precision_macro", "recall_macro", "f1_macro"), four, strict=True):
                out.append(PublishedValue("cells:knn", dataset, system, metric, v, None, PAPER, "Table C4", P_C4, VIA_TRACKING, note))
    # Table 1: the four binary property tasks, ROC-AUC mean +- sd over 5 folds.
    t1: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {
        ("Geneformer", "auc"): ((0.91, 0.02), (0.93, 0.07), (0.88, 0.09), (0.74, 0.08)),
        ("Gene2vec", "auc_logreg"): ((0.91, 0.03), (0.66, 0.07), (0.91, 0.04), (0.83, 0.14)),
        ("BioLinkBERT", "auc_rf"): ((0.87, 0.02), (0.80, 0.06), (0.85, 0.07), (0.54, 0.23)),
        ("Random embedding", "auc_logreg"): ((0.54, 0.04), (0.59, 0.03), (0.46, 0.07), (0.36, 0.16)),
    }
    for (system, metric), cells in t1.items():
        note = "fine-tuned Geneformer (Theodoris et al. 2023), not a frozen embedding" if system == "Geneformer" else ""
        for task, (v, sd) in zip(PROPERTY_TASKS, cells, strict=True):
            out.append(PublishedValue(task, PROPERTY_TASKS[task][0], system, metric, v, sd, PAPER, "Table 1", P_TABLE1, VIA_TABLE1, note))
    genept_nb = {  # gene_level_task_table_1.ipynb outputs: (LR mean, sd), (RF mean, sd)
        "property:dosage": ((0.889, 0.030), (0.899, 0.031)),
        "property:bivalent_vs_nonmethylated": ((0.912, 0.062), (0.922, 0.059)),
        "property:bivalent_vs_lys4": ((0.941, 0.034), (0.952, 0.036)),
        "property:tf_range": ((0.726, 0.261), (0.635, 0.070)),
    }
    for task, ((lr, lr_sd), (rf, rf_sd)) in genept_nb.items():
        note = "the Table 1 transcription gives 0.92 +- 0.02 for random forest" if task == "property:dosage" else ""
        out.append(PublishedValue(task, PROPERTY_TASKS[task][0], "GenePT", "auc_logreg", lr, lr_sd, PAPER, "Table 1", P_TABLE1, VIA_NOTEBOOK))
        out.append(PublishedValue(task, PROPERTY_TASKS[task][0], "GenePT", "auc_rf", rf, rf_sd, PAPER, "Table 1", P_TABLE1, VIA_NOTEBOOK, note))
    # 15 functional classes (Fig. 2b / Section 4.1).
    out.append(PublishedValue("classes", "15 gene functional classes", "GenePT", "accuracy", 0.956, None, PAPER, "Fig. 2b", P_CLASSES, VIA_NOTEBOOK))
    out.append(
        PublishedValue(
            "classes", "15 gene functional classes", "Gene2vec", "accuracy", 0.86, None, PAPER, "Section 4.1", P_CLASSES, VIA_TABLE1,
            "5-fold CV on the ~21,000 genes Gene2vec covers (GenePT 0.95 on that subset): not the 70/30 split",
        )
    )  # fmt: skip
    # Gene-gene interactions (Fig. 2c).
    out.append(PublishedValue("ggi", "Gene2vec GGI", "GenePT", "auc", 0.82, None, PAPER, "Fig. 2c", P_GGI, VIA_TABLE1, "the notebook gives 0.83"))
    out.append(PublishedValue("ggi", "Gene2vec GGI", "Gene2vec", "auc", 0.67, None, PAPER, "Fig. 2c", P_GGI, VIA_DATA_README))
    for system in ("scGPT", "Geneformer"):
        out.append(
            PublishedValue(
                "ggi", "Gene2vec GGI", system, "auc", None, None, PAPER, "Fig. 2c", P_GGI, VIA_TABLE1,
                "the text gives 0.65-0.67 for Gene2vec, scGPT and Geneformer; the per-system value was not transcribed",
            )
        )  # fmt: skip
    out.append(PublishedValue("ggi", "Gene2vec GGI", "Random embedding", "auc", 0.51, None, PAPER, "Fig. 2c", P_GGI, VIA_TABLE1, "the notebook gives 0.49"))
    return out


#: Every published value (and documented gap), in one flat tuple.
PUBLISHED_VALUES: tuple[PublishedValue, ...] = tuple(_rows())


def published(task: str | None = None, *, system: str | None = None, dataset: str | None = None) -> list[PublishedValue]:
    """The published values matching every given filter (all when none is given).

    Examples
    --------
    >>> len(published("cells:knn", system="Ensemble", dataset="Pancreas"))
    4
    """
    return [
        v for v in PUBLISHED_VALUES
        if (task is None or v.task == task) and (system is None or v.system == system) and (dataset is None or v.dataset == dataset)
    ]  # fmt: skip


def lookup(task: str, system: str, dataset: str | None, metric: str) -> PublishedValue | None:
    """The published value for one cell of a table, or ``None`` when the paper reports none.

    Examples
    --------
    >>> lookup("ggi", "BioLinkBERT", None, "auc") is None
    True
    """
    for v in PUBLISHED_VALUES:
        if v.task == task and v.system == system and v.metric == metric and (dataset is None or v.dataset == dataset):
            return v
    return None


def missing_reason(task: str, system: str) -> str:
    """Why a system has no published number on a task, in words for the report.

    Examples
    --------
    >>> missing_reason("ggi", "BioLinkBERT")
    'not reported in the paper'
    """
    if task.startswith("cells:") and system in ("Gene2vec", "BioLinkBERT"):
        return "not evaluated on cells in the paper"
    if task == "cells:kmeans" and system == "Ensemble":
        return "not reported (the ensemble is in Table C4 only)"
    gaps = [v for v in published(task, system=system) if v.value is None]
    if gaps and gaps[0].note:
        return f"no single value ({gaps[0].note})"
    return "not reported in the paper"


_ALIASES = {
    "scgpt": "scGPT",
    "geneformer": "Geneformer",
    "gene2vec": "Gene2vec",
    "biolinkbert": "BioLinkBERT",
    "genept": "GenePT",
    "geneptada": "GenePT",
    "geneptada002": "GenePT",
    "ada002": "GenePT",
    "geneptv1": "GenePT",
    "geneptv2": "GenePT",
    "geneptw": "GenePT-w",
    "genepts": "GenePT-s",
    "ensemble": "Ensemble",
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def seed_system(name: str, *, level: str = "cell") -> str | None:
    """Which of the paper's systems a measured row stands for, from its name; ``None`` for genept's own rows.

    Gene embeddings (``bench genes --embeddings NAME=FILE``): ``scgpt``, ``geneformer``,
    ``gene2vec``, ``biolinkbert`` and ``genept`` (GenePT's ada-002 file; also ``genept-ada``,
    ``genept_v2``...). Cell rows: an ``obsm`` key such as ``X_scGPT`` or ``X_geneformer``;
    ``genept_w:NAME`` / ``genept_s:NAME`` are GenePT-w / GenePT-s only when ``NAME`` is GenePT's
    own embeddings or the ada-002 encoder (GenePT-w over MiniLM vectors is genept's, not the
    paper's); ``ensemble...`` rows are the paper's ensemble.

    Examples
    --------
    >>> seed_system("scgpt", level="gene"), seed_system("X_geneformer"), seed_system("genept_s:openai:text-embedding-ada-002")
    ('scGPT', 'Geneformer', 'GenePT-s')
    >>> seed_system("genept_w:genept", level="gene") is None  # not a gene-embedding name
    True
    """
    if level not in ("gene", "cell"):
        raise ValueError(f"level must be 'gene' or 'cell', not {level!r}")
    method, sep, rest = name.partition(":")
    if sep and method in ("genept_w", "genept_s"):
        if level == "gene":
            return None
        inner = _key(rest)
        if _ALIASES.get(inner) == "GenePT" or "ada002" in inner:
            return "GenePT-w" if method == "genept_w" else "GenePT-s"
        return None
    if name.lower().startswith("ensemble"):
        return "Ensemble" if level == "cell" else None
    key = _key(name.removeprefix("X_").removeprefix("x_"))
    system = _ALIASES.get(key)
    if system is None:
        return None
    if level == "gene":
        return system if system in SYSTEMS_GENE else None
    return system if system in SYSTEMS_CELL else None


def property_task(label_file: str) -> str | None:
    """The Table 1 task a label file stands for, from its name (``None`` when none matches).

    Examples
    --------
    >>> property_task("dosage_sensitive_tfs.tsv"), property_task("bivalent_vs_lys4_only.tsv"), property_task("mine.tsv")
    ('property:dosage', 'property:bivalent_vs_lys4', None)
    """
    name = label_file.lower().rsplit("/", 1)[-1]
    for task, (_, words) in PROPERTY_TASKS.items():
        if any(w in name for w in words):
            return task
    return None


__all__ = [
    "C4_DATASETS",
    "PAPER",
    "PROPERTY_TASKS",
    "PUBLISHED_VALUES",
    "SYSTEMS_CELL",
    "SYSTEMS_GENE",
    "TABLE2_DATASETS",
    "PublishedValue",
    "lookup",
    "missing_reason",
    "property_task",
    "published",
    "seed_system",
]
