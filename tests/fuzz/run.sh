#!/usr/bin/env bash
# Builds the frontend fuzzer (tests/fuzz/FrontendEvalFuzzer.cpp: parse, print,
# evaluate, emit and verify IR) with clang's libFuzzer, ASan and UBSan, then
# runs it from the kernel corpus with inputs up to 64 KB.
#
# Usage: run.sh SRC BUILD [SECONDS] [-- LIBFUZZER-ARGS...]
# The frontend's sources are compiled here with coverage and sanitizers; the
# tile dialect comes from BUILD (it needs its generated headers).
set -euo pipefail
src=$1
build=$2
seconds=${3:-20}
shift $(($# < 3 ? $# : 3))
[ "${1:-}" = "--" ] && shift
clang=${CLANGXX:-/usr/lib/llvm-22/bin/clang++}
if [ ! -x "$clang" ]; then
  echo "SKIP: $clang not found; the fuzz run needs clang-22"
  exit 0
fi
dialect="$build/lib/libTesselTileIR.a"
if [ ! -f "$dialect" ]; then
  echo "error: $dialect not built; build Tessel first" >&2
  exit 1
fi
out="$build/fuzz"
mkdir -p "$out/obj"
bin="$out/frontend-fuzzer"
flags=(-std=c++17 -w -g -O1 -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=undefined -fno-omit-frame-pointer
       -I"$src" -I"$build" -isystem /usr/lib/llvm-22/include)
sources=("$src"/lib/Frontend/*.cpp "$src/tests/fuzz/FrontendEvalFuzzer.cpp")
headers=("$src"/lib/Frontend/*.h "$src"/dialects/tile/IR/*.h "$build"/dialects/tile/IR/*.inc)
# Recompile a source when it or any header is newer than its object.
newest_header=$(ls -t "${headers[@]}" | head -1)
stale=()
for s in "${sources[@]}"; do
  o="$out/obj/$(basename "${s%.cpp}").o"
  if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ "$newest_header" -nt "$o" ]; then
    stale+=("$s")
  fi
done
if ((${#stale[@]})); then
  echo "fuzz: compiling ${#stale[@]} sources with sanitizers"
  printf '%s\n' "${stale[@]}" |
    xargs -P "${TESSEL_JOBS:-$(nproc)}" -I{} sh -c \
      '"$0" "$@" -c "{}" -o "'"$out"'/obj/$(basename "{}" .cpp).o"' "$clang" "${flags[@]}"
fi
objects=()
for s in "${sources[@]}"; do objects+=("$out/obj/$(basename "${s%.cpp}").o"); done
if [ ! -x "$bin" ] || [ -n "$(find "${objects[@]}" "$dialect" -newer "$bin")" ]; then
  "$clang" -fsanitize=fuzzer,address,undefined "${objects[@]}" "$dialect" \
    -L/usr/lib/llvm-22/lib -Wl,-rpath,/usr/lib/llvm-22/lib -lMLIR -lLLVM -o "$bin"
fi
corpus=${TESSEL_FUZZ_CORPUS:-}
if [ -z "$corpus" ]; then
  corpus=$(mktemp -d)
  trap 'rm -rf "$corpus"' EXIT
fi
mkdir -p "$corpus"
i=0
for seed in "$src"/tests/lit/Frontend/corpus/*.py "$src"/examples/*/*.py "$src"/tests/fuzz/seeds/*.py; do
  [ -f "$seed" ] && cp "$seed" "$corpus/seed$((i++)).py"
done
# The dialect library is not instrumented: its containers are not annotated.
# An input running past 60 s is a hang: the longest bounded compile-time
# work (a loop at its 1M-iteration cap) takes about 20 s under ASan, 1.5 s in
# a release build.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_container_overflow=0:detect_leaks=1}
"$bin" -max_total_time="$seconds" -max_len=65536 -timeout=60 -rss_limit_mb=4096 \
  -print_final_stats=1 "$@" "$corpus" 2>&1 | tail -${TESSEL_FUZZ_TAIL:-12}
exit "${PIPESTATUS[0]}"
