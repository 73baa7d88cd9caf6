"""Interaction readers, item vocabulary and the leave-one-out split.

Every reader returns an :class:`InteractionData`: one chronologically ordered item sequence per
user, with items mapped to dense indices ``1..N`` (index 0 is reserved for padding). Indices are
assigned in order of first appearance after the interactions are put in time order (a stable
sort, so ties keep file order), which makes the vocabulary deterministic for a given file.
"""

from __future__ import annotations

import csv
import os
import sys
from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from seqrec_model.events import EVENT_TYPES, FORGET, InvalidEvent, parse_event

FORMATS = ("events", "ml-1m", "movielens-csv", "pairs", "retailrocket")

#: Behavior codes of a step, as the model's ``behaviors`` input and the job's state carry them:
#: the job's ``EventType`` ordinal + 1 (0 is padding). RetailRocket's ``buy`` is a purchase.
BEHAVIOR_CODES: Dict[str, int] = {name: i + 1 for i, name in enumerate(EVENT_TYPES)}
PADDING_BEHAVIOR = 0
#: Repeat rules: what consecutive events of a user on one item become. ``first``: one step, with
#: the first event's behavior (what the job did before behavior types); ``strongest``: one step,
#: upgraded to the strongest behavior of the run (view < click < cart < purchase; a rating, the
#: only behavior of rating data, ranks with a purchase); ``all``: every event is a step.
REPEAT_RULES = ("first", "strongest", "all")
#: Strength of each behavior code for the ``strongest`` rule (index = code).
_STRENGTH = (0, 1, 2, 3, 4, 4)


class DataFormatError(ValueError):
    """A malformed input line; the message starts with ``path:line:``. ``reason`` is the job's
    dead-letter reason for an events line (``invalid_timestamp``), None for other formats."""

    def __init__(self, path: str, line: int, message: str, reason: Optional[str] = None) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class InteractionData:
    """Per-user item sequences (oldest first) over a dense item vocabulary."""

    name: str
    format: str
    user_ids: List[str]
    item_ids: List[str]  # item_ids[i - 1] is the external id of item index i
    sequences: List[np.ndarray]  # int64 item indices, one array per user, oldest first
    skipped_lines: int = 0
    duplicate_events: int = 0
    skipped_by_reason: Dict[str, int] = field(default_factory=dict)  # events: the job's reasons
    # events: records left out because their user asked to be forgotten (events and requests)
    forgotten_records: int = 0
    # Timed formats: times[u][j] = time of sequences[u][j] in epoch seconds (float64); None for
    # formats without timestamps (ml-1m, pairs).
    times: Optional[List[np.ndarray]] = None
    # Typed formats (events, retailrocket): behaviors[u][j] = behavior code (BEHAVIOR_CODES) of
    # sequences[u][j]; None for formats without behavior types.
    behaviors: Optional[List[np.ndarray]] = None
    repeats: str = "first"  # the repeat rule the steps were built with (REPEAT_RULES)

    @property
    def num_users(self) -> int:
        return len(self.user_ids)

    @property
    def num_items(self) -> int:
        return len(self.item_ids)

    @property
    def num_interactions(self) -> int:
        return int(sum(len(s) for s in self.sequences))

    def item_index(self) -> Dict[str, int]:
        return {item: i + 1 for i, item in enumerate(self.item_ids)}

    def summary(self) -> Dict[str, object]:
        return {
            "name": self.name,
            "format": self.format,
            "users": self.num_users,
            "items": self.num_items,
            "interactions": self.num_interactions,
        }


