"""OpenAIEncoder against a real HTTP server on 127.0.0.1 (tests/openai_server.py)."""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("openai")

from openai_server import FakeOpenAI, fake_vector, kill_when_stalled

from genept.encoders.cache import CachedEncoder, EmbeddingCache
from genept.encoders.openai import OpenAIEncoder, OpenAIEncoderError, estimate_tokens

KEY = "test-key"
TEXTS = [f"gene number {i} regulates pathway {i % 7}" for i in range(23)]


@pytest.fixture
def server():
    with FakeOpenAI(dim=16, api_key=KEY) as srv:
        yield srv


def make(srv: FakeOpenAI, **kw) -> OpenAIEncoder:
    kw.setdefault("api_key", KEY)
    kw.setdefault("backoff", 0.01)
    if kw.get("model", "text-embedding-3-small").startswith("text-embedding"):
        kw.setdefault("dimensions", srv.dim)
    return OpenAIEncoder(kw.pop("model", "text-embedding-3-small"), base_url=srv.base_url, **kw)


def expected(texts, dim):
    return np.stack([fake_vector(t, dim) for t in texts])


def test_encode_batches_and_vectors(server):
    enc = make(server, dimensions=16, batch_size=5)
    out = enc.encode(TEXTS)
    assert out.dtype == np.float32 and out.shape == (23, 16)
    np.testing.assert_allclose(out, expected(TEXTS, 16), atol=1e-6)
    assert [len(r.inputs) for r in server.requests] == [5, 5, 5, 5, 3]
    assert {r.encoding_format for r in server.requests} == {"base64"}
    assert {r.dimensions for r in server.requests} == {16}
    assert enc.stats.n_texts == 23 and enc.stats.n_truncated == 0
    assert enc.stats.n_tokens == sum(len(t.split()) for t in TEXTS)  # the server's usage, not the estimate


def test_float_answers_and_dimensions(server):
    server.ignore_format = True  # many compatible servers answer floats whatever was asked
    enc = make(server, dimensions=8)
    assert enc.dim == 8
    np.testing.assert_allclose(enc.encode(TEXTS[:3]), expected(TEXTS[:3], 8), atol=1e-6)


def test_unknown_model_probes_dimension(server):
    enc = make(server, model="my-local-model")
    assert enc.dim == 16
    assert server.requests[0].inputs == ["dimension probe"]
    assert enc.estimate(TEXTS)[1] is None


def test_key_never_in_identity_repr_or_pickle(server):
    enc = make(server, api_key="sk-secret-123")
    for s in (enc.identity, repr(enc)):
        assert "sk-secret-123" not in s
    assert b"sk-secret-123" not in pickle.dumps(enc)
    assert "127.0.0.1" in enc.identity


def test_bad_key_is_a_clear_error_without_retries(server):
    enc = make(server, api_key="wrong-key")
    with pytest.raises(OpenAIEncoderError, match="OPENAI_API_KEY") as info:
        enc.encode(["x"])
    assert "wrong-key" not in str(info.value)
    assert len(server.requests) == 1


def test_missing_key_for_openai_itself(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        OpenAIEncoder()


def test_rate_limit_honours_retry_after(server, caplog):
    server.faults.extend([("429", 0.3), ("429", 0.3)])
    enc = make(server, backoff=30.0)  # backoff would wait >= 45 s: only Retry-After (0.3 s) fits the bound below
    t0 = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="genept.encoders.openai"):
        out = enc.encode(TEXTS[:2])
    elapsed = time.perf_counter() - t0
    assert 0.6 <= elapsed < 12.0
    assert [r.status for r in server.requests] == [429, 429, 200]
    assert sum("HTTP 429" in r.message for r in caplog.records) == 2
    np.testing.assert_allclose(out, expected(TEXTS[:2], 16), atol=1e-6)


@pytest.mark.parametrize("header", ["Wed, 99 Foo 2026 99:99:99 GMT", "soon", "nan", "-5"])
def test_malformed_retry_after_is_retried_never_raised(server, header):
    # One odd header from a proxy must mean "back off as usual", not the end of a paid job.
    server.faults.append(("429", header))
    out = make(server, max_backoff=0.05).encode(TEXTS[:3])
    assert [r.status for r in server.requests] == [429, 200]
    np.testing.assert_allclose(out, expected(TEXTS[:3], 16), atol=1e-6)


