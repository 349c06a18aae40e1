#!/usr/bin/env bash
# The benchmark runner (issue 11, item 4): one command, results written into BENCHMARKS.md.
#
#   bench/run.sh [--quick] [--runs N] [--slow-runs N] [--max-tasks N] [--overhead-sizes L]
#                [--scenarios wide,deep,mixed] [--coders 1,2,4,8,16] [--no-demo] [--micro PATH]
#                [--no-write] [--keep] [--bin B] [--sim S]   (bench/runner.py --help for all)
#
# Builds nothing: uses build/nodes/codehive and build/tools/llm-sim/llm-sim (or --bin/--sim).
# All the work is in bench/runner.py (see its docstring for what is measured and how).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 bench/runner.py "$@"
