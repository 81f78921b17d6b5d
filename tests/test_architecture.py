"""The layers of docs/architecture.md, enforced: no import cycle, no import from a higher layer.

The import graph of src/genept is read with ``ast`` (nothing is imported): every ``import genept.x``,
``from genept.x import y`` and relative import, at module level or inside functions. An import of
``genept.a.b`` is an edge to the deepest module that exists (``y`` in ``from genept.x import y`` when
``genept/x/y.py`` exists, else ``genept.x``); parent packages' ``__init__`` are not added as edges.

- Layers: every edge counts, also imports under ``if TYPE_CHECKING:`` (a type from a higher layer
  is a dependency on it all the same).
- Cycles: imports under ``if TYPE_CHECKING:`` are left out (they never run, so cannot cycle).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "genept"

#: docs/architecture.md, "Layers": first part of the module path below genept -> rank.
RANKS: dict[str, int] = {
    "__init__": 0,  # genept itself: __version__ and lazy attributes, imports nothing eagerly
    "_utils": 0,
    "_checks": 0,
    "_serialize": 0,
    "_io": 0,  # patch_h5ad: file plumbing next to _utils (not in the table yet)
    "genes": 1,
    "encoders": 2,
    "embeddings": 3,
    "cells": 4,
    "text": 5,
    "tl": 6,
    "pl": 6,
    "evaluation": 7,
    "demo": 8,
    "cli": 9,
}
#: Same-rank packages that must not import each other (docs/architecture.md).
FORBIDDEN_PAIRS = {("tl", "evaluation"), ("evaluation", "tl")}
#: pl draws stored coordinates: it imports nothing above cells.
CEILING = {"pl": RANKS["cells"]}

SUBPACKAGES = ("genes", "encoders", "embeddings", "cells", "text", "tl", "pl", "evaluation", "cli")


@dataclass(frozen=True)
class Edge:
    src: str  # importing module, e.g. genept.tl._embed
    dst: str  # imported module, e.g. genept.cells.embed
    line: int
    type_checking: bool

    def __str__(self) -> str:
        path = _module_file(self.src).relative_to(SRC.parent)
        return f"{self.src} -> {self.dst}  ({path}:{self.line}{', TYPE_CHECKING' if self.type_checking else ''})"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _module_file(name: str) -> Path:
    return MODULES[name]


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _deepest(name: str) -> str | None:
    """The deepest existing module that ``name`` (``genept.a.b.c``) names or lies in."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str) -> list[Edge]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"), filename=str(MODULES[module]))
    package = module if _is_package(module) else module.rpartition(".")[0]
    edges: list[Edge] = []

    def add(target: str, node: ast.AST, tc: bool) -> None:
        dst = _deepest(target)
        if dst is not None and dst != module:
            edges.append(Edge(module, dst, node.lineno, tc))

    def visit(node: ast.AST, tc: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, tc)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "genept" or alias.name.startswith("genept."):
                    add(alias.name, node, tc)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            if origin == "genept" or origin.startswith("genept."):
                for alias in node.names:
                    # `from genept.x import y`: y is a module when genept/x/y(.py) exists
                    sub = f"{origin}.{alias.name}"
                    add(sub if sub in MODULES else origin, node, tc)
        for child in ast.iter_child_nodes(node):
            visit(child, tc)

    visit(tree, False)
    return edges


def _graph() -> list[Edge]:
    return [edge for module in MODULES for edge in _imports(module)]


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _cycles(edges: list[Edge]) -> list[list[str]]:
    """Strongly connected components with more than one module (or a self-loop), Tarjan's algorithm."""
    succ: dict[str, set[str]] = {m: set() for m in MODULES}
    for e in edges:
        succ[e.src].add(e.dst)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:  # recursion depth is bounded by the module count (~100)
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in succ[v]:
                out.append(sorted(comp))

    for v in sorted(MODULES):
        if v not in index:
            strong(v)
    return out


