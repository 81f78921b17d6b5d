"""Gene Ontology term names per gene, to enrich the texts of genes without a written summary.

Reads a gene-to-GO annotation table (one row per gene and GO term) and, unless the table already
carries term names, a GO term table. Both may be TSV or CSV, optionally gzipped, for example
the NCBI ``gene2go``-derived ``go_annotations_human_2022.tsv.gz`` (``entrez_id``, ``symbol``,
``go_id``, ``evidence``, ``ontology``) and ``go_terms_2022.tsv.gz`` (``go_id``, ``ontology``,
``term``, ``definition``).

Defaults, chosen for what a text encoder can use:

- Only the term *names* go into the text (``"insulin secretion"``), never GO ids or definitions:
  ids carry no meaning for a language model and definitions would crowd out everything else.
- Left out: the three root terms (``biological_process`` ...), ``protein binding``
  (GO:0005515, on 60% of human genes, which the GO Consortium itself calls uninformative) and
  annotations with evidence ``ND`` (no biological data). Electronic annotations (``IEA``) are
  kept because for the poorly studied genes that lack a summary they are often all there is,
  but they come after every annotation made by a curator or an experiment.
- One entry per term (the best evidence wins), in a stable order: curated before electronic;
  within each, the ontologies take turns (the most specific Biological Process, Molecular
  Function and Cellular Component term, then the next of each, ...), where *specific* means
  carried by the fewest genes in the file (highest information content); ties go by term name.
  A heavily annotated gene's first terms thus say what it does, in which process and where,
  and generic terms such as ``nucleus`` come last, the first to be cut when a template keeps
  only the first few (:class:`~genept.genes.corpus.TextTemplate` keeps 15). Of the human genes
  in the 2022 files that have no RefSeq summary, 90% have 15 terms or fewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from genept.genes.facts import GeneFacts
from genept.genes.ontology import add_term_names, find_terms_file, normalize_ontologies, read_annotations

#: The ontology roots and the one term the GO Consortium flags as uninformative on its own.
DEFAULT_EXCLUDE_TERMS = ("GO:0008150", "GO:0003674", "GO:0005575", "GO:0005515")
#: Evidence codes of computational annotations that no curator reviewed.
ELECTRONIC_EVIDENCE = ("IEA",)


def read_go_facts(
    annotations: str | Path,
    terms: str | Path | None = None,
    *,
    ontologies: Sequence[str] = ("BP", "MF", "CC"),
    evidence_exclude: Sequence[str] = ("ND",),
    exclude_terms: Sequence[str] = DEFAULT_EXCLUDE_TERMS,
) -> dict[str, GeneFacts]:
    """GO term names per gene symbol, ordered for a text encoder (see the module notes).

    Parameters
    ----------
    annotations
        Table with columns ``symbol`` and ``go_id``; optional ``evidence``, ``ontology`` and
        ``term`` (term names; then ``terms`` is not needed).
    terms
        Table with columns ``go_id`` and ``term`` (optional ``ontology``). When ``None`` and the
        annotations have no ``term`` column, the single ``go_terms*.tsv[.gz]`` file beside them.
    ontologies
        Which of ``BP``, ``MF``, ``CC`` to keep, in the order they take turns.
    evidence_exclude
        Evidence codes to drop. Pass ``("ND", "IEA")`` to keep curated and experimental annotations only.
    exclude_terms
        GO ids never to use.

    Returns
    -------
    ``{symbol: GeneFacts(symbol, go_terms=[...], source="go", version=<annotation file name>)}``
    for every gene with at least one term left. Symbols are as written in the file; corpus
    building maps them to current HGNC symbols.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ann.tsv").write_text("symbol\\tgo_id\\tevidence\\n"
    ...     "INS\\tGO:0030073\\tIDA\\nINS\\tGO:0005179\\tIEA\\nINS\\tGO:0005515\\tIPI\\n")
    >>> _ = (folder / "terms.tsv").write_text("go_id\\tterm\\tontology\\nGO:0030073\\tinsulin secretion\\tBP\\n"
    ...     "GO:0005179\\thormone activity\\tMF\\nGO:0005515\\tprotein binding\\tMF\\n")
    >>> read_go_facts(folder / "ann.tsv", folder / "terms.tsv")["INS"].go_terms
    ('insulin secretion', 'hormone activity')
    """
    annotations = Path(annotations)
    ontologies = normalize_ontologies(ontologies)
    bad = [o for o in ontologies if o not in ("BP", "MF", "CC")]
    if bad:
        raise ValueError(f"unknown ontology {bad}; use 'BP', 'MF' and/or 'CC'")
    ann = read_annotations(annotations)
    if (ann["term"].str.strip() == "").all():
        ann = add_term_names(ann, Path(terms) if terms is not None else find_terms_file(annotations))
    if (ann["ontology"] == "").all():
        raise ValueError(f"{annotations}: no 'ontology' column in the annotations or the term table; cannot filter by {ontologies}")

    keep = (
        ann["ontology"].isin(ontologies)
        & ~ann["evidence"].isin(list(evidence_exclude))
        & ~ann["go_id"].isin(list(exclude_terms))
        & (ann["term"].str.strip() != "")
        & (ann["symbol"].str.strip() != "")
    )
    ann = ann.loc[keep, ["symbol", "go_id", "term", "evidence", "ontology"]].copy()
    ann["symbol"] = ann["symbol"].str.strip()
    # Specificity = how many genes in this file carry the term (counted after filtering).
    ann["n_genes"] = ann.groupby("go_id")["symbol"].transform("nunique")
    ann["electronic"] = ann["evidence"].isin(list(ELECTRONIC_EVIDENCE)).astype(np.int8)
    ann["ont_rank"] = ann["ontology"].map({o: i for i, o in enumerate(ontologies)})
    # One row per (gene, term), keeping the best evidence.
    ann = ann.sort_values(["symbol", "go_id", "electronic"], kind="mergesort").drop_duplicates(["symbol", "go_id"])
    ann = ann.sort_values(["symbol", "electronic", "n_genes", "ont_rank", "term", "go_id"], kind="mergesort")
    ann = ann.drop_duplicates(["symbol", "term"], keep="first")
    # Interleave the ontologies (most specific BP, MF, CC term, then the next ...), so that a
    # heavily annotated gene's first terms say what it does, in which process and where.
    ann["round"] = ann.groupby(["symbol", "electronic", "ontology"], sort=False).cumcount()
    ann = ann.sort_values(["symbol", "electronic", "round", "ont_rank"], kind="mergesort")

    version = annotations.name
    return {
        sym: GeneFacts(symbol=sym, go_terms=tuple(group), source="go", version=version)
        for sym, group in ann.groupby("symbol", sort=False)["term"]
    }


__all__ = ["read_go_facts", "DEFAULT_EXCLUDE_TERMS", "ELECTRONIC_EVIDENCE"]
