"""Conversion paths (issue 16, §4): frequent sequential patterns of typed events, and the funnel.

A user's history is a sequence of events ``(behavior, item)``, oldest first. A pattern is a
sequence of elements; a user *supports* it when some events of their history, in order, match
the elements one by one, with at most ``max_gap`` other events between two consecutive matched
events and at most ``max_time_gap`` seconds from one matched event to the next (each limit only
when given). Support = number of distinct supporting users; confidence = support of the pattern /
support of the pattern without its last element.

Two kinds of element:

* ``items``: ``(behavior, item)``, a concrete event (``view 123 -> cart 123 -> purchase 123``);
* ``shapes``: ``(behavior, variable)``, items abstracted to variables numbered by first
  appearance (``view A -> view B -> purchase B``). An occurrence binds each variable to one item:
  the same variable is the same item, different variables are different items.

The miner is PrefixSpan over pseudo-projected databases: the projection of a pattern is the set of
states (end position of an occurrence, items bound to its variables) over all users, stored as
NumPy arrays; extending a pattern enumerates every event a state may be followed by, keys it by the
element it would add, counts distinct users per key and projects the frequent keys only (support
is anti-monotone). Two states with the same end and the same binding have the same futures, so
each projection is deduplicated on them; without any gap limit a state with an earlier end can do
everything a later one with the same binding can, so only the earliest is kept per user and
binding (for ``items`` that is PrefixSpan's one earliest occurrence per user).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from seqrec_model.data import BEHAVIOR_CODES

KINDS = ("shapes", "items")
BEHAVIOR_NAMES: Dict[int, str] = {code: name for name, code in BEHAVIOR_CODES.items()}
#: The funnel's steps, in order; a step the data never has (RetailRocket has no click) is left out.
FUNNEL_BEHAVIORS = ("view", "click", "cart", "purchase")

# An element is encoded as one int64 key: value * _SLOTS + behavior code (value = item index for
# items, variable number for shapes); behavior codes are 1..5.
_SLOTS = 8
# Candidate extensions enumerated per NumPy batch: bounds the transient memory of one batch
# (~10 int64 arrays of this length, ~40 MB) without paying Python overhead per state.
_BATCH = 1 << 19
# Sibling extensions are projected in groups of at most this many candidate states (a single
# larger sibling forms its own group), so each level of the depth-first search holds at most one
# group: memory is bounded by max length x group size instead of growing with the number of
# siblings. Each group costs one more pass over the parent's candidates.
_GROUP = 1 << 20
#: Default caps (see :class:`PatternSpaceTooLarge`). Candidates enumerated to extend one pattern:
#: time, a few million per second here.
MAX_CANDIDATES = 200_000_000
#: States of one projected pattern: memory, ~130 bytes each while the projection is built.
MAX_STATES = 10_000_000


class PatternSpaceTooLarge(ValueError):
    """Extending one pattern would enumerate more candidate events, or project more states, than
    the miner's caps allow: without a gap limit every later event of a user is a candidate, and
    shapes keep one state per binding of their variables, O(n^k) for a user with n events."""


@dataclass(frozen=True)
class EventLog:
    """Every mined user's events, flattened user after user, oldest first, with the gap rule
    folded into ``limits``: the event at position ``p`` may be followed within an occurrence by
    any event at positions ``p + 1 .. limits[p] - 1`` (all of the same user)."""

    behaviors: np.ndarray  # int64 behavior code per event
    items: np.ndarray  # int64 item index per event
    users: np.ndarray  # int64 user number (0..num_users-1) per event
    limits: np.ndarray  # int64, exclusive
    user_ids: List[str]  # external id of each user number
    max_gap: Optional[int]
    max_time_gap: Optional[float]
    dropped_untimed: int  # steps left out because their time is unknown (NaN)

    @property
    def num_users(self) -> int:
        return len(self.user_ids)

    @property
    def num_events(self) -> int:
        return len(self.behaviors)

    @property
    def unbounded(self) -> bool:
        return self.max_gap is None and self.max_time_gap is None


def event_log(
    user_ids: Sequence[str],
    sequences: Sequence[np.ndarray],
    behaviors: Sequence[np.ndarray],
    times: Optional[Sequence[np.ndarray]] = None,
    max_gap: Optional[int] = None,
    max_time_gap: Optional[float] = None,
) -> EventLog:
    """Flatten per-user sequences (item indices, behavior codes, epoch seconds oldest first).

    Steps with an unknown (NaN) time are left out and counted: RetailRocket's held-out purchase
    from ``test_buy.csv`` is one, and mining only what happened in ``train.csv`` keeps the paths
    free of a step whose place in time is invented. Users left without events are not mined (and
    are not in the share-of-users denominator).
    """
    if max_gap is not None and max_gap < 0:
        raise ValueError(f"max_gap must be >= 0, got {max_gap}")
    if max_time_gap is not None and not max_time_gap >= 0:
        raise ValueError(f"max_time_gap must be >= 0 seconds, got {max_time_gap}")
    if max_time_gap is not None and times is None:
        raise ValueError("a time gap needs timestamps; this data has none")
    kept_ids: List[str] = []
    parts_b, parts_i, parts_t = [], [], []
    dropped = 0
    for u, seq in enumerate(sequences):
        seq = np.asarray(seq, dtype=np.int64)
        beh = np.asarray(behaviors[u], dtype=np.int64)
        t = np.asarray(times[u], dtype=np.float64) if times is not None else np.zeros(len(seq))
        timed = ~np.isnan(t)
        dropped += int((~timed).sum())
        if not timed.any():
            continue
        kept_ids.append(user_ids[u])
        parts_b.append(beh[timed])
        parts_i.append(seq[timed])
        parts_t.append(t[timed])
    lengths = np.asarray([len(p) for p in parts_b], dtype=np.int64)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    users = np.repeat(np.arange(len(kept_ids), dtype=np.int64), lengths)
    limits = np.repeat(ends, lengths)
    if max_gap is not None:
        limits = np.minimum(limits, np.arange(len(users), dtype=np.int64) + max_gap + 2)
    if max_time_gap is not None:
        for t, s in zip(parts_t, starts):
            if np.any(np.diff(t) < 0):
                raise ValueError("times must be in order within each user's sequence")
            reach = np.searchsorted(t, t + max_time_gap, side="right") + s
            limits[s : s + len(t)] = np.minimum(limits[s : s + len(t)], reach)
    empty = np.zeros(0, dtype=np.int64)
    return EventLog(
        behaviors=np.concatenate(parts_b) if parts_b else empty,
        items=np.concatenate(parts_i) if parts_i else empty,
        users=users,
        limits=limits,
        user_ids=kept_ids,
        max_gap=max_gap,
        max_time_gap=max_time_gap,
        dropped_untimed=dropped,
    )


Element = Tuple[int, int]  # (behavior code, item index | variable number)


@dataclass(frozen=True)
class Pattern:
    """A frequent pattern; ``prefix_support`` is the support of ``elements[:-1]`` (None for a
    single element)."""

    elements: Tuple[Element, ...]
    support: int
    prefix_support: Optional[int]

    @property
    def confidence(self) -> Optional[float]:
        if self.prefix_support is None:
            return None
        return self.support / self.prefix_support


def resolve_min_support(value: str, num_users: int) -> int:
    """A user count from ``--min-support``: an integer >= 1 is a count, a number in (0, 1) a
    fraction of the users (rounded up, so the fraction is really reached)."""
    text = str(value).strip()
    try:
        count = int(text)
    except ValueError:
        try:
            fraction = float(text)
        except ValueError:
            raise ValueError(f"min support {value!r} is neither a count nor a fraction") from None
        if not 0 < fraction < 1:
            raise ValueError(f"min support {value!r}: a fraction must be in (0, 1)")
        return max(1, math.ceil(fraction * num_users - 1e-9))
    if count < 1:
        raise ValueError(f"min support {value!r}: a count must be >= 1")
    return count


@dataclass
class _Projection:
    """States of a pattern's occurrences: ``ends[s]`` = position of the last matched event,
    ``bound[s]`` = items bound to the variables 0..m-1 (shapes; zero columns for items)."""

    ends: np.ndarray
    bound: np.ndarray


def _root() -> _Projection:
    # The empty pattern: one virtual state, with nothing bound, that every event extends
    # (_candidates special-cases it).
    return _Projection(ends=np.zeros(0, dtype=np.int64), bound=np.zeros((1, 0), dtype=np.int64))


def _candidates(
    log: EventLog, proj: _Projection, root: bool
) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """Batches of (state number, position of an event that may extend that state)."""
    if root:
        for lo in range(0, log.num_events, _BATCH):
            pos = np.arange(lo, min(lo + _BATCH, log.num_events), dtype=np.int64)
            yield np.zeros(len(pos), dtype=np.int64), pos
        return
    counts = log.limits[proj.ends] - proj.ends - 1
    cum = np.cumsum(counts)
    lo = 0
    while lo < len(counts):
        base = cum[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(cum, base + _BATCH, side="right")))
        c = counts[lo:hi]
        total = int(c.sum())
        if total:
            state = np.repeat(np.arange(lo, hi, dtype=np.int64), c)
            first = np.repeat(np.cumsum(c) - c, c)
            pos = proj.ends[state] + (np.arange(total, dtype=np.int64) - first) + 1
            yield state, pos
        lo = hi


def _keys(
    log: EventLog, kind: str, proj: _Projection, state: np.ndarray, pos: np.ndarray
) -> np.ndarray:
    """The key of the element each candidate would add. Shapes: its variable is the one already
    bound to the candidate's item, else the next number (a new variable, so a new item)."""
    beh = log.behaviors[pos]
    if kind == "items":
        return log.items[pos] * _SLOTS + beh
    m = proj.bound.shape[1]
    if m == 0:
        return beh.copy()  # variable 0
    same = proj.bound[state] == log.items[pos][:, None]
    var = np.where(same.any(axis=1), same.argmax(axis=1), m)
    return var * _SLOTS + beh


