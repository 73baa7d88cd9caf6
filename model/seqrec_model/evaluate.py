"""Full-ranking leave-one-out metrics, the most-popular baseline and result tables.

Two full-ranking variants are reported side by side:

* ``all``: every item (except padding) is a candidate;
* ``seen_excluded``: the user's already-seen items are removed from the candidates, the target
  itself always stays a candidate. This is the headline variant (what the streaming job serves).

Ranks are 0-based and pessimistic on ties: a candidate scoring exactly the same as the target
counts as ranked above it, so a degenerate model with constant scores gets no credit.
"""

from __future__ import annotations

import math
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from seqrec_model.data import EvalSet, left_pad
from seqrec_model.sasrec import SASRec

KS = (1, 5, 10)
NDCG_KS = (5, 10)
METRIC_NAMES = tuple(
    [f"HR@{k}" for k in KS] + [f"NDCG@{k}" for k in NDCG_KS] + ["MRR"]
)
VARIANTS = ("seen_excluded", "all")
HEADLINE_VARIANT = "seen_excluded"
HEADLINE_METRIC = "NDCG@10"
VARIANT_LABELS = {
    "seen_excluded": "seen excluded",
    "all": "all items",
    "sampled100": "sampled-100 negatives (NOT full ranking)",
}


def ranks_from_scores(
    scores: Tensor, targets: Tensor, exclude: Optional[Tensor] = None
) -> Tensor:
    """0-based rank of each target among the candidates.

    ``scores`` [B, N+1] (column 0 = padding, never a candidate), ``targets`` [B] item indices,
    ``exclude`` optional bool [B, N+1] of items to drop from the candidates (the target itself is
    never dropped).
    """
    scores = scores.clone()
    neg_inf = torch.tensor(float("-inf"), dtype=scores.dtype)
    scores[:, 0] = neg_inf
    rows = torch.arange(scores.shape[0])
    target_scores = scores[rows, targets].clone()
    if exclude is not None:
        scores = scores.masked_fill(exclude, neg_inf)
    scores[rows, targets] = neg_inf  # the target does not compete with itself
    above = (scores >= target_scores.unsqueeze(1)).sum(dim=1)
    return above


def metrics_from_ranks(ranks: Sequence[int] | np.ndarray | Tensor) -> Dict[str, float]:
    """HR@1/5/10, NDCG@5/10 and MRR (full, not truncated) from 0-based ranks."""
    r = torch.as_tensor(ranks, dtype=torch.float64)
    out: Dict[str, float] = {}
    if r.numel() == 0:
        return {name: 0.0 for name in METRIC_NAMES} | {"users": 0}  # type: ignore[operator]
    for k in KS:
        out[f"HR@{k}"] = float((r < k).double().mean())
    gain = 1.0 / torch.log2(r + 2.0)
    for k in NDCG_KS:
        out[f"NDCG@{k}"] = float(torch.where(r < k, gain, torch.zeros_like(gain)).mean())
    out["MRR"] = float((1.0 / (r + 1.0)).mean())
    out["users"] = int(r.numel())  # type: ignore[assignment]
    return out


def seen_mask(histories: Sequence[np.ndarray], targets: Tensor, width: int) -> Tensor:
    """Bool [B, width]: True for items in each user's full history, except the target."""
    longest = max((len(h) for h in histories), default=0)
    mask = torch.zeros(len(histories), width, dtype=torch.bool)
    if longest:
        padded = torch.from_numpy(left_pad(histories, longest))
        mask.scatter_(1, padded, True)
    mask[:, 0] = True
    mask[torch.arange(len(histories)), targets] = False
    return mask


