#!/usr/bin/env bash
# deploy/local-cluster.sh: a codehive coordinator and N workers on this machine, to try the
# cluster out. Each worker gets its own model server: by default its own llm-sim replaying
# the demo scenario's SCRIPTED answers (nothing is generated), or real models given with
# --coder-spec / CODEHIVE_WORKER_SPECS. State (join token, logs, pid files, run store)
# lives in one folder, ./cluster by default.
#
#   deploy/local-cluster.sh [start] [--workers 3] [--coders-per-worker 4] ...
#   deploy/local-cluster.sh status [--state-dir D]
#   deploy/local-cluster.sh stop   [--state-dir D]
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$script_dir")

usage() {
  cat <<EOF
usage: deploy/local-cluster.sh [start|stop|status] [options]

Starts, on this machine, a codehive coordinator and N workers, each worker with its own
model server, and prints how to submit a run and how to stop them.

options:
  --workers N             number of workers (default 3)
  --coders-per-worker K   coder actors per worker (default 4)
  --fixers-per-worker M   fixer actors per worker (default 1)
  --host H                address the coordinator listens on (default 127.0.0.1)
  --port P                coordinator port (default 0: the OS chooses)
  --state-dir D           token, logs, pid files, run store (default ./cluster)
  --bin PATH              the codehive executable (default build/nodes/codehive)
  --sim PATH              llm-sim (default: next to --bin, or \$CODEHIVE_LLM_SIM)
  --scenario F            llm-sim scenario (default configs/demo/scenario.json)
  --config F              codehive config for every node (default: built-in/configs)
  --coder-spec SPEC       real model for every worker's coders, e.g.
                          ollama://127.0.0.1:11434/qwen2.5-coder:7b (\$CODEHIVE_CODER_SPEC)
  --planner-spec SPEC     real large model for the coordinator (\$CODEHIVE_PLANNER_SPEC)
  --heartbeat-ms N        node heartbeat interval (default: the config's, 1000)
  --timeout-ms N          a node silent this long is lost (default: the config's, 5000)
  --http H:P              where the coordinator serves its HTTP API, dashboard and
                          /metrics (default 127.0.0.1:0: loopback, a free port); the URL
                          is printed. Beyond loopback it needs CODEHIVE_HTTP_TOKEN set
                          (the bearer token)
  --no-http               no HTTP API and no dashboard
  -h, --help              this text

environment:
  CODEHIVE_WORKER_SPECS   one model SPEC per worker, separated by spaces or commas
                          (worker i uses the i-th; overrides --coder-spec), e.g.
                          "ollama://127.0.0.1:11434/qwen2.5-coder:7b ollama://127.0.0.1:11435/qwen2.5-coder:7b"
  CODEHIVE_LLM_SIM        the llm-sim executable

Without real model SPECs every model is llm-sim replaying SCRIPTED answers (the demo):
nothing is generated. Exit codes: 0 ok, 1 failed to start, 2 bad usage.
EOF
}

die() {
  echo "local-cluster: $*" >&2
  exit 1
}

usage_error() {
  echo "local-cluster: $*" >&2
  echo "try: deploy/local-cluster.sh --help" >&2
  exit 2
}

action=start
workers=3
workers_given=0
coders=4
fixers=1
host=127.0.0.1
port=0
state_dir=./cluster
bin="$repo_dir/build/nodes/codehive"
sim="${CODEHIVE_LLM_SIM:-}"
scenario="$repo_dir/configs/demo/scenario.json"
config=""
coder_spec="${CODEHIVE_CODER_SPEC:-}"
planner_spec="${CODEHIVE_PLANNER_SPEC:-}"
heartbeat_ms=""
timeout_ms=""
http=127.0.0.1:0

need_value() {
  [[ $# -ge 2 && -n "$2" ]] || usage_error "$1 needs a value"
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    start | stop | status) action=$1 ;;
    --workers) need_value "$@"; workers=$2; workers_given=1; shift ;;
    --coders-per-worker) need_value "$@"; coders=$2; shift ;;
    --fixers-per-worker) need_value "$@"; fixers=$2; shift ;;
    --host) need_value "$@"; host=$2; shift ;;
    --port) need_value "$@"; port=$2; shift ;;
    --state-dir) need_value "$@"; state_dir=$2; shift ;;
    --bin) need_value "$@"; bin=$2; shift ;;
    --sim) need_value "$@"; sim=$2; shift ;;
    --scenario) need_value "$@"; scenario=$2; shift ;;
    --config) need_value "$@"; config=$2; shift ;;
    --coder-spec) need_value "$@"; coder_spec=$2; shift ;;
    --planner-spec) need_value "$@"; planner_spec=$2; shift ;;
    --heartbeat-ms) need_value "$@"; heartbeat_ms=$2; shift ;;
    --timeout-ms) need_value "$@"; timeout_ms=$2; shift ;;
    --http) need_value "$@"; http=$2; shift ;;
    --no-http) http="" ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument: $1" ;;
  esac
  shift
