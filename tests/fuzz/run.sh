#!/usr/bin/env bash
# Builds the frontend parser fuzzer with clang's libFuzzer and ASan, then runs
# it for a few seconds from the kernel corpus. Usage: run.sh SRC BUILD [SECONDS]
set -euo pipefail
src=$1
build=$2
seconds=${3:-20}
clang=${CLANGXX:-/usr/lib/llvm-22/bin/clang++}
if [ ! -x "$clang" ]; then
  echo "SKIP: $clang not found; the fuzz run needs clang-22"
  exit 0
fi
out="$build/fuzz"
mkdir -p "$out"
bin="$out/frontend-parser-fuzzer"
sources=("$src"/lib/Frontend/{ASTPrinter,Diagnostics,Lexer,Parser,ParseExpr,ParseStmt}.cpp "$src/tests/fuzz/FrontendParserFuzzer.cpp")
if [ ! -x "$bin" ] || [ -n "$(find "${sources[@]}" "$src"/lib/Frontend/*.h -newer "$bin" 2>/dev/null)" ]; then
  "$clang" -std=c++17 -g -O1 -fno-exceptions -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$src" -isystem /usr/lib/llvm-22/include \
    "${sources[@]}" -L/usr/lib/llvm-22/lib -Wl,-rpath,/usr/lib/llvm-22/lib -lLLVM -o "$bin"
fi
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
i=0
for seed in "$src"/tests/lit/Frontend/corpus/*.py "$src"/examples/*/*.py; do
  cp "$seed" "$corpus/seed$((i++)).py"
done
"$bin" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$corpus" 2>&1 | tail -5