def _batches(evalset: EvalSet, batch_size: int) -> List[np.ndarray]:
    # Group users of similar history length so each batch is trimmed to little padding.
    lengths = np.fromiter((len(s) for s in evalset.inputs), dtype=np.int64, count=len(evalset))
    order = np.argsort(lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def _sampled_ranks(
    scores: Tensor, targets: Tensor, exclude: Tensor, negatives: int, gen: torch.Generator
) -> Tensor:
    """Rank of the target among ``negatives`` uniformly sampled unseen items (no replacement)."""
    keys = torch.rand(scores.shape, generator=gen, dtype=torch.float32)
    keys = keys.masked_fill(exclude, 2.0)
    keys[:, 0] = 2.0
    keys[torch.arange(len(targets)), targets] = 2.0
    k = min(negatives, keys.shape[1])
    chosen = torch.topk(keys, k, dim=1, largest=False)
    valid = chosen.values < 2.0  # users with fewer than k unseen items get all of them
    neg_scores = scores.gather(1, chosen.indices)
    target_scores = scores.gather(1, targets.unsqueeze(1))
    return ((neg_scores >= target_scores) & valid).sum(dim=1)


@torch.no_grad()
def evaluate_scorer(
    score_fn,
    evalset: EvalSet,
    num_items: int,
    batch_size: int = 256,
    sampled_negatives: int = 0,
    seed: int = 0,
    seen: Optional[Sequence[np.ndarray]] = None,
) -> Dict[str, Dict[str, float]]:
    """Evaluate ``score_fn(batch_histories) -> [B, num_items+1] scores`` on ``evalset``; on a
    typed evalset ``score_fn(batch_histories, batch_behaviors)``.
    ``seen`` (one array per user) replaces the histories as the items excluded from ranking."""
    ranks: Dict[str, List[Tensor]] = {v: [] for v in VARIANTS}
    if sampled_negatives:
        ranks["sampled100"] = []
        gen = torch.Generator().manual_seed(seed)
    for idx in _batches(evalset, batch_size):
        histories = [evalset.inputs[i] for i in idx]
        targets = torch.from_numpy(evalset.targets[idx])
        if evalset.input_behaviors is None:
            scores = score_fn(histories)
        else:
            scores = score_fn(histories, [evalset.input_behaviors[i] for i in idx])
        masked = histories if seen is None else [seen[i] for i in idx]
        exclude = seen_mask(masked, targets, num_items + 1)
        ranks["all"].append(ranks_from_scores(scores, targets))
        ranks["seen_excluded"].append(ranks_from_scores(scores, targets, exclude))
        if sampled_negatives:
            ranks["sampled100"].append(
                _sampled_ranks(scores, targets, exclude, sampled_negatives, gen)
            )
    return {
        name: metrics_from_ranks(torch.cat(r) if r else torch.zeros(0))
        for name, r in ranks.items()
    }


def model_scorer(model: SASRec, target_behavior: int = 0):
    """Score histories with ``model.forward_last`` (last ``max_len`` items, minimal padding).
    Behaviors, when given, feed a type-aware model; ``target_behavior`` (a behavior code, 0 =
    any) is asked of a model conditioned on it."""

    def score(
        histories: Sequence[np.ndarray], behaviors: Optional[Sequence[np.ndarray]] = None
    ) -> Tensor:
        width = max(1, min(model.max_len, max(len(h) for h in histories)))
        seq = torch.from_numpy(left_pad(histories, width))
        beh = torch.from_numpy(left_pad(behaviors, width)) if behaviors is not None else None
        asked = torch.full((len(histories),), target_behavior, dtype=torch.long)
        return model.forward_last(seq, beh, asked).float()

    return score


def popularity_scores(counts: np.ndarray) -> Tensor:
    """Training-count scores with ties broken by lower item index (a strict total order)."""
    n = len(counts)
    tie_break = (n - np.arange(n, dtype=np.float64)) / (n + 1.0)  # in (0, 1), decreasing
    return torch.from_numpy(counts.astype(np.float64) + tie_break)


def popularity_scorer(counts: np.ndarray):
    base = popularity_scores(counts)

    def score(histories: Sequence[np.ndarray], behaviors: object = None) -> Tensor:
        return base.unsqueeze(0).expand(len(histories), -1)

    return score


def evaluate_model(
    model: SASRec,
    evalset: EvalSet,
    batch_size: int = 256,
    sampled_negatives: int = 0,
    seed: int = 0,
    seen: Optional[Sequence[np.ndarray]] = None,
    target_behavior: int = 0,
) -> Dict[str, Dict[str, float]]:
    was_training = model.training
    model.eval()
    try:
        return evaluate_scorer(
            model_scorer(model, target_behavior), evalset, model.num_items, batch_size, sampled_negatives, seed,
            seen,
        )
    finally:
        model.train(was_training)


def evaluate_popularity(
    counts: np.ndarray,
    evalset: EvalSet,
    batch_size: int = 256,
    sampled_negatives: int = 0,
    seed: int = 0,
) -> Dict[str, Dict[str, float]]:
    return evaluate_scorer(
        popularity_scorer(counts), evalset, len(counts) - 1, batch_size, sampled_negatives, seed
    )


def headline(metrics: Mapping[str, Mapping[str, float]]) -> float:
    return float(metrics[HEADLINE_VARIANT][HEADLINE_METRIC])


def format_table(rows: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """``rows``: label -> variant -> metric -> value. One line per (label, variant)."""
    label_width = max(
        [len(f"{label} [{VARIANT_LABELS.get(v, v)}]") for label, m in rows.items() for v in m]
        + [10]
    )
    head = " ".join(f"{name:>8}" for name in METRIC_NAMES)
    lines = [f"{'':<{label_width}} {head} {'users':>7}"]
    for label, by_variant in rows.items():
        for variant in [v for v in (*VARIANTS, "sampled100") if v in by_variant]:
            m = by_variant[variant]
            values = " ".join(f"{m[name]:8.4f}" for name in METRIC_NAMES)
            name = f"{label} [{VARIANT_LABELS.get(variant, variant)}]"
            lines.append(f"{name:<{label_width}} {values} {int(m.get('users', 0)):>7}")
    return "\n".join(lines)


def round_metrics(metrics: Mapping[str, object], digits: int = 6) -> Dict[str, object]:
    """Recursively round floats (for stable, readable JSON)."""
    out: Dict[str, object] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            out[key] = round_metrics(value, digits)
        elif isinstance(value, float) and math.isfinite(value):
            out[key] = round(value, digits)
        else:
            out[key] = value
    return out
