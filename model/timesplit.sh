#!/usr/bin/env bash
# Warm start against retraining from scratch, on a time split (issue 14; model/README.md,
# "Warm start and the time split"):
#   v1 trained on the events before T1 (the 70 % quantile of the event times),
#   v2 trained on the events before T2 (85 %) from scratch, and warm-started from v1 with a time
#   budget of 30 % of the from-scratch run's training time,
#   all three scored on the events after T2 (full ranking, seen items excluded).
# Usage: [SEED=42] [WARM_LR=2e-3] model/timesplit.sh ml-latest-small|retailrocket|synthetic-drift [WORK_DIR]
#   (data from ../shared/data beside the repository; the synthetic stream is generated here)
#   SEED seeds all three trainings; WARM_LR is the warm run's learning rate (the from-scratch runs
#   use 1e-3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/../shared/data"
DATASET="${1:?usage: $0 ml-latest-small|retailrocket|synthetic-drift [WORK_DIR]}"
WORK="${2:-$ROOT/runs/timesplit/$DATASET}"
mkdir -p "$WORK"
export PYTHONPATH="$ROOT/model" OMP_WAIT_POLICY=PASSIVE
PY=/usr/bin/python3

# The same network and training for every dataset and model: the shipped default's shape, early
# stopping on validation.
TRAIN=(--max-len 50 --hidden 64 --blocks 2 --heads 1 --dropout 0.2 --batch-size 128
  --epochs 200 --eval-every 1 --patience 5 --seed "${SEED:-42}" --threads 2 --preset none)

case "$DATASET" in
  ml-latest-small)
    FORMAT=movielens-csv EXT=csv WHOLE="$DATA/ml-latest-small/ratings.csv" ;;
  retailrocket)
    # train.csv only: the held-out purchases of test_buy.csv have no time (the evaluation leaves
    # them out, and no cut file carries them)
    FORMAT=retailrocket EXT=csv WHOLE="$DATA/retailrocket/train.csv" ;;
  synthetic-drift)
    # 30 new items a minute of event time, popular at release, fading with a 5-minute half-life
    FORMAT=events EXT=jsonl WHOLE="$WORK/events.jsonl"
    if [ ! -f "$WHOLE" ]; then
      "$ROOT/seqrec" generate --out "$WHOLE" --users 6000 --events 400000 --seed 1 \
        --new-items-per-minute 30 --drift-half-life 5m
    fi ;;
  *) echo "unknown dataset $DATASET" >&2; exit 2 ;;
esac

$PY -m seqrec_model timesplit cut --format "$FORMAT" --data "$WHOLE" --fractions 0.7 0.85 \
  --out "$WORK/cut"

train() { # NAME DATA [extra options]
  local name="$1" data="$2"; shift 2
  $PY -m seqrec_model train --format "$FORMAT" --data "$data" --name "$DATASET-$name" \
    "${TRAIN[@]}" --out "$WORK/$name" "$@" > "$WORK/$name.log" 2>&1
  echo "$name: $(tail -n 1 "$WORK/$name.log")"
}

train v1 "$WORK/cut/before-T1.$EXT" --lr 1e-3
train v2-scratch "$WORK/cut/before-T2.$EXT" --lr 1e-3
BUDGET=$($PY -c 'import json,sys; print(round(0.3 * json.load(open(sys.argv[1]))["train_seconds"]))' \
  "$WORK/v2-scratch/metrics.json")
train v2-warm "$WORK/cut/before-T2.$EXT" --init-from "$WORK/v1/checkpoint.pt" --time-budget "${BUDGET}s" \
  --lr "${WARM_LR:-2e-3}"

$PY -m seqrec_model timesplit evaluate --format "$FORMAT" --data "$WHOLE" \
  --before "$WORK/cut/before-T2.$EXT" --model v1="$WORK/v1" --model v2-scratch="$WORK/v2-scratch" \
  --model v2-warm="$WORK/v2-warm" --threads 2 --json "$WORK/timesplit.json" | tee "$WORK/timesplit.txt"
