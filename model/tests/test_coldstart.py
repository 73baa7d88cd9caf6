from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from seqrec_model.coldstart import (
    bucket_metrics,
    coldstart_report,
    decayed_popularity,
    format_markdown,
    rrf,
    rrf_batch,
    target_times,
    top_excluding,
    truncated_cases,
)
from seqrec_model.config import ModelConfig
from seqrec_model.data import EvalSet, leave_one_out
from seqrec_model.evaluate import model_scorer
from seqrec_model.sasrec import SASRec


def evalset(histories, targets):
    return EvalSet(
        np.arange(len(histories)),
        [np.asarray(h, dtype=np.int64) for h in histories],
        np.asarray(targets, dtype=np.int64),
    )


def test_truncation_buckets_keep_the_last_n_items_of_long_enough_users() -> None:
    es = evalset([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [5, 6], [7]], [13, 14, 15])
    cases = truncated_cases(es)
    got = [(b, int(r), h.tolist()) for b, r, h in zip(cases.buckets, cases.rows, cases.histories)]
    assert ("1", 0, [12]) in got and ("1", 1, [6]) in got and ("1", 2, [7]) in got
    assert ("2", 0, [11, 12]) in got and ("2", 1, [5, 6]) in got
    assert [g for g in got if g[0] == "3-5"] == [
        ("3-5", 0, [10, 11, 12]),
        ("3-5", 0, [9, 10, 11, 12]),
        ("3-5", 0, [8, 9, 10, 11, 12]),
    ]
    assert [g[2] for g in got if g[0] == "6-10"] == [list(range(13 - n, 13)) for n in range(6, 11)]
    assert [g for g in got if g[0] == "11+"] == [("11+", 0, list(range(1, 13)))]
    assert len(got) == 3 + 2 + 3 + 5 + 1
    # the target never enters the input
    assert all(int(cases.targets[c]) not in h for c, h in enumerate(cases.histories))


def test_top_excluding_drops_history_and_padding_and_marks_short_lists() -> None:
    scores = torch.tensor([[9.0, 1.0, 5.0, 5.0, 3.0], [9.0, 4.0, 3.0, 2.0, 1.0]])
    top = top_excluding(scores, [np.asarray([3]), np.asarray([1, 2, 3])], 4)
    # ties by lower index; item 0 never; seen items gone; fewer than 4 left -> 0 (no item)
    assert top.tolist() == [[2, 4, 1, 0], [4, 0, 0, 0]]


def test_rrf_by_hand() -> None:
    # model: a=1, b=2, c=3; trending: c=1, d=2
    model, trend = [10, 20, 30], [30, 40]
    s = {10: 1 / 61, 20: 1 / 62, 30: 1 / 63 + 1 / 61, 40: 1 / 62}
    assert rrf(model, trend, 1.0, k=4) == sorted(s, key=lambda i: -s[i])  # [30, 10, 20, 40]
    # 20 and 40 tie at 1/62: the model's item first
    assert rrf(model, trend, 1.0, k=4) == [30, 10, 20, 40]
    # a large beta puts trending first; a small one the model
    assert rrf(model, trend, 4.0, k=2) == [30, 40]
    assert rrf(model, trend, 0.25, k=4) == [30, 10, 20, 40]  # 1/63 + 0.25/61 > 1/61
    assert rrf([10, 20], [30], 0.25, k=3) == [10, 20, 30]  # 0.25/61 < 1/62
    assert rrf([10, 20], [30], 2.0, k=3) == [30, 10, 20]  # 2/61 > 1/61
    assert rrf([10, 0], [0], 1.0, k=3) == [10]  # 0 = no item


def test_rrf_batch_equals_rrf() -> None:
    rng = np.random.default_rng(0)
    model = np.stack([rng.permutation(40)[:12] + 1 for _ in range(50)])
    trend = np.stack([rng.permutation(40)[:12] + 1 for _ in range(50)])
    model[3, 8:] = 0  # short lists
    trend[4, 5:] = 0
    for beta in (0.25, 1.0, 4.0):
        batch = rrf_batch(model, trend, beta, k=10, chunk=7)
        for c in range(50):
            expected = rrf(model[c], trend[c], beta, k=10)
            assert batch[c].tolist() == expected + [0] * (10 - len(expected))


