"""How to put genes on one scale for mapping: centred only (the default), scaled by the reference, or by the query itself.

Same pairs and random 500- / 200-gene panels as ``reference_mapping.py``, same vote and
unassigned rule; only the placement differs:

- centred log-expression, the reference's gene means (``fit_reference(scale=False)``, default;
  what ``scanpy.tl.ingest`` does);
- scaled to unit variance with the reference's means and sds (GenePT-scaled's own map,
  ``scale=True``);
- scaled, with the query's own means and sds (removes a gene-wise shift that moves every query
  cell, but also real differences when the datasets hold types in different proportions);
- centred with the query's own means (the same, without the scaling).

Usage::

    nice -n 10 .venv/bin/python benchmarks/reference_mapping_scaling.py
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def run(ref, qry, mode: str):
    from genept.cells import mapping as M
    from genept.cells.weighted import transform_block

    m = M.match_genes(qry.names, ref.names, query_species=qry.species, reference_species=ref.species)
    R = M.shared_counts(ref.X, m.reference_index, M.expression_kind(ref.X))
    Q = M.shared_counts(qry.X, m.query_index, M.expression_kind(qry.X))
    r = M.fit_reference(R, ref.labels, None, kind="counts", scale=mode in ("scaled", "self"))
    proj = r.projection
    if mode in ("self", "centred-self"):
        proj = copy.copy(proj)
        T = transform_block(Q, proj.transform)[:, proj.genes].toarray()
        proj.mean = T.mean(0).astype(np.float32)
        if mode == "self":
            sd = T.std(0, ddof=1)
            sd[sd == 0] = 1
            proj.std = sd.astype(np.float32)
    S, res = M.project_scores(proj, Q, residual=True)
    return M.transfer_labels(S, r, query_residual=res, query_markers=M.marker_scores(r.markers, Q))


def main() -> int:
    import reference_mapping as rm

    print("| pair | query genes | placement | macro-F1 (forced) | accuracy (forced) | macro-F1 (unassigned rule) | unassigned (known) |")
    print("|---|---|---|---|---|---|---|")
    for ref, qry in rm.load_pairs():
        classes = set(np.asarray(ref.labels, str))
        for q, tag in rm.panel_queries(ref, qry):  # the same random panels as reference_mapping.py
            for mode in ("centred", "scaled", "self", "centred-self"):
                out = run(ref, q, mode)
                f = rm.score(out.predicted, q.labels, classes)
                g = rm.score(out.labels, q.labels, classes)
                who = {"centred": "centred, reference means (default)", "scaled": "scaled, reference means/sds",
                       "self": "scaled, query's own means/sds", "centred-self": "centred, query's own means"}[mode]  # fmt: skip
                print(f"| {ref.name} -> {qry.name} | {tag} | {who} | {f['f1']:.3f} | {f['acc']:.3f} | {g['f1']:.3f} | {g['unassigned_known']:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
