"""Cold start by evidence: the model vs trending vs their blend, by history length.

Protocol (``seqrec_model coldstart``):

* Leave-one-out targets (validation and test, as in :mod:`seqrec_model.evaluate`). A short
  history is SIMULATED by truncating the user's input to its last ``n`` items (only users with at
  least ``n`` items take part for that ``n``). The target is never part of the input, so nothing
  leaks; the truncated users are real users with longer histories, not real newcomers (whose
  behaviour may differ: not measured here).
* Buckets: ``1``, ``2``, ``3-5`` (every n in 3, 4, 5: each user counted once per n),
  ``6-10`` (every n in 6..10, likewise) and ``11+`` (the full history of users with >= 11 items,
  the model reading its last max_len items).
* Every list is a top-10 over all items (full ranking) with the items of the history AS GIVEN
  (the truncated one) excluded, as the job excludes the steps it knows, except the target, which
  always stays a candidate (the convention of ``evaluate``'s seen-excluded variant, so the
  ``11+`` row is ``evaluate``'s test figure); ties by lower item index.
  HR@10 and NDCG@10 of the target in that list.
* Trending: with timestamps (events, retailrocket), the time-decayed popularity at the target's
  time T over every event of the OTHER users strictly before T: score(i) = sum 2^((t_e - T) / h)
  (the user's own events are left out: a user truncated to n items must not find its removed
  earlier items among the trending ones; in a live stream one user's weight is negligible). A
  target of unknown time (RetailRocket's held-out purchase) takes T = the user's last known time
  + 1 s. The half-life h is chosen on the validation split (best NDCG@10 over all buckets) from
  :data:`HALF_LIVES`. Without timestamps (ml-1m, pairs), trending is the popularity over the
  training data (the most-popular baseline), likewise without the user's own interactions.
* Blend: reciprocal-rank fusion of the model's and trending's top-:data:`RRF_DEPTH` lists,
  score(i) = 1/(60 + rank_model(i)) + beta/(60 + rank_trending(i)), ranks 1-based, an item
  outside a list gets no term from it; beta is tuned per bucket on validation (NDCG@10) from
  :data:`BETAS`. Ties: the better model rank, then the better trending rank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from seqrec_model.data import EvalSet, Split, item_counts, left_pad

RRF_K = 60
RRF_DEPTH = 100
TOP_K = 10
BETAS = (0.25, 0.5, 1.0, 2.0, 4.0)
HOUR = 3600.0
HALF_LIVES: Mapping[str, float] = {
    "1h": HOUR,
    "6h": 6 * HOUR,
    "1d": 24 * HOUR,
    "7d": 7 * 24 * HOUR,
    "inf": math.inf,
}
# bucket label -> history lengths it simulates (None = the full history, >= 11 items)
BUCKETS: Tuple[Tuple[str, Optional[Tuple[int, ...]]], ...] = (
    ("1", (1,)),
    ("2", (2,)),
    ("3-5", (3, 4, 5)),
    ("6-10", (6, 7, 8, 9, 10)),
    ("11+", None),
)
FULL_MIN = 11


@dataclass
class Cases:
    """Evaluation cases of one split: case c is user ``rows[c]`` of the EvalSet with history
    ``histories[c]`` (truncated or full) in bucket ``buckets[c]``."""

    rows: np.ndarray
    histories: List[np.ndarray]
    buckets: List[str]
    targets: np.ndarray


def truncated_cases(evalset: EvalSet) -> Cases:
    """Every bucket's cases: for each n of a bucket, every user with >= n items, truncated to
    the last n; for ``11+`` every user with >= 11 items, untruncated."""
    rows: List[int] = []
    hist: List[np.ndarray] = []
    labels: List[str] = []
    for label, lengths in BUCKETS:
        for j, h in enumerate(evalset.inputs):
            if lengths is None:
                if len(h) >= FULL_MIN:
                    rows.append(j)
                    hist.append(np.asarray(h, dtype=np.int64))
                    labels.append(label)
                continue
            for n in lengths:
                if len(h) >= n:
                    rows.append(j)
                    hist.append(np.asarray(h[-n:], dtype=np.int64))
                    labels.append(label)
    r = np.asarray(rows, dtype=np.int64)
    return Cases(r, hist, labels, evalset.targets[r] if len(r) else np.zeros(0, np.int64))


def top_excluding(
    scores: torch.Tensor,
    histories: Sequence[np.ndarray],
    k: int,
    keep: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Top-``k`` indices per row of ``scores`` [B, N+1] with column 0 and each row's history
    excluded, except ``keep[row]`` (the target: it always stays a candidate, as in
    :mod:`seqrec_model.evaluate`); ties by lower index (a stable descending sort). Where fewer
    than ``k`` items are left, the list ends with 0 (no item)."""
    scores = scores.clone().double()
    original = scores.clone() if keep is not None else None
    scores[:, 0] = -math.inf
    longest = max((len(h) for h in histories), default=0)
    if longest:
        padded = torch.from_numpy(left_pad(list(histories), longest))
        scores.scatter_(1, padded, -math.inf)  # padding 0 is already -inf
    if keep is not None and original is not None:
        rows = torch.arange(scores.shape[0])
        kept = torch.from_numpy(np.asarray(keep, dtype=np.int64))
        scores[rows, kept] = original[rows, kept]
    k = min(k, scores.shape[1] - 1)
    values, indices = stable_topk(scores, k)
    top = indices.clone()
    top[values == -math.inf] = 0
    return top.numpy()


