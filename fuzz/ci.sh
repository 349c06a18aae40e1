#!/usr/bin/env bash
# A bounded libFuzzer run of every fuzz target, for CI:
#
#   CODEHIVE_FUZZ_SECONDS=20 fuzz/ci.sh
#
# builds the fuzzers with clang in a separate build folder (FUZZ_CI_BUILD_DIR,
# default build-fuzz-ci; ccache is used when installed), then runs each for
# CODEHIVE_FUZZ_SECONDS seconds, starting from its committed seed corpus
# (fuzz/corpus/<target>, only read: new inputs go to a scratch folder). It is
# also the ctest test FuzzBounded (label "fuzz"), so
# `CODEHIVE_FUZZ_SECONDS=20 scripts/test.sh` includes it.
#
# Exit 77 (ctest: skipped) when CODEHIVE_FUZZ_SECONDS is unset or 0, or when
# clang++ or its libFuzzer runtime (Debian: clang, libclang-rt-14-dev; or
# CODEHIVE_WITH_FUZZ=1 scripts/setup.sh) is missing. Exit 1 when a fuzzer
# finds a crash: the input is kept as $FUZZ_CI_BUILD_DIR/artifacts/<target>-crash-*;
# reproduce it with `FUZZ_TARGET=<target> fuzz/run.sh --repro FILE`, and commit
# it under fuzz/crashes/<target>/ so FuzzCrashReplay.<target> replays it.
# Cost, measured on the 2-core CI-sized machine (under load), cold (no ccache):
# CODEHIVE_FUZZ_SECONDS=10 took 90 s in all, i.e. about 50 s of configure and
# clang build, then 4 targets x CODEHIVE_FUZZ_SECONDS; 15 s each stays under
# 2 minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_EACH=${CODEHIVE_FUZZ_SECONDS:-0}
BUILD=${FUZZ_CI_BUILD_DIR:-$ROOT/build-fuzz-ci}
CXX_FUZZ=${FUZZ_CXX:-clang++}
TARGETS=(extract_json plan edits codec)

if [[ ! $SECONDS_EACH =~ ^[0-9]+$ ]] || (( SECONDS_EACH == 0 )); then
  echo "fuzz/ci.sh: CODEHIVE_FUZZ_SECONDS not set (seconds per target): skipped"
  exit 77
fi
if ! command -v "$CXX_FUZZ" >/dev/null; then
  echo "fuzz/ci.sh: $CXX_FUZZ not installed (apt-get install clang libclang-rt-14-dev): skipped"
  exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '%s\n' '#include <cstdint>' '#include <cstddef>' \
  'extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }' >"$probe/p.cpp"
if ! "$CXX_FUZZ" -fsanitize=fuzzer "$probe/p.cpp" -o "$probe/p" 2>"$probe/err"; then
  echo "fuzz/ci.sh: $CXX_FUZZ cannot link libFuzzer (apt-get install libclang-rt-14-dev): skipped"
  sed 's/^/  /' "$probe/err" | head -5
  exit 77
fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$CXX_FUZZ" \
  "${launcher[@]}" -DCODEHIVE_BUILD_FUZZERS=ON -DCODEHIVE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "${FUZZ_CI_JOBS:-2}" --target "${TARGETS[@]/#/fuzz_}"

mkdir -p "$BUILD/artifacts"
failed=()
for t in "${TARGETS[@]}"; do
  work="$probe/corpus-$t"
  mkdir -p "$work"
  dict=()
  [[ -f $ROOT/fuzz/$t.dict ]] && dict=(-dict="$ROOT/fuzz/$t.dict")
  echo "== fuzz_$t for ${SECONDS_EACH}s"
  # -timeout: one input taking 10 s is a hang worth reporting; -rss_limit_mb
  # keeps a leak from taking the CI machine down.
  if ! "$BUILD/fuzz/fuzz_$t" "$work" "$ROOT/fuzz/corpus/$t" "${dict[@]}" -max_len=65536 \
      -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$BUILD/artifacts/$t-" -print_final_stats=1 2>"$probe/log-$t"; then
    failed+=("$t")
  fi
  # Only the summary: the per-input progress lines would flood the CI log.
  grep -aE '^(#[0-9]+[[:space:]]+DONE|stat::|Done |==[0-9]+==|SUMMARY|invariant violated|artifact_prefix|Test unit written)' \
    "$probe/log-$t" || tail -20 "$probe/log-$t"
done
if (( ${#failed[@]} )); then
  echo "fuzz/ci.sh: crashes in: ${failed[*]} (inputs under $BUILD/artifacts/)"
  exit 1
fi
echo "fuzz/ci.sh: ${TARGETS[*]}: no crash in ${SECONDS_EACH}s each"
