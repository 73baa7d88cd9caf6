from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from seqrec_model.beyond import (
    average_popularity,
    beyond_accuracy,
    coverage,
    format_beyond,
    gini_index,
    intra_list_diversity,
    novelty,
    top_lists,
    vector_diversity,
)
from seqrec_model.data import EvalSet

# catalog of 5 items; training: user 0 = 1 2 1, user 1 = 2 3, user 2 = 3
TRAIN = [np.asarray([1, 2, 1]), np.asarray([2, 3]), np.asarray([3])]
COUNTS = np.asarray([0, 2, 2, 2, 0, 0])  # interactions per item index (0 = padding)
LISTS = np.asarray([[1, 2], [2, 3], [1, 3]])


def test_coverage_and_gini_by_hand() -> None:
    assert coverage(LISTS, 5) == pytest.approx(3 / 5)
    # counts over all 5 items: 1:2, 2:2, 3:2, 4:0, 5:0 -> sorted 0 0 2 2 2, n = 5, sum = 6
    # sum (2i - n - 1) c_i = (2*3-6)*2 + (2*4-6)*2 + (2*5-6)*2 = 0 + 4 + 8 = 12; G = 12 / 30
    assert gini_index(LISTS, 5) == pytest.approx(12 / 30)
    assert gini_index(np.asarray([[1, 2], [3, 4], [5, 1]]), 5) == pytest.approx(
        ((2 * 5 - 6) * 2 + (-4 - 2 - 0 + 2) * 1) / (5 * 6)
    )  # counts 1,1,1,1,2: (-4 -2 +0 +2)*1 + 4*2 = 4 -> 4/30
    assert gini_index(np.asarray([[1], [2], [3], [4], [5]]), 5) == pytest.approx(0.0)


def test_novelty_and_average_popularity_by_hand() -> None:
    # total interactions 6, catalog 5: p_i = (c_i + 1) / 11 = 3/11 for items 1..3
    assert novelty(LISTS, COUNTS) == pytest.approx(-math.log2(3 / 11))
    assert novelty(np.asarray([[1, 4]]), COUNTS) == pytest.approx(
        (-math.log2(3 / 11) - math.log2(1 / 11)) / 2
    )
    assert average_popularity(np.asarray([[1, 4], [2, 3]]), COUNTS) == pytest.approx((1 + 2) / 2)


def test_intra_list_diversity_by_hand() -> None:
    # U_1 = {0}, U_2 = {0, 1}, U_3 = {1, 2}, U_4 = {}
    # cos(1,2) = 1/sqrt(2); cos(2,3) = 1/2; cos(1,3) = 0; cos with item 4 = 0 (empty)
    expected = ((1 - 1 / math.sqrt(2)) + (1 - 0.5) + (1 - 0)) / 3
    assert intra_list_diversity(LISTS, TRAIN, 5) == pytest.approx(expected)
    # a list of 3: mean of its 3 pairs
    three = np.asarray([[1, 2, 3]])
    assert intra_list_diversity(three, TRAIN, 5) == pytest.approx(
        1 - (1 / math.sqrt(2) + 0.5 + 0) / 3
    )
    assert intra_list_diversity(np.asarray([[1, 4]]), TRAIN, 5) == pytest.approx(1.0)


def test_vector_diversity_by_hand() -> None:
    # the same three unit vectors as the Java side's ItemVectorsTest: (1,2) 0, (1,3) 0.6, (2,3) 0.8
    vectors = np.asarray([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    assert vector_diversity(np.asarray([[1, 2, 3]]), vectors) == pytest.approx(1 - 1.4 / 3)
    assert vector_diversity(np.asarray([[1, 3], [2, 3]]), vectors) == pytest.approx(
        ((1 - 0.6) + (1 - 0.8)) / 2
    )
    m = beyond_accuracy(np.asarray([[1, 3]]), TRAIN, 3, vectors)
    assert m["ild_vectors"] == pytest.approx(0.4)
    assert "0.4000" in format_beyond({"model": m})


def test_beyond_accuracy_bundle_and_top_lists() -> None:
    m = beyond_accuracy(LISTS, TRAIN, 5)
    assert set(m) == {"coverage", "gini", "novelty", "avg_popularity", "ild", "lists"}
    assert m["lists"] == 3
    es = EvalSet(np.arange(2), [np.asarray([1]), np.asarray([2, 3])], np.asarray([2, 1]))
    scores = torch.tensor([[9.0, 5.0, 4.0, 4.0, 1.0, 0.0]])

    def score_fn(h):
        return scores.expand(len(h), -1)

    lists = top_lists(score_fn, es, 5, k=2)
    assert lists.tolist() == [[2, 3], [1, 4]]  # seen excluded, padding never, ties by index
    assert "coverage" in format_beyond({"model": m})
