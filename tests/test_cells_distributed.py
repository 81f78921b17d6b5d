"""GenePT-w on a dask array with dask.distributed gives the in-memory numbers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from genept.cells.weighted import embed_weighted, weighted_embedding

distributed = pytest.importorskip("distributed", reason="dask.distributed is in the [dask] extra")


def test_local_cluster_of_two_workers_matches_in_memory():
    import dask.array as da

    rng = np.random.default_rng(3)
    X = sp.random(900, 400, density=0.05, format="csr", dtype=np.float32, random_state=3)
    X.data = np.ceil(X.data * 9)
    E = rng.standard_normal((400, 32)).astype(np.float32)
    E[:10] = 0
    # one sparse block per 150 cells, as anndata's lazy readers produce
    Xd = da.from_array(X, chunks=(150, 400), asarray=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            Y, stats = embed_weighted(Xd, E, transform="log1p")
            assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_allclose(Y, weighted_embedding(X, E, transform="log1p"), rtol=1e-5, atol=1e-6)
    assert stats.n_cells == 900 and stats.n_genes_embedded == 390
