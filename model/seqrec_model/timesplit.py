"""Time-split evaluation of retraining (``python -m seqrec_model timesplit cut|evaluate``).

Protocol (issue 14, warm start with a growing catalog): choose times T1 < T2 by quantiles of the
event times; v1 is trained on the events before T1, v2 on the events before T2 (from scratch, or
warm-started from v1); every model is scored on the events after T2.

* ``cut`` writes the events before each threshold as files of the input's own format (lines kept
  as they are, in file order), so that ``train`` reads them as it reads any data, plus
  ``split.json`` with the thresholds.
  RetailRocket's ``train.csv`` is cut like a MovieLens CSV; its held-out purchases
  (``test_buy.csv``) have no time, so no cut file carries them (none lies beside the cut files).
* ``evaluate`` reads the whole file and the file before T2 with the same reader: each user's
  sequence before T2 is a prefix of the whole sequence (the readers order by time, stably), and
  every later step with at least one earlier step of the user is a target, predicted from the
  user's whole history up to it (the model reads its last ``max_len`` items it knows; items the
  model does not know are left out of its input, as the streaming job does). Full ranking, seen
  items excluded (headline) and all items. A target whose item a model does not know counts as
  a miss for that model. A step of unknown time (RetailRocket's held-out purchase, read from
  ``test_buy.csv`` beside the whole file) cannot be placed after the cut and is not a target.
  The most-popular baseline counts the items before T2.
"""

from __future__ import annotations

import csv
import json
import os
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from seqrec_model.data import EvalSet, InteractionData, item_counts
from seqrec_model.evaluate import (
    METRIC_NAMES,
    evaluate_model,
    evaluate_popularity,
    format_table,
    round_metrics,
)
from seqrec_model.events import InvalidEvent, parse_event

CUT_FORMATS = ("events", "movielens-csv", "retailrocket")
SPLIT_FILE = "split.json"


def _events_records(path: str) -> Iterator[Tuple[bytes, Optional[float]]]:
    """(line with its ending, ts in ms or None if the job would reject the line)."""
    with open(path, "rb") as f:
        for raw in f:
            line = raw.rstrip(b"\r\n")
            if not line:
                continue
            try:
                ts: Optional[float] = float(parse_event(line).ts)
            except InvalidEvent:
                ts = None
            yield (raw if raw.endswith(b"\n") else raw + b"\n"), ts


