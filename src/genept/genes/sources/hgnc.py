"""Structured facts for every approved human gene from the bundled HGNC table (offline)."""

from __future__ import annotations

from collections.abc import Iterable

from genept.genes.facts import GeneFacts
from genept.genes.ids import GeneResolver

_GENE_TYPE = {
    "protein-coding gene": "protein coding",
    "non-coding RNA": "non-coding RNA",
    "pseudogene": "pseudogene",
    "other": "other",
}


def hgnc_facts(genes: Iterable[str] | None = None, resolver: GeneResolver | None = None) -> dict[str, GeneFacts]:
    """Symbol, full name, gene type and aliases (current aliases, then previous symbols).

    Parameters
    ----------
    genes
        Approved HGNC symbols to include; all approved genes when ``None``.
    resolver
        Where the table comes from; the bundled default when ``None``.

    Returns
    -------
    dict[str, GeneFacts]
        Symbol -> facts (``source="hgnc"``, ``version`` the HGNC release); symbols that are
        not approved are left out.

    Examples
    --------
    >>> facts = hgnc_facts(["INS", "not_a_gene"])
    >>> list(facts), facts["INS"].full_name, facts["INS"].gene_type, facts["INS"].aliases
    (['INS'], 'insulin', 'protein coding', ('IDDM2', 'IDDM1'))
    """
    resolver = resolver or GeneResolver.default()
    table = resolver.table
    if genes is not None:
        table = table.loc[table.index.intersection(list(genes))]
    out: dict[str, GeneFacts] = {}
    for row in table.itertuples(index=False):
        aliases = [a for a in (row.aliases + "|" + row.previous).split("|") if a]
        out[row.symbol] = GeneFacts(
            symbol=row.symbol,
            full_name=row.full_name,
            gene_type=_GENE_TYPE.get(row.gene_type, row.gene_type),
            aliases=tuple(dict.fromkeys(aliases)),
            source="hgnc",
            version=resolver.version,
        )
    return out