def _dedupe(log: EventLog, ends: np.ndarray, bound: np.ndarray) -> _Projection:
    """Drop states whose futures another state already covers (see the module docstring)."""
    columns = [bound[:, j] for j in range(bound.shape[1])]
    if log.unbounded:
        # the earliest end per (user, binding): sort by user, binding, end; keep each group's first
        group = [log.users[ends]] + columns
        order = np.lexsort([ends] + group[::-1])
    else:
        group = [ends] + columns
        order = np.lexsort(group[::-1])
    duplicate = np.ones(len(order), dtype=bool)  # same group as the state sorted before it
    duplicate[0] = False
    for column in group:
        sorted_column = column[order]
        duplicate[1:] &= sorted_column[1:] == sorted_column[:-1]
    keep = order[~duplicate]
    return _Projection(ends=ends[keep], bound=bound[keep])


class _Miner:
    def __init__(
        self,
        log: EventLog,
        kind: str,
        min_support: int,
        max_length: int,
        max_candidates: int,
        max_states: int,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown pattern kind {kind!r}; expected one of {KINDS}")
        if min_support < 1:
            raise ValueError(f"min_support must be >= 1, got {min_support}")
        if max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {max_length}")
        self.log = log
        self.kind = kind
        self.min_support = min_support
        self.max_length = max_length
        self.max_candidates = max_candidates
        self.max_states = max_states
        self.found: List[Pattern] = []

    def run(self) -> List[Pattern]:
        if self.log.num_events:
            self._grow((), _root(), None, root=True)
        return self.found

    def _refuse(self, prefix: Tuple[Element, ...], what: str) -> PatternSpaceTooLarge:
        return PatternSpaceTooLarge(
            f"the {self.kind} pattern {format_pattern(Pattern(prefix, 0, None), self.kind)}"
            f" {what}; give a max gap (events or time), a lower max length or a higher min support"
        )

    def _check_candidates(self, prefix: Tuple[Element, ...], proj: _Projection) -> None:
        total = int((self.log.limits[proj.ends] - proj.ends - 1).sum())
        if total > self.max_candidates:
            raise self._refuse(
                prefix, f"has {total:,} candidate extensions (cap {self.max_candidates:,})"
            )

    def _supports(
        self, proj: _Projection, root: bool
    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Keys of the one-element extensions (sorted), their supports (distinct users) and their
        numbers of candidate states."""
        pairs, batch_keys, batch_counts = [], [], []
        n = self.log.num_users
        for state, pos in _candidates(self.log, proj, root):
            keys = _keys(self.log, self.kind, proj, state, pos)
            pairs.append(np.unique(keys * n + self.log.users[pos]))
            k, c = np.unique(keys, return_counts=True)
            batch_keys.append(k)
            batch_counts.append(c)
        if not pairs:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        keys, supports = np.unique(np.unique(np.concatenate(pairs)) // n, return_counts=True)
        where = np.searchsorted(keys, np.concatenate(batch_keys))
        sizes = np.bincount(where, weights=np.concatenate(batch_counts), minlength=len(keys))
        return keys, supports, sizes.astype(np.int64)

    def _project(
        self, proj: _Projection, root: bool, wanted: np.ndarray
    ) -> Dict[int, _Projection]:
        """Projections of the extensions by the ``wanted`` keys (sorted)."""
        ends: Dict[int, List[np.ndarray]] = {int(k): [] for k in wanted}
        bound: Dict[int, List[np.ndarray]] = {int(k): [] for k in wanted}
        m = proj.bound.shape[1]
        for state, pos in _candidates(self.log, proj, root):
            keys = _keys(self.log, self.kind, proj, state, pos)
            keep = np.isin(keys, wanted)
            state, pos, keys = state[keep], pos[keep], keys[keep]
            order = np.argsort(keys, kind="stable")
            state, pos, keys = state[order], pos[order], keys[order]
            values, starts = np.unique(keys, return_index=True)
            for key, lo, hi in zip(values, starts, list(starts[1:]) + [len(keys)]):
                b = proj.bound[state[lo:hi]]
                if self.kind == "shapes" and int(key) // _SLOTS == m:  # binds a new variable
                    b = np.column_stack([b, self.log.items[pos[lo:hi]]])
                ends[int(key)].append(pos[lo:hi])
                bound[int(key)].append(b)
        return {
            k: _dedupe(self.log, np.concatenate(ends[k]), np.concatenate(bound[k]))
            for k in ends
        }

    def _grow(
        self,
        prefix: Tuple[Element, ...],
        proj: _Projection,
        prefix_support: Optional[int],
        root: bool = False,
    ) -> None:
        if not root:
            self._check_candidates(prefix, proj)
        keys, supports, sizes = self._supports(proj, root)
        frequent = supports >= self.min_support
        keys, supports, sizes = keys[frequent], supports[frequent], sizes[frequent]
        children = []
        for key, support in zip(keys.tolist(), supports.tolist()):
            element = (key % _SLOTS, key // _SLOTS)
            pattern = Pattern(prefix + (element,), support, prefix_support)
            self.found.append(pattern)
            children.append((key, pattern))
        if len(prefix) + 1 >= self.max_length or not children:
            return
        for (key, pattern), size in zip(children, sizes.tolist()):
            if size > self.max_states:
                raise self._refuse(
                    pattern.elements,
                    f"would project {size:,} states (cap {self.max_states:,})",
                )
        groups: List[List[int]] = [[]]
        filled = 0
        for i, size in enumerate(sizes.tolist()):
            if filled and filled + size > _GROUP:
                groups.append([])
                filled = 0
            groups[-1].append(i)
            filled += size
        for members in groups:
            projections = self._project(proj, root, keys[members])
            for i in members:
                key, pattern = children[i]
                self._grow(pattern.elements, projections.pop(key), pattern.support)


def mine(
    log: EventLog,
    kind: str,
    min_support: int,
    max_length: int,
    max_candidates: int = MAX_CANDIDATES,
    max_states: int = MAX_STATES,
) -> List[Pattern]:
    """Every pattern of ``kind`` (:data:`KINDS`) with 1..``max_length`` elements supported by at
    least ``min_support`` users of ``log``, most supported first (ties: shorter, then by
    elements). Raises :class:`PatternSpaceTooLarge` rather than exhaust memory or time."""
    found = _Miner(log, kind, min_support, max_length, max_candidates, max_states).run()
    return sorted(found, key=lambda p: (-p.support, len(p.elements), p.elements))


def variable_name(number: int) -> str:
    return chr(ord("A") + number) if number < 26 else f"X{number}"


def format_pattern(pattern: Pattern, kind: str, item_ids: Optional[Sequence[str]] = None) -> str:
    """``view A → cart A`` (shapes) or ``view 123 → cart 123`` (items, external ids if given)."""
    words = []
    for behavior, value in pattern.elements:
        if kind == "shapes":
            what = variable_name(value)
        else:
            what = item_ids[value - 1] if item_ids is not None else str(value)
        words.append(f"{BEHAVIOR_NAMES.get(behavior, str(behavior))} {what}")
    return " → ".join(words)


@dataclass(frozen=True)
class FunnelStep:
    behavior: str
    users: int  # users with some item that went through every step up to this one, in order
    of_previous: Optional[float]  # users / users of the previous step
    of_first: float  # users / users of the first step


def funnel(log: EventLog) -> List[FunnelStep]:
    """Users who took one item through view → (click →) cart → purchase, step by step: a user
    counts at step k if for some item the first k steps occur in order in their history (other
    events in between allowed, no gap limit). Steps the data never has are left out."""
    present = set(np.unique(log.behaviors).tolist())
    steps = [b for b in FUNNEL_BEHAVIORS if BEHAVIOR_CODES[b] in present]
    if not steps:
        return []
    codes = [BEHAVIOR_CODES[b] for b in steps]
    reached = np.zeros(len(steps) + 1, dtype=np.int64)  # reached[k]: users whose best is k steps
    stage: Dict[int, int] = {}
    best = 0
    users, items, behaviors = log.users.tolist(), log.items.tolist(), log.behaviors.tolist()
    for p in range(log.num_events):
        if p and users[p] != users[p - 1]:
            reached[best] += 1
            stage, best = {}, 0
        k = stage.get(items[p], 0)
        # taking the earliest event of each step leaves the most room for the next ones
        if k < len(codes) and behaviors[p] == codes[k]:
            stage[items[p]] = k + 1
            best = max(best, k + 1)
    if log.num_events:
        reached[best] += 1
    at_least = np.cumsum(reached[::-1])[::-1][1:]  # users reaching step k (1-based), k = 1..
    out = []
    for k, behavior in enumerate(steps):
        n = int(at_least[k])
        out.append(
            FunnelStep(
                behavior=behavior,
                users=n,
                of_previous=n / int(at_least[k - 1]) if k and at_least[k - 1] else None,
                of_first=n / int(at_least[0]) if at_least[0] else 0.0,
            )
        )
    return out


@dataclass(frozen=True)
class MiningResult:
    """What one kind's mining found, and its wall time (for the report)."""

    kind: str
    patterns: List[Pattern]
    seconds: float
