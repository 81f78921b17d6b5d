"""Reliability: faults during a job lose nothing already computed.

Covered elsewhere (not repeated here): OpenAI 429 / 500 / 503 / invalid or truncated body /
timeout / connection refused / 401 / kill-and-resume of the encoder in
``tests/test_encoders_openai.py``; NCBI 429 / 500 / timeout / malformed body / failed batch in
``tests/test_sources_ncbi.py``; cache interrupt-and-resume and two processes in
``tests/test_cache.py``. This module adds the same guarantees at the level users meet them (the
``genept genes embed`` command killed mid-job and rerun, the API failing mid-job) and the faults
of the files genept keeps: a damaged, locked or full cache, and a full disk under an output.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from genept._checks import CacheCorruptError, CacheLockedError, CacheWriteError
from genept.cli import main
from genept.embeddings import GeneEmbeddings
from genept.encoders import get_encoder
from genept.encoders.cache import CachedEncoder, EmbeddingCache
from genept.genes.corpus import GeneCorpus

openai = pytest.importorskip("openai")

from openai_server import FakeOpenAI, fake_vector, kill_when_stalled

KEY = "test-key-faults"
GENES = [
    "CD3E", "CD3D", "CD2", "IL7R", "CCR7", "LTB", "CD8A", "GZMB", "NKG7", "GNLY", "MS4A1", "CD79A",
    "CD19", "CD14", "LYZ", "S100A8", "S100A9", "FCGR3A", "CST3", "INS", "GCG", "SST", "PPY", "ACTB",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory) -> Path:
    """A 24-gene corpus with written summaries (built once through the CLI)."""
    tmp = tmp_path_factory.mktemp("corpus")
    rows = ["entrez_id\tsymbol\tfull_name\tgene_type\tsummary"]
    rows += [f"\t{g}\t{g} protein\tprotein-coding\tThe {g} gene has function number {i} in pathway {i % 5}." for i, g in enumerate(GENES)]
    (tmp / "refseq.tsv").write_text("\n".join(rows) + "\n")
    (tmp / "genes.txt").write_text("\n".join(GENES) + "\n")
    path = tmp / "corpus.json"
    argv = ["genes", "build-corpus", "-o", str(path), "--source", f"refseq:{tmp / 'refseq.tsv'}", "--genes-from", str(tmp / "genes.txt"), "--no-compose"]
    assert main(argv) == 0
    assert len(GeneCorpus.load(path)) == len(GENES)
    return path


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".") and (p.suffix == ".tmp" or ".tmp" in p.name or p.suffix in (".npz", ".h5ad"))]


# -- a job killed mid-way, through the command line -------------------------------------------------
_CLI = "import sys; from genept.cli import main; sys.exit(main(sys.argv[1:]))"


def embed_argv(corpus_file, base_url, cache, out):
    return [
        "genes", "embed", "--corpus", str(corpus_file), "--encoder", "openai:text-embedding-3-small", "--base-url", base_url,
        "--dimensions", "16", "--batch-size", "4", "--cache", str(cache), "-o", str(out), "--yes", "-q",
    ]  # fmt: skip


def test_cli_genes_embed_killed_mid_job_resumes_without_paying_twice(corpus_file, tmp_path, capsys, monkeypatch):
    cache, out = tmp_path / "emb.sqlite", tmp_path / "genes.npz"
    out.write_bytes(b"previous embeddings")
    k = 3  # requests answered before the server stalls
    env = {**os.environ, "OPENAI_API_KEY": KEY, "GENEPT_PROGRESS": "0"}
    with FakeOpenAI(dim=16, api_key=KEY, slow_after=(k, 60.0)) as srv:
        proc = subprocess.Popen([sys.executable, "-c", _CLI, *embed_argv(corpus_file, srv.base_url, cache, out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        kill_when_stalled(srv, proc, k, timeout=90)
        paid_first = srv.served_texts()
        assert len(paid_first) == 4 * k
        assert out.read_bytes() == b"previous embeddings"  # the killed run replaced nothing
        assert no_temp_files(tmp_path)

        srv.slow_after = None
        n_before = len(srv.requests)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        assert main(embed_argv(corpus_file, srv.base_url, cache, out)) == 0
        paid_again = [t for r in srv.requests[n_before:] for t in r.inputs]
    printed = capsys.readouterr().out
    assert not set(paid_again) & set(paid_first)  # nothing embedded (or paid for) twice
    assert sorted(paid_again + paid_first) == sorted(GeneCorpus.load(corpus_file).texts.values())
    assert f"{len(GENES) - 4 * k} texts to send" in printed and f"{4 * k} already cached" in printed
    emb = GeneEmbeddings.load(out)
    corpus = GeneCorpus.load(corpus_file)
    expected = np.stack([fake_vector(corpus[g], 16) for g in emb.genes])
    np.testing.assert_allclose(emb.vectors, expected, atol=1e-6)  # the same as one clean run


def test_api_failing_mid_job_keeps_finished_batches_and_resumes(corpus_file, tmp_path):
    """The server stops answering after two batches (timeouts): the error is clear, the batches stay."""
    from genept.embeddings import embed_genes
    from genept.encoders.openai import OpenAIEncoder, OpenAIEncoderError

    cache = tmp_path / "emb.sqlite"
    corpus = GeneCorpus.load(corpus_file)
    with FakeOpenAI(dim=16, api_key=KEY, slow_after=(2, 5.0)) as srv:
        enc = OpenAIEncoder(base_url=srv.base_url, api_key=KEY, dimensions=16, batch_size=4, timeout=0.3, max_retries=1, backoff=0.01)
        with pytest.raises(OpenAIEncoderError, match="failed 2 times"):
            embed_genes(corpus, enc, cache=cache, show_progress=False)
        paid_first = srv.served_texts()
        assert len(paid_first) == 8
        with EmbeddingCache(cache) as c:
            assert set(c.get(enc.identity, list(corpus.texts.values()))) == set(paid_first)
        srv.slow_after = None
        n_before = len(srv.requests)
        emb = embed_genes(corpus, enc, cache=cache, show_progress=False)
        paid_again = [t for r in srv.requests[n_before:] for t in r.inputs]
    assert not set(paid_again) & set(paid_first)
    assert emb.meta["encode_stats"]["n_cached"] == 8 and np.isfinite(emb.vectors).all()


def test_cli_bad_api_key_is_one_line_error_and_writes_nothing(corpus_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-for-this-server")
    out = tmp_path / "genes.npz"
    with FakeOpenAI(dim=16, api_key=KEY) as srv:
        code = main(embed_argv(corpus_file, srv.base_url, tmp_path / "emb.sqlite", out))
        assert len(srv.requests) == 1  # a bad key is not retried
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("genept genes: error:") and "OPENAI_API_KEY" in err
    assert "sk-wrong-key" not in err and not out.exists()


def test_cli_interrupt_keeps_finished_batches(corpus_file, tmp_path, capsys, monkeypatch):
    """Ctrl-C mid-job: exit 130, finished batches cached, no output file; the rerun encodes the rest."""
    from genept.encoders.hashing import HashingEncoder

    calls = {"n": 0}
    real = HashingEncoder.encode

    def interrupted(self, texts, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, texts, **kw)

    monkeypatch.setattr(HashingEncoder, "encode", interrupted)
    monkeypatch.setattr(HashingEncoder, "batch_size", 5, raising=False)  # the cache commits every 5 texts
    cache, out = tmp_path / "emb.sqlite", tmp_path / "genes.npz"
    argv = ["genes", "embed", "--corpus", str(corpus_file), "--encoder", "hashing", "--cache", str(cache), "-o", str(out), "-q"]
    assert main(argv) == 130
    assert "interrupted; finished work is kept" in capsys.readouterr().err
    assert not out.exists() and no_temp_files(tmp_path)
    with EmbeddingCache(cache) as c:
        assert sum(c.summary().values()) == 10
    monkeypatch.setattr(HashingEncoder, "encode", real)
    assert main(argv) == 0
    assert f"from cache: 10; newly encoded: {len(GENES) - 10}" in capsys.readouterr().out


# -- a damaged cache -------------------------------------------------------------------------------
def test_garbage_at_the_cache_path_is_a_clear_error_and_is_left_alone(corpus_file, tmp_path, capsys):
    cache = tmp_path / "emb.sqlite"
    junk = b"this is somebody's notes, not a database\n" * 200
    cache.write_bytes(junk)
    out = tmp_path / "genes.npz"
    argv = ["genes", "embed", "--corpus", str(corpus_file), "--encoder", "hashing", "--cache", str(cache), "-o", str(out), "-q"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "is not a usable genept embedding cache" in err and "delete it (or move it away)" in err
    assert cache.read_bytes() == junk  # never overwritten: no silent loss
    assert not out.exists()


def _filled_cache(path: Path, n: int = 300) -> tuple[CachedEncoder, list[str]]:
    texts = [f"gene text number {i} " * 5 for i in range(n)]
    enc = CachedEncoder(get_encoder("hashing"), path, batch_size=50)
    enc.encode(texts)
    enc.cache.close()
    return enc, texts


def test_damaged_cache_pages_give_a_clear_error_not_a_sqlite_traceback(tmp_path):
    path = tmp_path / "emb.sqlite"
    _, texts = _filled_cache(path)
    with sqlite3.connect(path) as conn:  # fold the WAL into the file, then damage pages in the middle
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[8192:40960] = os.urandom(40960 - 8192)
    path.write_bytes(bytes(data))
    damaged = path.read_bytes()
    with pytest.raises(CacheCorruptError, match=r"is not a usable genept embedding cache \(.*\)\. genept leaves the file as it is: delete it"):
        CachedEncoder(get_encoder("hashing"), path).encode(texts)
    assert path.read_bytes() == damaged
    assert issubclass(CacheCorruptError, ValueError)  # the CLI turns it into a one-line error, exit 2


def test_damaged_ncbi_cache_is_a_clear_error(tmp_path):
    from genept.genes.sources.ncbi import NCBIClient

    folder = tmp_path / "ncbi"
    folder.mkdir()
    (folder / "esummary_gene.sqlite3").write_bytes(b"not sqlite" * 100)
    client = NCBIClient("http://127.0.0.1:9", cache_dir=folder, api_key="")
    with pytest.raises(CacheCorruptError, match="is not a usable NCBI response cache"):
        client.fetch_summaries(["916"])


# -- a locked cache --------------------------------------------------------------------------------
def hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another writer (as another process would) holding the cache's write lock."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_briefly_locked_cache_is_waited_for(tmp_path):
    path = tmp_path / "emb.sqlite"
    _filled_cache(path, 50)
    other = hold_write_lock(path)
    threading.Timer(0.4, lambda: other.execute("COMMIT")).start()
    enc = CachedEncoder(get_encoder("hashing"), EmbeddingCache(path, timeout=20))
    t0 = time.perf_counter()
    out = enc.encode(["a new text", "another new text"])
    assert time.perf_counter() - t0 >= 0.3  # it waited for the lock instead of failing
    assert np.isfinite(out).all() and enc.cache.summary()[enc.identity] == 52
    other.close()


def test_cache_locked_too_long_is_a_clear_error_and_loses_nothing(tmp_path):
    path = tmp_path / "emb.sqlite"
    _, texts = _filled_cache(path, 50)
    other = hold_write_lock(path)
    try:
        enc = CachedEncoder(get_encoder("hashing"), EmbeddingCache(path, timeout=0.3))
        with pytest.raises(CacheLockedError, match=r"is locked by another process \(waited 0.3 s\)\. Let that job finish"):
            enc.encode(["a new text"])
        assert enc.cache.get(enc.identity, texts[:5]).keys() == set(texts[:5])  # reading still works
    finally:
        other.execute("COMMIT")
        other.close()
    assert issubclass(CacheLockedError, RuntimeError)  # the CLI turns it into a one-line error, exit 2
    assert enc.encode(["a new text"]).shape == (1, 512)  # once released, the same job goes on
    assert enc.cache.summary()[enc.identity] == 51


# -- a full disk -----------------------------------------------------------------------------------
def test_full_disk_under_the_cache_keeps_committed_batches_and_resumes(tmp_path):
    path = tmp_path / "emb.sqlite"
    enc = CachedEncoder(get_encoder("hashing"), path, batch_size=50)
    enc.encode([f"first run {i}" for i in range(50)])
    pages = enc.cache.conn.execute("PRAGMA page_count").fetchone()[0]
    enc.cache.conn.execute(f"PRAGMA max_page_count={pages + 60}")  # SQLite's own "disk full" (SQLITE_FULL)
    texts = [f"second run {i} " * 10 for i in range(400)]
    with pytest.raises(CacheWriteError, match="the disk is full. Vectors committed before this point are kept"):
        enc.encode(texts)
    kept = enc.cache.summary()[enc.identity]
    assert 50 < kept < 450  # some batches of the second run made it before the disk filled
    enc.cache.conn.execute("PRAGMA max_page_count=1073741823")
    counting = CachedEncoder(get_encoder("hashing"), path, batch_size=50)
    counting.encode(texts)
    assert counting.stats.n_cached == kept - 50  # the committed ones are not encoded again
    assert counting.cache.summary()[enc.identity] == 450


def test_full_disk_under_the_output_keeps_the_old_file_and_the_cache(corpus_file, tmp_path, capsys, monkeypatch):
    cache, out = tmp_path / "emb.sqlite", tmp_path / "genes.npz"
    out.write_bytes(b"old embeddings")
    real = np.savez

    def enospc(fh, **arrays):
        fh.write(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", enospc)
    argv = ["genes", "embed", "--corpus", str(corpus_file), "--encoder", "hashing", "--cache", str(cache), "-o", str(out), "-q"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert out.read_bytes() == b"old embeddings" and no_temp_files(tmp_path)
    with EmbeddingCache(cache) as c:
        assert sum(c.summary().values()) == len(GENES)  # every vector was committed before the write
    monkeypatch.setattr(np, "savez", real)
    assert main(argv) == 0
    assert f"from cache: {len(GENES)}; newly encoded: 0" in capsys.readouterr().out
    assert len(GeneEmbeddings.load(out)) == len(GENES)


def test_corrupt_corpus_file_is_a_clear_cli_error(corpus_file, tmp_path, capsys):
    bad = tmp_path / "corpus.json"
    text = corpus_file.read_text()
    bad.write_text(text[: len(text) // 2])
    assert main(["genes", "embed", "--corpus", str(bad), "--encoder", "hashing", "-o", str(tmp_path / "g.npz"), "--no-cache"]) == 2
    assert "is not a readable genept corpus file" in capsys.readouterr().err
    assert json.loads(corpus_file.read_text())  # (the original is fine)
