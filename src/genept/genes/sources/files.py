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

    The texts are used as written summaries (they already hold the NCBI page block). Empty
    texts are left out; ``.gz`` files are read compressed.

    Parameters
    ----------
    path
        The JSON file.
    version
        Recorded as each gene's ``version`` (the file name when empty).

    Returns
    -------
    dict[str, GeneFacts]
        Key as written -> facts with ``source="genept-json"``.

    Examples
    --------
    >>> import json
    >>> from pathlib import Path
    >>> _ = Path("ncbi.json").write_text(json.dumps({"INS": "Gene Symbol INS ... encodes insulin.", "GCG": " "}))
    >>> facts = read_genept_json("ncbi.json")
    >>> list(facts), facts["INS"].source, facts["INS"].version
    (['INS'], 'genept-json', 'ncbi.json')
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

    Parameters
    ----------
    path
        The table; ``.csv`` (optionally ``.csv.gz``) is comma-separated, anything else tabs.
    gene_column
        Column with gene identifiers (symbols, Ensembl or Entrez ids). Guessed from
        ``symbol``, ``gene``, ``gene_symbol``, ``gene_name``, ``entrez_id``, ``ensembl_id``.
    text_column
        Column with the text. Guessed from ``summary``, ``text``, ``description``.
    source
        Recorded as each gene's ``source``; ``"refseq"`` when the file name says so, else
        ``"file"``.
    version
        Recorded as each gene's ``version`` (the file name without ``.gz`` when empty).

    Returns
    -------
    dict[str, GeneFacts]
        Identifier as written -> facts (``full_name`` and ``gene_type`` too when the table has
        those columns).

    Examples
    --------
    A RefSeq-style table, read without options; the second row has no symbol and is keyed by
    its Entrez id:

    >>> from pathlib import Path
    >>> from genept.genes.sources.files import read_summary_table
    >>> _ = Path("refseq_r220.tsv").write_text(
    ...     "symbol\\tfull_name\\tgene_type\\tentrez_id\\tsummary\\n"
    ...     "INS\\tinsulin\\tprotein-coding\\t3630\\tThis gene encodes insulin.\\n"
    ...     "\\tnew gene\\tncRNA\\t999999\\tA new RNA.\\n")
    >>> refseq = read_summary_table("refseq_r220.tsv")
    >>> list(refseq), refseq["INS"].gene_type, refseq["999999"].gene_type, refseq["INS"].source
    (['INS', '999999'], 'protein coding', 'non-coding RNA', 'refseq')

    Any other table, with the columns named:

    >>> _ = Path("my_texts.csv").write_text("ensembl,description\\nENSG00000254647,The insulin gene.\\n")
    >>> mine = read_summary_table("my_texts.csv", gene_column="ensembl", text_column="description")
    >>> mine["ENSG00000254647"].summary
    'The insulin gene.'
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
