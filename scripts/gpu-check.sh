#!/usr/bin/env bash
# Runs Tessel's GPU checks on a GPU machine (CUDA driver, cmake, a C++
# compiler, numpy; PyTorch for the real shapes; no LLVM needed). Compile the
# kernels first on the build machine with scripts/gpu-artifacts.sh DIR
# (real shapes) and/or --small DIR (the small set), bring DIR and the
# repository, then:
#   scripts/gpu-check.sh DIR
# It builds the driver-API runtime (lib/Runtime, standalone), then
#  - DIR/small: runs every small-set kernel and compares it with the
#    emulator's results made at compile time (tests/gpu/small_set.py);
#  - DIR/fidelity: replays the fidelity suite's inline-PTX launches and
#    compares every output with the emulator's, bit for bit;
#  - DIR/*.json: checks every real-shape kernel against PyTorch and times it
#    beside torch, and runs the reference kernels' benchmarks;
#  - DIR/embed: builds and runs the embedded launchers' program.
# With TESSEL_CUDA_DRIVER=emu it runs on Tessel's emulator instead (built
# standalone beside the runtime): the same script, end to end, with no GPU.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ART="${1:?usage: scripts/gpu-check.sh ARTIFACT_DIR}"
ART="$(cd "$ART" && pwd)"
BUILD="${TESSEL_RUNTIME_BUILD:-/tmp/tessel-runtime-build}"
cmake -S "$ROOT/lib/Runtime" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j >/dev/null
echo "runtime: $BUILD/libtessel_runtime.so"
if [ "${TESSEL_CUDA_DRIVER:-}" = "emu" ]; then
  cmake -S "$ROOT/lib/Emulator" -B "$BUILD/emulator" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD/emulator" -j >/dev/null
  cp "$BUILD/emulator/libtessel_emu.so" "$BUILD/"
  DRIVER="$BUILD/libtessel_emu.so"
  echo "driver: Tessel's emulator ($DRIVER)"
else
  DRIVER="${TESSEL_CUDA_DRIVER:-libcuda.so.1}"
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
fi
status=0
export TESSEL_RUNTIME_LIB="$BUILD/libtessel_runtime.so"
if [ -d "$ART/small" ]; then
  echo "== the small set against the emulator's results"
  python3 "$ROOT/tests/gpu/small_set.py" check "$ART/small" || status=1
fi
if [ -d "$ART/fidelity" ]; then
  echo "== the fidelity suite's launches against the emulator's"
  rm -rf "$ART/fidelity/this-run"
  python3 "$ROOT/tests/emulator/fidelity/bundle.py" replay "$ART/fidelity" --driver "$DRIVER" \
    --save "$ART/fidelity/this-run" || status=1
  python3 "$ROOT/tests/emulator/fidelity/compare.py" "$ART/fidelity/this-run" \
    "$ART/fidelity/emulator" || status=1
fi
if ls "$ART"/*.json >/dev/null 2>&1; then
  python3 "$ROOT/tests/gpu/check_artifacts.py" "$ART" || status=1
  # The reference kernels' benchmarks (correctness, then figures beside
  # PyTorch's baseline), for what gpu-artifacts.sh compiled.
  for bench in fp8_gemm mla_decode sparse_attention; do
    echo "== examples/$bench/benchmark.py"
    python3 "$ROOT/examples/$bench/benchmark.py" "$ART" || status=1
  done
fi
# examples/embed: a C++ program linking the ahead-of-time launchers.
if [ -d "$ART/embed" ]; then
  cmake -S "$ROOT/examples/embed" -B "$BUILD/embed" -DCMAKE_BUILD_TYPE=Release \
    -DTESSEL_EMBED_PREBUILT="$ART/embed" -DTESSEL_RUNTIME_LIB="$BUILD/libtessel_runtime.so" >/dev/null
  cmake --build "$BUILD/embed" -j >/dev/null
  echo "== examples/embed"
  TESSEL_CUDA_DRIVER="$DRIVER" "$BUILD/embed/embed" || status=1
fi
exit $status
