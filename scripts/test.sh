#!/usr/bin/env bash
# Runs every Tessel test suite (lit, GoogleTest, pytest) through ctest, after
# bringing the build up to date; then builds the wheel and runs the suites
# again against the installed package (scripts/build-wheel.sh; skipped with
# TESSEL_SKIP_WHEEL=1). Exits non-zero if anything fails.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TESSEL_BUILD_DIR:-$repo/build}

"$repo/scripts/setup.sh"
(cd "$build" && ctest --output-on-failure -j "${TESSEL_JOBS:-$(nproc)}" "$@")
if [ "${TESSEL_SKIP_WHEEL:-0}" != 1 ]; then
  TESSEL_BUILD_DIR="$build" "$repo/scripts/build-wheel.sh"
fi
