"""The gene text corpus: one text per canonical gene, with provenance.

A corpus is built from *facts* (:class:`GeneFacts`) that source adapters return (NCBI
E-utilities, local files, the bundled HGNC table), rendered through a versioned
:class:`TextTemplate`. Genes whose only facts are structured ones (symbol, name, type,
aliases, GO terms; no written summary) get a *composed* text, flagged as such.

File format (``.json`` or ``.json.gz``), written atomically::

    {"format": "genept.corpus", "format_version": 1,
     "template": {"name": ..., "version": ..., "pattern": ...},
     "created": "2026-11-25T13:00:00+00:00", "corpus_hash": "<sha256>",
     "genes": [{"gene": "CD3E", "text": "...", "source": "refseq", "version": "r220",
                "composed": false, "sha256": "<sha256 of text>"}, ...]}
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from genept._utils import atomic_write
from genept.genes.facts import GeneFacts

if TYPE_CHECKING:
    from genept.genes.ids import GeneResolver, Species

log = logging.getLogger(__name__)

FORMAT = "genept.corpus"
# A database id that does not resolve is no name to show a text encoder.
_ID_LIKE = re.compile(r"^(\d+|ENS[A-Z]*G\d{11}(\.\d+)?|HGNC:\d+)$", re.IGNORECASE)
FORMAT_VERSION = 1


@dataclass(frozen=True)
class TextTemplate:
    """How facts become one text. Fields: ``{symbol} {full_name} {gene_type} {aliases} {summary} {go_terms}``.

    Each line of ``pattern`` is dropped when every field it uses is empty, so a gene without a
    summary does not get a dangling "Summary:" line.

    Parameters
    ----------
    name, version
        The template's identity (:attr:`id`), recorded in every corpus it renders.
    pattern
        One line per field group; ``{field}`` placeholders as above.
    max_aliases, max_go_terms
        At most this many aliases / GO term names are written.

    Examples
    --------
    >>> ins = GeneFacts("INS", full_name="insulin", summary="This gene encodes insulin.")
    >>> print(TextTemplate().render(ins))
    Gene symbol: INS
    Full name: insulin
    Summary: This gene encodes insulin.
    >>> TextTemplate(name="short", pattern="{symbol}: {full_name}").render(ins)
    'INS: insulin'
    """

    name: str = "ncbi-page"
    version: str = "1"
    pattern: str = (
        "Gene symbol: {symbol}\n"
        "Full name: {full_name}\n"
        "Gene type: {gene_type}\n"
        "Also known as: {aliases}\n"
        "Summary: {summary}\n"
        "Gene Ontology: {go_terms}"
    )
    max_aliases: int = 10
    max_go_terms: int = 15

    @property
    def id(self) -> str:
        """``name@version``, e.g. ``ncbi-page@1``."""
        return f"{self.name}@{self.version}"

    def render(self, facts: GeneFacts) -> str:
        """The text of one gene (lines whose fields are all empty left out; ``""`` when nothing is known).

        Examples
        --------
        >>> SUMMARY_ONLY.render(GeneFacts("INS", full_name="insulin", summary="Encodes insulin."))
        'Encodes insulin.\\nINS insulin'
        """
        import string

        values = {
            "symbol": facts.symbol,
            "full_name": facts.full_name,
            "gene_type": facts.gene_type,
            "aliases": ", ".join(list(facts.aliases)[: self.max_aliases]),
            "summary": facts.summary.strip(),
            "go_terms": "; ".join(list(facts.go_terms)[: self.max_go_terms]),
        }
        lines = []
        for line in self.pattern.split("\n"):
            used = [f for _, f, _, _ in string.Formatter().parse(line) if f]
            if used and not any(values.get(f) for f in used):
                continue
            lines.append(line.format(**values))
        return "\n".join(lines).strip()


#: GenePT's own text block (symbol, full name, type, aliases, summary) plus GO terms where known.
DEFAULT_TEMPLATE = TextTemplate()
#: The summary paragraph alone, as in GenePT's summary-only ablation.
SUMMARY_ONLY = TextTemplate(name="summary-only", version="1", pattern="{summary}\n{symbol} {full_name}")
TEMPLATES = {t.name: t for t in (DEFAULT_TEMPLATE, SUMMARY_ONLY)}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class GeneCorpus:
    """Canonical gene symbol -> text, with per-gene provenance.

    Made by :func:`build_corpus` (or :func:`corpus_from_facts`); saved and read with
    :meth:`save` / :meth:`load`. Indexing by gene gives its text.

    Parameters
    ----------
    texts
        Gene -> text, in corpus order.
    provenance
        One row per gene (index ``gene``): ``source``, ``version``, ``composed`` (no written
        summary: text made from structured facts) and ``sha256`` of the text.
    template
        The template that rendered the texts.
    created
        ISO time of creation (UTC).

    Examples
    --------
    >>> from genept.genes.corpus import GeneCorpus, corpus_from_facts
    >>> from genept.genes.facts import GeneFacts
    >>> corpus = corpus_from_facts({
    ...     "INS": GeneFacts("INS", summary="This gene encodes insulin.", source="refseq", version="r220"),
    ...     "GCG": GeneFacts("GCG", full_name="glucagon", source="hgnc"),
    ... })
    >>> corpus.genes, corpus.composed
    (['INS', 'GCG'], ['GCG'])
    >>> corpus["GCG"]
    'Gene symbol: GCG\\nFull name: glucagon'
    >>> GeneCorpus.load(corpus.save("corpus.json.gz")).hash == corpus.hash
    True
    >>> corpus.provenance[["source", "composed"]]
          source  composed
    gene
    INS   refseq     False
    GCG     hgnc      True
    """

    texts: dict[str, str]
    provenance: pd.DataFrame  # index gene; columns source, version, composed, sha256
    template: TextTemplate = DEFAULT_TEMPLATE
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))

    def __post_init__(self) -> None:
        missing = set(self.texts) - set(self.provenance.index)
        if missing:
            raise ValueError(f"provenance is missing for {len(missing)} genes, e.g. {sorted(missing)[:3]}")

    def __len__(self) -> int:
        return len(self.texts)

    def __contains__(self, gene: object) -> bool:
        return gene in self.texts

    def __getitem__(self, gene: str) -> str:
        return self.texts[gene]

    @property
    def genes(self) -> list[str]:
        """The genes, in corpus order."""
        return list(self.texts)

    @property
    def hash(self) -> str:
        """SHA-256 over the sorted (gene, text) pairs and the template: identifies the corpus content."""
        h = hashlib.sha256(self.template.id.encode())
        for gene in sorted(self.texts):
            h.update(b"\0" + gene.encode() + b"\0" + self.texts[gene].encode())
        return h.hexdigest()

    @property
    def composed(self) -> list[str]:
        """Genes whose text was composed from structured facts (no written summary)."""
        return self.provenance.index[self.provenance["composed"].astype(bool)].tolist()

    def subset(self, genes: Iterable[str]) -> GeneCorpus:
        """The corpus restricted to ``genes`` (in that order; genes it lacks are skipped).

        Examples
        --------
        >>> corpus = corpus_from_facts({g: GeneFacts(g, full_name=g.lower()) for g in ["INS", "GCG", "SST"]})
        >>> corpus.subset(["SST", "INS", "XYZ"]).genes
        ['SST', 'INS']
        """
        keep = [g for g in genes if g in self.texts]
        return GeneCorpus({g: self.texts[g] for g in keep}, self.provenance.loc[keep], self.template, self.created)

    def summary(self) -> str:
        """One line per source: how many genes have written and composed texts.

        Examples
        --------
        >>> facts = {"INS": GeneFacts("INS", summary="Encodes insulin.", source="refseq"),
        ...          "GCG": GeneFacts("GCG", full_name="glucagon", source="hgnc")}
        >>> print(corpus_from_facts(facts).summary())  # doctest: +ELLIPSIS
        GeneCorpus: 2 genes, template ncbi-page@1, hash ...
          hgnc                 composed         1
          refseq               written          1
        """
        by_source = self.provenance.groupby(["source", "composed"]).size()
        lines = [f"GeneCorpus: {len(self):,} genes, template {self.template.id}, hash {self.hash[:12]}"]
        for (src, comp), n in by_source.items():
            lines.append(f"  {src:<20} {'composed' if comp else 'written':<9} {n:>8,}")
        return "\n".join(lines)

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The file content of :meth:`save` (see the module docstring) as plain values.

        Examples
        --------
        >>> d = corpus_from_facts({"INS": GeneFacts("INS", summary="Encodes insulin.")}).to_dict()
        >>> d["format"], d["template"]["name"], d["genes"][0]["composed"]
        ('genept.corpus', 'ncbi-page', False)
        """
        prov = self.provenance.reindex(list(self.texts))
        genes = [
            {"gene": g, "text": t, "source": str(src), "version": str(ver), "composed": bool(comp), "sha256": str(sha)}
            for (g, t), src, ver, comp, sha in zip(
                self.texts.items(), prov["source"], prov["version"], prov["composed"], prov["sha256"], strict=True
            )
        ]
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "template": {"name": self.template.name, "version": self.template.version, "pattern": self.template.pattern},
            "created": self.created,
            "corpus_hash": self.hash,
            "genes": genes,
        }

    def save(self, path: str | Path) -> Path:
        """Write the corpus as JSON (gzip-compressed when the name ends in ``.gz``), atomically.

        Returns the path written. Examples: see :class:`GeneCorpus`.
        """
        path = Path(path)
        payload = json.dumps(self.to_dict(), ensure_ascii=False).encode("utf-8")
        if path.suffix == ".gz":
            payload = gzip.compress(payload, mtime=0)
        with atomic_write(path) as fh:
            fh.write(payload)
        return path

    @classmethod
    def load(cls, path: str | Path) -> GeneCorpus:
        """Read a corpus written by :meth:`save`; checks the format and every text's hash.

        Raises ``ValueError`` (saying to rebuild it) for a file that is not a genept corpus, was
        written by a newer genept, or whose texts do not match their recorded hashes.

        Examples
        --------
        >>> path = corpus_from_facts({"INS": GeneFacts("INS", summary="Encodes insulin.")}).save("c.json")
        >>> GeneCorpus.load(path)["INS"]
        'Gene symbol: INS\\nSummary: Encodes insulin.'
        >>> _ = path.write_text('{"format": "something else"}')
        >>> GeneCorpus.load(path)
        Traceback (most recent call last):
        ...
        ValueError: c.json is not a genept corpus (expected format 'genept.corpus').
        """
        path = Path(path)
        try:
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            data = json.loads(raw)
        except (OSError, EOFError, ValueError) as err:
            raise ValueError(f"{path} is not a readable genept corpus file ({err}). Rebuild it with `genept genes build-corpus`.") from err
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{path} is not a genept corpus (expected format {FORMAT!r}).")
        if data.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"{path} was written by a newer genept (format {data['format_version']}); upgrade genept.")
        try:
            t = data["template"]
            template = TextTemplate(name=t["name"], version=t["version"], pattern=t["pattern"])
            rows = data["genes"]
            texts = {r["gene"]: r["text"] for r in rows}
            bad = [r["gene"] for r in rows if _sha256(r["text"]) != r["sha256"]]
            prov = pd.DataFrame(
                {
                    "source": [r["source"] for r in rows],
                    "version": [r["version"] for r in rows],
                    "composed": [bool(r["composed"]) for r in rows],
                    "sha256": [r["sha256"] for r in rows],
                },
                index=pd.Index([r["gene"] for r in rows], name="gene"),
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"{path}: genept corpus file is missing a field ({err!r}); the file is corrupt or hand-edited. Rebuild it with `genept genes build-corpus`.") from err
        if bad:
            raise ValueError(f"{path}: {len(bad)} texts do not match their recorded hash (e.g. {bad[:3]}); the file is corrupt.")
        if len(texts) != len(rows):
            dup = prov.index[prov.index.duplicated()].tolist()
            raise ValueError(f"{path}: genes listed more than once (e.g. {dup[:3]}); the file is corrupt.")
        recorded = data.get("corpus_hash")
        corpus = cls(texts, prov, template, data.get("created", ""))
        if recorded and recorded != corpus.hash:
            raise ValueError(f"{path}: the corpus hash does not match its content (genes added or removed by hand?); rebuild it.")
        return corpus


