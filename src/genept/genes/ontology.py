"""Gene Ontology files, read in one place: annotation tables, term tables and the term graph.

Every GO reader of genept goes through this module: the corpus (GO term names as gene text,
:mod:`genept.genes.sources.go`), enrichment of gene programs (:func:`read_go_sets`) and the GO
evaluation task (:func:`load_go`, :func:`propagate_annotations`).

Tables are TSV or CSV (by suffix), optionally gzipped, with case-insensitive column names:

- annotations: ``symbol``, ``go_id`` and optionally ``evidence``, ``ontology``, ``term``
  (e.g. ``go_annotations_human_2022.tsv.gz``);
- terms: ``go_id``, ``term`` and optionally ``ontology`` (e.g. ``go_terms_2022.tsv.gz``);
- parents: ``child_go_id``, ``parent_go_id``, ``relationship_type`` and optionally ``ontology``
  (e.g. ``go_parents_2022.tsv.gz``).

Ontology names are normalised to ``BP``, ``MF`` and ``CC`` (``biological_process``, ``P`` ...
are accepted).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

ONTOLOGIES = ("BP", "MF", "CC")
ONTOLOGY_ALIASES = {
    "BP": "BP", "P": "BP", "BIOLOGICAL_PROCESS": "BP", "PROCESS": "BP",
    "MF": "MF", "F": "MF", "MOLECULAR_FUNCTION": "MF", "FUNCTION": "MF",
    "CC": "CC", "C": "CC", "CELLULAR_COMPONENT": "CC", "COMPONENT": "CC",
}  # fmt: skip
#: File names of the 2022 GO release in the shared data folder (see :func:`load_go`).
GO_FILES = {
    "annotations": "go_annotations_human_2022.tsv.gz",
    "parents": "go_parents_2022.tsv.gz",
    "terms": "go_terms_2022.tsv.gz",
}


def read_table(path: str | Path, need: Sequence[str] = (), *, hint: str = "") -> pd.DataFrame:
    """Read a GO table as strings (TSV, or CSV when the name ends in ``.csv[.gz]``), columns lower-cased.

    Parameters
    ----------
    path
        The file.
    need
        Columns that must be present.
    hint
        Added to the error message when a column is missing (what the table should be).

    Raises
    ------
    ValueError
        A column of ``need`` is missing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ann.tsv"
    >>> _ = path.write_text("Symbol\\tGO_ID\\nINS\\tGO:0030073\\n")
    >>> read_table(path, ["symbol", "go_id"]).to_dict("records")
    [{'symbol': 'INS', 'go_id': 'GO:0030073'}]
    """
    path = Path(path)
    sep = "," if path.name.removesuffix(".gz").endswith(".csv") else "\t"
    table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    table.columns = [c.strip().lower() for c in table.columns]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing} (columns are {list(table.columns)})" + (f"; {hint}" if hint else ""))
    return table


def normalize_ontologies(values: Iterable[str]) -> list[str]:
    """``BP``/``MF``/``CC`` for each ontology name; unknown names are upper-cased as they are.

    Examples
    --------
    >>> normalize_ontologies(["biological_process", "F", "cc", "xx"])
    ['BP', 'MF', 'CC', 'XX']
    """
    return [ONTOLOGY_ALIASES.get(str(v).strip().upper(), str(v).strip().upper()) for v in values]


def find_terms_file(annotations: str | Path) -> Path:
    """The single ``go_terms*.tsv[.gz]`` / ``.csv[.gz]`` file beside an annotation file.

    Raises
    ------
    ValueError
        None or several such files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "go_terms_2022.tsv").write_text("go_id\\tterm\\n")
    >>> find_terms_file(folder / "go_annotations.tsv").name
    'go_terms_2022.tsv'
    """
    annotations = Path(annotations)
    found = sorted(annotations.parent.glob("go_terms*.[tc]sv*"))
    if len(found) != 1:
        raise ValueError(
            f"{annotations} has no 'term' column and no single go_terms*.tsv[.gz] file lies beside it "
            f"(found {[f.name for f in found]}); pass the GO term table as `terms` (CLI: go:ANNOTATIONS:TERMS)."
        )
    return found[0]


def read_annotations(annotations: str | Path, terms: str | Path | None = None) -> pd.DataFrame:
    """A gene-to-GO annotation table with term names and ontologies filled in from a term table.

    Parameters
    ----------
    annotations
        Table with ``symbol``, ``go_id`` and optionally ``evidence``, ``ontology``, ``term``.
    terms
        Term table (``go_id``, ``term``, optionally ``ontology``) for the names and ontologies the
        annotations lack.

    Returns
    -------
    DataFrame
        One row per annotation line, columns ``symbol``, ``go_id``, ``evidence``, ``ontology``
        (``BP``/``MF``/``CC``) and ``term``, each ``""`` where unknown, plus any other column of
        the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ann.tsv").write_text("symbol\\tgo_id\\tevidence\\nINS\\tGO:0030073\\tIDA\\n")
    >>> _ = (folder / "terms.tsv").write_text("go_id\\tterm\\tontology\\nGO:0030073\\tinsulin secretion\\tbiological_process\\n")
    >>> read_annotations(folder / "ann.tsv", folder / "terms.tsv")[["symbol", "term", "ontology"]].to_dict("records")
    [{'symbol': 'INS', 'term': 'insulin secretion', 'ontology': 'BP'}]
    """
    ann = read_table(annotations, ["symbol", "go_id"], hint="expected one row per gene and GO term")
    ann["symbol"] = ann["symbol"].str.strip()
    for column in ("evidence", "ontology", "term"):
        if column not in ann.columns:
            ann[column] = ""
    return add_term_names(ann, terms) if terms is not None else _normalize_column(ann)


def add_term_names(annotations: pd.DataFrame, terms: str | Path) -> pd.DataFrame:
    """Fill the blank ``term`` and ``ontology`` cells of an annotation table from a term table.

    Parameters
    ----------
    annotations
        Output of :func:`read_annotations` (or any frame with ``go_id``, ``term``, ``ontology``).
    terms
        Term table: ``go_id``, ``term`` and optionally ``ontology``.

    Returns
    -------
    DataFrame
        A copy of ``annotations``, ontologies normalised to ``BP``/``MF``/``CC``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "terms.csv"
    >>> _ = path.write_text("go_id,term,ontology\\nGO:1,nucleus,C\\n")
    >>> ann = pd.DataFrame({"symbol": ["A"], "go_id": ["GO:1"], "term": [""], "ontology": [""]})
    >>> add_term_names(ann, path)[["term", "ontology"]].to_dict("records")
    [{'term': 'nucleus', 'ontology': 'CC'}]
    """
    ann = annotations.copy()
    tt = read_table(terms, ["go_id", "term"], hint="expected a GO term table (go_id, term[, ontology])")
    tt = tt.drop_duplicates("go_id").set_index("go_id")
    blank = ann["term"].str.strip() == ""
    ann.loc[blank, "term"] = ann.loc[blank, "go_id"].map(tt["term"]).fillna("")
    if "ontology" in tt.columns:
        blank = ann["ontology"].str.strip() == ""
        ann.loc[blank, "ontology"] = ann.loc[blank, "go_id"].map(tt["ontology"]).fillna("")
    return _normalize_column(ann)


def _normalize_column(ann: pd.DataFrame) -> pd.DataFrame:
    ann["ontology"] = [o if not o else n for o, n in zip(ann["ontology"], normalize_ontologies(ann["ontology"]), strict=True)]
    return ann


def load_go(data_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The GO files of a data folder: ``annotations``, ``parents`` and (when present) ``terms``.

    Reads :data:`GO_FILES` (the 2022 release: ``go_annotations_human_2022.tsv.gz``,
    ``go_parents_2022.tsv.gz``, ``go_terms_2022.tsv.gz``) as tables of strings.

    Examples
    --------
    >>> go = load_go("../shared/data/genes")  # doctest: +SKIP
    >>> sorted(go)  # doctest: +SKIP
    ['annotations', 'parents', 'terms']
    """
    data_dir = Path(data_dir)
    out = {}
    for key, name in GO_FILES.items():
        path = data_dir / name
        if key == "terms" and not path.exists():
            continue  # term names only label the report
        out[key] = read_table(path)
    return out


