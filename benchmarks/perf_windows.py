"""GenePT-s with a transformer encoder (MiniLM): every ranked gene read in windows vs the first window only.

    .venv/bin/python benchmarks/perf_windows.py --data ../shared/data/cells/kang2018_pbmc_ifnb_1556c.h5ad \
        --label cluster_id --cells-per-label 50

One run, same cells (a stratified subsample: ``--cells-per-label`` per label, seed 0), same encoder, no
cache: ``windows="first"`` (one string per cell, cut by the encoder at its token limit: the paper's
behaviour), ``windows="all"`` with ``pooling="mean"`` and with ``pooling="rank"``. For each: genes read
(counted with the encoder's tokenizer), texts per cell, cells/s, and two quality scores on the
subsample: 10-NN macro-F1 (5-fold stratified cross-validation, cosine) and k-means ARI (k = number of
labels, 10 starts). Control in the same run: a random Gaussian embedding of the same cells (chance).
``rank`` pooling re-uses the window vectors of ``mean`` (same windows; only the weights differ), so its
time is the pooling only and is not reported as a speed.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def scores(Y: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=10, metric="cosine")
    pred = cross_val_predict(knn, Y, labels, cv=StratifiedKFold(5, shuffle=True, random_state=0))
    f1 = f1_score(labels, pred, average="macro")
    km = KMeans(n_clusters=len(set(labels)), n_init=10, random_state=0).fit_predict(Y)
    return float(f1), float(adjusted_rand_score(labels, km))


class Recording:
    """Pass-through encoder that keeps the vectors of every text (so rank pooling can reuse them)."""

    def __init__(self, inner):
        self.inner, self.name, self.identity = inner, inner.name, inner.identity
        self.max_tokens, self.stats, self.seen = inner.max_tokens, inner.stats, {}

    @property
    def dim(self):
        return self.inner.dim

    def count_tokens(self, texts):
        return self.inner.count_tokens(texts)

    def encode(self, texts, *, show_progress=False):
        todo = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if todo:
            for t, v in zip(todo, self.inner.encode(todo, show_progress=show_progress), strict=True):
                self.seen[t] = v
        return np.stack([self.seen[t] for t in texts])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--cells-per-label", type=int, default=50)
    ap.add_argument("--top-k", type=int, default=1000)
    ap.add_argument("--encoder", default="minilm")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import anndata as ad

    from genept.cells.sentences import embed_cell_sentences, sentence_symbols
    from genept.encoders import get_encoder

    adata = ad.read_h5ad(args.data)
    labels_all = adata.obs[args.label].astype(str).to_numpy()
    rng = np.random.default_rng(0)
    idx = np.sort(np.concatenate([rng.choice(np.flatnonzero(labels_all == c), min(args.cells_per_label, int((labels_all == c).sum())), replace=False) for c in np.unique(labels_all)]))
    X, labels = adata.X[idx], labels_all[idx]
    words = sentence_symbols(adata.var_names)
    enc = get_encoder(args.encoder)
    load0 = os.getloadavg()
    print(f"data: {args.data.rsplit('/', 1)[-1]}, {len(idx)} cells ({args.cells_per_label} per {args.label}), "
          f"{adata.n_vars:,} genes, top_k {args.top_k}; encoder {enc.identity}")
    print(f"cores {os.cpu_count()}, load average before {load0[0]:.1f} {load0[1]:.1f} {load0[2]:.1f}")
    enc.encode(["warm up"])
    rec = Recording(enc)
    rows = []
    for windows, pooling in [("first", "mean"), ("all", "mean"), ("all", "rank")]:
        t = time.perf_counter()
        Y, st = embed_cell_sentences(X, words, rec if windows == "all" else enc, top_k=args.top_k, windows=windows,
                                     pooling=pooling, show_progress=False)
        sec = time.perf_counter() - t
        d = st.to_dict()
        f1, ari = scores(Y, labels)
        rows.append((f"{windows}/{pooling}", d["fraction_genes_read"], d["genes_in_sentences"] / len(idx),
                     d["windows_per_cell_mean"], None if pooling == "rank" else len(idx) / sec, f1, ari))
    f1, ari = scores(rng.standard_normal((len(idx), enc.dim)).astype(np.float32), labels)
    rows.append(("random control", float("nan"), float("nan"), float("nan"), None, f1, ari))
    load1 = os.getloadavg()
    print(f"{'GenePT-s':<16} {'genes read':>10} {'genes/cell':>10} {'texts/cell':>10} {'cells/s':>8} {'10-NN F1':>8} {'ARI':>6}")
    for name, frac, g, w, rate, f1, ari in rows:
        print(f"{name:<16} {100 * frac:9.1f}% {g:10.0f} {w:10.2f} {('-' if rate is None else f'{rate:.2f}'):>8} {f1:8.3f} {ari:6.3f}")
    print(f"load average after {load1[0]:.1f} {load1[1]:.1f} {load1[2]:.1f}")


if __name__ == "__main__":
    main()
