"""Embed the ~15k RefSeq gene summaries with each offline encoder; report speed and memory.

Each encoder runs in its own subprocess (so peak RSS is its own), without the embedding cache
(so the model really encodes every text). Embeddings go to ``bench_out/genes_<encoder>.npz`` for
the evaluation benchmarks.

Usage::

    python benchmarks/embed_corpus.py                       # minilm (float32), minilm-bf16 if the CPU has it, static
    python benchmarks/embed_corpus.py --encoders static --limit 2000
    python benchmarks/embed_corpus.py --encoders minilm --limit 1000 --with-cache   # cache overhead
    python benchmarks/embed_corpus.py --dtype-ab 300      # float32 vs bfloat16, alternated on the same texts
    python benchmarks/embed_corpus.py --cache-overhead    # the SQLite cache's own cost
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUMMARIES = ROOT.parent / "shared" / "data" / "genes" / "refseq_summaries_human_r220.tsv.gz"
ENCODERS = {
    "minilm": ("minilm", {"dtype": "float32"}),
    "minilm_bf16": ("minilm", {"dtype": "bfloat16"}),
    "static": ("static", {}),
}


def corpus_path(out: Path):
    from genept.genes.corpus import GeneCorpus, build_corpus
    from genept.genes.sources.files import read_summary_table

    path = out / "corpus_refseq_r220.json.gz"
    if path.exists():
        return GeneCorpus.load(path)
    corpus = build_corpus(None, [read_summary_table(SUMMARIES)], compose_missing=False)
    corpus.save(path)
    return corpus


def run_one(key: str, out: Path, limit: int | None, threads: int | None, cached: bool = False) -> dict:
    from genept.embeddings import embed_genes
    from genept.encoders import get_encoder

    corpus = corpus_path(out)
    if limit:
        corpus = corpus.subset(corpus.genes[:limit])
    spec, kwargs = ENCODERS[key]
    if spec == "minilm" and threads:
        kwargs = {**kwargs, "threads": threads}
    t0 = time.perf_counter()
    enc = get_encoder(spec, **kwargs)
    enc.encode(["warm-up: load the model"])  # model load (and for static: distillation if not cached)
    t_load = time.perf_counter() - t0
    enc.stats.__init__()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        # --with-cache: through a fresh SQLite cache (one commit per batch), as the CLI does by default
        emb = embed_genes(corpus, enc, cache=Path(tmp) / "c.sqlite" if cached else None, show_progress=False)
        t_enc = time.perf_counter() - t1
    name = f"genes_{key}{'_cached' if cached else ''}{f'_{limit}' if limit else ''}.npz"
    emb.save(out / name)
    stats = emb.meta["encode_stats"]
    return {
        "encoder": key + (" (with cache)" if cached else ""),
        "identity": emb.meta["encoder"],
        "n_texts": len(emb),
        "dim": emb.dim,
        "load_s": round(t_load, 1),
        "encode_s": round(t_enc, 1),
        "texts_per_s": round(len(emb) / t_enc, 1),
        "n_truncated": stats["n_truncated"],
        "n_tokens": stats["n_tokens"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "torch_threads": _torch_threads(),
        "file": str(out / name),
    }


def _torch_threads():
    mod = sys.modules.get("torch")
    return mod.get_num_threads() if mod else None


def dtype_ab(out: Path, n: int, rounds: int = 2) -> None:
    """float32 vs bfloat16 MiniLM on the same n texts, alternated in one process: on a shared machine
    two separate full runs see different loads, alternating short runs see about the same."""
    import numpy as np

    from genept.encoders.local import LocalEncoder

    texts = list(corpus_path(out).texts.values())[:n]
    encs = {d: LocalEncoder(dtype=d) for d in ("float32", "bfloat16")}
    for e in encs.values():
        e.encode(texts[:8])
    times: dict[str, list[float]] = {d: [] for d in encs}
    vecs = {}
    for _ in range(rounds):
        for d, e in encs.items():
            t = time.perf_counter()
            vecs[d] = e.encode(texts)
            times[d].append(time.perf_counter() - t)
    cos = (vecs["float32"] * vecs["bfloat16"]).sum(1)
    for d, ts in times.items():
        print(f"{d}: {n} texts, runs {[round(t, 1) for t in ts]} s, best {n / min(ts):.1f} texts/s")
    print(f"cosine bf16 vs fp32: min {cos.min():.5f}, mean {cos.mean():.5f}; load average {os.getloadavg()}")
    assert np.isfinite(cos).all()


def cache_overhead(out: Path) -> None:
    """The cache's own cost, apart from model speed: the hashing encoder with and without the cache."""
    import tempfile

    from genept.encoders.cache import CachedEncoder
    from genept.encoders.hashing import HashingEncoder

    texts = list(corpus_path(out).texts.values())
    t = time.perf_counter()
    HashingEncoder(384).encode(texts)
    plain = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        for batch in (32, 256):
            path = Path(tmp) / f"c{batch}.sqlite"
            t = time.perf_counter()
            CachedEncoder(HashingEncoder(384), path, batch_size=batch).encode(texts)
            cold = time.perf_counter() - t
            t = time.perf_counter()
            CachedEncoder(HashingEncoder(384), path).encode(texts)
            warm = time.perf_counter() - t
            print(
                f"batch {batch}: plain {plain:.2f} s, through an empty cache {cold:.2f} s "
                f"({-(-len(texts) // batch)} commits), all hits {warm:.2f} s, file {path.stat().st_size / 1e6:.1f} MB"
            )
    print(f"{len(texts):,} texts; load average {os.getloadavg()}")


