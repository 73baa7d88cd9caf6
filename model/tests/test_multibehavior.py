"""The single- vs multi-behavior comparison on held-out purchases (``compare``)."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pytest

from seqrec_model.config import ModelConfig, TrainConfig
from seqrec_model.data import load
from seqrec_model.multibehavior import compare, held_out_purchases, model_input, parse_models
from seqrec_model.train import train


def test_held_out_purchases_are_targets_after_the_whole_history(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text(
        "user_id,item_id,behavior,timestamp\n"
        "0,5,view,1\n0,5,cart,2\n0,6,view,3\n1,7,view,1\n2,8,view,1\n"
    )
    (tmp_path / "test_buy.csv").write_text("user_id,item_id\n0,9\n1,5\n")
    data = load("retailrocket", str(tmp_path / "train.csv"), repeats="all")
    evalset = held_out_purchases(data)
    names = {data.user_ids[u]: data.item_ids[t - 1] for u, t in zip(evalset.users, evalset.targets)}
    assert names == {"0": "9", "1": "5"}  # user 2 has no held-out purchase
    first = evalset.users.tolist().index(data.user_ids.index("0"))
    assert [data.item_ids[i - 1] for i in evalset.inputs[first]] == ["5", "5", "6"]
    assert evalset.input_behaviors[first].tolist() == [1, 3, 1]
    assert evalset.target_behaviors.tolist() == [4, 4]


def test_model_input_rebuilds_each_models_own_view() -> None:
    items = np.array([1, 1, 2, 3, 3])
    behaviors = np.array([1, 3, 1, 1, 4])
    to_model = np.array([0, 10, 0, 30])  # item 2 unknown to the model
    got = model_input(items, behaviors, None, "first", to_model)
    assert got[0].tolist() == [10, 30] and got[1].tolist() == [1, 1]
    got = model_input(items, behaviors, None, "strongest", to_model)
    assert got[0].tolist() == [10, 30] and got[1].tolist() == [3, 4]
    got = model_input(items, behaviors, None, "all", to_model)
    assert got[0].tolist() == [10, 10, 30, 30] and got[1].tolist() == [1, 3, 1, 4]
    got = model_input(items, behaviors, ["purchase"], "first", to_model)
    assert got[0].tolist() == [30] and got[1].tolist() == [4]


def shop(tmp_path: Path, users: int = 120, items: int = 20, seed: int = 5) -> Path:
    """Users view an item, often cart it, and buy the item after it in the catalog; each user's
    last purchase is held out (RetailRocket's layout)."""
    rng = random.Random(seed)
    rows, held = ["user_id,item_id,behavior,timestamp"], ["user_id,item_id"]
    for u in range(users):
        item, ts = rng.randrange(items), 0
        for _ in range(rng.randint(3, 7)):
            rows.append(f"{u},{item},view,{ts}")
            if rng.random() < 0.5:
                rows.append(f"{u},{item},cart,{ts + 1}")
            rows.append(f"{u},{(item + 1) % items},buy,{ts + 2}")
            item, ts = (item + 2) % items, ts + 10
        held.append(f"{u},{(item + 1) % items}")
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "test_buy.csv").write_text("\n".join(held) + "\n")
    return tmp_path / "train.csv"


def test_compare_scores_every_model_on_the_same_targets(tmp_path: Path) -> None:
    path = shop(tmp_path)
    cfg = TrainConfig(epochs=3, batch_size=32, lr=5e-3, threads=1, seed=1)
    shape = ModelConfig(max_len=10, hidden=16, blocks=1, heads=1, dropout=0.0)
    runs = {}
    for name, event_types, repeats, typed in (
        ("purchases", "purchase", "first", False),
        ("type-blind", None, "first", False),
        ("type-aware", None, "all", True),
    ):
        types = event_types.split(",") if event_types else None
        data = load("retailrocket", str(path), event_types=types, repeats=repeats)
        config = ModelConfig(**{**shape.to_dict(), "behaviors": typed})
        source = {"load_options": {"event_types": event_types, "repeats": repeats}}
        train(data, config, cfg, out_dir=str(tmp_path / name), data_source=source, log=io.StringIO())
        runs[name] = str(tmp_path / name)
    report = compare(str(path), runs, sampled_negatives=9)
    assert report["users"] == 120 and report["items"] == 20
    assert list(report["rows"]) == [*runs, "most popular (purchases)", "most popular (all events)"]
    for row in report["rows"].values():
        for variant in ("seen_excluded", "all", "sampled100"):
            assert row["metrics"][variant]["users"] == 120
    assert report["rows"]["purchases"]["model"]["event_types"] == ["purchase"]
    assert report["rows"]["type-aware"]["model"]["behaviors"] is True
    # popularity by hand: the purchases of train.csv, the user's whole history excluded
    data = load("retailrocket", str(path), repeats="all")
    evalset = held_out_purchases(data)
    counts = np.zeros(data.num_items + 1)
    for u, seq in enumerate(data.sequences):
        kept = seq[:-1] if np.isnan(data.times[u][-1]) else seq
        beh = data.behaviors[u][: len(kept)]
        np.add.at(counts, kept[beh == 4], 1)
    hits = 0
    for history, target in zip(evalset.inputs, evalset.targets):
        candidates = [i for i in range(1, data.num_items + 1) if i == target or i not in set(history)]
        # ties broken by the lower index, as popularity_scores does
        ranked = sorted(candidates, key=lambda i: (-counts[i], i))
        hits += target in ranked[:10]
    pop = report["rows"]["most popular (purchases)"]["metrics"]["seen_excluded"]
    assert pop["HR@10"] == pytest.approx(hits / 120, abs=1e-6)


