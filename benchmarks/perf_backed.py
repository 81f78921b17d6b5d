"""GenePT-w from a backed .h5ad: bounded memory whatever the number of cells, near in-memory speed.

    .venv/bin/python benchmarks/perf_backed.py --cells 100000 1000000 --dim 1536

For each size it writes (once, reused after) a synthetic count matrix to ``bench_out/`` (20k
genes, ~6.4% nonzero; ~10 GB for 1M cells), then runs GenePT-w in a fresh process reading
``X`` in chunks and streaming the rows into an HDF5 dataset (``embed_weighted(..., out=...)``),
and reports that process's peak resident memory (VmHWM) and cells/s. For the ratio it also runs the in-memory path
(the matrix loaded first, result kept in memory) on the smallest size in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from _synthetic import count_block, gene_rates, gene_vectors

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "bench_out"

CHILD = r"""
import json, sys, time
import numpy as np, anndata as ad, h5py
sys.path.insert(0, {here!r})
from _synthetic import gene_vectors
from genept.cells.weighted import embed_weighted
path, mode, dim, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
E = gene_vectors(20_000, dim)
embed_weighted(ad.read_h5ad(path, backed="r").X[:100], E)  # compile outside the timing
t = time.perf_counter()
if mode == "backed":
    a = ad.read_h5ad(path, backed="r")
    with h5py.File(out_path, "w") as f:
        ds = f.create_dataset("X_genept_w", shape=(a.n_obs, dim), dtype="float32", chunks=(1024, dim))
        _, stats = embed_weighted(a.X, E, out=ds, chunk_size=5_000, show_progress=False)
    a.file.close()
    seconds = time.perf_counter() - t
    load = 0.0
else:
    a = ad.read_h5ad(path)
    load = time.perf_counter() - t
    t = time.perf_counter()
    Y, stats = embed_weighted(a.X, E, chunk_size=5_000, show_progress=False)
    seconds = time.perf_counter() - t
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec.
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({{"n_cells": stats.n_cells, "seconds": seconds, "load_seconds": load, "peak_rss_gb": hwm / 2**20}}))
"""


def write_matrix(path: Path, n_cells: int, n_genes: int = 20_000, block: int = 20_000) -> None:
    import anndata as ad
    import h5py
    import pandas as pd
    from anndata.io import sparse_dataset, write_elem

    tmp = path.with_suffix(".tmp.h5ad")
    ad.AnnData(obs=pd.DataFrame(index=[f"c{i}" for i in range(n_cells)]), var=pd.DataFrame(index=[f"g{j}" for j in range(n_genes)])).write_h5ad(tmp)
    rates = gene_rates(n_genes, 0.064)
    rng = np.random.default_rng(1)
    with h5py.File(tmp, "r+") as f:
        if "X" in f:
            del f["X"]
        for start in range(0, n_cells, block):
            chunk = count_block(min(block, n_cells - start), rates, rng)
            if start == 0:
                write_elem(f, "X", chunk)
                X = sparse_dataset(f["X"])
            else:
                X.append(chunk)
    os.replace(tmp, path)


def run_child(path: Path, mode: str, dim: int) -> dict:
    out = OUT / f"genept_w_{path.stem}.h5"
    code = CHILD.format(here=str(HERE))
    res = subprocess.run([sys.executable, "-c", code, str(path), mode, str(dim), str(out)], capture_output=True, text=True, check=True)
    out.unlink(missing_ok=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--dim", type=int, default=1536)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, d = {args.dim}")
    rows = []
    for n in sorted(args.cells):
        path = OUT / f"synthetic_{n}.h5ad"
        if not path.exists():
            t = time.perf_counter()
            write_matrix(path, n)
            print(f"wrote {path.name} ({path.stat().st_size / 2**30:.1f} GiB) in {time.perf_counter() - t:.0f} s")
        r = run_child(path, "backed", args.dim)
        rows.append(("backed", n, r))
        print(f"backed    {n:>9,} cells  {r['seconds']:7.1f} s  {n / r['seconds']:7,.0f} cells/s  peak RSS {r['peak_rss_gb']:.2f} GiB", flush=True)
    n = min(args.cells)
    r = run_child(OUT / f"synthetic_{n}.h5ad", "memory", args.dim)
    rows.append(("memory", n, r))
    print(f"in memory {n:>9,} cells  {r['seconds']:7.1f} s  {n / r['seconds']:7,.0f} cells/s  peak RSS {r['peak_rss_gb']:.2f} GiB "
          f"(+{r['load_seconds']:.0f} s to load)")
    mem_speed = n / r["seconds"]
    for mode, m, rr in rows:
        if mode == "backed":
            print(f"backed {m:,} cells: {m / rr['seconds'] / mem_speed:.2f} x the in-memory speed")


if __name__ == "__main__":
    main()