def corpus_from_facts(
    facts: Mapping[str, GeneFacts],
    template: TextTemplate = DEFAULT_TEMPLATE,
) -> GeneCorpus:
    """Render facts into a corpus. A gene is *composed* when it has no written summary.

    Facts are used as given (no identifier resolution; :func:`build_corpus` does that). A gene
    whose text renders empty is left out.

    Examples
    --------
    >>> corpus = corpus_from_facts({"INS": GeneFacts("INS", summary="Encodes insulin.", source="refseq"),
    ...                             "GCG": GeneFacts("GCG", full_name="glucagon", source="hgnc"),
    ...                             "EMPTY": GeneFacts("")})
    >>> corpus.genes, corpus.composed
    (['INS', 'GCG'], ['GCG'])
    """
    texts: dict[str, str] = {}
    rows = []
    for gene, f in facts.items():
        text = template.render(f)
        if not text:
            continue
        texts[gene] = text
        rows.append((gene, f.source or "unknown", f.version, not bool(f.summary.strip()), _sha256(text)))
    prov = pd.DataFrame(rows, columns=["gene", "source", "version", "composed", "sha256"]).set_index("gene")
    return GeneCorpus(texts, prov, template)


def merge_facts(*layers: Mapping[str, GeneFacts]) -> dict[str, GeneFacts]:
    """Merge fact layers; earlier layers win field by field, later ones fill the gaps.

    Examples
    --------
    >>> merged = merge_facts({"INS": GeneFacts("INS", summary="Encodes insulin.", source="refseq")},
    ...                      {"INS": GeneFacts("INS", full_name="insulin", summary="other", source="hgnc")})
    >>> merged["INS"].summary, merged["INS"].full_name, merged["INS"].source
    ('Encodes insulin.', 'insulin', 'refseq')
    """
    out: dict[str, GeneFacts] = {}
    for layer in layers:
        for gene, f in layer.items():
            out[gene] = out[gene].merged(f) if gene in out else f
    return out


