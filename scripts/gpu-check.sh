#!/usr/bin/env bash
# Runs Tessel's GPU checks on a GPU machine (CUDA driver, cmake, a C++
# compiler, PyTorch; no LLVM needed). Compile the kernels first on the build
# machine with scripts/gpu-artifacts.sh DIR, bring DIR and the repository,
# then:
#   scripts/gpu-check.sh DIR
# It builds the driver-API runtime (lib/Runtime, standalone), then checks
# every kernel in DIR against PyTorch and times it beside torch, runs the
# reference kernels' benchmarks (examples/*/benchmark.py) and the embedded
# launchers' program.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ART="${1:?usage: scripts/gpu-check.sh ARTIFACT_DIR}"
BUILD="${TESSEL_RUNTIME_BUILD:-/tmp/tessel-runtime-build}"
cmake -S "$ROOT/lib/Runtime" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j >/dev/null
echo "runtime: $BUILD/libtessel_runtime.so"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
status=0
export TESSEL_RUNTIME_LIB="$BUILD/libtessel_runtime.so"
python3 "$ROOT/tests/gpu/check_artifacts.py" "$ART" || status=1
# The reference kernels' benchmarks (correctness, then figures beside
# PyTorch's baseline), for what gpu-artifacts.sh compiled.
for bench in fp8_gemm mla_decode sparse_attention; do
  echo "== examples/$bench/benchmark.py"
  python3 "$ROOT/examples/$bench/benchmark.py" "$ART" || status=1
done
# examples/embed: a C++ program linking the ahead-of-time launchers.
if [ -d "$ART/embed" ]; then
  cmake -S "$ROOT/examples/embed" -B "$BUILD/embed" -DCMAKE_BUILD_TYPE=Release \
    -DTESSEL_EMBED_PREBUILT="$ART/embed" -DTESSEL_RUNTIME_LIB="$BUILD/libtessel_runtime.so" >/dev/null
  cmake --build "$BUILD/embed" -j >/dev/null
  "$BUILD/embed/embed" || status=1
fi
exit $status
