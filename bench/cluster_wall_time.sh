#!/usr/bin/env bash
# Wall time of one codehive run on ONE node with 4 coders against a CLUSTER on this machine:
# a coordinator (planner, reviewer, validator, store, summarizer; 0 local coders) and 3
# workers with 4 coders and 1 fixer each (12 coders).
#
#   bench/cluster_wall_time.sh BIN SIM SCENARIO_DIR [RUNS]
#   e.g. bench/cluster_wall_time.sh build/nodes/codehive build/tools/llm-sim/llm-sim configs/demo 3
#        python3 bench/wide/make_scenario.py
#        bench/cluster_wall_time.sh build/nodes/codehive build/tools/llm-sim/llm-sim bench/wide 3
#
# SCENARIO_DIR holds scenario.json (llm-sim), request.txt and app/ (the expected output).
# Every model answer is SCRIPTED by llm-sim and delayed by its latency model (time to first
# token + tokens/s, see the scenario), so this measures codehive's scheduling of file tasks
# over parallel coders and nodes, not any model. Each model server is its own llm-sim:
#   (a) single node: one llm-sim; `codehive run ... --coders 4`
#   (b) cluster: one llm-sim for the coordinator (planner/reviewer via openai://, summarizer
#       via ollama://) and one per worker, as with one model server per GPU.
# Every run gets a fresh store, output folder and llm-sim(s) (for (b) a freshly started
# cluster, --heartbeat-ms 500 on every node). The time is from submitting the run to the
# exit of `codehive run` (a): process start to exit; (b): `codehive run --coordinator`
# start to exit, NOT counting the cluster's start-up (coordinator up, 3 workers joined).
# A config copy sets validators.browser false, so headless Chromium (~3.5 s a validation
# round) does not dominate. Each run must exit 0 and its output must equal SCENARIO_DIR/app
# (diff -r, generated_files/ excluded); else the script stops with exit 1.
# Prints each run's time and mean/min/max per setup. Works on loopback only.
# KEEP=1 in the environment keeps the work folder (logs, stores, outputs) for inspection.
set -euo pipefail