def _csv_records(path: str) -> Tuple[bytes, List[Tuple[bytes, Optional[float]]]]:
    """MovieLens or RetailRocket CSV: (header line, [(line, timestamp in s or None if
    unreadable)])."""
    with open(path, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    if not lines:
        raise ValueError(f"{path}: empty file")
    header = lines[0].decode("utf-8").strip().split(",")
    if "timestamp" not in header:
        raise ValueError(f"{path}: no timestamp column in the header")
    col = header.index("timestamp")
    out: List[Tuple[bytes, Optional[float]]] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        row = next(csv.reader([line.decode("utf-8")]), [])
        try:
            ts: Optional[float] = float(int(row[col].strip()))
        except (IndexError, ValueError):
            ts = None
        out.append((line if line.endswith(b"\n") else line + b"\n", ts))
    return lines[0] if lines[0].endswith(b"\n") else lines[0] + b"\n", out


def thresholds(times: Sequence[float], fractions: Sequence[float]) -> List[float]:
    """For each fraction f, the time T such that the events before T (strictly) are the first
    ``floor(f * n)`` events by time (fewer if several events share T)."""
    if not times:
        raise ValueError("no timed events")
    ordered = np.sort(np.asarray(times, dtype=np.float64))
    out = []
    for f in fractions:
        if not 0.0 < f < 1.0:
            raise ValueError(f"fractions must be in (0, 1), got {f}")
        out.append(float(ordered[min(len(ordered) - 1, int(f * len(ordered)))]))
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ValueError(f"thresholds {out} are not increasing: give increasing fractions")
    return out


def cut(fmt: str, path: str, fractions: Sequence[float], out_dir: str) -> Dict[str, Any]:
    """Write ``before-T<i>.<ext>`` (the events strictly before each threshold, lines unchanged,
    file order kept) and ``split.json``; return the split description."""
    if fmt not in CUT_FORMATS:
        raise ValueError(f"timesplit cut reads {', '.join(CUT_FORMATS)} (timestamps), not {fmt}")
    header = b""
    if fmt == "events":
        records = list(_events_records(path))
        ext, unit = "jsonl", "ms"
    else:
        header, records = _csv_records(path)
        ext, unit = "csv", "s"
    times = [t for _, t in records if t is not None]
    cuts = thresholds(times, fractions)
    os.makedirs(out_dir, exist_ok=True)
    files, counts = [], []
    for i, t in enumerate(cuts, start=1):
        name = f"before-T{i}.{ext}"
        n = 0
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(header)
            for line, ts in records:
                if ts is not None and ts < t:
                    f.write(line)
                    n += 1
        files.append(name)
        counts.append(n)
    split = {
        "format": fmt,
        "data": os.path.abspath(path),
        "fractions": list(fractions),
        "thresholds": cuts,
        "time_unit": unit,
        "events": len(times),
        "unreadable_lines": len(records) - len(times),
        "events_before": counts,
        "files": files,
    }
    with open(os.path.join(out_dir, SPLIT_FILE), "w", encoding="utf-8") as f:
        json.dump(split, f, indent=2)
        f.write("\n")
    return split


def after_targets(full: InteractionData, before: InteractionData) -> EvalSet:
    """Every step of ``full`` beyond the user's steps in ``before`` (``full``'s index space),
    with at least one earlier step and a known time, as a target with the user's whole history
    up to it."""
    prefix: Dict[str, List[str]] = {}
    for uid, seq in zip(before.user_ids, before.sequences):
        prefix[uid] = [before.item_ids[i - 1] for i in seq.tolist()]
    users: List[int] = []
    inputs: List[np.ndarray] = []
    targets: List[int] = []
    seen_users = set()
    for u, (uid, seq) in enumerate(zip(full.user_ids, full.sequences)):
        seen_users.add(uid)
        head = prefix.get(uid, [])
        p = len(head)
        if [full.item_ids[i - 1] for i in seq[:p].tolist()] != head:
            raise ValueError(
                f"user {uid}: the history before the cut is not a prefix of the whole history "
                f"(different files, or different reader options?)"
            )
        timed = full.times[u] if full.times is not None else None
        for j in range(max(p, 1), len(seq)):
            if timed is not None and np.isnan(timed[j]):
                continue
            users.append(u)
            inputs.append(seq[:j])
            targets.append(int(seq[j]))
    missing = set(prefix) - seen_users
    if missing:
        raise ValueError(f"{len(missing)} user(s) of the history are not in the whole data")
    return EvalSet(
        np.asarray(users, dtype=np.int64), inputs, np.asarray(targets, dtype=np.int64)
    )


def to_vocabulary(
    evalset: EvalSet, own_ids: Sequence[str], item_ids: Sequence[str]
) -> Tuple[EvalSet, np.ndarray]:
    """``evalset`` (indices of ``own_ids``) in a model's vocabulary ``item_ids``: unknown items
    are dropped from the inputs. Returns the targets the model knows (as an EvalSet) and the
    boolean mask of those targets."""
    index = {item: i + 1 for i, item in enumerate(item_ids)}
    mapping = np.asarray([0] + [index.get(item, 0) for item in own_ids], dtype=np.int64)
    targets = mapping[evalset.targets]
    known = targets != 0
    inputs = []
    for i in np.flatnonzero(known):
        h = mapping[evalset.inputs[i]]
        inputs.append(h[h != 0])
    return EvalSet(evalset.users[known], inputs, targets[known]), known


def scale_to_all(metrics: Mapping[str, Mapping[str, float]], known: int, total: int):
    """Metrics over ``known`` targets -> over ``total`` targets, the others being misses."""
    share = known / total if total else 0.0
    out: Dict[str, Dict[str, float]] = {}
    for variant, m in metrics.items():
        out[variant] = {name: float(m[name]) * share for name in METRIC_NAMES}
        out[variant]["users"] = total  # type: ignore[assignment]
    return out


def _training_info(path: str) -> Dict[str, Any]:
    """train_seconds, epochs_trained, best_epoch, stop_reason, init_from of the model at path."""
    candidates = []
    if os.path.isdir(path):
        candidates = [os.path.join(path, "metrics.json")]
        meta = os.path.join(path, "metadata.json")
        if os.path.isfile(meta):
            with open(meta, "r", encoding="utf-8") as f:
                m = json.load(f).get("metrics", {})
            return {k: m.get(k) for k in _INFO_KEYS}
    else:
        candidates = [os.path.join(os.path.dirname(path), "metrics.json")]
    for c in candidates:
        if os.path.isfile(c):
            with open(c, "r", encoding="utf-8") as f:
                m = json.load(f)
            return {k: m.get(k) for k in _INFO_KEYS}
    return {}


_INFO_KEYS = ("train_seconds", "epochs_trained", "best_epoch", "stop_reason", "init_from")


def evaluate(
    full: InteractionData,
    before: InteractionData,
    models: Mapping[str, str],
    batch_size: int = 256,
    log: Any = None,
) -> Dict[str, Any]:
    """Score each model (name -> checkpoint, run or artifact path) and the most-popular baseline
    on the steps of ``full`` after ``before``."""
    from seqrec_model.warmstart import load_previous

    evalset = after_targets(full, before)
    total = len(evalset)
    if total == 0:
        raise ValueError("no targets after the cut")
    report: Dict[str, Any] = {
        "targets": total,
        "users": int(len(np.unique(evalset.users))),
        "models": {},
    }
    for name, path in models.items():
        prev = load_previous(path)
        model = prev.model()
        known_set, known = to_vocabulary(evalset, full.item_ids, prev.item_ids)
        m = evaluate_model(model, known_set, batch_size) if len(known_set) else {}
        metrics = scale_to_all(m, int(known.sum()), total) if m else {}
        report["models"][name] = {
            "path": os.path.abspath(path),
            "model_version": prev.model_version,
            "weights_hash": prev.weights_hash,
            "items": len(prev.item_ids),
            "unknown_target_share": float(1.0 - known.mean()),
            "metrics": metrics,
            "training": _training_info(path),
        }
        if log is not None:
            print(f"evaluated {name}: {int(known.sum())}/{total} targets known", file=log)
    before_index = {item: i + 1 for i, item in enumerate(full.item_ids)}
    mapped = [
        np.asarray([before_index[before.item_ids[i - 1]] for i in s.tolist()], dtype=np.int64)
        for s in before.sequences
    ]
    counts = item_counts(mapped, full.num_items)
    report["popularity"] = evaluate_popularity(counts, evalset, batch_size)
    report["unknown_before_cut_share"] = float(np.mean(counts[evalset.targets] == 0))
    return round_metrics(report)


def format_report(report: Mapping[str, Any]) -> str:
    rows = {name: m["metrics"] for name, m in report["models"].items() if m["metrics"]}
    rows["most-popular (before the cut)"] = report["popularity"]
    lines = [
        f"{report['targets']} targets after the cut ({report['users']} users); "
        f"{report['unknown_before_cut_share']:.1%} of them are items absent before the cut",
        format_table(rows),
        "",
        f"{'model':<16} {'NDCG@10':>8} {'HR@10':>8} {'unknown':>8} {'train s':>8} "
        f"{'epochs':>6} {'best':>5} stop",
    ]
    for name, m in report["models"].items():
        se = m["metrics"].get("seen_excluded", {})
        t = m["training"]
        lines.append(
            f"{name:<16} {se.get('NDCG@10', 0.0):8.4f} {se.get('HR@10', 0.0):8.4f} "
            f"{m['unknown_target_share']:8.1%} {str(t.get('train_seconds', '')):>8} "
            f"{str(t.get('epochs_trained', '')):>6} {str(t.get('best_epoch', '')):>5} "
            f"{t.get('stop_reason', '')}"
        )
    return "\n".join(lines)
