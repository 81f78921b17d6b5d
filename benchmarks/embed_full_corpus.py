"""Gene embeddings for every HGNC gene: RefSeq summaries where they exist, composed HGNC texts elsewhere.

    .venv/bin/python benchmarks/embed_full_corpus.py      # after benchmarks/embed_corpus.py

Writes ``bench_out/corpus_refseq_hgnc.json.gz`` and ``bench_out/genes_{static,minilm}_full.npz``.
Genes whose text is identical to the one in ``bench_out/corpus_refseq_r220.json.gz`` reuse the
vectors of ``bench_out/genes_<encoder>.npz`` (made by ``embed_corpus.py``); the rest are embedded
here. No GO terms go into the texts, so GO tasks do not see their own labels.
"""

from __future__ import annotations

import time

import numpy as np

from genept.embeddings import GeneEmbeddings, embed_genes
from genept.genes.corpus import GeneCorpus, build_corpus
from genept.genes.sources.files import read_summary_table

SUMMARIES = "../shared/data/genes/refseq_summaries_human_r220.tsv.gz"


def main() -> None:
    corpus = build_corpus(None, [read_summary_table(SUMMARIES)], compose_missing=True)
    corpus.save("bench_out/corpus_refseq_hgnc.json.gz")
    print(corpus.summary(), flush=True)
    refseq = GeneCorpus.load("bench_out/corpus_refseq_r220.json.gz")
    same = sum(corpus.texts.get(g) == t for g, t in refseq.texts.items())
    print(f"{same} / {len(refseq)} RefSeq texts identical in the full corpus", flush=True)
    for enc in ("static", "minilm"):
        t = time.time()
        old = GeneEmbeddings.load(f"bench_out/genes_{enc}.npz")
        rest = corpus.subset([g for g in corpus.genes if g not in old.genes or corpus.texts[g] != refseq.texts.get(g)])
        new = embed_genes(rest, enc, cache=False, show_progress=False)
        keep = [g for g in old.genes if g not in rest.texts]
        meta = {**new.meta, "corpus_hash": corpus.hash, "note": f"{len(keep)} genes from genes_{enc}.npz + {len(new)} newly embedded"}
        merged = GeneEmbeddings(keep + list(new.genes), np.vstack([old.subset(keep).vectors, new.vectors]), meta)
        merged.save(f"bench_out/genes_{enc}_full.npz")
        print(enc, merged, f"{len(new)} new in {time.time() - t:.0f} s", flush=True)


if __name__ == "__main__":
    main()
