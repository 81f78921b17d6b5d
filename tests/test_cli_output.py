"""What a user sees on the console: warnings once per cause with a count, in the command's own flags, no source
paths; progress as one line per stage when output is not a terminal."""

from __future__ import annotations

import logging
import warnings

import pytest

import genept.genes.corpus
from genept._utils import progress
from genept.cli import main, to_cli_words


@pytest.fixture
def noisy_build_corpus(monkeypatch):
    real = genept.genes.corpus.build_corpus

    def build_corpus(*args, **kwargs):
        for _ in range(3):
            warnings.warn("gene 'X' looks like a mouse gene; pass species='human' to read it as human", UserWarning, stacklevel=2)
        warnings.warn("an internal detail changed", FutureWarning, stacklevel=2)  # third-party style: hidden without -v
        for n in (30, 30, 7):
            logging.getLogger("genept.genes.corpus").warning("%d of %d texts were composed", n // 2, n)
        return real(*args, **kwargs)

    monkeypatch.setattr(genept.genes.corpus, "build_corpus", build_corpus)


def test_warnings_once_per_cause_with_flags_and_no_paths(tmp_path, noisy_build_corpus, capsys):
    genes = tmp_path / "genes.txt"
    genes.write_text("CD3E\n")
    assert main(["genes", "build-corpus", "-o", str(tmp_path / "c.json"), "--genes-from", str(genes)]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "warning:" in line]
    assert lines == [
        "genept genes: warning: gene 'X' looks like a mouse gene; pass --species human to read it as human (3 times)",
        "genept genes: warning: 33 of 67 texts were composed (summed over 3 reports)",
    ]
    assert ".py" not in err and "warnings.warn" not in err and "FutureWarning" not in err and "internal detail" not in err


def test_verbose_shows_other_notices(tmp_path, noisy_build_corpus, capsys):
    genes = tmp_path / "genes.txt"
    genes.write_text("CD3E\n")
    assert main(["-v", "genes", "build-corpus", "-o", str(tmp_path / "c.json"), "--genes-from", str(genes)]) == 0
    err = capsys.readouterr().err
    assert "warning: an internal detail changed" in err and ".py" not in err


def test_console_state_is_restored_after_a_command(tmp_path, capsys):
    root = logging.getLogger()
    handlers, level, show = list(root.handlers), root.level, warnings.showwarning
    main(["genes", "resolve", "CD3E"])
    assert root.handlers == handlers and root.level == level and warnings.showwarning is show


def test_errors_name_flags_not_python_arguments():
    assert to_cli_words("bad input; set layer='counts' or use_raw=True", {"--layer"}) == "bad input; set --layer counts or use_raw=True"
    assert to_cli_words("top_k=50 is too small", {"--top-k"}) == "--top-k 50 is too small"


def test_progress_is_one_line_per_stage_when_not_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv("GENEPT_PROGRESS", raising=False)
    for _ in progress(range(5), desc="stage one", unit="block"):
        pass
    with progress(total=40, desc="stage two", unit="text") as bar:
        for _ in range(4):
            bar.update(10)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("stage one: 5 blocks in ") and err[1].startswith("stage two: 40 texts in ")
    monkeypatch.setenv("GENEPT_PROGRESS", "0")
    with progress(total=3, desc="hidden", disable=False) as bar:
        bar.update(3)
    assert capsys.readouterr().err == ""