done

is_count() { [[ $1 =~ ^[0-9]+$ ]]; }
is_count "$workers" || usage_error "--workers wants a number, got '$workers'"
if ! is_count "$coders" || [[ $coders -lt 1 ]]; then usage_error "--coders-per-worker wants a number >= 1"; fi
is_count "$fixers" || usage_error "--fixers-per-worker wants a number"
if ! is_count "$port" || [[ $port -gt 65535 ]]; then usage_error "--port wants a port number (0: the OS chooses)"; fi
[[ -z $heartbeat_ms ]] || is_count "$heartbeat_ms" || usage_error "--heartbeat-ms wants a number"
[[ -z $timeout_ms ]] || is_count "$timeout_ms" || usage_error "--timeout-ms wants a number"

mkdir -p "$state_dir"
state_dir=$(cd "$state_dir" && pwd)
run_dir="$state_dir/run"
log_dir="$state_dir/logs"
token_file="$state_dir/token"

# ---- status / stop --------------------------------------------------------------------

# The pid in a pid file, if that process still runs and is one of ours.
live_pid() {
  local file=$1 pid cmdline
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # A recycled pid belongs to something else: check the command line.
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  [[ $cmdline == *codehive* || $cmdline == *llm-sim* || -z $cmdline ]] || return 1
  echo "$pid"
}

# Pid files in stop order: workers first, then the coordinator, then the simulators.
pid_files() {
  local f
  for f in "$run_dir"/worker-*.pid "$run_dir"/coordinator.pid "$run_dir"/sim-*.pid; do
    [[ -e $f ]] && echo "$f"
  done
  return 0
}

do_status() {
  local f name pid any=0 address=""
  [[ -f $run_dir/coordinator.port ]] && address="$host_of_state:$(<"$run_dir/coordinator.port")"
  echo "codehive local cluster in $state_dir"
  [[ -n $address ]] && echo "  coordinator address: $address"
  while IFS= read -r f; do
    any=1
    name=$(basename "$f" .pid)
    if pid=$(live_pid "$f"); then
      printf '  %-14s running (pid %s)  log %s\n' "$name" "$pid" "$log_dir/$name.log"
    else
      printf '  %-14s NOT running        log %s\n' "$name" "$log_dir/$name.log"
    fi
  done < <(pid_files)
  [[ $any -eq 1 ]] || echo "  nothing started here"
}