def propagate_annotations(
    annotations: pd.DataFrame,
    parents: pd.DataFrame,
    *,
    relations: Iterable[str] = ("isa", "part of"),
) -> pd.DataFrame:
    """Add every ancestor term of each annotation (the GO true-path rule over ``relations``).

    ``regulates`` edges are not followed by default: regulating a process is not being part of it.

    Parameters
    ----------
    annotations
        Columns ``symbol``, ``go_id``, ``ontology``.
    parents
        Columns ``child_go_id``, ``parent_go_id``, ``relationship_type``, ``ontology``.
    relations
        Relationship types followed upwards.

    Returns
    -------
    DataFrame
        De-duplicated ``symbol``, ``go_id``, ``ontology``, sorted.

    Examples
    --------
    >>> ann = pd.DataFrame({"symbol": ["INS"], "go_id": ["GO:2"], "ontology": ["BP"]})
    >>> parents = pd.DataFrame({"child_go_id": ["GO:2"], "parent_go_id": ["GO:1"],
    ...                         "relationship_type": ["isa"], "ontology": ["BP"]})
    >>> propagate_annotations(ann, parents)["go_id"].tolist()
    ['GO:1', 'GO:2']
    """
    edges = parents[parents["relationship_type"].isin(list(relations))]
    up: dict[str, list[str]] = defaultdict(list)
    for child, parent in zip(edges["child_go_id"], edges["parent_go_id"], strict=True):
        up[child].append(parent)
    memo: dict[str, frozenset[str]] = {}

    def ancestors(term: str) -> frozenset[str]:
        # Iterative DFS: the GO graph is ~15 levels deep but recursion per term is wasteful.
        if term in memo:
            return memo[term]
        stack, seen = [term], {term}
        while stack:
            for p in up.get(stack.pop(), ()):
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        memo[term] = frozenset(seen)
        return memo[term]

    ont = dict(zip(parents["parent_go_id"], parents["ontology"], strict=True))
    ont.update(zip(parents["child_go_id"], parents["ontology"], strict=True))
    ont.update(zip(annotations["go_id"], annotations["ontology"], strict=True))
    pairs = {(g, a) for g, t in zip(annotations["symbol"], annotations["go_id"], strict=True) for a in ancestors(t)}
    frame = pd.DataFrame(sorted(pairs), columns=["symbol", "go_id"])
    frame["ontology"] = frame["go_id"].map(ont).fillna("")
    return frame


