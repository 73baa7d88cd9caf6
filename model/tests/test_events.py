"""The events reader against the contract the job is held to: ``contracts/behavior-events.jsonl``
(format in ``contracts/README.md``). The job's ``EventContractTest`` checks the same file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import List, Optional

import pytest

from seqrec_model.data import read_events
from seqrec_model.events import FORGET, InvalidEvent, parse_event

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "behavior-events.jsonl"
CASES = [json.loads(line) for line in CONTRACT.read_text(encoding="utf-8").split("\n") if line]
# Contexts a file reader applies: the record alone, and event ids the same user already used.
# Kafka metadata (a null value, the record timestamp) and arrival order are not in a file.
READER_CONTEXTS = ("record", "user_history")


def record_bytes(value) -> Optional[bytes]:
    """A case's value: None (a tombstone), a string (its UTF-8 bytes) or a list of parts."""
    if value is None or isinstance(value, str):
        return None if value is None else value.encode("utf-8")
    out = b""
    for part in value:
        if isinstance(part, str):
            out += part.encode("utf-8")
        elif "repeat" in part:
            out += (part["repeat"] * part["times"]).encode("utf-8")
        else:
            out += bytes.fromhex(part["hex"])
    return out


def cases(*contexts: str) -> List:
    return [pytest.param(c, id=c["case"]) for c in CASES if c["context"] in contexts]


def read_lines(tmp_path: Path, case: dict):
    """The case's history and value as the lines of a file (a tombstone is no line at all)."""
    values = [record_bytes(v) for v in case.get("history", []) + [case["value"]]]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(v + b"\n" for v in values if v is not None))
    return read_events(str(path), skip_malformed=True), values


def test_contract_names_only_known_contexts() -> None:
    assert {c["context"] for c in CASES} == {"record", "kafka", "user_history", "arrival_order"}
    assert len({c["case"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", cases("record"))
def test_record_gets_the_jobs_verdict(case: dict, tmp_path: Path) -> None:
    value = record_bytes(case["value"])
    try:
        event = parse_event(value)
        verdict = "forget" if event.event_type == FORGET else "accepted"
        fields = dataclasses.asdict(event)
    except InvalidEvent as e:
        verdict, fields = e.reason, None
    assert (verdict, fields) == (case["expect"], case.get("event"))

    # the same record as a line of a file: read, or skipped and counted by that reason
    data, _ = read_lines(tmp_path, case)
    if verdict == "forget":
        assert (data.num_interactions, data.forgotten_records) == (0, 1)
    elif verdict == "accepted":
        assert (data.user_ids, data.item_ids) == ([event.user_id], [event.item_id])
        assert data.skipped_by_reason == {}
    else:
        assert (data.num_interactions, data.skipped_by_reason) == (0, {verdict: 1})


@pytest.mark.parametrize("case", cases("user_history"))
def test_repeated_event_id_of_a_user_is_dropped_as_the_job_drops_it(
    case: dict, tmp_path: Path
) -> None:
    data, values = read_lines(tmp_path, case)
    last = parse_event(values[-1])
    read = dict(zip(data.user_ids, ([data.item_ids[i - 1] for i in s] for s in data.sequences)))
    assert data.skipped_lines == 0
    if case["expect"] == "duplicate_event_id":
        assert data.duplicate_events == 1
    else:
        assert case["expect"] == "accepted"
        assert data.duplicate_events == 0
        assert last.item_id in read[last.user_id]


def test_a_forgotten_user_is_left_out_before_and_after_the_request(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        '{"user_id":"a","item_id":"i1","ts":1}',
        '{"user_id":"b","item_id":"i1","ts":2}',
        '{"user_id":"a","event_type":"forget","ts":3}',
        '{"user_id":"a","item_id":"i2","ts":4}',
        '{"user_id":"b","item_id":"i2","ts":5}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = read_events(str(path))
    assert (data.user_ids, data.forgotten_records) == (["b"], 3)
    assert data.item_ids == ["i1", "i2"]


@pytest.mark.parametrize("case", cases("kafka", "arrival_order"))
def test_reader_reads_what_only_the_stream_rejects(case: dict, tmp_path: Path) -> None:
    data, values = read_lines(tmp_path, case)
    assert (data.skipped_lines, data.duplicate_events) == (0, 0)
    # every non-empty line is an event (the cases use distinct items, so none collapse)
    assert data.num_interactions == sum(1 for v in values if v)
