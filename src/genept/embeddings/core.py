"""Gene embeddings: a gene index, a float32 matrix and the metadata that says how it was made.

:func:`embed_genes` turns a gene text corpus into :class:`GeneEmbeddings`;
:meth:`GeneEmbeddings.from_pickle` and :meth:`GeneEmbeddings.from_table` read embeddings made
elsewhere (GenePT's published pickles, TSV/CSV/parquet tables) with their keys as written;
:func:`genept.embeddings.importers.import_embeddings` also maps keys to HGNC symbols.

File format (``.npz``, no pickles, written atomically): arrays ``genes`` (unicode), ``vectors``
(float32, ``n_genes x dim``) and ``meta`` (a JSON string: encoder identity, corpus hash, text
template, date, encode statistics, list of composed-text genes).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genept._utils import atomic_write

logger = logging.getLogger(__name__)

FORMAT = "genept.gene_embeddings"
FORMAT_VERSION = 1


class GeneEmbeddings:
    """A matrix of gene vectors indexed by HGNC symbol.

    Parameters
    ----------
    genes
        Gene keys (HGNC symbols for embeddings genept builds; any strings for imported tables).
    vectors
        ``(len(genes), dim)`` array; stored as float32.
    meta
        Provenance: ``encoder``, ``corpus_hash``, ``template``, ``created``, ...

    Examples
    --------
    >>> from genept import GeneEmbeddings
    >>> emb = GeneEmbeddings(["CD3E", "INS"], np.array([[1.0, 0.0], [0.0, 1.0]]), {"encoder": "toy"})
    >>> emb
    GeneEmbeddings(2 genes x 2, toy)
    >>> emb["CD3E"], emb.dim, "INS" in emb
    (array([1., 0.], dtype=float32), 2, True)
    >>> emb = GeneEmbeddings.load(emb.save("genes.npz"))
    >>> matrix, found = emb.reindex(["INS", "MY_GENE", "CD3E"])  # e.g. adata.var_names
    >>> matrix.tolist(), found.tolist()
    ([[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]], [True, False, True])
    """

    def __init__(self, genes: Sequence[str], vectors: np.ndarray, meta: Mapping[str, Any] | None = None) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        genes = [str(g) for g in genes]
        if vectors.ndim != 2 or vectors.shape[0] != len(genes):
            raise ValueError(f"vectors must be (n_genes, dim) = ({len(genes)}, d), got {vectors.shape}")
        if not np.isfinite(vectors).all():
            bad = [genes[i] for i in np.flatnonzero(~np.isfinite(vectors).all(axis=1))[:5]]
            raise ValueError(f"gene embeddings contain NaN or inf (e.g. {bad}); fix or drop those genes.")
        index = pd.Index(genes)
        if index.has_duplicates:
            raise ValueError(f"duplicate genes in embeddings, e.g. {index[index.duplicated()][:5].tolist()}")
        self.genes = index
        self.vectors = vectors
        self.meta: dict[str, Any] = dict(meta or {})
        self.meta.setdefault("created", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))

    def __len__(self) -> int:
        return len(self.genes)

    def __contains__(self, gene: object) -> bool:
        return gene in self.genes

    def __getitem__(self, gene: str) -> np.ndarray:
        return self.vectors[self.genes.get_loc(gene)]

    def __repr__(self) -> str:
        enc = self.meta.get("encoder", "unknown encoder")
        return f"GeneEmbeddings({len(self):,} genes x {self.dim}, {enc})"

    @property
    def dim(self) -> int:
        """Vector length."""
        return int(self.vectors.shape[1])

    def to_frame(self) -> pd.DataFrame:
        """The vectors as a DataFrame (index: genes, columns: 0 .. dim - 1).

        Examples
        --------
        >>> GeneEmbeddings(["CD3E", "INS"], np.eye(2)).to_frame().shape
        (2, 2)
        """
        return pd.DataFrame(self.vectors, index=self.genes)

    def subset(self, genes: Iterable[str]) -> GeneEmbeddings:
        """The embeddings of ``genes`` (keys as stored, in that order; unknown keys skipped), same ``meta``.

        Examples
        --------
        >>> GeneEmbeddings(["CD3E", "INS", "GCG"], np.eye(3)).subset(["GCG", "CD3E", "XYZ"]).genes.tolist()
        ['GCG', 'CD3E']
        """
        idx = self.genes.get_indexer(list(genes))
        idx = idx[idx >= 0]
        return GeneEmbeddings(self.genes[idx], self.vectors[idx], self.meta)

    # -- lookup by any identifier ----------------------------------------------------------
    def locate(self, ids: Iterable[str], species: str = "auto", *, resolver=None) -> np.ndarray:
        """The row of each identifier, or -1: the one gene-id -> row matcher of genept.

        An identifier that is a key of the embeddings matches directly. The others go through
        the gene resolver (:class:`~genept.genes.ids.GeneResolver`) to an HGNC symbol: aliases,
        previous symbols, Ensembl and Entrez ids, and, for ``species="mouse"``, mouse symbols
        and ``ENSMUSG`` ids through their human orthologs.

        Parameters
        ----------
        ids
            Gene identifiers, in any mix of the forms above.
        species
            ``"human"``, ``"mouse"`` or ``"auto"`` (mouse when most ``ids`` look like MGI symbols
            or ``ENSMUSG`` ids).
        resolver
            A :class:`~genept.genes.ids.GeneResolver`; default the bundled tables.

        Returns
        -------
        numpy.ndarray
            ``int64`` row of ``vectors`` per identifier, ``-1`` where none matches.

        Examples
        --------
        >>> import numpy as np
        >>> emb = GeneEmbeddings(["CD3E", "INS"], np.eye(2, dtype=np.float32))
        >>> emb.locate(["INS", "CD3epsilon", "ENSG00000198851", "916", "NOPE"], species="human").tolist()
        [1, 0, 0, 0, -1]
        >>> emb.locate(["Ins2", "Cd3e"], species="mouse").tolist()
        [1, 0]
        """
        if species not in ("auto", "human", "mouse"):
            raise ValueError(f"species must be 'human', 'mouse' or 'auto', not {species!r}")
        ids = [str(i) for i in ids]
        pos = np.asarray(self.genes.get_indexer(ids), dtype=np.int64)
        missing = np.flatnonzero(pos < 0)
        if len(missing):
            from genept.genes.ids import GeneResolver

            resolver = resolver or GeneResolver.default()
            if species == "auto":
                species = resolver.guess_species(ids)
            symbols = resolver.to_symbols([ids[i] for i in missing], species=species)
            pos[missing] = self.genes.get_indexer([s if s is not None else "\0" for s in symbols])
        return pos

    def reindex(
        self,
        ids: Iterable[str],
        *,
        resolver=None,
        species: str = "auto",
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows for ``ids`` (symbols, aliases, Ensembl, Entrez or mouse genes) in order.

        Genes are matched by :meth:`locate`. Returns ``(matrix, found)`` where rows of genes
        without an embedding are zero and ``found`` is a boolean mask.

        Examples
        --------
        >>> import numpy as np
        >>> emb = GeneEmbeddings(["CD3E", "INS"], np.eye(2, dtype=np.float32))
        >>> matrix, found = emb.reindex(["INS", "NOPE"])
        >>> matrix.tolist(), found.tolist()
        ([[0.0, 1.0], [0.0, 0.0]], [True, False])
        """
        pos = self.locate(ids, species, resolver=resolver)
        found = pos >= 0
        matrix = np.zeros((len(pos), self.dim), dtype=np.float32)
        matrix[found] = self.vectors[pos[found]]
        return matrix, found

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``.npz`` (arrays ``genes``, ``vectors``, ``meta``), atomically; returns the path.

        Examples
        --------
        >>> path = GeneEmbeddings(["CD3E"], np.ones((1, 2)), {"encoder": "toy"}).save("genes.npz")
        >>> GeneEmbeddings.load(path).meta["encoder"]
        'toy'
        """
        path = Path(path)
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **self.meta}
        with atomic_write(path) as fh:
            np.savez(
                fh,
                genes=np.asarray(self.genes, dtype=str),
                vectors=self.vectors,
                meta=np.asarray(json.dumps(meta)),
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> GeneEmbeddings:
        """Read a file written by :meth:`save`.

        Raises ``ValueError`` (saying how to rebuild or import it) for any other file.

        Examples
        --------
        >>> GeneEmbeddings.load(GeneEmbeddings(["CD3E"], np.ones((1, 2))).save("genes.npz")).genes.tolist()
        ['CD3E']
        >>> _ = open("other.npz", "w").write("not an npz")
        >>> GeneEmbeddings.load("other.npz")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: other.npz is not a genept gene-embedding file (...
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                genes, vectors, meta = data["genes"], data["vectors"], json.loads(str(data["meta"]))
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as err:  # cut short: BadZipFile/EOFError
            raise ValueError(
                f"{path} is not a genept gene-embedding file ({type(err).__name__}: {err}); if it was cut short, "
                "rebuild it with `genept genes embed` (cached vectors make that quick). "
                "To import GenePT pickles or other tables use GeneEmbeddings.from_pickle / from_table."
            ) from err
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a genept gene-embedding file (format {meta.get('format')!r}).")
        return cls(genes.tolist(), vectors, meta)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Sequence[float]], meta: Mapping[str, Any] | None = None) -> GeneEmbeddings:
        """From a ``{gene: vector}`` mapping (all vectors the same length).

        Examples
        --------
        >>> GeneEmbeddings.from_mapping({"CD3E": [1.0, 0.0], "INS": [0.0, 1.0]}, {"encoder": "toy"})
        GeneEmbeddings(2 genes x 2, toy)
        """
        if not mapping:
            raise ValueError("the gene -> vector mapping is empty")
        genes = list(mapping)
        dims = {len(v) for v in mapping.values()}
        if len(dims) != 1:
            raise ValueError(f"vectors have different lengths {sorted(dims)[:5]}; expected one dimension for all genes")
        return cls(genes, np.asarray([np.asarray(mapping[g], dtype=np.float32) for g in genes]), meta)

    @classmethod
    def from_pickle(cls, path: str | Path, meta: Mapping[str, Any] | None = None) -> GeneEmbeddings:
        """Import a GenePT-style pickle: ``{symbol: vector}`` with list or numpy vectors.

        GenePT publishes its gene embeddings this way (``GenePT_gene_embedding_ada_text.pickle``,
        1536-d ada-002; ``GenePT_gene_protein_embedding_model_3_text.pickle``, 3072-d
        text-embedding-3-large). A ``pandas.DataFrame`` pickle is not supported: export it as a
        table and use :meth:`from_table`.

        Pickles can run code when loaded, so this uses a **restricted unpickler**: only builtin
        containers and scalars and numpy's array/dtype/scalar reconstruction are allowed; any
        other object in the file is refused with an error and nothing from it is executed.

        Examples
        --------
        >>> import pickle
        >>> with open("genept.pickle", "wb") as fh:
        ...     pickle.dump({"CD3E": [0.1, 0.2], "INS": [0.3, 0.4]}, fh)
        >>> GeneEmbeddings.from_pickle("genept.pickle")
        GeneEmbeddings(2 genes x 2, imported:genept.pickle)

        Keys are kept as written; :func:`genept.embeddings.importers.read_genept` maps them to
        HGNC symbols and reports how.
        """
        from genept.embeddings._readers import pickle_arrays

        path = Path(path)
        keys, vectors = pickle_arrays(path)
        return cls(keys, vectors, {"encoder": f"imported:{path.name}", "source_file": path.name, **(meta or {})})

    @classmethod
    def from_table(
        cls,
        path: str | Path,
        meta: Mapping[str, Any] | None = None,
        *,
        sep: str | None = None,
    ) -> GeneEmbeddings:
        """Import a table with one gene per row: first column the gene, the other columns numbers.

        Reads TSV, CSV (``.csv``; gzip allowed) and parquet (``.parquet``/``.pq``). A header row is
        detected (it is kept out of the data when its value columns are not numbers); for parquet
        the index is used as the gene column when it holds strings.

        Examples
        --------
        >>> pd.DataFrame({"d0": [0.1], "d1": [0.2]}, index=["CD3E"]).to_csv("gene_vectors.csv")
        >>> GeneEmbeddings.from_table("gene_vectors.csv").genes.tolist()
        ['CD3E']
        """
        from genept.embeddings._readers import table_arrays

        path = Path(path)
        keys, vectors = table_arrays(path, sep=sep)
        return cls(keys, vectors, {"encoder": f"imported:{path.name}", "source_file": path.name, **(meta or {})})


