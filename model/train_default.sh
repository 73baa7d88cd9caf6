#!/usr/bin/env bash
# Regenerates the shipped default model, model/artifacts/default/, from scratch:
#   1. synthetic behavior events from the project's one generator (./seqrec generate, fixed seed),
#   2. SASRec trained on them (fixed seed, one thread: same files, same metrics on every run).
# Usage: model/train_default.sh   (from anywhere; ~5 minutes on 2 cores)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/runs/default"
mkdir -p "$WORK"

"$ROOT/seqrec" generate --out "$WORK/events.jsonl" --users 6000 --events 400000 --seed 1

cd "$ROOT"
PYTHONPATH=model OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 -m seqrec_model train \
  --format events --data "$WORK/events.jsonl" --name synthetic \
  --max-len 50 --hidden 64 --blocks 2 --heads 1 --dropout 0.2 \
  --lr 1e-3 --batch-size 128 --epochs 40 --eval-every 1 --patience 5 \
  --seed 42 --threads 1 \
  --out "$WORK/run" --export-dir model/artifacts/default
