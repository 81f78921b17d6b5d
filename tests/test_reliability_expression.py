"""Reliability: bad expression input to ``genept.tl.embed_cells`` (GenePT-w and -s) and ``genept embed-cells``.

Each bad input gets a clear error naming the problem and the fix, or a documented behaviour
(with a warning where the user should know). Every output that is produced is checked to be
finite. The table of cases is in docs/reliability.md.
"""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import genept
from genept.cli import main
from genept.embeddings import GeneEmbeddings
from genept.genes.ids import GeneResolver

METHODS = ["w", "s"]


def own_args(method, gene_emb):
    """The inputs ``method`` takes: gene embeddings, or (GenePT-s) a text encoder."""
    if method == "s":
        return {"method": "s", "encoder": "hashing", "cache": False}
    return {"method": method, "gene_embeddings": gene_emb}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENEPT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def gene_emb(small_adata, rng):
    genes = list(small_adata.var_names)
    return GeneEmbeddings(genes, rng.normal(size=(len(genes), 16)).astype(np.float32), {"encoder": "test:random"})


def embed(adata, gene_emb, method, **kw):
    """Run one method on a copy; return the embedding (checked finite) and its record."""
    kw = {"encoder": "hashing", "cache": False, **kw} if method == "s" else kw
    out = genept.tl.embed_cells(adata, gene_emb if method == "w" else None, method=method, copy=True, **kw)
    key = f"X_genept_{method}"
    Y = out.obsm[key]
    assert np.isfinite(Y).all(), "an output row is NaN or inf"
    return Y, out.uns[key]


def with_X(adata, X):
    out = adata.copy()
    out.X = X
    return out


def no_genept_warnings(record) -> list[str]:
    return [str(w.message) for w in record if "genept" in w.filename or "cells/validation" in w.filename]


# -- values ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dense", [False, True], ids=["sparse", "dense"])
@pytest.mark.parametrize(
    "value, message",
    [(np.nan, "NaN or inf values \\(first in cell 7\\)"), (np.inf, "NaN or inf"), (-np.inf, "NaN or inf"), (-1.0, "negative values")],
    ids=["nan", "inf", "-inf", "negative"],
)
def test_nan_inf_and_negative_values_are_refused_with_the_cell(small_adata, gene_emb, method, dense, value, message):
    X = small_adata.X.toarray()
    X[7, 3] = value
    adata = with_X(small_adata, X if dense else sp.csr_matrix(X))
    with pytest.raises(ValueError, match=message) as info:
        embed(adata, gene_emb, method)
    assert "layer=" in str(info.value)  # names a way out
    assert not adata.obsm  # nothing half-written into the user's object


@pytest.mark.parametrize("method", METHODS)
def test_all_zero_cells_get_zero_rows_a_warning_and_are_counted(small_adata, gene_emb, method):
    X = small_adata.X.toarray()
    X[[4, 9]] = 0
    adata = with_X(small_adata, sp.csr_matrix(X))
    with pytest.warns(UserWarning, match=r"2 of 60 cells of adata.X .*first: 'c4'"):
        Y, rec = embed(adata, gene_emb, method)
    assert not Y[[4, 9]].any()
    assert np.allclose(np.linalg.norm(np.delete(Y, [4, 9], axis=0), axis=1), 1.0, atol=1e-5)
    assert rec["coverage"]["n_empty_cells"] == 2


@pytest.mark.parametrize("method", METHODS)
def test_all_zero_matrix_is_an_error_not_a_zero_embedding(small_adata, gene_emb, method):
    adata = with_X(small_adata, sp.csr_matrix(small_adata.shape, dtype=np.float32))
    with pytest.raises(ValueError, match="every one of the 60 cells .* every row would be zero"):
        embed(adata, gene_emb, method)


