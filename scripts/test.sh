#!/usr/bin/env bash
# Runs every Tessel test suite (lit, GoogleTest, pytest) through ctest, after
# bringing the build up to date. Exits non-zero if anything fails.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TESSEL_BUILD_DIR:-$repo/build}

"$repo/scripts/setup.sh"
cd "$build"
ctest --output-on-failure -j "${TESSEL_JOBS:-$(nproc)}" "$@"
