"""Gene texts from local files: GenePT's JSON, RefSeq summary tables, any TSV/CSV."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd

from genept.genes.facts import GeneFacts

_GENE_COLUMNS = ("symbol", "gene", "gene_symbol", "gene_name", "entrez_id", "ensembl_id")
_TEXT_COLUMNS = ("summary", "text", "description")
# NCBI Gene type codes, spelled as the HGNC facts spell them so texts from both sources agree.
_NCBI_GENE_TYPE = {"protein-coding": "protein coding", "ncRNA": "non-coding RNA", "pseudo": "pseudogene"}


def _gene_type(value: str) -> str:
    value = value.strip()
    return _NCBI_GENE_TYPE.get(value, value.replace("-", " ").replace("_", " "))


def read_genept_json(path: str | Path, *, version: str = "") -> dict[str, GeneFacts]:
    """GenePT's published ``{symbol: text}`` JSON (e.g. ``NCBI_summary_of_genes.json`` on Zenodo).

    The texts are used as written summaries (they already hold the NCBI page block).
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{path}: expected a JSON object mapping gene symbols to texts, like GenePT's NCBI_summary_of_genes.json")
    return {
        g: GeneFacts(symbol=g, summary=t.strip(), source="genept-json", version=version or path.name)
        for g, t in data.items()
        if t and t.strip()
    }


def read_summary_table(
    path: str | Path,
    *,
    gene_column: str | None = None,
    text_column: str | None = None,
    source: str | None = None,
    version: str = "",
) -> dict[str, GeneFacts]:
    """A table with one gene per row and a text column (TSV, CSV, optionally gzipped).

    Recognises RefSeq summary tables (``symbol``, ``full_name``, ``gene_type``, ``summary``) such
    as ``refseq_summaries_human_r220.tsv.gz`` without options; for other files name the columns.
    Keys are the identifiers as written (corpus building maps them to HGNC symbols). A row
    whose gene cell is empty is keyed by the next identifier column it has (``entrez_id``,
    ``ensembl_id``); a later row with the same key fills only what the earlier one lacks.

    Examples
    --------
    >>> from genept.genes.sources.files import read_summary_table
    >>> refseq = read_summary_table("refseq_summaries_human_r220.tsv.gz")
    >>> refseq["CD3E"].summary[:40]
    'The protein encoded by this gene is the '
    >>> mine = read_summary_table("my_texts.csv", gene_column="ensembl", text_column="description")

    Parameters
    ----------
    gene_column
        Column with gene identifiers (symbols, Ensembl or Entrez ids). Guessed from
        ``symbol``, ``gene``, ``gene_symbol``, ``gene_name``, ``entrez_id``, ``ensembl_id``.
    text_column
        Column with the text. Guessed from ``summary``, ``text``, ``description``.
    """
    path = Path(path)
    name = path.name.removesuffix(".gz")
    sep = "," if name.endswith(".csv") else "\t"
    table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    cols = {c.lower(): c for c in table.columns}

    def pick(given: str | None, candidates: tuple[str, ...], what: str) -> str:
        if given is not None:
            if given not in table.columns:
                raise ValueError(f"{path}: no column {given!r}; columns are {list(table.columns)}")
            return given
        for c in candidates:
            if c in cols:
                return cols[c]
        raise ValueError(f"{path}: cannot tell which column holds the {what}; pass it explicitly (columns: {list(table.columns)})")

    gcol = pick(gene_column, _GENE_COLUMNS, "gene")
    tcol = pick(text_column, _TEXT_COLUMNS, "text")
    # Rows with an empty gene cell (e.g. genes newer than the symbol table joined to the
    # summaries) fall back to another identifier column, which the resolver maps later.
    fallbacks = [cols[c] for c in _GENE_COLUMNS if c in cols and cols[c] != gcol] if gene_column is None else []
    src = source or ("refseq" if "refseq" in name.lower() else "file")
    ver = version or name
    out: dict[str, GeneFacts] = {}
    for row in table.to_dict("records"):
        gene, text = row[gcol].strip(), row[tcol].strip()
        for col in fallbacks:
            if gene:
                break
            gene = row[col].strip()
        if not gene or not text:
            continue
        facts = GeneFacts(
            symbol=gene,
            full_name=row.get(cols.get("full_name", ""), ""),
            gene_type=_gene_type(row.get(cols.get("gene_type", ""), "")),
            summary=text,
            source=src,
            version=ver,
        )
        out[gene] = out[gene].merged(facts) if gene in out else facts
    return out
