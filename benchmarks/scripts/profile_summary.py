#!/usr/bin/env python3
"""Where the CPU goes, from an async-profiler profile in collapsed form with thread names
(`benchmarks/scripts/profile.sh`: `event=cpu,threads`, one sample per interval of CPU time).

    python3 benchmarks/scripts/profile_summary.py OUT.collapsed [--events N] [--interval-ms 5]

Prints CPU seconds and shares per component (below) and per thread group (digits in thread names
folded, so the subtasks of one task are one group), and with --events the microseconds per event.

A stack counts for the first of these it contains: the in-process Kafka broker, inference (ONNX
Runtime and DJL, with the score copies), top-K, keyed state (RocksDB and the state serializers).
Otherwise its deepest recognised frame decides: JSON of events and recommendations, Kafka clients
(the source's consumer, the sinks' producers, the bench's own producer and consumer), Flink
serialization, the bench driver, the operator's own logic, the Flink runtime. What is left is
split by thread into GC, JIT and other (JVM, kernel, idle loops).
"""

import argparse
import collections
import re

CONTAINS = [
    (
        "Kafka broker (in-process)",
        re.compile(
            r"^kafka/(server|network|cluster|log|coordinator|raft)/"
            r"|^org/apache/kafka/(server|storage|raft|controller|metadata|coordinator|image)/"
        ),
    ),
    ("inference (ONNX Runtime, DJL)", re.compile(r"libonnxruntime|^ai/onnxruntime/|^ai/djl/")),
    ("top-K and seen mask", re.compile(r"^io/seqrec/model/TopK\.")),
    ("keyed state (RocksDB)", re.compile(r"rocksdb|^org/apache/flink/state/")),
]
DEEPEST = [
    ("JSON (events in, recommendations out)", re.compile(r"^com/fasterxml/jackson/|^io/seqrec/event/")),
    ("Kafka clients", re.compile(r"^org/apache/kafka/|^org/apache/flink/connector/kafka/")),
    (
        "Flink serialization",
        re.compile(
            r"^org/apache/flink/api/common/typeutils/|^org/apache/flink/api/java/typeutils/"
            r"|^org/apache/flink/runtime/io/network/api/serialization/"
            r"|^org/apache/flink/streaming/runtime/streamrecord/StreamElementSerializer"
        ),
    ),
    ("bench driver", re.compile(r"^io/seqrec/cli/")),
    ("operator logic (io.seqrec)", re.compile(r"^io/seqrec/")),
    ("Flink runtime", re.compile(r"^org/apache/flink/")),
]


def thread_group(frame: str) -> str:
    name = re.sub(r" tid=\d+", "", frame.strip("[]"))
    return re.sub(r"\d+", "N", name)


def component(thread: str, frames: list) -> str:
    for name, pattern in CONTAINS:
        if any(pattern.search(f) for f in frames):
            return name
    for f in reversed(frames):
        for name, pattern in DEEPEST:
            if pattern.search(f):
                return name
    if re.search(r"GC|G1|Conc|Refine", thread):
        return "GC"
    if "Compiler" in thread:
        return "JIT"
    return "other (JVM, kernel)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("collapsed")
    ap.add_argument("--events", type=int, help="events processed while profiling")
    ap.add_argument("--interval-ms", type=float, default=5.0, help="CPU time per sample")
    ap.add_argument("--threads", type=int, default=12, help="thread groups to list")
    a = ap.parse_args()

    by_component = collections.Counter()
    by_thread = collections.Counter()
    with open(a.collapsed) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            frames = stack.split(";")
            thread = thread_group(frames[0]) if frames[0].startswith("[") else "?"
            n = int(count)
            by_component[component(thread, frames[1:])] += n
            by_thread[thread] += n

    total = sum(by_component.values())
    if total == 0:
        raise SystemExit("no samples")
    seconds = a.interval_ms / 1000

    def show(counter, limit):
        for name, n in counter.most_common(limit):
            per_event = f" {n * seconds * 1e6 / a.events:8.1f} us/event" if a.events else ""
            print(f"{n * seconds:8.2f} s {100 * n / total:5.1f} %{per_event}  {name}")

    print(f"{total * seconds:.2f} s of CPU in {total} samples")
    print("by component:")
    show(by_component, None)
    print("by thread:")
    show(by_thread, a.threads)


if __name__ == "__main__":
    main()