do_stop() {
  local f name pid pids=() waited=0
  while IFS= read -r f; do
    if pid=$(live_pid "$f"); then
      name=$(basename "$f" .pid)
      echo "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done < <(pid_files)
  # Up to 10 s for a clean exit, then SIGKILL.
  while [[ ${#pids[@]} -gt 0 && $waited -lt 100 ]]; do
    local alive=()
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null && alive+=("$pid")
    done
    pids=("${alive[@]+"${alive[@]}"}")
    [[ ${#pids[@]} -gt 0 ]] || break
    sleep 0.1
    waited=$((waited + 1))
  done
  for pid in "${pids[@]+"${pids[@]}"}"; do
    echo "pid $pid did not stop within 10 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$run_dir"/*.pid "$run_dir"/*.port
  echo "codehive local cluster in $state_dir stopped (logs kept in $log_dir)"
}

host_of_state=$host
[[ -f $run_dir/coordinator.host ]] && host_of_state=$(<"$run_dir/coordinator.host")

case "$action" in
  status) do_status; exit 0 ;;
  stop) do_stop; exit 0 ;;
esac

# ---- start ------------------------------------------------------------------------------

while IFS= read -r f; do
  if pid=$(live_pid "$f"); then
    die "a cluster already runs from $state_dir ($(basename "$f" .pid), pid $pid); stop it first: $0 stop --state-dir $state_dir"
  fi
done < <(pid_files)

[[ -x $bin ]] || die "no codehive executable at $bin (build it: cmake --build build --target codehive, or pass --bin PATH)"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
"$bin" coordinator --help >/dev/null 2>&1 || die "$bin has no \`coordinator\` command (an older build?)"
[[ -z $config || -f $config ]] || die "no config file $config"
[[ -z $config ]] || config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")

# One model SPEC per worker; "" = its own simulator.
declare -a specs=()
if [[ -n ${CODEHIVE_WORKER_SPECS:-} ]]; then
  read -r -a specs <<<"${CODEHIVE_WORKER_SPECS//,/ }"
  if [[ $workers_given -eq 0 ]]; then
    workers=${#specs[@]}
  elif [[ ${#specs[@]} -lt $workers ]]; then
    die "CODEHIVE_WORKER_SPECS names ${#specs[@]} model(s) for $workers workers"
  fi
else
  for ((i = 0; i < workers; i++)); do specs+=("$coder_spec"); done
fi

demo_roles=()
for ((i = 0; i < workers; i++)); do
  [[ -n ${specs[i]} ]] || { demo_roles+=("worker-$((i + 1))"); }
done
[[ -n $planner_spec ]] || demo_roles+=("planner/reviewer")
coordinator_coder=${coder_spec:-${specs[0]:-}}
[[ -n $coordinator_coder ]] || demo_roles+=("summaries")

if [[ ${#demo_roles[@]} -gt 0 ]]; then
  if [[ -z $sim ]]; then
    for candidate in "$(dirname "$bin")/../tools/llm-sim/llm-sim" "$(dirname "$bin")/llm-sim"; do
      if [[ -x $candidate ]]; then sim=$candidate; break; fi
    done
  fi
  [[ -n $sim && -x $sim ]] || die "llm-sim not found next to $bin (build it: cmake --build build --target llm-sim, or pass --sim PATH)"
  [[ -f $scenario ]] || die "no scenario file $scenario"
  scenario=$(cd "$(dirname "$scenario")" && pwd)/$(basename "$scenario")
fi

mkdir -p "$run_dir" "$log_dir"
chmod 700 "$state_dir"
rm -f "$run_dir"/*.port "$run_dir"/*.pid
echo "$host" >"$run_dir/coordinator.host"

# A fresh join token, readable by this user only.
(
  umask 077
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$token_file"
  echo >>"$token_file"
)
chmod 600 "$token_file"

started=0
fail() {
  echo "local-cluster: $*" >&2
  if [[ $started -eq 1 ]]; then
    echo "local-cluster: stopping what was started (logs in $log_dir)" >&2
    do_stop >&2
  fi
  exit 1
}
trap 'fail "interrupted"' INT TERM

# Starts a program in the background, its output in logs/NAME.log, its pid in run/NAME.pid.
launch() {
  local name=$1
  shift
  nohup "$@" >"$log_dir/$name.log" 2>&1 </dev/null &
  echo $! >"$run_dir/$name.pid"
  started=1
}

# Waits up to $2 seconds for a file to hold a number; fails when process $3 ends first.
wait_port_file() {
  local file=$1 seconds=$2 name=$3 i
  for ((i = 0; i < seconds * 10; i++)); do
    if [[ -s $file ]] && [[ $(<"$file") =~ ^[0-9]+$ ]]; then
      return 0
    fi
    live_pid "$run_dir/$name.pid" >/dev/null || fail "$name exited at start; its log ($log_dir/$name.log):
$(tail -n 20 "$log_dir/$name.log" 2>/dev/null)"
    sleep 0.1
  done
  fail "$name did not report its port within $seconds s (log: $log_dir/$name.log)"
}

# Starts an llm-sim named NAME on an OS-chosen port; sets sim_port.
sim_port=""
start_sim() {
  local name=$1
  launch "$name" "$sim" --scenario "$scenario" --host 127.0.0.1 --port 0 --port-file "$run_dir/$name.port"
  wait_port_file "$run_dir/$name.port" 15 "$name"
  sim_port=$(<"$run_dir/$name.port")
}

common=(--token-file "$token_file")
[[ -z $config ]] || common+=(--config "$config")
[[ -z $heartbeat_ms ]] || common+=(--heartbeat-ms "$heartbeat_ms")
[[ -z $timeout_ms ]] || common+=(--timeout-ms "$timeout_ms")

# The coordinator: planner, reviewer, file tracker, validator, store; no local coders.
planner=$planner_spec
summarizer=$coordinator_coder
if [[ -z $planner || -z $summarizer ]]; then
  start_sim sim-coordinator
  [[ -n $planner ]] || planner="openai://127.0.0.1:$sim_port/v1/gpt-4o-mini"
  [[ -n $summarizer ]] || summarizer="ollama://127.0.0.1:$sim_port/qwen2.5-coder:7b"
fi
http_args=()
[[ -z $http ]] || http_args=(--http "$http")
launch coordinator "$bin" coordinator --listen "$host:$port" --store "$state_dir/store" \
  --planner "$planner" --coder "$summarizer" --port-file "$run_dir/coordinator.port" "${http_args[@]}" "${common[@]}"
wait_port_file "$run_dir/coordinator.port" 30 coordinator
# With --http the coordinator prints "http: URL" once it listens (before the cluster port).
dashboard=""
[[ -z $http ]] || dashboard=$(sed -n 's/^http: \(http:[^ ]*\)$/\1/p' "$log_dir/coordinator.log" | head -n 1)
address="$host:$(<"$run_dir/coordinator.port")"
join_host=$host
[[ $host == 0.0.0.0 ]] && join_host=127.0.0.1
join_address="$join_host:$(<"$run_dir/coordinator.port")"

# The workers, each with its own model server.
declare -a worker_models=()
for ((i = 1; i <= workers; i++)); do
  spec=${specs[i - 1]}
  if [[ -z $spec ]]; then
    start_sim "sim-worker-$i"
    spec="ollama://127.0.0.1:$sim_port/qwen2.5-coder:7b"
  fi
  worker_models+=("$spec")
  launch "worker-$i" "$bin" worker --join "$join_address" --name "worker-$i" --coders "$coders" \
    --fixers "$fixers" --coder "$spec" "${common[@]}"
done

# Each worker logs "joined coordinator ..." once it is in.
for ((i = 1; i <= workers; i++)); do
  joined=0
  for ((t = 0; t < 300; t++)); do
    if grep -q "joined coordinator" "$log_dir/worker-$i.log" 2>/dev/null; then
      joined=1
      break
    fi
    live_pid "$run_dir/worker-$i.pid" >/dev/null || fail "worker-$i exited; its log ($log_dir/worker-$i.log):
$(tail -n 20 "$log_dir/worker-$i.log" 2>/dev/null)"
    sleep 0.1
  done
  [[ $joined -eq 1 ]] || echo "local-cluster: warning: worker-$i has not joined within 30 s (log: $log_dir/worker-$i.log)" >&2
done
trap - INT TERM

request_file="$repo_dir/configs/demo/request.txt"
echo "codehive local cluster is up (state in $state_dir)"
printf '  %-14s %s  (pid %s, log %s)\n' coordinator "$address" "$(<"$run_dir/coordinator.pid")" "$log_dir/coordinator.log"
printf '  %-14s planner %s\n' "" "$planner"
[[ -z $dashboard ]] || printf '  %-14s %s  (API: %sapi/runs, %sapi/nodes, %smetrics)\n' dashboard "$dashboard" \
  "$dashboard" "$dashboard" "$dashboard"
for ((i = 1; i <= workers; i++)); do
  printf '  %-14s %s coders, %s fixers, model %s  (pid %s, log %s)\n' "worker-$i" "$coders" "$fixers" \
    "${worker_models[i - 1]}" "$(<"$run_dir/worker-$i.pid")" "$log_dir/worker-$i.log"
done
if [[ ${#demo_roles[@]} -gt 0 ]]; then
  echo
  echo "DEMO MODE: these models are llm-sim, which replays SCRIPTED answers from"
  echo "  $scenario (nothing is generated): ${demo_roles[*]}."
  echo "  Give real models with --coder-spec, --planner-spec or CODEHIVE_WORKER_SPECS."
fi
echo
echo "Submit a run (the demo request; the output goes to ./kanban):"
if [[ -f $request_file ]]; then
  # The request is printed as a command substitution for the user's shell to expand.
  # shellcheck disable=SC2016
  printf '  %q run --coordinator %s --token-file %q "$(cat %q)" --out kanban\n' "$bin" "$address" "$token_file" "$request_file"
else
  printf '  %q run --coordinator %s --token-file %q "a kanban board in HTML/CSS/JS" --out kanban\n' "$bin" "$address" "$token_file"
fi
if [[ -n $dashboard ]]; then
  echo "Watch it: open $dashboard in a browser; the metrics in Prometheus text:"
  if [[ -n ${CODEHIVE_HTTP_TOKEN:-} ]]; then
    # shellcheck disable=SC2016
    echo '  curl -s -H "Authorization: Bearer $CODEHIVE_HTTP_TOKEN" '"${dashboard}metrics"
  else
    echo "  curl -s ${dashboard}metrics"
  fi
fi
echo "Status: $0 status --state-dir $(printf '%q' "$state_dir")"
echo "Stop:   $0 stop --state-dir $(printf '%q' "$state_dir")"
