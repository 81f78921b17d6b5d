"""How the keys of real gene vocabularies map to HGNC symbols through genept's importers, and import speed.

Claim checked: the importers' key-class report explains a file's key count (current symbols,
previous symbols, aliases, ids, other names) and how many distinct genes the keys give, and a
GenePT-sized pickle and a Gene2vec-sized text import in seconds.

Inputs (read in place, ../shared/data/genes): scGPT's human vocabulary (60,697 tokens; GenePT's
starting gene list) and the Ensembl ids of Geneformer's gene dictionaries. No model weights exist
here, so rows are random: only the keys are real. Speed files are synthetic (real HGNC symbols,
random vectors) with the sizes of the published files.

    nice -n 10 .venv/bin/python benchmarks/import_key_classes.py   # writes benchmarks/results/import_key_classes.md
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "genes"
OUT = ROOT / "benchmarks" / "results" / "import_key_classes.md"


def _classes_table(rows: list[tuple[str, dict]]) -> list[str]:
    classes = []
    for _, rep in rows:
        classes += [c for c in rep["key_classes"] if c not in classes]
    lines = ["| vocabulary | keys | " + " | ".join(classes) + " | distinct genes | genes with 2+ keys |", "|---|---:|" + "---:|" * (len(classes) + 2)]
    for name, rep in rows:
        cells = [f"{rep['key_classes'].get(c, 0):,}" for c in classes]
        lines.append(f"| {name} | {rep['n_keys']:,} | " + " | ".join(cells) + f" | {rep['n_genes']:,} | {rep['n_duplicate_genes']:,} |")
    return lines


def main() -> int:
    from genept.embeddings.importers import key_by_symbol, read_gene2vec, read_geneformer, read_genept, read_scgpt
    from genept.genes.ids import GeneResolver

    if not DATA.is_dir():
        print(f"shared data not found at {DATA}", file=sys.stderr)
        return 1
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    load = os.getloadavg()
    rng = np.random.default_rng(0)
    resolver = GeneResolver.default()
    rows = []
    with gzip.open(DATA / "scgpt_vocab_human.json.gz", "rt") as fh:
        vocab = json.load(fh)
    keys = sorted(vocab, key=vocab.get)
    _, rep = key_by_symbol(keys, rng.standard_normal((len(keys), 4)), format="scgpt", source="scgpt_vocab_human.json.gz", resolver=resolver)
    rows.append(("scGPT human vocab", rep.to_dict(max_items=8)))
    gf = pd.read_csv(DATA / "geneformer_symbol_to_ensembl.tsv.gz", sep="\t", dtype=str)
    ens = list(dict.fromkeys(gf["ensembl_id"].dropna()))
    _, rep_gf = key_by_symbol(ens, rng.standard_normal((len(ens), 4)), format="geneformer", source="geneformer ids", resolver=resolver)
    rows.append(("Ensembl ids of Geneformer's gene name dictionary", rep_gf.to_dict(max_items=8)))

    symbols = resolver.table["symbol"].astype(str).tolist()
    timings = []
    with tempfile.TemporaryDirectory() as tmp:
        n, d = 33_703, 1536  # GenePT: one key per NCBI summary, ada-002 vectors
        pkl = Path(tmp) / "genept_like.pickle"
        pkl.write_bytes(pickle.dumps({s: rng.standard_normal(d).tolist() for s in symbols[:n]}))
        t = time.perf_counter()
        emb, _ = read_genept(pkl, resolver=resolver)
        timings.append(("GenePT-sized pickle (lists of floats)", f"{n:,} x {d}", f"{pkl.stat().st_size / 2**20:,.0f} MB", time.perf_counter() - t, len(emb)))
        n, d = 24_447, 200  # Gene2vec gene2vec_dim_200_iter_9.txt
        txt = Path(tmp) / "gene2vec.txt"
        x = rng.standard_normal((n, d)).astype(np.float32)
        txt.write_text("".join(f"{s}\t{' '.join(f'{v:.6f}' for v in row)} \n" for s, row in zip(symbols[:n], x, strict=True)))
        t = time.perf_counter()
        emb, _ = read_gene2vec(txt, resolver=resolver)
        timings.append(("Gene2vec-sized text", f"{n:,} x {d}", f"{txt.stat().st_size / 2**20:,.0f} MB", time.perf_counter() - t, len(emb)))
        # scGPT whole-human checkpoint shape: the real 60,697-token vocab, 512-d gene-token embedding
        import torch

        ckpt = Path(tmp) / "best_model.pt"
        torch.save({"encoder.embedding.weight": torch.randn(len(keys), 512), "encoder.enc_norm.weight": torch.ones(512)}, ckpt)
        (Path(tmp) / "vocab.json").write_text(json.dumps(vocab))
        t = time.perf_counter()
        emb, _ = read_scgpt(ckpt, resolver=resolver)
        timings.append(("scGPT checkpoint + real vocab.json", f"{len(keys):,} x 512", f"{ckpt.stat().st_size / 2**20:,.0f} MB", time.perf_counter() - t, len(emb)))
        # Geneformer 6-layer shape (BertForMaskedLM, 256-d) with the real Ensembl ids as tokens
        import transformers

        cfg = transformers.BertConfig(vocab_size=len(ens) + 2, hidden_size=256, num_hidden_layers=6, num_attention_heads=4,
                                      intermediate_size=512, max_position_embeddings=2048)
        gf_dir = Path(tmp) / "gf-6L"
        transformers.BertForMaskedLM(cfg).save_pretrained(gf_dir)
        (Path(tmp) / "token_dictionary.pkl").write_bytes(pickle.dumps({"<pad>": 0, "<mask>": 1, **{e: i + 2 for i, e in enumerate(ens)}}))
        t = time.perf_counter()
        emb, _ = read_geneformer(gf_dir, resolver=resolver)
        size = sum(f.stat().st_size for f in gf_dir.iterdir()) / 2**20
        timings.append(("Geneformer-6L-shaped folder + token dictionary", f"{len(ens) + 2:,} x 256", f"{size:,.0f} MB", time.perf_counter() - t, len(emb)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    lines = [
        "# Importers: key classes of real gene vocabularies, and import speed",
        "",
        f"`nice -n 10 .venv/bin/python benchmarks/import_key_classes.py` at commit `{commit}`, "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (shared machine), HGNC {resolver.version}.",
        "",
        "## Key classes (keys are real, rows random)",
        "",
        *_classes_table(rows),
        "",
        "Classes: `symbol` current HGNC symbol; `previous` previous HGNC symbol; `alias`; `ensembl` Ensembl id in HGNC; "
        "`ambiguous` names several genes (left out); `special_token` `<pad>` etc.; `ncbi_loc` LOC ids; `clone_name` "
        "GENCODE clone-based names (RP11-..., AC012345.1); `ensembl_other` Ensembl ids without an HGNC gene; `other`.",
        "",
    ]
    for name, rep in rows:
        lines += [f"- {name}: examples unresolved {rep['unresolved'][:8]}; ambiguous {dict(list(rep['ambiguous'].items())[:3])}; "
                  f"duplicates {dict(list(rep['duplicates'].items())[:3])}"]
    lines += [
        "",
        "## Import speed (synthetic files of the published shapes; keys real, values random)",
        "",
        "| file | keys x dim | size | seconds (read + resolve + merge) | genes |",
        "|---|---|---:|---:|---:|",
        *[f"| {a} | {b} | {c} | {s:.1f} | {g:,} |" for a, b, c, s, g in timings],
        "",
        f"Peak RSS of the whole script: {peak:,.0f} MB.",
        "",
    ]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