@pytest.mark.parametrize("method", METHODS)
def test_all_zero_genes_change_nothing(small_adata, gene_emb, method):
    X = small_adata.X.toarray()
    X[:, [0, 5, 21]] = 0
    keep = [i for i in range(X.shape[1]) if i not in (0, 5, 21)]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        Y, _ = embed(with_X(small_adata, sp.csr_matrix(X)), gene_emb, method)
    assert not no_genept_warnings(record)
    Y_without, _ = embed(with_X(small_adata, sp.csr_matrix(X))[:, keep].copy(), gene_emb, method)
    np.testing.assert_allclose(Y, Y_without, atol=1e-6)


def test_non_numeric_matrix_is_refused(small_adata, gene_emb):
    adata = ad.AnnData(X=np.asarray(small_adata.X.toarray(), dtype=object), var=small_adata.var.copy())
    for method in METHODS:
        with pytest.raises(ValueError, match="dtype object; expression must be numbers.*astype"):
            embed(adata, gene_emb, method)


# -- gene names ------------------------------------------------------------------------------------
def test_duplicate_var_names_warn_are_counted_and_add_up(small_adata, gene_emb):
    names = list(small_adata.var_names)
    names[1] = names[0]  # CD3D column relabelled CD3E
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anndata's own "not unique" warning
        adata = small_adata.copy()
        adata.var_names = names
    with pytest.warns(UserWarning, match=r"1 duplicated gene names \(e.g. \['CD3E'\]\).*sum the duplicated columns"):
        Y, rec = embed(adata, gene_emb, "w")
    assert rec["coverage"]["n_duplicate_var_names"] == 1
    # Both columns get CD3E's vector: the same as one CD3E column holding their sum.
    X = small_adata.X.toarray()
    X[:, 0] += X[:, 1]
    merged = ad.AnnData(X=sp.csr_matrix(np.delete(X, 1, axis=1)), var=pd.DataFrame(index=np.delete(names, 1)))
    Y_merged, _ = embed(merged, gene_emb, "w")
    np.testing.assert_allclose(Y, Y_merged, atol=1e-6)

    with pytest.warns(UserWarning, match="duplicated gene names"):
        _, rec_s = embed(adata, gene_emb, "s")
    assert rec_s["coverage"]["n_duplicate_var_names"] == 1


@pytest.mark.parametrize("method", METHODS)
def test_ensembl_ids_give_the_same_embedding_as_symbols(small_adata, gene_emb, method):
    resolver = GeneResolver.default()
    ids = [resolver.facts(g)["ensembl_id"] + ".7" for g in small_adata.var_names]  # versions are ignored
    assert all(i.startswith("ENSG") for i in ids)
    by_id = small_adata.copy()
    by_id.var_names = ids
    Y_sym, _ = embed(small_adata, gene_emb, method)
    Y_ids, rec_ids = embed(by_id, gene_emb, method)
    np.testing.assert_allclose(Y_ids, Y_sym, atol=1e-6)
    if method == "w":
        assert rec_ids["coverage"]["n_genes_embedded"] == 40
    else:
        assert rec_ids["coverage"]["n_genes_renamed_to_hgnc"] == 40


@pytest.mark.parametrize("method", METHODS)
def test_mouse_symbols_map_to_human_orthologs(small_adata, gene_emb, method):
    mouse = ["Cd3e", "Cd3d", "Cd2", "Il7r", "Ccr7", "Ltb", "Cd8a", "Gzmb", "Nkg7", "Ms4a1", "Cd79a", "Cd19", "Lyz2", "Cst3", "Actb", "Gapdh"]
    human = GeneResolver.default().to_symbols(mouse, species="mouse")
    assert None not in human
    sub = small_adata[:, human].copy()
    mouse_data = sub.copy()
    mouse_data.var_names = mouse
    Y_h, _ = embed(sub, gene_emb, method)
    Y_m, rec = embed(mouse_data, gene_emb, method, species="auto")
    np.testing.assert_allclose(Y_m, Y_h, atol=1e-6)
    assert rec["params"]["species"] == "auto"


# -- log-normalised data where counts are expected -------------------------------------------------
def lognorm(X: np.ndarray) -> np.ndarray:
    return np.log1p(X / X.sum(axis=1, keepdims=True) * 1e4).astype(np.float32)


