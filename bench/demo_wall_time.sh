#!/usr/bin/env bash
# Wall time of the offline demo (`codehive run --demo`) with 1 coder against 4 coders.
# The demo's model answers are SCRIPTED by llm-sim (configs/demo/scenario.json) with a
# simulated latency, so this measures codehive's scheduling (parallel coders in dependency
# order), not any model.
#
#   bench/demo_wall_time.sh [CODEHIVE_BINARY] [RUNS]
#   defaults: $CODEHIVE or build/nodes/codehive (else build-demo/nodes/codehive), 3 runs
#
# Uses hyperfine when installed, else bash timing; prints mean/min/max per setting.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-${CODEHIVE:-}}
if [[ -z "$BIN" ]]; then
  for candidate in build/nodes/codehive build-demo/nodes/codehive; do
    if [[ -x "$candidate" ]]; then BIN=$candidate; break; fi
  done
fi
RUNS=${2:-3}
if [[ -z "$BIN" || ! -x "$BIN" ]]; then
  echo "codehive binary not found; pass its path as the first argument" >&2
  exit 2
fi

WORK=$(mktemp -d /tmp/codehive-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

run_once() {  # run_once CODERS OUT
  rm -rf "$2"
  "$BIN" run --demo --coders "$1" --out "$2" >"$WORK/last.log" 2>&1 || {
    echo "codehive run --demo --coders $1 failed:" >&2
    tail -n 40 "$WORK/last.log" >&2
    exit 1
  }
}

echo "codehive demo wall time: $BIN, $RUNS runs per setting, $(nproc) CPUs"
echo "(answers are scripted by llm-sim; latency simulated as in configs/demo/scenario.json)"

if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --runs "$RUNS" --warmup 1 \
    --command-name "1 coder" "rm -rf $WORK/o1 && $BIN run --demo --coders 1 --out $WORK/o1" \
    --command-name "4 coders" "rm -rf $WORK/o4 && $BIN run --demo --coders 4 --out $WORK/o4"
  exit 0
fi

run_once 4 "$WORK/warmup"   # warm the page cache

declare -A MEAN
for coders in 1 4; do
  times=()
  for ((i = 1; i <= RUNS; i++)); do
    start=$(date +%s.%N)
    run_once "$coders" "$WORK/out-$coders"
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
  done
  stats=$(printf '%s\n' "${times[@]}" | awk '
    { s += $1; if (NR == 1 || $1 < mn) mn = $1; if (NR == 1 || $1 > mx) mx = $1 }
    END { printf "%.2f %.2f %.2f", s / NR, mn, mx }')
  read -r mean min max <<<"$stats"
  MEAN[$coders]=$mean
  printf '%d coder(s): mean %6.2f s  min %6.2f s  max %6.2f s  (runs: %s)\n' \
    "$coders" "$mean" "$min" "$max" "$(printf '%.2f ' "${times[@]}")"
done
awk -v a="${MEAN[1]}" -v b="${MEAN[4]}" 'BEGIN { printf "speed-up 4 vs 1 coders: %.2fx\n", a / b }'
