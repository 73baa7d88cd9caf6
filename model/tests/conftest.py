"""Shared fixtures: a tiny synthetic event stream in the project's events JSON-lines format."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import List

import pytest


def synthetic_events(
    users: int = 120, items: int = 40, min_len: int = 4, max_len: int = 30, seed: int = 7
) -> List[dict]:
    """Each user walks a cycle over the catalog (item k is followed by item k+1, sometimes k+2),
    so the next item is predictable from the last one. Events of all users are interleaved in
    time; a few share timestamps."""
    rng = random.Random(seed)
    events = []
    for u in range(users):
        length = rng.randint(min_len, max_len)
        item = rng.randrange(items)
        ts = 1_700_000_000_000 + rng.randrange(1_000_000)
        for _ in range(length):
            events.append(
                {
                    "user_id": f"u{u}",
                    "item_id": f"sku-{item}",
                    "event_type": rng.choice(["view", "click", "cart", "purchase", "rate"]),
                    "ts": ts,
                    "event_id": f"e{len(events)}",
                }
            )
            item = (item + (1 if rng.random() < 0.9 else 2)) % items
            ts += rng.randrange(0, 60_000)
    rng.shuffle(events)  # file order is not time order
    return events


def write_jsonl(path: Path, rows: List[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def events_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("events") / "events.jsonl", synthetic_events())
