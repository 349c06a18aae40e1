#!/usr/bin/env bash
# Builds and runs the libFuzzer targets with clang in a separate build folder.
#
#   fuzz/run.sh [SECONDS [LIBFUZZER FLAGS...]]
#                                fuzz the target for SECONDS (default 60)
#   fuzz/run.sh --merge          minimize the working corpus into the committed
#                                seed corpus (fuzz/corpus/<target>, at most
#                                MAX_SEEDS=96 files)
#   fuzz/run.sh --repro FILE     run the target once on FILE (a crash artifact)
#
# Environment: FUZZ_TARGET, the target: extract_json (default; llm/structured),
# plan (parse_plan + task_graph), edits (workspace/edits), codec
# (storage/codec); FUZZ_BUILD_DIR (default build-fuzz), FUZZ_STANDALONE=1 to
# configure fuzz/ on its own (needs only RapidJSON; not for plan, which needs
# CAF's headers) instead of the whole project, CXX (default clang++).
# fuzz/ci.sh is the bounded run of every target that CI uses.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
NAME=${FUZZ_TARGET:-extract_json}
TARGET=fuzz_$NAME
SEEDS=$ROOT/fuzz/corpus/$NAME
WORK=$BUILD/corpus/$NAME              # grows while fuzzing; not committed
ARTIFACTS=$BUILD/artifacts/$NAME-
MAX_LEN=65536

configure() {
  local cxx=${CXX:-clang++}
  if [[ ${FUZZ_STANDALONE:-0} == 1 ]]; then
    cmake -S "$ROOT/fuzz" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
  else
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER="$cxx" \
      -DCODEHIVE_BUILD_FUZZERS=ON -DCODEHIVE_BUILD_TESTS=OFF >/dev/null
  fi
  cmake --build "$BUILD" --target "$TARGET" -j2
}

binary() {
  local b
  for b in "$BUILD/fuzz/$TARGET" "$BUILD/$TARGET"; do
    [[ -x $b ]] && { echo "$b"; return; }
  done
  echo "no $TARGET under $BUILD" >&2
  exit 1
}

configure
BIN=$(binary)
mkdir -p "$WORK" "$BUILD/artifacts"

case "${1:-}" in
  --merge)
    # Set-cover merge on edge coverage (no hit counts), then keep at most
    # MAX_SEEDS files, chosen greedily by new coverage (smaller file on ties),
    # so the committed corpus stays small (< 100 files, < 200 KB).
    fresh=$(mktemp -d)
    control=$(mktemp)
    "$BIN" -set_cover_merge=1 -use_counters=0 -merge_control_file="$control" -max_len=$MAX_LEN \
      "$fresh" "$SEEDS" "$WORK"
    keep=$(mktemp -d)
    python3 - "$control" "$keep" "${MAX_SEEDS:-96}" <<'PY'
import hashlib, os, shutil, sys
control, keep, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(control).read().split("\n")
n = int(lines[0])
files = lines[2:2 + n]
features = {}
for line in lines[2 + n:]:
    if line.startswith("FT "):
        parts = line.split()
        features[int(parts[1])] = set(map(int, parts[2:]))
everything = set().union(*features.values()) if features else set()
covered, chosen = set(), []
while covered != everything and len(chosen) < cap:
    best = max(features, key=lambda i: (len(features[i] - covered), -os.path.getsize(files[i])))
    if not features[best] - covered:
        break
    chosen.append(best)
    covered |= features[best]
for i in chosen:
    data = open(files[i], "rb").read()
    with open(os.path.join(keep, hashlib.sha1(data).hexdigest()[:16]), "wb") as out:
        out.write(data)
print(f"kept {len(chosen)} inputs covering {len(covered)} of {len(everything)} features")
PY
    rm -f "$SEEDS"/*
    cp "$keep"/* "$SEEDS"/
    rm -rf "$fresh" "$keep" "$control"
    echo "seed corpus: $(ls "$SEEDS" | wc -l) files, $(cat "$SEEDS"/* | wc -c) bytes"
    ;;
  --repro)
    "$BIN" "${2:?usage: run.sh --repro FILE}"
    ;;
  *)
    seconds=${1:-60}
    shift || true
    "$BIN" "$WORK" "$SEEDS" -dict="$ROOT/fuzz/$NAME.dict" -max_len=$MAX_LEN -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=4096 -artifact_prefix="$ARTIFACTS" -print_final_stats=1 "$@"
    ;;
esac
