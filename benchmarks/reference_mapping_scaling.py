"""Which statistics scale the query: the reference's (genept's default) or the query's own? Same pairs as reference_mapping.py.

genept places the query with the reference's gene means and standard deviations (as ``ingest``
does). Scaling each dataset by its own statistics removes a gene-wise shift that moves every
query cell (a stimulation, another study) but also removes real differences when the two
datasets hold cell types in different proportions. This script measures both on the pairs of
``benchmarks/reference_mapping.py`` (all genes) with the same vote and unassigned rule.

Usage::

    nice -n 10 .venv/bin/python benchmarks/reference_mapping_scaling.py
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def run(ref, qry, self_scale: bool):
    from genept.cells import mapping as M
    from genept.cells.weighted import transform_block

    m = M.match_genes(qry.names, ref.names, query_species=qry.species, reference_species=ref.species)
    R = M.shared_counts(ref.X, m.reference_index, M.expression_kind(ref.X))
    Q = M.shared_counts(qry.X, m.query_index, M.expression_kind(qry.X))
    r = M.fit_reference(R, ref.labels, None, kind="counts")
    proj = r.projection
    if self_scale:
        proj = copy.copy(proj)
        T = transform_block(Q, proj.transform)[:, proj.genes].toarray()
        sd = T.std(0, ddof=1)
        sd[sd == 0] = 1
        proj.mean, proj.std = T.mean(0).astype(np.float32), sd.astype(np.float32)
    S, res = M.project_scores(proj, Q, residual=True)
    return M.transfer_labels(S, r, query_residual=res)


def main() -> int:
    import reference_mapping as rm

    print("| pair | query scaled by | macro-F1 (forced) | accuracy (forced) | macro-F1 (unassigned rule) | unassigned (known) |")
    print("|---|---|---|---|---|---|")
    for ref, qry in rm.load_pairs():
        classes = set(np.asarray(ref.labels, str))
        for self_scale in (False, True):
            out = run(ref, qry, self_scale)
            f = rm.score(out.predicted, qry.labels, classes)
            g = rm.score(out.labels, qry.labels, classes)
            who = "its own statistics" if self_scale else "the reference's (default)"
            print(f"| {ref.name} -> {qry.name} | {who} | {f['f1']:.3f} | {f['acc']:.3f} | {g['f1']:.3f} | {g['unassigned_known']:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
