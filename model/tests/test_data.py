from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seqrec_model.data import (
    BEHAVIOR_CODES,
    DataFormatError,
    default_name,
    item_counts,
    leave_one_out,
    left_pad,
    load,
    read_events,
    read_ml1m_sequences,
    read_movielens_csv,
    read_pairs,
    read_retailrocket,
    with_vocabulary,
)


def seqs(data):
    """Sequences as external ids per external user id."""
    return {
        user: [data.item_ids[i - 1] for i in seq]
        for user, seq in zip(data.user_ids, data.sequences)
    }


def ev(user: str, item: str, ts: int, etype: str = "view", **extra) -> str:
    return json.dumps({"user_id": user, "item_id": item, "event_type": etype, "ts": ts, **extra})


# ---------------------------------------------------------------- events JSON lines


def test_events_sorted_by_ts_stable_vocab_by_first_appearance(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        ev("a", "x", 30),
        ev("b", "y", 10),
        ev("a", "z", 20, "purchase", event_id="e1"),
        ev("a", "w", 20),  # same ts as the previous line: file order kept
        "",
        ev("b", "x", 40, "rate"),
    ]
    path.write_text("\n".join(lines) + "\n")
    data = read_events(str(path))
    assert data.item_ids == ["y", "z", "w", "x"]  # order of first appearance in time order
    assert data.user_ids == ["b", "a"]
    assert seqs(data) == {"a": ["z", "w", "x"], "b": ["y", "x"]}
    assert data.sequences[1].dtype == np.int64
    assert data.num_interactions == 5
    assert data.summary() == {
        "name": tmp_path.name,  # "events" is a generic file name: named after the directory
        "format": "events",
        "users": 2,
        "items": 4,
        "interactions": 5,
    }