def embed_genes(
    corpus,
    encoder: Any = None,
    *,
    cache: bool | str | os.PathLike | None = True,
    show_progress: bool = True,
    **encoder_kwargs: Any,
) -> GeneEmbeddings:
    """Embed every gene text of a corpus.

    Parameters
    ----------
    corpus
        A :class:`~genept.genes.corpus.GeneCorpus` or the path of a saved one (a fitted
        encoder such as ``static+tfidf`` is first fitted on its texts).
    encoder
        An encoder spec for :func:`~genept.encoders.get_encoder` (``"minilm"``, ``"static"``,
        ``"openai:text-embedding-3-small"``, ``"hashing"``, ``"static+tfidf"``) or an encoder object.
        Default :data:`~genept.encoders.DEFAULT_GENE_ENCODER` (``"static+tfidf"``: static MiniLM
        token vectors, which read every word, beside TF-IDF+SVD fitted on this corpus; the fit is
        saved and ``meta["encoder_spec"]`` rebuilds the encoder). ``"minilm"`` is the previous default.
    cache
        ``True``: the default embedding cache (``~/.cache/genept/embeddings.sqlite``, folder moved
        by ``GENEPT_CACHE_DIR``); a path: that SQLite file; ``None``/``False``: no cache.
        With a cache, an interrupted run resumes without re-embedding finished batches.
    show_progress
        Show a progress bar.
    **encoder_kwargs
        Passed to :func:`~genept.encoders.get_encoder` when ``encoder`` is a spec.

    Returns
    -------
    GeneEmbeddings
        One row per corpus gene (corpus order). ``meta`` records the encoder identity, corpus hash,
        template id, creation time, encode statistics, genept version and ``composed_genes``: genes
        whose text was composed from structured facts (no written summary), so that a thin text is
        never mistaken for a real one.

    Examples
    --------
    Two genes through the model-free ``hashing`` encoder, cached in ``emb.sqlite`` (a second run
    reads both vectors from the cache):

    >>> from genept import embed_genes
    >>> from genept.genes.corpus import corpus_from_facts
    >>> from genept.genes.facts import GeneFacts
    >>> corpus = corpus_from_facts({"INS": GeneFacts("INS", summary="Encodes insulin, a hormone."),
    ...                             "GCG": GeneFacts("GCG", full_name="glucagon")})
    >>> emb = embed_genes(corpus, "hashing", cache="emb.sqlite", show_progress=False)
    >>> emb, emb.meta["composed_genes"]
    (GeneEmbeddings(2 genes x 512, hashing:dim=512:bigrams=1:v1), ['GCG'])
    >>> embed_genes(corpus, "hashing", cache="emb.sqlite", show_progress=False).meta["encode_stats"]["n_cached"]
    2

    The 15,134 RefSeq summaries with MiniLM:

    >>> # skipped: needs corpus.json.gz built from ../shared/data and the real MiniLM model (minutes)
    >>> from genept import GeneCorpus
    >>> emb = embed_genes(GeneCorpus.load("corpus.json.gz"), "minilm")  # doctest: +SKIP
    >>> emb.meta["encode_stats"]  # doctest: +SKIP
    {'n_texts': 15134, 'n_truncated': 2499, 'n_cached': 0, 'n_tokens': 2513376}
    >>> emb.save("genes_minilm.npz")  # doctest: +SKIP
    """
    from genept import __version__
    from genept.encoders import get_encoder
    from genept.encoders.base import EncodeStats
    from genept.genes.corpus import GeneCorpus

    if not isinstance(corpus, GeneCorpus):
        corpus = GeneCorpus.load(corpus)
    if not len(corpus):
        raise ValueError("the corpus is empty; nothing to embed")
    if encoder is None:
        from genept.encoders import DEFAULT_GENE_ENCODER as encoder
    enc = get_encoder(encoder, cache=cache, **encoder_kwargs)
    genes = corpus.genes
    fit = getattr(enc, "fit_corpus", None)  # channels fitted on the corpus (TF-IDF + SVD): unsupervised
    if callable(fit):
        fit([corpus[g] for g in genes])
    before = EncodeStats(**enc.stats.to_dict())
    vectors = enc.encode([corpus[g] for g in genes], show_progress=show_progress)
    after = enc.stats.to_dict()
    stats = {k: after[k] - v for k, v in before.to_dict().items()}
    composed = [g for g in corpus.composed if g in corpus]
    if composed:
        logger.info("%d of %d genes have composed text (no written summary), listed in meta['composed_genes']", len(composed), len(genes))
    meta = {
        "encoder": enc.identity,
        "encoder_name": enc.name,
        "dim": int(vectors.shape[1]),
        "corpus_hash": corpus.hash,
        "template": corpus.template.id,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "encode_stats": stats,
        "n_composed": len(composed),
        "composed_genes": composed,
        "genept_version": __version__,
    }
    for key, attr in (("channels", "channel_meta"), ("window_stats", "window_stats"), ("encoder_spec", "spec")):  # combined / windowed / fitted encoders
        value = getattr(enc, attr, None)
        if value is not None:
            meta[key] = value() if callable(value) else (value if isinstance(value, str) else dict(value))
    return GeneEmbeddings(genes, vectors, meta)


def load_gene_embeddings(gene_embeddings: GeneEmbeddings | str | os.PathLike) -> GeneEmbeddings:
    """A :class:`GeneEmbeddings` as given, or loaded from the path of a saved one (the one loader every tool uses).

    Examples
    --------
    >>> import numpy as np
    >>> emb = GeneEmbeddings(["CD3E"], np.ones((1, 2), dtype=np.float32))
    >>> load_gene_embeddings(emb) is emb
    True
    """
    if isinstance(gene_embeddings, GeneEmbeddings):
        return gene_embeddings
    if isinstance(gene_embeddings, str | os.PathLike):
        path = Path(gene_embeddings)
        if not path.exists():
            raise FileNotFoundError(f"gene embedding file {path} not found; build one with `genept genes embed` or genept.embed_genes")
        return GeneEmbeddings.load(path)
    raise TypeError(f"gene embeddings must be a GeneEmbeddings or the path of a saved one (.npz), not {type(gene_embeddings).__name__}")
