"""Runs the docstring examples of src/genept under pytest (``--doctest-modules``, see pyproject.toml).

Examples run in a fresh temporary folder, with ``GENEPT_CACHE_DIR`` inside it and progress bars off,
so an example may write files (``emb.sqlite``) without touching the repository or the user's cache.
``np`` and ``pd`` are in every example's namespace; make any other data inside the example.

An example that needs shared data, the network or the real model is marked ``# doctest: +SKIP``,
with the reason in a comment line just above it (doctest allows nothing after the directive)::

    >>> # skipped: needs the 15,134 RefSeq summaries from ../shared/data
    >>> emb = embed_genes(GeneCorpus.load("corpus.json.gz"))  # doctest: +SKIP

Which modules run: while the 0.2 restructuring is under way, only the modules in
:data:`DOCTEST_MODULES` (paths under src/genept; a folder means every module in it). Set
:data:`DOCTEST_ALL` to ``True`` (or the environment variable ``GENEPT_DOCTEST_ALL=1``) to run every
module's examples; once they all pass, ``DOCTEST_ALL = True`` is the permanent setting.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GENEPT_PROGRESS", "0")

PACKAGE = Path(__file__).resolve().parent / "src" / "genept"

DOCTEST_ALL = True
"""Run the examples of every module of src/genept (the goal); ``False``: only :data:`DOCTEST_MODULES`."""

DOCTEST_MODULES: tuple[str, ...] = (
    "__init__.py",
    "_utils.py",
    "_serialize.py",
    "cells/validation.py",
    "encoders/__init__.py",
    "encoders/cache.py",
    "encoders/openai.py",
    "genes/sources/ncbi.py",
    "cells/layout.py",
    "genes/facts.py",
    "genes/ontology.py",
    "genes/sources/go.py",
    "pl/",
    "text/",
    "_io.py",
    "cells/embed.py",
    "cells/record.py",
    "cells/scaled.py",
    "evaluation/baselines.py",
    "evaluation/paper.py",
    "evaluation/published.py",
    "tl/_cells.py",
    "tl/_embed.py",
    "tl/_gene_embeddings.py",
    "tl/_genept_s.py",
    "tl/_genept_scaled.py",
    "tl/_genept_w.py",
    "tl/_ensembles.py",
    "tl/_programs.py",
    "tl/_queries.py",
    "tl/_store.py",
    "tl/_umap.py",
    "_checks.py",
    "genes/__init__.py",
    "genes/corpus.py",
    "genes/ids.py",
    "genes/sources/__init__.py",
    "genes/sources/files.py",
    "genes/sources/hgnc.py",
    "encoders/base.py",
    "encoders/hashing.py",
    "embeddings/__init__.py",
    "cells/__init__.py",
    "cells/blocks.py",
    "evaluation/__init__.py",
    "evaluation/metrics.py",
)
"""Modules (paths under src/genept) whose examples run while :data:`DOCTEST_ALL` is ``False``."""


def _doctests_enabled(path: Path) -> bool:
    if DOCTEST_ALL or os.environ.get("GENEPT_DOCTEST_ALL") == "1":
        return True
    rel = path.relative_to(PACKAGE).as_posix()
    return any(rel == m or rel.startswith(m.rstrip("/") + "/") for m in DOCTEST_MODULES)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    path = Path(collection_path).resolve()
    if path.suffix != ".py" or PACKAGE not in path.parents:
        return None  # folders and everything outside src/genept: pytest decides
    return None if _doctests_enabled(path) else True


@pytest.fixture(autouse=True)
def _doctest_sandbox(request: pytest.FixtureRequest, doctest_namespace: dict) -> None:
    """For docstring examples only: a temporary working folder and cache root, numpy and pandas."""
    if type(request.node).__name__ != "DoctestItem":
        return
    import numpy as np
    import pandas as pd

    doctest_namespace.setdefault("np", np)
    doctest_namespace.setdefault("pd", pd)
    tmp_path = request.getfixturevalue("tmp_path")
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GENEPT_PROGRESS", "0")
