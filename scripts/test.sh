#!/usr/bin/env bash
# README's test command: set up, build, run every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Tests use a real headless Chromium for the browser checks: install it too.
CODEHIVE_WITH_BROWSER=${CODEHIVE_WITH_BROWSER:-1} scripts/setup.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "${JOBS:-2}" --timeout 600
