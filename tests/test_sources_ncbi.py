"""NCBI E-utilities client against a real HTTP server on 127.0.0.1 (no internet, no real sleeping)."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import socket

import pytest

from genept._utils import retry_after as _retry_after
from genept.genes.sources.ncbi import NCBIClient, NCBIError, RateLimiter, default_cache_dir

try:
    from ncbi_server import GENES, FakeNCBI
except ImportError:  # tests imported as a package
    from tests.ncbi_server import GENES, FakeNCBI

SYMBOLS = ["CD3E", "INS", "GCG", "ACTB", "SST", "PPY", "KRT19"]


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def ncbi():
    with FakeNCBI() as server:
        yield server


@pytest.fixture
def clock():
    return FakeClock()


def make_client(server, tmp_path, clock, **kw) -> NCBIClient:
    kw.setdefault("api_key", "")  # ignore any NCBI_API_KEY of the person running the tests
    return NCBIClient(server.base_url, cache_dir=tmp_path / "cache", clock=clock, sleep=clock.sleep, **kw)


def test_fetch_facts_batches_and_parses(ncbi, tmp_path, clock):
    client = make_client(ncbi, tmp_path, clock, batch_size=3, email="dev@example.org")
    facts = client.fetch_facts(SYMBOLS, species="human")

    assert [len(r["ids"]) for r in ncbi.requests] == [3, 3, 1]
    assert all(r["method"] == "POST" and r["path"].endswith("/entrez/eutils/esummary.fcgi") for r in ncbi.requests)
    p = ncbi.requests[0]["params"]
    assert (p["db"], p["retmode"], p["tool"], p["email"]) == ("gene", "json", "genept", "dev@example.org")
    assert "api_key" not in p
    assert sorted(i for r in ncbi.requests for i in r["ids"]) == sorted(GENES)

    assert set(facts) == set(SYMBOLS)
    cd3e = facts["CD3E"]
    assert cd3e.full_name == "CD3 epsilon subunit of T-cell receptor complex"
    assert cd3e.aliases == ("IMD18", "T3E", "TCRE")
    assert cd3e.summary.startswith("The protein encoded by this gene is the CD3-epsilon")
    assert (cd3e.source, cd3e.version) == ("ncbi", dt.date.today().isoformat())
    assert facts["PPY"].summary == ""  # NCBI has no summary: facts still come back, for composing


def test_identifiers_map_to_entrez_offline(ncbi, tmp_path, clock):
    client = make_client(ncbi, tmp_path, clock)
    facts = client.fetch_facts(["ENSG00000198851", "3630", "NOT_A_GENE"], species="human")
    assert set(facts) == {"CD3E", "INS"}
    assert sorted(ncbi.requests[0]["ids"]) == ["3630", "916"]


def test_cache_hit_makes_no_requests(ncbi, tmp_path, clock):
    first = make_client(ncbi, tmp_path, clock, batch_size=2).fetch_facts(SYMBOLS[:4], species="human")
    n = len(ncbi.requests)
    assert n == 2

    again = make_client(ncbi, tmp_path, clock, batch_size=2)
    second = again.fetch_facts(SYMBOLS[:4], species="human")
    assert len(ncbi.requests) == n and again.n_requests == 0
    assert second == first

    # Only the genes the cache lacks are fetched.
    third = make_client(ncbi, tmp_path, clock, batch_size=2).fetch_facts(SYMBOLS[:5], species="human")
    assert len(ncbi.requests) == n + 1 and ncbi.requests[-1]["ids"] == ["6750"]
    assert set(third) == set(SYMBOLS[:5])


def test_429_then_success_honours_retry_after(ncbi, tmp_path, clock):
    ncbi.push(429, '{"error":"API rate limit exceeded"}', {"Retry-After": "7", "Content-Type": "application/json"})
    facts = make_client(ncbi, tmp_path, clock).fetch_facts(["CD3E"], species="human")
    assert "CD3E" in facts
    assert len(ncbi.requests) == 2
    assert clock.sleeps == [7.0]


def test_500_then_success_backs_off(ncbi, tmp_path, clock):
    ncbi.push(500, "Internal Server Error")
    ncbi.push(503, "Service Unavailable")
    facts = make_client(ncbi, tmp_path, clock).fetch_facts(["INS"], species="human")
    assert facts["INS"].full_name == "insulin"
    assert len(ncbi.requests) == 3
    assert clock.sleeps == [0.5, 1.0]  # exponential backoff; the rate limiter never had to wait longer


def test_timeout_then_success(ncbi, tmp_path, clock):
    ncbi.push(200, b"{}", delay=1.0)  # answered too late
    facts = make_client(ncbi, tmp_path, clock, timeout=0.2).fetch_facts(["ACTB"], species="human")
    assert "ACTB" in facts
    assert len(ncbi.requests) == 2


def test_malformed_body_raises_clear_error_after_retries(ncbi, tmp_path, clock):
    for _ in range(3):
        ncbi.push(200, "<html>Service temporarily unavailable</html>", {"Content-Type": "text/html"})
    client = make_client(ncbi, tmp_path, clock, max_retries=2)
    with pytest.raises(NCBIError, match=r"esummary batch 1/1 \(1 ids, 916\.\.916\) failed after 3 attempts.*malformed"):
        client.fetch_facts(["CD3E"], species="human")
    assert len(ncbi.requests) == 3


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"header": {}, "esummaryresult": ["Something went wrong"]}),
        json.dumps({"result": {"uids": ["916"]}}),  # listed but no document
        json.dumps(["not", "an", "object"]),
    ],
)
def test_wrong_json_shapes_are_malformed(ncbi, tmp_path, clock, body):
    ncbi.push(200, body)
    with pytest.raises(NCBIError, match="malformed"):
        make_client(ncbi, tmp_path, clock, max_retries=0).fetch_facts(["CD3E"], species="human")


def test_failed_batch_keeps_finished_batches_cached(ncbi, tmp_path, clock):
    client = make_client(ncbi, tmp_path, clock, batch_size=2, max_retries=1)
    ncbi.push(200, ncbi.esummary(["916", "3630"]))  # batch 1 fine, batch 2 broken twice
    ncbi.push(200, "garbage")
    ncbi.push(200, "garbage")
    with pytest.raises(NCBIError, match="batch 2/2"):
        client.fetch_facts(SYMBOLS[:4], species="human")
    n = len(ncbi.requests)
    facts = make_client(ncbi, tmp_path, clock, batch_size=2).fetch_facts(SYMBOLS[:4], species="human")
    assert set(facts) == set(SYMBOLS[:4])
    assert len(ncbi.requests) == n + 1 and sorted(ncbi.requests[-1]["ids"]) == ["2641", "60"]


def test_http_400_is_not_retried(ncbi, tmp_path, clock):
    ncbi.push(400, "Invalid parameter")
    with pytest.raises(NCBIError, match="HTTP 400"):
        make_client(ncbi, tmp_path, clock).fetch_facts(["CD3E"], species="human")
    assert len(ncbi.requests) == 1


def test_error_entries_are_skipped_and_asked_again(tmp_path, clock):
    genes = {k: v for k, v in GENES.items() if k != "60"}  # this server has no ACTB document
    with FakeNCBI(genes) as server:
        client = make_client(server, tmp_path, clock)
        facts = client.fetch_facts(["CD3E", "ACTB"], species="human")
        assert set(facts) == {"CD3E"}
        make_client(server, tmp_path, clock).fetch_facts(["CD3E", "ACTB"], species="human")
        assert server.requests[-1]["ids"] == ["60"]  # not cached: asked for again


def test_unreachable_server_names_the_problem(tmp_path, clock):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = NCBIClient(f"http://127.0.0.1:{port}", cache_dir=tmp_path, max_retries=1, api_key="", clock=clock, sleep=clock.sleep)
    with pytest.raises(NCBIError, match="ConnectError"):
        client.fetch_summaries([916])
    assert client.n_requests == 2


def test_api_key_is_sent_and_raises_the_rate(ncbi, tmp_path, clock, monkeypatch):
    client = make_client(ncbi, tmp_path, clock, api_key="s3cret")
    client.fetch_facts(["CD3E"], species="human")
    assert ncbi.requests[-1]["params"]["api_key"] == "s3cret"
    assert client.limiter.interval == pytest.approx(0.1)

    monkeypatch.setenv("NCBI_API_KEY", "from-env")
    monkeypatch.setenv("NCBI_EMAIL", "env@example.org")
    env_client = NCBIClient(ncbi.base_url, cache_dir=tmp_path / "other", clock=clock, sleep=clock.sleep)
    env_client.fetch_facts(["INS"], species="human")
    assert ncbi.requests[-1]["params"]["api_key"] == "from-env"
    assert ncbi.requests[-1]["params"]["email"] == "env@example.org"

    monkeypatch.delenv("NCBI_API_KEY")
    assert NCBIClient(ncbi.base_url, cache_dir=tmp_path).limiter.interval == pytest.approx(1 / 3)


def test_requests_are_spaced_to_the_rate_limit(ncbi, tmp_path, clock):
    client = make_client(ncbi, tmp_path, clock, batch_size=1)
    client.fetch_facts(SYMBOLS[:4], species="human")
    assert len(ncbi.requests) == 4
    # The fake clock stands still between requests, so every request after the first waits 1/3 s.
    assert clock.sleeps == pytest.approx([1 / 3] * 3)


def test_rate_limiter_only_waits_when_needed(clock):
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    assert [limiter.wait() for _ in range(3)] == pytest.approx([0.0, 0.1, 0.1])
    clock.now += 5.0  # idle for a while: the next call goes at once
    assert limiter.wait() == 0.0
    clock.now += 0.04
    assert limiter.wait() == pytest.approx(0.06)
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)


def test_retry_after_parsing():
    assert _retry_after("3") == 3.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    later = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    assert 25 <= _retry_after(later) <= 31


@pytest.mark.parametrize("header", ["Wed, 99 Foo 2026 99:99:99 GMT", "soon", "", "nan", "1,5"])
def test_429_with_malformed_retry_after_backs_off_and_finishes(ncbi, tmp_path, clock, header):
    ncbi.push(429, '{"error":"API rate limit exceeded"}', {"Retry-After": header, "Content-Type": "application/json"})
    facts = make_client(ncbi, tmp_path, clock).fetch_facts(["CD3E"], species="human")
    assert "CD3E" in facts and len(ncbi.requests) == 2
    assert clock.sleeps == [0.5]  # the header was ignored: the client's own backoff


def test_huge_retry_after_is_capped(ncbi, tmp_path, clock):
    ncbi.push(429, "{}", {"Retry-After": "86400", "Content-Type": "application/json"})
    make_client(ncbi, tmp_path, clock).fetch_facts(["CD3E"], species="human")
    assert clock.sleeps == [60.0]


def test_default_cache_dir_follows_genept_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path / "root"))
    assert default_cache_dir() == tmp_path / "root" / "ncbi"
    assert NCBIClient(api_key="").cache_dir == tmp_path / "root" / "ncbi"


def test_rejects_non_numeric_ids(tmp_path):
    with pytest.raises(ValueError, match="integers"):
        NCBIClient(cache_dir=tmp_path).fetch_summaries(["CD3E"])