def main() -> None:
    from genept.encoders.local import cpu_supports_bf16

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ["minilm", *(["minilm_bf16"] if cpu_supports_bf16() else []), "static"]
    ap.add_argument("--encoders", default=",".join(default), help=f"comma-separated, from {list(ENCODERS)}")
    ap.add_argument("--limit", type=int, default=None, help="embed only the first N genes (quick check)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for minilm")
    ap.add_argument("--out", type=Path, default=ROOT / "bench_out")
    ap.add_argument("--with-cache", action="store_true", help="encode through a fresh embedding cache (measures its overhead)")
    ap.add_argument("--dtype-ab", type=int, metavar="N", help="only compare float32 and bfloat16 MiniLM on N texts, alternated")
    ap.add_argument("--cache-overhead", action="store_true", help="only time the embedding cache itself (hashing encoder)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.cache_overhead:
        cache_overhead(args.out)
        return
    if args.dtype_ab:
        dtype_ab(args.out, args.dtype_ab)
        return
    if args.one:
        print("RESULT " + json.dumps(run_one(args.one, args.out, args.limit, args.threads, args.with_cache)), flush=True)
        return
    if not SUMMARIES.exists():
        sys.exit(f"needs {SUMMARIES}")
    corpus = corpus_path(args.out)
    print(f"corpus: {len(corpus):,} genes with a RefSeq summary, hash {corpus.hash[:12]}", flush=True)
    results = []
    for key in args.encoders.split(","):
        cmd = [sys.executable, __file__, "--one", key, "--out", str(args.out)]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        if args.with_cache:
            cmd += ["--with-cache"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "GENEPT_PROGRESS": "0"})
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode or line is None:
            print(f"{key}: failed\n{proc.stderr[-3000:]}", flush=True)
            continue
        res = json.loads(line[7:])
        results.append(res)
        print(json.dumps(res), flush=True)
    print()
    print("| encoder | texts | dim | load s | encode s | texts/s | truncated | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['encoder']} | {r['n_texts']:,} | {r['dim']} | {r['load_s']} | {r['encode_s']} | "
            f"{r['texts_per_s']} | {r['n_truncated']} | {r['peak_rss_mb']} |"
        )


if __name__ == "__main__":
    main()
