"""Gene-embedding quality: which channels, windows and post-processing beat the current default.

    nice -n 10 .venv/bin/python benchmarks/gene_quality.py embed      # channels -> genept cache
    nice -n 10 .venv/bin/python benchmarks/gene_quality.py select     # validation split + CV only
    nice -n 10 .venv/bin/python benchmarks/gene_quality.py test --candidates NAME[,NAME]  # one touch each

Genes: every gene of the Gene2vec GGI pairs (train, valid, test) that resolves to an HGNC symbol;
texts: RefSeq r220 summaries in the ``ncbi-page`` template, composed HGNC texts for genes without
one (no GO terms, unless a channel says ``go``). Every vector goes through genept's embedding cache
(``GENEPT_CACHE_DIR``), so re-runs only evaluate.

Honesty rules (issue 17): settings are chosen on the Gene2vec *validation* split (train -> valid)
and on cross-validation inside the training genes; ``test`` evaluates named candidates on the test
split, and every call appends to ``bench_out/gene_quality_test_touches.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DATA = Path("../shared/data/genes")
OUT = Path("bench_out")
SUMMARIES = DATA / "refseq_summaries_human_r220.tsv.gz"
GGI = DATA / "gene2vec_ggi"


def gene2vec_genes() -> list[str]:
    genes: dict[str, None] = {}
    for split in ("train", "valid", "test"):
        for line in (GGI / f"{split}_text.txt").read_text().splitlines():
            for g in line.split():
                genes[g] = None
    return list(genes)


def corpus(go: bool = False):
    """The Gene2vec-gene corpus (built once, saved under bench_out/)."""
    from genept.genes.corpus import GeneCorpus, build_corpus
    from genept.genes.sources.files import read_summary_table

    path = OUT / ("corpus_gene2vec_go.json.gz" if go else "corpus_gene2vec.json.gz")
    if path.exists():
        return GeneCorpus.load(path)
    sources = [read_summary_table(SUMMARIES)]
    if go:
        from genept.genes.sources.go import read_go_facts

        sources.append(read_go_facts(DATA / "go_annotations_human_2022.tsv.gz", DATA / "go_terms_2022.tsv.gz"))
    c = build_corpus(gene2vec_genes(), sources, compose_missing=True)
    OUT.mkdir(exist_ok=True)
    c.save(path)
    return c


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip().split("load average:")[-1].strip()


def embed_minilm(texts: list[str], *, windows: bool) -> tuple[np.ndarray, dict]:
    from genept.encoders.cache import CachedEncoder
    from genept.encoders.local import LocalEncoder
    from genept.encoders.windows import WindowedEncoder

    base = LocalEncoder(threads=2)
    t0 = time.time()
    if windows:
        enc = WindowedEncoder(base, cache=True)
        X = enc.encode(texts, show_progress=False)
        info = dict(enc.window_stats)
    else:
        enc = CachedEncoder(base)
        X = enc.encode(texts, show_progress=False)
        info = enc.stats.to_dict()
    info.update(identity=enc.identity, seconds=round(time.time() - t0, 1), load=load())
    return X, info


def split_genes(c) -> dict[str, list[str]]:
    """Corpus genes of each Gene2vec split (the splits are gene-disjoint)."""
    from genept.genes.ids import GeneResolver

    res = GeneResolver.default()
    out = {}
    for split in ("valid", "test", "train"):
        ids = sorted({g for line in (GGI / f"{split}_text.txt").read_text().splitlines() for g in line.split()})
        syms = res.to_symbols(ids, species="human")
        out[split] = sorted({s for s in syms if s and s in c})
    return out


def cmd_embed(args: argparse.Namespace) -> None:
    """Embed valid and test genes first, then training genes in random chunks (the cache keeps all)."""
    c = corpus(go=args.go)
    print(c.summary(), flush=True)
    parts = split_genes(c)
    train = list(np.random.default_rng(0).permutation(parts["train"]))
    chunks = [("valid", parts["valid"]), ("test", parts["test"])]
    chunks += [(f"train{i}", train[i : i + 1000]) for i in range(0, len(train), 1000)]
    for name, genes in chunks:
        X, info = embed_minilm([c[g] for g in genes], windows=True)
        info.update(chunk=name, n_genes=len(genes), peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
        print(json.dumps(info), flush=True)


# -- channels ---------------------------------------------------------------------------------
def channel(name: str, c, genes: list[str]):
    """GeneEmbeddings of ``genes`` for one channel; neural channels only from cached vectors."""
    from genept.embeddings import GeneEmbeddings
    from genept.encoders.cache import CachedEncoder
    from genept.encoders.lexical import TfidfSvdEncoder
    from genept.encoders.local import LocalEncoder
    from genept.encoders.windows import WindowedEncoder

    texts = [c[g] for g in genes]
    if name.startswith("tfidf"):
        _, _, dim = name.partition("-")
        enc = TfidfSvdEncoder(dim=int(dim or 256)).fit([c[g] for g in c.genes])  # unsupervised, whole corpus
        return GeneEmbeddings(genes, enc.encode(texts), {"encoder": enc.identity})
    if name.startswith("minilm"):
        base = LocalEncoder(threads=2)
        if name == "minilm":
            enc = CachedEncoder(base)
        else:
            enc = WindowedEncoder(base, pooling="mean" if name.endswith("mean") else "tokens", cache=True)
        return GeneEmbeddings(genes, enc.encode(texts), {"encoder": enc.identity})
    if name == "static":
        from genept.encoders.static import StaticEncoder

        enc = CachedEncoder(StaticEncoder())
        return GeneEmbeddings(genes, enc.encode(texts), {"encoder": enc.identity})
    raise ValueError(name)


def cached_genes(c, genes: list[str]) -> list[str]:
    """Genes whose every MiniLM window is in the cache (no model run)."""
    from genept.encoders.cache import EmbeddingCache, text_key
    from genept.encoders.local import LocalEncoder
    from genept.encoders.windows import WindowedEncoder

    enc = WindowedEncoder(LocalEncoder())
    cache = EmbeddingCache()
    wins = enc.windows([c[g] for g in genes])
    keys = [text_key(w) for ws in wins for w, _ in ws]
    found = cache.lookup(enc.base.identity, keys)
    return [g for g, ws in zip(genes, wins, strict=True) if all(text_key(w) in found for w, _ in ws)]


def combine(parts: list, weights: list[float] | None = None):
    from genept.embeddings import GeneEmbeddings

    weights = weights or [1.0] * len(parts)
    total = sum(weights)
    X = np.hstack([np.sqrt(w / total) * p.vectors for p, w in zip(parts, weights, strict=True)])
    return GeneEmbeddings(parts[0].genes, X, {"encoder": " + ".join(p.meta["encoder"] for p in parts)})


def evaluate(emb, split: str, c, *, go: bool = True) -> dict:
    """GGI train -> split (sum, product, matched, study-bias control); GO CV inside training genes."""
    from genept.evaluation.genes import gene_interactions_controlled, go_terms, read_gene_pairs, study_bias_covariates
    from genept.genes.ontology import load_go

    t0 = time.time()
    go_tables = load_go(DATA)
    ann = go_tables["annotations"]
    cov = study_bias_covariates(list(emb.genes), ann, c.texts, composed=c.composed)
    res = {"ggi": gene_interactions_controlled(emb, read_gene_pairs(GGI, "train"), read_gene_pairs(GGI, split), cov)}
    if go:
        train_genes = split_genes(c)["train"]
        sub = emb.subset([g for g in train_genes if g in emb])
        g = go_terms(sub, ann, max_terms=300, seed=0)
        res["go"] = {"median": g["auc"]["median"], "n_terms": g["n_terms"], "n_genes": g["coverage"]["n_used"]}
    res["seconds"] = round(time.time() - t0, 1)
    return res


def row(name: str, res: dict) -> dict:
    g = res["ggi"]
    out = {
        "name": name,
        "sum": round(g["sum"]["auc"], 4), "sum_matched": round(g["sum"]["matched_auc"], 4),
        "product": round(g["product"]["auc"], 4), "product_matched": round(g["product"]["matched_auc"], 4),
        "control": round(g["control"]["auc"], 4), "control_matched": round(g["control"]["matched_auc"], 4),
        "train_pairs": g["coverage"]["n_pairs_train_used"], "eval_pairs": g["coverage"]["n_pairs_test_used"],
        "eval_pair_fraction": round(g["coverage"]["fraction_test_pairs"], 4),
    }
    if "go" in res:
        out["go_median"] = round(res["go"]["median"], 4)
    return out


def variants(c, genes: list[str]) -> dict:
    """Every lever, as name -> GeneEmbeddings (built lazily)."""
    from genept.embeddings.postprocess import postprocess
    from genept.evaluation.baselines import random_gene_embeddings

    memo: dict = {}

    def get(name):
        if name not in memo:
            memo[name] = channel(name, c, genes)
        return memo[name]

    v = {
        "tfidf-256": lambda: get("tfidf-256"),
        "tfidf-512": lambda: get("tfidf-512"),
        "tfidf-1024": lambda: get("tfidf-1024"),
        "static+tfidf-1024": lambda: combine([get("static"), get("tfidf-1024")]),
        "minilm-windows": lambda: get("minilm-windows"),
        "minilm-windows-mean": lambda: get("minilm-windows-mean"),
        "minilm-windows+tfidf-256": lambda: combine([get("minilm-windows"), get("tfidf-256")]),
        "minilm-windows+tfidf-512": lambda: combine([get("minilm-windows"), get("tfidf-512")]),
        "minilm-windows/center": lambda: postprocess(get("minilm-windows"), "center"),
        "minilm-windows/abtt3": lambda: postprocess(get("minilm-windows"), "abtt", n_components=3),
        "minilm-windows/whiten": lambda: postprocess(get("minilm-windows"), "whiten"),
        "minilm-windows+tfidf-256/abtt3": lambda: postprocess(combine([get("minilm-windows"), get("tfidf-256")]), "abtt", n_components=3),
        "static": lambda: get("static"),
        "static+tfidf-256": lambda: combine([get("static"), get("tfidf-256")]),
        "static+tfidf-512": lambda: combine([get("static"), get("tfidf-512")]),
        "static/center": lambda: postprocess(get("static"), "center"),
        "static/abtt3": lambda: postprocess(get("static"), "abtt", n_components=3),
        "static/whiten": lambda: postprocess(get("static"), "whiten"),
        "static+tfidf-256/abtt3": lambda: postprocess(combine([get("static"), get("tfidf-256")]), "abtt", n_components=3),
        "static+tfidf-256/whiten": lambda: postprocess(combine([get("static"), get("tfidf-256")]), "whiten"),
        "random": lambda: random_gene_embeddings(get("tfidf-256"), seed=0),
        "minilm": lambda: get("minilm"),
    }
    return v


def cmd_select(args: argparse.Namespace) -> None:
    c = corpus(go=args.go_text)
    genes = c.genes
    if not args.all_genes:
        genes = cached_genes(c, genes)
    log = OUT / "gene_quality_select.jsonl"
    v = variants(c, genes)
    # GO-derived texts would see the GO task's labels: no GO task for them.
    for name in args.variants.split(","):
        res = evaluate(v[name](), "valid", c, go=not (args.no_go or args.go_text))
        label = f"{name}@go-text" if args.go_text else name
        r = {**row(label, res), "n_genes": len(genes), "seconds": res["seconds"], "load": load(), "split": "valid"}
        print(json.dumps(r), flush=True)
        with log.open("a") as fh:
            fh.write(json.dumps(r) + "\n")


def cmd_test(args: argparse.Namespace) -> None:
    c = corpus(go=args.go_text)
    genes = c.genes
    v = variants(c, genes)
    log = OUT / "gene_quality_test_touches.jsonl"
    for name in args.candidates.split(","):
        res = evaluate(v[name](), "test", c, go=False)
        r = {**row(f"{name}@go-text" if args.go_text else name, res), "n_genes": len(genes), "seconds": res["seconds"], "load": load(), "split": "test",
             "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()}
        print(json.dumps(r), flush=True)
        with log.open("a") as fh:
            fh.write(json.dumps(r) + "\n")


def full_corpus():
    """RefSeq texts + composed HGNC texts for every gene (GenePT's 15-class protocol needs all gene types)."""
    from genept.genes.corpus import GeneCorpus, build_corpus
    from genept.genes.sources.files import read_summary_table

    path = OUT / "corpus_refseq_hgnc.json.gz"
    if path.exists():
        return GeneCorpus.load(path)
    c = build_corpus(None, [read_summary_table(SUMMARIES)], compose_missing=True)
    c.save(path)
    return c


def cmd_classes(args: argparse.Namespace) -> None:
    """GenePT's functional classes (Ensembl types with > 75 embedded genes, LR, 70/30) on the full corpus."""
    from genept.embeddings import embed_genes
    from genept.evaluation.baselines import random_gene_embeddings
    from genept.evaluation.genes import functional_classes, load_gene_types

    c = full_corpus()
    types = load_gene_types(DATA / "gene_types_geneformer.csv.gz")
    log = OUT / "gene_quality_test_touches.jsonl"
    for spec in args.encoders.split(","):
        t0 = time.time()
        emb = embed_genes(c, spec, cache=True, show_progress=False)
        t_embed = time.time() - t0
        for name, e in ((spec, emb), (f"random:{spec}", random_gene_embeddings(emb, seed=0))):
            res = functional_classes(e, types, seed=0)
            r = {"task": "classes", "name": name, "accuracy": round(res["accuracy"], 4), "f1_macro": round(res["f1_macro"], 4),
                 "n_classes": len(res["classes"]), "n_test": res["n_test"], "n_genes": len(c), "embed_s": round(t_embed, 1),
                 "load": load(), "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()}
            print(json.dumps(r), flush=True)
            with log.open("a") as fh:
                fh.write(json.dumps(r) + "\n")


def cmd_windows(args: argparse.Namespace) -> None:
    """How many texts need more than one MiniLM window (tokenizer only, no model run)."""
    from genept.encoders.local import LocalEncoder
    from genept.encoders.windows import WindowedEncoder

    enc = WindowedEncoder(LocalEncoder())
    for label, c in (("Gene2vec genes", corpus()), ("RefSeq + HGNC composed", full_corpus())):
        genes = [g for g in c.genes if g not in set(c.composed)] if args.written_only else c.genes
        wins = enc.windows([c[g] for g in genes])
        n = np.array([len(w) for w in wins])
        print(json.dumps({"corpus": label, "n_texts": len(genes), "multi_window": int((n > 1).sum()),
                          "windows": int(n.sum()), "max_windows": int(n.max()), "window_tokens": enc.size, "overlap": enc.overlap}), flush=True)


def cmd_speed(args: argparse.Namespace) -> None:
    """Embed every RefSeq text (15,137 genes, no composed texts) with one encoder, no cache: time and peak memory."""
    from genept.embeddings import embed_genes
    from genept.genes.corpus import build_corpus
    from genept.genes.sources.files import read_summary_table

    c = build_corpus(None, [read_summary_table(SUMMARIES)], compose_missing=False)
    if args.limit:
        c = c.subset(sorted(np.random.default_rng(0).choice(c.genes, size=args.limit, replace=False).tolist()))
    from genept.encoders import get_encoder

    enc = get_encoder(args.encoder)
    if hasattr(enc, "encoders"):  # load models before timing (a cold model load is not per-text work)
        for e in enc.encoders:
            _ = e.dim
    cpu0, t0 = time.process_time(), time.time()
    emb = embed_genes(c, enc, cache=False, show_progress=False)
    dt, cpu = time.time() - t0, time.process_time() - cpu0
    print(json.dumps({"encoder": args.encoder, "identity": emb.meta["encoder"], "n_texts": len(c), "seconds": round(dt, 1),
                      "cpu_seconds": round(cpu, 1),
                      "texts_per_s": round(len(c) / dt, 1), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      "load": load()}), flush=True)


def cmd_report(args: argparse.Namespace) -> None:
    """Tables (markdown) from the JSONL logs: every validation row, every test touch."""
    def read(path):
        return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []

    sel = read(OUT / "gene_quality_select.jsonl")
    touches = read(OUT / "gene_quality_test_touches.jsonl")
    cols = ["sum", "sum_matched", "product", "product_matched", "control", "control_matched", "go_median", "eval_pair_fraction"]
    lines = ["| lever | " + " | ".join(cols) + " | load |", "|---" * (len(cols) + 2) + "|"]
    for r in sel:
        lines.append(f"| {r['name']} | " + " | ".join(str(r.get(c, "–")) for c in cols) + f" | {r['load'].split(',')[0]} |")
    lines += ["", "| test touch | " + " | ".join(cols[:-2] + ["eval_pair_fraction"]) + " | commit |", "|---" * (len(cols) + 1) + "|"]
    for r in touches:
        if r.get("task") == "classes":
            continue
        lines.append(f"| {r['name']} | " + " | ".join(str(r.get(c, "–")) for c in cols[:-2] + ["eval_pair_fraction"]) + f" | {r.get('commit')} |")
    lines += ["", "| classes touch | accuracy | macro F1 | classes | test genes | genes embedded | embed s | commit |", "|---" * 8 + "|"]
    for r in touches:
        if r.get("task") == "classes":
            lines.append(f"| {r['name']} | {r['accuracy']} | {r['f1_macro']} | {r['n_classes']} | {r['n_test']} | {r['n_genes']} | {r['embed_s']} | {r.get('commit')} |")
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("embed")
    p.add_argument("--go", action="store_true", help="texts with GO term names")
    p.set_defaults(func=cmd_embed)
    p = sub.add_parser("select", help="validation split + CV inside training genes")
    p.add_argument("--variants", default="tfidf-256")
    p.add_argument("--all-genes", action="store_true", help="do not restrict to genes whose MiniLM windows are cached")
    p.add_argument("--no-go", action="store_true")
    p.add_argument("--go-text", action="store_true", help="texts with GO term names (GO-derived; GGI only)")
    p.set_defaults(func=cmd_select)
    p = sub.add_parser("classes", help="15 functional classes on the full HGNC corpus (one touch per encoder, logged)")
    p.add_argument("--encoders", required=True, help="encoder specs, comma-separated (e.g. static+tfidf,tfidf)")
    p.set_defaults(func=cmd_classes)
    p = sub.add_parser("windows", help="texts needing more than one window")
    p.add_argument("--written-only", action="store_true", help="only genes with a written (RefSeq) summary")
    p.set_defaults(func=cmd_windows)
    p = sub.add_parser("speed", help="all RefSeq texts with one encoder: seconds and peak memory")
    p.add_argument("--encoder", default="static+tfidf")
    p.add_argument("--limit", type=int, default=0, help="a random sample of this many texts (seed 0)")
    p.set_defaults(func=cmd_speed)
    p = sub.add_parser("report", help="markdown tables from the logs")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("test", help="touch the test split once per candidate (logged)")
    p.add_argument("--candidates", required=True)
    p.add_argument("--go-text", action="store_true", help="texts with GO term names (GO-derived)")
    p.set_defaults(func=cmd_test)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
