#!/usr/bin/env bash
# README's first command: set up, build, and run the offline demo.
# The demo's model answers are SCRIPTED by the simulator (configs/demo/scenario.json):
# it shows the whole pipeline working, it is not code generation.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
BIN=${BUILD_DIR:-build}/nodes/codehive
"$BIN" --help
echo
"$BIN" run --demo --out "${DEMO_OUT:-demo-out}" "$@"
