"""Text meets embeddings, on arrays only (no AnnData): the engines under :mod:`genept.tl`'s text tools.

- :mod:`~genept.text.scores`: cells scored against texts (:func:`text_scores`), labels chosen
  (:func:`assign_labels`), genes chosen for a text (:func:`nearest_genes`, :func:`rank_genes`).
- :mod:`~genept.text.programs`: gene programs (:func:`find_programs`: kNN graph + Leiden) and
  their names (:func:`program_terms`, :func:`program_summary`).
- :mod:`~genept.text.enrichment`: :func:`program_enrichment` (hypergeometric test + BH).
- :mod:`~genept.text.scoring`: :func:`score_gene_sets` on a matrix.
- :mod:`~genept.text.markers`: marker genes named in a label's text (:func:`marker_gene_sets`) and
  their scores (:func:`marker_scores`).
- :mod:`~genept.text.calibration`: scores put on one scale (:func:`standardize`) and re-scored by
  label prototypes in the cell embedding (:func:`refine_prototypes`).
- :mod:`~genept.text.labels`: label definitions from a file (:func:`read_label_file`).

Examples
--------
>>> import numpy as np
>>> from genept import text
>>> cells = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32)
>>> S = text.text_scores(cells, np.eye(3, dtype=np.float32)[:2])
>>> text.assign_labels(S, ["a", "b"]).tolist()
['a', 'b', 'unassigned']
"""

from genept.text.calibration import refine_prototypes, standardize
from genept.text.enrichment import program_enrichment, read_go_sets
from genept.text.labels import read_label_file
from genept.text.markers import marker_gene_sets, marker_scores, symbol_candidates
from genept.text.programs import GenePrograms, find_programs, program_summary, program_terms
from genept.text.scores import (
    UNASSIGNED,
    assign_labels,
    clean_texts,
    label_margins,
    label_texts,
    nearest_genes,
    query_encoder,
    rank_genes,
    text_scores,
)
from genept.text.scoring import score_gene_sets, scoring_matrix

__all__ = [
    "UNASSIGNED",
    "GenePrograms",
    "assign_labels",
    "clean_texts",
    "find_programs",
    "label_margins",
    "label_texts",
    "marker_gene_sets",
    "marker_scores",
    "nearest_genes",
    "program_enrichment",
    "program_summary",
    "program_terms",
    "query_encoder",
    "rank_genes",
    "read_go_sets",
    "read_label_file",
    "refine_prototypes",
    "score_gene_sets",
    "scoring_matrix",
    "standardize",
    "symbol_candidates",
    "text_scores",
]
