"""Issue 19: where the validation/test gap of leave-one-out comes from.

For a trained model (or, without one, the most-popular baseline alone) on the same split:

* validation vs test NDCG@10/HR@10, for the model and for the most-popular baseline (a gap in
  the baseline too is a property of the targets, not of the model or its epoch selection);
* test with the validation item removed from the model's input (the seen-items mask unchanged),
  to see what that one more, never-trained-on item in the test history is worth;
* how "cold" the targets are: the share of validation and test targets with 0 or few training
  occurrences, and NDCG@10 per bucket of the target's training count (items that appear late in
  time are rarer in training and harder to rank).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from seqrec_model.data import EvalSet, Split
from seqrec_model.evaluate import evaluate_model, evaluate_popularity, round_metrics
from seqrec_model.sasrec import SASRec

BUCKETS: Tuple[Tuple[int, Optional[int]], ...] = ((0, 0), (1, 4), (5, 19), (20, 99), (100, None))


def _subset(evalset: EvalSet, keep: np.ndarray) -> EvalSet:
    rows = np.flatnonzero(keep)
    return EvalSet(evalset.users[rows], [evalset.inputs[i] for i in rows], evalset.targets[rows])


def _short(m: Dict[str, Dict[str, float]]) -> Dict[str, float]:
    s = m["seen_excluded"]
    return {"NDCG@10": s["NDCG@10"], "HR@10": s["HR@10"], "users": s["users"]}


def gap_report(
    split: Split, counts: np.ndarray, model: Optional[SASRec] = None, batch_size: int = 256
) -> Dict[str, Any]:
    val, test = split.validation, split.test
    report: Dict[str, Any] = {"users": len(test)}
    for name, es in (("validation", val), ("test", test)):
        c = counts[es.targets]
        report[f"{name}_targets"] = {
            "training_count_0": float((c == 0).mean()) if len(c) else 0.0,
            "training_count_le_4": float((c <= 4).mean()) if len(c) else 0.0,
            "median_training_count": float(np.median(c)) if len(c) else 0.0,
        }
        report[f"{name}_popularity"] = _short(evaluate_popularity(counts, es, batch_size))
    if model is None:
        return round_metrics(report)
    report["validation_model"] = _short(evaluate_model(model, val, batch_size))
    report["test_model"] = _short(evaluate_model(model, test, batch_size))
    without = EvalSet(test.users, [h[:-1] for h in test.inputs], test.targets)
    report["test_model_without_validation_item"] = _short(
        evaluate_model(model, without, batch_size, seen=test.inputs)
    )
    by_bucket: List[Dict[str, Any]] = []
    for lo, hi in BUCKETS:
        row: Dict[str, Any] = {"training_count": f"{lo}-{hi}" if hi is not None else f">={lo}"}
        for name, es in (("validation", val), ("test", test)):
            c = counts[es.targets]
            keep = (c >= lo) & (c <= (hi if hi is not None else np.inf))
            row[f"{name}_share"] = float(keep.mean())
            row[name] = (
                _short(evaluate_model(model, _subset(es, keep), batch_size)) if keep.any() else None
            )
        by_bucket.append(row)
    report["by_target_training_count"] = by_bucket
    return round_metrics(report)


def format_report(r: Dict[str, Any]) -> str:
    lines = [f"users with validation/test: {r['users']}"]
    for name in ("validation", "test"):
        t = r[f"{name}_targets"]
        lines.append(
            f"{name:>10} targets: {100 * t['training_count_0']:.1f} % never in training, "
            f"{100 * t['training_count_le_4']:.1f} % at most 4 times, median "
            f"{t['median_training_count']:g}; most-popular NDCG@10 "
            f"{r[f'{name}_popularity']['NDCG@10']:.4f} HR@10 {r[f'{name}_popularity']['HR@10']:.4f}"
        )
    if "test_model" in r:
        for key, label in (
            ("validation_model", "model, validation"),
            ("test_model", "model, test"),
            ("test_model_without_validation_item", "model, test, validation item not in input"),
        ):
            lines.append(
                f"{label:>44}: NDCG@10 {r[key]['NDCG@10']:.4f} HR@10 {r[key]['HR@10']:.4f}"
            )
        lines.append("NDCG@10 by the target's training count (share of targets):")
        for row in r["by_target_training_count"]:
            cells = []
            for name in ("validation", "test"):
                m = row[name]
                val = f"{m['NDCG@10']:.4f}" if m else "-"
                cells.append(f"{name} {val} ({100 * row[f'{name}_share']:.1f} %)")
            lines.append(f"  count {row['training_count']:>7}: " + ", ".join(cells))
    return "\n".join(lines)