@dataclass
class _Builder:
    """Collects (user, item, time) records and turns them into an InteractionData."""

    users: List[str] = field(default_factory=list)
    items: List[str] = field(default_factory=list)
    times: List[float] = field(default_factory=list)
    behaviors: List[int] = field(default_factory=list)
    time_scale: float = 1.0  # multiplies the recorded times into epoch seconds

    def add(self, user: str, item: str, time: float = 0.0, behavior: int = PADDING_BEHAVIOR) -> None:
        self.users.append(user)
        self.items.append(item)
        self.times.append(time)
        self.behaviors.append(behavior)

    def build(
        self,
        name: str,
        fmt: str,
        timed: bool,
        errors: Optional[_LineErrors] = None,
        duplicates: int = 0,
        repeats: Optional[str] = None,
        unknown_time: Optional[set] = None,
        typed: bool = False,
    ) -> InteractionData:
        """``repeats``: the repeat rule (:data:`REPEAT_RULES`) for consecutive events of a user on
        one item; None keeps every record (rating data: one record per user and item anyway).
        ``typed``: the records carry behavior codes, kept per step. ``unknown_time``: record
        numbers ordered by their time but whose ``times`` entry is NaN (RetailRocket's held-out
        purchases)."""
        if repeats is not None and repeats not in REPEAT_RULES:
            raise ValueError(f"unknown repeat rule {repeats!r}; expected one of {REPEAT_RULES}")
        order: Iterable[int] = range(len(self.users))
        if timed:
            # sorted() is stable: equal timestamps keep their file order.
            order = sorted(order, key=self.times.__getitem__)
        user_index: Dict[str, int] = {}
        item_index: Dict[str, int] = {}
        per_user: List[List[int]] = []
        per_user_t: List[List[float]] = []
        per_user_b: List[List[int]] = []
        for i in order:
            item = self.items[i]
            idx = item_index.get(item)
            if idx is None:
                idx = len(item_index) + 1
                item_index[item] = idx
            user = self.users[i]
            u = user_index.get(user)
            if u is None:
                u = len(per_user)
                user_index[user] = u
                per_user.append([])
                per_user_t.append([])
                per_user_b.append([])
            per_user[u].append(idx)
            per_user_b[u].append(self.behaviors[i])
            unknown = unknown_time is not None and i in unknown_time
            per_user_t[u].append(float("nan") if unknown else self.times[i] * self.time_scale)
        sequences = [np.asarray(s, dtype=np.int64) for s in per_user]
        behaviors = [np.asarray(b, dtype=np.int64) for b in per_user_b]
        times = [np.asarray(t, dtype=np.float64) for t in per_user_t]
        if repeats is not None and repeats != "all":
            for u in range(len(sequences)):
                kept, behaviors[u] = apply_repeats(sequences[u], behaviors[u], repeats)
                sequences[u], times[u] = sequences[u][kept], times[u][kept]
        return InteractionData(
            name=name,
            format=fmt,
            user_ids=list(user_index),
            item_ids=list(item_index),
            sequences=sequences,
            skipped_lines=errors.count if errors else 0,
            duplicate_events=duplicates,
            skipped_by_reason=dict(errors.by_reason) if errors else {},
            times=times if timed else None,
            behaviors=behaviors if typed else None,
            repeats=repeats or "all",
        )


def apply_repeats(
    items: np.ndarray, behaviors: np.ndarray, rule: str
) -> Tuple[np.ndarray, np.ndarray]:
    """The steps of one user's events (every event a step, in order) by the repeat rule
    (:data:`REPEAT_RULES`): the indices of the events that start a step, and each step's
    behavior. Under ``first`` and ``strongest`` a run of consecutive events on one item (view,
    click, cart of one product) is one step, as the job's UserState counts it."""
    if rule not in REPEAT_RULES:
        raise ValueError(f"unknown repeat rule {rule!r}; expected one of {REPEAT_RULES}")
    starts: List[int] = []
    steps: List[int] = []
    previous = None
    for j, (item, behavior) in enumerate(zip(items.tolist(), behaviors.tolist())):
        if rule != "all" and item == previous:
            if rule == "strongest" and _STRENGTH[behavior] > _STRENGTH[steps[-1]]:
                steps[-1] = behavior
            continue
        starts.append(j)
        steps.append(behavior)
        previous = item
    return np.asarray(starts, dtype=np.int64), np.asarray(steps, dtype=np.int64)