def test_events_duplicate_event_ids_and_type_filter(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(
        "\n".join(
            [
                ev("a", "x", 1, event_id="1"),
                ev("a", "x", 1, event_id="1"),  # redelivered
                ev("a", "y", 2, "purchase"),
                ev("a", "z", 3, "cart"),
            ]
        )
    )
    data = read_events(str(path))
    assert data.duplicate_events == 1
    assert seqs(data) == {"a": ["x", "y", "z"]}
    only = read_events(str(path), event_types=["purchase", "cart"])
    assert seqs(only) == {"a": ["y", "z"]}
    with pytest.raises(ValueError, match="unknown event type"):
        read_events(str(path), event_types=["like"])


def test_events_funnel_on_one_item_is_one_step(tmp_path: Path) -> None:
    path = tmp_path / "funnel.jsonl"
    lines = [
        ev("a", "x", 1),
        ev("a", "x", 2, "click"),
        ev("a", "x", 3, "cart"),
        ev("a", "y", 4),
        ev("a", "x", 5),  # back to x after y: a new step
        json.dumps({"user_id": "a", "item_id": "z", "ts": 6}),  # event_type defaults to view
    ]
    path.write_text("\n".join(lines) + "\n")
    assert seqs(read_events(str(path))) == {"a": ["x", "y", "x", "z"]}


def behaviors_of(data, user: str) -> list:
    assert data.behaviors is not None
    return data.behaviors[data.user_ids.index(user)].tolist()


def test_events_keep_behavior_codes_by_repeat_rule(tmp_path: Path) -> None:
    path = tmp_path / "funnel.jsonl"
    lines = [
        ev("a", "x", 1),
        ev("a", "x", 2, "click"),
        ev("a", "x", 3, "cart"),
        ev("a", "x", 4),  # a view after the cart: not stronger, the step stays a cart
        ev("a", "y", 5, "purchase"),
        ev("a", "x", 6, "rate"),
    ]
    path.write_text("\n".join(lines) + "\n")
    # codes: the job's EventType ordinal + 1 (view 1, click 2, cart 3, purchase 4, rate 5)
    assert BEHAVIOR_CODES == {"view": 1, "click": 2, "cart": 3, "purchase": 4, "rate": 5}
    first = read_events(str(path))
    assert seqs(first) == {"a": ["x", "y", "x"]}
    assert behaviors_of(first, "a") == [1, 4, 5]
    assert first.repeats == "first"
    strongest = load("events", str(path), repeats="strongest")
    assert seqs(strongest) == {"a": ["x", "y", "x"]}
    assert behaviors_of(strongest, "a") == [3, 4, 5]
    every = read_events(str(path), repeats="all")
    assert seqs(every) == {"a": ["x", "x", "x", "x", "y", "x"]}
    assert behaviors_of(every, "a") == [1, 2, 3, 1, 4, 5]
    assert every.times is not None and every.times[0].tolist() == [0.001 * t for t in range(1, 7)]
    # the purchases only (a single-behavior baseline): one behavior left
    bought = read_events(str(path), event_types=["purchase"])
    assert seqs(bought) == {"a": ["y"]} and behaviors_of(bought, "a") == [4]
    with pytest.raises(ValueError, match="repeat rule 'count'"):
        load("events", str(path), repeats="count")


def test_untyped_formats_have_no_behaviors(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text("u1 a\nu1 b\n")
    assert read_pairs(str(path)).behaviors is None


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"item_id": "x", "event_type": "view", "ts": 1}), "user_id"),
        (json.dumps({"user_id": "u", "item_id": 5, "event_type": "view", "ts": 1}), "item_id"),
        (json.dumps({"user_id": "u", "item_id": "x", "event_type": "like", "ts": 1}), "event_type"),
        (json.dumps({"user_id": "u", "item_id": "x", "event_type": "view", "ts": "1"}), "'ts'"),
        (json.dumps({"user_id": "u", "item_id": "x", "event_type": "view", "ts": 1.5}), "'ts'"),
    ],
)
def test_events_malformed_line_names_file_and_line(tmp_path: Path, bad: str, reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(ev("a", "x", 1) + "\n" + ev("a", "y", 2) + "\n" + bad + "\n")
    with pytest.raises(DataFormatError, match=reason) as info:
        read_events(str(path))
    assert str(info.value).startswith(f"{path}:3: ")
    assert info.value.line == 3


def test_events_skip_malformed_counts(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([ev("a", "x", 1), "garbage", ev("a", "y", 2), "{}"]) + "\n")
    data = read_events(str(path), skip_malformed=True)
    assert data.skipped_lines == 2
    assert seqs(data) == {"a": ["x", "y"]}


# ---------------------------------------------------------------- ml-1m sequences.txt


def test_ml1m_sequences(tmp_path: Path) -> None:
    path = tmp_path / "sequences.txt"
    path.write_text("1 2 3\n4 1\n\n2 5 6 7\n")
    data = read_ml1m_sequences(str(path))
    assert data.user_ids == ["1", "2", "4"]  # line number = user; empty line = no events
    assert data.item_ids == ["1", "2", "3", "4", "5", "6", "7"]
    assert [s.tolist() for s in data.sequences] == [[1, 2, 3], [4, 1], [2, 5, 6, 7]]
    assert data.name == tmp_path.name  # "sequences" is generic: named after the directory


def test_ml1m_malformed(tmp_path: Path) -> None:
    path = tmp_path / "sequences.txt"
    path.write_text("1 2 3\n4 x 5\n")
    with pytest.raises(DataFormatError, match="'x' is not a positive integer") as info:
        read_ml1m_sequences(str(path))
    assert str(info.value).startswith(f"{path}:2: ")
    assert read_ml1m_sequences(str(path), skip_malformed=True).num_users == 1


# ---------------------------------------------------------------- MovieLens CSV


def test_movielens_csv_sorted_by_timestamp(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(
        "userId,movieId,rating,timestamp\n"
        "1,10,4.0,300\n"
        "1,20,2.5,100\n"
        "2,30,5.0,100\n"
        "1,40,3.0,100\n"  # ties with 1,20 and 2,30: file order
    )
    data = read_movielens_csv(str(path))
    assert data.item_ids == ["20", "30", "40", "10"]
    assert seqs(data) == {"1": ["20", "40", "10"], "2": ["30"]}
    high = read_movielens_csv(str(path), min_rating=3.0)
    assert seqs(high) == {"1": ["40", "10"], "2": ["30"]}


@pytest.mark.parametrize(
    "row, reason",
    [("1,10,4.0", "expected 4 columns"), ("1,10,good,5", "rating"), ("1,10,4,soon", "timestamp")],
)
def test_movielens_csv_malformed(tmp_path: Path, row: str, reason: str) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text(f"userId,movieId,rating,timestamp\n1,10,4.0,300\n{row}\n")
    with pytest.raises(DataFormatError, match=reason) as info:
        read_movielens_csv(str(path))
    assert str(info.value).startswith(f"{path}:3: ")


def test_movielens_csv_requires_header(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("1,10,4.0,300\n")
    with pytest.raises(DataFormatError, match=":1: expected a header"):
        read_movielens_csv(str(path))


# ---------------------------------------------------------------- user item pairs


def test_pairs_keep_file_order(tmp_path: Path) -> None:
    path = tmp_path / "interactions.txt"
    path.write_text("u1 i9\nu2 i3\nu1 i3\nu1 i9\n\n")
    data = read_pairs(str(path))
    assert data.item_ids == ["i9", "i3"]
    assert seqs(data) == {"u1": ["i9", "i3", "i9"], "u2": ["i3"]}


def test_pairs_malformed(tmp_path: Path) -> None:
    path = tmp_path / "interactions.txt"
    path.write_text("u1 i9\nu1 i3 extra\n")
    with pytest.raises(DataFormatError, match="expected 'user item', got 3") as info:
        read_pairs(str(path))
    assert str(info.value).startswith(f"{path}:2: ")


def test_load_dispatch_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "interactions.txt"
    path.write_text("u1 i1\n")
    data = load("pairs", str(path))
    assert (data.name, data.format, data.num_interactions) == (tmp_path.name, "pairs", 1)
    assert default_name("/x/ml-1m/sequences.txt") == "ml-1m"
    assert default_name("/x/y/games.txt") == "games"
    with pytest.raises(FileNotFoundError):
        load("pairs", str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match="unknown format"):
        load("parquet", str(path))
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="no interactions"):
        load("pairs", str(empty))


# ---------------------------------------------------------------- split and helpers


def test_leave_one_out() -> None:
    sequences = [np.array([1, 2, 3, 4, 5]), np.array([6, 7]), np.array([3, 2, 1]), np.array([9])]
    split = leave_one_out(sequences)
    assert [s.tolist() for s in split.train] == [[1, 2, 3], [6, 7], [3], [9]]
    assert split.validation.users.tolist() == [0, 2]
    assert [s.tolist() for s in split.validation.inputs] == [[1, 2, 3], [3]]
    assert split.validation.targets.tolist() == [4, 2]
    assert [s.tolist() for s in split.test.inputs] == [[1, 2, 3, 4], [3, 2]]
    assert split.test.targets.tolist() == [5, 1]
    assert len(split.test) == 2


def test_left_pad_and_counts() -> None:
    padded = left_pad([np.array([1, 2, 3]), np.array([4]), np.array([], dtype=np.int64)], 2)
    assert padded.tolist() == [[2, 3], [0, 4], [0, 0]]
    counts = item_counts([np.array([1, 2, 2]), np.array([3, 2])], 4)
    assert counts.tolist() == [0, 1, 3, 1, 0]


def test_with_vocabulary_reindexes_and_drops_unknown_items(tmp_path: Path) -> None:
    f = tmp_path / "pairs.txt"
    f.write_text("u1 b\nu1 x\nu1 a\nu2 a\nu2 c\n", encoding="utf-8")
    held_out = read_pairs(str(f))
    mapped = with_vocabulary(held_out, ["a", "b", "c"])
    assert mapped.item_ids == ["a", "b", "c"]
    assert seqs(mapped) == {"u1": ["b", "a"], "u2": ["a", "c"]}
    assert [s.tolist() for s in mapped.sequences] == [[2, 1], [1, 3]]



# ---------------------------------------------------------------- retailrocket


def test_retailrocket_time_order_collapse_and_held_out_purchase(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text(
        "user_id,item_id,behavior,timestamp\n"
        "0,5,view,100\n"
        "1,7,view,50\n"
        "0,6,cart,90\n"  # earlier than the line above: time order, not file order
        "0,5,cart,101\n"  # same item right after its view: one step
        "0,5,buy,102\n"
        "0,8,view,200\n"
        "1,5,buy,60\n"
    )
    (tmp_path / "test_buy.csv").write_text("user_id,item_id\n0,9\n1,6\n2,5\n")
    data = read_retailrocket(str(tmp_path / "train.csv"))
    assert data.format == "retailrocket"
    assert data.name == tmp_path.name  # "train" is a generic file name
    # the held-out purchase is the last step; user 2 has no history and is left out
    assert seqs(data) == {"0": ["6", "5", "8", "9"], "1": ["7", "5", "6"]}
    assert data.times is not None
    # the held-out purchase's time is unknown: NaN
    np.testing.assert_equal(data.times[data.user_ids.index("0")], [90.0, 100.0, 200.0, np.nan])
    np.testing.assert_equal(data.times[data.user_ids.index("1")], [50.0, 60.0, np.nan])
    split = leave_one_out(data.sequences)
    targets = {
        data.user_ids[u]: data.item_ids[t - 1] for u, t in zip(split.test.users, split.test.targets)
    }
    assert targets == {"0": "9", "1": "6"}
    assert load("retailrocket", str(tmp_path / "train.csv")).item_ids == data.item_ids
    # behaviors: view 1, cart 3, buy = purchase 4; the held-out step is a purchase
    assert behaviors_of(data, "0") == [3, 1, 1, 4]
    assert behaviors_of(data, "1") == [1, 4, 4]
    strongest = read_retailrocket(str(tmp_path / "train.csv"), repeats="strongest")
    assert behaviors_of(strongest, "0") == [3, 4, 1, 4]
    every = read_retailrocket(str(tmp_path / "train.csv"), repeats="all")
    assert seqs(every)["0"] == ["6", "5", "5", "5", "8", "9"]
    assert behaviors_of(every, "0") == [3, 1, 3, 4, 1, 4]
    # a vocabulary that lacks an item drops its steps, times and behaviors alike
    narrowed = with_vocabulary(every, ["6", "8", "9"])
    assert seqs(narrowed)["0"] == ["6", "8", "9"] and behaviors_of(narrowed, "0") == [3, 1, 4]


def test_retailrocket_without_held_out_file_and_bad_behavior(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("user_id,item_id,behavior,timestamp\n0,1,view,5\n0,2,like,6\n")
    with pytest.raises(DataFormatError, match="events.csv:3: behavior 'like'"):
        read_retailrocket(str(path))
    data = read_retailrocket(str(path), skip_malformed=True)
    assert seqs(data) == {"0": ["1"]}
    assert data.skipped_lines == 1


def test_untimed_formats_have_no_times(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text("a x\na y\n")
    assert read_pairs(str(path)).times is None
