"""timesplit: cutting a timed file, the targets after a cut, unknown targets as misses, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import synthetic_events, write_jsonl
from seqrec_model.cli import main
from seqrec_model.data import EvalSet, read_events, read_movielens_csv, read_retailrocket
from seqrec_model.timesplit import after_targets, cut, scale_to_all, thresholds, to_vocabulary

CSV = """userId,movieId,rating,timestamp
1,10,4.0,100
2,20,3.0,105
1,11,5.0,101
1,12,4.0,300
2,21,2.0,400
3,30,1.0,350
3,31,1.0,360
1,13,4.0,500
"""


def test_thresholds_are_quantiles_of_the_times() -> None:
    assert thresholds(list(range(10, 0, -1)), [0.5, 0.8]) == [6.0, 9.0]
    with pytest.raises(ValueError, match="increasing"):
        thresholds([1, 1, 1, 1], [0.2, 0.8])
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        thresholds([1, 2], [1.0])


def test_cut_movielens_keeps_lines_and_file_order(tmp_path: Path) -> None:
    data = tmp_path / "ratings.csv"
    data.write_text(CSV)
    split = cut("movielens-csv", str(data), [0.5, 0.75], str(tmp_path / "cut"))
    assert split["thresholds"] == [350.0, 400.0] and split["events_before"] == [4, 6]
    t1 = (tmp_path / "cut" / "before-T1.csv").read_text().splitlines()
    assert t1 == ["userId,movieId,rating,timestamp", "1,10,4.0,100", "2,20,3.0,105",
                  "1,11,5.0,101", "1,12,4.0,300"]  # fmt: skip
    assert json.loads((tmp_path / "cut" / "split.json").read_text())["files"] == [
        "before-T1.csv",
        "before-T2.csv",
    ]


def test_cut_events_skips_lines_the_job_rejects(tmp_path: Path) -> None:
    rows = synthetic_events(users=10, items=8, seed=3)
    path = write_jsonl(tmp_path / "e.jsonl", rows)
    with open(path, "a") as f:
        f.write('{"user_id": "u1", "item_id": "x", "ts": "yesterday"}\n')
    split = cut("events", str(path), [0.5], str(tmp_path / "cut"))
    assert split["unreadable_lines"] == 1 and split["events"] == len(rows)
    before = [json.loads(line) for line in (tmp_path / "cut" / "before-T1.jsonl").open()]
    assert len(before) == split["events_before"][0] == len(rows) // 2
    assert all(r["ts"] < split["thresholds"][0] for r in before)
    assert before == [r for r in rows if r["ts"] < split["thresholds"][0]]  # file order


def test_targets_after_the_cut(tmp_path: Path) -> None:
    (tmp_path / "all.csv").write_text(CSV)
    cut("movielens-csv", str(tmp_path / "all.csv"), [0.5], str(tmp_path / "cut"))
    full = read_movielens_csv(str(tmp_path / "all.csv"))
    before = read_movielens_csv(str(tmp_path / "cut" / "before-T1.csv"))
    ev = after_targets(full, before)
    ids = full.item_ids
    got = [([ids[i - 1] for i in h], ids[t - 1]) for h, t in zip(ev.inputs, ev.targets)]
    # user 1: 13 after 10 11 12; user 2: 21 after 20; user 3: first step 30 has no history
    assert sorted(got) == sorted(
        [(["10", "11", "12"], "13"), (["20"], "21"), (["30"], "31")]
    )
    (tmp_path / "other.csv").write_text("userId,movieId,rating,timestamp\n1,99,4.0,100\n")
    with pytest.raises(ValueError, match="user 1: .* not a prefix"):
        after_targets(full, read_movielens_csv(str(tmp_path / "other.csv")))
    (tmp_path / "other.csv").write_text("userId,movieId,rating,timestamp\n9,10,4.0,100\n")
    with pytest.raises(ValueError, match="not in the whole data"):
        after_targets(full, read_movielens_csv(str(tmp_path / "other.csv")))


def test_retailrocket_cut_leaves_the_held_out_purchases_out(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text(
        "user_id,item_id,behavior,timestamp\n"
        "1,a,view,100\n1,a,cart,101\n1,b,view,200\n2,c,view,150\n2,d,buy,400\n1,e,view,500\n"
    )
    (tmp_path / "test_buy.csv").write_text("user_id,item_id\n1,f\n2,g\n")
    split = cut("retailrocket", str(tmp_path / "train.csv"), [0.5], str(tmp_path / "cut"))
    assert split["thresholds"] == [200.0] and split["events_before"] == [3]
    assert not (tmp_path / "cut" / "test_buy.csv").exists()
    before = read_retailrocket(str(tmp_path / "cut" / "before-T1.csv"))
    assert before.times is not None and not any(np.isnan(t).any() for t in before.times)
    full = read_retailrocket(str(tmp_path / "train.csv"))  # appends f and g, of unknown time
    ev = after_targets(full, before)
    ids = full.item_ids
    got = [([ids[i - 1] for i in h], ids[t - 1]) for h, t in zip(ev.inputs, ev.targets)]
    # view and cart of a are one step; the held-out purchases f, g are no targets
    assert sorted(got) == sorted([(["a"], "b"), (["a", "b"], "e"), (["c"], "d")])


def test_unknown_items_leave_the_input_unknown_targets_are_misses() -> None:
    ev = EvalSet(
        np.asarray([0, 1, 2]),
        [np.asarray([1, 2]), np.asarray([3]), np.asarray([2, 4])],
        np.asarray([3, 4, 1]),
    )
    known_set, known = to_vocabulary(ev, ["a", "b", "c", "d"], ["c", "a", "b"])
    assert known.tolist() == [True, False, True]  # d unknown
    assert known_set.targets.tolist() == [1, 2]  # c, a in the model's indices
    assert [h.tolist() for h in known_set.inputs] == [[2, 3], [3]]  # a b -> 2 3; b d -> 3
    m = {"seen_excluded": {"HR@1": 1.0, "HR@5": 1.0, "HR@10": 1.0, "NDCG@5": 0.5,
                           "NDCG@10": 0.5, "MRR": 0.5, "users": 2}}  # fmt: skip
    out = scale_to_all(m, 2, 3)["seen_excluded"]
    assert out["HR@10"] == pytest.approx(2 / 3) and out["NDCG@10"] == pytest.approx(1 / 3)
    assert out["users"] == 3


def test_cli_cut_train_warm_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rows = synthetic_events(users=80, items=30, seed=5)
    for r in rows:  # a growing catalog: later events reach new items
        if r["ts"] > 1_700_000_000_000 + 900_000:
            r["item_id"] = r["item_id"].replace("sku-1", "sku-new-1")
    data = write_jsonl(tmp_path / "events.jsonl", rows)
    cut_dir = tmp_path / "cut"
    assert main(["timesplit", "cut", "--format", "events", "--data", str(data),
                 "--fractions", "0.6", "0.8", "--out", str(cut_dir)]) == 0  # fmt: skip
    tiny = ["--max-len", "10", "--hidden", "16", "--blocks", "1", "--heads", "1",
            "--epochs", "2", "--threads", "1", "--batch-size", "32"]  # fmt: skip
    assert main(["train", "--format", "events", "--data", str(cut_dir / "before-T1.jsonl"),
                 *tiny, "--out", str(tmp_path / "v1"),
                 "--export-dir", str(tmp_path / "v1-art")]) == 0  # fmt: skip
    assert main(["train", "--format", "events", "--data", str(cut_dir / "before-T2.jsonl"),
                 "--init-from", str(tmp_path / "v1-art"), "--epochs", "1", "--threads", "1",
                 "--out", str(tmp_path / "v2")]) == 0  # fmt: skip
    capsys.readouterr()
    report_path = tmp_path / "report.json"
    assert main(["timesplit", "evaluate", "--format", "events", "--data", str(data),
                 "--before", str(cut_dir / "before-T2.jsonl"),
                 "--model", f"v1={tmp_path / 'v1-art'}", "--model", f"v2={tmp_path / 'v2'}",
                 "--threads", "1", "--json", str(report_path)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "v2-warm" not in out and "v1 " in out and "most-popular" in out
    report = json.loads(report_path.read_text())
    full = read_events(str(data))
    before = read_events(str(cut_dir / "before-T2.jsonl"))
    expected = after_targets(full, before)
    assert report["targets"] == len(expected) > 0
    v1, v2 = report["models"]["v1"], report["models"]["v2"]
    assert v1["unknown_target_share"] >= v2["unknown_target_share"]
    assert v1["unknown_target_share"] > 0  # sku-new-* appear only later
    assert v2["training"]["init_from"]["items_carried_over"] > 0
    for m in (v1, v2):
        assert 0.0 <= m["metrics"]["seen_excluded"]["NDCG@10"] <= 1.0
        assert m["metrics"]["seen_excluded"]["users"] == report["targets"]
    with pytest.raises(SystemExit):
        main(["timesplit", "evaluate", "--format", "events", "--data", str(data),
              "--before", str(data), "--model", "nonsense"])  # fmt: skip