class _LineErrors:
    """Raises DataFormatError, or counts and skips when skip_malformed is set."""

    def __init__(self, path: str, skip: bool) -> None:
        self.path = path
        self.skip = skip
        self.count = 0
        self.by_reason: Dict[str, int] = {}
        self.first: Optional[DataFormatError] = None

    def handle(self, err: DataFormatError) -> None:
        if not self.skip:
            raise err
        self.count += 1
        if err.reason is not None:
            self.by_reason[err.reason] = self.by_reason.get(err.reason, 0) + 1
        if self.first is None:
            self.first = err

    def report(self) -> None:
        if self.count:
            reasons = ", ".join(f"{r} {n}" for r, n in sorted(self.by_reason.items()))
            print(
                f"warning: skipped {self.count} malformed line(s) in {self.path} "
                f"({reasons + '; ' if reasons else ''}first: {self.first})",
                file=sys.stderr,
            )


def _lines(path: str) -> Iterator[Tuple[int, str]]:
    with open(path, "r", encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            yield number, line.rstrip("\r\n")


def _record_lines(path: str) -> Iterator[Tuple[int, bytes]]:
    """Lines as bytes, without the line ending: a record's bytes, as the job would receive them
    (read as text, an invalid byte would fail the whole file and a lone CR would split a line)."""
    with open(path, "rb") as f:
        for number, line in enumerate(f, start=1):
            line = line[:-1] if line.endswith(b"\n") else line
            yield number, line[:-1] if line.endswith(b"\r") else line


def default_name(path: str) -> str:
    """A dataset name derived from its path: ``ml-1m/sequences.txt`` -> ``ml-1m``."""
    base = os.path.splitext(os.path.basename(path))[0]
    parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
    generic = {"sequences", "interactions", "ratings", "events", "data", "train"}
    return parent if base in generic and parent else base


def _wanted_codes(event_types: Optional[Sequence[str]]) -> Optional[set]:
    if event_types is None:
        return None
    bad = sorted(set(event_types) - set(EVENT_TYPES))
    if bad:
        raise ValueError(f"unknown event type(s) {bad}; expected a subset of {EVENT_TYPES}")
    return {BEHAVIOR_CODES[t] for t in event_types}


def read_events(
    path: str,
    name: Optional[str] = None,
    skip_malformed: bool = False,
    event_types: Optional[Sequence[str]] = None,
    repeats: str = "first",
) -> InteractionData:
    """Project event JSON lines: ``{"user_id", "item_id", "event_type"?, "ts", "event_id"?}``.

    Each non-empty line is one record of the job's input topic and is accepted or rejected exactly
    as the job's parser does (:func:`seqrec_model.events.parse_event`; the cases both sides are held
    to are in ``contracts/behavior-events.jsonl``), so training never sees an event the stream
    would dead-letter. A rejected line stops the read, or with ``skip_malformed`` is skipped and
    counted by the job's reason (``skipped_by_reason``).

    ``ts`` is epoch milliseconds; events are ordered by ``ts`` (ties keep file order): the job's
    lateness and future-skew rules depend on arrival and Kafka time, which a file does not have.
    An event repeating an ``event_id`` of the same user (at-least-once delivery) is dropped and
    counted in ``duplicate_events``, as the job drops it. A user with a deletion request
    (``"event_type":"forget"``) anywhere in the file is left out entirely, as ``seqrec
    export-events`` leaves them out (``forgotten_records`` counts their lines). Each step keeps its behavior type
    (``behaviors``); consecutive events of a user on the same item (the view, click, cart funnel)
    become steps by the ``repeats`` rule (:data:`REPEAT_RULES`; ``first`` = one step, as the
    streaming job counted them before behavior types). ``event_types`` restricts which event types
    count as interactions (default: all).
    """
    _wanted_codes(event_types)  # validates
    wanted = set(event_types) if event_types is not None else None
    errors = _LineErrors(path, skip_malformed)
    builder = _Builder(time_scale=1e-3)  # ts is epoch milliseconds
    forgotten = _forgotten_users(path)
    forgotten_records = 0
    seen_ids: set = set()
    duplicates = 0
    for number, line in _record_lines(path):
        if not line:
            continue
        try:
            event = parse_event(line)
        except InvalidEvent as e:
            errors.handle(DataFormatError(path, number, f"{e.detail} [{e.reason}]", e.reason))
            continue
        if event.user_id in forgotten:
            forgotten_records += 1
            continue
        if event.event_id is not None:
            key = (event.user_id, event.event_id)  # the job remembers event ids per user
            if key in seen_ids:
                duplicates += 1
                continue
            seen_ids.add(key)
        if wanted is not None and event.event_type not in wanted:
            continue
        builder.add(event.user_id, event.item_id, float(event.ts), BEHAVIOR_CODES[event.event_type])
    errors.report()
    data = builder.build(
        name or default_name(path), "events", True, errors, duplicates, repeats=repeats, typed=True
    )
    return replace(data, forgotten_records=forgotten_records)


def _forgotten_users(path: str) -> set:
    """Users with a deletion request in the file. Only lines that can hold one are parsed: those
    naming ``forget``, or with an escape that might spell it."""
    users = set()
    for _, line in _record_lines(path):
        if FORGET.encode() in line or b"\\u" in line:
            try:
                event = parse_event(line)
            except InvalidEvent:
                continue
            if event.event_type == FORGET:
                users.add(event.user_id)
    return users


def read_ml1m_sequences(
    path: str, name: Optional[str] = None, skip_malformed: bool = False
) -> InteractionData:
    """SASRec-preprocessed ML-1M: line i is user i, space-separated item ids, oldest first."""
    errors = _LineErrors(path, skip_malformed)
    builder = _Builder()
    for number, line in _lines(path):
        tokens = line.split()
        bad = next((t for t in tokens if not t.isdigit() or int(t) == 0), None)
        if bad is not None:
            errors.handle(
                DataFormatError(path, number, f"item id {bad!r} is not a positive integer")
            )
            continue
        user = str(number)
        for token in tokens:
            builder.add(user, token)
    errors.report()
    return builder.build(name or default_name(path), "ml-1m", False, errors)


def read_movielens_csv(
    path: str,
    name: Optional[str] = None,
    skip_malformed: bool = False,
    min_rating: Optional[float] = None,
) -> InteractionData:
    """MovieLens ``userId,movieId,rating,timestamp`` CSV with a header (timestamps in seconds).

    Every rating counts as an implicit interaction unless ``min_rating`` is given.
    """
    errors = _LineErrors(path, skip_malformed)
    builder = _Builder()
    with open(path, "r", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        required = ("userId", "movieId", "rating", "timestamp")
        if header is None or any(col not in header for col in required):
            raise DataFormatError(path, 1, f"expected a header with columns {', '.join(required)}")
        cols = [header.index(c) for c in required]
        width = len(header)
        for row in reader:
            number = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            try:
                if len(row) != width:
                    raise ValueError(f"expected {width} columns, got {len(row)}")
                user, item, rating_s, ts_s = (row[c].strip() for c in cols)
                if not user or not item:
                    raise ValueError("empty userId or movieId")
                try:
                    rating = float(rating_s)
                except ValueError:
                    raise ValueError(f"rating {rating_s!r} is not a number") from None
                try:
                    ts = int(ts_s)
                except ValueError:
                    raise ValueError(f"timestamp {ts_s!r} is not an integer") from None
            except ValueError as e:
                errors.handle(DataFormatError(path, number, str(e)))
                continue
            if min_rating is not None and rating < min_rating:
                continue
            builder.add(user, item, float(ts))
    errors.report()
    return builder.build(name or default_name(path), "movielens-csv", True, errors)


def read_pairs(
    path: str, name: Optional[str] = None, skip_malformed: bool = False
) -> InteractionData:
    """``user item`` per line; each user's lines are in time order (no timestamps)."""
    errors = _LineErrors(path, skip_malformed)
    builder = _Builder()
    for number, line in _lines(path):
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) != 2:
            errors.handle(
                DataFormatError(path, number, f"expected 'user item', got {len(tokens)} field(s)")
            )
            continue
        builder.add(tokens[0], tokens[1])
    errors.report()
    return builder.build(name or default_name(path), "pairs", False, errors)


# click: only in files converted from event data (``seqrec_model holdout``); RetailRocket has none
RETAILROCKET_BEHAVIORS = ("view", "click", "cart", "buy")
_RETAILROCKET_CODES = {
    "view": BEHAVIOR_CODES["view"],
    "click": BEHAVIOR_CODES["click"],
    "cart": BEHAVIOR_CODES["cart"],
    "buy": BEHAVIOR_CODES["purchase"],
}
RETAILROCKET_HELD_OUT = "test_buy.csv"


def read_retailrocket(
    path: str,
    name: Optional[str] = None,
    skip_malformed: bool = False,
    repeats: str = "first",
    event_types: Optional[Sequence[str]] = None,
) -> InteractionData:
    """RetailRocket multi-behaviour split: ``train.csv`` = ``user_id,item_id,behavior,timestamp``
    (behavior view/cart/buy, unix seconds) with a header.

    Every behaviour is an interaction and each step keeps it (``behaviors``; ``buy`` is a
    purchase); a user's events are put in time order (stable on ties). Consecutive events of a user
    on the same item (view, cart, buy of one product) become steps by the ``repeats`` rule, as in
    the ``events`` reader. If ``test_buy.csv`` (``user_id,item_id``,
    one held-out purchase per user) lies next to ``path``, each listed user's purchase is appended
    as the last step of their sequence, so the leave-one-out split makes it the test target and
    the last training event the validation target: the data's own protocol. Its time is unknown:
    it is ordered after the user's training events and its entry in ``times`` is NaN.
    ``event_types`` (event-type names: ``purchase`` for ``buy``) keeps only those behaviors of
    ``train.csv`` (e.g. the purchases-only baseline); a held-out purchase is kept for every user
    with a kept training event.
    """
    wanted = _wanted_codes(event_types)
    errors = _LineErrors(path, skip_malformed)
    builder = _Builder()
    with open(path, "r", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is not None and "timestamp_ms" in header and "timestamp" not in header:
            # converted event data (``holdout``) keeps the events' milliseconds
            header = ["timestamp" if c == "timestamp_ms" else c for c in header]
            builder.time_scale = 1e-3
        required = ("user_id", "item_id", "behavior", "timestamp")
        if header is None or any(col not in header for col in required):
            raise DataFormatError(path, 1, f"expected a header with columns {', '.join(required)}")
        cols = [header.index(c) for c in required]
        width = len(header)
        for row in reader:
            number = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            try:
                if len(row) != width:
                    raise ValueError(f"expected {width} columns, got {len(row)}")
                user, item, behavior, ts_s = (row[c].strip() for c in cols)
                if not user or not item:
                    raise ValueError("empty user_id or item_id")
                if behavior not in RETAILROCKET_BEHAVIORS:
                    raise ValueError(
                        f"behavior {behavior!r} is not one of {', '.join(RETAILROCKET_BEHAVIORS)}"
                    )
                try:
                    ts = int(ts_s)
                except ValueError:
                    raise ValueError(f"timestamp {ts_s!r} is not an integer") from None
            except ValueError as e:
                errors.handle(DataFormatError(path, number, str(e)))
                continue
            code = _RETAILROCKET_CODES[behavior]
            if wanted is None or code in wanted:
                builder.add(user, item, float(ts), code)
    held_out = os.path.join(os.path.dirname(os.path.abspath(path)), RETAILROCKET_HELD_OUT)
    held: set = set()
    if os.path.isfile(held_out):
        last: Dict[str, float] = {}
        for user, t in zip(builder.users, builder.times):
            last[user] = max(t, last.get(user, t))
        with open(held_out, "r", encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None or any(col not in header for col in ("user_id", "item_id")):
                raise DataFormatError(
                    held_out, 1, "expected a header with columns user_id, item_id"
                )
            cu, ci = header.index("user_id"), header.index("item_id")
            for row in reader:
                if not row:
                    continue
                user, item = row[cu].strip(), row[ci].strip()
                if user in last:  # a purchase of a user without history has no input
                    # appended after all of the user's training events (stable sort, equal
                    # time), then marked as of unknown time
                    builder.add(user, item, last[user], BEHAVIOR_CODES["purchase"])
                    held.add(len(builder.times) - 1)
    errors.report()
    return builder.build(
        name or default_name(path),
        "retailrocket",
        True,
        errors,
        repeats=repeats,
        unknown_time=held,
        typed=True,
    )


def load(
    fmt: str,
    path: str,
    name: Optional[str] = None,
    skip_malformed: bool = False,
    min_rating: Optional[float] = None,
    event_types: Optional[Sequence[str]] = None,
    repeats: str = "first",
) -> InteractionData:
    """Read ``path`` in format ``fmt`` (one of :data:`FORMATS`); ``repeats`` applies to the typed
    formats (events, retailrocket)."""
    if repeats not in REPEAT_RULES:
        raise ValueError(f"unknown repeat rule {repeats!r}; expected one of {REPEAT_RULES}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"data file not found: {path}")
    if fmt == "events":
        data = read_events(path, name, skip_malformed, event_types, repeats)
    elif fmt == "ml-1m":
        data = read_ml1m_sequences(path, name, skip_malformed)
    elif fmt == "movielens-csv":
        data = read_movielens_csv(path, name, skip_malformed, min_rating)
    elif fmt == "pairs":
        data = read_pairs(path, name, skip_malformed)
    elif fmt == "retailrocket":
        data = read_retailrocket(path, name, skip_malformed, repeats, event_types)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    if data.num_items == 0:
        raise ValueError(f"{path}: no interactions found")
    return data


@dataclass(frozen=True)
class EvalSet:
    """Held-out targets: for user ``users[j]``, predict ``targets[j]`` after ``inputs[j]``.
    Typed data also carries each input step's behavior and each target's behavior."""

    users: np.ndarray
    inputs: List[np.ndarray]
    targets: np.ndarray
    input_behaviors: Optional[List[np.ndarray]] = None
    target_behaviors: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.targets)


@dataclass(frozen=True)
class Split:
    """Leave-one-out: per user, last item = test, second to last = validation, rest = train."""

    train: List[np.ndarray]
    validation: EvalSet
    test: EvalSet
    train_behaviors: Optional[List[np.ndarray]] = None


def held_out_last(data: "InteractionData") -> Optional[List[bool]]:
    """Per user, whether the last step is a held-out target of unknown time (RetailRocket's
    ``test_buy.csv``): it must never be trained on. None if the data has no such step."""
    if data.times is None:
        return None
    flags = [len(t) > 0 and bool(np.isnan(t[-1])) for t in data.times]
    return flags if any(flags) else None


def leave_one_out(
    sequences: Sequence[np.ndarray],
    behaviors: Optional[Sequence[np.ndarray]] = None,
    held_out: Optional[Sequence[bool]] = None,
) -> Split:
    """Split every user with >= 3 items; users with fewer items are entirely training data,
    except a step ``held_out`` marks (:func:`held_out_last`): a held-out target is left out of
    the training data even where its user is too short to be evaluated.
    ``behaviors`` (typed data: one code array per sequence) are split alongside."""
    train: List[np.ndarray] = []
    users: List[int] = []
    v_in: List[np.ndarray] = []
    v_t: List[int] = []
    t_in: List[np.ndarray] = []
    t_t: List[int] = []
    typed = behaviors is not None
    train_b: List[np.ndarray] = []
    v_in_b: List[np.ndarray] = []
    v_t_b: List[int] = []
    t_in_b: List[np.ndarray] = []
    t_t_b: List[int] = []
    for u, seq in enumerate(sequences):
        seq = np.asarray(seq, dtype=np.int64)
        beh = np.asarray(behaviors[u], dtype=np.int64) if typed else None  # type: ignore[index]
        if len(seq) < 3:
            keep = len(seq) - 1 if held_out is not None and held_out[u] else len(seq)
            train.append(seq[:keep])
            if beh is not None:
                train_b.append(beh[:keep])
            continue
        train.append(seq[:-2])
        users.append(u)
        v_in.append(seq[:-2])
        v_t.append(int(seq[-2]))
        t_in.append(seq[:-1])
        t_t.append(int(seq[-1]))
        if beh is not None:
            train_b.append(beh[:-2])
            v_in_b.append(beh[:-2])
            v_t_b.append(int(beh[-2]))
            t_in_b.append(beh[:-1])
            t_t_b.append(int(beh[-1]))
    uarr = np.asarray(users, dtype=np.int64)
    return Split(
        train=train,
        validation=EvalSet(
            uarr,
            v_in,
            np.asarray(v_t, dtype=np.int64),
            v_in_b if typed else None,
            np.asarray(v_t_b, dtype=np.int64) if typed else None,
        ),
        test=EvalSet(
            uarr.copy(),
            t_in,
            np.asarray(t_t, dtype=np.int64),
            t_in_b if typed else None,
            np.asarray(t_t_b, dtype=np.int64) if typed else None,
        ),
        train_behaviors=train_b if typed else None,
    )


def item_counts(sequences: Iterable[np.ndarray], num_items: int) -> np.ndarray:
    """Occurrences of each item index (length ``num_items + 1``; entry 0 is padding = 0)."""
    parts = [np.asarray(s, dtype=np.int64) for s in sequences]
    flat = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    counts = np.bincount(flat, minlength=num_items + 1)[: num_items + 1].astype(np.int64)
    counts[0] = 0
    return counts


def left_pad(sequences: Sequence[np.ndarray], length: int) -> np.ndarray:
    """Keep the last ``length`` items of each sequence and left-pad with 0 to ``length``."""
    out = np.zeros((len(sequences), length), dtype=np.int64)
    for row, seq in enumerate(sequences):
        tail = np.asarray(seq[-length:], dtype=np.int64) if length > 0 else seq[:0]
        if len(tail):
            out[row, length - len(tail) :] = tail
    return out


def with_vocabulary(data: InteractionData, item_ids: Sequence[str]) -> InteractionData:
    """The same users re-indexed to another vocabulary (a trained model's): items the vocabulary
    lacks are dropped from the sequences, as the streaming job keeps them out of the model input.
    Used to evaluate a model on held-out users whose data built its own vocabulary."""
    index = {item: i + 1 for i, item in enumerate(item_ids)}
    own = data.item_ids
    sequences = []
    times: Optional[List[np.ndarray]] = [] if data.times is not None else None
    behaviors: Optional[List[np.ndarray]] = [] if data.behaviors is not None else None
    for u, seq in enumerate(data.sequences):
        keep = np.asarray([own[x - 1] in index for x in seq.tolist()], dtype=bool)
        kept = [index[own[x - 1]] for x in seq.tolist() if own[x - 1] in index]
        sequences.append(np.asarray(kept, dtype=np.int64))
        if times is not None and data.times is not None:
            times.append(np.asarray(data.times[u], dtype=np.float64)[keep])
        if behaviors is not None and data.behaviors is not None:
            behaviors.append(np.asarray(data.behaviors[u], dtype=np.int64)[keep])
    return InteractionData(
        name=data.name,
        format=data.format,
        user_ids=list(data.user_ids),
        item_ids=list(item_ids),
        sequences=sequences,
        skipped_lines=data.skipped_lines,
        duplicate_events=data.duplicate_events,
        skipped_by_reason=dict(data.skipped_by_reason),
        times=times,
        behaviors=behaviors,
        repeats=data.repeats,
    )
