"""The validation/test gap report (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from seqrec_model.cli import main
from seqrec_model.config import ModelConfig
from seqrec_model.data import EvalSet, item_counts, leave_one_out, read_events
from seqrec_model.evaluate import evaluate_model
from seqrec_model.gap import format_report, gap_report
from seqrec_model.sasrec import SASRec


def test_seen_defaults_to_the_histories(events_file: Path) -> None:
    data = read_events(str(events_file))
    split = leave_one_out(data.sequences)
    model = SASRec(data.num_items, ModelConfig(max_len=8, hidden=8, blocks=1))
    a = evaluate_model(model, split.test)
    b = evaluate_model(model, split.test, seen=split.test.inputs)
    assert a == b


def test_gap_report_with_and_without_a_model(events_file: Path) -> None:
    data = read_events(str(events_file))
    split = leave_one_out(data.sequences)
    counts = item_counts(split.train, data.num_items)
    base = gap_report(split, counts)
    assert "test_model" not in base and base["users"] == len(split.test)
    assert 0 <= base["test_targets"]["training_count_0"] <= 1
    model = SASRec(data.num_items, ModelConfig(max_len=8, hidden=8, blocks=1))
    r = gap_report(split, counts, model)
    for key in ("validation_model", "test_model", "test_model_without_validation_item"):
        assert r[key]["users"] == len(split.test)
    shares = [row["test_share"] for row in r["by_target_training_count"]]
    assert abs(sum(shares) - 1.0) < 1e-6
    assert "validation item not in input" in format_report(r)


def test_gap_cli(events_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "gap.json"
    code = main(["gap", "--format", "events", "--data", str(events_file), "--json", str(out)])
    assert code == 0
    assert "test_popularity" in json.loads(out.read_text())


def test_without_validation_item_drops_exactly_the_last_input() -> None:
    split = leave_one_out([np.array([1, 2, 3, 4]), np.array([5, 6, 7])])
    assert [h.tolist() for h in split.test.inputs] == [[1, 2, 3], [5, 6]]
    assert [h.tolist() for h in split.validation.inputs] == [[1, 2], [5]]
    assert split.validation.targets.tolist() == [3, 6] and split.test.targets.tolist() == [4, 7]
    assert isinstance(split.test, EvalSet)