def _layer_violations(edges: list[Edge]) -> list[str]:
    bad = []
    for e in edges:
        a, b = _top(e.src), _top(e.dst)
        if a not in RANKS or b not in RANKS:
            continue  # reported by test_every_module_has_a_layer
        if a == b:
            continue  # inside one package (or layer 0's modules): rank alone cannot order them
        if RANKS[b] > CEILING.get(a, RANKS[a]):
            bad.append(f"{e}: {a} (rank {RANKS[a]}) imports {b} (rank {RANKS[b]})")
        elif (a, b) in FORBIDDEN_PAIRS:
            bad.append(f"{e}: {a} and {b} must not import each other")
    return bad


# -- the tests ------------------------------------------------------------------------------------
def test_the_graph_reader_sees_every_kind_of_import():
    # A check of the checker: known edges of the current tree, one per import form.
    edges = {(e.src, e.dst) for e in _graph()}
    assert ("genept.encoders.cache", "genept._utils") in edges  # module level, from-import
    assert ("genept.encoders", "genept.encoders.cache") in edges  # inside a function
    assert ("genept.encoders", "genept.encoders.base") in edges
    assert len(edges) > 50


def test_relative_and_plain_imports_resolve(tmp_path, monkeypatch):
    pkg = tmp_path / "genept"
    (pkg / "cells").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "_utils.py").write_text("")
    (pkg / "cells" / "__init__.py").write_text("from . import kernels\nfrom .kernels import f\n")
    (pkg / "cells" / "kernels.py").write_text(
        "import genept._utils\nfrom .. import _utils\n\ndef g():\n    from genept.tl import x\n"
    )
    (pkg / "tl.py").write_text("from genept.cells.kernels import f\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    monkeypatch.setattr(sys.modules[__name__], "MODULES", _modules())
    edges = {(e.src, e.dst) for e in _graph()}
    assert edges == {
        ("genept.cells", "genept.cells.kernels"),
        ("genept.cells.kernels", "genept._utils"),
        ("genept.cells.kernels", "genept.tl"),
        ("genept.tl", "genept.cells.kernels"),
    }
    assert _cycles(_graph()) == [["genept.cells.kernels", "genept.tl"]]
    assert len(_layer_violations(_graph())) == 1  # cells (4) -> tl (6)


def test_every_module_has_a_layer():
    unplaced = sorted(m for m in MODULES if _top(m) not in RANKS)
    assert not unplaced, (
        f"{len(unplaced)} modules of src/genept have no layer in docs/architecture.md (move them into a layer, "
        "or add the layer to the table and to RANKS here):\n  " + "\n  ".join(unplaced)
    )


def test_no_import_cycles():
    cycles = _cycles([e for e in _graph() if not e.type_checking])
    if cycles:
        edges = [e for e in _graph() if not e.type_checking]
        lines = []
        for comp in cycles:
            members = set(comp)
            lines.append("cycle: " + " <-> ".join(comp))
            lines += [f"    {e}" for e in edges if e.src in members and e.dst in members]
        pytest.fail(f"{len(cycles)} import cycles in src/genept:\n" + "\n".join(lines), pytrace=False)


def test_no_import_from_a_higher_layer():
    bad = _layer_violations(_graph())
    if bad:
        pytest.fail(
            f"{len(bad)} imports go up the layers of docs/architecture.md (a module may import only from its own "
            "layer and the layers below; tl and evaluation never import each other; pl imports nothing above cells):\n  "
            + "\n  ".join(bad),
            pytrace=False,
        )


def test_every_subpackage_is_an_attribute_of_genept():
    code = (
        "import sys, genept\n"
        "heavy = sorted(m for m in ('anndata', 'scanpy', 'torch', 'sklearn', 'matplotlib', 'numpy') if m in sys.modules)\n"
        "assert not heavy, f'import genept imported {heavy}'\n"
        f"for name in {SUBPACKAGES!r}:\n"
        "    module = getattr(genept, name)\n"
        "    assert module.__name__ == 'genept.' + name, module\n"
        "assert set(genept.SUBPACKAGES) <= set(dir(genept))\n"
        "try:\n    genept.no_such_thing\nexcept AttributeError:\n    pass\nelse:\n    raise AssertionError('no AttributeError')\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
    assert set(SUBPACKAGES) <= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
