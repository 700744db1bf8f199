#!/usr/bin/env bash
# Installs the build into a scratch prefix, then builds and runs a project that
# finds it with find_package(Tessel). Usage: run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" > /dev/null
test -x "$scratch/prefix/bin/tessel-opt"
test -f "$scratch/prefix/include/tessel/Compiler.h"
"$scratch/prefix/bin/tessel-opt" --show-dialects | grep -q tile
cmake -G Ninja -S "$src/tests/install/consumer" -B "$scratch/consumer" \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" > /dev/null
cmake --build "$scratch/consumer" > /dev/null
"$scratch/consumer/consumer"
