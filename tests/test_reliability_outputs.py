"""Reliability: every file genept writes is complete or absent, never half-written.

Writers go through :func:`genept._utils.atomic_write` / :func:`~genept._utils.atomic_path`
(temporary file beside the target, renamed into place on success) or SQLite transactions (the
caches). :func:`test_every_file_writer_in_the_package_is_atomic` audits the source so that a new,
non-atomic writer fails the suite; the other tests inject a failure in the middle of a
representative set of writers and check that the old file is intact and no temporary file is
left. The table of cases is in docs/reliability.md.
"""

from __future__ import annotations

import ast
import errno
import io
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import genept
from genept.cli import main
from genept.embeddings import GeneEmbeddings

SRC = Path(genept.__file__).resolve().parent

# -- the audit ---------------------------------------------------------------------------------------
# Methods and functions that write files, by name.
WRITER_ATTRS = {
    "savefig", "write_h5ad", "write_zarr", "write_loom", "write_csvs", "to_csv", "to_parquet", "to_json", "to_pickle",
    "to_feather", "to_hdf", "savez", "savez_compressed", "save", "save_pretrained", "write_text", "write_bytes",
    "copyfile", "copy2", "copytree", "write_elem",
}  # fmt: skip
# ``save`` methods of genept's own containers delegate to atomic writers; calls to them are fine.
OWN_SAVE_RECEIVERS = {"corpus", "gene_emb", "emb", "self"}
# Writers outside an atomic block, each with the reason it is still all-or-nothing.
ALLOWED = {
    ("encoders/static.py", "distill_static_model"): "writes into a fresh temporary folder that is renamed into place",
}
ATOMIC = {"atomic_write", "atomic_path"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def _write_mode(call: ast.Call, position: int) -> bool:
    """Whether an open()/File() call asks for a writing mode."""
    mode = None
    if len(call.args) > position and isinstance(call.args[position], ast.Constant):
        mode = call.args[position].value
    for kw in call.keywords:
        if kw.arg == "mode" and isinstance(kw.value, ast.Constant):
            mode = kw.value.value
    return isinstance(mode, str) and any(c in mode for c in "wax+")


def _is_writer(call: ast.Call) -> str | None:
    func = call.func
    name = _name(func)
    if isinstance(func, ast.Name) and name == "open" and _write_mode(call, 1):
        return "open(..., 'w')"
    if isinstance(func, ast.Attribute):
        owner = _name(func.value)
        if name == "open" and _write_mode(call, 0):
            return "Path.open('w')"
        if name == "File" and owner == "h5py" and _write_mode(call, 1):
            return "h5py.File(..., 'w')"
        if name in ("dump",) and owner in ("json", "pickle"):
            return f"{owner}.dump"
        if name == "save" and (owner in OWN_SAVE_RECEIVERS or owner.endswith("emb")):
            return None
        if name in WRITER_ATTRS:
            return name
    return None


def _visit(node: ast.AST, rel: str, atomic: bool, func: str, problems: list[str]) -> None:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        func = node.name
    if isinstance(node, ast.With | ast.AsyncWith) and any(_name(item.context_expr) in ATOMIC for item in node.items):
        for child in node.body:
            _visit(child, rel, True, func, problems)
        for item in node.items:
            _visit(item.context_expr, rel, atomic, func, problems)
        return
    if isinstance(node, ast.Call) and not atomic and (rel, func) not in ALLOWED:
        what = _is_writer(node)
        if what:
            problems.append(f"{rel}:{node.lineno} in {func}(): {what} outside atomic_write/atomic_path")
    for child in ast.iter_child_nodes(node):
        _visit(child, rel, atomic, func, problems)


def find_non_atomic_writers(root: Path) -> list[str]:
    """``file:line in function(): writer`` for every file-writing call outside an atomic block."""
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        _visit(ast.parse(path.read_text(), filename=str(path)), rel, False, "<module>", problems)
    return problems


def test_every_file_writer_in_the_package_is_atomic():
    problems = find_non_atomic_writers(SRC)
    assert not problems, "non-atomic writers:\n" + "\n".join(problems)


def test_the_audit_finds_a_plain_writer(tmp_path):
    """The audit itself must catch what it is for (else the test above could not fail)."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "ok.py").write_text(
        "from genept._utils import atomic_path, atomic_write\n"
        "def good(adata, fig, path):\n"
        "    with atomic_path(path) as tmp:\n"
        "        adata.write_h5ad(tmp)\n"
        "    with atomic_write(path, 'w') as fh:\n"
        "        fh.write('x')\n"
    )
    (pkg / "bad.py").write_text(
        "import json, numpy as np\n"
        "def bad(adata, fig, path, obj):\n"
        "    adata.write_h5ad(path)\n"
        "    fig.savefig(path)\n"
        "    np.savez(path, x=1)\n"
        "    with open(path, 'w') as fh:\n"
        "        json.dump(obj, fh)\n"
        "    open(path).read()\n"
    )
    found = find_non_atomic_writers(pkg)
    assert [p.split(" outside")[0] for p in found] == [
        "bad.py:3 in bad(): write_h5ad",
        "bad.py:4 in bad(): savefig",
        "bad.py:5 in bad(): savez",
        "bad.py:6 in bad(): open(..., 'w')",
        "bad.py:7 in bad(): json.dump",
    ]


# -- failures injected mid-write -----------------------------------------------------------------
def enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files the atomic writers would have left."""
    return sorted(p.name for p in folder.rglob(".*") if p.is_file())


@pytest.fixture
def small_emb(small_adata, rng):
    genes = list(small_adata.var_names)
    return GeneEmbeddings(genes, rng.normal(size=(len(genes), 8)).astype(np.float32), {"encoder": "test:random"})


def _half_then(exc):
    """A writer that writes half its output into the file it was given, then fails."""

    def write(target, *args, **kwargs):
        if isinstance(target, io.TextIOBase):
            target.write("half written")
        elif hasattr(target, "write"):
            target.write(b"half written")
        else:
            Path(target).write_bytes(b"half written")
        raise exc

    return write


@pytest.mark.parametrize("exc", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()], ids=["enospc", "interrupt"])
def test_gene_embeddings_save(small_emb, tmp_path, monkeypatch, exc):
    path = tmp_path / "genes.npz"
    small_emb.save(path)
    before = path.read_bytes()
    monkeypatch.setattr(np, "savez", _half_then(exc))
    with pytest.raises(type(exc)):
        small_emb.save(path)
    assert path.read_bytes() == before and not leftovers(tmp_path)
    monkeypatch.undo()
    assert len(GeneEmbeddings.load(path)) == len(small_emb)


