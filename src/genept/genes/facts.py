"""What one source knows about one gene (:class:`GeneFacts`): the unit every text source returns.

It lives apart from :mod:`genept.genes.corpus` so that sources (which return facts) and the
corpus (which calls sources) do not import each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass
class GeneFacts:
    """What a source knows about one gene. Empty fields are simply left out of the text.

    Examples
    --------
    >>> ncbi = GeneFacts("INS", summary="This gene encodes insulin.", source="refseq")
    >>> hgnc = GeneFacts("INS", full_name="insulin", source="hgnc")
    >>> both = ncbi.merged(hgnc)
    >>> both.full_name, both.source
    ('insulin', 'refseq')
    """

    symbol: str
    full_name: str = ""
    gene_type: str = ""
    aliases: Sequence[str] = ()
    summary: str = ""
    go_terms: Sequence[str] = ()
    source: str = ""
    version: str = ""

    def merged(self, other: GeneFacts) -> GeneFacts:
        """Fill empty fields of ``self`` from ``other`` (``self`` wins where both have a value).

        Provenance follows the text's substance: a summary taken from ``other`` brings its
        ``source`` and ``version``; when neither has a summary, the sources of every layer that
        contributed a field are joined with ``+`` (e.g. ``go+hgnc``).
        """
        out = GeneFacts(**asdict(self))
        had_summary = bool(self.summary.strip())
        contributed = False
        for f in ("full_name", "gene_type", "summary"):
            if not getattr(out, f) and getattr(other, f):
                setattr(out, f, getattr(other, f))
                contributed = True
        for f in ("aliases", "go_terms"):
            if not getattr(out, f) and getattr(other, f):
                setattr(out, f, tuple(getattr(other, f)))
                contributed = True
        if not had_summary and other.summary.strip():
            out.source, out.version = other.source, other.version
        elif not had_summary and contributed and other.source:
            sources = [x for x in out.source.split("+") if x]
            versions = [x for x in out.version.split("+") if x]
            if other.source not in sources:
                sources.append(other.source)
                if other.version:
                    versions.append(other.version)
            out.source, out.version = "+".join(sources), "+".join(versions)
        return out


__all__ = ["GeneFacts"]
