"""Marker genes named in a label's text, found and scored on arrays.

A cell-type description often names its markers: "pancreatic beta cell; expresses INS, IAPP and
PDX1". Those symbols are the most direct evidence a text can give, and they need no embedding:
:func:`marker_gene_sets` finds them among the dataset's genes and :func:`marker_scores` scores
them in the expression.

Which words count as gene symbols
    A word is a candidate when it is written like a gene symbol: human style (``INS``, ``CD3E``,
    ``HLA-DRA``, ``NKX6.1``: capitals, digits, ``-`` and ``.``, at least two characters) or mouse
    style (``Ins1``, ``Cd3e``: a capital then lower case; only taken when it is a gene of the
    dataset as written, and never as the first word of a sentence, where ordinary words are
    capitalised). A suffix such as ``-positive`` is cut (``CD14-positive`` -> ``CD14``). A
    candidate becomes a marker only if it is a gene of the dataset, directly, in another case
    (``GCG`` -> ``Gcg``), or through :class:`~genept.genes.ids.GeneResolver` (HGNC symbol,
    and mouse genes through their human orthologs). Aliases and previous symbols are followed
    only for words with a digit (``CD45`` -> ``PTPRC``, ``CD20`` -> ``MS4A1``): many plain
    abbreviations are some gene's alias (``IFN`` -> ``IFNA1``, ``SMA`` -> ``SMN1``,
    ``T`` -> ``TBXT``). A word without a digit directly before ``cell``/``cells``/
    ``lymphocyte`` (``NK cells``, ``PP cell``) names a cell type, not a gene, and is skipped.

How markers are scored
    :func:`marker_scores`: each marker gene is standardised across cells (mean 0, variance 1 on
    log-normalised expression), and a label's score is the mean over its markers. Standardising
    gives every marker the same weight whatever its expression level (INS and a transcription
    factor alike) and puts labels on one scale, so the best label per cell can be compared.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from genept.genes.ids import GeneResolver

logger = logging.getLogger(__name__)

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9]|[A-Za-z0-9]")
_HUMAN_STYLE = re.compile(r"^[A-Z][A-Z0-9]*(?:[.\-][A-Z0-9]+)*$")
_MOUSE_STYLE = re.compile(r"^[A-Z][a-z0-9]+(?:[.\-][A-Za-z0-9]+)*$")
_CELL_WORDS = frozenset({"cell", "cells", "lymphocyte", "lymphocytes"})
_ROUTES_ANY = frozenset({"symbol", "symbol_dot"})


def _words(text: str) -> list[tuple[str, bool, str]]:
    """``(word, sentence_initial, next_word)`` for each word of ``text``, suffixes like ``-positive`` cut."""
    out = []
    matches = list(_WORD.finditer(text))
    for i, m in enumerate(matches):
        word = m.group(0)
        parts = word.split("-")
        keep = []
        for p in parts:
            if p and p.isalpha() and p.islower():  # "-positive", "-like": the symbol ended before
                break
            keep.append(p)
        word = "-".join(keep).strip(".-")
        before = text[: m.start()].rstrip()
        initial = not before or before[-1] in ".!?:\n"
        nxt = matches[i + 1].group(0).lower() if i + 1 < len(matches) else ""
        if word:
            out.append((word, initial, nxt))
    return out


def symbol_candidates(text: str) -> list[str]:
    """The words of ``text`` written like gene symbols, in order, without repeats.

    See the module notes for the rule. Whether a candidate is a gene is decided later
    (:func:`marker_gene_sets`) against the dataset's genes.

    Examples
    --------
    >>> symbol_candidates("Beta cell: secretes insulin (INS); expresses INS, IAPP and NKX6.1.")
    ['INS', 'IAPP', 'NKX6.1']
    >>> symbol_candidates("NK cells and T cells; CD14-positive monocytes; Cd3e in mouse")
    ['CD14', 'Cd3e']
    """
    seen: dict[str, None] = {}
    for word, initial, nxt in _words(text):
        if len(word) < 2 or not any(c.isalpha() for c in word):
            continue
        has_digit = any(c.isdigit() for c in word)
        if nxt in _CELL_WORDS and not has_digit:
            continue
        if _HUMAN_STYLE.match(word) or (_MOUSE_STYLE.match(word) and not initial):
            seen.setdefault(word, None)
    return list(seen)


class _VarIndex:
    """The dataset's genes by name, by upper-case name and (lazily) by HGNC symbol."""

    def __init__(self, var_names: Sequence[str], species: str, resolver: GeneResolver | None) -> None:
        self.var = [str(v) for v in var_names]
        self.exact = {v: v for v in self.var}
        self.upper: dict[str, list[str]] = {}
        for v in self.var:
            self.upper.setdefault(v.upper(), []).append(v)
        self.species = species
        self._resolver = resolver
        self._by_symbol: dict[str, list[str]] | None = None

    @property
    def resolver(self) -> GeneResolver:
        if self._resolver is None:
            from genept.genes.ids import GeneResolver

            self._resolver = GeneResolver.default()
        return self._resolver

    def by_symbol(self) -> dict[str, list[str]]:
        if self._by_symbol is None:
            species = self.species
            if species == "auto":
                species = self.resolver.guess_species(self.var)
            self.species = species
            symbols = self.resolver.to_symbols(self.var, species=species)
            table: dict[str, list[str]] = {}
            for v, s in zip(self.var, symbols, strict=True):
                if s is not None:
                    table.setdefault(s, []).append(v)
            self._by_symbol = table
        return self._by_symbol

    def find(self, word: str) -> tuple[list[str], str]:
        """Genes of the dataset for one candidate word, and how they were found."""
        if word in self.exact:
            return [word], "var_names"
        if not _HUMAN_STYLE.match(word):
            return [], "mouse-style word not in var_names"
        if word in self.upper:
            return list(self.upper[word]), "var_names (case)"
        res = self.resolver.resolve([word], species="human").iloc[0]
        symbol, route = res["symbol"], str(res["route"])
        if symbol is None or (isinstance(symbol, float) and np.isnan(symbol)):
            return [], "not a gene symbol"
        if route not in _ROUTES_ANY and not any(c.isdigit() for c in word):
            return [], f"only an alias of {symbol} (words without a digit must be symbols)"
        genes = self.by_symbol().get(str(symbol), [])
        if str(symbol) in self.exact and str(symbol) not in genes:
            genes = [str(symbol), *genes]
        return genes, (f"{route} of {symbol}" if genes else f"{symbol} is not in the dataset")