def test_corpus_save_when_the_final_flush_fails(tmp_path, monkeypatch):
    """Everything written, but the disk refuses the flush (fsync): the old corpus stays."""
    import genept._utils as utils
    from genept.genes.corpus import GeneCorpus, build_corpus

    corpus = build_corpus(["CD3E", "INS", "GCG"], species="human")
    path = corpus.save(tmp_path / "corpus.json.gz")
    before = path.read_bytes()
    bigger = build_corpus(["CD3E", "INS", "GCG", "SST", "PPY"], species="human")
    monkeypatch.setattr(utils.os, "fsync", enospc)
    with pytest.raises(OSError, match="No space left"):
        bigger.save(path)
    assert path.read_bytes() == before and not leftovers(tmp_path)
    monkeypatch.undo()
    assert len(GeneCorpus.load(path)) == 3


def test_embed_cells_output_h5ad(small_adata, small_emb, tmp_path, monkeypatch, capsys):
    import anndata.io

    src, out = tmp_path / "in.h5ad", tmp_path / "out.h5ad"
    small_adata.write_h5ad(src)
    genes = small_emb.save(tmp_path / "genes.npz")
    out.write_bytes(b"previous output")
    calls = {"n": 0}
    real = anndata.io.write_elem

    def fail_on_second(*args, **kwargs):  # obsm written, then the disk fills while writing uns
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(anndata.io, "write_elem", fail_on_second)
    assert main(["embed-cells", str(src), str(out), "--method", "w", "--genes", str(genes), "-q"]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert out.read_bytes() == b"previous output" and not leftovers(tmp_path)
    monkeypatch.undo()
    assert main(["embed-cells", str(src), str(out), "--method", "w", "--genes", str(genes), "-q"]) == 0
    assert np.isfinite(anndata.read_h5ad(out).obsm["X_genept_w"]).all()


def test_resolve_table_output(tmp_path, monkeypatch, capsys):
    import pandas as pd

    out = tmp_path / "resolved.tsv"
    out.write_text("old table\n")
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, fh, **kw: _half_then(OSError(errno.ENOSPC, "No space left on device"))(fh))
    assert main(["genes", "resolve", "CD3E", "INS", "-o", str(out), "--species", "human"]) == 2
    assert out.read_text() == "old table\n" and not leftovers(tmp_path)
    capsys.readouterr()