def stable_topk(scores: torch.Tensor, k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """``torch.topk`` with ties broken by lower index (what a stable descending sort gives),
    without sorting whole rows: rows whose k-th value is tied beyond the top k are re-done
    with a stable sort."""
    values, indices = torch.topk(scores, k, dim=1)
    # topk's order among equal values is unspecified: fix it by (value desc, index asc)
    kth = values[:, -1:]
    ties = (scores == kth).sum(dim=1) != (values == kth).sum(dim=1)
    inside = (values.unsqueeze(2) == values.unsqueeze(1)).sum(dim=(1, 2)) > k
    fix = ties | inside
    if bool(fix.any()):
        rows = torch.nonzero(fix).flatten()
        v, i = torch.sort(scores[rows], dim=1, descending=True, stable=True)
        values[rows], indices[rows] = v[:, :k], i[:, :k]
    return values, indices


def rrf(
    model_top: Sequence[int],
    trending_top: Sequence[int],
    beta: float,
    k: int = TOP_K,
    rrf_k: int = RRF_K,
) -> List[int]:
    """The blend's top-``k``: score(i) = 1/(rrf_k + rank_model(i)) + beta/(rrf_k +
    rank_trending(i)) over the two lists (1-based ranks; absent from a list = no term); ties by
    the better model rank, then the better trending rank."""
    big = len(model_top) + len(trending_top) + 1
    score: Dict[int, float] = {}
    m_rank: Dict[int, int] = {}
    t_rank: Dict[int, int] = {}
    for r, item in enumerate(model_top, start=1):
        item = int(item)
        if item == 0:  # no item
            continue
        if item not in m_rank:
            m_rank[item] = r
            score[item] = score.get(item, 0.0) + 1.0 / (rrf_k + r)
    for r, item in enumerate(trending_top, start=1):
        item = int(item)
        if item == 0:
            continue
        if item not in t_rank:
            t_rank[item] = r
            score[item] = score.get(item, 0.0) + beta / (rrf_k + r)
    order = sorted(score, key=lambda i: (-score[i], m_rank.get(i, big), t_rank.get(i, big)))
    return order[:k]


def rrf_batch(
    model_top: np.ndarray,
    trending_top: np.ndarray,
    beta: float,
    k: int = TOP_K,
    rrf_k: int = RRF_K,
    chunk: int = 2048,
) -> np.ndarray:
    """:func:`rrf` for many rows at once ([C, D] lists without repeats, 0 = no item): [C, k]
    (0-filled where fewer than k items)."""
    c, dm = model_top.shape
    dt = trending_top.shape[1]
    out = np.zeros((c, k), dtype=np.int64)
    m_score = 1.0 / (rrf_k + np.arange(1, dm + 1, dtype=np.float64))
    t_score = beta / (rrf_k + np.arange(1, dt + 1, dtype=np.float64))
    big = dm + dt + 1
    for s in range(0, c, chunk):
        m = model_top[s : s + chunk]
        t = trending_top[s : s + chunk]
        rows = len(m)
        eq = (t[:, :, None] == m[:, None, :]) & (t[:, :, None] != 0)  # [R, dt, dm]
        m_in_t = eq.any(axis=1)
        t_pos_of_m = eq.argmax(axis=1)  # valid where m_in_t
        t_in_m = eq.any(axis=2)
        score_m = np.where(m != 0, m_score[None, :], -np.inf)
        score_m = score_m + np.where(m_in_t, t_score[t_pos_of_m], 0.0)
        score_t = np.where((t != 0) & ~t_in_m, t_score[None, :], -np.inf)
        items = np.concatenate([m, t], axis=1)
        score = np.concatenate([score_m, score_t], axis=1)
        m_rank = np.concatenate(
            [np.broadcast_to(np.arange(1, dm + 1), m.shape), np.full(t.shape, big)], axis=1
        )
        t_rank = np.concatenate(
            [np.where(m_in_t, t_pos_of_m + 1, big), np.broadcast_to(np.arange(1, dt + 1), t.shape)],
            axis=1,
        )
        row = np.broadcast_to(np.arange(rows)[:, None], items.shape)
        order = np.lexsort((t_rank.ravel(), m_rank.ravel(), -score.ravel(), row.ravel()))
        order = order.reshape(rows, dm + dt)[:, :k]
        picked = items.ravel()[order]
        picked[~np.isfinite(score.ravel()[order])] = 0
        out[s : s + rows, : picked.shape[1]] = picked
    return out


def hit_gain(top: Sequence[int], target: int) -> Tuple[float, float]:
    """(HR, NDCG) of ``target`` in the list ``top``."""
    for pos, item in enumerate(top):
        if int(item) == int(target):
            return 1.0, 1.0 / math.log2(pos + 2.0)
    return 0.0, 0.0


def decayed_popularity(
    event_times: np.ndarray,
    event_items: np.ndarray,
    query_times: np.ndarray,
    num_items: int,
    half_life: float,
) -> Iterator[Tuple[int, np.ndarray]]:
    """For each query (in time order): (query index, scores [N+1]) with scores[i] =
    sum over events e of item i with t_e < T of 2^((t_e - T) / half_life) (a plain count for an
    infinite half-life). Computed incrementally, always relative to the current query's time,
    so nothing overflows; weights of events more than ~1000 half-lives old underflow to 0."""
    order = np.argsort(event_times, kind="stable")
    et = np.asarray(event_times, dtype=np.float64)[order]
    ei = np.asarray(event_items, dtype=np.int64)[order]
    acc = np.zeros(num_items + 1, dtype=np.float64)
    now = -math.inf
    pos = 0
    for q in np.argsort(query_times, kind="stable"):
        t = float(query_times[q])
        if math.isfinite(half_life) and math.isfinite(now) and t > now:
            acc *= 2.0 ** (-(t - now) / half_life)  # re-expressed relative to the new time
        now = t
        end = int(np.searchsorted(et, t, side="left"))  # events strictly before t
        if end > pos:
            w = (
                np.exp2((et[pos:end] - t) / half_life)
                if math.isfinite(half_life)
                else np.ones(end - pos)
            )
            np.add.at(acc, ei[pos:end], w)
            pos = end
        out = acc.copy()
        out[0] = 0.0
        yield int(q), out


def target_times(
    split_part: str, evalset: EvalSet, times: Sequence[np.ndarray]
) -> np.ndarray:
    """The time of each user's target (validation: second to last step; test: last step). An
    unknown (NaN) time becomes the user's last known earlier time + 1 s."""
    offset = 2 if split_part == "validation" else 1
    out = np.zeros(len(evalset), dtype=np.float64)
    for j, u in enumerate(evalset.users):
        t = np.asarray(times[int(u)], dtype=np.float64)
        value = t[len(t) - offset]
        if not math.isfinite(value):
            earlier = t[: len(t) - offset]
            known = earlier[np.isfinite(earlier)]
            value = float(known.max()) + 1.0 if len(known) else 0.0
        out[j] = value
    return out


def event_pool(times: Sequence[np.ndarray], sequences: Sequence[np.ndarray]) -> Tuple[
    np.ndarray, np.ndarray
]:
    """All steps of all users with a known time: (times, items)."""
    t = np.concatenate([np.asarray(x, dtype=np.float64) for x in times]) if times else np.zeros(0)
    i = np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences]) if sequences else (
        np.zeros(0, np.int64)
    )
    known = np.isfinite(t)
    return t[known], i[known]


