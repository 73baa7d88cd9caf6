"""Beyond-accuracy metrics of top-k lists (the same definitions as the Java side).

For lists L_1..L_U (each k item indices) over a catalog of N items, with training data giving
c_i = the number of training interactions of item i and U_i = the set of training users of i:

* coverage: |distinct recommended items| / N (RecBole ItemCoverage);
* Gini index of the recommendation counts over ALL N items (never recommended = 0), counts sorted
  ascending c_(1)..c_(n): G = sum_i (2i - n - 1) c_(i) / (n sum_i c_(i)) (RecBole GiniIndex);
* novelty: the mean over every listed item of -log2((c_i + 1) / (sum_j c_j + N));
* average popularity: the mean over lists of the mean c_i of the list's items (RecBole
  AveragePopularity);
* intra-list diversity: the mean over lists of 1 - the mean pairwise cosine similarity of the
  list's items, cos(i, j) = |U_i & U_j| / sqrt(|U_i| |U_j|) (0 if either set is empty);
* intra-list diversity by the model's item vectors (``ild_vectors``, what the job reports live):
  the same with cos(i, j) = the cosine of the two items' embeddings (the unit rows of the
  artifact's ``item_vectors.f32``).
"""

from __future__ import annotations

import math
from typing import Dict, Sequence

import numpy as np
import torch

from seqrec_model.coldstart import stable_topk
from seqrec_model.data import EvalSet, left_pad

METRICS = ("coverage", "gini", "novelty", "avg_popularity", "ild", "ild_vectors")


def coverage(lists: np.ndarray, num_items: int) -> float:
    return float(len(np.unique(lists))) / num_items if num_items else 0.0


def gini_index(lists: np.ndarray, num_items: int) -> float:
    counts = np.bincount(np.asarray(lists).ravel(), minlength=num_items + 1)[1 : num_items + 1]
    c = np.sort(counts.astype(np.float64))
    n = len(c)
    total = c.sum()
    if n == 0 or total == 0:
        return 0.0
    i = np.arange(1, n + 1, dtype=np.float64)
    return float(((2 * i - n - 1) * c).sum() / (n * total))


def novelty(lists: np.ndarray, train_counts: np.ndarray) -> float:
    """``train_counts`` [N+1] (entry 0 = padding)."""
    n = len(train_counts) - 1
    total = float(train_counts[1:].sum())
    c = train_counts[np.asarray(lists)].astype(np.float64)
    return float((-np.log2((c + 1.0) / (total + n))).mean())


def average_popularity(lists: np.ndarray, train_counts: np.ndarray) -> float:
    c = train_counts[np.asarray(lists)].astype(np.float64)
    return float(c.mean(axis=1).mean())


def item_users(train: Sequence[np.ndarray], num_items: int) -> list:
    """U_i per item index (a set of training-user numbers; entry 0 = padding, empty)."""
    users: list = [set() for _ in range(num_items + 1)]
    for u, seq in enumerate(train):
        for i in np.unique(np.asarray(seq, dtype=np.int64)).tolist():
            users[i].add(u)
    return users


def cosine(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return sum(1 for x in small if x in large) / math.sqrt(len(a) * len(b))


def intra_list_diversity(lists: np.ndarray, train: Sequence[np.ndarray], num_items: int) -> float:
    lists = np.asarray(lists, dtype=np.int64)
    if len(lists) == 0 or lists.shape[1] < 2:
        return 0.0
    users = item_users(train, num_items)
    cache: Dict[tuple, float] = {}
    total = 0.0
    for row in lists.tolist():
        sims = []
        for x in range(len(row)):
            for y in range(x + 1, len(row)):
                key = (row[x], row[y]) if row[x] < row[y] else (row[y], row[x])
                value = cache.get(key)
                if value is None:
                    value = cosine(users[key[0]], users[key[1]])
                    cache[key] = value
                sims.append(value)
        total += 1.0 - sum(sims) / len(sims)
    return total / len(lists)


def vector_diversity(lists: np.ndarray, vectors: np.ndarray) -> float:
    """Mean over lists of 1 - the mean pairwise cosine of the listed items' unit ``vectors``
    ([N, d], row i-1 = item index i), summed in float64 as the job does."""
    lists = np.asarray(lists, dtype=np.int64)
    if len(lists) == 0 or lists.shape[1] < 2:
        return 0.0
    k = lists.shape[1]
    rows = vectors.astype(np.float64)[lists - 1]  # [U, k, d]
    gram = np.einsum("ukd,uld->ukl", rows, rows)
    upper = np.triu_indices(k, 1)
    return float(np.mean(1.0 - gram[:, upper[0], upper[1]].mean(axis=1)))


def beyond_accuracy(
    lists: np.ndarray,
    train: Sequence[np.ndarray],
    num_items: int,
    vectors: np.ndarray | None = None,
) -> Dict[str, float]:
    """The metrics of the module docstring; ``ild_vectors`` only with ``vectors``."""
    from seqrec_model.data import item_counts

    counts = item_counts(train, num_items)
    extra = {} if vectors is None else {"ild_vectors": vector_diversity(lists, vectors)}
    return extra | {
        "coverage": coverage(lists, num_items),
        "gini": gini_index(lists, num_items),
        "novelty": novelty(lists, counts),
        "avg_popularity": average_popularity(lists, counts),
        "ild": intra_list_diversity(lists, train, num_items),
        "lists": int(len(lists)),
    }


@torch.no_grad()
def top_lists(score_fn, evalset: EvalSet, num_items: int, k: int = 10, batch_size: int = 256):
    """Top-``k`` per user (column 0 and the user's history excluded; ties by lower index)."""
    out = np.zeros((len(evalset), k), dtype=np.int64)
    lengths = np.fromiter((len(s) for s in evalset.inputs), dtype=np.int64, count=len(evalset))
    order = np.argsort(lengths, kind="stable")
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        hist = [evalset.inputs[i] for i in idx]
        scores = score_fn(hist).double().clone()
        scores[:, 0] = -math.inf
        longest = max(1, max(len(h) for h in hist))
        scores.scatter_(1, torch.from_numpy(left_pad(hist, longest)), -math.inf)
        out[idx] = stable_topk(scores, k)[1].numpy()
    return out


def format_beyond(rows: Dict[str, Dict[str, float]]) -> str:
    head = (
        f"{'':<28} {'coverage':>9} {'gini':>7} {'novelty':>8} {'avg pop':>9} {'ILD':>7} "
        f"{'ILD vec':>7}"
    )
    lines = [head]
    for label, m in rows.items():
        vec = f"{m['ild_vectors']:7.4f}" if "ild_vectors" in m else f"{'-':>7}"
        lines.append(
            f"{label:<28} {m['coverage']:9.4f} {m['gini']:7.4f} {m['novelty']:8.3f} "
            f"{m['avg_popularity']:9.1f} {m['ild']:7.4f} {vec}"
        )
    return "\n".join(lines)
