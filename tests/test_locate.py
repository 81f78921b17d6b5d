"""GeneEmbeddings.locate: the one gene-id -> row matcher (symbols, aliases, Ensembl, Entrez, mouse orthologs)."""

from __future__ import annotations

import numpy as np
import pytest

from genept.embeddings import GeneEmbeddings


@pytest.fixture(scope="module")
def emb():
    genes = ["CD3E", "INS", "GCG", "NKX6-1", "my_custom_key"]
    return GeneEmbeddings(genes, np.arange(len(genes) * 3, dtype=np.float32).reshape(len(genes), 3))


def test_locate_every_identifier_kind(emb):
    ids = ["INS", "CD3epsilon", "ENSG00000198851", "ENSG00000198851.12", "916", "NKX6.1", "my_custom_key", "NOT_A_GENE", ""]
    rows = emb.locate(ids, species="human")
    assert rows.dtype == np.int64 and rows.shape == (len(ids),)
    # symbol, alias, Ensembl (with and without version), Entrez, dotted symbol, exact key, missing, blank
    assert rows.tolist() == [1, 0, 0, 0, 0, 3, 4, -1, -1]


def test_exact_key_wins_before_the_resolver():
    # "T3E" is an alias of CD3E; a key spelled exactly so is matched as itself.
    emb = GeneEmbeddings(["CD3E", "CD3epsilon"], np.eye(2, dtype=np.float32))
    assert emb.locate(["CD3epsilon", "CD3E"], species="human").tolist() == [1, 0]


def test_mouse_genes_through_human_orthologs(emb):
    mouse = ["Ins2", "Ins1", "Gcg", "Cd3e", "Nkx6-1", "Xist"]
    rows = emb.locate(mouse, species="mouse")
    assert rows.tolist() == [1, 1, 2, 0, 3, -1]
    assert emb.locate(mouse).tolist() == rows.tolist()  # "auto" guesses mouse from the MGI-style symbols
    # Read as human, the mouse-only symbol Ins2 has no match.
    assert emb.locate(["Ins2"], species="human").tolist() == [-1]


def test_species_is_checked_and_empty_input(emb):
    with pytest.raises(ValueError, match="species"):
        emb.locate(["INS"], species="zebrafish")
    assert emb.locate([]).tolist() == []


def test_reindex_and_evaluation_use_locate(emb):
    from genept.evaluation.genes import align_labels

    ids = ["Ins2", "Gcg", "nope"]
    matrix, found = emb.reindex(ids, species="mouse")
    rows = emb.locate(ids, species="mouse")
    assert found.tolist() == (rows >= 0).tolist()
    np.testing.assert_array_equal(matrix[found], emb.vectors[rows[found]])
    assert not matrix[~found].any()
    rows, labels, coverage = align_labels(emb, ["CD3epsilon", "916", "GCG", "nope"], [1, 2, 0, 1])
    # CD3epsilon and 916 both reach CD3E with different labels: that row is dropped as a contradiction.
    assert rows.tolist() == [2] and coverage["n_with_embedding"] == 3 and coverage["n_conflicting_labels"] == 1
