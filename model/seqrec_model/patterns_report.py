"""The conversion-paths report: Markdown tables of the mined patterns and a funnel chart (PNG).

Used by ``python -m seqrec_model patterns``; the mining itself is :mod:`seqrec_model.patterns`.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from seqrec_model.data import BEHAVIOR_CODES, InteractionData
from seqrec_model.patterns import BEHAVIOR_NAMES, EventLog, FunnelStep, MiningResult, Pattern
from seqrec_model.patterns import format_pattern

KIND_TITLES = {
    "shapes": "Shapes (items as variables: same letter = same item, different letters = different"
    " items)",
    "items": "Concrete paths (behavior, item id)",
}


@dataclass(frozen=True)
class ReportSettings:
    min_support: int  # users
    min_support_given: str  # as on the command line
    max_length: int
    max_gap: Optional[int]
    max_time_gap: Optional[float]
    top: int


def _share(n: int, of: int) -> str:
    return f"{100.0 * n / of:.1f} %" if of else "–"


def _gap_text(s: ReportSettings) -> str:
    parts = []
    if s.max_gap is not None:
        parts.append(f"at most {s.max_gap} other event(s) between consecutive matched events")
    if s.max_time_gap is not None:
        parts.append(f"at most {s.max_time_gap:g} s from one matched event to the next")
    return "; ".join(parts) if parts else "none (any number of events in between)"


def _pattern_table(
    patterns: Sequence[Pattern], kind: str, num_users: int, item_ids: Sequence[str]
) -> List[str]:
    if not patterns:
        return ["(none at this minimum support)", ""]
    lines = ["| pattern | support (users) | share of users | confidence |", "|---|---|---|---|"]
    for p in patterns:
        conf = f"{p.confidence:.3f}" if p.confidence is not None else "–"
        lines.append(
            f"| {format_pattern(p, kind, item_ids)} | {p.support} | {_share(p.support, num_users)}"
            f" | {conf} |"
        )
    return lines + [""]


def _summary(data: InteractionData, log: EventLog) -> List[str]:
    per_user = np.bincount(log.users, minlength=log.num_users) if log.num_users else np.zeros(1)
    codes, counts = np.unique(log.behaviors, return_counts=True)
    by_behavior = ", ".join(
        f"{BEHAVIOR_NAMES.get(int(c), str(c))} {int(n):,}" for c, n in zip(codes, counts)
    )
    slots = max(BEHAVIOR_NAMES) + 1
    user_behavior = np.unique(log.users * slots + log.behaviors)  # each (user, behavior) once
    user_codes, users = np.unique(user_behavior % slots, return_counts=True)
    users_by_behavior = ", ".join(
        f"{BEHAVIOR_NAMES.get(int(c), str(c))} {int(n):,}" for c, n in zip(user_codes, users)
    )
    lines = [
        "| | |",
        "|---|---|",
        f"| data | `{data.name}` ({data.format}) |",
        f"| users mined | {log.num_users:,} |",
        f"| items | {len(np.unique(log.items)):,} |",
        f"| events mined | {log.num_events:,} ({by_behavior}) |",
        f"| events per user | median {int(np.median(per_user))}, max {int(per_user.max())} |",
        f"| users per behavior | {users_by_behavior} |",
    ]
    if data.times is not None:
        times = np.concatenate([t[~np.isnan(t)] for t in data.times if len(t)])
        if len(times):
            first, last = (
                datetime.datetime.fromtimestamp(float(x), datetime.timezone.utc).date()
                for x in (times.min(), times.max())
            )
            lines.append(f"| time span (UTC) | {first} to {last} |")
    if log.dropped_untimed:
        lines.append(
            f"| left out | {log.dropped_untimed:,} steps of unknown time (RetailRocket: the"
            " held-out purchase of `test_buy.csv`; only `train.csv`'s events are mined) |"
        )
    lines.append(
        "| categories | none in this data: no category-level paths (the readers keep no item"
        " attributes) |"
    )
    return lines + [""]


def _funnel_table(steps: Sequence[FunnelStep]) -> List[str]:
    lines = [
        "| step (same item, in order) | users | of the previous step | of the first step |",
        "|---|---|---|---|",
    ]
    for i, s in enumerate(steps):
        name = " → ".join(x.behavior for x in steps[: i + 1])
        prev = f"{100.0 * s.of_previous:.1f} %" if s.of_previous is not None else "–"
        lines.append(f"| {name} | {s.users:,} | {prev} | {100.0 * s.of_first:.1f} % |")
    return lines + [""]


def funnel_chart(steps: Sequence[FunnelStep], title: str, path: str) -> None:
    """A horizontal bar per funnel step (users), labelled with the step's conversion rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 0.8 + 0.7 * max(1, len(steps))))
    try:
        labels = [s.behavior for s in steps]
        values = [s.users for s in steps]
        ax.barh(range(len(steps)), values, color="#4C72B0")
        ax.set_yticks(range(len(steps)))
        ax.set_yticklabels(labels)
        ax.invert_yaxis()
        top = max(values) if values else 1
        for i, s in enumerate(steps):
            rate = f" ({100.0 * s.of_previous:.1f} % of previous)" if s.of_previous else ""
            ax.text(s.users + top * 0.01, i, f"{s.users:,}{rate}", va="center", fontsize=9)
        ax.set_xlim(0, top * 1.45)
        ax.set_xlabel("users who took one item through every step so far")
        ax.set_title(title)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def _ends_in_purchase(p: Pattern) -> bool:
    return p.elements[-1][0] == BEHAVIOR_CODES["purchase"]