def build_corpus(
    genes: Iterable[str] | None = None,
    sources: Sequence[Mapping[str, GeneFacts]] = (),
    *,
    template: TextTemplate = DEFAULT_TEMPLATE,
    compose_missing: bool = True,
    resolver: GeneResolver | None = None,
    species: Species = "auto",
) -> GeneCorpus:
    """Build a corpus for ``genes`` from fact sources, composing text where no summary exists.

    Parameters
    ----------
    genes
        Gene identifiers in any form the resolver accepts (symbols, aliases, Ensembl, Entrez,
        mouse symbols). ``None`` means every gene any source knows, plus every approved HGNC
        gene when ``compose_missing``.
    sources
        Fact layers keyed by identifier (see :mod:`genept.genes.sources`); earlier layers win.
        Keys are resolved to HGNC symbols; a key that does not resolve is kept under its own
        name, unless it is a bare database id (Entrez, Ensembl, HGNC), which is left out.
    compose_missing
        Give genes without a written summary a text composed from the bundled HGNC facts
        (symbol, full name, type, aliases), flagged ``composed`` in the provenance.
    template
        How facts become text; the default is GenePT's NCBI-page block plus GO terms where known.
    resolver
        Identifier resolver; :meth:`GeneResolver.default() <genept.genes.ids.GeneResolver.default>` when ``None``.
    species
        Species of ``genes`` (``"auto"`` guesses from the identifiers); sources are read as human.

    Returns
    -------
    GeneCorpus
        Keyed by HGNC symbol, in the order of ``genes`` (duplicates and identifiers that do not
        resolve dropped; see :func:`~genept.genes.ids.coverage_report`).

    Examples
    --------
    One written summary from your own source; the other genes get texts composed from the
    bundled HGNC facts (an Ensembl id and a lower-case symbol resolve, a made-up name does not):

    >>> from genept.genes.corpus import build_corpus
    >>> mine = {"CD3E": GeneFacts("CD3E", summary="Part of the T-cell receptor-CD3 complex.", source="mine")}
    >>> corpus = build_corpus(["CD3E", "ins", "ENSG00000115263", "not_a_gene"], [mine])
    >>> corpus.genes, corpus.composed
    (['CD3E', 'INS', 'GCG'], ['INS', 'GCG'])
    >>> print(corpus["CD3E"])
    Gene symbol: CD3E
    Full name: CD3 epsilon subunit of T-cell receptor complex
    Gene type: protein coding
    Also known as: CD3epsilon, CD3-epsilon
    Summary: Part of the T-cell receptor-CD3 complex.

    With the RefSeq summaries of the shared data instead:

    >>> # skipped: needs refseq_summaries_human_r220.tsv.gz from ../shared/data
    >>> from genept.genes.sources.files import read_summary_table
    >>> corpus = build_corpus(["CD3E", "INS"], [read_summary_table("refseq_summaries_human_r220.tsv.gz")])  # doctest: +SKIP
    """
    from genept.genes.ids import GeneResolver
    from genept.genes.sources.hgnc import hgnc_facts

    resolver = resolver or GeneResolver.default()
    layers: list[dict[str, GeneFacts]] = []
    for layer in sources:
        keys = list(layer)
        symbols = resolver.to_symbols(keys, species="human")
        resolved: dict[str, GeneFacts] = {}
        dropped = []
        for key, sym in zip(keys, symbols, strict=True):
            if sym is None:
                if _ID_LIKE.match(str(key)):
                    dropped.append(key)
                    continue
                sym = key  # keep genes the HGNC table does not know under their own name
            f = layer[key]
            if sym in resolved:
                resolved[sym] = resolved[sym].merged(f)
            else:
                resolved[sym] = GeneFacts(**{**asdict(f), "symbol": sym})
        if dropped:
            log.info("%d source entries keyed by ids the HGNC table does not know were left out, e.g. %s", len(dropped), dropped[:3])
        layers.append(resolved)
    if genes is not None:
        genes = [str(g) for g in genes]
        known = {g for layer in layers for g in layer}
        # An identifier HGNC does not know may still be a key of a user's own source.
        wanted = [s if s else (g if g in known else None) for g, s in zip(genes, resolver.to_symbols(genes, species=species), strict=True)]
        wanted = list(dict.fromkeys(w for w in wanted if w))
    else:
        wanted = list(dict.fromkeys(g for layer in layers for g in layer))
        if compose_missing:
            seen = set(wanted)
            wanted += [g for g in resolver.table.index if g not in seen]
    layers.append(hgnc_facts(wanted, resolver))  # fills names, types and aliases everywhere
    facts = merge_facts(*layers)
    facts = {g: facts[g] for g in wanted if g in facts}
    if not compose_missing:
        facts = {g: f for g, f in facts.items() if f.summary.strip()}
    return corpus_from_facts(facts, template)