def marker_gene_sets(
    texts: Mapping[str, str],
    var_names: Sequence[str],
    *,
    species: str = "auto",
    resolver: GeneResolver | None = None,
) -> tuple[dict[str, list[str]], dict[str, dict[str, str]]]:
    """The dataset's genes named in each label's text.

    Parameters
    ----------
    texts
        ``{label: description}``.
    var_names
        The dataset's gene names (human symbols, mouse symbols or ids the resolver reads).
    species
        ``"human"``, ``"mouse"`` or ``"auto"``: how ``var_names`` are matched to HGNC symbols
        (mouse genes through their human orthologs), as in :meth:`GeneEmbeddings.locate`.
    resolver
        A :class:`~genept.genes.ids.GeneResolver`; default the bundled tables (loaded only when
        a word is not a gene name of the dataset as written).

    Returns
    -------
    tuple
        ``(sets, notes)``: ``sets[label]`` the genes of ``var_names`` named in its text (in the
        order named; one symbol can give several genes, e.g. ``INS`` -> ``Ins1``, ``Ins2``);
        ``notes[label][word]`` how each candidate word was matched or why it was not.

    Examples
    --------
    >>> sets, notes = marker_gene_sets(
    ...     {"beta": "Beta cell: expresses INS and PDX1 (not GCG)", "T": "T cell: CD3E, CD2"},
    ...     ["INS", "PDX1", "GCG", "CD3E", "ACTB"], species="human")
    >>> sets
    {'beta': ['INS', 'PDX1', 'GCG'], 'T': ['CD3E']}
    >>> notes["T"]["CD2"]
    'CD2 is not in the dataset'
    """
    if species not in ("auto", "human", "mouse"):
        raise ValueError(f"species must be 'human', 'mouse' or 'auto', not {species!r}")
    index = _VarIndex(var_names, species, resolver)
    sets: dict[str, list[str]] = {}
    notes: dict[str, dict[str, str]] = {}
    for name, text in texts.items():
        genes: dict[str, None] = {}
        notes[name] = {}
        for word in symbol_candidates(str(text)):
            found, how = index.find(word)
            notes[name][word] = how
            for g in found:
                genes.setdefault(g, None)
        sets[name] = list(genes)
    return sets, notes


def marker_scores(
    X: Any, var_names: Sequence[str], gene_sets: Mapping[str, Sequence[str]], *, normalize_counts: bool = False
) -> np.ndarray:
    """Each set's mean standardised expression per cell: ``(n_cells, n_sets)`` float32.

    Every gene of a set is standardised across cells (mean 0, standard deviation 1; a gene
    that does not vary scores 0), then averaged over the set. Sets with no gene score NaN.

    Parameters
    ----------
    X
        Cells x genes, log-normalised, or raw counts with ``normalize_counts`` (dense or sparse).
    var_names
        Gene names of ``X``'s columns.
    gene_sets
        Set name -> genes (names in ``var_names``; others are ignored).
    normalize_counts
        ``X`` holds counts: score ``log1p`` of counts per 10,000 (each cell's total over all
        genes), as ``scanpy.pp.normalize_total`` + ``log1p`` would, computed on the marker
        columns only (no copy of ``X``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[5, 0, 1], [0, 4, 1], [0, 5, 1]], dtype=np.float32)
    >>> marker_scores(X, ["INS", "GCG", "ACTB"], {"beta": ["INS"], "alpha": ["GCG", "ACTB"], "none": []}).round(2).tolist()
    [[1.41, -0.7, nan], [-0.71, 0.3, nan], [-0.71, 0.4, nan]]
    >>> bool(marker_scores(X, ["INS", "GCG", "ACTB"], {"beta": ["INS"]}, normalize_counts=True)[0, 0] > 1)
    True
    """
    var = {str(v): i for i, v in enumerate(var_names)}
    cols = sorted({var[g] for genes in gene_sets.values() for g in genes if g in var})
    n = X.shape[0]
    out = np.full((n, len(gene_sets)), np.nan, dtype=np.float32)
    if not cols:
        return out
    if normalize_counts:
        from genept.cells.weighted import log1p_cp10k_columns

        sub = log1p_cp10k_columns(X, cols)
    else:
        sub = X[:, cols]
        sub = (sub.toarray() if hasattr(sub, "toarray") else np.asarray(sub)).astype(np.float64)
    sd = sub.std(axis=0)
    Z = (sub - sub.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    where = {c: j for j, c in enumerate(cols)}
    for k, genes in enumerate(gene_sets.values()):
        idx = [where[var[g]] for g in genes if g in var]
        if idx:
            out[:, k] = Z[:, idx].mean(axis=1)
    return out


__all__ = ["marker_gene_sets", "marker_scores", "symbol_candidates"]
