"""Reliability: API keys come from the environment or an argument and are never written down.

A recognisable fake key is used for real jobs against the local servers (OpenAI-compatible and
NCBI), with logging at DEBUG for every library; then every produced file (embeddings, h5ad,
SQLite caches with their WAL, reports), the captured output and logs and ``adata.uns`` are
searched for it. Also covered elsewhere: the key is not in the encoder's identity, repr or
pickle (``test_encoders_openai.py::test_key_never_in_identity_repr_or_pickle``) nor in the
401 error (``::test_bad_key_is_a_clear_error_without_retries``); no key at all for OpenAI is
an error (``::test_missing_key_for_openai_itself``).
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import anndata as ad
import numpy as np
import pytest

import genept
from genept.cli import main

pytest.importorskip("openai")

from ncbi_server import FakeNCBI
from openai_server import FakeOpenAI

CANARY = "sk-genept-CANARY-7f3a9c1e5b2d"
WRONG = "sk-genept-WRONG-0d9e8f7a6b5c"
REFSEQ = (
    "entrez_id\tsymbol\tfull_name\tgene_type\tsummary\n"
    "916\tCD3E\tCD3 epsilon subunit of T-cell receptor complex\tprotein-coding\tPart of the T-cell receptor-CD3 complex.\n"
    "3630\tINS\tinsulin\tprotein-coding\tA peptide hormone made by beta cells.\n"
)


def files_containing(root: Path, secret: str) -> list[str]:
    needle = secret.encode()
    return [str(p.relative_to(root)) for p in sorted(root.rglob("*")) if p.is_file() and needle in p.read_bytes()]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path / "cache"))  # default caches inside the searched folder
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return tmp_path


def test_openai_key_is_never_written_to_files_logs_caches_or_uns(env, small_adata, monkeypatch, capsys, caplog):
    tmp = env
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)  # the one place the key lives
    h5ad = tmp / "cells.h5ad"
    small_adata.write_h5ad(h5ad)
    (tmp / "refseq.tsv").write_text(REFSEQ)
    corpus, genes = tmp / "corpus.json.gz", tmp / "genes.npz"
    with FakeOpenAI(dim=16, api_key=CANARY) as srv, caplog.at_level(logging.DEBUG):
        assert main(["-v", "genes", "build-corpus", "-o", str(corpus), "--source", f"refseq:{tmp / 'refseq.tsv'}", "--genes-from", str(h5ad)]) == 0
        argv = ["-v", "genes", "embed", "--corpus", str(corpus), "--encoder", "openai:text-embedding-3-small"]
        assert main([*argv, "--base-url", srv.base_url, "--dimensions", "16", "-o", str(genes), "--yes", "--batch-size", "8"]) == 0
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)  # embed-cells reads the server from the environment
        assert main(["-v", "embed-cells", str(h5ad), str(tmp / "cells_s.h5ad"), "--method", "s", "--encoder", "openai:local-embedder"]) == 0
        assert main(["-v", "embed-cells", str(tmp / "cells_s.h5ad"), str(tmp / "cells_sw.h5ad"), "--method", "w", "--genes", str(genes)]) == 0

        # The key given as an argument instead of the environment, through the Python API.
        monkeypatch.delenv("OPENAI_API_KEY")
        from genept.encoders.openai import OpenAIEncoder

        enc = OpenAIEncoder("local-embedder", base_url=srv.base_url, api_key=CANARY)
        adata = small_adata.copy()
        genept.tl.embed_cells(adata, method="s", encoder=enc, key_added="X_api")
        adata.write_h5ad(tmp / "api.h5ad")
        from genept.evaluation.report import write_report

        write_report(tmp / "report", command=["genept", "bench", "cells"])
        assert srv.requests and {r.auth for r in srv.requests} == {f"Bearer {CANARY}"}  # the key was really used

    out = capsys.readouterr()
    assert CANARY not in out.out + out.err
    assert CANARY not in caplog.text and any(r.name.startswith(("openai", "httpx", "httpcore")) for r in caplog.records)
    assert files_containing(tmp, CANARY) == []
    assert len(list(tmp.rglob("*.sqlite*"))) >= 2  # the caches (and their WAL) were among the files searched
    for path in ("cells_sw.h5ad", "api.h5ad"):
        uns = ad.read_h5ad(tmp / path).uns
        assert CANARY not in repr(uns)
    assert CANARY not in repr(enc) and CANARY not in enc.identity
    assert CANARY.encode() not in pickle.dumps(enc)


def test_wrong_key_error_does_not_echo_it(env, small_adata, monkeypatch, capsys, caplog):
    tmp = env
    monkeypatch.setenv("OPENAI_API_KEY", WRONG)
    h5ad = tmp / "cells.h5ad"
    small_adata.write_h5ad(h5ad)
    with FakeOpenAI(dim=16, api_key=CANARY) as srv, caplog.at_level(logging.DEBUG):
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        code = main(["-v", "embed-cells", str(h5ad), str(tmp / "out.h5ad"), "--method", "s", "--encoder", "openai:local-embedder"])
    err = capsys.readouterr().err
    assert code == 2 and "refused the API key" in err and "OPENAI_API_KEY" in err
    assert WRONG not in err and WRONG not in caplog.text
    assert files_containing(tmp, WRONG) == []


def test_key_in_the_server_url_is_kept_out_of_identity_and_uns(small_adata):
    """Credentials some proxies put in the URL (user:password@host, ?api-key=) are dropped from identities."""
    from genept.encoders.openai import OpenAIEncoder

    url = f"http://user:{CANARY}@127.0.0.1:9/v1?api-key={CANARY}"
    enc = OpenAIEncoder("text-embedding-3-small", base_url=url, api_key="k", dimensions=4)
    assert CANARY not in enc.identity and CANARY not in repr(enc)
    assert "127.0.0.1:9/v1" in enc.identity


def test_ncbi_key_is_never_written_to_cache_or_logs(env, caplog):
    from genept.genes.sources.ncbi import NCBIClient

    tmp = env
    with FakeNCBI() as ncbi, caplog.at_level(logging.DEBUG):
        ncbi.push(500, b"server error")  # a retry, so the retry path logs too
        client = NCBIClient(ncbi.base_url, api_key=CANARY, cache_dir=tmp / "ncbi", sleep=lambda s: None)
        facts = client.fetch_facts(["CD3E", "INS"], species="human")
        assert ncbi.requests[-1]["params"]["api_key"] == CANARY  # sent, as NCBI asks (form body, not the URL)
        assert ncbi.requests[-1]["method"] == "POST"
    assert set(facts) == {"CD3E", "INS"}
    assert CANARY not in caplog.text
    assert files_containing(tmp, CANARY) == []
    assert np.any([p.suffix == ".sqlite3" for p in (tmp / "ncbi").iterdir()])
