from __future__ import annotations

import numpy as np
import torch

from seqrec_model.config import ModelConfig
from seqrec_model.data import EvalSet
from seqrec_model.explain import explain_users, format_summary, random_other, without
from seqrec_model.export import because_position, similar_position
from seqrec_model.sasrec import SASRec


def test_without_and_random_other() -> None:
    assert without(np.asarray([4, 5, 6]), 1).tolist() == [4, 6]
    assert without(np.asarray([4, 5, 6]), 2).tolist() == [4, 5]
    rng = np.random.default_rng(0)
    draws = [random_other(rng, 4, 2) for _ in range(400)]
    assert set(draws) == {0, 1, 3}
    assert all(random_other(rng, 2, 0) == 1 for _ in range(20))


def test_similar_position_is_the_most_similar_item_latest_on_ties() -> None:
    vectors = np.asarray([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [1.0, 0.0]], dtype=np.float32)
    assert similar_position(vectors, [2, 3], 1) == 1  # item 3 (0.6) beats item 2 (0.0)
    assert similar_position(vectors, [1, 3, 4], 1) == 2  # items 1 and 4 tie: the latest
    assert similar_position(vectors, [2], 4) == 0


def test_explain_mechanics_on_a_tiny_random_model() -> None:
    torch.manual_seed(0)
    model = SASRec(20, ModelConfig(max_len=6, hidden=8, blocks=2, heads=2, dropout=0.0)).eval()
    rng = np.random.default_rng(3)
    inputs = [rng.integers(1, 21, size=int(n)) for n in (1, 2, 5, 9, 4, 7)]
    es = EvalSet(np.arange(10, 16), inputs, np.ones(6, dtype=np.int64))
    out = explain_users(model, es, seed=5, batch_size=2)
    summary, records = out["summary"], out["users"]
    assert summary["users"] == 5 and summary["skipped_history_of_one"] == 1
    for r in records:
        j = int(r["user"]) - 10
        fed = inputs[j][-6:]  # truncated to max_len as fed
        assert r["length"] == len(fed)
        with torch.no_grad():
            scores, att = model.forward_last_with_attention(torch.tensor([fed.tolist()]))
        masked = scores[0].clone()
        masked[0] = -np.inf
        masked[torch.from_numpy(inputs[j])] = -np.inf
        top = int(torch.argmax(masked))
        assert r["top1"] == top and top not in inputs[j].tolist()
        assert r["because_position"] == because_position(att[0].numpy())
        assert r["random_position"] != r["because_position"]
        assert r["random_other_than_last"] != len(fed) - 1
        # the served because: the fed item whose embedding is most like the top-1's
        emb = model.item_emb.weight.detach().double()
        cos = (emb[fed] @ emb[top]) / (emb[fed].norm(dim=1) * emb[top].norm())
        best = float(cos.max())
        assert abs(float(cos[r["similar_position"]]) - best) < 1e-6
        assert r["similar_position"] == max(i for i, c in enumerate(cos) if c >= best - 1e-6)
        assert r["random_other_than_similar"] != r["similar_position"]
        for key, pos in (("drop_because", r["because_position"]),
                         ("drop_random", r["random_position"]),
                         ("drop_similar", r["similar_position"]),
                         ("drop_random_vs_similar", r["random_other_than_similar"]),
                         ("drop_most_recent", len(fed) - 1)):  # fmt: skip
            with torch.no_grad():
                reduced = model.forward_last(torch.tensor([without(fed, pos).tolist()]))
            expected = float(scores[0, top]) - float(reduced[0, top])
            assert abs(r[key] - expected) < 1e-5, key
        if len(fed) >= 3:
            nf = r["because_not_first_position"]
            assert nf == 1 + because_position(att[0, 1:].numpy())
            with torch.no_grad():
                reduced = model.forward_last(torch.tensor([without(fed, nf).tolist()]))
            expected = float(scores[0, top]) - float(reduced[0, top])
            assert abs(r["drop_because_not_first"] - expected) < 1e-5
            assert r["drop_random_not_first"] is not None
        else:
            assert r["drop_because_not_first"] is None
    s = summary
    assert 0.0 <= s["share_because_drop_gt_random"] <= 1.0
    assert s["share_because_drop_gt_random"] == np.mean(
        [r["drop_because"] > r["drop_random"] for r in records]
    )
    assert s["share_similar_drop_gt_random"] == np.mean(
        [r["drop_similar"] > r["drop_random_vs_similar"] for r in records]
    )
    # the same seed, another batching: the same records
    again = explain_users(model, es, seed=5, batch_size=64)
    for a, b in zip(sorted(again["users"], key=lambda r: r["user"]),
                    sorted(records, key=lambda r: r["user"])):  # fmt: skip
        for key in a:
            if (key.startswith("drop") or key.endswith("weight")) and a[key] is not None:
                assert abs(a[key] - b[key]) < 1e-5  # padding changes float rounding only
            else:
                assert a[key] == b[key], key
    assert "most recent" in format_summary(summary)
    assert explain_users(model, es, users=3, seed=5)["summary"]["users"] <= 3