def write_report(
    path: str,
    data: InteractionData,
    log: EventLog,
    results: Sequence[MiningResult],
    steps: Sequence[FunnelStep],
    settings: ReportSettings,
) -> str:
    """Write the Markdown report to ``path`` and the funnel chart beside it; returns the chart's
    path. Length-1 patterns (behavior counts) are left out of the tables: the summary has them."""
    stem = os.path.splitext(os.path.basename(path))[0]
    chart = os.path.join(os.path.dirname(os.path.abspath(path)), f"{stem}-funnel.png")
    n = log.num_users
    lines = [
        f"# Conversion paths: {data.name}",
        "",
        "Frequent sequential patterns of (behavior, item) events, mined with"
        " `seqrec_model patterns` (PrefixSpan over projected databases). Support = distinct"
        " users whose history contains the pattern as a subsequence; confidence = support /"
        " support of the pattern without its last element.",
        "",
        f"- minimum support: {settings.min_support} users ({settings.min_support_given} given;"
        f" {_share(settings.min_support, n)} of {n:,})",
        f"- pattern length: 1 to {settings.max_length} events",
        f"- gap limit: {_gap_text(settings)}",
        "- mining time: "
        + ", ".join(f"{r.kind} {r.seconds:.2f} s ({len(r.patterns):,} patterns)" for r in results),
        "",
        "## Data",
        "",
        *_summary(data, log),
        "## Funnel",
        "",
        "Users with some item that went through each step in order (other events in between"
        " allowed, no gap limit).",
        "",
        *_funnel_table(steps),
        f"![funnel]({os.path.basename(chart)})",
        "",
    ]
    for r in results:
        longer = [p for p in r.patterns if len(p.elements) >= 2]
        lines += [f"## {KIND_TITLES[r.kind]}", ""]
        lines += [f"### Most frequent (length >= 2), top {settings.top}", ""]
        lines += _pattern_table(longer[: settings.top], r.kind, n, data.item_ids)
        to_purchase = [p for p in longer if _ends_in_purchase(p)]
        if BEHAVIOR_CODES["purchase"] in set(log.behaviors.tolist()):
            lines += [f"### Paths ending in a purchase, top {settings.top}", ""]
            lines += _pattern_table(to_purchase[: settings.top], r.kind, n, data.item_ids)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    funnel_chart(steps, f"Funnel: {data.name}", chart)
    return chart
