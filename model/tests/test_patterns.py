"""The conversion-path miner (issue 16, §4) against a brute-force enumerator, hand-made funnels,
the gap rules, and the ``patterns`` command's report."""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
import pytest

from seqrec_model.cli import main
from seqrec_model.data import BEHAVIOR_CODES
from seqrec_model.patterns import PatternSpaceTooLarge, event_log, format_pattern, funnel, mine
from seqrec_model.patterns import resolve_min_support

VIEW, CLICK, CART, PURCHASE = (BEHAVIOR_CODES[b] for b in ("view", "click", "cart", "purchase"))

# A user's history for these tests: [(behavior, item, time)], oldest first.
History = List[Tuple[int, int, float]]


def brute_force(
    histories: Sequence[History],
    max_length: int,
    max_gap: Optional[int] = None,
    max_time_gap: Optional[float] = None,
) -> Tuple[Dict[tuple, int], Dict[tuple, int]]:
    """Supports of every concrete pattern and every shape up to ``max_length``: each user's every
    subsequence of events (positions i1 < i2 < ..., gap rules between consecutive positions) is
    one occurrence; its shape names items A, B, ... by first appearance. Steps of NaN time are
    not mined."""
    items_users: Dict[tuple, Set[int]] = defaultdict(set)
    shapes_users: Dict[tuple, Set[int]] = defaultdict(set)
    for u, history in enumerate(histories):
        events = [e for e in history if not math.isnan(e[2])]
        for k in range(1, max_length + 1):
            for positions in itertools.combinations(range(len(events)), k):
                if any(
                    (max_gap is not None and b - a - 1 > max_gap)
                    or (max_time_gap is not None and events[b][2] - events[a][2] > max_time_gap)
                    for a, b in zip(positions, positions[1:])
                ):
                    continue
                matched = [events[p] for p in positions]
                items_users[tuple((b, i) for b, i, _ in matched)].add(u)
                letters: Dict[int, int] = {}
                shape = tuple((b, letters.setdefault(i, len(letters))) for b, i, _ in matched)
                shapes_users[shape].add(u)
    return (
        {p: len(us) for p, us in items_users.items()},
        {p: len(us) for p, us in shapes_users.items()},
    )


def log_of(histories: Sequence[History], max_gap=None, max_time_gap=None):
    return event_log(
        [f"u{u}" for u in range(len(histories))],
        [np.asarray([i for _, i, _ in h], dtype=np.int64) for h in histories],
        [np.asarray([b for b, _, _ in h], dtype=np.int64) for h in histories],
        [np.asarray([t for _, _, t in h], dtype=np.float64) for h in histories],
        max_gap=max_gap,
        max_time_gap=max_time_gap,
    )


def supports(histories, kind, min_support=1, max_length=4, **gaps) -> Dict[tuple, int]:
    found = mine(log_of(histories, **gaps), kind, min_support, max_length)
    return {p.elements: p.support for p in found}


def random_histories(seed: int, users: int = 9, max_events: int = 9) -> List[History]:
    """Few items and behaviors so that patterns repeat across users; equal times occur, and one
    user in three has a step of unknown (NaN) time, as RetailRocket's held-out purchase."""
    rng = random.Random(seed)
    histories = []
    for u in range(users):
        t = 0.0
        history: History = []
        for _ in range(rng.randint(0, max_events)):
            t += rng.choice([0, 1, 2, 5, 10])
            history.append((rng.choice([VIEW, VIEW, CART, PURCHASE, CLICK]), rng.randint(1, 4), t))
        if history and u % 3 == 0:
            history.append((PURCHASE, rng.randint(1, 4), float("nan")))
        histories.append(history)
    return histories


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "max_gap, max_time_gap", [(None, None), (0, None), (1, None), (2, None), (None, 5.0), (1, 6.0)]
)
def test_miner_equals_brute_force(seed: int, max_gap, max_time_gap) -> None:
    histories = random_histories(seed)
    max_length = 3 if max_gap is None and max_time_gap is None else 4
    expected_items, expected_shapes = brute_force(histories, max_length, max_gap, max_time_gap)
    for min_support in (1, 2, 4):
        log = log_of(histories, max_gap, max_time_gap)
        for kind, expected in (("items", expected_items), ("shapes", expected_shapes)):
            found = mine(log, kind, min_support, max_length)
            want = {p: s for p, s in expected.items() if s >= min_support}
            assert {p.elements: p.support for p in found} == want, (kind, min_support)
            for p in found:  # confidence is support over the support of the prefix
                if len(p.elements) == 1:
                    assert p.prefix_support is None and p.confidence is None
                else:
                    assert p.prefix_support == expected[p.elements[:-1]]
            assert [p.support for p in found] == sorted((p.support for p in found), reverse=True)


