#!/usr/bin/env bash
# Soak run (docs/RELIABILITY.md): USERS distinct users through the job on this machine.
# A local broker (./seqrec broker), the job (./seqrec run, RocksDB, checkpoints every 10 s,
# parallelism 2), the synthetic producer visiting every user once before repeating any; samples
# the job JVM's RSS and the checkpoint directory's size every 10 s, then waits until every event
# has its recommendation and reports distinct users, checkpoint sizes and durations.
#   USERS=1000000 EVENTS=1500000 RATE=2500 scripts/soak.sh       (defaults; about 12 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${USERS:-1000000}
EVENTS=${EVENTS:-1500000}
RATE=${RATE:-2500}
OUT=${OUT:-runs/soak}
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

./seqrec broker --partitions 2 --bootstrap-file "$OUT/bootstrap" > "$OUT/broker.log" 2>&1 &
for _ in $(seq 120); do [ -s "$OUT/bootstrap" ] && break; sleep 1; done
BS=$(cat "$OUT/bootstrap")
echo "broker $BS"

# Log4j merges both files: the usual CLI logging plus one line per completed checkpoint.
SEQREC_LOG_CONFIG="$PWD/flink-job/conf/log4j2-cli.properties,$PWD/flink-job/conf/log4j2-checkpoints.properties" \
  ./seqrec run --bootstrap-servers "$BS" --parallelism 2 --starting-offsets earliest \
  --checkpoint-interval 10s --checkpoint-dir "file://$OUT/checkpoints" > "$OUT/job.log" 2>&1 &
for _ in $(seq 120); do JOB_PID=$(pgrep -f 'io.seqrec.cli.Main run' || true); [ -n "$JOB_PID" ] && break; sleep 1; done
echo "job JVM pid $JOB_PID"

(
  echo "elapsed_s,rss_mb,checkpoint_dir_mb"
  start=$(date +%s)
  while kill -0 "$JOB_PID" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$JOB_PID/status" 2>/dev/null || echo 0)
    ck=$(du -sm "$OUT/checkpoints" 2>/dev/null | cut -f1 || echo 0)
    echo "$(( $(date +%s) - start )),$rss,${ck:-0}"
    sleep 10
  done
) > "$OUT/samples.csv" &

sleep 20 # the job subscribes first
start=$(date +%s)
./seqrec produce --bootstrap-servers "$BS" --source synthetic --users "$USERS" --events "$EVENTS" \
  --rate "$RATE" --malformed-fraction 0 --every-user-once-first true --seed 11 > "$OUT/produce.log" 2>&1
echo "produced $EVENTS events in $(( $(date +%s) - start )) s"
# Every event is well-formed: exactly EVENTS recommendations are due.
./seqrec tail --bootstrap-servers "$BS" --from earliest --max "$EVENTS" > "$OUT/recommendations.txt"
echo "all $EVENTS recommendations after $(( $(date +%s) - start )) s"
sleep 25 # two more checkpoints

echo "distinct users: $(awk '{print $1}' "$OUT/recommendations.txt" | sort -u | wc -l)"
echo "checkpoints completed: $(grep -c 'Completed checkpoint' "$OUT/job.log" || true)"
grep -o 'Completed checkpoint [0-9]* for job [0-9a-f]* ([0-9]* bytes, checkpointDuration=[0-9]* ms' "$OUT/job.log" \
  | sed -E 's/.*checkpoint ([0-9]+) .*\(([0-9]+) bytes, checkpointDuration=([0-9]+) ms/\1,\2,\3/' \
  > "$OUT/checkpoints.csv" || true
echo "checkpoint,bytes,duration_ms (last 5):"; tail -5 "$OUT/checkpoints.csv"
echo "RSS samples (elapsed_s,rss_mb,checkpoint_dir_mb), every 6th:"; awk 'NR==1 || NR%6==2' "$OUT/samples.csv"
