"""GenePT-w on a dask array with dask.distributed gives the in-memory numbers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from genept.cells.weighted import embed_weighted, weighted_embedding

distributed = pytest.importorskip("distributed", reason="dask.distributed is in the [dask] extra")


@pytest.fixture(scope="module")
def client():
    """One LocalCluster of 2 worker processes for the whole module (starting one takes seconds)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def test_local_cluster_of_two_workers_matches_in_memory(client):
    import dask.array as da

    rng = np.random.default_rng(3)
    X = sp.random(900, 400, density=0.05, format="csr", dtype=np.float32, random_state=3)
    X.data = np.ceil(X.data * 9)
    E = rng.standard_normal((400, 32)).astype(np.float32)
    E[:10] = 0
    # one sparse block per 150 cells, as anndata's lazy readers produce
    Xd = da.from_array(X, chunks=(150, 400), asarray=False)
    Y, stats = embed_weighted(Xd, E, transform="log1p")
    assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_allclose(Y, weighted_embedding(X, E, transform="log1p"), rtol=1e-5, atol=1e-6)
    assert stats.n_cells == 900 and stats.n_genes_embedded == 390


def test_local_cluster_static_genept_s_matches_in_memory(client, tmp_path):
    """Static GenePT-s (the sparse-sum fast path) on 2 worker processes gives the in-memory vectors."""
    pytest.importorskip("model2vec")
    pytest.importorskip("tokenizers")
    import dask.array as da
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, pre_tokenizers

    from genept.cells.sentences import embed_cell_sentences
    from genept.encoders.static import StaticEncoder

    words = [f"g{i}" for i in range(300)]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(["[UNK]", *words])}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    vectors = np.random.default_rng(4).standard_normal((len(words) + 1, 12)).astype(np.float32)
    StaticModel(vectors=vectors, tokenizer=tok, config={"hidden_dim": 12}, max_length=None).save_pretrained(str(tmp_path / "m"))
    enc = StaticEncoder(tmp_path / "m")
    X = sp.random(600, 300, density=0.1, format="csr", dtype=np.float32, random_state=4)
    X.data = np.ceil(X.data * 5)
    want, _ = embed_cell_sentences(X, words, enc, top_k=20, prefix="")
    Xd = da.from_array(X, chunks=(150, 300), asarray=False)
    got, stats = embed_cell_sentences(Xd, words, enc, top_k=20, prefix="")
    assert stats.path == "static_sum"
    np.testing.assert_array_equal(got, want)
