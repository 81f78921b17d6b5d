"""The one copy of each shared helper: retry_after, the cache root, serialisation, the counts rule,
and get_encoder(cache=)."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from genept._serialize import dump_json, h5ad_safe, to_jsonable
from genept._utils import RETRY_AFTER_CAP, cache_dir, retry_after
from genept.cells.validation import looks_like_counts, warn_if_not_counts

try:
    from ncbi_server import FakeNCBI
except ImportError:  # tests imported as a package
    from tests.ncbi_server import FakeNCBI


# -- retry_after --------------------------------------------------------------------------------
NOW = dt.datetime(2026, 10, 21, 7, 28, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (" 1.5 ", 1.5),
        (b"3", 3.0),
        (4, 4.0),
        ("0", 0.0),
        ("-3", 0.0),  # negative: go now
        ("1e12", RETRY_AFTER_CAP),  # capped
        ("inf", RETRY_AFTER_CAP),
        ("Wed, 21 Oct 2026 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),  # in the past
        ("Wed, 21 Oct 2026 07:28:30", 30.0),  # no zone: read as UTC
        (None, None),
        ("", None),
        ("   ", None),
        ("soon", None),
        ("nan", None),
        ("1,5", None),
        ("Wed, 99 Foo 2026 99:99:99 GMT", None),
        ("Wed, 21 Oct 2026 25:61:61 GMT", None),
        ("Mon, 01 Jan 99999 00:00:00 GMT", None),
        (True, None),
        (object(), None),
        (b"\xff\xfe", None),
    ],
)
def test_retry_after_never_raises(value, expected):
    got = retry_after(value, now=NOW)
    assert got == expected if expected is not None else got is None


def test_retry_after_cap_and_real_clock():
    assert retry_after("100", cap=60) == 60
    later = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_after(later) <= 31


# -- one cache root -----------------------------------------------------------------------------
def test_cache_dir_default_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv("GENEPT_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "genept"
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere"


def test_genept_cache_dir_moves_every_cache(monkeypatch, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "root"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg"))  # no longer consulted by any cache
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(root))
    from genept.encoders import get_encoder
    from genept.encoders.cache import EmbeddingCache, default_cache_path
    from genept.encoders.static import static_cache_dir
    from genept.genes.sources.ncbi import NCBIClient, default_cache_dir

    # the paths
    assert default_cache_path() == root / "embeddings.sqlite"
    assert EmbeddingCache().path == root / "embeddings.sqlite"
    assert default_cache_dir() == root / "ncbi"
    assert static_cache_dir() == root / "static"
    # and the files really written there
    enc = get_encoder("hashing", cache=True, dim=8)
    enc.encode(["T cell receptor"])
    enc.cache.close()
    assert (root / "embeddings.sqlite").is_file()
    with FakeNCBI() as ncbi:
        client = NCBIClient(ncbi.base_url, api_key="", sleep=lambda s: None)
        assert client.cache_dir == root / "ncbi"
        assert "916" in client.fetch_summaries(["916"])
    assert (root / "ncbi" / "esummary_gene.sqlite3").is_file()
    assert not any(home.rglob("*")), f"something was written under HOME: {list(home.rglob('*'))}"


# -- get_encoder(cache=) ------------------------------------------------------------------------
def test_get_encoder_owns_the_cache_wrapping(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path / "root"))
    from genept.encoders import get_encoder
    from genept.encoders.cache import CachedEncoder, EmbeddingCache
    from genept.encoders.hashing import HashingEncoder

    assert isinstance(get_encoder("hashing"), HashingEncoder)
    assert isinstance(get_encoder("hashing", cache=False), HashingEncoder)
    assert isinstance(get_encoder("hashing", cache=None), HashingEncoder)
    default = get_encoder("hashing", cache=True)
    assert isinstance(default, CachedEncoder) and default.cache.path == tmp_path / "root" / "embeddings.sqlite"
    by_path = get_encoder("hashing", cache=tmp_path / "mine.sqlite")
    assert by_path.cache.path == tmp_path / "mine.sqlite"
    store = EmbeddingCache(tmp_path / "store.sqlite")
    assert get_encoder("hashing", cache=store).cache is store
    raw = HashingEncoder(dim=16)
    wrapped = get_encoder(raw, cache=True)
    assert isinstance(wrapped, CachedEncoder) and wrapped.encoder is raw
    assert get_encoder(wrapped, cache=tmp_path / "other.sqlite") is wrapped  # never wrapped twice
    assert get_encoder(wrapped) is wrapped
    with pytest.raises(TypeError, match="cache must be"):
        get_encoder("hashing", cache=3)
    x = by_path.encode(["a b", "a b"])
    by_path.encode(["a b"])
    assert by_path.stats.n_cached == 1 and x.shape == (2, by_path.dim)


# -- serialisation ------------------------------------------------------------------------------
def test_to_jsonable_is_strict_json():
    from dataclasses import dataclass
    from enum import Enum

    class Kind(Enum):
        A = "a"

    @dataclass
    class Rec:
        n: np.int32
        v: np.ndarray

    value = {
        1: np.float32(0.25),
        "arr": np.array([[1, 2], [3, 4]], dtype=np.int64),
        "bad": [float("nan"), np.float64("inf"), -math.inf],
        "path": Path("/a/b"),
        "set": {"b", "a"},
        "mixed": {1, "x"},
        "tuple": (np.bool_(True), None),
        "when": dt.date(2026, 1, 2),
        "kind": Kind.A,
        "rec": Rec(np.int32(3), np.zeros(2)),
    }
    out = to_jsonable(value)
    json.dumps(out, allow_nan=False)  # strict JSON
    assert out["1"] == 0.25 and out["arr"] == [[1, 2], [3, 4]]
    assert out["bad"] == [None, None, None] and out["path"] == "/a/b" and out["set"] == ["a", "b"]
    assert sorted(map(str, out["mixed"])) == ["1", "x"] and out["tuple"] == [True, None]
    assert out["when"] == "2026-01-02" and out["kind"] == "a" and out["rec"] == {"n": 3, "v": [0.0, 0.0]}
    assert type(out["tuple"][0]) is bool


def test_h5ad_safe_round_trips_through_h5ad(tmp_path):
    import anndata as ad

    params = {"a": None, "n": np.int64(5), "f": np.float32(0.5), "flag": np.bool_(False), "genes": ("CD3E", "CD3D"),
              "nested": {"p": Path("x.npz"), "none": None, 3: "three"}, "set": {"z", "y"}}  # fmt: skip
    safe = h5ad_safe(params)
    adata = ad.AnnData(np.zeros((2, 2), dtype=np.float32))
    adata.uns["genept"] = safe
    adata.write_h5ad(tmp_path / "x.h5ad")
    back = ad.read_h5ad(tmp_path / "x.h5ad").uns["genept"]
    assert back["a"] == "" and back["n"] == 5 and back["flag"] == False  # noqa: E712 (numpy bool)
    assert list(back["genes"]) == ["CD3E", "CD3D"] and list(back["set"]) == ["y", "z"]
    assert back["nested"]["p"] == "x.npz" and back["nested"]["none"] == "" and back["nested"]["3"] == "three"


def test_dump_json_is_atomic(tmp_path):
    path = tmp_path / "deep" / "out.json"
    dump_json(path, {"x": np.arange(2), "name": "café"})
    assert json.loads(path.read_text(encoding="utf-8")) == {"x": [0, 1], "name": "café"}
    with pytest.raises(TypeError):
        dump_json(path, {"x": object()})
    assert json.loads(path.read_text(encoding="utf-8"))["x"] == [0, 1]  # the old file is kept
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]  # no temporary left behind


# -- the counts rule ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("X", "expected"),
    [
        (np.array([[0, 3], [1, 0]]), True),
        (np.array([[0.0, 3.0], [1.0, 0.0]], dtype=np.float32), True),
        (sp.csr_matrix(np.array([[0.0, 3.0], [1.0, 0.0]])), True),
        (np.array([[0.0, 1.0], [1.0, 0.0]]), True),  # 0/1 counts are counts (the old programs rule said no)
        (np.log1p(np.array([[0.0, 3.0], [1.0, 0.0]])), False),
        (np.array([[0.0, -1.0]]), False),  # scaled data
        (np.array([[-1, 2]]), False),  # negative integers are not counts
        (np.array([[np.nan, 1.0]]), False),
        (np.array([[np.inf, 1.0]]), False),
        (np.zeros((3, 2)), False),  # no evidence
        (np.zeros((0, 2)), False),
        (sp.csr_matrix((3, 2)), False),
        (np.array([[True, False]]), True),
        (np.array([["a", "b"]]), False),
    ],
)
def test_looks_like_counts(X, expected):
    assert looks_like_counts(X) is expected


def test_looks_like_counts_reads_only_the_first_rows():
    X = np.ones((10, 3))
    X[5:] = 0.5  # fractional only below the sample
    assert looks_like_counts(X, sample=5) is True
    assert looks_like_counts(X, sample=6) is False
    assert looks_like_counts(X, sample=None) is False


def test_looks_like_counts_on_backed_and_dask(tmp_path):
    import anndata as ad

    counts = sp.csr_matrix(np.random.default_rng(0).poisson(1.0, (50, 20)).astype(np.float32))
    ad.AnnData(counts).write_h5ad(tmp_path / "c.h5ad")
    backed = ad.read_h5ad(tmp_path / "c.h5ad", backed="r")
    assert looks_like_counts(backed.X) is True
    backed.file.close()
    da = pytest.importorskip("dask.array")
    assert looks_like_counts(da.from_array(counts.toarray(), chunks=(10, 20))) is True
    assert looks_like_counts(da.from_array(np.log1p(counts.toarray()), chunks=(10, 20))) is False


def test_warn_if_not_counts_follows_the_rule():
    with pytest.warns(UserWarning, match="does not look like raw counts"):
        assert warn_if_not_counts(np.array([[0.5, 2.0]]), "log1p") is True
    assert warn_if_not_counts(np.array([[1.0, 2.0]]), "log1p") is False
    assert warn_if_not_counts(np.zeros((2, 2)), "log1p") is False  # an all-zero block says nothing
    assert warn_if_not_counts(np.array([[0.5]]), "counts") is False  # counts transform: any values
