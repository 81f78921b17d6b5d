"""``genept annotate --reference REF.h5ad --label COL``: label transfer from a labelled reference.

The flags are added to the ``annotate`` command of :mod:`genept.cli.query` (zero-shot without
``--reference``) by :func:`add_reference_arguments`; :func:`annotate_from_reference` runs
:func:`genept.tl.map_to_reference` and prints what was matched and transferred. The query file
is only read: the result goes to ``-o``, which may not be the query file.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_reference_arguments(p: argparse.ArgumentParser) -> None:
    """The reference-mapping flags of ``genept annotate``."""
    g = p.add_argument_group("label transfer from a labelled reference (instead of --labels)")
    g.add_argument("--reference", metavar="REF.h5ad", help="labelled reference cells (raw counts or log-normalised)")
    g.add_argument("--label", metavar="COL", help="--reference: obs column with the reference's cell types")
    g.add_argument("--reference-layer", default=None, help="--reference: read this layer of the reference (default X)")
    g.add_argument("--reference-raw", action="store_true", help="--reference: read reference.raw (log-normalised values)")
    g.add_argument("--query-layer", default=None, help="--reference: read this layer of the query (default X)")
    g.add_argument("--query-raw", action="store_true", help="--reference: read query.raw (log-normalised values)")
    g.add_argument("--query-species", choices=["auto", "human", "mouse"], default="auto")
    g.add_argument("--reference-species", choices=["auto", "human", "mouse"], default="auto")
    g.add_argument("--k", type=int, default=15, help="--reference: voting neighbours (default 15)")
    g.add_argument("--min-confidence", type=float, default=0.5,
                   help="--reference: unassigned below this share of the neighbours' votes (default 0.5)")  # fmt: skip
    g.add_argument("--min-marker", type=float, default=0.4,
                   help="--reference: unassigned when a cell's evidence for its label's marker genes is below this "
                        "(0 = like the other cells, 1 = like the label's clearest cells; 0 turns the check off; default 0.4)")  # fmt: skip
    g.add_argument("--center", choices=["reference", "query"], default="reference",
                   help="--reference: centre the query on the reference's gene means (default) or on its own, as "
                        "scanpy.tl.ingest does (removes an offset between two studies; assumes similar proportions of types)")  # fmt: skip
    g.add_argument("--scale", action="store_true",
                   help="--reference: scale each shared gene to unit variance before the principal axes (helped on random "
                        "panels of a large gene set, hurt with all genes)")  # fmt: skip
    g.add_argument("--no-unassigned", action="store_true", help="--reference: always keep the vote's winner")


def annotate_from_reference(args: argparse.Namespace) -> int:
    """Run :func:`genept.tl.map_to_reference` for ``genept annotate --reference``."""
    from genept import tl
    from genept._checks import read_h5ad
    from genept._io import write_h5ad

    if not args.label:
        raise ValueError("--reference needs --label COL: the reference's obs column with the cell types")
    if Path(args.output).resolve() == Path(args.input).resolve() or (
        os.path.exists(args.output) and os.path.samefile(args.output, args.input)
    ):
        raise ValueError(f"-o {args.output} is the query file; write the annotated cells to another file (the query is never changed)")
    key = args.key_added if args.key_added != "genept_zero_shot" else "genept_ref"
    query = read_h5ad(args.input)
    reference = read_h5ad(args.reference)
    if args.label not in reference.obs:
        raise ValueError(f"{args.reference} has no obs column {args.label!r}; its columns: {', '.join(map(str, reference.obs.columns))}")
    genes = None
    if args.genes:
        from genept.embeddings import load_gene_embeddings

        genes = load_gene_embeddings(args.genes)
    tl.map_to_reference(
        query, reference, label=args.label, gene_embeddings=genes, key_added=key,
        layer=args.query_layer, use_raw=args.query_raw, reference_layer=args.reference_layer,
        reference_use_raw=args.reference_raw, query_species=args.query_species,
        reference_species=args.reference_species, k=args.k, min_confidence=args.min_confidence,
        min_marker=args.min_marker, center=args.center, scale=args.scale, unassigned=not args.no_unassigned,
    )  # fmt: skip
    print(summary_text(query, key))
    write_h5ad(query, args.output)
    print(f"wrote {args.output} (obs[{key + '_label'!r}], obs[{key + '_confidence'!r}], obs[{key + '_reason'!r}], obsm[{'X_' + key!r}], uns[{key!r}])")
    return 0


def summary_text(adata, key: str) -> str:
    """What ``genept annotate --reference`` prints: genes matched, inputs, labels with counts."""
    entry = adata.uns[key]
    g, s, r, e = entry["genes"], entry["summary"], entry["reference"], entry["expression"]
    via = "by name" if g["route"] == "name" else f"through {g['query_species']} -> human <- {g['reference_species']} orthologs"
    lines = [
        f"genes: {g['n_shared_genes']:,} shared {via} ({g['n_query_genes']:,} in the query, {g['n_reference_genes']:,} in the reference)",
        f"expression: query {e['query']}, reference {e['reference']}",
        f"reference: {r['n_cells']:,} cells, {len(r['classes'])} labels, leave-one-out accuracy {r['loo_accuracy']:.3f}; "
        f"map on {r['n_hvg']:,} genes, {r['n_comps']} axes",
        f"query: {s['n_cells']:,} cells, {s['n_unassigned']:,} unassigned ({s['n_uncertain']:,} uncertain vote, {s['n_far']:,} far from "
        f"the reference, {s.get('n_markers', 0):,} without their label's markers)",
    ]
    counts = adata.obs[f"{key}_label"].value_counts()
    conf = adata.obs.groupby(f"{key}_label", observed=True)[f"{key}_confidence"].median()
    for name, n in counts.items():
        if n:
            lines.append(f"{n:>8,}  {name}  (median confidence {conf.get(name, float('nan')):.2f})")
    return "\n".join(lines)


__all__ = ["add_reference_arguments", "annotate_from_reference", "summary_text"]