def test_retry_after_ms_wins_and_is_seconds():
    from genept.encoders.openai import _server_wait

    assert _server_wait({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert _server_wait({"retry-after-ms": "junk", "retry-after": "2"}) == 2.0
    assert _server_wait({"retry-after": "Wed, 99 Foo 2026"}) is None
    assert _server_wait(None) is None and _server_wait(object()) is None


@pytest.mark.parametrize("fault", [("500",), ("503",), ("badjson",), ("truncated",)])
def test_transient_faults_are_retried(server, fault):
    server.faults.append(fault)
    out = make(server).encode(TEXTS[:4])
    assert len(server.requests) == 2
    np.testing.assert_allclose(out, expected(TEXTS[:4], 16), atol=1e-6)


def test_slow_response_times_out_and_retries(server):
    server.faults.append(("slow", 3.0))
    t0 = time.perf_counter()
    out = make(server, timeout=0.5).encode(TEXTS[:2])
    assert time.perf_counter() - t0 < 2.5
    assert len(server.requests) == 2
    np.testing.assert_allclose(out, expected(TEXTS[:2], 16), atol=1e-6)


def test_gives_up_after_max_retries(server):
    server.faults.extend([("500",)] * 3)
    with pytest.raises(OpenAIEncoderError, match="failed 3 times"):
        make(server, max_retries=2).encode(["a"])


def test_connection_refused_is_retried_then_reported():
    enc = OpenAIEncoder(base_url="http://127.0.0.1:9/v1", api_key=KEY, max_retries=1, backoff=0.01, dimensions=4)
    with pytest.raises(OpenAIEncoderError, match="connection error"):
        enc.encode(["a"])


def test_long_inputs_truncated_explicitly_and_counted(server, caplog):
    long = "word " * 400  # ~667 estimated tokens
    enc = make(server, max_input_tokens=50, max_batch_tokens=1000)
    with caplog.at_level(logging.WARNING, logger="genept.encoders.openai"):
        enc.encode([long, "short text"])
    sent = server.requests[0].inputs
    assert estimate_tokens(sent[0]) <= 50 and long.startswith(sent[0]) and len(sent[0]) > 100
    assert sent[1] == "short text"
    assert enc.stats.n_truncated == 1
    assert any("truncated" in r.message for r in caplog.records)


def test_batches_by_token_budget(server):
    texts = ["x" * 30] * 10  # 10 estimated tokens each
    make(server, max_batch_tokens=25, max_input_tokens=20).encode(texts)
    assert [len(r.inputs) for r in server.requests] == [2] * 5


def test_estimate_and_prices():
    enc = OpenAIEncoder("text-embedding-3-large", base_url="http://127.0.0.1:9/v1", api_key=KEY)
    tokens, cost = enc.estimate(["a" * 3000] * 1000)
    assert tokens == 1_000_000
    assert cost == pytest.approx(0.13)
    assert OpenAIEncoder("text-embedding-ada-002", api_key=KEY).estimate(["abc"]) == (1, pytest.approx(1e-7))


def test_empty_text_rejected_before_sending(server):
    with pytest.raises(ValueError, match="empty"):
        make(server).encode(["fine", "  "])
    assert server.requests == []


def test_cached_encoder_pays_once(server, tmp_path):
    path = tmp_path / "c.sqlite"
    first = CachedEncoder(make(server, batch_size=4), path).encode(TEXTS)
    n = len(server.requests)
    again = CachedEncoder(make(server, batch_size=4), path)
    np.testing.assert_array_equal(again.encode(TEXTS + TEXTS[:3]), np.vstack([first, first[:3]]))
    assert len(server.requests) == n and again.stats.n_cached == len(TEXTS)


_JOB = """
import json, sys
from genept.encoders.cache import CachedEncoder
from genept.encoders.openai import OpenAIEncoder
texts = json.load(open(sys.argv[1]))
enc = CachedEncoder(OpenAIEncoder("text-embedding-3-small", base_url=sys.argv[2], batch_size=4, dimensions=16), sys.argv[3])
enc.encode(texts)
print("finished")
"""


def test_kill_and_resume(tmp_path):
    """A job killed mid-way resumes from the cache: nothing cached is requested (or paid) again."""
    texts = [f"summary of gene {i}: a protein with some function {i * 13 % 17}" for i in range(40)]
    (tmp_path / "texts.json").write_text(json.dumps(texts))
    cache_path = tmp_path / "cache.sqlite"
    k = 3  # requests answered before the server stalls
    env = {**os.environ, "OPENAI_API_KEY": KEY}
    with FakeOpenAI(dim=16, api_key=KEY, slow_after=(k, 60.0)) as srv:
        proc = subprocess.Popen(
            [sys.executable, "-c", _JOB, str(tmp_path / "texts.json"), srv.base_url, str(cache_path)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        kill_when_stalled(srv, proc, k, timeout=60)
        first_run = srv.served_texts()
        assert len(first_run) == 4 * k

        enc = OpenAIEncoder("text-embedding-3-small", base_url=srv.base_url, api_key=KEY, batch_size=4, dimensions=16)
        with EmbeddingCache(cache_path) as cache:
            assert set(cache.get(enc.identity, texts)) == set(first_run)  # each answered batch was committed

        srv.slow_after = None
        n_before = len(srv.requests)
        resumed = CachedEncoder(enc, cache_path)
        out = resumed.encode(texts)
        again = [t for r in srv.requests[n_before:] for t in r.inputs]
    assert not set(again) & set(first_run)
    assert sorted(again + first_run) == sorted(texts)
    assert resumed.stats.n_cached == len(first_run)
    np.testing.assert_allclose(out, expected(texts, 16), atol=1e-6)  # equal to a clean run's vectors