def test_bench_report_json_and_markdown(tmp_path, monkeypatch):
    import json

    from genept.evaluation import report

    report.write_report(tmp_path, command="first")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    import contextlib

    from genept import _serialize

    real_atomic_write = _serialize.atomic_write

    @contextlib.contextmanager
    def disk_full_midway(path, mode="wb"):  # results.json is written through _serialize.dump_json
        with real_atomic_write(path, mode) as fh:
            _half_then(OSError(errno.ENOSPC, "No space left"))(fh)
            yield fh

    monkeypatch.setattr(_serialize, "atomic_write", disk_full_midway)
    with pytest.raises(OSError):
        report.write_report(tmp_path, command="second")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before and not leftovers(tmp_path)
    monkeypatch.undo()
    report.write_report(tmp_path, command="third")
    assert json.loads((tmp_path / "results.json").read_text())["meta"]["command"] == "third"


def test_png_figures(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from genept.evaluation.report import plot_confusion

    path = plot_confusion([[3, 1], [0, 4]], ["a", "b"], tmp_path / "cm.png", title="first")
    before = path.read_bytes()
    monkeypatch.setattr(Figure, "savefig", lambda self, target, **kw: _half_then(OSError(errno.ENOSPC, "No space left"))(target))
    with pytest.raises(OSError):
        plot_confusion([[1, 1], [1, 4]], ["a", "b"], path, title="second")
    assert path.read_bytes() == before and not leftovers(tmp_path)


def test_programs_and_annotate_h5ad_output(small_adata, tmp_path, monkeypatch):
    import anndata as ad

    from genept._io import write_h5ad as _write_h5ad

    path = tmp_path / "programs.h5ad"
    _write_h5ad(small_adata, str(path))
    before = path.read_bytes()
    monkeypatch.setattr(ad.AnnData, "write_h5ad", lambda self, target, **kw: _half_then(KeyboardInterrupt())(target))
    with pytest.raises(KeyboardInterrupt):
        _write_h5ad(small_adata[:10].copy(), str(path))
    assert path.read_bytes() == before and not leftovers(tmp_path)


def test_static_model_distillation_interrupted_leaves_nothing(tmp_path, monkeypatch):
    import types

    pytest.importorskip("model2vec")
    from genept.encoders.static import distill_static_model

    src = tmp_path / "model"
    src.mkdir()
    # model2vec's distill() fails (disk full) partway; a stand-in module avoids importing torch.
    fake = types.ModuleType("model2vec.distill")
    fake.distill = enospc
    monkeypatch.setitem(sys.modules, "model2vec.distill", fake)
    out = tmp_path / "static" / "m"
    with pytest.raises(OSError, match="No space left"):
        distill_static_model(src, out)
    assert not out.exists() and list((tmp_path / "static").iterdir()) == []  # no half-made model folder


def test_kill_9_mid_write_leaves_the_old_file(tmp_path):
    """SIGKILL cannot be cleaned up after: the old file is intact; at worst a hidden temp file stays."""
    path = tmp_path / "result.json"
    path.write_text('{"old": true}')
    script = (
        "import sys, time\n"
        "from genept._utils import atomic_write\n"
        "with atomic_write(sys.argv[1], 'w') as fh:\n"
        "    fh.write('{\"new\": ' + 'x' * 100000)\n"
        "    fh.flush()\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert path.read_text() == '{"old": true}'
    temp = [p for p in tmp_path.iterdir() if p.name.startswith(".result.json.")]
    assert len(temp) == 1 and temp[0].stat().st_size > 100000  # the abandoned temporary file, hidden


@pytest.mark.parametrize("backed", [False, True], ids=["memory", "backed"])
def test_embed_cells_in_place_never_damages_the_input(small_adata, small_emb, tmp_path, monkeypatch, capsys, backed):
    """OUT = IN: a failure mid-write leaves the input as it was; success updates it in one rename."""
    import anndata.io

    src = tmp_path / "cells.h5ad"
    small_adata.write_h5ad(src)
    genes = small_emb.save(tmp_path / "genes.npz")
    before = src.read_bytes()
    argv = ["embed-cells", str(src), str(src), "--method", "w", "--genes", str(genes), "-q"] + (["--backed"] if backed else [])
    monkeypatch.setattr(anndata.io, "write_elem", enospc)
    assert main(argv) == 2
    assert src.read_bytes() == before and not leftovers(tmp_path)
    monkeypatch.undo()
    assert main(argv) == 0
    capsys.readouterr()
    back = anndata.read_h5ad(src)
    assert back.shape == small_adata.shape and np.isfinite(back.obsm["X_genept_w"]).all()
    np.testing.assert_array_equal(back.X.toarray(), small_adata.X.toarray())