def test_decayed_popularity_by_hand_and_time_invariance() -> None:
    hour = 3600.0
    times = np.asarray([0.0, 0.0, 1 * hour, 5 * hour, 5 * hour, 9 * hour])
    items = np.asarray([1, 1, 2, 2, 3, 1])
    queries = np.asarray([5 * hour, 10 * hour, 0.0])
    out = dict(decayed_popularity(times, items, queries, 3, half_life=hour))
    # at t=0: nothing strictly before
    np.testing.assert_allclose(out[2], [0, 0, 0, 0])
    # at 5h: events at 0, 0 (item 1) and 1h (item 2); the 5h events are not before
    np.testing.assert_allclose(out[0], [0, 2 * 2.0**-5, 2.0**-4, 0])
    # at 10h: everything; item 1 gets the 9h event
    expected10 = [0, 2 * 2.0**-10 + 2.0**-1, 2.0**-9 + 2.0**-5, 2.0**-5]
    np.testing.assert_allclose(out[1], expected10)
    # infinite half-life: plain counts
    out_inf = dict(decayed_popularity(times, items, queries, 3, half_life=math.inf))
    np.testing.assert_allclose(out_inf[1], [0, 3, 2, 1])
    # far from the epoch (big timestamps) the ranking is the same: no overflow
    shift = 1.7e9
    out_shift = dict(decayed_popularity(times + shift, items, queries + shift, 3, half_life=hour))
    np.testing.assert_allclose(out_shift[1], expected10)


def test_target_times_unknown_time_is_last_known_plus_one_second() -> None:
    es = EvalSet(np.asarray([0, 1]), [np.asarray([1, 2]), np.asarray([3, 4])], np.asarray([5, 6]))
    times = [np.asarray([10.0, 20.0, 30.0, np.nan]), np.asarray([1.0, 2.0, 3.0, 4.0])]
    np.testing.assert_allclose(target_times("test", es, times), [31.0, 4.0])
    np.testing.assert_allclose(target_times("validation", es, times), [30.0, 3.0])


def test_bucket_metrics() -> None:
    es = evalset([[1], [2], [3]], [5, 6, 7])
    cases = truncated_cases(es)  # bucket "1" only
    lists = np.asarray([[5, 1, 2], [1, 6, 2], [1, 2, 3]])
    m = bucket_metrics(cases, lists)
    assert m["1"]["cases"] == 3
    assert m["1"]["HR@10"] == pytest.approx(2 / 3)
    assert m["1"]["NDCG@10"] == pytest.approx((1 + 1 / math.log2(3)) / 3)
    assert m["11+"]["cases"] == 0


@pytest.mark.parametrize("timed", [False, True])
def test_coldstart_report_runs_on_a_tiny_model(timed: bool) -> None:
    rng = np.random.default_rng(1)
    sequences = [rng.integers(1, 21, size=int(rng.integers(3, 16))) for _ in range(30)]
    times = None
    if timed:
        times = [np.sort(rng.uniform(0, 1e6, size=len(s))) for s in sequences]
        times[0][-1] = np.nan  # a target of unknown time
    split = leave_one_out(sequences)
    torch.manual_seed(0)
    model = SASRec(20, ModelConfig(max_len=8, hidden=8, blocks=1, heads=1, dropout=0.0)).eval()
    report = coldstart_report(split, 20, model_scorer(model), times, sequences, batch_size=7)
    assert report["buckets"] == ["1", "2", "3-5", "6-10", "11+"]
    assert (report["half_life"] is not None) == timed
    test = report["test"]
    assert test["1"]["cases"] == 30 and test["1"]["users"] == 30
    for label in report["buckets"]:
        row = test[label]
        assert set(row) >= {"model", "trending", "blend", "beta", "users", "cases"}
        assert row["beta"] in (0.25, 0.5, 1.0, 2.0, 4.0)
        for k in ("model", "trending", "blend"):
            assert 0.0 <= row[k]["NDCG@10"] <= row[k]["HR@10"] <= 1.0
    table = format_markdown(report, "tiny")
    assert table.count("\n| ") == 6 and "| 1 | 30 (30) |" in table


