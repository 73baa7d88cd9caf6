from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from seqrec_model.data import EvalSet
from seqrec_model.evaluate import (
    evaluate_popularity,
    evaluate_scorer,
    format_table,
    metrics_from_ranks,
    popularity_scores,
    ranks_from_scores,
)

# Three users over items 1..5 (column 0 = padding, given a huge score that must be ignored).
SCORES = {
    (2,): [9.0, 0.5, 0.9, 0.1, 0.7, 0.3],  # target 4; all: only item 2 above -> rank 1
    (5, 3): [9.0, 0.2, 0.4, 0.6, 0.8, 1.0],  # target 1; all: rank 4; seen 5, 3 removed -> rank 2
    (3, 2): [9.0, 0.1, 0.2, 0.3, 0.4, 0.5],  # target 3 (also seen: stays a candidate) -> rank 2
}
EVALSET = EvalSet(
    users=np.arange(3),
    inputs=[np.array(h) for h in SCORES],
    targets=np.array([4, 1, 3]),
)


def lookup_scorer(histories):
    return torch.tensor([SCORES[tuple(int(v) for v in h)] for h in histories])


def g(rank: int) -> float:
    return 1.0 / math.log2(rank + 2)


def test_ranks_both_variants() -> None:
    scores = torch.tensor(list(SCORES.values()))
    targets = torch.tensor([4, 1, 3])
    assert ranks_from_scores(scores, targets).tolist() == [1, 4, 2]
    exclude = torch.zeros_like(scores, dtype=torch.bool)
    exclude[0, 2] = True
    exclude[1, [5, 3]] = True
    exclude[2, 2] = True
    assert ranks_from_scores(scores, targets, exclude).tolist() == [0, 2, 2]


def test_ties_are_pessimistic() -> None:
    scores = torch.zeros(1, 6)
    assert ranks_from_scores(scores, torch.tensor([3])).tolist() == [4]


def test_metrics_hand_computed() -> None:
    result = evaluate_scorer(lookup_scorer, EVALSET, num_items=5, batch_size=2)
    a, b = result["all"], result["seen_excluded"]
    # all items: ranks 1, 4, 2
    assert a["HR@1"] == 0.0
    assert a["HR@5"] == pytest.approx(1.0)
    assert a["HR@10"] == pytest.approx(1.0)
    assert a["NDCG@5"] == pytest.approx((g(1) + g(4) + g(2)) / 3)
    assert a["NDCG@10"] == pytest.approx((g(1) + g(4) + g(2)) / 3)
    assert a["MRR"] == pytest.approx((1 / 2 + 1 / 5 + 1 / 3) / 3)
    # seen excluded: ranks 0, 2, 2
    assert b["HR@1"] == pytest.approx(1 / 3)
    assert b["NDCG@5"] == pytest.approx((1.0 + 0.5 + 0.5) / 3)
    assert b["MRR"] == pytest.approx((1 + 1 / 3 + 1 / 3) / 3)
    assert a["users"] == b["users"] == 3


def test_cutoffs() -> None:
    m = metrics_from_ranks([0, 4, 5, 9, 10])
    assert m["HR@1"] == pytest.approx(0.2)
    assert m["HR@5"] == pytest.approx(0.4)
    assert m["HR@10"] == pytest.approx(0.8)
    assert m["NDCG@5"] == pytest.approx((1 + g(4)) / 5)
    assert m["NDCG@10"] == pytest.approx((1 + g(4) + g(5) + g(9)) / 5)
    assert m["MRR"] == pytest.approx((1 + 1 / 5 + 1 / 6 + 1 / 10 + 1 / 11) / 5)


def test_sampled_variant_with_more_negatives_than_items_equals_seen_excluded() -> None:
    result = evaluate_scorer(lookup_scorer, EVALSET, num_items=5, sampled_negatives=100)
    assert result["sampled100"] == result["seen_excluded"]


def test_popularity_order_and_baseline() -> None:
    counts = np.array([0, 5, 1, 5, 0])
    order = torch.argsort(popularity_scores(counts)[1:], descending=True) + 1
    assert order.tolist() == [1, 3, 2, 4]  # ties broken by lower index
    evalset = EvalSet(np.arange(2), [np.array([1]), np.array([2])], np.array([3, 2]))
    pop = evaluate_popularity(counts, evalset)
    assert pop["all"]["HR@1"] == pytest.approx(0.0)  # 3 is behind 1; 2 behind 1 and 3
    assert pop["seen_excluded"]["HR@1"] == pytest.approx(0.5)  # user 0 saw item 1
    table = format_table({"test pop": pop})
    assert "seen excluded" in table and "NDCG@10" in table