if [[ $# -lt 3 ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
abs() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }
BIN=$(abs "$1")
SIM=$(abs "$2")
SCEN=$(cd "$3" && pwd)
RUNS=${4:-3}
REPO=$(cd "$(dirname "$0")/.." && pwd)
[[ -x $BIN ]] || { echo "no codehive executable at $1" >&2; exit 2; }
[[ -x $SIM ]] || { echo "no llm-sim executable at $2" >&2; exit 2; }
for f in scenario.json request.txt app; do
  [[ -e $SCEN/$f ]] || { echo "$SCEN/$f missing" >&2; exit 2; }
done
REQUEST=$(cat "$SCEN/request.txt")

WORK=$(mktemp -d /tmp/codehive-cluster-bench-XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
# KEEP=1 keeps the logs, stores and outputs in $WORK.
trap 'cleanup; if [[ ${KEEP:-0} == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi' EXIT
trap 'exit 130' INT TERM

# The config: the shipped one, with the browser check off and absolute prompt/schema dirs.
CONFIG=$WORK/codehive.json
python3 - "$REPO/configs/codehive.json" "$CONFIG" "$REPO/configs" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["validators"]["browser"] = False
c["prompts_dir"] = sys.argv[3] + "/prompts"
c["schemas_dir"] = sys.argv[3] + "/schemas"
json.dump(c, open(sys.argv[2], "w"), indent=2)
EOF
umask 077
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/token"
umask 022

wait_file() {  # wait_file FILE SECONDS PID WHAT
  for ((t = 0; t < $2 * 10; t++)); do
    [[ -s $1 ]] && return 0
    kill -0 "$3" 2>/dev/null || { echo "$4 exited at start" >&2; return 1; }
    sleep 0.1
  done
  echo "$4: no $1 within $2 s" >&2
  return 1
}

SIM_PORT=""
start_sim() {  # start_sim NAME DIR  -> SIM_PORT
  "$SIM" --scenario "$SCEN/scenario.json" --host 127.0.0.1 --port 0 --port-file "$2/$1.port" \
    >"$2/$1.log" 2>&1 </dev/null &
  PIDS+=($!)
  wait_file "$2/$1.port" 15 $! "$1"
  SIM_PORT=$(<"$2/$1.port")
}

check_output() {  # check_output OUT LOG
  if ! diff -r --exclude=generated_files "$SCEN/app" "$1" >"$WORK/diff.txt" 2>&1; then
    echo "output $1 differs from $SCEN/app:" >&2
    head -n 30 "$WORK/diff.txt" >&2
    exit 1
  fi
}

now() { date +%s.%N; }
TIME=""

run_single() {  # run_single I
  local d=$WORK/single-$1
  mkdir -p "$d"
  start_sim sim "$d"
  local p=$SIM_PORT rc=0 t0 t1
  t0=$(now)
  "$BIN" run "$REQUEST" --out "$d/out" --store "$d/store" --config "$CONFIG" \
    --planner "openai://127.0.0.1:$p/v1/gpt-4o-mini" --coder "ollama://127.0.0.1:$p/qwen2.5-coder:7b" \
    --coders 4 >"$d/run.log" 2>&1 </dev/null || rc=$?
  t1=$(now)
  cleanup
  if [[ $rc -ne 0 ]]; then
    echo "single-node run $1 exited $rc; log $d/run.log:" >&2
    tail -n 30 "$d/run.log" >&2
    exit 1
  fi
  check_output "$d/out"
  TIME=$(echo "$t1 - $t0" | bc -l)
}

run_cluster() {  # run_cluster I
  local d=$WORK/cluster-$1 i rc=0 t0 t1
  mkdir -p "$d"
  local common=(--token-file "$WORK/token" --config "$CONFIG" --heartbeat-ms 500)
  start_sim sim-coordinator "$d"
  "$BIN" coordinator --listen 127.0.0.1:0 --store "$d/store" --port-file "$d/coordinator.port" \
    --planner "openai://127.0.0.1:$SIM_PORT/v1/gpt-4o-mini" \
    --coder "ollama://127.0.0.1:$SIM_PORT/qwen2.5-coder:7b" --coders 0 --fixers 0 "${common[@]}" \
    >"$d/coordinator.log" 2>&1 </dev/null &
  PIDS+=($!)
  wait_file "$d/coordinator.port" 30 $! coordinator
  local addr
  addr=127.0.0.1:$(<"$d/coordinator.port")
  for i in 1 2 3; do
    start_sim "sim-worker-$i" "$d"
    "$BIN" worker --join "$addr" --name "worker-$i" --coders 4 --fixers 1 \
      --coder "ollama://127.0.0.1:$SIM_PORT/qwen2.5-coder:7b" "${common[@]}" \
      >"$d/worker-$i.log" 2>&1 </dev/null &
    PIDS+=($!)
  done
  # Start-up ends when the coordinator has logged all three workers joining.
  for ((t = 0; t < 300; t++)); do
    [[ $(grep -c "worker worker-[123] joined" "$d/coordinator.log" 2>/dev/null) -ge 3 ]] && break
    sleep 0.1
  done
  if [[ $(grep -c "worker worker-[123] joined" "$d/coordinator.log") -lt 3 ]]; then
    echo "cluster run $1: the workers did not all join within 30 s; logs in $d" >&2
    tail -n 20 "$d/coordinator.log" >&2
    exit 1
  fi
  t0=$(now)
  "$BIN" run --coordinator "$addr" --token-file "$WORK/token" "$REQUEST" --out "$d/out" \
    >"$d/run.log" 2>&1 </dev/null || rc=$?
  t1=$(now)
  cleanup
  if [[ $rc -ne 0 ]]; then
    echo "cluster run $1 exited $rc; logs in $d:" >&2
    tail -n 30 "$d/run.log" "$d/coordinator.log" >&2
    exit 1
  fi
  check_output "$d/out"
  TIME=$(echo "$t1 - $t0" | bc -l)
}

echo "codehive cluster wall time: $(basename "$SCEN") ($SCEN/scenario.json), $RUNS runs per setup, $(nproc) CPUs"
echo "(answers SCRIPTED by llm-sim with simulated latency; browser validation off; cluster start-up not timed)"
echo "load before: $(uptime)"
declare -A RESULT
for setup in single cluster; do
  times=()
  for ((r = 1; r <= RUNS; r++)); do
    "run_$setup" "$r"
    times+=("$TIME")
  done
  stats=$(printf '%s\n' "${times[@]}" | awk '
    { s += $1; if (NR == 1 || $1 < mn) mn = $1; if (NR == 1 || $1 > mx) mx = $1 }
    END { printf "%.2f %.2f %.2f", s / NR, mn, mx }')
  RESULT[$setup]=$stats
  read -r mean min max <<<"$stats"
  label=$([[ $setup == single ]] && echo "1 node x 4 coders" || echo "coordinator + 3 workers x 4 coders")
  printf '%-36s mean %6.2f s  min %6.2f s  max %6.2f s  (runs: %s)\n' \
    "$label" "$mean" "$min" "$max" "$(printf '%.2f ' "${times[@]}")"
done
echo "load after: $(uptime)"
read -r ms _ _ <<<"${RESULT[single]}"
read -r mc _ _ <<<"${RESULT[cluster]}"
awk -v a="$ms" -v b="$mc" 'BEGIN { printf "speed-up cluster vs single node: %.2fx\n", a / b }'
echo "| scenario | setup | mean | min | max | runs |"
echo "|---|---|---|---|---|---|"
for setup in single cluster; do
  read -r mean min max <<<"${RESULT[$setup]}"
  label=$([[ $setup == single ]] && echo "1 node, 4 coders" || echo "coordinator + 3 workers x 4 coders")
  printf '| %s | %s | %.2f s | %.2f s | %.2f s | %d |\n' "$(basename "$SCEN")" "$label" "$mean" "$min" "$max" "$RUNS"
done
