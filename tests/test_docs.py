"""The documentation build: the tutorial is a valid notebook, and a broken example fails the build.

The full site is built by ``make docs`` (in CI after ``make test``); here a two-page copy of its configuration
checks, in seconds, that a notebook cell that raises makes ``sphinx -W`` fail rather than publish the traceback.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_tutorial_is_a_clean_notebook_on_the_public_api():
    nb = json.loads((DOCS / "tutorial.ipynb").read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")  # outputs come from the build
    text = "\n".join(code)
    for step in ("build_corpus", "embed_genes", "tl.embed_cells", "evaluate_cells", "write_report", "tl.zero_shot_annotate"):
        assert step in text, step
    assert "pbmc68k_reduced" in text and "import genept" in text
    assert "genept.cli" not in text and not re.search(r"\._[a-z]", text)  # public API only: no private modules


def test_conf_fails_on_warnings_and_notebook_errors():
    conf = (DOCS / "conf.py").read_text()
    assert 'nb_execution_mode = "force"' in conf and "nb_execution_raise_on_error = True" in conf
    assert "sphinx.ext.intersphinx" not in conf  # builds offline
    makefile = (DOCS.parent / "Makefile").read_text()
    assert "sphinx -E -W -T --keep-going -b html docs build/docs/html" in makefile


def test_broken_notebook_fails_the_docs_build(tmp_path):
    pytest.importorskip("sphinx", reason="docs tools not installed: pip install 'genept[docs]'")
    pytest.importorskip("myst_nb", reason="docs tools not installed: pip install 'genept[docs]'")
    pytest.importorskip("ipykernel", reason="docs tools not installed: pip install 'genept[docs]'")
    src = tmp_path / "docs"
    src.mkdir()
    shutil.copy(DOCS / "conf.py", src / "conf.py")
    (src / "index.md").write_text("# t\n\n```{toctree}\nbroken\n```\n")
    nb = {
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "id": "c1", "source": "raise ValueError('broken example')"}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (src / "broken.ipynb").write_text(json.dumps(nb))
    run = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-T", "--keep-going", "-q", "-b", "html", str(src), str(tmp_path / "html")],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert run.returncode != 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "broken example" in run.stdout + run.stderr