def test_stable_topk_breaks_ties_by_lower_index() -> None:
    from seqrec_model.coldstart import stable_topk

    gen = torch.Generator().manual_seed(0)
    scores = torch.randint(0, 4, (200, 30), generator=gen).double()  # many ties
    scores[5] = 0.0
    v, i = stable_topk(scores, 7)
    ref_v, ref_i = torch.sort(scores, dim=1, descending=True, stable=True)
    assert torch.equal(i, ref_i[:, :7]) and torch.equal(v, ref_v[:, :7])
    distinct = torch.randn(50, 40, generator=gen)
    assert torch.equal(stable_topk(distinct, 5)[1], torch.sort(distinct, 1, True).indices[:, :5])


def test_trending_leaves_out_the_users_own_events() -> None:
    from seqrec_model.coldstart import static_scores, without_own_events

    hour = 3600.0
    # user 0: items 1, 2 at 0h, 1h, target at 2h; user 1: item 2 at 0.5h, target at 3h
    sequences = [np.asarray([1, 2, 3]), np.asarray([2, 4])]
    times = [np.asarray([0.0, hour, 2 * hour]), np.asarray([0.5 * hour, 3 * hour])]
    es = EvalSet(np.asarray([0, 1]), [np.asarray([1, 2]), np.asarray([2])], np.asarray([3, 4]))
    qt = np.asarray([2 * hour, 3 * hour])
    et = np.concatenate(times)
    ei = np.concatenate(sequences)
    rows = dict(without_own_events(decayed_popularity(et, ei, qt, 4, hour), es, qt, sequences,
                                   times, hour))  # fmt: skip
    # user 0 at 2h: only user 1's item 2 at 0.5h
    np.testing.assert_allclose(rows[0], [0, 0, 2.0**-1.5, 0, 0])
    # user 1 at 3h: user 0's items 1 (0h), 2 (1h), 3 (2h); not its own item 2
    np.testing.assert_allclose(rows[1], [0, 2.0**-3, 2.0**-2, 2.0**-1, 0])
    counts = np.asarray([0, 5, 4, 1, 0])
    static = dict(static_scores(counts, es, [np.asarray([1, 1]), np.asarray([2])]))
    np.testing.assert_allclose(static[0], [0, 3, 4, 1, 0])
    np.testing.assert_allclose(static[1], [0, 5, 3, 1, 0])


def test_a_seen_target_stays_a_candidate_and_11_plus_equals_evaluate() -> None:
    scores = torch.tensor([[0.0, 5.0, 4.0, 3.0]])
    assert top_excluding(scores, [np.asarray([1, 2])], 3).tolist() == [[3, 0, 0]]
    assert top_excluding(scores, [np.asarray([1, 2])], 3, np.asarray([1])).tolist() == [[1, 3, 0]]
    # repeats in the history (the target seen before): the full-history bucket is evaluate's
    from seqrec_model.coldstart import model_top_lists
    from seqrec_model.evaluate import evaluate_model

    rng = np.random.default_rng(2)
    sequences = [rng.integers(1, 9, size=int(rng.integers(12, 20))) for _ in range(40)]
    split = leave_one_out(sequences)
    torch.manual_seed(1)
    model = SASRec(8, ModelConfig(max_len=8, hidden=8, blocks=1, heads=1, dropout=0.0)).eval()
    cases = truncated_cases(split.test)
    top = model_top_lists(model_scorer(model), cases, 8, batch_size=5)
    got = bucket_metrics(cases, top)["11+"]
    expected = evaluate_model(model, split.test)["seen_excluded"]
    assert got["cases"] == 40
    assert got["HR@10"] == pytest.approx(expected["HR@10"])
    assert got["NDCG@10"] == pytest.approx(expected["NDCG@10"])