def model_top_lists(
    score_fn: Callable[[Sequence[np.ndarray]], torch.Tensor],
    cases: Cases,
    depth: int = RRF_DEPTH,
    batch_size: int = 256,
) -> np.ndarray:
    """The model's top-``depth`` (history excluded) for every case: [cases, depth]."""
    out = np.zeros((len(cases.targets), depth), dtype=np.int64)
    lengths = np.asarray([len(h) for h in cases.histories], dtype=np.int64)
    order = np.argsort(lengths, kind="stable")
    with torch.no_grad():
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            hist = [cases.histories[i] for i in idx]
            top = top_excluding(score_fn(hist), hist, depth, cases.targets[idx])
            out[idx, : top.shape[1]] = top
    return out


def trending_top_lists(
    cases: Cases,
    query_scores: Iterator[Tuple[int, np.ndarray]],
    depth: int = RRF_DEPTH,
) -> np.ndarray:
    """Trending's top-``depth`` (history excluded) for every case, from per-user score rows
    (``query_scores`` yields (EvalSet row, scores))."""
    by_row: Dict[int, List[int]] = {}
    for c, row in enumerate(cases.rows):
        by_row.setdefault(int(row), []).append(c)
    out = np.zeros((len(cases.targets), depth), dtype=np.int64)
    for row, scores in query_scores:
        members = by_row.get(row)
        if not members:
            continue
        base = torch.from_numpy(scores).unsqueeze(0)
        hist = [cases.histories[c] for c in members]
        top = top_excluding(base.expand(len(members), -1), hist, depth, cases.targets[members])
        out[members, : top.shape[1]] = top
    return out


