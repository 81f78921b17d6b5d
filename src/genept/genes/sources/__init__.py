"""Gene text sources. Each adapter returns ``{gene identifier: GeneFacts}``.

- :mod:`~genept.genes.sources.files`: GenePT JSON, RefSeq summary tables, any TSV/CSV;
- :mod:`~genept.genes.sources.ncbi`: NCBI E-utilities (needs a network; cached, rate-limited);
- :mod:`~genept.genes.sources.go`: GO term names from annotation files, for composed texts;
- :mod:`~genept.genes.sources.hgnc`: the bundled HGNC facts (offline, always available).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from genept.genes.facts import GeneFacts


def load_source(spec: str, *, cache_dir: str | Path | None = None, genes: list[str] | None = None) -> Mapping[str, GeneFacts]:
    """Load a source from a command-line spec.

    Parameters
    ----------
    spec
        ``refseq:FILE`` / ``table:FILE[:GENE_COL:TEXT_COL]`` / ``genept-json:FILE`` /
        ``go:ANNOTATIONS[:TERMS]`` / ``ncbi`` (needs ``genes``; uses ``NCBI_API_KEY`` if set).
    cache_dir
        Where the ``ncbi`` source caches responses (the genept cache root when ``None``).
    genes
        The genes to fetch, for ``ncbi`` only.

    Returns
    -------
    Mapping[str, GeneFacts]
        Gene identifier (as the source writes it) -> facts.

    Examples
    --------
    >>> from pathlib import Path
    >>> _ = Path("texts.csv").write_text("ensembl,description\\nENSG00000254647,The insulin gene.\\n")
    >>> load_source("table:texts.csv:ensembl:description")["ENSG00000254647"].summary
    'The insulin gene.'
    >>> load_source("wiki:texts.csv")
    Traceback (most recent call last):
    ...
    ValueError: unknown source 'wiki:texts.csv'; use refseq:FILE, table:FILE[:GENE_COL:TEXT_COL], genept-json:FILE, go:FILE[:TERMS] or ncbi
    """
    kind, _, rest = spec.partition(":")
    if kind in ("refseq", "table"):
        from genept.genes.sources.files import read_summary_table

        parts = rest.split(":")
        path = parts[0]
        gene_col = parts[1] if len(parts) > 1 and parts[1] else None
        text_col = parts[2] if len(parts) > 2 and parts[2] else None
        return read_summary_table(path, gene_column=gene_col, text_column=text_col, source="refseq" if kind == "refseq" else None)
    if kind == "genept-json":
        from genept.genes.sources.files import read_genept_json

        return read_genept_json(rest)
    if kind == "go":
        from genept.genes.sources.go import read_go_facts

        ann, _, terms = rest.partition(":")
        return read_go_facts(ann, terms or None)
    if kind == "ncbi":
        from genept.genes.sources.ncbi import NCBIClient

        if not genes:
            raise ValueError("the 'ncbi' source needs a gene list: pass --genes-from FILE")
        return NCBIClient(cache_dir=cache_dir).fetch_facts(genes)
    raise ValueError(f"unknown source {spec!r}; use refseq:FILE, table:FILE[:GENE_COL:TEXT_COL], genept-json:FILE, go:FILE[:TERMS] or ncbi")
