"""Shared fixtures. Real data lives in ../shared/data; tests that need it skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GENEPT_PROGRESS", "0")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data, or skip the test with a reason."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def small_adata(rng):
    """60 cells x 40 genes of sparse integer counts over real HGNC symbols, 3 cell types, 2 batches."""
    import anndata as ad
    import pandas as pd

    genes = [
        "CD3E", "CD3D", "CD2", "IL7R", "CCR7", "LTB", "CD8A", "GZMB", "NKG7", "GNLY",
        "MS4A1", "CD79A", "CD19", "CD14", "LYZ", "S100A8", "S100A9", "FCGR3A", "CST3", "HLA-DRA",
        "INS", "GCG", "SST", "PPY", "KRT19", "PRSS1", "CPA1", "ACTB", "GAPDH", "MALAT1",
        "B2M", "TMSB4X", "RPL13", "RPS27A", "EEF1A1", "FTL", "FTH1", "TPT1", "UBB", "MT-CO1",
    ]
    n_cells = 60
    labels = np.repeat(["T", "B", "Mono"], n_cells // 3)
    blocks = {"T": slice(0, 10), "B": slice(10, 13), "Mono": slice(13, 20)}
    lam = np.full((n_cells, len(genes)), 0.3)
    for i, lab in enumerate(labels):
        lam[i, blocks[lab]] = 6.0
    lam[:, 27:] = 3.0
    counts = rng.poisson(lam).astype(np.float32)
    adata = ad.AnnData(
        X=sp.csr_matrix(counts),
        obs=pd.DataFrame({"cell_type": labels, "batch": np.tile(["b1", "b2"], n_cells // 2)}, index=[f"c{i}" for i in range(n_cells)]),
        var=pd.DataFrame(index=genes),
    )
    return adata