def static_scores(
    counts: np.ndarray, evalset: EvalSet, train: Sequence[np.ndarray]
) -> Iterator[Tuple[int, np.ndarray]]:
    """Training popularity for each EvalSet row, the user's own training interactions left out
    (a truncated user must not find its own earlier items among the trending ones)."""
    base = counts.astype(np.float64)
    for r, u in enumerate(evalset.users):
        own = np.asarray(train[int(u)], dtype=np.int64)
        if len(own) == 0:
            yield r, base
            continue
        row = base.copy()
        np.subtract.at(row, own, 1.0)
        yield r, row


def without_own_events(
    scores: Iterator[Tuple[int, np.ndarray]],
    evalset: EvalSet,
    query_times: np.ndarray,
    sequences: Sequence[np.ndarray],
    times: Sequence[np.ndarray],
    half_life: float,
) -> Iterator[Tuple[int, np.ndarray]]:
    """:func:`decayed_popularity` rows minus the querying user's own events (other users'
    events only): a user whose history is truncated to n items must not find its own earlier
    (removed) items among the trending ones."""
    for q, row in scores:
        u = int(evalset.users[q])
        t = np.asarray(times[u], dtype=np.float64)
        T = float(query_times[q])
        before = np.isfinite(t) & (t < T)
        if before.any():
            items = np.asarray(sequences[u], dtype=np.int64)[before]
            w = np.exp2((t[before] - T) / half_life) if math.isfinite(half_life) else (
                np.ones(int(before.sum())))  # fmt: skip
            own = np.zeros_like(row)
            np.add.at(own, items, w)
            touched = np.unique(items)
            left = row[touched] - own[touched]
            # rounding: an item only this user had goes back to exactly 0
            left[left <= 1e-9 * row[touched]] = 0.0
            row = row.copy()
            row[touched] = left
        yield q, row


def bucket_metrics(
    cases: Cases, lists: Sequence[Sequence[int]] | np.ndarray
) -> Dict[str, Dict[str, float]]:
    """HR@10 / NDCG@10 / cases per bucket of the top-10 ``lists`` (one per case)."""
    top = np.asarray(lists, dtype=np.int64).reshape(len(cases.targets), -1)[:, :TOP_K]
    match = top == cases.targets[:, None]
    hit = match.any(axis=1)
    gain = np.where(hit, 1.0 / np.log2(match.argmax(axis=1) + 2.0), 0.0)
    labels = np.asarray(cases.buckets)
    sums: Dict[str, List[float]] = {}
    for label, _ in BUCKETS:
        sel = labels == label
        sums[label] = [float(hit[sel].sum()), float(gain[sel].sum()), int(sel.sum())]
    return {
        label: {
            "HR@10": s[0] / s[2] if s[2] else 0.0,
            "NDCG@10": s[1] / s[2] if s[2] else 0.0,
            "cases": int(s[2]),
        }
        for label, s in sums.items()
    }


def blend_lists(model_top: np.ndarray, trending_top: np.ndarray, beta: float) -> np.ndarray:
    return rrf_batch(model_top, trending_top, beta)


def pooled_ndcg(per_bucket: Mapping[str, Mapping[str, float]]) -> float:
    total = sum(m["cases"] for m in per_bucket.values())
    return sum(m["NDCG@10"] * m["cases"] for m in per_bucket.values()) / total if total else 0.0


