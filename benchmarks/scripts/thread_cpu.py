#!/usr/bin/env python3
"""CPU time per thread of a running `seqrec bench` (or any process), from /proc: exact where
sampling profilers are not (JFR samples few threads per period and undercounts native code).

    python3 benchmarks/scripts/thread_cpu.py record PID out.tsv      # until PID exits, 1 s steps
    python3 benchmarks/scripts/thread_cpu.py summary out.tsv --from HH:MM:SS --to HH:MM:SS [--events N]

`summary` prints each thread group's CPU seconds and share in the window (digits in thread names
folded, so both subtasks of a task are one group) and, with --events, microseconds per event.
Linux truncates thread names to 15 characters.
"""

import argparse
import collections
import datetime
import os
import re
import sys
import time


def record(pid: str, out: str) -> None:
    ticks = os.sysconf("SC_CLK_TCK")
    with open(out, "w") as f:
        while os.path.exists(f"/proc/{pid}"):
            now = time.time()
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                break
            for tid in tids:
                try:
                    with open(f"/proc/{pid}/task/{tid}/stat") as s:
                        stat = s.read()
                except OSError:
                    continue
                name = stat[stat.index("(") + 1 : stat.rindex(")")]
                fields = stat[stat.rindex(")") + 2 :].split()
                cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
                f.write(f"{now:.2f}\t{name}\t{tid}\t{cpu:.2f}\n")
            f.flush()
            time.sleep(1)


def summary(path: str, start: str, end: str, events: int) -> None:
    def epoch(hms: str, day: datetime.date) -> float:
        t = datetime.datetime.strptime(hms, "%H:%M:%S").time()
        return datetime.datetime.combine(day, t).timestamp()

    rows = [line.rstrip("\n").split("\t") for line in open(path)]
    if not rows:
        sys.exit(f"{path}: no samples")
    day = datetime.date.fromtimestamp(float(rows[0][0]))
    t0, t1 = epoch(start, day), epoch(end, day)
    first, last = {}, {}
    span = [None, None]
    for ts, name, tid, cpu in rows:
        ts = float(ts)
        if t0 <= ts <= t1:
            first.setdefault(tid, (name, float(cpu), ts))
            last[tid] = (name, float(cpu), ts)
            span[0] = ts if span[0] is None else min(span[0], ts)
            span[1] = ts if span[1] is None else max(span[1], ts)
    groups = collections.Counter()
    for tid, (name, cpu, _) in last.items():
        groups[re.sub(r"\d+", "N", name)] += cpu - first[tid][1]
    total = sum(groups.values())
    seconds = (span[1] - span[0]) if span[0] is not None else 0
    print(f"{total:.1f} s CPU in {seconds:.0f} s ({total / max(seconds, 1e-9):.2f} cores)")
    for name, cpu in groups.most_common():
        if cpu <= 0:
            continue
        per_event = f"  {1e6 * cpu / events:7.1f} us/event" if events else ""
        print(f"{cpu:8.2f} s {100 * cpu / total:5.1f} %{per_event}  {name}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("pid")
    r.add_argument("out")
    s = sub.add_parser("summary")
    s.add_argument("tsv")
    s.add_argument("--from", dest="start", required=True)
    s.add_argument("--to", dest="end", required=True)
    s.add_argument("--events", type=int, default=0, help="events processed in the window")
    a = p.parse_args()
    if a.cmd == "record":
        record(a.pid, a.out)
    else:
        summary(a.tsv, a.start, a.end, a.events)


if __name__ == "__main__":
    main()
