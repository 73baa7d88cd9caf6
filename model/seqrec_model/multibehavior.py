"""Single- against multi-behavior models on one held-out purchase per user
(``python -m seqrec_model compare``; issue 16, docs/BENCHMARKS.md "Behavior types").

The protocol of the multi-behavior papers on RetailRocket: every user's held-out purchase
(``test_buy.csv`` beside ``train.csv``) is the target, everything in ``train.csv`` is history.
Models trained on different views of the same events (purchases only, every behavior type-blind,
type-aware, other repeat rules) are scored on the same users and the same targets:

* the data is read once with every event a step (``repeats="all"``) and its behaviors; each
  model's input is rebuilt from that by the model's own load options (recorded in its
  checkpoint: ``event_types``, ``repeats``), mapped to its vocabulary (unknown items left out,
  as the streaming job does) and, for a type-aware model, with its behaviors; a model conditioned
  on the target behavior is asked for a purchase;
* candidates are every item of the data; a model's scores for items it does not know are -inf,
  so a target it does not know is a miss; seen items = the user's whole history, every behavior
  (the same candidates for every model);
* full ranking, seen items excluded (headline) and all items, plus the sampled variant with 99
  negatives, clearly labelled (the papers' protocol, for comparison with their tables only);
* the most-popular baselines count purchases, and every event, of ``train.csv``.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch

from seqrec_model.data import (
    BEHAVIOR_CODES,
    EvalSet,
    InteractionData,
    apply_repeats,
    load,
)
from seqrec_model.evaluate import evaluate_scorer, model_scorer, popularity_scorer, round_metrics

PAPERS_NEGATIVES = 99
_LAYOUT_NAMES = {BEHAVIOR_CODES[t]: n for t, n in
                 (("view", "view"), ("click", "click"), ("cart", "cart"), ("purchase", "buy"))}  # fmt: skip


def write_holdout(events_path: str, out_dir: str) -> Dict[str, int]:
    """The held-out-purchase layout of RetailRocket from project events (e.g. the synthetic
    funnels): each user's last purchase is held out (``test_buy.csv``) with the run of events on
    its item that led to it (its view, click, cart), if events of other items come before; those
    are ``train.csv`` (``timestamp_ms``; behaviors view, click, cart, buy), the user's later
    events are dropped (the purchase's own run counts among them). Users without such a purchase
    keep every event in ``train.csv``. Ratings have no place in the layout: dropped, counted."""
    data = load("events", events_path, repeats="all")
    assert data.behaviors is not None and data.times is not None
    purchase = BEHAVIOR_CODES["purchase"]
    counts = {"users": data.num_users, "held_out": 0, "train_events": 0, "dropped_after": 0,
              "dropped_ratings": 0}  # fmt: skip
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "train.csv"), "w", encoding="utf-8", newline="") as train, \
            open(os.path.join(out_dir, "test_buy.csv"), "w", encoding="utf-8", newline="") as test:  # fmt: skip
        train.write("user_id,item_id,behavior,timestamp_ms\n")
        test.write("user_id,item_id\n")
        for u, user in enumerate(data.user_ids):
            items, behaviors, times = data.sequences[u], data.behaviors[u], data.times[u]
            bought = np.flatnonzero(behaviors == purchase)
            end = len(items)
            if len(bought):
                last = int(bought[-1])
                # the purchase and the run of events on its item that led to it (view, click,
                # cart): the target is the next item bought, predicted before the user looks at
                # it, as RetailRocket's held-out purchases are items absent from the history
                start = last
                while start > 0 and items[start - 1] == items[last]:
                    start -= 1
                if start > 0:
                    end = start
                    test.write(f"{user},{data.item_ids[items[last] - 1]}\n")
                    counts["held_out"] += 1
                    counts["dropped_after"] += len(items) - end - 1
            for j in range(end):
                name = _LAYOUT_NAMES.get(int(behaviors[j]))
                if name is None:
                    counts["dropped_ratings"] += 1
                    continue
                ms = int(round(times[j] * 1000))
                train.write(f"{user},{data.item_ids[items[j] - 1]},{name},{ms}\n")
                counts["train_events"] += 1
    return counts


def held_out_purchases(data: InteractionData) -> EvalSet:
    """Users whose last step is a held-out purchase (NaN time: RetailRocket's ``test_buy.csv``):
    the purchase is the target, every earlier step (with its behavior) the history."""
    if data.times is None or data.behaviors is None:
        raise ValueError("needs timed data with behavior types (format retailrocket)")
    users, inputs, behaviors, targets = [], [], [], []
    for u, seq in enumerate(data.sequences):
        if len(seq) >= 2 and np.isnan(data.times[u][-1]):
            users.append(u)
            inputs.append(seq[:-1])
            behaviors.append(data.behaviors[u][:-1])
            targets.append(int(seq[-1]))
    if not users:
        raise ValueError(f"{data.name}: no held-out purchase (is test_buy.csv beside the data?)")
    n = len(users)
    return EvalSet(
        np.asarray(users, dtype=np.int64),
        inputs,
        np.asarray(targets, dtype=np.int64),
        behaviors,
        np.full(n, BEHAVIOR_CODES["purchase"], dtype=np.int64),
    )


def model_input(
    items: np.ndarray,
    behaviors: np.ndarray,
    event_types: Optional[Sequence[str]],
    repeats: str,
    to_model: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """A model's input from a history with every event a step: its event types kept, its repeat
    rule applied, mapped to its vocabulary (``to_model[i]`` = the model's index of data item
    ``i``, 0 if unknown; unknown items left out)."""
    if event_types is not None:
        wanted = np.isin(behaviors, [BEHAVIOR_CODES[t] for t in event_types])
        items, behaviors = items[wanted], behaviors[wanted]
    starts, steps = apply_repeats(items, behaviors, repeats)
    mapped = to_model[items[starts]]
    known = mapped != 0
    return mapped[known], steps[known]


def checkpoint_scorer(ckpt: Mapping[str, Any], data_item_ids: Sequence[str]):
    """Scores over the data's items (column 0 = padding) from a trained checkpoint, its input
    built as it was trained."""
    from seqrec_model.config import TrainConfig
    from seqrec_model.train import model_from_checkpoint

    model = model_from_checkpoint(dict(ckpt))
    options = ckpt.get("data", {}).get("load_options", {})
    types = options.get("event_types")
    event_types = types.split(",") if isinstance(types, str) else types
    repeats = options.get("repeats") or "first"
    train_cfg = TrainConfig.from_dict(ckpt["train_config"])
    asked = BEHAVIOR_CODES["purchase"] if model.config.target_behavior else 0
    own = {item: i + 1 for i, item in enumerate(ckpt["item_ids"])}
    to_model = np.asarray([0] + [own.get(item, 0) for item in data_item_ids], dtype=np.int64)
    # data index of each model item (the model may know items this data lacks: dropped)
    from_model = np.zeros(len(own) + 1, dtype=np.int64)
    from_model[to_model[1:]] = np.arange(1, len(data_item_ids) + 1)
    from_model[0] = 0  # padding, and where the data's unknown items were written
    known_cols = np.nonzero(from_model)[0]
    score_model = model_scorer(model, asked)
    width = len(data_item_ids) + 1

    def score(histories: Sequence[np.ndarray], behaviors: Sequence[np.ndarray]) -> torch.Tensor:
        pairs = [
            model_input(h, b, event_types, repeats, to_model) for h, b in zip(histories, behaviors)
        ]
        own_scores = score_model([p[0] for p in pairs], [p[1] for p in pairs])
        out = torch.full((len(histories), width), float("-inf"))
        cols = torch.from_numpy(known_cols)
        out[:, torch.from_numpy(from_model[known_cols])] = own_scores[:, cols]
        return out

    description = {
        "event_types": event_types or "all",
        "repeats": repeats,
        "behaviors": bool(model.config.behaviors),
        "target_behavior": "purchase" if model.config.target_behavior else None,
        "items": len(own),
        "best_epoch": ckpt.get("best_epoch"),
        "epochs_trained": ckpt.get("epochs_trained"),
        "train_seconds": ckpt.get("train_seconds"),
        "eval_target": train_cfg.eval_target,
    }
    return score, description


def compare(
    path: str,
    models: Mapping[str, str],
    batch_size: int = 256,
    sampled_negatives: int = PAPERS_NEGATIVES,
    seed: int = 0,
) -> Dict[str, Any]:
    """Score each model (name -> run directory or checkpoint) and the two most-popular baselines
    on the held-out purchases of the RetailRocket-layout data at ``path``."""
    from seqrec_model.train import load_checkpoint

    data = load("retailrocket", path, repeats="all")
    evalset = held_out_purchases(data)
    assert data.behaviors is not None
    rows: Dict[str, Any] = {}
    for name, run in models.items():
        ckpt_path = os.path.join(run, "checkpoint.pt") if os.path.isdir(run) else run
        score, description = checkpoint_scorer(load_checkpoint(ckpt_path), data.item_ids)
        metrics = evaluate_scorer(
            score, evalset, data.num_items, batch_size, sampled_negatives, seed
        )
        rows[name] = {"model": description, "metrics": metrics}
    # train.csv only: the held-out steps are the last of each evaluated user
    history = [
        (s[:-1], b[:-1]) if np.isnan(t[-1]) else (s, b)
        for s, b, t in zip(data.sequences, data.behaviors, data.times or [])
    ]
    for name, codes in (
        ("most popular (purchases)", [BEHAVIOR_CODES["purchase"]]),
        ("most popular (all events)", list(BEHAVIOR_CODES.values())),
    ):
        counts = np.zeros(data.num_items + 1, dtype=np.int64)
        for items, behaviors in history:
            np.add.at(counts, items[np.isin(behaviors, codes)], 1)
        metrics = evaluate_scorer(
            popularity_scorer(counts), evalset, data.num_items, batch_size, sampled_negatives, seed
        )
        rows[name] = {"model": {"counts": "purchases" if len(codes) == 1 else "all"},
                      "metrics": metrics}  # fmt: skip
    return round_metrics(
        {
            "data": os.path.abspath(path),
            "users": len(evalset),
            "items": data.num_items,
            "sampled_negatives": sampled_negatives,
            "rows": rows,
        }
    )


def format_compare(report: Mapping[str, Any]) -> str:
    """One line per row: HR@10 / NDCG@10 seen excluded, all items, and sampled."""
    n = report["sampled_negatives"]
    head = (
        f"{'':<28} {'seen excluded':>17} {'all items':>17} "
        f"{f'sampled-{n} (NOT full ranking)':>31}"
    )
    sub = (
        f"{'':<28} {'HR@10':>8} {'NDCG@10':>8} {'HR@10':>8} {'NDCG@10':>8} "
        f"{'HR@10':>15} {'NDCG@10':>15}"
    )
    lines = [
        f"{report['users']} users, their held-out purchase against {report['items']} items",
        head,
        sub,
    ]
    for name, row in report["rows"].items():
        m = row["metrics"]
        s = m.get("sampled100", {})
        lines.append(
            f"{name:<28} {m['seen_excluded']['HR@10']:8.4f} {m['seen_excluded']['NDCG@10']:8.4f} "
            f"{m['all']['HR@10']:8.4f} {m['all']['NDCG@10']:8.4f} "
            f"{s.get('HR@10', float('nan')):15.4f} {s.get('NDCG@10', float('nan')):15.4f}"
        )
    return "\n".join(lines)


def parse_models(values: List[str]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--model expects NAME=PATH, got {value!r}")
        out[name] = path
    return out