@pytest.mark.parametrize("transform", ["log1p", "log1p_cp10k"])
def test_count_transforms_warn_on_log_normalised_data(small_adata, gene_emb, transform):
    adata = with_X(small_adata, sp.csr_matrix(lognorm(small_adata.X.toarray())))
    with pytest.warns(UserWarning, match=rf"non-integer values .* transform='{transform}' .* take the log twice.*transform='counts'"):
        embed(adata, gene_emb, "w", transform=transform)


@pytest.mark.parametrize("transform", ["log1p", "log1p_cp10k"])
def test_count_transforms_on_counts_do_not_warn(small_adata, gene_emb, transform):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        embed(small_adata, gene_emb, "w", transform=transform)
    assert not no_genept_warnings(record)


def test_counts_transform_takes_log_normalised_values_as_given_without_warning(small_adata, gene_emb):
    values = lognorm(small_adata.X.toarray())
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        Y, _ = embed(with_X(small_adata, values), gene_emb, "w", transform="counts")
    assert not no_genept_warnings(record)
    E, _ = gene_emb.reindex(small_adata.var_names)
    ref = values @ E
    np.testing.assert_allclose(Y, ref / np.linalg.norm(ref, axis=1, keepdims=True), atol=1e-5)


def test_genept_s_is_the_same_on_counts_and_log_normalised_data(small_adata, gene_emb):
    """Sentences rank genes within a cell; a per-cell monotone normalisation changes nothing."""
    Y_counts, _ = embed(small_adata, gene_emb, "s")
    Y_log, _ = embed(with_X(small_adata, lognorm(small_adata.X.toarray())), gene_emb, "s")
    np.testing.assert_allclose(Y_log, Y_counts, atol=1e-6)


def test_count_check_covers_later_blocks_and_dask(small_adata, gene_emb):
    X = small_adata.X.toarray()
    X[50:] = lognorm(X[50:])  # only the last block is not counts
    with pytest.warns(UserWarning, match="in cell 50"):
        embed(with_X(small_adata, sp.csr_matrix(X)), gene_emb, "w", transform="log1p", chunk_size=20)
    da = pytest.importorskip("dask.array")
    dask_X = da.from_array(lognorm(small_adata.X.toarray()), chunks=(20, -1))
    with pytest.warns(UserWarning, match="non-integer values"):
        embed(with_X(small_adata, dask_X), gene_emb, "w", transform="log1p_cp10k")


# -- empty or wrong objects ------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(0, 40), (60, 0)], ids=["no-cells", "no-genes"])
def test_empty_anndata_is_an_error(small_adata, gene_emb, method, shape):
    adata = small_adata[: shape[0]].copy() if shape[0] == 0 else small_adata[:, :0].copy()
    with pytest.raises(ValueError, match=rf"is empty \({shape[0]} cells x {shape[1]} genes\); nothing to embed"):
        embed(adata, gene_emb, method)


@pytest.mark.parametrize(
    "obj, hint",
    [
        (np.ones((3, 4)), "Wrap the matrix: anndata.AnnData"),
        (sp.csr_matrix(np.ones((3, 4))), "Wrap the matrix"),
        (pd.DataFrame(np.ones((3, 4))), "Wrap the table"),
        ("cells.h5ad", r"Load the file first: adata = anndata.read_h5ad\(path\)"),
        (None, "Build one with anndata.AnnData"),
    ],
    ids=["ndarray", "sparse", "dataframe", "path", "none"],
)
def test_non_anndata_input_is_a_type_error_with_the_fix(gene_emb, obj, hint):
    for method in METHODS:
        with pytest.raises(TypeError, match=f"adata must be an AnnData .*{hint}"):
            genept.tl.embed_cells(obj, **own_args(method, gene_emb))
    with pytest.raises(TypeError, match="must be an AnnData"):
        genept.tl.add_gene_embeddings(obj, gene_emb)


