#!/usr/bin/env bash
# CPU profile of a running JVM (a `seqrec bench`, a task manager) with async-profiler: every
# thread, Java and native frames (ONNX Runtime, RocksDB, the kernel), which JFR's sampler misses.
#
#   benchmarks/scripts/profile.sh PID SECONDS OUT.collapsed [INTERVAL_MS, default 5]
#   python3 benchmarks/scripts/profile_summary.py OUT.collapsed --interval-ms 5 [--events N]
#
# async-profiler comes from Maven Central (tools.profiler:async-profiler, the jar carries the
# native library) and is loaded into the JVM with `jcmd JVMTI.agent_load`, as asprof does; run it
# as the JVM's user. One sample per INTERVAL_MS of CPU time, per thread (`event=cpu`: perf events,
# which need root or kernel.perf_event_paranoid <= 1 for kernel frames; async-profiler falls back
# to a timer otherwise).
set -euo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 PID SECONDS OUT.collapsed [INTERVAL_MS]" >&2
  exit 2
fi
pid=$1
seconds=$2
out=$(realpath -m "$3")
interval_ms=${4:-5}
version=4.1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

case "$(uname -m)" in
  x86_64) arch=linux-x64 ;;
  aarch64) arch=linux-arm64 ;;
  *) echo "$0: no async-profiler library for $(uname -m)" >&2; exit 1 ;;
esac

jar="$HOME/.m2/repository/tools/profiler/async-profiler/$version/async-profiler-$version.jar"
if [ ! -f "$jar" ]; then
  "$root/mvnw" -q -B dependency:get -Dartifact="tools.profiler:async-profiler:$version" \
    -Dtransitive=false >&2
fi
lib_dir="${TMPDIR:-/tmp}/seqrec-async-profiler-$version"
lib="$lib_dir/$arch/libasyncProfiler.so"
if [ ! -f "$lib" ]; then
  mkdir -p "$lib_dir"
  unzip -q -o "$jar" "$arch/libasyncProfiler.so" -d "$lib_dir"
fi

# The options in quotes: jcmd would read "a,b=c" as a named argument.
jcmd "$pid" JVMTI.agent_load "$lib" "\"start,event=cpu,interval=${interval_ms}ms,threads\"" >/dev/null
sleep "$seconds"
jcmd "$pid" JVMTI.agent_load "$lib" "\"stop,collapsed,file=$out\"" >/dev/null
[ -s "$out" ] || { echo "$0: no profile written to $out" >&2; exit 1; }
echo "$out: $(wc -l <"$out") stacks over ${seconds}s" >&2
