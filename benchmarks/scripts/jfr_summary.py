#!/usr/bin/env python3
"""Where the CPU time goes in a JFR recording of `seqrec bench`: samples by category.

    jfr print --events jdk.ExecutionSample,jdk.NativeMethodSample --stack-depth 64 rec.jfr > s.txt
    python3 benchmarks/scripts/jfr_summary.py s.txt [--from HH:MM:SS --to HH:MM:SS]

Java samples all count; native samples count only inside ONNX Runtime or RocksDB (elsewhere a
thread in native code is mostly waiting on a socket or a lock). Each sample goes to the category
of the topmost non-JDK frame that matches one (JDK frames count for their caller).
"""

import argparse
import collections
import re

CATEGORIES = [
    ("inference (ONNX Runtime via DJL)", ("ai.onnxruntime.", "ai.djl.")),
    ("top-K + seen mask", ("io.seqrec.model.TopK", "io.seqrec.model.BatchScorer")),
    ("state (RocksDB)", ("org.rocksdb.", "org.apache.flink.state.rocksdb.",
                         "org.apache.flink.contrib.streaming.state.")),
    ("serialization (Flink serializers, JSON)", (
        "org.apache.flink.api.common.typeutils.", "org.apache.flink.api.java.typeutils.runtime.",
        "com.esotericsoftware.kryo.", "org.apache.flink.core.memory.", "com.fasterxml.jackson.",
        "io.seqrec.event.", "io.seqrec.kafka.RecommendationSerializer",
        "io.seqrec.kafka.RawRecordDeserializer", "org.apache.flink.runtime.io.network.api.serialization.",
        "org.apache.flink.runtime.state.ttl.")),
    ("Kafka broker (in-process)", ("kafka.", "org.apache.kafka.storage.", "org.apache.kafka.server.",
                                   "org.apache.kafka.raft.", "org.apache.kafka.controller.",
                                   "org.apache.kafka.metadata.", "org.apache.kafka.image.",
                                   "org.apache.kafka.coordinator.")),
    ("Kafka clients (source, sink, bench producer/consumer)", ("org.apache.kafka.",)),
    ("operator logic (io.seqrec.pipeline)", ("io.seqrec.pipeline.",)),
    ("bench driver", ("io.seqrec.cli.",)),
    ("Flink runtime (network, mailbox, checkpoints)", ("org.apache.flink.",)),
    ("JVM / JDK", ("java.", "jdk.", "sun.")),
]
NATIVE_CPU = ("ai.onnxruntime.", "org.rocksdb.")


def samples(path):
    kind = thread = start = None
    frames = []
    in_stack = False
    with open(path) as f:
        for line in f:
            s = line.strip()
            if s.startswith("jdk.ExecutionSample") or s.startswith("jdk.NativeMethodSample"):
                kind, frames, in_stack = s.split()[0], [], False
            elif s.startswith("startTime"):
                start = s.split("=", 1)[1].strip()
            elif s.startswith("sampledThread"):
                m = re.search(r'"(.*)"', s)
                thread = m.group(1) if m else "?"
            elif s.startswith("stackTrace = ["):
                in_stack = True
            elif in_stack and s == "]":
                in_stack = False
                yield kind, start, thread, frames
            elif in_stack and s and s != "...":
                frames.append(s)


def category(frames):
    """The first non-JDK frame from the top decides (JDK code runs on behalf of its caller)."""
    for fr in frames:
        for name, prefixes in CATEGORIES[:-1]:
            if fr.startswith(prefixes):
                return name
    return CATEGORIES[-1][0] if frames else "other"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("samples")
    ap.add_argument("--from", dest="t0")
    ap.add_argument("--to", dest="t1")
    args = ap.parse_args()
    by_cat = collections.Counter()
    by_thread = collections.Counter()
    for kind, start, thread, frames in samples(args.samples):
        t = start[:8] if start else ""
        if (args.t0 and t < args.t0) or (args.t1 and t > args.t1):
            continue
        if kind == "jdk.NativeMethodSample" and not (frames and frames[0].startswith(NATIVE_CPU)):
            continue
        by_cat[category(frames)] += 1
        by_thread[re.sub(r"\s*\(\d+/\d+\)#\d+|-\d+$|\d+$", "", thread)] += 1
    total = sum(by_cat.values()) or 1
    print(f"{total} CPU samples")
    for name, n in by_cat.most_common():
        print(f"  {100 * n / total:5.1f} %  {name}")
    print("by thread:")
    for name, n in by_thread.most_common(12):
        print(f"  {100 * n / total:5.1f} %  {name}")


if __name__ == "__main__":
    main()