def coldstart_report(
    split: Split,
    num_items: int,
    score_fn: Callable[[Sequence[np.ndarray]], torch.Tensor],
    times: Optional[Sequence[np.ndarray]],
    sequences: Sequence[np.ndarray],
    batch_size: int = 256,
    half_lives: Mapping[str, float] = HALF_LIVES,
    betas: Sequence[float] = BETAS,
    log: Callable[[str], None] = lambda _: None,
) -> Dict[str, object]:
    """The whole protocol (module docstring): half-life and per-bucket beta tuned on
    validation, everything reported on test (validation figures included)."""
    parts = {"validation": split.validation, "test": split.test}
    cases = {p: truncated_cases(e) for p, e in parts.items()}
    model_top = {}
    for p in parts:
        log(f"model: {p}, {len(cases[p].targets)} cases")
        model_top[p] = model_top_lists(score_fn, cases[p], RRF_DEPTH, batch_size)
    counts = item_counts(split.train, num_items)

    def trending(p: str, half_life: Optional[float]) -> np.ndarray:
        if half_life is None:
            return trending_top_lists(cases[p], static_scores(counts, parts[p], split.train))
        et, ei = event_pool(times or [], sequences)
        qt = target_times(p, parts[p], times or [])
        rows = decayed_popularity(et, ei, qt, num_items, half_life)
        rows = without_own_events(rows, parts[p], qt, sequences, times or [], half_life)
        return trending_top_lists(cases[p], rows)

    chosen: Optional[str] = None
    half_life_scores: Dict[str, float] = {}
    if times is not None:
        best = -1.0
        trend_val: Dict[str, np.ndarray] = {}
        for name, h in half_lives.items():
            log(f"trending: validation, half-life {name}")
            trend_val[name] = trending("validation", h)
            score = pooled_ndcg(bucket_metrics(cases["validation"], trend_val[name]))
            half_life_scores[name] = score
            if score > best:
                best, chosen = score, name
        trend = {"validation": trend_val[chosen]}  # type: ignore[index]
        log(f"trending: test, half-life {chosen}")
        trend["test"] = trending("test", half_lives[chosen])  # type: ignore[index]
        trending_kind = f"time-decayed popularity, half-life {chosen} (chosen on validation)"
    else:
        trend = {p: trending(p, None) for p in parts}
        trending_kind = "popularity over the training data (no timestamps)"

    result: Dict[str, object] = {
        "trending": trending_kind,
        "half_life": chosen,
        "half_life_validation_ndcg10": half_life_scores,
        "buckets": [label for label, _ in BUCKETS],
    }
    blends: Dict[str, Dict[float, Dict[str, Dict[str, float]]]] = {}
    for p in parts:
        blends[p] = {b: bucket_metrics(cases[p], blend_lists(model_top[p], trend[p], b))
                     for b in betas}  # fmt: skip
    chosen_beta = {}
    for label, _ in BUCKETS:
        chosen_beta[label] = max(
            betas, key=lambda b: (blends["validation"][b][label]["NDCG@10"], -abs(math.log(b)))
        )
    result["beta"] = chosen_beta
    for p in parts:
        m = bucket_metrics(cases[p], model_top[p])
        t = bucket_metrics(cases[p], trend[p])
        rows = {}
        for label, _ in BUCKETS:
            b = chosen_beta[label]
            rows[label] = {
                "cases": m[label]["cases"],
                "users": int(len(set(cases[p].rows[[x == label for x in cases[p].buckets]]
                                     .tolist()))) if m[label]["cases"] else 0,  # fmt: skip
                "model": {k: m[label][k] for k in ("HR@10", "NDCG@10")},
                "trending": {k: t[label][k] for k in ("HR@10", "NDCG@10")},
                "blend": {k: blends[p][b][label][k] for k in ("HR@10", "NDCG@10")},
                "beta": b,
                "blend_by_beta": {
                    str(bb): {k: blends[p][bb][label][k] for k in ("HR@10", "NDCG@10")}
                    for bb in betas
                },
            }
        result[p] = rows
    return result


def format_markdown(report: Mapping[str, object], title: str, part: str = "test") -> str:
    """One Markdown table: bucket x {model, trending, blend(beta)} HR@10 / NDCG@10, users."""
    rows = report[part]
    lines = [
        f"**{title}** ({part}; trending = {report['trending']})",
        "",
        "| history length | users (cases) | model HR@10 / NDCG@10 | trending HR@10 / NDCG@10 "
        "| blend HR@10 / NDCG@10 (beta) |",
        "|---|---|---|---|---|",
    ]
    for label in report["buckets"]:  # type: ignore[union-attr]
        r = rows[label]  # type: ignore[index]
        cells = [
            f"{r[k]['HR@10']:.4f} / {r[k]['NDCG@10']:.4f}" for k in ("model", "trending", "blend")
        ]
        lines.append(
            f"| {label} | {r['users']} ({r['cases']}) | {cells[0]} | {cells[1]} | {cells[2]} "
            f"(beta {r['beta']:g}) |"
        )
    return "\n".join(lines)
