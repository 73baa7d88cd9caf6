"""Faithfulness of the attention explanation ("because you interacted with X").

For each test user (leave-one-out; the input is the history before the test item, fed as the
model reads it: its last ``max_len`` items):

* r = the top-1 recommendation, the user's history excluded (as served);
* ``because`` = the fed position with the largest attention weight of the exported ``attention``
  output (the last block's last query, mean over heads; ties: the latest position);
* drop(p) = score_r(history) - score_r(history without position p), the position removed from
  the fed sequence (nothing slides in from older history);
* compared with the drop for one uniformly random OTHER position (seeded). As an honest reference,
  the same comparison for the heuristic "because = the most recent item" (against a random
  position other than the last);
* the served ``because``: the fed position whose item is most similar to r (cosine of the item
  embeddings, :func:`seqrec_model.export.similar_position`), against a random other position;
* a diagnostic variant: ``because`` among the positions other than the first (the oldest fed
  item often draws much attention, an "attention sink"), against a random position other than it
  and the first (users with a fed history of at least three items).

Users with a fed history of one item are skipped (nothing else to remove).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from seqrec_model.data import EvalSet, left_pad
from seqrec_model.export import because_position, item_vectors, similar_position
from seqrec_model.sasrec import SASRec


def without(seq: np.ndarray, position: int) -> np.ndarray:
    """``seq`` with the item at ``position`` removed."""
    return np.concatenate([seq[:position], seq[position + 1 :]])


def random_other(rng: np.random.Generator, length: int, avoid: int) -> int:
    """A uniformly random position in 0..length-1 other than ``avoid`` (length >= 2)."""
    p = int(rng.integers(length - 1))
    return p + 1 if p >= avoid else p


@torch.no_grad()
def _scores(model: SASRec, seqs: Sequence[np.ndarray]) -> torch.Tensor:
    width = max(1, max(len(s) for s in seqs))
    return model.forward_last(torch.from_numpy(left_pad(list(seqs), width))).double()


@torch.no_grad()
def explain_users(
    model: SASRec,
    evalset: EvalSet,
    users: Optional[int] = None,
    seed: int = 0,
    batch_size: int = 128,
) -> Dict[str, object]:
    """Per-user records and the summary (module docstring). ``users``: the first N test users in
    a seeded random order (default: all)."""
    model.eval()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(evalset))
    if users is not None:
        order = order[:users]
    fed = {int(j): np.asarray(evalset.inputs[j][-model.max_len :], dtype=np.int64) for j in order}
    eligible = [int(j) for j in order if len(fed[int(j)]) >= 2]
    eligible.sort(key=lambda j: len(fed[j]))  # little padding per batch
    vectors = item_vectors(model)
    records: List[Dict[str, object]] = []
    for s in range(0, len(eligible), batch_size):
        idx = eligible[s : s + batch_size]
        seqs = [fed[j] for j in idx]
        width = max(len(x) for x in seqs)
        scores, attention = model.forward_last_with_attention(
            torch.from_numpy(left_pad(seqs, width))
        )
        scores = scores.double()
        variants: List[np.ndarray] = []
        meta = []
        for row, j in enumerate(idx):
            seq = fed[j]
            n = len(seq)
            att = attention[row, width - n :].numpy()
            masked = scores[row].clone()
            masked[0] = -np.inf
            masked[torch.from_numpy(evalset.inputs[j])] = -np.inf  # the whole history is seen
            top = int(torch.argmax(masked))
            because = because_position(att)
            user_rng = np.random.default_rng([seed, j])  # per user: independent of batching
            rand_b = random_other(user_rng, n, because)
            rand_l = random_other(user_rng, n, n - 1)
            # the sink-free variant: max attention over positions 1..n-1
            because_ns = 1 + because_position(att[1:]) if n >= 3 else -1
            rand_ns = 1 + random_other(user_rng, n - 1, because_ns - 1) if n >= 3 else -1
            similar = similar_position(vectors, seq, top)
            rand_s = random_other(user_rng, n, similar)
            positions = (because, rand_b, n - 1, rand_l, because_ns, rand_ns, similar, rand_s)
            for p in positions:
                variants.append(without(seq, max(p, 0)))
            meta.append((j, n, top, positions, float(scores[row, top]), float(att[because])))
        removed = _scores(model, variants)
        for m, (j, n, top, positions, base, weight) in enumerate(meta):
            drops = [base - float(removed[8 * m + k, top]) for k in range(8)]
            records.append(
                {
                    "user": int(evalset.users[j]),
                    "length": n,
                    "top1": top,
                    "because_position": positions[0],
                    "because_weight": weight,
                    "random_position": positions[1],
                    "random_other_than_last": positions[3],
                    "drop_because": drops[0],
                    "drop_random": drops[1],
                    "drop_most_recent": drops[2],
                    "drop_random_vs_recent": drops[3],
                    "because_not_first_position": positions[4],
                    "drop_because_not_first": drops[4] if n >= 3 else None,
                    "drop_random_not_first": drops[5] if n >= 3 else None,
                    "similar_position": positions[6],
                    "random_other_than_similar": positions[7],
                    "drop_similar": drops[6],
                    "drop_random_vs_similar": drops[7],
                }
            )
    return {"summary": summarize(records, skipped=len(order) - len(eligible)), "users": records}


def summarize(records: Sequence[Dict[str, object]], skipped: int = 0) -> Dict[str, object]:
    n = len(records)
    sink_free = [r for r in records if r.get("drop_because_not_first") is not None]

    def share(cond: List[bool]) -> float:
        return float(np.mean(cond)) if n else 0.0

    def mean(key: str) -> float:
        return float(np.mean([float(r[key]) for r in records])) if n else 0.0  # type: ignore

    return {
        "users": n,
        "skipped_history_of_one": skipped,
        "share_because_drop_gt_random": share(
            [float(r["drop_because"]) > float(r["drop_random"]) for r in records]  # type: ignore
        ),
        "share_recent_drop_gt_random": share(
            [
                float(r["drop_most_recent"]) > float(r["drop_random_vs_recent"])  # type: ignore
                for r in records
            ]
        ),
        "share_similar_drop_gt_random": share(
            [
                float(r["drop_similar"]) > float(r["drop_random_vs_similar"])  # type: ignore
                for r in records
            ]
        ),
        "mean_drop_similar": mean("drop_similar"),
        "mean_drop_random_vs_similar": mean("drop_random_vs_similar"),
        "share_similar_is_most_recent": share(
            [int(r["similar_position"]) == int(r["length"]) - 1 for r in records]  # type: ignore
        ),
        "share_because_is_most_recent": share(
            [int(r["because_position"]) == int(r["length"]) - 1 for r in records]  # type: ignore
        ),
        "mean_drop_because": mean("drop_because"),
        "mean_drop_random": mean("drop_random"),
        "mean_drop_most_recent": mean("drop_most_recent"),
        "mean_drop_random_vs_recent": mean("drop_random_vs_recent"),
        "mean_because_weight": mean("because_weight"),
        "share_because_is_first": share(
            [int(r["because_position"]) == 0 for r in records]  # type: ignore
        ),
        "users_not_first": len(sink_free),
        "share_because_not_first_drop_gt_random": float(
            np.mean([float(r["drop_because_not_first"]) > float(r["drop_random_not_first"])
                     for r in sink_free])  # type: ignore
        ) if sink_free else 0.0,
        "mean_drop_because_not_first": float(
            np.mean([float(r["drop_because_not_first"]) for r in sink_free])  # type: ignore
        ) if sink_free else 0.0,
        "mean_drop_random_not_first": float(
            np.mean([float(r["drop_random_not_first"]) for r in sink_free])  # type: ignore
        ) if sink_free else 0.0,
    }


def format_summary(summary: Dict[str, object]) -> str:
    s = summary
    return "\n".join(
        [
            f"test users explained: {s['users']} (skipped, history of one item: "
            f"{s['skipped_history_of_one']})",
            f"served because (the most similar item) drop > random-position drop: "
            f"{100 * float(s['share_similar_drop_gt_random']):.1f}% of users "  # type: ignore
            f"(mean drop {float(s['mean_drop_similar']):.4f} vs "  # type: ignore
            f"{float(s['mean_drop_random_vs_similar']):.4f}); it is the most recent item for "
            f"{100 * float(s['share_similar_is_most_recent']):.1f}%",  # type: ignore
            f"attention because (max attention) drop > random-position drop: "
            f"{100 * float(s['share_because_drop_gt_random']):.1f}% of users "  # type: ignore
            f"(mean drop {float(s['mean_drop_because']):.4f} vs "  # type: ignore
            f"{float(s['mean_drop_random']):.4f})",  # type: ignore
            f"reference, because = most recent item: drop > random drop for "
            f"{100 * float(s['share_recent_drop_gt_random']):.1f}% "  # type: ignore
            f"(mean drop {float(s['mean_drop_most_recent']):.4f} vs "  # type: ignore
            f"{float(s['mean_drop_random_vs_recent']):.4f})",  # type: ignore
            f"because is the most recent item for "
            f"{100 * float(s['share_because_is_most_recent']):.1f}% of users; "  # type: ignore
            f"mean weight of because {float(s['mean_because_weight']):.3f}",  # type: ignore
            f"because is the first (oldest fed) position for "
            f"{100 * float(s['share_because_is_first']):.1f}% of users",  # type: ignore
            f"diagnostic, because among positions other than the first ({s['users_not_first']} "
            f"users with >= 3 items): drop > random drop for "
            f"{100 * float(s['share_because_not_first_drop_gt_random']):.1f}% "  # type: ignore
            f"(mean drop {float(s['mean_drop_because_not_first']):.4f} vs "  # type: ignore
            f"{float(s['mean_drop_random_not_first']):.4f})",  # type: ignore
        ]
    )
