#!/usr/bin/env bash
# The main job, end to end as far as Tessel goes today: build everything, then
# take the example GEMM through the compiler (parse, verify, canonicalize,
# check bounds) and print the result.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TESSEL_BUILD_DIR:-$repo/build}

"$repo/scripts/setup.sh"
echo "[tessel demo] compiling examples/gemm/gemm_tile.mlir"
"$build/bin/tessel-opt" "$repo/examples/gemm/gemm_tile.mlir" \
  --pass-pipeline="builtin.module(canonicalize,tile-check-bounds)"
echo "[tessel demo] ok"