# -- the command line ------------------------------------------------------------------------------
@pytest.fixture
def files(small_adata, gene_emb, tmp_path):
    genes = gene_emb.save(tmp_path / "genes.npz")
    return tmp_path, genes


def run_cli(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda a: a.X.data.__setitem__(5, np.nan), "NaN or inf values"),
        (lambda a: a.X.data.__setitem__(5, -2.0), "negative values"),
        (lambda a: setattr(a, "X", a.X * 0), "every one of the 60 cells"),
        (lambda a: setattr(a, "var_names", [f"NOTAGENE{i}" for i in range(a.n_vars)]), "none of the 40 genes"),
    ],
    ids=["nan", "negative", "all-zero", "no-overlap"],
)
@pytest.mark.parametrize("backed", [False, True], ids=["memory", "backed"])
def test_cli_bad_values_exit_2_with_one_line_and_no_output(small_adata, files, capsys, make, message, backed):
    tmp, genes = files
    adata = small_adata.copy()
    make(adata)
    src = tmp / "bad.h5ad"
    adata.write_h5ad(src)
    out = tmp / "out.h5ad"
    argv = ["embed-cells", str(src), str(out), "--method", "w", "--genes", str(genes), "-q"] + (["--backed"] if backed else [])
    code, err = run_cli(argv, capsys)
    assert code == 2
    assert err.startswith("genept embed-cells: error:") and message in err and "Traceback" not in err
    assert not out.exists() and not list(tmp.glob(".out*"))


def _garbage(path):
    path.write_bytes(b"not an hdf5 file at all\n" * 40)


def _truncated(path, small_adata):
    small_adata.write_h5ad(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _hdf5_not_anndata(path):
    import h5py

    with h5py.File(path, "w") as f:
        f["numbers"] = np.arange(5)


@pytest.mark.parametrize("kind", ["garbage", "truncated", "hdf5-not-anndata", "empty-file", "folder", "missing"])
@pytest.mark.parametrize("method", METHODS)
def test_cli_corrupt_or_non_h5ad_input_is_a_clear_error(small_adata, files, capsys, kind, method):
    tmp, genes = files
    src = tmp / "in.h5ad"
    if kind == "garbage":
        _garbage(src)
    elif kind == "truncated":
        _truncated(src, small_adata)
    elif kind == "hdf5-not-anndata":
        _hdf5_not_anndata(src)
    elif kind == "empty-file":
        src.write_bytes(b"")
    elif kind == "folder":
        src.mkdir()
    out = tmp / "out.h5ad"
    out.write_bytes(b"previous result")
    argv = ["embed-cells", str(src), str(out), "--method", method, "--genes", str(genes), "--encoder", "hashing", "--no-cache", "-q"]
    code, err = run_cli(argv, capsys)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    if kind in ("folder", "missing"):
        assert "not found" in err
    else:
        assert "is not a readable .h5ad AnnData file" in err and "write_h5ad" in err
    assert out.read_bytes() == b"previous result"  # the old output is untouched


def test_cli_empty_anndata_is_a_clear_error(small_adata, files, capsys):
    tmp, genes = files
    src = tmp / "empty.h5ad"
    small_adata[:0].copy().write_h5ad(src)
    code, err = run_cli(["embed-cells", str(src), str(tmp / "out.h5ad"), "--method", "w", "--genes", str(genes), "-q"], capsys)
    assert code == 2 and "is empty (0 cells x 40 genes)" in err
    assert not (tmp / "out.h5ad").exists()


def test_cli_output_of_a_good_run_is_finite(small_adata, files, capsys):
    tmp, genes = files
    src = tmp / "in.h5ad"
    small_adata.write_h5ad(src)
    for method in METHODS:
        out = tmp / f"out_{method}.h5ad"
        argv = ["embed-cells", str(src), str(out), "--method", method, "--genes", str(genes), "--encoder", "hashing", "--no-cache", "-q"]
        assert main(argv) == 0
        assert np.isfinite(ad.read_h5ad(out).obsm[f"X_genept_{method}"]).all()
    capsys.readouterr()