def test_funnel_purchase_abandoned_cart_and_purchase_without_cart() -> None:
    histories = [
        [(VIEW, 1, 0), (CART, 1, 1), (PURCHASE, 1, 2)],  # the full funnel
        [(VIEW, 1, 0), (CART, 1, 1), (VIEW, 2, 2)],  # abandoned cart
        [(VIEW, 2, 0), (VIEW, 1, 1), (PURCHASE, 1, 2)],  # bought after viewing another item
        [(CART, 3, 0), (VIEW, 3, 1)],  # cart before the view: no funnel step beyond view
    ]
    shapes = supports(histories, "shapes")
    A, B = 0, 1
    assert shapes[((VIEW, A), (CART, A), (PURCHASE, A))] == 1
    assert shapes[((VIEW, A), (CART, A))] == 2
    assert shapes[((VIEW, A), (VIEW, B), (PURCHASE, B))] == 1
    assert ((VIEW, A), (VIEW, B), (PURCHASE, A)) not in shapes
    assert shapes[((CART, A), (VIEW, B))] == 1  # the abandoned cart, then another item
    assert shapes[((CART, A), (VIEW, A))] == 1
    found = {p.elements: p for p in mine(log_of(histories), "shapes", 1, 3)}
    funnel_path = found[((VIEW, A), (CART, A), (PURCHASE, A))]
    assert funnel_path.confidence == pytest.approx(1 / 2)  # 2 users carted a viewed item, 1 bought
    assert found[((VIEW, A), (CART, A))].confidence == pytest.approx(2 / 4)  # all 4 viewed
    steps = funnel(log_of(histories))
    assert [(s.behavior, s.users) for s in steps] == [("view", 4), ("cart", 2), ("purchase", 1)]
    assert steps[0].of_previous is None
    assert steps[1].of_previous == pytest.approx(0.5) and steps[2].of_previous == pytest.approx(0.5)
    assert steps[2].of_first == pytest.approx(0.25)
    items = supports(histories, "items")
    assert items[((VIEW, 1), (CART, 1), (PURCHASE, 1))] == 1
    assert items[((VIEW, 1), (PURCHASE, 1))] == 2


def test_funnel_has_click_when_the_data_has_clicks_and_counts_users_not_items() -> None:
    histories = [
        [(VIEW, 1, 0), (CLICK, 1, 1), (CART, 1, 2), (VIEW, 2, 3), (CLICK, 2, 4)],
        [(VIEW, 1, 0), (CART, 1, 1), (PURCHASE, 1, 2)],  # skipped the click: view only
    ]
    steps = funnel(log_of(histories))
    assert [(s.behavior, s.users) for s in steps] == [
        ("view", 2),
        ("click", 1),
        ("cart", 1),
        ("purchase", 0),
    ]


def test_funnel_equals_the_shape_supports_without_gap_limit() -> None:
    histories = random_histories(11, users=30, max_events=12)
    shapes = supports(histories, "shapes", max_length=4)
    chain = ((VIEW, 0), (CLICK, 0), (CART, 0), (PURCHASE, 0))
    steps = funnel(log_of(histories))
    assert [s.behavior for s in steps] == ["view", "click", "cart", "purchase"]
    for k, step in enumerate(steps):
        assert step.users == shapes.get(chain[: k + 1], 0)


def test_max_gap_counts_the_events_between_matched_events() -> None:
    history = [(VIEW, 1, 0), (VIEW, 2, 1), (VIEW, 3, 2), (CART, 1, 3)]
    path = ((VIEW, 1), (CART, 1))
    assert path not in supports([history], "items", max_gap=1)  # 2 events in between
    assert supports([history], "items", max_gap=2)[path] == 1
    assert supports([history], "items", max_gap=0)[((VIEW, 2), (VIEW, 3))] == 1
    assert ((VIEW, 1), (VIEW, 3)) not in supports([history], "items", max_gap=0)
    # the gap applies between each pair of consecutive matched events, not to the whole span
    spread = supports([history], "shapes", max_gap=0)
    assert spread[((VIEW, 0), (VIEW, 1), (VIEW, 2), (CART, 0))] == 1


def test_max_time_gap_is_inclusive_seconds_between_consecutive_matched_events() -> None:
    history = [(VIEW, 7, 0.0), (CART, 7, 100.0), (PURCHASE, 7, 250.0)]
    path = ((VIEW, 7), (CART, 7))
    assert path not in supports([history], "items", max_time_gap=99.0)
    assert supports([history], "items", max_time_gap=100.0)[path] == 1
    full = ((VIEW, 7), (CART, 7), (PURCHASE, 7))
    assert supports([history], "items", max_time_gap=150.0)[full] == 1
    assert full not in supports([history], "items", max_time_gap=149.0)