def test_parse_models() -> None:
    assert parse_models(["a=run/a", "b=x=y"]) == {"a": "run/a", "b": "x=y"}
    with pytest.raises(ValueError, match="NAME=PATH"):
        parse_models(["nope"])


def test_holdout_writes_the_held_out_purchase_layout(tmp_path: Path) -> None:
    import json

    from seqrec_model.cli import main

    rows = [
        ("u1", "a", "view", 1000), ("u1", "a", "cart", 1500), ("u1", "a", "purchase", 2000),
        ("u1", "b", "click", 3000), ("u1", "c", "purchase", 4000), ("u1", "d", "view", 5000),
        ("u2", "a", "purchase", 1000),  # a purchase without an event before it: not held out
        ("u2", "e", "rate", 2000),
    ]  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps({"user_id": u, "item_id": i, "event_type": t, "ts": ts}) + "\n"
                            for u, i, t, ts in rows))  # fmt: skip
    assert main(["holdout", "--data", str(path), "--out", str(tmp_path / "out")]) == 0
    # u1's last purchase (c) is held out; u2's only purchase has nothing of another item before
    assert (tmp_path / "out" / "test_buy.csv").read_text() == "user_id,item_id\nu1,c\n"
    assert (tmp_path / "out" / "train.csv").read_text().splitlines() == [
        "user_id,item_id,behavior,timestamp_ms",
        "u1,a,view,1000", "u1,a,cart,1500", "u1,a,buy,2000", "u1,b,click,3000",
        "u2,a,buy,1000",
    ]  # fmt: skip
    data = load("retailrocket", str(tmp_path / "out" / "train.csv"), repeats="all")
    u1 = data.user_ids.index("u1")
    assert [data.item_ids[i - 1] for i in data.sequences[u1]] == ["a", "a", "a", "b", "c"]
    assert data.behaviors[u1].tolist() == [1, 3, 4, 2, 4]
    assert data.times[u1][:4].tolist() == [1.0, 1.5, 2.0, 3.0]  # milliseconds read as such
    # the run that led to the held-out purchase is held out with it
    funnel = tmp_path / "funnel.jsonl"
    funnel.write_text("".join(json.dumps({"user_id": "u", "item_id": i, "event_type": t, "ts": ts}) + "\n"
                              for i, t, ts in (("a", "view", 1), ("b", "view", 2), ("b", "cart", 3),
                                               ("b", "purchase", 4), ("c", "view", 5))))  # fmt: skip
    assert main(["holdout", "--data", str(funnel), "--out", str(tmp_path / "f")]) == 0
    assert (tmp_path / "f" / "test_buy.csv").read_text() == "user_id,item_id\nu,b\n"
    assert (tmp_path / "f" / "train.csv").read_text().splitlines()[1:] == ["u,a,view,1"]
    assert held_out_purchases(data).targets.tolist() == [data.item_ids.index("c") + 1]


def test_a_held_out_purchase_is_never_trained_on(tmp_path: Path) -> None:
    from seqrec_model.data import held_out_last, leave_one_out

    (tmp_path / "train.csv").write_text(
        "user_id,item_id,behavior,timestamp\n0,1,view,1\n0,2,view,2\n0,3,view,3\n1,4,view,1\n"
    )
    (tmp_path / "test_buy.csv").write_text("user_id,item_id\n0,9\n1,8\n")
    data = load("retailrocket", str(tmp_path / "train.csv"))
    assert held_out_last(data) == [True, True]
    split = leave_one_out(data.sequences, data.behaviors, held_out_last(data))
    trained = {data.item_ids[i - 1] for seq in split.train for i in seq}
    # user 1 is too short to be evaluated, and still its held-out purchase (8) is not trained on
    assert trained == {"1", "2", "4"} and [data.item_ids[t - 1] for t in split.test.targets] == ["9"]
    assert split.train_behaviors is not None and [len(b) for b in split.train_behaviors] == [2, 1]
    # without the flags (other data) a short user is entirely training data, as before
    assert {data.item_ids[i - 1] for s in leave_one_out(data.sequences).train for i in s} >= {"8"}
