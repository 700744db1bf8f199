#!/usr/bin/env bash
# The main job, end to end: build Tessel, compile the example GEMM with
# tesselc (no Python involved), then compile and run it from Python on the
# CPU backend against numpy.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TESSEL_BUILD_DIR:-$repo/build}

"$repo/scripts/setup.sh"

echo "[tessel demo] tesselc examples/gemm/gemm.py --entry matmul -D M=256 -D N=256 -D K=256 --emit tile"
"$build/bin/tesselc" "$repo/examples/gemm/gemm.py" --entry matmul \
  -D M=256 -D N=256 -D K=256 --emit tile | head -n 12
echo "    ..."

echo "[tessel demo] running the GEMM on the CPU backend from Python"
python3 - "$repo" <<'PY'
import sys, time
repo = sys.argv[1]
sys.path.insert(0, repo + "/examples/gemm")
import numpy as np
import tessel
from gemm import matmul

kernel = tessel.jit(out_idx=[-1], target="cpu")(matmul.fn)(500, 300, 256)
a = np.random.randn(500, 256).astype(np.float16)
b = np.random.randn(256, 300).astype(np.float16)
start = time.perf_counter()
c = kernel(a, b)
elapsed = time.perf_counter() - start
ref = a.astype(np.float32) @ b.astype(np.float32)
err = float(np.abs(c.astype(np.float32) - ref).max() / np.abs(ref).max())
print("[tessel demo] C = A @ B for M=500, N=300, K=256 (fp16, ragged tiles): "
      "%.2f s on the CPU, max relative error %.1e" % (elapsed, err))
assert err < 1e-2, "the CPU result does not match numpy"
PY
echo "[tessel demo] ok"