def test_different_letters_bind_different_items() -> None:
    repeat = [[(VIEW, 5, 0), (VIEW, 5, 1)]]
    shapes = supports(repeat, "shapes")
    assert shapes[((VIEW, 0), (VIEW, 0))] == 1
    assert ((VIEW, 0), (VIEW, 1)) not in shapes
    other = [[(VIEW, 5, 0), (VIEW, 6, 1)]]
    assert set(supports(other, "shapes")) == {((VIEW, 0),), ((VIEW, 0), (VIEW, 1))}


def test_support_counts_users_once_however_often_they_repeat_a_path() -> None:
    histories = [[(VIEW, 1, 0), (CART, 1, 1)] * 3, [(VIEW, 1, 0), (CART, 1, 1)]]
    assert supports(histories, "items")[((VIEW, 1), (CART, 1))] == 2
    assert supports(histories, "shapes")[((VIEW, 0), (CART, 0))] == 2


def test_unknown_time_steps_are_left_out_and_counted() -> None:
    histories = [[(VIEW, 1, 0), (PURCHASE, 1, float("nan"))], [(PURCHASE, 2, float("nan"))]]
    log = log_of(histories)
    assert log.dropped_untimed == 2 and log.num_users == 1 and log.num_events == 1
    assert supports(histories, "items") == {((VIEW, 1),): 1}


def test_min_support_as_count_or_fraction() -> None:
    assert resolve_min_support("3", 100) == 3
    assert resolve_min_support("0.01", 2174) == 22  # 21.74 users rounded up
    assert resolve_min_support("0.5", 10) == 5
    for bad in ("0", "-2", "1.5", "0.0", "x"):
        with pytest.raises(ValueError):
            resolve_min_support(bad, 100)


def test_refuses_a_pattern_space_beyond_the_caps() -> None:
    histories = [[(VIEW, i, float(i)) for i in range(1, 60)] for _ in range(3)]
    log = log_of(histories)
    with pytest.raises(PatternSpaceTooLarge, match="candidate extensions"):
        mine(log, "shapes", 2, 3, max_candidates=1000)
    with pytest.raises(PatternSpaceTooLarge, match="would project"):
        mine(log, "shapes", 2, 3, max_states=1000)
    assert len(mine(log_of(histories, max_gap=1), "shapes", 2, 3, max_states=1000)) == 3


def test_format_pattern_names_behaviors_items_and_variables() -> None:
    found = mine(log_of([[(VIEW, 1, 0), (CART, 2, 1)]]), "shapes", 1, 2)
    assert format_pattern(found[-1], "shapes") == "view A → cart B"
    concrete = mine(log_of([[(VIEW, 1, 0), (CART, 2, 1)]]), "items", 1, 2)
    assert format_pattern(concrete[-1], "items", ["sku-1", "sku-2"]) == "view sku-1 → cart sku-2"


def _write_retailrocket(folder: Path) -> Path:
    rows = [
        "user_id,item_id,behavior,timestamp",
        "0,10,view,1000",
        "0,10,cart,1010",
        "0,10,buy,1020",
        "1,10,view,1000",
        "1,10,cart,1005",
        "1,11,view,1010",
        "2,12,view,1000",
        "2,10,view,1001",
        "2,10,buy,1002",
    ]
    (folder / "train.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "test_buy.csv").write_text("user_id,item_id\n0,11\n1,12\n", encoding="utf-8")
    return folder / "train.csv"


def test_patterns_command_writes_report_and_chart(tmp_path: Path) -> None:
    train = _write_retailrocket(tmp_path)
    out = tmp_path / "out" / "conversion.md"
    out.parent.mkdir()
    argv = ["patterns", "--format", "retailrocket", "--data", str(train), "--min-support", "0.5"]
    assert main(argv + ["--max-gap", "3", "--out", str(out)]) == 0
    report = out.read_text(encoding="utf-8")
    chart = tmp_path / "out" / "conversion-funnel.png"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![funnel](conversion-funnel.png)" in report
    assert "minimum support: 2 users (0.5 given; 66.7 % of 3)" in report
    assert "2 steps of unknown time" in report  # the held-out purchases are not mined
    assert "| users per behavior | view 3, cart 2, purchase 2 |" in report
    assert "| view → cart → purchase | 1 | 50.0 % | 33.3 % |" in report
    assert "| view A → cart A | 2 | 66.7 % | 0.667 |" in report
    assert "| view A → purchase A | 2 | 66.7 % | 0.667 |" in report
    assert "| view 10 → cart 10 | 2 | 66.7 % | 0.667 |" in report
    assert "no category-level paths" in report


def test_patterns_command_explains_an_oversized_search(tmp_path: Path, capsys) -> None:
    train = _write_retailrocket(tmp_path)
    argv = ["patterns", "--format", "retailrocket", "--data", str(train), "--min-support", "1"]
    assert main(argv + ["--max-candidates", "1", "--out", str(tmp_path / "r.md")]) == 2
    assert "give a max gap" in capsys.readouterr().err
