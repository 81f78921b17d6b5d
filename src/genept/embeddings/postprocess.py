"""Stored transforms of gene vectors, fitted on a gene set: centring, removing top components, whitening.

Text embeddings of genes share a strong common direction (mean pairwise cosine about 0.38 with
MiniLM), which makes every gene look alike to cosine-based methods. The standard fixes:

``center``
    subtract the mean gene vector.
``abtt``
    centre, then remove the projections on the top ``n_components`` principal directions ("all
    but the top", Mu & Viswanath 2018).
``whiten``
    centre, rotate onto the principal axes and divide each by its standard deviation (PCA
    whitening, keeping ``n_components`` axes or all), with ``eps`` added to the variances.

Every transform ends with L2 normalisation (rows stay unit vectors, as encoders return them). A
fitted :class:`PostProcess` is applied with :meth:`PostProcess.apply`, which records the transform
in ``meta["postprocess"]`` (method, parameters, number of genes and a hash of the gene set it was
fitted on); :meth:`PostProcess.save` / :meth:`PostProcess.load` keep its arrays in an ``.npz`` so the
same transform can be applied to new genes later.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genept._utils import atomic_write
from genept.embeddings.core import GeneEmbeddings

METHODS = ("center", "abtt", "whiten")


def _gene_set_hash(genes) -> str:
    h = hashlib.sha256()
    for g in sorted(str(x) for x in genes):
        h.update(g.encode("utf-8") + b"\0")
    return h.hexdigest()[:16]


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


@dataclass
class PostProcess:
    """A fitted gene-vector transform; see the module notes for the methods.

    Attributes
    ----------
    method
        ``center``, ``abtt`` or ``whiten``.
    mean
        Mean gene vector of the fitting set.
    components
        ``(k, dim)`` principal directions (rows) removed (``abtt``) or kept (``whiten``).
    scale
        ``(k,)`` divisors of the whitened axes (``whiten`` only).
    params
        ``n_components``, ``eps``, ``n_genes`` and ``gene_set_hash`` of the fit.

    Examples
    --------
    >>> import numpy as np
    >>> from genept.embeddings import GeneEmbeddings
    >>> from genept.embeddings.postprocess import PostProcess
    >>> rng = np.random.default_rng(0)
    >>> emb = GeneEmbeddings([f"G{i}" for i in range(50)], rng.normal(size=(50, 8)) + 3.0)
    >>> pp = PostProcess.fit(emb, "abtt", n_components=1)
    >>> out = pp.apply(emb)
    >>> out.meta["postprocess"]["method"], out.dim
    ('abtt', 8)
    >>> bool(abs(out.vectors.mean(axis=0)).max() < abs(emb.vectors.mean(axis=0)).max())
    True
    """

    method: str
    mean: np.ndarray
    components: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    scale: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        embeddings: GeneEmbeddings,
        method: str = "center",
        *,
        n_components: int | None = None,
        eps: float = 1e-3,
    ) -> PostProcess:
        """Fit ``method`` on the genes of ``embeddings``.

        Parameters
        ----------
        n_components
            ``abtt``: directions removed (default 3). ``whiten``: axes kept (default all).
        eps
            ``whiten``: added to each axis variance, so near-empty axes are not blown up.
        """
        if method not in METHODS:
            raise ValueError(f"unknown post-processing {method!r}; choose from {METHODS}")
        X = np.asarray(embeddings.vectors, dtype=np.float64)
        if len(X) < 2:
            raise ValueError("fitting a post-processing transform needs at least two genes")
        mean = X.mean(axis=0)
        params: dict[str, Any] = {"n_genes": int(len(X)), "gene_set_hash": _gene_set_hash(embeddings.genes)}
        comps = np.zeros((0, X.shape[1]))
        scale = np.zeros(0)
        if method in ("abtt", "whiten"):
            _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
            limit = vt.shape[0]
            if method == "abtt":
                k = 3 if n_components is None else int(n_components)
                if not 0 < k < limit:
                    raise ValueError(f"abtt removes 1..{limit - 1} components, got n_components={k}")
                comps = vt[:k]
            else:
                k = limit if n_components is None else int(n_components)
                if not 0 < k <= limit:
                    raise ValueError(f"whiten keeps 1..{limit} axes, got n_components={k}")
                comps = vt[:k]
                var = s[:k] ** 2 / (len(X) - 1)
                scale = np.sqrt(var + eps)
                params["eps"] = float(eps)
            params["n_components"] = k
        return cls(method, mean.astype(np.float32), comps.astype(np.float32), scale.astype(np.float32), params)

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Apply to a ``(n, dim)`` array; returns float32 unit rows."""
        X = np.asarray(vectors, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.mean.shape[0]:
            raise ValueError(f"vectors must be (n, {self.mean.shape[0]}), got {X.shape}")
        X = X - self.mean
        if self.method == "abtt":
            X = X - (X @ self.components.T) @ self.components
        elif self.method == "whiten":
            X = (X @ self.components.T) / self.scale
        return _unit(X)

    def describe(self) -> dict[str, Any]:
        """What ``meta["postprocess"]`` records (JSON-ready)."""
        digest = hashlib.sha256(self.mean.tobytes() + self.components.tobytes() + self.scale.tobytes()).hexdigest()[:16]
        return {"method": self.method, **self.params, "sha256": digest}

    def apply(self, embeddings: GeneEmbeddings) -> GeneEmbeddings:
        """A new :class:`GeneEmbeddings` with transformed vectors and ``meta["postprocess"]``."""
        if "postprocess" in embeddings.meta:
            raise ValueError(
                f"these embeddings were already post-processed ({embeddings.meta['postprocess'].get('method')}); "
                "apply transforms to the original vectors"
            )
        meta = {**embeddings.meta, "postprocess": self.describe()}
        if "dim" in meta:
            meta["dim"] = int(self.components.shape[0]) if self.method == "whiten" else int(self.mean.shape[0])
        return GeneEmbeddings(list(embeddings.genes), self.transform(embeddings.vectors), meta)

    def save(self, path: str | Path) -> Path:
        """Write the fitted arrays and parameters to ``.npz`` (atomically)."""
        path = Path(path)
        with atomic_write(path) as fh:
            np.savez(fh, mean=self.mean, components=self.components, scale=self.scale,
                     meta=np.asarray(json.dumps({"method": self.method, "params": self.params})))
        return path

    @classmethod
    def load(cls, path: str | Path) -> PostProcess:
        """Read a file written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as data:
            info = json.loads(str(data["meta"]))
            return cls(info["method"], data["mean"], data["components"], data["scale"], info["params"])


def postprocess(embeddings: GeneEmbeddings, method: str = "center", **kwargs: Any) -> GeneEmbeddings:
    """Fit ``method`` on ``embeddings`` and apply it (see :class:`PostProcess`).

    Examples
    --------
    >>> import numpy as np
    >>> from genept.embeddings import GeneEmbeddings
    >>> from genept.embeddings.postprocess import postprocess
    >>> emb = GeneEmbeddings(["A", "B", "C"], np.eye(3) + 1.0)
    >>> postprocess(emb, "center").meta["postprocess"]["method"]
    'center'
    """
    return PostProcess.fit(embeddings, method, **kwargs).apply(embeddings)