def read_go_sets(
    annotations: str | Path,
    terms: str | Path | None = None,
    parents: str | Path | None = None,
    *,
    ontologies: Sequence[str] = ("BP",),
    exclude_evidence: Sequence[str] = ("ND",),
) -> tuple[pd.DataFrame, dict[str, str]]:
    """GO gene sets for enrichment tests (:func:`genept.text.enrichment.program_enrichment`).

    Parameters
    ----------
    annotations
        Annotation table (``symbol``, ``go_id``, optionally ``evidence``, ``ontology``).
    terms
        Term table (``go_id``, ``term``, optionally ``ontology``): term names.
    parents
        Term graph (``child_go_id``, ``parent_go_id``, ``relationship_type``): when given, every
        annotation is propagated to its ``is_a`` / ``part_of`` ancestors (the GO true-path rule),
        as enrichment tools do; direct annotations alone miss most general terms.
    ontologies
        GO branches kept (``BP``, ``MF``, ``CC``).
    exclude_evidence
        Evidence codes dropped (``ND``: no biological data).

    Returns
    -------
    tuple
        ``(table, names)``: a long table (``symbol``, ``go_id``) and ``{go_id: term name}``.

    Raises
    ------
    ValueError
        A missing column, no ontology information while a subset of branches is asked for, or
        no annotation left.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ann.tsv").write_text("symbol\\tgo_id\\nINS\\tGO:2\\nGCG\\tGO:3\\n")
    >>> _ = (folder / "terms.tsv").write_text("go_id\\tterm\\tontology\\nGO:1\\thormone secretion\\tBP\\n"
    ...                                      "GO:2\\tinsulin secretion\\tBP\\nGO:3\\tnucleus\\tCC\\n")
    >>> _ = (folder / "parents.tsv").write_text("child_go_id\\tparent_go_id\\trelationship_type\\nGO:2\\tGO:1\\tisa\\n")
    >>> table, names = read_go_sets(folder / "ann.tsv", folder / "terms.tsv", folder / "parents.tsv")
    >>> table.to_dict("records"), names["GO:1"]
    ([{'symbol': 'INS', 'go_id': 'GO:1'}, {'symbol': 'INS', 'go_id': 'GO:2'}], 'hormone secretion')
    """
    ann = read_annotations(annotations)
    ann = ann[~ann["evidence"].isin(list(exclude_evidence))]
    names: dict[str, str] = {}
    ontology = {g: o for g, o in zip(ann["go_id"], ann["ontology"], strict=True) if o}
    if terms is not None:
        tt = read_table(terms, ["go_id", "term"], hint="expected a GO term table (go_id, term[, ontology])").drop_duplicates("go_id")
        names = dict(zip(tt["go_id"], tt["term"], strict=True))
        if "ontology" in tt.columns:
            ontology.update((g, o) for g, o in zip(tt["go_id"], normalize_ontologies(tt["ontology"]), strict=True) if o)
    ann = ann[["symbol", "go_id"]].drop_duplicates()
    if parents is not None:
        edges = read_table(parents, ["child_go_id", "parent_go_id", "relationship_type"])
        if "ontology" not in edges.columns:
            edges["ontology"] = edges["child_go_id"].map(ontology).fillna("")
        edges["ontology"] = [o if not o else n for o, n in zip(edges["ontology"], normalize_ontologies(edges["ontology"]), strict=True)]
        ann = ann.assign(ontology=ann["go_id"].map(ontology).fillna(""))
        ann = propagate_annotations(ann, edges)[["symbol", "go_id"]]
        ontology = {**{g: o for g, o in zip(edges["parent_go_id"], edges["ontology"], strict=True) if o}, **ontology}
    wanted = set(normalize_ontologies(ontologies))
    if ontology:
        ann = ann[ann["go_id"].map(ontology).fillna("").isin(wanted)]
    elif wanted != set(ONTOLOGIES):
        raise ValueError("no ontology column in the annotations or terms table; cannot keep only " + ", ".join(sorted(wanted)))
    if ann.empty:
        raise ValueError(f"no GO annotation left in {annotations} for ontologies {sorted(wanted)}")
    return ann.reset_index(drop=True), names


__all__ = [
    "GO_FILES",
    "add_term_names",
    "ONTOLOGIES",
    "ONTOLOGY_ALIASES",
    "find_terms_file",
    "load_go",
    "normalize_ontologies",
    "propagate_annotations",
    "read_annotations",
    "read_go_sets",
    "read_table",
]
