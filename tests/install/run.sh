#!/usr/bin/env bash
# Installs the build into a scratch prefix, then builds and runs a project that
# finds it with find_package(Tessel) and compiles a kernel with
# tessel_add_kernel. Usage: run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" > /dev/null
test -x "$scratch/prefix/bin/tessel-opt"
test -f "$scratch/prefix/include/tessel/Compiler.h"
"$scratch/prefix/bin/tessel-opt" --show-dialects | grep -q tile
test -x "$scratch/prefix/bin/tesselc"
cmake -G Ninja -S "$src/tests/install/consumer" -B "$scratch/consumer" \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" -DTESSEL_EXAMPLES="$src/examples" > /dev/null
cmake --build "$scratch/consumer" > /dev/null
# tessel_add_kernel's C program: here, without a driver, it says so and exits 0.
"$scratch/consumer/aot_consumer" | tee "$scratch/aot.out"
if ! command -v nvidia-smi > /dev/null; then
  grep -q "tessel_matmul_load: no CUDA driver found" "$scratch/aot.out"
fi
"$scratch/consumer/consumer"
